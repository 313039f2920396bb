//! The lease, lock-set and watch checkers on hand-written histories, and the first two against
//! simulated correct servers (no false alarm, whatever the timing).

use ferret_checkers::format::read_jsonl;
use ferret_checkers::{check, CheckOptions, ModelName, Report, VerdictName};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// (process, type, f, key, value as JSON, time in ms)
type Line<'a> = (i64, &'a str, &'a str, &'a str, &'a str, i64);

fn text(lines: &[Line]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, (p, t, f, k, v, ms))| {
            format!(
                "{{\"index\":{i},\"time\":{},\"process\":{p},\"type\":\"{t}\",\"f\":\"{f}\",\"key\":\"{k}\",\"value\":{v}}}\n",
                ms * 1_000_000
            )
        })
        .collect()
}

fn run(model: ModelName, history: &str) -> Report {
    let h = read_jsonl(Path::new("test.jsonl"), history.as_bytes()).expect("history reads");
    let opts = CheckOptions {
        model: Some(model),
        threads: 1,
        ..CheckOptions::default()
    };
    check(&h, &opts).expect("checks")
}

/// The report of one key, by name.
fn key<'r>(r: &'r Report, name: &str) -> &'r ferret_checkers::verdict::KeyReport {
    r.keys
        .iter()
        .find(|k| k.key.as_str() == Some(name))
        .unwrap_or_else(|| panic!("no key {name}"))
}

fn kinds(r: &Report) -> Vec<String> {
    r.keys
        .iter()
        .flat_map(|k| k.anomalies.iter().map(|a| a.kind.clone()))
        .collect()
}

/// Grant (TTL 3 s) at 0, put at 10, a keepalive at 1000: the lease is proven alive until 4000.
fn lease_prefix() -> Vec<Line<'static>> {
    vec![
        (0, "invoke", "grant", "a", "3", 0),
        (0, "ok", "grant", "a", "[7, 3]", 5),
        (0, "invoke", "put", "a", "7", 10),
        (0, "ok", "put", "a", "7", 15),
        (0, "invoke", "keepalive", "a", "7", 1000),
        (0, "ok", "keepalive", "a", "3", 1005),
        (0, "invoke", "read", "a", "null", 1500),
        (0, "ok", "read", "a", "7", 1505),
    ]
}

#[test]
fn lease_valid_history_and_late_expiry() {
    let mut h = lease_prefix();
    // Gone after the proven deadline (4000): late is allowed, early is not.
    h.push((0, "invoke", "read", "a", "null", 4100));
    h.push((0, "ok", "read", "a", "null", 4105));
    h.push((0, "invoke", "revoke", "a", "7", 4200));
    h.push((0, "ok", "revoke", "a", "false", 4205));
    let r = run(ModelName::Lease, &text(&h));
    assert_eq!(r.verdict, VerdictName::Valid, "{:?}", kinds(&r));
    assert_eq!(r.model, "lease");
}

#[test]
fn lease_key_gone_before_the_deadline_is_premature() {
    let mut h = lease_prefix();
    h.push((0, "invoke", "read", "a", "null", 2000));
    h.push((0, "ok", "read", "a", "null", 2010));
    let r = run(ModelName::Lease, &text(&h));
    assert_eq!(r.verdict, VerdictName::Invalid);
    let a = &r.keys[0].anomalies[0];
    assert_eq!(a.kind, "premature-expiry");
    assert!(a.summary.contains("key \"a\""), "{}", a.summary);
    // Names the renewal that proves the lease alive, and its deadline.
    assert!(a.summary.contains("keepalive 7"), "{}", a.summary);
    assert!(a.summary.contains("4.000 s"), "{}", a.summary);
    assert!(a.calls.iter().any(|c| c.f == "keepalive") && a.calls.iter().any(|c| c.f == "read"));
}

#[test]
fn lease_found_gone_by_a_keepalive_or_revoke_is_premature() {
    let mut h = lease_prefix();
    h.push((0, "invoke", "keepalive", "a", "7", 2000));
    h.push((0, "ok", "keepalive", "a", "0", 2005));
    assert_eq!(
        kinds(&run(ModelName::Lease, &text(&h))),
        ["premature-expiry"]
    );
    let mut h = lease_prefix();
    h.push((0, "invoke", "revoke", "a", "7", 2000));
    h.push((0, "ok", "revoke", "a", "false", 2005));
    assert_eq!(
        kinds(&run(ModelName::Lease, &text(&h))),
        ["premature-expiry"]
    );
}

