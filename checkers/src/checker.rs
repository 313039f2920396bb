//! Checking a whole history: pair calls, split independent keys, search each key in parallel,
//! explain and shrink what fails.

use crate::history::{pair, Call, History, Outcome, Warning};
use crate::model::{
    CasRegister, Model, ModelOptions, MultiRegister, Mutex, QueueModel, SetModel, StringKv,
};
use crate::search::{self, Budget, SearchCall, Verdict};
use crate::unique::{Decision, Refutation};
use crate::value::Value;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The models `ferret check --model` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    Register,
    CasRegister,
    StringKv,
    Txn,
    Set,
    FifoQueue,
    UnorderedQueue,
    Mutex,
    /// Not a sequential model: the lease checker (crate::lease).
    Lease,
    /// Not a sequential model: the lock-set checker (crate::lockset), which uses `Mutex`.
    LockSet,
    /// Not a sequential model: the watch checker (crate::watch).
    Watch,
}

impl ModelName {
    pub const ALL: [(ModelName, &'static str, &'static str); 11] = [
        (ModelName::Register, "register", "read / write"),
        (
            ModelName::CasRegister,
            "cas-register",
            "read / write / cas [from to]",
        ),
        (
            ModelName::StringKv,
            "string-kv",
            "get / put / append on strings (Porcupine's kv)",
        ),
        (
            ModelName::Txn,
            "txn",
            "txn of [:read k v] / [:write k v] (Knossos's multi-register)",
        ),
        (
            ModelName::Set,
            "set",
            "add x / read returning every element",
        ),
        (
            ModelName::FifoQueue,
            "fifo-queue",
            "enqueue x / dequeue returning the oldest",
        ),
        (
            ModelName::UnorderedQueue,
            "unordered-queue",
            "enqueue x / dequeue returning any",
        ),
        (ModelName::Mutex, "mutex", "acquire / release"),
        (
            ModelName::Lease,
            "lease",
            "grant / put / keepalive / revoke / read with times: no key gone while its lease is \
             provably alive, none left after its revoke",
        ),
        (
            ModelName::LockSet,
            "lock-set",
            "acquire / add / release / read of a lock-protected set: no acknowledged add lost, \
             acquire/release linearizable as a mutex whose lease can expire",
        ),
        (
            ModelName::Watch,
            "watch",
            "write / watch / read-revision: every watcher sees each change once, in revision \
             order, without gaps, as the others and the writes and reads say",
        ),
    ];

    pub fn name(self) -> &'static str {
        ModelName::ALL
            .iter()
            .find(|m| m.0 == self)
            .map_or("?", |m| m.1)
    }

    /// Guess the model from the functions a history uses.
    pub fn infer(calls: &[Call]) -> Option<ModelName> {
        let has = |f: &str| calls.iter().any(|c| c.f == f);
        if has("watch") {
            Some(ModelName::Watch)
        } else if has("grant") || has("keepalive") {
            Some(ModelName::Lease)
        } else if has("acquire") && has("add") {
            Some(ModelName::LockSet)
        } else if has("get") || has("put") || has("append") {
            Some(ModelName::StringKv)
        } else if has("txn") {
            Some(ModelName::Txn)
        } else if has("enqueue") || has("dequeue") {
            Some(ModelName::FifoQueue)
        } else if has("acquire") || has("release") {
            Some(ModelName::Mutex)
        } else if has("add") {
            Some(ModelName::Set)
        } else if has("read") || has("write") || has("cas") {
            Some(ModelName::CasRegister)
        } else {
            None
        }
    }
}

impl FromStr for ModelName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = match s {
            "kv" | "cas" => "cas-register",
            "multi-register" => "txn",
            "queue" => "fifo-queue",
            "lock" => "mutex",
            other => other,
        };
        ModelName::ALL
            .iter()
            .find(|m| m.1 == s)
            .map(|m| m.0)
            .ok_or_else(|| {
                let names: Vec<_> = ModelName::ALL.iter().map(|m| m.1).collect();
                format!("unknown model {s:?}; expected one of {}", names.join(", "))
            })
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How Jepsen's `[key value]` tuples (jepsen.independent) are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Independent {
    /// Split when every client op's value is a `[key value]` tuple and the model's values cannot be
    /// mistaken for one.
    #[default]
    Auto,
    Yes,
    No,
}

/// What a `fail` cas means. Tools differ: Knossos (and so Jepsen's EDN) treats every `:fail` as
/// "did not happen" and drops it; Porcupine's etcd logs write `:fail :cas` for a compare that
/// failed, an observation that the register did not hold `from`. ferret's own histories write a
/// failed compare as `ok` with the value `false`, so their `fail` always means "not applied".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailedCas {
    /// A `fail` cas did not happen and constrains nothing.
    #[default]
    Drop,
    /// A `fail` cas is a compare that failed: the register did not hold `from` at some moment
    /// between its invocation and its completion.
    Observe,
}

