//! lorae's integration tests, in one binary: each test binary links burn, and one link is
//! cheaper than fourteen. (`tests/fuzz.rs` stays apart: it installs a bounded global allocator.)
//!
//! Tests that need fetched data are `#[ignore = "needs …"]`: `.ci/run` fetches the data (failing
//! loudly when it cannot) and runs them with `--include-ignored`; [`fetched`] fails such a test
//! when its file is missing instead of letting it pass. Tests named `reference_*` need the
//! Python reference venv's outputs and are skipped by `.ci/run`.

mod baselines;
mod charts;
mod checkpoint;
mod datasets;
mod entropy;
mod eval_codes;
mod fid;
mod fid_inception;
mod fid_sources;
mod layering;
mod models;
mod npy;
mod official;
pub mod official_fixture;
mod resample;
mod rrae;
mod samplers;
mod shapes;
mod spectrum;
mod torch_archive;
#[cfg(feature = "wgpu")]
mod wgpu;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// burn's random generator is global to the process: every test that initialises a network or
/// draws a random tensor holds this lock, or one test's draws would land in the middle of
/// another's seeded sequence.
pub fn burn_rng() -> MutexGuard<'static, ()> {
    static RNG: Mutex<()> = Mutex::new(());
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// `relative` in the fetch cache (`$LORAE_DATA_DIR` or `~/.cache/lorae/data`); a failure naming
/// the fetch command when it is absent.
pub fn fetched(relative: &str) -> PathBuf {
    let path = lorae::data::cache_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `lorae data fetch mnist fid-weights` (or scripts/fetch-data.sh) first",
        path.display()
    );
    path
}
