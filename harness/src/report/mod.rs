//! Reports made from a checker's result: results.json for pipelines, JUnit XML for CI systems,
//! a page and plots for people; `ferret report` renders a run's pages again.

pub mod html;
pub mod junit;
pub mod plots;
pub mod results;

use anyhow::{Context, Result};
use ferret_checkers::{Call, History};
use results::Results;
use std::path::{Path, PathBuf};

/// A history's calls, for the figures and drawings of a report (a history that does not pair
/// has already failed its check, with the reason).
pub fn calls_of(history: &History) -> Vec<Call> {
    ferret_checkers::history::pair(history)
        .map(|(c, _)| c)
        .unwrap_or_default()
}

/// Write a run's pages beside its results.json: junit.xml, report.html, throughput.svg and
/// latency.svg (the plots only when the history carries times). `calls` are `calls_of(history)`.
pub fn write_pages(dir: &Path, results: &Results, history: &History, calls: &[Call]) -> Result<()> {
    let name = results
        .run
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_else(|| {
            let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string())
        });
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("junit.xml", &junit::render(&name, &results.report))?;
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
    let page = html::render(&name, results, history, calls, &facts);
    write("report.html", &page.html)?;
    if let Some(p) = page.plots {
        write("throughput.svg", &p.throughput)?;
        write("latency.svg", &p.latency)?;
    }
    Ok(())
}

/// Render a run's report again from what its folder holds.
///
/// Reads RUN_DIR/results.json (the verdict, explanations, figures) and RUN_DIR/history.jsonl
/// (for the timeline and plots), and writes report.html, junit.xml, throughput.svg and
/// latency.svg there again: after an upgrade of ferret, or when they were deleted. Nothing is
/// checked again; `ferret check RUN_DIR/history.jsonl` does that.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  ferret report store/etcd/latest\n\nExit codes: 0 written, 3 could not \
(a file missing or not what ferret wrote)."
)]
pub struct ReportArgs {
    /// A run's folder, e.g. store/etcd/latest.
    run_dir: PathBuf,
}

pub fn run(args: ReportArgs) -> Result<u8> {
    let dir = &args.run_dir;
    let file = dir.join("results.json");
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "cannot read {} (is {} a run's folder? ferret run writes it after the check)",
            file.display(),
            dir.display()
        )
    })?;
    let results: Results = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not a results.json ferret wrote: {e}",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    let path = dir.join("history.jsonl");
    let (history, _) = ferret_checkers::read_file(&path, Some(ferret_checkers::Format::Jsonl))?;
    write_pages(dir, &results, &history, &calls_of(&history))?;
    println!(
        "{}: {}; wrote report.html, junit.xml{} in {}",
        file.display(),
        results.report.verdict.as_str(),
        if history.events.iter().any(|e| e.time.is_some()) {
            ", throughput.svg, latency.svg"
        } else {
            ""
        },
        dir.display()
    );
    Ok(crate::exit::VALID)
}
