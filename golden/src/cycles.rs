//! `cycles_total` of `drq_top`: the documented cycle formula of the
//! implementation (docs/spec.md §5, §7), derived from the schedule. The RTL is
//! checked against it for every co-simulated layer; `docs/top.md` explains
//! each term.
//!
//! A run is a sequence of phases, each a fixed number of cycles given the
//! layer (no host traffic happens during a run, so nothing is random):
//!
//! | phase | cycles |
//! |---|---|
//! | predict the input mask (`MODE.predict_in`, DRQ only, 0 < T <= a_max) | V_in + 2 N_in + 12 |
//! | prepare the predictor for the output (`MODE.predict_out`) | N_out + 6 |
//! | the layer: controller setup, tiles, last output written | 1 + ROWS + 9 + n_last + sum over tiles of (T_t + F + D_t) (with `overlap`: the tiles' tokens stream, each tile's last token after the previous tile's read-out) |
//! | sweep the output mask (`MODE.predict_out`) | N_out + 3 |
//!
//! V_in = C_in H W values scanned; N_in, N_out the predictor's region
//! counts C * ceil(H/R) * ceil(W/R) of input and output; T_t a tile's
//! tokens; F = ROWS + COLS - 1 the array's flush (COLS with `row_taps`:
//! `AccelConfig::flush_cycles`); D_t the drain of the
//! tile through the output stage (`drain`, `RowHold`); n_last the valid
//! columns of the last tile.

use crate::layer::Layer;
use crate::schedule::{Lowering, PixelTile};
use drq_arch::AccelConfig;

/// Cycles from the end of the controller's SETUP row chain to its first
/// token offered (address, read, register stages and SETUP's last cycle).
/// A term of the documented formula: the RTL's `drq_hdl::controller`
/// is checked against it by co-simulation, never the other way round.
pub const FILL_AFTER_SETUP: u64 = 4;

/// Cycles from a row's handshake into the output stage to its first
/// element on the stage's output (the formula's output-stage latency).
pub const OUTPUT_LATENCY: u64 = 4;

/// Which optional phases a run asks for (the two MODE bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPhases {
    /// The hardware predicts the input mask from the input buffer first.
    pub predict_in: bool,
    /// The predictor computes the next layer's mask from the outputs.
    pub predict_out: bool,
}

impl RunPhases {
    /// The input-mask phases run: `predict_in` with 0 < T <= a_max. At
    /// T = 0 every region is sensitive (a mean is never below 0), above
    /// a_max none is (a mean is never above it), so the hardware skips them
    /// and reads every mask bit of the run as that constant
    /// ([`forced_input_mask`]).
    pub fn input_mask_phases(&self, cfg: &AccelConfig, layer: &Layer) -> bool {
        self.predict_in && forced_input_mask(cfg, layer).is_none()
    }
}

/// The input mask a threshold decides without looking at the map: every
/// region sensitive at T = 0, none above a_max (docs/spec.md §3.3).
pub fn forced_input_mask(cfg: &AccelConfig, layer: &Layer) -> Option<bool> {
    if layer.threshold == 0 {
        Some(true)
    } else if layer.threshold > cfg.a_max() {
        Some(false)
    } else {
        None
    }
}

/// Predictor regions of a C x H x W map: C * ceil(H/R) * ceil(W/R).
pub fn regions(cfg: &AccelConfig, c: u32, h: u32, w: u32) -> u64 {
    let r = cfg.region;
    u64::from(c) * u64::from(h.div_ceil(r)) * u64::from(w.div_ceil(r))
}

/// The lengths of a run's mask phases (docs/spec.md §7.3), each 0 when
/// the run does not have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaskPhases {
    pub pin_start: u64,
    pub pin_clear: u64,
    pub pin_scan: u64,
    pub pin_wait: u64,
    pub pout_start: u64,
    pub pout_clear: u64,
    pub pout_wait: u64,
}

