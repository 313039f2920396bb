//! The search against the brute-force checker, on many random small histories for every model:
//! concurrent calls, unknown outcomes, values from a small domain so both verdicts are common.

mod common;

use ferret_checkers::models::*;
use ferret_checkers::search::brute;
use ferret_checkers::search::{self, Budget, Verdict};
use ferret_checkers::SearchCall;
use ferret_checkers::Value;
use proptest::prelude::*;
use std::collections::BTreeSet;

const CASES: u32 = 4000;

/// Interval shapes: (start, length, unknown outcome). Positions are made distinct: invocations
/// even, completions odd.
fn shapes(max: usize) -> impl Strategy<Value = Vec<(u64, u64, bool)>> {
    shapes_unknown(max, 0.2)
}

/// Shapes where a share `unknown` of the calls have unknown outcomes.
fn shapes_unknown(max: usize, unknown: f64) -> impl Strategy<Value = Vec<(u64, u64, bool)>> {
    prop::collection::vec((0u64..12, 0u64..8, prop::bool::weighted(unknown)), 1..=max)
}

fn calls<O>(ops: Vec<O>, shapes: &[(u64, u64, bool)]) -> Vec<SearchCall<O>> {
    ops.into_iter()
        .zip(shapes)
        .map(|(op, &(start, len, unknown))| SearchCall {
            op,
            invoke: 2 * start,
            complete: (!unknown).then_some(2 * (start + len) + 1),
        })
        .collect()
}

fn agree<M: Model>(model: &M, calls: &[SearchCall<M::Op>]) -> Result<(), TestCaseError> {
    let want = brute::linearizable(model, calls);
    let got = search::check(model, calls, Budget::default());
    let got_valid = match got.verdict {
        Verdict::Valid => true,
        Verdict::Invalid => false,
        Verdict::Unknown(why) => return Err(TestCaseError::fail(format!("unknown: {why}"))),
    };
    prop_assert_eq!(got_valid, want, "calls: {:?}", calls);
    if got_valid {
        // The linearization given must hold every definite call exactly once.
        let mut seen = BTreeSet::new();
        for &i in &got.order {
            prop_assert!(seen.insert(i), "call {} twice in {:?}", i, got.order);
        }
        for (i, c) in calls.iter().enumerate() {
            if c.complete.is_some() {
                prop_assert!(seen.contains(&i), "definite call {} missing", i);
            }
        }
    }
    Ok(())
}

/// Leaving out the relaxed calls the model calls unneeded (here: every unknown outcome is
/// relaxed, every definite call kept) must not change the verdict.
fn unneeded_agree<M: Model>(model: &M, calls: &[SearchCall<M::Op>]) -> Result<(), TestCaseError> {
    let (rest, unneeded) = common::without_unneeded(model, calls);
    prop_assert_eq!(
        brute::linearizable(model, calls),
        brute::linearizable(model, &rest),
        "leaving out {:?} changed the verdict of {:?}",
        unneeded,
        calls
    );
    Ok(())
}

fn kv_op() -> impl Strategy<Value = StringKvOp> {
    prop_oneof![
        prop::sample::select(vec!["", "a", "b", "ab", "ba", "aa"])
            .prop_map(|s| StringKvOp::Get(s.into())),
        prop::sample::select(vec!["a", "b"]).prop_map(|s| StringKvOp::Put(s.into())),
        prop::sample::select(vec!["a", "b"]).prop_map(|s| StringKvOp::Append(s.into())),
    ]
}

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Nil), (0i64..3).prop_map(Value::Int)]
}

