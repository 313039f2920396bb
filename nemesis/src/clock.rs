//! The clock agent: skew one process's clocks, Go binaries included, without touching the
//! machine's clock.
//!
//! Programs read the time through the vDSO, which libfaketime cannot reach in Go binaries and a
//! time namespace shifts only partly. So the agent patches the target's own copy of the vDSO
//! (ptrace writes are copy-on-write): it stops every thread, maps one page into the process by
//! making a stopped thread run `mmap`, writes there replacements for `clock_gettime`,
//! `gettimeofday` and `time` that make the real system call and add an offset to the chosen
//! clocks, and points the vDSO entries at them with an absolute jump. The offset lives in a data
//! slot on that page, so later changes rewrite 32 bytes and patch nothing. Heal restores the
//! original bytes. A failure before the first byte of code is written leaves the target as it was.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Duration;

use iced_x86::code_asm::*;
use iced_x86::BlockEncoderOptions;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Which clocks an offset applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClockMask {
    pub realtime: bool,
    pub monotonic: bool,
    pub boottime: bool,
}

impl ClockMask {
    /// Bit per clock id, as the replacement code tests it.
    pub fn bits(self) -> u64 {
        let mut m = 0u64;
        if self.realtime {
            // CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, CLOCK_TAI
            m |= 1 << 0 | 1 << 5 | 1 << 8 | 1 << 11;
        }
        if self.monotonic {
            // CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE
            m |= 1 << 1 | 1 << 4 | 1 << 6;
        }
        if self.boottime {
            // CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM
            m |= 1 << 7 | 1 << 9;
        }
        m
    }

    pub fn parse(s: &str) -> Result<ClockMask, UnknownClock> {
        let mut m = ClockMask::default();
        for part in s.split(',') {
            match part.trim() {
                "realtime" => m.realtime = true,
                "monotonic" => m.monotonic = true,
                "boottime" => m.boottime = true,
                "both" => {
                    m.realtime = true;
                    m.monotonic = true
                }
                "all" => {
                    m = ClockMask {
                        realtime: true,
                        monotonic: true,
                        boottime: true,
                    }
                }
                other => return Err(UnknownClock(other.to_string())),
            }
        }
        Ok(m)
    }
}

/// A clock name `--clocks` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown clock {0:?}; expected realtime, monotonic, boottime, both or all")]
pub struct UnknownClock(pub String);

#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("no process {0}")]
    NoSuchProcess(i32),
    #[error("no permission to trace process {0} (run as root, or check ptrace_scope)")]
    Permission(i32),
    #[error("process {0} has no [vdso] mapping")]
    NoVdso(i32),
    #[error("process {pid}: {message}")]
    Other { pid: i32, message: String },
}

fn other(pid: i32, message: impl Into<String>) -> ClockError {
    ClockError::Other {
        pid,
        message: message.into(),
    }
}

/// What the agent remembers about a patched process, between calls.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PatchState {
    pub pid: i32,
    /// Start time of the process: a recycled pid never matches.
    pub start: u64,
    pub page: u64,
    pub patches: Vec<Patch>,
    pub mask: ClockMask,
    pub offset_ns: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Patch {
    pub symbol: String,
    pub address: u64,
    pub original: Vec<u8>,
}

pub const STATE_DIR: &str = "/run/ferret/clock";

fn state_path(pid: i32, start: u64) -> PathBuf {
    PathBuf::from(STATE_DIR).join(format!("{pid}-{start}.json"))
}

fn process_start(pid: i32) -> Option<u64> {
    crate::proc::start_time(u32::try_from(pid).ok()?)
}

pub fn load_state(pid: i32) -> Option<PatchState> {
    let start = process_start(pid)?;
    let text = std::fs::read_to_string(state_path(pid, start)).ok()?;
    serde_json::from_str(&text).ok()
}

fn save_state(s: &PatchState) -> Result<(), ClockError> {
    std::fs::create_dir_all(STATE_DIR)
        .map_err(|e| other(s.pid, format!("cannot create {STATE_DIR}: {e}")))?;
    let text = serde_json::to_string(s).map_err(|e| other(s.pid, e.to_string()))?;
    std::fs::write(state_path(s.pid, s.start), text)
        .map_err(|e| other(s.pid, format!("cannot save state: {e}")))
}

