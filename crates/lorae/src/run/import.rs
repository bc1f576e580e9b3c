//! `lorae import`: a state dict of the official codes' `model.AE` (facebookresearch/irmae for the
//! AE, IRMAE and VAE, tirthajit/LoRAE_WACV24 for LoRAE; both save `torch.save(net.state_dict())`)
//! becomes a lorae run that every command reads.
//!
//! Every official tensor has one lorae parameter; four mappings, each exact:
//!
//! | official | lorae | mapping |
//! |---|---|---|
//! | `Conv2d`, `ConvTranspose2d` 4×4 | `Conv2d`, `ConvTranspose2d` 4×4 | the same layout (`[out, in, k, k]`, `[in, out, k, k]`) |
//! | `nn.Linear` `[out, in]` (`enc.fc`, `dec.fc`, `mlp.hidden.i`) | burn `Linear` `[in, out]` | transposed |
//! | MNIST/CelebA output `ConvTranspose2d(c, C, 1, 1, 0)` `[c, C, 1, 1]` | 1×1 `Conv2d` `[C, c, 1, 1]` | channels swapped: a 1×1 transposed convolution is that convolution |
//! | shapes `Conv2d(256, d, 2, 1, 0)` and `ConvTranspose2d(d, 256, 2, 1, 0)` | 4×4, stride 2, padding 1 | the 2×2 kernel at taps 1..3 of a zero 4×4 one |
//!
//! The last row is exact in training too, not only in the forward pass: on a 2×2 input (the
//! encoder's) or a 1×1 input (the decoder's) the outer taps of lorae's 4×4 kernel meet only the
//! padding, so their gradient is zero, and Adam moves a parameter whose gradient has always been
//! zero by exactly zero.
//!
//! The run gets `import.json` (the source file and the mapping) and one checkpoint at epoch 0
//! with a fresh optimizer. It has no optimizer state of its own, so `train --resume` refuses it;
//! `lorae train --init RUN` trains a new run from its weights.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use crate::config::{Layout, ModelConfig, ModelKind, RunConfig, VaeLoss};
use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use crate::model::Autoencoder;
use crate::weights::torch::TorchArchive;

use super::checkpoint::{self, TrainState};
use super::{RunDir, CONFIG_FILE};

/// File in an imported run recording where its weights came from.
pub const IMPORT_FILE: &str = "import.json";

/// Named tensors: key → (shape, row-major f32 values).
pub type StateDict = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// How one official tensor becomes its lorae parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// Same shape, same values.
    Same,
    /// `nn.Linear`'s `[out, in]` → burn's `[in, out]`.
    Transpose,
    /// A 1×1 `ConvTranspose2d` `[c, C, 1, 1]` → a 1×1 `Conv2d` `[C, c, 1, 1]`.
    SwapChannels,
    /// A 2×2 kernel `[a, b, 2, 2]` → taps 1..3 of a zero `[a, b, 4, 4]` kernel.
    Embed2x2,
}

/// One official tensor: its key, the shape the official model gives it, and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Key in the official state dict (`enc.dcnn.0.weight`).
    pub official: String,
    /// Its shape in the official model for this configuration.
    pub shape: Vec<usize>,
    /// The lorae parameter (`encoder.convs.0.weight`).
    pub lorae: String,
    /// How the values move.
    pub mapping: Mapping,
}

/// What `import.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// The file imported.
    pub source: PathBuf,
    /// Every tensor and how it was mapped.
    pub entries: Vec<Entry>,
}

