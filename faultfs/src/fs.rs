//! The FUSE side: every operation passes through to the backing tree, telling the disk's journal
//! and namespace log first, so a crash can take back what was not made durable.

use crate::disk::Disk;
use crate::namespace::Dir;
use crate::sys::{self, Key};
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Every change reaches the kernel through us, so its caches may be trusted for a while.
const TTL: Duration = Duration::from_secs(1);

struct Inode {
    fd: Arc<OwnedFd>,
    key: Key,
    lookups: u64,
}

struct Handle {
    file: Arc<File>,
    key: Key,
    inode: Arc<OwnedFd>,
    /// Opened O_SYNC or O_DSYNC: each write is durable when it returns.
    sync: bool,
}

type Listing = Vec<(OsString, FileType, u64)>;

pub struct FaultFs {
    disk: Arc<Mutex<Disk>>,
    inodes: Mutex<(HashMap<u64, Inode>, HashMap<Key, u64>)>,
    handles: Mutex<HashMap<u64, Handle>>,
    listings: Mutex<HashMap<u64, Listing>>,
    next: AtomicU64,
    /// Pass fsyncs on to the backing file system too (off: durability is the journal's alone).
    sync_through: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH
    }
}

fn kind_of(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        _ => FileType::RegularFile,
    }
}

fn attr(ino: u64, st: &libc::stat) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size: st.st_size as u64,
        blocks: st.st_blocks as u64,
        atime: time(st.st_atime, st.st_atime_nsec),
        mtime: time(st.st_mtime, st.st_mtime_nsec),
        ctime: time(st.st_ctime, st.st_ctime_nsec),
        crtime: time(st.st_ctime, st.st_ctime_nsec),
        kind: kind_of(st.st_mode),
        perm: (st.st_mode & 0o7777) as u16,
        nlink: st.st_nlink as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev as u32,
        blksize: st.st_blksize as u32,
        flags: 0,
    }
}

type Res<T> = Result<T, Errno>;

impl FaultFs {
    pub fn new(disk: Arc<Mutex<Disk>>, sync_through: bool) -> std::io::Result<FaultFs> {
        let root = {
            let d = lock(&disk);
            let fd = d.tree.try_clone()?;
            let key = sys::key_of(&sys::fstat(fd.as_raw_fd())?);
            (Arc::new(fd), key)
        };
        let mut by_ino = HashMap::new();
        let mut by_key = HashMap::new();
        by_ino.insert(
            INodeNo::ROOT.0,
            Inode {
                fd: root.0,
                key: root.1,
                lookups: 1,
            },
        );
        by_key.insert(root.1, INodeNo::ROOT.0);
        Ok(FaultFs {
            disk,
            inodes: Mutex::new((by_ino, by_key)),
            handles: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
            next: AtomicU64::new(2),
            sync_through,
        })
    }

    fn inode(&self, ino: INodeNo) -> Res<(Arc<OwnedFd>, Key)> {
        let t = lock(&self.inodes);
        let i = t.0.get(&ino.0).ok_or(Errno::ESTALE)?;
        Ok((i.fd.clone(), i.key))
    }

    fn dir(&self, ino: INodeNo) -> Res<Dir> {
        let (fd, key) = self.inode(ino)?;
        Ok(Dir { fd, key })
    }

    fn handle(&self, fh: FileHandle) -> Res<(Arc<File>, Key, Arc<OwnedFd>, bool)> {
        let h = lock(&self.handles);
        let h = h.get(&fh.0).ok_or(Errno::EBADF)?;
        Ok((h.file.clone(), h.key, h.inode.clone(), h.sync))
    }

    /// Look `name` up in `parent`, counting the kernel's reference.
    fn entry(&self, parent: INodeNo, name: &OsStr) -> Res<FileAttr> {
        let (pfd, _) = self.inode(parent)?;
        let fd = sys::open_path(pfd.as_raw_fd(), name)?;
        let st = sys::fstat(fd.as_raw_fd())?;
        let key = sys::key_of(&st);
        let mut t = lock(&self.inodes);
        let ino = match t.1.get(&key) {
            Some(&ino) => {
                if let Some(i) = t.0.get_mut(&ino) {
                    i.lookups += 1;
                }
                ino
            }
            None => {
                let ino = self.next.fetch_add(1, Ordering::Relaxed);
                t.0.insert(
                    ino,
                    Inode {
                        fd: Arc::new(fd),
                        key,
                        lookups: 1,
                    },
                );
                t.1.insert(key, ino);
                ino
            }
        };
        Ok(attr(ino, &st))
    }

