//! The Python peers that lorae's speed is measured against: `peers/torch_step.py` (a PyTorch
//! training step of the same model), `peers/gmm_bench.py` (scikit-learn's GaussianMixture) and
//! `peers/fid_features.py` (pytorch-fid's feature extraction).
//! All three are compiled into the library, so a `cargo install`ed binary benchmarks without a
//! source tree: each run writes the script to a temporary directory and calls the Python given
//! (by default the reference venv's, `tools/setup-ref-venv.sh`). A peer reports on its last
//! stdout line, as one JSON object.
//!
//! Peers run with glibc's allocator tuned as lorae's own binary tunes mimalloc ([`ALLOCATOR_ENV`]):
//! by default glibc hands every buffer over 128 KiB to `mmap` and returns it on free, so PyTorch's
//! activations fault fresh pages in at every step (510 000 page faults in 45 MNIST IRMAE steps at
//! batch 32). Measured on 2026-12-07 (2 cores, `avx2 avx512f`, PyTorch 2.15, 2 threads): the step
//! peer on its fixed random batch took 47–54 ms a step against 38–46 ms for the same steps inside
//! the epoch peer, whose loading of the digits first had raised glibc's dynamic threshold; with
//! the threshold fixed at 32 MiB both took 38–39 ms, and the epoch's evaluation of 10 000 digits
//! 3.2 s instead of 4.4–4.6. Buffers of 32 MiB or more (CelebA's layout at batch 64) would still
//! be mapped afresh, glibc having no larger threshold: 777 000 page faults a CelebA step at batch
//! 64, against 15 000 with mappings turned off (`MALLOC_MMAP_MAX_=0`; glibc then takes every
//! buffer from its heap, a thread's arena falling back to the main one for the largest).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::ModelKind;
use crate::error::{Error, Result};

/// Refuses a model the PyTorch peers (the step's and the epoch's) do not implement.
pub fn check_torch_model(kind: ModelKind) -> Result<()> {
    match kind {
        ModelKind::Irmae | ModelKind::Lorae | ModelKind::Ae => Ok(()),
        _ => Err(Error::invalid(
            "model",
            kind,
            "the peer has irmae, lorae and ae (time other models with --no-peer)",
        )),
    }
}

/// Refuses a zero among a benchmark's counts (`("rounds", 0)`: "--rounds must be at least 1").
pub fn check_counts(counts: &[(&'static str, usize)]) -> Result<()> {
    match counts.iter().find(|(_, value)| *value == 0) {
        Some((name, _)) => Err(Error::invalid(name, 0, "must be at least 1")),
        None => Ok(()),
    }
}

/// Environment given to every peer unless lorae's own environment sets the variable: glibc serves
/// every buffer from its heap, never from a fresh mapping (`MALLOC_MMAP_MAX_=0`; the threshold is
/// fixed at its largest, 32 MiB, as well), and does not trim the heap below 1 GiB.
pub const ALLOCATOR_ENV: [(&str, &str); 3] = [
    ("MALLOC_MMAP_THRESHOLD_", "33554432"),
    ("MALLOC_MMAP_MAX_", "0"),
    ("MALLOC_TRIM_THRESHOLD_", "1073741824"),
];

/// A peer script: its file name and text.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// File name (as in `tools/`).
    pub name: &'static str,
    /// The script's text.
    pub text: &'static str,
}

/// The PyTorch training-step peer.
pub const TORCH_STEP: Script = Script {
    name: "torch_step.py",
    text: include_str!("../../peers/torch_step.py"),
};

/// The scikit-learn GMM peer.
pub const GMM_BENCH: Script = Script {
    name: "gmm_bench.py",
    text: include_str!("../../peers/gmm_bench.py"),
};

/// The pytorch-fid feature-extraction peer.
pub const FID_FEATURES: Script = Script {
    name: "fid_features.py",
    text: include_str!("../../peers/fid_features.py"),
};

/// The reference venv's python (`$LORAE_REF_VENV`, else `~/.cache/lorae/venv-ref`), else
/// `python3`.
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

/// A peer's command line from `(flag, value)` pairs: `--flag value …`.
pub fn flags<const N: usize>(pairs: [(&str, String); N]) -> Vec<String> {
    pairs
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect()
}

/// What a peer printed: its JSON report (last stdout line) and the line before it (a summary
/// for people, empty if none).
#[derive(Debug, Clone)]
pub struct PeerOutput {
    /// The report.
    pub report: serde_json::Value,
    /// The human-readable line before it.
    pub summary: String,
}

/// Runs `script` with `python` and `args`; an error names the python and how to get one, or
/// quotes the peer's stderr when it failed.
pub fn run(python: &Path, script: Script, args: &[String]) -> Result<PeerOutput> {
    let dir = tempfile::tempdir().map_err(|e| {
        Error::io(
            "cannot create a temporary directory",
            std::env::temp_dir(),
            e,
        )
    })?;
    let file = dir.path().join(script.name);
    std::fs::write(&file, script.text).map_err(|e| Error::io("cannot write", &file, e))?;
    let mut command = Command::new(python);
    command.arg(&file).args(args);
    for (key, value) in ALLOCATOR_ENV {
        if std::env::var_os(key).is_none() {
            command.env(key, value);
        }
    }
    let output = command
        .output()
        .map_err(|e| {
            Error::io(
                "cannot run the peer (tools/setup-ref-venv.sh makes a venv with torch and scikit-learn; or pass --no-peer)",
                python,
                e,
            )
        })?;
    if !output.status.success() {
        return Err(Error::Peer(format!(
            "the peer {} failed ({}): {}",
            script.name,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines().rev();
    let report = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| {
            Error::Peer(format!(
                "the peer {} printed no JSON report on its last line",
                script.name
            ))
        })?;
    Ok(PeerOutput {
        report,
        summary: lines.next().unwrap_or_default().to_string(),
    })
}

/// The number at `key` of a peer's report.
pub fn number(report: &serde_json::Value, key: &str, script: Script) -> Result<f64> {
    report[key].as_f64().ok_or_else(|| {
        Error::Peer(format!(
            "no number `{key}` in the report of {}",
            script.name
        ))
    })
}
