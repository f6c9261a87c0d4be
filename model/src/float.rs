//! The network's architecture and its float model (the trained weights),
//! with a plain direct-convolution forward pass (deterministic, no threads)
//! and `float.safetensors` I/O.

use crate::data::PIXELS;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One convolution of the architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvSpec {
    pub c_in: usize,
    pub c_out: usize,
    /// Input height = width.
    pub side: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// ReLU after the convolution (every layer but the classifier).
    pub relu: bool,
}

impl ConvSpec {
    /// Output height = width.
    pub fn out_side(&self) -> usize {
        (self.side + 2 * self.padding - self.kernel) / self.stride + 1
    }
    pub fn weight_len(&self) -> usize {
        self.c_out * self.c_in * self.kernel * self.kernel
    }
    pub fn fan_in(&self) -> usize {
        self.c_in * self.kernel * self.kernel
    }
}

/// The Fashion-MNIST network (`model/fashion`): conv1 3x3 pad 1, 1->8 on
/// 28x28; conv2 3x3 stride 2 pad 1, 8->16 (28 -> 14); conv3 3x3 stride 2
/// pad 1, 16->16 (14 -> 7); classifier conv 7x7, 16->10 (7 -> 1: the
/// logits).
pub const ARCH: [ConvSpec; 4] = [
    conv3x3(1, 8, 28, 1),
    conv3x3(8, 16, 28, 2),
    conv3x3(16, 16, 14, 2),
    classifier(16, 7),
];

/// The wider network (`model/fashion-wide`): four 3x3 convolutions, up to
/// 32 channels: 1->16 stride 2 (28 -> 14), 16->32 (14), 32->32 stride 2
/// (14 -> 7), 32->32 (7), then the 7x7 classifier 32->10.
pub const WIDE_ARCH: [ConvSpec; 5] = [
    conv3x3(1, 16, 28, 2),
    conv3x3(16, 32, 14, 1),
    conv3x3(32, 32, 14, 2),
    conv3x3(32, 32, 7, 1),
    classifier(32, 7),
];

/// The architectures by name (`train --arch`).
pub const ARCHS: [(&str, &[ConvSpec]); 2] = [("fashion", &ARCH), ("wide", &WIDE_ARCH)];

/// The architecture called `name`, or an error naming the known ones.
pub fn arch_named(name: &str) -> anyhow::Result<&'static [ConvSpec]> {
    ARCHS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            let known: Vec<&str> = ARCHS.iter().map(|(n, _)| *n).collect();
            anyhow::anyhow!(
                "unknown architecture {name:?} (known: {})",
                known.join(", ")
            )
        })
}

/// The classifier: a convolution over the whole `side` x `side` map, no
/// padding, to the 10 logits (no ReLU).
const fn classifier(c_in: usize, side: usize) -> ConvSpec {
    ConvSpec {
        c_in,
        c_out: 10,
        side,
        kernel: side,
        stride: 1,
        padding: 0,
        relu: false,
    }
}

/// A 3 x 3 convolution, padding 1, followed by a ReLU.
const fn conv3x3(c_in: usize, c_out: usize, side: usize, stride: usize) -> ConvSpec {
    ConvSpec {
        c_in,
        c_out,
        side,
        kernel: 3,
        stride,
        padding: 1,
        relu: true,
    }
}

