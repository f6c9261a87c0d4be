//! Quantisation of the float model to the spec's numbers (a
//! [`Network`] the golden model and the hardware run).
//!
//! * Input codes: the raw pixel bytes, scale s_0 = 1/255.
//! * Layer l's weights: int8, s_w = max|w| / 127, w_q = round(w / s_w).
//! * Bias: int32, b_q = round(b / (s_in s_w)).
//! * Output scale s_out: the `percentile` (99.99 %) of the layer's float
//!   (post-ReLU) output over the calibration set, divided by 255; the next
//!   layer's s_in is this s_out.
//! * Requantisation: M / 2^SH ~= s_in s_w / s_out with M < 65536 as large
//!   as possible ([`requant_params`]); the spec's clamp at 0 is the ReLU.
//! * Thresholds (placeholders): layer 0's is 0 (the first layer at INT8, as
//!   in the paper); layer l > 0's is the mean input code of that layer over
//!   the calibration set (INT8 network), rounded.

use crate::data::Dataset;
use crate::float::FloatModel;
use drq_arch::AccelConfig;
use drq_golden::golden::requantize_map;
use drq_golden::layer::{Layer, RawLayer};
use drq_golden::network::{Network, NetworkLayer};
use drq_golden::numerics::wrap_acc;
use drq_golden::tensor::{FeatureMap, Weights};
use serde::{Deserialize, Serialize};

/// Choices of the quantisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantOptions {
    /// Percentile (0..100) of a layer's float output that maps to code 255.
    pub percentile: f64,
    pub tile: (i64, i64),
    pub low_shift: i64,
    pub w_low_shift: i64,
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            percentile: 99.99,
            tile: (4, 4),
            low_shift: 4,
            w_low_shift: 4,
        }
    }
}

/// The scales behind a quantised network (written as `quant.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantInfo {
    pub percentile: f64,
    /// Per layer: input scale s_in, weight scale s_w, output scale s_out,
    /// the exact ratio s_in s_w / s_out and M / 2^SH.
    pub layers: Vec<LayerScales>,
    /// Mean input code of each layer over the calibration set (INT8).
    pub mean_input_code: Vec<f64>,
    pub calibration_images: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerScales {
    pub s_in: f64,
    pub s_w: f64,
    pub s_out: f64,
    pub ratio: f64,
    pub requant_mult: u32,
    pub requant_shift: u32,
    /// M / 2^SH.
    pub requant: f64,
}

/// M (16-bit) and SH (0..=63) with M / 2^SH ~= ratio, M as large as
/// possible below 65536 (the largest SH with round(ratio 2^SH) <= 65535).
pub fn requant_params(ratio: f64) -> (u32, u32) {
    assert!(
        ratio > 0.0 && ratio.is_finite(),
        "requantisation ratio {ratio}"
    );
    let mut best = (65535u32.min(ratio.round().max(1.0) as u32), 0u32);
    for sh in 0..=63u32 {
        let m = (ratio * 2f64.powi(sh as i32)).round();
        if m > 65535.0 {
            break;
        }
        if m >= 1.0 {
            best = (m as u32, sh);
        }
    }
    best
}

