//! An exact, polynomial decision for register histories whose written values are unique.
//!
//! When every write and cas writes a value no other call writes (nor the initial value), each
//! value is current during one unbroken stretch of any linearization, and a successful cas `a→b`
//! makes `b`'s stretch follow `a`'s directly. Values joined by such cas calls form a chain that
//! is one block of the linearization. Each block must start before the earliest completion of its
//! calls (writes and reads of its values) and last past the latest invocation among them; when
//! block X's calls include one that completed before one of block Y's began, X comes first.
//! Two blocks each before the other is a contradiction (Gibbons & Korach's zones, 1997), and so
//! are a handful of shapes (a read of a value nobody wrote, two cas calls replacing one value, a
//! failed compare while its value was provably current).
//!
//! Without a contradiction a sweep through the history builds a linearization, lazily: the
//! current value stays until some call is about to complete without having been placed. Both
//! answers are checked mechanically — the linearization by replaying it, the contradiction by the
//! search on its few calls — and when the sweep fails without a contradiction the search decides.
//! So this is a fast path, never a different verdict.

use crate::models::call::SearchCall;
use crate::models::contradiction::Contradiction;
use crate::models::decision::{fits_real_time, inv, resp, Decision, Refutation, NEVER};
use crate::models::register::op::RegisterOp;
use crate::value::Value;
use std::collections::{BTreeSet, HashMap};

/// A refutation of a register history: the values its named calls wrote or read, for the words.
fn refutation(
    calls: &[SearchCall<RegisterOp>],
    contradiction: Contradiction,
    core: Vec<usize>,
    prefix: Vec<usize>,
    state: Value,
) -> Refutation {
    let values = contradiction
        .calls()
        .into_iter()
        .map(|i| {
            let v = match &calls[i].op {
                RegisterOp::Read(v) | RegisterOp::Write(v) | RegisterOp::Cas(_, v) => v,
                RegisterOp::CasFailed(v) => v,
            };
            (i, v.clone())
        })
        .collect();
    Refutation {
        contradiction,
        core,
        support: Vec::new(),
        values,
        prefix,
        state,
    }
}

/// Decide a register history when its written values are unique; `None` when they are not, or
/// when neither a linearization nor a contradiction was found (the search decides then).
pub fn decide(initial: &Value, calls: &[SearchCall<RegisterOp>]) -> Option<Decision> {
    let clusters = match Clusters::build(initial, calls)? {
        Ok(c) => c,
        Err((contradiction, core)) => {
            return Some(Decision::Invalid(refutation(
                calls,
                contradiction,
                core,
                Vec::new(),
                initial.clone(),
            )))
        }
    };
    let contradiction = clusters.contradiction(calls);
    let mut sweep = Sweep::new(calls, &clusters);
    let swept = sweep.run();
    match (swept, contradiction) {
        (true, found) => {
            let order = sweep.order;
            if !replays(initial, calls, &order) {
                debug_assert!(
                    false,
                    "the sweep built a linearization that does not replay"
                );
                return None;
            }
            debug_assert!(found.is_none(), "a linearization despite {found:?}");
            Some(Decision::Valid { order })
        }
        (false, Some(contradiction)) => {
            let core = core_of(
                &clusters.c,
                &clusters.needs,
                &clusters.own,
                calls,
                &contradiction,
            );
            let state = sweep.state();
            Some(Decision::Invalid(refutation(
                calls,
                contradiction,
                core,
                sweep.order,
                state,
            )))
        }
        (false, None) => None,
    }
}

/// What a call does to the values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Read(usize),
    /// Writes this value, which must have been written (some call observed it).
    Writer(usize),
    /// A failed compare against this value; `None` when that value is never current.
    Failed(Option<usize>),
    /// An unknown-outcome write nobody observed: may be placed anywhere after its invocation.
    Filler,
    /// An unknown-outcome cas nobody observed: left out.
    Dropped,
}

/// One value's stretch: the call that wrote it and the calls that read it.
struct Cluster {
    value: Value,
    writer: Option<usize>,
    succ: Option<usize>,
    effective: bool,
    /// Earliest completion among its writer and reads: the value is current before it.
    done: (i64, Option<usize>),
    /// Latest invocation among its writer and reads: the value is current at or after it.
    begun: (i64, Option<usize>),
    /// Latest invocation among its reads: the value may not be replaced before.
    last_read: i64,
    /// A read of it, if any: proof that an unknown-outcome write of it happened.
    a_read: Option<usize>,
    block: usize,
}

