//! The dependency graph between transactions: an edge for each way one must precede another,
//! labelled by why (Adya's ww, wr, rw; a process's order; real time).

/// Edge kinds, as bits: one pair of transactions may be ordered for several reasons.
pub const WW: u8 = 1;
pub const WR: u8 = 2;
pub const RW: u8 = 4;
pub const PROCESS: u8 = 8;
pub const REALTIME: u8 = 16;
pub const DATA: u8 = WW | WR | RW;

pub fn kind_name(k: u8) -> &'static str {
    match k {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        _ => "realtime",
    }
}

/// Edges as they are inferred, in any order, duplicates allowed.
#[derive(Default)]
pub struct Edges {
    edges: Vec<(u32, u32, u8)>,
}

impl Edges {
    pub fn add(&mut self, from: u32, to: u32, kind: u8) {
        if from != to {
            self.edges.push((from, to, kind));
        }
    }

    pub fn len(&self) -> usize {
        self.edges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }
}

/// A graph in compressed rows: the out-edges of node `u` are `targets[offsets[u]..offsets[u+1]]`,
/// each with its kinds.
pub struct Graph {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    kinds: Vec<u8>,
}

impl Graph {
    pub fn build(nodes: usize, mut e: Edges) -> Graph {
        e.edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        let mut offsets = vec![0u32; nodes + 1];
        let mut targets = Vec::with_capacity(e.edges.len());
        let mut kinds: Vec<u8> = Vec::with_capacity(e.edges.len());
        let mut last = (u32::MAX, u32::MAX);
        for &(a, b, k) in &e.edges {
            if (a, b) == last {
                *kinds.last_mut().expect("an edge was pushed") |= k;
                continue;
            }
            last = (a, b);
            offsets[a as usize + 1] += 1;
            targets.push(b);
            kinds.push(k);
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        Graph {
            offsets,
            targets,
            kinds,
        }
    }

    pub fn nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// Out-edges of `u` whose kinds meet `mask`, with those kinds.
    pub fn out(&self, u: u32, mask: u8) -> impl Iterator<Item = (u32, u8)> + '_ {
        let (a, b) = (
            self.offsets[u as usize] as usize,
            self.offsets[u as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .zip(&self.kinds[a..b])
            .filter(move |(_, &k)| k & mask != 0)
            .map(move |(&v, &k)| (v, k & mask))
    }

    /// The kinds of the edge `u → v`, 0 if none.
    pub fn kinds(&self, u: u32, v: u32) -> u8 {
        let (a, b) = (
            self.offsets[u as usize] as usize,
            self.offsets[u as usize + 1] as usize,
        );
        match self.targets[a..b].binary_search(&v) {
            Ok(i) => self.kinds[a + i],
            Err(_) => 0,
        }
    }
}

impl Graph {
    /// Positions of `u`'s out-edges, for walks that resume where they stopped.
    pub fn range(&self, u: u32) -> std::ops::Range<usize> {
        self.offsets[u as usize] as usize..self.offsets[u as usize + 1] as usize
    }

    /// The edge at a position: its target and kinds.
    pub fn at(&self, i: usize) -> (u32, u8) {
        (self.targets[i], self.kinds[i])
    }
}
