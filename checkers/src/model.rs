//! Sequential reference models: plain, obviously correct implementations of data types.
//!
//! A model turns each call of a history into its own op (`Model::op`) and says which states may
//! follow a state when an op is applied (`Model::step`). Unknown-outcome calls (`Outcome::Info`)
//! are given to `op` too: the model builds an op that may take effect, with whatever result, and
//! the search is free to leave it out. Failed calls never reach a model: they did not happen.
//! A cas whose compare failed is not a failed call: it completed `ok` with the value `false`, an
//! observation that the register did not hold `from` at its linearization point.

use crate::history::{Call, Outcome};
use crate::search::SearchCall;
use crate::unique::Decision;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification. Implement it to check your own system's histories.
pub trait Model: Sync {
    type State: Clone + Eq + Hash + Debug + Send + Sync;
    /// Ops that compare equal are interchangeable: the search tries only one of two equal
    /// unknown-outcome calls at a time.
    type Op: Clone + Debug + Eq + Hash + Send + Sync;

    fn init(&self) -> Self::State;

    /// The op a call stands for; `Ok(None)` when the call constrains nothing (an unknown-outcome
    /// read) and can be dropped; `Err` names what was expected.
    fn op(&self, call: &Call) -> Result<Option<Self::Op>, String>;

    /// Push every state that may follow `state` when `op` is applied; push none if `op` is not
    /// allowed in `state`.
    fn step(&self, state: &Self::State, op: &Self::Op, next: &mut Vec<Self::State>);

    /// True when `op` never changes any state (a read). The search linearizes such an op as soon as
    /// it fits, which is always safe and saves it from trying every place the read could go.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Pruning hint: true when no sequence of ops that do not `rescue` `op` can lead from `state`
    /// to a state where `op` applies (a get whose string no longer extends the state; a read of a
    /// value that is no longer current). Must never say true wrongly; `false` is always safe.
    fn needs_rescue(&self, _state: &Self::State, _op: &Self::Op) -> bool {
        false
    }

    /// False when `needs_rescue` is false for `op` in every state: the search then never asks.
    fn may_need_rescue(&self, _op: &Self::Op) -> bool {
        true
    }

    /// Whether `writer` might make `op` applicable again after `needs_rescue` said it could not be
    /// (a put of a prefix of the get's string; a write of the read's value). `true` is always safe.
    fn rescues(&self, _writer: &Self::Op, _op: &Self::Op) -> bool {
        true
    }

    /// An exact decision faster than the search, for histories of a shape this model knows (a
    /// register whose written values are unique). Its answers are checked before they are given;
    /// `None`: not this shape, or undecided, and the search decides.
    fn decide(&self, _calls: &[SearchCall<Self::Op>]) -> Option<Decision> {
        None
    }

    /// Which relaxed (unknown-outcome) calls of a shrunk history can be left out of it without
    /// changing its verdict, given which calls it keeps with their results. `false` is safe.
    fn unneeded_relaxed(
        &self,
        _calls: &[SearchCall<Self::Op>],
        _kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        vec![false; relaxed.len()]
    }

    /// A state as a person reads it, for explanations.
    fn show_state(&self, state: &Self::State) -> Value;

    /// Approximate heap bytes of a state, for the memory budget.
    fn state_bytes(&self, _state: &Self::State) -> usize {
        0
    }
}

/// Options every model shares, from the command line.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Initial value of a register (Knossos: `nil`, often 0 in tests).
    pub initial: Value,
    /// Knossos's convention: a read that returned nil constrains nothing.
    pub nil_reads_unconstrained: bool,
}

fn expect_f(call: &Call, fs: &[&str]) -> String {
    format!(
        "unknown f {:?} for this model; expected one of {}",
        call.f,
        fs.join(", ")
    )
}

/// The value a read saw: `None` when it constrains nothing.
fn read_result(call: &Call, opts: &ModelOptions) -> Option<Value> {
    if call.outcome != Outcome::Ok || (opts.nil_reads_unconstrained && call.value.is_nil()) {
        return None;
    }
    Some(call.value.clone())
}

