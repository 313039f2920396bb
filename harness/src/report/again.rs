//! `ferret report`: a run's pages rendered again from what its folder holds.

use crate::report::calls_of;
use crate::report::outputs::{self, Outputs, Page};
use crate::report::results::Results;
use anyhow::Result;
use std::path::PathBuf;

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
    let results = Results::read(dir)?;
    let path = dir.join("history.jsonl");
    let (history, _) = ferret_checkers::read_file(&path, Some(ferret_checkers::Format::Jsonl))?;
    let calls = calls_of(&history);
    let page = Page::of_run(dir, &results, &history, &calls);
    // results.json is what the pages are made from: it is not written again.
    let out = Outputs {
        results: None,
        ..Outputs::run_dir(dir)
    };
    outputs::write(&results, &page.name, Some(&page), &out)?;
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
