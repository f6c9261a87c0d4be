//! The host driver of `drq_top`: what software on a CPU does over the
//! AXI4-Lite bus (register map and buffer window in `docs/top.md`), here
//! against the Verilator model of the emitted top through the bus-functional
//! master of [`crate::axil_bfm`] (protocol checked every cycle).
//!
//! [`Accelerator::run_layer`] runs one layer as `drq sim` does: input into
//! ACT0, mask into MASK0 (or predicted there by the hardware), weights and
//! bias, start, wait for the interrupt, read outputs, masks and counters
//! back. [`Accelerator::run_next_layer`] chains: the previous output and
//! predicted mask stay on chip and only weights and bias are loaded.

use crate::axil_bfm::{AxilMaster, Resp, Timing};
use crate::sim::{Model, SimError, SimOptions};
use drq_arch::banked::{BankedMap, Place, Reader, WalkConstants};
use drq_arch::config::{ActLayout, PeKind};
use drq_arch::cyclic::{CyclicConstants, CyclicMap};
use drq_arch::regs::{reg, rw_bits, Buffer, WindowMap, ADDR_BITS, ID_VALUE, NUM_REGS, WINDOW_BASE};
use drq_arch::AccelConfig;
use drq_golden::cycles::forced_input_mask;
use drq_golden::golden::{LayerData, LayerRun};
use drq_golden::layer::Layer;
use drq_golden::numerics::wrap_acc;
use drq_golden::rng::Rng;
use drq_golden::schedule::Counters;
use drq_golden::tensor::{FeatureMap, Mask, Weights};
use drq_hdl::top::top_design;

/// A layer that does not fit the configured buffers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "layer does not fit the {buffer} buffer: it needs {needed} ({how}), the configuration has {capacity} ({key})"
)]
pub struct FitError {
    pub buffer: &'static str,
    pub needed: u64,
    pub how: String,
    pub capacity: u64,
    pub key: &'static str,
}

/// The reader a layer's output is laid out for in banked buffers when
/// the host names no next layer: stride 1 and the layer's own pixel tile.
pub fn default_out_reader(layer: &Layer) -> Reader {
    Reader {
        stride: 1,
        ..layer.reader()
    }
}

/// The activation-buffer offset of every element of a [C, H, W] map, in
/// the map's storage order: (c*H + y) * act_pitch(W) + x, or with
/// stored-once (banked or cyclic) buffers the map laid out for `reader`,
/// bank-major (bank * bank_words + address; docs/banked.md).
pub fn fmap_offsets(cfg: &AccelConfig, (c, h, w): (u32, u32, u32), reader: Reader) -> Vec<u64> {
    let (h, w) = (u64::from(h), u64::from(w));
    let elements = cube64(c, h, w);
    let bank_words = u64::from(cfg.bank_words());
    let bank_major = |p: Place| u64::from(p.bank) * bank_words + p.addr;
    match cfg.act_layout {
        ActLayout::Banked => {
            let map = BankedMap::new(c.into(), h, w, reader);
            elements
                .map(|(ci, y, x)| bank_major(map.place(ci, y, x)))
                .collect()
        }
        ActLayout::Cyclic => {
            let map = CyclicMap::new(c.into(), h, w, reader, cfg.rows);
            elements
                .map(|(ci, y, x)| bank_major(map.place(ci, y, x)))
                .collect()
        }
        ActLayout::Replicated => elements
            .map(|(ci, y, x)| cfg.act_addr(ci, h, w, y, x))
            .collect(),
    }
}

/// The ACC offset of every accumulator of a [C, H, W] map, in storage
/// order (`AccelConfig::acc_addr`).
pub fn acc_offsets(cfg: &AccelConfig, (c, h, w): (u32, u32, u32)) -> Vec<u64> {
    let (h, w) = (u64::from(h), u64::from(w));
    cube64(c, h, w)
        .map(|(ci, y, x)| cfg.acc_addr(ci, h, w, y, x))
        .collect()
}

/// [`cube`] in the buffers' index type.
fn cube64(c: u32, h: u64, w: u64) -> impl Iterator<Item = (u64, u64, u64)> {
    cube(c as usize, h as usize, w as usize).map(|(ci, y, x)| (ci as u64, y as u64, x as u64))
}

/// Check that a layer fits the buffers of `cfg` (`docs/top.md`, "Layer
/// limits"), its output laid out (banked buffers) for
/// [`default_out_reader`]: the first rule broken, naming the buffer and
/// both sizes.
pub fn check_fits(cfg: &AccelConfig, layer: &Layer) -> Result<(), FitError> {
    check_fits_for(cfg, layer, default_out_reader(layer))
}

