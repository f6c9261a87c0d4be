//! The report: a Markdown table of the schemes, `drq eval`'s whole report
//! ([`EvalReport`]: report.json, report.md), and three hand-written SVG
//! figures (accuracy against speedup of the schemes with cycles, with the
//! paper's point; the same over a sweep of calibration budgets; the
//! sensitive-region maps of one image through the layers).

use crate::data::PIXELS;
use crate::eval::{
    report_json, scheme_json, speedup_over, ComparedDrq, LayerTally, MatchedOutlier, ScaledDrq,
    Scheme, SchemeResult,
};
use crate::quant::image_map;
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_golden::layer::Layer;
use drq_golden::network::{run_network, Network};
use std::fmt::Write;

/// Colour of a sensitive region (INT8) in the region maps.
pub const SENSITIVE_COLOUR: &str = "#d62728";
/// Colour of an insensitive region (INT4).
pub const INSENSITIVE_COLOUR: &str = "#c6dbef";

/// Escape text for SVG / XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Thousands separators: 260880000 -> "260,880,000".
fn grouped(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// [`markdown_table_rows`] with each row named by its scheme.
pub fn markdown_table(results: &[SchemeResult], region: u32) -> String {
    let rows: Vec<(String, &SchemeResult)> = results
        .iter()
        .map(|r| (r.scheme.name().to_string(), r))
        .collect();
    markdown_table_rows(&rows, region)
}

/// A Markdown table with one row per result, in order: name, top-1 %,
/// cycles (golden schemes, "-" otherwise), speedup against the first
/// `int8` result's cycles ("-" without cycles or without an int8 row), the
/// share of high-precision MACs ("-" for float), and the sensitive
/// fraction per layer (sensitive regions for int8 / int4 /
/// drq: all 1 for int8, all 0 for int4; activations kept at INT8 for
/// outlier; "-" for float). `region` goes into the cycles header.
pub fn markdown_table_rows(rows: &[(String, &SchemeResult)], region: u32) -> String {
    let int8 = rows
        .iter()
        .find(|(_, r)| r.scheme == Scheme::Int8)
        .and_then(|(_, r)| r.cycles);
    let mut s = format!(
        "| scheme | top-1 % | cycles (R = {region}) | speedup vs int8 | high-precision MACs | sensitive fraction per layer |\n|---|---|---|---|---|---|\n"
    );
    for (name, r) in rows {
        let cycles = r.cycles.map_or("-".into(), grouped);
        let speedup = match (int8, r.cycles) {
            (Some(a), Some(b)) if b > 0 => format!("{:.3}", a as f64 / b as f64),
            _ => "-".into(),
        };
        let macs = r.high_mac_share.map_or("-".into(), percent);
        let frac = if r.sensitive_fraction_per_layer.is_empty() {
            "-".to_string()
        } else {
            r.sensitive_fraction_per_layer
                .iter()
                .map(|&f| {
                    if f == 0.0 || f == 1.0 {
                        format!("{f:.0}")
                    } else {
                        format!("{f:.3}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "| {name} | {:.2} | {cycles} | {speedup} | {macs} | {frac} |",
            r.accuracy
        );
    }
    s
}

/// Tick positions covering lo..hi: about `n` steps of 1, 2 or 5 times a
/// power of ten.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / n.max(1) as f64;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

fn tick_label(v: f64, lo: f64, hi: f64) -> String {
    let step = (hi - lo).abs();
    if step >= 10.0 {
        format!("{v:.0}")
    } else if step >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The plot area of an accuracy (y) against speedup (x) figure: size,
/// margins, data ranges and the mapping from data to pixels.
struct Frame {
    w: f64,
    h: f64,
    ml: f64,
    mr: f64,
    mt: f64,
    mb: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

/// lo..hi of `v`, at least `min_span` wide (centred), widened by `pad` of
/// the span on each side.
fn padded_range(v: &[f64], pad: f64, min_span: f64) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi - lo < min_span {
        let m = (lo + hi) / 2.0;
        (m - min_span / 2.0, m + min_span / 2.0)
    } else {
        (lo, hi)
    };
    let p = (hi - lo) * pad;
    (lo - p, hi + p)
}

impl Frame {
    /// A `size` (width, height) figure with `margins` (left, right, top,
    /// bottom) whose ranges cover `xs` and `ys` (8 % padding; at least 0.1
    /// wide in x and 1 point in y).
    fn covering(size: (f64, f64), margins: [f64; 4], xs: &[f64], ys: &[f64]) -> Frame {
        let (x0, x1) = padded_range(xs, 0.08, 0.1);
        let (y0, y1) = padded_range(ys, 0.08, 1.0);
        let [ml, mr, mt, mb] = margins;
        Frame {
            w: size.0,
            h: size.1,
            ml,
            mr,
            mt,
            mb,
            x0,
            x1,
            y0,
            y1,
        }
    }
    fn px(&self, x: f64) -> f64 {
        self.ml + (x - self.x0) / (self.x1 - self.x0) * (self.w - self.ml - self.mr)
    }
    fn py(&self, y: f64) -> f64 {
        self.h - self.mb - (y - self.y0) / (self.y1 - self.y0) * (self.h - self.mt - self.mb)
    }
    /// Left, right, bottom and top of the plot area in pixels.
    fn area(&self) -> (f64, f64, f64, f64) {
        (self.ml, self.w - self.mr, self.h - self.mb, self.mt)
    }
    /// The opening of the figure: `<svg>`, white background, `title`, axes
    /// with ticks and grid lines, and the axis labels (top-1 %, speedup
    /// over INT8).
    fn open(&self, title: &str) -> String {
        let (w, h) = (self.w, self.h);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>"#
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            w / 2.0,
            esc(title)
        );
        let (ax0, ax1, ay0, ay1) = self.area();
        let _ = writeln!(
            s,
            r#"<g stroke="black" stroke-width="1"><line x1="{ax0}" y1="{ay0}" x2="{ax1}" y2="{ay0}"/><line x1="{ax0}" y1="{ay0}" x2="{ax0}" y2="{ay1}"/></g>"#
        );
        let xt = ticks(self.x0, self.x1, 6);
        let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
        let _ = writeln!(s, r#"<g class="xticks">"#);
        for &t in &xt {
            let x = self.px(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{ay0}" x2="{x:.1}" y2="{:.1}" stroke="black"/><line x1="{x:.1}" y1="{ay0}" x2="{x:.1}" y2="{ay1}" stroke="#dddddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                ay0 + 5.0,
                ay0 + 18.0,
                tick_label(t, 0.0, xstep)
            );
        }
        let _ = writeln!(s, "</g>");
        let yt = ticks(self.y0, self.y1, 6);
        let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
        let _ = writeln!(s, r#"<g class="yticks">"#);
        for &t in &yt {
            let y = self.py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{ax0}" y2="{y:.1}" stroke="black"/><line x1="{ax0}" y1="{y:.1}" x2="{ax1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                ax0 - 5.0,
                ax0 - 8.0,
                y + 4.0,
                tick_label(t, 0.0, ystep)
            );
        }
        let _ = writeln!(s, "</g>");
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">speedup over uniform INT8 (cycles_total)</text>"#,
            (ax0 + ax1) / 2.0,
            ay0 + 42.0
        );
        let _ = writeln!(
            s,
            r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">top-1 accuracy (%)</text>"#,
            (ay0 + ay1) / 2.0,
            (ay0 + ay1) / 2.0
        );
        s
    }
    /// A line through `points` (x, y), sorted as given.
    fn polyline(&self, points: &[(f64, f64)], colour: &str) -> String {
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        format!(
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
            path.join(" ")
        ) + "\n"
    }
    /// A 9 x 9 square at (x, y) with a tooltip and a label below right.
    fn square(&self, (x, y): (f64, f64), colour: &str, tip: &str, label: &str) -> String {
        let (cx, cy) = (self.px(x), self.py(y));
        format!(
            r#"<rect x="{:.1}" y="{:.1}" width="9" height="9" fill="{colour}"><title>{}</title></rect><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            cx - 4.5,
            cy - 4.5,
            esc(tip),
            cx + 7.0,
            cy + 14.0,
            esc(label)
        ) + "\n"
    }
    /// A circle of radius `r` at (x, y) (`paint`: its fill and stroke
    /// attributes) with a tooltip and a label above right.
    fn circle(&self, (x, y): (f64, f64), r: f64, paint: &str, tip: &str, label: &str) -> String {
        let (cx, cy) = (self.px(x), self.py(y));
        format!(
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r}" {paint}><title>{}</title></circle><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            esc(tip),
            cx + 6.0,
            cy - 6.0,
            esc(label)
        ) + "\n"
    }
}

/// Blue of the DRQ points.
const DRQ_COLOUR: &str = "#1f77b4";
/// Purple of other models (ablation steps).
const COMPARED_COLOUR: &str = "#9467bd";
/// Green of the INT8 reference.
const INT8_COLOUR: &str = "#2ca02c";
/// Orange of the INT4 reference.
const INT4_COLOUR: &str = "#ff7f0e";

/// Accuracy (y, %) against speedup over INT8 (x) of the calibrated networks
/// of a sweep of budgets, `points` = (budget in pp, top-1 %, speedup), drawn
/// as a line through the points sorted by speedup, each labelled by its
/// budget; uniform INT8 `int8` = (top-1, 1.0) and INT4 `int4` = (top-1,
/// speedup) as reference squares. Hand-written SVG with axes, ticks and
/// labels.
pub fn budget_sweep_svg(points: &[(f64, f64, f64)], int8: (f64, f64), int4: (f64, f64)) -> String {
    let xs: Vec<f64> = points.iter().map(|p| p.2).chain([int8.1, int4.1]).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).chain([int8.0, int4.0]).collect();
    let f = Frame::covering((640.0, 440.0), [70.0, 30.0, 40.0, 60.0], &xs, &ys);
    let mut s = f.open("DRQ calibration: top-1 against speedup over INT8, per accuracy budget");
    // DRQ points.
    let mut sorted: Vec<(f64, f64, f64)> = points.to_vec();
    sorted.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.total_cmp(&b.0)));
    if sorted.len() > 1 {
        let line: Vec<(f64, f64)> = sorted.iter().map(|p| (p.2, p.1)).collect();
        s += &f.polyline(&line, DRQ_COLOUR);
    }
    let _ = writeln!(s, r#"<g class="drq">"#);
    for &(b, acc, sp) in &sorted {
        let paint = format!(r#"fill="{DRQ_COLOUR}""#);
        let tip = format!("budget {b} pp: {acc:.2} %, {sp:.3}x");
        s += &f.circle((sp, acc), 4.0, &paint, &tip, &format!("{b} pp"));
    }
    let _ = writeln!(s, "</g>");
    // References.
    for (name, (acc, sp), colour) in [("INT8", int8, INT8_COLOUR), ("INT4", int4, INT4_COLOUR)] {
        s += &f.square(
            (sp, acc),
            colour,
            &format!("{name}: {acc:.2} %, {sp:.3}x"),
            name,
        );
    }
    // Legend.
    let (_, ax1, _, ay1) = f.area();
    let lx = ax1 - 170.0;
    let _ = writeln!(
        s,
        r##"<g class="legend"><circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f77b4"/><text x="{:.1}" y="{:.1}">DRQ, calibrated (budget)</text><rect x="{:.1}" y="{:.1}" width="9" height="9" fill="#2ca02c"/><text x="{:.1}" y="{:.1}">uniform INT8</text><rect x="{:.1}" y="{:.1}" width="9" height="9" fill="#ff7f0e"/><text x="{:.1}" y="{:.1}">uniform INT4</text></g>"##,
        lx,
        ay1 + 10.0,
        lx + 10.0,
        ay1 + 14.0,
        lx - 4.5,
        ay1 + 21.5,
        lx + 10.0,
        ay1 + 30.0,
        lx - 4.5,
        ay1 + 37.5,
        lx + 10.0,
        ay1 + 46.0
    );
    s.push_str("</svg>\n");
    s
}

/// The paper's speedup over INT8 at under 1 % accuracy loss (DRQ, ISCA
/// 2020).
pub const PAPER_SPEEDUP: f64 = 1.92;
/// Red of the paper's reference.
const PAPER_COLOUR: &str = "#d62728";

/// One scheme with cycles in the accuracy-against-speedup figure.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedupPoint {
    pub label: String,
    /// Top-1 in percent.
    pub accuracy: f64,
    /// int8 cycles_total / the scheme's cycles_total.
    pub speedup: f64,
    pub kind: PointKind,
}

/// How a [`SpeedupPoint`] is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointKind {
    Int8,
    Int4,
    /// DRQ at the network's thresholds.
    Drq,
    /// DRQ at scaled thresholds.
    DrqScaled,
    /// DRQ of another model (an ablation step, `drq eval --compare`).
    Compared,
}

/// The caption of [`accuracy_speedup_svg`], one SVG line each (joined by
/// spaces under the figure in report.md): how x and y are measured and
/// where the paper's point is drawn.
pub fn accuracy_speedup_caption(images: usize, region: u32) -> Vec<String> {
    vec![
        format!("One point per scheme with cycles, on the same {images} test images, R = {region}: x = int8 cycles_total /"),
        "the scheme's cycles_total (golden model), y = top-1. Hollow circles: DRQ with every threshold T scaled.".into(),
        format!("DRQ paper ({PAPER_SPEEDUP}x at < 1 % loss): red diamond at x = {PAPER_SPEEDUP}, drawn at y = this network's INT8 top-1"),
        format!("- 1 point (the paper's loss bound, not an accuracy measured here); dashed red line: x = {PAPER_SPEEDUP}."),
        "Dashed grey line: INT8 top-1 - 1 point. Outlier rows have no cycle model and are not drawn.".into(),
        "Purple: DRQ of other models (drq eval --compare), each against its own INT8 cycles_total.".into(),
    ]
}

/// Top-1 (y, %) against speedup over INT8 (x) of every scheme with cycles
/// (`points`; DRQ at its own and scaled thresholds joined by a line in
/// speedup order), with the paper's point (1.92x at < 1 % loss) drawn at
/// y = `int8_accuracy` - 1 and as a dashed vertical line at x = 1.92, the
/// 1-point line, and [`accuracy_speedup_caption`] under the plot. The
/// same inputs give the same bytes.
pub fn accuracy_speedup_svg(
    points: &[SpeedupPoint],
    int8_accuracy: f64,
    images: usize,
    region: u32,
) -> String {
    let budget = int8_accuracy - 1.0;
    let xs: Vec<f64> = points
        .iter()
        .map(|p| p.speedup)
        .chain([1.0, PAPER_SPEEDUP])
        .collect();
    let ys: Vec<f64> = points.iter().map(|p| p.accuracy).chain([budget]).collect();
    // The right margin leaves room for a point's label (the longest
    // compared model's) at the largest speedup.
    let f = Frame::covering((840.0, 595.0), [70.0, 110.0, 40.0, 165.0], &xs, &ys);
    let mut s = f.open("DRQ on Fashion-MNIST: top-1 against speedup over INT8");
    s += &paper_reference(&f, budget);
    let mut drq: Vec<&SpeedupPoint> = points
        .iter()
        .filter(|p| matches!(p.kind, PointKind::Drq | PointKind::DrqScaled))
        .collect();
    drq.sort_by(|a, b| a.speedup.total_cmp(&b.speedup).then(a.label.cmp(&b.label)));
    if drq.len() > 1 {
        let line: Vec<(f64, f64)> = drq.iter().map(|p| (p.speedup, p.accuracy)).collect();
        s += &f.polyline(&line, DRQ_COLOUR);
    }
    let _ = writeln!(s, r#"<g class="schemes">"#);
    for p in points {
        s += &scheme_marker(&f, p);
    }
    let _ = writeln!(s, "</g>");
    let (ax0, _, ay0, _) = f.area();
    let _ = writeln!(s, r#"<g class="caption" font-size="11">"#);
    for (i, line) in accuracy_speedup_caption(images, region).iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{ax0}" y="{:.1}">{}</text>"#,
            ay0 + 66.0 + 15.0 * i as f64,
            esc(line)
        );
    }
    let _ = writeln!(s, "</g>");
    s.push_str("</svg>\n");
    s
}

/// The paper's point and the two dashed reference lines.
fn paper_reference(f: &Frame, budget: f64) -> String {
    let (ax0, ax1, ay0, ay1) = f.area();
    let (x, y) = (f.px(PAPER_SPEEDUP), f.py(budget));
    let label = format!("DRQ paper, {PAPER_SPEEDUP}x at < 1 % loss");
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<g class="paper"><line x1="{ax0}" y1="{y:.1}" x2="{ax1}" y2="{y:.1}" stroke="#888888" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#666666">INT8 top-1 - 1 point</text><line x1="{x:.1}" y1="{ay0}" x2="{x:.1}" y2="{ay1}" stroke="{PAPER_COLOUR}" stroke-dasharray="6 4"/><polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="{PAPER_COLOUR}"><title>{}</title></polygon><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="{PAPER_COLOUR}">{}</text></g>"##,
        ax0 + 4.0,
        y - 4.0,
        y - 7.0,
        x + 7.0,
        y + 7.0,
        x - 7.0,
        esc(&format!(
            "{label}: drawn at this network's INT8 top-1 - 1 point"
        )),
        x - 10.0,
        y + 18.0,
        esc(&label)
    );
    s
}

/// One scheme's marker: INT8 and INT4 squares, DRQ a filled circle, DRQ
/// at scaled thresholds hollow circles.
fn scheme_marker(f: &Frame, p: &SpeedupPoint) -> String {
    let at = (p.speedup, p.accuracy);
    let tip = format!("{}: {:.2} %, {:.3}x", p.label, p.accuracy, p.speedup);
    match p.kind {
        PointKind::Int8 => f.square(at, INT8_COLOUR, &tip, &p.label),
        PointKind::Int4 => f.square(at, INT4_COLOUR, &tip, &p.label),
        PointKind::Drq => f.circle(at, 5.0, &format!(r#"fill="{DRQ_COLOUR}""#), &tip, &p.label),
        PointKind::DrqScaled => f.circle(
            at,
            4.0,
            &format!(r#"fill="white" stroke="{DRQ_COLOUR}" stroke-width="1.5""#),
            &tip,
            &p.label,
        ),
        PointKind::Compared => f.circle(
            at,
            4.5,
            &format!(r#"fill="{COMPARED_COLOUR}""#),
            &tip,
            &p.label,
        ),
    }
}

/// Everything `drq eval` reports at its main region size (report.json,
/// report.md, accuracy_speedup.svg).
#[derive(Debug, Clone)]
pub struct EvalReport {
    /// Every scheme run at the main region size, in order.
    pub results: Vec<SchemeResult>,
    pub region: u32,
    /// The array: rows, columns and processing element (the
    /// configuration's `rows`, `cols`, `pe`).
    pub array_rows: u32,
    pub array_cols: u32,
    pub pe: PeKind,
    /// Rows the output stage holds (the configuration's `out_rows`).
    pub out_rows: u32,
    /// Pixels the output stage writes per cycle (the main region's
    /// configuration `out_lanes`).
    pub out_lanes: u32,
    /// Shadow accumulators: a tile read out under the next one's tokens
    /// (the configuration's `overlap`).
    pub overlap: bool,
    /// The streaming predictor (the configuration's `stream_predictor`).
    pub stream_predictor: bool,
    /// Row taps: rows read out row 0 first as each completes (the
    /// configuration's `row_taps`).
    pub row_taps: bool,
    /// Burst read-out: a tile's rows leave back to back once the output
    /// stage has room for it (the configuration's `burst_readout`).
    pub burst_readout: bool,
    /// The evaluated network's layers (shapes, T, s, sw).
    pub layers: Vec<Layer>,
    /// The outlier scheme matched to DRQ's share of high-precision MACs.
    pub matched: Option<MatchedOutlier>,
    /// DRQ with scaled thresholds.
    pub scaled: Vec<ScaledDrq>,
    /// DRQ of other models on the same machine (the ablation steps).
    pub compared: Vec<ComparedDrq>,
    /// `eval::report_json` of every region size (the first is the main one).
    pub per_region: Vec<serde_json::Value>,
}

/// "3 %", "12.35 %": a fraction as a percentage, two decimals at most.
fn percent(f: f64) -> String {
    let s = format!("{:.2}", 100.0 * f);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

impl EvalReport {
    fn find(&self, scheme: Scheme) -> Option<&SchemeResult> {
        self.results.iter().find(|r| r.scheme == scheme)
    }

    /// int8 cycles / `r`'s cycles.
    fn speedup(&self, r: &SchemeResult) -> Option<f64> {
        speedup_over(self.find(Scheme::Int8)?, r)
    }

    fn images(&self) -> usize {
        self.results.first().map_or(0, |r| r.images)
    }

    /// The name of a scaled DRQ row: "drq, T x 0.5 (T = 0, 24, 8, 64)".
    fn scaled_name(d: &ScaledDrq) -> String {
        let t: Vec<String> = d.thresholds.iter().map(|t| t.to_string()).collect();
        format!("drq, T x {} (T = {})", d.scale, t.join(", "))
    }

    /// Every row of the main table: the schemes (outlier named with its
    /// fraction), the matched outlier, DRQ at scaled thresholds.
    fn rows(&self) -> Vec<(String, &SchemeResult)> {
        let name = |r: &SchemeResult| match r.outlier_fraction {
            Some(f) => format!("outlier ({})", percent(f)),
            None => r.scheme.name().to_string(),
        };
        let mut rows: Vec<(String, &SchemeResult)> =
            self.results.iter().map(|r| (name(r), r)).collect();
        if let Some(m) = &self.matched {
            let f = m.result.outlier_fraction.unwrap_or(0.0);
            rows.push((format!("outlier, matched ({})", percent(f)), &m.result));
        }
        for d in &self.scaled {
            rows.push((Self::scaled_name(d), &d.result));
        }
        rows
    }

    /// Every scheme with cycles (int8, int4, drq, drq at scaled
    /// thresholds) as a point of the accuracy-against-speedup figure.
    pub fn speedup_points(&self) -> Vec<SpeedupPoint> {
        let kind = |s: Scheme| match s {
            Scheme::Int8 => Some(PointKind::Int8),
            Scheme::Int4 => Some(PointKind::Int4),
            Scheme::Drq => Some(PointKind::Drq),
            _ => None,
        };
        let base = self
            .results
            .iter()
            .filter_map(|r| Some((r.scheme.name().to_string(), r, kind(r.scheme)?)));
        let scaled = self
            .scaled
            .iter()
            .map(|d| (format!("T x {}", d.scale), &d.result, PointKind::DrqScaled));
        let own = base.chain(scaled).filter_map(|(label, r, kind)| {
            Some(SpeedupPoint {
                label,
                accuracy: r.accuracy,
                speedup: self.speedup(r)?,
                kind,
            })
        });
        let compared = self.compared.iter().filter_map(|c| {
            Some(SpeedupPoint {
                label: c.label.clone(),
                accuracy: c.result.accuracy,
                speedup: c.speedup()?,
                kind: PointKind::Compared,
            })
        });
        own.chain(compared).collect()
    }

    /// The figure, when there is an int8 row with cycles.
    pub fn accuracy_speedup_svg(&self) -> Option<String> {
        let int8 = self.find(Scheme::Int8)?;
        int8.cycles?;
        Some(accuracy_speedup_svg(
            &self.speedup_points(),
            int8.accuracy,
            self.images(),
            self.region,
        ))
    }

    /// report.json: `eval::report_json` of the main region, `regions`
    /// (every region's), `outlier_matched` (the matched row's
    /// `eval::scheme_json` with `target_share`, `search_images`,
    /// `tolerance`, `tried` [[fraction, share], ...]) and
    /// `drq_threshold_scales` ([{ `scale`, `thresholds`, `speedup`, and
    /// `eval::scheme_json` }]).
    pub fn json(&self) -> serde_json::Value {
        let mut v = report_json(&self.results, self.region);
        v["regions"] = serde_json::Value::Array(self.per_region.clone());
        v["rows"] = self.array_rows.into();
        v["cols"] = self.array_cols.into();
        v["pe"] = self.pe.name().into();
        v["out_rows"] = self.out_rows.into();
        v["out_lanes"] = self.out_lanes.into();
        v["overlap"] = self.overlap.into();
        v["stream_predictor"] = self.stream_predictor.into();
        v["row_taps"] = self.row_taps.into();
        v["burst_readout"] = self.burst_readout.into();
        if let Some(m) = &self.matched {
            let mut e = scheme_json(&m.result);
            e["target_share"] = m.target_share.into();
            e["search_images"] = m.search_images.into();
            e["tolerance"] = m.tolerance.into();
            e["tried"] = serde_json::json!(m.tried);
            v["outlier_matched"] = e;
        }
        let scaled: Vec<serde_json::Value> = self
            .scaled
            .iter()
            .map(|d| {
                let mut e = scheme_json(&d.result);
                e["scale"] = d.scale.into();
                e["thresholds"] = serde_json::json!(d.thresholds);
                e["speedup"] = serde_json::json!(self.speedup(&d.result));
                e
            })
            .collect();
        v["drq_threshold_scales"] = serde_json::Value::Array(scaled);
        let compared: Vec<serde_json::Value> = self
            .compared
            .iter()
            .map(|c| {
                let mut e = scheme_json(&c.result);
                e["label"] = c.label.clone().into();
                e["model"] = c.model.clone().into();
                e["thresholds"] = serde_json::json!(c.thresholds);
                e["int8_accuracy"] = c.int8.accuracy.into();
                e["int8_cycles"] = serde_json::json!(c.int8.cycles);
                e["speedup"] = serde_json::json!(c.speedup());
                e
            })
            .collect();
        v["compared"] = serde_json::Value::Array(compared);
        v
    }

    /// The ablation table: every compared model's DRQ on this machine,
    /// with its own INT8 and this run's.
    fn compared_markdown(&self) -> String {
        let base = self.find(Scheme::Int8).map(|r| r.accuracy);
        let mut s = String::from(
            "\n## Ablation\n\nDRQ of each model (`--compare LABEL=DIR`) on this machine and these images. Speedup: that model's INT8 cycles_total / its DRQ cycles_total (the same array); loss: against this run's INT8 top-1 and against the model's own INT8.\n\n| step | model | T | top-1 % | loss vs this INT8 | its INT8 top-1 % | speedup | regions sensitive per layer | inputs in sensitive regions per layer | HIGH steps per layer |\n|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for c in &self.compared {
            let t: Vec<String> = c.thresholds.iter().map(|t| t.to_string()).collect();
            let per = |f: &dyn Fn(&LayerTally) -> f64| -> String {
                let v: Vec<String> = c.result.layers.iter().map(|l| percent(f(l))).collect();
                v.join(", ")
            };
            s += &format!(
                "| {} | `{}` | {} | {:.2} | {} | {:.2} | {} | {} | {} | {} |\n",
                c.label,
                c.model,
                t.join(", "),
                c.result.accuracy,
                base.map_or("-".into(), |b| format!("{:.2}", b - c.result.accuracy)),
                c.int8.accuracy,
                c.speedup().map_or("-".into(), |x| format!("{x:.3}x")),
                per(&LayerTally::region_fraction),
                per(&LayerTally::input_fraction),
                per(&LayerTally::high_step_fraction),
            );
        }
        s
    }

    /// report.md: the scheme table, DRQ per layer, the outlier at equal
    /// work, the region sizes, and the figure with its caption.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# DRQ on Fashion-MNIST\n\n{} test images, {}x{} {} array, region R = {}, output stage holding {} row{} and writing {} pixel{} per cycle{}{}{}{}.\n\n",
            self.images(),
            self.array_rows,
            self.array_cols,
            self.pe.name(),
            self.region,
            self.out_rows,
            if self.out_rows == 1 { "" } else { "s" },
            self.out_lanes,
            if self.out_lanes == 1 { "" } else { "s" },
            if self.overlap {
                ", shadow accumulators (a tile read out under the next one's tokens)"
            } else {
                ""
            },
            if self.stream_predictor {
                ", streaming predictor (mask bits written as regions complete)"
            } else {
                ""
            },
            if self.row_taps {
                ", row taps (rows read out row 0 first as each completes)"
            } else {
                ""
            },
            if self.burst_readout {
                ", burst read-out (a tile's rows back to back once the stage has room)"
            } else {
                ""
            }
        );
        s += &markdown_table_rows(&self.rows(), self.region);
        s += "\nHigh-precision MACs: the share of multiply-accumulates that are not an INT4 x INT4 product (docs/model.md): for drq, those whose activation lies in a sensitive region; for outlier, those whose activation or weight is kept at INT8.\n";
        if let Some(drq) = self.find(Scheme::Drq) {
            s += &self.drq_layers_markdown(drq);
        }
        if !self.compared.is_empty() {
            s += &self.compared_markdown();
        }
        if let Some(m) = &self.matched {
            s += &self.matched_markdown(m);
        }
        s += &self.regions_markdown();
        if self.accuracy_speedup_svg().is_some() {
            s += "\n## Accuracy against speedup\n\n![top-1 against speedup over INT8](accuracy_speedup.svg)\n\n";
            s += &accuracy_speedup_caption(self.images(), self.region).join(" ");
            s.push('\n');
        }
        s
    }

    /// Per layer of the drq scheme: regions sensitive, inputs in sensitive
    /// regions, high-precision MACs, HIGH steps, and the counters per
    /// image; then all layers together.
    fn drq_layers_markdown(&self, drq: &SchemeResult) -> String {
        let n = drq.images.max(1) as f64;
        let mut s = format!(
            "\n## DRQ per layer\n\nThresholds of the network; fractions over the {} images, counts per image (mean). A step is HIGH when any valid pixel of its tile reads a sensitive input (docs/spec.md §4.4).\n\n",
            drq.images
        );
        s += "| layer | input | T | regions sensitive | inputs in sensitive regions | high-precision MACs | HIGH steps | HIGH steps / image | LOW steps / image | token cycles / image | cycles_total / image |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
        let row = |name: &str, shape: &str, t: &str, x: &LayerTally| {
            format!(
                "| {name} | {shape} | {t} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
                percent(x.region_fraction()),
                percent(x.input_fraction()),
                percent(x.mac_share()),
                percent(x.high_step_fraction()),
                x.steps_high as f64 / n,
                x.steps_low as f64 / n,
                x.token_cycles as f64 / n,
                x.cycles_total as f64 / n
            )
        };
        for (i, (t, l)) in drq.layers.iter().zip(&self.layers).enumerate() {
            let shape = format!("{} x {} x {}", l.c_in, l.h, l.w);
            s += &row(&i.to_string(), &shape, &l.threshold.to_string(), t);
        }
        s += &row("all", "", "", &LayerTally::sum(&drq.layers));
        s
    }

    /// How the matched outlier row was chosen, and what it gives.
    fn matched_markdown(&self, m: &MatchedOutlier) -> String {
        let r = &m.result;
        let f = r.outlier_fraction.unwrap_or(0.0);
        let share = r.high_mac_share.unwrap_or(0.0);
        let search_share = m.search_share();
        let mut s = format!(
            "\n## OLAccel-style outlier at equal work\n\nThe matched row keeps the largest {} of every layer's input activations (per image) and, independently, of its weights at INT8, the rest at INT4. The fraction was chosen so that its share of high-precision MACs equals DRQ's on the same images, {}: a bracketing search on the fraction (Illinois method from 0 % kept, share 0, and 100 % kept, share 1) on the first {} of the {} images, to within {} points of the target: {} fractions tried, the closest giving {} there. On all {} images the matched row's share is {}.",
            percent(f),
            percent(m.target_share),
            m.search_images,
            r.images,
            100.0 * m.tolerance,
            m.tried.len(),
            percent(search_share),
            r.images,
            percent(share)
        );
        if let Some(drq) = self.find(Scheme::Drq) {
            let _ = write!(
                s,
                " At equal work: outlier {:.2} % top-1 against drq {:.2} % ({:+.2} points for drq).",
                r.accuracy,
                drq.accuracy,
                drq.accuracy - r.accuracy
            );
        }
        s.push('\n');
        s
    }

    /// The drq top-1 and speedup at every region size.
    fn regions_markdown(&self) -> String {
        let mut s = String::from(
            "\n## Region size\n\n| R | int8 top-1 | drq top-1 | drq speedup |\n|---|---|---|---|\n",
        );
        let f =
            |v: &serde_json::Value, d: usize| v.as_f64().map_or("-".into(), |x| format!("{x:.d$}"));
        for r in &self.per_region {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r["region"],
                f(&r["int8"]["accuracy"], 2),
                f(&r["drq"]["accuracy"], 2),
                f(&r["drq_speedup"], 3)
            );
        }
        s
    }
}

/// The sensitive-region maps of one image through the network: the image
/// in grey (28 x 28 `rect`s of class `px`), then per layer its input mask
/// (`mask_in` of the golden model's run with the network's thresholds;
/// layer 0's predicted by the accelerator) as one grid per channel, one
/// `rect` of class `cell` per region (sensitive: [`SENSITIVE_COLOUR`],
/// insensitive: [`INSENSITIVE_COLOUR`]; edge regions drawn smaller), with
/// the layer's T, s, sw and sensitive fraction in the caption. There are
/// sum over layers of C_in ceil(H/R) ceil(W/R) cells.
pub fn region_maps_svg(
    net: &Network,
    image: &[u8; PIXELS],
    cfg: &AccelConfig,
) -> anyhow::Result<String> {
    let runs = run_network(cfg, net, &image_map(image), None)
        .map_err(|e| anyhow::anyhow!("running the network on the image: {e}"))?;
    let r = cfg.region as usize;
    let grid = 96.0; // side of one channel's grid, px
    let gap = 10.0;
    let per_row = 8usize;
    let margin = 20.0;
    let width = margin * 2.0 + per_row as f64 * (grid + gap) - gap;
    let mut body = String::new();
    let mut y = 40.0;
    // The input image in grey.
    let _ = writeln!(
        body,
        r#"<text x="{margin}" y="{y}">input image (28 x 28, codes 0..255)</text>"#
    );
    y += 8.0;
    let scale = 4.0;
    let _ = writeln!(body, r#"<g class="image">"#);
    for py in 0..28 {
        for px in 0..28 {
            let v = 255 - image[py * 28 + px];
            let _ = writeln!(
                body,
                r#"<rect class="px" x="{:.1}" y="{:.1}" width="{scale}" height="{scale}" fill="rgb({v},{v},{v})"/>"#,
                margin + px as f64 * scale,
                y + py as f64 * scale
            );
        }
    }
    let _ = writeln!(body, "</g>");
    // Legend next to the image.
    let lx = margin + 28.0 * scale + 30.0;
    let _ = writeln!(
        body,
        r##"<g class="legend"><rect x="{lx}" y="{:.1}" width="12" height="12" fill="{SENSITIVE_COLOUR}"/><text x="{:.1}" y="{:.1}">sensitive region (INT8)</text><rect x="{lx}" y="{:.1}" width="12" height="12" fill="{INSENSITIVE_COLOUR}" stroke="#9ecae1"/><text x="{:.1}" y="{:.1}">insensitive region (INT4)</text><text x="{lx}" y="{:.1}">region R = {r}; a region is sensitive iff its mean input code is at least T</text></g>"##,
        y + 10.0,
        lx + 18.0,
        y + 21.0,
        y + 32.0,
        lx + 18.0,
        y + 43.0,
        y + 70.0
    );
    y += 28.0 * scale + 30.0;
    for (l, (run, nl)) in runs.iter().zip(&net.layers).enumerate() {
        let layer = &nl.layer;
        let m = &run.mask_in;
        let (c_in, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
        let note = if l == 0 && layer.threshold == 0 {
            " (first layer at INT8)"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            r#"<text x="{margin}" y="{y:.1}">{}</text>"#,
            esc(&format!(
                "layer {l} input: {c_in} x {h} x {w}, T = {}, s = {}, sw = {}: {:.1} % of regions sensitive{note}",
                layer.threshold,
                layer.low_shift,
                layer.w_low_shift,
                100.0 * m.sensitive_fraction()
            ))
        );
        y += 8.0;
        let cell = grid / h.max(w) as f64; // px per input pixel
        let _ = writeln!(body, r#"<g class="layer{l}">"#);
        let rows = c_in.div_ceil(per_row);
        for c in 0..c_in {
            let gx = margin + (c % per_row) as f64 * (grid + gap);
            let gy = y + (c / per_row) as f64 * (grid + gap + 12.0);
            let _ = writeln!(
                body,
                r#"<text x="{gx:.1}" y="{:.1}" font-size="9">ch {c}</text>"#,
                gy + 9.0
            );
            let gy = gy + 12.0;
            for ry in 0..m.rh {
                for rx in 0..m.rw {
                    let hh = (h.min((ry + 1) * r) - ry * r) as f64;
                    let ww = (w.min((rx + 1) * r) - rx * r) as f64;
                    let colour = if m.at(c, ry, rx) {
                        SENSITIVE_COLOUR
                    } else {
                        INSENSITIVE_COLOUR
                    };
                    let _ = writeln!(
                        body,
                        r#"<rect class="cell" x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{colour}" stroke="white" stroke-width="0.5"/>"#,
                        gx + (rx * r) as f64 * cell,
                        gy + (ry * r) as f64 * cell,
                        ww * cell,
                        hh * cell
                    );
                }
            }
        }
        let _ = writeln!(body, "</g>");
        y += rows as f64 * (grid + gap + 12.0) + 24.0;
    }
    let height = y;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" viewBox="0 0 {width} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    s.push('\n');
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width}" height="{height:.0}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{margin}" y="22" font-size="15">DRQ sensitive-region maps of one image through the layers</text>"#
    );
    s.push_str(&body);
    s.push_str("</svg>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_grouping() {
        assert_eq!(ticks(0.0, 1.0, 5).len(), 6);
        assert_eq!(ticks(84.3, 90.1, 6)[0], 85.0);
        assert_eq!(grouped(260880000), "260,880,000");
        assert_eq!(grouped(12), "12");
        assert_eq!(esc("a<b&c"), "a&lt;b&amp;c");
    }
}
