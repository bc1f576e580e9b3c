//! `data::resample::bilinear` against Pillow's `Image.resize(…, BILINEAR)`, byte for byte
//! (the expected bytes from `tools/pil_resize.py`, inputs from the generator both implement).

use lorae::data::resample;
use serde_json::Value;

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn image_bytes(seed: u64, n: usize, sparse: bool) -> Vec<u8> {
    (0..n as u64)
        .map(|i| (splitmix64((seed << 32).wrapping_add(i)) >> 56) as u8)
        .map(|k| match (sparse, k) {
            (true, 0..=127) => 0,
            (true, 224..) => 255,
            _ => k,
        })
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `tests/fixtures/resize/cases.json`.
fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/resize/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn bilinear_resize_gives_pillows_bytes() {
    let doc = fixture();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        let at = |k: &str| case[k].as_u64().unwrap() as usize;
        let (w, h, c, ow, oh) = (
            at("width"),
            at("height"),
            at("channels"),
            at("out_width"),
            at("out_height"),
        );
        let src = image_bytes(
            at("seed") as u64,
            w * h * c,
            case["sparse"].as_bool().unwrap(),
        );
        let got = resample::bilinear(&src, (w, h), c, (ow, oh));
        let want = hex(case["expected"].as_str().unwrap());
        assert_eq!(got.len(), want.len(), "{}", case["name"]);
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "{}: {differ} of {} bytes differ",
            case["name"],
            want.len()
        );
    }
}

#[test]
fn an_mnist_digit_goes_through_the_same_resize() {
    let doc = fixture();
    let case = &doc["cases"][1];
    assert_eq!(case["name"], "mnist-28-to-32-sparse");
    let src = image_bytes(2, 28 * 28, true);
    let got = lorae::data::image_file::resize_grey(&src, 28, 32).unwrap();
    assert_eq!(got, hex(case["expected"].as_str().unwrap()));
    assert!(lorae::data::image_file::resize_grey(&src[1..], 28, 32).is_err());
}
