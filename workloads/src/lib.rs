//! Workloads: the ops ferret's clients ask a system (`register`, `lease`, `lock`, `watch`,
//! `append`), each
//! with the settings it reads from a config (`settings`, registered in `kinds`), and the clients
//! that ask them (`clients::etcd`: etcd's v3 JSON gateway; `clients::http`: any HTTP service,
//! described in the config).

pub mod append;
pub mod clients;
pub mod kinds;
pub mod lease;
pub mod lock;
pub mod register;
pub mod settings;
pub mod watch;

pub use lease::LeaseWorkload;
pub use lock::LockWorkload;
pub use register::RegisterWorkload;
pub use watch::WatchWorkload;

use async_trait::async_trait;
use ferret_checkers::{EventType, Value};

/// How an op ended, as the client saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// `Ok`, `Fail` (certainly did not happen) or `Info` (unknown).
    pub kind: EventType,
    pub value: Value,
    pub error: Option<String>,
}

impl Completion {
    pub fn ok(value: Value) -> Self {
        Completion {
            kind: EventType::Ok,
            value,
            error: None,
        }
    }
    pub fn fail(value: Value, error: impl Into<String>) -> Self {
        Completion {
            kind: EventType::Fail,
            value,
            error: Some(error.into()),
        }
    }
    pub fn info(value: Value, error: impl Into<String>) -> Self {
        Completion {
            kind: EventType::Info,
            value,
            error: Some(error.into()),
        }
    }
}

/// A client of one node of the system under test: invokes one op at a time and says how it
/// ended. Honest by construction: `fail` only when the op certainly did not take effect, `info`
/// whenever that is unknown; a compare that failed is `ok` with the value `false`.
#[async_trait]
pub trait Client: Send + Sync {
    /// Invoke `f` (`read`, `write`, `cas`) on `key`. `value` is the write's value, or the cas's
    /// `[from to]`.
    async fn invoke(&self, f: &str, key: &str, value: &Value) -> Completion;

    /// Make what the ops need before the workload starts (a NATS bucket, say). Called once, on
    /// one node's client, after the cluster is ready; an error is retried until db.ready_timeout.
    async fn prepare(&self) -> Result<(), String> {
        Ok(())
    }

    /// `(member id, leader id)` as this node sees them, for faults that target the leader; `None`
    /// when the system does not say (the nemesis then picks a node at random).
    async fn leader_view(&self) -> Option<(String, String)> {
        None
    }
}

/// One op to invoke: `f` on `key`, carrying `value` (a write's value, a cas's `[from to]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub f: &'static str,
    pub key: String,
    pub value: Value,
    /// Time to spend before invoking it, on top of the client's pacing (e.g. work done while
    /// holding a lock).
    pub think: std::time::Duration,
}

impl Op {
    pub fn new(f: &'static str, key: impl Into<String>, value: Value) -> Op {
        Op {
            f,
            key: key.into(),
            value,
            think: std::time::Duration::ZERO,
        }
    }
}

/// The op stream of one client slot: a pure function of the run's seed and the slot, so a run's
/// schedule is reproducible from `--seed`.
pub trait Generator: Send {
    fn next_op(&mut self) -> Op;

    /// What the op came to, for generators that adapt (a cas compares against fresher values).
    fn observe(&mut self, _op: &Op, _completion: &Completion) {}

    /// Once the workload's time is up: the ops that finish what this slot started (a release of
    /// a held lock), one at a time, each observed; `None` when there is nothing left to finish.
    fn closing_op(&mut self) -> Option<Op> {
        None
    }
}

/// A workload: what each client process invokes, what it reads once everything is healed, and
/// the model the history is checked against.
pub trait Workload: Send + Sync {
    fn name(&self) -> &'static str;

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator>;

    /// Ops invoked once after the final heal and recovery (e.g. a read of every key).
    fn final_ops(&self) -> Vec<Op>;

    /// The model or checker (as `ferret check --model` names it) this workload's histories are
    /// checked with, unless the config names another.
    fn model(&self) -> &'static str;

    /// The client ops the workload invokes: a client that lacks one cannot run it.
    fn ops(&self) -> &'static [&'static str];

    /// Whether its keys are fixed from the start (each must then see ok ops for a run to pass),
    /// rather than made as it goes.
    fn keys_fixed(&self) -> bool {
        true
    }
}
