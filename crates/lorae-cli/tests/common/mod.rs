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
