//! Synthetic histories from a simulated linearizable register store, for benchmarks and tests.
//!
//! Processes invoke read / write / cas on random keys; each op takes effect at one moment inside
//! its interval, against a real map of registers, so the history is linearizable by construction
//! (unless anomalies are asked for). Unknown outcomes take effect or not at random and retire
//! their process, as in a real run.

use crate::history::{Event, EventType, History, Location, Process};
use crate::value::Value;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Completed-or-abandoned calls to generate.
    pub calls: usize,
    pub keys: usize,
    /// Concurrent processes.
    pub processes: usize,
    /// Fraction of calls with an unknown outcome.
    pub unknown: f64,
    /// Fraction of reads that return the value before the current one (a stale read).
    pub stale_reads: f64,
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            calls: 1000,
            keys: 10,
            processes: 10,
            unknown: 0.03,
            stale_reads: 0.0,
            seed: 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Invoke,
    TakeEffect,
    Complete,
}

#[derive(Clone)]
struct Pending {
    process: i64,
    f: &'static str,
    key: usize,
    value: Value,
    result: Option<(EventType, Value)>,
    unknown: bool,
}

/// Generate a cas-register history over `keys` keys.
pub fn register_history(opts: &SynthOptions) -> History {
    collected(opts, |emit| register_events(opts, emit))
}

/// A history of the events `generate` emits.
fn collected(opts: &SynthOptions, generate: impl FnOnce(&mut dyn FnMut(Event))) -> History {
    let mut events = Vec::with_capacity(opts.calls * 2);
    generate(&mut |e| events.push(e));
    History {
        events,
        warnings: Vec::new(),
    }
}

/// Generate the same history event by event, for histories too big to hold.
pub fn register_events(opts: &SynthOptions, emit: impl FnMut(Event)) {
    let mut registers = Registers {
        values: vec![(Value::Nil, Value::Nil); opts.keys.max(1)],
        last: vec![0i64; opts.keys.max(1)],
    };
    simulate(opts, &mut registers, emit);
}

/// Generate a grow-only set history over `keys` sets: adds of fresh integers and, a `reads`
/// fraction of the time, reads of the whole set. An unknown-outcome add takes effect half the
/// time; a stale read (`stale_reads`) misses the latest element added.
pub fn set_history(opts: &SynthOptions, reads: f64) -> History {
    let mut sets = Sets {
        sets: vec![Default::default(); opts.keys.max(1)],
        next: 0,
        reads,
    };
    collected(opts, |emit| simulate(opts, &mut sets, emit))
}

/// Generate a FIFO queue history over `keys` queues: enqueues of fresh integers and, a
/// `dequeues` fraction of the time, dequeues (nil when the queue is empty). Enqueues have
/// unknown outcomes, and with `lost` dequeues too (whose value no reply tells); one takes effect
/// half the time. A stale dequeue (`stale_reads`) takes the element behind the head.
pub fn queue_history(opts: &SynthOptions, dequeues: f64, lost: bool) -> History {
    let mut queues = Queues {
        queues: vec![Default::default(); opts.keys.max(1)],
        next: 0,
        dequeues,
        lost,
    };
    collected(opts, |emit| simulate(opts, &mut queues, emit))
}

/// What the simulated store holds, and how calls on it are chosen and take effect.
trait Store {
    /// Whether a call of `f` may have an unknown outcome.
    fn may_be_unknown(&self, _f: &str) -> bool {
        true
    }
    /// The function and invocation value of a call on `key`.
    fn invoke(&mut self, rng: &mut ChaCha8Rng, key: usize) -> (&'static str, Value);
    /// The call taking effect (or, for an unknown outcome that does not happen, only its reply).
    fn apply(
        &mut self,
        rng: &mut ChaCha8Rng,
        p: &Pending,
        happens: bool,
        stale: f64,
    ) -> (EventType, Value);
}

struct Registers {
    /// Each key's current and previous value.
    values: Vec<(Value, Value)>,
    /// The last value written to each key.
    last: Vec<i64>,
}

impl Store for Registers {
    fn invoke(&mut self, rng: &mut ChaCha8Rng, key: usize) -> (&'static str, Value) {
        let roll: f64 = rng.random();
        if roll < 0.5 {
            ("read", Value::Nil)
        } else if roll < 0.8 {
            self.last[key] += 1;
            ("write", Value::Int(self.last[key]))
        } else {
            self.last[key] += 1;
            // Compare against what is current now: often still current when it applies.
            let from = self.values[key].0.clone();
            ("cas", Value::List(vec![from, Value::Int(self.last[key])]))
        }
    }

