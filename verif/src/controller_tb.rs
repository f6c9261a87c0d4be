//! Testbench of the region controller (`drq_controller`): Rust models of the
//! three buffers in the documented layouts (`docs/controller.md`) behind
//! read ports of one cycle of latency, an array-side model that takes tokens
//! with random backpressure, and the run loop of one layer. Everything the
//! controller emits is captured: every accepted token with its tile fields
//! and waveform signals, every read it issues, the counters.
//!
//! The expected side comes from the golden model: `Replay` (tokens),
//! `Lowering` (steps, tiles, input positions) through [`Layout`] (reads).

use crate::sim::{Model, SimError, SimOptions};
use drq_arch::banked::{BankedMap, WalkConstants, CONSTANT_NAMES};
use drq_arch::cyclic::{CyclicConstants, CyclicMap, CYCLIC_CONSTANT_NAMES};
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;
use drq_golden::golden::LayerData;
use drq_golden::layer::Layer;
use drq_golden::replay::{Replay, TokenSlice};
use drq_golden::rng::Rng;
use drq_golden::schedule::Lowering;
use drq_golden::tensor::Mask;
use drq_hdl::controller::{controller_design_with, layer_cycles, ControllerParams};
use std::collections::HashMap;

/// Word addresses of the three buffers (`docs/controller.md`), by the
/// configuration's layout (`AccelConfig::act_addr`, `mask_addr`), or with
/// banked activations (docs/banked.md) the input's bank (above bit 32)
/// and address in it (`BankedMap::place`).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub cfg: AccelConfig,
    pub banked: Option<BankedMap>,
    /// The cyclic layout instead (docs/banked.md "The cyclic layout"),
    /// over ROWS banks.
    pub cyclic: Option<CyclicMap>,
    pub region: u64,
    pub h: u64,
    /// ceil(H / R).
    pub rh: u64,
    /// W.
    pub w: u64,
    pub c_out: u64,
}

impl Layout {
    pub fn new(cfg: &AccelConfig, layer: &Layer) -> Layout {
        Layout {
            cfg: *cfg,
            banked: None,
            cyclic: None,
            region: cfg.region.into(),
            h: layer.h.into(),
            rh: layer.h.div_ceil(cfg.region).into(),
            w: layer.w.into(),
            c_out: layer.c_out.into(),
        }
    }
    /// The layout of `layer`'s input stored once for `layer` itself.
    pub fn banked(cfg: &AccelConfig, layer: &Layer) -> Layout {
        Layout {
            banked: Some(BankedMap::new(
                layer.c_in.into(),
                layer.h.into(),
                layer.w.into(),
                layer.reader(),
            )),
            ..Layout::new(cfg, layer)
        }
    }
    /// The layout of `layer`'s input in the cyclic layout for `layer`
    /// itself, over ROWS banks.
    pub fn cyclic(cfg: &AccelConfig, layer: &Layer) -> Layout {
        Layout {
            cyclic: Some(CyclicMap::new(
                layer.c_in.into(),
                layer.h.into(),
                layer.w.into(),
                layer.reader(),
                cfg.rows,
            )),
            ..Layout::new(cfg, layer)
        }
    }
    /// (c*H + y) * pitch(W) + x; banked or cyclic: bank << 32 | address.
    pub fn act(&self, c: u32, y: u32, x: u32) -> u64 {
        if let Some(map) = &self.banked {
            let p = map.place(c.into(), y.into(), x.into());
            return u64::from(p.bank) << 32 | p.addr;
        }
        if let Some(map) = &self.cyclic {
            let p = map.place(c.into(), y.into(), x.into());
            return u64::from(p.bank) << 32 | p.addr;
        }
        self.cfg
            .act_addr(c.into(), self.h, self.w, y.into(), x.into())
    }
    /// Mask word of the region holding input (c, y, x):
    /// (c*ceil(H/R) + y/R) * P_M + x/R.
    pub fn mask(&self, c: u32, y: u32, x: u32) -> u64 {
        let r = self.region;
        self.cfg
            .mask_addr(c.into(), self.rh, u64::from(y) / r, u64::from(x) / r)
    }
    /// k * C_out + oc.
    pub fn weight(&self, oc: u32, k: u32) -> u64 {
        u64::from(k) * self.c_out + u64::from(oc)
    }
}