// ---------------------------------------------------------------------------------------------

/// A register with read, write and compare-and-set; without cas it is the plain register.
#[derive(Clone, Debug, Default)]
pub struct CasRegister {
    pub opts: ModelOptions,
    /// Reject cas: the plain read/write register.
    pub plain: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    Read(Value),
    Write(Value),
    Cas(Value, Value),
    /// A cas that completed and reported its compare failed: the state was not `from`.
    CasFailed(Value),
}

/// Equality of register values, the usual ones (integers, nil) compared inline: the search asks
/// for every call it tries.
#[inline(always)]
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Int(_), Value::Nil) | (Value::Nil, Value::Int(_)) => false,
        _ => a == b,
    }
}

/// True for a cas that completed and reported that its compare failed (`ok` with value `false`).
pub fn is_failed_compare(call: &Call) -> bool {
    call.f == "cas" && call.outcome == Outcome::Ok && call.value == Value::Bool(false)
}

impl Model for CasRegister {
    type State = Value;
    type Op = RegisterOp;

    fn init(&self) -> Value {
        self.opts.initial.clone()
    }

    fn op(&self, call: &Call) -> Result<Option<RegisterOp>, String> {
        match call.f.as_str() {
            "read" => Ok(read_result(call, &self.opts).map(RegisterOp::Read)),
            "write" => Ok(Some(RegisterOp::Write(call.invoke_value.clone()))),
            "cas" if !self.plain => match call.invoke_value.as_list() {
                Some([from, _]) if is_failed_compare(call) => {
                    Ok(Some(RegisterOp::CasFailed(from.clone())))
                }
                Some([from, to]) => Ok(Some(RegisterOp::Cas(from.clone(), to.clone()))),
                _ => Err(format!(
                    "cas value is {}, expected [from to]",
                    call.invoke_value
                )),
            },
            _ if self.plain => Err(expect_f(call, &["read", "write"])),
            _ => Err(expect_f(call, &["read", "write", "cas"])),
        }
    }

    fn step(&self, s: &Value, op: &RegisterOp, next: &mut Vec<Value>) {
        match op {
            RegisterOp::Read(v) if same(v, s) => next.push(s.clone()),
            RegisterOp::Read(_) => {}
            RegisterOp::Write(v) => next.push(v.clone()),
            RegisterOp::Cas(from, to) if same(from, s) => next.push(to.clone()),
            RegisterOp::Cas(..) => {}
            RegisterOp::CasFailed(from) if !same(from, s) => next.push(s.clone()),
            RegisterOp::CasFailed(_) => {}
        }
    }

    fn is_read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_) | RegisterOp::CasFailed(_))
    }

    fn may_need_rescue(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_) | RegisterOp::Cas(..))
    }

    fn needs_rescue(&self, s: &Value, op: &RegisterOp) -> bool {
        match op {
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) => !same(v, s),
            // Any write of another value makes it fit again; no cheap proof that none will come.
            RegisterOp::Write(_) | RegisterOp::CasFailed(_) => false,
        }
    }

    fn rescues(&self, writer: &RegisterOp, op: &RegisterOp) -> bool {
        let needed = match op {
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) => v,
            RegisterOp::Write(_) | RegisterOp::CasFailed(_) => return true,
        };
        match writer {
            RegisterOp::Write(x) | RegisterOp::Cas(_, x) => same(x, needed),
            RegisterOp::Read(_) | RegisterOp::CasFailed(_) => false,
        }
    }

    fn decide(&self, calls: &[SearchCall<RegisterOp>]) -> Option<Decision> {
        crate::unique::decide(&self.opts.initial, calls)
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<RegisterOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        crate::unique::unobserved(&self.opts.initial, calls, kept, relaxed)
    }

    fn show_state(&self, s: &Value) -> Value {
        s.clone()
    }

    fn state_bytes(&self, s: &Value) -> usize {
        s.heap_bytes()
    }
}

