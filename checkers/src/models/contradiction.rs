//! Why no linearization exists, as the deciders find it: a handful of shapes, each in words.

use crate::value::Value;

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
