//! `ferret run` against real etcd in network namespaces. Needs root, etcd and nft: without them
//! these tests fail, loudly, rather than skip.

mod common;

use common::{ferret, repo, run_to_end};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Runs share the machine's CPU and etcd's ports per namespace: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn require_environment() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests need root (network namespaces)"
    );
    for tool in ["etcd", "etcdctl", "nft", "ip"] {
        let found = Command::new("sh")
            .args([
                "-c",
                &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
            ])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "`{tool}` is missing: apt-get install -y etcd-server etcd-client nftables iproute2"
        );
    }
}

/// What the machine holds that a run might have left: namespaces, links, registry files.
fn leftovers(run_id: &str) -> Vec<String> {
    let mut left = Vec::new();
    let ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    for line in String::from_utf8_lossy(&ns.stdout).lines() {
        if line.contains(&format!("ferret-{run_id}")) {
            left.push(format!("namespace {line}"));
        }
    }
    let short = &run_id[run_id.len() - 6..];
    for entry in std::fs::read_dir("/sys/class/net").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("fr{short}")) {
            left.push(format!("link {name}"));
        }
    }
    if Path::new(&format!("/run/ferret/{run_id}.json")).exists() {
        left.push("registry file".into());
    }
    if Path::new(&format!("/var/tmp/ferret-{run_id}")).exists() {
        left.push("data directory".into());
    }
    left
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Every process in process group `pgid` (a daemon's launcher and the system it started).
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rfind(')')
                .map(|at| stat[at + 1..].split_whitespace().collect())
                .unwrap_or_default();
            fields.get(2) == Some(&pgid.to_string().as_str())
        })
        .collect()
}

/// The nemesis events of a stored history.
fn nemesis_events(history: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(history)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["process"] == "nemesis")
        .collect()
}

fn run_id_of(output: &str) -> String {
    let at = output.find("run id ").expect("ferret prints its run id");
    output[at + 7..at + 13].to_string()
}

fn spawn_run(args: &[&str], store: &Path) -> Child {
    ferret()
        .arg("run")
        .args(args)
        .arg("--store")
        .arg(store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Read the run's stdout until the cluster is ready; returns its run id and the registry's pids.
fn wait_until_ready(child: &mut Child) -> (String, Vec<u32>) {
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let mut run_id = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("run id ") {
            run_id = Some(run_id_of(&line));
        }
        if line.starts_with("cluster of") {
            break;
        }
        assert!(Instant::now() < deadline, "cluster never became ready");
    }
    let run_id = run_id.expect("run id printed");
    let reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("/run/ferret/{run_id}.json")).unwrap())
            .unwrap();
    let pids = reg["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap() as u32)
        .collect();
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (run_id, pids)
}

