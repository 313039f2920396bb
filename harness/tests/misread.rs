//! The checker never passes what it misread: each test starts from a reproducer of a history that
//! once checked valid (exit 0) or crashed, and asserts it is now invalid or an input error (exit 3).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn ferret() -> Command {
    Command::cargo_bin("ferret").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `ferret check` and return (exit code, stdout, stderr).
fn check(file: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = ferret()
        .arg("check")
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited, not killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn jsonl(events: &[&str]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

#[test]
fn compare_failed_cas_is_an_observation_in_ferret_histories() {
    let tmp = tempfile::tempdir().unwrap();
    // The register certainly holds 1 while the cas [1 2] runs, yet its compare "failed".
    let bad = write(
        tmp.path(),
        "bad.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1}"#,
            r#"{"process":0,"type":"ok","f":"write","key":"k","value":1}"#,
            r#"{"process":1,"type":"invoke","f":"cas","key":"k","value":[1,2]}"#,
            r#"{"process":1,"type":"ok","f":"cas","key":"k","value":false}"#,
        ]),
    );
    let (code, out, _) = check(&bad, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("compare failed"), "{out}");
    // The same compare failing when the register holds 3 is fine.
    let good = write(
        tmp.path(),
        "good.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","key":"k","value":3}"#,
            r#"{"process":0,"type":"ok","f":"write","key":"k","value":3}"#,
            r#"{"process":1,"type":"invoke","f":"cas","key":"k","value":[1,2]}"#,
            r#"{"process":1,"type":"ok","f":"cas","key":"k","value":false}"#,
            r#"{"process":1,"type":"invoke","f":"read","key":"k","value":null}"#,
            r#"{"process":1,"type":"ok","f":"read","key":"k","value":3}"#,
        ]),
    );
    let (code, out, _) = check(&good, &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn failed_cas_follows_each_tools_convention_and_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    // Porcupine's etcd logs: `:fail :cas` is a compare that failed, and Porcupine checks it.
    let log = write(
        tmp.path(),
        "etcd.log",
        "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
         INFO  jepsen.util - 0\t:ok\t:write\t1\n\
         INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
         INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n",
    );
    assert_eq!(check(&log, &[]).0, 1);
    assert_eq!(check(&log, &["--failed-cas", "drop"]).0, 0);
    // Jepsen's EDN follows Knossos, which drops every :fail.
    let edn = write(
        tmp.path(),
        "h.edn",
        "{:process 0 :type :invoke :f :write :value 1}\n\
         {:process 0 :type :ok :f :write :value 1}\n\
         {:process 1 :type :invoke :f :cas :value [1 2]}\n\
         {:process 1 :type :fail :f :cas :value [1 2]}\n",
    );
    assert_eq!(check(&edn, &[]).0, 0);
    assert_eq!(check(&edn, &["--failed-cas", "observe"]).0, 1);
    let help = ferret().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--failed-cas") && help.contains("Knossos"),
        "{help}"
    );
}

