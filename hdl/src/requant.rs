//! One requantisation lane of the output stage (docs/spec.md §2.6,
//! docs/output-stage.md): y = clamp(floor((acc * M + r') / 2^SH), 0,
//! a_max), exact, in three pipeline stages. The output stage owns the
//! handshake (the stage enables), the element's position and the layer
//! constants derived from SH; it instantiates one lane per pixel it
//! requantises per cycle (`out_lanes`).
//!
//! * S1 registers acc_lo * M and acc_hi * M (acc = acc_hi * 2^32 + acc_lo)
//!   and whether acc is negative;
//! * S2 adds them and r' exactly as a two-word number;
//! * S3 shifts by SH and clamps. A negative acc always gives 0 (proof in
//!   the doc).
//!
//! Every word is cut to the bits ACC_BITS needs (P = ACC_BITS + 16 bits of
//! product): acc_hi * M exists only for ACC_BITS > 33 (acc_hi has bits),
//! the high word of N and its carries only for ACC_BITS > 48 (P > 64);
//! below that N fits one word.

use crate::leaf::{low_mask as mask, one_if, word, Reg, SignedMul, Word, WordReg};
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RequantLane {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Stage enables: S1, S2 and S3 load when high.
    pub en1: Signal<In, Bit>,
    pub en2: Signal<In, Bit>,
    pub en3: Signal<In, Bit>,
    /// The accumulator entering S1 (ACC_BITS, two's complement in a word).
    pub acc: Signal<In, Word>,
    pub requant_mult: Signal<In, Word>,
    /// Layer constants from SH: r', SH, and SH >= P.
    pub rnd: Signal<In, Word>,
    pub sh: Signal<In, Word>,
    pub sh_over: Signal<In, Bit>,
    /// S3: the result y and the accumulator it came from.
    pub value: Signal<Out, Word>,
    pub acc_out: Signal<Out, Word>,
    zero: Constant<Word>,
    /// 1, for N's carries (P > 64 only).
    one: Vec<Constant<Word>>,
    /// 32, for acc_hi (ACC_BITS > 33 only).
    c32: Vec<Constant<Word>>,
    max_pos: Constant<Word>,
    a_max: Constant<Word>,
    /// acc_lo and acc_hi of a non-negative acc.
    acc_lo_mask: Constant<Word>,
    /// The low word of N = acc * M + r' (P bits in all).
    n_lo_mask: Constant<Word>,
    s1_acc: WordReg,
    s1_neg: Reg<Bit>,
    s1_plo: Reg<Word>,
    /// acc_hi * M, for ACC_BITS > 33 (one register, or none).
    s1_phi: Vec<Reg<Word>>,
    s2_acc: WordReg,
    s2_zero: Reg<Bit>,
    s2_lo: Reg<Word>,
    /// N's high word and its arithmetic, for P > 64 (one, or none).
    s2_hi: Vec<Reg<Word>>,
    c48: Vec<Constant<Word>>,
    c64: Vec<Constant<Word>>,
    n_hi_mask: Vec<Constant<Word>>,
    ca: Vec<Signal<Local, Word>>,
    cb: Vec<Signal<Local, Word>>,
    hi_b: Vec<Signal<Local, Word>>,
    o_acc: WordReg,
    o_value: WordReg,
    /// acc_lo * M and acc_hi * M.
    mul_lo: SignedMul,
    mul_hi: Vec<SignedMul>,
    lo_a: Signal<Local, Word>,
    lo_b: Signal<Local, Word>,
    quot: Signal<Local, Word>,
    sat: Signal<Local, Bit>,
    y: Signal<Local, Word>,
}

impl RequantLane {
    pub fn new(cfg: &AccelConfig) -> RequantLane {
        let acc = cfg.acc_bits;
        // A non-negative acc has ACC_BITS - 1 magnitude bits: acc_lo the low
        // (at most 32) of them, acc_hi the rest.
        let lo_bits = (acc - 1).min(32);
        let hi_bits = (acc - 1).saturating_sub(32);
        // N = acc * M + r' < 2^P for every SH < P (proof in the doc).
        let p = Self::product_bits(cfg);
        let wide_n = p > 64;
        RequantLane {
            clock: Default::default(),
            reset: Default::default(),
            en1: Default::default(),
            en2: Default::default(),
            en3: Default::default(),
            acc: Default::default(),
            requant_mult: Default::default(),
            rnd: Default::default(),
            sh: Default::default(),
            sh_over: Default::default(),
            value: Default::default(),
            acc_out: Default::default(),
            zero: Constant::new(word(0)),
            one: one_if(wide_n, Constant::new(word(1))),
            c32: one_if(hi_bits > 0, Constant::new(word(32))),
            max_pos: Constant::new(word(i64::MAX)),
            a_max: Constant::new(word(i64::from(cfg.a_max()))),
            acc_lo_mask: Constant::new(word(mask(lo_bits) as i64)),
            n_lo_mask: Constant::new(word(mask(p.min(64)) as i64)),
            s1_acc: WordReg::signed(acc),
            s1_neg: Default::default(),
            s1_plo: Default::default(),
            s1_phi: one_if(hi_bits > 0, Default::default()),
            s2_acc: WordReg::signed(acc),
            s2_zero: Default::default(),
            s2_lo: Default::default(),
            s2_hi: one_if(wide_n, Default::default()),
            c48: one_if(wide_n, Constant::new(word(48))),
            c64: one_if(wide_n, Constant::new(word(64))),
            n_hi_mask: one_if(
                wide_n,
                Constant::new(word(mask(p.saturating_sub(64)) as i64)),
            ),
            ca: one_if(wide_n, Default::default()),
            cb: one_if(wide_n, Default::default()),
            hi_b: one_if(wide_n, Default::default()),
            o_acc: WordReg::signed(acc),
            o_value: WordReg::unsigned(cfg.a_hi),
            // acc_lo, acc_hi: non-negative (one more bit for the signed a).
            mul_lo: SignedMul::new(lo_bits + 1, 16),
            mul_hi: one_if(hi_bits > 0, SignedMul::new(hi_bits + 1, 16)),
            lo_a: Default::default(),
            lo_b: Default::default(),
            quot: Default::default(),
            sat: Default::default(),
            y: Default::default(),
        }
    }
    /// P = ACC_BITS + 16: the bits of N = acc * M + r'.
    pub fn product_bits(cfg: &AccelConfig) -> u32 {
        cfg.acc_bits + 16
    }
    /// 1 when acc_hi has bits (ACC_BITS > 33), else 0: a loop bound.
    fn wide_product(&self) -> usize {
        self.mul_hi.len()
    }
    /// 1 when N needs a second word (P > 64), else 0: a loop bound.
    fn wide_n(&self) -> usize {
        self.s2_hi.len()
    }
}

