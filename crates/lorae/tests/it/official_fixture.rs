//! The fixtures `tools/official_parity.py` wrote with the official codes' `model.py`
//! (`tests/fixtures/official/`): `manifest.json` lists each case's official state-dict keys,
//! shapes and initialisation bounds; the weights and input pixels come from a generator that
//! script and this file implement bit for bit (splitmix64, see the script's docstring), so no
//! megabytes of weights are kept. Shared by the library's and the CLI's tests.

use std::path::PathBuf;

use lorae::run::import::StateDict;
use serde_json::Value;

/// The fixture folder (from either crate's manifest directory).
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../lorae/tests/fixtures/official"
    ))
}

/// `manifest.json`.
pub fn manifest() -> Value {
    let text = std::fs::read_to_string(dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(seed: u64, n: usize) -> impl Iterator<Item = u64> {
    (0..n as u64).map(move |i| splitmix64((seed << 32).wrapping_add(i)))
}

/// `bound · (2u − 1)` in f64, rounded to f32 once; u the top 24 bits over 2^24.
pub fn weight(seed: u64, n: usize, bound: f64) -> Vec<f32> {
    stream(seed, n)
        .map(|r| {
            let u = (r >> 40) as f64 / (1u64 << 24) as f64;
            (bound * (2.0 * u - 1.0)) as f32
        })
        .collect()
}

/// `k / 255` in f32 with k the top byte.
pub fn pixels(seed: u64, n: usize) -> Vec<f32> {
    stream(seed, n).map(|r| (r >> 56) as f32 / 255.0).collect()
}

/// The state dict of `keys` (a manifest list of `{key, shape, bound, seed}`), keyed as the
/// official model's.
pub fn state_dict(keys: &Value) -> StateDict {
    let mut dict = StateDict::new();
    for k in keys.as_array().unwrap() {
        let shape: Vec<usize> = k["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let n = shape.iter().product();
        let values = weight(k["seed"].as_u64().unwrap(), n, k["bound"].as_f64().unwrap());
        dict.insert(k["key"].as_str().unwrap().to_string(), (shape, values));
    }
    dict
}

/// `dict` as a safetensors file's bytes (the keys unchanged).
pub fn safetensors_bytes(dict: &StateDict) -> Vec<u8> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = dict
        .iter()
        .map(|(k, (shape, v))| {
            let b = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            (k.clone(), shape.clone(), b)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(k, shape, b)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b);
            (k.clone(), view.unwrap())
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// `max |a − b| / max |b|`: the error relative to the expected tensor's scale.
pub fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(0f64, |m, &x| m.max((x as f64).abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (&x, &y)| m.max((x as f64 - y as f64).abs()));
    err / scale.max(f64::MIN_POSITIVE)
}
