//! Counters, the progress line, and the harness's own CPU figure.

use super::Ctx;
use ferret_checkers::EventType;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters the progress display and the summary read.
#[derive(Default)]
pub(super) struct Stats {
    pub(super) ok: AtomicU64,
    pub(super) fail: AtomicU64,
    pub(super) info: AtomicU64,
    pub(super) fault: Mutex<String>,
    pub(super) faults_applied: Mutex<Vec<String>>,
}

impl Stats {
    pub(super) fn count(&self, kind: EventType) {
        match kind {
            EventType::Ok => &self.ok,
            EventType::Fail => &self.fail,
            _ => &self.info,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn total(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
            + self.fail.load(Ordering::Relaxed)
            + self.info.load(Ordering::Relaxed)
    }
}

pub(super) fn harness_cpu_seconds() -> f64 {
    let f = ferret_nemesis::proc::stat_fields("self").unwrap_or_default();
    // utime and stime: fields 14 and 15, counted from field 3.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / if hz > 0.0 { hz } else { 100.0 }
}

pub(super) async fn progress(ctx: &Ctx, t0: Instant, limit: Duration) {
    let bar = ProgressBar::new(limit.as_secs().max(1));
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        // wide_msg: the message is cut to the terminal's width, so the line never wraps.
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:20}] {pos}/{len} s {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut last = (Instant::now(), 0u64);
    while t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let total = ctx.stats.total();
        let rate = (total - last.1) as f64 / last.0.elapsed().as_secs_f64().max(1e-3);
        if last.0.elapsed() > Duration::from_secs(1) {
            last = (Instant::now(), total);
        }
        let fault = ctx
            .stats
            .fault
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        bar.set_position(t0.elapsed().as_secs().min(limit.as_secs()));
        bar.set_message(format!(
            "{rate:>4.0} ops/s ok {} fail {} info {}  {}",
            ctx.stats.ok.load(Ordering::Relaxed),
            ctx.stats.fail.load(Ordering::Relaxed),
            ctx.stats.info.load(Ordering::Relaxed),
            if fault.is_empty() {
                "no fault".to_string()
            } else {
                fault
            }
        ));
    }
    bar.finish_and_clear();
}
