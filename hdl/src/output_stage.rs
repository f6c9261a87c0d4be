//! The output stage (issue 5): takes the array's read-out rows, requantises
//! every valid element with one shared requantiser and streams
//! (channel, y, x, value, acc) to the predictor and the host, one element per
//! cycle. Interface, mapping, arithmetic proof and cycle behaviour:
//! `docs/output-stage.md`.
//!
//! * Row buffer: a row is accepted into COLS registers that shift one lane
//!   down per emitted element, so the element is always lane 0 (no COLS-way
//!   mux). Columns are valid as a prefix, k < c_out - tile_oc0.
//! * Row to pixel without a divider: the array reads rows out from ROWS-1
//!   down to 0, so (i, j) = (r / tile_w, r % tile_w) is a down-counter. Rows
//!   r >= valid_h * tile_w are out of range (idle) and skipped; the top
//!   in-range row r = valid_h * tile_w - 1 reloads the counter with
//!   (valid_h - 1, tile_w - 1); every further in-range row decrements it.
//! * Requantiser, three pipeline stages: S1 registers acc_lo * M and
//!   acc_hi * M (acc = acc_hi * 2^32 + acc_lo), S2 adds them and r' exactly
//!   as a two-word number, S3 shifts by SH and clamps. A negative acc always
//!   gives 0 (proof in the doc). Every word is cut to the bits ACC_BITS
//!   needs (P = ACC_BITS + 16 bits of product): for ACC_BITS <= 48 the high
//!   word is the constant 0 and synthesis removes it. r' and the flag
//!   SH >= P are layer constants, registered from SH. Logic that cannot
//!   matter is not emitted: acc_hi * M only for ACC_BITS > 33 (acc_hi has
//!   bits), the high word of N and its carries only for ACC_BITS > 48
//!   (P > 64); below that N fits one word.
//! * Backpressure: every stage advances when the stage after it is empty or
//!   advances (`out_ready` ripples back combinationally); nothing is lost.

