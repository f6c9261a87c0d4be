//! Testbench of the output stage (`drq_output_stage`): offers a tile's
//! read-out rows in the array's order (row ROWS-1 first, down to 0; with
//! `row_taps` row 0 first, up to ROWS-1: `cycles::readout_order`) with
//! optional random bubbles, applies random downstream backpressure, and
//! collects every element that leaves (one per lane of each beat).
//! [`expected`] is the reference: the docs/spec.md §2 `requantize` and the
//! row/column mapping and lane groups of `docs/output-stage.md`.

use crate::sim::{Model, SimError, SimOptions};
use drq_arch::AccelConfig;
use drq_golden::cycles::{closes_lane_group, readout_order, readout_row};
use drq_golden::numerics::{requantize, wrap_acc};
use drq_golden::rng::Rng;
use drq_hdl::output_stage::output_stage_design;

/// Layer registers (held while the stage is busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerRegs {
    pub mult: u32,
    pub shift: u32,
    pub c_out: u32,
}

/// Tile registers (held from a tile's first row to its last row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRegs {
    pub oc0: u32,
    pub oh0: u32,
    pub ow0: u32,
    pub tile_w: u32,
    pub valid_h: u32,
    pub valid_w: u32,
}

/// One element leaving the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Element {
    pub channel: u32,
    pub y: u32,
    pub x: u32,
    pub value: u32,
    pub acc: i64,
}

/// How rows and `out_ready` are driven.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drive {
    /// Probability of offering no row in a cycle.
    pub bubble: f64,
    /// Probability of `out_ready` low in a cycle.
    pub stall: f64,
}

/// One tile: its registers and its ROWS rows of COLS accumulators
/// (`rows[r][j]`, row r as the array numbers it).
#[derive(Debug, Clone)]
pub struct Tile {
    pub regs: TileRegs,
    pub rows: Vec<Vec<i64>>,
}

/// The valid rows of a tile in read-out order, gathered into lane groups
/// (`out_lanes` = L): the rows of one tile row whose x share x / L; each
/// row as (r, i, j).
pub fn lane_groups(cfg: &AccelConfig, t: &TileRegs) -> Vec<Vec<(u32, u32, u32)>> {
    let mut groups: Vec<Vec<(u32, u32, u32)>> = Vec::new();
    let mut open = false;
    for r in readout_order(cfg) {
        if t.tile_w == 0 {
            continue;
        }
        let (i, j) = (r / t.tile_w, r % t.tile_w);
        if i >= t.valid_h || j >= t.valid_w {
            continue;
        }
        if !open {
            groups.push(Vec::new());
        }
        groups.last_mut().unwrap().push((r, i, j));
        open = !closes_lane_group(cfg, t.ow0, j, t.valid_w);
    }
    groups
}

/// The elements a tile must produce, in the stage's order: lane groups in
/// read-out order, each channel by channel, lanes (x) ascending.
pub fn expected(cfg: &AccelConfig, layer: &LayerRegs, tile: &Tile) -> Vec<Element> {
    let t = &tile.regs;
    let mut v = Vec::new();
    for group in lane_groups(cfg, t) {
        for c in 0..cfg.cols {
            let channel = t.oc0 + c;
            if channel >= layer.c_out {
                continue;
            }
            let mut by_x = group.clone();
            by_x.sort_by_key(|&(_, _, j)| j);
            for &(r, i, j) in &by_x {
                let acc = tile.rows[r as usize][c as usize];
                v.push(Element {
                    channel,
                    y: t.oh0 + i,
                    x: t.ow0 + j,
                    value: requantize(acc, layer.mult, layer.shift, cfg.a_hi),
                    acc,
                });
            }
        }
    }
    v
}

/// What a run of tiles did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every element, in the order it left.
    pub elements: Vec<Element>,
    /// Cycle of the first row handshake (0 = the first cycle of the run).
    pub first_row: u64,
    /// Cycle of the last element handshake.
    pub last_element: u64,
    /// Beats (cycles with an element handshake).
    pub beats: u64,
    /// Cycles in which a row was offered and not taken.
    pub row_waits: u64,
}

