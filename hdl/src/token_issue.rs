//! The controller's token issue (stages S2 and S3 of `docs/controller.md`):
//! takes a step from the loop nest when it frees up, decides its mode from
//! the mask bits of the rows it reads, makes q per row and w_lo per column
//! from the buffers' data, registers them (S3) and offers the step's tokens
//! to the array: a HIGH step in the order of the token ROM (`TokenRom`,
//! `TokenFormat`'s HIGH tokens), a LOW step as one token. Everything holds
//! while `in_ready` is low.

use crate::controller::{ControllerParams, TokenRom};
use crate::leaf::{konst, vec_of};
use crate::leaf::{low_mask as mask, Reg, Word, WordReg};
use rust_hdl::prelude::*;

/// S2 and S3 of the region controller. The token outputs are functions of
/// registers (S3 and the registered ROM); `advance` (S2 takes the loop
/// nest's step, whose reads are issued in the same cycle) follows
/// `in_ready`.
#[derive(LogicBlock)]
pub struct TokenIssue {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Latch the shifts and drop every step.
    pub start: Signal<In, Bit>,
    /// The layer's s and sw, latched at `start`.
    pub low_shift: Signal<In, Word>,
    pub w_low_shift: Signal<In, Word>,
    // The loop nest's next step (S1), taken with `advance`.
    pub step_valid: Signal<In, Bit>,
    pub step_row_read: Vec<Signal<In, Bit>>,
    pub step_col_read: Vec<Signal<In, Bit>>,
    pub step_tile_last: Signal<In, Bit>,
    pub step_layer_last: Signal<In, Bit>,
    pub step_c: Signal<In, Word>,
    pub step_k: Signal<In, Word>,
    pub step_tile: Signal<In, Word>,
    pub step_ct: Signal<In, Word>,
    pub step_oh0: Signal<In, Word>,
    pub step_ow0: Signal<In, Word>,
    pub step_ry: Signal<In, Word>,
    pub step_rx: Signal<In, Word>,
    /// S2 takes the next step in this cycle (its reads are issued now).
    pub advance: Signal<Out, Bit>,
    // The buffers' data of S2's step (one cycle after its reads).
    pub act_data: Vec<Signal<In, Word>>,
    pub mask_bit: Vec<Signal<In, Bit>>,
    pub w_data: Vec<Signal<In, Word>>,
    // Tokens to the array.
    pub in_valid: Signal<Out, Bit>,
    pub in_ready: Signal<In, Bit>,
    pub in_first: Signal<Out, Bit>,
    pub in_commit: Signal<Out, Bit>,
    pub in_last: Signal<Out, Bit>,
    pub in_hshift: Signal<Out, Word>,
    pub in_digit: Vec<Signal<Out, Word>>,
    pub in_sens: Vec<Signal<Out, Bit>>,
    pub in_w_digit: Vec<Signal<Out, Word>>,
    pub in_w_low: Vec<Signal<Out, Word>>,
    pub low_shift_out: Signal<Out, Word>,
    pub tile_channel: Signal<Out, Word>,
    pub tile_oh0: Signal<Out, Word>,
    pub tile_ow0: Signal<Out, Word>,
    /// The offered token is the layer's last.
    pub layer_last: Signal<Out, Bit>,
    // Waveform names of docs/spec.md §6 (the step whose tokens are offered).
    pub drq_mode_high: Signal<Out, Bit>,
    pub drq_channel: Signal<Out, Word>,
    pub drq_region_y: Signal<Out, Word>,
    pub drq_region_x: Signal<Out, Word>,
    pub drq_k_step: Signal<Out, Word>,
    pub drq_tile: Signal<Out, Word>,
    pub drq_token_shift: Signal<Out, Word>,
    // Constants.
    zero: Constant<Word>,
    one: Constant<Word>,
    drq: Constant<Bit>,
    shift_mask: Constant<Word>,
    small_mask: Constant<Word>,
    a_mask: Constant<Word>,
    a_sum_mask: Constant<Word>,
    q_max: Constant<Word>,
    q_over: Constant<Word>,
    digit_mask: Constant<Word>,
    w_top_mask: Constant<Word>,
    w_low_mask: Constant<Word>,
    wb_mask: Constant<Word>,
    wb_sign: Constant<Word>,
    w_lo_min: Constant<Word>,
    w_lo_max: Constant<Word>,
    // Latched shifts and their constants.
    ls_q: Reg<Word>,
    wls_q: Reg<Word>,
    /// Rounding terms 2^(s-1), 2^(sw-1) (0 for a zero shift).
    rnd_a_q: Reg<Word>,
    rnd_w_q: Reg<Word>,
    /// Sign fill of an arithmetic shift right by sw in W_HI + 1 bits.
    w_fill_q: Reg<Word>,
    /// s + sw.
    lsum_q: Reg<Word>,
    // S2: the step whose tokens are offered (its data on the read ports).
    s2_valid: Reg<Bit>,
    s2_rd: Vec<Reg<Bit>>,
    s2_w_rd: Vec<Reg<Bit>>,
    s2_tile_last: Reg<Bit>,
    s2_layer_last: Reg<Bit>,
    s2_c: Reg<Word>,
    s2_k: Reg<Word>,
    s2_tile: Reg<Word>,
    s2_ct: Reg<Word>,
    s2_oh0: Reg<Word>,
    s2_ow0: Reg<Word>,
    s2_ry: Reg<Word>,
    s2_rx: Reg<Word>,
    // S3: the step whose tokens are offered, its buffer data registered
    // (so no path runs from a block RAM's output into the array).
    s3_valid: Reg<Bit>,
    s3_tile_last: Reg<Bit>,
    s3_layer_last: Reg<Bit>,
    s3_c: Reg<Word>,
    s3_k: Reg<Word>,
    s3_tile: Reg<Word>,
    s3_ct: Reg<Word>,
    s3_oh0: Reg<Word>,
    s3_ow0: Reg<Word>,
    s3_ry: Reg<Word>,
    s3_rx: Reg<Word>,
    /// Some row of the step is sensitive: a HIGH step.
    s3_high: Reg<Bit>,
    /// Per row: the activation (0 unless read), its low-precision code q,
    /// its sensitivity.
    s3_a: Vec<WordReg>,
    s3_sens: Vec<Reg<Bit>>,
    /// Per column: the weight in W_HI + 1 bits and w_lo.
    s3_w: Vec<WordReg>,
    /// w_lo of S3's weight, made in S2 from the weight read (registered
    /// with it, so S3's weight does not run through the rounding into the
    /// array in one cycle: the routed 16x16's critical path at seed 3).
    s3_wlo: Vec<WordReg>,
    tok: Reg<Word>,
    rom: TokenRom,
    // Locals.
    high: Signal<Local, Bit>,
    any_sens: Signal<Local, Bit>,
    adv3: Signal<Local, Bit>,
    step_end: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    adv2: Signal<Local, Bit>,
    next_tok: Signal<Local, Word>,
    a: Vec<Signal<Local, Word>>,
    sens: Vec<Signal<Local, Bit>>,
    q_raw: Vec<Signal<Local, Word>>,
    q: Vec<Signal<Local, Word>>,
    wv: Vec<Signal<Local, Word>>,
    w_sum: Vec<Signal<Local, Word>>,
    w_neg: Vec<Signal<Local, Bit>>,
    w_sh: Vec<Signal<Local, Word>>,
    w_ext: Vec<Signal<Local, Word>>,
    w_top_bits: Vec<Signal<Local, Word>>,
    w_lo: Vec<Signal<Local, Word>>,
    w_digit_mask: Signal<Local, Word>,
}