/// The official state dict's keys and shapes for `model` on `layout`, each with its lorae
/// parameter: the official `model.AE(args)` with `args.n = latent_dim`, `args.l = layers`,
/// `args.vae` for the VAE.
pub fn plan(model: &ModelConfig, layout: Layout) -> Result<Vec<Entry>> {
    match model.kind {
        ModelKind::Ae | ModelKind::Irmae | ModelKind::Lorae | ModelKind::Vae => {}
        other => return Err(Error::invalid(
            "model",
            other,
            "the official codes define ae, irmae, lorae and vae (`model.AE`): import one of those",
        )),
    }
    if model.kind == ModelKind::Vae && model.vae_loss != VaeLoss::Bce {
        return Err(Error::invalid(
            "vae-loss",
            model.vae_loss,
            "the official VAE is the `bce` objective with a Sigmoid decoder",
        ));
    }
    if model.relu_between || model.shared_linear {
        return Err(Error::invalid(
            "model",
            "an ablated chain",
            "the official MLP is plain distinct linear layers: drop --relu-between / --shared-linear",
        ));
    }
    let n = model.latent_dim;
    let code = if model.kind == ModelKind::Vae {
        2 * n
    } else {
        n
    };
    let mut plan = Vec::new();
    let mut add = |official: String, shape: Vec<usize>, lorae: String, mapping| {
        plan.push(Entry {
            official,
            shape,
            lorae,
            mapping,
        })
    };
    let (enc_channels, fc_in, dec_channels, dec_start, out_channels): (&[usize], _, &[usize], _, _) =
        match layout {
            Layout::Mnist => (&[1, 32, 64, 128, 256], Some(1024), &[128, 64, 32], 128 * 8 * 8, 1),
            Layout::Celeba => (
                &[3, 128, 256, 512, 1024],
                Some(1024 * 4 * 4),
                &[1024, 512, 256, 128],
                1024 * 8 * 8,
                3,
            ),
            Layout::Shapes => (&[3, 32, 64, 128, 256], None, &[256, 128, 64, 32, 3], 0, 3),
            Layout::Cifar => {
                return Err(Error::invalid(
                    "dataset",
                    "cifar10",
                    "the official codes have no 32×32 colour layout (LoRAE's CIFAR-10 uses the CelebA layout at 64×64): \
                     import with --dataset mnist, shapes or celeba",
                ))
            }
        };
    // Encoder: `enc.dcnn` = Conv, ReLU, Conv, ReLU, ... (weights at even indices).
    for (i, w) in enc_channels.windows(2).enumerate() {
        let (key, param) = (format!("enc.dcnn.{}", 2 * i), format!("encoder.convs.{i}"));
        add(
            format!("{key}.weight"),
            vec![w[1], w[0], 4, 4],
            format!("{param}.weight"),
            Mapping::Same,
        );
        add(
            format!("{key}.bias"),
            vec![w[1]],
            format!("{param}.bias"),
            Mapping::Same,
        );
    }
    let last = enc_channels[enc_channels.len() - 1];
    match fc_in {
        Some(fc_in) => {
            add(
                "enc.fc.weight".into(),
                vec![code, fc_in],
                "encoder.head_fc.weight".into(),
                Mapping::Transpose,
            );
            add(
                "enc.fc.bias".into(),
                vec![code],
                "encoder.head_fc.bias".into(),
                Mapping::Same,
            );
        }
        None => {
            let key = format!("enc.dcnn.{}", 2 * (enc_channels.len() - 1));
            add(
                format!("{key}.weight"),
                vec![code, last, 2, 2],
                "encoder.head_conv.weight".into(),
                Mapping::Embed2x2,
            );
            add(
                format!("{key}.bias"),
                vec![code],
                "encoder.head_conv.bias".into(),
                Mapping::Same,
            );
        }
    }
    // The chain: `mlp.hidden.i` (IRMAE's l layers, LoRAE's M).
    let chain = match model.kind {
        ModelKind::Irmae | ModelKind::Lorae => model.layers,
        _ => 0,
    };
    for i in 0..chain {
        add(
            format!("mlp.hidden.{i}.weight"),
            vec![n, n],
            format!("chain.layers.{i}.weight"),
            Mapping::Transpose,
        );
    }
    // Decoder.
    if layout == Layout::Shapes {
        // `dec.dcnn` = ConvT(d, 256, 2), ReLU, ConvT 4×4, ReLU, ..., Tanh.
        add(
            "dec.dcnn.0.weight".into(),
            vec![n, 256, 2, 2],
            "decoder.deconvs.0.weight".into(),
            Mapping::Embed2x2,
        );
        add(
            "dec.dcnn.0.bias".into(),
            vec![256],
            "decoder.deconvs.0.bias".into(),
            Mapping::Same,
        );
        for (i, w) in dec_channels.windows(2).enumerate() {
            let (key, param) = (
                format!("dec.dcnn.{}", 2 * (i + 1)),
                format!("decoder.deconvs.{}", i + 1),
            );
            add(
                format!("{key}.weight"),
                vec![w[0], w[1], 4, 4],
                format!("{param}.weight"),
                Mapping::Same,
            );
            add(
                format!("{key}.bias"),
                vec![w[1]],
                format!("{param}.bias"),
                Mapping::Same,
            );
        }
    } else {
        add(
            "dec.fc.weight".into(),
            vec![dec_start, n],
            "decoder.fc.weight".into(),
            Mapping::Transpose,
        );
        add(
            "dec.fc.bias".into(),
            vec![dec_start],
            "decoder.fc.bias".into(),
            Mapping::Same,
        );
        // MNIST's `dec.dcnn` opens with a ReLU (weights at odd indices); CelebA's does not.
        let first = usize::from(layout == Layout::Mnist);
        for (i, w) in dec_channels.windows(2).enumerate() {
            let (key, param) = (
                format!("dec.dcnn.{}", first + 2 * i),
                format!("decoder.deconvs.{i}"),
            );
            add(
                format!("{key}.weight"),
                vec![w[0], w[1], 4, 4],
                format!("{param}.weight"),
                Mapping::Same,
            );
            add(
                format!("{key}.bias"),
                vec![w[1]],
                format!("{param}.bias"),
                Mapping::Same,
            );
        }
        let key = format!("dec.dcnn.{}", first + 2 * (dec_channels.len() - 1));
        let c = dec_channels[dec_channels.len() - 1];
        add(
            format!("{key}.weight"),
            vec![c, out_channels, 1, 1],
            "decoder.out_conv.weight".into(),
            Mapping::SwapChannels,
        );
        add(
            format!("{key}.bias"),
            vec![out_channels],
            "decoder.out_conv.bias".into(),
            Mapping::Same,
        );
    }
    Ok(plan)
}

