//! Lowering a convolution onto the array (docs/spec.md §4): tiles, steps, step
//! modes, tokens and the counters of section 5 that follow from them.
//!
//! This is the step-level schedule the RTL testbenches replay: for each
//! (channel tile, pixel tile) in spec order, each reduction step k gives a
//! mode (HIGH or LOW) and the set of array rows whose activation is sensitive.
//! The tokens of a step (their order and fields) are `drq_arch::token`'s.
//!
//! Row mapping (our choice, documented in `docs/golden-model.md`): row
//! `r = i * tile_w + j` of the array holds output pixel `(oh0 + i, ow0 + j)`
//! of the tile whose top-left pixel is `(oh0, ow0)`; rows `>= tile_h*tile_w`
//! and rows whose pixel lies outside the output (partial edge tiles) idle.
//! Column `j` holds output channel `channel_tile * COLS + j`.

use crate::layer::Layer;
use crate::tensor::Mask;
use drq_arch::AccelConfig;
use serde::{Deserialize, Serialize};

/// Counters of docs/spec.md §5. The first four follow from the schedule;
/// `cycles_total` and `stall_cycles` from the cycle formula of `drq_top`
/// (the cycle formula, `cycles.rs`, and `docs/top.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub steps_high: u64,
    pub steps_low: u64,
    pub token_cycles: u64,
    pub tiles: u64,
    pub cycles_total: u64,
    pub stall_cycles: u64,
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.steps_high += o.steps_high;
        self.steps_low += o.steps_low;
        self.token_cycles += o.token_cycles;
        self.tiles += o.tiles;
        self.cycles_total += o.cycles_total;
        self.stall_cycles += o.stall_cycles;
    }
}

/// One kernel tap of the reduction: input channel and kernel offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tap {
    pub c: u32,
    pub ki: u32,
    pub kj: u32,
}

/// A rectangle of output pixels run as one tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelTile {
    /// Index in spec order (left to right, top to bottom).
    pub index: u32,
    /// Top-left output pixel.
    pub oh0: u32,
    pub ow0: u32,
    /// Valid part of the tile (smaller than tile_h x tile_w at the edges).
    pub valid_h: u32,
    pub valid_w: u32,
}

/// One step of a tile: reduction index, mode, and which rows are sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub k: u32,
    pub high: bool,
    /// Bit r set iff row r reads, at this step, a non-padding input whose
    /// mask bit is 1. Always zero in a LOW step.
    pub sensitive_rows: u64,
}

/// Per-pixel sensitivity of a layer's input, expanded from the region mask.
#[derive(Debug, Clone)]
pub struct InputSensitivity {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    data: Vec<bool>,
}

impl InputSensitivity {
    pub fn new(mask: &Mask, region: usize, c: usize, h: usize, w: usize) -> InputSensitivity {
        assert_eq!(
            mask.shape(),
            [c, h.div_ceil(region), w.div_ceil(region)],
            "mask shape"
        );
        let mut data = Vec::with_capacity(c * h * w);
        for ci in 0..c {
            for y in 0..h {
                for x in 0..w {
                    data.push(mask.at(ci, y / region, x / region));
                }
            }
        }
        InputSensitivity { c, h, w, data }
    }
    #[inline]
    pub fn at(&self, c: usize, y: usize, x: usize) -> bool {
        self.data[(c * self.h + y) * self.w + x]
    }
}

/// The lowering of one layer onto one array configuration.
#[derive(Debug, Clone)]
pub struct Lowering {
    pub cfg: AccelConfig,
    pub layer: Layer,
    pub ho: u32,
    pub wo: u32,
    /// Pixel tiles per column and per row of the output.
    pub tiles_y: u32,
    pub tiles_x: u32,
    taps: Vec<Tap>,
}

