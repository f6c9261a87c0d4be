//! `BankSteps`: the region controller's reads of an input map stored once
//! over ROWS banks (`drq_arch::banked`, issue 17): per bank the word it
//! reads in a step, per array row the bank its value comes from.
//!
//! The loop nest's position is kept as sums stepped by its events, no
//! product and no division: the pixel tile's part (OHg * GW + OWg * S),
//! the input channel's (c * CW), and the kernel offsets' digits with their
//! parts (`DigitCounter`s for ki - P and kj - P, loaded with the digits of
//! -P that the host computes, as it computes HO and WO). A step's base is
//! their sum; bank b reads base + GW if its row digit is below the step's
//! (b < bh0 * TW) and + S if its column digit is below the step's
//! (b mod TW < bw0); row r = ti * TW + tj takes bank
//! ((ti + bh0) mod TH) * TW + (tj + bw0) mod TW, made as
//! r + bh0 * TW + bw0 less TH * TW if ti + bh0 >= TH and less TW if
//! tj + bw0 >= TW. `tj` of each row comes from a register chain that
//! settles during the controller's SETUP (as the loop nest's row offsets).
//!
//! Timing: `start` latches the layer's constants (the ports may change
//! during the run) and, a cycle later, returns to the layer's first step;
//! `advance` (with the loop nest's last-index flags of the step S0
//! describes) moves every sum to the next step. `bank_addr` and
//! `row_bank` are the current step's (combinational; the loop nest's S1
//! registers them). The loop nest's SETUP (ROWS + 1 cycles) covers the
//! start and the row chain.

use crate::digit_counter::DigitCounter;
use crate::leaf::{konst, low_mask, vec_of, Word, WordReg};
use crate::shell::clog2;
use rust_hdl::prelude::*;

pub use drq_arch::banked::DIGIT_BITS;

/// Bits of a bank number and of the sums it is made from (below
/// 3 * ROWS) for an array of `rows` rows.
pub fn bank_index_bits(rows: u32) -> u32 {
    clog2(rows * 2) + 1
}

