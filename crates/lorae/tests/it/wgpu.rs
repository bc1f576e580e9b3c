//! The GPU path against the CPU (built with `--features wgpu`; `.ci/run` runs these on Mesa's
//! lavapipe, a CPU implementation of Vulkan): from identical weights, one training step of every
//! model family gives the CPU's loss and gradients, and the FID network the CPU's features, to a
//! relative 1e-4; the same seed gives the same initial weights and noise on both devices.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use lorae::config::{DatasetKind, Layout, ModelConfig, ModelKind, RunConfig};
use lorae::device::DeviceKind;
use lorae::model::Autoencoder;
use lorae::run::checkpoint::{load_model_bytes, model_bytes};
use lorae::tensor::tensor_values;

fn gpu() -> Device {
    DeviceKind::Wgpu
        .device()
        .expect("a wgpu device (lavapipe: apt-get install mesa-vulkan-drivers)")
}

/// Largest |a − b| over the largest |a|.
fn relative(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().fold(0f64, |m, v| m.max(v.abs() as f64)).max(1e-12);
    let diff = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (x, y)| m.max((*x as f64 - *y as f64).abs()));
    diff / scale
}

/// Every parameter's gradient, in module order, flattened to host floats.
fn gradients(model: &Autoencoder, grads: &GradientsParams) -> Vec<(String, Vec<f32>)> {
    struct Collect<'a> {
        grads: &'a GradientsParams,
        out: Vec<(String, Vec<f32>)>,
        path: Vec<String>,
    }
    impl ModuleVisitor for Collect<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let name = self.path.join(".");
            let values = match self.grads.get::<D>(param.id) {
                Some(g) => tensor_values(g.to_device(&Device::flex())).unwrap(),
                None => Vec::new(),
            };
            self.out.push((name, values));
        }
    }
    let mut c = Collect {
        grads,
        out: Vec::new(),
        path: Vec::new(),
    };
    model.visit(&mut c);
    c.out
}

/// The loss values and gradients of one batch on `device`, from the weights in `bytes`.
fn loss_and_gradients(
    config: &ModelConfig,
    layout: Layout,
    bytes: &[u8],
    device: &Device,
) -> (Vec<f32>, Vec<(String, Vec<f32>)>) {
    let device = device.clone().autodiff();
    let template = Autoencoder::new(config, layout, &device);
    let model = load_model_bytes(template, bytes, std::path::Path::new("weights")).unwrap();
    // The same batch and the same noise on both devices: lorae draws on the host.
    lorae::device::seed(&device, 11);
    let [c, h, w] = layout.image_shape();
    let x = lorae::device::random::<4>([4, c, h, w], Distribution::Uniform(0.0, 1.0), &device);
    let losses = model.losses(x, config).unwrap();
    let values = tensor_values(
        Tensor::cat(
            vec![
                losses.total.clone(),
                losses.reconstruction,
                losses.regularizer,
            ],
            0,
        )
        .to_device(&Device::flex()),
    )
    .unwrap();
    let grads = GradientsParams::from_grads(losses.total.backward(), &model);
    (values, gradients(&model, &grads))
}