/// Page layout: the data slot (mask, offset seconds, nanoseconds, microseconds: 4 × 8 bytes at
/// offset 0), then the three replacements.
const MASK: u64 = 0x00;
const OFF_USEC: u64 = 0x18;
const PAGE: u64 = 4096;
/// `movabs rax, imm64; jmp rax`.
const JUMP_LEN: usize = 12;

const TARGETS: [&str; 3] = ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time"];

/// The 32-byte data slot for an offset and mask.
fn data_slot(mask: ClockMask, offset_ns: i64) -> [u8; 32] {
    let sec = offset_ns.div_euclid(1_000_000_000);
    let nsec = offset_ns.rem_euclid(1_000_000_000);
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&mask.bits().to_le_bytes());
    b[8..16].copy_from_slice(&sec.to_le_bytes());
    b[16..24].copy_from_slice(&nsec.to_le_bytes());
    b[24..32].copy_from_slice(&(nsec / 1000).to_le_bytes());
    b
}

/// Machine code for the whole page at `base`: the data slot (zeroed; written separately), then
/// the three replacements. Returns the bytes and each replacement's entry address, by symbol.
/// Add the offset to the (seconds, fraction) pair at `[time]` and `[time + 8]` (a timespec or a
/// timeval), carrying into seconds when the fraction reaches `one`. Clobbers rcx and rdx.
fn add_offset(
    a: &mut CodeAssembler,
    time: AsmRegister64,
    off_sec: CodeLabel,
    off_frac: CodeLabel,
    one: i32,
) -> Result<(), IcedError> {
    let mut store = a.create_label();
    a.mov(rcx, qword_ptr(time + 8))?;
    a.add(rcx, qword_ptr(off_frac))?;
    a.mov(rdx, qword_ptr(time))?;
    a.add(rdx, qword_ptr(off_sec))?;
    a.cmp(rcx, one)?;
    a.jl(store)?;
    a.sub(rcx, one)?;
    a.inc(rdx)?;
    a.set_label(&mut store)?;
    a.mov(qword_ptr(time + 8), rcx)?;
    a.mov(qword_ptr(time), rdx)
}

