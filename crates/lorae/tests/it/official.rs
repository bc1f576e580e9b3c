//! Parity with the official codes' `model.py`: a state dict of their `model.AE` imported by
//! [`lorae::run::import`] computes what their forward pass computed (codes, reconstructions,
//! training loss; the VAE's μ and log σ² with its noise fixed) for the MNIST AE, IRMAE l = 8,
//! LoRAE (with λ‖M‖*) and VAE, and the shapes and CelebA layouts, to 1e-5 of each tensor's
//! scale. The expected numbers come from `tools/official_parity.py` (see
//! [`super::official_fixture`]); the bad checkpoints at the end are real `torch.save` files it
//! wrote.

use burn::prelude::*;
use lorae::config::{DatasetKind, ModelKind, Overrides, RunConfig};
use lorae::model::vae;
use lorae::run::import;
use lorae::tensor::tensor_values;
use serde_json::Value;

use super::official_fixture::{dir, manifest, pixels, relative_error, state_dict};

/// Forward passes agree to this fraction of each tensor's largest value.
const TOLERANCE: f64 = 1e-5;

/// The run configuration matching a manifest case's official `args`.
pub fn config_of(case: &Value) -> RunConfig {
    let args = &case["args"];
    let dataset = match args["dataset"].as_str().unwrap() {
        "mnist" => DatasetKind::Mnist,
        "shape" => DatasetKind::Shapes,
        "celeba" => DatasetKind::Celeba,
        other => panic!("dataset {other}"),
    };
    let layers = args["l"].as_u64().unwrap() as usize;
    let kind = if args["vae"].as_bool() == Some(true) {
        ModelKind::Vae
    } else if !case["lambda"].is_null() {
        ModelKind::Lorae
    } else if layers > 0 {
        ModelKind::Irmae
    } else {
        ModelKind::Ae
    };
    Overrides {
        model: Some(kind),
        dataset: Some(dataset),
        latent_dim: Some(args["n"].as_u64().unwrap() as usize),
        layers: matches!(kind, ModelKind::Irmae | ModelKind::Lorae).then_some(layers),
        lambda: case["lambda"].as_f64(),
        beta: args["beta"].as_f64(),
        ..Overrides::default()
    }
    .config()
    .unwrap()
}

fn expected(case: &Value, field: &str) -> Vec<f32> {
    let file = dir().join(case[field].as_str().unwrap());
    let array = lorae::io::npy::read(&file).unwrap();
    array.values.iter().map(|&v| v as f32).collect()
}

fn check(name: &str, what: &str, got: &[f32], want: &[f32]) {
    let err = relative_error(got, want);
    eprintln!("{name}: {what} {err:.1e}");
    assert!(
        err <= TOLERANCE,
        "{name}: {what} differ by {err:.2e} of their scale (tolerance {TOLERANCE:.0e})"
    );
}

