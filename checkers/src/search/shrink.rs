//! Shrinking an invalid key's calls to a small counterexample, by relaxations that can only make a
//! history easier to linearize.

use crate::history::Call;
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::model::Model;
use crate::models::replay::linearizes;
use crate::options::Budget;
use crate::search::wgl::{self, Verdict};
use crate::verdict::{Shrunk, ShrunkCall};
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// What a shrink probe decided by the model's own procedure costs, in search steps.
fn decided_cost<O>(calls: &[SearchCall<O>]) -> u64 {
    (calls.len() as u64 / 32).max(1)
}

/// Search steps of the original search from which shrink probes run ahead on other threads.
const PARALLEL_PROBES_FROM: u64 = 20_000;

/// Candidates at most, for delta debugging to go to single calls once a round of groups fails.
const SINGLES_FROM: usize = 32;

/// Writes at most that delta debugging takes in one pass from the start (`gallop`).
const WRITES_ONE_BY_ONE: usize = 16;

/// Which calls a trial relaxed or dropped: what a valid one shows for later trials (`implied`).
fn not_kept(trial: &[Fate]) -> Vec<bool> {
    trial.iter().map(|&f| f != Fate::Kept).collect()
}

/// Whether `trial` relaxes all that some trial shown valid relaxed: then it is valid too, unprobed.
fn implied(shown_valid: &[Vec<bool>], trial: &[Fate]) -> bool {
    shown_valid.iter().any(|r| {
        r.iter()
            .zip(trial)
            .all(|(&relaxed, &f)| !relaxed || f != Fate::Kept)
    })
}

/// What one key's shrinking may spend.
#[derive(Clone, Copy)]
pub(crate) struct ShrinkBudget {
    /// Search steps in all.
    pub(crate) steps: u64,
    /// Steps the search took to find the key invalid: a probe gets a couple of times as many.
    pub(crate) search_steps: u64,
    /// Run probes ahead on other threads (same results, sooner).
    pub(crate) parallel: bool,
}

/// What the check already knows that saves shrinking probes.
#[derive(Clone, Copy)]
pub(crate) struct Hints<'a> {
    /// The calls a contradiction stands on (sorted), when the model's own procedure found one.
    pub(crate) core: Option<&'a [usize]>,
    /// A linearization of a prefix of the history the check found.
    pub(crate) prefix: &'a [usize],
}

/// The latest cut (an index into `completions`, each completion with its call in history order)
/// that a leading part of `prefix` proves valid. For the
/// history cut at p, the prefix's first k calls linearize it when they hold every call completed
/// by p and only calls invoked by p, k reaching the last completed one: calls still open at p may
/// or may not take effect. Checked by replay, not assumed.
fn cut_proven_by<M: Model>(
    model: &M,
    ops: &[SearchCall<M::Op>],
    completions: &[(u64, usize)],
    prefix: &[usize],
) -> Option<usize> {
    let mut place = vec![usize::MAX; ops.len()];
    for (k, &i) in prefix.iter().enumerate() {
        place[i] = k;
    }
    // The latest invocation among the prefix's first k + 1 calls.
    let latest: Vec<u64> = prefix
        .iter()
        .scan(0, |m, &i| {
            *m = ops[i].invoke.max(*m);
            Some(*m)
        })
        .collect();
    let mut reach = 0;
    let mut best = None;
    for (at, &(p, i)) in completions.iter().enumerate() {
        if place[i] == usize::MAX {
            break;
        }
        reach = reach.max(place[i] + 1);
        if latest[reach - 1] <= p {
            best = Some((at, reach));
        }
    }
    let (at, k) = best?;
    linearizes(model, ops, &prefix[..k], completions[at].0).then_some(at)
}

/// A shrink probe's result before it is charged: decided by the model's own procedure at a
/// fixed cost, or searched, with the steps the search took.
#[derive(Clone)]
enum Probe {
    Decided(Verdict, u64),
    Searched(Verdict, u64),
}

/// What shrinking did to each call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Kept,
    /// Result and completion forgotten: an unknown outcome.
    Relaxed,
    Dropped,
}

