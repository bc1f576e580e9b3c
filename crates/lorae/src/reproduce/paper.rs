//! The papers' own numbers, as one typed table the report reads: each number keyed by the model,
//! the dataset, the setting that differs from the paper's default (depth, initial variance,
//! latent dimension), what it measures (an FID with a sampler, a few-label test error, a latent
//! rank) and where it is printed. Copied from the IRMAE paper (Jing et al., 2020: Tables 1, 2, 5,
//! 6, 7, 8) and, for MNIST's GMM (k = 10) FIDs of the deterministic baselines, the RAE paper
//! (Ghosh et al., 2020, Table 1; its own networks). The LoRAE poster prints no numbers. The RRAE
//! paper's MNIST ranks come from its first version (Mounayer et al., arXiv 2405.13980v1, Table 3:
//! the rank of the latent space of each model it compares, on its own convolutional network with an
//! MLP to d = 128, AdaBelief lr 1e-4, 50 epochs); its LaTeX is in the authors' repository
//! `JadM133/RRAEs`, `for_paper/tex_NeurIPS/RRAEs-paper.tex` (commit 1a42a72).

use crate::config::{DatasetKind, ModelKind};

/// Where a number is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// IRMAE paper, Table `n`.
    Irmae(u8),
    /// The RAE paper's Table 1 (its own networks).
    Rae,
    /// The RRAE paper (v1), Table `n`.
    Rrae(u8),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Irmae(n) => write!(f, "IRMAE Table {n}"),
            Source::Rae => write!(f, "RAE paper"),
            Source::Rrae(n) => write!(f, "RRAE paper v1 Table {n}"),
        }
    }
}

/// Whose number: a model's codes, or the supervised classifier trained from pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// A model.
    Model(ModelKind),
    /// The supervised baseline of Table 2.
    Supervised,
}

/// The setting a number was measured at, where it differs from the paper's default run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The paper's default for the model and dataset.
    Default,
    /// IRMAE with `l` linear layers (Table 6).
    Depth(usize),
    /// IRMAE with its linear layers' initial variance scaled by this factor (Table 5).
    Variance(u32),
    /// The latent dimension `d` (Table 8).
    LatentDim(usize),
    /// RRAE truncated to rank `k`.
    Truncation(usize),
    /// LoRAE with λ = 10^`e`.
    LambdaPow10(i8),
}

/// What a number measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// FID of samples from a Gaussian fitted to the codes.
    FidGaussian,
    /// FID of samples from a GMM with `k` components fitted to the codes.
    FidGmm(usize),
    /// FID whatever the sampler (Table 7 gives one number per model).
    Fid,
    /// Test error in % of a classifier on codes with this many labels (60 000: all).
    Error(usize),
    /// Number of nonzero singular values of the latent covariance.
    Rank,
    /// Mean entropy (nats) of a classifier's predictions on decoded interpolations (the RRAE
    /// paper's measure, [`crate::eval::entropy`]).
    InterpolationEntropy,
}

/// One number of a paper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// Whose.
    pub who: Who,
    /// On which dataset.
    pub dataset: DatasetKind,
    /// At which setting.
    pub setting: Setting,
    /// What it measures.
    pub measure: Measure,
    /// The value as printed.
    pub value: f64,
    /// Where.
    pub source: Source,
}

const fn n(
    who: Who,
    dataset: DatasetKind,
    setting: Setting,
    measure: Measure,
    value: f64,
    source: Source,
) -> Number {
    Number {
        who,
        dataset,
        setting,
        measure,
        value,
        source,
    }
}

use DatasetKind::{Celeba, Mnist};
use Measure::{Error, Fid, FidGaussian, FidGmm, InterpolationEntropy, Rank};
use ModelKind::{Ae, Irmae, Lorae, Rae, Rrae, Vae, Wae};
use Setting::{Default, Depth, LambdaPow10, LatentDim, Truncation, Variance};
use Source::Irmae as T;
use Who::{Model as M, Supervised};