impl MaskPhases {
    /// The input mask: one start cycle, the predictor's SETUP and CLEAR
    /// (N_in + 5), one value per cycle, its drain and SWEEP after `finish`
    /// (N_in + 6). The output mask: a start cycle and the CLEAR (N_out + 5)
    /// before the layer, the SWEEP after `finish` (N_out + 3). The
    /// streaming predictor has no CLEAR and no SWEEP (N = 0 above), its
    /// `done` rises with the drain (one cycle sooner than the compare stage
    /// after a SWEEP: PIN_WAIT 5, POUT_WAIT 2), and it starts on the output
    /// map with the controller: no POUT_START, no POUT_CLEAR; its input
    /// scan reads G = `cfg.scan_group()` values of a row per cycle
    /// (C_in * H * ceil(W / G) cycles).
    pub fn of(cfg: &AccelConfig, layer: &Layer, phases: RunPhases) -> MaskPhases {
        let stream = cfg.stream_predictor;
        let swept = |n: u64| if stream { 0 } else { n };
        let mut m = MaskPhases::default();
        if phases.input_mask_phases(cfg, layer) {
            let n_in = swept(regions(cfg, layer.c_in, layer.h, layer.w));
            m.pin_start = 1;
            m.pin_clear = n_in + 5;
            // G = `scan_group()` values of a row per cycle (1 without streaming).
            let groups_per_row = layer.w.div_ceil(cfg.scan_group());
            m.pin_scan = u64::from(layer.c_in) * u64::from(layer.h) * u64::from(groups_per_row);
            // Streaming: `done` with the drain, no compare stage after it.
            m.pin_wait = if stream { 5 } else { n_in + 6 };
        }
        if phases.predict_out {
            let n_out = regions(cfg, layer.c_out, layer.ho(), layer.wo());
            if stream {
                m.pout_wait = 2;
            } else {
                m.pout_start = 1;
                m.pout_clear = n_out + 5;
                m.pout_wait = n_out + 3;
            }
        }
        m
    }

    /// The cycles before CONV_START.
    pub fn before_conv(&self) -> u64 {
        self.pin_start
            + self.pin_clear
            + self.pin_scan
            + self.pin_wait
            + self.pout_start
            + self.pout_clear
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.before_conv() + self.pout_wait
    }
}

/// The output stage's hold on the array's valid rows (docs/spec.md §7.4),
/// counted in lane groups: the valid rows of one tile row whose pixels
/// share an activation-buffer word (`out_lanes` = L consecutive x; with
/// L = 1 every valid row is its own group). The stage holds `out_rows`
/// groups (its row buffer and a queue in front of it) and moves each
/// group's n elements per lane into the requantisers one column per
/// cycle, groups in the order taken. The first row of a group offered in
/// cycle `t` is taken in the first cycle at or after `t` in which fewer
/// than `out_rows` earlier groups are still held past it; the group's
/// further rows are taken as offered. Its elements enter the requantisers
/// from the cycle after both its last row's handshake and the previous
/// group's last element, and it is released in the cycle of its last
/// element.
#[derive(Debug, Clone)]
pub struct RowHold {
    out_rows: usize,
    /// Release cycles of the last `out_rows` groups, oldest first.
    releases: std::collections::VecDeque<u64>,
    /// Release cycle of the last group (0: none yet).
    last_release: u64,
}

impl RowHold {
    pub fn new(cfg: &AccelConfig) -> RowHold {
        RowHold {
            out_rows: cfg.out_rows as usize,
            releases: std::collections::VecDeque::new(),
            last_release: 0,
        }
    }

    /// The handshake cycle of a group's first row offered in cycle `t`.
    pub fn open(&self, t: u64) -> u64 {
        match self.releases.front() {
            Some(&oldest) if self.releases.len() == self.out_rows => t.max(oldest),
            _ => t,
        }
    }

    /// The group whose last row's handshake is in cycle `complete`, of `n`
    /// elements per lane, is held until its release.
    pub fn close(&mut self, complete: u64, n: u64) {
        let release = complete.max(self.last_release) + n;
        self.releases.push_back(release);
        if self.releases.len() > self.out_rows {
            self.releases.pop_front();
        }
        self.last_release = release;
    }

    /// Take a group of one valid row of `n` elements offered in cycle
    /// `t`: its handshake cycle.
    pub fn take(&mut self, t: u64, n: u64) -> u64 {
        let handshake = self.open(t);
        self.close(handshake, n);
        handshake
    }

