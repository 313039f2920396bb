//! The fault file system's semantics on real files, through a real FUSE mount: what a crash
//! keeps and drops, torn writes, EIO on fsync, ENOSPC, bit flips. Needs root and /dev/fuse; fails
//! (never skips) without them.

use ferret_faultfs::{ask, Options, Reply, Request};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Mounted {
    dir: tempfile::TempDir,
    control: PathBuf,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Mounted {
    fn new() -> Mounted {
        Mounted::with(ferret_faultfs::Metadata::Strict)
    }

    fn with(metadata: ferret_faultfs::Metadata) -> Mounted {
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            backing: dir.path().join("backing"),
            mountpoint: dir.path().join("data"),
            control: dir.path().join("control.sock"),
            sync_through: false,
            metadata,
            mount_ns: None,
        };
        let control = o.control.clone();
        let mountpoint = o.mountpoint.clone();
        let thread = std::thread::spawn(move || ferret_faultfs::serve(&o));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mounted = fs::read_to_string("/proc/mounts")
                .unwrap()
                .lines()
                .any(|l| l.split(' ').nth(1) == Some(mountpoint.to_str().unwrap()));
            if mounted && ask(&control, &Request::Status).is_ok() {
                break;
            }
            if thread.is_finished() {
                panic!(
                    "the fault file system did not mount (root and /dev/fuse needed): {:?}",
                    thread.join().unwrap()
                );
            }
            assert!(Instant::now() < deadline, "not mounted after 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Mounted {
            dir,
            control,
            thread: Some(thread),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn ask(&self, r: Request) -> Reply {
        ask(&self.control, &r).unwrap()
    }

    fn crash(&self, torn_seed: Option<u64>) -> Reply {
        self.ask(Request::Crash { torn_seed })
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = ask(&self.control, &Request::Exit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_synced(path: &Path, data: &[u8]) {
    let mut f = File::create(path).unwrap();
    f.write_all(data).unwrap();
    f.sync_all().unwrap();
}

fn sync_dir(path: &Path) {
    File::open(path).unwrap().sync_all().unwrap();
}

#[test]
fn a_crash_keeps_what_was_synced_and_drops_the_rest() {
    let m = Mounted::new();
    let d = m.data();
    write_synced(&d.join("kept"), b"durable\n");
    write_synced(&d.join("overwritten"), &[b'a'; 10000]);
    write_synced(&d.join("unlinked"), b"still here\n");
    write_synced(&d.join("renamed"), b"old name\n");
    sync_dir(&d);

    // Not synced: an append, an overwrite in the middle, a truncate, an unlink, a rename, a new
    // file synced without its directory.
    OpenOptions::new()
        .append(true)
        .open(d.join("kept"))
        .unwrap()
        .write_all(b"lost\n")
        .unwrap();
    let f = OpenOptions::new()
        .write(true)
        .open(d.join("overwritten"))
        .unwrap();
    f.write_all_at(&[b'b'; 5000], 3000).unwrap();
    f.set_len(100).unwrap();
    drop(f);
    fs::remove_file(d.join("unlinked")).unwrap();
    fs::rename(d.join("renamed"), d.join("new-name")).unwrap();
    write_synced(&d.join("never-entered"), b"synced data, unsynced entry\n");
    assert_eq!(fs::read(d.join("kept")).unwrap(), b"durable\nlost\n");

    let r = m.crash(None);
    let ev = r.crash.unwrap();
    assert_eq!(ev.bytes_dropped, 5 + 5000, "{ev:?}");
    assert_eq!(ev.bytes_torn, 0);
    assert_eq!(fs::read(d.join("kept")).unwrap(), b"durable\n");
    assert_eq!(fs::read(d.join("overwritten")).unwrap(), vec![b'a'; 10000]);
    assert_eq!(fs::read(d.join("unlinked")).unwrap(), b"still here\n");
    assert_eq!(fs::read(d.join("renamed")).unwrap(), b"old name\n");
    assert!(!d.join("new-name").exists());
    assert!(!d.join("never-entered").exists());
    assert_eq!((r.unsynced_bytes, r.pending_entries), (0, 0));
}

#[test]
fn sync_file_range_makes_nothing_durable() {
    use std::os::fd::AsRawFd;
    let m = Mounted::new();
    let d = m.data();
    write_synced(&d.join("f"), b"kept\n");
    sync_dir(&d);
    let mut f = OpenOptions::new().append(true).open(d.join("f")).unwrap();
    f.write_all(b"only range-synced\n").unwrap();
    let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    // SAFETY: sync_file_range on an open descriptor, the whole file.
    assert_eq!(
        unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, flags) },
        0
    );
    assert_eq!(m.ask(Request::Status).unsynced_bytes, 18);
    drop(f);
    m.crash(None);
    assert_eq!(fs::read(d.join("f")).unwrap(), b"kept\n");
}

#[test]
fn a_directory_fsync_makes_its_entries_durable() {
    let m = Mounted::new();
    let d = m.data();
    fs::create_dir(d.join("wal")).unwrap();
    sync_dir(&d);
    write_synced(&d.join("wal/0.tmp"), b"segment");
    fs::rename(d.join("wal/0.tmp"), d.join("wal/0.wal")).unwrap();
    sync_dir(&d.join("wal"));
    // After the directory's fsync an unlink is durable too.
    write_synced(&d.join("gone"), b"x");
    sync_dir(&d);
    fs::remove_file(d.join("gone")).unwrap();
    sync_dir(&d);
    let ev = m.crash(None).crash.unwrap();
    assert_eq!(ev.entries_undone, Vec::<String>::new());
    assert_eq!(fs::read(d.join("wal/0.wal")).unwrap(), b"segment");
    assert!(!d.join("wal/0.tmp").exists());
    assert!(!d.join("gone").exists());
}

#[test]
fn journaled_metadata_commits_every_earlier_entry_with_any_fsync() {
    let m = Mounted::with(ferret_faultfs::Metadata::Journaled);
    let d = m.data();
    // etcd's pattern: mkdir member, never fsync the data directory, fsync a file below.
    fs::create_dir_all(d.join("member/wal")).unwrap();
    write_synced(&d.join("member/wal/0.wal"), b"entries");
    fs::create_dir(d.join("later")).unwrap();
    let ev = m.crash(None).crash.unwrap();
    assert_eq!(ev.entries_undone, vec!["create later".to_string()]);
    assert_eq!(fs::read(d.join("member/wal/0.wal")).unwrap(), b"entries");
    // The same under strict metadata loses the whole member directory.
    let m = Mounted::new();
    let d = m.data();
    fs::create_dir_all(d.join("member/wal")).unwrap();
    write_synced(&d.join("member/wal/0.wal"), b"entries");
    sync_dir(&d.join("member/wal"));
    sync_dir(&d.join("member"));
    m.crash(None);
    assert!(!d.join("member").exists());
}

#[test]
fn a_torn_write_keeps_a_page_aligned_prefix() {
    let m = Mounted::new();
    let d = m.data();
    write_synced(&d.join("log"), b"");
    sync_dir(&d);
    let data: Vec<u8> = (0..3 * 4096 + 100).map(|i| (i % 251) as u8).collect();
    OpenOptions::new()
        .write(true)
        .open(d.join("log"))
        .unwrap()
        .write_all_at(&data, 0)
        .unwrap();
    let ev = m.crash(Some(7)).crash.unwrap();
    let after = fs::read(d.join("log")).unwrap();
    assert!(
        [4096, 8192, 12288].contains(&after.len()),
        "kept {} bytes",
        after.len()
    );
    assert_eq!(after, data[..after.len()]);
    assert_eq!(ev.bytes_torn, after.len() as u64);
    assert_eq!(ev.bytes_dropped, (data.len() - after.len()) as u64);
}

#[test]
fn an_fsync_error_leaves_the_data_unsynced() {
    let m = Mounted::new();
    let d = m.data();
    write_synced(&d.join("f"), b"one\n");
    sync_dir(&d);
    m.ask(Request::FsyncError { count: 1 });
    let mut f = OpenOptions::new().append(true).open(d.join("f")).unwrap();
    f.write_all(b"two\n").unwrap();
    let err = f.sync_all().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    drop(f);
    let r = m.ask(Request::Status);
    assert_eq!((r.fsyncs_failed, r.fsync_errors_armed), (1, 0));
    m.crash(None);
    assert_eq!(fs::read(d.join("f")).unwrap(), b"one\n");
    // Only once: the next fsync succeeds and keeps the data.
    let mut f = OpenOptions::new().append(true).open(d.join("f")).unwrap();
    f.write_all(b"three\n").unwrap();
    f.sync_all().unwrap();
    drop(f);
    m.crash(None);
    assert_eq!(fs::read(d.join("f")).unwrap(), b"one\nthree\n");
}

#[test]
fn a_full_disk_refuses_writes_until_it_is_freed() {
    let m = Mounted::new();
    let d = m.data();
    write_synced(&d.join("f"), b"before\n");
    m.ask(Request::DiskFull { on: true });
    let mut f = OpenOptions::new().append(true).open(d.join("f")).unwrap();
    let err = f.write_all(b"more").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    let err = File::create(d.join("new")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    let r = m.ask(Request::DiskFull { on: false });
    assert_eq!(r.space_refused, 2);
    f.write_all(b"after\n").unwrap();
    assert_eq!(fs::read(d.join("f")).unwrap(), b"before\nafter\n");
}

#[test]
fn corrupt_flips_bits_in_one_block_of_a_matching_file() {
    let m = Mounted::new();
    let d = m.data();
    fs::create_dir(d.join("wal")).unwrap();
    // Data in one block of a preallocated-looking file: the flip must land there.
    let mut original = vec![0u8; 64 * 1024];
    for (i, b) in original[40960..45000].iter_mut().enumerate() {
        *b = (i * 7 % 255 + 1) as u8;
    }
    write_synced(&d.join("wal/0.wal"), &original);
    write_synced(&d.join("other.db"), b"not matched");
    let c = m
        .ask(Request::Corrupt {
            pattern: "wal/*.wal".into(),
            seed: 3,
        })
        .corrupt
        .unwrap();
    assert_eq!(c.file, "wal/0.wal");
    let after = fs::read(d.join("wal/0.wal")).unwrap();
    assert_eq!(after.len(), original.len());
    let flipped: u32 = after
        .iter()
        .zip(&original)
        .map(|(a, b)| (a ^ b).count_ones())
        .sum();
    assert!(
        flipped >= 1 && flipped <= c.bits,
        "{flipped} bits differ, {c:?}"
    );
    let changed: Vec<usize> = (0..after.len())
        .filter(|&i| after[i] != original[i])
        .collect();
    let block = changed[0] / 4096;
    assert!(changed.iter().all(|&i| i / 4096 == block), "{changed:?}");
    assert_eq!(block, 10, "the one block holding data");
    assert_eq!(fs::read(d.join("other.db")).unwrap(), b"not matched");
    // Durable: a crash does not undo it.
    m.crash(None);
    assert_eq!(fs::read(d.join("wal/0.wal")).unwrap(), after);
    // A pattern that matches nothing is refused, by name.
    let err = ask(
        &m.control,
        &Request::Corrupt {
            pattern: "snap/*.snap".into(),
            seed: 1,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("snap/*.snap"), "{err}");
}
