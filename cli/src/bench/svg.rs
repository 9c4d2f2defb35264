//! The latency distribution as an SVG chart: latency against percentile, the percentile axis
//! stretched towards the tail (1 - q on a log scale) as HDR histogram plots are, so p99.9 is as
//! readable as the median. Hand-written: a chart this plain does not need a plotting crate.

use std::fmt::Write;

use hdrhistogram::Histogram;

use super::Plan;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Decades of the tail shown: up to 99.99%.
const DECADES: f64 = 4.0;

/// The chart's SVG text.
pub fn chart(histogram: &Histogram<u64>, plan: &Plan) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    // x = log10(1 / (1 - q)): 0 at the minimum, 1 at p90, 2 at p99, ...
    let points: Vec<(f64, f64)> = (0..=200)
        .map(|i| {
            let x = DECADES * f64::from(i) / 200.0;
            let q = 1.0 - 10f64.powf(-x);
            (x, histogram.value_at_quantile(q) as f64 / 1e3)
        })
        .collect();
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(0.001) * 1.05;
    let sx = |x: f64| LEFT + x / DECADES * plot_w;
    let sy = |y: f64| TOP + plot_h - y / top * plot_h;

    let algorithms: Vec<&str> = plan.algorithms.iter().map(|a| a.name()).collect();
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="22" font-size="14">tokengate bench: Gate::validate latency ({}, {} threads, cache {})</text>"#,
        algorithms.join(" + "),
        plan.threads,
        if plan.cache { "on" } else { "off" }
    );
    // Horizontal grid lines with latency labels.
    for i in 0..=4 {
        let value = top * f64::from(i) / 4.0;
        let y = sy(value);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{value:.1}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0
        );
    }
    // Percentile marks.
    for (x, label) in [
        (0.0, "0%"),
        (0.301, "50%"),
        (1.0, "90%"),
        (2.0, "99%"),
        (3.0, "99.9%"),
        (4.0, "99.99%"),
    ] {
        let px = sx(x);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{:.1}" stroke="#eee"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
        .collect();
    let _ = writeln!(
        svg,
        r##"<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{}"/>"##,
        path.join(" ")
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">latency (µs)</text>"#,
        TOP + plot_h / 2.0
    );
    svg.push_str("</svg>\n");
    svg
}
