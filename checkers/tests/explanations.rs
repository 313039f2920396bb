//! An explanation never claims more than was proven: a "first call that cannot fit" is named
//! only when the cut after it was proven invalid and the cut before it proven valid.

use ferret_checkers::format::read_jsonl;
use ferret_checkers::{check, CheckOptions, VerdictName};
use std::path::Path;

fn stale_read() -> ferret_checkers::History {
    let text = r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1}
{"process":0,"type":"ok","f":"write","key":"k","value":1}
{"process":1,"type":"invoke","f":"write","key":"k","value":2}
{"process":1,"type":"ok","f":"write","key":"k","value":2}
{"process":2,"type":"invoke","f":"read","key":"k","value":null}
{"process":2,"type":"ok","f":"read","key":"k","value":1}
{"process":3,"type":"invoke","f":"write","key":"k","value":3}
{"process":3,"type":"ok","f":"write","key":"k","value":3}
"#;
    read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap()
}

#[test]
fn a_proven_first_call_is_named_as_such() {
    let r = check(&stale_read(), &CheckOptions::default()).unwrap();
    assert_eq!(r.verdict, VerdictName::Invalid);
    let e = r.keys[0].explanation.as_ref().unwrap();
    let first = e.shrunk.as_ref().unwrap().first.as_ref().expect("proven");
    assert_eq!((first.f.as_str(), first.line), ("read", 5));
    assert_eq!(e.stuck.line, 5);
    assert!(
        e.summary
            .starts_with("read by process 2 (line 5) returned 1"),
        "{}",
        e.summary
    );
}

#[test]
fn without_the_budget_to_prove_it_no_first_call_is_claimed() {
    let opts = CheckOptions {
        shrink_steps: 1,
        ..CheckOptions::default()
    };
    let r = check(&stale_read(), &opts).unwrap();
    assert_eq!(r.verdict, VerdictName::Invalid);
    let e = r.keys[0].explanation.as_ref().unwrap();
    let shrunk = e.shrunk.as_ref().unwrap();
    assert!(shrunk.first.is_none(), "{:?}", shrunk.first);
    assert!(!shrunk.minimal);
    assert!(
        e.summary.starts_with("no linearization exists"),
        "{}",
        e.summary
    );
    assert!(e.summary.contains("raise --shrink-steps"), "{}", e.summary);
}

/// Shrinking is bounded by search steps, not seconds: the same counterexample on every run, on
/// any number of threads, however busy the machine.
#[test]
fn shrinking_gives_the_same_counterexample_every_time() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/porcupine/jepsen");
    // etcd_099 spends its whole shrink budget; etcd_001 shrinks to a minimal core.
    for log in ["etcd_099.log", "etcd_001.log"] {
        let (h, _) = ferret_checkers::read_file(&data.join(log), None).expect("shared data");
        let explained = |threads: usize| {
            let opts = CheckOptions {
                model: Some(ferret_checkers::ModelName::CasRegister),
                failed_cas: ferret_checkers::FailedCas::Observe,
                threads,
                ..CheckOptions::default()
            };
            let r = check(&h, &opts).unwrap();
            assert_eq!(r.verdict, VerdictName::Invalid, "{log}");
            serde_json::to_string(&r.keys[0].explanation).unwrap()
        };
        let first = explained(1);
        for threads in [1, 2, 0] {
            assert_eq!(explained(threads), first, "{log} with {threads} threads");
        }
    }
}

/// The state after each step of the prefix is the register's value after that call, replayed:
/// the last one is the state the explanation names.
#[test]
fn the_prefix_is_stepped_through_state_by_state() {
    let r = check(&stale_read(), &CheckOptions::default()).unwrap();
    let e = r.keys[0].explanation.as_ref().unwrap();
    assert_eq!(e.prefix_states.len(), e.prefix_tail.len());
    assert!(!e.prefix_tail.is_empty());
    for (c, states) in e.prefix_tail.iter().zip(&e.prefix_states) {
        // Every call here is a write or a read of a register: one state, the value now held.
        assert_eq!(states.len(), 1, "{c:?}");
        assert_eq!(states[0], c.value, "after {c:?}");
    }
    assert_eq!(e.prefix_states.last().unwrap()[0], e.state);
}

/// results.json can be read back (`ferret report` re-renders from it): the same JSON again,
/// big integers and unknown outcomes included.
#[test]
fn a_report_reads_back_as_it_was_written() {
    let h = ferret_checkers::synth::register_history(&ferret_checkers::synth::SynthOptions {
        calls: 400,
        keys: 3,
        stale_reads: 0.05,
        seed: 11,
        ..Default::default()
    });
    let r = check(&h, &CheckOptions::default()).unwrap();
    assert_eq!(r.verdict, VerdictName::Invalid);
    assert!(r
        .keys
        .iter()
        .any(|k| k.explanation.as_ref().is_some_and(|e| e
            .shrunk
            .as_ref()
            .is_some_and(|s| s.relaxed > 0 || !s.calls.is_empty()))));
    let text = serde_json::to_string_pretty(&r).unwrap();
    let back: ferret_checkers::Report = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    let big = r#"{"verdict":"valid","model":"register","calls":1,"keys":[{"key":123456789012345678901234567890,"verdict":"valid","calls":1,"configurations":0,"memory_bytes":0,"elapsed_s":0.0,"method":"search"}],"warnings":[],"elapsed_s":0.0}"#;
    let back: ferret_checkers::Report = serde_json::from_str(big).unwrap();
    assert_eq!(
        back.keys[0].key.to_string(),
        "123456789012345678901234567890"
    );
}
