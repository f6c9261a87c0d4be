//! Calibration of DRQ's per-layer choices: the threshold T and the low
//! shifts s (activations) and sw (weights) of every layer, chosen on a
//! held-out data set (the calibration split) to make the network as fast as
//! possible while its top-1 accuracy stays within a budget (percentage
//! points) of uniform INT8 on the same images.
//!
//! Greedy search ([`calibrate`]): start with every layer at T = 0 (INT8).
//! Each round tries, for every layer (but layer 0 when `keep_first_int8`),
//! its next one or two threshold candidates above the current one, each
//! with every (s, sw) pair; a candidate is scored by the golden model
//! (accuracy, and cycles summed over layers and images, exactly as
//! [`crate::eval::evaluate`] with `Scheme::Drq` on [`apply`]'s network).
//! The move with the largest cycle reduction whose accuracy loss against
//! INT8 stays within the budget is accepted (ties: higher accuracy, then
//! lower layer, lower T, earlier shift pair); the search stops when no move
//! fits. Cycles never increase, so the result is never slower than INT8.
//!
//! Speed: a layer's output and cycles depend only on its input, its own T,
//! s, sw, and (for the predictor phase) whether it has a successor. The
//! search keeps, per image, every layer's input and cycles under the
//! current choices, and a candidate at layer L reruns only layers L.. from
//! the cached input of layer L. Images are split over
//! [`crate::eval::threads`] threads in contiguous chunks; sums are integers,
//! so the result does not depend on the thread count.

use crate::data::Dataset;
use crate::float::argmax;
use crate::quant::image_map;
use anyhow::{bail, Context};
use drq_arch::AccelConfig;
use drq_golden::golden::{run_layer, LayerData};
use drq_golden::layer::Layer;
use drq_golden::network::Network;
use drq_golden::predictor::predict_mask;
use drq_golden::tensor::FeatureMap;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The default threshold candidates (a_max + 1 = 256 is added for A_HI = 8
/// by [`CalibrateOptions::default`]; [`calibrate`] always adds 0 and
/// `cfg.a_max() + 1`).
pub const DEFAULT_THRESHOLDS: [u32; 12] = [0, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192];
/// The default (s, sw) candidates.
pub const DEFAULT_SHIFTS: [(u32, u32); 4] = [(4, 4), (3, 4), (4, 3), (3, 3)];

/// What [`calibrate`] searches and under which budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrateOptions {
    /// Largest accepted top-1 loss against uniform INT8 on the calibration
    /// data, in percentage points (1.0 = one point: 89.5 % -> 88.5 %).
    pub budget_pp: f64,
    /// Keep layer 0 at T = 0 (INT8), as the paper does.
    pub keep_first_int8: bool,
    /// Threshold candidates (sorted and deduplicated by [`calibrate`]; 0 and
    /// a_max + 1, everything insensitive, are always included).
    pub thresholds: Vec<u32>,
    /// (s, sw) candidates, tried in this order.
    pub shifts: Vec<(u32, u32)>,
    /// After the greedy search, search pairs of layers jointly: one layer's
    /// T one candidate up while another's goes one down (with their
    /// current shifts), the move with the fewest cycles within the budget,
    /// until none fits (`drq calibrate --joint`).
    pub joint: bool,
    /// Images of the calibration data a reference network's uniform INT8
    /// gets right (a fine-tuned network's budget is measured against the
    /// network it was fine-tuned from): the budget counts from the larger
    /// of this and the calibrated network's own INT8.
    pub reference_int8_correct: Option<usize>,
    /// Start from the network's own thresholds (added to the candidates)
    /// instead of T = 0 everywhere: a network fine-tuned for its thresholds
    /// (`drq calibrate --from-network`).
    pub start_from_network: bool,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        let mut thresholds = DEFAULT_THRESHOLDS.to_vec();
        thresholds.push(256);
        CalibrateOptions {
            budget_pp: 1.0,
            keep_first_int8: true,
            thresholds,
            shifts: DEFAULT_SHIFTS.to_vec(),
            joint: false,
            reference_int8_correct: None,
            start_from_network: false,
        }
    }
}

/// One layer's calibrated values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerChoice {
    pub threshold: u32,
    pub low_shift: u32,
    pub w_low_shift: u32,
}