    fn refuse_if_full(&self) -> Res<()> {
        full(&mut lock(&self.disk))
    }

    /// Set a file's length, saving what a crash must bring back.
    fn set_len(&self, inode: &Arc<OwnedFd>, key: Key, len: u64) -> Res<()> {
        let mut d = lock(&self.disk);
        let fd = inode.as_raw_fd();
        let file = sys::reopen(fd, libc::O_RDWR)?;
        let cur = file.metadata()?.len();
        d.journal.before_change(
            key,
            || sys::reopen(fd, libc::O_RDWR),
            len.min(cur),
            u64::MAX,
        )?;
        file.set_len(len)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // the kernel's setattr, minus what is ignored
    fn setattr_inner(
        &self,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
    ) -> Res<FileAttr> {
        let (fd, key) = self.inode(ino)?;
        let raw = fd.as_raw_fd();
        if let Some(m) = mode {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(sys::proc_path(raw), std::fs::Permissions::from_mode(m))?;
        }
        if uid.is_some() || gid.is_some() {
            let empty = c"";
            // SAFETY: a valid descriptor and an empty path with AT_EMPTY_PATH; -1 keeps an id.
            let r = unsafe {
                libc::fchownat(
                    raw,
                    empty.as_ptr(),
                    uid.unwrap_or(u32::MAX),
                    gid.unwrap_or(u32::MAX),
                    libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
                )
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error().into());
            }
        }
        if let Some(len) = size {
            self.set_len(&fd, key, len)?;
        }
        if atime.is_some() || mtime.is_some() {
            let to = |t: TimeOrNow| match t {
                TimeOrNow::SpecificTime(t) => t,
                TimeOrNow::Now => SystemTime::now(),
            };
            let mut times = std::fs::FileTimes::new();
            if let Some(a) = atime {
                times = times.set_accessed(to(a));
            }
            if let Some(m) = mtime {
                times = times.set_modified(to(m));
            }
            sys::reopen(raw, libc::O_RDONLY)?.set_times(times)?;
        }
        Ok(attr(ino.0, &sys::fstat(raw)?))
    }

