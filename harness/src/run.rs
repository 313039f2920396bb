//! `ferret run`: a real cluster, concurrent clients, a nemesis, a checked history.

use crate::config::Config;
use crate::db::{self, Db};
use crate::platform::{LocalPlatform, Node};
use crate::store::{create_run_dir, HistoryLog};
use crate::{check, exit};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use ferret_checkers::{read_file, Budget, CheckOptions, EventType, Format, Process, Value};
use ferret_nemesis::{nft_drop_script, nft_heal_script, Fault, FaultKind};
use ferret_workloads::etcd::EtcdClient;
use ferret_workloads::register::{Mix, RegisterGenerator};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Run a system under faults and check what its clients saw.
///
/// Starts the configured number of nodes (network namespaces on this machine; needs root), the
/// system on each, concurrent clients and a nemesis; records the history into
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
    /// Number of nodes.
    #[arg(long)]
    nodes: Option<usize>,
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
}

impl RunArgs {
    fn apply(&self, c: &mut Config) {
        if let Some(n) = self.nodes {
            c.platform.nodes = n;
        }
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
            "{}: valid config. {} would run {} nodes ({}) for {} s: {} clients at {} ops/s over {} keys, \
             seed {seed}, faults: {}",
            args.config.display(),
            config.name,
            config.platform.nodes,
            config.platform.kind,
            config.time_limit,
            config.workload.concurrency,
            config.workload.rate,
            config.workload.keys,
            if faults.is_empty() { "none".to_string() } else { faults.join(", ") },
        );
        return Ok(exit::VALID);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(run_async(config, seed));
    // An interrupted check is still running on a blocking thread: do not wait for it.
    rt.shutdown_background();
    result
}

/// Counters the progress display and the summary read.
#[derive(Default)]
struct Stats {
    ok: AtomicU64,
    fail: AtomicU64,
    info: AtomicU64,
    fault: Mutex<String>,
    faults_applied: Mutex<Vec<String>>,
}