#[derive(LogicBlock)]
pub struct BankSteps {
    pub clock: Vec<Signal<In, Clock>>,
    pub reset: Vec<Signal<In, Bit>>,
    pub start: Vec<Signal<In, Bit>>,
    /// The layer: S, TH, TW (latched by the loop nest).
    pub stride: Vec<Signal<In, Word>>,
    pub tile_h: Vec<Signal<In, Word>>,
    pub tile_w: Vec<Signal<In, Word>>,
    /// The map's address steps: a bank row (RW), a row group (GW = S RW)
    /// and a channel (CW).
    pub row_words: Vec<Signal<In, Word>>,
    pub group_words: Vec<Signal<In, Word>>,
    pub channel_words: Vec<Signal<In, Word>>,
    /// Digits of -P under (S, TH) and (S, TW) and their address parts.
    pub pad_y_phase: Vec<Signal<In, Word>>,
    pub pad_y_bank: Vec<Signal<In, Word>>,
    pub pad_y_part: Vec<Signal<In, Word>>,
    /// The row digit's share of a bank number: pad_y_bank * TW.
    pub pad_y_index: Vec<Signal<In, Word>>,
    pub pad_x_phase: Vec<Signal<In, Word>>,
    pub pad_x_bank: Vec<Signal<In, Word>>,
    pub pad_x_part: Vec<Signal<In, Word>>,
    /// The loop nest moves to its next step; the flags say which indices
    /// of the step it leaves are their last (kj, ki, c, pixel tile of the
    /// row, tile row).
    pub advance: Vec<Signal<In, Bit>>,
    pub last_kj: Vec<Signal<In, Bit>>,
    pub last_ki: Vec<Signal<In, Bit>>,
    pub last_c: Vec<Signal<In, Bit>>,
    pub last_tx: Vec<Signal<In, Bit>>,
    pub last_ty: Vec<Signal<In, Bit>>,
    pub bank_addr: Vec<Signal<Out, Word>>,
    pub row_bank: Vec<Signal<Out, Word>>,
    dy: Vec<DigitCounter>,
    dx: Vec<DigitCounter>,
    /// The constants, latched at `start`; the first step one cycle later.
    rw_q: Vec<WordReg>,
    gw_q: Vec<WordReg>,
    cw_q: Vec<WordReg>,
    pyp_q: Vec<WordReg>,
    pyb_q: Vec<WordReg>,
    pyt_q: Vec<WordReg>,
    pyi_q: Vec<WordReg>,
    pxp_q: Vec<WordReg>,
    pxb_q: Vec<WordReg>,
    pxt_q: Vec<WordReg>,
    restart: Vec<WordReg>,
    tile_row_base: Vec<WordReg>,
    tile_base: Vec<WordReg>,
    channel_base: Vec<WordReg>,
    /// TH * TW (shift-and-add over TH's bits).
    thtw: Vec<WordReg>,
    /// Per row r >= 1 (index r - 1): tj = r mod TW, from row r - 1.
    row_tj: Vec<WordReg>,
    zero: Vec<Constant<Word>>,
    one: Vec<Constant<Word>>,
    addr_mask: Vec<Constant<Word>>,
    index: Vec<Constant<Word>>,
    th_bit: Vec<Constant<Word>>,
    th_shift: Vec<Constant<Word>>,
    th_term: Vec<Signal<Local, Word>>,
    th_sum: Vec<Signal<Local, Word>>,
    bank_y: Vec<Signal<Local, Word>>,
    tj: Vec<Signal<Local, Word>>,
    tj_next: Vec<Signal<Local, Word>>,
    base: Vec<Signal<Local, Word>>,
    /// base + GW, base + S, base + GW + S.
    base_g: Vec<Signal<Local, Word>>,
    base_s: Vec<Signal<Local, Word>>,
    base_gs: Vec<Signal<Local, Word>>,
    y_index: Vec<Signal<Local, Word>>,
    yx_index: Vec<Signal<Local, Word>>,
    kernel_start: Vec<Signal<Local, Bit>>,
    /// Digits the reads do not need (the row digit is used through its
    /// bank number).
    unused_digits: Vec<Signal<Local, Word>>,
}

