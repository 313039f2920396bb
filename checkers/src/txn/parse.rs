//! Transactions as the checkers read them: each call of `f: txn` turned into micro-ops over
//! interned keys and values, so a million transactions take little more than their ids.

use crate::history::{Call, Outcome};
use crate::value::Value;
use crate::verdict::CheckError;
use ahash::AHashMap;

/// No transaction, element or version.
pub const NONE: u32 = u32::MAX;

/// One micro-op. Keys and values are ids into `Txns::keys` and `Txns::values`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    /// `[append k v]`.
    Append { key: u32, value: u32 },
    /// `[r k list]`: `None` when the read's result is unknown.
    ReadList { key: u32, list: Option<Box<[u32]>> },
    /// `[w k v]`.
    Write { key: u32, value: u32 },
    /// `[r k v]` of a register: `None` when unknown; `Some(NONE)` never occurs, nil is a value.
    ReadReg { key: u32, value: Option<u32> },
}

impl Mop {
    pub fn key(&self) -> u32 {
        match self {
            Mop::Append { key, .. }
            | Mop::ReadList { key, .. }
            | Mop::Write { key, .. }
            | Mop::ReadReg { key, .. } => *key,
        }
    }
}

/// Which kind of micro-ops a history uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datatype {
    /// Lists that only grow by appends (Elle's list-append).
    ListAppend,
    /// Registers written with unique values (Elle's rw-register).
    RwRegister,
}

/// One transaction: a call of `f: txn`.
#[derive(Clone, Debug)]
pub struct Txn {
    /// Index into the calls.
    pub call: u32,
    pub outcome: Outcome,
    pub mops: Vec<Mop>,
}

/// Every transaction of a history, with its keys and values interned.
#[derive(Debug, Default)]
pub struct Txns {
    pub txns: Vec<Txn>,
    pub keys: Vec<Value>,
    /// Each value's key and value; a value id is unique to its key.
    pub values: Vec<(u32, Value)>,
    /// Who wrote or appended each value, `NONE` if nobody did (a garbage read).
    pub writer: Vec<u32>,
    /// The nil version of each register key, the initial state (rw-register only).
    pub nil: Vec<u32>,
}

impl Txns {
    pub fn value(&self, id: u32) -> &Value {
        &self.values[id as usize].1
    }
}

fn err(c: &Call, message: String) -> CheckError {
    CheckError::Input {
        line: c.line,
        message,
    }
}

/// Which datatype a history's micro-ops use: `append` for lists; `r` / `w` alone for registers.
pub fn infer(calls: &[Call]) -> Option<Datatype> {
    let mut writes = false;
    for c in calls.iter().filter(|c| c.f == "txn") {
        for v in [&c.invoke_value, &c.value] {
            for m in v.as_list().unwrap_or(&[]) {
                match m.as_list().and_then(|m| m.first()).and_then(Value::as_str) {
                    Some("append") => return Some(Datatype::ListAppend),
                    Some("w") => writes = true,
                    _ => {}
                }
            }
        }
    }
    writes.then_some(Datatype::RwRegister)
}

/// Whether a history's transactions are Elle's (`r`, `w`, `append`) rather than Knossos's
/// multi-register (`read`, `write`).
pub fn is_elle(calls: &[Call]) -> bool {
    calls.iter().filter(|c| c.f == "txn").any(|c| {
        [&c.invoke_value, &c.value].iter().any(|v| {
            v.as_list().unwrap_or(&[]).iter().any(|m| {
                matches!(
                    m.as_list().and_then(|m| m.first()).and_then(Value::as_str),
                    Some("r" | "w" | "append")
                )
            })
        })
    })
}

struct Interner {
    keys: AHashMap<Value, u32>,
    values: AHashMap<(u32, Value), u32>,
}

