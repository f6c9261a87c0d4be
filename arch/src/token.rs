//! The token format of the array: how a step is cut into tokens (docs/spec.md
//! §4) and the widths of every token field. The golden model replays tokens in
//! exactly this order and the RTL is generated with exactly these widths, so
//! both read them from here.
//!
//! A HIGH step of the DRQ PE is (A_HI/A_LO)*(W_HI/W_LO) tokens, one per pair
//! of an activation digit and a weight digit, in descending order of their
//! shift (ties: the more significant activation digit first). A sensitive PE
//! builds the step's product most significant part first (Horner's rule):
//! `P = first ? prod : (P << (prev_shift - shift)) + prod`, so every shift in
//! the PE is a small shift between consecutive tokens, never a full barrel
//! shift of the accumulator. The distance `prev_shift - shift` travels with
//! the token in units of `hshift_unit`.

use crate::config::{AccelConfig, PeKind};

/// One token of a HIGH step: the digits it multiplies and its shift.
/// Digit indices count from the least significant digit (0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HighToken {
    pub a_digit: u32,
    pub w_digit: u32,
    /// a_digit * A_LO + w_digit * W_LO (0 for the INT8 baseline's one token).
    pub shift: u32,
    /// (previous token's shift - shift) / hshift_unit; 0 for the first token.
    pub hshift_units: u32,
}

/// Token order and field widths for one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFormat {
    /// Tokens of a HIGH step, in the order they enter the array.
    pub high_tokens: Vec<HighToken>,
    /// log2 of the Horner shift unit (largest power of two dividing every
    /// distance between consecutive token shifts).
    pub hshift_unit_log2: u32,
    /// Width of the token's Horner shift field (at least 1).
    pub hshift_bits: u32,
    /// Width of an activation digit: A_LO (DRQ) or A_HI (INT8).
    pub digit_bits: u32,
    /// Width of a signed weight digit: W_LO + 1 (DRQ) or W_HI (INT8).
    pub w_digit_bits: u32,
    /// Width of the signed low-precision weight w_lo: W_LO.
    pub w_low_bits: u32,
    /// Width of the step product register: A_HI + W_HI (a_eff * w_eff fits).
    pub product_bits: u32,
    /// Width of the LOW-path shift s + sw.
    pub low_shift_bits: u32,
}

fn bits_for(max_value: u32) -> u32 {
    (32 - max_value.leading_zeros()).max(1)
}

impl TokenFormat {
    pub fn new(cfg: &AccelConfig) -> TokenFormat {
        let mut tokens: Vec<HighToken> = match cfg.pe {
            PeKind::Int8 => vec![HighToken {
                a_digit: 0,
                w_digit: 0,
                shift: 0,
                hshift_units: 0,
            }],
            PeKind::Drq => (0..cfg.a_digits())
                .flat_map(|a| {
                    (0..cfg.w_digits()).map(move |w| HighToken {
                        a_digit: a,
                        w_digit: w,
                        shift: a * cfg.a_lo + w * cfg.w_lo,
                        hshift_units: 0,
                    })
                })
                .collect(),
        };
        tokens.sort_by(|x, y| y.shift.cmp(&x.shift).then(y.a_digit.cmp(&x.a_digit)));
        let distances: Vec<u32> = tokens.windows(2).map(|p| p[0].shift - p[1].shift).collect();
        let nonzero_or = distances.iter().fold(0u32, |acc, &d| acc | d);
        let unit_log2 = if nonzero_or == 0 {
            0
        } else {
            nonzero_or.trailing_zeros()
        };
        for (t, d) in tokens.iter_mut().skip(1).zip(&distances) {
            t.hshift_units = d >> unit_log2;
        }
        let max_units = tokens.iter().map(|t| t.hshift_units).max().unwrap_or(0);
        let (digit_bits, w_digit_bits) = match cfg.pe {
            PeKind::Drq => (cfg.a_lo, cfg.w_lo + 1),
            PeKind::Int8 => (cfg.a_hi, cfg.w_hi),
        };
        TokenFormat {
            high_tokens: tokens,
            hshift_unit_log2: unit_log2,
            hshift_bits: bits_for(max_units),
            digit_bits,
            w_digit_bits,
            w_low_bits: cfg.w_lo,
            product_bits: cfg.a_hi + cfg.w_hi,
            low_shift_bits: bits_for(cfg.max_readout_shift()),
        }
    }
}

