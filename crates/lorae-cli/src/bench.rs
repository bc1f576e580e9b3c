//! `lorae bench`: the median time of one training step (forward, backward, Adam) of lorae's
//! networks against the PyTorch peer (`tools/torch_step.py`) on the same model, batch and
//! thread count, printed as a ratio (PyTorch = 1).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use lorae::config::{DatasetKind, ModelKind, RunConfig};
use lorae::device::DeviceKind;
use lorae::train::step::time_steps;

#[derive(Args)]
pub struct BenchArgs {
    /// Model: irmae, lorae or ae.
    #[arg(long, default_value = "irmae")]
    model: String,
    /// Network layout: mnist (SPEC's MNIST model) or shapes.
    #[arg(long, default_value = "mnist")]
    dataset: String,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// IRMAE linear layers [default: mnist 8, shapes 2].
    #[arg(long)]
    layers: Option<usize>,
    /// Timed steps (after the warm-up).
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Rounds, each timing lorae then the peer (a fresh model each round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Python with torch [default: ~/.cache/lorae/venv-ref/bin/python if present, else python3].
    #[arg(long)]
    peer: Option<PathBuf>,
    /// Skip the PyTorch side.
    #[arg(long)]
    no_peer: bool,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// The peer script, found beside the sources this binary was built from.
const PEER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/torch_step.py");

pub fn run(args: BenchArgs) -> Result<()> {
    let kind: ModelKind = args.model.parse()?;
    ensure!(
        matches!(kind, ModelKind::Irmae | ModelKind::Lorae | ModelKind::Ae),
        "--model must be irmae, lorae or ae (the peer has no {kind})"
    );
    let dataset: DatasetKind = args.dataset.parse()?;
    ensure!(
        matches!(dataset, DatasetKind::Mnist | DatasetKind::Shapes),
        "--dataset must be mnist or shapes, got {dataset}"
    );
    ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    ensure!(args.steps >= 1, "--steps must be at least 1");
    ensure!(args.rounds >= 1, "--rounds must be at least 1");
    let threads = rayon::current_num_threads();
    let mut config = RunConfig::for_dataset(kind, dataset);
    if let (Some(l), ModelKind::Irmae) = (args.layers, kind) {
        config.model.layers = l;
    }
    config.validate()?;
    let device = args.device.parse::<DeviceKind>()?.device()?.autodiff();
    let python = args.peer.clone().unwrap_or_else(default_python);
    let head = format!("{kind} batch={}", args.batch_size);
    // Alternate the two sides round by round, so that a slow spell of a shared machine falls on
    // both; the result is the median over all rounds' steps of each side.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let (times, _) = time_steps(
            &config.model,
            config.data.layout(),
            args.batch_size,
            args.warmup,
            args.steps,
            &device,
        )?;
        let ms: Vec<f64> = times.iter().map(|t| t * 1e3).collect();
        lorae::note!(
            "round {round}: lorae {kind} {dataset} batch={} threads={threads} device={}: median {:.1} ms/step over {} steps (min {:.1}, max {:.1})",
            args.batch_size,
            args.device,
            median(&ms),
            ms.len(),
            ms.iter().cloned().fold(f64::INFINITY, f64::min),
            ms.iter().cloned().fold(0.0, f64::max),
        );
        ours.extend(ms);
        if !args.no_peer {
            let (peer_ms, human) =
                run_peer(&python, &args, kind, dataset, threads, config.model.layers)?;
            lorae::note!("round {round}: {human}");
            theirs.extend(peer_ms);
        }
    }
    let ms = median(&ours);
    if args.no_peer {
        lorae::say!("{head}: lorae {ms:.1} ms/step");
        return Ok(());
    }
    let peer_ms = median(&theirs);
    lorae::say!(
        "{head}: lorae {ms:.1} ms/step, pytorch {peer_ms:.1} ms/step, ratio {:.2}",
        ms / peer_ms
    );
    Ok(())
}

/// One run of the peer: its per-step times in ms and its human-readable summary line.
fn run_peer(
    python: &Path,
    args: &BenchArgs,
    kind: ModelKind,
    dataset: DatasetKind,
    threads: usize,
    layers: usize,
) -> Result<(Vec<f64>, String)> {
    let output = Command::new(python)
        .arg(PEER_SCRIPT)
        .args([
            "--layout",
            &dataset.to_string(),
            "--model",
            &kind.to_string(),
        ])
        .args(["--batch", &args.batch_size.to_string()])
        .args(["--steps", &args.steps.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--layers", &layers.max(1).to_string()])
        .output()
        .with_context(|| {
            format!(
                "cannot run the peer `{}` (tools/setup-ref-venv.sh makes one; or pass --no-peer)",
                python.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "the PyTorch peer failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines().rev();
    let report: serde_json::Value = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .context("the peer printed no JSON report on its last line")?;
    let human = lines.next().unwrap_or_default().to_string();
    let times = report["times_ms"]
        .as_array()
        .context("no times_ms in the peer report")?
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    Ok((times, human))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The reference venv's python (`tools/setup-ref-venv.sh`), else `python3`.
pub fn default_python() -> PathBuf {
    let venv = std::env::var_os("LORAE_REF_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/lorae/venv-ref"))
        });
    match venv.map(|v| v.join("bin/python")) {
        Some(p) if p.exists() => p,
        _ => PathBuf::from("python3"),
    }
}
