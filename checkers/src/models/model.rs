//! Sequential reference models: plain, obviously correct implementations of data types.
//!
//! A model turns each call of a history into its own op (`Model::op`) and says which states may
//! follow a state when an op is applied (`Model::step`). Unknown-outcome calls (`Outcome::Info`)
//! are given to `op` too: the model builds an op that may take effect, with whatever result, and
//! the search is free to leave it out. Failed calls never reach a model: they did not happen.
//! A cas whose compare failed is not a failed call: it completed `ok` with the value `false`, an
//! observation that the register did not hold `from` at its linearization point.

use crate::history::Call;
use crate::history::Outcome;
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::value::Value;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification. Implement it to check your own system's histories.
pub trait Model: Sync {
    type State: Clone + Eq + Hash + Debug + Send + Sync;
    /// Ops that compare equal are interchangeable: the search tries only one of two equal
    /// unknown-outcome calls at a time.
    type Op: Clone + Debug + Eq + Hash + Send + Sync;

    fn init(&self) -> Self::State;

    /// The op a call stands for; `Ok(None)` when the call constrains nothing (an unknown-outcome
    /// read) and can be dropped; `Err` names what was expected.
    fn op(&self, call: &Call) -> Result<Option<Self::Op>, OpError>;

    /// Push every state that may follow `state` when `op` is applied; push none if `op` is not
    /// allowed in `state`.
    fn step(&self, state: &Self::State, op: &Self::Op, next: &mut Vec<Self::State>);

    /// True when `op` never changes any state (a read). The search linearizes such an op as soon as
    /// it fits, which is always safe and saves it from trying every place the read could go.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Pruning hint: true when no sequence of ops that do not `rescue` `op` can lead from `state`
    /// to a state where `op` applies (a get whose string no longer extends the state; a read of a
    /// value that is no longer current). Must never say true wrongly; `false` is always safe.
    fn needs_rescue(&self, _state: &Self::State, _op: &Self::Op) -> bool {
        false
    }

    /// False when `needs_rescue` is false for `op` in every state: the search then never asks.
    fn may_need_rescue(&self, _op: &Self::Op) -> bool {
        true
    }

    /// Whether `writer` might make `op` applicable again after `needs_rescue` said it could not be
    /// (a put of a prefix of the get's string; a write of the read's value). `true` is always safe.
    fn rescues(&self, _writer: &Self::Op, _op: &Self::Op) -> bool {
        true
    }

    /// An exact decision faster than the search, for histories of a shape this model knows (a
    /// register whose written values are unique). Its answers are checked before they are given;
    /// `None`: not this shape, or undecided, and the search decides.
    fn decide(&self, _calls: &[SearchCall<Self::Op>]) -> Option<Decision> {
        None
    }

    /// Which relaxed (unknown-outcome) calls of a shrunk history can be left out of it without
    /// changing its verdict, given which calls it keeps with their results. `false` is safe.
    fn unneeded_relaxed(
        &self,
        _calls: &[SearchCall<Self::Op>],
        _kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        vec![false; relaxed.len()]
    }

    /// A state as a person reads it, for explanations.
    fn show_state(&self, state: &Self::State) -> Value;

    /// Approximate heap bytes of a state, for the memory budget.
    fn state_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}

/// Options every model shares, from the command line.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Initial value of a register (Knossos: `nil`, often 0 in tests).
    pub initial: Value,
    /// Knossos's convention: a read that returned nil constrains nothing.
    pub nil_reads_unconstrained: bool,
}

/// A call a model cannot take as one of its ops: the history is not of this model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The call's function is not one of the model's.
    #[error("unknown f {f:?} for this model; expected one of {}", expected.join(", "))]
    Function {
        f: String,
        expected: &'static [&'static str],
    },
    /// The call's value is not of the shape its function needs; the words say which.
    #[error("{0}")]
    Value(String),
}

pub(crate) fn expect_f(call: &Call, expected: &'static [&'static str]) -> OpError {
    OpError::Function {
        f: call.f.to_string(),
        expected,
    }
}

/// The value a read saw: `None` when it constrains nothing.
pub(crate) fn read_result(call: &Call, opts: &ModelOptions) -> Option<Value> {
    if call.outcome != Outcome::Ok || (opts.nil_reads_unconstrained && call.value.is_nil()) {
        return None;
    }
    Some(call.value.clone())
}
