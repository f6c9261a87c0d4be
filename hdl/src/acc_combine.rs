//! The read-out's combiner (docs/spec.md §6.2, §6.4): a column's result
//! `acc = acc_hi + bias + (acc_lo << low_shift)`, wrapped at ACC_BITS.
//!
//! The array hands out `acc_hi + bias` and the raw `acc_lo` per column;
//! the output stage combines them for the element it is about to
//! requantise (one combiner per lane and source), so the layer's
//! `low_shift` reaches a few adders beside the output stage instead of
//! every column of the array.

use crate::leaf::{low_mask, Sext, Word};
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct AccCombine {
    /// acc_hi + bias (ACC_BITS, two's complement in a word).
    pub hi_bias: Signal<In, Word>,
    /// acc_lo (its `AccelConfig::acc_lo_bits`, two's complement; bits above
    /// are ignored).
    pub lo: Signal<In, Word>,
    pub low_shift: Signal<In, Word>,
    /// The combined accumulator, ACC_BITS bits.
    pub acc: Signal<Out, Word>,
    acc_mask: Constant<Word>,
    lo_mask: Constant<Word>,
    lo_sign: Constant<Word>,
    lo_x: Signal<Local, Word>,
}

impl AccCombine {
    pub fn new(cfg: &AccelConfig) -> AccCombine {
        let lo = Sext::new(cfg.acc_lo_bits());
        AccCombine {
            hi_bias: Default::default(),
            lo: Default::default(),
            low_shift: Default::default(),
            acc: Default::default(),
            acc_mask: crate::leaf::konst(low_mask(cfg.acc_bits)),
            lo_mask: lo.mask,
            lo_sign: lo.sign,
            lo_x: Default::default(),
        }
    }
}

impl Logic for AccCombine {
    #[hdl_gen]
    fn update(&mut self) {
        self.lo_x.next = self.lo.val() & self.lo_mask.val();
        if (self.lo.val() & self.lo_sign.val()).any() {
            self.lo_x.next = self.lo.val() | !self.lo_mask.val();
        }
        self.acc.next =
            (self.hi_bias.val() + (self.lo_x.val() << self.low_shift.val())) & self.acc_mask.val();
    }
}
