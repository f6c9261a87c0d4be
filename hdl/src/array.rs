//! The variable-precision systolic array: input skew, mesh, read-out.
//!
//! Host side (one token for every row and column at once, unskewed):
//! `in_valid`/`in_ready` handshake; `in_last` marks the last token of a tile.
//! After the last token the array stops accepting, lets the tokens flow
//! through (FLUSH, ROWS + COLS - 1 cycles), then drains: each cycle with
//! `out_valid && out_ready` one array row leaves at the bottom (row ROWS-1
//! first, `out_row` says which), every column at once:
//! `out_acc[c] = acc_hi + bias[c]`, wrapped at ACC_BITS, and `out_lo[c] =
//! acc_lo` (`AccelConfig::acc_lo_bits`); the column's result is
//! `out_acc + (out_lo << low_shift)`, which the output stage forms per
//! element (`acc_combine.rs`), so the layer's low shift does not reach
//! every column.
//!
//! Bubbles (`in_valid` low) travel through the mesh as invalid tokens; a
//! stalled read-out (`out_ready` low) holds the drain. Nothing is lost.
//! Cycles of a tile without bubbles or stalls: tokens + 2*ROWS + COLS - 1
//! (`docs/array.md`).
//!
//! With shadow accumulators (`overlap`) the PEs hand a finished tile to
//! their shadow cells (`shadow.rs`) and the array keeps taking tokens
//! through the flush and the read-out, which run from the shadows. Only the
//! next tile's last token waits: it is not taken while a tile flushes or
//! reads out, so a tile's read-out has finished (its row 0 handshake in an
//! earlier cycle) before the next tile swaps into the shadows.
//!
//! With a burst read-out (`burst_readout`, with row taps) a flushed tile's
//! read-out starts (`out_start`) only when the output stage says it can
//! take the whole tile now (`out_room`), so its rows leave in ROWS
//! consecutive cycles, and the next tile's last token may enter from the
//! first of them on: its swap of row r comes after row r was read. Two
//! tiles are then in the read-out machinery, one reading out and the next
//! flushing (or flushed and waiting), with a flush counter of its own. A
//! tile the stage can never take whole (`out_oversize`) is read out with
//! backpressure, and the next last token waits for its end, as without
//! bursts. The bias is latched at the start, since the next tile's last
//! token reads the next bias while this tile's rows still leave.

use crate::leaf::{konst, low_mask, vec_of, word, Reg, Sext, Word, WordReg};
use crate::mesh::Mesh;
use crate::pe::PeParams;
use crate::shell::{clog2, Design, Dir, ShellPort, Widen};
use crate::skew::Delay;
use drq_arch::config::AccelConfig;
use drq_arch::token::TokenFormat;
use rust_hdl::prelude::*;

/// Cycles from the cycle after the last token is accepted until read-out
/// (`AccelConfig::flush_cycles`: ROWS + COLS - 1, COLS with row taps).
pub fn flush_cycles(cfg: &AccelConfig) -> u64 {
    u64::from(cfg.flush_cycles())
}

/// Cycles of one tile of `tokens` tokens with no bubbles and no read-out stalls.
pub fn tile_cycles(cfg: &AccelConfig, tokens: u64) -> u64 {
    tokens + flush_cycles(cfg) + u64::from(cfg.rows)
}

/// Cycles of tiles of `tokens[t]` tokens offered back to back (each token
/// in the first cycle the array takes it), with no bubbles and no read-out
/// stalls, from the first token offered to the last row's handshake,
/// inclusive. Without shadow accumulators the sum of [`tile_cycles`]; with
/// them a tile's last token is taken in cycle
/// e = max(s + T - 1, h + 1) (s its first token's cycle, h the previous
/// tile's last row handshake), its rows offered from e + 1 + F on, the next
/// tile's first token in cycle e + 1.
///
/// With `burst_readout` (and a stage always with room) the read-out starts
/// in the cycle x = max(e + F, h + 1) (h the previous tile's last row
/// handshake), its rows in x + 1 .. x + ROWS, and the next tile's last
/// token waits only for x + 1.
pub fn stream_cycles(cfg: &AccelConfig, tokens: &[u64]) -> u64 {
    if !cfg.overlap {
        return tokens.iter().map(|&t| tile_cycles(cfg, t)).sum();
    }
    if cfg.burst_readout {
        let rows = u64::from(cfg.rows);
        let (mut first, mut prev) = (0u64, None::<(u64, u64)>);
        for &t in tokens {
            let last = (first + t - 1).max(prev.map_or(0, |(h0, _)| h0));
            let start = (last + flush_cycles(cfg)).max(prev.map_or(0, |(_, h)| h + 1));
            prev = Some((start + 1, start + rows));
            first = last + 1;
        }
        return prev.map_or(0, |(_, h)| h + 1);
    }
    let (mut first, mut row0) = (0u64, None::<u64>);
    for &t in tokens {
        let last = row0.map_or(first + t - 1, |h0| (first + t - 1).max(h0 + 1));
        row0 = Some(last + flush_cycles(cfg) + u64::from(cfg.rows));
        first = last + 1;
    }
    row0.map_or(0, |h0| h0 + 1)
}

