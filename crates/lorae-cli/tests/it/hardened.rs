//! What a kill or a full disk can leave, and outputs that must never be silently lost or empty
//! (issue "Hardened II"): the window between a checkpoint's switch and its top-level copies, PNGs
//! and exports written in one atomic step (a failed write keeps the previous file and fails the
//! command), standard output that fails on a full disk, the umask, and exports that refuse to mix
//! with an old folder. A full disk is simulated with `ulimit -f` (writes beyond it fail with
//! EFBIG, SIGXFSZ ignored) and `/dev/full`.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::common::{fails_with, lorae, tiny_run};

/// `lorae ARGS` under `sh` with `setup` first (`ulimit -f 1`, `umask 022`): (success, stderr).
fn lorae_under(setup: &str, args: &[&str]) -> (bool, String) {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "trap '' XFSZ; {setup}; exec '{}' {}",
        env!("CARGO_BIN_EXE_lorae"),
        quoted.join(" ")
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_run_killed_between_its_checkpoint_and_the_copies_reads_and_resumes_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    tiny_run(&run, &[]);
    let r = run.to_str().unwrap();
    // What a kill after `latest` switched and before the copies were written leaves.
    std::fs::remove_file(run.join("model.safetensors")).unwrap();
    std::fs::remove_file(run.join("metrics.jsonl")).unwrap();
    let (ok, out, err) = lorae(&["theory", "convergence", r]);
    assert!(ok, "readers use the checkpoint's files: {err}");
    assert!(!out.is_empty());
    let (ok, _, err) = lorae(&["spectrum", r]);
    assert!(ok, "{err}");
    let (ok, out, err) = lorae(&["train", "--out", r, "--resume", "--no-progress"]);
    assert!(ok, "{err}");
    assert!(out.contains("already finished"), "{out}");
    let latest = std::fs::read_to_string(run.join("latest")).unwrap();
    let checkpoint = run.join(latest.trim());
    for name in ["model.safetensors", "metrics.jsonl"] {
        assert_eq!(
            std::fs::read(run.join(name)).unwrap(),
            std::fs::read(checkpoint.join(name)).unwrap(),
            "--resume restored {name}"
        );
    }
}

#[test]
fn a_failed_png_write_keeps_the_previous_file_and_fails_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    tiny_run(&run, &[]);
    let r = run.to_str().unwrap();
    let png = tmp.path().join("r.png");
    let p = png.to_str().unwrap();
    let (ok, _, err) = lorae(&["reconstruct", r, "--out", p, "-n", "12"]);
    assert!(ok, "{err}");
    let good = std::fs::read(&png).unwrap();
    assert!(good.len() > 2048, "a grid of 12 images is over 2 KiB");
    // A disk that takes at most 1 KiB a file.
    let (ok, err) = lorae_under("ulimit -f 1", &["reconstruct", r, "--out", p, "-n", "8"]);
    assert!(!ok, "the write failed, the command must too");
    assert!(err.contains("r.png") || err.contains(".tmp"), "{err}");
    assert_eq!(
        std::fs::read(&png).unwrap(),
        good,
        "the previous PNG is intact"
    );
    // Numbered sample PNGs into a folder: none is left empty.
    let dir = tmp.path().join("samples");
    let (ok, _) = lorae_under(
        "ulimit -f 1",
        &[
            "sample",
            r,
            "--sampler",
            "gaussian",
            "-n",
            "4",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert!(!ok);
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let len = entry.metadata().unwrap().len();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(name.starts_with('.') || len > 0, "{name} is empty");
    }
    let spectrum = tmp.path().join("s.png");
    let (ok, _) = lorae_under(
        "ulimit -f 1",
        &["spectrum", r, "--plot", spectrum.to_str().unwrap()],
    );
    assert!(!ok, "a chart that cannot be written fails the command");
    assert!(!spectrum.exists() || std::fs::metadata(&spectrum).unwrap().len() > 0);
}

