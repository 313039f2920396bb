//! Network faults on the nodes: grudges as nft drop rules, degraded links (nft loss, packets
//! held by `ferret netdelay` for delay, `tbf` for bandwidth), and a partition that flaps. Each
//! heal says what the fault did (packets held per node), so the nemesis log shows it.

use super::Ctx;
use crate::platform::{signal_group, spawn_host_daemon, wait_group_gone, Daemon, Node};
use anyhow::{anyhow, Result};
use ferret_nemesis::network::{
    iptables_hold_script, iptables_release_script, nft_degrade_script, node_rules, DELAY_QUEUE,
};
use ferret_nemesis::{nft_drop_script, nft_heal_script, Fault, Grudge};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// The packet holders of a delay fault, by node.
pub(super) type Holders = tokio::sync::Mutex<Vec<(String, Daemon)>>;

pub(super) async fn nft(ctx: &Ctx, node: &Node, script: &str) -> Result<()> {
    let (ok, out) = ctx
        .platform
        .net_exec(node, &["nft", "-f", "-"], Some(script))
        .await?;
    if !ok {
        return Err(anyhow!("nft on {} failed: {}", node.name, out.trim()));
    }
    Ok(())
}

async fn iptables(ctx: &Ctx, node: &Node, script: &str) -> Result<()> {
    let (ok, out) = ctx
        .platform
        .net_exec(node, &["iptables-nft-restore", "--noflush"], Some(script))
        .await?;
    if !ok {
        return Err(anyhow!("iptables on {} failed: {}", node.name, out.trim()));
    }
    Ok(())
}

/// Make each node drop what its grudge says.
pub(super) async fn cut(ctx: &Ctx, grudge: &Grudge) -> Result<()> {
    for (name, drops) in grudge {
        let node = ctx.platform.node(name)?;
        let sources: Vec<String> = drops
            .iter()
            .map(|d| ctx.platform.node(d).map(|n| n.ip.clone()))
            .collect::<Result<_>>()?;
        nft(ctx, node, &nft_drop_script(&sources)).await?;
    }
    Ok(())
}

/// Every node's rules gone.
pub(super) async fn join(ctx: &Ctx) -> Result<()> {
    for node in ctx.platform.nodes() {
        nft(ctx, node, &nft_heal_script()).await?;
    }
    Ok(())
}

/// A partition cut and joined again every period until stopped.
pub(super) struct Flapper {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<u32>>,
}

/// Start flapping a partition that is cut now: joined after a period, cut after the next.
pub(super) fn start_flapping(ctx: Arc<Ctx>, grudge: Grudge) -> Flapper {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let period = Duration::from_millis(ctx.config.nemesis.network.flap_period_ms);
    let task = tokio::spawn(async move {
        let mut flips = 0;
        let mut is_cut = true;
        loop {
            tokio::select! {
                _ = &mut stopped => return Ok(flips),
                _ = tokio::time::sleep(period) => {}
            }
            if is_cut {
                join(&ctx).await?;
            } else {
                cut(&ctx, &grudge).await?;
            }
            is_cut = !is_cut;
            flips += 1;
        }
    });
    Flapper { stop, task }
}

