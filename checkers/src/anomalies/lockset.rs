//! The lock-set checker (Jepsen's lock-set): clients take a lock, read a shared set, write it
//! back with their element added, and release. If the lock is exclusive, no acknowledged add is
//! ever lost.
//!
//! Ops:
//! - `acquire` on the lock's key → `[lock-key lease-id ttl renewed-ms]`: the lease behind the
//!   lock, the TTL granted (s), and how long after the op began the latest acknowledged renewal
//!   of that lease was sent (ms);
//! - `release` on the lock's key (request: `[lock-key lease-id]`);
//! - `add` on the set's key (request: `[element set-written]`, or `[element set-written
//!   lock-key]` when the write is fenced by the lock's key): the whole set written back;
//! - `read` on the set's key → the set's elements.
//!
//! Two judgements:
//! - **the set**: an element whose add was acknowledged is in every read that began after the
//!   add completed (`lost-add`, naming the read and the writes that could have overwritten it);
//!   no read holds an element nobody tried to add (`unexpected-element`). With no read after
//!   the adds, the set's verdict is unknown.
//! - **the lock**, with a mutex model that knows its holder: the acquires and releases must be
//!   linearizable, where a holder's release may take effect as early as the moment its lease is
//!   no longer proven alive (acquire's invocation + renewed-ms + TTL, on the history's clock) —
//!   even while its acquire is still in flight — or its release op, whichever is first. A
//!   lease-based lock is released by expiry too, without a release op, so a holder is only owed
//!   exclusivity while its lease is provably alive. An acquire whose outcome is unknown is left
//!   out: it may never have happened, and its client never used it (it gave its lease up).

use crate::history::describe::{describe_call, secs};
use crate::history::{Call, Outcome, Process};
use crate::models::model::{Model, OpError};
use crate::options::CheckOptions;
use crate::search::keys::check_keys;
use crate::value::Value;
use crate::verdict::{Anomaly, CheckError, KeyReport, VerdictName};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Lost elements shown per set; the count is in the summary.
const SHOWN: usize = 5;

pub fn check_calls(calls: &[Call], opts: &CheckOptions) -> Result<Vec<KeyReport>, CheckError> {
    for c in calls {
        if !["acquire", "release", "add", "read"].contains(&c.f.as_str()) {
            return Err(CheckError::Input {
                line: c.line,
                message: format!(
                    "the lock-set checker knows acquire, release, add and read, not {:?}",
                    c.f
                ),
            });
        }
    }
    let mut sets: BTreeMap<Value, Vec<&Call>> = BTreeMap::new();
    let mut locks: BTreeMap<Value, Vec<&Call>> = BTreeMap::new();
    for c in calls {
        let key = c.key.clone().unwrap_or_default();
        match c.f.as_str() {
            "acquire" | "release" => locks.entry(key).or_default().push(c),
            _ => sets.entry(key).or_default().push(c),
        }
    }
    let acquires: Vec<&Call> = calls
        .iter()
        .filter(|c| c.f == "acquire" && c.outcome == Outcome::Ok)
        .collect();
    let mut reports = Vec::new();
    for (key, calls) in sets {
        reports.push(check_set(key, &calls, &acquires)?);
    }
    for (key, calls) in locks {
        reports.push(check_lock(key, &calls, opts)?);
    }
    Ok(reports)
}

/// An add's element and the set it wrote.
fn add_parts(c: &Call) -> Result<(&Value, &[Value]), CheckError> {
    match c.invoke_value.as_list() {
        Some([e, Value::List(set)]) | Some([e, Value::List(set), _]) => Ok((e, set)),
        _ => Err(CheckError::Input {
            line: c.line,
            message: format!(
                "an add's request must be [element set-written], not {}",
                c.invoke_value
            ),
        }),
    }
}

fn read_elements(c: &Call) -> Result<BTreeSet<&Value>, CheckError> {
    match &c.value {
        Value::Nil => Ok(BTreeSet::new()),
        Value::List(l) => Ok(l.iter().collect()),
        Value::Set(s) => Ok(s.iter().collect()),
        other => Err(CheckError::Input {
            line: c.line,
            message: format!("a read of the set must return a list of elements, not {other}"),
        }),
    }
}

