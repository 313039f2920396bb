#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = ferret_checkers::format::read_jsonl(Path::new("fuzz.jsonl"), data);
});
