//! Degraded networks and membership changes on real etcd in network namespaces: delay, loss,
//! bandwidth, one-way and flapping partitions, each proved by the probes; a delay whose holder
//! dies made the run unknown; members removed, added back and replaced, read back. Needs root,
//! etcd, nft, iptables and tc: without them these tests fail, loudly.

mod common;

use common::{events, ferret, local_leftovers, require, run_to_end};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Runs share the machine's CPU: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn require_environment() {
    require(&[
        ("etcd", "etcd-server"),
        ("etcdctl", "etcd-client"),
        ("nft", "nftables"),
        ("iptables-nft-restore", "iptables"),
        ("tc", "iproute2"),
        ("ip", "iproute2"),
    ]);
}

/// configs/etcd-slow-network.yaml with shorter faults and only `faults`, in `dir`.
fn config(dir: &Path, faults: &[&str], duration: u32) -> PathBuf {
    let text =
        std::fs::read_to_string(common::repo().join("configs/etcd-slow-network.yaml")).unwrap();
    let start = text.find("  faults:\n").unwrap();
    let end = text[start..].find("  interval:").unwrap() + start;
    let list: String = faults.iter().map(|f| format!("    - {f}\n")).collect();
    let text = format!("{}  faults:\n{list}{}", &text[..start], &text[end..])
        .replace("interval: 2 ", "interval: 1 ")
        .replace("duration: 5 ", &format!("duration: {duration} "))
        .replace("delay_ms: [50, 500]", "delay_ms: [50, 200]");
    let path = dir.join("net.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_network_fault_takes_effect_measurably_and_the_run_is_valid() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let kinds = [
        "network-delay",
        "network-loss",
        "network-slow",
        "network-bandwidth",
        "partition-one-way",
        "partition-flapping",
    ];
    let cfg = config(dir.path(), &kinds, 3);
    let out = run_to_end(
        &[cfg.to_str().unwrap(), "--nodes", "3", "--time-limit", "50"],
        &dir.path().join("store"),
        &[0],
    );
    let run = dir.path().join("store/etcd-slow-network/latest");
    let log = events(&run.join("nemesis.jsonl"));
    let mut seen = std::collections::BTreeSet::new();
    for l in &log {
        assert_eq!(
            l["took_effect"], true,
            "every apply and heal took effect: {l}"
        );
        let Some(kind) = l["start"].as_str() else {
            continue;
        };
        seen.insert(kind.to_string());
        let f = &l["fault"];
        if let Some(d) = f["delay_ms"].as_u64() {
            let rtt = l["probe"]["rtt_ms"]
                .as_f64()
                .expect("a round trip measured");
            assert!(
                rtt >= d as f64,
                "round trip {rtt} ms under the delay {d} ms: {l}"
            );
        }
        if f["loss_pct"].as_u64().is_some() {
            let lost = l["probe"]["loss_pct"].as_f64().expect("loss measured");
            assert!(lost > 0.0, "{l}");
        }
        if kind == "partition-one-way" {
            let heard = l["probe"]["heard"].as_object().unwrap();
            let cut = heard.values().filter(|v| *v == 0).count();
            assert_eq!(cut, 2, "one node's two links cut one way: {l}");
        }
    }
    for k in kinds {
        assert!(
            seen.contains(k),
            "{k} never applied in 50 s: {seen:?}\n{out}"
        );
    }
    // The holders held packets and let every one go at the heal.
    for l in log.iter().filter(|l| {
        l["heal"]
            .as_str()
            .is_some_and(|h| h == "network-delay" || h == "network-slow")
    }) {
        let held = l["evidence"]["held"].as_object().expect("held per node");
        assert!(held.values().all(|h| h["queued"].as_u64() > Some(0)), "{l}");
    }
    for e in std::fs::read_dir(&run).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("netdelay-")
        {
            let said = std::fs::read_to_string(&p).unwrap();
            let stopped = said
                .lines()
                .find(|l| l.starts_with("stopped:"))
                .unwrap_or("");
            let n: Vec<u64> = stopped
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            assert!(
                n.len() == 3 && n[0] == n[1] && n[0] > 0,
                "{}: {said}",
                p.display()
            );
        }
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(
        results["took_effect"]["all"], true,
        "{}",
        results["took_effect"]
    );
    assert!(results["took_effect"]["probed"].as_u64() >= Some(2 * kinds.len() as u64));
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        page.contains("ms round trip"),
        "the report says what was measured"
    );
    assert!(local_leftovers().is_empty(), "{:?}", local_leftovers());
}