#[test]
fn integers_beyond_64_bits_are_exact() {
    let tmp = tempfile::tempdir().unwrap();
    // A stale read of u64::MAX - 1 after a write of u64::MAX: equal as floats, not as integers.
    let stale = write(
        tmp.path(),
        "big.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","value":18446744073709551614}"#,
            r#"{"process":0,"type":"ok","f":"write","value":18446744073709551614}"#,
            r#"{"process":0,"type":"invoke","f":"write","value":18446744073709551615}"#,
            r#"{"process":0,"type":"ok","f":"write","value":18446744073709551615}"#,
            r#"{"process":1,"type":"invoke","f":"read","value":null}"#,
            r#"{"process":1,"type":"ok","f":"read","value":18446744073709551614}"#,
        ]),
    );
    let (code, out, _) = check(&stale, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("18446744073709551614"), "{out}");
    // Beyond u64 too.
    let huge = write(
        tmp.path(),
        "huge.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","value":100000000000000000000001}"#,
            r#"{"process":0,"type":"ok","f":"write","value":100000000000000000000001}"#,
            r#"{"process":1,"type":"invoke","f":"read","value":null}"#,
            r#"{"process":1,"type":"ok","f":"read","value":100000000000000000000000}"#,
        ]),
    );
    assert_eq!(check(&huge, &[]).0, 1);
    // The same value read back is fine, and written back exactly in the JSON result.
    let same = write(
        tmp.path(),
        "same.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","value":100000000000000000000001}"#,
            r#"{"process":0,"type":"ok","f":"write","value":100000000000000000000001}"#,
            r#"{"process":1,"type":"invoke","f":"read","value":null}"#,
            r#"{"process":1,"type":"ok","f":"read","value":100000000000000000000001}"#,
        ]),
    );
    assert_eq!(check(&same, &[]).0, 0);
    // A float that does not fit 64 bits is an error, not infinity.
    let inf = write(
        tmp.path(),
        "inf.jsonl",
        &jsonl(&[
            r#"{"process":0,"type":"invoke","f":"write","value":1e400}"#,
            r#"{"process":0,"type":"ok","f":"write","value":1e400}"#,
        ]),
    );
    let (code, _, err) = check(&inf, &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("inf.jsonl:1:") && err.contains("64-bit float"),
        "{err}"
    );
    // EDN and Porcupine logs reject such integers with the place, never round them.
    let edn = write(
        tmp.path(),
        "big.edn",
        "{:process 0 :type :invoke :f :write :value 1}\n\
         {:process 0 :type :ok :f :write :value 18446744073709551615}\n",
    );
    let (code, _, err) = check(&edn, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("big.edn:2:"), "{err}");
    let log = write(
        tmp.path(),
        "big.log",
        "INFO  jepsen.util - 0\t:invoke\t:write\t18446744073709551615\n",
    );
    let (code, _, err) = check(&log, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("big.log:1:"), "{err}");
}

/// A Knossos-style invalid history as a top-level vector, one op per line.
fn vector_history() -> String {
    let mut s = String::from("[");
    for i in 0..40 {
        s.push_str(&format!(
            "{{:process 0, :type :invoke, :f :write, :value {i}}}\n {{:process 0, :type :ok, :f :write, :value {i}}}\n "
        ));
    }
    // A read of a value overwritten long ago: invalid.
    s.push_str("{:process 1, :type :invoke, :f :read, :value nil}\n {:process 1, :type :ok, :f :read, :value 3}]\n");
    s
}

#[test]
fn corruption_mid_file_is_an_error_not_a_truncated_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let intact = write(tmp.path(), "intact.edn", &vector_history());
    assert_eq!(check(&intact, &[]).0, 1);
    // One quote added at line 32: the string swallows the rest of the file.
    let mut lines: Vec<String> = vector_history().lines().map(String::from).collect();
    lines[31] = lines[31].replace(":value", ":value \"");
    let damaged = write(tmp.path(), "damaged.edn", &(lines.join("\n") + "\n"));
    let (code, out, err) = check(&damaged, &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("damaged.edn:32:"), "{err}");
    // A missing } mid-file is reported at the op it belongs to, not at the end of the file.
    let mut lines: Vec<String> = vector_history().lines().map(String::from).collect();
    lines[9] = lines[9].trim_end_matches('}').to_string();
    let unclosed = write(tmp.path(), "unclosed.edn", &(lines.join("\n") + "\n"));
    let (code, _, err) = check(&unclosed, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("unclosed.edn:10:"), "{err}");
    // A truncated last line with no newline is still a warning, and the rest is checked.
    let text = vector_history();
    let cut = write(tmp.path(), "cut.edn", &text[..text.len() - 12]);
    let (code, _, err) = check(&cut, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("truncated"), "{err}");
    // But a cut last op followed by a newline is not what a crash leaves: an error.
    let cut_nl = write(
        tmp.path(),
        "cutnl.edn",
        &format!("{}\n", &text[..text.len() - 12]),
    );
    assert_eq!(check(&cut_nl, &[]).0, 3);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = "[".repeat(24_000) + &"]".repeat(24_000);
    let edn = write(
        tmp.path(),
        "deep.edn",
        &format!("{{:process 0 :type :invoke :f :write :value {deep}}}\n"),
    );
    let (code, _, err) = check(&edn, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("deep.edn:1:") && err.contains("nested"),
        "{err}"
    );
    let vector = write(tmp.path(), "deepv.edn", &format!("[{deep}]\n"));
    assert_eq!(check(&vector, &[]).0, 3);
    let log = write(
        tmp.path(),
        "deep.log",
        &format!("INFO  jepsen.util - 0\t:invoke\t:write\t{deep}\n"),
    );
    let (code, _, err) = check(&log, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("nested"), "{err}");
    let json = write(
        tmp.path(),
        "deep.jsonl",
        &format!("{{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":{deep}}}\n"),
    );
    assert_eq!(check(&json, &[]).0, 3);
    let flag = write(
        tmp.path(),
        "one.edn",
        "{:process 0 :type :invoke :f :read}\n",
    );
    assert_eq!(check(&flag, &["--initial", &deep]).0, 3);
}

