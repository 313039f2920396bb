//! Porcupine's string key-value register, and its decision when appends are unique.

pub mod decide;
pub mod model;
pub mod op;

pub use model::StringKv;
pub use op::StringKvOp;
