//! Proof that a fault took effect: after each apply and each heal, a probe of what the fault
//! should have done — partitions: a TCP connection across every cut pair fails and within every
//! side succeeds, tried from inside the nodes' network namespaces; pause: every process of the
//! system stopped (`T`); kill and crashes: the system gone, then back; clocks: the offset the
//! agent set, read back; other disk faults: armed, then disarmed. A fault whose probe says no
//! makes the run `unknown` — a fault that silently did nothing must never let a run pass.

use super::{ping_mesh, Ctx};
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
        // TCP cannot tell a one-way cut from a whole one: pings in both directions can.
        Fault::Partition {
            kind: FaultKind::PartitionOneWay,
            grudge,
            ..
        } => one_way(ctx, grudge, healed).await,
        Fault::Network { .. } => degraded(ctx, fault, healed).await,
        // A membership change has nothing to heal: the list must show it after it is made.
        Fault::Member { .. } => members(ctx).await,
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

/// Each direction of each link: cut where the grudge says (the receiver drops the sender),
/// open elsewhere.
async fn one_way(ctx: &Ctx, grudge: &ferret_nemesis::Grudge, healed: bool) -> Probe {
    let mesh = ping_mesh::ping_all(ctx, 1000).await;
    let mut wrong = mesh.failed.clone();
    let mut heard = serde_json::Map::new();
    for ((from, to), l) in &mesh.links {
        let want_cut = !healed && grudge.get(to).is_some_and(|d| d.contains(from));
        let open = l.heard >= ping_mesh::COUNT * 9 / 10;
        if want_cut && l.heard > 0 || !want_cut && !open {
            wrong.push(format!(
                "{from} -> {to}: {} of {} arrived but it should be {}",
                l.heard,
                ping_mesh::COUNT,
                if want_cut { "cut" } else { "open" }
            ));
        }
        heard.insert(format!("{from}->{to}"), json!(l.heard));
    }
    Probe {
        took_effect: wrong.is_empty() && !mesh.links.is_empty(),
        figures: json!({"sent": ping_mesh::COUNT, "heard": heard, "wrong": wrong}),
    }
}

/// Delay, loss and bandwidth as measured across the links of the targets: round trips at
/// least twice the least delay a packet can get each way, the share of requests lost near the
/// configured loss, the rate limit in place; after the heal, every link whole and fast again.
async fn degraded(ctx: &Ctx, fault: &Fault, healed: bool) -> Probe {
    let Fault::Network {
        nodes: targets,
        delay_ms,
        jitter_ms,
        loss_pct,
        rate_kbit,
        ..
    } = fault
    else {
        return Probe {
            took_effect: false,
            figures: json!({"wrong": ["not a network fault"]}),
        };
    };
    let (d, j) = (delay_ms.unwrap_or(0), jitter_ms.unwrap_or(0));
    let p = loss_pct.unwrap_or(0);
    let wait = if healed { 1000 } else { 2 * (d + j) + 1000 };
    let mesh = ping_mesh::ping_all(ctx, wait).await;
    let mut wrong = mesh.failed.clone();
    let touched = |a: &str, b: &str| targets.iter().any(|t| t == a || t == b);
    let (mut lost, mut sent) = (0u32, 0u32);
    let mut rtts = Vec::new();
    let count = ping_mesh::COUNT;
    for ((from, to), l) in &mesh.links {
        let link = format!("{from} -> {to}");
        let degraded = !healed && touched(from, to);
        // What a rate-limited target sends queues and, past the queue's 400 ms, is dropped:
        // on a busy link the probe's own requests share that fate, so it only has to get through.
        let limited = !healed && rate_kbit.is_some() && targets.iter().any(|t| t == from);
        if degraded && p > 0 {
            lost += count.saturating_sub(l.heard);
            sent += count;
        } else if limited {
            if l.heard == 0 {
                wrong.push(format!("{link}: nothing arrived through the rate limit"));
            }
        } else if l.heard < count * 9 / 10 {
            wrong.push(format!("{link}: {} of {count} arrived", l.heard));
        }
        if touched(from, to) {
            rtts.extend(l.rtt_ms_median);
        }
        if d > 0 && touched(from, to) {
            match l.rtt_ms_min {
                None if p < 100 => wrong.push(format!("{link}: no replies")),
                Some(min) if !healed && min < (2 * (d - j)) as f64 - 1.0 => wrong.push(format!(
                    "{link}: round trip {min} ms, less than twice the least delay {} ms",
                    d - j
                )),
                Some(min) if healed && d >= 20 && min >= d as f64 => {
                    wrong.push(format!("{link}: round trip still {min} ms after the heal"))
                }
                _ => {}
            }
        }
    }
    let loss = (sent > 0).then(|| f64::from(lost) * 100.0 / f64::from(sent));
    if let Some(l) = loss {
        let (lo, hi) = (p as f64 / 2.0 - 1.0, p as f64 * 2.0 + 5.0);
        if l < lo || l > hi {
            wrong.push(format!(
                "{l:.1} % of requests lost; {p} % set, so {lo:.1} to {hi:.1} % expected"
            ));
        }
    }
    let mut rates = serde_json::Map::new();
    if rate_kbit.is_some() {
        for t in targets {
            let shown = match ctx.platform.node(t) {
                Ok(node) => match super::network_faults::device(ctx, node).await {
                    Ok(dev) => ctx
                        .platform
                        .net_exec(node, &["tc", "qdisc", "show", "dev", &dev], None)
                        .await
                        .map(|(_, out)| out)
                        .unwrap_or_default(),
                    Err(e) => format!("{e:#}"),
                },
                Err(e) => format!("{e:#}"),
            };
            let line = shown.lines().find(|l| l.contains("tbf")).map(str::trim);
            if line.is_some() == healed {
                wrong.push(format!(
                    "{t}: {}",
                    if healed {
                        "rate limit still in place"
                    } else {
                        "no rate limit in place"
                    }
                ));
            }
            rates.insert(t.clone(), json!(line));
        }
    }
    rtts.sort_by(f64::total_cmp);
    Probe {
        took_effect: wrong.is_empty() && !mesh.links.is_empty(),
        figures: json!({
            "configured": {"delay_ms": delay_ms, "jitter_ms": jitter_ms, "loss_pct": loss_pct, "rate_kbit": rate_kbit},
            "rtt_ms": rtts.get(rtts.len() / 2),
            "loss_pct": loss.map(|l| (l * 10.0).round() / 10.0),
            "tbf": if rates.is_empty() { Json::Null } else { Json::Object(rates) },
            "wrong": wrong,
        }),
    }
}

/// The members the system lists, against those the nemesis made.
async fn members(ctx: &Ctx) -> Probe {
    let want: BTreeSet<String> = ctx.membership.lock().await.members.clone();
    let error = ctx
        .membership_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match super::membership_faults::listed(ctx).await {
        Some((seen, on)) => Probe {
            took_effect: seen == want && error.is_none(),
            figures: json!({"listed": seen, "expected": want, "asked": on, "error": error}),
        },
        None => Probe {
            took_effect: false,
            figures: json!({"listed": null, "expected": want, "wrong": ["no member answered db.members"]}),
        },
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
            let letters = ctx.db.states(node).await;
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
