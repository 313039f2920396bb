//! Every history in shared/data/porcupine gets the verdict its expected.tsv gives.

mod common;

use ferret_checkers::{check, read_file, CheckOptions, FailedCas, ModelName, VerdictName};

#[test]
fn every_porcupine_history_gets_its_expected_verdict() {
    let dir = common::data_dir().join("porcupine");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut checked = 0;
    for line in expected.lines().skip(1) {
        let (file, want) = line
            .split_once('\t')
            .expect("expected.tsv: file<TAB>verdict");
        let (history, _) = read_file(&dir.join(file), None).unwrap();
        // Porcupine's own convention for its etcd logs: `:fail :cas` is a compare that failed.
        let (model, failed_cas) = if file.starts_with("kv/") {
            (ModelName::StringKv, FailedCas::Drop)
        } else {
            (ModelName::CasRegister, FailedCas::Observe)
        };
        let opts = CheckOptions {
            model: Some(model),
            failed_cas,
            ..CheckOptions::default()
        };
        let report = check(&history, &opts).unwrap();
        let want = if want == "true" {
            VerdictName::Valid
        } else {
            VerdictName::Invalid
        };
        assert_eq!(report.verdict, want, "{file}");
        // Every key decided: an invalid history's other keys must not be left unknown.
        for k in &report.keys {
            assert_ne!(k.verdict, VerdictName::Unknown, "{file} key {}", k.key);
            if k.verdict == VerdictName::Invalid {
                let e = k.explanation.as_ref().expect("invalid key explained");
                let shrunk = e.shrunk.as_ref().expect("shrunk counterexample");
                assert!(!shrunk.calls.is_empty() && shrunk.calls.len() <= k.calls);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 108, "expected.tsv rows");
}

#[test]
fn kv_c50_bad_every_key_is_decided_invalid() {
    let dir = common::data_dir().join("porcupine/kv");
    let (history, _) = read_file(&dir.join("c50-bad.txt"), None).unwrap();
    let report = check(&history, &CheckOptions::default()).unwrap();
    assert_eq!(report.model, "string-kv");
    assert_eq!(report.keys.len(), 10);
    assert!(report
        .keys
        .iter()
        .all(|k| k.verdict == VerdictName::Invalid));
}
