//! The clock agent against real programs: a C and a Go program that print their clocks, and
//! etcd. Needs root, gcc, go and etcd: without them these tests fail rather than skip.

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>
int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    struct timespec r, m, b; struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &r); clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_BOOTTIME, &b); gettimeofday(&tv, NULL); time_t t = time(NULL);
    printf("%lld.%09ld %lld.%09ld %lld.%09ld %lld.%06ld %lld\n", (long long)r.tv_sec, r.tv_nsec,
           (long long)m.tv_sec, m.tv_nsec, (long long)b.tv_sec, b.tv_nsec,
           (long long)tv.tv_sec, (long)tv.tv_usec, (long long)t);
    usleep(50000);
  }
}
"#;

/// Prints wall time and monotonic time since its start, as Go sees them (both via the vDSO).
const GO_PROGRAM: &str = r#"
package main

import (
	"bufio"
	"fmt"
	"os"
	"time"
)

func main() {
	start := time.Now()
	w := bufio.NewWriter(os.Stdout)
	for {
		now := time.Now()
		fmt.Fprintf(w, "%d %d\n", now.UnixNano(), now.Sub(start).Nanoseconds())
		w.Flush()
		time.Sleep(50 * time.Millisecond)
	}
}
"#;

fn ferret() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("ferret"))
}

fn require(tool: &str, package: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "`{tool}` is missing: apt-get install -y {package}");
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the clock agent tests need root (ptrace)"
    );
}

fn build(dir: &Path) -> (PathBuf, PathBuf) {
    require("gcc", "gcc");
    require("go", "golang-go");
    let c_src = dir.join("clocks.c");
    std::fs::write(&c_src, C_PROGRAM).unwrap();
    let c_bin = dir.join("clocks");
    let st = Command::new("gcc")
        .arg("-O2")
        .arg("-o")
        .arg(&c_bin)
        .arg(&c_src)
        .status()
        .unwrap();
    assert!(st.success(), "gcc failed");
    let go_src = dir.join("clocks.go");
    std::fs::write(&go_src, GO_PROGRAM).unwrap();
    let go_bin = dir.join("goclocks");
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&go_bin)
        .arg(&go_src)
        .env("HOME", dir)
        .env("GOCACHE", dir.join("gocache"))
        .env("GO111MODULE", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (c_bin, go_bin)
}

