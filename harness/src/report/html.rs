//! `report.html`: one self-contained page (no network, works from `file://`) that shows the
//! verdict, each key's verdict, a timeline of the calls with the nemesis's fault windows, and for
//! each invalid key the failure stepped through. Every string from a history or a server is
//! escaped (maud escapes by default), and a Content-Security-Policy lets only the page's own
//! script run, so even a missed escape could not run an injected one.

use super::plots::Plots;
use super::results::{FaultWindow, Results};
use base64::Engine as _;
use ferret_checkers::history::describe::{describe_call, describe_result};
use ferret_checkers::verdict::{Explanation, KeyReport};
use ferret_checkers::{Call, Event, History, Outcome, Process, Report, VerdictName};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::Digest as _;
use std::fmt::Write as _;

/// At most this many calls are drawn; the rest are summarised. Keeps a 100,000-call page to a few
/// MB: every call near a failure or a fault edge is drawn, then an even sample of the others.
pub const MAX_DRAWN: usize = 10_000;
/// Invalid keys explained in full on the page (all of them are in results.json).
const MAX_EXPLAINED: usize = 50;
/// Calls of a shrunk counterexample listed (a budget that ran out can leave many).
const MAX_SHRUNK_ROWS: usize = 200;
/// Keys listed one per row; beyond, only the keys that are not valid.
const MAX_LISTED: usize = 2_000;
const WIDTH: f64 = 1600.0;
const LANE: f64 = 14.0;

/// The page's only script: zoom buttons that widen the timeline; it marks the page when it ran
/// (the browser tests rely on that to know scripts run at all).
const SCRIPT: &str = "document.documentElement.setAttribute('data-script','ran');\
document.querySelectorAll('[data-zoom]').forEach(function(b){\
b.addEventListener('click',function(){var s=document.getElementById('timeline');\
var w=parseFloat(s.getAttribute('width'))*parseFloat(b.getAttribute('data-zoom'));\
w=Math.max(800,Math.min(w,200000));s.setAttribute('width',w);});});";

/// The policy of every page ferret writes: nothing from outside, inline styles and data: images,
/// and no script but the page's own (`script`, allowed by its hash).
pub fn content_security_policy(script: Option<&str>) -> String {
    let mut csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:".to_string();
    if let Some(s) = script {
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
        csp += &format!("; script-src 'sha256-{hash}'");
    }
    csp
}

/// The page, and the plots it holds (for a run to write beside it as .svg files).
pub struct Page {
    pub html: String,
    pub plots: Option<Plots>,
}

