//! The lock workload (Jepsen's lock-set, with the set kept in the system): a client takes a
//! lease-backed lock, reads a shared set, works for a while, writes the set back with its own
//! element added — unguarded, trusting the lock — and releases. If the lock is not exclusive,
//! acknowledged elements are lost. Checked by the lock-set checker (`checkers::lockset`).

use crate::clients::etcd::EtcdClient;
use crate::lease::check_ttl;
use crate::settings::{self, Common, Settings, SettingsError};
use crate::{Completion, Generator, Op, Workload};
use ferret_checkers::{EventType, Value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::time::Duration;

/// The lock's name and the set's key.
pub const LOCK: &str = "lock";
pub const SET: &str = "set";

/// Elements are `slot * ELEMENT_STRIDE + n`: unique across slots without coordination.
pub const ELEMENT_STRIDE: i64 = 1_000_000;

#[derive(Clone, Copy, Debug)]
pub struct LockWorkload {
    /// Seconds asked for the lease behind each lock.
    pub ttl: i64,
    /// Work between the read and the write-back lasts up to twice this (on average this).
    pub hold: Duration,
    /// Write back only while the lock's key exists (a txn), so a delayed write from a holder
    /// whose lock has gone is refused.
    pub fence: bool,
}

impl Workload for LockWorkload {
    fn name(&self) -> &'static str {
        "lock"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        let mut g = LockGenerator::new(seed, slot, self.ttl, self.hold);
        g.fence = self.fence;
        Box::new(g)
    }

    /// The set, read a few times (through different nodes).
    fn final_ops(&self) -> Vec<Op> {
        (0..3).map(|_| Op::new("read", SET, Value::Nil)).collect()
    }

    fn model(&self) -> &'static str {
        "lock-set"
    }

    fn ops(&self) -> &'static [&'static str] {
        &["acquire", "release", "add", "read"]
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    /// Acquired; next: read the set.
    Holding {
        key: String,
        lease: i64,
    },
    /// Read the set; next: write it back with our element.
    Read {
        key: String,
        lease: i64,
        set: Vec<Value>,
    },
    /// Done with the set (or gave up); next: release.
    Releasing {
        key: String,
        lease: i64,
    },
}

pub struct LockGenerator {
    rng: ChaCha8Rng,
    slot: u64,
    ttl: i64,
    hold: Duration,
    added: i64,
    phase: Phase,
    fence: bool,
}

impl LockGenerator {
    pub fn new(seed: u64, slot: u64, ttl: i64, hold: Duration) -> Self {
        LockGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed ^ slot.wrapping_mul(0xD6E8_FEB8_6659_FD93)),
            slot,
            ttl,
            hold,
            added: 0,
            phase: Phase::Idle,
            fence: false,
        }
    }

    fn release(key: &str, lease: i64) -> Op {
        Op::new(
            "release",
            LOCK,
            Value::List(vec![Value::Str(key.into()), Value::Int(lease)]),
        )
    }
}

impl Generator for LockGenerator {
    fn next_op(&mut self) -> Op {
        match self.phase.clone() {
            Phase::Idle if self.rng.random_bool(0.15) => Op::new("read", SET, Value::Nil),
            Phase::Idle => Op::new("acquire", LOCK, Value::Int(self.ttl)),
            Phase::Holding { .. } => Op::new("read", SET, Value::Nil),
            Phase::Read { set, key, .. } => {
                self.added += 1;
                let e = Value::Int(self.slot as i64 * ELEMENT_STRIDE + self.added);
                let mut written = set.clone();
                written.push(e.clone());
                let mut request = vec![e, Value::List(written)];
                if self.fence {
                    request.push(Value::Str(key));
                }
                let mut op = Op::new("add", SET, Value::List(request));
                op.think = self.hold.mul_f64(2.0 * self.rng.random::<f64>());
                op
            }
            Phase::Releasing { key, lease } => Self::release(&key, lease),
        }
    }

    fn observe(&mut self, op: &Op, c: &Completion) {
        let ok = c.kind == EventType::Ok;
        self.phase = match (op.f, std::mem::replace(&mut self.phase, Phase::Idle)) {
            ("acquire", Phase::Idle) => match (ok, c.value.as_list()) {
                (true, Some([Value::Str(key), Value::Int(lease), ..])) => Phase::Holding {
                    key: key.clone(),
                    lease: *lease,
                },
                // Not held, or unknown: the client already gave its lease up.
                _ => Phase::Idle,
            },
            ("read", Phase::Holding { key, lease }) => match (ok, &c.value) {
                (true, Value::List(set)) => Phase::Read {
                    key,
                    lease,
                    set: set.clone(),
                },
                (true, Value::Nil) => Phase::Read {
                    key,
                    lease,
                    set: Vec::new(),
                },
                _ => Phase::Releasing { key, lease },
            },
            ("add", Phase::Read { key, lease, .. }) => Phase::Releasing { key, lease },
            ("release", Phase::Releasing { .. }) => Phase::Idle,
            (_, phase) => phase,
        };
    }

    fn closing_op(&mut self) -> Option<Op> {
        match &self.phase {
            Phase::Idle => None,
            Phase::Holding { key, lease }
            | Phase::Read { key, lease, .. }
            | Phase::Releasing { key, lease } => {
                let op = Self::release(key, *lease);
                self.phase = Phase::Releasing {
                    key: key.clone(),
                    lease: *lease,
                };
                Some(op)
            }
        }
    }
}

