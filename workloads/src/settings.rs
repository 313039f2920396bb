//! A workload's own settings: what only its kind reads from a config's `workload:` section, read
//! and checked by the kind itself. The harness reads `kind`, `concurrency` and `rate`, which
//! every workload has.

use crate::clients::etcd::EtcdClient;
use crate::Workload;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fmt::Debug;
use std::time::Duration;

/// What a workload's settings may depend on beyond their own.
#[derive(Clone, Copy, Debug)]
pub struct Common {
    /// Client slots running at once (`workload.concurrency`).
    pub concurrency: usize,
}

/// A setting out of its bounds: its field's dotted path (`workload.ttl`), and what it must be.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {expected}")]
pub struct SettingsError {
    pub field: String,
    pub expected: String,
}

impl SettingsError {
    pub fn new(field: impl Into<String>, expected: impl Into<String>) -> Self {
        SettingsError {
            field: field.into(),
            expected: expected.into(),
        }
    }
}

/// One workload kind's settings, read from the config.
pub trait Settings: Debug + Send + Sync {
    /// Every setting within its bounds, and consistent with `common`.
    fn validate(&self, common: &Common) -> Result<(), SettingsError>;

    /// The workload these settings describe (after `validate`).
    fn workload(&self, common: &Common) -> Box<dyn Workload>;

    /// The workload in a few words, for `ferret run --dry-run`: `register workload over 20 keys`.
    fn describe(&self) -> String;

    /// Whether a client that supports only the functions `supports` says yes to can run this
    /// workload (an HTTP service describes its ops in the config; etcd supports them all).
    fn check_ops(
        &self,
        common: &Common,
        supports: &dyn Fn(&str) -> bool,
    ) -> Result<(), SettingsError> {
        let w = self.workload(common);
        match w.ops().iter().find(|f| !supports(f)) {
            Some(f) => Err(SettingsError::new(
                "workload.kind",
                format!(
                    "{} invokes {f}, which client.ops does not describe (the lease, lock and \
                     watch workloads need client.protocol: etcd)",
                    w.name()
                ),
            )),
            None => Ok(()),
        }
    }

    /// The etcd client as this workload needs it (the lock workload's wait and verification).
    fn etcd_client(&self, client: EtcdClient) -> EtcdClient {
        client
    }
}

/// Read a kind's settings from a whole config file's text, so an error carries its line and
/// column; a config without a `workload:` section gets the kind's defaults.
pub fn read_text<S>(text: &str) -> Result<Box<dyn Settings>, yaml_serde::Error>
where
    S: Settings + DeserializeOwned + Default + 'static,
{
    #[derive(Deserialize)]
    struct Doc<S> {
        #[serde(default = "Option::default")]
        workload: Option<S>,
    }
    let doc: Doc<S> = yaml_serde::from_str(text)?;
    Ok(Box::new(doc.workload.unwrap_or_default()))
}

/// Read a kind's settings from the section's own fields, as a config held in memory keeps them.
pub fn read_value<S>(fields: yaml_serde::Value) -> Result<Box<dyn Settings>, yaml_serde::Error>
where
    S: Settings + DeserializeOwned + Default + 'static,
{
    Ok(Box::new(yaml_serde::from_value::<S>(fields)?))
}

/// `v` seconds as a duration, if within `(least, most)`. The harness holds its own fields to
/// bounds with these too.
pub fn seconds(v: f64, field: &str, (lo, hi): (f64, f64)) -> Result<Duration, SettingsError> {
    if !(v.is_finite() && v >= lo && v <= hi) {
        return Err(SettingsError::new(
            field,
            format!("must be between {lo} and {hi} seconds, not {}", show(v)),
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// `v` if within `(least, most)`.
pub fn count(v: usize, field: &str, (lo, hi): (usize, usize)) -> Result<(), SettingsError> {
    if !(lo..=hi).contains(&v) {
        return Err(SettingsError::new(
            field,
            format!("must be {lo} to {hi}, not {v}"),
        ));
    }
    Ok(())
}

/// A number as a person reads it: `1e20`, not twenty-one digits.
pub fn show(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
