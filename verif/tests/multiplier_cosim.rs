//! The PE's multiplier leaf in Verilator, exhaustively against plain Rust
//! arithmetic (its rust-hdl simulation is checked in `hdl/src/leaf.rs`).

use drq_arch::config::PeKind;
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;
use drq_hdl::leaf::multiplier_design;
use drq_verif::sim::{Model, SimOptions};

fn exhaustive(cfg: &AccelConfig) -> u64 {
    let fmt = TokenFormat::new(cfg);
    let mut m = Model::new(&multiplier_design(cfg), &SimOptions::default()).unwrap();
    let (wb, ab) = (fmt.w_digit_bits, fmt.digit_bits);
    let mut pairs = 0;
    for w in -(1i64 << (wb - 1))..(1i64 << (wb - 1)) {
        for a in 0..(1i64 << ab) {
            m.set_lanes("a", wb, &[w]);
            m.set_lanes("b", ab, &[a]);
            m.eval();
            let p = m.get_lanes("p", wb + ab, 1, true)[0];
            assert_eq!(p, w * a, "{cfg}: {w} x {a}");
            pairs += 1;
        }
    }
    pairs
}

#[test]
fn drq_multiplier_every_pair() {
    // (W_LO + 1)-bit signed x A_LO-bit unsigned: 5 x 4 bits by default.
    assert_eq!(exhaustive(&AccelConfig::default()), 32 * 16);
    assert_eq!(
        exhaustive(&AccelConfig {
            a_lo: 2,
            w_lo: 2,
            ..AccelConfig::replicated()
        }),
        8 * 4
    );
    // 1-bit activation digits (a_lo = 1) with 3-bit weight digits.
    let narrow = AccelConfig {
        a_hi: 4,
        a_lo: 1,
        w_hi: 4,
        w_lo: 2,
        ..AccelConfig::replicated()
    };
    assert_eq!(exhaustive(&narrow), 8 * 2);
}

#[test]
fn int8_baseline_multiplier_every_pair() {
    assert_eq!(
        exhaustive(&AccelConfig {
            pe: PeKind::Int8,
            ..AccelConfig::replicated()
        }),
        256 * 256
    );
}
