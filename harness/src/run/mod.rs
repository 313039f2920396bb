//! `ferret run`: a real cluster, concurrent clients, a nemesis, a checked history.
//!
//! - mod.rs: the command, setup and teardown, the final check
//! - scheduler.rs: the cluster phase: start, clients at their rate, the final reads
//! - nemesis.rs: the fault schedule, and each fault turned into node verbs (apply and heal)
//! - disk_faults.rs: the disk faults, asked of the nodes' fault file systems
//! - took_effect.rs: the probes that show each fault's apply and heal took effect
//! - progress.rs: counters, the progress line, the harness's CPU figure

mod disk_faults;
mod leader;
mod membership_faults;
mod nemesis;
mod network_faults;
mod ping_mesh;
mod progress;
mod recovery;
mod scheduler;
mod took_effect;

use crate::config::Config;
use crate::db::Db;
use crate::disk::Disks;
use crate::platform::{self, Platform};
use crate::report::outputs::{self, Outputs, Page};
use crate::report::results::{Results, RunFacts};
use crate::store::{create_run_dir, HistoryLog};
use crate::{check, exit};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use ferret_checkers::{read_file, Budget, CheckOptions, Format};
use ferret_workloads::clients::factory;
use ferret_workloads::Client;
use progress::Stats;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Run a system under faults and check what its clients saw.
///
/// Starts the configured number of nodes (network namespaces on this machine, or Docker
/// containers; needs root), the system on each, concurrent clients and a nemesis; records the history into
/// store/<name>/<time>/ as it happens; heals everything, reads every key one last time, tears the
/// cluster down, and checks the history. Everything the run creates is removed at the end, on
/// Ctrl-C, and by `ferret clean` if the harness itself was killed.
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  ferret run configs/etcd.yaml --time-limit 30 --seed 7\n\n\
Exit codes: 0 valid, 1 invalid, 2 unknown, 3 could not run (bad config, missing tool, cluster \
never came up, interrupted)."
)]
pub struct RunArgs {
    /// The run's YAML config (see configs/).
    config: PathBuf,
    #[command(flatten)]
    platform: platform::flags::PlatformFlags,
    /// Seconds of workload.
    #[arg(long, value_name = "S")]
    time_limit: Option<f64>,
    /// Client processes running at once.
    #[arg(long)]
    concurrency: Option<usize>,
    /// Target ops per second, all clients together.
    #[arg(long, value_name = "OPS")]
    rate: Option<f64>,
    /// Seed for the schedule of ops and faults.
    #[arg(long)]
    seed: Option<u64>,
    /// Faults, comma-separated (e.g. kill,partition-halves), or `none`.
    #[arg(long, value_name = "LIST")]
    nemesis: Option<String>,
    /// Store folder.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Check the config and flags, print what would run, and start nothing.
    #[arg(long)]
    dry_run: bool,
    /// Run N times (release qualification), each with a seed derived from --seed; stop at the
    /// first invalid run unless --keep-going. Prints a summary, writes one combined junit.xml;
    /// the exit code is the worst verdict.
    #[arg(long, value_name = "N", default_value_t = 1)]
    test_count: u32,
    /// With --test-count: go on after an invalid run.
    #[arg(long)]
    keep_going: bool,
    /// Write the run's folder into FILE as soon as it exists (how `ferret suite` finds it).
    #[arg(long, value_name = "FILE", hide = true)]
    run_dir_file: Option<PathBuf>,
}

impl RunArgs {
    fn apply(&self, c: &mut Config) {
        self.platform.apply(c);
        if let Some(t) = self.time_limit {
            c.time_limit = t;
        }
        if let Some(n) = self.concurrency {
            c.workload.concurrency = n;
        }
        if let Some(r) = self.rate {
            c.workload.rate = r;
        }
        if let Some(s) = self.seed {
            c.seed = Some(s);
        }
        if let Some(n) = &self.nemesis {
            c.nemesis.faults = if n == "none" {
                Vec::new()
            } else {
                n.split(',').map(|s| s.trim().to_string()).collect()
            };
        }
        if let Some(s) = &self.store {
            c.store = s.clone();
        }
    }
}

