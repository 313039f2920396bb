//! What of the directory tree is durable. A create, unlink, rename or mkdir happens on the
//! backing tree at once and is logged with how to undo it; it becomes durable when every
//! directory it changed has been fsynced since. An unlinked entry is moved to a trash directory
//! beside the tree until its removal is durable, so a crash can bring it back.

use crate::sys::{self, Key};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

/// A directory an entry was changed in: its handle, and its identity for fsyncdir.
#[derive(Clone)]
pub struct Dir {
    pub fd: Arc<OwnedFd>,
    pub key: Key,
}

pub enum Change {
    /// `name` appeared in `dir` (create, mkdir, symlink, mknod).
    Created { dir: Dir, name: OsString },
    /// `name` left `dir`; what it named waits in the trash as `trash`.
    Removed {
        dir: Dir,
        name: OsString,
        trash: OsString,
    },
    /// `from` was renamed to `to`; what `to` named before, if anything, waits in the trash.
    Renamed {
        from: (Dir, OsString),
        to: (Dir, OsString),
        replaced: Option<OsString>,
    },
}

impl Change {
    fn describe(&self) -> String {
        match self {
            Change::Created { name, .. } => format!("create {}", name.to_string_lossy()),
            Change::Removed { name, .. } => format!("unlink {}", name.to_string_lossy()),
            Change::Renamed { from, to, .. } => format!(
                "rename {} -> {}",
                from.1.to_string_lossy(),
                to.1.to_string_lossy()
            ),
        }
    }
}

struct Entry {
    change: Change,
    /// The directories not yet fsynced since the change.
    pending: Vec<Key>,
}

pub struct Namespace {
    trash: OwnedFd,
    log: Vec<Entry>,
    next_trash: u64,
}

impl Namespace {
    pub fn new(trash: OwnedFd) -> Namespace {
        Namespace {
            trash,
            log: Vec::new(),
            next_trash: 0,
        }
    }

    pub fn pending(&self) -> usize {
        self.log.len()
    }

    fn record(&mut self, change: Change) {
        let mut pending = match &change {
            Change::Created { dir, .. } | Change::Removed { dir, .. } => vec![dir.key],
            Change::Renamed { from, to, .. } => vec![from.0.key, to.0.key],
        };
        pending.dedup();
        self.log.push(Entry { change, pending });
    }

    pub fn created(&mut self, dir: Dir, name: &OsStr) {
        self.record(Change::Created {
            dir,
            name: name.to_owned(),
        });
    }

    fn trash_name(&mut self) -> OsString {
        self.next_trash += 1;
        OsString::from(format!("{}", self.next_trash))
    }

    /// Remove `name` from `dir` (unlink, rmdir): moved to the trash, undoable.
    pub fn remove(&mut self, dir: Dir, name: &OsStr) -> io::Result<()> {
        let trash = self.trash_name();
        sys::renameat(dir.fd.as_raw_fd(), name, self.trash.as_raw_fd(), &trash)?;
        self.record(Change::Removed {
            dir,
            name: name.to_owned(),
            trash,
        });
        Ok(())
    }

    /// Rename `from` to `to`, moving what `to` named to the trash first.
    pub fn rename(&mut self, from: (Dir, &OsStr), to: (Dir, &OsStr)) -> io::Result<()> {
        let replaced = if sys::exists(to.0.fd.as_raw_fd(), to.1)? {
            let t = self.trash_name();
            sys::renameat(to.0.fd.as_raw_fd(), to.1, self.trash.as_raw_fd(), &t)?;
            Some(t)
        } else {
            None
        };
        if let Err(e) = sys::renameat(from.0.fd.as_raw_fd(), from.1, to.0.fd.as_raw_fd(), to.1) {
            if let Some(t) = &replaced {
                let _ = sys::renameat(self.trash.as_raw_fd(), t, to.0.fd.as_raw_fd(), to.1);
            }
            return Err(e);
        }
        self.record(Change::Renamed {
            from: (from.0, from.1.to_owned()),
            to: (to.0, to.1.to_owned()),
            replaced,
        });
        Ok(())
    }

    /// `dir` was fsynced: changes whose every directory is now synced are durable, and what
    /// they removed is deleted for good.
    pub fn sync_dir(&mut self, dir: Key) {
        for e in &mut self.log {
            e.pending.retain(|k| *k != dir);
        }
        let (durable, kept): (Vec<Entry>, Vec<Entry>) =
            self.log.drain(..).partition(|e| e.pending.is_empty());
        self.log = kept;
        for e in durable {
            let gone = match e.change {
                Change::Removed { trash, .. } => Some(trash),
                Change::Renamed { replaced, .. } => replaced,
                Change::Created { .. } => None,
            };
            if let Some(t) = gone {
                let _ = sys::remove_all(self.trash.as_raw_fd(), &t);
            }
        }
    }

    /// Every change durable (a clean writeback): removed entries are deleted for good.
    pub fn settle(&mut self) {
        let dirs: Vec<Key> = self.log.iter().flat_map(|e| e.pending.clone()).collect();
        for d in dirs {
            self.sync_dir(d);
        }
    }

    /// Undo every change not durable, newest first. Returns what was undone.
    pub fn crash(&mut self) -> io::Result<Vec<String>> {
        let trash = self.trash.as_raw_fd();
        let mut undone = Vec::new();
        while let Some(e) = self.log.pop() {
            undone.push(e.change.describe());
            match e.change {
                Change::Created { dir, name } => {
                    let t = self.trash_name();
                    sys::renameat(dir.fd.as_raw_fd(), &name, trash, &t)?;
                    sys::remove_all(trash, &t)?;
                }
                Change::Removed {
                    dir,
                    name,
                    trash: t,
                } => {
                    sys::renameat(trash, &t, dir.fd.as_raw_fd(), &name)?;
                }
                Change::Renamed { from, to, replaced } => {
                    sys::renameat(to.0.fd.as_raw_fd(), &to.1, from.0.fd.as_raw_fd(), &from.1)?;
                    if let Some(t) = replaced {
                        sys::renameat(trash, &t, to.0.fd.as_raw_fd(), &to.1)?;
                    }
                }
            }
        }
        Ok(undone)
    }
}