fn check_set(key: Value, calls: &[&Call], acquires: &[&Call]) -> Result<KeyReport, CheckError> {
    let started = Instant::now();
    let adds: Vec<(&Call, &Value, &[Value])> = calls
        .iter()
        .filter(|c| c.f == "add")
        .map(|c| add_parts(c).map(|(e, s)| (*c, e, s)))
        .collect::<Result<_, _>>()?;
    let reads: Vec<(&Call, BTreeSet<&Value>)> = calls
        .iter()
        .filter(|c| c.f == "read" && c.outcome == Outcome::Ok)
        .map(|c| read_elements(c).map(|s| (*c, s)))
        .collect::<Result<_, _>>()?;
    let mut anomalies = Vec::new();
    // Elements nobody tried to add before the read completed.
    for (r, set) in &reads {
        let done = r.complete_pos.unwrap_or(u64::MAX);
        let strange: Vec<&&Value> = set
            .iter()
            .filter(|e| {
                !adds
                    .iter()
                    .any(|(a, ae, _)| ae == *e && a.invoke_pos < done && a.outcome != Outcome::Fail)
            })
            .collect();
        if let Some(e) = strange.first() {
            anomalies.push(Anomaly {
                kind: "unexpected-element".into(),
                summary: format!(
                    "{} returned {e}{}, which no add that could have taken effect by then wrote",
                    describe_call(r),
                    if strange.len() > 1 {
                        format!(" (and {} more such elements)", strange.len() - 1)
                    } else {
                        String::new()
                    }
                ),
                calls: vec![(*r).clone()],
                steps: Vec::new(),
            });
        }
    }
    let mut lost = 0;
    let mut unverified = 0;
    for (a, e, _) in adds.iter().filter(|a| a.0.outcome == Outcome::Ok) {
        let done = a.complete_pos.unwrap_or(u64::MAX);
        let later: Vec<&(&Call, BTreeSet<&Value>)> =
            reads.iter().filter(|(r, _)| r.invoke_pos > done).collect();
        if later.is_empty() {
            unverified += 1;
            continue;
        }
        let Some((r, _)) = later.iter().find(|(_, set)| !set.contains(e)) else {
            continue;
        };
        lost += 1;
        if lost > SHOWN {
            continue;
        }
        // Writes that may have overwritten it: based on a set without it, and not over before
        // the add began.
        let mut culprits: Vec<&Call> = adds
            .iter()
            .filter(|(w, we, ws)| {
                we != e
                    && w.outcome != Outcome::Fail
                    && !ws.contains(e)
                    && w.invoke_pos < r.invoke_pos
                    // One of unknown outcome may land any time after its invocation.
                    && (w.outcome != Outcome::Ok
                        || w.complete_pos.is_none_or(|p| p > a.invoke_pos))
            })
            .map(|(w, _, _)| *w)
            .collect();
        culprits.sort_by_key(|w| std::cmp::Reverse(w.invoke_pos));
        culprits.truncate(2);
        let mut shown = vec![(*a).clone(), (*r).clone()];
        shown.extend(culprits.iter().map(|w| (*w).clone()));
        // Writers that wrote when their lock's lease was no longer proven alive, with the acquire
        // that says so: how the lock came to let two sections overlap.
        let mut stale = Vec::new();
        for w in std::iter::once(*a).chain(culprits.iter().copied()) {
            let Some((acq, deadline)) = lock_of(w, acquires) else {
                continue;
            };
            if w.invoke_time.is_some_and(|t| t > deadline) {
                stale.push(format!(
                    "{} began at {}, after its lock's lease was last proven alive ({}; {}{})",
                    describe_call(w),
                    secs(w.invoke_time.unwrap_or(0)),
                    secs(deadline),
                    describe_call(acq),
                    if acq.complete_time.is_some_and(|t| t > deadline) {
                        " returned the lock only after that"
                    } else {
                        ""
                    }
                ));
                shown.push(acq.clone());
            }
        }
        shown.sort_by_key(|c| c.invoke_pos);
        shown.dedup();
        anomalies.push(Anomaly {
            kind: "lost-add".into(),
            summary: format!(
                "element {e} was lost: {} was acknowledged, but {}, which began after it, does \
                 not hold {e}{}{}",
                describe_call(a),
                describe_call(r),
                if culprits.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; overwritten by a write of a set read without it: {} (the lock did \
                         not keep the two critical sections apart)",
                        culprits
                            .iter()
                            .map(|w| describe_call(w))
                            .collect::<Vec<_>>()
                            .join(", or ")
                    )
                },
                if stale.is_empty() {
                    String::new()
                } else {
                    format!(". {}", stale.join("; "))
                }
            ),
            calls: shown,
            steps: Vec::new(),
        });
    }
    if lost > SHOWN {
        if let Some(first) = anomalies.iter_mut().find(|a| a.kind == "lost-add") {
            first.summary = format!(
                "{lost} acknowledged adds were lost (the first {SHOWN} are shown). {}",
                first.summary
            );
        }
    }
    let acked = adds.iter().filter(|a| a.0.outcome == Outcome::Ok).count();
    let (verdict, reason) = if !anomalies.is_empty() {
        (VerdictName::Invalid, None)
    } else if acked > 0 && unverified == acked {
        (
            VerdictName::Unknown,
            Some(format!(
                "no read of the set began after any of its {acked} acknowledged adds completed"
            )),
        )
    } else {
        (VerdictName::Valid, None)
    };
    Ok(KeyReport {
        verdict,
        reason,
        ..KeyReport::from_anomalies(key, anomalies, calls.len(), started.elapsed())
    })
}

