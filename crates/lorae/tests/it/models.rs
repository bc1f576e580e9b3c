//! Model forward shapes, the training step, folding, and the nuclear-norm term.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lorae::config::{DatasetKind, Layout, ModelConfig, ModelKind, RunConfig};
use lorae::model::lorae::nuclear_norm;
use lorae::model::Autoencoder;
use lorae::tensor::tensor_values;
use nalgebra::DMatrix;

fn model_config(kind: ModelKind) -> ModelConfig {
    RunConfig::for_dataset(kind, DatasetKind::Shapes).model
}

fn batch(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
    device.seed(seed);
    Tensor::random(shape, burn::tensor::Distribution::Uniform(0.0, 1.0), device)
}

#[test]
fn every_model_maps_images_to_codes_and_back_for_every_layout() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    for (layout, d) in [
        (Layout::Shapes, 32),
        (Layout::Mnist, 16),
        (Layout::Cifar, 16),
        (Layout::Celeba, 8),
    ] {
        let [c, h, w] = layout.image_shape();
        for kind in [
            ModelKind::Ae,
            ModelKind::Vae,
            ModelKind::Irmae,
            ModelKind::Lorae,
            ModelKind::Rae,
            ModelKind::Wae,
            ModelKind::Rrae,
            ModelKind::Arrae,
        ] {
            let mut config = model_config(kind);
            config.latent_dim = d;
            if matches!(kind, ModelKind::Rrae | ModelKind::Arrae) {
                config.rank = Some(d / 4);
            }
            let model = Autoencoder::new(&config, layout, &device);
            let x = batch([2, c, h, w], 1, &device);
            let z = model.encode(x.clone());
            assert_eq!(z.dims(), [2, d], "{kind} {layout:?}");
            let y = model.reconstruct(x.clone());
            assert_eq!(y.dims(), [2, c, h, w], "{kind} {layout:?}");
            let losses = model.losses(x, &config).unwrap();
            let total = tensor_values(losses.total).unwrap()[0];
            assert!(total.is_finite() && total > 0.0);
        }
    }
}

#[test]
fn irmae_chain_has_l_bias_free_layers_initialised_like_pytorch() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    device.seed(0);
    let mut config = model_config(ModelKind::Irmae);
    config.layers = 4;
    config.latent_dim = 64;
    let model = Autoencoder::new(&config, Layout::Shapes, &device);
    let chain = model.chain.as_ref().unwrap();
    assert_eq!(chain.depth(), 4);
    for layer in &chain.layers {
        assert!(layer.bias.is_none());
        let w = tensor_values(layer.weight.val()).unwrap();
        let bound = 1.0 / 8.0; // 1/√d
        assert!(w.iter().all(|v| v.abs() <= bound));
        // Uniform(−b, b) has variance b²/3.
        let var = w.iter().map(|v| (v * v) as f64).sum::<f64>() / w.len() as f64;
        assert!(
            (var / (bound * bound / 3.0) as f64 - 1.0).abs() < 0.1,
            "variance {var}"
        );
    }
    // Variance ×4 doubles the bound.
    config.init_scale = 4.0;
    let scaled = Autoencoder::new(&config, Layout::Shapes, &device);
    let w = tensor_values(scaled.chain.unwrap().layers[0].weight.val()).unwrap();
    let max = w.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(max > 0.125 && max <= 0.25, "max |w| {max}");
    // Shared: one matrix applied l times.
    config.shared_linear = true;
    let shared = Autoencoder::new(&config, Layout::Shapes, &device);
    assert_eq!(shared.chain.as_ref().unwrap().layers.len(), 1);
    assert_eq!(shared.chain.as_ref().unwrap().depth(), 4);
}

