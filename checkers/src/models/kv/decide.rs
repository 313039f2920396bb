//! String-kv histories whose put strings are unique, decided as registers.
//!
//! Between two puts the state only grows, so when every put writes a string no other put writes,
//! each get's string that parses one way only reads as one put (or the initial empty string)
//! followed by appends in one order: a version. The versions after one put form a chain. An append is then a
//! cas from the version before it to the version it makes, a put a write of its version, a get a
//! read of one, and an append no get shows a write of a value nobody reads. That is a register
//! history with unique values, which `unique::decide` settles in polynomial time. An append string
//! written by several calls (a retry) is tried each way its places could be taken. Whatever this
//! cannot read one way only (a string that parses two ways, too many ways) goes to the search,
//! and a linearization found is replayed against the string model before it is given.

use crate::models::call::SearchCall;
use crate::models::contradiction::Contradiction;
use crate::models::decision::{Decision, Refutation};
use crate::models::kv::op::StringKvOp;
use crate::models::model::Model;
use crate::models::register::decide as register;
use crate::models::register::op::RegisterOp;
use crate::models::replay::linearizes;
use crate::value::Value;
use std::collections::HashMap;

/// The base of the versions before any put: the initial empty string.
const INITIAL: i64 = -1;

/// The register value standing for the version `len` appends after `base` (a put's call index,
/// or `INITIAL`).
fn version(base: i64, len: usize) -> Value {
    Value::List(vec![Value::Int(base), Value::Int(len as i64)])
}