impl Lowering {
    /// The layer must have passed `layer.check(cfg)`.
    pub fn new(cfg: &AccelConfig, layer: &Layer) -> Lowering {
        let (ho, wo) = (layer.ho(), layer.wo());
        let k = layer.kernel;
        let taps = (0..layer.reduction_len())
            .map(|idx| Tap {
                c: idx / (k * k),
                ki: (idx / k) % k,
                kj: idx % k,
            })
            .collect();
        Lowering {
            cfg: *cfg,
            layer: *layer,
            ho,
            wo,
            tiles_y: ho.div_ceil(layer.tile_h),
            tiles_x: wo.div_ceil(layer.tile_w),
            taps,
        }
    }

    /// Kernel tap of reduction index k = (c * K + ki) * K + kj.
    #[inline]
    pub fn tap(&self, k: u32) -> Tap {
        self.taps[k as usize]
    }

    /// Number of channel tiles, ceil(C_out / COLS).
    pub fn channel_tiles(&self) -> u32 {
        self.layer.c_out.div_ceil(self.cfg.cols)
    }

    /// Number of pixel tiles.
    pub fn pixel_tile_count(&self) -> u32 {
        self.tiles_y * self.tiles_x
    }

    /// Output channels of a channel tile: (first, count).
    pub fn channel_range(&self, channel_tile: u32) -> (u32, u32) {
        let first = channel_tile * self.cfg.cols;
        (first, self.cfg.cols.min(self.layer.c_out - first))
    }

    /// Pixel tile by index (left to right, top to bottom).
    pub fn pixel_tile(&self, index: u32) -> PixelTile {
        let (ty, tx) = (index / self.tiles_x, index % self.tiles_x);
        let (oh0, ow0) = (ty * self.layer.tile_h, tx * self.layer.tile_w);
        PixelTile {
            index,
            oh0,
            ow0,
            valid_h: self.layer.tile_h.min(self.ho - oh0),
            valid_w: self.layer.tile_w.min(self.wo - ow0),
        }
    }

