//! A convolution layer's run-time parameters (docs/spec.md §1), read from JSON.
//!
//! ```json
//! { "c_in": 64, "c_out": 64, "h": 56, "w": 56, "kernel": 3, "stride": 1,
//!   "padding": 1, "threshold": 40, "low_shift": 4, "w_low_shift": 4,
//!   "requant_mult": 1, "requant_shift": 10, "tile_h": 4, "tile_w": 4,
//!   "next_threshold": 40 }
//! ```
//!
//! `stride` defaults to 1, `padding` to 0 and `next_threshold` is optional;
//! every other key is required and unknown keys are rejected. A [`Layer`] is
//! only built by [`Layer::from_raw`], which checks every rule that does not
//! depend on the accelerator; [`Layer::check`] adds those that do.

use drq_arch::config::{AccelConfig, ParamError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A layer as written by a user, values not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub c_in: i64,
    pub c_out: i64,
    pub h: i64,
    pub w: i64,
    pub kernel: i64,
    #[serde(default = "one")]
    pub stride: i64,
    #[serde(default)]
    pub padding: i64,
    pub threshold: i64,
    pub low_shift: i64,
    pub w_low_shift: i64,
    pub requant_mult: i64,
    pub requant_shift: i64,
    pub tile_h: i64,
    pub tile_w: i64,
    #[serde(default)]
    pub next_threshold: Option<i64>,
}

fn one() -> i64 {
    1
}

impl RawLayer {
    /// A convolution with the given geometry and tile shape; threshold 0,
    /// low shifts 4 and 4, requantisation M = 1, SH = 0 (override fields
    /// with struct update syntax).
    pub fn conv(
        c_in: i64,
        c_out: i64,
        (h, w): (i64, i64),
        kernel: i64,
        stride: i64,
        padding: i64,
        (tile_h, tile_w): (i64, i64),
    ) -> RawLayer {
        RawLayer {
            c_in,
            c_out,
            h,
            w,
            kernel,
            stride,
            padding,
            threshold: 0,
            low_shift: 4,
            w_low_shift: 4,
            requant_mult: 1,
            requant_shift: 0,
            tile_h,
            tile_w,
            next_threshold: None,
        }
    }

    /// The same layer with other activation and weight low shifts.
    pub fn with_shifts(self, low_shift: i64, w_low_shift: i64) -> RawLayer {
        RawLayer {
            low_shift,
            w_low_shift,
            ..self
        }
    }
}

/// A checked layer description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Layer {
    pub c_in: u32,
    pub c_out: u32,
    pub h: u32,
    pub w: u32,
    pub kernel: u32,
    pub stride: u32,
    pub padding: u32,
    /// Sensitivity threshold T of this layer's input mask (unsigned 16-bit).
    pub threshold: u32,
    /// Activation low shift s.
    pub low_shift: u32,
    /// Weight low shift sw.
    pub w_low_shift: u32,
    /// Requantisation multiplier M (unsigned 16-bit).
    pub requant_mult: u32,
    /// Requantisation shift SH (0..=63).
    pub requant_shift: u32,
    pub tile_h: u32,
    pub tile_w: u32,
    /// Threshold of the next layer's input mask, predicted from this output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_threshold: Option<u32>,
}

impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawLayer::deserialize(d)?;
        Layer::from_raw(&raw).map_err(serde::de::Error::custom)
    }
}

/// Anything that can go wrong reading a layer file.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("cannot read layer {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("layer {path}: {message}")]
    Syntax { path: String, message: String },
    /// A value out of range in a layer file.
    #[error("{path}: {error}")]
    InFile { path: String, error: ParamError },
}

const SCOPE: &str = "layer";

fn reject(param: &'static str, value: impl ToString, allowed: impl Into<String>) -> ParamError {
    ParamError::new(SCOPE, param, value, allowed)
}

fn in_range(param: &'static str, value: i64, lo: i64, hi: i64) -> Result<u32, ParamError> {
    ParamError::check_range(SCOPE, param, value, lo, hi)
}

/// Largest channel count and feature-map side (the controller's register widths).
pub const MAX_DIM: i64 = 65535;
/// Largest kernel side and stride.
pub const MAX_KERNEL: i64 = 16;
/// Largest 16-bit run-time value (T, M).
pub const MAX_U16: i64 = 65535;