impl BankSteps {
    /// ROWS banks of words addressed by `addr_bits` bits; when not
    /// `present`, a block without ports (dropped from the Verilog,
    /// `dedup.rs`), so a loop nest without banked reads has none.
    pub fn new(rows: usize, addr_bits: u32, present: bool) -> BankSteps {
        assert!(rows >= 1);
        let one = usize::from(present);
        let rows = rows * one;
        let index_bits = bank_index_bits(rows as u32);
        let th_bits = clog2(rows as u32 + 1);
        let counter = || DigitCounter::new(DIGIT_BITS, addr_bits, index_bits);
        BankSteps {
            clock: vec_of(one),
            reset: vec_of(one),
            start: vec_of(one),
            stride: vec_of(one),
            tile_h: vec_of(one),
            tile_w: vec_of(one),
            row_words: vec_of(one),
            group_words: vec_of(one),
            channel_words: vec_of(one),
            pad_y_phase: vec_of(one),
            pad_y_bank: vec_of(one),
            pad_y_part: vec_of(one),
            pad_y_index: vec_of(one),
            pad_x_phase: vec_of(one),
            pad_x_bank: vec_of(one),
            pad_x_part: vec_of(one),
            advance: vec_of(one),
            last_kj: vec_of(one),
            last_ki: vec_of(one),
            last_c: vec_of(one),
            last_tx: vec_of(one),
            last_ty: vec_of(one),
            bank_addr: vec_of(rows),
            row_bank: vec_of(rows),
            dy: (0..one).map(|_| counter()).collect(),
            dx: (0..one).map(|_| counter()).collect(),
            rw_q: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            gw_q: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            cw_q: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            pyp_q: (0..one).map(|_| WordReg::unsigned(DIGIT_BITS)).collect(),
            pyb_q: (0..one).map(|_| WordReg::unsigned(DIGIT_BITS)).collect(),
            pyt_q: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            pyi_q: (0..one).map(|_| WordReg::unsigned(index_bits)).collect(),
            pxp_q: (0..one).map(|_| WordReg::unsigned(DIGIT_BITS)).collect(),
            pxb_q: (0..one).map(|_| WordReg::unsigned(DIGIT_BITS)).collect(),
            pxt_q: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            restart: (0..one).map(|_| WordReg::unsigned(1)).collect(),
            tile_row_base: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            tile_base: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            channel_base: (0..one).map(|_| WordReg::unsigned(addr_bits)).collect(),
            thtw: (0..one).map(|_| WordReg::unsigned(index_bits)).collect(),
            row_tj: (1..rows.max(1))
                .map(|_| WordReg::unsigned(DIGIT_BITS))
                .collect(),
            zero: (0..one).map(|_| konst(0)).collect(),
            one: (0..one).map(|_| konst(1)).collect(),
            addr_mask: (0..one).map(|_| konst(low_mask(addr_bits))).collect(),
            index: (0..rows as u64).map(konst).collect(),
            th_bit: (0..th_bits * one as u32).map(|b| konst(1 << b)).collect(),
            th_shift: (0..th_bits * one as u32).map(|b| konst(b.into())).collect(),
            th_term: vec_of(th_bits as usize * one),
            th_sum: vec_of(th_bits as usize * one),
            bank_y: vec_of(rows),
            tj: vec_of(rows),
            tj_next: vec_of(rows.max(1) - 1),
            base: vec_of(one),
            base_g: vec_of(one),
            base_s: vec_of(one),
            base_gs: vec_of(one),
            y_index: vec_of(one),
            yx_index: vec_of(one),
            kernel_start: vec_of(one),
            unused_digits: vec_of(one),
        }
    }
    fn rows(&self) -> usize {
        self.bank_addr.len()
    }
    /// 1 when present, else 0.
    fn present(&self) -> usize {
        self.start.len()
    }
    fn th_terms(&self) -> usize {
        self.th_bit.len()
    }
}

