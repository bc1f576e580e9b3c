//! The legacy (pre-1.6, non-zip) `torch.save` format: five pickles back to back — the magic
//! number, the protocol version (1001), system information, the object itself, and the list of
//! storage keys — then, for each key in that order, the storage as a little-endian u64 element
//! count followed by its raw bytes.

use std::collections::HashMap;
use std::ops::Range;

use super::pickle::{self, Pickle, Value};

/// The magic number that starts a legacy file, `0x1950a86a20f9469cfc6c`, as pickled (LONG1).
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Unpickles the object of a legacy file and locates every storage's bytes.
pub fn parse(bytes: &[u8]) -> Result<(Pickle, HashMap<String, Range<usize>>), String> {
    let mut at = 0;
    let mut next = |what: &str| -> Result<Pickle, String> {
        let (p, used) = pickle::parse_prefix(&bytes[at..]).map_err(|e| format!("{what}: {e}"))?;
        at += used;
        Ok(p)
    };
    let magic = next("magic number")?;
    if magic.get(magic.root) != &Value::BigInt(MAGIC.to_vec()) {
        return Err("wrong magic number: not a torch.save file".into());
    }
    let version = next("protocol version")?;
    if version.int(version.root) != Some(1001) {
        return Err(format!(
            "protocol version {:?}, expected 1001",
            version.get(version.root)
        ));
    }
    next("system information")?;
    let graph = next("object")?;
    let keys = next("storage keys")?;
    let key_ids = keys
        .items(keys.root)
        .ok_or("the storage key list is not a list")?;
    // Element sizes come from the tensors' storage types in the object graph.
    let mut sizes: HashMap<String, usize> = HashMap::new();
    for value in &graph.values {
        if let Value::PersistentId(pid) = value {
            let fields = graph.items(*pid).unwrap_or(&[]);
            if let (Some(&ty), Some(&key)) = (fields.get(1), fields.get(2)) {
                if let (Value::Global { name, .. }, Some(key)) = (graph.get(ty), graph.str(key)) {
                    sizes.insert(key.to_string(), element_size(name)?);
                }
            }
            if fields.get(5).is_some_and(|&v| graph.get(v) != &Value::None) {
                return Err("storage views (torch < 0.4 files) are not supported".into());
            }
        }
    }
    let mut ranges = HashMap::new();
    for &id in key_ids {
        let key = keys
            .str(id)
            .ok_or("a storage key is not a string")?
            .to_string();
        let size = *sizes
            .get(&key)
            .ok_or(format!("storage {key} is used by no tensor"))?;
        let count = bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as usize)
            .ok_or(format!("truncated before storage {key}"))?;
        let start = at + 8;
        let end = count
            .checked_mul(size)
            .and_then(|n| n.checked_add(start))
            .filter(|&e| e <= bytes.len())
            .ok_or(format!(
                "storage {key} ({count} elements) runs past the end of the file"
            ))?;
        ranges.insert(key, start..end);
        at = end;
    }
    Ok((graph, ranges))
}

fn element_size(storage: &str) -> Result<usize, String> {
    Ok(match storage {
        "DoubleStorage" | "LongStorage" => 8,
        "FloatStorage" | "IntStorage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "ByteStorage" | "CharStorage" | "BoolStorage" => 1,
        other => return Err(format!("storage type {other} is not supported")),
    })
}
