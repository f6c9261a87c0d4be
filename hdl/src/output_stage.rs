//! The output stage (issue 5, lanes issue 16): takes the array's read-out
//! rows, requantises every valid element and streams (channel, y, x,
//! values, accs) to the predictor and the host, one column of up to
//! L = `out_lanes` pixels per cycle. Interface, mapping, arithmetic proof
//! and cycle behaviour: `docs/output-stage.md`.
//!
//! * Lane groups: the valid rows of one tile row whose pixels x share an
//!   activation-buffer word (x / L) form a group; pixel x sits in lane
//!   x mod L. The rows of a tile row arrive with x descending, so a group
//!   closes with its row at x mod L = 0 or j = 0; with row taps
//!   (`row_taps`) with x ascending, so it closes at x mod L = L - 1 or
//!   j = valid_w - 1. With L = 1 every row is a group of one.
//! * Row buffer: one register per lane and column; a group is gathered
//!   into it (or into the queue), then its columns leave one per cycle,
//!   every lane shifting one column down, so the element is always column
//!   0 (no COLS-way mux). Columns are valid as a prefix,
//!   k < c_out - tile_oc0; lanes as the group's mask says.
//! * Row to pixel without a divider: the array reads rows out from ROWS-1
//!   down to 0, so (i, j) = (r / tile_w, r % tile_w) is a down-counter. Rows
//!   r >= valid_h * tile_w are out of range (idle) and skipped; the top
//!   in-range row r = valid_h * tile_w - 1 reloads the counter with
//!   (valid_h - 1, tile_w - 1); every further in-range row decrements it.
//!   With row taps the rows come from 0 up: row 0 loads (0, 0) and every
//!   further in-range row increments the counter.
//! * Requantisers: one `RequantLane` per lane (three pipeline stages, exact;
//!   `requant.rs`), sharing the layer constants r' and SH >= P, registered
//!   from SH.
//! * Queue (`out_rows` = Q > 1): Q - 1 groups wait in lane RAMs in front of
//!   the row buffer. A group's first row is taken while fewer than Q groups
//!   are held (the buffer frees, or the queue has room); its further rows
//!   as they come. A group gathered in the queue moves into the buffer
//!   when the buffer frees, in its closing cycle at the earliest (its last
//!   row then comes straight from the array).
//! * Backpressure: every stage advances when the stage after it is empty or
//!   advances (`out_ready` ripples back combinationally); nothing is lost.