/// [`check_fits`] with the output laid out for `out_reader` (the next
/// layer's stride and tile; banked buffers only).
pub fn check_fits_for(
    cfg: &AccelConfig,
    layer: &Layer,
    out_reader: Reader,
) -> Result<(), FitError> {
    let mpitch = u64::from(cfg.mask_row_pitch());
    let r = u64::from(cfg.region);
    let (c_in, c_out) = (u64::from(layer.c_in), u64::from(layer.c_out));
    let (h, w, ho, wo) = (
        u64::from(layer.h),
        u64::from(layer.w),
        u64::from(layer.ho()),
        u64::from(layer.wo()),
    );
    let kk = u64::from(layer.kernel) * u64::from(layer.kernel);
    let rule = |buffer, needed: u64, how: String, capacity: u64, key| {
        if needed > capacity {
            Err(FitError {
                buffer,
                needed,
                how,
                capacity,
                key,
            })
        } else {
            Ok(())
        }
    };
    let mw = u64::from(cfg.max_width);
    rule(
        "input activation",
        w,
        format!("input width W = {w}"),
        mw,
        "max_width",
    )?;
    rule(
        "output activation",
        wo,
        format!("output width Wo = {wo}"),
        mw,
        "max_width",
    )?;
    // Channels and rows are counted in `dim_bits`: at most max_dim, which
    // the row-pitch rules below imply unless rows are packed. With banked
    // activations an output row also needs an entry of the write-back's
    // row table (`max_out_height`).
    let md = u64::from(cfg.max_dim());
    let counters = "max_dim, the largest dimension the counters hold";
    let ho_key = if cfg.act_layout.stored_once() {
        "max_width (stored once: the write-back's row table has max_width entries)"
    } else {
        counters
    };
    for (buffer, what, v, limit, key) in [
        (
            "input activation",
            format!("input channels C_in = {c_in}"),
            c_in,
            md,
            counters,
        ),
        (
            "input activation",
            format!("input height H = {h}"),
            h,
            md,
            counters,
        ),
        (
            "output activation",
            format!("output channels C_out = {c_out}"),
            c_out,
            md,
            counters,
        ),
        (
            "output activation",
            format!("output height Ho = {ho}"),
            ho,
            cfg.max_out_height().into(),
            ho_key,
        ),
    ] {
        rule(buffer, v, what, limit, key)?;
    }
    let aw = u64::from(cfg.act_words);
    let (pitch, pitch_o) = (cfg.act_pitch(w), cfg.act_pitch(wo));
    if cfg.act_layout == ActLayout::Cyclic {
        // The map's entries, whole column bands of each phase plane, over
        // ROWS banks (docs/banked.md "The cyclic layout").
        for (buffer, what, c, hh, ww, reader) in [
            ("input activation", "C_in", c_in, h, w, layer.reader()),
            ("output activation", "C_out", c_out, ho, wo, out_reader),
        ] {
            let map = CyclicMap::new(c, hh, ww, reader, cfg.rows);
            rule(
                buffer,
                map.bank_words(),
                format!(
                    "{what} * S^2 * NXB * CBL / ROWS = {c} * {} * {} * {} / {} words a bank, the map stored once for stride {} and tile {}x{}",
                    reader.stride * reader.stride,
                    map.bands(),
                    map.band_len(),
                    cfg.rows,
                    reader.stride,
                    reader.tile_h,
                    reader.tile_w
                ),
                cfg.bank_words().into(),
                "act_words / rows, the words of a bank",
            )?;
        }
    } else if cfg.act_layout == ActLayout::Banked {
        // Each bank holds its share of the map, whole row and column
        // groups of the reader's tile (docs/banked.md).
        let bw = u64::from(cfg.bank_words());
        for (buffer, what, c, hh, ww, reader) in [
            ("input activation", "C_in", c_in, h, w, layer.reader()),
            ("output activation", "C_out", c_out, ho, wo, out_reader),
        ] {
            let map = BankedMap::new(c, hh, ww, reader);
            rule(
                buffer,
                map.bank_words(),
                format!(
                    "{what} * NY * S * NX * S = {c} * {} * {} * {} * {} words a bank, the map stored once for stride {} and tile {}x{}",
                    map.groups_y(),
                    reader.stride,
                    map.groups_x(),
                    reader.stride,
                    reader.stride,
                    reader.tile_h,
                    reader.tile_w
                ),
                bw,
                "act_words / rows, the words of a bank",
            )?;
        }
    } else {
        rule(
            "input activation",
            c_in * h * pitch,
            format!("C_in * H * row pitch = {c_in} * {h} * {pitch} words"),
            aw,
            "act_words",
        )?;
        rule(
            "output activation",
            c_out * ho * pitch_o,
            format!("C_out * Ho * row pitch = {c_out} * {ho} * {pitch_o} words"),
            aw,
            "act_words",
        )?;
    }
    let acc_pitch = if cfg.act_layout.stored_once() {
        wo
    } else {
        pitch_o
    };
    rule(
        "accumulator",
        c_out * ho * acc_pitch,
        format!("C_out * Ho * row pitch = {c_out} * {ho} * {acc_pitch} words"),
        cfg.acc_words.into(),
        "acc_words",
    )?;
    let mwords = u64::from(cfg.mask_words);
    rule(
        "input mask",
        c_in * h.div_ceil(r) * mpitch,
        format!(
            "C_in * ceil(H/R) * mask row pitch = {c_in} * {} * {mpitch} words",
            h.div_ceil(r)
        ),
        mwords,
        "mask_words",
    )?;
    rule(
        "output mask",
        c_out * ho.div_ceil(r) * mpitch,
        format!(
            "C_out * ceil(Ho/R) * mask row pitch = {c_out} * {} * {mpitch} words",
            ho.div_ceil(r)
        ),
        mwords,
        "mask_words",
    )?;
    rule(
        "weight",
        c_out * c_in * kk,
        format!(
            "C_out * C_in * K * K = {c_out} * {c_in} * {} words",
            layer.kernel * layer.kernel
        ),
        cfg.weight_words.into(),
        "weight_words",
    )?;
    rule(
        "bias",
        c_out,
        format!("C_out = {c_out} words"),
        cfg.bias_words.into(),
        "bias_words",
    )
}

