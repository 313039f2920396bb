//! A register with read, write and compare-and-set; without cas it is the plain register.

use crate::history::{is_failed_compare, Call};
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::model::{expect_f, read_result, Model, ModelOptions, OpError};
use crate::models::register::decide;
use crate::models::register::op::RegisterOp;
use crate::value::Value;

/// A register with read, write and compare-and-set; without cas it is the plain register.
#[derive(Clone, Debug, Default)]
pub struct CasRegister {
    pub opts: ModelOptions,
    /// Reject cas: the plain read/write register.
    pub plain: bool,
}

/// Equality of register values, the usual ones (integers, nil) compared inline: the search asks
/// for every call it tries.
#[inline(always)]
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Int(_), Value::Nil) | (Value::Nil, Value::Int(_)) => false,
        _ => a == b,
    }
}

impl Model for CasRegister {
    type State = Value;
    type Op = RegisterOp;

    fn init(&self) -> Value {
        self.opts.initial.clone()
    }

    fn op(&self, call: &Call) -> Result<Option<RegisterOp>, OpError> {
        match call.f.as_str() {
            "read" => Ok(read_result(call, &self.opts).map(RegisterOp::Read)),
            "write" => Ok(Some(RegisterOp::Write(call.invoke_value.clone()))),
            "cas" if !self.plain => match call.invoke_value.as_list() {
                Some([from, _]) if is_failed_compare(call) => {
                    Ok(Some(RegisterOp::CasFailed(from.clone())))
                }
                Some([from, to]) => Ok(Some(RegisterOp::Cas(from.clone(), to.clone()))),
                _ => Err(OpError::Value(format!(
                    "cas value is {}, expected [from to]",
                    call.invoke_value
                ))),
            },
            _ if self.plain => Err(expect_f(call, &["read", "write"])),
            _ => Err(expect_f(call, &["read", "write", "cas"])),
        }
    }

    fn step(&self, s: &Value, op: &RegisterOp, next: &mut Vec<Value>) {
        match op {
            RegisterOp::Read(v) if same(v, s) => next.push(s.clone()),
            RegisterOp::Read(_) => {}
            RegisterOp::Write(v) => next.push(v.clone()),
            RegisterOp::Cas(from, to) if same(from, s) => next.push(to.clone()),
            RegisterOp::Cas(..) => {}
            RegisterOp::CasFailed(from) if !same(from, s) => next.push(s.clone()),
            RegisterOp::CasFailed(_) => {}
        }
    }

    fn is_read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_) | RegisterOp::CasFailed(_))
    }

    fn may_need_rescue(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_) | RegisterOp::Cas(..))
    }

    fn needs_rescue(&self, s: &Value, op: &RegisterOp) -> bool {
        match op {
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) => !same(v, s),
            // Any write of another value makes it fit again; no cheap proof that none will come.
            RegisterOp::Write(_) | RegisterOp::CasFailed(_) => false,
        }
    }

    fn rescues(&self, writer: &RegisterOp, op: &RegisterOp) -> bool {
        let needed = match op {
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) => v,
            RegisterOp::Write(_) | RegisterOp::CasFailed(_) => return true,
        };
        match writer {
            RegisterOp::Write(x) | RegisterOp::Cas(_, x) => same(x, needed),
            RegisterOp::Read(_) | RegisterOp::CasFailed(_) => false,
        }
    }

    fn decide(&self, calls: &[SearchCall<RegisterOp>]) -> Option<Decision> {
        decide::decide(&self.opts.initial, calls)
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<RegisterOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        decide::unobserved(&self.opts.initial, calls, kept, relaxed)
    }

    fn show_state(&self, s: &Value) -> Value {
        s.clone()
    }

    fn state_bytes(&self, s: &Value) -> usize {
        s.heap_bytes()
    }
}
