//! RRAE and aRRAE: the batch truncation against its definition (an SVD in f64), its gradient
//! against finite differences, the AE it must reduce to, bad ranks, and resume through the
//! basis and the rank search.

use burn::prelude::*;
use lorae::config::{DatasetKind, Layout, ModelKind, Overrides, RunConfig};
use lorae::model::arrae::Phase;
use lorae::model::rrae::truncate;
use lorae::model::Autoencoder;
use lorae::run::checkpoint::TrainState;
use lorae::tensor::tensor_values;
use lorae::train::{self, Flow, Silent, TrainOptions};
use nalgebra::DMatrix;

fn tensor(m: &DMatrix<f64>, device: &Device) -> Tensor<2> {
    let (r, c) = m.shape();
    let values: Vec<f32> = (0..r)
        .flat_map(|i| (0..c).map(move |j| m[(i, j)] as f32))
        .collect();
    Tensor::from_data(TensorData::new(values, [r, c]), device)
}

/// A seeded matrix with entries in [−1, 1] (an LCG: the test owns its numbers).
fn matrix(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    DMatrix::from_fn(rows, cols, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// The definition: the best rank-k approximation `U_k S_k V_kᵀ`, in f64.
fn truncated(z: &DMatrix<f64>, k: usize) -> DMatrix<f64> {
    let svd = z.clone().svd(true, true);
    let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let mut out = DMatrix::zeros(z.nrows(), z.ncols());
    for &i in order.iter().take(k) {
        out += svd.singular_values[i] * u.column(i) * vt.row(i);
    }
    out
}

#[test]
fn truncation_is_the_best_rank_k_approximation_and_the_identity_on_rank_k_codes() {
    let device = Device::flex();
    let z = matrix(12, 8, 1);
    let got = tensor_values(truncate(tensor(&z, &device), 3).unwrap()).unwrap();
    let want = truncated(&z, 3);
    for (i, g) in got.iter().enumerate() {
        let w = want[(i / 8, i % 8)];
        assert!((*g as f64 - w).abs() < 1e-5, "entry {i}: {g} against {w}");
    }
    // Codes of rank 3 come back unchanged.
    let low = matrix(12, 3, 2) * matrix(3, 8, 3);
    let got = tensor_values(truncate(tensor(&low, &device), 3).unwrap()).unwrap();
    for (i, g) in got.iter().enumerate() {
        let w = low[(i / 8, i % 8)];
        assert!((*g as f64 - w).abs() < 1e-5, "entry {i}: {g} against {w}");
    }
}

#[test]
fn the_gradient_through_the_svd_matches_finite_differences() {
    // A tiny model: codes Z (6×5), truncated to rank 2, read out by a fixed R: L = Σ trunc(Z) ⊙ R.
    let device = Device::flex().autodiff();
    let (z, r, k) = (matrix(6, 5, 4), matrix(6, 5, 5), 2);
    let loss = |z: &DMatrix<f64>| truncated(z, k).component_mul(&r).sum();
    let input = tensor(&z, &device).require_grad();
    let out = truncate(input.clone(), k).unwrap();
    let grads = (out * tensor(&r, &device)).sum().backward();
    let got = tensor_values(input.grad(&grads).unwrap()).unwrap();
    let h = 1e-6;
    let mut worst = 0f64;
    for i in 0..6 {
        for j in 0..5 {
            let (mut up, mut down) = (z.clone(), z.clone());
            up[(i, j)] += h;
            down[(i, j)] -= h;
            let fd = (loss(&up) - loss(&down)) / (2.0 * h);
            let g = got[i * 5 + j] as f64;
            worst = worst.max((g - fd).abs());
            assert!(
                (g - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                "∂L/∂Z[{i},{j}]: {g} against {fd}"
            );
        }
    }
    eprintln!("largest difference from finite differences: {worst:.2e}");
}

#[test]
fn at_rank_d_or_above_the_batch_rrae_is_the_ae() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    for rank in [32, 8] {
        // d = 32, batch 4: rank 8 already keeps every direction the batch has.
        let mut config = RunConfig::for_dataset(ModelKind::Rrae, DatasetKind::Shapes).model;
        config.rank = Some(rank);
        device.seed(7);
        let model = Autoencoder::new(&config, Layout::Shapes, &device);
        device.seed(8);
        let x = Tensor::<4>::random([4, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        let rrae = tensor_values(model.losses(x.clone(), &config).unwrap().total).unwrap()[0];
        let decoded = model.decode(model.encode_before_chain(x.clone()));
        let ae = tensor_values((decoded - x).powi_scalar(2).mean()).unwrap()[0];
        assert!(
            (rrae - ae).abs() <= 1e-6 * ae,
            "rank {rank}: {rrae} against {ae}"
        );
    }
}

#[test]
fn a_bad_rank_is_a_clean_error() {
    let given = |model, rank| Overrides {
        model: Some(model),
        rank,
        ..Default::default()
    };
    for (overrides, words) in [
        (
            given(ModelKind::Rrae, Some(0)),
            "must be between 1 and the latent dimension 32",
        ),
        (
            given(ModelKind::Rrae, Some(33)),
            "must be between 1 and the latent dimension 32",
        ),
        (given(ModelKind::Rrae, None), "rrae needs --rank K"),
        (given(ModelKind::Arrae, Some(0)), "must be between 1"),
        (
            given(ModelKind::Irmae, Some(3)),
            "applies to --model rrae and arrae only",
        ),
    ] {
        let err = overrides.config().unwrap_err().to_string();
        assert!(
            err.contains("rank") && err.contains(words),
            "{overrides:?}: {err}"
        );
    }
    let arrae = given(ModelKind::Arrae, None).config().unwrap();
    assert_eq!(
        (
            arrae.model.rank,
            arrae.model.rank_patience,
            arrae.model.rank_warmup
        ),
        (Some(32), Some(500), None)
    );
}

fn tiny(kind: ModelKind, epochs: usize) -> RunConfig {
    let mut config = RunConfig::for_dataset(kind, DatasetKind::Shapes);
    config.data.train_size = 1_280;
    config.data.test_size = 32;
    config.train.epochs = epochs;
    config.train.batch_size = 16; // 80 steps an epoch
    config.train.lr = 1e-3;
    config.model.rank = Some(if kind == ModelKind::Rrae { 3 } else { 12 });
    config.model.rank_patience = (kind == ModelKind::Arrae).then_some(20);
    config
}

/// Stops after step `n` of epoch 2.
struct StopAt(usize);

impl train::Observer for StopAt {
    fn step(&mut self, epoch: usize, step: usize, _: f64) -> Flow {
        if epoch == 2 && step == self.0 {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

#[test]
fn rrae_and_arrae_stopped_mid_epoch_resume_bit_identically() {
    let _rng = crate::burn_rng();
    let options = TrainOptions::default();
    for kind in [ModelKind::Rrae, ModelKind::Arrae] {
        let dir = tempfile::tempdir().unwrap();
        let (stopped, whole) = (dir.path().join("stopped"), dir.path().join("whole"));
        train::train(&tiny(kind, 3), &stopped, &options, &mut StopAt(30)).unwrap();
        let state: TrainState =
            serde_json::from_slice(&std::fs::read(latest_state(&stopped)).unwrap()).unwrap();
        assert_eq!(state.partial.map(|p| p.steps), Some(30), "{kind}");
        assert_eq!(
            state.rank_search.is_some(),
            kind == ModelKind::Arrae,
            "{kind}"
        );
        let resumed = train::resume(&stopped, None, &options, &mut Silent).unwrap();
        let straight = train::train(&tiny(kind, 3), &whole, &options, &mut Silent).unwrap();
        for (a, b) in straight[1..].iter().zip(&resumed) {
            assert_eq!(a.train_loss, b.train_loss, "{kind} epoch {}", a.epoch);
            assert_eq!(a.eval_mse, b.eval_mse, "{kind} epoch {}", a.epoch);
            assert_eq!(
                a.truncation_rank, b.truncation_rank,
                "{kind} epoch {}",
                a.epoch
            );
        }
        assert_eq!(
            std::fs::read(stopped.join("model.safetensors")).unwrap(),
            std::fs::read(whole.join("model.safetensors")).unwrap(),
            "{kind}"
        );
        let ranks: Vec<_> = straight.iter().map(|m| m.truncation_rank).collect();
        eprintln!("{kind}: truncation rank per epoch {ranks:?}");
        if kind == ModelKind::Arrae {
            // Over 240 steps the search has left its warm-up and lowered the rank.
            let search = final_search(&whole);
            assert_ne!(search.phase, Phase::Warmup, "{search:?}");
            assert!(search.accepted < 12, "{search:?}");
        } else {
            // The codes every evaluation sees lie in the rank-3 basis.
            assert_eq!(straight[2].effective_rank, Some(3));
        }
    }
}

fn latest_state(run: &std::path::Path) -> std::path::PathBuf {
    let latest = std::fs::read_to_string(run.join("latest")).unwrap();
    run.join(latest.trim()).join("state.json")
}

fn final_search(run: &std::path::Path) -> lorae::model::arrae::RankTracker {
    let state: TrainState =
        serde_json::from_slice(&std::fs::read(latest_state(run)).unwrap()).unwrap();
    state.rank_search.unwrap()
}

/// Writes `n` 32×32 RGB PNGs of rank 3: `0.5 + 0.15·(a·P₁ + b·P₂ + c·P₃)` with seeded
/// coefficients in [−1, 1] and three smooth patterns (waves across, down, and a colour ramp).
fn rank3_folder(dir: &std::path::Path, n: usize) {
    let coefficients = matrix(n, 3, 11);
    let pattern = |p: usize, c: usize, y: usize, x: usize| -> f64 {
        let (u, v) = (x as f64 / 31.0, y as f64 / 31.0);
        match p {
            0 => (std::f64::consts::PI * u).cos(),
            1 => (std::f64::consts::PI * v).cos() * if c == 1 { -1.0 } else { 1.0 },
            _ => (c as f64 - 1.0) * (u + v - 1.0),
        }
    };
    for i in 0..n {
        let mut img = image::RgbImage::new(32, 32);
        for (x, y, px) in img.enumerate_pixels_mut() {
            for c in 0..3 {
                let v = 0.5
                    + 0.15
                        * (0..3)
                            .map(|p| coefficients[(i, p)] * pattern(p, c, y as usize, x as usize))
                            .sum::<f64>();
                px[c] = (v * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
        img.save(dir.join(format!("{i:04}.png"))).unwrap();
    }
}

/// aRRAE on images of rank 3 from rank 8: the search settles, lowers the rank, never raises the
/// accepted rank and fixes it at 3, or at 2: a nonlinear decoder can reach the warm-up's loss at
/// rank 2 for one step, and the official rule accepts a rank on one such step (measured here: 2,
/// after 3 held for a few steps). The exact rank a loss curve needs is the unit test's
/// (`model::arrae`).
#[test]
fn arrae_on_rank_3_images_lowers_its_rank_to_about_3_and_never_raises_the_accepted_rank() {
    let _rng = crate::burn_rng();
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();
    rank3_folder(&images, 360);
    let mut config = RunConfig::for_dataset(ModelKind::Arrae, DatasetKind::Folder);
    config.data.data_dir = Some(images);
    config.model.rank = Some(8);
    config.model.rank_patience = Some(60);
    // A warm-up long enough for the loss to settle at rank 8: its mean is what lower ranks must
    // reach (after 50 settled steps the loss was still falling, and rank 1 beat it).
    config.model.rank_warmup = Some(120);
    config.train.epochs = 70; // 11 steps an epoch (324 training images, batch 32)
    config.train.lr = 1e-3;
    let run = dir.path().join("run");
    let metrics = train::train(&config, &run, &TrainOptions::default(), &mut Silent).unwrap();
    let ranks: Vec<usize> = metrics.iter().map(|m| m.truncation_rank.unwrap()).collect();
    eprintln!("truncation rank per epoch: {ranks:?}");
    let search = final_search(&run);
    assert_eq!(search.phase, Phase::Fixed, "{ranks:?} {search:?}");
    assert_eq!(search.rank, search.accepted, "{search:?}");
    assert!((2..=3).contains(&search.accepted), "{ranks:?} {search:?}");
    // The rank in use only falls, but for the one step back from the rank that failed.
    let rises = ranks.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(rises <= 1, "{ranks:?}");
}
