//! Accuracy and cycles of the network on a data set under one scheme:
//!
//! * `float`: the float model (f32 direct convolution).
//! * `int8`: the quantised network through the golden model
//!   (`drq_golden::network::run_network`) with every threshold 0.
//! * `int4`: the same with every threshold above the largest code (every
//!   region insensitive: INT4 activations and weights everywhere).
//! * `drq`: the same with the network's own thresholds.
//! * `outlier`: an OLAccel-style accuracy baseline in software (no
//!   cycles): per layer and image the largest fraction f (3 % in the fixed
//!   row) of the input codes stay INT8 and the rest become INT4 (spec §2's
//!   q << s); independently the largest f of the layer's weights by |w|
//!   stay INT8 and the rest become w_lo << sw; acc = bias + sum a_eff w_eff,
//!   requantised as usual. [`match_outlier`] chooses f so that the share of
//!   high-precision multiply-accumulates equals DRQ's.
//!
//! Every scheme but float also gives per-layer integer tallies
//! ([`LayerTally`]): sensitive regions, inputs at high precision,
//! high-precision multiply-accumulates and (golden schemes) the golden
//! model's counters.
//!
//! The classifier (last layer, 1 x 1 output, 10 channels) gives the logits:
//! its int64 accumulators `acc`, argmax (the first on ties) = the class.

use crate::data::{Dataset, PIXELS};
use crate::float::{argmax, FloatModel};
use crate::quant::{conv_acc, image_map, thresholds, with_thresholds};
use drq_arch::AccelConfig;
use drq_golden::golden::{requantize_map, LayerRun};
use drq_golden::layer::Layer;
use drq_golden::network::{run_network, Network};
use drq_golden::numerics::Quantizer;
use drq_golden::schedule::{InputSensitivity, Lowering};
use drq_golden::tensor::{FeatureMap, Mask};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Fraction of activations and of weights kept at INT8 by the fixed
/// `outlier` row.
pub const OUTLIER_FRACTION: f64 = 0.03;
/// [`match_outlier`] stops when the share of high-precision MACs on its
/// search images is within this of the target (absolute, 0.002 = 0.2
/// points of the MACs).
pub const MATCH_TOLERANCE: f64 = 0.002;
/// [`match_outlier`] searches on the first this many evaluated images.
pub const MATCH_IMAGES: usize = 1000;
/// Most fractions [`match_outlier`] tries.
const MATCH_MAX_TRIES: usize = 30;

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

/// Integer tallies of one layer over one image or summed over many (sums
/// of integers: they do not depend on how images are split over threads).
/// Multiply-accumulates (MACs) are defined in `docs/model.md`: the products
/// a_eff w_eff that read a real input (padding excluded); a MAC is
/// high-precision when it is not an INT4 x INT4 product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerTally {
    /// Regions of the input mask, and those sensitive (golden schemes; 0
    /// for outlier).
    pub regions: u64,
    pub regions_sensitive: u64,
    /// Input activations, and those at high precision (in a sensitive
    /// region; outlier: kept at INT8).
    pub inputs: u64,
    pub inputs_high: u64,
    /// MACs, and the high-precision ones.
    pub macs: u64,
    pub macs_high: u64,
    /// The golden model's counters (golden schemes; 0 for outlier).
    pub steps_high: u64,
    pub steps_low: u64,
    pub token_cycles: u64,
    pub cycles_total: u64,
}

impl std::ops::AddAssign for LayerTally {
    fn add_assign(&mut self, o: LayerTally) {
        self.regions += o.regions;
        self.regions_sensitive += o.regions_sensitive;
        self.inputs += o.inputs;
        self.inputs_high += o.inputs_high;
        self.macs += o.macs;
        self.macs_high += o.macs_high;
        self.steps_high += o.steps_high;
        self.steps_low += o.steps_low;
        self.token_cycles += o.token_cycles;
        self.cycles_total += o.cycles_total;
    }
}

