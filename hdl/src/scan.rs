//! `InputScan`: the raster walk of `drq_top`'s input-mask phase (PIN,
//! `docs/top.md`). It steps through an input feature map of `c_in`
//! channels of `h` x `w` one group of G = `cfg.scan_group()` values per
//! cycle (1 without the streaming predictor; the G values of a row from
//! x = a multiple of G, fewer at the row's end), channel by channel and
//! row by row, and gives the position and the activation buffer's word
//! address of the group's first value (rows at `cfg.act_pitch(w)`: the
//! configuration's pitch, or with packed rows w rounded up to out_lanes,
//! stepped by an adder; value g is at address + g; the values at x >= w
//! are not part of the map). Only the DRQ array predicts its input mask; the INT8
//! baseline's top has no scan.
//!
//! With stored-once (banked) activations (`InputScan::with_banks`;
//! docs/banked.md) the scan reads one value a cycle (G = 1) and gives the
//! value's bank (`bank`) and its address in that bank (`addr`): the
//! channel's part plus the row's and the column's, kept by two
//! `DigitCounter`s as the walk steps, for the layout of the layer that
//! reads the map (its S, TH, TW and the layout's RW, GW, CW). With the
//! cyclic layout (`InputScan::with_layout`, `drq_arch::cyclic`) the
//! value's entry L is the channel's part plus the row's and the column's,
//! kept by two `DigitSum`s under the host's steps
//! (`CyclicMap::row_steps`, `column_steps`): its bank is L mod ROWS, its
//! address L div ROWS (ROWS a power of two).

use crate::digit_counter::DigitCounter;
use crate::digit_sum::DigitSum;
use crate::leaf::{konst, low_mask, one_if, PackedPitch, Reg, Word, WordReg};
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct InputScan {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Back to the first value (channel 0, row 0, column 0).
    pub restart: Signal<In, Bit>,
    /// Move on to the next value.
    pub advance: Signal<In, Bit>,
    /// The map's channels, rows and columns (at least 1 each).
    pub c_in: Signal<In, Word>,
    pub h: Signal<In, Word>,
    pub w: Signal<In, Word>,
    /// The stored-once layouts (one entry each with banked or cyclic
    /// activations, else none): the reader's stride and tile, the
    /// address steps of a bank row and a row group (banked only) and of
    /// a channel (cyclic: its entry step).
    pub bank_stride: Vec<Signal<In, Word>>,
    pub bank_tile_h: Vec<Signal<In, Word>>,
    pub bank_tile_w: Vec<Signal<In, Word>>,
    pub bank_row_words: Vec<Signal<In, Word>>,
    pub bank_group_words: Vec<Signal<In, Word>>,
    pub bank_channel_words: Vec<Signal<In, Word>>,
    /// The cyclic layout (one each, else none): the row part's steps
    /// under (S, 1) and the column part's under (S, TW).
    pub y_phase_step: Vec<Signal<In, Word>>,
    pub y_group_step: Vec<Signal<In, Word>>,
    pub x_phase_step: Vec<Signal<In, Word>>,
    pub x_bank_step: Vec<Signal<In, Word>>,
    pub x_group_step: Vec<Signal<In, Word>>,
    /// The current value's word address in the activation buffer (in its
    /// bank, with banked activations).
    pub addr: Signal<Out, Word>,
    /// Banked activations only: the current value's bank.
    pub bank: Vec<Signal<Out, Word>>,
    /// The current value is the map's last.
    pub last: Signal<Out, Bit>,
    /// The value read in the previous cycle (an `advance`), whose data is
    /// on the buffer's read port now: valid, and its position.
    pub read_valid: Signal<Out, Bit>,
    /// The value read is the map's last (never without `read_valid`).
    pub read_last: Signal<Out, Bit>,
    pub read_c: Signal<Out, Word>,
    pub read_y: Signal<Out, Word>,
    pub read_x: Signal<Out, Word>,
    sc_c: WordReg,
    sc_y: WordReg,
    sc_x: WordReg,
    /// The address of the current row's first value.
    sc_base: WordReg,
    rd_valid: Reg<Bit>,
    rd_last: Reg<Bit>,
    rd_c: WordReg,
    rd_y: WordReg,
    rd_x: WordReg,
    /// Values of the map from the current column on: w - x.
    row_left: Signal<Local, Word>,
    row_end: Signal<Local, Bit>,
    map_end: Signal<Local, Bit>,
    zero: Constant<Word>,
    one: Constant<Word>,
    pitch: Constant<Word>,
    /// G, the values of a group.
    group: Constant<Word>,
    /// Packed rows (one entry, none without them): the map's row pitch.
    row_pitch: Vec<PackedPitch>,
    /// Banked activations (one entry each, else none): the current row's
    /// and column's digits, the channel's part.
    dig_y: Vec<DigitCounter>,
    dig_x: Vec<DigitCounter>,
    /// Cyclic activations (one entry each, else none): the row's and
    /// column's digits and entry parts, the entry, ROWS - 1 and
    /// log2(ROWS) (its bank and address), the address's mask.
    sum_y: Vec<DigitSum>,
    sum_x: Vec<DigitSum>,
    entry: Vec<Signal<Local, Word>>,
    bank_low: Vec<Constant<Word>>,
    bank_shift: Vec<Constant<Word>>,
    addr_mask: Vec<Constant<Word>>,
    /// Stored once: the channel's part, masked to its bits, and when the
    /// column, row and channel digits step or start again (both layouts'
    /// digit blocks take them).
    chan_part: Vec<WordReg>,
    col_step: Vec<Signal<Local, Bit>>,
    col_load: Vec<Signal<Local, Bit>>,
    row_step: Vec<Signal<Local, Bit>>,
    row_load: Vec<Signal<Local, Bit>>,
    chan_step: Vec<Signal<Local, Bit>>,
    bank_mask: Vec<Constant<Word>>,
    /// The digits the scan does not need (their parts and bank numbers are
    /// the address and the bank).
    unused_digits: Vec<Signal<Local, Word>>,
}

