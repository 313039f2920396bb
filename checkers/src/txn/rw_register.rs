//! Elle's rw-register inference: registers written with unique values, whose version order is
//! only partly known — the initial state (nil) comes first, a transaction's read of a key comes
//! before its own write of it (writes follow reads), and under real-time models a write that
//! completed before another began comes first. From that partial order come ww, wr and rw edges;
//! what it cannot order, it leaves out (fewer cycles found, none invented).

use crate::history::{Call, Outcome};
use crate::txn::anomaly::AnomalyKind;
use crate::txn::graph::{Edges, RW, WR, WW};
use crate::txn::parse::{Mop, Txns, NONE};
use crate::txn::Found;
use ahash::AHashMap;

/// What the inference learned, kept to explain the edges of the cycles found.
pub struct Inferred {
    /// Direct successors of each version (ids into `Txns::values`).
    pub next: AHashMap<u32, Vec<u32>>,
    /// Why each version edge is known: the transaction that read the first and wrote the second,
    /// or NONE for real time or the initial state.
    pub why: AHashMap<(u32, u32), u32>,
}

struct Versions {
    next: AHashMap<u32, Vec<u32>>,
    why: AHashMap<(u32, u32), u32>,
    has_pred: Vec<bool>,
}

impl Versions {
    fn link(&mut self, a: u32, b: u32, by: u32) {
        if a == b {
            return;
        }
        let n = self.next.entry(a).or_default();
        if !n.contains(&b) {
            n.push(b);
            self.why.insert((a, b), by);
            self.has_pred[b as usize] = true;
        }
    }
}

/// `(key, value)` pairs of one transaction.
type KeyValues = Vec<(u32, u32)>;

/// Each key's external read (the first read before any write of it) and final write.
pub fn reads_and_writes(t: &Txns, i: usize) -> (KeyValues, KeyValues) {
    let mut reads: Vec<(u32, u32)> = Vec::new();
    let mut writes: Vec<(u32, u32)> = Vec::new();
    for m in &t.txns[i].mops {
        match m {
            Mop::ReadReg {
                key,
                value: Some(v),
            } if !writes.iter().any(|w| w.0 == *key) && !reads.iter().any(|r| r.0 == *key) => {
                reads.push((*key, *v));
            }
            Mop::Write { key, value } => match writes.iter_mut().find(|w| w.0 == *key) {
                Some(w) => w.1 = *value,
                None => writes.push((*key, *value)),
            },
            _ => {}
        }
    }
    (reads, writes)
}

