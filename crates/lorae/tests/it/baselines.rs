//! The baselines' regularisers against hand computations, and the GAN step.

use burn::nn::LinearConfig;
use burn::prelude::*;
use lorae::config::{DatasetKind, ModelKind, RaeReg, RunConfig};
use lorae::model::{rae, wae, Autoencoder};
use lorae::tensor::tensor_values;
use lorae::train::gan;

fn matrix(rows: &[&[f32]], device: &Device) -> Tensor<2> {
    let cols = rows[0].len();
    let values: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(values, [rows.len(), cols]), device)
}

fn scalar(t: Tensor<1>) -> f64 {
    tensor_values(t).unwrap()[0] as f64
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

#[test]
fn rae_code_penalty_and_decoder_l2_match_hand_computations() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let z = matrix(&[&[1.0, 2.0], &[-3.0, 0.5]], &device);
    // ½‖z‖² averaged over the batch: ½ · ((1 + 4) + (9 + 0.25)) / 2 = 3.5625.
    assert!(close(scalar(rae::code_penalty(z)), 3.5625, 1e-6));
    let linear = LinearConfig::new(3, 2).init(&device);
    let mut by_hand = 0.0;
    for v in tensor_values(linear.weight.val())
        .unwrap()
        .into_iter()
        .chain(tensor_values(linear.bias.as_ref().unwrap().val()).unwrap())
    {
        by_hand += (v as f64) * (v as f64);
    }
    assert!(close(
        scalar(rae::sum_of_squares(&linear, &device)),
        by_hand,
        1e-5
    ));
}

#[test]
fn jacobian_penalty_is_exact_for_a_linear_map() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let a = matrix(&[&[1.0, 2.0, 0.0], &[0.0, -1.0, 3.0]], &device); // [2, 3]
    let z = matrix(&[&[0.3, -0.2], &[1.0, 4.0]], &device);
    let v = matrix(&[&[1.0, 1.0], &[2.0, -1.0]], &device);
    // J v = v A: rows (1, 1, 3) and (2, 5, −3); ‖·‖² = 11 and 38; batch mean 24.5.
    let penalty = scalar(rae::jacobian_penalty(|z| z.matmul(a.clone()), z, v, 1e-2));
    assert!(close(penalty, 24.5, 1e-3), "{penalty}");
}

/// The summed IMQ kernel, written out.
fn imq(x: &[f64], y: &[f64]) -> f64 {
    let d = x.len() as f64;
    let dist: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    wae::SCALES
        .iter()
        .map(|s| {
            let c = s * 2.0 * d;
            c / (c + dist)
        })
        .sum()
}

#[test]
fn mmd_matches_the_unbiased_estimate_written_out() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let xs = [[0.0, 0.0], [1.0, 0.0], [0.5, 2.0]];
    let ys = [[0.0, 1.0], [2.0, 2.0]];
    let mut kxx = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                kxx += imq(&xs[i], &xs[j]);
            }
        }
    }
    let kyy = 2.0 * imq(&ys[0], &ys[1]);
    let mut kxy = 0.0;
    for x in &xs {
        for y in &ys {
            kxy += imq(x, y);
        }
    }
    let expected = kxx / 6.0 + kyy / 2.0 - 2.0 * kxy / 6.0;
    let rows = |a: &[[f64; 2]]| -> Vec<Vec<f32>> {
        a.iter()
            .map(|r| r.iter().map(|&v| v as f32).collect())
            .collect()
    };
    let (xr, yr) = (rows(&xs), rows(&ys));
    let x = matrix(
        &xr.iter().map(|r| r.as_slice()).collect::<Vec<_>>(),
        &device,
    );
    let y = matrix(
        &yr.iter().map(|r| r.as_slice()).collect::<Vec<_>>(),
        &device,
    );
    assert!(close(scalar(wae::mmd(x, y)), expected, 1e-5));
}

#[test]
fn mmd_of_two_samples_of_one_distribution_is_near_zero_and_grows_with_a_shift() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    device.seed(3);
    let normal = |shift: f64| {
        Tensor::<2>::random(
            [400, 8],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        ) + shift
    };
    let base = normal(0.0);
    let same = scalar(wae::mmd(base.clone(), normal(0.0)));
    let mut previous = same;
    assert!(same.abs() < 0.05, "same distribution: {same}");
    for shift in [0.5, 1.0, 2.0] {
        let m = scalar(wae::mmd(base.clone(), normal(shift)));
        assert!(m > previous + 0.05, "shift {shift}: {m} after {previous}");
        previous = m;
    }
}

#[test]
fn gan_losses_match_softplus_by_hand() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let real = matrix(&[&[2.0], &[-1.0]], &device);
    let fake = matrix(&[&[0.5], &[-3.0]], &device);
    let sp = |x: f64| (1.0 + x.exp()).ln();
    let d = (sp(-2.0) + sp(1.0)) / 2.0 + (sp(0.5) + sp(-3.0)) / 2.0;
    let g = (sp(-0.5) + sp(3.0)) / 2.0;
    assert!(close(
        scalar(gan::discriminator_loss(real, fake.clone())),
        d,
        1e-5
    ));
    assert!(close(scalar(gan::generator_loss(fake)), g, 1e-5));
}

#[test]
fn a_gan_step_updates_both_networks_and_the_regularised_losses_are_finite() {
    let _rng = crate::burn_rng();
    let device = Device::flex().autodiff();
    device.seed(1);
    let config = RunConfig::for_dataset(ModelKind::Gan, DatasetKind::Shapes).model;
    let layout = DatasetKind::Shapes.layout(32);
    let model = Autoencoder::new(&config, layout, &device);
    let before_d = tensor_values(model.encoder.convs[0].weight.val()).unwrap();
    let before_g = tensor_values(model.decoder.deconvs[0].weight.val()).unwrap();
    let x = Tensor::<4>::random(
        [4, 3, 32, 32],
        burn::tensor::Distribution::Uniform(0.0, 1.0),
        &device,
    );
    let mut optim = gan::adam();
    let (model, losses) = gan::step(model, &mut optim, x.clone(), config.latent_dim, 1e-3).unwrap();
    assert!(losses.discriminator.is_finite() && losses.generator.is_finite());
    assert_ne!(
        tensor_values(model.encoder.convs[0].weight.val()).unwrap(),
        before_d
    );
    assert_ne!(
        tensor_values(model.decoder.deconvs[0].weight.val()).unwrap(),
        before_g
    );
    for (kind, reg) in [
        (ModelKind::Rae, RaeReg::L2),
        (ModelKind::Rae, RaeReg::Gp),
        (ModelKind::Wae, RaeReg::L2),
    ] {
        let mut config = RunConfig::for_dataset(kind, DatasetKind::Shapes).model;
        config.rae_reg = reg;
        let model = Autoencoder::new(&config, layout, &device);
        let losses = model.losses(x.clone(), &config).unwrap();
        let reg_value = scalar(losses.regularizer);
        assert!(
            reg_value.is_finite() && reg_value > 0.0,
            "{kind} {reg:?}: {reg_value}"
        );
    }
}
