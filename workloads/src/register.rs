//! The register workload: read / write / cas over many independent keys, every written value
//! unique per key, so checking is fast and anomalies are readable.

use crate::{Completion, Generator, Op, Workload};
use ferret_checkers::{EventType, Value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Fractions of each op; they need not sum to 1.
#[derive(Clone, Copy, Debug)]
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
#[derive(Clone, Copy, Debug)]
pub struct RegisterWorkload {
    pub keys: usize,
    pub mix: Mix,
}

impl Workload for RegisterWorkload {
    fn name(&self) -> &'static str {
        "register"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        Box::new(RegisterGenerator::new(seed, slot, self.keys, self.mix))
    }

    /// Every key read once more.
    fn final_ops(&self) -> Vec<Op> {
        (0..self.keys)
            .map(|k| Op::new("read", RegisterGenerator::key_name(k), Value::Nil))
            .collect()
    }

    fn ops(&self) -> &'static [&'static str] {
        &["read", "write", "cas"]
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
        }
    }

    pub fn key_name(i: usize) -> String {
        format!("k{i}")
    }
}

impl Generator for RegisterGenerator {
    fn next_op(&mut self) -> Op {
        let k = self.rng.random_range(0..self.keys);
        let total = self.mix.read + self.mix.write + self.mix.cas;
        let roll = self.rng.random::<f64>() * if total > 0.0 { total } else { 1.0 };
        let key = Self::key_name(k);
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
        let Some(k) = op
            .key
            .strip_prefix('k')
            .and_then(|s| s.parse::<usize>().ok())
        else {
            return;
        };
        if k >= self.last.len() {
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

#[cfg(test)]
mod tests {
    use super::*;

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
