//! A call: an invocation paired with its completion, the unit a model and the search work on.

use crate::history::event::Process;
use crate::value::Value;
use compact_str::CompactString;
use serde::Serialize;

/// What became of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Fail,
    /// Unknown outcome, including an invocation that never completed.
    Info,
}

/// An invocation paired with its completion: the unit a model and the search work on.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Call {
    pub process: Process,
    pub f: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The node the invocation went to, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The value the invocation carried (the request).
    pub invoke_value: Value,
    /// The value the completion carried (the reply); the invocation's value for unknown outcomes.
    pub value: Value,
    pub outcome: Outcome,
    /// History index of the invocation.
    pub invoke_index: u64,
    /// History index of the completion; `None` when it never completed.
    pub complete_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<i64>,
    pub line: u64,
    /// Positions in the history (event order), which is what real-time order is judged by.
    #[serde(skip)]
    pub invoke_pos: u64,
    #[serde(skip)]
    pub complete_pos: Option<u64>,
}

impl Call {
    /// Where to find the call: its line in the file, or its index when it came from elsewhere.
    pub fn place(&self) -> String {
        if self.line > 0 {
            format!("line {}", self.line)
        } else {
            format!("index {}", self.invoke_index)
        }
    }
}

/// True for a cas that completed and reported that its compare failed (`ok` with value `false`).
pub fn is_failed_compare(call: &Call) -> bool {
    call.f == "cas" && call.outcome == Outcome::Ok && call.value == Value::Bool(false)
}