pub fn infer(
    t: &Txns,
    calls: &[Call],
    realtime: bool,
    edges: &mut Edges,
    found: &mut Vec<Found>,
) -> Inferred {
    let status = |w: u32| (w != NONE).then(|| t.txns[w as usize].outcome);
    let is_nil = |v: u32| t.nil[t.values[v as usize].0 as usize] == v;
    // Each transaction's external reads and final writes, once: every pass below reads them.
    let rws: Vec<(KeyValues, KeyValues)> =
        (0..t.txns.len()).map(|i| reads_and_writes(t, i)).collect();
    // Single-transaction anomalies.
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome != Outcome::Ok {
            continue;
        }
        let i = i as u32;
        let mut known: Vec<(u32, u32)> = Vec::new();
        for m in &x.mops {
            match m {
                Mop::Write { key, value } => match known.iter_mut().find(|k| k.0 == *key) {
                    Some(k) => k.1 = *value,
                    None => known.push((*key, *value)),
                },
                Mop::ReadReg {
                    key,
                    value: Some(v),
                } => {
                    let k = *key as usize;
                    match known.iter().find(|k| k.0 == *key) {
                        Some(&(_, want)) if want != *v => found.push(Found::single(
                            AnomalyKind::Internal,
                            i,
                            format!(
                                "read {} = {}, though it had just read or written {}",
                                t.keys[k],
                                t.value(*v),
                                t.value(want)
                            ),
                        )),
                        Some(_) => {}
                        None => known.push((*key, *v)),
                    }
                    let w = t.writer[*v as usize];
                    if !is_nil(*v) && w == NONE {
                        found.push(Found::single(
                            AnomalyKind::GarbageRead,
                            i,
                            format!(
                                "read {} = {}, which no transaction wrote",
                                t.keys[k],
                                t.value(*v)
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        for &(k, v) in &rws[i as usize].0 {
            let w = t.writer[v as usize];
            if w == NONE || w == i {
                continue;
            }
            if status(w) == Some(Outcome::Fail) {
                found.push(Found {
                    kind: AnomalyKind::G1a,
                    txns: vec![i, w],
                    text: format!(
                        "{{T1}} read {} = {}, written by {{T2}}, which failed",
                        t.keys[k as usize],
                        t.value(v)
                    ),
                    steps: Vec::new(),
                });
            } else {
                if let Some(&(_, last)) = rws[w as usize].1.iter().find(|f| f.0 == k) {
                    if last != v {
                        found.push(Found {
                            kind: AnomalyKind::G1b,
                            txns: vec![i, w],
                            text: format!(
                                "{{T1}} read {} = {}, which {{T2}} overwrote with {} before it committed",
                                t.keys[k as usize],
                                t.value(v),
                                t.value(last)
                            ),
                            steps: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    // The version order's edges.
    let mut vo = Versions {
        next: AHashMap::new(),
        why: AHashMap::new(),
        has_pred: vec![false; t.values.len()],
    };
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome != Outcome::Ok {
            continue;
        }
        let (reads, writes) = &rws[i];
        for &(k, w) in writes {
            if let Some(&(_, r)) = reads.iter().find(|r| r.0 == k) {
                vo.link(r, w, i as u32);
            }
        }
    }
    if realtime {
        // Per key, the frontier construction of crate::txn::order over ok writers' final writes.
        let mut events: Vec<(u64, u32, u32, bool)> = Vec::new();
        for (i, x) in t.txns.iter().enumerate() {
            if x.outcome != Outcome::Ok {
                continue;
            }
            let c = &calls[x.call as usize];
            for &(k, v) in &rws[i].1 {
                events.push((c.invoke_pos, k, v, false));
                if let Some(p) = c.complete_pos {
                    events.push((p, k, v, true));
                }
            }
        }
        events.sort_unstable();
        let mut frontier: AHashMap<u32, Vec<u32>> = AHashMap::new();
        let mut before: AHashMap<u32, Vec<u32>> = AHashMap::new();
        for (_, k, v, done) in events {
            let f = frontier.entry(k).or_default();
            if !done {
                for &p in f.iter() {
                    vo.link(p, v, NONE);
                }
                before.insert(v, f.clone());
            } else {
                let b = before.remove(&v).unwrap_or_default();
                f.retain(|p| !b.contains(p));
                f.push(v);
            }
        }
    }
    // The initial state before every version nothing else precedes.
    let roots: Vec<u32> = (0..t.values.len() as u32)
        .filter(|&v| {
            let w = t.writer[v as usize];
            w != NONE && !vo.has_pred[v as usize] && status(w) != Some(Outcome::Fail)
        })
        .collect();
    for v in roots {
        let nil = t.nil[t.values[v as usize].0 as usize];
        vo.link(nil, v, NONE);
    }
    let Versions { next, why, .. } = vo;
    // A cycle of versions: no order of writes explains it.
    let mut vg = Edges::default();
    for (&a, bs) in &next {
        for &b in bs {
            vg.add(a, b, WW);
        }
    }
    let vgraph = crate::txn::graph::Graph::build(t.values.len(), vg);
    let (cyclic, _) = crate::txn::scc::components(&vgraph, WW);
    let mut bad_key = vec![false; t.keys.len()];
    for comp in &cyclic {
        let k = t.values[comp[0] as usize].0;
        bad_key[k as usize] = true;
        let mut txns: Vec<u32> = comp
            .iter()
            .map(|&v| t.writer[v as usize])
            .filter(|&w| w != NONE)
            .collect();
        txns.sort_unstable();
        txns.dedup();
        let vals: Vec<String> = comp.iter().map(|&v| t.value(v).to_string()).collect();
        found.push(Found {
            kind: AnomalyKind::CyclicVersions,
            txns,
            text: format!(
                "the versions {} of {} are ordered in a cycle by writes following reads{}",
                vals.join(", "),
                t.keys[k as usize],
                if realtime { " and real time" } else { "" }
            ),
            steps: Vec::new(),
        });
    }
    // Dependencies.
    let live = |w: u32| w != NONE && status(w) != Some(Outcome::Fail);
    for (&a, bs) in &next {
        if bad_key[t.values[a as usize].0 as usize] {
            continue;
        }
        let wa = t.writer[a as usize];
        for &b in bs {
            let wb = t.writer[b as usize];
            if live(wa) && live(wb) {
                edges.add(wa, wb, WW);
            }
        }
    }
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome != Outcome::Ok {
            continue;
        }
        let i = i as u32;
        for &(k, v) in &rws[i as usize].0 {
            if bad_key[k as usize] {
                continue;
            }
            let w = t.writer[v as usize];
            if live(w) {
                edges.add(w, i, WR);
            }
            for &b in next.get(&v).map_or(&[][..], |n| n) {
                let wb = t.writer[b as usize];
                if live(wb) {
                    edges.add(i, wb, RW);
                }
            }
        }
    }
    Inferred { next, why }
}

/// Why `from` precedes `to` by `kind` on some key, in words; `name` names transactions.
pub fn explain(
    t: &Txns,
    inf: &Inferred,
    from: u32,
    to: u32,
    kind: u8,
    name: &dyn Fn(u32) -> String,
) -> Option<(crate::value::Value, String)> {
    let because = |a: u32, b: u32| match inf.why.get(&(a, b)) {
        Some(&x) if x != NONE => format!(
            "{} read {} and then wrote {}",
            name(x),
            t.value(a),
            t.value(b)
        ),
        _ if t.writer[a as usize] == NONE => "the initial state comes first".to_string(),
        _ => format!(
            "the write of {} completed before the write of {} began",
            t.value(a),
            t.value(b)
        ),
    };
    let (fr, fw) = reads_and_writes(t, from as usize);
    let (tr, tw) = reads_and_writes(t, to as usize);
    let follows = |a: u32, b: u32| inf.next.get(&a).is_some_and(|n| n.contains(&b));
    match kind {
        WW => fw.iter().find_map(|&(k, a)| {
            tw.iter()
                .find(|&&(k2, b)| k2 == k && follows(a, b))
                .map(|&(_, b)| {
                    (
                        t.keys[k as usize].clone(),
                        format!(
                            "{} wrote {} = {} after {}'s write of {} ({})",
                            name(to),
                            t.keys[k as usize],
                            t.value(b),
                            name(from),
                            t.value(a),
                            because(a, b)
                        ),
                    )
                })
        }),
        WR => tr
            .iter()
            .find(|&&(_, v)| t.writer[v as usize] == from)
            .map(|&(k, v)| {
                (
                    t.keys[k as usize].clone(),
                    format!(
                        "{} read {} = {}, which {} wrote",
                        name(to),
                        t.keys[k as usize],
                        t.value(v),
                        name(from)
                    ),
                )
            }),
        _ => fr.iter().find_map(|&(k, a)| {
            tw.iter()
                .find(|&&(k2, b)| k2 == k && follows(a, b))
                .map(|&(_, b)| {
                    (
                        t.keys[k as usize].clone(),
                        format!(
                            "{} read {} = {}, which misses {}'s write of {}, the next version ({})",
                            name(from),
                            t.keys[k as usize],
                            t.value(a),
                            name(to),
                            t.value(b),
                            because(a, b)
                        ),
                    )
                })
        }),
    }
}
