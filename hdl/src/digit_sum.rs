//! `DigitSum`: a coordinate of the cyclic bank layout kept as its digits,
//! v = (group * T + bank) * S + phase (floor division, as
//! `drq_arch::banked::Digits`), with the entry part they stand for,
//! part = group * Ug + bank * Ub + phase * Up, counted by adds only
//! (`drq_arch::cyclic::DigitSteps`: the host gives the three steps,
//! what `part` gains when the phase steps, when the bank steps and when
//! the group steps). `CyclicSteps` keeps its kernel offsets this way, the
//! cyclic layout's input scan (`InputScan::with_layout`) and write-back
//! tables (`LayoutTable::cyclic`) their coordinates (docs/banked.md "The
//! cyclic layout"). `DigitCounter` is the banked layout's form (the part
//! as (group S + phase) units and a bank number).
//!
//! `load` takes the start digits and part and wins over `step`.

use crate::leaf::{konst, low_mask, Word, WordReg};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct DigitSum {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub load: Signal<In, Bit>,
    pub load_phase: Signal<In, Word>,
    pub load_bank: Signal<In, Word>,
    pub load_part: Signal<In, Word>,
    /// Count up by one.
    pub step: Signal<In, Bit>,
    /// S and T (at least 1) and the three steps (two's complement, cut to
    /// the part's bits).
    pub stride: Signal<In, Word>,
    pub tile: Signal<In, Word>,
    pub phase_step: Signal<In, Word>,
    pub bank_step: Signal<In, Word>,
    pub group_step: Signal<In, Word>,
    pub phase: Signal<Out, Word>,
    pub bank: Signal<Out, Word>,
    pub part: Signal<Out, Word>,
    phase_q: WordReg,
    bank_q: WordReg,
    part_q: WordReg,
    zero: Constant<Word>,
    one: Constant<Word>,
    part_mask: Constant<Word>,
    phase_next: Signal<Local, Word>,
    bank_next: Signal<Local, Word>,
}

impl DigitSum {
    /// Digits of `digit_bits` (phase and bank) and a part of `part_bits`.
    pub fn new(digit_bits: u32, part_bits: u32) -> DigitSum {
        DigitSum {
            clock: Default::default(),
            reset: Default::default(),
            load: Default::default(),
            load_phase: Default::default(),
            load_bank: Default::default(),
            load_part: Default::default(),
            step: Default::default(),
            stride: Default::default(),
            tile: Default::default(),
            phase_step: Default::default(),
            bank_step: Default::default(),
            group_step: Default::default(),
            phase: Default::default(),
            bank: Default::default(),
            part: Default::default(),
            phase_q: WordReg::unsigned(digit_bits),
            bank_q: WordReg::unsigned(digit_bits),
            part_q: WordReg::unsigned(part_bits),
            zero: konst(0),
            one: konst(1),
            part_mask: konst(low_mask(part_bits)),
            phase_next: Default::default(),
            bank_next: Default::default(),
        }
    }
}

impl Logic for DigitSum {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, phase_q, bank_q, part_q);
        self.phase_q.reset.next = self.reset.val();
        self.bank_q.reset.next = self.reset.val();
        self.part_q.reset.next = self.reset.val();
        self.phase_next.next = self.phase_q.q.val() + self.one.val();
        self.bank_next.next = self.bank_q.q.val() + self.one.val();
        if self.load.val() {
            self.phase_q.d.next = self.load_phase.val();
            self.bank_q.d.next = self.load_bank.val();
            self.part_q.d.next = self.load_part.val() & self.part_mask.val();
        } else if self.step.val() {
            if self.phase_next.val() != self.stride.val() {
                self.phase_q.d.next = self.phase_next.val();
                self.part_q.d.next =
                    (self.part_q.q.val() + self.phase_step.val()) & self.part_mask.val();
            } else if self.bank_next.val() != self.tile.val() {
                self.phase_q.d.next = self.zero.val();
                self.bank_q.d.next = self.bank_next.val();
                self.part_q.d.next =
                    (self.part_q.q.val() + self.bank_step.val()) & self.part_mask.val();
            } else {
                self.phase_q.d.next = self.zero.val();
                self.bank_q.d.next = self.zero.val();
                self.part_q.d.next =
                    (self.part_q.q.val() + self.group_step.val()) & self.part_mask.val();
            }
        }
        self.phase.next = self.phase_q.q.val();
        self.bank.next = self.bank_q.q.val();
        self.part.next = self.part_q.q.val();
    }
}

