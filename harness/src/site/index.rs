//! The store's `index.html`: every run folder (time, config, seed, system version, verdict, ops,
//! the suite it ran in, a link to its report) and every suite run, sortable by any column and
//! filterable, in one self-contained page. Rewritten after each run and suite, and by
//! `ferret serve` when it is asked for.

use super::{relative_link, run_page};
use crate::report::html::content_security_policy;
use crate::report::results::RunFacts;
use crate::store::SUITES;
use anyhow::{Context, Result};
use ferret_checkers::VerdictName;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the index shows of a run's results.json (the rest is not read into memory).
#[derive(Deserialize)]
struct Brief {
    verdict: Option<VerdictName>,
    calls: Option<usize>,
    run: Option<RunFacts>,
}

/// One run folder.
struct RunRow {
    dir: PathBuf,
    stamp: String,
    config: String,
    seed: Option<u64>,
    version: Option<String>,
    /// None: no results.json (still running, interrupted, or could not run).
    verdict: Option<VerdictName>,
    calls: Option<usize>,
    /// The suite run it belongs to: (suite name, its folder).
    suite: Option<(String, PathBuf)>,
}

/// What the index shows of a suite's suite.json.
#[derive(Deserialize)]
struct SuiteRecord {
    name: String,
    started: String,
    #[serde(default)]
    quick: bool,
    entries: Vec<EntryBrief>,
    as_expected: bool,
    stopped: Option<String>,
    elapsed_s: f64,
}

#[derive(Deserialize)]
struct EntryBrief {
    judgement: Option<JudgementBrief>,
    #[serde(default)]
    runs: Vec<RunBrief>,
}

#[derive(Deserialize)]
struct JudgementBrief {
    as_expected: bool,
}

#[derive(Deserialize)]
struct RunBrief {
    dir: Option<String>,
}