// ---------------------------------------------------------------------------------------------

/// Porcupine's string key-value register: get, put, append; a key never written reads "".
#[derive(Clone, Debug, Default)]
pub struct StringKv;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StringKvOp {
    Get(String),
    Put(String),
    Append(String),
}

fn string_value(v: &Value, what: &str) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Nil => Ok(String::new()),
        other => Err(format!(
            "{what} value is {}, expected a string",
            other.kind()
        )),
    }
}

impl Model for StringKv {
    type State = String;
    type Op = StringKvOp;

    fn init(&self) -> String {
        String::new()
    }

    fn op(&self, call: &Call) -> Result<Option<StringKvOp>, String> {
        match call.f.as_str() {
            "get" if call.outcome == Outcome::Ok => {
                Ok(Some(StringKvOp::Get(string_value(&call.value, "get")?)))
            }
            "get" => Ok(None),
            "put" => Ok(Some(StringKvOp::Put(string_value(
                &call.invoke_value,
                "put",
            )?))),
            "append" => Ok(Some(StringKvOp::Append(string_value(
                &call.invoke_value,
                "append",
            )?))),
            _ => Err(expect_f(call, &["get", "put", "append"])),
        }
    }

    fn step(&self, s: &String, op: &StringKvOp, next: &mut Vec<String>) {
        match op {
            StringKvOp::Get(v) if v == s => next.push(s.clone()),
            StringKvOp::Get(_) => {}
            StringKvOp::Put(v) => next.push(v.clone()),
            StringKvOp::Append(v) => {
                let mut n = String::with_capacity(s.len() + v.len());
                n.push_str(s);
                n.push_str(v);
                next.push(n);
            }
        }
    }

    fn is_read_only(&self, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(_))
    }

    /// Appends only extend the string: a get whose string does not start with the state can only
    /// fit after a put.
    fn may_need_rescue(&self, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(_))
    }

    fn needs_rescue(&self, s: &String, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(v) if !v.starts_with(s.as_str()))
    }

    fn rescues(&self, writer: &StringKvOp, op: &StringKvOp) -> bool {
        match (writer, op) {
            (StringKvOp::Put(p), StringKvOp::Get(v)) => v.starts_with(p.as_str()),
            (StringKvOp::Get(_), _) => false,
            (StringKvOp::Append(_), StringKvOp::Get(_)) => false,
            _ => true,
        }
    }

    fn decide(&self, calls: &[SearchCall<StringKvOp>]) -> Option<Decision> {
        crate::append::decide(calls)
    }

    /// A relaxed append whose string no kept get contains, or a relaxed put no kept get starts
    /// with, is seen by nothing: after it, until the next put, every state contains (starts with)
    /// its string, so no kept get reads any of them; left out, only those unseen states change.
    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<StringKvOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        let gets: Vec<&str> = calls
            .iter()
            .zip(kept)
            .filter_map(|(c, &k)| match &c.op {
                StringKvOp::Get(v) if k => Some(v.as_str()),
                _ => None,
            })
            .collect();
        calls
            .iter()
            .zip(relaxed)
            .map(|(c, &r)| {
                r && match &c.op {
                    StringKvOp::Append(a) => !gets.iter().any(|g| g.contains(a.as_str())),
                    StringKvOp::Put(p) => !gets.iter().any(|g| g.starts_with(p.as_str())),
                    StringKvOp::Get(_) => false,
                }
            })
            .collect()
    }

    fn show_state(&self, s: &String) -> Value {
        Value::Str(s.clone())
    }

    fn state_bytes(&self, s: &String) -> usize {
        s.capacity()
    }
}

// ---------------------------------------------------------------------------------------------

/// Knossos's multi-register: a `txn` of `[:read k v]` and `[:write k v]` micro-ops, all at once.
#[derive(Clone, Debug, Default)]
pub struct MultiRegister {
    pub opts: ModelOptions,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// `None`: the read constrains nothing (unknown outcome, or nil under Knossos's convention).
    Read(Value, Option<Value>),
    Write(Value, Value),
}

