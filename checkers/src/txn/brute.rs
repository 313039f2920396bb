//! The reference for tests: a transactional history is serializable when some serial order of
//! its transactions (every committed one, any of those of unknown outcome, none that failed)
//! replays every read; strictly so when that order also keeps real time. A search over orders,
//! for histories of a few transactions only. It reads the calls itself, sharing nothing with
//! the inference it checks.

use crate::history::{Call, Outcome};
use crate::value::Value;
use std::collections::{BTreeMap, HashSet};

/// Whether some serial order explains the history; `realtime` asks for strict serializability.
/// Panics on more than 16 transactions: the search is exponential.
pub fn serializable(calls: &[Call], realtime: bool) -> bool {
    let txns: Vec<&Call> = calls
        .iter()
        .filter(|c| c.outcome != Outcome::Fail)
        .collect();
    assert!(
        txns.len() <= 16,
        "the brute-force search takes at most 16 transactions"
    );
    let n = txns.len();
    // pred[i]: the transactions that completed before i was invoked.
    let pred: Vec<u32> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| {
                    realtime
                        && txns[j].outcome == Outcome::Ok
                        && txns[j].complete_pos.is_some_and(|p| p < txns[i].invoke_pos)
                })
                .fold(0u32, |m, j| m | 1 << j)
        })
        .collect();
    let must: u32 = (0..n)
        .filter(|&i| txns[i].outcome == Outcome::Ok)
        .fold(0, |m, i| m | 1 << i);
    let mut seen = HashSet::new();
    search(&txns, &pred, must, 0, &BTreeMap::new(), &mut seen)
}

type State = BTreeMap<Value, Value>;

fn search(
    txns: &[&Call],
    pred: &[u32],
    must: u32,
    placed: u32,
    state: &State,
    seen: &mut HashSet<(u32, Vec<(Value, Value)>)>,
) -> bool {
    if placed & must == must {
        return true;
    }
    let key = (
        placed,
        state.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    );
    if !seen.insert(key) {
        return false;
    }
    for i in 0..txns.len() {
        if placed & (1 << i) != 0 || pred[i] & !placed != 0 {
            continue;
        }
        if let Some(next) = apply(txns[i], state) {
            if search(txns, pred, must, placed | 1 << i, &next, seen) {
                return true;
            }
        }
    }
    false
}

/// Run one transaction on a state: the new state, or `None` when a read disagrees.
fn apply(c: &Call, state: &State) -> Option<State> {
    let known = c.outcome == Outcome::Ok;
    let mops = if known { &c.value } else { &c.invoke_value };
    let mut s = state.clone();
    for m in mops.as_list()? {
        let [f, k, v] = m.as_list()? else {
            return None;
        };
        match f.as_str()? {
            "append" => match s.entry(k.clone()).or_insert(Value::List(Vec::new())) {
                Value::List(l) => l.push(v.clone()),
                _ => return None,
            },
            "w" => {
                s.insert(k.clone(), v.clone());
            }
            "r" if known => {
                let now = s.get(k);
                let ok = match v {
                    Value::Nil => now.is_none_or(|x| x.as_list().is_some_and(|l| l.is_empty())),
                    Value::List(l) if l.is_empty() => now.is_none_or(|x| x == v),
                    _ => now == Some(v),
                };
                if !ok {
                    return None;
                }
            }
            _ => {}
        }
    }
    Some(s)
}