impl TokenIssue {
    pub fn new(p: &ControllerParams) -> TokenIssue {
        let (rows, cols) = (p.rows, p.cols);
        assert!((1..=64).contains(&rows) && (1..=64).contains(&cols));
        let wb = p.w_hi + 1; // w + rw fits in W_HI + 1 signed bits
        TokenIssue {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            low_shift: Default::default(),
            w_low_shift: Default::default(),
            step_valid: Default::default(),
            step_row_read: vec_of(rows),
            step_col_read: vec_of(cols),
            step_tile_last: Default::default(),
            step_layer_last: Default::default(),
            step_c: Default::default(),
            step_k: Default::default(),
            step_tile: Default::default(),
            step_ct: Default::default(),
            step_oh0: Default::default(),
            step_ow0: Default::default(),
            step_ry: Default::default(),
            step_rx: Default::default(),
            advance: Default::default(),
            act_data: vec_of(rows),
            mask_bit: vec_of(rows),
            w_data: vec_of(cols),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_first: Default::default(),
            in_commit: Default::default(),
            in_last: Default::default(),
            in_hshift: Default::default(),
            in_digit: vec_of(rows),
            in_sens: vec_of(rows),
            in_w_digit: vec_of(cols),
            in_w_low: vec_of(cols),
            low_shift_out: Default::default(),
            tile_channel: Default::default(),
            tile_oh0: Default::default(),
            tile_ow0: Default::default(),
            layer_last: Default::default(),
            drq_mode_high: Default::default(),
            drq_channel: Default::default(),
            drq_region_y: Default::default(),
            drq_region_x: Default::default(),
            drq_k_step: Default::default(),
            drq_tile: Default::default(),
            drq_token_shift: Default::default(),
            zero: konst(0),
            one: konst(1),
            drq: Constant::new(p.drq),
            shift_mask: konst(mask(p.shift_bits)),
            small_mask: konst(mask(8)),
            a_mask: konst(mask(p.a_hi)),
            a_sum_mask: konst(mask(p.a_hi + 1)),
            q_max: konst(mask(p.a_lo)),
            q_over: konst(mask(p.a_hi + 1) & !mask(p.a_lo)),
            digit_mask: konst(mask(p.digit_bits)),
            w_top_mask: konst(mask(p.w_digit_bits)),
            w_low_mask: konst(mask(p.w_lo)),
            wb_mask: konst(mask(wb)),
            wb_sign: konst(1 << p.w_hi),
            w_lo_min: konst(mask(wb) & !mask(p.w_lo - 1)),
            w_lo_max: konst(mask(p.w_lo - 1)),
            ls_q: Default::default(),
            wls_q: Default::default(),
            rnd_a_q: Default::default(),
            rnd_w_q: Default::default(),
            w_fill_q: Default::default(),
            lsum_q: Default::default(),
            s2_valid: Default::default(),
            s2_rd: vec_of(rows),
            s2_w_rd: vec_of(cols),
            s2_tile_last: Default::default(),
            s2_layer_last: Default::default(),
            s2_c: Default::default(),
            s2_k: Default::default(),
            s2_tile: Default::default(),
            s2_ct: Default::default(),
            s2_oh0: Default::default(),
            s2_ow0: Default::default(),
            s2_ry: Default::default(),
            s2_rx: Default::default(),
            s3_valid: Default::default(),
            s3_tile_last: Default::default(),
            s3_layer_last: Default::default(),
            s3_c: Default::default(),
            s3_k: Default::default(),
            s3_tile: Default::default(),
            s3_ct: Default::default(),
            s3_oh0: Default::default(),
            s3_ow0: Default::default(),
            s3_ry: Default::default(),
            s3_rx: Default::default(),
            s3_high: Default::default(),
            s3_a: (0..rows).map(|_| WordReg::unsigned(p.a_hi)).collect(),
            s3_sens: vec_of(rows),
            s3_w: (0..cols).map(|_| WordReg::unsigned(wb)).collect(),
            s3_wlo: (0..cols).map(|_| WordReg::unsigned(wb)).collect(),
            tok: Default::default(),
            rom: TokenRom::new(p.tokens.clone()),
            high: Default::default(),
            any_sens: Default::default(),
            adv3: Default::default(),
            step_end: Default::default(),
            accept: Default::default(),
            adv2: Default::default(),
            next_tok: Default::default(),
            a: vec_of(rows),
            sens: vec_of(rows),
            q_raw: vec_of(rows),
            q: vec_of(rows),
            wv: vec_of(cols),
            w_sum: vec_of(cols),
            w_neg: vec_of(cols),
            w_sh: vec_of(cols),
            w_ext: vec_of(cols),
            w_top_bits: vec_of(cols),
            w_lo: vec_of(cols),
            w_digit_mask: Default::default(),
        }
    }
    fn rows(&self) -> usize {
        self.act_data.len()
    }
    fn cols(&self) -> usize {
        self.w_data.len()
    }
}

