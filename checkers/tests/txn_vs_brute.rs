//! The transactional checker against a brute-force search over serial orders, on thousands of
//! small random histories (many made invalid by a changed read), and on every anomaly class
//! injected into valid histories.

use ferret_checkers::history::{pair, Event, EventType, History, Location, Process};
use ferret_checkers::txn::brute::serializable;
use ferret_checkers::txn::synth::{txn_history, TxnSynthOptions};
use ferret_checkers::txn::{Consistency, Datatype};
use ferret_checkers::{check, CheckOptions, ModelName, Value, VerdictName};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn opts(d: Datatype, c: Consistency) -> CheckOptions {
    CheckOptions {
        model: Some(match d {
            Datatype::ListAppend => ModelName::ListAppend,
            Datatype::RwRegister => ModelName::RwRegister,
        }),
        consistency: c,
        threads: 1,
        ..CheckOptions::default()
    }
}

/// The checker's verdict and the kinds of anomaly it names.
fn verdict(h: &History, d: Datatype, c: Consistency) -> (VerdictName, Vec<String>) {
    let r = check(h, &opts(d, c)).expect("a well-formed history");
    let kinds = r.keys[0].anomalies.iter().map(|a| a.kind.clone()).collect();
    (r.verdict, kinds)
}

fn brute(h: &History, realtime: bool) -> bool {
    let (calls, _) = pair(h).expect("pairs");
    serializable(&calls, realtime)
}

/// Change one read of a completed transaction: drop its last element, add one, or reorder.
fn corrupt(h: &mut History, rng: &mut ChaCha8Rng, d: Datatype) -> bool {
    let oks: Vec<usize> = (0..h.events.len())
        .filter(|&i| h.events[i].kind == EventType::Ok)
        .collect();
    if oks.is_empty() {
        return false;
    }
    let e = &mut h.events[oks[rng.random_range(0..oks.len())]];
    let Value::List(mops) = &mut e.value else {
        return false;
    };
    let reads: Vec<usize> = (0..mops.len())
        .filter(|&i| mops[i].as_list().and_then(|m| m[0].as_str()) == Some("r"))
        .collect();
    if reads.is_empty() {
        return false;
    }
    let Value::List(m) = &mut mops[reads[rng.random_range(0..reads.len())]] else {
        return false;
    };
    let other = Value::Int(rng.random_range(1..4));
    match (d, &mut m[2]) {
        (Datatype::ListAppend, Value::List(l)) => match rng.random_range(0..3) {
            0 if !l.is_empty() => {
                l.pop();
            }
            1 if l.len() >= 2 => l.swap(0, 1),
            _ => l.push(other),
        },
        (Datatype::ListAppend, v) => *v = Value::List(vec![other]),
        (Datatype::RwRegister, v) => {
            *v = if rng.random_bool(0.2) {
                Value::Nil
            } else {
                other
            }
        }
    }
    true
}

fn small(seed: u64, d: Datatype) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    txn_history(&TxnSynthOptions {
        txns: rng.random_range(2..=10),
        datatype: d,
        keys: rng.random_range(1..=4),
        writes_per_key: 100,
        processes: rng.random_range(1..=4),
        max_mops: 3,
        failed: 0.1,
        unknown: 0.15,
        stale_reads: 0.3,
        seed,
    })
}

/// List-append inference is exact: invalid exactly when no serial order replays the reads.
#[test]
fn list_append_agrees_with_brute_force() {
    let (mut invalid, mut total) = (0, 0);
    for seed in 0..20_000u64 {
        let mut h = small(seed, Datatype::ListAppend);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        if seed % 2 == 1 {
            corrupt(&mut h, &mut rng, Datatype::ListAppend);
        }
        for (c, rt) in [
            (Consistency::Serializable, false),
            (Consistency::StrictSerializable, true),
        ] {
            let (v, kinds) = verdict(&h, Datatype::ListAppend, c);
            let b = brute(&h, rt);
            assert_eq!(
                v == VerdictName::Invalid,
                !b,
                "seed {seed}, {c}: checker {v:?} {kinds:?}, brute force serializable: {b}\n{}",
                ferret_checkers::testing::edn_text(&h, false)
            );
            total += 1;
            invalid += (!b) as usize;
        }
    }
    // Both verdicts must be well represented for the agreement to mean anything.
    assert!(
        invalid > total / 5 && invalid < total * 4 / 5,
        "{invalid} of {total} invalid"
    );
}

