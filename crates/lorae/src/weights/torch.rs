//! PyTorch checkpoints in the zip format (`torch.save` since 1.6, and TorchScript's
//! `torch.jit.save`): `PREFIX/data.pkl` pickles the object graph, `PREFIX/data/KEY` holds each
//! storage's raw little-endian bytes. The legacy format of older `torch.save` (five pickles, then
//! each storage as a u64 element count and its bytes; see [`super::legacy`]) is read too. Tensors are found by walking the graph: dict keys and module
//! attributes joined with `.` give their names (`Mixed_5b.branch1x1.conv.weight` in a state
//! dict, `net.layers.mixed.conv.weight` in a TorchScript module).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use super::pickle::{self, Id, Pickle, Value};
use crate::error::{Error, Result};

/// Element type of a storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// `torch.float32` (`FloatStorage`).
    F32,
    /// `torch.float64` (`DoubleStorage`).
    F64,
    /// `torch.float16` (`HalfStorage`).
    F16,
    /// `torch.bfloat16` (`BFloat16Storage`).
    BF16,
    /// `torch.int64` (`LongStorage`).
    I64,
    /// `torch.int32` (`IntStorage`).
    I32,
    /// `torch.uint8` (`ByteStorage`).
    U8,
    /// `torch.bool` (`BoolStorage`).
    Bool,
}

impl DType {
    fn from_storage(name: &str) -> Option<Self> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "DoubleStorage" => DType::F64,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::U8 | DType::Bool => 1,
        }
    }

    fn to_f32(self, b: &[u8]) -> f32 {
        match self {
            DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            DType::F64 => {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
            DType::F16 => f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
            DType::BF16 => f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16),
            DType::I64 => {
                i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
            DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
            DType::U8 | DType::Bool => b[0] as f32,
        }
    }
}

/// IEEE half precision to single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac · 2⁻²⁴.
            let v = frac as f32 * f32::powi(2.0, -24);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// One tensor of a checkpoint: where its values are and how to read them.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Dotted path of the tensor in the pickled object.
    pub name: String,
    /// Element type of its storage.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
    /// Strides, in elements.
    pub stride: Vec<usize>,
    /// Offset of the first element in the storage, in elements.
    pub offset: usize,
    /// Storage key: the archive member `PREFIX/data/KEY`.
    pub storage: String,
}

impl TensorInfo {
    /// Number of elements (saturating: a corrupt shape cannot overflow).
    pub fn numel(&self) -> usize {
        self.shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))
    }
}

/// An opened checkpoint: its tensors' descriptions; values are read on demand.
pub struct TorchArchive {
    path: PathBuf,
    storages: Storages,
    tensors: Vec<TensorInfo>,
}

/// Where the storages' bytes are.
enum Storages {
    /// Zip members `PREFIX/data/KEY`.
    Zip {
        zip: ZipArchive<File>,
        prefix: String,
    },
    /// The legacy format: the whole file, and each key's byte range in it.
    Legacy {
        bytes: Vec<u8>,
        ranges: std::collections::HashMap<String, std::ops::Range<usize>>,
    },
}

