//! The ops of a grow-only set: add, and a read of every element.

use crate::value::Value;
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    Add(Value),
    Read(BTreeSet<Value>),
    /// A read that listed this element more than once: no state of a set fits it.
    ReadTwice(Value),
}