/// One accepted move of the greedy search, with the network's accuracy and
/// cycles on the calibration data after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    pub round: usize,
    pub layer: usize,
    pub from_threshold: u32,
    pub threshold: u32,
    pub low_shift: u32,
    pub w_low_shift: u32,
    /// Top-1 in percent after the move.
    pub accuracy: f64,
    pub cycles: u64,
    /// INT8 cycles / cycles.
    pub speedup: f64,
}

/// The outcome of [`calibrate`] (all figures on the calibration data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Per layer: T, s, sw.
    pub layers: Vec<LayerChoice>,
    pub budget_pp: f64,
    pub keep_first_int8: bool,
    /// The joint phase ran ([`CalibrateOptions::joint`]).
    #[serde(default)]
    pub joint: bool,
    /// The reference network's INT8 correct count, when given.
    #[serde(default)]
    pub reference_int8_correct: Option<usize>,
    pub images: usize,
    pub region: u32,
    pub int8_correct: usize,
    /// Top-1 of uniform INT8 in percent.
    pub int8_accuracy: f64,
    pub int8_cycles: u64,
    pub correct: usize,
    /// Top-1 of the calibrated network in percent.
    pub accuracy: f64,
    pub cycles: u64,
    /// int8_cycles / cycles.
    pub speedup: f64,
    /// The accepted moves in order.
    pub moves: Vec<Move>,
    /// Candidates scored.
    pub evaluations: usize,
    pub seconds: f64,
}

impl Calibration {
    pub fn thresholds(&self) -> Vec<u32> {
        self.layers.iter().map(|l| l.threshold).collect()
    }

    /// accuracy loss against INT8 in percentage points (negative: a gain).
    pub fn loss_pp(&self) -> f64 {
        self.int8_accuracy - self.accuracy
    }

    /// A few lines for the console: the chosen values, accuracy, speedup,
    /// and whether layer 0 was kept at INT8.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "calibration on {} images, budget {} pp, R = {}: {} moves, {} candidates, {:.1} s\n",
            self.images,
            self.budget_pp,
            self.region,
            self.moves.len(),
            self.evaluations,
            self.seconds
        );
        for (i, l) in self.layers.iter().enumerate() {
            let note = if i == 0 && self.keep_first_int8 {
                " (kept at INT8, as in the paper)"
            } else if l.threshold == 0 {
                " (INT8)"
            } else {
                ""
            };
            s += &format!(
                "  layer {i}: T = {}, s = {}, sw = {}{note}\n",
                l.threshold, l.low_shift, l.w_low_shift
            );
        }
        s += &format!(
            "  int8: top-1 {:.2} %, {} cycles; calibrated: top-1 {:.2} % (loss {:.2} pp), {} cycles, speedup {:.3}\n",
            self.int8_accuracy,
            self.int8_cycles,
            self.accuracy,
            self.loss_pp(),
            self.cycles,
            self.speedup
        );
        if self.keep_first_int8 {
            s += "  the first layer stays at INT8 (T = 0): the paper keeps it at high precision\n";
        }
        s
    }
}

/// The network with the calibrated T, s, sw of every layer; the chaining
/// (layer L's next_threshold = layer L+1's T) is rebuilt by `Network::new`.
/// The last layer keeps its own next_threshold.
pub fn apply(net: &Network, cal: &Calibration) -> Network {
    with_choices(net, &cal.layers, false)
}

/// `net` with `choices`; `last_none`: the last layer's next_threshold
/// becomes None (as `quant::with_thresholds` does, the networks
/// `eval::evaluate` runs).
fn with_choices(net: &Network, choices: &[LayerChoice], last_none: bool) -> Network {
    assert_eq!(choices.len(), net.layers.len(), "one choice per layer");
    let n = choices.len();
    let layers = net
        .layers
        .iter()
        .zip(choices)
        .enumerate()
        .map(|(i, (nl, c))| {
            let mut nl = nl.clone();
            nl.layer.threshold = c.threshold;
            nl.layer.low_shift = c.low_shift;
            nl.layer.w_low_shift = c.w_low_shift;
            nl.layer.next_threshold = if i + 1 < n {
                Some(choices[i + 1].threshold)
            } else if last_none {
                None
            } else {
                nl.layer.next_threshold
            };
            nl
        })
        .collect();
    Network::new(layers).expect("calibrated values keep the network chained")
}

