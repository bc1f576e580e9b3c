//! Checkpoints: save → load round-trip, corrupt files, resume.

use burn::prelude::*;
use lorae::config::{DatasetKind, Layout, ModelKind, RunConfig};
use lorae::device::DeviceKind;
use lorae::model::Autoencoder;
use lorae::run::checkpoint::{load_model, save_model};
use lorae::run::metrics;
use lorae::tensor::tensor_values;
use lorae::train::{self, Silent, TrainOptions};

#[test]
fn save_then_load_gives_identical_outputs() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    for kind in [
        ModelKind::Ae,
        ModelKind::Vae,
        ModelKind::Irmae,
        ModelKind::Lorae,
        ModelKind::Rrae,
        ModelKind::Arrae,
    ] {
        let mut config = RunConfig::for_dataset(kind, DatasetKind::Shapes).model;
        config.rank = (kind == ModelKind::Rrae).then_some(3).or(config.rank);
        device.seed(1);
        let model = Autoencoder::new(&config, Layout::Shapes, &device);
        save_model(&model, &path).unwrap();
        device.seed(2);
        let other = Autoencoder::new(&config, Layout::Shapes, &device);
        let loaded = load_model(other, &path).unwrap();
        device.seed(3);
        let x = Tensor::<4>::random([3, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        assert_eq!(
            tensor_values(model.reconstruct(x.clone())).unwrap(),
            tensor_values(loaded.reconstruct(x)).unwrap(),
            "{kind}"
        );
    }
}

#[test]
fn loading_a_bad_checkpoint_names_the_file() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    std::fs::write(&path, b"not a checkpoint").unwrap();
    let config = RunConfig::for_dataset(ModelKind::Irmae, DatasetKind::Shapes).model;
    let model = Autoencoder::new(&config, Layout::Shapes, &device);
    let err = load_model(model.clone(), &path).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
    // A checkpoint of another architecture is refused, naming the tensor.
    let ae = Autoencoder::new(
        &RunConfig::for_dataset(ModelKind::Ae, DatasetKind::Shapes).model,
        Layout::Shapes,
        &device,
    );
    save_model(&ae, &path).unwrap();
    let err = load_model(model, &path).unwrap_err().to_string();
    assert!(err.contains("chain"), "{err}");
    // A missing file.
    let err = load_model(ae, &dir.path().join("absent.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent.safetensors"), "{err}");
}

fn tiny(kind: ModelKind, epochs: usize) -> RunConfig {
    let mut config = RunConfig::for_dataset(kind, DatasetKind::Shapes);
    config.data.train_size = 64;
    config.data.test_size = 32;
    config.train.epochs = epochs;
    config.train.batch_size = 16;
    config.train.lr = 1e-3;
    config
}

