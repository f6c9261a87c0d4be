//! The number rules of docs/spec.md §2, each defined once.
//!
//! Every other part of the golden model (and every testbench that needs an
//! effective value) calls these; nothing re-derives them.

use drq_arch::AccelConfig;

/// Low-precision activation code q = min(2^A_LO - 1, (a + r) >> s), with
/// r = 2^(s-1) for s > 0 and 0 for s = 0 (round half up, then saturate).
pub fn act_low_code(a: u32, s: u32, a_lo: u32) -> u32 {
    let r = if s > 0 { 1u32 << (s - 1) } else { 0 };
    let q_max = (1u32 << a_lo) - 1;
    ((a + r) >> s).min(q_max)
}

/// Low-precision weight w_lo = clamp((w + rw) >> sw, -2^(W_LO-1), 2^(W_LO-1) - 1),
/// arithmetic shift, rw = 2^(sw-1) for sw > 0 and 0 for sw = 0.
pub fn weight_low_digit(w: i32, sw: u32, w_lo: u32) -> i32 {
    let rw = if sw > 0 { 1i32 << (sw - 1) } else { 0 };
    let lo = -(1i32 << (w_lo - 1));
    let hi = (1i32 << (w_lo - 1)) - 1;
    ((w + rw) >> sw).clamp(lo, hi)
}

/// Reduce to `bits`-bit two's complement (wrap-around), sign-extended to i64.
pub fn wrap_acc(v: i64, bits: u32) -> i64 {
    if bits >= 64 {
        v
    } else {
        let sh = 64 - bits;
        (v << sh) >> sh
    }
}

/// Output code y = clamp(floor((acc * M + r') / 2^SH), 0, 2^A_HI - 1) with
/// r' = 2^(SH-1) for SH > 0, else 0; acc * M computed exactly.
pub fn requantize(acc: i64, mult: u32, shift: u32, a_hi: u32) -> u32 {
    let r = if shift > 0 { 1i128 << (shift - 1) } else { 0 };
    let v = (i128::from(acc) * i128::from(mult) + r) >> shift; // >> on i128 is floor
    v.clamp(0, (1i128 << a_hi) - 1) as u32
}

/// The per-layer quantisation context: what a sensitive and an insensitive
/// activation and weight become (a_eff, w_eff) for one configuration and one
/// pair of low shifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantizer {
    pub a_lo: u32,
    pub w_lo: u32,
    /// Activation low shift s.
    pub s: u32,
    /// Weight low shift sw.
    pub sw: u32,
}

impl Quantizer {
    pub fn new(cfg: &AccelConfig, s: u32, sw: u32) -> Quantizer {
        debug_assert!(s <= cfg.max_low_shift() && sw <= cfg.max_w_low_shift());
        Quantizer {
            a_lo: cfg.a_lo,
            w_lo: cfg.w_lo,
            s,
            sw,
        }
    }