/// Activation digit `idx` (A_LO bits, unsigned) of an A_HI-bit a_eff.
pub fn act_digit(a_eff: u32, idx: u32, cfg: &AccelConfig) -> u32 {
    match cfg.pe {
        PeKind::Int8 => a_eff,
        PeKind::Drq => (a_eff >> (idx * cfg.a_lo)) & ((1 << cfg.a_lo) - 1),
    }
}

/// Weight digit `idx` (W_LO bits) of a W_HI-bit w_eff: the top digit is
/// signed, the others unsigned.
pub fn weight_digit(w_eff: i32, idx: u32, cfg: &AccelConfig) -> i32 {
    match cfg.pe {
        PeKind::Int8 => w_eff,
        PeKind::Drq => {
            let shifted = w_eff >> (idx * cfg.w_lo); // arithmetic
            if idx + 1 == cfg.w_digits() {
                shifted // the top digit keeps the sign
            } else {
                shifted & ((1 << cfg.w_lo) - 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(a_hi: u32, a_lo: u32, w_hi: u32, w_lo: u32) -> AccelConfig {
        AccelConfig {
            a_hi,
            a_lo,
            w_hi,
            w_lo,
            ..AccelConfig::replicated()
        }
    }

    #[test]
    fn default_format() {
        let f = TokenFormat::new(&AccelConfig::default());
        let shifts: Vec<u32> = f.high_tokens.iter().map(|t| t.shift).collect();
        assert_eq!(shifts, vec![8, 4, 4, 0]);
        let units: Vec<u32> = f.high_tokens.iter().map(|t| t.hshift_units).collect();
        assert_eq!(units, vec![0, 1, 0, 1], "distances 4, 0, 4 in units of 4");
        assert_eq!((f.hshift_unit_log2, f.hshift_bits), (2, 1));
        assert_eq!(
            (f.digit_bits, f.w_digit_bits, f.w_low_bits, f.product_bits),
            (4, 5, 4, 16)
        );
        assert_eq!(f.low_shift_bits, 4, "s + sw <= 8");
    }

    #[test]
    fn int8_baseline_is_one_full_token() {
        let f = TokenFormat::new(&AccelConfig {
            pe: PeKind::Int8,
            ..AccelConfig::replicated()
        });
        assert_eq!(f.high_tokens.len(), 1);
        assert_eq!((f.digit_bits, f.w_digit_bits), (8, 8));
    }

    /// Horner's rule over the canonical order, modulo 2^product_bits, then
    /// sign-extended: the model of what a sensitive PE computes.
    fn horner(c: &AccelConfig, f: &TokenFormat, a: u32, w: i32) -> i64 {
        let m = (1i64 << f.product_bits) - 1;
        let mut p = 0i64;
        for (i, t) in f.high_tokens.iter().enumerate() {
            let prod =
                i64::from(weight_digit(w, t.w_digit, c)) * i64::from(act_digit(a, t.a_digit, c));
            p = if i == 0 {
                prod
            } else {
                (p << (t.hshift_units << f.hshift_unit_log2)) + prod
            } & m;
        }
        let sh = 64 - f.product_bits;
        (p << sh) >> sh
    }

    #[test]
    fn horner_over_the_token_order_rebuilds_every_product() {
        for c in [
            cfg(8, 4, 8, 4),
            cfg(8, 4, 8, 8),
            cfg(8, 2, 8, 4),
            cfg(6, 3, 6, 2),
            cfg(4, 1, 4, 4),
            cfg(16, 4, 8, 2),
            cfg(15, 5, 16, 4),
            AccelConfig {
                pe: PeKind::Int8,
                ..AccelConfig::replicated()
            },
        ] {
            let f = TokenFormat::new(&c);
            assert_eq!(f.high_tokens.len() as u32, c.tokens_per_high_step());
            assert_eq!(f.high_tokens.last().unwrap().shift, 0);
            let (wmin, wmax) = c.w_range();
            let a_step = if c.a_hi > 8 { 251 } else { 1 };
            for w in wmin..=wmax {
                for a in (0..=c.a_max()).step_by(a_step) {
                    assert_eq!(
                        horner(&c, &f, a, w),
                        i64::from(w) * i64::from(a),
                        "{c} a={a} w={w}"
                    );
                }
            }
        }
    }

    #[test]
    fn digits_fit_their_fields() {
        let c = AccelConfig::default();
        for w in -128..=127 {
            assert!((-8..=7).contains(&weight_digit(w, 1, &c)));
            assert!((0..=15).contains(&weight_digit(w, 0, &c)));
        }
    }
}