/// Render the page from the history's events and its calls (`super::calls_of`). `facts` are
/// shown as given (seed, config, command, versions).
pub fn render(
    title: &str,
    results: &Results,
    history: &History,
    calls: &[Call],
    facts: &[(String, String)],
) -> Page {
    let report = &results.report;
    let plots = plots(calls, history, &results.faults);
    let csp = content_security_policy(Some(SCRIPT));
    let invalid: Vec<&KeyReport> = report
        .keys
        .iter()
        .filter(|k| k.verdict == VerdictName::Invalid)
        .collect();
    let unknown: Vec<&KeyReport> = report
        .keys
        .iter()
        .filter(|k| k.verdict == VerdictName::Unknown)
        .collect();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                title { "ferret: " (title) " — " (report.verdict.as_str()) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "ferret report: " (title) }
                p.verdict.(report.verdict.as_str()) id="verdict" {
                    (report.verdict.as_str().to_uppercase())
                    ": " (count(report, VerdictName::Valid)) " valid, "
                    (invalid.len()) " invalid, " (unknown.len()) " unknown keys; model "
                    (report.model) ", " (report.calls) " calls, checked in "
                    (format!("{:.3}", report.elapsed_s)) " s"
                }
                @if let Some(first) = invalid.first() {
                    p { a href=(format!("#key-{}", anchor(first))) { "Jump to the failure" } }
                }
                table.facts {
                    @for (k, v) in facts { tr { th { (k) } td {
                        @if v.contains('\n') { details { summary { (v.lines().count()) " lines" } pre { (v) } } } @else { code { (v) } }
                    } } }
                }
                h2 { "Calls" }
                (op_table(results))
                @if !results.faults.is_empty() {
                    h2 { "Faults" }
                    (fault_table(&results.faults))
                }
                @for w in &report.warnings {
                    p.warning { "warning, line " (w.line) ": " (w.message) }
                }
                h2 { "Timeline" }
                (timeline(calls, history, &invalid))
                h2 { "Throughput and latency" }
                @if let Some(p) = &plots {
                    p { "Per function, in " (super::plots::BUCKETS) " slices of the run; faults shaded." }
                    div.plot { (PreEscaped(&p.throughput)) }
                    div.plot { (PreEscaped(&p.latency)) }
                } @else {
                    p { "The history carries no times: nothing to plot." }
                }
                h2 { "Keys" }
                (key_table(report))
                @for k in invalid.iter().take(MAX_EXPLAINED) {
                    (invalid_key(k))
                }
                @if invalid.len() > MAX_EXPLAINED {
                    p { (invalid.len() - MAX_EXPLAINED) " more invalid keys are explained in results.json." }
                }
                @for k in &unknown {
                    section.key id=(format!("key-{}", anchor(k))) {
                        h2 { "Key " code { (k.key.to_string()) } ": unknown" }
                        p { (k.reason.as_deref().unwrap_or("no verdict")) }
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    Page {
        html: page.into_string(),
        plots,
    }
}

/// The throughput and latency plots of a history with times, fault windows shaded.
fn plots(calls: &[Call], history: &History, faults: &[FaultWindow]) -> Option<Plots> {
    let end = history.events.iter().filter_map(|e| e.time).max()? as f64 / 1e9;
    let faults: Vec<(f64, f64)> = faults
        .iter()
        .map(|w| (w.start_s, w.end_s.unwrap_or(end)))
        .collect();
    super::plots::render(calls, &faults)
}

/// Calls per function by outcome, with the latency quantiles of the ok ones.
fn op_table(results: &Results) -> Markup {
    let ms = |v: f64| format!("{v:.1}");
    html! {
        table.ops {
            tr { th { "function" } th { "ok" } th { "fail" } th { "unknown" }
                 th { "p50 ms" } th { "p90 ms" } th { "p99 ms" } th { "max ms" } }
            @for (f, s) in &results.ops {
                tr {
                    td { code { (f) } } td { (s.ok) } td { (s.fail) } td { (s.info) }
                    @if let Some(q) = &s.latency_ms {
                        td { (ms(q.p50)) } td { (ms(q.p90)) } td { (ms(q.p99)) } td { (ms(q.max)) }
                    } @else {
                        td {} td {} td {} td {}
                    }
                }
            }
        }
    }
}

/// Faults listed on the page; all are in results.json.
const MAX_FAULTS: usize = 500;

fn fault_table(faults: &[FaultWindow]) -> Markup {
    html! {
        @if faults.len() > MAX_FAULTS {
            p { "The first " (MAX_FAULTS) " of " (faults.len()) " are listed; all are in results.json." }
        }
        table.faults {
            tr { th { "fault" } th { "from (s)" } th { "to (s)" } th { "what, and whether it took effect" } }
            @for w in faults.iter().take(MAX_FAULTS) {
                tr {
                    td { (w.fault) }
                    td { (format!("{:.2}", w.start_s)) }
                    td { @if let Some(e) = w.end_s { (format!("{e:.2}")) } @else { "the end" } }
                    td { (super::faults::describe(w)) }
                }
            }
        }
    }
}

fn count(report: &Report, v: VerdictName) -> usize {
    report.keys.iter().filter(|k| k.verdict == v).count()
}

/// A key as an HTML id: a hash of it, since keys may hold any text.
fn anchor(k: &KeyReport) -> String {
    let mut h = sha2::Sha256::new();
    h.update(k.key.to_string());
    h.finalize()[..6].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn key_table(report: &Report) -> Markup {
    let listed: Vec<&KeyReport> = if report.keys.len() <= MAX_LISTED {
        report.keys.iter().collect()
    } else {
        report
            .keys
            .iter()
            .filter(|k| k.verdict != VerdictName::Valid)
            .collect()
    };
    html! {
        @if listed.len() < report.keys.len() {
            p { (report.keys.len() - listed.len()) " valid keys are not listed." }
        }
        table.keys {
            tr { th { "key" } th { "verdict" } th { "calls" } th { "time (s)" } th { "decided by" } th { "why" } }
            @for k in listed {
                tr.(k.verdict.as_str()) {
                    td { @if k.verdict == VerdictName::Valid { code { (k.key.to_string()) } }
                         @else { a href=(format!("#key-{}", anchor(k))) { code { (k.key.to_string()) } } } }
                    td { (k.verdict.as_str()) }
                    td { (k.calls) }
                    td { (format!("{:.3}", k.elapsed_s)) }
                    td { (k.method.as_str()) }
                    td { (k.reason.as_deref().unwrap_or("")) }
                }
            }
        }
    }
}

/// A call as a table row; `mark` (a pointer at the call that breaks the rules) highlights it.
fn call_row(c: &Call, mark: &str) -> Markup {
    call_row_with(c, !mark.is_empty(), html! { (mark) })
}

fn call_row_with(c: &Call, highlight: bool, last: Markup) -> Markup {
    html! {
        tr.(if highlight { "stuck" } else { "" }) {
            td { (c.place()) }
            td { (c.process.to_string()) }
            td { code { (c.f) " " (shown(&c.invoke_value)) } }
            td { code { (describe_result(c)) } }
            td { (last) }
        }
    }
}

fn invalid_key(k: &KeyReport) -> Markup {
    html! {
        section.key id=(format!("key-{}", anchor(k))) {
            @if k.key.is_nil() { h2 { "The history: invalid" } } @else { h2 { "Key " code { (k.key.to_string()) } ": invalid" } }
            @for a in &k.anomalies {
                h3 { (a.kind) }
                // A summary may end with a node's log: its lines kept.
                p.summary.lines { (a.summary) }
                (super::cycle::cycle_svg(a))
                @if !a.calls.is_empty() {
                    table.calls {
                        tr { th { "where" } th { "process" } th { "call" } th { "result" } th {} }
                        @for c in &a.calls { (call_row(c, "")) }
                    }
                }
            }
            @if let Some(e) = &k.explanation { (explanation(e)) }
        }
    }
}

fn explanation(e: &Explanation) -> Markup {
    html! {
        p.summary { (e.summary) }
        p { "The call that cannot be linearized: " strong.stuck { (describe_call(&e.stuck)) }
            ", which returned " code { (describe_result(&e.stuck)) } "." }
        (around_the_failure(e))
        @if let Some(s) = &e.shrunk {
            h3 { "Shrunk counterexample: " (s.calls.len()) " calls"
                 @if !s.minimal { " (not minimal: the shrink budget ran out)" } }
            p { "Each call below is kept with its result, or relaxed to an unknown outcome (it may or may not have taken effect); this smaller history is still not linearizable." }
            @if s.calls.len() > MAX_SHRUNK_ROWS {
                p { "The first " (MAX_SHRUNK_ROWS) " are shown; all are in results.json." }
            }
            table.calls {
                tr { th { "where" } th { "process" } th { "call" } th { "result" } th {} }
                @for sc in s.calls.iter().take(MAX_SHRUNK_ROWS) {
                    @let first = s.first.as_ref() == Some(&sc.call);
                    @if sc.relaxed {
                        tr.relaxed { td { (sc.call.place()) } td { (sc.call.process.to_string()) }
                            td { code { (sc.call.f) " " (shown(&sc.call.invoke_value)) } }
                            td { "? (relaxed)" } td {} }
                    } @else {
                        (call_row(&sc.call, if first { "← first that cannot fit" } else { "" }))
                    }
                }
            }
        }
        h3 { "The linearizable prefix the check reached: " (e.prefix_length) " calls" }
        p { "Its last calls, in linearization order, each with the model state it leaves; the state at the end is "
            code { (shown(&e.state)) } ", and the call after it cannot be placed." }
        table.calls.prefix {
            tr { th { "where" } th { "process" } th { "call" } th { "result" } th { "state after" } }
            @for (i, c) in e.prefix_tail.iter().enumerate() {
                (call_row_with(c, false, html! { code { (states(e.prefix_states.get(i))) } }))
            }
            (call_row(&e.stuck, "← cannot be placed"))
        }
    }
}

/// The calls the failure involves — the shrunk counterexample's, else the prefix's last calls —
/// and the stuck call, per process on their own time axis, labelled: the contradiction at a
/// glance.
fn around_the_failure(e: &Explanation) -> Markup {
    const W: f64 = 1000.0;
    const ROW: f64 = 30.0;
    let mut calls: Vec<(&Call, bool)> = match &e.shrunk {
        Some(s) if !s.calls.is_empty() => s.calls.iter().map(|c| (&c.call, c.relaxed)).collect(),
        _ => e.prefix_tail.iter().map(|c| (c, false)).collect(),
    };
    if !calls.iter().any(|(c, _)| *c == &e.stuck) {
        calls.push((&e.stuck, false));
    }
    calls.truncate(60);
    let timed = calls.iter().all(|(c, _)| {
        c.invoke_time.is_some() && (c.complete_index.is_none() || c.complete_time.is_some())
    });
    let start = |c: &Call| call_span(c, timed).0;
    let end = |c: &Call| call_span(c, timed).1;
    let t0 = calls.iter().map(|(c, _)| start(c)).fold(f64::MAX, f64::min);
    let t1 = calls
        .iter()
        .map(|(c, _)| end(c).unwrap_or(start(c)))
        .fold(f64::MIN, f64::max)
        .max(t0 + 1.0);
    // A margin each side, so a bar's label at the edge stays on the drawing.
    let x = |t: f64| 40.0 + (t - t0) / (t1 - t0) * (W - 240.0);
    let mut processes: Vec<&Process> = calls.iter().map(|(c, _)| &c.process).collect();
    processes.sort();
    processes.dedup();
    let height = processes.len() as f64 * ROW + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"around\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\">"
    );
    for (row, p) in processes.iter().enumerate() {
        let name = html! { "process " (p.to_string()) }.into_string();
        let _ = write!(
            svg,
            "<text class=\"lane\" x=\"2\" y=\"{:.1}\">{name}</text>",
            row as f64 * ROW + 10.0
        );
    }
    for (c, relaxed) in &calls {
        let row = processes.iter().position(|p| *p == &c.process).unwrap_or(0) as f64;
        let (a, b) = (x(start(c)), end(c).map(&x).unwrap_or(W - 200.0));
        let y = row * ROW + 12.0;
        let class = if *relaxed || c.outcome == Outcome::Info {
            "info"
        } else {
            "ok"
        };
        let stuck = if *c == &e.stuck { " stuck" } else { "" };
        let result = if *relaxed {
            "?".to_string()
        } else {
            describe_result(c)
        };
        let label = html! { (c.f) " " (shown(&c.invoke_value)) " → " (result) }.into_string();
        let tip = html! { (describe_call(c)) }.into_string();
        let _ = write!(
            svg,
            "<rect class=\"{class}{stuck}\" x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"8\"><title>{tip}</title></rect><text class=\"call\" x=\"{a:.1}\" y=\"{:.1}\">{label}</text>",
            (b - a).max(2.0),
            y + 17.0
        );
    }
    let _ = write!(
        svg,
        "<text class=\"tick\" x=\"40\" y=\"{0:.1}\">{1}</text><text class=\"tick\" x=\"{2:.1}\" y=\"{0:.1}\">{3}</text></svg>",
        height - 2.0,
        if timed { format!("{:.3} s", t0 / 1e9) } else { format!("#{t0:.0}") },
        W - 240.0,
        if timed { format!("{:.3} s", t1 / 1e9) } else { format!("#{t1:.0}") },
    );
    html! {
        h3 { "The calls around the failure" }
        p { "Each row a process, each bar a call from invocation to completion (dashed: unknown outcome; thick border: the call that cannot be linearized)." }
        div.scroll { (PreEscaped(svg)) }
    }
}

/// A call's invocation and completion on a drawing's axis: nanoseconds when the history has
/// times, else event positions; no completion for a call that never completed.
fn call_span(c: &Call, timed: bool) -> (f64, Option<f64>) {
    if timed {
        (
            c.invoke_time.unwrap_or(0) as f64,
            c.complete_time.map(|t| t as f64),
        )
    } else {
        (c.invoke_index as f64, c.complete_index.map(|i| i as f64))
    }
}

/// Items of a collection shown in the report (a set's read can hold thousands; the JSON has them
/// all).
const REPORT_ITEMS: usize = 64;

fn shown(v: &ferret_checkers::Value) -> String {
    format!("{v:.REPORT_ITEMS$}")
}

/// The states a prefix step may leave: one, or a choice an unknown outcome left.
fn states(s: Option<&Vec<ferret_checkers::Value>>) -> String {
    match s.map(Vec::as_slice) {
        None | Some([]) => "?".into(),
        Some([one]) => shown(one),
        Some(many) => format!(
            "one of {}",
            many.iter().map(shown).collect::<Vec<_>>().join(" | ")
        ),
    }
}

fn timeline(calls: &[Call], history: &History, invalid: &[&KeyReport]) -> Markup {
    if calls.is_empty() {
        return html! { p { "No calls." } };
    }
    // Time from the history's clock when every event has one, else event positions.
    let timed = history.events.iter().all(|e| e.time.is_some());
    let t_of_event = |e: &Event| -> f64 {
        if timed {
            e.time.unwrap_or(0) as f64
        } else {
            e.index as f64
        }
    };
    let (t0, t1): (f64, f64) = history
        .events
        .iter()
        .map(&t_of_event)
        .fold((f64::MAX, f64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    let span = (t1 - t0).max(1.0);
    let x = |t: f64| (t - t0) / span * WIDTH;
    let call_start = |c: &Call| call_span(c, timed).0;
    // An unknown outcome may take effect any time later; its bar ends where the client gave up
    // (its `info` completion), or after a short stub when it never completed.
    let call_end = |c: &Call| {
        call_span(c, timed)
            .1
            .unwrap_or_else(|| (call_start(c) + span / 100.0).min(t1))
    };
    let nemesis: Vec<&Event> = history.nemesis_events().collect();
    let windows: Vec<(f64, Option<f64>, String)> =
        super::results::fault_windows(&nemesis, t_of_event)
            .into_iter()
            .map(|(a, b, e)| (a, b, format!("{} {}", e.f, e.value)))
            .collect();
    // Lanes: one per process when there are few; else calls packed into as few lanes as overlap
    // needs (processes that retire after an unknown outcome would give thousands of lanes).
    let mut processes: Vec<&Process> = calls.iter().map(|c| &c.process).collect();
    processes.sort();
    processes.dedup();
    let per_process = processes.len() <= 64;
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by(|&a, &b| call_start(&calls[a]).total_cmp(&call_start(&calls[b])));
    let mut lane_of = vec![0usize; calls.len()];
    if per_process {
        for (i, c) in calls.iter().enumerate() {
            lane_of[i] = processes.binary_search(&&c.process).unwrap_or(0);
        }
    } else {
        let mut free_at: Vec<f64> = Vec::new();
        for &i in &order {
            let s = call_start(&calls[i]);
            let lane = free_at.iter().position(|&f| f < s).unwrap_or_else(|| {
                free_at.push(f64::MIN);
                free_at.len() - 1
            });
            free_at[lane] = call_end(&calls[i]);
            lane_of[i] = lane;
        }
    }
    let lanes = lane_of.iter().max().map_or(1, |m| m + 1);
    // Which calls to draw: near failures and fault edges first, then an even sample.
    let mut interesting: Vec<f64> = windows
        .iter()
        .flat_map(|w| [Some(w.0), w.1])
        .flatten()
        .collect();
    let stuck_lines: Vec<u64> = invalid
        .iter()
        .filter_map(|k| k.explanation.as_ref())
        .map(|e| e.stuck.line)
        .collect();
    for c in calls.iter().filter(|c| stuck_lines.contains(&c.line)) {
        interesting.push(call_start(c));
    }
    let near = span / 200.0;
    let mut drawn = vec![false; calls.len()];
    let mut budget = MAX_DRAWN;
    if calls.len() <= MAX_DRAWN {
        drawn.iter_mut().for_each(|d| *d = true);
    } else {
        for (i, c) in calls.iter().enumerate() {
            let (s, e) = (call_start(c), call_end(c));
            if budget > MAX_DRAWN / 2 && interesting.iter().any(|&t| s <= t + near && e >= t - near)
            {
                drawn[i] = true;
                budget -= 1;
            }
        }
        let step = (calls.len() / budget.max(1)).max(1);
        for i in (0..calls.len()).step_by(step) {
            if budget == 0 {
                break;
            }
            if !drawn[i] {
                drawn[i] = true;
                budget -= 1;
            }
        }
    }
    let shown = drawn.iter().filter(|&&d| d).count();
    let height = lanes as f64 * LANE + 24.0;
    let mut svg = String::with_capacity(shown * 160);
    let _ = write!(
        svg,
        "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" preserveAspectRatio=\"none\">\
         <defs><pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">\
         <path d=\"M0,4 L4,0\" stroke=\"#b22\" stroke-width=\"1\"/></pattern></defs>"
    );
    for (s, e, label) in &windows {
        let (a, b) = (x(*s), x(e.unwrap_or(t1)));
        let _ = write!(
            svg,
            "<rect class=\"fault\" x=\"{a:.1}\" y=\"0\" width=\"{:.1}\" height=\"{height}\"><title>{}</title></rect>",
            (b - a).max(1.0),
            maud::html! { (label) }.into_string()
        );
    }
    // A time axis: ten ticks, in seconds of the history's clock (or event positions).
    for k in 0..=10 {
        let t = t0 + span * k as f64 / 10.0;
        let label = if timed {
            format!("{:.2} s", t / 1e9)
        } else {
            format!("#{t:.0}")
        };
        let xt = x(t).clamp(0.0, WIDTH - 40.0);
        let _ = write!(
            svg,
            "<line class=\"tick\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{1:.1}\"/><text class=\"tick\" x=\"{xt:.1}\" y=\"{2:.1}\">{label}</text>",
            x(t),
            height - 12.0,
            height - 2.0
        );
    }
    if per_process {
        for (lane, p) in processes.iter().enumerate() {
            let name = maud::html! { (p.to_string()) }.into_string();
            let _ = write!(
                svg,
                "<text class=\"lane\" x=\"2\" y=\"{:.1}\">{name}</text>",
                lane as f64 * LANE + LANE - 3.0
            );
        }
    }
    for (i, c) in calls.iter().enumerate() {
        if !drawn[i] {
            continue;
        }
        let (a, b) = (x(call_start(c)), x(call_end(c)));
        let y = lane_of[i] as f64 * LANE + 2.0;
        let class = match c.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        };
        let stuck = if stuck_lines.contains(&c.line) {
            " stuck"
        } else {
            ""
        };
        let tip = maud::html! { (describe_call(c)) " → " (describe_result(c)) }.into_string();
        let _ = write!(
            svg,
            "<rect class=\"{class}{stuck}\" x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{tip}</title></rect>",
            (b - a).max(0.8),
            LANE - 4.0
        );
    }
    svg.push_str("</svg>");
    html! {
        p {
            "Each row is " (if per_process { "a process" } else { "a lane of calls that did not overlap (processes retire after an unknown outcome)" })
            "; each bar a call from invocation to completion: "
            span.legend.ok { "solid: ok" } ", " span.legend.fail { "hatched: fail" } ", "
            span.legend.info { "dashed outline: unknown outcome (until the client gave up; it may take effect any time later)" } "; "
            span.legend.stuck { "thick black border: the call that cannot be linearized" } "; "
            span.legend.fault { "shaded bands: faults" } ". Hover for details. "
            @if shown < calls.len() {
                strong { (shown) " of " (calls.len()) " calls drawn" }
                ": every call near a failure or a fault edge, then an even sample."
            }
        }
        p { button data-zoom="2" { "zoom in" } " " button data-zoom="0.5" { "zoom out" } }
        div.scroll { (PreEscaped(svg)) }
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
code{font-family:monospace}\
.verdict{font-size:1.4em;font-weight:bold;padding:.4em;border:3px solid}\
.verdict.valid{border-color:#2a2}.verdict.invalid{border-color:#c22}.verdict.unknown{border-color:#c92}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\
tr.invalid td{background:#fee}tr.unknown td{background:#ffe}tr.stuck td{background:#fdd;font-weight:bold}\
tr.relaxed td{color:#777;font-style:italic}\
.scroll{overflow-x:auto;border:1px solid #ccc}\
rect.ok{fill:#6b6;stroke:#363;stroke-width:.5}rect.fail{fill:url(#hatch);stroke:#b22;stroke-width:.8}\
rect.info{fill:none;stroke:#666;stroke-width:.8;stroke-dasharray:3 2}\
rect.stuck{stroke:#000;stroke-width:2.5}rect.fault{fill:#f90;opacity:.18}\
.legend.ok{border-bottom:4px solid #6b6}.legend.fail{border-bottom:4px dotted #b22}\
.legend.info{border-bottom:2px dashed #666}.legend.stuck{border-bottom:3px solid #000}.legend.fault{background:#fde3bf}\
line.tick{stroke:#ddd;stroke-width:1}text.tick{font-size:10px;fill:#555}text.lane{font-size:10px;fill:#333;opacity:.7}text.call{font-size:10px;font-family:monospace;fill:#222}pre{margin:0;font-size:.85em}.summary{max-width:70em}.lines{white-space:pre-wrap}.warning{color:#a50}section.key{border-top:2px solid #999;margin-top:1.5em}\
svg.cycle{display:block;margin:.5em 0}svg.cycle circle.txn{fill:#fff;stroke:#333;stroke-width:1.5}\
svg.cycle text.txn{font-size:12px;font-weight:bold}svg.cycle text.edge{font-size:11px;fill:#222}\
svg.cycle path.edge{stroke:#333;stroke-width:1.5}svg.cycle path.rw{stroke:#c33;stroke-dasharray:5 3}\
svg.cycle path.realtime,svg.cycle path.process{stroke:#36c}";
