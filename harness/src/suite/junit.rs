//! A suite's junit.xml: one test case per entry. A surprise is a failure naming what was expected
//! and what each run gave; an entry whose runs could not run is an error; one the suite never
//! reached is skipped (the suite's exit code already says it stopped).

use super::record::{EntryRecord, SuiteRecord};
use crate::report::junit::text;
use std::fmt::Write as _;

fn runs(e: &EntryRecord) -> String {
    let mut s = String::new();
    for r in &e.runs {
        let _ = writeln!(
            s,
            "seed {}: {} ({:.0} s){}, log {}",
            r.seed,
            r.got.describe(),
            r.elapsed_s,
            r.dir
                .as_ref()
                .map(|d| format!(", run {d}"))
                .unwrap_or_default(),
            r.log,
        );
        if let Some(err) = &r.error {
            let _ = writeln!(s, "  {}", err.replace('\n', "\n  "));
        }
    }
    s
}

pub fn render(r: &SuiteRecord) -> String {
    let mut body = String::new();
    let (mut failures, mut errors, mut skipped) = (0, 0, 0);
    for e in &r.entries {
        let time: f64 = e.runs.iter().map(|r| r.elapsed_s).sum();
        let _ = writeln!(
            body,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\">",
            text(&r.name),
            text(&e.name)
        );
        match &e.judgement {
            Some(j) if j.as_expected => {}
            Some(j) => {
                let got: Vec<String> = e.runs.iter().map(|r| r.got.describe()).collect();
                let could_not = e.runs.iter().all(|r| r.got.verdict.is_none());
                let tag = if could_not { "error" } else { "failure" };
                if could_not {
                    errors += 1;
                } else {
                    failures += 1;
                }
                let _ = writeln!(
                    body,
                    "      <{tag} message=\"{}: expected {}, got {}\">{}{}</{tag}>",
                    text(&e.name),
                    text(&e.expect),
                    text(&got.join(", ")),
                    text(&j.why.clone().unwrap_or_default()),
                    text(&format!("\n{}", runs(e)))
                );
            }
            None => {
                skipped += 1;
                let _ = writeln!(
                    body,
                    "      <skipped message=\"not run: {}\"/>",
                    text(r.stopped.as_deref().unwrap_or("the suite stopped"))
                );
            }
        }
        let _ = writeln!(
            body,
            "      <system-out>{}</system-out>\n    </testcase>",
            text(&format!(
                "expected: {}\n{}{}",
                e.expect,
                e.upstream
                    .as_ref()
                    .map(|u| format!("upstream: {u}\n"))
                    .unwrap_or_default(),
                runs(e)
            ))
        );
    }
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"ferret suite\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{t:.3}\">\n  \
         <testsuite name=\"{name}\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{t:.3}\">",
        n = r.entries.len(),
        t = r.elapsed_s,
        name = text(&r.name),
    );
    x.push_str(&body);
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