use crate::acc_combine::AccCombine;
use crate::leaf::{low_mask as mask, one_if, vec_of, word, Reg, Word, WordReg};
use crate::ram::LutRam;
use crate::requant::RequantLane;
use crate::row_queue::RowQueue;
use crate::shell::clog2;
use crate::tile_room::TileRoom;
use drq_arch::config::AccelConfig;
use drq_arch::token::TokenFormat;
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
    /// valid_h * tile_w, the rows in range: a tile register beside
    /// valid_h (a product here would sit on the row handshake, which
    /// fans out as the array's drain enable).
    pub rows_in: Signal<In, Word>,
    pub c_out: Signal<In, Word>,
    // Rows from the array's read-out.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_row: Signal<In, Word>,
    /// Per column: acc_hi + bias (ACC_BITS) and acc_lo (`acc_lo_bits`);
    /// the element is `in_acc + (in_lo << low_shift)` (`acc_combine.rs`).
    pub in_acc: Vec<Signal<In, Word>>,
    pub in_lo: Vec<Signal<In, Word>>,
    pub low_shift: Signal<In, Word>,
    // Elements: one channel of a lane group.
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_channel: Signal<Out, Word>,
    pub out_y: Signal<Out, Word>,
    /// The x of lane 0 (a multiple of L): lane l is pixel out_x + l.
    pub out_x: Signal<Out, Word>,
    /// Bit l: lane l holds a pixel.
    pub out_lanes: Signal<Out, Word>,
    pub out_value: Vec<Signal<Out, Word>>,
    pub out_acc: Vec<Signal<Out, Word>>,
    /// A row or an element is inside the stage.
    pub busy: Signal<Out, Bit>,
    /// Burst read-out only (else none): the next tile's first pixel column
    /// and valid rows and columns, and whether the stage can take it whole
    /// now, or never can (`tile_room.rs`).
    pub next_ow0: Vec<Signal<In, Word>>,
    pub next_valid_h: Vec<Signal<In, Word>>,
    pub next_valid_w: Vec<Signal<In, Word>>,
    pub room: Vec<Signal<Out, Bit>>,
    pub oversize: Vec<Signal<Out, Bit>>,
    tile_room: Vec<TileRoom>,
    /// Groups held past this cycle: the row buffer's (unless its last
    /// element leaves now) and the queue's.
    held: Vec<Signal<Local, Word>>,
    one: Constant<Word>,
    two: Constant<Word>,
    zero: Constant<Word>,
    cols_c: Constant<Word>,
    /// out_rows - 1: the groups the queue holds (with a queue, else none).
    queue_limit: Vec<Constant<Word>>,
    /// L - 1: a pixel's lane is x & lane_m.
    lane_m: Constant<Word>,
    /// l, for lane l.
    lane_c: Vec<Constant<Word>>,
    /// Rows arrive from row 0 up (`row_taps`; else none: from ROWS-1 down).
    ascending: Vec<Constant<Bit>>,
    shift_mask: Constant<Word>,
    /// Row-count fields (valid_h, tile_w <= ROWS): clog2(ROWS + 1) bits.
    rows_mask: Constant<Word>,
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
    /// A group's first row is taken and its last is not.
    open: Reg<Bit>,
    /// ...and it is gathered in the queue (else in the row buffer, which
    /// then holds part of a group).
    open_q: Reg<Bit>,
    /// The lanes of the open group so far.
    open_lanes: WordReg,
    // Row buffer: `full` a whole group.
    full: Reg<Bit>,
    col: WordReg,
    /// The element leaving now is its group's last (the buffer's column
    /// `col` is its last column, or its channel the layer's last):
    /// registered, made as the buffer loads or the element before leaves,
    /// so the compares stay off the row handshake (`frees`, the array's
    /// read-out enable).
    last_col: Reg<Bit>,
    row_y: WordReg,
    row_x: WordReg,
    /// Channel of column 0 and the layer's c_out, latched with the group.
    row_ch: WordReg,
    row_cout: WordReg,
    row_lanes: WordReg,
    /// Lane l, column k at l * COLS + k: column 0 the combined accumulator
    /// of the element leaving next, columns k >= 1 acc_hi + bias, with
    /// acc_lo beside it in `buf_lo` (column 0's `buf_lo` is unused).
    buf: Vec<WordReg>,
    buf_lo: Vec<WordReg>,
    /// The combiners (`AccCombine`) of what enters column 0: the offered
    /// row's column 0, each lane's column 1 as the buffer shifts (COLS >= 2
    /// only), each lane's column 0 of the queue's head (a queue only).
    combine_in: AccCombine,
    combine_shift: Vec<AccCombine>,
    combine_queue: Vec<AccCombine>,
    /// Groups waiting for the row buffer (`out_rows` > 1 only): the queue
    /// and its accumulators, one lane RAM per lane and column for each of
    /// acc_hi + bias and acc_lo.
    queue: Vec<RowQueue>,
    queue_lanes: Vec<LutRam>,
    queue_lo: Vec<LutRam>,
    // The pipeline's element positions (the requantisers hold the data).
    s1_valid: Reg<Bit>,
    s1_ch: WordReg,
    s1_y: WordReg,
    s1_x: WordReg,
    s1_lanes: WordReg,
    s2_valid: Reg<Bit>,
    s2_ch: WordReg,
    s2_y: WordReg,
    s2_x: WordReg,
    s2_lanes: WordReg,
    o_valid: Reg<Bit>,
    o_ch: WordReg,
    o_y: WordReg,
    o_x: WordReg,
    o_lanes: WordReg,
    requant: Vec<RequantLane>,
    top_row: Signal<Local, Bit>,
    in_range: Signal<Local, Bit>,
    cur_i: Signal<Local, Word>,
    cur_j: Signal<Local, Word>,
    /// cur_j < valid_w.
    j_valid: Signal<Local, Bit>,
    row_ok: Signal<Local, Bit>,
    /// The offered row's x, lane, lane bit and group base x.
    x_now: Signal<Local, Word>,
    lane_now: Signal<Local, Word>,
    lane_bit: Signal<Local, Word>,
    base_now: Signal<Local, Word>,
    /// The offered row closes its group; the group's lanes with it.
    closes: Signal<Local, Bit>,
    lanes_now: Signal<Local, Word>,
    en3: Signal<Local, Bit>,
    en2: Signal<Local, Bit>,
    en1: Signal<Local, Bit>,
    emit: Signal<Local, Bit>,
    ready: Signal<Local, Bit>,
    /// `ready` for a valid row: the row buffer frees, its group is open,
    /// or the queue has room.
    room_now: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    /// A valid row is taken.
    take_row: Signal<Local, Bit>,
    /// ...into the row buffer (else into the queue's tail).
    to_buf: Signal<Local, Bit>,
    /// The row taken now loads its lane of the row buffer: taken into it,
    /// or closing a group gathered in the queue (`bypass`).
    direct: Signal<Local, Bit>,
    /// The row buffer is free for a group in the next cycle (empty, or its
    /// last element leaves now).
    frees: Signal<Local, Bit>,
    /// The row buffer loads the offered row's lane: the row taken into it
    /// (`direct`), or any row while the buffer frees and the next row taken
    /// goes into it (nothing there to keep: a row not taken leaves `full`
    /// and `open` as they are). So the load enable of the buffer's
    /// COLS x L words comes from registers, not through the array's
    /// row handshake.
    load_buf: Signal<Local, Bit>,
    /// The queue's head moves into the row buffer (`out_rows` > 1 only).
    pop: Vec<Signal<Local, Bit>>,
    /// A group gathered in the queue closes and moves straight into the
    /// free row buffer (`out_rows` > 1 only).
    bypass: Vec<Signal<Local, Bit>>,
    sh_new: Signal<Local, Word>,
}

