//! Properties the readers must keep under damage, shared by the test suite and the fuzz targets.
//!
//! A damaged history file must never check valid because the damage went unnoticed: one changed
//! byte either is caught (an error), or leaves every event in place, or shortens the history only
//! by the last line of a file whose end was cut — and then says so in a warning.

use crate::format::{read_edn_str, read_jsonl, JsonlWriter};
use crate::history::{Event, History};
use crate::synth::{register_history, SynthOptions};
use crate::{check, Budget, CheckOptions, VerdictName};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// A small history from the simulated store, with unknown outcomes and stale reads: often
/// invalid, so damage that turns it valid shows.
pub fn subject(seed: u64, calls: usize) -> History {
    register_history(&SynthOptions {
        calls,
        keys: 2,
        processes: 3,
        unknown: 0.1,
        stale_reads: 0.3,
        seed,
    })
}

/// Checks for damage properties: quick, one thread, no shrinking.
pub fn check_options() -> CheckOptions {
    CheckOptions {
        budget: Budget {
            time: Duration::from_secs(5),
            memory: 64 << 20,
            ..Budget::default()
        },
        shrink_steps: 0,
        threads: 1,
        ..CheckOptions::default()
    }
}

/// The verdict of the intact history, to hold damaged copies to.
pub fn intact_verdict(h: &History) -> VerdictName {
    check(h, &check_options())
        .map(|r| r.verdict)
        .unwrap_or(VerdictName::Valid)
}

/// The history as EDN, one op map per line, inside a top-level vector when `vector`.
pub fn edn_text(history: &History, vector: bool) -> String {
    let mut s = String::new();
    if vector {
        s.push('[');
    }
    for e in &history.events {
        let _ = write!(
            s,
            "{{:index {}, :process {}, :type :{}, :f :{}",
            e.index,
            match &e.process {
                crate::Process::Nemesis => ":nemesis".to_string(),
                p => p.to_string(),
            },
            e.kind.as_str(),
            e.f
        );
        if let Some(t) = e.time {
            let _ = write!(s, ", :time {t}");
        }
        if let Some(k) = &e.key {
            let _ = write!(s, ", :key {k}");
        }
        let _ = writeln!(s, ", :value {}}}", e.value);
    }
    if vector {
        s.push_str("]\n");
    }
    s
}

/// The history as ferret's JSONL.
pub fn jsonl_text(history: &History) -> String {
    let mut w = JsonlWriter::new(Vec::new());
    for e in &history.events {
        w.write(e).expect("writing to memory");
    }
    String::from_utf8(w.into_inner()).expect("JSON is UTF-8")
}

/// Which text format a property runs on.
#[derive(Clone, Copy, Debug)]
pub enum TextFormat {
    Jsonl,
    EdnLines,
    EdnVector,
}

impl TextFormat {
    pub fn render(self, h: &History) -> String {
        match self {
            TextFormat::Jsonl => jsonl_text(h),
            TextFormat::EdnLines => edn_text(h, false),
            TextFormat::EdnVector => edn_text(h, true),
        }
    }

    pub fn read(self, text: &str) -> Option<History> {
        match self {
            TextFormat::Jsonl => read_jsonl(Path::new("h.jsonl"), text.as_bytes()).ok(),
            _ => read_edn_str(Path::new("h.edn"), text).ok(),
        }
    }
}

/// Events without their places in a file, for comparing histories read from different texts.
fn same_events(a: &[Event], b: &[Event]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.index == y.index
                && x.time == y.time
                && x.process == y.process
                && x.kind == y.kind
                && x.f == y.f
                && x.key == y.key
                && x.value == y.value
                && x.error == y.error
        })
}

/// Reading what was written gives the same events back.
pub fn round_trips(h: &History, format: TextFormat) -> Result<(), String> {
    let text = format.render(h);
    let back = format
        .read(&text)
        .ok_or_else(|| format!("{format:?} text written by ferret does not read back"))?;
    let again = TextFormat::Jsonl
        .read(&jsonl_text(&back))
        .ok_or("JSONL written from the read history does not read back")?;
    if !same_events(&h.events, &back.events) || !same_events(&h.events, &again.events) {
        return Err(format!("{format:?} round trip changed the events"));
    }
    Ok(())
}

/// Replace the byte at `pos` of the rendered history with `byte` and hold the reader and checker
/// to the damage property. `original_verdict` is the intact history's.
pub fn corrupted_byte(
    h: &History,
    format: TextFormat,
    pos: usize,
    byte: u8,
    opts: &CheckOptions,
    original_verdict: VerdictName,
) -> Result<(), String> {
    let mut bytes = format.render(h).into_bytes();
    if bytes.is_empty() {
        return Ok(());
    }
    let pos = pos % bytes.len();
    if bytes[pos] == byte {
        return Ok(());
    }
    bytes[pos] = byte;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(());
    };
    let Some(damaged) = format.read(&text) else {
        return Ok(());
    };
    let n = h.events.len();
    let m = damaged.events.len();
    if m < n {
        // Only a cut last line may go, and never without a word.
        let last_line_start = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
        if damaged.warnings.is_empty() || pos < last_line_start {
            return Err(format!(
                "byte {pos} set to {byte:?} dropped {} of {n} events silently (warnings: {:?})\n{text}",
                n - m,
                damaged.warnings
            ));
        }
    }
    if same_events(&h.events, &damaged.events) {
        let verdict = check(&damaged, opts)
            .map(|r| r.verdict)
            .map_err(|e| e.to_string())?;
        if verdict != original_verdict {
            return Err(format!(
                "byte {pos} set to {byte:?} left the events intact but the verdict went from \
                 {original_verdict:?} to {verdict:?}"
            ));
        }
    }
    Ok(())
}