    fn apply(
        &mut self,
        rng: &mut ChaCha8Rng,
        p: &Pending,
        happens: bool,
        stale: f64,
    ) -> (EventType, Value) {
        let reg = &mut self.values[p.key];
        match (p.f, p.value.as_list()) {
            ("read", _) => {
                let stale = rng.random_bool(stale.clamp(0.0, 1.0));
                let v = if stale { reg.1.clone() } else { reg.0.clone() };
                (EventType::Ok, v)
            }
            ("cas", Some([from, to])) => {
                if happens && reg.0 == *from {
                    reg.1 = std::mem::replace(&mut reg.0, to.clone());
                    (EventType::Ok, p.value.clone())
                } else {
                    // A compare that failed is an observation, as ferret's clients record it.
                    (EventType::Ok, Value::Bool(false))
                }
            }
            _ => {
                if happens {
                    reg.1 = std::mem::replace(&mut reg.0, p.value.clone());
                }
                (EventType::Ok, p.value.clone())
            }
        }
    }
}

/// Each key's set, in order of addition; the next element to add.
struct Sets {
    sets: Vec<Vec<i64>>,
    next: i64,
    reads: f64,
}

impl Store for Sets {
    fn invoke(&mut self, rng: &mut ChaCha8Rng, _key: usize) -> (&'static str, Value) {
        if rng.random_bool(self.reads.clamp(0.0, 1.0)) {
            ("read", Value::Nil)
        } else {
            self.next += 1;
            ("add", Value::Int(self.next))
        }
    }

    fn apply(
        &mut self,
        rng: &mut ChaCha8Rng,
        p: &Pending,
        happens: bool,
        stale: f64,
    ) -> (EventType, Value) {
        let set = &mut self.sets[p.key];
        if p.f == "read" {
            let stale = rng.random_bool(stale.clamp(0.0, 1.0));
            let seen = &set[..set.len() - usize::from(stale && !set.is_empty())];
            let mut v: Vec<Value> = seen.iter().map(|&x| Value::Int(x)).collect();
            v.sort_unstable();
            return (EventType::Ok, Value::Set(v));
        }
        if let (true, Value::Int(x)) = (happens, &p.value) {
            set.push(*x);
        }
        (EventType::Ok, p.value.clone())
    }
}

/// Each key's queue; the next element to enqueue.
struct Queues {
    queues: Vec<std::collections::VecDeque<i64>>,
    next: i64,
    dequeues: f64,
    /// Whether dequeues may have unknown outcomes.
    lost: bool,
}

impl Store for Queues {
    fn may_be_unknown(&self, f: &str) -> bool {
        f == "enqueue" || self.lost
    }

    fn invoke(&mut self, rng: &mut ChaCha8Rng, _key: usize) -> (&'static str, Value) {
        if rng.random_bool(self.dequeues.clamp(0.0, 1.0)) {
            ("dequeue", Value::Nil)
        } else {
            self.next += 1;
            ("enqueue", Value::Int(self.next))
        }
    }

