//! An exact, polynomial decision for register histories whose written values are unique.
//!
//! When every write and cas writes a value no other call writes (nor the initial value), each
//! value is current during one unbroken stretch of any linearization, and a successful cas `a→b`
//! makes `b`'s stretch follow `a`'s directly. Values joined by such cas calls form a chain that
//! is one block of the linearization. Each block must start before the earliest completion of its
//! calls (writes and reads of its values) and last past the latest invocation among them; when
//! block X's calls include one that completed before one of block Y's began, X comes first.
//! Two blocks each before the other is a contradiction (Gibbons & Korach's zones, 1997), and so
//! are a handful of shapes (a read of a value nobody wrote, two cas calls replacing one value, a
//! failed compare while its value was provably current).
//!
//! Without a contradiction a sweep through the history builds a linearization, lazily: the
//! current value stays until some call is about to complete without having been placed. Both
//! answers are checked mechanically — the linearization by replaying it, the contradiction by the
//! search on its few calls — and when the sweep fails without a contradiction the search decides.
//! So this is a fast path, never a different verdict.

use crate::model::RegisterOp;
use crate::search::SearchCall;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    fn new(
        calls: &[SearchCall<RegisterOp>],
        contradiction: Contradiction,
        core: Vec<usize>,
        prefix: Vec<usize>,
        state: Value,
    ) -> Refutation {
        let values = contradiction
            .calls()
            .into_iter()
            .map(|i| {
                let v = match &calls[i].op {
                    RegisterOp::Read(v) | RegisterOp::Write(v) | RegisterOp::Cas(_, v) => v,
                    RegisterOp::CasFailed(v) => v,
                };
                (i, v.clone())
            })
            .collect();
        Refutation {
            contradiction,
            core,
            support: Vec::new(),
            values,
            prefix,
            state,
        }
    }

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

/// Why no linearization exists, in calls (indices into the calls).
#[derive(Clone, Debug, PartialEq)]
pub enum Contradiction {
    /// A read, or a cas that took effect, needs a value no call writes.
    Unwritten { call: usize },
    /// Two cas calls that both took effect replaced the same value, which was written once.
    TwoSuccessors { first: usize, second: usize },
    /// A read completed before the only write of its value began.
    ReadBeforeWrite { read: usize, write: usize },
    /// `done` completed before `begun` began, so `done`'s value was current first; yet `done2`
    /// completed before `begun2` began, so the other way round. `None` for `done` stands for the
    /// initial value, current before any call. `chain` lists cas calls that tie values together
    /// (no other value can come between), when the two sides name different values of one chain.
    Order {
        done: Option<usize>,
        begun: usize,
        done2: Option<usize>,
        begun2: usize,
        chain: Vec<usize>,
    },
    /// The cas calls of `chain` made `begun`'s value current before `done`'s, with nothing between;
    /// yet `done` completed before `begun` began.
    ChainOrder {
        done: usize,
        begun: usize,
        chain: Vec<usize>,
    },
    /// A cas reported that its compare failed, but its value was current throughout: `done`
    /// (a call of that value; `None`: the initial value) completed before it began, and `begun`
    /// (a call that needs the value still current) began after it completed.
    FailedCompare {
        cas: usize,
        done: Option<usize>,
        begun: usize,
    },
    /// Two gets of an append-only string returned strings no one timeline makes: after one put
    /// they differ at some append, or they hold one append after different strings.
    Diverged { read: usize, read2: usize },
    /// A read of a grow-only set holds an element no call adds.
    NeverAdded { read: usize, element: Value },
    /// A read of a grow-only set lists an element more than once.
    ReadTwice { read: usize, element: Value },
    /// Two reads of a grow-only set, neither holding all the other does: `read` holds `only`,
    /// which `read2` misses, and `read2` holds `only2`, which `read` misses.
    Incomparable {
        read: usize,
        read2: usize,
        only: Value,
        only2: Value,
    },
    /// `add` completed before `read` began, yet the read misses its element.
    MissedAdd {
        add: usize,
        read: usize,
        element: Value,
    },
    /// `read`, holding `element`, completed before `read2` began, yet `read2` misses it.
    Shrank {
        read: usize,
        read2: usize,
        element: Value,
    },
    /// `read` holds `element`, yet it completed before `add`, its only add, began.
    ReadBeforeAdd {
        read: usize,
        add: usize,
        element: Value,
    },
    /// `add` (of `element`) completed before `add2` (of `element2`) began, yet `read` holds
    /// `element2` and misses `element`.
    AddOrder {
        add: usize,
        add2: usize,
        read: usize,
        element: Value,
        element2: Value,
    },
    /// A dequeue returned an element no call enqueues.
    NeverEnqueued { dequeue: usize, element: Value },
    /// Two dequeues returned the same element, which was enqueued once.
    DequeuedTwice {
        dequeue: usize,
        dequeue2: usize,
        element: Value,
    },
    /// A dequeue completed before the only enqueue of its element began.
    DequeuedBeforeEnqueued {
        dequeue: usize,
        enqueue: usize,
        element: Value,
    },
    /// `enqueue` completed before `enqueue2` began, so its element was ahead in the queue, yet
    /// `dequeue2` dequeued `enqueue2`'s element and nothing ever dequeued `enqueue`'s; nor can
    /// the dequeues whose reply never came that began before `dequeue2` ended (`lost`) have
    /// taken it and the other such values ahead (`held`): they are fewer.
    NotDequeued {
        enqueue: usize,
        enqueue2: usize,
        dequeue2: usize,
        held: Vec<usize>,
        lost: Vec<usize>,
    },
    /// `enqueue` completed before `dequeue` began and nothing ever dequeued its element, yet
    /// `dequeue` found the queue empty; `held` and `lost` as for `NotDequeued`. With `after`
    /// (an enqueue and the dequeue of its value), `enqueue` completed only before that dequeue
    /// began: the value's enqueue completed before `dequeue` began, so the queue was empty only
    /// after that dequeue.
    EmptyWhileHeld {
        enqueue: usize,
        dequeue: usize,
        after: Option<(usize, usize)>,
        held: Vec<usize>,
        lost: Vec<usize>,
    },
    /// Real time orders each edge's two elements, and the edges close a cycle: no order of the
    /// queue's elements fits.
    QueueOrder { cycle: Vec<QueueEdge> },
}

