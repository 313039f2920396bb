//! suite.html: one row per entry — expected, got, each run with a link to its report, time — and
//! each entry's runs compared with the same entry's in an earlier run of the suite (a release
//! manager's question of a new build). Self-contained, links relative, so it works from
//! `file://` and from `ferret serve` alike.

use super::record::{EntryRecord, SuiteRecord};
use crate::report::compare;
use crate::report::html::content_security_policy;
use crate::site::{relative_link, run_page};
use maud::{html, Markup, DOCTYPE};
use std::path::{Path, PathBuf};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;\
vertical-align:top;text-align:left}th{background:#f3f3f3}.ok{background:#e6f4e6}\
.surprise{background:#fbe3e3}.notrun{background:#eee}.diff{background:#fff3cd}\
.small{font-size:85%;color:#555}";

fn status(e: &EntryRecord) -> (&'static str, &'static str) {
    match &e.judgement {
        Some(j) if j.as_expected => ("ok", "as expected"),
        Some(_) => ("surprise", "SURPRISE"),
        None => ("notrun", "not run"),
    }
}

fn run_link(from: &Path, dir: &str) -> String {
    relative_link(from, &run_page(Path::new(dir)))
}

fn entry_row(dir: &Path, e: &EntryRecord) -> Markup {
    let (class, word) = status(e);
    let time: f64 = e.runs.iter().map(|r| r.elapsed_s).sum();
    html! {
        tr class=(class) id={"entry-" (e.name)} {
            td {
                b { (e.name) }
                @if !e.description.is_empty() { div class="small" { (e.description) } }
                @if let Some(u) = &e.upstream {
                    div class="small" { "upstream: " a href=(u) { (u) } }
                }
                @if let Some(a) = &e.affects { div class="small" { "affects: " (a) } }
            }
            td class="small" { (e.config) }
            td { (e.expect) }
            td {
                @for r in &e.runs {
                    div {
                        "seed " (r.seed) ": "
                        @if let Some(d) = &r.dir {
                            a href=(run_link(dir, d)) { (r.got.describe()) }
                        } @else {
                            (r.got.describe())
                        }
                        " "
                        a class="small" href=(relative_link(dir, Path::new(&r.log))) { "log" }
                    }
                    @if let Some(err) = &r.error { pre class="small" { (err) } }
                }
            }
            td { (format!("{time:.0} s")) }
            td {
                b { (word) }
                @if let Some(w) = e.judgement.as_ref().and_then(|j| j.why.as_ref()) {
                    div class="small" { (w) }
                }
            }
        }
    }
}

/// An entry's name and its rows of `ferret compare`, or why it could not be compared.
type Compared<'a> = (&'a String, Result<Vec<compare::Row>, String>);

/// The rows of `ferret compare` that the summary table shows, per entry.
const SUMMARY: [&str; 4] = ["system", "verdict", "anomalies", "ops/s"];

/// Each entry's runs beside the baseline's runs of the same entry, by seed order: a summary
/// table, then every row of `ferret compare` per entry (open where the verdict changed).
fn comparison(this: &SuiteRecord, base_dir: &Path, base: &SuiteRecord) -> Markup {
    let mut pairs: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    for e in &this.entries {
        let Some(b) = base.entries.iter().find(|b| b.name == e.name) else {
            continue;
        };
        for (i, (rb, ra)) in b.runs.iter().zip(&e.runs).enumerate() {
            if let (Some(db), Some(da)) = (&rb.dir, &ra.dir) {
                let name = if e.runs.len() > 1 {
                    format!("{} (run {})", e.name, i + 1)
                } else {
                    e.name.clone()
                };
                pairs.push((name, PathBuf::from(db), PathBuf::from(da)));
            }
        }
    }
    html! {
        h2 { "Compared with an earlier run of this suite" }
        p {
            "Baseline: " (base.started) " UTC (" (base_dir.display()) "), ferret " (base.ferret_version)
            @if base.quick { ", quick" }
            ". Rows that differ are marked; seeds are not compared."
        }
        @if pairs.is_empty() {
            p { "No entry has runs on both sides." }
        }
        @let compared: Vec<Compared> = pairs
            .iter()
            .map(|(name, db, da)| {
                let rows = match (compare::side(db), compare::side(da)) {
                    (Ok(b), Ok(a)) => Ok(compare::rows(&b, &a)),
                    (b, a) => Err([b.err(), a.err()]
                        .into_iter()
                        .flatten()
                        .map(|e| format!("{e:#}"))
                        .collect::<Vec<_>>()
                        .join("; ")),
                };
                (name, rows)
            })
            .collect();
        @if !compared.is_empty() {
            table id="compared" {
                tr {
                    th { "entry" }
                    @for what in SUMMARY { th colspan="2" { (what) } }
                }
                tr {
                    th {}
                    @for _ in SUMMARY { th class="small" { "baseline" } th class="small" { "this run" } }
                }
                @for (name, rows) in &compared {
                    tr {
                        td { a href={"#compare-" (name)} { (name) } }
                        @for what in SUMMARY {
                            @match rows.as_ref().ok().and_then(|r| r.iter().find(|row| row.0 == *what)) {
                                Some(row) => {
                                    td class=[compare::differs(row).then_some("diff")] { (row.1) }
                                    td class=[compare::differs(row).then_some("diff")] { (row.2) }
                                }
                                None => { td { "-" } td { "-" } }
                            }
                        }
                    }
                }
            }
        }
        @for (name, rows) in &compared {
            details id={"compare-" (name)} open[rows.as_ref().is_ok_and(|r| r.iter().any(|row| row.0 == "verdict" && compare::differs(row)))] {
                summary { b { (name) } }
                @match rows {
                    Ok(rows) => {
                        table {
                            tr { th {} th { "baseline" } th { "this run" } }
                            @for row in rows {
                                tr class=[compare::differs(row).then_some("diff")] {
                                    td { (row.0) } td { (row.1) } td { (row.2) }
                                }
                            }
                        }
                    }
                    Err(e) => { p class="small" { "not compared: " (e) } }
                }
            }
        }
    }
}

pub fn render(r: &SuiteRecord, dir: &Path, baseline: Option<&(PathBuf, SuiteRecord)>) -> String {
    let expected = r.entries.iter().filter(|e| e.as_expected()).count();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy(None));
                title { "ferret suite " (r.name) }
                style { (STYLE) }
            }
            body {
                h1 { "Suite " (r.name) }
                @if !r.description.is_empty() { p { (r.description) } }
                p id="verdict" class=(if r.as_expected { "ok" } else { "surprise" }) {
                    b { (expected) " of " (r.entries.len()) " entries as expected" }
                    @if let Some(s) = &r.stopped { " — stopped: " (s) }
                }
                p class="small" {
                    "Started " (r.started) " UTC from " (r.file) "; ferret " (r.ferret_version)
                    @if r.quick { "; quick runs" }
                    "; " (format!("{:.0}", r.elapsed_s)) " s in all. "
                    a href="junit.xml" { "junit.xml" } " · " a href="suite.json" { "suite.json" }
                    " · " a href=(relative_link(dir, &dir.join("../../../index.html"))) { "all runs" }
                }
                table id="entries" {
                    tr { th { "entry" } th { "config" } th { "expected" } th { "got (each run)" } th { "time" } th { "outcome" } }
                    @for e in &r.entries { (entry_row(dir, e)) }
                }
                @if let Some((bd, b)) = baseline { (comparison(r, bd, b)) }
            }
        }
    };
    page.into_string()
}
