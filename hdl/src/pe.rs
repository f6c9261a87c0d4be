//! The processing element: one small signed multiplier, an output-stationary
//! pair of accumulators, and the token registers that pass activations right
//! and weights down.
//!
//! Per valid token (fields in `token.rs`):
//! * a sensitive activation builds its step's product in the narrow step
//!   register `P` by Horner's rule, most significant part first:
//!   `P = first ? prod : (P << hshift) + prod` with `prod = w_digit * digit`;
//!   on the step's last token (`commit`) `P` is complete and is added to
//!   `acc_hi` on the next cycle (sign-extended from A_HI + W_HI bits);
//! * an insensitive activation takes `q * w_lo` once per step (on its first
//!   token) into `acc_lo`, without any shift: the shift s + sw is applied
//!   once per output after the array drains (`acc_combine.rs`).
//!
//! The accumulators are `AccelConfig::acc_hi_bits` and `acc_lo_bits` wide
//! (their upper bits are masked to zero): ACC_BITS, or fewer where the
//! sums of a layer that fits the weight buffer never reach them. The array
//! sign-extends acc_hi at the drain and the output stage acc_lo, so
//! `acc_hi + (acc_lo << (s + sw))` is the spec's sum wrapped at ACC_BITS.
//! While `drain` is high the accumulators shift down the column instead
//! (the read-out chain); with row taps (`row_taps`, no shadows) the array
//! reads each row through a multiplexer and `drain` restarts the row's
//! accumulators from zero, the chain inputs unread (`PeParams::chain`).
//!
//! With shadow accumulators (`overlap`, `shadow.rs`) the read-out chain
//! belongs to the shadow cell beside the PE: `acc_hi_out` carries the
//! finished `acc_hi` (with the add of a completed step product this cycle),
//! and `drain` is the swap cycle, the cycle after the PE took the tile's
//! last token: the accumulators restart from the chain input (zero), and a
//! LOW first token of the next tile arriving in that very cycle goes into
//! the new `acc_lo`. A HIGH token only builds P, whose add comes one cycle
//! after its commit, so it never meets the swap.

use crate::leaf::{one_if, word, Reg, SignedMul, Word};
use crate::shell::{scalar, Design, Dir, Widen};
use drq_arch::config::{AccelConfig, PeKind};
use drq_arch::token::TokenFormat;
use rust_hdl::prelude::*;

/// Masks and shifts the PE is generated with (all derived from the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeParams {
    /// The accumulators' bits: acc_hi `AccelConfig::acc_hi_bits`, acc_lo
    /// `acc_lo_bits` (ACC_BITS or fewer: sums of a layer that fits never
    /// wrap in them; the array sign-extends them at the read-out).
    pub acc_hi_mask: u64,
    pub acc_lo_mask: u64,
    pub product_mask: u64,
    pub product_sign: u64,
    pub hshift_unit_log2: u64,
    /// The DRQ PE has Horner steps and the LOW path; the INT8 baseline neither.
    pub drq: bool,
    /// Shadow accumulators (`overlap`): the swap behaviour above.
    pub overlap: bool,
    /// The accumulators form the read-out chain (no `overlap`, no
    /// `row_taps`): `drain` loads the chain input. Without the chain
    /// `drain` restarts them from zero and the chain inputs are not read,
    /// so synthesis maps the restart onto the flip-flops' synchronous
    /// reset instead of a multiplexer per bit (the PE is kept as a module
    /// of its own, so the mesh's zero inputs would not reach it).
    pub chain: bool,
    /// Multiplier operands: signed weight digit and unsigned activation digit.
    pub w_digit_bits: u32,
    pub digit_bits: u32,
    /// The bits of each 64-bit input word the PE reads: the activation
    /// digit, a multiplier weight operand (HIGH digit or LOW weight, signed
    /// in w_digit_bits), the Horner shift. Masking the inputs at the PE
    /// makes the PE narrow by itself, without constants from its
    /// neighbours (docs/figures.md §6.4.C).
    pub digit_mask: u64,
    pub w_digit_mask: u64,
    pub hshift_mask: u64,
}

