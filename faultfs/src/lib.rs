//! ferret's fault file system: a FUSE file system mounted over a node's data directory that
//! passes everything through to a real directory and remembers what was written but not made
//! durable, so a simulated power loss can drop exactly that.
//!
//! The model (docs/faults.md says more):
//! - File data is durable after `fsync`/`fdatasync` of the file, or a write through a handle
//!   opened `O_SYNC`/`O_DSYNC`. Until then a crash takes it back (the file's length too).
//!   `sync_file_range` never reaches a FUSE file system, and promises no durability anyway.
//! - A directory entry (create, mkdir, symlink, unlink, rmdir, rename) is durable after an fsync
//!   of every directory it changed, as on a file system without `dirsync` (`strict`, the
//!   default); or after any later fsync at all (`journaled`: ext4 and XFS commit one ordered
//!   journal). A file whose data was synced but whose entry was not is gone after a crash.
//! - Only data and names are modelled: modes, owners and times are not rolled back.
//!
//! - `journal`: data; `namespace`: names; `disk`: both plus armed faults, crash and corrupt;
//!   `fs`: the FUSE operations; `control`: the socket protocol; `daemon`: the process.

pub mod control;
pub mod daemon;
pub mod disk;
mod fs;
pub mod journal;
pub mod namespace;
pub mod sys;

pub use control::{ask, ControlError, Reply, Request};
pub use daemon::{serve, Options};
pub use disk::{CorruptEvidence, CrashEvidence, Disk, Metadata};