/// The acquire a write was made under (its process's latest acquire before it), and that
/// lock's proven lease deadline.
fn lock_of<'c>(w: &Call, acquires: &[&'c Call]) -> Option<(&'c Call, i64)> {
    let acq = acquires
        .iter()
        .filter(|a| a.process == w.process && a.invoke_pos < w.invoke_pos)
        .max_by_key(|a| a.invoke_pos)?;
    Some((acq, deadline(acq)?))
}

/// When an acquire's lease was last proven alive: its invocation + renewed-ms + TTL.
fn deadline(a: &Call) -> Option<i64> {
    let parts = a.value.as_list()?;
    let (ttl, renewed) = (parts.get(2)?.as_integer()?, parts.get(3)?.as_integer()?);
    Some(
        a.invoke_time?
            .saturating_add(renewed.saturating_mul(1_000_000))
            .saturating_add(ttl.saturating_mul(1_000_000_000)),
    )
}

/// A lock that knows its holder: only the holder's release frees it.
struct OwnedMutex;

impl Model for OwnedMutex {
    /// The holder (its lease), if any.
    type State = Option<i64>;
    /// (acquire?, holder)
    type Op = (bool, i64);

    fn init(&self) -> Option<i64> {
        None
    }

    fn op(&self, call: &Call) -> Result<Option<(bool, i64)>, OpError> {
        match (call.f.as_str(), call.invoke_value.as_int()) {
            ("acquire", Some(h)) => Ok(Some((true, h))),
            ("release", Some(h)) => Ok(Some((false, h))),
            _ => Err(OpError::Value(format!(
                "not a holder's acquire or release: {}",
                call.f
            ))),
        }
    }

    fn step(&self, state: &Option<i64>, &(acquire, h): &(bool, i64), next: &mut Vec<Option<i64>>) {
        match (acquire, state) {
            (true, None) => next.push(Some(h)),
            (false, Some(held)) if *held == h => next.push(None),
            _ => {}
        }
    }

    fn show_state(&self, state: &Option<i64>) -> Value {
        match state {
            None => Value::from("free"),
            Some(h) => Value::Str(format!("held under lease {h}")),
        }
    }
}