impl InputScan {
    pub fn new(cfg: &AccelConfig) -> InputScan {
        InputScan::with_banks(cfg, None)
    }
    /// The scan of a configuration whose activations are banked with
    /// `bank_addr_bits`-bit bank addresses (None: replicated).
    pub fn with_banks(cfg: &AccelConfig, bank_addr_bits: Option<u32>) -> InputScan {
        InputScan::with_layout(cfg, bank_addr_bits, false)
    }
    /// The scan of a configuration whose activations are stored once
    /// with `bank_addr_bits`-bit bank addresses (None: replicated), in
    /// the cyclic layout over ROWS banks if `cyclic`, else the banked one.
    pub fn with_layout(cfg: &AccelConfig, bank_addr_bits: Option<u32>, cyclic: bool) -> InputScan {
        let stored_once = bank_addr_bits.is_some();
        let cyclic = stored_once && cyclic;
        let banked = stored_once && !cyclic;
        assert!(!stored_once || (cfg.scan_group() == 1 && !cfg.packed_rows));
        assert!(!cyclic || cfg.rows.is_power_of_two());
        let bits = bank_addr_bits.unwrap_or(1);
        let entry_bits = bits + cfg.rows.trailing_zeros();
        let part_bits = if cyclic { entry_bits } else { bits };
        let sum = || DigitSum::new(7, entry_bits);
        let index_bits = crate::bank_steps::bank_index_bits(cfg.rows);
        let counter = || DigitCounter::new(7, bits, index_bits);
        let dim_bits = cfg.dim_bits();
        let act_addr_bits = crate::shell::clog2(cfg.act_words) + 1;
        InputScan {
            clock: Default::default(),
            reset: Default::default(),
            restart: Default::default(),
            advance: Default::default(),
            c_in: Default::default(),
            h: Default::default(),
            w: Default::default(),
            bank_stride: one_if(stored_once, Default::default()),
            bank_tile_h: one_if(banked, Default::default()),
            bank_tile_w: one_if(stored_once, Default::default()),
            bank_row_words: one_if(banked, Default::default()),
            bank_group_words: one_if(banked, Default::default()),
            bank_channel_words: one_if(stored_once, Default::default()),
            y_phase_step: one_if(cyclic, Default::default()),
            y_group_step: one_if(cyclic, Default::default()),
            x_phase_step: one_if(cyclic, Default::default()),
            x_bank_step: one_if(cyclic, Default::default()),
            x_group_step: one_if(cyclic, Default::default()),
            addr: Default::default(),
            bank: one_if(stored_once, Default::default()),
            last: Default::default(),
            read_valid: Default::default(),
            read_last: Default::default(),
            read_c: Default::default(),
            read_y: Default::default(),
            read_x: Default::default(),
            sc_c: WordReg::unsigned(dim_bits),
            sc_y: WordReg::unsigned(dim_bits),
            sc_x: WordReg::unsigned(dim_bits),
            sc_base: WordReg::unsigned(act_addr_bits),
            rd_valid: Default::default(),
            rd_last: Default::default(),
            rd_c: WordReg::unsigned(dim_bits),
            rd_y: WordReg::unsigned(dim_bits),
            rd_x: WordReg::unsigned(dim_bits),
            row_left: Default::default(),
            row_end: Default::default(),
            map_end: Default::default(),
            zero: Constant::new(0u64.to_bits()),
            one: Constant::new(1u64.to_bits()),
            pitch: Constant::new(u64::from(cfg.act_row_pitch()).to_bits()),
            group: Constant::new(u64::from(cfg.scan_group()).to_bits()),
            row_pitch: one_if(cfg.packed_rows, PackedPitch::new(cfg.out_lanes)),
            dig_y: one_if(banked, counter()),
            dig_x: one_if(banked, counter()),
            sum_y: one_if(cyclic, sum()),
            sum_x: one_if(cyclic, sum()),
            entry: one_if(cyclic, Default::default()),
            bank_low: one_if(cyclic, konst(u64::from(cfg.rows) - 1)),
            bank_shift: one_if(cyclic, konst(cfg.rows.trailing_zeros().into())),
            addr_mask: one_if(cyclic, konst(low_mask(bits))),
            chan_part: one_if(stored_once, WordReg::unsigned(part_bits)),
            col_step: one_if(stored_once, Default::default()),
            col_load: one_if(stored_once, Default::default()),
            row_step: one_if(stored_once, Default::default()),
            row_load: one_if(stored_once, Default::default()),
            chan_step: one_if(stored_once, Default::default()),
            bank_mask: one_if(stored_once, konst(low_mask(part_bits))),
            unused_digits: one_if(stored_once, Default::default()),
        }
    }
    fn packed_paths(&self) -> usize {
        self.row_pitch.len()
    }
    fn banked_paths(&self) -> usize {
        self.dig_y.len()
    }
    fn cyclic_paths(&self) -> usize {
        self.sum_y.len()
    }
    fn stored_once_paths(&self) -> usize {
        self.chan_part.len()
    }
}

