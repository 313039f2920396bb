//! The queue (FIFO or unordered), and its decision when enqueued values are unique.

pub mod decide;
pub mod model;
pub mod op;

pub use model::QueueModel;
pub use op::QueueOp;