#[test]
fn training_steps_lower_the_loss_on_a_fixed_batch_and_change_the_weights() {
    let _rng = crate::burn_rng();
    let device = Device::flex().autodiff();
    for kind in [
        ModelKind::Ae,
        ModelKind::Vae,
        ModelKind::Irmae,
        ModelKind::Lorae,
    ] {
        device.seed(11);
        let mut config = model_config(kind);
        config.lambda = 1e-3;
        let mut model = Autoencoder::new(&config, Layout::Shapes, &device);
        let before = tensor_values(model.decoder.deconvs[0].weight.val()).unwrap();
        let x = batch([8, 3, 32, 32], 5, &device);
        let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
        let loss_of = |m: &Autoencoder| {
            device.seed(99); // same VAE noise for every evaluation
            tensor_values(m.losses(x.clone(), &config).unwrap().total).unwrap()[0]
        };
        let first = loss_of(&model);
        // The Sigmoid/BCE VAE starts at ln 2 on every pixel and moves more slowly on noise.
        let steps = if kind == ModelKind::Vae { 40 } else { 10 };
        for _ in 0..steps {
            device.seed(99);
            let losses = model.losses(x.clone(), &config).unwrap();
            let grads = GradientsParams::from_grads(losses.total.backward(), &model);
            model = optim.step(1e-3, model, grads);
        }
        let last = loss_of(&model);
        // The BCE VAE's loss cannot fall below the targets' entropy, mean of
        // −(x ln x + (1 − x) ln(1 − x)): measure the progress above that floor.
        let floor = if kind == ModelKind::Vae {
            let xs = tensor_values(x.clone()).unwrap();
            xs.iter()
                .map(|&v| {
                    let v = (v as f64).clamp(1e-7, 1.0 - 1e-7);
                    -(v * v.ln() + (1.0 - v) * (1.0 - v).ln())
                })
                .sum::<f64>() as f32
                / xs.len() as f32
        } else {
            0.0
        };
        assert!(
            last - floor < (first - floor) * 0.9,
            "{kind}: loss {first} -> {last} (floor {floor})"
        );
        let after = tensor_values(model.decoder.deconvs[0].weight.val()).unwrap();
        assert_ne!(before, after, "{kind}: weights did not change");
    }
}

#[test]
fn folding_the_chain_gives_the_same_codes() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    for (layout, layers, shared) in [
        (Layout::Shapes, 2, false),
        (Layout::Mnist, 8, false),
        (Layout::Shapes, 3, true),
    ] {
        device.seed(3);
        let mut config = model_config(ModelKind::Irmae);
        config.layers = layers;
        config.shared_linear = shared;
        config.latent_dim = 32;
        let model = Autoencoder::new(&config, layout, &device);
        let folded = model.fold().unwrap();
        assert!(folded.chain.is_none());
        let [c, h, w] = layout.image_shape();
        let x = batch([4, c, h, w], 8, &device);
        let a = tensor_values(model.encode(x.clone())).unwrap();
        let b = tensor_values(folded.encode(x)).unwrap();
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (u, v) in a.iter().zip(&b) {
            assert!(
                (u - v).abs() <= 1e-5 * scale.max(1.0),
                "{layout:?}: {u} vs {v}"
            );
        }
    }
    // A chain with ReLUs between its layers is not linear: folding is refused.
    let mut config = model_config(ModelKind::Irmae);
    config.relu_between = true;
    assert!(Autoencoder::new(&config, Layout::Shapes, &device)
        .fold()
        .is_err());
}

