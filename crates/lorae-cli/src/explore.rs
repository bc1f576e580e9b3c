//! `lorae explore RUN...`: serves the interactive latent-space page over the runs
//! ([`lorae::explore`]) until Ctrl-C.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use lorae::explore::{load_runs, server::Server};

use crate::flags::DeviceFlag;

/// Set by Ctrl-C (SIGINT) or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

#[derive(Args)]
pub struct ExploreArgs {
    /// Run directories (one column each, side by side).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Port (0: any free one; the URL printed says which).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; anything but a loopback address opens the page to the network. The
    /// server answers only requests addressed (Host header) to 127.0.0.1, localhost, [::1] or
    /// this address, with the port.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Evaluation images to encode per run [default: all of the run's].
    #[arg(long)]
    limit: Option<usize>,
    /// Codes the Gaussian and GMM samplers are fitted to (the first of the evaluation codes).
    #[arg(long, default_value_t = 2000)]
    fit_limit: usize,
    /// Threads answering requests.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    #[command(flatten)]
    device: DeviceFlag,
}

pub fn run(args: ExploreArgs) -> Result<()> {
    anyhow::ensure!(
        (1..=256).contains(&args.workers),
        "--workers must be between 1 and 256, got {}",
        args.workers
    );
    if args.limit == Some(1) || args.limit == Some(0) {
        anyhow::bail!(
            "--limit {}: the principal components need at least 2 evaluation codes",
            args.limit.unwrap_or(0)
        );
    }
    let device = args.device.open()?;
    let runs = load_runs(&args.runs, args.limit, args.fit_limit, &device)?;
    let server = Server::bind(runs, args.host, args.port)?;
    ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    if !args.host.is_loopback() {
        lorae::note!(
            "warning: listening on {}: anyone who can reach this address can use the page",
            args.host
        );
    }
    if args.host.is_unspecified() {
        lorae::note!(
            "note: it answers only requests addressed to {} (Host header); to serve other \
             machines, give --host this machine's own address on their network",
            server.access().hosts().join(", ")
        );
    }
    lorae::say!(
        "lorae explore: {} run(s) at http://{}/ (Ctrl-C stops)",
        args.runs.len(),
        server.addr()
    );
    server.run(args.workers, &STOP)?;
    lorae::note!("lorae explore: stopped");
    Ok(())
}
