//! `CyclicSteps`: the region controller's reads of an input map in the
//! cyclic bank layout (`drq_arch::cyclic`, docs/banked.md "The cyclic
//! layout"): per bank the word it reads in a step,
//! and one rotation d for all rows (row r reads bank (d + r) mod NB,
//! `CyclicRotation`), where `BankSteps` gives the banked layout's per-row
//! bank numbers.
//!
//! The entry L0 that row 0 of the step stands for is a sum kept by adds
//! only, as `drq_arch::cyclic::CyclicWalk` keeps it: the pixel tile's part
//! (oh0 TW + OWg CBL), the input channel's (c S^2 PL) and the kernel
//! offsets' parts, counted by their digits (`DigitSum`s; ki - P: phase
//! rh and group a; kj - P: phase rw, bank bw0 and group xbw) with the
//! steps the host computes. d is L0's low log2(NB) bits and A0 the rest; bank b serves
//! row r = (b - d) mod NB and reads A0, plus one where b < d, plus the
//! band step Q where its row's column passed into the next band
//! (tj + bw0 >= TW; `tj` of each row from a register chain that settles
//! in the controller's SETUP, as in `BankSteps`).
//!
//! Timing as `BankSteps`: `start` latches the layer's constants and, a
//! cycle later, returns to the layer's first step; `advance` with the
//! loop nest's last-index flags moves to the next step; `bank_addr` and
//! `rotation` are the current step's (combinational).

use crate::digit_sum::DigitSum;
use crate::leaf::{konst, low_mask, vec_of, Word, WordReg};
use rust_hdl::prelude::*;

pub use drq_arch::banked::DIGIT_BITS;

#[derive(LogicBlock)]
pub struct CyclicSteps {
    pub clock: Vec<Signal<In, Clock>>,
    pub reset: Vec<Signal<In, Bit>>,
    pub start: Vec<Signal<In, Bit>>,
    /// The layer: S and TW (latched by the loop nest).
    pub stride: Vec<Signal<In, Word>>,
    pub tile_w: Vec<Signal<In, Word>>,
    /// The constants, `drq_arch::cyclic::CYCLIC_CONSTANT_NAMES` (entries
    /// cut to the entry's bits).
    pub band_len: Vec<Signal<In, Word>>,
    pub tile_row_words: Vec<Signal<In, Word>>,
    pub channel_words: Vec<Signal<In, Word>>,
    pub band_words: Vec<Signal<In, Word>>,
    pub pad_y_phase: Vec<Signal<In, Word>>,
    pub pad_y_part: Vec<Signal<In, Word>>,
    pub y_phase_step: Vec<Signal<In, Word>>,
    pub y_group_step: Vec<Signal<In, Word>>,
    pub pad_x_phase: Vec<Signal<In, Word>>,
    pub pad_x_bank: Vec<Signal<In, Word>>,
    pub pad_x_part: Vec<Signal<In, Word>>,
    pub x_phase_step: Vec<Signal<In, Word>>,
    pub x_bank_step: Vec<Signal<In, Word>>,
    pub x_group_step: Vec<Signal<In, Word>>,
    /// The loop nest moves to its next step; which indices of the step it
    /// leaves are their last (kj, ki, c, pixel tile of the row, tile row).
    pub advance: Vec<Signal<In, Bit>>,
    pub last_kj: Vec<Signal<In, Bit>>,
    pub last_ki: Vec<Signal<In, Bit>>,
    pub last_c: Vec<Signal<In, Bit>>,
    pub last_tx: Vec<Signal<In, Bit>>,
    pub last_ty: Vec<Signal<In, Bit>>,
    /// Per bank: the word it reads.
    pub bank_addr: Vec<Signal<Out, Word>>,
    /// d: row r reads bank (d + r) mod NB.
    pub rotation: Vec<Signal<Out, Word>>,
    /// The constants, latched at `start`.
    cbl_q: Vec<WordReg>,
    trw_q: Vec<WordReg>,
    cw_q: Vec<WordReg>,
    q_q: Vec<WordReg>,
    pyp_q: Vec<WordReg>,
    pyt_q: Vec<WordReg>,
    ysp_q: Vec<WordReg>,
    ysg_q: Vec<WordReg>,
    pxp_q: Vec<WordReg>,
    pxb_q: Vec<WordReg>,
    pxt_q: Vec<WordReg>,
    xsp_q: Vec<WordReg>,
    xsb_q: Vec<WordReg>,
    xsg_q: Vec<WordReg>,
    restart: Vec<WordReg>,
    /// The walk: the tile row's and the tile's part, the channel's, the
    /// kernel offsets' digits and parts.
    tile_row_base: Vec<WordReg>,
    tile_base: Vec<WordReg>,
    channel_base: Vec<WordReg>,
    /// ki - P under (S, 1) and kj - P under (S, TW), with their parts.
    dy: Vec<DigitSum>,
    dx: Vec<DigitSum>,
    /// Per row r >= 1 (index r - 1): tj = r mod TW, from row r - 1.
    row_tj: Vec<WordReg>,
    zero: Vec<Constant<Word>>,
    one: Vec<Constant<Word>>,
    entry_mask: Vec<Constant<Word>>,
    addr_mask: Vec<Constant<Word>>,
    bank_mask: Vec<Constant<Word>>,
    bank_shift: Vec<Constant<Word>>,
    banks_word: Vec<Constant<Word>>,
    index: Vec<Constant<Word>>,
    tj: Vec<Signal<Local, Word>>,
    tj_next: Vec<Signal<Local, Word>>,
    /// The step's entry L0 and its four words: A0, A0 + 1, A0 + Q,
    /// A0 + Q + 1.
    first_entry: Vec<Signal<Local, Word>>,
    base: Vec<Signal<Local, Word>>,
    base_1: Vec<Signal<Local, Word>>,
    base_q: Vec<Signal<Local, Word>>,
    base_q1: Vec<Signal<Local, Word>>,
    /// Per row: its column wraps into the next band (tj + bw0 >= TW).
    row_wraps: Vec<Signal<Local, Bit>>,
    /// Per bank: the row it serves, and that row's wrap.
    bank_row: Vec<Signal<Local, Word>>,
    bank_wraps: Vec<Signal<Local, Bit>>,
    kernel_start: Vec<Signal<Local, Bit>>,
    /// Digits the reads do not need (only the parts and bw0 are).
    unused_digits: Vec<Signal<Local, Word>>,
}

