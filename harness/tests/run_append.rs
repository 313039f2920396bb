//! Transactions on real etcd in network namespaces: the append workload's two-Txn commit keeps
//! list-append transactions strictly serializable under partitions, kills and pauses, and
//! serializable read-only transactions are caught as real-time cycles naming their transactions.
//! Needs root, etcd and nft: without them these tests fail, loudly, rather than skip.

mod common;

use common::{events, require, results, run_to_end, ETCD_TOOLS as TOOLS};
use std::sync::Mutex;

/// Runs share the machine's CPU: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn append_transactions_under_faults_are_strictly_serializable() {
    require(&TOOLS);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    run_to_end(
        &[
            "configs/etcd-append.yaml",
            "--time-limit",
            "30",
            "--seed",
            "5",
        ],
        store.path(),
        &[0],
    );
    let h = events(&store.path().join("etcd-append/latest/history.jsonl"));
    let ok: Vec<&serde_json::Value> = h
        .iter()
        .filter(|e| e["type"] == "ok" && e["f"] == "txn")
        .collect();
    assert!(ok.len() > 1000, "{} committed transactions", ok.len());
    // Real multi-key work: transactions that appended to one key and read another, and reads
    // that saw lists several appends long.
    let multi = ok
        .iter()
        .filter(|e| {
            let m = e["value"].as_array().unwrap();
            m.iter().any(|x| x[0] == "append") && m.iter().any(|x| x[0] == "r")
        })
        .count();
    assert!(multi > 100, "{multi} transactions both appended and read");
    assert!(ok.iter().any(|e| e["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x[0] == "r" && x[2].as_array().is_some_and(|l| l.len() >= 5))));
    // A failed compare is a definite fail, and faults did happen.
    assert!(h.iter().any(|e| e["type"] == "fail" && e["f"] == "txn"));
    assert!(h.iter().any(|e| e["process"] == "nemesis"));
    let r = results(store.path(), "etcd-append");
    assert_eq!(r["verdict"], "valid");
    assert_eq!(r["model"], "list-append");
    assert_eq!(r["keys"][0]["method"], "dependency-graph");
}

#[test]
fn serializable_read_only_transactions_are_caught_with_their_cycle() {
    require(&TOOLS);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    run_to_end(
        &[
            "configs/etcd-append-serializable.yaml",
            "--time-limit",
            "60",
            "--seed",
            "7",
        ],
        store.path(),
        &[1],
    );
    let r = results(store.path(), "etcd-append-serializable");
    assert_eq!(r["verdict"], "invalid");
    let k = &r["keys"][0];
    assert!(
        k["reason"]
            .as_str()
            .unwrap()
            .contains("strict-serializable forbids"),
        "{}",
        k["reason"]
    );
    // Each anomaly is a real-time (or process) cycle, stepped through with the transactions
    // that form it, each named by its line.
    let anomalies = k["anomalies"].as_array().unwrap();
    assert!(!anomalies.is_empty());
    for a in anomalies {
        let kind = a["kind"].as_str().unwrap();
        assert!(
            kind.ends_with("-realtime") || kind.ends_with("-process"),
            "{kind}: a stale read-only transaction makes only real-time cycles"
        );
        let steps = a["steps"].as_array().unwrap();
        assert_eq!(steps.len(), a["calls"].as_array().unwrap().len());
        assert!(steps.iter().any(|s| s["kind"] == "rw"), "{a}");
        assert!(a["summary"].as_str().unwrap().contains("(line "), "{a}");
    }
    // Under plain serializability the same history holds: only real time was broken.
    let history = store
        .path()
        .join("etcd-append-serializable/latest/history.jsonl");
    let out = common::ferret()
        .args(["check", "--consistency", "serializable"])
        .arg(&history)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The report draws each cycle.
    let page = std::fs::read_to_string(
        store
            .path()
            .join("etcd-append-serializable/latest/report.html"),
    )
    .unwrap();
    assert!(page.contains("<svg class=\"cycle\""));
}