/// The three buffers of a layer, filled in the documented layouts.
#[derive(Debug, Clone, Default)]
pub struct Buffers {
    pub act: HashMap<u64, u32>,
    pub mask: HashMap<u64, bool>,
    pub weights: HashMap<u64, i32>,
}

impl Buffers {
    /// The input and weights of `data` and the input mask `mask` (the one
    /// the golden model used: `Replay::run.mask_in`).
    pub fn of(cfg: &AccelConfig, layer: &Layer, data: &LayerData, mask: &Mask) -> Buffers {
        Buffers::in_layout(&Layout::new(cfg, layer), layer, data, mask)
    }
    /// [`Buffers::of`] in a given layout.
    pub fn in_layout(lay: &Layout, layer: &Layer, data: &LayerData, mask: &Mask) -> Buffers {
        let cfg = &lay.cfg;
        let d = data;
        let mut b = Buffers::default();
        for c in 0..layer.c_in {
            for y in 0..layer.h {
                for x in 0..layer.w {
                    b.act.insert(
                        lay.act(c, y, x),
                        d.input.at(c as usize, y as usize, x as usize),
                    );
                }
            }
        }
        let m = mask;
        let r = cfg.region;
        for c in 0..m.c {
            for ry in 0..m.rh {
                for rx in 0..m.rw {
                    b.mask.insert(
                        lay.mask(c as u32, ry as u32 * r, rx as u32 * r),
                        m.at(c, ry, rx),
                    );
                }
            }
        }
        for oc in 0..layer.c_out {
            for k in 0..layer.reduction_len() {
                b.weights
                    .insert(lay.weight(oc, k), d.weights.at_k(oc as usize, k as usize));
            }
        }
        b
    }
}

/// The reads of one step (one cycle with read enables): per row the
/// activation and mask word read (None: no read), per column the weight word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEvent {
    pub act: Vec<Option<u64>>,
    pub mask: Vec<Option<u64>>,
    pub w: Vec<Option<u64>>,
}

/// docs/spec.md §6 waveform signals, sampled with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wave {
    pub mode_high: bool,
    pub channel: u64,
    pub region_y: u64,
    pub region_x: u64,
    pub k_step: u64,
    pub tile: u64,
    pub token_shift: u64,
}

/// One token taken by the array-side model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub slice: TokenSlice,
    pub tile_channel: u64,
    pub tile_oh0: u64,
    pub tile_ow0: u64,
    pub low_shift: u64,
    pub wave: Wave,
}

/// The controller's counters after `done`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HwCounters {
    pub steps_high: u64,
    pub steps_low: u64,
    pub token_cycles: u64,
    pub tiles: u64,
}

/// Everything one layer did.
#[derive(Debug, Clone)]
pub struct LayerOutcome {
    pub tokens: Vec<Captured>,
    pub reads: Vec<ReadEvent>,
    pub counters: HwCounters,
    /// Cycles from `start` (exclusive) to `done` (exclusive): `busy` cycles.
    pub busy_cycles: u64,
    /// Busy cycles in which no token was taken (counted here: the
    /// controller has no cycle counters of its own, the top counts).
    pub stall_cycles: u64,
    /// Cycles a token was offered while `in_ready` was low.
    pub held: u64,
    /// Cycles between `start` and the first cycle a token is offered
    /// (both exclusive).
    pub first_token: Option<u64>,
}

/// How the array side behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traffic {
    /// Probability that `in_ready` is low in a cycle.
    pub backpressure: f64,
}

pub struct ControllerBench {
    pub cfg: AccelConfig,
    /// Banked input activations: the bank address bits.
    pub banked: Option<u32>,
    /// With `banked`: the cyclic layout's reads instead.
    pub cyclic: bool,
    pub format: TokenFormat,
    pub model: Model,
    act_lanes: Vec<i64>,
    mask_lanes: Vec<i64>,
    w_lanes: Vec<i64>,
}

/// Largest value of a `bits`-bit port.
fn ones(bits: u32) -> u64 {
    (1u64 << bits) - 1
}

