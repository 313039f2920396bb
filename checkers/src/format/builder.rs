//! Events built from the fields every format reads, checked and numbered as a file is read.

use crate::format::error::ReadError;
use crate::history::{Event, EventType, History, Location, Pairer, Process, Warning};
use crate::value::Value;
use compact_str::CompactString;
use std::fmt;
use std::path::Path;

/// Ops in a batch from which they are parsed on every core: below it, waking other threads costs
/// more than the parsing.
pub(crate) const PARALLEL_FROM: usize = 64;

/// Builds events from per-op field values, numbering them and checking what every format shares.
pub(crate) struct EventBuilder<'p> {
    pub(crate) path: &'p Path,
    pub(crate) history: History,
    /// When set, events go straight into calls instead of `history.events`.
    pub(crate) pairer: Option<Pairer>,
    /// Events so far: the index of one that names none.
    pub(crate) count: u64,
}

/// An op's type or function: text (kept inline when short, as they are: no allocation for each
/// event), or whatever else the line had there, for the error that names it.
#[derive(Debug, PartialEq)]
pub(crate) enum Name {
    Text(CompactString),
    Other(Value),
}

impl From<Value> for Name {
    fn from(v: Value) -> Name {
        match v {
            Value::Str(s) => Name::Text(s.into()),
            v => Name::Other(v),
        }
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::Text(s.into())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Text(s) => Value::Str(s.to_string()).fmt(f),
            Name::Other(v) => v.fmt(f),
        }
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct Fields {
    pub(crate) index: Option<i64>,
    pub(crate) time: Option<i64>,
    pub(crate) process: Option<Value>,
    pub(crate) kind: Option<Name>,
    pub(crate) f: Option<Name>,
    pub(crate) key: Option<Value>,
    pub(crate) value: Option<Value>,
    pub(crate) error: Option<Value>,
    pub(crate) node: Option<String>,
}

impl<'p> EventBuilder<'p> {
    pub(crate) fn new(path: &'p Path) -> Self {
        EventBuilder {
            path,
            history: History::default(),
            pairer: None,
            count: 0,
        }
    }

    pub(crate) fn pairing(path: &'p Path) -> Self {
        EventBuilder {
            pairer: Some(Pairer::default()),
            ..EventBuilder::new(path)
        }
    }

    pub(crate) fn err(&self, loc: &Location, message: impl Into<String>) -> ReadError {
        ReadError::new(self.path, loc.line, loc.column, message)
    }

    pub(crate) fn push(&mut self, fields: Fields, loc: Location) -> Result<(), ReadError> {
        let process_value = fields.process.ok_or_else(|| {
            self.err(&loc, "op has no process (expected :process or \"process\")")
        })?;
        let process = Process::from_value(&process_value).ok_or_else(|| {
            self.err(
                &loc,
                format!(
                    "process is {}, expected an integer or \"nemesis\"",
                    process_value.kind()
                ),
            )
        })?;
        let kind_value = fields
            .kind
            .ok_or_else(|| self.err(&loc, "op has no type (expected invoke, ok, fail or info)"))?;
        let kind = match &kind_value {
            Name::Text(s) => EventType::parse(s),
            Name::Other(_) => None,
        }
        .ok_or_else(|| {
            self.err(
                &loc,
                format!("type is {kind_value}, expected invoke, ok, fail or info"),
            )
        })?;
        let f = match fields.f {
            Some(Name::Text(s)) => s,
            Some(Name::Other(Value::Nil)) | None if process == Process::Nemesis => {
                CompactString::default()
            }
            Some(Name::Other(other)) => {
                return Err(self.err(&loc, format!("f is {}, expected a name", other.kind())))
            }
            None => return Err(self.err(&loc, "op has no f (the function, e.g. read)")),
        };
        let index = match fields.index {
            Some(i) if i >= 0 => i as u64,
            _ => self.count,
        };
        self.count += 1;
        let event = Event {
            index,
            time: fields.time,
            process,
            kind,
            f,
            key: fields.key,
            value: fields.value.unwrap_or_default(),
            error: fields.error,
            node: fields.node,
            location: loc,
        };
        match self.pairer.as_mut() {
            Some(p) => p
                .push(event)
                .map_err(|e| ReadError::new(self.path, e.line, 0, e.message)),
            None => {
                self.history.events.push(event);
                Ok(())
            }
        }
    }

    pub(crate) fn warn(&mut self, line: u64, message: impl Into<String>) {
        self.history.warnings.push(Warning {
            line,
            message: message.into(),
        });
    }
}
