//! `ferret run --platform docker` against real etcd in real containers. Needs root, a Docker
//! engine, docker-compose (or `docker compose`), debootstrap and nft: without them these tests
//! fail, loudly, rather than skip. The node image is built on first use and then reused.

mod common;

use common::{events, ferret, repo, sh};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn require_environment() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "these tests need root");
    let engine = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    assert!(
        engine.as_ref().is_ok_and(|o| o.status.success()),
        "no Docker engine answers (install docker.io and start dockerd): {engine:?}"
    );
    for (tool, package) in [
        ("debootstrap", "debootstrap"),
        ("nft", "nftables"),
        ("nsenter", "util-linux"),
    ] {
        assert!(
            !sh(&format!(
                "command -v {tool} || ls /usr/sbin/{tool} 2>/dev/null"
            ))
            .is_empty(),
            "`{tool}` is missing: apt-get install -y {package}"
        );
    }
    assert!(
        !sh("command -v docker-compose || (docker compose version >/dev/null 2>&1 && echo v2)")
            .is_empty(),
        "neither docker-compose nor `docker compose` is installed"
    );
}

/// Containers, networks and volumes carrying a ferret run label, with namespaces and nft tables
/// ferret might have left on this machine.
fn docker_leftovers() -> BTreeSet<String> {
    let mut left = BTreeSet::new();
    for (what, cmd) in [
        ("container", "docker ps -a -q --filter label=ferret.run"),
        ("network", "docker network ls -q --filter label=ferret.run"),
        ("volume", "docker volume ls -q --filter label=ferret.run"),
    ] {
        for id in sh(cmd).split_whitespace() {
            left.insert(format!("{what} {id}"));
        }
    }
    for ns in sh("ip netns list").lines() {
        if ns.starts_with("ferret-") {
            left.insert(format!("namespace {ns}"));
        }
    }
    if sh("nft list tables").contains("ferret") {
        left.insert("nft table in the root namespace".into());
    }
    if Path::new("/run/ferret").exists() {
        left.insert("/run/ferret".into());
    }
    left
}

#[test]
fn etcd_on_docker_under_every_fault_kind_is_valid_and_leaves_nothing() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let before = docker_leftovers();
    // Partitions, kill, pause and clocks, on the shipped docker config.
    let config = store.path().join("all.yaml");
    let text = std::fs::read_to_string(repo().join("configs/etcd-docker.yaml")).unwrap();
    std::fs::write(&config, text).unwrap();
    let stdout = common::run_to_end(
        &[
            config.to_str().unwrap(),
            "--time-limit",
            "36",
            "--seed",
            "4",
            "--nemesis",
            "partition-majorities-ring,kill,pause,clock-bump,partition-isolate-leader,clock-strobe",
        ],
        store.path(),
        &[0],
    );
    assert!(stdout.contains("nodes on docker up"), "{stdout}");
    let dir = store.path().join("etcd-docker/latest");
    let history = events(&dir.join("history.jsonl"));
    let invocations = history.iter().filter(|e| e["type"] == "invoke").count();
    assert!(invocations > 1000, "{invocations} invocations");
    let fs: BTreeSet<&str> = history
        .iter()
        .filter(|e| e["process"] == "nemesis")
        .filter_map(|e| e["f"].as_str())
        .collect();
    for f in [
        "start-partition",
        "stop-partition",
        "kill",
        "restart",
        "pause",
        "resume",
        "clock-bump",
        "clock-strobe",
        "clock-reset",
    ] {
        assert!(fs.contains(f), "no {f} in the history: {fs:?}");
    }
    // Kills took effect: the killed members' logs show them starting again.
    let restarts: usize = (1..=5)
        .map(|n| {
            std::fs::read_to_string(dir.join(format!("nodes/n{n}/etcd.log")))
                .unwrap_or_default()
                .matches("etcdmain: etcd Version")
                .count()
        })
        .sum();
    assert!(restarts > 5, "{restarts} member starts over 5 nodes");
    let after = docker_leftovers();
    let left: Vec<_> = after.difference(&before).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The fault file system on docker: mounted on this machine, propagated into each container's
