//! The torch checkpoint reader on small archives written by tools/torch_fixture.py (a state dict
//! and a TorchScript module), and on the FID weights when they have been fetched.

use std::path::{Path, PathBuf};

use lorae::weights::torch::{DType, TorchArchive};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

fn check_against_expected(file: &str) -> usize {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = expected[file].as_object().unwrap();
    let mut archive = TorchArchive::open(&fixtures().join(file)).unwrap();
    let names: Vec<String> = archive.tensors().iter().map(|t| t.name.clone()).collect();
    assert_eq!(names.len(), expected.len(), "{file}: tensors {names:?}");
    for (name, want) in expected {
        let info = archive
            .find(name)
            .unwrap_or_else(|| panic!("{file}: no tensor `{name}` among {names:?}"))
            .clone();
        let shape: Vec<usize> = want["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(info.shape, shape, "{file}: `{name}`");
        let values = archive.read_f32(&info).unwrap();
        let want: Vec<f64> = want["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values.len(), want.len(), "{file}: `{name}`");
        for (got, want) in values.iter().zip(&want) {
            assert_eq!(*got, *want as f32, "{file}: `{name}`");
        }
    }
    expected.len()
}

#[test]
fn reads_a_state_dict_with_views_and_mixed_dtypes() {
    assert_eq!(check_against_expected("state_dict.pt"), 8);
    let archive = TorchArchive::open(&fixtures().join("state_dict.pt")).unwrap();
    let t = archive.find("transposed").unwrap();
    assert_eq!(
        (t.shape.clone(), t.stride.clone()),
        (vec![6, 4], vec![1, 6])
    );
    assert_eq!(archive.find("half").unwrap().dtype, DType::F16);
    assert_eq!(archive.find("bf16").unwrap().dtype, DType::BF16);
    assert_eq!(
        archive.find("layer.bn.running_var").unwrap().dtype,
        DType::F64
    );
    let (a, b) = (
        archive.find("shared.a").unwrap(),
        archive.find("shared.b").unwrap(),
    );
    assert_eq!(a.storage, b.storage, "views of one storage");
    assert_eq!((a.offset, b.offset), (2, 6));
}

#[test]
fn reads_the_legacy_non_zip_format() {
    assert_eq!(check_against_expected("legacy.pt"), 8);
}

#[test]
fn reads_a_torchscript_module_by_attribute_path() {
    assert_eq!(check_against_expected("scripted.pt"), 4);
}

#[test]
fn rejects_files_that_are_not_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not.pt");
    std::fs::write(&path, b"plain text").unwrap();
    let err = TorchArchive::open(&path).err().unwrap().to_string();
    assert!(err.contains("not a torch checkpoint"), "{err}");
    assert!(err.contains("not.pt"), "{err}");
}

/// The fetched FID network (lorae data fetch fid-weights): 376 tensors, 21.8 M parameters.
#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn lists_the_fid_weights() {
    let path = crate::fetched("fid-weights/default_1.pt");
    let archive = TorchArchive::open(&path).unwrap();
    let tensors = archive.tensors();
    assert_eq!(tensors.len(), 376);
    let params: usize = tensors.iter().map(|t| t.numel()).sum();
    assert!(
        (21_700_000..21_900_000).contains(&params),
        "{params} parameters"
    );
    let first = &tensors[0];
    assert_eq!(first.name, "net.layers.conv.weight");
    assert_eq!(first.shape, vec![32, 3, 3, 3]);
    assert!(tensors.iter().all(|t| t.dtype == DType::F32));
}

/// pytorch-fid's state-dict layout (`tools/fid_reference.py convert` writes it from default_1.pt;
/// the published .pth has the same names) loads to the same parameters as the TorchScript file.
#[test]
#[ignore = "reference: needs pytorch-fid-layout.pth, which tools/fid_reference.py convert writes with the reference venv; run with --ignored reference_"]
fn reference_both_fid_weight_layouts_give_the_same_parameters() {
    let ts = crate::fetched("fid-weights/default_1.pt");
    let pth = crate::fetched("fid-weights/pytorch-fid-layout.pth");
    let a = lorae::eval::fid::inception_weights::load_params(&ts).unwrap();
    let b = lorae::eval::fid::inception_weights::load_params(&pth).unwrap();
    assert_eq!(a.len(), 94);
    for (name, p) in &a {
        let q = &b[name];
        assert_eq!(
            (&p.shape, &p.weight, &p.beta),
            (&q.shape, &q.weight, &q.beta),
            "{name}"
        );
        assert_eq!(
            (&p.mean, &p.var, &p.gamma),
            (&q.mean, &q.var, &q.gamma),
            "{name}"
        );
    }
}