    fn apply(
        &mut self,
        rng: &mut ChaCha8Rng,
        p: &Pending,
        happens: bool,
        stale: f64,
    ) -> (EventType, Value) {
        let queue = &mut self.queues[p.key];
        if p.f == "dequeue" {
            let behind = queue.len() >= 2 && rng.random_bool(stale.clamp(0.0, 1.0));
            let x = if behind {
                queue.remove(1)
            } else {
                queue.pop_front()
            };
            return (EventType::Ok, x.map_or(Value::Nil, Value::Int));
        }
        if let (true, Value::Int(x)) = (happens, &p.value) {
            queue.push_back(*x);
        }
        (EventType::Ok, p.value.clone())
    }
}

/// Run processes against `store`: each call invokes, takes effect at one moment, and completes
/// (or, for an unknown outcome, maybe never replies, and its process is retired).
fn simulate(opts: &SynthOptions, store: &mut impl Store, mut emit: impl FnMut(Event)) {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let keys = opts.keys.max(1);
    let mut heap: BinaryHeap<Reverse<(u64, Step, usize)>> = BinaryHeap::new();
    let mut slots: Vec<Option<Pending>> = vec![None; opts.processes.max(1)];
    let mut process_of_slot: Vec<i64> = (0..slots.len() as i64).collect();
    let mut next_process = slots.len() as i64;
    let mut emitted = 0u64;
    let mut invoked = 0usize;
    for slot in 0..slots.len() {
        heap.push(Reverse((rng.random_range(0..1000), Step::Invoke, slot)));
    }
    let mut push = |t: u64, p: &Pending, kind, value| {
        emitted += 1;
        emit(Event {
            index: emitted - 1,
            time: Some(t as i64),
            process: Process::Client(p.process),
            kind,
            f: p.f.into(),
            key: Some(Value::Int(p.key as i64)),
            value,
            error: None,
            node: None,
            location: Location::default(),
        })
    };
    while let Some(Reverse((t, step, slot))) = heap.pop() {
        match step {
            Step::Invoke => {
                if invoked >= opts.calls {
                    continue;
                }
                invoked += 1;
                let key = rng.random_range(0..keys);
                let (f, value) = store.invoke(&mut rng, key);
                let p = Pending {
                    process: process_of_slot[slot],
                    f,
                    key,
                    value: value.clone(),
                    result: None,
                    unknown: store.may_be_unknown(f)
                        && rng.random_bool(opts.unknown.clamp(0.0, 1.0)),
                };
                push(t, &p, EventType::Invoke, value);
                slots[slot] = Some(p);
                let effect = t + rng.random_range(1..50_000);
                heap.push(Reverse((effect, Step::TakeEffect, slot)));
            }
            Step::TakeEffect => {
                let Some(p) = slots[slot].as_mut() else {
                    continue;
                };
                // An unknown outcome takes effect half the time.
                let happens = !p.unknown || rng.random_bool(0.5);
                p.result = Some(store.apply(&mut rng, p, happens, opts.stale_reads));
                heap.push(Reverse((
                    t + rng.random_range(1..50_000),
                    Step::Complete,
                    slot,
                )));
            }
            Step::Complete => {
                let Some(p) = slots[slot].take() else {
                    continue;
                };
                let Some((kind, value)) = p.result.clone() else {
                    continue;
                };
                if p.unknown {
                    // Sometimes the reply never comes at all.
                    if rng.random_bool(0.5) {
                        push(t, &p, EventType::Info, p.value.clone());
                    }
                    process_of_slot[slot] = next_process;
                    next_process += 1;
                } else {
                    push(t, &p, kind, value);
                }
                heap.push(Reverse((
                    t + rng.random_range(0..2_000),
                    Step::Invoke,
                    slot,
                )));
            }
        }
    }
}

/// A copy of `history` with one read added that is stale beyond doubt: it begins after an
/// acknowledged write of another value completed, which itself began after the acknowledged write
/// of the value it returns completed. Placed near the middle; `None` when no such pair of writes
/// exists. Returns the history and the index of the stale read's invocation.
pub fn with_stale_read(history: &History) -> Option<(History, usize)> {
    let events = &history.events;
    let mid = events.len() / 2;
    // Acknowledged writes by completion position: (invoke position, completion position, event).
    let mut open: std::collections::HashMap<&Process, usize> = Default::default();
    let mut writes: Vec<(usize, usize)> = Vec::new();
    for (pos, e) in events.iter().enumerate().take(mid) {
        match e.kind {
            EventType::Invoke => {
                open.insert(&e.process, pos);
            }
            EventType::Ok if e.f == "write" => {
                if let Some(inv) = open.remove(&e.process) {
                    writes.push((inv, pos));
                }
            }
            _ => {
                open.remove(&e.process);
            }
        }
    }
    // The last acknowledged write before the middle, and one acknowledged before it began.
    let &(b_inv, _) = writes.last()?;
    let &(a_inv, _) = writes.iter().rev().find(|w| w.1 < b_inv)?;
    let a = &events[a_inv];
    let process = events
        .iter()
        .filter_map(|e| match e.process {
            Process::Client(p) => Some(p),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        + 1;
    let at = events[mid].time;
    let read = |kind, value| Event {
        index: 0,
        time: at,
        process: Process::Client(process),
        kind,
        f: "read".into(),
        key: a.key.clone(),
        value,
        error: None,
        node: None,
        location: Location::default(),
    };
    let mut out: Vec<Event> = Vec::with_capacity(events.len() + 2);
    out.extend_from_slice(&events[..=mid]);
    out.push(read(EventType::Invoke, Value::Nil));
    out.push(read(EventType::Ok, a.value.clone()));
    out.extend_from_slice(&events[mid + 1..]);
    for (i, e) in out.iter_mut().enumerate() {
        e.index = i as u64;
    }
    Some((
        History {
            events: out,
            warnings: Vec::new(),
        },
        mid + 1,
    ))
}

/// A copy of a set history with one read made stale beyond doubt: the first read invoked after
/// the middle that holds an element whose add was acknowledged before the read began loses that
/// element (the latest such). `None` when no read qualifies. Returns the history and the index
/// of the read's completion.
pub fn set_with_stale_read(history: &History) -> Option<(History, usize)> {
    let events = &history.events;
    let mid = events.len() / 2;
    let mut open: std::collections::HashMap<&Process, usize> = Default::default();
    // Elements whose add was acknowledged, with the position of the acknowledgement.
    let mut acked: std::collections::HashMap<&Value, usize> = Default::default();
    for (pos, e) in events.iter().enumerate() {
        match e.kind {
            EventType::Invoke => {
                open.insert(&e.process, pos);
            }
            EventType::Ok if e.f == "add" => {
                open.remove(&e.process);
                acked.insert(&e.value, pos);
            }
            EventType::Ok if e.f == "read" => {
                let Some(inv) = open.remove(&e.process) else {
                    continue;
                };
                let Value::Set(items) = &e.value else {
                    continue;
                };
                let latest = items
                    .iter()
                    .filter_map(|x| acked.get(x).map(|&p| (p, x)))
                    .filter(|&(p, _)| p < inv)
                    .max();
                if let (true, Some((_, x))) = (inv > mid, latest) {
                    let mut out = history.clone();
                    if let Value::Set(items) = &mut out.events[pos].value {
                        items.retain(|y| y != x);
                    }
                    return Some((out, pos));
                }
            }
            _ => {
                open.remove(&e.process);
            }
        }
    }
    None
}

/// A copy of a queue history with two dequeues out of order beyond doubt: the first two
/// acknowledged dequeues after the middle (the second the first that has such a partner) whose values' enqueues were acknowledged one before the
/// other began and both before the dequeues, the first dequeue completed before the second began,
/// trade their values. `None`
/// when no such pair exists. Returns the history and the completion index of the dequeue that
/// now returns the later value.
pub fn queue_with_swapped_dequeues(history: &History) -> Option<(History, usize)> {
    let events = &history.events;
    let mid = events.len() / 2;
    let mut open: std::collections::HashMap<&Process, usize> = Default::default();
    // Acknowledged enqueues: value → (invoke, completion).
    let mut enqueued: std::collections::HashMap<&Value, (usize, usize)> = Default::default();
    // The dequeues since the middle: (invoke, completion, their value's enqueue).
    let mut earlier: Vec<(usize, usize, (usize, usize))> = Vec::new();
    for (pos, e) in events.iter().enumerate() {
        match e.kind {
            EventType::Invoke => {
                open.insert(&e.process, pos);
            }
            EventType::Ok if e.f == "enqueue" => {
                if let Some(inv) = open.remove(&e.process) {
                    enqueued.insert(&e.value, (inv, pos));
                }
            }
            EventType::Ok if e.f == "dequeue" => {
                let Some(inv) = open.remove(&e.process) else {
                    continue;
                };
                let Some(&enq) = enqueued.get(&e.value) else {
                    continue;
                };
                if inv < mid {
                    continue;
                }
                let pair = earlier
                    .iter()
                    .find(|&&(inv_a, done, enq_a)| done < inv && enq_a.1 < enq.0 && enq.1 < inv_a);
                if let Some(&(_, done, _)) = pair {
                    let mut out = history.clone();
                    let a = out.events[done].value.clone();
                    out.events[done].value = std::mem::replace(&mut out.events[pos].value, a);
                    return Some((out, done));
                }
                earlier.push((inv, pos, enq));
            }
            _ => {
                open.remove(&e.process);
            }
        }
    }
    None
}