/// The acquire/release history as the holder-aware mutex sees it: each holder's acquire, and its
/// release (by op or by expiry) as a call of its own, invoked no later than the holder's lease
/// deadline.
fn check_lock(key: Value, calls: &[&Call], opts: &CheckOptions) -> Result<KeyReport, CheckError> {
    // Endpoints: (time, call index, is-completion); positions come from sorting them.
    let mut synthetic: Vec<Call> = Vec::new();
    let mut ends: Vec<(i64, usize, bool)> = Vec::new();
    let releases: Vec<&Call> = calls.iter().filter(|c| c.f == "release").copied().collect();
    for a in calls
        .iter()
        .filter(|c| c.f == "acquire" && c.outcome == Outcome::Ok)
    {
        let (Some(inv), Some(done)) = (a.invoke_time, a.complete_time) else {
            return Err(CheckError::Input {
                line: a.line,
                message: "the lock-set checker needs each event's time (a lock lives as long as \
                          its lease), and this one has none"
                    .into(),
            });
        };
        let lease = a.value.as_list().and_then(|parts| parts.get(1));
        let (Some(lease), Some(deadline)) = (lease, deadline(a)) else {
            return Err(CheckError::Input {
                line: a.line,
                message: format!(
                    "an acquire must return [lock-key lease-id ttl renewed-ms], not {}",
                    a.value
                ),
            });
        };
        let release = releases.iter().find(|r| {
            r.invoke_pos > a.invoke_pos
                && r.invoke_value.as_list().and_then(|l| l.get(1)) == Some(lease)
        });
        let Some(holder) = lease.as_int() else {
            return Err(CheckError::Input {
                line: a.line,
                message: format!("an acquire's lease id must be an integer, not {lease}"),
            });
        };
        let i = synthetic.len();
        let mut acq = (*a).clone();
        acq.process = Process::Named(format!("acquire under lease {holder}"));
        acq.invoke_value = Value::Int(holder);
        synthetic.push(acq);
        ends.push((inv, i, false));
        ends.push((done, i, true));
        // Released by its op or by expiry, whichever is first: from the release's invocation or
        // the lease's proven deadline on; by the release's acknowledgement at the latest.
        let (rel_inv, rel_done, line) = match release {
            Some(r) => (
                r.invoke_time.unwrap_or(i64::MAX).min(deadline),
                (r.outcome == Outcome::Ok)
                    .then_some(r.complete_time)
                    .flatten(),
                r.line,
            ),
            None => (deadline, None, a.line),
        };
        let j = synthetic.len();
        synthetic.push(Call {
            process: Process::Named(format!("release under lease {holder}")),
            f: "release".into(),
            key: a.key.clone(),
            node: release.and_then(|r| r.node.clone()),
            invoke_value: Value::Int(holder),
            value: Value::Int(holder),
            outcome: if rel_done.is_some() {
                Outcome::Ok
            } else {
                Outcome::Info
            },
            invoke_index: release.map_or(a.invoke_index, |r| r.invoke_index),
            complete_index: release.and_then(|r| r.complete_index),
            invoke_time: Some(rel_inv),
            complete_time: rel_done,
            line,
            invoke_pos: 0,
            complete_pos: None,
        });
        ends.push((rel_inv, j, false));
        if let Some(t) = rel_done {
            ends.push((t.max(rel_inv), j, true));
        }
    }
    // Invocations before completions at the same instant: the looser order.
    ends.sort_by_key(|&(t, i, done)| (t, done, i));
    for (pos, (_, i, done)) in ends.into_iter().enumerate() {
        if done {
            synthetic[i].complete_pos = Some(pos as u64);
        } else {
            synthetic[i].invoke_pos = pos as u64;
        }
    }
    if synthetic.is_empty() {
        return Ok(KeyReport {
            verdict: VerdictName::Unknown,
            reason: Some("no acquire of the lock succeeded".into()),
            ..KeyReport::from_anomalies(key, Vec::new(), calls.len(), Default::default())
        });
    }
    for c in synthetic.iter_mut() {
        c.key = Some(key.clone());
    }
    let mut reports = check_keys(&OwnedMutex, &synthetic, opts)?;
    let mut report = reports.remove(0);
    if let Some(e) = report.explanation.as_mut() {
        e.summary = format!(
            "the lock was held twice at once (each holder counted only while its lease was \
             provably alive): {}",
            e.summary
        );
    }
    Ok(report)
}
