//! `lorae reproduce` at the smoke budget: every experiment that has its data runs, the report is
//! written, a rerun recomputes nothing, the plan lists every cell, and a directory holding other
//! cells, a corrupted cell or a missing dataset are clean errors.
//!
//! Needs real MNIST and the FID weights (`.ci/run` fetches them): without them the smoke test
//! fails under CI (`CI` set) and skips, saying so, elsewhere.

use std::path::Path;

use crate::common::{fails_with, lorae};

fn smoke(dir: &Path, experiments: &[&str], extra: &[&str]) -> (bool, String, String) {
    let mut args = vec!["reproduce"];
    args.extend(experiments);
    args.extend([
        "--budget",
        "smoke",
        "--no-progress",
        "--out",
        dir.to_str().unwrap(),
    ]);
    args.extend(extra);
    lorae(&args)
}

#[test]
#[ignore = "needs MNIST and the FID weights: lorae data fetch mnist fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn smoke_reproduces_every_experiment_and_resumes() {
    crate::common::fetched(&["mnist/train-images-idx3-ubyte", "fid-weights/default_1.pt"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repro");
    let (ok, out, err) = smoke(&dir, &["all"], &[]);
    assert!(ok, "{err}");
    assert!(err.contains("leaves out celeba-fid"), "{err}");
    assert!(out.contains("report:"), "{out}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for e in [
        "shapes-spectra",
        "mnist-fid",
        "mnist-classification",
        "mnist-depth",
        "mnist-variance",
        "lambda-sweep",
        "ablations",
        "minmax",
        "latent-dim",
    ] {
        assert!(report.contains(&format!("## {e}\n")), "no section {e}");
    }
    assert!(!report.contains("missing"), "every cell finished");
    assert!(
        report.contains("55.0"),
        "the paper's numbers are beside lorae's"
    );
    assert!(report.contains("FID (lorae)") && report.contains("test error % (lorae)"));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("data:image/png;base64,"),
        "figures are embedded"
    );
    assert!(dir.join("figures/mnist-fid-bars.png").exists());
    let fid: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("cells/fid-mnist-lorae-lam1e-5-gmm10/result.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(fid["fid"].as_f64().unwrap() > 0.0);

    // A rerun recomputes nothing.
    let (ok, _, err) = smoke(&dir, &["all"], &[]);
    assert!(ok, "{err}");
    assert!(!err.contains("[1/"), "a finished cell ran again: {err}");

    // The plan: one command per cell, training first.
    let (ok, plan, err) = smoke(&dir, &["mnist-fid"], &["--plan"]);
    assert!(ok, "{err}");
    let commands: Vec<&str> = plan.lines().filter(|l| l.starts_with("lorae ")).collect();
    assert_eq!(commands.len(), 7 + 20, "{plan}");
    let first_fid = commands
        .iter()
        .position(|c| c.contains("--cell fid-"))
        .unwrap();
    assert!(commands[..first_fid]
        .iter()
        .all(|c| c.contains("--cell train-")));
    assert!(plan.contains("# stage 2"));

    // A result removed by hand is recomputed by --cell, marked missing by --report-only.
    let cell = dir.join("cells/minmax-mnist-ae");
    std::fs::remove_file(cell.join("result.json")).unwrap();
    let (ok, out, err) = smoke(&dir, &["minmax"], &["--report-only"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 missing"), "{out}");
    let (ok, _, err) = smoke(&dir, &["minmax"], &["--cell", "minmax-mnist-ae"]);
    assert!(ok, "{err}");
    assert!(cell.join("result.json").exists());

    // Another budget in the same directory is refused before anything runs.
    let dir_s = dir.to_str().unwrap();
    fails_with(
        &["reproduce", "minmax", "--budget", "quick", "--out", dir_s],
        "another configuration",
    );
    // A cell corrupted by hand names its file.
    std::fs::write(cell.join("cell.json"), b"{not json").unwrap();
    fails_with(
        &["reproduce", "minmax", "--budget", "smoke", "--out", dir_s],
        "cells/minmax-mnist-ae/cell.json",
    );
}

#[test]
fn reproduce_bad_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let dir_s = dir.to_str().unwrap();
    fails_with(
        &["reproduce", "table-9", "--out", dir_s],
        "unknown experiment `table-9`",
    );
    fails_with(&["reproduce", "--out", dir_s], "name the experiments");
    fails_with(
        &["reproduce", "minmax", "--budget", "huge", "--out", dir_s],
        "unknown budget `huge`",
    );
    let empty = tmp.path().join("no-data");
    std::fs::create_dir_all(&empty).unwrap();
    fails_with(
        &[
            "reproduce",
            "celeba-fid",
            "--data-root",
            empty.to_str().unwrap(),
            "--out",
            dir_s,
        ],
        "needs CelebA",
    );
    fails_with(
        &[
            "reproduce",
            "minmax",
            "--budget",
            "smoke",
            "--out",
            dir_s,
            "--cell",
            "fid-x",
        ],
        "not a cell of these experiments",
    );
    // --list names every experiment.
    let (ok, out, _) = lorae(&["reproduce", "--list"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 12);
    // Nothing was created by the failures.
    assert!(!dir.exists());
}

/// Every cell's result.json under `dir`, by cell name, without timings.
fn results(dir: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !k.contains("seconds"));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("cells")).unwrap() {
        let cell = entry.unwrap().path();
        let text = std::fs::read_to_string(cell.join("result.json")).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        strip(&mut value);
        out.insert(
            cell.file_name().unwrap().to_string_lossy().into_owned(),
            value,
        );
    }
    out
}

#[test]
fn a_reproduce_stopped_by_a_full_disk_or_a_kill_reruns_to_the_clean_result() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let (ok, _, err) = smoke(&clean, &["shapes-spectra"], &[]);
    assert!(ok, "{err}");
    let want = results(&clean);
    assert!(want.len() >= 2, "{want:?}");

    // A disk that fills up at the first checkpoint (`ulimit -f 8`: 4 KiB; SIGXFSZ ignored, so
    // the write fails with EFBIG as on a full disk).
    let full = tmp.path().join("full");
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{}' reproduce shapes-spectra --budget smoke --no-progress --out '{}'",
        env!("CARGO_BIN_EXE_lorae"),
        full.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a full disk is a failure: {err}");
    assert!(
        err.contains("cells/"),
        "the error names the cell's file: {err}"
    );
    // With space again, the rerun finishes every cell with the clean run's numbers.
    let (ok, _, err) = smoke(&full, &["shapes-spectra"], &[]);
    assert!(ok, "{err}");
    assert_eq!(results(&full), want);

    // A kill after a training cell's checkpoint switched and before its top-level copies were
    // written leaves the checkpoint alone: the cell reads whole, nothing is recomputed.
    let train = std::fs::read_dir(full.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("run/model.safetensors").exists())
        .expect("a training cell");
    std::fs::remove_file(train.join("run/model.safetensors")).unwrap();
    std::fs::remove_file(train.join("run/metrics.jsonl")).unwrap();
    std::fs::remove_file(train.join("result.json")).unwrap();
    let (ok, _, err) = smoke(&full, &["shapes-spectra"], &[]);
    assert!(ok, "{err}");
    assert_eq!(results(&full), want);
}
