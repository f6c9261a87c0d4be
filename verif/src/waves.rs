//! `drq waves`: a layer whose precision visibly switches region by region,
//! run through the Verilator model of `drq_top` with a VCD dump, plus a
//! GTKWave save file that opens the dump with the docs/spec.md §6 signals
//! grouped and the mode in colour, and a picture (SVG) of the same run: the
//! sensitive-region map of each input channel as the hardware predicted it,
//! and the timeline of HIGH and LOW tokens per tile read from the dump.

use crate::axil_bfm::Timing;
use crate::driver::{Accelerator, FitError, HwRun};
use crate::sim::{SimError, SimOptions};
use crate::vcd::{value_at, Vcd, VcdError};
use drq_arch::AccelConfig;
use drq_golden::golden::{run_layer, LayerData};
use drq_golden::layer::{Layer, RawLayer};
use drq_golden::rng::Rng;
use drq_golden::tensor::Mask;
use drq_golden::testdata::random_layer_data;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The docs/spec.md §6 waveform names, signals of the controller core.
pub const SPEC_SIGNALS: [&str; 7] = [
    "drq_mode_high",
    "drq_channel",
    "drq_region_y",
    "drq_region_x",
    "drq_k_step",
    "drq_tile",
    "drq_token_shift",
];

/// Scope of the controller in a dump of `drq_top`.
pub const CTRL_SCOPE: &str = "drq_top.drq_top.core.ctrl";

#[derive(Debug, thiserror::Error)]
pub enum WavesError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Vcd(#[from] VcdError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("the hardware and the golden model disagree on the demo layer: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Publish(#[from] drq_golden::publish::PublishError),
}

/// What `drq waves` writes into its output folder (the rest is kept).
pub fn waves_owns(name: &str) -> bool {
    matches!(name, "waves.vcd" | "waves.gtkw" | "regions.svg")
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> WavesError + '_ {
    move |e| WavesError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The demonstration layer: four input channels of bright and dark regions
/// in a checkerboard (shifted per channel), threshold between the two, a
/// 1 x 1 kernel and region-sized tiles where the array allows, so each step
/// of a tile is HIGH or LOW as the region it reads; a next threshold, so
/// the output mask is predicted too. Sized to fit `cfg`'s buffers.
pub fn demo_case(cfg: &AccelConfig) -> (Layer, LayerData) {
    let r = cfg.region;
    let widest = cfg.max_width.min(24);
    let side = (3 * r).clamp(6.min(widest), widest);
    let tile = ((cfg.rows as f64).sqrt().floor() as u32).clamp(1, r) as i64;
    let channels = 4usize;
    let raw = RawLayer {
        threshold: i64::from(cfg.a_max() / 2),
        next_threshold: Some(i64::from(cfg.a_max() / 8)),
        requant_shift: i64::from(cfg.a_hi + cfg.w_hi / 2),
        ..RawLayer::conv(
            channels as i64,
            i64::from(cfg.cols).min(4),
            (i64::from(side), i64::from(side)),
            1,
            1,
            0,
            (tile, tile),
        )
    };
    let layer = Layer::from_raw(&raw).expect("demo layer is valid");
    let mut data = random_layer_data(&mut Rng::new(1), cfg, &layer, 100, None);
    let (bright, dark) = (cfg.a_max() * 7 / 8, cfg.a_max() / 16);
    let s = side as usize;
    for c in 0..channels {
        for y in 0..s {
            for x in 0..s {
                let on = (y / r as usize + x / r as usize + c) % 2 == 0;
                data.input.data[(c * s + y) * s + x] = if on { bright } else { dark };
            }
        }
    }
    (layer, data)
}

/// One token the array took, from the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenEvent {
    /// Clock cycle (rising edges since the dump began).
    pub cycle: u64,
    pub tile: u64,
    pub k: u64,
    pub high: bool,
}

/// What `run_demo` wrote and saw.
#[derive(Debug, Clone)]
pub struct DemoRun {
    pub vcd: PathBuf,
    pub gtkw: PathBuf,
    pub svg: PathBuf,
    pub hw: HwRun,
    pub tokens: Vec<TokenEvent>,
    /// Cycles in which the output stage handed an element to the
    /// write-back (`out_take` of the top).
    pub writes: Vec<u64>,
}

