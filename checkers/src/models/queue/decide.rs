//! FIFO queue histories whose enqueued values are unique, decided in O(n log n).
//!
//! With unique values each dequeued value names its enqueue, and a linearization comes down to
//! one order of the queue's elements: the dequeued values (a FIFO queue dequeues in the order it
//! enqueued, so one order serves both), the dequeues that found the queue empty (all before them
//! has left the queue, all after is enqueued later), and last the values never dequeued (nothing
//! enqueued after one of them can leave). Real time forces pairs of elements into order: a before
//! b when a call of a completed before a call of b began, for the calls an order of the elements
//! keeps in order (a's enqueue before b's, a's dequeue before b's, a's dequeue before b's enqueue;
//! an empty dequeue counts as both its element's calls). A cycle of such pairs is a contradiction
//! no linearization escapes, and is what the explanation names. Otherwise the elements are taken
//! in an order that keeps every pair, earliest deadline first, and each call is placed at the
//! earliest moment it can be; the linearization is replayed before it is given. When that placing
//! fails the search decides (a contradiction of three elements can hide there), as it does for a
//! value enqueued twice. A dequeue whose reply never came ("lost") is first left out: had it
//! found the queue empty it changed nothing, and the only value it may have taken is one no other
//! dequeue returned, so it can only undo a contradiction that rests on such a value staying in
//! the way of a dequeue that ended after the lost one began; that contradiction still holds when
//! fewer lost dequeues began in time than there are values that stay from before (each takes
//! one). Otherwise the lost dequeues take the values that would stay, earliest to earliest: a
//! linearization so found is one, and a contradiction that rests on that guess goes to the
//! search. An unknown-outcome enqueue whose value no dequeue returned is left out: it may never
//! have happened, and had it, it would only stand in the way. A dequeue of a known value with unknown
//! outcome (shrinking makes them) is taken not to have happened, then to have happened; a
//! contradiction that rests on such a guess is given only when the guess each way refutes.

use crate::models::call::SearchCall;
use crate::models::contradiction::{Contradiction, QueueEdge, QueueItem};
use crate::models::decision::{fits_real_time, Decision, Refutation};
use crate::models::queue::op::QueueOp;
use crate::value::Value;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

/// Where a call that never completed may end: never.
const NEVER: u64 = u64::MAX;

/// A dequeue whose reply never came: which value it took, if any, no reply tells.
fn is_lost(c: &SearchCall<QueueOp>) -> bool {
    c.op == QueueOp::Dequeue(None) && c.complete.is_none()
}

fn returned(c: &SearchCall<QueueOp>) -> Option<&Value> {
    match &c.op {
        QueueOp::Dequeue(Some(v)) => Some(v),
        _ => None,
    }
}

/// Decide a FIFO queue history whose enqueued values are unique; `None` when one repeats, or
/// when neither a linearization nor a contradiction that holds was found.
pub fn decide(calls: &[SearchCall<QueueOp>]) -> Option<Decision> {
    let mut enqueuer: HashMap<&Value, usize, ahash::RandomState> = HashMap::default();
    let mut dequeues = Vec::new();
    let mut empties = Vec::new();
    // Dequeues of a value with an unknown outcome (a shrunk history's relaxed ones).
    let mut maybe = Vec::new();
    // Dequeues whose reply never came.
    let mut lost = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        match &c.op {
            // nil is what a dequeue of the empty queue returns: an enqueued nil is ambiguous.
            QueueOp::Enqueue(Value::Nil) => return None,
            QueueOp::Enqueue(v) => {
                if enqueuer.insert(v, i).is_some() {
                    return None;
                }
            }
            // It found the queue empty (which changes nothing), took a value no other dequeue
            // returned (one that would otherwise stay), or never happened: left out, and
            // counted against the values that stay (see `settle`).
            QueueOp::Dequeue(None) if is_lost(c) => lost.push(i),
            QueueOp::Dequeue(None) => return None,
            // One that found the queue empty, if it happened: leaving it out is never worse.
            QueueOp::Dequeue(Some(Value::Nil)) if c.complete.is_none() => {}
            QueueOp::Dequeue(Some(_)) if c.complete.is_none() => maybe.push(i),
            QueueOp::Dequeue(Some(Value::Nil)) => empties.push(i),
            QueueOp::Dequeue(Some(_)) => dequeues.push(i),
        }
    }
    let complete = |i: usize| calls[i].complete.unwrap_or(NEVER);
    // The first dequeue in invocation order that names a contradiction on its own.
    dequeues.sort_by_key(|&d| calls[d].invoke);
    let mut dequeuer: HashMap<&Value, usize, ahash::RandomState> = HashMap::default();
    for &d in &dequeues {
        let v = returned(&calls[d])?;
        let Some(&e) = enqueuer.get(v) else {
            return refuted(
                calls,
                Contradiction::NeverEnqueued {
                    dequeue: d,
                    element: v.clone(),
                },
                vec![d],
            );
        };
        if let Some(&d0) = dequeuer.get(v) {
            return refuted(
                calls,
                Contradiction::DequeuedTwice {
                    dequeue: d0,
                    dequeue2: d,
                    element: v.clone(),
                },
                sorted(vec![e, d0, d]),
            );
        }
        if complete(d) < calls[e].invoke {
            return refuted(
                calls,
                Contradiction::DequeuedBeforeEnqueued {
                    dequeue: d,
                    enqueue: e,
                    element: v.clone(),
                },
                sorted(vec![e, d]),
            );
        }
        dequeuer.insert(v, d);
    }
    maybe.sort_by_key(|&d| calls[d].invoke);
    lost.sort_by_key(|&d| calls[d].invoke);
    let known = Known {
        enqueuer: &enqueuer,
        dequeuer: &dequeuer,
        dequeues: &dequeues,
        empties: &empties,
        maybe: &maybe,
        lost: &lost,
    };
    // Dequeues of unknown outcome taken as never having happened, then as having happened: a
    // contradiction that rests on a guess is given only when one dequeue's guess each way
    // refutes, and a linearization is replayed either way.
    let none = match settle(calls, &known, false, None) {
        Settled::Decided(d) => return Some(d),
        other => other,
    };
    if maybe.is_empty() {
        return None;
    }
    let (on, mut with) = match settle(calls, &known, true, None) {
        Settled::Decided(d) => return Some(d),
        Settled::Rests {
            on,
            happened: true,
            decision: Decision::Invalid(with),
        } => (on, with),
        _ => return None,
    };
    // A contradiction if that one dequeue happened: and if it did not?
    let without = match none {
        Settled::Rests {
            on: on2,
            happened: false,
            decision: Decision::Invalid(without),
        } if on2 == on => without,
        _ => match settle(calls, &known, true, Some(on)) {
            Settled::Decided(d) => return Some(d),
            Settled::Rests {
                on: on2,
                happened: false,
                decision: Decision::Invalid(without),
            } if on2 == on => without,
            _ => return None,
        },
    };
    // Refuted either way, so refuted. The contradiction said is the one where it happened (only
    // shrink probes have such dequeues, and say only their verdict); the core stands on both.
    with.core.extend(without.core);
    with.core = sorted(std::mem::take(&mut with.core));
    Some(Decision::Invalid(with))
}

