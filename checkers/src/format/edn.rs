//! Jepsen's EDN histories: a vector of op maps, or one map per line; plain op maps read by a
//! fast path, anything else by the EDN reader.

use crate::format::builder::{EventBuilder, Fields, Name, PARALLEL_FROM};
use crate::format::edn_scan::{check_nesting, form_end, MAX_NESTING};
use crate::format::error::{line_col, ReadError};
use crate::history::{History, Location};
use crate::value::{Value, ValueError};
use clojure_reader::edn::Edn;
use std::path::Path;

pub(crate) fn edn_to_value(e: &Edn) -> Value {
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

pub(crate) fn edn_into(b: &mut EventBuilder, text: &str) -> Result<(), ReadError> {
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
pub(crate) fn plain_op(form: &str) -> Option<Fields> {
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

/// An integer as EDN writes it plainly; a leading zero (octal in Clojure), a suffix or anything
/// but digits is left to the reader.
pub(crate) fn plain_int(t: &str) -> Option<i64> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    t.parse().ok()
}

pub(crate) struct Plain<'a> {
    pub(crate) s: &'a str,
    pub(crate) i: usize,
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

    pub(crate) fn value(&mut self, depth: usize) -> Option<Value> {
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

pub(crate) fn edn_fields(v: &Value) -> Result<Fields, String> {
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
pub fn parse_value(text: &str) -> Result<Value, ValueError> {
    if check_nesting(text.trim_start()).is_err() {
        return Err(ValueError::TooDeep(MAX_NESTING));
    }
    clojure_reader::edn::read_string(text)
        .map(|e| edn_to_value(&e))
        .map_err(|e| ValueError::NotEdn {
            text: text.to_string(),
            reason: format!("{:?}", e.code),
        })
}