fn singular_values(m: &DMatrix<f64>) -> Vec<f64> {
    // Independent of the SVD routine: square roots of the eigenvalues of MᵀM.
    let mut s: Vec<f64> = (m.transpose() * m)
        .symmetric_eigen()
        .eigenvalues
        .iter()
        .map(|&e| e.max(0.0).sqrt())
        .collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

#[test]
fn nuclear_norm_is_the_sum_of_singular_values_with_gradient_u_vt() {
    let _rng = crate::burn_rng();
    let device = Device::flex().autodiff();
    let d = 6;
    device.seed(21);
    let m = Tensor::<2>::random(
        [d, d],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    )
    .require_grad();
    let values: Vec<f64> = tensor_values(m.clone())
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let host = DMatrix::from_row_slice(d, d, &values);

    let norm = nuclear_norm(m.clone()).unwrap();
    let expected: f64 = singular_values(&host).iter().sum();
    let got = tensor_values(norm.clone()).unwrap()[0] as f64;
    assert!(
        (got - expected).abs() < 1e-4 * expected,
        "{got} vs {expected}"
    );

    // Gradient against central finite differences of Σσ (computed in f64).
    let grads = norm.backward();
    let grad = tensor_values(m.grad(&grads).unwrap()).unwrap();
    let h = 1e-6;
    for i in 0..d * d {
        let (mut plus, mut minus) = (host.clone(), host.clone());
        plus[(i / d, i % d)] += h;
        minus[(i / d, i % d)] -= h;
        let fd = (singular_values(&plus).iter().sum::<f64>()
            - singular_values(&minus).iter().sum::<f64>())
            / (2.0 * h);
        assert!(
            (grad[i] as f64 - fd).abs() < 1e-3,
            "entry {i}: {} vs {fd}",
            grad[i]
        );
    }
}

#[test]
fn nuclear_norm_of_a_rank_deficient_matrix() {
    let _rng = crate::burn_rng();
    // rank 2 matrix: Σσ still matches and nothing fails.
    let device = Device::flex().autodiff();
    let a = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], &device);
    let m = a.clone().matmul(a.transpose()).require_grad(); // [3, 3], rank 2
    let got = tensor_values(nuclear_norm(m.clone()).unwrap()).unwrap()[0] as f64;
    let values: Vec<f64> = tensor_values(m)
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let expected: f64 = singular_values(&DMatrix::from_row_slice(3, 3, &values))
        .iter()
        .sum();
    assert!((got - expected).abs() < 1e-4 * expected);
}