/// What a queue history's definite calls fixed: each value's enqueue and definite dequeue, the
/// definite dequeues and empty dequeues, the dequeues of a value with unknown outcome, and the
/// dequeues whose reply never came (by invocation).
struct Known<'a, 'c> {
    enqueuer: &'a HashMap<&'c Value, usize, ahash::RandomState>,
    dequeuer: &'a HashMap<&'c Value, usize, ahash::RandomState>,
    dequeues: &'a [usize],
    empties: &'a [usize],
    maybe: &'a [usize],
    lost: &'a [usize],
}

/// What ordering the elements settled, some dequeues of unknown outcome taken to have happened.
enum Settled {
    /// A linearization, or a contradiction that holds whatever those dequeues did.
    Decided(Decision),
    /// A contradiction that holds if the dequeue `on` did (`happened`) or did not take effect.
    Rests {
        on: usize,
        happened: bool,
        decision: Decision,
    },
    /// Neither.
    Open,
}

/// Order the elements and place the calls, the dequeues of unknown outcome taken to have
/// `happened` (where they can, `except` one) or not.
fn settle(
    calls: &[SearchCall<QueueOp>],
    known: &Known,
    happened: bool,
    except: Option<usize>,
) -> Settled {
    let complete = |i: usize| calls[i].complete.unwrap_or(NEVER);
    let enqueuer = known.enqueuer;
    let mut dequeuer = known.dequeuer.clone();
    let mut dequeues = known.dequeues.to_vec();
    let empties = known.empties;
    // Taken to have happened: the earliest of a value's, when no dequeue is known to have taken
    // the value and its enqueue is known to have happened, so its element leaves the queue
    // instead of standing in the way for ever; unless a value no call dequeues was enqueued
    // before it began, ahead of it for ever.
    let mut guessed = std::collections::HashSet::new();
    // Values one of them may have taken.
    let mut maybe_taken = std::collections::HashSet::new();
    for &d in known.maybe {
        if let Some(v) = returned(&calls[d]) {
            maybe_taken.insert(v);
        }
    }
    let stuck_from = enqueuer
        .iter()
        .filter(|(v, _)| !dequeuer.contains_key(*v) && !maybe_taken.contains(*v))
        .filter_map(|(_, &e)| calls[e].complete)
        .min()
        .unwrap_or(NEVER);
    for &d in known.maybe {
        let Some(v) = returned(&calls[d]) else {
            continue;
        };
        let definite = enqueuer
            .get(v)
            .is_some_and(|&e| calls[e].complete.is_some() && calls[e].invoke < stuck_from);
        if happened && definite && except != Some(d) && !dequeuer.contains_key(v) {
            dequeuer.insert(v, d);
            dequeues.push(d);
            guessed.insert(d);
        }
    }
    // Definite enqueues never dequeued: they stay in the queue, behind every dequeued value and
    // every empty dequeue.
    let mut stay: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            matches!(&c.op, QueueOp::Enqueue(v) if !dequeuer.contains_key(v))
                && c.complete.is_some()
        })
        .map(|(i, _)| i)
        .collect();
    stay.sort_by_key(|&u| (complete(u), calls[u].invoke));
    // A contradiction, with the dequeues of unknown outcome it takes to have happened (guessed)
    // and not to have happened (of a value it takes to stay in the queue).
    let refute = |mut c: Contradiction, mut core: Vec<usize>| {
        // A value that stays ahead of a dequeued one, or in a queue found empty, may have been
        // taken by a dequeue whose reply never came, if it began before that dequeue ended:
        // each such dequeue takes one, so the contradiction holds only if fewer began in time
        // than there are values that stay from before (none a relaxed dequeue may have taken).
        // A cycle through a value given to such a dequeue, or a dequeue of it, rests on that
        // guess.
        let staying = match &c {
            Contradiction::NotDequeued {
                enqueue,
                enqueue2,
                dequeue2,
                ..
            } => Some((*enqueue, *enqueue2, *dequeue2)),
            Contradiction::EmptyWhileHeld {
                enqueue, dequeue, ..
            } => Some((*enqueue, *dequeue, *dequeue)),
            _ => None,
        };
        if let Some((enqueue, before, d)) = staying {
            // A value given to a lost dequeue was only guessed dequeued.
            if is_lost(&calls[d]) {
                return Settled::Open;
            }
            let in_time: Vec<usize> = known
                .lost
                .iter()
                .copied()
                .filter(|&u| calls[u].invoke < complete(d))
                .collect();
            if !in_time.is_empty() {
                let others: Vec<usize> = stay
                    .iter()
                    .copied()
                    .filter(|&u| {
                        u != enqueue
                            && complete(u) < calls[before].invoke
                            && matches!(&calls[u].op, QueueOp::Enqueue(v) if !maybe_taken.contains(v))
                    })
                    .collect();
                if others.len() < in_time.len() {
                    return Settled::Open;
                }
                core.extend(others.iter().chain(&in_time));
                core = sorted(core);
                if let Contradiction::NotDequeued { held, lost, .. }
                | Contradiction::EmptyWhileHeld { held, lost, .. } = &mut c
                {
                    *held = others;
                    *lost = in_time;
                }
            }
        }
        if let Contradiction::QueueOrder { cycle } = &c {
            let lost_item = cycle.iter().any(|e| {
                [e.before, e.after].into_iter().any(
                    |it| matches!(it, QueueItem::Value { dequeue, .. } if is_lost(&calls[dequeue])),
                )
            });
            if lost_item {
                return Settled::Open;
            }
        }
        let mut rests: Vec<(usize, bool)> = Vec::new();
        let mut stays = |u: usize| {
            if let QueueOp::Enqueue(v) = &calls[u].op {
                for &d in known.maybe {
                    if returned(&calls[d]) == Some(v) {
                        rests.push((d, false));
                    }
                }
            }
        };
        match &c {
            Contradiction::NotDequeued { enqueue, .. }
            | Contradiction::EmptyWhileHeld { enqueue, .. } => stays(*enqueue),
            _ => {}
        }
        let mut happened = |d: usize| {
            if guessed.contains(&d) {
                rests.push((d, true));
            }
        };
        match &c {
            Contradiction::NotDequeued { dequeue2, .. } => happened(*dequeue2),
            Contradiction::QueueOrder { cycle } => {
                for e in cycle {
                    for it in [e.before, e.after] {
                        if let QueueItem::Value { dequeue, .. } = it {
                            happened(dequeue);
                        }
                    }
                }
            }
            _ => {}
        }
        rests.sort_unstable();
        rests.dedup();
        match (refuted(calls, c, core), &rests[..]) {
            (Some(decision), []) => Settled::Decided(decision),
            (Some(decision), &[(on, happened)]) => Settled::Rests {
                on,
                happened,
                decision,
            },
            _ => Settled::Open,
        }
    };
    // The elements ordered by real time: dequeued values and empty dequeues, each with the call
    // that places its first point and the one that places its second (the same for an empty).
    let mut items: Vec<QueueItem> = dequeues
        .iter()
        .map(|&d| QueueItem::Value {
            enqueue: enqueuer[returned(&calls[d]).unwrap_or(&Value::Nil)],
            dequeue: d,
        })
        .collect();
    items.extend(empties.iter().map(|&x| QueueItem::Empty(x)));
    // A call whose part in a contradiction rests on no guess: a dequeue that completed, a value
    // no dequeue of unknown outcome may have taken.
    let certain = |i: usize| match &calls[i].op {
        QueueOp::Enqueue(v) => !maybe_taken.contains(v),
        QueueOp::Dequeue(_) => calls[i].complete.is_some(),
    };
    let first = settle_items(calls, &items, &stay, &certain, &refute);
    if !matches!(first, Settled::Open) || known.lost.is_empty() || stay.is_empty() {
        return first;
    }
    // Dequeues whose reply never came take the values that would stay, earliest to earliest, the
    // rest staying: a linearization so found is one.
    let taken = stay.len().min(known.lost.len());
    for (&u, &d) in stay.iter().zip(known.lost) {
        items.push(QueueItem::Value {
            enqueue: u,
            dequeue: d,
        });
    }
    settle_items(calls, &items, &stay[taken..], &certain, &refute)
}

