//! The register workload: read / write / cas over many independent keys, every written value
//! unique per key, so checking is fast and anomalies are readable. With key rotation, a key is
//! retired after about `key_ops` ops and a fresh one takes its place (`k3`, then `k3.1`, `k3.2`
//! …), so a long run still yields short per-key histories (Jepsen's independent generator).

use crate::settings::{self, Common, Settings, SettingsError};
use crate::{Completion, Generator, Op, Workload};
use ferret_checkers::{EventType, Value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Fractions of each op; they need not sum to 1.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    pub read: f64,
    pub write: f64,
    pub cas: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            read: 0.5,
            write: 0.3,
            cas: 0.2,
        }
    }
}

/// Read / write / cas over `keys` independent keys, in the proportions of `mix`.
#[derive(Clone, Debug)]
pub struct RegisterWorkload {
    pub keys: usize,
    pub mix: Mix,
    /// Retire a key after about this many ops on it, all clients together (0: never).
    pub key_ops: u64,
    /// Client slots: each does about 1/concurrency of a key's ops.
    pub concurrency: usize,
    /// The newest generation each key reached, so the final reads cover every key used.
    pub generations: Arc<Vec<AtomicU64>>,
}

impl RegisterWorkload {
    pub fn new(keys: usize, mix: Mix, key_ops: u64, concurrency: usize) -> Self {
        RegisterWorkload {
            keys,
            mix,
            key_ops,
            concurrency: concurrency.max(1),
            generations: Arc::new((0..keys.max(1)).map(|_| AtomicU64::new(0)).collect()),
        }
    }
}

impl Workload for RegisterWorkload {
    fn name(&self) -> &'static str {
        "register"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        let mut g = RegisterGenerator::new(seed, slot, self.keys, self.mix);
        if self.key_ops > 0 {
            // This slot's share of a key's ops before the key is retired.
            g.share = (self.key_ops / self.concurrency as u64).max(1);
            g.generations = Some(self.generations.clone());
        }
        Box::new(g)
    }

    /// Every key used read once more: each generation of each key.
    fn final_ops(&self) -> Vec<Op> {
        (0..self.keys.max(1))
            .flat_map(|k| {
                let newest = self.generations[k].load(Ordering::Relaxed);
                (0..=newest)
                    .map(move |g| Op::new("read", RegisterGenerator::key_name_in(k, g), Value::Nil))
            })
            .collect()
    }

    fn ops(&self) -> &'static [&'static str] {
        &["read", "write", "cas"]
    }

    /// Rotated keys come and go: the newest may see only an op or two before the end.
    fn keys_fixed(&self) -> bool {
        self.key_ops == 0
    }

    fn model(&self) -> &'static str {
        if self.mix.cas > 0.0 {
            "cas-register"
        } else {
            "register"
        }
    }
}

/// The op stream of one worker: a pure function of the run's seed and the worker's number, so a
/// run's schedule is reproducible from `--seed`.
pub struct RegisterGenerator {
    rng: ChaCha8Rng,
    worker: u64,
    written: u64,
    keys: usize,
    mix: Mix,
    /// Last value this worker wrote or saw per key: what its cas compares against.
    last: Vec<Value>,
    /// With key rotation: this worker's ops per key generation, its ops on each key so far,
    /// and the shared newest generations.
    share: u64,
    done: Vec<u64>,
    generations: Option<Arc<Vec<AtomicU64>>>,
}

/// Written values are `worker * VALUE_STRIDE + n`: unique across workers without coordination.
pub const VALUE_STRIDE: u64 = 1_000_000_000;

