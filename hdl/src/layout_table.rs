//! `LayoutTable`: the stored-once (banked) layout of one coordinate of a
//! map as a table (`drq_arch::banked`; docs/banked.md): entry v holds v's
//! address part and its bank digit's share of a bank number, so the
//! write-back turns an output element's (c, y, x) into a bank and an
//! address by three lookups and two adds, in any order the output stage
//! hands elements over (rows ascending or descending, lane groups, the
//! queue).
//!
//! A `DigitCounter` fills the table one entry a cycle from `start`
//! (entry v in the (v + 1)-th cycle after it, for v below the depth): a
//! layer's first output element is written more than max(ROWS, COLS)
//! cycles after its start, and every later element needing a new entry
//! comes after at least as many elements as the entries it adds (one
//! element a cycle), so the fill is ahead of every read (docs/banked.md).
//! Rows: (stride S', tile TH', unit RW', group GW', bank unit TW'); columns:
//! (S', TW', 1, S', 1); channels: (1, 1, CW', CW', 0).

use crate::digit_counter::DigitCounter;
use crate::digit_sum::DigitSum;
use crate::leaf::{konst, low_mask, one_if, Word, WordReg};
use crate::ram::LutRam;
use crate::shell::clog2;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct LayoutTable {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Fill the table again from entry 0, for the constants below.
    pub start: Signal<In, Bit>,
    pub stride: Signal<In, Word>,
    pub tile: Signal<In, Word>,
    /// The banked layout's form (one each, none for the cyclic one):
    /// `DigitCounter`'s unit, group and bank unit.
    pub unit: Vec<Signal<In, Word>>,
    pub group_words: Vec<Signal<In, Word>>,
    pub bank_unit: Vec<Signal<In, Word>>,
    /// The cyclic layout's form (one each, none for the banked one):
    /// `DigitSum`'s three steps (`drq_arch::cyclic::DigitSteps`).
    pub phase_step: Vec<Signal<In, Word>>,
    pub bank_step: Vec<Signal<In, Word>>,
    pub group_step: Vec<Signal<In, Word>>,
    /// The entry to read, and its part (this cycle): banked, an address
    /// part and (`bank_index`) a bank number; cyclic, an entry part.
    pub index: Signal<In, Word>,
    pub part: Signal<Out, Word>,
    pub bank_index: Vec<Signal<Out, Word>>,
    /// Entries written since `start`.
    pub filled: Signal<Out, Word>,
    digits: Vec<DigitCounter>,
    sums: Vec<DigitSum>,
    entries: LutRam,
    fill: WordReg,
    filling: WordReg,
    zero: Constant<Word>,
    one: Constant<Word>,
    depth: Constant<Word>,
    part_mask: Constant<Word>,
    index_shift: Vec<Constant<Word>>,
    /// The counter steps (an entry is written).
    fill_step: Signal<Local, Bit>,
    /// The counter's digits themselves (the table keeps their part and
    /// bank number).
    unused_digits: Signal<Local, Word>,
}

impl LayoutTable {
    /// The banked layout's table: `depth` entries of a `part_bits`
    /// address part and an `index_bits` bank number.
    pub fn new(depth: usize, part_bits: u32, index_bits: u32) -> LayoutTable {
        LayoutTable::with_form(depth, part_bits, Some(index_bits))
    }
    /// The cyclic layout's table: `depth` entry parts of `entry_bits`.
    pub fn cyclic(depth: usize, entry_bits: u32) -> LayoutTable {
        LayoutTable::with_form(depth, entry_bits, None)
    }
    fn with_form(depth: usize, part_bits: u32, index_bits: Option<u32>) -> LayoutTable {
        let banked = index_bits.is_some();
        let index = index_bits.unwrap_or(0);
        assert!(depth >= 2 && part_bits + index <= 64);
        LayoutTable {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            stride: Default::default(),
            tile: Default::default(),
            unit: one_if(banked, Default::default()),
            group_words: one_if(banked, Default::default()),
            bank_unit: one_if(banked, Default::default()),
            phase_step: one_if(!banked, Default::default()),
            bank_step: one_if(!banked, Default::default()),
            group_step: one_if(!banked, Default::default()),
            index: Default::default(),
            part: Default::default(),
            bank_index: one_if(banked, Default::default()),
            filled: Default::default(),
            digits: one_if(banked, DigitCounter::new(7, part_bits, index.max(1))),
            sums: one_if(!banked, DigitSum::new(7, part_bits)),
            entries: LutRam::new(depth, part_bits + index),
            fill: WordReg::unsigned(clog2(depth as u32 + 1)),
            filling: WordReg::unsigned(1),
            zero: konst(0),
            one: konst(1),
            depth: konst(depth as u64),
            part_mask: konst(low_mask(part_bits)),
            index_shift: one_if(banked, konst(part_bits.into())),
            fill_step: Default::default(),
            unused_digits: Default::default(),
        }
    }
}