/// Every number the report compares with.
pub const NUMBERS: &[Number] = &[
    // IRMAE Table 1: FID of Gaussian and GMM (k = 4) samples.
    n(M(Ae), Mnist, Default, FidGaussian, 55.0, T(1)),
    n(M(Vae), Mnist, Default, FidGaussian, 33.9, T(1)),
    n(M(Irmae), Mnist, Default, FidGaussian, 37.4, T(1)),
    n(M(Ae), Mnist, Default, FidGmm(4), 38.0, T(1)),
    n(M(Vae), Mnist, Default, FidGmm(4), 30.8, T(1)),
    n(M(Irmae), Mnist, Default, FidGmm(4), 34.0, T(1)),
    n(M(Ae), Celeba, Default, FidGaussian, 52.8, T(1)),
    n(M(Vae), Celeba, Default, FidGaussian, 51.8, T(1)),
    n(M(Irmae), Celeba, Default, FidGaussian, 42.5, T(1)),
    n(M(Ae), Celeba, Default, FidGmm(4), 49.0, T(1)),
    n(M(Vae), Celeba, Default, FidGmm(4), 48.8, T(1)),
    n(M(Irmae), Celeba, Default, FidGmm(4), 36.4, T(1)),
    // The RAE paper's MNIST GMM (k = 10) FIDs.
    n(M(Ae), Mnist, Default, FidGmm(10), 10.66, Source::Rae),
    n(M(Vae), Mnist, Default, FidGmm(10), 17.66, Source::Rae),
    n(M(Wae), Mnist, Default, FidGmm(10), 9.39, Source::Rae),
    n(M(Rae), Mnist, Default, FidGmm(10), 8.69, Source::Rae),
    // IRMAE Table 7: CelebA, one FID per model.
    n(M(Wae), Celeba, Default, Fid, 53.7, T(7)),
    n(M(Rae), Celeba, Default, Fid, 44.7, T(7)),
    // IRMAE Table 2: MNIST test error % with 10 / 100 / 1 000 / 10 000 / 60 000 labels.
    n(M(Ae), Mnist, Default, Error(10), 31.4, T(2)),
    n(M(Ae), Mnist, Default, Error(100), 30.2, T(2)),
    n(M(Ae), Mnist, Default, Error(1_000), 10.6, T(2)),
    n(M(Ae), Mnist, Default, Error(10_000), 3.7, T(2)),
    n(M(Ae), Mnist, Default, Error(60_000), 1.9, T(2)),
    n(M(Vae), Mnist, Default, Error(10), 21.8, T(2)),
    n(M(Vae), Mnist, Default, Error(100), 21.7, T(2)),
    n(M(Vae), Mnist, Default, Error(1_000), 5.1, T(2)),
    n(M(Vae), Mnist, Default, Error(10_000), 1.7, T(2)),
    n(M(Vae), Mnist, Default, Error(60_000), 1.1, T(2)),
    n(M(Irmae), Mnist, Default, Error(10), 12.0, T(2)),
    n(M(Irmae), Mnist, Default, Error(100), 10.2, T(2)),
    n(M(Irmae), Mnist, Default, Error(1_000), 3.8, T(2)),
    n(M(Irmae), Mnist, Default, Error(10_000), 2.4, T(2)),
    n(M(Irmae), Mnist, Default, Error(60_000), 1.9, T(2)),
    n(Supervised, Mnist, Default, Error(10), 29.1, T(2)),
    n(Supervised, Mnist, Default, Error(100), 25.1, T(2)),
    n(Supervised, Mnist, Default, Error(1_000), 6.0, T(2)),
    n(Supervised, Mnist, Default, Error(10_000), 1.7, T(2)),
    n(Supervised, Mnist, Default, Error(60_000), 0.8, T(2)),
    // IRMAE Table 5: initial variance of the linear layers (MNIST, l = 8).
    n(M(Irmae), Mnist, Variance(1), Rank, 8.0, T(5)),
    n(M(Irmae), Mnist, Variance(2), Rank, 43.0, T(5)),
    n(M(Irmae), Mnist, Variance(4), Rank, 66.0, T(5)),
    n(M(Irmae), Mnist, Variance(1), FidGaussian, 37.4, T(5)),
    n(M(Irmae), Mnist, Variance(2), FidGaussian, 33.8, T(5)),
    n(M(Irmae), Mnist, Variance(4), FidGaussian, 49.0, T(5)),
    // IRMAE Table 6: depth l (MNIST).
    n(M(Irmae), Mnist, Depth(2), Rank, 70.0, T(6)),
    n(M(Irmae), Mnist, Depth(4), Rank, 39.0, T(6)),
    n(M(Irmae), Mnist, Depth(8), Rank, 8.0, T(6)),
    n(M(Irmae), Mnist, Depth(12), Rank, 4.0, T(6)),
    n(M(Irmae), Mnist, Depth(2), FidGaussian, 44.0, T(6)),
    n(M(Irmae), Mnist, Depth(4), FidGaussian, 30.1, T(6)),
    n(M(Irmae), Mnist, Depth(8), FidGaussian, 37.4, T(6)),
    n(M(Irmae), Mnist, Depth(12), FidGaussian, 62.6, T(6)),
    // IRMAE Table 8: CelebA FID against the latent dimension.
    n(M(Irmae), Celeba, LatentDim(32), FidGaussian, 81.6, T(8)),
    n(M(Irmae), Celeba, LatentDim(64), FidGaussian, 64.6, T(8)),
    n(M(Irmae), Celeba, LatentDim(128), FidGaussian, 47.6, T(8)),
    n(M(Irmae), Celeba, LatentDim(256), FidGaussian, 42.7, T(8)),
    n(M(Irmae), Celeba, LatentDim(512), FidGaussian, 42.0, T(8)),
    n(M(Ae), Celeba, LatentDim(32), FidGaussian, 78.2, T(8)),
    n(M(Ae), Celeba, LatentDim(64), FidGaussian, 60.1, T(8)),
    n(M(Ae), Celeba, LatentDim(128), FidGaussian, 46.0, T(8)),
    n(M(Ae), Celeba, LatentDim(256), FidGaussian, 45.4, T(8)),
    n(M(Ae), Celeba, LatentDim(512), FidGaussian, 53.9, T(8)),
    // RRAE paper v1, Table 3: rank of the latent space on MNIST and the mean entropy of its judge
    // on 10 000 interpolated images ("Strong-k" is RRAE at rank k; "Weak-6" is not a lorae model).
    n(M(Rrae), Mnist, Truncation(3), Rank, 3.0, Source::Rrae(3)),
    n(M(Rrae), Mnist, Truncation(5), Rank, 5.0, Source::Rrae(3)),
    n(M(Rrae), Mnist, Truncation(8), Rank, 8.0, Source::Rrae(3)),
    n(M(Irmae), Mnist, Depth(2), Rank, 8.0, Source::Rrae(3)),
    n(
        M(Lorae),
        Mnist,
        LambdaPow10(-3),
        Rank,
        20.0,
        Source::Rrae(3),
    ),
    n(
        M(Rrae),
        Mnist,
        Truncation(3),
        InterpolationEntropy,
        0.59,
        Source::Rrae(3),
    ),
    n(
        M(Rrae),
        Mnist,
        Truncation(5),
        InterpolationEntropy,
        0.5,
        Source::Rrae(3),
    ),
    n(
        M(Rrae),
        Mnist,
        Truncation(8),
        InterpolationEntropy,
        0.5,
        Source::Rrae(3),
    ),
    n(
        M(Irmae),
        Mnist,
        Depth(2),
        InterpolationEntropy,
        0.53,
        Source::Rrae(3),
    ),
    n(
        M(Lorae),
        Mnist,
        LambdaPow10(-3),
        InterpolationEntropy,
        0.51,
        Source::Rrae(3),
    ),
];