#[test]
fn standard_output_on_a_full_disk_is_an_error_and_a_closed_pipe_is_not() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lorae"))
        .args(["data", "info", "--dataset", "shapes", "--json"])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the printed result was lost");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("standard output"), "{err}");
    // A reader that goes away early is fine: the command's result is not lost by its choice.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lorae"))
        .args(["reproduce", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "a closed pipe is not an error");
}

#[test]
fn files_written_atomically_respect_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let (ok, err) = lorae_under(
        "umask 022",
        &[
            "train",
            "--out",
            run.to_str().unwrap(),
            "--train-size",
            "64",
            "--test-size",
            "32",
            "--epochs",
            "1",
            "--no-progress",
        ],
    );
    assert!(ok, "{err}");
    for name in ["config.json", "model.safetensors", "metrics.jsonl"] {
        let mode = std::fs::metadata(run.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o644, "{name}");
    }
}

#[test]
fn data_export_refuses_a_folder_that_is_not_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("export");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("000000.png"), b"mine").unwrap();
    fails_with(
        &[
            "data",
            "export",
            "--dataset",
            "shapes",
            "-n",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
        "is not empty",
    );
    assert_eq!(std::fs::read(out.join("000000.png")).unwrap(), b"mine");
    let fresh = tmp.path().join("fresh");
    let (ok, _, err) = lorae(&[
        "data",
        "export",
        "--dataset",
        "shapes",
        "-n",
        "3",
        "--out",
        fresh.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 3);
}

/// The current checkpoint directory of `run`.
fn checkpoint_of(run: &std::path::Path) -> std::path::PathBuf {
    run.join(std::fs::read_to_string(run.join("latest")).unwrap().trim())
}

#[test]
fn checkpoint_parts_from_elsewhere_or_edited_are_refused_and_a_failed_resume_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    tiny_run(&a, &[]);
    tiny_run(&b, &["--seed", "1"]);
    let r = a.to_str().unwrap();
    let config = std::fs::read(a.join("config.json")).unwrap();
    let ours = checkpoint_of(&a).join("optimizer.bpk");
    let saved = std::fs::read(&ours).unwrap();

    // Another run's optimizer state.
    std::fs::copy(checkpoint_of(&b).join("optimizer.bpk"), &ours).unwrap();
    fails_with(
        &[
            "train",
            "--out",
            r,
            "--resume",
            "--epochs",
            "3",
            "--no-progress",
        ],
        "optimizer.bpk`: does not belong to this checkpoint",
    );
    assert_eq!(
        std::fs::read(a.join("config.json")).unwrap(),
        config,
        "config.json unchanged"
    );

    // A truncated one.
    std::fs::write(&ours, &saved[..saved.len() / 2]).unwrap();
    fails_with(
        &[
            "train",
            "--out",
            r,
            "--resume",
            "--epochs",
            "3",
            "--no-progress",
        ],
        "does not belong to this checkpoint",
    );
    assert_eq!(
        std::fs::read(a.join("config.json")).unwrap(),
        config,
        "config.json unchanged"
    );
    std::fs::write(&ours, &saved).unwrap();

    // Metrics that are not epochs 1..N.
    let metrics = checkpoint_of(&a).join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).unwrap();
    std::fs::write(&metrics, text.replace("\"epoch\":1", "\"epoch\":7")).unwrap();
    fails_with(
        &["train", "--out", r, "--resume", "--no-progress"],
        "metrics.jsonl",
    );
    std::fs::write(&metrics, &text).unwrap();

    // A state that claims more steps than the epoch has.
    let state_path = checkpoint_of(&a).join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state["partial"] = serde_json::json!({
        "steps": 99999, "sum_total": 0.0, "sum_reconstruction": 0.0, "sum_regularizer": 0.0,
        "sum_discriminator": 0.0, "sum_generator": 0.0, "seconds": 0.0
    });
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    fails_with(
        &[
            "train",
            "--out",
            r,
            "--resume",
            "--epochs",
            "2",
            "--no-progress",
        ],
        "99999 steps",
    );
    assert_eq!(
        std::fs::read(a.join("config.json")).unwrap(),
        config,
        "config.json unchanged"
    );
}

