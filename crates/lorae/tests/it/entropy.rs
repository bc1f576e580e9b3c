//! The RRAE paper's interpolation entropy (`lorae::eval::entropy`): the softmax entropy against
//! its definition, a judge that learns the classes, and a run's entropy that is seeded, bounded
//! and checks its settings.

use lorae::config::{DatasetKind, ModelKind, RunConfig};
use lorae::device::DeviceKind;
use lorae::eval::entropy::{
    entropy_run, judge_accuracy, softmax_entropy, train_judge, EntropyConfig,
};
use lorae::train::{self, Silent, TrainOptions};

#[test]
fn softmax_entropy_matches_its_definition() {
    assert!((softmax_entropy(&[0.0; 10]) - 10f64.ln()).abs() < 1e-12);
    assert!((softmax_entropy(&[3.0, 3.0]) - 2f64.ln()).abs() < 1e-12);
    assert!(softmax_entropy(&[200.0, 0.0, 0.0]) < 1e-12);
    // Against −Σ p ln p computed directly.
    let logits = [0.3f32, -1.2, 2.5, 0.0, 1.1];
    let z: f64 = logits.iter().map(|&v| (v as f64).exp()).sum();
    let direct: f64 = logits
        .iter()
        .map(|&v| {
            let p = (v as f64).exp() / z;
            -p * p.ln()
        })
        .sum();
    assert!((softmax_entropy(&logits) - direct).abs() < 1e-12);
}

fn shapes(train: usize, test: usize) -> RunConfig {
    let mut config = RunConfig::for_dataset(ModelKind::Rrae, DatasetKind::Shapes);
    config.model.rank = Some(2);
    config.data.train_size = train;
    config.data.test_size = test;
    config.train.epochs = 1;
    config.train.batch_size = 16;
    config.train.lr = 1e-3;
    config
}

#[test]
fn the_judge_learns_the_classes() {
    let _rng = crate::burn_rng();
    let config = shapes(2_000, 400);
    let splits = lorae::data::load(&config.data, 0).unwrap();
    let (train_labels, test_labels) = splits.labels(DatasetKind::Shapes).unwrap();
    let device = DeviceKind::Cpu.device().unwrap();
    let range = config.data.pixel_range;
    let settings = EntropyConfig {
        judge_steps: 150,
        judge_batch: 32,
        ..EntropyConfig::default()
    };
    let judge = train_judge(
        &splits.train,
        train_labels,
        config.data.layout(),
        range,
        &settings,
        &device,
    )
    .unwrap();
    let accuracy = judge_accuracy(&judge, &splits.eval, test_labels, range, &device).unwrap();
    // Circles against squares: chance is 50 % (150 steps reached 89.8 % here).
    assert!(accuracy >= 0.8, "judge test accuracy {accuracy}");
}

#[test]
fn a_runs_entropy_is_seeded_bounded_and_checks_its_settings() {
    let _rng = crate::burn_rng();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let options = TrainOptions {
        device: DeviceKind::Cpu,
        checkpoint_every: None,
    };
    train::train(&shapes(64, 32), &run, &options, &mut Silent).unwrap();
    let device = DeviceKind::Cpu.device().unwrap();
    let settings = EntropyConfig {
        pairs: 8,
        steps: 3,
        sets: 2,
        judge_steps: 10,
        judge_batch: 16,
        ..EntropyConfig::default()
    };
    let a = entropy_run(&run, None, &settings, &device).unwrap();
    let b = entropy_run(&run, None, &settings, &device).unwrap();
    assert_eq!(
        a.entropies, b.entropies,
        "the same seed gives the same sets"
    );
    assert_eq!(a.entropies.len(), 2);
    assert_eq!(a.images_per_set, 24);
    for e in &a.entropies {
        // Two classes (circle, square): at most ln 2.
        assert!(e.is_finite() && *e >= 0.0 && *e <= 2f64.ln() + 1e-9, "{e}");
    }
    assert!((0.0..=1.0).contains(&a.judge_accuracy));
    let other = entropy_run(
        &run,
        None,
        &EntropyConfig {
            seed: 1,
            ..settings.clone()
        },
        &device,
    )
    .unwrap();
    assert_ne!(
        a.entropies, other.entropies,
        "another seed draws other pairs"
    );
    for (field, bad) in [
        (
            "pairs",
            EntropyConfig {
                pairs: 0,
                ..settings.clone()
            },
        ),
        (
            "judge_lr",
            EntropyConfig {
                judge_lr: -1.0,
                ..settings.clone()
            },
        ),
    ] {
        let err = entropy_run(&run, None, &bad, &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains(field), "{err}");
    }
}
