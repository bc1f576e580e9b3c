//! The `lorae` command's integration tests, in one binary (each test binary links burn).
//!
//! Tests that need fetched data are `#[ignore = "needs …"]`: `.ci/run` fetches the data
//! (failing loudly when it cannot) and runs them with `--include-ignored`;
//! [`common::fetched`] fails such a test when its files are missing instead of letting it pass.

mod browser;
mod cli;
mod common;
mod evaluations;
mod explore;
mod fid;
mod hardened;
mod hostile;
mod kill;
mod official;
mod reproduce;
mod slurm;
#[cfg(feature = "wgpu")]
mod wgpu;
