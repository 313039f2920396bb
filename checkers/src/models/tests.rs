//! Each model against hand-made calls.

use crate::history::Process;
use crate::history::{Call, Outcome};
use crate::models::kv::{StringKv, StringKvOp};
use crate::models::model::{Model, ModelOptions};
use crate::models::multi_register::MultiRegister;
use crate::models::queue::{QueueModel, QueueOp};
use crate::models::register::{CasRegister, RegisterOp};
use crate::models::set::{SetModel, SetOp};
use crate::value::Value;
use std::collections::{BTreeMap, VecDeque};

fn call(f: &str, inv: Value, out: Value, outcome: Outcome) -> Call {
    Call {
        process: Process::Client(0),
        f: f.into(),
        key: None,
        node: None,
        invoke_value: inv,
        value: out,
        outcome,
        invoke_index: 0,
        complete_index: None,
        invoke_time: None,
        complete_time: None,
        line: 1,
        invoke_pos: 0,
        complete_pos: None,
    }
}

fn steps<M: Model>(m: &M, s: &M::State, op: &M::Op) -> Vec<M::State> {
    let mut v = Vec::new();
    m.step(s, op, &mut v);
    v
}

/// The search looks beyond the frontier only at calls that `may_need_rescue`: no op outside
/// them may ever need rescue.
#[test]
fn may_need_rescue_covers_needs_rescue() {
    let values = [Value::Nil, Value::Int(0), Value::Int(1)];
    let reg = CasRegister::default();
    for s in &values {
        for a in &values {
            for b in &values {
                for op in [
                    RegisterOp::Read(a.clone()),
                    RegisterOp::Write(a.clone()),
                    RegisterOp::Cas(a.clone(), b.clone()),
                    RegisterOp::CasFailed(a.clone()),
                ] {
                    assert!(
                        !reg.needs_rescue(s, &op) || reg.may_need_rescue(&op),
                        "{op:?}"
                    );
                }
            }
        }
    }
    let strings = ["", "a", "ab", "b"];
    for s in strings {
        for v in strings {
            for op in [
                StringKvOp::Get(v.into()),
                StringKvOp::Put(v.into()),
                StringKvOp::Append(v.into()),
            ] {
                assert!(
                    !StringKv.needs_rescue(&s.to_string(), &op) || StringKv.may_need_rescue(&op),
                    "{op:?}"
                );
            }
        }
    }
    let sets: Vec<std::collections::BTreeSet<Value>> = vec![
        Default::default(),
        [Value::Int(0)].into(),
        [Value::Int(0), Value::Int(1)].into(),
    ];
    for s in &sets {
        for r in &sets {
            let state: imbl::OrdSet<Value> = s.iter().cloned().collect();
            for op in [SetOp::Add(Value::Int(1)), SetOp::Read(r.clone())] {
                assert!(!SetModel.needs_rescue(&state, &op) || SetModel.may_need_rescue(&op));
            }
        }
    }
}

#[test]
fn cas_register_semantics() {
    let m = CasRegister::default();
    let cas = m
        .op(&call(
            "cas",
            Value::List(vec![1.into(), 2.into()]),
            Value::Nil,
            Outcome::Ok,
        ))
        .unwrap()
        .unwrap();
    assert_eq!(steps(&m, &Value::Int(1), &cas), vec![Value::Int(2)]);
    assert!(steps(&m, &Value::Int(3), &cas).is_empty());
    // A compare that failed saw a value other than `from`, and changed nothing.
    let failed = m
        .op(&call(
            "cas",
            Value::List(vec![1.into(), 2.into()]),
            Value::Bool(false),
            Outcome::Ok,
        ))
        .unwrap()
        .unwrap();
    assert_eq!(failed, RegisterOp::CasFailed(1.into()));
    assert!(steps(&m, &Value::Int(1), &failed).is_empty());
    assert_eq!(steps(&m, &Value::Int(3), &failed), vec![Value::Int(3)]);
    assert!(m.is_read_only(&failed));
    // An unknown-outcome cas may have swapped.
    let unknown = m
        .op(&call(
            "cas",
            Value::List(vec![1.into(), 2.into()]),
            Value::List(vec![1.into(), 2.into()]),
            Outcome::Info,
        ))
        .unwrap()
        .unwrap();
    assert_eq!(unknown, RegisterOp::Cas(1.into(), 2.into()));
    // An unknown-outcome read constrains nothing.
    let r = m
        .op(&call("read", Value::Nil, Value::Nil, Outcome::Info))
        .unwrap();
    assert!(r.is_none());
    let nil_read = call("read", Value::Nil, Value::Nil, Outcome::Ok);
    assert!(m.op(&nil_read).unwrap().is_some());
    let knossos = CasRegister {
        opts: ModelOptions {
            nil_reads_unconstrained: true,
            ..Default::default()
        },
        plain: false,
    };
    assert!(knossos.op(&nil_read).unwrap().is_none());
    assert!(m
        .op(&call("inc", Value::Nil, Value::Nil, Outcome::Ok))
        .is_err());
}

#[test]
fn unordered_queue_unknown_dequeue_branches() {
    let m = QueueModel { fifo: false };
    let s: VecDeque<Value> = [1, 1, 2].into_iter().map(Value::Int).collect();
    let next = steps(&m, &s, &QueueOp::Dequeue(None));
    assert_eq!(next.len(), 2);
    let fifo = QueueModel { fifo: true };
    assert_eq!(
        steps(&fifo, &s, &QueueOp::Dequeue(Some(Value::Int(2)))).len(),
        0
    );
}

#[test]
fn multi_register_txn() {
    let m = MultiRegister::default();
    let t = call(
        "txn",
        Value::Nil,
        Value::List(vec![
            Value::List(vec!["read".into(), "x".into(), Value::Nil]),
            Value::List(vec!["write".into(), "x".into(), 1.into()]),
            Value::List(vec!["read".into(), "x".into(), 1.into()]),
        ]),
        Outcome::Ok,
    );
    let op = m.op(&t).unwrap().unwrap();
    let next = steps(&m, &BTreeMap::new(), &op);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].get(&Value::from("x")), Some(&Value::Int(1)));
}
