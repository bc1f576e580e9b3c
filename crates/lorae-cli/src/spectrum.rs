//! `lorae spectrum RUN...`: the normalised singular values of the evaluation codes' covariance and
//! the effective rank at a stated threshold, per run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::report::plot::{plot_spectra, SpectrumSeries};
use lorae::run::codes::run_spectrum;

use crate::flags::{DeviceFlag, RunsFlags};

#[derive(Args)]
pub struct SpectrumArgs {
    #[command(flatten)]
    runs: RunsFlags,
    /// Also draw the spectra of all runs, overlaid, into this PNG (log scale).
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
}

pub fn run(args: SpectrumArgs) -> Result<()> {
    let device = args.device.open()?;
    let mut series = Vec::new();
    let mut plot_threshold = None;
    for run in &args.runs.runs {
        let (spec, n, dim) = run_spectrum(run, args.runs.threshold.threshold, &device)?;
        let threshold = spec.threshold;
        let json = serde_json::to_string(&spec)?;
        plot_threshold.get_or_insert(threshold);
        series.push(SpectrumSeries {
            label: format!("{} (rank {})", run.display(), spec.effective_rank),
            values: spec.singular_values.clone(),
        });
        if args.runs.json.json {
            lorae::say!("{json}");
        } else {
            let head: Vec<String> = spec
                .singular_values
                .iter()
                .take(12)
                .map(|v| format!("{v:.2e}"))
                .collect();
            lorae::say!(
                "{}: effective rank {} (threshold {:.0e}) of {} codes in {} dimensions; normalised singular values {} ...",
                run.display(),
                spec.effective_rank,
                spec.threshold,
                n,
                dim,
                head.join(" ")
            );
        }
    }
    if let (Some(path), Some(threshold)) = (&args.plot, plot_threshold) {
        plot_spectra(&series, threshold, path)?;
        lorae::note!("spectrum plot: {}", path.display());
    }
    Ok(())
}
