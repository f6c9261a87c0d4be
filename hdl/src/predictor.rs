//! The sensitivity predictor (docs/spec.md §3): per-region sums of a feature
//! map as it streams in, in any order, then mask = (sum >= T * n) per region.
//! Interface, cycle behaviour and hazards: `docs/predictor.md`.
//!
//! * `start` latches the layer (`channels`, `height`, `width`, `threshold`),
//!   derives the region grid in four SETUP cycles (ceil(H/R), ceil(W/R), the
//!   edge region sizes, C * RH * RW and the three edge products T * n), then
//!   clears the sums of the layer's regions (CLEAR, one per cycle).
//! * ACCUM: one value per cycle, three cycles per value, pipelined: the
//!   accepting cycle registers the value, its region column x >> log2 R
//!   and its region's row start c * (RH * RW) + (y >> log2 R) * RW (both
//!   products of the offered value's channel and row) in S0; the next adds
//!   the column to make the address (c * RH + ry) * RW + rx, issues the
//!   sum's read and registers S1; the third adds the value to the read sum and writes it back. A read
//!   sampled on the edge of the previous write misses that write (the RAM
//!   reads first), so the last write is forwarded (`fw_*`): any arrival
//!   order is correct at full rate.
//! * `finish` (latched, may come at any time after `start`) closes the
//!   input; once the pipeline is empty SWEEP reads every sum in address order
//!   and writes `sum >= T * n` out through `mask_wr_en` / `mask_wr_addr` /
//!   `mask_wr_bit`, one region per cycle, then raises `done` until the next
//!   `start`. The mask memory belongs to whoever keeps masks: the top's
//!   mask buffers, or the predictor's testbench.
//! * The sum memory is dense ((c * RH + ry) * RW + rx); the mask addresses
//!   are pitched like the region controller's mask buffer: region (c, ry,
//!   rx) is mask bit (c * RH + ry) * P_M + rx, P_M = `cfg.mask_row_pitch()`
//!   (a power of two, so the sweep adds P_M per row). Entries with rx >= RW
//!   are not part of the layer and are never written.
//!
//! All state is in `leaf::Reg`s (synchronous reset) and one `WordRam`.
//! Addresses and counters are masked to clog2(mask_words + 1) bits and the
//! multipliers sized to match, so synthesis sizes them by the memory.
//! A layer must satisfy C * ceil(H/R) * P_M <= mask_words and W <= max_width
//! (so RW <= P_M); otherwise
//! `oversize` rises, values are accepted and dropped, and `finish` leads to
//! `done` without touching the mask memory. Values with a channel, row or
//! column outside the layer are accepted and dropped.

use crate::leaf::{low_mask, word, Reg, SignedMul, Word, WordReg};
use crate::ram::WordRam;
use crate::shell::clog2;
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

/// Parameters the predictor is generated with (all derived from the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictorParams {
    pub region: u32,
    pub region_log2: u32,
    /// Entries of the sum memory and of the mask memory.
    pub mask_words: u32,
    /// Widest feature map a layer may have.
    pub max_width: u32,
    /// log2 of the mask row pitch P_M = `cfg.mask_row_pitch()`: region
    /// (c, ry, rx) is mask bit (c * ceil(H/R) + ry) * P_M + rx, the layout
    /// the region controller reads.
    pub mask_pitch_log2: u32,
    /// Bits of a region sum: R * R * (2^A_HI - 1) < 2^sum_bits.
    pub sum_bits: u32,
    /// Bits of an input value: one code, or the sum of the codes of a lane
    /// group (up to `out_lanes` = L) or of a scan group (up to G =
    /// `cfg.scan_group()`) in one region (G <= R; L <= R, or a bank's
    /// share of a group that spans L / R regions).
    pub value_bits: u32,
    /// Bits of a value up to mask_words: the multiplier operands of a layer
    /// that fits.
    pub operand_bits: u32,
    /// Streaming (`stream_predictor`): a pixel count beside each sum, the
    /// mask bit written when the region's last pixel arrives.
    pub stream: bool,
    /// Bits of a region's pixel count (up to R * R): 2 log2 R + 1.
    pub count_bits: u32,
    /// Bits of a count kept in the sum memory: 2 log2 R. An entry holds
    /// fewer than its region's n <= R * R pixels (it goes back to 0 when
    /// the count reaches n), so the stored count is at most R * R - 1.
    pub stored_count_bits: u32,
}

impl PredictorParams {
    /// Bits of a sum-memory entry: the sum, and streaming its count above.
    pub fn entry_bits(&self) -> u32 {
        self.sum_bits
            + if self.stream {
                self.stored_count_bits
            } else {
                0
            }
    }