struct Clusters {
    c: Vec<Cluster>,
    role: Vec<Role>,
    /// Per call: the value it reads or compares against, and the value it writes.
    needs: Vec<Option<usize>>,
    own: Vec<Option<usize>>,
    /// Each block's values, in chain order; block 0 starts with the initial value.
    blocks: Vec<Vec<usize>>,
}

impl Clusters {
    /// `None` when a written value repeats (or is the initial value); `Err` for a contradiction
    /// in the shape of the history itself.
    fn build(
        initial: &Value,
        calls: &[SearchCall<RegisterOp>],
    ) -> Option<Result<Clusters, (Contradiction, Vec<usize>)>> {
        // Most histories that come here repeat a written value (shrink probes of the search's
        // keys): find that first, before building anything.
        // Each written value's cluster is numbered in call order, after the initial value's 0.
        let mut index: HashMap<&Value, usize, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(calls.len() + 1, ahash::RandomState::new());
        index.insert(initial, 0);
        for call in calls {
            if let RegisterOp::Write(v) | RegisterOp::Cas(_, v) = &call.op {
                if index.insert(v, index.len()).is_some() {
                    return None;
                }
            }
        }
        let mut c = vec![Cluster {
            value: initial.clone(),
            writer: None,
            succ: None,
            effective: true,
            done: (-1, None),
            begun: (-1, None),
            last_read: -1,
            a_read: None,
            block: 0,
        }];
        let mut own = vec![None; calls.len()];
        for (i, call) in calls.iter().enumerate() {
            let v = match &call.op {
                RegisterOp::Write(v) | RegisterOp::Cas(_, v) => v,
                _ => continue,
            };
            debug_assert_eq!(index.get(v), Some(&c.len()));
            own[i] = Some(c.len());
            c.push(Cluster {
                value: v.clone(),
                writer: Some(i),
                succ: None,
                effective: call.complete.is_some(),
                done: (resp(call), call.complete.map(|_| i)),
                begun: (inv(call), Some(i)),
                last_read: -1,
                a_read: None,
                block: usize::MAX,
            });
        }
        let needs: Vec<Option<usize>> = calls
            .iter()
            .map(|call| match &call.op {
                RegisterOp::Read(v) | RegisterOp::CasFailed(v) | RegisterOp::Cas(v, _) => {
                    index.get(v).copied()
                }
                RegisterOp::Write(_) => None,
            })
            .collect();
        let mut role = vec![Role::Dropped; calls.len()];
        let mut failed = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            match &call.op {
                RegisterOp::Read(_) => {
                    let Some(x) = needs[i] else {
                        return Some(Err((Contradiction::Unwritten { call: i }, vec![i])));
                    };
                    role[i] = Role::Read(x);
                    let k = &mut c[x];
                    k.effective = true;
                    if resp(call) < k.done.0 {
                        k.done = (resp(call), Some(i));
                    }
                    if inv(call) > k.begun.0 {
                        k.begun = (inv(call), Some(i));
                    }
                    k.last_read = k.last_read.max(inv(call));
                    k.a_read.get_or_insert(i);
                }
                RegisterOp::CasFailed(_) => failed.push((i, needs[i])),
                _ => {}
            }
        }
        // A cas that took effect needs its compare's value; follow such needs back.
        let mut work: Vec<usize> = (1..c.len()).filter(|&x| c[x].effective).collect();
        let mut pred = vec![None; c.len()];
        while let Some(x) = work.pop() {
            let w = c[x].writer.expect("only the initial value has no writer");
            if !matches!(calls[w].op, RegisterOp::Cas(..)) {
                continue;
            }
            // `needs` holds the cluster of the value the cas compared against.
            let found = match needs[w] {
                None => Err(Contradiction::Unwritten { call: w }),
                Some(a) => match c[a].succ {
                    Some(other) => {
                        let first = c[other].writer.expect("a successor has a writer");
                        Err(Contradiction::TwoSuccessors {
                            first: first.min(w),
                            second: first.max(w),
                        })
                    }
                    None => Ok(a),
                },
            };
            let a = match found {
                Ok(a) => a,
                Err(found) => {
                    let core = core_of(&c, &needs, &own, calls, &found);
                    return Some(Err((found, core)));
                }
            };
            c[a].succ = Some(x);
            pred[x] = Some(a);
            if !c[a].effective {
                c[a].effective = true;
                work.push(a);
            }
        }
        // A failed compare against a value that may never be current constrains nothing; an
        // unobserved write of such a value cannot serve as a filler (the compare would see it).
        let compared: BTreeSet<usize> = failed.iter().filter_map(|f| f.1).collect();
        for &(i, x) in &failed {
            role[i] = Role::Failed(x.filter(|&x| c[x].effective));
        }
        for (x, k) in c.iter().enumerate().skip(1) {
            let w = k.writer.expect("written");
            role[w] = if k.effective {
                Role::Writer(x)
            } else if matches!(calls[w].op, RegisterOp::Write(_)) && !compared.contains(&x) {
                Role::Filler
            } else {
                Role::Dropped
            };
        }
        let mut blocks = Vec::new();
        for head in 0..c.len() {
            if !c[head].effective || pred[head].is_some() {
                continue;
            }
            let b = blocks.len();
            let mut members = vec![head];
            let mut x = head;
            while let Some(y) = c[x].succ {
                members.push(y);
                x = y;
            }
            for &m in &members {
                c[m].block = b;
            }
            blocks.push(members);
        }
        if c.iter().any(|k| k.effective && k.block == usize::MAX) {
            // A ring of cas calls with no write to start it: rare enough for the search.
            return None;
        }
        Some(Ok(Clusters {
            c,
            role,
            needs,
            own,
            blocks,
        }))
    }

    /// The first contradiction found among the values' stretches, if any.
    fn contradiction(&self, calls: &[SearchCall<RegisterOp>]) -> Option<Contradiction> {
        let c = &self.c;
        // Within a value: a read done before its write began.
        for k in c.iter().skip(1).filter(|k| k.effective) {
            let w = k.writer.expect("written");
            if k.done.0 < inv(&calls[w]) {
                return Some(Contradiction::ReadBeforeWrite {
                    read: k.done.1.expect("a completion"),
                    write: w,
                });
            }
        }
        // Within a chain: a later value done before an earlier one's call began.
        let mut span = Vec::with_capacity(self.blocks.len());
        for members in &self.blocks {
            let mut latest: (i64, Option<usize>, usize) = (-1, None, 0);
            let mut done: (i64, Option<usize>) = (NEVER, None);
            for (j, &m) in members.iter().enumerate() {
                if j > 0 && c[m].done.0 < latest.0 {
                    return Some(Contradiction::ChainOrder {
                        done: c[m].done.1.expect("a completion"),
                        begun: latest.1.expect("an invocation"),
                        chain: members[latest.2 + 1..=j]
                            .iter()
                            .map(|&y| c[y].writer.expect("written"))
                            .collect(),
                    });
                }
                if c[m].begun.0 > latest.0 {
                    latest = (c[m].begun.0, c[m].begun.1, j);
                }
                if c[m].done.0 < done.0 {
                    done = c[m].done;
                }
            }
            span.push((done, latest));
        }
        // Between blocks: two blocks each before the other. Sorted by earliest completion, the
        // blocks X with done(X) < begun(Y) are a prefix; the one of them reaching latest decides.
        let mut by_done: Vec<usize> = (0..self.blocks.len()).collect();
        by_done.sort_by_key(|&b| span[b].0 .0);
        let mut best: Vec<[Option<usize>; 2]> = Vec::with_capacity(by_done.len());
        let mut top: [Option<usize>; 2] = [None, None];
        let reach = |b: usize| span[b].1 .0;
        for &b in &by_done {
            if top[0].is_none_or(|t| reach(b) > reach(t)) {
                top = [Some(b), top[0]];
            } else if top[1].is_none_or(|t| reach(b) > reach(t)) {
                top[1] = Some(b);
            }
            best.push(top);
        }
        for y in 0..self.blocks.len() {
            let before = by_done.partition_point(|&x| span[x].0 .0 < span[y].1 .0);
            if before == 0 {
                continue;
            }
            let [t0, t1] = best[before - 1];
            let x = if t0 == Some(y) { t1 } else { t0 };
            let Some(x) = x else { continue };
            if reach(x) > span[y].0 .0 {
                let o = Contradiction::Order {
                    done: span[x].0 .1,
                    begun: span[y].1 .1.expect("an invocation"),
                    done2: span[y].0 .1,
                    begun2: span[x].1 .1.expect("an invocation"),
                    chain: self
                        .chain_between(x, span[x].0 .1, span[x].1 .1)
                        .into_iter()
                        .chain(self.chain_between(y, span[y].0 .1, span[y].1 .1))
                        .collect(),
                };
                return Some(latest_last(o, calls));
            }
        }
        // A failed compare whose value was current throughout it.
        for (i, call) in calls.iter().enumerate() {
            let Role::Failed(Some(x)) = self.role[i] else {
                continue;
            };
            let k = &c[x];
            let mut after = k.begun;
            if let Some(s) = k.succ {
                let w = c[s].writer.expect("written");
                if inv(&calls[w]) > after.0 {
                    after = (inv(&calls[w]), Some(w));
                }
            }
            if k.done.0 < inv(call) && after.0 > resp(call) {
                return Some(Contradiction::FailedCompare {
                    cas: i,
                    done: k.done.1,
                    begun: after.1.expect("an invocation"),
                });
            }
        }
        None
    }

    /// The cas calls joining the values of `done` and `begun` within block `b`, when they differ.
    fn chain_between(&self, b: usize, done: Option<usize>, begun: Option<usize>) -> Vec<usize> {
        let members = &self.blocks[b];
        let pos = |call: Option<usize>| -> usize {
            let x = match call {
                None => 0,
                Some(i) => match self.role[i] {
                    Role::Read(x) | Role::Writer(x) => x,
                    _ => 0,
                },
            };
            members.iter().position(|&m| m == x).unwrap_or(0)
        };
        let (p, q) = (pos(done), pos(begun));
        let (lo, hi) = (p.min(q), p.max(q));
        members[lo + 1..=hi]
            .iter()
            .map(|&y| self.c[y].writer.expect("written"))
            .collect()
    }
}