impl Logic for BankSteps {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self.present() {
            // ---- Registers: clock, reset, hold.
            self.rw_q[k].clock.next = self.clock[k].val();
            self.gw_q[k].clock.next = self.clock[k].val();
            self.cw_q[k].clock.next = self.clock[k].val();
            self.pyp_q[k].clock.next = self.clock[k].val();
            self.pyb_q[k].clock.next = self.clock[k].val();
            self.pyt_q[k].clock.next = self.clock[k].val();
            self.pyi_q[k].clock.next = self.clock[k].val();
            self.pxp_q[k].clock.next = self.clock[k].val();
            self.pxb_q[k].clock.next = self.clock[k].val();
            self.pxt_q[k].clock.next = self.clock[k].val();
            self.restart[k].clock.next = self.clock[k].val();
            self.tile_row_base[k].clock.next = self.clock[k].val();
            self.tile_base[k].clock.next = self.clock[k].val();
            self.channel_base[k].clock.next = self.clock[k].val();
            self.thtw[k].clock.next = self.clock[k].val();
            self.rw_q[k].reset.next = self.reset[k].val();
            self.gw_q[k].reset.next = self.reset[k].val();
            self.cw_q[k].reset.next = self.reset[k].val();
            self.pyp_q[k].reset.next = self.reset[k].val();
            self.pyb_q[k].reset.next = self.reset[k].val();
            self.pyt_q[k].reset.next = self.reset[k].val();
            self.pyi_q[k].reset.next = self.reset[k].val();
            self.pxp_q[k].reset.next = self.reset[k].val();
            self.pxb_q[k].reset.next = self.reset[k].val();
            self.pxt_q[k].reset.next = self.reset[k].val();
            self.restart[k].reset.next = self.reset[k].val();
            self.tile_row_base[k].reset.next = self.reset[k].val();
            self.tile_base[k].reset.next = self.reset[k].val();
            self.channel_base[k].reset.next = self.reset[k].val();
            self.thtw[k].reset.next = self.reset[k].val();
            self.rw_q[k].d.next = self.rw_q[k].q.val();
            self.gw_q[k].d.next = self.gw_q[k].q.val();
            self.cw_q[k].d.next = self.cw_q[k].q.val();
            self.pyp_q[k].d.next = self.pyp_q[k].q.val();
            self.pyb_q[k].d.next = self.pyb_q[k].q.val();
            self.pyt_q[k].d.next = self.pyt_q[k].q.val();
            self.pyi_q[k].d.next = self.pyi_q[k].q.val();
            self.pxp_q[k].d.next = self.pxp_q[k].q.val();
            self.pxb_q[k].d.next = self.pxb_q[k].q.val();
            self.pxt_q[k].d.next = self.pxt_q[k].q.val();
            self.tile_row_base[k].d.next = self.tile_row_base[k].q.val();
            self.tile_base[k].d.next = self.tile_base[k].q.val();
            self.channel_base[k].d.next = self.channel_base[k].q.val();
            // ---- `start` latches the constants; the first step follows.
            self.restart[k].d.next = self.zero[k].val();
            if self.start[k].val() {
                self.rw_q[k].d.next = self.row_words[k].val();
                self.gw_q[k].d.next = self.group_words[k].val();
                self.cw_q[k].d.next = self.channel_words[k].val();
                self.pyp_q[k].d.next = self.pad_y_phase[k].val();
                self.pyb_q[k].d.next = self.pad_y_bank[k].val();
                self.pyt_q[k].d.next = self.pad_y_part[k].val();
                self.pyi_q[k].d.next = self.pad_y_index[k].val();
                self.pxp_q[k].d.next = self.pad_x_phase[k].val();
                self.pxb_q[k].d.next = self.pad_x_bank[k].val();
                self.pxt_q[k].d.next = self.pad_x_part[k].val();
                self.restart[k].d.next = self.one[k].val();
            }
            // ---- The digit counters: ki - P with bank rows (RW) and row
            // groups (GW) as units, the bank digit counting TW; kj - P with
            // single words and column groups (S), the bank digit counting 1.
            self.dy[k].clock.next = self.clock[k].val();
            self.dy[k].reset.next = self.reset[k].val();
            self.dy[k].stride.next = self.stride[k].val();
            self.dy[k].tile.next = self.tile_h[k].val();
            self.dy[k].unit.next = self.rw_q[k].q.val();
            self.dy[k].group_words.next = self.gw_q[k].q.val();
            self.dy[k].bank_unit.next = self.tile_w[k].val();
            self.dy[k].load_phase.next = self.pyp_q[k].q.val();
            self.dy[k].load_bank.next = self.pyb_q[k].q.val();
            self.dy[k].load_part.next = self.pyt_q[k].q.val();
            self.dy[k].load_index.next = self.pyi_q[k].q.val();
            self.dx[k].clock.next = self.clock[k].val();
            self.dx[k].reset.next = self.reset[k].val();
            self.dx[k].stride.next = self.stride[k].val();
            self.dx[k].tile.next = self.tile_w[k].val();
            self.dx[k].unit.next = self.one[k].val();
            self.dx[k].group_words.next = self.stride[k].val();
            self.dx[k].bank_unit.next = self.one[k].val();
            self.dx[k].load_phase.next = self.pxp_q[k].q.val();
            self.dx[k].load_bank.next = self.pxb_q[k].q.val();
            self.dx[k].load_part.next = self.pxt_q[k].q.val();
            self.dx[k].load_index.next = self.pxb_q[k].q.val();
            // ---- TH * TW over TH's bits (TH * TW <= ROWS), settled in SETUP;
            // the last partial sum is the product (the last assignment wins).
            for b in 0..self.th_terms() {
                self.th_term[b].next = self.zero[k].val();
                if (self.tile_h[k].val() & self.th_bit[b].val()).any() {
                    self.th_term[b].next = self.tile_w[k].val() << self.th_shift[b].val();
                }
            }
            self.th_sum[0].next = self.th_term[0].val();
            for b in 1..self.th_terms() {
                self.th_sum[b].next = self.th_sum[b - 1].val() + self.th_term[b].val();
            }
            for b in 0..self.th_terms() {
                self.thtw[k].d.next = self.th_sum[b].val();
            }
            // ---- Row r's tile column, a chain from row 0.
            self.tj[0].next = self.zero[k].val();
            for r in 1..self.rows() {
                self.row_tj[r - 1].clock.next = self.clock[k].val();
                self.row_tj[r - 1].reset.next = self.reset[k].val();
                self.tj[r].next = self.row_tj[r - 1].q.val();
                self.tj_next[r - 1].next = self.tj[r - 1].val() + self.one[k].val();
                self.row_tj[r - 1].d.next = self.tj_next[r - 1].val();
                if self.tj_next[r - 1].val() == self.tile_w[k].val() {
                    self.row_tj[r - 1].d.next = self.zero[k].val();
                }
            }
            // ---- The current step's reads.
            self.base[k].next = (self.tile_base[k].q.val()
                + self.channel_base[k].q.val()
                + self.dy[k].part.val()
                + self.dx[k].part.val())
                & self.addr_mask[k].val();
            self.base_g[k].next =
                (self.base[k].val() + self.gw_q[k].q.val()) & self.addr_mask[k].val();
            self.base_s[k].next =
                (self.base[k].val() + self.stride[k].val()) & self.addr_mask[k].val();
            self.base_gs[k].next =
                (self.base_g[k].val() + self.stride[k].val()) & self.addr_mask[k].val();
            self.y_index[k].next = self.dy[k].bank_index.val();
            self.yx_index[k].next = self.dy[k].bank_index.val() + self.dx[k].bank_index.val();
            for r in 0..self.rows() {
                // Row r's bank before the column wrap: r + bh0 TW + bw0, less
                // TH TW where ti + bh0 >= TH.
                self.bank_y[r].next = self.index[r].val() + self.yx_index[k].val();
                if (self.index[r].val() + self.y_index[k].val()) >= self.thtw[k].q.val() {
                    self.bank_y[r].next =
                        self.index[r].val() + self.yx_index[k].val() - self.thtw[k].q.val();
                }
                self.row_bank[r].next = self.bank_y[r].val();
                if (self.tj[r].val() + self.dx[k].bank.val()) >= self.tile_w[k].val() {
                    self.row_bank[r].next = self.bank_y[r].val() - self.tile_w[k].val();
                }
                // Bank r's address: one of the step's four (the base, a
                // row group on if its row digit is below the step's, S on
                // if its column digit is), made once for all banks.
                self.bank_addr[r].next = self.base[k].val();
                if (self.index[r].val() < self.y_index[k].val())
                    & (self.tj[r].val() < self.dx[k].bank.val())
                {
                    self.bank_addr[r].next = self.base_gs[k].val();
                } else if self.index[r].val() < self.y_index[k].val() {
                    self.bank_addr[r].next = self.base_g[k].val();
                } else if self.tj[r].val() < self.dx[k].bank.val() {
                    self.bank_addr[r].next = self.base_s[k].val();
                }
            }
            // ---- The loop nest's events: kj fastest, then ki, c, the pixel
            // tile of the row, the tile row, the channel tile (back to the
            // first pixel tile).
            self.kernel_start[k].next = false;
            self.dy[k].step.next = false;
            self.dx[k].load.next = false;
            self.dx[k].step.next = false;
            if self.advance[k].val() {
                self.dx[k].step.next = !self.last_kj[k].val();
                if self.last_kj[k].val() {
                    self.dx[k].load.next = true;
                    self.dy[k].step.next = !self.last_ki[k].val();
                    if self.last_ki[k].val() {
                        self.kernel_start[k].next = true;
                        self.channel_base[k].d.next = (self.channel_base[k].q.val()
                            + self.cw_q[k].q.val())
                            & self.addr_mask[k].val();
                        if self.last_c[k].val() {
                            self.channel_base[k].d.next = self.zero[k].val();
                            self.tile_base[k].d.next = (self.tile_base[k].q.val()
                                + self.stride[k].val())
                                & self.addr_mask[k].val();
                            if self.last_tx[k].val() {
                                self.tile_row_base[k].d.next = (self.tile_row_base[k].q.val()
                                    + self.gw_q[k].q.val())
                                    & self.addr_mask[k].val();
                                self.tile_base[k].d.next = (self.tile_row_base[k].q.val()
                                    + self.gw_q[k].q.val())
                                    & self.addr_mask[k].val();
                                if self.last_ty[k].val() {
                                    self.tile_row_base[k].d.next = self.zero[k].val();
                                    self.tile_base[k].d.next = self.zero[k].val();
                                }
                            }
                        }
                    }
                }
            }
            if self.restart[k].q.val().any() {
                self.kernel_start[k].next = true;
                self.dx[k].load.next = true;
                self.tile_row_base[k].d.next = self.zero[k].val();
                self.tile_base[k].d.next = self.zero[k].val();
                self.channel_base[k].d.next = self.zero[k].val();
            }
            self.dy[k].load.next = self.kernel_start[k].val();
            self.unused_digits[k].next =
                self.dy[k].phase.val() | self.dy[k].bank.val() | self.dx[k].phase.val();
        }
    }
}