#[test]
fn one_step_of_every_family_matches_the_cpu() {
    let _rng = crate::burn_rng();
    let gpu = gpu();
    let layout = Layout::Shapes;
    for kind in [
        ModelKind::Ae,
        ModelKind::AeL1,
        ModelKind::AeL2,
        ModelKind::Vae,
        ModelKind::Irmae,
        ModelKind::Lorae,
        ModelKind::Rae,
        ModelKind::Wae,
        ModelKind::Rrae,
    ] {
        let mut config = RunConfig::for_dataset(kind, DatasetKind::Shapes).model;
        config.rank = (kind == ModelKind::Rrae).then_some(3);
        let host = Device::flex();
        host.seed(3);
        let bytes = model_bytes(&Autoencoder::new(&config, layout, &host)).unwrap();
        let (loss_cpu, grads_cpu) = loss_and_gradients(&config, layout, &bytes, &host);
        let (loss_gpu, grads_gpu) = loss_and_gradients(&config, layout, &bytes, &gpu);
        let rel = relative(&loss_cpu, &loss_gpu);
        eprintln!("{kind}: losses {loss_cpu:?} (cpu) {loss_gpu:?} (wgpu), relative {rel:.2e}");
        assert!(
            rel <= 1e-4,
            "{kind}: loss {loss_cpu:?} against {loss_gpu:?}"
        );
        let mut worst = 0f64;
        for ((name, a), (_, b)) in grads_cpu.iter().zip(&grads_gpu) {
            assert_eq!(a.is_empty(), b.is_empty(), "{kind}: {name}");
            if !a.is_empty() {
                let r = relative(a, b);
                worst = worst.max(r);
                assert!(r <= 1e-4, "{kind}: gradient of {name} differs by {r:.2e}");
            }
        }
        eprintln!("{kind}: gradients agree to {worst:.2e} (relative)");
    }
}

/// The GAN's step (a discriminator update, then a generator update) gives the CPU's losses.
#[test]
fn a_gan_step_matches_the_cpu() {
    let _rng = crate::burn_rng();
    let layout = Layout::Shapes;
    let config = RunConfig::for_dataset(ModelKind::Gan, DatasetKind::Shapes).model;
    let host = Device::flex();
    host.seed(3);
    let bytes = model_bytes(&Autoencoder::new(&config, layout, &host)).unwrap();
    let losses = |device: &Device| {
        let device = device.clone().autodiff();
        let template = Autoencoder::new(&config, layout, &device);
        let model = load_model_bytes(template, &bytes, std::path::Path::new("weights")).unwrap();
        lorae::device::seed(&device, 11);
        let [c, h, w] = layout.image_shape();
        let x = lorae::device::random::<4>([4, c, h, w], Distribution::Uniform(0.0, 1.0), &device);
        let mut optim = lorae::train::gan::adam();
        let (_, l) =
            lorae::train::gan::step(model, &mut optim, x, config.latent_dim, 2e-4).unwrap();
        [l.discriminator as f32, l.generator as f32]
    };
    let (cpu, gpu) = (losses(&host), losses(&gpu()));
    let rel = relative(&cpu, &gpu);
    eprintln!("gan: losses {cpu:?} (cpu) {gpu:?} (wgpu), relative {rel:.2e}");
    assert!(rel <= 1e-4, "{cpu:?} against {gpu:?}");
}

#[test]
fn the_same_seed_gives_the_same_draws_on_both_devices() {
    let _rng = crate::burn_rng();
    let gpu = gpu().autodiff();
    let host = Device::flex().autodiff();
    let draw = |device: &Device| {
        lorae::device::seed(device, 5);
        let t = lorae::device::random::<2>([3, 7], Distribution::Normal(0.0, 1.0), device);
        tensor_values(t.to_device(&Device::flex())).unwrap()
    };
    assert_eq!(draw(&host), draw(&gpu));
}

#[test]
#[ignore = "needs the FID weights: lorae data fetch fid-weights (.ci/run fetches them and runs --include-ignored)"]
fn fid_features_match_the_cpu() {
    let _rng = crate::burn_rng();
    let weights = crate::fetched("fid-weights/default_1.pt");
    let hidden = indicatif::ProgressBar::hidden();
    let images = crate::fid_inception::pattern_images(2, 3, 0);
    let features = |device: &Device| {
        let net = lorae::eval::fid::inception::FidInception::load(&weights, device).unwrap();
        net.features(&images, 2, device, &hidden).unwrap()
    };
    let (cpu, gpu) = (features(&Device::flex()), features(&gpu()));
    let rel = relative(&cpu, &gpu);
    eprintln!("FID features: relative difference {rel:.2e}");
    assert!(rel <= 1e-4, "{rel}");
}
