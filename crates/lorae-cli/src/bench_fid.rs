//! `lorae bench fid`: FID feature extraction in images per second, lorae against pytorch-fid on
//! the same folder, weights and threads ([`lorae::bench::fid`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lorae::bench::fid::{bench_fid, FidBenchConfig};
use lorae::eval::fid::scorer::default_weights;

use crate::flags::{DeviceFlag, JsonFlag, PeerFlags};

#[derive(Args)]
pub struct BenchFidArgs {
    /// Images to time.
    #[arg(short, default_value_t = 200)]
    n: usize,
    /// A folder of PNG / JPEG images [default: the first n shapes test images, written as PNGs].
    #[arg(long)]
    images: Option<PathBuf>,
    /// FID weights [default: the fetch cache's, `lorae data fetch fid-weights`].
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Images per forward pass (pytorch-fid's default).
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// Alternating rounds of the two sides (each side's rate is the median).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[command(flatten)]
    peer: PeerFlags,
    #[command(flatten)]
    device: DeviceFlag,
    #[command(flatten)]
    json: JsonFlag,
}

pub fn run(args: BenchFidArgs) -> Result<()> {
    let config = FidBenchConfig {
        images: args.images.clone(),
        n: args.n,
        weights: args.weights.clone().map_or_else(default_weights, Ok)?,
        batch: args.batch_size,
        rounds: args.rounds,
        peer: args.peer.python(),
    };
    let r = bench_fid(&config, &args.device.open()?)?;
    if crate::bench::said_json(args.json.json, &r)? {
        return Ok(());
    }
    let [c, h, w] = r.shape;
    let head = format!(
        "fid features ({} images of {c}×{h}×{w}, {} threads)",
        r.images, r.threads
    );
    let peer = r.peer_images_per_s.zip(r.ratio);
    let peer = peer.map(|(rate, ratio)| ("pytorch-fid", format!("{rate:.2} img/s"), ratio));
    let reading = " (lorae / pytorch-fid: higher is better)";
    crate::bench::say_result(
        &head,
        format!("{:.2} img/s", r.lorae_images_per_s),
        peer,
        reading,
    );
    Ok(())
}
