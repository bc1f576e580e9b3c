//! Flags shared by several commands, each defined once (`--device`, `--data-dir`, `--json`,
//! `--no-progress`, the sampler flags of `sample`, `fid --run` and `tsne`), and the parser of closed-set flags (`--model ae`): typed values whose
//! accepted names come from the library ([`Named`]) and appear in `--help`.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Result;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::Args;
use lorae::data::Split;
use lorae::device::DeviceKind;
use lorae::names::Named;
use lorae::sampler::draw::Draw;
use lorae::sampler::SamplerKind;

/// Parses a flag into one of the library's closed sets; an unknown name is an error listing the
/// accepted ones, which `--help` shows as `[possible values: …]`.
#[derive(Clone)]
pub struct NamedParser<T>(PhantomData<T>);

/// The parser of a flag taking one of `T`'s names.
pub fn named<T>() -> NamedParser<T> {
    NamedParser(PhantomData)
}

impl<T> TypedValueParser for NamedParser<T>
where
    T: Named + FromStr<Err = lorae::Error> + Clone + Send + Sync,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> std::result::Result<T, clap::Error> {
        let parse = |text: &str| text.parse::<T>();
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::NAMES.iter().map(PossibleValue::new)))
    }
}

/// The run directories a comparison of runs reads (`spectrum`, `theory rank-lambda`), with
/// `--threshold` and `--json`.
#[derive(Args)]
pub struct RunsFlags {
    /// Run directories.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    #[command(flatten)]
    pub threshold: ThresholdFlag,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `--threshold` of the commands that read trained runs.
#[derive(Args, Clone, Copy)]
pub struct ThresholdFlag {
    /// Effective rank counts normalised singular values above this [default: each run's own,
    /// 1e-2 unless it was trained with another].
    #[arg(long)]
    pub threshold: Option<f64>,
}

/// `--device`.
#[derive(Args, Clone, Copy)]
pub struct DeviceFlag {
    /// Compute device.
    #[arg(long, default_value = "cpu", value_parser = named::<DeviceKind>())]
    pub device: DeviceKind,
}

impl DeviceFlag {
    /// The burn device (an error when wgpu was not compiled in or has no adapter).
    pub fn open(&self) -> Result<burn::prelude::Device> {
        Ok(self.device.device()?)
    }
}

/// `--data-dir`.
#[derive(Args, Clone)]
pub struct DataDirFlag {
    /// Folder of the dataset's files [default: the fetch cache, ~/.cache/lorae/data/NAME or
    /// $LORAE_DATA_DIR/NAME; a training folder (--dataset folder) must be given].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `--json`.
#[derive(Args, Clone, Copy)]
pub struct JsonFlag {
    /// Print the result as JSON (one object; a line per item where there are several) instead
    /// of text.
    #[arg(long)]
    pub json: bool,
}

impl JsonFlag {
    /// Prints where a command wrote its file: the path, or with --json `{"out": PATH, ...extra}`.
    pub fn print_out(&self, out: &std::path::Path, extra: serde_json::Value) {
        if self.json {
            let mut object = serde_json::json!({ "out": out });
            if let (Some(o), serde_json::Value::Object(more)) = (object.as_object_mut(), extra) {
                o.extend(more);
            }
            lorae::say!("{object}");
        } else {
            lorae::say!("{}", out.display());
        }
    }
}

/// The sampler flags of `sample`, `fid --run` and `tsne` (each command adds its own `-n`).
/// `requires = "run"`: the run is positional in `sample` and `tsne`, `--run` in `fid`.
#[derive(Args, Clone)]
pub struct SamplerFlags {
    /// Sampler fitted to the run's codes (prior: N(0, I), VAE and GAN runs only).
    #[arg(long, default_value = "gmm", value_parser = named::<SamplerKind>(), requires = "run")]
    pub sampler: SamplerKind,
    /// GMM components.
    #[arg(short, default_value_t = 10, requires = "run")]
    pub k: usize,
    /// Seed of the sampler fit and the draws.
    #[arg(long, default_value_t = 0, requires = "run")]
    pub seed: u64,
    /// Split whose codes the sampler is fitted to (test is faster: a GMM on MNIST's 60 000
    /// training codes takes minutes on 2 cores).
    #[arg(long, default_value = "train", value_parser = named::<Split>(), requires = "run")]
    pub fit_on: Split,
    /// Fit the sampler to the codes of the split's first N images only [default: all]
    /// (`lorae reproduce --budget quick` fits to 10 000).
    #[arg(long, requires = "run")]
    pub fit_limit: Option<usize>,
}

impl SamplerFlags {
    /// What to draw: `n` samples as these flags say.
    pub fn draw(&self, n: usize) -> Draw {
        Draw {
            kind: self.sampler,
            fit_on: self.fit_on,
            k: self.k,
            n,
            seed: self.seed,
            fit_limit: self.fit_limit,
        }
    }
}

/// The peer flags of `bench step|epoch|gmm|fid`: which Python runs the peer (PyTorch,
/// scikit-learn or pytorch-fid, as the command says), or none.
#[derive(Args, Clone)]
pub struct PeerFlags {
    /// Python of the peer [default: $LORAE_REF_VENV or ~/.cache/lorae/venv-ref's python if
    /// present, else python3] (`tools/setup-ref-venv.sh` makes the venv).
    #[arg(long)]
    pub peer: Option<PathBuf>,
    /// Time lorae alone, without the peer.
    #[arg(long, conflicts_with = "peer")]
    pub no_peer: bool,
}

impl PeerFlags {
    /// The peer's Python, `None` with --no-peer.
    pub fn python(&self) -> Option<PathBuf> {
        (!self.no_peer).then(|| {
            self.peer
                .clone()
                .unwrap_or_else(lorae::bench::peer::default_python)
        })
    }
}

/// `--no-progress`.
#[derive(Args, Clone, Copy)]
pub struct ProgressFlag {
    /// Hide progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

impl ProgressFlag {
    /// Whether to show progress bars.
    pub fn show(&self) -> bool {
        !self.no_progress
    }
}

/// A clap error as one line (`error: …`), as lorae's own errors are: its first paragraph, lines
/// joined, pointing at `--help`.
pub fn one_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let first = text.split("\n\n").next().unwrap_or_default();
    let joined: Vec<&str> = first
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("{} (see --help)", joined.join(" "))
}