impl Model for MultiRegister {
    type State = BTreeMap<Value, Value>;
    type Op = Vec<Micro>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn op(&self, call: &Call) -> Result<Option<Vec<Micro>>, String> {
        if call.f != "txn" {
            return Err(expect_f(call, &["txn"]));
        }
        // An ok txn's reply has the values read; an unknown one only its request.
        let v = if call.outcome == Outcome::Ok {
            &call.value
        } else {
            &call.invoke_value
        };
        let items = v
            .as_list()
            .ok_or_else(|| format!("txn value is {}, expected a list of micro-ops", v.kind()))?;
        let mut micros = Vec::with_capacity(items.len());
        for m in items {
            match m.as_list() {
                Some([f, k, x]) if f.as_str() == Some("r") || f.as_str() == Some("read") => {
                    let known = call.outcome == Outcome::Ok
                        && !(self.opts.nil_reads_unconstrained && x.is_nil());
                    micros.push(Micro::Read(k.clone(), known.then(|| x.clone())));
                }
                Some([f, k, x]) if f.as_str() == Some("w") || f.as_str() == Some("write") => {
                    micros.push(Micro::Write(k.clone(), x.clone()))
                }
                _ => return Err(format!("micro-op {m} is not [:read k v] or [:write k v]")),
            }
        }
        if micros.iter().all(|m| matches!(m, Micro::Read(_, None))) {
            return Ok(None);
        }
        Ok(Some(micros))
    }

    fn step(&self, s: &Self::State, op: &Vec<Micro>, next: &mut Vec<Self::State>) {
        let mut state: Option<Self::State> = None;
        for m in op {
            let cur = state.as_ref().unwrap_or(s);
            match m {
                Micro::Read(k, Some(v)) => {
                    if cur.get(k).unwrap_or(&self.opts.initial) != v {
                        return;
                    }
                }
                Micro::Read(_, None) => {}
                Micro::Write(k, v) => {
                    state
                        .get_or_insert_with(|| s.clone())
                        .insert(k.clone(), v.clone());
                }
            }
        }
        next.push(state.unwrap_or_else(|| s.clone()));
    }

    fn is_read_only(&self, op: &Vec<Micro>) -> bool {
        op.iter().all(|m| matches!(m, Micro::Read(..)))
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::Map(s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn state_bytes(&self, s: &Self::State) -> usize {
        s.iter()
            .map(|(k, v)| 64 + k.heap_bytes() + v.heap_bytes())
            .sum()
    }
}

// ---------------------------------------------------------------------------------------------

/// A grow-only set: `add x`, and `read` that returns every element.
#[derive(Clone, Debug, Default)]
pub struct SetModel;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    Add(Value),
    Read(BTreeSet<Value>),
    /// A read that listed this element more than once: no state of a set fits it.
    ReadTwice(Value),
}

impl Model for SetModel {
    /// Persistent, so that a step clones in constant time and adds in logarithmic: a long
    /// history's replay would otherwise copy the whole set at every add.
    type State = imbl::OrdSet<Value>;
    type Op = SetOp;

    fn init(&self) -> Self::State {
        imbl::OrdSet::new()
    }

    fn op(&self, call: &Call) -> Result<Option<SetOp>, String> {
        match call.f.as_str() {
            "add" => Ok(Some(SetOp::Add(call.invoke_value.clone()))),
            "read" if call.outcome != Outcome::Ok => Ok(None),
            "read" => match call.value.as_items() {
                Some(items) => {
                    let set: BTreeSet<Value> = items.iter().cloned().collect();
                    if set.len() == items.len() {
                        return Ok(Some(SetOp::Read(set)));
                    }
                    // Kept as the anomaly it is, not folded into a set.
                    let mut seen = BTreeSet::new();
                    let twice = items.iter().find(|x| !seen.insert(*x)).cloned();
                    Ok(Some(SetOp::ReadTwice(twice.unwrap_or_default())))
                }
                None if call.value.is_nil() => Ok(Some(SetOp::Read(BTreeSet::new()))),
                None => Err(format!(
                    "read value is {}, expected a set or list",
                    call.value.kind()
                )),
            },
            _ => Err(expect_f(call, &["add", "read"])),
        }
    }

