//! The error of a history that cannot be read: file, line, column and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// A history file that cannot be read: where, and what was expected.
#[derive(Debug, thiserror::Error)]
pub struct ReadError {
    pub path: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.path.display(), self.message),
            (l, 0) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.path.display(), self.message),
        }
    }
}

impl ReadError {
    pub(crate) fn new(
        path: &Path,
        line: u64,
        column: u64,
        message: impl Into<String>,
    ) -> ReadError {
        ReadError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

pub(crate) fn line_col(prefix: &[u8]) -> (u64, u64) {
    let line = 1 + prefix.iter().filter(|&&b| b == b'\n').count() as u64;
    let start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = 1 + String::from_utf8_lossy(&prefix[start..]).chars().count() as u64;
    (line, column)
}