/// Why the dequeues whose reply never came (`lost`) cannot have taken the values held: `place`
/// says where the others held (`held`) were.
fn too_few_lost(
    held: &[usize],
    lost: &[usize],
    place: &str,
    call: &dyn Fn(usize) -> String,
) -> String {
    if lost.is_empty() {
        return String::new();
    }
    let list = |calls: &[usize]| {
        calls
            .iter()
            .map(|&i| call(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let others = match held.len() {
        0 => String::new(),
        1 => format!(
            "; 1 more value no call dequeued was {place} ({})",
            list(held)
        ),
        n => format!(
            "; {n} more values no call dequeued were {place} ({})",
            list(held)
        ),
    };
    format!(
        "{others}; a dequeue whose reply never came may have taken one each, but only {} began \
         in time ({})",
        lost.len(),
        list(lost)
    )
}

/// An element of a FIFO queue's order: a dequeued value, by its enqueue and its dequeue, or a
/// dequeue that found the queue empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueItem {
    Value { enqueue: usize, dequeue: usize },
    Empty(usize),
}

/// `done` completed before `begun` began, so `before` came before `after` in the queue's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEdge {
    pub done: usize,
    pub begun: usize,
    pub before: QueueItem,
    pub after: QueueItem,
}

impl Contradiction {
    /// The call no linearization can place: the latest to begin among those named.
    pub fn stuck(&self) -> usize {
        match self {
            Contradiction::Unwritten { call } => *call,
            Contradiction::TwoSuccessors { second, .. } => *second,
            Contradiction::ReadBeforeWrite { read, .. } => *read,
            Contradiction::Order { begun2, .. } => *begun2,
            Contradiction::ChainOrder { begun, .. } => *begun,
            Contradiction::FailedCompare { cas, .. } => *cas,
            Contradiction::Diverged { read2, .. } => *read2,
            Contradiction::NeverAdded { read, .. } | Contradiction::ReadTwice { read, .. } => *read,
            Contradiction::Incomparable { read2, .. } => *read2,
            Contradiction::MissedAdd { read, .. } => *read,
            Contradiction::Shrank { read2, .. } => *read2,
            Contradiction::ReadBeforeAdd { read, .. } => *read,
            Contradiction::AddOrder { read, .. } => *read,
            Contradiction::NeverEnqueued { dequeue, .. }
            | Contradiction::DequeuedBeforeEnqueued { dequeue, .. }
            | Contradiction::EmptyWhileHeld { dequeue, .. } => *dequeue,
            Contradiction::DequeuedTwice { dequeue2, .. }
            | Contradiction::NotDequeued { dequeue2, .. } => *dequeue2,
            // Calls are numbered in invocation order: the latest to begin.
            Contradiction::QueueOrder { cycle } => cycle.iter().map(|e| e.begun).max().unwrap_or(0),
        }
    }

    /// Every call the contradiction names, for a counterexample built from them.
    pub fn calls(&self) -> Vec<usize> {
        let mut v = match self {
            Contradiction::Unwritten { call } => vec![*call],
            Contradiction::TwoSuccessors { first, second } => vec![*first, *second],
            Contradiction::ReadBeforeWrite { read, write } => vec![*read, *write],
            Contradiction::Order {
                done,
                begun,
                done2,
                begun2,
                chain,
            } => {
                let mut v: Vec<usize> = [*done, Some(*begun), *done2, Some(*begun2)]
                    .into_iter()
                    .flatten()
                    .collect();
                v.extend(chain);
                v
            }
            Contradiction::ChainOrder { done, begun, chain } => {
                let mut v = vec![*done, *begun];
                v.extend(chain);
                v
            }
            Contradiction::FailedCompare { cas, done, begun } => [Some(*cas), *done, Some(*begun)]
                .into_iter()
                .flatten()
                .collect(),
            Contradiction::Diverged { read, read2 }
            | Contradiction::Incomparable { read, read2, .. }
            | Contradiction::Shrank { read, read2, .. } => vec![*read, *read2],
            Contradiction::NeverAdded { read, .. } | Contradiction::ReadTwice { read, .. } => {
                vec![*read]
            }
            Contradiction::MissedAdd { add, read, .. }
            | Contradiction::ReadBeforeAdd { read, add, .. } => vec![*add, *read],
            Contradiction::AddOrder {
                add, add2, read, ..
            } => vec![*add, *add2, *read],
            Contradiction::NeverEnqueued { dequeue, .. } => vec![*dequeue],
            Contradiction::DequeuedTwice {
                dequeue, dequeue2, ..
            } => vec![*dequeue, *dequeue2],
            Contradiction::DequeuedBeforeEnqueued {
                dequeue, enqueue, ..
            } => vec![*dequeue, *enqueue],
            Contradiction::NotDequeued {
                enqueue,
                enqueue2,
                dequeue2,
                held,
                lost,
            } => [*enqueue, *enqueue2, *dequeue2]
                .into_iter()
                .chain(held.iter().chain(lost).copied())
                .collect(),
            Contradiction::EmptyWhileHeld {
                enqueue,
                dequeue,
                after,
                held,
                lost,
            } => [*enqueue, *dequeue]
                .into_iter()
                .chain(after.iter().flat_map(|&(e, d)| [e, d]))
                .chain(held.iter().chain(lost).copied())
                .collect(),
            Contradiction::QueueOrder { cycle } => cycle
                .iter()
                .flat_map(|e| {
                    let item = |it: &QueueItem| match *it {
                        QueueItem::Value { enqueue, dequeue } => [enqueue, dequeue],
                        QueueItem::Empty(x) => [x, x],
                    };
                    let [a, b] = item(&e.before);
                    let [c, d] = item(&e.after);
                    [e.done, e.begun, a, b, c, d]
                })
                .collect(),
        };
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The contradiction in words; `call` describes a call, `value` the value a call wrote or read.
    pub fn render(
        &self,
        call: &dyn Fn(usize) -> String,
        value: &dyn Fn(usize) -> String,
    ) -> String {
        let done = |d: &Option<usize>| match d {
            Some(i) => format!("{} completed before", call(*i)),
            None => "the register held its initial value before".to_string(),
        };
        let held = |d: &Option<usize>| match d {
            Some(i) => value(*i),
            None => "the initial value".to_string(),
        };
        match self {
            Contradiction::Unwritten { call: c } => format!(
                "{} needs the value {}, which no call writes",
                call(*c),
                value(*c)
            ),
            Contradiction::TwoSuccessors { first, second } => format!(
                "{} and {} both took effect, but each replaces the value {}, which was written once",
                call(*first),
                call(*second),
                value(*first)
            ),
            Contradiction::ReadBeforeWrite { read, write } => format!(
                "{} completed before {}, the only write of its value, began",
                call(*read),
                call(*write)
            ),
            Contradiction::Order {
                done: d,
                begun,
                done2,
                begun2,
                chain,
            } => {
                let mut s = format!(
                    "{} {} began, so {} was current before {}; yet {} {} began, so {} was current \
                     before {}",
                    done(d),
                    call(*begun),
                    held(d),
                    value(*begun),
                    done(done2),
                    call(*begun2),
                    held(done2),
                    value(*begun2),
                );
                if !chain.is_empty() {
                    let links: Vec<String> = chain.iter().map(|&i| call(i)).collect();
                    s.push_str(&format!(
                        "; the calls {} chain these values, so nothing comes between them",
                        links.join(", ")
                    ));
                }
                s.push_str(". Each value is written once, so no order of the values fits");
                s
            }
            Contradiction::ChainOrder { done: d, begun, chain } => {
                let links: Vec<String> = chain.iter().map(|&i| call(i)).collect();
                format!(
                    "the calls {} made {} current before {}, with no other value between; yet \
                     {} completed before {} began. Each value is written once, so no order of the \
                     values fits",
                    links.join(", "),
                    value(*begun),
                    value(*d),
                    call(*d),
                    call(*begun)
                )
            }
            Contradiction::FailedCompare { cas, done: d, begun } => format!(
                "{} reported that its compare failed, but {} it began, so {} was already current, \
                 and {} began only after it completed, so {} was still current",
                call(*cas),
                match d {
                    Some(i) => format!("{} completed before", call(*i)),
                    None => "the register held its initial value when".to_string(),
                },
                held(d),
                call(*begun),
                held(d),
            ),
            Contradiction::Diverged { read, read2 } => format!(
                "{} returned {} and {} returned {}: no one history of the string makes both, as \
                 each append takes effect once, and after a put the string only grows (they \
                 differ at some append after the same put, or hold one append after different \
                 strings)",
                call(*read),
                value(*read),
                call(*read2),
                value(*read2),
            ),
            Contradiction::NeverAdded { read, element } => {
                format!(
                    "{} holds {element}, which no call adds (a failed add did not happen)",
                    call(*read)
                )
            }
            Contradiction::ReadTwice { read, element } => format!(
                "{} lists {element} more than once; a set holds each element once",
                call(*read)
            ),
            Contradiction::Incomparable {
                read,
                read2,
                only,
                only2,
            } => format!(
                "{} holds {only} but not {only2}, and {} holds {only2} but not {only}. Elements \
                 are only added, so of two reads one holds all the other does",
                call(*read),
                call(*read2),
            ),
            Contradiction::MissedAdd { add, read, element } => format!(
                "{} completed before {} began, yet the read misses {element}. Elements are only \
                 added, so a read that begins after an add completed holds its element",
                call(*add),
                call(*read),
            ),
            Contradiction::Shrank {
                read,
                read2,
                element,
            } => format!(
                "{}, which holds {element}, completed before {} began, yet the later read misses \
                 {element}. Elements are only added, never removed",
                call(*read),
                call(*read2),
            ),
            Contradiction::ReadBeforeAdd { read, add, element } => format!(
                "{} holds {element}, yet it completed before {}, the only add of {element}, began",
                call(*read),
                call(*add),
            ),
            Contradiction::AddOrder {
                add,
                add2,
                read,
                element,
                element2,
            } => format!(
                "{} completed before {} began, so {element} was in the set before {element2}; yet \
                 {} holds {element2} and not {element}",
                call(*add),
                call(*add2),
                call(*read),
            ),
            Contradiction::NeverEnqueued { dequeue, element } => format!(
                "{} returned {element}, which no call enqueues (a failed enqueue did not happen)",
                call(*dequeue)
            ),
            Contradiction::DequeuedTwice {
                dequeue,
                dequeue2,
                element,
            } => format!(
                "{} and {} both returned {element}, which was enqueued once",
                call(*dequeue),
                call(*dequeue2)
            ),
            Contradiction::DequeuedBeforeEnqueued {
                dequeue,
                enqueue,
                element,
            } => format!(
                "{} returned {element}, yet it completed before {}, the only enqueue of \
                 {element}, began",
                call(*dequeue),
                call(*enqueue)
            ),
            Contradiction::NotDequeued {
                enqueue,
                enqueue2,
                dequeue2,
                held,
                lost,
            } => format!(
                "{} completed before {} began, so {} was ahead of {} in the queue; yet {} \
                 dequeued {} and no call dequeued {}{}. A FIFO queue dequeues in the order it \
                 enqueued",
                call(*enqueue),
                call(*enqueue2),
                value(*enqueue),
                value(*enqueue2),
                call(*dequeue2),
                value(*enqueue2),
                value(*enqueue),
                too_few_lost(held, lost, "ahead of it too", call)
            ),
            Contradiction::EmptyWhileHeld {
                enqueue,
                dequeue,
                after: None,
                held,
                lost,
            } => format!(
                "{} completed before {} began and no call dequeued {}{}, yet that dequeue found \
                 the queue empty",
                call(*enqueue),
                call(*dequeue),
                value(*enqueue),
                too_few_lost(held, lost, "enqueued before it too", call)
            ),
            Contradiction::EmptyWhileHeld {
                enqueue,
                dequeue,
                after: Some((enqueue2, dequeue2)),
                held,
                lost,
            } => format!(
                "{} completed before {} began, so that dequeue found the queue empty only after \
                 {} dequeued {}; {} completed before that began and no call dequeued {}{}, yet \
                 the queue was empty",
                call(*enqueue2),
                call(*dequeue),
                call(*dequeue2),
                value(*enqueue2),
                call(*enqueue),
                value(*enqueue),
                too_few_lost(held, lost, "enqueued before it too", call)
            ),
            Contradiction::QueueOrder { cycle } => {
                let links: Vec<String> = cycle
                    .iter()
                    .map(|e| {
                        let so = match (e.before, e.after) {
                            (
                                QueueItem::Value { enqueue: a, .. },
                                QueueItem::Value { enqueue: b, .. },
                            ) => format!("{} was ahead of {} in the queue", value(a), value(b)),
                            (QueueItem::Value { enqueue: a, .. }, QueueItem::Empty(x)) => {
                                format!("{} left the queue before {} found it empty", value(a), call(x))
                            }
                            (QueueItem::Empty(x), QueueItem::Value { enqueue: b, .. }) => {
                                format!("{} was enqueued after {} found the queue empty", value(b), call(x))
                            }
                            (QueueItem::Empty(x), QueueItem::Empty(y)) => {
                                format!("{} found the queue empty before {} did", call(x), call(y))
                            }
                        };
                        format!("{} completed before {} began, so {so}", call(e.done), call(e.begun))
                    })
                    .collect();
                format!(
                    "{}; yet that closes a circle. A FIFO queue dequeues in the order it \
                     enqueued, and is empty only once all enqueued before has been dequeued, so \
                     no order of its elements fits",
                    links.join("; ")
                )
            }
        }
    }
}

/// Decide a register history when its written values are unique; `None` when they are not, or
/// when neither a linearization nor a contradiction was found (the search decides then).
pub fn decide(initial: &Value, calls: &[SearchCall<RegisterOp>]) -> Option<Decision> {
    let clusters = match Clusters::build(initial, calls)? {
        Ok(c) => c,
        Err((contradiction, core)) => {
            return Some(Decision::Invalid(Refutation::new(
                calls,
                contradiction,
                core,
                Vec::new(),
                initial.clone(),
            )))
        }
    };
    let contradiction = clusters.contradiction(calls);
    let mut sweep = Sweep::new(calls, &clusters);
    let swept = sweep.run();
    match (swept, contradiction) {
        (true, found) => {
            let order = sweep.order;
            if !replays(initial, calls, &order) {
                debug_assert!(
                    false,
                    "the sweep built a linearization that does not replay"
                );
                return None;
            }
            debug_assert!(found.is_none(), "a linearization despite {found:?}");
            Some(Decision::Valid { order })
        }
        (false, Some(contradiction)) => {
            let core = core_of(
                &clusters.c,
                &clusters.needs,
                &clusters.own,
                calls,
                &contradiction,
            );
            let state = sweep.state();
            Some(Decision::Invalid(Refutation::new(
                calls,
                contradiction,
                core,
                sweep.order,
                state,
            )))
        }
        (false, None) => None,
    }
}

/// What a call does to the values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Read(usize),
    /// Writes this value, which must have been written (some call observed it).
    Writer(usize),
    /// A failed compare against this value; `None` when that value is never current.
    Failed(Option<usize>),
    /// An unknown-outcome write nobody observed: may be placed anywhere after its invocation.
    Filler,
    /// An unknown-outcome cas nobody observed: left out.
    Dropped,
}

const NEVER: i64 = i64::MAX;

/// One value's stretch: the call that wrote it and the calls that read it.
struct Cluster {
    value: Value,
    writer: Option<usize>,
    succ: Option<usize>,
    effective: bool,
    /// Earliest completion among its writer and reads: the value is current before it.
    done: (i64, Option<usize>),
    /// Latest invocation among its writer and reads: the value is current at or after it.
    begun: (i64, Option<usize>),
    /// Latest invocation among its reads: the value may not be replaced before.
    last_read: i64,
    /// A read of it, if any: proof that an unknown-outcome write of it happened.
    a_read: Option<usize>,
    block: usize,
}

struct Clusters {
    c: Vec<Cluster>,
    role: Vec<Role>,
    /// Per call: the value it reads or compares against, and the value it writes.
    needs: Vec<Option<usize>>,
    own: Vec<Option<usize>>,
    /// Each block's values, in chain order; block 0 starts with the initial value.
    blocks: Vec<Vec<usize>>,
}

fn inv<O>(c: &SearchCall<O>) -> i64 {
    c.invoke as i64
}

fn resp<O>(c: &SearchCall<O>) -> i64 {
    c.complete.map_or(NEVER, |p| p as i64)
}

impl Clusters {
    /// `None` when a written value repeats (or is the initial value); `Err` for a contradiction
    /// in the shape of the history itself.
    fn build(
        initial: &Value,
        calls: &[SearchCall<RegisterOp>],
    ) -> Option<Result<Clusters, (Contradiction, Vec<usize>)>> {
        // Most histories that come here repeat a written value (shrink probes of the search's
        // keys): find that first, before building anything.
        // Each written value's cluster is numbered in call order, after the initial value's 0.
        let mut index: HashMap<&Value, usize, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(calls.len() + 1, ahash::RandomState::new());
        index.insert(initial, 0);
        for call in calls {
            if let RegisterOp::Write(v) | RegisterOp::Cas(_, v) = &call.op {
                if index.insert(v, index.len()).is_some() {
                    return None;
                }
            }
        }
        let mut c = vec![Cluster {
            value: initial.clone(),
            writer: None,
            succ: None,
            effective: true,
            done: (-1, None),
            begun: (-1, None),
            last_read: -1,
            a_read: None,
            block: 0,
        }];
        let mut own = vec![None; calls.len()];
        for (i, call) in calls.iter().enumerate() {
            let v = match &call.op {
                RegisterOp::Write(v) | RegisterOp::Cas(_, v) => v,
                _ => continue,
            };
            debug_assert_eq!(index.get(v), Some(&c.len()));
            own[i] = Some(c.len());
            c.push(Cluster {
                value: v.clone(),
                writer: Some(i),
                succ: None,
                effective: call.complete.is_some(),
                done: (resp(call), call.complete.map(|_| i)),
                begun: (inv(call), Some(i)),
                last_read: -1,
                a_read: None,
                block: usize::MAX,
            });
        }
        let needs: Vec<Option<usize>> = calls
            .iter()
            .map(|call| match &call.op {
                RegisterOp::Read(v) | RegisterOp::CasFailed(v) | RegisterOp::Cas(v, _) => {
                    index.get(v).copied()
                }
                RegisterOp::Write(_) => None,
            })
            .collect();
        let mut role = vec![Role::Dropped; calls.len()];
        let mut failed = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            match &call.op {
                RegisterOp::Read(_) => {
                    let Some(x) = needs[i] else {
                        return Some(Err((Contradiction::Unwritten { call: i }, vec![i])));
                    };
                    role[i] = Role::Read(x);
                    let k = &mut c[x];
                    k.effective = true;
                    if resp(call) < k.done.0 {
                        k.done = (resp(call), Some(i));
                    }
                    if inv(call) > k.begun.0 {
                        k.begun = (inv(call), Some(i));
                    }
                    k.last_read = k.last_read.max(inv(call));
                    k.a_read.get_or_insert(i);
                }
                RegisterOp::CasFailed(_) => failed.push((i, needs[i])),
                _ => {}
            }
        }
        // A cas that took effect needs its compare's value; follow such needs back.
        let mut work: Vec<usize> = (1..c.len()).filter(|&x| c[x].effective).collect();
        let mut pred = vec![None; c.len()];
        while let Some(x) = work.pop() {
            let w = c[x].writer.expect("only the initial value has no writer");
            if !matches!(calls[w].op, RegisterOp::Cas(..)) {
                continue;
            }
            // `needs` holds the cluster of the value the cas compared against.
            let found = match needs[w] {
                None => Err(Contradiction::Unwritten { call: w }),
                Some(a) => match c[a].succ {
                    Some(other) => {
                        let first = c[other].writer.expect("a successor has a writer");
                        Err(Contradiction::TwoSuccessors {
                            first: first.min(w),
                            second: first.max(w),
                        })
                    }
                    None => Ok(a),
                },
            };
            let a = match found {
                Ok(a) => a,
                Err(found) => {
                    let core = core_of(&c, &needs, &own, calls, &found);
                    return Some(Err((found, core)));
                }
            };
            c[a].succ = Some(x);
            pred[x] = Some(a);
            if !c[a].effective {
                c[a].effective = true;
                work.push(a);
            }
        }
        // A failed compare against a value that may never be current constrains nothing; an
        // unobserved write of such a value cannot serve as a filler (the compare would see it).
        let compared: BTreeSet<usize> = failed.iter().filter_map(|f| f.1).collect();
        for &(i, x) in &failed {
            role[i] = Role::Failed(x.filter(|&x| c[x].effective));
        }
        for (x, k) in c.iter().enumerate().skip(1) {
            let w = k.writer.expect("written");
            role[w] = if k.effective {
                Role::Writer(x)
            } else if matches!(calls[w].op, RegisterOp::Write(_)) && !compared.contains(&x) {
                Role::Filler
            } else {
                Role::Dropped
            };
        }
        let mut blocks = Vec::new();
        for head in 0..c.len() {
            if !c[head].effective || pred[head].is_some() {
                continue;
            }
            let b = blocks.len();
            let mut members = vec![head];
            let mut x = head;
            while let Some(y) = c[x].succ {
                members.push(y);
                x = y;
            }
            for &m in &members {
                c[m].block = b;
            }
            blocks.push(members);
        }
        if c.iter().any(|k| k.effective && k.block == usize::MAX) {
            // A ring of cas calls with no write to start it: rare enough for the search.
            return None;
        }
        Some(Ok(Clusters {
            c,
            role,
            needs,
            own,
            blocks,
        }))
    }

    /// The first contradiction found among the values' stretches, if any.
    fn contradiction(&self, calls: &[SearchCall<RegisterOp>]) -> Option<Contradiction> {
        let c = &self.c;
        // Within a value: a read done before its write began.
        for k in c.iter().skip(1).filter(|k| k.effective) {
            let w = k.writer.expect("written");
            if k.done.0 < inv(&calls[w]) {
                return Some(Contradiction::ReadBeforeWrite {
                    read: k.done.1.expect("a completion"),
                    write: w,
                });
            }
        }
        // Within a chain: a later value done before an earlier one's call began.
        let mut span = Vec::with_capacity(self.blocks.len());
        for members in &self.blocks {
            let mut latest: (i64, Option<usize>, usize) = (-1, None, 0);
            let mut done: (i64, Option<usize>) = (NEVER, None);
            for (j, &m) in members.iter().enumerate() {
                if j > 0 && c[m].done.0 < latest.0 {
                    return Some(Contradiction::ChainOrder {
                        done: c[m].done.1.expect("a completion"),
                        begun: latest.1.expect("an invocation"),
                        chain: members[latest.2 + 1..=j]
                            .iter()
                            .map(|&y| c[y].writer.expect("written"))
                            .collect(),
                    });
                }
                if c[m].begun.0 > latest.0 {
                    latest = (c[m].begun.0, c[m].begun.1, j);
                }
                if c[m].done.0 < done.0 {
                    done = c[m].done;
                }
            }
            span.push((done, latest));
        }
        // Between blocks: two blocks each before the other. Sorted by earliest completion, the
        // blocks X with done(X) < begun(Y) are a prefix; the one of them reaching latest decides.
        let mut by_done: Vec<usize> = (0..self.blocks.len()).collect();
        by_done.sort_by_key(|&b| span[b].0 .0);
        let mut best: Vec<[Option<usize>; 2]> = Vec::with_capacity(by_done.len());
        let mut top: [Option<usize>; 2] = [None, None];
        let reach = |b: usize| span[b].1 .0;
        for &b in &by_done {
            if top[0].is_none_or(|t| reach(b) > reach(t)) {
                top = [Some(b), top[0]];
            } else if top[1].is_none_or(|t| reach(b) > reach(t)) {
                top[1] = Some(b);
            }
            best.push(top);
        }
        for y in 0..self.blocks.len() {
            let before = by_done.partition_point(|&x| span[x].0 .0 < span[y].1 .0);
            if before == 0 {
                continue;
            }
            let [t0, t1] = best[before - 1];
            let x = if t0 == Some(y) { t1 } else { t0 };
            let Some(x) = x else { continue };
            if reach(x) > span[y].0 .0 {
                let o = Contradiction::Order {
                    done: span[x].0 .1,
                    begun: span[y].1 .1.expect("an invocation"),
                    done2: span[y].0 .1,
                    begun2: span[x].1 .1.expect("an invocation"),
                    chain: self
                        .chain_between(x, span[x].0 .1, span[x].1 .1)
                        .into_iter()
                        .chain(self.chain_between(y, span[y].0 .1, span[y].1 .1))
                        .collect(),
                };
                return Some(latest_last(o, calls));
            }
        }
        // A failed compare whose value was current throughout it.
        for (i, call) in calls.iter().enumerate() {
            let Role::Failed(Some(x)) = self.role[i] else {
                continue;
            };
            let k = &c[x];
            let mut after = k.begun;
            if let Some(s) = k.succ {
                let w = c[s].writer.expect("written");
                if inv(&calls[w]) > after.0 {
                    after = (inv(&calls[w]), Some(w));
                }
            }
            if k.done.0 < inv(call) && after.0 > resp(call) {
                return Some(Contradiction::FailedCompare {
                    cas: i,
                    done: k.done.1,
                    begun: after.1.expect("an invocation"),
                });
            }
        }
        None
    }

    /// The cas calls joining the values of `done` and `begun` within block `b`, when they differ.
    fn chain_between(&self, b: usize, done: Option<usize>, begun: Option<usize>) -> Vec<usize> {
        let members = &self.blocks[b];
        let pos = |call: Option<usize>| -> usize {
            let x = match call {
                None => 0,
                Some(i) => match self.role[i] {
                    Role::Read(x) | Role::Writer(x) => x,
                    _ => 0,
                },
            };
            members.iter().position(|&m| m == x).unwrap_or(0)
        };
        let (p, q) = (pos(done), pos(begun));
        let (lo, hi) = (p.min(q), p.max(q));
        members[lo + 1..=hi]
            .iter()
            .map(|&y| self.c[y].writer.expect("written"))
            .collect()
    }
}