    fn step(&self, s: &Self::State, op: &SetOp, next: &mut Vec<Self::State>) {
        match op {
            SetOp::Add(x) => {
                let mut n = s.clone();
                n.insert(x.clone());
                next.push(n);
            }
            SetOp::Read(v) if v.len() == s.len() && s.iter().all(|x| v.contains(x)) => {
                next.push(s.clone())
            }
            SetOp::Read(_) | SetOp::ReadTwice(_) => {}
        }
    }

    fn is_read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_) | SetOp::ReadTwice(_))
    }

    /// Sets only grow: a read missing an element already added can never fit.
    fn may_need_rescue(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_) | SetOp::ReadTwice(_))
    }

    fn needs_rescue(&self, s: &Self::State, op: &SetOp) -> bool {
        match op {
            SetOp::Read(v) => s.len() > v.len() || !s.iter().all(|x| v.contains(x)),
            SetOp::ReadTwice(_) => true,
            SetOp::Add(_) => false,
        }
    }

    fn rescues(&self, _writer: &SetOp, _op: &SetOp) -> bool {
        false
    }

    fn decide(&self, calls: &[SearchCall<SetOp>]) -> Option<Decision> {
        crate::set::decide(calls)
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<SetOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        crate::set::unseen(calls, kept, relaxed)
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::Set(s.iter().cloned().collect())
    }

    /// What a new state costs beyond the one it came from: the whole set when small, else the
    /// path a step copied (the search's states come from one another by a step and share the
    /// rest), a node of up to 64 elements per level. Measured on synthetic sets of thousands: over
    /// the real growth by up to 2×, not under.
    fn state_bytes(&self, s: &Self::State) -> usize {
        let mut levels = 1;
        let mut n = s.len();
        while n > 64 {
            n /= 64;
            levels += 1;
        }
        let whole: usize = s
            .iter()
            .map(|v| 48 + v.heap_bytes())
            .take(levels * 64)
            .sum();
        whole.min(levels * 64 * 48)
    }
}

// ---------------------------------------------------------------------------------------------

/// A queue: `enqueue x`, `dequeue` returning an element (nil: the queue was empty).
/// FIFO returns the oldest element; unordered returns any.
#[derive(Clone, Debug, Default)]
pub struct QueueModel {
    pub fifo: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp {
    Enqueue(Value),
    /// `None`: unknown outcome, it removed whatever was there, if anything.
    Dequeue(Option<Value>),
}

impl Model for QueueModel {
    /// Elements in queue order (kept sorted for the unordered queue, so equal multisets are equal).
    type State = VecDeque<Value>;
    type Op = QueueOp;

    fn init(&self) -> Self::State {
        VecDeque::new()
    }

    fn op(&self, call: &Call) -> Result<Option<QueueOp>, String> {
        match call.f.as_str() {
            "enqueue" => Ok(Some(QueueOp::Enqueue(call.invoke_value.clone()))),
            "dequeue" if call.outcome == Outcome::Ok => {
                Ok(Some(QueueOp::Dequeue(Some(call.value.clone()))))
            }
            "dequeue" => Ok(Some(QueueOp::Dequeue(None))),
            _ => Err(expect_f(call, &["enqueue", "dequeue"])),
        }
    }