#[test]
fn imported_official_models_compute_what_the_official_forward_pass_computed() {
    let manifest = manifest();
    let cases = manifest["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 6, "the script writes six cases");
    let device = lorae::device::host();
    for (name, case) in cases {
        let config = config_of(case);
        let dict = state_dict(&case["keys"]);
        let (model, _) =
            import::model_from_state_dict(&dict, &config, std::path::Path::new(name), &device)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let shape = config.data.layout().image_shape();
        let batch = case["batch"].as_u64().unwrap() as usize;
        let n = batch * shape.iter().product::<usize>();
        let x = Tensor::<4>::from_data(
            TensorData::new(
                pixels(case["input_seed"].as_u64().unwrap(), n),
                [batch, shape[0], shape[1], shape[2]],
            ),
            &device,
        );
        let want_loss = case["loss"].as_f64().unwrap();
        let (codes, loss) = if config.model.kind == ModelKind::Vae {
            let (mu, log_var) = vae::split_moments(model.encoder.forward(x.clone()));
            check(
                name,
                "μ",
                &tensor_values(mu.clone()).unwrap(),
                &expected(case, "mu"),
            );
            let lv = tensor_values(log_var.clone()).unwrap();
            check(name, "log σ²", &lv, &expected(case, "logvar"));
            let eps =
                Tensor::<2>::from_data(TensorData::new(expected(case, "eps"), mu.dims()), &device);
            let z = mu.clone() + (log_var.clone() * 0.5).exp() * eps; // [batch, d]
            let loss = vae::binary_cross_entropy(model.decode(z.clone()), x.clone())
                + vae::mean_kl_term(mu, log_var) * config.model.beta;
            (z, tensor_values(loss).unwrap()[0] as f64)
        } else {
            let losses = model.losses(x.clone(), &config.model).unwrap();
            (
                model.encode(x),
                tensor_values(losses.total).unwrap()[0] as f64,
            )
        };
        check(
            name,
            "codes",
            &tensor_values(codes.clone()).unwrap(),
            &expected(case, "codes"),
        );
        let recon = tensor_values(model.decode(codes)).unwrap();
        check(
            name,
            "reconstructions",
            &recon,
            &expected(case, "reconstruction"),
        );
        let loss_err = (loss - want_loss).abs() / want_loss.abs();
        eprintln!("{name}: loss {loss_err:.1e}");
        assert!(
            loss_err <= TOLERANCE,
            "{name}: loss {loss} against the official {want_loss} ({loss_err:.2e} relative)"
        );
    }
}

/// Every mapping that is not the identity really moves values: a transposed `nn.Linear`, the
/// 1×1 transposed convolution's swapped channels, and the shapes layout's 2×2 kernels at the
/// centre of zero 4×4 ones.
#[test]
fn the_import_plan_names_every_official_key_once() {
    let manifest = manifest();
    for (name, case) in manifest["cases"].as_object().unwrap() {
        let config = config_of(case);
        let plan = import::plan(&config.model, config.data.layout()).unwrap();
        let official: Vec<(String, Vec<u64>)> = case["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let shape = k["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap());
                (k["key"].as_str().unwrap().to_string(), shape.collect())
            })
            .collect();
        let planned: Vec<(String, Vec<u64>)> = plan
            .iter()
            .map(|e| {
                (
                    e.official.clone(),
                    e.shape.iter().map(|&d| d as u64).collect(),
                )
            })
            .collect();
        let (mut a, mut b) = (official.clone(), planned.clone());
        a.sort();
        b.sort();
        assert_eq!(
            a, b,
            "{name}: the plan's keys and shapes are the official state dict's"
        );
    }
}

fn mnist_case(name: &str) -> (Value, RunConfig) {
    let case = manifest()["cases"][name].clone();
    let config = config_of(&case);
    (case, config)
}

