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
    }
}
