//! Training the float model with candle (CPU), reproducibly from a seed:
//! the initial weights and the shuffling come from a SplitMix64 generator
//! seeded with `seed` (candle's own CPU generator cannot be seeded).

use crate::data::{Dataset, PIXELS};
use crate::float::{FloatLayer, FloatModel, ARCH};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use drq_golden::rng::Rng;

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

/// Initial weights: He-uniform (bound sqrt(6 / fan_in)), zero bias, drawn
/// layer by layer from `Rng::new(seed)`.
pub fn init_model(seed: u64) -> FloatModel {
    let mut rng = Rng::new(seed);
    let layers = ARCH
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
    w: Vec<Var>,
    b: Vec<Var>,
}

fn forward(p: &Params, x: &Tensor) -> candle_core::Result<Tensor> {
    let mut x = x.clone();
    for (i, s) in ARCH.iter().enumerate() {
        x = x.conv2d(p.w[i].as_tensor(), s.padding, s.stride, 1, 1)?;
        x = x.broadcast_add(&p.b[i].as_tensor().reshape((1, s.c_out, 1, 1))?)?;
        if s.relu {
            x = x.relu()?;
        }
    }
    let n = x.dim(0)?;
    x.reshape((n, ARCH[ARCH.len() - 1].c_out))
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

/// Train on `data` with Adam (cross-entropy). `log` gets one line per
/// epoch. Threads: candle's CPU kernels use `RAYON_NUM_THREADS` (the train
/// binary sets it before any work).
pub fn train(
    data: &Dataset,
    opts: &TrainOptions,
    mut log: impl FnMut(&str),
) -> candle_core::Result<FloatModel> {
    let dev = Device::Cpu;
    let init = init_model(opts.seed);
    let mut p = Params {
        w: vec![],
        b: vec![],
    };
    for l in &init.layers {
        let s = l.spec;
        p.w.push(Var::from_tensor(&Tensor::from_vec(
            l.weight.clone(),
            (s.c_out, s.c_in, s.kernel, s.kernel),
            &dev,
        )?)?);
        p.b.push(Var::from_tensor(&Tensor::from_vec(
            l.bias.clone(),
            s.c_out,
            &dev,
        )?)?);
    }
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
    FloatModel::from_params(|i, _| {
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
