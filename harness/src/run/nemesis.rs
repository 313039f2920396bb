//! The nemesis: the fault schedule, and each fault turned into node verbs — nft in a node's
//! network namespace, signals to a daemon's process group, the clock agent on its host pid.

use super::leader::find_leader;
use super::Ctx;
use super::{membership_faults, network_faults};
use crate::platform::Node;
use crate::store::append_json_line;
use anyhow::{anyhow, Result};
use ferret_checkers::{EventType, Process, Value};
use ferret_nemesis::membership::Change;
use ferret_nemesis::{Fault, FaultKind};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) async fn nemesis(
    ctx: Arc<Ctx>,
    faults: Vec<FaultKind>,
    deadline: Instant,
) -> Result<()> {
    if faults.is_empty() {
        return Ok(());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(ctx.seed ^ 0x006e_656d_6573_6973);
    let names = ctx.platform.names();
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
                let reset = Fault::Clock {
                    kind: FaultKind::ClockReset,
                    nodes: names.clone(),
                    clocks: ctx.config.nemesis.clock.clocks.clone(),
                    ms: 0,
                    period_ms: None,
                };
                let p = took_effect(&ctx, &reset, FaultKind::ClockReset, true).await;
                append_json_line(
                    &schedule,
                    &serde_json::json!({"at_s": ctx.history.elapsed_s(), "heal": "clock", "final": true,
                        "took_effect": p.took_effect, "probe": p.figures}),
                )?;
            }
            return Ok(());
        }
        if order.is_empty() {
            order = faults.clone();
            order.shuffle(&mut rng);
        }
        let kind = order.pop().unwrap_or(faults[0]);
        // isolate-leader cuts the leader; until-snapshot cuts anyone but it.
        let at_leader = matches!(
            kind,
            FaultKind::PartitionIsolateLeader | FaultKind::PartitionUntilSnapshot
        ) || (kind.is_clock()
            && kind != FaultKind::ClockReset
            && ctx.config.nemesis.clock.targets == ferret_nemesis::Targets::Leader)
            || (kind.is_network()
                && ctx.config.nemesis.network.targets == ferret_nemesis::Targets::Leader);
        let leader = if at_leader {
            find_leader(&ctx).await
        } else {
            None
        };
        // Faults other than membership changes hit the members only: a removed node is down.
        let membership = ctx.membership.lock().await.clone();
        let members: Vec<String> = membership.members.iter().cloned().collect();
        let Some(fault) = Fault::choose(
            kind,
            &members,
            leader.as_deref(),
            &ctx.config.nemesis.clock,
            &ctx.config.nemesis.network,
            &membership,
            &mut rng,
        ) else {
            // No such membership change is allowed now (nothing to add, or a majority would
            // be lost): the next kind's turn.
            continue;
        };
        // Cut off until the others are far past it: where its log ends, before the cut.
        let cut_off = match &fault {
            Fault::Partition {
                kind: FaultKind::PartitionUntilSnapshot,
                components,
                ..
            } => {
                let target = components[0][0].clone();
                let from = network_faults::log_index(&ctx, &target).await;
                Some((target, from))
            }
            _ => None,
        };
        let applying = Instant::now();
        let evidence = apply(&ctx, &fault).await?;
        let apply_ms = applying.elapsed().as_secs_f64() * 1e3;
        let applied = took_effect(&ctx, &fault, kind, false).await;
        // A flapping partition is probed cut, then flaps until its heal.
        let flapper = match &fault {
            Fault::Partition {
                kind: FaultKind::PartitionFlapping,
                grudge,
                ..
            } => Some(network_faults::start_flapping(ctx.clone(), grudge.clone())),
            _ => None,
        };
        let value = fault_value(&ctx, &fault, &evidence, Some(&applied)).await?;
        let f_start = match &fault {
            Fault::Partition { .. } => "start-partition",
            Fault::Kill { .. } => "kill",
            Fault::Pause { .. } => "pause",
            Fault::Clock { kind, .. }
            | Fault::Disk { kind, .. }
            | Fault::Network { kind, .. }
            | Fault::Member { kind, .. } => kind.name(),
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
        // A membership change stays too, until another changes it back.
        let stays =
            matches!(kind, FaultKind::ClockBump | FaultKind::ClockReset) || kind.is_membership();
        append_json_line(
            &schedule,
            &with_evidence(
                serde_json::json!({"at_s": ctx.history.elapsed_s(), "start": kind.name(), "stays": stays, "apply_ms": apply_ms, "fault": &fault, "took_effect": applied.took_effect, "probe": applied.figures}),
                evidence,
            ),
        )?;
        *ctx.stats.fault.lock().unwrap_or_else(|e| e.into_inner()) = describe(&fault);
        ctx.stats
            .faults_applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(kind.name().to_string());
        let waited = match &cut_off {
            Some((target, from)) => {
                Some(network_faults::wait_past(&ctx, target, *from, deadline).await)
            }
            None => {
                tokio::time::sleep_until((Instant::now() + duration).min(deadline).into()).await;
                None
            }
        };
        let healing = Instant::now();
        let flips = match flapper {
            Some(f) => Some(f.stop().await?),
            None => None,
        };
        let mut healed = heal(&ctx, &fault).await?;
        if let Some(flips) = flips {
            healed = serde_json::json!({ "flips": flips });
        }
        if let Some(w) = waited {
            // Cut short by the workload's end is no failure of the fault; not knowing where
            // the logs were is.
            if w["reached"] != true && !w["cut_short"].as_bool().unwrap_or(false) {
                ineffective(&ctx, kind, "apply", &w);
            }
            healed = w;
        }
        let heal_ms = healing.elapsed().as_secs_f64() * 1e3;
        let undone = if stays {
            None
        } else {
            Some(took_effect(&ctx, &fault, kind, true).await)
        };
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
            Fault::Disk { kind, .. } => match kind {
                FaultKind::FsyncError => "stop-fsync-error",
                FaultKind::DiskFull => "stop-disk-full",
                _ => "restart",
            },
            Fault::Network { .. } => "stop-network",
            Fault::Member { .. } => "",
        };
        if !f_stop.is_empty() {
            let value = fault_value(&ctx, &fault, &healed, undone.as_ref()).await?;
            ctx.history
                .record(Process::Nemesis, EventType::Info, f_stop, None, value, None)?;
        }
        if !stays {
            append_json_line(
                &schedule,
                &with_evidence(
                    serde_json::json!({"at_s": ctx.history.elapsed_s(), "heal": kind.name(), "heal_ms": heal_ms,
                        "took_effect": undone.as_ref().map(|p| p.took_effect), "probe": undone.as_ref().map(|p| &p.figures)}),
                    healed,
                ),
            )?;
        }
        // A restarted or resumed system must come back before the next fault.
        let touched = match &fault {
            Fault::Kill { nodes } | Fault::Pause { nodes } => Some(nodes.clone()),
            Fault::Disk { kind, nodes, .. } if kind.crashes() => Some(nodes.clone()),
            // An added node must have joined by now.
            Fault::Member { change, .. } if !matches!(change, Change::Remove { .. }) => {
                Some(vec![change.node().to_string()])
            }
            _ => None,
        };
        if let Some(nodes) = touched {
            let touched = nodes
                .iter()
                .map(|n| ctx.platform.node(n).cloned())
                .collect::<Result<Vec<_>>>()?;
            let after = format!("the heal of {kind} at {:.3} s", ctx.history.elapsed_s());
            super::recovery::check_nodes(&ctx, &touched, &after).await?;
        }
        *ctx.stats.fault.lock().unwrap_or_else(|e| e.into_inner()) = String::new();
    }
}

