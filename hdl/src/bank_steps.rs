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
use crate::leaf::{konst, low_mask, Word, WordReg};
use crate::shell::clog2;
use rust_hdl::prelude::*;

/// Bits of a tile side, a stride and their digits (at most 64).
const DIGIT_BITS: u32 = 7;

#[derive(LogicBlock)]
pub struct BankSteps {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    /// The layer: S, TH, TW (latched by the loop nest).
    pub stride: Signal<In, Word>,
    pub tile_h: Signal<In, Word>,
    pub tile_w: Signal<In, Word>,
    /// The map's address steps: a bank row (RW), a row group (GW = S RW)
    /// and a channel (CW).
    pub row_words: Signal<In, Word>,
    pub group_words: Signal<In, Word>,
    pub channel_words: Signal<In, Word>,
    /// Digits of -P under (S, TH) and (S, TW) and their address parts.
    pub pad_y_phase: Signal<In, Word>,
    pub pad_y_bank: Signal<In, Word>,
    pub pad_y_part: Signal<In, Word>,
    /// The row digit's share of a bank number: pad_y_bank * TW.
    pub pad_y_index: Signal<In, Word>,
    pub pad_x_phase: Signal<In, Word>,
    pub pad_x_bank: Signal<In, Word>,
    pub pad_x_part: Signal<In, Word>,
    /// The loop nest moves to its next step; the flags say which indices
    /// of the step it leaves are their last (kj, ki, c, pixel tile of the
    /// row, tile row).
    pub advance: Signal<In, Bit>,
    pub last_kj: Signal<In, Bit>,
    pub last_ki: Signal<In, Bit>,
    pub last_c: Signal<In, Bit>,
    pub last_tx: Signal<In, Bit>,
    pub last_ty: Signal<In, Bit>,
    pub bank_addr: Vec<Signal<Out, Word>>,
    pub row_bank: Vec<Signal<Out, Word>>,
    dy: DigitCounter,
    dx: DigitCounter,
    /// The constants, latched at `start`; the first step one cycle later.
    rw_q: WordReg,
    gw_q: WordReg,
    cw_q: WordReg,
    pyp_q: WordReg,
    pyb_q: WordReg,
    pyt_q: WordReg,
    pyi_q: WordReg,
    pxp_q: WordReg,
    pxb_q: WordReg,
    pxt_q: WordReg,
    restart: WordReg,
    tile_row_base: WordReg,
    tile_base: WordReg,
    channel_base: WordReg,
    /// TH * TW (shift-and-add over TH's bits).
    thtw: WordReg,
    /// Per row r >= 1 (index r - 1): tj = r mod TW, from row r - 1.
    row_tj: Vec<WordReg>,
    zero: Constant<Word>,
    one: Constant<Word>,
    addr_mask: Constant<Word>,
    index: Vec<Constant<Word>>,
    th_bit: Vec<Constant<Word>>,
    th_shift: Vec<Constant<Word>>,
    th_term: Vec<Signal<Local, Word>>,
    th_sum: Vec<Signal<Local, Word>>,
    bank_y: Vec<Signal<Local, Word>>,
    tj: Vec<Signal<Local, Word>>,
    tj_next: Vec<Signal<Local, Word>>,
    base: Signal<Local, Word>,
    y_index: Signal<Local, Word>,
    yx_index: Signal<Local, Word>,
    kernel_start: Signal<Local, Bit>,
    /// Digits the reads do not need (the row digit is used through its
    /// bank number).
    unused_digits: Signal<Local, Word>,
}

