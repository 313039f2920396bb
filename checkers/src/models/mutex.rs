//! A lock: `acquire` succeeds only when free, `release` only when held.

use crate::history::Call;
use crate::models::model::{expect_f, Model, OpError};
use crate::value::Value;

/// A lock: `acquire` succeeds only when free, `release` only when held.
#[derive(Clone, Debug, Default)]
pub struct Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    Acquire,
    Release,
}

impl Model for Mutex {
    type State = bool;
    type Op = MutexOp;

    fn init(&self) -> bool {
        false
    }

    fn op(&self, call: &Call) -> Result<Option<MutexOp>, OpError> {
        match call.f.as_str() {
            "acquire" => Ok(Some(MutexOp::Acquire)),
            "release" => Ok(Some(MutexOp::Release)),
            _ => Err(expect_f(call, &["acquire", "release"])),
        }
    }

    fn step(&self, held: &bool, op: &MutexOp, next: &mut Vec<bool>) {
        match (op, held) {
            (MutexOp::Acquire, false) => next.push(true),
            (MutexOp::Release, true) => next.push(false),
            _ => {}
        }
    }

    fn show_state(&self, held: &bool) -> Value {
        Value::from(if *held { "held" } else { "free" })
    }
}
