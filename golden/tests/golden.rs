//! The golden model against convolutions written independently here, with
//! direct nested loops and the spec's formulas in division form, and counters
//! against small layers worked out by hand.

use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::tensor::{FeatureMap, Mask, Weights};
use drq_golden::testdata::{layer, random_layer_data_with, random_mask, Odds};
use drq_golden::{run_layer, Counters, Layer, LayerData};

/// floor(n / 2^s) for any sign, by division (not by shifting).
fn floor_div_pow2(n: i64, s: u32) -> i64 {
    n.div_euclid(1i64 << s)
}

/// Reference convolution: bias + sum of a_eff * w_eff over the window, where
/// both come from `eff(c, y, x, a, w) -> (a_eff, w_eff)`; padding reads 0.
/// Accumulated exactly in i128, then reduced modulo 2^acc_bits.
fn reference_conv(
    layer: &Layer,
    acc_bits: u32,
    data: &LayerData,
    eff: impl Fn(usize, usize, usize, i64, i64) -> (i64, i64),
) -> Vec<i64> {
    let (x, wt, bias) = (&data.input, &data.weights, &data.bias);
    let (ho, wo) = (layer.ho() as i64, layer.wo() as i64);
    let (k, s, p) = (
        layer.kernel as i64,
        layer.stride as i64,
        layer.padding as i64,
    );
    let mut out = Vec::new();
    for oc in 0..layer.c_out as usize {
        for oh in 0..ho {
            for ow in 0..wo {
                let mut acc = i128::from(bias[oc]);
                for c in 0..layer.c_in as usize {
                    for ki in 0..k {
                        for kj in 0..k {
                            let (y, xx) = (oh * s + ki - p, ow * s + kj - p);
                            if y < 0 || xx < 0 || y >= layer.h as i64 || xx >= layer.w as i64 {
                                continue;
                            }
                            let (yu, xu) = (y as usize, xx as usize);
                            let a = i64::from(x.at(c, yu, xu));
                            let w = i64::from(wt.at(oc, c, ki as usize, kj as usize));
                            let (ae, we) = eff(c, yu, xu, a, w);
                            acc += i128::from(ae) * i128::from(we);
                        }
                    }
                }
                let m = 1i128 << acc_bits;
                let mut r = acc.rem_euclid(m);
                if r >= m / 2 {
                    r -= m;
                }
                out.push(r as i64);
            }
        }
    }
    out
}

/// Reference convolution at full precision: every activation sensitive.
fn reference_int8_conv(layer: &Layer, acc_bits: u32, data: &LayerData) -> Vec<i64> {
    reference_conv(layer, acc_bits, data, |_, _, _, a, w| (a, w))
}

/// The spec's insensitive activation in division form.
fn q_of(a: i64, s: u32, a_lo: u32) -> i64 {
    let r = if s > 0 { 1i64 << (s - 1) } else { 0 };
    floor_div_pow2(a + r, s).min((1 << a_lo) - 1)
}

/// The spec's low-precision weight in division form.
fn w_lo_of(w: i64, sw: u32, w_lo: u32) -> i64 {
    let r = if sw > 0 { 1i64 << (sw - 1) } else { 0 };
    floor_div_pow2(w + r, sw).clamp(-(1 << (w_lo - 1)), (1 << (w_lo - 1)) - 1)
}

/// Edge values one time in nine each, zeros often (post-ReLU), no mask.
fn random_data(rng: &mut Rng, cfg: &AccelConfig, l: &Layer) -> LayerData {
    let odds = Odds {
        one_in: 9,
        extra_zeros: 3,
    };
    random_layer_data_with(rng, cfg, l, odds, 5000, None)
}

/// [`random_data`] with a random mask, each region sensitive with
/// probability `p`.
fn masked_data(rng: &mut Rng, cfg: &AccelConfig, l: &Layer, p: f64) -> LayerData {
    let mut data = random_data(rng, cfg, l);
    data.mask = Some(random_mask(rng, cfg, l, p));
    data
}