/// `BankSteps` alone as a design (top `drq_bank_steps`), for its lint and
/// synthesis checks: ROWS banks of `addr_bits`-bit addresses.
pub fn bank_steps_design(rows: usize, addr_bits: u32) -> crate::shell::Design {
    use crate::shell::{design, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let mut ports = vec![
        ShellPort::new("clk", "clock", Input, 1, Some(1), Flag),
        ShellPort::new("reset", "reset", Input, 1, Some(1), Flag),
        ShellPort::new("start", "start", Input, 1, Some(1), Flag),
    ];
    for name in ["stride", "tile_h", "tile_w"] {
        ports.push(ShellPort::new(name, name, Input, 7, Some(1), Zero));
    }
    for name in [
        "row_words",
        "group_words",
        "channel_words",
        "pad_y_part",
        "pad_x_part",
    ] {
        ports.push(ShellPort::new(name, name, Input, addr_bits, Some(1), Zero));
    }
    for name in [
        "pad_y_phase",
        "pad_y_bank",
        "pad_y_index",
        "pad_x_phase",
        "pad_x_bank",
    ] {
        ports.push(ShellPort::new(name, name, Input, 7, Some(1), Zero));
    }
    for name in [
        "advance", "last_kj", "last_ki", "last_c", "last_tx", "last_ty",
    ] {
        ports.push(ShellPort::new(name, name, Input, 1, Some(1), Flag));
    }
    let count = Some(rows as u32);
    ports.push(ShellPort::new(
        "bank_addr",
        "bank_addr",
        Output,
        addr_bits,
        count,
        Zero,
    ));
    ports.push(ShellPort::new(
        "row_bank",
        "row_bank",
        Output,
        bank_index_bits(rows as u32),
        count,
        Zero,
    ));
    design(
        "drq_bank_steps",
        "drq_bank_steps_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut BankSteps::new(rows, addr_bits, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::{layer_steps, BankedMap, Reader, WalkConstants};

    /// The constant ports in `drq_arch::banked::CONSTANT_NAMES` order.
    fn constant_ports(b: &mut BankSteps) -> [&mut Signal<In, Word>; 10] {
        [
            &mut b.row_words[0],
            &mut b.group_words[0],
            &mut b.channel_words[0],
            &mut b.pad_y_phase[0],
            &mut b.pad_y_bank[0],
            &mut b.pad_y_part[0],
            &mut b.pad_y_index[0],
            &mut b.pad_x_phase[0],
            &mut b.pad_x_bank[0],
            &mut b.pad_x_part[0],
        ]
    }

    fn tick(b: &mut BankSteps) {
        b.clock[0].next = Clock::from(false);
        settle(b);
        b.clock[0].next = Clock::from(true);
        settle(b);
    }

    /// Every step of layers over a sweep of strides, tiles, kernels and
    /// paddings (two channel tiles each, so the walk restarts): the bank
    /// addresses and row banks of each step (before `advance`) are `StepReads`'
    /// (`drq_arch::banked`), in rust-hdl, at ROWS = 16; the constant ports
    /// change after `start` (they are latched).
    #[test]
    fn gives_each_steps_bank_addresses_and_row_banks() {
        let rows = 16usize;
        let bits = 12u32;
        let mut steps = 0u64;
        let mut b = BankSteps::new(rows, bits, true);
        b.connect_all();
        for stride in 1..=3u32 {
            for (tile_h, tile_w) in [(1, 1), (4, 4), (1, 16), (16, 1), (3, 5), (2, 8), (5, 2)] {
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
                for (kernel, padding) in [(1i64, 0i64), (3, 1), (3, 2), (5, 4), (2, 0), (4, 3)] {
                    let (c_in, h, w) = (2u64, 9u64, 11u64);
                    let s = i64::from(stride);
                    let ho = (h as i64 + 2 * padding - kernel) / s + 1;
                    let wo = (w as i64 + 2 * padding - kernel) / s + 1;
                    let map = BankedMap::new(c_in, h, w, reader);
                    let k = WalkConstants::new(&map, padding as u32);
                    b.reset[0].next = true;
                    tick(&mut b);
                    b.reset[0].next = false;
                    b.stride[0].next = word(s);
                    b.tile_h[0].next = word(tile_h.into());
                    b.tile_w[0].next = word(tile_w.into());
                    for (port, v) in constant_ports(&mut b).into_iter().zip(k.values(bits)) {
                        port.next = word(v as i64);
                    }
                    b.start[0].next = true;
                    tick(&mut b);
                    b.start[0].next = false;
                    // The constants were latched: the ports may change.
                    for port in constant_ports(&mut b) {
                        port.next = word(5);
                    }
                    // The row chain settles (the controller's SETUP).
                    for _ in 0..rows {
                        tick(&mut b);
                    }
                    let order = layer_steps(c_in, ho as u64, wo as u64, tile_h, tile_w, kernel);
                    for _channel_tile in 0..2 {
                        for st in &order {
                            settle(&mut b);
                            let want =
                                map.step(st.c, st.oh0, st.ow0, st.ki - padding, st.kj - padding);
                            let at = format!("{reader:?} K {kernel} P {padding} {st:?}");
                            for r in 0..map.banks_used() as usize {
                                let got_addr = b.bank_addr[r].val().to_u64();
                                let want_addr = want.bank_addr(r as u32) as u64 & low_mask(bits);
                                assert_eq!(got_addr, want_addr, "{at} bank {r}");
                                let got_bank = b.row_bank[r].val().to_u64();
                                let want_bank = want.bank_of_row(r as u32);
                                assert_eq!(got_bank, u64::from(want_bank), "{at} row {r}");
                            }
                            b.advance[0].next = true;
                            b.last_kj[0].next = st.last_kj;
                            b.last_ki[0].next = st.last_ki;
                            b.last_c[0].next = st.last_c;
                            b.last_tx[0].next = st.last_tx;
                            b.last_ty[0].next = st.last_ty;
                            tick(&mut b);
                            b.advance[0].next = false;
                            tick(&mut b);
                            steps += 1;
                        }
                    }
                }
            }
        }
        assert!(steps > 2_000, "only {steps} steps");
    }
}
