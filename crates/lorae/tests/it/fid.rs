//! The Fréchet distance on synthetic statistics: invariants, a closed form, pytorch-fid's value
//! (tools/fid_reference.py frechet), batching and the `.npz` statistics file.

use lorae::eval::fid::stats::{frechet_distance, FeatureStats, StatsAccumulator};
use nalgebra::{DMatrix, DVector};

/// Deterministic features, the formula of `synthetic` in tools/fid_reference.py.
fn synthetic(n: usize, dim: usize, which: char) -> Vec<f32> {
    let mut x = Vec::with_capacity(n * dim);
    for i in 1..=n {
        for j in 1..=dim {
            let (i, j) = (i as f64, j as f64);
            let v = if which == 'a' {
                (0.37 * i * j + 0.5 * j).sin() * (1.0 + 0.05 * j)
            } else {
                (0.29 * i * (j + 1.0)).cos() + 0.02 * j
            };
            x.push(v as f32);
        }
    }
    x
}

fn stats(n: usize, dim: usize, which: char) -> FeatureStats {
    FeatureStats::from_features(&synthetic(n, dim, which), dim).unwrap()
}

#[test]
fn fid_of_a_set_with_itself_is_zero() {
    for (n, dim) in [(200, 16), (40, 64)] {
        let a = stats(n, dim, 'a');
        let fid = frechet_distance(&a, &a).unwrap();
        // With fewer samples than dimensions (n=40, dim=64) Σ is singular and the square roots of
        // rounding-level eigenvalues leave ~1e-8 of tr Σ; pytorch-fid's scipy sqrtm leaves the
        // same (−2.9e-6 on this set, tr Σ = 240).
        let scale = a.sigma.trace();
        assert!(
            fid.abs() < 1e-7 * scale,
            "FID(A, A) = {fid} for n={n}, dim={dim}, tr Σ {scale}"
        );
    }
}

#[test]
fn fid_is_symmetric() {
    let (a, b) = (stats(200, 16, 'a'), stats(300, 16, 'b'));
    let (ab, ba) = (
        frechet_distance(&a, &b).unwrap(),
        frechet_distance(&b, &a).unwrap(),
    );
    assert!(ab > 1.0);
    assert!(
        (ab - ba).abs() < 1e-9 * ab,
        "FID(A,B) = {ab}, FID(B,A) = {ba}"
    );
}

#[test]
fn fid_grows_as_one_set_is_noised() {
    let dim = 16;
    let clean = synthetic(300, dim, 'a');
    let reference = FeatureStats::from_features(&clean, dim).unwrap();
    let noise = synthetic(300, dim, 'b');
    let mut last = -1.0;
    for scale in [0.0f32, 0.1, 0.3, 1.0, 3.0] {
        let noised: Vec<f32> = clean
            .iter()
            .zip(&noise)
            .map(|(x, e)| x + scale * e)
            .collect();
        let fid = frechet_distance(
            &reference,
            &FeatureStats::from_features(&noised, dim).unwrap(),
        )
        .unwrap();
        assert!(
            fid > last,
            "noise ×{scale}: FID {fid} did not grow from {last}"
        );
        last = fid;
    }
}

#[test]
fn diagonal_covariances_match_the_closed_form() {
    // FID of N(μ₁, diag a) and N(μ₂, diag b) is ‖μ₁ − μ₂‖² + Σ (√aᵢ − √bᵢ)².
    let a: [f64; 4] = [1.0, 4.0, 0.25, 9.0];
    let b: [f64; 4] = [2.0, 1.0, 0.25, 0.0];
    let mu1: [f64; 4] = [0.0, 1.0, -1.0, 2.0];
    let mu2 = [1.0, 1.0, 0.5, -2.0];
    let make = |mu: &[f64], var: &[f64]| FeatureStats {
        mu: DVector::from_row_slice(mu),
        sigma: DMatrix::from_diagonal(&DVector::from_row_slice(var)),
        n: 0,
        factor: None,
    };
    let expected: f64 = mu1
        .iter()
        .zip(&mu2)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        + a.iter()
            .zip(&b)
            .map(|(x, y)| (x.sqrt() - y.sqrt()).powi(2))
            .sum::<f64>();
    let fid = frechet_distance(&make(&mu1, &a), &make(&mu2, &b)).unwrap();
    assert!((fid - expected).abs() < 1e-12, "{fid} vs {expected}");
}

