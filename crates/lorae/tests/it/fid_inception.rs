//! The FID Inception network against pytorch-fid (tools/fid_reference.py parity): the input
//! conventions; features and FID with the fetched weights (an ignored test: it needs
//! `lorae data fetch fid-weights`, and .ci/run runs it).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use indicatif::ProgressBar;
use lorae::data::ImageSet;
use lorae::eval::fid::features::{preprocess, resize_matrix};
use lorae::eval::fid::frechet_distance;
use lorae::eval::fid::inception::FidInception;
use lorae::tensor::tensor_values;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fid")
}

/// Deterministic 32×32 images from integer arithmetic: `pattern_images` in tools/fid_reference.py.
pub fn pattern_images(n: usize, channels: usize, seed: u32) -> ImageSet {
    let mut pixels = Vec::with_capacity(n * channels * 32 * 32);
    for i in 0..n as u32 {
        for c in 0..channels as u32 {
            for y in 0..32u32 {
                for x in 0..32u32 {
                    let h = (i + 1).wrapping_mul(73856093)
                        ^ (y + 1).wrapping_mul(19349663)
                        ^ (x + 1).wrapping_mul(83492791)
                        ^ (c + 1).wrapping_mul(2654435761)
                        ^ seed.wrapping_mul(97);
                    let ramp = ((x + 2 * i + seed) * (y + c + 3)) % 192;
                    pixels.push((ramp + (h >> 13) % 64) as u8);
                }
            }
        }
    }
    ImageSet {
        pixels,
        shape: [channels, 32, 32],
        labels: None,
    }
}

fn weights() -> PathBuf {
    crate::fetched("fid-weights/default_1.pt")
}

#[test]
fn resize_matches_pytorch_bilinear_without_corner_alignment() {
    // torch.nn.functional.interpolate([0, 10, 20, 40], size=7 | 3, mode="bilinear", align_corners=False)
    for (n_out, torch) in [
        (
            7,
            vec![
                0.0, 3.571429, 9.285715, 15.000001, 21.428576, 32.857147, 40.0,
            ],
        ),
        (3, vec![1.6666669, 15.0, 36.66667]),
    ] {
        let m = resize_matrix(4, n_out);
        for (i, want) in torch.iter().enumerate() {
            let got: f32 = [0.0, 10.0, 20.0, 40.0]
                .iter()
                .enumerate()
                .map(|(j, v)| m[i * 4 + j] * v)
                .sum();
            assert!(
                (got - want).abs() < 1e-4,
                "{n_out} outputs, #{i}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn grey_images_become_three_equal_channels_in_minus_one_one() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let grey = pattern_images(2, 1, 3);
    let mut rgb = ImageSet {
        pixels: Vec::new(),
        shape: [3, 32, 32],
        labels: None,
    };
    for image in grey.pixels.chunks(32 * 32) {
        (0..3).for_each(|_| rgb.pixels.extend_from_slice(image));
    }
    let a = preprocess(&grey, &[0, 1], &device).unwrap();
    assert_eq!(a.dims(), [2, 3, 299, 299]);
    let b = preprocess(&rgb, &[0, 1], &device).unwrap();
    let (a, b) = (tensor_values(a).unwrap(), tensor_values(b).unwrap());
    assert_eq!(a, b);
    let (lo, hi) = a
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(
        lo >= -1.0 && hi <= 1.0 && lo < -0.5 && hi > 0.5,
        "range {lo}..{hi}"
    );
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn features_and_fid_match_pytorch_fid() {
    let _rng = crate::burn_rng();
    let path = weights();
    let device = Device::flex();
    let net = FidInception::load(&path, &device).unwrap();
    let hidden = ProgressBar::hidden();

    // Two RGB images and one grey image (1 channel here; RGB PNG for pytorch-fid).
    let reference = lorae::io::npy::read(&fixtures().join("features.npy")).unwrap();
    assert_eq!(reference.shape, vec![3, 2048]);
    let mut features = net
        .features(&pattern_images(2, 3, 0), 2, &device, &hidden)
        .unwrap();
    features.extend(
        net.features(&pattern_images(1, 1, 5), 1, &device, &hidden)
            .unwrap(),
    );
    let scale = reference.values.iter().fold(0f64, |m, v| m.max(v.abs()));
    let max_err = features
        .iter()
        .zip(&reference.values)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0f64, f64::max);
    eprintln!(
        "pool3 features: max |Δ| = {max_err:.3e}, max |feature| = {scale:.3}, relative {:.3e}",
        max_err / scale
    );
    assert!(
        max_err / scale <= 1e-4,
        "features differ by {max_err} (scale {scale})"
    );

    // FID between two sets of 10 images, pytorch-fid's calculate_fid_given_paths on PNGs.
    let text = std::fs::read_to_string(fixtures().join("reference.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want = json["fid_pattern_sets_1_vs_2_n10"].as_f64().unwrap();
    let a = net
        .statistics(&pattern_images(10, 3, 1), 5, &device, &hidden)
        .unwrap();
    let b = net
        .statistics(&pattern_images(10, 3, 2), 5, &device, &hidden)
        .unwrap();
    let fid = frechet_distance(&a, &b).unwrap();
    let rel = (fid - want).abs() / want;
    eprintln!("FID {fid:.6} vs pytorch-fid {want:.6}: relative {rel:.3e}");
    assert!(rel <= 1e-3, "FID {fid} vs pytorch-fid {want}");
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn inception_host_matches_the_tensor_network() {
    // The host path (branches written into their slices of each block's output) runs the same
    // GEMMs as the tensor network, image by image: the features are equal to the bit.
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let net = FidInception::load(&weights(), &device).unwrap();
    for (set, i) in [(pattern_images(2, 3, 7), 1), (pattern_images(1, 1, 4), 0)] {
        let x = preprocess(&set, &[i], &device).unwrap(); // [1, 3, 299, 299]
        let host = net.forward_host(x.clone()).unwrap();
        let tensor = tensor_values(net.forward(x)).unwrap();
        assert_eq!(host.len(), 2048);
        assert_eq!(host, tensor);
    }
    let two = preprocess(&pattern_images(2, 3, 7), &[0, 1], &device).unwrap();
    let err = net.forward_host(two).unwrap_err().to_string();
    assert!(err.contains("one image, got 2"), "{err}");
}