impl Layer {
    /// Check the rules that do not depend on the accelerator.
    pub fn from_raw(r: &RawLayer) -> Result<Layer, ParamError> {
        let kernel = in_range("kernel", r.kernel, 1, MAX_KERNEL)?;
        let layer = Layer {
            c_in: in_range("c_in", r.c_in, 1, MAX_DIM)?,
            c_out: in_range("c_out", r.c_out, 1, MAX_DIM)?,
            h: in_range("h", r.h, 1, MAX_DIM)?,
            w: in_range("w", r.w, 1, MAX_DIM)?,
            kernel,
            stride: in_range("stride", r.stride, 1, MAX_KERNEL)?,
            padding: in_range("padding", r.padding, 0, i64::from(kernel) - 1).map_err(|e| {
                ParamError {
                    allowed: format!("{} (0..=kernel-1)", e.allowed),
                    ..e
                }
            })?,
            threshold: in_range("threshold", r.threshold, 0, MAX_U16)?,
            low_shift: in_range("low_shift", r.low_shift, 0, 15)?,
            w_low_shift: in_range("w_low_shift", r.w_low_shift, 0, 15)?,
            requant_mult: in_range("requant_mult", r.requant_mult, 0, MAX_U16)?,
            requant_shift: in_range("requant_shift", r.requant_shift, 0, 63)?,
            tile_h: in_range("tile_h", r.tile_h, 1, 64)?,
            tile_w: in_range("tile_w", r.tile_w, 1, 64)?,
            next_threshold: match r.next_threshold {
                None => None,
                Some(t) => Some(in_range("next_threshold", t, 0, MAX_U16)?),
            },
        };
        for (name, side, what) in [("h", layer.h, "height"), ("w", layer.w, "width")] {
            if side + 2 * layer.padding < layer.kernel {
                return Err(reject(
                    name,
                    side,
                    format!(
                        "{name} + 2*padding >= kernel (output {what} would be below 1 with kernel {} and padding {})",
                        layer.kernel, layer.padding
                    ),
                ));
            }
        }
        Ok(layer)
    }

    /// Check the rules that depend on the accelerator configuration.
    /// The reader a banked map is laid out for when this layer reads it:
    /// its stride and pixel tile (docs/banked.md).
    pub fn reader(&self) -> drq_arch::banked::Reader {
        drq_arch::banked::Reader {
            stride: self.stride,
            tile_h: self.tile_h,
            tile_w: self.tile_w,
        }
    }

    pub fn check(&self, cfg: &AccelConfig) -> Result<(), ParamError> {
        if self.low_shift > cfg.max_low_shift() {
            return Err(reject(
                "low_shift",
                self.low_shift,
                format!("0..={} (a_hi - a_lo)", cfg.max_low_shift()),
            ));
        }
        if self.w_low_shift > cfg.max_w_low_shift() {
            return Err(reject(
                "w_low_shift",
                self.w_low_shift,
                format!("0..={} (w_hi - w_lo)", cfg.max_w_low_shift()),
            ));
        }
        if self.tile_h * self.tile_w > cfg.rows {
            return Err(reject(
                "tile_h * tile_w",
                format!(
                    "{} * {} = {}",
                    self.tile_h,
                    self.tile_w,
                    self.tile_h * self.tile_w
                ),
                format!("at most rows = {}", cfg.rows),
            ));
        }
        Ok(())
    }

    /// Parse JSON text and check it (`origin` names the source in errors).
    pub fn from_json_str(text: &str, origin: &str) -> Result<Layer, LayerError> {
        let raw: RawLayer = serde_json::from_str(text).map_err(|e| LayerError::Syntax {
            path: origin.to_string(),
            message: drq_arch::text::clip_quotes(&e.to_string(), 300),
        })?;
        Ok(Layer::from_raw(&raw)?)
    }

    /// Read, parse and check a layer file against a configuration.
    pub fn load(path: &Path, cfg: &AccelConfig) -> Result<Layer, LayerError> {
        let origin = path.display().to_string();
        let text = drq_arch::text::read_text_bounded(path, drq_arch::text::MAX_TEXT_FILE).map_err(
            |source| LayerError::Io {
                path: origin.clone(),
                source,
            },
        )?;
        let in_file = |error| LayerError::InFile {
            path: origin.clone(),
            error,
        };
        let layer = match Layer::from_json_str(&text, &origin) {
            Err(LayerError::Param(e)) => return Err(in_file(e)),
            other => other?,
        };
        layer.check(cfg).map_err(in_file)?;
        Ok(layer)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("Layer serialises to JSON")
    }

    // ---- derived quantities ----------------------------------------------