/// The contradiction's calls, closed under what they need (see `Refutation::core`).
/// `needs[i]`: the value call `i` reads or compares against; `own[i]`: the value it writes.
fn core_of(
    c: &[Cluster],
    needs: &[Option<usize>],
    own: &[Option<usize>],
    calls: &[SearchCall<RegisterOp>],
    contradiction: &Contradiction,
) -> Vec<usize> {
    let mut core: BTreeSet<usize> = BTreeSet::new();
    let mut work = contradiction.calls();
    while let Some(i) = work.pop() {
        if !core.insert(i) {
            continue;
        }
        if let Some(x) = needs[i] {
            work.extend(c[x].writer);
        }
        if let (Some(x), None) = (own[i], calls[i].complete) {
            let observer = c[x].a_read.or(c[x].succ.and_then(|y| c[y].writer));
            work.extend(observer);
        }
    }
    core.into_iter().collect()
}

/// Name the pair whose second call began last second, so `stuck` is the latest to begin.
fn latest_last(o: Contradiction, calls: &[SearchCall<RegisterOp>]) -> Contradiction {
    match o {
        Contradiction::Order {
            done,
            begun,
            done2,
            begun2,
            chain,
        } if calls[begun].invoke > calls[begun2].invoke => Contradiction::Order {
            done: done2,
            begun: begun2,
            done2: done,
            begun2: begun,
            chain,
        },
        o => o,
    }
}

