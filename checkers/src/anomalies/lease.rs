//! The lease checker: a key attached to a lease must not vanish while the lease is provably
//! alive, and must be gone once its lease was revoked.
//!
//! Ops, one lease per key (the key names the lease's whole life):
//! - `grant` (request: the TTL asked, in seconds) → `[lease-id ttl]`, the TTL granted;
//! - `put` (request: the lease id) attaches the key;
//! - `keepalive` (request: the lease id) → the TTL renewed, or `0` when the lease was not found;
//! - `revoke` (request: the lease id) → `true`, or `false` when the lease was not found;
//! - `delete` (request: nil) removes the key;
//! - `read` → the key's value, or nil when it is absent.
//!
//! Which times are trusted: only the history's own, from the harness's monotonic clock — never a
//! server's. An acknowledged grant or keepalive invoked at `t` with TTL `s` proves the lease
//! alive until at least `t + s`: the server renewed it at some moment after `t` and counts `s`
//! from then (a dead lease cannot be renewed, so it was alive all along before). A server may
//! expire a lease later than that (etcd extends every lease across a leader change), so late
//! expiry is allowed and nothing is concluded from a key still present after `t + s`.
//!
//! Rules, each an anomaly naming its calls:
//! - `premature-expiry`: a read that began after the key's put completed and ended before the
//!   lease's proven deadline found the key gone (or a keepalive or revoke found the lease gone),
//!   with no revoke or delete of it invoked before;
//! - `revoked-key-present`: a read that began after a revoke was acknowledged found the key;
//! - `renewed-after-revoke`: a keepalive invoked after a revoke was acknowledged renewed the
//!   lease.

use crate::history::describe::{describe_call, secs};
use crate::history::{Call, Outcome};
use crate::value::Value;
use crate::verdict::{Anomaly, CheckError, KeyReport};
use std::collections::BTreeMap;
use std::time::Instant;

/// Anomalies of one kind shown per key; the first ones tell the story.
const SHOWN: usize = 3;

const F: [&str; 6] = ["grant", "put", "keepalive", "revoke", "delete", "read"];

/// Check paired calls (any keys) against the lease rules.
pub fn check_calls(calls: &[Call]) -> Result<Vec<KeyReport>, CheckError> {
    let mut by_key: BTreeMap<Value, Vec<&Call>> = BTreeMap::new();
    for c in calls {
        if !F.contains(&c.f.as_str()) {
            return Err(CheckError::Input {
                line: c.line,
                message: format!(
                    "the lease checker knows the functions {}, not {:?}",
                    F.join(", "),
                    c.f
                ),
            });
        }
        if c.invoke_time.is_none() || (c.complete_index.is_some() && c.complete_time.is_none()) {
            return Err(CheckError::Input {
                line: c.line,
                message: "the lease checker needs each event's time (a lease's life is judged \
                          against the history's clock), and this one has none"
                    .into(),
            });
        }
        by_key
            .entry(c.key.clone().unwrap_or_default())
            .or_default()
            .push(c);
    }
    by_key
        .into_iter()
        .map(|(key, calls)| check_key(key, &calls))
        .collect()
}

/// The TTL an acknowledged grant (`[id ttl]`) or keepalive (`ttl`) reported.
fn renewal_ttl(c: &Call) -> Option<i64> {
    match c.f.as_str() {
        "grant" => c.value.as_list()?.get(1)?.as_integer(),
        "keepalive" => c.value.as_integer(),
        _ => None,
    }
}

