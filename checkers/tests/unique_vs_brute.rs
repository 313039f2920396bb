//! The unique-value decisions against the brute-force checker and the search, on many thousands of
//! random small register, string, set and FIFO queue histories with concurrency and unknown
//! outcomes: they must never disagree, must decide nearly all of them, and must leave histories
//! whose values repeat to the search.

mod common;

use ferret_checkers::models::decision::Decision;
use ferret_checkers::models::register::decide::decide;
use ferret_checkers::models::{
    CasRegister, ModelOptions, QueueModel, QueueOp, RegisterOp, SetModel, SetOp, StringKv,
    StringKvOp,
};
use ferret_checkers::search::brute;
use ferret_checkers::search::{self, Budget, Verdict};
use ferret_checkers::SearchCall;
use ferret_checkers::Value;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// The positions of `n` calls' invocations and completions, shuffled.
fn shuffled_positions(rng: &mut ChaCha8Rng, n: usize) -> Vec<u64> {
    let mut slots: Vec<u64> = (0..2 * n as u64).collect();
    for i in (1..slots.len()).rev() {
        let j = rng.random_range(0..=i);
        slots.swap(i, j);
    }
    slots
}

/// Whether the model left out any relaxed call of `calls` as unneeded; when it did, the verdict
/// must not have changed.
fn unneeded_keep_the_verdict<M: ferret_checkers::Model>(
    model: &M,
    calls: &[SearchCall<M::Op>],
    case: usize,
) -> bool {
    let (rest, unneeded) = common::without_unneeded(model, calls);
    if !unneeded.contains(&true) {
        return false;
    }
    assert_eq!(
        brute::linearizable(model, calls),
        brute::linearizable(model, &rest),
        "case {case}: leaving out {unneeded:?} changed the verdict of {calls:?}"
    );
    true
}

/// A random history of `n` calls: writes and cas of fresh values, reads and failed compares of
/// values that were (or, rarely, never were) written; positions distinct, some outcomes unknown.
fn history(rng: &mut ChaCha8Rng, n: usize, cas: bool) -> Vec<SearchCall<RegisterOp>> {
    let mut next = 1i64;
    let mut written = vec![Value::Nil];
    // Each call takes two of the positions, its invoke the earlier.
    let slots = shuffled_positions(rng, n);
    let mut calls = Vec::new();
    for k in 0..n {
        let (a, b) = (slots[2 * k], slots[2 * k + 1]);
        let (invoke, complete) = (a.min(b), a.max(b));
        let pick = |rng: &mut ChaCha8Rng, written: &Vec<Value>| {
            if rng.random_bool(0.05) {
                Value::Int(1000)
            } else {
                written[rng.random_range(0..written.len())].clone()
            }
        };
        let roll: f64 = rng.random();
        let op = if roll < 0.35 {
            let v = Value::Int(next);
            next += 1;
            written.push(v.clone());
            RegisterOp::Write(v)
        } else if cas && roll < 0.5 {
            let v = Value::Int(next);
            next += 1;
            let from = pick(rng, &written);
            written.push(v.clone());
            RegisterOp::Cas(from, v)
        } else if cas && roll < 0.6 {
            RegisterOp::CasFailed(pick(rng, &written))
        } else {
            RegisterOp::Read(pick(rng, &written))
        };
        let unknown =
            !matches!(op, RegisterOp::Read(_) | RegisterOp::CasFailed(_)) && rng.random_bool(0.25);
        calls.push(SearchCall {
            op,
            invoke,
            complete: (!unknown).then_some(complete),
        });
    }
    calls
}

fn model(cas: bool) -> CasRegister {
    CasRegister {
        opts: ModelOptions::default(),
        plain: !cas,
    }
}

/// One decision held against the truth: never the other verdict, and the calls a refutation
/// names not linearizable on their own (as `named_linearizable` judges them). `Some(valid)` when
/// it decided.
fn holds<O: Clone + std::fmt::Debug>(
    case: usize,
    calls: &[SearchCall<O>],
    truth: bool,
    decision: Option<Decision>,
    named_linearizable: impl Fn(&[SearchCall<O>]) -> bool,
) -> Option<bool> {
    match decision? {
        Decision::Valid { .. } => {
            assert!(truth, "case {case}: says valid, truth invalid: {calls:?}");
            Some(true)
        }
        Decision::Invalid(r) => {
            let contradiction = &r.contradiction;
            assert!(
                !truth,
                "case {case}: says invalid ({contradiction:?}), truth valid: {calls:?}"
            );
            let core = r.standalone(calls);
            assert!(
                !named_linearizable(&core),
                "case {case}: the named calls {contradiction:?} are linearizable: {calls:?}"
            );
            Some(false)
        }
    }
}

