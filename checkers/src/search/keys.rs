//! The per-key engine of the linearizability checkers: each key's calls translated by the model,
//! decided by its polynomial procedure or the search, keys in parallel, then explained.

use crate::history::{Call, Outcome};
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::model::Model;
use crate::options::Budget;
use crate::options::CheckOptions;
use crate::search::explain::{explain, Found};
use crate::search::wgl::{self, Verdict};
use crate::value::Value;
use crate::verdict::{CheckError, KeyReport, Method, VerdictName};
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Calls below which a history's keys are checked one after another on the calling thread:
/// starting a thread pool costs about a millisecond, more than checking a few hundred calls.
const SEQUENTIAL_BELOW: usize = 1_000;

/// One key's calls as reported, and as the search sees them.
type KeyWork<'c, O> = (Value, Vec<&'c Call>, Vec<SearchCall<O>>);

/// A key's verdict, and what an invalid one rests on.
type Judged<M> = (KeyReport, Option<Found<M>>);

pub(crate) fn check_keys<'c, M: Model>(
    model: &M,
    calls: &'c [Call],
    opts: &CheckOptions,
) -> Result<Vec<KeyReport>, CheckError> {
    // Calls by key, in key order: a hash map finds each call's key (a tree of 10,000 keys costs
    // a dozen comparisons a call), and only the keys are sorted.
    static NO_KEY: Value = Value::Nil;
    let mut place: HashMap<&'c Value, usize, ahash::RandomState> = HashMap::default();
    let mut by_key: Vec<(&'c Value, Vec<&'c Call>)> = Vec::new();
    for c in calls {
        let key = c.key.as_ref().unwrap_or(&NO_KEY);
        let g = *place.entry(key).or_insert_with(|| {
            by_key.push((key, Vec::new()));
            by_key.len() - 1
        });
        by_key[g].1.push(c);
    }
    by_key.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let sequential = opts.threads == 1;
    // One key: no other key to run beside it, and handing it to a pool thread costs more than
    // its check on small histories. Its shrink probes may still run on other threads. A small
    // history is checked before a pool's threads would have started.
    let one_at_a_time = sequential || by_key.len() == 1 || calls.len() < SEQUENTIAL_BELOW;
    let translate = |(key, key_calls): (&Value, Vec<&'c Call>)| {
        let mut kept = Vec::new();
        let mut ops = Vec::new();
        for c in key_calls {
            if c.outcome == Outcome::Fail {
                continue;
            }
            match model.op(c) {
                Ok(Some(op)) => {
                    kept.push(c);
                    ops.push(search_call(c, op));
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(CheckError::Input {
                        line: c.line,
                        message: e.to_string(),
                    })
                }
            }
        }
        Ok((key.clone(), kept, ops))
    };
    let run = || -> Result<Vec<KeyReport>, CheckError> {
        // Translate every call first, so a bad op is reported before any search starts: keys
        // on every core, and the error of the first key in order, as one at a time would find it.
        let translated: Vec<Result<KeyWork<M::Op>, CheckError>> = if one_at_a_time {
            by_key.into_iter().map(translate).collect()
        } else {
            by_key.into_par_iter().map(translate).collect()
        };
        let mut work = translated.into_iter().collect::<Result<Vec<_>, _>>()?;
        // Biggest keys first, so one slow key does not start last.
        work.sort_by_key(|w| std::cmp::Reverse(w.2.len()));
        // First every verdict, then the explanations, with the shrink budget shared out evenly
        // among the invalid keys: the same shares on every run.
        let judge_one = |(key, _, ops): &KeyWork<M::Op>| judge(model, key, ops, opts);
        let judged: Vec<Judged<M>> = if one_at_a_time {
            work.iter().map(judge_one).collect()
        } else {
            work.par_iter().map(judge_one).collect()
        };
        let invalid = judged.iter().filter(|j| j.1.is_some()).count() as u64;
        let share = opts
            .shrink_steps
            .min(opts.shrink_total_steps / invalid.max(1));
        let explain_one = |((mut report, found), (_, kept, ops)): (Judged<M>, &KeyWork<M::Op>)| {
            if let Some(found) = found {
                let started = Instant::now();
                report.explanation = Some(explain(model, kept, ops, found, share, !sequential));
                report.elapsed_s += started.elapsed().as_secs_f64();
            }
            report
        };
        Ok(if one_at_a_time {
            judged
                .into_iter()
                .zip(work.iter())
                .map(explain_one)
                .collect()
        } else {
            judged
                .into_par_iter()
                .zip(work.par_iter())
                .map(explain_one)
                .collect::<Vec<_>>()
        })
    };
    let mut reports = if opts.threads <= 1 || calls.len() < SEQUENTIAL_BELOW {
        run()?
    } else {
        rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| CheckError::Model(format!("cannot start threads: {e}")))?
            .install(run)?
    };
    reports.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(reports)
}