fn import_error(dict: &import::StateDict, config: &RunConfig) -> String {
    let device = lorae::device::host();
    match import::model_from_state_dict(dict, config, std::path::Path::new("ckpt.pt"), &device) {
        Ok(_) => panic!("the import should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_vae_checkpoint_imported_as_an_ae_names_the_key_and_the_expected_shape() {
    let (vae_case, _) = mnist_case("mnist-vae");
    let (_, ae) = mnist_case("mnist-ae");
    let msg = import_error(&state_dict(&vae_case["keys"]), &ae);
    assert!(msg.contains("ckpt.pt"), "{msg}");
    assert!(
        msg.contains("enc.fc.weight") && msg.contains("[16, 1024]"),
        "{msg}"
    );
    assert!(msg.contains("--model vae --latent-dim 16"), "{msg}");
}

#[test]
fn an_irmae_checkpoint_with_other_layers_or_latent_size_is_refused_with_the_right_flags() {
    let (case, mut config) = mnist_case("mnist-irmae");
    let dict = state_dict(&case["keys"]);
    config.model.layers = 4;
    let msg = import_error(&dict, &config);
    assert!(
        msg.contains("mlp.hidden.4.weight") && msg.contains("--layers 8"),
        "{msg}"
    );
    let (_, mut config) = mnist_case("mnist-irmae");
    config.model.latent_dim = 32;
    let msg = import_error(&dict, &config);
    assert!(
        msg.contains("enc.fc.weight") && msg.contains("[32, 1024]"),
        "{msg}"
    );
    assert!(msg.contains("--latent-dim 16"), "{msg}");
    let (_, mut config) = mnist_case("mnist-ae");
    config.model.kind = ModelKind::Ae;
    let msg = import_error(&dict, &config);
    assert!(
        msg.contains("mlp.hidden.0.weight") && msg.contains("--layers 8"),
        "{msg}"
    );
}

#[test]
fn non_finite_weights_are_refused_by_key() {
    let (case, config) = mnist_case("mnist-ae");
    let mut dict = state_dict(&case["keys"]);
    dict.get_mut("dec.fc.bias").unwrap().1[3] = f32::NAN;
    let msg = import_error(&dict, &config);
    assert!(msg.contains("dec.fc.bias") && msg.contains("NaN"), "{msg}");
}

/// Real `torch.save` files that are no importable state dict: each a clear error naming the
/// file (and the key), nothing written.
#[test]
fn bad_checkpoint_files_are_refused_and_nothing_is_written() {
    let _rng = super::burn_rng();
    let tmp = tempfile::tempdir().unwrap();
    let truncated = tmp.path().join("truncated.pt");
    let head = std::fs::read(dir().join("bad-head.pt")).unwrap();
    std::fs::write(&truncated, &head[..head.len() / 2]).unwrap();
    let overrides = Overrides {
        model: Some(ModelKind::Irmae),
        dataset: Some(DatasetKind::Mnist),
        ..Overrides::default()
    };
    let cases = [
        (dir().join("bad-head.pt"), "has no `enc.dcnn.0.weight`"),
        (dir().join("bad-not-state-dict.pt"), "not a state dict"),
        (dir().join("bad-module.pt"), ""),
        (truncated.clone(), ""),
        (tmp.path().to_path_buf(), "not a regular file"),
    ];
    for (i, (file, says)) in cases.iter().enumerate() {
        let out = tmp.path().join(format!("run{i}"));
        let err = lorae::train::import(file, &overrides, &out)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains(says), "{file:?}: {err}");
        assert!(!out.exists(), "{file:?}: {} was created", out.display());
    }
}

/// Per-step losses of training may drift from the official loop's by at most this fraction:
/// float32 sums in another order (burn's kernels against PyTorch's) give each step's loss a
/// relative error near 1e-7, and 200 Adam steps amplify it; measured on the fixture: see
/// `training_tracks_the_official_loop_step_for_step`'s message and README.
pub const TRAINING_TOLERANCE: f64 = 1e-3;

/// Training parity: from the same initial weights (imported) and the same batches (the first
/// 640 MNIST training images, resized by torchvision, in file order), lorae's Adam steps give
/// the official `train.py` loop's loss at every one of 200 steps, for IRMAE l = 8 and LoRAE
/// (λ‖M‖* through its exact gradient U Vᵀ).
#[test]
fn training_tracks_the_official_loop_step_for_step() {
    use lorae::data::DataSource;
    let manifest = manifest();
    let training = &manifest["training"];
    let (images, epochs, batch) = (
        training["images"].as_u64().unwrap() as usize,
        training["epochs"].as_u64().unwrap() as usize,
        training["batch_size"].as_u64().unwrap() as usize,
    );
    let lr = training["lr"].as_f64().unwrap();
    let data = lorae::data::mnist::Mnist {
        dir: dir(),
        train_size: images,
        test_size: 64,
    }
    .load()
    .unwrap();
    assert_eq!(data.train.len(), images);
    let device = lorae::device::host().autodiff();
    let mut report = Vec::new();
    for (name, case) in training["cases"].as_object().unwrap() {
        let config = config_of(case);
        let (mut model, _) = import::model_from_state_dict(
            &state_dict(&case["keys"]),
            &config,
            std::path::Path::new(name),
            &device,
        )
        .unwrap();
        let mut optim = lorae::train::step::adam();
        let want: Vec<f64> = case["losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mut worst = (0.0f64, 0usize);
        let mut step_index = 0;
        for _ in 0..epochs {
            for start in (0..images).step_by(batch) {
                let indices: Vec<usize> = (start..(start + batch).min(images)).collect();
                let x = data.train.batch(&indices, config.data.pixel_range, &device);
                let (next, losses) =
                    lorae::train::step::step(model, &mut optim, x, &config.model, lr, &[]).unwrap();
                model = next;
                let err = (losses.total - want[step_index]).abs() / want[step_index].abs();
                if err > worst.0 {
                    worst = (err, step_index + 1);
                }
                step_index += 1;
            }
        }
        assert_eq!(
            step_index,
            want.len(),
            "{name}: as many steps as the official loop"
        );
        report.push(format!("{name}: worst step {} at {:.2e}", worst.1, worst.0));
        assert!(
            worst.0 <= TRAINING_TOLERANCE,
            "{name}: step {} loss differs from the official loop's by {:.2e} relative (tolerance {TRAINING_TOLERANCE:.0e})",
            worst.1,
            worst.0
        );
    }
    eprintln!("training parity: {}", report.join("; "));
}

/// A fresh lorae model's weights are drawn as PyTorch draws the official model's: per tensor,
/// the same bound `1/√fan_in` (never exceeded, and nearly reached) and the same standard
/// deviation to sampling noise; the shapes layout's embedded 2×2 kernels are zero outside their
/// centre. Expected moments: the official model at seed 0 (`manifest.json`'s `init`).
#[test]
fn fresh_weights_have_the_official_initialisation_per_layer() {
    let _rng = super::burn_rng();
    let manifest = manifest();
    let device = lorae::device::host();
    for (name, case) in manifest["init"].as_object().unwrap() {
        let config = config_of(&serde_json::json!({ "args": case["args"], "lambda": null }));
        device.seed(0);
        let model = lorae::model::Autoencoder::new(&config.model, config.data.layout(), &device);
        lorae::run::checkpoint::model_bytes(&model).unwrap(); // draws in module order, as training does
        let model = model.zero_dead_taps().unwrap();
        let bytes = lorae::run::checkpoint::model_bytes(&model).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let plan = import::plan(&config.model, config.data.layout()).unwrap();
        for t in case["tensors"].as_array().unwrap() {
            let key = t["key"].as_str().unwrap();
            let entry = plan.iter().find(|e| e.official == key).unwrap();
            let view = st.tensor(&entry.lorae).unwrap();
            let all: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let values: Vec<f64> = if entry.mapping == import::Mapping::Embed2x2 {
                let centre = |i: usize| (1..3).contains(&(i % 16 / 4)) && (1..3).contains(&(i % 4));
                let outer = all.iter().enumerate().filter(|(i, _)| !centre(*i));
                assert!(
                    outer.clone().all(|(_, &v)| v == 0.0),
                    "{name} {key}: outer taps are zero"
                );
                all.iter()
                    .enumerate()
                    .filter(|(i, _)| centre(*i))
                    .map(|(_, &v)| v as f64)
                    .collect()
            } else {
                all.iter().map(|&v| v as f64).collect()
            };
            let n = values.len() as f64;
            assert_eq!(
                n as u64,
                t["count"].as_u64().unwrap(),
                "{name} {key}: count"
            );
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            let max_abs = values.iter().fold(0f64, |m, v| m.max(v.abs()));
            let bound = t["bound"].as_f64().unwrap();
            assert!(
                max_abs <= bound * (1.0 + 1e-6),
                "{name} {key}: |w| reaches {max_abs}, bound {bound}"
            );
            if n >= 16.0 {
                assert!(
                    max_abs >= 0.5 * bound,
                    "{name} {key}: |w| ≤ {max_abs}, PyTorch's bound is {bound}"
                );
                // A uniform's sample standard deviation has a relative spread of about 0.45/√n.
                let want = t["std"].as_f64().unwrap();
                let tol = 6.0 * 0.45 * (2.0 / n).sqrt();
                assert!(
                    (std - want).abs() <= tol * want,
                    "{name} {key}: std {std:.5} against PyTorch's {want:.5} (tolerance {:.1}%)",
                    100.0 * tol
                );
            }
        }
    }
}