/// Every token handshake of the controller in a dump of `drq_top`, and
/// every cycle in which the output stage handed an element on (in dump
/// cycles, like the tokens).
pub fn timeline_events(vcd_text: &str) -> Result<(Vec<TokenEvent>, Vec<u64>), VcdError> {
    let sig = |n: &str| format!("{CTRL_SCOPE}.{n}");
    let names = [
        "drq_top.drq_top.clk".to_string(),
        sig("in_valid"),
        sig("in_ready"),
        sig("drq_tile"),
        sig("drq_k_step"),
        sig("drq_mode_high"),
        "drq_top.drq_top.core.out_take".to_string(),
    ];
    let watch: Vec<&str> = names.iter().map(String::as_str).collect();
    let v = Vcd::parse(vcd_text, &watch)?;
    let get = |n: &str| v.changes.get(n).map(Vec::as_slice).unwrap_or(&[]);
    let clk = get(&names[0]);
    let mut out = Vec::new();
    let mut writes = Vec::new();
    let mut cycle = 0;
    for w in clk.windows(2) {
        let (t, rising) = (w[1].0, w[0].1 == 0 && w[1].1 == 1);
        if !rising {
            continue;
        }
        cycle += 1;
        // Values settled in the cycle that this edge ends.
        let at = |n: &str| value_at(get(n), t.saturating_sub(1));
        if at(&names[1]) == 1 && at(&names[2]) == 1 {
            out.push(TokenEvent {
                cycle,
                tile: at(&names[3]),
                k: at(&names[4]),
                high: at(&names[5]) == 1,
            });
        }
        if at(&names[6]) == 1 {
            writes.push(cycle);
        }
    }
    Ok((out, writes))
}

/// A GTKWave save file for `vcd_name`: the docs/spec.md §6 signals in one
/// group (mode in red when HIGH), the handshakes and the host's interrupt.
pub fn gtkw_save_file(vcd_name: &str) -> String {
    let mut s = format!(
        "[*] drq waves: GTKWave save file (gtkwave {vcd_name} waves.gtkw)\n\
         [dumpfile] \"{vcd_name}\"\n[timestart] 0\n[size] 1600 900\n[pos] -1 -1\n\
         *-12.000000 0\n[treeopen] drq_top.\n[treeopen] drq_top.drq_top.\n\
         [treeopen] drq_top.drq_top.core.\n[sst_width] 260\n[signals_width] 240\n\
         [sst_expanded] 1\n[sst_vpaned_height] 300\n"
    );
    s.push_str("@28\ndrq_top.drq_top.clk\ndrq_top.drq_top.irq\n");
    s.push_str("@800200\n-docs/spec.md §6: region switching\n");
    for name in SPEC_SIGNALS {
        let (flags, color) = if name == "drq_mode_high" {
            ("@28", "[color] 1\n")
        } else {
            ("@24", "")
        };
        let range = if name == "drq_mode_high" {
            ""
        } else {
            "[63:0]"
        };
        let _ = write!(s, "{color}{flags}\n{CTRL_SCOPE}.{name}{range}\n");
    }
    s.push_str("@1000200\n-docs/spec.md §6: region switching\n");
    s.push_str("@800200\n-token handshake\n@28\n");
    for n in ["in_valid", "in_ready", "in_first", "in_last"] {
        let _ = writeln!(s, "{CTRL_SCOPE}.{n}");
    }
    s.push_str("@1000200\n-token handshake\n");
    s
}

const HIGH_COLOUR: &str = "#d9480f";
const LOW_COLOUR: &str = "#4dabf7";
const WRITE_COLOUR: &str = "#495057";