    fn step(&self, s: &Self::State, op: &QueueOp, next: &mut Vec<Self::State>) {
        match op {
            QueueOp::Enqueue(x) => {
                let mut n = s.clone();
                if self.fifo {
                    n.push_back(x.clone());
                } else {
                    let at = n.partition_point(|y| y <= x);
                    n.insert(at, x.clone());
                }
                next.push(n);
            }
            QueueOp::Dequeue(Some(Value::Nil)) => {
                if s.is_empty() {
                    next.push(s.clone());
                }
            }
            QueueOp::Dequeue(Some(x)) => {
                let at = if self.fifo {
                    (s.front() == Some(x)).then_some(0)
                } else {
                    s.iter().position(|y| y == x)
                };
                if let Some(at) = at {
                    let mut n = s.clone();
                    n.remove(at);
                    next.push(n);
                }
            }
            QueueOp::Dequeue(None) if self.fifo => {
                if !s.is_empty() {
                    let mut n = s.clone();
                    n.pop_front();
                    next.push(n);
                }
            }
            QueueOp::Dequeue(None) => {
                // Any one element may have gone: one successor per distinct element.
                for (i, x) in s.iter().enumerate() {
                    if i > 0 && s[i - 1] == *x {
                        continue;
                    }
                    let mut n = s.clone();
                    n.remove(i);
                    next.push(n);
                }
            }
        }
    }

    fn decide(&self, calls: &[SearchCall<QueueOp>]) -> Option<Decision> {
        if self.fifo {
            crate::queue::decide(calls)
        } else {
            None
        }
    }

    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<QueueOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        crate::queue::unneeded(calls, kept, relaxed)
    }

    fn show_state(&self, s: &Self::State) -> Value {
        Value::List(s.iter().cloned().collect())
    }

    fn state_bytes(&self, s: &Self::State) -> usize {
        s.iter().map(|v| 48 + v.heap_bytes()).sum()
    }
}

// ---------------------------------------------------------------------------------------------

/// A lock: `acquire` succeeds only when free, `release` only when held.
#[derive(Clone, Debug, Default)]
pub struct Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    Acquire,
    Release,
}

impl Model for Mutex {
    type State = bool;
    type Op = MutexOp;

    fn init(&self) -> bool {
        false
    }

    fn op(&self, call: &Call) -> Result<Option<MutexOp>, String> {
        match call.f.as_str() {
            "acquire" => Ok(Some(MutexOp::Acquire)),
            "release" => Ok(Some(MutexOp::Release)),
            _ => Err(expect_f(call, &["acquire", "release"])),
        }
    }

    fn step(&self, held: &bool, op: &MutexOp, next: &mut Vec<bool>) {
        match (op, held) {
            (MutexOp::Acquire, false) => next.push(true),
            (MutexOp::Release, true) => next.push(false),
            _ => {}
        }
    }

