//! The linearizability search: Wing & Gong's, with Lowe's cache of visited configurations.
//!
//! Calls become a doubly linked list of call and return entries in history order. The search
//! repeatedly picks a call whose invocation precedes the first return still in the list, applies it
//! to the model, and lifts its two entries out of the list; reaching a return whose call is not yet
//! linearized means a dead end, so it backtracks. A configuration is the set of linearized calls and
//! the model state; each is explored once (the cache).
//!
//! Refinements over plain WGL:
//! - A read-only op (one that changes no state) that fits the current state is linearized at once,
//!   and no alternative is tried at that configuration: any way to finish from the configuration
//!   without the read also finishes from the one with it, so trying both only doubles the work.
//! - An unknown-outcome call has its return at the end of the list, after every definite return:
//!   reaching one means every definite call is linearized, which is success (the rest may never
//!   have happened).
//! - States are interned: the cache holds a small id, not a copy of each state.
//! - Unknown outcomes are optional and never block a return, so a configuration that has linearized
//!   the same definite calls into the same state with a subset of the unknown outcomes dominates
//!   one with more: whatever finishes from the latter finishes from the former. The cache keeps,
//!   per definite set and state, the sets of unknown outcomes seen, and a configuration whose set
//!   contains one of them is not explored again. Above all this stops the search from trying an
//!   unknown-outcome write that changes nothing.
//! - An unknown outcome followed by a call that leads to the same state without it (a write
//!   overwriting it unseen) is not tried: the configuration without it dominates.
//! - Of two equal unknown-outcome ops both invoked, only the earlier is tried: swapping them turns
//!   any linearization that uses the later first into one that uses the earlier.

use crate::models::call::SearchCall;
use crate::models::model::Model;
use crate::options::Budget;
use ahash::RandomState;
use indexmap::IndexSet;
use smallvec::SmallVec;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    /// The budget ran out first; the reason says which.
    Unknown(String),
}

/// What one search found.
#[derive(Clone, Debug)]
pub struct Outcome<S> {
    pub verdict: Verdict,
    /// Configurations explored (cache entries made).
    pub configurations: u64,
    /// Steps taken (see `Budget::steps`).
    pub steps: u64,
    /// Peak bytes of cache and states.
    pub memory: usize,
    pub elapsed: Duration,
    /// Valid: a linearization (indices into the calls). Otherwise the longest linearizable prefix
    /// found, in order.
    pub order: Vec<usize>,
    /// The model state after `order`.
    pub state: S,
    /// Invalid: the definite call that could not be linearized after the longest prefix.
    pub stuck: Option<usize>,
}

const NIL: u32 = u32::MAX;

/// How many definite calls past the frontier the dead-call check looks at while the search is going
/// nearly straight. Calls invoked later must still apply some day; seeing early that one cannot
/// saves exploring a doomed subtree.
const LOOKAHEAD: usize = 16;

enum Scan {
    Fits(usize),
    Dead,
    Neither,
}

#[derive(Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    /// The call this entry belongs to.
    call: u32,
    is_return: bool,
}

/// The list of call and return entries; node 0 is the head sentinel.
struct EntryList {
    nodes: Vec<Node>,
    call_node: Vec<u32>,
    return_node: Vec<u32>,
}

impl EntryList {
    fn new<O>(calls: &[SearchCall<O>]) -> EntryList {
        // (position, is_return, call): returns after calls at equal positions keeps overlapping
        // intervals overlapping; unknown outcomes return after everything.
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(calls.len() * 2);
        for (i, c) in calls.iter().enumerate() {
            events.push((c.invoke, false, i as u32));
            let ret = c.complete.unwrap_or(u64::MAX);
            events.push((ret, true, i as u32));
        }
        events.sort_unstable();
        let mut nodes = Vec::with_capacity(events.len() + 1);
        nodes.push(Node {
            prev: NIL,
            next: NIL,
            call: NIL,
            is_return: false,
        });
        let mut call_node = vec![0; calls.len()];
        let mut return_node = vec![0; calls.len()];
        for (k, &(_, is_return, call)) in events.iter().enumerate() {
            let id = k as u32 + 1;
            nodes[id as usize - 1].next = id;
            nodes.push(Node {
                prev: id - 1,
                next: NIL,
                call,
                is_return,
            });
            if is_return {
                return_node[call as usize] = id;
            } else {
                call_node[call as usize] = id;
            }
        }
        EntryList {
            nodes,
            call_node,
            return_node,
        }
    }