/// a / b, 0 when b is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl LayerTally {
    /// Sensitive regions / regions.
    pub fn region_fraction(&self) -> f64 {
        ratio(self.regions_sensitive, self.regions)
    }
    /// Inputs at high precision / inputs.
    pub fn input_fraction(&self) -> f64 {
        ratio(self.inputs_high, self.inputs)
    }
    /// HIGH steps / steps.
    pub fn high_step_fraction(&self) -> f64 {
        ratio(self.steps_high, self.steps_high + self.steps_low)
    }
    /// High-precision MACs / MACs.
    pub fn mac_share(&self) -> f64 {
        ratio(self.macs_high, self.macs)
    }
    /// The sum of `tallies`.
    pub fn sum<'a>(tallies: impl IntoIterator<Item = &'a LayerTally>) -> LayerTally {
        let mut total = LayerTally::default();
        for t in tallies {
            total += *t;
        }
        total
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
    /// Per layer, the tallies summed over the images; empty for float.
    pub layers: Vec<LayerTally>,
    /// High-precision MACs / MACs over every layer and image; None for
    /// float.
    pub high_mac_share: Option<f64>,
    /// The fraction of activations and of weights kept at INT8 (outlier
    /// only).
    pub outlier_fraction: Option<f64>,
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

/// What one image gives: the predicted class and its per-layer tallies.
struct ImageOut {
    class: usize,
    layers: Vec<LayerTally>,
}

/// The network a golden scheme runs (thresholds set for the scheme).
pub fn scheme_network(net: &Network, scheme: Scheme, cfg: &AccelConfig) -> Network {
    let n = net.layers.len();
    match scheme {
        Scheme::Int8 => with_thresholds(net, &vec![0; n]),
        Scheme::Int4 => with_thresholds(net, &vec![cfg.a_max() + 1; n]),
        _ => with_thresholds(net, &thresholds(net)),
    }
}

/// The multiply-accumulates of a layer per input position
/// p = (c * H + y) * W + x: how many read it (C_out for each (output
/// pixel, tap) that reads it; padding reads none), and how many of those
/// have a weight kept at high precision on its own (outlier; none for DRQ,
/// whose weights follow their activation).
#[derive(Debug, Clone)]
pub struct MacReads {
    all: Vec<u64>,
    weight_high: Vec<u64>,
    /// Sum of `all`: the layer's MACs.
    pub macs: u64,
}

impl MacReads {
    /// `weight_high`: per weight (flat `[C_out, C_in, K, K]` index), whether
    /// it is kept at high precision whatever its activation.
    pub fn new(cfg: &AccelConfig, layer: &Layer, weight_high: Option<&[bool]>) -> MacReads {
        let lowering = Lowering::new(cfg, layer);
        let (h, w) = (layer.h as usize, layer.w as usize);
        let (c_out, taps) = (layer.c_out as usize, layer.reduction_len() as usize);
        // Output channels whose weight is high at each tap k.
        let high_per_tap: Vec<u64> = (0..taps)
            .map(|k| {
                weight_high.map_or(0, |wh| {
                    (0..c_out).filter(|&oc| wh[oc * taps + k]).count() as u64
                })
            })
            .collect();
        let n = layer.c_in as usize * h * w;
        let (mut all, mut weight_high) = (vec![0u64; n], vec![0u64; n]);
        for oh in 0..lowering.ho {
            for ow in 0..lowering.wo {
                for (k, &high) in high_per_tap.iter().enumerate() {
                    if let Some((c, y, x)) = lowering.input_of(oh, ow, k as u32) {
                        let p = (c as usize * h + y as usize) * w + x as usize;
                        all[p] += c_out as u64;
                        weight_high[p] += high;
                    }
                }
            }
        }
        let macs = all.iter().sum();
        MacReads {
            all,
            weight_high,
            macs,
        }
    }

    /// (inputs at high precision, high-precision MACs) when the input at
    /// position p is at high precision iff `act_high[p]`: every MAC of a
    /// high input, and the MACs of a low one whose weight is high.
    pub fn tally(&self, act_high: &[bool]) -> (u64, u64) {
        assert_eq!(act_high.len(), self.all.len(), "one flag per input");
        let mut inputs = 0;
        let mut macs = 0;
        for ((&high, &all), &weight) in act_high.iter().zip(&self.all).zip(&self.weight_high) {
            if high {
                inputs += 1;
                macs += all;
            } else {
                macs += weight;
            }
        }
        (inputs, macs)
    }
}

/// [`MacReads`] of every layer of a golden scheme (weights follow their
/// activation).
fn golden_reads(cfg: &AccelConfig, net: &Network) -> Vec<MacReads> {
    net.layers
        .iter()
        .map(|nl| MacReads::new(cfg, &nl.layer, None))
        .collect()
}

/// Per input position (c, y, x), in `[C_in, H, W]` order: whether it lies
/// in a sensitive region of `mask` (the golden model's expansion).
fn sensitive_inputs(cfg: &AccelConfig, layer: &Layer, mask: &Mask) -> Vec<bool> {
    let (c, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
    let sens = InputSensitivity::new(mask, cfg.region as usize, c, h, w);
    let mut out = Vec::with_capacity(c * h * w);
    for ci in 0..c {
        for y in 0..h {
            for x in 0..w {
                out.push(sens.at(ci, y, x));
            }
        }
    }
    out
}

/// The tallies of one golden layer run.
fn golden_tally(cfg: &AccelConfig, layer: &Layer, run: &LayerRun, reads: &MacReads) -> LayerTally {
    let high = sensitive_inputs(cfg, layer, &run.mask_in);
    let (inputs_high, macs_high) = reads.tally(&high);
    let c = &run.counters;
    LayerTally {
        regions: run.mask_in.data.len() as u64,
        regions_sensitive: run.mask_in.data.iter().filter(|&&b| b).count() as u64,
        inputs: high.len() as u64,
        inputs_high,
        macs: reads.macs,
        macs_high,
        steps_high: c.steps_high,
        steps_low: c.steps_low,
        token_cycles: c.token_cycles,
        cycles_total: c.cycles_total,
    }
}

/// One image through the golden model: its class and per-layer tallies.
fn golden_image(
    cfg: &AccelConfig,
    net: &Network,
    reads: &[MacReads],
    image: &[u8; PIXELS],
) -> ImageOut {
    let runs = run_network(cfg, net, &image_map(image), None)
        .expect("the quantised network runs on an image");
    let layers = runs
        .iter()
        .zip(&net.layers)
        .zip(reads)
        .map(|((run, nl), r)| golden_tally(cfg, &nl.layer, run, r))
        .collect();
    ImageOut {
        class: argmax(&runs.last().expect("at least one layer").acc),
        layers,
    }
}

/// ceil(fraction * n), at most n.
pub fn top_count(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).ceil() as usize).min(n)
}