impl CyclicSteps {
    /// `rows` array rows over `banks` banks (a power of two, at least
    /// `rows`) of words addressed by `addr_bits` bits; when not `present`,
    /// a block without ports.
    pub fn new(rows: usize, banks: usize, addr_bits: u32, present: bool) -> CyclicSteps {
        assert!(!present || (banks.is_power_of_two() && (1..=banks).contains(&rows)));
        let one = usize::from(present);
        let (rows, banks) = (rows * one, banks * one);
        let bank_bits = banks.max(1).trailing_zeros();
        let entry_bits = addr_bits + bank_bits;
        let reg = |bits: u32| {
            (0..one)
                .map(|_| WordReg::unsigned(bits))
                .collect::<Vec<_>>()
        };
        let konsts = |v: u64| (0..one).map(|_| konst(v)).collect::<Vec<_>>();
        CyclicSteps {
            clock: vec_of(one),
            reset: vec_of(one),
            start: vec_of(one),
            stride: vec_of(one),
            tile_w: vec_of(one),
            band_len: vec_of(one),
            tile_row_words: vec_of(one),
            channel_words: vec_of(one),
            band_words: vec_of(one),
            pad_y_phase: vec_of(one),
            pad_y_part: vec_of(one),
            y_phase_step: vec_of(one),
            y_group_step: vec_of(one),
            pad_x_phase: vec_of(one),
            pad_x_bank: vec_of(one),
            pad_x_part: vec_of(one),
            x_phase_step: vec_of(one),
            x_bank_step: vec_of(one),
            x_group_step: vec_of(one),
            advance: vec_of(one),
            last_kj: vec_of(one),
            last_ki: vec_of(one),
            last_c: vec_of(one),
            last_tx: vec_of(one),
            last_ty: vec_of(one),
            bank_addr: vec_of(banks),
            rotation: vec_of(one),
            cbl_q: reg(entry_bits),
            trw_q: reg(entry_bits),
            cw_q: reg(entry_bits),
            q_q: reg(addr_bits),
            pyp_q: reg(DIGIT_BITS),
            pyt_q: reg(entry_bits),
            ysp_q: reg(entry_bits),
            ysg_q: reg(entry_bits),
            pxp_q: reg(DIGIT_BITS),
            pxb_q: reg(DIGIT_BITS),
            pxt_q: reg(entry_bits),
            xsp_q: reg(entry_bits),
            xsb_q: reg(entry_bits),
            xsg_q: reg(entry_bits),
            restart: reg(1),
            tile_row_base: reg(entry_bits),
            tile_base: reg(entry_bits),
            channel_base: reg(entry_bits),
            dy: (0..one)
                .map(|_| DigitSum::new(DIGIT_BITS, entry_bits))
                .collect(),
            dx: (0..one)
                .map(|_| DigitSum::new(DIGIT_BITS, entry_bits))
                .collect(),
            row_tj: (1..rows.max(1))
                .map(|_| WordReg::unsigned(DIGIT_BITS))
                .collect(),
            zero: konsts(0),
            one: konsts(1),
            entry_mask: konsts(low_mask(entry_bits)),
            addr_mask: konsts(low_mask(addr_bits)),
            bank_mask: konsts(banks.max(1) as u64 - 1),
            bank_shift: konsts(bank_bits.into()),
            banks_word: konsts(banks as u64),
            index: (0..banks as u64).map(konst).collect(),
            tj: vec_of(rows),
            tj_next: vec_of(rows.max(1) - 1),
            first_entry: vec_of(one),
            base: vec_of(one),
            base_1: vec_of(one),
            base_q: vec_of(one),
            base_q1: vec_of(one),
            row_wraps: vec_of(rows),
            bank_row: vec_of(banks),
            bank_wraps: vec_of(banks),
            kernel_start: vec_of(one),
            unused_digits: vec_of(one),
        }
    }
    fn rows(&self) -> usize {
        self.tj.len()
    }
    fn banks(&self) -> usize {
        self.bank_addr.len()
    }
    /// 1 when present, else 0.
    fn present(&self) -> usize {
        self.start.len()
    }
}

