//! A minimal pickle reader (protocols 2–5): enough of the virtual machine to read what
//! `torch.save` and TorchScript write (`data.pkl`), without executing anything.
//!
//! Values live in an arena and refer to each other by index, so an object that is memoised and
//! filled afterwards (a dict, then `SETITEMS`; an object, then `BUILD`) is the same object
//! wherever the memo refers to it. Globals are recorded by name, never imported; the only calls
//! interpreted are `collections.OrderedDict()` (an empty dict), torch's tensor rebuild functions
//! (a [`Value::Tensor`]) and `_rebuild_parameter` (its tensor). Every other call becomes an
//! opaque [`Value::Object`].

mod vm;

use vm::Machine;

/// Index of a value in a [`Pickle`]'s arena.
pub type Id = usize;

/// One unpickled value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A wider integer (`LONG1`/`LONG4`), its little-endian two's-complement bytes.
    BigInt(Vec<u8>),
    /// A float.
    Float(f64),
    /// A text string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Id>),
    /// A list (or a set: its items).
    List(Vec<Id>),
    /// A dict or OrderedDict, in insertion order.
    Dict(Vec<(Id, Id)>),
    /// A global (`module.name`), not imported.
    Global {
        /// Module path.
        module: String,
        /// Attribute name.
        name: String,
    },
    /// An object built by calling `class` with `args`, then given `state` (`BUILD`).
    Object {
        /// What was called (usually a [`Value::Global`]).
        class: Id,
        /// The call's arguments.
        args: Id,
        /// The `__setstate__` argument, if any (for modules: a dict of attributes).
        state: Option<Id>,
    },
    /// A persistent id (`BINPERSID`): torch's reference to a storage.
    PersistentId(Id),
    /// A tensor view of a storage: `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ..)`.
    Tensor {
        /// The storage (a [`Value::PersistentId`]).
        storage: Id,
        /// Offset in elements.
        offset: usize,
        /// Shape.
        shape: Vec<usize>,
        /// Strides in elements.
        stride: Vec<usize>,
    },
}

/// An unpickled object graph: the arena and the id of the value `STOP` returned.
#[derive(Debug, Clone)]
pub struct Pickle {
    /// Every value, referred to by index.
    pub values: Vec<Value>,
    /// The pickled object.
    pub root: Id,
}

impl Pickle {
    /// The value with id `id`.
    pub fn get(&self, id: Id) -> &Value {
        &self.values[id]
    }

    /// The text of a [`Value::Str`].
    pub fn str(&self, id: Id) -> Option<&str> {
        match self.get(id) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer of a [`Value::Int`].
    pub fn int(&self, id: Id) -> Option<i64> {
        match self.get(id) {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The items of a tuple or list.
    pub fn items(&self, id: Id) -> Option<&[Id]> {
        match self.get(id) {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }
}

/// Unpickles `bytes`; the error says which opcode at which offset could not be read.
pub fn parse(bytes: &[u8]) -> Result<Pickle, String> {
    parse_prefix(bytes).map(|(pickle, _)| pickle)
}

/// Unpickles the pickle at the start of `bytes`, returning it and the number of bytes it took
/// (the legacy torch format writes several pickles back to back).
pub fn parse_prefix(bytes: &[u8]) -> Result<(Pickle, usize), String> {
    Machine::new(bytes).run()
}
