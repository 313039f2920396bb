//! Synthetic transactional histories from a simulated serializable store, for benchmarks and
//! tests: processes run transactions of a few micro-ops over a rotating set of keys (a key is
//! retired after a number of writes, as Jepsen's append workload does), each taking effect at
//! its completion, so the history is strictly serializable unless stale reads are asked for.

use crate::history::{Event, EventType, History, Location, Process};
use crate::txn::Datatype;
use crate::value::Value;
use ahash::AHashMap;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug)]
pub struct TxnSynthOptions {
    pub txns: usize,
    pub datatype: Datatype,
    /// Keys in use at any moment.
    pub keys: usize,
    /// Writes after which a key is retired for a fresh one.
    pub writes_per_key: usize,
    pub processes: usize,
    /// Micro-ops per transaction, at most.
    pub max_mops: usize,
    /// Fractions of transactions that fail (no effect) and of unknown outcome (effect or not).
    pub failed: f64,
    pub unknown: f64,
    /// Fraction of read-only transactions served from an older snapshot: serializable, not
    /// strictly.
    pub stale_reads: f64,
    pub seed: u64,
}

impl Default for TxnSynthOptions {
    fn default() -> Self {
        TxnSynthOptions {
            txns: 1000,
            datatype: Datatype::ListAppend,
            keys: 10,
            writes_per_key: 32,
            processes: 10,
            max_mops: 4,
            failed: 0.02,
            unknown: 0.02,
            stale_reads: 0.0,
            seed: 0,
        }
    }
}

type State = AHashMap<i64, Vec<i64>>;

/// A transaction being run: its micro-ops as (is a write, key, value).
type Running = Option<Vec<(bool, i64, i64)>>;

/// A history held in memory.
pub fn txn_history(o: &TxnSynthOptions) -> History {
    let mut events = Vec::with_capacity(o.txns * 2);
    txn_events(o, |e| events.push(e));
    History {
        events,
        warnings: Vec::new(),
    }
}

fn mop(f: &str, k: i64, v: Value) -> Value {
    Value::List(vec![Value::Str(f.into()), Value::Int(k), v])
}

/// The same history event by event, for histories too big to hold.
pub fn txn_events(o: &TxnSynthOptions, mut emit: impl FnMut(Event)) {
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let list = o.datatype == Datatype::ListAppend;
    let mut state: State = AHashMap::new();
    let mut snapshot: State = AHashMap::new();
    let mut active: Vec<i64> = (0..o.keys.max(1) as i64).collect();
    let mut next_key = active.len() as i64;
    let mut writes: AHashMap<i64, (usize, i64)> = AHashMap::new();
    // Per process slot: its id and the transaction it runs (its micro-ops as [f k v]).
    let mut slots: Vec<(i64, Running)> =
        (0..o.processes.max(1) as i64).map(|p| (p, None)).collect();
    let mut next_process = slots.len() as i64;
    let (mut index, mut done) = (0u64, 0usize);
    let mut event = |index: &mut u64, p: i64, kind: EventType, value: Value| {
        emit(Event {
            index: *index,
            time: Some(*index as i64 * 1000),
            process: Process::Client(p),
            kind,
            f: "txn".into(),
            key: None,
            value,
            error: None,
            node: None,
            location: Location::default(),
        });
        *index += 1;
    };
    let shown = |ops: &[(bool, i64, i64)], results: Option<&[Value]>| {
        Value::List(
            ops.iter()
                .enumerate()
                .map(|(i, &(w, k, v))| match (w, list) {
                    (true, true) => mop("append", k, Value::Int(v)),
                    (true, false) => mop("w", k, Value::Int(v)),
                    (false, _) => mop("r", k, results.map_or(Value::Nil, |r| r[i].clone())),
                })
                .collect(),
        )
    };
    while done < o.txns {
        let s = rng.random_range(0..slots.len());
        let (p, txn) = &mut slots[s];
        match txn.take() {
            None => {
                let n = rng.random_range(1..=o.max_mops.max(1));
                let ops: Vec<(bool, i64, i64)> = (0..n)
                    .map(|_| {
                        let k = active[rng.random_range(0..active.len())];
                        if rng.random_bool(0.5) {
                            let w = writes.entry(k).or_insert((0, 0));
                            w.0 += 1;
                            w.1 += 1;
                            let v = w.1;
                            if w.0 >= o.writes_per_key {
                                let i = active.iter().position(|&a| a == k).expect("active");
                                active[i] = next_key;
                                next_key += 1;
                            }
                            (true, k, v)
                        } else {
                            (false, k, 0)
                        }
                    })
                    .collect();
                event(&mut index, *p, EventType::Invoke, shown(&ops, None));
                *txn = Some(ops);
            }
            Some(ops) => {
                done += 1;
                let roll: f64 = rng.random();
                let read_only = ops.iter().all(|o| !o.0);
                if roll < o.failed {
                    event(&mut index, *p, EventType::Fail, shown(&ops, None));
                    continue;
                }
                let unknown = roll < o.failed + o.unknown;
                if unknown && rng.random_bool(0.5) {
                    event(&mut index, *p, EventType::Info, shown(&ops, None));
                    *p = next_process;
                    next_process += 1;
                    continue;
                }
                let stale = read_only && rng.random::<f64>() < o.stale_reads;
                let from = if stale { &snapshot } else { &state };
                let mut results = Vec::with_capacity(ops.len());
                let mut local: AHashMap<i64, Vec<i64>> = AHashMap::new();
                for &(w, k, v) in &ops {
                    let cur = local
                        .entry(k)
                        .or_insert_with(|| from.get(&k).cloned().unwrap_or_default());
                    if w {
                        if list {
                            cur.push(v);
                        } else {
                            *cur = vec![v];
                        }
                        results.push(Value::Nil);
                    } else if list {
                        results.push(Value::List(cur.iter().map(|&x| Value::Int(x)).collect()));
                    } else {
                        results.push(cur.last().map_or(Value::Nil, |&x| Value::Int(x)));
                    }
                }
                if !stale {
                    for (k, v) in local {
                        state.insert(k, v);
                    }
                }
                if rng.random_bool(0.02) {
                    snapshot = state.clone();
                }
                if unknown {
                    event(&mut index, *p, EventType::Info, shown(&ops, None));
                    *p = next_process;
                    next_process += 1;
                } else {
                    event(&mut index, *p, EventType::Ok, shown(&ops, Some(&results)));
                }
            }
        }
    }
}
