//! `lorae reproduce EXPERIMENT...`: the papers' tables and figures, resumable, schedulable (one
//! command per cell with --plan), with a report in DIR/report.md and DIR/report.html. With
//! --json: --list prints `{"name", "reproduces"}` a line, --plan `{"stage", "cell", "command"}`
//! a line, a run `{"report", "html", "finished", "cells"}` at its end.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use lorae::data::cache_root;
use lorae::device::DeviceKind;
use lorae::eval::fid::{FidScorer, StatsOptions};
use lorae::names::Named;
use lorae::reproduce::cell::Context;
use lorae::reproduce::{self, report, Budget, Experiment, Setup};
use lorae::train::{CheckpointEvery, TrainOptions};

use crate::flags::{named, DeviceFlag, JsonFlag, ProgressFlag};

#[derive(Args)]
pub struct ReproduceArgs {
    /// Experiments (see --list), or `all`.
    #[arg(value_parser = ExperimentParser)]
    experiments: Vec<Chosen>,
    /// smoke (seconds, what CI runs), quick (a few epochs; shapes-spectra took 19 min on 2 cores) or paper
    /// (the papers' settings; meant for a GPU).
    #[arg(long, default_value = "quick", value_parser = named::<Budget>())]
    budget: Budget,
    /// Directory of the cells and the report.
    #[arg(long, default_value = "reproduce")]
    out: PathBuf,
    /// Folder holding the datasets' folders (mnist/, celeba/, ...) [default: the fetch cache].
    #[arg(long, alias = "data-dir")]
    data_root: Option<PathBuf>,
    /// official-parity: an official checkpoint and the lorae run it stands beside,
    /// `mnist-ae=PATH` or `mnist-irmae-l8=PATH` (repeat for both).
    #[arg(long, value_name = "RUN=PATH", value_parser = parse_official)]
    official: Vec<(String, PathBuf)>,
    /// FID weights [default: the fetch cache's fid-weights folder].
    #[arg(long)]
    weights: Option<PathBuf>,
    /// List the experiments and what each reproduces.
    #[arg(long)]
    list: bool,
    /// Print one shell command per cell, in dependency order (training first), for a scheduler.
    #[arg(long)]
    plan: bool,
    /// Build the report from the cells present, without running any.
    #[arg(long)]
    report_only: bool,
    /// Run only this cell (as --plan prints).
    #[arg(long)]
    cell: Option<String>,
    /// Write Slurm batch scripts into DIR/slurm/ instead of running: one array job per stage
    /// (a task per unfinished cell) and a report job after them.
    #[arg(long)]
    slurm: bool,
    /// With --slurm: submit the scripts with sbatch, each stage after the previous one succeeded,
    /// and print the job ids.
    #[arg(long, requires = "slurm")]
    submit: bool,
    /// With --slurm: the partition to run in.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// With --slurm: generic resources per task, e.g. gpu:1 (with --device wgpu).
    #[arg(long, requires = "slurm")]
    gres: Option<String>,
    /// With --slurm: time limit per task (MM, MM:SS, HH:MM:SS or D-HH:MM:SS).
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// With --slurm: CPUs per task; each task runs lorae with this many threads [default: 1].
    #[arg(long, requires = "slurm")]
    cpus: Option<usize>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    progress: ProgressFlag,
    #[command(flatten)]
    json: JsonFlag,
}

/// One experiment, or all of them.
#[derive(Clone, Copy, PartialEq)]
enum Chosen {
    All,
    One(Experiment),
}

/// Parses an experiment's name or `all`; `--help` lists them.
#[derive(Clone)]
struct ExperimentParser;

impl clap::builder::TypedValueParser for ExperimentParser {
    type Value = Chosen;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Chosen, clap::Error> {
        let parse = |text: &str| match text {
            "all" => Ok(Chosen::All),
            name => name.parse::<Experiment>().map(Chosen::One),
        };
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = Experiment::NAMES.iter().copied().chain(["all"]);
        Some(Box::new(names.map(clap::builder::PossibleValue::new)))
    }
}