/// Per image: every layer's input and cycles under the current choices.
#[derive(Clone)]
struct ImageCache {
    inputs: Vec<FeatureMap>,
    cycles: Vec<u64>,
}

/// Layer `l` of `net` with `choices` (the networks `evaluate` runs: the
/// last layer has no next_threshold).
/// Every layer of `net` with its choice ([`layer_of`]).
fn layers_of(net: &Network, choices: &[LayerChoice]) -> Vec<Layer> {
    (0..choices.len())
        .map(|l| layer_of(net, choices, l))
        .collect()
}

fn layer_of(net: &Network, choices: &[LayerChoice], l: usize) -> Layer {
    let mut layer = net.layers[l].layer;
    let c = choices[l];
    layer.threshold = c.threshold;
    layer.low_shift = c.low_shift;
    layer.w_low_shift = c.w_low_shift;
    layer.next_threshold = choices.get(l + 1).map(|c| c.threshold);
    layer
}

/// Run layers `from..` on the input of layer `from`: (predicted class, per
/// layer (input, cycles) from `from` on). Layer 0's mask is predicted by
/// the accelerator (no mask given: the predict_in phase is paid); a later
/// layer's mask is predicted from its input with its T, as its
/// predecessor's mask_out.
fn run_tail(
    cfg: &AccelConfig,
    net: &Network,
    layers: &[Layer],
    from: usize,
    x: &FeatureMap,
    keep: bool,
) -> (usize, Vec<(Option<FeatureMap>, u64)>) {
    let region = cfg.region as usize;
    let mut x = x.clone();
    let mut out = Vec::with_capacity(layers.len() - from);
    for l in from..layers.len() {
        let layer = &layers[l];
        let mask = (l > 0).then(|| predict_mask(&x, region, layer.threshold));
        let data = LayerData {
            input: x,
            weights: net.layers[l].weights.clone(),
            bias: net.layers[l].bias.clone(),
            mask,
        };
        let run = run_layer(cfg, layer, &data).expect("the quantised network runs on an image");
        let input = data.input;
        out.push((keep.then_some(input), run.counters.cycles_total));
        if l + 1 == layers.len() {
            return (argmax(&run.acc), out);
        }
        x = run.y;
    }
    unreachable!("at least one layer")
}

/// Contiguous chunks of 0..n, one per thread.
fn chunks(n: usize) -> Vec<(usize, usize)> {
    let t = crate::eval::threads().min(n.max(1));
    let size = n.div_ceil(t).max(1);
    (0..n)
        .step_by(size)
        .map(|s| (s, (s + size).min(n)))
        .collect()
}

/// (correct, cycles) of the network with `choices` when layer `from` and
/// the later ones are rerun from the cache (the earlier layers' cycles are
/// the cache's).
fn score(
    cfg: &AccelConfig,
    net: &Network,
    data: &Dataset,
    cache: &[ImageCache],
    choices: &[LayerChoice],
    from: usize,
) -> (usize, u64) {
    let layers = layers_of(net, choices);
    let layers = &layers;
    sum_in_threads(chunks(data.len()).into_iter(), |(a, b)| {
        let (mut correct, mut cycles) = (0usize, 0u64);
        #[allow(clippy::needless_range_loop)]
        for i in a..b {
            let c = &cache[i];
            let (p, tail) = run_tail(cfg, net, layers, from, &c.inputs[from], false);
            correct += usize::from(p == usize::from(data.labels[i]));
            cycles += c.cycles[..from].iter().sum::<u64>() + tail.iter().map(|t| t.1).sum::<u64>();
        }
        (correct, cycles)
    })
}

/// `work` on each part in a thread of its own: the sum of their
/// (correct, cycles).
fn sum_in_threads<P: Send>(
    parts: impl Iterator<Item = P>,
    work: impl Fn(P) -> (usize, u64) + Sync,
) -> (usize, u64) {
    let work = &work;
    std::thread::scope(|s| {
        let hs: Vec<_> = parts.map(|p| s.spawn(move || work(p))).collect();
        hs.into_iter()
            .map(|h| h.join().expect("calibration thread"))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    })
}