impl SuiteRecord {
    fn read(dir: &Path) -> Option<SuiteRecord> {
        let text = std::fs::read_to_string(dir.join("suite.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

struct SuiteRow {
    dir: PathBuf,
    record: SuiteRecord,
}

/// `20261207T194928` (or `…-2`) as `2026-12-07 19:49:28`.
fn when(stamp: &str) -> String {
    let s = stamp.split('-').next().unwrap_or(stamp);
    if s.len() == 15 && s.as_bytes()[8] == b'T' {
        format!(
            "{}-{}-{} {}:{}:{}",
            &s[0..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15]
        )
    } else {
        stamp.to_string()
    }
}

fn is_stamp(name: &str) -> bool {
    let s = name.split('-').next().unwrap_or("");
    s.len() == 15
        && s.as_bytes()[8] == b'T'
        && s.chars().filter(|c| c.is_ascii_digit()).count() == 14
}

/// Sub-folders (not links such as `latest`) whose names are run times.
fn stamped_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| is_stamp(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect()
}

fn seed_of_config(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("config.yaml")).ok()?;
    let v: yaml_serde::Value = yaml_serde::from_str(&text).ok()?;
    v.get("seed")?.as_u64()
}

/// Every run and suite in the store.
fn scan(store: &Path) -> Result<(Vec<RunRow>, Vec<SuiteRow>)> {
    let mut suites = Vec::new();
    for name in std::fs::read_dir(store.join(SUITES))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
    {
        for dir in stamped_dirs(&name.path()) {
            if let Some(record) = SuiteRecord::read(&dir) {
                suites.push(SuiteRow { dir, record });
            }
        }
    }
    // Which suite each run folder ran in, by its absolute path.
    let mut member: BTreeMap<PathBuf, (String, PathBuf)> = BTreeMap::new();
    for s in &suites {
        for e in &s.record.entries {
            for r in &e.runs {
                if let Some(d) = &r.dir {
                    let key = std::fs::canonicalize(d).unwrap_or_else(|_| PathBuf::from(d));
                    member.insert(key, (s.record.name.clone(), s.dir.clone()));
                }
            }
        }
    }
    let mut runs = Vec::new();
    let top =
        std::fs::read_dir(store).with_context(|| format!("cannot read {}", store.display()))?;
    for config in top.filter_map(|e| e.ok()) {
        if config.file_name() == SUITES || !config.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for dir in stamped_dirs(&config.path()) {
            let is_run = ["config.yaml", "history.jsonl", "results.json"]
                .iter()
                .any(|f| dir.join(f).is_file());
            if !is_run {
                continue;
            }
            let brief: Option<Brief> = std::fs::read_to_string(dir.join("results.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            let facts = brief.as_ref().and_then(|b| b.run.as_ref());
            let key = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            runs.push(RunRow {
                stamp: dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                config: config.file_name().to_string_lossy().into_owned(),
                seed: facts.map(|f| f.seed).or_else(|| seed_of_config(&dir)),
                version: facts
                    .and_then(|f| f.system_version.as_deref())
                    .and_then(|v| v.lines().next())
                    .map(|v| v.trim().to_string()),
                verdict: brief.as_ref().and_then(|b| b.verdict),
                calls: brief.as_ref().and_then(|b| b.calls),
                suite: member.get(&key).cloned(),
                dir,
            });
        }
    }
    runs.sort_by(|a, b| b.stamp.cmp(&a.stamp).then(a.config.cmp(&b.config)));
    suites.sort_by(|a, b| b.record.started.cmp(&a.record.started));
    Ok((runs, suites))
}

/// Sorting by a column, and filtering the runs by text and verdict; marks the page when it ran.
const SCRIPT: &str = "document.documentElement.setAttribute('data-script','ran');\
var q=document.getElementById('filter'),w=document.getElementById('only');\
function apply(){var t=q.value.toLowerCase(),v=w.value,n=0;\
document.querySelectorAll('#runs tbody tr').forEach(function(r){\
var ok=(!t||r.textContent.toLowerCase().indexOf(t)>=0)&&(!v||r.getAttribute('data-verdict')==v);\
r.style.display=ok?'':'none';if(ok)n++;});document.getElementById('shown').textContent=n;}\
q.addEventListener('input',apply);w.addEventListener('change',apply);\
document.querySelectorAll('th[data-col]').forEach(function(h){h.addEventListener('click',function(){\
var tb=h.closest('table').tBodies[0],i=+h.getAttribute('data-col'),d=h.getAttribute('data-dir')=='a'?'d':'a';\
h.setAttribute('data-dir',d);var rows=Array.prototype.slice.call(tb.rows);\
rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-v')||'',y=b.cells[i].getAttribute('data-v')||'';\
var nx=parseFloat(x),ny=parseFloat(y),c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:(x<y?-1:x>y?1:0);return d=='a'?c:-c;});\
rows.forEach(function(r){tb.appendChild(r);});});});";

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
th{background:#f3f3f3}th[data-col]{cursor:pointer}.valid{color:#1a7f1a}.invalid{color:#b00;font-weight:bold}\
.unknown{color:#a60}.none{color:#777}.ok{background:#e6f4e6}.surprise{background:#fbe3e3}";

fn runs_table(store: &Path, runs: &[RunRow]) -> Markup {
    let verdict = |r: &RunRow| r.verdict.map(|v| v.as_str()).unwrap_or("no result");
    html! {
        table id="runs" {
            thead { tr {
                th data-col="0" { "time (UTC)" } th data-col="1" { "config" } th data-col="2" { "seed" }
                th data-col="3" { "system" } th data-col="4" { "verdict" } th data-col="5" { "ops" }
                th data-col="6" { "suite" } th { "report" }
            } }
            tbody {
                @for r in runs {
                    @let link = run_page(&r.dir);
                    tr data-verdict=(verdict(r)) data-run=(relative_link(store, &r.dir)) {
                        td data-v=(r.stamp) { (when(&r.stamp)) }
                        td data-v=(r.config) { (r.config) }
                        td data-v=(r.seed.map(|s| s.to_string()).unwrap_or_default()) {
                            (r.seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into()))
                        }
                        td data-v=(r.version.clone().unwrap_or_default()) { (r.version.clone().unwrap_or_else(|| "-".into())) }
                        td data-v=(verdict(r)) class=(r.verdict.map(|v| v.as_str()).unwrap_or("none")) { (verdict(r)) }
                        td data-v=(r.calls.unwrap_or(0)) { (r.calls.map(|c| c.to_string()).unwrap_or_else(|| "-".into())) }
                        td data-v=(r.suite.as_ref().map(|s| s.0.clone()).unwrap_or_default()) {
                            @if let Some((name, dir)) = &r.suite {
                                a href=(relative_link(store, &dir.join("suite.html"))) { (name) }
                            } @else { "-" }
                        }
                        td { a href=(relative_link(store, &link)) { (relative_link(store, &r.dir)) } }
                    }
                }
            }
        }
    }
}

fn suites_table(store: &Path, suites: &[SuiteRow]) -> Markup {
    html! {
        table id="suites" {
            thead { tr {
                th data-col="0" { "started (UTC)" } th data-col="1" { "suite" } th data-col="2" { "entries" }
                th data-col="3" { "as expected" } th data-col="4" { "time" } th { "page" }
            } }
            tbody {
                @for s in suites {
                    @let r = &s.record;
                    @let ok = r.entries.iter().filter(|e| e.judgement.as_ref().is_some_and(|j| j.as_expected)).count();
                    tr class=(if r.as_expected { "ok" } else { "surprise" }) {
                        td data-v=(r.started) { (r.started) }
                        td data-v=(r.name) { (r.name) @if r.quick { " (quick)" } }
                        td data-v=(r.entries.len()) { (r.entries.len()) }
                        td data-v=(ok) { (ok) " of " (r.entries.len()) @if let Some(st) = &r.stopped { " — stopped: " (st) } }
                        td data-v=(format!("{:.0}", r.elapsed_s)) { (format!("{:.0} s", r.elapsed_s)) }
                        td { a href=(relative_link(store, &s.dir.join("suite.html"))) { (relative_link(store, &s.dir)) } }
                    }
                }
            }
        }
    }
}

/// The page for a store.
pub fn render(store: &Path) -> Result<String> {
    let (runs, suites) = scan(store)?;
    let csp = content_security_policy(Some(SCRIPT));
    let count = |v: Option<VerdictName>| runs.iter().filter(|r| r.verdict == v).count();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                title { "ferret store" }
                style { (STYLE) }
            }
            body {
                h1 { "ferret store" }
                p {
                    (runs.len()) " runs: " (count(Some(VerdictName::Valid))) " valid, "
                    (count(Some(VerdictName::Invalid))) " invalid, " (count(Some(VerdictName::Unknown)))
                    " unknown, " (count(None)) " without a result; " (suites.len()) " suite runs. "
                    "Written " (chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")) " UTC; click a column to sort."
                }
                @if !suites.is_empty() {
                    h2 { "Suites" }
                    (suites_table(store, &suites))
                }
                h2 { "Runs" }
                p {
                    "Filter: " input id="filter" type="search" placeholder="config, version, suite…";
                    " " select id="only" {
                        option value="" { "any verdict" }
                        option value="valid" { "valid" }
                        option value="invalid" { "invalid" }
                        option value="unknown" { "unknown" }
                        option value="no result" { "no result" }
                    }
                    " " span id="shown" { (runs.len()) } " shown"
                }
                (runs_table(store, &runs))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    Ok(page.into_string())
}

/// Rewrite the store's index.html (a whole new file put in place at once: a reader, or another
/// run writing it at the same moment, never sees half of one).
pub fn update(store: &Path) -> Result<PathBuf> {
    let html = render(store)?;
    let path = store.join("index.html");
    let tmp = store.join(format!(".index.html.{}", std::process::id()));
    std::fs::write(&tmp, html).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert!(is_stamp("20261207T194928") && is_stamp("20261207T194928-2"));
        assert!(!is_stamp("latest") && !is_stamp("series-20261207T194928.junit.xml"));
        assert_eq!(when("20261207T194928-2"), "2026-12-07 19:49:28");
    }

    #[test]
    fn lists_runs_with_and_without_results() {
        let store = tempfile::tempdir().unwrap();
        let a = store.path().join("etcd/20261207T100000");
        let b = store.path().join("etcd/20261207T110000");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("config.yaml"), "name: etcd\nseed: 7\n").unwrap();
        std::fs::write(
            b.join("results.json"),
            r#"{"verdict":"invalid","calls":42,"run":{"name":"etcd","seed":9,"dir":"x","reproduce":"y","system_version":"etcd Version: 3.4.23\nGit SHA: z"}}"#,
        )
        .unwrap();
        let page = render(store.path()).unwrap();
        assert!(page.contains("etcd/20261207T100000") && page.contains("etcd/20261207T110000"));
        assert!(page.contains("no result") && page.contains(">invalid<"));
        assert!(page.contains("etcd Version: 3.4.23") && !page.contains("Git SHA"));
        assert!(page.contains(">42<") && page.contains(">7<"));
    }
}