    pub fn new(cfg: &AccelConfig) -> PredictorParams {
        assert!(cfg.region.is_power_of_two() && cfg.region <= 16);
        let region_log2 = cfg.region.trailing_zeros();
        assert!(cfg.mask_row_pitch().is_power_of_two());
        let sum_bits = cfg.a_hi + 2 * region_log2;
        let max_sum = u64::from(cfg.region).pow(2) * ((1u64 << cfg.a_hi) - 1);
        assert!(max_sum < 1u64 << sum_bits && sum_bits <= 32);
        PredictorParams {
            region: cfg.region,
            region_log2,
            mask_words: cfg.mask_words,
            max_width: cfg.max_width,
            mask_pitch_log2: cfg.mask_row_pitch().trailing_zeros(),
            sum_bits,
            value_bits: cfg.a_hi + cfg.out_lanes.max(cfg.scan_group()).trailing_zeros(),
            operand_bits: clog2(cfg.mask_words + 1),
            stream: cfg.stream_predictor,
            count_bits: 2 * region_log2 + 1,
            stored_count_bits: 2 * region_log2,
        }
    }

    /// One of the K = `cfg.predictor_banks()` banks of the top
    /// (`predictor_banks.rs`): bank b sees the map squeezed to the region
    /// columns rx with rx mod K = b, so it keeps mask_words / K sums, its
    /// map is at most ceil(max_width / (K R)) * R wide, its mask row pitch
    /// is P_M / K (a bank's pitched address is the mask buffer's word
    /// address), and a value sums at most min(L, R) lanes. With K = 1 it is
    /// [`PredictorParams::new`].
    pub fn bank(cfg: &AccelConfig) -> PredictorParams {
        let banks = cfg.predictor_banks();
        let whole = PredictorParams::new(cfg);
        if banks == 1 {
            return whole;
        }
        assert!(cfg.stream_predictor && cfg.mask_words % banks == 0);
        let span = banks * cfg.region;
        let lanes = cfg.out_lanes / banks;
        PredictorParams {
            mask_words: cfg.mask_words / banks,
            max_width: cfg.max_width.div_ceil(span) * cfg.region,
            mask_pitch_log2: whole.mask_pitch_log2 - banks.trailing_zeros(),
            value_bits: cfg.a_hi + lanes.max(cfg.scan_group()).trailing_zeros(),
            operand_bits: clog2(cfg.mask_words / banks + 1),
            ..whole
        }
    }
}

/// Bits of the layer inputs `channels`, `height`, `width`, `threshold` (the
/// spec's 16-bit fields) and of the region counts derived from them.
const PORT_BITS: u32 = 16;

