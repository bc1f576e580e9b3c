//! `lorae classify RUN`: test error of an MLP head on a frozen encoder's codes with few labels
//! (IRMAE Table 2); `lorae classify --supervised --dataset NAME`: the same architecture trained
//! from scratch on the labels.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use lorae::config::{DatasetKind, ModelKind, PixelRange, RunConfig};
use lorae::eval::classify::{ClassifyConfig, LabelResult, Protocol, Subset};
use lorae::eval::classify_run::{classify_run, classify_supervised};
use lorae::latent::CodeSource;

use crate::flags::{named, DataDirFlag, DeviceFlag, JsonFlag};

#[derive(Args)]
pub struct ClassifyArgs {
    /// Run directory (its encoder gives the codes); omit with --supervised.
    run: Option<PathBuf>,
    /// Labelled training images per classification, comma-separated; `all` is the whole
    /// labelled pool (honest: all but the validation images).
    #[arg(long, default_value = "10,100,1000,10000,all", value_delimiter = ',')]
    labels: Vec<String>,
    /// Seeds per label count (subset, head initialisation, dropout, order).
    #[arg(long, default_value_t = 5)]
    seeds: usize,
    /// Codes: encoder (before the linear chain, as both official codes) or chain (after it).
    #[arg(long, default_value = "encoder", value_parser = named::<CodeSource>())]
    codes: CodeSource,
    /// honest (test error at the best accuracy on held-out training images) or paper (best test
    /// accuracy over evaluations every 10 epochs, as the official code).
    #[arg(long, default_value = "honest", value_parser = named::<Protocol>())]
    protocol: Protocol,
    /// Labelled images: stratified (seeded, balanced over classes) or first (the first N, as the
    /// official code) [default: stratified for honest, first for paper].
    #[arg(long, value_parser = named::<Subset>())]
    subset: Option<Subset>,
    /// Honest protocol: the last this many training images validate the head.
    #[arg(long, default_value_t = 5000)]
    validation: usize,
    /// Epochs over the labelled images (the official code runs 500).
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// At least this many steps (small labelled sets get more epochs).
    #[arg(long, default_value_t = 1000)]
    min_steps: usize,
    /// Train the encoder architecture from scratch with the head (needs --dataset, no RUN).
    #[arg(long)]
    supervised: bool,
    /// Dataset of --supervised (one with labels: mnist, fashion-mnist, cifar10, shapes).
    #[arg(long, value_parser = named::<DatasetKind>())]
    dataset: Option<DatasetKind>,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// --supervised: pixel range [default: the dataset's].
    #[arg(long, value_parser = named::<PixelRange>())]
    pixel_range: Option<PixelRange>,
    #[command(flatten)]
    json: JsonFlag,
    #[command(flatten)]
    device: DeviceFlag,
}

impl ClassifyArgs {
    fn config(&self) -> Result<ClassifyConfig> {
        let protocol = self.protocol;
        let subset = match self.subset {
            Some(s) => s,
            None if protocol == Protocol::Paper => Subset::First,
            None => Subset::Stratified,
        };
        let labels = self
            .labels
            .iter()
            .map(|l| match l.trim() {
                "all" => Ok(usize::MAX),
                n => n.parse::<usize>().with_context(|| {
                    format!(
                        "--labels: `{n}` is not a count (give numbers or `all`, comma-separated)"
                    )
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ClassifyConfig {
            labels,
            seeds: self.seeds,
            protocol,
            subset,
            validation: self.validation,
            epochs: self.epochs,
            min_steps: self.min_steps,
            ..ClassifyConfig::default()
        })
    }
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let config = args.config()?;
    let device = args.device.open()?;
    // A result that cannot be written as JSON (a bug) fails the command once the run is over.
    let mut unwritten: Option<serde_json::Error> = None;
    let mut print = |r: &LabelResult| {
        if args.json.json {
            match serde_json::to_string(r) {
                Ok(line) => lorae::say!("{line}"),
                Err(e) => unwritten = Some(e),
            }
        } else {
            let errors: Vec<String> = r.errors.iter().map(|e| format!("{e:.2}")).collect();
            lorae::say!(
                "labels {}: test error {:.2} ± {:.2} % over {} seeds [{}], epochs {:?}, {:.1}s",
                r.labels,
                r.error_mean,
                r.error_std,
                r.errors.len(),
                errors.join(" "),
                r.epochs,
                r.seconds
            );
        }
    };
    if args.supervised {
        if args.run.is_some() {
            bail!(
                "--supervised trains an encoder from scratch: give --dataset, not a run directory"
            );
        }
        let Some(dataset) = args.dataset else {
            bail!("--supervised needs --dataset (mnist, fashion-mnist, cifar10, shapes)");
        };
        let mut run_config = RunConfig::for_dataset(ModelKind::Ae, dataset);
        run_config.data.data_dir = args.data_dir.data_dir.clone();
        if let Some(range) = args.pixel_range {
            run_config.data.pixel_range = range;
        }
        run_config.validate()?;
        let d = run_config.model.latent_dim;
        classify_supervised(&run_config.data, d, &config, &device, &mut print)?;
        return finish(unwritten);
    }
    let Some(run) = &args.run else {
        bail!("give a run directory (lorae classify RUN), or --supervised --dataset NAME");
    };
    if args.dataset.is_some() || args.pixel_range.is_some() {
        bail!(
            "--dataset and --pixel-range apply to --supervised; a run classifies its own dataset"
        );
    }
    let data_dir = args.data_dir.data_dir.clone();
    classify_run(run, args.codes, data_dir, &config, &device, &mut print)?;
    finish(unwritten)
}

fn finish(unwritten: Option<serde_json::Error>) -> Result<()> {
    match unwritten {
        Some(e) => bail!("cannot write a result as JSON (a lorae bug: please report it): {e}"),
        None => Ok(()),
    }
}
