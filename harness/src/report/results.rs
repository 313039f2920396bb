//! `results.json`: the checker's report with what a pipeline needs beside it — ferret's and the
//! system's versions, the run's seed and reproduce command, calls and latency quantiles per
//! function, the fault timeline. `ferret report` reads it back. Schema: docs/results.md.

use ferret_checkers::{Call, Event, History, Outcome, Report, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The checker's verdict, per-key verdicts and explanations, at the top level.
    #[serde(flatten)]
    pub report: Report,
    pub ferret_version: String,
    /// What was run; absent for `ferret check` of a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunFacts>,
    /// Per function (`read`, `write`, …), over every call of the history.
    #[serde(default)]
    pub ops: BTreeMap<String, OpStats>,
    /// Each fault the nemesis applied, in the order it began.
    #[serde(default)]
    pub faults: Vec<FaultWindow>,
    /// Whether the probes after every apply and heal showed the fault took effect; absent when
    /// nothing was probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_effect: Option<TookEffect>,
}

impl Results {
    /// A run folder's results.json, as ferret wrote it.
    pub fn read(dir: &std::path::Path) -> anyhow::Result<Results> {
        let file = dir.join("results.json");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {} (is {} a run's folder? ferret run writes it after the check): {e}",
                file.display(),
                dir.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a results.json ferret wrote: {e}",
                file.display(),
                e.line(),
                e.column()
            )
        })
    }
}

/// The probes' verdicts over a run's faults.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TookEffect {
    /// Every probed apply and heal took effect.
    pub all: bool,
    /// Applies and heals probed.
    pub probed: u64,
    /// Those that did not take effect: the nemesis event and when.
    pub not: Vec<String>,
}

/// The probes' verdicts from the nemesis events' values.
pub fn took_effect<'a>(nemesis: impl IntoIterator<Item = &'a Event>) -> Option<TookEffect> {
    let mut t = TookEffect::default();
    for e in nemesis {
        let v = serde_json::to_value(&e.value).unwrap_or_default();
        let Some(ok) = v["took_effect"].as_bool() else {
            continue;
        };
        t.probed += 1;
        if !ok {
            t.not.push(format!(
                "{} at {:.3} s",
                e.f,
                e.time.unwrap_or(0) as f64 / 1e9
            ));
        }
    }
    t.all = t.not.is_empty();
    (t.probed > 0).then_some(t)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFacts {
    /// The config's name.
    pub name: String,
    pub seed: u64,
    /// The run's folder.
    pub dir: String,
    /// The command that runs it again, same seed, same config.
    pub reproduce: String,
    /// What the config's `db.version` command printed on a node, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_version: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct OpStats {
    pub ok: u64,
    pub fail: u64,
    /// Unknown outcome: timed out, or never completed.
    pub info: u64,
    /// Of the ok calls that carry times; absent when none do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Quantiles>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultWindow {
    /// The nemesis event that began it: `start-partition`, `kill`, `pause`, `clock-bump`, …
    pub fault: String,
    /// Its value: the grudge, the nodes, the offsets.
    pub value: Value,
    /// Seconds on the history's clock.
    pub start_s: f64,
    /// When it was healed; absent when it stayed to the end (a clock bump, a crash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
}

/// By hand: serde's `flatten` buffers the fields, and a buffered float arrives as serde_json's
/// exact-number token, which `f64` fields refuse. The report's fields are read from what is left
/// once the rest are taken out.
impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Results, D::Error> {
        use serde::de::Error;
        let mut all = serde_json::Map::deserialize(d)?;
        fn take<T: serde::de::DeserializeOwned, E: Error>(
            all: &mut serde_json::Map<String, serde_json::Value>,
            name: &str,
        ) -> Result<Option<T>, E> {
            all.remove(name)
                .map(|v| serde_json::from_value(v).map_err(|e| E::custom(format!("{name}: {e}"))))
                .transpose()
        }
        Ok(Results {
            ferret_version: take(&mut all, "ferret_version")?.unwrap_or_default(),
            run: take(&mut all, "run")?,
            ops: take(&mut all, "ops")?.unwrap_or_default(),
            faults: take(&mut all, "faults")?.unwrap_or_default(),
            took_effect: take(&mut all, "took_effect")?,
            report: serde_json::from_value(serde_json::Value::Object(all))
                .map_err(D::Error::custom)?,
        })
    }
}