impl Logic for TokenIssue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            ls_q,
            wls_q,
            rnd_a_q,
            rnd_w_q,
            w_fill_q,
            lsum_q,
            s2_valid,
            s2_tile_last,
            s2_layer_last,
            s2_c,
            s2_k,
            s2_tile,
            s2_ct,
            s2_oh0,
            s2_ow0,
            s2_ry,
            s2_rx,
            s3_valid,
            s3_tile_last,
            s3_layer_last,
            s3_c,
            s3_k,
            s3_tile,
            s3_ct,
            s3_oh0,
            s3_ow0,
            s3_ry,
            s3_rx,
            s3_high,
            tok
        );
        self.ls_q.reset.next = self.reset.val();
        self.wls_q.reset.next = self.reset.val();
        self.rnd_a_q.reset.next = self.reset.val();
        self.rnd_w_q.reset.next = self.reset.val();
        self.w_fill_q.reset.next = self.reset.val();
        self.lsum_q.reset.next = self.reset.val();
        self.s2_valid.reset.next = self.reset.val();
        self.s2_tile_last.reset.next = self.reset.val();
        self.s2_layer_last.reset.next = self.reset.val();
        self.s2_c.reset.next = self.reset.val();
        self.s2_k.reset.next = self.reset.val();
        self.s2_tile.reset.next = self.reset.val();
        self.s2_ct.reset.next = self.reset.val();
        self.s2_oh0.reset.next = self.reset.val();
        self.s2_ow0.reset.next = self.reset.val();
        self.s2_ry.reset.next = self.reset.val();
        self.s2_rx.reset.next = self.reset.val();
        self.s3_valid.reset.next = self.reset.val();
        self.s3_tile_last.reset.next = self.reset.val();
        self.s3_layer_last.reset.next = self.reset.val();
        self.s3_c.reset.next = self.reset.val();
        self.s3_k.reset.next = self.reset.val();
        self.s3_tile.reset.next = self.reset.val();
        self.s3_ct.reset.next = self.reset.val();
        self.s3_oh0.reset.next = self.reset.val();
        self.s3_ow0.reset.next = self.reset.val();
        self.s3_ry.reset.next = self.reset.val();
        self.s3_rx.reset.next = self.reset.val();
        self.s3_high.reset.next = self.reset.val();
        self.tok.reset.next = self.reset.val();
        self.rom.clock.next = self.clock.val();
        self.rom.reset.next = self.reset.val();
        for r in 0..self.rows() {
            self.s2_rd[r].clock.next = self.clock.val();
            self.s2_rd[r].reset.next = self.reset.val();
            self.s2_rd[r].d.next = self.s2_rd[r].q.val();
            self.s3_a[r].clock.next = self.clock.val();
            self.s3_a[r].reset.next = self.reset.val();
            self.s3_a[r].d.next = self.s3_a[r].q.val();
            self.s3_sens[r].clock.next = self.clock.val();
            self.s3_sens[r].reset.next = self.reset.val();
            self.s3_sens[r].d.next = self.s3_sens[r].q.val();
        }
        for j in 0..self.cols() {
            self.s2_w_rd[j].clock.next = self.clock.val();
            self.s2_w_rd[j].reset.next = self.reset.val();
            self.s2_w_rd[j].d.next = self.s2_w_rd[j].q.val();
            self.s3_w[j].clock.next = self.clock.val();
            self.s3_w[j].reset.next = self.reset.val();
            self.s3_w[j].d.next = self.s3_w[j].q.val();
            self.s3_wlo[j].clock.next = self.clock.val();
            self.s3_wlo[j].reset.next = self.reset.val();
            self.s3_wlo[j].d.next = self.s3_wlo[j].q.val();
        }

        // ---- Constants of the shifts, recomputed every cycle from the
        // latched registers.
        self.rnd_a_q.d.next =
            ((self.one.val() << self.ls_q.q.val()) >> self.one.val()) & self.a_mask.val();
        self.rnd_w_q.d.next =
            ((self.one.val() << self.wls_q.q.val()) >> self.one.val()) & self.wb_mask.val();
        self.w_fill_q.d.next = self.wb_mask.val() & !(self.wb_mask.val() >> self.wls_q.q.val());
        self.lsum_q.d.next = self.ls_q.q.val() + self.wls_q.q.val();

        // ---- S2: the step whose buffer data is on the read ports; what
        // S3 registers from it.
        self.any_sens.next = false;
        for r in 0..self.rows() {
            self.a[r].next = self.zero.val();
            if self.s2_rd[r].q.val() {
                self.a[r].next = self.act_data[r].val();
            }
            self.sens[r].next = self.s2_rd[r].q.val() & (self.mask_bit[r].val() | !self.drq.val());
            if self.sens[r].val() {
                self.any_sens.next = true;
            }
            // The LOW code is rounded from S3's registered activation (not
            // from the buffer's read port): the block RAM's clock-to-out
            // and the rounding are then in different cycles.
            self.q_raw[r].next = ((self.s3_a[r].q.val() + self.rnd_a_q.q.val())
                & self.a_sum_mask.val())
                >> self.ls_q.q.val();
            // Saturate: any bit above A_LO set means q_raw > 2^A_LO - 1.
            self.q[r].next = self.q_raw[r].val();
            if (self.q_raw[r].val() & self.q_over.val()).any() {
                self.q[r].next = self.q_max.val();
            }
        }
        // ---- S3: the current step's tokens, from registers.
        self.high.next = self.s3_high.q.val();
        for r in 0..self.rows() {
            self.in_digit[r].next = self.q[r].val();
            if self.s3_sens[r].q.val() {
                self.in_digit[r].next =
                    (self.s3_a[r].q.val() >> self.rom.a_shift.val()) & self.digit_mask.val();
            }
            self.in_sens[r].next = self.s3_sens[r].q.val();
        }
        self.w_digit_mask.next = self.w_low_mask.val();
        if self.rom.w_top.val() {
            self.w_digit_mask.next = self.w_top_mask.val();
        }
        for j in 0..self.cols() {
            self.wv[j].next = self.zero.val();
            if self.s2_w_rd[j].q.val() {
                self.wv[j].next = self.w_data[j].val();
            }
            // w_lo = clamp((w + rw) >> sw) in W_HI + 1 bits, arithmetic
            // shift, of S2's weight: S3 registers it with the weight.
            self.w_sum[j].next = ((self.wv[j].val() & self.wb_mask.val()) + self.rnd_w_q.q.val())
                & self.wb_mask.val();
            self.w_neg[j].next = (self.w_sum[j].val() & self.wb_sign.val()).any();
            self.w_sh[j].next = (self.w_sum[j].val() >> self.wls_q.q.val()) & self.wb_mask.val();
            self.w_ext[j].next = self.w_sh[j].val();
            if self.w_neg[j].val() {
                self.w_ext[j].next = self.w_sh[j].val() | self.w_fill_q.q.val();
            }
            // Clamp to W_LO signed bits: the bits from W_LO - 1 up must be
            // all ones (negative) or all zeros (non-negative).
            self.w_top_bits[j].next = self.w_ext[j].val() & self.w_lo_min.val();
            self.w_lo[j].next = self.w_ext[j].val();
            if self.w_neg[j].val() & (self.w_top_bits[j].val() != self.w_lo_min.val()) {
                self.w_lo[j].next = self.w_lo_min.val();
            }
            if !self.w_neg[j].val() & self.w_top_bits[j].val().any() {
                self.w_lo[j].next = self.w_lo_max.val();
            }
        }
        for j in 0..self.cols() {
            self.in_w_low[j].next = self.s3_wlo[j].q.val();
            self.in_w_digit[j].next = self.zero.val();
            if self.high.val() {
                // W_HI + 1 bits of w hold every digit, the top one's sign too.
                self.in_w_digit[j].next =
                    (self.s3_w[j].q.val() >> self.rom.w_shift.val()) & self.w_digit_mask.val();
            }
        }
        self.step_end.next = !self.high.val() | self.rom.last.val();
        self.accept.next = self.s3_valid.q.val() & self.in_ready.val();
        self.in_valid.next = self.s3_valid.q.val();
        self.in_first.next = self.tok.q.val() == self.zero.val();
        self.in_commit.next = self.high.val() & self.rom.last.val();
        self.in_last.next = self.step_end.val() & self.s3_tile_last.q.val();
        self.in_hshift.next = self.zero.val();
        if self.high.val() {
            self.in_hshift.next = self.rom.hshift.val();
        }
        self.low_shift_out.next = self.lsum_q.q.val();
        self.tile_channel.next = self.s3_ct.q.val();
        self.tile_oh0.next = self.s3_oh0.q.val();
        self.tile_ow0.next = self.s3_ow0.q.val();
        self.drq_mode_high.next = self.high.val() & self.s3_valid.q.val();
        self.drq_channel.next = self.s3_c.q.val();
        self.drq_region_y.next = self.s3_ry.q.val();
        self.drq_region_x.next = self.s3_rx.q.val();
        self.drq_k_step.next = self.s3_k.q.val();
        self.drq_tile.next = self.s3_tile.q.val();
        self.drq_token_shift.next = self.lsum_q.q.val();
        if self.high.val() {
            self.drq_token_shift.next = self.rom.shift.val();
        }

        // Token index within the step; the ROM registers the next token.
        self.next_tok.next = self.tok.q.val();
        if self.accept.val() {
            self.next_tok.next = (self.tok.q.val() + self.one.val()) & self.small_mask.val();
            if self.step_end.val() {
                self.next_tok.next = self.zero.val();
            }
        }
        if self.start.val() {
            self.next_tok.next = self.zero.val();
        }
        self.tok.d.next = self.next_tok.val();
        self.rom.next_index.next = self.next_tok.val();

        // ---- Handshakes between the stages: S3 frees up when its last
        // token is taken; S2 moves into it, registering its data (held on
        // the read ports until the next read, which is issued in the same
        // cycle); S2 takes the loop nest's step then (`advance`).
        self.adv3.next = !self.s3_valid.q.val() | (self.in_ready.val() & self.step_end.val());
        self.adv2.next = !self.s2_valid.q.val() | self.adv3.val();
        if self.adv3.val() {
            self.s3_valid.d.next = self.s2_valid.q.val();
            self.s3_tile_last.d.next = self.s2_tile_last.q.val();
            self.s3_layer_last.d.next = self.s2_layer_last.q.val();
            self.s3_c.d.next = self.s2_c.q.val();
            self.s3_k.d.next = self.s2_k.q.val();
            self.s3_tile.d.next = self.s2_tile.q.val();
            self.s3_ct.d.next = self.s2_ct.q.val();
            self.s3_oh0.d.next = self.s2_oh0.q.val();
            self.s3_ow0.d.next = self.s2_ow0.q.val();
            self.s3_ry.d.next = self.s2_ry.q.val();
            self.s3_rx.d.next = self.s2_rx.q.val();
            self.s3_high.d.next = self.any_sens.val();
            for r in 0..self.rows() {
                self.s3_a[r].d.next = self.a[r].val();
                self.s3_sens[r].d.next = self.sens[r].val();
            }
            for j in 0..self.cols() {
                self.s3_w[j].d.next = self.wv[j].val() & self.wb_mask.val();
                self.s3_wlo[j].d.next = self.w_lo[j].val();
            }
        }
        if self.adv2.val() {
            self.s2_valid.d.next = self.step_valid.val();
            for r in 0..self.rows() {
                self.s2_rd[r].d.next = self.step_row_read[r].val();
            }
            for j in 0..self.cols() {
                self.s2_w_rd[j].d.next = self.step_col_read[j].val();
            }
            self.s2_tile_last.d.next = self.step_tile_last.val();
            self.s2_layer_last.d.next = self.step_layer_last.val();
            self.s2_c.d.next = self.step_c.val();
            self.s2_k.d.next = self.step_k.val();
            self.s2_tile.d.next = self.step_tile.val();
            self.s2_ct.d.next = self.step_ct.val();
            self.s2_oh0.d.next = self.step_oh0.val();
            self.s2_ow0.d.next = self.step_ow0.val();
            self.s2_ry.d.next = self.step_ry.val();
            self.s2_rx.d.next = self.step_rx.val();
        }

        self.advance.next = self.adv2.val();
        self.layer_last.next = self.step_end.val() & self.s3_layer_last.q.val();

        // ---- `start` latches the shifts and drops every step.
        if self.start.val() {
            self.ls_q.d.next = self.low_shift.val() & self.shift_mask.val();
            self.wls_q.d.next = self.w_low_shift.val() & self.shift_mask.val();
            self.s2_valid.d.next = false;
            self.s3_valid.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::settle;
    use drq_arch::token::{act_digit, weight_digit, TokenFormat};
    use drq_arch::AccelConfig;

    /// A step as the loop nest offers it, with the data the buffers return
    /// for it: per row the activation, mask bit and whether it is read; per
    /// column the weight (every column reads).
    struct Step {
        act: Vec<u64>,
        mask: Vec<bool>,
        read: Vec<bool>,
        w: Vec<i32>,
        tile_last: bool,
    }

    /// A token as the array takes it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Token {
        first: bool,
        commit: bool,
        last: bool,
        layer_last: bool,
        hshift: u64,
        shift: u64,
        high: bool,
        digits: Vec<u64>,
        sens: Vec<bool>,
        w_digits: Vec<u64>,
        w_lows: Vec<u64>,
    }

    /// q and w_lo of docs/spec.md §2 (the co-simulation checks both
    /// against the golden model's `numerics`).
    fn low_code(a: u64, s: u32, a_lo: u32) -> u64 {
        let r = if s > 0 { 1 << (s - 1) } else { 0 };
        ((a + r) >> s).min((1 << a_lo) - 1)
    }
    fn weight_low(w: i32, sw: u32, w_lo: u32) -> i64 {
        let r = if sw > 0 { 1 << (sw - 1) } else { 0 };
        i64::from((w + r) >> sw).clamp(-(1 << (w_lo - 1)), (1 << (w_lo - 1)) - 1)
    }

    /// The tokens of `steps` in `TokenFormat`'s order: a HIGH step (some
    /// row sensitive) one per HIGH token, its digits by the token's digit
    /// indices; a LOW step one token of q.
    fn expected(cfg: &AccelConfig, s: u32, sw: u32, steps: &[Step]) -> Vec<Token> {
        let fmt = TokenFormat::new(cfg);
        let bits = |v: i64, n: u32| (v as u64) & mask(n);
        let mut tokens = Vec::new();
        for (n, st) in steps.iter().enumerate() {
            let a: Vec<u64> = (0..st.act.len())
                .map(|r| if st.read[r] { st.act[r] } else { 0 })
                .collect();
            let sens: Vec<bool> = (0..a.len()).map(|r| st.read[r] && st.mask[r]).collect();
            let q: Vec<u64> = a.iter().map(|&a| low_code(a, s, cfg.a_lo)).collect();
            let w_lows: Vec<u64> =
                st.w.iter()
                    .map(|&w| bits(weight_low(w, sw, cfg.w_lo), fmt.w_low_bits))
                    .collect();
            let layer_last = n + 1 == steps.len();
            if sens.iter().any(|&x| x) {
                let count = fmt.high_tokens.len();
                for (i, t) in fmt.high_tokens.iter().enumerate() {
                    tokens.push(Token {
                        first: i == 0,
                        commit: i + 1 == count,
                        last: i + 1 == count && st.tile_last,
                        layer_last: i + 1 == count && layer_last,
                        hshift: t.hshift_units.into(),
                        shift: t.shift.into(),
                        high: true,
                        digits: (0..a.len())
                            .map(|r| match sens[r] {
                                true => act_digit(a[r] as u32, t.a_digit, cfg).into(),
                                false => q[r],
                            })
                            .collect(),
                        sens: sens.clone(),
                        w_digits: st
                            .w
                            .iter()
                            .map(|&w| {
                                let d = weight_digit(w, t.w_digit, cfg);
                                bits(d.into(), fmt.w_digit_bits)
                            })
                            .collect(),
                        w_lows: w_lows.clone(),
                    });
                }
            } else {
                tokens.push(Token {
                    first: true,
                    commit: false,
                    last: st.tile_last,
                    layer_last,
                    hshift: 0,
                    shift: (s + sw).into(),
                    high: false,
                    digits: q,
                    sens,
                    w_digits: vec![0; st.w.len()],
                    w_lows,
                });
            }
        }
        tokens
    }

    fn tick(ti: &mut TokenIssue) {
        ti.clock.next = Clock::from(false);
        settle(ti);
        ti.clock.next = Clock::from(true);
        settle(ti);
    }

    /// Offers `steps` one after the other as the loop nest does (each until
    /// `advance` takes it) and returns its data from the next cycle on, as
    /// the buffers do; `in_ready` as `ready` says. The tokens taken.
    fn run(
        cfg: &AccelConfig,
        s: u32,
        sw: u32,
        steps: &[Step],
        ready: impl Fn(u64) -> bool,
    ) -> Vec<Token> {
        let mut ti = TokenIssue::new(&ControllerParams::new(cfg));
        ti.connect_all();
        ti.reset.next = true;
        tick(&mut ti);
        ti.reset.next = false;
        ti.low_shift.next = u64::from(s).to_bits();
        ti.w_low_shift.next = u64::from(sw).to_bits();
        ti.start.next = true;
        tick(&mut ti);
        ti.start.next = false;
        let mut tokens: Vec<Token> = Vec::new();
        let mut next = 0;
        for cycle in 0..1000 {
            let offered = steps.get(next);
            ti.step_valid.next = offered.is_some();
            if let Some(st) = offered {
                for r in 0..ti.rows() {
                    ti.step_row_read[r].next = st.read[r];
                }
                for j in 0..ti.cols() {
                    ti.step_col_read[j].next = true;
                }
                ti.step_tile_last.next = st.tile_last;
                ti.step_layer_last.next = next + 1 == steps.len();
            }
            ti.in_ready.next = ready(cycle);
            ti.clock.next = Clock::from(false);
            settle(&mut ti);
            let word = |s: &Signal<Out, Word>| s.val().to_u64();
            if ti.in_valid.val() && ti.in_ready.val() {
                tokens.push(Token {
                    first: ti.in_first.val(),
                    commit: ti.in_commit.val(),
                    last: ti.in_last.val(),
                    layer_last: ti.layer_last.val(),
                    hshift: word(&ti.in_hshift),
                    shift: word(&ti.drq_token_shift),
                    high: ti.drq_mode_high.val(),
                    digits: ti.in_digit.iter().map(word).collect(),
                    sens: ti.in_sens.iter().map(|x| x.val()).collect(),
                    w_digits: ti.in_w_digit.iter().map(word).collect(),
                    w_lows: ti
                        .in_w_low
                        .iter()
                        .map(|x| word(x) & mask(TokenFormat::new(cfg).w_low_bits))
                        .collect(),
                });
            }
            let taken = offered.filter(|_| ti.advance.val());
            ti.clock.next = Clock::from(true);
            settle(&mut ti);
            if let Some(st) = taken {
                for r in 0..ti.rows() {
                    ti.act_data[r].next = st.act[r].to_bits();
                    ti.mask_bit[r].next = st.mask[r];
                }
                for j in 0..ti.cols() {
                    ti.w_data[j].next = (i64::from(st.w[j]) as u64).to_bits();
                }
                next += 1;
            }
            if tokens.last().is_some_and(|t| t.layer_last) {
                return tokens;
            }
        }
        panic!("the steps do not end: {} tokens", tokens.len());
    }

    #[test]
    fn tokens_follow_the_token_format_under_backpressure() {
        let cfg = AccelConfig::small();
        let steps = [
            // HIGH: rows 0 and 2 sensitive, row 3 not read (its data and
            // mask bit are ignored).
            Step {
                act: vec![200, 17, 255, 99],
                mask: vec![true, false, true, true],
                read: vec![true, true, true, false],
                w: vec![-128, 127, -3, 90],
                tile_last: false,
            },
            // LOW: no row sensitive; the tile ends.
            Step {
                act: vec![9, 250, 0, 31],
                mask: vec![false; 4],
                read: vec![true; 4],
                w: vec![5, -77, 64, -1],
                tile_last: true,
            },
            Step {
                act: vec![1, 2, 3, 4],
                mask: vec![false; 4],
                read: vec![true, false, true, false],
                w: vec![-2, 2, -100, 100],
                tile_last: false,
            },
            // HIGH, one sensitive row; the layer's last step.
            Step {
                act: vec![77, 128, 15, 240],
                mask: vec![false, false, false, true],
                read: vec![true; 4],
                w: vec![33, -33, 0, -65],
                tile_last: true,
            },
        ];
        let want = expected(&cfg, 4, 3, &steps);
        assert_eq!(want.len(), 2 * 4 + 2);
        for every in [1, 2, 3] {
            let got = run(&cfg, 4, 3, &steps, |cycle| cycle % every == 0);
            assert_eq!(got, want, "in_ready every {every} cycles");
        }
    }

    #[test]
    fn six_token_steps_with_a_signed_top_weight_digit() {
        let cfg = AccelConfig::small().six_tokens_3x5();
        let steps = [
            Step {
                act: vec![63, 40, 5],
                mask: vec![true, false, true],
                read: vec![true; 3],
                w: vec![-32, 31, -1, 17, -20],
                tile_last: true,
            },
            Step {
                act: vec![62, 7, 33],
                mask: vec![false; 3],
                read: vec![true; 3],
                w: vec![-31, 30, 1, -17, 20],
                tile_last: true,
            },
        ];
        let want = expected(&cfg, 1, 2, &steps);
        assert_eq!(want.len(), 6 + 1);
        assert_eq!(run(&cfg, 1, 2, &steps, |cycle| cycle % 4 != 1), want);
    }
}
