//! The command line: bad input gives a one-line error and a non-zero exit; a tiny run works.

use crate::common::{fails_with, lorae};

#[test]
fn bad_input_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    fails_with(
        &["train", "--model", "gpt", "--out", out],
        "unknown model `gpt`",
    );
    fails_with(
        &["train", "--dataset", "imagenet", "--out", out],
        "unknown dataset `imagenet`",
    );
    fails_with(
        &["train", "--model", "lorae", "--lambda", "0", "--out", out],
        "lambda",
    );
    fails_with(
        &["train", "--model", "lorae", "--lambda", "-1", "--out", out],
        "lambda",
    );
    fails_with(
        &["train", "--model", "irmae", "--layers", "0", "--out", out],
        "layers",
    );
    fails_with(
        &["train", "--pixel-range", "0255", "--out", out],
        "unknown pixel range",
    );
    fails_with(
        &["train", "--device", "tpu", "--out", out],
        "unknown device",
    );
    // A build without the wgpu feature says how to get one.
    #[cfg(not(feature = "wgpu"))]
    fails_with(
        &[
            "train",
            "--device",
            "wgpu",
            "--epochs",
            "1",
            "--train-size",
            "32",
            "--out",
            out,
        ],
        "built without GPU support: rebuild with `cargo build --release --features wgpu`",
    );
    #[cfg(not(feature = "wgpu"))]
    assert!(!std::path::Path::new(out).exists(), "nothing is written");
    // An output directory that cannot be created (a regular file is in the way).
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let under = blocker.join("run");
    fails_with(
        &[
            "train",
            "--train-size",
            "32",
            "--test-size",
            "8",
            "--epochs",
            "1",
            "--out",
            under.to_str().unwrap(),
        ],
        "cannot create run directory",
    );
    fails_with(
        &["reconstruct", dir.path().join("nothing").to_str().unwrap()],
        "config.json",
    );
}

