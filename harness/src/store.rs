//! The store: `store/<name>/<YYYYMMDDTHHMMSS>/` per run (`store/suites/<suite>/<time>/` per suite
//! run), and the history written as it happens.

use anyhow::{Context, Result};
use ferret_checkers::{Event, EventType, JsonlWriter, Location, Process, Value};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The store's folder of suite runs: `suites/<suite>/<YYYYMMDDTHHMMSS>/`.
pub const SUITES: &str = "suites";

/// Append one JSON object as a line to a run's file (nemesis.jsonl), opened and closed each time
/// so a crash of the harness loses no line already written.
pub fn append_json_line(path: &Path, v: &serde_json::Value) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(f, "{v}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Make the run's folder and point `latest` at it.
pub fn create_run_dir(store: &Path, name: &str) -> Result<PathBuf> {
    let base = store.join(name);
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
    let mut dir = base.join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{stamp}-{n}"));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let latest = base.join("latest");
    let _ = std::fs::remove_file(&latest);
    std::os::unix::fs::symlink(dir.file_name().unwrap_or_default(), &latest)
        .with_context(|| format!("cannot link {}", latest.display()))?;
    Ok(dir)
}

/// The run's history: each event appended and flushed as it happens, so a crash of the harness
/// loses nothing already recorded.
pub struct HistoryLog {
    inner: Mutex<(JsonlWriter<BufWriter<File>>, u64)>,
    start: Instant,
}

impl HistoryLog {
    pub fn create(path: &Path, start: Instant) -> Result<HistoryLog> {
        let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(HistoryLog {
            inner: Mutex::new((JsonlWriter::new(BufWriter::new(f)), 0)),
            start,
        })
    }

    /// Seconds since the history began.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    pub fn record(
        &self,
        process: Process,
        kind: EventType,
        f: &str,
        key: Option<&str>,
        value: Value,
        error: Option<String>,
    ) -> Result<()> {
        self.record_on(process, kind, f, key, value, error, None)
    }

    /// As [`record`](Self::record), naming the node a client's op went to.
    #[allow(clippy::too_many_arguments)]
    pub fn record_on(
        &self,
        process: Process,
        kind: EventType,
        f: &str,
        key: Option<&str>,
        value: Value,
        error: Option<String>,
        node: Option<&str>,
    ) -> Result<()> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let event = Event {
            index: g.1,
            time: Some(self.start.elapsed().as_nanos() as i64),
            process,
            kind,
            f: f.into(),
            key: key.map(Value::from),
            value,
            error: error.map(Value::Str),
            node: node.map(String::from),
            location: Location::default(),
        };
        g.1 += 1;
        g.0.write(&event).context("cannot write the history")
    }
}
