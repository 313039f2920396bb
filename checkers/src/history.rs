//! History events, and the pairing of invocations with their completions into calls.

use crate::value::Value;
use compact_str::CompactString;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Where an event came from in its file, for messages a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Invoke,
    /// Happened, result known.
    Ok,
    /// Certainly did not happen.
    Fail,
    /// Unknown: may take effect at any later moment, or never.
    Info,
}

impl EventType {
    pub fn parse(s: &str) -> Option<EventType> {
        match s {
            "invoke" => Some(EventType::Invoke),
            "ok" => Some(EventType::Ok),
            "fail" => Some(EventType::Fail),
            "info" => Some(EventType::Info),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }
}

/// Who performed an event: a logical client, or the nemesis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(i64),
    Nemesis,
    /// Anything else a foreign history names a process with (kept, treated as a client).
    Named(String),
}

impl Process {
    pub fn from_value(v: &Value) -> Option<Process> {
        match v {
            Value::Int(i) => Some(Process::Client(*i)),
            Value::Str(s) if s == "nemesis" => Some(Process::Nemesis),
            Value::Str(s) => Some(Process::Named(s.clone())),
            _ => None,
        }
    }
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(i) => ser.serialize_i64(*i),
            Process::Nemesis => ser.serialize_str("nemesis"),
            Process::Named(s) => ser.serialize_str(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Process, D::Error> {
        let v = Value::deserialize(d)?;
        Process::from_value(&v)
            .ok_or_else(|| serde::de::Error::custom(format!("a process: {v} is not one")))
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(i) => write!(f, "{i}"),
            Process::Nemesis => f.write_str("nemesis"),
            Process::Named(s) => f.write_str(s),
        }
    }
}

/// One line of a history: an invocation, a completion, or a nemesis event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Position in the history, from 0.
    pub index: u64,
    /// Nanoseconds since the run began, if the history says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub f: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// The node a client's invocation went to, when the history says (ferret's own do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip)]
    pub location: Location,
}

/// A problem with the input that did not stop it being checked.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Warning {
    pub line: u64,
    pub message: String,
}

/// A whole history as read from a file.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub events: Vec<Event>,
    pub warnings: Vec<Warning>,
}

impl History {
    pub fn client_events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.process != Process::Nemesis)
    }

    pub fn nemesis_events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.process == Process::Nemesis)
    }
}

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

/// A history that cannot be paired into calls.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct PairError {
    pub line: u64,
    pub message: String,
}

/// Pair each invocation with the next completion by the same process.
///
/// Completions carry no new `f`/`key`, so the invocation's are used. An invocation left open at the
/// end is an unknown outcome. A completion with no open invocation is an error: it would be a
/// reply to an unknown request, and guessing would risk a wrong verdict.
pub fn pair(history: &History) -> Result<(Vec<Call>, Vec<Warning>), PairError> {
    let mut pairer = Pairer::default();
    for e in &history.events {
        pairer.push(e.clone())?;
    }
    Ok(pairer.finish())
}

/// Pairs events into calls one at a time, so a reader can hand each event over and forget it:
/// a history of ten million calls never has to be held as events too.
#[derive(Default)]
pub struct Pairer {
    /// Each process's open call; ahash, since this runs for every event of a history.
    open: HashMap<Process, usize, ahash::RandomState>,
    calls: Vec<Call>,
    warnings: Vec<Warning>,
    /// Events seen so far (each event's position in the history).
    pos: u64,
    /// Nemesis events, kept as they are (few: the fault timeline).
    pub nemesis: Vec<Event>,
}

impl Pairer {
    pub fn push(&mut self, e: Event) -> Result<(), PairError> {
        let pos = self.pos;
        self.pos += 1;
        if e.process == Process::Nemesis {
            self.nemesis.push(e);
            return Ok(());
        }
        match e.kind {
            EventType::Invoke => {
                if let Some(&prev) = self.open.get(&e.process) {
                    let p = &self.calls[prev];
                    return Err(PairError {
                        line: e.location.line,
                        message: format!(
                            "process {} invokes {} while its {} from line {} has not completed",
                            e.process, e.f, p.f, p.line
                        ),
                    });
                }
                self.open.insert(e.process.clone(), self.calls.len());
                self.calls.push(Call {
                    process: e.process,
                    f: e.f,
                    key: e.key,
                    node: e.node,
                    invoke_value: e.value,
                    // Set at completion (or by `finish`): most replies replace it, so no copy yet.
                    value: Value::Nil,
                    outcome: Outcome::Info,
                    invoke_index: e.index,
                    complete_index: None,
                    invoke_time: e.time,
                    complete_time: None,
                    line: e.location.line,
                    invoke_pos: pos,
                    complete_pos: None,
                });
            }
            kind => {
                let Some(i) = self.open.remove(&e.process) else {
                    return Err(PairError {
                        line: e.location.line,
                        message: format!(
                            "process {} completes {} ({}) but has no open invocation",
                            e.process,
                            e.f,
                            kind.as_str()
                        ),
                    });
                };
                let call = &mut self.calls[i];
                if call.f != e.f {
                    self.warnings.push(Warning {
                        line: e.location.line,
                        message: format!(
                            "completion names f {:?} but its invocation (line {}) was {:?}; using the invocation's",
                            e.f, call.line, call.f
                        ),
                    });
                }
                call.complete_index = Some(e.index);
                call.complete_pos = Some(pos);
                call.complete_time = e.time;
                call.outcome = match kind {
                    EventType::Ok => Outcome::Ok,
                    EventType::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
                // An unknown outcome keeps the request's value: the reply carries no result.
                call.value = if call.outcome != Outcome::Info {
                    e.value
                } else {
                    call.invoke_value.clone()
                };
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> (Vec<Call>, Vec<Warning>) {
        for &i in self.open.values() {
            let call = &mut self.calls[i];
            call.value = call.invoke_value.clone();
        }
        (self.calls, self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(index: u64, process: i64, kind: EventType, f: &str, value: Value) -> Event {
        Event {
            index,
            time: None,
            process: Process::Client(process),
            kind,
            f: f.into(),
            key: None,
            value,
            error: None,
            node: None,
            location: Location::default(),
        }
    }

    #[test]
    fn a_reply_replaces_the_value_an_unknown_outcome_keeps_the_request() {
        use EventType::*;
        let cas = || Value::List(vec![1.into(), 2.into()]);
        let events = vec![
            event(0, 1, Invoke, "read", Value::Nil),
            event(1, 2, Invoke, "cas", cas()),
            event(2, 3, Invoke, "write", 7.into()),
            event(3, 4, Invoke, "cas", cas()),
            event(4, 1, Ok, "read", 5.into()),
            event(5, 2, Info, "cas", Value::from("timed-out")),
            event(6, 4, Fail, "cas", cas()),
        ];
        let (calls, warnings) = pair(&History {
            events,
            warnings: Vec::new(),
        })
        .unwrap();
        assert!(warnings.is_empty());
        let got: Vec<(Outcome, &Value, &Value)> = calls
            .iter()
            .map(|c| (c.outcome, &c.invoke_value, &c.value))
            .collect();
        assert_eq!(
            got,
            vec![
                (Outcome::Ok, &Value::Nil, &Value::Int(5)),
                (Outcome::Info, &cas(), &cas()),
                // Never completed: an unknown outcome with its request's value.
                (Outcome::Info, &Value::Int(7), &Value::Int(7)),
                (Outcome::Fail, &cas(), &cas()),
            ]
        );
        assert_eq!(calls[2].complete_index, None);
    }
}