fn mask_panel(s: &mut String, m: &Mask, title: &str, x0: f64, y0: f64, cell: f64) -> f64 {
    let _ = writeln!(
        s,
        "<text x=\"{x0}\" y=\"{}\" font-size=\"13\">{title}</text>",
        y0 - 6.0
    );
    let mut x = x0;
    for c in 0..m.c {
        for ry in 0..m.rh {
            for rx in 0..m.rw {
                let fill = if m.at(c, ry, rx) {
                    HIGH_COLOUR
                } else {
                    LOW_COLOUR
                };
                let _ = writeln!(
                    s,
                    "<rect class=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{fill}\" stroke=\"white\"/>",
                    if m.at(c, ry, rx) { "sens" } else { "insens" },
                    x + rx as f64 * cell,
                    y0 + ry as f64 * cell
                );
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">channel {c}</text>",
            x,
            y0 + m.rh as f64 * cell + 14.0
        );
        x += m.rw as f64 * cell + 24.0;
    }
    x
}

/// The picture: region maps (input mask used, output mask predicted) and
/// the timeline of tokens per tile.
pub fn render_svg(
    cfg: &AccelConfig,
    layer: &Layer,
    hw: &HwRun,
    tokens: &[TokenEvent],
    writes: &[u64],
) -> String {
    let width = 1100.0;
    let cell = (160.0 / hw.mask_in.rh.max(hw.mask_in.rw) as f64).clamp(6.0, 28.0);
    let tiles = tokens.iter().map(|t| t.tile).max().map_or(0, |t| t + 1);
    let lane = 14.0;
    let maps_h = hw.mask_in.rh as f64 * cell + 60.0;
    let timeline_y = 60.0 + maps_h + 50.0;
    let writes_y = timeline_y + tiles as f64 * lane + 8.0;
    let height = writes_y + lane + 60.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height:.0}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"20\" y=\"24\" font-size=\"16\">DRQ region switching: {cfg}; layer {}x{}x{} -> {} channels, K {}, T {}</text>\n\
         <rect x=\"20\" y=\"34\" width=\"12\" height=\"12\" fill=\"{HIGH_COLOUR}\"/><text x=\"36\" y=\"45\" font-size=\"12\">sensitive region / HIGH token (INT8)</text>\n\
         <rect x=\"260\" y=\"34\" width=\"12\" height=\"12\" fill=\"{LOW_COLOUR}\"/><text x=\"276\" y=\"45\" font-size=\"12\">insensitive region / LOW token (INT4)</text>\n",
        layer.c_in, layer.h, layer.w, layer.c_out, layer.kernel, layer.threshold
    );
    let x = mask_panel(
        &mut s,
        &hw.mask_in,
        "input mask (predicted by the hardware)",
        20.0,
        80.0,
        cell,
    );
    if let Some(m) = &hw.mask_out {
        mask_panel(&mut s, m, "output mask (next layer)", x + 30.0, 80.0, cell);
    }
    let first = tokens.first().map_or(0, |t| t.cycle);
    let last = tokens
        .last()
        .map_or(1, |t| t.cycle + 1)
        .max(writes.last().map_or(0, |&w| w + 1));
    let span = (last - first).max(1) as f64;
    let (left, plot_w) = (70.0, width - 90.0);
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{:.0}\" font-size=\"13\">tokens taken by the array, one row per tile, and the writes of the output stage (bottom row; each up to out_lanes pixels), cycles {first} to {last} of the dump; out_rows {}, out_lanes {}</text>",
        timeline_y - 10.0,
        cfg.out_rows,
        cfg.out_lanes
    );
    for t in 0..tiles {
        let _ = writeln!(
            s,
            "<text x=\"20\" y=\"{:.1}\" font-size=\"10\">tile {t}</text>",
            timeline_y + t as f64 * lane + 10.0
        );
    }
    let w = (plot_w / span).max(0.5);
    for e in tokens {
        let _ = writeln!(
            s,
            "<rect class=\"{}\" x=\"{:.2}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"/>",
            if e.high { "high" } else { "low" },
            left + (e.cycle - first) as f64 / span * plot_w,
            timeline_y + e.tile as f64 * lane,
            lane - 3.0,
            if e.high { HIGH_COLOUR } else { LOW_COLOUR }
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{:.1}\" font-size=\"10\">writes</text>",
        writes_y + 10.0
    );
    for &c in writes.iter().filter(|&&c| c >= first) {
        let _ = writeln!(
            s,
            "<rect class=\"write\" x=\"{:.2}\" y=\"{writes_y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{WRITE_COLOUR}\"/>",
            left + (c - first) as f64 / span * plot_w,
            lane - 3.0,
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Run the demonstration layer with a dump; write `waves.vcd`,
/// `waves.gtkw` and `regions.svg` into `out`, all-or-nothing (staged beside
/// it and published in one step: [`drq_golden::publish`]).
pub fn run_demo(cfg: &AccelConfig, out: &Path) -> Result<DemoRun, WavesError> {
    let (layer, data) = demo_case(cfg);
    crate::driver::check_fits(cfg, &layer)?;
    let stage = drq_golden::publish::Staging::new(out)?;
    let partial = stage.path().join("waves.vcd");
    let (hw, (tokens, writes)) = {
        let mut acc = Accelerator::new(
            cfg,
            &SimOptions {
                vcd: Some(partial.clone()),
                ..Default::default()
            },
            0,
            Timing::FAST,
        )?;
        let hw = acc.run_layer(&layer, &data)?;
        acc.bus.model.flush_waves();
        drop(acc);
        let gold = run_layer(cfg, &layer, &data).expect("demo data is valid");
        if hw.y != gold.y || hw.mask_in != gold.mask_in || hw.counters != gold.counters {
            return Err(WavesError::Mismatch(format!(
                "hardware {:?}, golden {:?}",
                hw.counters, gold.counters
            )));
        }
        let text = std::fs::read_to_string(&partial).map_err(io(&partial))?;
        let events = timeline_events(&text)?;
        (hw, events)
    };
    let (gtkw, svg) = (
        stage.path().join("waves.gtkw"),
        stage.path().join("regions.svg"),
    );
    std::fs::write(&gtkw, gtkw_save_file("waves.vcd")).map_err(io(&gtkw))?;
    std::fs::write(&svg, render_svg(cfg, &layer, &hw, &tokens, &writes)).map_err(io(&svg))?;
    stage.publish(&waves_owns)?;
    let (vcd, gtkw, svg) = (
        out.join("waves.vcd"),
        out.join("waves.gtkw"),
        out.join("regions.svg"),
    );
    Ok(DemoRun {
        vcd,
        gtkw,
        svg,
        hw,
        tokens,
        writes,
    })
}