impl Logic for CyclicSteps {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self.present() {
            // ---- Registers: clock, reset, hold.
            self.cbl_q[k].clock.next = self.clock[k].val();
            self.trw_q[k].clock.next = self.clock[k].val();
            self.cw_q[k].clock.next = self.clock[k].val();
            self.q_q[k].clock.next = self.clock[k].val();
            self.pyp_q[k].clock.next = self.clock[k].val();
            self.pyt_q[k].clock.next = self.clock[k].val();
            self.ysp_q[k].clock.next = self.clock[k].val();
            self.ysg_q[k].clock.next = self.clock[k].val();
            self.pxp_q[k].clock.next = self.clock[k].val();
            self.pxb_q[k].clock.next = self.clock[k].val();
            self.pxt_q[k].clock.next = self.clock[k].val();
            self.xsp_q[k].clock.next = self.clock[k].val();
            self.xsb_q[k].clock.next = self.clock[k].val();
            self.xsg_q[k].clock.next = self.clock[k].val();
            self.restart[k].clock.next = self.clock[k].val();
            self.tile_row_base[k].clock.next = self.clock[k].val();
            self.tile_base[k].clock.next = self.clock[k].val();
            self.channel_base[k].clock.next = self.clock[k].val();
            self.cbl_q[k].reset.next = self.reset[k].val();
            self.trw_q[k].reset.next = self.reset[k].val();
            self.cw_q[k].reset.next = self.reset[k].val();
            self.q_q[k].reset.next = self.reset[k].val();
            self.pyp_q[k].reset.next = self.reset[k].val();
            self.pyt_q[k].reset.next = self.reset[k].val();
            self.ysp_q[k].reset.next = self.reset[k].val();
            self.ysg_q[k].reset.next = self.reset[k].val();
            self.pxp_q[k].reset.next = self.reset[k].val();
            self.pxb_q[k].reset.next = self.reset[k].val();
            self.pxt_q[k].reset.next = self.reset[k].val();
            self.xsp_q[k].reset.next = self.reset[k].val();
            self.xsb_q[k].reset.next = self.reset[k].val();
            self.xsg_q[k].reset.next = self.reset[k].val();
            self.restart[k].reset.next = self.reset[k].val();
            self.tile_row_base[k].reset.next = self.reset[k].val();
            self.tile_base[k].reset.next = self.reset[k].val();
            self.channel_base[k].reset.next = self.reset[k].val();
            self.cbl_q[k].d.next = self.cbl_q[k].q.val();
            self.trw_q[k].d.next = self.trw_q[k].q.val();
            self.cw_q[k].d.next = self.cw_q[k].q.val();
            self.q_q[k].d.next = self.q_q[k].q.val();
            self.pyp_q[k].d.next = self.pyp_q[k].q.val();
            self.pyt_q[k].d.next = self.pyt_q[k].q.val();
            self.ysp_q[k].d.next = self.ysp_q[k].q.val();
            self.ysg_q[k].d.next = self.ysg_q[k].q.val();
            self.pxp_q[k].d.next = self.pxp_q[k].q.val();
            self.pxb_q[k].d.next = self.pxb_q[k].q.val();
            self.pxt_q[k].d.next = self.pxt_q[k].q.val();
            self.xsp_q[k].d.next = self.xsp_q[k].q.val();
            self.xsb_q[k].d.next = self.xsb_q[k].q.val();
            self.xsg_q[k].d.next = self.xsg_q[k].q.val();
            self.tile_row_base[k].d.next = self.tile_row_base[k].q.val();
            self.tile_base[k].d.next = self.tile_base[k].q.val();
            self.channel_base[k].d.next = self.channel_base[k].q.val();
            // ---- `start` latches the constants; the first step follows.
            self.restart[k].d.next = self.zero[k].val();
            if self.start[k].val() {
                self.cbl_q[k].d.next = self.band_len[k].val();
                self.trw_q[k].d.next = self.tile_row_words[k].val();
                self.cw_q[k].d.next = self.channel_words[k].val();
                self.q_q[k].d.next = self.band_words[k].val();
                self.pyp_q[k].d.next = self.pad_y_phase[k].val();
                self.pyt_q[k].d.next = self.pad_y_part[k].val();
                self.ysp_q[k].d.next = self.y_phase_step[k].val();
                self.ysg_q[k].d.next = self.y_group_step[k].val();
                self.pxp_q[k].d.next = self.pad_x_phase[k].val();
                self.pxb_q[k].d.next = self.pad_x_bank[k].val();
                self.pxt_q[k].d.next = self.pad_x_part[k].val();
                self.xsp_q[k].d.next = self.x_phase_step[k].val();
                self.xsb_q[k].d.next = self.x_bank_step[k].val();
                self.xsg_q[k].d.next = self.x_group_step[k].val();
                self.restart[k].d.next = self.one[k].val();
            }
            // ---- The digit counters: ki - P (phase rh, group a; no bank
            // digit) and kj - P (phase rw, bank bw0, group xbw), each part
            // stepped by the host's steps.
            self.dy[k].clock.next = self.clock[k].val();
            self.dy[k].reset.next = self.reset[k].val();
            self.dy[k].stride.next = self.stride[k].val();
            self.dy[k].tile.next = self.one[k].val();
            self.dy[k].phase_step.next = self.ysp_q[k].q.val();
            self.dy[k].bank_step.next = self.ysg_q[k].q.val();
            self.dy[k].group_step.next = self.ysg_q[k].q.val();
            self.dy[k].load_phase.next = self.pyp_q[k].q.val();
            self.dy[k].load_bank.next = self.zero[k].val();
            self.dy[k].load_part.next = self.pyt_q[k].q.val();
            self.dx[k].clock.next = self.clock[k].val();
            self.dx[k].reset.next = self.reset[k].val();
            self.dx[k].stride.next = self.stride[k].val();
            self.dx[k].tile.next = self.tile_w[k].val();
            self.dx[k].phase_step.next = self.xsp_q[k].q.val();
            self.dx[k].bank_step.next = self.xsb_q[k].q.val();
            self.dx[k].group_step.next = self.xsg_q[k].q.val();
            self.dx[k].load_phase.next = self.pxp_q[k].q.val();
            self.dx[k].load_bank.next = self.pxb_q[k].q.val();
            self.dx[k].load_part.next = self.pxt_q[k].q.val();
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
                            & self.entry_mask[k].val();
                        if self.last_c[k].val() {
                            self.channel_base[k].d.next = self.zero[k].val();
                            self.tile_base[k].d.next = (self.tile_base[k].q.val()
                                + self.cbl_q[k].q.val())
                                & self.entry_mask[k].val();
                            if self.last_tx[k].val() {
                                self.tile_row_base[k].d.next = (self.tile_row_base[k].q.val()
                                    + self.trw_q[k].q.val())
                                    & self.entry_mask[k].val();
                                self.tile_base[k].d.next = (self.tile_row_base[k].q.val()
                                    + self.trw_q[k].q.val())
                                    & self.entry_mask[k].val();
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
            // ---- The current step's reads: the rotation and four words.
            self.first_entry[k].next = (self.tile_base[k].q.val()
                + self.channel_base[k].q.val()
                + self.dy[k].part.val()
                + self.dx[k].part.val())
                & self.entry_mask[k].val();
            self.rotation[k].next = self.first_entry[k].val() & self.bank_mask[k].val();
            self.base[k].next =
                (self.first_entry[k].val() >> self.bank_shift[k].val()) & self.addr_mask[k].val();
            self.base_1[k].next =
                (self.base[k].val() + self.one[k].val()) & self.addr_mask[k].val();
            self.base_q[k].next =
                (self.base[k].val() + self.q_q[k].q.val()) & self.addr_mask[k].val();
            self.base_q1[k].next =
                (self.base_q[k].val() + self.one[k].val()) & self.addr_mask[k].val();
            for r in 0..self.rows() {
                self.row_wraps[r].next =
                    (self.tj[r].val() + self.dx[k].bank.val()) >= self.tile_w[k].val();
            }
            for b in 0..self.banks() {
                self.bank_row[b].next = (self.index[b].val() + self.banks_word[k].val()
                    - self.rotation[k].val())
                    & self.bank_mask[k].val();
                self.bank_wraps[b].next = false;
                for r in 0..self.rows() {
                    if self.bank_row[b].val() == self.index[r].val() {
                        self.bank_wraps[b].next = self.row_wraps[r].val();
                    }
                }
                self.bank_addr[b].next = self.base[k].val();
                if (self.index[b].val() < self.rotation[k].val()) & self.bank_wraps[b].val() {
                    self.bank_addr[b].next = self.base_q1[k].val();
                } else if self.index[b].val() < self.rotation[k].val() {
                    self.bank_addr[b].next = self.base_1[k].val();
                } else if self.bank_wraps[b].val() {
                    self.bank_addr[b].next = self.base_q[k].val();
                }
            }
        }
    }
}

/// `CyclicSteps` alone as a design (top `drq_cyclic_steps`), for its lint
/// and synthesis checks: `rows` rows over `banks` banks of
/// `addr_bits`-bit words.
pub fn cyclic_steps_design(rows: usize, banks: usize, addr_bits: u32) -> crate::shell::Design {
    use crate::shell::{design, Dir, ShellPort, Widen};
    use drq_arch::cyclic::{is_digit_constant, CYCLIC_CONSTANT_NAMES};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let entry_bits = addr_bits + banks.trailing_zeros();
    let mut ports = vec![
        ShellPort::new("clk", "clock", Input, 1, Some(1), Flag),
        ShellPort::new("reset", "reset", Input, 1, Some(1), Flag),
        ShellPort::new("start", "start", Input, 1, Some(1), Flag),
        ShellPort::new("stride", "stride", Input, DIGIT_BITS, Some(1), Zero),
        ShellPort::new("tile_w", "tile_w", Input, DIGIT_BITS, Some(1), Zero),
    ];
    for name in CYCLIC_CONSTANT_NAMES {
        let bits = if is_digit_constant(name) {
            DIGIT_BITS
        } else {
            entry_bits
        };
        ports.push(ShellPort::new(name, name, Input, bits, Some(1), Zero));
    }
    for name in [
        "advance", "last_kj", "last_ki", "last_c", "last_tx", "last_ty",
    ] {
        ports.push(ShellPort::new(name, name, Input, 1, Some(1), Flag));
    }
    let bank_bits = banks.trailing_zeros().max(1);
    ports.push(ShellPort::new(
        "bank_addr",
        "bank_addr",
        Output,
        addr_bits,
        Some(banks as u32),
        Zero,
    ));
    ports.push(ShellPort::new(
        "rotation",
        "rotation",
        Output,
        bank_bits,
        Some(1),
        Zero,
    ));
    design(
        "drq_cyclic_steps",
        "drq_cyclic_steps_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut CyclicSteps::new(rows, banks, addr_bits, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::{layer_steps, Reader};
    use drq_arch::cyclic::{CyclicConstants, CyclicMap};

    /// The constant ports in `CYCLIC_CONSTANT_NAMES` order.
    fn constant_ports(b: &mut CyclicSteps) -> [&mut Signal<In, Word>; 14] {
        [
            &mut b.band_len[0],
            &mut b.tile_row_words[0],
            &mut b.channel_words[0],
            &mut b.band_words[0],
            &mut b.pad_y_phase[0],
            &mut b.pad_y_part[0],
            &mut b.y_phase_step[0],
            &mut b.y_group_step[0],
            &mut b.pad_x_phase[0],
            &mut b.pad_x_bank[0],
            &mut b.pad_x_part[0],
            &mut b.x_phase_step[0],
            &mut b.x_bank_step[0],
            &mut b.x_group_step[0],
        ]
    }

    fn tick(b: &mut CyclicSteps) {
        b.clock[0].next = Clock::from(false);
        settle(b);
        b.clock[0].next = Clock::from(true);
        settle(b);
    }

    /// Every step of layers over a sweep of strides, tiles, kernels and
    /// paddings (two channel tiles each, so the walk restarts): the
    /// rotation and the word of every bank a row reads are
    /// `CyclicMap::step`'s (`drq_arch::cyclic`), in rust-hdl, at 16 rows
    /// on 16 banks and 3 rows on 4; the constant ports change after
    /// `start` (they are latched).
    #[test]
    fn gives_each_steps_rotation_and_bank_words() {
        let bits = 12u32;
        let mut steps = 0u64;
        for (rows, banks, tiles) in [
            (
                16usize,
                16usize,
                vec![(1, 1), (4, 4), (1, 16), (16, 1), (3, 5), (2, 8), (5, 2)],
            ),
            (3, 4, vec![(1, 3), (3, 1), (1, 2), (1, 1)]),
        ] {
            let mut b = CyclicSteps::new(rows, banks, bits, true);
            b.connect_all();
            let entry_bits = bits + banks.trailing_zeros();
            for stride in 1..=3u32 {
                for &(tile_h, tile_w) in &tiles {
                    let reader = Reader {
                        stride,
                        tile_h,
                        tile_w,
                    };
                    for (kernel, padding) in [(1i64, 0i64), (3, 1), (3, 2), (5, 4), (2, 0), (4, 3)]
                    {
                        let (c_in, h, w) = (2u64, 9u64, 11u64);
                        let s = i64::from(stride);
                        let ho = (h as i64 + 2 * padding - kernel) / s + 1;
                        let wo = (w as i64 + 2 * padding - kernel) / s + 1;
                        let map = CyclicMap::new(c_in, h, w, reader, banks as u32);
                        let k = CyclicConstants::new(&map, padding as u32);
                        b.reset[0].next = true;
                        tick(&mut b);
                        b.reset[0].next = false;
                        b.stride[0].next = word(s);
                        b.tile_w[0].next = word(tile_w.into());
                        for (port, v) in
                            constant_ports(&mut b).into_iter().zip(k.values(entry_bits))
                        {
                            port.next = word(v as i64);
                        }
                        b.start[0].next = true;
                        tick(&mut b);
                        b.start[0].next = false;
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
                                let want = map.step(
                                    st.c,
                                    st.oh0,
                                    st.ow0,
                                    st.ki - padding,
                                    st.kj - padding,
                                );
                                let at = format!(
                                    "{rows} rows on {banks} banks, {reader:?} K {kernel} P \
                                     {padding} {st:?}"
                                );
                                assert_eq!(
                                    b.rotation[0].val().to_u64(),
                                    u64::from(want.rotation),
                                    "{at}: rotation"
                                );
                                for bank in 0..banks as u32 {
                                    if want.row_of_bank(bank) >= tile_h * tile_w {
                                        continue;
                                    }
                                    let got = b.bank_addr[bank as usize].val().to_u64();
                                    let word = want.bank_addr(bank) as u64 & low_mask(bits);
                                    assert_eq!(got, word, "{at} bank {bank}");
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
        }
        assert!(steps > 2_000, "only {steps} steps");
    }
}
