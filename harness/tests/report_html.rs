//! report.html in a real browser: headless Chromium builds the page's DOM, so what a person sees
//! is what is tested. Needs Chromium: without it these tests fail, loudly, rather than skip.

mod common;

use common::{chromium_dom, ferret};
use std::path::Path;
use std::process::Output;

/// `ferret check HISTORY --html PAGE`.
fn check_html(history: &Path, page: &Path) -> Output {
    ferret()
        .arg("check")
        .arg(history)
        .arg("--html")
        .arg(page)
        .output()
        .unwrap()
}

/// A stale read whose key and values are hostile: markup, an attribute breakout, a right-to-left
/// override. None of it may run or become markup; all of it must show as text.
#[test]
fn hostile_values_render_as_text_and_no_injected_script_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let script = "<script>document.body.setAttribute('data-pwned','script')</script>";
    let breakout = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">";
    let rlo = "abc\u{202e}fed";
    let key = format!("k{script}");
    let ev = |p: i64, kind: &str, f: &str, v: serde_json::Value| {
        serde_json::json!({"process": p, "type": kind, "f": f, "key": key, "value": v}).to_string()
    };
    let lines = [
        ev(0, "invoke", "write", script.into()),
        ev(0, "ok", "write", script.into()),
        ev(0, "invoke", "write", breakout.into()),
        ev(0, "ok", "write", breakout.into()),
        ev(1, "invoke", "read", serde_json::Value::Null),
        ev(1, "ok", "read", script.into()),
        ev(2, "invoke", "write", rlo.into()),
        ev(2, "ok", "write", rlo.into()),
        r#"{"process":"nemesis","type":"info","f":"start-partition","value":{"note":"<b>x</b>"}}"#
            .to_string(),
    ];
    let history = tmp.path().join("hostile.jsonl");
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    let page = tmp.path().join("report.html");
    let out = check_html(&history, &page);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let dom = chromium_dom(&page);
    // The verdict and the failing call are on the page.
    assert!(dom.contains("INVALID"), "{dom}");
    assert!(dom.contains("read by process 1 (line 5)"), "{dom}");
    // Nothing injected ran or became an element.
    assert!(
        !dom.contains("data-pwned="),
        "an injected script ran:\n{dom}"
    );
    assert!(!dom.contains("<img"), "an injected element:\n{dom}");
    assert!(!dom.contains("<b>x</b>"), "an injected element:\n{dom}");
    // The hostile strings are there as text, escaped.
    assert!(dom.contains("&lt;script&gt;document.body"), "{dom}");
    assert!(dom.contains("&gt;&lt;img src=x onerror="), "{dom}");
    // A right-to-left override is shown as its escape, never applied: it could make the page
    // display one value as another.
    assert!(dom.contains("abc\\u{202e}fed"), "{dom}");
    assert!(
        !dom.contains('\u{202e}'),
        "a raw U+202E on the page:\n{dom}"
    );
    // Scripts do run here: the page's own (the only one its CSP allows) marks the page, so the
    // absence of the injected marks above means something.
    assert!(
        dom.contains("data-script=\"ran\""),
        "the page's own script did not run:\n{dom}"
    );
}

/// A history of 100,000 calls renders quickly to a page well under the 10 MB bound.
#[test]
fn a_100k_call_history_renders_under_10_mb() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("big.jsonl");
    let h = ferret_checkers::synth::register_history(&ferret_checkers::synth::SynthOptions {
        calls: 100_000,
        keys: 100,
        processes: 50,
        unknown: 0.03,
        stale_reads: 0.001,
        seed: 5,
    });
    let mut w = ferret_checkers::JsonlWriter::new(std::fs::File::create(&history).unwrap());
    for e in &h.events {
        w.write(e).unwrap();
    }
    drop(w);
    let page = tmp.path().join("report.html");
    let out = check_html(&history, &page);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let size = std::fs::metadata(&page).unwrap().len();
    eprintln!("report.html for 100,000 calls: {size} bytes");
    assert!(size < 10 << 20, "{size} bytes");
    let dom = chromium_dom(&page);
    assert!(
        dom.contains("calls drawn"),
        "the page says how many calls it drew"
    );
}

