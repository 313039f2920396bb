//! One node's disk: the backing tree, what of it is durable (data journal and namespace log), and
//! the faults armed on it. The file system's operations and the control socket both act on it.

use crate::journal::{Journal, PAGE};
use crate::namespace::Namespace;
use crate::sys;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What a crash dropped, as evidence for the nemesis log.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CrashEvidence {
    /// Un-synced bytes written and now gone.
    pub bytes_dropped: u64,
    /// Un-synced bytes a torn write kept.
    pub bytes_torn: u64,
    /// Each file that lost data: "path: -N bytes" (and "+M torn").
    pub files: Vec<String>,
    /// Directory changes undone, newest first.
    pub entries_undone: Vec<String>,
}

/// What a corruption flipped.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CorruptEvidence {
    pub file: String,
    pub offset: u64,
    pub bits: u32,
}

pub struct Disk {
    /// The backing directory: `tree/` is what the node sees, `trash/` holds removed entries.
    pub backing: PathBuf,
    pub tree: OwnedFd,
    pub journal: Journal,
    pub namespace: Namespace,
    /// fsync calls still to fail with EIO.
    pub fsync_errors: u32,
    /// Writes, creates and allocations fail with ENOSPC.
    pub full: bool,
    /// fsyncs failed with EIO since the fault was armed.
    pub fsyncs_failed: u64,
    /// Operations refused with ENOSPC since the disk was made full.
    pub space_refused: u64,
    /// When directory changes become durable.
    pub metadata: Metadata,
}

/// When a directory change (create, rename, unlink, mkdir) becomes durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metadata {
    /// After an fsync of every directory it changed: the least POSIX promises.
    #[default]
    Strict,
    /// After any later fsync or fdatasync on the file system: one ordered journal committed
    /// whole, as ext4 (data=ordered) and XFS behave in practice.
    Journaled,
}

impl std::str::FromStr for Metadata {
    type Err = String;
    fn from_str(s: &str) -> Result<Metadata, String> {
        match s {
            "strict" => Ok(Metadata::Strict),
            "journaled" => Ok(Metadata::Journaled),
            _ => Err(format!("{s:?}: expected strict or journaled")),
        }
    }
}

impl Disk {
    /// Open (creating if needed) a backing directory.
    pub fn open(backing: &Path, metadata: Metadata) -> io::Result<Disk> {
        let tree = backing.join("tree");
        let trash = backing.join("trash");
        std::fs::create_dir_all(&tree)?;
        std::fs::create_dir_all(&trash)?;
        Ok(Disk {
            backing: backing.to_path_buf(),
            tree: sys::open_dir_path(&tree)?,
            journal: Journal::default(),
            namespace: Namespace::new(sys::open_dir_path(&trash)?),
            fsync_errors: 0,
            full: false,
            fsyncs_failed: 0,
            space_refused: 0,
            metadata,
        })
    }

    /// A backing file's path as the node sees it (relative to the tree), or where it is now.
    fn shown(&self, fd: i32) -> String {
        let path = std::fs::read_link(sys::proc_path(fd)).unwrap_or_default();
        let tree = self.backing.join("tree");
        match path.strip_prefix(&tree) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => format!("(removed) {}", path.display()),
        }
    }

    /// Drop everything not durable (`torn_seed`: keep seeded prefixes of the last writes).
    pub fn crash(&mut self, torn_seed: Option<u64>) -> io::Result<CrashEvidence> {
        let mut rng = torn_seed.map(ChaCha8Rng::seed_from_u64);
        let mut pick = |n: u64| match rng.as_mut() {
            Some(r) if n > 0 => r.random_range(0..n),
            _ => 0,
        };
        let dropped = self.journal.crash(match torn_seed {
            Some(_) => Some(&mut pick),
            None => None,
        })?;
        let mut ev = CrashEvidence::default();
        for d in &dropped {
            ev.bytes_dropped += d.dropped;
            ev.bytes_torn += d.torn;
            if d.dropped + d.torn > 0 {
                let mut line = format!("{}: -{} bytes", self.shown(d.file.as_raw_fd()), d.dropped);
                if d.torn > 0 {
                    line.push_str(&format!(", {} torn bytes kept", d.torn));
                }
                ev.files.push(line);
            }
        }
        ev.entries_undone = self.namespace.crash()?;
        Ok(ev)
    }

    /// An fsync of the file system's journal (under `Journaled`): every directory change so
    /// far is durable.
    pub fn commit_entries(&mut self) {
        if self.metadata == Metadata::Journaled {
            self.namespace.settle();
        }
    }

    /// Make everything durable (what a clean shutdown's writeback would do).
    pub fn settle(&mut self) {
        self.journal = Journal::default();
        self.namespace.settle();
    }

    /// Flip 1 to 8 bits of one 4 KiB block holding data (not all zeros) of a file whose path in
    /// the tree matches `pattern`, all chosen by `seed`. The flip is durable.
    pub fn corrupt(&mut self, pattern: &str, seed: u64) -> io::Result<CorruptEvidence> {
        let pat = glob::Pattern::new(pattern).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad pattern {pattern:?}: {e}"),
            )
        })?;
        self.settle();
        let root = self.backing.join("tree");
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let e = e?;
                let t = e.file_type()?;
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() && e.metadata()?.len() > 0 {
                    let rel = e
                        .path()
                        .strip_prefix(&root)
                        .unwrap_or(&e.path())
                        .to_path_buf();
                    if pat.matches_path(&rel) {
                        files.push(rel);
                    }
                }
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no non-empty file matches {pattern:?}"),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rel = files[rng.random_range(0..files.len())].clone();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(root.join(&rel))?;
        let len = f.metadata()?.len();
        // A block that holds data: a preallocated file (a WAL segment) is mostly zeros, and a
        // flip there would change nothing the system ever reads.
        let mut held = Vec::new();
        let mut buf = vec![0u8; PAGE as usize];
        for block in 0..len.div_ceil(PAGE) {
            let n = sys::pread_full(&f, &mut buf, block * PAGE)?;
            if buf[..n].iter().any(|&b| b != 0) {
                held.push(block);
            }
        }
        if held.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} holds only zeros", rel.display()),
            ));
        }
        let block = held[rng.random_range(0..held.len())];
        let start = block * PAGE;
        let mut buf = vec![0u8; PAGE.min(len - start) as usize];
        let n = sys::pread_full(&f, &mut buf, start)?;
        buf.truncate(n);
        let bits = rng.random_range(1..=8u32);
        let mut first = None;
        for _ in 0..bits {
            let i = rng.random_range(0..buf.len());
            buf[i] ^= 1 << rng.random_range(0..8u32);
            first.get_or_insert(start + i as u64);
        }
        f.write_all_at(&buf, start)?;
        Ok(CorruptEvidence {
            file: rel.display().to_string(),
            offset: first.unwrap_or(start),
            bits,
        })
    }
}