#[test]
fn resume_continues_the_epoch_count_and_matches_an_uninterrupted_run() {
    let _rng = crate::burn_rng();
    let options = TrainOptions {
        device: DeviceKind::Cpu,
        checkpoint_every: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let (split, whole) = (dir.path().join("split"), dir.path().join("whole"));

    let first = train::train(&tiny(ModelKind::Irmae, 1), &split, &options, &mut Silent).unwrap();
    assert_eq!(first.len(), 1);
    let rest = train::resume(&split, Some(3), &options, &mut Silent).unwrap();
    assert_eq!(rest.iter().map(|m| m.epoch).collect::<Vec<_>>(), vec![2, 3]);
    let log = metrics::read_all(&split.join("metrics.jsonl")).unwrap();
    assert_eq!(
        log.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        lorae::run::RunDir::open(&split)
            .unwrap()
            .config()
            .train
            .epochs,
        3
    );

    let straight = train::train(&tiny(ModelKind::Irmae, 3), &whole, &options, &mut Silent).unwrap();
    let (a, b) = (&straight[2], &log[2]);
    let (ma, mb) = (a.eval_mse.unwrap(), b.eval_mse.unwrap());
    assert!((ma - mb).abs() <= 1e-6 * ma, "{ma} vs {mb}");
    assert!((a.train_loss - b.train_loss).abs() <= 1e-6 * a.train_loss);

    // Nothing left to do: resuming a finished run trains no epoch.
    assert!(train::resume(&split, None, &options, &mut Silent)
        .unwrap()
        .is_empty());
    // A second `train` into the same directory is refused rather than overwriting it.
    let err = train::train(&tiny(ModelKind::Irmae, 1), &split, &options, &mut Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
}

#[test]
fn metrics_have_the_documented_fields() {
    let _rng = crate::burn_rng();
    let options = TrainOptions {
        device: DeviceKind::Cpu,
        checkpoint_every: None,
    };
    let dir = tempfile::tempdir().unwrap();
    train::train(
        &tiny(ModelKind::Lorae, 1),
        dir.path(),
        &options,
        &mut Silent,
    )
    .unwrap();
    let line = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    let json: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    for key in [
        "epoch",
        "train_loss",
        "eval_mse",
        "effective_rank",
        "rank_threshold",
        "train_regularizer",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert!(json["train_regularizer"].as_f64().unwrap() > 0.0);
    assert!(
        dir.path().join("config.json").exists() && dir.path().join("model.safetensors").exists()
    );
}

#[test]
fn a_checkpoint_with_non_finite_weights_is_refused_naming_the_tensor() {
    let _rng = crate::burn_rng();
    let device = Device::flex();
    let config = lorae::RunConfig::for_dataset(lorae::ModelKind::Ae, lorae::DatasetKind::Shapes);
    let model = Autoencoder::new(&config.model, config.data.layout(), &device);
    let bytes = lorae::run::checkpoint::model_bytes(&model).unwrap();
    // Overwrite the first f32 of the data section (after the 8-byte length and the JSON header).
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut bad = bytes.clone();
    bad[8 + header..8 + header + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    std::fs::write(&path, &bad).unwrap();
    let template = Autoencoder::new(&config.model, config.data.layout(), &device);
    let err = load_model(template, &path).unwrap_err().to_string();
    assert!(
        err.contains("holds NaN") && err.contains("model.safetensors"),
        "{err}"
    );
}

/// A run directory removed (or emptied) while training is not silently re-created: the next
/// save stops the run with an error naming it.
#[test]
fn a_save_into_a_run_directory_that_lost_its_config_is_refused() {
    let _rng = super::burn_rng();
    let device = lorae::device::host();
    let config = tiny(ModelKind::Ae, 1);
    let model = lorae::model::Autoencoder::new(&config.model, config.data.layout(), &device);
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("gone");
    std::fs::create_dir_all(&run).unwrap();
    let state = lorae::run::checkpoint::TrainState::after(1);
    let err = lorae::run::snapshot::save(&run, &model, &lorae::train::step::adam(), &state, &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("removed or emptied"), "{err}");
    assert_eq!(
        std::fs::read_dir(&run).unwrap().count(),
        0,
        "nothing written"
    );
}

/// Records what the loop reports, and asks it to stop after `stop_after` steps of epoch 2.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    stop_after: Option<usize>,
}

impl train::Observer for Recorder {
    fn started(&mut self, _: &std::path::Path, _: &RunConfig, first: usize) {
        self.events.push(format!("started {first}"));
    }
    fn epoch_started(&mut self, epoch: usize, epochs: usize, steps: usize, done: usize) {
        self.events.push(format!(
            "epoch {epoch}/{epochs}: {steps} steps, {done} done"
        ));
    }
    fn step(&mut self, epoch: usize, step: usize, mean: f64) -> train::Flow {
        assert!(mean.is_finite());
        self.events.push(format!("step {epoch}.{step}"));
        match self.stop_after {
            Some(n) if epoch == 2 && step == n => train::Flow::Stop,
            _ => train::Flow::Continue,
        }
    }
    fn saved(&mut self, epoch: usize, step: Option<usize>) {
        self.events.push(format!("saved {epoch} {step:?}"));
    }
    fn epoch_finished(&mut self, m: &metrics::EpochMetrics, _: usize) {
        self.events.push(format!("finished {}", m.epoch));
    }
}

#[test]
fn an_observer_sees_every_step_and_its_stop_leaves_a_run_that_resumes_bit_identically() {
    let _rng = crate::burn_rng();
    let options = TrainOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let (stopped, whole) = (dir.path().join("stopped"), dir.path().join("whole"));
    // 64 images in batches of 16: 4 steps an epoch; stop after step 2 of epoch 2.
    let mut first = Recorder {
        stop_after: Some(2),
        ..Default::default()
    };
    let done = train::train(&tiny(ModelKind::Irmae, 3), &stopped, &options, &mut first).unwrap();
    assert_eq!(done.len(), 1, "only epoch 1 finished");
    assert_eq!(
        first.events,
        [
            "started 1",
            "epoch 1/3: 4 steps, 0 done",
            "step 1.1",
            "step 1.2",
            "step 1.3",
            "step 1.4",
            "saved 1 None",
            "finished 1",
            "epoch 2/3: 4 steps, 0 done",
            "step 2.1",
            "step 2.2",
            "saved 2 Some(2)",
        ]
    );
    let mut rest = Recorder::default();
    let resumed = train::resume(&stopped, None, &options, &mut rest).unwrap();
    assert_eq!(resumed.iter().map(|m| m.epoch).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        rest.events[..3],
        ["started 2", "epoch 2/3: 4 steps, 2 done", "step 2.3"]
    );

    let straight = train::train(&tiny(ModelKind::Irmae, 3), &whole, &options, &mut Silent).unwrap();
    for (a, b) in straight[1..].iter().zip(&resumed) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        assert_eq!(a.eval_mse, b.eval_mse, "epoch {}", a.epoch);
    }
    assert_eq!(
        std::fs::read(stopped.join("model.safetensors")).unwrap(),
        std::fs::read(whole.join("model.safetensors")).unwrap()
    );
}

#[test]
fn a_run_opened_for_reading_cannot_save() {
    let _rng = crate::burn_rng();
    let dir = tempfile::tempdir().unwrap();
    train::train(
        &tiny(ModelKind::Ae, 1),
        dir.path(),
        &TrainOptions::default(),
        &mut Silent,
    )
    .unwrap();
    let run = lorae::run::RunDir::open(dir.path()).unwrap();
    let err = run.clean().unwrap_err().to_string();
    assert!(err.contains("opened for reading"), "{err}");
    assert_eq!(run.metrics().unwrap().len(), 1);
}

#[test]
fn a_run_written_before_run_dir_reads_the_same() {
    // tests/fixtures/run-before-rundir: the text files of a run that b89cdff wrote (README.md).
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("run-before-rundir");
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    for file in [
        "config.json",
        "latest",
        "metrics.jsonl",
        "checkpoint-0001/state.json",
        "checkpoint-0001/metrics.jsonl",
    ] {
        copy(&fixture.join(file), &dir.path().join(file));
    }
    let run = lorae::run::RunDir::open(dir.path()).unwrap();
    let config = run.config();
    assert_eq!(config.model.kind, ModelKind::Irmae);
    assert_eq!((config.model.latent_dim, config.model.layers), (8, 2));
    assert_eq!((config.data.train_size, config.train.batch_size), (32, 16));
    let latest = run.latest().unwrap().unwrap();
    assert_eq!((latest.state.epoch, latest.state.partial), (1, None));
    assert!(latest.state.digests.is_some());
    let metrics = run.metrics().unwrap();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].effective_rank, Some(6));
    assert!((metrics[0].eval_mse.unwrap() - 0.039).abs() < 5e-4);
    // Its weights are not kept (README.md): the error names the missing file.
    let err = run.model(&Device::flex()).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
}