/// Each replacement's entry address, by the vDSO symbol it replaces.
type Entries = Vec<(&'static str, u64)>;

fn page_code(base: u64) -> Result<(Vec<u8>, Entries), IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let mut mask = a.create_label();
    let mut off_sec = a.create_label();
    let mut off_nsec = a.create_label();
    let mut off_usec = a.create_label();
    // Data first, so its offsets are the fixed MASK..OFF_USEC the agent rewrites later.
    a.set_label(&mut mask)?;
    a.dq(&[0])?;
    a.set_label(&mut off_sec)?;
    a.dq(&[0])?;
    a.set_label(&mut off_nsec)?;
    a.dq(&[0])?;
    a.set_label(&mut off_usec)?;
    a.dq(&[0])?;

    // clock_gettime(clockid, ts): real syscall, then offset the masked clocks.
    let mut cgt = a.create_label();
    let mut done = a.create_label();
    a.set_label(&mut cgt)?;
    a.mov(eax, 228u32)?;
    a.syscall()?;
    a.test(rax, rax)?;
    a.jnz(done)?;
    a.cmp(edi, 63)?;
    a.ja(done)?; // negative ids (CPU clocks) compare above 63 unsigned
    a.mov(rcx, qword_ptr(mask))?;
    a.bt(rcx, rdi)?;
    a.jae(done)?; // bit clear: not skewed
    add_offset(&mut a, rsi, off_sec, off_nsec, 1_000_000_000)?;
    a.xor(eax, eax)?;
    a.set_label(&mut done)?;
    a.ret()?;

    // gettimeofday(tv, tz): realtime only.
    let mut gtod = a.create_label();
    let mut done = a.create_label();
    a.set_label(&mut gtod)?;
    a.mov(eax, 96u32)?;
    a.syscall()?;
    a.test(rax, rax)?;
    a.jnz(done)?;
    a.test(rdi, rdi)?;
    a.jz(done)?;
    a.mov(rcx, qword_ptr(mask))?;
    a.bt(rcx, 0)?;
    a.jae(done)?;
    add_offset(&mut a, rdi, off_sec, off_usec, 1_000_000)?;
    a.xor(eax, eax)?;
    a.set_label(&mut done)?;
    a.ret()?;

    // time(tloc): clock_gettime(CLOCK_REALTIME) into the stack, offset with carry, seconds.
    let mut time = a.create_label();
    let mut done = a.create_label();
    let mut store = a.create_label();
    a.set_label(&mut time)?;
    a.sub(rsp, 24)?;
    a.mov(r8, rdi)?;
    a.xor(edi, edi)?;
    a.mov(rsi, rsp)?;
    a.mov(eax, 228u32)?;
    a.syscall()?;
    a.mov(rax, qword_ptr(rsp))?;
    a.mov(rcx, qword_ptr(mask))?;
    a.bt(rcx, 0)?;
    a.jae(store)?;
    a.mov(rcx, qword_ptr(rsp + 8))?;
    a.add(rcx, qword_ptr(off_nsec))?;
    a.add(rax, qword_ptr(off_sec))?;
    a.cmp(rcx, 1_000_000_000)?;
    a.jl(store)?;
    a.inc(rax)?;
    a.set_label(&mut store)?;
    a.add(rsp, 24)?;
    a.test(r8, r8)?;
    a.jz(done)?;
    a.mov(qword_ptr(r8), rax)?;
    a.set_label(&mut done)?;
    a.ret()?;

    let r = a.assemble_options(base, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)?;
    let entries = vec![
        ("__vdso_clock_gettime", r.label_ip(&cgt)?),
        ("__vdso_gettimeofday", r.label_ip(&gtod)?),
        ("__vdso_time", r.label_ip(&time)?),
    ];
    debug_assert_eq!(r.label_ip(&off_usec)?, base + OFF_USEC);
    Ok((r.inner.code_buffer, entries))
}

fn jump_to(target: u64) -> [u8; JUMP_LEN] {
    let mut j = [0u8; JUMP_LEN];
    j[0] = 0x48; // movabs rax, imm64
    j[1] = 0xb8;
    j[2..10].copy_from_slice(&target.to_le_bytes());
    j[10] = 0xff; // jmp rax
    j[11] = 0xe0;
    j
}

/// Every thread of a process, stopped under ptrace; resumed (detached) on drop.
struct Stopped {
    pid: i32,
    threads: Vec<Pid>,
    /// Signals that arrived while stopping, re-delivered at detach.
    pending: Vec<(Pid, Signal)>,
}

