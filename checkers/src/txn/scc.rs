//! Strongly connected components (Tarjan's algorithm, without recursion so a million
//! transactions in one chain do not overflow the stack). Every cycle lies inside one.

use crate::txn::graph::Graph;

const UNSEEN: u32 = u32::MAX;

/// The components of more than one node, over the edges whose kinds meet `mask`, each in
/// ascending node order; and each node's component (an index into them, or `u32::MAX`).
pub fn components(g: &Graph, mask: u8) -> (Vec<Vec<u32>>, Vec<u32>) {
    let n = g.nodes();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp_of = vec![u32::MAX; n];
    let mut comps: Vec<Vec<u32>> = Vec::new();
    let mut next = 0u32;
    // The call stack: a node and the position of the next out-edge to follow.
    let mut frames: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        frames.push((root, usize::MAX));
        while let Some(&mut (u, ref mut i)) = frames.last_mut() {
            let ui = u as usize;
            if *i == usize::MAX {
                index[ui] = next;
                low[ui] = next;
                next += 1;
                stack.push(u);
                on_stack[ui] = true;
                *i = g.range(u).start;
            }
            let end = g.range(u).end;
            let mut child = None;
            while *i < end {
                let (v, k) = g.at(*i);
                *i += 1;
                if k & mask == 0 {
                    continue;
                }
                let vi = v as usize;
                if index[vi] == UNSEEN {
                    child = Some(v);
                    break;
                } else if on_stack[vi] {
                    low[ui] = low[ui].min(index[vi]);
                }
            }
            if let Some(v) = child {
                frames.push((v, usize::MAX));
                continue;
            }
            frames.pop();
            if let Some(&(p, _)) = frames.last() {
                low[p as usize] = low[p as usize].min(low[ui]);
            }
            if low[ui] == index[ui] {
                let mut comp = Vec::new();
                loop {
                    let w = stack.pop().expect("u is on the stack");
                    on_stack[w as usize] = false;
                    comp.push(w);
                    if w == u {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort_unstable();
                    for &w in &comp {
                        comp_of[w as usize] = comps.len() as u32;
                    }
                    comps.push(comp);
                }
            }
        }
    }
    (comps, comp_of)
}