/// Decide a string-kv history whose put strings are unique; `None` when they are not, when a get's
/// string does not read one way only, when its repeated appends could be placed too many ways or a
/// refutation would speak for one way of several, or when the register procedure leaves it open.
/// A linearization found is replayed against `model`, the string model, before it is given.
pub fn decide<M: Model<Op = StringKvOp>>(
    model: &M,
    calls: &[SearchCall<StringKvOp>],
) -> Option<Decision> {
    let mut puts: HashMap<&str, usize> = HashMap::new();
    let mut appends: HashMap<&str, usize> = HashMap::new();
    // An append string written by several calls (a client's retry) stands for all of them: which
    // one took effect where is settled below by trying each way.
    let mut copies: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        let (s, is_put) = match &c.op {
            StringKvOp::Put(p) => (p.as_str(), true),
            StringKvOp::Append(a) => (a.as_str(), false),
            StringKvOp::Get(_) => continue,
        };
        // A string both put and appended is fine: where a get's string starts tells which,
        // and a string that could be either reads two ways and goes to the search.
        if s.is_empty() || (is_put && puts.contains_key(s)) {
            return None;
        }
        if is_put {
            puts.insert(s, i);
        } else {
            let first = *appends.entry(s).or_insert(i);
            copies.entry(first).or_default().push(i);
        }
    }
    let lengths = |m: &HashMap<&str, usize>| {
        let mut l: Vec<usize> = m.keys().map(|s| s.len()).collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    let (put_lengths, append_lengths) = (lengths(&puts), lengths(&appends));
    // Each get as (base, appends in order); the chain of appends after each base, and the get
    // that showed it.
    let mut parsed: Vec<Option<(i64, Vec<usize>)>> = vec![None; calls.len()];
    let mut chains: HashMap<i64, (Vec<usize>, usize)> = HashMap::new();
    // Gets in order of invocation, so the later of two that disagree is the one named stuck.
    let mut gets: Vec<usize> = (0..calls.len())
        .filter(|&i| matches!(calls[i].op, StringKvOp::Get(_)))
        .collect();
    gets.sort_by_key(|&i| calls[i].invoke);
    for &i in &gets {
        let StringKvOp::Get(v) = &calls[i].op else {
            continue;
        };
        let Some((base, seq)) = parse(v, &puts, &put_lengths, &appends, &append_lengths)? else {
            return Some(refuted(
                calls,
                Contradiction::Unwritten { call: i },
                vec![i],
            ));
        };
        parsed[i] = Some((base, seq.clone()));
        match chains.get_mut(&base) {
            None => {
                chains.insert(base, (seq.clone(), i));
            }
            Some((chain, owner)) => {
                let n = chain.len().min(seq.len());
                if chain[..n] != seq[..n] {
                    let core = with_strings(&parsed, &copies, vec![*owner, i]);
                    return Some(refuted(
                        calls,
                        Contradiction::Diverged {
                            read: *owner,
                            read2: i,
                        },
                        core,
                    ));
                }
                if seq.len() > chain.len() {
                    (*chain, *owner) = (seq.clone(), i);
                }
            }
        }
    }
    // Where each append string was seen: once for a string one call writes (else the gets
    // disagree), at most as often as calls write it otherwise.
    let mut places: HashMap<usize, Vec<(i64, usize, usize)>> = HashMap::new();
    let mut bases: Vec<&i64> = chains.keys().collect();
    bases.sort_unstable();
    for &base in bases {
        let (chain, owner) = &chains[&base];
        for (j, &a) in chain.iter().enumerate() {
            let seen = places.entry(a).or_default();
            seen.push((base, j + 1, *owner));
            if seen.len() <= copies[&a].len() {
                continue;
            }
            if copies[&a].len() > 1 {
                return None;
            }
            let owner0 = seen[0].2;
            let (first, second) = if calls[owner0].invoke <= calls[*owner].invoke {
                (owner0, *owner)
            } else {
                (*owner, owner0)
            };
            let core = with_strings(&parsed, &copies, vec![first, second]);
            return Some(refuted(
                calls,
                Contradiction::Diverged {
                    read: first,
                    read2: second,
                },
                core,
            ));
        }
    }
    let owners: HashMap<i64, usize> = chains.iter().map(|(&b, &(_, o))| (b, o)).collect();
    let chains: HashMap<i64, Vec<usize>> = chains.into_iter().map(|(b, (c, _))| (b, c)).collect();
    // Every way to say which call of a repeated string took effect at each place it was seen.
    let mut ways: Vec<HashMap<usize, (i64, usize)>> = vec![HashMap::new()];
    let mut reps: Vec<&usize> = places.keys().collect();
    reps.sort_unstable();
    for a in reps {
        let seen: Vec<(i64, usize)> = places[a].iter().map(|&(b, j, _)| (b, j)).collect();
        let mut next = Vec::new();
        for way in &ways {
            assign(&copies[a], &seen, &mut way.clone(), &mut next);
            if next.len() > MOST_WAYS {
                return None;
            }
        }
        ways = next;
    }
    let translate = |placed: &HashMap<usize, (i64, usize)>| -> Vec<SearchCall<RegisterOp>> {
        calls
            .iter()
            .enumerate()
            .map(|(i, c)| SearchCall {
                op: match &c.op {
                    StringKvOp::Put(_) => RegisterOp::Write(version(i as i64, 0)),
                    StringKvOp::Append(_) => match placed.get(&i) {
                        Some(&(base, j)) => RegisterOp::Cas(version(base, j - 1), version(base, j)),
                        // Seen by no get: it leaves a state nobody reads.
                        None => RegisterOp::Write(version(-2 - i as i64, 0)),
                    },
                    StringKvOp::Get(_) => match &parsed[i] {
                        Some((base, seq)) => RegisterOp::Read(version(*base, seq.len())),
                        None => RegisterOp::Read(version(INITIAL, 0)),
                    },
                },
                invoke: c.invoke,
                complete: c.complete,
            })
            .collect()
    };
    // A version as the string it stands for, for the explanation's words.
    let text = |v: &Value| -> Value {
        let Value::List(parts) = v else {
            return v.clone();
        };
        let (Some(Value::Int(base)), Some(Value::Int(len))) = (parts.first(), parts.get(1)) else {
            return v.clone();
        };
        let mut s = match *base {
            INITIAL => String::new(),
            b if b >= 0 => match &calls[b as usize].op {
                StringKvOp::Put(p) => p.clone(),
                _ => String::new(),
            },
            b => match &calls[(-2 - b) as usize].op {
                StringKvOp::Append(a) => return Value::Str(format!("…{a}")),
                _ => String::new(),
            },
        };
        for &a in chains.get(base).map_or(&[][..], |c| &c[..*len as usize]) {
            if let StringKvOp::Append(x) = &calls[a].op {
                s.push_str(x);
            }
        }
        Value::Str(s)
    };
    // Valid if one way is (the linearization replayed against the string model). Invalid only
    // when there is just one way: with more, each way's refutation speaks for that way alone and
    // its calls may fit another, so the search decides (and explains).
    let only = ways.len() == 1;
    let mut refutation = None;
    for placed in &ways {
        match register::decide(&version(INITIAL, 0), &translate(placed)) {
            Some(Decision::Valid { order }) if linearizes(model, calls, &order, u64::MAX) => {
                return Some(Decision::Valid { order })
            }
            Some(Decision::Invalid(r)) if only => refutation = Some(r),
            Some(Decision::Invalid(_)) => {}
            _ => return None,
        }
    }
    let mut r = refutation?;
    // The register's core stands on where the gets put each append: bring in, for each append
    // it names, the get that showed its place, and for each get, the put and the appends (every
    // call writing them) its string is made of. Then the calls are not linearizable as strings
    // either.
    let mut core: Vec<usize> = r.core.clone();
    for &i in &r.core {
        if let StringKvOp::Append(a) = &calls[i].op {
            let rep = appends.get(a.as_str()).copied().unwrap_or(i);
            for &(base, _, _) in places.get(&rep).map_or(&[][..], |p| &p[..]) {
                core.extend(owners.get(&base));
            }
        }
    }
    r.core = with_strings(&parsed, &copies, core);
    for v in r.values.values_mut() {
        *v = text(v);
    }
    r.state = text(&r.state);
    Some(Decision::Invalid(r))
}

