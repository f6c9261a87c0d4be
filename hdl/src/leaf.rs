//! Leaf blocks with hand-written simulation and hand-written Verilog, for
//! what rust-hdl 0.46 cannot express correctly (see `docs/rust-hdl.md`):
//! a register with a synchronous reset, and a signed multiplier.
//!
//! Every datapath signal of the array is a 64-bit [`Word`] holding a value
//! in two's complement; the configured widths are applied where values enter
//! the array (the emitted top zero- or sign-extends each port) and by masks
//! where they must wrap, so synthesis trims every unused bit.

use crate::shell::{scalar, Design, Dir, Widen};
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;
use rust_hdl::prelude::*;

/// The one datapath type of the array.
pub type Word = Bits<64>;

/// The low `bits` bits set (all 64 for `bits` >= 64).
pub fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// A word from a signed value (two's complement).
pub fn word(v: i64) -> Word {
    (v as u64).to_bits()
}

/// A register with a synchronous, active-high reset to zero.
#[derive(LogicBlock, Default)]
pub struct Reg<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub d: Signal<In, T>,
    pub q: Signal<Out, T>,
}

impl<T: Synth> Logic for Reg<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = if self.reset.val() {
                T::default()
            } else {
                self.d.val()
            };
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "always @(posedge clock) begin\n    if (reset) q <= {}'d0;\n    else q <= d;\nend",
            T::BITS
        ))
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "reset".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// A word register that keeps only its low `bits` bits: the value is
/// zero-extended (an unsigned field) or sign-extended (a two's-complement
/// field) back to 64 bits. Counters, addresses and layer fields use it so
/// that the emitted Verilog holds exactly the bits the configuration needs;
/// a plain [`Reg`] of a [`Word`] that counts or adds would keep all 64.
/// Reset is synchronous, to zero, like [`Reg`].
#[derive(LogicBlock)]
pub struct WordReg {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub d: Signal<In, Word>,
    pub q: Signal<Out, Word>,
    _bits: usize,
    _sign_extend: bool,
}

impl WordReg {
    /// An unsigned field of `bits` bits (1..=64).
    pub fn unsigned(bits: u32) -> WordReg {
        WordReg::new(bits, false)
    }
    /// A two's-complement field of `bits` bits (2..=64).
    pub fn signed(bits: u32) -> WordReg {
        WordReg::new(bits, true)
    }
    fn new(bits: u32, signed: bool) -> WordReg {
        assert!(
            (1 + u32::from(signed)..=64).contains(&bits),
            "register field of {bits} bits"
        );
        WordReg {
            clock: Default::default(),
            reset: Default::default(),
            d: Default::default(),
            q: Default::default(),
            _bits: bits as usize,
            _sign_extend: signed,
        }
    }
    fn width(&self) -> usize {
        self._bits
    }
}

/// `v` cut to its low `bits` bits, then zero- or sign-extended.
pub fn fit_word(v: u64, bits: usize, signed: bool) -> u64 {
    if bits >= 64 {
        v
    } else if signed {
        (((v << (64 - bits)) as i64) >> (64 - bits)) as u64
    } else {
        v & ((1u64 << bits) - 1)
    }
}