#[test]
fn linearizable_etcd_under_every_fault_is_valid_and_leaves_nothing() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    // Four kinds of 6 s each fit in 30 s; the shipped 60 s config cycles through all eight.
    let stdout = run_to_end(
        &[
            "configs/etcd.yaml",
            "--time-limit",
            "30",
            "--seed",
            "1",
            "--nemesis",
            "kill,pause,partition-isolate-leader,partition-majorities-ring",
        ],
        store.path(),
        &[0],
    );
    let run_id = run_id_of(&stdout);
    assert!(
        leftovers(&run_id).is_empty(),
        "left behind: {:?}",
        leftovers(&run_id)
    );

    let run_dir = store.path().join("etcd/latest");
    let nemesis = nemesis_events(&run_dir.join("history.jsonl"));
    let nemesis_fs: BTreeSet<&str> = nemesis.iter().map(|e| e["f"].as_str().unwrap()).collect();
    let kinds: BTreeSet<&str> = nemesis
        .iter()
        .filter_map(|e| e["value"]["kind"].as_str())
        .collect();
    let history = std::fs::read_to_string(run_dir.join("history.jsonl")).unwrap();
    let ok_ops = history
        .lines()
        .filter(|l| l.contains("\"type\":\"ok\""))
        .count();
    for f in [
        "start-partition",
        "stop-partition",
        "kill",
        "restart",
        "pause",
        "resume",
    ] {
        assert!(
            nemesis_fs.contains(f),
            "no {f} in the history: {nemesis_fs:?}"
        );
    }
    for k in ["partition-isolate-leader", "partition-majorities-ring"] {
        assert!(kinds.contains(k), "{k} not applied: {kinds:?}");
    }
    assert!(ok_ops > 1000, "only {ok_ops} ok ops in 30 s");
    // Every apply and heal was probed and took effect: partitions cut exactly the pairs they
    // should, paused processes were stopped, killed ones gone and then back.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(run_dir.join("nemesis.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 8, "{lines:?}");
    for l in &lines {
        assert_eq!(l["took_effect"], true, "{l}");
    }
    let cut: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["start"] == "partition-majorities-ring")
        .map(|l| &l["probe"]["cut"])
        .collect();
    assert!(
        cut.iter()
            .all(|c| c.as_array().is_some_and(|a| a.len() == 5)),
        "a 5-node ring cuts 5 pairs: {cut:?}"
    );
    // Compare-failed cas are recorded as observations (ok, false), and the run is still valid.
    let failed_compares = history
        .lines()
        .filter(|l| l.contains("\"type\":\"ok\",\"f\":\"cas\"") && l.contains("\"value\":false"))
        .count();
    assert!(
        failed_compares > 0,
        "no compare-failed cas recorded as ok/false"
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["verdict"], "valid");
    assert_eq!(results["keys"].as_array().unwrap().len(), 20);
    // Beside the verdict: what was run, on what, and what happened (docs/results.md).
    assert_eq!(results["run"]["seed"], 1);
    assert!(
        results["run"]["system_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("etcd Version: 3.")),
        "{}",
        results["run"]
    );
    assert!(results["run"]["reproduce"]
        .as_str()
        .unwrap()
        .ends_with("config.yaml --seed 1"));
    for f in ["read", "write", "cas"] {
        let s = &results["ops"][f];
        let q = &s["latency_ms"];
        assert!(s["ok"].as_u64().unwrap() > 100, "{f}: {s}");
        assert!(
            q["p50"].as_f64().unwrap() <= q["p99"].as_f64().unwrap()
                && q["p99"].as_f64().unwrap() <= q["max"].as_f64().unwrap(),
            "{f}: {q}"
        );
    }
    // The fault timeline: every fault begun, each healed before the end.
    let faults = results["faults"].as_array().unwrap();
    let begun = nemesis_fs
        .iter()
        .filter(|f| ["start-partition", "kill", "pause"].contains(f))
        .count();
    assert!(faults.len() >= begun, "{faults:?}");
    for w in faults {
        assert!(
            w["end_s"].as_f64().unwrap() > w["start_s"].as_f64().unwrap(),
            "{w}"
        );
    }
    // `ferret report` renders the pages again from the folder.
    std::fs::remove_file(run_dir.join("report.html")).unwrap();
    let out = ferret().arg("report").arg(&run_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let page = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(page.contains("VALID") && page.contains("etcd Version: 3."));
    for n in 1..=5 {
        let log = run_dir.join(format!("nodes/n{n}/etcd.log"));
        assert!(
            std::fs::metadata(&log).unwrap().len() > 0,
            "{} empty",
            log.display()
        );
    }
}

#[test]
fn clock_faults_run_on_etcd_and_follow_restarts() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    // Every node skewed, so a kill after any bump restarts a skewed node.
    let text = std::fs::read_to_string(repo().join("configs/etcd-clock.yaml"))
        .unwrap()
        .replace("targets: minority", "targets: all");
    let config = store.path().join("clock.yaml");
    std::fs::write(&config, text).unwrap();
    let stdout = run_to_end(
        &[
            config.to_str().unwrap(),
            "--time-limit",
            "28",
            "--seed",
            "3",
            "--nemesis",
            "clock-bump,kill",
        ],
        store.path(),
        &[0],
    );
    let nemesis = nemesis_events(&store.path().join("etcd-clock/latest/history.jsonl"));
    let fs: Vec<&str> = nemesis.iter().map(|e| e["f"].as_str().unwrap()).collect();
    assert!(
        fs.contains(&"clock-bump") && fs.contains(&"clock-reapply"),
        "{fs:?}"
    );
    assert_eq!(
        fs.last(),
        Some(&"clock-reset"),
        "clocks not reset at the end: {fs:?}"
    );
    // nemesis.jsonl never claims a bump was healed while its skew stays in force.
    let schedule: Vec<serde_json::Value> =
        std::fs::read_to_string(store.path().join("etcd-clock/latest/nemesis.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert!(
        !schedule.iter().any(|e| e["heal"] == "clock-bump"),
        "{schedule:?}"
    );
    assert!(schedule
        .iter()
        .any(|e| e["start"] == "clock-bump" && e["stays"] == true));
    assert_eq!(schedule.last().unwrap()["heal"], "clock", "{schedule:?}");
    let bump = nemesis.iter().find(|e| e["f"] == "clock-bump").unwrap();
    assert_eq!(bump["value"]["ms"].as_i64().unwrap().abs(), 5000);
    assert_eq!(bump["value"]["offsets_ms"].as_object().unwrap().len(), 5);
    assert!(leftovers(&run_id_of(&stdout)).is_empty());
    let stale = std::fs::read_dir("/run/ferret/clock")
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stale, 0, "clock agent state left in /run/ferret/clock");
}

