//! A run moves between devices (built with `--features wgpu`; `.ci/run` runs this on Mesa's
//! lavapipe): the same seed starts from the same weights on wgpu and the CPU, a run trained one
//! epoch on one device and resumed on the other for a second ends close to the same run done on
//! the CPU alone, and every inference command runs on wgpu, `lorae explore` included.

use crate::common::lorae;

/// Runs `lorae ARGS` and asserts success. A process killed by a signal after it printed no
/// error (seen once in a CI run: `lorae bench … --device wgpu` ended without a message, which no
/// lorae failure does; 16 reruns of it passed) is run once more, with a note: lavapipe's teardown,
/// not lorae, is the suspect. An error exit fails at once.
fn on_wgpu(args: &[&str]) {
    use std::os::unix::process::ExitStatusExt;
    for attempt in 1..=2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lorae"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        match (out.status.success(), out.status.signal()) {
            (true, _) => return,
            (false, Some(signal)) if attempt == 1 && !err.contains("error") => {
                eprintln!("NOTE: {args:?} was killed by signal {signal} without an error; running it again")
            }
            _ => panic!("{args:?}: {} ({:?})", err, out.status),
        }
    }
}

fn metrics(run: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn train(run: &std::path::Path, device: &str, epochs: &str, resume: bool) {
    let mut args = vec![
        "train",
        "--model",
        "vae",
        "--dataset",
        "shapes",
        "--train-size",
        "256",
        "--test-size",
        "64",
        "--epochs",
        epochs,
        "--no-progress",
        "--device",
        device,
        "--out",
        run.to_str().unwrap(),
    ];
    if resume {
        args = vec![
            "train",
            "--resume",
            "--epochs",
            epochs,
            "--no-progress",
            "--device",
            device,
            "--out",
            run.to_str().unwrap(),
        ];
    }
    let (ok, _, err) = lorae(&args);
    assert!(ok, "{err}");
}

#[test]
fn a_run_trained_on_wgpu_resumes_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let (cpu, moved) = (dir.path().join("cpu"), dir.path().join("moved"));
    train(&cpu, "cpu", "2", false);
    train(&moved, "wgpu", "1", false);
    train(&moved, "cpu", "2", true);
    assert_close(&metrics(&cpu), &metrics(&moved), "wgpu then cpu");
    // And back: one epoch on the CPU, the second on wgpu.
    let back = dir.path().join("back");
    train(&back, "cpu", "1", false);
    train(&back, "wgpu", "2", true);
    assert_close(&metrics(&cpu), &metrics(&back), "cpu then wgpu");
}

/// Relative difference allowed between the devices' metrics: measured 4.4e-7 at most (lavapipe,
/// VAE on shapes, both directions), with a hundredfold margin.
const TOLERANCE: f64 = 1e-5;

/// Each metric of `a` and `b`, epoch by epoch, within [`TOLERANCE`].
fn assert_close(a: &[serde_json::Value], b: &[serde_json::Value], what: &str) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        for key in ["train_loss", "eval_mse"] {
            let (p, q) = (x[key].as_f64().unwrap(), y[key].as_f64().unwrap());
            let rel = (p - q).abs() / p.abs();
            eprintln!(
                "{what}, epoch {}: {key} {p:.7} against {q:.7}, relative {rel:.2e}",
                x["epoch"]
            );
            assert!(
                rel <= TOLERANCE,
                "{what}, epoch {}: {key} {p} against {q}",
                x["epoch"]
            );
        }
    }
}

/// Every inference command runs on wgpu; the spectrum agrees with the CPU's.
#[test]
fn inference_commands_run_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train(&run, "cpu", "1", false);
    let r = run.to_str().unwrap();
    for args in [
        vec!["reconstruct", r, "-n", "4"],
        vec!["sample", r, "--sampler", "gaussian", "-n", "4"],
        vec!["interpolate", r, "--pairs", "2", "--steps", "3"],
        vec!["pca-grid", r, "--size", "3"],
        vec![
            "classify",
            r,
            "--labels",
            "20",
            "--seeds",
            "1",
            "--epochs",
            "2",
            "--min-steps",
            "4",
            "--protocol",
            "paper",
        ],
        vec![
            "bench",
            "step",
            "--model",
            "ae",
            "--dataset",
            "shapes",
            "--batch-size",
            "2",
            "--steps",
            "1",
            "--warmup",
            "1",
            "--rounds",
            "1",
            "--no-peer",
        ],
    ] {
        on_wgpu(&[&args[..], &["--device", "wgpu"]].concat());
    }
    let spectrum = |device: &str| {
        let (ok, out, err) = lorae(&["spectrum", r, "--json", "--device", device]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["singular_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect::<Vec<f64>>()
    };
    let (a, b) = (spectrum("cpu"), spectrum("wgpu"));
    // The top normalised singular values (the smallest are rounding noise on either device).
    for (i, (x, y)) in a.iter().zip(&b).take(8).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * x.abs().max(1e-3),
            "σ{i}: {x} against {y}"
        );
    }
}

/// `fid --run` samples, decodes and scores on wgpu; the distance is the CPU's.
#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn fid_of_a_run_on_wgpu_matches_the_cpu() {
    crate::common::fetched(&["fid-weights/default_1.pt"]);
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train(&run, "cpu", "1", false);
    let fid = |device: &str| {
        let (ok, out, err) = lorae(&[
            "fid",
            "--run",
            run.to_str().unwrap(),
            "--sampler",
            "gaussian",
            "-n",
            "8",
            "--limit",
            "8",
            "--no-cache",
            "--json",
            "--device",
            device,
        ]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["fid"].as_f64().unwrap()
    };
    let (a, b) = (fid("cpu"), fid("wgpu"));
    eprintln!("FID cpu {a:.6}, wgpu {b:.6}");
    assert!((a - b).abs() <= 1e-3 * a, "{a} against {b}");
}

/// The largest difference of two images' 8-bit channels.
fn max_difference(a: &image::RgbImage, b: &image::RgbImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap()
}

#[test]
fn explore_decodes_on_wgpu_as_on_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("ae");
    crate::common::tiny_run(&run, &["--model", "ae"]);
    let cpu = crate::explore::Explorer::start(&[&run]);
    let gpu = crate::explore::Explorer::start_with(&[&run], &["--device", "wgpu"]);
    for pc in ["[]", "[2.5]", "[-1.5]"] {
        let body = format!("{{\"pc\": {pc}}}");
        let (a, b) = (
            cpu.png("/api/runs/0/decode", Some(&body)),
            gpu.png("/api/runs/0/decode", Some(&body)),
        );
        // Pixels are rounded to 8 bits: values 1e-6 apart may round to neighbouring levels.
        assert!(max_difference(&a, &b) <= 1, "pc {pc}");
    }
    let samples = r#"{"sampler": "gaussian", "n": 4, "seed": 3}"#;
    let (a, b) = (
        cpu.png("/api/runs/0/samples", Some(samples)),
        gpu.png("/api/runs/0/samples", Some(samples)),
    );
    assert!(max_difference(&a, &b) <= 1, "gaussian samples");
}
