//! Reading and writing histories: ferret's JSONL, Jepsen's EDN, Porcupine's etcd log.

use crate::history::{Call, Event, EventType, History, Location, Pairer, Process, Warning};
use crate::value::Value;
use clojure_reader::edn::Edn;
use compact_str::CompactString;
use serde::Deserialize;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
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
    fn new(path: &Path, line: u64, column: u64, message: impl Into<String>) -> ReadError {
        ReadError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

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

/// Read a whole history file in the given format (or detect it).
pub fn read_file(path: &Path, format: Option<Format>) -> Result<(History, Format), ReadError> {
    let mut b = EventBuilder::new(path);
    let format = read_into(&mut b, format)?;
    Ok((b.history, format))
}

/// A history read straight into calls, event by event: what checking a file needs, without
/// holding every event as well.
pub struct PairedFile {
    pub calls: Vec<Call>,
    pub warnings: Vec<Warning>,
    /// Nemesis events the file had.
    pub nemesis: Vec<Event>,
    pub format: Format,
}

/// Read a history file into calls (see `read_file` for the formats).
pub fn read_calls(path: &Path, format: Option<Format>) -> Result<PairedFile, ReadError> {
    let mut b = EventBuilder::pairing(path);
    let format = read_into(&mut b, format)?;
    let mut pairer = b.pairer.take().expect("a pairing builder");
    let nemesis = std::mem::take(&mut pairer.nemesis);
    let (calls, mut warnings) = pairer.finish();
    warnings.extend(b.history.warnings);
    Ok(PairedFile {
        calls,
        warnings,
        nemesis,
        format,
    })
}

fn read_into(b: &mut EventBuilder, format: Option<Format>) -> Result<Format, ReadError> {
    let path = b.path;
    let mut file =
        File::open(path).map_err(|e| ReadError::new(path, 0, 0, format!("cannot open: {e}")))?;
    // The bytes read to tell the format, which the reading proper starts with.
    let mut seen = Vec::new();
    let format = match format {
        Some(f) => f,
        None => {
            let mut head = Vec::with_capacity(DETECT_PREFIX);
            (&mut file)
                .take(DETECT_PREFIX as u64)
                .read_to_end(&mut head)
                .map_err(|e| ReadError::new(path, 0, 0, format!("cannot read: {e}")))?;
            if head.iter().all(u8::is_ascii_whitespace) {
                return Err(ReadError::new(
                    path,
                    0,
                    0,
                    "the file is empty: no operations to check",
                ));
            }
            let file_format = Format::detect(&head).ok_or_else(|| {
                ReadError::new(
                    path,
                    1,
                    1,
                    "cannot tell the format from the first op line within the first 64 KiB: \
                     expected JSON lines ({\"process\": ...}), EDN ({:process ...} or [{...}]) \
                     or a Jepsen etcd log (INFO  jepsen.util - ...); name it with --format",
                )
            })?;
            seen = head;
            file_format
        }
    };
    // The file from its start: what was seen, then the rest.
    let whole = |file: File| BufReader::new(std::io::Cursor::new(seen).chain(file));
    match format {
        Format::Jsonl => jsonl_into(b, whole(file))?,
        Format::Edn | Format::PorcupineKv => {
            // Mapped, not read: the text is held once, by the page cache, while ops are built.
            // SAFETY: the map is read-only; a file changed under us can only give a parse error.
            let map = unsafe { memmap2::Mmap::map(&file) }
                .map_err(|e| ReadError::new(path, 0, 0, format!("cannot map: {e}")))?;
            let text = std::str::from_utf8(&map).map_err(|e| {
                let (line, column) = line_col(&map[..e.valid_up_to()]);
                ReadError::new(path, line, column, "not UTF-8 text")
            })?;
            edn_into(b, text)?
        }
        Format::PorcupineEtcd => porcupine_etcd_into(b, whole(file))?,
    };
    Ok(format)
}

fn line_col(prefix: &[u8]) -> (u64, u64) {
    let line = 1 + prefix.iter().filter(|&&b| b == b'\n').count() as u64;
    let start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = 1 + String::from_utf8_lossy(&prefix[start..]).chars().count() as u64;
    (line, column)
}

/// Builds events from per-op field values, numbering them and checking what every format shares.
struct EventBuilder<'p> {
    path: &'p Path,
    history: History,
    /// When set, events go straight into calls instead of `history.events`.
    pairer: Option<Pairer>,
    /// Events so far: the index of one that names none.
    count: u64,
}

/// An op's type or function: text (kept inline when short, as they are: no allocation for each
/// event), or whatever else the line had there, for the error that names it.
#[derive(Debug, PartialEq)]
enum Name {
    Text(CompactString),
    Other(Value),
}

impl From<Value> for Name {
    fn from(v: Value) -> Name {
        match v {
            Value::Str(s) => Name::Text(s.into()),
            v => Name::Other(v),
        }
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::Text(s.into())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Text(s) => Value::Str(s.to_string()).fmt(f),
            Name::Other(v) => v.fmt(f),
        }
    }
}

