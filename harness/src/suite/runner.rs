//! Running a suite's entries: each run a `ferret run` of its own (its output in a log file, its
//! verdict read back from its results.json), at most `--parallel` at once, every run of an entry
//! judged together once the last one ends.

use super::expect::Got;
use super::file::{Entry, Overrides};
use super::record::{EntryRecord, RunRecord};
use crate::report::results::Results;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::task::JoinSet;

/// How the runs are made.
pub struct Plan<'a> {
    pub entries: &'a [Entry],
    pub quick: bool,
    pub parallel: usize,
    pub fail_fast: bool,
    pub store: &'a Path,
    /// The suite's folder: logs go in `logs/`.
    pub dir: &'a Path,
}

struct Job {
    entry: usize,
    seed: u64,
    overrides: Overrides,
}

/// `ferret run`'s arguments for one run.
fn run_args(entry: &Entry, o: &Overrides, seed: u64, store: &Path, dir_file: &Path) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        entry.config.display().to_string(),
        "--seed".into(),
        seed.to_string(),
        "--store".into(),
        store.display().to_string(),
        "--run-dir-file".into(),
        dir_file.display().to_string(),
    ];
    let mut flag = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            a.push(format!("--{name}"));
            a.push(v);
        }
    };
    flag("nodes", o.nodes.map(|n| n.to_string()));
    flag("time-limit", o.time_limit.map(|t| t.to_string()));
    flag("concurrency", o.concurrency.map(|n| n.to_string()));
    flag("rate", o.rate.map(|r| r.to_string()));
    flag("nemesis", o.nemesis.as_ref().map(|n| n.flag()));
    a
}

/// The last lines of a log, for a run that could not run.
fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One run, start to end.
async fn one(
    exe: PathBuf,
    entry: Entry,
    job_overrides: Overrides,
    seed: u64,
    store: PathBuf,
    logs: PathBuf,
    pids: std::sync::Arc<std::sync::Mutex<Vec<u32>>>,
) -> RunRecord {
    let stem = format!("{}-seed{seed}", entry.name);
    let log = logs.join(format!("{stem}.log"));
    let dir_file = logs.join(format!("{stem}.dir"));
    let started = Instant::now();
    let args = run_args(&entry, &job_overrides, seed, &store, &dir_file);
    let spawned = std::fs::File::create(&log).and_then(|out| {
        let err = out.try_clone()?;
        tokio::process::Command::new(&exe)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
    });
    let code = match spawned {
        Ok(mut child) => {
            let pid = child.id();
            if let Some(p) = pid {
                pids.lock().unwrap_or_else(|e| e.into_inner()).push(p);
            }
            let status = child.wait().await;
            if let Some(p) = pid {
                pids.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|&x| x != p);
            }
            status.ok().and_then(|s| s.code()).unwrap_or(-1)
        }
        Err(e) => {
            let _ = std::fs::write(&log, format!("cannot start {}: {e}\n", exe.display()));
            -1
        }
    };
    let dir = std::fs::read_to_string(&dir_file)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let results = dir
        .as_ref()
        .filter(|_| (0..=2).contains(&code))
        .and_then(|d| Results::read(Path::new(d)).ok());
    let (got, calls) = match &results {
        Some(r) => (
            Got {
                verdict: Some(r.report.verdict),
                kinds: Got::kinds_of(&r.report),
                version: r.run.as_ref().and_then(|f| f.system_version.clone()),
            },
            r.report.calls,
        ),
        None => (Got::default(), 0),
    };
    RunRecord {
        seed,
        exit_code: code,
        dir,
        log: log.display().to_string(),
        elapsed_s: started.elapsed().as_secs_f64(),
        error: results.is_none().then(|| tail(&log, 6)),
        got,
        calls,
    }
}

/// The entry's record before any run, as suite.json shows an entry that did not run.
pub fn unrun(entry: &Entry, quick: bool) -> EntryRecord {
    EntryRecord {
        name: entry.name.clone(),
        config: entry.config.display().to_string(),
        description: entry.description.clone(),
        upstream: entry.upstream.clone(),
        affects: entry.affects.clone(),
        overrides: entry.plan(quick).0,
        expect: entry.expect.describe(),
        judgement: None,
        runs: Vec::new(),
    }
}

