//! Few-label classification from a run or from scratch, as one call each: a run's frozen
//! encoder gives codes of both splits, which [`classify`] trains heads on
//! ([`classify_run`]); the supervised baseline trains the same encoder architecture with the
//! head on the images themselves ([`classify_supervised`]). Used by `lorae classify` and the
//! classification cells of `lorae reproduce`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::Device;

use super::classify::{classify, pool_size, ClassifyConfig, Inputs, LabelResult, Protocol};
use crate::config::{DataConfig, RunConfig};
use crate::data::{self, Splits};
use crate::error::Result;
use crate::latent::{encode_set_from, CodeSource};
use crate::model::nets::Encoder;
use crate::model::Autoencoder;
use crate::train::EVAL_BATCH;

/// Classifies the codes (`source`: before or after the linear chain) of the run in `run`, its
/// data read from `data_dir` if given; `done` is called after each labelled-set size.
pub fn classify_run(
    run: &Path,
    source: CodeSource,
    data_dir: Option<PathBuf>,
    config: &ClassifyConfig,
    device: &Device,
    done: &mut dyn FnMut(&LabelResult),
) -> Result<Vec<LabelResult>> {
    let (model, run_config, splits) = open_labelled(run, data_dir, device)?;
    let (train_labels, test_labels) = splits.labels(run_config.data.dataset)?;
    let range = run_config.data.pixel_range;
    let started = Instant::now();
    let train = encode_set_from(&model, &splits.train, range, EVAL_BATCH, source, device)?;
    let test = encode_set_from(&model, &splits.eval, range, EVAL_BATCH, source, device)?;
    crate::note!(
        "codes of {} training and {} test images ({source}, d = {}) in {:.1}s",
        train.len(),
        test.len(),
        train.dim,
        started.elapsed().as_secs_f64()
    );
    crate::note!(
        "{}",
        describe(config, train_labels.len(), &source.to_string())
    );
    classify(
        (Inputs::Codes(&train), train_labels),
        (Inputs::Codes(&test), test_labels),
        None,
        train.dim,
        &source.to_string(),
        config,
        device,
        done,
    )
}

/// The model of the run in `run` (which must have an encoder), its configuration and its data
/// (read from `data_dir` if given), which must have labels.
pub fn open_labelled(
    run: &Path,
    data_dir: Option<PathBuf>,
    device: &Device,
) -> Result<(Autoencoder, RunConfig, Splits)> {
    let dir = crate::run::RunDir::open(run)?;
    dir.require_encoder()?;
    let model = dir.model(device)?;
    let mut run_config = dir.config().clone();
    if data_dir.is_some() {
        run_config.data.data_dir = data_dir;
    }
    let splits = data::load(&run_config.data, run_config.seed)?;
    splits.labels(run_config.data.dataset)?;
    Ok((model, run_config, splits))
}

/// The supervised baseline on `data`: the encoder architecture (code dimension `latent_dim`)
/// trained from scratch with the head.
pub fn classify_supervised(
    data_config: &DataConfig,
    latent_dim: usize,
    config: &ClassifyConfig,
    device: &Device,
    done: &mut dyn FnMut(&LabelResult),
) -> Result<Vec<LabelResult>> {
    let splits = data::load(data_config, 0)?;
    let (train_labels, test_labels) = splits.labels(data_config.dataset)?;
    let (layout, range) = (data_config.layout(), data_config.pixel_range);
    crate::note!(
        "{}",
        describe(
            config,
            train_labels.len(),
            "supervised (encoder trained with the head)"
        )
    );
    let make = move |device: &Device| Encoder::new(layout, latent_dim, device);
    classify(
        (Inputs::Images(&splits.train, range), train_labels),
        (Inputs::Images(&splits.eval, range), test_labels),
        Some(&make),
        latent_dim,
        "supervised",
        config,
        device,
        done,
    )
}

/// One line on the protocol, the labelled images, the codes and the head's training.
pub fn describe(config: &ClassifyConfig, train_len: usize, codes: &str) -> String {
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
    format!(
        "classification: protocol {protocol}; labelled images: {} of a pool of {}; codes: {codes}; \
         head 2×(Linear d→d, ReLU, dropout 0.5) + Linear d→classes, Adam lr {}, batch {}, {} epochs (at least {} steps)",
        config.subset,
        pool_size(train_len, config),
        config.lr,
        config.batch_size,
        config.epochs,
        config.min_steps
    )
}