#[derive(Debug, PartialEq)]
struct Fields {
    index: Option<i64>,
    time: Option<i64>,
    process: Option<Value>,
    kind: Option<Name>,
    f: Option<Name>,
    key: Option<Value>,
    value: Option<Value>,
    error: Option<Value>,
    node: Option<String>,
}

impl<'p> EventBuilder<'p> {
    fn new(path: &'p Path) -> Self {
        EventBuilder {
            path,
            history: History::default(),
            pairer: None,
            count: 0,
        }
    }

    fn pairing(path: &'p Path) -> Self {
        EventBuilder {
            pairer: Some(Pairer::default()),
            ..EventBuilder::new(path)
        }
    }

    fn err(&self, loc: &Location, message: impl Into<String>) -> ReadError {
        ReadError::new(self.path, loc.line, loc.column, message)
    }

    fn push(&mut self, fields: Fields, loc: Location) -> Result<(), ReadError> {
        let process_value = fields.process.ok_or_else(|| {
            self.err(&loc, "op has no process (expected :process or \"process\")")
        })?;
        let process = Process::from_value(&process_value).ok_or_else(|| {
            self.err(
                &loc,
                format!(
                    "process is {}, expected an integer or \"nemesis\"",
                    process_value.kind()
                ),
            )
        })?;
        let kind_value = fields
            .kind
            .ok_or_else(|| self.err(&loc, "op has no type (expected invoke, ok, fail or info)"))?;
        let kind = match &kind_value {
            Name::Text(s) => EventType::parse(s),
            Name::Other(_) => None,
        }
        .ok_or_else(|| {
            self.err(
                &loc,
                format!("type is {kind_value}, expected invoke, ok, fail or info"),
            )
        })?;
        let f = match fields.f {
            Some(Name::Text(s)) => s,
            Some(Name::Other(Value::Nil)) | None if process == Process::Nemesis => {
                CompactString::default()
            }
            Some(Name::Other(other)) => {
                return Err(self.err(&loc, format!("f is {}, expected a name", other.kind())))
            }
            None => return Err(self.err(&loc, "op has no f (the function, e.g. read)")),
        };
        let index = match fields.index {
            Some(i) if i >= 0 => i as u64,
            _ => self.count,
        };
        self.count += 1;
        let event = Event {
            index,
            time: fields.time,
            process,
            kind,
            f,
            key: fields.key,
            value: fields.value.unwrap_or_default(),
            error: fields.error,
            node: fields.node,
            location: loc,
        };
        match self.pairer.as_mut() {
            Some(p) => p
                .push(event)
                .map_err(|e| ReadError::new(self.path, e.line, 0, e.message)),
            None => {
                self.history.events.push(event);
                Ok(())
            }
        }
    }