/// Which weights are the largest `top_count(n, fraction)` by |w| (ties
/// broken by the lower index).
pub fn top_weights(w: &[i32], fraction: f64) -> Vec<bool> {
    let keep = top_count(w.len(), fraction);
    let mut order: Vec<usize> = (0..w.len()).collect();
    // Largest |w| first, ties by index: a stable, total order.
    order.sort_by(|&a, &b| w[b].abs().cmp(&w[a].abs()).then(a.cmp(&b)));
    let mut high = vec![false; w.len()];
    for &i in &order[..keep] {
        high[i] = true;
    }
    high
}

/// Which input codes are the largest `top_count(n, fraction)` (ties broken
/// by the lower index): a counting selection over the code values.
pub fn top_codes(x: &[u32], fraction: f64) -> Vec<bool> {
    let keep = top_count(x.len(), fraction);
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

/// The outlier scheme at one fraction: per layer the effective weights
/// (the largest `fraction` by |w| at full precision, the rest w_lo << sw)
/// and the [`MacReads`] with those weights.
struct Outlier {
    fraction: f64,
    w_eff: Vec<Vec<i32>>,
    reads: Vec<MacReads>,
}

impl Outlier {
    fn new(cfg: &AccelConfig, net: &Network, fraction: f64) -> Outlier {
        let (mut w_eff, mut reads) = (Vec::new(), Vec::new());
        for nl in &net.layers {
            let q = Quantizer::new(cfg, nl.layer.low_shift, nl.layer.w_low_shift);
            let high = top_weights(&nl.weights.data, fraction);
            let w = &nl.weights.data;
            w_eff.push(w.iter().zip(&high).map(|(&v, &h)| q.w_eff(v, h)).collect());
            reads.push(MacReads::new(cfg, &nl.layer, Some(&high)));
        }
        Outlier {
            fraction,
            w_eff,
            reads,
        }
    }

    /// One image: its class and per-layer tallies (inputs kept at INT8,
    /// high-precision MACs).
    fn image(&self, cfg: &AccelConfig, net: &Network, input: &FeatureMap) -> ImageOut {
        let mut x = input.clone();
        let mut layers = Vec::with_capacity(net.layers.len());
        let mut logits = Vec::new();
        for ((nl, w), reads) in net.layers.iter().zip(&self.w_eff).zip(&self.reads) {
            let l = &nl.layer;
            let q = Quantizer::new(cfg, l.low_shift, l.w_low_shift);
            let high = top_codes(&x.data, self.fraction);
            let (inputs_high, macs_high) = reads.tally(&high);
            layers.push(LayerTally {
                inputs: high.len() as u64,
                inputs_high,
                macs: reads.macs,
                macs_high,
                ..LayerTally::default()
            });
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
        ImageOut {
            class: argmax(&logits),
            layers,
        }
    }
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

/// Evaluate one scheme on `data` (see the module doc; `outlier` at
/// [`OUTLIER_FRACTION`]). `cfg` is the array of the golden schemes (its
/// `region` is DRQ's region size).
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
        Scheme::Float => par_map(data, progress, |i| ImageOut {
            class: float.predict(&data.images[i]),
            layers: vec![],
        }),
        Scheme::Outlier => return evaluate_outlier(net, data, cfg, OUTLIER_FRACTION, progress),
        Scheme::Int8 | Scheme::Int4 | Scheme::Drq => {
            let snet = scheme_network(net, scheme, cfg);
            let reads = golden_reads(cfg, &snet);
            par_map(data, progress, |i| {
                golden_image(cfg, &snet, &reads, &data.images[i])
            })
        }
    };
    summarize(scheme, &outs, data, None, t0)
}

/// The outlier scheme on `data` with `fraction` of the activations and of
/// the weights kept at INT8.
pub fn evaluate_outlier(
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    fraction: f64,
    progress: Progress,
) -> SchemeResult {
    let t0 = Instant::now();
    let outlier = Outlier::new(cfg, net, fraction);
    let outs = par_map(data, progress, |i| {
        outlier.image(cfg, net, &image_map(&data.images[i]))
    });
    summarize(Scheme::Outlier, &outs, data, Some(fraction), t0)
}

/// A [`SchemeResult`] from every image's output.
fn summarize(
    scheme: Scheme,
    outs: &[ImageOut],
    data: &Dataset,
    outlier_fraction: Option<f64>,
    t0: Instant,
) -> SchemeResult {
    let correct = outs
        .iter()
        .zip(&data.labels)
        .filter(|(o, &l)| o.class == usize::from(l))
        .count();
    let n_layers = outs.first().map_or(0, |o| o.layers.len());
    let layers: Vec<LayerTally> = (0..n_layers)
        .map(|l| LayerTally::sum(outs.iter().map(|o| &o.layers[l])))
        .collect();
    // Every image has the same regions and inputs per layer, so the ratio
    // of the sums is the mean of the per-image fractions.
    let sensitive_fraction_per_layer = layers
        .iter()
        .map(|t| {
            if scheme.has_cycles() {
                t.region_fraction()
            } else {
                t.input_fraction()
            }
        })
        .collect();
    let images = data.len();
    SchemeResult {
        scheme,
        accuracy: 100.0 * correct as f64 / images.max(1) as f64,
        correct,
        images,
        cycles: scheme
            .has_cycles()
            .then(|| layers.iter().map(|t| t.cycles_total).sum()),
        sensitive_fraction_per_layer,
        high_mac_share: (!layers.is_empty()).then(|| LayerTally::sum(&layers).mac_share()),
        layers,
        outlier_fraction,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// The outlier scheme at the fraction matched to a target share of
/// high-precision MACs ([`match_outlier`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedOutlier {
    /// The outlier scheme at the matched fraction on every evaluated image.
    pub result: SchemeResult,
    /// The share it was matched to (DRQ's on the same images).
    pub target_share: f64,
    /// Images the search ran on: the first of the evaluated ones.
    pub search_images: usize,
    /// The search's tolerance on the share ([`MATCH_TOLERANCE`]).
    pub tolerance: f64,
    /// Every (fraction, share on the search images) tried, in order.
    pub tried: Vec<(f64, f64)>,
}

/// The outlier fraction f in [0, 1] whose share of high-precision MACs
/// equals `target_share` (DRQ's, from the same images): a bracketing
/// search (modified regula falsi, the Illinois method) from f = 0 (share 0)
/// and f = 1 (share 1) on the first `search_images` of `data` (`drq eval`:
/// [`MATCH_IMAGES`]), stopping when the share is within
/// [`MATCH_TOLERANCE`]; the fraction whose share came closest is then
/// evaluated on all of `data`. `log` gets one line per fraction tried.
pub fn match_outlier(
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    target_share: f64,
    search_images: usize,
    log: &dyn Fn(&str),
) -> MatchedOutlier {
    let search = data.take(search_images.max(1));
    let quiet = |_: usize, _: usize| {};
    let mut results: Vec<SchemeResult> = Vec::new();
    let tried = find_fraction(target_share, MATCH_TOLERANCE, |f| {
        let r = evaluate_outlier(net, &search, cfg, f, &quiet);
        let share = r.high_mac_share.unwrap_or(0.0);
        log(&format!(
            "fraction {:.5}: high-precision MAC share {share:.5} (target {target_share:.5}), top-1 {:.2} %",
            f, r.accuracy
        ));
        results.push(r);
        share
    });
    let best = closest(&tried, target_share);
    let result = if search.len() == data.len() {
        results.swap_remove(best)
    } else {
        evaluate_outlier(net, data, cfg, tried[best].0, &quiet)
    };
    MatchedOutlier {
        result,
        target_share,
        search_images: search.len(),
        tolerance: MATCH_TOLERANCE,
        tried,
    }
}

impl MatchedOutlier {
    /// The share on the search images of the fraction chosen.
    pub fn search_share(&self) -> f64 {
        self.tried[closest(&self.tried, self.target_share)].1
    }
}

/// Index of the (fraction, share) whose share is nearest `target` (the
/// first on ties).
fn closest(tried: &[(f64, f64)], target: f64) -> usize {
    (0..tried.len())
        .min_by(|&a, &b| {
            (tried[a].1 - target)
                .abs()
                .total_cmp(&(tried[b].1 - target).abs())
        })
        .expect("at least one fraction tried")
}

/// The Illinois method on g(f) = share(f) - target over [0, 1], taking
/// share(0) = 0 and share(1) = 1 (not evaluated): every (f, share(f))
/// tried, the last within `tol` unless [`MATCH_MAX_TRIES`] ran out or the
/// bracket closed.
fn find_fraction(target: f64, tol: f64, mut share: impl FnMut(f64) -> f64) -> Vec<(f64, f64)> {
    let (mut a, mut ga, mut b, mut gb) = (0.0f64, -target, 1.0f64, 1.0 - target);
    let mut side = 0i8;
    let mut tried = Vec::new();
    while tried.len() < MATCH_MAX_TRIES {
        let f = if gb == ga {
            (a + b) / 2.0
        } else {
            (a * gb - b * ga) / (gb - ga)
        };
        let s = share(f);
        tried.push((f, s));
        let g = s - target;
        if g.abs() <= tol || b - a < 1e-9 {
            break;
        }
        if (g > 0.0) == (gb > 0.0) {
            (b, gb) = (f, g);
            if side == -1 {
                ga /= 2.0;
            }
            side = -1;
        } else {
            (a, ga) = (f, g);
            if side == 1 {
                gb /= 2.0;
            }
            side = 1;
        }
    }
    tried
}

/// DRQ with every threshold of the network scaled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaledDrq {
    pub scale: f64,
    /// The thresholds run ([`scaled_thresholds`]).
    pub thresholds: Vec<u32>,
    pub result: SchemeResult,
}

/// DRQ of another model folder on the same machine and test images: one
/// step of an ablation (`drq eval --compare LABEL=DIR`).
#[derive(Debug, Clone)]
pub struct ComparedDrq {
    pub label: String,
    /// The model folder, as given.
    pub model: String,
    /// Its network's thresholds.
    pub thresholds: Vec<u32>,
    /// Its uniform INT8 (the same array: its speedup is measured against
    /// these cycles).
    pub int8: SchemeResult,
    pub result: SchemeResult,
}

impl ComparedDrq {
    /// INT8 cycles / DRQ cycles of this model.
    pub fn speedup(&self) -> Option<f64> {
        speedup_over(&self.int8, &self.result)
    }
}

/// `base`'s cycles / `r`'s cycles, when both have cycles (and `r` some).
pub fn speedup_over(base: &SchemeResult, r: &SchemeResult) -> Option<f64> {
    match (base.cycles, r.cycles) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    }
}