    /// Output height Ho = (H + 2P - K) / S + 1.
    pub fn ho(&self) -> u32 {
        (self.h + 2 * self.padding - self.kernel) / self.stride + 1
    }
    /// Output width Wo = (W + 2P - K) / S + 1.
    pub fn wo(&self) -> u32 {
        (self.w + 2 * self.padding - self.kernel) / self.stride + 1
    }
    /// Length of the reduction: C_in * K * K steps per tile.
    pub fn reduction_len(&self) -> u32 {
        self.c_in * self.kernel * self.kernel
    }
    /// Multiply-accumulates of the layer: C_out * Ho * Wo * C_in * K * K.
    pub fn macs(&self) -> u64 {
        u64::from(self.c_out)
            * u64::from(self.ho())
            * u64::from(self.wo())
            * u64::from(self.reduction_len())
    }
    /// Mask side lengths (ceil(H/R), ceil(W/R)) of this layer's input.
    pub fn mask_in_dims(&self, region: u32) -> (u32, u32) {
        (self.h.div_ceil(region), self.w.div_ceil(region))
    }
    /// Mask side lengths of this layer's output (the next layer's input).
    pub fn mask_out_dims(&self, region: u32) -> (u32, u32) {
        (self.ho().div_ceil(region), self.wo().div_ceil(region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn base_json() -> serde_json::Value {
        serde_json::json!({
            "c_in": 3, "c_out": 5, "h": 9, "w": 7, "kernel": 3, "stride": 1, "padding": 1,
            "threshold": 40, "low_shift": 4, "w_low_shift": 4, "requant_mult": 3,
            "requant_shift": 6, "tile_h": 4, "tile_w": 4
        })
    }

    fn parse(v: &serde_json::Value) -> Result<Layer, LayerError> {
        let l = Layer::from_json_str(&v.to_string(), "l.json")?;
        l.check(&AccelConfig::default())?;
        Ok(l)
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut v = base_json();
        v[key] = value;
        v
    }

    #[test]
    fn valid_layer_and_derived_sizes() {
        let l = parse(&base_json()).unwrap();
        assert_eq!((l.ho(), l.wo()), (9, 7));
        assert_eq!(l.reduction_len(), 27);
        assert_eq!(l.next_threshold, None);
        let l2 = parse(&with("stride", 2.into())).unwrap();
        assert_eq!((l2.ho(), l2.wo()), (5, 4));
    }

    #[test]
    fn defaults_for_stride_and_padding() {
        let mut v = base_json();
        v.as_object_mut().unwrap().remove("stride");
        v.as_object_mut().unwrap().remove("padding");
        let l = parse(&v).unwrap();
        assert_eq!((l.stride, l.padding, l.ho(), l.wo()), (1, 0, 7, 5));
    }

    #[test]
    fn rejections_name_the_parameter() {
        let cases = [
            (
                with("tile_h", 5.into()),
                "tile_h * tile_w",
                "at most rows = 16",
            ),
            (with("low_shift", 5.into()), "low_shift", "0..=4"),
            (with("w_low_shift", 5.into()), "w_low_shift", "0..=4"),
            (with("kernel", 0.into()), "kernel", "1..=16"),
            (with("padding", 3.into()), "padding", "kernel-1"),
            (with("stride", 0.into()), "stride", "1..=16"),
            (with("c_in", 0.into()), "c_in", "1..=65535"),
            (with("c_out", (-1).into()), "c_out", "1..=65535"),
            (with("threshold", 65536.into()), "threshold", "0..=65535"),
            (
                with("requant_mult", 70000.into()),
                "requant_mult",
                "0..=65535",
            ),
            (with("requant_shift", 64.into()), "requant_shift", "0..=63"),
            (
                with("next_threshold", (-2).into()),
                "next_threshold",
                "0..=65535",
            ),
        ];
        for (v, param, allowed) in cases {
            match parse(&v) {
                Err(LayerError::Param(e)) => {
                    assert_eq!(e.param, param, "{e}");
                    assert!(e.to_string().contains(allowed), "{e} should say {allowed}");
                }
                other => panic!("{param}: expected a parameter error, got {other:?}"),
            }
        }
    }

    #[test]
    fn output_size_below_one_is_rejected() {
        let mut v = with("h", 2.into());
        v["kernel"] = 5.into();
        v["padding"] = 0.into();
        let e = parse(&v).unwrap_err().to_string();
        assert!(e.contains("output height"), "{e}");
        let mut v = with("w", 1.into());
        v["padding"] = 0.into();
        let e = parse(&v).unwrap_err().to_string();
        assert!(e.contains("output width"), "{e}");
    }

    #[test]
    fn unknown_and_missing_keys() {
        let e = parse(&with("thresold", 3.into())).unwrap_err().to_string();
        assert!(e.contains("thresold") && e.contains("l.json"), "{e}");
        let mut v = base_json();
        v.as_object_mut().unwrap().remove("c_in");
        let e = parse(&v).unwrap_err().to_string();
        assert!(e.contains("c_in"), "{e}");
    }
}