/// What the hardware returned for one layer.
#[derive(Debug, Clone)]
pub struct HwRun {
    pub y: FeatureMap,
    pub acc: Vec<i64>,
    pub mask_in: Mask,
    pub mask_out: Option<Mask>,
    pub counters: Counters,
    /// STATUS after the run.
    pub status: u32,
}

impl From<HwRun> for LayerRun {
    fn from(h: HwRun) -> LayerRun {
        LayerRun {
            y: h.y,
            acc: h.acc,
            mask_in: h.mask_in,
            mask_out: h.mask_out,
            counters: h.counters,
        }
    }
}

/// Cycles from the cycle of the `CMD.start` write's handshake
/// ([`crate::axil_bfm::AxilMaster::last_write_cycle`]) to the first cycle of
/// the run (STATUS.phase no longer IDLE): the slave registers the write,
/// the register file pulses `start`, the phase register takes it. Checked
/// for every run of `drq coverage` (the interrupt comes exactly
/// `cycles_total` cycles after the run's first cycle) and by
/// `verif/tests/coverage.rs`.
pub const START_LATENCY: u64 = 3;

/// When the host started runs and saw them finish, in model cycles: with
/// the bus's [`crate::axil_bfm::BusLog`], what functional coverage maps
/// onto the phases of each run (`crate::coverage`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostLog {
    /// Every `CMD.start` written: the cycle of its write handshake
    /// ([`crate::axil_bfm::AxilMaster::last_write_cycle`]).
    pub starts: Vec<u64>,
    /// Every run waited for: when `irq` rose, as the host saw it: after
    /// the first cycle (the last cycle the host saw it low, or the start
    /// handshake), at or before the second (the first cycle it saw it
    /// high). Exact when the host watched every cycle; wider when a
    /// register poll or a held-back write response kept it busy.
    pub irqs: Vec<(u64, u64)>,
}

/// The Verilator model of `drq_top` behind its AXI4-Lite bus.
pub struct Accelerator {
    /// Starts and interrupts, when recording (`None`: not kept).
    pub host_log: Option<HostLog>,
    /// Wait for a run by reading STATUS over the bus back to back (as a
    /// polling CPU does) instead of watching the interrupt line only: the
    /// bus then carries traffic, and back-pressure, in every phase.
    pub poll_status: bool,
    pub cfg: AccelConfig,
    pub map: WindowMap,
    pub bus: AxilMaster,
    /// Which buffer of each ping-pong pair holds the next layer's input.
    act_sel: bool,
    mask_sel: bool,
    /// The last layer run (for chaining).
    last: Option<Layer>,
    /// The MODE the last run was started with.
    last_mode: u32,
    /// Banked buffers: the reader the next run lays its output out for
    /// (taken by that run; unset: [`default_out_reader`]), and the one
    /// the last run used (the next layer must be that reader).
    next_reader: Option<Reader>,
    out_reader: Option<Reader>,
    /// A run not finished within this many cycles fails.
    pub run_timeout: u64,
}

/// The layer registers of `layer` and their values, in slot order: what
/// the host writes before a run (HO and WO computed here: the hardware has
/// no divider).
pub fn layer_registers(layer: &Layer) -> [(usize, u32); 17] {
    [
        (reg::C_IN, layer.c_in),
        (reg::C_OUT, layer.c_out),
        (reg::H, layer.h),
        (reg::W, layer.w),
        (reg::KERNEL, layer.kernel),
        (reg::STRIDE, layer.stride),
        (reg::PADDING, layer.padding),
        (reg::TILE_H, layer.tile_h),
        (reg::TILE_W, layer.tile_w),
        (reg::LOW_SHIFT, layer.low_shift),
        (reg::W_LOW_SHIFT, layer.w_low_shift),
        (reg::THRESHOLD, layer.threshold),
        (reg::NEXT_THRESHOLD, layer.next_threshold.unwrap_or(0)),
        (reg::REQUANT_MULT, layer.requant_mult),
        (reg::REQUANT_SHIFT, layer.requant_shift),
        (reg::HO, layer.ho()),
        (reg::WO, layer.wo()),
    ]
}

/// The stored-once layout's registers (none with replicated buffers):
/// the input's layout constants for `layer` (BANK_* or CYC_*) and the
/// output's layout for `out_reader` (OUT_*), which the host computes as
/// it computes HO and WO (docs/banked.md).
pub fn layout_registers(cfg: &AccelConfig, layer: &Layer, out_reader: Reader) -> Vec<(usize, u32)> {
    match cfg.act_layout {
        ActLayout::Replicated => Vec::new(),
        ActLayout::Banked => banked_registers(cfg, layer, out_reader),
        ActLayout::Cyclic => cyclic_registers(cfg, layer, out_reader),
    }
}

