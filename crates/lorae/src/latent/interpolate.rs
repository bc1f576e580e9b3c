//! Linear interpolation between codes (IRMAE Fig 5): `z(t) = (1 − t)·a + t·b` for `steps` evenly
//! spaced `t` in [0, 1], both ends included.

use super::Codes;
use crate::error::{Error, Result};

/// For each pair `(i, j)` of rows of `codes`, `steps` codes from row i to row j, pair after pair:
/// `[pairs.len() * steps, dim]`.
pub fn interpolate(codes: &Codes, pairs: &[(usize, usize)], steps: usize) -> Result<Codes> {
    if steps < 2 {
        return Err(Error::invalid(
            "steps",
            steps,
            "an interpolation needs at least its two end points",
        ));
    }
    let (n, dim) = (codes.len(), codes.dim);
    let mut values = Vec::with_capacity(pairs.len() * steps * dim);
    for &(i, j) in pairs {
        if i >= n || j >= n {
            return Err(Error::invalid(
                "pair",
                format!("({i}, {j})"),
                format!("indices must be below the number of codes, {n}"),
            ));
        }
        let a = &codes.values[i * dim..(i + 1) * dim];
        let b = &codes.values[j * dim..(j + 1) * dim];
        for s in 0..steps {
            let t = s as f32 / (steps - 1) as f32;
            values.extend(a.iter().zip(b).map(|(&a, &b)| (1.0 - t) * a + t * b));
        }
    }
    Ok(Codes { values, dim })
}