/// Read every call as a transaction of `datatype`'s micro-ops. Appended or written values must be
/// unique per key: that is what lets a read name the transaction it saw.
pub fn parse(calls: &[Call], datatype: Datatype) -> Result<Txns, CheckError> {
    let mut t = Txns::default();
    let mut i = Interner {
        keys: AHashMap::new(),
        values: AHashMap::new(),
    };
    // The line that wrote each value, for the message when another writes it too.
    let mut written_at: Vec<u64> = Vec::new();
    for (ci, c) in calls.iter().enumerate() {
        if c.f != "txn" {
            return Err(err(
                c,
                format!(
                    "a transactional history has only `txn` calls, not {:?}",
                    c.f.as_str()
                ),
            ));
        }
        // A completed transaction's reply has what it read; any other has only its request.
        let v = if c.outcome == Outcome::Ok {
            &c.value
        } else {
            &c.invoke_value
        };
        let items = v.as_list().ok_or_else(|| {
            err(
                c,
                format!(
                    "a txn's value must be a list of micro-ops, not {}",
                    v.kind()
                ),
            )
        })?;
        let tid = t.txns.len() as u32;
        let mut mops = Vec::with_capacity(items.len());
        for m in items {
            let bad = |what: &str| {
                err(
                    c,
                    format!(
                        "micro-op {m}: {what}; expected {}",
                        match datatype {
                            Datatype::ListAppend => "[append k v] or [r k list]",
                            Datatype::RwRegister => "[w k v] or [r k v]",
                        }
                    ),
                )
            };
            let Some([f, k, x]) = m.as_list() else {
                return Err(bad("not a list of three"));
            };
            let key = intern_key(&mut t, &mut i, k, datatype);
            let mop = match (f.as_str(), datatype) {
                (Some("append"), Datatype::ListAppend) | (Some("w"), Datatype::RwRegister) => {
                    if x.is_nil() {
                        return Err(bad("nil is the initial state, not a value to write"));
                    }
                    let value = intern_value(&mut t, &mut i, key, x);
                    if t.writer[value as usize] != NONE {
                        let other = written_at[value as usize];
                        return Err(err(
                            c,
                            format!(
                                "{m} writes a value line {other} already wrote to that key; \
                                 transactional checking needs unique values per key"
                            ),
                        ));
                    }
                    t.writer[value as usize] = tid;
                    written_at.resize(t.values.len(), 0);
                    written_at[value as usize] = c.line;
                    if datatype == Datatype::ListAppend {
                        Mop::Append { key, value }
                    } else {
                        Mop::Write { key, value }
                    }
                }
                (Some("r"), Datatype::ListAppend) => {
                    let list = if c.outcome != Outcome::Ok {
                        None
                    } else if x.is_nil() {
                        Some(Box::default())
                    } else {
                        let xs = x.as_items().ok_or_else(|| bad("a read of a list"))?;
                        Some(
                            xs.iter()
                                .map(|x| intern_value(&mut t, &mut i, key, x))
                                .collect(),
                        )
                    };
                    Mop::ReadList { key, list }
                }
                (Some("r"), Datatype::RwRegister) => {
                    let value = if c.outcome != Outcome::Ok {
                        None
                    } else if x.is_nil() {
                        Some(t.nil[key as usize])
                    } else {
                        Some(intern_value(&mut t, &mut i, key, x))
                    };
                    Mop::ReadReg { key, value }
                }
                _ => return Err(bad("unknown function")),
            };
            mops.push(mop);
        }
        t.txns.push(Txn {
            call: ci as u32,
            outcome: c.outcome,
            mops,
        });
    }
    written_at.clear();
    Ok(t)
}

fn intern_key(t: &mut Txns, i: &mut Interner, k: &Value, datatype: Datatype) -> u32 {
    if let Some(&id) = i.keys.get(k) {
        return id;
    }
    let id = t.keys.len() as u32;
    t.keys.push(k.clone());
    i.keys.insert(k.clone(), id);
    if datatype == Datatype::RwRegister {
        let nil = t.values.len() as u32;
        t.values.push((id, Value::Nil));
        t.writer.push(NONE);
        t.nil.push(nil);
        i.values.insert((id, Value::Nil), nil);
    }
    id
}

fn intern_value(t: &mut Txns, i: &mut Interner, key: u32, v: &Value) -> u32 {
    let probe = (key, v.clone());
    if let Some(&id) = i.values.get(&probe) {
        return id;
    }
    let id = t.values.len() as u32;
    t.values.push(probe.clone());
    t.writer.push(NONE);
    i.values.insert(probe, id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::read_edn_str;
    use crate::history::pair;
    use std::path::Path;

    fn calls(edn: &str) -> Vec<Call> {
        pair(&read_edn_str(Path::new("t.edn"), edn).unwrap())
            .unwrap()
            .0
    }

    #[test]
    fn a_value_written_twice_is_an_error_naming_both_lines() {
        let c = calls(
            "{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n\
             {:process 0 :type :ok :f :txn :value [[:append :x 1]]}\n\
             {:process 1 :type :invoke :f :txn :value [[:r :y nil] [:append :x 1]]}\n\
             {:process 1 :type :ok :f :txn :value [[:r :y []] [:append :x 1]]}\n",
        );
        let e = parse(&c, Datatype::ListAppend).unwrap_err().to_string();
        assert!(
            e.starts_with("line 3:") && e.contains("line 1 already wrote"),
            "{e}"
        );
    }

    #[test]
    fn malformed_micro_ops_and_foreign_functions_are_named() {
        let c = calls("{:process 0 :type :invoke :f :txn :value [[:append :x]]}\n");
        let e = parse(&c, Datatype::ListAppend).unwrap_err().to_string();
        assert!(e.contains("[append k v] or [r k list]"), "{e}");
        let c = calls("{:process 0 :type :invoke :f :txn :value [[:w :x nil]]}\n");
        let e = parse(&c, Datatype::RwRegister).unwrap_err().to_string();
        assert!(e.contains("nil is the initial state"), "{e}");
        let c = calls("{:process 0 :type :invoke :f :read :value nil}\n");
        let e = parse(&c, Datatype::RwRegister).unwrap_err().to_string();
        assert!(e.contains("only `txn` calls"), "{e}");
    }

    #[test]
    fn the_datatype_is_inferred_from_the_micro_ops() {
        let c = calls("{:process 0 :type :invoke :f :txn :value [[:r :x nil] [:append :x 2]]}\n");
        assert_eq!(infer(&c), Some(Datatype::ListAppend));
        let c = calls("{:process 0 :type :invoke :f :txn :value [[:r :x nil] [:w :x 2]]}\n");
        assert_eq!(infer(&c), Some(Datatype::RwRegister));
        let c = calls("{:process 0 :type :invoke :f :txn :value [[:read :x nil]]}\n");
        assert!(!is_elle(&c));
    }
}
