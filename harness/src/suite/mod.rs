//! `ferret suite FILE`: release qualification — a list of configs and seeds, each with what it is
//! expected to give (negative controls valid, positive controls and known bugs caught), run
//! against one build; one page, one JUnit file, exit 0 only when every outcome was expected.
//!
//! - file.rs: the suite file
//! - expect.rs: expectations and the judgement of an entry's runs
//! - runner.rs: the runs, each a `ferret run` of its own
//! - record.rs: suite.json
//! - page.rs: suite.html; junit.rs: junit.xml

mod expect;
mod file;
mod junit;
mod page;
pub mod record;
mod runner;

use crate::config::Config;
use crate::exit;
use crate::store::{create_run_dir, SUITES};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Run a suite: each entry's config with its overrides and seeds, its outcome checked against
/// what the entry expects.
///
/// Each run is a `ferret run` of its own, its output in the suite's logs/ folder and its folder in
/// the store as any run's. The suite's own folder, store/suites/<name>/<time>/, gets suite.html
/// (entry, expected, got, runs, time, links to each run's report, and a comparison with the
/// previous run of the same suite), junit.xml (a test case per entry; a surprise is a failure
/// with both verdicts) and suite.json; the store's index.html lists it.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  ferret suite suites/etcd-3.4.yaml --quick\n\n\
A suite file (see docs/suites.md):\n  name: etcd-3.4\n  entries:\n    - name: lock-expired-waiter\n      \
config: ../configs/etcd-lock-unverified.yaml\n      upstream: https://github.com/etcd-io/etcd/issues/11456\n      \
seeds: 2\n      expect:\n        - {versions: \"< 3.5\", verdict: invalid, anomaly: lost-add}\n        \
- {verdict: valid}\n\n\
Exit codes: 0 every entry gave what was expected, 1 at least one surprise (a verdict, or an \
anomaly, other than expected, or a run that could not run), 3 could not run the suite (bad \
suite file or config, interrupted)."
)]
pub struct SuiteArgs {
    /// The suite's YAML file (see suites/).
    file: PathBuf,
    /// Store folder: every run's folder, and the suite's, go in it.
    #[arg(long, value_name = "DIR", default_value = "store")]
    store: PathBuf,
    /// Short runs: one seed per entry, at most 20 s of workload, unless an entry's `quick:`
    /// says otherwise.
    #[arg(long)]
    quick: bool,
    /// Runs at once. Each takes its own nodes (namespaces or containers); on a small machine,
    /// timing-sensitive entries are best run one at a time. Not with ssh entries, which share
    /// the machines.
    #[arg(long, value_name = "N", default_value_t = 1)]
    parallel: usize,
    /// Start no further run once an entry gave a surprise (runs already going finish).
    #[arg(long)]
    fail_fast: bool,
    /// Only these entries (comma-separated names).
    #[arg(long, value_name = "NAMES")]
    only: Option<String>,
    /// The suite run to compare with in suite.html (its folder); default: the previous run of
    /// the same suite in the store.
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// Check the suite file and every entry's config, print the runs, start nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: SuiteArgs) -> Result<u8> {
    let mut suite = file::Suite::load(&args.file)?;
    if let Some(only) = &args.only {
        let names: Vec<&str> = only.split(',').map(str::trim).collect();
        for n in &names {
            if !suite.entries.iter().any(|e| e.name == *n) {
                bail!(
                    "--only {n}: no such entry in {} (entries: {})",
                    args.file.display(),
                    suite
                        .entries
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        suite.entries.retain(|e| names.contains(&e.name.as_str()));
    }
    if args.parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    // Every config is read now: a bad one stops the suite before anything runs.
    let mut runs = 0;
    for e in &suite.entries {
        let c = Config::load(&e.config)
            .with_context(|| format!("{}: entry {}", args.file.display(), e.name))?;
        if args.parallel > 1 && c.platform.kind == "ssh" {
            bail!(
                "{}: entry {} runs on ssh machines, which runs in parallel would share: use \
                 --parallel 1",
                args.file.display(),
                e.name
            );
        }
        let (o, seeds) = e.plan(args.quick);
        runs += seeds.len();
        if args.dry_run {
            println!(
                "{}: {} seed{} {}{}{}; expect {}",
                e.name,
                e.config.display(),
                if seeds.len() == 1 { "" } else { "s" },
                seeds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                o.time_limit
                    .map(|t| format!(", {t} s"))
                    .unwrap_or_else(|| format!(", {} s", c.time_limit)),
                o.nemesis
                    .as_ref()
                    .map(|n| format!(", nemesis {}", n.flag()))
                    .unwrap_or_default(),
                e.expect.describe()
            );
        }
    }
    if args.dry_run {
        println!(
            "{}: valid suite, {} entries, {runs} runs",
            args.file.display(),
            suite.entries.len()
        );
        return Ok(exit::VALID);
    }
    let started = Instant::now();
    let stamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let dir = create_run_dir(&args.store.join(SUITES), &suite.name)?;
    println!(
        "ferret suite {}: {} entries, {runs} runs{}, {} at a time → {}",
        suite.name,
        suite.entries.len(),
        if args.quick { " (quick)" } else { "" },
        args.parallel,
        dir.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (entries, stopped) = rt.block_on(runner::execute(runner::Plan {
        entries: &suite.entries,
        quick: args.quick,
        parallel: args.parallel,
        fail_fast: args.fail_fast,
        store: &args.store,
        dir: &dir,
    }))?;
    let interrupted = stopped
        .as_deref()
        .is_some_and(|s| !s.starts_with("--fail-fast"));
    let record = record::SuiteRecord {
        name: suite.name.clone(),
        description: suite.description.clone(),
        file: args.file.display().to_string(),
        started: stamp,
        quick: args.quick,
        ferret_version: env!("CARGO_PKG_VERSION").to_string(),
        as_expected: stopped.is_none() && entries.iter().all(record::EntryRecord::as_expected),
        entries,
        stopped,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    record.write(&dir)?;
    let baseline = match &args.baseline {
        Some(b) => Some((b.clone(), record::SuiteRecord::read(b)?)),
        None => previous(&dir),
    };
    std::fs::write(
        dir.join("suite.html"),
        page::render(&record, &dir, baseline.as_ref()),
    )
    .with_context(|| format!("cannot write {}", dir.join("suite.html").display()))?;
    std::fs::write(dir.join("junit.xml"), junit::render(&record))
        .with_context(|| format!("cannot write {}", dir.join("junit.xml").display()))?;
    if let Err(e) = crate::site::index::update(&args.store) {
        eprintln!("ferret: the store's index.html was not updated: {e:#}");
    }
    println!("\n{}", summary(&record));
    println!(
        "suite: {} (and junit.xml, suite.json); store index: {}",
        dir.join("suite.html").display(),
        args.store.join("index.html").display()
    );
    Ok(if interrupted {
        exit::COULD_NOT_RUN
    } else if record.as_expected {
        exit::VALID
    } else {
        exit::INVALID
    })
}

/// The table a terminal shows at the end.
fn summary(r: &record::SuiteRecord) -> String {
    let mut out = format!(
        "{}: {} of {} entries as expected{}",
        r.name,
        r.entries.iter().filter(|e| e.as_expected()).count(),
        r.entries.len(),
        r.stopped
            .as_ref()
            .map(|s| format!(" (stopped: {s})"))
            .unwrap_or_default()
    );
    for e in &r.entries {
        let (mark, why) = match &e.judgement {
            Some(j) if j.as_expected => ("ok      ", String::new()),
            Some(j) => ("SURPRISE", j.why.clone().unwrap_or_default()),
            None => ("not run ", String::new()),
        };
        let got: Vec<String> = e.runs.iter().map(|r| r.got.describe()).collect();
        out += &format!(
            "\n  {mark}  {:<28} expected {}; got {}{}",
            e.name,
            e.expect,
            if got.is_empty() {
                "-".into()
            } else {
                got.join(", ")
            },
            if why.is_empty() {
                String::new()
            } else {
                format!("\n            {why}")
            }
        );
    }
    out
}

/// The latest earlier run of the same suite in the store, if any.
fn previous(dir: &std::path::Path) -> Option<(PathBuf, record::SuiteRecord)> {
    let parent = dir.parent()?;
    let mut earlier: Vec<PathBuf> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| p.as_path() != dir && p.join("suite.json").is_file())
        .collect();
    earlier.sort();
    let mine = dir.file_name()?;
    let before = earlier
        .into_iter()
        .rfind(|p| p.file_name().is_some_and(|n| n < mine))?;
    let r = record::SuiteRecord::read(&before).ok()?;
    Some((before, r))
}
