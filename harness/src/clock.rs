//! `ferret clock`: the in-node clock agent, as a subcommand the harness can run on any node.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use ferret_nemesis::clock::{self, ClockMask};

/// Skew one process's clocks (Go binaries included) without touching the machine's clock.
///
/// Patches the process's own vDSO through ptrace so clock_gettime, gettimeofday and time return
/// the real time plus an offset, for the chosen clocks only. Later `set` calls change the offset
/// without re-patching; `heal` restores the original code. Needs root (or ptrace rights over
/// the target). x86_64 only.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  ferret clock 4242 set 15000 --clocks monotonic\n  \
ferret clock 4242 set -250 --clocks both\n  ferret clock 4242 heal"
)]
pub struct ClockArgs {
    /// The target process.
    pid: i32,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Set the offset (milliseconds, may be negative) of the chosen clocks.
    Set {
        #[arg(allow_hyphen_values = true)]
        offset_ms: f64,
        /// realtime, monotonic, boottime (comma-separated), both, or all.
        #[arg(long, default_value = "realtime")]
        clocks: String,
    },
    /// Flip between two offsets (ms) every PERIOD ms for SECONDS.
    Strobe {
        #[arg(allow_hyphen_values = true)]
        a_ms: f64,
        #[arg(allow_hyphen_values = true)]
        b_ms: f64,
        #[arg(long, default_value_t = 100.0)]
        period_ms: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value = "realtime")]
        clocks: String,
    },
    /// Let the offset grow at RATE ms per second, from the current one, for SECONDS.
    Drift {
        #[arg(allow_hyphen_values = true)]
        rate_ms_per_s: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value = "realtime")]
        clocks: String,
    },
    /// Restore the original clock code.
    Heal,
    /// Print the current skew, if any, as JSON.
    Show,
}

pub fn run(args: ClockArgs) -> Result<u8> {
    match args.action {
        Action::Set { offset_ms, clocks } => {
            let mask = ClockMask::parse(&clocks).map_err(|e| anyhow!("--clocks: {e}"))?;
            let offset_ns = ms_to_ns(offset_ms)?;
            let (r, took) = clock::timed(|| clock::set_offset(args.pid, mask, offset_ns));
            let state = r?;
            println!(
                "{}",
                serde_json::json!({"pid": args.pid, "offset_ns": state.offset_ns, "clocks": state.mask, "took_us": took.as_micros()})
            );
        }
        Action::Strobe {
            a_ms,
            b_ms,
            period_ms,
            seconds,
            clocks,
        } => {
            let mask = ClockMask::parse(&clocks).map_err(|e| anyhow!("--clocks: {e}"))?;
            let (lo, hi) = crate::config::bounds::STROBE_PERIOD_MS;
            if !(period_ms.is_finite() && period_ms >= lo as f64 && period_ms <= hi as f64) {
                return Err(anyhow!("--period-ms must be {lo} to {hi}, not {period_ms}"));
            }
            let period = std::time::Duration::from_secs_f64(period_ms / 1000.0);
            let duration = positive_secs(seconds, "--seconds")?;
            let flips = clock::strobe(
                args.pid,
                mask,
                ms_to_ns(a_ms)?,
                ms_to_ns(b_ms)?,
                period,
                duration,
            )?;
            println!("{}", serde_json::json!({"pid": args.pid, "flips": flips}));
        }
        Action::Drift {
            rate_ms_per_s,
            seconds,
            clocks,
        } => {
            let mask = ClockMask::parse(&clocks).map_err(|e| anyhow!("--clocks: {e}"))?;
            let duration = positive_secs(seconds, "--seconds")?;
            let from = clock::load_state(args.pid).map_or(0, |s| s.offset_ns);
            let end = clock::drift(
                args.pid,
                mask,
                from,
                ms_to_ns(rate_ms_per_s)? as f64,
                std::time::Duration::from_millis(100),
                duration,
            )?;
            println!("{}", serde_json::json!({"pid": args.pid, "offset_ns": end}));
        }
        Action::Heal => {
            let (r, took) = clock::timed(|| clock::heal(args.pid));
            let healed = r?;
            println!(
                "{}",
                serde_json::json!({"pid": args.pid, "healed": healed, "took_us": took.as_micros()})
            );
        }
        Action::Show => {
            let state = clock::load_state(args.pid);
            println!("{}", serde_json::to_string(&state)?);
        }
    }
    Ok(crate::exit::VALID)
}

fn ms_to_ns(ms: f64) -> Result<i64> {
    if !ms.is_finite() || ms.abs() > 1e12 {
        return Err(anyhow!("{ms} ms is out of range"));
    }
    Ok((ms * 1e6).round() as i64)
}

fn positive_secs(s: f64, what: &str) -> Result<std::time::Duration> {
    crate::config::bounds::seconds(s, what, crate::config::bounds::FAULT_DURATION)
}
