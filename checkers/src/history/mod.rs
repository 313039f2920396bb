//! Histories: events as recorded, calls paired from them, and the words for both.

pub mod call;
pub mod describe;
pub mod event;
pub mod pairing;

pub use call::{is_failed_compare, Call, Outcome};
pub use event::{Event, EventType, History, Location, Process, Warning};
pub use pairing::{pair, PairError, Pairer};
