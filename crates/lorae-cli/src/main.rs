//! `lorae`: the command-line interface, a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use lorae::config::{DatasetKind, ModelKind, PixelRange, RunConfig};
use lorae::device::DeviceKind;
use lorae::train::{self, TrainOptions};

/// mimalloc keeps freed tensor buffers for reuse; the system allocator returns large ones to the
/// kernel and faults fresh pages in every training step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's run-time option setter (linked in by `libmimalloc-sys`).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Keeps freed memory committed: by default mimalloc returns it to the kernel 10 ms after a free,
/// and every training step faulted its buffers in again (17 000 minor faults in a 45-step
/// `lorae bench`, 480 with purging off; median step 125 → 109 ms in that pair of runs).
fn keep_freed_memory() {
    // SAFETY: sets an integer option of the allocator this binary links; valid at any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

mod bench;
mod bench_gmm;
mod classify;
mod data_fetch;
mod data_info;
mod fid;
mod interpolate;
mod pca_grid;
mod reconstruct;
mod reproduce;
mod sample;
mod spectrum;
mod theory;
mod tsne;

#[derive(Parser)]
#[command(
    name = "lorae",
    version,
    about = "Low-rank latent autoencoders (IRMAE, LoRAE) and their evaluation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads for every parallel loop (burn's flex backend, lorae's kernels), and for the
    /// peers of `bench` and `bench-gmm` [default: all cores].
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model; writes config.json, metrics.jsonl and checkpoints to --out.
    Train(TrainArgs),
    /// PNG grid of evaluation images (top row) and their reconstructions (bottom row).
    Reconstruct(reconstruct::ReconstructArgs),
    /// Fit a sampler (gaussian, gmm, prior) to a run's codes and decode samples to PNG.
    Sample(sample::SampleArgs),
    /// Latent spectrum of the evaluation codes and the effective rank (writes RUN/spectrum.json).
    Spectrum(spectrum::SpectrumArgs),
    /// Decoded linear interpolations between codes of pairs of evaluation images (a row per pair).
    Interpolate(interpolate::InterpolateArgs),
    /// Decoded grid over the top two principal components of the evaluation codes.
    PcaGrid(pca_grid::PcaGridArgs),
    /// Datasets: `lorae data info --dataset NAME` prints counts, shape, pixel statistics, labels.
    #[command(subcommand)]
    Data(data_info::DataCommand),
    /// Time a training step against the PyTorch peer on the same model (ratio, PyTorch = 1).
    Bench(bench::BenchArgs),
    /// Time lorae's GMM fit against scikit-learn's on the same low-rank codes.
    BenchGmm(bench_gmm::BenchGmmArgs),
    /// Fréchet Inception Distance between two image sets (folders, dataset:NAME[:split], .npz),
    /// as pytorch-fid computes it; with --run, of the run's samples against its test split.
    Fid(fid::FidArgs),
    /// Test error of an MLP head on a frozen encoder's codes with few labels (IRMAE Table 2), or
    /// of the encoder trained from scratch (--supervised).
    Classify(classify::ClassifyArgs),
    /// LoRAE's theory checks: rank against λ, the min–max distance ratio, loss convergence.
    #[command(subcommand)]
    Theory(theory::TheoryCommand),
    /// t-SNE of real evaluation codes and sampler draws, embedded together (IRMAE Fig 13).
    Tsne(tsne::TsneArgs),
    /// Reproduce the papers' tables and figures: experiments of resumable cells, a plan for a
    /// scheduler, a report (DIR/report.md, DIR/report.html).
    Reproduce(reproduce::ReproduceArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Model: ae, ae-l1, ae-l2, vae, irmae, lorae, rae, wae, gan [default: irmae].
    #[arg(long)]
    model: Option<String>,
    /// Dataset: shapes, mnist, fashion-mnist, cifar10, celeba, folder [default: shapes].
    #[arg(long)]
    dataset: Option<String>,
    /// Directory of the dataset's files [default: the fetch cache, ~/.cache/lorae/data/NAME or
    /// $LORAE_DATA_DIR/NAME; required for folder].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// folder: side the images are resized to, 32 or 64 [default: 32].
    #[arg(long)]
    image_size: Option<usize>,
    /// IRMAE: number of extra linear layers l [default: shapes 2, mnist 8, celeba 4].
    #[arg(long)]
    layers: Option<usize>,
    /// Regulariser weight λ (> 0) [default: lorae 1e-5 (‖M‖*), rae 1e-7 (decoder term), wae 10 (MMD)].
    #[arg(long, allow_negative_numbers = true)]
    lambda: Option<f64>,
    /// Code penalty weight β (> 0) [default: vae 0.1 (KL), rae 1e-4 (½‖z‖²), ae-l1 / ae-l2 0.1
    /// (‖z‖₁ / ‖z‖²)].
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f64>,
    /// RAE decoder regulariser: l2 (weight decay) or gp (gradient penalty) [default: l2].
    #[arg(long)]
    rae_reg: Option<String>,
    /// VAE objective: bce (the official code's: Sigmoid output, binary cross-entropy, mean KL
    /// term, β 0.1) or gaussian (MSE + β·KL/pixels, Tanh output) [default: bce].
    #[arg(long)]
    vae_loss: Option<String>,
    /// Latent dimension d [default: shapes 32, mnist 128, celeba 512].
    #[arg(long)]
    latent_dim: Option<usize>,
    /// Epochs [default: shapes 100 (paper)].
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate [default: 1e-4].
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Seed of data generation, initialisation and shuffling [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Training images: generated (shapes, default 50000) or at most this many [default: all].
    #[arg(long)]
    train_size: Option<usize>,
    /// Evaluation images: generated (shapes, default 10000) or at most this many [default: all].
    #[arg(long)]
    eval_size: Option<usize>,
    /// Pixel range: 01 (both official codes) or pm1.
    #[arg(long)]
    pixel_range: Option<String>,
    /// Effective rank counts normalised singular values above this [default: 1e-2].
    #[arg(long, allow_negative_numbers = true)]
    rank_threshold: Option<f64>,
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
    #[arg(long, allow_negative_numbers = true)]
    init_scale: Option<f64>,
    /// Run directory.
    #[arg(long, default_value = "runs/default")]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint (settings come from its config.json:
    /// other flags must agree with it; --epochs raises the total).
    #[arg(long)]
    resume: bool,
    /// Also checkpoint inside epochs: every N steps (`500`) or after a duration (`90s`, `10m`,
    /// `2h`); a killed run resumes from there to the same model [default: at each epoch's end].
    #[arg(long)]
    checkpoint_every: Option<String>,
    /// Compute device: cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Hide the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Print the metrics of each epoch trained by this command as one JSON object a line (the
    /// lines of metrics.jsonl) instead of the closing summary.
    #[arg(long)]
    json: bool,
}

impl TrainArgs {
    /// The configuration of a new run: the paper's defaults for the model and dataset, then the
    /// flags given.
    fn config(&self) -> Result<RunConfig> {
        let kind: ModelKind = self.model.as_deref().unwrap_or("irmae").parse()?;
        let dataset: DatasetKind = self.dataset.as_deref().unwrap_or("shapes").parse()?;
        let mut config = RunConfig::for_dataset(kind, dataset);
        self.apply(&mut config)?;
        config.validate()?;
        Ok(config)
    }

    /// Writes every flag given (other than --model, --dataset, --epochs) into `config`.
    fn apply(&self, config: &mut RunConfig) -> Result<()> {
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        let m = &mut config.model;
        if let Some(layers) = self.layers {
            m.layers = layers;
        }
        if let Some(d) = self.latent_dim {
            m.latent_dim = d;
        }
        if let Some(lambda) = self.lambda {
            m.lambda = lambda;
        }
        if let Some(beta) = self.beta {
            m.beta = beta;
        }
        if let Some(reg) = &self.rae_reg {
            m.rae_reg = reg.parse()?;
        }
        if let Some(loss) = &self.vae_loss {
            m.vae_loss = loss.parse()?;
        }
        m.frozen_linear |= self.frozen_linear;
        m.relu_between |= self.relu_between;
        m.shared_linear |= self.shared_linear;
        if let Some(k) = self.init_scale {
            m.init_scale = k;
        }
        let t = &mut config.train;
        if let Some(epochs) = self.epochs {
            t.epochs = epochs;
        }
        if let Some(b) = self.batch_size {
            t.batch_size = b;
        }
        if let Some(lr) = self.lr {
            t.lr = lr;
        }
        let d = &mut config.data;
        if let Some(n) = self.train_size {
            d.train_size = n;
        }
        if let Some(n) = self.eval_size {
            d.eval_size = n;
        }
        if let Some(dir) = &self.data_dir {
            d.data_dir = Some(dir.clone());
        }
        if let Some(size) = self.image_size {
            d.image_size = size;
        }
        if let Some(range) = &self.pixel_range {
            d.pixel_range = range.parse::<PixelRange>()?;
        }
        if let Some(t) = self.rank_threshold {
            config.eval.rank_threshold = t;
        }
        Ok(())
    }

    /// With --resume: every flag given must agree with the run's config.json (only --epochs may
    /// change it); a contradiction names the setting and both values.
    fn check_resume(&self) -> Result<()> {
        let run = lorae::run::load_config(&self.out)?;
        let mut wanted = run.clone();
        if let Some(kind) = &self.model {
            wanted.model.kind = kind.parse()?;
        }
        if let Some(dataset) = &self.dataset {
            wanted.data.dataset = dataset.parse()?;
        }
        self.apply(&mut wanted)?;
        wanted.train.epochs = run.train.epochs;
        let (a, b) = (serde_json::to_value(&run)?, serde_json::to_value(&wanted)?);
        let mut diffs = Vec::new();
        for (section, fields) in a.as_object().into_iter().flatten() {
            match fields.as_object() {
                Some(fields) => {
                    for (name, value) in fields {
                        let other = &b[section][name];
                        if other != value {
                            diffs.push(format!(
                                "{section}.{name}: the run has {value}, the flags say {other}"
                            ));
                        }
                    }
                }
                None if &b[section] != fields => {
                    diffs.push(format!(
                        "{section}: the run has {fields}, the flags say {}",
                        b[section]
                    ));
                }
                None => {}
            }
        }
        anyhow::ensure!(
            diffs.is_empty(),
            "--resume continues {} as configured in its config.json; these flags contradict it: {} (drop them, or start a new run with another --out)",
            self.out.display(),
            diffs.join("; ")
        );
        Ok(())
    }
}

fn run_train(args: TrainArgs) -> Result<()> {
    let options = TrainOptions {
        device: args.device.parse::<DeviceKind>()?,
        progress: !args.no_progress,
        checkpoint_every: args
            .checkpoint_every
            .as_deref()
            .map(str::parse)
            .transpose()?,
    };
    let metrics = if args.resume {
        args.check_resume()?;
        train::resume(&args.out, args.epochs, &options)?
    } else {
        let config = args.config()?;
        lorae::note!(
            "training {} on {} ({} train / {} eval images, {} epochs, batch {}, lr {}) into {}",
            config.model.kind,
            config.data.dataset,
            config.data.train_size,
            config.data.eval_size,
            config.train.epochs,
            config.train.batch_size,
            config.train.lr,
            args.out.display()
        );
        train::train(&config, &args.out, &options)?
    };
    if args.json {
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

/// Builds the global thread pool with `threads` workers (all cores when `None`).
fn set_threads(threads: Option<usize>) -> Result<()> {
    // The main thread's stack size: commands run on a worker.
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(8 << 20);
    if let Some(t) = threads {
        anyhow::ensure!(
            (1..=4096).contains(&t),
            "--threads must be between 1 and 4096, got {t}"
        );
        pool = pool.num_threads(t);
    }
    let count = threads.map_or("all-core".to_string(), |t| t.to_string());
    pool.build_global()
        .map_err(|e| anyhow::anyhow!("cannot start {count} worker threads (--threads): {e}"))
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => run_train(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::PcaGrid(args) => pca_grid::run(args),
        Command::BenchGmm(args) => bench_gmm::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Data(command) => data_info::run(command),
        Command::Fid(args) => fid::run(args),
        Command::Classify(args) => classify::run(args),
        Command::Theory(command) => theory::run(command),
        Command::Tsne(args) => tsne::run(args),
        Command::Reproduce(args) => reproduce::run(args),
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    // The command runs on a worker of the pool, not on the main thread: with the main thread
    // computing beside the pool's workers, there were more busy threads than cores, and workers
    // spinning between parallel loops preempted it (7 000 involuntary context switches in a
    // 60-step `lorae bench` at --threads 2; 200 on a worker, median step 100–125 → 83–104 ms).
    let result = set_threads(cli.threads).and_then(|()| rayon::scope(|_| run(cli.command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            lorae::note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