impl OutputStage {
    pub fn new(cfg: &AccelConfig) -> OutputStage {
        let cols = cfg.cols as usize;
        let lanes = cfg.out_lanes as usize;
        let p = RequantLane::product_bits(cfg);
        let rows_bits = clog2(cfg.rows + 1);
        // Channels, rows and columns of a layer that fits the buffers; a
        // channel up to C_out + COLS while a row is emitted.
        let pos_bits = cfg.channel_bits();
        let pos = || WordReg::unsigned(pos_bits);
        let lane_bits = || WordReg::unsigned(cfg.out_lanes);
        let queued = cfg.out_rows > 1;
        let burst = usize::from(cfg.burst_readout);
        let lo_bits = cfg.acc_lo_bits();
        OutputStage {
            next_ow0: vec_of(burst),
            next_valid_h: vec_of(burst),
            next_valid_w: vec_of(burst),
            room: vec_of(burst),
            oversize: vec_of(burst),
            tile_room: (0..burst).map(|_| TileRoom::new(cfg)).collect(),
            held: vec_of(burst),
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
            rows_in: Default::default(),
            c_out: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_row: Default::default(),
            in_acc: vec_of(cols),
            in_lo: vec_of(cols),
            low_shift: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_channel: Default::default(),
            out_y: Default::default(),
            out_x: Default::default(),
            out_lanes: Default::default(),
            out_value: vec_of(lanes),
            out_acc: vec_of(lanes),
            busy: Default::default(),
            one: Constant::new(word(1)),
            two: Constant::new(word(2)),
            zero: Constant::new(word(0)),
            cols_c: Constant::new(word(cols as i64)),
            queue_limit: (0..usize::from(cfg.out_rows > 1))
                .map(|_| Constant::new(word(i64::from(cfg.out_rows) - 1)))
                .collect(),
            lane_m: Constant::new(word(lanes as i64 - 1)),
            ascending: one_if(cfg.row_taps, Constant::new(true)),
            lane_c: (0..lanes).map(|l| Constant::new(word(l as i64))).collect(),
            shift_mask: Constant::new(word(63)),
            rows_mask: Constant::new(word(mask(rows_bits) as i64)),
            n_lo_mask: Constant::new(word(mask(p.min(64)) as i64)),
            p_bits: Constant::new(word(i64::from(p))),
            sh_q: WordReg::unsigned(6),
            rnd_q: Default::default(),
            sh_over_q: Default::default(),
            cnt_i: pos(),
            cnt_j: pos(),
            open: Default::default(),
            open_q: Default::default(),
            open_lanes: lane_bits(),
            full: Default::default(),
            last_col: Default::default(),
            col: WordReg::unsigned(clog2(cfg.cols + 1)),
            row_y: pos(),
            row_x: pos(),
            row_ch: pos(),
            row_cout: pos(),
            row_lanes: lane_bits(),
            buf: (0..lanes * cols)
                .map(|_| WordReg::signed(cfg.acc_bits))
                .collect(),
            buf_lo: (0..lanes * cols)
                .map(|_| WordReg::unsigned(lo_bits))
                .collect(),
            combine_in: AccCombine::new(cfg),
            combine_shift: (0..if cols > 1 { lanes } else { 0 })
                .map(|_| AccCombine::new(cfg))
                .collect(),
            combine_queue: (0..if queued { lanes } else { 0 })
                .map(|_| AccCombine::new(cfg))
                .collect(),
            queue: (0..usize::from(queued))
                .map(|_| RowQueue::new(cfg))
                .collect(),
            queue_lanes: (0..if queued { lanes * cols } else { 0 })
                .map(|_| RowQueue::lane_ram(cfg, cfg.acc_bits))
                .collect(),
            queue_lo: (0..if queued { lanes * cols } else { 0 })
                .map(|_| RowQueue::lane_ram(cfg, lo_bits))
                .collect(),
            s1_valid: Default::default(),
            s1_ch: pos(),
            s1_y: pos(),
            s1_x: pos(),
            s1_lanes: lane_bits(),
            s2_valid: Default::default(),
            s2_ch: pos(),
            s2_y: pos(),
            s2_x: pos(),
            s2_lanes: lane_bits(),
            o_valid: Default::default(),
            o_ch: pos(),
            o_y: pos(),
            o_x: pos(),
            o_lanes: lane_bits(),
            requant: (0..lanes).map(|_| RequantLane::new(cfg)).collect(),
            top_row: Default::default(),
            in_range: Default::default(),
            cur_i: Default::default(),
            cur_j: Default::default(),
            j_valid: Default::default(),
            row_ok: Default::default(),
            x_now: Default::default(),
            lane_now: Default::default(),
            lane_bit: Default::default(),
            base_now: Default::default(),
            closes: Default::default(),
            lanes_now: Default::default(),
            en3: Default::default(),
            en2: Default::default(),
            en1: Default::default(),
            emit: Default::default(),
            ready: Default::default(),
            room_now: Default::default(),
            load_buf: Default::default(),
            accept: Default::default(),
            take_row: Default::default(),
            to_buf: Default::default(),
            direct: Default::default(),
            frees: Default::default(),
            pop: vec_of(usize::from(queued)),
            bypass: vec_of(usize::from(queued)),
            sh_new: Default::default(),
        }
    }
    fn cols(&self) -> usize {
        self.in_acc.len()
    }
    /// L, the pixels of a lane group.
    fn lanes(&self) -> usize {
        self.requant.len()
    }
    /// COLS .. COLS + 1: a loop that binds COLS for index arithmetic.
    fn cols_end(&self) -> usize {
        self.cols() + 1
    }
    /// 1 when the rows arrive from row 0 up (`row_taps`), else 0.
    fn ascending(&self) -> usize {
        self.ascending.len()
    }
    /// 1 when groups queue for the row buffer (`out_rows` > 1), else 0.
    fn queued(&self) -> usize {
        self.queue.len()
    }
}

