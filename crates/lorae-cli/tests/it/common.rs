//! Helpers shared by the CLI tests: run the `lorae` binary, expect a one-line error.

use std::process::Command;

/// Runs `lorae ARGS`: (success, stdout, stderr).
pub fn lorae(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lorae"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `lorae ARGS` fails with exactly one `error` line, last on stderr, containing `needle`.
pub fn fails_with(args: &[&str], needle: &str) {
    let (ok, _, err) = lorae(args);
    assert!(!ok, "{args:?} should fail");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors.len(),
        1,
        "{args:?}: expected one error line, got {err}"
    );
    assert!(errors[0].contains(needle), "{args:?}: stderr was {err}");
    assert_eq!(
        err.trim().lines().last(),
        Some(errors[0]),
        "{args:?}: the error comes last"
    );
}

/// The fetch cache (`$LORAE_DATA_DIR` or `~/.cache/lorae/data`) after checking that every one
/// of `paths` is in it; a failure naming the fetch command otherwise. The tests that call this
/// are `#[ignore = "needs …"]`: `.ci/run` fetches the data and runs them with `--include-ignored`.
pub fn fetched(paths: &[&str]) -> std::path::PathBuf {
    let root = lorae::data::cache_root();
    let missing: Vec<String> = paths
        .iter()
        .map(|p| root.join(p))
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "missing {}: run `lorae data fetch mnist fid-weights` first",
        missing.join(", ")
    );
    root
}

/// Trains a tiny shapes run (400 / 120 images, 1 epoch at lr 1e-3) into `out`, with `extra` flags.
pub fn tiny_run(out: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--out",
        out.to_str().unwrap(),
        "--train-size",
        "400",
        "--test-size",
        "120",
        "--epochs",
        "1",
        "--lr",
        "1e-3",
        "--no-progress",
    ];
    args.extend(extra);
    let (ok, _, err) = lorae(&args);
    assert!(ok, "{args:?}: {err}");
}
