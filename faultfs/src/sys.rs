//! The few system calls the file system makes relative to directory handles: the backing tree is
//! reached through `O_PATH` descriptors, never through paths, so a rename of a parent never
//! makes a handle point elsewhere.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// A file's identity on the backing file system: (device, inode).
pub type Key = (u64, u64);

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The path through which a descriptor's file can be opened again (a "magic link").
pub fn proc_path(fd: RawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{fd}"))
}

/// An `O_PATH` handle on `name` in `dir` (not following a final symlink).
pub fn open_path(dir: RawFd, name: &OsStr) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: openat with a valid C string; the returned descriptor is owned from here on.
    let fd = check(unsafe {
        libc::openat(
            dir,
            c.as_ptr(),
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: fd was just returned by openat and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An `O_PATH` handle on a directory given by path (the backing roots).
pub fn open_dir_path(path: &std::path::Path) -> io::Result<OwnedFd> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(path)?;
    Ok(OwnedFd::from(f))
}

/// Open the file behind a handle for I/O with `flags` (`O_RDONLY`, `O_WRONLY`, `O_RDWR` and
/// others; never `O_CREAT`).
pub fn reopen(fd: RawFd, flags: i32) -> io::Result<File> {
    let acc = flags & libc::O_ACCMODE;
    std::fs::OpenOptions::new()
        .read(acc == libc::O_RDONLY || acc == libc::O_RDWR)
        .write(acc == libc::O_WRONLY || acc == libc::O_RDWR)
        .custom_flags(flags & !libc::O_ACCMODE & !libc::O_CREAT & !libc::O_EXCL)
        .open(proc_path(fd))
}

pub fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let empty = c"";
    // SAFETY: valid descriptor, empty path with AT_EMPTY_PATH, and a valid out pointer.
    check(unsafe {
        libc::fstatat(
            fd,
            empty.as_ptr(),
            &mut st,
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(st)
}

pub fn key_of(st: &libc::stat) -> Key {
    (st.st_dev, st.st_ino)
}

/// Whether `name` exists in `dir`.
pub fn exists(dir: RawFd, name: &OsStr) -> io::Result<bool> {
    match open_path(dir, name) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn mkdirat(dir: RawFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid descriptor and C string.
    check(unsafe { libc::mkdirat(dir, c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

pub fn mknodat(dir: RawFd, name: &OsStr, mode: u32, rdev: u32) -> io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid descriptor and C string.
    check(unsafe { libc::mknodat(dir, c.as_ptr(), mode as libc::mode_t, rdev as libc::dev_t) })
        .map(drop)
}

pub fn symlinkat(target: &OsStr, dir: RawFd, name: &OsStr) -> io::Result<()> {
    let (t, c) = (cstr(target)?, cstr(name)?);
    // SAFETY: valid descriptor and C strings.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir, c.as_ptr()) }).map(drop)
}

pub fn readlink(fd: RawFd) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    let empty = c"";
    // SAFETY: buf is valid for its length; an O_PATH symlink handle with an empty path reads
    // the link itself.
    let n = unsafe { libc::readlinkat(fd, empty.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn renameat(from: RawFd, name: &OsStr, to: RawFd, new: &OsStr) -> io::Result<()> {
    let (a, b) = (cstr(name)?, cstr(new)?);
    // SAFETY: valid descriptors and C strings.
    check(unsafe { libc::renameat(from, a.as_ptr(), to, b.as_ptr()) }).map(drop)
}

/// Open `name` in `dir` with `flags` (which may hold `O_CREAT` and `O_EXCL`).
pub fn openat(dir: RawFd, name: &OsStr, flags: i32, mode: u32) -> io::Result<File> {
    let c = cstr(name)?;
    // SAFETY: valid descriptor and C string; the descriptor returned is owned from here on.
    let fd = check(unsafe { libc::openat(dir, c.as_ptr(), flags | libc::O_CLOEXEC, mode) })?;
    // SAFETY: fd was just returned by openat.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The entries of a directory handle: (name, file type from `d_type`, backing inode).
pub fn list_dir(fd: RawFd) -> io::Result<Vec<(std::ffi::OsString, std::fs::FileType, u64)>> {
    use std::os::unix::fs::DirEntryExt;
    let mut out = Vec::new();
    for e in std::fs::read_dir(proc_path(fd))? {
        let e = e?;
        out.push((e.file_name(), e.file_type()?, e.ino()));
    }
    Ok(out)
}

pub fn pread_full(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

pub fn fallocate(f: &File, mode: i32, offset: u64, len: u64) -> io::Result<()> {
    // SAFETY: a valid descriptor and plain integers.
    check(unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            mode,
            offset as libc::off_t,
            len as libc::off_t,
        )
    })
    .map(drop)
}

/// Remove whatever `name` in `dir` is (a file, or a directory with all it holds).
pub fn remove_all(dir: RawFd, name: &OsStr) -> io::Result<()> {
    let path = proc_path(dir).join(name);
    let md = std::fs::symlink_metadata(&path)?;
    if md.is_dir() {
        std::fs::remove_dir_all(&path)
    } else {
        std::fs::remove_file(&path)
    }
}
