//! The watch checker: what every watcher saw must be one history of changes, delivered once, in
//! revision order, with no gaps, agreeing with what was written and with the final reads.
//!
//! Ops:
//! - `watch` on a key prefix (request `[from-revision span-ms]`) → `[events header-revision
//!   end]`, each event `[revision key value type]` (`put` or `delete`, value nil for a delete),
//!   `end` why the stream ended (`span`, `closed`, `compacted <rev>`, `canceled: …`, `broken: …`);
//! - `write` of a unique value to a key;
//! - `read-revision` of a key → `[value mod-revision store-revision]`.
//!
//! A watcher is a process; its watches, in order, resume from the revision after the last event
//! it saw. Rules, each an anomaly naming the watcher, the revisions and the events:
//! - `duplicate`: a revision delivered twice to one watcher;
//! - `out-of-order`: a revision lower than one the watcher already saw (a watch that went back in
//!   time), or below the revision its watch asked to start from;
//! - `gap`: a revision some watcher saw, within the span another watcher covered (from the
//!   revision its watch started at to the last it saw), missing from that one — unless its stream
//!   reported a compaction;
//! - `disagreement`: two watchers saw different keys, values or types at one revision;
//! - `lost-write`: an acknowledged write missing from a watch that delivered a change written
//!   before the write began and one written after it completed (so its revision lies inside);
//! - `phantom`: a put event whose value was never written to that key (values are unique);
//! - `read-mismatch`: a final read whose value and mod revision disagree with the events at that
//!   revision, or with a later event on that key up to the read's store revision.

use crate::history::describe::describe_call;
use crate::history::{Call, Outcome, Process};
use crate::value::Value;
use crate::verdict::{Anomaly, CheckError, KeyReport, VerdictName};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

/// Anomalies of one kind shown per watcher.
const SHOWN: usize = 3;

/// One delivered event.
#[derive(Clone, Debug, PartialEq)]
struct Event {
    rev: i64,
    key: Value,
    value: Value,
    delete: bool,
}

fn parse_events(c: &Call) -> Result<(Vec<Event>, String), CheckError> {
    let bad = |what: String| CheckError::Input {
        line: c.line,
        message: format!("a watch must return [events header-revision end]: {what}"),
    };
    let Some([Value::List(events), _, end]) = c.value.as_list() else {
        return Err(bad(format!("not {}", c.value)));
    };
    let mut out = Vec::new();
    for e in events {
        let Some([Value::Int(rev), key, value, kind]) = e.as_list() else {
            return Err(bad(format!(
                "an event must be [revision key value type], not {e}"
            )));
        };
        out.push(Event {
            rev: *rev,
            key: key.clone(),
            value: value.clone(),
            delete: kind.as_str() == Some("delete"),
        });
    }
    Ok((out, end.as_str().unwrap_or("").to_string()))
}

fn from_revision(c: &Call) -> i64 {
    c.invoke_value
        .as_list()
        .and_then(|v| v.first())
        .and_then(|v| v.as_int())
        .unwrap_or(0)
}

fn show(e: &Event) -> String {
    if e.delete {
        format!("[{} {} deleted]", e.rev, e.key)
    } else {
        format!("[{} {} = {}]", e.rev, e.key, e.value)
    }
}

/// A watch, what it delivered, and why its stream ended.
type Watched<'c> = (&'c Call, Vec<Event>, String);