/// The IRMAE or RAE paper's number for `who` on `dataset` at `setting` measuring `measure`, if
/// printed. An FID asked with a sampler falls back to a model's one FID of Table 7.
pub fn lookup(
    who: Who,
    dataset: DatasetKind,
    setting: Setting,
    measure: Measure,
) -> Option<Number> {
    let find = |m: Measure| {
        NUMBERS
            .iter()
            .find(|x| {
                !matches!(x.source, Source::Rrae(_))
                    && x.who == who
                    && x.dataset == dataset
                    && x.setting == setting
                    && x.measure == m
            })
            .copied()
    };
    find(measure).or_else(|| match measure {
        FidGaussian | FidGmm(_) => find(Fid),
        _ => None,
    })
}

/// The RRAE paper's number for a model on `dataset` at `setting` measuring `measure`, if printed
/// (its IRMAE l = 2 is not the IRMAE paper's: another network and budget).
pub fn lookup_rrae(
    kind: ModelKind,
    dataset: DatasetKind,
    setting: Setting,
    measure: Measure,
) -> Option<Number> {
    NUMBERS
        .iter()
        .find(|x| {
            matches!(x.source, Source::Rrae(_))
                && x.who == M(kind)
                && x.dataset == dataset
                && x.setting == setting
                && x.measure == measure
        })
        .copied()
}

impl Number {
    /// The value with the digits its paper prints.
    pub fn text(&self) -> String {
        let digits = match (self.measure, self.source) {
            (Rank, _) => 0,
            (InterpolationEntropy, _) => 2,
            (_, Source::Rae) => 2,
            _ => 1,
        };
        format!("{:.*}", digits, self.value)
    }
}

/// A number as the report prints it: the value, and its source where that is not `usual`;
/// empty where the papers have none.
pub fn cell(number: Option<Number>, usual: Source) -> String {
    match number {
        None => String::new(),
        Some(x) if x.source == usual => x.text(),
        Some(x) => format!("{} ({})", x.text(), x.source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_paper_answers_for_its_own_network() {
        // IRMAE l = 2 on MNIST: rank 70 in the IRMAE paper (Table 6), 8 in the RRAE paper's.
        let irmae = lookup(M(Irmae), Mnist, Depth(2), Rank).map(|x| x.value);
        assert_eq!(irmae, Some(70.0));
        let rrae = lookup_rrae(Irmae, Mnist, Depth(2), Rank).map(|x| (x.value, x.source));
        assert_eq!(rrae, Some((8.0, Source::Rrae(3))));
        let entropy = lookup_rrae(Rrae, Mnist, Truncation(5), InterpolationEntropy);
        assert_eq!(entropy.map(|x| x.text()), Some("0.50".into()));
        assert_eq!(lookup_rrae(Rrae, Mnist, Truncation(4), Rank), None);
        assert_eq!(lookup_rrae(Lorae, Mnist, LambdaPow10(-5), Rank), None);
    }
}
