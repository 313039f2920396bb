//! The append workload (Elle's list-append): transactions of 1 to `max_txn_length` micro-ops,
//! each an append of a unique value to a key's list or a read of the list, over `keys` keys at a
//! time. A key is retired after about `writes_per_key` appends, all clients together, and a fresh
//! one takes its place (`a3`, then `a3.1` …), so lists stay short however long the run. Checked
//! by the transactional checker (`list-append`) against `checker.consistency`.

use crate::settings::{self, Common, Settings, SettingsError};
use crate::{Generator, Op, Workload};
use ferret_checkers::Value;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppendWorkload {
    pub keys: usize,
    pub max_txn_length: usize,
    /// Appends to a key before it is retired, all clients together.
    pub writes_per_key: u64,
    pub concurrency: usize,
    /// The newest generation each key reached, so the final reads cover every key used.
    pub generations: Arc<Vec<AtomicU64>>,
}

impl AppendWorkload {
    pub fn new(
        keys: usize,
        max_txn_length: usize,
        writes_per_key: u64,
        concurrency: usize,
    ) -> Self {
        AppendWorkload {
            keys: keys.max(1),
            max_txn_length: max_txn_length.max(1),
            writes_per_key: writes_per_key.max(1),
            concurrency: concurrency.max(1),
            generations: Arc::new((0..keys.max(1)).map(|_| AtomicU64::new(0)).collect()),
        }
    }

    /// Key `i` in generation `g`: `a3`, then `a3.1`, `a3.2`, …
    pub fn key_name(i: usize, g: u64) -> String {
        if g == 0 {
            format!("a{i}")
        } else {
            format!("a{i}.{g}")
        }
    }
}

fn mop(f: &str, key: String, v: Value) -> Value {
    Value::List(vec![Value::from(f), Value::Str(key), v])
}

impl Workload for AppendWorkload {
    fn name(&self) -> &'static str {
        "append"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        Box::new(AppendGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed ^ slot.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            worker: slot,
            workers: self.concurrency as u64,
            written: 0,
            keys: self.keys,
            max_len: self.max_txn_length,
            share: (self.writes_per_key / self.concurrency as u64).max(1),
            appended: vec![0; self.keys],
            generations: self.generations.clone(),
        })
    }

    /// Every key used, read once more, a key per transaction.
    fn final_ops(&self) -> Vec<Op> {
        (0..self.keys)
            .flat_map(|k| {
                let newest = self.generations[k].load(Ordering::Relaxed);
                (0..=newest).map(move |g| {
                    Op::new(
                        "txn",
                        "",
                        Value::List(vec![mop("r", Self::key_name(k, g), Value::Nil)]),
                    )
                })
            })
            .collect()
    }

    fn model(&self) -> &'static str {
        "list-append"
    }

    fn ops(&self) -> &'static [&'static str] {
        &["txn"]
    }

    fn keys_fixed(&self) -> bool {
        false
    }
}

/// One worker's transactions: a pure function of the run's seed and the worker's number.
pub struct AppendGenerator {
    rng: ChaCha8Rng,
    worker: u64,
    /// Appended values are `worker + workers * n`: unique without coordination, and short.
    workers: u64,
    written: u64,
    keys: usize,
    max_len: usize,
    /// This worker's appends per key generation, and its appends to each key so far.
    share: u64,
    appended: Vec<u64>,
    generations: Arc<Vec<AtomicU64>>,
}

impl Generator for AppendGenerator {
    fn next_op(&mut self) -> Op {
        let n = self.rng.random_range(1..=self.max_len);
        let mut mops = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.rng.random_range(0..self.keys);
            let g = self.appended[k] / self.share;
            let key = AppendWorkload::key_name(k, g);
            if self.rng.random_bool(0.5) {
                mops.push(mop("r", key, Value::Nil));
            } else {
                self.appended[k] += 1;
                self.generations[k].fetch_max(g, Ordering::Relaxed);
                self.written += 1;
                let v = Value::Int((self.worker + self.workers * self.written) as i64);
                mops.push(mop("append", key, v));
            }
        }
        Op::new("txn", "", Value::List(mops))
    }
}

/// `workload:` for `kind: append`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppendSettings {
    /// Keys in use at a time.
    pub keys: usize,
    /// Micro-ops per transaction, at most (at least one).
    pub max_txn_length: usize,
    /// Appends to a key, all clients together, before it is retired for a fresh one.
    pub writes_per_key: u64,
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "concurrency")]
    _concurrency: IgnoredAny,
    #[serde(rename = "rate")]
    _rate: IgnoredAny,
}

impl Default for AppendSettings {
    fn default() -> Self {
        AppendSettings {
            keys: 8,
            max_txn_length: 4,
            writes_per_key: 32,
            _kind: IgnoredAny,
            _concurrency: IgnoredAny,
            _rate: IgnoredAny,
        }
    }
}

impl Settings for AppendSettings {
    fn validate(&self, _: &Common) -> Result<(), SettingsError> {
        settings::count(self.keys, "workload.keys", (1, 10_000))?;
        settings::count(self.max_txn_length, "workload.max_txn_length", (1, 64))?;
        settings::count(
            self.writes_per_key as usize,
            "workload.writes_per_key",
            (1, 100_000),
        )
    }

    fn workload(&self, common: &Common) -> Box<dyn Workload> {
        Box::new(AppendWorkload::new(
            self.keys,
            self.max_txn_length,
            self.writes_per_key,
            common.concurrency,
        ))
    }

    fn describe(&self) -> String {
        format!(
            "append workload: transactions of 1 to {} micro-ops over {} keys at a time, each \
             retired after {} appends",
            self.max_txn_length, self.keys, self.writes_per_key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_are_reproducible_with_unique_appends_and_keys_rotate() {
        let w = AppendWorkload::new(2, 4, 8, 2);
        let (mut a, mut b) = (w.generator(3, 0), w.generator(3, 0));
        let mut c = w.generator(3, 1);
        let ta: Vec<Op> = (0..100).map(|_| a.next_op()).collect();
        let tb: Vec<Op> = (0..100).map(|_| b.next_op()).collect();
        assert_eq!(ta, tb);
        let tc: Vec<Op> = (0..100).map(|_| c.next_op()).collect();
        let mut seen = std::collections::HashSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for op in ta.iter().chain(&tc) {
            assert_eq!(op.f, "txn");
            let mops = op.value.as_list().unwrap();
            assert!((1..=4).contains(&mops.len()));
            for m in mops {
                let [f, k, v] = m.as_list().unwrap() else {
                    panic!("{m}")
                };
                keys.insert(k.as_str().unwrap().to_string());
                if f.as_str() == Some("append") {
                    assert!(seen.insert(v.clone()), "{v} appended twice");
                } else {
                    assert!(v.is_nil());
                }
            }
        }
        // 8 appends per key over 2 workers: each moves on after 4 of its own.
        assert!(keys.contains("a0.1") && keys.contains("a1.2"), "{keys:?}");
        let finals = w.final_ops();
        assert!(finals.len() > 4 && finals.iter().all(|o| o.f == "txn"));
    }
}