/// The cyclic layout's registers: the 14 constants of the input's walk
/// (CYC_*, `CyclicConstants`) and the output's entry steps for
/// `out_reader` (`CyclicMap::row_steps`, `column_steps`), two's
/// complement cut to `AccelConfig::entry_bits`.
fn cyclic_registers(cfg: &AccelConfig, layer: &Layer, out_reader: Reader) -> Vec<(usize, u32)> {
    let bits = cfg.entry_bits();
    let cut = |v: i64| (v as u64 & ((1u64 << bits) - 1)) as u32;
    let input = CyclicMap::new(
        layer.c_in.into(),
        layer.h.into(),
        layer.w.into(),
        layer.reader(),
        cfg.rows,
    );
    let walk = CyclicConstants::new(&input, layer.padding).values(bits);
    let mut regs: Vec<(usize, u32)> = walk
        .iter()
        .enumerate()
        .map(|(i, &v)| (reg::CYC_BAND_LEN + i, v as u32))
        .collect();
    let out = CyclicMap::new(
        layer.c_out.into(),
        layer.ho().into(),
        layer.wo().into(),
        out_reader,
        cfg.rows,
    );
    let (ys, xs) = (out.row_steps(), out.column_steps());
    regs.extend([
        (reg::OUT_STRIDE, out_reader.stride),
        (reg::OUT_TILE_W, out_reader.tile_w),
        (reg::OUT_CHANNEL_WORDS, cut(out.parts(1, 0, 0)[0] as i64)),
        (reg::OUT_Y_PHASE_STEP, cut(ys.phase)),
        (reg::OUT_Y_GROUP_STEP, cut(ys.group)),
        (reg::OUT_X_PHASE_STEP, cut(xs.phase)),
        (reg::OUT_X_BANK_STEP, cut(xs.bank)),
        (reg::OUT_X_GROUP_STEP, cut(xs.group)),
    ]);
    regs
}

/// The banked layout's registers: BANK_* (`WalkConstants`) and OUT_*.
fn banked_registers(cfg: &AccelConfig, layer: &Layer, out_reader: Reader) -> Vec<(usize, u32)> {
    let bits = cfg.bank_addr_bits();
    let cut = |v: u64| (v & ((1u64 << bits) - 1)) as u32;
    let input = BankedMap::new(
        layer.c_in.into(),
        layer.h.into(),
        layer.w.into(),
        layer.reader(),
    );
    let walk = WalkConstants::new(&input, layer.padding).values(bits);
    let mut regs: Vec<(usize, u32)> = walk
        .iter()
        .enumerate()
        .map(|(i, &v)| (reg::BANK_ROW_WORDS + i, v as u32))
        .collect();
    let out = BankedMap::new(
        layer.c_out.into(),
        layer.ho().into(),
        layer.wo().into(),
        out_reader,
    );
    regs.extend([
        (reg::OUT_STRIDE, out_reader.stride),
        (reg::OUT_TILE_H, out_reader.tile_h),
        (reg::OUT_TILE_W, out_reader.tile_w),
        (reg::OUT_ROW_WORDS, cut(out.row_words())),
        (reg::OUT_GROUP_WORDS, cut(out.group_words())),
        (reg::OUT_CHANNEL_WORDS, cut(out.channel_words())),
    ]);
    regs
}

/// The input mask a run used, when it is not in the input mask buffer
/// afterwards: all ones for the INT8 baseline (it reads no mask), and the
/// constant mask of a threshold that decides it (T = 0 or T > a_max), which
/// the hardware does not predict and does not write (docs/spec.md §8.6).
pub(crate) fn input_mask_not_in_buffer(
    cfg: &AccelConfig,
    layer: &Layer,
    predict_in: bool,
) -> Option<bool> {
    match cfg.pe {
        PeKind::Int8 => Some(true),
        PeKind::Drq if predict_in => forced_input_mask(cfg, layer),
        PeKind::Drq => None,
    }
}

pub(crate) fn bit(v: bool, mask: u32) -> u32 {
    if v {
        mask
    } else {
        0
    }
}

impl Accelerator {
    /// Build (or take from the cache) the model of `drq_top` for `cfg`,
    /// reset it and check its ID and INFO registers.
    pub fn new(
        cfg: &AccelConfig,
        opts: &SimOptions,
        seed: u64,
        timing: Timing,
    ) -> Result<Accelerator, SimError> {
        let model = Model::new(&top_design(cfg), opts)?;
        Accelerator::from_model(cfg, model, seed, timing)
    }

    /// Drive an already built model of a `drq_top` of `cfg` (a mutant, for
    /// example); checks its ID register.
    pub fn from_model(
        cfg: &AccelConfig,
        model: Model,
        seed: u64,
        timing: Timing,
    ) -> Result<Accelerator, SimError> {
        let mut a = Accelerator {
            host_log: None,
            poll_status: false,
            cfg: *cfg,
            map: WindowMap::new(cfg),
            bus: AxilMaster::new(model, seed, timing, 0),
            act_sel: false,
            mask_sel: false,
            last: None,
            last_mode: 0,
            next_reader: None,
            out_reader: None,
            run_timeout: 50_000_000,
        };
        // The constant registers describe the configuration the host was
        // built for: every one must read as the table says.
        for (k, want) in drq_arch::regs::info_values(cfg).into_iter().enumerate() {
            let got = a.read_reg(reg::INFO_ARRAY + k);
            assert_eq!(
                got,
                want,
                "drq_top constant register {}",
                reg::INFO_ARRAY + k
            );
        }
        assert_eq!(a.read_reg(reg::ID), ID_VALUE, "drq_top ID register");
        Ok(a)
    }