impl PeParams {
    pub fn new(cfg: &AccelConfig) -> PeParams {
        let fmt = TokenFormat::new(cfg);
        let mask = |bits: u32| {
            if bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            }
        };
        PeParams {
            acc_hi_mask: mask(cfg.acc_hi_bits()),
            acc_lo_mask: mask(cfg.acc_lo_bits()),
            product_mask: mask(fmt.product_bits),
            product_sign: 1u64 << (fmt.product_bits - 1),
            hshift_unit_log2: fmt.hshift_unit_log2.into(),
            drq: cfg.pe == PeKind::Drq,
            overlap: cfg.overlap,
            chain: !cfg.overlap && !cfg.row_taps,
            w_digit_bits: fmt.w_digit_bits,
            digit_bits: fmt.digit_bits,
            digit_mask: mask(fmt.digit_bits),
            w_digit_mask: mask(fmt.w_digit_bits),
            hshift_mask: mask(fmt.hshift_bits),
        }
    }
}

#[derive(LogicBlock)]
pub struct ProcessingElement {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Shift the accumulators down the column (read-out) this cycle; with
    /// shadow accumulators, the swap cycle (restart from the chain input).
    pub drain: Signal<In, Bit>,
    // Activation token from the left, and its registered copy to the right.
    pub valid_in: Signal<In, Bit>,
    pub first_in: Signal<In, Bit>,
    pub commit_in: Signal<In, Bit>,
    pub sens_in: Signal<In, Bit>,
    pub digit_in: Signal<In, Word>,
    pub hshift_in: Signal<In, Word>,
    pub valid_out: Signal<Out, Bit>,
    pub first_out: Signal<Out, Bit>,
    pub commit_out: Signal<Out, Bit>,
    pub sens_out: Signal<Out, Bit>,
    pub digit_out: Signal<Out, Word>,
    pub hshift_out: Signal<Out, Word>,
    // Weight token from above, and its registered copy below.
    pub w_digit_in: Signal<In, Word>,
    pub w_low_in: Signal<In, Word>,
    pub w_digit_out: Signal<Out, Word>,
    pub w_low_out: Signal<Out, Word>,
    // Read-out chain: accumulators of the PE above, and this PE's.
    pub acc_hi_in: Signal<In, Word>,
    pub acc_lo_in: Signal<In, Word>,
    pub acc_hi_out: Signal<Out, Word>,
    pub acc_lo_out: Signal<Out, Word>,
    acc_hi_mask: Constant<Word>,
    acc_lo_mask: Constant<Word>,
    /// The bits of the chain inputs the PE takes: the accumulator masks
    /// with the read-out chain, else 0.
    chain_hi_mask: Constant<Word>,
    chain_lo_mask: Constant<Word>,
    product_mask: Constant<Word>,
    product_sign: Constant<Word>,
    hshift_unit_log2: Constant<Word>,
    digit_mask: Constant<Word>,
    w_digit_mask: Constant<Word>,
    hshift_mask: Constant<Word>,
    drq: Constant<Bit>,
    /// With shadow accumulators (`overlap`) one entry, the accumulator
    /// mask of the swap's adds; none otherwise.
    swap_mask: Vec<Constant<Word>>,
    valid_q: Reg<Bit>,
    first_q: Reg<Bit>,
    commit_q: Reg<Bit>,
    sens_q: Reg<Bit>,
    digit_q: Reg<Word>,
    hshift_q: Reg<Word>,
    w_digit_q: Reg<Word>,
    w_low_q: Reg<Word>,
    /// Horner step register P (A_HI + W_HI bits used).
    step_product: Reg<Word>,
    /// P is complete: add it to acc_hi this cycle.
    pending: Reg<Bit>,
    acc_hi: Reg<Word>,
    acc_lo: Reg<Word>,
    mul: SignedMul,
    horner_base: Signal<Local, Word>,
    /// The input words cut to the bits the PE reads.
    digit: Signal<Local, Word>,
    w_digit: Signal<Local, Word>,
    w_low: Signal<Local, Word>,
    hshift: Signal<Local, Word>,
    zero: Constant<Word>,
    step_product_ext: Signal<Local, Word>,
}

