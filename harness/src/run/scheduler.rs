//! The cluster phase: start the system, drive clients at their rate while the nemesis runs,
//! then heal, let the cluster recover, and read every key once more.

use super::nemesis::nemesis;
use super::progress::{harness_cpu_seconds, progress};
use super::Ctx;
use anyhow::{anyhow, Context, Result};
use ferret_checkers::{EventType, Process};
use ferret_nemesis::FaultKind;
use ferret_workloads::Op;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What the ops need made first (a bucket), retried until db.ready_timeout: a cluster that
/// answers its health check may still be electing the leader that makes it.
async fn prepare(ctx: &Ctx) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs_f64(ctx.config.db.ready_timeout);
    loop {
        match ctx.clients[0].prepare().await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(anyhow!(
                    "the cluster was ready but could not be prepared for the workload within \
                     db.ready_timeout ({} s): {e}",
                    ctx.config.db.ready_timeout
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Start the cluster, run clients and nemesis, heal, final reads. Returns the workload's wall
/// time and the harness's CPU seconds during it.
pub(super) async fn cluster_phase(ctx: Arc<Ctx>, faults: Vec<FaultKind>) -> Result<(f64, f64)> {
    let started = Instant::now();
    let nodes = ctx.platform.nodes();
    if ctx.config.db.start_one_by_one {
        for n in nodes {
            ctx.db.start(ctx.platform.as_ref(), n, false).await?;
            ctx.db
                .wait_ready(ctx.platform.as_ref(), std::slice::from_ref(n))
                .await
                .context("the cluster never came up")?;
        }
    } else {
        for n in nodes {
            ctx.db.start(ctx.platform.as_ref(), n, false).await?;
        }
        ctx.db
            .wait_ready(ctx.platform.as_ref(), nodes)
            .await
            .context("the cluster never came up")?;
    }
    println!(
        "cluster of {} ready in {:.1} s; store {}",
        ctx.platform.nodes().len(),
        started.elapsed().as_secs_f64(),
        ctx.run_dir.display()
    );
    prepare(&ctx).await?;
    if let (Some(d), true) = (&ctx.disks, ctx.config.nemesis.disk.settle_setup) {
        d.settle().await?;
    }
    if let Some(v) = ctx.db.version(ctx.platform.as_ref(), &nodes[0]).await {
        println!("{}: {v}", ctx.config.db.name);
        let _ = ctx.system_version.set(v);
    }

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
    let _ = ctx
        .workload_end_ns
        .set((ctx.history.elapsed_s() * 1e9) as i64);
    let cpu = harness_cpu_seconds() - cpu0;

    // Let the cluster recover, then the workload's final ops (a read of every key, say), each by
    // a fresh process, spread over the nodes.
    tokio::time::sleep(Duration::from_secs_f64(ctx.config.nemesis.recovery)).await;
    super::recovery::check_recovery(&ctx).await?;
    let mut finals = JoinSet::new();
    for (i, op) in ctx.workload.final_ops().into_iter().enumerate() {
        let ctx = ctx.clone();
        finals.spawn(async move {
            let process = ctx.next_process.fetch_add(1, Ordering::Relaxed);
            invoke(&ctx, i, Process::Client(process), &op)
                .await
                .map(drop)
        });
    }
    while let Some(r) = finals.join_next().await {
        r.map_err(|e| anyhow!("a final op failed: {e}"))??;
    }
    Ok((elapsed, cpu))
}

/// The key an op's events carry: none for a transaction, whose keys are in its micro-ops.
fn key_of(op: &Op) -> Option<&str> {
    (!op.key.is_empty()).then_some(op.key.as_str())
}

/// Invoke one op through the client of node `slot % nodes`, recording both ends in the history.
async fn invoke(
    ctx: &Ctx,
    slot: usize,
    process: Process,
    op: &Op,
) -> Result<ferret_workloads::Completion> {
    let n = slot % ctx.clients.len();
    ctx.history.record_on(
        process.clone(),
        EventType::Invoke,
        op.f,
        key_of(op),
        op.value.clone(),
        None,
        Some(&ctx.platform.nodes()[n].name),
    )?;
    let c = ctx.clients[n].invoke(op.f, &op.key, &op.value).await;
    ctx.history.record(
        process,
        c.kind,
        op.f,
        key_of(op),
        c.value.clone(),
        c.error.clone(),
    )?;
    Ok(c)
}

async fn worker(ctx: Arc<Ctx>, slot: usize, deadline: Instant) -> Result<()> {
    let w = &ctx.config.workload;
    let mut gen = ctx.workload.generator(ctx.seed, slot as u64);
    let mut process = slot as i64;
    // Each worker's share of the target rate; workers start spread over one period.
    let period = Duration::from_secs_f64(w.concurrency as f64 / w.rate);
    let mut next = Instant::now() + period.mul_f64(slot as f64 / w.concurrency as f64);
    loop {
        tokio::time::sleep_until(next.into()).await;
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // Behind schedule (a slow op): do not burst to catch up.
        next = (next + period).max(now);
        let op = gen.next_op();
        if !op.think.is_zero() {
            tokio::time::sleep(op.think).await;
        }
        step(&ctx, slot, &mut process, gen.as_mut(), &op).await?;
    }
    // Finish what the slot started (release a held lock), however long the time limit says.
    while let Some(op) = gen.closing_op() {
        step(&ctx, slot, &mut process, gen.as_mut(), &op).await?;
    }
    Ok(())
}

/// One op of a worker: invoked, counted, shown to its generator.
async fn step(
    ctx: &Ctx,
    slot: usize,
    process: &mut i64,
    gen: &mut dyn ferret_workloads::Generator,
    op: &Op,
) -> Result<()> {
    let c = invoke(ctx, slot, Process::Client(*process), op).await?;
    ctx.stats.count(c.kind);
    gen.observe(op, &c);
    if c.kind == EventType::Info {
        // Its request may still be in flight: this process never invokes again.
        *process = ctx.next_process.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