use crate::leaf::{low_mask as mask, one_if, word, Reg, SignedMul, Word, WordReg};
use crate::ram::LutRam;
use crate::row_queue::RowQueue;
use crate::shell::clog2;
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct OutputStage {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Layer and tile registers, held while rows of the tile arrive.
    pub requant_mult: Signal<In, Word>,
    pub requant_shift: Signal<In, Word>,
    pub tile_oc0: Signal<In, Word>,
    pub tile_oh0: Signal<In, Word>,
    pub tile_ow0: Signal<In, Word>,
    pub tile_w: Signal<In, Word>,
    pub valid_h: Signal<In, Word>,
    pub valid_w: Signal<In, Word>,
    pub c_out: Signal<In, Word>,
    // Rows from the array's read-out.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_row: Signal<In, Word>,
    pub in_acc: Vec<Signal<In, Word>>,
    // Elements.
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_channel: Signal<Out, Word>,
    pub out_y: Signal<Out, Word>,
    pub out_x: Signal<Out, Word>,
    pub out_value: Signal<Out, Word>,
    pub out_acc: Signal<Out, Word>,
    /// A row or an element is inside the stage.
    pub busy: Signal<Out, Bit>,
    one: Constant<Word>,
    zero: Constant<Word>,
    cols_c: Constant<Word>,
    /// 32, for acc_hi (ACC_BITS > 33 only).
    c32: Vec<Constant<Word>>,
    shift_mask: Constant<Word>,
    max_pos: Constant<Word>,
    a_max: Constant<Word>,
    /// Row-count fields (valid_h, tile_w <= ROWS): clog2(ROWS + 1) bits.
    rows_mask: Constant<Word>,
    /// acc_lo and acc_hi of a non-negative acc.
    acc_lo_mask: Constant<Word>,
    /// The low word of N = acc * M + r' (P bits in all).
    n_lo_mask: Constant<Word>,
    /// P, and whether SH can reach it (P <= 63).
    p_bits: Constant<Word>,
    // Layer constants derived from SH, one cycle behind it.
    sh_q: WordReg,
    rnd_q: Reg<Word>,
    /// SH >= P: the result is 0 for every acc.
    sh_over_q: Reg<Bit>,
    // Row counter (i, j) of the next in-range row.
    cnt_i: WordReg,
    cnt_j: WordReg,
    // Row buffer.
    full: Reg<Bit>,
    col: WordReg,
    row_y: WordReg,
    row_x: WordReg,
    /// Channel of lane 0 and the layer's c_out, latched with the row.
    row_ch: WordReg,
    row_cout: WordReg,
    buf: Vec<WordReg>,
    /// Rows waiting for the row buffer (`out_rows` > 1 only): the queue
    /// and its accumulators, one lane RAM per column.
    queue: Vec<RowQueue>,
    queue_lanes: Vec<LutRam>,
    // S1: products.
    s1_valid: Reg<Bit>,
    s1_ch: WordReg,
    s1_y: WordReg,
    s1_x: WordReg,
    s1_acc: WordReg,
    s1_neg: Reg<Bit>,
    s1_plo: Reg<Word>,
    /// acc_hi * M, for ACC_BITS > 33 (one register, or none).
    s1_phi: Vec<Reg<Word>>,
    // S2: N in two words.
    s2_valid: Reg<Bit>,
    s2_ch: WordReg,
    s2_y: WordReg,
    s2_x: WordReg,
    s2_acc: WordReg,
    s2_zero: Reg<Bit>,
    s2_lo: Reg<Word>,
    /// N's high word and its arithmetic, for P > 64 (one, or none).
    s2_hi: Vec<Reg<Word>>,
    c48: Vec<Constant<Word>>,
    c64: Vec<Constant<Word>>,
    n_hi_mask: Vec<Constant<Word>>,
    ca: Vec<Signal<Local, Word>>,
    cb: Vec<Signal<Local, Word>>,
    hi_b: Vec<Signal<Local, Word>>,
    // S3: the output register.
    o_valid: Reg<Bit>,
    o_ch: WordReg,
    o_y: WordReg,
    o_x: WordReg,
    o_acc: WordReg,
    o_value: WordReg,
    /// valid_h * tile_w: rows in range.
    mul_rows: SignedMul,
    /// acc_lo * M and acc_hi * M.
    mul_lo: SignedMul,
    mul_hi: Vec<SignedMul>,
    rows_in: Signal<Local, Word>,
    top_row: Signal<Local, Bit>,
    in_range: Signal<Local, Bit>,
    cur_i: Signal<Local, Word>,
    cur_j: Signal<Local, Word>,
    row_ok: Signal<Local, Bit>,
    en3: Signal<Local, Bit>,
    en2: Signal<Local, Bit>,
    en1: Signal<Local, Bit>,
    emit: Signal<Local, Bit>,
    elem_last: Signal<Local, Bit>,
    ready: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    /// A valid row is taken.
    take_row: Signal<Local, Bit>,
    /// The row buffer is free for a row in the next cycle (empty, or its
    /// last element leaves now).
    frees: Signal<Local, Bit>,
    /// The row buffer loads a row: the one taken, or the queue's head.
    load: Signal<Local, Bit>,
    /// The queue's head moves into the row buffer (`out_rows` > 1 only).
    pop: Vec<Signal<Local, Bit>>,
    sh: Signal<Local, Word>,
    sh_new: Signal<Local, Word>,
    lo_a: Signal<Local, Word>,
    rnd: Signal<Local, Word>,
    lo_b: Signal<Local, Word>,
    quot: Signal<Local, Word>,
    sat: Signal<Local, Bit>,
    value: Signal<Local, Word>,
}

