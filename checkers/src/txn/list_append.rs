//! Elle's list-append inference: each key's version order is its longest read (every other read
//! must be a prefix of it), and from that order come the ww, wr and rw dependencies, exactly.
//! Appends nobody read come after every version read; those of transactions of unknown outcome
//! count only where a read shows them.

use crate::history::Outcome;
use crate::txn::anomaly::AnomalyKind;
use crate::txn::graph::{Edges, RW, WR, WW};
use crate::txn::parse::{Mop, Txns, NONE};
use crate::txn::Found;
use crate::value::Value;

/// Unread appends of one key that each reader of its last version gets an rw edge to. Beyond
/// this, those edges are left out: fewer cycles may be found, none is invented.
const UNREAD_EDGES: usize = 64;

/// What the inference learned, kept to explain the edges of the cycles found.
pub struct Inferred {
    /// Each key's version order: its values in append order, as the longest read shows.
    pub order: Vec<Vec<u32>>,
    /// Which transaction's read showed that order (NONE if no read did).
    pub witness: Vec<u32>,
    /// Each value's position in its key's order (NONE if no read showed it).
    pub pos: Vec<u32>,
    /// Appends of committed transactions that no read showed, per key.
    pub unread: Vec<Vec<u32>>,
}

/// `(key, the values read)` per key a transaction read.
type ExternalReads<'a> = Vec<(u32, &'a [u32])>;

/// The external read of each key by a transaction: what it saw of the others' appends (its own
/// earlier appends taken off the end).
fn external_reads(t: &Txns, i: usize) -> ExternalReads<'_> {
    let mut own: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut out: Vec<(u32, &[u32])> = Vec::new();
    for m in &t.txns[i].mops {
        match m {
            Mop::Append { key, value } => match own.iter_mut().find(|o| o.0 == *key) {
                Some(o) => o.1.push(*value),
                None => own.push((*key, vec![*value])),
            },
            Mop::ReadList {
                key,
                list: Some(list),
            } => {
                if out.iter().any(|o| o.0 == *key) {
                    continue;
                }
                let mine = own.iter().find(|o| o.0 == *key).map_or(&[][..], |o| &o.1);
                if list.ends_with(mine) {
                    out.push((*key, &list[..list.len() - mine.len()]));
                }
            }
            _ => {}
        }
    }
    out
}

