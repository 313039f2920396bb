//! A grow-only set: `add x`, and `read` that returns every element.

use crate::history::{Call, Outcome};
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::model::{expect_f, Model, OpError};
use crate::models::set::decide;
use crate::models::set::op::SetOp;
use crate::value::Value;
use std::collections::BTreeSet;

/// A grow-only set: `add x`, and `read` that returns every element.
#[derive(Clone, Debug, Default)]
pub struct SetModel;

impl Model for SetModel {
    /// Persistent, so that a step clones in constant time and adds in logarithmic: a long
    /// history's replay would otherwise copy the whole set at every add.
    type State = imbl::OrdSet<Value>;
    type Op = SetOp;

    fn init(&self) -> Self::State {
        imbl::OrdSet::new()
    }

    fn op(&self, call: &Call) -> Result<Option<SetOp>, OpError> {
        match call.f.as_str() {
            "add" => Ok(Some(SetOp::Add(call.invoke_value.clone()))),
            "read" if call.outcome != Outcome::Ok => Ok(None),
            "read" => match call.value.as_items() {
                Some(items) => {
                    let set: BTreeSet<Value> = items.iter().cloned().collect();
                    if set.len() == items.len() {
                        return Ok(Some(SetOp::Read(set)));
                    }
                    // Kept as the anomaly it is, not folded into a set.
                    let mut seen = BTreeSet::new();
                    let twice = items.iter().find(|x| !seen.insert(*x)).cloned();
                    Ok(Some(SetOp::ReadTwice(twice.unwrap_or_default())))
                }
                None if call.value.is_nil() => Ok(Some(SetOp::Read(BTreeSet::new()))),
                None => Err(OpError::Value(format!(
                    "read value is {}, expected a set or list",
                    call.value.kind()
                ))),
            },
            _ => Err(expect_f(call, &["add", "read"])),
        }
    }

    fn step(&self, s: &Self::State, op: &SetOp, next: &mut Vec<Self::State>) {
        match op {
            SetOp::Add(x) => {
                let mut n = s.clone();
                n.insert(x.clone());
                next.push(n);
            }
            SetOp::Read(v) if v.len() == s.len() && s.iter().all(|x| v.contains(x)) => {
                next.push(s.clone())
            }
            SetOp::Read(_) | SetOp::ReadTwice(_) => {}
        }
    }

    fn is_read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_) | SetOp::ReadTwice(_))
    }

    /// Sets only grow: a read missing an element already added can never fit.
    fn may_need_rescue(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_) | SetOp::ReadTwice(_))
    }

    fn needs_rescue(&self, s: &Self::State, op: &SetOp) -> bool {
        match op {
            SetOp::Read(v) => s.len() > v.len() || !s.iter().all(|x| v.contains(x)),
            SetOp::ReadTwice(_) => true,
            SetOp::Add(_) => false,
        }
    }

    fn rescues(&self, _writer: &SetOp, _op: &SetOp) -> bool {
        false
    }

    fn decide(&self, calls: &[SearchCall<SetOp>]) -> Option<Decision> {
        decide::decide(calls)
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<SetOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        decide::unseen(calls, kept, relaxed)
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::Set(s.iter().cloned().collect())
    }

    /// What a new state costs beyond the one it came from: the whole set when small, else the
    /// path a step copied (the search's states come from one another by a step and share the
    /// rest), a node of up to 64 elements per level. Measured on synthetic sets of thousands: over
    /// the real growth by up to 2×, not under.
    fn state_bytes(&self, s: &Self::State) -> usize {
        let mut levels = 1;
        let mut n = s.len();
        while n > 64 {
            n /= 64;
            levels += 1;
        }
        let whole: usize = s
            .iter()
            .map(|v| 48 + v.heap_bytes())
            .take(levels * 64)
            .sum();
        whole.min(levels * 64 * 48)
    }
}