/// The value a linearization holds at some moment: an observed value, or an unobserved write.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cur {
    Value(usize),
    Filler(usize),
}

/// The lazy sweep that builds a linearization.
struct Sweep<'a> {
    calls: &'a [SearchCall<RegisterOp>],
    k: &'a Clusters,
    /// 0 not yet current, 1 current, 2 done.
    status: Vec<u8>,
    available: Vec<bool>,
    cur: Cur,
    pending_reads: Vec<Vec<usize>>,
    /// Failed compares against the current value, waiting for it to change.
    pending_failed: Vec<usize>,
    fillers: Vec<usize>,
    /// Blocks whose first write has begun and that have not started: (earliest completion, block).
    ready: BTreeSet<(i64, usize)>,
    block_done: Vec<i64>,
    /// How long each block holds the register at least.
    block_hold: Vec<i64>,
    placed: Vec<bool>,
    order: Vec<usize>,
}

impl<'a> Sweep<'a> {
    fn new(calls: &'a [SearchCall<RegisterOp>], k: &'a Clusters) -> Sweep<'a> {
        let n = k.c.len();
        let mut status = vec![0; n];
        status[0] = 1;
        let mut available = vec![false; n];
        available[0] = true;
        let block_done = k
            .blocks
            .iter()
            .map(|m| m.iter().map(|&x| k.c[x].done.0).min().unwrap_or(NEVER))
            .collect();
        // Until its last read begins, and until the cas calls that chain it on have begun.
        let block_hold = k
            .blocks
            .iter()
            .map(|m| {
                let reads = m.iter().map(|&x| k.c[x].last_read);
                let links = m[1..]
                    .iter()
                    .filter_map(|&x| k.c[x].writer)
                    .map(|w| inv(&calls[w]));
                reads.chain(links).max().unwrap_or(-1)
            })
            .collect();
        Sweep {
            calls,
            k,
            status,
            available,
            cur: Cur::Value(0),
            pending_reads: vec![Vec::new(); n],
            pending_failed: Vec::new(),
            fillers: Vec::new(),
            ready: BTreeSet::new(),
            block_done,
            block_hold,
            placed: vec![false; calls.len()],
            order: Vec::new(),
        }
    }

    fn state(&self) -> Value {
        match self.cur {
            Cur::Value(x) => self.k.c[x].value.clone(),
            Cur::Filler(w) => match &self.calls[w].op {
                RegisterOp::Write(v) => v.clone(),
                _ => Value::Nil,
            },
        }
    }

    fn place(&mut self, i: usize) {
        if !self.placed[i] {
            self.placed[i] = true;
            self.order.push(i);
        }
    }

    /// True when the current value may be replaced at moment `t`: every read of it has begun.
    fn released(&self, t: i64) -> bool {
        match self.cur {
            Cur::Value(x) => self.k.c[x].last_read <= t,
            Cur::Filler(_) => true,
        }
    }

    fn leave(&mut self) {
        if let Cur::Value(x) = self.cur {
            self.status[x] = 2;
        }
    }

    fn enter(&mut self, x: usize) {
        self.leave();
        self.status[x] = 1;
        if let Some(w) = self.k.c[x].writer {
            self.place(w);
        }
        for r in std::mem::take(&mut self.pending_reads[x]) {
            self.place(r);
        }
        for f in std::mem::take(&mut self.pending_failed) {
            self.place(f);
        }
        self.cur = Cur::Value(x);
        let b = self.k.c[x].block;
        if self.k.blocks[b][0] == x {
            self.ready.remove(&(self.block_done[b], b));
        }
    }

    /// Replace the current value by its chain's next one.
    fn step_chain(&mut self, t: i64) -> bool {
        let Cur::Value(x) = self.cur else {
            return false;
        };
        let Some(y) = self.k.c[x].succ else {
            return false;
        };
        if !self.available[y] || !self.released(t) {
            return false;
        }
        self.enter(y);
        true
    }

    fn has_succ(&self) -> bool {
        matches!(self.cur, Cur::Value(x) if self.k.c[x].succ.is_some())
    }

    /// Finish the current chain and make the register free to take any value.
    fn free(&mut self, t: i64) -> bool {
        while self.has_succ() {
            if !self.step_chain(t) {
                return false;
            }
        }
        self.released(t)
    }

    /// Whether block `b` can start and finish at moment `t`.
    fn instant(&self, b: usize, t: i64) -> bool {
        self.k.blocks[b]
            .iter()
            .all(|&x| self.available[x] && self.status[x] == 0 && self.k.c[x].last_read <= t)
    }

    /// Run a whole block at moment `t`, from a free register.
    fn run_block(&mut self, b: usize, t: i64) -> bool {
        self.enter(self.k.blocks[b][0]);
        self.free(t)
    }

    /// Before a block that will hold the register until `hold`, run the ready blocks that must
    /// complete before then and can run now.
    fn run_due_before(&mut self, hold: i64, t: i64, except: usize) -> bool {
        let due: Vec<usize> = self
            .ready
            .iter()
            .take_while(|&&(d, _)| d < hold)
            .map(|&(_, b)| b)
            .filter(|&b| b != except)
            .collect();
        for b in due {
            if self.instant(b, t) && !self.run_block(b, t) {
                return false;
            }
        }
        true
    }

    /// Make value `x` current at moment `t`.
    fn go_to(&mut self, x: usize, t: i64) -> bool {
        if self.cur == Cur::Value(x) {
            return true;
        }
        if self.status[x] != 0 || !self.available[x] {
            return false;
        }
        let b = self.k.c[x].block;
        if let Cur::Value(y) = self.cur {
            if self.k.c[y].block == b {
                while self.cur != Cur::Value(x) {
                    if !self.step_chain(t) {
                        return false;
                    }
                }
                return true;
            }
        }
        let head = self.k.blocks[b][0];
        if self.status[head] != 0 || !self.available[head] || !self.free(t) {
            return false;
        }
        if !self.run_due_before(self.block_hold[b], t, b) || !self.released(t) {
            return false;
        }
        self.enter(head);
        while self.cur != Cur::Value(x) {
            if !self.step_chain(t) {
                return false;
            }
        }
        true
    }

    /// Replace the current value at moment `t`, because a failed compare against it completes next.
    fn escape(&mut self, t: i64) -> bool {
        if self.has_succ() {
            return self.step_chain(t);
        }
        if !self.released(t) {
            return false;
        }
        if let Some(b) = self
            .ready
            .iter()
            .map(|&(_, b)| b)
            .find(|&b| self.instant(b, t))
        {
            return self.run_block(b, t);
        }
        if let Some(w) = self.fillers.pop() {
            self.leave();
            self.place(w);
            self.cur = Cur::Filler(w);
            for f in std::mem::take(&mut self.pending_failed) {
                self.place(f);
            }
            return true;
        }
        if let Some(&(_, b)) = self.ready.iter().next() {
            return self.go_to(self.k.blocks[b][0], t);
        }
        false
    }

    fn invoked(&mut self, i: usize) -> bool {
        match self.k.role[i] {
            Role::Read(x) => {
                if self.cur == Cur::Value(x) {
                    self.place(i);
                } else if self.status[x] == 2 {
                    return false;
                } else {
                    self.pending_reads[x].push(i);
                }
            }
            Role::Failed(Some(x)) if self.cur == Cur::Value(x) => self.pending_failed.push(i),
            Role::Failed(_) => self.place(i),
            Role::Writer(x) => {
                self.available[x] = true;
                let b = self.k.c[x].block;
                if self.k.blocks[b][0] == x {
                    self.ready.insert((self.block_done[b], b));
                }
            }
            Role::Filler => self.fillers.push(i),
            Role::Dropped => {}
        }
        true
    }

    /// Call `i` completes right after moment `t` and has not been placed: place it now.
    fn due(&mut self, i: usize, t: i64) -> bool {
        let ok = match self.k.role[i] {
            Role::Read(x) | Role::Writer(x) => self.go_to(x, t),
            Role::Failed(_) => self.escape(t),
            Role::Filler | Role::Dropped => false,
        };
        ok && self.placed[i]
    }

    fn run(&mut self) -> bool {
        let mut events: Vec<(i64, bool, usize)> = Vec::with_capacity(self.calls.len() * 2);
        for (i, c) in self.calls.iter().enumerate() {
            events.push((inv(c), false, i));
            if let Some(p) = c.complete {
                events.push((p as i64, true, i));
            }
        }
        events.sort_unstable();
        for (k, &(t, is_return, i)) in events.iter().enumerate() {
            if is_return {
                if !self.placed[i] {
                    return false;
                }
            } else if !self.invoked(i) {
                return false;
            }
            if let Some(&(_, true, j)) = events.get(k + 1) {
                if !self.placed[j] && !self.due(j, t) {
                    return false;
                }
            }
        }
        // Values observed only by calls of unknown outcome, never forced: run what is left.
        let end = events.last().map_or(0, |e| e.0) + 1;
        let left: Vec<usize> = (0..self.k.blocks.len())
            .filter(|&b| self.status[self.k.blocks[b][0]] == 0)
            .collect();
        for b in left {
            let last = *self.k.blocks[b].last().expect("a block has values");
            if !self.go_to(last, end) {
                return false;
            }
        }
        self.calls
            .iter()
            .enumerate()
            .all(|(i, c)| c.complete.is_none() || self.placed[i])
    }
}