#[derive(LogicBlock)]
pub struct SystolicArray {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Token input.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_first: Signal<In, Bit>,
    pub in_commit: Signal<In, Bit>,
    pub in_last: Signal<In, Bit>,
    pub in_hshift: Signal<In, Word>,
    pub in_digit: Vec<Signal<In, Word>>,
    pub in_sens: Vec<Signal<In, Bit>>,
    pub in_w_digit: Vec<Signal<In, Word>>,
    pub in_w_low: Vec<Signal<In, Word>>,
    // The tile's bias, one per column.
    pub bias: Vec<Signal<In, Word>>,
    // Read-out.
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_row: Signal<Out, Word>,
    /// acc_hi + bias, ACC_BITS bits.
    pub out_acc: Vec<Signal<Out, Word>>,
    /// acc_lo, its `acc_lo_bits` bits (two's complement).
    pub out_lo: Vec<Signal<Out, Word>>,
    /// A tile is in the array (accepted tokens not yet read out).
    pub busy: Signal<Out, Bit>,
    /// Burst read-out only (else none): the output stage can take the
    /// flushed tile whole now, or never can; the read-out starts (a pulse
    /// in the cycle before its first row).
    pub out_room: Vec<Signal<In, Bit>>,
    pub out_oversize: Vec<Signal<In, Bit>>,
    pub out_start: Vec<Signal<Out, Bit>>,
    acc_mask: Constant<Word>,
    /// The high accumulator's narrow width (`AccelConfig::acc_hi_bits`):
    /// its mask and sign bit, to sign-extend each column's at the
    /// read-out; the low accumulator's mask (`acc_lo_bits`): the PEs keep
    /// acc_lo in those bits, but the row taps are a kept module whose
    /// 64-bit outputs synthesis cannot see through, so the mask tells it
    /// the upper bits are zero (58 LUT-eq at 16x16 without it).
    acc_hi_mask: Constant<Word>,
    acc_hi_sign: Constant<Word>,
    acc_lo_mask: Constant<Word>,
    col_hi: Vec<Signal<Local, Word>>,
    flush_start: Constant<Word>,
    /// The read-out's first and last row and the count's step per row:
    /// ROWS-1, 0, -1 (the chain), or 0, ROWS-1, +1 (row taps).
    drain_start: Constant<Word>,
    drain_last: Constant<Word>,
    drain_step: Constant<Word>,
    one: Constant<Word>,
    zero: Constant<Word>,
    /// Row taps on the PEs only (else none): one-hot, the row being read
    /// out, whose PEs restart as it is read. Row 0 when a read-out starts,
    /// moved up by each handshake, none after the last. Each column's
    /// multiplexer in the mesh keeps a copy of its own (`RowTaps`).
    tap_sel: Vec<Reg<Bit>>,
    /// A read-out starts: its first row is offered from the next cycle on
    /// (row taps only, else none).
    read_start: Vec<Signal<Local, Bit>>,
    /// A read-out row's handshake this cycle (DRAIN and `out_ready`).
    row_taken: Signal<Local, Bit>,
    /// Row taps on the PEs with two rows or more (else none): row r was
    /// read in the cycle before, so its PEs restart from zero now.
    /// Registered, so the output stage's handshake reaches one flip-flop a
    /// row, not every accumulator's reset. Row r's next token comes r
    /// cycles after the read-out's end at the earliest, and row r was read
    /// ROWS - 1 - r cycles before it at the latest, so the clear is in
    /// time with ROWS >= 2; a single row restarts in its handshake's cycle.
    row_clear_q: Vec<Reg<Bit>>,
    /// FLUSH phase.
    flushing: Reg<Bit>,
    /// DRAIN phase.
    draining: Reg<Bit>,
    /// A token has been accepted since the last read-out.
    holding: Reg<Bit>,
    /// Cycles left in FLUSH / row being read out in DRAIN.
    count: WordReg,
    accept: Signal<Local, Bit>,
    /// The bias the read-out adds: `bias`, or with a burst read-out the
    /// bias latched at its start.
    bias_now: Vec<Signal<Local, Word>>,
    /// Burst read-out only (else none): the latched bias; the tile after
    /// the one reading out is flushed and waits; its flush counter; the
    /// read-out in progress is a burst; the read-out may start now.
    bias_q: Vec<WordReg>,
    flushed: Vec<Reg<Bit>>,
    flush_count: Vec<WordReg>,
    sure: Vec<Reg<Bit>>,
    start: Vec<Signal<Local, Bit>>,
    /// Row r >= 1 is delayed by r cycles (row 0 enters directly); likewise columns.
    row_valid: Vec<Delay<Bit>>,
    row_first: Vec<Delay<Bit>>,
    row_commit: Vec<Delay<Bit>>,
    row_hshift: Vec<Delay<Word>>,
    row_digit: Vec<Delay<Word>>,
    row_sens: Vec<Delay<Bit>>,
    /// `last` of row r >= 1 (shadow accumulators only, else none).
    row_last: Vec<Delay<Bit>>,
    col_w_digit: Vec<Delay<Word>>,
    col_w_low: Vec<Delay<Word>>,
    mesh: Mesh,
}