#[derive(LogicBlock)]
pub struct SensitivityPredictor {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Layer, held by the user from `start` to `done` (latched at `start`).
    pub channels: Signal<In, Word>,
    pub height: Signal<In, Word>,
    pub width: Signal<In, Word>,
    pub threshold: Signal<In, Word>,
    pub start: Signal<In, Bit>,
    pub finish: Signal<In, Bit>,
    // Value stream.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_channel: Signal<In, Word>,
    pub in_y: Signal<In, Word>,
    pub in_x: Signal<In, Word>,
    pub in_value: Signal<In, Word>,
    /// The pixels `in_value` sums (1 ..= out_lanes); read only when
    /// streaming (a port in every configuration, so that a block holding
    /// several predictors can drive it through one index).
    pub in_pixels: Signal<In, Word>,
    // Status.
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub oversize: Signal<Out, Bit>,
    /// The sum memory is clean (always, without streaming): a streaming
    /// predictor clears it after reset, after a run that left regions
    /// incomplete and after a `start` that cut a run short, and takes no
    /// value meanwhile.
    pub clean: Signal<Out, Bit>,
    // Mask read port (one cycle of latency).
    // Every write of the mask memory, mirrored (for a top that keeps the
    // mask in its own buffers): enable, pitched address, bit.
    pub mask_wr_en: Signal<Out, Bit>,
    pub mask_wr_addr: Signal<Out, Word>,
    pub mask_wr_bit: Signal<Out, Bit>,
    region_log2: Constant<Word>,
    region_log2_x2: Constant<Word>,
    region_m1: Constant<Word>,
    mask_words: Constant<Word>,
    max_width: Constant<Word>,
    mask_pitch_log2: Constant<Word>,
    /// P_M, the mask row pitch.
    mask_pitch: Constant<Word>,
    operand_mask: Constant<Word>,
    sum_mask: Constant<Word>,
    one: Constant<Word>,
    zero: Constant<Word>,
    stream: Constant<Bit>,
    sum_bits: Constant<Word>,
    /// The stored count's bits.
    count_mask: Constant<Word>,
    /// R * R, the pixels of a region away from the bottom and right edges.
    region_pixels: Constant<Word>,
    // Latched layer.
    c_q: WordReg,
    h_q: WordReg,
    w_q: WordReg,
    t_q: WordReg,
    // SETUP, one-hot over four cycles, and what it derives.
    setup1: Reg<Bit>,
    setup2: Reg<Bit>,
    setup3: Reg<Bit>,
    setup4: Reg<Bit>,
    /// Regions per column (ceil(H/R)) and per row (ceil(W/R)).
    rh_q: WordReg,
    rw_q: WordReg,
    /// Rows of the bottom regions, columns of the right-most regions.
    lr_q: WordReg,
    lc_q: WordReg,
    rhw_q: WordReg,
    total_q: WordReg,
    /// C * RH: mask rows of the layer (C * RH * P_M mask entries).
    crh_q: WordReg,
    /// T * lr, T * lc, T * lr * lc.
    tlr_q: WordReg,
    tlc_q: WordReg,
    tcorner_q: WordReg,
    /// lr * lc, the pixels of the bottom-right region (streaming).
    ncorner_q: WordReg,
    big_q: Reg<Bit>,
    oversize_q: Reg<Bit>,
    // Phases after SETUP.
    clearing: Reg<Bit>,
    clear_addr: WordReg,
    accum: Reg<Bit>,
    finishing: Reg<Bit>,
    sweeping: Reg<Bit>,
    done_q: Reg<Bit>,
    // Accumulation pipeline: S0 (accepted value), S1 (sum read in flight).
    s0_valid: Reg<Bit>,
    /// The region's row start in the sums, c * RH * RW + ry * RW
    /// (streaming: (c * RH + ry) * P_M), multiplied as the value is
    /// accepted so S1 only adds rx before the sums' read.
    s0_base: WordReg,
    s0_ry: WordReg,
    s0_rx: WordReg,
    s0_v: WordReg,
    s0_k: WordReg,
    s1_valid: Reg<Bit>,
    s1_addr: WordReg,
    s1_v: WordReg,
    s1_k: WordReg,
    s1_last_row: Reg<Bit>,
    s1_last_col: Reg<Bit>,
    /// The sum memory's last write, forwarded to a read on the same edge.
    fw_valid: Reg<Bit>,
    fw_addr: WordReg,
    fw_data: WordReg,
    // SWEEP: read counters, and the compare stage.
    sw_addr: WordReg,
    sw_ry: WordReg,
    sw_rx: WordReg,
    /// Mask address of the row being swept: (c * RH + ry) * P_M.
    sw_mrow: WordReg,
    p_valid: Reg<Bit>,
    p_addr: WordReg,
    p_last_row: Reg<Bit>,
    p_last_col: Reg<Bit>,
    p_last: Reg<Bit>,
    /// Streaming: the completed region's sum, compared one cycle later.
    p_sum: WordReg,
    /// Streaming: regions completed in this run; the memory is clean.
    completed_q: WordReg,
    clean_q: Reg<Bit>,
    sums: WordRam,
    /// c * (RH * RW) in ACCUM; C * (RH * RW) in SETUP.
    mul_c: SignedMul,
    /// ry * RW in ACCUM; RH * RW in SETUP.
    mul_y: SignedMul,
    /// T * lr, T * lc, (T * lr) * lc in SETUP.
    mul_t: SignedMul,
    accept: Signal<Local, Bit>,
    in_layer: Signal<Local, Bit>,
    addr: Signal<Local, Word>,
    old_sum: Signal<Local, Word>,
    new_sum: Signal<Local, Word>,
    too_big: Signal<Local, Bit>,
    drained: Signal<Local, Bit>,
    t_n: Signal<Local, Word>,
    old_count: Signal<Local, Word>,
    new_count: Signal<Local, Word>,
    /// Streaming: the pixels of the region in the write-back stage.
    n_target: Signal<Local, Word>,
    complete: Signal<Local, Bit>,
    clean_now: Signal<Local, Bit>,
    /// A run is under way (SETUP, ACCUM or the drain after `finish`).
    running: Signal<Local, Bit>,
}

