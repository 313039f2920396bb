//! Replaying an order of calls against a model: what checks a linearization, whoever found it.

use crate::models::call::SearchCall;
use crate::models::model::Model;

/// The states `op` may lead to from any of `states`, without repeats, at most `most` of them: a
/// choice unknown outcomes leave, followed through an order.
pub(crate) fn step_all<M: Model>(
    model: &M,
    states: &[M::State],
    op: &M::Op,
    most: usize,
) -> Vec<M::State> {
    let mut next = Vec::new();
    let mut after: Vec<M::State> = Vec::new();
    for s in states {
        next.clear();
        model.step(s, op, &mut next);
        for t in next.drain(..) {
            if after.len() < most && !after.contains(&t) {
                after.push(t);
            }
        }
    }
    after
}

/// Whether `order` linearizes the history cut just after position `cut` (`u64::MAX`: not cut):
/// each call placed once and invoked by the cut, every call that completed by then placed, none
/// placed after one that completed before it began, and the model allowing each in turn.
pub(crate) fn linearizes<M: Model>(
    model: &M,
    calls: &[SearchCall<M::Op>],
    order: &[usize],
    cut: u64,
) -> bool {
    let completed = |c: &SearchCall<M::Op>| c.complete.filter(|&p| p <= cut);
    let mut placed = vec![false; calls.len()];
    let mut latest_invoke = 0;
    let mut states = vec![model.init()];
    for &i in order {
        let Some(c) = calls.get(i) else {
            return false;
        };
        if std::mem::replace(&mut placed[i], true)
            || c.invoke > cut
            || completed(c).is_some_and(|p| p < latest_invoke)
        {
            return false;
        }
        latest_invoke = latest_invoke.max(c.invoke);
        states = step_all(model, &states, &c.op, 64);
        if states.is_empty() {
            return false;
        }
    }
    calls
        .iter()
        .zip(&placed)
        .all(|(c, &p)| p || completed(c).is_none())
}