impl Logic for LayoutTable {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, fill, filling);
        self.fill.reset.next = self.reset.val();
        self.filling.reset.next = self.reset.val();
        self.entries.clock.next = self.clock.val();
        self.entries.wr_addr.next = self.fill.q.val();
        self.entries.wr_data.next = self.zero.val();
        self.entries.wr_en.next = false;
        self.unused_digits.next = self.zero.val();
        self.fill_step.next = false;
        if self.filling.q.val().any() {
            self.entries.wr_en.next = true;
            self.fill_step.next = true;
            self.fill.d.next = self.fill.q.val() + self.one.val();
            if (self.fill.q.val() + self.one.val()) == self.depth.val() {
                self.filling.d.next = self.zero.val();
            }
        }
        if self.start.val() {
            self.fill.d.next = self.zero.val();
            self.filling.d.next = self.one.val();
            self.entries.wr_en.next = false;
        }
        self.entries.rd_addr.next = self.index.val();
        self.part.next = self.entries.rd_data.val() & self.part_mask.val();
        self.filled.next = self.fill.q.val();
        // Banked: a `DigitCounter`'s part and bank number.
        for k in 0..self.digits.len() {
            self.digits[k].clock.next = self.clock.val();
            self.digits[k].reset.next = self.reset.val();
            self.digits[k].stride.next = self.stride.val();
            self.digits[k].tile.next = self.tile.val();
            self.digits[k].unit.next = self.unit[k].val();
            self.digits[k].group_words.next = self.group_words[k].val();
            self.digits[k].bank_unit.next = self.bank_unit[k].val();
            self.digits[k].load_phase.next = self.zero.val();
            self.digits[k].load_bank.next = self.zero.val();
            self.digits[k].load_part.next = self.zero.val();
            self.digits[k].load_index.next = self.zero.val();
            self.digits[k].load.next = self.start.val();
            self.digits[k].step.next = self.fill_step.val();
            self.entries.wr_data.next = (self.digits[k].bank_index.val()
                << self.index_shift[k].val())
                | (self.digits[k].part.val() & self.part_mask.val());
            self.bank_index[k].next = self.entries.rd_data.val() >> self.index_shift[k].val();
            self.unused_digits.next = self.digits[k].phase.val() | self.digits[k].bank.val();
        }
        // Cyclic: a `DigitSum`'s entry part.
        for k in 0..self.sums.len() {
            self.sums[k].clock.next = self.clock.val();
            self.sums[k].reset.next = self.reset.val();
            self.sums[k].stride.next = self.stride.val();
            self.sums[k].tile.next = self.tile.val();
            self.sums[k].phase_step.next = self.phase_step[k].val();
            self.sums[k].bank_step.next = self.bank_step[k].val();
            self.sums[k].group_step.next = self.group_step[k].val();
            self.sums[k].load_phase.next = self.zero.val();
            self.sums[k].load_bank.next = self.zero.val();
            self.sums[k].load_part.next = self.zero.val();
            self.sums[k].load.next = self.start.val();
            self.sums[k].step.next = self.fill_step.val();
            self.entries.wr_data.next = self.sums[k].part.val();
            self.unused_digits.next = self.sums[k].phase.val() | self.sums[k].bank.val();
        }
    }
}

