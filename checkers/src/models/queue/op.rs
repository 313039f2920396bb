//! The ops of a queue: enqueue, and a dequeue that returns an element or finds it empty.

use crate::value::Value;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp {
    Enqueue(Value),
    /// `None`: unknown outcome, it removed whatever was there, if anything.
    Dequeue(Option<Value>),
}
