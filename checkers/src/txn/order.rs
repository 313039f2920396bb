//! Orders that are not about data: each process's transactions one after another, and real time
//! (one completed before the other was invoked). Only a completed (`ok`) transaction orders what
//! follows it: one of unknown outcome may still take effect at any later moment.

use crate::history::{Call, Outcome, Process};
use crate::txn::graph::{Edges, PROCESS, REALTIME};
use crate::txn::parse::Txns;
use ahash::AHashMap;

/// Each process's ok transaction before its next transaction (ok or of unknown outcome).
pub fn process_edges(t: &Txns, calls: &[Call], e: &mut Edges) {
    let mut last: AHashMap<&Process, (u64, u32)> = AHashMap::new();
    let mut order: Vec<u32> = (0..t.txns.len() as u32)
        .filter(|&i| t.txns[i as usize].outcome != Outcome::Fail)
        .collect();
    order.sort_by_key(|&i| calls[t.txns[i as usize].call as usize].invoke_pos);
    for i in order {
        let c = &calls[t.txns[i as usize].call as usize];
        if let Some(&(_, prev)) = last.get(&c.process) {
            if t.txns[prev as usize].outcome == Outcome::Ok {
                e.add(prev, i, PROCESS);
            }
        }
        last.insert(&c.process, (c.invoke_pos, i));
    }
}

/// Real-time order, transitively reduced as Elle does: a transaction invoked now follows every
/// transaction on the frontier (completed, and not yet known to precede another completed one);
/// when it completes, it replaces on the frontier those it followed. The closure of these edges
/// is the whole real-time order; their number is about the transactions times the concurrency.
pub fn realtime_edges(t: &Txns, calls: &[Call], e: &mut Edges) {
    // (position, txn, is the completion)
    let mut events: Vec<(u64, u32, bool)> = Vec::with_capacity(t.txns.len() * 2);
    for (i, x) in t.txns.iter().enumerate() {
        if x.outcome == Outcome::Fail {
            continue;
        }
        let c = &calls[x.call as usize];
        events.push((c.invoke_pos, i as u32, false));
        if x.outcome == Outcome::Ok {
            if let Some(p) = c.complete_pos {
                events.push((p, i as u32, true));
            }
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    let mut seen: AHashMap<u32, Vec<u32>> = AHashMap::new();
    for (_, i, done) in events {
        if !done {
            for &f in &frontier {
                e.add(f, i, REALTIME);
            }
            if t.txns[i as usize].outcome == Outcome::Ok {
                seen.insert(i, frontier.clone());
            }
        } else {
            let before = seen.remove(&i).unwrap_or_default();
            frontier.retain(|f| !before.contains(f));
            frontier.push(i);
        }
    }
}