fn register_op(cas: bool) -> BoxedStrategy<RegisterOp> {
    let base = prop_oneof![
        small_value().prop_map(RegisterOp::Read),
        (0i64..3).prop_map(|v| RegisterOp::Write(Value::Int(v))),
    ];
    if cas {
        prop_oneof![
            base,
            (small_value(), 0i64..3).prop_map(|(a, b)| RegisterOp::Cas(a, Value::Int(b))),
            // A cas whose compare failed: an observation that the register did not hold `a`.
            small_value().prop_map(RegisterOp::CasFailed),
        ]
        .boxed()
    } else {
        base.boxed()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn cas_register(shapes in shapes(7), ops in prop::collection::vec(register_op(true), 7), zero in any::<bool>()) {
        let model = CasRegister {
            opts: ModelOptions { initial: if zero { Value::Int(0) } else { Value::Nil }, ..Default::default() },
            plain: false,
        };
        agree(&model, &calls(ops, &shapes))?;
    }

    // Mostly unknown outcomes with few distinct values: equal ops, writes overwritten unseen and
    // writes that change nothing, which the search's dominance rules skip.
    #[test]
    fn cas_register_mostly_unknown(shapes in shapes_unknown(8, 0.6), ops in prop::collection::vec(register_op(true), 8)) {
        agree(&CasRegister::default(), &calls(ops, &shapes))?;
    }

    #[test]
    fn queues_mostly_unknown(shapes in shapes_unknown(7, 0.6), ops in prop::collection::vec(prop_oneof![
        (0i64..2).prop_map(|v| QueueOp::Enqueue(Value::Int(v))),
        prop::option::of((0i64..2).prop_map(Value::Int)).prop_map(QueueOp::Dequeue),
    ], 7)) {
        agree(&QueueModel { fifo: true }, &calls(ops, &shapes))?;
    }

    #[test]
    fn register(shapes in shapes(7), ops in prop::collection::vec(register_op(false), 7)) {
        agree(&CasRegister { plain: true, ..Default::default() }, &calls(ops, &shapes))?;
    }

    #[test]
    fn string_kv(shapes in shapes(7), ops in prop::collection::vec(kv_op(), 7)) {
        agree(&StringKv, &calls(ops, &shapes))?;
    }

    #[test]
    fn string_kv_unneeded_relaxed(shapes in shapes_unknown(7, 0.5), ops in prop::collection::vec(kv_op(), 7)) {
        unneeded_agree(&StringKv, &calls(ops, &shapes))?;
    }

    #[test]
    fn cas_register_unneeded_relaxed(shapes in shapes_unknown(8, 0.5), ops in prop::collection::vec(register_op(true), 8)) {
        unneeded_agree(&CasRegister::default(), &calls(ops, &shapes))?;
    }

    #[test]
    fn multi_register(shapes in shapes(6), ops in prop::collection::vec(
        prop::collection::vec(prop_oneof![
            (prop::sample::select(vec!["x", "y"]), prop::option::of(small_value()))
                .prop_map(|(k, v)| Micro::Read(k.into(), v)),
            (prop::sample::select(vec!["x", "y"]), 0i64..3)
                .prop_map(|(k, v)| Micro::Write(k.into(), Value::Int(v))),
        ], 1..3), 6)) {
        agree(&MultiRegister::default(), &calls(ops, &shapes))?;
    }

    #[test]
    fn set(shapes in shapes(7), ops in prop::collection::vec(prop_oneof![
        (0i64..3).prop_map(|v| SetOp::Add(Value::Int(v))),
        prop::collection::btree_set((0i64..3).prop_map(Value::Int), 0..3).prop_map(SetOp::Read),
    ], 7)) {
        agree(&SetModel, &calls(ops, &shapes))?;
    }

    #[test]
    fn queues(shapes in shapes(7), fifo in any::<bool>(), ops in prop::collection::vec(prop_oneof![
        (0i64..3).prop_map(|v| QueueOp::Enqueue(Value::Int(v))),
        prop::option::of(small_value()).prop_map(QueueOp::Dequeue),
    ], 7)) {
        agree(&QueueModel { fifo }, &calls(ops, &shapes))?;
    }

    #[test]
    fn mutex(shapes in shapes(8), ops in prop::collection::vec(
        prop::sample::select(vec![MutexOp::Acquire, MutexOp::Release]), 8)) {
        agree(&Mutex, &calls(ops, &shapes))?;
    }
}

/// The generators must give both verdicts often, or the comparison above proves little.
#[test]
fn generators_give_both_verdicts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (shapes(7), prop::collection::vec(register_op(true), 7));
    let model = CasRegister::default();
    let (mut valid, mut invalid) = (0, 0);
    for _ in 0..2000 {
        let (s, ops) = strategy.new_tree(&mut runner).unwrap().current();
        if brute::linearizable(&model, &calls(ops, &s)) {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid > 200 && invalid > 200,
        "valid {valid}, invalid {invalid}"
    );
}
