//! The checkers' answers: a verdict per history and per key, with the explanation or the
//! anomalies behind an invalid one. Everything imports these; they import nothing of theirs.

use crate::history::{Call, Warning};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("line {line}: {message}")]
    Input { line: u64, message: String },
    #[error("{0}")]
    Model(String),
    /// Nothing to check: a verdict on it would be vacuous.
    #[error("{0}")]
    Empty(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum VerdictName {
    Valid,
    Unknown,
    Invalid,
}

impl VerdictName {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictName::Valid => "valid",
            VerdictName::Invalid => "invalid",
            VerdictName::Unknown => "unknown",
        }
    }
}

/// The checker's answer for a whole history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub verdict: VerdictName,
    pub model: String,
    pub calls: usize,
    pub keys: Vec<KeyReport>,
    pub warnings: Vec<Warning>,
    pub elapsed_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyReport {
    /// `null` for a history with no keys.
    pub key: Value,
    pub verdict: VerdictName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Calls the search considered (failed calls and unconstrained reads excluded).
    pub calls: usize,
    pub configurations: u64,
    pub memory_bytes: usize,
    pub elapsed_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// What a checker other than the linearizability search found (lease, lock-set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
    /// Which procedure decided the key.
    pub method: Method,
}

/// Which procedure decided a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The WGL linearizability search.
    Search,
    /// A polynomial check for histories whose written values are unique: registers
    /// (crate::unique), string-kv (crate::append), grow-only sets (crate::set).
    UniqueValues,
    /// A rule-based checker (lease, lock-set, watch).
    Rules,
    /// Cycles in a graph of dependencies between transactions (list-append, rw-register).
    DependencyGraph,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Search => "search",
            Method::UniqueValues => "unique-values",
            Method::Rules => "rules",
            Method::DependencyGraph => "dependency-graph",
        }
    }
}

impl KeyReport {
    /// A key judged by rules rather than the search: invalid when any anomaly was found.
    pub fn from_anomalies(
        key: Value,
        anomalies: Vec<Anomaly>,
        calls: usize,
        elapsed: Duration,
    ) -> KeyReport {
        KeyReport {
            key,
            verdict: if anomalies.is_empty() {
                VerdictName::Valid
            } else {
                VerdictName::Invalid
            },
            reason: None,
            calls,
            configurations: 0,
            memory_bytes: 0,
            elapsed_s: elapsed.as_secs_f64(),
            explanation: None,
            anomalies,
            method: Method::Rules,
        }
    }
}

impl Anomaly {
    /// Add `a` unless `most` of its kind are already kept: the first ones tell the story.
    pub(crate) fn keep(anomalies: &mut Vec<Anomaly>, a: Anomaly, most: usize) {
        if anomalies.iter().filter(|b| b.kind == a.kind).count() < most {
            anomalies.push(a);
        }
    }
}

/// One rule a non-linearizability checker found broken, with the calls that show it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Anomaly {
    /// e.g. `premature-expiry`, `lost-add`, `revoked-key-present`.
    pub kind: String,
    pub summary: String,
    /// The calls the summary names, in history order (for a cycle: in the cycle's order).
    pub calls: Vec<Call>,
    /// For a cycle of transactions: each edge, from one of `calls` to the next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<CycleStep>,
}

/// One edge of a cycle: why `calls[from]` must come before `calls[to]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CycleStep {
    pub from: usize,
    pub to: usize,
    /// `ww`, `wr`, `rw`, `process` or `realtime`.
    pub kind: String,
    /// The key the dependency is on; nil for process and real-time order.
    pub key: Value,
    pub text: String,
}

/// Why a key is not linearizable, in terms a person can follow back to the history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Explanation {
    pub summary: String,
    /// The call the summary names: the first whose result no linearization can accommodate (the
    /// history cut just after it returned is invalid, just before it is valid) when shrinking
    /// proved it, else the call the search could not place after its longest prefix.
    pub stuck: Call,
    /// How many calls the longest linearizable prefix the search found has.
    pub prefix_length: usize,
    /// Its last calls, in linearization order (at most 20).
    pub prefix_tail: Vec<Call>,
    /// The model states each of `prefix_tail`'s calls may leave, replayed from the initial state:
    /// one, unless an unknown-outcome call earlier left a choice (at most 8 listed).
    pub prefix_states: Vec<Vec<Value>>,
    /// The model state after that prefix.
    pub state: Value,
    /// The call the search could not place after that prefix, when it is not `stuck`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_stuck: Option<Call>,
    pub shrunk: Option<Shrunk>,
}

/// A call of a shrunk counterexample.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShrunkCall {
    #[serde(flatten)]
    pub call: Call,
    /// Kept only as an unknown outcome: it may or may not have taken effect, at any moment after
    /// its invocation. The violation does not need its result, but removing it could invent one.
    pub relaxed: bool,
}

/// A smaller history that is still not linearizable, found by relaxing calls one chunk at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shrunk {
    /// The first call whose result no linearization can accommodate: the history cut just after
    /// it returned is invalid and the cut just before is valid, both proven. `None` when the
    /// shrink budget ran out before both were.
    pub first: Option<Call>,
    /// Every call the shrunk history keeps, in history order: those whose results and timing the
    /// violation needs, and (marked `relaxed`) writes whose result it does not need, kept as
    /// unknown outcomes since removing a write could invent an anomaly the history does not have
    /// (unless the model proves it cannot: `Model::unneeded_relaxed`).
    pub calls: Vec<ShrunkCall>,
    /// How many of `calls` are relaxed.
    pub relaxed: usize,
    /// Reads and calls invoked after the stuck call, which it does not need at all.
    pub dropped: usize,
    /// True when leaving out or relaxing any one more call was proven to make it linearizable;
    /// false when the shrink budget, or a probe's share of it, ran out first: smaller may exist.
    pub minimal: bool,
}
