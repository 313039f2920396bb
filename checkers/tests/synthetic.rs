//! Histories from a simulated linearizable store are valid; with stale reads injected they are not.

use ferret_checkers::format::read_jsonl;
use ferret_checkers::synth::{register_history, SynthOptions};
use ferret_checkers::{check, CheckOptions, JsonlWriter, ModelName, VerdictName};
use std::path::Path;

fn opts() -> CheckOptions {
    CheckOptions {
        model: Some(ModelName::CasRegister),
        shrink_steps: 100_000,
        ..CheckOptions::default()
    }
}

#[test]
fn simulated_linearizable_histories_are_valid() {
    for seed in 0..20 {
        let h = register_history(&SynthOptions {
            calls: 3000,
            keys: 5,
            processes: 20,
            unknown: 0.05,
            seed,
            ..SynthOptions::default()
        });
        let r = check(&h, &opts()).unwrap();
        assert_eq!(r.verdict, VerdictName::Valid, "seed {seed}: {:?}", r.keys);
    }
}

#[test]
fn stale_reads_are_found() {
    let mut found = 0;
    for seed in 0..10 {
        let h = register_history(&SynthOptions {
            calls: 2000,
            keys: 5,
            processes: 10,
            stale_reads: 0.05,
            seed,
            ..SynthOptions::default()
        });
        let r = check(&h, &opts()).unwrap();
        assert_ne!(r.verdict, VerdictName::Unknown);
        if r.verdict == VerdictName::Invalid {
            found += 1;
            let k = r
                .keys
                .iter()
                .find(|k| k.verdict == VerdictName::Invalid)
                .unwrap();
            let e = k.explanation.as_ref().unwrap();
            // A stale read shows as a read that cannot fit, or a cas that compared against it.
            assert!(
                ["read", "cas"].contains(&e.stuck.f.as_str()),
                "{}",
                e.summary
            );
        }
    }
    assert!(
        found >= 8,
        "only {found} of 10 histories with stale reads found invalid"
    );
}

/// A history as ferret's JSONL.
fn jsonl_bytes(h: &ferret_checkers::History) -> Vec<u8> {
    let mut w = JsonlWriter::new(Vec::new());
    for e in &h.events {
        w.write(e).unwrap();
    }
    w.into_inner()
}

#[test]
fn jsonl_roundtrip_keeps_every_event() {
    let h = register_history(&SynthOptions {
        calls: 500,
        seed: 7,
        ..SynthOptions::default()
    });
    let back = read_jsonl(Path::new("mem.jsonl"), &jsonl_bytes(&h)[..]).unwrap();
    assert_eq!(back.events.len(), h.events.len());
    for (a, b) in h.events.iter().zip(&back.events) {
        assert_eq!(
            (a.index, a.time, &a.process, a.kind, &a.f, &a.key, &a.value),
            (b.index, b.time, &b.process, b.kind, &b.f, &b.key, &b.value)
        );
    }
}

/// The hard case, smaller: one key, many processes, unknown outcomes, one certainly stale
/// read. Decided by the unique-value check, and with the default budgets explained down to the
/// stale read and the few calls that contradict it.
#[test]
fn one_stale_read_in_a_long_single_key_history_is_found_and_shrunk() {
    let h = register_history(&SynthOptions {
        calls: 20_000,
        keys: 1,
        processes: 50,
        unknown: 0.05,
        seed: 3,
        ..SynthOptions::default()
    });
    let clean = check(&h, &CheckOptions::default()).unwrap();
    assert_eq!(clean.verdict, VerdictName::Valid);
    assert_eq!(clean.keys[0].method, ferret_checkers::Method::UniqueValues);
    let (stale, at) = ferret_checkers::synth::with_stale_read(&h).unwrap();
    let r = check(&stale, &CheckOptions::default()).unwrap();
    assert_eq!(r.verdict, VerdictName::Invalid);
    let k = &r.keys[0];
    assert_eq!(k.method, ferret_checkers::Method::UniqueValues);
    let e = k.explanation.as_ref().unwrap();
    assert_eq!(e.stuck.invoke_index, at as u64, "{}", e.summary);
    let s = e.shrunk.as_ref().unwrap();
    assert_eq!(s.first.as_ref().map(|f| f.invoke_index), Some(at as u64));
    assert!(s.minimal && s.calls.len() <= 6, "{:?}", s.calls);
}