    pub fn write_reg(&mut self, index: usize, value: u32) {
        if index == reg::CMD && value & reg::CMD_START != 0 && self.cfg.stream_predictor {
            // The streaming predictor clears its sums after reset; a start
            // written meanwhile would wait for it, so the host waits first
            // (the run then starts START_LATENCY cycles after the write).
            while self.read_reg(reg::STATUS) & reg::STATUS_CLEARING != 0 {}
        }
        let r = self.bus.write(4 * index as u64, value);
        assert_eq!(r, Resp::Okay, "write of register {index}");
        if index == reg::CMD && value & reg::CMD_START != 0 {
            if let Some(log) = &mut self.host_log {
                log.starts.push(self.bus.last_write_cycle);
            }
        }
    }

    pub fn read_reg(&mut self, index: usize) -> u32 {
        let (v, r) = self.bus.read(4 * index as u64);
        assert_eq!(r, Resp::Okay, "read of register {index}");
        v
    }

    pub fn read_reg64(&mut self, index: usize) -> u64 {
        let lo = self.read_reg(index);
        let hi = self.read_reg(index + 1);
        u64::from(hi) << 32 | u64::from(lo)
    }

    pub fn write_word(&mut self, b: Buffer, index: u64, value: u32) {
        let addr = self.map.byte_addr(b, index);
        let r = self.bus.write(addr, value);
        assert_eq!(r, Resp::Okay, "write of {} word {index}", b.name());
    }

    pub fn read_word(&mut self, b: Buffer, index: u64) -> u32 {
        let addr = self.map.byte_addr(b, index);
        let (v, r) = self.bus.read(addr);
        assert_eq!(r, Resp::Okay, "read of {} word {index}", b.name());
        v
    }

    fn act_buffer(sel: bool) -> Buffer {
        if sel {
            Buffer::Act1
        } else {
            Buffer::Act0
        }
    }

    fn mask_buffer(sel: bool) -> Buffer {
        if sel {
            Buffer::Mask1
        } else {
            Buffer::Mask0
        }
    }

    /// Banked buffers: lay the next run's output out for `reader` (the
    /// stride and tile of the layer that will read it); taken by that run.
    pub fn set_next_reader(&mut self, reader: Reader) {
        self.next_reader = Some(reader);
    }

    /// The activation-buffer offsets of a [C, H, W] feature map read by
    /// `reader` ([`fmap_offsets`]).
    fn fmap_addrs(&self, c: usize, h: usize, w: usize, reader: Reader) -> Vec<u64> {
        fmap_offsets(&self.cfg, (c as u32, h as u32, w as u32), reader)
    }

    /// The mask-buffer address of every region of a [C, RH, RW] mask
    /// (pitched rows), in the mask's storage order.
    fn mask_addrs(&self, c: usize, rh: usize, rw: usize) -> Vec<u64> {
        let u = |v: usize| v as u64;
        cube(c, rh, rw)
            .map(|(ci, ry, rx)| self.cfg.mask_addr(u(ci), u(rh), u(ry), u(rx)))
            .collect()
    }

    /// Words `(index, value)` into buffer `b`, pipelined on the bus
    /// (several writes outstanding, as a DMA engine or a CPU with posted
    /// writes would issue them).
    pub fn write_words(&mut self, b: Buffer, words: impl IntoIterator<Item = (u64, u32)>) {
        let ops: Vec<(u64, u32)> = words
            .into_iter()
            .map(|(i, v)| (self.map.byte_addr(b, i), v))
            .collect();
        for (k, r) in self.bus.write_burst(&ops).into_iter().enumerate() {
            assert_eq!(r, Resp::Okay, "write of {} at {:#x}", b.name(), ops[k].0);
        }
    }

    /// Words of buffer `b` at `indices`, pipelined on the bus.
    pub fn read_words(&mut self, b: Buffer, indices: impl IntoIterator<Item = u64>) -> Vec<u32> {
        let addrs: Vec<u64> = indices
            .into_iter()
            .map(|i| self.map.byte_addr(b, i))
            .collect();
        let got = self.bus.read_burst(&addrs);
        got.into_iter()
            .zip(&addrs)
            .map(|((v, r), a)| {
                assert_eq!(r, Resp::Okay, "read of {} at {a:#x}", b.name());
                v
            })
            .collect()
    }

    /// Feature map [C, H, W] into an activation buffer, for a layer that
    /// reads it with `reader` (pitched rows, or banked for that reader).
    pub fn write_fmap(&mut self, b: Buffer, f: &FeatureMap, reader: Reader) {
        let addrs = self.fmap_addrs(f.c, f.h, f.w, reader);
        self.write_words(b, addrs.into_iter().zip(f.data.iter().copied()));
    }