/// The contradiction's calls, closed under what they need (see `Refutation::core`).
/// `needs[i]`: the value call `i` reads or compares against; `own[i]`: the value it writes.
fn core_of(
    c: &[Cluster],
    needs: &[Option<usize>],
    own: &[Option<usize>],
    calls: &[SearchCall<RegisterOp>],
    contradiction: &Contradiction,
) -> Vec<usize> {
    let mut core: BTreeSet<usize> = BTreeSet::new();
    let mut work = contradiction.calls();
    while let Some(i) = work.pop() {
        if !core.insert(i) {
            continue;
        }
        if let Some(x) = needs[i] {
            work.extend(c[x].writer);
        }
        if let (Some(x), None) = (own[i], calls[i].complete) {
            let observer = c[x].a_read.or(c[x].succ.and_then(|y| c[y].writer));
            work.extend(observer);
        }
    }
    core.into_iter().collect()
}

/// Name the pair whose second call began last second, so `stuck` is the latest to begin.
fn latest_last(o: Contradiction, calls: &[SearchCall<RegisterOp>]) -> Contradiction {
    match o {
        Contradiction::Order {
            done,
            begun,
            done2,
            begun2,
            chain,
        } if calls[begun].invoke > calls[begun2].invoke => Contradiction::Order {
            done: done2,
            begun: begun2,
            done2: done,
            begun2: begun,
            chain,
        },
        o => o,
    }
}