impl SensitivityPredictor {
    pub fn new(p: &PredictorParams) -> SensitivityPredictor {
        let words = p.mask_words as usize;
        let (ob, rl) = (p.operand_bits, p.region_log2);
        SensitivityPredictor {
            clock: Default::default(),
            reset: Default::default(),
            channels: Default::default(),
            height: Default::default(),
            width: Default::default(),
            threshold: Default::default(),
            start: Default::default(),
            finish: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_channel: Default::default(),
            in_y: Default::default(),
            in_x: Default::default(),
            in_value: Default::default(),
            in_pixels: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            oversize: Default::default(),
            clean: Default::default(),
            mask_wr_en: Default::default(),
            mask_wr_addr: Default::default(),
            mask_wr_bit: Default::default(),
            region_log2: Constant::new(word(p.region_log2.into())),
            region_log2_x2: Constant::new(word((2 * p.region_log2).into())),
            region_m1: Constant::new(word(i64::from(p.region) - 1)),
            mask_words: Constant::new(word(p.mask_words.into())),
            max_width: Constant::new(word(p.max_width.into())),
            mask_pitch_log2: Constant::new(word(p.mask_pitch_log2.into())),
            mask_pitch: Constant::new(word(1i64 << p.mask_pitch_log2)),
            operand_mask: Constant::new(word(low_mask(p.operand_bits) as i64)),
            sum_mask: Constant::new(word(low_mask(p.sum_bits) as i64)),
            one: Constant::new(word(1)),
            zero: Constant::new(word(0)),
            stream: Constant::new(p.stream),
            sum_bits: Constant::new(word(p.sum_bits.into())),
            count_mask: Constant::new(word(low_mask(p.stored_count_bits) as i64)),
            region_pixels: Constant::new(word(i64::from(p.region) * i64::from(p.region))),
            c_q: WordReg::unsigned(PORT_BITS),
            h_q: WordReg::unsigned(PORT_BITS),
            w_q: WordReg::unsigned(PORT_BITS),
            t_q: WordReg::unsigned(PORT_BITS),
            setup1: Default::default(),
            setup2: Default::default(),
            setup3: Default::default(),
            setup4: Default::default(),
            rh_q: WordReg::unsigned(PORT_BITS),
            rw_q: WordReg::unsigned(PORT_BITS),
            lr_q: WordReg::unsigned(rl + 1),
            lc_q: WordReg::unsigned(rl + 1),
            rhw_q: WordReg::unsigned(2 * ob),
            total_q: WordReg::unsigned(2 * ob),
            crh_q: WordReg::unsigned(2 * ob),
            tlr_q: WordReg::unsigned(PORT_BITS + rl),
            tlc_q: WordReg::unsigned(PORT_BITS + rl),
            tcorner_q: WordReg::unsigned(PORT_BITS + 2 * rl),
            ncorner_q: WordReg::unsigned(p.count_bits),
            big_q: Default::default(),
            oversize_q: Default::default(),
            clearing: Default::default(),
            clear_addr: WordReg::unsigned(ob),
            accum: Default::default(),
            finishing: Default::default(),
            sweeping: Default::default(),
            done_q: Default::default(),
            s0_valid: Default::default(),
            s0_base: WordReg::unsigned(ob),
            s0_ry: WordReg::unsigned(ob),
            s0_rx: WordReg::unsigned(ob),
            s0_v: WordReg::unsigned(p.value_bits),
            s0_k: WordReg::unsigned(p.count_bits),
            s1_valid: Default::default(),
            s1_addr: WordReg::unsigned(ob),
            s1_v: WordReg::unsigned(p.value_bits),
            s1_k: WordReg::unsigned(p.count_bits),
            s1_last_row: Default::default(),
            s1_last_col: Default::default(),
            fw_valid: Default::default(),
            fw_addr: WordReg::unsigned(ob),
            fw_data: WordReg::unsigned(p.entry_bits()),
            sw_addr: WordReg::unsigned(ob),
            sw_ry: WordReg::unsigned(ob),
            sw_rx: WordReg::unsigned(ob),
            sw_mrow: WordReg::unsigned(ob),
            p_valid: Default::default(),
            p_addr: WordReg::unsigned(ob),
            p_last_row: Default::default(),
            p_last_col: Default::default(),
            p_last: Default::default(),
            p_sum: WordReg::unsigned(p.sum_bits),
            completed_q: WordReg::unsigned(ob),
            clean_q: Default::default(),
            // Streaming: {count, sum} per entry.
            sums: WordRam::new(words, p.entry_bits()),
            // Operands are non-negative: one more bit for the signed `a`.
            mul_c: SignedMul::new(p.operand_bits + 1, p.operand_bits),
            mul_y: SignedMul::new(p.operand_bits + 1, p.operand_bits),
            // T (16 bits) or T * lr (16 + log2 R bits) by lr or lc (<= R);
            // at least 2 bits for b (a 1-bit b leaves the leaf's 3a unused).
            mul_t: SignedMul::new(16 + p.region_log2 + 1, (p.region_log2 + 1).max(2)),
            accept: Default::default(),
            in_layer: Default::default(),
            addr: Default::default(),
            old_sum: Default::default(),
            new_sum: Default::default(),
            too_big: Default::default(),
            drained: Default::default(),
            t_n: Default::default(),
            old_count: Default::default(),
            new_count: Default::default(),
            n_target: Default::default(),
            complete: Default::default(),
            clean_now: Default::default(),
            running: Default::default(),
        }
    }
}