impl BankSteps {
    /// ROWS banks of words addressed by `addr_bits` bits.
    pub fn new(rows: usize, addr_bits: u32) -> BankSteps {
        assert!(rows >= 1);
        let index_bits = clog2(rows as u32 * 2) + 1;
        let th_bits = clog2(rows as u32 + 1);
        let counter = || DigitCounter::new(DIGIT_BITS, addr_bits, index_bits);
        BankSteps {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            stride: Default::default(),
            tile_h: Default::default(),
            tile_w: Default::default(),
            row_words: Default::default(),
            group_words: Default::default(),
            channel_words: Default::default(),
            pad_y_phase: Default::default(),
            pad_y_bank: Default::default(),
            pad_y_part: Default::default(),
            pad_y_index: Default::default(),
            pad_x_phase: Default::default(),
            pad_x_bank: Default::default(),
            pad_x_part: Default::default(),
            advance: Default::default(),
            last_kj: Default::default(),
            last_ki: Default::default(),
            last_c: Default::default(),
            last_tx: Default::default(),
            last_ty: Default::default(),
            bank_addr: crate::leaf::vec_of(rows),
            row_bank: crate::leaf::vec_of(rows),
            dy: counter(),
            dx: counter(),
            rw_q: WordReg::unsigned(addr_bits),
            gw_q: WordReg::unsigned(addr_bits),
            cw_q: WordReg::unsigned(addr_bits),
            pyp_q: WordReg::unsigned(DIGIT_BITS),
            pyb_q: WordReg::unsigned(DIGIT_BITS),
            pyt_q: WordReg::unsigned(addr_bits),
            pyi_q: WordReg::unsigned(index_bits),
            pxp_q: WordReg::unsigned(DIGIT_BITS),
            pxb_q: WordReg::unsigned(DIGIT_BITS),
            pxt_q: WordReg::unsigned(addr_bits),
            restart: WordReg::unsigned(1),
            tile_row_base: WordReg::unsigned(addr_bits),
            tile_base: WordReg::unsigned(addr_bits),
            channel_base: WordReg::unsigned(addr_bits),
            thtw: WordReg::unsigned(index_bits),
            row_tj: (1..rows).map(|_| WordReg::unsigned(DIGIT_BITS)).collect(),
            zero: konst(0),
            one: konst(1),
            addr_mask: konst(low_mask(addr_bits)),
            index: (0..rows as u64).map(konst).collect(),
            th_bit: (0..th_bits).map(|b| konst(1 << b)).collect(),
            th_shift: (0..th_bits).map(|b| konst(b.into())).collect(),
            th_term: crate::leaf::vec_of(th_bits as usize),
            th_sum: crate::leaf::vec_of(th_bits as usize),
            bank_y: crate::leaf::vec_of(rows),
            tj: crate::leaf::vec_of(rows),
            tj_next: crate::leaf::vec_of(rows - 1),
            base: Default::default(),
            y_index: Default::default(),
            yx_index: Default::default(),
            kernel_start: Default::default(),
            unused_digits: Default::default(),
        }
    }
    fn rows(&self) -> usize {
        self.bank_addr.len()
    }
    fn th_terms(&self) -> usize {
        self.th_bit.len()
    }
}