fn ports<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl OutputStage {
    pub fn new(cfg: &AccelConfig) -> OutputStage {
        let cols = cfg.cols as usize;
        let acc = cfg.acc_bits;
        // A non-negative acc has ACC_BITS - 1 magnitude bits: acc_lo the low
        // (at most 32) of them, acc_hi the rest.
        let lo_bits = (acc - 1).min(32);
        let hi_bits = (acc - 1).saturating_sub(32);
        // N = acc * M + r' < 2^P for every SH < P (proof in the doc).
        let p = acc + 16;
        let rows_bits = clog2(cfg.rows + 1);
        // Channels, rows and columns of a layer that fits the buffers; a
        // channel up to C_out + COLS while a row is emitted.
        let pos_bits = cfg.channel_bits();
        let pos = || WordReg::unsigned(pos_bits);
        let acc_reg = || WordReg::signed(acc);
        // N's high word and what computes it exist for P > 64 only.
        let wide_n = p > 64;
        OutputStage {
            clock: Default::default(),
            reset: Default::default(),
            requant_mult: Default::default(),
            requant_shift: Default::default(),
            tile_oc0: Default::default(),
            tile_oh0: Default::default(),
            tile_ow0: Default::default(),
            tile_w: Default::default(),
            valid_h: Default::default(),
            valid_w: Default::default(),
            c_out: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_row: Default::default(),
            in_acc: ports(cols),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_channel: Default::default(),
            out_y: Default::default(),
            out_x: Default::default(),
            out_value: Default::default(),
            out_acc: Default::default(),
            busy: Default::default(),
            one: Constant::new(word(1)),
            zero: Constant::new(word(0)),
            cols_c: Constant::new(word(cols as i64)),
            c32: one_if(hi_bits > 0, Constant::new(word(32))),
            shift_mask: Constant::new(word(63)),
            max_pos: Constant::new(word(i64::MAX)),
            a_max: Constant::new(word(i64::from(cfg.a_max()))),
            rows_mask: Constant::new(word(mask(rows_bits) as i64)),
            acc_lo_mask: Constant::new(word(mask(lo_bits) as i64)),
            n_lo_mask: Constant::new(word(mask(p.min(64)) as i64)),
            p_bits: Constant::new(word(i64::from(p))),
            sh_q: WordReg::unsigned(6),
            rnd_q: Default::default(),
            sh_over_q: Default::default(),
            cnt_i: pos(),
            cnt_j: pos(),
            full: Default::default(),
            col: WordReg::unsigned(clog2(cfg.cols + 1)),
            row_y: pos(),
            row_x: pos(),
            row_ch: pos(),
            row_cout: pos(),
            buf: (0..cols).map(|_| acc_reg()).collect(),
            queue: (0..usize::from(cfg.out_rows > 1))
                .map(|_| RowQueue::new(cfg))
                .collect(),
            queue_lanes: (0..if cfg.out_rows > 1 { cols } else { 0 })
                .map(|_| RowQueue::lane_ram(cfg))
                .collect(),
            s1_valid: Default::default(),
            s1_ch: pos(),
            s1_y: pos(),
            s1_x: pos(),
            s1_acc: acc_reg(),
            s1_neg: Default::default(),
            s1_plo: Default::default(),
            s1_phi: one_if(hi_bits > 0, Default::default()),
            s2_valid: Default::default(),
            s2_ch: pos(),
            s2_y: pos(),
            s2_x: pos(),
            s2_acc: acc_reg(),
            s2_zero: Default::default(),
            s2_lo: Default::default(),
            s2_hi: one_if(wide_n, Default::default()),
            c48: one_if(wide_n, Constant::new(word(48))),
            c64: one_if(wide_n, Constant::new(word(64))),
            n_hi_mask: one_if(
                wide_n,
                Constant::new(word(mask(p.saturating_sub(64)) as i64)),
            ),
            ca: one_if(wide_n, Default::default()),
            cb: one_if(wide_n, Default::default()),
            hi_b: one_if(wide_n, Default::default()),
            o_valid: Default::default(),
            o_ch: pos(),
            o_y: pos(),
            o_x: pos(),
            o_acc: acc_reg(),
            o_value: WordReg::unsigned(cfg.a_hi),
            // valid_h, tile_w <= ROWS (one more bit for the signed a).
            mul_rows: SignedMul::new(rows_bits + 1, rows_bits),
            // acc_lo, acc_hi: non-negative (one more bit for the signed a).
            mul_lo: SignedMul::new(lo_bits + 1, 16),
            mul_hi: one_if(hi_bits > 0, SignedMul::new(hi_bits + 1, 16)),
            rows_in: Default::default(),
            top_row: Default::default(),
            in_range: Default::default(),
            cur_i: Default::default(),
            cur_j: Default::default(),
            row_ok: Default::default(),
            en3: Default::default(),
            en2: Default::default(),
            en1: Default::default(),
            emit: Default::default(),
            elem_last: Default::default(),
            ready: Default::default(),
            accept: Default::default(),
            take_row: Default::default(),
            frees: Default::default(),
            load: Default::default(),
            pop: one_if(cfg.out_rows > 1, Default::default()),
            sh: Default::default(),
            sh_new: Default::default(),
            lo_a: Default::default(),
            rnd: Default::default(),
            lo_b: Default::default(),
            quot: Default::default(),
            sat: Default::default(),
            value: Default::default(),
        }
    }
    fn cols(&self) -> usize {
        self.in_acc.len()
    }
    /// 1 when acc_hi has bits (ACC_BITS > 33), else 0: a loop bound.
    fn wide_product(&self) -> usize {
        self.mul_hi.len()
    }
    /// 1 when N needs a second word (P > 64), else 0: a loop bound.
    fn wide_n(&self) -> usize {
        self.s2_hi.len()
    }
    /// 1 when rows queue for the row buffer (`out_rows` > 1), else 0.
    fn queued(&self) -> usize {
        self.queue.len()
    }
    /// COLS when rows queue for the row buffer, else 0.
    fn queued_lanes(&self) -> usize {
        self.queue_lanes.len()
    }
}