/// `LayoutTable` alone as a design (top `drq_layout_table`), for its lint
/// and synthesis checks: the banked form with an `index_bits` bank
/// number, or (None) the cyclic form.
pub fn layout_table_design(
    depth: usize,
    part_bits: u32,
    index_bits: Option<u32>,
) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let one = |name: &str, dir, width| ShellPort::new(name, name, dir, width, Some(1), Zero);
    let mut ports = vec![
        ShellPort::new("clk", "clock", Input, 1, None, Flag),
        scalar("reset", Input, 1, Flag),
        scalar("start", Input, 1, Flag),
        scalar("stride", Input, 7, Zero),
        scalar("tile", Input, 7, Zero),
        scalar("index", Input, clog2(depth as u32), Zero),
        scalar("part", Output, part_bits, Zero),
        scalar("filled", Output, clog2(depth as u32 + 1), Zero),
    ];
    let mut table = match index_bits {
        Some(index) => {
            ports.extend([
                one("bank_unit", Input, 7),
                one("unit", Input, part_bits),
                one("group_words", Input, part_bits),
                one("bank_index", Output, index),
            ]);
            LayoutTable::new(depth, part_bits, index)
        }
        None => {
            ports.extend(
                ["phase_step", "bank_step", "group_step"].map(|n| one(n, Input, part_bits)),
            );
            LayoutTable::cyclic(depth, part_bits)
        }
    };
    design(
        "drq_layout_table",
        "drq_layout_table_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut table,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::banked::Digits;
    use drq_golden::rng::Rng;

    fn tick(t: &mut LayoutTable) {
        t.clock.next = Clock::from(false);
        settle(t);
        t.clock.next = Clock::from(true);
        settle(t);
    }

    /// Filled for random strides, tile sides and units (rows, columns and
    /// channels' forms), every entry holds its value's part and bank
    /// number (`Digits::of`) from the (v + 1)-th cycle after `start` on,
    /// and a second fill replaces the first, in rust-hdl.
    #[test]
    fn each_entry_holds_its_digits_from_its_fill_cycle_on() {
        let seed = 31;
        let mut rng = Rng::new(seed);
        let (depth, bits) = (40usize, 13u32);
        let mut t = LayoutTable::new(depth, bits, 7);
        t.connect_all();
        t.reset.next = true;
        tick(&mut t);
        t.reset.next = false;
        for run in 0..60 {
            let (s, tile, unit, bank_unit) = match run % 3 {
                0 => {
                    let s = rng.range(1, 16) as u32;
                    (
                        s,
                        rng.range(1, 16) as u32,
                        rng.range(1, 30) as u64,
                        rng.range(1, 16) as u64,
                    )
                }
                1 => (rng.range(1, 16) as u32, rng.range(1, 16) as u32, 1, 1),
                _ => (1, 1, rng.range(1, 200) as u64, 0),
            };
            t.stride.next = word(s.into());
            t.tile.next = word(tile.into());
            t.unit[0].next = word(unit as i64);
            t.group_words[0].next = word((u64::from(s) * unit) as i64);
            t.bank_unit[0].next = word(bank_unit as i64);
            t.start.next = true;
            tick(&mut t);
            t.start.next = false;
            for cycle in 1..=depth + 3 {
                tick(&mut t);
                // Entries 0 .. cycle are written; check one of them.
                let v = rng.range(0, (cycle.min(depth) - 1) as i64);
                t.index.next = word(v);
                settle(&mut t);
                let g = Digits::of(v, s, tile);
                let part = g.part(s, unit) as u64;
                assert_eq!(
                    (t.part.val().to_u64(), t.bank_index[0].val().to_u64()),
                    (part & low_mask(bits), u64::from(g.bank) * bank_unit),
                    "seed {seed} run {run} S {s} T {tile} unit {unit} entry {v} cycle {cycle}"
                );
                assert_eq!(t.filled.val().to_u64(), cycle.min(depth) as u64);
            }
        }
    }
}
