//! Testbench of the sensitivity predictor (`drq_predictor`): starts a layer,
//! streams a feature map's values in a given order with optional random
//! bubbles, finishes, waits for `done` and reads back every mask bit from
//! the mask memory the testbench keeps (the predictor's `mask_wr_*` writes). The
//! orders the tests use are built here too.

use crate::sim::{Model, SimError, SimOptions};
use drq_arch::AccelConfig;
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Mask};
use drq_hdl::predictor::predictor_design;

/// One value's position: (channel, y, x).
pub type Pos = (usize, usize, usize);

/// How values are offered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drive {
    /// Probability of offering no value in a cycle.
    pub bubble: f64,
    /// Raise `finish` in the same cycle as the last value (else the cycle after).
    pub finish_with_last: bool,
}

/// What a layer did in the predictor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOutcome {
    pub mask: Mask,
    /// Cycles from the `start` cycle to the first cycle with `in_ready`.
    pub start_to_ready: u64,
    /// Cycles from the first accepted value to the last, inclusive.
    pub stream_cycles: u64,
    /// Cycles from the `finish` cycle to the first cycle with `done`.
    pub finish_to_done: u64,
    /// `oversize` after the layer.
    pub oversize: bool,
}

pub struct PredictorBench {
    pub cfg: AccelConfig,
    pub model: Model,
    /// The mask memory the predictor writes through `mask_wr_*` (as the
    /// top's mask buffer would), `mask_words` bits; kept across layers.
    pub mask_mem: Vec<bool>,
    /// Mask writes seen in the last run.
    pub mask_writes: usize,
}

/// One clock edge, recording the mask write the predictor offers in it.
fn clock(m: &mut Model, mask_mem: &mut [bool], writes: &mut usize) {
    m.eval();
    if m.get_bool("mask_wr_en") {
        let addr = m.get_u64("mask_wr_addr") as usize;
        assert!(
            addr < mask_mem.len(),
            "mask write at {addr}, past the memory"
        );
        mask_mem[addr] = m.get_bool("mask_wr_bit");
        *writes += 1;
    }
    m.tick(1);
}

impl PredictorBench {
    /// Build (or reuse) the predictor of `cfg` and reset it.
    pub fn new(cfg: &AccelConfig, opts: &SimOptions) -> Result<PredictorBench, SimError> {
        let mut model = Model::new(&predictor_design(cfg), opts)?;
        for p in ["start", "finish", "in_valid"] {
            model.set_bool(p, false);
        }
        model.reset(2);
        Ok(PredictorBench {
            cfg: *cfg,
            model,
            mask_mem: vec![false; cfg.mask_words as usize],
            mask_writes: 0,
        })
    }

    /// Run one layer: every value of `fmap` in `order`, then read back the
    /// mask of shape [C, ceil(H/R), ceil(W/R)] (from the pitched addresses).
    pub fn run_layer(
        &mut self,
        fmap: &FeatureMap,
        threshold: u32,
        order: &[Pos],
        drive: Drive,
        rng: &mut Rng,
    ) -> LayerOutcome {
        let values: Vec<(Pos, u32)> = order
            .iter()
            .map(|&(c, y, x)| ((c, y, x), fmap.at(c, y, x)))
            .collect();
        self.run((fmap.c, fmap.h, fmap.w), threshold, &values, drive, rng)
    }

    /// Run one layer of `dims` = (C, H, W): offer `values` in order (any
    /// positions, even outside the layer, which the predictor must drop),
    /// then read back the mask.
    pub fn run(
        &mut self,
        dims: (usize, usize, usize),
        threshold: u32,
        values: &[(Pos, u32)],
        drive: Drive,
        rng: &mut Rng,
    ) -> LayerOutcome {
        let groups: Vec<(Pos, u32, u32)> = values.iter().map(|&(p, v)| (p, v, 1)).collect();
        self.run_groups(dims, threshold, &groups, drive, rng)
    }