impl SystolicArray {
    pub fn new(cfg: &AccelConfig) -> SystolicArray {
        let (rows, cols) = (cfg.rows as usize, cfg.cols as usize);
        let p = PeParams::new(cfg);
        let burst = usize::from(cfg.burst_readout);
        // The PEs' narrow accumulators, sign-extended at the read-out.
        let hi = Sext::new(cfg.acc_hi_bits());
        SystolicArray {
            clock: Default::default(),
            reset: Default::default(),
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
            bias: vec_of(cols),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_row: Default::default(),
            out_acc: vec_of(cols),
            out_lo: vec_of(cols),
            busy: Default::default(),
            out_room: vec_of(burst),
            out_oversize: vec_of(burst),
            out_start: vec_of(burst),
            bias_now: vec_of(cols),
            bias_q: (0..if cfg.burst_readout { cols } else { 0 })
                .map(|_| WordReg::unsigned(cfg.acc_bits))
                .collect(),
            flushed: vec_of(burst),
            flush_count: (0..burst)
                .map(|_| WordReg::unsigned(clog2(cfg.cols + 1)))
                .collect(),
            sure: vec_of(burst),
            start: vec_of(burst),
            acc_mask: Constant::new(word(low_mask(cfg.acc_bits) as i64)),
            acc_hi_mask: hi.mask,
            acc_hi_sign: hi.sign,
            acc_lo_mask: konst(low_mask(cfg.acc_lo_bits())),
            col_hi: vec_of(cols),
            flush_start: Constant::new(word(flush_cycles(cfg) as i64 - 1)),
            drain_start: Constant::new(word(if cfg.row_taps { 0 } else { rows as i64 - 1 })),
            drain_last: Constant::new(word(if cfg.row_taps { rows as i64 - 1 } else { 0 })),
            drain_step: Constant::new(word(if cfg.row_taps { 1 } else { -1 })),
            one: Constant::new(word(1)),
            zero: Constant::new(word(0)),
            tap_sel: vec_of(if cfg.row_taps && !cfg.overlap {
                rows
            } else {
                0
            }),
            read_start: vec_of(usize::from(cfg.row_taps)),
            row_taken: Default::default(),
            row_clear_q: vec_of(if cfg.row_taps && !cfg.overlap && rows >= 2 {
                rows
            } else {
                0
            }),
            flushing: Default::default(),
            draining: Default::default(),
            holding: Default::default(),
            // Counts down from ROWS + COLS - 2 (the flush) or ROWS - 1.
            count: WordReg::unsigned(clog2(cfg.rows + cfg.cols)),
            accept: Default::default(),
            row_valid: (1..rows).map(Delay::new).collect(),
            row_first: (1..rows).map(Delay::new).collect(),
            row_commit: (1..rows).map(Delay::new).collect(),
            row_hshift: (1..rows).map(Delay::new).collect(),
            row_digit: (1..rows).map(Delay::new).collect(),
            row_sens: (1..rows).map(Delay::new).collect(),
            row_last: (1..if cfg.overlap { rows } else { 1 })
                .map(Delay::new)
                .collect(),
            col_w_digit: (1..cols).map(Delay::new).collect(),
            col_w_low: (1..cols).map(Delay::new).collect(),
            mesh: Mesh::new(rows, cols, &p, cfg.row_taps),
        }
    }
    fn rows(&self) -> usize {
        self.in_digit.len()
    }
    fn cols(&self) -> usize {
        self.in_w_digit.len()
    }
    /// With shadow accumulators: 1 and ROWS; else 0 and 0.
    fn overlap(&self) -> usize {
        self.mesh.row_last.len().min(1)
    }
    fn shadow_rows(&self) -> usize {
        self.mesh.row_last.len()
    }
    /// 1 with row taps (the read-out selects a row), else 0.
    fn taps(&self) -> usize {
        self.mesh.tap_start.len()
    }
    /// 1 with the read-out chain (no row taps), else 0: the mesh's
    /// `drain` shifts it (or swaps the shadows).
    fn chain_drains(&self) -> usize {
        usize::from(self.taps() == 0)
    }
    /// 1 with row taps on the shadows, else 0: their `drain` is held low.
    fn shadow_taps(&self) -> usize {
        self.taps() - self.pe_taps()
    }
    /// ROWS with row taps on the PEs (no shadows), else 0.
    fn tap_rows(&self) -> usize {
        self.tap_sel.len()
    }
    /// 1 with row taps on the PEs (no shadows), else 0.
    fn pe_taps(&self) -> usize {
        self.tap_sel.len().min(1)
    }
    /// The rows whose restart is the handshake itself, not registered:
    /// the single row of a one-row array with row taps on the PEs, else 0.
    fn unregistered_clears(&self) -> usize {
        self.mesh.row_clear.len() - self.row_clear_q.len()
    }
    /// 1 with a burst read-out, else 0; COLS with it, else 0.
    fn burst(&self) -> usize {
        self.out_start.len()
    }
    fn burst_cols(&self) -> usize {
        self.bias_q.len()
    }
}

