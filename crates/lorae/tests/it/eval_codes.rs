//! Evaluations on codes: few-label classification, LoRAE's theory checks, t-SNE, and the L1/L2
//! code-penalty autoencoders. Every expected number is derived in the test from the data it
//! generates.

use burn::prelude::*;
use lorae::config::{DatasetKind, ModelKind};
use lorae::eval::classify::{
    classify, split_labels, validate, ClassifyConfig, Inputs, LabelResult, Protocol, Subset,
};
use lorae::eval::theory::{fit_rank_lambda, minmax_ratios, RankPoint};
use lorae::eval::tsne::{embed, TsneConfig};
use lorae::latent::Codes;
use lorae::model::Autoencoder;
use lorae::train::step;
use lorae::RunConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `n` codes in `dim` dimensions around `classes` well-separated centres (centre c has value 6 in
/// coordinate c), noise N(0, 0.5²); labels cycle over the classes.
fn clustered(n: usize, dim: usize, classes: usize, seed: u64) -> (Codes, Vec<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(n * dim);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % classes;
        labels.push(c as u8);
        for j in 0..dim {
            let centre = if j == c { 6.0 } else { 0.0 };
            values.push(centre + 0.5 * rng.sample::<f32, _>(StandardNormal));
        }
    }
    (Codes { values, dim }, labels)
}

fn config(labels: Vec<usize>, protocol: Protocol) -> ClassifyConfig {
    ClassifyConfig {
        labels,
        seeds: 2,
        protocol,
        validation: 200,
        epochs: 20,
        min_steps: 200,
        ..ClassifyConfig::default()
    }
}

fn run(
    train: &(Codes, Vec<u8>),
    test: &(Codes, Vec<u8>),
    config: &ClassifyConfig,
) -> Vec<LabelResult> {
    classify(
        (Inputs::Codes(&train.0), &train.1),
        (Inputs::Codes(&test.0), &test.1),
        None,
        train.0.dim,
        "encoder",
        config,
        &Device::flex(),
        &mut |_| {},
    )
    .unwrap()
}

#[test]
fn head_separates_separable_codes_and_repeats_with_the_seed() {
    let _rng = crate::burn_rng();
    let train = clustered(1_200, 16, 4, 1);
    let test = clustered(400, 16, 4, 2);
    for protocol in [Protocol::Honest, Protocol::Paper] {
        let cfg = config(vec![40, usize::MAX], protocol);
        let results = run(&train, &test, &cfg);
        assert_eq!(results.len(), 2);
        // `all` is the labelled pool: everything but the validation tail (honest).
        let pool = if protocol == Protocol::Honest {
            1_000
        } else {
            1_200
        };
        assert_eq!(results[1].labels, pool);
        for r in &results {
            assert_eq!(r.errors.len(), 2);
            assert!(r.error_mean < 1.0, "{protocol}: {r:?}");
            assert_eq!(r.protocol, protocol);
        }
        let again = run(&train, &test, &cfg);
        assert_eq!(
            results.iter().map(|r| r.errors.clone()).collect::<Vec<_>>(),
            again.iter().map(|r| r.errors.clone()).collect::<Vec<_>>(),
            "the same seeds give the same errors"
        );
    }
}