/// Reads a state dict: a `torch.save` file (zip or legacy) or a safetensors file, told apart by
/// their first bytes.
pub fn read_state_dict(path: &Path) -> Result<StateDict> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(Error::bad_file(
            path,
            "not a regular file: give the checkpoint file itself",
        ));
    }
    let mut head = [0u8; 9];
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let got = file
        .read(&mut head)
        .map_err(|e| Error::io("cannot read", path, e))?;
    if got == 9 && head[8] == b'{' && head[..2] != *b"PK" {
        return read_safetensors(path);
    }
    let mut archive = TorchArchive::open(path)?;
    let infos = archive.tensors().to_vec();
    if infos.is_empty() {
        return Err(Error::bad_file(
            path,
            "holds no tensors: not a state dict (save the model with `torch.save(net.state_dict(), PATH)`)",
        ));
    }
    if infos.iter().any(|t| t.name.contains("_modules.")) {
        return Err(Error::bad_file(
            path,
            "is a pickled nn.Module, not a state dict: save it again with `torch.save(net.state_dict(), PATH)`",
        ));
    }
    let mut dict = StateDict::new();
    for info in &infos {
        let values = archive.read_f32(info)?;
        dict.insert(info.name.clone(), (info.shape.clone(), values));
    }
    Ok(dict)
}