fn now(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

struct Program {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Program {
    fn start(bin: &Path) -> Program {
        let mut child = Command::new(bin).stdout(Stdio::piped()).spawn().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut p = Program { child, lines };
        p.next(); // running
        p
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The next line's numbers, with the test's own (unskewed) clocks read on arrival.
    fn next(&mut self) -> (Vec<f64>, [f64; 3]) {
        let line = self.lines.next().expect("program ended").unwrap();
        let host = [
            now(libc::CLOCK_REALTIME),
            now(libc::CLOCK_MONOTONIC),
            now(libc::CLOCK_BOOTTIME),
        ];
        (
            line.split_whitespace()
                .map(|v| v.parse().unwrap())
                .collect(),
            host,
        )
    }

    /// Skip lines that may predate a change, then return a fresh one.
    fn fresh(&mut self) -> (Vec<f64>, [f64; 3]) {
        self.next();
        self.next();
        self.next()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent(pid: i32, args: &[&str]) -> serde_json::Value {
    let out = ferret()
        .arg("clock")
        .arg(pid.to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ferret clock {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(seen: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (seen - want).abs() < tolerance,
        "{what}: offset {seen:.3} s, expected {want:.3} s"
    );
}

/// The machine's own realtime − monotonic, which any change of the host clock would move.
fn host_clock_skew() -> f64 {
    now(libc::CLOCK_REALTIME) - now(libc::CLOCK_MONOTONIC)
}

#[test]
fn c_program_sees_exactly_the_requested_offsets_on_exactly_the_requested_clocks() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (c_bin, _) = build(dir.path());
    let host_before = host_clock_skew();
    let mut p = Program::start(&c_bin);
    // Columns: realtime, monotonic, boottime, gettimeofday, time(); host: realtime, mono, boot.
    let offsets = |v: &[f64], h: &[f64; 3]| {
        [
            v[0] - h[0],
            v[1] - h[1],
            v[2] - h[2],
            v[3] - h[0],
            v[4] - h[0],
        ]
    };
    let (v, h) = p.fresh();
    for (i, o) in offsets(&v, &h).iter().enumerate() {
        close(
            *o,
            0.0,
            if i == 4 { 1.1 } else { 0.3 },
            &format!("column {i} before"),
        );
    }
    agent(p.pid(), &["set", "15000", "--clocks", "monotonic"]);
    let (v, h) = p.fresh();
    let o = offsets(&v, &h);
    close(o[1], 15.0, 0.3, "monotonic after +15 s monotonic");
    close(o[0], 0.0, 0.3, "realtime after +15 s monotonic");
    close(o[2], 0.0, 0.3, "boottime after +15 s monotonic");
    close(o[3], 0.0, 0.3, "gettimeofday after +15 s monotonic");

    agent(p.pid(), &["set", "-3000", "--clocks", "realtime"]);
    let (v, h) = p.fresh();
    let o = offsets(&v, &h);
    close(o[0], -3.0, 0.3, "realtime after -3 s realtime");
    close(o[3], -3.0, 0.3, "gettimeofday after -3 s realtime");
    close(o[4], -3.0, 1.1, "time() after -3 s realtime");
    close(o[1], 0.0, 0.3, "monotonic after -3 s realtime");
    close(o[2], 0.0, 0.3, "boottime after -3 s realtime");

    agent(p.pid(), &["set", "2500", "--clocks", "boottime"]);
    let (v, h) = p.fresh();
    let o = offsets(&v, &h);
    close(o[2], 2.5, 0.3, "boottime after +2.5 s boottime");
    close(o[0], 0.0, 0.3, "realtime after +2.5 s boottime");

    let healed = agent(p.pid(), &["heal"]);
    assert_eq!(healed["healed"], true);
    let (v, h) = p.fresh();
    for (i, o) in offsets(&v, &h).iter().enumerate() {
        close(
            *o,
            0.0,
            if i == 4 { 1.1 } else { 0.3 },
            &format!("column {i} after heal"),
        );
    }
    close(host_clock_skew(), host_before, 0.1, "the host's own clock");
}

#[test]
fn go_program_sees_the_offsets_through_its_vdso_calls() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (_, go_bin) = build(dir.path());
    let host_before = host_clock_skew();
    let mut p = Program::start(&go_bin);
    // Columns: wall ns, ns since start (monotonic). Track monotonic against our own.
    let (v, h) = p.fresh();
    let mono_base = h[1] - v[1] / 1e9;
    close(v[0] / 1e9 - h[0], 0.0, 0.3, "wall before");

    agent(p.pid(), &["set", "-3000", "--clocks", "realtime"]);
    let (v, h) = p.fresh();
    close(v[0] / 1e9 - h[0], -3.0, 0.3, "wall after -3 s realtime");
    close(
        mono_base + v[1] / 1e9 - h[1],
        0.0,
        0.3,
        "monotonic after -3 s realtime",
    );

    // Forward only: a monotonic clock stepping back makes Go's sleeps wait it out, as it should.
    agent(p.pid(), &["set", "15000", "--clocks", "both"]);
    let (v, h) = p.fresh();
    close(v[0] / 1e9 - h[0], 15.0, 0.3, "wall after +15 s both");
    close(
        mono_base + v[1] / 1e9 - h[1],
        15.0,
        0.3,
        "monotonic after +15 s both",
    );

    agent(p.pid(), &["set", "15000", "--clocks", "monotonic"]);
    let (v, h) = p.fresh();
    close(
        v[0] / 1e9 - h[0],
        0.0,
        0.3,
        "wall after +15 s monotonic only",
    );
    close(
        mono_base + v[1] / 1e9 - h[1],
        15.0,
        0.3,
        "monotonic after +15 s monotonic only",
    );

    agent(p.pid(), &["heal"]);
    // Healing steps monotonic back 15 s: the program's next sleep ends 15 s later.
    let (v, h) = p.next();
    close(v[0] / 1e9 - h[0], 0.0, 0.3, "wall after heal");
    close(host_clock_skew(), host_before, 0.1, "the host's own clock");
}

/// Lines read so far, the latest line's numbers, and our clocks when it arrived.
type Seen = (u64, Vec<f64>, [f64; 3]);

/// Reads a program's lines on a thread of its own, keeping the latest and a count.
struct Latest {
    pid: i32,
    state: std::sync::Arc<Mutex<Seen>>,
}

impl Latest {
    fn follow(mut p: Program) -> (Latest, std::thread::JoinHandle<Program>) {
        let state = std::sync::Arc::new(Mutex::new((0u64, Vec::new(), [0.0; 3])));
        let pid = p.pid();
        let s = state.clone();
        let h = std::thread::spawn(move || {
            while let Some(Ok(line)) = p.lines.next() {
                let host = [
                    now(libc::CLOCK_REALTIME),
                    now(libc::CLOCK_MONOTONIC),
                    now(libc::CLOCK_BOOTTIME),
                ];
                let v = line
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect();
                let mut g = s.lock().unwrap();
                *g = (g.0 + 1, v, host);
            }
            p
        });
        (Latest { pid, state }, h)
    }

    fn count(&self) -> u64 {
        self.state.lock().unwrap().0
    }

    /// The first line printed after now.
    fn fresh(&self) -> (Vec<f64>, [f64; 3]) {
        let seen = self.count();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.count() < seen + 2 {
            assert!(
                Instant::now() < deadline,
                "program {} stopped printing",
                self.pid
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let g = self.state.lock().unwrap();
        (g.1.clone(), g.2)
    }
}

#[test]
fn c_and_go_programs_survive_a_minute_of_strobe() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (c_bin, go_bin) = build(dir.path());
    let host_before = host_clock_skew();
    let (c, c_thread) = Latest::follow(Program::start(&c_bin));
    let (go, go_thread) = Latest::follow(Program::start(&go_bin));
    // Both clocks flip between +0 and +2 s every 100 ms for a minute, on both programs at once.
    let strobes: Vec<_> = [c.pid, go.pid]
        .into_iter()
        .map(|pid| {
            std::thread::spawn(move || {
                agent(
                    pid,
                    &[
                        "strobe",
                        "0",
                        "2000",
                        "--period-ms",
                        "100",
                        "--seconds",
                        "60",
                        "--clocks",
                        "both",
                    ],
                )
            })
        })
        .collect();
    for s in strobes {
        let r = s.join().unwrap();
        assert!(r["flips"].as_u64().unwrap() > 400, "{r}");
    }
    assert!(
        c.count() > 600,
        "the C program stalled: {} lines in a minute",
        c.count()
    );
    assert!(
        go.count() > 100,
        "the Go program stalled: {} lines in a minute",
        go.count()
    );
    for pid in [c.pid, go.pid] {
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "program {pid} died under strobe"
        );
        agent(pid, &["heal"]);
    }
    let (v, h) = c.fresh();
    close(v[0] - h[0], 0.0, 0.3, "C realtime after strobe and heal");
    close(v[1] - h[1], 0.0, 0.3, "C monotonic after strobe and heal");
    let (v, h) = go.fresh();
    close(v[0] / 1e9 - h[0], 0.0, 0.3, "Go wall after strobe and heal");
    close(host_clock_skew(), host_before, 0.1, "the host's own clock");
    for pid in [c.pid, go.pid] {
        // SAFETY: our own child processes.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    drop(c_thread.join());
    drop(go_thread.join());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn bumped_etcd_expires_a_lease_early_and_survives_100_cycles() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    require("etcd", "etcd-server");
    require("etcdctl", "etcd-client");
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let cu = format!("http://127.0.0.1:{client}");
    let pu = format!("http://127.0.0.1:{peer}");
    let mut etcd = Command::new("etcd")
        .args(["--name", "solo", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--listen-client-urls", &cu, "--advertise-client-urls", &cu])
        .args([
            "--listen-peer-urls",
            &pu,
            "--initial-advertise-peer-urls",
            &pu,
        ])
        .args(["--initial-cluster", &format!("solo={pu}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ctl = |args: &[&str]| -> String {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &cu])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while ctl(&["put", "ready", "1"]) != "OK" {
        assert!(Instant::now() < deadline, "etcd never came up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = etcd.id() as i32;
    let host_before = host_clock_skew();

    // 100 inject/heal cycles on the running server, timed.
    let (mut inject, mut heal) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let r = agent(
            pid,
            &["set", &(10 * (i + 1)).to_string(), "--clocks", "both"],
        );
        inject.push(r["took_us"].as_u64().unwrap());
        let r = agent(pid, &["heal"]);
        heal.push(r["took_us"].as_u64().unwrap());
    }
    assert!(
        etcd.try_wait().unwrap().is_none(),
        "etcd died during inject/heal cycles"
    );
    assert_eq!(ctl(&["put", "after-cycles", "1"]), "OK");
    inject.sort();
    heal.sort();
    eprintln!(
        "etcd ({} threads): inject median {} us, max {} us; heal median {} us, max {} us",
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .count(),
        inject[50],
        inject[99],
        heal[50],
        heal[99]
    );

    // A 10 s lease; the leader's clocks jump 15 s ahead: the lease must go at once, not in 10 s.
    // (etcd 3.4's lessor orders leases by wall time and confirms by monotonic time, so both move.)
    let grant = ctl(&["lease", "grant", "10"]);
    let lease = grant
        .split_whitespace()
        .nth(1)
        .expect("lease id")
        .to_string();
    assert_eq!(
        ctl(&["put", "leased", "v", &format!("--lease={lease}")]),
        "OK"
    );
    let t0 = Instant::now();
    agent(pid, &["set", "15000", "--clocks", "both"]);
    while !ctl(&["get", "leased", "--print-value-only"]).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "lease still alive after {:?}",
            t0.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let gone_after = t0.elapsed();
    agent(pid, &["heal"]);
    eprintln!("10 s lease gone {gone_after:?} after a +15 s bump");
    assert!(gone_after < Duration::from_secs(5));
    close(host_clock_skew(), host_before, 0.1, "the host's own clock");
    let _ = etcd.kill();
    let _ = etcd.wait();
}

#[test]
fn clear_errors_for_missing_processes() {
    let out = ferret()
        .args(["clock", "999999999", "set", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no process 999999999"), "{err}");
    let out = ferret()
        .args(["clock", "1", "set", "10", "--clocks", "sideways"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}
