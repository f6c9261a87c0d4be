//! Training the float model with candle (CPU), reproducibly from a seed:
//! the initial weights and the shuffling come from a SplitMix64 generator
//! seeded with `seed` (candle's own CPU generator cannot be seeded).

use crate::data::{Dataset, PIXELS};
use crate::float::{ConvSpec, FloatLayer, FloatModel};
use crate::quant::QuantInfo;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use drq_arch::AccelConfig;
use drq_golden::network::Network;
use drq_golden::rng::Rng;
use std::path::Path;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    pub seed: u64,
    pub epochs: usize,
    pub batch: usize,
    /// Adam learning rate (see `lr_at`).
    pub lr: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 1,
            epochs: 4,
            batch: 64,
            lr: 2e-3,
        }
    }
}

impl TrainOptions {
    /// Learning rate of an epoch: `lr`, divided by 4 over the last third
    /// of the epochs (a simple step decay).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        if 3 * epoch >= 2 * self.epochs {
            self.lr / 4.0
        } else {
            self.lr
        }
    }
}

/// Uniform in [-1, 1) from the generator (53 bits).
fn uniform(rng: &mut Rng) -> f32 {
    ((rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0) as f32
}

/// Initial weights of `arch`: He-uniform (bound sqrt(6 / fan_in)), zero
/// bias, drawn layer by layer from `Rng::new(seed)`.
pub fn init_model(seed: u64, arch: &[ConvSpec]) -> FloatModel {
    let mut rng = Rng::new(seed);
    let layers = arch
        .iter()
        .map(|s| {
            let bound = (6.0 / s.fan_in() as f32).sqrt();
            FloatLayer {
                spec: *s,
                weight: (0..s.weight_len())
                    .map(|_| uniform(&mut rng) * bound)
                    .collect(),
                bias: vec![0.0; s.c_out],
            }
        })
        .collect();
    FloatModel { layers }
}

/// A shuffled order of `0..n` (Fisher-Yates from `rng`).
pub fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

struct Params {
    specs: Vec<ConvSpec>,
    w: Vec<Var>,
    b: Vec<Var>,
}

fn forward(p: &Params, x: &Tensor) -> candle_core::Result<Tensor> {
    let mut x = x.clone();
    for (i, s) in p.specs.iter().enumerate() {
        x = bias_relu(
            p,
            i,
            &x.conv2d(p.w[i].as_tensor(), s.padding, s.stride, 1, 1)?,
        )?;
    }
    logits(p, &x)
}

/// Layer `i`'s bias added to its convolution `y`, then its ReLU if any.
fn bias_relu(p: &Params, i: usize, y: &Tensor) -> candle_core::Result<Tensor> {
    let s = &p.specs[i];
    let y = y.broadcast_add(&p.b[i].as_tensor().reshape((1, s.c_out, 1, 1))?)?;
    if s.relu {
        y.relu()
    } else {
        Ok(y)
    }
}

/// The spec's low-precision value of integer codes `v` (spec §2): the
/// digit clamp(floor((v + 2^(shift-1)) / 2^shift), lo, hi) (no rounding
/// term at shift 0), times 2^shift.
fn low_value(v: &Tensor, shift: u32, (lo, hi): (f64, f64)) -> candle_core::Result<Tensor> {
    let step = f64::from(1u32 << shift);
    let half = if shift > 0 { step / 2.0 } else { 0.0 };
    ((v + half)? / step)?.floor()?.clamp(lo, hi)? * step
}

/// The last layer's `[N, C_out, 1, 1]` output as `[N, C_out]`.
fn logits(p: &Params, x: &Tensor) -> candle_core::Result<Tensor> {
    let classes = p.specs.last().map_or(0, |s| s.c_out);
    x.reshape((x.dim(0)?, classes))
}

fn batch_tensor(
    data: &Dataset,
    idx: &[usize],
    dev: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let mut px = Vec::with_capacity(idx.len() * PIXELS);
    for &i in idx {
        px.extend(data.images[i].iter().map(|&p| f32::from(p) / 255.0));
    }
    let x = Tensor::from_vec(px, (idx.len(), 1, 28, 28), dev)?;
    let y = Tensor::from_vec(
        idx.iter()
            .map(|&i| u32::from(data.labels[i]))
            .collect::<Vec<u32>>(),
        idx.len(),
        dev,
    )?;
    Ok((x, y))
}

/// The trainable parameters of a model, one weight and one bias per layer.
fn params_of(model: &FloatModel, dev: &Device) -> candle_core::Result<Params> {
    let mut p = Params {
        specs: model.arch(),
        w: vec![],
        b: vec![],
    };
    for l in &model.layers {
        let s = l.spec;
        p.w.push(Var::from_tensor(&Tensor::from_vec(
            l.weight.clone(),
            (s.c_out, s.c_in, s.kernel, s.kernel),
            dev,
        )?)?);
        p.b.push(Var::from_tensor(&Tensor::from_vec(
            l.bias.clone(),
            s.c_out,
            dev,
        )?)?);
    }
    Ok(p)
}

/// Train `arch` on `data` with Adam (cross-entropy) from the seed's
/// initial weights. `log` gets one line per epoch. Threads: candle's CPU kernels
/// use `RAYON_NUM_THREADS` (the train binary sets it before any work).
pub fn train(
    data: &Dataset,
    arch: &[ConvSpec],
    opts: &TrainOptions,
    log: impl FnMut(&str),
) -> candle_core::Result<FloatModel> {
    fit(&init_model(opts.seed, arch), data, opts, &forward, log)
}

/// Fine-tune `start` on `data` with DRQ's quantisation in the forward pass
/// (`drq`: every layer's scales, threshold and shifts; straight-through
/// gradients, docs/model.md "DRQ-aware fine-tuning"). Same optimiser,
/// shuffling and logging as [`train`].
pub fn finetune(
    start: &FloatModel,
    data: &Dataset,
    drq: &DrqForward,
    opts: &TrainOptions,
    log: impl FnMut(&str),
) -> candle_core::Result<FloatModel> {
    fit(start, data, opts, &|p, x| drq.forward(p, x), log)
}

type Forward<'a> = dyn Fn(&Params, &Tensor) -> candle_core::Result<Tensor> + 'a;

/// Adam on `forward`'s cross-entropy, from `start`'s parameters.
fn fit(
    start: &FloatModel,
    data: &Dataset,
    opts: &TrainOptions,
    forward: &Forward,
    mut log: impl FnMut(&str),
) -> candle_core::Result<FloatModel> {
    let dev = Device::Cpu;
    let p = params_of(start, &dev)?;
    let vars: Vec<Var> = p.w.iter().chain(&p.b).cloned().collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: opts.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    // The shuffling stream is separate from the init stream.
    let mut rng = Rng::new(opts.seed ^ 0x5348_5546_464c_4531);
    for epoch in 0..opts.epochs {
        opt.set_learning_rate(opts.lr_at(epoch));
        let order = shuffled(data.len(), &mut rng);
        let (mut loss_sum, mut batches) = (0f64, 0usize);
        let t0 = std::time::Instant::now();
        for idx in order.chunks(opts.batch) {
            let (x, y) = batch_tensor(data, idx, &dev)?;
            let logits = forward(&p, &x)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&loss)?;
            loss_sum += f64::from(loss.to_scalar::<f32>()?);
            batches += 1;
        }
        log(&format!(
            "epoch {}/{}: lr {:.1e}, mean loss {:.4}, {:.1} s",
            epoch + 1,
            opts.epochs,
            opts.lr_at(epoch),
            loss_sum / batches.max(1) as f64,
            t0.elapsed().as_secs_f64()
        ));
    }
    FloatModel::from_params(&p.specs, |i, _| {
        Ok((
            p.w[i]
                .as_tensor()
                .flatten_all()?
                .to_dtype(DType::F32)?
                .to_vec1()?,
            p.b[i].as_tensor().to_vec1()?,
        ))
    })
}