impl RegisterGenerator {
    pub fn new(seed: u64, worker: u64, keys: usize, mix: Mix) -> Self {
        RegisterGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed ^ worker.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            worker,
            written: 0,
            keys: keys.max(1),
            mix,
            last: vec![Value::Nil; keys.max(1)],
            share: u64::MAX,
            done: vec![0; keys.max(1)],
            generations: None,
        }
    }

    pub fn key_name(i: usize) -> String {
        format!("k{i}")
    }

    /// Key `i` in generation `g`: `k3`, then `k3.1`, `k3.2`, …
    pub fn key_name_in(i: usize, g: u64) -> String {
        if g == 0 {
            Self::key_name(i)
        } else {
            format!("k{i}.{g}")
        }
    }

    /// The generation this worker is in for key `k`, noted in the shared newest generations.
    fn generation(&mut self, k: usize) -> u64 {
        let g = self.done[k] / self.share;
        self.done[k] += 1;
        if let Some(gens) = &self.generations {
            gens[k].fetch_max(g, Ordering::Relaxed);
        }
        if self.done[k] > 1 && (self.done[k] - 1).is_multiple_of(self.share) {
            // A fresh key holds nothing yet.
            self.last[k] = Value::Nil;
        }
        g
    }

    /// `(key index, generation)` of a key name.
    fn parse_key(key: &str) -> Option<(usize, u64)> {
        let rest = key.strip_prefix('k')?;
        match rest.split_once('.') {
            Some((i, g)) => Some((i.parse().ok()?, g.parse().ok()?)),
            None => Some((rest.parse().ok()?, 0)),
        }
    }
}

impl Generator for RegisterGenerator {
    fn next_op(&mut self) -> Op {
        let k = self.rng.random_range(0..self.keys);
        let total = self.mix.read + self.mix.write + self.mix.cas;
        let roll = self.rng.random::<f64>() * if total > 0.0 { total } else { 1.0 };
        let g = self.generation(k);
        let key = Self::key_name_in(k, g);
        if roll < self.mix.read || total <= 0.0 {
            return Op::new("read", key, Value::Nil);
        }
        self.written += 1;
        let fresh = Value::Int((self.worker * VALUE_STRIDE + self.written) as i64);
        if roll < self.mix.read + self.mix.write {
            self.last[k] = fresh.clone();
            Op::new("write", key, fresh)
        } else {
            let from = self.last[k].clone();
            Op::new("cas", key, Value::List(vec![from, fresh]))
        }
    }

    /// What an op returned, so later cas ops compare against fresher values.
    fn observe(&mut self, op: &Op, completion: &Completion) {
        if completion.kind != EventType::Ok {
            return;
        }
        let result = &completion.value;
        let Some((k, g)) = Self::parse_key(&op.key) else {
            return;
        };
        // Only what the worker's current key says matters to its next cas.
        if k >= self.last.len() || g != self.done[k].saturating_sub(1) / self.share {
            return;
        }
        match op.f {
            "read" if !result.is_nil() => self.last[k] = result.clone(),
            "cas" => {
                if let Some([_, to]) = result.as_list() {
                    self.last[k] = to.clone();
                }
            }
            _ => {}
        }
    }
}

/// The most keys a register or watch workload may use: each key keeps state in the workload.
pub const KEYS: (usize, usize) = (1, 1_000_000);

/// `workload:` of a register workload.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterSettings {
    /// Independent keys.
    pub keys: usize,
    /// Retire a key after about this many ops on it and start a fresh one (`k3.1`, `k3.2`, …),
    /// so long runs yield short per-key histories; 0 never retires.
    pub key_ops: u64,
    /// Shares of read, write and cas.
    pub mix: Mix,
    // Read by the harness for every workload.
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "concurrency")]
    _concurrency: IgnoredAny,
    #[serde(rename = "rate")]
    _rate: IgnoredAny,
}

impl Default for RegisterSettings {
    fn default() -> Self {
        RegisterSettings {
            keys: 20,
            key_ops: 0,
            mix: Mix::default(),
            _kind: IgnoredAny,
            _concurrency: IgnoredAny,
            _rate: IgnoredAny,
        }
    }
}