    /// q of an insensitive activation.
    pub fn q(&self, a: u32) -> u32 {
        act_low_code(a, self.s, self.a_lo)
    }
    /// w_lo of a weight met by an insensitive activation.
    pub fn w_lo(&self, w: i32) -> i32 {
        weight_low_digit(w, self.sw, self.w_lo)
    }
    /// a_eff: a if sensitive, else q << s.
    pub fn a_eff(&self, a: u32, sensitive: bool) -> u32 {
        if sensitive {
            a
        } else {
            self.q(a) << self.s
        }
    }
    /// w_eff: w if the activation it meets is sensitive, else w_lo << sw.
    pub fn w_eff(&self, w: i32, sensitive: bool) -> i32 {
        if sensitive {
            w
        } else {
            self.w_lo(w) << self.sw
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn act_low_code_edges_every_shift() {
        // a = 0 is 0 at every shift; a = 255 saturates to 15 except where the
        // shift leaves room: (255 + 8) >> 4 = 16 -> 15, s = 4 is the largest.
        for s in 0..=4 {
            assert_eq!(act_low_code(0, s, 4), 0, "s={s}");
            assert_eq!(act_low_code(255, s, 4), 15, "s={s}");
        }
        // s = 0: no rounding, saturation at 15.
        assert_eq!(act_low_code(15, 0, 4), 15);
        assert_eq!(act_low_code(16, 0, 4), 15);
        // rounding ties go up: 8 = 0.5 * 16 -> 1 at s = 4; 7 -> 0.
        assert_eq!(act_low_code(8, 4, 4), 1);
        assert_eq!(act_low_code(7, 4, 4), 0);
        assert_eq!(act_low_code(24, 4, 4), 2); // 1.5 -> 2
        assert_eq!(act_low_code(1, 1, 4), 1); // 0.5 -> 1
        assert_eq!(act_low_code(3, 2, 4), 1); // 0.75 -> 1
        assert_eq!(act_low_code(2, 2, 4), 1); // 0.5 -> 1
        assert_eq!(act_low_code(1, 2, 4), 0); // 0.25 -> 0
        assert_eq!(act_low_code(232, 4, 4), 15); // 14.5 -> 15
        assert_eq!(act_low_code(231, 4, 4), 14);
        // q << s always fits in A_HI = 8 bits.
        for s in 0..=4 {
            for a in 0..=255 {
                assert!(act_low_code(a, s, 4) << s <= 255);
            }
        }
    }

    #[test]
    fn weight_low_digit_edges_every_shift() {
        // w = -128 and 127 at every sw; clamp to [-8, 7].
        let expect_min = [-8, -8, -8, -8, -8];
        let expect_max = [7, 7, 7, 7, 7];
        for sw in 0..=4 {
            assert_eq!(
                weight_low_digit(-128, sw, 4),
                expect_min[sw as usize],
                "sw={sw}"
            );
            assert_eq!(
                weight_low_digit(127, sw, 4),
                expect_max[sw as usize],
                "sw={sw}"
            );
            assert_eq!(weight_low_digit(0, sw, 4), 0);
        }
        // arithmetic shift with round-half-up: -8/16 = -0.5 -> 0; -9/16 -> -1.
        assert_eq!(weight_low_digit(-8, 4, 4), 0);
        assert_eq!(weight_low_digit(-9, 4, 4), -1);
        assert_eq!(weight_low_digit(8, 4, 4), 1); // 0.5 -> 1
        assert_eq!(weight_low_digit(7, 4, 4), 0);
        assert_eq!(weight_low_digit(-24, 4, 4), -1); // -1.5 -> -1
        assert_eq!(weight_low_digit(-25, 4, 4), -2);
        assert_eq!(weight_low_digit(-1, 1, 4), 0); // -0.5 -> 0
        assert_eq!(weight_low_digit(-3, 1, 4), -1); // -1.5 -> -1
        assert_eq!(weight_low_digit(-120, 4, 4), -7); // -7.5 -> -7
        assert_eq!(weight_low_digit(-121, 4, 4), -8);
        assert_eq!(weight_low_digit(119, 4, 4), 7); // 7.4375 -> 7
        assert_eq!(weight_low_digit(120, 4, 4), 7); // 7.5 -> 8 -> clamp 7
                                                    // w_lo << sw always fits in W_HI = 8 signed bits.
        for sw in 0..=4 {
            for w in -128..=127 {
                let v = weight_low_digit(w, sw, 4) << sw;
                assert!((-128..=127).contains(&v), "w={w} sw={sw} -> {v}");
            }
        }
    }

    #[test]
    fn wrap_at_small_widths() {
        assert_eq!(wrap_acc(32767, 16), 32767);
        assert_eq!(wrap_acc(32768, 16), -32768);
        assert_eq!(wrap_acc(-32769, 16), 32767);
        assert_eq!(wrap_acc(65536 + 5, 16), 5);
        assert_eq!(wrap_acc(i64::MIN, 64), i64::MIN);
        assert_eq!(wrap_acc((1 << 31) + 7, 32), -(1 << 31) + 7);
        assert_eq!(wrap_acc(-1, 20), -1);
        assert_eq!(wrap_acc(1 << 19, 20), -(1 << 19));
    }

    #[test]
    fn requantize_rounding_and_clamp() {
        // ties round up (towards +inf) for positive and negative values
        assert_eq!(requantize(3, 1, 1, 8), 2); // 1.5 -> 2
        assert_eq!(requantize(5, 1, 1, 8), 3); // 2.5 -> 3
        assert_eq!(requantize(-1, 1, 1, 8), 0); // -0.5 -> 0 (clamp anyway)
        assert_eq!(requantize(1, 1, 2, 8), 0); // 0.25 -> 0
        assert_eq!(requantize(2, 1, 2, 8), 1); // 0.5 -> 1
        assert_eq!(requantize(-100, 7, 0, 8), 0);
        assert_eq!(requantize(255, 1, 0, 8), 255);
        assert_eq!(requantize(256, 1, 0, 8), 255);
        assert_eq!(requantize(1000, 0, 0, 8), 0);
        // acc * M exact: no overflow at the extremes
        assert_eq!(requantize(i64::MAX, 65535, 63, 16), 65535);
        assert_eq!(requantize(i64::MIN, 65535, 63, 16), 0);
        assert_eq!(
            requantize(1 << 40, 65535, 50, 16),
            ((65535u64 << 40) + (1 << 49) >> 50) as u32
        );
        assert_eq!(requantize(4095, 1, 4, 8), 255); // 255.9375 -> 256 -> 255
        assert_eq!(requantize(4087, 1, 4, 8), 255); // 255.4375 -> 255
    }

    #[test]
    fn quantizer_effective_values() {
        let cfg = AccelConfig::default();
        let q = Quantizer::new(&cfg, 4, 4);
        assert_eq!(q.a_eff(200, true), 200);
        assert_eq!(q.a_eff(200, false), 208); // (200+8)>>4 = 13 -> 208
        assert_eq!(q.w_eff(-128, true), -128);
        assert_eq!(q.w_eff(-128, false), -128);
        assert_eq!(q.w_eff(100, false), 96); // (100+8)>>4 = 6 -> 96
        let q0 = Quantizer::new(&cfg, 0, 0);
        assert_eq!(q0.a_eff(9, false), 9);
        assert_eq!(q0.a_eff(99, false), 15);
        assert_eq!(q0.w_eff(-100, false), -8);
    }
}