/// The value a linearization holds at some moment: an observed value, or an unobserved write.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cur {
    Value(usize),
    Filler(usize),
}

/// The lazy sweep that builds a linearization.
struct Sweep<'a> {
    calls: &'a [SearchCall<RegisterOp>],
    k: &'a Clusters,
    /// 0 not yet current, 1 current, 2 done.
    status: Vec<u8>,
    available: Vec<bool>,
    cur: Cur,
    pending_reads: Vec<Vec<usize>>,
    /// Failed compares against the current value, waiting for it to change.
    pending_failed: Vec<usize>,
    fillers: Vec<usize>,
    /// Blocks whose first write has begun and that have not started: (earliest completion, block).
    ready: BTreeSet<(i64, usize)>,
    block_done: Vec<i64>,
    /// How long each block holds the register at least.
    block_hold: Vec<i64>,
    placed: Vec<bool>,
    order: Vec<usize>,
}

impl<'a> Sweep<'a> {
    fn new(calls: &'a [SearchCall<RegisterOp>], k: &'a Clusters) -> Sweep<'a> {
        let n = k.c.len();
        let mut status = vec![0; n];
        status[0] = 1;
        let mut available = vec![false; n];
        available[0] = true;
        let block_done = k
            .blocks
            .iter()
            .map(|m| m.iter().map(|&x| k.c[x].done.0).min().unwrap_or(NEVER))
            .collect();
        // Until its last read begins, and until the cas calls that chain it on have begun.
        let block_hold = k
            .blocks
            .iter()
            .map(|m| {
                let reads = m.iter().map(|&x| k.c[x].last_read);
                let links = m[1..]
                    .iter()
                    .filter_map(|&x| k.c[x].writer)
                    .map(|w| inv(&calls[w]));
                reads.chain(links).max().unwrap_or(-1)
            })
            .collect();
        Sweep {
            calls,
            k,
            status,
            available,
            cur: Cur::Value(0),
            pending_reads: vec![Vec::new(); n],
            pending_failed: Vec::new(),
            fillers: Vec::new(),
            ready: BTreeSet::new(),
            block_done,
            block_hold,
            placed: vec![false; calls.len()],
            order: Vec::new(),
        }
    }

    fn state(&self) -> Value {
        match self.cur {
            Cur::Value(x) => self.k.c[x].value.clone(),
            Cur::Filler(w) => match &self.calls[w].op {
                RegisterOp::Write(v) => v.clone(),
                _ => Value::Nil,
            },
        }
    }

    fn place(&mut self, i: usize) {
        if !self.placed[i] {
            self.placed[i] = true;
            self.order.push(i);
        }
    }

    /// True when the current value may be replaced at moment `t`: every read of it has begun.
    fn released(&self, t: i64) -> bool {
        match self.cur {
            Cur::Value(x) => self.k.c[x].last_read <= t,
            Cur::Filler(_) => true,
        }
    }

    fn leave(&mut self) {
        if let Cur::Value(x) = self.cur {
            self.status[x] = 2;
        }
    }

    fn enter(&mut self, x: usize) {
        self.leave();
        self.status[x] = 1;
        if let Some(w) = self.k.c[x].writer {
            self.place(w);
        }
        for r in std::mem::take(&mut self.pending_reads[x]) {
            self.place(r);
        }
        for f in std::mem::take(&mut self.pending_failed) {
            self.place(f);
        }
        self.cur = Cur::Value(x);
        let b = self.k.c[x].block;
        if self.k.blocks[b][0] == x {
            self.ready.remove(&(self.block_done[b], b));
        }
    }

    /// Replace the current value by its chain's next one.
    fn step_chain(&mut self, t: i64) -> bool {
        let Cur::Value(x) = self.cur else {
            return false;
        };
        let Some(y) = self.k.c[x].succ else {
            return false;
        };
        if !self.available[y] || !self.released(t) {
            return false;
        }
        self.enter(y);
        true
    }

    fn has_succ(&self) -> bool {
        matches!(self.cur, Cur::Value(x) if self.k.c[x].succ.is_some())
    }

    /// Finish the current chain and make the register free to take any value.
    fn free(&mut self, t: i64) -> bool {
        while self.has_succ() {
            if !self.step_chain(t) {
                return false;
            }
        }
        self.released(t)
    }

    /// Whether block `b` can start and finish at moment `t`.
    fn instant(&self, b: usize, t: i64) -> bool {
        self.k.blocks[b]
            .iter()
            .all(|&x| self.available[x] && self.status[x] == 0 && self.k.c[x].last_read <= t)
    }

    /// Run a whole block at moment `t`, from a free register.
    fn run_block(&mut self, b: usize, t: i64) -> bool {
        self.enter(self.k.blocks[b][0]);
        self.free(t)
    }

    /// Before a block that will hold the register until `hold`, run the ready blocks that must
    /// complete before then and can run now.
    fn run_due_before(&mut self, hold: i64, t: i64, except: usize) -> bool {
        let due: Vec<usize> = self
            .ready
            .iter()
            .take_while(|&&(d, _)| d < hold)
            .map(|&(_, b)| b)
            .filter(|&b| b != except)
            .collect();
        for b in due {
            if self.instant(b, t) && !self.run_block(b, t) {
                return false;
            }
        }
        true
    }

    /// Make value `x` current at moment `t`.
    fn go_to(&mut self, x: usize, t: i64) -> bool {
        if self.cur == Cur::Value(x) {
            return true;
        }
        if self.status[x] != 0 || !self.available[x] {
            return false;
        }
        let b = self.k.c[x].block;
        if let Cur::Value(y) = self.cur {
            if self.k.c[y].block == b {
                while self.cur != Cur::Value(x) {
                    if !self.step_chain(t) {
                        return false;
                    }
                }
                return true;
            }
        }
        let head = self.k.blocks[b][0];
        if self.status[head] != 0 || !self.available[head] || !self.free(t) {
            return false;
        }
        if !self.run_due_before(self.block_hold[b], t, b) || !self.released(t) {
            return false;
        }
        self.enter(head);
        while self.cur != Cur::Value(x) {
            if !self.step_chain(t) {
                return false;
            }
        }
        true
    }

    /// Replace the current value at moment `t`, because a failed compare against it completes next.
    fn escape(&mut self, t: i64) -> bool {
        if self.has_succ() {
            return self.step_chain(t);
        }
        if !self.released(t) {
            return false;
        }
        if let Some(b) = self
            .ready
            .iter()
            .map(|&(_, b)| b)
            .find(|&b| self.instant(b, t))
        {
            return self.run_block(b, t);
        }
        if let Some(w) = self.fillers.pop() {
            self.leave();
            self.place(w);
            self.cur = Cur::Filler(w);
            for f in std::mem::take(&mut self.pending_failed) {
                self.place(f);
            }
            return true;
        }
        if let Some(&(_, b)) = self.ready.iter().next() {
            return self.go_to(self.k.blocks[b][0], t);
        }
        false
    }

    fn invoked(&mut self, i: usize) -> bool {
        match self.k.role[i] {
            Role::Read(x) => {
                if self.cur == Cur::Value(x) {
                    self.place(i);
                } else if self.status[x] == 2 {
                    return false;
                } else {
                    self.pending_reads[x].push(i);
                }
            }
            Role::Failed(Some(x)) if self.cur == Cur::Value(x) => self.pending_failed.push(i),
            Role::Failed(_) => self.place(i),
            Role::Writer(x) => {
                self.available[x] = true;
                let b = self.k.c[x].block;
                if self.k.blocks[b][0] == x {
                    self.ready.insert((self.block_done[b], b));
                }
            }
            Role::Filler => self.fillers.push(i),
            Role::Dropped => {}
        }
        true
    }

    /// Call `i` completes right after moment `t` and has not been placed: place it now.
    fn due(&mut self, i: usize, t: i64) -> bool {
        let ok = match self.k.role[i] {
            Role::Read(x) | Role::Writer(x) => self.go_to(x, t),
            Role::Failed(_) => self.escape(t),
            Role::Filler | Role::Dropped => false,
        };
        ok && self.placed[i]
    }

    fn run(&mut self) -> bool {
        let mut events: Vec<(i64, bool, usize)> = Vec::with_capacity(self.calls.len() * 2);
        for (i, c) in self.calls.iter().enumerate() {
            events.push((inv(c), false, i));
            if let Some(p) = c.complete {
                events.push((p as i64, true, i));
            }
        }
        events.sort_unstable();
        for (k, &(t, is_return, i)) in events.iter().enumerate() {
            if is_return {
                if !self.placed[i] {
                    return false;
                }
            } else if !self.invoked(i) {
                return false;
            }
            if let Some(&(_, true, j)) = events.get(k + 1) {
                if !self.placed[j] && !self.due(j, t) {
                    return false;
                }
            }
        }
        // Values observed only by calls of unknown outcome, never forced: run what is left.
        let end = events.last().map_or(0, |e| e.0) + 1;
        let left: Vec<usize> = (0..self.k.blocks.len())
            .filter(|&b| self.status[self.k.blocks[b][0]] == 0)
            .collect();
        for b in left {
            let last = *self.k.blocks[b].last().expect("a block has values");
            if !self.go_to(last, end) {
                return false;
            }
        }
        self.calls
            .iter()
            .enumerate()
            .all(|(i, c)| c.complete.is_none() || self.placed[i])
    }
}