impl Logic for BankSteps {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            tile_row_base,
            tile_base,
            channel_base,
            thtw,
            rw_q,
            gw_q,
            cw_q,
            pyp_q,
            pyb_q,
            pyt_q,
            pyi_q,
            pxp_q,
            pxb_q,
            pxt_q,
            restart
        );
        self.rw_q.reset.next = self.reset.val();
        self.gw_q.reset.next = self.reset.val();
        self.cw_q.reset.next = self.reset.val();
        self.pyp_q.reset.next = self.reset.val();
        self.pyb_q.reset.next = self.reset.val();
        self.pyt_q.reset.next = self.reset.val();
        self.pyi_q.reset.next = self.reset.val();
        self.pxp_q.reset.next = self.reset.val();
        self.pxb_q.reset.next = self.reset.val();
        self.pxt_q.reset.next = self.reset.val();
        self.restart.reset.next = self.reset.val();
        self.restart.d.next = self.zero.val();
        if self.start.val() {
            self.rw_q.d.next = self.row_words.val();
            self.gw_q.d.next = self.group_words.val();
            self.cw_q.d.next = self.channel_words.val();
            self.pyp_q.d.next = self.pad_y_phase.val();
            self.pyb_q.d.next = self.pad_y_bank.val();
            self.pyt_q.d.next = self.pad_y_part.val();
            self.pyi_q.d.next = self.pad_y_index.val();
            self.pxp_q.d.next = self.pad_x_phase.val();
            self.pxb_q.d.next = self.pad_x_bank.val();
            self.pxt_q.d.next = self.pad_x_part.val();
            self.restart.d.next = self.one.val();
        }
        self.tile_row_base.reset.next = self.reset.val();
        self.tile_base.reset.next = self.reset.val();
        self.channel_base.reset.next = self.reset.val();
        self.thtw.reset.next = self.reset.val();
        for r in 1..self.rows() {
            self.row_tj[r - 1].clock.next = self.clock.val();
            self.row_tj[r - 1].reset.next = self.reset.val();
        }
        // The digit counters: ki - P with bank rows (RW) and row groups
        // (GW) as units, the bank digit counting TW; kj - P with single
        // words and column groups (S), the bank digit counting 1.
        self.dy.clock.next = self.clock.val();
        self.dy.reset.next = self.reset.val();
        self.dy.stride.next = self.stride.val();
        self.dy.tile.next = self.tile_h.val();
        self.dy.unit.next = self.rw_q.q.val();
        self.dy.group_words.next = self.gw_q.q.val();
        self.dy.bank_unit.next = self.tile_w.val();
        self.dy.load_phase.next = self.pyp_q.q.val();
        self.dy.load_bank.next = self.pyb_q.q.val();
        self.dy.load_part.next = self.pyt_q.q.val();
        self.dy.load_index.next = self.pyi_q.q.val();
        self.dx.clock.next = self.clock.val();
        self.dx.reset.next = self.reset.val();
        self.dx.stride.next = self.stride.val();
        self.dx.tile.next = self.tile_w.val();
        self.dx.unit.next = self.one.val();
        self.dx.group_words.next = self.stride.val();
        self.dx.bank_unit.next = self.one.val();
        self.dx.load_phase.next = self.pxp_q.q.val();
        self.dx.load_bank.next = self.pxb_q.q.val();
        self.dx.load_part.next = self.pxt_q.q.val();
        self.dx.load_index.next = self.pxb_q.q.val();
        // TH * TW over TH's bits (TH * TW <= ROWS), settled in SETUP.
        for b in 0..self.th_terms() {
            self.th_term[b].next = self.zero.val();
            if (self.tile_h.val() & self.th_bit[b].val()).any() {
                self.th_term[b].next = self.tile_w.val() << self.th_shift[b].val();
            }
        }
        self.th_sum[0].next = self.th_term[0].val();
        for b in 1..self.th_terms() {
            self.th_sum[b].next = self.th_sum[b - 1].val() + self.th_term[b].val();
        }
        // The last partial sum is the product (the last assignment wins).
        for b in 0..self.th_terms() {
            self.thtw.d.next = self.th_sum[b].val();
        }
        // Row r's tile column, a chain from row 0.
        self.tj[0].next = self.zero.val();
        for r in 1..self.rows() {
            self.tj[r].next = self.row_tj[r - 1].q.val();
        }
        for r in 1..self.rows() {
            self.tj_next[r - 1].next = self.tj[r - 1].val() + self.one.val();
            self.row_tj[r - 1].d.next = self.tj_next[r - 1].val();
            if self.tj_next[r - 1].val() == self.tile_w.val() {
                self.row_tj[r - 1].d.next = self.zero.val();
            }
        }

        // ---- The current step's reads.
        self.base.next = (self.tile_base.q.val()
            + self.channel_base.q.val()
            + self.dy.part.val()
            + self.dx.part.val())
            & self.addr_mask.val();
        self.y_index.next = self.dy.bank_index.val();
        self.yx_index.next = self.dy.bank_index.val() + self.dx.bank_index.val();
        for r in 0..self.rows() {
            // Row r's bank before the column wrap: r + bh0 TW + bw0, less
            // TH TW where ti + bh0 >= TH.
            self.bank_y[r].next = self.index[r].val() + self.yx_index.val();
            if (self.index[r].val() + self.y_index.val()) >= self.thtw.q.val() {
                self.bank_y[r].next = self.index[r].val() + self.yx_index.val() - self.thtw.q.val();
            }
        }
        for r in 0..self.rows() {
            self.bank_addr[r].next = self.base.val();
            if (self.index[r].val() < self.y_index.val()) & (self.tj[r].val() < self.dx.bank.val())
            {
                self.bank_addr[r].next = (self.base.val() + self.gw_q.q.val() + self.stride.val())
                    & self.addr_mask.val();
            } else if self.index[r].val() < self.y_index.val() {
                self.bank_addr[r].next =
                    (self.base.val() + self.gw_q.q.val()) & self.addr_mask.val();
            } else if self.tj[r].val() < self.dx.bank.val() {
                self.bank_addr[r].next =
                    (self.base.val() + self.stride.val()) & self.addr_mask.val();
            }
            self.row_bank[r].next = self.bank_y[r].val();
            if (self.tj[r].val() + self.dx.bank.val()) >= self.tile_w.val() {
                self.row_bank[r].next = self.bank_y[r].val() - self.tile_w.val();
            }
        }

        // ---- The loop nest's events: kj fastest, then ki, c, the pixel
        // tile of the row, the tile row, the channel tile (back to the
        // first pixel tile).
        self.kernel_start.next = false;
        self.dy.load.next = false;
        self.dy.step.next = false;
        self.dx.load.next = false;
        self.dx.step.next = false;
        if self.advance.val() {
            self.dx.step.next = !self.last_kj.val();
            if self.last_kj.val() {
                self.dx.load.next = true;
                self.dy.step.next = !self.last_ki.val();
                if self.last_ki.val() {
                    self.kernel_start.next = true;
                    self.channel_base.d.next =
                        (self.channel_base.q.val() + self.cw_q.q.val()) & self.addr_mask.val();
                    if self.last_c.val() {
                        self.channel_base.d.next = self.zero.val();
                        self.tile_base.d.next =
                            (self.tile_base.q.val() + self.stride.val()) & self.addr_mask.val();
                        if self.last_tx.val() {
                            self.tile_row_base.d.next = (self.tile_row_base.q.val()
                                + self.gw_q.q.val())
                                & self.addr_mask.val();
                            self.tile_base.d.next = (self.tile_row_base.q.val()
                                + self.gw_q.q.val())
                                & self.addr_mask.val();
                            if self.last_ty.val() {
                                self.tile_row_base.d.next = self.zero.val();
                                self.tile_base.d.next = self.zero.val();
                            }
                        }
                    }
                }
            }
        }
        if self.restart.q.val().any() {
            self.kernel_start.next = true;
            self.dx.load.next = true;
            self.tile_row_base.d.next = self.zero.val();
            self.tile_base.d.next = self.zero.val();
            self.channel_base.d.next = self.zero.val();
        }
        self.dy.load.next = self.kernel_start.val();
        self.unused_digits.next = self.dy.phase.val() | self.dy.bank.val() | self.dx.phase.val();
    }
}

