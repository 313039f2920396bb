//! What a model's own polynomial procedure decides: a linearization, or a refutation with the
//! contradiction it rests on.

use crate::models::call::SearchCall;
use crate::models::contradiction::Contradiction;
use crate::value::Value;
use std::collections::BTreeMap;

/// What the unique-value check found.
#[derive(Clone, Debug)]
pub enum Decision {
    /// A linearization, already replayed: indices into the calls, in order.
    Valid {
        order: Vec<usize>,
    },
    Invalid(Refutation),
}

/// Why a history is not linearizable, with what an explanation needs.
#[derive(Clone, Debug)]
pub struct Refutation {
    pub contradiction: Contradiction,
    /// The calls the contradiction names, with what they need to stand on their own: the writes
    /// of the values they read or compare, and a call observing each unknown-outcome write among
    /// them (without one, it may never have happened). Not linearizable itself, with `support`.
    pub core: Vec<usize>,
    /// Calls the core needs only to have happened, not when: taken as unknown outcomes beside it
    /// (the adds of what a set's read holds). Sorted; none in the core.
    pub support: Vec<usize>,
    /// The value each call the contradiction names wrote or read, for its words.
    pub values: BTreeMap<usize, Value>,
    /// A linearizable prefix the sweep built before it stopped, and the value after it.
    pub prefix: Vec<usize>,
    pub state: Value,
}

impl Refutation {
    /// The calls the contradiction stands on, in history order: the core as it happened and the
    /// support as unknown outcomes. Not linearizable.
    pub fn standalone<O: Clone>(&self, calls: &[SearchCall<O>]) -> Vec<SearchCall<O>> {
        let mut all: Vec<(usize, bool)> = self.core.iter().map(|&i| (i, false)).collect();
        all.extend(self.support.iter().map(|&i| (i, true)));
        all.sort_unstable();
        all.into_iter()
            .map(|(i, relaxed)| {
                let mut c = calls[i].clone();
                if relaxed {
                    c.complete = None;
                }
                c
            })
            .collect()
    }
}

/// A position after every other: the completion of a call that never completed.
pub(crate) const NEVER: i64 = i64::MAX;

pub(crate) fn inv<O>(c: &SearchCall<O>) -> i64 {
    c.invoke as i64
}

pub(crate) fn resp<O>(c: &SearchCall<O>) -> i64 {
    c.complete.map_or(NEVER, |p| p as i64)
}

/// Whether `order` places every definite call once (unknown-outcome ones at most once), and no
/// call before one that completed before it began.
pub(crate) fn fits_real_time<O>(calls: &[SearchCall<O>], order: &[usize]) -> bool {
    let mut seen = vec![false; calls.len()];
    for &i in order {
        if i >= calls.len() || std::mem::replace(&mut seen[i], true) {
            return false;
        }
    }
    if calls
        .iter()
        .zip(&seen)
        .any(|(c, &s)| c.complete.is_some() && !s)
    {
        return false;
    }
    // Each placed call began before every later-placed call completed.
    let mut earliest_completion_after = i64::MAX;
    for &i in order.iter().rev() {
        if inv(&calls[i]) > earliest_completion_after {
            return false;
        }
        earliest_completion_after = earliest_completion_after.min(resp(&calls[i]));
    }
    true
}