impl Logic for InputScan {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sc_c, sc_y, sc_x, sc_base, rd_valid, rd_last, rd_c, rd_y, rd_x);
        self.sc_c.reset.next = self.reset.val();
        self.sc_y.reset.next = self.reset.val();
        self.sc_x.reset.next = self.reset.val();
        self.sc_base.reset.next = self.reset.val();
        self.rd_valid.reset.next = self.reset.val();
        self.rd_last.reset.next = self.reset.val();
        self.rd_c.reset.next = self.reset.val();
        self.rd_y.reset.next = self.reset.val();
        self.rd_x.reset.next = self.reset.val();
        self.read_valid.next = self.rd_valid.q.val();
        self.read_last.next = self.rd_last.q.val();
        self.read_c.next = self.rd_c.q.val();
        self.read_y.next = self.rd_y.q.val();
        self.read_x.next = self.rd_x.q.val();
        self.addr.next = self.sc_base.q.val() | self.sc_x.q.val();
        for k in 0..self.packed_paths() {
            self.row_pitch[k].w.next = self.w.val();
            self.addr.next = self.sc_base.q.val() + self.sc_x.q.val();
        }
        self.row_left.next = self.w.val() - self.sc_x.q.val();
        self.row_end.next = self.row_left.val() <= self.group.val();
        self.map_end.next = self.sc_y.q.val() + self.one.val() == self.h.val();
        self.last.next = self.row_end.val()
            & self.map_end.val()
            & (self.sc_c.q.val() + self.one.val() == self.c_in.val());
        self.rd_valid.d.next = self.advance.val();
        self.rd_last.d.next = self.advance.val() & self.last.val();
        if self.advance.val() {
            self.rd_c.d.next = self.sc_c.q.val();
            self.rd_y.d.next = self.sc_y.q.val();
            self.rd_x.d.next = self.sc_x.q.val();
            self.sc_x.d.next = self.sc_x.q.val() + self.group.val();
            if self.row_end.val() {
                self.sc_x.d.next = self.zero.val();
                self.sc_y.d.next = self.sc_y.q.val() + self.one.val();
                self.sc_base.d.next = self.sc_base.q.val() + self.pitch.val();
                for k in 0..self.packed_paths() {
                    self.sc_base.d.next = self.sc_base.q.val() + self.row_pitch[k].pitch.val();
                }
                if self.map_end.val() {
                    self.sc_y.d.next = self.zero.val();
                    self.sc_c.d.next = self.sc_c.q.val() + self.one.val();
                }
            }
        }
        if self.restart.val() {
            self.sc_c.d.next = self.zero.val();
            self.sc_y.d.next = self.zero.val();
            self.sc_x.d.next = self.zero.val();
            self.sc_base.d.next = self.zero.val();
        }
        // Stored once: the column steps with every value, the row at a
        // row's end (the column back to 0), the channel at the map's end
        // (the row back to 0); the channel's part here, the row's and
        // column's in the layout's digit blocks.
        for k in 0..self.stored_once_paths() {
            self.chan_step[k].next = self.advance.val() & self.row_end.val() & self.map_end.val();
            self.col_step[k].next = self.advance.val() & !self.row_end.val();
            self.col_load[k].next = (self.advance.val() & self.row_end.val()) | self.restart.val();
            self.row_step[k].next = self.advance.val() & self.row_end.val() & !self.map_end.val();
            self.row_load[k].next = self.chan_step[k].val() | self.restart.val();
            self.chan_part[k].clock.next = self.clock.val();
            self.chan_part[k].reset.next = self.reset.val();
            self.chan_part[k].d.next = self.chan_part[k].q.val();
            if self.chan_step[k].val() {
                self.chan_part[k].d.next = (self.chan_part[k].q.val()
                    + self.bank_channel_words[k].val())
                    & self.bank_mask[k].val();
            }
            if self.restart.val() {
                self.chan_part[k].d.next = self.zero.val();
            }
        }
        // Banked: the address is the three parts' sum, the bank the row's
        // and column's bank numbers'.
        for k in 0..self.banked_paths() {
            self.dig_y[k].clock.next = self.clock.val();
            self.dig_y[k].reset.next = self.reset.val();
            self.dig_y[k].stride.next = self.bank_stride[k].val();
            self.dig_y[k].tile.next = self.bank_tile_h[k].val();
            self.dig_y[k].unit.next = self.bank_row_words[k].val();
            self.dig_y[k].group_words.next = self.bank_group_words[k].val();
            self.dig_y[k].bank_unit.next = self.bank_tile_w[k].val();
            self.dig_x[k].clock.next = self.clock.val();
            self.dig_x[k].reset.next = self.reset.val();
            self.dig_x[k].stride.next = self.bank_stride[k].val();
            self.dig_x[k].tile.next = self.bank_tile_w[k].val();
            self.dig_x[k].unit.next = self.one.val();
            self.dig_x[k].group_words.next = self.bank_stride[k].val();
            self.dig_x[k].bank_unit.next = self.one.val();
            self.dig_y[k].load_phase.next = self.zero.val();
            self.dig_y[k].load_bank.next = self.zero.val();
            self.dig_y[k].load_part.next = self.zero.val();
            self.dig_y[k].load_index.next = self.zero.val();
            self.dig_x[k].load_phase.next = self.zero.val();
            self.dig_x[k].load_bank.next = self.zero.val();
            self.dig_x[k].load_part.next = self.zero.val();
            self.dig_x[k].load_index.next = self.zero.val();
            self.dig_x[k].step.next = self.col_step[k].val();
            self.dig_x[k].load.next = self.col_load[k].val();
            self.dig_y[k].step.next = self.row_step[k].val();
            self.dig_y[k].load.next = self.row_load[k].val();
            self.addr.next =
                (self.chan_part[k].q.val() + self.dig_y[k].part.val() + self.dig_x[k].part.val())
                    & self.bank_mask[k].val();
            self.bank[k].next = self.dig_y[k].bank_index.val() + self.dig_x[k].bank_index.val();
            self.unused_digits[k].next = self.dig_y[k].phase.val()
                | self.dig_y[k].bank.val()
                | self.dig_x[k].phase.val()
                | self.dig_x[k].bank.val()
                | self.sc_base.q.val();
        }
        // Cyclic: the entry is the three parts' sum, its low bits the
        // bank, the rest the address. Rows count under (S, 1).
        for k in 0..self.cyclic_paths() {
            self.sum_y[k].clock.next = self.clock.val();
            self.sum_y[k].reset.next = self.reset.val();
            self.sum_y[k].stride.next = self.bank_stride[k].val();
            self.sum_y[k].tile.next = self.one.val();
            self.sum_y[k].phase_step.next = self.y_phase_step[k].val();
            self.sum_y[k].bank_step.next = self.y_group_step[k].val();
            self.sum_y[k].group_step.next = self.y_group_step[k].val();
            self.sum_x[k].clock.next = self.clock.val();
            self.sum_x[k].reset.next = self.reset.val();
            self.sum_x[k].stride.next = self.bank_stride[k].val();
            self.sum_x[k].tile.next = self.bank_tile_w[k].val();
            self.sum_x[k].phase_step.next = self.x_phase_step[k].val();
            self.sum_x[k].bank_step.next = self.x_bank_step[k].val();
            self.sum_x[k].group_step.next = self.x_group_step[k].val();
            self.sum_y[k].load_phase.next = self.zero.val();
            self.sum_y[k].load_bank.next = self.zero.val();
            self.sum_y[k].load_part.next = self.zero.val();
            self.sum_x[k].load_phase.next = self.zero.val();
            self.sum_x[k].load_bank.next = self.zero.val();
            self.sum_x[k].load_part.next = self.zero.val();
            self.sum_x[k].step.next = self.col_step[k].val();
            self.sum_x[k].load.next = self.col_load[k].val();
            self.sum_y[k].step.next = self.row_step[k].val();
            self.sum_y[k].load.next = self.row_load[k].val();
            self.entry[k].next =
                (self.chan_part[k].q.val() + self.sum_y[k].part.val() + self.sum_x[k].part.val())
                    & self.bank_mask[k].val();
            self.addr.next =
                (self.entry[k].val() >> self.bank_shift[k].val()) & self.addr_mask[k].val();
            self.bank[k].next = self.entry[k].val() & self.bank_low[k].val();
            self.unused_digits[k].next = self.sum_y[k].phase.val()
                | self.sum_y[k].bank.val()
                | self.sum_x[k].phase.val()
                | self.sum_x[k].bank.val()
                | self.sc_base.q.val();
        }
    }
}

