//! Grow-only set histories whose added elements are unique, decided exactly in O(n log n) plus
//! the size of the reads.
//!
//! A set only grows, so the reads' sets must form a chain C_1 ⊂ C_2 ⊂ … : two reads neither of
//! which holds the other cannot both be right. When each element is added by one call, the chain
//! fixes any linearization up to the order within blocks: reads of the empty set, the adds of C_1,
//! reads of C_1, the adds of C_2 \ C_1, reads of C_2, …, and last the adds no read saw (an
//! unknown-outcome add no read saw may never have happened, and is left out; one a read saw
//! happened before it). Calls within a block commute, so the blocks fit real time exactly when no
//! call of a later block completed before a call of an earlier block began (place each block's
//! calls just after the latest invocation so far). A sweep finds such a pair, which names the
//! contradiction, or builds the linearization, which is replayed before it is given. An element
//! added twice sends the history to the search.

use crate::models::call::SearchCall;
use crate::models::contradiction::Contradiction;
use crate::models::decision::{fits_real_time, Decision, Refutation};
use crate::models::set::op::SetOp;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Decide a set history whose adds are unique; `None` when some element is added twice.
pub fn decide(calls: &[SearchCall<SetOp>]) -> Option<Decision> {
    let mut adder: HashMap<&Value, usize> = HashMap::with_capacity(calls.len());
    // Completed reads in order of invocation, so the first of several wrong ones is named.
    let mut reads: Vec<(usize, &BTreeSet<Value>)> = Vec::new();
    let mut twice = None;
    for (i, c) in calls.iter().enumerate() {
        match &c.op {
            SetOp::Add(x) => {
                if adder.insert(x, i).is_some() {
                    return None;
                }
            }
            // A read with an unknown outcome may be left out: it constrains nothing.
            SetOp::Read(s) if c.complete.is_some() => reads.push((i, s)),
            SetOp::ReadTwice(x) if c.complete.is_some() => {
                twice.get_or_insert((i, x));
            }
            SetOp::Read(_) | SetOp::ReadTwice(_) => {}
        }
    }
    if let Some((read, x)) = twice {
        let c = Contradiction::ReadTwice {
            read,
            element: x.clone(),
        };
        return certified(calls, &adder, c, Vec::new());
    }
    reads.sort_by_key(|&(i, _)| calls[i].invoke);
    for &(r, s) in &reads {
        if let Some(x) = s.iter().find(|x| !adder.contains_key(x)) {
            let c = Contradiction::NeverAdded {
                read: r,
                element: x.clone(),
            };
            return certified(calls, &adder, c, Vec::new());
        }
    }
    // The chain of distinct sets, smallest first, each with its reads (in order of invocation);
    // level 0 is the empty set, read or not.
    let empty = BTreeSet::new();
    let mut levels: Vec<(&BTreeSet<Value>, Vec<usize>)> = vec![(&empty, Vec::new())];
    // Stable, so equal sets keep their reads in order of invocation.
    reads.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| a.1.cmp(b.1)));
    for &(r, s) in &reads {
        let (last, its) = levels.last_mut()?;
        if *last == s {
            its.push(r);
            continue;
        }
        if !last.is_subset(s) {
            // Not smaller, so it misses something the last holds too.
            let r0 = its[0];
            let (read, read2) = if calls[r0].invoke <= calls[r].invoke {
                (r0, r)
            } else {
                (r, r0)
            };
            let (a, b) = (read_set(calls, read)?, read_set(calls, read2)?);
            let c = plainer(calls, &adder, (read, a), (read2, b)).unwrap_or(
                Contradiction::Incomparable {
                    read,
                    read2,
                    only: a.difference(b).next()?.clone(),
                    only2: b.difference(a).next()?.clone(),
                },
            );
            return certified(calls, &adder, c, Vec::new());
        }
        levels.push((s, vec![r]));
    }
    for (_, its) in &mut levels {
        its.sort_by_key(|&r| calls[r].invoke);
    }
    // Blocks: 2i for the reads of level i, 2i - 1 for the adds first seen at level i, and one
    // past the last for the adds no read saw.
    let mut block: Vec<Option<usize>> = vec![None; calls.len()];
    for (level, (s, its)) in levels.iter().enumerate() {
        for &r in its {
            block[r] = Some(2 * level);
        }
        for x in s.iter() {
            let a = adder[x];
            if block[a].is_none() {
                block[a] = Some(2 * level - 1);
            }
        }
    }
    let unseen = 2 * levels.len() - 1;
    for (i, c) in calls.iter().enumerate() {
        if matches!(c.op, SetOp::Add(_)) && block[i].is_none() && c.complete.is_some() {
            block[i] = Some(unseen);
        }
    }
    let mut placed: Vec<(usize, usize)> = (0..calls.len())
        .filter_map(|i| block[i].map(|b| (b, i)))
        .collect();
    placed.sort_by_key(|&(b, i)| (b, calls[i].invoke));
    // The sweep: each block's calls go just after the latest invocation among earlier blocks.
    // The latest invoked add and read so far, apart: a call that completed before either began
    // is named against the one that says it most directly (a read missing an add, an add a read
    // holds).
    let mut latest: [Option<(u64, usize)>; 2] = [None, None];
    let mut order = Vec::with_capacity(placed.len());
    for group in placed.chunk_by(|a, b| a.0 == b.0) {
        let t = latest.iter().flatten().map(|l| l.0).max();
        let early = group
            .iter()
            .filter(|&&(_, o)| t.is_some_and(|t| calls[o].complete.is_some_and(|p| p < t)))
            .min_by_key(|&&(_, o)| calls[o].complete);
        if let Some(&(_, o)) = early {
            let p = calls[o].complete?;
            // A read's kind first for an add, an add's for a read.
            let kinds = match calls[o].op {
                SetOp::Add(_) => [1, 0],
                SetOp::Read(_) | SetOp::ReadTwice(_) => [0, 1],
            };
            let setter = kinds
                .iter()
                .filter_map(|&k| latest[k].filter(|l| l.0 > p))
                .next()?
                .1;
            let c = order_contradiction(calls, &levels, &block, setter, o)?;
            return certified(calls, &adder, c, order);
        }
        for &(_, o) in group {
            let k = usize::from(matches!(calls[o].op, SetOp::Read(_)));
            if latest[k].is_none_or(|(t, _)| calls[o].invoke > t) {
                latest[k] = Some((calls[o].invoke, o));
            }
            order.push(o);
        }
    }
    if !replays(calls, &order) {
        debug_assert!(
            false,
            "the sweep built a set linearization that does not replay"
        );
        return None;
    }
    Some(Decision::Valid { order })
}