/// The named experiments; `all` is every experiment whose data is present (CelebA's need its
/// files: they are left out, with a note, when it is absent).
fn experiments(names: &[Chosen], setup: &Setup) -> Result<Vec<Experiment>> {
    if names.is_empty() {
        bail!("name the experiments to reproduce, or `all`; `lorae reproduce --list` lists them");
    }
    if names.contains(&Chosen::All) {
        let mut all = Experiment::ALL.to_vec();
        if !setup.has_celeba() {
            lorae::note!("note: `all` leaves out celeba-fid: CelebA is not in the data folder (pass --data-root DIR, the folder holding celeba/)");
            all.retain(|&e| e != Experiment::CelebaFid);
        }
        if setup.official.is_empty() {
            lorae::note!("note: `all` leaves out official-parity: it scores the official code's checkpoints, given with --official mnist-ae=PATH --official mnist-irmae-l8=PATH");
            all.retain(|&e| e != Experiment::OfficialParity);
        }
        return Ok(all);
    }
    let mut out = Vec::new();
    for n in names {
        if let Chosen::One(e) = *n {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

pub fn run(args: ReproduceArgs) -> Result<()> {
    if args.list {
        for e in Experiment::ALL {
            if args.json.json {
                let line = serde_json::json!({"name": e.to_string(), "reproduces": e.describe()});
                lorae::say!("{line}");
            } else {
                lorae::say!("{:<22} {}", e.to_string(), e.describe());
            }
        }
        return Ok(());
    }
    let budget = args.budget;
    let device = args.device.device;
    let setup = Setup {
        budget,
        data_root: args.data_root.clone(),
        official: args.official.clone(),
    };
    let list = experiments(&args.experiments, &setup)?;
    let cells = reproduce::plan(&list, &setup)?;
    let names: Vec<String> = list.iter().map(|e| e.to_string()).collect();
    if args.slurm {
        return slurm(&args, &cells, &names, device);
    }
    if args.plan {
        reproduce::check_existing(&args.out, &cells)?;
        let mut stage = 0;
        for c in &cells {
            let s = if c.needs().is_some() { 2 } else { 1 };
            if s != stage {
                stage = s;
                let what = if s == 1 {
                    "training and supervised cells (independent)"
                } else {
                    "cells reading a trained run (after stage 1)"
                };
                if !args.json.json {
                    lorae::say!("# stage {s}: {what}");
                }
            }
            let cmd = format!(
                "{} --cell {}",
                cell_command("lorae", &args.out, &args, &names, device),
                c.id()
            );
            if args.json.json {
                let line = serde_json::json!({"stage": s, "cell": c.id(), "command": cmd});
                lorae::say!("{line}");
            } else {
                lorae::say!("{cmd}");
            }
        }
        if args.json.json {
            return Ok(());
        }
        lorae::say!(
            "# then: lorae reproduce {} --budget {budget} --out {} --report-only",
            names.join(" "),
            shell(&args.out.display().to_string())
        );
        return Ok(());
    }
    if !args.report_only {
        if let Some(id) = &args.cell {
            if !cells.iter().any(|c| &c.id() == id) {
                bail!("--cell {id} is not a cell of these experiments at budget {budget}: `lorae reproduce {} --budget {budget} --plan` lists them", names.join(" "));
            }
        }
        reproduce::check_existing(&args.out, &cells)?;
        std::fs::create_dir_all(&args.out)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
        let mut ctx = Context {
            dir: args.out.clone(),
            observer: Box::new(crate::progress::Terminal::new(args.progress.show())),
            train: TrainOptions {
                device,
                // Long cells (CelebA epochs take hours on a CPU) lose at most ten minutes.
                checkpoint_every: Some(CheckpointEvery::Time(std::time::Duration::from_secs(600))),
            },
            fid: FidScorer::new(
                StatsOptions {
                    weights: args.weights.clone(),
                    data_dir: None,
                    limit: None,
                    batch: 50,
                    cache_dir: Some(cache_root().join("fid-stats")),
                    progress: args.progress.show(),
                },
                &device.device()?,
            )
            .on_note(|text| lorae::note!("{text}")),
        };
        let total = cells.len();
        lorae::note!(
            "{total} cells planned for {} at budget {budget} in {}",
            names.join(", "),
            args.out.display()
        );
        reproduce::execute(
            &cells,
            &mut ctx,
            args.cell.as_deref(),
            &mut |i, n, id, left| {
                let eta = left.map_or(String::new(), |s| format!(", about {} left", duration(s)));
                lorae::note!("[{i}/{n}] {id}{eta}");
            },
        )?;
        if args.cell.is_some() {
            return Ok(());
        }
    }
    let outcomes = reproduce::collect(&args.out, &cells)?;
    let doc = report::build(&list, &setup, &outcomes, &args.out)?;
    let (md, html) = doc.write(&args.out, "report")?;
    let missing = cells.len() - outcomes.len();
    if args.json.json {
        let line = serde_json::json!({
            "report": md, "html": html, "finished": outcomes.len(), "cells": cells.len()
        });
        lorae::say!("{line}");
        return Ok(());
    }
    lorae::say!(
        "report: {} and {} ({} of {} cells finished{})",
        md.display(),
        html.display(),
        outcomes.len(),
        cells.len(),
        if missing > 0 {
            format!("; {missing} missing, marked in the report")
        } else {
            String::new()
        }
    );
    Ok(())
}

fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// `text` quoted for a POSIX shell when it needs it.
/// The command that runs one cell of these experiments, without its `--cell ID`.
fn cell_command(
    program: &str,
    out: &std::path::Path,
    args: &ReproduceArgs,
    names: &[String],
    device: DeviceKind,
) -> String {
    let mut cmd = format!(
        "{} reproduce {} --budget {} --out {} --no-progress",
        shell(program),
        names.join(" "),
        args.budget,
        shell(&out.display().to_string())
    );
    if let Some(d) = &args.data_root {
        cmd.push_str(&format!(" --data-root {}", shell(&d.display().to_string())));
    }
    for (run, path) in &args.official {
        cmd.push_str(&format!(
            " --official {}",
            shell(&format!("{run}={}", path.display()))
        ));
    }
    if let Some(w) = &args.weights {
        cmd.push_str(&format!(" --weights {}", shell(&w.display().to_string())));
    }
    if device != DeviceKind::Cpu {
        cmd.push_str(&format!(" --device {device}"));
    }
    cmd
}

/// `--slurm`: the scripts in DIR/slurm/, and with `--submit` their jobs.
fn slurm(
    args: &ReproduceArgs,
    cells: &[reproduce::cell::Cell],
    names: &[String],
    device: DeviceKind,
) -> Result<()> {
    reproduce::check_existing(&args.out, cells)?;
    let options = reproduce::slurm::SlurmOptions {
        partition: args.partition.clone(),
        gres: args.gres.clone(),
        time: args.time.clone(),
        cpus: args.cpus.unwrap_or(1),
    };
    options.validate()?;
    let dir = args.out.join("slurm");
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    // Absolute paths: the jobs start in whatever directory Slurm gives them.
    let out = std::fs::canonicalize(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", args.out.display()))?;
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find the lorae binary to put in the scripts: {e}"))?;
    let exe = exe.display().to_string();
    let command = cell_command(&exe, &out, args, names, device);
    let report = format!(
        "{} reproduce {} --budget {} --out {} --report-only",
        shell(&exe),
        names.join(" "),
        args.budget,
        shell(&out.display().to_string())
    );
    let scripts = reproduce::slurm::scripts(cells, &out, &command, &report, &options)?;
    let mut paths = Vec::new();
    for script in &scripts {
        let path = out.join("slurm").join(&script.name);
        lorae::io::atomic::write_atomic(&path, script.text.as_bytes())?;
        paths.push(path);
    }
    let mut previous: Option<String> = None;
    for (script, path) in scripts.iter().zip(&paths) {
        let what = if script.tasks > 0 {
            format!("{} cells", script.tasks)
        } else {
            "the report".to_string()
        };
        if !args.submit {
            lorae::say!("{} ({what})", path.display());
            continue;
        }
        let mut sbatch = std::process::Command::new("sbatch");
        sbatch.arg("--parsable");
        if let Some(id) = &previous {
            sbatch.arg(format!("--dependency=afterok:{id}"));
        }
        let done = sbatch.arg(path).output().map_err(|e| {
            anyhow::anyhow!("cannot run sbatch ({e}): is Slurm installed here? Without --submit the scripts are written for submitting elsewhere")
        })?;
        if !done.status.success() {
            bail!(
                "sbatch {} failed: {}",
                path.display(),
                String::from_utf8_lossy(&done.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&done.stdout);
        let id = text.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() {
            bail!("sbatch {} printed no job id", path.display());
        }
        if args.json.json {
            let line = serde_json::json!({"script": path, "job": id, "tasks": script.tasks});
            lorae::say!("{line}");
        } else {
            lorae::say!("{id} {} ({what})", path.display());
        }
        previous = Some(id);
    }
    if !args.submit {
        lorae::say!(
            "# submit: lorae reproduce {} --budget {} --out {} --slurm --submit (or sbatch each in order, --dependency=afterok:PREVIOUS)",
            names.join(" "),
            args.budget,
            shell(&args.out.display().to_string())
        );
    }
    Ok(())
}

fn shell(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `RUN=PATH` of `--official`.
fn parse_official(text: &str) -> std::result::Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((run, path)) if !run.is_empty() && !path.is_empty() => {
            Ok((run.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "`{text}` is not RUN=PATH (e.g. mnist-irmae-l8=checkpoint/mnist/irmae_l8)"
        )),
    }
}