fn random_layer(rng: &mut Rng, cfg: &AccelConfig) -> Layer {
    let k = rng.pick(&[1i64, 3, 5]);
    let p = rng.range(0, k - 1);
    let s = rng.pick(&[1i64, 2]);
    let h = rng.range((k - 2 * p).max(1), 13);
    let w = rng.range((k - 2 * p).max(1), 13);
    let th = rng.range(1, i64::from(cfg.rows).min(5));
    let tw = rng.range(1, i64::from(cfg.rows) / th);
    let mut raw = RawLayer::conv(
        rng.range(1, 7),
        rng.range(1, 2 * i64::from(cfg.cols) + 3),
        (h, w),
        k,
        s,
        p,
        (th, tw),
    );
    raw.low_shift = rng.range(0, cfg.max_low_shift().into());
    raw.w_low_shift = rng.range(0, cfg.max_w_low_shift().into());
    raw.requant_mult = rng.range(0, 65535);
    raw.requant_shift = rng.range(0, 30);
    layer(cfg, &raw)
}

/// `f(rng, case, cfg, layer)` for `cases` random configurations and layers
/// drawn from the test's seed.
fn for_random_layers(
    test: &str,
    cases: usize,
    mut f: impl FnMut(&mut Rng, usize, AccelConfig, Layer),
) {
    let mut rng = Rng::new(test_seed(test));
    for case in 0..cases {
        let cfg = random_config(&mut rng);
        let l = random_layer(&mut rng, &cfg);
        f(&mut rng, case, cfg, l);
    }
}

fn random_config(rng: &mut Rng) -> AccelConfig {
    let (a_hi, a_lo) = rng.pick(&[(8, 4), (8, 2), (6, 3), (4, 2), (8, 1)]);
    let (w_hi, w_lo) = rng.pick(&[(8, 4), (8, 8), (6, 2), (4, 4), (8, 2)]);
    AccelConfig {
        rows: rng.pick(&[1, 2, 4, 9, 16]),
        cols: rng.pick(&[1, 3, 4, 16]),
        a_hi,
        a_lo,
        w_hi,
        w_lo,
        acc_bits: rng.pick(&[16, 20, 32, 64]),
        region: rng.pick(&[1, 2, 4, 8, 16]),
        ..AccelConfig::replicated()
    }
}

/// Steps (over all tiles) in which every valid pixel of the tile reads padding.
fn all_padding_steps(cfg: &AccelConfig, l: &Layer) -> u64 {
    let (ho, wo, k) = (l.ho() as i64, l.wo() as i64, l.kernel as i64);
    let (s, p) = (l.stride as i64, l.padding as i64);
    let mut n = 0;
    for oh0 in (0..ho).step_by(l.tile_h as usize) {
        for ow0 in (0..wo).step_by(l.tile_w as usize) {
            for ki in 0..k {
                for kj in 0..k {
                    let mut any_inside = false;
                    for oh in oh0..(oh0 + l.tile_h as i64).min(ho) {
                        for ow in ow0..(ow0 + l.tile_w as i64).min(wo) {
                            let (y, x) = (oh * s + ki - p, ow * s + kj - p);
                            any_inside |= y >= 0 && x >= 0 && y < l.h as i64 && x < l.w as i64;
                        }
                    }
                    n += u64::from(!any_inside) * u64::from(l.c_in);
                }
            }
        }
    }
    n * u64::from(l.c_out.div_ceil(cfg.cols))
}

#[test]
fn threshold_zero_is_a_plain_high_precision_convolution() {
    for_random_layers(
        "threshold_zero_is_a_plain_high_precision_convolution",
        60,
        |rng, case, cfg, mut l| {
            l.threshold = 0;
            let data = random_data(rng, &cfg, &l);
            let run = run_layer(&cfg, &l, &data).unwrap();
            let want = reference_int8_conv(&l, cfg.acc_bits, &data);
            assert_eq!(run.acc, want, "case {case}: {cfg} {l:?}");
            assert!(run.mask_in.data.iter().all(|&b| b));
            // Every step is HIGH except those where each valid pixel of the tile reads padding.
            assert_eq!(
                run.counters.steps_low,
                all_padding_steps(&cfg, &l),
                "case {case}: {cfg} {l:?}"
            );
        },
    );
}

