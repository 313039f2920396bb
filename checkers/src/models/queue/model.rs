//! A queue: `enqueue x`, `dequeue` returning an element (nil: the queue was empty).

use crate::history::{Call, Outcome};
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::model::{expect_f, Model, OpError};
use crate::models::queue::decide;
use crate::models::queue::op::QueueOp;
use crate::value::Value;
use std::collections::VecDeque;

/// A queue: `enqueue x`, `dequeue` returning an element (nil: the queue was empty).
/// FIFO returns the oldest element; unordered returns any.
#[derive(Clone, Debug, Default)]
pub struct QueueModel {
    pub fifo: bool,
}

impl Model for QueueModel {
    /// Elements in queue order (kept sorted for the unordered queue, so equal multisets are equal).
    type State = VecDeque<Value>;
    type Op = QueueOp;

    fn init(&self) -> Self::State {
        VecDeque::new()
    }

    fn op(&self, call: &Call) -> Result<Option<QueueOp>, OpError> {
        match call.f.as_str() {
            "enqueue" => Ok(Some(QueueOp::Enqueue(call.invoke_value.clone()))),
            "dequeue" if call.outcome == Outcome::Ok => {
                Ok(Some(QueueOp::Dequeue(Some(call.value.clone()))))
            }
            "dequeue" => Ok(Some(QueueOp::Dequeue(None))),
            _ => Err(expect_f(call, &["enqueue", "dequeue"])),
        }
    }

    fn step(&self, s: &Self::State, op: &QueueOp, next: &mut Vec<Self::State>) {
        match op {
            QueueOp::Enqueue(x) => {
                let mut n = s.clone();
                if self.fifo {
                    n.push_back(x.clone());
                } else {
                    let at = n.partition_point(|y| y <= x);
                    n.insert(at, x.clone());
                }
                next.push(n);
            }
            QueueOp::Dequeue(Some(Value::Nil)) => {
                if s.is_empty() {
                    next.push(s.clone());
                }
            }
            QueueOp::Dequeue(Some(x)) => {
                let at = if self.fifo {
                    (s.front() == Some(x)).then_some(0)
                } else {
                    s.iter().position(|y| y == x)
                };
                if let Some(at) = at {
                    let mut n = s.clone();
                    n.remove(at);
                    next.push(n);
                }
            }
            QueueOp::Dequeue(None) if self.fifo => {
                if !s.is_empty() {
                    let mut n = s.clone();
                    n.pop_front();
                    next.push(n);
                }
            }
            QueueOp::Dequeue(None) => {
                // Any one element may have gone: one successor per distinct element.
                for (i, x) in s.iter().enumerate() {
                    if i > 0 && s[i - 1] == *x {
                        continue;
                    }
                    let mut n = s.clone();
                    n.remove(i);
                    next.push(n);
                }
            }
        }
    }

    fn decide(&self, calls: &[SearchCall<QueueOp>]) -> Option<Decision> {
        if self.fifo {
            decide::decide(calls)
        } else {
            None
        }
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<QueueOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        decide::unneeded(calls, kept, relaxed)
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::List(s.iter().cloned().collect())
    }

    fn state_bytes(&self, s: &Self::State) -> usize {
        s.iter().map(|v| 48 + v.heap_bytes()).sum()
    }
}
