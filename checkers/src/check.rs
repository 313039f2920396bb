//! Checking a whole history: pair calls, split independent keys, and hand each key to the checker
//! its model names.

use crate::anomalies::{lease, lockset, watch};
use crate::history::{pair, Call, History, Outcome, Warning};
use crate::models::{CasRegister, MultiRegister, Mutex, QueueModel, SetModel, StringKv};
use crate::options::{CheckOptions, FailedCas, Independent, ModelName};
use crate::search::keys::check_keys;
use crate::txn;
use crate::value::Value;
use crate::verdict::{CheckError, Report, VerdictName};
use std::time::Instant;

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
        ModelName::Lease => lease::check_calls(&calls),
        ModelName::LockSet => lockset::check_calls(&calls, opts),
        ModelName::Watch => watch::check_calls(&calls),
        ModelName::ListAppend | ModelName::RwRegister => txn::check_calls(
            &calls,
            &txn::TxnOptions {
                datatype: if model == ModelName::ListAppend {
                    txn::Datatype::ListAppend
                } else {
                    txn::Datatype::RwRegister
                },
                consistency: opts.consistency,
                search_steps: opts.cycle_search_steps,
            },
        )
        .map(|k| vec![k]),
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
            let txn = matches!(
                model,
                ModelName::Txn | ModelName::ListAppend | ModelName::RwRegister
            );
            let telling = calls.iter().any(|c| c.f != "cas") || txn;
            let cas_nested = calls.iter().all(|c| {
                c.f != "cas" || matches!(c.invoke_value.as_list(), Some([_, v]) if tuple(v))
            });
            all && (telling || cas_nested) && !txn
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
