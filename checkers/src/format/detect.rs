//! The history formats ferret reads, and how one is recognised from a file's first op line.

/// The history formats ferret reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ferret's own: one JSON object per line.
    Jsonl,
    /// Jepsen's EDN: a vector of op maps, or one map per line.
    Edn,
    /// Porcupine's Jepsen etcd text log (`INFO  jepsen.util - 3 :invoke :read nil`).
    PorcupineEtcd,
    /// Porcupine's kv histories: EDN maps with `:key` and string values (get/put/append).
    PorcupineKv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Edn => "edn",
            Format::PorcupineEtcd => "porcupine-etcd",
            Format::PorcupineKv => "porcupine-kv",
        }
    }

    /// Recognise a format from the first bytes of a file.
    pub fn detect(head: &[u8]) -> Option<Format> {
        // Line by line: only the first line that says something is needed, not the whole head.
        for line in head.split(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(line);
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if line.contains("jepsen.util - ") {
                return Some(Format::PorcupineEtcd);
            }
            // Another logger's line of a Jepsen log (`INFO  jepsen.core - nemesis :start`) says
            // nothing of the format; the first op line does.
            if is_log_line(line) {
                continue;
            }
            if line.starts_with("{\"") || line.starts_with("{ \"") {
                return Some(Format::Jsonl);
            }
            if line.starts_with('{')
                || line.starts_with('[')
                || line.starts_with('(')
                || line.starts_with('#')
            {
                let kv = line.contains(":key ")
                    && [":get", ":put", ":append"].iter().any(|f| line.contains(f));
                return Some(if kv { Format::PorcupineKv } else { Format::Edn });
            }
            return None;
        }
        None
    }
}

/// Bytes read to recognise a format: its first op line must lie within them.
pub const DETECT_PREFIX: usize = 64 * 1024;

/// A line of a text log, not an op: it starts with a log level.
fn is_log_line(line: &str) -> bool {
    ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        .iter()
        .any(|level| {
            line.strip_prefix(level)
                .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        })
}
