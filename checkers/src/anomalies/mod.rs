//! Checkers that are not a model: rules about time and ownership that a history of leases, locks
//! or watches must keep, each broken rule an anomaly with the calls that show it.

pub mod lease;
pub mod lockset;
pub mod watch;

/// Every kind an anomaly of these checkers can have, as `Anomaly::kind` spells it (what a suite's
/// expectation may name).
pub const KINDS: &[&str] = &[
    "premature-expiry",
    "revoked-key-present",
    "renewed-after-revoke",
    "lost-add",
    "unexpected-element",
    "disagreement",
    "phantom",
    "out-of-order",
    "duplicate",
    "gap",
    "lost-write",
    "read-mismatch",
];
