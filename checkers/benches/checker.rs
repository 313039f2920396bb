//! `cargo bench -p ferret-checkers`: checker speed and memory on real and generated histories.
//!
//! Each case runs in a child process of this binary, so the peak resident memory it reports
//! (VmHWM) is that case's alone. Timings are wall-clock on whatever machine runs it; they are
//! figures to read, never assertions.

use ferret_checkers::history::describe::describe_call;
use ferret_checkers::synth::{
    queue_history, queue_with_swapped_dequeues, register_events, register_history, set_history,
    set_with_stale_read, with_stale_read, SynthOptions,
};
use ferret_checkers::{
    check, check_calls, read_calls, read_file, CheckOptions, JsonlWriter, ModelName, Report,
    VerdictName,
};
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn data_dir() -> PathBuf {
    std::env::var_os("FERRET_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn opts(model: ModelName) -> CheckOptions {
    CheckOptions {
        model: Some(model),
        shrink_steps: 0,
        ..CheckOptions::default()
    }
}

const SYNTH: [(&str, usize, usize); 4] = [
    ("synth-100k-p10", 100_000, 10),
    ("synth-100k-p50", 100_000, 50),
    ("synth-1m-p10", 1_000_000, 10),
    ("synth-1m-p50", 1_000_000, 50),
];

/// The synthetic store's history over 1,000 keys, 3 % unknown outcomes, seed 42.
fn synth_history(calls: usize, processes: usize) -> ferret_checkers::History {
    register_history(&SynthOptions {
        calls,
        keys: 1000,
        processes,
        unknown: 0.03,
        seed: 42,
        ..SynthOptions::default()
    })
}

fn synth_file(name: &str, calls: usize, processes: usize) -> PathBuf {
    let path = scratch().join(format!("{name}.jsonl"));
    if !path.exists() {
        write_jsonl(&path, &synth_history(calls, processes));
    }
    path
}

/// List-append transactions: (name, transactions, stale-read fraction of read-only ones).
const TXN: [(&str, usize, f64); 4] = [
    ("txn-100k", 100_000, 0.0),
    ("txn-100k-stale", 100_000, 0.01),
    ("txn-1m", 1_000_000, 0.0),
    ("txn-1m-stale", 1_000_000, 0.01),
];

/// Up to 4 micro-ops per transaction over 1,000 keys in use at once (each retired after 32
/// appends, as Jepsen's append workload does), 10 processes, 2 % failed and 2 % unknown
/// outcomes, seed 42; written as JSONL event by event.
fn txn_file(name: &str, txns: usize, stale: f64) -> PathBuf {
    use ferret_checkers::txn::synth::{txn_events, TxnSynthOptions};
    let path = scratch().join(format!("{name}.jsonl"));
    if !path.exists() {
        let tmp = path.with_extension("part");
        let mut w = JsonlWriter::new(BufWriter::new(std::fs::File::create(&tmp).unwrap()));
        txn_events(
            &TxnSynthOptions {
                txns,
                keys: 1000,
                writes_per_key: 32,
                processes: 10,
                max_mops: 4,
                stale_reads: stale,
                seed: 42,
                ..TxnSynthOptions::default()
            },
            |e| w.write(&e).unwrap(),
        );
        std::io::Write::flush(&mut w.into_inner()).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// The same 500,000 calls (about 1 M events) as JSONL and as Jepsen's EDN, one op map per line:
/// how fast each reads.
fn read_file_of(format: &str) -> PathBuf {
    if format != "edn" {
        return synth_file("read-1m", 500_000, 50);
    }
    let path = scratch().join("read-1m.edn");
    if !path.exists() {
        let text = ferret_checkers::testing::edn_text(&synth_history(500_000, 50), false);
        std::fs::write(&path, text).unwrap();
    }
    path
}

/// One key, 50 processes, 5 % unknown outcomes.
#[derive(Clone, Copy)]
struct OneKey {
    name: &'static str,
    calls: usize,
    model: ModelName,
    /// With one certainly stale read (for a queue: two dequeues out of order).
    stale: bool,
    /// A queue's dequeues may be lost too.
    lost: bool,
}

impl OneKey {
    const fn new(name: &'static str, calls: usize, model: ModelName) -> OneKey {
        OneKey {
            name,
            calls,
            model,
            stale: false,
            lost: false,
        }
    }
    const fn stale(self) -> OneKey {
        OneKey {
            stale: true,
            ..self
        }
    }
    const fn lost(self) -> OneKey {
        OneKey { lost: true, ..self }
    }
}

const ONE_KEY: [OneKey; 10] = [
    OneKey::new("one-key-100k", 100_000, ModelName::CasRegister),
    OneKey::new("one-key-100k-stale", 100_000, ModelName::CasRegister).stale(),
    OneKey::new("one-key-1m", 1_000_000, ModelName::CasRegister),
    OneKey::new("one-key-1m-stale", 1_000_000, ModelName::CasRegister).stale(),
    OneKey::new("one-key-set-100k", 100_000, ModelName::Set),
    OneKey::new("one-key-set-100k-stale", 100_000, ModelName::Set).stale(),
    OneKey::new("one-key-queue-100k", 100_000, ModelName::FifoQueue),
    OneKey::new("one-key-queue-100k-swapped", 100_000, ModelName::FifoQueue).stale(),
    OneKey::new("one-key-queue-100k-lost", 100_000, ModelName::FifoQueue).lost(),
    OneKey::new(
        "one-key-queue-100k-lost-swapped",
        100_000,
        ModelName::FifoQueue,
    )
    .stale()
    .lost(),
];

/// A queue history's dequeues, as a fraction of its calls.
const QUEUE_DEQUEUES: f64 = 0.5;

/// A set history's reads, as a fraction of its calls: each returns the whole set.
const SET_READS: f64 = 0.001;

fn one_key_file(case: &OneKey) -> PathBuf {
    let &OneKey {
        name,
        calls,
        model,
        stale,
        lost,
    } = case;
    let path = scratch().join(format!("{name}.jsonl"));
    if !path.exists() {
        let opts = SynthOptions {
            calls,
            keys: 1,
            processes: 50,
            unknown: 0.05,
            seed: 42,
            ..SynthOptions::default()
        };
        let h = match model {
            ModelName::Set => set_history(&opts, SET_READS),
            ModelName::FifoQueue => queue_history(&opts, QUEUE_DEQUEUES, lost),
            _ => register_history(&opts),
        };
        let h = match (stale, model) {
            (false, _) => h,
            (true, ModelName::Set) => set_with_stale_read(&h).expect("a read after an add").0,
            (true, ModelName::FifoQueue) => {
                queue_with_swapped_dequeues(&h)
                    .expect("two ordered dequeues")
                    .0
            }
            (true, _) => with_stale_read(&h).expect("two ordered writes").0,
        };
        write_jsonl(&path, &h);
    }
    path
}

fn write_jsonl(path: &std::path::Path, h: &ferret_checkers::History) {
    let tmp = path.with_extension("tmp");
    let mut w = JsonlWriter::new(BufWriter::new(std::fs::File::create(&tmp).unwrap()));
    for e in &h.events {
        w.write(e).unwrap();
    }
    drop(w);
    std::fs::rename(&tmp, path).unwrap();
}

/// Many keys, streamed to disk as generated: (name, calls, keys, fraction of stale reads).
const MANY_KEYS: [(&str, usize, usize, f64); 2] = [
    ("many-keys-1m-invalid", 1_000_000, 1000, 0.0004),
    ("many-keys-10m", 10_000_000, 10_000, 0.0),
];

fn many_keys_file(name: &str, calls: usize, keys: usize, stale: f64) -> PathBuf {
    let path = scratch().join(format!("{name}.jsonl"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut w = JsonlWriter::new(BufWriter::new(std::fs::File::create(&tmp).unwrap()));
        register_events(
            &SynthOptions {
                calls,
                keys,
                processes: 50,
                unknown: 0.03,
                stale_reads: stale,
                seed: 42,
            },
            |e| w.write(&e).unwrap(),
        );
        drop(w);
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// Read and check a file the way `ferret check` does: straight into calls.
fn check_path(path: &std::path::Path, opts: &CheckOptions) -> (Report, Duration) {
    let t = Instant::now();
    let file = read_calls(path, None).unwrap();
    let read = t.elapsed();
    let r = check_calls(file.calls, file.warnings, file.nemesis.len(), opts).unwrap();
    (r, read)
}

/// Check every Porcupine etcd log, `rounds` times over: how many logs, each round's time (sorted),
/// and the slowest single log.
fn time_etcd_logs(
    rounds: usize,
    check_one: impl Fn(&std::path::Path) -> VerdictName,
) -> (usize, Vec<Duration>, (Duration, String)) {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(data_dir().join("porcupine/jepsen"))
        .expect("shared/data/porcupine/jepsen")
        .map(|e| e.unwrap().path())
        .filter(|p| only_log(p))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "FERRET_BENCH_LOGS matches no log");
    // A few logs timed closely: FERRET_BENCH_ROUNDS of them.
    let rounds = std::env::var("FERRET_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(rounds);
    let mut times = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut per_log = vec![Vec::new(); logs.len()];
    for _ in 0..rounds {
        let t = Instant::now();
        for (i, log) in logs.iter().enumerate() {
            let t1 = Instant::now();
            assert_ne!(check_one(log), VerdictName::Unknown);
            let d = t1.elapsed();
            per_log[i].push(d);
            if d > slowest.0 {
                slowest = (d, log.file_name().unwrap().to_string_lossy().into());
            }
        }
        times.push(t.elapsed());
    }
    times.sort();
    // Each log's median, for a side-by-side comparison with another checker's per-file times.
    if let Ok(out) = std::env::var("FERRET_BENCH_PER_FILE") {
        let mut tsv = String::new();
        for (log, mut d) in logs.iter().zip(per_log) {
            d.sort();
            tsv.push_str(&format!(
                "{}\t{:.6}\n",
                log.file_name().unwrap().to_string_lossy(),
                d[d.len() / 2].as_secs_f64()
            ));
        }
        std::fs::write(out, tsv).unwrap();
    }
    (logs.len(), times, slowest)
}

/// Whether FERRET_BENCH_LOGS (comma-separated file names; all when unset) names this log.
fn only_log(path: &std::path::Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    std::env::var("FERRET_BENCH_LOGS").map_or(true, |only| only.split(',').any(|o| o == name))
}

/// Run one case in this process and print its result line.
fn run_case(name: &str) {
    let porcupine = data_dir().join("porcupine");
    match name {
        "etcd" => {
            // As `ferret check` reads these logs: a failed cas is a compare that failed.
            let opts = CheckOptions {
                failed_cas: ferret_checkers::FailedCas::Observe,
                ..opts(ModelName::CasRegister)
            };
            let (logs, rounds, slowest) = time_etcd_logs(20, |log| {
                let (h, _) = read_file(log, None).unwrap();
                check(&h, &opts).unwrap().verdict
            });
            println!(
                "etcd\t{logs} logs, read + check, median of {} rounds {:.4} s (min {:.4} s); slowest single log {} {:.4} s\t{:.0}",
                rounds.len(),
                rounds[rounds.len() / 2].as_secs_f64(),
                rounds[0].as_secs_f64(),
                slowest.1,
                slowest.0.as_secs_f64(),
                peak_rss_mib()
            );
        }
        kv if kv.starts_with("kv/") => {
            let t = Instant::now();
            let (h, _) = read_file(&porcupine.join(format!("{kv}.txt")), None).unwrap();
            let r = check(&h, &opts(ModelName::StringKv)).unwrap();
            let per_key: Vec<String> = r
                .keys
                .iter()
                .map(|k| format!("{}:{}/{:.4}s", k.key, &k.verdict.as_str()[..1], k.elapsed_s))
                .collect();
            println!(
                "{kv}\t{} in {:.4} s total; per key {}\t{:.0}",
                r.verdict.as_str(),
                t.elapsed().as_secs_f64(),
                per_key.join(" "),
                peak_rss_mib()
            );
        }
        read if read.starts_with("read-1m-") => {
            let format = read.trim_start_matches("read-1m-");
            let path = read_file_of(format);
            let size = std::fs::metadata(&path).unwrap().len();
            let mut times = Vec::new();
            let mut calls = 0;
            for _ in 0..3 {
                let t = Instant::now();
                let file = read_calls(&path, None).unwrap();
                times.push(t.elapsed());
                calls = file.calls.len();
            }
            times.sort();
            println!(
                "{read}\t{calls} calls, {:.0} MB of {format}, read into calls: median of 3 {:.3} s (min {:.3} s)\t{:.0}",
                size as f64 / 1e6,
                times[1].as_secs_f64(),
                times[0].as_secs_f64(),
                peak_rss_mib()
            );
        }
        "etcd-default" => {
            // What a user runs on each log: the default options, shrinking included.
            let opts = CheckOptions {
                model: Some(ModelName::CasRegister),
                failed_cas: ferret_checkers::FailedCas::Observe,
                ..CheckOptions::default()
            };
            let (logs, rounds, slowest) = time_etcd_logs(5, |log| check_path(log, &opts).0.verdict);
            println!(
                "etcd-default\t{logs} logs, read + check + explain and shrink (defaults), median of {} rounds {:.6} s; slowest single log {} {:.4} s\t{:.0}",
                rounds.len(),
                rounds[rounds.len() / 2].as_secs_f64(),
                slowest.1,
                slowest.0.as_secs_f64(),
                peak_rss_mib()
            );
        }
        kv if kv.starts_with("default-kv/") => {
            let name = kv.trim_start_matches("default-");
            let opts = CheckOptions {
                model: Some(ModelName::StringKv),
                ..CheckOptions::default()
            };
            // Read and check, as `ferret check` does; median of 5.
            let mut times = Vec::new();
            let mut verdict = VerdictName::Unknown;
            for _ in 0..5 {
                let t = Instant::now();
                verdict = check_path(&porcupine.join(format!("{name}.txt")), &opts)
                    .0
                    .verdict;
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "{kv}\t{} in {:.4} s with the defaults (shrinking on), median of 5 (min {:.4} s)\t{:.0}",
                verdict.as_str(),
                times[2].as_secs_f64(),
                times[0].as_secs_f64(),
                peak_rss_mib()
            );
        }
        many if many.starts_with("many-keys") => {
            let &(_, calls, keys, stale) =
                MANY_KEYS.iter().find(|s| s.0 == many).expect("case name");
            let path = many_keys_file(many, calls, keys, stale);
            for shrink in [true, false] {
                if !shrink && stale == 0.0 {
                    continue;
                }
                let t = Instant::now();
                let opts = CheckOptions {
                    model: Some(ModelName::CasRegister),
                    shrink_steps: if shrink {
                        CheckOptions::default().shrink_steps
                    } else {
                        0
                    },
                    ..CheckOptions::default()
                };
                let (r, read) = check_path(&path, &opts);
                let total = t.elapsed();
                let count = |v| r.keys.iter().filter(|k| k.verdict == v).count();
                let unique = r
                    .keys
                    .iter()
                    .filter(|k| k.method == ferret_checkers::Method::UniqueValues)
                    .count();
                println!(
                    "{many}{}\t{} calls, {keys} keys, 50 processes, 3% unknown: {} ({} invalid keys, {} unknown; {unique} keys decided by unique-values) in {:.3} s (read {:.3} s, check {:.3} s)\t{:.0}",
                    if shrink { "" } else { " (shrinking off)" },
                    r.calls,
                    r.verdict.as_str(),
                    count(VerdictName::Invalid),
                    count(VerdictName::Unknown),
                    total.as_secs_f64(),
                    read.as_secs_f64(),
                    (total - read).as_secs_f64(),
                    peak_rss_mib()
                );
            }
        }
        one if one.starts_with("one-key") => {
            let case = ONE_KEY.iter().find(|s| s.name == one).expect("case name");
            let &OneKey {
                model, stale, lost, ..
            } = case;
            let path = one_key_file(case);
            let t = Instant::now();
            let (h, _) = read_file(&path, None).unwrap();
            let read = t.elapsed();
            // What a user runs: the default options, shrinking included.
            let r = check(
                &h,
                &CheckOptions {
                    model: Some(model),
                    ..CheckOptions::default()
                },
            )
            .unwrap();
            let total = t.elapsed();
            let k = &r.keys[0];
            let named = k
                .explanation
                .as_ref()
                .map(|e| {
                    let shrunk = e.shrunk.as_ref().map_or(String::new(), |s| {
                        format!(
                            ", shrunk to {} calls{}{}",
                            s.calls.len(),
                            if s.minimal { ", minimal" } else { "" },
                            if s.first.is_some() {
                                ", first call proven"
                            } else {
                                ""
                            }
                        )
                    });
                    format!("; names {}{shrunk}", describe_call(&e.stuck))
                })
                .unwrap_or_default();
            println!(
                "{one}\t{} events, 1 key ({}), 50 processes, 5% unknown{}: {} by {} in {:.3} s (read {:.3} s, check {:.3} s){named}\t{:.0}",
                h.events.len(),
                match model {
                    ModelName::Set => "a set, 0.1% reads of it all",
                    ModelName::FifoQueue if lost => {
                        "a FIFO queue, half dequeues, unknown enqueues and dequeues"
                    }
                    ModelName::FifoQueue => "a FIFO queue, half dequeues, unknown enqueues only",
                    _ => "a cas register",
                },
                match (stale, model) {
                    (false, _) => "",
                    (true, ModelName::FifoQueue) => ", two dequeues out of order",
                    (true, _) => ", one stale read",
                },
                r.verdict.as_str(),
                k.method.as_str(),
                total.as_secs_f64(),
                read.as_secs_f64(),
                (total - read).as_secs_f64(),
                peak_rss_mib()
            );
        }
        txn if txn.starts_with("txn-") => {
            let &(_, n, stale) = TXN.iter().find(|s| s.0 == txn).expect("case name");
            let path = txn_file(txn, n, stale);
            // As `ferret check` reads it: straight into calls.
            let t = Instant::now();
            let file = read_calls(&path, None).unwrap();
            let read = t.elapsed();
            let r = check_calls(
                file.calls,
                Vec::new(),
                0,
                &CheckOptions {
                    model: Some(ModelName::ListAppend),
                    ..CheckOptions::default()
                },
            )
            .unwrap();
            let total = t.elapsed();
            let k = &r.keys[0];
            println!(
                "{txn}\t{} list-append txns, <= 4 micro-ops, 1000 keys in use, 10 processes{}: {} in {:.3} s (read {:.3} s, check {:.3} s; {} edges){}\t{:.0}",
                r.calls,
                if stale > 0.0 { ", 1% stale read-only txns" } else { "" },
                r.verdict.as_str(),
                total.as_secs_f64(),
                read.as_secs_f64(),
                (total - read).as_secs_f64(),
                k.configurations,
                k.reason.as_ref().map(|r| format!("; {r}")).unwrap_or_default(),
                peak_rss_mib()
            );
        }
        synth => {
            let &(_, calls, procs) = SYNTH.iter().find(|s| s.0 == synth).expect("case name");
            let path = synth_file(synth, calls, procs);
            let t = Instant::now();
            let (h, _) = read_file(&path, None).unwrap();
            let read = t.elapsed();
            let r = check(&h, &opts(ModelName::CasRegister)).unwrap();
            let total = t.elapsed();
            let slowest = r.keys.iter().map(|k| k.elapsed_s).fold(0.0f64, f64::max);
            println!(
                "{synth}\t{} events, 1000 keys, {procs} processes, 3% unknown: {} in {:.3} s (read {:.3} s, check {:.3} s; slowest key {:.4} s)\t{:.0}",
                h.events.len(),
                r.verdict.as_str(),
                total.as_secs_f64(),
                read.as_secs_f64(),
                (total - read).as_secs_f64(),
                slowest,
                peak_rss_mib()
            );
        }
    }
}

fn main() {
    if let Ok(case) = std::env::var("FERRET_BENCH_CASE") {
        run_case(&case);
        return;
    }
    assert!(
        data_dir().join("porcupine").is_dir(),
        "shared/data not found at {}",
        data_dir().display()
    );
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let mut cases: Vec<String> = vec!["etcd".into(), "etcd-default".into()];
    for kv in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        cases.push(format!("kv/{kv}"));
        cases.push(format!("default-kv/{kv}"));
    }
    cases.push("read-1m-jsonl".into());
    cases.push("read-1m-edn".into());
    cases.extend(SYNTH.iter().map(|s| s.0.to_string()));
    cases.extend(ONE_KEY.iter().map(|s| s.name.to_string()));
    cases.extend(MANY_KEYS.iter().map(|s| s.0.to_string()));
    cases.extend(TXN.iter().map(|s| s.0.to_string()));
    let exe = std::env::current_exe().unwrap();
    println!("case\tresult\tpeak RSS MiB");
    for case in cases {
        if !filter.is_empty() && !filter.iter().any(|f| case.contains(f.as_str())) {
            continue;
        }
        if let Some(format) = case.strip_prefix("read-1m-") {
            read_file_of(format);
        }
        if let Some(&(name, calls, procs)) = SYNTH.iter().find(|s| s.0 == case) {
            synth_file(name, calls, procs); // generate outside the measured child
        }
        if let Some(one) = ONE_KEY.iter().find(|s| s.name == case) {
            one_key_file(one);
        }
        if let Some(&(name, calls, keys, stale)) = MANY_KEYS.iter().find(|s| s.0 == case) {
            many_keys_file(name, calls, keys, stale);
        }
        if let Some(&(name, n, stale)) = TXN.iter().find(|s| s.0 == case) {
            txn_file(name, n, stale);
        }
        let out = Command::new(&exe)
            .env("FERRET_BENCH_CASE", &case)
            .output()
            .expect("run bench case");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("{case} failed:\n{}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
    }
}
