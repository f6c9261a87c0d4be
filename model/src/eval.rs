//! Accuracy and cycles of the network on a data set under one scheme:
//!
//! * `float`: the float model (f32 direct convolution).
//! * `int8`: the quantised network through the golden model
//!   (`drq_golden::network::run_network`) with every threshold 0.
//! * `int4`: the same with every threshold above the largest code (every
//!   region insensitive: INT4 activations and weights everywhere).
//! * `drq`: the same with the network's own thresholds.
//! * `outlier`: an OLAccel-style accuracy baseline in software (no
//!   cycles): per layer and image the largest 3 % of the input codes stay
//!   INT8 and the rest become INT4 (spec §2's q << s); independently the
//!   largest 3 % of the layer's weights by |w| stay INT8 and the rest
//!   become w_lo << sw; acc = bias + sum a_eff w_eff, requantised as usual.
//!
//! The classifier (last layer, 1 x 1 output, 10 channels) gives the logits:
//! its int64 accumulators `acc`, argmax (the first on ties) = the class.

use crate::data::Dataset;
use crate::float::{argmax, FloatModel};
use crate::quant::{conv_acc, image_map, thresholds, with_thresholds};
use drq_arch::AccelConfig;
use drq_golden::golden::requantize_map;
use drq_golden::network::{run_network, Network};
use drq_golden::numerics::Quantizer;
use drq_golden::tensor::FeatureMap;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Fraction of activations and of weights kept at INT8 by `outlier`.
pub const OUTLIER_FRACTION: f64 = 0.03;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Float,
    Int8,
    Int4,
    Drq,
    Outlier,
}

impl Scheme {
    pub const ALL: [Scheme; 5] = [
        Scheme::Float,
        Scheme::Int8,
        Scheme::Int4,
        Scheme::Drq,
        Scheme::Outlier,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Float => "float",
            Scheme::Int8 => "int8",
            Scheme::Int4 => "int4",
            Scheme::Drq => "drq",
            Scheme::Outlier => "outlier",
        }
    }
    /// Runs on the golden model (and so has cycles).
    pub fn has_cycles(self) -> bool {
        matches!(self, Scheme::Int8 | Scheme::Int4 | Scheme::Drq)
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Scheme, String> {
        Scheme::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| format!("unknown scheme {s:?} (float, int8, int4, drq, outlier)"))
    }
}

/// The outcome of one scheme on a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemeResult {
    pub scheme: Scheme,
    /// Top-1 accuracy in percent.
    pub accuracy: f64,
    pub correct: usize,
    pub images: usize,
    /// Sum of every layer's `cycles_total` over the images (golden schemes).
    pub cycles: Option<u64>,
    /// Per layer, the mean over images of the fraction of the layer's input
    /// at high precision: sensitive regions (golden schemes), activations
    /// kept at INT8 (outlier); empty for float.
    pub sensitive_fraction_per_layer: Vec<f64>,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

/// Progress callback: (images done, images in all).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// A progress callback that prints `scheme: done/total` to stderr every
/// 500 images and at the end.
pub fn eprint_progress(scheme: Scheme) -> impl Fn(usize, usize) + Sync {
    move |done, total| {
        if done % 500 == 0 || done == total {
            eprintln!("{}: {done}/{total}", scheme.name());
        }
    }
}

/// What one image gives: the predicted class, cycles, per-layer fractions.
type ImageOut = (usize, u64, Vec<f64>);

/// The network a golden scheme runs (thresholds set for the scheme).
pub fn scheme_network(net: &Network, scheme: Scheme, cfg: &AccelConfig) -> Network {
    let n = net.layers.len();
    match scheme {
        Scheme::Int8 => with_thresholds(net, &vec![0; n]),
        Scheme::Int4 => with_thresholds(net, &vec![cfg.a_max() + 1; n]),
        _ => with_thresholds(net, &thresholds(net)),
    }
}