    fn first(&self) -> u32 {
        self.nodes[0].next
    }

    fn unlink(&mut self, n: u32) {
        let Node { prev, next, .. } = self.nodes[n as usize];
        self.nodes[prev as usize].next = next;
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn relink(&mut self, n: u32) {
        let Node { prev, next, .. } = self.nodes[n as usize];
        self.nodes[prev as usize].next = n;
        if next != NIL {
            self.nodes[next as usize].prev = n;
        }
    }

    fn lift(&mut self, call: usize) {
        self.unlink(self.call_node[call]);
        self.unlink(self.return_node[call]);
    }

    /// Undo `lift`; lifts are undone in reverse order, so the stale links are right again.
    fn unlift(&mut self, call: usize) {
        self.relink(self.return_node[call]);
        self.relink(self.call_node[call]);
    }
}

/// The set of linearized calls.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// A compact, canonical copy: leading all-ones words counted, trailing zero words dropped.
    /// Read off the live set with `extra` added, without copying the whole set first: this runs
    /// for every step the search tries.
    fn key(&self, extra: Option<usize>, state: u32) -> CacheKey {
        let word = self.word_with(extra);
        let n = self.0.len();
        let lead = (0..n).take_while(|&i| word(i) == u64::MAX).count();
        let end = (lead..n)
            .rev()
            .find(|&i| word(i) != 0)
            .map_or(lead, |i| i + 1);
        let mut words = Words::from_slice(&self.0[lead..end]);
        if let Some(e) = extra.filter(|e| (lead..end).contains(&(e / 64))) {
            words[e / 64 - lead] |= 1 << (e % 64);
        }
        CacheKey {
            lead: lead as u32,
            state,
            words,
        }
    }

    /// Word `i` of the set with `extra` added.
    fn word_with(&self, extra: Option<usize>) -> impl Fn(usize) -> u64 + '_ {
        let (extra_word, extra_bit) = extra.map_or((usize::MAX, 0), |e| (e / 64, 1u64 << (e % 64)));
        move |i: usize| {
            if i == extra_word {
                self.0[i] | extra_bit
            } else {
                self.0[i]
            }
        }
    }

    /// The set's words with `extra` added, trailing zero words dropped.
    fn words_with(&self, extra: Option<usize>) -> Words {
        let word = self.word_with(extra);
        let end = (0..self.0.len())
            .rev()
            .find(|&i| word(i) != 0)
            .map_or(0, |i| i + 1);
        let mut words = Words::from_slice(&self.0[..end]);
        if let Some(e) = extra.filter(|e| e / 64 < end) {
            words[e / 64] |= 1 << (e % 64);
        }
        words
    }
}

/// Lowe's cache of visited configurations; with unknown outcomes in the history, by dominance.
enum Cache {
    /// Every call is definite: a configuration is its linearized set and state.
    Exact(HashSet<CacheKey, RandomState>),
    /// Keyed by the linearized definite calls and the state: the sets of linearized unknown
    /// outcomes seen there, none a subset of another.
    Dominance(HashMap<CacheKey, SmallVec<[Words; 1]>, RandomState>),
}

impl Cache {
    /// Record a configuration; false if it (or, for `Dominance`, one dominating it) was seen.
    /// The bytes it added.
    fn insert(&mut self, key: CacheKey, open: Option<Words>) -> Option<usize> {
        let bytes = key.bytes();
        match (self, open) {
            (Cache::Exact(set), _) => set.insert(key).then_some(bytes),
            (Cache::Dominance(map), open) => {
                let open = open.unwrap_or_default();
                let added = std::mem::size_of::<Words>() + heap_bytes(&open);
                match map.entry(key) {
                    Entry::Vacant(v) => {
                        v.insert(smallvec::smallvec![open]);
                        Some(bytes + added)
                    }
                    Entry::Occupied(mut o) => {
                        let seen = o.get_mut();
                        if seen.iter().any(|s| is_subset(s, &open)) {
                            return None;
                        }
                        seen.retain(|s| !is_subset(&open, s));
                        seen.push(open);
                        Some(added)
                    }
                }
            }
        }
    }
}