/// `BankSteps` alone as a design (top `drq_bank_steps`), for its lint and
/// synthesis checks: ROWS banks of `addr_bits`-bit addresses.
pub fn bank_steps_design(rows: usize, addr_bits: u32) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let mut ports = vec![
        ShellPort::new("clk", "clock", Input, 1, None, Flag),
        scalar("reset", Input, 1, Flag),
        scalar("start", Input, 1, Flag),
    ];
    for name in ["stride", "tile_h", "tile_w"] {
        ports.push(scalar(name, Input, 7, Zero));
    }
    for name in [
        "row_words",
        "group_words",
        "channel_words",
        "pad_y_part",
        "pad_x_part",
    ] {
        ports.push(scalar(name, Input, addr_bits, Zero));
    }
    for name in [
        "pad_y_phase",
        "pad_y_bank",
        "pad_y_index",
        "pad_x_phase",
        "pad_x_bank",
    ] {
        ports.push(scalar(name, Input, 7, Zero));
    }
    for name in [
        "advance", "last_kj", "last_ki", "last_c", "last_tx", "last_ty",
    ] {
        ports.push(scalar(name, Input, 1, Flag));
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
        clog2(rows as u32 * 2) + 1,
        count,
        Zero,
    ));
    design(
        "drq_bank_steps",
        "drq_bank_steps_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut BankSteps::new(rows, addr_bits),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::{BankedMap, Reader, WalkConstants};

    fn tick(b: &mut BankSteps) {
        b.clock.next = Clock::from(false);
        settle(b);
        b.clock.next = Clock::from(true);
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
        let mut b = BankSteps::new(rows, bits);
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
                    let part = |g: i64, phase: u32, unit: u64| {
                        word(
                            ((g * i64::from(stride) + i64::from(phase)) * unit as i64)
                                & low_mask(bits) as i64,
                        )
                    };
                    b.reset.next = true;
                    tick(&mut b);
                    b.reset.next = false;
                    b.stride.next = word(s);
                    b.tile_h.next = word(tile_h.into());
                    b.tile_w.next = word(tile_w.into());
                    b.row_words.next = word(k.row_words as i64);
                    b.group_words.next = word(k.group_words as i64);
                    b.channel_words.next = word(k.channel_words as i64);
                    b.pad_y_phase.next = word(k.pad_y.phase.into());
                    b.pad_y_bank.next = word(k.pad_y.bank.into());
                    b.pad_y_part.next = part(k.pad_y.group, k.pad_y.phase, k.row_words);
                    b.pad_y_index.next = word(i64::from(k.pad_y.bank * tile_w));
                    b.pad_x_phase.next = word(k.pad_x.phase.into());
                    b.pad_x_bank.next = word(k.pad_x.bank.into());
                    b.pad_x_part.next = part(k.pad_x.group, k.pad_x.phase, 1);
                    b.start.next = true;
                    tick(&mut b);
                    b.start.next = false;
                    // The constants were latched: the ports may change.
                    for port in [
                        &mut b.row_words,
                        &mut b.group_words,
                        &mut b.channel_words,
                        &mut b.pad_y_part,
                        &mut b.pad_x_part,
                        &mut b.pad_y_bank,
                        &mut b.pad_y_index,
                        &mut b.pad_x_bank,
                    ] {
                        port.next = word(5);
                    }
                    // The row chain settles (the controller's SETUP).
                    for _ in 0..rows {
                        tick(&mut b);
                    }
                    let (th, tw) = (i64::from(tile_h), i64::from(tile_w));
                    let oh0s: Vec<i64> = (0..ho).step_by(th as usize).collect();
                    let ow0s: Vec<i64> = (0..wo).step_by(tw as usize).collect();
                    for _channel_tile in 0..2 {
                        for (ty, &oh0) in oh0s.iter().enumerate() {
                            for (tx, &ow0) in ow0s.iter().enumerate() {
                                for c in 0..c_in {
                                    for ki in 0..kernel {
                                        for kj in 0..kernel {
                                            settle(&mut b);
                                            let want = map.step(
                                                c,
                                                oh0 as u64,
                                                ow0 as u64,
                                                ki - padding,
                                                kj - padding,
                                            );
                                            let at = format!(
                                                "{reader:?} K {kernel} P {padding} tile ({oh0}, \
                                                 {ow0}) c {c} ki {ki} kj {kj}"
                                            );
                                            for r in 0..map.banks_used() as usize {
                                                let got_addr = b.bank_addr[r].val().to_u64();
                                                let want_addr = want.bank_addr(r as u32) as u64
                                                    & low_mask(bits);
                                                assert_eq!(got_addr, want_addr, "{at} bank {r}");
                                                let got_bank = b.row_bank[r].val().to_u64();
                                                let want_bank = want.bank_of_row(r as u32);
                                                assert_eq!(
                                                    got_bank,
                                                    u64::from(want_bank),
                                                    "{at} row {r}"
                                                );
                                            }
                                            b.advance.next = true;
                                            b.last_kj.next = kj + 1 == kernel;
                                            b.last_ki.next = ki + 1 == kernel;
                                            b.last_c.next = c + 1 == c_in;
                                            b.last_tx.next = tx + 1 == ow0s.len();
                                            b.last_ty.next = ty + 1 == oh0s.len();
                                            tick(&mut b);
                                            b.advance.next = false;
                                            tick(&mut b);
                                            steps += 1;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(steps > 2_000, "only {steps} steps");
    }
}
