//! Damage never passes unnoticed: on random invalid histories from the simulated store, in every
//! text format, reading what was written round-trips, and one changed byte is caught, leaves the
//! events (and the verdict) intact, or cuts only a last line with a warning.

use ferret_checkers::testing::{
    check_options, corrupted_byte, intact_verdict, round_trips, subject, TextFormat,
};
use proptest::prelude::*;

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
        let h = subject(seed, calls);
        round_trips(&h, format).map_err(TestCaseError::fail)?;
        let verdict = intact_verdict(&h);
        corrupted_byte(&h, format, pos, byte, &check_options(), verdict).map_err(TestCaseError::fail)?;
    }
}