/// Seconds of work a holder may do between reading the set and writing it back.
pub const HOLD: (f64, f64) = (0.0, 3_600.0);
/// Seconds an acquire may wait in the lock's queue.
pub const LOCK_WAIT: (f64, f64) = (0.001, 3_600.0);

/// `workload:` of a lock workload.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockSettings {
    /// Seconds asked for the lease behind each lock.
    pub ttl: i64,
    /// Seconds of work between reading the set and writing it back: up to twice this, on
    /// average this.
    pub hold: f64,
    /// Seconds an acquire may wait in the lock's queue before its outcome is unknown.
    pub lock_wait: f64,
    /// After a lock is granted, check that its key still exists before using it, as etcd's
    /// later client libraries do; a lock whose key is gone counts as not acquired.
    pub verify_lock: bool,
    /// Write the set back in a txn that requires the lock's key to still exist (etcd's
    /// documented way to act only while holding a lock), so a delayed write is refused.
    pub fence: bool,
    // Read by the harness for every workload.
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "concurrency")]
    _concurrency: IgnoredAny,
    #[serde(rename = "rate")]
    _rate: IgnoredAny,
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings {
            ttl: 3,
            hold: 0.1,
            lock_wait: 10.0,
            verify_lock: false,
            fence: false,
            _kind: IgnoredAny,
            _concurrency: IgnoredAny,
            _rate: IgnoredAny,
        }
    }
}

impl Settings for LockSettings {
    fn validate(&self, _: &Common) -> Result<(), SettingsError> {
        check_ttl(self.ttl)?;
        settings::seconds(self.hold, "workload.hold", HOLD)?;
        settings::seconds(self.lock_wait, "workload.lock_wait", LOCK_WAIT)?;
        Ok(())
    }

    fn workload(&self, _: &Common) -> Box<dyn Workload> {
        Box::new(LockWorkload {
            ttl: self.ttl,
            hold: Duration::from_secs_f64(self.hold),
            fence: self.fence,
        })
    }

    fn describe(&self) -> String {
        format!(
            "lock workload, lease TTL {} s, work up to {} s while holding{}{}",
            self.ttl,
            settings::show(2.0 * self.hold),
            if self.verify_lock {
                ", grants verified"
            } else {
                ""
            },
            if self.fence {
                ", write-backs fenced"
            } else {
                ""
            },
        )
    }

    fn etcd_client(&self, client: EtcdClient) -> EtcdClient {
        client.with_lock(Duration::from_secs_f64(self.lock_wait), self.verify_lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a perfect lock service: acquire, read, add (the set read plus a fresh element),
    /// release, in that order; a slot that stops mid-way releases what it holds.
    #[test]
    fn critical_sections_in_order_and_closing_release() {
        let mut g = LockGenerator::new(9, 2, 2, Duration::from_millis(10));
        let mut set: Vec<Value> = Vec::new();
        let mut fs = Vec::new();
        for i in 0..200 {
            let op = g.next_op();
            let c = match op.f {
                "acquire" => Completion::ok(Value::List(vec![
                    Value::Str(format!("lock/{i}")),
                    Value::Int(i),
                    Value::Int(2),
                    Value::Int(0),
                ])),
                "read" => Completion::ok(Value::List(set.clone())),
                "add" => {
                    let [e, Value::List(written)] = op.value.as_list().unwrap() else {
                        panic!("add value {:?}", op.value)
                    };
                    assert_eq!(written.len(), set.len() + 1);
                    assert!(!set.contains(e));
                    assert!(op.think <= Duration::from_millis(20));
                    set = written.clone();
                    Completion::ok(op.value.clone())
                }
                _ => Completion::ok(Value::Nil),
            };
            g.observe(&op, &c);
            fs.push(op.f);
        }
        let text = fs.join(" ");
        assert!(text.contains("acquire read add release"), "{text}");
        assert!(set.len() > 10);
        // Stopped right after an acquire: it releases that lock, then has nothing left.
        let mut g = LockGenerator::new(9, 2, 2, Duration::from_millis(10));
        assert_eq!(g.closing_op(), None);
        let op = Op::new("acquire", LOCK, Value::Int(2));
        g.observe(
            &op,
            &Completion::ok(Value::List(vec![
                Value::Str("lock/x".into()),
                Value::Int(7),
                Value::Int(2),
                Value::Int(0),
            ])),
        );
        let close = g.closing_op().expect("a release");
        assert_eq!(close.f, "release");
        assert_eq!(
            close.value,
            Value::List(vec![Value::Str("lock/x".into()), Value::Int(7)])
        );
        g.observe(&close, &Completion::ok(Value::Nil));
        assert_eq!(g.closing_op(), None);
    }

    /// Fenced, the write-back names the lock's key, for the txn that requires it.
    #[test]
    fn fenced_adds_carry_the_lock_key() {
        let w = LockWorkload {
            ttl: 2,
            hold: Duration::ZERO,
            fence: true,
        };
        let mut g = w.generator(1, 0);
        let acquire = Op::new("acquire", LOCK, Value::Int(2));
        let held = Value::List(vec![
            Value::Str("lock/k".into()),
            Value::Int(7),
            Value::Int(2),
            Value::Int(0),
        ]);
        g.observe(&acquire, &Completion::ok(held));
        let read = g.next_op();
        assert_eq!(read.f, "read");
        g.observe(&read, &Completion::ok(Value::List(vec![Value::Int(5)])));
        let add = g.next_op();
        let parts = add.value.as_list().unwrap();
        assert_eq!(parts[2], Value::Str("lock/k".into()));
        assert_eq!(parts[1].as_list().unwrap().len(), 2);
    }
}