impl Stopped {
    fn all(pid: i32) -> Result<Stopped, ClockError> {
        let mut s = Stopped {
            pid,
            threads: Vec::new(),
            pending: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        // Threads may be born while we stop the others: list again until nothing is new.
        for _round in 0..100 {
            let tids = list_threads(pid)?;
            let new: Vec<i32> = tids.into_iter().filter(|t| !seen.contains(t)).collect();
            if new.is_empty() {
                return Ok(s);
            }
            for tid in new {
                seen.insert(tid);
                let t = Pid::from_raw(tid);
                match ptrace::seize(t, ptrace::Options::empty()) {
                    Ok(()) => {}
                    Err(nix::errno::Errno::ESRCH) => continue, // exited meanwhile
                    Err(nix::errno::Errno::EPERM) => return Err(ClockError::Permission(pid)),
                    Err(e) => return Err(other(pid, format!("cannot seize thread {tid}: {e}"))),
                }
                s.threads.push(t);
                if ptrace::interrupt(t).is_err() {
                    continue;
                }
                s.wait_stop(t)?;
            }
        }
        Err(other(
            pid,
            "its threads kept multiplying; gave up stopping them",
        ))
    }

    /// Wait until `t` is in a ptrace stop, remembering any signal that got there first.
    fn wait_stop(&mut self, t: Pid) -> Result<(), ClockError> {
        loop {
            match waitpid(t, Some(WaitPidFlag::__WALL)) {
                Ok(WaitStatus::PtraceEvent(..)) | Ok(WaitStatus::PtraceSyscall(_)) => return Ok(()),
                Ok(WaitStatus::Stopped(_, sig)) => {
                    if sig != Signal::SIGTRAP && sig != Signal::SIGSTOP {
                        // A real signal: keep it for later, and wait for our interrupt's stop.
                        self.pending.push((t, sig));
                        let _ = ptrace::cont(t, None);
                        let _ = ptrace::interrupt(t);
                        continue;
                    }
                    return Ok(());
                }
                Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => {
                    self.threads.retain(|x| *x != t);
                    return Ok(());
                }
                Ok(_) => continue,
                Err(nix::errno::Errno::ECHILD) => {
                    self.threads.retain(|x| *x != t);
                    return Ok(());
                }
                Err(e) => return Err(other(self.pid, format!("waiting for thread {t}: {e}"))),
            }
        }
    }

    /// Step every thread whose instruction pointer is strictly inside one of `ranges` until it
    /// is out, so no thread is left inside bytes about to be rewritten.
    fn step_out_of(&mut self, ranges: &[(u64, u64)]) -> Result<(), ClockError> {
        for t in self.threads.clone() {
            for _ in 0..64 {
                let regs = match ptrace::getregs(t) {
                    Ok(r) => r,
                    Err(_) => break,
                };
                if !ranges
                    .iter()
                    .any(|&(lo, hi)| regs.rip > lo && regs.rip < hi)
                {
                    break;
                }
                self.step(t)?;
            }
        }
        Ok(())
    }

    /// Single-step `t` by one instruction. A signal that arrives first is kept for detach and the
    /// step is tried again with it suppressed: resuming the thread instead would let it run on
    /// past the instruction, with whatever registers we gave it.
    fn step(&mut self, t: Pid) -> Result<(), ClockError> {
        for _ in 0..100 {
            ptrace::step(t, None).map_err(|e| other(self.pid, format!("step: {e}")))?;
            match waitpid(t, Some(WaitPidFlag::__WALL)) {
                Ok(WaitStatus::Stopped(_, Signal::SIGTRAP)) => return Ok(()),
                Ok(WaitStatus::Stopped(_, sig)) => self.pending.push((t, sig)),
                Ok(WaitStatus::Exited(..))
                | Ok(WaitStatus::Signaled(..))
                | Err(nix::errno::Errno::ECHILD) => {
                    self.threads.retain(|x| *x != t);
                    return Err(other(self.pid, format!("thread {t} exited while stepped")));
                }
                Ok(_) => {}
                Err(e) => return Err(other(self.pid, format!("waiting for thread {t}: {e}"))),
            }
        }
        Err(other(self.pid, format!("thread {t} would not single-step")))
    }

    /// Make thread `t` run one system call; its registers are restored afterwards.
    fn syscall(
        &mut self,
        t: Pid,
        syscall_insn: u64,
        nr: u64,
        args: [u64; 6],
    ) -> Result<u64, ClockError> {
        let saved = ptrace::getregs(t).map_err(|e| other(self.pid, format!("getregs: {e}")))?;
        let mut r = saved;
        r.rip = syscall_insn;
        r.rax = nr;
        // No syscall restart logic may rewind our rip: this is not an interrupted call.
        r.orig_rax = u64::MAX;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        r.r8 = args[4];
        r.r9 = args[5];
        ptrace::setregs(t, r).map_err(|e| other(self.pid, format!("setregs: {e}")))?;
        let stepped = self.step(t);
        // Trust rax only if the thread is just past the syscall instruction (2 bytes): it ran it.
        let result = ptrace::getregs(t)
            .map_err(|e| other(self.pid, format!("getregs: {e}")))
            .and_then(|r| {
                if r.rip == syscall_insn + 2 {
                    Ok(r.rax)
                } else {
                    Err(other(
                        self.pid,
                        format!("the injected system call did not run (rip {:#x})", r.rip),
                    ))
                }
            });
        // Restored exactly, so an interrupted call of the thread's own restarts as it should.
        ptrace::setregs(t, saved)
            .map_err(|e| other(self.pid, format!("restore registers: {e}")))?;
        stepped?;
        result
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for t in &self.threads {
            let sig = self.pending.iter().find(|(p, _)| p == t).map(|(_, s)| *s);
            let _ = ptrace::detach(*t, sig);
        }
    }
}

fn list_threads(pid: i32) -> Result<Vec<i32>, ClockError> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ClockError::NoSuchProcess(pid)
        } else {
            other(pid, format!("cannot list threads: {e}"))
        }
    })?;
    Ok(dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

struct Vdso {
    start: u64,
    bytes: Vec<u8>,
}

fn find_vdso(pid: i32) -> Result<Vdso, ClockError> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ClockError::NoSuchProcess(pid)
        } else if e.kind() == std::io::ErrorKind::PermissionDenied {
            ClockError::Permission(pid)
        } else {
            other(pid, format!("cannot read maps: {e}"))
        }
    })?;
    let line = maps
        .lines()
        .find(|l| l.ends_with("[vdso]"))
        .ok_or(ClockError::NoVdso(pid))?;
    let range = line.split_whitespace().next().unwrap_or("");
    let (a, b) = range.split_once('-').ok_or(ClockError::NoVdso(pid))?;
    let start = u64::from_str_radix(a, 16).map_err(|_| ClockError::NoVdso(pid))?;
    let end = u64::from_str_radix(b, 16).map_err(|_| ClockError::NoVdso(pid))?;
    let mut bytes = vec![0u8; (end - start) as usize];
    mem(pid)?
        .read_exact_at(&mut bytes, start)
        .map_err(|e| other(pid, format!("cannot read the vDSO: {e}")))?;
    Ok(Vdso { start, bytes })
}