/// Register inference is sound: whatever it calls invalid, no serial order explains.
#[test]
fn rw_register_is_sound_against_brute_force() {
    let (mut caught, mut invalid) = (0, 0);
    for seed in 0..20_000u64 {
        let mut h = small(seed, Datatype::RwRegister);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        if seed % 2 == 1 {
            corrupt(&mut h, &mut rng, Datatype::RwRegister);
        }
        for (c, rt) in [
            (Consistency::Serializable, false),
            (Consistency::StrictSerializable, true),
        ] {
            let (v, kinds) = verdict(&h, Datatype::RwRegister, c);
            let b = brute(&h, rt);
            if v == VerdictName::Invalid {
                assert!(
                    !b,
                    "seed {seed}, {c}: checker found {kinds:?}, but a serial order exists\n{}",
                    ferret_checkers::testing::edn_text(&h, false)
                );
                caught += 1;
            }
            invalid += (!b) as usize;
        }
    }
    // The weaker inference still catches most of what is there.
    assert!(caught * 2 > invalid, "caught {caught} of {invalid}");
}

/// A transaction of a pattern: its process, and micro-ops as `(f, key, value)`.
type Mop = (&'static str, &'static str, Value);

fn l(xs: &[i64]) -> Value {
    Value::List(xs.iter().map(|&x| Value::Int(x)).collect())
}

fn mops(ms: &[Mop], results: bool) -> Value {
    Value::List(
        ms.iter()
            .map(|(f, k, v)| {
                let v = if *f == "r" && !results {
                    Value::Nil
                } else {
                    v.clone()
                };
                Value::List(vec![Value::Str((*f).into()), Value::Str((*k).into()), v])
            })
            .collect(),
    )
}