impl Logic for SystolicArray {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, flushing, draining, holding, count);
        self.flushing.reset.next = self.reset.val();
        self.draining.reset.next = self.reset.val();
        self.holding.reset.next = self.reset.val();
        self.count.reset.next = self.reset.val();
        self.mesh.clock.next = self.clock.val();
        self.mesh.reset.next = self.reset.val();

        // Accept tokens unless flushing or draining.
        self.in_ready.next = !self.flushing.q.val() & !self.draining.q.val();
        self.accept.next = self.in_valid.val() & !self.flushing.q.val() & !self.draining.q.val();
        self.busy.next = self.holding.q.val() | self.flushing.q.val() | self.draining.q.val();
        // With shadow accumulators only a tile's last token waits for the
        // flush and read-out of the tile before.
        for _k in 0..self.overlap() {
            self.in_ready.next =
                !(self.in_last.val() & (self.flushing.q.val() | self.draining.q.val()));
            self.accept.next = self.in_valid.val()
                & !(self.in_last.val() & (self.flushing.q.val() | self.draining.q.val()));
            self.mesh.row_last[0].next = self.in_last.val();
        }
        // Burst read-out: the last token waits while a tile flushes or
        // waits, and while a read-out that is no burst goes on.
        for k in 0..self.burst() {
            self.in_ready.next = !(self.in_last.val()
                & (self.flushing.q.val()
                    | self.flushed[k].q.val()
                    | (self.draining.q.val() & !self.sure[k].q.val())));
            self.accept.next = self.in_valid.val() & self.in_ready.val();
            self.busy.next = self.holding.q.val()
                | self.flushing.q.val()
                | self.flushed[k].q.val()
                | self.draining.q.val();
            self.start[k].next = ((self.flushing.q.val()
                & (self.flush_count[k].q.val() == self.zero.val()))
                | self.flushed[k].q.val())
                & !self.draining.q.val()
                & (self.out_room[k].val() | self.out_oversize[k].val());
            self.out_start[k].next = self.start[k].val();
        }
        for r in 1..self.shadow_rows() {
            self.row_last[r - 1].clock.next = self.clock.val();
            self.row_last[r - 1].reset.next = self.reset.val();
            self.row_last[r - 1].data_in.next = self.in_last.val();
            self.mesh.row_last[r].next = self.row_last[r - 1].data_out.val();
        }

        // Skew: row r's token is delayed by r cycles (row 0 enters directly).
        self.mesh.row_valid[0].next = self.accept.val();
        self.mesh.row_first[0].next = self.in_first.val();
        self.mesh.row_commit[0].next = self.in_commit.val();
        self.mesh.row_hshift[0].next = self.in_hshift.val();
        self.mesh.row_digit[0].next = self.in_digit[0].val();
        self.mesh.row_sens[0].next = self.in_sens[0].val();
        for r in 1..self.rows() {
            self.row_valid[r - 1].clock.next = self.clock.val();
            self.row_valid[r - 1].reset.next = self.reset.val();
            self.row_first[r - 1].clock.next = self.clock.val();
            self.row_first[r - 1].reset.next = self.reset.val();
            self.row_commit[r - 1].clock.next = self.clock.val();
            self.row_commit[r - 1].reset.next = self.reset.val();
            self.row_hshift[r - 1].clock.next = self.clock.val();
            self.row_hshift[r - 1].reset.next = self.reset.val();
            self.row_digit[r - 1].clock.next = self.clock.val();
            self.row_digit[r - 1].reset.next = self.reset.val();
            self.row_sens[r - 1].clock.next = self.clock.val();
            self.row_sens[r - 1].reset.next = self.reset.val();
            self.row_valid[r - 1].data_in.next = self.accept.val();
            self.mesh.row_valid[r].next = self.row_valid[r - 1].data_out.val();
            self.row_first[r - 1].data_in.next = self.in_first.val();
            self.mesh.row_first[r].next = self.row_first[r - 1].data_out.val();
            self.row_commit[r - 1].data_in.next = self.in_commit.val();
            self.mesh.row_commit[r].next = self.row_commit[r - 1].data_out.val();
            self.row_hshift[r - 1].data_in.next = self.in_hshift.val();
            self.mesh.row_hshift[r].next = self.row_hshift[r - 1].data_out.val();
            self.row_digit[r - 1].data_in.next = self.in_digit[r].val();
            self.mesh.row_digit[r].next = self.row_digit[r - 1].data_out.val();
            self.row_sens[r - 1].data_in.next = self.in_sens[r].val();
            self.mesh.row_sens[r].next = self.row_sens[r - 1].data_out.val();
        }
        self.mesh.col_w_digit[0].next = self.in_w_digit[0].val();
        self.mesh.col_w_low[0].next = self.in_w_low[0].val();
        for c in 1..self.cols() {
            self.col_w_digit[c - 1].clock.next = self.clock.val();
            self.col_w_digit[c - 1].reset.next = self.reset.val();
            self.col_w_low[c - 1].clock.next = self.clock.val();
            self.col_w_low[c - 1].reset.next = self.reset.val();
            self.col_w_digit[c - 1].data_in.next = self.in_w_digit[c].val();
            self.col_w_low[c - 1].data_in.next = self.in_w_low[c].val();
            self.mesh.col_w_digit[c].next = self.col_w_digit[c - 1].data_out.val();
            self.mesh.col_w_low[c].next = self.col_w_low[c - 1].data_out.val();
        }

        // Read-out: combine the bottom row's accumulators with the bias.
        for c in 0..self.cols() {
            self.bias_now[c].next = self.bias[c].val();
        }
        for c in 0..self.burst_cols() {
            self.bias_q[c].clock.next = self.clock.val();
            self.bias_q[c].reset.next = self.reset.val();
            self.bias_now[c].next = self.bias_q[c].q.val();
        }
        for c in 0..self.cols() {
            self.col_hi[c].next = self.mesh.col_acc_hi[c].val();
            if (self.mesh.col_acc_hi[c].val() & self.acc_hi_sign.val()).any() {
                self.col_hi[c].next = self.mesh.col_acc_hi[c].val() | !self.acc_hi_mask.val();
            }
            self.out_acc[c].next =
                (self.col_hi[c].val() + self.bias_now[c].val()) & self.acc_mask.val();
            self.out_lo[c].next = self.mesh.col_acc_lo[c].val() & self.acc_lo_mask.val();
        }
        self.out_valid.next = self.draining.q.val();
        self.out_row.next = self.count.q.val();
        self.row_taken.next = self.draining.q.val() & self.out_ready.val();
        for d in 0..self.chain_drains() {
            self.mesh.drain[d].next = self.row_taken.val();
        }
        for d in 0..self.shadow_taps() {
            // The shadows stay put; the read-out selects a row.
            self.mesh.drain[d].next = false;
        }
        for r in 0..self.tap_rows() {
            self.tap_sel[r].clock.next = self.clock.val();
            self.tap_sel[r].reset.next = self.reset.val();
            // Held, moved up a row by a handshake (row 0 empties; the
            // phase rules below set it when a read-out starts).
            self.tap_sel[r].d.next = self.tap_sel[r].q.val();
        }
        for _k in 0..self.pe_taps() {
            if self.row_taken.val() {
                self.tap_sel[0].d.next = false;
                for r in 1..self.tap_rows() {
                    self.tap_sel[r].d.next = self.tap_sel[r - 1].q.val();
                }
            }
        }
        // Row taps on the PEs: the row read restarts from zero, in the
        // cycle after its handshake (one row: in its handshake's cycle).
        for r in 0..self.unregistered_clears() {
            self.mesh.row_clear[r].next = self.row_taken.val() & self.tap_sel[r].q.val();
        }
        for r in 0..self.row_clear_q.len() {
            self.row_clear_q[r].clock.next = self.clock.val();
            self.row_clear_q[r].reset.next = self.reset.val();
            self.row_clear_q[r].d.next = self.row_taken.val() & self.tap_sel[r].q.val();
            self.mesh.row_clear[r].next = self.row_clear_q[r].q.val();
        }

        // Phases: accept -> (last token) FLUSH -> DRAIN -> accept.
        for k in 0..self.taps() {
            self.read_start[k].next =
                self.flushing.q.val() & (self.count.q.val() == self.zero.val());
        }
        if self.accept.val() {
            self.holding.d.next = true;
            if self.in_last.val() {
                self.flushing.d.next = true;
                self.count.d.next = self.flush_start.val();
            }
        }
        if self.flushing.q.val() {
            self.count.d.next = self.count.q.val() - self.one.val();
            if self.count.q.val() == self.zero.val() {
                self.flushing.d.next = false;
                self.draining.d.next = true;
                self.count.d.next = self.drain_start.val();
            }
        }
        if self.row_taken.val() {
            self.count.d.next = self.count.q.val() + self.drain_step.val();
            if self.count.q.val() == self.drain_last.val() {
                self.draining.d.next = false;
                self.holding.d.next = false;
            }
        }
        // With shadow accumulators `holding` means tokens of a tile whose
        // last token is still to come (flushing and draining cover the
        // rest), so the end of a read-out leaves it alone.
        for _k in 0..self.overlap() {
            self.holding.d.next = self.holding.q.val();
            if self.accept.val() {
                self.holding.d.next = !self.in_last.val();
            }
        }
        // Burst read-out: the flush (`flushing`, then `flushed` while the
        // read-out cannot start) and the read-out (`draining`) each their
        // own counter, so the next tile flushes while this one leaves.
        for k in 0..self.burst() {
            self.flushed[k].clock.next = self.clock.val();
            self.flushed[k].reset.next = self.reset.val();
            self.flush_count[k].clock.next = self.clock.val();
            self.flush_count[k].reset.next = self.reset.val();
            self.sure[k].clock.next = self.clock.val();
            self.sure[k].reset.next = self.reset.val();
            // Every register of the phases from here on (the rules above
            // share `count` between flush and read-out).
            self.flushing.d.next = self.flushing.q.val();
            self.draining.d.next = self.draining.q.val();
            self.count.d.next = self.count.q.val();
            self.flushed[k].d.next = self.flushed[k].q.val();
            self.flush_count[k].d.next = self.flush_count[k].q.val();
            self.sure[k].d.next = self.sure[k].q.val();
            for c in 0..self.burst_cols() {
                self.bias_q[c].d.next = self.bias_q[c].q.val();
            }
            if self.accept.val() & self.in_last.val() {
                self.flushing.d.next = true;
                self.flush_count[k].d.next = self.flush_start.val();
            }
            if self.flushing.q.val() {
                self.flush_count[k].d.next = self.flush_count[k].q.val() - self.one.val();
                if self.flush_count[k].q.val() == self.zero.val() {
                    self.flushing.d.next = false;
                    self.flushed[k].d.next = !self.start[k].val();
                }
            }
            if self.row_taken.val() {
                self.count.d.next = self.count.q.val() + self.one.val();
                if self.count.q.val() == self.drain_last.val() {
                    self.draining.d.next = false;
                }
            }
            for t in 0..self.taps() {
                self.read_start[t].next = self.start[k].val();
            }
            if self.start[k].val() {
                self.flushed[k].d.next = false;
                self.draining.d.next = true;
                self.count.d.next = self.zero.val();
                self.sure[k].d.next = self.out_room[k].val();
                for c in 0..self.burst_cols() {
                    self.bias_q[c].d.next = self.bias[c].val();
                }
            }
        }
        // Row taps: a read-out starts at row 0. The mesh's multiplexers
        // keep copies of `tap_sel`, a copy per column (`RowTaps`).
        for k in 0..self.taps() {
            self.mesh.tap_start[k].next = self.read_start[k].val();
            self.mesh.tap_shift[k].next = self.row_taken.val();
        }
        for k in 0..self.pe_taps() {
            if self.read_start[k].val() {
                self.tap_sel[0].d.next = true;
            }
        }
    }
}

