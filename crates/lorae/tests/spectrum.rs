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
