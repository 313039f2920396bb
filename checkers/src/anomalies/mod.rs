//! Checkers that are not a model: rules about time and ownership that a history of leases, locks
//! or watches must keep, each broken rule an anomaly with the calls that show it.

pub mod lease;
pub mod lockset;
pub mod watch;
