//! `.npy` files: round trips and clear errors on bad files.

use lorae::io::npy;

#[test]
fn float32_and_float64_arrays_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npy");
    let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
    npy::write_f32(&path, &values, &[3, 4]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    assert_eq!(bytes.len(), 128 + 12 * 4, "header padded to 64 bytes");
    let back = npy::read(&path).unwrap();
    assert_eq!(back.shape, vec![3, 4]);
    assert_eq!(
        back.values,
        values.iter().map(|&v| v as f64).collect::<Vec<_>>()
    );
    let wide = [1e-300, 2.5, -7.0];
    npy::write_f64(&path, &wide, &[3]).unwrap();
    let back = npy::read(&path).unwrap();
    assert_eq!((back.shape, back.values), (vec![3], wide.to_vec()));
    assert!(npy::write_f32(&path, &values, &[5, 4]).is_err());
}

#[test]
fn bad_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.npy");
    std::fs::write(&path, b"PK\x03\x04 not numpy").unwrap();
    let err = npy::read(&path).unwrap_err().to_string();
    assert!(err.contains("bad.npy") && err.contains("magic"), "{err}");
    npy::write_f32(&path, &[1.0; 6], &[2, 3]).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 4);
    std::fs::write(&path, &bytes).unwrap();
    let err = npy::read(&path).unwrap_err().to_string();
    assert!(err.contains("needs 24 data bytes"), "{err}");
    let err = npy::read(&dir.path().join("missing.npy"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.npy"), "{err}");
}
