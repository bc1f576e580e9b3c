//! `lorae`: the command-line interface, a thin layer over the library.

use std::process::ExitCode;

use anyhow::Result;
use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

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
/// `lorae bench step`, 480 with purging off; median step 125 → 109 ms in that pair of runs).
fn keep_freed_memory() {
    // SAFETY: sets an integer option of the allocator this binary links; valid at any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

mod bench;
mod bench_epoch;
mod bench_fid;
mod bench_gmm;
mod classify;
mod data_fetch;
mod data_info;
mod entropy;
mod explore;
mod fid;
mod flags;
mod import;
mod interpolate;
mod pca_grid;
mod progress;
mod reconstruct;
mod reproduce;
mod sample;
mod spectrum;
mod theory;
mod train;
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
    /// peers of `bench step` and `bench gmm` [default: all cores].
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model; writes config.json, metrics.jsonl and checkpoints to --out (with --json,
    /// prints each epoch's metrics as a JSON line, as in metrics.jsonl).
    Train(train::TrainArgs),
    /// Import a state dict of the official codes' model.AE (facebookresearch/irmae,
    /// tirthajit/LoRAE_WACV24: `torch.save(net.state_dict())`, or the same as safetensors) as a
    /// run that every command reads; `lorae train --init RUN` trains on from it.
    Import(import::ImportArgs),
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
    /// Time lorae against its peers on the same work: `step` (a training step, PyTorch), `epoch`
    /// (a whole epoch of MNIST's or CelebA's networks, PyTorch), `gmm` (the GMM fit,
    /// scikit-learn), `fid` (FID features, pytorch-fid).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Old spelling of `bench epoch`.
    #[command(hide = true)]
    BenchEpoch(bench_epoch::BenchEpochArgs),
    /// Old spelling of `bench gmm`.
    #[command(hide = true)]
    BenchGmm(bench_gmm::BenchGmmArgs),
    /// Old spelling of `bench fid`.
    #[command(hide = true)]
    BenchFid(bench_fid::BenchFidArgs),
    /// Fréchet Inception Distance between two image sets (folders, dataset:NAME[:split], .npz),
    /// as pytorch-fid computes it; with --run, of the run's samples against its test split.
    Fid(fid::FidArgs),
    /// Test error of an MLP head on a frozen encoder's codes with few labels (IRMAE Table 2), or
    /// of the encoder trained from scratch (--supervised).
    Classify(classify::ClassifyArgs),
    /// The RRAE paper's interpolation entropy: a classifier trained on the labelled training
    /// images judges the run's decoded interpolations between pairs of training images (nats).
    Entropy(entropy::EntropyArgs),
    /// LoRAE's theory checks: rank against λ, the min–max distance ratio, loss convergence.
    #[command(subcommand)]
    Theory(theory::TheoryCommand),
    /// t-SNE of real evaluation codes and sampler draws, embedded together (IRMAE Fig 13).
    Tsne(tsne::TsneArgs),
    /// Reproduce the papers' tables and figures: experiments of resumable cells, a plan for a
    /// scheduler, a report (DIR/report.md, DIR/report.html).
    Reproduce(reproduce::ReproduceArgs),
    /// Serve an interactive page over runs: spectrum, principal-component sliders decoded live,
    /// samples, interpolations, runs side by side (http://127.0.0.1:8080/ by default).
    Explore(explore::ExploreArgs),
    /// This command line's reference as Markdown (docs/cli.md is its output; a test holds it).
    #[command(hide = true)]
    MarkdownHelp,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time a training step against the PyTorch peer on the same model (ratio, PyTorch = 1).
    Step(bench::BenchArgs),
    /// Time one whole epoch (training and the per-epoch evaluation) of MNIST's or CelebA's
    /// networks against PyTorch doing the same (seconds, ratio), and check the step peer against
    /// PyTorch's own epoch.
    Epoch(bench_epoch::BenchEpochArgs),
    /// Time lorae's GMM fit against scikit-learn's on the same low-rank codes.
    Gmm(bench_gmm::BenchGmmArgs),
    /// Time FID feature extraction against pytorch-fid on the same images (images/s, ratio).
    Fid(bench_fid::BenchFidArgs),
}

/// Builds the global thread pool with `threads` workers (all cores when `None`).
fn set_threads(threads: Option<usize>) -> Result<()> {
    // The main thread's stack size: commands run on a worker.
    // Subnormal floats flushed to zero on every thread that computes: training slowed by half
    // once values fell below f32's normal range (lorae::kernels::subnormal).
    lorae::kernels::subnormal::flush_to_zero();
    let mut pool = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .start_handler(|_| lorae::kernels::subnormal::flush_to_zero());
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
        Command::Train(args) => train::run(args),
        Command::Import(args) => import::run(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::Spectrum(args) => spectrum::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::PcaGrid(args) => pca_grid::run(args),
        Command::Bench(BenchCommand::Step(args)) => bench::run(args),
        Command::Bench(BenchCommand::Epoch(args)) | Command::BenchEpoch(args) => {
            bench_epoch::run(args)
        }
        Command::Bench(BenchCommand::Gmm(args)) | Command::BenchGmm(args) => bench_gmm::run(args),
        Command::Bench(BenchCommand::Fid(args)) | Command::BenchFid(args) => bench_fid::run(args),
        Command::Data(command) => data_info::run(command),
        Command::Fid(args) => fid::run(args),
        Command::Classify(args) => classify::run(args),
        Command::Entropy(args) => entropy::run(args),
        Command::Theory(command) => theory::run(command),
        Command::Tsne(args) => tsne::run(args),
        Command::Reproduce(args) => reproduce::run(args),
        Command::Explore(args) => explore::run(args),
        Command::MarkdownHelp => {
            let options = clap_markdown::MarkdownOptions::new()
                .title("lorae command-line reference".into())
                .show_footer(false);
            lorae::say!(
                "{}",
                clap_markdown::help_markdown_custom::<Cli>(&options).trim_end()
            );
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        Err(e) => {
            lorae::note!("{}", flags::one_line(&e));
            return ExitCode::from(2);
        }
    };
    // The command runs on a worker of the pool, not on the main thread: with the main thread
    // computing beside the pool's workers, there were more busy threads than cores, and workers
    // spinning between parallel loops preempted it (7 000 involuntary context switches in a
    // 60-step `lorae bench step` at --threads 2; 200 on a worker, median step 100–125 → 83–104 ms).
    // The explorer's request threads wait for connections: run on a pool worker, they would
    // keep it from the decoding they hand to the pool.
    let result = set_threads(cli.threads).and_then(|()| match cli.command {
        command @ Command::Explore(_) => run(command),
        command => rayon::scope(|_| run(command)),
    });
    // A command whose printed result was lost (a full disk behind `> FILE`) has failed.
    let result = result.and_then(|()| match lorae::io::stdout::failure() {
        Some(e) => Err(anyhow::anyhow!(
            "cannot write the output to standard output: {e} (is the disk full?)"
        )),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            lorae::note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