fn mem(pid: i32) -> Result<std::fs::File, ClockError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/proc/{pid}/mem"))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ClockError::NoSuchProcess(pid),
            std::io::ErrorKind::PermissionDenied => ClockError::Permission(pid),
            _ => other(pid, format!("cannot open memory: {e}")),
        })
}

/// A vDSO function: name, address in the target, size.
type VdsoSymbol = (String, u64, u64);

/// Addresses of the vDSO's clock functions, and of one `syscall` instruction in it.
fn vdso_symbols(pid: i32, v: &Vdso) -> Result<(Vec<VdsoSymbol>, u64), ClockError> {
    use object::{Object, ObjectSegment, ObjectSymbol};
    let file = object::File::parse(&*v.bytes)
        .map_err(|e| other(pid, format!("the vDSO is not an ELF image: {e}")))?;
    let base = file.segments().map(|s| s.address()).min().unwrap_or(0) & !(PAGE - 1);
    let bias = v.start.wrapping_sub(base);
    let mut found = Vec::new();
    for sym in file.dynamic_symbols() {
        let Ok(name) = sym.name() else { continue };
        if TARGETS.contains(&name) {
            found.push((
                name.to_string(),
                sym.address().wrapping_add(bias),
                sym.size(),
            ));
        }
    }
    if found.is_empty() {
        return Err(other(
            pid,
            "the vDSO exports none of __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time",
        ));
    }
    for (name, _, size) in &found {
        if *size != 0 && (*size as usize) < JUMP_LEN {
            return Err(other(
                pid,
                format!("{name} is only {size} bytes: too short to redirect"),
            ));
        }
    }
    let at = v
        .bytes
        .windows(2)
        .position(|w| w == [0x0f, 0x05])
        .ok_or_else(|| other(pid, "no syscall instruction in the vDSO"))?;
    Ok((found, v.start + at as u64))
}

