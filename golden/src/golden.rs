//! The golden model of one layer: docs/spec.md §2-§5, bit for bit.
//!
//! The output does not depend on the schedule (a_eff is fixed by the mask), so
//! the accumulators are computed by a direct convolution over the effective
//! values, and the counters by walking the step-level schedule.

use crate::cycles::{cycles_total, RunPhases};
use crate::layer::Layer;
use crate::numerics::{requantize, wrap_acc, Quantizer};
use crate::predictor::predict_mask;
use crate::schedule::{Counters, InputSensitivity, Lowering};
use crate::tensor::{FeatureMap, Mask, Weights};
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;

/// The tensors of one layer run.
#[derive(Debug, Clone)]
pub struct LayerData {
    /// Input activation codes `[C_in, H, W]`.
    pub input: FeatureMap,
    /// Weights `[C_out, C_in, K, K]`.
    pub weights: Weights,
    /// Bias `[C_out]` (signed 32-bit).
    pub bias: Vec<i32>,
    /// Input mask `[C_in, ceil(H/R), ceil(W/R)]`; predicted from the input
    /// with the layer's threshold when absent.
    pub mask: Option<Mask>,
}

/// What is wrong with a tensor given for a layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("{tensor}: expected shape {expected:?}, found {found:?}")]
    Shape {
        tensor: &'static str,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{tensor}: value {value} at flat index {index} is outside {allowed}")]
    Value {
        tensor: &'static str,
        index: usize,
        value: i64,
        allowed: String,
    },
}

impl DataError {
    /// Which tensor ("input", "weights", "bias", "mask") is wrong.
    pub fn tensor(&self) -> &'static str {
        match self {
            DataError::Shape { tensor, .. } | DataError::Value { tensor, .. } => tensor,
        }
    }
}

/// Everything the golden model says about one layer.
#[derive(Debug, Clone)]
pub struct LayerRun {
    /// Output codes `[C_out, Ho, Wo]`.
    pub y: FeatureMap,
    /// Accumulators after wrap-around at ACC_BITS, `[C_out, Ho, Wo]`.
    pub acc: Vec<i64>,
    /// The input mask used (given or predicted).
    pub mask_in: Mask,
    /// The next layer's input mask, when the layer has a next_threshold.
    pub mask_out: Option<Mask>,
    pub counters: Counters,
}

fn check_range(
    tensor: &'static str,
    values: impl Iterator<Item = i64>,
    lo: i64,
    hi: i64,
) -> Result<(), DataError> {
    for (index, value) in values.enumerate() {
        if !(lo..=hi).contains(&value) {
            return Err(DataError::Value {
                tensor,
                index,
                value,
                allowed: format!("{lo}..={hi}"),
            });
        }
    }
    Ok(())
}

fn check_shape(tensor: &'static str, expected: &[usize], found: &[usize]) -> Result<(), DataError> {
    if expected != found {
        return Err(DataError::Shape {
            tensor,
            expected: expected.to_vec(),
            found: found.to_vec(),
        });
    }
    Ok(())
}

impl LayerData {
    /// The MODE bits a run of `layer` on this data sets: the input mask is
    /// predicted on chip when none is given (DRQ only), the output mask
    /// when the layer has T_next.
    pub fn run_phases(&self, cfg: &AccelConfig, layer: &Layer) -> RunPhases {
        RunPhases {
            predict_in: self.mask.is_none() && cfg.pe == PeKind::Drq,
            predict_out: layer.next_threshold.is_some(),
        }
    }

    /// Shapes and value ranges against the layer and configuration.
    pub fn validate(&self, cfg: &AccelConfig, layer: &Layer) -> Result<(), DataError> {
        let (c_in, c_out, h, w, k) = (
            layer.c_in as usize,
            layer.c_out as usize,
            layer.h as usize,
            layer.w as usize,
            layer.kernel as usize,
        );
        check_shape("input", &[c_in, h, w], &self.input.shape())?;
        check_shape("weights", &[c_out, c_in, k, k], &self.weights.shape())?;
        check_shape("bias", &[c_out], &[self.bias.len()])?;
        check_range(
            "input",
            self.input.data.iter().map(|&v| i64::from(v)),
            0,
            cfg.a_max().into(),
        )?;
        let (wmin, wmax) = cfg.w_range();
        check_range(
            "weights",
            self.weights.data.iter().map(|&v| i64::from(v)),
            wmin.into(),
            wmax.into(),
        )?;
        if let Some(m) = &self.mask {
            let (rh, rw) = layer.mask_in_dims(cfg.region);
            check_shape("mask", &[c_in, rh as usize, rw as usize], &m.shape())?;
        }
        Ok(())
    }
}