#[test]
fn head_on_noise_is_at_chance() {
    let _rng = crate::burn_rng();
    // Labels independent of the codes: no head can beat chance on the test set by much.
    let (codes, _) = clustered(1_000, 8, 1, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let labels: Vec<u8> = (0..1_000).map(|_| rng.random_range(0..2)).collect();
    let train = (codes.clone(), labels.clone());
    let (test_codes, _) = clustered(600, 8, 1, 5);
    let test_labels: Vec<u8> = (0..600).map(|_| rng.random_range(0..2)).collect();
    let r = run(
        &train,
        &(test_codes, test_labels),
        &config(vec![500], Protocol::Honest),
    );
    assert!(r[0].error_mean > 35.0, "{:?}", r[0]);
}

#[test]
fn honest_validation_is_disjoint_from_the_labelled_images() {
    let _rng = crate::burn_rng();
    let labels: Vec<u8> = (0..3_000).map(|i| (i * 7 % 10) as u8).collect();
    let cfg = ClassifyConfig {
        validation: 500,
        ..ClassifyConfig::default()
    };
    for subset in [Subset::First, Subset::Stratified] {
        let cfg = ClassifyConfig {
            subset,
            ..cfg.clone()
        };
        for n in [10, 100, 2_500] {
            for seed in 0..3 {
                let split = split_labels(&labels, n, &cfg, seed).unwrap();
                assert_eq!(split.labelled.len(), n);
                assert_eq!(split.validation, (2_500..3_000).collect::<Vec<_>>());
                assert!(split.labelled.iter().all(|&i| i < 2_500), "{subset} {n}");
                let mut unique = split.labelled.clone();
                unique.dedup();
                assert_eq!(unique.len(), n, "no image labelled twice");
            }
        }
    }
    // Stratified: balanced over the 10 classes; seeds draw different images.
    let strat = ClassifyConfig {
        subset: Subset::Stratified,
        ..cfg.clone()
    };
    let a = split_labels(&labels, 100, &strat, 0).unwrap();
    let mut counts = [0; 10];
    a.labelled
        .iter()
        .for_each(|&i| counts[labels[i] as usize] += 1);
    assert_eq!(counts, [10; 10]);
    assert_ne!(a, split_labels(&labels, 100, &strat, 1).unwrap());
    assert_eq!(a, split_labels(&labels, 100, &strat, 0).unwrap());
    // Paper protocol: no validation, the whole split is the pool.
    let paper = ClassifyConfig {
        protocol: Protocol::Paper,
        subset: Subset::First,
        ..cfg
    };
    let p = split_labels(&labels, 3_000, &paper, 0).unwrap();
    assert!(p.validation.is_empty());
    assert_eq!(p.labelled.len(), 3_000);
}

#[test]
fn too_many_labels_is_a_clean_error() {
    let _rng = crate::burn_rng();
    let cfg = ClassifyConfig {
        labels: vec![10, 60_000],
        ..ClassifyConfig::default()
    };
    let e = validate(&cfg, 60_000).unwrap_err().to_string();
    assert!(e.contains("60000") && e.contains("at most 55000"), "{e}");
    let paper = ClassifyConfig {
        protocol: Protocol::Paper,
        labels: vec![70_000],
        ..ClassifyConfig::default()
    };
    let e = validate(&paper, 60_000).unwrap_err().to_string();
    assert!(e.contains("70000"), "{e}");
    let zero = ClassifyConfig {
        labels: vec![0],
        ..ClassifyConfig::default()
    };
    assert!(validate(&zero, 100_000).is_err());
}

#[test]
fn rank_against_lambda_fits_the_power_law() {
    // rank = 100 / λ^0.5 exactly → slope −0.5; rank 1 points are left out of the fit.
    let points: Vec<RankPoint> = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e4]
        .iter()
        .map(|&lambda: &f64| RankPoint {
            lambda,
            rank: (100.0 * lambda.powf(-0.5)).round().max(1.0) as usize,
        })
        .collect();
    let fit = fit_rank_lambda(&points).unwrap();
    assert_eq!(fit.used, 5);
    assert!((fit.slope + 0.5).abs() < 0.01, "{fit:?}");
    // One run above rank 1, or equal λ everywhere: clean errors naming the value.
    let one = fit_rank_lambda(&points[..1]).unwrap_err().to_string();
    assert!(one.contains("at least two runs"), "{one}");
    let same = vec![
        RankPoint {
            lambda: 1e-3,
            rank: 5,
        },
        RankPoint {
            lambda: 1e-3,
            rank: 7,
        },
    ];
    let e = fit_rank_lambda(&same).unwrap_err().to_string();
    assert!(e.contains("0.001") && e.contains("same λ"), "{e}");
    let bad = vec![
        RankPoint {
            lambda: f64::NAN,
            rank: 5,
        },
        RankPoint {
            lambda: 1.0,
            rank: 2,
        },
    ];
    assert!(fit_rank_lambda(&bad).is_err());
}