/// Run every entry; returns their records and why the suite stopped early, if it did.
pub async fn execute(plan: Plan<'_>) -> Result<(Vec<EntryRecord>, Option<String>)> {
    use tokio::signal::unix::{signal, SignalKind};
    let exe = std::env::current_exe().context("cannot find the ferret binary")?;
    let logs = plan.dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut records: Vec<EntryRecord> = plan.entries.iter().map(|e| unrun(e, plan.quick)).collect();
    let mut queue: std::collections::VecDeque<Job> = Default::default();
    // Runs of each entry still to end: its runs are judged together once the last one has.
    let mut left: Vec<usize> = Vec::new();
    for (i, e) in plan.entries.iter().enumerate() {
        let (o, seeds) = e.plan(plan.quick);
        left.push(seeds.len());
        queue.extend(seeds.into_iter().map(|seed| Job {
            entry: i,
            seed,
            overrides: o.clone(),
        }));
    }
    let total = queue.len();
    let pids = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let mut running: JoinSet<(usize, RunRecord)> = JoinSet::new();
    let mut stopped: Option<String> = None;
    let mut done = 0;
    loop {
        while stopped.is_none() && running.len() < plan.parallel {
            let Some(job) = queue.pop_front() else { break };
            let entry = plan.entries[job.entry].clone();
            println!(
                "[{}/{total}] {} seed {}: running {}",
                done + running.len() + 1,
                entry.name,
                job.seed,
                entry.config.display()
            );
            let fut = one(
                exe.clone(),
                entry,
                job.overrides,
                job.seed,
                plan.store.to_path_buf(),
                logs.clone(),
                pids.clone(),
            );
            let i = job.entry;
            running.spawn(async move { (i, fut.await) });
        }
        if running.is_empty() {
            break;
        }
        let finished = tokio::select! {
            r = running.join_next() => r,
            _ = int.recv() => { stop(&mut stopped, "interrupted (Ctrl-C)", &pids); continue; }
            _ = term.recv() => { stop(&mut stopped, "terminated (SIGTERM)", &pids); continue; }
        };
        let Some(Ok((i, run))) = finished else {
            continue;
        };
        done += 1;
        let e = &plan.entries[i];
        println!(
            "  {} seed {}: {} in {:.0} s{}",
            e.name,
            run.seed,
            run.got.describe(),
            run.elapsed_s,
            run.dir
                .as_ref()
                .map(|d| format!(" → {d}"))
                .unwrap_or_else(|| format!(" (log: {})", run.log))
        );
        records[i].runs.push(run);
        left[i] -= 1;
        if left[i] == 0 {
            records[i].runs.sort_by_key(|r| r.seed);
            let got: Vec<Got> = records[i].runs.iter().map(|r| r.got.clone()).collect();
            let j = e.expect.judge(&got);
            println!(
                "{} {}: expected {}{}",
                if j.as_expected { "ok" } else { "SURPRISE" },
                e.name,
                j.expected,
                j.why
                    .as_ref()
                    .map(|w| format!(" — {w}"))
                    .unwrap_or_default()
            );
            let surprise = !j.as_expected;
            records[i].judgement = Some(j);
            if surprise && plan.fail_fast && stopped.is_none() {
                stopped = Some(format!("--fail-fast: {} gave a surprise", e.name));
            }
        }
    }
    Ok((records, stopped))
}

/// Stop starting runs; ask those running to tear down (each removes what it made).
fn stop(
    stopped: &mut Option<String>,
    why: &str,
    pids: &std::sync::Arc<std::sync::Mutex<Vec<u32>>>,
) {
    if stopped.is_none() {
        println!("{why}: no further run starts; the running ones tear down");
    }
    *stopped = Some(why.to_string());
    // Our own children, by PID; a run tears down on SIGTERM as on Ctrl-C.
    for &p in pids.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        crate::platform::signal(p, libc::SIGTERM);
    }
}