    fn warn(&mut self, line: u64, message: impl Into<String>) {
        self.history.warnings.push(Warning {
            line,
            message: message.into(),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// JSONL

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
const JSONL_BATCH: usize = 4096;

/// Ops in a batch from which they are parsed on every core: below it, waking other threads costs
/// more than the parsing.
const PARALLEL_FROM: usize = 64;

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
fn jsonl_into(b: &mut EventBuilder, mut reader: impl BufRead + Send) -> Result<(), ReadError> {
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

// ---------------------------------------------------------------------------------------------
// EDN

fn edn_to_value(e: &Edn) -> Value {
    match e {
        Edn::Vector(v) | Edn::List(v) => Value::List(v.iter().map(edn_to_value).collect()),
        Edn::Set(s) => Value::set(s.iter().map(edn_to_value).collect()),
        Edn::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (edn_to_value(k), edn_to_value(v)))
                .collect(),
        ),
        Edn::Key(k) => Value::Str(k.trim_start_matches(':').to_string()),
        Edn::Symbol(s) => Value::Str(s.to_string()),
        Edn::Str(s) => Value::Str(s.to_string()),
        Edn::Int(i) => Value::Int(*i),
        // Records such as #jepsen.history.Op{...} are their map.
        Edn::Tagged(_, inner) => edn_to_value(inner),
        Edn::Double(d) => Value::float(d.into_inner()),
        Edn::Rational((n, d)) => Value::float(*n as f64 / *d as f64),
        Edn::Char(c) => Value::Str(c.to_string()),
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Nil => Value::Nil,
        #[allow(unreachable_patterns)]
        _ => Value::Nil,
    }
}

/// Tracks line and column while the text is consumed from front to back.
#[derive(Clone)]
struct Cursor<'t> {
    text: &'t str,
    pos: usize,
    line: u64,
    line_start: usize,
    /// Where a comment began that holds what looks like an op: one byte damaged into `;` (an op's
    /// `{`, or the line break before it) hides a whole op this way.
    op_in_comment: Option<usize>,
}

impl<'t> Cursor<'t> {
    fn advance_to(&mut self, pos: usize) {
        let bytes = &self.text.as_bytes()[self.pos..pos];
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            self.line_start = self.pos + last + 1;
        }
        self.pos = pos;
    }

    fn column(&self) -> u64 {
        1 + self.text[self.line_start..self.pos].chars().count() as u64
    }

    fn location(&self) -> Location {
        Location {
            line: self.line,
            column: self.column(),
        }
    }

    /// Skip whitespace, commas and `;` comments; return the next char.
    fn skip_blank(&mut self) -> Option<char> {
        let bytes = self.text.as_bytes();
        let mut p = self.pos;
        while p < bytes.len() {
            match bytes[p] {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => p += 1,
                b';' => {
                    let start = p;
                    while p < bytes.len() && bytes[p] != b'\n' {
                        p += 1;
                    }
                    if self.text[start..p].contains(":process") {
                        self.op_in_comment.get_or_insert(start);
                    }
                }
                _ => break,
            }
        }
        self.advance_to(p);
        self.text[p..].chars().next()
    }
}

/// Read EDN ops from text: a top-level vector or list of maps, or maps one after another.
pub fn read_edn_str(path: &Path, text: &str) -> Result<History, ReadError> {
    let mut b = EventBuilder::new(path);
    edn_into(&mut b, text)?;
    Ok(b.history)
}

fn edn_into(b: &mut EventBuilder, text: &str) -> Result<(), ReadError> {
    let path = b.path;
    let mut cur = Cursor {
        text,
        pos: 0,
        line: 1,
        line_start: 0,
        op_in_comment: None,
    };
    let closer = match cur.skip_blank() {
        None => return Ok(()),
        Some('[') => Some(']'),
        Some('(') => Some(')'),
        Some(_) => None,
    };
    if closer.is_some() {
        cur.advance_to(cur.pos + 1);
    }
    // Ops parsed ahead, in parallel: each with the cursor after it, and its fields when the fast
    // path could take it (else the op is read again below, one at a time, for the exact error).
    // While one batch is parsed, the next is found: it starts where this one ends, so it is used
    // only when every op of this one was taken.
    let mut ahead: std::collections::VecDeque<(Location, Cursor, Option<Fields>)> =
        Default::default();
    let mut found_next: Option<Vec<Found>> = None;
    loop {
        if ahead.is_empty() {
            let found = found_next
                .take()
                .unwrap_or_else(|| scan_ahead(text, &cur, closer));
            // A batch short of AHEAD is the last: nothing to find while it is parsed.
            let end = found
                .last()
                .filter(|_| found.len() == AHEAD)
                .map(|f| f.2.clone());
            let (fields, next) = match end {
                Some(end) => rayon::join(
                    || parse_found(text, &found),
                    || Some(scan_ahead(text, &end, closer)),
                ),
                None => (parse_found(text, &found), None),
            };
            found_next = next;
            ahead = found
                .into_iter()
                .zip(fields)
                .map(|((loc, _, after), f)| (loc, after, f))
                .collect();
        }
        if let Some((loc, after, fields)) = ahead.pop_front() {
            if let Some(fields) = fields {
                b.push(fields, loc)?;
                cur = after;
                continue;
            }
            ahead.clear();
            found_next = None;
        }
        let next = cur.skip_blank();
        if let Some(at) = cur.op_in_comment {
            let (line, column) = line_col(&text.as_bytes()[..at]);
            return Err(b.err(
                &Location { line, column },
                "a comment holds what looks like an op (:process ...): is the file damaged? \
                 An op that should not be checked must be deleted, not commented out",
            ));
        }
        match (next, closer) {
            (None, None) => break,
            (None, Some(c)) => {
                b.warn(
                    cur.line,
                    format!("history ends without its closing {c:?}: the file may be truncated"),
                );
                break;
            }
            (Some(c), Some(close)) if c == close => {
                cur.advance_to(cur.pos + 1);
                if let Some(extra) = cur.skip_blank() {
                    return Err(b.err(
                        &cur.location(),
                        format!("unexpected {extra:?} after the history's closing {close:?}"),
                    ));
                }
                break;
            }
            _ => {}
        }
        let loc = cur.location();
        let rest = &text[cur.pos..];
        if let Err(deep) = check_nesting(rest) {
            cur.advance_to(cur.pos + deep);
            let at = cur.location();
            return Err(b.err(
                &at,
                format!(
                    "nested more than {MAX_NESTING} levels deep (the op starts at line {}, \
                     column {}); ferret reads at most {MAX_NESTING}",
                    loc.line, loc.column
                ),
            ));
        }
        match clojure_reader::edn::read(rest) {
            Ok((form, remaining)) => {
                cur.advance_to(text.len() - remaining.len());
                let value = edn_to_value(&form);
                if value.is_nil() && remaining.trim().is_empty() && closer.is_none() {
                    break;
                }
                let fields = edn_fields(&value).map_err(|m| b.err(&loc, m))?;
                b.push(fields, loc)?;
            }
            Err(e) => {
                // A crash mid-write cuts the last line, which then has no newline. Anything else
                // that does not parse is damage, and dropping the rest would hide it.
                if matches!(e.code, clojure_reader::error::Code::UnexpectedEOF)
                    && !rest.contains('\n')
                {
                    b.warn(
                        loc.line,
                        "last op is truncated and was not checked (the file ends mid-line: \
                         it may have been cut mid-write)",
                    );
                    break;
                }
                let rel_line = e.line.unwrap_or(1) as u64;
                let line = loc.line + rel_line - 1;
                let column = match (rel_line, e.column) {
                    (1, Some(c)) => loc.column + c as u64 - 1,
                    (_, Some(c)) => c as u64,
                    (_, None) => 0,
                };
                let what = match e.code {
                    clojure_reader::error::Code::UnexpectedEOF => {
                        "never closed: the file ends inside it (an unclosed string, map or vector?)"
                            .to_string()
                    }
                    code => format!("malformed EDN: {code:?}"),
                };
                // Name the op that failed, and where the reader noticed when that is elsewhere.
                let message = if line == loc.line {
                    format!("op {what}")
                } else {
                    format!("the op starting here is {what}; the reader stopped at line {line}, column {column}")
                };
                return Err(ReadError::new(path, loc.line, loc.column, message));
            }
        }
    }
    Ok(())
}

/// Ops parsed at once, in parallel.
const AHEAD: usize = 2048;

/// An op found ahead: where it starts (line and column, byte offset) and the cursor after it.
type Found<'t> = (Location, usize, Cursor<'t>);

