//! Deciding linearizability per key: the WGL search, a brute force to test it against, the per-key
//! engine, and the explanation and shrinking of what fails.

pub mod brute;
pub mod explain;
pub mod keys;
pub mod shrink;
pub mod wgl;

pub use crate::options::Budget;
pub use wgl::{check, Outcome, Verdict};