/// Ways a repeated append string's places can be taken by distinct calls writing it.
const MOST_WAYS: usize = 8;

/// Extend `way` with every assignment of `seen` places to distinct calls of `calls`.
fn assign(
    calls: &[usize],
    seen: &[(i64, usize)],
    way: &mut HashMap<usize, (i64, usize)>,
    out: &mut Vec<HashMap<usize, (i64, usize)>>,
) {
    let Some((&place, rest)) = seen.split_first() else {
        out.push(way.clone());
        return;
    };
    for &c in calls {
        if way.contains_key(&c) {
            continue;
        }
        way.insert(c, place);
        assign(calls, rest, way, out);
        way.remove(&c);
        if out.len() > MOST_WAYS {
            return;
        }
    }
}

/// A refutation found while reading the gets' strings, before any register is built: the
/// values are the strings the named gets returned.
fn refuted(
    calls: &[SearchCall<StringKvOp>],
    contradiction: Contradiction,
    core: Vec<usize>,
) -> Decision {
    let values = contradiction
        .calls()
        .into_iter()
        .map(|i| match &calls[i].op {
            StringKvOp::Get(v) | StringKvOp::Put(v) | StringKvOp::Append(v) => {
                (i, Value::Str(v.clone()))
            }
        })
        .collect();
    Decision::Invalid(Refutation {
        contradiction,
        core,
        support: Vec::new(),
        values,
        prefix: Vec::new(),
        state: Value::Str(String::new()),
    })
}

/// `core` with, for each get in it, the put and the appends (every call writing them) its string
/// is made of; sorted, without repeats. For two disagreeing gets, the calls they stand on: not
/// linearizable on their own, for the same reason.
fn with_strings(
    parsed: &[Option<(i64, Vec<usize>)>],
    copies: &HashMap<usize, Vec<usize>>,
    mut core: Vec<usize>,
) -> Vec<usize> {
    for g in core.clone() {
        if let Some((base, seq)) = &parsed[g] {
            if *base >= 0 {
                core.push(*base as usize);
            }
            for a in seq {
                core.extend_from_slice(&copies[a]);
            }
        }
    }
    core.sort_unstable();
    core.dedup();
    core
}

/// A get's string as a base (a put's call index, or `INITIAL`) and the appends after it:
/// `Some(None)` when it reads no way at all, `None` when more than one.
fn parse(
    v: &str,
    puts: &HashMap<&str, usize>,
    put_lengths: &[usize],
    appends: &HashMap<&str, usize>,
    append_lengths: &[usize],
) -> Option<Option<(i64, Vec<usize>)>> {
    let bases = std::iter::once((INITIAL, 0)).chain(
        put_lengths
            .iter()
            .filter_map(|&l| v.get(..l).and_then(|p| puts.get(p)).map(|&i| (i as i64, l))),
    );
    let mut found = None;
    for (base, at) in bases {
        let rest = &v[at..];
        // ways[k]: parses of rest[k..] into appends (2 meaning "more than one"); next[k]: the
        // length of the first append of one.
        let n = rest.len();
        let mut ways = vec![0u8; n + 1];
        let mut next = vec![0usize; n + 1];
        ways[n] = 1;
        for k in (0..n).rev() {
            for &l in append_lengths {
                if let Some(piece) = rest.get(k..k + l) {
                    if ways[k + l] > 0 && appends.contains_key(piece) {
                        ways[k] = (ways[k] + ways[k + l]).min(2);
                        next[k] = l;
                    }
                }
            }
        }
        match (ways[0], &found) {
            (0, _) => {}
            (1, None) => {
                let mut seq = Vec::new();
                let mut k = 0;
                while k < n {
                    seq.push(appends[&rest[k..k + next[k]]]);
                    k += next[k];
                }
                found = Some((base, seq));
            }
            _ => return None,
        }
    }
    Some(found)
}
