//! The report: a Markdown table of the schemes, and two hand-written SVG
//! figures (accuracy against speedup over a sweep of calibration budgets;
//! the sensitive-region maps of one image through the layers).

use crate::data::PIXELS;
use crate::eval::{Scheme, SchemeResult};
use crate::quant::image_map;
use drq_arch::AccelConfig;
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
/// `int8` result's cycles ("-" without cycles or without an int8 row), and
/// the sensitive fraction per layer (sensitive regions for int8 / int4 /
/// drq: all 1 for int8, all 0 for int4; activations kept at INT8 for
/// outlier; "-" for float). `region` goes into the cycles header.
pub fn markdown_table_rows(rows: &[(String, &SchemeResult)], region: u32) -> String {
    let int8 = rows
        .iter()
        .find(|(_, r)| r.scheme == Scheme::Int8)
        .and_then(|(_, r)| r.cycles);
    let mut s = format!(
        "| scheme | top-1 % | cycles (R = {region}) | speedup vs int8 | sensitive fraction per layer |\n|---|---|---|---|---|\n"
    );
    for (name, r) in rows {
        let cycles = r.cycles.map_or("-".into(), grouped);
        let speedup = match (int8, r.cycles) {
            (Some(a), Some(b)) if b > 0 => format!("{:.3}", a as f64 / b as f64),
            _ => "-".into(),
        };
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
            "| {name} | {:.2} | {cycles} | {speedup} | {frac} |",
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

/// Accuracy (y, %) against speedup over INT8 (x) of the calibrated networks
/// of a sweep of budgets, `points` = (budget in pp, top-1 %, speedup), drawn
/// as a line through the points sorted by speedup, each labelled by its
/// budget; uniform INT8 `int8` = (top-1, 1.0) and INT4 `int4` = (top-1,
/// speedup) as reference squares. Hand-written SVG with axes, ticks and
/// labels.
pub fn budget_sweep_svg(points: &[(f64, f64, f64)], int8: (f64, f64), int4: (f64, f64)) -> String {
    let (w, h) = (640.0, 440.0);
    let (ml, mr, mt, mb) = (70.0, 30.0, 40.0, 60.0);
    let xs: Vec<f64> = points.iter().map(|p| p.2).chain([int8.1, int4.1]).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).chain([int8.0, int4.0]).collect();
    let range = |v: &[f64], pad: f64, min_span: f64| {
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
    };
    let (x0, x1) = range(&xs, 0.08, 0.1);
    let (y0, y1) = range(&ys, 0.08, 1.0);
    let px = |x: f64| ml + (x - x0) / (x1 - x0) * (w - ml - mr);
    let py = |y: f64| h - mb - (y - y0) / (y1 - y0) * (h - mt - mb);
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
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">DRQ calibration: top-1 against speedup over INT8, per accuracy budget</text>"#,
        w / 2.0
    );
    // Axes.
    let (ax0, ax1, ay0, ay1) = (ml, w - mr, h - mb, mt);
    let _ = writeln!(
        s,
        r#"<g stroke="black" stroke-width="1"><line x1="{ax0}" y1="{ay0}" x2="{ax1}" y2="{ay0}"/><line x1="{ax0}" y1="{ay0}" x2="{ax0}" y2="{ay1}"/></g>"#
    );
    let xt = ticks(x0, x1, 6);
    let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
    let _ = writeln!(s, r#"<g class="xticks">"#);
    for &t in &xt {
        let x = px(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{ay0}" x2="{x:.1}" y2="{:.1}" stroke="black"/><line x1="{x:.1}" y1="{ay0}" x2="{x:.1}" y2="{ay1}" stroke="#dddddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            ay0 + 5.0,
            ay0 + 18.0,
            tick_label(t, 0.0, xstep)
        );
    }
    let _ = writeln!(s, "</g>");
    let yt = ticks(y0, y1, 6);
    let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
    let _ = writeln!(s, r#"<g class="yticks">"#);
    for &t in &yt {
        let y = py(t);
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
        h - 18.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">top-1 accuracy (%)</text>"#,
        (ay0 + ay1) / 2.0,
        (ay0 + ay1) / 2.0
    );
    // DRQ points.
    let mut sorted: Vec<(f64, f64, f64)> = points.to_vec();
    sorted.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.total_cmp(&b.0)));
    if sorted.len() > 1 {
        let path: Vec<String> = sorted
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.2), py(p.1)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>"##,
            path.join(" ")
        );
    }
    let _ = writeln!(s, r#"<g class="drq">"#);
    for &(b, acc, sp) in &sorted {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f77b4"><title>budget {b} pp: {acc:.2} %, {sp:.3}x</title></circle><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"##,
            px(sp),
            py(acc),
            px(sp) + 6.0,
            py(acc) - 6.0,
            esc(&format!("{b} pp"))
        );
    }
    let _ = writeln!(s, "</g>");
    // References.
    for (name, (acc, sp), colour) in [("INT8", int8, "#2ca02c"), ("INT4", int4, "#ff7f0e")] {
        let _ = writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="9" height="9" fill="{colour}"><title>{name}: {acc:.2} %, {sp:.3}x</title></rect><text x="{:.1}" y="{:.1}" font-size="11">{name}</text>"#,
            px(sp) - 4.5,
            py(acc) - 4.5,
            px(sp) + 7.0,
            py(acc) + 14.0
        );
    }
    // Legend.
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
