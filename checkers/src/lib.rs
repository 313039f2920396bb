//! ferret's offline checkers: history formats, sequential reference models with their polynomial
//! deciders, a WGL-style linearizability search, and the rule-based checkers of leases, locks and
//! watches. Pure and synchronous: no async runtime, no network.
//!
//! From the bottom up: `value` and `history` (what was recorded), `format` (reading it), `models`
//! (what was allowed), `search` (deciding each key against a model), `anomalies` (checkers that
//! are not a model), `txn` (cycles of dependencies between transactions), `check` (the dispatch). `verdict` and `options` are what every layer speaks.

pub mod anomalies;
pub mod check;
pub mod format;
pub mod history;
pub mod models;
pub mod options;
pub mod search;
pub mod synth;
#[doc(hidden)]
pub mod testing;
pub mod txn;
pub mod value;
pub mod verdict;

pub use check::{check, check_calls};
pub use format::{read_calls, read_file, Format, JsonlWriter, PairedFile, ReadError};
pub use history::{Call, Event, EventType, History, Location, Outcome, Process};
pub use models::{Model, ModelOptions, SearchCall};
pub use options::{CheckOptions, FailedCas, Independent, ModelName};
pub use search::{Budget, Verdict};
pub use value::Value;
pub use verdict::{CheckError, Method, Report, VerdictName};