/// Check `cases` random histories; returns how many the unique check decided.
fn agree(seed: u64, cases: usize, max_calls: usize, cas: bool) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut decided = 0;
    for case in 0..cases {
        let n = rng.random_range(1..=max_calls);
        let calls = history(&mut rng, n, cas);
        let m = model(cas);
        let truth = if n <= 8 {
            brute::linearizable(&m, &calls)
        } else {
            match search::check(&m, &calls, Budget::default()).verdict {
                Verdict::Valid => true,
                Verdict::Invalid => false,
                Verdict::Unknown(why) => panic!("search undecided: {why}"),
            }
        };
        let named_linearizable = |core: &[SearchCall<RegisterOp>]| {
            search::check(&m, core, Budget::default()).verdict != Verdict::Invalid
        };
        if holds(
            case,
            &calls,
            truth,
            decide(&Value::Nil, &calls),
            named_linearizable,
        )
        .is_some()
        {
            decided += 1;
        }
    }
    decided
}

#[test]
fn read_write_registers_agree_with_brute_force() {
    let decided = agree(1, 6000, 8, false);
    eprintln!("read/write: decided {decided} of 6000");
    assert!(decided >= 5900, "decided only {decided} of 6000");
}

#[test]
fn cas_registers_agree_with_brute_force() {
    let decided = agree(2, 6000, 8, true);
    eprintln!("cas: decided {decided} of 6000");
    assert!(decided >= 5000, "decided only {decided} of 6000");
}

#[test]
fn larger_cas_histories_agree_with_the_search() {
    let decided = agree(3, 1500, 40, true);
    eprintln!("cas, up to 40 calls: decided {decided} of 1500");
    assert!(decided >= 1000, "decided only {decided} of 1500");
}

#[test]
fn repeated_values_go_to_the_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..500 {
        let mut calls = history(&mut rng, 6, true);
        // Make one written value repeat, or write the initial value.
        let dup = if rng.random_bool(0.5) {
            Value::Nil
        } else {
            Value::Int(1)
        };
        calls.push(SearchCall {
            op: RegisterOp::Write(dup),
            invoke: 100,
            complete: Some(101),
        });
        let written = calls
            .iter()
            .filter(|c| matches!(&c.op, RegisterOp::Write(_) | RegisterOp::Cas(..)))
            .count();
        if written >= 2 {
            assert!(decide(&Value::Nil, &calls).is_none(), "{calls:?}");
        }
    }
}

/// A random history whose written values repeat (from a domain of three and nil).
fn repeating_history(rng: &mut ChaCha8Rng, n: usize) -> Vec<SearchCall<RegisterOp>> {
    let value = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
        0 => Value::Nil,
        k => Value::Int(k),
    };
    (0..n)
        .map(|_| {
            let invoke = rng.random_range(0..20u64) * 2;
            let complete = invoke + 2 * rng.random_range(0..8u64) + 1;
            let roll: f64 = rng.random();
            let op = if roll < 0.4 {
                RegisterOp::Write(value(rng))
            } else if roll < 0.6 {
                RegisterOp::Cas(value(rng), value(rng))
            } else if roll < 0.7 {
                RegisterOp::CasFailed(value(rng))
            } else {
                RegisterOp::Read(value(rng))
            };
            let unknown =
                matches!(op, RegisterOp::Write(_) | RegisterOp::Cas(..)) && rng.random_bool(0.4);
            SearchCall {
                op,
                invoke,
                complete: (!unknown).then_some(complete),
            }
        })
        .collect()
}

#[test]
fn unobserved_relaxed_writes_never_change_a_verdict() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut dropped = 0;
    for case in 0..20_000 {
        let n = rng.random_range(1..=8);
        let calls = if case % 2 == 0 {
            repeating_history(&mut rng, n)
        } else {
            history(&mut rng, n, true)
        };
        if unneeded_keep_the_verdict(&model(true), &calls, case) {
            dropped += 1;
        }
    }
    eprintln!("histories with unobserved relaxed writes: {dropped} of 20000");
    assert!(dropped > 2000, "only {dropped} histories left anything out");
}