#[test]
fn threshold_above_max_is_a_low_precision_convolution() {
    for_random_layers(
        "threshold_above_max_is_a_low_precision_convolution",
        60,
        |rng, case, cfg, mut l| {
            l.threshold = cfg.a_max() + 1 + rng.range(0, 100) as u32;
            let data = random_data(rng, &cfg, &l);
            let run = run_layer(&cfg, &l, &data).unwrap();
            let (s, sw) = (l.low_shift, l.w_low_shift);
            let want = reference_conv(&l, cfg.acc_bits, &data, |_, _, _, a, w| {
                (q_of(a, s, cfg.a_lo) << s, w_lo_of(w, sw, cfg.w_lo) << sw)
            });
            assert_eq!(run.acc, want, "case {case}: {cfg} {l:?}");
            assert_eq!(run.counters.steps_high, 0, "case {case}");
            assert_eq!(run.counters.token_cycles, run.counters.steps_low);
        },
    );
}

#[test]
fn mixed_mask_is_conv_of_masked_high_plus_conv_of_rest_low() {
    for_random_layers(
        "mixed_mask_is_conv_of_masked_high_plus_conv_of_rest_low",
        60,
        |rng, case, cfg, l| {
            let data = masked_data(rng, &cfg, &l, 0.4);
            let mask = data.mask.clone().unwrap();
            let run = run_layer(&cfg, &l, &data).unwrap();
            let (s, sw, r) = (l.low_shift, l.w_low_shift, cfg.region as usize);
            // conv(x * mask, W) + conv(x * (1 - mask), W_lo): one of the two terms per input
            let want = reference_conv(&l, cfg.acc_bits, &data, |c, y, x, a, w| {
                if mask.at(c, y / r, x / r) {
                    (a, w)
                } else {
                    (q_of(a, s, cfg.a_lo) << s, w_lo_of(w, sw, cfg.w_lo) << sw)
                }
            });
            assert_eq!(run.acc, want, "case {case}: {cfg} {l:?}");
            assert_eq!(run.mask_in, mask);
            // and the outputs are the requantised accumulators, clamped
            for (i, (&y, &a)) in run.y.data.iter().zip(&run.acc).enumerate() {
                let m = i128::from(l.requant_mult);
                let sh = l.requant_shift;
                let r = if sh > 0 { 1i128 << (sh - 1) } else { 0 };
                let v = (i128::from(a) * m + r)
                    .div_euclid(1i128 << sh)
                    .clamp(0, i128::from(cfg.a_max()));
                assert_eq!(i128::from(y), v, "case {case}: y[{i}]");
            }
        },
    );
}

#[test]
fn accumulator_wraps_at_small_acc_bits() {
    let cfg = AccelConfig {
        acc_bits: 16,
        ..AccelConfig::replicated()
    };
    // 16 channels of 255 * 127 = 518,160 (+bias) overflows 16 bits many times over.
    let l = layer(&cfg, &RawLayer::conv(16, 2, (3, 3), 3, 1, 1, (3, 3)));
    let data = LayerData {
        input: FeatureMap::from_fn(16, 3, 3, |_, _, _| 255),
        weights: Weights::from_fn(2, 16, 3, |oc, _, _, _| if oc == 0 { 127 } else { -128 }),
        bias: vec![1000, -1000],
        mask: None,
    };
    let run = run_layer(&cfg, &l, &data).unwrap();
    // centre pixel: 16 * 9 taps of 255 * w + bias, exact, then mod 2^16
    let centre = |w: i64, b: i64| {
        let exact = 16 * 9 * 255 * w + b;
        let r = exact.rem_euclid(65536);
        if r >= 32768 {
            r - 65536
        } else {
            r
        }
    };
    assert_eq!(run.acc[4], centre(127, 1000));
    assert_eq!(run.acc[9 + 4], centre(-128, -1000));
    assert_eq!(run.acc[4], (16 * 9 * 255 * 127 + 1000) as i16 as i64);
}

/// The schedule counters (cycles_total and stall_cycles are checked in
/// `drq_golden::cycles` and against the RTL).
fn counters(h: u64, l: u64, t: u64, tiles: u64) -> Counters {
    Counters {
        steps_high: h,
        steps_low: l,
        token_cycles: t,
        tiles,
        cycles_total: 0,
        stall_cycles: 0,
    }
}

