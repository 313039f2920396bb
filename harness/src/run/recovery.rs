//! A node that does not come back is a finding, not a shortfall: after the heal of a kill or a
//! pause, the nodes it touched, and after the final heal and the recovery time every node, must be
//! running and ready again within `db.ready_timeout`. One that exited or never became ready is a
//! recovery failure, recorded in the history and nemesis.jsonl and reported as an invalid entry
//! of the run's verdict, with the end of the node's log.

use super::Ctx;
use crate::platform::Node;
use crate::store::append_json_line;
use anyhow::Result;
use ferret_checkers::verdict::{Anomaly, KeyReport};
use ferret_checkers::{EventType, Process, Report, Value, VerdictName};
use std::time::Duration;

/// A node that did not come back.
#[derive(Clone, Debug)]
pub(super) struct RecoveryFailure {
    pub node: String,
    /// What it did not come back from: `the final heal`, `the heal of kill at 12.301 s`.
    pub after: String,
    /// Seconds on the history's clock when it was found.
    pub at_s: f64,
    /// Whether it exited or was not ready, and the end of its log.
    pub message: String,
}

/// Check every node once the cluster has been healed and given its recovery time.
/// Removed members are down by design: only members are checked.
pub(super) async fn check_recovery(ctx: &Ctx) -> Result<()> {
    let members = ctx.membership.lock().await.members.clone();
    let nodes: Vec<Node> = ctx
        .platform
        .nodes()
        .iter()
        .filter(|n| members.contains(&n.name))
        .cloned()
        .collect();
    check_nodes(ctx, &nodes, "the final heal").await
}

/// Check that `nodes` are running and ready within `db.ready_timeout` after a heal that touched
/// their processes (`after` says which); a node already found failed is not named twice.
pub(super) async fn check_nodes(ctx: &Ctx, nodes: &[Node], after: &str) -> Result<()> {
    // Every node at once: one that never becomes ready must not hold up the others.
    let answers = futures::future::join_all(nodes.iter().map(|n| {
        ctx.db
            .wait_ready(ctx.platform.as_ref(), std::slice::from_ref(n))
    }))
    .await;
    for (node, answer) in nodes.iter().zip(answers) {
        let Err(e) = answer else {
            continue;
        };
        let f = RecoveryFailure {
            node: node.name.clone(),
            after: after.to_string(),
            at_s: ctx.history.elapsed_s(),
            message: e.to_string(),
        };
        {
            let mut failures = ctx
                .recovery_failures
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if failures.iter().any(|g| g.node == f.node) {
                continue;
            }
            failures.push(f.clone());
        }
        let value = serde_json::json!({"node": f.node, "after": f.after, "message": f.message});
        ctx.history.record(
            Process::Nemesis,
            EventType::Info,
            "recovery-failure",
            None,
            Value::from_json(&value)?,
            None,
        )?;
        append_json_line(
            &ctx.run_dir.join("nemesis.jsonl"),
            &serde_json::json!({"at_s": f.at_s, "recovery_failure": f.node, "after": f.after, "message": f.message}),
        )?;
    }
    Ok(())
}

/// Each failure as an invalid entry of the report, so the summary, results.json, junit.xml and
/// report.html all show it; the run's verdict is invalid.
pub(super) fn report_failures(report: &mut Report, failures: &[RecoveryFailure]) {
    for f in failures {
        let anomaly = Anomaly {
            kind: "recovery-failure".into(),
            summary: format!(
                "node {} was not running and ready after {} (checked at {:.3} s): {}",
                f.node, f.after, f.at_s, f.message
            ),
            calls: Vec::new(),
            steps: Vec::new(),
        };
        report.keys.push(KeyReport::from_anomalies(
            Value::Str(format!("node {}", f.node)),
            vec![anomaly],
            0,
            Duration::ZERO,
        ));
    }
    if !failures.is_empty() {
        report.verdict = VerdictName::Invalid;
    }
}