impl ProcessingElement {
    pub fn new(p: &PeParams) -> ProcessingElement {
        ProcessingElement {
            clock: Default::default(),
            reset: Default::default(),
            drain: Default::default(),
            valid_in: Default::default(),
            first_in: Default::default(),
            commit_in: Default::default(),
            sens_in: Default::default(),
            digit_in: Default::default(),
            hshift_in: Default::default(),
            valid_out: Default::default(),
            first_out: Default::default(),
            commit_out: Default::default(),
            sens_out: Default::default(),
            digit_out: Default::default(),
            hshift_out: Default::default(),
            w_digit_in: Default::default(),
            w_low_in: Default::default(),
            w_digit_out: Default::default(),
            w_low_out: Default::default(),
            acc_hi_in: Default::default(),
            acc_lo_in: Default::default(),
            acc_hi_out: Default::default(),
            acc_lo_out: Default::default(),
            acc_hi_mask: Constant::new(word(p.acc_hi_mask as i64)),
            acc_lo_mask: Constant::new(word(p.acc_lo_mask as i64)),
            chain_hi_mask: Constant::new(word(if p.chain { p.acc_hi_mask as i64 } else { 0 })),
            chain_lo_mask: Constant::new(word(if p.chain { p.acc_lo_mask as i64 } else { 0 })),
            product_mask: Constant::new(word(p.product_mask as i64)),
            product_sign: Constant::new(word(p.product_sign as i64)),
            hshift_unit_log2: Constant::new(word(p.hshift_unit_log2 as i64)),
            digit_mask: Constant::new(word(p.digit_mask as i64)),
            w_digit_mask: Constant::new(word(p.w_digit_mask as i64)),
            hshift_mask: Constant::new(word(p.hshift_mask as i64)),
            drq: Constant::new(p.drq),
            swap_mask: one_if(p.overlap, Constant::new(word(p.acc_hi_mask as i64))),
            valid_q: Default::default(),
            first_q: Default::default(),
            commit_q: Default::default(),
            sens_q: Default::default(),
            digit_q: Default::default(),
            hshift_q: Default::default(),
            w_digit_q: Default::default(),
            w_low_q: Default::default(),
            step_product: Default::default(),
            pending: Default::default(),
            acc_hi: Default::default(),
            acc_lo: Default::default(),
            mul: SignedMul::new(p.w_digit_bits, p.digit_bits),
            horner_base: Default::default(),
            digit: Default::default(),
            w_digit: Default::default(),
            w_low: Default::default(),
            hshift: Default::default(),
            zero: Constant::new(word(0)),
            step_product_ext: Default::default(),
        }
    }
    /// 1 with shadow accumulators, else 0.
    fn overlap(&self) -> usize {
        self.swap_mask.len()
    }
}