/// The next ops from `cur` on, up to [`AHEAD`], found by scanning. Stops before a comment holding
/// an op, the closing bracket, or a form the scan cannot bound: the one-at-a-time reader takes
/// those.
fn scan_ahead<'t>(text: &'t str, cur: &Cursor<'t>, closer: Option<char>) -> Vec<Found<'t>> {
    let mut scan = cur.clone();
    let mut found = Vec::new();
    while found.len() < AHEAD {
        let next = scan.skip_blank();
        if scan.op_in_comment.is_some() || next.is_none() || next == closer {
            break;
        }
        let start = scan.pos;
        let Some(len) = form_end(&text[start..]) else {
            break;
        };
        let loc = scan.location();
        scan.advance_to(start + len);
        found.push((loc, start, scan.clone()));
    }
    found
}

/// The found ops' fields, parsed in parallel; `None` for an op with anything unusual about it (a
/// parse error, `nil`, not an op map, the reader and the scan disagreeing on where it ends),
/// which the one-at-a-time reader then reads for its exact error or warning.
fn parse_found(text: &str, found: &[Found]) -> Vec<Option<Fields>> {
    use rayon::prelude::*;
    let parse = |(_, start, after): &Found| -> Option<Fields> {
        if let Some(fields) = plain_op(&text[*start..after.pos]) {
            return Some(fields);
        }
        let (form, remaining) = clojure_reader::edn::read(&text[*start..]).ok()?;
        if text.len() - remaining.len() != after.pos {
            return None;
        }
        let value = edn_to_value(&form);
        if value.is_nil() {
            return None;
        }
        edn_fields(&value).ok()
    };
    if found.len() >= PARALLEL_FROM {
        found.par_iter().map(parse).collect()
    } else {
        found.iter().map(parse).collect()
    }
}

/// An op map as Jepsen writes nearly all of them, read without building the EDN reader's tree:
/// keyword keys; values nil, booleans, integers, keywords, strings without escapes, and vectors
/// or lists of those. `None` for anything else (a set, a map, a float, an escape, a comment, a
/// repeated key...), which the EDN reader then reads, so what it accepts and its errors are as
/// before; for what it takes, the very fields the reader's path gives (tested).
fn plain_op(form: &str) -> Option<Fields> {
    let mut p = Plain { s: form, i: 0 };
    p.blank();
    p.eat(b'{')?;
    // Straight into the fields, as `edn_fields` takes them from the map, without the map.
    let mut fields = Fields {
        index: None,
        time: None,
        process: None,
        kind: None,
        f: None,
        key: None,
        value: None,
        error: None,
        node: None,
    };
    let mut names: smallvec::SmallVec<[&str; 12]> = smallvec::SmallVec::new();
    let int = |v: Value| match v {
        Value::Nil => Some(None),
        Value::Int(i) => Some(Some(i)),
        _ => None,
    };
    loop {
        p.blank();
        if p.eat(b'}').is_some() {
            break;
        }
        let name = p.keyword()?;
        if names.contains(&name) {
            return None;
        }
        names.push(name);
        p.blank();
        // An op's type and function are keywords: read as names, with no string made.
        if matches!(name, "type" | "f") && p.bytes().get(p.i) == Some(&b':') {
            let word = Name::from(p.keyword()?);
            match name {
                "type" => fields.kind = Some(word),
                _ => fields.f = Some(word),
            }
            continue;
        }
        let value = p.value(0)?;
        match name {
            "index" => fields.index = int(value)?,
            "time" => fields.time = int(value)?,
            "process" => fields.process = Some(value),
            "type" => fields.kind = Some(value.into()),
            "f" => fields.f = Some(value.into()),
            "key" => fields.key = Some(value),
            "value" => fields.value = Some(value),
            "error" => fields.error = Some(value),
            "node" => fields.node = value.as_str().map(String::from),
            _ => {}
        }
    }
    p.blank();
    if p.i != p.s.len() || names.is_empty() {
        return None;
    }
    Some(fields)
}

