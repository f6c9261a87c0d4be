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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_golden::numerics::wrap_acc;
    use drq_golden::rng::Rng;

    /// acc_hi + bias + (acc_lo << s), wrapped at ACC_BITS, for random
    /// operands at the edges of their widths and every shift, in rust-hdl;
    /// bits of `lo` above its width are ignored.
    #[test]
    fn combines_the_two_accumulators_under_every_shift() {
        let seed = 17;
        for cfg in [
            AccelConfig::default(),
            AccelConfig {
                acc_bits: 16,
                ..AccelConfig::replicated()
            },
            AccelConfig {
                acc_bits: 64,
                ..AccelConfig::replicated()
            },
        ] {
            let mut rng = Rng::new(seed);
            let lo_bits = cfg.acc_lo_bits();
            let max_shift = cfg.max_readout_shift();
            let mut c = AccCombine::new(&cfg);
            c.connect_all();
            let lo_min = -(1i64 << (lo_bits - 1));
            for k in 0..2000 {
                let hb = wrap_acc(rng.next_u64() as i64, cfg.acc_bits);
                let lo = match k % 4 {
                    0 => lo_min,
                    1 => -lo_min - 1,
                    _ => rng.range(lo_min, -lo_min - 1),
                };
                let s = (k as u32) % (max_shift + 1);
                // Garbage above the field must not matter.
                let lo_in = (lo as u64 & crate::leaf::low_mask(lo_bits))
                    | (rng.next_u64() << lo_bits.min(63));
                c.hi_bias.next = word(hb);
                c.lo.next = word(lo_in as i64);
                c.low_shift.next = word(i64::from(s));
                settle(&mut c);
                let want = wrap_acc(hb.wrapping_add(lo.wrapping_shl(s)), cfg.acc_bits);
                let got = wrap_acc(c.acc.val().to_u64() as i64, cfg.acc_bits);
                assert_eq!(
                    got, want,
                    "seed {seed} ACC {} hb {hb} lo {lo} s {s}",
                    cfg.acc_bits
                );
            }
        }
    }
}