#[test]
fn train_then_reconstruct_a_tiny_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let (ok, stdout, err) = lorae(&[
        "train",
        "--model",
        "irmae",
        "--layers",
        "2",
        "--dataset",
        "shapes",
        "--epochs",
        "1",
        "--train-size",
        "64",
        "--test-size",
        "16",
        "--batch-size",
        "16",
        "--out",
        run_s,
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains(run_s));
    for file in ["config.json", "metrics.jsonl", "model.safetensors"] {
        assert!(run.join(file).exists(), "{file}");
    }
    let png = dir.path().join("rec.png");
    let (ok, stdout, err) = lorae(&[
        "reconstruct",
        run_s,
        "-n",
        "4",
        "--out",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let said: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(said["out"].as_str(), png.to_str(), "{said}");
    assert_eq!(said["n"], 4, "{said}");
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (4 * 34 + 2, 2 * 34 + 2));
    // The spectrum of the run's evaluation codes, as JSON.
    let (ok, stdout, err) = lorae(&["spectrum", run_s, "--json", "--threshold", "0.05"]);
    assert!(ok, "{err}");
    let spec: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let values = spec["singular_values"].as_array().unwrap();
    assert_eq!(values.len(), 32);
    assert_eq!(values[0].as_f64(), Some(1.0));
    let above = values.iter().filter(|v| v.as_f64().unwrap() > 0.05).count();
    assert_eq!(spec["effective_rank"].as_u64(), Some(above as u64));
    assert_eq!(spec["threshold"].as_f64(), Some(0.05));
    // Two runs overlaid in one spectrum plot.
    let plot = dir.path().join("spectrum.png");
    let (ok, _, err) = lorae(&["spectrum", run_s, run_s, "--plot", plot.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(image::open(&plot).unwrap().width(), 800);
    // Interpolation strips: a row per pair, the originals at both ends.
    let strip = dir.path().join("interp.png");
    let (ok, _, err) = lorae(&[
        "interpolate",
        run_s,
        "--pairs",
        "3",
        "--steps",
        "5",
        "--out",
        strip.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let img = image::open(&strip).unwrap();
    assert_eq!((img.width(), img.height()), (7 * 34 + 2, 3 * 34 + 2));
    fails_with(
        &["interpolate", run_s, "--pairs", "9"],
        "needs 18 evaluation images",
    );
    // PCA grid.
    let pca = dir.path().join("pca.png");
    let (ok, _, err) = lorae(&[
        "pca-grid",
        run_s,
        "--size",
        "4",
        "--out",
        pca.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::open(&pca).unwrap().height(), 4 * 34 + 2);
    fails_with(
        &["pca-grid", run_s, "--extent", "-1"],
        "invalid value for `extent`",
    );
    // Samplers fitted to the codes, decoded to a grid and to numbered files.
    let grid = dir.path().join("gauss.png");
    let (ok, _, err) = lorae(&[
        "sample",
        run_s,
        "--sampler",
        "gaussian",
        "-n",
        "4",
        "--out",
        grid.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::open(&grid).unwrap().width(), 2 * 34 + 2);
    let files = dir.path().join("gmm");
    let (ok, stdout, err) = lorae(&[
        "sample",
        run_s,
        "--sampler",
        "gmm",
        "-k",
        "2",
        "-n",
        "3",
        "--out",
        files.to_str().unwrap(),
        "--fit-on",
        "test",
        "--json",
    ]);
    assert!(ok, "{err}");
    let said: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(said["out"].as_str(), files.to_str(), "{said}");
    assert_eq!(
        (said["sampler"].as_str(), said["fit_on"].as_str()),
        (Some("gmm"), Some("test"))
    );
    assert!(err.contains("codes of the test split"), "{err}");
    assert_eq!(std::fs::read_dir(&files).unwrap().count(), 3);
    assert_eq!(image::open(files.join("000002.png")).unwrap().width(), 32);
    fails_with(&["sample", run_s, "--sampler", "prior"], "VAE");
    fails_with(&["sample", run_s, "--sampler", "flow"], "unknown sampler");
    fails_with(
        &["sample", run_s, "--fit-on", "eval"],
        "unknown split `eval`",
    );
    fails_with(
        &["sample", run_s, "--fit-limit", "0"],
        "invalid value for `fit-limit`: 0",
    );
    // Typed flags list their values in --help.
    let (ok, help, _) = lorae(&["sample", "--help"]);
    assert!(ok);
    assert!(
        help.contains("[possible values: gaussian, gmm, prior]"),
        "{help}"
    );
    // Resume to 2 epochs continues the count.
    let (ok, _, err) = lorae(&[
        "train",
        "--out",
        run_s,
        "--resume",
        "--epochs",
        "2",
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    let log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
}

/// Writes a tiny MNIST-format directory (raw IDX): `n` training and `n` test digits.
fn write_tiny_mnist(dir: &std::path::Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for prefix in ["train", "t10k"] {
        let mut images = vec![0, 0, 8, 3];
        for d in [n as u32, 28, 28] {
            images.extend(d.to_be_bytes());
        }
        images.extend((0..n * 784).map(|i| ((i * 37) % 251) as u8));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend((n as u32).to_be_bytes());
        labels.extend((0..n).map(|i| (i % 10) as u8));
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}

#[test]
fn data_info_and_training_on_an_idx_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mnist");
    write_tiny_mnist(&data, 40);
    let data_s = data.to_str().unwrap();
    let (ok, stdout, err) = lorae(&[
        "data",
        "info",
        "--dataset",
        "mnist",
        "--data-dir",
        data_s,
        "--json",
    ]);
    assert!(ok, "{err}");
    let info: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(info["train_count"].as_u64(), Some(40));
    assert_eq!(info["test_count"].as_u64(), Some(40));
    assert_eq!(info["label_counts"].as_array().unwrap().len(), 10);
    assert_eq!(info["label_counts"][0].as_u64(), Some(4));
    // Mean of ((i·37) mod 251) / 255 over the pixels, computed here independently.
    let n = 40 * 784;
    let mean = (0..n).map(|i| ((i * 37) % 251) as f64 / 255.0).sum::<f64>() / n as f64;
    assert!((info["pixel_mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    let run = dir.path().join("run");
    let (ok, _, err) = lorae(&[
        "train",
        "--model",
        "irmae",
        "--dataset",
        "mnist",
        "--data-dir",
        data_s,
        "--latent-dim",
        "8",
        "--layers",
        "2",
        "--epochs",
        "1",
        "--batch-size",
        "20",
        "--out",
        run.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["data"]["pixel_range"], "01");
    assert_eq!(
        config["data"]["train_size"].as_u64(),
        Some(60_000),
        "a limit, not a count"
    );
    // Bad data: a missing directory, and a label file that disagrees with the images.
    let missing = dir.path().join("nothing");
    fails_with(
        &[
            "data",
            "info",
            "--dataset",
            "mnist",
            "--data-dir",
            missing.to_str().unwrap(),
        ],
        "nothing",
    );
    std::fs::write(
        data.join("t10k-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 1, 3],
    )
    .unwrap();
    fails_with(
        &[
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            data_s,
            "--out",
            dir.path().join("run2").to_str().unwrap(),
        ],
        "1 labels for 40 images",
    );
    assert!(
        !dir.path().join("run2").exists(),
        "a failed load leaves no run directory"
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "folder",
            "--out",
            run.to_str().unwrap(),
        ],
        "--data-dir",
    );
}

#[test]
fn baselines_train_and_a_gan_samples_its_prior() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = [
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
        "--no-progress",
    ];
    for (name, extra) in [
        ("rae-l2", vec!["--model", "rae"]),
        ("rae-gp", vec!["--model", "rae", "--rae-reg", "gp"]),
        ("wae", vec!["--model", "wae"]),
        ("gan", vec!["--model", "gan"]),
    ] {
        let run = dir.path().join(name);
        let mut args = vec!["train", "--out", run.to_str().unwrap()];
        args.extend(extra);
        args.extend(tiny);
        let (ok, stdout, err) = lorae(&args);
        assert!(ok, "{name}: {err}");
        assert!(stdout.contains("done:"), "{name}: {stdout}");
    }
    let gan = dir.path().join("gan");
    let gan_s = gan.to_str().unwrap();
    let log = std::fs::read_to_string(gan.join("metrics.jsonl")).unwrap();
    let m: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert!(m["discriminator_loss"].as_f64().unwrap() > 0.0);
    assert!(m["eval_mse"].is_null());
    let grid = dir.path().join("gan.png");
    let (ok, _, err) = lorae(&[
        "sample",
        gan_s,
        "--sampler",
        "prior",
        "-n",
        "4",
        "--out",
        grid.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(image::open(&grid).unwrap().width(), 2 * 34 + 2);
    fails_with(&["spectrum", gan_s], "GAN run");
    fails_with(&["sample", gan_s, "--sampler", "gmm"], "GAN run");
    fails_with(
        &[
            "train",
            "--model",
            "rae",
            "--rae-reg",
            "sn",
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ],
        "unknown RAE regulariser `sn`",
    );
    let rae = dir.path().join("rae-gp");
    let (ok, _, err) = lorae(&[
        "sample",
        rae.to_str().unwrap(),
        "--sampler",
        "gmm",
        "-k",
        "2",
        "-n",
        "4",
        "--out",
        dir.path().join("r.png").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
}

#[test]
fn data_export_writes_the_split_as_lorae_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mnist");
    write_tiny_mnist(&data, 12);
    let out = dir.path().join("png");
    let (data_s, out_s) = (data.to_str().unwrap(), out.to_str().unwrap());
    let args = ["data", "export", "--dataset", "mnist", "--data-dir", data_s];
    let (ok, stdout, err) = lorae(&[&args[..], &["-n", "5", "--out", out_s]].concat());
    assert!(ok, "{err}");
    assert!(stdout.contains("wrote 5 mnist test images"), "{stdout}");
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 5);
    // The PNGs hold exactly the pixels lorae loads: the 28×28 digits resized to 32×32.
    let mut config =
        lorae::RunConfig::for_dataset(lorae::ModelKind::Ae, lorae::DatasetKind::Mnist).data;
    config.data_dir = Some(data.clone());
    let set = lorae::data::load_split(&config, 0, lorae::data::Split::Test, Some(5)).unwrap();
    assert_eq!(set.len(), 5);
    for (i, file) in files.iter().enumerate() {
        let img = image::open(file).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (32, 32));
        for (p, px) in img.pixels().enumerate() {
            let want = set.pixels[i * 1024 + p];
            assert_eq!(px.0, [want; 3], "{} pixel {p}", file.display());
        }
    }
    fails_with(
        &[&args[..], &["--split", "val", "--out", out_s]].concat(),
        "unknown split `val`: expected one of train, test",
    );
    fails_with(
        &[&args[..], &["-n", "0", "--out", out_s]].concat(),
        "-n must be at least 1",
    );
}

#[test]
fn bench_times_steps_and_reads_the_peer_report() {
    let dir = tempfile::tempdir().unwrap();
    let quick = [
        "--threads",
        "1",
        "bench",
        "step",
        "--model",
        "ae",
        "--dataset",
        "shapes",
        "--batch-size",
        "2",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--rounds",
        "2",
    ];
    let (ok, stdout, err) = lorae(&[&quick[..], &["--no-peer"]].concat());
    assert!(ok, "{err}");
    assert_eq!(err.matches("round ").count(), 2, "{err}");
    let last = stdout.trim().lines().last().unwrap();
    assert!(
        last.starts_with("ae batch=2: lorae ") && last.ends_with(" ms/step"),
        "{last}"
    );
    // A stand-in peer that reports 2 steps of 1000 ms each: the ratio is lorae's ms / 1000.
    let peer = dir.path().join("peer.sh");
    std::fs::write(
        &peer,
        "#!/bin/sh\necho 'stand-in peer'\necho '{\"median_ms\": 1000.0, \"times_ms\": [1000.0, 1000.0]}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&peer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (ok, stdout, err) = lorae(&[&quick[..], &["--peer", peer.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let last = stdout.trim().lines().last().unwrap();
    let fields: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(fields[..3], ["ae", "batch=2:", "lorae"], "{last}");
    assert!(last.contains("pytorch 1000.0 ms/step, ratio "), "{last}");
    let ms: f64 = fields[3].parse().unwrap();
    let ratio: f64 = fields.last().unwrap().parse().unwrap();
    assert!((ratio - ms / 1000.0).abs() < 0.006, "{last}");
    // --json: one object with both medians and their ratio.
    let (ok, stdout, err) =
        lorae(&[&quick[..], &["--peer", peer.to_str().unwrap(), "--json"]].concat());
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["pytorch_ms"], 1000.0, "{report}");
    let ratio = report["ratio"].as_f64().unwrap();
    let ms = report["lorae_ms"].as_f64().unwrap();
    assert!((ratio - ms / 1000.0).abs() < 1e-9, "{report}");
    assert_eq!(report["rounds"].as_array().unwrap().len(), 2, "{report}");
    let missing = dir.path().join("no-python");
    fails_with(
        &[&quick[..], &["--peer", missing.to_str().unwrap()]].concat(),
        "cannot run the peer",
    );
    fails_with(
        &["bench", "step", "--rounds", "0", "--no-peer"],
        "invalid value for `rounds`: 0",
    );
    fails_with(
        &["--threads", "0", "bench", "step", "--no-peer"],
        "--threads must be between 1 and 4096",
    );
}

#[test]
fn bench_epoch_times_a_training_epoch_and_reads_the_peer_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mnist");
    write_tiny_mnist(&data, 40);
    let quick = [
        "--threads",
        "1",
        "bench",
        "epoch",
        "--data-dir",
        data.to_str().unwrap(),
        "--layers",
        "2",
        "--batch-size",
        "8",
        "--train-size",
        "24",
        "--test-size",
        "16",
        "--rounds",
        "2",
    ];
    // A stand-in peer: its epoch took 1000 s, so the ratio is lorae's seconds / 1000, with a
    // median step of 50 ms inside it; as the step peer (no --epoch) it reports 70 ms, which the
    // peer check finds 1.4 times too slow. It is handed the benchmark's sizes and the data
    // folder, and glibc's allocator tuned (peer::ALLOCATOR_ENV) (it fails otherwise).
    let peer = dir.path().join("peer.sh");
    std::fs::write(
        &peer,
        format!(
            "#!/bin/sh\n[ \"$MALLOC_MMAP_THRESHOLD_\" = 33554432 ] && [ \"$MALLOC_MMAP_MAX_\" = 0 ] || {{ echo 'glibc allocator not tuned' >&2; exit 5; }}\ncase \"$*\" in\n*'--epoch {} --layout mnist '*'--batch 8 --train-size 24 --test-size 16 '*'--layers 2'*) echo 'stand-in peer'; echo '{{\"epoch_s\": 1000.0, \"step_median_ms\": 50.0}}';;\n*'--layout mnist '*'--batch 8 --steps 3 '*'--layers 2'*) echo '{{\"median_ms\": 70.0}}';;\n*) echo \"bad args: $*\" >&2; exit 3;;\nesac\n",
            data.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&peer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (ok, stdout, err) = lorae(
        &[
            &quick[..],
            &[
                "--check-steps",
                "3",
                "--peer",
                peer.to_str().unwrap(),
                "--json",
            ],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["pytorch_s"], 1000.0, "{report}");
    assert_eq!(report["peer_step_ratio"], 1.4, "{report}");
    assert_eq!(report["peers_agree"], false, "{report}");
    let (ours, ratio) = (
        report["lorae_s"].as_f64().unwrap(),
        report["ratio"].as_f64().unwrap(),
    );
    assert!(
        ours > 0.0 && (ratio - ours / 1000.0).abs() < 1e-12,
        "{report}"
    );
    let (ok, _, err) = lorae(
        &[
            &quick[..],
            &["--check-steps", "3", "--peer", peer.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("peer check: pytorch's step peer / its steps inside the epoch = 1.40: DISAGREE by more than 10 %"),
        "{err}"
    );
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{report}");
    for round in rounds {
        assert!(
            round["lorae_eval_mse"].as_f64().unwrap().is_finite(),
            "{round}"
        );
        assert!(round["lorae_call_s"].as_f64().unwrap() >= round["lorae_s"].as_f64().unwrap());
    }
    let (ok, stdout, err) = lorae(&[&quick[..], &["--no-peer"]].concat());
    assert!(ok, "{err}");
    let last = stdout.trim().lines().last().unwrap();
    assert!(
        last.starts_with("mnist epoch (irmae l=2, batch 8, 24 training + 16 evaluation images, 1 threads): lorae ")
            && last.ends_with(" s"),
        "{last}"
    );
    // The CelebA layout on its own synthetic folder: the peer is handed the folder, whose
    // upscaled images it can read.
    let celeba_peer = dir.path().join("celeba-peer.sh");
    std::fs::write(
        &celeba_peer,
        "#!/bin/sh\ncase \"$*\" in\n*'--epoch '*' --layout celeba '*'--batch 2 --train-size 18 --test-size 2 '*'--layers 4'*) ls \"$3\"/images/000019.png >/dev/null || exit 4; echo '{\"epoch_s\": 1000.0, \"step_median_ms\": 50.0}';;\n*) echo \"bad args: $*\" >&2; exit 3;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &celeba_peer,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let celeba = [
        "--threads",
        "1",
        "bench",
        "epoch",
        "--layout",
        "celeba",
        "--batch-size",
        "2",
        "--train-size",
        "18",
        "--test-size",
        "2",
        "--rounds",
        "1",
        "--check-steps",
        "0",
    ];
    let (ok, stdout, err) = lorae(
        &[
            &celeba[..],
            &["--peer", celeba_peer.to_str().unwrap(), "--json"],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["layout"], "celeba", "{report}");
    assert_eq!(report["layers"], 4, "{report}");
    assert!(
        report["rounds"][0]["lorae_eval_mse"]
            .as_f64()
            .unwrap()
            .is_finite(),
        "{report}"
    );
    assert_eq!(report["peers_agree"], serde_json::Value::Null, "{report}");
    fails_with(
        &[&quick[..], &["--no-peer", "--model", "vae"]].concat(),
        "invalid value for `model`: vae",
    );
    let missing = dir.path().join("absent");
    fails_with(
        &[
            "bench",
            "epoch",
            "--no-peer",
            "--data-dir",
            missing.to_str().unwrap(),
        ],
        "absent",
    );
}

/// The defaults `lorae train --help` states are the config's (`RunConfig::for_dataset`): the
/// help repeats them in words, and this keeps the two from drifting apart.
#[test]
fn train_help_states_the_configs_defaults() {
    use lorae::config::{DatasetKind as D, ModelKind as M, RunConfig};
    let (ok, help, _) = lorae(&["train", "--help"]);
    assert!(ok);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let c = |m: M, d: D| RunConfig::for_dataset(m, d);
    let (shapes, mnist, celeba) = (
        c(M::Irmae, D::Shapes),
        c(M::Irmae, D::Mnist),
        c(M::Irmae, D::Celeba),
    );
    let g = |v: f64| format!("{v:e}").replace("e0", "").replace(".0e", "e");
    let want = [
        format!("[default: {}]", shapes.train.batch_size),
        format!("Adam learning rate [default: {}]", g(shapes.train.lr)),
        format!("shuffling [default: {}]", shapes.seed),
        format!("above this [default: {}]", g(shapes.eval.rank_threshold)),
        format!("or pm1 [default: {}]", shapes.data.pixel_range),
        format!(
            "[default: shapes {}, mnist {}, celeba {}]",
            shapes.model.layers, mnist.model.layers, celeba.model.layers
        ),
        format!(
            "[default: shapes {}, mnist {}, celeba {}]",
            shapes.model.latent_dim, mnist.model.latent_dim, celeba.model.latent_dim
        ),
        format!(
            "[default: shapes {}, mnist {}, celeba {} (paper)]",
            shapes.train.epochs, mnist.train.epochs, celeba.train.epochs
        ),
        format!(
            "[default: lorae {} (‖M‖*), rae {} (decoder term), wae {} (MMD)]",
            g(c(M::Lorae, D::Shapes).model.lambda),
            g(c(M::Rae, D::Shapes).model.lambda),
            c(M::Wae, D::Shapes).model.lambda
        ),
        format!(
            "[default: vae {} (KL), rae {} (½‖z‖²), ae-l1 / ae-l2 {}",
            c(M::Vae, D::Shapes).model.beta,
            g(c(M::Rae, D::Shapes).model.beta),
            c(M::AeL1, D::Shapes).model.beta
        ),
        format!("[default: {}]", c(M::Vae, D::Shapes).model.vae_loss),
        format!("[default: {}]", shapes.model.init_scale),
    ];
    for w in &want {
        assert!(
            help.contains(w.as_str()),
            "`lorae train --help` lacks `{w}`:\n{help}"
        );
    }
}

#[test]
fn the_checked_in_cli_reference_is_current() {
    let (ok, out, err) = lorae(&["markdown-help"]);
    assert!(ok, "{err}");
    assert!(out.contains("## `lorae train`") && out.contains("## `lorae bench fid`"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md");
    let file = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        file == out,
        "docs/cli.md is stale (or missing): regenerate it with \
         `cargo run --release -p lorae-cli -- markdown-help > docs/cli.md`"
    );
}