    /// Burst read-out (`burst_readout`): the first cycle at or after `t` in
    /// which at most Q - `groups` groups are held past it, so that a tile of
    /// `groups` lane groups offered from the next cycle on is taken row
    /// after row without a wait; `None` when `groups` > Q (the tile never
    /// fits whole and is read out with the stage's backpressure). The
    /// releases only grow, so the answer is t or the release of the
    /// (Q - groups + 1)-th latest group.
    pub fn room(&self, t: u64, groups: u64) -> Option<u64> {
        let q = self.out_rows as u64;
        if groups > q {
            return None;
        }
        let may_stay = (q - groups) as usize;
        let held = self.releases.len();
        if held <= may_stay {
            return Some(t);
        }
        Some(t.max(self.releases[held - 1 - may_stay]))
    }

    /// The cycle in which the last group's last element entered the
    /// requantisers.
    pub fn last_release(&self) -> u64 {
        self.last_release
    }
}

/// Whether the valid row at column j of a tile row starting at x = ow0,
/// of `valid_w` valid pixels, closes its lane group (docs/spec.md §7.4).
/// The shadow chain reads rows out with x descending, so a group closes
/// with its row at x = 0 mod `out_lanes` or the tile row's first pixel;
/// row taps (`row_taps`) read them with x ascending, so a group closes
/// with its row at x = L - 1 mod L or the tile row's last valid pixel.
pub fn closes_lane_group(cfg: &AccelConfig, ow0: u32, j: u32, valid_w: u32) -> bool {
    let lanes = cfg.out_lanes;
    if cfg.row_taps {
        j + 1 == valid_w || (ow0 + j + 1) % lanes == 0
    } else {
        j == 0 || (ow0 + j) % lanes == 0
    }
}

/// The lane groups of a tile (docs/spec.md §7.4): `valid_h` tile rows of
/// the groups one tile row's valid pixels x = ow0 .. ow0 + valid_w - 1
/// span, one per value of x div L.
pub fn tile_groups(cfg: &AccelConfig, tile: &PixelTile) -> u64 {
    if tile.valid_h == 0 || tile.valid_w == 0 {
        return 0;
    }
    let lanes = cfg.out_lanes;
    let per_row = (tile.ow0 + tile.valid_w - 1) / lanes - tile.ow0 / lanes + 1;
    u64::from(tile.valid_h) * u64::from(per_row)
}

/// The array row read out k-th (k in 0..ROWS): ROWS-1 down to 0 from the
/// shadow chain (and without shadows), 0 up to ROWS-1 with row taps.
pub fn readout_row(cfg: &AccelConfig, k: u32) -> u32 {
    if cfg.row_taps {
        k
    } else {
        cfg.rows - 1 - k
    }
}

/// The array rows of a tile in read-out order ([`readout_row`]).
pub fn readout_order(cfg: &AccelConfig) -> impl Iterator<Item = u32> + '_ {
    (0..cfg.rows).map(move |k| readout_row(cfg, k))
}

/// The array's read-out of one tile whose first row is offered in cycle
/// `first_offer`: rows in [`readout_order`], one per cycle at the
/// earliest; a row outside the tile's valid part is taken in the cycle it
/// is offered, a valid row when `hold` takes it; a lane group closes as
/// [`closes_lane_group`] says. Returns the last row's handshake cycle.
pub fn drain(
    cfg: &AccelConfig,
    layer: &Layer,
    tile: &PixelTile,
    n: u64,
    first_offer: u64,
    hold: &mut RowHold,
) -> u64 {
    let mut t = first_offer;
    let mut last = first_offer;
    let mut open = false;
    for r in readout_order(cfg) {
        let (i, j) = (r / layer.tile_w, r % layer.tile_w);
        let valid = i < tile.valid_h && j < tile.valid_w;
        last = t;
        if valid {
            if !open {
                last = hold.open(t);
            }
            open = !closes_lane_group(cfg, tile.ow0, j, tile.valid_w);
            if !open {
                hold.close(last, n);
            }
        }
        t = last + 1;
    }
    last
}

/// A tile's read-out (docs/spec.md §7.2): the cycle its first row is
/// offered, its last row's handshake, and whether it was a burst (rows
/// back to back, started with room for the whole tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOut {
    pub first_offer: u64,
    pub last: u64,
    pub burst: bool,
}

