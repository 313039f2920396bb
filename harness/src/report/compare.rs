//! `ferret compare RUN_A RUN_B`: two runs side by side — what a release manager asks of a new
//! build: the verdicts and what broke, the system's version, throughput, each function's
//! outcomes and latency quantiles, and the faults each run saw.

use crate::report::results::Results;
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  ferret compare store/etcd/20261207T101500 store/etcd/latest\n\nExit codes: \
0 the two runs' verdicts agree, 1 they differ, 3 could not (a folder that is not a run's)."
)]
pub struct CompareArgs {
    /// The first run's folder (the baseline).
    run_a: PathBuf,
    /// The second run's folder (the candidate).
    run_b: PathBuf,
}

/// One run, as compared.
pub struct Side {
    results: Results,
    /// Seconds from the history's first event to its last client event.
    span_s: Option<f64>,
}

pub fn side(dir: &Path) -> Result<Side> {
    let results = Results::read(dir)?;
    // The history's span from its last line with a time: no need to read it all.
    let span_s = std::fs::read_to_string(dir.join("history.jsonl"))
        .ok()
        .and_then(|text| {
            text.lines().rev().find_map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()?
                    .get("time")?
                    .as_f64()
            })
        })
        .map(|ns| ns / 1e9);
    Ok(Side { results, span_s })
}

/// How many times each kind of fault began.
fn faults(r: &Results) -> BTreeMap<String, usize> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for f in &r.faults {
        let kind = f
            .value
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| f.fault.trim_start_matches("start-").to_string());
        *count.entry(kind).or_default() += 1;
    }
    count
}

fn anomalies(r: &Results) -> String {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut keys = 0;
    for k in &r.report.keys {
        if k.verdict == ferret_checkers::VerdictName::Invalid {
            keys += 1;
        }
        for a in &k.anomalies {
            *count.entry(a.kind.as_str()).or_default() += 1;
        }
    }
    if count.is_empty() && keys == 0 {
        return "-".into();
    }
    let mut parts: Vec<String> = count.iter().map(|(k, n)| format!("{n} {k}")).collect();
    if parts.is_empty() {
        parts.push(format!(
            "{keys} key{} not linearizable",
            if keys == 1 { "" } else { "s" }
        ));
    }
    parts.join(", ")
}

/// One thing compared: (what, run A's, run B's).
pub type Row = (String, String, String);

/// What is compared, one row each.
pub fn rows(a: &Side, b: &Side) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let (ra, rb) = (&a.results, &b.results);
    let fact = |r: &Results, f: &dyn Fn(&crate::report::results::RunFacts) -> String| {
        r.run.as_ref().map(f).unwrap_or_else(|| "-".into())
    };
    rows.push((
        "config".into(),
        fact(ra, &|r| r.name.clone()),
        fact(rb, &|r| r.name.clone()),
    ));
    rows.push((
        "system".into(),
        fact(ra, &|r| {
            r.system_version.clone().unwrap_or_else(|| "-".into())
        }),
        fact(rb, &|r| {
            r.system_version.clone().unwrap_or_else(|| "-".into())
        }),
    ));
    rows.push((
        "seed".into(),
        fact(ra, &|r| r.seed.to_string()),
        fact(rb, &|r| r.seed.to_string()),
    ));
    rows.push((
        "verdict".into(),
        ra.report.verdict.as_str().into(),
        rb.report.verdict.as_str().into(),
    ));
    rows.push(("anomalies".into(), anomalies(ra), anomalies(rb)));
    let total = |r: &Results| r.ops.values().map(|o| o.ok + o.fail + o.info).sum::<u64>();
    let rate = |s: &Side| match s.span_s {
        Some(t) if t > 0.0 => format!("{:.0}", total(&s.results) as f64 / t),
        _ => "-".into(),
    };
    rows.push(("ops/s".into(), rate(a), rate(b)));
    let functions: std::collections::BTreeSet<&String> =
        ra.ops.keys().chain(rb.ops.keys()).collect();
    for f in functions {
        let counts = |r: &Results| {
            r.ops
                .get(f)
                .map(|o| format!("{} / {} / {}", o.ok, o.fail, o.info))
                .unwrap_or_else(|| "-".into())
        };
        rows.push((format!("{f} ok/fail/unknown"), counts(ra), counts(rb)));
        let lat = |r: &Results| {
            r.ops
                .get(f)
                .and_then(|o| o.latency_ms.as_ref())
                .map(|q| format!("{:.1} / {:.1} / {:.1} ms", q.p50, q.p90, q.p99))
                .unwrap_or_else(|| "-".into())
        };
        rows.push((format!("{f} p50/p90/p99"), lat(ra), lat(rb)));
    }
    let (fa, fb) = (faults(ra), faults(rb));
    let kinds: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    if kinds.is_empty() {
        rows.push(("faults".into(), "none".into(), "none".into()));
    }
    for k in kinds {
        let n = |m: &BTreeMap<String, usize>| m.get(k).copied().unwrap_or(0).to_string();
        rows.push((format!("fault {k}"), n(&fa), n(&fb)));
    }
    let took = |r: &Results| {
        r.took_effect
            .as_ref()
            .map(|t| {
                if t.all {
                    "all".to_string()
                } else {
                    "not all".to_string()
                }
            })
            .unwrap_or_else(|| "-".into())
    };
    rows.push(("faults took effect".into(), took(ra), took(rb)));
    rows
}

/// Whether a row's two sides differ in a way worth marking (seeds always differ between builds'
/// runs of a series, and say nothing).
pub fn differs(row: &Row) -> bool {
    row.1 != row.2 && row.0 != "seed"
}

/// The comparison as a table a terminal shows.
fn table(a: &Side, b: &Side, names: (&str, &str)) -> String {
    let rows = rows(a, b);
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let w1 = rows
        .iter()
        .map(|r| r.1.chars().count())
        .chain([names.0.chars().count()])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "  {:<w0$}  {:<w1$}  {}", "", names.0, names.1);
    for row in &rows {
        let (k, x, y) = row;
        let mark = if differs(row) { "  *" } else { "" };
        let _ = writeln!(out, "  {k:<w0$}  {x:<w1$}  {y}{mark}");
    }
    out
}

pub fn run(args: CompareArgs) -> Result<u8> {
    let a = side(&args.run_a)?;
    let b = side(&args.run_b)?;
    print!(
        "{}",
        table(
            &a,
            &b,
            (
                &args.run_a.display().to_string(),
                &args.run_b.display().to_string()
            )
        )
    );
    println!("(* the two differ)");
    Ok(if a.results.report.verdict == b.results.report.verdict {
        crate::exit::VALID
    } else {
        crate::exit::INVALID
    })
}