/// acc = bias + sum a_eff * w_eff over the layer's reduction (spec §4's
/// indexing, padding 0), wrapped at `acc_bits`. `a_eff` is `[C_in, H, W]`,
/// `w_eff` `[C_out, C_in, K, K]`.
pub fn conv_acc(
    layer: &Layer,
    a_eff: &[i32],
    w_eff: &[i32],
    bias: &[i32],
    acc_bits: u32,
) -> Vec<i64> {
    let (c_in, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
    let (k, s, p) = (
        layer.kernel as usize,
        layer.stride as usize,
        layer.padding as isize,
    );
    let (ho, wo, c_out) = (
        layer.ho() as usize,
        layer.wo() as usize,
        layer.c_out as usize,
    );
    let mut out = vec![0i64; c_out * ho * wo];
    for oc in 0..c_out {
        let wo_base = oc * c_in * k * k;
        for oh in 0..ho {
            for ow in 0..wo {
                let mut acc = i64::from(bias[oc]);
                for c in 0..c_in {
                    for ki in 0..k {
                        let y = (oh * s + ki) as isize - p;
                        if y < 0 || y >= h as isize {
                            continue;
                        }
                        for kj in 0..k {
                            let x = (ow * s + kj) as isize - p;
                            if x < 0 || x >= w as isize {
                                continue;
                            }
                            let a = a_eff[(c * h + y as usize) * w + x as usize];
                            let wv = w_eff[wo_base + (c * k + ki) * k + kj];
                            acc += i64::from(a) * i64::from(wv);
                        }
                    }
                }
                out[(oc * ho + oh) * wo + ow] = wrap_acc(acc, acc_bits);
            }
        }
    }
    out
}

/// The INT8 network (every activation and weight at full precision) by
/// direct convolution: every layer's (acc, y). Equal to the golden model
/// with every threshold 0.
pub fn run_int8(
    cfg: &AccelConfig,
    net: &Network,
    input: &FeatureMap,
) -> Vec<(Vec<i64>, FeatureMap)> {
    let mut x = input.clone();
    let mut outs = Vec::with_capacity(net.layers.len());
    for nl in &net.layers {
        let l = &nl.layer;
        let a: Vec<i32> = x.data.iter().map(|&v| v as i32).collect();
        let acc = conv_acc(l, &a, &nl.weights.data, &nl.bias, cfg.acc_bits);
        let y = requantize_map(cfg, l, &acc);
        outs.push((acc, y.clone()));
        x = y;
    }
    outs
}

/// A 1 x 28 x 28 feature map of an image's raw bytes (the input codes).
pub fn image_map(image: &[u8; crate::data::PIXELS]) -> FeatureMap {
    FeatureMap {
        c: 1,
        h: 28,
        w: 28,
        data: image.iter().map(|&p| u32::from(p)).collect(),
    }
}

/// The `p`-th percentile (0..100) of every layer's float output over
/// `data` (two passes: the maximum, then a 65,536-bin histogram; the value
/// is the upper edge of the bin reaching the percentile). Negative values
/// (logits) count as 0.
pub fn output_percentiles(float: &FloatModel, data: &Dataset, p: f64) -> Vec<f64> {
    let n = float.layers.len();
    let mut max = vec![0f32; n];
    for img in &data.images {
        for (m, a) in max.iter_mut().zip(float.activations(img)) {
            *m = a.iter().fold(*m, |m, &v| m.max(v));
        }
    }
    const BINS: usize = 1 << 16;
    let mut hist = vec![vec![0u64; BINS]; n];
    for img in &data.images {
        for (l, a) in float.activations(img).iter().enumerate() {
            for &v in a {
                let b = if max[l] > 0.0 {
                    ((v.max(0.0) / max[l]) as f64 * BINS as f64) as usize
                } else {
                    0
                };
                hist[l][b.min(BINS - 1)] += 1;
            }
        }
    }
    (0..n)
        .map(|l| {
            let total: u64 = hist[l].iter().sum();
            let target = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
            let mut cum = 0;
            let mut bin = BINS - 1;
            for (i, &c) in hist[l].iter().enumerate() {
                cum += c;
                if cum >= target {
                    bin = i;
                    break;
                }
            }
            let v = (bin + 1) as f64 / BINS as f64 * f64::from(max[l]);
            if v > 0.0 {
                v
            } else {
                1.0
            }
        })
        .collect()
}

/// Quantise `float` with the calibration set `calib` for `cfg` (A_HI = 8,
/// W_HI = 8 assumed by the scales: codes 0..=a_max, weights
/// -w_max..=w_max).
pub fn quantize(
    float: &FloatModel,
    calib: &Dataset,
    cfg: &AccelConfig,
    opts: &QuantOptions,
) -> anyhow::Result<(Network, QuantInfo)> {
    let a_max = f64::from(cfg.a_max());
    let s_out: Vec<f64> = output_percentiles(float, calib, opts.percentile)
        .iter()
        .map(|p| p / a_max)
        .collect();
    quantize_at(float, calib, cfg, opts, &s_out)
}

/// [`quantize`] with every layer's output scale given (`s_out[l]`, the
/// float value of code 1; layer l + 1's input scale) instead of taken from
/// the percentile: a model fine-tuned against fixed scales keeps them.
pub fn quantize_at(
    float: &FloatModel,
    calib: &Dataset,
    cfg: &AccelConfig,
    opts: &QuantOptions,
    s_out: &[f64],
) -> anyhow::Result<(Network, QuantInfo)> {
    anyhow::ensure!(
        s_out.len() == float.layers.len() && s_out.iter().all(|&s| s > 0.0 && s.is_finite()),
        "one positive output scale per layer: {} for {} layers",
        s_out.len(),
        float.layers.len()
    );
    let a_max = f64::from(cfg.a_max());
    let w_max = f64::from(cfg.w_range().1);
    let mut s_in = 1.0 / a_max;
    let mut layers = Vec::new();
    let mut scales = Vec::new();
    for (i, fl) in float.layers.iter().enumerate() {
        let s = fl.spec;
        let wmax = fl.weight.iter().fold(0f32, |m, &v| m.max(v.abs()));
        let s_w = if wmax > 0.0 {
            f64::from(wmax) / w_max
        } else {
            1.0
        };
        let s_out = s_out[i];
        let wq: Vec<i32> = fl
            .weight
            .iter()
            .map(|&v| (f64::from(v) / s_w).round().clamp(-w_max, w_max) as i32)
            .collect();
        let bq: Vec<i32> = fl
            .bias
            .iter()
            .map(|&b| {
                (f64::from(b) / (s_in * s_w))
                    .round()
                    .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
            })
            .collect();
        let ratio = s_in * s_w / s_out;
        let (m, sh) = requant_params(ratio);
        let raw = RawLayer {
            low_shift: opts.low_shift,
            w_low_shift: opts.w_low_shift,
            requant_mult: i64::from(m),
            requant_shift: i64::from(sh),
            ..RawLayer::conv(
                s.c_in as i64,
                s.c_out as i64,
                (s.side as i64, s.side as i64),
                s.kernel as i64,
                s.stride as i64,
                s.padding as i64,
                opts.tile,
            )
        };
        let layer = Layer::from_raw(&raw)?;
        layer.check(cfg)?;
        layers.push(NetworkLayer {
            layer,
            weights: Weights {
                c_out: s.c_out,
                c_in: s.c_in,
                k: s.kernel,
                data: wq,
            },
            bias: bq,
        });
        scales.push(LayerScales {
            s_in,
            s_w,
            s_out,
            ratio,
            requant_mult: m,
            requant_shift: sh,
            requant: f64::from(m) / 2f64.powi(sh as i32),
        });
        s_in = s_out;
    }
    let net = Network::new(layers)?;
    // Placeholder thresholds: mean input code per layer (INT8 network).
    let n = net.layers.len();
    let mut sums = vec![0f64; n];
    let mut counts = vec![0f64; n];
    for img in &calib.images {
        let x = image_map(img);
        let outs = run_int8(cfg, &net, &x);
        sums[0] += x.data.iter().map(|&v| f64::from(v)).sum::<f64>();
        counts[0] += x.data.len() as f64;
        for l in 1..n {
            let y = &outs[l - 1].1;
            sums[l] += y.data.iter().map(|&v| f64::from(v)).sum::<f64>();
            counts[l] += y.data.len() as f64;
        }
    }
    let mean: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| s / c.max(1.0))
        .collect();
    let thresholds: Vec<u32> = (0..n)
        .map(|l| if l == 0 { 0 } else { mean[l].round() as u32 })
        .collect();
    let net = with_thresholds(&net, &thresholds);
    Ok((
        net,
        QuantInfo {
            percentile: opts.percentile,
            layers: scales,
            mean_input_code: mean,
            calibration_images: calib.len(),
        },
    ))
}