/// Whether every bit of `a` is in `b` (trailing zero words may be left out of either).
fn is_subset(a: &[u64], b: &[u64]) -> bool {
    a.iter()
        .enumerate()
        .all(|(i, &w)| w & !b.get(i).copied().unwrap_or(0) == 0)
}

/// A set's words, held inline while there are few: most keys need no allocation of their own.
type Words = SmallVec<[u64; 2]>;

/// Heap bytes of a set's words beyond its inline room.
fn heap_bytes(w: &Words) -> usize {
    if w.spilled() {
        w.capacity() * 8 + 16
    } else {
        0
    }
}

#[derive(PartialEq, Eq, Hash)]
struct CacheKey {
    lead: u32,
    state: u32,
    words: Words,
}

impl CacheKey {
    fn bytes(&self) -> usize {
        // The key, its spilled words, and the hash table's own share of a slot.
        std::mem::size_of::<CacheKey>() + heap_bytes(&self.words) + 16
    }
}

struct Frame {
    call: u32,
    prev_state: u32,
    /// Which successor of the call's step was taken (models may offer several).
    successor: u32,
    /// Taken because a read fitted: on backtrack, the configuration below is abandoned too.
    forced: bool,
}

/// Check one history (usually one key's calls) against `model`.
pub fn check<M: Model>(
    model: &M,
    calls: &[SearchCall<M::Op>],
    budget: Budget,
) -> Outcome<M::State> {
    Search::new(model, calls, budget).run()
}

