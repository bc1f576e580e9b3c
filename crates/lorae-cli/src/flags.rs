//! Flags shared by several commands, each defined once (`--device`, `--data-dir`, `--json`,
//! `--no-progress`), and the parser of closed-set flags (`--model ae`): typed values whose
//! accepted names come from the library ([`Named`]) and appear in `--help`.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Result;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::Args;
use lorae::device::DeviceKind;
use lorae::names::Named;

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
