//! Sequential reference models, each beside the polynomial procedure that decides its histories
//! of unique values, and what those procedures find: a linearization, or a contradiction.

pub mod call;
pub mod contradiction;
pub mod decision;
pub mod kv;
pub mod model;
pub mod multi_register;
pub mod mutex;
pub mod queue;
pub mod register;
pub mod replay;
pub mod set;
#[cfg(test)]
mod tests;

pub use call::SearchCall;
pub use kv::{StringKv, StringKvOp};
pub use model::{Model, ModelOptions, OpError};
pub use multi_register::{Micro, MultiRegister};
pub use mutex::{Mutex, MutexOp};
pub use queue::{QueueModel, QueueOp};
pub use register::{CasRegister, RegisterOp};
pub use set::{SetModel, SetOp};
