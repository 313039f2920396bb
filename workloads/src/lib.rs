//! Workloads: the ops ferret's clients ask a system (`register`), and the clients that ask them
//! (`clients::etcd`: etcd's v3 JSON gateway; `clients::http`: any HTTP service, described in the
//! config).

pub mod clients;
pub mod register;

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

    /// `(member id, leader id)` as this node sees them, for faults that target the leader; `None`
    /// when the system does not say (the nemesis then picks a node at random).
    async fn leader_view(&self) -> Option<(String, String)> {
        None
    }
}