/// Weights of the outlier scheme per layer: w_eff (the largest
/// `OUTLIER_FRACTION` by |w| at full precision, the rest w_lo << sw).
pub fn outlier_weights(cfg: &AccelConfig, net: &Network) -> Vec<Vec<i32>> {
    net.layers
        .iter()
        .map(|nl| {
            let q = Quantizer::new(cfg, nl.layer.low_shift, nl.layer.w_low_shift);
            let w = &nl.weights.data;
            let keep = top_count(w.len());
            let mut order: Vec<usize> = (0..w.len()).collect();
            // Largest |w| first, ties by index: a stable, total order.
            order.sort_by(|&a, &b| w[b].abs().cmp(&w[a].abs()).then(a.cmp(&b)));
            let mut high = vec![false; w.len()];
            for &i in &order[..keep] {
                high[i] = true;
            }
            w.iter().zip(&high).map(|(&v, &h)| q.w_eff(v, h)).collect()
        })
        .collect()
}

/// ceil(OUTLIER_FRACTION * n).
pub fn top_count(n: usize) -> usize {
    ((OUTLIER_FRACTION * n as f64).ceil() as usize).min(n)
}

/// Which input codes are the largest `top_count(n)` (ties broken by the
/// lower index): a counting selection over the code values.
pub fn top_codes(x: &[u32]) -> Vec<bool> {
    let keep = top_count(x.len());
    let max = x.iter().copied().max().unwrap_or(0) as usize;
    let mut count = vec![0usize; max + 1];
    for &v in x {
        count[v as usize] += 1;
    }
    // v*: the smallest value whose "at least v*" count reaches keep.
    let (mut above, mut vstar) = (0usize, 0usize);
    for v in (0..=max).rev() {
        if above + count[v] >= keep {
            vstar = v;
            break;
        }
        above += count[v];
    }
    let mut ties = keep - above;
    x.iter()
        .map(|&v| {
            let v = v as usize;
            if v > vstar {
                true
            } else if v == vstar && ties > 0 {
                ties -= 1;
                true
            } else {
                false
            }
        })
        .collect()
}

/// The outlier scheme on one image: (predicted class, per-layer fraction
/// of activations at INT8).
pub fn outlier_image(
    cfg: &AccelConfig,
    net: &Network,
    w_eff: &[Vec<i32>],
    input: &FeatureMap,
) -> (usize, Vec<f64>) {
    let mut x = input.clone();
    let mut fractions = Vec::with_capacity(net.layers.len());
    let mut logits = Vec::new();
    for (nl, w) in net.layers.iter().zip(w_eff) {
        let l = &nl.layer;
        let q = Quantizer::new(cfg, l.low_shift, l.w_low_shift);
        let high = top_codes(&x.data);
        fractions.push(high.iter().filter(|&&h| h).count() as f64 / high.len() as f64);
        let a: Vec<i32> = x
            .data
            .iter()
            .zip(&high)
            .map(|(&v, &h)| q.a_eff(v, h) as i32)
            .collect();
        let acc = conv_acc(l, &a, w, &nl.bias, cfg.acc_bits);
        x = requantize_map(cfg, l, &acc);
        logits = acc;
    }
    (argmax(&logits), fractions)
}

/// Threads for the evaluation: `DRQ_THREADS` if set, else every core.
pub fn threads() -> usize {
    std::env::var("DRQ_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Run `f` over every image on [`threads`] threads (contiguous chunks),
/// results in image order.
fn par_map<F>(data: &Dataset, progress: Progress, f: F) -> Vec<ImageOut>
where
    F: Fn(usize) -> ImageOut + Sync,
{
    let n = data.len();
    let t = threads().min(n.max(1));
    let chunk = n.div_ceil(t).max(1);
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let (f, done) = (&f, &done);
                s.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|i| {
                            let r = f(i);
                            progress(done.fetch_add(1, Ordering::Relaxed) + 1, n);
                            r
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("evaluation thread"))
            .collect()
    })
}

