//! Gaussian and GMM samplers on codes with known structure.

use lorae::latent::spectrum::covariance;
use lorae::latent::Codes;
use lorae::sampler::gaussian::Gaussian;
use lorae::sampler::gmm::{Gmm, GmmConfig};
use lorae::sampler::{Prior, Sampler};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    rng.sample::<f64, _>(StandardNormal) as f32
}

fn mean(codes: &Codes) -> Vec<f64> {
    let mut m = vec![0.0; codes.dim];
    for row in codes.values.chunks_exact(codes.dim) {
        for (a, &v) in m.iter_mut().zip(row) {
            *a += v as f64 / codes.len() as f64;
        }
    }
    m
}

#[test]
fn gaussian_sampler_reproduces_mean_and_covariance() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // x = A ε + b in 3-D with a known covariance A Aᵀ.
    let a = [[2.0f32, 0.0, 0.0], [1.0, 1.0, 0.0], [0.5, -0.5, 0.3]];
    let b = [1.0f32, -2.0, 3.0];
    let mut values = Vec::new();
    for _ in 0..20_000 {
        let e = [normal(&mut rng), normal(&mut rng), normal(&mut rng)];
        for r in 0..3 {
            values.push((0..3).map(|c| a[r][c] * e[c]).sum::<f32>() + b[r]);
        }
    }
    let codes = Codes { values, dim: 3 };
    let fitted = Gaussian::fit(&codes).unwrap();
    assert_eq!(fitted.jitter, 0.0);
    let samples = fitted.sample(20_000, &mut rng);
    let (m, c) = (mean(&samples), covariance(&samples).unwrap());
    for r in 0..3 {
        // Standard error of a mean of 20 000 draws with variance ≤ 5: ≤ 0.016.
        assert!((m[r] - b[r] as f64).abs() < 0.07, "mean {r}: {}", m[r]);
        for col in 0..3 {
            let truth: f64 = (0..3).map(|k| (a[r][k] * a[col][k]) as f64).sum();
            assert!(
                (c[(r, col)] - truth).abs() < 0.1 * truth.abs().max(1.0),
                "cov ({r},{col}) {} vs {truth}",
                c[(r, col)]
            );
        }
    }
}

#[test]
fn rank_deficient_codes_do_not_fail() {
    // 16-D codes of rank 2, as a low-rank autoencoder produces.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut values = Vec::new();
    for _ in 0..500 {
        let (u, v) = (normal(&mut rng), normal(&mut rng));
        values.extend((0..16).map(|j| u * j as f32 + v * (16 - j) as f32));
    }
    let codes = Codes { values, dim: 16 };
    let gaussian = Gaussian::fit(&codes).unwrap();
    assert!(gaussian.jitter > 0.0);
    assert!(gaussian
        .sample(10, &mut rng)
        .values
        .iter()
        .all(|v| v.is_finite()));
    let gmm = Gmm::fit(
        &codes,
        &GmmConfig {
            k: 3,
            ..GmmConfig::default()
        },
    )
    .unwrap();
    assert!(gmm
        .sample(10, &mut rng)
        .values
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
fn gmm_recovers_the_means_of_a_separated_mixture_with_monotone_likelihood() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let centres = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
    let mut values = Vec::new();
    for i in 0..3000 {
        let c = centres[i % 3];
        values.extend([c[0] + normal(&mut rng), c[1] + 0.5 * normal(&mut rng)]);
    }
    let codes = Codes { values, dim: 2 };
    let gmm = Gmm::fit(
        &codes,
        &GmmConfig {
            k: 3,
            ..GmmConfig::default()
        },
    )
    .unwrap();
    assert!(gmm.converged);
    for c in centres {
        let closest = gmm
            .means
            .iter()
            .map(|m| ((m[0] - c[0] as f64).powi(2) + (m[1] - c[1] as f64).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        assert!(closest < 0.1, "centre {c:?}: nearest mean {closest}");
    }
    for w in &gmm.weights {
        assert!((w - 1.0 / 3.0).abs() < 0.02, "weight {w}");
    }
    let ll = &gmm.log_likelihood;
    assert!(ll.len() >= 2);
    for pair in ll.windows(2) {
        assert!(
            pair[1] >= pair[0] - 1e-9 * pair[0].abs(),
            "log-likelihood fell: {ll:?}"
        );
    }
}

#[test]
fn prior_is_standard_normal() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let codes = Prior { dim: 4 }.sample(20_000, &mut rng);
    for m in mean(&codes) {
        assert!(m.abs() < 0.05);
    }
    let c = covariance(&codes).unwrap();
    assert!((c[(0, 0)] - 1.0).abs() < 0.05 && c[(0, 1)].abs() < 0.05);
}
