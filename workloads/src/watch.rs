//! The watch workload: writers put unique values to a few keys; watchers follow every key under
//! the prefix through etcd's streaming watch, each watch lasting a while and then resumed from
//! the last revision seen + 1, as real clients reconnect. At the end each watcher drains what is
//! left, and every key is read with its revision. Checked by the watch checker
//! (`checkers::watch`).

use crate::register::KEYS;
use crate::settings::{self, Common, Settings, SettingsError};
use crate::{Completion, Generator, Op, Workload};
use ferret_checkers::{EventType, Value};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::time::Duration;

/// Every key the workload writes lives under this prefix; watchers watch all of it.
pub const PREFIX: &str = "watch/";

/// Written values are `slot * VALUE_STRIDE + n`: unique across writers.
pub const VALUE_STRIDE: i64 = 1_000_000_000;

#[derive(Clone, Copy, Debug)]
pub struct WatchWorkload {
    pub keys: usize,
    /// How many of the client slots watch (the first ones); the others write.
    pub watchers: usize,
    /// How long one watch stream is kept before it is resumed from the next revision.
    pub span: Duration,
}

impl WatchWorkload {
    fn key(i: usize) -> String {
        format!("{PREFIX}k{i}")
    }
}

impl Workload for WatchWorkload {
    fn name(&self) -> &'static str {
        "watch"
    }

    fn generator(&self, seed: u64, slot: u64) -> Box<dyn Generator> {
        Box::new(WatchGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed ^ slot.wrapping_mul(0x94D0_49BB_1331_11EB)),
            slot,
            keys: self.keys.max(1),
            watcher: (slot as usize) < self.watchers,
            span: self.span,
            next_from: 1,
            written: 0,
            drained: false,
        })
    }

    /// Every key read with its mod revision and the store's revision.
    fn final_ops(&self) -> Vec<Op> {
        (0..self.keys.max(1))
            .map(|i| Op::new("read-revision", Self::key(i), Value::Nil))
            .collect()
    }

    fn model(&self) -> &'static str {
        "watch"
    }

    fn ops(&self) -> &'static [&'static str] {
        &["write", "watch", "read-revision"]
    }

    /// Its report's keys are the watchers, not the keys written.
    fn keys_fixed(&self) -> bool {
        false
    }
}

pub struct WatchGenerator {
    rng: ChaCha8Rng,
    slot: u64,
    keys: usize,
    watcher: bool,
    span: Duration,
    /// The revision the next watch starts from: 1 (all history) at first, then the last
    /// revision seen + 1.
    next_from: i64,
    written: i64,
    drained: bool,
}

impl WatchGenerator {
    fn watch(&self, span: Duration) -> Op {
        Op::new(
            "watch",
            PREFIX,
            Value::List(vec![
                Value::Int(self.next_from),
                Value::Int(span.as_millis() as i64),
            ]),
        )
    }
}

impl Generator for WatchGenerator {
    fn next_op(&mut self) -> Op {
        if self.watcher {
            return self.watch(self.span);
        }
        self.written += 1;
        let k = self.rng.random_range(0..self.keys);
        Op::new(
            "write",
            WatchWorkload::key(k),
            Value::Int(self.slot as i64 * VALUE_STRIDE + self.written),
        )
    }

    fn observe(&mut self, op: &Op, c: &Completion) {
        if op.f != "watch" || c.kind != EventType::Ok {
            return;
        }
        let last = c
            .value
            .as_list()
            .and_then(|v| v.first())
            .and_then(|e| e.as_list())
            .and_then(|events| events.last())
            .and_then(|e| e.as_list())
            .and_then(|e| e.first())
            .and_then(|r| r.as_int());
        if let Some(rev) = last {
            self.next_from = rev + 1;
        }
    }

    /// A watcher drains what was written up to the end, once.
    fn closing_op(&mut self) -> Option<Op> {
        if !self.watcher || self.drained {
            return None;
        }
        self.drained = true;
        Some(self.watch(Duration::from_secs(3)))
    }
}

/// Seconds a watch stream may last before it is resumed.
pub const WATCH_SPAN: (f64, f64) = (0.01, 3_600.0);

/// `workload:` of a watch workload.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchSettings {
    /// Keys the writers put to.
    pub keys: usize,
    /// How many of the client slots watch (the first ones; the others write).
    pub watchers: usize,
    /// Seconds each watch stream lasts before it is resumed from the next revision.
    pub watch_span: f64,
    // Read by the harness for every workload.
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "concurrency")]
    _concurrency: IgnoredAny,
    #[serde(rename = "rate")]
    _rate: IgnoredAny,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            keys: 20,
            watchers: 3,
            watch_span: 2.0,
            _kind: IgnoredAny,
            _concurrency: IgnoredAny,
            _rate: IgnoredAny,
        }
    }
}

impl Settings for WatchSettings {
    fn validate(&self, common: &Common) -> Result<(), SettingsError> {
        settings::count(self.keys, "workload.keys", KEYS)?;
        settings::seconds(self.watch_span, "workload.watch_span", WATCH_SPAN)?;
        if !(1..common.concurrency).contains(&self.watchers) {
            return Err(SettingsError::new(
                "workload.watchers",
                format!(
                    "must leave at least one writer: between 1 and {} with workload.concurrency \
                     {}, not {}",
                    common.concurrency.saturating_sub(1),
                    common.concurrency,
                    self.watchers
                ),
            ));
        }
        Ok(())
    }

    fn workload(&self, _: &Common) -> Box<dyn Workload> {
        Box::new(WatchWorkload {
            keys: self.keys,
            watchers: self.watchers,
            span: Duration::from_secs_f64(self.watch_span),
        })
    }

    fn describe(&self) -> String {
        format!(
            "watch workload over {} keys, {} watchers, streams of {} s",
            self.keys,
            self.watchers,
            settings::show(self.watch_span)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_resume_after_the_last_revision_and_writers_write_unique_values() {
        let w = WatchWorkload {
            keys: 3,
            watchers: 1,
            span: Duration::from_millis(500),
        };
        let mut watcher = w.generator(1, 0);
        let op = watcher.next_op();
        assert_eq!(op.value, Value::List(vec![Value::Int(1), Value::Int(500)]));
        let events = Value::List(vec![
            Value::List(vec![
                Value::Int(2),
                "watch/k0".into(),
                Value::Int(7),
                "put".into(),
            ]),
            Value::List(vec![
                Value::Int(5),
                "watch/k1".into(),
                Value::Int(8),
                "put".into(),
            ]),
        ]);
        watcher.observe(
            &op,
            &Completion::ok(Value::List(vec![events, Value::Int(5), "span".into()])),
        );
        assert_eq!(watcher.next_op().value.as_list().unwrap()[0], Value::Int(6));
        // A watch that saw nothing resumes from the same place.
        let quiet = Value::List(vec![Value::List(vec![]), Value::Int(5), "span".into()]);
        watcher.observe(&op, &Completion::ok(quiet));
        assert_eq!(watcher.next_op().value.as_list().unwrap()[0], Value::Int(6));
        assert!(watcher.closing_op().is_some() && watcher.closing_op().is_none());
        let mut writer = w.generator(1, 1);
        let a = writer.next_op();
        let b = writer.next_op();
        assert_eq!(a.f, "write");
        assert_ne!(a.value, b.value);
        assert!(writer.closing_op().is_none());
    }
}