/// For two reads neither of which holds the other, a plainer way to say it when there is one: an
/// element one misses whose add was acknowledged before that read began (a lost add), else one
/// the other read held and completed before this one began.
fn plainer(
    calls: &[SearchCall<SetOp>],
    adder: &HashMap<&Value, usize>,
    (r, a): (usize, &BTreeSet<Value>),
    (r2, b): (usize, &BTreeSet<Value>),
) -> Option<Contradiction> {
    let done_before = |i: usize, j: usize| calls[i].complete.is_some_and(|p| p < calls[j].invoke);
    let sides = [(r2, a.difference(b), r), (r, b.difference(a), r2)];
    let mut shrank = None;
    for (missing, only, holder) in sides {
        for x in only {
            let add = *adder.get(x)?;
            if done_before(add, missing) {
                return Some(Contradiction::MissedAdd {
                    add,
                    read: missing,
                    element: x.clone(),
                });
            }
            if shrank.is_none() && done_before(holder, missing) {
                shrank = Some(Contradiction::Shrank {
                    read: holder,
                    read2: missing,
                    element: x.clone(),
                });
            }
        }
    }
    shrank
}

fn read_set(calls: &[SearchCall<SetOp>], i: usize) -> Option<&BTreeSet<Value>> {
    match &calls[i].op {
        SetOp::Read(s) => Some(s),
        SetOp::Add(_) | SetOp::ReadTwice(_) => None,
    }
}

fn element(calls: &[SearchCall<SetOp>], i: usize) -> Option<&Value> {
    match &calls[i].op {
        SetOp::Add(x) => Some(x),
        SetOp::Read(_) | SetOp::ReadTwice(_) => None,
    }
}

/// `o`, of a later block, completed before `setter`, of an earlier one, began: say why the
/// blocks' order holds, in the calls' own terms.
fn order_contradiction(
    calls: &[SearchCall<SetOp>],
    levels: &[(&BTreeSet<Value>, Vec<usize>)],
    block: &[Option<usize>],
    setter: usize,
    o: usize,
) -> Option<Contradiction> {
    Some(match (&calls[setter].op, &calls[o].op) {
        (SetOp::Read(_), SetOp::Add(x)) => Contradiction::MissedAdd {
            add: o,
            read: setter,
            element: x.clone(),
        },
        (SetOp::Read(missing), SetOp::Read(held)) => Contradiction::Shrank {
            read: o,
            read2: setter,
            element: held.difference(missing).next()?.clone(),
        },
        (SetOp::Add(y), SetOp::Read(_)) => Contradiction::ReadBeforeAdd {
            read: o,
            add: setter,
            element: y.clone(),
        },
        // Never placed: such a read is refuted before the sweep.
        (SetOp::ReadTwice(_), _) | (_, SetOp::ReadTwice(_)) => return None,
        (SetOp::Add(y), SetOp::Add(x)) => {
            // A read of the level that first saw y holds y but not x (a later block's).
            let level = block[setter]?.div_ceil(2);
            Contradiction::AddOrder {
                add: o,
                add2: setter,
                read: *levels.get(level)?.1.first()?,
                element: x.clone(),
                element2: y.clone(),
            }
        }
    })
}