impl Logic for OutputStage {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sh_q, rnd_q, sh_over_q, cnt_i, cnt_j, open, open_q, open_lanes, full,
            last_col, col, row_y, row_x, row_ch, row_cout, row_lanes, s1_valid, s1_ch, s1_y, s1_x,
            s1_lanes, s2_valid, s2_ch, s2_y, s2_x, s2_lanes, o_valid, o_ch, o_y, o_x, o_lanes
        );
        self.sh_q.reset.next = self.reset.val();
        self.rnd_q.reset.next = self.reset.val();
        self.sh_over_q.reset.next = self.reset.val();
        self.cnt_i.reset.next = self.reset.val();
        self.cnt_j.reset.next = self.reset.val();
        self.open.reset.next = self.reset.val();
        self.open_q.reset.next = self.reset.val();
        self.open_lanes.reset.next = self.reset.val();
        self.full.reset.next = self.reset.val();
        self.last_col.reset.next = self.reset.val();
        self.col.reset.next = self.reset.val();
        self.row_y.reset.next = self.reset.val();
        self.row_x.reset.next = self.reset.val();
        self.row_ch.reset.next = self.reset.val();
        self.row_cout.reset.next = self.reset.val();
        self.row_lanes.reset.next = self.reset.val();
        self.s1_valid.reset.next = self.reset.val();
        self.s1_ch.reset.next = self.reset.val();
        self.s1_y.reset.next = self.reset.val();
        self.s1_x.reset.next = self.reset.val();
        self.s1_lanes.reset.next = self.reset.val();
        self.s2_valid.reset.next = self.reset.val();
        self.s2_ch.reset.next = self.reset.val();
        self.s2_y.reset.next = self.reset.val();
        self.s2_x.reset.next = self.reset.val();
        self.s2_lanes.reset.next = self.reset.val();
        self.o_valid.reset.next = self.reset.val();
        self.o_ch.reset.next = self.reset.val();
        self.o_y.reset.next = self.reset.val();
        self.o_x.reset.next = self.reset.val();
        self.o_lanes.reset.next = self.reset.val();
        for k in 0..self.buf.len() {
            self.buf[k].clock.next = self.clock.val();
            self.buf[k].reset.next = self.reset.val();
            self.buf[k].d.next = self.buf[k].q.val();
            self.buf_lo[k].clock.next = self.clock.val();
            self.buf_lo[k].reset.next = self.reset.val();
            self.buf_lo[k].d.next = self.buf_lo[k].q.val();
        }
        // The combiners of column 0's sources.
        self.combine_in.hi_bias.next = self.in_acc[0].val();
        self.combine_in.lo.next = self.in_lo[0].val();
        self.combine_in.low_shift.next = self.low_shift.val();
        for cols in self.cols()..self.cols_end() {
            for l in 0..self.combine_shift.len() {
                self.combine_shift[l].hi_bias.next = self.buf[l * cols + 1].q.val();
                self.combine_shift[l].lo.next = self.buf_lo[l * cols + 1].q.val();
                self.combine_shift[l].low_shift.next = self.low_shift.val();
            }
            for l in 0..self.combine_queue.len() {
                self.combine_queue[l].hi_bias.next = self.queue_lanes[l * cols].rd_data.val();
                self.combine_queue[l].lo.next = self.queue_lo[l * cols].rd_data.val();
                self.combine_queue[l].low_shift.next = self.low_shift.val();
            }
        }

        // Handshakes: each stage advances when the next is empty or advances.
        self.en3.next = !self.o_valid.q.val() | self.out_ready.val();
        self.en2.next = !self.s2_valid.q.val() | self.en3.val();
        self.en1.next = !self.s1_valid.q.val() | self.en2.val();
        self.emit.next = self.full.q.val() & self.en1.val();

        // Row to pixel: a down-counter over the in-range rows.
        self.in_range.next = self.in_row.val() < self.rows_in.val();
        self.top_row.next = self.in_row.val() + self.one.val() == self.rows_in.val();
        // The row's column j and whether it is a valid one (j < valid_w):
        // both compares are made before the choice between the counter
        // and the first row's j, which keeps them off the row handshake's
        // path (`ready` is the array's drain enable).
        self.cur_i.next = self.cnt_i.q.val();
        self.cur_j.next = self.cnt_j.q.val();
        self.j_valid.next = self.cnt_j.q.val() < self.valid_w.val();
        if self.top_row.val() {
            self.cur_i.next = (self.valid_h.val() - self.one.val()) & self.rows_mask.val();
            self.cur_j.next = (self.tile_w.val() - self.one.val()) & self.rows_mask.val();
            self.j_valid.next = self.tile_w.val() <= self.valid_w.val();
        }
        for k in 0..self.ascending() {
            // Row taps: an up-counter from row 0.
            self.cur_i.next = self.cnt_i.q.val();
            self.cur_j.next = self.cnt_j.q.val();
            self.j_valid.next = self.cnt_j.q.val() < self.valid_w.val();
            if self.ascending[k].val() & (self.in_row.val() == self.zero.val()) {
                self.cur_i.next = self.zero.val();
                self.cur_j.next = self.zero.val();
                self.j_valid.next = self.valid_w.val() != self.zero.val();
            }
        }
        self.row_ok.next =
            self.in_range.val() & self.j_valid.val() & (self.tile_oc0.val() < self.c_out.val());
        // The row's lane, and whether it closes its group.
        self.x_now.next = self.tile_ow0.val() + self.cur_j.val();
        self.lane_now.next = self.x_now.val() & self.lane_m.val();
        self.lane_bit.next = self.one.val() << self.lane_now.val();
        self.base_now.next = self.x_now.val() - self.lane_now.val();
        self.closes.next =
            (self.cur_j.val() == self.zero.val()) | (self.lane_now.val() == self.zero.val());
        for _k in 0..self.ascending() {
            self.closes.next = (self.cur_j.val() + self.one.val() == self.valid_w.val())
                | (self.lane_now.val() == self.lane_m.val());
        }
        self.lanes_now.next = self.lane_bit.val();
        if self.open.q.val() {
            self.lanes_now.next = self.open_lanes.q.val() | self.lane_bit.val();
        }

        // An idle row, or a further row of the open group, is taken at once;
        // a group's first row when the buffer frees (or, with a queue,
        // while the queue has room).
        self.frees.next = !(self.full.q.val() | (self.open.q.val() & !self.open_q.q.val()))
            | (self.emit.val() & self.last_col.q.val());
        self.room_now.next = self.frees.val() | self.open.q.val();
        self.to_buf.next = true;
        for z in 0..self.queued() {
            self.queue[z].clock.next = self.clock.val();
            self.queue[z].reset.next = self.reset.val();
            if self.queue[z].queued.val() < self.queue_limit[z].val() {
                self.room_now.next = true;
            }
            self.to_buf.next = self.frees.val() & !self.queue[z].nonempty.val();
            if self.open.q.val() {
                self.to_buf.next = !self.open_q.q.val();
            }
        }
        self.ready.next = self.room_now.val() | !self.row_ok.val();
        self.in_ready.next = self.ready.val();
        // Burst read-out: the groups held past this cycle, against the
        // next tile's.
        for k in 0..self.tile_room.len() {
            self.held[k].next = self.zero.val();
            if self.full.q.val() & !(self.emit.val() & self.last_col.q.val()) {
                self.held[k].next = self.one.val();
            }
            for z in 0..self.queued() {
                self.held[k].next = self.held[k].val() + self.queue[z].queued.val();
            }
            self.tile_room[k].ow0.next = self.next_ow0[k].val();
            self.tile_room[k].valid_h.next = self.next_valid_h[k].val();
            self.tile_room[k].valid_w.next = self.next_valid_w[k].val();
            self.tile_room[k].held.next = self.held[k].val();
            self.room[k].next = self.tile_room[k].room.val();
            self.oversize[k].next = self.tile_room[k].oversize.val();
        }
        self.accept.next = self.in_valid.val() & self.ready.val();
        // (= accept & row_ok, written without `accept`: the array's row
        // handshake is the same AND, and synthesis merged the two, so
        // the row buffer's load enable went to the array and back.)
        self.take_row.next = self.in_valid.val() & self.row_ok.val() & self.room_now.val();
        if self.take_row.val() {
            self.open.d.next = !self.closes.val();
            self.open_q.d.next = !self.to_buf.val();
            self.open_lanes.d.next = self.lanes_now.val();
        }
        if self.accept.val() & self.in_range.val() {
            self.cnt_i.d.next = self.cur_i.val();
            self.cnt_j.d.next = self.cur_j.val() - self.one.val();
            if self.cur_j.val() == self.zero.val() {
                self.cnt_i.d.next = self.cur_i.val() - self.one.val();
                self.cnt_j.d.next = self.tile_w.val() - self.one.val();
            }
            for _k in 0..self.ascending() {
                self.cnt_i.d.next = self.cur_i.val();
                self.cnt_j.d.next = self.cur_j.val() + self.one.val();
                if self.cur_j.val() + self.one.val() == self.tile_w.val() {
                    self.cnt_i.d.next = self.cur_i.val() + self.one.val();
                    self.cnt_j.d.next = self.zero.val();
                }
            }
        }

        // Row buffer: emit column 0 of every lane, shift the others down.
        if self.emit.val() {
            self.col.d.next = self.col.q.val() + self.one.val();
            self.row_ch.d.next = self.row_ch.q.val() + self.one.val();
            self.last_col.d.next = (self.col.q.val() + self.two.val() == self.cols_c.val())
                | (self.row_ch.q.val() + self.two.val() >= self.row_cout.q.val());
            for cols in self.cols()..self.cols_end() {
                for l in 0..self.lanes() {
                    for k in 2..self.cols() {
                        self.buf[l * cols + k - 1].d.next = self.buf[l * cols + k].q.val();
                        self.buf_lo[l * cols + k - 1].d.next = self.buf_lo[l * cols + k].q.val();
                    }
                }
                for l in 0..self.combine_shift.len() {
                    self.buf[l * cols].d.next = self.combine_shift[l].acc.val();
                }
            }
            if self.last_col.q.val() {
                self.full.d.next = false;
            }
        }
        // A row goes straight into the buffer when it is taken into it, or
        // (below) when it closes a group gathered in the queue.
        self.direct.next = self.take_row.val() & self.to_buf.val();
        for z in 0..self.queued() {
            // The queue: a row taken into it writes its lane at the tail; the
            // closing row pushes the group, or hands it straight to the free
            // buffer when nothing is queued before it.
            self.bypass[z].next = self.take_row.val()
                & !self.to_buf.val()
                & self.closes.val()
                & self.frees.val()
                & !self.queue[z].nonempty.val();
            self.pop[z].next = self.frees.val() & self.queue[z].nonempty.val();
            self.queue[z].pop.next = self.pop[z].val();
            self.queue[z].push.next = self.take_row.val()
                & !self.to_buf.val()
                & self.closes.val()
                & !self.bypass[z].val();
            self.queue[z].in_y.next = self.tile_oh0.val() + self.cur_i.val();
            self.queue[z].in_x.next = self.base_now.val();
            self.queue[z].in_ch.next = self.tile_oc0.val();
            self.queue[z].in_lanes.next = self.lanes_now.val();
            for cols in self.cols()..self.cols_end() {
                for l in 0..self.lanes() {
                    for k in 0..self.cols() {
                        self.queue_lanes[l * cols + k].clock.next = self.clock.val();
                        self.queue_lanes[l * cols + k].wr_en.next = self.take_row.val()
                            & !self.to_buf.val()
                            & (self.lane_now.val() == self.lane_c[l].val());
                        self.queue_lanes[l * cols + k].wr_addr.next = self.queue[z].tail_addr.val();
                        self.queue_lanes[l * cols + k].wr_data.next = self.in_acc[k].val();
                        self.queue_lanes[l * cols + k].rd_addr.next = self.queue[z].head_addr.val();
                        self.queue_lo[l * cols + k].clock.next = self.clock.val();
                        self.queue_lo[l * cols + k].wr_en.next =
                            self.queue_lanes[l * cols + k].wr_en.val();
                        self.queue_lo[l * cols + k].wr_addr.next = self.queue[z].tail_addr.val();
                        self.queue_lo[l * cols + k].wr_data.next = self.in_lo[k].val();
                        self.queue_lo[l * cols + k].rd_addr.next = self.queue[z].head_addr.val();
                    }
                }
            }
            if self.bypass[z].val() {
                self.direct.next = true;
            }
            // The buffer loads the queue's head, or the group gathered at
            // the tail that the row taken now closes.
            if self.pop[z].val() | self.bypass[z].val() {
                for cols in self.cols()..self.cols_end() {
                    for l in 0..self.lanes() {
                        for k in 1..self.cols() {
                            self.buf[l * cols + k].d.next =
                                self.queue_lanes[l * cols + k].rd_data.val();
                            self.buf_lo[l * cols + k].d.next =
                                self.queue_lo[l * cols + k].rd_data.val();
                        }
                        self.buf[l * cols].d.next = self.combine_queue[l].acc.val();
                    }
                }
            }
            if self.pop[z].val() {
                self.full.d.next = true;
                self.col.d.next = self.zero.val();
                self.row_cout.d.next = self.c_out.val();
                self.row_ch.d.next = self.queue[z].head_ch.val();
                self.last_col.d.next = (self.one.val() == self.cols_c.val())
                    | (self.queue[z].head_ch.val() + self.one.val() >= self.c_out.val());
                self.row_y.d.next = self.queue[z].head_y.val();
                self.row_x.d.next = self.queue[z].head_x.val();
                self.row_lanes.d.next = self.queue[z].head_lanes.val();
            }
        }
        // The row taken into the buffer loads its lane (`load_buf`), the
        // group's position is latched; the closing row makes the group whole.
        self.load_buf.next = (self.frees.val() & self.to_buf.val()) | self.direct.val();
        if self.load_buf.val() {
            for cols in self.cols()..self.cols_end() {
                for l in 0..self.lanes() {
                    if self.lane_now.val() == self.lane_c[l].val() {
                        for k in 1..self.cols() {
                            self.buf[l * cols + k].d.next = self.in_acc[k].val();
                            self.buf_lo[l * cols + k].d.next = self.in_lo[k].val();
                        }
                        self.buf[l * cols].d.next = self.combine_in.acc.val();
                    }
                }
            }
        }
        if self.direct.val() {
            self.full.d.next = self.closes.val();
            self.col.d.next = self.zero.val();
            self.row_ch.d.next = self.tile_oc0.val();
            self.row_cout.d.next = self.c_out.val();
            self.last_col.d.next = (self.one.val() == self.cols_c.val())
                | (self.tile_oc0.val() + self.one.val() >= self.c_out.val());
            self.row_y.d.next = self.tile_oh0.val() + self.cur_i.val();
            self.row_x.d.next = self.base_now.val();
            self.row_lanes.d.next = self.lanes_now.val();
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

        // The requantisers take column 0 of their lane.
        for cols in self.cols()..self.cols_end() {
            for l in 0..self.lanes() {
                self.requant[l].clock.next = self.clock.val();
                self.requant[l].reset.next = self.reset.val();
                self.requant[l].en1.next = self.en1.val();
                self.requant[l].en2.next = self.en2.val();
                self.requant[l].en3.next = self.en3.val();
                self.requant[l].acc.next = self.buf[l * cols].q.val();
                self.requant[l].requant_mult.next = self.requant_mult.val();
                self.requant[l].rnd.next = self.rnd_q.q.val();
                self.requant[l].sh.next = self.sh_q.q.val();
                self.requant[l].sh_over.next = self.sh_over_q.q.val();
                self.out_value[l].next = self.requant[l].value.val();
                self.out_acc[l].next = self.requant[l].acc_out.val();
            }
        }
        if self.en1.val() {
            self.s1_valid.d.next = self.emit.val();
            self.s1_ch.d.next = self.row_ch.q.val();
            self.s1_y.d.next = self.row_y.q.val();
            self.s1_x.d.next = self.row_x.q.val();
            self.s1_lanes.d.next = self.row_lanes.q.val();
        }
        if self.en2.val() {
            self.s2_valid.d.next = self.s1_valid.q.val();
            self.s2_ch.d.next = self.s1_ch.q.val();
            self.s2_y.d.next = self.s1_y.q.val();
            self.s2_x.d.next = self.s1_x.q.val();
            self.s2_lanes.d.next = self.s1_lanes.q.val();
        }
        if self.en3.val() {
            self.o_valid.d.next = self.s2_valid.q.val();
            self.o_ch.d.next = self.s2_ch.q.val();
            self.o_y.d.next = self.s2_y.q.val();
            self.o_x.d.next = self.s2_x.q.val();
            self.o_lanes.d.next = self.s2_lanes.q.val();
        }

        self.out_valid.next = self.o_valid.q.val();
        self.out_channel.next = self.o_ch.q.val();
        self.out_y.next = self.o_y.q.val();
        self.out_x.next = self.o_x.q.val();
        self.out_lanes.next = self.o_lanes.q.val();
        self.busy.next = self.full.q.val()
            | self.open.q.val()
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
/// `in_lo` COLS lanes of `acc_lo_bits` (signed), `low_shift`
/// `low_shift_bits`,
/// `requant_mult` 16, `requant_shift` 6, tile and layer fields and the
/// element position 16 bits, `out_lanes` L bits, `out_value` L lanes of
/// A_HI, `out_acc` L lanes of ACC_BITS.
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
        scalar("rows_in", Input, 2 * clog2(cfg.rows + 1), Zero),
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
        ShellPort::new(
            "in_lo",
            "in_lo",
            Input,
            cfg.acc_lo_bits(),
            Some(cfg.cols),
            Sign,
        ),
        scalar(
            "low_shift",
            Input,
            TokenFormat::new(cfg).low_shift_bits,
            Zero,
        ),
        scalar("out_valid", Output, 1, Flag),
        scalar("out_ready", Input, 1, Flag),
        scalar("out_channel", Output, 16, Zero),
        scalar("out_y", Output, 16, Zero),
        scalar("out_x", Output, 16, Zero),
        scalar("out_lanes", Output, cfg.out_lanes, Zero),
        ShellPort {
            name: "out_value".into(),
            core_name: "out_value".into(),
            dir: Output,
            lane_width: cfg.a_hi,
            lanes: Lanes::Vector {
                count: cfg.out_lanes,
            },
            extend: Zero,
        },
        ShellPort {
            name: "out_acc".into(),
            core_name: "out_acc".into(),
            dir: Output,
            lane_width: cfg.acc_bits,
            lanes: Lanes::Vector {
                count: cfg.out_lanes,
            },
            extend: Zero,
        },
        scalar("busy", Output, 1, Flag),
    ]);
    if cfg.burst_readout {
        let one = |name: &str, dir, width| ShellPort {
            name: name.into(),
            core_name: name.into(),
            dir,
            lane_width: width,
            lanes: Lanes::Vector { count: 1 },
            extend: Zero,
        };
        ports.extend([
            one("next_ow0", Input, 16),
            one("next_valid_h", Input, 16),
            one("next_valid_w", Input, 16),
            ShellPort {
                extend: Flag,
                ..one("room", Output, 1)
            },
            ShellPort {
                extend: Flag,
                ..one("oversize", Output, 1)
            },
        ]);
    }
    design(
        "drq_output_stage",
        "drq_output_stage_core",
        cfg,
        ports,
        &mut OutputStage::new(cfg),
    )
}
