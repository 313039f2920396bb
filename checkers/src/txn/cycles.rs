//! Finding and naming cycles: within each strongly connected component, a breadth-first search
//! for the shortest cycle of each kind, most severe first (G0, G1c, G-single, G-nonadjacent,
//! G2-item), with data edges alone, then closed by process order, then by real time.

use crate::txn::anomaly::{AnomalyKind, Variant};
use crate::txn::graph::{Graph, DATA, PROCESS, REALTIME, RW, WR, WW};
use crate::txn::scc::components;

/// A cycle: its edges in order, each `(from, to, kind)`; the last ends where the first begins.
pub type Cycle = Vec<(u32, u32, u8)>;

/// Name a cycle by its edges.
pub fn classify(c: &Cycle) -> AnomalyKind {
    let rw: Vec<bool> = c.iter().map(|e| e.2 == RW).collect();
    let n = rw.len();
    let adjacent = (0..n).any(|i| rw[i] && rw[(i + 1) % n]);
    let variant = if c.iter().any(|e| e.2 == REALTIME) {
        Variant::Realtime
    } else if c.iter().any(|e| e.2 == PROCESS) {
        Variant::Process
    } else {
        Variant::Data
    };
    AnomalyKind::of_cycle(
        c.iter().any(|e| e.2 == WR),
        rw.iter().filter(|&&r| r).count(),
        adjacent,
        variant,
    )
}

/// The one kind an edge is shown as: data before order, ww before wr before rw.
fn pick(kinds: u8) -> u8 {
    [WW, WR, RW, PROCESS, REALTIME]
        .into_iter()
        .find(|k| kinds & k != 0)
        .unwrap_or(0)
}

/// Breadth-first searches confined to one component, sharing scratch space and a step budget.
pub struct Searcher<'g> {
    g: &'g Graph,
    comp_of: Vec<u32>,
    stamp: Vec<u32>,
    parent: Vec<(u32, u8)>,
    generation: u32,
    /// Edge visits left; when spent, searches give up (`exhausted`).
    pub steps: u64,
    pub exhausted: bool,
    /// Each transaction's invocation and completion positions (`u64::MAX` when it never
    /// completed), to close a cycle with one real-time edge where the reduced graph has a chain.
    times: Option<&'g Times>,
}

/// Invocation and completion positions per transaction.
pub struct Times {
    pub invoke: Vec<u64>,
    pub complete: Vec<u64>,
}

impl<'g> Searcher<'g> {
    fn new(g: &'g Graph, comp_of: Vec<u32>, steps: u64, times: Option<&'g Times>) -> Self {
        // Four states per node, for the G-nonadjacent search.
        let n = g.nodes() * 4;
        Searcher {
            g,
            comp_of,
            stamp: vec![0; n],
            parent: vec![(0, 0); n],
            generation: 0,
            steps,
            exhausted: false,
            times,
        }
    }

    /// Whether `u` completed before `v` was invoked, when real time may close a cycle.
    fn before(&self, mask: u8, u: u32, v: u32) -> bool {
        mask & REALTIME != 0
            && self
                .times
                .is_some_and(|t| t.complete[u as usize] < t.invoke[v as usize])
    }

    /// The shortest path `from → … → to` over edges of `mask` inside component `comp`.
    fn path(&mut self, comp: u32, from: u32, to: u32, mask: u8) -> Option<Cycle> {
        self.generation += 1;
        let gen = self.generation;
        let mut queue = std::collections::VecDeque::new();
        self.stamp[from as usize] = gen;
        queue.push_back(from);
        while let Some(u) = queue.pop_front() {
            let close = u != to && self.before(mask, u, to);
            if u == to || close {
                let mut path = Vec::new();
                if close {
                    path.push((u, to, REALTIME));
                }
                let mut w = u;
                while w != from {
                    let (p, k) = self.parent[w as usize];
                    path.push((p, w, k));
                    w = p;
                }
                path.reverse();
                return Some(path);
            }
            for (v, k) in self.g.out(u, mask) {
                if self.steps == 0 {
                    self.exhausted = true;
                    return None;
                }
                self.steps -= 1;
                if self.comp_of[v as usize] != comp || self.stamp[v as usize] == gen {
                    continue;
                }
                self.stamp[v as usize] = gen;
                self.parent[v as usize] = (u, pick(k));
                queue.push_back(v);
            }
        }
        None
    }

    /// A cycle through the rw edge `a → b` whose anti-dependencies are never adjacent and number
    /// at least two: states are (node, did the last edge anti-depend, was another rw taken).
    fn nonadjacent(&mut self, comp: u32, a: u32, b: u32, mask: u8) -> Option<Cycle> {
        self.generation += 1;
        let gen = self.generation;
        let state = |n: u32, last: bool, more: bool| n * 4 + last as u32 * 2 + more as u32;
        let start = state(b, true, false);
        let goal = state(a, false, true);
        let mut queue = std::collections::VecDeque::new();
        self.stamp[start as usize] = gen;
        queue.push_back(start);
        while let Some(s) = queue.pop_front() {
            let close = s / 4 != a && s & 1 != 0 && self.before(mask, s / 4, a);
            if s == goal || close {
                let mut path = Vec::new();
                if close {
                    path.push((s / 4, a, REALTIME));
                }
                let mut w = s;
                while w != start {
                    let (p, k) = self.parent[w as usize];
                    path.push((p / 4, w / 4, k));
                    w = p;
                }
                path.reverse();
                return Some(path);
            }
            let (u, last, more) = (s / 4, s & 2 != 0, s & 1 != 0);
            for (v, k) in self.g.out(u, mask) {
                if self.steps == 0 {
                    self.exhausted = true;
                    return None;
                }
                self.steps -= 1;
                if self.comp_of[v as usize] != comp {
                    continue;
                }
                let mut next = Vec::with_capacity(2);
                if k & !RW != 0 {
                    next.push((state(v, false, more), pick(k & !RW)));
                }
                if k & RW != 0 && !last {
                    next.push((state(v, true, true), RW));
                }
                for (t, kind) in next {
                    if self.stamp[t as usize] != gen {
                        self.stamp[t as usize] = gen;
                        self.parent[t as usize] = (s, kind);
                        queue.push_back(t);
                    }
                }
            }
        }
        None
    }

