//! Exit codes, the same for every subcommand; CI pipelines depend on them.

pub const VALID: u8 = 0;
pub const INVALID: u8 = 1;
pub const UNKNOWN: u8 = 2;
/// Bad config or input, missing tool, cluster never came up.
pub const COULD_NOT_RUN: u8 = 3;

/// The exit code a checker's verdict stands for.
pub fn for_verdict(v: ferret_checkers::VerdictName) -> u8 {
    match v {
        ferret_checkers::VerdictName::Valid => VALID,
        ferret_checkers::VerdictName::Invalid => INVALID,
        ferret_checkers::VerdictName::Unknown => UNKNOWN,
    }
}