/// The same for a FIFO queue: a long single-queue history is valid by the unique-value check,
/// and with two dequeues traded out of order it is invalid, explained by the cycle of the two
/// values and shrunk to the calls that make it; with dequeues whose reply never came too.
#[test]
fn two_dequeues_out_of_order_in_a_long_queue_history_are_found_and_shrunk() {
    for lost in [false, true] {
        two_dequeues_out_of_order(lost);
    }
}

fn two_dequeues_out_of_order(lost: bool) {
    let h = ferret_checkers::synth::queue_history(
        &SynthOptions {
            calls: 20_000,
            keys: 1,
            processes: 50,
            unknown: 0.05,
            seed: 3,
            ..SynthOptions::default()
        },
        0.5,
        lost,
    );
    // With lost dequeues, some took a value nobody saw again.
    let lost_dequeues = h
        .events
        .iter()
        .filter(|e| e.f == "dequeue" && e.kind == ferret_checkers::EventType::Info)
        .count();
    assert_eq!(lost, lost_dequeues > 100, "{lost_dequeues} lost dequeues");
    let opts = CheckOptions {
        model: Some(ferret_checkers::ModelName::FifoQueue),
        ..CheckOptions::default()
    };
    let clean = check(&h, &opts).unwrap();
    assert_eq!(clean.verdict, VerdictName::Valid);
    assert_eq!(clean.keys[0].method, ferret_checkers::Method::UniqueValues);
    let (swapped, at) = ferret_checkers::synth::queue_with_swapped_dequeues(&h).unwrap();
    let r = check(&swapped, &opts).unwrap();
    assert_eq!(r.verdict, VerdictName::Invalid);
    let k = &r.keys[0];
    assert_eq!(k.method, ferret_checkers::Method::UniqueValues);
    let e = k.explanation.as_ref().unwrap();
    assert!(e.summary.contains("closes a circle"), "{}", e.summary);
    let s = e.shrunk.as_ref().unwrap();
    // The dequeue that now returns the later value completes first: the first call that cannot
    // fit. With lost dequeues, one of them may have taken the value it passed over, until the
    // other dequeue returns that value.
    let first = s.first.as_ref().unwrap();
    let swapped_first = Some(swapped.events[at].index);
    if lost {
        assert!(
            first.f == "dequeue" && first.complete_index >= swapped_first,
            "{}",
            e.summary
        );
    } else {
        assert_eq!(first.complete_index, swapped_first, "{}", e.summary);
    }
    assert!(s.minimal && s.calls.len() <= 6, "{:?}", s.calls);
}

#[test]
fn a_file_longer_than_what_tells_its_format_is_read_whole() {
    // The format is told from the first 64 KiB; the reading proper must not lose or repeat them.
    let h = register_history(&SynthOptions {
        calls: 3_000,
        seed: 11,
        ..SynthOptions::default()
    });
    let bytes = jsonl_bytes(&h);
    assert!(bytes.len() > 3 * 64 * 1024, "{} bytes", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.jsonl");
    std::fs::write(&path, &bytes).unwrap();
    let (back, format) = ferret_checkers::read_file(&path, None).unwrap();
    assert_eq!(format, ferret_checkers::Format::Jsonl);
    assert_eq!(back.events.len(), h.events.len());
    for (a, b) in h.events.iter().zip(&back.events) {
        assert_eq!(
            (a.index, a.process.clone(), a.kind, &a.f, &a.value),
            (b.index, b.process.clone(), b.kind, &b.f, &b.value)
        );
    }
}