#[test]
fn lease_unknown_outcomes_at_the_edges() {
    // A revoke of unknown outcome invoked before the read completed may explain the absence.
    let mut h = lease_prefix();
    h.push((1, "invoke", "revoke", "a", "7", 1990));
    h.push((0, "invoke", "read", "a", "null", 2000));
    h.push((0, "ok", "read", "a", "null", 2010));
    h.push((1, "info", "revoke", "a", "7", 3000));
    assert_eq!(run(ModelName::Lease, &text(&h)).verdict, VerdictName::Valid);
    // ... but not one invoked only after the read returned.
    let mut h = lease_prefix();
    h.push((0, "invoke", "read", "a", "null", 2000));
    h.push((0, "ok", "read", "a", "null", 2010));
    h.push((1, "invoke", "revoke", "a", "7", 2020));
    h.push((1, "info", "revoke", "a", "7", 3000));
    assert_eq!(
        run(ModelName::Lease, &text(&h)).verdict,
        VerdictName::Invalid
    );
    // A put of unknown outcome may never have happened: its key's absence proves nothing.
    let h = [
        (0, "invoke", "grant", "b", "3", 0),
        (0, "ok", "grant", "b", "[8, 3]", 5),
        (0, "invoke", "put", "b", "8", 10),
        (0, "info", "put", "b", "8", 1010),
        (1, "invoke", "read", "b", "null", 1100),
        (1, "ok", "read", "b", "null", 1105),
    ];
    assert_eq!(run(ModelName::Lease, &text(&h)).verdict, VerdictName::Valid);
    // A keepalive of unknown outcome proves nothing either.
    let h = [
        (0, "invoke", "grant", "c", "3", 0),
        (0, "ok", "grant", "c", "[9, 3]", 5),
        (0, "invoke", "put", "c", "9", 10),
        (0, "ok", "put", "c", "9", 15),
        (0, "invoke", "keepalive", "c", "9", 2000),
        (0, "info", "keepalive", "c", "9", 3000),
        (1, "invoke", "read", "c", "null", 3100),
        (1, "ok", "read", "c", "null", 3105),
    ];
    assert_eq!(run(ModelName::Lease, &text(&h)).verdict, VerdictName::Valid);
}

#[test]
fn lease_after_a_revoke_nothing_remains() {
    let mut h = lease_prefix();
    h.push((0, "invoke", "revoke", "a", "7", 2000));
    h.push((0, "ok", "revoke", "a", "true", 2005));
    h.push((0, "invoke", "read", "a", "null", 2100));
    h.push((0, "ok", "read", "a", "7", 2105));
    h.push((0, "invoke", "keepalive", "a", "7", 2200));
    h.push((0, "ok", "keepalive", "a", "3", 2205));
    let mut k = kinds(&run(ModelName::Lease, &text(&h)));
    k.sort();
    assert_eq!(k, ["renewed-after-revoke", "revoked-key-present"]);
    // A read concurrent with the revoke may see the key.
    let mut h = lease_prefix();
    h.push((1, "invoke", "read", "a", "null", 1999));
    h.push((0, "invoke", "revoke", "a", "7", 2000));
    h.push((0, "ok", "revoke", "a", "true", 2005));
    h.push((1, "ok", "read", "a", "7", 2006));
    assert_eq!(run(ModelName::Lease, &text(&h)).verdict, VerdictName::Valid);
}

#[test]
fn lease_history_without_times_is_refused() {
    let h = "{\"process\":0,\"type\":\"invoke\",\"f\":\"grant\",\"key\":\"a\",\"value\":3}\n\
             {\"process\":0,\"type\":\"ok\",\"f\":\"grant\",\"key\":\"a\",\"value\":[1,3]}\n";
    let h = read_jsonl(Path::new("t.jsonl"), h.as_bytes()).unwrap();
    let opts = CheckOptions {
        model: Some(ModelName::Lease),
        ..CheckOptions::default()
    };
    let e = check(&h, &opts).unwrap_err().to_string();
    assert!(e.contains("time"), "{e}");
}