pub struct OutputStageBench {
    pub cfg: AccelConfig,
    pub model: Model,
}

impl OutputStageBench {
    /// Build (or reuse) the stage of `cfg` and reset it.
    pub fn new(cfg: &AccelConfig, opts: &SimOptions) -> Result<OutputStageBench, SimError> {
        let mut model = Model::new(&output_stage_design(cfg), opts)?;
        model.set_bool("in_valid", false);
        model.set_bool("out_ready", false);
        model.reset(2);
        Ok(OutputStageBench { cfg: *cfg, model })
    }

    fn set_tile(&mut self, t: &TileRegs) {
        let m = &mut self.model;
        m.set_u64("tile_oc0", t.oc0.into());
        m.set_u64("tile_oh0", t.oh0.into());
        m.set_u64("tile_ow0", t.ow0.into());
        m.set_u64("tile_w", t.tile_w.into());
        m.set_u64("valid_h", t.valid_h.into());
        m.set_u64("valid_w", t.valid_w.into());
        // The top registers this product beside valid_h.
        m.set_u64("rows_in", u64::from(t.valid_h) * u64::from(t.tile_w));
    }

    /// `row` as (acc_hi + bias, acc_lo) per column: a random acc_lo of its
    /// width and the acc_hi + bias that makes `acc_hi + bias + (acc_lo <<
    /// low_shift)` the value again, wrapped at ACC_BITS.
    fn split_row(&self, row: &[i64], low_shift: u32, rng: &mut Rng) -> (Vec<i64>, Vec<i64>) {
        let lo_bits = self.cfg.acc_lo_bits();
        let lo_min = -(1i64 << (lo_bits - 1));
        let lo: Vec<i64> = row.iter().map(|_| rng.range(lo_min, -lo_min - 1)).collect();
        let hi_bias = row
            .iter()
            .zip(&lo)
            .map(|(&v, &l)| wrap_acc(v.wrapping_sub(l.wrapping_shl(low_shift)), self.cfg.acc_bits))
            .collect();
        (hi_bias, lo)
    }

