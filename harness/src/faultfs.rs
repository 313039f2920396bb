//! `ferret faultfs`: the fault file system, as a subcommand the harness starts for each node
//! and a user can drive by hand.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ferret_faultfs::{ask, Request};
use std::path::PathBuf;

/// A FUSE file system that forgets what was not made durable.
///
/// `mount` passes every operation through to BACKING/tree and remembers what was written but not
/// fsynced, and which directory changes were not fsynced in their directory; the other verbs
/// ask a mounted one, through its control socket, to lose that data as a power cut would, fail
/// fsyncs, run out of space or flip bits. Needs root and /dev/fuse.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  ferret faultfs mount /var/tmp/b /mnt/data --control /run/fs.sock &\n  \
ferret faultfs crash /run/fs.sock --torn-seed 7\n  ferret faultfs unmount /run/fs.sock"
)]
pub struct FaultfsArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Mount over MOUNTPOINT and serve until `unmount`.
    Mount {
        backing: PathBuf,
        mountpoint: PathBuf,
        /// The control socket.
        #[arg(long)]
        control: PathBuf,
        /// Pass fsyncs on to the backing file system too (slower; the journal alone decides
        /// what a crash keeps).
        #[arg(long)]
        sync_through: bool,
        /// When directory changes become durable: `strict` (after an fsync of their
        /// directory) or `journaled` (after any later fsync, as ext4 and XFS do).
        #[arg(long, default_value = "strict")]
        metadata: ferret_faultfs::Metadata,
        /// Mount inside this mount namespace (e.g. /proc/PID/ns/mnt of a container).
        #[arg(long)]
        mount_ns: Option<PathBuf>,
    },
    /// Print what is not yet durable.
    Status { control: PathBuf },
    /// Lose power: drop every un-synced write and directory change, then mount again. Stop
    /// the processes using the mount first.
    Crash {
        control: PathBuf,
        /// Keep seeded, page-aligned prefixes of the last un-synced writes (a torn write).
        #[arg(long)]
        torn_seed: Option<u64>,
    },
    /// Make the next COUNT fsyncs fail with EIO (the data stays un-synced).
    FsyncError { control: PathBuf, count: u32 },
    /// Make writes fail with ENOSPC (`on`) or succeed again (`off`).
    DiskFull {
        control: PathBuf,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Flip bits in one 4 KiB block of a file matching PATTERN (a glob under the mount).
    Corrupt {
        control: PathBuf,
        pattern: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Unmount and stop serving.
    Unmount { control: PathBuf },
}

pub fn run(args: FaultfsArgs) -> Result<u8> {
    let (control, request) = match args.action {
        Action::Mount {
            backing,
            mountpoint,
            control,
            sync_through,
            metadata,
            mount_ns,
        } => {
            let o = ferret_faultfs::Options {
                backing,
                mountpoint,
                control,
                sync_through,
                metadata,
                mount_ns,
            };
            ferret_faultfs::serve(&o).with_context(|| {
                format!(
                    "cannot serve the fault file system on {}",
                    o.mountpoint.display()
                )
            })?;
            return Ok(crate::exit::VALID);
        }
        Action::Status { control } => (control, Request::Status),
        Action::Crash { control, torn_seed } => (control, Request::Crash { torn_seed }),
        Action::FsyncError { control, count } => (control, Request::FsyncError { count }),
        Action::DiskFull { control, state } => (control, Request::DiskFull { on: state == "on" }),
        Action::Corrupt {
            control,
            pattern,
            seed,
        } => (control, Request::Corrupt { pattern, seed }),
        Action::Unmount { control } => (control, Request::Exit),
    };
    let reply = ask(&control, &request)?;
    println!("{}", serde_json::to_string_pretty(&reply)?);
    Ok(crate::exit::VALID)
}