    /// Feature map [C, H, W] from an activation buffer, laid out for `reader`.
    pub fn read_fmap(
        &mut self,
        b: Buffer,
        (c, h, w): (usize, usize, usize),
        reader: Reader,
    ) -> FeatureMap {
        let data = self.read_words(b, self.fmap_addrs(c, h, w, reader));
        FeatureMap { c, h, w, data }
    }

    /// Mask [C, RH, RW] into a mask buffer (pitched rows).
    pub fn write_mask(&mut self, b: Buffer, m: &Mask) {
        let addrs = self.mask_addrs(m.c, m.rh, m.rw);
        self.write_words(
            b,
            addrs.into_iter().zip(m.data.iter().map(|&v| u32::from(v))),
        );
    }

    pub fn read_mask(&mut self, b: Buffer, c: usize, rh: usize, rw: usize) -> Mask {
        let data = self
            .read_words(b, self.mask_addrs(c, rh, rw))
            .into_iter()
            .map(|v| v & 1 == 1)
            .collect();
        Mask { c, rh, rw, data }
    }

    /// Weights [C_out, C_in, K, K] in the k-major layout k * C_out + oc.
    pub fn write_weights(&mut self, wts: &Weights) {
        let kk = wts.c_in * wts.k * wts.k;
        let words = (0..kk).flat_map(|k| {
            (0..wts.c_out).map(move |oc| ((k * wts.c_out + oc) as u64, wts.at_k(oc, k) as u32))
        });
        self.write_words(Buffer::Weights, words);
    }

    pub fn write_bias(&mut self, bias: &[i32]) {
        let words = bias
            .iter()
            .enumerate()
            .map(|(oc, &b)| (oc as u64, b as u32));
        self.write_words(Buffer::Bias, words);
    }

    /// Accumulators [C, H, W] (two words each when ACC_BITS > 32).
    pub fn read_acc(&mut self, c: usize, h: usize, w: usize) -> Vec<i64> {
        let elems = acc_offsets(&self.cfg, (c as u32, h as u32, w as u32));
        let addrs: Vec<u64> = elems
            .iter()
            .flat_map(|&e| {
                let a = self.map.byte_addr(Buffer::Acc, e);
                (0..self.map.acc_stride).map(move |k| a + 4 * k)
            })
            .collect();
        let got = self.bus.read_burst(&addrs);
        let stride = self.map.acc_stride as usize;
        got.chunks(stride)
            .zip(&elems)
            .map(|(words, e)| {
                let mut v = 0u64;
                for (k, &(word, r)) in words.iter().enumerate() {
                    assert_eq!(r, Resp::Okay, "read of acc word {e} ({k})");
                    v |= u64::from(word) << (32 * k);
                }
                wrap_acc(v as i64, self.cfg.acc_bits)
            })
            .collect()
    }

    /// The layer registers (and with banked buffers the layout's, the
    /// output laid out for `out_reader`).
    pub fn configure(&mut self, layer: &Layer, out_reader: Reader) {
        for (i, v) in layer_registers(layer) {
            self.write_reg(i, v);
        }
        for (i, v) in layout_registers(&self.cfg, layer, out_reader) {
            self.write_reg(i, v);
        }
    }

    /// The reader the run of `layer` lays its output out for: the one
    /// set by [`Accelerator::set_next_reader`], else [`default_out_reader`].
    fn out_reader_for(&self, layer: &Layer) -> Reader {
        self.next_reader
            .unwrap_or_else(|| default_out_reader(layer))
    }

    /// [`Accelerator::out_reader_for`], taken by the run (the next run
    /// needs its own).
    fn take_out_reader(&mut self, layer: &Layer) -> Reader {
        let reader = self.out_reader_for(layer);
        self.next_reader = None;
        reader
    }

    /// Start a run with the given MODE predict bits and wait for the
    /// interrupt; STATUS afterwards.
    pub fn start_and_wait(&mut self, predict_in: bool, predict_out: bool) -> u32 {
        let mode = bit(predict_in, reg::MODE_PREDICT_IN)
            | bit(predict_out, reg::MODE_PREDICT_OUT)
            | reg::MODE_IRQ_ENABLE
            | bit(self.act_sel, reg::MODE_ACT_SEL)
            | bit(self.mask_sel, reg::MODE_MASK_SEL);
        self.write_reg(reg::MODE, mode);
        self.last_mode = mode;
        self.write_reg(reg::CMD, reg::CMD_START);
        let t0 = self.bus.model.cycles();
        // irq was low at the start handshake at the latest.
        let mut last_low = self.bus.last_write_cycle;
        while !self.bus.model.get_bool("irq") {
            last_low = self.bus.model.cycles();
            if self.poll_status {
                self.read_reg(reg::STATUS);
            } else {
                self.bus.idle(1);
            }
            let n = self.bus.model.cycles() - t0;
            assert!(
                n < self.run_timeout,
                "drq_top: no interrupt after {n} cycles"
            );
        }
        if let Some(log) = &mut self.host_log {
            log.irqs.push((last_low, self.bus.model.cycles()));
        }
        let status = self.read_reg(reg::STATUS);
        self.write_reg(reg::CMD, reg::CMD_CLEAR);
        status
    }