/// Relaxed writes no kept call observes, which a shrunk history can leave out: with no failed
/// compare kept, an unknown-outcome write whose value nothing reads or compares against changes
/// no verdict (take it out of any linearization and the register holds the previous value until
/// the next write, which nothing between can notice). Values need not be unique.
pub fn unobserved(
    _initial: &Value,
    calls: &[SearchCall<RegisterOp>],
    kept: &[bool],
    relaxed: &[bool],
) -> Vec<bool> {
    let none = vec![false; calls.len()];
    let mut observed: BTreeSet<&Value> = BTreeSet::new();
    // The relaxed cas: (compared value, value written).
    let mut relaxed_cas: Vec<(&Value, &Value)> = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        if !kept[i] && !relaxed[i] {
            continue;
        }
        match &c.op {
            RegisterOp::CasFailed(_) if kept[i] => return none,
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) if kept[i] => {
                observed.insert(v);
            }
            RegisterOp::Cas(from, v) => relaxed_cas.push((from, v)),
            _ => {}
        }
    }
    // A relaxed cas whose value is observed must have happened: its compare's value is observed.
    let mut grew = !relaxed_cas.is_empty();
    while grew {
        grew = false;
        for &(from, v) in &relaxed_cas {
            if observed.contains(v) && observed.insert(from) {
                grew = true;
            }
        }
    }
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| match &c.op {
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => relaxed[i] && !observed.contains(v),
            _ => false,
        })
        .collect()
}