/// A random string-kv history: appends of mostly distinct strings (now and then a repeat, or a
/// string also put), a few puts, gets of strings built from what was written (sometimes in an
/// order or from a base no history makes); positions distinct, some outcomes unknown.
fn kv_history(rng: &mut ChaCha8Rng, n: usize) -> Vec<SearchCall<StringKvOp>> {
    let slots = shuffled_positions(rng, n);
    let mut written: Vec<String> = Vec::new();
    let mut put: Vec<String> = Vec::new();
    let mut calls = Vec::new();
    for k in 0..n {
        let (a, b) = (slots[2 * k], slots[2 * k + 1]);
        let roll: f64 = rng.random();
        let op = if roll < 0.4 {
            let s = if !written.is_empty() && rng.random_bool(0.1) {
                written[rng.random_range(0..written.len())].clone()
            } else {
                format!("<{k}>")
            };
            written.push(s.clone());
            StringKvOp::Append(s)
        } else if roll < 0.5 {
            let s = if !written.is_empty() && rng.random_bool(0.2) {
                written[rng.random_range(0..written.len())].clone()
            } else {
                format!("[{k}]")
            };
            put.push(s.clone());
            StringKvOp::Put(s)
        } else {
            let mut v = if !put.is_empty() && rng.random_bool(0.4) {
                put[rng.random_range(0..put.len())].clone()
            } else {
                String::new()
            };
            let mut pool = written.clone();
            for _ in 0..rng.random_range(0..=pool.len().min(3)) {
                let i = rng.random_range(0..pool.len());
                v.push_str(&pool.swap_remove(i));
            }
            StringKvOp::Get(v)
        };
        let unknown = !matches!(op, StringKvOp::Get(_)) && rng.random_bool(0.25);
        calls.push(SearchCall {
            op,
            invoke: a.min(b),
            complete: (!unknown).then_some(a.max(b)),
        });
    }
    calls
}

/// The string-kv decision (appends read as register versions) against the brute-force checker:
/// never a different verdict, the calls a refutation names not linearizable on their own, and
/// nearly every history decided (300,000 more agreed in a one-off run).
#[test]
fn string_kv_appends_agree_with_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (mut valid, mut invalid) = (0, 0);
    let cases = 20_000;
    for case in 0..cases {
        let n = rng.random_range(1..=8);
        let calls = kv_history(&mut rng, n);
        let truth = brute::linearizable(&StringKv, &calls);
        let decision = ferret_checkers::models::kv::decide::decide(&StringKv, &calls);
        match holds(case, &calls, truth, decision, |core| {
            brute::linearizable(&StringKv, core)
        }) {
            Some(true) => valid += 1,
            Some(false) => invalid += 1,
            None => {}
        }
    }
    let decided = valid + invalid;
    eprintln!("string-kv: decided {decided} of {cases} ({valid} valid, {invalid} invalid)");
    assert!(
        decided * 10 >= cases * 8,
        "decided only {decided} of {cases}"
    );
    assert!(
        valid > 1000 && invalid > 1000,
        "{valid} valid, {invalid} invalid"
    );
}

