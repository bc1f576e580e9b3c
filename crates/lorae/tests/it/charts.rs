//! The report's grouped bar chart: bars drawn at their values, one colour per bar name.

use lorae::report::charts::grouped_bar_chart;

/// Pixels of exactly `rgb` in the PNG.
fn count(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == rgb).count()
}

#[test]
fn grouped_bars_have_areas_in_proportion_to_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bars.png");
    let bars = [
        ("ae".to_string(), "gaussian".to_string(), 10.0),
        ("ae".to_string(), "gmm10".to_string(), 5.0),
        ("gan".to_string(), "gaussian".to_string(), 10.0),
    ];
    grouped_bar_chart(&bars, "FID", "FID", &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 500));
    // plotters' Palette99: the first two colours, in legend order. Every bar has one width, so
    // the areas go as the values, 20 : 5 (the two legend squares add 13×11 pixels each).
    let first = count(&img, [230, 25, 75]) as f64 - 143.0;
    let second = count(&img, [60, 180, 75]) as f64 - 143.0;
    assert!(second > 1000.0, "{second}");
    let ratio = first / second;
    assert!((ratio - 4.0).abs() < 0.2, "{ratio}");
}

#[test]
fn bars_without_finite_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bars.png");
    assert!(grouped_bar_chart(&[], "x", "y", &path).is_err());
    let nan = [("a".to_string(), "b".to_string(), f64::NAN)];
    let err = grouped_bar_chart(&nan, "x", "y", &path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("finite"), "{err}");
}