/// Run one layer through the golden model. The layer must have passed
/// `layer.check(cfg)`; the data is validated here.
pub fn run_layer(
    cfg: &AccelConfig,
    layer: &Layer,
    data: &LayerData,
) -> Result<LayerRun, DataError> {
    data.validate(cfg, layer)?;
    let region = cfg.region as usize;
    let mask_in = match (&data.mask, cfg.pe) {
        // The INT8 baseline has no low-precision path: every activation is sensitive.
        (_, PeKind::Int8) => {
            let (rh, rw) = layer.mask_in_dims(cfg.region);
            Mask::filled(layer.c_in as usize, rh as usize, rw as usize, true)
        }
        (Some(m), PeKind::Drq) => m.clone(),
        (None, PeKind::Drq) => predict_mask(&data.input, region, layer.threshold),
    };
    let (c_in, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
    let sens = InputSensitivity::new(&mask_in, region, c_in, h, w);
    let lowering = Lowering::new(cfg, layer);
    let quant = Quantizer::new(cfg, layer.low_shift, layer.w_low_shift);
    let acc = accumulate(&lowering, &quant, data, &sens);
    let y = requantize_map(cfg, layer, &acc);
    let mask_out = layer.next_threshold.map(|t| predict_mask(&y, region, t));
    let phases = data.run_phases(cfg, layer);
    let high_steps = lowering.high_steps(&sens);
    let mut counters = lowering.counters(&high_steps);
    counters.cycles_total = cycles_total(cfg, &lowering, &high_steps, phases);
    counters.stall_cycles = counters.cycles_total - counters.token_cycles;
    Ok(LayerRun {
        y,
        acc,
        mask_in,
        mask_out,
        counters,
    })
}

/// The layer's output codes `[C_out, Ho, Wo]`: each accumulator of `acc`
/// (in that order) requantised with the layer's M and SH and clamped to
/// A_HI bits ([`requantize`]).
pub fn requantize_map(cfg: &AccelConfig, layer: &Layer, acc: &[i64]) -> FeatureMap {
    FeatureMap {
        c: layer.c_out as usize,
        h: layer.ho() as usize,
        w: layer.wo() as usize,
        data: acc
            .iter()
            .map(|&a| requantize(a, layer.requant_mult, layer.requant_shift, cfg.a_hi))
            .collect(),
    }
}

/// acc[oc][oh][ow] = bias + sum_k w_eff * a_eff, wrapped at ACC_BITS.
///
/// a_eff depends only on the input position (its mask bit), and w_eff only on
/// the weight and that same bit, so each input position selects one of two
/// weight tables: `w` (sensitive) or `w_lo << sw` (insensitive).
fn accumulate(
    low: &Lowering,
    quant: &Quantizer,
    data: &LayerData,
    sens: &InputSensitivity,
) -> Vec<i64> {
    let layer = &low.layer;
    let (c_out, ho, wo) = (layer.c_out as usize, low.ho as usize, low.wo as usize);
    let kk = layer.reduction_len() as usize;
    // Effective activations and which weight table each input position uses.
    let a_eff: Vec<i32> = data
        .input
        .data
        .iter()
        .zip(sens_iter(sens))
        .map(|(&a, s)| quant.a_eff(a, s) as i32)
        .collect();
    // Weight tables transposed to [k][oc] so the inner loop runs over channels.
    let mut w_hi = vec![0i32; kk * c_out];
    let mut w_lo = vec![0i32; kk * c_out];
    for oc in 0..c_out {
        for k in 0..kk {
            let wv = data.weights.at_k(oc, k);
            w_hi[k * c_out + oc] = quant.w_eff(wv, true);
            w_lo[k * c_out + oc] = quant.w_eff(wv, false);
        }
    }
    let (h, w) = (layer.h as usize, layer.w as usize);
    let mut out = vec![0i64; c_out * ho * wo];
    let mut acc = vec![0i64; c_out];
    for oh in 0..ho {
        for ow in 0..wo {
            for (a, &b) in acc.iter_mut().zip(&data.bias) {
                *a = i64::from(b);
            }
            for k in 0..kk {
                let Some((c, y, x)) = low.input_of(oh as u32, ow as u32, k as u32) else {
                    continue;
                };
                let pos = (c as usize * h + y as usize) * w + x as usize;
                let a = a_eff[pos];
                if a == 0 {
                    continue;
                }
                let table = if sens.at(c as usize, y as usize, x as usize) {
                    &w_hi
                } else {
                    &w_lo
                };
                // |a| < 2^16 and |w| <= 2^15: the product fits in i32.
                for (acc_oc, &wv) in acc.iter_mut().zip(&table[k * c_out..(k + 1) * c_out]) {
                    *acc_oc = acc_oc.wrapping_add(i64::from(a * wv));
                }
            }
            for (oc, &a) in acc.iter().enumerate() {
                out[(oc * ho + oh) * wo + ow] = wrap_acc(a, low.cfg.acc_bits);
            }
        }
    }
    out
}

fn sens_iter(sens: &InputSensitivity) -> impl Iterator<Item = bool> + '_ {
    (0..sens.c).flat_map(move |c| {
        (0..sens.h).flat_map(move |y| (0..sens.w).map(move |x| sens.at(c, y, x)))
    })
}
