#![no_main]
//! Differential: a simulated store's history, in each text format, must round-trip, and one
//! changed byte must be caught, leave the events and verdict intact, or cut only a last line with
//! a warning — never pass unnoticed.
use ferret_checkers::testing::{
    check_options, corrupted_byte, intact_verdict, round_trips, subject, TextFormat,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let seed = u64::from_le_bytes(data[..8].try_into().unwrap());
    let calls = 2 + data[8] as usize % 40;
    let format = match data[9] % 3 {
        0 => TextFormat::Jsonl,
        1 => TextFormat::EdnLines,
        _ => TextFormat::EdnVector,
    };
    let pos = u16::from_le_bytes([data[10], data[11]]) as usize;
    let h = subject(seed, calls);
    if let Err(e) = round_trips(&h, format) {
        panic!("{e}");
    }
    let verdict = intact_verdict(&h);
    let opts = check_options();
    // Every byte after the header is one damage to try.
    for (i, &byte) in data[12..].iter().enumerate().take(8) {
        if let Err(e) = corrupted_byte(&h, format, pos + i * 97, byte, &opts, verdict) {
            panic!("{e}");
        }
    }
});