impl Flapper {
    /// Stop flapping; how many times it flipped.
    pub(super) async fn stop(self) -> Result<u32> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

/// The last index of a node's log, by the config's `db.log_index`.
pub(super) async fn log_index(ctx: &Ctx, name: &str) -> Option<u64> {
    let template = ctx.db.config.log_index.as_deref()?;
    let node = ctx.platform.node(name).ok()?;
    let cmd = ctx.db.expand(template, node);
    match ctx.platform.exec(node, &cmd, None).await {
        Ok((true, out)) => out.trim().parse().ok(),
        _ => None,
    }
}

/// Keep `target` cut off for at least the fault's duration and until the others' logs are
/// `nemesis.snapshot_gap` entries past where its log ended (`from`) — a member cut again before
/// it caught up is already that far behind — or until the workload ends; what was reached.
pub(super) async fn wait_past(
    ctx: &Ctx,
    target: &str,
    from: Option<u64>,
    deadline: std::time::Instant,
) -> Value {
    let gap = ctx.config.nemesis.snapshot_gap;
    let began = std::time::Instant::now();
    let mut others = ctx.platform.names();
    others.retain(|n| n != target);
    let mut seen = None;
    loop {
        let indexes = futures::future::join_all(others.iter().map(|n| log_index(ctx, n))).await;
        seen = indexes.into_iter().flatten().max().or(seen);
        let reached = matches!((from, seen), (Some(f), Some(s)) if s >= f + gap);
        let ended = std::time::Instant::now() >= deadline;
        let long_enough = began.elapsed().as_secs_f64() >= ctx.config.nemesis.duration;
        if (reached && long_enough) || from.is_none() || ended {
            return json!({
                "member": target,
                "member_index": from,
                "others_index": seen,
                "gap": seen.zip(from).map(|(s, f)| s.saturating_sub(f)),
                "wanted": gap,
                "reached": reached,
                "cut_short": !reached && ended && seen.is_some(),
                "waited_s": (began.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            });
        }
        tokio::time::sleep(
            Duration::from_millis(500)
                .min(deadline.saturating_duration_since(std::time::Instant::now())),
        )
        .await;
    }
}

/// Degrade the links of a network fault's targets.
pub(super) async fn apply(ctx: &Ctx, fault: &Fault) -> Result<Value> {
    let Fault::Network {
        nodes: targets,
        delay_ms,
        jitter_ms,
        loss_pct,
        rate_kbit,
        seed,
        ..
    } = fault
    else {
        return Ok(Value::Null);
    };
    let names = ctx.platform.names();
    let ip = |n: &str| {
        ctx.platform
            .node(n)
            .map(|n| n.ip.clone())
            .unwrap_or_default()
    };
    let rules = node_rules(
        &names,
        targets,
        &ip,
        delay_ms.is_some(),
        loss_pct.unwrap_or(0),
    );
    let mut evidence = Map::new();
    // Loss first: replacing an nft table drops every packet an NFQUEUE holds in that
    // namespace (the kernel flushes its queues when a hook goes), so no holding yet.
    for (name, r) in rules.iter().filter(|(_, r)| !r.is_empty()) {
        nft(ctx, ctx.platform.node(name)?, &nft_degrade_script(r)).await?;
    }
    if let Some(d) = delay_ms {
        for (i, (name, r)) in rules.iter().enumerate().filter(|(_, (_, r))| r.holds()) {
            let node = ctx.platform.node(name)?;
            let daemon = hold(ctx, node, *d, jitter_ms.unwrap_or(0), seed ^ i as u64).await?;
            ctx.holders.lock().await.push((name.clone(), daemon));
            iptables(ctx, node, &iptables_hold_script(r)).await?;
        }
    }
    if let Some(rate) = rate_kbit {
        for t in targets {
            let node = ctx.platform.node(t)?;
            let dev = device(ctx, node).await?;
            // 20 ms of sending at the rate, and never less than a few full frames.
            let burst = (rate * 1000 / 8 / 50).max(16 * 1024);
            let (r, b) = (format!("{rate}kbit"), burst.to_string());
            let argv = [
                "tc", "qdisc", "replace", "dev", &dev, "root", "tbf", "rate", &r, "burst", &b,
                "latency", "400ms",
            ];
            let (ok, out) = ctx.platform.net_exec(node, &argv, None).await?;
            if !ok {
                return Err(anyhow!("tc on {t} failed: {}", out.trim()));
            }
            evidence.insert(t.clone(), json!({"device": dev}));
        }
    }
    Ok(if evidence.is_empty() {
        Value::Null
    } else {
        Value::Object(evidence)
    })
}

/// Undo a network fault; what it did while it lasted: the packets each holder held.
pub(super) async fn heal(ctx: &Ctx, fault: &Fault) -> Result<Value> {
    let Fault::Network {
        nodes: targets,
        rate_kbit,
        ..
    } = fault
    else {
        return Ok(Value::Null);
    };
    let mut evidence = Map::new();
    let holders: Vec<(String, Daemon)> = ctx.holders.lock().await.drain(..).collect();
    for (name, d) in &holders {
        let node = ctx.platform.node(name)?;
        if let Some(mut held) = queue_stats(ctx, node).await {
            held["cpu_s"] = json!(cpu_seconds(d.group));
            evidence.insert(name.clone(), held);
        }
    }
    for (name, _) in &holders {
        iptables(ctx, ctx.platform.node(name)?, &iptables_release_script()).await?;
    }
    // Nothing reaches the queues now; the holders let what they hold go, then exit — before
    // the nft table goes, whose going would drop what they still hold.
    for (name, mut d) in holders {
        signal_group(d.group, libc::SIGTERM);
        let done = tokio::time::timeout(Duration::from_secs(2), d.launcher.wait()).await;
        if done.is_err() {
            signal_group(d.group, libc::SIGKILL);
            wait_group_gone(d.group, Duration::from_secs(2)).await;
            eprintln!("warning: the packet holder on {name} did not stop on SIGTERM; killed");
        }
    }
    join(ctx).await?;
    if rate_kbit.is_some() {
        for t in targets {
            let node = ctx.platform.node(t)?;
            let dev = device(ctx, node).await?;
            let argv = ["tc", "qdisc", "del", "dev", &dev, "root"];
            let (ok, out) = ctx.platform.net_exec(node, &argv, None).await?;
            if !ok {
                return Err(anyhow!("tc on {t} failed: {}", out.trim()));
            }
        }
    }
    Ok(if evidence.is_empty() {
        Value::Null
    } else {
        json!({ "held": evidence })
    })
}

/// Start a packet holder in a node's namespace and wait until it has bound its queue.
async fn hold(ctx: &Ctx, node: &Node, delay: u64, jitter: u64, seed: u64) -> Result<Daemon> {
    let mut argv = ctx.platform.net_argv(node)?;
    argv.extend([
        ctx.agent.display().to_string(),
        "netdelay".into(),
        "--queue".into(),
        DELAY_QUEUE.to_string(),
        "--delay-ms".into(),
        delay.to_string(),
        "--jitter-ms".into(),
        jitter.to_string(),
        "--seed".into(),
        seed.to_string(),
    ]);
    let log = ctx.run_dir.join(format!("netdelay-{}.log", node.name));
    let mut daemon = spawn_host_daemon(ctx.platform.registry(), &argv, &log).await?;
    for _ in 0..200 {
        if queue_stats(ctx, node).await.is_some() {
            return Ok(daemon);
        }
        if let Ok(Some(status)) = daemon.launcher.try_wait() {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(anyhow!(
                "the packet holder on {} exited ({status}): {}",
                node.name,
                said.trim()
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(anyhow!(
        "the packet holder on {} did not bind queue {DELAY_QUEUE} within 2 s",
        node.name
    ))
}

/// The kernel's figures for the delay queue in a node's namespace, when it is bound:
/// packets queued so far, and those dropped for want of room.
async fn queue_stats(ctx: &Ctx, node: &Node) -> Option<Value> {
    let (ok, out) = ctx
        .platform
        .net_exec(node, &["cat", "/proc/net/netfilter/nfnetlink_queue"], None)
        .await
        .ok()?;
    if !ok {
        return None;
    }
    // queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped
    // id_sequence 1
    out.lines().find_map(|l| {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        (f.len() >= 8 && f[0] == u64::from(DELAY_QUEUE))
            .then(|| json!({"queued": f[7], "waiting": f[2], "dropped": f[5] + f[6]}))
    })
}

/// The CPU time a process has used, user and system (fields 14 and 15 of its stat).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let f = ferret_nemesis::proc::stat_fields(&pid.to_string())?;
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}

/// The device a node reaches its peers through.
pub(super) async fn device(ctx: &Ctx, node: &Node) -> Result<String> {
    let peer = ctx
        .platform
        .nodes()
        .iter()
        .find(|n| n.name != node.name)
        .ok_or_else(|| anyhow!("no peer of {}", node.name))?;
    let (ok, out) = ctx
        .platform
        .net_exec(node, &["ip", "-o", "route", "get", &peer.ip], None)
        .await?;
    let words: Vec<&str> = out.split_whitespace().collect();
    match words.iter().position(|w| *w == "dev") {
        Some(i) if ok && i + 1 < words.len() => Ok(words[i + 1].to_string()),
        _ => Err(anyhow!(
            "cannot find {}'s device towards {}: {}",
            node.name,
            peer.ip,
            out.trim()
        )),
    }
}