impl ReadOut {
    /// The earliest cycle of the next tile's last token: the cycle after
    /// the last handshake, or with a burst its first row's cycle (a shadow
    /// row is read before the next tile's swap reaches it).
    pub fn next_last_token(&self) -> u64 {
        if self.burst {
            self.first_offer
        } else {
            self.last + 1
        }
    }
}

/// The read-out of a tile whose last token the array took in cycle
/// `last_token`, the previous tile's read-out `prev`. The array decides to
/// start in a cycle x, at the earliest the flush's last (last_token + F),
/// with no read-out in progress (after the previous one's last handshake),
/// and with `burst_readout` in the first such cycle with room for the
/// tile's lane groups ([`RowHold::room`]); its first row is offered in
/// x + 1. A tile of more groups than the stage holds is read out with
/// backpressure, as without bursts.
pub fn read_out(
    cfg: &AccelConfig,
    layer: &Layer,
    tile: &PixelTile,
    n: u64,
    last_token: u64,
    prev: Option<ReadOut>,
    hold: &mut RowHold,
) -> ReadOut {
    let flushed = last_token + u64::from(cfg.flush_cycles());
    let free = prev.map_or(flushed, |p| flushed.max(p.last + 1));
    let room = cfg
        .burst_readout
        .then(|| hold.room(free, tile_groups(cfg, tile)))
        .flatten();
    let (start, burst) = room.map_or((free, false), |x| (x, true));
    let first_offer = start + 1;
    let last = drain(cfg, layer, tile, n, first_offer, hold);
    debug_assert!(!burst || last == first_offer + u64::from(cfg.rows) - 1);
    ReadOut {
        first_offer,
        last,
        burst,
    }
}

/// `cycles_total` of one run of `layer` (the layer must fit the buffers).
pub fn cycles_total(
    cfg: &AccelConfig,
    lowering: &Lowering,
    high_steps: &[(PixelTile, u64)],
    phases: RunPhases,
) -> u64 {
    let layer = &lowering.layer;
    // Tokens per pixel tile; the drain also depends on the channel tile's
    // valid columns.
    let steps = u64::from(layer.reduction_len());
    let pixel: Vec<(PixelTile, u64)> = high_steps
        .iter()
        .map(|&(t, high)| {
            (
                t,
                high * lowering.tokens_of(true) + (steps - high) * lowering.tokens_of(false),
            )
        })
        .collect();
    // Controller start and setup until its first token (1 + ROWS + 4);
    // each tile's tokens, the flush and the read-out; the next tile's first
    // token is taken in the cycle after the read-out's last handshake. After the last
    // element enters the requantiser: its latency and the write-back
    // (LATENCY + 1), and the cycle in which the top sees every block idle.
    // With shadow accumulators (`overlap`) the next tile's tokens follow
    // at once; only its last token waits for the cycle after the previous
    // tile's last read-out handshake.
    // With `burst_readout` a tile's read-out may wait for room, and the
    // next tile's last token only for its first row ([`read_out`]).
    let mut cycle = 1 + u64::from(cfg.rows) + FILL_AFTER_SETUP;
    let mut hold = RowHold::new(cfg);
    let mut prev: Option<ReadOut> = None;
    for ct in 0..lowering.channel_tiles() {
        let n = u64::from(lowering.channel_range(ct).1);
        for (t, tokens) in &pixel {
            let streamed = cycle + tokens - 1;
            let last = match prev {
                Some(p) if cfg.overlap => streamed.max(p.next_last_token()),
                _ => streamed,
            };
            let r = read_out(cfg, layer, t, n, last, prev, &mut hold);
            prev = Some(r);
            cycle = if cfg.overlap { last + 1 } else { r.last + 1 };
        }
    }
    let read_out = prev.map(|p| p.last);
    // The layer ends in the cycle after every block is idle: the last
    // element written (LATENCY + 1 after it entered the requantiser), and
    // the array's last read-out handshake. The shadow chain's last row is
    // row 0, valid and at least n cycles before its release, so the first
    // term always decides; with row taps idle rows may come last.
    let written = hold.last_release() + OUTPUT_LATENCY + 2;
    let read_out_end = read_out.map_or(0, |h| h + 2);
    written.max(read_out_end) + MaskPhases::of(cfg, layer, phases).total()
}
