//! Knossos's multi-register: a `txn` of `[:read k v]` and `[:write k v]` micro-ops, all at once.

use crate::history::{Call, Outcome};
use crate::models::model::{expect_f, Model, ModelOptions, OpError};
use crate::value::Value;
use std::collections::BTreeMap;

/// Knossos's multi-register: a `txn` of `[:read k v]` and `[:write k v]` micro-ops, all at once.
#[derive(Clone, Debug, Default)]
pub struct MultiRegister {
    pub opts: ModelOptions,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// `None`: the read constrains nothing (unknown outcome, or nil under Knossos's convention).
    Read(Value, Option<Value>),
    Write(Value, Value),
}

impl Model for MultiRegister {
    type State = BTreeMap<Value, Value>;
    type Op = Vec<Micro>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn op(&self, call: &Call) -> Result<Option<Vec<Micro>>, OpError> {
        if call.f != "txn" {
            return Err(expect_f(call, &["txn"]));
        }
        // An ok txn's reply has the values read; an unknown one only its request.
        let v = if call.outcome == Outcome::Ok {
            &call.value
        } else {
            &call.invoke_value
        };
        let items = v.as_list().ok_or_else(|| {
            OpError::Value(format!(
                "txn value is {}, expected a list of micro-ops",
                v.kind()
            ))
        })?;
        let mut micros = Vec::with_capacity(items.len());
        for m in items {
            match m.as_list() {
                Some([f, k, x]) if f.as_str() == Some("r") || f.as_str() == Some("read") => {
                    let known = call.outcome == Outcome::Ok
                        && !(self.opts.nil_reads_unconstrained && x.is_nil());
                    micros.push(Micro::Read(k.clone(), known.then(|| x.clone())));
                }
                Some([f, k, x]) if f.as_str() == Some("w") || f.as_str() == Some("write") => {
                    micros.push(Micro::Write(k.clone(), x.clone()))
                }
                _ => {
                    return Err(OpError::Value(format!(
                        "micro-op {m} is not [:read k v] or [:write k v]"
                    )))
                }
            }
        }
        if micros.iter().all(|m| matches!(m, Micro::Read(_, None))) {
            return Ok(None);
        }
        Ok(Some(micros))
    }

    fn step(&self, s: &Self::State, op: &Vec<Micro>, next: &mut Vec<Self::State>) {
        let mut state: Option<Self::State> = None;
        for m in op {
            let cur = state.as_ref().unwrap_or(s);
            match m {
                Micro::Read(k, Some(v)) => {
                    if cur.get(k).unwrap_or(&self.opts.initial) != v {
                        return;
                    }
                }
                Micro::Read(_, None) => {}
                Micro::Write(k, v) => {
                    state
                        .get_or_insert_with(|| s.clone())
                        .insert(k.clone(), v.clone());
                }
            }
        }
        next.push(state.unwrap_or_else(|| s.clone()));
    }

    fn is_read_only(&self, op: &Vec<Micro>) -> bool {
        op.iter().all(|m| matches!(m, Micro::Read(..)))
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::Map(s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn state_bytes(&self, s: &Self::State) -> usize {
        s.iter()
            .map(|(k, v)| 64 + k.heap_bytes() + v.heap_bytes())
            .sum()
    }
}
