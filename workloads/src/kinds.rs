//! The workloads `workload.kind` names: one line each. A new workload is one file with its
//! `Workload` and its `Settings`, and one line here.

use crate::settings::{read_text, read_value, Settings};
use crate::{append, lease, lock, register, watch};
use serde::de::DeserializeOwned;

/// One kind of workload, and how its settings are read.
pub struct Kind {
    pub name: &'static str,
    /// From a whole config file's text: errors carry line and column.
    pub read_text: fn(&str) -> Result<Box<dyn Settings>, yaml_serde::Error>,
    /// From the `workload:` section's own fields.
    pub read_value: fn(yaml_serde::Value) -> Result<Box<dyn Settings>, yaml_serde::Error>,
}

impl Kind {
    const fn of<S: Settings + DeserializeOwned + Default + 'static>(name: &'static str) -> Kind {
        Kind {
            name,
            read_text: read_text::<S>,
            read_value: read_value::<S>,
        }
    }
}

pub const KINDS: &[Kind] = &[
    Kind::of::<register::RegisterSettings>("register"),
    Kind::of::<lease::LeaseSettings>("lease"),
    Kind::of::<lock::LockSettings>("lock"),
    Kind::of::<watch::WatchSettings>("watch"),
    Kind::of::<append::AppendSettings>("append"),
];

/// The kind `name` names.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Every kind's name, for messages.
pub fn names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}
