//! Every node pings every other at once (`ferret probe ping` in each node's namespace, one tag
//! for the round), so each direction of each link is seen on its own: whether a node's
//! requests arrived at the other ("heard"), how many, and the round trips of the replies.

use super::Ctx;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};

/// Requests each node sends each other node in a probe.
pub(super) const COUNT: u32 = 100;

/// What one direction of one link showed: `from`'s requests that reached `to`, and the round
/// trips `from` measured to `to`.
#[derive(Clone, Debug, Default)]
pub(super) struct Link {
    pub heard: u32,
    pub replies: u32,
    pub rtt_ms_min: Option<f64>,
    pub rtt_ms_median: Option<f64>,
}

/// The mesh: (from, to) → link; and the nodes whose probe failed, with why.
pub(super) struct Mesh {
    pub links: BTreeMap<(String, String), Link>,
    pub failed: Vec<String>,
}

static TAG: AtomicU16 = AtomicU16::new(0x5a00);

/// Ping across every pair at once; `wait_ms` covers the slowest round trip expected.
pub(super) async fn ping_all(ctx: &Ctx, wait_ms: u64) -> Mesh {
    let nodes = ctx.platform.nodes();
    let tag = TAG.fetch_add(1, Ordering::Relaxed).to_string();
    let agent = ctx.agent.display().to_string();
    let count = COUNT.to_string();
    let wait = wait_ms.to_string();
    let answers = futures::future::join_all(nodes.iter().map(|from| {
        let mut args: Vec<String> = [
            agent.as_str(),
            "probe",
            "ping",
            "--count",
            &count,
            "--interval-ms",
            "2",
            "--wait-ms",
            &wait,
            "--tag",
            &tag,
        ]
        .map(String::from)
        .to_vec();
        args.extend(
            nodes
                .iter()
                .filter(|n| n.name != from.name)
                .map(|n| n.ip.clone()),
        );
        async move {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            ctx.platform.net_exec(from, &argv, None).await
        }
    }))
    .await;
    let name_of: BTreeMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.ip.as_str(), n.name.as_str()))
        .collect();
    let mut mesh = Mesh {
        links: BTreeMap::new(),
        failed: Vec::new(),
    };
    for (me, answer) in nodes.iter().zip(answers) {
        let rows: Vec<Json> = match answer {
            Ok((true, out)) => match serde_json::from_str(out.trim()) {
                Ok(rows) => rows,
                Err(e) => {
                    mesh.failed.push(format!(
                        "{}: unreadable probe output ({e}): {}",
                        me.name,
                        out.trim()
                    ));
                    continue;
                }
            },
            Ok((false, out)) => {
                mesh.failed.push(format!("{}: {}", me.name, out.trim()));
                continue;
            }
            Err(e) => {
                mesh.failed.push(format!("{}: {e:#}", me.name));
                continue;
            }
        };
        for r in rows {
            let Some(other) = r["to"].as_str().and_then(|t| name_of.get(t)) else {
                continue;
            };
            let num = |k: &str| r[k].as_u64().unwrap_or(0) as u32;
            // My replies and round trips describe me → other; what I heard, other → me.
            let out = mesh
                .links
                .entry((me.name.clone(), other.to_string()))
                .or_default();
            out.replies = num("replies");
            out.rtt_ms_min = r["rtt_ms_min"].as_f64();
            out.rtt_ms_median = r["rtt_ms_median"].as_f64();
            mesh.links
                .entry((other.to_string(), me.name.clone()))
                .or_default()
                .heard = num("heard");
        }
    }
    mesh
}
