//! Transactional checking in the manner of Elle (Kingsbury & Alvaro, VLDB 2020): infer from a
//! history of list-append or read-write-register transactions the dependencies between them
//! (Adya's ww, wr and rw; a process's order; real time), find the cycles, and name each as
//! Adya does (G0, G1c, G-single, G-nonadjacent, G2-item and their process and real-time
//! variants), beside what one transaction shows alone (G1a, G1b, dirty update, internal
//! inconsistency, incompatible order, duplicates, garbage reads, cyclic versions). Linear in
//! the history until cycles are found; each cycle is explained step by step.
//!
//! From the bottom up: `parse` (calls to transactions), `graph` and `scc`, `order` (process and
//! real time), `list_append` and `rw_register` (what each datatype lets one infer), `cycles`
//! (finding and naming them), `anomaly` (the names and the models), `brute` (a search over serial
//! orders, the reference for tests).

pub mod anomaly;
pub mod brute;
pub mod cycles;
pub mod graph;
pub mod list_append;
pub mod order;
pub mod parse;
pub mod rw_register;
pub mod scc;
pub mod synth;

pub use anomaly::{AnomalyKind, Consistency, UnknownConsistency};
pub use parse::Datatype;

use crate::history::{Call, Outcome};
use crate::value::Value;
use crate::verdict::{Anomaly, CheckError, CycleStep, KeyReport, Method, VerdictName};
use graph::{kind_name, Edges, Graph, DATA, PROCESS, REALTIME, WR, WW};
use parse::Txns;
use std::collections::BTreeMap;
use std::time::Instant;

/// Cycles of each kind explained in the report; all are counted.
const SHOWN: usize = 5;

/// Edge visits the cycle search may make before it gives up on finding more kinds of cycle
/// (a few seconds on this project's machine). A cycle the model forbids is still always found.
pub const DEFAULT_SEARCH_STEPS: u64 = 200_000_000;

/// A non-cycle anomaly, or a cycle, with the transactions it names. `text` refers to them as
/// `{T1}`, `{T2}` …, in the order of `txns`.
#[derive(Clone, Debug)]
pub struct Found {
    pub kind: AnomalyKind,
    pub txns: Vec<u32>,
    pub text: String,
    pub steps: Vec<(u32, u32, u8)>,
}

impl Found {
    pub(crate) fn single(kind: AnomalyKind, txn: u32, text: String) -> Found {
        Found {
            kind,
            txns: vec![txn],
            text: format!("{{T1}} {text}"),
            steps: Vec::new(),
        }
    }
}

/// What the transactional checker is asked.
#[derive(Clone, Copy, Debug)]
pub struct TxnOptions {
    pub datatype: Datatype,
    pub consistency: Consistency,
    pub search_steps: u64,
}

/// Everything the checker found, before it is put in words.
pub struct Analysis {
    pub txns: Txns,
    pub found: Vec<Found>,
    /// The search gave up before it looked everywhere (only a verdict of snapshot isolation can
    /// depend on that).
    pub exhausted: bool,
    pub edges: usize,
}

/// Infer the dependency graph and find every anomaly in it.
pub fn analyse(calls: &[Call], o: &TxnOptions) -> Result<(Analysis, Explainer), CheckError> {
    let txns = parse::parse(calls, o.datatype)?;
    let mut edges = Edges::default();
    let mut found = Vec::new();
    let realtime = o.consistency.realtime();
    let inferred = match o.datatype {
        Datatype::ListAppend => Inferred::List(list_append::infer(&txns, &mut edges, &mut found)),
        Datatype::RwRegister => Inferred::Register(rw_register::infer(
            &txns, calls, realtime, &mut edges, &mut found,
        )),
    };
    let extra = if realtime {
        order::process_edges(&txns, calls, &mut edges);
        order::realtime_edges(&txns, calls, &mut edges);
        PROCESS | REALTIME
    } else {
        0
    };
    let g = Graph::build(txns.txns.len(), edges);
    let forbidding = match o.consistency {
        Consistency::ReadUncommitted => WW,
        Consistency::ReadCommitted => WW | WR,
        Consistency::SnapshotIsolation => 0,
        Consistency::RepeatableRead | Consistency::Serializable => DATA,
        Consistency::StrictSerializable => DATA | PROCESS | REALTIME,
    };
    let times = realtime.then(|| cycles::Times {
        invoke: txns
            .txns
            .iter()
            .map(|x| calls[x.call as usize].invoke_pos)
            .collect(),
        complete: txns
            .txns
            .iter()
            .map(|x| match x.outcome {
                Outcome::Ok => calls[x.call as usize].complete_pos.unwrap_or(u64::MAX),
                _ => u64::MAX,
            })
            .collect(),
    });
    let c = cycles::search(&g, extra, forbidding, o.search_steps, times.as_ref());
    for cy in c.cycles {
        found.push(Found {
            kind: cycles::classify(&cy),
            txns: cy.iter().map(|e| e.0).collect(),
            text: String::new(),
            steps: cy,
        });
    }
    Ok((
        Analysis {
            txns,
            found,
            exhausted: c.exhausted,
            edges: g.edge_count(),
        },
        Explainer { inferred },
    ))
}

enum Inferred {
    List(list_append::Inferred),
    Register(rw_register::Inferred),
}

