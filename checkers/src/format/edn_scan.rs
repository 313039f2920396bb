//! One scan of an EDN form's brackets, strings and comments: where the form ends, and whether it
//! nests deeper than the reader may recurse.

/// How deep EDN may nest. The reader recurses once per level; deeper input is an error, never a
/// stack overflow. Real ops nest a handful of levels.
pub const MAX_NESTING: usize = 128;

/// What a scan of the form at the start of a text found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The form ends at this byte offset.
    Ends(usize),
    /// It nests deeper than [`MAX_NESTING`] at this byte offset.
    TooDeep(usize),
    /// The scan does not follow it to its end (strict: a tag, a discard, an atom, a stray closer;
    /// either way: a form that does not end).
    Unfollowed,
}

/// Scan the form at the start of `text`, skipping strings, characters and comments.
///
/// `strict` is the reader's fast path: it follows only plain collections (sets included) and gives
/// up on anything else, which the EDN reader then reads. Otherwise the scan follows every form,
/// tags and top-level atoms too, only to say whether it nests too deep before the reader recurses.
pub fn scan(text: &str, strict: bool) -> Form {
    let bytes = text.as_bytes();
    if strict && matches!(bytes.first(), Some(b'#' | b'^' | b'\\' | b'"')) {
        return Form::Unfollowed;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b'\\' => i += 1,
            b';' if depth > 0 || !strict => i = line_end(bytes, i),
            // A set opens like a map; any other tag or a discard is left to the reader.
            b'#' if !strict || (depth > 0 && bytes.get(i + 1) == Some(&b'{')) => {}
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Form::TooDeep(i);
                }
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    return if strict {
                        Form::Unfollowed
                    } else {
                        Form::Ends(i + 1)
                    };
                }
                depth -= 1;
                if depth == 0 {
                    return Form::Ends(i + 1);
                }
            }
            b'#' => return Form::Unfollowed,
            // An atom at the top: nothing nests.
            b' ' | b'\t' | b'\r' | b'\n' | b','
                if !strict && depth == 0 && i > 0 && bytes[0] != b'#' =>
            {
                return Form::Ends(i);
            }
            _ if strict && depth == 0 => return Form::Unfollowed,
            _ => {}
        }
        i += 1;
    }
    Form::Unfollowed
}

/// Where the form at the start of `text` ends, by the strict scan; `None` when it does not end,
/// nests too deep, or starts with a tag or discard the scan does not follow.
pub fn form_end(text: &str) -> Option<usize> {
    match scan(text, true) {
        Form::Ends(n) => Some(n),
        _ => None,
    }
}

/// The byte offset where the form at the start of `text` nests deeper than [`MAX_NESTING`], if
/// it does.
pub fn check_nesting(text: &str) -> Result<(), usize> {
    match scan(text, false) {
        Form::TooDeep(at) => Err(at),
        _ => Ok(()),
    }
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