#[test]
fn empty_and_nemesis_only_files_say_where_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = write(tmp.path(), "empty.jsonl", "");
    let (code, _, err) = check(&empty, &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("empty.jsonl") && err.contains("no operations"),
        "{err}"
    );
    let nemesis = write(
        tmp.path(),
        "nemesis.jsonl",
        &jsonl(&[r#"{"process":"nemesis","type":"info","f":"start-partition","value":null}"#]),
    );
    let (code, _, err) = check(&nemesis, &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("nemesis.jsonl") && err.contains("no client operations"),
        "{err}"
    );
    let unknown = write(
        tmp.path(),
        "odd.jsonl",
        &jsonl(&[r#"{"process":0,"type":"invoke","f":"frobnicate","value":1}"#]),
    );
    let (code, _, err) = check(&unknown, &[]);
    assert_eq!(code, 3);
    assert!(
        err.contains("odd.jsonl:1") && err.contains("frobnicate"),
        "{err}"
    );
}

/// A history where a stale read needs an ok write to contradict, among writes it does not need.
fn stale_read_history() -> String {
    let mut ev = Vec::new();
    // Concurrent writes 10..19 by processes 10..19, all overlapping.
    for p in 10..20 {
        ev.push(format!(
            r#"{{"process":{p},"type":"invoke","f":"write","key":"k","value":{p}}}"#
        ));
    }
    for p in 10..20 {
        ev.push(format!(
            r#"{{"process":{p},"type":"ok","f":"write","key":"k","value":{p}}}"#
        ));
    }
    ev.push(r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1}"#.into());
    ev.push(r#"{"process":0,"type":"ok","f":"write","key":"k","value":1}"#.into());
    ev.push(r#"{"process":1,"type":"invoke","f":"read","key":"k","value":null}"#.into());
    ev.push(r#"{"process":1,"type":"ok","f":"read","key":"k","value":12}"#.into());
    ev.iter().map(|e| format!("{e}\n")).collect()
}

#[test]
fn one_explanation_everywhere_and_every_kept_call_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let h = write(tmp.path(), "stale.jsonl", &stale_read_history());
    let json = tmp.path().join("r.json");
    let out = ferret()
        .arg("check")
        .arg(&h)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let e = &r["keys"][0]["explanation"];
    let stuck_line = e["stuck"]["line"].as_u64().unwrap();
    // The summary names the same call as results.json's `stuck`, and so does the shrunk history.
    let summary = e["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("read by process 1 (line {stuck_line})")),
        "{summary}"
    );
    assert_eq!(e["shrunk"]["first"]["line"], e["stuck"]["line"]);
    assert!(stdout.contains(summary), "{stdout}");
    // The shrunk history lists the write of 1 that the contradiction needs, the read, and the
    // write of 12 it read; any relaxed calls are listed and marked, and the count matches.
    let calls = e["shrunk"]["calls"].as_array().unwrap();
    let lines: Vec<u64> = calls.iter().map(|c| c["line"].as_u64().unwrap()).collect();
    assert!(lines.contains(&21) && lines.contains(&23), "{lines:?}");
    let relaxed = calls.iter().filter(|c| c["relaxed"] == true).count();
    assert_eq!(relaxed as u64, e["shrunk"]["relaxed"].as_u64().unwrap());
    for c in calls {
        assert!(c["relaxed"].is_boolean(), "{c}");
    }
    assert!(
        stdout.contains(&format!("shrunk to {} calls", calls.len())),
        "{stdout}"
    );
}