    /// All pixel tiles in spec order.
    pub fn pixel_tiles(&self) -> impl Iterator<Item = PixelTile> + '_ {
        (0..self.pixel_tile_count()).map(|i| self.pixel_tile(i))
    }

    /// All (channel tile, pixel tile) pairs in spec order.
    pub fn tiles(&self) -> impl Iterator<Item = (u32, PixelTile)> + '_ {
        (0..self.channel_tiles()).flat_map(move |ct| self.pixel_tiles().map(move |pt| (ct, pt)))
    }

    /// Output pixel held by array row `row` of `tile`, or None if the row idles.
    pub fn row_pixel(&self, tile: &PixelTile, row: u32) -> Option<(u32, u32)> {
        let (i, j) = (row / self.layer.tile_w, row % self.layer.tile_w);
        (row < self.layer.tile_h * self.layer.tile_w && i < tile.valid_h && j < tile.valid_w)
            .then_some((tile.oh0 + i, tile.ow0 + j))
    }

    /// Input position (c, y, x) read by output pixel (oh, ow) at step k, or
    /// None if it is padding.
    #[inline]
    pub fn input_of(&self, oh: u32, ow: u32, k: u32) -> Option<(u32, u32, u32)> {
        let t = self.tap(k);
        let l = &self.layer;
        let y = (oh * l.stride + t.ki).checked_sub(l.padding)?;
        let x = (ow * l.stride + t.kj).checked_sub(l.padding)?;
        (y < l.h && x < l.w).then_some((t.c, y, x))
    }

    /// Step k of a pixel tile: the rows that read a sensitive input, and the mode.
    pub fn step(&self, sens: &InputSensitivity, tile: &PixelTile, k: u32) -> Step {
        let mut rows = 0u64;
        for i in 0..tile.valid_h {
            for j in 0..tile.valid_w {
                if let Some((c, y, x)) = self.input_of(tile.oh0 + i, tile.ow0 + j, k) {
                    if sens.at(c as usize, y as usize, x as usize) {
                        rows |= 1u64 << (i * self.layer.tile_w + j);
                    }
                }
            }
        }
        Step {
            k,
            high: rows != 0,
            sensitive_rows: rows,
        }
    }

    /// Every step of a pixel tile, k ascending. The same for every channel tile.
    pub fn tile_steps(&self, sens: &InputSensitivity, tile: &PixelTile) -> Vec<Step> {
        (0..self.layer.reduction_len())
            .map(|k| self.step(sens, tile, k))
            .collect()
    }

    /// Tokens of one step: (A_HI/A_LO)*(W_HI/W_LO) if HIGH, 1 if LOW.
    pub fn tokens_of(&self, high: bool) -> u64 {
        if high {
            u64::from(self.cfg.tokens_per_high_step())
        } else {
            1
        }
    }

    /// Counters of the whole layer (docs/spec.md §5: steps_high, steps_low,
    /// token_cycles, tiles).
    /// Every pixel tile with its number of HIGH steps (the same in every
    /// channel tile): one walk of the schedule, from which [`Self::counters`]
    /// and `cycles::cycles_total` both derive.
    pub fn high_steps(&self, sens: &InputSensitivity) -> Vec<(PixelTile, u64)> {
        self.pixel_tiles()
            .map(|tile| {
                let high = (0..self.layer.reduction_len())
                    .filter(|&k| self.step(sens, &tile, k).high)
                    .count() as u64;
                (tile, high)
            })
            .collect()
    }

    /// The schedule counters from [`Self::high_steps`] (cycles_total and
    /// stall_cycles are filled in by the caller).
    pub fn counters(&self, high_steps: &[(PixelTile, u64)]) -> Counters {
        let high: u64 = high_steps.iter().map(|(_, h)| h).sum();
        let ct = u64::from(self.channel_tiles());
        let steps = u64::from(self.pixel_tile_count()) * u64::from(self.layer.reduction_len());
        let (steps_high, steps_low) = (high * ct, (steps - high) * ct);
        Counters {
            steps_high,
            steps_low,
            token_cycles: steps_high * self.tokens_of(true) + steps_low * self.tokens_of(false),
            tiles: ct * u64::from(self.pixel_tile_count()),
            cycles_total: 0,
            stall_cycles: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::RawLayer;

    /// A layer that fits `cfg` (the lowering does not read the buffers).
    fn layer(cfg: &AccelConfig, raw: &RawLayer) -> Layer {
        let l = Layer::from_raw(raw).unwrap();
        l.check(cfg).unwrap();
        l
    }

    #[test]
    fn taps_follow_the_spec_reduction_index() {
        let cfg = AccelConfig::default();
        let low = Lowering::new(
            &cfg,
            &layer(&cfg, &RawLayer::conv(3, 1, (5, 5), 3, 1, 1, (2, 2))),
        );
        assert_eq!(low.tap(0), Tap { c: 0, ki: 0, kj: 0 });
        assert_eq!(low.tap(5), Tap { c: 0, ki: 1, kj: 2 });
        assert_eq!(low.tap(9), Tap { c: 1, ki: 0, kj: 0 });
        assert_eq!(low.tap(26), Tap { c: 2, ki: 2, kj: 2 });
        // padding reads at the corner
        assert_eq!(low.input_of(0, 0, 0), None);
        assert_eq!(low.input_of(0, 0, 4), Some((0, 0, 0)));
        assert_eq!(low.input_of(4, 4, 8), None);
    }

    #[test]
    fn partial_edge_tiles_and_row_mapping() {
        let cfg = AccelConfig {
            rows: 8,
            ..AccelConfig::replicated()
        };
        let low = Lowering::new(
            &cfg,
            &layer(&cfg, &RawLayer::conv(1, 1, (5, 7), 1, 1, 0, (2, 3))),
        );
        assert_eq!((low.tiles_y, low.tiles_x), (3, 3));
        let last = low.pixel_tile(8);
        assert_eq!(
            (last.oh0, last.ow0, last.valid_h, last.valid_w),
            (4, 6, 1, 1)
        );
        assert_eq!(low.row_pixel(&last, 0), Some((4, 6)));
        assert_eq!(low.row_pixel(&last, 1), None);
        assert_eq!(low.row_pixel(&last, 3), None);
        let first = low.pixel_tile(0);
        assert_eq!(low.row_pixel(&first, 4), Some((1, 1)));
        assert_eq!(
            low.row_pixel(&first, 6),
            None,
            "row 6 is beyond tile_h*tile_w = 6"
        );
    }
}