#[test]
fn lorae_kernels_train_like_burns_modules() {
    // Parity of the optimised paths (1×1 output convolution as a matrix product, lorae's own
    // convolution and transposed-convolution kernels on flex with ReLU fused) with burn's modules:
    // the same losses over 20 Adam steps from the same weights, for the MNIST and shapes layouts.
    let _rng = crate::burn_rng();
    let device = Device::flex().autodiff();
    device.seed(11);
    let mut config = RunConfig::for_dataset(ModelKind::Irmae, DatasetKind::Mnist).model;
    config.latent_dim = 16;
    config.layers = 2;
    for (layout, channels) in [(Layout::Mnist, 1), (Layout::Shapes, 3)] {
        let fast = Autoencoder::new(&config, layout, &device);
        assert!(fast.decoder.own_kernels && fast.encoder.own_kernels);
        let mut plain = fast.clone();
        plain.decoder.own_kernels = false;
        plain.encoder.own_kernels = false;
        let x = batch([8, channels, 32, 32], 12, &device) * 2.0 - 1.0;
        let run = |mut model: Autoencoder| {
            let mut optim = lorae::train::step::adam();
            (0..20)
                .map(|_| {
                    let (next, losses) = lorae::train::step::step(
                        model.clone(),
                        &mut optim,
                        x.clone(),
                        &config,
                        1e-3,
                        &[],
                    )
                    .unwrap();
                    model = next;
                    losses.total
                })
                .collect::<Vec<f64>>()
        };
        let (a, b) = (run(fast), run(plain));
        assert!(a[19] < a[0], "training lowers the loss: {a:?}");
        for (i, (a, b)) in a.iter().zip(&b).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs(),
                "{layout:?} step {i}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn official_vae_loss_is_mean_bce_plus_beta_mean_kl_term() {
    // The official IRMAE code: F.binary_cross_entropy(x̂, x) − β·mean(1 + logvar − μ² − e^logvar)
    // with a Sigmoid decoder; computed here by hand from the model's own moments and output.
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let config = model_config(ModelKind::Vae);
    assert_eq!(config.vae_loss, lorae::VaeLoss::Bce);
    assert_eq!(config.beta, 0.1);
    device.seed(3);
    let model = Autoencoder::new(&config, Layout::Shapes, &device);
    assert!(model.decoder.sigmoid);
    let x = batch([2, 3, 32, 32], 4, &device);
    let h = tensor_values(model.encoder.forward(x.clone())).unwrap(); // [2, 64]
    let d = config.latent_dim;
    let mut kl = 0.0f64;
    for row in h.chunks(2 * d) {
        for j in 0..d {
            let (mu, lv) = (row[j] as f64, row[d + j] as f64);
            kl -= 1.0 + lv - mu * mu - lv.exp();
        }
    }
    kl /= (2 * d) as f64;
    device.seed(7);
    let losses = model.losses(x.clone(), &config).unwrap();
    // The same reparameterised draw: decode it by hand.
    device.seed(7);
    let (mean, log_var) = lorae::model::vae::split_moments(model.encoder.forward(x.clone()));
    let z = lorae::model::vae::reparameterize(mean, log_var);
    let p = tensor_values(model.decode(z)).unwrap();
    let xs = tensor_values(x).unwrap();
    assert!(p.iter().all(|&v| v > 0.0 && v < 1.0), "Sigmoid output");
    let bce = -p
        .iter()
        .zip(&xs)
        .map(|(&p, &x)| x as f64 * (p as f64).ln() + (1.0 - x as f64) * (1.0 - p as f64).ln())
        .sum::<f64>()
        / p.len() as f64;
    let total = tensor_values(losses.total).unwrap()[0] as f64;
    let reg = tensor_values(losses.regularizer).unwrap()[0] as f64;
    assert!(
        (reg - 0.1 * kl).abs() < 1e-5 * (0.1 * kl).abs().max(1e-3),
        "{reg} vs {}",
        0.1 * kl
    );
    assert!(
        (total - (bce + 0.1 * kl)).abs() < 1e-4 * total,
        "{total} vs {}",
        bce + 0.1 * kl
    );
}

#[test]
fn configs_written_before_vae_loss_and_fc_relu_keep_their_models() {
    let _rng = crate::burn_rng();
    // A config.json of an earlier lorae: no `vae_loss`, no `decoder_fc_relu`, β 1, pm1 pixels.
    let json = r#"{"seed":0,"data":{"dataset":"mnist","train_size":60000,"test_size":10000,
        "pixel_range":"pm1","data_dir":null,"image_size":32},
        "model":{"kind":"vae","latent_dim":128,"layers":0,"lambda":1e-5,"beta":1.0,"rae_reg":"l2",
        "frozen_linear":false,"relu_between":false,"shared_linear":false,"init_scale":1.0},
        "train":{"epochs":50,"batch_size":32,"lr":1e-4},"eval":{"rank_threshold":0.01}}"#;
    let old: RunConfig = serde_json::from_str(json).unwrap();
    old.validate().unwrap();
    assert_eq!(old.model.vae_loss, lorae::VaeLoss::Gaussian);
    assert!(!old.model.decoder_fc_relu);
    let device = Device::flex();
    let model = Autoencoder::new(&old.model, old.data.layout(), &device);
    assert!(!model.decoder.sigmoid && !model.decoder.fc_relu);
    // New MNIST runs: ReLU after the FC layer, [0, 1] pixels, the BCE VAE.
    let new = RunConfig::for_dataset(ModelKind::Vae, DatasetKind::Mnist);
    assert_eq!(new.data.pixel_range, lorae::PixelRange::ZeroOne);
    let model = Autoencoder::new(&new.model, new.data.layout(), &device);
    assert!(model.decoder.sigmoid && model.decoder.fc_relu);
    // The BCE VAE needs [0, 1] pixels.
    let mut bad = new.clone();
    bad.data.pixel_range = lorae::PixelRange::PlusMinusOne;
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("pixel-range"));
}