impl Results {
    /// The report with the figures drawn from the history it judged: `ops` from `op_stats`,
    /// `faults` from `fault_timeline`.
    pub fn new(
        report: Report,
        ops: BTreeMap<String, OpStats>,
        faults: Vec<FaultWindow>,
        run: Option<RunFacts>,
    ) -> Self {
        Results {
            report,
            ferret_version: env!("CARGO_PKG_VERSION").to_string(),
            run,
            ops,
            faults,
            took_effect: None,
        }
    }

    /// A history's results: the figures from its calls (`super::calls_of`), the faults from its
    /// events.
    pub fn of_history(
        report: Report,
        history: &History,
        calls: &[Call],
        run: Option<RunFacts>,
    ) -> Self {
        let mut r = Results::new(
            report,
            op_stats(calls),
            fault_timeline(history.nemesis_events()),
            run,
        );
        r.took_effect = took_effect(history.nemesis_events());
        r
    }
}

/// Calls by outcome and latency quantiles of the ok ones, per function.
pub fn op_stats(calls: &[Call]) -> BTreeMap<String, OpStats> {
    let mut stats: BTreeMap<&str, (OpStats, Vec<f64>)> = BTreeMap::new();
    for c in calls {
        let (s, latencies) = stats.entry(c.f.as_str()).or_default();
        match c.outcome {
            Outcome::Ok => {
                s.ok += 1;
                if let (Some(a), Some(b)) = (c.invoke_time, c.complete_time) {
                    latencies.push((b - a) as f64 / 1e6);
                }
            }
            Outcome::Fail => s.fail += 1,
            Outcome::Info => s.info += 1,
        }
    }
    stats
        .into_iter()
        .map(|(f, (mut s, mut l))| {
            if !l.is_empty() {
                l.sort_by(f64::total_cmp);
                let q = |q| super::plots::quantile(&l, q);
                s.latency_ms = Some(Quantiles {
                    p50: q(0.5),
                    p90: q(0.9),
                    p99: q(0.99),
                    max: l[l.len() - 1],
                });
            }
            (f.to_string(), s)
        })
        .collect()
}

/// The faults of a history's nemesis events, in seconds of the history's clock.
pub fn fault_timeline<'a>(nemesis: impl IntoIterator<Item = &'a Event>) -> Vec<FaultWindow> {
    let nemesis: Vec<&Event> = nemesis.into_iter().collect();
    fault_windows(&nemesis, |e| e.time.unwrap_or(0) as f64 / 1e9)
        .into_iter()
        .map(|(start_s, end_s, e)| FaultWindow {
            fault: e.f.to_string(),
            value: e.value.clone(),
            start_s,
            end_s,
        })
        .collect()
}