    pub fn counters(&mut self) -> Counters {
        Counters {
            steps_high: self.read_reg64(reg::STEPS_HIGH),
            steps_low: self.read_reg64(reg::STEPS_LOW),
            token_cycles: self.read_reg64(reg::TOKEN_CYCLES),
            tiles: self.read_reg64(reg::TILES),
            cycles_total: self.read_reg64(reg::CYCLES_TOTAL),
            stall_cycles: self.read_reg64(reg::STALL_CYCLES),
        }
    }

    /// Run a first layer: everything loaded from the host. `data.mask`
    /// None: the hardware predicts the input mask (DRQ; the INT8 baseline
    /// needs none and reports all-sensitive, as the golden model does).
    pub fn run_layer(&mut self, layer: &Layer, data: &LayerData) -> Result<HwRun, FitError> {
        self.run_layer_from(layer, data, false)
    }

    /// [`Accelerator::run_layer`] with the input in ACT1 and the host's mask
    /// in MASK1 when `from_act1` (outputs to ACT0 and MASK0).
    pub fn run_layer_from(
        &mut self,
        layer: &Layer,
        data: &LayerData,
        from_act1: bool,
    ) -> Result<HwRun, FitError> {
        check_fits_for(&self.cfg, layer, self.out_reader_for(layer))?;
        let predict_in = self.load_layer_into(layer, data, from_act1);
        Ok(self.run_loaded(layer, predict_in))
    }

    /// Load a first layer from the host, not started: the input into
    /// `ACT0`, the host's mask (DRQ) into `MASK0`, weights, bias and the
    /// layer registers. Returns whether the hardware must predict the
    /// input mask (`MODE.predict_in`).
    pub fn load_layer(&mut self, layer: &Layer, data: &LayerData) -> bool {
        self.load_layer_into(layer, data, false)
    }

    /// [`Accelerator::load_layer`] into ACT1/MASK1 when `half1`.
    fn load_layer_into(&mut self, layer: &Layer, data: &LayerData, half1: bool) -> bool {
        self.act_sel = half1;
        self.mask_sel = half1;
        self.write_fmap(Self::act_buffer(half1), &data.input, layer.reader());
        if let (Some(m), PeKind::Drq) = (&data.mask, self.cfg.pe) {
            self.write_mask(Self::mask_buffer(half1), m);
        }
        self.write_layer(layer, &data.weights, &data.bias);
        data.run_phases(&self.cfg, layer).predict_in
    }

    /// Weights, bias and the layer registers.
    fn write_layer(&mut self, layer: &Layer, weights: &Weights, bias: &[i32]) {
        self.write_weights(weights);
        self.write_bias(bias);
        let out_reader = self.take_out_reader(layer);
        self.out_reader = Some(out_reader);
        self.configure(layer, out_reader);
    }

    /// Run the layer after the last one: its input and mask are the last
    /// layer's output and predicted mask, already on chip.
    pub fn run_next_layer(
        &mut self,
        layer: &Layer,
        weights: &Weights,
        bias: &[i32],
    ) -> Result<HwRun, FitError> {
        check_fits_for(&self.cfg, layer, self.out_reader_for(layer))?;
        let prev = self.last.expect("run_next_layer after a layer");
        if self.cfg.act_layout.stored_once() {
            assert_eq!(
                self.out_reader,
                Some(layer.reader()),
                "stored-once buffers: the last layer's output is laid out for another reader than this layer (set_next_reader before running the last layer)"
            );
        }
        assert!(
            prev.next_threshold.is_some() || self.cfg.pe == PeKind::Int8,
            "the previous layer predicted no mask"
        );
        self.act_sel = !self.act_sel;
        self.mask_sel = !self.mask_sel;
        self.write_layer(layer, weights, bias);
        Ok(self.run_loaded(layer, false))
    }

    /// Start the loaded `layer`, wait for it and read back what it wrote.
    fn run_loaded(&mut self, layer: &Layer, predict_in: bool) -> HwRun {
        let predict_out = layer.next_threshold.is_some();
        let status = self.start_and_wait(predict_in, predict_out);
        self.last = Some(*layer);
        let c_in = layer.c_in as usize;
        let (c_out, ho, wo) = (
            layer.c_out as usize,
            layer.ho() as usize,
            layer.wo() as usize,
        );
        let (rh, rw) = layer.mask_in_dims(self.cfg.region);
        let mask_in = match input_mask_not_in_buffer(&self.cfg, layer, predict_in) {
            Some(bit) => Mask::filled(c_in, rh as usize, rw as usize, bit),
            None => {
                let b = Self::mask_buffer(self.mask_sel);
                self.read_mask(b, c_in, rh as usize, rw as usize)
            }
        };
        let mask_out = if predict_out {
            let (orh, orw) = layer.mask_out_dims(self.cfg.region);
            let b = Self::mask_buffer(!self.mask_sel);
            Some(self.read_mask(b, c_out, orh as usize, orw as usize))
        } else {
            None
        };
        let out_reader = self.out_reader.expect("a layer configured before its run");
        let y = self.read_fmap(Self::act_buffer(!self.act_sel), (c_out, ho, wo), out_reader);
        let acc = self.read_acc(c_out, ho, wo);
        let counters = self.counters();
        HwRun {
            y,
            acc,
            mask_in,
            mask_out,
            counters,
            status,
        }
    }
}