#[test]
fn serializable_reads_under_partitions_are_caught() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    // Only partitions make a member serve stale reads: five of them in 30 s.
    let stdout = run_to_end(
        &[
            "configs/etcd-serializable.yaml",
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
    let results: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("etcd-serializable/latest/results.json")).unwrap(),
    )
    .unwrap();
    let bad = results["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["verdict"] == "invalid")
        .expect("an invalid key");
    // CI systems read the same verdict from junit.xml: the invalid key is a failing test case.
    let junit =
        std::fs::read_to_string(store.path().join("etcd-serializable/latest/junit.xml")).unwrap();
    assert!(
        junit.contains("<failure")
            && junit.contains(&format!(
                "name=\"&quot;{}&quot;\"",
                bad["key"].as_str().unwrap()
            )),
        "{junit}"
    );
    // The anomaly is a read that saw a value no longer current.
    let first = &bad["explanation"]["shrunk"]["first"];
    assert!(
        ["read", "cas"].contains(&first["f"].as_str().unwrap()),
        "{first}"
    );
    // report.html beside them: in Chromium's DOM, the invalid key and its failing call.
    for plot in ["throughput.svg", "latency.svg"] {
        let svg = std::fs::read_to_string(store.path().join("etcd-serializable/latest").join(plot))
            .unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("polyline"),
            "{plot}"
        );
    }
    let page = store.path().join("etcd-serializable/latest/report.html");
    let dom = common::chromium_dom(&page.canonicalize().unwrap());
    let stuck = &bad["explanation"]["stuck"];
    assert!(dom.contains("INVALID"), "{dom}");
    // The prefix stepped through: a state after each of its calls.
    assert!(dom.contains("state after"), "{dom}");
    assert!(
        dom.contains(&format!(
            "Key <code>\"{}\"</code>: invalid",
            bad["key"].as_str().unwrap()
        )),
        "{dom}"
    );
    assert!(
        dom.contains(&format!(
            "{} by process {}",
            stuck["f"].as_str().unwrap(),
            stuck["process"]
        )) && dom.contains(&format!("(line {})", stuck["line"])),
        "{stuck}\n{dom}"
    );
    assert!(leftovers(&run_id_of(&stdout)).is_empty());
}

