//! One way from a checked history to its files: results.json, junit.xml, report.html and the
//! plots, whichever are asked. `ferret run`, `ferret check` and `ferret report` all write here.

use super::results::Results;
use super::{html, junit};
use anyhow::{Context, Result};
use ferret_checkers::{Call, History};
use std::path::{Path, PathBuf};

/// Where each output goes; `None`: not written.
#[derive(Default)]
pub struct Outputs {
    pub results: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// The folder for throughput.svg and latency.svg (drawn only when the history has times).
    pub plots: Option<PathBuf>,
}

impl Outputs {
    /// Every output, in a run's folder.
    pub fn run_dir(dir: &Path) -> Outputs {
        Outputs {
            results: Some(dir.join("results.json")),
            junit: Some(dir.join("junit.xml")),
            html: Some(dir.join("report.html")),
            plots: Some(dir.to_path_buf()),
        }
    }
}

/// What the page shows beside the verdict: the history drawn, and facts of the run or file.
pub struct Page<'a> {
    /// The page's title.
    pub name: String,
    pub history: &'a History,
    /// `super::calls_of(history)`.
    pub calls: &'a [Call],
    pub facts: Vec<(String, String)>,
}

impl<'a> Page<'a> {
    /// A run's page: titled by its config's name, with the run's facts.
    pub fn of_run(dir: &Path, results: &Results, history: &'a History, calls: &'a [Call]) -> Self {
        Page {
            name: run_name(dir, results),
            history,
            calls,
            facts: run_facts(dir, results),
        }
    }
}

/// Write the outputs asked for: `suite` names the JUnit test suite; the page and plots need
/// `page` (a history read as events), and are skipped without it.
pub fn write(results: &Results, suite: &str, page: Option<&Page>, out: &Outputs) -> Result<()> {
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    if let Some(path) = &out.results {
        write(path, &(serde_json::to_string_pretty(results)? + "\n"))?;
    }
    if let Some(path) = &out.junit {
        write(path, &junit::render(suite, &results.report))?;
    }
    let Some(page) = page else {
        return Ok(());
    };
    if out.html.is_none() && out.plots.is_none() {
        return Ok(());
    }
    let rendered = html::render(&page.name, results, page.history, page.calls, &page.facts);
    if let Some(path) = &out.html {
        write(path, &rendered.html)?;
    }
    if let (Some(dir), Some(p)) = (&out.plots, rendered.plots) {
        write(&dir.join("throughput.svg"), &p.throughput)?;
        write(&dir.join("latency.svg"), &p.latency)?;
    }
    Ok(())
}

/// A run's facts for its page: folder, seed, how to reproduce it, the system's version, the
/// config it ran with.
fn run_facts(dir: &Path, results: &Results) -> Vec<(String, String)> {
    let mut facts = Vec::new();
    if let Some(run) = &results.run {
        facts.push(("run".to_string(), run.dir.clone()));
        facts.push(("seed".to_string(), run.seed.to_string()));
        facts.push(("reproduce".to_string(), run.reproduce.clone()));
        if let Some(v) = &run.system_version {
            facts.push(("system".to_string(), v.clone()));
        }
    }
    facts.push(("ferret".to_string(), results.ferret_version.clone()));
    if let Ok(config) = std::fs::read_to_string(dir.join("config.yaml")) {
        facts.push(("config".to_string(), config));
    }
    facts
}

/// A run's name: the config's, else its folder's.
fn run_name(dir: &Path, results: &Results) -> String {
    results
        .run
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_else(|| {
            let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string())
        })
}