    /// Run `tiles` of one layer back to back (the tile registers change right
    /// after the handshake of a tile's last row, while its elements are still
    /// in flight), then wait until the stage is empty. Checks on the way that
    /// a stalled element holds still.
    pub fn run(
        &mut self,
        layer: &LayerRegs,
        tiles: &[Tile],
        drive: Drive,
        rng: &mut Rng,
    ) -> Outcome {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        let acc_bits = self.cfg.acc_bits;
        let total_rows = tiles.len() * rows;
        let limit = 200 + 50 * (total_rows * (cols + 2)) as u64;
        // Each value arrives split as the array hands it over (acc_hi +
        // bias, acc_lo) under a random low shift; the stage must combine
        // the two into the value again (docs/spec.md §6.4).
        let low_shift = rng.range(0, self.cfg.max_readout_shift().into()) as u32;
        let split: Vec<Vec<(Vec<i64>, Vec<i64>)>> = tiles
            .iter()
            .map(|t| {
                t.rows
                    .iter()
                    .map(|row| self.split_row(row, low_shift, rng))
                    .collect()
            })
            .collect();
        {
            let m = &mut self.model;
            m.set_u64("low_shift", low_shift.into());
            m.set_u64("requant_mult", layer.mult.into());
            m.set_u64("requant_shift", layer.shift.into());
            m.set_u64("c_out", layer.c_out.into());
        }
        if let Some(t) = tiles.first() {
            self.set_tile(&t.regs);
        }
        let mut out = Outcome {
            elements: Vec::new(),
            first_row: 0,
            last_element: 0,
            beats: 0,
            row_waits: 0,
        };
        let (mut sent, mut cycle) = (0usize, 0u64);
        let mut held: Option<Vec<Element>> = None;
        let lanes = self.cfg.out_lanes;
        let a_hi = self.cfg.a_hi;
        loop {
            let offer = sent < total_rows && !rng.chance(drive.bubble);
            let ready = !rng.chance(drive.stall);
            let m = &mut self.model;
            if sent < total_rows {
                let (ti, k) = (sent / rows, sent % rows);
                let r = readout_row(&self.cfg, k as u32) as usize; // the array's order
                m.set_u64("in_row", r as u64);
                m.set_lanes("in_acc", acc_bits, &split[ti][r].0);
                m.set_lanes("in_lo", self.cfg.acc_lo_bits(), &split[ti][r].1);
            }
            if !offer {
                // Garbage on the bus while not valid must be ignored.
                m.set_u64("in_row", rng.range(0, rows as i64 - 1) as u64);
                let junk: Vec<i64> = (0..cols).map(|_| rng.next_u64() as i64).collect();
                m.set_lanes("in_acc", acc_bits, &junk);
                m.set_lanes("in_lo", self.cfg.acc_lo_bits(), &junk);
            }
            m.set_bool("in_valid", offer);
            m.set_bool("out_ready", ready);
            m.eval();
            if m.get_bool("out_valid") {
                let (channel, y, x) = (
                    m.get_u64("out_channel") as u32,
                    m.get_u64("out_y") as u32,
                    m.get_u64("out_x") as u32,
                );
                let set = m.get_u64("out_lanes");
                let values = m.get_lanes("out_value", a_hi, lanes as usize, false);
                let accs = m.get_lanes("out_acc", acc_bits, lanes as usize, true);
                assert!(
                    set != 0 && set < 1 << lanes,
                    "lane set {set:#b} (cycle {cycle})"
                );
                assert_eq!(x % lanes, 0, "out_x {x} is not lane 0's (cycle {cycle})");
                let beat: Vec<Element> = (0..lanes)
                    .filter(|l| set >> l & 1 == 1)
                    .map(|l| Element {
                        channel,
                        y,
                        x: x + l,
                        value: values[l as usize] as u32,
                        acc: accs[l as usize],
                    })
                    .collect();
                if let Some(h) = &held {
                    assert_eq!(&beat, h, "a stalled beat changed (cycle {cycle})");
                }
                if ready {
                    out.elements.extend(beat);
                    out.last_element = cycle;
                    out.beats += 1;
                    held = None;
                } else {
                    held = Some(beat);
                }
            } else {
                assert!(held.is_none(), "a stalled element vanished (cycle {cycle})");
            }
            let took = offer && m.get_bool("in_ready");
            if offer && !took {
                out.row_waits += 1;
            }
            m.tick(1);
            cycle += 1;
            if took {
                if sent == 0 {
                    out.first_row = cycle - 1;
                }
                sent += 1;
                if sent % rows == 0 && sent < total_rows {
                    let t = tiles[sent / rows].regs;
                    self.set_tile(&t);
                }
            }
            let m = &mut self.model;
            m.eval();
            if sent == total_rows && !m.get_bool("busy") && !m.get_bool("out_valid") {
                break;
            }
            assert!(cycle < limit, "stage stuck: {sent} of {total_rows} rows");
        }
        // Idle afterwards: nothing more comes out.
        let m = &mut self.model;
        m.set_bool("in_valid", false);
        m.set_bool("out_ready", true);
        for _ in 0..4 {
            m.eval();
            assert!(!m.get_bool("out_valid"), "element after the stage drained");
            m.tick(1);
        }
        out
    }
}

/// Check a run against [`expected`]: exactly the valid elements, each once,
/// with the golden value (order free; the stage keeps read-out order).
pub fn check(cfg: &AccelConfig, layer: &LayerRegs, tiles: &[Tile], out: &Outcome, what: &str) {
    let mut want: Vec<Element> = tiles.iter().flat_map(|t| expected(cfg, layer, t)).collect();
    let mut got = out.elements.clone();
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} elements, expected {} ({layer:?})",
        got.len(),
        want.len()
    );
    // Read-out order is kept: compare in order first for a precise message.
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{what}: element {k} differs ({layer:?})");
    }
    got.sort();
    want.sort();
    assert_eq!(got, want, "{what}");
}
