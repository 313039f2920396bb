//! An invalid key explained: the call that cannot fit, the longest linearizable prefix and its
//! states, and the shrunk counterexample.

use crate::history::describe::{describe_call, describe_result, SHOWN_ITEMS};
use crate::history::Call;
use crate::models::call::SearchCall;
use crate::models::decision::Refutation;
use crate::models::model::Model;
use crate::models::replay::step_all;
use crate::search::shrink::{shrink, Hints, ShrinkBudget};
use crate::search::wgl;
use crate::value::Value;
use crate::verdict::Explanation;

/// What an invalid key's verdict rests on, for its explanation.
pub(crate) enum Found<M: Model> {
    Search(wgl::Outcome<M::State>),
    Unique(Refutation),
}

/// Explain an invalid key, shrinking its counterexample within `steps` search steps.
pub(crate) fn explain<M: Model>(
    model: &M,
    kept: &[&Call],
    ops: &[SearchCall<M::Op>],
    found: Found<M>,
    steps: u64,
    parallel: bool,
) -> Explanation {
    let shrink_with = |stuck: usize, search_steps: u64, hints: Hints| {
        let budget = ShrinkBudget {
            steps,
            search_steps,
            parallel,
        };
        (steps > 0).then(|| shrink(model, kept, ops, stuck, budget, hints))
    };
    match found {
        Found::Search(out) => {
            let stuck = out.stuck.unwrap_or(0);
            let tail_from = out.order.len().saturating_sub(20);
            let prefix_states = replay(model, ops, &out.order, tail_from);
            let state = model.show_state(&out.state);
            let shrunk = shrink_with(
                stuck,
                out.steps,
                Hints {
                    core: None,
                    prefix: &out.order,
                },
            );
            // One call is named everywhere: the first that cannot fit when shrinking proved it,
            // else the call the search could not place.
            let first = shrunk.as_ref().and_then(|s| s.first.clone());
            let culprit = first.clone().unwrap_or_else(|| kept[stuck].clone());
            let prefix_stuck = (culprit != *kept[stuck]).then(|| kept[stuck].clone());
            let mut summary = match &first {
                Some(f) => format!(
                    "{}. The longest linearizable prefix the search found has {} calls and leaves \
                     the state {}",
                    first_words(f),
                    out.order.len(),
                    state,
                ),
                None => format!(
                    "no linearization exists. The longest linearizable prefix the search found has \
                     {} calls and leaves the state {}, after which {}, which returned {}, cannot be \
                     placed{}",
                    out.order.len(),
                    state,
                    describe_call(&culprit),
                    describe_result(&culprit),
                    if shrunk.is_some() { UNPROVEN } else { "" }
                ),
            };
            if let (Some(_), Some(p)) = (&first, &prefix_stuck) {
                summary.push_str(&format!(
                    ", after which {} cannot be placed",
                    describe_call(p)
                ));
            }
            Explanation {
                summary,
                stuck: culprit,
                prefix_length: out.order.len(),
                prefix_tail: out.order[tail_from..]
                    .iter()
                    .map(|&i| kept[i].clone())
                    .collect(),
                prefix_states,
                state,
                prefix_stuck,
                shrunk,
            }
        }
        Found::Unique(Refutation {
            contradiction,
            core,
            values,
            prefix,
            state,
            ..
        }) => {
            let words = contradiction.render(&|i| describe_call(kept[i]), &|i| {
                values
                    .get(&i)
                    .map_or_else(|| "?".into(), |v| format!("{v:.SHOWN_ITEMS$}"))
            });
            let stuck = contradiction.stuck();
            let shrunk = shrink_with(
                stuck,
                0,
                Hints {
                    core: Some(&core),
                    prefix: &prefix,
                },
            );
            let first = shrunk.as_ref().and_then(|s| s.first.clone());
            let summary = match &first {
                Some(f) => format!("{}. {words}", first_words(f)),
                None => format!(
                    "no linearization exists: {words}{}",
                    if shrunk.is_some() { UNPROVEN } else { "" }
                ),
            };
            let tail_from = prefix.len().saturating_sub(20);
            Explanation {
                summary,
                stuck: first.unwrap_or_else(|| kept[stuck].clone()),
                prefix_length: prefix.len(),
                prefix_tail: prefix[tail_from..]
                    .iter()
                    .map(|&i| kept[i].clone())
                    .collect(),
                prefix_states: replay(model, ops, &prefix, tail_from),
                state,
                prefix_stuck: None,
                shrunk,
            }
        }
    }
}

/// The states a linearization leaves after each of its calls from `from` on, replayed from the
/// model's initial state: what a person steps through. A call the states do not allow (never, for
/// an order the search or the unique-values check produced) leaves the rest empty.
fn replay<M: Model>(
    model: &M,
    ops: &[SearchCall<M::Op>],
    order: &[usize],
    from: usize,
) -> Vec<Vec<Value>> {
    let mut states = vec![model.init()];
    let mut shown = Vec::with_capacity(order.len().saturating_sub(from));
    for (n, &i) in order.iter().enumerate() {
        // A choice left by unknown outcomes is kept up to 64 states.
        states = step_all(model, &states, &ops[i].op, 64);
        if n >= from {
            shown.push(states.iter().take(8).map(|s| model.show_state(s)).collect());
        }
    }
    shown
}

const UNPROVEN: &str = "; shrinking ran out of budget before proving which call is the first that \
                        cannot fit (raise --shrink-steps)";

/// The words for a call proven to be the first whose result no linearization allows.
fn first_words(f: &Call) -> String {
    format!(
        "{} returned {}, which no linearization allows: the history up to its completion is \
         already not linearizable, up to the completion before it it still is",
        describe_call(f),
        describe_result(f),
    )
}
