//! `ferret probe`: small measurements the nemesis takes from inside a node's network namespace
//! to show that a fault took effect.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Measure from where this runs (the harness runs it inside a node's network namespace).
#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Try a TCP connection to each ADDR (ip:port) at once and print, as JSON, whether each
    /// answered: a connection or a refusal both prove the path works; silence until the
    /// timeout means packets are dropped.
    Tcp {
        #[arg(required = true)]
        addrs: Vec<SocketAddr>,
        #[arg(long, default_value_t = 300)]
        timeout_ms: u64,
    },
    /// Send COUNT ICMP echo requests to each ADDR, one round every INTERVAL, and listen until
    /// WAIT after the last: print, as JSON, per address the replies and their round-trip times,
    /// and how many of that address's own requests tagged TAG arrived here. Run at once on
    /// every node with one TAG, "heard" shows each direction of each link on its own (a one-way
    /// cut, the loss of one direction), and the round trips show delay.
    Ping {
        #[arg(required = true)]
        addrs: Vec<std::net::Ipv4Addr>,
        #[arg(long, default_value_t = 50)]
        count: u16,
        #[arg(long, default_value_t = 5)]
        interval_ms: u64,
        #[arg(long, default_value_t = 1000)]
        wait_ms: u64,
        /// Listen this long before sending, so that probes started a moment apart on several
        /// nodes hear each other's first requests.
        #[arg(long, default_value_t = 300)]
        start_ms: u64,
        /// Marks this probe's packets (in each request's payload), so another probe's are ignored.
        #[arg(long)]
        tag: u16,
    },
}

pub fn run(args: ProbeArgs) -> Result<u8> {
    match args.action {
        Action::Tcp { addrs, timeout_ms } => {
            let timeout = Duration::from_millis(timeout_ms);
            let handles: Vec<_> = addrs
                .into_iter()
                .map(|a| {
                    std::thread::spawn(move || {
                        let t = Instant::now();
                        let r = TcpStream::connect_timeout(&a, timeout);
                        let reachable = match &r {
                            Ok(_) => true,
                            Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
                        };
                        serde_json::json!({
                            "to": a.to_string(),
                            "reachable": reachable,
                            "ms": (t.elapsed().as_secs_f64() * 1e4).round() / 10.0,
                        })
                    })
                })
                .collect();
            let out: Vec<serde_json::Value> = handles
                .into_iter()
                .map(|h| h.join().map_err(|_| anyhow!("a probe thread panicked")))
                .collect::<Result<_>>()?;
            println!("{}", serde_json::Value::Array(out));
            Ok(crate::exit::VALID)
        }
        Action::Ping {
            addrs,
            count,
            interval_ms,
            wait_ms,
            start_ms,
            tag,
        } => {
            let out = ping(&addrs, count, interval_ms, start_ms, wait_ms, tag)?;
            println!("{out}");
            Ok(crate::exit::VALID)
        }
    }
}

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;

