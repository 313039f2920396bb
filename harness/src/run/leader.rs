//! Who leads: asked of the clients, or with the config's `db.leader` command on every node, for
//! the faults that target the leader.

use super::Ctx;
use std::time::Duration;

/// The current leader's node name, if the members agree on one: asked of the clients, or with
/// the config's `db.leader` command on every node.
pub(super) async fn find_leader(ctx: &Ctx) -> Option<String> {
    if let Some(cmd) = &ctx.config.db.leader {
        let nodes = ctx.platform.nodes();
        let mut votes: std::collections::BTreeMap<&str, usize> = Default::default();
        // Every node at once: a partitioned one must not hold up the others.
        let answers = futures::future::join_all(nodes.iter().map(|node| {
            let line = ctx.db.expand(cmd, node);
            async move {
                tokio::time::timeout(Duration::from_secs(2), ctx.platform.exec(node, &line, None))
                    .await
            }
        }))
        .await;
        for answer in answers {
            let Ok(Ok((true, out))) = answer else {
                continue;
            };
            // An address must not match a longer one (10.0.0.1 in 10.0.0.11).
            let names = |n: &&crate::platform::Node| {
                out.trim() == n.name
                    || out.match_indices(&n.ip).any(|(at, _)| {
                        !out[at + n.ip.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
            };
            if let Some(leader) = nodes.iter().find(names) {
                *votes.entry(&leader.name).or_default() += 1;
            }
        }
        return votes
            .into_iter()
            .max_by_key(|(_, v)| *v)
            .map(|(n, _)| n.to_string());
    }
    let mut statuses = Vec::new();
    for (node, client) in ctx.platform.nodes().iter().zip(&ctx.clients) {
        if let Some((member, leader)) = client.leader_view().await {
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
