//! The `low-rank-family` report: AE, IRMAE, LoRAE, RRAE and aRRAE side by side on each dataset,
//! and sentences saying, from the numbers, which family is best on which measure.

use super::cell::{Cell, Outcome};
use super::experiments::classify_config;
use super::paper::{self, Measure, Setting};
use super::report::Ctx;
use crate::config::{DatasetKind, ModelConfig, ModelKind};
use crate::error::Result;
use crate::eval::classify::Protocol;
use crate::report::document::Block;
use crate::sampler::SamplerKind;

/// The family a model belongs to, as the report names it.
fn family(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Irmae => "IRMAE (implicit)",
        ModelKind::Lorae => "LoRAE (penalised)",
        ModelKind::Rrae | ModelKind::Arrae => "RRAE (explicit)",
        _ => "AE (none)",
    }
}

/// The setting under which the RRAE paper would print a model's number: IRMAE's depth, LoRAE's λ
/// (a power of ten), RRAE's rank.
fn rrae_paper_setting(model: &ModelConfig) -> Option<Setting> {
    match model.kind {
        ModelKind::Irmae => Some(Setting::Depth(model.layers)),
        ModelKind::Rrae => model.rank.map(Setting::Truncation),
        ModelKind::Lorae => {
            let e = model.lambda.log10().round();
            let exact = (10f64.powf(e) - model.lambda).abs() <= 1e-9 * model.lambda;
            (exact && (-20.0..=0.0).contains(&e)).then_some(Setting::LambdaPow10(e as i8))
        }
        _ => None,
    }
}

/// The RRAE paper's MNIST numbers (v1, Table 3) as one phrase, read from [`paper::NUMBERS`]:
/// "RRAE k = 3 (rank 3, entropy 0.59 nats); …".
fn rrae_paper_summary() -> String {
    let ranks = paper::NUMBERS.iter().filter(|x| {
        x.source == paper::Source::Rrae(3)
            && x.dataset == DatasetKind::Mnist
            && x.measure == Measure::Rank
    });
    let phrases: Vec<String> = ranks
        .filter_map(|rank| {
            let paper::Who::Model(kind) = rank.who else {
                return None;
            };
            let model = match (kind, rank.setting) {
                (ModelKind::Rrae, Setting::Truncation(k)) => format!("RRAE k = {k}"),
                (ModelKind::Irmae, Setting::Depth(l)) => format!("IRMAE l = {l}"),
                (ModelKind::Lorae, Setting::LambdaPow10(e)) => format!("LoRAE λ = 1e{e}"),
                (kind, _) => kind.to_string(),
            };
            let entropy = paper::lookup_rrae(
                kind,
                rank.dataset,
                rank.setting,
                Measure::InterpolationEntropy,
            )
            .map_or("none".to_string(), |e| format!("{} nats", e.text()));
            Some(format!("{model} (rank {}, entropy {entropy})", rank.text()))
        })
        .collect();
    phrases.join("; ")
}

/// One run's row: its name, family and measures (lower is better for all but time).
struct Row {
    run: String,
    family: &'static str,
    mse: Option<f64>,
    rank: Option<f64>,
    /// The RRAE paper's rank for the same model and setting, where it prints one.
    paper_rank: Option<paper::Number>,
    /// Interpolation entropy (mean, std over sets): `None` where the run has no entropy cell,
    /// `Some(None)` where it has not finished.
    entropy: Option<Option<(f64, f64)>>,
    /// The RRAE paper's interpolation entropy, where it prints one.
    paper_entropy: Option<paper::Number>,
    truncation: Option<usize>,
    fid_gaussian: Option<f64>,
    fid_gmm: Option<f64>,
    /// Test error per label count of the table; `None` where the run has no classification
    /// (shapes has no labels), `Some(None)` where it has not finished.
    errors: Vec<Option<Option<f64>>>,
    seconds_per_epoch: Option<f64>,
}

