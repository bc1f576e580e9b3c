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

/// True when every path (relative to the fetch cache, `$LORAE_DATA_DIR` or
/// `~/.cache/lorae/data`) exists. Otherwise: a panic under CI (`CI` set: `.ci/run` fetches the
/// data, so its absence is a failure), a message and `false` elsewhere.
#[allow(dead_code)]
pub fn has_data(paths: &[&str]) -> bool {
    let root = match std::env::var_os("LORAE_DATA_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/lorae/data"),
    };
    let missing: Vec<String> = paths
        .iter()
        .map(|p| root.join(p))
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "missing {} (run scripts/fetch-data.sh mnist fid-weights)",
        missing.join(", ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{msg}: CI fetches them, so this is a failure"
    );
    eprintln!("skipped: {msg}");
    false
}