impl ControllerBench {
    /// Build (or reuse) the controller of `cfg` and reset it.
    pub fn new(cfg: &AccelConfig, opts: &SimOptions) -> Result<ControllerBench, SimError> {
        ControllerBench::with_banks(cfg, None, opts)
    }
    /// [`ControllerBench::new`], with banked input activations of
    /// `banked` address bits when given (docs/banked.md).
    pub fn with_banks(
        cfg: &AccelConfig,
        banked: Option<u32>,
        opts: &SimOptions,
    ) -> Result<ControllerBench, SimError> {
        ControllerBench::with_layout(cfg, banked, false, opts)
    }
    /// [`ControllerBench::with_banks`], with the cyclic layout's reads
    /// when `cyclic` (docs/banked.md "The cyclic layout").
    pub fn with_layout(
        cfg: &AccelConfig,
        banked: Option<u32>,
        cyclic: bool,
        opts: &SimOptions,
    ) -> Result<ControllerBench, SimError> {
        let params = ControllerParams {
            banked_addr_bits: banked,
            cyclic,
            ..ControllerParams::new(cfg)
        };
        let mut model = Model::new(&controller_design_with(cfg, &params), opts)?;
        model.set_bool("start", false);
        model.set_bool("in_ready", false);
        model.reset(2);
        Ok(ControllerBench {
            cfg: *cfg,
            banked,
            cyclic,
            format: TokenFormat::new(cfg),
            model,
            act_lanes: vec![0; cfg.rows as usize],
            mask_lanes: vec![0; cfg.rows as usize],
            w_lanes: vec![0; cfg.cols as usize],
        })
    }

    fn set_layer(&mut self, l: &Layer) {
        let m = &mut self.model;
        for (name, v) in [
            ("c_in", l.c_in),
            ("c_out", l.c_out),
            ("h", l.h),
            ("w", l.w),
            ("kernel", l.kernel),
            ("stride", l.stride),
            ("padding", l.padding),
            ("tile_h", l.tile_h),
            ("tile_w", l.tile_w),
            ("low_shift", l.low_shift),
            ("w_low_shift", l.w_low_shift),
        ] {
            m.set_u64(name, v.into());
        }
        if let (Some(bits), true) = (self.banked, self.cyclic) {
            // The cyclic layout's constants, as the host would compute them.
            let map = CyclicMap::new(
                l.c_in.into(),
                l.h.into(),
                l.w.into(),
                l.reader(),
                self.cfg.rows,
            );
            let entry_bits = bits + self.cfg.rows.trailing_zeros();
            let k = CyclicConstants::new(&map, l.padding).values(entry_bits);
            for (name, v) in CYCLIC_CONSTANT_NAMES.iter().zip(k) {
                m.set_u64(&format!("cyclic_{name}"), v);
            }
        } else if let Some(bits) = self.banked {
            // The layout's constants, as the host computes them.
            let map = BankedMap::new(l.c_in.into(), l.h.into(), l.w.into(), l.reader());
            let k = WalkConstants::new(&map, l.padding);
            for (name, v) in CONSTANT_NAMES.iter().zip(k.values(bits)) {
                m.set_u64(&format!("bank_{name}"), v);
            }
        }
    }

    fn capture(&mut self) -> Captured {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        let f = &self.format;
        let m = &mut self.model;
        let slice = TokenSlice {
            first: m.get_bool("in_first"),
            commit: m.get_bool("in_commit"),
            last: m.get_bool("in_last"),
            hshift: m.get_u64("in_hshift") as u32,
            digits: m
                .get_lanes("in_digits", f.digit_bits, rows, false)
                .into_iter()
                .map(|d| d as u32)
                .collect(),
            sens: m
                .get_lanes("in_sens", 1, rows, false)
                .into_iter()
                .map(|s| s == 1)
                .collect(),
            w_digits: m
                .get_lanes("in_w_digits", f.w_digit_bits, cols, true)
                .into_iter()
                .map(|w| w as i32)
                .collect(),
            w_lows: m
                .get_lanes("in_w_lows", f.w_low_bits, cols, true)
                .into_iter()
                .map(|w| w as i32)
                .collect(),
        };
        Captured {
            slice,
            tile_channel: m.get_u64("tile_channel"),
            tile_oh0: m.get_u64("tile_oh0"),
            tile_ow0: m.get_u64("tile_ow0"),
            low_shift: m.get_u64("low_shift_out"),
            wave: Wave {
                mode_high: m.get_bool("drq_mode_high"),
                channel: m.get_u64("drq_channel"),
                region_y: m.get_u64("drq_region_y"),
                region_x: m.get_u64("drq_region_x"),
                k_step: m.get_u64("drq_k_step"),
                tile: m.get_u64("drq_tile"),
                token_shift: m.get_u64("drq_token_shift"),
            },
        }
    }

