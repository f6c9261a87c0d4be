//! `InputScan`: the raster walk of `drq_top`'s input-mask phase (PIN,
//! `docs/top.md`). It steps through an input feature map of `c_in`
//! channels of `h` x `w` one value per cycle, channel by channel and row
//! by row, and gives the position and the activation buffer's word
//! address of each value (rows at the configuration's pitch). Only the
//! DRQ array predicts its input mask; the INT8 baseline's top has no
//! scan.

use crate::leaf::{Word, WordReg};
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
    /// The current value's channel, row and column.
    pub c: Signal<Out, Word>,
    pub y: Signal<Out, Word>,
    pub x: Signal<Out, Word>,
    /// Its word address in the activation buffer.
    pub addr: Signal<Out, Word>,
    /// It is the map's last value.
    pub last: Signal<Out, Bit>,
    sc_c: WordReg,
    sc_y: WordReg,
    sc_x: WordReg,
    /// The address of the current row's first value.
    sc_base: WordReg,
    row_end: Signal<Local, Bit>,
    map_end: Signal<Local, Bit>,
    zero: Constant<Word>,
    one: Constant<Word>,
    pitch: Constant<Word>,
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
            c: Default::default(),
            y: Default::default(),
            x: Default::default(),
            addr: Default::default(),
            last: Default::default(),
            sc_c: WordReg::unsigned(dim_bits),
            sc_y: WordReg::unsigned(dim_bits),
            sc_x: WordReg::unsigned(dim_bits),
            sc_base: WordReg::unsigned(act_addr_bits),
            row_end: Default::default(),
            map_end: Default::default(),
            zero: Constant::new(0u64.to_bits()),
            one: Constant::new(1u64.to_bits()),
            pitch: Constant::new(u64::from(cfg.act_row_pitch()).to_bits()),
        }
    }
}

impl Logic for InputScan {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sc_c, sc_y, sc_x, sc_base);
        self.sc_c.reset.next = self.reset.val();
        self.sc_y.reset.next = self.reset.val();
        self.sc_x.reset.next = self.reset.val();
        self.sc_base.reset.next = self.reset.val();
        self.c.next = self.sc_c.q.val();
        self.y.next = self.sc_y.q.val();
        self.x.next = self.sc_x.q.val();
        self.addr.next = self.sc_base.q.val() | self.sc_x.q.val();
        self.row_end.next = self.sc_x.q.val() + self.one.val() == self.w.val();
        self.map_end.next = self.sc_y.q.val() + self.one.val() == self.h.val();
        self.last.next = self.row_end.val()
            & self.map_end.val()
            & (self.sc_c.q.val() + self.one.val() == self.c_in.val());
        if self.advance.val() {
            self.sc_x.d.next = self.sc_x.q.val() + self.one.val();
            if self.row_end.val() {
                self.sc_x.d.next = self.zero.val();
                self.sc_y.d.next = self.sc_y.q.val() + self.one.val();
                self.sc_base.d.next = self.sc_base.q.val() + self.pitch.val();
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
