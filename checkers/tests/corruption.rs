//! Damage never passes unnoticed: on random invalid histories from the simulated store, in every
//! text format, reading what was written round-trips, and one changed byte is caught, leaves the
//! events (and the verdict) intact, or cuts only a last line with a warning.

use ferret_checkers::synth::{register_history, SynthOptions};
use ferret_checkers::testing::{corrupted_byte, round_trips, TextFormat};
use ferret_checkers::{check, Budget, CheckOptions, VerdictName};
use proptest::prelude::*;
use std::time::Duration;

fn opts() -> CheckOptions {
    CheckOptions {
        budget: Budget {
            time: Duration::from_secs(5),
            memory: 64 << 20,
        },
        shrink_time: Duration::ZERO,
        threads: 1,
        ..CheckOptions::default()
    }
}

fn format() -> impl Strategy<Value = TextFormat> {
    prop_oneof![
        Just(TextFormat::Jsonl),
        Just(TextFormat::EdnLines),
        Just(TextFormat::EdnVector)
    ]
}

/// Bytes a damaged file plausibly holds: structure, digits, quotes, newlines, anything.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"{}[]()\"\\;:, \n#0129-.e".to_vec()),
        any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn one_changed_byte_never_passes_unnoticed(
        seed in 0u64..1_000_000,
        calls in 4usize..24,
        format in format(),
        pos in any::<usize>(),
        byte in byte(),
    ) {
        let h = register_history(&SynthOptions {
            calls,
            keys: 2,
            processes: 3,
            unknown: 0.1,
            stale_reads: 0.3,
            seed,
        });
        round_trips(&h, format).map_err(TestCaseError::fail)?;
        let verdict = check(&h, &opts()).map(|r| r.verdict).unwrap_or(VerdictName::Valid);
        corrupted_byte(&h, format, pos, byte, &opts(), verdict).map_err(TestCaseError::fail)?;
    }
}
