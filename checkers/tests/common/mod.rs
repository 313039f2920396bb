// Each test binary uses what it needs of this.
#![allow(dead_code)]

use ferret_checkers::Model;
use ferret_checkers::SearchCall;
use std::path::PathBuf;

/// `../shared/data` beside the repository (or `$FERRET_DATA`). Missing data is a failure, not a
/// skip: a test that cannot see its inputs proves nothing.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("FERRET_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    assert!(
        dir.join("porcupine/expected.tsv").is_file(),
        "test data not found at {} (set FERRET_DATA to the shared/data folder)",
        dir.display()
    );
    dir
}

/// The calls left when those the model calls unneeded are left out, every unknown outcome taken
/// as relaxed and every definite call as kept; and which were left out.
pub fn without_unneeded<M: Model>(
    model: &M,
    calls: &[SearchCall<M::Op>],
) -> (Vec<SearchCall<M::Op>>, Vec<bool>) {
    let kept: Vec<bool> = calls.iter().map(|c| c.complete.is_some()).collect();
    let relaxed: Vec<bool> = kept.iter().map(|k| !k).collect();
    let unneeded = model.unneeded_relaxed(calls, &kept, &relaxed);
    let rest = calls
        .iter()
        .zip(&unneeded)
        .filter(|(_, &u)| !u)
        .map(|(c, _)| c.clone())
        .collect();
    (rest, unneeded)
}