    fn counters(&mut self) -> HwCounters {
        let m = &mut self.model;
        HwCounters {
            steps_high: m.get_u64("steps_high"),
            steps_low: m.get_u64("steps_low"),
            token_cycles: m.get_u64("token_cycles"),
            tiles: m.get_u64("tiles"),
        }
    }

    /// Pulse `start` with the layer registers of `layer`.
    pub fn start(&mut self, layer: &Layer) {
        self.set_layer(layer);
        self.model.set_bool("start", true);
        self.model.eval();
        self.model.tick(1);
        self.model.set_bool("start", false);
        self.model.eval();
    }

    /// Run `layer` from `start` to `done` against `buffers`. With
    /// `stop_after = Some(n)` the run is abandoned after n cycles (for
    /// restart tests) and the partial outcome returned.
    pub fn run_layer(
        &mut self,
        layer: &Layer,
        buffers: &Buffers,
        traffic: Traffic,
        rng: &mut Rng,
        stop_after: Option<u64>,
    ) -> LayerOutcome {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        let lowering = Lowering::new(&self.cfg, layer);
        let steps = u64::from(lowering.channel_tiles())
            * u64::from(lowering.pixel_tile_count())
            * u64::from(layer.reduction_len());
        let hi = u64::from(self.cfg.tokens_per_high_step());
        let limit = layer_cycles(&self.cfg, steps * hi)
            * if traffic.backpressure > 0.0 { 20 } else { 1 }
            + 10;
        self.start(layer);
        let mut out = LayerOutcome {
            tokens: Vec::new(),
            reads: Vec::new(),
            counters: HwCounters::default(),
            busy_cycles: 0,
            stall_cycles: 0,
            held: 0,
            first_token: None,
        };
        loop {
            let m = &mut self.model;
            if m.get_bool("done") {
                assert!(!m.get_bool("busy"), "busy together with done");
                break;
            }
            assert!(m.get_bool("busy"), "neither busy nor done after start");
            if stop_after == Some(out.busy_cycles) {
                return out;
            }
            let ready = !rng.chance(traffic.backpressure);
            m.set_bool("in_ready", ready);
            m.eval();
            let taken = m.get_bool("in_valid") && ready;
            if m.get_bool("in_valid") {
                out.first_token.get_or_insert(out.busy_cycles);
                if ready {
                    let t = self.capture();
                    out.tokens.push(t);
                } else {
                    out.held += 1;
                }
            }
            if !taken {
                out.stall_cycles += 1;
            }
            out.busy_cycles += 1;
            // Reads issued this cycle return their data after the edge.
            let m = &mut self.model;
            let act_rd = m.get_lanes("act_rd", 1, rows, false);
            let w_rd = m.get_lanes("w_rd", 1, cols, false);
            let any = act_rd.iter().chain(&w_rd).any(|&b| b == 1);
            let banked = self.banked;
            let ev = any.then(|| {
                let addr_bits = self.cfg.buffer_addr_bits();
                let aa = m.get_lanes("act_addr", banked.unwrap_or(addr_bits), rows, false);
                let ma = m.get_lanes("mask_addr", addr_bits, rows, false);
                let wa = m.get_lanes("w_addr", addr_bits, cols, false);
                // Banked: a row reads (its mask) when `mask_rd`, its value
                // from bank `act_row_bank`, which must be read.
                let (row_rd, row_act): (Vec<i64>, Vec<u64>) = match banked {
                    None => (act_rd.clone(), aa.iter().map(|&a| a as u64).collect()),
                    Some(_) => {
                        let index_bits = drq_hdl::bank_steps::bank_index_bits(self.cfg.rows);
                        let bank = m.get_lanes("act_row_bank", index_bits, rows, false);
                        let mask_rd = m.get_lanes("mask_rd", 1, rows, false);
                        let act = (0..rows)
                            .map(|r| {
                                let b = bank[r] as usize;
                                if mask_rd[r] == 1 {
                                    assert!(
                                        b < rows && act_rd[b] == 1,
                                        "row {r}'s bank {b} not read"
                                    );
                                }
                                (b as u64) << 32 | aa[b.min(rows - 1)] as u64
                            })
                            .collect();
                        (mask_rd, act)
                    }
                };
                ReadEvent {
                    act: (0..rows)
                        .map(|r| (row_rd[r] == 1).then_some(row_act[r]))
                        .collect(),
                    mask: (0..rows)
                        .map(|r| (row_rd[r] == 1).then_some(ma[r] as u64))
                        .collect(),
                    w: (0..cols)
                        .map(|j| (w_rd[j] == 1).then_some(wa[j] as u64))
                        .collect(),
                }
            });
            m.tick(1);
            assert!(
                out.busy_cycles < limit,
                "layer not done in {limit} cycles ({} tokens taken)",
                out.tokens.len()
            );
            if let Some(ev) = ev {
                let poison = ones(self.cfg.a_hi) as u32;
                for r in 0..rows {
                    if let (Some(a), Some(ma)) = (ev.act[r], ev.mask[r]) {
                        // An address outside the buffer reads garbage; the
                        // address check reports it.
                        self.act_lanes[r] = i64::from(*buffers.act.get(&a).unwrap_or(&poison));
                        self.mask_lanes[r] = i64::from(*buffers.mask.get(&ma).unwrap_or(&true));
                    }
                }
                for j in 0..cols {
                    if let Some(a) = ev.w[j] {
                        self.w_lanes[j] = i64::from(*buffers.weights.get(&a).unwrap_or(&-1));
                    }
                }
                let m = &mut self.model;
                m.set_lanes("act_data", self.cfg.a_hi, &self.act_lanes);
                m.set_lanes("mask_bit", 1, &self.mask_lanes);
                m.set_lanes("w_data", self.cfg.w_hi, &self.w_lanes);
                out.reads.push(ev);
            }
            self.model.eval();
        }
        self.model.set_bool("in_ready", false);
        self.model.eval();
        out.counters = self.counters();
        out
    }
}

