//! Proof that a fault took effect: after each apply and each heal, a probe of what the fault
//! should have done — partitions: a TCP connection across every cut pair fails and within every
//! side succeeds, tried from inside the nodes' network namespaces; pause: every process of the
//! system stopped (`T`); kill and crashes: the system gone, then back; clocks: the offset the
//! agent set, read back; other disk faults: armed, then disarmed. A fault whose probe says no
//! makes the run `unknown` — a fault that silently did nothing must never let a run pass.

use super::Ctx;
use ferret_checkers::verdict::KeyReport;
use ferret_checkers::{Report, Value, VerdictName};
use ferret_nemesis::{Fault, FaultKind};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use std::time::Duration;

/// What a probe found.
pub(super) struct Probe {
    pub took_effect: bool,
    /// The probe's figures, for nemesis.jsonl.
    pub figures: Json,
}

/// A fault a probe showed had not taken effect.
#[derive(Clone, Debug)]
pub(super) struct Ineffective {
    pub fault: String,
    pub at_s: f64,
    /// `apply` or `heal`.
    pub phase: &'static str,
    pub figures: Json,
}

/// The probe after `fault` was applied (`healed` false) or healed.
pub(super) async fn probe(ctx: &Ctx, fault: &Fault, healed: bool) -> Probe {
    match fault {
        Fault::Partition { grudge, .. } => {
            let cut = |a: &str, b: &str| {
                !healed
                    && (grudge.get(a).is_some_and(|s| s.contains(b))
                        || grudge.get(b).is_some_and(|s| s.contains(a)))
            };
            partition(ctx, &cut).await
        }
        Fault::Pause { nodes } => stopped(ctx, nodes, !healed).await,
        Fault::Kill { nodes } => running(ctx, nodes, healed).await,
        Fault::Disk { kind, nodes, .. } if kind.crashes() => running(ctx, nodes, healed).await,
        // Armed and disarmed by the file system's own reply; a refused request fails the run
        // before this is asked.
        Fault::Disk { .. } => Probe {
            took_effect: true,
            figures: json!({"armed": !healed}),
        },
        // A strobe or drift moves the offset while it lasts: patched is all that can be read
        // then; at its heal the offset it left must read back.
        Fault::Clock { kind, nodes, .. } => {
            let moving = !healed && matches!(kind, FaultKind::ClockStrobe | FaultKind::ClockDrift);
            clocks(ctx, nodes, moving).await
        }
    }
}

/// Every ordered pair of nodes tried from inside the first's namespace; `cut` says which pairs
/// should fail.
async fn partition(ctx: &Ctx, cut: &(dyn Fn(&str, &str) -> bool + Sync)) -> Probe {
    let nodes = ctx.platform.nodes();
    let agent = ctx.agent.display().to_string();
    let answers = futures::future::join_all(nodes.iter().map(|from| {
        let mut args: Vec<String> = vec![agent.clone(), "probe".into(), "tcp".into()];
        args.extend(
            nodes
                .iter()
                .filter(|n| n.name != from.name)
                .map(|n| format!("{}:9", n.ip)),
        );
        async move {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            ctx.platform.net_exec(from, &argv, None).await
        }
    }))
    .await;
    let by_ip: std::collections::BTreeMap<String, &str> = nodes
        .iter()
        .map(|n| (format!("{}:9", n.ip), n.name.as_str()))
        .collect();
    let mut wrong = Vec::new();
    let mut cut_pairs = BTreeSet::new();
    let mut pairs = 0;
    for (from, answer) in nodes.iter().zip(answers) {
        let rows: Vec<Json> = match answer {
            Ok((true, out)) => serde_json::from_str(out.trim()).unwrap_or_default(),
            Ok((false, out)) => {
                wrong.push(format!("{}: the probe failed: {}", from.name, out.trim()));
                continue;
            }
            Err(e) => {
                wrong.push(format!("{}: the probe failed: {e:#}", from.name));
                continue;
            }
        };
        for r in rows {
            let Some(to) = r["to"].as_str().and_then(|t| by_ip.get(t)) else {
                continue;
            };
            pairs += 1;
            let reachable = r["reachable"].as_bool().unwrap_or(false);
            let want_cut = cut(&from.name, to);
            if !reachable {
                let mut p = [from.name.clone(), to.to_string()];
                p.sort();
                cut_pairs.insert(p.join("-"));
            }
            if reachable == want_cut {
                wrong.push(format!(
                    "{} -> {}: {} but should be {}",
                    from.name,
                    to,
                    if reachable { "reachable" } else { "cut" },
                    if want_cut { "cut" } else { "reachable" }
                ));
            }
        }
    }
    Probe {
        took_effect: wrong.is_empty() && pairs > 0,
        figures: json!({"pairs_tried": pairs, "cut": cut_pairs, "wrong": wrong}),
    }
}

