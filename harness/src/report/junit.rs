//! `junit.xml`: one test case for the run (or the file) as a whole and one per key, so a CI
//! system shows a ferret verdict as tests. Invalid is a failure, with the explanation; unknown is
//! an error (a budget ran out, or the run tested too little) — never a pass.

use ferret_checkers::{Report, VerdictName};
use quick_xml::escape::escape;
use std::fmt::Write as _;

/// XML 1.0 cannot hold most control characters, even escaped: they become U+FFFD. Everything else
/// from a history or a server's reply is escaped.
pub fn text(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t' | '\r') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    escape(clean.as_str()).into_owned()
}

/// The JUnit XML of a report. `suite` names the run (the config's name, or the file).
pub fn render(suite: &str, report: &Report) -> String {
    render_many(&[(suite.to_string(), report)])
}

/// The JUnit XML of several runs, a test suite each.
pub fn render_many(runs: &[(String, &Report)]) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut tests, mut failures, mut errors, mut time) = (0, 0, 0, 0.0);
    let mut body = String::new();
    for (suite, report) in runs {
        let (t, f, e) = suite_xml(&mut body, suite, report);
        tests += t;
        failures += f;
        errors += e;
        time += report.elapsed_s;
    }
    let _ = writeln!(
        x,
        "<testsuites name=\"ferret\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">"
    );
    x.push_str(&body);
    x.push_str("</testsuites>\n");
    x
}

/// One run's test suite; returns its (tests, failures, errors).
fn suite_xml(x: &mut String, suite: &str, report: &Report) -> (usize, usize, usize) {
    let count = |v| report.keys.iter().filter(|k| k.verdict == v).count();
    let (failures, errors) = (count(VerdictName::Invalid), count(VerdictName::Unknown));
    let whole_fails = report.verdict == VerdictName::Invalid;
    let whole_errs = report.verdict == VerdictName::Unknown;
    let tests = report.keys.len() + 1;
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3}\">",
        text(suite),
        failures + usize::from(whole_fails),
        errors + usize::from(whole_errs),
        report.elapsed_s
    );
    let verdict = format!(
        "{}: {} valid, {failures} invalid, {errors} unknown keys (model {})",
        report.verdict.as_str().to_uppercase(),
        count(VerdictName::Valid),
        report.model
    );
    let warnings: Vec<&str> = report.warnings.iter().map(|w| w.message.as_str()).collect();
    let _ = write!(
        x,
        "    <testcase classname=\"ferret.{}\" name=\"linearizable\" time=\"{:.3}\"",
        text(suite),
        report.elapsed_s
    );
    match report.verdict {
        VerdictName::Valid => x.push_str("/>\n"),
        VerdictName::Invalid => {
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{}\" type=\"invalid\">{}</failure>\n    </testcase>",
                text(&verdict),
                text(&warnings.join("\n"))
            );
        }
        VerdictName::Unknown => {
            let _ = writeln!(
                x,
                ">\n      <error message=\"{}\" type=\"unknown\">{}</error>\n    </testcase>",
                text(&verdict),
                text(&warnings.join("\n"))
            );
        }
    }
    for k in &report.keys {
        let name = if k.key.is_nil() {
            "-".to_string()
        } else {
            k.key.to_string()
        };
        let _ = write!(
            x,
            "    <testcase classname=\"ferret.{}.keys\" name=\"{}\" time=\"{:.3}\"",
            text(suite),
            text(&name),
            k.elapsed_s
        );
        match k.verdict {
            VerdictName::Valid => x.push_str("/>\n"),
            VerdictName::Invalid => {
                let e = k.explanation.as_ref();
                let summary = e
                    .map(|e| e.summary.as_str())
                    .or(k.anomalies.first().map(|a| a.summary.as_str()))
                    .unwrap_or("not linearizable");
                let mut detail = String::new();
                for a in &k.anomalies {
                    let _ = writeln!(detail, "{}: {}", a.kind, a.summary);
                    for c in &a.calls {
                        let _ = writeln!(
                            detail,
                            "  {} -> {}",
                            ferret_checkers::history::describe::describe_call(c),
                            ferret_checkers::history::describe::describe_result(c)
                        );
                    }
                }
                if let Some(s) = e.and_then(|e| e.shrunk.as_ref()) {
                    for sc in &s.calls {
                        let c = &sc.call;
                        let _ = writeln!(
                            detail,
                            "{} process {} {} {} -> {}{}",
                            c.place(),
                            c.process,
                            c.f,
                            c.invoke_value,
                            if sc.relaxed {
                                "? (relaxed)".to_string()
                            } else {
                                ferret_checkers::history::describe::describe_result(c)
                            },
                            if s.first.as_ref() == Some(c) {
                                "   <- first that cannot fit"
                            } else {
                                ""
                            }
                        );
                    }
                }
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{}\" type=\"invalid\">{}</failure>\n    </testcase>",
                    text(summary),
                    text(&detail)
                );
            }
            VerdictName::Unknown => {
                let _ = writeln!(
                    x,
                    ">\n      <error message=\"{}\" type=\"unknown\"/>\n    </testcase>",
                    text(k.reason.as_deref().unwrap_or("budget exhausted"))
                );
            }
        }
    }
    x.push_str("  </testsuite>\n");
    (
        tests,
        failures + usize::from(whole_fails),
        errors + usize::from(whole_errs),
    )
}