pub fn infer(t: &Txns, edges: &mut Edges, found: &mut Vec<Found>) -> Inferred {
    let nk = t.keys.len();
    let nv = t.values.len();
    let status = |w: u32| {
        if w == NONE {
            None
        } else {
            Some(t.txns[w as usize].outcome)
        }
    };
    // Per txn, its own checks: duplicates, garbage, internal consistency.
    let mut order: Vec<Vec<u32>> = vec![Vec::new(); nk];
    let mut witness = vec![NONE; nk];
    let mut seen_at: Vec<u32> = vec![NONE; nv];
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome != Outcome::Ok {
            continue;
        }
        let i = i as u32;
        let mut own: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut prior: Vec<(u32, usize)> = Vec::new();
        for m in &x.mops {
            match m {
                Mop::Append { key, value } => match own.iter_mut().find(|o| o.0 == *key) {
                    Some(o) => o.1.push(*value),
                    None => own.push((*key, vec![*value])),
                },
                Mop::ReadList {
                    key,
                    list: Some(list),
                } => {
                    let k = *key as usize;
                    // Duplicates and garbage: values seen twice in this read, or never appended.
                    let mut dup = None;
                    for &v in list.iter() {
                        if seen_at[v as usize] == i {
                            dup = Some(v);
                        }
                        seen_at[v as usize] = i;
                        if t.writer[v as usize] == NONE {
                            found.push(Found::single(
                                AnomalyKind::GarbageRead,
                                i,
                                format!(
                                    "read {} = {}, but no transaction appended {}",
                                    t.keys[k],
                                    show(t, list),
                                    t.value(v)
                                ),
                            ));
                        }
                    }
                    for &v in list.iter() {
                        seen_at[v as usize] = NONE;
                    }
                    if let Some(v) = dup {
                        found.push(Found::single(
                            AnomalyKind::DuplicateElements,
                            i,
                            format!(
                                "read {} = {}: {} twice",
                                t.keys[k],
                                show(t, list),
                                t.value(v)
                            ),
                        ));
                    }
                    // Internal: the read must end with this transaction's own appends so far,
                    // and see the same others' appends as its earlier reads of the key.
                    let mine = own.iter().find(|o| o.0 == *key).map_or(&[][..], |o| &o.1);
                    if !list.ends_with(mine) {
                        found.push(Found::single(
                            AnomalyKind::Internal,
                            i,
                            format!(
                                "read {} = {} after appending {} itself",
                                t.keys[k],
                                show(t, list),
                                show(t, mine)
                            ),
                        ));
                    } else {
                        let ext = list.len() - mine.len();
                        if let Some(&v) = list[..ext].iter().find(|&&v| t.writer[v as usize] == i) {
                            found.push(Found::single(
                                AnomalyKind::FutureRead,
                                i,
                                format!(
                                    "read {} = {}, which has {}, an append it made only later",
                                    t.keys[k],
                                    show(t, list),
                                    t.value(v)
                                ),
                            ));
                        }
                        match prior.iter().find(|p| p.0 == *key) {
                            Some(&(_, n)) if n != ext => found.push(Found::single(
                                AnomalyKind::Internal,
                                i,
                                format!(
                                    "read {} = {}, which disagrees with its earlier read of {}",
                                    t.keys[k],
                                    show(t, list),
                                    t.keys[k]
                                ),
                            )),
                            Some(_) => {}
                            None => prior.push((*key, ext)),
                        }
                    }
                    if list.len() > order[k].len() {
                        order[k] = list.to_vec();
                        witness[k] = i;
                    }
                }
                _ => {}
            }
        }
    }
    // Every read a prefix of the longest: else no single order of appends explains both.
    let mut pos = vec![NONE; nv];
    for (k, o) in order.iter().enumerate() {
        for (p, &v) in o.iter().enumerate() {
            if pos[v as usize] == NONE {
                pos[v as usize] = p as u32;
            }
        }
        debug_assert!(k < nk);
    }
    let mut incompatible = vec![false; nk];
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome != Outcome::Ok {
            continue;
        }
        for m in &x.mops {
            if let Mop::ReadList {
                key,
                list: Some(list),
            } = m
            {
                let k = *key as usize;
                if !order[k].starts_with(list) && !incompatible[k] {
                    incompatible[k] = true;
                    let mut f = Found::single(
                        AnomalyKind::IncompatibleOrder,
                        i as u32,
                        format!(
                            "read {} = {}, which is not a prefix of {} = {} read by {{T2}}",
                            t.keys[k],
                            show(t, list),
                            t.keys[k],
                            show(t, &order[k]),
                        ),
                    );
                    f.txns.push(witness[k]);
                    found.push(f);
                }
            }
        }
    }
    // Each transaction's appends to a key appear in the order it made them, from its first.
    let mut seq: Vec<u32> = vec![NONE; nv];
    for x in &t.txns {
        let mut count: Vec<(u32, u32)> = Vec::new();
        for m in &x.mops {
            if let Mop::Append { key, value } = m {
                let n = match count.iter_mut().find(|c| c.0 == *key) {
                    Some(c) => {
                        c.1 += 1;
                        c.1
                    }
                    None => {
                        count.push((*key, 0));
                        0
                    }
                };
                seq[*value as usize] = n;
            }
        }
    }
    for (k, o) in order.iter().enumerate() {
        if incompatible[k] {
            continue;
        }
        let mut next: ahash::AHashMap<u32, u32> = ahash::AHashMap::new();
        for &v in o {
            let w = t.writer[v as usize];
            if w == NONE {
                continue;
            }
            let want = next.entry(w).or_insert(0);
            if seq[v as usize] != *want {
                incompatible[k] = true;
                found.push(Found {
                    kind: AnomalyKind::IncompatibleOrder,
                    txns: vec![w, witness[k]],
                    text: format!(
                        "{} = {} (read by {{T2}}) does not have {{T1}}'s appends in the order it made them",
                        t.keys[k],
                        show(t, o)
                    ),
                    steps: Vec::new(),
                });
                break;
            }
            *want += 1;
        }
    }
    // What each committed transaction saw of the others' appends, once: the anomalies below
    // and the wr and rw edges read it.
    let ext: Vec<(u32, ExternalReads)> = (0..t.txns.len())
        .filter(|&i| t.txns[i].outcome == Outcome::Ok)
        .map(|i| (i as u32, external_reads(t, i)))
        .collect();
    // Aborted reads, dirty updates, intermediate reads.
    let mut last_append: Vec<(u32, u32)> = Vec::new(); // scratch
    for (i, reads) in &ext {
        let i = *i as usize;
        for &(k, list) in reads {
            if let Some(&v) = list
                .iter()
                .find(|&&v| status(t.writer[v as usize]) == Some(Outcome::Fail))
            {
                let w = t.writer[v as usize];
                found.push(Found {
                    kind: AnomalyKind::G1a,
                    txns: vec![i as u32, w],
                    text: format!(
                        "{{T1}} read {} = {}, which has {}, appended by {{T2}}, which failed",
                        t.keys[k as usize],
                        show(t, list),
                        t.value(v)
                    ),
                    steps: Vec::new(),
                });
            }
            if let Some(&v) = list.last() {
                let w = t.writer[v as usize];
                if w != NONE && w != i as u32 {
                    last_append.clear();
                    for m in &t.txns[w as usize].mops {
                        if let Mop::Append { key, value } = m {
                            if *key == k {
                                last_append.push((*key, *value));
                            }
                        }
                    }
                    if last_append.last().map(|a| a.1) != Some(v) {
                        let fin = last_append.last().map(|a| a.1).unwrap_or(v);
                        found.push(Found {
                            kind: AnomalyKind::G1b,
                            txns: vec![i as u32, w],
                            text: format!(
                                "{{T1}} read {} = {}, ending in {}, which {{T2}} appended before its own later append of {}",
                                t.keys[k as usize],
                                show(t, list),
                                t.value(v),
                                t.value(fin)
                            ),
                            steps: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    for (k, o) in order.iter().enumerate() {
        if let Some(p) = o
            .iter()
            .position(|&v| status(t.writer[v as usize]) == Some(Outcome::Fail))
        {
            if let Some(&later) = o[p + 1..].iter().find(|&&v| {
                matches!(
                    status(t.writer[v as usize]),
                    Some(Outcome::Ok | Outcome::Info)
                )
            }) {
                found.push(Found {
                    kind: AnomalyKind::DirtyUpdate,
                    txns: vec![t.writer[o[p] as usize], t.writer[later as usize], witness[k]],
                    text: format!(
                        "{} = {} (read by {{T3}}): {{T2}}'s append of {} follows {}, appended by {{T1}}, which failed",
                        t.keys[k],
                        show(t, o),
                        t.value(later),
                        t.value(o[p])
                    ),
                    steps: Vec::new(),
                });
            }
        }
    }
    // Appends of committed transactions no read showed: after every version read. A
    // transaction of unknown outcome committed if a read shows any of its appends.
    let mut committed: Vec<bool> = t.txns.iter().map(|x| x.outcome == Outcome::Ok).collect();
    for (v, &w) in t.writer.iter().enumerate() {
        if w != NONE && pos[v] != NONE && t.txns[w as usize].outcome == Outcome::Info {
            committed[w as usize] = true;
        }
    }
    let mut unread: Vec<Vec<u32>> = vec![Vec::new(); nk];
    for (i, x) in t.txns.iter().enumerate() {
        if !committed[i] {
            continue;
        }
        for m in &x.mops {
            if let Mop::Append { key, value } = m {
                if pos[*value as usize] == NONE {
                    let u = &mut unread[*key as usize];
                    if u.last() != Some(&(i as u32)) {
                        u.push(i as u32);
                    }
                }
            }
        }
    }
    // ww: each version's appender before the next one's; the last before every unread append.
    let live = |w: u32| w != NONE && t.txns[w as usize].outcome != Outcome::Fail;
    for (k, o) in order.iter().enumerate() {
        if incompatible[k] {
            continue;
        }
        let mut prev = NONE;
        for &v in o {
            let w = t.writer[v as usize];
            if !live(w) {
                continue;
            }
            if prev != NONE {
                edges.add(prev, w, WW);
            }
            prev = w;
        }
        if prev != NONE && unread[k].len() <= UNREAD_EDGES {
            for &u in &unread[k] {
                edges.add(prev, u, WW);
            }
        }
    }
    // wr and rw from each external read.
    for (i, reads) in &ext {
        let i = *i;
        for &(k, list) in reads {
            let k = k as usize;
            if incompatible[k] {
                continue;
            }
            if let Some(&v) = list.last() {
                let w = t.writer[v as usize];
                if live(w) {
                    edges.add(w, i, WR);
                }
            }
            let o = &order[k];
            match o.get(list.len()) {
                Some(&next) => {
                    let w = t.writer[next as usize];
                    if live(w) {
                        edges.add(i, w, RW);
                    }
                }
                None if unread[k].len() <= UNREAD_EDGES => {
                    for &u in &unread[k] {
                        edges.add(i, u, RW);
                    }
                }
                None => {}
            }
        }
    }
    Inferred {
        order,
        witness,
        pos,
        unread,
    }
}

/// A list of values as a history writes it.
pub fn show(t: &Txns, list: &[u32]) -> String {
    let items: Vec<Value> = list.iter().map(|&v| t.value(v).clone()).collect();
    format!("{:.16}", Value::List(items))
}

/// The read that showed key `ku`'s version order: `T3 (line 9) read x = [1 2 3]`.
fn longest_read(t: &Txns, inf: &Inferred, ku: usize, name: &dyn Fn(u32) -> String) -> String {
    format!(
        "{} read {} = {}",
        name(inf.witness[ku]),
        t.keys[ku],
        show(t, &inf.order[ku])
    )
}

/// Why `from` precedes `to` by `kind` on some key, in words; `name` names transactions.
pub fn explain(
    t: &Txns,
    inf: &Inferred,
    from: u32,
    to: u32,
    kind: u8,
    name: &dyn Fn(u32) -> String,
) -> Option<(Value, String)> {
    let appends = |x: u32| {
        t.txns[x as usize].mops.iter().filter_map(|m| match m {
            Mop::Append { key, value } => Some((*key, *value)),
            _ => None,
        })
    };
    match kind {
        WW => {
            for (k, b) in appends(to) {
                let ku = k as usize;
                let before = |p: usize| {
                    inf.order[ku][..p]
                        .iter()
                        .rev()
                        .find(|&&v| t.writer[v as usize] == from)
                        .copied()
                };
                let (a, witness) = if inf.pos[b as usize] != NONE {
                    (before(inf.pos[b as usize] as usize), inf.witness[ku])
                } else if inf.unread[ku].contains(&to) {
                    (before(inf.order[ku].len()), NONE)
                } else {
                    (None, NONE)
                };
                if let Some(a) = a {
                    let why = if witness == NONE {
                        format!(
                            "no read shows {}, so it follows every version read",
                            t.value(b)
                        )
                    } else {
                        longest_read(t, inf, ku, name)
                    };
                    return Some((
                        t.keys[ku].clone(),
                        format!(
                            "{} appended {} to {} after {}'s append of {} ({why})",
                            name(to),
                            t.value(b),
                            t.keys[ku],
                            name(from),
                            t.value(a)
                        ),
                    ));
                }
            }
            None
        }
        WR => external_reads(t, to as usize)
            .into_iter()
            .find(|(_, l)| l.last().is_some_and(|&v| t.writer[v as usize] == from))
            .map(|(k, l)| {
                let ku = k as usize;
                (
                    t.keys[ku].clone(),
                    format!(
                        "{} read {} = {}, which ends with {}'s append of {}",
                        name(to),
                        t.keys[ku],
                        show(t, l),
                        name(from),
                        t.value(*l.last().expect("not empty"))
                    ),
                )
            }),
        _ => {
            for (k, l) in external_reads(t, from as usize) {
                let ku = k as usize;
                let missed = match inf.order[ku].get(l.len()) {
                    Some(&next) if t.writer[next as usize] == to => Some((next, inf.witness[ku])),
                    None if inf.unread[ku].contains(&to) => {
                        appends(to).find(|a| a.0 == k).map(|a| (a.1, NONE))
                    }
                    _ => None,
                };
                if let Some((next, witness)) = missed {
                    let why = if witness == NONE {
                        "which no read shows, so it follows every version read".to_string()
                    } else {
                        format!("the next version ({})", longest_read(t, inf, ku, name))
                    };
                    return Some((
                        t.keys[ku].clone(),
                        format!(
                            "{} read {} = {}, which misses {}'s append of {}, {why}",
                            name(from),
                            t.keys[ku],
                            show(t, l),
                            name(to),
                            t.value(next)
                        ),
                    ));
                }
            }
            None
        }
    }
}