/// A process whose parent chain reaches `ancestor`, with `word` in its command line.
fn descendant_with(ancestor: u32, word: &str) -> Option<u32> {
    for e in std::fs::read_dir("/proc").ok()? {
        let Some(pid) = e
            .ok()?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains(word) {
            continue;
        }
        let mut p = pid;
        for _ in 0..10 {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|at| {
                    stat[at + 1..]
                        .split_whitespace()
                        .nth(1)?
                        .parse::<u32>()
                        .ok()
                })
                .unwrap_or(0);
            if ppid == ancestor {
                return Some(pid);
            }
            if ppid <= 1 {
                break;
            }
            p = ppid;
        }
    }
    None
}

#[test]
fn a_delay_whose_holder_dies_does_not_take_effect_and_the_run_is_unknown() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["network-delay"], 4);
    let child = ferret()
        .arg("run")
        .arg(&cfg)
        .args(["--nodes", "3", "--time-limit", "12", "--store"])
        .arg(dir.path().join("store"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let store = dir.path().join("store/etcd-slow-network");
    // Once it holds its queue (its log says so), before the probe's pings go out (300 ms on).
    let holding = || -> bool {
        let Ok(runs) = std::fs::read_dir(&store) else {
            return false;
        };
        runs.flatten().any(|r| {
            std::fs::read_dir(r.path()).is_ok_and(|files| {
                files.flatten().any(|f| {
                    f.file_name().to_string_lossy().starts_with("netdelay-")
                        && std::fs::read_to_string(f.path())
                            .is_ok_and(|t| t.contains("holding queue"))
                })
            })
        })
    };
    while !holding() {
        assert!(Instant::now() < deadline, "no packet holder started");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    let holder = descendant_with(child.id(), "netdelay").expect("the holder's process");
    // SAFETY: a process this test's child started, found by its parent chain.
    unsafe { libc::kill(holder as i32, libc::SIGKILL) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "unknown, not valid: {stderr}");
    assert!(
        stderr.contains("the network-delay apply did not take effect"),
        "{stderr}"
    );
    let run = dir.path().join("store/etcd-slow-network/latest");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["verdict"], "unknown");
    assert_eq!(results["took_effect"]["all"], false);
    let not = results["took_effect"]["not"].to_string();
    assert!(not.contains("network-delay"), "{not}");
    assert!(local_leftovers().is_empty(), "{:?}", local_leftovers());
}

/// Each completed client op: the node it went through (its invoke's), its type, and when.
fn ops_by_node(history: &Path) -> Vec<(String, String, f64)> {
    let mut node_of = std::collections::HashMap::new();
    let mut ops = Vec::new();
    for e in events(history) {
        let Some(p) = e["process"].as_i64() else {
            continue;
        };
        if e["type"] == "invoke" {
            node_of.insert(p, e["node"].as_str().unwrap_or("").to_string());
        } else if let (Some(n), Some(t)) = (node_of.get(&p), e["time"].as_f64()) {
            ops.push((
                n.clone(),
                e["type"].as_str().unwrap_or("").to_string(),
                t / 1e9,
            ));
        }
    }
    ops
}

#[test]
fn etcd_membership_changes_are_read_back_and_the_run_is_valid() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    // A seed whose schedule removes and adds within the run (faults are drawn at random: an
    // unseeded run may see only removals and kills).
    run_to_end(
        &[
            "configs/etcd-membership.yaml",
            "--time-limit",
            "45",
            "--seed",
            "1",
        ],
        &dir.path().join("store"),
        &[0],
    );
    let run = dir.path().join("store/etcd-membership/latest");
    let log = events(&run.join("nemesis.jsonl"));
    let mut removed = Vec::new();
    let mut added = 0;
    for l in &log {
        assert_eq!(l["took_effect"], true, "{l}");
        if !l["start"]
            .as_str()
            .is_some_and(|k| k.starts_with("member-"))
        {
            continue;
        }
        // The member list read back is the membership the nemesis made.
        assert_eq!(l["probe"]["listed"], l["probe"]["expected"], "{l}");
        let change = l["fault"]["change"].as_str().unwrap();
        let node = l["fault"]["node"].as_str().unwrap().to_string();
        match change {
            "remove" => removed.push((node, l["at_s"].as_f64().unwrap())),
            "add" | "replace" => added += 1,
            other => panic!("unknown change {other}: {l}"),
        }
    }
    assert!(
        !removed.is_empty() && added > 0,
        "no remove or add in 45 s: {log:?}"
    );
    // A removed member's clients fail honestly: no op through it succeeds while it is out
    // (from a second after its removal until a change adds a node back).
    let history = ops_by_node(&run.join("history.jsonl"));
    let adds: Vec<f64> = log
        .iter()
        .filter(|l| l["fault"]["change"] == "add" || l["fault"]["change"] == "replace")
        .filter_map(|l| l["at_s"].as_f64())
        .collect();
    for (node, at) in &removed {
        let back = adds.iter().copied().find(|a| a > at).unwrap_or(f64::MAX);
        let ok_while_out: Vec<_> = history
            .iter()
            .filter(|(n, t, s)| n == node && t == "ok" && *s > at + 1.0 && *s < back - 1.0)
            .collect();
        assert!(
            ok_while_out.is_empty(),
            "{node} out at {at}: {ok_while_out:?}"
        );
        let failed = history
            .iter()
            .filter(|(n, t, s)| n == node && t != "ok" && *s > at + 1.0 && *s < back)
            .count();
        assert!(
            failed > 0 || back < at + 2.0,
            "{node}'s ops while out are fail or info"
        );
    }
    assert!(local_leftovers().is_empty(), "{:?}", local_leftovers());
}