#[test]
fn agrees_with_pytorch_fid_on_synthetic_features() {
    // tools/fid_reference.py frechet: pytorch-fid's calculate_frechet_distance (scipy sqrtm).
    // The second case has fewer samples than dimensions: both covariances are singular.
    for (n_a, n_b, dim, reference) in [
        (200, 300, 16, 5.870683857471e+00),
        (40, 50, 64, 2.299419767383e+02),
    ] {
        let fid = frechet_distance(&stats(n_a, dim, 'a'), &stats(n_b, dim, 'b')).unwrap();
        let rel = (fid - reference).abs() / reference;
        assert!(
            rel < 1e-6,
            "n={n_a}/{n_b} dim={dim}: {fid} vs pytorch-fid {reference} (rel {rel:.1e})"
        );
    }
}

#[test]
fn batched_accumulation_equals_one_pass() {
    let dim = 16;
    let x = synthetic(250, dim, 'a');
    let whole = FeatureStats::from_features(&x, dim).unwrap();
    let mut acc = StatsAccumulator::new(dim);
    for chunk in x.chunks(37 * dim) {
        acc.add(chunk).unwrap();
    }
    assert_eq!(acc.len(), 250);
    let batched = acc.finish().unwrap();
    assert_eq!(batched.n, 250);
    assert!((&batched.mu - &whole.mu).amax() < 1e-12);
    assert!((&batched.sigma - &whole.sigma).amax() < 1e-12);
}

#[test]
fn statistics_round_trip_through_npz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.npz");
    let s = stats(50, 8, 'b');
    s.save(&path).unwrap();
    assert_eq!(FeatureStats::load(&path).unwrap(), s);
    // Fewer vectors than dimensions: the low-rank factor is saved too, so the distance of
    // reloaded statistics is the fresh one to the bit.
    let (few, other) = (stats(6, 16, 'a'), stats(9, 16, 'b'));
    assert!(few.factor.is_some());
    few.save(&path).unwrap();
    let back = FeatureStats::load(&path).unwrap();
    assert_eq!(back, few);
    assert_eq!(
        frechet_distance(&back, &other).unwrap(),
        frechet_distance(&few, &other).unwrap()
    );
    // A factor whose shape disagrees with `n` and `mu` is refused, naming the file.
    let mu = vec![0.0; 4];
    let sigma: Vec<f64> = (0..16)
        .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    lorae::io::npz::write(
        &path,
        &[
            ("mu", &mu, &[4]),
            ("sigma", &sigma, &[4, 4]),
            ("n", &[3.0], &[1]),
            ("factor", &[0.5; 8], &[2, 4]),
        ],
    )
    .unwrap();
    let err = FeatureStats::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("`factor` has shape [2, 4]") && err.contains("stats.npz"),
        "{err}"
    );
}

#[test]
fn bad_inputs_are_rejected_with_the_reason() {
    let mut acc = StatsAccumulator::new(4);
    let err = acc.add(&[1.0; 6]).unwrap_err().to_string();
    assert!(err.contains("multiple of the feature dimension 4"), "{err}");
    acc.add(&[1.0; 4]).unwrap();
    let err = acc.finish().unwrap_err().to_string();
    assert!(err.contains("at least 2 images"), "{err}");
    let err = frechet_distance(&stats(10, 4, 'a'), &stats(10, 8, 'a'))
        .unwrap_err()
        .to_string();
    assert!(err.contains("same feature dimension"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.npz");
    lorae::io::npz::write(&path, &[("x", &[1.0], &[1])]).unwrap();
    let err = FeatureStats::load(&path).unwrap_err().to_string();
    assert!(err.contains("no `mu` array"), "{err}");
}

#[test]
fn low_rank_factor_gives_the_full_eigendecomposition_result() {
    // n < dim: the statistics keep F (Σ = Fᵀ F) and the trace goes through the small F Σ₂ Fᵀ.
    let (a, b) = (stats(40, 64, 'a'), stats(50, 64, 'b'));
    assert!(a.factor.is_some() && b.factor.is_some());
    let f = a.factor.as_ref().unwrap();
    assert!((f.transpose() * f - &a.sigma).abs().max() < 1e-9 * a.sigma.abs().max());
    let strip = |s: &FeatureStats| FeatureStats {
        factor: None,
        ..s.clone()
    };
    let full = frechet_distance(&strip(&a), &strip(&b)).unwrap();
    for (x, y) in [(&a, &b), (&b, &a), (&a, &strip(&b)), (&strip(&a), &b)] {
        let fast = frechet_distance(x, y).unwrap();
        // The full path adds the square roots of rounding-level eigenvalues (~1e-8 of tr Σ, see
        // fid_of_a_set_with_itself_is_zero); the factored one has none.
        assert!((fast - full).abs() < 1e-8 * full, "{fast} vs {full}");
    }
    // More vectors than dimensions: no factor is kept.
    assert!(stats(200, 16, 'a').factor.is_none());
}