impl Logic for WordReg {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = if self.reset.val() {
                Word::default()
            } else {
                fit_word(self.d.val().to_u64(), self.width(), self._sign_extend).to_bits()
            };
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        let n = self.width();
        let mut v = String::new();
        if n < 64 {
            v += &format!("wire unused_d = &{{1'b0, d[63:{n}], 1'b0}};\n");
        }
        v += &format!(
            "reg [{m}:0] field;\n\
             always @(posedge clock) begin\n\
             \x20   if (reset) field <= {n}'d0;\n\
             \x20   else field <= d[{m}:0];\n\
             end\n",
            m = n - 1
        );
        v += &if n == 64 {
            "always @(*) q = field;".to_string()
        } else if self._sign_extend {
            format!(
                "always @(*) q = {{{{{e}{{field[{m}]}}}}, field}};",
                e = 64 - n,
                m = n - 1
            )
        } else {
            format!("always @(*) q = {{{e}'d0, field}};", e = 64 - n)
        };
        Verilog::Custom(v)
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "word_reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "reset".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// p = a * b: `a` a signed value of `a_bits` bits and `b` an unsigned value
/// of `b_bits` bits, each in the low bits of its word; `p` is the exact
/// product, sign-extended to 64 bits. The emitted Verilog multiplies only
/// the configured bits (5 x 4 for the default DRQ PE), so synthesis needs no
/// help to see a narrow multiplier; the upper operand bits are ignored (and
/// waived in the lint file as such).
#[derive(LogicBlock)]
pub struct SignedMul {
    pub a: Signal<In, Word>,
    pub b: Signal<In, Word>,
    pub p: Signal<Out, Word>,
    a_bits: Constant<Bits<8>>,
    b_bits: Constant<Bits<8>>,
}

impl SignedMul {
    pub fn new(a_bits: u32, b_bits: u32) -> SignedMul {
        assert!(
            a_bits >= 1 && b_bits >= 1 && a_bits + b_bits < 64,
            "multiplier operands {a_bits} x {b_bits} bits"
        );
        SignedMul {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            a_bits: Constant::new(u64::from(a_bits).to_bits()),
            b_bits: Constant::new(u64::from(b_bits).to_bits()),
        }
    }
}

impl Default for SignedMul {
    /// A 32-bit signed by 31-bit unsigned multiplier.
    fn default() -> SignedMul {
        SignedMul::new(32, 31)
    }
}

impl Logic for SignedMul {
    fn update(&mut self) {
        let sa = 64 - self.a_bits.val().index();
        let a = ((self.a.val().to_u64() << sa) as i64) >> sa;
        let b = (self.b.val().to_u64() & ((1u64 << self.b_bits.val().index()) - 1)) as i64;
        self.p.next = word(a * b);
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(multiplier_verilog(
            self.a_bits.val().index(),
            self.b_bits.val().index(),
        ))
    }
}

/// The multiplier's body. Narrow activation digits (up to 4 bits, the DRQ
/// PE) use radix-4 partial products {0, a, 2a, 3a}: Yosys 0.23 maps the
/// 5 x 4 multiplier to 44 ECP5 LUT-equivalents this way against 95 for `*`.
/// Wider ones (the INT8 baseline) keep `*`, which it maps better there.
fn multiplier_verilog(a: usize, b: usize) -> String {
    let pw = a + b + 1; // width of the exact signed product
    let mut v = String::from(
        "wire signed [a_bits-1:0] a_operand = a[a_bits-1:0];\n\
         wire [b_bits-1:0] b_operand = b[b_bits-1:0];\n",
    );
    if b <= 4 {
        v += &format!(
            "wire [{p1}:0] m1 = {{{{{ext}{{a_operand[{a1}]}}}}, a_operand}};\n",
            p1 = pw - 1,
            ext = pw - a,
            a1 = a - 1
        );
        if b >= 2 {
            // 2a and 3a are only needed when a digit pair exists.
            v += &format!(
                "wire [{p1}:0] m2 = {{m1[{p2}:0], 1'b0}};\n",
                p1 = pw - 1,
                p2 = pw - 2
            );
            v += &format!("wire [{p1}:0] m3 = m1 + m2;\n", p1 = pw - 1);
        }
        let mut terms = Vec::new();
        for i in 0..b.div_ceil(2) {
            let lo = 2 * i;
            // Partial product i is shifted left by 2i: only its low pw - 2i bits count.
            let w = pw - lo;
            let m = |k: u32| format!("m{k}[{}:0]", w - 1);
            if lo + 1 < b {
                let d = format!("b_operand[{}:{lo}]", lo + 1);
                v += &format!(
                    "wire [{w1}:0] pp{i} = {d} == 2'd0 ? {w}'d0 : {d} == 2'd1 ? {} : {d} == 2'd2 ? {} : {};\n",
                    m(1),
                    m(2),
                    m(3),
                    w1 = w - 1
                );
            } else {
                v += &format!(
                    "wire [{w1}:0] pp{i} = b_operand[{lo}] ? {} : {w}'d0;\n",
                    m(1),
                    w1 = w - 1
                );
            }
            terms.push(if lo == 0 {
                format!("pp{i}")
            } else {
                format!("{{pp{i}, {lo}'d0}}")
            });
        }
        v += &format!(
            "wire [{p1}:0] product = {};\n",
            terms.join(" + "),
            p1 = pw - 1
        );
    } else {
        v += &format!(
            "wire signed [{p1}:0] product = a_operand * $signed({{1'b0, b_operand}});\n",
            p1 = pw - 1
        );
    }
    v += &format!(
        "always @(*) p = {{{{{ext}{{product[{msb}]}}}}, product}};",
        ext = 64 - pw,
        msb = pw - 1
    );
    v
}

/// Settle a block's combinational logic in rust-hdl's simulator (unit tests
/// of leaf blocks).
#[cfg(test)]
pub(crate) fn settle<B: Block>(b: &mut B) {
    for _ in 0..8 {
        b.update_all();
        if !b.has_changed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_every_five_by_four_bit_pair_in_rust_hdl() {
        // The DRQ PE's operands: a (W_LO+1)-bit signed weight digit and an
        // A_LO-bit unsigned activation digit (default 5 and 4 bits), and the
        // INT8 baseline's 8 x 8; every pair.
        for (wbits, abits) in [(5u32, 4u32), (9, 8)] {
            let mut m = SignedMul::new(wbits, abits);
            m.connect_all();
            for w in -(1i64 << (wbits - 1))..(1i64 << (wbits - 1)) {
                for a in 0..(1i64 << abits) {
                    m.a.next = word(w);
                    m.b.next = word(a);
                    settle(&mut m);
                    assert_eq!(m.p.val().to_u64() as i64, w * a, "w={w} a={a}");
                }
            }
        }
    }

    #[test]
    fn word_register_keeps_its_field() {
        let tick = |r: &mut WordReg| {
            r.clock.next = Clock::from(false);
            settle(r);
            r.clock.next = Clock::from(true);
            settle(r);
        };
        for (bits, signed, d, want) in [
            (4, false, 0x1Fu64, 0xFu64),
            (4, true, 0x1F, u64::MAX),
            (4, true, 0x17, 7),
            (16, true, 0x8000, 0xFFFF_FFFF_FFFF_8000),
            (16, false, u64::MAX, 0xFFFF),
            (64, true, 0x8000_0000_0000_0001, 0x8000_0000_0000_0001),
        ] {
            let mut r = if signed {
                WordReg::signed(bits)
            } else {
                WordReg::unsigned(bits)
            };
            r.connect_all();
            r.d.next = d.to_bits();
            tick(&mut r);
            assert_eq!(
                r.q.val().to_u64(),
                want,
                "{bits} bits signed={signed} d={d:#x}"
            );
            r.reset.next = true;
            tick(&mut r);
            assert_eq!(r.q.val().to_u64(), 0);
        }
    }

    #[test]
    fn register_resets_synchronously() {
        let mut r = Reg::<Word>::default();
        r.connect_all();
        let tick = |r: &mut Reg<Word>| {
            r.clock.next = Clock::from(false);
            settle(r);
            r.clock.next = Clock::from(true);
            settle(r);
        };
        r.d.next = word(-5);
        tick(&mut r);
        assert_eq!(r.q.val(), word(-5));
        r.reset.next = true;
        assert_eq!(r.q.val(), word(-5), "reset waits for the clock edge");
        tick(&mut r);
        assert_eq!(r.q.val(), word(0));
    }
}

/// The PE's multiplier leaf alone (top `drq_mul`), for its exhaustive test:
/// `p = a * b` with `a` a signed weight digit and `b` an unsigned activation
/// digit of the configuration's widths.
pub fn multiplier_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    let (top, core) = ("drq_mul", "drq_mul_core");
    let ports = vec![
        scalar("a", Dir::Input, fmt.w_digit_bits, Widen::Sign),
        scalar("b", Dir::Input, fmt.digit_bits, Widen::Zero),
        scalar(
            "p",
            Dir::Output,
            fmt.w_digit_bits + fmt.digit_bits,
            Widen::Zero,
        ),
    ];
    crate::shell::design(
        top,
        core,
        cfg,
        ports,
        &mut SignedMul::new(fmt.w_digit_bits, fmt.digit_bits),
    )
}

/// The mask and sign bit of a two's-complement field of `bits` bits: `v &
/// mask` keeps it, `v | !mask` sign-extends it when `v & sign` is set.
pub struct Sext {
    pub mask: Constant<Word>,
    pub sign: Constant<Word>,
}

impl Sext {
    pub fn new(bits: u32) -> Sext {
        Sext {
            mask: konst(low_mask(bits)),
            sign: konst(1u64 << (bits - 1)),
        }
    }
}

/// The row pitch of a map `w` values wide with packed rows
/// (`AccelConfig::act_pitch`): w rounded up to a multiple of the
/// `lanes` (a power of two), so a row starts on a laned buffer's word.
#[derive(LogicBlock)]
pub struct PackedPitch {
    pub w: Signal<In, Word>,
    pub pitch: Signal<Out, Word>,
    /// L - 1 and its complement.
    lane_m1: Constant<Word>,
    lane_keep: Constant<Word>,
}

impl PackedPitch {
    pub fn new(lanes: u32) -> PackedPitch {
        assert!(lanes.is_power_of_two());
        PackedPitch {
            w: Default::default(),
            pitch: Default::default(),
            lane_m1: konst(u64::from(lanes) - 1),
            lane_keep: konst(!(u64::from(lanes) - 1)),
        }
    }
}

impl Logic for PackedPitch {
    #[hdl_gen]
    fn update(&mut self) {
        self.pitch.next = (self.w.val() + self.lane_m1.val()) & self.lane_keep.val();
    }
}

/// A 64-bit constant of value `v` (every block's literal).
pub fn konst(v: u64) -> Constant<Word> {
    Constant::new(v.to_bits())
}

/// `n` default signals, blocks or registers: a port or block per row,
/// column or lane.
pub fn vec_of<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

/// `[item]` when `present`, else no item: logic emitted only where it can
/// matter, its statements in `update` under a loop of 0 or 1 rounds.
pub fn one_if<T>(present: bool, item: T) -> Vec<T> {
    if present {
        vec![item]
    } else {
        Vec::new()
    }
}