/// What it takes to explain an edge in words after the search.
pub struct Explainer {
    inferred: Inferred,
}

impl Explainer {
    fn edge(
        &self,
        t: &Txns,
        calls: &[Call],
        (from, to, kind): (u32, u32, u8),
        name: &dyn Fn(u32) -> String,
    ) -> (Value, String) {
        let data = match &self.inferred {
            Inferred::List(i) => list_append::explain(t, i, from, to, kind, name),
            Inferred::Register(i) => rw_register::explain(t, i, from, to, kind, name),
        };
        if let Some(d) = data {
            return d;
        }
        let a = &calls[t.txns[from as usize].call as usize];
        let text = if kind == PROCESS {
            format!(
                "{} began after {} completed, on the same process {}",
                name(to),
                name(from),
                a.process
            )
        } else if kind == REALTIME {
            format!("{} completed before {} began", name(from), name(to))
        } else {
            // Inference made the edge, so an explanation exists; should one be missed, say what.
            format!(
                "{} must precede {} ({} dependency)",
                name(from),
                name(to),
                kind_name(kind)
            )
        };
        (Value::Nil, text)
    }
}

/// Check a transactional history: one report for all its transactions.
pub fn check_calls(calls: &[Call], o: &TxnOptions) -> Result<KeyReport, CheckError> {
    let started = Instant::now();
    let (a, ex) = analyse(calls, o)?;
    let mut counts: BTreeMap<AnomalyKind, usize> = BTreeMap::new();
    let mut anomalies = Vec::new();
    let mut allowed: BTreeMap<AnomalyKind, usize> = BTreeMap::new();
    for f in &a.found {
        if !o.consistency.forbids(f.kind) {
            *allowed.entry(f.kind).or_default() += 1;
            continue;
        }
        let n = counts.entry(f.kind).or_default();
        *n += 1;
        if *n <= SHOWN {
            anomalies.push(describe(&a.txns, calls, &ex, f));
        }
    }
    let invalid = !counts.is_empty();
    let unknown = !invalid && a.exhausted && o.consistency == Consistency::SnapshotIsolation;
    let mut reason = Vec::new();
    if invalid {
        let list: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        reason.push(format!("{} forbids {}", o.consistency, list.join(", ")));
    }
    if !allowed.is_empty() {
        let list: Vec<String> = allowed.iter().map(|(k, n)| format!("{n} {k}")).collect();
        reason.push(format!(
            "also found, allowed by {}: {}",
            o.consistency,
            list.join(", ")
        ));
    }
    if unknown {
        reason.push(
            "the cycle search ran out of steps before it could rule out G-single and \
             G-nonadjacent"
                .into(),
        );
    }
    if a.edges == 0 && a.txns.txns.iter().all(|t| t.outcome != Outcome::Ok) {
        reason.push("no transaction committed".into());
    }
    Ok(KeyReport {
        key: Value::Nil,
        verdict: if invalid {
            VerdictName::Invalid
        } else if unknown {
            VerdictName::Unknown
        } else {
            VerdictName::Valid
        },
        reason: (!reason.is_empty()).then(|| reason.join("; ")),
        calls: a.txns.txns.len(),
        configurations: a.edges as u64,
        memory_bytes: 0,
        elapsed_s: started.elapsed().as_secs_f64(),
        explanation: None,
        anomalies,
        method: Method::DependencyGraph,
    })
}

/// An anomaly in words: its transactions named T1, T2 … in order, each step of a cycle why.
fn describe(t: &Txns, calls: &[Call], ex: &Explainer, f: &Found) -> Anomaly {
    let mut order: Vec<u32> = Vec::new();
    for &x in &f.txns {
        if x != parse::NONE && !order.contains(&x) {
            order.push(x);
        }
    }
    let index = |x: u32| order.iter().position(|&o| o == x).unwrap_or(0);
    // Transactions of the anomaly are T1, T2 …; a witness outside it is named by its place.
    let name = |x: u32| {
        let c = &calls[t.txns[x as usize].call as usize];
        match order.iter().position(|&o| o == x) {
            Some(i) => format!("T{} ({})", i + 1, c.place()),
            None => format!("the transaction at {}", c.place()),
        }
    };
    let mut summary = f.kind.meaning().to_string();
    let mut steps = Vec::new();
    if f.steps.is_empty() {
        let mut text = f.text.clone();
        for (i, &x) in order.iter().enumerate() {
            text = text.replace(&format!("{{T{}}}", i + 1), &name(x));
        }
        summary.push_str(&format!("\n  {text}"));
    } else {
        summary.push_str(&format!(", {} transactions:", order.len()));
        for &e in &f.steps {
            let (key, text) = ex.edge(t, calls, e, &name);
            summary.push_str(&format!(
                "\n  T{} -{}-> T{}: {text}",
                index(e.0) + 1,
                kind_name(e.2),
                index(e.1) + 1
            ));
            steps.push(CycleStep {
                from: index(e.0),
                to: index(e.1),
                kind: kind_name(e.2).to_string(),
                key,
                text,
            });
        }
    }
    Anomaly {
        kind: f.kind.name().to_string(),
        summary,
        calls: order
            .iter()
            .map(|&x| calls[t.txns[x as usize].call as usize].clone())
            .collect(),
        steps,
    }
}