#[cfg(test)]
mod tests {
    //! The scan alone in rust-hdl's simulator: every group of a few maps,
    //! its address and position, against a walk written here.
    use super::*;
    use crate::leaf::settle;

    /// One clock cycle with `advance` (and `restart`) as given.
    fn cycle(s: &mut InputScan, restart: bool, advance: bool) {
        s.restart.next = restart;
        s.advance.next = advance;
        s.clock.next = Clock::from(false);
        settle(s);
        s.clock.next = Clock::from(true);
        settle(s);
    }

    /// (address, c, y, x) of every group, in order.
    fn walk(cfg: &AccelConfig, c: u64, h: u64, w: u64) -> Vec<(u64, u64, u64, u64)> {
        let g = u64::from(cfg.scan_group());
        let mut v = Vec::new();
        for ci in 0..c {
            for y in 0..h {
                for x in (0..w).step_by(g as usize) {
                    v.push((cfg.act_addr(ci, h, w, y, x), ci, y, x));
                }
            }
        }
        v
    }

    #[test]
    fn groups_of_a_row_with_their_addresses_positions_and_counts() {
        let small = AccelConfig::small();
        let streaming = AccelConfig {
            stream_predictor: true,
            ..AccelConfig::replicated()
        };
        let rows_3 = AccelConfig {
            rows: 3,
            ..streaming
        };
        assert_eq!(small.scan_group(), 1);
        assert_eq!(streaming.scan_group(), 4, "R = 4, 16 rows");
        assert_eq!(rows_3.scan_group(), 2, "at most the read copies");
        let packed = |cfg, lanes| AccelConfig {
            packed_rows: true,
            out_lanes: lanes,
            ..cfg
        };
        for cfg in [
            small,
            streaming,
            rows_3,
            packed(small, 1),
            packed(streaming, 4),
            packed(rows_3, 2),
        ] {
            for (c, h, w) in [(2u64, 3u64, 10u64), (1, 1, 1), (3, 2, 4), (1, 2, 7)] {
                let mut s = InputScan::new(&cfg);
                s.connect_all();
                s.c_in.next = c.to_bits();
                s.h.next = h.to_bits();
                s.w.next = w.to_bits();
                s.reset.next = true;
                cycle(&mut s, false, false);
                s.reset.next = false;
                cycle(&mut s, true, false);
                let want = walk(&cfg, c, h, w);
                for (i, &(addr, ci, y, x)) in want.iter().enumerate() {
                    settle(&mut s);
                    assert_eq!(s.addr.val().to_u64(), addr, "{cfg} {c}x{h}x{w} group {i}");
                    assert_eq!(s.last.val(), i + 1 == want.len(), "last at {i}");
                    cycle(&mut s, false, true);
                    assert!(s.read_valid.val());
                    let got = (
                        s.read_c.val().to_u64(),
                        s.read_y.val().to_u64(),
                        s.read_x.val().to_u64(),
                    );
                    assert_eq!(got, (ci, y, x), "{cfg} {c}x{h}x{w} group {i}");
                    assert_eq!(s.read_last.val(), i + 1 == want.len());
                }
                cycle(&mut s, false, false);
                assert!(!s.read_valid.val());
            }
        }
    }