/// Relaxed writes no kept call observes, which a shrunk history can leave out: with no failed
/// compare kept, an unknown-outcome write whose value nothing reads or compares against changes
/// no verdict (take it out of any linearization and the register holds the previous value until
/// the next write, which nothing between can notice). Values need not be unique.
pub fn unobserved(
    _initial: &Value,
    calls: &[SearchCall<RegisterOp>],
    kept: &[bool],
    relaxed: &[bool],
) -> Vec<bool> {
    let none = vec![false; calls.len()];
    let mut observed: BTreeSet<&Value> = BTreeSet::new();
    // The relaxed cas: (compared value, value written).
    let mut relaxed_cas: Vec<(&Value, &Value)> = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        if !kept[i] && !relaxed[i] {
            continue;
        }
        match &c.op {
            RegisterOp::CasFailed(_) if kept[i] => return none,
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) if kept[i] => {
                observed.insert(v);
            }
            RegisterOp::Cas(from, v) => relaxed_cas.push((from, v)),
            _ => {}
        }
    }
    // A relaxed cas whose value is observed must have happened: its compare's value is observed.
    let mut grew = !relaxed_cas.is_empty();
    while grew {
        grew = false;
        for &(from, v) in &relaxed_cas {
            if observed.contains(v) && observed.insert(from) {
                grew = true;
            }
        }
    }
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| match &c.op {
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => relaxed[i] && !observed.contains(v),
            _ => false,
        })
        .collect()
}

