//! The pickle virtual machine behind [`super::parse`]: one opcode at a time, values in
//! an arena, memo and marks as in CPython's `pickle._Unpickler`.

use std::collections::HashMap;

use super::{Id, Pickle, Value};

pub(super) struct Machine<'a> {
    bytes: &'a [u8],
    pos: usize,
    values: Vec<Value>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
}

impl<'a> Machine<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Machine {
            bytes,
            pos: 0,
            values: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    }

    fn line(&mut self) -> Result<String, String> {
        let rest = &self.bytes[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated text line")?;
        let text = String::from_utf8_lossy(&rest[..len]).into_owned();
        self.pos += len + 1;
        Ok(text)
    }

    fn push(&mut self, v: Value) {
        self.values.push(v);
        self.stack.push(self.values.len() - 1);
    }

    fn pop(&mut self) -> Result<Id, String> {
        self.stack.pop().ok_or_else(|| "stack underflow".into())
    }

    fn top(&self) -> Result<Id, String> {
        self.stack
            .last()
            .copied()
            .ok_or_else(|| "empty stack".into())
    }

    fn pop_mark(&mut self) -> Result<Vec<Id>, String> {
        let at = self
            .marks
            .pop()
            .ok_or("no MARK before a MARK-using opcode")?;
        if at > self.stack.len() {
            return Err("MARK beyond the stack".into());
        }
        Ok(self.stack.split_off(at))
    }

    fn text(&mut self, n: usize) -> Result<(), String> {
        let s = String::from_utf8_lossy(self.take(n)?).into_owned();
        self.push(Value::Str(s));
        Ok(())
    }

    fn bytes_value(&mut self, n: usize) -> Result<(), String> {
        let b = self.take(n)?.to_vec();
        self.push(Value::Bytes(b));
        Ok(())
    }

    fn memo_put(&mut self, key: u64) -> Result<(), String> {
        let id = self.top()?;
        self.memo.insert(key, id);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), String> {
        let id = *self.memo.get(&key).ok_or(format!("memo key {key} unset"))?;
        self.stack.push(id);
        Ok(())
    }

    fn set_items(&mut self, dict: Id, items: &[Id]) -> Result<(), String> {
        match &mut self.values[dict] {
            Value::Dict(pairs) => {
                pairs.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])));
                Ok(())
            }
            other => Err(format!("SETITEM(S) on {other:?}, not a dict")),
        }
    }

    fn append(&mut self, list: Id, items: &[Id]) -> Result<(), String> {
        match &mut self.values[list] {
            Value::List(v) => {
                v.extend_from_slice(items);
                Ok(())
            }
            other => Err(format!("APPEND(S) on {other:?}, not a list")),
        }
    }

    fn global_name(&self, id: Id) -> Option<(&str, &str)> {
        match &self.values[id] {
            Value::Global { module, name } => Some((module, name)),
            _ => None,
        }
    }

    /// `REDUCE`: calls `class(*args)` for the few callables whose meaning is data.
    fn reduce(&mut self, class: Id, args: Id) -> Result<Value, String> {
        let arg_ids = match &self.values[args] {
            Value::Tuple(v) => v.clone(),
            _ => Vec::new(),
        };
        let usizes = |ids: &[Id], values: &[Value]| -> Option<Vec<usize>> {
            ids.iter()
                .map(|&i| match values[i] {
                    Value::Int(v) => usize::try_from(v).ok(),
                    _ => None,
                })
                .collect()
        };
        match self.global_name(class) {
            Some(("collections", "OrderedDict")) => Ok(Value::Dict(Vec::new())),
            Some(("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor")) => {
                let bad = || format!("unexpected arguments to a torch tensor rebuild: {arg_ids:?}");
                if arg_ids.len() < 4 {
                    return Err(bad());
                }
                let offset = match self.values[arg_ids[1]] {
                    Value::Int(v) => usize::try_from(v).map_err(|_| bad())?,
                    _ => return Err(bad()),
                };
                let dims = |i: usize| match &self.values[arg_ids[i]] {
                    Value::Tuple(v) => usizes(v, &self.values),
                    _ => None,
                };
                Ok(Value::Tensor {
                    storage: arg_ids[0],
                    offset,
                    shape: dims(2).ok_or_else(bad)?,
                    stride: dims(3).ok_or_else(bad)?,
                })
            }
            Some(("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state")) => {
                let data = *arg_ids.first().ok_or("_rebuild_parameter without data")?;
                Ok(self.values[data].clone())
            }
            _ => Ok(Value::Object {
                class,
                args,
                state: None,
            }),
        }
    }

    pub(super) fn run(mut self) -> Result<(Pickle, usize), String> {
        loop {
            let at = self.pos;
            let op = *self.take(1)?.first().ok_or("empty")?;
            let result = self.step(op);
            match result {
                Ok(true) => {
                    let root = self.pop()?;
                    let used = self.pos;
                    return Ok((
                        Pickle {
                            values: self.values,
                            root,
                        },
                        used,
                    ));
                }
                Ok(false) => {}
                Err(e) => return Err(format!("opcode 0x{op:02x} at byte {at}: {e}")),
            }
        }
    }

    /// Executes one opcode; true on `STOP`.
    fn step(&mut self, op: u8) -> Result<bool, String> {
        match op {
            0x80 => {
                self.take(1)?; // PROTO
            }
            0x95 => {
                self.take(8)?; // FRAME
            }
            b'.' => return Ok(true),
            b'(' => self.marks.push(self.stack.len()),
            b'N' => self.push(Value::None),
            0x88 => self.push(Value::Bool(true)),
            0x89 => self.push(Value::Bool(false)),
            b'J' => {
                let v = self.uint(4)? as u32 as i32 as i64;
                self.push(Value::Int(v));
            }
            b'K' => {
                let v = self.uint(1)? as i64;
                self.push(Value::Int(v));
            }
            b'M' => {
                let v = self.uint(2)? as i64;
                self.push(Value::Int(v));
            }
            0x8a | 0x8b => {
                // LONG1 / LONG4: little-endian two's complement.
                let n = if op == 0x8a {
                    self.uint(1)?
                } else {
                    self.uint(4)?
                } as usize;
                let b = self.take(n)?.to_vec();
                if n > 8 {
                    self.push(Value::BigInt(b));
                    return Ok(false);
                }
                let mut v = b.iter().rev().fold(0i64, |acc, &x| (acc << 8) | x as i64);
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                self.push(Value::Int(v));
            }
            b'G' => {
                let b = self.take(8)?;
                let v = f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                self.push(Value::Float(v));
            }
            b'X' => {
                let n = self.uint(4)? as usize;
                self.text(n)?;
            }
            0x8c => {
                let n = self.uint(1)? as usize;
                self.text(n)?;
            }
            0x8d => {
                let n = self.uint(8)? as usize;
                self.text(n)?;
            }
            b'U' => {
                let n = self.uint(1)? as usize;
                self.text(n)?;
            }
            b'T' => {
                let n = self.uint(4)? as usize;
                self.text(n)?;
            }
            b'C' => {
                let n = self.uint(1)? as usize;
                self.bytes_value(n)?;
            }
            b'B' => {
                let n = self.uint(4)? as usize;
                self.bytes_value(n)?;
            }
            0x8e => {
                let n = self.uint(8)? as usize;
                self.bytes_value(n)?;
            }
            b')' => self.push(Value::Tuple(Vec::new())),
            b']' => self.push(Value::List(Vec::new())),
            b'}' => self.push(Value::Dict(Vec::new())),
            0x8f => self.push(Value::List(Vec::new())), // EMPTY_SET
            b't' => {
                let items = self.pop_mark()?;
                self.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if self.stack.len() < n {
                    return Err("stack underflow".into());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push(Value::Tuple(items));
            }
            b'l' => {
                let items = self.pop_mark()?;
                self.push(Value::List(items));
            }
            b'd' => {
                let items = self.pop_mark()?;
                self.push(Value::Dict(Vec::new()));
                let dict = self.top()?;
                self.set_items(dict, &items)?;
            }
            b'a' => {
                let item = self.pop()?;
                let list = self.top()?;
                self.append(list, &[item])?;
            }
            b'e' | 0x90 => {
                let items = self.pop_mark()?;
                let list = self.top()?;
                self.append(list, &items)?;
            }
            b's' => {
                let value = self.pop()?;
                let key = self.pop()?;
                let dict = self.top()?;
                self.set_items(dict, &[key, value])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                let dict = self.top()?;
                self.set_items(dict, &items)?;
            }
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                self.push(Value::Global { module, name });
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (module, name) = match (&self.values[module], &self.values[name]) {
                    (Value::Str(m), Value::Str(n)) => (m.clone(), n.clone()),
                    _ => return Err("STACK_GLOBAL needs two strings".into()),
                };
                self.push(Value::Global { module, name });
            }
            b'R' => {
                let args = self.pop()?;
                let class = self.pop()?;
                let value = self.reduce(class, args)?;
                self.push(value);
            }
            0x81 => {
                let args = self.pop()?;
                let class = self.pop()?;
                self.push(Value::Object {
                    class,
                    args,
                    state: None,
                });
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?;
                if let Value::Object { state: s, .. } = &mut self.values[target] {
                    *s = Some(state);
                } // A dict's BUILD state (an OrderedDict's `_metadata`) is not needed.
            }
            b'Q' => {
                let pid = self.pop()?;
                self.push(Value::PersistentId(pid));
            }
            b'q' => {
                let key = self.uint(1)?;
                self.memo_put(key)?;
            }
            b'r' => {
                let key = self.uint(4)?;
                self.memo_put(key)?;
            }
            0x94 => {
                let key = self.memo.len() as u64;
                self.memo_put(key)?;
            }
            b'h' => {
                let key = self.uint(1)?;
                self.memo_get(key)?;
            }
            b'j' => {
                let key = self.uint(4)?;
                self.memo_get(key)?;
            }
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self.top()?;
                self.stack.push(top);
            }
            other => return Err(format!("unsupported pickle opcode 0x{other:02x}")),
        }
        Ok(false)
    }
}