fn search_call<O>(c: &Call, op: O) -> SearchCall<O> {
    SearchCall {
        op,
        invoke: c.invoke_pos,
        complete: match c.outcome {
            Outcome::Ok => c.complete_pos,
            _ => None,
        },
    }
}

/// Calls at most that the search is asked to confirm a contradiction on.
const CONFIRM_MOST: usize = 4096;

/// A key's verdict, without its explanation; what an invalid one rests on.
fn judge<M: Model>(
    model: &M,
    key: &Value,
    ops: &[SearchCall<M::Op>],
    opts: &CheckOptions,
) -> Judged<M> {
    let started = Instant::now();
    let report = |verdict, reason, method, configurations, memory_bytes| KeyReport {
        key: key.clone(),
        verdict,
        reason,
        calls: ops.len(),
        configurations,
        memory_bytes,
        elapsed_s: started.elapsed().as_secs_f64(),
        explanation: None,
        anomalies: Vec::new(),
        method,
    };
    match model.decide(ops) {
        Some(Decision::Valid { .. }) => {
            return (
                report(VerdictName::Valid, None, Method::UniqueValues, 0, 0),
                None,
            )
        }
        Some(Decision::Invalid(refutation)) => {
            // Checked by the search on the calls the contradiction stands on, in a budget of
            // steps (the same answer on any machine). Only a linearization of them proves the
            // procedure wrong; calls too many for the search to decide in that budget (a string's
            // many appends) leave the procedure's answer, which agrees with brute force on
            // hundreds of thousands of random histories (tests/unique_vs_brute.rs). Past a few
            // thousand calls (a set's read of them all, with every add it holds) the search is
            // not even tried: it could not decide them in that budget.
            let core_ops = refutation.standalone(ops);
            let confirm = Budget {
                time: Duration::MAX,
                memory: 64 << 20,
                steps: 1_000_000,
            };
            if core_ops.len() > CONFIRM_MOST
                || wgl::check(model, &core_ops, confirm).verdict != Verdict::Valid
            {
                return (
                    report(VerdictName::Invalid, None, Method::UniqueValues, 0, 0),
                    Some(Found::Unique(refutation)),
                );
            }
            debug_assert!(
                false,
                "contradiction refuted by the search: {:?}",
                refutation.contradiction
            );
        }
        None => {}
    }
    let out = wgl::check(model, ops, opts.budget);
    let (verdict, reason) = match &out.verdict {
        Verdict::Valid => (VerdictName::Valid, None),
        Verdict::Invalid => (VerdictName::Invalid, None),
        Verdict::Unknown(why) => (VerdictName::Unknown, Some(why.clone())),
    };
    let r = report(
        verdict,
        reason,
        Method::Search,
        out.configurations,
        out.memory,
    );
    (
        r,
        (out.verdict == Verdict::Invalid).then_some(Found::Search(out)),
    )
}
