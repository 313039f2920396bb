//! A fault as a person thinks of it: `partition-halves: n1 n2 | n3 n4 n5`, `kill n1 n3`,
//! `clock-bump n2: -5000 ms`, `power-loss n1–n5: 4,096 bytes dropped`, and whether its probe
//! showed it took effect — from the nemesis event's value in the history.

use super::results::FaultWindow;
use serde_json::Value as Json;

fn names(v: &Json) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a disk fault's evidence says, summed over its nodes.
fn disk_evidence(ev: &Json) -> String {
    let Some(nodes) = ev.as_object() else {
        return String::new();
    };
    let sum = |field: &str| -> u64 { nodes.values().filter_map(|e| e[field].as_u64()).sum() };
    if nodes.values().any(|e| e.get("bits").is_some()) {
        return nodes
            .iter()
            .map(|(n, e)| {
                format!(
                    "{n}: {} bits at {} of {}",
                    e["bits"],
                    e["offset"],
                    e["file"].as_str().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    if nodes.values().any(|e| e.get("bytes_dropped").is_some()) {
        let undone: usize = nodes
            .values()
            .filter_map(|e| e["entries_undone"].as_array().map(Vec::len))
            .sum();
        let mut s = format!("{} bytes dropped", thousands(sum("bytes_dropped")));
        if sum("bytes_torn") > 0 {
            s.push_str(&format!(
                ", {} torn bytes kept",
                thousands(sum("bytes_torn"))
            ));
        }
        if undone > 0 {
            s.push_str(&format!(", {undone} directory changes undone"));
        }
        return s;
    }
    String::new()
}

/// `n3 hears nobody` or `nobody hears n3`, from the grudge.
fn one_way(v: &Json) -> String {
    let x = v["components"][0][0].as_str().unwrap_or("?");
    let rest = names(&v["components"][1]);
    let deaf = v["grudge"][x].as_array().is_some_and(|a| !a.is_empty());
    if deaf {
        format!("partition-one-way: {x} hears nobody ({rest} still hear {x})")
    } else {
        format!("partition-one-way: nobody hears {x} ({x} still hears {rest})")
    }
}

/// `network-slow n3: +120 ms ± 20 ms each way, 10 % loss (measured: 241 ms round trip, 9.5 % loss)`.
fn network(v: &Json) -> String {
    let mut what = Vec::new();
    if let Some(d) = v["delay_ms"].as_u64() {
        what.push(format!(
            "+{d} ms ± {} ms each way",
            v["jitter_ms"].as_u64().unwrap_or(0)
        ));
    }
    if let Some(l) = v["loss_pct"].as_u64() {
        what.push(format!("{l} % loss"));
    }
    if let Some(r) = v["rate_kbit"].as_u64() {
        what.push(format!("{} kbit/s out", thousands(r)));
    }
    let mut s = format!(
        "{} {}: {}",
        v["kind"].as_str().unwrap_or("network"),
        names(&v["nodes"]),
        what.join(", ")
    );
    let m = &v["measured"];
    let mut seen = Vec::new();
    if v["delay_ms"].is_u64() {
        if let Some(r) = m["rtt_ms"].as_f64() {
            seen.push(format!("{r:.0} ms round trip"));
        }
    }
    if let Some(l) = m["loss_pct"].as_f64() {
        seen.push(format!("{l:.1} % loss"));
    }
    if !seen.is_empty() {
        s.push_str(&format!(" (measured: {})", seen.join(", ")));
    }
    s
}

/// The fault of a window in words.
pub fn describe(w: &FaultWindow) -> String {
    let v = serde_json::to_value(&w.value).unwrap_or(Json::Null);
    let mut s = match v["fault"].as_str() {
        Some("partition") if v["kind"] == "partition-one-way" => one_way(&v),
        Some("network") => network(&v),
        Some("member") => format!(
            "{}: {}",
            v["kind"].as_str().unwrap_or("member"),
            v["describe"].as_str().unwrap_or("?")
        ),
        Some("partition") => {
            let groups: Vec<String> = v["components"]
                .as_array()
                .map(|a| a.iter().map(names).collect())
                .unwrap_or_default();
            format!(
                "{}: {}",
                v["kind"].as_str().unwrap_or("partition"),
                groups.join(" | ")
            )
        }
        Some("kill") => format!("kill {}", names(&v["nodes"])),
        Some("pause") => format!("pause {}", names(&v["nodes"])),
        Some("clock") => {
            let kind = v["kind"].as_str().unwrap_or("clock");
            let ms = v["ms"].as_i64().unwrap_or(0);
            let what = match kind {
                "clock-strobe" => {
                    format!("±{ms} ms every {} ms", v["period_ms"].as_u64().unwrap_or(0))
                }
                "clock-drift" => format!("{ms:+} ms per s"),
                "clock-reset" => "back to real time".into(),
                _ => format!("{ms:+} ms"),
            };
            format!("{kind} {}: {what}", names(&v["nodes"]))
        }
        Some("disk") => {
            let ev = disk_evidence(&v["evidence"]);
            let mut s = format!(
                "{} {}",
                v["kind"].as_str().unwrap_or("disk"),
                names(&v["nodes"])
            );
            if !ev.is_empty() {
                s.push_str(": ");
                s.push_str(&ev);
            }
            s
        }
        _ => format!("{} {}", w.fault, v),
    };
    match v["took_effect"].as_bool() {
        Some(true) => s.push_str(" — took effect"),
        Some(false) => s.push_str(" — DID NOT take effect"),
        None => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_checkers::Value;

    fn window(json: Json) -> FaultWindow {
        FaultWindow {
            fault: "x".into(),
            value: Value::from_json(&json).unwrap(),
            start_s: 1.0,
            end_s: None,
        }
    }

    #[test]
    fn faults_read_as_a_person_says_them() {
        let p = window(
            serde_json::json!({"fault": "partition", "kind": "partition-halves",
            "components": [["n1", "n2"], ["n3", "n4", "n5"]], "grudge": {}, "took_effect": true}),
        );
        assert_eq!(
            describe(&p),
            "partition-halves: n1 n2 | n3 n4 n5 — took effect"
        );
        let k = window(
            serde_json::json!({"fault": "kill", "nodes": ["n1", "n3"], "took_effect": false}),
        );
        assert_eq!(describe(&k), "kill n1 n3 — DID NOT take effect");
        let c = window(
            serde_json::json!({"fault": "clock", "kind": "clock-bump", "nodes": ["n2"],
            "clocks": "both", "ms": -5000}),
        );
        assert_eq!(describe(&c), "clock-bump n2: -5000 ms");
        let d = window(
            serde_json::json!({"fault": "disk", "kind": "power-loss", "nodes": ["n1", "n2"],
            "seed": 1, "evidence": {"n1": {"bytes_dropped": 4096, "bytes_torn": 0, "files": [],
            "entries_undone": ["create member"]}, "n2": {"bytes_dropped": 209604, "bytes_torn": 0,
            "files": [], "entries_undone": []}}, "took_effect": true}),
        );
        assert_eq!(
            describe(&d),
            "power-loss n1 n2: 213,700 bytes dropped, 1 directory changes undone — took effect"
        );
        let x = window(
            serde_json::json!({"fault": "disk", "kind": "corrupt", "nodes": ["n1"],
            "seed": 1, "evidence": {"n1": {"file": "member/wal/0.wal", "offset": 35905, "bits": 4}}}),
        );
        assert_eq!(
            describe(&x),
            "corrupt n1: n1: 4 bits at 35905 of member/wal/0.wal"
        );
        let n = window(
            serde_json::json!({"fault": "network", "kind": "network-slow",
            "nodes": ["n3"], "delay_ms": 120, "jitter_ms": 40, "loss_pct": 10, "seed": 1,
            "measured": {"rtt_ms": 241.3, "loss_pct": 9.5}, "took_effect": true}),
        );
        assert_eq!(
            describe(&n),
            "network-slow n3: +120 ms ± 40 ms each way, 10 % loss (measured: 241 ms round trip, 9.5 % loss) — took effect"
        );
        let b = window(
            serde_json::json!({"fault": "network", "kind": "network-bandwidth",
            "nodes": ["n2"], "rate_kbit": 1000, "seed": 1}),
        );
        assert_eq!(describe(&b), "network-bandwidth n2: 1,000 kbit/s out");
        let o = window(
            serde_json::json!({"fault": "partition", "kind": "partition-one-way",
            "components": [["n3"], ["n1", "n2"]], "grudge": {"n1": [], "n2": [], "n3": ["n1", "n2"]}}),
        );
        assert_eq!(
            describe(&o),
            "partition-one-way: n3 hears nobody (n1 n2 still hear n3)"
        );
        let o = window(
            serde_json::json!({"fault": "partition", "kind": "partition-one-way",
            "components": [["n3"], ["n1", "n2"]], "grudge": {"n1": ["n3"], "n2": ["n3"], "n3": []}}),
        );
        assert_eq!(
            describe(&o),
            "partition-one-way: nobody hears n3 (n3 still hears n1 n2)"
        );
    }
}