/// Replay `order` against a register: each op allowed in turn, and the order a linearization
/// (`fits_real_time`).
fn replays(initial: &Value, calls: &[SearchCall<RegisterOp>], order: &[usize]) -> bool {
    let mut state = initial;
    for &i in order {
        match &calls[i].op {
            RegisterOp::Read(v) if v != state => return false,
            RegisterOp::Cas(a, _) if a != state => return false,
            RegisterOp::CasFailed(a) if a == state => return false,
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => state = v,
            _ => {}
        }
    }
    fits_real_time(calls, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: RegisterOp, invoke: u64, complete: Option<u64>) -> SearchCall<RegisterOp> {
        SearchCall {
            op,
            invoke,
            complete,
        }
    }

    fn w(v: i64) -> RegisterOp {
        RegisterOp::Write(Value::Int(v))
    }

    fn r(v: i64) -> RegisterOp {
        RegisterOp::Read(Value::Int(v))
    }

    #[test]
    fn stale_read_is_an_order_contradiction() {
        let calls = vec![
            call(w(1), 0, Some(1)),
            call(w(2), 2, Some(3)),
            call(r(1), 4, Some(5)),
        ];
        let Some(Decision::Invalid(Refutation { contradiction, .. })) = decide(&Value::Nil, &calls)
        else {
            panic!("not invalid");
        };
        assert_eq!(contradiction.stuck(), 2);
        assert_eq!(contradiction.calls(), vec![0, 1, 2]);
    }

    #[test]
    fn concurrent_writes_and_reads_are_valid() {
        let calls = vec![
            call(w(1), 0, Some(5)),
            call(w(2), 1, Some(6)),
            call(r(2), 2, Some(7)),
            call(r(1), 8, Some(9)),
        ];
        // w2, r2, then w1, r1.
        let Some(Decision::Valid { order }) = decide(&Value::Nil, &calls) else {
            panic!("not valid");
        };
        assert!(replays(&Value::Nil, &calls, &order));
    }

    #[test]
    fn repeated_values_are_left_to_the_search() {
        let calls = vec![call(w(1), 0, Some(1)), call(w(1), 2, Some(3))];
        assert!(decide(&Value::Nil, &calls).is_none());
    }
}
