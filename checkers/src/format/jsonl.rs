//! ferret's own history format: one JSON object per line, read in parallel batches.

use crate::format::builder::{EventBuilder, Fields, Name, PARALLEL_FROM};
use crate::format::error::ReadError;
use crate::history::{Event, History, Location};
use crate::value::Value;
use serde::Deserialize;
use std::io::{BufRead, Write};
use std::path::Path;

#[derive(Deserialize)]
struct JsonEvent<'a> {
    index: Option<i64>,
    time: Option<i64>,
    process: Option<Value>,
    #[serde(rename = "type", borrow)]
    kind: Option<&'a str>,
    #[serde(borrow)]
    f: Option<&'a str>,
    key: Option<Value>,
    value: Option<Value>,
    error: Option<Value>,
    node: Option<String>,
}

/// Read ferret's JSONL, one event per line, streaming.
pub fn read_jsonl(path: &Path, reader: impl BufRead + Send) -> Result<History, ReadError> {
    let mut b = EventBuilder::new(path);
    jsonl_into(&mut b, reader)?;
    Ok(b.history)
}

/// Lines read at once, parsed in parallel.
pub(crate) const JSONL_BATCH: usize = 4096;

/// Non-empty lines of a JSONL file, in one buffer: (line number, range, ends with a newline).
#[derive(Default)]
struct LineBatch {
    text: String,
    lines: Vec<(u64, std::ops::Range<usize>, bool)>,
}

/// The next batch of non-empty lines after line `line_no`; an empty batch at the end.
fn read_lines(
    reader: &mut impl BufRead,
    line_no: &mut u64,
    path: &Path,
) -> Result<LineBatch, ReadError> {
    let mut batch = LineBatch::default();
    while batch.lines.len() < JSONL_BATCH {
        let start = batch.text.len();
        let n = reader
            .read_line(&mut batch.text)
            .map_err(|e| ReadError::new(path, *line_no + 1, 0, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        *line_no += 1;
        let complete = batch.text.ends_with('\n');
        let line = &batch.text[start..];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            batch.text.truncate(start);
            continue;
        }
        let from = start + (line.len() - line.trim_start().len());
        batch
            .lines
            .push((*line_no, from..from + trimmed.len(), complete));
    }
    Ok(batch)
}

/// One JSONL line's fields.
fn jsonl_fields(text: &str) -> Result<Fields, serde_json::Error> {
    let ev: JsonEvent = serde_json::from_str(text)?;
    Ok(Fields {
        index: ev.index,
        time: ev.time,
        process: ev.process,
        kind: ev.kind.map(Name::from),
        f: ev.f.map(Name::from),
        key: ev.key,
        value: ev.value,
        error: ev.error,
        node: ev.node,
    })
}

/// A batch of lines with each line's fields (or why it is not an op).
type ParsedBatch = (LineBatch, Vec<Result<Fields, serde_json::Error>>);

/// Each line's fields, on every core when the batch is large enough to pay for it.
fn parse_batch(batch: &LineBatch) -> Vec<Result<Fields, serde_json::Error>> {
    use rayon::prelude::*;
    let parse = |(_, range, _): &(u64, std::ops::Range<usize>, bool)| {
        jsonl_fields(&batch.text[range.clone()])
    };
    if batch.lines.len() >= PARALLEL_FROM {
        batch.lines.par_iter().map(parse).collect()
    } else {
        batch.lines.iter().map(parse).collect()
    }
}

/// A batch's fields, and the batch after it, read while this one is parsed (none after a short
/// batch: that was the file's last).
fn parse_and_read_next(
    batch: &LineBatch,
    reader: &mut (impl BufRead + Send),
    line_no: &mut u64,
    path: &Path,
) -> (
    Vec<Result<Fields, serde_json::Error>>,
    Result<LineBatch, ReadError>,
) {
    if batch.lines.len() < JSONL_BATCH {
        (parse_batch(batch), Ok(LineBatch::default()))
    } else {
        rayon::join(|| parse_batch(batch), || read_lines(reader, line_no, path))
    }
}

/// Batches of lines are read and parsed on other threads (the next read while one is parsed)
/// while this one builds calls from the batch before, taking them in order: so events, warnings
/// and the first error are those of a line-by-line reader.
pub(crate) fn jsonl_into(
    b: &mut EventBuilder,
    mut reader: impl BufRead + Send,
) -> Result<(), ReadError> {
    let path = b.path;
    let mut line_no = 0u64;
    let first = read_lines(&mut reader, &mut line_no, path)?;
    // A batch short of JSONL_BATCH is the whole file: a thread costs more than it saves.
    if first.lines.len() < JSONL_BATCH {
        let parsed = parse_batch(&first);
        return push_batch(b, &first, parsed).map(drop);
    }
    std::thread::scope(|s| {
        // Two batches ahead at most: memory stays a few batches whatever the file's size.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<ParsedBatch, ReadError>>(2);
        s.spawn(move || {
            let mut batch = first;
            loop {
                let (parsed, next) = parse_and_read_next(&batch, &mut reader, &mut line_no, path);
                // A closed channel: the reader stopped at an error or a truncated line.
                if tx.send(Ok((batch, parsed))).is_err() {
                    return;
                }
                match next {
                    Ok(n) if !n.lines.is_empty() => batch = n,
                    Ok(_) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        for parsed in rx {
            let (batch, fields) = parsed?;
            if !push_batch(b, &batch, fields)? {
                break;
            }
        }
        Ok(())
    })
}

/// Events from a parsed batch; false when its last line was truncated (the end of what is read).
fn push_batch(
    b: &mut EventBuilder,
    batch: &LineBatch,
    parsed: Vec<Result<Fields, serde_json::Error>>,
) -> Result<bool, ReadError> {
    for ((no, _, complete), fields) in batch.lines.iter().zip(parsed) {
        match fields {
            Ok(fields) => b.push(
                fields,
                Location {
                    line: *no,
                    column: 1,
                },
            )?,
            Err(e) if !complete => {
                // A run that crashed mid-write leaves a partial last line: report it, keep the
                // rest.
                b.warn(
                    *no,
                    format!("last line is truncated and was not checked ({e})"),
                );
                return Ok(false);
            }
            Err(e) => {
                return Err(ReadError::new(
                    b.path,
                    *no,
                    e.column() as u64,
                    format!("expected one JSON object per line: {e}"),
                ))
            }
        }
    }
    Ok(true)
}

/// Appends events to a JSONL history, one flushed line each, so a crash loses nothing written.
pub struct JsonlWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonlWriter<W> {
    pub fn new(out: W) -> Self {
        JsonlWriter { out }
    }

    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