/// A random grow-only set history from a simulated store: each call takes effect at a random
/// point within its interval (an unknown-outcome add takes effect, or not at all), reads return
/// what was added before their point, and some reads are then spoilt — an element dropped, one
/// added later or never added slipped in. Adds repeat an element when `repeat` is set.
fn set_history(rng: &mut ChaCha8Rng, n: usize, repeat: bool) -> Vec<SearchCall<SetOp>> {
    let slots = shuffled_positions(rng, n);
    // (call, point, added element if it took effect)
    let mut calls = Vec::new();
    let mut points: Vec<(f64, usize)> = Vec::new();
    let mut next = 0i64;
    for k in 0..n {
        let (a, b) = (slots[2 * k], slots[2 * k + 1]);
        let (invoke, complete) = (a.min(b), a.max(b));
        let point = invoke as f64 + rng.random_range(0.01..0.99) * (complete - invoke) as f64;
        if rng.random_bool(0.45) {
            let x = if repeat && next > 0 && rng.random_bool(0.3) {
                rng.random_range(0..next)
            } else {
                next += 1;
                next - 1
            };
            let unknown = rng.random_bool(0.25);
            if !unknown || rng.random_bool(0.5) {
                points.push((point, k));
            }
            calls.push(SearchCall {
                op: SetOp::Add(Value::Int(x)),
                invoke,
                complete: (!unknown).then_some(complete),
            });
        } else {
            points.push((point, k));
            calls.push(SearchCall {
                op: SetOp::Read(BTreeSet::new()),
                invoke,
                complete: Some(complete),
            });
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut state = BTreeSet::new();
    for &(_, k) in &points {
        let mut twice = None;
        match &mut calls[k].op {
            SetOp::Add(x) => {
                state.insert(x.clone());
            }
            SetOp::Read(s) => {
                *s = state.clone();
                if rng.random_bool(0.15) {
                    match rng.random_range(0..4) {
                        // A read listing an element twice.
                        3 if !s.is_empty() => twice = s.first().cloned(),
                        0 if !s.is_empty() => {
                            let drop = s.iter().nth(rng.random_range(0..s.len())).cloned();
                            s.remove(&drop.unwrap_or_default());
                        }
                        1 => {
                            s.insert(Value::Int(rng.random_range(0..next.max(1))));
                        }
                        _ => {
                            s.insert(Value::Int(1000));
                        }
                    }
                }
            }
            SetOp::ReadTwice(_) => {}
        }
        if let Some(x) = twice {
            calls[k].op = SetOp::ReadTwice(x);
        }
    }
    calls
}

/// The set decision against the brute-force checker (up to 8 calls) and the search (up to 40):
/// never a different verdict, the calls a refutation names not linearizable on their own, and
/// every history with unique adds decided.
fn sets_agree(seed: u64, cases: usize, max_calls: usize) -> (usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut valid, mut invalid) = (0, 0);
    for case in 0..cases {
        let n = rng.random_range(1..=max_calls);
        let calls = set_history(&mut rng, n, false);
        let truth = if n <= 8 {
            brute::linearizable(&SetModel, &calls)
        } else {
            match search::check(&SetModel, &calls, Budget::default()).verdict {
                Verdict::Valid => true,
                Verdict::Invalid => false,
                Verdict::Unknown(why) => panic!("search undecided: {why}"),
            }
        };
        let decision = ferret_checkers::models::set::decide::decide(&calls);
        assert!(decision.is_some(), "case {case}: undecided: {calls:?}");
        match holds(case, &calls, truth, decision, |core| {
            search::check(&SetModel, core, Budget::default()).verdict != Verdict::Invalid
        }) {
            Some(true) => valid += 1,
            Some(false) => invalid += 1,
            None => {}
        }
    }
    (valid, invalid)
}

#[test]
fn sets_agree_with_brute_force() {
    let (valid, invalid) = sets_agree(7, 20_000, 8);
    eprintln!("sets: {valid} valid, {invalid} invalid of 20000");
    assert!(
        valid > 3000 && invalid > 3000,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn larger_sets_agree_with_the_search() {
    let (valid, invalid) = sets_agree(8, 2000, 40);
    eprintln!("sets, up to 40 calls: {valid} valid, {invalid} invalid of 2000");
    assert!(
        valid > 300 && invalid > 300,
        "{valid} valid, {invalid} invalid"
    );
}

/// An element added twice goes to the search, never decided here: the brute force shows which
/// verdict such histories have, and the set decision must leave them all.
#[test]
fn repeated_adds_go_to_the_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut repeated = 0;
    for _ in 0..5000 {
        let n = rng.random_range(2..=8);
        let calls = set_history(&mut rng, n, true);
        let mut seen = BTreeSet::new();
        let repeats = calls
            .iter()
            .any(|c| matches!(&c.op, SetOp::Add(x) if !seen.insert(x.clone())));
        if repeats {
            repeated += 1;
            assert!(
                ferret_checkers::models::set::decide::decide(&calls).is_none(),
                "{calls:?}"
            );
        }
    }
    assert!(repeated > 500, "only {repeated} histories repeated an add");
}

#[test]
fn unseen_relaxed_adds_never_change_a_verdict() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let mut dropped = 0;
    for case in 0..20_000 {
        let n = rng.random_range(1..=8);
        let calls = set_history(&mut rng, n, case % 2 == 0);
        if unneeded_keep_the_verdict(&SetModel, &calls, case) {
            dropped += 1;
        }
    }
    eprintln!("set histories with unseen relaxed adds: {dropped} of 20000");
    assert!(dropped > 1000, "only {dropped} histories left anything out");
}

/// A random FIFO queue history from a simulated store: each call takes effect at a random point
/// within its interval (an unknown-outcome call takes effect, or not at all), dequeues return
/// the head then (nil when empty), and some dequeues are then spoilt — another enqueued value,
/// nil, or one never enqueued. Values repeat when `repeat` is set. Dequeues may have unknown
/// outcomes with `unknown`: `Unknown::Value`, what a shrunk history's relaxed dequeue keeps (the
/// value it returned, or would have), `Unknown::Nothing`, a dequeue whose reply never came,
/// `Unknown::Both`, either (a shrunk history of one with lost dequeues).
#[derive(Clone, Copy, PartialEq)]
enum Unknown {
    None,
    Value,
    Nothing,
    Both,
}

fn queue_history(
    rng: &mut ChaCha8Rng,
    n: usize,
    repeat: bool,
    unknown: Unknown,
) -> Vec<SearchCall<QueueOp>> {
    let unknown_kind = unknown;
    let unknown_dequeues = unknown != Unknown::None;
    let slots = shuffled_positions(rng, n);
    let mut calls = Vec::new();
    let mut points: Vec<(f64, usize)> = Vec::new();
    let mut next = 1i64;
    for k in 0..n {
        let (a, b) = (slots[2 * k], slots[2 * k + 1]);
        let (invoke, complete) = (a.min(b), a.max(b));
        let point = invoke as f64 + rng.random_range(0.01..0.99) * (complete - invoke) as f64;
        let enqueue = rng.random_bool(0.5);
        let unknown = rng.random_bool(if enqueue || unknown_dequeues {
            0.2
        } else {
            0.0
        });
        if !unknown || rng.random_bool(0.5) {
            points.push((point, k));
        }
        let op = if enqueue {
            let v = if repeat && next > 1 && rng.random_bool(0.3) {
                rng.random_range(1..next)
            } else {
                next += 1;
                next - 1
            };
            QueueOp::Enqueue(Value::Int(v))
        } else if unknown
            && (unknown_kind == Unknown::Nothing
                || unknown_kind == Unknown::Both && rng.random_bool(0.5))
        {
            QueueOp::Dequeue(None)
        } else {
            QueueOp::Dequeue(Some(Value::Nil))
        };
        calls.push(SearchCall {
            op,
            invoke,
            complete: (!unknown).then_some(complete),
        });
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut queue = std::collections::VecDeque::new();
    for &(_, k) in &points {
        let definite = calls[k].complete.is_some();
        match &mut calls[k].op {
            QueueOp::Enqueue(v) => queue.push_back(v.clone()),
            QueueOp::Dequeue(None) => {
                queue.pop_front();
            }
            QueueOp::Dequeue(Some(r)) => {
                *r = queue.pop_front().unwrap_or(Value::Nil);
                if rng.random_bool(0.15) && definite {
                    *r = match rng.random_range(0..3) {
                        0 => Value::Int(rng.random_range(1..next.max(2))),
                        1 => Value::Nil,
                        _ => Value::Int(1000),
                    };
                }
            }
        }
    }
    calls.sort_by_key(|c| c.invoke);
    calls
}

const FIFO: QueueModel = QueueModel { fifo: true };

/// The queue decision against the brute-force checker (up to 8 calls) and the search (more):
/// never a different verdict, the calls a refutation names not linearizable on their own.
/// (valid, invalid, undecided, cases the search could not decide in its budget, cases with a
/// dequeue whose reply never came that were decided) of `cases`.
fn queues_agree(seed: u64, cases: usize, max_calls: usize) -> (usize, usize, usize, usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut valid, mut invalid, mut undecided, mut beyond, mut lost) = (0, 0, 0, 0, 0);
    // Invalid queue histories of a few dozen calls are hard for the search: what it cannot
    // decide quickly is counted and skipped.
    let budget = Budget {
        memory: 256 << 20,
        steps: 200_000,
        ..Budget::default()
    };
    for case in 0..cases {
        let n = rng.random_range(1..=max_calls);
        // A quarter with relaxed dequeues, as shrinking makes them, a quarter with dequeues whose
        // reply never came, a quarter with both.
        let unknown = [
            Unknown::Value,
            Unknown::Nothing,
            Unknown::Both,
            Unknown::None,
        ][case % 4];
        let calls = queue_history(&mut rng, n, false, unknown);
        let has_lost = calls.iter().any(|c| matches!(c.op, QueueOp::Dequeue(None)));
        let truth = if n <= 8 {
            brute::linearizable(&FIFO, &calls)
        } else {
            match search::check(&FIFO, &calls, budget).verdict {
                Verdict::Valid => true,
                Verdict::Invalid => false,
                // No truth to hold the decision against: a refutation's named calls must still
                // not be linearizable (a linearization is replayed before it is given).
                Verdict::Unknown(_) => {
                    beyond += 1;
                    if let Some(Decision::Invalid(r)) =
                        ferret_checkers::models::queue::decide::decide(&calls)
                    {
                        let core = r.standalone(&calls);
                        assert_eq!(
                            search::check(&FIFO, &core, Budget::default()).verdict,
                            Verdict::Invalid,
                            "case {case}: the named calls {:?} are not shown invalid: {calls:?}",
                            r.contradiction
                        );
                    }
                    continue;
                }
            }
        };
        let decision = ferret_checkers::models::queue::decide::decide(&calls);
        if has_lost && decision.is_some() {
            lost += 1;
        }
        match holds(case, &calls, truth, decision, |core| {
            search::check(&FIFO, core, Budget::default()).verdict != Verdict::Invalid
        }) {
            Some(true) => valid += 1,
            Some(false) => invalid += 1,
            None => undecided += 1,
        }
    }
    (valid, invalid, undecided, beyond, lost)
}

#[test]
fn fifo_queues_agree_with_brute_force() {
    let (valid, invalid, undecided, _, lost) = queues_agree(11, 20_000, 8);
    eprintln!(
        "fifo queues: {valid} valid, {invalid} invalid, {undecided} left to the search of 20000 \
         ({lost} with a lost dequeue decided)"
    );
    assert!(lost > 1000, "{lost} with a lost dequeue decided");
    assert!(
        valid > 3000 && invalid > 2500,
        "{valid} valid, {invalid} invalid"
    );
    assert!(undecided * 50 <= 20_000, "{undecided} undecided");
}

#[test]
fn larger_fifo_queues_agree_with_the_search() {
    let (valid, invalid, undecided, beyond, lost) = queues_agree(12, 2000, 20);
    eprintln!(
        "fifo queues, up to 20 calls: {valid} valid, {invalid} invalid, {undecided} left to the \
         search, {beyond} beyond the search's budget, of 2000 ({lost} with a lost dequeue \
         decided)"
    );
    assert!(
        valid > 300 && invalid > 300,
        "{valid} valid, {invalid} invalid"
    );
    assert!(undecided * 20 <= 2000, "{undecided} undecided");
    assert!(beyond * 10 <= 2000, "{beyond} beyond the search");
}

/// A value enqueued twice goes to the search, never decided here.
#[test]
fn repeated_enqueues_go_to_the_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut left = 0;
    for case in 0..5000 {
        let n = rng.random_range(2..=8);
        let unknown = [Unknown::None, Unknown::Value, Unknown::Nothing][case % 3];
        let calls = queue_history(&mut rng, n, true, unknown);
        let mut seen = BTreeSet::new();
        let repeats = calls
            .iter()
            .any(|c| matches!(&c.op, QueueOp::Enqueue(x) if !seen.insert(x.clone())));
        if repeats {
            left += 1;
            assert!(
                ferret_checkers::models::queue::decide::decide(&calls).is_none(),
                "{calls:?}"
            );
        }
    }
    assert!(left > 1000, "only {left} histories repeated a value");
}

#[test]
fn unneeded_relaxed_queue_calls_never_change_a_verdict() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut dropped = 0;
    for case in 0..20_000 {
        let n = rng.random_range(1..=8);
        let unknown = [
            Unknown::None,
            Unknown::Value,
            Unknown::Nothing,
            Unknown::Both,
        ][case % 4];
        let calls = queue_history(&mut rng, n, case % 2 == 0, unknown);
        let unordered = QueueModel { fifo: false };
        if unneeded_keep_the_verdict(&FIFO, &calls, case) {
            dropped += 1;
        }
        unneeded_keep_the_verdict(&unordered, &calls, case);
    }
    eprintln!("queue histories with unneeded relaxed calls: {dropped} of 20000");
    assert!(dropped > 1000, "only {dropped} histories left anything out");
}
