//! The latent spectrum and effective rank.

use lorae::latent::spectrum::spectrum;
use lorae::latent::Codes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn codes_from_a_rank_k_map_have_exactly_k_singular_values_above_threshold() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (n, d) = (2000, 32);
    for k in [1, 3, 7, 20] {
        let map: Vec<f32> = (0..k * d).map(|_| rng.random_range(-1.0..1.0)).collect(); // [k, d]
        let mut values = Vec::with_capacity(n * d);
        for _ in 0..n {
            let factors: Vec<f32> = (0..k).map(|_| rng.random_range(-1.0..1.0)).collect();
            for j in 0..d {
                values.push((0..k).map(|i| factors[i] * map[i * d + j]).sum::<f32>() + 3.0);
            }
        }
        let s = spectrum(&Codes { values, dim: d }, 1e-2).unwrap();
        assert_eq!(
            s.effective_rank,
            k,
            "k = {k}: {:?}",
            &s.singular_values[..k.min(d)]
        );
        assert_eq!(s.singular_values.len(), d);
        assert!((s.singular_values[0] - 1.0).abs() < 1e-12);
        assert!(s.singular_values.windows(2).all(|w| w[0] >= w[1]));
    }
}

#[test]
fn too_few_codes_is_an_error() {
    assert!(spectrum(
        &Codes {
            values: vec![1.0; 4],
            dim: 4
        },
        1e-2
    )
    .is_err());
}

#[test]
fn interpolation_starts_and_ends_at_the_codes_and_passes_their_midpoint() {
    use lorae::latent::interpolate::interpolate;
    let codes = Codes {
        values: vec![0.0, 2.0, 4.0, 10.0, 20.0, 30.0, -1.0, -1.0, -1.0],
        dim: 3,
    };
    let path = interpolate(&codes, &[(0, 1), (2, 0)], 5).unwrap();
    assert_eq!(path.len(), 10);
    assert_eq!(&path.values[0..3], &[0.0, 2.0, 4.0]);
    assert_eq!(&path.values[6..9], &[5.0, 11.0, 17.0]); // t = 0.5
    assert_eq!(&path.values[12..15], &[10.0, 20.0, 30.0]);
    assert_eq!(&path.values[15..18], &[-1.0, -1.0, -1.0]);
    assert_eq!(&path.values[27..30], &[0.0, 2.0, 4.0]);
    assert!(interpolate(&codes, &[(0, 3)], 5).is_err());
    assert!(interpolate(&codes, &[(0, 1)], 1).is_err());
}

#[test]
fn pca_finds_the_axes_of_an_anisotropic_cloud_and_grids_around_the_mean() {
    use lorae::latent::pca::Pca;
    // Codes spread with σ = 3 along (1, 1, 0)/√2 and σ = 1 along (0, 0, 1), mean (1, 2, 3).
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let normal = |rng: &mut ChaCha8Rng| -> f32 { rng.sample(rand_distr::StandardNormal) };
    let mut values = Vec::new();
    for _ in 0..20_000 {
        let (a, b) = (3.0 * normal(&mut rng), normal(&mut rng));
        let h = std::f32::consts::FRAC_1_SQRT_2;
        values.extend([1.0 + a * h, 2.0 + a * h, 3.0 + b]);
    }
    let pca = Pca::fit(&Codes { values, dim: 3 }).unwrap();
    assert!((pca.std[0] - 3.0).abs() < 0.1, "{:?}", pca.std);
    assert!((pca.std[1] - 1.0).abs() < 0.05, "{:?}", pca.std);
    assert!(pca.std[2] < 1e-3, "{:?}", pca.std);
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((pca.axes[0][0].abs() - h).abs() < 1e-2 && (pca.axes[0][1].abs() - h).abs() < 1e-2);
    assert!((pca.axes[1][2].abs() - 1.0).abs() < 1e-3);
    let grid = pca.grid(3, 2.0).unwrap();
    assert_eq!(grid.len(), 9);
    // The centre cell is the mean; the corners are ±2σ along both axes.
    let centre = &grid.values[4 * 3..5 * 3];
    for (c, m) in centre.iter().zip(pca.mean.iter()) {
        assert!((*c as f64 - m).abs() < 1e-5);
    }
    let corner: Vec<f64> = grid.values[0..3].iter().map(|&v| v as f64).collect();
    let expected =
        &pca.mean - &pca.axes[0] * (2.0 * pca.std[0]) - &pca.axes[1] * (2.0 * pca.std[1]);
    for (c, e) in corner.iter().zip(expected.iter()) {
        assert!((c - e).abs() < 1e-4, "{corner:?} vs {expected:?}");
    }
    assert!(pca.grid(1, 2.0).is_err());
}

#[test]
fn spectrum_plot_draws_every_run_in_its_own_colour() {
    use lorae::report::plot::{plot_spectra, SpectrumSeries};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/spectrum.png");
    let series = vec![
        SpectrumSeries {
            label: "ae".into(),
            values: vec![1.0, 0.5, 0.2, 0.05, 1e-3, 1e-5, 0.0],
        },
        SpectrumSeries {
            label: "irmae".into(),
            values: vec![1.0, 0.3, 1e-4, 1e-6, 1e-7, 1e-9, 0.0],
        },
    ];
    plot_spectra(&series, 1e-2, &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 500));
    // Two distinct saturated line colours besides black, white and greys.
    let mut colours = std::collections::HashSet::new();
    for p in img.pixels() {
        let [r, g, b] = p.0;
        let spread = r.max(g).max(b) - r.min(g).min(b);
        if spread > 100 {
            colours.insert((r / 32, g / 32, b / 32));
        }
    }
    assert!(colours.len() >= 2, "{colours:?}");
    assert!(plot_spectra(&[], 1e-2, &path).is_err());
}