/// DRQ's numbers for one layer of the fine-tuning forward pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrqLayerQuant {
    /// Input scale: code a = clamp(round(x / s_in), 0, A_MAX).
    pub s_in: f64,
    /// Sensitivity threshold T on the region mean of the input codes.
    pub threshold: u32,
    /// Low shifts s (activations) and sw (weights).
    pub low_shift: u32,
    pub w_low_shift: u32,
}

/// The forward pass of DRQ in floats: each layer's input quantised to its
/// codes, the region mask predicted from them (region sum >= T x region
/// pixels, edge regions smaller), sensitive inputs at INT8 against INT8
/// weights, the others at q << s against w_lo << sw (spec §2, §3); the
/// rounding is skipped by the gradient (straight-through estimator).
#[derive(Debug, Clone, PartialEq)]
pub struct DrqForward {
    pub layers: Vec<DrqLayerQuant>,
    /// Region size R.
    pub region: usize,
    /// Every layer's output scale (the next layer's s_in; the last one's is
    /// kept for the quantisation after fine-tuning).
    pub s_out: Vec<f64>,
    /// Largest activation code (A_MAX) and weight magnitude (W_MAX).
    pub a_max: f64,
    pub w_max: f64,
    /// Largest INT4 activation code q (2^A_LO - 1) and the INT4 weight
    /// digits' range (-2^(W_LO-1) ..= 2^(W_LO-1) - 1).
    pub q_max: f64,
    pub w_lo_range: (f64, f64),
}