/// Order the elements and place the calls, the values in `stay` staying.
fn settle_items(
    calls: &[SearchCall<QueueOp>],
    items: &[QueueItem],
    stay: &[usize],
    certain: &dyn Fn(usize) -> bool,
    refute: &dyn Fn(Contradiction, Vec<usize>) -> Settled,
) -> Settled {
    let complete = |i: usize| calls[i].complete.unwrap_or(NEVER);
    if let Some(c) = staying_contradiction(calls, items, stay, certain) {
        return refute(c.0, c.1);
    }
    // The values that stay must be enqueued after every other element's enqueue or empty: their
    // earliest completion is a deadline for those too.
    let cap = stay.iter().map(|&u| complete(u)).min().unwrap_or(NEVER);
    let deadlines: Vec<(u64, u64)> = items
        .iter()
        .map(|it| {
            let (f, s) = ends(it);
            (complete(f).min(cap), complete(s))
        })
        .collect();
    // Which deadline goes first: each order keeps every forced pair, so any one proves a cycle;
    // they differ in which placings succeed, and any that does gives a linearization.
    let keys: [&dyn Fn(usize) -> (u64, u64); 3] = [
        &|b| {
            let (e, d) = deadlines[b];
            (e.min(d), d)
        },
        &|b| (deadlines[b].1, deadlines[b].0),
        &|b| deadlines[b],
    ];
    let tries = [
        (keys[0], true),
        (keys[0], false),
        (keys[1], false),
        (keys[2], false),
    ];
    let mut linearization = None;
    for (key, empties_early) in tries {
        let early = empties_early.then_some(&deadlines[..]);
        let order = match order_items(calls, items, key, early) {
            Ok(order) => order,
            Err(cycle) => {
                let core = cycle_core(&cycle);
                return refute(Contradiction::QueueOrder { cycle }, core);
            }
        };
        linearization = place(calls, items, &order, stay);
        if linearization.is_some() {
            break;
        }
    }
    let Some(linearization) = linearization else {
        return Settled::Open;
    };
    if !replays(calls, &linearization) {
        debug_assert!(false, "the queue's placing does not replay");
        return Settled::Open;
    }
    Settled::Decided(Decision::Valid {
        order: linearization,
    })
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The first and second call of an element.
fn ends(item: &QueueItem) -> (usize, usize) {
    match *item {
        QueueItem::Value { enqueue, dequeue } => (enqueue, dequeue),
        QueueItem::Empty(x) => (x, x),
    }
}

/// A value never dequeued whose enqueue completed before a dequeued value's enqueue began, or
/// before a dequeue that found the queue empty began, or before the dequeue of a value that
/// such a dequeue waited for began.
fn staying_contradiction(
    calls: &[SearchCall<QueueOp>],
    items: &[QueueItem],
    stay: &[usize],
    certain: &dyn Fn(usize) -> bool,
) -> Option<(Contradiction, Vec<usize>)> {
    // The latest-invoked dequeued value (of those whose dequeue is certain, and of all) and empty.
    let latest = |only_certain: bool| {
        items
            .iter()
            .filter(|it| match it {
                QueueItem::Value { dequeue, .. } => !only_certain || certain(*dequeue),
                QueueItem::Empty(_) => false,
            })
            .max_by_key(|it| calls[ends(it).0].invoke)
    };
    let values = [latest(true), latest(false)];
    let empty = items
        .iter()
        .filter(|it| matches!(it, QueueItem::Empty(_)))
        .max_by_key(|it| calls[ends(it).0].invoke);
    // One that rests on no guess first: values that certainly stay, against certain dequeues.
    for only_certain in [true, false] {
        for &u in stay.iter().filter(|&&u| !only_certain || certain(u)) {
            let done = calls[u].complete?;
            for it in values.iter().flatten() {
                let QueueItem::Value { enqueue, dequeue } = **it else {
                    continue;
                };
                if done < calls[enqueue].invoke {
                    let c = Contradiction::NotDequeued {
                        enqueue: u,
                        enqueue2: enqueue,
                        dequeue2: dequeue,
                        held: Vec::new(),
                        lost: Vec::new(),
                    };
                    return Some((c, sorted(vec![u, enqueue, dequeue])));
                }
            }
            if let Some(&QueueItem::Empty(x)) = empty {
                if done < calls[x].invoke {
                    let c = Contradiction::EmptyWhileHeld {
                        enqueue: u,
                        dequeue: x,
                        after: None,
                        held: Vec::new(),
                        lost: Vec::new(),
                    };
                    return Some((c, sorted(vec![u, x])));
                }
            }
        }
    }
    // An empty dequeue waits for the dequeue of every value enqueued before it began: when one
    // of those dequeues began after a value that stays was enqueued, that value was in the queue.
    let &u = stay.iter().find(|&&u| certain(u))?;
    let done = calls[u].complete?;
    // Values with a certain dequeue by their enqueue's completion, each with the latest-invoked
    // dequeue (its invocation, enqueue and dequeue) among them so far.
    let mut values: Vec<(u64, usize, usize)> = items
        .iter()
        .filter_map(|it| match *it {
            QueueItem::Value { enqueue, dequeue } if certain(dequeue) => {
                Some((calls[enqueue].complete?, enqueue, dequeue))
            }
            _ => None,
        })
        .collect();
    values.sort_unstable();
    let latest: Vec<(u64, usize, usize)> = values
        .iter()
        .scan((0, 0, 0), |top, &(_, e, d)| {
            if calls[d].invoke >= top.0 {
                *top = (calls[d].invoke, e, d);
            }
            Some(*top)
        })
        .collect();
    for it in items {
        let &QueueItem::Empty(x) = it else { continue };
        let before = values.partition_point(|v| v.0 < calls[x].invoke);
        let Some(&(begun, enqueue2, dequeue2)) = before.checked_sub(1).map(|i| &latest[i]) else {
            continue;
        };
        if done < begun {
            let c = Contradiction::EmptyWhileHeld {
                enqueue: u,
                dequeue: x,
                after: Some((enqueue2, dequeue2)),
                held: Vec::new(),
                lost: Vec::new(),
            };
            return Some((c, sorted(vec![u, x, enqueue2, dequeue2])));
        }
    }
    None
}

/// An order of the elements that keeps every pair real time forces, earliest deadline first;
/// else a cycle of forced pairs.
///
/// Element b must wait for a when a's first call completed before b's first began, or a's second
/// completed before either of b's began. So b is free to go once the earliest completion of a
/// first call among the elements left is after b's first invocation, and the earliest completion
/// of a second call after both b's invocations. Those earliest completions only grow as
/// elements go, so each element is freed once, by two sweeps over the elements sorted by those
/// invocations.
///
/// With `early` (each element's deadlines for its first and second point), a free empty dequeue
/// goes before free values unless a value left could not follow it: an empty placed early holds
/// back only what is enqueued after it, one placed after a value waits for its dequeue.
fn order_items(
    calls: &[SearchCall<QueueOp>],
    items: &[QueueItem],
    key: &dyn Fn(usize) -> (u64, u64),
    early: Option<&[(u64, u64)]>,
) -> Result<Vec<usize>, Vec<QueueEdge>> {
    let n = items.len();
    let inv = |i: usize| calls[i].invoke;
    let done = |i: usize| calls[i].complete.unwrap_or(NEVER);
    let t1: Vec<u64> = items.iter().map(|it| inv(ends(it).0)).collect();
    let t2: Vec<u64> = items
        .iter()
        .map(|it| inv(ends(it).0).max(inv(ends(it).1)))
        .collect();
    let mut by1: Vec<usize> = (0..n).collect();
    by1.sort_unstable_by_key(|&b| t1[b]);
    let mut by2: Vec<usize> = (0..n).collect();
    by2.sort_unstable_by_key(|&b| t2[b]);
    let mut first_done: BinaryHeap<Reverse<(u64, usize)>> = (0..n)
        .map(|b| Reverse((done(ends(&items[b]).0), b)))
        .collect();
    let mut second_done: BinaryHeap<Reverse<(u64, usize)>> = (0..n)
        .map(|b| Reverse((done(ends(&items[b]).1), b)))
        .collect();
    let mut gone = vec![false; n];
    let mut freed = vec![0u8; n];
    // Free values and free empty dequeues, apart.
    let mut free: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut free_empty: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    // The latest invocation the placed enqueues, dequeues and empties wait for (see `place`).
    let (mut enq, mut deq, mut empty) = (0u64, 0u64, 0u64);
    // The values left by the deadline of their enqueue.
    let mut enqueue_due: BinaryHeap<Reverse<(u64, usize)>> = match early {
        Some(deadline) => (0..n)
            .filter(|&b| matches!(items[b], QueueItem::Value { .. }))
            .map(|b| Reverse((deadline[b].0, b)))
            .collect(),
        None => BinaryHeap::new(),
    };
    let (mut p1, mut p2) = (0, 0);
    let mut order = Vec::with_capacity(n);
    // The earliest completion among the elements left, and whose.
    let earliest = |heap: &mut BinaryHeap<Reverse<(u64, usize)>>, gone: &[bool]| {
        while let Some(&Reverse((_, b))) = heap.peek() {
            if !gone[b] {
                break;
            }
            heap.pop();
        }
        heap.peek().map_or((NEVER, usize::MAX), |r| r.0)
    };
    loop {
        let (m1, _) = earliest(&mut first_done, &gone);
        let (m2, _) = earliest(&mut second_done, &gone);
        let mut release = |b: usize, freed: &mut [u8]| {
            freed[b] += 1;
            if freed[b] == 2 {
                let (k1, k2) = key(b);
                match items[b] {
                    QueueItem::Value { .. } => free.push(Reverse((k1, k2, b))),
                    QueueItem::Empty(_) => free_empty.push(Reverse((k1, k2, b))),
                }
            }
        };
        while p1 < n && t1[by1[p1]] < m1 {
            release(by1[p1], &mut freed);
            p1 += 1;
        }
        while p2 < n && t2[by2[p2]] < m2 {
            release(by2[p2], &mut freed);
            p2 += 1;
        }
        let value_first = match (free.peek(), free_empty.peek()) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(&Reverse((v1, v2, a))), Some(&Reverse((x1, x2, x)))) => match early {
                // Every value left goes after the empty if it goes now: values first while one
                // of them could not.
                Some(_) => {
                    let (soonest, _) = earliest(&mut enqueue_due, &gone);
                    soonest <= inv(ends(&items[x]).0).max(enq).max(deq).max(empty)
                }
                None => (v1, v2, a) < (x1, x2, x),
            },
            (None, None) if order.len() == n => return Ok(order),
            (None, None) => break,
        };
        let heap = if value_first {
            &mut free
        } else {
            &mut free_empty
        };
        let Some(Reverse((_, _, b))) = heap.pop() else {
            break;
        };
        gone[b] = true;
        order.push(b);
        let (f, s) = ends(&items[b]);
        match items[b] {
            QueueItem::Value { .. } => {
                enq = enq.max(empty).max(inv(f));
                deq = deq.max(enq).max(inv(s));
            }
            QueueItem::Empty(_) => empty = inv(f).max(enq).max(deq).max(empty),
        }
    }
    // Every element left waits for another left: follow what each waits for until one repeats.
    let (m1, a1) = earliest(&mut first_done, &gone);
    let (m2, a2) = earliest(&mut second_done, &gone);
    let mut b = (0..n).find(|&b| !gone[b]).unwrap_or(0);
    let mut visited = vec![usize::MAX; n];
    let mut path: Vec<QueueEdge> = Vec::new();
    while visited[b] == usize::MAX {
        visited[b] = path.len();
        let (f, s) = ends(&items[b]);
        let (a, done_call, begun) = if t1[b] > m1 {
            (a1, ends(&items[a1]).0, f)
        } else {
            debug_assert!(t2[b] > m2);
            (a2, ends(&items[a2]).1, if inv(f) > inv(s) { f } else { s })
        };
        path.push(QueueEdge {
            done: done_call,
            begun,
            before: items[a],
            after: items[b],
        });
        b = a;
    }
    // Read forward: each element before the next, the last before the first.
    let mut cycle = path.split_off(visited[b]);
    cycle.reverse();
    Err(cycle)
}

