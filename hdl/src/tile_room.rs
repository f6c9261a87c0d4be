//! The output stage's answer to a burst read-out (`burst_readout`): can it
//! take the next tile whole now?
//!
//! A tile of `valid_h` tile rows whose valid pixels x = ow0 .. ow0 +
//! valid_w - 1 span groups = ((ow0 + valid_w - 1) >> log2 L) - (ow0 >> log2
//! L) + 1 lane groups per tile row has G = valid_h * groups lane groups
//! (docs/spec.md §7.4, `drq_golden::cycles::tile_groups`). The stage holds
//! at most Q = `out_rows` groups; `held` is how many it holds past this
//! cycle. `room`: held + G <= Q, so every row of the tile is taken as
//! offered, one per cycle. `oversize`: G > Q, the tile never fits whole.

use crate::leaf::{word, SignedMul, Word};
use crate::shell::clog2;
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct TileRoom {
    /// The next tile's first pixel column and valid rows and columns.
    pub ow0: Signal<In, Word>,
    pub valid_h: Signal<In, Word>,
    pub valid_w: Signal<In, Word>,
    /// Groups the stage holds past this cycle.
    pub held: Signal<In, Word>,
    pub room: Signal<Out, Bit>,
    pub oversize: Signal<Out, Bit>,
    one: Constant<Word>,
    zero: Constant<Word>,
    lanes_log2: Constant<Word>,
    out_rows: Constant<Word>,
    /// Row-count fields (valid_h, groups per row <= ROWS).
    rows_mask: Constant<Word>,
    per_row: Signal<Local, Word>,
    groups: Signal<Local, Word>,
    mul: SignedMul,
}

impl TileRoom {
    pub fn new(cfg: &AccelConfig) -> TileRoom {
        let rows_bits = clog2(cfg.rows + 1);
        TileRoom {
            ow0: Default::default(),
            valid_h: Default::default(),
            valid_w: Default::default(),
            held: Default::default(),
            room: Default::default(),
            oversize: Default::default(),
            one: Constant::new(word(1)),
            zero: Constant::new(word(0)),
            lanes_log2: Constant::new(word(i64::from(cfg.out_lanes.trailing_zeros()))),
            out_rows: Constant::new(word(i64::from(cfg.out_rows))),
            rows_mask: Constant::new(word((1i64 << rows_bits) - 1)),
            per_row: Default::default(),
            groups: Default::default(),
            // valid_h <= ROWS (one more bit for the signed a).
            mul: SignedMul::new(rows_bits + 1, rows_bits),
        }
    }
}

impl Logic for TileRoom {
    #[hdl_gen]
    fn update(&mut self) {
        self.per_row.next = (((self.ow0.val() + self.valid_w.val() - self.one.val())
            >> self.lanes_log2.val())
            - (self.ow0.val() >> self.lanes_log2.val())
            + self.one.val())
            & self.rows_mask.val();
        self.mul.a.next = self.valid_h.val() & self.rows_mask.val();
        self.mul.b.next = self.per_row.val();
        self.groups.next = self.mul.p.val();
        if (self.valid_h.val() == self.zero.val()) | (self.valid_w.val() == self.zero.val()) {
            self.groups.next = self.zero.val();
        }
        self.oversize.next = self.groups.val() > self.out_rows.val();
        self.room.next =
            !self.oversize.val() & (self.held.val() + self.groups.val() <= self.out_rows.val());
    }
}

#[cfg(test)]
mod tests {
    //! The block alone in rust-hdl's simulator against groups counted here
    //! pixel by pixel.
    use super::*;
    use crate::leaf::settle;

    /// Lane groups of a tile: distinct x div L over one tile row's valid
    /// pixels, times the valid rows.
    fn groups(lanes: u64, ow0: u64, valid_h: u64, valid_w: u64) -> u64 {
        let mut words: Vec<u64> = (ow0..ow0 + valid_w).map(|x| x / lanes).collect();
        words.dedup();
        valid_h * words.len() as u64
    }

    #[test]
    fn room_and_oversize_for_every_small_tile() {
        for (lanes, out_rows) in [(1u32, 1u32), (2, 2), (4, 4), (8, 3), (2, 16)] {
            let cfg = AccelConfig {
                rows: 16,
                out_lanes: lanes,
                out_rows,
                ..AccelConfig::replicated()
            };
            let mut t = TileRoom::new(&cfg);
            t.connect_all();
            let q = u64::from(out_rows);
            for ow0 in 0..10u64 {
                for valid_w in 0..=5u64 {
                    for valid_h in 0..=3u64 {
                        for held in 0..=q {
                            t.ow0.next = ow0.to_bits();
                            t.valid_w.next = valid_w.to_bits();
                            t.valid_h.next = valid_h.to_bits();
                            t.held.next = held.to_bits();
                            settle(&mut t);
                            let g = groups(u64::from(lanes), ow0, valid_h, valid_w);
                            let what = format!(
                                "L {lanes} Q {q}: ow0 {ow0} {valid_h}x{valid_w} held {held} (G {g})"
                            );
                            assert_eq!(t.oversize.val(), g > q, "{what}");
                            assert_eq!(t.room.val(), g <= q && held + g <= q, "{what}");
                        }
                    }
                }
            }
        }
    }
}