#[test]
fn ctrl_c_and_sigkill_then_clean_leave_nothing() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();

    // Ctrl-C: the harness tears down by itself and says it could not finish.
    let mut child = spawn_run(&["configs/etcd.yaml", "--time-limit", "60"], store.path());
    let (run_id, pids) = wait_until_ready(&mut child);
    std::thread::sleep(Duration::from_secs(3));
    // Each daemon is a launching shell and the etcd it started, in the shell's group.
    let members: Vec<u32> = pids.iter().flat_map(|&p| group_members(p)).collect();
    assert!(
        members.len() > pids.len(),
        "no etcd under its launcher: {members:?}"
    );
    unsafe_kill(child.id(), 2);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    // Teardown waits until what it killed is gone: not even a zombie is left when it exits.
    for p in &members {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "process {p} of the run still there when the harness exited after Ctrl-C"
        );
    }
    assert!(
        leftovers(&run_id).is_empty(),
        "after Ctrl-C: {:?}",
        leftovers(&run_id)
    );
    for p in &pids {
        assert!(!pid_alive(*p), "etcd pid {p} still alive after Ctrl-C");
    }
    // What was recorded before the interrupt is kept.
    let history = std::fs::read_to_string(store.path().join("etcd/latest/history.jsonl")).unwrap();
    assert!(history.lines().count() > 10);

    // SIGKILL: the harness cannot clean up; `ferret clean` must.
    let mut child = spawn_run(&["configs/etcd.yaml", "--time-limit", "60"], store.path());
    let (run_id, pids) = wait_until_ready(&mut child);
    unsafe_kill(child.id(), 9);
    child.wait().unwrap();
    assert!(
        !leftovers(&run_id).is_empty(),
        "a killed harness should leave its namespaces"
    );
    let out = ferret().arg("clean").output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&run_id) && said.contains("namespace"),
        "{said}"
    );
    assert!(
        leftovers(&run_id).is_empty(),
        "after clean: {:?}",
        leftovers(&run_id)
    );
    for p in &pids {
        assert!(!pid_alive(*p), "etcd pid {p} still alive after clean");
    }
}

/// A 3-node majorities ring leaves every node a majority: ops succeed inside its windows. The
/// start line is a shell line (`GOMAXPROCS=1 etcd ...` once failed as `exec GOMAXPROCS=1`).
#[test]
fn three_node_majorities_ring_keeps_a_majority_and_start_lines_are_shell_lines() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("configs/etcd.yaml"))
        .unwrap()
        .replace("start: >-\n    etcd", "start: >-\n    GOMAXPROCS=1 etcd");
    assert!(text.contains("GOMAXPROCS=1 etcd"));
    let config = store.path().join("ring.yaml");
    std::fs::write(&config, text).unwrap();
    let stdout = run_to_end(
        &[
            config.to_str().unwrap(),
            "--nodes",
            "3",
            "--time-limit",
            "20",
            "--seed",
            "5",
            "--nemesis",
            "partition-majorities-ring",
        ],
        store.path(),
        &[0],
    );
    assert!(leftovers(&run_id_of(&stdout)).is_empty());
    let history = std::fs::read_to_string(store.path().join("etcd/latest/history.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Ok completions between each start-partition and its stop-partition.
    let mut windows = Vec::new();
    let mut open = None;
    for (i, e) in events.iter().enumerate() {
        match e["f"].as_str() {
            Some("start-partition") => open = Some(i),
            Some("stop-partition") => windows.push((open.take().unwrap(), i)),
            _ => {}
        }
    }
    assert!(windows.len() >= 2, "{} ring windows", windows.len());
    for (a, b) in windows {
        let ok = events[a..b]
            .iter()
            .filter(|e| e["type"] == "ok" && e["process"] != "nemesis")
            .count();
        assert!(ok > 20, "only {ok} ok ops in the ring window at index {a}");
    }
}

/// A start line means what it means in a shell (every command runs, its status is the last
/// one's), and a daemon's output that reaches the terminal carries no escape sequences.
#[test]
fn start_line_status_and_escaped_output() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let config = store.path().join("broken.yaml");
    std::fs::write(
        &config,
        "name: broken\nplatform: {nodes: 1}\ndb:\n  name: fake\n  start: \"printf 'first\\\\n'; printf '\\\\033]0;pwned\\\\007second\\\\n'; exit 7\"\n  ready: \"false\"\n  ready_timeout: 10\n  client_url: \"http://{ip}:2379\"\n",
    )
    .unwrap();
    let out = ferret()
        .arg("run")
        .arg(&config)
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stderr.contains("exit status: 7"), "{stderr}");
    assert!(
        stderr.contains("first") && stderr.contains("second"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("\\x1b]0;pwned\\x07"), "{stderr}");
    assert!(leftovers(&run_id_of(&stdout)).is_empty());
}