impl Logic for OutputStage {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sh_q, rnd_q, sh_over_q, cnt_i, cnt_j, full, col, row_y, row_x, row_ch,
            row_cout, s1_valid, s1_ch, s1_y, s1_x, s1_acc, s1_neg, s1_plo, s2_valid, s2_ch, s2_y,
            s2_x, s2_acc, s2_zero, s2_lo, o_valid, o_ch, o_y, o_x, o_acc, o_value
        );
        self.sh_q.reset.next = self.reset.val();
        self.rnd_q.reset.next = self.reset.val();
        self.sh_over_q.reset.next = self.reset.val();
        self.s2_valid.reset.next = self.reset.val();
        self.s2_ch.reset.next = self.reset.val();
        self.s2_y.reset.next = self.reset.val();
        self.s2_x.reset.next = self.reset.val();
        self.s2_acc.reset.next = self.reset.val();
        self.s2_zero.reset.next = self.reset.val();
        self.s2_lo.reset.next = self.reset.val();
        self.cnt_i.reset.next = self.reset.val();
        self.cnt_j.reset.next = self.reset.val();
        self.full.reset.next = self.reset.val();
        self.col.reset.next = self.reset.val();
        self.row_y.reset.next = self.reset.val();
        self.row_x.reset.next = self.reset.val();
        self.row_ch.reset.next = self.reset.val();
        self.row_cout.reset.next = self.reset.val();
        self.s1_valid.reset.next = self.reset.val();
        self.s1_ch.reset.next = self.reset.val();
        self.s1_y.reset.next = self.reset.val();
        self.s1_x.reset.next = self.reset.val();
        self.s1_acc.reset.next = self.reset.val();
        self.s1_neg.reset.next = self.reset.val();
        self.s1_plo.reset.next = self.reset.val();
        for k in 0..self.wide_product() {
            self.s1_phi[k].clock.next = self.clock.val();
            self.s1_phi[k].reset.next = self.reset.val();
            self.s1_phi[k].d.next = self.s1_phi[k].q.val();
        }
        for k in 0..self.wide_n() {
            self.s2_hi[k].clock.next = self.clock.val();
            self.s2_hi[k].reset.next = self.reset.val();
            self.s2_hi[k].d.next = self.s2_hi[k].q.val();
        }
        self.o_valid.reset.next = self.reset.val();
        self.o_ch.reset.next = self.reset.val();
        self.o_y.reset.next = self.reset.val();
        self.o_x.reset.next = self.reset.val();
        self.o_acc.reset.next = self.reset.val();
        self.o_value.reset.next = self.reset.val();
        for k in 0..self.cols() {
            self.buf[k].clock.next = self.clock.val();
            self.buf[k].reset.next = self.reset.val();
            self.buf[k].d.next = self.buf[k].q.val();
        }

        // Handshakes: each stage advances when the next is empty or advances.
        self.en3.next = !self.o_valid.q.val() | self.out_ready.val();
        self.en2.next = !self.s2_valid.q.val() | self.en3.val();
        self.en1.next = !self.s1_valid.q.val() | self.en2.val();
        self.emit.next = self.full.q.val() & self.en1.val();
        self.elem_last.next = (self.col.q.val() + self.one.val() == self.cols_c.val())
            | (self.row_ch.q.val() + self.one.val() >= self.row_cout.q.val());

        // Row to pixel: a down-counter over the in-range rows.
        self.mul_rows.a.next = self.valid_h.val() & self.rows_mask.val();
        self.mul_rows.b.next = self.tile_w.val() & self.rows_mask.val();
        self.rows_in.next = self.mul_rows.p.val();
        self.in_range.next = self.in_row.val() < self.rows_in.val();
        self.top_row.next = self.in_row.val() + self.one.val() == self.rows_in.val();
        self.cur_i.next = self.cnt_i.q.val();
        self.cur_j.next = self.cnt_j.q.val();
        if self.top_row.val() {
            self.cur_i.next = self.valid_h.val() - self.one.val();
            self.cur_j.next = self.tile_w.val() - self.one.val();
        }
        self.row_ok.next = self.in_range.val()
            & (self.cur_j.val() < self.valid_w.val())
            & (self.tile_oc0.val() < self.c_out.val());
        // An idle row is taken at once; a valid one when the buffer frees
        // (or, with a queue, while the queue has room).
        self.frees.next = !self.full.q.val() | (self.emit.val() & self.elem_last.val());
        self.ready.next = self.frees.val() | !self.row_ok.val();
        for z in 0..self.queued() {
            self.queue[z].clock.next = self.clock.val();
            self.queue[z].reset.next = self.reset.val();
            if self.queue[z].space.val() {
                self.ready.next = true;
            }
        }
        self.in_ready.next = self.ready.val();
        self.accept.next = self.in_valid.val() & self.ready.val();
        self.take_row.next = self.accept.val() & self.row_ok.val();
        // The buffer loads the row taken; with a queue, the queue's head
        // when there is one (the row taken then joins the queue's tail).
        self.load.next = self.take_row.val();
        for z in 0..self.queued() {
            self.pop[z].next = self.frees.val() & self.queue[z].nonempty.val();
            self.queue[z].pop.next = self.pop[z].val();
            self.queue[z].push.next =
                self.take_row.val() & !(self.frees.val() & !self.queue[z].nonempty.val());
            self.queue[z].in_y.next = self.tile_oh0.val() + self.cur_i.val();
            self.queue[z].in_x.next = self.tile_ow0.val() + self.cur_j.val();
            self.queue[z].in_ch.next = self.tile_oc0.val();
            self.load.next = self.pop[z].val() | (self.take_row.val() & !self.queue[z].push.val());
            for k in 0..self.queued_lanes() {
                self.queue_lanes[k].clock.next = self.clock.val();
                self.queue_lanes[k].wr_en.next = self.queue[z].push.val();
                self.queue_lanes[k].wr_addr.next = self.queue[z].tail_addr.val();
                self.queue_lanes[k].wr_data.next = self.in_acc[k].val();
                self.queue_lanes[k].rd_addr.next = self.queue[z].head_addr.val();
            }
        }

        // Row buffer: emit lane 0, shift the others down.
        if self.emit.val() {
            self.col.d.next = self.col.q.val() + self.one.val();
            self.row_ch.d.next = self.row_ch.q.val() + self.one.val();
            for k in 1..self.cols() {
                self.buf[k - 1].d.next = self.buf[k].q.val();
            }
            if self.elem_last.val() {
                self.full.d.next = false;
            }
        }
        if self.accept.val() & self.in_range.val() {
            self.cnt_i.d.next = self.cur_i.val();
            self.cnt_j.d.next = self.cur_j.val() - self.one.val();
            if self.cur_j.val() == self.zero.val() {
                self.cnt_i.d.next = self.cur_i.val() - self.one.val();
                self.cnt_j.d.next = self.tile_w.val() - self.one.val();
            }
        }
        if self.load.val() {
            self.full.d.next = true;
            self.col.d.next = self.zero.val();
            self.row_ch.d.next = self.tile_oc0.val();
            self.row_cout.d.next = self.c_out.val();
            self.row_y.d.next = self.tile_oh0.val() + self.cur_i.val();
            self.row_x.d.next = self.tile_ow0.val() + self.cur_j.val();
            for k in 0..self.cols() {
                self.buf[k].d.next = self.in_acc[k].val();
            }
            for z in 0..self.queued() {
                if self.pop[z].val() {
                    self.row_ch.d.next = self.queue[z].head_ch.val();
                    self.row_y.d.next = self.queue[z].head_y.val();
                    self.row_x.d.next = self.queue[z].head_x.val();
                    for k in 0..self.queued_lanes() {
                        self.buf[k].d.next = self.queue_lanes[k].rd_data.val();
                    }
                }
            }
        }

        // Layer constants from SH: r' = 2^(SH-1) (0 for SH = 0) and SH >= P.
        self.sh_new.next = self.requant_shift.val() & self.shift_mask.val();
        self.sh_q.d.next = self.sh_new.val();
        self.rnd_q.d.next = self.zero.val();
        if self.sh_new.val().any() {
            self.rnd_q.d.next =
                (self.one.val() << (self.sh_new.val() - self.one.val())) & self.n_lo_mask.val();
        }
        self.sh_over_q.d.next = self.sh_new.val() >= self.p_bits.val();

        // S1: the two partial products of lane 0 (acc_hi * M only when
        // acc_hi has bits; the multiplier reads its hi_bits + 1 low bits,
        // and a negative acc gives 0 whatever the product).
        self.mul_lo.a.next = self.buf[0].q.val() & self.acc_lo_mask.val();
        self.mul_lo.b.next = self.requant_mult.val();
        for k in 0..self.wide_product() {
            self.mul_hi[k].a.next = self.buf[0].q.val() >> self.c32[k].val();
            self.mul_hi[k].b.next = self.requant_mult.val();
        }
        if self.en1.val() {
            self.s1_valid.d.next = self.emit.val();
            self.s1_ch.d.next = self.row_ch.q.val();
            self.s1_y.d.next = self.row_y.q.val();
            self.s1_x.d.next = self.row_x.q.val();
            for k in 0..1 {
                self.s1_acc.d.next = self.buf[k].q.val();
                self.s1_neg.d.next = self.buf[k].q.val() > self.max_pos.val();
            }
            self.s1_plo.d.next = self.mul_lo.p.val();
            for k in 0..self.wide_product() {
                self.s1_phi[k].d.next = self.mul_hi[k].p.val();
            }
        }

        // S2: N = phi * 2^32 + plo + r', cut to the P bits it needs: one
        // word (lo_b) for P <= 64, else two (hi_b, lo_b) with the carries.
        self.lo_a.next = self.s1_plo.q.val();
        for k in 0..self.wide_product() {
            self.lo_a.next = (self.s1_phi[k].q.val() << self.c32[k].val()) + self.s1_plo.q.val();
        }
        self.rnd.next = self.rnd_q.q.val();
        self.lo_b.next = self.lo_a.val() + self.rnd.val();
        for k in 0..self.wide_n() {
            self.ca[k].next = self.zero.val();
            if self.lo_a.val() < self.s1_plo.q.val() {
                self.ca[k].next = self.one.val();
            }
            self.cb[k].next = self.zero.val();
            if self.lo_b.val() < self.lo_a.val() {
                self.cb[k].next = self.one.val();
            }
            self.hi_b[k].next =
                (self.s1_phi[k].q.val() >> self.c32[k].val()) + self.ca[k].val() + self.cb[k].val();
        }
        if self.en2.val() {
            self.s2_valid.d.next = self.s1_valid.q.val();
            self.s2_ch.d.next = self.s1_ch.q.val();
            self.s2_y.d.next = self.s1_y.q.val();
            self.s2_x.d.next = self.s1_x.q.val();
            self.s2_acc.d.next = self.s1_acc.q.val();
            self.s2_zero.d.next = self.s1_neg.q.val() | self.sh_over_q.q.val();
            self.s2_lo.d.next = self.lo_b.val() & self.n_lo_mask.val();
            for k in 0..self.wide_n() {
                self.s2_hi[k].d.next = self.hi_b[k].val() & self.n_hi_mask[k].val();
            }
        }

        // S3: y = min(N >> SH, 2^A_HI - 1), or 0 for a negative acc or
        // SH >= P.
        self.sh.next = self.sh_q.q.val();
        self.quot.next = self.s2_lo.q.val() >> self.sh.val();
        self.sat.next = self.quot.val() > self.a_max.val();
        for k in 0..self.wide_n() {
            self.quot.next = (self.s2_hi[k].q.val() << (self.c64[k].val() - self.sh.val()))
                + (self.s2_lo.q.val() >> self.sh.val());
            self.sat.next = (self.s2_hi[k].q.val().any() & (self.sh.val() < self.c48[k].val()))
                | (self.quot.val() > self.a_max.val());
        }
        self.value.next = self.quot.val();
        if self.sat.val() {
            self.value.next = self.a_max.val();
        }
        if self.s2_zero.q.val() {
            self.value.next = self.zero.val();
        }
        if self.en3.val() {
            self.o_valid.d.next = self.s2_valid.q.val();
            self.o_ch.d.next = self.s2_ch.q.val();
            self.o_y.d.next = self.s2_y.q.val();
            self.o_x.d.next = self.s2_x.q.val();
            self.o_acc.d.next = self.s2_acc.q.val();
            self.o_value.d.next = self.value.val();
        }

        self.out_valid.next = self.o_valid.q.val();
        self.out_channel.next = self.o_ch.q.val();
        self.out_y.next = self.o_y.q.val();
        self.out_x.next = self.o_x.q.val();
        self.out_acc.next = self.o_acc.q.val();
        self.out_value.next = self.o_value.q.val();
        self.busy.next = self.full.q.val()
            | self.s1_valid.q.val()
            | self.s2_valid.q.val()
            | self.o_valid.q.val();
        for z in 0..self.queued() {
            if self.queue[z].nonempty.val() {
                self.busy.next = true;
            }
        }
    }
}

