//! Workloads: the ops ferret's clients ask a system (`register`), and the clients that ask them
//! (`etcd`: etcd's v3 JSON gateway).

pub mod etcd;
pub mod register;

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