/// Everything of ferret's on this machine: namespaces, links, registry files, node data, and
/// etcd processes (by pid).
fn machine_state() -> BTreeSet<String> {
    let mut state = BTreeSet::new();
    let ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    for line in String::from_utf8_lossy(&ns.stdout).lines() {
        if line.starts_with("ferret-") {
            state.insert(format!("namespace {line}"));
        }
    }
    for entry in std::fs::read_dir("/sys/class/net").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("fr") {
            state.insert(format!("link {name}"));
        }
    }
    for dir in ["/run/ferret", "/var/tmp"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if dir == "/run/ferret" || name.starts_with("ferret-") {
                    state.insert(format!("{dir}/{name}"));
                }
            }
        }
    }
    if Path::new("/run/ferret").exists() {
        state.insert("/run/ferret".into());
    }
    for entry in std::fs::read_dir("/proc").unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_ok()
            && std::fs::read_to_string(format!("/proc/{name}/comm"))
                .is_ok_and(|c| c.trim() == "etcd")
            && pid_alive(name.parse().unwrap())
        {
            state.insert(format!("etcd process {name}"));
        }
    }
    state
}

/// SIGKILL at random moments of a run's first two seconds (while the network is built, daemons
/// start, the cluster comes up), each followed by `ferret clean`: nothing of ferret's is left.
/// Then SIGINT at random moments of a whole short run, check included: exit 3 (or the verdict, if
/// the check already finished) with nothing left, without any clean.
#[test]
fn interrupted_at_random_moments_nothing_is_left() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let out = ferret().arg("clean").output().unwrap();
    assert!(out.status.success());
    let before = machine_state();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    for i in 0..50 {
        let mut child = spawn_run(
            &[
                "configs/etcd.yaml",
                "--time-limit",
                "5",
                "--nemesis",
                "none",
            ],
            store.path(),
        );
        std::thread::sleep(Duration::from_millis(next(2000)));
        unsafe_kill(child.id(), 9);
        child.wait().unwrap();
        let out = ferret().arg("clean").output().unwrap();
        assert!(out.status.success(), "clean failed after kill {i}");
        let after = machine_state();
        let left: Vec<_> = after.difference(&before).collect();
        assert!(left.is_empty(), "SIGKILL {i}: left {left:?}");
    }
    for i in 0..6 {
        let mut child = spawn_run(
            &[
                "configs/etcd.yaml",
                "--time-limit",
                "2",
                "--nemesis",
                "kill",
                "--rate",
                "50",
            ],
            store.path(),
        );
        std::thread::sleep(Duration::from_millis(next(9000)));
        unsafe_kill(child.id(), if i % 2 == 0 { 2 } else { 15 });
        let status = child.wait().unwrap();
        assert!(
            // Interrupted (3), or the verdict if the check had finished: valid, or unknown for a
            // run too short to test every key.
            matches!(status.code(), Some(0) | Some(2) | Some(3)),
            "interrupt {i}: {status:?}"
        );
        let after = machine_state();
        let left: Vec<_> = after.difference(&before).collect();
        assert!(
            left.is_empty(),
            "interrupt {i}: left {left:?} without a clean"
        );
    }
}

/// A run whose clients got nothing done does not pass: every op refused (the client talks to a
/// port nothing listens on) is exit 2, unknown, with the reason — never a vacuous valid.
#[test]
fn a_run_that_tested_nothing_is_unknown_not_valid() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let config = idle_config(store.path());
    let out = ferret()
        .arg("run")
        .arg(&config)
        .args(["--time-limit", "3", "--nemesis", "none", "--store"])
        .arg(store.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tested too little to pass"), "{stderr}");
    let results: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("etcd/latest/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results["verdict"], "unknown");
    assert!(results["keys"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("min_ok_per_key"));
    assert!(leftovers(&run_id_of(&String::from_utf8_lossy(&out.stdout))).is_empty());
}

/// `--test-count`: N runs with derived seeds, one summary, one junit.xml, the worst verdict.
#[test]
fn repeated_runs_summarise_and_exit_with_the_worst_verdict() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let out = ferret()
        .args([
            "run",
            "configs/etcd.yaml",
            "--test-count",
            "2",
            "--time-limit",
            "4",
        ])
        .args(["--nemesis", "none", "--seed", "9", "--store"])
        .arg(store.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("2 runs of etcd"), "{stdout}");
    let seeds: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("=== run "))
        .collect();
    assert_eq!(seeds.len(), 2);
    assert_ne!(
        seeds[0].split("seed ").nth(1),
        seeds[1].split("seed ").nth(1)
    );
    let series: Vec<_> = std::fs::read_dir(store.path().join("etcd"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".junit.xml"))
        .collect();
    assert_eq!(series.len(), 1);
    let junit = std::fs::read_to_string(&series[0]).unwrap();
    assert_eq!(junit.matches("<testsuite ").count(), 2, "{junit}");
    // A run that tested nothing makes the series unknown (2), and it goes on to the end.
    let idle = idle_config(store.path());
    let out = ferret()
        .arg("run")
        .arg(&idle)
        .args([
            "--test-count",
            "2",
            "--time-limit",
            "3",
            "--nemesis",
            "none",
            "--store",
        ])
        .arg(store.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    // Both runs in the summary table, both unknown.
    let rows = stdout
        .lines()
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 3 && w[0].parse::<u32>().is_ok() && w[2] == "unknown"
        })
        .count();
    assert_eq!(rows, 2, "{stdout}");
}