impl Logic for ProcessingElement {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            valid_q,
            first_q,
            commit_q,
            sens_q,
            digit_q,
            hshift_q,
            w_digit_q,
            w_low_q,
            step_product,
            pending,
            acc_hi,
            acc_lo
        );
        self.valid_q.reset.next = self.reset.val();
        self.first_q.reset.next = self.reset.val();
        self.commit_q.reset.next = self.reset.val();
        self.sens_q.reset.next = self.reset.val();
        self.digit_q.reset.next = self.reset.val();
        self.hshift_q.reset.next = self.reset.val();
        self.w_digit_q.reset.next = self.reset.val();
        self.w_low_q.reset.next = self.reset.val();
        self.step_product.reset.next = self.reset.val();
        self.pending.reset.next = self.reset.val();
        self.acc_hi.reset.next = self.reset.val();
        self.acc_lo.reset.next = self.reset.val();
        // Tokens move on every cycle (bubbles travel as invalid tokens).
        self.valid_q.d.next = self.valid_in.val();
        self.first_q.d.next = self.first_in.val();
        self.commit_q.d.next = self.commit_in.val();
        // Each input word is cut to the bits the PE reads.
        self.digit.next = self.digit_in.val() & self.digit_mask.val();
        self.w_digit.next = self.w_digit_in.val() & self.w_digit_mask.val();
        self.w_low.next = self.w_low_in.val() & self.w_digit_mask.val();
        self.hshift.next = self.hshift_in.val() & self.hshift_mask.val();
        self.digit_q.d.next = self.digit.val();
        self.w_digit_q.d.next = self.w_digit.val();
        // Fields only the DRQ PE uses stay zero in the INT8 baseline.
        if self.drq.val() {
            self.sens_q.d.next = self.sens_in.val();
            self.hshift_q.d.next = self.hshift.val();
            self.w_low_q.d.next = self.w_low.val();
        }
        self.valid_out.next = self.valid_q.q.val();
        self.first_out.next = self.first_q.q.val();
        self.commit_out.next = self.commit_q.q.val();
        self.sens_out.next = self.sens_q.q.val();
        self.digit_out.next = self.digit_q.q.val();
        self.hshift_out.next = self.hshift_q.q.val();
        self.w_digit_out.next = self.w_digit_q.q.val();
        self.w_low_out.next = self.w_low_q.q.val();
        self.acc_hi_out.next = self.acc_hi.q.val();
        self.acc_lo_out.next = self.acc_lo.q.val();

        // One multiplier: weight digit x activation digit (sensitive), or
        // w_lo x q (insensitive). The INT8 baseline is always sensitive.
        self.mul.a.next = self.w_low.val();
        if self.sens_in.val() | !self.drq.val() {
            self.mul.a.next = self.w_digit.val();
        }
        self.mul.b.next = self.digit.val();

        // Horner step register: P = (first ? 0 : P << hshift) + prod. The
        // zero goes in before the adder, so it folds into the shift's LUTs.
        self.horner_base.next = self.zero.val();
        if !self.first_in.val() & self.drq.val() {
            self.horner_base.next =
                self.step_product.q.val() << (self.hshift.val() << self.hshift_unit_log2.val());
        }
        if self.valid_in.val() & (self.sens_in.val() | !self.drq.val()) {
            self.step_product.d.next =
                (self.horner_base.val() + self.mul.p.val()) & self.product_mask.val();
        }
        self.pending.d.next =
            self.valid_in.val() & (self.sens_in.val() | !self.drq.val()) & self.commit_in.val();

        // Sign-extend the completed step product into the accumulator.
        self.step_product_ext.next = self.step_product.q.val();
        if (self.step_product.q.val() & self.product_sign.val()).any() {
            self.step_product_ext.next = self.step_product.q.val() | !self.product_mask.val();
        }
        if self.pending.q.val() {
            self.acc_hi.d.next =
                (self.acc_hi.q.val() + self.step_product_ext.val()) & self.acc_hi_mask.val();
        }
        if self.valid_in.val() & !(self.sens_in.val() | !self.drq.val()) & self.first_in.val() {
            self.acc_lo.d.next = (self.acc_lo.q.val() + self.mul.p.val()) & self.acc_lo_mask.val();
        }
        if self.drain.val() {
            self.acc_hi.d.next = self.acc_hi_in.val() & self.chain_hi_mask.val();
            if self.drq.val() {
                self.acc_lo.d.next = self.acc_lo_in.val() & self.chain_lo_mask.val();
            }
        }
        // Shadow accumulators: the finished acc_hi includes this cycle's
        // add; in the swap cycle a LOW first token starts the new acc_lo.
        for k in 0..self.overlap() {
            if self.pending.q.val() {
                self.acc_hi_out.next =
                    (self.acc_hi.q.val() + self.step_product_ext.val()) & self.swap_mask[k].val();
            }
            if self.drain.val()
                & self.valid_in.val()
                & !(self.sens_in.val() | !self.drq.val())
                & self.first_in.val()
            {
                self.acc_lo.d.next = ((self.acc_lo_in.val() & self.chain_lo_mask.val())
                    + self.mul.p.val())
                    & self.acc_lo_mask.val();
            }
        }
    }
}

/// One processing element alone (top `drq_pe`), for area figures.
pub fn pe_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    use Dir::{Input, Output};
    use Widen::{Flag, Sign, Zero};
    let mut ports = vec![
        scalar("clock", Input, 1, Flag),
        scalar("reset", Input, 1, Flag),
        scalar("drain", Input, 1, Flag),
    ];
    for (dir, suffix) in [(Input, "in"), (Output, "out")] {
        let p = |base: &str, dir, lane_width, extend| {
            scalar(&format!("{base}_{suffix}"), dir, lane_width, extend)
        };
        ports.extend([
            p("valid", dir, 1, Flag),
            p("first", dir, 1, Flag),
            p("commit", dir, 1, Flag),
            p("sens", dir, 1, Flag),
            p("digit", dir, fmt.digit_bits, Zero),
            p("hshift", dir, fmt.hshift_bits, Zero),
            p("w_digit", dir, fmt.w_digit_bits, Sign),
            p("w_low", dir, fmt.w_low_bits, Sign),
            p("acc_hi", dir, cfg.acc_hi_bits(), Zero),
            p("acc_lo", dir, cfg.acc_lo_bits(), Zero),
        ]);
    }
    let mut pe = ProcessingElement::new(&PeParams::new(cfg));
    crate::shell::design("drq_pe", "drq_pe_core", cfg, ports, &mut pe)
}
