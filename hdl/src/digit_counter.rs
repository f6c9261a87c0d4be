//! `DigitCounter`: a coordinate of the stored-once (banked) activation
//! layout kept as its digits (`drq_arch::banked`): v = (group * T + bank) *
//! S + phase, with the address part the digits stand for,
//! `part` = group * `group_words` + phase * `unit` (wrapped at its width),
//! and the bank digit's share of a bank number, `bank_index` = bank *
//! `bank_unit`. It loads any start digits and counts up by one, so the
//! controller's kernel offsets, the write-back's output positions and the
//! input scan's raster walk all reach their bank and address with adders
//! only: no product and no division (docs/decisions.md, "Stored-once
//! activation buffers").
//!
//! A step adds `unit` to `part` while the phase stays below S; when the
//! phase wraps it adds `unit - group_words` (S - 1 units back, the bank
//! steps and `bank_index` adds `bank_unit`); when the bank wraps too it
//! adds `unit` (the group steps) and `bank_index` returns to 0. `load`
//! wins over `step`.

use crate::leaf::{konst, low_mask, Word, WordReg};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct DigitCounter {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Take `load_phase`, `load_bank`, `load_part`, `load_index`.
    pub load: Signal<In, Bit>,
    pub load_phase: Signal<In, Word>,
    pub load_bank: Signal<In, Word>,
    pub load_part: Signal<In, Word>,
    pub load_index: Signal<In, Word>,
    /// Count up by one.
    pub step: Signal<In, Bit>,
    /// S and T (at least 1), the address step of a phase and of a group
    /// (S units), and the bank number's step of a bank digit.
    pub stride: Signal<In, Word>,
    pub tile: Signal<In, Word>,
    pub unit: Signal<In, Word>,
    pub group_words: Signal<In, Word>,
    pub bank_unit: Signal<In, Word>,
    pub phase: Signal<Out, Word>,
    pub bank: Signal<Out, Word>,
    pub part: Signal<Out, Word>,
    pub bank_index: Signal<Out, Word>,
    phase_q: WordReg,
    bank_q: WordReg,
    part_q: WordReg,
    index_q: WordReg,
    zero: Constant<Word>,
    one: Constant<Word>,
    part_mask: Constant<Word>,
    phase_next: Signal<Local, Word>,
    bank_next: Signal<Local, Word>,
}

impl DigitCounter {
    /// Digits of `digit_bits` (phase and bank), an address part of
    /// `part_bits` and a bank number of `index_bits`.
    pub fn new(digit_bits: u32, part_bits: u32, index_bits: u32) -> DigitCounter {
        DigitCounter {
            clock: Default::default(),
            reset: Default::default(),
            load: Default::default(),
            load_phase: Default::default(),
            load_bank: Default::default(),
            load_part: Default::default(),
            load_index: Default::default(),
            step: Default::default(),
            stride: Default::default(),
            tile: Default::default(),
            unit: Default::default(),
            group_words: Default::default(),
            bank_unit: Default::default(),
            phase: Default::default(),
            bank: Default::default(),
            part: Default::default(),
            bank_index: Default::default(),
            phase_q: WordReg::unsigned(digit_bits),
            bank_q: WordReg::unsigned(digit_bits),
            part_q: WordReg::unsigned(part_bits),
            index_q: WordReg::unsigned(index_bits),
            zero: konst(0),
            one: konst(1),
            part_mask: konst(low_mask(part_bits)),
            phase_next: Default::default(),
            bank_next: Default::default(),
        }
    }
}

