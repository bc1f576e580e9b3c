//! `lorae spectrum RUN...`: the normalised singular values of the evaluation codes' covariance and
//! the effective rank at a stated threshold, per run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::latent::{encode_set, spectrum::spectrum};
use lorae::report::plot::{plot_spectra, SpectrumSeries};
use lorae::train::EVAL_BATCH;
use lorae::{data, io::atomic::write_atomic};

use crate::flags::{DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct SpectrumArgs {
    /// Run directories.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Effective rank counts normalised singular values above this [default: the run's, 1e-2].
    #[arg(long)]
    threshold: Option<f64>,
    #[command(flatten)]
    json: JsonFlag,
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
    for run in &args.runs {
        let (config, model) = lorae::run::load_run(run, &device)?;
        lorae::run::require_encoder(&config, run)?;
        let threshold = args.threshold.unwrap_or(config.eval.rank_threshold);
        lorae::latent::spectrum::check_threshold(threshold)?;
        let eval = data::load_eval(&config.data, config.seed, None)?;
        // The folded encoder gives the same codes faster; a ReLU chain cannot fold.
        let model = model.fold().unwrap_or(model);
        let codes = encode_set(&model, &eval, config.data.pixel_range, EVAL_BATCH, &device)?;
        let spec = spectrum(&codes, threshold)?;
        let json = serde_json::to_string(&spec)?;
        write_atomic(&run.join("spectrum.json"), json.as_bytes())?;
        plot_threshold.get_or_insert(threshold);
        series.push(SpectrumSeries {
            label: format!("{} (rank {})", run.display(), spec.effective_rank),
            values: spec.singular_values.clone(),
        });
        if args.json.json {
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
                codes.len(),
                codes.dim,
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
