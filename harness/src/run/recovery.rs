//! A node that does not come back is a finding, not a shortfall: after the final heal and the
//! recovery time, every node must be running and ready again within `db.ready_timeout`. One that
//! exited or never became ready is a recovery failure, recorded in the history and nemesis.jsonl
//! and reported as an invalid entry of the run's verdict, with the end of the node's log.

use super::Ctx;
use anyhow::Result;
use ferret_checkers::verdict::{Anomaly, KeyReport};
use ferret_checkers::{EventType, Process, Report, Value, VerdictName};
use std::time::Duration;

/// A node that did not come back.
#[derive(Clone, Debug)]
pub(super) struct RecoveryFailure {
    pub node: String,
    /// Seconds on the history's clock when it was found.
    pub at_s: f64,
    /// Whether it exited or was not ready, and the end of its log.
    pub message: String,
}

/// Check every node once the cluster has been healed and given its recovery time.
pub(super) async fn check_recovery(ctx: &Ctx) -> Result<Vec<RecoveryFailure>> {
    let nodes = ctx.platform.nodes();
    // Every node at once: one that never becomes ready must not hold up the others.
    let answers = futures::future::join_all(nodes.iter().map(|n| {
        ctx.db
            .wait_ready(ctx.platform.as_ref(), std::slice::from_ref(n))
    }))
    .await;
    let mut failures = Vec::new();
    for (node, answer) in nodes.iter().zip(answers) {
        let Err(e) = answer else {
            continue;
        };
        let f = RecoveryFailure {
            node: node.name.clone(),
            at_s: ctx.history.elapsed_s(),
            message: e.to_string(),
        };
        let value = serde_json::json!({"node": f.node, "message": f.message});
        ctx.history.record(
            Process::Nemesis,
            EventType::Info,
            "recovery-failure",
            None,
            Value::from_json(&value)?,
            None,
        )?;
        super::nemesis::append_line(
            &ctx.run_dir.join("nemesis.jsonl"),
            &serde_json::json!({"at_s": f.at_s, "recovery_failure": f.node, "message": f.message}),
        )?;
        failures.push(f);
    }
    Ok(failures)
}

/// Each failure as an invalid entry of the report, so the summary, results.json, junit.xml and
/// report.html all show it; the run's verdict is invalid.
pub(super) fn report_failures(report: &mut Report, failures: &[RecoveryFailure]) {
    for f in failures {
        let anomaly = Anomaly {
            kind: "recovery-failure".into(),
            summary: format!(
                "node {} was not running and ready after the final heal (checked at {:.3} s): {}",
                f.node, f.at_s, f.message
            ),
            calls: Vec::new(),
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