impl Logic for SensitivityPredictor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            c_q,
            h_q,
            w_q,
            t_q,
            setup1,
            setup2,
            setup3,
            setup4,
            rh_q,
            rw_q,
            lr_q,
            lc_q,
            rhw_q,
            total_q,
            crh_q,
            tlr_q,
            tlc_q,
            tcorner_q,
            big_q,
            oversize_q,
            clearing,
            clear_addr,
            accum,
            finishing,
            sweeping,
            done_q,
            s0_valid,
            s0_base,
            s0_ry,
            s0_rx,
            s0_v,
            s1_valid,
            s1_addr,
            s1_v,
            fw_valid,
            fw_addr,
            fw_data,
            sw_addr,
            sw_ry,
            sw_rx,
            sw_mrow,
            p_valid,
            p_addr,
            p_last_row,
            p_last_col,
            p_last,
            ncorner_q,
            s0_k,
            s1_k,
            s1_last_row,
            s1_last_col,
            p_sum,
            completed_q,
            clean_q
        );
        self.c_q.reset.next = self.reset.val();
        self.h_q.reset.next = self.reset.val();
        self.w_q.reset.next = self.reset.val();
        self.t_q.reset.next = self.reset.val();
        self.setup1.reset.next = self.reset.val();
        self.setup2.reset.next = self.reset.val();
        self.setup3.reset.next = self.reset.val();
        self.setup4.reset.next = self.reset.val();
        self.rh_q.reset.next = self.reset.val();
        self.rw_q.reset.next = self.reset.val();
        self.lr_q.reset.next = self.reset.val();
        self.lc_q.reset.next = self.reset.val();
        self.rhw_q.reset.next = self.reset.val();
        self.total_q.reset.next = self.reset.val();
        self.crh_q.reset.next = self.reset.val();
        self.tlr_q.reset.next = self.reset.val();
        self.tlc_q.reset.next = self.reset.val();
        self.tcorner_q.reset.next = self.reset.val();
        self.big_q.reset.next = self.reset.val();
        self.oversize_q.reset.next = self.reset.val();
        self.clearing.reset.next = self.reset.val();
        self.clear_addr.reset.next = self.reset.val();
        self.accum.reset.next = self.reset.val();
        self.finishing.reset.next = self.reset.val();
        self.sweeping.reset.next = self.reset.val();
        self.done_q.reset.next = self.reset.val();
        self.s0_valid.reset.next = self.reset.val();
        self.s0_base.reset.next = self.reset.val();
        self.s0_ry.reset.next = self.reset.val();
        self.s0_rx.reset.next = self.reset.val();
        self.s0_v.reset.next = self.reset.val();
        self.s1_valid.reset.next = self.reset.val();
        self.s1_addr.reset.next = self.reset.val();
        self.s1_v.reset.next = self.reset.val();
        self.fw_valid.reset.next = self.reset.val();
        self.fw_addr.reset.next = self.reset.val();
        self.fw_data.reset.next = self.reset.val();
        self.sw_addr.reset.next = self.reset.val();
        self.sw_ry.reset.next = self.reset.val();
        self.sw_rx.reset.next = self.reset.val();
        self.sw_mrow.reset.next = self.reset.val();
        self.p_valid.reset.next = self.reset.val();
        self.p_addr.reset.next = self.reset.val();
        self.p_last_row.reset.next = self.reset.val();
        self.p_last_col.reset.next = self.reset.val();
        self.p_last.reset.next = self.reset.val();
        self.ncorner_q.reset.next = self.reset.val();
        self.s0_k.reset.next = self.reset.val();
        self.s1_k.reset.next = self.reset.val();
        self.s1_last_row.reset.next = self.reset.val();
        self.s1_last_col.reset.next = self.reset.val();
        self.p_sum.reset.next = self.reset.val();
        self.completed_q.reset.next = self.reset.val();
        // Cleared by reset: a streaming predictor starts by clearing its sums.
        self.clean_q.reset.next = self.reset.val();
        self.sums.clock.next = self.clock.val();

        // Status and the input handshake (`start` wins over a value).
        self.clean_now.next = self.clean_q.q.val() | !self.stream.val();
        self.busy.next = self.setup1.q.val()
            | self.setup2.q.val()
            | self.setup3.q.val()
            | self.setup4.q.val()
            | self.clearing.q.val()
            | self.finishing.q.val()
            | self.sweeping.q.val()
            | self.p_valid.q.val()
            | !self.clean_now.val();
        self.done.next = self.done_q.q.val();
        self.oversize.next = self.oversize_q.q.val();
        self.clean.next = self.clean_now.val();
        self.in_ready.next =
            self.accum.q.val() & !self.finishing.q.val() & !self.start.val() & self.clean_now.val();
        self.accept.next = self.in_valid.val()
            & self.accum.q.val()
            & !self.finishing.q.val()
            & !self.start.val()
            & self.clean_now.val();
        self.running.next = self.setup1.q.val()
            | self.setup2.q.val()
            | self.setup3.q.val()
            | self.setup4.q.val()
            | self.accum.q.val()
            | self.finishing.q.val();

        // Multipliers: their inputs are plain muxes of registers and
        // inputs, so the kernel splits into acyclic parts (no UNOPTFLAT).
        // In ACCUM they take the offered value's channel and region row.
        self.mul_c.a.next = self.in_channel.val() & self.operand_mask.val();
        if self.setup2.q.val() | self.setup3.q.val() {
            self.mul_c.a.next = self.c_q.q.val() & self.operand_mask.val();
        }
        self.mul_c.b.next = self.rhw_q.q.val() & self.operand_mask.val();
        // Streaming addresses the sums like the mask: c * RH.
        if self.setup2.q.val() | (self.stream.val() & !self.setup3.q.val()) {
            self.mul_c.b.next = self.rh_q.q.val() & self.operand_mask.val();
        }
        self.mul_y.a.next = (self.in_y.val() >> self.region_log2.val()) & self.operand_mask.val();
        if self.setup2.q.val() {
            self.mul_y.a.next = self.rh_q.q.val() & self.operand_mask.val();
        }
        self.mul_y.b.next = self.rw_q.q.val() & self.operand_mask.val();
        if self.stream.val() & self.setup3.q.val() {
            self.mul_y.a.next = self.lr_q.q.val();
            self.mul_y.b.next = self.lc_q.q.val();
        }
        self.mul_t.a.next = self.t_q.q.val();
        if self.setup4.q.val() {
            self.mul_t.a.next = self.tlr_q.q.val();
        }
        self.mul_t.b.next = self.lc_q.q.val();
        if self.setup2.q.val() {
            self.mul_t.b.next = self.lr_q.q.val();
        }

        // SETUP: the region grid of the latched layer.
        self.setup1.d.next = false;
        self.setup2.d.next = self.setup1.q.val();
        self.setup3.d.next = self.setup2.q.val();
        self.setup4.d.next = self.setup3.q.val();
        if self.setup1.q.val() {
            self.rh_q.d.next = (self.h_q.q.val() + self.region_m1.val()) >> self.region_log2.val();
            self.rw_q.d.next = (self.w_q.q.val() + self.region_m1.val()) >> self.region_log2.val();
            self.lr_q.d.next =
                ((self.h_q.q.val() - self.one.val()) & self.region_m1.val()) + self.one.val();
            self.lc_q.d.next =
                ((self.w_q.q.val() - self.one.val()) & self.region_m1.val()) + self.one.val();
        }
        if self.setup2.q.val() {
            self.rhw_q.d.next = self.mul_y.p.val();
            self.crh_q.d.next = self.mul_c.p.val();
            self.tlr_q.d.next = self.mul_t.p.val();
            self.big_q.d.next = (self.rh_q.q.val() > self.mask_words.val())
                | (self.rw_q.q.val() > self.mask_words.val())
                | (self.c_q.q.val() > self.mask_words.val())
                | (self.w_q.q.val() > self.max_width.val());
        }
        if self.setup3.q.val() {
            self.ncorner_q.d.next = self.mul_y.p.val();
            self.total_q.d.next = self.mul_c.p.val();
            self.tlc_q.d.next = self.mul_t.p.val();
            // C * RH * P_M mask entries (C, RH <= mask_words here, so the
            // shifted product fits the word).
            self.big_q.d.next = self.big_q.q.val()
                | (self.rhw_q.q.val() > self.mask_words.val())
                | ((self.crh_q.q.val() << self.mask_pitch_log2.val()) > self.mask_words.val());
        }
        self.too_big.next = self.big_q.q.val() | (self.total_q.q.val() > self.mask_words.val());
        if self.setup4.q.val() {
            self.tcorner_q.d.next = self.mul_t.p.val();
            self.oversize_q.d.next = self.too_big.val();
            if !self.stream.val() {
                self.clear_addr.d.next = self.zero.val();
            }
            if self.too_big.val() | (self.total_q.q.val() == self.zero.val()) | self.stream.val() {
                self.accum.d.next = true;
            } else {
                self.clearing.d.next = true;
            }
        }

        // CLEAR: one sum per cycle.
        if self.clearing.q.val() {
            self.clear_addr.d.next =
                (self.clear_addr.q.val() + self.one.val()) & self.operand_mask.val();
            if self.clear_addr.q.val() + self.one.val() == self.total_q.q.val() {
                self.clearing.d.next = false;
                self.accum.d.next = true;
            }
        }

        // Streaming: the whole memory cleared, one entry per cycle, whenever
        // it may hold anything (after reset, an incomplete run, a cut run).
        if !self.clean_now.val() {
            self.clear_addr.d.next =
                (self.clear_addr.q.val() + self.one.val()) & self.operand_mask.val();
            if self.clear_addr.q.val() + self.one.val() == self.mask_words.val() {
                self.clean_q.d.next = true;
            }
        }

        // ACCUM, S0: the accepted value and its region.
        self.in_layer.next = (self.in_channel.val() < self.c_q.q.val())
            & (self.in_y.val() < self.h_q.q.val())
            & (self.in_x.val() < self.w_q.q.val());
        self.s0_valid.d.next = self.accept.val() & self.in_layer.val() & !self.oversize_q.q.val();
        self.s0_base.d.next = (self.mul_c.p.val() + self.mul_y.p.val()) & self.operand_mask.val();
        if self.stream.val() {
            self.s0_base.d.next = ((self.mul_c.p.val()
                + (self.in_y.val() >> self.region_log2.val()))
                << self.mask_pitch_log2.val())
                & self.operand_mask.val();
        }
        self.s0_ry.d.next = self.in_y.val() >> self.region_log2.val();
        self.s0_rx.d.next = self.in_x.val() >> self.region_log2.val();
        self.s0_v.d.next = self.in_value.val();
        self.s0_k.d.next = self.in_pixels.val();

        // S1: address (c * RH + ry) * RW + rx, and the sum's read.
        // (Streaming: the mask's own address (c * RH + ry) * P_M + rx.)
        self.addr.next = (self.s0_base.q.val() + self.s0_rx.q.val()) & self.operand_mask.val();
        self.s1_valid.d.next = self.s0_valid.q.val();
        self.s1_addr.d.next = self.addr.val();
        self.s1_v.d.next = self.s0_v.q.val();
        self.s1_k.d.next = self.s0_k.q.val();
        self.s1_last_row.d.next = self.s0_ry.q.val() + self.one.val() == self.rh_q.q.val();
        self.s1_last_col.d.next = self.s0_rx.q.val() + self.one.val() == self.rw_q.q.val();
        self.sums.rd_en.next = true;
        self.sums.rd_addr.next = self.addr.val();
        if self.sweeping.q.val() {
            self.sums.rd_addr.next = self.sw_addr.q.val();
        }

        // Write-back, with the previous write forwarded (it happened on the
        // edge that sampled this read, which therefore missed it).
        self.old_sum.next = self.sums.rd_data.val();
        if self.fw_valid.q.val() & (self.fw_addr.q.val() == self.s1_addr.q.val()) {
            self.old_sum.next = self.fw_data.q.val();
        }
        self.new_sum.next = (self.old_sum.val() + self.s1_v.q.val()) & self.sum_mask.val();
        // Streaming: the entry is {count, sum}; the region is complete when
        // its count reaches its pixels (R * R, fewer at the bottom and right
        // edges), and then its entry goes back to zero.
        self.old_count.next = (self.old_sum.val() >> self.sum_bits.val()) & self.count_mask.val();
        self.new_count.next = self.old_count.val() + self.s1_k.q.val();
        self.n_target.next = self.region_pixels.val();
        if self.s1_last_row.q.val() {
            self.n_target.next = self.lr_q.q.val() << self.region_log2.val();
        }
        if self.s1_last_col.q.val() {
            self.n_target.next = self.lc_q.q.val() << self.region_log2.val();
        }
        if self.s1_last_row.q.val() & self.s1_last_col.q.val() {
            self.n_target.next = self.ncorner_q.q.val();
        }
        self.complete.next = self.new_count.val() == self.n_target.val();
        self.sums.wr_en.next =
            self.s1_valid.q.val() | self.clearing.q.val() | !self.clean_now.val();
        self.sums.wr_addr.next = self.s1_addr.q.val();
        self.sums.wr_data.next = self.new_sum.val();
        if self.stream.val() {
            self.sums.wr_data.next =
                self.new_sum.val() | (self.new_count.val() << self.sum_bits.val());
            if self.complete.val() {
                self.sums.wr_data.next = self.zero.val();
            }
            if self.s1_valid.q.val() & self.complete.val() {
                self.completed_q.d.next =
                    (self.completed_q.q.val() + self.one.val()) & self.operand_mask.val();
            }
        }
        if self.clearing.q.val() | !self.clean_now.val() {
            self.sums.wr_addr.next = self.clear_addr.q.val();
            self.sums.wr_data.next = self.zero.val();
        }
        // The write, kept for the next read (`fw_*`).
        self.fw_valid.d.next = self.sums.wr_en.val();
        self.fw_addr.d.next = self.sums.wr_addr.val();
        self.fw_data.d.next = self.sums.wr_data.val();

        // `finish` closes the input; SWEEP starts once the pipeline is empty.
        if self.finish.val()
            & (self.setup1.q.val()
                | self.setup2.q.val()
                | self.setup3.q.val()
                | self.setup4.q.val()
                | self.clearing.q.val()
                | self.accum.q.val())
        {
            self.finishing.d.next = true;
        }
        self.drained.next = self.accum.q.val()
            & self.finishing.q.val()
            & !self.s0_valid.q.val()
            & !self.s1_valid.q.val();
        if self.drained.val() {
            self.accum.d.next = false;
            self.finishing.d.next = false;
            // Streaming: every mask bit is written by now; a run that left
            // regions incomplete leaves sums behind, cleared before the next.
            if self.stream.val() {
                self.done_q.d.next = true;
                if !self.oversize_q.q.val() & (self.completed_q.q.val() != self.total_q.q.val()) {
                    self.clean_q.d.next = false;
                    self.clear_addr.d.next = self.zero.val();
                }
            }
            self.sw_addr.d.next = self.zero.val();
            self.sw_ry.d.next = self.zero.val();
            self.sw_rx.d.next = self.zero.val();
            self.sw_mrow.d.next = self.zero.val();
            if self.oversize_q.q.val() | (self.total_q.q.val() == self.zero.val()) {
                self.done_q.d.next = true;
            } else if !self.stream.val() {
                self.sweeping.d.next = true;
            }
        }

        // SWEEP: read sums in address order (channel, ry, rx).
        self.p_valid.d.next = self.sweeping.q.val();
        self.p_addr.d.next = (self.sw_mrow.q.val() + self.sw_rx.q.val()) & self.operand_mask.val();
        self.p_last_row.d.next = self.sw_ry.q.val() + self.one.val() == self.rh_q.q.val();
        self.p_last_col.d.next = self.sw_rx.q.val() + self.one.val() == self.rw_q.q.val();
        self.p_last.d.next = self.sw_addr.q.val() + self.one.val() == self.total_q.q.val();
        if self.sweeping.q.val() {
            self.sw_addr.d.next = (self.sw_addr.q.val() + self.one.val()) & self.operand_mask.val();
            self.sw_rx.d.next = (self.sw_rx.q.val() + self.one.val()) & self.operand_mask.val();
            if self.sw_rx.q.val() + self.one.val() == self.rw_q.q.val() {
                self.sw_rx.d.next = self.zero.val();
                self.sw_mrow.d.next =
                    (self.sw_mrow.q.val() + self.mask_pitch.val()) & self.operand_mask.val();
                self.sw_ry.d.next = (self.sw_ry.q.val() + self.one.val()) & self.operand_mask.val();
                if self.sw_ry.q.val() + self.one.val() == self.rh_q.q.val() {
                    self.sw_ry.d.next = self.zero.val();
                }
            }
            if self.sw_addr.q.val() + self.one.val() == self.total_q.q.val() {
                self.sweeping.d.next = false;
            }
        }

        // Compare stage: mask = sum >= T * n, n by the region's edges.
        self.t_n.next = self.t_q.q.val() << self.region_log2_x2.val();
        if self.p_last_row.q.val() {
            self.t_n.next = self.tlr_q.q.val() << self.region_log2.val();
        }
        if self.p_last_col.q.val() {
            self.t_n.next = self.tlc_q.q.val() << self.region_log2.val();
        }
        if self.p_last_row.q.val() & self.p_last_col.q.val() {
            self.t_n.next = self.tcorner_q.q.val();
        }
        if self.stream.val() {
            self.p_valid.d.next = self.s1_valid.q.val() & self.complete.val();
            self.p_addr.d.next = self.s1_addr.q.val();
            self.p_last_row.d.next = self.s1_last_row.q.val();
            self.p_last_col.d.next = self.s1_last_col.q.val();
        }
        self.p_sum.d.next = self.new_sum.val();
        self.mask_wr_en.next = self.p_valid.q.val();
        self.mask_wr_addr.next = self.p_addr.q.val();
        self.mask_wr_bit.next = self.sums.rd_data.val() >= self.t_n.val();
        if self.stream.val() {
            self.mask_wr_bit.next = self.p_sum.q.val() >= self.t_n.val();
        }
        if self.p_valid.q.val() & self.p_last.q.val() & !self.stream.val() {
            self.done_q.d.next = true;
        }

        // `start` restarts everything and latches the layer.
        if self.start.val() {
            if self.stream.val() & self.running.val() {
                self.clean_q.d.next = false;
                self.clear_addr.d.next = self.zero.val();
            }
            self.completed_q.d.next = self.zero.val();
            self.c_q.d.next = self.channels.val();
            self.h_q.d.next = self.height.val();
            self.w_q.d.next = self.width.val();
            self.t_q.d.next = self.threshold.val();
            self.setup1.d.next = true;
            self.setup2.d.next = false;
            self.setup3.d.next = false;
            self.setup4.d.next = false;
            self.big_q.d.next = false;
            self.oversize_q.d.next = false;
            self.clearing.d.next = false;
            self.accum.d.next = false;
            self.finishing.d.next = false;
            self.sweeping.d.next = false;
            self.done_q.d.next = false;
            self.s0_valid.d.next = false;
            self.s1_valid.d.next = false;
            self.fw_valid.d.next = false;
            self.p_valid.d.next = false;
        }
    }
}