/// The calls a cycle stands on: each edge's two and every value's enqueue and dequeue.
fn cycle_core(cycle: &[QueueEdge]) -> Vec<usize> {
    let mut core = Vec::new();
    for e in cycle {
        core.extend([e.done, e.begun]);
        for it in [e.before, e.after] {
            let (f, s) = ends(&it);
            core.extend([f, s]);
        }
    }
    sorted(core)
}

/// Each call at the earliest moment it can take, the elements in `order` and then the values
/// that stay; `None` when some call would have to take effect after it completed.
///
/// A moment is (the position of the latest invocation it must follow, a count of moments made):
/// later than every moment it must follow, and before the call's completion exactly when that
/// invocation is.
fn place(
    calls: &[SearchCall<QueueOp>],
    items: &[QueueItem],
    order: &[usize],
    stay: &[usize],
) -> Option<Vec<usize>> {
    let mut made = 0u64;
    let mut at = |after: (u64, u64), call: usize| -> Option<(u64, u64)> {
        let c = &calls[call];
        let base = after.0.max(c.invoke);
        if base >= c.complete.unwrap_or(NEVER) {
            return None;
        }
        made += 1;
        Some((base, made))
    };
    let mut moments: Vec<((u64, u64), usize)> = Vec::with_capacity(2 * items.len() + stay.len());
    // The latest enqueue, dequeue and empty dequeue placed.
    let (mut enq, mut deq, mut empty) = ((0, 0), (0, 0), (0, 0));
    for &b in order {
        match items[b] {
            QueueItem::Value { enqueue, dequeue } => {
                enq = at(enq.max(empty), enqueue)?;
                deq = at(deq.max(enq), dequeue)?;
                moments.push((enq, enqueue));
                moments.push((deq, dequeue));
            }
            QueueItem::Empty(x) => {
                empty = at(deq.max(empty).max(enq), x)?;
                moments.push((empty, x));
            }
        }
    }
    for &u in stay {
        enq = at(enq.max(empty), u)?;
        moments.push((enq, u));
    }
    moments.sort_unstable();
    Some(moments.into_iter().map(|(_, i)| i).collect())
}

