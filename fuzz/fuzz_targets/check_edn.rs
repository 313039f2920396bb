#![no_main]
//! Arbitrary EDN all the way through: pairing, model translation, search, explanation, shrinking.
use ferret_checkers::{check, Budget, CheckOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(history) = ferret_checkers::format::read_edn_str(Path::new("fuzz.edn"), text) else {
        return;
    };
    let opts = CheckOptions {
        budget: Budget { time: Duration::from_millis(50), memory: 64 << 20, steps: 1_000_000 },
        shrink_steps: 20_000,
        threads: 1,
        ..CheckOptions::default()
    };
    let _ = check(&history, &opts);
});
