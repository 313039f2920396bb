//! `ferret compare`: two runs side by side, exit 1 when their verdicts differ.

mod common;

use common::{ferret, repo};

/// A folder like a run's: results.json from `ferret check --json`, and the history.
fn run_like(dir: &std::path::Path, example: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let history = repo().join("examples").join(example);
    std::fs::copy(&history, dir.join("history.jsonl")).unwrap();
    let out = ferret()
        .args(["check", "--json"])
        .arg(dir.join("results.json"))
        .arg(&history)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
}

#[test]
fn two_runs_side_by_side_and_the_exit_says_whether_verdicts_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_like(&a, "register-valid.jsonl");
    run_like(&b, "register-stale-read.jsonl");
    let out = ferret().arg("compare").arg(&a).arg(&b).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let verdict = text
        .lines()
        .find(|l| l.trim_start().starts_with("verdict"))
        .unwrap();
    assert!(
        verdict.contains("valid") && verdict.contains("invalid") && verdict.ends_with('*'),
        "{text}"
    );
    assert!(text.contains("read ok/fail/unknown"), "{text}");
    let out = ferret().arg("compare").arg(&a).arg(&a).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = ferret()
        .arg("compare")
        .arg(&a)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not")
            || String::from_utf8_lossy(&out.stderr).contains("a run's folder")
    );
}
