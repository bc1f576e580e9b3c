//! The reproduction's report: per experiment, lorae's numbers beside the papers' (marked as
//! such), the protocol, the figures, and a plain statement of where lorae's result and the
//! paper's disagree. Built from whatever cells exist; a missing cell shows as `missing`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cell::{cell_dir, Cell, Outcome};
use super::experiments::{classify_config, fid_sizes, run_name, scale};
use super::paper::{self, Measure, Setting, Source, Who};
use super::{Experiment, Setup};
use crate::config::{DatasetKind, ModelKind};
use crate::error::Result;
use crate::eval::classify::{LabelResult, Protocol};
use crate::eval::theory::{fit_rank_lambda, RankPoint};
use crate::report::charts::{error_against_labels, grouped_bar_chart, rank_against_lambda, Series};
use crate::report::document::{Block, Document, Section};
use crate::report::plot::{plot_spectra, SpectrumSeries};
use crate::run::metrics::EpochMetrics;

/// The finished cells' outcomes by cell id.
pub type Outcomes = HashMap<String, Outcome>;

const MISSING: &str = "missing";

/// Builds the report of `experiments` from `outcomes`, drawing its figures into `dir/figures/`.
pub fn build(
    experiments: &[Experiment],
    setup: &Setup,
    outcomes: &Outcomes,
    dir: &Path,
) -> Result<Document> {
    let figures = dir.join("figures");
    let mut sections = Vec::new();
    for &e in experiments {
        let cells = match e.cells(setup) {
            Ok(cells) => cells,
            Err(err) => {
                sections.push(Section {
                    title: e.to_string(),
                    blocks: vec![Block::Para(format!("Not run: {err}"))],
                });
                continue;
            }
        };
        let r = Ctx {
            cells: &cells,
            outcomes,
            dir,
            figures: &figures,
            setup,
        };
        let mut blocks = vec![Block::Para(format!("*Reproduces:* {}.", e.describe()))];
        blocks.extend(match e {
            Experiment::ShapesSpectra => r.spectra("shapes-spectra", Some("IRMAE: l = 2 reaches rank ≈ 7, the intrinsic dimension of shapes (3 colour, 2 position, 1 size, 1 shape)"))?,
            Experiment::MnistFid | Experiment::CelebaFid => r.fid_table(e)?,
            Experiment::MnistClassification => r.classification()?,
            Experiment::MnistDepth => r.rank_fid_table("depth l", &["2", "4", "8", "12"], &[2, 4, 8, 12].map(Setting::Depth), Source::Irmae(6))?,
            Experiment::MnistVariance => r.rank_fid_table("initial variance", &["×1", "×2", "×4"], &[1, 2, 4].map(Setting::Variance), Source::Irmae(5))?,
            Experiment::LambdaSweep => r.lambda_sweep()?,
            Experiment::Ablations => {
                let mut b = r.rank_fid_table("variant", &["IRMAE", "frozen", "ReLU between", "shared"], &[], Source::Irmae(6))?;
                b.extend(r.spectra("ablations", Some("IRMAE: freezing the matrices weakens the rank reduction, ReLUs between them remove it, sharing weakens it (Figs 9–11, no numbers)"))?);
                b
            }
            Experiment::Minmax => r.minmax()?,
            Experiment::LatentDim => r.latent_dim()?,
            Experiment::OfficialParity => r.official_parity()?,
            Experiment::LowRankFamily => r.low_rank_family()?,
        });
        blocks.push(r.protocol(e));
        sections.push(Section {
            title: format!("{e}"),
            blocks,
        });
    }
    let done = outcomes.len();
    Ok(Document {
        title: "lorae reproduction report".into(),
        intro: vec![Block::Para(format!(
            "Budget `{}`, lorae {}; {done} finished cells in `{}`. Numbers marked *paper* are copied from the IRMAE paper \
             (Jing et al. 2020) and the LoRAE poster (WACV 2024); everything else was measured by lorae. FID follows \
             pytorch-fid's conventions; lower FID and error are better.",
            setup.budget,
            env!("CARGO_PKG_VERSION"),
            dir.display()
        ))],
        sections,
    })
}

