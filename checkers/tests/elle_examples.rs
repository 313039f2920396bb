//! Elle's own examples, with the verdicts and anomaly classes Elle gives them: the G1c of its
//! README, `histories/si-without-g-single.edn`, its G-nonadjacent test, and the list-append
//! example of its paper (Kingsbury & Alvaro, VLDB 2020), which Elle's tests do not judge — there
//! the brute-force search is the reference. The transactions are transcribed from
//! github.com/jepsen-io/elle (EPL-1.0) at ccdee6f; invocations are added where Elle's examples
//! list completions only, and processes where they have none.

use ferret_checkers::format::read_edn_str;
use ferret_checkers::history::pair;
use ferret_checkers::txn::brute::serializable;
use ferret_checkers::txn::Consistency;
use ferret_checkers::{check, CheckOptions, VerdictName};
use std::path::Path;

fn run(edn: &str, c: Consistency) -> (VerdictName, Vec<String>) {
    let h = read_edn_str(Path::new("elle.edn"), edn).expect("reads");
    let r = check(
        &h,
        &CheckOptions {
            consistency: c,
            ..CheckOptions::default()
        },
    )
    .expect("checks");
    assert_eq!(
        r.model, "list-append",
        "the model is inferred from the micro-ops"
    );
    let kinds = r.keys[0].anomalies.iter().map(|a| a.kind.clone()).collect();
    (r.verdict, kinds)
}

/// Each op given as its completion, preceded by its invocation.
fn pairs(ops: &[(i64, &str)]) -> String {
    let mut s = String::new();
    for (p, v) in ops {
        s.push_str(&format!(
            "{{:type :invoke, :f :txn, :process {p}, :value {}}}\n",
            nil_reads(v)
        ));
        s.push_str(&format!(
            "{{:type :ok, :f :txn, :process {p}, :value {v}}}\n"
        ));
    }
    s
}

/// A transaction's request: its reads' results replaced by nil.
fn nil_reads(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("[:r ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        let key_end = after.find(' ').expect("a key");
        out.push_str(&format!("[:r {} nil]", &after[..key_end]));
        let tail = &after[key_end + 1..];
        // Skip the read's value: nil, or a vector.
        let skip = if tail.starts_with("nil") {
            3
        } else {
            tail.find(']').expect("a list") + 1
        };
        rest = &tail[skip + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn readme_g1c() {
    let h = pairs(&[
        (0, "[[:append :x 1] [:r :y [1]]]"),
        (1, "[[:append :x 2] [:append :y 1]]"),
        (2, "[[:r :x [1 2]]]"),
    ]);
    let (v, kinds) = run(&h, Consistency::StrictSerializable);
    assert_eq!(v, VerdictName::Invalid);
    assert!(kinds.contains(&"G1c".to_string()), "{kinds:?}");
}

const SI_WITHOUT_G_SINGLE: &str = "
{:index 10, :time 0, :type :invoke, :process 2, :f :txn, :value [[:append 9 2]]}
{:index 11, :time 0, :type :ok, :process 2, :f :txn, :value [[:append 9 2]]}
{:index 20, :time 0, :type :invoke, :process 4, :f :txn, :value [[:append 8 1] [:r 9 nil]]}
{:index 21, :time 0, :type :ok, :process 4, :f :txn, :value [[:append 8 1] [:r 9 nil]]}
{:index 30, :time 0, :type :invoke, :process 7, :f :txn, :value [[:r 6 nil] [:r 8 nil] [:append 9 5]]}
{:index 31, :time 0, :type :ok, :process 7, :f :txn, :value [[:r 6 nil] [:r 8 nil] [:append 9 5]]}
{:index 40, :time 0, :type :invoke, :process 9, :f :txn, :value [[:append 6 2] [:r 9 nil]]}
{:index 41, :time 0, :type :ok, :process 9, :f :txn, :value [[:append 6 2] [:r 9 [2]]]}
";

/// Elle: anomaly types [:G2-item], not repeatable-read; snapshot isolation holds.
#[test]
fn si_without_g_single() {
    let (v, kinds) = run(SI_WITHOUT_G_SINGLE, Consistency::SnapshotIsolation);
    assert_eq!((v, kinds.len()), (VerdictName::Valid, 0), "{kinds:?}");
    let (v, kinds) = run(SI_WITHOUT_G_SINGLE, Consistency::RepeatableRead);
    assert_eq!(v, VerdictName::Invalid);
    assert_eq!(kinds, ["G2-item"]);
}

/// Elle's G-nonadjacent test: not snapshot isolation, not repeatable read; read committed holds.
#[test]
fn g_nonadjacent() {
    let h = pairs(&[
        (0, "[[:append :x 1]]"),
        (1, "[[:r :x [1]] [:r :y nil]]"),
        (2, "[[:append :y 1]]"),
        (3, "[[:r :y [1]] [:r :x nil]]"),
    ]);
    // Invocations all first, so real time orders nothing.
    let mut lines: Vec<&str> = h.lines().collect();
    lines.sort_by_key(|l| !l.contains(":invoke"));
    let h = lines.join("\n");
    for c in [Consistency::SnapshotIsolation, Consistency::RepeatableRead] {
        let (v, kinds) = run(&h, c);
        assert_eq!(v, VerdictName::Invalid, "{c}");
        assert_eq!(kinds, ["G-nonadjacent"], "{c}");
    }
    assert_eq!(run(&h, Consistency::ReadCommitted).0, VerdictName::Valid);
}

/// The paper's list-append example (histories/paper-example.edn), one process per transaction.
#[test]
fn paper_example() {
    let h = pairs(&[
        (0, "[[:append 253 1] [:append 253 3] [:append 253 4] [:append 255 2] [:append 255 3] [:append 255 4] [:append 255 5] [:append 256 1] [:append 256 2]]"),
        (1, "[[:append 255 8] [:r 253 [1 3 4]]]"),
        (2, "[[:append 256 4] [:r 255 [2 3 4 5 8]] [:r 256 [1 2 4]] [:r 253 [1 3 4]]]"),
        (3, "[[:append 250 10] [:r 253 [1 3 4]] [:r 255 [2 3 4 5]] [:append 256 3]]"),
    ]);
    let history = read_edn_str(Path::new("paper.edn"), &h).expect("reads");
    let (calls, _) = pair(&history).expect("pairs");
    assert!(!serializable(&calls, false), "no serial order explains it");
    let (v, kinds) = run(&h, Consistency::Serializable);
    assert_eq!(v, VerdictName::Invalid);
    // T3 read 255 without T1's 8, yet appended 3 to 256 after T2, which saw the 8.
    assert_eq!(kinds, ["G-single"]);
}
