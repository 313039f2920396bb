//! The grow-only set, and its decision when added elements are unique.

pub mod decide;
pub mod model;
pub mod op;

pub use model::SetModel;
pub use op::SetOp;
