//! Disk faults, asked of the nodes' fault file systems. Each returns its evidence per node —
//! bytes dropped or kept torn, the bits flipped, the fsyncs failed, the writes refused — so the
//! nemesis log shows that the fault took effect, not only that it was asked for.

use super::Ctx;
use anyhow::{anyhow, Result};
use ferret_faultfs::Request;
use ferret_nemesis::FaultKind;
use serde_json::{json, Map, Value};

fn disks(ctx: &Ctx, kind: FaultKind) -> Result<&crate::disk::Disks> {
    ctx.disks
        .as_ref()
        .ok_or_else(|| anyhow!("{kind} needs the nodes' data on the fault file system"))
}

pub(super) async fn apply(
    ctx: &Ctx,
    kind: FaultKind,
    nodes: &[String],
    seed: u64,
) -> Result<Value> {
    let disks = disks(ctx, kind)?;
    let mut evidence = Map::new();
    if kind.crashes() {
        // Every target goes down before any disk is touched: a power cut hits all at once.
        let targets = nodes
            .iter()
            .map(|n| ctx.platform.node(n))
            .collect::<Result<Vec<_>>>()?;
        futures::future::join_all(targets.iter().map(|n| ctx.db.kill(n))).await;
        for (i, n) in nodes.iter().enumerate() {
            // Each node its own seed, so two nodes do not tear alike.
            let node_seed = seed.wrapping_add(i as u64);
            let request = match kind {
                FaultKind::Corrupt => Request::Corrupt {
                    pattern: ctx.config.nemesis.disk.corrupt.clone(),
                    seed: node_seed,
                },
                FaultKind::TornWrite => Request::Crash {
                    torn_seed: Some(node_seed),
                },
                _ => Request::Crash { torn_seed: None },
            };
            let reply = disks.ask(n, request).await?;
            let ev = match (reply.crash, reply.corrupt) {
                (Some(c), _) => serde_json::to_value(c)?,
                (_, Some(c)) => serde_json::to_value(c)?,
                _ => Value::Null,
            };
            evidence.insert(n.clone(), ev);
        }
    } else {
        for n in nodes {
            let request = match kind {
                FaultKind::FsyncError => Request::FsyncError { count: 1 },
                _ => Request::DiskFull { on: true },
            };
            let reply = disks.ask(n, request).await?;
            evidence.insert(n.clone(), json!({"unsynced_bytes": reply.unsynced_bytes}));
        }
    }
    Ok(Value::Object(evidence))
}

/// Heal a fault that did not crash its nodes (those the nemesis restarts): what it did while
/// it lasted.
pub(super) async fn heal(ctx: &Ctx, kind: FaultKind, nodes: &[String]) -> Result<Value> {
    let disks = disks(ctx, kind)?;
    let mut evidence = Map::new();
    for n in nodes {
        let ev = match kind {
            FaultKind::FsyncError => {
                let r = disks.ask(n, Request::FsyncError { count: 0 }).await?;
                json!({"fsyncs_failed": r.fsyncs_failed})
            }
            _ => {
                let r = disks.ask(n, Request::DiskFull { on: false }).await?;
                json!({"space_refused": r.space_refused})
            }
        };
        evidence.insert(n.clone(), ev);
    }
    Ok(Value::Object(evidence))
}