fn read_safetensors(path: &Path) -> Result<StateDict> {
    let bytes = crate::io::atomic::read(path)?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        Error::bad_file(
            path,
            format!("not a safetensors file ({e}); was it truncated?"),
        )
    })?;
    let mut dict = StateDict::new();
    for (name, view) in st.tensors() {
        let values: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            other => {
                return Err(Error::bad_file(
                    path,
                    format!("tensor `{name}` is {other:?}: import reads float32 state dicts"),
                ))
            }
        };
        dict.insert(name, (view.shape().to_vec(), values));
    }
    Ok(dict)
}

/// The lorae parameters of `dict` (read from `file`) under `plan`. Every planned key must be
/// there with its shape and finite values, and nothing else.
pub fn map_state_dict(dict: &StateDict, plan: &[Entry], file: &Path) -> Result<StateDict> {
    let mut out = StateDict::new();
    for entry in plan {
        let Some((shape, values)) = dict.get(&entry.official) else {
            return Err(Error::bad_file(
                file,
                format!(
                    "has no `{}` (expected shape {:?}): not a state dict of the official model.AE with these flags{}",
                    entry.official,
                    entry.shape,
                    hint(dict, plan)
                ),
            ));
        };
        if *shape != entry.shape {
            return Err(Error::bad_file(
                file,
                format!(
                    "`{}` has shape {shape:?}, the official model with these flags has {:?}{}",
                    entry.official,
                    entry.shape,
                    hint(dict, plan)
                ),
            ));
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::bad_file(
                file,
                format!(
                    "`{}` holds {bad}: the checkpoint is damaged",
                    entry.official
                ),
            ));
        }
        let (shape, values) = apply(entry.mapping, shape, values);
        out.insert(entry.lorae.clone(), (shape, values));
    }
    if let Some(extra) = dict
        .keys()
        .find(|k| !plan.iter().any(|e| &e.official == *k))
    {
        return Err(Error::bad_file(
            file,
            format!(
                "has `{extra}`, which the official model with these flags does not{}",
                hint(dict, plan)
            ),
        ));
    }
    Ok(out)
}

/// What the flags should probably be, read from the keys the file has.
fn hint(dict: &StateDict, plan: &[Entry]) -> String {
    let layers = (0..)
        .take_while(|i| dict.contains_key(&format!("mlp.hidden.{i}.weight")))
        .count();
    let planned = plan
        .iter()
        .filter(|e| e.official.starts_with("mlp.hidden."))
        .count();
    let code = |key: &str| dict.get(key).and_then(|(s, _)| s.first().copied());
    let fc_code = code("enc.fc.weight").or_else(|| code("enc.dcnn.8.weight"));
    let dec_n = dict
        .get("dec.fc.weight")
        .and_then(|(s, _)| s.get(1).copied())
        .or_else(|| code("dec.dcnn.0.weight"));
    let mut hints = Vec::new();
    if layers != planned {
        hints.push(match layers {
            0 => "the file has no `mlp.hidden.*` (an AE or a VAE: --model ae or vae)".to_string(),
            1 => "the file has one `mlp.hidden` layer (LoRAE: --model lorae, or --model irmae --layers 1)".to_string(),
            l => format!("the file has {l} `mlp.hidden` layers (--model irmae --layers {l})"),
        });
    }
    if let (Some(code), Some(n)) = (fc_code, dec_n) {
        if code == 2 * n {
            hints.push(format!("its encoder outputs 2×{n} values, μ and log σ²: a VAE (--model vae --latent-dim {n})"));
        } else if code == n {
            hints.push(format!("its latent dimension is {n} (--latent-dim {n})"));
        }
    }
    if hints.is_empty() {
        String::new()
    } else {
        format!("; {}", hints.join("; "))
    }
}