impl Stats {
    fn count(&self, kind: EventType) {
        match kind {
            EventType::Ok => &self.ok,
            EventType::Fail => &self.fail,
            _ => &self.info,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
    fn total(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
            + self.fail.load(Ordering::Relaxed)
            + self.info.load(Ordering::Relaxed)
    }
}

struct Ctx {
    config: Config,
    /// This binary, run on nodes as the clock agent.
    agent: PathBuf,
    /// Clock offset (ns) and clocks in force per node, re-applied when a node restarts.
    skews: tokio::sync::Mutex<std::collections::BTreeMap<String, (i64, String)>>,
    /// When the workload ends; clock agents that change offsets over time stop by then.
    deadline: std::sync::OnceLock<Instant>,
    /// Strobe and drift agents still running, with the node and offset they started from.
    clock_jobs: tokio::sync::Mutex<Vec<(String, i64, tokio::process::Child)>>,
    seed: u64,
    platform: LocalPlatform,
    db: Db,
    history: HistoryLog,
    clients: Vec<EtcdClient>,
    stats: Stats,
    next_process: AtomicI64,
    run_dir: PathBuf,
}

fn harness_cpu_seconds() -> f64 {
    let f = ferret_nemesis::proc::stat_fields("self").unwrap_or_default();
    // utime and stime: fields 14 and 15, counted from field 3.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / if hz > 0.0 { hz } else { 100.0 }
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

async fn run_async(config: Config, seed: u64) -> Result<u8> {
    let mut stop = watch_signals()?;
    let faults = config.faults()?;
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    println!(
        "ferret run {}: {} nodes, {} s, seed {seed}, run id {run_id}",
        config.name, config.platform.nodes, config.time_limit
    );
    tokio::select! {
        r = db::install(&config.db) => r?,
        _ = stop.changed() => bail!("{} while installing {}", stop.borrow().unwrap_or("stopped"), config.db.name),
    }
    let run_dir = create_run_dir(&config.store, &config.name)?;
    std::fs::write(run_dir.join("config.yaml"), yaml_serde::to_string(&config)?)?;
    let history = HistoryLog::create(&run_dir.join("history.jsonl"), Instant::now())?;
    let agent =
        std::env::current_exe().context("cannot find the ferret binary for the clock agent")?;
    // From here on everything made is torn down, whatever happens.
    let platform = LocalPlatform::create(&run_id, config.platform.nodes).await?;
    let db = Db::new(config.db.clone(), &platform, run_dir.join("nodes"));
    let clients = platform
        .nodes
        .iter()
        .map(|n| {
            EtcdClient::new(
                db.client_url(n),
                Duration::from_secs_f64(config.client.timeout),
                config.client.serializable,
            )
            .map_err(anyhow::Error::msg)
        })
        .collect::<Result<Vec<_>>>();
    let clients = match clients {
        Ok(c) => c,
        Err(e) => {
            platform.teardown().await;
            return Err(e);
        }
    };
    let ctx = Arc::new(Ctx {
        agent,
        skews: Default::default(),
        deadline: std::sync::OnceLock::new(),
        clock_jobs: Default::default(),
        next_process: AtomicI64::new(config.workload.concurrency as i64),
        config,
        seed,
        platform,
        db,
        history,
        clients,
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
            r = cluster_phase(ctx.clone(), faults) => r,
            _ = stop.changed() => Err(interrupted(*stop.borrow())),
        }
    };
    // Whatever happened: kill the daemons and remove the network, data and registry.
    ctx.db.kill_all(&ctx.platform.nodes).await;
    ctx.platform.teardown().await;
    let (elapsed, cpu) = outcome?;
    let total = ctx.stats.total();
    println!(
        "workload done: {} ops in {:.1} s ({:.0} ops/s): {} ok, {} fail, {} info; harness CPU {:.1} % of one core",
        total,
        elapsed,
        total as f64 / elapsed.max(1e-9),
        ctx.stats.ok.load(Ordering::Relaxed),
        ctx.stats.fail.load(Ordering::Relaxed),
        ctx.stats.info.load(Ordering::Relaxed),
        100.0 * cpu / elapsed.max(1e-9)
    );
    let achieved = total as f64 / elapsed.max(1e-9);
    let asked = ctx.config.workload.rate;
    if achieved < 0.9 * asked {
        println!(
            "warning: the clients reached {achieved:.0} ops/s, {:.0} % of the {asked} asked: ops \
             waited on slow or timed-out replies. Raise workload.concurrency (now {}) or lower \
             workload.rate for the load you meant",
            100.0 * achieved / asked,
            ctx.config.workload.concurrency
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
    let check = tokio::task::spawn_blocking(move || check_history(&config, &dir));
    tokio::select! {
        r = check => r.map_err(|e| anyhow!("the check failed: {e}"))?,
        _ = stop.changed() => bail!(
            "{} during the check; the history is kept in {}",
            stop.borrow().unwrap_or("stopped"),
            run_dir.display()
        ),
    }
}

/// Start the cluster, run clients and nemesis, heal, final reads. Returns the workload's wall
/// time and the harness's CPU seconds during it.
async fn cluster_phase(ctx: Arc<Ctx>, faults: Vec<FaultKind>) -> Result<(f64, f64)> {
    let data_root = ctx
        .db
        .data_dir(&ctx.platform.nodes[0])
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    ctx.platform.register_dir(data_root)?;
    for n in &ctx.platform.nodes {
        ctx.db.start(&ctx.platform, n).await?;
    }
    let started = Instant::now();
    ctx.db
        .wait_ready(&ctx.platform, &ctx.platform.nodes)
        .await
        .context("the cluster never came up")?;
    println!(
        "cluster of {} ready in {:.1} s; store {}",
        ctx.platform.nodes.len(),
        started.elapsed().as_secs_f64(),
        ctx.run_dir.display()
    );

    let limit = Duration::from_secs_f64(ctx.config.time_limit);
    let t0 = Instant::now();
    let cpu0 = harness_cpu_seconds();
    let deadline = t0 + limit;
    let _ = ctx.deadline.set(deadline);
    let mut tasks = JoinSet::new();
    for slot in 0..ctx.config.workload.concurrency {
        tasks.spawn(worker(ctx.clone(), slot, deadline));
    }
    // In a JoinSet too: if this phase is dropped (Ctrl-C), the nemesis stops with it rather than
    // restarting nodes during teardown.
    let mut nemesis_task = JoinSet::new();
    nemesis_task.spawn(nemesis(ctx.clone(), faults, deadline));
    progress(&ctx, t0, limit).await;
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| anyhow!("a client task failed: {e}"))??;
    }
    if let Some(r) = nemesis_task.join_next().await {
        r.map_err(|e| anyhow!("the nemesis task failed: {e}"))??;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = harness_cpu_seconds() - cpu0;

    // Let the cluster recover, then read every key once more.
    tokio::time::sleep(Duration::from_secs_f64(ctx.config.nemesis.recovery)).await;
    let mut reads = JoinSet::new();
    for k in 0..ctx.config.workload.keys {
        let ctx = ctx.clone();
        reads.spawn(async move {
            let process = ctx.next_process.fetch_add(1, Ordering::Relaxed);
            let key = RegisterGenerator::key_name(k);
            let client = &ctx.clients[k % ctx.clients.len()];
            ctx.history.record(
                Process::Client(process),
                EventType::Invoke,
                "read",
                Some(&key),
                Value::Nil,
                None,
            )?;
            let c = client.read(&key).await;
            ctx.history.record(
                Process::Client(process),
                c.kind,
                "read",
                Some(&key),
                c.value,
                c.error,
            )
        });
    }
    while let Some(r) = reads.join_next().await {
        r.map_err(|e| anyhow!("a final read failed: {e}"))??;
    }
    Ok((elapsed, cpu))
}

async fn worker(ctx: Arc<Ctx>, slot: usize, deadline: Instant) -> Result<()> {
    let w = &ctx.config.workload;
    let mix = Mix {
        read: w.mix.read,
        write: w.mix.write,
        cas: w.mix.cas,
    };
    let mut gen = RegisterGenerator::new(ctx.seed, slot as u64, w.keys, mix);
    let mut process = slot as i64;
    let client = &ctx.clients[slot % ctx.clients.len()];
    // Each worker's share of the target rate; workers start spread over one period.
    let period = Duration::from_secs_f64(w.concurrency as f64 / w.rate);
    let mut next = Instant::now() + period.mul_f64(slot as f64 / w.concurrency as f64);
    loop {
        tokio::time::sleep_until(next.into()).await;
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        // Behind schedule (a slow op): do not burst to catch up.
        next = (next + period).max(now);
        let op = gen.next_op();
        let p = Process::Client(process);
        ctx.history.record(
            p.clone(),
            EventType::Invoke,
            op.f,
            Some(&op.key),
            op.value.clone(),
            None,
        )?;
        let c = match (op.f, op.value.as_list()) {
            ("read", _) => client.read(&op.key).await,
            ("write", _) => client.write(&op.key, &op.value).await,
            (_, Some([from, to])) => client.cas(&op.key, from, to).await,
            _ => unreachable!("the register workload makes only read, write and cas"),
        };
        ctx.history.record(
            p,
            c.kind,
            op.f,
            Some(&op.key),
            c.value.clone(),
            c.error.clone(),
        )?;
        ctx.stats.count(c.kind);
        if c.kind == EventType::Ok {
            gen.observe(&op, &c.value);
        }
        if c.kind == EventType::Info {
            // Its request may still be in flight: this process never invokes again.
            process = ctx.next_process.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The current leader's node name, if the members agree on one.
async fn find_leader(ctx: &Ctx) -> Option<String> {
    let mut statuses = Vec::new();
    for (node, client) in ctx.platform.nodes.iter().zip(&ctx.clients) {
        let quick =
            EtcdClient::new(client.base().to_string(), Duration::from_millis(500), false).ok()?;
        if let Ok((member, leader)) = quick.status().await {
            statuses.push((node.name.clone(), member, leader));
        }
    }
    let mut leaders: Vec<&String> = statuses.iter().map(|s| &s.2).collect();
    leaders.sort();
    let leader = leaders
        .iter()
        .max_by_key(|l| leaders.iter().filter(|m| m == l).count())?;
    statuses
        .iter()
        .find(|s| &&s.1 == leader)
        .map(|s| s.0.clone())
}

async fn nemesis(ctx: Arc<Ctx>, faults: Vec<FaultKind>, deadline: Instant) -> Result<()> {
    if faults.is_empty() {
        return Ok(());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed ^ 0x006e_656d_6573_6973);
    let names: Vec<String> = ctx.platform.nodes.iter().map(|n| n.name.clone()).collect();
    let interval = Duration::from_secs_f64(ctx.config.nemesis.interval);
    let duration = Duration::from_secs_f64(ctx.config.nemesis.duration);
    let mut order: Vec<FaultKind> = Vec::new();
    let schedule = ctx.run_dir.join("nemesis.jsonl");
    loop {
        tokio::time::sleep_until((Instant::now() + interval).min(deadline).into()).await;
        if Instant::now() >= deadline {
            if !ctx.skews.lock().await.is_empty() {
                reset_clocks(&ctx).await?;
                let v = Value::from_json(
                    &serde_json::json!({"fault": "clock", "kind": "clock-reset", "final": true}),
                )
                .map_err(anyhow::Error::msg)?;
                ctx.history.record(
                    Process::Nemesis,
                    EventType::Info,
                    "clock-reset",
                    None,
                    v,
                    None,
                )?;
                append_line(
                    &schedule,
                    &serde_json::json!({"at_s": ctx.history.elapsed_s(), "heal": "clock", "final": true}),
                )?;
            }
            return Ok(());
        }
        if order.is_empty() {
            order = faults.clone();
            order.shuffle(&mut rng);
        }
        let kind = order.pop().unwrap_or(faults[0]);
        let leader = if kind == FaultKind::PartitionIsolateLeader {
            find_leader(&ctx).await
        } else {
            None
        };
        let fault = Fault::choose(
            kind,
            &names,
            leader.as_deref(),
            &ctx.config.nemesis.clock,
            &mut rng,
        );
        apply(&ctx, &fault).await?;
        let value = fault_value(&ctx, &fault).await?;
        let f_start = match &fault {
            Fault::Partition { .. } => "start-partition",
            Fault::Kill { .. } => "kill",
            Fault::Pause { .. } => "pause",
            Fault::Clock { kind, .. } => kind.name(),
        };
        ctx.history.record(
            Process::Nemesis,
            EventType::Info,
            f_start,
            None,
            value.clone(),
            None,
        )?;
        // A bump stays until a clock-reset or the run's end; a reset is a moment: neither heals.
        let stays = matches!(kind, FaultKind::ClockBump | FaultKind::ClockReset);
        append_line(
            &schedule,
            &serde_json::json!({"at_s": ctx.history.elapsed_s(), "start": kind.name(), "stays": stays, "fault": &fault}),
        )?;
        *ctx.stats.fault.lock().unwrap_or_else(|e| e.into_inner()) = describe(&fault);
        ctx.stats
            .faults_applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(kind.name().to_string());
        tokio::time::sleep_until((Instant::now() + duration).min(deadline).into()).await;
        heal(&ctx, &fault).await?;
        let f_stop = match &fault {
            Fault::Partition { .. } => "stop-partition",
            Fault::Kill { .. } => "restart",
            Fault::Pause { .. } => "resume",
            Fault::Clock { kind, .. } => match kind {
                FaultKind::ClockStrobe => "stop-clock-strobe",
                FaultKind::ClockDrift => "stop-clock-drift",
                // A bump or reset stays in force; nothing to record at its end.
                _ => "",
            },
        };
        if !f_stop.is_empty() {
            let value = fault_value(&ctx, &fault).await?;
            ctx.history
                .record(Process::Nemesis, EventType::Info, f_stop, None, value, None)?;
        }
        if !stays {
            append_line(
                &schedule,
                &serde_json::json!({"at_s": ctx.history.elapsed_s(), "heal": kind.name()}),
            )?;
        }
        *ctx.stats.fault.lock().unwrap_or_else(|e| e.into_inner()) = String::new();
    }
}

fn append_line(path: &std::path::Path, v: &serde_json::Value) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{v}")?;
    Ok(())
}

fn describe(fault: &Fault) -> String {
    match fault {
        Fault::Partition {
            kind, components, ..
        } => {
            let parts: Vec<String> = components.iter().map(|c| c.join(" ")).collect();
            format!("{kind}: {}", parts.join(" | "))
        }
        Fault::Kill { nodes } => format!("kill {}", nodes.join(" ")),
        Fault::Pause { nodes } => format!("pause {}", nodes.join(" ")),
        Fault::Clock {
            kind, nodes, ms, ..
        } => format!("{kind} {ms} ms {}", nodes.join(" ")),
    }
}

/// A fault as recorded in the history: what it is, plus the clock offsets then in force.
async fn fault_value(ctx: &Ctx, fault: &Fault) -> Result<Value> {
    let mut v = serde_json::to_value(fault)?;
    if let Fault::Clock { .. } = fault {
        let skews = ctx.skews.lock().await;
        let offsets: serde_json::Map<String, serde_json::Value> = skews
            .iter()
            .map(|(n, (ns, _))| (n.clone(), serde_json::json!(*ns as f64 / 1e6)))
            .collect();
        v["offsets_ms"] = serde_json::Value::Object(offsets);
    }
    Value::from_json(&v).map_err(anyhow::Error::msg)
}

/// Wait until a just-started daemon's own process exists (past `ip netns exec` and `sh`):
/// a clock patch on the launcher would vanish with its exec.
async fn settled_pid(ctx: &Ctx, node: &Node) -> Option<u32> {
    for _ in 0..200 {
        if let Some(pid) = ctx.db.pid(node).await {
            return Some(pid);
        }
        ctx.db.group(node).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// Run the clock agent on a node against its daemon.
async fn clock_agent(ctx: &Ctx, node: &Node, args: &str) -> Result<String> {
    let pid = settled_pid(ctx, node)
        .await
        .ok_or_else(|| anyhow!("no running {} on {} to skew", ctx.db.config.name, node.name))?;
    let cmd = format!("{} clock {pid} {args}", ctx.agent.display());
    let (ok, out) = ctx.platform.exec(node, &cmd, None).await?;
    if !ok {
        return Err(anyhow!(
            "clock agent on {} failed: {}",
            node.name,
            out.trim()
        ));
    }
    Ok(out)
}

async fn set_skew(ctx: &Ctx, node: &Node, offset_ns: i64, clocks: &str) -> Result<()> {
    clock_agent(
        ctx,
        node,
        &format!("set {} --clocks {clocks}", offset_ns as f64 / 1e6),
    )
    .await?;
    ctx.skews
        .lock()
        .await
        .insert(node.name.clone(), (offset_ns, clocks.to_string()));
    Ok(())
}

/// Every skewed node back to real time.
async fn reset_clocks(ctx: &Ctx) -> Result<()> {
    for (_, _, mut job) in ctx.clock_jobs.lock().await.drain(..) {
        let _ = job.kill().await;
    }
    let nodes: Vec<String> = ctx.skews.lock().await.keys().cloned().collect();
    for name in nodes {
        let node = ctx.platform.node(&name)?;
        if ctx.db.is_running(node).await {
            clock_agent(ctx, node, "heal").await?;
        }
        ctx.skews.lock().await.remove(&name);
    }
    Ok(())
}

async fn apply(ctx: &Ctx, fault: &Fault) -> Result<()> {
    match fault {
        Fault::Partition { grudge, .. } => {
            for (name, drops) in grudge {
                let node = ctx.platform.node(name)?;
                let sources: Vec<String> = drops
                    .iter()
                    .map(|d| ctx.platform.node(d).map(|n| n.ip.clone()))
                    .collect::<Result<_>>()?;
                nft(ctx, node, &nft_drop_script(&sources)).await?;
            }
        }
        Fault::Kill { nodes } => {
            for n in nodes {
                ctx.db.kill(ctx.platform.node(n)?).await;
            }
        }
        Fault::Pause { nodes } => {
            for n in nodes {
                ctx.db.pause(ctx.platform.node(n)?).await;
            }
        }
        Fault::Clock {
            kind: FaultKind::ClockReset,
            ..
        } => reset_clocks(ctx).await?,
        Fault::Clock {
            kind,
            nodes,
            clocks,
            ms,
            period_ms,
        } => {
            let left = ctx.deadline.get().map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            let seconds = ctx.config.nemesis.duration.min(left.as_secs_f64()).max(0.1);
            for n in nodes {
                let node = ctx.platform.node(n)?;
                let current = ctx.skews.lock().await.get(n).map_or(0, |s| s.0);
                match kind {
                    FaultKind::ClockBump => {
                        set_skew(ctx, node, current + ms * 1_000_000, clocks).await?
                    }
                    _ => {
                        // Strobe and drift change the offset over time: an agent of their own.
                        set_skew(ctx, node, current, clocks).await?;
                        let pid = settled_pid(ctx, node).await.unwrap_or(0);
                        let args = if *kind == FaultKind::ClockStrobe {
                            format!(
                                "strobe {} {} --period-ms {} --seconds {seconds} --clocks {clocks}",
                                current as f64 / 1e6,
                                (current + ms * 1_000_000) as f64 / 1e6,
                                period_ms.unwrap_or(100)
                            )
                        } else {
                            format!("drift {ms} --seconds {seconds} --clocks {clocks}")
                        };
                        let cmd = format!("{} clock {pid} {args}", ctx.agent.display());
                        let job = ctx.platform.exec_background(node, &cmd)?;
                        ctx.clock_jobs.lock().await.push((n.clone(), current, job));
                    }
                }
            }
        }
    }
    Ok(())
}

async fn heal(ctx: &Ctx, fault: &Fault) -> Result<()> {
    match fault {
        Fault::Partition { .. } => {
            for node in &ctx.platform.nodes {
                nft(ctx, node, &nft_heal_script()).await?;
            }
        }
        Fault::Kill { nodes } => {
            for n in nodes {
                let node = ctx.platform.node(n)?;
                if !ctx.db.is_running(node).await {
                    ctx.db.start(&ctx.platform, node).await?;
                    // The new process would escape the skew its node was under.
                    let skew = ctx.skews.lock().await.get(n).cloned();
                    if let Some((offset, clocks)) = skew.filter(|s| s.0 != 0) {
                        set_skew(ctx, node, offset, &clocks).await?;
                        let v = serde_json::json!({"fault": "clock", "kind": "clock-reapply", "nodes": [n], "offset_ms": offset as f64 / 1e6, "clocks": clocks});
                        ctx.history.record(
                            Process::Nemesis,
                            EventType::Info,
                            "clock-reapply",
                            None,
                            Value::from_json(&v).map_err(anyhow::Error::msg)?,
                            None,
                        )?;
                    }
                }
            }
        }
        Fault::Clock { kind, .. }
            if matches!(kind, FaultKind::ClockStrobe | FaultKind::ClockDrift) =>
        {
            // Strobe and drift agents end on their own after the fault's duration.
            let jobs: Vec<_> = ctx.clock_jobs.lock().await.drain(..).collect();
            for (name, start, job) in jobs {
                let out = job.wait_with_output().await?;
                let node = ctx.platform.node(&name)?;
                let clocks = ctx
                    .skews
                    .lock()
                    .await
                    .get(&name)
                    .map(|s| s.1.clone())
                    .unwrap_or_default();
                if *kind == FaultKind::ClockStrobe {
                    // Back to where the strobe started.
                    set_skew(ctx, node, start, &clocks).await?;
                } else {
                    // The drifted offset stays; the agent said where it ended.
                    let end = serde_json::from_slice::<serde_json::Value>(&out.stdout)
                        .ok()
                        .and_then(|v| v["offset_ns"].as_i64())
                        .unwrap_or(start);
                    ctx.skews.lock().await.insert(name.clone(), (end, clocks));
                }
            }
        }
        Fault::Clock { .. } => {}
        Fault::Pause { nodes } => {
            for n in nodes {
                ctx.db.resume(ctx.platform.node(n)?).await;
            }
        }
    }
    Ok(())
}

async fn nft(ctx: &Ctx, node: &Node, script: &str) -> Result<()> {
    let (ok, out) = ctx.platform.exec(node, "nft -f -", Some(script)).await?;
    if !ok {
        return Err(anyhow!("nft on {} failed: {}", node.name, out.trim()));
    }
    Ok(())
}

async fn progress(ctx: &Ctx, t0: Instant, limit: Duration) {
    let bar = ProgressBar::new(limit.as_secs().max(1));
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        // wide_msg: the message is cut to the terminal's width, so the line never wraps.
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:20}] {pos}/{len} s {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut last = (Instant::now(), 0u64);
    while t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let total = ctx.stats.total();
        let rate = (total - last.1) as f64 / last.0.elapsed().as_secs_f64().max(1e-3);
        if last.0.elapsed() > Duration::from_secs(1) {
            last = (Instant::now(), total);
        }
        let fault = ctx
            .stats
            .fault
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        bar.set_position(t0.elapsed().as_secs().min(limit.as_secs()));
        bar.set_message(format!(
            "{rate:>4.0} ops/s ok {} fail {} info {}  {}",
            ctx.stats.ok.load(Ordering::Relaxed),
            ctx.stats.fail.load(Ordering::Relaxed),
            ctx.stats.info.load(Ordering::Relaxed),
            if fault.is_empty() {
                "no fault".to_string()
            } else {
                fault
            }
        ));
    }
    bar.finish_and_clear();
}

/// Check the recorded history (read back from the store, as `ferret check` would).
fn check_history(config: &Config, run_dir: &std::path::Path) -> Result<u8> {
    let path = run_dir.join("history.jsonl");
    let (history, _) = read_file(&path, Some(Format::Jsonl))?;
    let opts = CheckOptions {
        model: Some(config.checker.model.parse().map_err(anyhow::Error::msg)?),
        budget: Budget {
            time: Duration::from_secs_f64(config.checker.time_limit),
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    let report =
        ferret_checkers::check(&history, &opts).with_context(|| path.display().to_string())?;
    std::fs::write(
        run_dir.join("results.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    check::print_summary(&path, Format::Jsonl, &report, false);
    println!("results: {}", run_dir.join("results.json").display());
    Ok(exit::for_verdict(report.verdict))
}