/// Evaluate one scheme on `data` (see the module doc). `cfg` is the array
/// of the golden schemes (its `region` is DRQ's region size).
pub fn evaluate(
    net: &Network,
    float: &FloatModel,
    data: &Dataset,
    scheme: Scheme,
    cfg: &AccelConfig,
    progress: Progress,
) -> SchemeResult {
    let t0 = Instant::now();
    let outs = match scheme {
        Scheme::Float => par_map(data, progress, |i| {
            (float.predict(&data.images[i]), 0, vec![])
        }),
        Scheme::Outlier => {
            let w_eff = outlier_weights(cfg, net);
            par_map(data, progress, |i| {
                let (p, f) = outlier_image(cfg, net, &w_eff, &image_map(&data.images[i]));
                (p, 0, f)
            })
        }
        Scheme::Int8 | Scheme::Int4 | Scheme::Drq => {
            let snet = scheme_network(net, scheme, cfg);
            par_map(data, progress, |i| {
                let runs = run_network(cfg, &snet, &image_map(&data.images[i]), None)
                    .expect("the quantised network runs on an image");
                let logits = &runs.last().expect("at least one layer").acc;
                (
                    argmax(logits),
                    runs.iter().map(|r| r.counters.cycles_total).sum(),
                    runs.iter()
                        .map(|r| r.mask_in.sensitive_fraction())
                        .collect(),
                )
            })
        }
    };
    let correct = outs
        .iter()
        .zip(&data.labels)
        .filter(|((p, _, _), &l)| *p == usize::from(l))
        .count();
    let layers = outs.first().map_or(0, |o| o.2.len());
    let mut frac = vec![0f64; layers];
    for o in &outs {
        for (a, b) in frac.iter_mut().zip(&o.2) {
            *a += b;
        }
    }
    let images = data.len();
    frac.iter_mut().for_each(|v| *v /= images.max(1) as f64);
    SchemeResult {
        scheme,
        accuracy: 100.0 * correct as f64 / images.max(1) as f64,
        correct,
        images,
        cycles: scheme.has_cycles().then(|| outs.iter().map(|o| o.1).sum()),
        sensitive_fraction_per_layer: frac,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// `{ "float": {...}, "int8": {...}, "int4": {...}, "drq": {...},
/// "outlier": {...}, "drq_speedup": int8 cycles / drq cycles (null
/// without both), "region": R, "images": N }`; each scheme's entry has
/// `accuracy`, `cycles` (null for float and outlier), `correct`, `images`,
/// `seconds` and `sensitive_fraction_per_layer`. Schemes not in `results`
/// are left out.
pub fn report_json(results: &[SchemeResult], region: u32) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for r in results {
        m.insert(
            r.scheme.name().into(),
            serde_json::json!({
                "accuracy": r.accuracy,
                "cycles": r.cycles,
                "correct": r.correct,
                "images": r.images,
                "seconds": r.seconds,
                "sensitive_fraction_per_layer": r.sensitive_fraction_per_layer,
            }),
        );
    }
    let cycles = |s: Scheme| {
        results
            .iter()
            .find(|r| r.scheme == s)
            .and_then(|r| r.cycles)
    };
    let speedup = match (cycles(Scheme::Int8), cycles(Scheme::Drq)) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    };
    m.insert("drq_speedup".into(), serde_json::json!(speedup));
    m.insert("region".into(), region.into());
    m.insert(
        "images".into(),
        results.first().map_or(0, |r| r.images).into(),
    );
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_codes_keeps_ceil_three_percent_ties_by_index() {
        // 100 values: 0..100; the top 3 are 99, 98, 97.
        let x: Vec<u32> = (0..100).collect();
        let h = top_codes(&x);
        assert_eq!(h.iter().filter(|&&b| b).count(), 3);
        assert!(h[97] && h[98] && h[99]);
        // Ties: 10 values equal to 5 among zeros, 34 elements -> keep 2,
        // the first two 5s.
        let mut x = vec![0u32; 34];
        for i in [3, 7, 9, 20] {
            x[i] = 5;
        }
        let h = top_codes(&x);
        let kept: Vec<usize> = (0..34).filter(|&i| h[i]).collect();
        assert_eq!(kept, vec![3, 7]);
        // All zeros: still ceil(3 %) kept (they are equal either way).
        assert_eq!(top_codes(&[0; 10]).iter().filter(|&&b| b).count(), 1);
        assert!(top_codes(&[]).is_empty());
    }

    #[test]
    fn scheme_names_parse() {
        for s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>().unwrap(), s);
        }
        assert!("int2".parse::<Scheme>().unwrap_err().contains("int8"));
    }
}