/// Probe whether `fault` took effect (`healed`: whether its heal did); one that did not is kept
/// for the verdict.
async fn took_effect(
    ctx: &Ctx,
    fault: &Fault,
    kind: FaultKind,
    healed: bool,
) -> super::took_effect::Probe {
    let p = super::took_effect::probe(ctx, fault, healed).await;
    if !p.took_effect {
        ineffective(ctx, kind, if healed { "heal" } else { "apply" }, &p.figures);
    }
    p
}

/// Say that a fault's apply or heal did not take effect, and keep it for the verdict.
fn ineffective(ctx: &Ctx, kind: FaultKind, phase: &'static str, figures: &serde_json::Value) {
    eprintln!("warning: the {kind} {phase} did not take effect: {figures}");
    ctx.ineffective
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(super::took_effect::Ineffective {
            fault: kind.name().to_string(),
            at_s: ctx.history.elapsed_s(),
            phase,
            figures: figures.clone(),
        });
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
        Fault::Disk { kind, nodes, .. } => format!("{kind} {}", nodes.join(" ")),
        Fault::Network { kind, nodes, .. } => format!("{kind} {}", nodes.join(" ")),
        Fault::Member { describe, .. } => describe.clone(),
    }
}

/// A nemesis.jsonl line with what the fault did, when there is something to show.
fn with_evidence(mut line: serde_json::Value, evidence: serde_json::Value) -> serde_json::Value {
    if !evidence.is_null() {
        line["evidence"] = evidence;
    }
    line
}

