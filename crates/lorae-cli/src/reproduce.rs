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
            let mut cmd = format!(
                "lorae reproduce {} --budget {budget} --out {} --cell {} --no-progress",
                names.join(" "),
                shell(&args.out.display().to_string()),
                c.id()
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
