//! `lorae classify RUN`: test error of an MLP head on a frozen encoder's codes with few labels
//! (IRMAE Table 2); `lorae classify --supervised --dataset NAME`: the same architecture trained
//! from scratch on the labels.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use lorae::config::{DatasetKind, ModelKind, PixelRange, RunConfig};
use lorae::data;
use lorae::device::DeviceKind;
use lorae::eval::classify::{
    classify, pool_size, ClassifyConfig, Inputs, LabelResult, Protocol, Subset,
};
use lorae::latent::{encode_set_from, CodeSource};
use lorae::model::nets::Encoder;
use lorae::train::EVAL_BATCH;

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
    #[arg(long, default_value = "encoder")]
    codes: String,
    /// honest (test error at the best accuracy on held-out training images) or paper (best test
    /// accuracy over evaluations every 10 epochs, as the official code).
    #[arg(long, default_value = "honest")]
    protocol: String,
    /// Labelled images: stratified (seeded, balanced over classes) or first (the first N, as the
    /// official code) [default: stratified for honest, first for paper].
    #[arg(long)]
    subset: Option<String>,
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
    /// Dataset of --supervised: mnist, fashion-mnist, cifar10, shapes.
    #[arg(long)]
    dataset: Option<String>,
    /// Directory of --dataset's files [default: the fetch cache].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// --supervised: pixel range 01 or pm1 [default: the dataset's].
    #[arg(long)]
    pixel_range: Option<String>,
    /// Print one JSON object per label count.
    #[arg(long)]
    json: bool,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
}

impl ClassifyArgs {
    fn config(&self) -> Result<ClassifyConfig> {
        let protocol: Protocol = self.protocol.parse()?;
        let subset = match &self.subset {
            Some(s) => s.parse::<Subset>()?,
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
    let device = args.device.parse::<DeviceKind>()?.device()?;
    let print = |r: &LabelResult| {
        if args.json {
            match serde_json::to_string(r) {
                Ok(line) => lorae::say!("{line}"),
                Err(e) => lorae::note!("error: cannot serialise a result: {e}"),
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
    let describe = |train_len: usize, codes: &str| {
        let protocol = match config.protocol {
            Protocol::Honest => format!(
                "honest (test error at the best accuracy on the last {} training images, which are never labelled)",
                config.validation
            ),
            Protocol::Paper => {
                "paper (the best test accuracy over evaluations every 10 epochs, as the official code)"
                    .to_string()
            }
        };
        lorae::note!(
            "classification: protocol {protocol}; labelled images: {} of a pool of {}; codes: {codes}; \
             head 2×(Linear d→d, ReLU, dropout 0.5) + Linear d→classes, Adam lr {}, batch {}, {} epochs (at least {} steps)",
            config.subset,
            pool_size(train_len, &config),
            config.lr,
            config.batch_size,
            config.epochs,
            config.min_steps
        );
    };

    if args.supervised {
        if args.run.is_some() {
            bail!(
                "--supervised trains an encoder from scratch: give --dataset, not a run directory"
            );
        }
        let Some(dataset) = &args.dataset else {
            bail!("--supervised needs --dataset (mnist, fashion-mnist, cifar10, shapes)");
        };
        let dataset: DatasetKind = dataset.parse()?;
        let mut run_config = RunConfig::for_dataset(ModelKind::Ae, dataset);
        run_config.data.data_dir = args.data_dir.clone();
        if let Some(range) = &args.pixel_range {
            run_config.data.pixel_range = range.parse::<PixelRange>()?;
        }
        run_config.validate()?;
        let splits = data::load(&run_config.data, run_config.seed)?;
        let (train_labels, test_labels) = splits.labels(dataset)?;
        describe(
            train_labels.len(),
            "supervised (encoder trained with the head)",
        );
        let range = run_config.data.pixel_range;
        let layout = run_config.data.layout();
        let d = run_config.model.latent_dim;
        let make = move |device: &burn::prelude::Device| Encoder::new(layout, d, device);
        classify(
            (Inputs::Images(&splits.train, range), train_labels),
            (Inputs::Images(&splits.eval, range), test_labels),
            Some(&make),
            d,
            "supervised",
            &config,
            &device,
            &mut |r| print(r),
        )?;
        return Ok(());
    }

    let Some(run) = &args.run else {
        bail!("give a run directory (lorae classify RUN), or --supervised --dataset NAME");
    };
    if args.dataset.is_some() || args.pixel_range.is_some() {
        bail!(
            "--dataset and --pixel-range apply to --supervised; a run classifies its own dataset"
        );
    }
    let source: CodeSource = args.codes.parse()?;
    let (mut run_config, model) = lorae::run::load_run(run, &device)?;
    lorae::run::require_encoder(&run_config, run)?;
    if args.data_dir.is_some() {
        run_config.data.data_dir = args.data_dir.clone();
    }
    let splits = data::load(&run_config.data, run_config.seed)?;
    let dataset = run_config.data.dataset;
    let (train_labels, test_labels) = splits.labels(dataset)?;
    let range = run_config.data.pixel_range;
    let started = std::time::Instant::now();
    let train_codes = encode_set_from(&model, &splits.train, range, EVAL_BATCH, source, &device)?;
    let test_codes = encode_set_from(&model, &splits.eval, range, EVAL_BATCH, source, &device)?;
    lorae::note!(
        "codes of {} training and {} test images ({source}, d = {}) in {:.1}s",
        train_codes.len(),
        test_codes.len(),
        train_codes.dim,
        started.elapsed().as_secs_f64()
    );
    describe(train_labels.len(), &source.to_string());
    classify(
        (Inputs::Codes(&train_codes), train_labels),
        (Inputs::Codes(&test_codes), test_labels),
        None,
        train_codes.dim,
        &source.to_string(),
        &config,
        &device,
        &mut |r| print(r),
    )?;
    Ok(())
}