impl Accelerator {
    /// Host accesses the driver never makes, drawn from `rng` and each
    /// checked against the register table (docs/spec.md §8, docs/top.md),
    /// with the accelerator idle after a run of `layer`:
    /// - every layer register, MODE and CMD read back as written;
    /// - a byte-strobed write to a layer register merges the strobed bytes
    ///   (cut to the register's bits), then the value is restored;
    /// - a write to a read-only register answers SLVERR and changes nothing;
    /// - unmapped register slots, the gap below the window and the space
    ///   past the last buffer answer SLVERR, reads with data 0;
    /// - a window write with a partial strobe answers SLVERR and leaves the
    ///   word as it was.
    ///
    /// Panics (a failed check) with what differed.
    pub fn probe_host_interface(&mut self, rng: &mut Rng, layer: &Layer) {
        let mode = self.last_mode;
        let bits = rw_bits(&self.cfg);
        let kept = |k: usize, v: u32| v & low_mask(bits[k]);
        let regs = layer_registers(layer);
        for &(k, v) in &regs {
            let got = self.read_reg(k);
            assert_eq!(
                got,
                kept(k, v),
                "layer register {k} read back after the run"
            );
        }
        let got = self.read_reg(reg::MODE);
        assert_eq!(got, kept(reg::MODE, mode), "MODE read back after the run");
        // CMD stores its last write (the driver's clear after the run).
        let got = self.read_reg(reg::CMD);
        assert_eq!(
            got,
            kept(reg::CMD, reg::CMD_CLEAR),
            "CMD read back after the run"
        );

        // A byte-strobed write to a random layer register.
        let (k, v) = regs[rng.range(0, regs.len() as i64 - 1) as usize];
        let data = rng.next_u64() as u32;
        let strb = rng.range(0, 15) as u8;
        let addr = 4 * k as u64;
        let lanes = (0..4)
            .filter(|b| strb >> b & 1 == 1)
            .fold(0u32, |m, b| m | 0xFF << (8 * b));
        assert_eq!(
            self.bus.write_strobed(addr, data, strb),
            Resp::Okay,
            "strobed write of register {k}"
        );
        let want = kept(k, (kept(k, v) & !lanes) | (data & lanes));
        assert_eq!(
            self.bus.read(addr),
            (want, Resp::Okay),
            "register {k} after writing {data:#x} with strobe {strb:#06b} over {v:#x}"
        );
        self.write_reg(k, v);

        // A read-only register refuses a write and keeps its value.
        let ro = rng.range(reg::N_RW as i64, (reg::N_RW + reg::N_RO) as i64 - 1) as u64;
        let before = self.bus.read(4 * ro);
        assert_eq!(before.1, Resp::Okay, "read of read-only slot {ro}");
        assert_eq!(
            self.bus.write(4 * ro, rng.next_u64() as u32),
            Resp::SlvErr,
            "write to read-only slot {ro}"
        );
        assert_eq!(
            self.bus.read(4 * ro),
            before,
            "read-only slot {ro} after a write"
        );

        // Unmapped addresses.
        let first_free = 4 * (reg::N_RW + reg::N_RO) as u64;
        let regs_end = 4 * u64::from(NUM_REGS);
        let end = self.map.window_end();
        let mut unmapped = vec![
            rng.range(first_free as i64, regs_end as i64 - 1) as u64,
            rng.range(regs_end as i64, WINDOW_BASE as i64 - 1) as u64,
        ];
        if end < 1 << ADDR_BITS {
            unmapped.push(rng.range(end as i64, (1i64 << ADDR_BITS) - 1) as u64);
        }
        for a in unmapped {
            assert_eq!(
                self.bus.read(a),
                (0, Resp::SlvErr),
                "read of unmapped {a:#x}"
            );
            assert_eq!(
                self.bus.write(a, rng.next_u64() as u32),
                Resp::SlvErr,
                "write to unmapped {a:#x}"
            );
        }

        // A partial window write changes nothing.
        let b = Buffer::ALL[rng.range(0, Buffer::ALL.len() as i64 - 1) as usize];
        let words = self.map.words(b);
        if words == 0 {
            return;
        }
        let index = rng.range(0, words as i64 - 1) as u64;
        let addr = self.map.byte_addr(b, index);
        let before = self.bus.read(addr);
        assert_eq!(before.1, Resp::Okay, "read of {} word {index}", b.name());
        let strb = rng.range(1, 14) as u8;
        assert_eq!(
            self.bus.write_strobed(addr, rng.next_u64() as u32, strb),
            Resp::SlvErr,
            "window write with strobe {strb:#06b} to {} word {index}",
            b.name()
        );
        assert_eq!(
            self.bus.read(addr),
            before,
            "{} word {index} after a partial write",
            b.name()
        );
    }
}

/// The low `bits` bits.
fn low_mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// Every (c, y, x) of a [c, h, w] tensor, x fastest.
fn cube(c: usize, h: usize, w: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..c).flat_map(move |ci| (0..h).flat_map(move |y| (0..w).map(move |x| (ci, y, x))))
}
