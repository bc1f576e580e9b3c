//! A run's initial weights: drawn from its seed (the same on every device), or, with
//! `--init RUN`, another run's current weights, which must compute the same function here.

use std::path::Path;

use burn::prelude::*;

use crate::config::{ModelKind, RunConfig};
use crate::error::{Error, Result};
use crate::model::Autoencoder;
use crate::run::{checkpoint, RunDir};

/// The run's initial model on `device`: drawn from the run's seed by the host's generator, its
/// parameters in module order (burn initialises a parameter when it is first read), then copied
/// to a GPU device; so the same seed gives the same initial weights on every device.
pub fn initial_model(config: &RunConfig, device: &Device) -> Result<Autoencoder> {
    let layout = config.data.layout();
    if let Some(init) = &config.train.init {
        return init_model(config, init, device);
    }
    if crate::device::is_host(device) {
        device.seed(config.seed);
        let model = Autoencoder::new(&config.model, layout, device);
        checkpoint::model_bytes(&model)?; // reads every parameter, in module order
        return model.zero_dead_taps();
    }
    let host = crate::device::host();
    host.seed(config.seed);
    let drawn = Autoencoder::new(&config.model, layout, &host);
    checkpoint::model_bytes(&drawn)?; // reads every parameter, in module order
    let bytes = checkpoint::model_bytes(&drawn.zero_dead_taps()?)?;
    let template = Autoencoder::new(&config.model, layout, device);
    checkpoint::load_model_bytes(template, &bytes, Path::new("(the initial weights)"))
}

/// `--init RUN`: the model of this run's configuration with the current weights of `init`.
pub fn init_model(config: &RunConfig, init: &Path, device: &Device) -> Result<Autoencoder> {
    let theirs = RunDir::open(init)?;
    let Some(snapshot) = theirs.latest()? else {
        return Err(Error::invalid(
            "init",
            init.display(),
            "has no checkpoint: give a trained or imported run directory",
        ));
    };
    // What has no parameter but changes the function the weights compute must agree too.
    let (a, b) = (theirs.config(), config);
    for (what, same) in [
        ("--pixel-range", a.data.pixel_range == b.data.pixel_range),
        (
            "the decoder's ReLU after its FC layer",
            a.model.decoder_fc_relu == b.model.decoder_fc_relu,
        ),
        (
            "--vae-loss (the decoder's Sigmoid or Tanh)",
            a.model.vae_loss == b.model.vae_loss || a.model.kind != ModelKind::Vae,
        ),
        (
            "--relu-between",
            a.model.relu_between == b.model.relu_between,
        ),
        (
            "--shared-linear",
            a.model.shared_linear == b.model.shared_linear,
        ),
    ] {
        if !same {
            return Err(Error::invalid(
                "init",
                init.display(),
                format!("that run differs from this one in {what}: its weights would compute another function here; give the same settings"),
            ));
        }
    }
    let template = Autoencoder::new(&config.model, config.data.layout(), device);
    checkpoint::load_model(template, &snapshot.model()).map_err(|e| {
        Error::invalid(
            "init",
            init.display(),
            format!("its weights do not fit this run's model ({e}): give the same --model, --dataset, --latent-dim and --layers as that run has"),
        )
    })
}