/// Replay `order` against a FIFO queue, and check it fits real time.
fn replays(calls: &[SearchCall<QueueOp>], order: &[usize]) -> bool {
    let mut queue: VecDeque<&Value> = VecDeque::new();
    for &i in order {
        match &calls[i].op {
            QueueOp::Enqueue(v) => queue.push_back(v),
            QueueOp::Dequeue(Some(Value::Nil)) => {
                if !queue.is_empty() {
                    return false;
                }
            }
            QueueOp::Dequeue(Some(v)) => {
                if queue.pop_front() != Some(v) {
                    return false;
                }
            }
            QueueOp::Dequeue(None) => {
                if queue.pop_front().is_none() {
                    return false;
                }
            }
        }
    }
    fits_real_time(calls, order)
}

fn refuted(
    calls: &[SearchCall<QueueOp>],
    contradiction: Contradiction,
    core: Vec<usize>,
) -> Option<Decision> {
    let values: BTreeMap<usize, Value> = contradiction
        .calls()
        .into_iter()
        .map(|i| {
            let v = match &calls[i].op {
                QueueOp::Enqueue(v) | QueueOp::Dequeue(Some(v)) => v.clone(),
                QueueOp::Dequeue(None) => Value::Nil,
            };
            (i, v)
        })
        .collect();
    Some(Decision::Invalid(Refutation {
        contradiction,
        core,
        support: Vec::new(),
        values,
        prefix: Vec::new(),
        state: Value::List(Vec::new()),
    }))
}

