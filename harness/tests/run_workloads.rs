//! The lease, lock and watch workloads against real etcd in network namespaces: the client's
//! lease, lock and watch-stream calls work end to end, a calm run is valid, and the lease
//! positive control is caught.
//! Needs root, etcd and nft: without them these tests fail, loudly, rather than skip.

mod common;

use common::{events, require, results, run_to_end, ETCD_TOOLS as TOOLS};
use std::sync::Mutex;

/// Runs share the machine's CPU: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn calm_lease_and_lock_runs_are_valid_and_do_real_work() {
    require(&TOOLS);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    for (config, name) in [
        ("configs/etcd-lease.yaml", "etcd-lease"),
        ("configs/etcd-lock.yaml", "etcd-lock"),
    ] {
        run_to_end(
            &[
                config,
                "--time-limit",
                "10",
                "--nemesis",
                "none",
                "--seed",
                "3",
            ],
            store.path(),
            &[0],
        );
        let h = events(&store.path().join(name).join("latest/history.jsonl"));
        let ok = |f: &str| {
            h.iter()
                .filter(|e| e["type"] == "ok" && e["f"] == f)
                .count()
        };
        if name == "etcd-lease" {
            // Leases granted, keys attached and renewed, some revoked, keys read back present.
            assert!(
                ok("grant") >= 10 && ok("put") >= 10,
                "grants {}",
                ok("grant")
            );
            assert!(ok("keepalive") >= 50 && ok("revoke") >= 1);
            let present = h
                .iter()
                .filter(|e| e["type"] == "ok" && e["f"] == "read" && !e["value"].is_null())
                .count();
            assert!(present >= 20, "{present} reads found their key");
            // A renewal's reply carries the TTL etcd granted.
            assert!(h
                .iter()
                .any(|e| e["type"] == "ok" && e["f"] == "keepalive" && e["value"] == 3));
        } else {
            // Sections ran in turn; the final read holds every acknowledged element.
            assert!(
                ok("acquire") >= 5 && ok("release") >= 5,
                "{}",
                ok("acquire")
            );
            let last = h
                .iter()
                .rev()
                .find(|e| e["type"] == "ok" && e["f"] == "read")
                .expect("a final read");
            let set = last["value"]
                .as_array()
                .expect("the set, as a list")
                .clone();
            assert_eq!(set.len(), ok("add"), "{last}");
            // Each acquire reports the lock's key and its lease.
            let a = h
                .iter()
                .find(|e| e["type"] == "ok" && e["f"] == "acquire")
                .unwrap();
            assert!(a["value"][0].as_str().unwrap().starts_with("lock/"), "{a}");
        }
        let r = results(store.path(), name);
        assert_eq!(r["verdict"], "valid", "{r}");
    }
}

#[test]
fn leader_clock_bump_expires_leases_early_and_is_caught() {
    require(&TOOLS);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    // One bump of the leader's clocks, 10 s forward, 4 s in.
    let stdout = run_to_end(
        &[
            "configs/etcd-lease-clock.yaml",
            "--time-limit",
            "12",
            "--seed",
            "5",
            "--nemesis",
            "clock-bump",
        ],
        store.path(),
        &[1],
    );
    assert!(stdout.contains("premature-expiry"), "{stdout}");
    let r = results(store.path(), "etcd-lease-clock");
    let bad = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["verdict"] == "invalid")
        .expect("an invalid key");
    let a = &bad["anomalies"][0];
    assert_eq!(a["kind"], "premature-expiry");
    // It names the key and the renewal that proves the lease was alive.
    assert!(
        a["summary"]
            .as_str()
            .unwrap()
            .contains(bad["key"].as_str().unwrap()),
        "{a}"
    );
    assert!(
        a["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["f"] == "grant" || c["f"] == "keepalive"),
        "{a}"
    );
    // And the nemesis did bump a clock before the first anomaly.
    let h = events(&store.path().join("etcd-lease-clock/latest/history.jsonl"));
    assert!(h
        .iter()
        .any(|e| e["process"] == "nemesis" && e["f"] == "clock-bump"));
}

#[test]
fn calm_watch_run_sees_every_change_in_order() {
    require(&TOOLS);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    run_to_end(
        &[
            "configs/etcd-watch.yaml",
            "--time-limit",
            "30",
            "--nemesis",
            "none",
            "--seed",
            "4",
        ],
        store.path(),
        &[0],
    );
    let h = events(&store.path().join("etcd-watch/latest/history.jsonl"));
    let watches: Vec<&serde_json::Value> = h
        .iter()
        .filter(|e| e["type"] == "ok" && e["f"] == "watch")
        .collect();
    let delivered: usize = watches
        .iter()
        .map(|w| w["value"][0].as_array().unwrap().len())
        .sum();
    assert!(delivered > 1000, "{delivered} events delivered");
    // Streams were resumed from a later revision, and one watcher's events rise strictly.
    let resumed = h
        .iter()
        .filter(|e| e["type"] == "invoke" && e["f"] == "watch")
        .filter(|e| e["value"][0].as_i64().unwrap() > 1)
        .count();
    assert!(resumed >= 10, "{resumed} resumed watches");
    let revs: Vec<i64> = watches
        .iter()
        .filter(|w| w["process"] == 0)
        .flat_map(|w| w["value"][0].as_array().unwrap().clone())
        .map(|e| e[0].as_i64().unwrap())
        .collect();
    assert!(revs.windows(2).all(|w| w[0] < w[1]) && revs.len() > 300);
    let r = results(store.path(), "etcd-watch");
    assert_eq!(r["verdict"], "valid", "{r}");
}