#[test]
fn fifos_huge_images_and_the_address_space_limit_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("weights.pt");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A FIFO given as the FID weights: refused at once, not a read that waits for a writer.
    let (ok, err) = lorae_under(
        "true",
        &[
            "fid",
            "dataset:shapes:test",
            "dataset:shapes:train",
            "--limit",
            "10",
            "--weights",
            fifo.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("not a regular file"), "{err}");
    // CelebA whose partition file is a FIFO.
    let celeba = tmp.path().join("celeba");
    std::fs::create_dir_all(celeba.join("img_align_celeba")).unwrap();
    assert!(Command::new("mkfifo")
        .arg(celeba.join("list_eval_partition.txt"))
        .status()
        .unwrap()
        .success());
    let (ok, err) = lorae_under(
        "true",
        &[
            "data",
            "info",
            "--dataset",
            "celeba",
            "--data-dir",
            celeba.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("not a regular file"), "{err}");
    // An image wider than lorae decodes (checked from its header, before decoding).
    let wide = tmp.path().join("wide");
    std::fs::create_dir_all(&wide).unwrap();
    for i in 0..2 {
        image::RgbImage::new(9000, 1)
            .save(wide.join(format!("{i}.png")))
            .unwrap();
    }
    let w = wide.to_str().unwrap();
    let (ok, err) = lorae_under("true", &["fid", w, w]);
    assert!(!ok && err.contains("8192"), "{err}");
    // `ulimit -v` bounds memory as available memory does: a size beyond it names the flag.
    let run = tmp.path().join("run");
    let (ok, err) = lorae_under(
        "ulimit -v 4000000",
        &[
            "train",
            "--layers",
            "600000",
            "--epochs",
            "1",
            "--no-progress",
            "--out",
            run.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && err.contains("layers") && err.contains("ulimit -v"),
        "{err}"
    );
    assert!(!run.exists());
}

#[test]
fn messages_point_at_the_flag_that_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let r = run.to_str().unwrap();
    let tiny = [
        "--train-size",
        "64",
        "--test-size",
        "32",
        "--epochs",
        "1",
        "--no-progress",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["train", "--out", r];
        args.extend(tiny);
        args.extend(extra);
        args
    };
    // A negative learning rate reaches the validation, not clap's flag parser.
    fails_with(&with(&["--lr", "-1e-3"]), "lr");
    fails_with(
        &with(&["--image-size", "7"]),
        "applies to --dataset folder only",
    );
    fails_with(
        &with(&["--model", "ae", "--rae-reg", "gp"]),
        "applies to --model rae only",
    );
    fails_with(
        &with(&["--model", "ae", "--vae-loss", "bce"]),
        "applies to --model vae only",
    );
    assert!(!run.exists(), "nothing written");
    tiny_run(&run, &[]);
    let dir = tmp.path().join("pngs");
    std::fs::create_dir_all(&dir).unwrap();
    fails_with(
        &["reconstruct", r, "--out", dir.to_str().unwrap()],
        "is a directory: give a file name ending in .png",
    );
}

#[test]
fn bench_flags_are_validated_like_trains() {
    fails_with(
        &["bench", "step", "--batch-size", "100000000", "--no-peer"],
        "invalid value for `batch-size`: 100000000",
    );
    fails_with(
        &["bench", "epoch", "--batch-size", "100000000", "--no-peer"],
        "must be at least the batch size (100000000)",
    );
    fails_with(
        &[
            "bench",
            "gmm",
            "-n",
            "1000000000",
            "--dim",
            "100000",
            "--no-peer",
        ],
        "invalid value for `n`: 1000000000 (needs about",
    );
}

/// Replaces the current checkpoint's weights by `scale` times themselves, keeping `state.json`'s
/// digest in step (as a run that really had such weights would have it).
/// Multiplies the checkpoint's tensors whose names start with `prefix` by `scale`, keeping the
/// digest in step (so the load's integrity check passes and the numbers are what is tested).
fn scale_weights(run: &std::path::Path, prefix: &str, scale: f32) {
    let dir = checkpoint_of(run);
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let by = if name.starts_with(prefix) { scale } else { 1.0 };
            let data: Vec<u8> = view
                .data()
                .chunks_exact(4)
                .flat_map(|b| (f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * by).to_le_bytes())
                .collect();
            (name, view.shape().to_vec(), data)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, s, d)| {
            let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d);
            (n.clone(), v.unwrap())
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    let sum = Command::new("sha256sum").arg(&path).output().unwrap();
    let hex = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let state_path = dir.join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state["digests"]["model"] = serde_json::Value::String(hex);
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
}

