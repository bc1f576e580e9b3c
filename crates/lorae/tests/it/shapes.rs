//! The synthetic shapes generator: factor ranges, both shapes, determinism, rendering.

use lorae::data::shapes::{generate, ShapeParams, CENTRE_RANGE, SIDE, SIZE_RANGE};

#[test]
fn factors_stay_in_range_and_both_shapes_appear() {
    let (set, params) = generate(2000, 7);
    assert_eq!(set.len(), 2000);
    assert_eq!(set.shape, [3, 32, 32]);
    let circles = params.iter().filter(|p| p.circle).count();
    // Bernoulli(0.5) over 2000 draws: 1000 ± 4.5 standard deviations.
    assert!((900..=1100).contains(&circles), "circles: {circles}");
    for p in &params {
        assert!((SIZE_RANGE.0..=SIZE_RANGE.1).contains(&p.size));
        assert!((CENTRE_RANGE.0..=CENTRE_RANGE.1).contains(&p.cx));
        assert!((CENTRE_RANGE.0..=CENTRE_RANGE.1).contains(&p.cy));
    }
    // Every size and centre value is drawn (uniform over the inclusive ranges).
    for s in SIZE_RANGE.0..=SIZE_RANGE.1 {
        assert!(params.iter().any(|p| p.size == s), "size {s} never drawn");
    }
    for c in CENTRE_RANGE.0..=CENTRE_RANGE.1 {
        assert!(params.iter().any(|p| p.cx == c) && params.iter().any(|p| p.cy == c));
    }
    // Colour channels are uniform over 0..=255: mean near 127.5.
    let mean_red = params.iter().map(|p| p.colour[0] as f64).sum::<f64>() / 2000.0;
    assert!((mean_red - 127.5).abs() < 8.0, "mean red {mean_red}");
    let labels = set.labels.as_ref().unwrap();
    assert_eq!(labels.iter().filter(|&&l| l == 1).count(), circles);
}

#[test]
fn generation_is_deterministic_by_seed() {
    let (a, pa) = generate(50, 3);
    let (b, pb) = generate(50, 3);
    let (c, _) = generate(50, 4);
    assert_eq!(a.pixels, b.pixels);
    assert_eq!(pa, pb);
    assert_ne!(a.pixels, c.pixels);
}

#[test]
fn rendering_paints_the_shape_in_its_colour_on_black() {
    let plane = SIDE * SIDE;
    for circle in [false, true] {
        let p = ShapeParams {
            circle,
            colour: [200, 100, 50],
            size: 5,
            cx: 12,
            cy: 20,
        };
        let mut img = vec![0u8; 3 * plane];
        p.render(&mut img);
        let at = |c: usize, row: usize, col: usize| img[c * plane + row * SIDE + col];
        assert_eq!(
            [at(0, 20, 12), at(1, 20, 12), at(2, 20, 12)],
            [200, 100, 50]
        );
        assert_eq!(at(0, 0, 0), 0);
        // Corner of the bounding box: inside a square, outside a circle.
        assert_eq!(at(0, 25, 17) == 200, !circle);
        let painted = (0..plane).filter(|&i| img[i] == 200).count();
        let expected = if circle { 81 } else { 121 }; // lattice points of r = 5 disc; 11×11 square
        assert_eq!(painted, expected);
    }
}