/// An ICMP echo request carrying the probe's tag and when it was sent, in µs since `start`.
/// Each request has an ICMP id of its own: a node whose namespace tracks connections (a Docker
/// container's does) treats requests with one id as one flow, and when a delay holds many of a
/// new flow's packets at once, the kernel drops all but one as clashes when they are let go.
fn echo_request(tag: u16, seq: u16, sent_us: u64) -> Vec<u8> {
    let mut p = vec![ECHO_REQUEST, 0, 0, 0];
    p.extend_from_slice(&seq.wrapping_mul(7919).wrapping_add(tag).to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&tag.to_be_bytes());
    p.extend_from_slice(&sent_us.to_be_bytes());
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP packet as a raw socket gives it: source, type, the probe's tag and the send time
/// it carries.
fn parse(buf: &[u8]) -> Option<(std::net::Ipv4Addr, u8, u16, Option<u64>)> {
    let ihl = usize::from(buf.first()? & 0x0f) * 4;
    let src = std::net::Ipv4Addr::new(*buf.get(12)?, buf[13], buf[14], buf[15]);
    let icmp = buf.get(ihl..)?;
    let tag = u16::from_be_bytes([*icmp.get(8)?, *icmp.get(9)?]);
    let sent = icmp
        .get(10..18)
        .map(|b| u64::from_be_bytes(b.try_into().unwrap_or_default()));
    Some((src, icmp[0], tag, sent))
}

fn ping(
    addrs: &[std::net::Ipv4Addr],
    count: u16,
    interval_ms: u64,
    start_ms: u64,
    wait_ms: u64,
    tag: u16,
) -> Result<serde_json::Value> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
        .map_err(|e| anyhow!("cannot open a raw ICMP socket (root needed): {e}"))?;
    sock.set_read_timeout(Some(Duration::from_millis(5)))?;
    let sender = sock.try_clone()?;
    let start = Instant::now();
    let targets = addrs.to_vec();
    let send = std::thread::spawn(move || {
        let mut failed = vec![0u32; targets.len()];
        std::thread::sleep(Duration::from_millis(start_ms));
        for seq in 0..count {
            for (i, a) in targets.iter().enumerate() {
                let p = echo_request(tag, seq, start.elapsed().as_micros() as u64);
                let to = SockAddr::from(std::net::SocketAddrV4::new(*a, 0));
                if sender.send_to(&p, &to).is_err() {
                    failed[i] += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(interval_ms));
        }
        failed
    });
    let until = Duration::from_millis(start_ms + u64::from(count) * interval_ms + wait_ms);
    let mut rtts: Vec<Vec<f64>> = vec![Vec::new(); addrs.len()];
    let mut heard = vec![0u32; addrs.len()];
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1500];
    while start.elapsed() < until {
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(anyhow!("reading the raw ICMP socket: {e}")),
        };
        // SAFETY: recv initialised the first n bytes.
        let got: Vec<u8> = buf[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        let Some((src, kind, got_tag, sent)) = parse(&got) else {
            continue;
        };
        let Some(i) = addrs.iter().position(|a| *a == src) else {
            continue;
        };
        if got_tag != tag {
            continue;
        }
        match (kind, sent) {
            (ECHO_REPLY, Some(us)) => {
                let now = start.elapsed().as_micros() as u64;
                rtts[i].push(now.saturating_sub(us) as f64 / 1e3);
            }
            (ECHO_REQUEST, _) => heard[i] += 1,
            _ => {}
        }
    }
    let failed = send
        .join()
        .map_err(|_| anyhow!("the ping sender panicked"))?;
    let rows = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut r = rtts[i].clone();
            r.sort_by(f64::total_cmp);
            let round = |v: f64| (v * 100.0).round() / 100.0;
            serde_json::json!({
                "to": a.to_string(),
                "sent": count,
                "send_failed": failed[i],
                "replies": r.len(),
                "rtt_ms_min": r.first().map(|v| round(*v)),
                "rtt_ms_median": r.get(r.len() / 2).map(|v| round(*v)),
                "heard": heard[i],
            })
        })
        .collect();
    Ok(serde_json::Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request as a peer's raw socket would see it (a 20-byte IP header before it) parses
    /// back to its tag and send time, its checksum verifies, and two requests of one probe
    /// have different ICMP ids (each its own flow to connection tracking).
    #[test]
    fn an_echo_request_carries_its_tag_and_time_and_a_valid_checksum() {
        let p = echo_request(0x5a07, 3, 123_456);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        let mut ip = vec![0x45u8];
        ip.extend([0; 11]);
        ip.extend([10, 0, 0, 2, 10, 0, 0, 1]);
        ip.extend(&p);
        let (src, kind, tag, sent) = parse(&ip).unwrap();
        assert_eq!(src, std::net::Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!((kind, tag, sent), (ECHO_REQUEST, 0x5a07, Some(123_456)));
        assert_ne!(p[4..6], echo_request(0x5a07, 4, 0)[4..6]);
    }
}