impl TorchArchive {
    /// Opens a `torch.save` file (zip or legacy format) or a TorchScript archive and lists its
    /// tensors.
    pub fn open(path: &Path) -> Result<Self> {
        crate::io::atomic::require_regular(path)?;
        let mut file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
        let mut magic = [0u8; 2];
        let is_pickle = file.read_exact(&mut magic).is_ok() && magic[0] == 0x80;
        if is_pickle {
            return Self::open_legacy(path);
        }
        let mut zip = ZipArchive::new(file).map_err(|e| {
            Error::bad_file(
                path,
                format!("not a torch checkpoint: neither a zip archive ({e}) nor a legacy torch.save pickle"),
            )
        })?;
        let pkl = zip
            .file_names()
            .map(str::to_string)
            .find(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
            .ok_or_else(|| {
                Error::bad_file(path, "no PREFIX/data.pkl member: not a torch checkpoint")
            })?;
        let prefix = pkl.trim_end_matches("data.pkl").to_string();
        let bytes = read_member(&mut zip, &pkl, path)?;
        let graph = pickle::parse(&bytes)
            .map_err(|e| Error::bad_file(path, format!("cannot unpickle {pkl}: {e}")))?;
        let mut tensors = Vec::new();
        collect(&graph, graph.root, "", 0, &mut tensors)
            .map_err(|e| Error::bad_file(path, format!("{pkl}: {e}")))?;
        Ok(TorchArchive {
            path: path.to_path_buf(),
            storages: Storages::Zip { zip, prefix },
            tensors,
        })
    }

    fn open_legacy(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
        let (graph, ranges) = super::legacy::parse(&bytes)
            .map_err(|e| Error::bad_file(path, format!("legacy torch.save format: {e}")))?;
        let mut tensors = Vec::new();
        collect(&graph, graph.root, "", 0, &mut tensors).map_err(|e| Error::bad_file(path, e))?;
        Ok(TorchArchive {
            path: path.to_path_buf(),
            storages: Storages::Legacy { bytes, ranges },
            tensors,
        })
    }

    /// Every tensor, in the order the pickle lists them.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor named `name`, if any.
    pub fn find(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The values of `tensor` in row-major order, converted to f32.
    pub fn read_f32(&mut self, tensor: &TensorInfo) -> Result<Vec<f32>> {
        let (member, owned);
        let bytes: &[u8] = match &mut self.storages {
            Storages::Zip { zip, prefix } => {
                member = format!("{prefix}data/{}", tensor.storage);
                owned = read_member(zip, &member, &self.path)?;
                &owned
            }
            Storages::Legacy { bytes, ranges } => {
                member = format!("storage {}", tensor.storage);
                let range = ranges.get(&tensor.storage).ok_or_else(|| {
                    Error::bad_file(&self.path, format!("tensor `{}`: no {member}", tensor.name))
                })?;
                &bytes[range.clone()]
            }
        };
        let size = tensor.dtype.size();
        // Strides may repeat elements (a stride of 0), so the values can outnumber the storage.
        crate::limits::check(
            "tensor",
            &tensor.name,
            crate::limits::product(&[tensor.numel(), 4]),
        )?;
        let last = tensor
            .shape
            .iter()
            .zip(&tensor.stride)
            .fold(tensor.offset, |l, (&n, &s)| {
                l.saturating_add(n.saturating_sub(1).saturating_mul(s))
            });
        if tensor.numel() > 0 && last.saturating_add(1).saturating_mul(size) > bytes.len() {
            return Err(Error::bad_file(
                &self.path,
                format!(
                    "tensor `{}` reaches element {last} of storage {member}, which holds {}",
                    tensor.name,
                    bytes.len() / size
                ),
            ));
        }
        let mut out = Vec::with_capacity(tensor.numel());
        let mut index = vec![0usize; tensor.shape.len()];
        for _ in 0..tensor.numel() {
            let at = tensor.offset
                + index
                    .iter()
                    .zip(&tensor.stride)
                    .map(|(i, s)| i * s)
                    .sum::<usize>();
            out.push(tensor.dtype.to_f32(&bytes[at * size..(at + 1) * size]));
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < tensor.shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(out)
    }
}

fn read_member(zip: &mut ZipArchive<File>, name: &str, path: &Path) -> Result<Vec<u8>> {
    let mut member = zip
        .by_name(name)
        .map_err(|e| Error::bad_file(path, format!("no member {name}: {e}")))?;
    // The declared size bounds what is read (and inflated): a corrupt header cannot make the
    // reader allocate more than the memory bound allows.
    let size = member.size();
    crate::limits::check("archive member", path.join(name).display(), size as u128)?;
    let mut bytes = Vec::new();
    member
        .by_ref()
        .take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read", path.join(name), e))?;
    Ok(bytes)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Walks the object graph from `id`, recording every tensor under its dotted path.
fn collect(
    graph: &Pickle,
    id: Id,
    name: &str,
    depth: usize,
    out: &mut Vec<TensorInfo>,
) -> std::result::Result<(), String> {
    if depth > 64 {
        return Err(format!("object graph deeper than 64 levels at `{name}`"));
    }
    match graph.get(id) {
        Value::Tensor {
            storage,
            offset,
            shape,
            stride,
        } => out.push(tensor_info(graph, *storage, name, *offset, shape, stride)?),
        Value::Dict(pairs) => {
            for &(k, v) in pairs {
                let key = match graph.get(k) {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    _ => continue,
                };
                collect(graph, v, &join(name, &key), depth + 1, out)?;
            }
        }
        Value::List(items) | Value::Tuple(items) => {
            for (i, &v) in items.iter().enumerate() {
                collect(graph, v, &join(name, &i.to_string()), depth + 1, out)?;
            }
        }
        Value::Object {
            state: Some(state), ..
        } => collect(graph, *state, name, depth + 1, out)?,
        _ => {}
    }
    Ok(())
}

/// Reads torch's storage reference `('storage', torch.FloatStorage, KEY, LOCATION, NUMEL)`.
fn tensor_info(
    graph: &Pickle,
    storage: Id,
    name: &str,
    offset: usize,
    shape: &[usize],
    stride: &[usize],
) -> std::result::Result<TensorInfo, String> {
    let bad = || format!("tensor `{name}` has an unreadable storage reference");
    let pid = match graph.get(storage) {
        Value::PersistentId(pid) => *pid,
        _ => return Err(bad()),
    };
    let fields = graph.items(pid).ok_or_else(bad)?;
    if fields.len() < 3 || graph.str(fields[0]) != Some("storage") {
        return Err(bad());
    }
    let dtype = match graph.get(fields[1]) {
        Value::Global { name: class, .. } => DType::from_storage(class)
            .ok_or_else(|| format!("tensor `{name}`: storage type {class} is not supported"))?,
        _ => return Err(bad()),
    };
    let key = graph.str(fields[2]).ok_or_else(bad)?.to_string();
    if shape.len() != stride.len() {
        return Err(format!(
            "tensor `{name}`: shape {shape:?} and stride {stride:?} differ in length"
        ));
    }
    Ok(TensorInfo {
        name: name.to_string(),
        dtype,
        shape: shape.to_vec(),
        stride: stride.to_vec(),
        offset,
        storage: key,
    })
}