    /// Step a stored-once scan (its layout's ports set, `c_in`, `h`, `w`
    /// too) through every value of a C x H x W map in raster order: each
    /// at the bank and address `place` gives, the last flagged, every
    /// third value held one cycle without `advance`.
    fn walk_stored_once(
        s: &mut InputScan,
        (c, h, w): (u64, u64, u64),
        place: impl Fn(u64, u64, u64) -> drq_arch::banked::Place,
        what: &str,
    ) {
        s.reset.next = true;
        cycle(s, false, false);
        s.reset.next = false;
        cycle(s, true, false);
        let mut n = 0;
        for ci in 0..c {
            for y in 0..h {
                for x in 0..w {
                    settle(s);
                    let want = place(ci, y, x);
                    assert_eq!(
                        (s.bank[0].val().to_u64(), s.addr.val().to_u64()),
                        (u64::from(want.bank), want.addr),
                        "{what} {c}x{h}x{w} ({ci}, {y}, {x})"
                    );
                    assert_eq!(s.last.val(), n + 1 == c * h * w);
                    if n % 3 == 1 {
                        // A cycle without `advance` holds the value.
                        cycle(s, false, false);
                        assert_eq!(s.addr.val().to_u64(), want.addr, "held");
                    }
                    cycle(s, false, true);
                    n += 1;
                }
            }
        }
    }