/// data directory, crashed under the running etcd, and gone with the run.
#[test]
fn power_loss_on_docker_reaches_the_containers_data_and_leaves_no_mount() {
    require_environment();
    assert!(
        Path::new("/dev/fuse").exists(),
        "/dev/fuse is missing (modprobe fuse)"
    );
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let out = common::run_to_end(
        &[
            "configs/etcd-power-loss.yaml",
            "--platform",
            "docker",
            "--time-limit",
            "15",
            "--nemesis",
            "power-loss",
        ],
        store.path(),
        &[0],
    );
    let run = store.path().join("etcd-power-loss/latest");
    // etcd wrote through the mount: the node's log names the shared data directory.
    let log = std::fs::read_to_string(run.join("nodes/n1/etcd.log")).unwrap();
    assert!(log.contains("data dir = /var/lib/ferret/nodes/n1"), "{log}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(run.join("nemesis.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let start = lines
        .iter()
        .find(|l| l["start"] == "power-loss")
        .unwrap_or_else(|| panic!("no power loss: {out}"));
    assert_eq!(start["evidence"].as_object().unwrap().len(), 5, "{start}");
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    let run_id = &out[out.find("run id ").unwrap() + 7..][..6];
    assert!(
        !mounts.contains(&format!("ferret-{run_id}")),
        "a mount of the run is left: {mounts}"
    );
    assert!(docker_leftovers().is_empty(), "{:?}", docker_leftovers());
}

#[test]
fn serializable_reads_on_docker_are_caught() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    common::run_to_end(
        &[
            "configs/etcd-serializable.yaml",
            "--platform",
            "docker",
            "--time-limit",
            "30",
            "--seed",
            "2",
            "--nemesis",
            "partition-halves,partition-isolate-leader,partition-random-halves,partition-bridge",
        ],
        store.path(),
        &[1],
    );
}

#[test]
fn sigkill_mid_run_then_clean_leaves_no_container_network_or_volume() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let before = docker_leftovers();
    let mut child = ferret()
        .args(["run", "configs/etcd-docker.yaml", "--time-limit", "60"])
        .arg("--store")
        .arg(store.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(180);
    for line in lines.by_ref() {
        if line.unwrap().starts_with("cluster of") {
            break;
        }
        assert!(Instant::now() < deadline, "cluster never became ready");
    }
    std::thread::spawn(move || for _ in lines {});
    // Mid-run, with a fault likely in force.
    std::thread::sleep(Duration::from_secs(5));
    // SAFETY: signalling a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let during = docker_leftovers();
    assert!(
        during.iter().any(|l| l.starts_with("container")),
        "a killed harness should leave its containers: {during:?}"
    );
    let out = ferret().arg("clean").output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("container"), "{said}");
    let after = docker_leftovers();
    let left: Vec<_> = after.difference(&before).collect();
    assert!(left.is_empty(), "after clean: {left:?}");
}

#[test]
fn network_faults_and_membership_changes_take_effect_on_docker() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let out = common::run_to_end(
        &[
            "configs/etcd-membership.yaml",
            "--platform",
            "docker",
            "--time-limit",
            "50",
            "--nemesis",
            "network-slow,partition-one-way,member-replace,member-remove,member-add",
        ],
        store.path(),
        &[0],
    );
    let run = store.path().join("etcd-membership/latest");
    let lines = events(&run.join("nemesis.jsonl"));
    let started: BTreeSet<&str> = lines.iter().filter_map(|l| l["start"].as_str()).collect();
    for kind in ["network-slow", "partition-one-way", "member-replace"] {
        assert!(started.contains(kind), "no {kind}: {started:?}\n{out}");
    }
    for l in &lines {
        assert_eq!(l["took_effect"], true, "{l}");
        if let Some(d) = l["fault"]["delay_ms"].as_u64() {
            // Both ways held, inside the containers' namespaces.
            assert!(l["probe"]["rtt_ms"].as_f64() >= Some(d as f64), "{l}");
        }
    }
    assert!(docker_leftovers().is_empty(), "{:?}", docker_leftovers());
}
