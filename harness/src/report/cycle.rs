//! A cycle of transactions drawn as SVG: the transactions on a circle, each dependency an arrow
//! labelled with its kind (ww, wr, rw, process, realtime) and key, so a person sees the loop
//! that no serial order can break.

use ferret_checkers::verdict::Anomaly;
use maud::{html, Markup};

const SIZE: f64 = 420.0;
const RADIUS: f64 = 150.0;
const NODE: f64 = 20.0;

/// The anomaly's cycle, or nothing when it is not a cycle.
pub fn cycle_svg(a: &Anomaly) -> Markup {
    let n = a.calls.len();
    if a.steps.is_empty() || n == 0 {
        return html! {};
    }
    let c = SIZE / 2.0;
    let at = |i: usize| {
        let t = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
        (c + RADIUS * t.cos(), c + RADIUS * t.sin())
    };
    html! {
        svg.cycle width=(SIZE) height=(SIZE) viewBox=(format!("0 0 {SIZE} {SIZE}"))
            role="img" aria-label=(format!("{} cycle of {n} transactions", a.kind)) {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"
                    markerHeight="7" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" fill="#333" {}
                }
            }
            @for s in &a.steps {
                @let ((x1, y1), (x2, y2)) = (at(s.from), at(s.to));
                @let (dx, dy) = (x2 - x1, y2 - y1);
                @let len = (dx * dx + dy * dy).sqrt().max(1.0);
                @let (ux, uy) = (dx / len, dy / len);
                // Bend outward a little, so a two-transaction cycle shows both arrows.
                @let (mx, my) = ((x1 + x2) / 2.0 - uy * 24.0, (y1 + y2) / 2.0 + ux * 24.0);
                @let (sx, sy) = (x1 + ux * NODE, y1 + uy * NODE);
                @let (ex, ey) = (x2 - ux * NODE, y2 - uy * NODE);
                path class=(format!("edge {}", s.kind)) marker-end="url(#arrow)" fill="none"
                    d=(format!("M {sx:.1} {sy:.1} Q {mx:.1} {my:.1} {ex:.1} {ey:.1}")) {}
                text.edge x=(format!("{mx:.1}")) y=(format!("{my:.1}")) text-anchor="middle" {
                    (s.kind)
                    @if !s.key.is_nil() { " " (s.key.to_string()) }
                }
            }
            @for i in 0..n {
                @let (x, y) = at(i);
                circle.txn cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r=(NODE) {}
                text.txn x=(format!("{x:.1}")) y=(format!("{:.1}", y + 4.0)) text-anchor="middle" {
                    "T" (i + 1)
                }
            }
        }
    }
}
