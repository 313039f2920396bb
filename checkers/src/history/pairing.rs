//! Pairing invocations with their completions into calls.

use crate::history::call::{Call, Outcome};
use crate::history::event::{Event, EventType, History, Process, Warning};
use crate::value::Value;
use std::collections::HashMap;

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
    use crate::history::event::Location;

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
