//! What of a file's data is durable. Writes go through to the backing file at once (so reads are
//! plain reads); before a write or a shrinking truncate first touches a page of the durable
//! region, that page's durable content is saved. A sync forgets the saved pages; a crash writes
//! them back and truncates the file to its durable length. Appends, the common case of logs,
//! save nothing.

use crate::sys::{pread_full, Key};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

pub const PAGE: u64 = 4096;

/// One file's un-synced state.
pub struct FileJournal {
    /// The file, open for reading and writing (to save and restore pages).
    pub file: Arc<File>,
    /// The file's length as last made durable.
    pub durable_len: u64,
    /// Page index → the page's durable content (`None`: all zeros), for durable pages changed
    /// since the last sync.
    pub saved: BTreeMap<u64, Option<Box<[u8]>>>,
    /// The un-synced writes, in order: (offset, length).
    pub writes: Vec<(u64, u64)>,
    pub unsynced_bytes: u64,
}

impl FileJournal {
    fn new(file: Arc<File>) -> io::Result<FileJournal> {
        let durable_len = file.metadata()?.len();
        Ok(FileJournal {
            file,
            durable_len,
            saved: BTreeMap::new(),
            writes: Vec::new(),
            unsynced_bytes: 0,
        })
    }

    /// Save the durable content of every page in [from, to) not saved yet.
    fn save(&mut self, from: u64, to: u64) -> io::Result<()> {
        let to = to.min(self.durable_len);
        if from >= to {
            return Ok(());
        }
        for page in from / PAGE..to.div_ceil(PAGE) {
            if self.saved.contains_key(&page) {
                continue;
            }
            let len = PAGE.min(self.durable_len - page * PAGE) as usize;
            let mut buf = vec![0u8; len];
            let n = pread_full(&self.file, &mut buf, page * PAGE)?;
            buf.truncate(n);
            let content = if buf.iter().all(|&b| b == 0) {
                None
            } else {
                Some(buf.into_boxed_slice())
            };
            self.saved.insert(page, content);
        }
        Ok(())
    }

    /// Put the durable content back and cut the file to its durable length.
    fn restore(&self) -> io::Result<()> {
        let zeros = [0u8; PAGE as usize];
        for (&page, content) in &self.saved {
            let len = PAGE.min(self.durable_len.saturating_sub(page * PAGE)) as usize;
            let data = content.as_deref().unwrap_or(&zeros[..len]);
            self.file
                .write_all_at(&data[..len.min(data.len())], page * PAGE)?;
        }
        self.file.set_len(self.durable_len)
    }
}

/// The un-synced data of every file, by backing identity.
#[derive(Default)]
pub struct Journal {
    pub files: HashMap<Key, FileJournal>,
}

/// What a crash did to one file.
pub struct Dropped {
    pub key: Key,
    pub file: Arc<File>,
    pub dropped: u64,
    pub torn: u64,
}

impl Journal {
    fn entry(
        &mut self,
        key: Key,
        open: impl FnOnce() -> io::Result<File>,
    ) -> io::Result<&mut FileJournal> {
        use std::collections::hash_map::Entry;
        Ok(match self.files.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(FileJournal::new(Arc::new(open()?))?),
        })
    }

    /// Before writing `len` bytes at `offset`.
    pub fn before_write(
        &mut self,
        key: Key,
        open: impl FnOnce() -> io::Result<File>,
        offset: u64,
        len: u64,
    ) -> io::Result<()> {
        let j = self.entry(key, open)?;
        j.save(offset, offset + len)?;
        j.writes.push((offset, len));
        j.unsynced_bytes += len;
        Ok(())
    }

    /// Before a truncate, an allocation or a hole: save the durable pages in [from, to).
    pub fn before_change(
        &mut self,
        key: Key,
        open: impl FnOnce() -> io::Result<File>,
        from: u64,
        to: u64,
    ) -> io::Result<()> {
        let j = self.entry(key, open)?;
        j.save(from, to)
    }

    /// The file's data is durable (fsync, fdatasync, an O_SYNC write).
    pub fn sync(&mut self, key: Key) {
        self.files.remove(&key);
    }

    pub fn unsynced_bytes(&self) -> u64 {
        self.files.values().map(|j| j.unsynced_bytes).sum()
    }

    /// Drop every un-synced change. With `torn`, each file keeps its first `k` un-synced writes
    /// whole and a page-aligned prefix of the next, `k` and the prefix chosen by `torn`.
    pub fn crash(
        &mut self,
        mut torn: Option<&mut dyn FnMut(u64) -> u64>,
    ) -> io::Result<Vec<Dropped>> {
        let mut out = Vec::new();
        let mut keys: Vec<Key> = self.files.keys().copied().collect();
        keys.sort();
        for key in keys {
            let j = self.files.remove(&key).expect("listed above");
            // The ranges kept by a tear, with their current content.
            let mut kept: Vec<(u64, Vec<u8>)> = Vec::new();
            if let (Some(pick), false) = (torn.as_mut(), j.writes.is_empty()) {
                let n = j.writes.len() as u64;
                let whole = pick(n) as usize; // 0..n: how many writes survive whole
                let mut ranges: Vec<(u64, u64)> = j.writes[..whole].to_vec();
                if let Some(&(off, len)) = j.writes.get(whole) {
                    // Page boundaries strictly inside the write: a prefix may end at any.
                    let first = off / PAGE + 1;
                    let last = (off + len).div_ceil(PAGE); // exclusive
                    if last > first {
                        let cut = (first + pick(last - first)) * PAGE;
                        if cut > off && cut < off + len {
                            ranges.push((off, cut - off));
                        }
                    }
                }
                for (off, len) in ranges {
                    let mut buf = vec![0u8; len as usize];
                    let n = pread_full(&j.file, &mut buf, off)?;
                    buf.truncate(n);
                    kept.push((off, buf));
                }
            }
            j.restore()?;
            let mut torn_bytes = 0;
            for (off, data) in &kept {
                j.file.write_all_at(data, *off)?;
                torn_bytes += data.len() as u64;
            }
            out.push(Dropped {
                key,
                file: j.file.clone(),
                dropped: j.unsynced_bytes.saturating_sub(torn_bytes),
                torn: torn_bytes,
            });
        }
        Ok(out)
    }
}