fn array_ports(cfg: &AccelConfig, fmt: &TokenFormat) -> Vec<ShellPort> {
    use Dir::*;
    use Widen::{Flag, Sign, Zero};
    let p = ShellPort::new;
    let rows = Some(cfg.rows);
    let cols = || Some(cfg.cols);
    let mut ports = vec![
        p("clk", "clock", Input, 1, None, Flag),
        p("rst", "reset", Input, 1, None, Flag),
        p("in_valid", "in_valid", Input, 1, None, Flag),
        p("in_ready", "in_ready", Output, 1, None, Flag),
        p("in_first", "in_first", Input, 1, None, Flag),
        p("in_commit", "in_commit", Input, 1, None, Flag),
        p("in_last", "in_last", Input, 1, None, Flag),
        p("in_hshift", "in_hshift", Input, fmt.hshift_bits, None, Zero),
        p("in_digits", "in_digit", Input, fmt.digit_bits, rows, Zero),
        p("in_sens", "in_sens", Input, 1, Some(cfg.rows), Flag),
        p(
            "in_w_digits",
            "in_w_digit",
            Input,
            fmt.w_digit_bits,
            cols(),
            Sign,
        ),
        p("in_w_lows", "in_w_low", Input, fmt.w_low_bits, cols(), Sign),
        p("bias", "bias", Input, 32, cols(), Sign),
        p("out_valid", "out_valid", Output, 1, None, Flag),
        p("out_ready", "out_ready", Input, 1, None, Flag),
        p("out_row", "out_row", Output, clog2(cfg.rows), None, Zero),
        p("out_acc", "out_acc", Output, cfg.acc_bits, cols(), Zero),
        p("out_lo", "out_lo", Output, cfg.acc_lo_bits(), cols(), Zero),
        p("busy", "busy", Output, 1, None, Flag),
    ];
    if cfg.burst_readout {
        ports.extend([
            p("out_room", "out_room", Input, 1, Some(1), Flag),
            p("out_oversize", "out_oversize", Input, 1, Some(1), Flag),
            p("out_start", "out_start", Output, 1, Some(1), Flag),
        ]);
    }
    ports
}

/// The systolic array of a configuration: top module `drq_array`.
pub fn array_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    crate::shell::design(
        "drq_array",
        "drq_array_core",
        cfg,
        array_ports(cfg, &fmt),
        &mut SystolicArray::new(cfg),
    )
}