struct Plain<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Plain<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn blank(&mut self) {
        while self
            .bytes()
            .get(self.i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b',')
        {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.bytes().get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// The run of bytes up to the next delimiter.
    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self
            .bytes()
            .get(self.i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !b",[](){}\";#\\".contains(c))
        {
            self.i += 1;
        }
        self.s.get(start..self.i)
    }

    /// A keyword's name, without its colon.
    fn keyword(&mut self) -> Option<&'a str> {
        if self.bytes().get(self.i) != Some(&b':') {
            return None;
        }
        let name = self.token()?.strip_prefix(':')?;
        let ok = name.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_?!*+.<>=/".contains(&c));
        ok.then_some(name)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        match *self.bytes().get(self.i)? {
            open @ (b'[' | b'(') => {
                let close = if open == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.blank();
                    if self.eat(close).is_some() {
                        return Some(Value::List(items));
                    }
                    if depth >= 4 {
                        return None;
                    }
                    items.push(self.value(depth + 1)?);
                }
            }
            b'"' => {
                let start = self.i + 1;
                let len = self.bytes()[start..].iter().position(|&c| c == b'"')?;
                let body = &self.bytes()[start..start + len];
                if body.contains(&b'\\') {
                    return None;
                }
                self.i = start + len + 1;
                Some(Value::Str(self.s.get(start..start + len)?.to_string()))
            }
            b':' => self.keyword().map(|name| Value::Str(name.to_string())),
            _ => {
                let token = self.token()?;
                match token {
                    "nil" => Some(Value::Nil),
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => plain_int(token).map(Value::Int),
                }
            }
        }
    }
}

/// Where the form at the start of `text` ends, by a scan that skips strings, characters and
/// comments; `None` when it does not end, nests too deep, or starts with a tag or discard the scan
/// does not follow.
fn form_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if matches!(bytes.first(), Some(b'#' | b'^' | b'\\' | b'"')) {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b'\\' => i += 1,
            b';' if depth > 0 => i = line_end(bytes, i),
            // A set opens like a map; any other tag or a discard is left to the reader.
            b'#' if depth > 0 && bytes.get(i + 1) == Some(&b'{') => {}
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return None;
                }
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'#' => return None,
            _ if depth == 0 => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The position of the quote closing the string that opens at `i` (or the end).
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

/// The position of the line break ending the comment at `i` (or the end).
fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

/// How deep EDN may nest. The reader recurses once per level; deeper input is an error, never a
/// stack overflow. Real ops nest a handful of levels.
pub const MAX_NESTING: usize = 128;

/// Scan the form at the start of `text` (skipping strings, characters and comments) and return
/// the byte offset where it nests deeper than [`MAX_NESTING`], if it does.
fn check_nesting(text: &str) -> Result<(), usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b'\\' => i += 1,
            b';' => i = line_end(bytes, i),
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(i);
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(());
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' | b',' if depth == 0 && i > 0 && bytes[0] != b'#' => {
                // An atom at the top: nothing nests.
                return Ok(());
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn edn_fields(v: &Value) -> Result<Fields, String> {
    let Value::Map(entries) = v else {
        return Err(format!(
            "expected an op map such as {{:process 0, :type :invoke, :f :read}}, found {}",
            v.kind()
        ));
    };
    // Op fields are named by keywords; any other key means the map swallowed what follows it.
    if let Some((k, _)) = entries.iter().find(|(k, _)| k.as_str().is_none()) {
        return Err(format!(
            "op map has {} as a key, where fields are keywords such as :process \
             (a closing }} missing before it?)",
            k.kind()
        ));
    }
    let int = |name: &str| -> Result<Option<i64>, String> {
        match v.get(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(format!(":{name} is {}, expected an integer", other.kind())),
        }
    };
    Ok(Fields {
        index: int("index")?,
        time: int("time")?,
        process: v.get("process").cloned(),
        kind: v.get("type").cloned().map(Name::from),
        f: v.get("f").cloned().map(Name::from),
        key: v.get("key").cloned(),
        value: v.get("value").cloned(),
        error: v.get("error").cloned(),
        node: v.get("node").and_then(|n| n.as_str()).map(String::from),
    })
}

/// Parse a value written on the command line, as EDN (`0`, `nil`, `"x"`, `[1 2]`, `:k`).
pub fn parse_value(text: &str) -> Result<Value, String> {
    if check_nesting(text.trim_start()).is_err() {
        return Err(format!(
            "value is nested more than {MAX_NESTING} levels deep"
        ));
    }
    clojure_reader::edn::read_string(text)
        .map(|e| edn_to_value(&e))
        .map_err(|e| format!("{text:?} is not an EDN value ({:?})", e.code))
}