/// Rerun layers `from..` for every image with `choices` and store the new
/// inputs and cycles in the cache: (correct, cycles).
fn refresh(
    cfg: &AccelConfig,
    net: &Network,
    data: &Dataset,
    cache: &mut [ImageCache],
    choices: &[LayerChoice],
    from: usize,
) -> (usize, u64) {
    let layers = layers_of(net, choices);
    let layers = &layers;
    let n = data.len();
    let size = chunks(n).first().map_or(1, |c| c.1 - c.0).max(1);
    sum_in_threads(cache.chunks_mut(size).enumerate(), |(ci, part)| {
        let (mut correct, mut cycles) = (0usize, 0u64);
        for (j, c) in part.iter_mut().enumerate() {
            let i = ci * size + j;
            let (p, tail) = run_tail(cfg, net, layers, from, &c.inputs[from], true);
            for (k, (input, cyc)) in tail.into_iter().enumerate() {
                c.inputs[from + k] = input.expect("kept input");
                c.cycles[from + k] = cyc;
            }
            correct += usize::from(p == usize::from(data.labels[i]));
            cycles += c.cycles.iter().sum::<u64>();
        }
        (correct, cycles)
    })
}

fn pct(correct: usize, n: usize) -> f64 {
    100.0 * correct as f64 / n.max(1) as f64
}

/// The accepted move of `layer` from `from_threshold` to `choice` in
/// `round`, with the network's figures after it (`correct` of `n` images,
/// `cycles` against `int8_cycles`).
#[allow(clippy::too_many_arguments)]
fn move_of(
    round: usize,
    layer: usize,
    from_threshold: u32,
    choice: LayerChoice,
    (correct, n): (usize, usize),
    cycles: u64,
    int8_cycles: u64,
) -> Move {
    Move {
        round,
        layer,
        from_threshold,
        threshold: choice.threshold,
        low_shift: choice.low_shift,
        w_low_shift: choice.w_low_shift,
        accuracy: pct(correct, n),
        cycles,
        speedup: int8_cycles as f64 / cycles as f64,
    }
}

