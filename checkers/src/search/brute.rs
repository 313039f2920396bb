//! A brute-force checker that tries every order: slow, obviously correct, used to test the search.

use crate::models::call::SearchCall;
use crate::models::model::Model;

/// True when some order of the calls respects real time and the model. Unknown-outcome calls may
/// be left out. Exponential: for histories of a handful of calls.
pub fn linearizable<M: Model>(model: &M, calls: &[SearchCall<M::Op>]) -> bool {
    let mut used = vec![false; calls.len()];
    extend(model, calls, &mut used, &model.init())
}

fn extend<M: Model>(
    model: &M,
    calls: &[SearchCall<M::Op>],
    used: &mut [bool],
    state: &M::State,
) -> bool {
    let all_definite_done = calls
        .iter()
        .zip(used.iter())
        .all(|(c, &u)| u || c.complete.is_none());
    if all_definite_done {
        return true;
    }
    for i in 0..calls.len() {
        if used[i] {
            continue;
        }
        // `i` may go next only if no other pending call had already completed before it began.
        let blocked = calls
            .iter()
            .zip(used.iter())
            .enumerate()
            .any(|(j, (d, &u))| {
                j != i && !u && d.complete.is_some_and(|done| done < calls[i].invoke)
            });
        if blocked {
            continue;
        }
        let mut next = Vec::new();
        model.step(state, &calls[i].op, &mut next);
        for s in next {
            used[i] = true;
            let ok = extend(model, calls, used, &s);
            used[i] = false;
            if ok {
                return true;
            }
        }
    }
    false
}