/// The reads the controller must issue for `layer`, one event per step in
/// spec order: every row whose pixel is valid and whose input is not padding
/// reads its activation and its region's mask bit; every column whose output
/// channel exists reads its weight.
pub fn expected_reads(cfg: &AccelConfig, layer: &Layer) -> Vec<ReadEvent> {
    expected_reads_in(&Layout::new(cfg, layer), layer)
}

/// [`expected_reads`] in a given layout.
pub fn expected_reads_in(lay: &Layout, layer: &Layer) -> Vec<ReadEvent> {
    let cfg = &lay.cfg;
    let low = Lowering::new(cfg, layer);
    let mut v = Vec::new();
    for (ct, pt) in low.tiles() {
        let (oc0, n_oc) = low.channel_range(ct);
        for k in 0..layer.reduction_len() {
            let inputs: Vec<Option<(u32, u32, u32)>> = (0..cfg.rows)
                .map(|r| {
                    low.row_pixel(&pt, r)
                        .and_then(|(oh, ow)| low.input_of(oh, ow, k))
                })
                .collect();
            v.push(ReadEvent {
                act: inputs
                    .iter()
                    .map(|i| i.map(|(c, y, x)| lay.act(c, y, x)))
                    .collect(),
                mask: inputs
                    .iter()
                    .map(|i| i.map(|(c, y, x)| lay.mask(c, y, x)))
                    .collect(),
                w: (0..cfg.cols)
                    .map(|j| (j < n_oc).then(|| lay.weight(oc0 + j, k)))
                    .collect(),
            });
        }
    }
    v
}

/// The waveform signals expected with every token of `replay`, in order.
pub fn expected_waves(replay: &Replay) -> Vec<Wave> {
    let cfg = &replay.cfg;
    let low = &replay.lowering;
    let lr = cfg.region.trailing_zeros();
    let mut v = Vec::new();
    for (t, tile) in replay.tiles().enumerate() {
        let pixel = low
            .row_pixel(&tile.pixel_tile, 0)
            .expect("row 0 is in every tile");
        for step in &tile.steps {
            let (ry, rx) = match low.input_of(pixel.0, pixel.1, step.k) {
                Some((_, y, x)) => (u64::from(y >> lr), u64::from(x >> lr)),
                // All ones of the region fields when row 0 reads padding.
                None => {
                    let ones = (1u64 << cfg.dim_bits()) - 1;
                    (ones, ones)
                }
            };
            let wave = |token_shift: u32| Wave {
                mode_high: step.high,
                channel: low.tap(step.k).c.into(),
                region_y: ry,
                region_x: rx,
                k_step: step.k.into(),
                tile: t as u64,
                token_shift: token_shift.into(),
            };
            if step.high {
                v.extend(replay.format.high_tokens.iter().map(|h| wave(h.shift)));
            } else {
                v.push(wave(replay.low_shift()));
            }
        }
    }
    v
}
