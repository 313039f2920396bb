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