impl Logic for DigitCounter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, phase_q, bank_q, part_q, index_q);
        self.phase_q.reset.next = self.reset.val();
        self.bank_q.reset.next = self.reset.val();
        self.part_q.reset.next = self.reset.val();
        self.index_q.reset.next = self.reset.val();
        self.phase_next.next = self.phase_q.q.val() + self.one.val();
        self.bank_next.next = self.bank_q.q.val() + self.one.val();
        if self.load.val() {
            self.phase_q.d.next = self.load_phase.val();
            self.bank_q.d.next = self.load_bank.val();
            self.part_q.d.next = self.load_part.val() & self.part_mask.val();
            self.index_q.d.next = self.load_index.val();
        } else if self.step.val() {
            self.phase_q.d.next = self.phase_next.val();
            self.part_q.d.next = (self.part_q.q.val() + self.unit.val()) & self.part_mask.val();
            if self.phase_next.val() == self.stride.val() {
                self.phase_q.d.next = self.zero.val();
                self.bank_q.d.next = self.bank_next.val();
                self.index_q.d.next = self.index_q.q.val() + self.bank_unit.val();
                self.part_q.d.next = (self.part_q.q.val() + self.unit.val()
                    - self.group_words.val())
                    & self.part_mask.val();
                if self.bank_next.val() == self.tile.val() {
                    self.bank_q.d.next = self.zero.val();
                    self.index_q.d.next = self.zero.val();
                    self.part_q.d.next =
                        (self.part_q.q.val() + self.unit.val()) & self.part_mask.val();
                }
            }
        }
        self.phase.next = self.phase_q.q.val();
        self.bank.next = self.bank_q.q.val();
        self.part.next = self.part_q.q.val();
        self.bank_index.next = self.index_q.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::Digits;
    use drq_golden::rng::Rng;

    fn tick(d: &mut DigitCounter) {
        d.clock.next = Clock::from(false);
        settle(d);
        d.clock.next = Clock::from(true);
        settle(d);
    }

    /// Loaded with the digits of a random start (negative ones too: a
    /// padding offset) under a random stride, tile side and units, and
    /// stepped with random pauses, the counter holds the digits of every
    /// value it passes (`Digits::of`), their address part and bank number,
    /// in rust-hdl.
    #[test]
    fn counts_through_the_digits_of_every_value() {
        let seed = 29;
        let mut rng = Rng::new(seed);
        let bits = 14u32;
        let mut d = DigitCounter::new(7, bits, 8);
        d.connect_all();
        d.reset.next = true;
        tick(&mut d);
        d.reset.next = false;
        for run in 0..300 {
            let s = rng.range(1, 16) as u32;
            let t = rng.range(1, 16) as u32;
            let unit = rng.range(1, 40) as u64;
            let bank_unit = rng.range(1, 8) as u64;
            let mut v = rng.range(-40, 10);
            let part = |v: i64| Digits::of(v, s, t).part(s, unit) as u64 & low_mask(bits);
            let dg = Digits::of(v, s, t);
            d.stride.next = word(s.into());
            d.tile.next = word(t.into());
            d.unit.next = word(unit as i64);
            d.group_words.next = word((u64::from(s) * unit) as i64);
            d.bank_unit.next = word(bank_unit as i64);
            d.load.next = true;
            d.load_phase.next = word(dg.phase.into());
            d.load_bank.next = word(dg.bank.into());
            d.load_part.next = word(part(v) as i64);
            d.load_index.next = word(i64::from(dg.bank) * bank_unit as i64);
            tick(&mut d);
            d.load.next = false;
            for _ in 0..200 {
                let g = Digits::of(v, s, t);
                let got = (
                    d.phase.val().to_u64(),
                    d.bank.val().to_u64(),
                    d.part.val().to_u64(),
                    d.bank_index.val().to_u64(),
                );
                let want = (
                    u64::from(g.phase),
                    u64::from(g.bank),
                    part(v),
                    u64::from(g.bank) * bank_unit,
                );
                assert_eq!(
                    got, want,
                    "seed {seed} run {run} S {s} T {t} unit {unit} v {v}"
                );
                let step = rng.range(0, 3) > 0;
                d.step.next = step;
                tick(&mut d);
                v += i64::from(step);
            }
        }
    }
}