/// A correct lease server, simulated: each op takes effect at a random moment within its
/// interval; a lease expires at a random moment at or after its last renewal's effect + TTL;
/// reads see exactly that. Whatever the timing, the checker never cries wolf.
#[test]
fn lease_simulated_correct_server_is_always_valid() {
    for seed in 0..300 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ttl_ms = 1000;
        let mut t = 0i64;
        let mut lines: Vec<(i64, String)> = Vec::new();
        let mut ops = 0i64;
        let mut push = |time: i64, s: String| lines.push((time, s));
        let ev = |p: i64, ty: &str, f: &str, v: &str, ms: i64| {
            format!(
                "{{\"time\":{},\"process\":{p},\"type\":\"{ty}\",\"f\":\"{f}\",\"key\":\"k\",\"value\":{v}}}",
                ms * 1_000_000
            )
        };
        // grant and put
        push(t, ev(0, "invoke", "grant", "1", t));
        let effect = t + rng.random_range(0..20);
        let mut expiry = effect + ttl_ms + rng.random_range(0..500);
        t = effect + rng.random_range(0..20);
        push(t, ev(0, "ok", "grant", "[5, 1]", t));
        push(t, ev(0, "invoke", "put", "5", t));
        let put_effect = t + rng.random_range(0..20);
        t = put_effect + rng.random_range(0..20);
        push(t, ev(0, "ok", "put", "5", t));
        let mut revoked_at = i64::MAX;
        for _ in 0..rng.random_range(5..30) {
            t += rng.random_range(0..400);
            let inv = t;
            let effect = inv + rng.random_range(0..50);
            let done = effect + rng.random_range(0..50);
            let alive = effect < expiry && effect < revoked_at;
            let roll = rng.random_range(0..10);
            let (f, req, reply) = if roll < 4 {
                let r = if alive {
                    expiry = expiry.max(effect + ttl_ms + rng.random_range(0..300));
                    "1"
                } else {
                    "0"
                };
                ("keepalive", "5", r.to_string())
            } else if roll < 9 {
                let present = alive && effect >= put_effect;
                (
                    "read",
                    "null",
                    if present { "5".into() } else { "null".into() },
                )
            } else {
                let r = if alive { "true" } else { "false" };
                if alive {
                    revoked_at = effect;
                }
                ("revoke", "5", r.to_string())
            };
            // A process of its own per op, so ops may overlap in time.
            ops += 1;
            let p = 10 + ops;
            push(inv, ev(p, "invoke", f, req, inv));
            push(done, ev(p, "ok", f, &reply, done));
            t = inv;
        }
        // Events in time order (a stable sort keeps each invoke before its completion).
        lines.sort_by_key(|l| l.0);
        let history: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
        let r = run(ModelName::Lease, &history);
        assert_eq!(
            r.verdict,
            VerdictName::Valid,
            "seed {seed}: {:?}\n{history}",
            kinds(&r)
        );
    }
}

/// acquire under lease `lease` (TTL 2 s, renewed `renewed` ms after the invocation).
fn acquire(p: i64, lease: i64, inv: i64, done: i64, renewed: i64) -> Vec<(i64, String, i64)> {
    vec![
        (p, "invoke acquire lock 2".into(), inv),
        (
            p,
            format!("ok acquire lock [\"lock/{lease}\", {lease}, 2, {renewed}]"),
            done,
        ),
    ]
}

fn op(p: i64, ty_f_key_value: &str, ms: i64) -> (i64, String, i64) {
    (p, ty_f_key_value.into(), ms)
}

fn lock_text(events: &[(i64, String, i64)]) -> String {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| e.2);
    sorted
        .iter()
        .map(|(p, s, ms)| {
            let mut it = s.splitn(4, ' ');
            let (ty, f, key, v) = (
                it.next().unwrap(),
                it.next().unwrap(),
                it.next().unwrap(),
                it.next().unwrap_or("null"),
            );
            format!(
                "{{\"time\":{},\"process\":{p},\"type\":\"{ty}\",\"f\":\"{f}\",\"key\":\"{key}\",\"value\":{v}}}\n",
                ms * 1_000_000
            )
        })
        .collect()
}