/// A stale read under a partition, with times: what `ferret check --json` and `ferret report`
/// are given.
const TIMED: &str = r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":0}
{"process":0,"type":"ok","f":"write","key":"k","value":1,"time":10000000}
{"process":"nemesis","type":"info","f":"start-partition","value":{"n1":["n2"]},"time":15000000}
{"process":1,"type":"invoke","f":"write","key":"k","value":2,"time":20000000}
{"process":1,"type":"ok","f":"write","key":"k","value":2,"time":40000000}
{"process":2,"type":"invoke","f":"read","key":"k","value":null,"time":50000000}
{"process":2,"type":"ok","f":"read","key":"k","value":1,"time":90000000}
{"process":"nemesis","type":"info","f":"stop-partition","value":null,"time":95000000}
{"process":3,"type":"invoke","f":"write","key":"k","value":3,"time":100000000}
{"process":3,"type":"info","f":"write","key":"k","value":3,"time":1100000000}
"#;

/// results.json carries, beside the verdict, the calls and latency quantiles per function and
/// the fault timeline; `ferret report DIR` renders the page again from it and the history, the
/// prefix stepped through state by state.
#[test]
fn ferret_report_renders_a_folder_again_from_results_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("history.jsonl"), TIMED).unwrap();
    let out = ferret()
        .arg("check")
        .arg(dir.join("history.jsonl"))
        .arg("--json")
        .arg(dir.join("results.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["verdict"], "invalid");
    assert_eq!(results["ferret_version"], env!("CARGO_PKG_VERSION"));
    let write = &results["ops"]["write"];
    assert_eq!(
        (write["ok"].as_u64(), write["info"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(write["latency_ms"]["max"], 20.0);
    assert_eq!(results["ops"]["read"]["latency_ms"]["p50"], 40.0);
    let faults = results["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["fault"], "start-partition");
    assert_eq!(
        (faults[0]["start_s"].as_f64(), faults[0]["end_s"].as_f64()),
        (Some(0.015), Some(0.095))
    );
    // Each prefix step's state: a write leaves its value; the last is the state named.
    let e = &results["keys"][0]["explanation"];
    let (tail, states) = (
        e["prefix_tail"].as_array().unwrap(),
        e["prefix_states"].as_array().unwrap(),
    );
    assert_eq!(tail.len(), states.len(), "{e}");
    assert_eq!(
        states.last().unwrap(),
        &serde_json::json!([e["state"]]),
        "{e}"
    );
    for (c, s) in tail.iter().zip(states) {
        assert_eq!(s, &serde_json::json!([c["value"]]), "{e}");
    }

    let out = ferret().arg("report").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for f in ["report.html", "junit.xml", "throughput.svg", "latency.svg"] {
        assert!(dir.join(f).exists(), "{f} not written");
    }
    let dom = chromium_dom(&dir.join("report.html"));
    assert!(dom.contains("INVALID"), "{dom}");
    assert!(dom.contains("read by process 2 (line 6)"), "{dom}");
    assert!(dom.contains("state after"), "{dom}");
    // The calls around the failure, drawn per process and labelled with what they did.
    assert!(dom.contains("The calls around the failure"), "{dom}");
    for label in ["write 1 → 1", "write 2 → 2", "read nil → 1"] {
        assert!(dom.contains(label), "{label}: {dom}");
    }
    assert!(dom.contains("start-partition"), "{dom}");
}

/// A folder without results.json, or with one ferret did not write, is said to be so: the file
/// named, the place in it, exit 3.
#[test]
fn ferret_report_names_what_is_missing_or_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ferret().arg("report").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("results.json") && err.contains("a run's folder"),
        "{err}"
    );
    std::fs::write(
        tmp.path().join("results.json"),
        "{\"verdict\": \"valid\",\n \"keys\": 3}\n",
    )
    .unwrap();
    let out = ferret().arg("report").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("results.json:") && err.contains("not a results.json ferret wrote"),
        "{err}"
    );
    assert!(!tmp.path().join("report.html").exists());
}