/// `DigitSum` alone as a design (top `drq_digit_sum`), for its lint and
/// synthesis checks.
pub fn digit_sum_design(digit_bits: u32, part_bits: u32) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let mut ports = vec![
        ShellPort::new("clk", "clock", Input, 1, None, Flag),
        scalar("reset", Input, 1, Flag),
        scalar("load", Input, 1, Flag),
        scalar("step", Input, 1, Flag),
    ];
    for (name, bits) in [
        ("load_phase", digit_bits),
        ("load_bank", digit_bits),
        ("load_part", part_bits),
        ("stride", digit_bits),
        ("tile", digit_bits),
        ("phase_step", part_bits),
        ("bank_step", part_bits),
        ("group_step", part_bits),
    ] {
        ports.push(scalar(name, Input, bits, Zero));
    }
    for (name, bits) in [
        ("phase", digit_bits),
        ("bank", digit_bits),
        ("part", part_bits),
    ] {
        ports.push(scalar(name, Output, bits, Zero));
    }
    design(
        "drq_digit_sum",
        "drq_digit_sum_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut DigitSum::new(digit_bits, part_bits),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::Digits;
    use drq_arch::cyclic::DigitSteps;
    use drq_golden::rng::{test_seed, Rng};

    fn tick(m: &mut DigitSum) {
        m.clock.next = Clock::from(false);
        settle(m);
        m.clock.next = Clock::from(true);
        settle(m);
    }

    /// Random strides, tile sides and units, random starts (negative too):
    /// after every step (with random idle cycles) the digits are those of
    /// the value reached (`Digits::of`) and the part is group Ug + bank Ub
    /// + phase Up of them, cut to the part's bits.
    #[test]
    fn counts_the_digits_and_their_part_of_every_value() {
        let seed = test_seed("digit_sum");
        let mut rng = Rng::new(seed);
        let bits = 16u32;
        let mut m = DigitSum::new(7, bits);
        m.connect_all();
        m.reset.next = true;
        tick(&mut m);
        m.reset.next = false;
        for round in 0..60 {
            let (s, t) = (rng.range(1, 4) as u32, rng.range(1, 6) as u32);
            let (up, ub, ug) = (rng.range(0, 300), rng.range(0, 20), rng.range(0, 900));
            let steps = DigitSteps::of(s, t, up, ub, ug);
            let part_of = |d: &Digits| {
                (d.group * ug + i64::from(d.bank) * ub + i64::from(d.phase) * up) as u64
                    & low_mask(bits)
            };
            let mut v = rng.range(-12, 12);
            let d = Digits::of(v, s, t);
            m.stride.next = word(s.into());
            m.tile.next = word(t.into());
            for (port, x) in [
                (&mut m.phase_step, steps.phase),
                (&mut m.bank_step, steps.bank),
                (&mut m.group_step, steps.group),
            ] {
                port.next = word((x as u64 & low_mask(bits)) as i64);
            }
            m.load_phase.next = word(d.phase.into());
            m.load_bank.next = word(d.bank.into());
            m.load_part.next = word(part_of(&d) as i64);
            m.load.next = true;
            tick(&mut m);
            m.load.next = false;
            for _ in 0..40 {
                let step = rng.chance(0.7);
                m.step.next = step;
                tick(&mut m);
                m.step.next = false;
                if step {
                    v += 1;
                }
                let want = Digits::of(v, s, t);
                let at = format!("round {round}, S {s}, T {t}, value {v}, seed {seed}");
                assert_eq!(m.phase.val().to_u64(), u64::from(want.phase), "{at}: phase");
                assert_eq!(m.bank.val().to_u64(), u64::from(want.bank), "{at}: bank");
                assert_eq!(m.part.val().to_u64(), part_of(&want), "{at}: part");
            }
        }
    }
}