/// One client's critical section: acquire, read `before`, add `e`, release.
fn section(p: i64, lease: i64, at: i64, before: &[i64], e: i64) -> Vec<(i64, String, i64)> {
    let read = format!("{before:?}");
    let mut written = before.to_vec();
    written.push(e);
    let mut v = acquire(p, lease, at, at + 10, 0);
    v.push(op(p, "invoke read set", at + 20));
    v.push(op(p, &format!("ok read set {read}"), at + 30));
    v.push(op(
        p,
        &format!("invoke add set [{e}, {written:?}]"),
        at + 40,
    ));
    v.push(op(p, &format!("ok add set [{e}, {written:?}]"), at + 50));
    v.push(op(
        p,
        &format!("invoke release lock [\"lock/{lease}\", {lease}]"),
        at + 60,
    ));
    v.push(op(
        p,
        &format!("ok release lock [\"lock/{lease}\", {lease}]"),
        at + 70,
    ));
    v
}

#[test]
fn lock_set_sequential_sections_are_valid() {
    let mut h = section(0, 1, 0, &[], 10);
    h.extend(section(1, 2, 100, &[10], 20));
    h.extend(section(0, 3, 200, &[10, 20], 11));
    h.push(op(5, "invoke read set", 300));
    h.push(op(5, "ok read set [10, 20, 11]", 305));
    let r = run(ModelName::LockSet, &lock_text(&h));
    assert_eq!(r.verdict, VerdictName::Valid, "{:?}", kinds(&r));
    assert_eq!(r.keys.len(), 2, "the set and the lock");
}

#[test]
fn lock_set_overlapping_sections_lose_an_add() {
    // Client 1 reads before client 0 writes, and writes after: 10 is lost.
    let mut h = section(0, 1, 0, &[], 10);
    let mut late = section(1, 2, 15, &[], 20);
    // Client 1's lease was not proven alive past its acquire: the lock itself may be fine.
    late[1] = op(1, "ok acquire lock [\"lock/2\", 2, 2, 0]", 25);
    h.extend(late);
    h.push(op(5, "invoke read set", 300));
    h.push(op(5, "ok read set [20]", 305));
    let r = run(ModelName::LockSet, &lock_text(&h));
    assert_eq!(r.verdict, VerdictName::Invalid);
    let set = key(&r, "set");
    let a = &set.anomalies[0];
    assert_eq!(a.kind, "lost-add");
    assert!(a.summary.contains("element 10 was lost"), "{}", a.summary);
    assert!(
        a.summary.contains("add [20"),
        "the overwriting write: {}",
        a.summary
    );
    // Both acquires overlap while both leases are proven alive (2 s TTL): the lock is invalid.
    let lock = key(&r, "lock");
    assert_eq!(lock.verdict, VerdictName::Invalid);
    assert!(lock
        .explanation
        .as_ref()
        .unwrap()
        .summary
        .contains("held twice"));
}

#[test]
fn lost_add_names_a_lock_returned_after_its_lease_deadline() {
    // Client 1 waited 3 s for the lock (its lease proven alive only until 2 s), then wrote over
    // client 0's add: the lock itself is valid (its lease may have expired), the add is lost,
    // and the report says client 1 wrote with a lease no longer proven alive.
    let mut h = section(0, 1, 2955, &[], 10);
    let mut late = section(1, 2, 0, &[], 20);
    late[1] = op(1, "ok acquire lock [\"lock/2\", 2, 2, 0]", 2950);
    for e in late.iter_mut().skip(2) {
        e.2 += 2970;
    }
    h.extend(late);
    h.push(op(5, "invoke read set", 4000));
    h.push(op(5, "ok read set [20]", 4005));
    let r = run(ModelName::LockSet, &lock_text(&h));
    let set = key(&r, "set");
    let a = &set.anomalies[0];
    assert_eq!(a.kind, "lost-add");
    assert!(
        a.summary.contains("returned the lock only after that"),
        "{}",
        a.summary
    );
    assert!(a.summary.contains("(2.000 s;"), "{}", a.summary);
    let lock = key(&r, "lock");
    assert_eq!(lock.verdict, VerdictName::Valid);
}

