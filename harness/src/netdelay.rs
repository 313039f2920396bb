//! `ferret netdelay`: delay without netem. The nemesis runs it inside a node's network
//! namespace and sends the packets of slowed links to its NFQUEUE; it holds each for the delay
//! plus a seeded jitter, then lets it go. Only metadata crosses to user space (the packet stays
//! in the kernel), so holding thousands of packets costs little. On SIGTERM it lets every held
//! packet go at once and exits, so a heal loses nothing.

use anyhow::{Context, Result};
use clap::Args;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Hold packets from an NFQUEUE for a delay (the nemesis runs this in a node's namespace).
#[derive(Args, Debug)]
pub struct NetdelayArgs {
    /// The NFQUEUE number to read.
    #[arg(long)]
    queue: u16,
    /// How long each packet is held.
    #[arg(long)]
    delay_ms: u64,
    /// Each packet's hold varies uniformly within ± this.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Seeds the jitter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// A held packet: when it goes, and an arrival number to keep equal times in order.
struct Held {
    due: Instant,
    n: u64,
    msg: nfq::Message,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.n) == (o.due, o.n)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.n).cmp(&(o.due, o.n))
    }
}

pub fn run(args: NetdelayArgs) -> Result<u8> {
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_term as *const () as libc::sighandler_t);
    }
    let mut q = nfq::Queue::open().context("cannot open an NFQUEUE socket (root needed)")?;
    q.bind(args.queue)
        .with_context(|| format!("cannot bind NFQUEUE {}", args.queue))?;
    q.set_copy_range(args.queue, 0)?;
    q.set_recv_gso(args.queue, true)?;
    // Past this many held packets the kernel lets new ones through unheld rather than drop.
    q.set_queue_max_len(args.queue, 200_000)?;
    q.set_fail_open(args.queue, true)?;
    q.set_nonblocking(true);
    println!(
        "holding queue {} for {} ± {} ms",
        args.queue, args.delay_ms, args.jitter_ms
    );
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut held: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
    let (mut n, mut released, mut flushed) = (0u64, 0u64, 0u64);
    let lo = args.delay_ms.saturating_sub(args.jitter_ms) as f64;
    let hi = (args.delay_ms + args.jitter_ms) as f64;
    loop {
        let stopping = STOP.load(Ordering::Relaxed);
        loop {
            match q.recv() {
                Ok(mut msg) => {
                    let ms = if hi > lo {
                        rng.random_range(lo..hi)
                    } else {
                        lo
                    };
                    msg.set_verdict(nfq::Verdict::Accept);
                    held.push(Reverse(Held {
                        due: Instant::now() + Duration::from_secs_f64(ms / 1e3),
                        n,
                        msg,
                    }));
                    n += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // The kernel answers a verdict for a packet it no longer holds (it flushes
                // the queues when any hook in the namespace goes) with ENOENT.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => flushed += 1,
                Err(e) => return Err(e).context("reading the NFQUEUE"),
            }
        }
        let now = Instant::now();
        while let Some(Reverse(h)) = held.peek() {
            if !stopping && h.due > now {
                break;
            }
            let Some(Reverse(h)) = held.pop() else { break };
            q.verdict(h.msg).context("letting a packet go")?;
            released += 1;
        }
        if stopping {
            println!(
                "stopped: {n} packets held, {released} let go, {flushed} dropped by the kernel first"
            );
            return Ok(crate::exit::VALID);
        }
        let next = held.peek().map_or(Duration::from_millis(1), |Reverse(h)| {
            h.due.saturating_duration_since(now)
        });
        std::thread::sleep(next.min(Duration::from_millis(1)));
    }
}