/// Default shrink budgets: a few hundredths of a second per key and a third of a second in all on this project's
/// machine (the search takes a few million steps a second).
pub const DEFAULT_SHRINK_STEPS: u64 = 100_000;
pub const DEFAULT_SHRINK_TOTAL_STEPS: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub model: Option<ModelName>,
    pub failed_cas: FailedCas,
    pub model_options: ModelOptions,
    pub independent: Independent,
    /// Per key.
    pub budget: Budget,
    /// Search steps for shrinking one invalid key's counterexample (0: do not shrink). Steps, not
    /// seconds: the counterexample is the same however busy the machine is.
    pub shrink_steps: u64,
    /// Search steps for shrinking all invalid keys together; each key gets an equal share, up to
    /// `shrink_steps`.
    pub shrink_total_steps: u64,
    /// Threads for keys; 0 = all cores.
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            model: None,
            failed_cas: FailedCas::Drop,
            model_options: ModelOptions::default(),
            independent: Independent::Auto,
            budget: Budget::default(),
            shrink_steps: DEFAULT_SHRINK_STEPS,
            shrink_total_steps: DEFAULT_SHRINK_TOTAL_STEPS,
            threads: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("line {line}: {message}")]
    Input { line: u64, message: String },
    #[error("{0}")]
    Model(String),
    /// Nothing to check: a verdict on it would be vacuous.
    #[error("{0}")]
    Empty(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum VerdictName {
    Valid,
    Unknown,
    Invalid,
}

impl VerdictName {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictName::Valid => "valid",
            VerdictName::Invalid => "invalid",
            VerdictName::Unknown => "unknown",
        }
    }
}

/// The checker's answer for a whole history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub verdict: VerdictName,
    pub model: String,
    pub calls: usize,
    pub keys: Vec<KeyReport>,
    pub warnings: Vec<Warning>,
    pub elapsed_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyReport {
    /// `null` for a history with no keys.
    pub key: Value,
    pub verdict: VerdictName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Calls the search considered (failed calls and unconstrained reads excluded).
    pub calls: usize,
    pub configurations: u64,
    pub memory_bytes: usize,
    pub elapsed_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// What a checker other than the linearizability search found (lease, lock-set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<Anomaly>,
    /// Which procedure decided the key.
    pub method: Method,
}

/// Which procedure decided a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The WGL linearizability search.
    Search,
    /// A polynomial check for histories whose written values are unique: registers
    /// (crate::unique), string-kv (crate::append), grow-only sets (crate::set).
    UniqueValues,
    /// A rule-based checker (lease, lock-set, watch).
    Rules,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Search => "search",
            Method::UniqueValues => "unique-values",
            Method::Rules => "rules",
        }
    }
}

impl KeyReport {
    /// A key judged by rules rather than the search: invalid when any anomaly was found.
    pub fn from_anomalies(
        key: Value,
        anomalies: Vec<Anomaly>,
        calls: usize,
        elapsed: Duration,
    ) -> KeyReport {
        KeyReport {
            key,
            verdict: if anomalies.is_empty() {
                VerdictName::Valid
            } else {
                VerdictName::Invalid
            },
            reason: None,
            calls,
            configurations: 0,
            memory_bytes: 0,
            elapsed_s: elapsed.as_secs_f64(),
            explanation: None,
            anomalies,
            method: Method::Rules,
        }
    }
}

impl Anomaly {
    /// Add `a` unless `most` of its kind are already kept: the first ones tell the story.
    pub(crate) fn keep(anomalies: &mut Vec<Anomaly>, a: Anomaly, most: usize) {
        if anomalies.iter().filter(|b| b.kind == a.kind).count() < most {
            anomalies.push(a);
        }
    }
}

/// One rule a non-linearizability checker found broken, with the calls that show it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Anomaly {
    /// e.g. `premature-expiry`, `lost-add`, `revoked-key-present`.
    pub kind: String,
    pub summary: String,
    /// The calls the summary names, in history order.
    pub calls: Vec<Call>,
}

/// Why a key is not linearizable, in terms a person can follow back to the history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Explanation {
    pub summary: String,
    /// The call the summary names: the first whose result no linearization can accommodate (the
    /// history cut just after it returned is invalid, just before it is valid) when shrinking
    /// proved it, else the call the search could not place after its longest prefix.
    pub stuck: Call,
    /// How many calls the longest linearizable prefix the search found has.
    pub prefix_length: usize,
    /// Its last calls, in linearization order (at most 20).
    pub prefix_tail: Vec<Call>,
    /// The model states each of `prefix_tail`'s calls may leave, replayed from the initial state:
    /// one, unless an unknown-outcome call earlier left a choice (at most 8 listed).
    pub prefix_states: Vec<Vec<Value>>,
    /// The model state after that prefix.
    pub state: Value,
    /// The call the search could not place after that prefix, when it is not `stuck`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_stuck: Option<Call>,
    pub shrunk: Option<Shrunk>,
}

/// A call of a shrunk counterexample.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShrunkCall {
    #[serde(flatten)]
    pub call: Call,
    /// Kept only as an unknown outcome: it may or may not have taken effect, at any moment after
    /// its invocation. The violation does not need its result, but removing it could invent one.
    pub relaxed: bool,
}

/// A smaller history that is still not linearizable, found by relaxing calls one chunk at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shrunk {
    /// The first call whose result no linearization can accommodate: the history cut just after
    /// it returned is invalid and the cut just before is valid, both proven. `None` when the
    /// shrink budget ran out before both were.
    pub first: Option<Call>,
    /// Every call the shrunk history keeps, in history order: those whose results and timing the
    /// violation needs, and (marked `relaxed`) writes whose result it does not need, kept as
    /// unknown outcomes since removing a write could invent an anomaly the history does not have
    /// (unless the model proves it cannot: `Model::unneeded_relaxed`).
    pub calls: Vec<ShrunkCall>,
    /// How many of `calls` are relaxed.
    pub relaxed: usize,
    /// Reads and calls invoked after the stuck call, which it does not need at all.
    pub dropped: usize,
    /// True when leaving out or relaxing any one more call was proven to make it linearizable;
    /// false when the shrink budget, or a probe's share of it, ran out first: smaller may exist.
    pub minimal: bool,
}