#[test]
fn lock_released_by_expiry_lets_another_in() {
    // Client 0 acquires at 0 (lease proven alive until 2 s) and never releases; client 1
    // acquires at 3 s: the lease may have expired, so the lock is fine.
    let mut h = acquire(0, 1, 0, 10, 0);
    h.extend(acquire(1, 2, 2500, 3000, 0));
    let r = run(ModelName::LockSet, &lock_text(&h));
    let lock = key(&r, "lock");
    assert_eq!(lock.verdict, VerdictName::Valid);
    // ... but at 1 s, while client 0's lease is provably alive and unreleased, it is not.
    let mut h = acquire(0, 1, 0, 10, 0);
    h.extend(acquire(1, 2, 500, 1000, 0));
    let r = run(ModelName::LockSet, &lock_text(&h));
    let lock = key(&r, "lock");
    assert_eq!(lock.verdict, VerdictName::Invalid);
    // An acquire of unknown outcome constrains nothing.
    let mut h = acquire(0, 1, 0, 10, 0);
    h.push(op(1, "invoke acquire lock 2", 500));
    h.push(op(1, "info acquire lock 2", 1000));
    let r = run(ModelName::LockSet, &lock_text(&h));
    assert_eq!(r.keys[0].verdict, VerdictName::Valid);
}

#[test]
fn lock_set_unknown_outcomes_and_strangers() {
    // An add of unknown outcome may be missing, or present.
    let mut h = section(0, 1, 0, &[], 10);
    h.push(op(1, "invoke add set [20, [10, 20]]", 100));
    h.push(op(1, "info add set [20, [10, 20]]", 200));
    h.push(op(5, "invoke read set", 300));
    h.push(op(5, "ok read set [10]", 305));
    assert_eq!(
        run(ModelName::LockSet, &lock_text(&h)).verdict,
        VerdictName::Valid
    );
    // An element nobody added is an anomaly.
    let mut h = section(0, 1, 0, &[], 10);
    h.push(op(5, "invoke read set", 300));
    h.push(op(5, "ok read set [10, 99]", 305));
    assert_eq!(
        kinds(&run(ModelName::LockSet, &lock_text(&h))),
        ["unexpected-element"]
    );
    // No read after the acknowledged adds: nothing is proven, the set's verdict is unknown.
    let h = section(0, 1, 0, &[], 10);
    let r = run(ModelName::LockSet, &lock_text(&h));
    let set = key(&r, "set");
    assert_eq!(set.verdict, VerdictName::Unknown);
    assert!(set.reason.as_ref().unwrap().contains("no read"));
}