/// Every threshold T of `net` as round(T scale), at most a_max + 1 (every
/// region insensitive); T = 0 stays 0.
pub fn scaled_thresholds(net: &Network, scale: f64, cfg: &AccelConfig) -> Vec<u32> {
    let top = f64::from(cfg.a_max() + 1);
    thresholds(net)
        .iter()
        .map(|&t| (f64::from(t) * scale).round().clamp(0.0, top) as u32)
        .collect()
}

/// The drq scheme with [`scaled_thresholds`] (the network's shifts).
pub fn evaluate_scaled(
    net: &Network,
    float: &FloatModel,
    data: &Dataset,
    cfg: &AccelConfig,
    scale: f64,
    progress: Progress,
) -> ScaledDrq {
    let thresholds = scaled_thresholds(net, scale, cfg);
    let scaled = with_thresholds(net, &thresholds);
    ScaledDrq {
        scale,
        result: evaluate(&scaled, float, data, Scheme::Drq, cfg, progress),
        thresholds,
    }
}

/// One layer's figures in the report: the fractions of [`LayerTally`],
/// the counters per image (mean over `images`), and the raw tallies.
pub fn layer_json(t: &LayerTally, images: usize) -> serde_json::Value {
    let per_image = |v: u64| v as f64 / images.max(1) as f64;
    serde_json::json!({
        "regions_sensitive": t.region_fraction(),
        "inputs_high": t.input_fraction(),
        "high_mac_share": t.mac_share(),
        "high_steps": t.high_step_fraction(),
        "steps_high_per_image": per_image(t.steps_high),
        "steps_low_per_image": per_image(t.steps_low),
        "token_cycles_per_image": per_image(t.token_cycles),
        "cycles_total_per_image": per_image(t.cycles_total),
        "totals": t,
    })
}

