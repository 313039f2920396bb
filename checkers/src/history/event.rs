//! History events as recorded: who invoked what, when, and how it ended.

use crate::value::Value;
use compact_str::CompactString;
use serde::Serialize;
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