/// Shrink an invalid key's calls to a small core whose violation implies the original's.
///
/// Only relaxations are tried, each of which can only make a history easier to linearize: dropping a
/// read-only call, forgetting a call's result and completion (making it an unknown outcome), and
/// cutting the history just after the stuck call returns (calls open then become unknown outcomes).
/// So if the shrunk history is still invalid, so is the original.
pub(crate) fn shrink<M: Model>(
    model: &M,
    kept: &[&Call],
    ops: &[SearchCall<M::Op>],
    stuck: usize,
    budget: ShrinkBudget,
    hints: Hints,
) -> Shrunk {
    let core = hints.core;
    let ShrinkBudget {
        steps,
        search_steps,
        parallel,
    } = budget;
    let left = std::cell::Cell::new(steps);
    // Probes of a key the search decided in a few thousand steps take microseconds: handing them
    // to other threads would cost more than it saves.
    let width = if parallel && search_steps >= PARALLEL_PROBES_FROM {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    // Relaxed calls can make a check harder than the original; a check that runs out of budget
    // counts as "not shown invalid", so the call stays.
    // Relaxed calls can make a probe far harder than the original search: each gets a few times
    // the original's steps, so one hard probe cannot spend the whole budget.
    let per_probe = search_steps.saturating_mul(2).max(2_000);
    let relax_target = |i: usize| {
        if model.is_read_only(&ops[i].op) {
            Fate::Dropped
        } else {
            Fate::Relaxed
        }
    };
    // A probe leaves out the relaxed calls the model shows cannot matter: the same verdict from a
    // smaller search. With its calls comes what identifies its history: each call kept (twice
    // its index), and whether relaxed (plus one).
    let build = |fates: &[Fate]| -> (Vec<SearchCall<M::Op>>, Vec<u32>) {
        let kept: Vec<bool> = fates.iter().map(|f| *f == Fate::Kept).collect();
        let relaxed: Vec<bool> = fates.iter().map(|f| *f == Fate::Relaxed).collect();
        let unneeded = model.unneeded_relaxed(ops, &kept, &relaxed);
        let chosen: Vec<u32> = (0..ops.len())
            .filter(|&i| fates[i] != Fate::Dropped && !unneeded[i])
            .map(|i| 2 * i as u32 + relaxed[i] as u32)
            .collect();
        let calls = chosen
            .iter()
            .map(|&k| {
                let c = &ops[k as usize / 2];
                SearchCall {
                    op: c.op.clone(),
                    invoke: c.invoke,
                    complete: if k % 2 == 1 { None } else { c.complete },
                }
            })
            .collect();
        (calls, chosen)
    };
    // Different trials can leave the same history once unneeded calls are left out: a decided
    // probe is not searched again. It is charged as when it ran, so results stay the same.
    let seen: std::sync::Mutex<HashMap<Vec<u32>, Probe, ahash::RandomState>> = Default::default();
    // A probe's verdict and the steps it took, searching at most `cap` steps. A decision by the
    // model's own procedure costs a step per 32 calls (about its time against the search's).
    let run_probe = |fates: &[Fate], cap: u64| -> Probe {
        let (calls, id) = build(fates);
        if let Some(p) = seen.lock().ok().and_then(|s| s.get(&id).cloned()) {
            return p;
        }
        let probe = match model.decide(&calls) {
            Some(Decision::Valid { .. }) => Probe::Decided(Verdict::Valid, decided_cost(&calls)),
            Some(Decision::Invalid(_)) => Probe::Decided(Verdict::Invalid, decided_cost(&calls)),
            None => {
                let budget = Budget {
                    time: Duration::MAX,
                    memory: 256 << 20,
                    steps: per_probe.min(cap),
                };
                let out = wgl::check(model, &calls, budget);
                Probe::Searched(out.verdict, out.steps)
            }
        };
        if matches!(
            probe,
            Probe::Decided(..) | Probe::Searched(Verdict::Valid | Verdict::Invalid, _)
        ) {
            if let Ok(mut s) = seen.lock() {
                s.insert(id, probe.clone());
            }
        }
        probe
    };
    // Charge a probe as if probes ran one after another, each given what was left: so probes run
    // ahead in parallel give the very verdicts, and spend the very steps, of a sequential run.
    // Out of budget a probe is unknown, which proves nothing either way.
    let account = |probe: Probe| -> Verdict {
        let l = left.get();
        if l == 0 {
            return Verdict::Unknown("shrink budget spent".into());
        }
        match probe {
            Probe::Decided(v, cost) => {
                left.set(l.saturating_sub(cost));
                v
            }
            Probe::Searched(v, steps) => {
                let cap = per_probe.min(l);
                if steps > cap {
                    left.set(l.saturating_sub(cap + 1));
                    Verdict::Unknown("shrink budget spent".into())
                } else {
                    left.set(l - steps);
                    v
                }
            }
        }
    };
    let probe = |fates: &[Fate]| -> Verdict { account(run_probe(fates, left.get())) };
    let invalid = |fates: &[Fate]| -> bool { probe(fates) == Verdict::Invalid };

    // The history cut just after position `cut`: calls invoked later go, calls still open then
    // become unknown outcomes. Each cut is a relaxation of every later one, so "invalid" is
    // monotone in the cut and a binary search finds the earliest.
    let cut_at = |cut: u64| -> Vec<Fate> {
        ops.iter()
            .enumerate()
            .map(|(i, c)| {
                if c.invoke > cut {
                    Fate::Dropped
                } else if c.complete.is_none_or(|p| p > cut) {
                    relax_target(i)
                } else {
                    Fate::Kept
                }
            })
            .collect()
    };
    // Each completion with its call, in history order: the cuts.
    let mut completions: Vec<(u64, usize)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.complete.map(|p| (p, i)))
        .collect();
    completions.sort_unstable();
    let cuts: Vec<u64> = completions.iter().map(|&(p, _)| p).collect();
    let (mut lo, mut hi) = (0usize, cuts.len());
    // Which probes proved a cut valid: an unknown one moves the search on but proves nothing.
    let mut proven_valid = vec![false; cuts.len()];
    // Invariant: every cut below `lo` is valid or unknown, the cut at cuts[hi] (or no cut at all,
    // hi == len) is known invalid. The check's own linearizable prefix proves cuts valid for
    // free, which spares the probes of long valid prefixes, the costliest there are.
    if let Some(v) = cut_proven_by(model, ops, &completions, hints.prefix) {
        proven_valid[v] = true;
        lo = v + 1;
    }
    // Where the failure probably is. A contradiction's calls have all completed by some cut, which
    // is then invalid: search back from there in growing steps, so a failure near that point
    // costs a few probes, not log n. Otherwise forward from the prefix the check proved, in
    // growing steps: the failure is usually soon after it, and short cuts are the cheapest
    // probes (a long cut loses the later calls that let the search prune, and costs most).
    let hint = core
        .and_then(|core| core.iter().filter_map(|&i| ops[i].complete).max())
        .and_then(|p| cuts.binary_search(&p).ok())
        .filter(|&h| h >= lo);
    if let Some(h) = hint {
        match probe(&cut_at(cuts[h])) {
            Verdict::Invalid => {
                hi = h;
                let mut step = 1;
                while hi > lo {
                    let m = hi.saturating_sub(step).max(lo);
                    match probe(&cut_at(cuts[m])) {
                        Verdict::Invalid => {
                            hi = m;
                            step *= 2;
                        }
                        v => {
                            proven_valid[m] = v == Verdict::Valid;
                            lo = m + 1;
                            break;
                        }
                    }
                }
            }
            v => {
                proven_valid[h] = v == Verdict::Valid;
                lo = h + 1;
            }
        }
    } else {
        let mut step = 1;
        while lo < hi {
            let m = (lo + step - 1).min(hi - 1);
            match probe(&cut_at(cuts[m])) {
                Verdict::Invalid => {
                    hi = m;
                    break;
                }
                v => {
                    proven_valid[m] = v == Verdict::Valid;
                    lo = m + 1;
                    step *= 2;
                }
            }
        }
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        match probe(&cut_at(cuts[mid])) {
            Verdict::Invalid => hi = mid,
            v => {
                proven_valid[mid] = v == Verdict::Valid;
                lo = mid + 1;
            }
        }
    }
    // The first call is proven when its cut is invalid and the cut before it valid (or there is
    // none: the empty history is valid).
    let earliest = hi < cuts.len()
        && (hi == 0 || proven_valid[hi - 1] || probe(&cut_at(cuts[hi - 1])) == Verdict::Valid);
    let mut fates = if hi < cuts.len() {
        cut_at(cuts[hi])
    } else {
        vec![Fate::Kept; ops.len()]
    };
    // The call completing at the earliest invalid cut is the first whose result cannot fit; it
    // is kept through the delta debugging below, as is the search's stuck call otherwise.
    let first = completions.get(hi).map_or(stuck, |&(_, i)| i);
    // A contradiction's own calls are a far smaller start, when they are invalid on their own with
    // every other write relaxed.
    if let Some(core) = core {
        let mut start: Vec<Fate> = (0..ops.len())
            .map(|i| {
                if i == first || core.binary_search(&i).is_ok() {
                    Fate::Kept
                } else {
                    relax_target(i)
                }
            })
            .collect();
        // Without the relaxed calls that cannot matter, the start is small and cheap to probe.
        let kept: Vec<bool> = start.iter().map(|f| *f == Fate::Kept).collect();
        let relaxed: Vec<bool> = start.iter().map(|f| *f == Fate::Relaxed).collect();
        for (f, u) in start
            .iter_mut()
            .zip(model.unneeded_relaxed(ops, &kept, &relaxed))
        {
            if u {
                *f = Fate::Dropped;
            }
        }
        if invalid(&start) {
            fates = start;
        }
    }
    // Then delta debugging: first drop reads (cheap: fewer constraints, no larger search), then
    // relax writes; chunks halve when nothing goes. Relaxing more only makes a history easier to
    // linearize, so a call whose relaxation alone made it valid stays needed however much else
    // goes later: it is not tried again, and once every kept call is needed the core is minimal.
    let mut needed = vec![false; ops.len()];
    // The calls each valid trial relaxed (or dropped: a relaxed read is a dropped one). Relaxing
    // more only makes a history easier, so any later trial relaxing all of one is valid too: a
    // group's last call, after the rest of the group went, is needed without a probe.
    let mut shown_valid: Vec<Vec<bool>> = Vec::new();
    // Before halving, reads go in two bold probes: all of them (usually they can), else, when the
    // first call is a read, all that saw something else than it did (those rarely matter to it);
    // the halving then starts from the few left.
    let first_op = &ops[first].op;
    let all_reads: Vec<usize> = (0..ops.len())
        .filter(|&i| fates[i] == Fate::Kept && i != first && model.is_read_only(&ops[i].op))
        .collect();
    let other_reads: Vec<usize> = all_reads
        .iter()
        .copied()
        .filter(|&i| model.is_read_only(first_op) && ops[i].op != *first_op)
        .collect();
    // Whether dropping `reads` kept the history invalid (then they are gone).
    let mut drop_reads = |reads: &[usize], fates: &mut Vec<Fate>| {
        let mut trial = fates.clone();
        for &i in reads {
            trial[i] = Fate::Dropped;
        }
        match probe(&trial) {
            Verdict::Invalid => {
                *fates = trial;
                true
            }
            Verdict::Valid => {
                shown_valid.push(not_kept(&trial));
                false
            }
            Verdict::Unknown(_) => false,
        }
    };
    // The second only when the first failed, and only when it keeps some reads.
    if !all_reads.is_empty()
        && !drop_reads(&all_reads, &mut fates)
        && other_reads.len() >= 2
        && other_reads.len() < all_reads.len()
    {
        drop_reads(&other_reads, &mut fates);
    }
    // Few writes go one pass from the start, one by one while they are needed and in growing
    // groups while they go: in a short counterexample most writes are needed, and halving first
    // only costs probes that fail, yet where most can go, groups still take them fast. Every
    // write ends relaxed or needed.
    let gallop = |candidates: &[usize],
                  fates: &mut Vec<Fate>,
                  needed: &mut [bool],
                  shown_valid: &mut Vec<Vec<bool>>| {
        let (mut pos, mut size, mut streak) = (0, 1, 0);
        while pos < candidates.len() && left.get() > 0 {
            let group = &candidates[pos..(pos + size).min(candidates.len())];
            let mut trial = fates.clone();
            for &i in group {
                trial[i] = relax_target(i);
            }
            let v = if implied(shown_valid, &trial) {
                Verdict::Valid
            } else {
                probe(&trial)
            };
            if v == Verdict::Invalid {
                *fates = trial;
                pos += group.len();
                // Three groups gone in a row: the next is twice as large.
                streak += 1;
                if streak == 3 {
                    (size, streak) = (size * 2, 0);
                }
                continue;
            }
            if v == Verdict::Valid {
                shown_valid.push(not_kept(&trial));
            }
            if group.len() == 1 {
                // Out of budget proves nothing: the call stays, not shown needed.
                needed[group[0]] = v == Verdict::Valid;
                pos += 1;
            }
            (size, streak) = (1, 0);
        }
    };
    for reads in [true, false] {
        let mut chunk = usize::MAX;
        loop {
            let candidates: Vec<usize> = (0..ops.len())
                .filter(|&i| {
                    fates[i] == Fate::Kept
                        && i != first
                        && !needed[i]
                        && model.is_read_only(&ops[i].op) == reads
                })
                .collect();
            if candidates.is_empty() || left.get() == 0 {
                break;
            }
            if !reads && chunk == usize::MAX && candidates.len() <= WRITES_ONE_BY_ONE {
                gallop(&candidates, &mut fates, &mut needed, &mut shown_valid);
                break;
            }
            // Reads first go all at once (after a bold probe, the ones it left).
            chunk = if chunk != usize::MAX {
                chunk.min((candidates.len() / 2).max(1))
            } else if reads {
                candidates.len()
            } else {
                (candidates.len() / 2).max(1)
            };
            let mut changed = false;
            // Groups are tried in order; with threads, the next few at once against the same
            // history, keeping the first that stays invalid and dropping the rest unseen.
            let groups: Vec<&[usize]> = candidates.chunks(chunk).collect();
            let mut g = 0;
            while g < groups.len() && left.get() > 0 {
                let window = &groups[g..(g + width).min(groups.len())];
                let trials: Vec<Vec<Fate>> = window
                    .iter()
                    .map(|group| {
                        let mut trial = fates.clone();
                        for &i in *group {
                            trial[i] = relax_target(i);
                        }
                        trial
                    })
                    .collect();
                let cap = left.get();
                let one = |t: &Vec<Fate>| {
                    if implied(&shown_valid, t) {
                        Probe::Decided(Verdict::Valid, 0)
                    } else {
                        run_probe(t, cap)
                    }
                };
                let probes: Vec<Probe> = if trials.len() > 1 {
                    trials.par_iter().map(one).collect()
                } else {
                    trials.iter().map(one).collect()
                };
                let mut advanced = trials.len();
                for (k, p) in probes.into_iter().enumerate() {
                    // A probe that ran out of steps proves nothing: the call is tried again.
                    let v = account(p);
                    if v == Verdict::Valid {
                        if window[k].len() == 1 {
                            needed[window[k][0]] = true;
                        }
                        shown_valid.push(not_kept(&trials[k]));
                    }
                    if v == Verdict::Invalid {
                        fates = trials[k].clone();
                        changed = true;
                        advanced = k + 1;
                        break;
                    }
                    if left.get() == 0 {
                        advanced = k + 1;
                        break;
                    }
                }
                g += advanced;
            }
            if chunk == 1 && !changed {
                break;
            }
            // Few candidates left and none of their groups could go: most are needed, and proving
            // each needed takes one probe of its own anyway, so the halvings between would be
            // wasted probes.
            if !changed {
                chunk = if chunk == candidates.len() && chunk > 1 {
                    // All at once did not go: halve as usual.
                    chunk / 2
                } else if candidates.len() <= SINGLES_FROM {
                    1
                } else {
                    (chunk / 2).max(1)
                };
            }
        }
    }
    let minimal = (0..ops.len()).all(|i| fates[i] != Fate::Kept || i == first || needed[i]);
    // Relaxed calls that are read-only constrain nothing: drop them.
    for (i, f) in fates.iter_mut().enumerate() {
        if *f == Fate::Relaxed && model.is_read_only(&ops[i].op) {
            *f = Fate::Dropped;
        }
    }
    // Relaxed calls the model shows cannot matter go too, if the result is still invalid.
    let kept_now: Vec<bool> = fates.iter().map(|f| *f == Fate::Kept).collect();
    let relaxed_now: Vec<bool> = fates.iter().map(|f| *f == Fate::Relaxed).collect();
    let unneeded = model.unneeded_relaxed(ops, &kept_now, &relaxed_now);
    if unneeded.iter().any(|&u| u) {
        let trial: Vec<Fate> = fates
            .iter()
            .zip(&unneeded)
            .map(|(&f, &u)| if u { Fate::Dropped } else { f })
            .collect();
        if invalid(&trial) {
            fates = trial;
        }
    }
    let calls = (0..ops.len())
        .filter(|&i| fates[i] != Fate::Dropped)
        .map(|i| ShrunkCall {
            call: kept[i].clone(),
            relaxed: fates[i] == Fate::Relaxed,
        })
        .collect();
    let count = |fate| fates.iter().filter(|&&f| f == fate).count();
    let (relaxed, dropped) = (count(Fate::Relaxed), count(Fate::Dropped));
    Shrunk {
        first: earliest.then(|| kept[first].clone()),
        calls,
        relaxed,
        dropped,
        minimal,
    }
}