    /// `run` with values that each sum `pixels` codes of one region (an
    /// output lane group; `in_pixels` of a streaming predictor, which must
    /// exist when any count is not 1).
    pub fn run_groups(
        &mut self,
        dims: (usize, usize, usize),
        threshold: u32,
        values: &[(Pos, u32, u32)],
        drive: Drive,
        rng: &mut Rng,
    ) -> LayerOutcome {
        let counted = self.cfg.stream_predictor;
        assert!(
            counted || values.iter().all(|v| v.2 == 1),
            "pixel counts need a streaming predictor"
        );
        let (c, h, w) = dims;
        let r = self.cfg.region as usize;
        let limit = 1000 + 4 * u64::from(self.cfg.mask_words) + 100 * values.len() as u64;
        let m = &mut self.model;
        let (mem, writes) = (&mut self.mask_mem, &mut self.mask_writes);
        *writes = 0;
        m.set_u64("channels", c as u64);
        m.set_u64("height", h as u64);
        m.set_u64("width", w as u64);
        m.set_u64("threshold", threshold.into());
        m.set_bool("in_valid", false);
        m.set_bool("finish", false);
        m.set_bool("start", true);
        m.eval();
        assert!(!m.get_bool("in_ready"), "in_ready during start");
        clock(m, mem, writes);
        m.set_bool("start", false);
        m.eval();
        assert!(!m.get_bool("done"), "done right after start");
        // Wait for the clear sweep.
        let start_to_ready = cycles_until(m, mem, writes, "in_ready", "start", limit);
        // Stream.
        let (mut next, mut stream_cycles) = (0usize, 0u64);
        while next < values.len() {
            let offer = !rng.chance(drive.bubble);
            if offer {
                let ((vc, vy, vx), v, pixels) = values[next];
                m.set_u64("in_channel", vc as u64);
                m.set_u64("in_y", vy as u64);
                m.set_u64("in_x", vx as u64);
                m.set_u64("in_value", v.into());
                if counted {
                    m.set_u64("in_pixels", pixels.into());
                }
            } else {
                // Garbage on the bus while not valid must be ignored.
                m.set_u64("in_channel", rng.range(0, 3) as u64);
                m.set_u64("in_y", 0);
                m.set_u64("in_x", 0);
                m.set_u64("in_value", rng.range(0, 255) as u64);
                if counted {
                    m.set_u64("in_pixels", rng.range(0, 3) as u64);
                }
            }
            m.set_bool("in_valid", offer);
            let last = offer && next + 1 == values.len();
            m.set_bool("finish", last && drive.finish_with_last);
            m.eval();
            if offer && m.get_bool("in_ready") {
                next += 1;
            }
            if next > 0 {
                stream_cycles += 1;
            }
            clock(m, mem, writes);
            assert!(stream_cycles < limit, "stream stalled at value {next}");
        }
        m.set_bool("in_valid", false);
        if !drive.finish_with_last || values.is_empty() {
            m.set_bool("finish", true);
            m.eval();
            clock(m, mem, writes);
        }
        // The finish cycle has been clocked.
        m.set_bool("finish", false);
        m.eval();
        let finish_to_done = cycles_until(m, mem, writes, "done", "finish", limit);
        assert!(!m.get_bool("in_ready"), "in_ready while done");
        // Busy after done only while a streaming predictor clears sums an
        // incomplete run left.
        assert!(
            !m.get_bool("busy") || !m.get_bool("clean"),
            "busy while done"
        );
        let oversize = m.get_bool("oversize");
        let mask = if oversize {
            Mask::filled(c, 0, 0, false)
        } else {
            self.read_mask(c, h.div_ceil(r), w.div_ceil(r))
        };
        LayerOutcome {
            mask,
            start_to_ready,
            stream_cycles,
            finish_to_done,
            oversize,
        }
    }

    /// Clock until the predictor reports its sum memory clean (a
    /// streaming predictor clears it after reset): the cycles it took.
    pub fn wait_clean(&mut self) -> u64 {
        let limit = 100 + 2 * u64::from(self.cfg.mask_words);
        self.model.eval();
        let mut n = 0;
        while !self.model.get_bool("clean") {
            assert!(self.model.get_bool("busy"), "not clean and not busy");
            self.step();
            self.model.eval();
            n += 1;
            assert!(n < limit, "never clean");
        }
        n
    }