/// A pattern: transactions (process, outcome, micro-ops), and the order of their events as
/// (transaction, is completion).
struct Pattern {
    name: &'static str,
    datatype: Datatype,
    txns: Vec<(i64, EventType, Vec<Mop>)>,
    order: Vec<(usize, bool)>,
    /// Under which model which anomaly must be named; `None`: the history must be valid.
    expect: Vec<(Consistency, Option<&'static str>)>,
}

fn seq(n: usize) -> Vec<(usize, bool)> {
    (0..n).flat_map(|i| [(i, false), (i, true)]).collect()
}

fn concurrent(n: usize) -> Vec<(usize, bool)> {
    (0..n)
        .map(|i| (i, false))
        .chain((0..n).map(|i| (i, true)))
        .collect()
}

fn patterns() -> Vec<Pattern> {
    use Consistency::*;
    use EventType::{Fail, Ok};
    let a = |k, v| ("append", k, Value::Int(v));
    let r = |k, v: &[i64]| ("r", k, l(v));
    let w = |k, v| ("w", k, Value::Int(v));
    let rr = |k, v: Option<i64>| ("r", k, v.map_or(Value::Nil, Value::Int));
    let la = Datatype::ListAppend;
    let rw = Datatype::RwRegister;
    vec![
        Pattern {
            name: "G0",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1), a("y", 1)]),
                (902, Ok, vec![a("x", 2), a("y", 2)]),
                (903, Ok, vec![r("x", &[1, 2]), r("y", &[2, 1])]),
            ],
            order: concurrent(3),
            expect: vec![(ReadUncommitted, Some("G0")), (Serializable, Some("G0"))],
        },
        Pattern {
            name: "G1c",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1), r("y", &[1])]),
                (902, Ok, vec![a("y", 1), r("x", &[1])]),
            ],
            order: concurrent(2),
            expect: vec![(ReadCommitted, Some("G1c")), (ReadUncommitted, None)],
        },
        Pattern {
            name: "G-single",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1), a("y", 1)]),
                (902, Ok, vec![r("x", &[1]), r("y", &[])]),
            ],
            order: concurrent(2),
            expect: vec![
                (SnapshotIsolation, Some("G-single")),
                (Serializable, Some("G-single")),
                (ReadCommitted, None),
            ],
        },
        Pattern {
            name: "G-nonadjacent",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1)]),
                (902, Ok, vec![r("x", &[1]), r("y", &[])]),
                (903, Ok, vec![a("y", 1)]),
                (904, Ok, vec![r("y", &[1]), r("x", &[])]),
            ],
            order: concurrent(4),
            expect: vec![
                (SnapshotIsolation, Some("G-nonadjacent")),
                (RepeatableRead, Some("G-nonadjacent")),
            ],
        },
        Pattern {
            name: "G2-item",
            datatype: la,
            txns: vec![
                (901, Ok, vec![r("x", &[]), r("y", &[]), a("x", 1)]),
                (902, Ok, vec![r("x", &[]), r("y", &[]), a("y", 1)]),
            ],
            order: concurrent(2),
            expect: vec![(Serializable, Some("G2-item")), (SnapshotIsolation, None)],
        },
        Pattern {
            name: "G1a",
            datatype: la,
            txns: vec![(901, Fail, vec![a("x", 1)]), (902, Ok, vec![r("x", &[1])])],
            order: seq(2),
            expect: vec![(ReadCommitted, Some("G1a")), (ReadUncommitted, None)],
        },
        Pattern {
            name: "G1b",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1), a("x", 2)]),
                (902, Ok, vec![r("x", &[1])]),
            ],
            order: concurrent(2),
            expect: vec![(ReadCommitted, Some("G1b"))],
        },
        Pattern {
            name: "dirty update",
            datatype: la,
            txns: vec![
                (901, Fail, vec![a("x", 1)]),
                (902, Ok, vec![a("x", 2)]),
                (903, Ok, vec![r("x", &[1, 2])]),
            ],
            order: seq(3),
            expect: vec![(ReadCommitted, Some("dirty-update"))],
        },
        Pattern {
            name: "internal",
            datatype: la,
            txns: vec![(901, Ok, vec![a("x", 1), r("x", &[])])],
            order: seq(1),
            expect: vec![(Serializable, Some("internal")), (RepeatableRead, None)],
        },
        Pattern {
            name: "incompatible order",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 1)]),
                (902, Ok, vec![a("x", 2)]),
                (903, Ok, vec![r("x", &[1, 2])]),
                (904, Ok, vec![r("x", &[2])]),
            ],
            order: concurrent(4),
            expect: vec![(ReadCommitted, Some("incompatible-order"))],
        },
        Pattern {
            name: "duplicates",
            datatype: la,
            txns: vec![(901, Ok, vec![a("x", 1)]), (902, Ok, vec![r("x", &[1, 1])])],
            order: seq(2),
            expect: vec![(ReadUncommitted, Some("duplicate-elements"))],
        },
        Pattern {
            name: "garbage",
            datatype: la,
            txns: vec![(901, Ok, vec![r("x", &[7])])],
            order: seq(1),
            expect: vec![(ReadUncommitted, Some("garbage-read"))],
        },
        Pattern {
            name: "G-single-realtime",
            datatype: la,
            txns: vec![(901, Ok, vec![a("x", 1)]), (902, Ok, vec![r("x", &[])])],
            order: seq(2),
            expect: vec![
                (StrictSerializable, Some("G-single-realtime")),
                (Serializable, None),
            ],
        },
        Pattern {
            name: "G-single-process",
            datatype: la,
            txns: vec![(901, Ok, vec![a("x", 1)]), (901, Ok, vec![r("x", &[])])],
            order: seq(2),
            expect: vec![
                (StrictSerializable, Some("G-single-process")),
                (Serializable, None),
            ],
        },
        Pattern {
            name: "G1c-realtime",
            datatype: la,
            txns: vec![(901, Ok, vec![r("y", &[1])]), (902, Ok, vec![a("y", 1)])],
            order: seq(2),
            expect: vec![
                (StrictSerializable, Some("G1c-realtime")),
                (Serializable, None),
            ],
        },
        Pattern {
            name: "G0-realtime",
            datatype: la,
            txns: vec![
                (901, Ok, vec![a("x", 2)]),
                (902, Ok, vec![a("x", 1)]),
                (903, Ok, vec![r("x", &[1, 2])]),
            ],
            order: seq(3),
            expect: vec![
                (StrictSerializable, Some("G0-realtime")),
                (Serializable, None),
            ],
        },
        Pattern {
            name: "register G1a",
            datatype: rw,
            txns: vec![
                (901, Fail, vec![w("x", 1)]),
                (902, Ok, vec![rr("x", Some(1))]),
            ],
            order: seq(2),
            expect: vec![(ReadCommitted, Some("G1a"))],
        },
        Pattern {
            name: "register G1b",
            datatype: rw,
            txns: vec![
                (901, Ok, vec![w("x", 1), w("x", 2)]),
                (902, Ok, vec![rr("x", Some(1))]),
            ],
            order: concurrent(2),
            expect: vec![(ReadCommitted, Some("G1b"))],
        },
        Pattern {
            name: "register internal",
            datatype: rw,
            txns: vec![(901, Ok, vec![w("x", 1), rr("x", None)])],
            order: seq(1),
            expect: vec![(Serializable, Some("internal"))],
        },
        Pattern {
            name: "register garbage",
            datatype: rw,
            txns: vec![(901, Ok, vec![rr("x", Some(5))])],
            order: seq(1),
            expect: vec![(ReadUncommitted, Some("garbage-read"))],
        },
        Pattern {
            name: "register G-single",
            datatype: rw,
            txns: vec![
                (901, Ok, vec![w("x", 1), w("y", 1)]),
                (902, Ok, vec![rr("x", Some(1)), rr("y", None)]),
            ],
            order: concurrent(2),
            expect: vec![(SnapshotIsolation, Some("G-single"))],
        },
        Pattern {
            name: "register G2-item",
            datatype: rw,
            txns: vec![
                (901, Ok, vec![rr("x", None), rr("y", None), w("x", 1)]),
                (902, Ok, vec![rr("x", None), rr("y", None), w("y", 1)]),
            ],
            order: concurrent(2),
            expect: vec![(Serializable, Some("G2-item")), (SnapshotIsolation, None)],
        },
        Pattern {
            name: "register cyclic versions",
            datatype: rw,
            txns: vec![
                (901, Ok, vec![rr("x", Some(1)), w("x", 2)]),
                (902, Ok, vec![rr("x", Some(2)), w("x", 1)]),
            ],
            order: concurrent(2),
            expect: vec![(ReadUncommitted, Some("cyclic-versions"))],
        },
    ]
}