/// The predictor alone (top `drq_predictor`), with plain ports:
/// `channels`, `height`, `width`, `threshold`, `in_channel`, `in_y`, `in_x`
/// 16 bits, `in_value` A_HI + log2(out_lanes) bits; the mask leaves through `mask_wr_en`,
/// `mask_wr_addr` (clog2(mask_words) bits) and `mask_wr_bit`; `in_pixels`
/// (2 log2 R + 1 bits) counts the pixels of a value (streaming only).
pub fn predictor_design(cfg: &AccelConfig) -> crate::shell::Design {
    use crate::shell::{clock_and_reset, design, scalar, Dir, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let mut ports = Vec::from(clock_and_reset());
    ports.extend([
        scalar("channels", Input, 16, Zero),
        scalar("height", Input, 16, Zero),
        scalar("width", Input, 16, Zero),
        scalar("threshold", Input, 16, Zero),
        scalar("start", Input, 1, Flag),
        scalar("finish", Input, 1, Flag),
        scalar("in_valid", Input, 1, Flag),
        scalar("in_ready", Output, 1, Flag),
        scalar("in_channel", Input, 16, Zero),
        scalar("in_y", Input, 16, Zero),
        scalar("in_x", Input, 16, Zero),
        scalar(
            "in_value",
            Input,
            PredictorParams::new(cfg).value_bits,
            Zero,
        ),
        scalar("busy", Output, 1, Flag),
        scalar("done", Output, 1, Flag),
        scalar("oversize", Output, 1, Flag),
        scalar("clean", Output, 1, Flag),
        scalar("mask_wr_en", Output, 1, Flag),
        scalar("mask_wr_addr", Output, clog2(cfg.mask_words), Zero),
        scalar("mask_wr_bit", Output, 1, Flag),
    ]);
    let params = PredictorParams::new(cfg);
    // The pixels of a value: read only by the streaming predictor.
    ports.push(scalar("in_pixels", Input, params.count_bits, Zero));
    let mut block = SensitivityPredictor::new(&params);
    design(
        "drq_predictor",
        "drq_predictor_core",
        cfg,
        ports,
        &mut block,
    )
}
