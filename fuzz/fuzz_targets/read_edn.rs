#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ferret_checkers::format::read_edn_str(Path::new("fuzz.edn"), text);
    }
});
