//! `suite.json`: what a suite ran and what each entry gave — the source of suite.html, junit.xml,
//! the store's index and the next suite run's comparison.

use super::expect::{Got, Judgement};
use super::file::Overrides;
use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SuiteRecord {
    pub name: String,
    pub description: String,
    /// The suite file, as given.
    pub file: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub quick: bool,
    pub ferret_version: String,
    pub entries: Vec<EntryRecord>,
    /// Every entry gave what was expected (and the suite was not interrupted).
    pub as_expected: bool,
    /// Why the suite stopped early, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub elapsed_s: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryRecord {
    pub name: String,
    pub config: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affects: Option<String>,
    /// The overrides in force (after `--quick`).
    pub overrides: Overrides,
    /// What was expected, every rule in words.
    pub expect: String,
    /// None when the entry did not run (the suite stopped first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Judgement>,
    pub runs: Vec<RunRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub seed: u64,
    /// `ferret run`'s exit code.
    pub exit_code: i32,
    /// The run's folder, when it got one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// The run's own output.
    pub log: String,
    pub elapsed_s: f64,
    pub got: Got,
    /// Calls in the history (0 when none was checked).
    pub calls: usize,
    /// The last lines of the log, when the run could not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EntryRecord {
    /// It ran, and gave what was expected.
    pub fn as_expected(&self) -> bool {
        self.judgement.as_ref().is_some_and(|j| j.as_expected)
    }
}

impl SuiteRecord {
    pub fn read(dir: &Path) -> Result<SuiteRecord> {
        let file = dir.join("suite.json");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "{}:{}:{}: not a suite.json ferret wrote: {e}",
                file.display(),
                e.line(),
                e.column()
            )
        })
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let file = dir.join("suite.json");
        std::fs::write(&file, serde_json::to_string_pretty(self)?)
            .map_err(|e| anyhow!("cannot write {}: {e}", file.display()))
    }
}
