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

use crate::leaf::{one_if, PackedPitch, Reg, Word, WordReg};
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
    /// The current value's word address in the activation buffer.
    pub addr: Signal<Out, Word>,
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
}

impl InputScan {
    pub fn new(cfg: &AccelConfig) -> InputScan {
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
            addr: Default::default(),
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
        }
    }
    fn packed_paths(&self) -> usize {
        self.row_pitch.len()
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
            ..AccelConfig::default()
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
}