/// Whether every process of the system on `nodes` is stopped (`want` true) or none is. A
/// signal reaches a process a moment after it is sent: asked again for up to a second.
async fn stopped(ctx: &Ctx, nodes: &[String], want: bool) -> Probe {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let mut states = serde_json::Map::new();
        let mut ok = true;
        for n in nodes {
            let Ok(node) = ctx.platform.node(n) else {
                ok = false;
                continue;
            };
            let members = match ctx.db.group(node).await {
                Some(g) => ferret_nemesis::proc::group_members(g),
                None => Vec::new(),
            };
            let letters: String = members
                .iter()
                .filter_map(|p| ferret_nemesis::proc::stat_fields(&p.to_string()))
                .filter_map(|f| f.first().cloned())
                .collect();
            let all_stopped = !letters.is_empty() && letters.chars().all(|c| c == 'T');
            let none_stopped = !letters.contains('T');
            ok &= if want { all_stopped } else { none_stopped };
            states.insert(n.clone(), json!(letters));
        }
        if ok || std::time::Instant::now() >= deadline {
            return Probe {
                took_effect: ok,
                figures: json!({"process_states": states}),
            };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the system is running on `nodes` (`want` true) or gone from them.
async fn running(ctx: &Ctx, nodes: &[String], want: bool) -> Probe {
    let mut seen = serde_json::Map::new();
    let mut ok = true;
    for n in nodes {
        let Ok(node) = ctx.platform.node(n) else {
            ok = false;
            continue;
        };
        let up = ctx.db.is_running(node).await;
        ok &= up == want;
        seen.insert(n.clone(), json!(if up { "running" } else { "gone" }));
    }
    Probe {
        took_effect: ok,
        figures: json!({"system": seen}),
    }
}

/// The offset the clock agent holds for each node, read back, against the nemesis's own.
async fn clocks(ctx: &Ctx, nodes: &[String], moving: bool) -> Probe {
    let skews = ctx.skews.lock().await.clone();
    let mut read = serde_json::Map::new();
    let mut ok = true;
    for n in nodes {
        let want = skews.get(n).map_or(0, |s| s.0);
        let pid = match ctx.platform.node(n) {
            Ok(node) => ctx.db.pid(node).await,
            Err(_) => None,
        };
        // No agent state (never skewed, or reset and healed) reads as offset 0.
        let state = pid.and_then(|p| clock_offset(p as i32));
        let got = state.unwrap_or(0);
        ok &= if moving { state.is_some() } else { got == want };
        read.insert(
            n.clone(),
            json!({"want_ms": want as f64 / 1e6, "read_ms": got as f64 / 1e6}),
        );
    }
    Probe {
        took_effect: ok,
        figures: json!({"offsets": read}),
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn clock_offset(pid: i32) -> Option<i64> {
    ferret_nemesis::clock::load_state(pid).map(|s| s.offset_ns)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn clock_offset(_pid: i32) -> Option<i64> {
    None
}

/// Each ineffective fault as an unknown entry of the report; a valid run becomes unknown (an
/// invalid one stays invalid: what was found was found).
pub(super) fn report_ineffective(report: &mut Report, faults: &[Ineffective]) {
    for f in faults {
        let mut k = KeyReport::from_anomalies(
            Value::Str(format!("fault {} at {:.3} s", f.fault, f.at_s)),
            Vec::new(),
            0,
            Duration::ZERO,
        );
        k.verdict = VerdictName::Unknown;
        k.reason = Some(format!(
            "the probe after its {} showed it did not take effect: {}",
            f.phase, f.figures
        ));
        report.keys.push(k);
    }
    if !faults.is_empty() && report.verdict == VerdictName::Valid {
        report.verdict = VerdictName::Unknown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(verdict: VerdictName) -> Report {
        Report {
            verdict,
            model: "cas-register".into(),
            calls: 0,
            keys: Vec::new(),
            warnings: Vec::new(),
            elapsed_s: 0.0,
        }
    }

    #[test]
    fn a_fault_that_did_not_take_effect_makes_a_valid_run_unknown_and_leaves_invalid_alone() {
        let f = Ineffective {
            fault: "partition-halves".into(),
            at_s: 3.5,
            phase: "apply",
            figures: json!({"wrong": ["n1 -> n4: reachable but should be cut"]}),
        };
        let mut r = report(VerdictName::Valid);
        report_ineffective(&mut r, std::slice::from_ref(&f));
        assert_eq!(r.verdict, VerdictName::Unknown);
        assert_eq!(r.keys.len(), 1);
        assert_eq!(r.keys[0].verdict, VerdictName::Unknown);
        assert!(r.keys[0]
            .reason
            .as_deref()
            .is_some_and(|w| w.contains("n1 -> n4") && w.contains("apply")));
        let mut r = report(VerdictName::Invalid);
        report_ineffective(&mut r, &[f]);
        assert_eq!(r.verdict, VerdictName::Invalid);
        let mut r = report(VerdictName::Valid);
        report_ineffective(&mut r, &[]);
        assert_eq!(r.verdict, VerdictName::Valid);
    }
}