/// Replay `order` against a register: each op allowed in turn, and the order a linearization
/// (`fits_real_time`).
fn replays(initial: &Value, calls: &[SearchCall<RegisterOp>], order: &[usize]) -> bool {
    let mut state = initial;
    for &i in order {
        match &calls[i].op {
            RegisterOp::Read(v) if v != state => return false,
            RegisterOp::Cas(a, _) if a != state => return false,
            RegisterOp::CasFailed(a) if a == state => return false,
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => state = v,
            _ => {}
        }
    }
    fits_real_time(calls, order)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: RegisterOp, invoke: u64, complete: Option<u64>) -> SearchCall<RegisterOp> {
        SearchCall {
            op,
            invoke,
            complete,
        }
    }

    fn w(v: i64) -> RegisterOp {
        RegisterOp::Write(Value::Int(v))
    }

    fn r(v: i64) -> RegisterOp {
        RegisterOp::Read(Value::Int(v))
    }

    #[test]
    fn stale_read_is_an_order_contradiction() {
        let calls = vec![
            call(w(1), 0, Some(1)),
            call(w(2), 2, Some(3)),
            call(r(1), 4, Some(5)),
        ];
        let Some(Decision::Invalid(Refutation { contradiction, .. })) = decide(&Value::Nil, &calls)
        else {
            panic!("not invalid");
        };
        assert_eq!(contradiction.stuck(), 2);
        assert_eq!(contradiction.calls(), vec![0, 1, 2]);
    }

    #[test]
    fn concurrent_writes_and_reads_are_valid() {
        let calls = vec![
            call(w(1), 0, Some(5)),
            call(w(2), 1, Some(6)),
            call(r(2), 2, Some(7)),
            call(r(1), 8, Some(9)),
        ];
        // w2, r2, then w1, r1.
        let Some(Decision::Valid { order }) = decide(&Value::Nil, &calls) else {
            panic!("not valid");
        };
        assert!(replays(&Value::Nil, &calls, &order));
    }

    #[test]
    fn repeated_values_are_left_to_the_search() {
        let calls = vec![call(w(1), 0, Some(1)), call(w(1), 2, Some(3))];
        assert!(decide(&Value::Nil, &calls).is_none());
    }
}
