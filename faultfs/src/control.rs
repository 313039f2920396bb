//! The control socket's protocol: one JSON request per line, one JSON reply per line. The harness
//! asks; the file system's process answers.

use crate::disk::{CorruptEvidence, CrashEvidence};
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// How much is un-synced now.
    Status,
    /// The node lost power: unmount, drop what was not durable (keeping seeded torn prefixes
    /// with `torn_seed`), mount again. The node's processes must be gone first.
    Crash { torn_seed: Option<u64> },
    /// The next `count` fsyncs fail with EIO; their data stays un-synced.
    FsyncError { count: u32 },
    /// Writes, creates and allocations fail with ENOSPC while on.
    DiskFull { on: bool },
    /// Flip bits in one block of a file matching `pattern` (a glob relative to the data
    /// directory). Everything is made durable first.
    Corrupt { pattern: String, seed: u64 },
    /// Make everything written so far durable, as a writeback would in time.
    Settle,
    /// Unmount and exit.
    Exit,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<CrashEvidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<CorruptEvidence>,
    /// Bytes written and not yet durable, after the request.
    pub unsynced_bytes: u64,
    /// Directory changes not yet durable, after the request.
    pub pending_entries: usize,
    /// fsyncs still to fail, and fsyncs failed since the fault was armed.
    pub fsync_errors_armed: u32,
    pub fsyncs_failed: u64,
    /// Operations refused with ENOSPC since the disk was made full.
    pub space_refused: u64,
}

/// Why a request got no good reply.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("cannot reach the fault file system at {path}: {source}")]
    Connect { path: String, source: io::Error },
    #[error("the fault file system at {path} did not answer: {source}")]
    Io { path: String, source: io::Error },
    #[error("the fault file system at {path} answered {line:?}: {source}")]
    Garbled {
        path: String,
        line: String,
        source: serde_json::Error,
    },
    #[error("the fault file system refused {op}: {message}")]
    Refused { op: String, message: String },
}

/// Send one request and wait for its reply (blocking).
pub fn ask(socket: &Path, request: &Request) -> Result<Reply, ControlError> {
    let path = socket.display().to_string();
    let io_err = |source| ControlError::Io {
        path: path.clone(),
        source,
    };
    let mut s = UnixStream::connect(socket).map_err(|source| ControlError::Connect {
        path: path.clone(),
        source,
    })?;
    let mut line = serde_json::to_string(request).expect("requests serialize");
    line.push('\n');
    s.write_all(line.as_bytes()).map_err(io_err)?;
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).map_err(io_err)?;
    if answer.is_empty() {
        return Err(io_err(io::Error::from(io::ErrorKind::UnexpectedEof)));
    }
    let reply: Reply =
        serde_json::from_str(answer.trim()).map_err(|source| ControlError::Garbled {
            path: path.clone(),
            line: answer.trim().chars().take(200).collect(),
            source,
        })?;
    if !reply.ok {
        return Err(ControlError::Refused {
            op: serde_json::to_value(request)
                .ok()
                .and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from))
                .unwrap_or_default(),
            message: reply.error.clone().unwrap_or_default(),
        });
    }
    Ok(reply)
}