/// Cycles from a row's handshake to its first element on `out_valid`.
pub const LATENCY: u64 = 4;

/// The output stage alone (top `drq_output_stage`), with plain ports:
/// `in_row` clog2(ROWS) bits, `in_acc` COLS lanes of ACC_BITS (signed),
/// `requant_mult` 16, `requant_shift` 6, tile and layer fields and the
/// element position 16 bits, `out_value` A_HI, `out_acc` ACC_BITS.
pub fn output_stage_design(cfg: &AccelConfig) -> crate::shell::Design {
    use crate::shell::{clock_and_reset, design, scalar, Dir, Lanes, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Sign, Zero};
    let mut ports = Vec::from(clock_and_reset());
    ports.extend([
        scalar("requant_mult", Input, 16, Zero),
        scalar("requant_shift", Input, 6, Zero),
        scalar("tile_oc0", Input, 16, Zero),
        scalar("tile_oh0", Input, 16, Zero),
        scalar("tile_ow0", Input, 16, Zero),
        scalar("tile_w", Input, 16, Zero),
        scalar("valid_h", Input, 16, Zero),
        scalar("valid_w", Input, 16, Zero),
        scalar("c_out", Input, 16, Zero),
        scalar("in_valid", Input, 1, Flag),
        scalar("in_ready", Output, 1, Flag),
        scalar("in_row", Input, clog2(cfg.rows), Zero),
        ShellPort {
            name: "in_acc".into(),
            core_name: "in_acc".into(),
            dir: Input,
            lane_width: cfg.acc_bits,
            lanes: Lanes::Vector { count: cfg.cols },
            extend: Sign,
        },
        scalar("out_valid", Output, 1, Flag),
        scalar("out_ready", Input, 1, Flag),
        scalar("out_channel", Output, 16, Zero),
        scalar("out_y", Output, 16, Zero),
        scalar("out_x", Output, 16, Zero),
        scalar("out_value", Output, cfg.a_hi, Zero),
        scalar("out_acc", Output, cfg.acc_bits, Zero),
        scalar("busy", Output, 1, Flag),
    ]);
    design(
        "drq_output_stage",
        "drq_output_stage_core",
        cfg,
        ports,
        &mut OutputStage::new(cfg),
    )
}