    /// Banked activations: every value of a few maps, in raster order, at
    /// the bank and address where `BankedMap::place` put it, for readers
    /// of strides 1-3 and tiles 4 x 4, 1 x 16, 3 x 5 and 1 x 1, with
    /// cycles without `advance` between, in rust-hdl.
    #[test]
    fn banked_values_are_where_the_layout_put_them() {
        use drq_arch::banked::{BankedMap, Reader};
        let cfg = AccelConfig {
            rows: 16,
            ..AccelConfig::small()
        };
        let bits = 12;
        for (stride, tile_h, tile_w) in [(1, 4, 4), (2, 1, 16), (3, 3, 5), (1, 1, 1), (2, 4, 4)] {
            for (c, h, w) in [(2u64, 9u64, 11u64), (1, 1, 1), (3, 5, 4)] {
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
                let map = BankedMap::new(c, h, w, reader);
                let mut s = InputScan::with_banks(&cfg, Some(bits));
                s.connect_all();
                s.c_in.next = c.to_bits();
                s.h.next = h.to_bits();
                s.w.next = w.to_bits();
                for (port, v) in [
                    (&mut s.bank_stride[0], u64::from(stride)),
                    (&mut s.bank_tile_h[0], u64::from(tile_h)),
                    (&mut s.bank_tile_w[0], u64::from(tile_w)),
                    (&mut s.bank_row_words[0], map.row_words()),
                    (&mut s.bank_group_words[0], map.group_words()),
                    (&mut s.bank_channel_words[0], map.channel_words()),
                ] {
                    port.next = v.to_bits();
                }
                let what = format!("{reader:?}");
                walk_stored_once(&mut s, (c, h, w), |ci, y, x| map.place(ci, y, x), &what);
            }
        }
    }

