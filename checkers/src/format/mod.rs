//! Reading and writing histories: ferret's JSONL, Jepsen's EDN, Porcupine's etcd and kv logs.

pub mod builder;
pub mod detect;
pub mod edn;
pub mod edn_scan;
pub mod error;
pub mod jsonl;
pub mod porcupine;
pub mod read;
#[cfg(test)]
mod tests;

pub use detect::{Format, DETECT_PREFIX};
pub use edn::{parse_value, read_edn_str};
pub use edn_scan::MAX_NESTING;
pub use error::ReadError;
pub use jsonl::{read_jsonl, JsonlWriter};
pub use porcupine::read_porcupine_etcd;
pub use read::{read_calls, read_file, PairedFile};