    fn open_inner(&self, ino: INodeNo, flags: i32) -> Res<u64> {
        let (fd, key) = self.inode(ino)?;
        let sync = flags & libc::O_DSYNC != 0;
        // The kernel gives offsets; the backing must not append, cache-bypass or sync itself.
        let clean = flags
            & !(libc::O_APPEND
                | libc::O_DIRECT
                | libc::O_SYNC
                | libc::O_DSYNC
                | libc::O_TRUNC
                | libc::O_NOCTTY);
        let file = sys::reopen(fd.as_raw_fd(), clean)?;
        if flags & libc::O_TRUNC != 0 {
            self.set_len(&fd, key, 0)?;
        }
        let fh = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.handles).insert(
            fh,
            Handle {
                file: Arc::new(file),
                key,
                inode: fd,
                sync,
            },
        );
        Ok(fh)
    }

    fn create_inner(
        &self,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        flags: i32,
    ) -> Res<(FileAttr, u64)> {
        self.refuse_if_full()?;
        let dir = self.dir(parent)?;
        let made = match sys::openat(
            dir.fd.as_raw_fd(),
            name,
            libc::O_CREAT | libc::O_EXCL | libc::O_RDONLY,
            mode,
        ) {
            Ok(_) => true,
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) && flags & libc::O_EXCL == 0 => false,
            Err(e) => return Err(e.into()),
        };
        if made {
            lock(&self.disk).namespace.created(dir, name);
        }
        let a = self.entry(parent, name)?;
        let fh = self.open_inner(a.ino, flags & !libc::O_CREAT & !libc::O_EXCL)?;
        Ok((a, fh))
    }

    fn made(
        &self,
        parent: INodeNo,
        name: &OsStr,
        make: impl FnOnce(i32) -> std::io::Result<()>,
    ) -> Res<FileAttr> {
        self.refuse_if_full()?;
        let dir = self.dir(parent)?;
        make(dir.fd.as_raw_fd())?;
        lock(&self.disk).namespace.created(dir, name);
        self.entry(parent, name)
    }

    fn write_inner(&self, fh: FileHandle, offset: u64, data: &[u8]) -> Res<u32> {
        let (file, key, inode, sync) = self.handle(fh)?;
        let mut d = lock(&self.disk);
        full(&mut d)?;
        let fd = inode.as_raw_fd();
        d.journal.before_write(
            key,
            || sys::reopen(fd, libc::O_RDWR),
            offset,
            data.len() as u64,
        )?;
        file.write_all_at(data, offset)?;
        if sync {
            d.journal.sync(key);
            d.commit_entries();
        }
        Ok(data.len() as u32)
    }

    fn rename_inner(
        &self,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
    ) -> Res<()> {
        if flags.contains(RenameFlags::RENAME_EXCHANGE)
            || flags.contains(RenameFlags::RENAME_WHITEOUT)
        {
            return Err(Errno::EINVAL);
        }
        let (from, to) = (self.dir(parent)?, self.dir(newparent)?);
        let src = sys::fstat(sys::open_path(from.fd.as_raw_fd(), name)?.as_raw_fd())?;
        match sys::open_path(to.fd.as_raw_fd(), newname) {
            Ok(t) => {
                if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                    return Err(Errno::EEXIST);
                }
                let dst = sys::fstat(t.as_raw_fd())?;
                if sys::key_of(&dst) == sys::key_of(&src) {
                    return Ok(());
                }
                let (sd, dd) = (
                    src.st_mode & libc::S_IFMT == libc::S_IFDIR,
                    dst.st_mode & libc::S_IFMT == libc::S_IFDIR,
                );
                if dd && !sd {
                    return Err(Errno::EISDIR);
                }
                if sd && !dd {
                    return Err(Errno::ENOTDIR);
                }
                if dd && !sys::list_dir(t.as_raw_fd())?.is_empty() {
                    return Err(Errno::ENOTEMPTY);
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(e.into()),
        }
        lock(&self.disk)
            .namespace
            .rename((from, name), (to, newname))?;
        Ok(())
    }

    fn remove(&self, parent: INodeNo, name: &OsStr, dir: bool) -> Res<()> {
        let d = self.dir(parent)?;
        let t = sys::open_path(d.fd.as_raw_fd(), name)?;
        let is_dir = sys::fstat(t.as_raw_fd())?.st_mode & libc::S_IFMT == libc::S_IFDIR;
        match (dir, is_dir) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !sys::list_dir(t.as_raw_fd())?.is_empty() => {
                return Err(Errno::ENOTEMPTY)
            }
            _ => {}
        }
        lock(&self.disk).namespace.remove(d, name)?;
        Ok(())
    }

    fn fsync_inner(&self, fh: FileHandle) -> Res<()> {
        let (file, key, _, _) = self.handle(fh)?;
        let mut d = lock(&self.disk);
        if d.fsync_errors > 0 {
            // The data stays un-synced: a crash still drops it.
            d.fsync_errors -= 1;
            d.fsyncs_failed += 1;
            return Err(Errno::EIO);
        }
        if self.sync_through {
            file.sync_data()?;
        }
        d.journal.sync(key);
        d.commit_entries();
        Ok(())
    }

    fn fallocate_inner(&self, fh: FileHandle, offset: u64, length: u64, mode: i32) -> Res<()> {
        let (file, key, inode, _) = self.handle(fh)?;
        let mut d = lock(&self.disk);
        full(&mut d)?;
        let changes_data = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE;
        if mode & !(changes_data | libc::FALLOC_FL_KEEP_SIZE) != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let fd = inode.as_raw_fd();
        // Even a plain allocation records the durable length before the file grows.
        let (from, to) = if mode & changes_data != 0 {
            (offset, offset + length)
        } else {
            (0, 0)
        };
        d.journal
            .before_change(key, || sys::reopen(fd, libc::O_RDWR), from, to)?;
        sys::fallocate(&file, mode, offset, length)?;
        Ok(())
    }
}

/// ENOSPC while the disk is full, counted.
fn full(d: &mut Disk) -> Res<()> {
    if d.full {
        d.space_refused += 1;
        return Err(Errno::ENOSPC);
    }
    Ok(())
}