/// Every layer's threshold T.
pub fn thresholds(net: &Network) -> Vec<u32> {
    net.layers.iter().map(|l| l.layer.threshold).collect()
}

/// The same network with layer l's threshold `t[l]` (and layer l-1's
/// next_threshold, the chaining rule; the last layer keeps none).
pub fn with_thresholds(net: &Network, t: &[u32]) -> Network {
    assert_eq!(t.len(), net.layers.len(), "one threshold per layer");
    let layers = net
        .layers
        .iter()
        .enumerate()
        .map(|(i, nl)| {
            let mut nl = nl.clone();
            nl.layer.threshold = t[i];
            nl.layer.next_threshold = t.get(i + 1).copied();
            nl
        })
        .collect();
    Network::new(layers).expect("thresholds keep the network chained")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_params_largest_m_below_65536() {
        for &r in &[0.0034885595, 0.5, 1.0, 0.00001, 3.7, 1000.0] {
            let (m, sh) = requant_params(r);
            assert!(m <= 65535 && sh <= 63);
            assert!(2 * m > 65535 || sh == 63 || sh == 0, "m {m} sh {sh}");
            let approx = f64::from(m) / 2f64.powi(sh as i32);
            assert!((approx - r).abs() / r < 1e-4, "{r}: {approx}");
        }
        assert_eq!(requant_params(1.0), (32768, 15));
        assert_eq!(requant_params(0.5), (32768, 16));
    }
}
