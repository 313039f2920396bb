//! Porcupine's Jepsen etcd log: `INFO  jepsen.util - 3 :invoke :read nil`, other lines ignored.

use crate::format::builder::{EventBuilder, Fields, Name};
use crate::format::edn::{edn_to_value, Plain};
use crate::format::edn_scan::{check_nesting, MAX_NESTING};
use crate::format::error::ReadError;
use crate::history::{History, Location};
use crate::value::Value;
use std::io::BufRead;
use std::path::Path;

/// Read a Jepsen text log as in Porcupine's etcd tests. Lines not from `jepsen.util` are other
/// loggers' and are skipped; a `jepsen.util` line that is malformed is an error.
pub fn read_porcupine_etcd(path: &Path, reader: impl BufRead) -> Result<History, ReadError> {
    let mut b = EventBuilder::new(path);
    porcupine_etcd_into(&mut b, reader)?;
    Ok(b.history)
}

pub(crate) fn porcupine_etcd_into(
    b: &mut EventBuilder,
    mut reader: impl BufRead,
) -> Result<(), ReadError> {
    const MARK: &str = "jepsen.util - ";
    let mark = memchr::memmem::Finder::new(MARK);
    let path = b.path;
    let mut buf = String::new();
    for line_no in 1.. {
        buf.clear();
        match reader.read_line(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(ReadError::new(
                    path,
                    line_no,
                    0,
                    format!("cannot read: {e}"),
                ))
            }
        }
        let line = buf.strip_suffix('\n').unwrap_or(&buf);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some(at) = mark.find(line.as_bytes()) else {
            continue;
        };
        let start = at + MARK.len();
        let body = &line[start..];
        // PROCESS :TYPE :F VALUE, whitespace-separated; the value is the rest of the line.
        let (process, rest) = next_field(body);
        let (kind, rest) = next_field(rest);
        let (f, rest) = next_field(rest);
        if f.is_empty() {
            return Err(ReadError::new(
                path,
                line_no,
                start as u64 + 1,
                "expected PROCESS :TYPE :F VALUE after \"jepsen.util - \"",
            ));
        }
        if process == ":nemesis" {
            continue;
        }
        let process: i64 = process.parse().map_err(|_| {
            ReadError::new(
                path,
                line_no,
                start as u64 + 1,
                format!("process {process:?} is not an integer"),
            )
        })?;
        let value_text = rest.trim();
        let value = if value_text.is_empty() {
            Value::Nil
        } else if let Some(v) = plain_edn(value_text) {
            v
        } else if check_nesting(value_text).is_err() {
            return Err(ReadError::new(
                path,
                line_no,
                (line.len() - value_text.len()) as u64 + 1,
                format!("value is nested more than {MAX_NESTING} levels deep"),
            ));
        } else {
            match clojure_reader::edn::read_string(value_text) {
                Ok(e) => edn_to_value(&e),
                Err(e) => {
                    return Err(ReadError::new(
                        path,
                        line_no,
                        (line.len() - value_text.len()) as u64 + 1,
                        format!("value {value_text:?} is not EDN: {:?}", e.code),
                    ))
                }
            }
        };
        let fields = Fields {
            index: None,
            time: None,
            process: Some(Value::Int(process)),
            kind: Some(Name::from(kind.trim_start_matches(':'))),
            f: Some(Name::from(f.trim_start_matches(':'))),
            key: None,
            value: Some(value),
            error: None,
            node: None,
        };
        b.push(
            fields,
            Location {
                line: line_no,
                column: 1,
            },
        )?;
    }
    Ok(())
}

/// The values these logs hold nearly always, read without building the EDN reader's tree: `nil`,
/// an integer, or a vector of them; `None` for anything else, which the EDN reader reads.
pub(crate) fn plain_edn(text: &str) -> Option<Value> {
    let scalar = |v: &Value| matches!(v, Value::Nil | Value::Int(_));
    let mut p = Plain { s: text, i: 0 };
    let v = p.value(0)?;
    let plain = match &v {
        Value::List(items) => text.starts_with('[') && items.iter().all(scalar),
        v => scalar(v),
    };
    (plain && p.i == text.len()).then_some(v)
}

/// The first whitespace-separated field of `s`, and what follows it.
fn next_field(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_at(s.find(char::is_whitespace).unwrap_or(s.len()))
}