struct Search<'a, M: Model> {
    model: &'a M,
    calls: &'a [SearchCall<M::Op>],
    budget: Budget,
    list: EntryList,
    states: IndexSet<M::State, RandomState>,
    cache: Cache,
    /// Configurations explored (cache entries made).
    configurations: u64,
    memory: usize,
    frames: Vec<Frame>,
    /// The linearized definite calls, by call index: the cache key. Unknown outcomes' bits are
    /// always set, so a word of the linearized past is all ones and the key leaves it out.
    definite: Bits,
    /// Each call's index among the unknown outcomes (`NIL` for a definite call).
    open_index: Vec<u32>,
    /// The linearized unknown outcomes, by that index.
    open: Bits,
    /// For each unknown outcome, the one invoked before it with an equal op (`NIL` if none).
    twin_before: Vec<u32>,
    /// Scratch for the states a call leads to without the unknown outcome just linearized.
    without: Vec<M::State>,
    /// The longest prefix so far, valid up to `best_valid` (the path may have changed below).
    best: Vec<(u32, u32)>,
    best_valid: usize,
    started: Instant,
    successors: Vec<M::State>,
    /// For each call, the calls that might rescue it (`Model::rescues`), computed when first needed.
    rescuers: Vec<u32>,
    /// The calls that can change a state (not read-only), the only ones that can rescue: found
    /// the first time a rescue is asked about.
    changers: Option<Vec<u32>>,
    /// Where each call's rescuers stand in `rescuers` (start, end); `usize::MAX`: not yet known.
    rescuer_span: Vec<(usize, usize)>,
    /// The definite calls that may ever need rescue: all a full look beyond the frontier checks.
    watch: Vec<u32>,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, calls: &'a [SearchCall<M::Op>], budget: Budget) -> Self {
        let mut opens = 0u32;
        let open_index: Vec<u32> = calls
            .iter()
            .map(|c| {
                if c.complete.is_some() {
                    return NIL;
                }
                opens += 1;
                opens - 1
            })
            .collect();
        // Unknown outcomes by invocation, so an op's earlier twin is the last one seen.
        let mut by_invoke: Vec<usize> =
            (0..calls.len()).filter(|&i| open_index[i] != NIL).collect();
        by_invoke.sort_by_key(|&i| calls[i].invoke);
        let mut last: HashMap<&M::Op, u32, RandomState> = HashMap::default();
        let mut twin_before = vec![NIL; calls.len()];
        for i in by_invoke {
            if let Some(t) = last.insert(&calls[i].op, i as u32) {
                twin_before[i] = t;
            }
        }
        let mut definite = Bits(vec![0; calls.len() / 64 + 1]);
        for (i, &k) in open_index.iter().enumerate() {
            if k != NIL {
                definite.set(i);
            }
        }
        // Room for a search that goes nearly straight, so a small one never regrows its tables.
        let room = (2 * calls.len()).clamp(16, 4096);
        let hasher = RandomState::new();
        let cache = if opens == 0 {
            Cache::Exact(HashSet::with_capacity_and_hasher(room, hasher.clone()))
        } else {
            Cache::Dominance(HashMap::with_capacity_and_hasher(room, hasher.clone()))
        };
        Search {
            model,
            calls,
            budget,
            list: EntryList::new(calls),
            states: IndexSet::with_capacity_and_hasher(16, hasher),
            cache,
            configurations: 0,
            memory: 0,
            frames: Vec::with_capacity(calls.len()),
            definite,
            open_index,
            open: Bits(vec![0; opens as usize / 64 + 1]),
            twin_before,
            without: Vec::new(),
            best: Vec::with_capacity(calls.len()),
            best_valid: 0,
            started: Instant::now(),
            successors: Vec::new(),
            rescuers: Vec::new(),
            changers: None,
            rescuer_span: vec![(usize::MAX, 0); calls.len()],
            watch: (0..calls.len())
                .filter(|&i| calls[i].complete.is_some() && model.may_need_rescue(&calls[i].op))
                .map(|i| i as u32)
                .collect(),
        }
    }

    fn intern(&mut self, s: M::State) -> u32 {
        let (id, new) = self.states.insert_full(s);
        if new {
            self.memory +=
                self.model.state_bytes(&self.states[id]) + std::mem::size_of::<M::State>() + 16;
        }
        id as u32
    }

    /// Record `call` as linearized from `state` into `next`, if that configuration is new.
    fn descend(
        &mut self,
        call: usize,
        state: u32,
        next: u32,
        successor: u32,
        forced: bool,
    ) -> bool {
        if !self.remember(Some(call), next) {
            return false;
        }
        self.frames.push(Frame {
            call: call as u32,
            prev_state: state,
            successor,
            forced,
        });
        match self.open_index[call] {
            NIL => self.definite.set(call),
            k => self.open.set(k as usize),
        }
        self.list.lift(call);
        let depth = self.frames.len();
        if depth > self.best.len() {
            self.best.truncate(self.best_valid);
            for f in &self.frames[self.best_valid..] {
                self.best.push((f.call, 0));
            }
            self.best[depth - 1].1 = next;
            self.best_valid = depth;
        }
        true
    }

    fn is_linearized(&self, call: usize) -> bool {
        match self.open_index[call] {
            NIL => self.definite.get(call),
            k => self.open.get(k as usize),
        }
    }

    /// Put the configuration of the linearized calls, plus `call`, in state `state` in the cache;
    /// false if it, or one that dominates it, was there.
    fn remember(&mut self, call: Option<usize>, state: u32) -> bool {
        let (definite, open) = match call.map(|c| self.open_index[c]) {
            Some(NIL) => (call, None),
            Some(k) => (None, Some(k as usize)),
            None => (None, None),
        };
        let key = self.definite.key(definite, state);
        let open = matches!(self.cache, Cache::Dominance(_)).then(|| self.open.words_with(open));
        match self.cache.insert(key, open) {
            Some(bytes) => {
                self.memory += bytes;
                self.configurations += 1;
                true
            }
            None => false,
        }
    }

    /// Undo the newest frame; the state it left from and the frame itself.
    fn pop(&mut self) -> Option<Frame> {
        let f = self.frames.pop()?;
        self.list.unlift(f.call as usize);
        let call = f.call as usize;
        match self.open_index[call] {
            NIL => self.definite.clear(call),
            k => self.open.clear(k as usize),
        }
        self.best_valid = self.best_valid.min(self.frames.len());
        Some(f)
    }

    /// Look over the frontier (and, when `beyond`, a few calls past it): a read-only call that fits
    /// `state`, or proof that this configuration is dead because a definite call can never apply
    /// again. Looking less only prunes less: the verdict is the same.
    fn scan(&mut self, state: u32, beyond: bool) -> Scan {
        // A search going nearly straight pays little for a short look; one that has started to
        // wander looks at every call still to come, where a doomed one is worth finding. Before
        // it has made as many configurations as there are calls it has not wandered at all, and
        // on a short history (a shrink probe) the look past the frontier cost more than it saved.
        let full = beyond && self.configurations > 4 * self.calls.len() as u64 + 1024;
        let mut n = self.list.first();
        let mut in_frontier = true;
        let mut looked = 0;
        while n != NIL {
            let node = self.list.nodes[n as usize];
            n = node.next;
            let c = node.call as usize;
            if node.is_return {
                if self.calls[c].complete.is_none() {
                    break;
                }
                in_frontier = false;
                if full || !beyond {
                    // Past the frontier only a doomed call matters: look at those that can be.
                    break;
                }
                continue;
            }
            if self.calls[c].complete.is_none() {
                continue;
            }
            let op = &self.calls[c].op;
            let s = &self.states[state as usize];
            if in_frontier && self.model.is_read_only(op) {
                self.successors.clear();
                self.model.step(s, op, &mut self.successors);
                if !self.successors.is_empty() {
                    return Scan::Fits(c);
                }
            }
            if !in_frontier {
                looked += 1;
                if looked > LOOKAHEAD || self.configurations < self.calls.len() as u64 {
                    break;
                }
            }
            if self.model.needs_rescue(s, op) && !self.rescue_pending(c) {
                return Scan::Dead;
            }
        }
        if full {
            for k in 0..self.watch.len() {
                let c = self.watch[k] as usize;
                if !self.is_linearized(c)
                    && self
                        .model
                        .needs_rescue(&self.states[state as usize], &self.calls[c].op)
                    && !self.rescue_pending(c)
                {
                    return Scan::Dead;
                }
            }
        }
        Scan::Neither
    }

    /// Whether some call that might rescue `c` is not yet linearized.
    fn rescue_pending(&mut self, c: usize) -> bool {
        if self.rescuer_span[c].0 == usize::MAX {
            let (model, calls) = (self.model, self.calls);
            if self.changers.is_none() {
                self.memory += calls.len() * 4;
            }
            let changers = self.changers.get_or_insert_with(|| {
                (0..calls.len())
                    .filter(|&w| !model.is_read_only(&calls[w].op))
                    .map(|w| w as u32)
                    .collect()
            });
            let op = &calls[c].op;
            let start = self.rescuers.len();
            for &w in changers.iter() {
                if w as usize != c && model.rescues(&calls[w as usize].op, op) {
                    self.rescuers.push(w);
                }
            }
            self.memory += (self.rescuers.len() - start) * 4 + 8;
            self.rescuer_span[c] = (start, self.rescuers.len());
        }
        let (start, end) = self.rescuer_span[c];
        self.rescuers[start..end]
            .iter()
            .any(|&w| !self.is_linearized(w as usize))
    }

    fn out_of_budget(&self) -> Option<String> {
        if self.memory > self.budget.memory {
            return Some(format!(
                "memory budget of {} MiB spent",
                self.budget.memory >> 20
            ));
        }
        if self.started.elapsed() > self.budget.time {
            return Some(format!(
                "time budget of {:.1} s spent",
                self.budget.time.as_secs_f64()
            ));
        }
        None
    }

    fn run(mut self) -> Outcome<M::State> {
        let init = self.model.init();
        let mut state = self.intern(init);
        // The start dominates every configuration that linearized only unknown outcomes, none of
        // which changed the state.
        if matches!(self.cache, Cache::Dominance(_)) {
            self.remember(None, state);
        }
        let mut entry = self.list.first();
        // Set after a new configuration is entered: look for a fitting read first.
        let mut fresh = true;
        // Whether the fresh configuration's state is new on this path. After a read, or a call
        // that left the state as it was, the calls past the frontier were judged against this
        // very state a step before: a second look would rarely find more.
        let mut changed = true;
        // When resuming a call after backtracking: the next successor to try.
        let mut from_successor = 0u32;
        let mut steps = 0u64;
        let verdict = 'search: loop {
            steps += 1;
            if steps > self.budget.steps {
                break Verdict::Unknown(format!("step budget of {} spent", self.budget.steps));
            }
            if steps.is_multiple_of(4096) {
                if let Some(why) = self.out_of_budget() {
                    break Verdict::Unknown(why);
                }
            }
            if fresh {
                fresh = false;
                entry = self.list.first();
                let dead = match self.scan(state, changed) {
                    Scan::Fits(r) => {
                        if self.descend(r, state, state, 0, true) {
                            fresh = true;
                            changed = false;
                            continue;
                        }
                        // Seen before and failed; it dominates this configuration, which fails too.
                        true
                    }
                    Scan::Dead => true,
                    Scan::Neither => false,
                };
                if dead {
                    match self.backtrack() {
                        Some((s, e, k)) => {
                            (state, entry, from_successor) = (s, e, k);
                            continue;
                        }
                        None => break Verdict::Invalid,
                    }
                }
            }
            if entry == NIL {
                break Verdict::Valid;
            }
            let node = self.list.nodes[entry as usize];
            let c = node.call as usize;
            if node.is_return {
                if self.calls[c].complete.is_none() {
                    // Only unknown outcomes are left; they may never have happened.
                    break Verdict::Valid;
                }
                match self.backtrack() {
                    Some((s, e, k)) => {
                        (state, entry, from_successor) = (s, e, k);
                        continue;
                    }
                    None => break Verdict::Invalid,
                }
            }
            let twin = self.twin_before[c];
            if twin != NIL && !self.is_linearized(twin as usize) {
                entry = node.next;
                continue;
            }
            self.successors.clear();
            self.model.step(
                &self.states[state as usize],
                &self.calls[c].op,
                &mut self.successors,
            );
            // Taken out while states are interned, and put back: its room is kept for the next step.
            let mut successors = std::mem::take(&mut self.successors);
            let start = std::mem::take(&mut from_successor) as usize;
            // After an unknown outcome: where this call leads without it.
            self.without.clear();
            if let Some(top) = self.frames.last().filter(|_| successors.len() > start) {
                if self.open_index[top.call as usize] != NIL {
                    self.model.step(
                        &self.states[top.prev_state as usize],
                        &self.calls[c].op,
                        &mut self.without,
                    );
                }
            }
            let mut taken = None;
            for (k, s) in successors.drain(..).enumerate().skip(start) {
                if self.without.contains(&s) {
                    continue;
                }
                let next = self.intern(s);
                if self.descend(c, state, next, k as u32, false) {
                    taken = Some(next);
                    break;
                }
            }
            self.successors = successors;
            if let Some(next) = taken {
                changed = next != state;
                state = next;
                fresh = true;
                continue 'search;
            }
            entry = node.next;
        };
        let order: Vec<usize> = match verdict {
            Verdict::Valid => self.frames.iter().map(|f| f.call as usize).collect(),
            _ => self.best.iter().map(|&(c, _)| c as usize).collect(),
        };
        let end_state = match verdict {
            Verdict::Valid => state,
            _ => self.best.last().map_or(0, |&(_, s)| s),
        };
        let stuck = match verdict {
            Verdict::Invalid => self.stuck_call(&order),
            _ => None,
        };
        Outcome {
            verdict,
            configurations: self.configurations,
            steps,
            memory: self.memory,
            elapsed: self.started.elapsed(),
            order,
            state: self.states[end_state as usize].clone(),
            stuck,
        }
    }

    /// Pop frames until one can resume; the state, entry and successor to resume at.
    fn backtrack(&mut self) -> Option<(u32, u32, u32)> {
        loop {
            let f = self.pop()?;
            if f.forced {
                continue;
            }
            return Some((
                f.prev_state,
                self.list.call_node[f.call as usize],
                f.successor + 1,
            ));
        }
    }

    /// The definite call, not in `prefix`, that must return first: the one no order could fit.
    fn stuck_call(&self, prefix: &[usize]) -> Option<usize> {
        let mut done = vec![false; self.calls.len()];
        for &c in prefix {
            done[c] = true;
        }
        self.calls
            .iter()
            .enumerate()
            .filter(|(i, c)| !done[*i] && c.complete.is_some())
            .min_by_key(|(_, c)| c.complete)
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::register::{CasRegister, RegisterOp};
    use crate::value::Value;

    fn call(op: RegisterOp, invoke: u64, complete: Option<u64>) -> SearchCall<RegisterOp> {
        SearchCall {
            op,
            invoke,
            complete,
        }
    }

    #[test]
    fn stale_read_is_invalid_and_explained() {
        let m = CasRegister::default();
        let calls = vec![
            call(RegisterOp::Write(1.into()), 0, Some(1)),
            call(RegisterOp::Write(2.into()), 2, Some(3)),
            call(RegisterOp::Read(1.into()), 4, Some(5)),
        ];
        let out = check(&m, &calls, Budget::default());
        assert_eq!(out.verdict, Verdict::Invalid);
        assert_eq!(out.order, vec![0, 1]);
        assert_eq!(out.state, Value::Int(2));
        assert_eq!(out.stuck, Some(2));
    }

    #[test]
    fn concurrent_writes_allow_either_read() {
        let m = CasRegister::default();
        for seen in [1, 2] {
            let calls = vec![
                call(RegisterOp::Write(1.into()), 0, Some(3)),
                call(RegisterOp::Write(2.into()), 1, Some(2)),
                call(RegisterOp::Read(seen.into()), 4, Some(5)),
            ];
            let out = check(&m, &calls, Budget::default());
            assert_eq!(out.verdict, Verdict::Valid, "read {seen}");
            assert_eq!(out.order.len(), 3);
        }
    }

    #[test]
    fn unknown_outcome_may_happen_late_or_never() {
        let m = CasRegister::default();
        // The write never completed, yet a later read saw it: allowed.
        let calls = vec![
            call(RegisterOp::Write(7.into()), 0, None),
            call(RegisterOp::Read(Value::Nil), 1, Some(2)),
            call(RegisterOp::Read(7.into()), 3, Some(4)),
        ];
        assert_eq!(check(&m, &calls, Budget::default()).verdict, Verdict::Valid);
        // ...but it cannot take effect before it was invoked.
        let calls = vec![
            call(RegisterOp::Read(7.into()), 0, Some(1)),
            call(RegisterOp::Write(7.into()), 2, None),
        ];
        assert_eq!(
            check(&m, &calls, Budget::default()).verdict,
            Verdict::Invalid
        );
    }

    #[test]
    fn budget_exhaustion_is_unknown() {
        let m = CasRegister::default();
        // 40 concurrent writes, then two reads that each need their value written last: no
        // order works, but proving it means trying a great many of them.
        let calls: Vec<_> = (0..40)
            .map(|i| call(RegisterOp::Write(i.into()), i as u64, Some(1000 + i as u64)))
            .chain([
                call(RegisterOp::Read(0.into()), 2000, Some(2001)),
                call(RegisterOp::Read(1.into()), 2002, Some(2003)),
            ])
            .collect();
        let out = check(
            &m,
            &calls,
            Budget {
                time: Duration::from_millis(50),
                memory: 1 << 30,
                steps: u64::MAX,
            },
        );
        assert!(
            matches!(out.verdict, Verdict::Unknown(_)),
            "{:?}",
            out.verdict
        );
    }
}