impl Ctx<'_> {
    fn fid_of(&self, run: &str, kind: SamplerKind) -> Option<f64> {
        self.fids(run)
            .into_iter()
            .find_map(|(cell, fid)| match cell {
                Cell::Fid { draw, .. } if draw.kind == kind => Some(fid),
                _ => None,
            })
            .flatten()
    }

    /// The test error with `labels` labels: `None` when the run has no classification cell.
    pub(super) fn error_at(&self, run: &str, labels: usize) -> Option<Option<f64>> {
        self.cells.iter().find_map(|c| match c {
            Cell::Classify { run: r, .. } if r == run => Some(match self.outcomes.get(&c.id()) {
                Some(Outcome::Classify { results, .. }) => results
                    .iter()
                    .find(|l| l.labels == labels)
                    .map(|l| l.error_mean),
                _ => None,
            }),
            _ => None,
        })
    }

    /// The interpolation entropy (mean, std): `None` when the run has no entropy cell.
    fn entropy_of(&self, run: &str) -> Option<Option<(f64, f64)>> {
        self.cells.iter().find_map(|c| match c {
            Cell::Entropy { run: r, .. } if r == run => Some(match self.outcomes.get(&c.id()) {
                Some(Outcome::Entropy { entropy, .. }) => {
                    Some((entropy.entropy_mean, entropy.entropy_std))
                }
                _ => None,
            }),
            _ => None,
        })
    }

    /// Tables and verdicts of the low-rank family.
    pub(super) fn low_rank_family(&self) -> Result<Vec<Block>> {
        let mut blocks = Vec::new();
        // The label counts of the budget's classification, of 100 and 1 000.
        let labels: Vec<usize> = classify_config(self.setup.budget, Protocol::Honest)
            .labels
            .into_iter()
            .filter(|n| [100, 1_000].contains(n))
            .collect();
        let datasets = [
            DatasetKind::Shapes,
            DatasetKind::Mnist,
            DatasetKind::FashionMnist,
        ];
        for dataset in datasets {
            let rows: Vec<Row> = self
                .trains()
                .into_iter()
                .filter(|(_, c)| c.data.dataset == dataset)
                .map(|(run, c)| {
                    let last = self.last(run);
                    Row {
                        run: run.clone(),
                        family: family(c.model.kind),
                        mse: last.and_then(|m| m.eval_mse),
                        rank: self.rank_at(run, 1e-2),
                        paper_rank: rrae_paper_setting(&c.model).and_then(|s| {
                            paper::lookup_rrae(c.model.kind, dataset, s, Measure::Rank)
                        }),
                        entropy: self.entropy_of(run),
                        paper_entropy: rrae_paper_setting(&c.model).and_then(|s| {
                            paper::lookup_rrae(
                                c.model.kind,
                                dataset,
                                s,
                                Measure::InterpolationEntropy,
                            )
                        }),
                        truncation: last.and_then(|m| m.truncation_rank),
                        fid_gaussian: self.fid_of(run, SamplerKind::Gaussian),
                        fid_gmm: self.fid_of(run, SamplerKind::Gmm),
                        errors: labels.iter().map(|&n| self.error_at(run, n)).collect(),
                        seconds_per_epoch: self.seconds_per_epoch(run),
                    }
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            blocks.push(Block::Para(format!("**{dataset}**")));
            blocks.push(table(&rows, &labels));
            blocks.push(Block::Para(verdicts(dataset, &rows, &labels)));
        }
        blocks.push(Block::Para(format!(
            "*The RRAE paper's numbers:* its MNIST table (v1, arXiv 2405.13980v1 Table 3) gives the rank of \
             the latent space (dominant singular values) and the mean entropy of a classifier's predictions on \
             10 000 decoded interpolations between training images, for {}. `lorae entropy` measures the same with \
             2 000 pairs × 5 points and 5 sets. The paper trains its own network (convolutions and an MLP to \
             d = 128) with AdaBelief lr 1e-4 for 50 epochs, and picks k = 5 on MNIST, after which the entropy \
             stops falling. The entropy depends on the judge: the paper's is a small CNN trained one epoch on \
             28×28 images, lorae's is its own encoder with the classification head trained the same 937 \
             batches of 64 on the 32×32 images (its test accuracy is in each entropy cell's result), so the \
             order of the runs compares, not the values. Its later version (v2, which adds aRRAE, \
             Fashion-MNIST and CelebA) could not be read here, so none of its numbers are transcribed.",
            rrae_paper_summary()
        )));
        Ok(blocks)
    }

    /// Mean wall-clock seconds per epoch of a finished run (training, basis and evaluation).
    fn seconds_per_epoch(&self, run: &str) -> Option<f64> {
        let path = super::cell::run_dir(self.dir, run).join("metrics.jsonl");
        let all = crate::run::metrics::read_all(&path).ok()?;
        (!all.is_empty()).then(|| all.iter().map(|m| m.seconds).sum::<f64>() / all.len() as f64)
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("missing".to_string(), |v| format!("{v:.digits$}"))
}

fn table(rows: &[Row], labels: &[usize]) -> Block {
    let with_paper = rows.iter().any(|r| r.paper_rank.is_some());
    let mut header: Vec<String> = ["run", "family", "eval MSE", "rank 1e-2"]
        .map(String::from)
        .to_vec();
    if with_paper {
        header.push("rank, RRAE paper".into());
    }
    header.extend(
        ["truncation k", "FID Gaussian", "FID GMM k=10"]
            .map(String::from)
            .to_vec(),
    );
    header.extend(labels.iter().map(|n| format!("error % {n} labels")));
    let with_entropy = rows.iter().any(|r| r.entropy.is_some());
    if with_entropy {
        header.push("interp. entropy (nats)".into());
    }
    if with_paper {
        header.push("entropy, RRAE paper".into());
    }
    header.push("s / epoch".into());
    Block::Table {
        header,
        rows: rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    format!("`{}`", r.run),
                    r.family.to_string(),
                    num(r.mse, 5),
                    num(r.rank, 0),
                ];
                if with_paper {
                    row.push(r.paper_rank.map_or(String::new(), |x| x.text()));
                }
                row.extend([
                    r.truncation.map_or(String::new(), |k| k.to_string()),
                    num(r.fid_gaussian, 2),
                    num(r.fid_gmm, 2),
                ]);
                // "–": no labels to classify with (shapes).
                row.extend(r.errors.iter().map(|e| e.map_or("–".into(), |e| num(e, 2))));
                if with_entropy {
                    row.push(match r.entropy {
                        None => "–".into(),
                        Some(None) => "missing".into(),
                        Some(Some((mean, std))) => format!("{mean:.3} ± {std:.3}"),
                    });
                }
                if with_paper {
                    row.push(r.paper_entropy.map_or(String::new(), |x| x.text()));
                }
                row.push(num(r.seconds_per_epoch, 1));
                row
            })
            .collect(),
    }
}