fn sched(c: Counters) -> Counters {
    Counters {
        cycles_total: 0,
        stall_cycles: 0,
        ..c
    }
}

#[test]
fn counters_of_a_one_by_one_layer_by_hand() {
    // 1 input channel 4x4, 3 output channels, kernel 1; R = 2; only region
    // (0,0) sensitive. Array 4 rows x 2 columns: 2 channel tiles.
    let cfg = AccelConfig {
        rows: 4,
        cols: 2,
        region: 2,
        ..AccelConfig::replicated()
    };
    let mut mask = Mask::filled(1, 2, 2, false);
    mask.set(0, 0, 0, true);
    let mut rng = Rng::new(7);
    let mut run_with = |th: i64, tw: i64| {
        let l = layer(&cfg, &RawLayer::conv(1, 3, (4, 4), 1, 1, 0, (th, tw)));
        let mut data = random_data(&mut rng, &cfg, &l);
        data.input = FeatureMap::from_fn(1, 4, 4, |_, y, x| (y * 4 + x) as u32 * 9);
        data.weights = Weights::from_fn(3, 1, 1, |oc, _, _, _| 50 - 40 * oc as i32);
        data.bias = vec![1, 2, 3];
        data.mask = Some(mask.clone());
        run_layer(&cfg, &l, &data).unwrap()
    };
    // 2x2 tiles: 4 pixel tiles, only tile (0,0) reads region (0,0): per
    // channel tile 1 HIGH + 3 LOW; two channel tiles; HIGH = 4 tokens.
    let a = run_with(2, 2);
    assert_eq!(sched(a.counters), counters(2, 6, 2 * 4 + 6, 8));
    // 1x4 tiles (whole rows): rows 0 and 1 both touch region (0,0).
    let b = run_with(1, 4);
    assert_eq!(sched(b.counters), counters(4, 4, 4 * 4 + 4, 8));
    // the output does not depend on the tile shape
    assert_eq!(a.acc, b.acc);
    assert_eq!(a.y, b.y);
}

#[test]
fn counters_of_a_padded_three_by_three_layer_by_hand() {
    // 2 input channels 3x3, kernel 3, padding 1, one output channel; R = 1 and
    // only input pixel (0,0) of channel 0 sensitive. Output pixel (oh, ow)
    // reads it at tap (ki, kj) = (1 - oh, 1 - ow), so only taps with ki, kj
    // in {0, 1} can be HIGH.
    let base = AccelConfig {
        cols: 1,
        region: 1,
        ..AccelConfig::replicated()
    };
    let mut mask = Mask::filled(2, 3, 3, false);
    mask.set(0, 0, 0, true);
    let run_with = |rows: u32, th: i64, tw: i64| {
        let cfg = AccelConfig { rows, ..base };
        let l = layer(&cfg, &RawLayer::conv(2, 1, (3, 3), 3, 1, 1, (th, tw)));
        let data = LayerData {
            input: FeatureMap::from_fn(2, 3, 3, |c, y, x| (c * 100 + y * 10 + x) as u32),
            weights: Weights::from_fn(1, 2, 3, |_, c, ki, kj| {
                (c as i32 * 9 + ki as i32 * 3 + kj as i32) * 7 - 60
            }),
            bias: vec![-7],
            mask: Some(mask.clone()),
        };
        run_layer(&cfg, &l, &data).unwrap()
    };
    // One 3x3 tile on a 9-row array: 18 steps, taps (0,0),(0,1),(1,0),(1,1)
    // of channel 0 are HIGH.
    let one_tile = run_with(9, 3, 3);
    assert_eq!(sched(one_tile.counters), counters(4, 14, 4 * 4 + 14, 1));
    // 1x1 tiles on a 1-row array: 9 tiles of 18 steps; the four pixels
    // (0,0),(0,1),(1,0),(1,1) each have exactly one HIGH step.
    let per_pixel = run_with(1, 1, 1);
    assert_eq!(sched(per_pixel.counters), counters(4, 158, 4 * 4 + 158, 9));
    // 3x1 tiles on a 4-row array: columns 0 and 1 each have two HIGH steps
    // (taps (0,·) and (1,·) from two different pixels).
    let columns = run_with(4, 3, 1);
    assert_eq!(sched(columns.counters), counters(4, 50, 4 * 4 + 50, 3));
    assert_eq!(one_tile.acc, per_pixel.acc);
    assert_eq!(one_tile.acc, columns.acc);
}