#[test]
fn a_follower_cut_off_until_snapshot_catches_up_by_snapshot() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    run_to_end(
        &["configs/etcd-watch-snapshot.yaml", "--time-limit", "45"],
        &dir.path().join("store"),
        &[0],
    );
    let run = dir.path().join("store/etcd-watch-snapshot/latest");
    let log = events(&run.join("nemesis.jsonl"));
    let heals: Vec<&serde_json::Value> = log
        .iter()
        .filter(|l| l["heal"] == "partition-until-snapshot")
        .collect();
    assert!(
        !heals.is_empty(),
        "no partition-until-snapshot healed: {log:?}"
    );
    // The last may be cut short by the workload's end; the first reached its gap.
    assert_eq!(heals[0]["evidence"]["reached"], true, "{}", heals[0]);
    for h in heals.iter().filter(|h| h["evidence"]["reached"] == true) {
        let e = &h["evidence"];
        assert!(e["gap"].as_u64() >= e["wanted"].as_u64(), "{h}");
        // The member cut off was sent a snapshot: its log says it applied one.
        let member = e["member"].as_str().unwrap();
        let etcd = std::fs::read_to_string(run.join(format!("nodes/{member}/etcd.log"))).unwrap();
        assert!(
            etcd.contains("applied incoming snapshot"),
            "{member} got no snapshot"
        );
    }
    assert!(local_leftovers().is_empty(), "{:?}", local_leftovers());
}
