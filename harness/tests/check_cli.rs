//! `ferret check` as a user runs it: verdicts, exit codes, messages and the JSON result.

use assert_cmd::Command;
use std::path::PathBuf;

fn ferret() -> Command {
    Command::cargo_bin("ferret").unwrap()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("FERRET_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    assert!(
        dir.join("porcupine/expected.tsv").is_file(),
        "test data not found at {} (set FERRET_DATA)",
        dir.display()
    );
    dir
}

#[test]
fn every_porcupine_file_gets_its_expected_exit_code() {
    let dir = data_dir().join("porcupine");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut n = 0;
    for line in expected.lines().skip(1) {
        let (file, want) = line.split_once('\t').unwrap();
        let code = if want == "true" { 0 } else { 1 };
        let out = ferret()
            .args(["check", "--shrink-steps", "100000"])
            .arg(dir.join(file))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        n += 1;
    }
    assert_eq!(n, 108);
}

#[test]
fn examples_give_their_verdicts() {
    let ex = repo().join("examples");
    ferret()
        .arg("check")
        .arg(ex.join("register-valid.jsonl"))
        .assert()
        .code(0);
    ferret()
        .arg("check")
        .arg(ex.join("jepsen-independent.edn"))
        .assert()
        .code(0);
    let out = ferret()
        .arg("check")
        .arg(ex.join("register-stale-read.jsonl"))
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("\"k1\"") && stdout.contains("invalid"),
        "{stdout}"
    );
    let out = ferret()
        .arg("check")
        .arg(ex.join("set-lost-add.edn"))
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("model set")
            && stdout.contains("unique-values")
            && stdout.contains("add 2 by process 2 (line 4) completed before read by process 2 (line 11) began, yet the read misses 2"),
        "{stdout}"
    );
}

#[test]
fn json_result_has_per_key_verdicts_and_explanations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    ferret()
        .arg("check")
        .arg(repo().join("examples/register-stale-read.jsonl"))
        .arg("--json")
        .arg(&out)
        .assert()
        .code(1);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["verdict"], "invalid");
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let k1 = keys.iter().find(|k| k["key"] == "k1").unwrap();
    assert_eq!(k1["verdict"], "invalid");
    let e = &k1["explanation"];
    assert_eq!(e["stuck"]["f"], "read");
    assert_eq!(e["stuck"]["value"], 1);
    // Written values are unique: the polynomial check decided it, and says so.
    assert_eq!(k1["method"], "unique-values");
    assert!(e["summary"]
        .as_str()
        .unwrap()
        .contains("so 2 was current before 1"));
    assert_eq!(e["shrunk"]["calls"].as_array().unwrap().len(), 3);
    let k2 = keys.iter().find(|k| k["key"] == "k2").unwrap();
    assert_eq!(k2["verdict"], "valid");
}

#[test]
fn malformed_input_exits_3_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":[1,}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n",
    )
    .unwrap();
    let out = ferret().arg("check").arg(&bad).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("bad.jsonl:2:"), "{err}");

    let edn = tmp.path().join("bad.edn");
    std::fs::write(
        &edn,
        "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :okay :f :read}]\n",
    )
    .unwrap();
    let out = ferret().arg("check").arg(&edn).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("bad.edn:2:2") && err.contains("okay"), "{err}");

    // A completion with no invocation is an error, not a guess.
    let orphan = tmp.path().join("orphan.jsonl");
    std::fs::write(
        &orphan,
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":1}\n",
    )
    .unwrap();
    let out = ferret().arg("check").arg(&orphan).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("orphan.jsonl:1:") && err.contains("no open invocation"),
        "{err}"
    );
}