impl RegisterSettings {
    fn shares(&self) -> [(f64, &'static str); 3] {
        let m = self.mix;
        [(m.read, "read"), (m.write, "write"), (m.cas, "cas")]
    }
}

impl Settings for RegisterSettings {
    fn validate(&self, _: &Common) -> Result<(), SettingsError> {
        settings::count(self.keys, "workload.keys", KEYS)?;
        for (v, name) in self.shares() {
            if !(v.is_finite() && v >= 0.0) {
                return Err(SettingsError::new(
                    format!("workload.mix.{name}"),
                    format!("must be a share of 0 or more, not {}", settings::show(v)),
                ));
            }
        }
        let sum: f64 = self.shares().iter().map(|s| s.0).sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(SettingsError::new(
                "workload.mix",
                "must give some op a share above 0",
            ));
        }
        Ok(())
    }

    fn workload(&self, common: &Common) -> Box<dyn Workload> {
        Box::new(RegisterWorkload::new(
            self.keys,
            self.mix,
            self.key_ops,
            common.concurrency,
        ))
    }

    fn describe(&self) -> String {
        format!("register workload over {} keys", self.keys)
    }

    fn check_ops(&self, _: &Common, supports: &dyn Fn(&str) -> bool) -> Result<(), SettingsError> {
        for (share, f) in self.shares() {
            if share > 0.0 && !supports(f) {
                return Err(SettingsError::new(
                    format!("workload.mix.{f}"),
                    format!(
                        "is {share} but client.ops has no {f}{}",
                        if f == "cas" {
                            " (a cas the service can only do as read-then-write is not a cas: \
                             set workload.mix.cas to 0)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workload;

    #[test]
    fn keys_rotate_after_their_share_of_ops_and_final_reads_cover_them_all() {
        // 20 ops per key over 2 slots: each slot moves on after 10 of its ops on a key.
        let w = RegisterWorkload::new(1, Mix::default(), 20, 2);
        let mut a = w.generator(5, 0);
        let keys: Vec<String> = (0..35).map(|_| a.next_op().key).collect();
        assert!(keys[..10].iter().all(|k| k == "k0"), "{keys:?}");
        assert!(keys[10..20].iter().all(|k| k == "k0.1"), "{keys:?}");
        assert_eq!(keys[34], "k0.3");
        // A cas on a fresh key compares against "absent".
        let mut b = w.generator(6, 1);
        for _ in 0..10 {
            let op = b.next_op();
            b.observe(&op, &Completion::ok(op.value.clone()));
        }
        let first_fresh = (0..10)
            .map(|_| b.next_op())
            .find(|op| op.f == "cas")
            .expect("a cas on k0.1");
        assert_eq!(first_fresh.key, "k0.1");
        assert_eq!(first_fresh.value.as_list().unwrap()[0], Value::Nil);
        let finals: Vec<String> = w.final_ops().into_iter().map(|o| o.key).collect();
        assert_eq!(finals, ["k0", "k0.1", "k0.2", "k0.3"]);
        // Without rotation, one key forever.
        let w = RegisterWorkload::new(2, Mix::default(), 0, 2);
        let mut g = w.generator(5, 0);
        assert!((0..500).all(|_| ["k0", "k1"].contains(&g.next_op().key.as_str())));
        assert_eq!(w.final_ops().len(), 2);
    }

    #[test]
    fn same_seed_same_schedule_and_unique_values() {
        let mut a = RegisterGenerator::new(7, 3, 10, Mix::default());
        let mut b = RegisterGenerator::new(7, 3, 10, Mix::default());
        let mut c = RegisterGenerator::new(7, 4, 10, Mix::default());
        let ops_a: Vec<_> = (0..200).map(|_| a.next_op()).collect();
        let ops_b: Vec<_> = (0..200).map(|_| b.next_op()).collect();
        let ops_c: Vec<_> = (0..200).map(|_| c.next_op()).collect();
        assert_eq!(ops_a, ops_b);
        assert_ne!(ops_a, ops_c);
        let mut written = std::collections::HashSet::new();
        for op in ops_a.iter().chain(&ops_c) {
            let v = match op.f {
                "write" => op.value.clone(),
                "cas" => op.value.as_list().unwrap()[1].clone(),
                _ => continue,
            };
            assert!(written.insert(v), "value written twice");
        }
        assert!(ops_a.iter().any(|o| o.f == "cas") && ops_a.iter().any(|o| o.f == "read"));
    }
}