#[test]
fn weights_that_overflow_or_vanish_and_extreme_values_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (big, zero) = (tmp.path().join("big"), tmp.path().join("zero"));
    tiny_run(&big, &[]);
    tiny_run(&zero, &[]);
    let (b, z) = (big.to_str().unwrap(), zero.to_str().unwrap());
    fails_with(&["pca-grid", b, "--extent", "1e300"], "at most 100");
    scale_weights(&big, "", 1e30);
    fails_with(
        &["pca-grid", b],
        &format!("run {b}: the model's codes hold"),
    );
    // Only the decoder's last layer overflows: finite codes, every pixel pinned at 0 or 1.
    let pinned = tmp.path().join("pinned");
    tiny_run(&pinned, &[]);
    scale_weights(&pinned, "decoder.deconvs.4", 1e30);
    let p = pinned.to_str().unwrap();
    fails_with(&["pca-grid", p], &format!("run {p}: every decoded pixel"));
    let png = tmp.path().join("samples.png");
    fails_with(
        &[
            "sample",
            p,
            "--sampler",
            "gaussian",
            "--out",
            png.to_str().unwrap(),
        ],
        "the decoder is saturated",
    );
    assert!(!png.exists());
    scale_weights(&zero, "", 0.0);
    fails_with(&["pca-grid", z], "do not vary");
    // MNIST labels above 9.
    let data = tmp.path().join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    let fixture = crate::official::fixture_dir();
    for name in [
        "train-images-idx3-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(fixture.join(name), data.join(name)).unwrap();
    }
    let mut labels = vec![0, 0, 8, 1, 0, 0, 2, 128];
    labels.extend((0..640u32).map(|i| if i == 5 { 255u8 } else { (i % 10) as u8 }));
    labels[4..8].copy_from_slice(&640u32.to_be_bytes());
    std::fs::write(data.join("train-labels-idx1-ubyte"), &labels).unwrap();
    fails_with(
        &[
            "data",
            "info",
            "--dataset",
            "mnist",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        "label 255 at item 5 is not a digit class",
    );
}

#[test]
fn a_run_started_with_init_resumes_without_its_init_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    tiny_run(&a, &[]);
    tiny_run(&b, &["--init", a.to_str().unwrap()]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("config.json")).unwrap()).unwrap();
    assert!(
        std::path::Path::new(config["train"]["init"].as_str().unwrap()).is_absolute(),
        "--init is recorded as an absolute path"
    );
    std::fs::remove_dir_all(&a).unwrap();
    let r = b.to_str().unwrap();
    let (ok, _, err) = lorae(&[
        "train",
        "--out",
        r,
        "--resume",
        "--epochs",
        "2",
        "--no-progress",
    ]);
    assert!(ok, "the checkpoint holds the weights: {err}");
    // A flag the run never had is a contradiction, not ignored.
    let c = tmp.path().join("c");
    tiny_run(&c, &[]);
    let c = c.to_str().unwrap();
    fails_with(
        &[
            "train",
            "--out",
            c,
            "--resume",
            "--init",
            r,
            "--no-progress",
        ],
        "train.init: the run has none",
    );
}