/// Weights `[C_out, C_in, K, K]` and bias `[C_out]` of one layer, f32.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatLayer {
    pub spec: ConvSpec,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl FloatModel {
    /// The layers of `arch`, layer `i`'s (weight, bias) from
    /// `params(i, spec)`.
    pub fn from_params<E>(
        arch: &[ConvSpec],
        mut params: impl FnMut(usize, &ConvSpec) -> Result<(Vec<f32>, Vec<f32>), E>,
    ) -> Result<FloatModel, E> {
        let layers = arch
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (weight, bias) = params(i, s)?;
                Ok(FloatLayer {
                    spec: *s,
                    weight,
                    bias,
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(FloatModel { layers })
    }
}

/// The trained float network (the layers of an architecture).
#[derive(Debug, Clone, PartialEq)]
pub struct FloatModel {
    pub layers: Vec<FloatLayer>,
}

/// The safetensors metadata key of the architecture (JSON of the layers'
/// [`ConvSpec`]s).
const ARCH_KEY: &str = "arch";

/// File name of the float weights in a model folder.
pub const FLOAT_FILE: &str = "float.safetensors";

/// Direct convolution of a `[C_in, side, side]` f32 map (row-major), with
/// the optional ReLU; returns `[C_out, out, out]`.
pub fn conv_f32(spec: &ConvSpec, weight: &[f32], bias: &[f32], x: &[f32]) -> Vec<f32> {
    let (s, o, k) = (spec.side, spec.out_side(), spec.kernel);
    let mut y = vec![0f32; spec.c_out * o * o];
    for oc in 0..spec.c_out {
        for oh in 0..o {
            for ow in 0..o {
                let mut acc = bias[oc];
                for c in 0..spec.c_in {
                    for ki in 0..k {
                        let iy = (oh * spec.stride + ki) as isize - spec.padding as isize;
                        if iy < 0 || iy >= s as isize {
                            continue;
                        }
                        for kj in 0..k {
                            let ix = (ow * spec.stride + kj) as isize - spec.padding as isize;
                            if ix < 0 || ix >= s as isize {
                                continue;
                            }
                            acc += weight[((oc * spec.c_in + c) * k + ki) * k + kj]
                                * x[(c * s + iy as usize) * s + ix as usize];
                        }
                    }
                }
                y[(oc * o + oh) * o + ow] = if spec.relu { acc.max(0.0) } else { acc };
            }
        }
    }
    y
}

/// Index of the largest value (the first one on ties).
pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl FloatModel {
    /// Every layer's output for one image (input pixel / 255): post-ReLU
    /// maps, then the 10 logits.
    pub fn activations(&self, image: &[u8; PIXELS]) -> Vec<Vec<f32>> {
        let mut x: Vec<f32> = image.iter().map(|&p| f32::from(p) / 255.0).collect();
        let mut outs = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            x = conv_f32(&l.spec, &l.weight, &l.bias, &x);
            outs.push(x.clone());
        }
        outs
    }

    /// The logits of one image.
    pub fn logits(&self, image: &[u8; PIXELS]) -> Vec<f32> {
        self.activations(image).pop().expect("at least one layer")
    }

    /// The predicted class of one image.
    pub fn predict(&self, image: &[u8; PIXELS]) -> usize {
        argmax(&self.logits(image))
    }

    /// Write `conv{i}.weight` and `conv{i}.bias` (f32) as safetensors.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        use safetensors::tensor::{Dtype, TensorView};
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                let s = l.spec;
                [
                    (
                        format!("conv{i}.weight"),
                        vec![s.c_out, s.c_in, s.kernel, s.kernel],
                        l.weight.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    ),
                    (
                        format!("conv{i}.bias"),
                        vec![s.c_out],
                        l.bias.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    ),
                ]
            })
            .collect();
        let views: Vec<(String, TensorView)> = bytes
            .iter()
            .map(|(n, shape, b)| Ok((n.clone(), TensorView::new(Dtype::F32, shape.clone(), b)?)))
            .collect::<Result<_, safetensors::SafeTensorError>>()?;
        let arch = serde_json::to_string(&self.arch())?;
        let meta = std::collections::HashMap::from([(ARCH_KEY.to_string(), arch)]);
        let out = safetensors::serialize(views, Some(meta))?;
        std::fs::write(path, out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        Ok(())
    }

    /// The architecture: every layer's convolution.
    pub fn arch(&self) -> Vec<ConvSpec> {
        self.layers.iter().map(|l| l.spec).collect()
    }

    /// Read a model written by [`FloatModel::save`]: the architecture of
    /// its metadata (`arch`), [`ARCH`] for a file without one.
    pub fn load(path: &Path) -> anyhow::Result<FloatModel> {
        use safetensors::tensor::Dtype;
        let p = path.display();
        let raw = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {p}: {e}"))?;
        let st =
            safetensors::SafeTensors::deserialize(&raw).map_err(|e| anyhow::anyhow!("{p}: {e}"))?;
        let get = |name: &str, shape: Vec<usize>| -> anyhow::Result<Vec<f32>> {
            let t = st
                .tensor(name)
                .map_err(|e| anyhow::anyhow!("{p}: {name}: {e}"))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape.as_slice() {
                anyhow::bail!(
                    "{p}: {name}: expected f32 {shape:?}, found {:?} {:?}",
                    t.dtype(),
                    t.shape()
                );
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(&raw)
            .map_err(|e| anyhow::anyhow!("{p}: {e}"))?;
        let arch: Vec<ConvSpec> = match header.metadata().as_ref().and_then(|m| m.get(ARCH_KEY)) {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("{p}: metadata {ARCH_KEY}: {e}"))?,
            None => ARCH.to_vec(),
        };
        FloatModel::from_params(&arch, |i, s| {
            Ok((
                get(
                    &format!("conv{i}.weight"),
                    vec![s.c_out, s.c_in, s.kernel, s.kernel],
                )?,
                get(&format!("conv{i}.bias"), vec![s.c_out])?,
            ))
        })
    }
}
