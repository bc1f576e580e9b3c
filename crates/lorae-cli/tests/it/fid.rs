//! `lorae fid`: statistics files need no network; bad input is a one-line error; with the FID
//! weights fetched (ignored tests, run by .ci/run; they fail without the weights), folders,
//! --save-stats and --run work end to end.

use std::path::Path;

use crate::common::{fails_with, lorae};

use lorae::eval::fid::{frechet_distance, FeatureStats};

fn stats(n: usize, dim: usize, shift: f32) -> FeatureStats {
    let x: Vec<f32> = (0..n * dim)
        .map(|i| ((i * 7919 % 1013) as f32 / 1013.0) + shift * (i % dim) as f32 / dim as f32)
        .collect();
    FeatureStats::from_features(&x, dim).unwrap()
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn weights() -> std::path::PathBuf {
    crate::common::fetched(&["fid-weights/default_1.pt"]).join("fid-weights/default_1.pt")
}

fn write_pngs(dir: &Path, n: usize, seed: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n as u32 {
        let img = image::RgbImage::from_fn(20, 20, |x, y| {
            let v = ((x * 13 + y * 7 + i * 31 + seed * 101) % 256) as u8;
            image::Rgb([v, v / 2, 255 - v])
        });
        img.save(dir.join(format!("{i:03}.png"))).unwrap();
    }
}

#[test]
fn statistics_files_are_compared_without_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (stats(40, 8, 0.0), stats(30, 8, 2.0));
    let (pa, pb) = (dir.path().join("a.npz"), dir.path().join("b.npz"));
    a.save(&pa).unwrap();
    b.save(&pb).unwrap();
    let missing = dir.path().join("no-weights.pt");
    let (ok, stdout, err) = lorae(&[
        "fid",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        "--json",
        "--weights",
        missing.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let out = json(&stdout);
    let want = frechet_distance(&a, &b).unwrap();
    assert!(
        (out["fid"].as_f64().unwrap() - want).abs() < 1e-9 * want,
        "{out}"
    );
    assert_eq!(
        (out["n_a"].as_u64(), out["n_b"].as_u64()),
        (Some(40), Some(30))
    );
}

#[test]
fn bad_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    let a = dir.path().join("a.npz");
    stats(10, 4, 0.0).save(&a).unwrap();
    let a = a.to_str().unwrap();
    fails_with(&["fid", a], "give two image sets");
    fails_with(&["fid", a, a, a], "give two image sets");
    fails_with(
        &["fid", a, a, "--save-stats", "x.npz"],
        "exactly one image set",
    );
    fails_with(
        &["fid", "dataset:imagenet", a],
        "unknown dataset `imagenet`",
    );
    fails_with(
        &["fid", "dataset:mnist:valid", a],
        "unknown split `valid`: expected one of train, test",
    );
    let other = dir.path().join("b.npz");
    stats(10, 6, 0.0).save(&other).unwrap();
    fails_with(
        &["fid", a, other.to_str().unwrap()],
        "same feature dimension",
    );
    let w = dir.path().join("w.pt");
    fails_with(
        &["fid", empty, a, "--weights", w.to_str().unwrap()],
        "no .png/.jpg/.jpeg files",
    );
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn folders_and_saved_statistics_agree() {
    weights();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_pngs(&a, 2, 0);
    write_pngs(&b, 2, 1);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (ok, stdout, err) = lorae(&["fid", a, b, "--json", "--batch-size", "2", "--no-progress"]);
    assert!(ok, "{err}");
    let direct = json(&stdout)["fid"].as_f64().unwrap();
    assert!(direct > 1.0, "{direct}");
    let saved = dir.path().join("a.npz");
    let (ok, _, err) = lorae(&[
        "fid",
        a,
        "--save-stats",
        saved.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    let (ok, stdout, err) = lorae(&["fid", saved.to_str().unwrap(), b, "--json", "--no-progress"]);
    assert!(ok, "{err}");
    let via_file = json(&stdout)["fid"].as_f64().unwrap();
    assert!(
        (via_file - direct).abs() < 1e-6 * direct,
        "{via_file} vs {direct}"
    );
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn a_run_is_sampled_and_scored() {
    weights();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let (ok, _, err) = lorae(&[
        "train",
        "--model",
        "ae",
        "--dataset",
        "shapes",
        "--epochs",
        "1",
        "--train-size",
        "32",
        "--test-size",
        "8",
        "--batch-size",
        "16",
        "--out",
        run_s,
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    let real = dir.path().join("real");
    write_pngs(&real, 4, 2);
    let (ok, stdout, err) = lorae(&[
        "fid",
        "--run",
        run_s,
        real.to_str().unwrap(),
        "--sampler",
        "gaussian",
        "-n",
        "4",
        "--json",
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    let out = json(&stdout);
    assert_eq!(
        (out["n_a"].as_u64(), out["n_b"].as_u64()),
        (Some(4), Some(4)),
        "{out}"
    );
    assert!(out["fid"].as_f64().unwrap() > 0.0, "{out}");
}

/// Dataset statistics are cached by content: after the files change under the same path, the
/// cache is not reused (it once returned a stale FID, keyed by the path alone).
#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn dataset_statistics_are_cached_by_content() {
    let w = weights();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    let idx = |magic: u32, dims: &[u32], body: &[u8]| {
        let mut out = magic.to_be_bytes().to_vec();
        dims.iter().for_each(|d| out.extend(d.to_be_bytes()));
        out.extend(body);
        out
    };
    let write = |shift: u8| {
        for (split, n) in [("train", 3u32), ("t10k", 3)] {
            let pixels: Vec<u8> = (0..n as usize * 784)
                .map(|i| {
                    ((i * 37 + shift as usize * 91 + usize::from(split == "t10k") * 13) % 256) as u8
                })
                .collect();
            std::fs::write(
                data.join(format!("{split}-images-idx3-ubyte")),
                idx(0x803, &[n, 28, 28], &pixels),
            )
            .unwrap();
            std::fs::write(
                data.join(format!("{split}-labels-idx1-ubyte")),
                idx(0x801, &[n], &[1, 2, 3]),
            )
            .unwrap();
        }
    };
    let fid = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lorae"))
            .args([
                "fid",
                "dataset:mnist:test",
                "dataset:mnist:train",
                "--json",
                "--no-progress",
            ])
            .arg("--data-dir")
            .arg(&data)
            .arg("--weights")
            .arg(&w)
            .env("LORAE_DATA_DIR", tmp.path().join("cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            json(&String::from_utf8_lossy(&out.stdout))["fid"]
                .as_f64()
                .unwrap(),
            stderr,
        )
    };
    write(0);
    let (first, log) = fid();
    assert!(!log.contains("cached statistics"), "{log}");
    let (again, log) = fid();
    // The cache keeps Σ, not the low-rank factor of 3 images, so the two agree to rounding.
    assert!((again - first).abs() < 1e-5 * first, "{again} vs {first}");
    assert!(
        log.contains("cached statistics"),
        "the second run should use the cache: {log}"
    );
    write(1);
    let (changed, log) = fid();
    assert!(
        !log.contains("cached statistics"),
        "changed files must not hit the cache: {log}"
    );
    assert!(
        (changed - first).abs() > 1e-3 * first,
        "{changed} vs {first}"
    );
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn bench_fid_times_lorae_and_refuses_bad_input() {
    let w = weights();
    let w = w.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("images");
    write_pngs(&folder, 5, 7);
    let f = folder.to_str().unwrap();
    let (ok, out, err) = lorae(&[
        "bench",
        "fid",
        "--no-peer",
        "-n",
        "3",
        "--rounds",
        "2",
        "--batch-size",
        "2",
        "--images",
        f,
        "--weights",
        w,
        "--json",
    ]);
    assert!(ok, "{err}");
    let r = json(&out);
    assert_eq!(r["images"], 3, "-n caps the folder's 5 images");
    assert_eq!(r["lorae_rounds"].as_array().unwrap().len(), 2);
    assert!(r["lorae_images_per_s"].as_f64().unwrap() > 0.0);
    assert!(r["ratio"].is_null() && r["peer_images_per_s"].is_null());
    fails_with(
        // (the old spelling `bench-fid` stays as a hidden alias for one release)
        &["bench-fid", "-n", "0", "--no-peer", "--weights", w],
        "each must be at least 1",
    );
    fails_with(
        &[
            "bench",
            "fid",
            "-n",
            "2",
            "--images",
            f,
            "--weights",
            w,
            "--peer",
            "/no/such/python",
        ],
        "/no/such/python",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(
        &[
            "bench",
            "fid",
            "--images",
            empty.to_str().unwrap(),
            "--weights",
            w,
            "--no-peer",
        ],
        "empty",
    );
}

/// Needs the reference venv (tools/setup-ref-venv.sh) with pytorch-fid; not run by .ci/run.
#[test]
#[ignore = "needs the FID weights and the reference venv with pytorch-fid"]
fn reference_bench_fid_runs_the_pytorch_fid_peer() {
    let w = weights();
    let (ok, out, err) = lorae(&[
        "bench",
        "fid",
        "-n",
        "4",
        "--rounds",
        "1",
        "--batch-size",
        "2",
        "--weights",
        w.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let line = out.trim().lines().last().unwrap();
    assert!(
        line.starts_with("fid features (4 images of 3×32×32"),
        "{line}"
    );
    assert!(
        line.contains("pytorch-fid") && line.contains("ratio"),
        "{line}"
    );
}