impl Logic for RequantLane {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s1_acc, s1_neg, s1_plo, s2_acc, s2_zero, s2_lo, o_acc, o_value);
        self.s1_acc.reset.next = self.reset.val();
        self.s1_neg.reset.next = self.reset.val();
        self.s1_plo.reset.next = self.reset.val();
        self.s2_acc.reset.next = self.reset.val();
        self.s2_zero.reset.next = self.reset.val();
        self.s2_lo.reset.next = self.reset.val();
        self.o_acc.reset.next = self.reset.val();
        self.o_value.reset.next = self.reset.val();
        for k in 0..self.wide_product() {
            self.s1_phi[k].clock.next = self.clock.val();
            self.s1_phi[k].reset.next = self.reset.val();
            self.s1_phi[k].d.next = self.s1_phi[k].q.val();
        }
        for k in 0..self.wide_n() {
            self.s2_hi[k].clock.next = self.clock.val();
            self.s2_hi[k].reset.next = self.reset.val();
            self.s2_hi[k].d.next = self.s2_hi[k].q.val();
        }

        // S1: the two partial products (acc_hi * M only when acc_hi has
        // bits; the multiplier reads its hi_bits + 1 low bits, and a
        // negative acc gives 0 whatever the product).
        self.mul_lo.a.next = self.acc.val() & self.acc_lo_mask.val();
        self.mul_lo.b.next = self.requant_mult.val();
        for k in 0..self.wide_product() {
            self.mul_hi[k].a.next = self.acc.val() >> self.c32[k].val();
            self.mul_hi[k].b.next = self.requant_mult.val();
        }
        if self.en1.val() {
            self.s1_acc.d.next = self.acc.val();
            self.s1_neg.d.next = self.acc.val() > self.max_pos.val();
            self.s1_plo.d.next = self.mul_lo.p.val();
            for k in 0..self.wide_product() {
                self.s1_phi[k].d.next = self.mul_hi[k].p.val();
            }
        }

        // S2: N = phi * 2^32 + plo + r', cut to the P bits it needs: one
        // word (lo_b) for P <= 64, else two (hi_b, lo_b) with the carries.
        self.lo_a.next = self.s1_plo.q.val();
        for k in 0..self.wide_product() {
            self.lo_a.next = (self.s1_phi[k].q.val() << self.c32[k].val()) + self.s1_plo.q.val();
        }
        self.lo_b.next = self.lo_a.val() + self.rnd.val();
        for k in 0..self.wide_n() {
            self.ca[k].next = self.zero.val();
            if self.lo_a.val() < self.s1_plo.q.val() {
                self.ca[k].next = self.one[k].val();
            }
            self.cb[k].next = self.zero.val();
            if self.lo_b.val() < self.lo_a.val() {
                self.cb[k].next = self.one[k].val();
            }
            self.hi_b[k].next =
                (self.s1_phi[k].q.val() >> self.c32[k].val()) + self.ca[k].val() + self.cb[k].val();
        }
        if self.en2.val() {
            self.s2_acc.d.next = self.s1_acc.q.val();
            self.s2_zero.d.next = self.s1_neg.q.val() | self.sh_over.val();
            self.s2_lo.d.next = self.lo_b.val() & self.n_lo_mask.val();
            for k in 0..self.wide_n() {
                self.s2_hi[k].d.next = self.hi_b[k].val() & self.n_hi_mask[k].val();
            }
        }

        // S3: y = min(N >> SH, 2^A_HI - 1), or 0 for a negative acc or
        // SH >= P.
        self.quot.next = self.s2_lo.q.val() >> self.sh.val();
        self.sat.next = self.quot.val() > self.a_max.val();
        for k in 0..self.wide_n() {
            self.quot.next = (self.s2_hi[k].q.val() << (self.c64[k].val() - self.sh.val()))
                + (self.s2_lo.q.val() >> self.sh.val());
            self.sat.next = (self.s2_hi[k].q.val().any() & (self.sh.val() < self.c48[k].val()))
                | (self.quot.val() > self.a_max.val());
        }
        self.y.next = self.quot.val();
        if self.sat.val() {
            self.y.next = self.a_max.val();
        }
        if self.s2_zero.q.val() {
            self.y.next = self.zero.val();
        }
        if self.en3.val() {
            self.o_acc.d.next = self.s2_acc.q.val();
            self.o_value.d.next = self.y.val();
        }
        self.value.next = self.o_value.q.val();
        self.acc_out.next = self.o_acc.q.val();
    }
}