/// Skew `pid`'s clocks in `mask` by `offset_ns`. The first call patches the process; later
/// calls only rewrite the offset (and mask).
pub fn set_offset(pid: i32, mask: ClockMask, offset_ns: i64) -> Result<PatchState, ClockError> {
    let start = process_start(pid).ok_or(ClockError::NoSuchProcess(pid))?;
    if let Some(mut state) = load_state(pid).filter(|s| s.start == start) {
        let stopped = Stopped::all(pid)?;
        mem(pid)?
            .write_all_at(&data_slot(mask, offset_ns), state.page + MASK)
            .map_err(|e| other(pid, format!("cannot write the offset: {e}")))?;
        drop(stopped);
        state.mask = mask;
        state.offset_ns = offset_ns;
        save_state(&state)?;
        return Ok(state);
    }
    let vdso = find_vdso(pid)?;
    let (symbols, syscall_insn) = vdso_symbols(pid, &vdso)?;
    let mut stopped = Stopped::all(pid)?;
    let leader = stopped
        .threads
        .iter()
        .copied()
        .find(|t| t.as_raw() == pid)
        .or_else(|| stopped.threads.first().copied())
        .ok_or(ClockError::NoSuchProcess(pid))?;
    // mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
    let page = stopped.syscall(
        leader,
        syscall_insn,
        9,
        [0, PAGE, 0x1 | 0x4, 0x02 | 0x20, u64::MAX, 0],
    )?;
    if (page as i64) < 0 && (page as i64) > -4096 {
        return Err(other(
            pid,
            format!("mmap in the target failed: errno {}", -(page as i64)),
        ));
    }
    let state = PatchState {
        pid,
        start,
        page,
        patches: Vec::new(),
        mask,
        offset_ns,
    };
    let state = match install(state, &mut stopped, &symbols) {
        Ok(state) => state,
        Err(e) => {
            // Nothing points at the page any more: give it back, so the target is as it was.
            let _ = stopped.syscall(leader, syscall_insn, 11, [page, PAGE, 0, 0, 0, 0]);
            return Err(e);
        }
    };
    drop(stopped);
    Ok(state)
}

/// Remove state files of processes that are gone (killed while skewed); returns how many.
pub fn sweep_stale() -> usize {
    let Ok(dir) = std::fs::read_dir(STATE_DIR) else {
        return 0;
    };
    let mut removed = 0;
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((pid, start)) = name
            .strip_suffix(".json")
            .and_then(|n| n.split_once('-'))
            .and_then(|(p, s)| Some((p.parse::<i32>().ok()?, s.parse::<u64>().ok()?)))
        else {
            continue;
        };
        if process_start(pid) != Some(start) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    // Only succeeds when empty: the directory is ours, its other files are live patches.
    let _ = std::fs::remove_dir(STATE_DIR);
    removed
}

/// Fill the new page, remember the original bytes (saved to disk before any is changed, so a
/// patch can always be healed), then redirect the vDSO entries. On failure every entry already
/// redirected is restored and the state file removed.
fn install(
    mut state: PatchState,
    stopped: &mut Stopped,
    symbols: &[VdsoSymbol],
) -> Result<PatchState, ClockError> {
    let (pid, page) = (state.pid, state.page);
    let mem = mem(pid)?;
    let (code, entries) = page_code(page).map_err(|e| other(pid, format!("assembling: {e}")))?;
    mem.write_all_at(&code, page)
        .and_then(|_| mem.write_all_at(&data_slot(state.mask, state.offset_ns), page + MASK))
        .map_err(|e| other(pid, format!("cannot write the page: {e}")))?;
    let mut jumps = Vec::new();
    for (name, addr, _) in symbols {
        let Some(&(_, target)) = entries.iter().find(|(t, _)| t == name) else {
            continue;
        };
        let mut original = vec![0u8; JUMP_LEN];
        mem.read_exact_at(&mut original, *addr)
            .map_err(|e| other(pid, format!("cannot read {name}: {e}")))?;
        state.patches.push(Patch {
            symbol: name.clone(),
            address: *addr,
            original,
        });
        jumps.push((*addr, jump_to(target)));
    }
    save_state(&state)?;
    let ranges: Vec<(u64, u64)> = jumps
        .iter()
        .map(|(a, _)| (*a, *a + JUMP_LEN as u64))
        .collect();
    let redirected = stopped.step_out_of(&ranges).and_then(|_| {
        for (i, (addr, jump)) in jumps.iter().enumerate() {
            if let Err(e) = mem.write_all_at(jump, *addr) {
                for p in &state.patches[..i] {
                    let _ = mem.write_all_at(&p.original, p.address);
                }
                return Err(other(
                    pid,
                    format!("cannot patch {}: {e}", state.patches[i].symbol),
                ));
            }
        }
        Ok(())
    });
    if let Err(e) = redirected {
        let _ = std::fs::remove_file(state_path(pid, state.start));
        return Err(e);
    }
    Ok(state)
}