/// "On mnist, the lowest eval MSE is X's (family) …" for each measure that has numbers.
fn verdicts(dataset: DatasetKind, rows: &[Row], labels: &[usize]) -> String {
    // Each measure: its name, the digits it is printed with and, per row, `None` where it does
    // not apply, else its value.
    type Get<'a> = Box<dyn Fn(&Row) -> Option<Option<f64>> + 'a>;
    let mut measures: Vec<(String, usize, Get)> = vec![
        ("eval MSE".into(), 5, Box::new(|r: &Row| Some(r.mse))),
        (
            "Gaussian-sampler FID".into(),
            2,
            Box::new(|r: &Row| Some(r.fid_gaussian)),
        ),
        (
            "GMM-sampler FID".into(),
            2,
            Box::new(|r: &Row| Some(r.fid_gmm)),
        ),
    ];
    for (i, n) in labels.iter().enumerate() {
        measures.push((
            format!("{n}-label error (%)"),
            2,
            Box::new(move |r: &Row| r.errors[i]),
        ));
    }
    measures.push((
        "interpolation entropy (nats)".into(),
        3,
        Box::new(|r: &Row| r.entropy.map(|e| e.map(|(mean, _)| mean))),
    ));
    measures.push((
        "time per epoch (s)".into(),
        1,
        Box::new(|r: &Row| Some(r.seconds_per_epoch)),
    ));
    let mut said = Vec::new();
    for (what, digits, get) in measures {
        let applies: Vec<(&Row, Option<f64>)> =
            rows.iter().filter_map(|r| get(r).map(|v| (r, v))).collect();
        let scored: Vec<(&Row, f64)> = applies
            .iter()
            .filter_map(|(r, v)| v.map(|v| (*r, v)))
            .collect();
        let Some((best, value)) = scored.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
            continue;
        };
        let unmeasured = applies.len() - scored.len();
        let partial = if unmeasured > 0 {
            format!(" ({unmeasured} of {} runs not measured yet)", applies.len())
        } else {
            String::new()
        };
        let value = format!("{value:.digits$}");
        said.push(format!(
            "the lowest {what} is `{}`'s ({}), {value}{partial}",
            best.run, best.family
        ));
    }
    let beside: Vec<String> = rows
        .iter()
        .filter(|r| r.paper_rank.is_some() || r.paper_entropy.is_some())
        .map(|r| {
            let mut parts = Vec::new();
            if let Some(paper) = r.paper_rank {
                let ours = r.rank.map_or("missing".into(), |v| format!("{v:.0}"));
                parts.push(format!("rank {ours} (paper {})", paper.text()));
            }
            if let Some(paper) = r.paper_entropy {
                let ours = match r.entropy {
                    Some(Some((mean, _))) => format!("{mean:.3}"),
                    _ => "missing".into(),
                };
                parts.push(format!("entropy {ours} (paper {})", paper.text()));
            }
            format!("`{}` {}", r.run, parts.join(", "))
        })
        .collect();
    if !beside.is_empty() {
        said.push(format!(
            "beside the RRAE paper's numbers: {}",
            beside.join("; ")
        ));
    }
    if said.is_empty() {
        format!("*As measured on {dataset}:* nothing yet.")
    } else {
        format!("*As measured on {dataset}:* {}.", said.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rrae_papers_numbers_are_read_from_the_table() {
        let text = rrae_paper_summary();
        for phrase in [
            "RRAE k = 3 (rank 3, entropy 0.59 nats)",
            "RRAE k = 5 (rank 5, entropy 0.50 nats)",
            "RRAE k = 8 (rank 8, entropy 0.50 nats)",
            "IRMAE l = 2 (rank 8, entropy 0.53 nats)",
            "LoRAE λ = 1e-3 (rank 20, entropy 0.51 nats)",
        ] {
            assert!(text.contains(phrase), "{phrase:?} not in {text:?}");
        }
    }
}