/// A valid random history with the pattern's events inserted at a random point.
fn inject(p: &Pattern, seed: u64) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = txn_history(&TxnSynthOptions {
        txns: rng.random_range(0..=6),
        datatype: p.datatype,
        keys: 2,
        processes: 3,
        failed: 0.1,
        unknown: 0.1,
        seed,
        ..TxnSynthOptions::default()
    });
    let at = rng.random_range(0..=h.events.len());
    let events: Vec<Event> = p
        .order
        .iter()
        .map(|&(t, done)| {
            let (proc_, outcome, ms) = &p.txns[t];
            Event {
                index: 0,
                time: None,
                process: Process::Client(*proc_),
                kind: if done { *outcome } else { EventType::Invoke },
                f: "txn".into(),
                key: None,
                value: mops(ms, done && *outcome == EventType::Ok),
                error: None,
                node: None,
                location: Location::default(),
            }
        })
        .collect();
    h.events.splice(at..at, events);
    for (i, e) in h.events.iter_mut().enumerate() {
        e.index = i as u64;
        e.time = Some(i as i64);
        e.location.line = i as u64 + 1;
    }
    h
}

/// Every anomaly class, injected into valid histories, is named under the models that forbid
/// it, and not held against those that allow it; the brute force agrees where it applies.
#[test]
fn every_anomaly_class_is_caught_when_injected() {
    let mut named = std::collections::BTreeSet::new();
    for p in patterns() {
        for seed in 0..40u64 {
            let h = inject(&p, seed);
            for &(c, want) in &p.expect {
                let (v, kinds) = verdict(&h, p.datatype, c);
                match want {
                    Some(k) => {
                        assert!(
                            kinds.iter().any(|x| x == k),
                            "{}, seed {seed}, {c}: expected {k}, got {v:?} {kinds:?}\n{}",
                            p.name,
                            ferret_checkers::testing::edn_text(&h, false)
                        );
                        named.insert(k);
                    }
                    None => assert_eq!(
                        v,
                        VerdictName::Valid,
                        "{}, seed {seed}, {c}: allowed, yet {kinds:?}",
                        p.name
                    ),
                }
                let rt = match c {
                    Consistency::StrictSerializable => Some(true),
                    Consistency::Serializable => Some(false),
                    _ => None,
                };
                if let Some(rt) = rt {
                    assert_eq!(
                        brute(&h, rt),
                        want.is_none(),
                        "{}, seed {seed}, {c}: the brute force disagrees",
                        p.name
                    );
                }
            }
        }
    }
    assert_eq!(named.len(), 17, "classes caught: {named:?}");
}