/// Restore the vDSO's original bytes. The page stays mapped (a thread may be inside it), unused.
pub fn heal(pid: i32) -> Result<bool, ClockError> {
    let start = process_start(pid).ok_or(ClockError::NoSuchProcess(pid))?;
    let Some(state) = load_state(pid).filter(|s| s.start == start) else {
        return Ok(false);
    };
    let mut stopped = Stopped::all(pid)?;
    let ranges: Vec<(u64, u64)> = state
        .patches
        .iter()
        .map(|p| (p.address, p.address + JUMP_LEN as u64))
        .collect();
    stopped.step_out_of(&ranges)?;
    let mem = mem(pid)?;
    for p in &state.patches {
        mem.write_all_at(&p.original, p.address)
            .map_err(|e| other(pid, format!("cannot restore {}: {e}", p.symbol)))?;
    }
    // Zero offset too, for any thread that was already inside the replacement.
    let _ = mem.write_all_at(&data_slot(ClockMask::default(), 0), state.page + MASK);
    drop(stopped);
    let _ = std::fs::remove_file(state_path(pid, start));
    // Only succeeds when empty: other files there are live patches.
    let _ = std::fs::remove_dir(STATE_DIR);
    let _ = std::fs::remove_dir(
        std::path::Path::new(STATE_DIR)
            .parent()
            .unwrap_or(std::path::Path::new(STATE_DIR)),
    );
    Ok(true)
}

/// Flip between offsets `a` and `b` every `period` for `duration`; the last one set stays.
/// Returns how many times the offset was set.
pub fn strobe(
    pid: i32,
    mask: ClockMask,
    a: i64,
    b: i64,
    period: Duration,
    duration: Duration,
) -> Result<u64, ClockError> {
    let end = std::time::Instant::now() + duration;
    let mut flips = 0u64;
    let mut next = std::time::Instant::now();
    while std::time::Instant::now() < end {
        set_offset(pid, mask, if flips.is_multiple_of(2) { a } else { b })?;
        flips += 1;
        next += period;
        if let Some(wait) = next.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(flips)
}

/// Let the offset grow from `from` at `rate_ns_per_s` for `duration`, updated every `step`.
pub fn drift(
    pid: i32,
    mask: ClockMask,
    from: i64,
    rate_ns_per_s: f64,
    step: Duration,
    duration: Duration,
) -> Result<i64, ClockError> {
    let start = std::time::Instant::now();
    loop {
        let elapsed = start.elapsed().min(duration);
        let offset = from + (rate_ns_per_s * elapsed.as_secs_f64()) as i64;
        set_offset(pid, mask, offset)?;
        if elapsed >= duration {
            return Ok(offset);
        }
        std::thread::sleep(step.min(duration - elapsed));
    }
}

/// How long `set_offset` and `heal` took, for reports.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = std::time::Instant::now();
    let r = f();
    (r, t.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_slot_normalises_negative_offsets() {
        let b = data_slot(ClockMask::parse("realtime").unwrap(), -1_500_000_000);
        let sec = i64::from_le_bytes(b[8..16].try_into().unwrap());
        let nsec = i64::from_le_bytes(b[16..24].try_into().unwrap());
        assert_eq!((sec, nsec), (-2, 500_000_000));
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()) & 1, 1);
    }

    #[test]
    fn page_fits_and_data_comes_first() {
        let base = 0x7f12_3456_7000;
        let (code, entries) = page_code(base).unwrap();
        assert!(code.len() as u64 <= PAGE);
        assert_eq!(&code[..32], &[0u8; 32]);
        assert_eq!(entries[0], ("__vdso_clock_gettime", base + 32));
        assert!(entries
            .iter()
            .all(|e| e.1 > base && e.1 < base + code.len() as u64));
    }

    #[test]
    fn missing_process_is_a_clear_error() {
        let e = set_offset(i32::MAX - 7, ClockMask::parse("realtime").unwrap(), 1).unwrap_err();
        assert!(matches!(e, ClockError::NoSuchProcess(_)), "{e}");
    }
}