#[test]
fn truncated_last_line_is_reported_and_the_rest_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cut.jsonl");
    let mut text = std::fs::read_to_string(repo().join("examples/register-valid.jsonl")).unwrap();
    text.push_str("{\"index\":16,\"process\":5,\"type\":\"inv");
    std::fs::write(&f, text).unwrap();
    let out = ferret().arg("check").arg(&f).assert().code(0);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("cut.jsonl:17") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_3_not_unknown() {
    ferret().args(["check"]).assert().code(3);
    ferret()
        .args(["check", "x", "--model", "btree"])
        .assert()
        .code(3);
    ferret()
        .args(["check", "/nonexistent/history.jsonl"])
        .assert()
        .code(3);
    ferret().args(["check", "--help"]).assert().code(0);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("h.jsonl");
    std::fs::copy(repo().join("examples/register-valid.jsonl"), &f).unwrap();
    let out = ferret()
        .arg("check")
        .arg(&f)
        .args(["--model", "btree"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("unknown model") && err.contains("cas-register"),
        "{err}"
    );
}

/// 40 concurrent writes (process p writes `value(p)`), then reads of 0 and of 1 after all of them
/// completed: the reads cannot both see their value last. Checked with a 0.2 s budget per key.
fn check_hard_history(value: impl Fn(u32) -> u32) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("hard.jsonl");
    let mut lines = Vec::new();
    for kind in ["invoke", "ok"] {
        for p in 0..40 {
            lines.push(format!(
                "{{\"process\":{p},\"type\":\"{kind}\",\"f\":\"write\",\"value\":{}}}",
                value(p)
            ));
        }
    }
    for v in [0, 1] {
        lines
            .push("{\"process\":99,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}".to_string());
        lines.push(format!(
            "{{\"process\":99,\"type\":\"ok\",\"f\":\"read\",\"value\":{v}}}"
        ));
    }
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let out = ferret()
        .arg("check")
        .arg(&f)
        .args(["--time-limit", "0.2"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn budget_exhaustion_exits_2() {
    // Each value is written twice, so the unique-value check does not apply and the search must
    // exhaust the orders of the writes.
    let (code, stdout) = check_hard_history(|p| p % 20);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.contains("unknown") && stdout.contains("time budget"),
        "{stdout}"
    );
}

#[test]
fn the_same_history_with_unique_values_is_decided_at_once() {
    // With distinct values the search still cannot finish in 0.2 s (above); the unique-value
    // check proves it invalid.
    let (code, stdout) = check_hard_history(|p| p);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("invalid") && stdout.contains("unique-values"),
        "{stdout}"
    );
    // The contradiction names the two reads: 0 read before 1, then 0 never current again.
    assert!(stdout.contains("so 1 was current before 0"), "{stdout}");
}

/// junit.xml: a test case for the history and one per key; invalid keys fail with their
/// explanation; hostile text from a history stays text (well-formed XML, nothing injected).
#[test]
fn junit_xml_has_a_case_per_key_and_survives_hostile_values() {
    use quick_xml::events::Event;
    let tmp = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>\"><img onerror=x>\u{202e}\u{1b}[31m";
    let text: String = [
        serde_json::json!({"process":0,"type":"invoke","f":"write","key":hostile,"value":hostile}),
        serde_json::json!({"process":0,"type":"ok","f":"write","key":hostile,"value":hostile}),
        serde_json::json!({"process":0,"type":"invoke","f":"write","key":hostile,"value":"b"}),
        serde_json::json!({"process":0,"type":"ok","f":"write","key":hostile,"value":"b"}),
        serde_json::json!({"process":1,"type":"invoke","f":"read","key":hostile,"value":null}),
        serde_json::json!({"process":1,"type":"ok","f":"read","key":hostile,"value":hostile}),
        serde_json::json!({"process":2,"type":"invoke","f":"write","key":"fine","value":1}),
        serde_json::json!({"process":2,"type":"ok","f":"write","key":"fine","value":1}),
    ]
    .iter()
    .map(|e| format!("{e}\n"))
    .collect();
    let history = tmp.path().join("h.jsonl");
    std::fs::write(&history, text).unwrap();
    let junit = tmp.path().join("junit.xml");
    ferret()
        .arg("check")
        .arg(&history)
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        !xml.contains("<script>") && !xml.contains('\u{1b}'),
        "{xml}"
    );
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut failure_text) = (0, 0, String::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().0 == "testcase" => cases += 1,
            Event::Start(e) if e.name().0 == "failure" => {
                failures += 1;
                for a in e.attributes() {
                    let a = a.unwrap();
                    if a.key.0 == "message" {
                        failure_text.push_str(
                            &a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap(),
                        );
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, 3, "{xml}");
    assert_eq!(failures, 2, "{xml}");
    // The hostile value comes back as the text it was, inside the explanation.
    assert!(
        failure_text.contains("<script>alert(1)</script>"),
        "{failure_text}"
    );
}

/// A set read that misses an acknowledged add, in Jepsen's EDN: named in words, its long value
/// and the many adds it needs (relaxed) abbreviated on the terminal, all of them in the JSON.
#[test]
fn a_long_set_read_is_abbreviated_in_words() {
    let mut edn = String::new();
    let mut t = 0;
    let mut op = |edn: &mut String, ty: &str, f: &str, v: &str, p: u32| {
        t += 1;
        edn.push_str(&format!(
            "{{:type :{ty}, :f :{f}, :value {v}, :process {p}, :time {t}}}\n"
        ));
    };
    for x in 1..=40 {
        op(&mut edn, "invoke", "add", &x.to_string(), 0);
        op(&mut edn, "ok", "add", &x.to_string(), 0);
    }
    // Misses 40, acknowledged before the read began.
    let held: Vec<String> = (1..40).map(|x| x.to_string()).collect();
    op(&mut edn, "invoke", "read", "nil", 1);
    op(
        &mut edn,
        "ok",
        "read",
        &format!("#{{{}}}", held.join(" ")),
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.edn");
    std::fs::write(&path, edn).unwrap();
    let json = dir.path().join("out.json");
    let out = ferret()
        .args(["check", "--model", "set", "--json"])
        .arg(&json)
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("unique-values"), "{text}");
    assert!(
        text.contains("add 40 by process 0 (line 79) completed before read by process 1 (line 81) began, yet the read misses 40"),
        "{text}"
    );
    assert!(text.contains("… 23 more}"), "{text}");
    assert!(text.contains("… and 29 more relaxed calls"), "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let shrunk = &report["keys"][0]["explanation"]["shrunk"]["calls"];
    assert_eq!(shrunk.as_array().map(Vec::len), Some(41), "{report}");
}

#[test]
fn a_reader_that_closes_the_pipe_ends_the_check_quietly_with_the_verdict() {
    use std::io::Read;
    use std::process::{Command as Process, Stdio};
    // 5,000 keys printed with -v: more than a pipe buffer, so the writes meet the closed pipe.
    // One key reads a value nobody wrote: invalid.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many-keys.jsonl");
    let mut text = String::new();
    for k in 0..5000 {
        let read = if k == 4999 { 7 } else { k };
        text.push_str(&format!(
            "{{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k{k}\",\"value\":{k}}}\n\
             {{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k{k}\",\"value\":{k}}}\n\
             {{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k{k}\",\"value\":null}}\n\
             {{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k{k}\",\"value\":{read}}}\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("ferret"))
        .args(["check", "-v"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, as `head -1` would, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    assert!(n > 0, "no output before the pipe closed");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "stderr: {stderr}");
}

#[test]
fn a_jepsen_log_that_starts_with_other_loggers_lines_is_recognised() {
    let log = data_dir().join("porcupine/jepsen/etcd_000.log");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jepsen.log");
    let mut text =
        String::from("INFO  jepsen.core - nemesis :start\nWARN  jepsen.os - some other logger\n");
    text.push_str(&std::fs::read_to_string(&log).unwrap());
    std::fs::write(&file, text).unwrap();
    let out = ferret().arg("check").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("porcupine-etcd format"), "{stdout}");
    // etcd_000 is not linearizable (expected.tsv).
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Only log lines within the prefix read to tell the format: named as such, exit 3.
    let only_logs = dir.path().join("logs-only.log");
    std::fs::write(
        &only_logs,
        "INFO  jepsen.core - nemesis :start\n".repeat(3000),
    )
    .unwrap();
    let out = ferret().arg("check").arg(&only_logs).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("first op line within the first 64 KiB"),
        "{stderr}"
    );
}