/// Fault windows from the nemesis events, each with the event that began it, in the order they
/// began; an end of `None` runs to the history's end. A fault is ended by its own healing event
/// (`stop-partition` ends `start-partition`, `restart` ends `kill`, `resume` ends `pause`).
pub fn fault_windows<'a>(
    events: &[&'a Event],
    at: impl Fn(&Event) -> f64,
) -> Vec<(f64, Option<f64>, &'a Event)> {
    let end_of = |f: &str| -> Option<String> {
        Some(match f {
            "start" => "stop".into(),
            "kill" | "lose-unfsynced" | "power-loss" | "torn-write" | "corrupt" => "restart".into(),
            "fsync-error" | "disk-full" => format!("stop-{f}"),
            "pause" => "resume".into(),
            f if f.starts_with("network-") => "stop-network".into(),
            // A membership change stays: its row runs to the end.
            f if f.starts_with("member-") => "-".into(),
            "clock-bump" => "clock-reset".into(),
            "clock-strobe" | "clock-drift" => format!("stop-{f}"),
            f if f.starts_with("start-") => format!("stop-{}", &f[6..]),
            _ => return None,
        })
    };
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut windows: Vec<(f64, Option<f64>, &Event)> = Vec::new();
    for e in events {
        if let Some(pos) = open.iter().position(|(end, _)| *end == e.f) {
            let (_, w) = open.remove(pos);
            windows[w].1 = Some(at(e));
        } else if let Some(end) = end_of(&e.f) {
            open.push((end, windows.len()));
            windows.push((at(e), None, e));
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_checkers::format::read_jsonl;

    const HISTORY: &str = r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":0}
{"process":"nemesis","type":"info","f":"start-partition","value":{"n1":["n2"]},"time":500000000}
{"process":0,"type":"ok","f":"write","key":"k","value":1,"time":10000000}
{"process":1,"type":"invoke","f":"read","key":"k","value":null,"time":20000000}
{"process":1,"type":"ok","f":"read","key":"k","value":1,"time":50000000}
{"process":"nemesis","type":"info","f":"kill","value":["n3"],"time":600000000}
{"process":2,"type":"invoke","f":"write","key":"k","value":2,"time":700000000}
{"process":2,"type":"info","f":"write","key":"k","value":2,"time":1700000000}
{"process":"nemesis","type":"info","f":"stop-partition","value":null,"time":2000000000}
"#;

    #[test]
    fn took_effect_sums_the_probes_and_names_what_did_not() {
        let h = read_jsonl(std::path::Path::new("h.jsonl"), HISTORY.as_bytes()).unwrap();
        assert_eq!(took_effect(h.nemesis_events()), None, "nothing probed");
        let probed = r#"{"process":"nemesis","type":"info","f":"start-partition","value":{"took_effect":true},"time":500000000}
{"process":"nemesis","type":"info","f":"stop-partition","value":{"took_effect":true},"time":2000000000}
{"process":"nemesis","type":"info","f":"network-delay","value":{"took_effect":false},"time":3250000000}
{"process":"nemesis","type":"info","f":"stop-network","value":{"took_effect":true},"time":4000000000}
"#;
        let h = read_jsonl(std::path::Path::new("h.jsonl"), probed.as_bytes()).unwrap();
        let t = took_effect(h.nemesis_events()).unwrap();
        assert_eq!(
            t,
            TookEffect {
                all: false,
                probed: 4,
                not: vec!["network-delay at 3.250 s".into()]
            }
        );
    }

    #[test]
    fn counts_quantiles_and_faults_come_from_the_history() {
        let h = read_jsonl(std::path::Path::new("h.jsonl"), HISTORY.as_bytes()).unwrap();
        let (calls, _) = ferret_checkers::history::pair(&h).unwrap();
        let ops = op_stats(&calls);
        let write = &ops["write"];
        assert_eq!((write.ok, write.fail, write.info), (1, 0, 1));
        assert_eq!(write.latency_ms.as_ref().unwrap().p50, 10.0);
        assert_eq!(ops["read"].latency_ms.as_ref().unwrap().max, 30.0);
        let faults = fault_timeline(h.nemesis_events());
        assert_eq!(faults.len(), 2);
        assert_eq!(faults[0].fault, "start-partition");
        assert_eq!((faults[0].start_s, faults[0].end_s), (0.5, Some(2.0)));
        assert_eq!(faults[1].fault, "kill");
        assert_eq!(faults[1].end_s, None, "never restarted: runs to the end");
    }

    #[test]
    fn results_read_back_as_written() {
        let h = read_jsonl(std::path::Path::new("h.jsonl"), HISTORY.as_bytes()).unwrap();
        let report = ferret_checkers::check(&h, &Default::default()).unwrap();
        let run = RunFacts {
            name: "t".into(),
            seed: 7,
            dir: "store/t/1".into(),
            reproduce: "ferret run store/t/1/config.yaml --seed 7".into(),
            system_version: Some("etcd Version: 3.4.23".into()),
        };
        let r = Results::of_history(report, &h, &super::super::calls_of(&h), Some(run));
        let text = serde_json::to_string_pretty(&r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["verdict"], "valid", "the report's fields stay at the top");
        assert_eq!(v["run"]["seed"], 7);
        let back: Results = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    }
}