/// A correct lock service and set, simulated: sections never overlap, each add read the set
/// as the previous one left it. Always valid.
#[test]
fn lock_set_simulated_correct_service_is_always_valid() {
    for seed in 0..200 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut h = Vec::new();
        let mut set: Vec<i64> = Vec::new();
        let mut t = 0;
        for i in 0..rng.random_range(1..15) {
            let p = rng.random_range(0..4);
            let e = 100 + i;
            h.extend(section(p * 100 + i, 1000 + i, t, &set, e));
            // Some adds are left of unknown outcome after they took effect.
            set.push(e);
            t += 80 + rng.random_range(0..100);
        }
        h.push(op(999, "invoke read set", t + 10));
        h.push(op(999, &format!("ok read set {set:?}"), t + 20));
        let r = run(ModelName::LockSet, &lock_text(&h));
        assert_eq!(
            r.verdict,
            VerdictName::Valid,
            "seed {seed}: {:?}",
            kinds(&r)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The watch checker.

/// A watch by `p` from `from`, invoked at `ms`, delivering `events` as (rev, key, value).
fn watch(p: i64, from: i64, ms: i64, events: &[(i64, &str, i64)]) -> Vec<(i64, String, i64)> {
    let evs: Vec<String> = events
        .iter()
        .map(|(r, k, v)| format!("[{r}, \"{k}\", {v}, \"put\"]"))
        .collect();
    let last = events.last().map_or(0, |e| e.0);
    vec![
        (p, format!("invoke watch watch/ [{from}, 1000]"), ms),
        (
            p,
            format!("ok watch watch/ [[{}], {last}, \"span\"]", evs.join(", ")),
            ms + 10,
        ),
    ]
}

fn writes(values: &[(&str, i64)]) -> Vec<(i64, String, i64)> {
    values
        .iter()
        .enumerate()
        .flat_map(|(i, (k, v))| {
            let p = 100 + i as i64;
            vec![
                (p, format!("invoke write {k} {v}"), i as i64),
                (p, format!("ok write {k} {v}"), i as i64 + 1),
            ]
        })
        .collect()
}

fn watch_report(events: Vec<(i64, String, i64)>) -> Report {
    run(ModelName::Watch, &lock_text(&events))
}

const W: [(&str, i64); 4] = [("a", 1), ("b", 2), ("a", 3), ("b", 4)];

#[test]
fn watch_clean_history_is_valid() {
    let mut h = writes(&W);
    h.extend(watch(0, 1, 100, &[(2, "a", 1), (3, "b", 2)]));
    h.extend(watch(0, 4, 200, &[(4, "a", 3), (6, "b", 4)]));
    h.extend(watch(
        1,
        1,
        150,
        &[(2, "a", 1), (3, "b", 2), (4, "a", 3), (6, "b", 4)],
    ));
    h.push(op(9, "invoke read-revision a", 300));
    h.push(op(9, "ok read-revision a [3, 4, 6]", 301));
    let r = watch_report(h);
    assert_eq!(r.verdict, VerdictName::Valid, "{:?}", kinds(&r));
    assert_eq!(r.model, "watch");
}

#[test]
fn watch_anomalies_are_each_flagged() {
    let base = || writes(&W);
    let case = |extra: Vec<Vec<(i64, String, i64)>>| {
        let mut h = base();
        for e in extra {
            h.extend(e);
        }
        kinds(&watch_report(h))
    };
    // Revision 3 delivered twice across a resume.
    assert_eq!(
        case(vec![
            watch(0, 1, 100, &[(2, "a", 1), (3, "b", 2)]),
            watch(0, 3, 200, &[(3, "b", 2), (4, "a", 3)]),
        ]),
        ["duplicate"]
    );
    // Back in time: revision 2 after 4.
    assert_eq!(
        case(vec![watch(
            0,
            1,
            100,
            &[(3, "b", 2), (4, "a", 3), (2, "a", 1)]
        )]),
        ["out-of-order"]
    );
    // Watcher 0 skipped revision 3, which watcher 1 saw (and whose write it must have seen).
    let mut k = case(vec![
        watch(0, 1, 100, &[(2, "a", 1), (4, "a", 3)]),
        watch(1, 1, 100, &[(2, "a", 1), (3, "b", 2), (4, "a", 3)]),
    ]);
    k.sort();
    assert_eq!(k, ["gap", "lost-write"]);
    // Two watchers disagree on revision 3's value; and one of the two was never written.
    let mut k = case(vec![
        watch(0, 1, 100, &[(3, "b", 2)]),
        watch(1, 1, 100, &[(3, "b", 99)]),
    ]);
    k.sort();
    assert_eq!(k, ["disagreement", "phantom"]);
    // An acknowledged write (value 2, written between 1 and 3) that no watcher delivered.
    let seq = [("a", 1), ("b", 2), ("a", 3)];
    let mut h: Vec<(i64, String, i64)> = seq
        .iter()
        .enumerate()
        .flat_map(|(i, (k, v))| {
            let (p, t) = (100 + i as i64, 10 * i as i64);
            vec![
                (p, format!("invoke write {k} {v}"), t),
                (p, format!("ok write {k} {v}"), t + 1),
            ]
        })
        .collect();
    h.extend(watch(0, 1, 100, &[(2, "a", 1), (4, "a", 3)]));
    assert_eq!(kinds(&watch_report(h.clone())), ["lost-write"]);
    // Not when the earlier write's outcome is unknown: it may have landed after value 2.
    h[1] = (100, "info write a 1".into(), 1);
    assert!(kinds(&watch_report(h)).is_empty());
    // A final read that the events contradict.
    let mut h = base();
    h.extend(watch(0, 1, 100, &[(2, "a", 1), (3, "b", 2), (4, "a", 3)]));
    h.push(op(9, "invoke read-revision a", 300));
    h.push(op(9, "ok read-revision a [1, 2, 6]", 301));
    assert_eq!(kinds(&watch_report(h)), ["read-mismatch"]);
}

#[test]
fn watch_gap_is_excused_by_a_reported_compaction() {
    let mut h = writes(&W);
    h.extend(watch(1, 1, 100, &[(2, "a", 1), (3, "b", 2), (4, "a", 3)]));
    h.push(op(0, "invoke watch watch/ [1, 1000]", 100));
    h.push(op(
        0,
        "ok watch watch/ [[[2, \"a\", 1, \"put\"], [4, \"a\", 3, \"put\"]], 4, \"compacted 3\"]",
        110,
    ));
    assert_eq!(watch_report(h).verdict, VerdictName::Valid);
}