pub fn run(args: RunArgs) -> Result<u8> {
    // The daemons' own processes are the harness's to reap when their launchers die first.
    platform::adopt_orphans();
    let mut config = Config::load(&args.config)?;
    args.apply(&mut config);
    config
        .validate()
        .map_err(|e| anyhow!("{} (with command-line flags): {e}", args.config.display()))?;
    let seed = config.seed.unwrap_or_else(rand::random);
    config.seed = Some(seed);
    if args.dry_run {
        let faults: Vec<String> = config.faults()?.iter().map(|f| f.to_string()).collect();
        println!(
            "{}: valid config. {} would run {} nodes ({}) for {} s: {} clients at {} ops/s, {}, \
             seed {seed}, faults: {}",
            args.config.display(),
            config.name,
            config.platform.nodes,
            config.platform.kind,
            config.time_limit,
            config.workload.concurrency,
            config.workload.rate,
            config.settings()?.describe(),
            if faults.is_empty() {
                "none".to_string()
            } else {
                faults.join(", ")
            },
        );
        if config.uses_faultfs() {
            let d = &config.nemesis.disk;
            println!(
                "each node's data directory on ferret's fault file system: directory changes {} \
                 ({}), fsyncs {}{}",
                match d.metadata {
                    ferret_faultfs::Metadata::Strict => "strict",
                    ferret_faultfs::Metadata::Journaled => "journaled",
                },
                match d.metadata {
                    ferret_faultfs::Metadata::Strict => "durable after an fsync of their directory",
                    ferret_faultfs::Metadata::Journaled => "durable after any later fsync",
                },
                if d.sync_through {
                    "passed on to the disk"
                } else {
                    "answered at once"
                },
                if d.settle_setup {
                    ", the setup made durable before the workload"
                } else {
                    ""
                }
            );
        }
        return Ok(exit::VALID);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store = config.store.clone();
    let result = if args.test_count <= 1 {
        rt.block_on(run_async(config, seed, args.run_dir_file.as_deref()))
            .map(|(report, _)| exit::for_verdict(report.verdict))
    } else {
        repeated(&rt, config, seed, args.test_count, args.keep_going)
    };
    // An interrupted check is still running on a blocking thread: do not wait for it.
    rt.shutdown_background();
    // Whatever the outcome, the run's folder (if it got one) is listed.
    if store.is_dir() {
        if let Err(e) = crate::site::index::update(&store) {
            eprintln!("ferret: the store's index.html was not updated: {e:#}");
        }
    }
    result
}

/// The seed of run `i` of a series: distinct, and a pure function of the series' seed.
fn derived_seed(seed: u64, i: u32) -> u64 {
    // splitmix64
    let mut z = seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How bad an exit code is, for "the worst verdict" of a series.
fn badness(code: u8) -> u8 {
    match code {
        exit::INVALID => 3,
        exit::COULD_NOT_RUN => 2,
        exit::UNKNOWN => 1,
        _ => 0,
    }
}

/// `--test-count N`: N runs with derived seeds, a summary table and one junit.xml.
fn repeated(
    rt: &tokio::runtime::Runtime,
    config: Config,
    seed: u64,
    count: u32,
    keep_going: bool,
) -> Result<u8> {
    let mut rows: Vec<(u32, u64, u8, String)> = Vec::new();
    let mut reports = Vec::new();
    let mut worst = exit::VALID;
    for i in 0..count {
        let s = derived_seed(seed, i);
        let mut c = config.clone();
        c.seed = Some(s);
        println!("\n=== run {} of {count}: seed {s}", i + 1);
        let (code, place) = match rt.block_on(run_async(c, s, None)) {
            Ok((report, dir)) => {
                let code = exit::for_verdict(report.verdict);
                reports.push((format!("{} run {} (seed {s})", config.name, i + 1), report));
                (code, dir.display().to_string())
            }
            Err(e) => {
                eprintln!("ferret: run {}: {e:#}", i + 1);
                (exit::COULD_NOT_RUN, format!("could not run: {e}"))
            }
        };
        if badness(code) > badness(worst) {
            worst = code;
        }
        rows.push((i + 1, s, code, place));
        // An interrupt stops the series; so does an invalid run unless asked to go on.
        if code == exit::COULD_NOT_RUN || (code == exit::INVALID && !keep_going) {
            break;
        }
    }
    println!("\n{} runs of {}: ", rows.len(), config.name);
    println!("  {:>3}  {:<20}  {:<8}  store", "run", "seed", "verdict");
    for (i, s, code, place) in &rows {
        let verdict = match *code {
            exit::VALID => "valid",
            exit::INVALID => "INVALID",
            exit::UNKNOWN => "unknown",
            _ => "error",
        };
        println!("  {i:>3}  {s:<20}  {verdict:<8}  {place}");
    }
    if rows.len() < count as usize {
        println!(
            "  (stopped after run {}: {} more not run)",
            rows.len(),
            count as usize - rows.len()
        );
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let junit = config
        .store
        .join(&config.name)
        .join(format!("series-{stamp}.junit.xml"));
    let suites: Vec<(String, &ferret_checkers::Report)> =
        reports.iter().map(|(n, r)| (n.clone(), r)).collect();
    std::fs::write(&junit, crate::report::junit::render_many(&suites))
        .with_context(|| format!("cannot write {}", junit.display()))?;
    println!("junit: {}", junit.display());
    Ok(worst)
}

struct Ctx {
    config: Config,
    /// This binary, run on nodes as the clock agent.
    agent: PathBuf,
    /// Clock offset (ns) and clocks in force per node, re-applied when a node restarts.
    skews: tokio::sync::Mutex<std::collections::BTreeMap<String, (i64, String)>>,
    /// When the workload ends; clock agents that change offsets over time stop by then.
    deadline: std::sync::OnceLock<Instant>,
    /// What the system said its version is (`db.version`).
    system_version: std::sync::OnceLock<String>,
    /// Nanoseconds on the history's clock when the workload ended: later ops are the final ones.
    workload_end_ns: std::sync::OnceLock<i64>,
    /// Nodes that did not come back after a heal.
    recovery_failures: std::sync::Mutex<Vec<recovery::RecoveryFailure>>,
    /// Faults whose probe showed they did not take effect.
    ineffective: std::sync::Mutex<Vec<took_effect::Ineffective>>,
    /// Strobe and drift agents still running, with the node and offset they started from.
    clock_jobs: tokio::sync::Mutex<Vec<(String, i64, tokio::process::Child)>>,
    /// The packet holders of the delay fault in force.
    holders: network_faults::Holders,
    /// The cluster's members as the nemesis has changed them.
    membership: tokio::sync::Mutex<ferret_nemesis::membership::Membership>,
    /// Why the last membership change failed, for its probe.
    membership_error: std::sync::Mutex<Option<String>>,
    seed: u64,
    platform: Box<dyn Platform>,
    db: Db,
    /// The nodes' fault file systems, when the run has them.
    disks: Option<Disks>,
    history: HistoryLog,
    /// One client per node, of the protocol the config names.
    clients: Vec<Box<dyn Client>>,
    /// What the clients ask, and what they read at the end.
    workload: Box<dyn ferret_workloads::Workload>,
    stats: Stats,
    next_process: AtomicI64,
    run_dir: PathBuf,
}

/// A client for each node, speaking `client.protocol`.
fn make_clients(
    config: &Config,
    db: &Db,
    nodes: &[platform::Node],
) -> Result<Vec<Box<dyn Client>>> {
    let params = factory::ClientParams {
        protocol: config.client.protocol.clone(),
        timeout: Duration::from_secs_f64(config.client.timeout),
        serializable: config.client.serializable,
        http: config.http_spec()?.map(Arc::new),
        bucket: config.client.bucket.clone(),
        replicas: config.nats_replicas(),
    };
    let settings = config.settings()?;
    nodes
        .iter()
        .map(|n| {
            factory::make(
                &params,
                settings.as_ref(),
                factory::Endpoint {
                    node: &n.name,
                    ip: &n.ip,
                    url: db.client_url(n),
                },
            )
            .map_err(anyhow::Error::msg)
        })
        .collect()
}

/// Watch for Ctrl-C and SIGTERM from now on; the receiver says why once one arrives.
/// Handlers are installed before anything is created, so an interrupt at any moment is seen and
/// the run tears down in order instead of dying with its namespaces in place.
fn watch_signals() -> Result<tokio::sync::watch::Receiver<Option<&'static str>>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let (tx, rx) = tokio::sync::watch::channel(None);
    tokio::spawn(async move {
        let why = tokio::select! {
            _ = int.recv() => "interrupted (Ctrl-C)",
            _ = term.recv() => "terminated (SIGTERM)",
        };
        let _ = tx.send(Some(why));
    });
    Ok(rx)
}

async fn run_async(
    mut config: Config,
    seed: u64,
    announce: Option<&std::path::Path>,
) -> Result<(ferret_checkers::Report, PathBuf)> {
    let mut stop = watch_signals()?;
    let faults = config.faults()?;
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    println!(
        "ferret run {}: {} nodes, {} s, seed {seed}, run id {run_id}",
        config.name, config.platform.nodes, config.time_limit
    );
    tokio::select! {
        r = platform::prepare(&mut config) => r?,
        _ = stop.changed() => bail!("{} while preparing the {} platform", stop.borrow().unwrap_or("stopped"), config.platform.kind),
    }
    let workload = config.workload()?;
    let run_dir = create_run_dir(&config.store, &config.name)?;
    if let Some(file) = announce {
        std::fs::write(file, run_dir.display().to_string())
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    std::fs::write(run_dir.join("config.yaml"), yaml_serde::to_string(&config)?)?;
    let history = HistoryLog::create(&run_dir.join("history.jsonl"), Instant::now())?;
    let agent =
        std::env::current_exe().context("cannot find the ferret binary for the clock agent")?;
    // From here on everything made is torn down, whatever happens.
    let created = Instant::now();
    // Not cut short by an interrupt: it removes what it made only when it fails, so an interrupt
    // is seen once it returns, and the teardown below removes everything.
    let platform = platform::create(&config, &run_id).await?;
    println!(
        "{} nodes on {} up in {:.1} s",
        platform.nodes().len(),
        platform.kind(),
        created.elapsed().as_secs_f64()
    );
    let db = Db::new(config.db.clone(), platform.as_ref(), run_dir.join("nodes"));
    let clients = make_clients(&config, &db, platform.nodes());
    let clients = match clients {
        Ok(c) => c,
        Err(e) => {
            platform.teardown().await;
            return Err(e);
        }
    };
    let disks = if config.uses_faultfs() {
        let nodes_dir = run_dir.join("nodes");
        let mounted = tokio::select! {
            r = Disks::mount(platform.as_ref(), &nodes_dir, &config.nemesis.disk) => r,
            _ = stop.changed() => Err(anyhow!("{} while mounting the fault file systems", stop.borrow().unwrap_or("stopped"))),
        };
        match mounted {
            Ok(d) => {
                println!("data directories on ferret's fault file system (un-fsynced writes can be lost)");
                Some(d)
            }
            Err(e) => {
                platform.teardown().await;
                return Err(e.context("cannot mount the fault file systems"));
            }
        }
    } else {
        None
    };
    let ctx = Arc::new(Ctx {
        agent,
        skews: Default::default(),
        deadline: std::sync::OnceLock::new(),
        workload_end_ns: std::sync::OnceLock::new(),
        recovery_failures: Default::default(),
        ineffective: Default::default(),
        system_version: std::sync::OnceLock::new(),
        clock_jobs: Default::default(),
        holders: Default::default(),
        membership_error: Default::default(),
        membership: tokio::sync::Mutex::new(ferret_nemesis::membership::Membership::new(
            &platform.names(),
            &[],
        )),
        next_process: AtomicI64::new(config.workload.concurrency as i64),
        config,
        seed,
        platform,
        db,
        disks,
        history,
        clients,
        workload,
        stats: Stats::default(),
        run_dir: run_dir.clone(),
    });
    let interrupted =
        |why: Option<&str>| anyhow!("{}; the cluster was torn down", why.unwrap_or("stopped"));
    let already = *stop.borrow();
    let outcome = if already.is_some() {
        Err(interrupted(already))
    } else {
        tokio::select! {
            r = scheduler::cluster_phase(ctx.clone(), faults) => r,
            _ = stop.changed() => Err(interrupted(*stop.borrow())),
        }
    };
    // Whatever happened: kill the daemons, unmount their file systems (nothing holds them now),
    // and remove the network, data and registry.
    ctx.db.kill_all(ctx.platform.nodes()).await;
    if let Some(d) = &ctx.disks {
        d.unmount_all().await;
    }
    ctx.platform.teardown().await;
    let (elapsed, cpu) = outcome?;
    let total = ctx.stats.total();
    let achieved = total as f64 / elapsed.max(1e-9);
    println!(
        "workload done: {} ops in {:.1} s ({achieved:.0} ops/s): {} ok, {} fail, {} info; harness CPU {:.1} % of one core",
        total,
        elapsed,
        ctx.stats.ok.load(Ordering::Relaxed),
        ctx.stats.fail.load(Ordering::Relaxed),
        ctx.stats.info.load(Ordering::Relaxed),
        100.0 * cpu / elapsed.max(1e-9)
    );
    let asked = ctx.config.workload.rate;
    if achieved < 0.9 * asked {
        // Said out loud: a history with fewer ops than asked tests less than the config claims.
        let faulted = !ctx
            .stats
            .faults_applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        let why = if faulted {
            format!(
                "while its node is cut off, paused or down, an op takes up to client.timeout ({} \
                 s), and clients never burst to catch up ({} ops ended unknown, {} failed). \
                 Expected under faults; a shorter client.timeout gives more ops",
                ctx.config.client.timeout,
                ctx.stats.info.load(Ordering::Relaxed),
                ctx.stats.fail.load(Ordering::Relaxed),
            )
        } else {
            format!(
                "no fault was applied, so the system's reply time (or this machine) was the \
                 limit for {} clients ({} ops ended unknown, {} failed); a higher \
                 workload.concurrency gives more ops",
                ctx.config.workload.concurrency,
                ctx.stats.info.load(Ordering::Relaxed),
                ctx.stats.fail.load(Ordering::Relaxed),
            )
        };
        println!(
            "warning: the clients reached {achieved:.0} ops/s, {:.0} % of the {asked} asked. Each \
             client talks to one node and waits for each reply: {why}",
            100.0 * achieved / asked,
        );
    }
    println!(
        "faults: {}",
        ctx.stats
            .faults_applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join(", ")
    );
    // The check can take minutes: Ctrl-C and SIGTERM still end it (the cluster is already gone).
    let already = *stop.borrow();
    if let Some(why) = already {
        bail!(
            "{why} before the check; the history is kept in {}",
            run_dir.display()
        );
    }
    let config = ctx.config.clone();
    let dir = run_dir.clone();
    let end = ctx.workload_end_ns.get().copied().unwrap_or(i64::MAX);
    let keys_fixed = ctx.workload.keys_fixed();
    let version = ctx.system_version.get().cloned();
    let failures = ctx
        .recovery_failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let ineffective = ctx
        .ineffective
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let check = tokio::task::spawn_blocking(move || {
        check_history(
            &config,
            &dir,
            end,
            keys_fixed,
            version.as_deref(),
            &failures,
            &ineffective,
        )
    });
    tokio::select! {
        r = check => r.map_err(|e| anyhow!("the check failed: {e}"))?.map(|report| (report, run_dir)),
        _ = stop.changed() => bail!(
            "{} during the check; the history is kept in {}",
            stop.borrow().unwrap_or("stopped"),
            run_dir.display()
        ),
    }
}

/// Check the recorded history (read back from the store, as `ferret check` would).
fn check_history(
    config: &Config,
    run_dir: &std::path::Path,
    workload_end_ns: i64,
    keys_fixed: bool,
    system_version: Option<&str>,
    recovery_failures: &[recovery::RecoveryFailure],
    ineffective: &[took_effect::Ineffective],
) -> Result<ferret_checkers::Report> {
    let path = run_dir.join("history.jsonl");
    let (history, _) = read_file(&path, Some(Format::Jsonl))?;
    let tested = what_was_tested(&history, workload_end_ns);
    let opts = CheckOptions {
        model: Some(config.model()?),
        consistency: config.consistency()?,
        budget: Budget {
            time: Duration::from_secs_f64(config.checker.time_limit),
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    let mut report =
        ferret_checkers::check(&history, &opts).with_context(|| path.display().to_string())?;
    no_vacuous_pass(&mut report, &tested, &config.checker, keys_fixed);
    recovery::report_failures(&mut report, recovery_failures);
    took_effect::report_ineffective(&mut report, ineffective);
    let config_file = run_dir.join("config.yaml");
    let seed = config.seed.unwrap_or_default();
    let run = RunFacts {
        name: config.name.clone(),
        seed,
        dir: run_dir.display().to_string(),
        reproduce: format!("ferret run {} --seed {seed}", config_file.display()),
        system_version: system_version.map(str::to_string),
    };
    let calls = crate::report::calls_of(&history);
    let results = Results::of_history(report, &history, &calls, Some(run));
    let page = Page::of_run(run_dir, &results, &history, &calls);
    outputs::write(
        &results,
        &page.name,
        Some(&page),
        &Outputs::run_dir(run_dir),
    )?;
    let report = results.report;
    check::print_summary(&path, Format::Jsonl, &report, false);
    println!(
        "results: {} (and junit.xml, report.html, throughput.svg, latency.svg)",
        run_dir.join("results.json").display()
    );
    Ok(report)
}

/// Ok ops per key and in all, among the ops invoked before the workload ended (the final reads
/// prove nothing about what the workload did).
struct Tested {
    ok_by_key: std::collections::BTreeMap<ferret_checkers::Value, u64>,
    ok: u64,
    total: u64,
}

fn what_was_tested(history: &ferret_checkers::History, workload_end_ns: i64) -> Tested {
    use ferret_checkers::EventType;
    let mut open = std::collections::HashMap::new();
    let mut t = Tested {
        ok_by_key: Default::default(),
        ok: 0,
        total: 0,
    };
    for e in history.client_events() {
        match e.kind {
            EventType::Invoke => {
                if e.time.unwrap_or(0) < workload_end_ns {
                    let key = e.key.clone().unwrap_or_default();
                    t.ok_by_key.entry(key.clone()).or_default();
                    open.insert(e.process.clone(), key);
                    t.total += 1;
                }
            }
            kind => {
                if let (Some(key), EventType::Ok) = (open.remove(&e.process), kind) {
                    *t.ok_by_key.entry(key).or_default() += 1;
                    t.ok += 1;
                }
            }
        }
    }
    t
}

/// A valid verdict on a run that tested nothing is a vacuous pass: say unknown, and why.
fn no_vacuous_pass(
    report: &mut ferret_checkers::Report,
    tested: &Tested,
    limits: &crate::config::CheckerConfig,
    keys_fixed: bool,
) {
    use ferret_checkers::VerdictName;
    let mut why = Vec::new();
    let mut idle = Vec::new();
    // A workload that makes keys as it goes (one per lease) leaves some barely used: only the
    // overall fraction counts then.
    // Only keys the history used: a checker's own report keys ("watcher 3") are not.
    for k in report
        .keys
        .iter_mut()
        .filter(|k| keys_fixed && tested.ok_by_key.contains_key(&k.key))
    {
        let ok = tested.ok_by_key.get(&k.key).copied().unwrap_or(0);
        if ok < limits.min_ok_per_key && k.verdict == VerdictName::Valid {
            k.verdict = VerdictName::Unknown;
            k.reason = Some(format!(
                "only {ok} of the workload's ops on this key succeeded (checker.min_ok_per_key: {})",
                limits.min_ok_per_key
            ));
            idle.push(k.key.to_string());
        }
    }
    if !idle.is_empty() {
        let shown = idle.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        let more = idle.len().saturating_sub(5);
        why.push(format!(
            "{} key{} had fewer than {} ok op{} ({shown}{})",
            idle.len(),
            if idle.len() == 1 { "" } else { "s" },
            limits.min_ok_per_key,
            if limits.min_ok_per_key == 1 { "" } else { "s" },
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    let fraction = tested.ok as f64 / tested.total.max(1) as f64;
    if fraction < limits.min_ok_fraction {
        why.push(format!(
            "{} of {} ops succeeded ({:.1} %; checker.min_ok_fraction: {})",
            tested.ok,
            tested.total,
            100.0 * fraction,
            limits.min_ok_fraction
        ));
    }
    if !why.is_empty() && report.verdict == VerdictName::Valid {
        report.verdict = VerdictName::Unknown;
    }
    if !why.is_empty() {
        report.warnings.push(ferret_checkers::history::Warning {
            line: 0,
            message: format!(
                "the run tested too little to pass: {}; a valid check of it would prove nothing",
                why.join("; ")
            ),
        });
    }
}