pub fn check_calls(calls: &[Call]) -> Result<Vec<KeyReport>, CheckError> {
    let started = Instant::now();
    for c in calls {
        if !["watch", "write", "read-revision"].contains(&c.f.as_str()) {
            return Err(CheckError::Input {
                line: c.line,
                message: format!(
                    "the watch checker knows watch, write and read-revision, not {:?}",
                    c.f
                ),
            });
        }
    }
    // Each watcher's watches in order, with what they delivered.
    let mut watchers: BTreeMap<Process, Vec<Watched>> = BTreeMap::new();
    for c in calls
        .iter()
        .filter(|c| c.f == "watch" && c.outcome == Outcome::Ok)
    {
        let (events, end) = parse_events(c)?;
        watchers
            .entry(c.process.clone())
            .or_default()
            .push((c, events, end));
    }
    // What was written, per key (any write not known to have failed may have happened).
    let written: HashSet<(Value, Value)> = calls
        .iter()
        .filter(|c| c.f == "write" && c.outcome != Outcome::Fail)
        .map(|c| (c.key.clone().unwrap_or_default(), c.invoke_value.clone()))
        .collect();
    // The write behind each value (values are unique), to place writes in real time.
    let writer: std::collections::HashMap<&Value, &Call> = calls
        .iter()
        .filter(|c| c.f == "write" && c.outcome != Outcome::Fail)
        .map(|c| (&c.invoke_value, c))
        .collect();
    let acked: Vec<&Call> = calls
        .iter()
        .filter(|c| c.f == "write" && c.outcome == Outcome::Ok)
        .collect();
    // Every revision any watcher saw, and what it was.
    let mut seen: BTreeMap<i64, (Event, &Call)> = BTreeMap::new();
    let mut shared = Vec::new();
    let mut reports = Vec::new();
    let mut total = 0;
    for ops in watchers.values() {
        for (c, events, _) in ops {
            for e in events {
                total += 1;
                match seen.get(&e.rev) {
                    None => {
                        seen.insert(e.rev, (e.clone(), c));
                    }
                    Some((other, oc)) if other != e => {
                        let a = Anomaly {
                            kind: "disagreement".into(),
                            summary: format!(
                                "at revision {}, {} delivered {} but {} delivered {}",
                                e.rev,
                                describe_call(oc),
                                show(other),
                                describe_call(c),
                                show(e)
                            ),
                            calls: vec![(*oc).clone(), (*c).clone()],
                            steps: Vec::new(),
                        };
                        Anomaly::keep(&mut shared, a, SHOWN);
                    }
                    _ => {}
                }
                if !e.delete && !written.contains(&(e.key.clone(), e.value.clone())) {
                    let a = Anomaly {
                        kind: "phantom".into(),
                        summary: format!(
                            "{} delivered {}, a value never written to {}",
                            describe_call(c),
                            show(e),
                            e.key
                        ),
                        calls: vec![(*c).clone()],
                        steps: Vec::new(),
                    };
                    Anomaly::keep(&mut shared, a, SHOWN);
                }
            }
        }
    }
    for (process, ops) in &watchers {
        let mut anomalies: Vec<Anomaly> = Vec::new();
        let mut push = |a: Anomaly| Anomaly::keep(&mut anomalies, a, SHOWN);
        let mut delivered: BTreeSet<i64> = BTreeSet::new();
        let mut last: Option<(i64, &Call)> = None;
        for (c, events, end) in ops {
            let from = from_revision(c);
            for e in events {
                if e.rev < from {
                    push(Anomaly {
                        kind: "out-of-order".into(),
                        summary: format!(
                            "watcher {process}: {} asked to start at revision {from} but \
                             delivered {}",
                            describe_call(c),
                            show(e)
                        ),
                        calls: vec![(*c).clone()],
                        steps: Vec::new(),
                    });
                }
                match last {
                    Some((l, lc)) if e.rev == l || delivered.contains(&e.rev) => push(Anomaly {
                        kind: "duplicate".into(),
                        summary: format!(
                            "watcher {process}: revision {} delivered again by {} (first by {})",
                            e.rev,
                            describe_call(c),
                            describe_call(lc)
                        ),
                        calls: vec![lc.clone(), (*c).clone()],
                        steps: Vec::new(),
                    }),
                    Some((l, lc)) if e.rev < l => push(Anomaly {
                        kind: "out-of-order".into(),
                        summary: format!(
                            "watcher {process} went back in time: {} delivered {} after \
                             revision {l} (delivered by {})",
                            describe_call(c),
                            show(e),
                            describe_call(lc)
                        ),
                        calls: vec![lc.clone(), (*c).clone()],
                        steps: Vec::new(),
                    }),
                    _ => {}
                }
                delivered.insert(e.rev);
                if last.is_none_or(|(l, _)| e.rev > l) {
                    last = Some((e.rev, c));
                }
            }
            // No gaps within what this watch covered, unless it said history was compacted.
            if let Some(lastev) = events.last() {
                // (A watch that delivered below its start is reported above.)
                if !end.starts_with("compacted") && from <= lastev.rev {
                    let revs: HashSet<i64> = events.iter().map(|e| e.rev).collect();
                    let missing: Vec<i64> = seen
                        .range(from..=lastev.rev)
                        .map(|(r, _)| *r)
                        .filter(|r| !revs.contains(r))
                        .collect();
                    if let Some(r) = missing.first() {
                        let (e, by) = &seen[r];
                        push(Anomaly {
                            kind: "gap".into(),
                            summary: format!(
                                "watcher {process}: {} covered revisions {from} to {} but \
                                 skipped {}{} — {} delivered by {}",
                                describe_call(c),
                                lastev.rev,
                                r,
                                if missing.len() > 1 {
                                    format!(" (and {} more)", missing.len() - 1)
                                } else {
                                    String::new()
                                },
                                show(e),
                                describe_call(by)
                            ),
                            calls: vec![(*by).clone(), (*c).clone()],
                            steps: Vec::new(),
                        });
                    }
                }
            }
        }
        // No acknowledged write missing from a watch that covered it: one that delivered a
        // change written before the write began and one written after it completed.
        for (c, events, end) in ops {
            if end.starts_with("compacted") || events.is_empty() {
                continue;
            }
            let delivered: HashSet<&Value> = events.iter().map(|e| &e.value).collect();
            // A write took effect after its invocation, and — only if acknowledged — before
            // its completion: one of unknown outcome may land any time later.
            let times = |e: &Event| {
                writer.get(&e.value).map(|w| {
                    let done = match w.outcome {
                        Outcome::Ok => w.complete_pos.unwrap_or(u64::MAX),
                        _ => u64::MAX,
                    };
                    (w.invoke_pos, done)
                })
            };
            let placed: Vec<(u64, u64)> = events.iter().filter_map(times).collect();
            let Some(earliest_done) = placed.iter().map(|p| p.1).min() else {
                continue;
            };
            let Some(latest_begun) = placed.iter().map(|p| p.0).max() else {
                continue;
            };
            for w in &acked {
                let done = w.complete_pos.unwrap_or(u64::MAX);
                if earliest_done < w.invoke_pos
                    && done < latest_begun
                    && !delivered.contains(&w.invoke_value)
                {
                    push(Anomaly {
                        kind: "lost-write".into(),
                        summary: format!(
                            "watcher {process}: {} delivered changes written before and after \
                             {} (acknowledged), but not its value {}",
                            describe_call(c),
                            describe_call(w),
                            w.invoke_value
                        ),
                        calls: vec![(*w).clone(), (*c).clone()],
                        steps: Vec::new(),
                    });
                }
            }
        }
        let n: usize = ops.iter().map(|o| o.1.len()).sum();
        reports.push(KeyReport::from_anomalies(
            Value::Str(format!("watcher {process}")),
            anomalies,
            n,
            Default::default(),
        ));
    }
    // Final reads against the events.
    for r in calls
        .iter()
        .filter(|c| c.f == "read-revision" && c.outcome == Outcome::Ok)
    {
        let Some([value, Value::Int(m), Value::Int(rev)]) = r.value.as_list() else {
            return Err(CheckError::Input {
                line: r.line,
                message: format!(
                    "a read-revision must return [value mod-revision revision], not {}",
                    r.value
                ),
            });
        };
        let key = r.key.clone().unwrap_or_default();
        if let Some((e, by)) = seen.get(m) {
            if e.key != key || e.value != *value {
                shared.push(Anomaly {
                    kind: "read-mismatch".into(),
                    summary: format!(
                        "{} read {} at mod revision {m}, but {} delivered {} at that revision",
                        describe_call(r),
                        value,
                        describe_call(by),
                        show(e)
                    ),
                    calls: vec![(*by).clone(), (*r).clone()],
                    steps: Vec::new(),
                });
            }
        }
        let after = if rev > m {
            seen.range(m + 1..=*rev).find(|(_, (e, _))| e.key == key)
        } else {
            None
        };
        if let Some((later, (e, by))) = after {
            shared.push(Anomaly {
                kind: "read-mismatch".into(),
                summary: format!(
                    "{} read {value} last changed at revision {m} (store at {rev}), but {} \
                     delivered {} at revision {later}",
                    describe_call(r),
                    describe_call(by),
                    show(e)
                ),
                calls: vec![(*by).clone(), (*r).clone()],
                steps: Vec::new(),
            });
        }
    }
    reports.push(KeyReport {
        reason: (total == 0).then(|| "no watcher saw any event".to_string()),
        ..KeyReport::from_anomalies(
            Value::Str("all watchers".into()),
            shared,
            total,
            started.elapsed(),
        )
    });
    if total == 0 {
        if let Some(all) = reports.last_mut() {
            all.verdict = VerdictName::Unknown;
        }
    }
    Ok(reports)
}
