//! `lorae train`: the flags become [`Overrides`] of the paper's defaults; training is one
//! library call ([`lorae::train::start`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::config::{DatasetKind, ModelKind, Order, Overrides, PixelRange, RaeReg, VaeLoss};
use lorae::train::{self, CheckpointEvery, TrainOptions};

use crate::flags::{named, DataDirFlag, DeviceFlag, JsonFlag, ProgressFlag};

#[derive(Args)]
pub struct TrainArgs {
    /// Model [default: irmae].
    #[arg(long, value_parser = named::<ModelKind>())]
    model: Option<ModelKind>,
    /// Dataset [default: shapes].
    #[arg(long, value_parser = named::<DatasetKind>())]
    dataset: Option<DatasetKind>,
    #[command(flatten)]
    data_dir: DataDirFlag,
    /// folder: side the images are resized to, 32 or 64 [default: 32].
    #[arg(long)]
    image_size: Option<usize>,
    /// IRMAE: number of extra linear layers l [default: shapes 2, mnist 8, celeba 4].
    #[arg(long)]
    layers: Option<usize>,
    /// Regulariser weight λ (> 0) [default: lorae 1e-5 (‖M‖*), rae 1e-7 (decoder term), wae 10 (MMD)].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    lambda: Option<f64>,
    /// Code penalty weight β (> 0) [default: vae 0.1 (KL), rae 1e-4 (½‖z‖²), ae-l1 / ae-l2 0.1
    /// (‖z‖₁ / ‖z‖²)].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    beta: Option<f64>,
    /// RAE decoder regulariser: l2 (weight decay) or gp (gradient penalty) [default: l2].
    #[arg(long, value_parser = named::<RaeReg>())]
    rae_reg: Option<RaeReg>,
    /// VAE objective: bce (the official code's: Sigmoid output, binary cross-entropy, mean KL
    /// term, β 0.1) or gaussian (MSE + β·KL/pixels, Tanh output) [default: bce].
    #[arg(long, value_parser = named::<VaeLoss>())]
    vae_loss: Option<VaeLoss>,
    /// Latent dimension d [default: shapes 32, mnist 128, celeba 512].
    #[arg(long)]
    latent_dim: Option<usize>,
    /// RRAE: the truncation rank k, 1..=d (required; the RRAE paper uses 5 on MNIST). aRRAE: the
    /// rank its search starts from [default: d].
    #[arg(long)]
    rank: Option<usize>,
    /// aRRAE: steps a lowered rank may take to reach the warm-up's loss before the search stops
    /// one rank above it [default: 500].
    #[arg(long)]
    rank_patience: Option<usize>,
    /// aRRAE: steps whose loss is within 5 % of the last 20 steps' mean before the search starts
    /// lowering the rank; the mean then is the loss every lower rank must reach [default: 50].
    #[arg(long)]
    rank_warmup: Option<usize>,
    /// Epochs [default: shapes 100, mnist 50, celeba 100 (paper)]; with --resume, the new total.
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate [default: 1e-4].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    lr: Option<f64>,
    /// Order of the training images in each epoch: shuffled, or sequential (file order, as both
    /// official train.py's read) [default: shuffled].
    #[arg(long, value_parser = named::<Order>())]
    order: Option<Order>,
    /// Start from the current weights of this run (e.g. one made by `lorae import`) with a fresh
    /// optimizer, instead of weights drawn from the seed.
    #[arg(long, value_name = "RUN")]
    init: Option<PathBuf>,
    /// Seed of data generation, initialisation and shuffling [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Training images: generated (shapes, default 50000) or at most this many [default: all].
    #[arg(long)]
    train_size: Option<usize>,
    /// Test images, what the run is evaluated on: generated (shapes, default 10000) or at most this
    /// many of the test split [default: all].
    #[arg(long, alias = "eval-size")]
    test_size: Option<usize>,
    /// Pixel range: 01 (both official codes) or pm1 [default: 01].
    #[arg(long, value_parser = named::<PixelRange>())]
    pixel_range: Option<PixelRange>,
    /// Effective rank counts normalised singular values above this [default: 1e-2].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    threshold: Option<f64>,
    /// IRMAE ablation: keep the linear layers at their initial values.
    #[arg(long)]
    frozen_linear: bool,
    /// IRMAE ablation: ReLU between the linear layers.
    #[arg(long)]
    relu_between: bool,
    /// IRMAE ablation: one matrix applied l times.
    #[arg(long)]
    shared_linear: bool,
    /// IRMAE/LoRAE: multiply the initial variance of the linear layers by k [default: 1].
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    init_scale: Option<f64>,
    /// Run directory.
    #[arg(long, default_value = "runs/default")]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint (settings come from its config.json:
    /// other flags must agree with it; --epochs raises the total).
    #[arg(long)]
    resume: bool,
    /// Also checkpoint inside epochs: every N steps (`500`) or after a duration (`90s`, `10m`,
    /// `1h 30m`); a killed run resumes from there to the same model [default: at each epoch's
    /// end].
    #[arg(long, value_parser = |s: &str| s.parse::<CheckpointEvery>())]
    checkpoint_every: Option<CheckpointEvery>,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    progress: ProgressFlag,
    #[command(flatten)]
    json: JsonFlag,
}

impl TrainArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            model: self.model,
            dataset: self.dataset,
            seed: self.seed,
            layers: self.layers,
            latent_dim: self.latent_dim,
            lambda: self.lambda,
            beta: self.beta,
            rae_reg: self.rae_reg,
            vae_loss: self.vae_loss,
            frozen_linear: self.frozen_linear,
            relu_between: self.relu_between,
            shared_linear: self.shared_linear,
            init_scale: self.init_scale,
            rank: self.rank,
            rank_patience: self.rank_patience,
            rank_warmup: self.rank_warmup,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            order: self.order,
            init: self.init.clone(),
            train_size: self.train_size,
            test_size: self.test_size,
            data_dir: self.data_dir.data_dir.clone(),
            image_size: self.image_size,
            pixel_range: self.pixel_range,
            rank_threshold: self.threshold,
        }
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    let options = TrainOptions {
        device: args.device.device,
        checkpoint_every: args.checkpoint_every,
    };
    let mut terminal = crate::progress::Terminal::new(args.progress.show());
    let metrics = train::start(
        &args.overrides(),
        &args.out,
        args.resume,
        &options,
        &mut terminal,
    )?;
    if args.json.json {
        for m in &metrics {
            lorae::say!("{}", serde_json::to_string(m)?);
        }
        return Ok(());
    }
    match metrics.last() {
        Some(m) => match (m.eval_mse, m.effective_rank) {
            (Some(mse), Some(rank)) => lorae::say!(
                "done: eval mse {mse:.5}, effective rank {rank} (threshold {:.0e}); outputs in {} (config.json, metrics.jsonl, model.safetensors)",
                m.rank_threshold,
                args.out.display()
            ),
            _ => lorae::say!(
                "done: discriminator loss {:.5}, generator loss {:.5}; outputs in {} (sample with `lorae sample RUN --sampler prior`)",
                m.discriminator_loss.unwrap_or(f64::NAN),
                m.generator_loss.unwrap_or(f64::NAN),
                args.out.display()
            ),
        },
        None => lorae::say!("nothing to do: {} already finished its epochs", args.out.display()),
    }
    Ok(())
}