    /// Cyclic activations: every value of a few maps, in raster order, at
    /// the bank and address where `CyclicMap::place` put it, for readers
    /// of strides 1-3 and tiles 4 x 4, 1 x 16, 3 x 5, 1 x 1 and 2 x 8 on
    /// 16 banks, with cycles without `advance` between, in rust-hdl.
    #[test]
    fn cyclic_values_are_where_the_layout_put_them() {
        use drq_arch::banked::Reader;
        use drq_arch::cyclic::CyclicMap;
        let cfg = AccelConfig {
            rows: 16,
            ..AccelConfig::small()
        };
        let bits = 12;
        let cut = |v: i64| (v as u64) & low_mask(bits + 4);
        for (stride, tile_h, tile_w) in [(1, 4, 4), (2, 1, 16), (3, 3, 5), (1, 1, 1), (2, 2, 8)] {
            for (c, h, w) in [(2u64, 9u64, 11u64), (1, 1, 1), (3, 5, 4)] {
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
                let map = CyclicMap::new(c, h, w, reader, 16);
                let (ys, xs) = (map.row_steps(), map.column_steps());
                let mut s = InputScan::with_layout(&cfg, Some(bits), true);
                s.connect_all();
                s.c_in.next = c.to_bits();
                s.h.next = h.to_bits();
                s.w.next = w.to_bits();
                for (port, v) in [
                    (&mut s.bank_stride[0], u64::from(stride)),
                    (&mut s.bank_tile_w[0], u64::from(tile_w)),
                    (&mut s.bank_channel_words[0], map.parts(1, 0, 0)[0]),
                    (&mut s.y_phase_step[0], cut(ys.phase)),
                    (&mut s.y_group_step[0], cut(ys.group)),
                    (&mut s.x_phase_step[0], cut(xs.phase)),
                    (&mut s.x_bank_step[0], cut(xs.bank)),
                    (&mut s.x_group_step[0], cut(xs.group)),
                ] {
                    port.next = v.to_bits();
                }
                let what = format!("{reader:?}");
                walk_stored_once(&mut s, (c, h, w), |ci, y, x| map.place(ci, y, x), &what);
            }
        }
    }
}