#[test]
fn minmax_ratio_of_known_points() {
    // Points 0, 1, 3 on a line: from 0, d_min 1, d_max 3 → 2; from 1: 1 and 2 → 1; from 3: 2, 3 → 0.5.
    let codes = Codes {
        values: vec![0.0, 0.0, 1.0, 0.0, 3.0, 0.0],
        dim: 2,
    };
    let mm = minmax_ratios(&codes, 3, 0).unwrap();
    assert_eq!(mm.queries, 3);
    assert!(
        (mm.min - 0.5).abs() < 1e-12 && (mm.max - 2.0).abs() < 1e-12,
        "{mm:?}"
    );
    assert!((mm.mean - 3.5 / 3.0).abs() < 1e-12);
    // Scaling every code (as dividing by rank(M) does) leaves the ratio unchanged.
    let scaled = Codes {
        values: codes.values.iter().map(|v| v / 7.0).collect(),
        dim: 2,
    };
    assert!((minmax_ratios(&scaled, 3, 0).unwrap().mean - mm.mean).abs() < 1e-6 * mm.mean);
    // A duplicated code is skipped, not an infinite ratio.
    let dup = Codes {
        values: vec![0.0, 0.0, 0.0, 0.0, 3.0, 0.0],
        dim: 2,
    };
    let d = minmax_ratios(&dup, 3, 0).unwrap();
    assert_eq!((d.queries, d.skipped), (1, 2));
}

#[test]
fn tsne_keeps_separated_clusters_apart() {
    let (codes, labels) = clustered(150, 10, 3, 7);
    let cfg = TsneConfig {
        perplexity: 10.0,
        epochs: 500,
        seed: 0,
    };
    let points = embed(&codes, &cfg).unwrap();
    assert_eq!(points.len(), 150);
    // Each point's nearest neighbour in 2-D is of its own cluster.
    let mut same = 0;
    for (i, p) in points.iter().enumerate() {
        let nearest = (0..points.len())
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let d = |q: &[f32; 2]| (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                d(&points[a]).total_cmp(&d(&points[b]))
            })
            .unwrap();
        same += usize::from(labels[nearest] == labels[i]);
    }
    assert!(
        same >= 147,
        "{same} of 150 nearest neighbours in the same cluster"
    );
    // Too few codes for the perplexity: a clean error.
    let few = Codes {
        values: codes.values[..20 * 10].to_vec(),
        dim: 10,
    };
    assert!(embed(&few, &cfg)
        .unwrap_err()
        .to_string()
        .contains("perplexity"));
}

#[test]
fn code_penalties_are_positive_and_train() {
    let _rng = crate::burn_rng();
    let device = Device::flex().autodiff();
    for (kind, name) in [(ModelKind::AeL1, "ae-l1"), (ModelKind::AeL2, "ae-l2")] {
        assert_eq!(name.parse::<ModelKind>().unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        let config = RunConfig::for_dataset(kind, DatasetKind::Shapes);
        config.validate().unwrap();
        assert_eq!(config.model.beta, 0.1);
        device.seed(0);
        let model = Autoencoder::new(&config.model, config.data.layout(), &device);
        let x = Tensor::<4>::random([4, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        let z = model.encode(x.clone());
        let values = lorae::tensor::tensor_values(z).unwrap();
        let pixels = 3.0 * 32.0 * 32.0;
        let expected: f64 = values
            .chunks(32)
            .map(|row| {
                row.iter()
                    .map(|&v| {
                        if kind == ModelKind::AeL1 {
                            v.abs() as f64
                        } else {
                            (v as f64).powi(2)
                        }
                    })
                    .sum::<f64>()
            })
            .sum::<f64>()
            / 4.0
            * 0.1
            / pixels;
        let losses = model.losses(x.clone(), &config.model).unwrap();
        let reg = lorae::tensor::tensor_values(losses.regularizer).unwrap()[0] as f64;
        assert!(
            (reg - expected).abs() <= 1e-5 * expected.abs() + 1e-9,
            "{name}: {reg} vs {expected}"
        );
        let before = lorae::run::checkpoint::model_bytes(&model).unwrap();
        let mut optim = step::adam();
        let (after, l) = step::step(model, &mut optim, x, &config.model, 1e-3, &[]).unwrap();
        assert!(l.regularizer > 0.0);
        assert_ne!(before, lorae::run::checkpoint::model_bytes(&after).unwrap());
    }
}