    /// The first cycle of the kind `base` names (0 G0 … 4 G2-item), its non-data edges drawn
    /// from `extra`, within component `comp`.
    fn first(&mut self, comp: u32, nodes: &[u32], base: usize, extra: u8) -> Option<Cycle> {
        let (required, other) = match base {
            0 => (WW, WW),
            1 => (WR, WW | WR),
            2 => (RW, WW | WR),
            _ => (RW, DATA),
        };
        let other = other | extra;
        for &u in nodes {
            let outs: Vec<u32> = self
                .g
                .out(u, required)
                .map(|(v, _)| v)
                .filter(|&v| self.comp_of[v as usize] == comp)
                .collect();
            for v in outs {
                let rest = if base == 3 {
                    self.nonadjacent(comp, u, v, other)
                } else {
                    self.path(comp, v, u, other)
                };
                if self.exhausted {
                    return None;
                }
                if let Some(rest) = rest {
                    let mut c = vec![(u, v, required)];
                    c.extend(rest);
                    // A walk that passes a transaction twice is not a cycle; and a search for
                    // write skew may meet a cycle of a kind already searched for.
                    if simple(&c) && classify(&c).base() == base {
                        return Some(c);
                    }
                }
            }
        }
        None
    }
}

/// What the search found: cycles in the order found, and whether the budget ran out.
pub struct Cycles {
    pub cycles: Vec<Cycle>,
    pub exhausted: bool,
}

/// Search the graph's components over `DATA | extra` edges for cycles of every kind; then make
/// sure each component over `forbidding` edges yields at least one cycle (every cycle of those
/// edges being one the model forbids), however the budget went.
pub fn search(g: &Graph, extra: u8, forbidding: u8, steps: u64, times: Option<&Times>) -> Cycles {
    let (comps, comp_of) = components(g, DATA | extra);
    let mut s = Searcher::new(g, comp_of, steps, times);
    let mut cycles = Vec::new();
    let variants: Vec<u8> = [0, PROCESS, PROCESS | REALTIME]
        .into_iter()
        .filter(|v| v & !extra == 0)
        .collect();
    for (ci, nodes) in comps.iter().enumerate() {
        let mut done = [false; 5];
        for &x in &variants {
            for (base, d) in done.iter_mut().enumerate() {
                if *d || s.exhausted {
                    continue;
                }
                if let Some(c) = s.first(ci as u32, nodes, base, x) {
                    *d = true;
                    cycles.push(shorten(c));
                }
            }
        }
    }
    let exhausted = s.exhausted;
    if forbidding != 0 {
        let (fcomps, fcomp_of) = components(g, forbidding);
        let mut covered = vec![false; fcomps.len()];
        for c in &cycles {
            let cc = fcomp_of[c[0].0 as usize];
            if cc != u32::MAX && c.iter().all(|e| e.2 & forbidding != 0) {
                covered[cc as usize] = true;
            }
        }
        let mut f = Searcher::new(g, fcomp_of, u64::MAX, times);
        for (ci, nodes) in fcomps.iter().enumerate() {
            if covered[ci] {
                continue;
            }
            let u = nodes[0];
            let (v, k) = g
                .out(u, forbidding)
                .find(|(v, _)| f.comp_of[*v as usize] == ci as u32)
                .expect("a node of a component has an edge inside it");
            if let Some(rest) = f.path(ci as u32, v, u, forbidding) {
                let mut c = vec![(u, v, pick(k))];
                c.extend(rest);
                cycles.push(shorten(c));
            }
        }
    }
    Cycles { cycles, exhausted }
}

/// Runs of order edges (process, real time) as one edge: real time is transitive, and a run on
/// one process is that process's order.
fn shorten(c: Cycle) -> Cycle {
    let order = |k: u8| k == PROCESS || k == REALTIME;
    // Start the walk just after a data edge, so no run wraps around the end.
    let Some(first) = c.iter().position(|e| !order(e.2)) else {
        return c;
    };
    let n = c.len();
    let mut out: Cycle = Vec::with_capacity(n);
    for i in 0..n {
        let e = c[(first + 1 + i) % n];
        match out.last_mut() {
            Some(last) if order(last.2) && order(e.2) => {
                last.1 = e.1;
                if e.2 == REALTIME {
                    last.2 = REALTIME;
                }
            }
            _ => out.push(e),
        }
    }
    out
}

/// Whether no transaction occurs twice on the cycle.
fn simple(c: &Cycle) -> bool {
    let mut nodes: Vec<u32> = c.iter().map(|e| e.0).collect();
    nodes.sort_unstable();
    nodes.windows(2).all(|w| w[0] != w[1])
}