/// configs/etcd.yaml with clients sent to a port nothing listens on: every op is refused.
fn idle_config(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("configs/etcd.yaml"))
        .unwrap()
        .replace(
            "client_url: http://{ip}:2379",
            "client_url: http://{ip}:2399",
        );
    let config = dir.join("idle.yaml");
    std::fs::write(&config, text).unwrap();
    config
}

fn unsafe_kill(pid: u32, sig: i32) {
    // SAFETY: signalling a child we spawned.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// A node that cannot restart after a kill is a finding: the run is invalid, naming the node and
/// the end of its log, in the summary, results.json, junit.xml, nemesis.jsonl and the history.
#[test]
fn a_node_that_does_not_come_back_makes_the_run_invalid() {
    require_environment();
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("configs/etcd.yaml"))
        .unwrap()
        .replace(
            "  ready_timeout: 30",
            "  ready_timeout: 5\n  restart: echo 'refusing to start again' >&2; exit 3",
        );
    assert!(text.contains("refusing to start again"));
    let config = store.path().join("no-restart.yaml");
    std::fs::write(&config, text).unwrap();
    // Three nodes: a kill takes one, and the two left keep a majority and stay ready.
    let stdout = run_to_end(
        &[
            config.to_str().unwrap(),
            "--nodes",
            "3",
            "--nemesis",
            "kill",
            "--time-limit",
            "8",
            "--seed",
            "3",
        ],
        store.path(),
        &[1],
    );
    assert!(stdout.contains("recovery-failure"), "{stdout}");
    let run = store.path().join("etcd/latest");
    let killed: std::collections::BTreeSet<String> = nemesis_events(&run.join("history.jsonl"))
        .iter()
        .filter(|e| e["f"] == "kill")
        .flat_map(|e| e["value"]["nodes"].as_array().cloned().unwrap_or_default())
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert!(!killed.is_empty());
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["verdict"], "invalid");
    let failed: Vec<&serde_json::Value> = results["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["anomalies"][0]["kind"] == "recovery-failure")
        .collect();
    // Every killed node, found right after the kill's heal, with the restart's own words from
    // its log. (Should two kills have taken two nodes, the third is named too: not ready, with no
    // majority left.)
    let named: std::collections::BTreeMap<String, &str> = failed
        .iter()
        .map(|k| {
            let node = k["key"].as_str().unwrap().trim_start_matches("node ");
            (
                node.to_string(),
                k["anomalies"][0]["summary"].as_str().unwrap(),
            )
        })
        .collect();
    for node in &killed {
        let summary = named
            .get(node)
            .unwrap_or_else(|| panic!("{node} not named: {results}"));
        assert!(summary.contains("after the heal of kill"), "{summary}");
        assert!(summary.contains("refusing to start again"), "{summary}");
    }
    for (node, summary) in &named {
        assert!(
            killed.contains(node) || summary.contains("not ready"),
            "{node} named but neither killed nor unready: {summary}"
        );
    }
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(junit.contains("recovery-failure"), "{junit}");
    let schedule = std::fs::read_to_string(run.join("nemesis.jsonl")).unwrap();
    assert!(schedule.contains("\"recovery_failure\""), "{schedule}");
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    assert!(history.contains("\"recovery-failure\""));
    assert!(leftovers(&run_id_of(&stdout)).is_empty());
}
