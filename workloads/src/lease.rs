//! The lease workload: the heartbeat pattern. Each client slot grants a lease, attaches a fresh
//! key to it, keeps it alive while reading the key back, and then revokes it or simply stops
//! renewing and watches the key while it may still be alive; then starts over with a new lease
//! and key. Checked by the lease checker (`checkers::lease`).

use crate::settings::{Common, Settings, SettingsError};
use crate::{Completion, Generator, Op, Workload};
use ferret_checkers::{EventType, Value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Clone, Copy, Debug)]
pub struct LeaseWorkload {
    /// Seconds asked for each lease.
    pub ttl: i64,
}

impl Workload for LeaseWorkload {
    fn name(&self) -> &'static str {
        "lease"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        Box::new(LeaseGenerator::new(seed, slot, self.ttl))
    }

    /// None: each key is judged by the reads made while its lease lived.
    fn final_ops(&self) -> Vec<Op> {
        Vec::new()
    }

    fn model(&self) -> &'static str {
        "lease"
    }

    fn ops(&self) -> &'static [&'static str] {
        &["grant", "put", "keepalive", "revoke", "read"]
    }

    /// One key per lease.
    fn keys_fixed(&self) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    /// Next: grant a lease for key number `n`.
    Idle,
    /// Granted; next: put the key with it.
    Granted { lease: i64 },
    /// Key attached; renewing and reading for `left` more ops.
    Held { lease: i64, left: u32 },
    /// No more renewals; reading the key `left` more times while it may still live.
    Abandoned { left: u32 },
}

pub struct LeaseGenerator {
    rng: ChaCha8Rng,
    slot: u64,
    ttl: i64,
    n: u64,
    phase: Phase,
    /// Keys of this slot's earlier leases, read now and then: revoked ones must stay gone.
    past: Vec<String>,
}

impl LeaseGenerator {
    pub fn new(seed: u64, slot: u64, ttl: i64) -> Self {
        LeaseGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed ^ slot.wrapping_mul(0xA24B_AED4_963E_E407)),
            slot,
            ttl,
            n: 0,
            phase: Phase::Idle,
            past: Vec::new(),
        }
    }

    fn key(&self) -> String {
        format!("lease-{}-{}", self.slot, self.n)
    }

    /// On to the next lease and key; this one joins the keys read now and then.
    fn start_over(&mut self) {
        let key = self.key();
        if self.past.len() >= 8 {
            self.past.remove(0);
        }
        self.past.push(key);
        self.n += 1;
        self.phase = Phase::Idle;
    }
}

impl Generator for LeaseGenerator {
    fn next_op(&mut self) -> Op {
        let key = self.key();
        match self.phase.clone() {
            Phase::Idle => Op::new("grant", key, Value::Int(self.ttl)),
            Phase::Granted { lease } => Op::new("put", key, Value::Int(lease)),
            Phase::Held { lease, left } => {
                let roll = self.rng.random::<f64>();
                if left == 0 {
                    if roll < 0.5 {
                        return Op::new("revoke", key, Value::Int(lease));
                    }
                    self.phase = Phase::Abandoned {
                        left: self.rng.random_range(3..10),
                    };
                    return Op::new("read", key, Value::Nil);
                }
                self.phase = Phase::Held {
                    lease,
                    left: left - 1,
                };
                if roll < 0.5 {
                    Op::new("keepalive", key, Value::Int(lease))
                } else if roll < 0.9 || self.past.is_empty() {
                    Op::new("read", key, Value::Nil)
                } else {
                    let i = self.rng.random_range(0..self.past.len());
                    Op::new("read", self.past[i].clone(), Value::Nil)
                }
            }
            Phase::Abandoned { left } => {
                if left <= 1 {
                    self.start_over();
                } else {
                    self.phase = Phase::Abandoned { left: left - 1 };
                }
                Op::new("read", key, Value::Nil)
            }
        }
    }

    fn observe(&mut self, op: &Op, c: &Completion) {
        let ok = c.kind == EventType::Ok;
        match (op.f, &self.phase) {
            ("grant", Phase::Idle) => {
                if let (true, Some([Value::Int(lease), _])) = (ok, c.value.as_list()) {
                    self.phase = Phase::Granted { lease: *lease };
                } else if c.kind == EventType::Info {
                    // It may exist; its key name is never used again.
                    self.start_over();
                }
            }
            ("put", Phase::Granted { lease }) => {
                self.phase = if ok {
                    Phase::Held {
                        lease: *lease,
                        left: self.rng.random_range(5..40),
                    }
                } else {
                    // The key may or may not be attached; give the lease up.
                    Phase::Held {
                        lease: *lease,
                        left: 0,
                    }
                };
            }
            ("keepalive", Phase::Held { .. }) if ok && c.value == Value::Int(0) => {
                // The lease is gone (the checker judges whether it should have been).
                self.start_over();
            }
            ("revoke", Phase::Held { .. }) => self.start_over(),
            _ => {}
        }
    }
}

/// Seconds a lease may be asked for; etcd grants at least its own minimum anyway.
pub const TTL: (i64, i64) = (1, 86_400);

/// The TTL within its bounds.
pub(crate) fn check_ttl(ttl: i64) -> Result<(), SettingsError> {
    if !(TTL.0..=TTL.1).contains(&ttl) {
        return Err(SettingsError::new(
            "workload.ttl",
            format!("must be between {} and {} seconds, not {ttl}", TTL.0, TTL.1),
        ));
    }
    Ok(())
}

/// `workload:` of a lease workload.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaseSettings {
    /// Seconds asked for each lease.
    pub ttl: i64,
    // Read by the harness for every workload.
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "concurrency")]
    _concurrency: IgnoredAny,
    #[serde(rename = "rate")]
    _rate: IgnoredAny,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            ttl: 3,
            _kind: IgnoredAny,
            _concurrency: IgnoredAny,
            _rate: IgnoredAny,
        }
    }
}

impl Settings for LeaseSettings {
    fn validate(&self, _: &Common) -> Result<(), SettingsError> {
        check_ttl(self.ttl)
    }

    fn workload(&self, _: &Common) -> Box<dyn Workload> {
        Box::new(LeaseWorkload { ttl: self.ttl })
    }

    fn describe(&self) -> String {
        format!("lease workload, lease TTL {} s", self.ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: Value) -> Completion {
        Completion::ok(v)
    }

    /// Drive a generator against a perfect lease service and check the shape of its stream.
    #[test]
    fn cycles_through_grant_put_renewals_and_an_end() {
        let mut g = LeaseGenerator::new(3, 1, 2);
        let mut seen = Vec::new();
        let mut next_lease = 100;
        for _ in 0..400 {
            let op = g.next_op();
            let c = match op.f {
                "grant" => {
                    next_lease += 1;
                    ok(Value::List(vec![Value::Int(next_lease), Value::Int(2)]))
                }
                "put" => ok(op.value.clone()),
                "keepalive" => ok(Value::Int(2)),
                "revoke" => ok(Value::Bool(true)),
                _ => ok(Value::Nil),
            };
            g.observe(&op, &c);
            seen.push((op.f, op.key));
        }
        let count = |f: &str| seen.iter().filter(|s| s.0 == f).count();
        assert!(count("grant") >= 5, "{seen:?}");
        assert!(count("revoke") >= 1 && count("keepalive") > count("grant"));
        // Every key is granted once and put once.
        let keys: std::collections::BTreeSet<_> =
            seen.iter().filter(|s| s.0 == "put").map(|s| &s.1).collect();
        assert_eq!(keys.len(), count("put"));
    }
}