// ---------------------------------------------------------------------------------------------
// Porcupine's etcd log

/// Read a Jepsen text log as in Porcupine's etcd tests. Lines not from `jepsen.util` are other
/// loggers' and are skipped; a `jepsen.util` line that is malformed is an error.
pub fn read_porcupine_etcd(path: &Path, reader: impl BufRead) -> Result<History, ReadError> {
    let mut b = EventBuilder::new(path);
    porcupine_etcd_into(&mut b, reader)?;
    Ok(b.history)
}

fn porcupine_etcd_into(b: &mut EventBuilder, mut reader: impl BufRead) -> Result<(), ReadError> {
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
fn plain_edn(text: &str) -> Option<Value> {
    let scalar = |v: &Value| matches!(v, Value::Nil | Value::Int(_));
    let mut p = Plain { s: text, i: 0 };
    let v = p.value(0)?;
    let plain = match &v {
        Value::List(items) => text.starts_with('[') && items.iter().all(scalar),
        v => scalar(v),
    };
    (plain && p.i == text.len()).then_some(v)
}

/// An integer as EDN writes it plainly; a leading zero (octal in Clojure), a suffix or anything
/// but digits is left to the reader.
fn plain_int(t: &str) -> Option<i64> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    t.parse().ok()
}

/// The first whitespace-separated field of `s`, and what follows it.
fn next_field(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_at(s.find(char::is_whitespace).unwrap_or(s.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("t.edn")
    }

    /// The reader's path for one op form: what the fast path must agree with.
    fn slow_op(form: &str) -> Option<Fields> {
        let (e, rest) = clojure_reader::edn::read(form).ok()?;
        if !rest.trim().is_empty() {
            return None;
        }
        edn_fields(&edn_to_value(&e)).ok()
    }

    #[test]
    fn plain_ops_read_as_the_edn_reader_reads_them() {
        use rand::{RngExt, SeedableRng};
        let atoms = [
            "nil",
            "true",
            "false",
            "0",
            "-3",
            "42",
            "9223372036854775807",
            "99999999999999999999",
            "007",
            "1.5",
            "1N",
            ":ok",
            ":jepsen.history/op",
            ":a-b?",
            ":1",
            "sym",
            "\"x y\"",
            "\"caf\u{e9}\"",
            "\"a\\\"b\"",
            "\"\"",
            "#{1 2}",
            "{:a 1}",
            "[1 [2 [3 nil]]]",
            "(:r 1)",
            "[:append 3 [1 2]]",
            "[]",
            "#inst \"2020\"",
            "\\c",
        ];
        let keys = [
            ":process", ":type", ":f", ":key", ":value", ":index", ":time", ":node", ":error",
            ":extra", "\"str\"", "1",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut fast, mut total) = (0, 0);
        for _ in 0..20_000 {
            let n = rng.random_range(0..7);
            let mut form = String::from(if rng.random_bool(0.05) { " {" } else { "{" });
            // Mostly distinct keys, as ops have; now and then a repeat or a key that is no keyword.
            let mut order: Vec<&str> = keys[..9].to_vec();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            for (k, &distinct) in order.iter().take(n).enumerate() {
                let key = if rng.random_bool(0.95) {
                    distinct
                } else {
                    keys[rng.random_range(0..keys.len())]
                };
                let value = if rng.random_bool(0.7) {
                    atoms[rng.random_range(0..8)]
                } else {
                    atoms[rng.random_range(0..atoms.len())]
                };
                let sep = [", ", " ", ",", "\n  "][rng.random_range(0..4)];
                if k > 0 {
                    form.push_str(sep);
                }
                form.push_str(&format!("{key} {value}"));
            }
            form.push('}');
            total += 1;
            if let Some(f) = plain_op(&form) {
                fast += 1;
                assert_eq!(Some(f), slow_op(&form), "{form}");
            }
        }
        // Most of these simple forms must take the fast path, or it proves nothing.
        assert!(
            fast * 4 > total,
            "only {fast} of {total} took the fast path"
        );
        // A whole op as Jepsen writes it.
        let op = "{:type :ok, :f :txn, :value [[:append 3 1] [:r 4 [1 2]]], :time 5, :process 0, :index 9}";
        assert!(plain_op(op).is_some());
        assert_eq!(plain_op(op), slow_op(op));
    }

    #[test]
    fn plain_values_read_as_the_edn_reader_reads_them() {
        for text in [
            "nil",
            "0",
            "-7",
            "42",
            "[1 2]",
            "[1, 2]",
            "[nil 3]",
            "[]",
            "[ -1  0 ]",
        ] {
            let want = edn_to_value(&clojure_reader::edn::read_string(text).unwrap());
            assert_eq!(plain_edn(text), Some(want), "{text}");
        }
        // Left to the reader: octal-looking, big, suffixed, nested, keywords.
        for text in [
            "007",
            "1N",
            "99999999999999999999",
            "[[1]]",
            ":ok",
            "1.5",
            "[1 :a]",
        ] {
            assert_eq!(plain_edn(text), None, "{text}");
        }
    }

    #[test]
    fn edn_vector_of_maps_with_records_comments_and_sets() {
        let text = r#"; a Jepsen history
[{:process 0, :type :invoke, :f :read, :value nil, :time 5}
 #jepsen.history.Op{:index 1, :time 7, :type :ok, :process 0, :f :read, :value #{1 2}}
 {:process :nemesis, :type :info, :f :start-partition
  :value [:isolated {"n1" #{"n2"}}]}
]
"#;
        let h = read_edn_str(p(), text).unwrap();
        assert_eq!(h.events.len(), 3);
        assert_eq!(h.events[0].f, "read");
        assert_eq!(h.events[0].time, Some(5));
        assert_eq!(
            h.events[1].value,
            Value::Set(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(h.events[2].process, Process::Nemesis);
        assert_eq!(h.events[2].location.line, 4);
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn edn_one_map_per_line_and_truncated_tail() {
        let text = "{:process 1 :type :invoke :f :write :value 3}\n{:process 1 :type :ok :f :write :value 3}\n{:process 2 :type :inv";
        let h = read_edn_str(p(), text).unwrap();
        assert_eq!(h.events.len(), 2);
        assert_eq!(h.warnings.len(), 1);
        assert_eq!(h.warnings[0].line, 3);
    }

    #[test]
    fn edn_parsed_ahead_in_parallel_reads_as_one_at_a_time() {
        use crate::testing::{round_trips, TextFormat};
        // Thousands of ops: batches parsed in parallel, the next found meanwhile.
        let h = crate::synth::register_history(&crate::synth::SynthOptions {
            calls: 6000,
            keys: 7,
            ..Default::default()
        });
        for format in [TextFormat::EdnLines, TextFormat::EdnVector] {
            round_trips(&h, format).unwrap();
        }
        // Unusual ops deep in a batch — a set value, a record, a comment — read as the
        // one-at-a-time reader reads them; damage deep in a batch is named at its line.
        let mut lines: Vec<String> = (0..5000)
            .map(|i| format!("{{:process {}, :type :invoke, :f :read, :value nil}}\n{{:process {}, :type :ok, :f :read, :value nil}}", i % 9, i % 9))
            .collect();
        lines[1500] = "{:process 3, :type :invoke, :f :add, :value #{1 2}}\n{:process 3, :type :ok, :f :add, :value #{1 2}}".into();
        lines[2500] = "#jepsen.history.Op{:process 4, :type :invoke, :f :read, :value nil} ; a record\n{:process 4, :type :ok, :f :read, :value nil}".into();
        let text = lines.join("\n") + "\n";
        let h = read_edn_str(p(), &text).unwrap();
        assert_eq!(h.events.len(), 10_000);
        assert_eq!(
            h.events[3000].value,
            Value::set(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(h.events[5000].process, Process::Client(4));
        lines[4000] =
            "{:process 1, :type :invoke, :f :read, :value nil}\n{:process 1 :type}".into();
        let e = read_edn_str(p(), &(lines.join("\n") + "\n")).unwrap_err();
        assert_eq!((e.line, e.column), (8002, 1), "{e}");
    }

    #[test]
    fn edn_error_names_line_and_column() {
        let text = "{:process 1 :type :invoke :f :write :value 3}\n{:process 1 :type :ok :f :write :value 3}}\n{:process 1 :type :ok :f :write :value 3}\n";
        let e = read_edn_str(p(), text).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = read_edn_str(p(), "{:process 1 :f :read}\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains("type"), "{e}");
    }

    #[test]
    fn jsonl_roundtrip_and_truncation() {
        let ev = Event {
            index: 0,
            time: Some(10),
            process: Process::Client(4),
            kind: EventType::Invoke,
            f: "cas".into(),
            key: Some(Value::from("k3")),
            value: Value::List(vec![Value::Int(5), Value::Int(9)]),
            error: None,
            node: None,
            location: Location::default(),
        };
        let mut w = JsonlWriter::new(Vec::new());
        w.write(&ev).unwrap();
        let mut bytes = w.into_inner();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "{\"index\":0,\"time\":10,\"process\":4,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k3\",\"value\":[5,9]}\n"
        );
        bytes.extend_from_slice(b"{\"index\":1,\"process\":4,\"ty");
        let h = read_jsonl(Path::new("h.jsonl"), &bytes[..]).unwrap();
        assert_eq!(h.events.len(), 1);
        assert_eq!(h.events[0].value, ev.value);
        assert_eq!(h.warnings.len(), 1);
    }

    #[test]
    fn big_json_integers_stay_exact() {
        let text = concat!(
            r#"{"process":0,"type":"invoke","f":"write","value":[100000000000000000000001,-7,1.5,18446744073709551615]}"#,
            "\n",
            r#"{"process":0,"type":"ok","f":"write","value":{"b":1,"a":{"x":null},"b":2}}"#,
            "\n",
        );
        let h = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap();
        assert_eq!(
            h.events[0].value,
            Value::List(vec![
                Value::BigInt("100000000000000000000001".into()),
                Value::Int(-7),
                Value::float(1.5),
                Value::BigInt("18446744073709551615".into()),
            ])
        );
        // Objects as serde_json keeps them: sorted by key, the last of a repeated key.
        let json: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"x":null},"b":2}"#).unwrap();
        assert_eq!(h.events[1].value, Value::from_json(&json).unwrap());
        let bad = r#"{"process":0,"type":"invoke","f":"write","value":1e400}"#.to_string() + "\n";
        let e = read_jsonl(Path::new("h.jsonl"), bad.as_bytes()).unwrap_err();
        assert!(e.message.contains("64-bit float"), "{e}");
    }

    #[test]
    fn jsonl_bad_middle_line_is_an_error() {
        let text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":}\n{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n";
        let e = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.column > 0);
    }

    #[test]
    fn jsonl_read_ahead_on_other_threads_reads_as_line_by_line() {
        // Several batches, blank lines among them: every event, in order, with its line.
        let lines = 3 * JSONL_BATCH + 17;
        let mut text = String::new();
        for i in 0..lines {
            let kind = if i % 2 == 0 { "invoke" } else { "ok" };
            text += &format!(
                "{{\"process\":{},\"type\":\"{kind}\",\"f\":\"write\",\"value\":{i}}}\n",
                i / 2 % 7
            );
            if i % 1000 == 999 {
                text += "\n";
            }
        }
        let h = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap();
        assert_eq!(h.events.len(), lines);
        let last = h.events.last().unwrap();
        assert_eq!(last.value, Value::Int(lines as i64 - 1));
        assert_eq!(last.location.line, (lines + lines / 1000) as u64);
        let paired = {
            let tmp =
                std::env::temp_dir().join(format!("ferret-batches-{}.jsonl", std::process::id()));
            std::fs::write(&tmp, &text).unwrap();
            let p = read_calls(&tmp, None);
            std::fs::remove_file(&tmp).unwrap();
            p.unwrap()
        };
        assert_eq!(paired.calls.len(), lines.div_ceil(2));
        assert!(paired
            .calls
            .iter()
            .enumerate()
            .all(|(i, c)| c.invoke_value == Value::Int(2 * i as i64)));
        // A bad line in a later batch is the error, named by its line; a truncated last line
        // there is a warning, with every line before it read.
        let mut bad: Vec<&str> = text.lines().collect();
        let at = 2 * JSONL_BATCH + 5;
        bad[at] = "{\"process\":1,\"type\":";
        let e = read_jsonl(Path::new("h.jsonl"), (bad.join("\n") + "\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, at as u64 + 1);
        let cut = &text[..text.len() - 5];
        let h = read_jsonl(Path::new("h.jsonl"), cut.as_bytes()).unwrap();
        assert_eq!(h.events.len(), lines - 1);
        assert_eq!(h.warnings.len(), 1);
        assert!(
            h.warnings[0].message.contains("truncated"),
            "{:?}",
            h.warnings
        );
    }

    #[test]
    fn porcupine_etcd_lines() {
        let text = "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.core - nemesis started\nINFO  jepsen.util - 2  :info  :cas  :timed-out\nINFO  jepsen.util - :nemesis\t:info\t:start\tnil\n";
        let h = read_porcupine_etcd(Path::new("e.log"), text.as_bytes()).unwrap();
        assert_eq!(h.events.len(), 2);
        assert_eq!(h.events[0].value, Value::List(vec![3.into(), 0.into()]));
        assert_eq!(h.events[1].kind, EventType::Info);
        assert_eq!(h.events[1].value, Value::from("timed-out"));
    }

    #[test]
    fn detects_formats() {
        assert_eq!(Format::detect(b"{\"process\":1}"), Some(Format::Jsonl));
        assert_eq!(Format::detect(b"; c\n[{:process 1}]"), Some(Format::Edn));
        assert_eq!(
            Format::detect(b"{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x\"}"),
            Some(Format::PorcupineKv)
        );
        assert_eq!(
            Format::detect(b"INFO  jepsen.util - 0\t:invoke\t:read\tnil"),
            Some(Format::PorcupineEtcd)
        );
        assert_eq!(Format::detect(b"hello"), None);
        // A real jepsen.log starts with other loggers' lines; the first op line decides.
        assert_eq!(
            Format::detect(
                b"INFO  jepsen.core - nemesis :start\nWARN  jepsen.os - x\n\
                  INFO  jepsen.util - 0\t:invoke\t:read\tnil"
            ),
            Some(Format::PorcupineEtcd)
        );
        assert_eq!(
            Format::detect(b"INFO  jepsen.core - nemesis :start\n"),
            None
        );
        assert_eq!(Format::detect(b"INFORMATION\n"), None);
    }
}
