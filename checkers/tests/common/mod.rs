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
