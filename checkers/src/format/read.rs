//! Reading a history file in a named format, or the one its first op line shows.

use crate::format::builder::EventBuilder;
use crate::format::detect::{Format, DETECT_PREFIX};
use crate::format::edn::edn_into;
use crate::format::error::{line_col, ReadError};
use crate::format::jsonl::jsonl_into;
use crate::format::porcupine::porcupine_etcd_into;
use crate::history::{Call, Event, History, Warning};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

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