    /// One clock edge driven by a test, recording the predictor's mask write.
    pub fn step(&mut self) {
        clock(&mut self.model, &mut self.mask_mem, &mut self.mask_writes);
    }

    /// Read the `c * rh * rw` mask bits of a layer from their pitched
    /// addresses (c * rh + ry) * P_M + rx, P_M = `cfg.mask_row_pitch()`.
    pub fn read_mask(&mut self, c: usize, rh: usize, rw: usize) -> Mask {
        let pitch = self.cfg.mask_row_pitch() as usize;
        let mut mask = Mask::filled(c, rh, rw, false);
        for row in 0..c * rh {
            for rx in 0..rw {
                mask.data[row * rw + rx] = self.read_mask_bit(row * pitch + rx);
            }
        }
        mask
    }

    /// The mask bit at one address of the mask memory.
    pub fn read_mask_bit(&mut self, addr: usize) -> bool {
        self.mask_mem[addr]
    }
}

/// Channel by channel, row by row, column by column.
pub fn raster(c: usize, h: usize, w: usize) -> Vec<Pos> {
    let mut v = Vec::with_capacity(c * h * w);
    for ci in 0..c {
        for y in 0..h {
            for x in 0..w {
                v.push((ci, y, x));
            }
        }
    }
    v
}

/// Pixel by pixel, every channel of a pixel in turn (channels innermost).
pub fn channel_interleaved(c: usize, h: usize, w: usize) -> Vec<Pos> {
    let mut v = Vec::with_capacity(c * h * w);
    for y in 0..h {
        for x in 0..w {
            for ci in 0..c {
                v.push((ci, y, x));
            }
        }
    }
    v
}

/// Region by region: every pixel of a region on consecutive cycles (the
/// read-modify-write hazard at its worst).
pub fn region_major(c: usize, h: usize, w: usize, r: usize) -> Vec<Pos> {
    let mut v = Vec::with_capacity(c * h * w);
    for ci in 0..c {
        for ry in 0..h.div_ceil(r) {
            for rx in 0..w.div_ceil(r) {
                for y in ry * r..h.min((ry + 1) * r) {
                    for x in rx * r..w.min((rx + 1) * r) {
                        v.push((ci, y, x));
                    }
                }
            }
        }
    }
    v
}

/// Two regions at a time, alternating value by value (hazards at distance
/// two), the rest of the longer one at the end.
pub fn region_pairs_alternating(c: usize, h: usize, w: usize, r: usize) -> Vec<Pos> {
    let regions: Vec<Vec<Pos>> = {
        let all = region_major(c, h, w, r);
        let mut out: Vec<Vec<Pos>> = Vec::new();
        let key = |p: &Pos| (p.0, p.1 / r, p.2 / r);
        for p in all {
            match out.last_mut() {
                Some(g) if key(&g[0]) == key(&p) => g.push(p),
                _ => out.push(vec![p]),
            }
        }
        out
    };
    let mut v = Vec::new();
    for pair in regions.chunks(2) {
        let (a, b) = (&pair[0], pair.get(1).map_or(&[][..], |b| &b[..]));
        for k in 0..a.len().max(b.len()) {
            v.extend(a.get(k));
            v.extend(b.get(k));
        }
    }
    v
}

/// A uniformly random permutation of `order` (Fisher-Yates).
pub fn shuffled(mut order: Vec<Pos>, rng: &mut Rng) -> Vec<Pos> {
    for i in (1..order.len()).rev() {
        let j = rng.range(0, i as i64) as usize;
        order.swap(i, j);
    }
    order
}

/// Cycles, counting the one just clocked, until `signal` is high, `busy`
/// staying high meanwhile; panics after `limit`.
fn cycles_until(
    m: &mut Model,
    mask_mem: &mut [bool],
    writes: &mut usize,
    signal: &str,
    after: &str,
    limit: u64,
) -> u64 {
    let mut n = 1;
    while !m.get_bool(signal) {
        assert!(
            m.get_bool("busy"),
            "neither {signal} nor busy after {after}"
        );
        clock(m, mask_mem, writes);
        m.eval();
        n += 1;
        assert!(n < limit, "never {signal} after {after}");
    }
    n
}