fn apply(mapping: Mapping, shape: &[usize], values: &[f32]) -> (Vec<usize>, Vec<f32>) {
    match mapping {
        Mapping::Same => (shape.to_vec(), values.to_vec()),
        Mapping::Transpose => {
            let (rows, cols) = (shape[0], shape[1]);
            let mut t = vec![0.0; values.len()];
            for r in 0..rows {
                for c in 0..cols {
                    t[c * rows + r] = values[r * cols + c];
                }
            }
            (vec![cols, rows], t)
        }
        Mapping::SwapChannels => {
            let (c, big_c) = (shape[0], shape[1]);
            let mut t = vec![0.0; values.len()];
            for i in 0..c {
                for o in 0..big_c {
                    t[o * c + i] = values[i * big_c + o];
                }
            }
            (vec![big_c, c, 1, 1], t)
        }
        Mapping::Embed2x2 => {
            let (a, b) = (shape[0], shape[1]);
            let mut t = vec![0.0; a * b * 16];
            for ab in 0..a * b {
                for y in 0..2 {
                    for x in 0..2 {
                        t[ab * 16 + (y + 1) * 4 + (x + 1)] = values[ab * 4 + y * 2 + x];
                    }
                }
            }
            (vec![a, b, 4, 4], t)
        }
    }
}

/// The model `config` describes with the weights of the official state dict `dict` (read from
/// `file`), on `device`.
pub fn model_from_state_dict(
    dict: &StateDict,
    config: &RunConfig,
    file: &Path,
    device: &burn::prelude::Device,
) -> Result<(Autoencoder, Vec<Entry>)> {
    let layout = config.data.layout();
    let plan = plan(&config.model, layout)?;
    let tensors = map_state_dict(dict, &plan, file)?;
    let template = Autoencoder::new(&config.model, layout, device);
    Ok((
        checkpoint::load_model_tensors(template, tensors, file)?,
        plan,
    ))
}

/// Imports the official checkpoint `file` as a new run in `out` configured by `config`, its
/// checkpoint holding `fresh` (a new optimizer: [`crate::train::import`] passes Adam's). Every
/// check comes before `out` is created: a file that does not fit writes nothing.
pub fn import(
    file: &Path,
    config: &RunConfig,
    out: &Path,
    fresh: &ModuleOptimizer,
) -> Result<Vec<Entry>> {
    config.validate()?;
    if out.join(CONFIG_FILE).exists() || out.join(checkpoint::MODEL_FILE).exists() {
        return Err(Error::invalid(
            "out",
            out.display(),
            "this directory already holds a run: choose another --out",
        ));
    }
    // A `lock` or a temporary file left by an import killed before it wrote anything is no run.
    let holds_files = std::fs::read_dir(out).is_ok_and(|d| {
        d.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name != super::lock::LOCK_FILE && !crate::io::atomic::is_leftover(&name)
        })
    });
    if holds_files {
        return Err(Error::invalid(
            "out",
            out.display(),
            "is not empty: import into a new or empty directory",
        ));
    }
    let dict = read_state_dict(file)?;
    let host = crate::device::host();
    let (model, plan) = model_from_state_dict(&dict, config, file, &host)?;
    // The directory was new or empty (but for a lock): once this process holds it, a failure
    // on the way (a full disk) empties it again, so the import can be rerun.
    let run = RunDir::create(out, config)?;
    let record = ImportRecord {
        source: std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()),
        entries: plan.clone(),
    };
    let state = TrainState::after(0);
    // `import.json` last: a run is imported once it is complete.
    let written = run
        .save(&model, fresh, &state, &[])
        .and_then(|()| write_atomic(&out.join(IMPORT_FILE), &to_json(&record)?));
    if let Err(e) = written {
        for entry in std::fs::read_dir(out).into_iter().flatten().flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
        return Err(e);
    }
    Ok(plan)
}

/// Whether `run` was made by [`import`] (it then has no optimizer state of its own).
pub fn is_imported(run: &Path) -> bool {
    run.join(IMPORT_FILE).is_file()
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::Serialize(format!("{e}")))
}