/// `value` in the forward pass, the identity (of `x`) in the backward pass.
fn straight_through(x: &Tensor, value: &Tensor) -> candle_core::Result<Tensor> {
    x + (value - x)?.detach()
}

impl DrqForward {
    /// The DRQ forward pass of the model folder `dir`: its quant.json's
    /// scales, its network.json's thresholds (or `thresholds`, one per
    /// layer) and shifts, regions of `region` pixels a side.
    pub fn of_model(
        dir: &Path,
        thresholds: &[u32],
        region: usize,
        cfg: &AccelConfig,
    ) -> anyhow::Result<DrqForward> {
        let net = Network::load(&dir.join("network.json"), cfg)?;
        let qpath = dir.join("quant.json");
        let text = std::fs::read_to_string(&qpath)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", qpath.display()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", qpath.display()))?;
        let info: QuantInfo = serde_json::from_value(json["quantisation"].clone())
            .map_err(|e| anyhow::anyhow!("{}: quantisation: {e}", qpath.display()))?;
        anyhow::ensure!(
            info.layers.len() == net.layers.len(),
            "{}: {} layers of scales for a network of {}",
            qpath.display(),
            info.layers.len(),
            net.layers.len()
        );
        anyhow::ensure!(
            thresholds.is_empty() || thresholds.len() == net.layers.len(),
            "--thresholds: {} values for a network of {} layers",
            thresholds.len(),
            net.layers.len()
        );
        anyhow::ensure!(region >= 1, "--region must be at least 1");
        Ok(DrqForward {
            layers: net
                .layers
                .iter()
                .zip(&info.layers)
                .enumerate()
                .map(|(i, (nl, sc))| DrqLayerQuant {
                    s_in: sc.s_in,
                    threshold: thresholds.get(i).copied().unwrap_or(nl.layer.threshold),
                    low_shift: nl.layer.low_shift,
                    w_low_shift: nl.layer.w_low_shift,
                })
                .collect(),
            region,
            s_out: info.layers.iter().map(|sc| sc.s_out).collect(),
            a_max: f64::from(cfg.a_max()),
            w_max: f64::from(cfg.w_range().1),
            q_max: f64::from(cfg.q_max()),
            w_lo_range: (f64::from(cfg.w_lo_range().0), f64::from(cfg.w_lo_range().1)),
        })
    }

    /// The mask of a batch of input codes `a` `[N, C, H, W]`: 1.0 where the
    /// pixel's region is sensitive.
    fn mask(&self, a: &Tensor, threshold: u32) -> candle_core::Result<Tensor> {
        let (_, _, h, w) = a.dims4()?;
        let r = self.region;
        let (rh, rw) = (h.div_ceil(r), w.div_ceil(r));
        let padded = a
            .pad_with_zeros(2, 0, rh * r - h)?
            .pad_with_zeros(3, 0, rw * r - w)?;
        let sums = (padded.avg_pool2d(r)? * (r * r) as f64)?;
        // T x (pixels of the region), edge regions cut by the map.
        let mut bound = Vec::with_capacity(rh * rw);
        for i in 0..rh {
            for j in 0..rw {
                let n = (r.min(h - i * r) * r.min(w - j * r)) as f32;
                bound.push(threshold as f32 * n);
            }
        }
        let bound = Tensor::from_vec(bound, (1, 1, rh, rw), a.device())?;
        sums.broadcast_ge(&bound)?
            .to_dtype(DType::F32)?
            .upsample_nearest2d(rh * r, rw * r)?
            .narrow(2, 0, h)?
            .narrow(3, 0, w)
    }

    fn forward(&self, p: &Params, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.clone();
        for (i, s) in p.specs.iter().enumerate() {
            let q = self.layers[i];
            let a = (x.detach() / q.s_in)?.round()?.clamp(0.0, self.a_max)?;
            let mask = self.mask(&a, q.threshold)?;
            let a_lo = (low_value(&a, q.low_shift, (0.0, self.q_max))? * q.s_in)?;
            let x_hi = straight_through(&x, &(a * q.s_in)?)?;
            let x_lo = straight_through(&x, &a_lo)?;
            let w = p.w[i].as_tensor();
            let w_abs_max = w
                .detach()
                .abs()?
                .flatten_all()?
                .max(0)?
                .to_scalar::<f32>()?;
            let s_w = if w_abs_max > 0.0 {
                f64::from(w_abs_max) / self.w_max
            } else {
                1.0
            };
            let wq = (w.detach() / s_w)?
                .round()?
                .clamp(-self.w_max, self.w_max)?;
            let w_lo = (low_value(&wq, q.w_low_shift, self.w_lo_range)? * s_w)?;
            let w_hi = straight_through(w, &(wq * s_w)?)?;
            let w_lo = straight_through(w, &w_lo)?;
            let high = x_hi.broadcast_mul(&mask)?;
            let low = x_lo.broadcast_mul(&(1.0 - &mask)?)?;
            let y = (high.conv2d(&w_hi, s.padding, s.stride, 1, 1)?
                + low.conv2d(&w_lo, s.padding, s.stride, 1, 1)?)?;
            x = bias_relu(p, i, &y)?;
        }
        logits(p, &x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Split;
    use crate::float::{argmax, FLOAT_FILE};
    use crate::quant::{image_map, with_thresholds};
    use drq_golden::network::run_network;

    /// The fine-tuning forward pass computes what the golden model does:
    /// layer 0's mask bit for bit (its input codes are the pixels), every
    /// layer's mask in the same regions for nearly every image, and the
    /// same class for nearly every image (the forward pass rounds floats
    /// where the golden model requantises integers).
    #[test]
    fn drq_forward_agrees_with_the_golden_model() {
        let cfg = AccelConfig::default();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fashion");
        let t = [64, 48, 16, 128];
        let float = FloatModel::load(&dir.join(FLOAT_FILE)).unwrap();
        let fwd = DrqForward::of_model(&dir, &t, 4, &cfg).unwrap();
        let net = with_thresholds(&Network::load(&dir.join("network.json"), &cfg).unwrap(), &t);
        let test = Dataset::load(Split::Test).unwrap();
        let dev = Device::Cpu;
        let p = params_of(&float, &dev).unwrap();
        let n = 200;
        let idx: Vec<usize> = (0..n).collect();
        let (x, _) = batch_tensor(&test, &idx, &dev).unwrap();
        let logits: Vec<Vec<f32>> = fwd.forward(&p, &x).unwrap().to_vec2().unwrap();
        let a = (x / fwd.layers[0].s_in)
            .unwrap()
            .round()
            .unwrap()
            .clamp(0.0, fwd.a_max)
            .unwrap();
        let mask: Vec<f32> = fwd
            .mask(&a, t[0])
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let (mut agree, mut high) = (0, 0);
        for i in 0..n {
            let runs = run_network(&cfg, &net, &image_map(&test.images[i]), None).unwrap();
            for y in 0..28 {
                for x in 0..28 {
                    let golden = runs[0].mask_in.at(0, y / 4, x / 4);
                    assert_eq!(
                        mask[(i * 28 + y) * 28 + x] == 1.0,
                        golden,
                        "image {i} pixel ({y}, {x})"
                    );
                    high += usize::from(golden);
                }
            }
            agree += usize::from(argmax(&logits[i]) == argmax(&runs[3].acc));
        }
        assert!(
            high > 0 && high < n * 28 * 28,
            "T = 64 splits the images' regions"
        );
        assert!(
            agree * 100 >= n * 97,
            "the same class for {agree} of {n} images"
        );
    }
}