/// Choose every layer's T, s, sw on `data` (see the module doc). `net`'s
/// own thresholds are ignored; its shifts are the starting (and, for layers
/// left at T = 0, final) shifts. `cfg.region` is DRQ's region size.
/// `progress` gets one line per round.
pub fn calibrate(
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    opts: &CalibrateOptions,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Calibration> {
    let t0 = Instant::now();
    if data.is_empty() {
        bail!("calibration needs at least one image");
    }
    if opts.budget_pp.is_nan() || opts.budget_pp < 0.0 {
        bail!("budget {} pp: must be at least 0", opts.budget_pp);
    }
    if opts.shifts.is_empty() {
        bail!("no (s, sw) candidates");
    }
    let n_layers = net.layers.len();
    // Candidate thresholds: sorted, deduplicated, with 0 and a_max + 1.
    let mut ts = opts.thresholds.clone();
    if opts.start_from_network {
        ts.extend(net.layers.iter().map(|nl| nl.layer.threshold));
    }
    ts.push(0);
    ts.push(cfg.a_max() + 1);
    ts.sort_unstable();
    ts.dedup();
    // Every shift pair must be legal for every layer.
    for &(s, sw) in &opts.shifts {
        for (l, nl) in net.layers.iter().enumerate() {
            let mut layer = nl.layer;
            layer.low_shift = s;
            layer.w_low_shift = sw;
            layer
                .check(cfg)
                .with_context(|| format!("shift candidate (s = {s}, sw = {sw}) for layer {l}"))?;
        }
    }
    for &t in &ts {
        if t > 65535 {
            bail!("threshold candidate {t} above 65535 (T is 16-bit)");
        }
    }
    let mut choices: Vec<LayerChoice> = net
        .layers
        .iter()
        .map(|nl| LayerChoice {
            threshold: 0,
            low_shift: nl.layer.low_shift,
            w_low_shift: nl.layer.w_low_shift,
        })
        .collect();
    let n = data.len();
    let mut cache: Vec<ImageCache> = data
        .images
        .iter()
        .map(|img| {
            let mut inputs = vec![FeatureMap::zeros(0, 0, 0); n_layers];
            inputs[0] = image_map(img);
            ImageCache {
                inputs,
                cycles: vec![0; n_layers],
            }
        })
        .collect();
    let (int8_correct, int8_cycles) = refresh(cfg, net, data, &mut cache, &choices, 0);
    let int8_accuracy = pct(int8_correct, n);
    progress(&format!(
        "int8 on {n} calibration images: top-1 {int8_accuracy:.2} %, {int8_cycles} cycles"
    ));
    // Largest number of images INT8 (or the reference, when it gets more
    // right) gets right that the candidate may miss.
    let allowed = (opts.budget_pp / 100.0 * n as f64 + 1e-9).floor() as i64;
    let baseline = int8_correct.max(opts.reference_int8_correct.unwrap_or(0));
    let fits = |correct: usize| baseline as i64 - correct as i64 <= allowed;
    let (mut correct, mut cycles) = (int8_correct, int8_cycles);
    let mut moves = Vec::new();
    let mut evaluations = 0usize;
    if opts.start_from_network {
        for (c, nl) in choices.iter_mut().zip(&net.layers) {
            c.threshold = nl.layer.threshold;
        }
        (correct, cycles) = refresh(cfg, net, data, &mut cache, &choices, 0);
        progress(&format!(
            "start from the network's thresholds {:?}: top-1 {:.2} %, speedup {:.3}{}",
            choices.iter().map(|c| c.threshold).collect::<Vec<_>>(),
            pct(correct, n),
            int8_cycles as f64 / cycles as f64,
            if fits(correct) {
                ""
            } else {
                " (outside the budget)"
            }
        ));
    }
    let first = usize::from(opts.keep_first_int8);
    let t_index = |t: u32| {
        ts.iter()
            .position(|&c| c == t)
            .expect("current threshold is a candidate")
    };
    // Outside the budget (a start from the network's thresholds): take the
    // change of one layer (T one candidate down, kept or up, with any shift
    // pair) that gets the most images right (ties: fewer cycles, lower
    // layer, lower T, earlier pair) while it gains, until the network fits.
    let mut round = 0;
    while !fits(correct) {
        round += 1;
        let mut best: Option<(usize, u64, usize, LayerChoice)> = None;
        for l in first..n_layers {
            let ti = t_index(choices[l].threshold);
            for &t in &ts[ti.saturating_sub(1)..(ti + 2).min(ts.len())] {
                for &(s, sw) in &opts.shifts {
                    let c = LayerChoice {
                        threshold: t,
                        low_shift: s,
                        w_low_shift: sw,
                    };
                    if c == choices[l] {
                        continue;
                    }
                    let mut cand = choices.clone();
                    cand[l] = c;
                    let (cor, cyc) = score(cfg, net, data, &cache, &cand, l);
                    evaluations += 1;
                    if best.is_none_or(|(bc, bcyc, ..)| cor > bc || (cor == bc && cyc < bcyc)) {
                        best = Some((cor, cyc, l, c));
                    }
                }
            }
        }
        let Some((_, _, l, c)) = best.filter(|b| b.0 > correct) else {
            progress(&format!(
                "round {round}: no change of one layer gains: outside the budget"
            ));
            break;
        };
        let from_threshold = choices[l].threshold;
        choices[l] = c;
        (correct, cycles) = refresh(cfg, net, data, &mut cache, &choices, l);
        let m = move_of(
            round,
            l,
            from_threshold,
            c,
            (correct, n),
            cycles,
            int8_cycles,
        );
        progress(&format!(
            "round {round}: towards the budget: layer {l} T {from_threshold} -> {} (s = {}, sw = {}): top-1 {:.2} %, speedup {:.3}, {:.0} s",
            c.threshold,
            c.low_shift,
            c.w_low_shift,
            m.accuracy,
            m.speedup,
            t0.elapsed().as_secs_f64()
        ));
        moves.push(m);
    }
    let mut last_round = round;
    for round in round + 1.. {
        last_round = round;
        // (cycles, correct, layer, t index, shift index)
        let mut best: Option<(u64, usize, usize, usize, usize)> = None;
        for l in first..n_layers {
            let cur = t_index(choices[l].threshold);
            #[allow(clippy::needless_range_loop)]
            for ti in (cur + 1)..(cur + 3).min(ts.len()) {
                for (si, &(s, sw)) in opts.shifts.iter().enumerate() {
                    let mut cand = choices.clone();
                    cand[l] = LayerChoice {
                        threshold: ts[ti],
                        low_shift: s,
                        w_low_shift: sw,
                    };
                    let (c, cyc) = score(cfg, net, data, &cache, &cand, l);
                    evaluations += 1;
                    if cyc >= cycles || !fits(c) {
                        continue;
                    }
                    // Fewer cycles first, then more correct; earlier
                    // candidates win remaining ties.
                    if best.is_none_or(|(bc, bcor, ..)| cyc < bc || (cyc == bc && c > bcor)) {
                        best = Some((cyc, c, l, ti, si));
                    }
                }
            }
        }
        let Some((_, _, l, ti, si)) = best else {
            progress(&format!("round {round}: no move fits the budget, done"));
            break;
        };
        let from_threshold = choices[l].threshold;
        let (s, sw) = opts.shifts[si];
        choices[l] = LayerChoice {
            threshold: ts[ti],
            low_shift: s,
            w_low_shift: sw,
        };
        (correct, cycles) = refresh(cfg, net, data, &mut cache, &choices, l);
        let m = move_of(
            round,
            l,
            from_threshold,
            choices[l],
            (correct, n),
            cycles,
            int8_cycles,
        );
        progress(&format!(
            "round {round}: layer {l} T {from_threshold} -> {} (s = {s}, sw = {sw}): top-1 {:.2} %, speedup {:.3}, {:.0} s",
            ts[ti],
            m.accuracy,
            m.speedup,
            t0.elapsed().as_secs_f64()
        ));
        moves.push(m);
    }
    if opts.joint {
        for round in last_round + 1.. {
            // (cycles, correct, up layer, down layer)
            let mut best: Option<(u64, usize, usize, usize)> = None;
            for up in first..n_layers {
                for down in first..n_layers {
                    let (ui, di) = (
                        t_index(choices[up].threshold),
                        t_index(choices[down].threshold),
                    );
                    if up == down || ui + 1 >= ts.len() || di == 0 {
                        continue;
                    }
                    let mut cand = choices.clone();
                    cand[up].threshold = ts[ui + 1];
                    cand[down].threshold = ts[di - 1];
                    let (c, cyc) = score(cfg, net, data, &cache, &cand, up.min(down));
                    evaluations += 1;
                    if cyc >= cycles || !fits(c) {
                        continue;
                    }
                    if best.is_none_or(|(bc, bcor, ..)| cyc < bc || (cyc == bc && c > bcor)) {
                        best = Some((cyc, c, up, down));
                    }
                }
            }
            let Some((_, _, up, down)) = best else {
                progress(&format!(
                    "round {round}: no joint move fits the budget, done"
                ));
                break;
            };
            let from = (choices[up].threshold, choices[down].threshold);
            choices[up].threshold = ts[t_index(from.0) + 1];
            choices[down].threshold = ts[t_index(from.1) - 1];
            (correct, cycles) = refresh(cfg, net, data, &mut cache, &choices, up.min(down));
            let pair = [(up, from.0), (down, from.1)].map(|(layer, from_threshold)| {
                let c = choices[layer];
                move_of(
                    round,
                    layer,
                    from_threshold,
                    c,
                    (correct, n),
                    cycles,
                    int8_cycles,
                )
            });
            progress(&format!(
                "round {round}: joint: layer {up} T {} -> {}, layer {down} T {} -> {}: top-1 {:.2} %, speedup {:.3}, {:.0} s",
                from.0,
                choices[up].threshold,
                from.1,
                choices[down].threshold,
                pair[0].accuracy,
                pair[0].speedup,
                t0.elapsed().as_secs_f64()
            ));
            moves.extend(pair);
        }
    }
    Ok(Calibration {
        layers: choices,
        budget_pp: opts.budget_pp,
        keep_first_int8: opts.keep_first_int8,
        joint: opts.joint,
        reference_int8_correct: opts.reference_int8_correct,
        images: n,
        region: cfg.region,
        int8_correct,
        int8_accuracy,
        int8_cycles,
        correct,
        accuracy: pct(correct, n),
        cycles,
        speedup: int8_cycles as f64 / cycles as f64,
        moves,
        evaluations,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
