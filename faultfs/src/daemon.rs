//! The file system's process: mount over the data directory, answer the control socket, and
//! on a crash unmount, roll the backing tree back, and mount again.

use crate::control::{Reply, Request};
use crate::disk::Disk;
use crate::fs::FaultFs;
use fuser::{BackgroundSession, Config, MountOption, SessionACL};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Options {
    /// Where the data really lives (`tree/` and `trash/` are made in it).
    pub backing: PathBuf,
    /// The node's data directory, mounted over.
    pub mountpoint: PathBuf,
    /// The control socket, made before the mount.
    pub control: PathBuf,
    /// Also fsync the backing file system on every fsync.
    pub sync_through: bool,
    /// When directory changes become durable.
    pub metadata: crate::disk::Metadata,
    /// Mount in this mount namespace (`/proc/PID/ns/mnt` of a container) instead of our own.
    pub mount_ns: Option<PathBuf>,
}

fn mount(disk: &Arc<Mutex<Disk>>, o: &Options) -> io::Result<BackgroundSession> {
    let fs = FaultFs::new(disk.clone(), o.sync_through)?;
    let mut cfg = Config::default();
    cfg.mount_options = vec![
        MountOption::FSName("ferret".into()),
        MountOption::Subtype("ferret".into()),
    ];
    // A system in a container may run as a user other than the one that mounted.
    cfg.acl = SessionACL::All;
    fuser::spawn_mount(fs, &o.mountpoint, &cfg)
}

/// Unmount and wait (bounded) for the session to end: the node's processes are gone, so
/// nothing holds the mount.
fn unmount(session: BackgroundSession, mountpoint: &Path) {
    if let Ok(c) = std::ffi::CString::new(mountpoint.as_os_str().as_encoded_bytes()) {
        // SAFETY: a valid C string; MNT_DETACH never blocks.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = session.join();
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(10));
}

fn enter_mount_ns(path: &Path) -> io::Result<()> {
    let f = std::fs::File::open(path)?;
    use std::os::fd::AsRawFd;
    // SAFETY: setns with a namespace descriptor; called before any thread is started.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNS) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Serve until an `exit` request (or the control socket fails).
pub fn serve(o: &Options) -> io::Result<()> {
    let disk = Arc::new(Mutex::new(Disk::open(&o.backing, o.metadata)?));
    let _ = std::fs::remove_file(&o.control);
    // Bound on this machine before the namespace changes, so the harness can reach it.
    let listener = UnixListener::bind(&o.control)?;
    if let Some(ns) = &o.mount_ns {
        enter_mount_ns(ns)?;
    }
    std::fs::create_dir_all(&o.mountpoint)?;
    let mut session = Some(mount(&disk, o)?);
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let mut line = String::new();
        if BufReader::new(&conn).read_line(&mut line).is_err() {
            continue;
        }
        let request: Result<Request, _> = serde_json::from_str(line.trim());
        let exit = matches!(request, Ok(Request::Exit));
        let mut reply = match request {
            Ok(r) => answer(r, &disk, &mut session, o),
            Err(e) => Reply {
                error: Some(format!("not a request: {e}")),
                ..Reply::default()
            },
        };
        {
            let d = disk.lock().unwrap_or_else(|e| e.into_inner());
            reply.unsynced_bytes = d.journal.unsynced_bytes();
            reply.pending_entries = d.namespace.pending();
            reply.fsync_errors_armed = d.fsync_errors;
            reply.fsyncs_failed = d.fsyncs_failed;
            reply.space_refused = d.space_refused;
        }
        let mut out = serde_json::to_string(&reply).expect("replies serialize");
        out.push('\n');
        let _ = (&conn).write_all(out.as_bytes());
        if exit {
            break;
        }
    }
    if let Some(s) = session.take() {
        unmount(s, &o.mountpoint);
    }
    let _ = std::fs::remove_file(&o.control);
    Ok(())
}

fn answer(
    r: Request,
    disk: &Arc<Mutex<Disk>>,
    session: &mut Option<BackgroundSession>,
    o: &Options,
) -> Reply {
    let ok = |reply: Reply| Reply { ok: true, ..reply };
    let failed = |e: io::Error| Reply {
        error: Some(e.to_string()),
        ..Reply::default()
    };
    let lock = || disk.lock().unwrap_or_else(|e| e.into_inner());
    match r {
        Request::Status | Request::Exit => ok(Reply::default()),
        Request::Settle => {
            lock().settle();
            ok(Reply::default())
        }
        Request::FsyncError { count } => {
            let mut d = lock();
            d.fsync_errors = count;
            if count > 0 {
                d.fsyncs_failed = 0;
            }
            ok(Reply::default())
        }
        Request::DiskFull { on } => {
            let mut d = lock();
            if on && !d.full {
                d.space_refused = 0;
            }
            d.full = on;
            ok(Reply::default())
        }
        Request::Corrupt { pattern, seed } => match lock().corrupt(&pattern, seed) {
            Ok(ev) => ok(Reply {
                corrupt: Some(ev),
                ..Reply::default()
            }),
            Err(e) => failed(e),
        },
        Request::Crash { torn_seed } => {
            if let Some(s) = session.take() {
                unmount(s, &o.mountpoint);
            }
            let result = lock().crash(torn_seed);
            // Mounted again even when the rollback failed, so the node can restart.
            match mount(disk, o) {
                Ok(s) => *session = Some(s),
                Err(e) => return failed(e),
            }
            match result {
                Ok(ev) => ok(Reply {
                    crash: Some(ev),
                    ..Reply::default()
                }),
                Err(e) => failed(e),
            }
        }
    }
}