/// One scheme's entry of the report: `accuracy`, `cycles` (null for float
/// and outlier), `correct`, `images`, `seconds`,
/// `sensitive_fraction_per_layer`, `high_mac_share` (null for float),
/// `outlier_fraction` (outlier only) and `per_layer` ([`layer_json`]).
pub fn scheme_json(r: &SchemeResult) -> serde_json::Value {
    let per_layer: Vec<_> = r.layers.iter().map(|t| layer_json(t, r.images)).collect();
    let mut v = serde_json::json!({
        "accuracy": r.accuracy,
        "cycles": r.cycles,
        "correct": r.correct,
        "images": r.images,
        "seconds": r.seconds,
        "sensitive_fraction_per_layer": r.sensitive_fraction_per_layer,
        "high_mac_share": r.high_mac_share,
        "per_layer": per_layer,
    });
    if let Some(f) = r.outlier_fraction {
        v["outlier_fraction"] = f.into();
    }
    v
}

/// `{ "float": {...}, "int8": {...}, "int4": {...}, "drq": {...},
/// "outlier": {...}, "drq_speedup": int8 cycles / drq cycles (null
/// without both), "region": R, "images": N }`; each scheme's entry is
/// [`scheme_json`]. Schemes not in `results` are left out.
pub fn report_json(results: &[SchemeResult], region: u32) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for r in results {
        m.insert(r.scheme.name().into(), scheme_json(r));
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
        let h = top_codes(&x, OUTLIER_FRACTION);
        assert_eq!(h.iter().filter(|&&b| b).count(), 3);
        assert!(h[97] && h[98] && h[99]);
        // Ties: 10 values equal to 5 among zeros, 34 elements -> keep 2,
        // the first two 5s.
        let mut x = vec![0u32; 34];
        for i in [3, 7, 9, 20] {
            x[i] = 5;
        }
        let h = top_codes(&x, OUTLIER_FRACTION);
        let kept: Vec<usize> = (0..34).filter(|&i| h[i]).collect();
        assert_eq!(kept, vec![3, 7]);
        // All zeros: still ceil(3 %) kept (they are equal either way).
        assert_eq!(
            top_codes(&[0; 10], OUTLIER_FRACTION)
                .iter()
                .filter(|&&b| b)
                .count(),
            1
        );
        assert!(top_codes(&[], OUTLIER_FRACTION).is_empty());
    }

    #[test]
    fn find_fraction_brackets_a_step_function() {
        // Like the outlier share: activations or weights kept, in steps.
        let share = |f: f64| {
            let k = (f * 500.0).ceil().min(500.0) / 500.0;
            1.0 - (1.0 - k) * (1.0 - k)
        };
        for target in [0.05, 0.3137, 0.77] {
            let tried = find_fraction(target, 0.002, share);
            let (f, s) = *tried.last().unwrap();
            assert!((s - target).abs() <= 0.002, "{target}: {tried:?}");
            assert!((0.0..=1.0).contains(&f) && s == share(f));
            assert!(
                tried.len() < MATCH_MAX_TRIES,
                "{target}: {} tries",
                tried.len()
            );
            assert_eq!(tried[closest(&tried, target)], (f, s));
        }
        // The ends: nothing kept, everything kept.
        assert_eq!(find_fraction(0.0, 0.002, share), vec![(0.0, 0.0)]);
        assert_eq!(find_fraction(1.0, 0.002, share), vec![(1.0, 1.0)]);
    }

    #[test]
    fn mac_reads_count_like_a_direct_loop() {
        use drq_golden::layer::RawLayer;
        let cfg = AccelConfig::default();
        let layer = Layer::from_raw(&RawLayer::conv(2, 3, (5, 6), 3, 2, 1, (2, 2))).unwrap();
        layer.check(&cfg).unwrap();
        let (c_in, c_out, h, w, k) = (2usize, 3usize, 5usize, 6usize, 3usize);
        let w_high: Vec<bool> = (0..c_out * c_in * k * k).map(|i| i % 7 == 3).collect();
        let a_high: Vec<bool> = (0..c_in * h * w).map(|i| i % 5 == 1).collect();
        let (mut macs, mut high) = (0u64, 0u64);
        for oc in 0..c_out {
            for oh in 0..layer.ho() as usize {
                for ow in 0..layer.wo() as usize {
                    for c in 0..c_in {
                        for ki in 0..k {
                            for kj in 0..k {
                                let (y, x) =
                                    ((oh * 2 + ki) as isize - 1, (ow * 2 + kj) as isize - 1);
                                if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                                    continue;
                                }
                                macs += 1;
                                let p = (c * h + y as usize) * w + x as usize;
                                let wi = ((oc * c_in + c) * k + ki) * k + kj;
                                high += u64::from(a_high[p] || w_high[wi]);
                            }
                        }
                    }
                }
            }
        }
        let reads = MacReads::new(&cfg, &layer, Some(&w_high));
        assert_eq!(reads.macs, macs);
        let inputs = a_high.iter().filter(|&&b| b).count() as u64;
        assert_eq!(reads.tally(&a_high), (inputs, high));
        // Without weight outliers (DRQ), all-high inputs make every MAC high.
        let drq = MacReads::new(&cfg, &layer, None);
        assert_eq!(drq.tally(&vec![true; a_high.len()]).1, macs);
        assert_eq!(drq.tally(&vec![false; a_high.len()]).1, 0);
    }

    #[test]
    fn scheme_names_parse() {
        for s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>().unwrap(), s);
        }
        assert!("int2".parse::<Scheme>().unwrap_err().contains("int8"));
    }
}
