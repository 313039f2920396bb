//! The ops of a register: read, write, and compare-and-set.

use crate::value::Value;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    Read(Value),
    Write(Value),
    Cas(Value, Value),
    /// A cas that completed and reported its compare failed: the state was not `from`.
    CasFailed(Value),
}