#[test]
fn output_is_independent_of_tiles_and_array_size() {
    for_random_layers(
        "output_is_independent_of_tiles_and_array_size",
        30,
        |rng, case, cfg, l| {
            let data = masked_data(rng, &cfg, &l, 0.5);
            let first = run_layer(&cfg, &l, &data).unwrap();
            let other_cfg = AccelConfig {
                rows: rng.range(1, 64) as u32,
                cols: rng.range(1, 64) as u32,
                ..cfg
            };
            let mut other = l;
            other.tile_h = rng.range(1, other_cfg.rows.into()) as u32;
            other.tile_w = rng.range(1, (other_cfg.rows / other.tile_h).into()) as u32;
            let second = run_layer(&other_cfg, &other, &data).unwrap();
            assert_eq!(first.acc, second.acc, "case {case}");
            assert_eq!(first.y, second.y, "case {case}");
            // steps always add up to tiles * reduction length
            for (c, run, lay) in [(&cfg, &first, &l), (&other_cfg, &second, &other)] {
                let k = u64::from(lay.reduction_len());
                assert_eq!(
                    run.counters.steps_high + run.counters.steps_low,
                    run.counters.tiles * k
                );
                let tiles = u64::from(lay.c_out.div_ceil(c.cols))
                    * u64::from(lay.ho().div_ceil(lay.tile_h))
                    * u64::from(lay.wo().div_ceil(lay.tile_w));
                assert_eq!(run.counters.tiles, tiles);
            }
        },
    );
}

#[test]
fn next_mask_is_predicted_from_the_output() {
    let cfg = AccelConfig {
        region: 2,
        ..AccelConfig::replicated()
    };
    let mut raw = RawLayer::conv(1, 2, (5, 5), 1, 1, 0, (4, 4));
    raw.next_threshold = Some(100);
    let l = layer(&cfg, &raw);
    let data = LayerData {
        input: FeatureMap::from_fn(1, 5, 5, |_, y, x| (y * 5 + x) as u32 * 10),
        weights: Weights::from_fn(2, 1, 1, |oc, _, _, _| [1, -1][oc]),
        bias: vec![0, 0],
        mask: None,
    };
    let run = run_layer(&cfg, &l, &data).unwrap();
    let m = run.mask_out.unwrap();
    assert_eq!(m.shape(), [2, 3, 3]);
    // channel 0: y = 10 * index; region (0,0) holds 0,10,50,60: mean 30 < 100;
    // region (2,2) is the single pixel 240 >= 100; region (1,0) holds 100,110,150,160.
    assert!(!m.at(0, 0, 0));
    assert!(m.at(0, 2, 2));
    assert!(m.at(0, 1, 0));
    // channel 1 is all zero after the clamp
    assert!((0..3).all(|ry| (0..3).all(|rx| !m.at(1, ry, rx))));
}

#[test]
fn int8_baseline_ignores_the_mask_and_runs_one_token_per_step() {
    let seed = test_seed("int8_baseline_ignores_the_mask_and_runs_one_token_per_step");
    let mut rng = Rng::new(seed);
    for case in 0..20 {
        let drq_cfg = random_config(&mut rng);
        let cfg = AccelConfig {
            pe: PeKind::Int8,
            ..drq_cfg
        };
        let mut l = random_layer(&mut rng, &cfg);
        l.threshold = 65535; // would make everything LOW on the DRQ PE
        let data = random_data(&mut rng, &cfg, &l);
        let run = run_layer(&cfg, &l, &data).unwrap();
        let want = reference_int8_conv(&l, cfg.acc_bits, &data);
        assert_eq!(run.acc, want, "case {case}: {cfg} {l:?}");
        assert_eq!(
            run.counters.token_cycles,
            run.counters.steps_high + run.counters.steps_low
        );
        assert_eq!(
            run.counters.steps_low,
            all_padding_steps(&cfg, &l),
            "case {case}"
        );
    }
}