fn check_key(key: Value, calls: &[&Call]) -> Result<KeyReport, CheckError> {
    let started = Instant::now();
    let ok = |c: &&&Call| c.outcome == Outcome::Ok;
    // The lease the key was attached to: every put must name the same one.
    let puts: Vec<&Call> = calls.iter().filter(|c| c.f == "put").copied().collect();
    if let Some(other) = puts.iter().find(|p| p.invoke_value != puts[0].invoke_value) {
        return Err(CheckError::Input {
            line: other.line,
            message: format!(
                "key {key} is put with lease {} here but with lease {} at {}: the lease checker \
                 expects one lease per key",
                other.invoke_value,
                puts[0].invoke_value,
                puts[0].place()
            ),
        });
    }
    // Proofs of life: (deadline, the call that proves it).
    let mut proofs: Vec<(i64, &Call)> = Vec::new();
    for c in calls.iter().filter(ok) {
        if let (Some(ttl), Some(t)) = (renewal_ttl(c), c.invoke_time) {
            if ttl > 0 {
                proofs.push((t.saturating_add(ttl.saturating_mul(1_000_000_000)), c));
            }
        }
    }
    let proof = proofs.iter().max_by_key(|p| p.0).copied();
    // The first moment the key may have been removed on purpose: a revoke or delete not known to
    // have failed may take effect from its invocation on.
    // (A revoke that found the lease gone is judged against the others.)
    let ended = |except: &Call| {
        calls
            .iter()
            .filter(|c| (c.f == "revoke" || c.f == "delete") && c.outcome != Outcome::Fail)
            .filter(|c| !std::ptr::eq(**c, except))
            .filter_map(|c| c.invoke_time)
            .min()
            .unwrap_or(i64::MAX)
    };
    let put_done = puts
        .iter()
        .filter(|p| p.outcome == Outcome::Ok)
        .filter_map(|p| p.complete_time)
        .min();
    let grant_done = calls
        .iter()
        .filter(|c| c.f == "grant" && c.outcome == Outcome::Ok)
        .filter_map(|c| c.complete_time)
        .min();
    let mut anomalies = Vec::new();
    if let Some((deadline, proof_call)) = proof {
        for c in calls.iter().filter(ok) {
            let (Some(inv), Some(done)) = (c.invoke_time, c.complete_time) else {
                continue;
            };
            if done > deadline || done >= ended(c) {
                continue;
            }
            let gone = match c.f.as_str() {
                "read" => put_done.is_some_and(|p| inv >= p) && c.value.is_nil(),
                "keepalive" => {
                    grant_done.is_some_and(|g| inv >= g) && c.value.as_integer() == Some(0)
                }
                "revoke" => grant_done.is_some_and(|g| inv >= g) && c.value == Value::Bool(false),
                _ => false,
            };
            if !gone {
                continue;
            }
            let what = match c.f.as_str() {
                "read" => "found the key gone",
                "keepalive" => "found the lease gone",
                _ => "found the lease already gone",
            };
            let mut shown = vec![proof_call.clone(), (*c).clone()];
            if let Some(p) = puts.iter().find(|p| p.outcome == Outcome::Ok) {
                if c.f == "read" {
                    shown.push((*p).clone());
                }
            }
            shown.sort_by_key(|c| c.invoke_pos);
            Anomaly::keep(
                &mut anomalies,
                Anomaly {
                    kind: "premature-expiry".into(),
                    summary: format!(
                    "key {key} expired early: {}, invoked at {} and completed at {}, {what}; but \
                     the lease's last renewal, {} invoked at {}, was acknowledged with TTL {}, so \
                     the lease was alive until at least {}, and no revoke or delete of it was \
                     issued before",
                    describe_call(c),
                    secs(inv),
                    secs(done),
                    describe_call(proof_call),
                    secs(proof_call.invoke_time.unwrap_or(0)),
                    ttl_of(proof_call),
                    secs(deadline),
                ),
                    calls: shown,
                    steps: Vec::new(),
                },
                SHOWN,
            );
        }
    }
    // After an acknowledged revoke: no key, no renewal.
    let revoked = calls
        .iter()
        .filter(|c| c.f == "revoke" && c.outcome == Outcome::Ok && c.value == Value::Bool(true))
        .min_by_key(|c| c.complete_time);
    if let Some(rv) = revoked {
        let at = rv.complete_time.unwrap_or(i64::MAX);
        for c in calls.iter().filter(ok) {
            if c.invoke_time.unwrap_or(i64::MIN) < at {
                continue;
            }
            let (kind, what) = match c.f.as_str() {
                "read" if !c.value.is_nil() => ("revoked-key-present", "found the key"),
                "keepalive" if c.value.as_integer().is_some_and(|t| t > 0) => (
                    "renewed-after-revoke",
                    "renewed the lease (a revoked lease cannot be renewed)",
                ),
                _ => continue,
            };
            Anomaly::keep(
                &mut anomalies,
                Anomaly {
                    kind: kind.into(),
                    summary: format!(
                    "key {key}: {}, invoked at {} after the lease's revoke ({}) was acknowledged \
                     at {}, {what}",
                    describe_call(c),
                    secs(c.invoke_time.unwrap_or(0)),
                    describe_call(rv),
                    secs(at),
                ),
                    calls: vec![(*rv).clone(), (*c).clone()],
                    steps: Vec::new(),
                },
                SHOWN,
            );
        }
    }
    Ok(KeyReport::from_anomalies(
        key,
        anomalies,
        calls.len(),
        started.elapsed(),
    ))
}

fn ttl_of(c: &Call) -> String {
    renewal_ttl(c).map_or("?".into(), |t| format!("{t} s"))
}
