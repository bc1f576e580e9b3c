//! `lorae classify`, `lorae entropy`, `lorae theory` and `lorae tsne` on tiny shapes runs, and their
//! bad inputs.

use crate::common::{fails_with, lorae, tiny_run};

#[test]
fn classify_theory_and_tsne_on_tiny_runs() {
    let dir = tempfile::tempdir().unwrap();
    let low = dir.path().join("lorae-low");
    let high = dir.path().join("lorae-high");
    let ae = dir.path().join("ae");
    tiny_run(&low, &["--model", "lorae", "--lambda", "1e-5"]);
    tiny_run(&high, &["--model", "lorae", "--lambda", "1e-1"]);
    tiny_run(&ae, &["--model", "ae"]);
    let (low_s, high_s, ae_s) = (
        low.to_str().unwrap(),
        high.to_str().unwrap(),
        ae.to_str().unwrap(),
    );

    // classify: one JSON object per label count, with the documented fields.
    for protocol in ["honest", "paper"] {
        let (ok, out, err) = lorae(&[
            "classify",
            low_s,
            "--labels",
            "10,all",
            "--seeds",
            "2",
            "--validation",
            "100",
            "--min-steps",
            "50",
            "--epochs",
            "5",
            "--protocol",
            protocol,
            "--json",
        ]);
        assert!(ok, "{err}");
        assert!(err.contains(&format!("protocol {protocol}")), "{err}");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["labels"], 10);
        let all = if protocol == "honest" { 300 } else { 400 };
        assert_eq!(lines[1]["labels"], all);
        for l in &lines {
            assert_eq!(l["protocol"], protocol);
            assert_eq!(l["codes"], "encoder");
            assert_eq!(l["errors"].as_array().unwrap().len(), 2);
            let e = l["error_mean"].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&e), "{l}");
            assert!(l["error_std"].as_f64().unwrap() >= 0.0);
        }
    }
    let (ok, out, err) = lorae(&[
        "classify",
        ae_s,
        "--labels",
        "20",
        "--seeds",
        "1",
        "--codes",
        "chain",
        "--validation",
        "100",
        "--min-steps",
        "20",
        "--epochs",
        "2",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("labels 20: test error"), "{out}");
    fails_with(
        &["classify", low_s, "--labels", "301", "--validation", "100"],
        "at most 300",
    );
    fails_with(
        &["classify", low_s, "--labels", "ten"],
        "`ten` is not a count",
    );
    fails_with(
        &["classify", low_s, "--protocol", "cheat"],
        "unknown protocol `cheat`",
    );
    fails_with(
        &["classify", low_s, "--codes", "decoder"],
        "unknown code source",
    );
    fails_with(
        &["classify", "--supervised"],
        "--supervised needs --dataset",
    );
    fails_with(&["classify"], "give a run directory");

    // theory rank-lambda: two λ give a slope; one run or equal λ are errors.
    let plot = dir.path().join("rank.png");
    let (ok, out, err) = lorae(&[
        "theory",
        "rank-lambda",
        low_s,
        high_s,
        "--json",
        "--threshold",
        "1e-3",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    if ok {
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["points"].as_array().unwrap().len(), 2);
        assert!(v["fit"]["slope"].as_f64().unwrap().is_finite());
        assert!(plot.exists());
    } else {
        // Both runs may sit at rank 1 or share a rank; then the error says why.
        assert!(
            err.contains("at least two runs") || err.contains("same λ"),
            "{err}"
        );
    }
    fails_with(&["theory", "rank-lambda", low_s], "two or more λ");
    fails_with(&["theory", "rank-lambda", low_s, ae_s], "needs LoRAE runs");
    fails_with(
        &["theory", "rank-lambda", low_s, low_s, "--threshold", "1e-9"],
        "same λ",
    );
    fails_with(
        &["theory", "rank-lambda", low_s, high_s, "--threshold", "2"],
        "threshold",
    );

    // spectrum: a threshold outside [1e-12, 1) is refused (1e-300 once counted rounding noise).
    for t in ["2", "0", "NaN", "1e-300"] {
        fails_with(
            &["spectrum", low_s, "--threshold", t],
            "invalid value for `threshold`",
        );
    }

    // theory minmax: LoRAE reports rank(M); an AE has none.
    let (ok, out, err) = lorae(&["theory", "minmax", low_s, ae_s, "--queries", "50", "--json"]);
    assert!(ok, "{err}");
    let runs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs[0]["queries"], 50);
    assert!(runs[0]["rank_m"].as_u64().unwrap() >= 1);
    assert!(runs[1]["rank_m"].is_null());
    assert!(runs[1]["min"].as_f64().unwrap() > 0.0);

    // theory convergence: a plot and one line per epoch.
    let (ok, out, err) = lorae(&["theory", "convergence", low_s, "--json"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1);
    assert!(low.join("convergence.png").exists());

    // tsne: a PNG of real codes and samples.
    let png = dir.path().join("t.png");
    let (ok, stdout, err) = lorae(&[
        "tsne",
        low_s,
        "-n",
        "100",
        "-k",
        "2",
        "--iterations",
        "250",
        "--out",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    assert!(png.exists());
    let said: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(said["real"].as_array().unwrap().len(), 100);
    assert_eq!(said["samples"].as_array().unwrap().len(), 100);
    // Shapes codes are labelled circle / square: every real point carries its class.
    assert!(
        said["real"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p[2].is_u64()),
        "{said}"
    );
    fails_with(&["tsne", low_s, "-n", "10"], "perplexity");
    // n counts real codes; as many draws join them (perplexity 30 needs 92 codes in all).
    fails_with(
        &["tsne", low_s, "-n", "1"],
        "invalid value for `n`: 1 (t-SNE at perplexity 30 embeds n real codes with n draws and needs n ≥ 46",
    );
    fails_with(
        &["tsne", low_s, "--sampler", "prior"],
        "invalid value for `sampler`: prior",
    );

    // A GAN has no encoder to classify with.
    let gan = dir.path().join("gan");
    tiny_run(&gan, &["--model", "gan"]);
    fails_with(&["classify", gan.to_str().unwrap()], "GAN run");
    fails_with(&["theory", "minmax", gan.to_str().unwrap()], "GAN run");
}

#[test]
fn classify_refuses_an_unlabelled_folder() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    for i in 0..40u8 {
        let img = image::RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([i.wrapping_mul(6), (x * 8) as u8, (y * 8) as u8])
        });
        img.save(images.join(format!("{i:03}.png"))).unwrap();
    }
    let run = dir.path().join("run");
    let (ok, _, err) = lorae(&[
        "train",
        "--model",
        "ae",
        "--dataset",
        "folder",
        "--data-dir",
        images.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--out",
        run.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(ok, "{err}");
    fails_with(&["classify", run.to_str().unwrap()], "has no labels");
    fails_with(&["entropy", run.to_str().unwrap()], "has no labels");
}

#[test]
fn entropy_on_a_tiny_run_and_its_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("rrae");
    tiny_run(&run, &["--model", "rrae", "--rank", "3"]);
    let run_s = run.to_str().unwrap();
    let small = [
        "--pairs",
        "6",
        "--steps",
        "4",
        "--sets",
        "3",
        "--judge-steps",
        "8",
    ];
    let mut args = vec!["entropy", run_s];
    args.extend(small);
    args.push("--json");
    let (ok, out, err) = lorae(&args);
    assert!(ok, "{err}");
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(r["entropies"].as_array().unwrap().len(), 3);
    assert_eq!(r["images_per_set"], 24);
    let mean = r["entropy_mean"].as_f64().unwrap();
    // Shapes has two classes: between 0 and ln 2 nats.
    assert!((0.0..=2f64.ln()).contains(&mean), "{r}");
    assert!((0.0..=1.0).contains(&r["judge_accuracy"].as_f64().unwrap()));
    // The same call in words gives the same numbers.
    let mut args = vec!["entropy", run_s];
    args.extend(small);
    let (ok, out, err) = lorae(&args);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("interpolation entropy {mean:.4}")),
        "{out}"
    );
    fails_with(&["entropy", run_s, "--pairs", "0"], "pairs");
    fails_with(&["entropy", run_s, "--steps", "0"], "steps");
    fails_with(
        &["entropy", dir.path().join("absent").to_str().unwrap()],
        "absent",
    );
    let gan = dir.path().join("gan");
    tiny_run(&gan, &["--model", "gan"]);
    fails_with(&["entropy", gan.to_str().unwrap()], "GAN run");
}