fn reply_entry(r: Res<FileAttr>, reply: ReplyEntry) {
    match r {
        Ok(a) => reply.entry(&TTL, &a, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn reply_empty(r: Res<()>, reply: ReplyEmpty) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

impl Filesystem for FaultFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let _ = config.set_max_write(1 << 20);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        reply_entry(self.entry(parent, name), reply);
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        if ino == INodeNo::ROOT {
            return;
        }
        let mut t = lock(&self.inodes);
        let gone = match t.0.get_mut(&ino.0) {
            Some(i) => {
                i.lookups = i.lookups.saturating_sub(nlookup);
                (i.lookups == 0).then_some(i.key)
            }
            None => None,
        };
        if let Some(key) = gone {
            t.0.remove(&ino.0);
            if t.1.get(&key) == Some(&ino.0) {
                t.1.remove(&key);
            }
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self
            .inode(ino)
            .and_then(|(fd, _)| sys::fstat(fd.as_raw_fd()).map_err(Errno::from))
        {
            Ok(st) => reply.attr(&TTL, &attr(ino.0, &st)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.setattr_inner(ino, mode, uid, gid, size, atime, mtime) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self
            .inode(ino)
            .and_then(|(fd, _)| sys::readlink(fd.as_raw_fd()).map_err(Errno::from))
        {
            Ok(t) => reply.data(&t),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        reply_entry(
            self.made(parent, name, |d| sys::mknodat(d, name, mode & !umask, rdev)),
            reply,
        );
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        reply_entry(
            self.made(parent, name, |d| sys::mkdirat(d, name, mode & !umask)),
            reply,
        );
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(self.remove(parent, name, false), reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        reply_empty(self.remove(parent, name, true), reply);
    }

    fn symlink(
        &self,
        _req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &std::path::Path,
        reply: ReplyEntry,
    ) {
        reply_entry(
            self.made(parent, link_name, |d| {
                sys::symlinkat(target.as_os_str(), d, link_name)
            }),
            reply,
        );
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply_empty(
            self.rename_inner(parent, name, newparent, newname, flags),
            reply,
        );
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        match self.open_inner(ino, flags.0) {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let r = self.handle(fh).and_then(|(file, ..)| {
            let mut buf = vec![0u8; size as usize];
            let n = sys::pread_full(&file, &mut buf, offset)?;
            buf.truncate(n);
            Ok(buf)
        });
        match r {
            Ok(b) => reply.data(&b),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.write_inner(fh, offset, data) {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        lock(&self.handles).remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty(self.fsync_inner(fh), reply);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let r = self.inode(ino).and_then(|(fd, _)| {
            let mut list: Listing = vec![
                (".".into(), FileType::Directory, ino.0),
                ("..".into(), FileType::Directory, 1),
            ];
            for (name, t, n) in sys::list_dir(fd.as_raw_fd())? {
                let kind = if t.is_dir() {
                    FileType::Directory
                } else if t.is_symlink() {
                    FileType::Symlink
                } else {
                    FileType::RegularFile
                };
                list.push((name, kind, n));
            }
            Ok(list)
        });
        match r {
            Ok(list) => {
                let fh = self.next.fetch_add(1, Ordering::Relaxed);
                lock(&self.listings).insert(fh, list);
                reply.opened(FileHandle(fh), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let l = lock(&self.listings);
        let Some(list) = l.get(&fh.0) else {
            return reply.error(Errno::EBADF);
        };
        for (i, (name, kind, n)) in list.iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(*n), (i + 1) as u64, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        lock(&self.listings).remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply_empty(
            self.inode(ino).map(|(_, key)| {
                let mut d = lock(&self.disk);
                d.namespace.sync_dir(key);
                d.commit_entries();
            }),
            reply,
        );
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let d = lock(&self.disk);
        let path = d.backing.join("tree");
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap_or_default();
        // SAFETY: an all-zero statvfs is valid to overwrite; c is a valid C string.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: valid path and out pointer.
        if unsafe { libc::statvfs(c.as_ptr(), &mut s) } < 0 {
            return reply.error(std::io::Error::last_os_error().into());
        }
        let (free, avail) = if d.full {
            (0, 0)
        } else {
            (s.f_bfree, s.f_bavail)
        };
        reply.statfs(
            s.f_blocks,
            free,
            avail,
            s.f_files,
            s.f_ffree,
            s.f_bsize as u32,
            s.f_namemax as u32,
            s.f_frsize as u32,
        );
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        match self.create_inner(parent, name, mode & !umask, flags) {
            Ok((a, fh)) => {
                reply.created(&TTL, &a, Generation(0), FileHandle(fh), FopenFlags::empty())
            }
            Err(e) => reply.error(e),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        reply_empty(self.fallocate_inner(fh, offset, length, mode), reply);
    }
}