/// Relaxed calls a shrunk history can leave out without changing its verdict:
/// - an enqueue whose value no kept dequeue returns: it may never have happened, and had it, its
///   value (and a relaxed dequeue of it) would only stand in the way of those behind it;
/// - a dequeue of a value whose enqueue is not kept (that enqueue goes, by the rule above, or
///   is relaxed and needed by a kept dequeue), or of a value enqueued once that a kept dequeue
///   returns: it cannot have taken the value again;
/// - a dequeue that found the queue empty: it changed nothing;
/// - a dequeue whose reply never came, when no value is enqueued twice and every value a kept
///   enqueue that completed enqueued is returned by a kept dequeue: any other value it could
///   have taken would only have stood in the way had it stayed, and finding the queue empty
///   changed nothing.
pub fn unneeded(calls: &[SearchCall<QueueOp>], kept: &[bool], relaxed: &[bool]) -> Vec<bool> {
    use std::collections::HashSet;
    let mut taken: HashSet<&Value> = HashSet::new();
    let mut enqueued: HashMap<&Value, (usize, bool)> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        match &c.op {
            QueueOp::Dequeue(Some(v)) if kept[i] => {
                taken.insert(v);
            }
            QueueOp::Enqueue(v) if kept[i] || relaxed[i] => {
                let e = enqueued.entry(v).or_insert((0, false));
                e.0 += 1;
                e.1 |= kept[i];
            }
            _ => {}
        }
    }
    let lost_may_matter = calls.iter().zip(kept).any(|(c, &k)| {
        k && c.complete.is_some() && matches!(&c.op, QueueOp::Enqueue(v) if !taken.contains(v))
    }) || enqueued.values().any(|&(n, _)| n > 1);
    calls
        .iter()
        .zip(relaxed)
        .map(|(c, &r)| {
            r && match &c.op {
                QueueOp::Enqueue(v) => !taken.contains(v),
                QueueOp::Dequeue(Some(Value::Nil)) => true,
                QueueOp::Dequeue(Some(v)) => match enqueued.get(v) {
                    None => true,
                    Some(&(n, kept_enqueue)) => !kept_enqueue || (n == 1 && taken.contains(v)),
                },
                QueueOp::Dequeue(None) => !lost_may_matter,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: QueueOp, invoke: u64, complete: Option<u64>) -> SearchCall<QueueOp> {
        SearchCall {
            op,
            invoke,
            complete,
        }
    }
    fn enq(v: i64, i: u64, c: u64) -> SearchCall<QueueOp> {
        call(QueueOp::Enqueue(Value::Int(v)), i, Some(c))
    }
    fn deq(v: Option<i64>, i: u64, c: u64) -> SearchCall<QueueOp> {
        call(
            QueueOp::Dequeue(Some(v.map_or(Value::Nil, Value::Int))),
            i,
            Some(c),
        )
    }

    #[test]
    fn fifo_order_is_valid_and_replayed() {
        let h = vec![
            enq(1, 0, 1),
            enq(2, 2, 3),
            deq(Some(1), 4, 5),
            deq(Some(2), 6, 7),
        ];
        match decide(&h) {
            Some(Decision::Valid { order }) => assert_eq!(order, vec![0, 1, 2, 3]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dequeues_out_of_order_are_a_cycle() {
        // 1 enqueued before 2, yet 2 dequeued before 1.
        let h = vec![
            enq(1, 0, 1),
            enq(2, 2, 3),
            deq(Some(2), 4, 5),
            deq(Some(1), 6, 7),
        ];
        match decide(&h) {
            Some(Decision::Invalid(r)) => {
                let Contradiction::QueueOrder { cycle } = &r.contradiction else {
                    panic!("{:?}", r.contradiction)
                };
                assert_eq!(cycle.len(), 2);
                assert_eq!(r.core, vec![0, 1, 2, 3]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_while_an_element_is_held() {
        // 1 is enqueued before the dequeue that finds the queue empty, and dequeued after it.
        let h = vec![enq(1, 0, 1), deq(None, 2, 3), deq(Some(1), 4, 5)];
        assert!(matches!(
            decide(&h),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::QueueOrder { .. },
                ..
            }))
        ));
        // Concurrent with the enqueue, the empty dequeue may go first.
        let h = vec![enq(1, 0, 3), deq(None, 1, 2), deq(Some(1), 4, 5)];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        // 1 is enqueued before the empty dequeue began, so it found the queue empty only after
        // 1's dequeue, which began after 2, never dequeued, was enqueued.
        let h = vec![
            enq(2, 0, 4),
            enq(1, 1, 2),
            deq(None, 3, 7),
            deq(Some(1), 5, 6),
        ];
        match decide(&h) {
            Some(Decision::Invalid(Refutation {
                contradiction:
                    Contradiction::EmptyWhileHeld {
                        enqueue: 0,
                        dequeue: 2,
                        after: Some((1, 3)),
                        ..
                    },
                core,
                ..
            })) => assert_eq!(core, vec![0, 1, 2, 3]),
            other => panic!("{other:?}"),
        }
        // Had 1's dequeue begun before 2's enqueue completed, the queue could have been empty.
        let h = vec![
            enq(2, 0, 5),
            enq(1, 1, 2),
            deq(None, 3, 7),
            deq(Some(1), 4, 6),
        ];
        assert!(!matches!(decide(&h), Some(Decision::Invalid(_))));
    }

    #[test]
    fn simple_contradictions() {
        let never = vec![deq(Some(7), 0, 1)];
        assert!(matches!(
            decide(&never),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::NeverEnqueued { dequeue: 0, .. },
                ..
            }))
        ));
        let twice = vec![enq(1, 0, 1), deq(Some(1), 2, 3), deq(Some(1), 4, 5)];
        assert!(matches!(
            decide(&twice),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::DequeuedTwice { .. },
                ..
            }))
        ));
        let early = vec![deq(Some(1), 0, 1), enq(1, 2, 3)];
        assert!(matches!(
            decide(&early),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::DequeuedBeforeEnqueued { .. },
                ..
            }))
        ));
        let stuck = vec![enq(1, 0, 1), enq(2, 2, 3), deq(Some(2), 4, 5)];
        assert!(matches!(
            decide(&stuck),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::NotDequeued { enqueue: 0, .. },
                ..
            }))
        ));
        let held = vec![enq(1, 0, 1), deq(None, 2, 3)];
        assert!(matches!(
            decide(&held),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::EmptyWhileHeld { .. },
                ..
            }))
        ));
    }

    #[test]
    fn unknown_outcomes() {
        // An unknown enqueue never dequeued may never have happened.
        let h = vec![
            call(QueueOp::Enqueue(Value::Int(1)), 0, None),
            deq(None, 2, 3),
        ];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        // One whose value is dequeued happened, late if need be.
        let h = vec![
            call(QueueOp::Enqueue(Value::Int(1)), 0, None),
            enq(2, 1, 2),
            deq(Some(2), 3, 4),
            deq(Some(1), 5, 6),
        ];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        // A dequeue whose reply never came may never have happened.
        let lost = |i| call(QueueOp::Dequeue(None), i, None);
        let h = vec![enq(1, 0, 1), lost(2)];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        // It may have taken the value in the way of a later one, but not two.
        let h = vec![enq(1, 0, 1), enq(2, 2, 3), lost(4), deq(Some(2), 5, 6)];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        let h = vec![
            enq(1, 0, 1),
            enq(2, 2, 3),
            enq(3, 4, 5),
            lost(6),
            deq(Some(3), 7, 8),
        ];
        match decide(&h) {
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::NotDequeued { held, lost, .. },
                core,
                ..
            })) => {
                assert_eq!((held.len(), lost, core.len()), (1, vec![3], 5));
            }
            other => panic!("{other:?}"),
        }
        // Two lost dequeues may have taken both.
        let h = vec![
            enq(1, 0, 1),
            enq(2, 2, 3),
            lost(4),
            enq(3, 5, 6),
            lost(7),
            deq(Some(3), 8, 9),
        ];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        // It cannot undo a cycle, nor take a value another dequeue returned.
        let h = vec![
            enq(1, 0, 1),
            enq(2, 2, 3),
            lost(0),
            deq(Some(2), 4, 5),
            deq(Some(1), 6, 7),
        ];
        assert!(matches!(
            decide(&h),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::QueueOrder { .. },
                ..
            }))
        ));
        // A value held while the queue was found empty: the lost dequeue, begun in time, may
        // have taken it; begun after, it cannot.
        let h = vec![enq(1, 0, 1), lost(2), deq(None, 3, 4)];
        assert!(matches!(decide(&h), Some(Decision::Valid { .. })));
        let h = vec![enq(1, 0, 1), deq(None, 3, 4), lost(5)];
        assert!(matches!(
            decide(&h),
            Some(Decision::Invalid(Refutation {
                contradiction: Contradiction::EmptyWhileHeld { .. },
                ..
            }))
        ));
        // A repeated value: the search decides.
        let h = vec![enq(1, 0, 1), enq(1, 2, 3)];
        assert!(decide(&h).is_none());
    }
}