/// A fault as recorded in the history: what it is, the clock offsets then in force, what it did
/// (a disk fault's bytes dropped, say), and whether its probe showed it took effect.
async fn fault_value(
    ctx: &Ctx,
    fault: &Fault,
    evidence: &serde_json::Value,
    probe: Option<&super::took_effect::Probe>,
) -> Result<Value> {
    let mut v = with_evidence(serde_json::to_value(fault)?, evidence.clone());
    if let Some(p) = probe {
        v["took_effect"] = serde_json::Value::Bool(p.took_effect);
        // What the probe measured of a degraded link, beside what was asked.
        if let Fault::Network { .. } = fault {
            v["measured"] = serde_json::json!({"rtt_ms": p.figures["rtt_ms"], "loss_pct": p.figures["loss_pct"]});
        }
    }
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

/// Run the clock agent against a node's system, as its platform runs it.
async fn clock_agent(ctx: &Ctx, node: &Node, args: &[String]) -> Result<String> {
    let pid = settled_pid(ctx, node)
        .await
        .ok_or_else(|| anyhow!("no running {} on {} to skew", ctx.db.config.name, node.name))?;
    // A process that started a moment ago may still be setting up threads: try again briefly.
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (ok, out, err) = ctx.platform.clock_agent(node, pid, args).await?;
        if ok {
            return Ok(out);
        }
        last = err;
    }
    Err(anyhow!(
        "clock agent on {} failed: {}",
        node.name,
        last.trim()
    ))
}

/// `set OFFSET_MS --clocks CLOCKS` and the like, as the agent's arguments.
fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

async fn set_skew(ctx: &Ctx, node: &Node, offset_ns: i64, clocks: &str) -> Result<()> {
    clock_agent(
        ctx,
        node,
        &words(&format!("set {} --clocks {clocks}", offset_ns as f64 / 1e6)),
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
            clock_agent(ctx, node, &words("heal")).await?;
        }
        ctx.skews.lock().await.remove(&name);
    }
    Ok(())
}

/// Apply a fault; what it did, for the faults that can tell (else null).
async fn apply(ctx: &Ctx, fault: &Fault) -> Result<serde_json::Value> {
    match fault {
        Fault::Partition { grudge, .. } => network_faults::cut(ctx, grudge).await?,
        Fault::Network { .. } => return network_faults::apply(ctx, fault).await,
        Fault::Member { change, .. } => return membership_faults::apply(ctx, change).await,
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
                        let job = ctx.platform.clock_agent_job(node, pid, &words(&args))?;
                        ctx.clock_jobs.lock().await.push((n.clone(), current, job));
                    }
                }
            }
        }
        Fault::Disk { kind, nodes, seed } => {
            return super::disk_faults::apply(ctx, *kind, nodes, *seed).await
        }
    }
    Ok(serde_json::Value::Null)
}

/// Start the system again on nodes it is down on, under the clock skew they had.
async fn restart(ctx: &Ctx, nodes: &[String]) -> Result<()> {
    for n in nodes {
        let node = ctx.platform.node(n)?;
        if !ctx.db.is_running(node).await {
            ctx.db.start(ctx.platform.as_ref(), node, true).await?;
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
    Ok(())
}

/// Heal a fault; what the fault did while it lasted, for the faults that can tell.
async fn heal(ctx: &Ctx, fault: &Fault) -> Result<serde_json::Value> {
    match fault {
        Fault::Partition { .. } => network_faults::join(ctx).await?,
        Fault::Network { .. } => return network_faults::heal(ctx, fault).await,
        Fault::Member { .. } => {}
        Fault::Kill { nodes } => restart(ctx, nodes).await?,
        Fault::Disk { kind, nodes, .. } if kind.crashes() => restart(ctx, nodes).await?,
        Fault::Disk { kind, nodes, .. } => {
            return super::disk_faults::heal(ctx, *kind, nodes).await
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
    Ok(serde_json::Value::Null)
}
