//! Principal components of the codes (IRMAE Fig 8): a grid over the top two components, each
//! spanning ±`extent` standard deviations around the mean code.

use nalgebra::{DVector, SymmetricEigen};

use super::spectrum::covariance;
use super::to_matrix;
use super::Codes;
use crate::error::{Error, Result};

/// Mean and principal axes of a set of codes.
#[derive(Debug, Clone)]
pub struct Pca {
    /// Mean code.
    pub mean: DVector<f64>,
    /// Unit principal directions, by decreasing variance.
    pub axes: Vec<DVector<f64>>,
    /// Standard deviation of the codes along each axis.
    pub std: Vec<f64>,
}

impl Pca {
    /// Eigen-decomposition of the codes' covariance (at least two codes).
    pub fn fit(codes: &Codes) -> Result<Pca> {
        let cov = covariance(codes)?;
        let mean = to_matrix(codes).row_mean().transpose();
        let eig = SymmetricEigen::try_new(cov, 1e-14, 100_000).ok_or_else(|| {
            Error::Numerical("eigen-decomposition of the latent covariance did not converge".into())
        })?;
        let mut order: Vec<usize> = (0..eig.eigenvalues.len()).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        Ok(Pca {
            mean,
            axes: order
                .iter()
                .map(|&i| eig.eigenvectors.column(i).into_owned())
                .collect(),
            std: order
                .iter()
                .map(|&i| eig.eigenvalues[i].max(0.0).sqrt())
                .collect(),
        })
    }

    /// A `size × size` grid of codes, row-major: rows move along the first component, columns
    /// along the second, each from −`extent`σ to +`extent`σ.
    pub fn grid(&self, size: usize, extent: f64) -> Result<Codes> {
        if size < 2 || self.axes.len() < 2 {
            return Err(Error::invalid(
                "size",
                size,
                "a PCA grid needs at least 2×2 cells and codes of dimension ≥ 2",
            ));
        }
        let offset = |k: usize| -extent + 2.0 * extent * k as f64 / (size - 1) as f64;
        let dim = self.mean.len();
        let mut values = Vec::with_capacity(size * size * dim);
        for r in 0..size {
            for c in 0..size {
                let z = &self.mean
                    + &self.axes[0] * (offset(r) * self.std[0])
                    + &self.axes[1] * (offset(c) * self.std[1]);
                values.extend(z.iter().map(|&v| v as f32));
            }
        }
        Ok(Codes { values, dim })
    }
}