#[test]
fn init_from_a_run_that_computes_another_function_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    tiny_run(&a, &[]);
    let b = tmp.path().join("b");
    fails_with(
        &[
            "train",
            "--out",
            b.to_str().unwrap(),
            "--train-size",
            "400",
            "--test-size",
            "120",
            "--epochs",
            "1",
            "--no-progress",
            "--pixel-range",
            "pm1",
            "--init",
            a.to_str().unwrap(),
        ],
        "differs from this one in --pixel-range",
    );
    assert!(!b.exists());
}

#[test]
fn celeba_whose_partition_file_lists_no_test_images_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let celeba = tmp.path().join("celeba");
    std::fs::create_dir_all(celeba.join("img_align_celeba")).unwrap();
    for name in ["000001.jpg", "000002.jpg"] {
        image::RgbImage::from_pixel(178, 218, image::Rgb([90, 120, 200]))
            .save(celeba.join("img_align_celeba").join(name))
            .unwrap();
    }
    std::fs::write(
        celeba.join("list_eval_partition.txt"),
        "000001.jpg 0\n000002.jpg 0\n",
    )
    .unwrap();
    let run = tmp.path().join("run");
    let (ok, _, err) = lorae(&[
        "train",
        "--dataset",
        "celeba",
        "--data-dir",
        celeba.to_str().unwrap(),
        "--epochs",
        "1",
        "--no-progress",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("list_eval_partition.txt") && err.contains("lists no test images"),
        "{err}"
    );
}

/// Every file in `dir` decodes as a PNG (none empty or cut short).
fn all_whole_pngs(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            image::load_from_memory(&bytes).is_ok(),
            "{name} ({} bytes) is not a whole PNG",
            bytes.len()
        );
        n += 1;
    }
    n
}

#[test]
fn png_outputs_and_exports_under_seeded_disk_limits_are_whole_or_fail() {
    use rand::{Rng, SeedableRng};
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    tiny_run(&run, &[]);
    let r = run.to_str().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (mut failed, mut passed) = (0, 0);
    for case in 0..12 {
        // A file-size limit between 1 and 48 blocks: some writes fit, some stop part-way.
        let limit = rng.random_range(1..48);
        let setup = format!("ulimit -f {limit}");
        let png = tmp.path().join(format!("r{case}.png"));
        let p = png.to_str().unwrap();
        let n = rng.random_range(1..16).to_string();
        let (ok, _, err) = lorae(&["reconstruct", r, "--out", p, "-n", "4"]);
        assert!(ok, "{err}");
        let before = std::fs::read(&png).unwrap();
        let (ok, err) = lorae_under(&setup, &["reconstruct", r, "--out", p, "-n", &n]);
        let after = std::fs::read(&png).unwrap();
        if ok {
            passed += 1;
            assert!(image::load_from_memory(&after).is_ok(), "case {case}");
        } else {
            failed += 1;
            assert!(err.contains(&format!("r{case}.png")), "case {case}: {err}");
            assert_eq!(after, before, "case {case}: the previous PNG is intact");
        }
        // An export: whole files, and a failure is a failure (never rc 0 with fewer files).
        let out = tmp.path().join(format!("export{case}"));
        let count = rng.random_range(1..40);
        let (ok, err) = lorae_under(
            &setup,
            &[
                "data",
                "export",
                "--dataset",
                "shapes",
                "-n",
                &count.to_string(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let written = all_whole_pngs(&out);
        if ok {
            assert_eq!(written, count, "case {case}: {err}");
        } else {
            assert!(written < count, "case {case}: {err}");
            assert!(err.contains(out.to_str().unwrap()), "case {case}: {err}");
        }
    }
    assert!(failed > 0 && passed > 0, "{failed} failed, {passed} passed");
}
