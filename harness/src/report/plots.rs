//! Throughput and latency over time, per function, with the fault windows shaded: SVG made by
//! plotters, embedded in report.html and written beside it as .svg files.

use ferret_checkers::{Call, Outcome};
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Time buckets across the run.
pub const BUCKETS: usize = 60;

pub struct Plots {
    pub throughput: String,
    pub latency: String,
}

/// A function's name as a series label: only plain characters (names come from the history).
fn label(f: &str) -> String {
    let clean: String = f
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
        .take(24)
        .collect();
    if clean.is_empty() {
        "?".into()
    } else {
        clean
    }
}

/// The q-quantile of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Plots of the calls' throughput (ok completions per second) and latency (p50 and p99 of ok
/// calls, by completion time), in seconds of the history's clock; `faults` are (start, end) in
/// the same seconds. `None` when the calls carry no times.
pub fn render(calls: &[Call], faults: &[(f64, f64)]) -> Option<Plots> {
    let timed: Vec<(&Call, f64, f64)> = calls
        .iter()
        .filter(|c| c.outcome == Outcome::Ok)
        .filter_map(|c| {
            Some((
                c,
                c.invoke_time? as f64 / 1e9,
                c.complete_time? as f64 / 1e9,
            ))
        })
        .collect();
    if timed.is_empty() {
        return None;
    }
    let t0 = timed.iter().map(|t| t.1).fold(f64::MAX, f64::min);
    let t1 = timed
        .iter()
        .map(|t| t.2)
        .fold(f64::MIN, f64::max)
        .max(t0 + 1e-3);
    let width = (t1 - t0) / BUCKETS as f64;
    let bucket = |t: f64| (((t - t0) / width) as usize).min(BUCKETS - 1);
    let mut per_f: BTreeMap<String, (Vec<f64>, Vec<Vec<f64>>)> = BTreeMap::new();
    for (c, start, end) in &timed {
        let e = per_f
            .entry(label(&c.f))
            .or_insert_with(|| (vec![0.0; BUCKETS], vec![Vec::new(); BUCKETS]));
        let b = bucket(*end);
        e.0[b] += 1.0 / width;
        e.1[b].push((end - start) * 1e3);
    }
    let mid = |b: usize| t0 + (b as f64 + 0.5) * width;
    let throughput: Vec<(String, Vec<(f64, f64)>)> = per_f
        .iter()
        .map(|(f, (rate, _))| (f.clone(), (0..BUCKETS).map(|b| (mid(b), rate[b])).collect()))
        .collect();
    let mut latency: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (f, (_, lat)) in &per_f {
        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
            let points = (0..BUCKETS)
                .filter(|&b| !lat[b].is_empty())
                .map(|b| {
                    let mut v = lat[b].clone();
                    v.sort_by(f64::total_cmp);
                    (mid(b), quantile(&v, q))
                })
                .collect();
            latency.push((format!("{f} {name}"), points));
        }
    }
    Some(Plots {
        throughput: chart(
            "ok calls per second",
            "calls/s",
            &throughput,
            faults,
            (t0, t1),
        )?,
        latency: chart("latency of ok calls (ms)", "ms", &latency, faults, (t0, t1))?,
    })
}

fn chart(
    caption: &str,
    unit: &str,
    series: &[(String, Vec<(f64, f64)>)],
    faults: &[(f64, f64)],
    (t0, t1): (f64, f64),
) -> Option<String> {
    let top = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 320)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut c = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(55)
            .build_cartesian_2d(t0..t1, 0.0..top)
            .ok()?;
        c.configure_mesh()
            .x_desc("seconds")
            .y_desc(unit)
            .light_line_style(WHITE)
            .draw()
            .ok()?;
        c.draw_series(faults.iter().map(|&(a, b)| {
            Rectangle::new(
                [(a.max(t0), 0.0), (b.min(t1), top)],
                RGBColor(255, 153, 0).mix(0.18).filled(),
            )
        }))
        .ok()?;
        for (i, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            c.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .ok()?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}