/// The refutation of `contradiction` when what it says holds of the calls as they are, checked
/// afresh from their ops and positions: each claim alone rules out every linearization. `None`
/// (the search decides) should it not.
fn certified(
    calls: &[SearchCall<SetOp>],
    adder: &HashMap<&Value, usize>,
    contradiction: Contradiction,
    prefix: Vec<usize>,
) -> Option<Decision> {
    let holds = |r: usize, x: &Value| read_set(calls, r).is_some_and(|s| s.contains(x));
    let read = |r: usize| read_set(calls, r).is_some() && calls[r].complete.is_some();
    let before = |a: usize, b: usize| calls[a].complete.is_some_and(|p| p < calls[b].invoke);
    let adds = |a: usize, x: &Value| element(calls, a) == Some(x) && adder.get(x) == Some(&a);
    let ok = match &contradiction {
        Contradiction::NeverAdded { read: r, element } => {
            read(*r) && holds(*r, element) && !adder.contains_key(element)
        }
        Contradiction::ReadTwice { read: r, element } => {
            calls[*r].complete.is_some() && calls[*r].op == SetOp::ReadTwice(element.clone())
        }
        Contradiction::Incomparable {
            read: r,
            read2,
            only,
            only2,
        } => {
            read(*r)
                && read(*read2)
                && holds(*r, only)
                && !holds(*read2, only)
                && holds(*read2, only2)
                && !holds(*r, only2)
        }
        Contradiction::MissedAdd {
            add,
            read: r,
            element,
        } => read(*r) && adds(*add, element) && before(*add, *r) && !holds(*r, element),
        Contradiction::Shrank {
            read: r,
            read2,
            element,
        } => {
            read(*r)
                && read(*read2)
                && before(*r, *read2)
                && holds(*r, element)
                && !holds(*read2, element)
        }
        Contradiction::ReadBeforeAdd {
            read: r,
            add,
            element,
        } => read(*r) && adds(*add, element) && before(*r, *add) && holds(*r, element),
        Contradiction::AddOrder {
            add,
            add2,
            read: r,
            element,
            element2,
        } => {
            read(*r)
                && adds(*add, element)
                && adds(*add2, element2)
                && before(*add, *add2)
                && holds(*r, element2)
                && !holds(*r, element)
        }
        _ => false,
    };
    debug_assert!(
        ok,
        "a set contradiction that does not hold: {contradiction:?}"
    );
    ok.then(|| refuted(calls, adder, contradiction, prefix))
}

/// A refutation: its core the calls named, its support the adds of everything the named reads
/// hold, so each read can be satisfied and the contradiction is what remains. The support need
/// only have happened (no contradiction rests on when), so shrinking starts with it relaxed.
fn refuted(
    calls: &[SearchCall<SetOp>],
    adder: &HashMap<&Value, usize>,
    contradiction: Contradiction,
    prefix: Vec<usize>,
) -> Decision {
    let named = contradiction.calls();
    // An element no call adds needs nothing beside the read.
    let never = matches!(
        contradiction,
        Contradiction::NeverAdded { .. } | Contradiction::ReadTwice { .. }
    );
    let mut support: Vec<usize> = named
        .iter()
        .filter(|_| !never)
        .filter_map(|&i| read_set(calls, i))
        .flat_map(|s| s.iter().filter_map(|x| adder.get(x).copied()))
        .filter(|i| named.binary_search(i).is_err())
        .collect();
    support.sort_unstable();
    support.dedup();
    let values: BTreeMap<usize, Value> = named
        .iter()
        .map(|&i| {
            let v = match &calls[i].op {
                SetOp::Add(x) | SetOp::ReadTwice(x) => x.clone(),
                SetOp::Read(s) => Value::Set(s.iter().cloned().collect()),
            };
            (i, v)
        })
        .collect();
    let state = Value::Set(
        prefix
            .iter()
            .filter_map(|&i| element(calls, i).cloned())
            .collect::<BTreeSet<Value>>()
            .into_iter()
            .collect(),
    );
    Decision::Invalid(Refutation {
        contradiction,
        core: named,
        support,
        values,
        prefix,
        state,
    })
}

/// Replay `order` against a grow-only set, in time linear in the calls and the reads' sizes: each
/// read holds exactly what was added before it, and the order fits real time.
fn replays(calls: &[SearchCall<SetOp>], order: &[usize]) -> bool {
    let mut set: HashSet<&Value> = HashSet::new();
    for &i in order {
        match &calls[i].op {
            SetOp::Add(x) => {
                set.insert(x);
            }
            SetOp::Read(s) => {
                if s.len() != set.len() || !s.iter().all(|x| set.contains(x)) {
                    return false;
                }
            }
            SetOp::ReadTwice(_) => return false,
        }
    }
    fits_real_time(calls, order)
}

/// Relaxed adds whose element no kept read holds, which a shrunk history can leave out: in any
/// linearization such an add comes after every kept read, where it changes nothing.
pub fn unseen(calls: &[SearchCall<SetOp>], kept: &[bool], relaxed: &[bool]) -> Vec<bool> {
    let held: HashSet<&Value> = calls
        .iter()
        .zip(kept)
        .filter_map(|(c, &k)| match &c.op {
            SetOp::Read(s) if k => Some(s.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    calls
        .iter()
        .zip(relaxed)
        .map(|(c, &r)| r && matches!(&c.op, SetOp::Add(x) if !held.contains(x)))
        .collect()
}