/// What a section is built from: the experiment's cells, every finished outcome, the folder.
pub(super) struct Ctx<'a> {
    pub(super) cells: &'a [Cell],
    pub(super) outcomes: &'a Outcomes,
    pub(super) dir: &'a Path,
    figures: &'a Path,
    pub(super) setup: &'a Setup,
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or(MISSING.to_string(), |v| format!("{v:.digits$}"))
}

impl Ctx<'_> {
    pub(super) fn trains(&self) -> Vec<(&String, &crate::config::RunConfig)> {
        self.cells
            .iter()
            .filter_map(|c| match c {
                Cell::Train { name, config } => Some((name, config)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn last(&self, run: &str) -> Option<&EpochMetrics> {
        match self.outcomes.get(&format!("train-{run}")) {
            Some(Outcome::Train { last, .. }) => Some(last),
            _ => None,
        }
    }

    pub(super) fn rank_at(&self, run: &str, threshold: f64) -> Option<f64> {
        self.last(run)
            .map(|m| m.singular_values.iter().filter(|&&v| v > threshold).count() as f64)
    }

    /// FID cells of `run`: (cell, fid).
    pub(super) fn fids(&self, run: &str) -> Vec<(&Cell, Option<f64>)> {
        self.cells
            .iter()
            .filter(|c| matches!(c, Cell::Fid { run: r, .. } if r == run))
            .map(|c| {
                let fid = match self.outcomes.get(&c.id()) {
                    Some(Outcome::Fid { fid, .. }) => Some(*fid),
                    _ => None,
                };
                (c, fid)
            })
            .collect()
    }

    fn spectra(&self, tag: &str, paper: Option<&str>) -> Result<Vec<Block>> {
        let mut rows = Vec::new();
        let mut series = Vec::new();
        for (name, _) in self.trains() {
            let m = self.last(name);
            rows.push(vec![
                name.clone(),
                num(self.rank_at(name, 1e-2), 0),
                num(self.rank_at(name, 1e-3), 0),
                num(m.and_then(|m| m.eval_mse), 5),
            ]);
            if let Some(m) = m.filter(|m| !m.singular_values.is_empty()) {
                series.push(SpectrumSeries {
                    label: name.clone(),
                    values: m.singular_values.clone(),
                });
            }
        }
        let mut blocks = vec![Block::Table {
            header: vec![
                "run".into(),
                "rank @1e-2".into(),
                "rank @1e-3".into(),
                "eval MSE".into(),
            ],
            rows,
        }];
        if let Some(p) = paper {
            blocks.push(Block::Para(format!("*Paper:* {p}.")));
        }
        if !series.is_empty() {
            let path = self.figures.join(format!("{tag}-spectra.png"));
            plot_spectra(&series, 1e-2, &path)?;
            blocks.push(self.figure(
                &path,
                "normalised singular values of the evaluation codes' covariance",
            ));
        }
        Ok(blocks)
    }

    fn figure(&self, path: &Path, caption: &str) -> Block {
        Block::Figure {
            path: path
                .strip_prefix(self.dir)
                .map_or(path.to_path_buf(), PathBuf::from),
            caption: caption.into(),
        }
    }

    fn fid_table(&self, e: Experiment) -> Result<Vec<Block>> {
        let celeba = e == Experiment::CelebaFid;
        let dataset = if celeba {
            DatasetKind::Celeba
        } else {
            DatasetKind::Mnist
        };
        let paper = |kind: crate::config::ModelKind, draw: &crate::sampler::draw::Draw| {
            let measure = match draw.kind {
                crate::sampler::SamplerKind::Gaussian => Measure::FidGaussian,
                crate::sampler::SamplerKind::Gmm => Measure::FidGmm(draw.k),
                _ => return String::new(),
            };
            paper::cell(
                paper::lookup(Who::Model(kind), dataset, Setting::Default, measure),
                Source::Irmae(1),
            )
        };
        let mut rows = Vec::new();
        let mut bars = Vec::new();
        let mut grids = Vec::new();
        let mut best: Vec<(String, f64)> = Vec::new();
        for (run, config) in self.trains() {
            let model = config.model.kind.to_string();
            let mut run_best = f64::INFINITY;
            for (cell, fid) in self.fids(run) {
                let Cell::Fid { draw, .. } = cell else {
                    continue;
                };
                let sampler = match draw.kind {
                    crate::sampler::SamplerKind::Gmm => format!("gmm{}", draw.k),
                    kind => kind.to_string(),
                };
                rows.push(vec![
                    run.clone(),
                    sampler.clone(),
                    num(fid, 2),
                    paper(config.model.kind, draw),
                ]);
                if let Some(f) = fid {
                    bars.push((model.clone(), sampler.clone(), f));
                    run_best = run_best.min(f);
                    let grid = cell_dir(self.dir, &cell.id()).join("samples.png");
                    if grid.exists() {
                        grids.push(self.figure(&grid, &format!("{run}, {sampler} samples")));
                    }
                }
            }
            if run_best.is_finite() {
                best.push((model, run_best));
            }
        }
        let mut blocks = vec![Block::Table {
            header: vec![
                "run".into(),
                "sampler".into(),
                "FID (lorae)".into(),
                "FID (paper)".into(),
            ],
            rows,
        }];
        blocks.push(Block::Para(verdict(&best)));
        if !bars.is_empty() {
            let path = self.figures.join(format!("{e}-bars.png"));
            grouped_bar_chart(
                &bars,
                "FID per model and sampler (lower is better)",
                "FID",
                &path,
            )?;
            blocks.push(self.figure(&path, "FID per model and sampler"));
        }
        blocks.extend(grids);
        Ok(blocks)
    }

    fn classification(&self) -> Result<Vec<Block>> {
        // IRMAE Table 2; its 60 000 column compares with any count from 55 000 up.
        let paper = |whose: Option<Who>, labels: usize| {
            let labels = if labels >= 55_000 { 60_000 } else { labels };
            let number = whose.and_then(|w| {
                paper::lookup(
                    w,
                    DatasetKind::Mnist,
                    Setting::Default,
                    Measure::Error(labels),
                )
            });
            paper::cell(number, Source::Irmae(2))
        };
        let mut rows = Vec::new();
        let mut curves: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        let mut at: HashMap<(String, usize, Protocol), f64> = HashMap::new();
        for cell in self.cells {
            let (who, model, whose) = match cell {
                Cell::Classify { run, .. } => {
                    let kind = self
                        .trains()
                        .iter()
                        .find(|t| t.0 == run)
                        .map(|t| t.1.model.kind);
                    let name = kind.map(|k| k.to_string()).unwrap_or_default();
                    (run.clone(), name, kind.map(Who::Model))
                }
                Cell::Supervised { .. } => (
                    "supervised".to_string(),
                    "supervised".to_string(),
                    Some(Who::Supervised),
                ),
                _ => continue,
            };
            let results: &[LabelResult] = match self.outcomes.get(&cell.id()) {
                Some(Outcome::Classify { results, .. }) => results,
                _ => {
                    rows.push(vec![
                        who.clone(),
                        MISSING.into(),
                        "".into(),
                        MISSING.into(),
                        "".into(),
                    ]);
                    continue;
                }
            };
            for r in results {
                let paper = paper(whose, r.labels);
                rows.push(vec![
                    who.clone(),
                    r.protocol.to_string(),
                    r.labels.to_string(),
                    format!(
                        "{:.2} ± {:.2} ({} seeds)",
                        r.error_mean,
                        r.error_std,
                        r.errors.len()
                    ),
                    paper,
                ]);
                at.insert((model.clone(), r.labels, r.protocol), r.error_mean);
                if r.protocol == Protocol::Honest {
                    curves
                        .entry(who.clone())
                        .or_default()
                        .push((r.labels as f64, r.error_mean));
                }
            }
        }
        let mut blocks = vec![Block::Table {
            header: vec![
                "codes of".into(),
                "protocol".into(),
                "labels".into(),
                "test error % (lorae)".into(),
                "paper (Table 2)".into(),
            ],
            rows,
        }];
        // Does LoRAE beat AE and VAE with few labels (the poster's claim)?
        let mut claims = Vec::new();
        for ((model, labels, protocol), err) in &at {
            if model != "lorae" {
                continue;
            }
            for other in ["ae", "vae"] {
                if let Some(o) = at.get(&(other.to_string(), *labels, *protocol)) {
                    let word = if err < o {
                        "beats"
                    } else if err == o {
                        "ties with"
                    } else {
                        "does not beat"
                    };
                    claims.push(format!(
                        "{labels} labels ({protocol}): LoRAE {err:.2}% {word} {} {o:.2}%",
                        other.to_uppercase()
                    ));
                }
            }
        }
        claims.sort();
        if !claims.is_empty() {
            blocks.push(Block::Para(format!(
                "*The poster's claim (LoRAE beats AE and VAE with few labels), as measured:* {}.",
                claims.join("; ")
            )));
        }
        blocks.push(Block::Para("The honest protocol reports the test error at the best accuracy on held-out training images; the paper protocol reports the best test accuracy seen every 10 epochs (as the official code: model selection on the test set). The paper's `60000` column compares with the largest label count.".into()));
        if !curves.is_empty() {
            let mut series: Vec<Series> = curves
                .into_iter()
                .map(|(label, mut points)| {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series { label, points }
                })
                .collect();
            series.sort_by(|a, b| a.label.cmp(&b.label));
            let path = self.figures.join("classification.png");
            error_against_labels(&series, &path)?;
            blocks.push(self.figure(&path, "test error against the number of labels"));
        }
        Ok(blocks)
    }

    fn rank_fid_table(
        &self,
        what: &str,
        names: &[&str],
        settings: &[Setting],
        source: Source,
    ) -> Result<Vec<Block>> {
        let mut rows = Vec::new();
        for (i, (run, _)) in self.trains().into_iter().enumerate() {
            let fid = self.fids(run).first().and_then(|f| f.1);
            // IRMAE's MNIST tables (5, 6): rank and Gaussian FID per setting.
            let paper = |measure| {
                let number = settings.get(i).and_then(|&setting| {
                    paper::lookup(
                        Who::Model(ModelKind::Irmae),
                        DatasetKind::Mnist,
                        setting,
                        measure,
                    )
                });
                paper::cell(number, source)
            };
            let (p_rank, p_fid) = (paper(Measure::Rank), paper(Measure::FidGaussian));
            rows.push(vec![
                names.get(i).copied().unwrap_or("").to_string(),
                run.clone(),
                num(self.rank_at(run, 1e-2), 0),
                num(self.last(run).and_then(|m| m.eval_mse), 5),
                num(fid, 2),
                p_rank,
                p_fid,
            ]);
        }
        Ok(vec![Block::Table {
            header: vec![
                what.into(),
                "run".into(),
                "rank @1e-2".into(),
                "eval MSE".into(),
                "FID gaussian".into(),
                "paper rank".into(),
                "paper FID".into(),
            ],
            rows,
        }])
    }

    fn lambda_sweep(&self) -> Result<Vec<Block>> {
        let mut blocks = Vec::new();
        for dataset in [DatasetKind::Shapes, DatasetKind::Mnist] {
            let mut rows = Vec::new();
            let mut points = Vec::new();
            for (run, config) in self.trains() {
                if config.data.dataset != dataset {
                    continue;
                }
                let rank = self.rank_at(run, 1e-2);
                rows.push(vec![
                    format!("{:e}", config.model.lambda),
                    run.clone(),
                    num(rank, 0),
                    num(self.last(run).and_then(|m| m.eval_mse), 5),
                ]);
                if let Some(rank) = rank {
                    points.push(RankPoint {
                        lambda: config.model.lambda,
                        rank: rank as usize,
                    });
                }
            }
            blocks.push(Block::Table {
                header: vec![
                    "λ".into(),
                    format!("{dataset} run"),
                    "rank @1e-2".into(),
                    "eval MSE".into(),
                ],
                rows,
            });
            match fit_rank_lambda(&points) {
                Ok(fit) => {
                    blocks.push(Block::Para(format!(
                        "{dataset}: slope of log(rank) on log(λ) **{:.3}** over {} runs above rank 1; Proposition 1 predicts −1 (*paper*).",
                        fit.slope, fit.used
                    )));
                    let path = self.figures.join(format!("lambda-{dataset}.png"));
                    let caption = format!("{dataset}: effective rank against λ");
                    rank_against_lambda(&points, &fit, &caption, &path)?;
                    blocks.push(self.figure(&path, &format!("{dataset}: rank against λ, log-log")));
                }
                Err(e) => blocks.push(Block::Para(format!("{dataset}: no slope: {e}."))),
            }
        }
        Ok(blocks)
    }

    fn minmax(&self) -> Result<Vec<Block>> {
        let mut rows = Vec::new();
        for cell in self.cells {
            let Cell::Minmax { run, .. } = cell else {
                continue;
            };
            match self.outcomes.get(&cell.id()) {
                Some(Outcome::Minmax { ratios, rank_m, .. }) => rows.push(vec![
                    run.clone(),
                    rank_m.map_or("—".into(), |r| r.to_string()),
                    format!("{:.3}", ratios.mean),
                    format!("{:.3}", ratios.min),
                    ratios
                        .quantiles
                        .iter()
                        .find(|q| q.0 == 0.5)
                        .map_or(String::new(), |q| format!("{:.3}", q.1)),
                    ratios.queries.to_string(),
                ]),
                _ => rows.push(vec![
                    run.clone(),
                    MISSING.into(),
                    MISSING.into(),
                    MISSING.into(),
                    MISSING.into(),
                    MISSING.into(),
                ]),
            }
        }
        Ok(vec![
            Block::Table {
                header: vec!["run".into(), "rank(M)".into(), "mean ratio".into(), "min ratio".into(), "median".into(), "queries".into()],
                rows,
            },
            Block::Para("Theorem 2 (*paper*) bounds the ratio (d_max − d_min)/d_min below for λ > 0; larger is better (queries stay distinguishable). The poster gives no measured values.".into()),
        ])
    }

    fn latent_dim(&self) -> Result<Vec<Block>> {
        let paper = |kind, d| {
            let setting = Setting::LatentDim(d);
            let number = paper::lookup(
                Who::Model(kind),
                DatasetKind::Celeba,
                setting,
                Measure::FidGaussian,
            );
            paper::cell(number, Source::Irmae(8))
        };
        let celeba = self.setup.has_celeba();
        let mut rows = Vec::new();
        for (run, config) in self.trains() {
            let fid = self.fids(run).first().and_then(|f| f.1);
            let kind = config.model.kind;
            rows.push(vec![
                config.model.latent_dim.to_string(),
                run.clone(),
                num(self.rank_at(run, 1e-2), 0),
                num(fid, 2),
                if celeba {
                    paper(kind, config.model.latent_dim)
                } else {
                    "(CelebA)".into()
                },
            ]);
        }
        let note = if celeba {
            "On CelebA, as the paper (Table 8, FID per latent dimension; *paper* column)."
        } else {
            "CelebA is not present, so this ran on **MNIST**: the paper's numbers are CelebA FIDs and do not compare directly."
        };
        Ok(vec![
            Block::Table {
                header: vec![
                    "d".into(),
                    "run".into(),
                    "rank @1e-2".into(),
                    "FID gaussian".into(),
                    "paper FID".into(),
                ],
                rows,
            },
            Block::Para(note.into()),
        ])
    }

    /// (eval MSE, rank at 1e-2, rank at 1e-3) of a trained or imported run.
    fn evaluation(&self, run: &str) -> (Option<f64>, Option<f64>, Option<f64>) {
        let count = |values: &[f64], t: f64| values.iter().filter(|&&v| v > t).count() as f64;
        match self.outcomes.get(&super::cell::provider_id(run)) {
            Some(Outcome::Train { last, .. }) => (
                last.eval_mse,
                Some(count(&last.singular_values, 1e-2)),
                Some(count(&last.singular_values, 1e-3)),
            ),
            Some(Outcome::Import {
                eval_mse,
                singular_values,
                ..
            }) => (
                Some(*eval_mse),
                Some(count(singular_values, 1e-2)),
                Some(count(singular_values, 1e-3)),
            ),
            _ => (None, None, None),
        }
    }

    /// The 100-label test error (mean over seeds) of a run's honest classification cell.
    fn error_100(&self, run: &str) -> Option<f64> {
        self.error_at(run, 100).flatten()
    }

    /// The official code's models beside lorae's and the paper's Table 1.
    fn official_parity(&self) -> Result<Vec<Block>> {
        let fid = |run: &str, sampler: &str| -> Option<f64> {
            self.fids(run)
                .into_iter()
                .find_map(|(cell, fid)| match cell {
                    Cell::Fid { draw, .. } => {
                        let s = match draw.kind {
                            crate::sampler::SamplerKind::Gmm => format!("gmm{}", draw.k),
                            kind => kind.to_string(),
                        };
                        (s == sampler).then_some(fid).flatten()
                    }
                    _ => None,
                })
        };
        let mut rows = Vec::new();
        let mut fids = HashMap::new();
        let table1 = |kind, measure| {
            paper::lookup(
                Who::Model(kind),
                DatasetKind::Mnist,
                Setting::Default,
                measure,
            )
        };
        for kind in [ModelKind::Ae, ModelKind::Irmae] {
            let model = kind.to_string();
            let model = model.as_str();
            rows.push(vec![
                model.to_string(),
                "paper (IRMAE Table 1)".into(),
                String::new(),
                String::new(),
                String::new(),
                paper::cell(table1(kind, Measure::FidGaussian), Source::Irmae(1)),
                String::new(),
                paper::cell(table1(kind, Measure::FidGmm(4)), Source::Irmae(1)),
                String::new(),
            ]);
            let lorae_run = self
                .trains()
                .into_iter()
                .find(|(_, c)| c.model.kind.to_string() == model)
                .map(|(n, _)| n.clone());
            let Some(lorae_run) = lorae_run else { continue };
            let official = format!("{}{lorae_run}", super::cell::OFFICIAL_PREFIX);
            for (source, run) in [
                ("official code, measured here", &official),
                ("lorae", &lorae_run),
            ] {
                if !self.cells.iter().any(|c| name_of(c) == Some(run.as_str())) {
                    continue;
                }
                let (mse, r2, r3) = self.evaluation(run);
                let f = ["gaussian", "gmm10", "gmm4"].map(|s| fid(run, s));
                fids.insert((kind, source), f[0]);
                rows.push(vec![
                    model.to_string(),
                    source.to_string(),
                    num(mse, 5),
                    num(r2, 0),
                    num(r3, 0),
                    num(f[0], 2),
                    num(f[1], 2),
                    num(f[2], 2),
                    num(self.error_100(run), 2),
                ]);
            }
        }
        let mut blocks = vec![Block::Table {
            header: [
                "model",
                "source",
                "eval MSE",
                "rank 1e-2",
                "rank 1e-3",
                "FID Gaussian",
                "FID GMM k=10",
                "FID GMM k=4",
                "error % (100 labels)",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }];
        let order = match (
            table1(ModelKind::Irmae, Measure::FidGaussian),
            table1(ModelKind::Ae, Measure::FidGaussian),
        ) {
            (Some(irmae), Some(ae)) => format!(" ({} < {})", irmae.text(), ae.text()),
            _ => String::new(),
        };
        let verdict = |source: &str| {
            match (
            fids.get(&(ModelKind::Ae, source)).copied().flatten(),
            fids.get(&(ModelKind::Irmae, source)).copied().flatten(),
        ) {
            (Some(ae), Some(irmae)) if irmae < ae => format!(
                "{source}: IRMAE's Gaussian FID {irmae:.1} is below the AE's {ae:.1}, the order of Table 1"
            ),
            (Some(ae), Some(irmae)) => format!(
                "{source}: IRMAE's Gaussian FID {irmae:.1} is not below the AE's {ae:.1}: Table 1's order{order} does not hold"
            ),
            _ => format!("{source}: not all of its FIDs are measured yet"),
        }
        };
        blocks.push(Block::Para(format!(
            "{}. {}.",
            verdict("official code, measured here"),
            verdict("lorae")
        )));
        Ok(blocks)
    }

    fn protocol(&self, e: Experiment) -> Block {
        let b = self.setup.budget;
        let mut parts = Vec::new();
        for dataset in [
            DatasetKind::Shapes,
            DatasetKind::Mnist,
            DatasetKind::FashionMnist,
            DatasetKind::Celeba,
        ] {
            if self.trains().iter().any(|t| t.1.data.dataset == dataset) {
                let (train, eval, epochs, lr) = scale(b, dataset);
                let size = |n: Option<usize>| n.map_or("all".to_string(), |n| n.to_string());
                parts.push(format!("{dataset}: {} train / {} eval images, {epochs} epochs, Adam lr {lr:e} (GAN 2e-4), batch 32, [0, 1] pixels", size(train), size(eval)));
            }
        }
        let fit_limit = self.cells.iter().find_map(|c| match c {
            Cell::Fid { draw, .. } => Some(draw.fit_limit),
            _ => None,
        });
        if let Some(limit) = fit_limit {
            let (n, real) = fid_sizes(b);
            let fitted = limit.map_or("the training codes".to_string(), |l| {
                format!("the first {l} training codes")
            });
            parts.push(format!("FID: {n} samples against {} test images, samplers fitted to {fitted}, GMM full covariance, seed 0", real.map_or("all".to_string(), |r| r.to_string())));
        }
        if matches!(
            e,
            Experiment::MnistClassification | Experiment::LowRankFamily
        ) {
            let c = classify_config(b, Protocol::Honest);
            parts.push(format!("classification: labels {:?}, {} seeds, {} epochs (at least {} steps), {} validation images (honest)", c.labels, c.seeds, c.epochs, c.min_steps, c.validation));
        }
        parts.push("effective rank: normalised singular values of the evaluation codes' covariance above 1e-2".into());
        let official: Vec<String> = self
            .cells
            .iter()
            .filter_map(|c| match c {
                Cell::Import { name, source, .. } => {
                    Some(format!("`{name}` imported from `{}`", source.display()))
                }
                _ => None,
            })
            .collect();
        if !official.is_empty() {
            parts.push(format!(
                "the official code's checkpoints (`lorae import`, scored exactly as lorae's runs): {}",
                official.join(", ")
            ));
        }
        let runs: Vec<String> = self
            .trains()
            .iter()
            .map(|t| format!("`{}`", run_name(t.1)))
            .collect();
        Block::Para(format!(
            "*Protocol* (budget `{b}`): {}. Runs: {}. Command: `lorae reproduce {e} --budget {b}`.",
            parts.join("; "),
            runs.join(", ")
        ))
    }
}

/// A plain sentence on the FID claims: does LoRAE (and IRMAE) beat VAE and the GAN?
fn verdict(best: &[(String, f64)]) -> String {
    let get = |m: &str| best.iter().find(|b| b.0 == m).map(|b| b.1);
    let mut out = Vec::new();
    for ours in ["lorae", "irmae"] {
        let Some(f) = get(ours) else { continue };
        for other in ["vae", "gan", "ae"] {
            if let Some(o) = get(other) {
                let word = if f < o {
                    "beats"
                } else if f == o {
                    "ties with"
                } else {
                    "does not beat"
                };
                out.push(format!(
                    "{} (best sampler, FID {f:.2}) {word} {} ({o:.2})",
                    ours.to_uppercase(),
                    other.to_uppercase()
                ));
            }
        }
    }
    if out.is_empty() {
        "No comparison yet: FID cells are missing.".into()
    } else {
        format!("*As measured:* {}.", out.join("; "))
    }
}

/// The run a training or import cell makes.
fn name_of(cell: &Cell) -> Option<&str> {
    match cell {
        Cell::Train { name, .. } | Cell::Import { name, .. } => Some(name),
        _ => None,
    }
}
