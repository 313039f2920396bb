//! ferret's offline checkers: history formats, sequential reference models, and a WGL-style
//! linearizability search. Pure and synchronous: no async runtime, no network.

pub mod append;
pub mod brute;
pub mod checker;
pub mod format;
pub mod history;
pub mod lease;
pub mod lockset;
pub mod model;
pub mod queue;
pub mod search;
pub mod set;
pub mod synth;
#[doc(hidden)]
pub mod testing;
pub mod unique;
pub mod value;
pub mod watch;

pub use checker::{
    check, check_calls, CheckError, CheckOptions, FailedCas, Independent, Method, ModelName,
    Report, VerdictName,
};
pub use format::{read_calls, read_file, Format, JsonlWriter, PairedFile, ReadError};
pub use history::{Call, Event, EventType, History, Location, Outcome, Process};
pub use model::{Model, ModelOptions};
pub use search::{Budget, SearchCall, Verdict};
pub use value::Value;