    fn show_state(&self, held: &bool) -> Value {
        Value::from(if *held { "held" } else { "free" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Process;

    fn call(f: &str, inv: Value, out: Value, outcome: Outcome) -> Call {
        Call {
            process: Process::Client(0),
            f: f.into(),
            key: None,
            node: None,
            invoke_value: inv,
            value: out,
            outcome,
            invoke_index: 0,
            complete_index: None,
            invoke_time: None,
            complete_time: None,
            line: 1,
            invoke_pos: 0,
            complete_pos: None,
        }
    }

    fn steps<M: Model>(m: &M, s: &M::State, op: &M::Op) -> Vec<M::State> {
        let mut v = Vec::new();
        m.step(s, op, &mut v);
        v
    }

    /// The search looks beyond the frontier only at calls that `may_need_rescue`: no op outside
    /// them may ever need rescue.
    #[test]
    fn may_need_rescue_covers_needs_rescue() {
        let values = [Value::Nil, Value::Int(0), Value::Int(1)];
        let reg = CasRegister::default();
        for s in &values {
            for a in &values {
                for b in &values {
                    for op in [
                        RegisterOp::Read(a.clone()),
                        RegisterOp::Write(a.clone()),
                        RegisterOp::Cas(a.clone(), b.clone()),
                        RegisterOp::CasFailed(a.clone()),
                    ] {
                        assert!(
                            !reg.needs_rescue(s, &op) || reg.may_need_rescue(&op),
                            "{op:?}"
                        );
                    }
                }
            }
        }
        let strings = ["", "a", "ab", "b"];
        for s in strings {
            for v in strings {
                for op in [
                    StringKvOp::Get(v.into()),
                    StringKvOp::Put(v.into()),
                    StringKvOp::Append(v.into()),
                ] {
                    assert!(
                        !StringKv.needs_rescue(&s.to_string(), &op)
                            || StringKv.may_need_rescue(&op),
                        "{op:?}"
                    );
                }
            }
        }
        let sets: Vec<std::collections::BTreeSet<Value>> = vec![
            Default::default(),
            [Value::Int(0)].into(),
            [Value::Int(0), Value::Int(1)].into(),
        ];
        for s in &sets {
            for r in &sets {
                let state: imbl::OrdSet<Value> = s.iter().cloned().collect();
                for op in [SetOp::Add(Value::Int(1)), SetOp::Read(r.clone())] {
                    assert!(!SetModel.needs_rescue(&state, &op) || SetModel.may_need_rescue(&op));
                }
            }
        }
    }

    #[test]
    fn cas_register_semantics() {
        let m = CasRegister::default();
        let cas = m
            .op(&call(
                "cas",
                Value::List(vec![1.into(), 2.into()]),
                Value::Nil,
                Outcome::Ok,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(steps(&m, &Value::Int(1), &cas), vec![Value::Int(2)]);
        assert!(steps(&m, &Value::Int(3), &cas).is_empty());
        // A compare that failed saw a value other than `from`, and changed nothing.
        let failed = m
            .op(&call(
                "cas",
                Value::List(vec![1.into(), 2.into()]),
                Value::Bool(false),
                Outcome::Ok,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(failed, RegisterOp::CasFailed(1.into()));
        assert!(steps(&m, &Value::Int(1), &failed).is_empty());
        assert_eq!(steps(&m, &Value::Int(3), &failed), vec![Value::Int(3)]);
        assert!(m.is_read_only(&failed));
        // An unknown-outcome cas may have swapped.
        let unknown = m
            .op(&call(
                "cas",
                Value::List(vec![1.into(), 2.into()]),
                Value::List(vec![1.into(), 2.into()]),
                Outcome::Info,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(unknown, RegisterOp::Cas(1.into(), 2.into()));
        // An unknown-outcome read constrains nothing.
        let r = m
            .op(&call("read", Value::Nil, Value::Nil, Outcome::Info))
            .unwrap();
        assert!(r.is_none());
        let nil_read = call("read", Value::Nil, Value::Nil, Outcome::Ok);
        assert!(m.op(&nil_read).unwrap().is_some());
        let knossos = CasRegister {
            opts: ModelOptions {
                nil_reads_unconstrained: true,
                ..Default::default()
            },
            plain: false,
        };
        assert!(knossos.op(&nil_read).unwrap().is_none());
        assert!(m
            .op(&call("inc", Value::Nil, Value::Nil, Outcome::Ok))
            .is_err());
    }

    #[test]
    fn unordered_queue_unknown_dequeue_branches() {
        let m = QueueModel { fifo: false };
        let s: VecDeque<Value> = [1, 1, 2].into_iter().map(Value::Int).collect();
        let next = steps(&m, &s, &QueueOp::Dequeue(None));
        assert_eq!(next.len(), 2);
        let fifo = QueueModel { fifo: true };
        assert_eq!(
            steps(&fifo, &s, &QueueOp::Dequeue(Some(Value::Int(2)))).len(),
            0
        );
    }

    #[test]
    fn multi_register_txn() {
        let m = MultiRegister::default();
        let t = call(
            "txn",
            Value::Nil,
            Value::List(vec![
                Value::List(vec!["read".into(), "x".into(), Value::Nil]),
                Value::List(vec!["write".into(), "x".into(), 1.into()]),
                Value::List(vec!["read".into(), "x".into(), 1.into()]),
            ]),
            Outcome::Ok,
        );
        let op = m.op(&t).unwrap().unwrap();
        let next = steps(&m, &BTreeMap::new(), &op);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].get(&Value::from("x")), Some(&Value::Int(1)));
    }
}