/// Check a history.
pub fn check(history: &History, opts: &CheckOptions) -> Result<Report, CheckError> {
    let (calls, mut warnings) = pair(history).map_err(|e| CheckError::Input {
        line: e.line,
        message: e.message,
    })?;
    warnings.extend(history.warnings.iter().cloned());
    let nemesis = history.nemesis_events().count();
    check_calls(calls, warnings, nemesis, opts)
}

/// Check calls already paired (`format::read_calls`); `nemesis` counts the history's nemesis
/// events, for the message when there are no calls.
pub fn check_calls(
    mut calls: Vec<Call>,
    warnings: Vec<Warning>,
    nemesis: usize,
    opts: &CheckOptions,
) -> Result<Report, CheckError> {
    let started = Instant::now();
    if calls.is_empty() {
        return Err(CheckError::Empty(if nemesis == 0 {
            "the history has no operations: nothing to check".into()
        } else {
            format!("the history has {nemesis} nemesis events but no client operations: nothing to check")
        }));
    }
    let model = match opts.model {
        Some(m) => m,
        None => ModelName::infer(&calls).ok_or_else(|| {
            let first = &calls[0];
            CheckError::Input {
                line: first.line,
                message: format!(
                    "cannot tell which model fits this history's functions (the first is {:?}); \
                     name one with --model",
                    first.f
                ),
            }
        })?,
    };
    split_independent(&mut calls, opts.independent, model);
    if opts.failed_cas == FailedCas::Observe {
        for c in calls.iter_mut() {
            if c.f == "cas" && c.outcome == Outcome::Fail {
                c.outcome = Outcome::Ok;
                c.value = Value::Bool(false);
            }
        }
    }
    let mo = opts.model_options.clone();
    let keys = match model {
        ModelName::Register => check_keys(
            &CasRegister {
                opts: mo,
                plain: true,
            },
            &calls,
            opts,
        ),
        ModelName::CasRegister => check_keys(
            &CasRegister {
                opts: mo,
                plain: false,
            },
            &calls,
            opts,
        ),
        ModelName::StringKv => check_keys(&StringKv, &calls, opts),
        ModelName::Txn => check_keys(&MultiRegister { opts: mo }, &calls, opts),
        ModelName::Set => check_keys(&SetModel, &calls, opts),
        ModelName::FifoQueue => check_keys(&QueueModel { fifo: true }, &calls, opts),
        ModelName::UnorderedQueue => check_keys(&QueueModel { fifo: false }, &calls, opts),
        ModelName::Mutex => check_keys(&Mutex, &calls, opts),
        ModelName::Lease => crate::lease::check_calls(&calls),
        ModelName::LockSet => crate::lockset::check_calls(&calls, opts),
        ModelName::Watch => crate::watch::check_calls(&calls),
    }?;
    let verdict = keys
        .iter()
        .map(|k| k.verdict)
        .max()
        .unwrap_or(VerdictName::Valid);
    let n = calls.len();
    free_elsewhere(calls);
    Ok(Report {
        verdict,
        model: model.name().to_string(),
        calls: n,
        keys,
        warnings,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

/// Free a long history on another thread: a million calls take a tenth of a second to free (a
/// third of their check), which the verdict need not wait for.
fn free_elsewhere(calls: Vec<Call>) {
    if calls.len() >= 100_000 {
        // Should no thread start, the calls are freed here with the closure.
        let _ = std::thread::Builder::new()
            .name("ferret-free".into())
            .spawn(move || drop(calls));
    }
}

/// Turn Jepsen's independent `[key value]` tuples into keyed calls.
fn split_independent(calls: &mut [Call], mode: Independent, model: ModelName) {
    let tuple = |v: &Value| matches!(v.as_list(), Some([_, _]));
    let split = match mode {
        Independent::No => false,
        Independent::Yes => true,
        Independent::Auto => {
            let all = !calls.is_empty()
                && calls
                    .iter()
                    .all(|c| c.key.is_none() && tuple(&c.invoke_value) && tuple(&c.value));
            // A cas value `[from to]` looks like a tuple too: only split when a read or write shows
            // the tuple shape, or every cas carries a `[from to]` inside the tuple.
            let telling = calls.iter().any(|c| c.f != "cas") || model == ModelName::Txn;
            let cas_nested = calls.iter().all(|c| {
                c.f != "cas" || matches!(c.invoke_value.as_list(), Some([_, v]) if tuple(v))
            });
            all && (telling || cas_nested) && model != ModelName::Txn
        }
    };
    if !split {
        return;
    }
    for c in calls.iter_mut() {
        if let Some([k, v]) = c.invoke_value.as_list() {
            let (k, v) = (k.clone(), v.clone());
            c.key = Some(k);
            c.invoke_value = v;
        }
        if let Some([_, v]) = c.value.as_list() {
            c.value = v.clone();
        }
    }
}

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
                Err(message) => {
                    return Err(CheckError::Input {
                        line: c.line,
                        message,
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

/// What an invalid key's verdict rests on, for its explanation.
enum Found<M: Model> {
    Search(search::Outcome<M::State>),
    Unique(Refutation),
}

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
                || search::check(model, &core_ops, confirm).verdict != Verdict::Valid
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
    let out = search::check(model, ops, opts.budget);
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

/// Explain an invalid key, shrinking its counterexample within `steps` search steps.
fn explain<M: Model>(
    model: &M,
    kept: &[&Call],
    ops: &[SearchCall<M::Op>],
    found: Found<M>,
    steps: u64,
    parallel: bool,
) -> Explanation {
    let shrink_with = |stuck: usize, search_steps: u64, hints: Hints| {
        let budget = ShrinkBudget {
            steps,
            search_steps,
            parallel,
        };
        (steps > 0).then(|| shrink(model, kept, ops, stuck, budget, hints))
    };
    match found {
        Found::Search(out) => {
            let stuck = out.stuck.unwrap_or(0);
            let tail_from = out.order.len().saturating_sub(20);
            let prefix_states = replay(model, ops, &out.order, tail_from);
            let state = model.show_state(&out.state);
            let shrunk = shrink_with(
                stuck,
                out.steps,
                Hints {
                    core: None,
                    prefix: &out.order,
                },
            );
            // One call is named everywhere: the first that cannot fit when shrinking proved it,
            // else the call the search could not place.
            let first = shrunk.as_ref().and_then(|s| s.first.clone());
            let culprit = first.clone().unwrap_or_else(|| kept[stuck].clone());
            let prefix_stuck = (culprit != *kept[stuck]).then(|| kept[stuck].clone());
            let mut summary = match &first {
                Some(f) => format!(
                    "{}. The longest linearizable prefix the search found has {} calls and leaves \
                     the state {}",
                    first_words(f),
                    out.order.len(),
                    state,
                ),
                None => format!(
                    "no linearization exists. The longest linearizable prefix the search found has \
                     {} calls and leaves the state {}, after which {}, which returned {}, cannot be \
                     placed{}",
                    out.order.len(),
                    state,
                    describe_call(&culprit),
                    describe_result(&culprit),
                    if shrunk.is_some() { UNPROVEN } else { "" }
                ),
            };
            if let (Some(_), Some(p)) = (&first, &prefix_stuck) {
                summary.push_str(&format!(
                    ", after which {} cannot be placed",
                    describe_call(p)
                ));
            }
            Explanation {
                summary,
                stuck: culprit,
                prefix_length: out.order.len(),
                prefix_tail: out.order[tail_from..]
                    .iter()
                    .map(|&i| kept[i].clone())
                    .collect(),
                prefix_states,
                state,
                prefix_stuck,
                shrunk,
            }
        }
        Found::Unique(Refutation {
            contradiction,
            core,
            values,
            prefix,
            state,
            ..
        }) => {
            let words = contradiction.render(&|i| describe_call(kept[i]), &|i| {
                values
                    .get(&i)
                    .map_or_else(|| "?".into(), |v| format!("{v:.SHOWN_ITEMS$}"))
            });
            let stuck = contradiction.stuck();
            let shrunk = shrink_with(
                stuck,
                0,
                Hints {
                    core: Some(&core),
                    prefix: &prefix,
                },
            );
            let first = shrunk.as_ref().and_then(|s| s.first.clone());
            let summary = match &first {
                Some(f) => format!("{}. {words}", first_words(f)),
                None => format!(
                    "no linearization exists: {words}{}",
                    if shrunk.is_some() { UNPROVEN } else { "" }
                ),
            };
            let tail_from = prefix.len().saturating_sub(20);
            Explanation {
                summary,
                stuck: first.unwrap_or_else(|| kept[stuck].clone()),
                prefix_length: prefix.len(),
                prefix_tail: prefix[tail_from..]
                    .iter()
                    .map(|&i| kept[i].clone())
                    .collect(),
                prefix_states: replay(model, ops, &prefix, tail_from),
                state,
                prefix_stuck: None,
                shrunk,
            }
        }
    }
}

/// The states a linearization leaves after each of its calls from `from` on, replayed from the
/// model's initial state: what a person steps through. A call the states do not allow (never, for
/// an order the search or the unique-values check produced) leaves the rest empty.
fn replay<M: Model>(
    model: &M,
    ops: &[SearchCall<M::Op>],
    order: &[usize],
    from: usize,
) -> Vec<Vec<Value>> {
    let mut states = vec![model.init()];
    let mut shown = Vec::with_capacity(order.len().saturating_sub(from));
    for (n, &i) in order.iter().enumerate() {
        // A choice left by unknown outcomes is kept up to 64 states.
        states = search::step_all(model, &states, &ops[i].op, 64);
        if n >= from {
            shown.push(states.iter().take(8).map(|s| model.show_state(s)).collect());
        }
    }
    shown
}

const UNPROVEN: &str = "; shrinking ran out of budget before proving which call is the first that \
                        cannot fit (raise --shrink-steps)";

/// The words for a call proven to be the first whose result no linearization allows.
fn first_words(f: &Call) -> String {
    format!(
        "{} returned {}, which no linearization allows: the history up to its completion is \
         already not linearizable, up to the completion before it it still is",
        describe_call(f),
        describe_result(f),
    )
}

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
        Outcome::Ok if crate::model::is_failed_compare(c) => "false (its compare failed)".into(),
        Outcome::Ok => format!("{:.SHOWN_ITEMS$}", c.value),
        Outcome::Fail => "fail".into(),
        Outcome::Info => "an unknown outcome".into(),
    }
}

/// What a shrink probe decided by the model's own procedure costs, in search steps.
fn decided_cost<O>(calls: &[SearchCall<O>]) -> u64 {
    (calls.len() as u64 / 32).max(1)
}

/// Search steps of the original search from which shrink probes run ahead on other threads.
const PARALLEL_PROBES_FROM: u64 = 20_000;

/// Candidates at most, for delta debugging to go to single calls once a round of groups fails.
const SINGLES_FROM: usize = 32;

/// Writes at most that delta debugging takes in one pass from the start (`gallop`).
const WRITES_ONE_BY_ONE: usize = 16;

/// Which calls a trial relaxed or dropped: what a valid one shows for later trials (`implied`).
fn not_kept(trial: &[Fate]) -> Vec<bool> {
    trial.iter().map(|&f| f != Fate::Kept).collect()
}

/// Whether `trial` relaxes all that some trial shown valid relaxed: then it is valid too, unprobed.
fn implied(shown_valid: &[Vec<bool>], trial: &[Fate]) -> bool {
    shown_valid.iter().any(|r| {
        r.iter()
            .zip(trial)
            .all(|(&relaxed, &f)| !relaxed || f != Fate::Kept)
    })
}

/// What one key's shrinking may spend.
#[derive(Clone, Copy)]
struct ShrinkBudget {
    /// Search steps in all.
    steps: u64,
    /// Steps the search took to find the key invalid: a probe gets a couple of times as many.
    search_steps: u64,
    /// Run probes ahead on other threads (same results, sooner).
    parallel: bool,
}

/// What the check already knows that saves shrinking probes.
#[derive(Clone, Copy)]
struct Hints<'a> {
    /// The calls a contradiction stands on (sorted), when the model's own procedure found one.
    core: Option<&'a [usize]>,
    /// A linearization of a prefix of the history the check found.
    prefix: &'a [usize],
}

/// The latest cut (an index into `completions`, each completion with its call in history order)
/// that a leading part of `prefix` proves valid. For the
/// history cut at p, the prefix's first k calls linearize it when they hold every call completed
/// by p and only calls invoked by p, k reaching the last completed one: calls still open at p may
/// or may not take effect. Checked by replay, not assumed.
fn cut_proven_by<M: Model>(
    model: &M,
    ops: &[SearchCall<M::Op>],
    completions: &[(u64, usize)],
    prefix: &[usize],
) -> Option<usize> {
    let mut place = vec![usize::MAX; ops.len()];
    for (k, &i) in prefix.iter().enumerate() {
        place[i] = k;
    }
    // The latest invocation among the prefix's first k + 1 calls.
    let latest: Vec<u64> = prefix
        .iter()
        .scan(0, |m, &i| {
            *m = ops[i].invoke.max(*m);
            Some(*m)
        })
        .collect();
    let mut reach = 0;
    let mut best = None;
    for (at, &(p, i)) in completions.iter().enumerate() {
        if place[i] == usize::MAX {
            break;
        }
        reach = reach.max(place[i] + 1);
        if latest[reach - 1] <= p {
            best = Some((at, reach));
        }
    }
    let (at, k) = best?;
    search::linearizes(model, ops, &prefix[..k], completions[at].0).then_some(at)
}

/// A shrink probe's result before it is charged: decided by the model's own procedure at a
/// fixed cost, or searched, with the steps the search took.
#[derive(Clone)]
enum Probe {
    Decided(Verdict, u64),
    Searched(Verdict, u64),
}

/// What shrinking did to each call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Kept,
    /// Result and completion forgotten: an unknown outcome.
    Relaxed,
    Dropped,
}

/// Shrink an invalid key's calls to a small core whose violation implies the original's.
///
/// Only relaxations are tried, each of which can only make a history easier to linearize: dropping a
/// read-only call, forgetting a call's result and completion (making it an unknown outcome), and
/// cutting the history just after the stuck call returns (calls open then become unknown outcomes).
/// So if the shrunk history is still invalid, so is the original.
fn shrink<M: Model>(
    model: &M,
    kept: &[&Call],
    ops: &[SearchCall<M::Op>],
    stuck: usize,
    budget: ShrinkBudget,
    hints: Hints,
) -> Shrunk {
    let core = hints.core;
    let ShrinkBudget {
        steps,
        search_steps,
        parallel,
    } = budget;
    let left = std::cell::Cell::new(steps);
    // Probes of a key the search decided in a few thousand steps take microseconds: handing them
    // to other threads would cost more than it saves.
    let width = if parallel && search_steps >= PARALLEL_PROBES_FROM {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    // Relaxed calls can make a check harder than the original; a check that runs out of budget
    // counts as "not shown invalid", so the call stays.
    // Relaxed calls can make a probe far harder than the original search: each gets a few times
    // the original's steps, so one hard probe cannot spend the whole budget.
    let per_probe = search_steps.saturating_mul(2).max(2_000);
    let relax_target = |i: usize| {
        if model.is_read_only(&ops[i].op) {
            Fate::Dropped
        } else {
            Fate::Relaxed
        }
    };
    // A probe leaves out the relaxed calls the model shows cannot matter: the same verdict from a
    // smaller search. With its calls comes what identifies its history: each call kept (twice
    // its index), and whether relaxed (plus one).
    let build = |fates: &[Fate]| -> (Vec<SearchCall<M::Op>>, Vec<u32>) {
        let kept: Vec<bool> = fates.iter().map(|f| *f == Fate::Kept).collect();
        let relaxed: Vec<bool> = fates.iter().map(|f| *f == Fate::Relaxed).collect();
        let unneeded = model.unneeded_relaxed(ops, &kept, &relaxed);
        let chosen: Vec<u32> = (0..ops.len())
            .filter(|&i| fates[i] != Fate::Dropped && !unneeded[i])
            .map(|i| 2 * i as u32 + relaxed[i] as u32)
            .collect();
        let calls = chosen
            .iter()
            .map(|&k| {
                let c = &ops[k as usize / 2];
                SearchCall {
                    op: c.op.clone(),
                    invoke: c.invoke,
                    complete: if k % 2 == 1 { None } else { c.complete },
                }
            })
            .collect();
        (calls, chosen)
    };
    // Different trials can leave the same history once unneeded calls are left out: a decided
    // probe is not searched again. It is charged as when it ran, so results stay the same.
    let seen: std::sync::Mutex<HashMap<Vec<u32>, Probe, ahash::RandomState>> = Default::default();
    // A probe's verdict and the steps it took, searching at most `cap` steps. A decision by the
    // model's own procedure costs a step per 32 calls (about its time against the search's).
    let run_probe = |fates: &[Fate], cap: u64| -> Probe {
        let (calls, id) = build(fates);
        if let Some(p) = seen.lock().ok().and_then(|s| s.get(&id).cloned()) {
            return p;
        }
        let probe = match model.decide(&calls) {
            Some(Decision::Valid { .. }) => Probe::Decided(Verdict::Valid, decided_cost(&calls)),
            Some(Decision::Invalid(_)) => Probe::Decided(Verdict::Invalid, decided_cost(&calls)),
            None => {
                let budget = Budget {
                    time: Duration::MAX,
                    memory: 256 << 20,
                    steps: per_probe.min(cap),
                };
                let out = search::check(model, &calls, budget);
                Probe::Searched(out.verdict, out.steps)
            }
        };
        if matches!(
            probe,
            Probe::Decided(..) | Probe::Searched(Verdict::Valid | Verdict::Invalid, _)
        ) {
            if let Ok(mut s) = seen.lock() {
                s.insert(id, probe.clone());
            }
        }
        probe
    };
    // Charge a probe as if probes ran one after another, each given what was left: so probes run
    // ahead in parallel give the very verdicts, and spend the very steps, of a sequential run.
    // Out of budget a probe is unknown, which proves nothing either way.
    let account = |probe: Probe| -> Verdict {
        let l = left.get();
        if l == 0 {
            return Verdict::Unknown("shrink budget spent".into());
        }
        match probe {
            Probe::Decided(v, cost) => {
                left.set(l.saturating_sub(cost));
                v
            }
            Probe::Searched(v, steps) => {
                let cap = per_probe.min(l);
                if steps > cap {
                    left.set(l.saturating_sub(cap + 1));
                    Verdict::Unknown("shrink budget spent".into())
                } else {
                    left.set(l - steps);
                    v
                }
            }
        }
    };
    let probe = |fates: &[Fate]| -> Verdict { account(run_probe(fates, left.get())) };
    let invalid = |fates: &[Fate]| -> bool { probe(fates) == Verdict::Invalid };

    // The history cut just after position `cut`: calls invoked later go, calls still open then
    // become unknown outcomes. Each cut is a relaxation of every later one, so "invalid" is
    // monotone in the cut and a binary search finds the earliest.
    let cut_at = |cut: u64| -> Vec<Fate> {
        ops.iter()
            .enumerate()
            .map(|(i, c)| {
                if c.invoke > cut {
                    Fate::Dropped
                } else if c.complete.is_none_or(|p| p > cut) {
                    relax_target(i)
                } else {
                    Fate::Kept
                }
            })
            .collect()
    };
    // Each completion with its call, in history order: the cuts.
    let mut completions: Vec<(u64, usize)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.complete.map(|p| (p, i)))
        .collect();
    completions.sort_unstable();
    let cuts: Vec<u64> = completions.iter().map(|&(p, _)| p).collect();
    let (mut lo, mut hi) = (0usize, cuts.len());
    // Which probes proved a cut valid: an unknown one moves the search on but proves nothing.
    let mut proven_valid = vec![false; cuts.len()];
    // Invariant: every cut below `lo` is valid or unknown, the cut at cuts[hi] (or no cut at all,
    // hi == len) is known invalid. The check's own linearizable prefix proves cuts valid for
    // free, which spares the probes of long valid prefixes, the costliest there are.
    if let Some(v) = cut_proven_by(model, ops, &completions, hints.prefix) {
        proven_valid[v] = true;
        lo = v + 1;
    }
    // Where the failure probably is. A contradiction's calls have all completed by some cut, which
    // is then invalid: search back from there in growing steps, so a failure near that point
    // costs a few probes, not log n. Otherwise forward from the prefix the check proved, in
    // growing steps: the failure is usually soon after it, and short cuts are the cheapest
    // probes (a long cut loses the later calls that let the search prune, and costs most).
    let hint = core
        .and_then(|core| core.iter().filter_map(|&i| ops[i].complete).max())
        .and_then(|p| cuts.binary_search(&p).ok())
        .filter(|&h| h >= lo);
    if let Some(h) = hint {
        match probe(&cut_at(cuts[h])) {
            Verdict::Invalid => {
                hi = h;
                let mut step = 1;
                while hi > lo {
                    let m = hi.saturating_sub(step).max(lo);
                    match probe(&cut_at(cuts[m])) {
                        Verdict::Invalid => {
                            hi = m;
                            step *= 2;
                        }
                        v => {
                            proven_valid[m] = v == Verdict::Valid;
                            lo = m + 1;
                            break;
                        }
                    }
                }
            }
            v => {
                proven_valid[h] = v == Verdict::Valid;
                lo = h + 1;
            }
        }
    } else {
        let mut step = 1;
        while lo < hi {
            let m = (lo + step - 1).min(hi - 1);
            match probe(&cut_at(cuts[m])) {
                Verdict::Invalid => {
                    hi = m;
                    break;
                }
                v => {
                    proven_valid[m] = v == Verdict::Valid;
                    lo = m + 1;
                    step *= 2;
                }
            }
        }
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        match probe(&cut_at(cuts[mid])) {
            Verdict::Invalid => hi = mid,
            v => {
                proven_valid[mid] = v == Verdict::Valid;
                lo = mid + 1;
            }
        }
    }
    // The first call is proven when its cut is invalid and the cut before it valid (or there is
    // none: the empty history is valid).
    let earliest = hi < cuts.len()
        && (hi == 0 || proven_valid[hi - 1] || probe(&cut_at(cuts[hi - 1])) == Verdict::Valid);
    let mut fates = if hi < cuts.len() {
        cut_at(cuts[hi])
    } else {
        vec![Fate::Kept; ops.len()]
    };
    // The call completing at the earliest invalid cut is the first whose result cannot fit; it
    // is kept through the delta debugging below, as is the search's stuck call otherwise.
    let first = completions.get(hi).map_or(stuck, |&(_, i)| i);
    // A contradiction's own calls are a far smaller start, when they are invalid on their own with
    // every other write relaxed.
    if let Some(core) = core {
        let mut start: Vec<Fate> = (0..ops.len())
            .map(|i| {
                if i == first || core.binary_search(&i).is_ok() {
                    Fate::Kept
                } else {
                    relax_target(i)
                }
            })
            .collect();
        // Without the relaxed calls that cannot matter, the start is small and cheap to probe.
        let kept: Vec<bool> = start.iter().map(|f| *f == Fate::Kept).collect();
        let relaxed: Vec<bool> = start.iter().map(|f| *f == Fate::Relaxed).collect();
        for (f, u) in start
            .iter_mut()
            .zip(model.unneeded_relaxed(ops, &kept, &relaxed))
        {
            if u {
                *f = Fate::Dropped;
            }
        }
        if invalid(&start) {
            fates = start;
        }
    }
    // Then delta debugging: first drop reads (cheap: fewer constraints, no larger search), then
    // relax writes; chunks halve when nothing goes. Relaxing more only makes a history easier to
    // linearize, so a call whose relaxation alone made it valid stays needed however much else
    // goes later: it is not tried again, and once every kept call is needed the core is minimal.
    let mut needed = vec![false; ops.len()];
    // The calls each valid trial relaxed (or dropped: a relaxed read is a dropped one). Relaxing
    // more only makes a history easier, so any later trial relaxing all of one is valid too: a
    // group's last call, after the rest of the group went, is needed without a probe.
    let mut shown_valid: Vec<Vec<bool>> = Vec::new();
    // Before halving, reads go in two bold probes: all of them (usually they can), else, when the
    // first call is a read, all that saw something else than it did (those rarely matter to it);
    // the halving then starts from the few left.
    let first_op = &ops[first].op;
    let all_reads: Vec<usize> = (0..ops.len())
        .filter(|&i| fates[i] == Fate::Kept && i != first && model.is_read_only(&ops[i].op))
        .collect();
    let other_reads: Vec<usize> = all_reads
        .iter()
        .copied()
        .filter(|&i| model.is_read_only(first_op) && ops[i].op != *first_op)
        .collect();
    // Whether dropping `reads` kept the history invalid (then they are gone).
    let mut drop_reads = |reads: &[usize], fates: &mut Vec<Fate>| {
        let mut trial = fates.clone();
        for &i in reads {
            trial[i] = Fate::Dropped;
        }
        match probe(&trial) {
            Verdict::Invalid => {
                *fates = trial;
                true
            }
            Verdict::Valid => {
                shown_valid.push(not_kept(&trial));
                false
            }
            Verdict::Unknown(_) => false,
        }
    };
    // The second only when the first failed, and only when it keeps some reads.
    if !all_reads.is_empty()
        && !drop_reads(&all_reads, &mut fates)
        && other_reads.len() >= 2
        && other_reads.len() < all_reads.len()
    {
        drop_reads(&other_reads, &mut fates);
    }
    // Few writes go one pass from the start, one by one while they are needed and in growing
    // groups while they go: in a short counterexample most writes are needed, and halving first
    // only costs probes that fail, yet where most can go, groups still take them fast. Every
    // write ends relaxed or needed.
    let gallop = |candidates: &[usize],
                  fates: &mut Vec<Fate>,
                  needed: &mut [bool],
                  shown_valid: &mut Vec<Vec<bool>>| {
        let (mut pos, mut size, mut streak) = (0, 1, 0);
        while pos < candidates.len() && left.get() > 0 {
            let group = &candidates[pos..(pos + size).min(candidates.len())];
            let mut trial = fates.clone();
            for &i in group {
                trial[i] = relax_target(i);
            }
            let v = if implied(shown_valid, &trial) {
                Verdict::Valid
            } else {
                probe(&trial)
            };
            if v == Verdict::Invalid {
                *fates = trial;
                pos += group.len();
                // Three groups gone in a row: the next is twice as large.
                streak += 1;
                if streak == 3 {
                    (size, streak) = (size * 2, 0);
                }
                continue;
            }
            if v == Verdict::Valid {
                shown_valid.push(not_kept(&trial));
            }
            if group.len() == 1 {
                // Out of budget proves nothing: the call stays, not shown needed.
                needed[group[0]] = v == Verdict::Valid;
                pos += 1;
            }
            (size, streak) = (1, 0);
        }
    };
    for reads in [true, false] {
        let mut chunk = usize::MAX;
        loop {
            let candidates: Vec<usize> = (0..ops.len())
                .filter(|&i| {
                    fates[i] == Fate::Kept
                        && i != first
                        && !needed[i]
                        && model.is_read_only(&ops[i].op) == reads
                })
                .collect();
            if candidates.is_empty() || left.get() == 0 {
                break;
            }
            if !reads && chunk == usize::MAX && candidates.len() <= WRITES_ONE_BY_ONE {
                gallop(&candidates, &mut fates, &mut needed, &mut shown_valid);
                break;
            }
            // Reads first go all at once (after a bold probe, the ones it left).
            chunk = if chunk != usize::MAX {
                chunk.min((candidates.len() / 2).max(1))
            } else if reads {
                candidates.len()
            } else {
                (candidates.len() / 2).max(1)
            };
            let mut changed = false;
            // Groups are tried in order; with threads, the next few at once against the same
            // history, keeping the first that stays invalid and dropping the rest unseen.
            let groups: Vec<&[usize]> = candidates.chunks(chunk).collect();
            let mut g = 0;
            while g < groups.len() && left.get() > 0 {
                let window = &groups[g..(g + width).min(groups.len())];
                let trials: Vec<Vec<Fate>> = window
                    .iter()
                    .map(|group| {
                        let mut trial = fates.clone();
                        for &i in *group {
                            trial[i] = relax_target(i);
                        }
                        trial
                    })
                    .collect();
                let cap = left.get();
                let one = |t: &Vec<Fate>| {
                    if implied(&shown_valid, t) {
                        Probe::Decided(Verdict::Valid, 0)
                    } else {
                        run_probe(t, cap)
                    }
                };
                let probes: Vec<Probe> = if trials.len() > 1 {
                    trials.par_iter().map(one).collect()
                } else {
                    trials.iter().map(one).collect()
                };
                let mut advanced = trials.len();
                for (k, p) in probes.into_iter().enumerate() {
                    // A probe that ran out of steps proves nothing: the call is tried again.
                    let v = account(p);
                    if v == Verdict::Valid {
                        if window[k].len() == 1 {
                            needed[window[k][0]] = true;
                        }
                        shown_valid.push(not_kept(&trials[k]));
                    }
                    if v == Verdict::Invalid {
                        fates = trials[k].clone();
                        changed = true;
                        advanced = k + 1;
                        break;
                    }
                    if left.get() == 0 {
                        advanced = k + 1;
                        break;
                    }
                }
                g += advanced;
            }
            if chunk == 1 && !changed {
                break;
            }
            // Few candidates left and none of their groups could go: most are needed, and proving
            // each needed takes one probe of its own anyway, so the halvings between would be
            // wasted probes.
            if !changed {
                chunk = if chunk == candidates.len() && chunk > 1 {
                    // All at once did not go: halve as usual.
                    chunk / 2
                } else if candidates.len() <= SINGLES_FROM {
                    1
                } else {
                    (chunk / 2).max(1)
                };
            }
        }
    }
    let minimal = (0..ops.len()).all(|i| fates[i] != Fate::Kept || i == first || needed[i]);
    // Relaxed calls that are read-only constrain nothing: drop them.
    for (i, f) in fates.iter_mut().enumerate() {
        if *f == Fate::Relaxed && model.is_read_only(&ops[i].op) {
            *f = Fate::Dropped;
        }
    }
    // Relaxed calls the model shows cannot matter go too, if the result is still invalid.
    let kept_now: Vec<bool> = fates.iter().map(|f| *f == Fate::Kept).collect();
    let relaxed_now: Vec<bool> = fates.iter().map(|f| *f == Fate::Relaxed).collect();
    let unneeded = model.unneeded_relaxed(ops, &kept_now, &relaxed_now);
    if unneeded.iter().any(|&u| u) {
        let trial: Vec<Fate> = fates
            .iter()
            .zip(&unneeded)
            .map(|(&f, &u)| if u { Fate::Dropped } else { f })
            .collect();
        if invalid(&trial) {
            fates = trial;
        }
    }
    let calls = (0..ops.len())
        .filter(|&i| fates[i] != Fate::Dropped)
        .map(|i| ShrunkCall {
            call: kept[i].clone(),
            relaxed: fates[i] == Fate::Relaxed,
        })
        .collect();
    let count = |fate| fates.iter().filter(|&&f| f == fate).count();
    let (relaxed, dropped) = (count(Fate::Relaxed), count(Fate::Dropped));
    Shrunk {
        first: earliest.then(|| kept[first].clone()),
        calls,
        relaxed,
        dropped,
        minimal,
    }
}
