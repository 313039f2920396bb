//! Calls, results and times as a person reads them, for explanations and anomalies.

use crate::history::call::{is_failed_compare, Call, Outcome};

/// Items of a collection value shown in words about a call; the reports hold them all.
pub const SHOWN_ITEMS: usize = 16;

/// A call as a person reads it: `cas [1 2] by process 3 (line 7)`.
pub fn describe_call(c: &Call) -> String {
    let request = if c.invoke_value.is_nil() {
        String::new()
    } else {
        format!(" {:.SHOWN_ITEMS$}", c.invoke_value)
    };
    let node = c
        .node
        .as_ref()
        .map(|n| format!(" on {n}"))
        .unwrap_or_default();
    format!(
        "{}{request} by process {}{node} ({})",
        c.f,
        c.process,
        c.place()
    )
}

/// What a call returned, as a person reads it.
pub fn describe_result(c: &Call) -> String {
    match c.outcome {
        Outcome::Ok if is_failed_compare(c) => "false (its compare failed)".into(),
        Outcome::Ok => format!("{:.SHOWN_ITEMS$}", c.value),
        Outcome::Fail => "fail".into(),
        Outcome::Info => "an unknown outcome".into(),
    }
}

/// Seconds on the history's clock, for messages.
pub(crate) fn secs(ns: i64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}
