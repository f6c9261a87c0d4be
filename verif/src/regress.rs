//! The seeded co-simulation regression (`make regress`, `drq regress`):
//! random layers on several configurations through the Verilator model of
//! `drq_top` (driven over AXI4-Lite by [`crate::driver::Accelerator`], with
//! fast, random or back-pressured bus timing and, one case in four, a reset
//! in the middle of a run) against the golden model, every output compared:
//! y, accumulators, input and output mask, all six counters, STATUS.
//!
//! Every case is a pure function of (configuration name, case seed)
//! ([`make_case`]); the case seeds are drawn from the base seed, the
//! configuration name and the case index ([`case_seed`]), so
//! `drq regress --only <config> --case-seed <seed>` replays one case exactly
//! (data, bus timing and reset).
//!
//! Outputs in [`RegressOptions::out`]: `summary.json`, `summary.md`, and for
//! each failing case a folder `failures/<config>-<case seed>/` with the
//! configuration, the layer, its tensors, the failure and a `repro.sh`.
//! Every file is written under a temporary name and renamed into place, and
//! a failure folder is assembled under a temporary name and renamed whole.

use crate::axil_bfm::Timing;
use crate::driver::{check_fits, default_out_reader, Accelerator, HwRun};
use crate::scoreboard::compare;
use crate::sim::{SimError, SimOptions};
use drq_arch::config::{ActLayout, PeKind};
use drq_arch::regs::reg;
use drq_arch::AccelConfig;
use drq_golden::files::{save_layer_data, LayerFiles};
use drq_golden::layer::{Layer, RawLayer};
use drq_golden::rng::Rng;
use drq_golden::schedule::Counters;
use drq_golden::testdata::{random_layer_data, random_mask, random_shape};
use drq_golden::{run_layer, LayerData};
use serde::{Deserialize, Serialize};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// What a regression runs and where it writes.
#[derive(Debug, Clone)]
pub struct RegressOptions {
    /// Output folder (e.g. `sim-out/regress`): summaries and failures.
    pub out: PathBuf,
    /// Base seed of the case seeds.
    pub seed: u64,
    /// Random layers per configuration.
    pub cases_per_config: usize,
    /// The configurations ([`default_configs`] normally).
    pub configs: Vec<NamedConfig>,
    /// Run exactly one case: (configuration name, case seed). The
    /// configuration is looked up in `configs`, then in [`default_configs`].
    pub only_case: Option<(String, u64)>,
    /// Test hook: corrupt the hardware's result of every case (one output
    /// code flipped), to exercise the failure path.
    pub inject_fault: bool,
    /// Cases run at once, each worker with its own models (at least 1).
    pub jobs: usize,
}

/// A configuration with the short name used in case names and folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedConfig {
    pub name: String,
    pub cfg: AccelConfig,
}

impl NamedConfig {
    pub fn new(name: &str, cfg: AccelConfig) -> NamedConfig {
        NamedConfig {
            name: name.to_string(),
            cfg,
        }
    }
}

/// 4 x 4, R = 2, INT8/INT4, small buffers: the small configuration of the
/// top-level tests.
pub fn cfg_4x4() -> AccelConfig {
    AccelConfig {
        act_words: 2048,
        acc_words: 2048,
        weight_words: 1024,
        mask_words: 512,
        bias_words: 64,
        ..AccelConfig::small()
    }
}

/// The small configurations of `verif/tests/top_cosim.rs`: every region
/// size, non-square arrays, six tokens a HIGH step, ACC 48, INT8; each
/// predictor memory (mask_words) small enough for a case to fill it and
/// for a layer to outgrow it (`STATUS.oversize`).
pub fn quick_configs() -> Vec<NamedConfig> {
    let c4 = cfg_4x4();
    // The burst read-out's machine (below), also with packed rows.
    let burst = AccelConfig {
        region: 2,
        mask_words: 256,
        out_rows: 2,
        out_lanes: 2,
        overlap: true,
        stream_predictor: true,
        row_taps: true,
        burst_readout: true,
        ..c4
    };
    vec![
        // Shadow accumulators (tiles read out under the next tile's
        // tokens) and the streaming predictor (mask bits written as
        // regions complete): the pipelined machine.
        NamedConfig::new(
            "4x4-r2-ov-sp",
            AccelConfig {
                overlap: true,
                stream_predictor: true,
                ..c4
            },
        ),
        NamedConfig::new(
            "3x5-r4-a6w6-acc48",
            AccelConfig {
                acc_bits: 48,
                mask_words: 128,
                ..c4.six_tokens_3x5()
            },
        ),
        // A queue shorter than a tile (3 groups of up to 4 of 5 rows): the
        // array waits for room in it; lane groups of up to 4 pixels,
        // aligned or not to the tiles.
        NamedConfig::new(
            "5x2-r8-out3-l4",
            AccelConfig {
                rows: 5,
                cols: 2,
                region: 8,
                mask_words: 64,
                out_rows: 3,
                out_lanes: 4,
                ..c4
            },
        ),
        // The pipelined read-out: shadow accumulators read by row taps
        // (row 0 first, so lane groups close at x = L - 1 mod L; eight
        // rows and two columns, so a tile's trailing idle rows can outlast
        // its writes) and the streaming predictor fed lane groups of up to
        // four.
        NamedConfig::new(
            "8x2-r8-out3-l4-tp",
            AccelConfig {
                rows: 8,
                cols: 2,
                region: 8,
                mask_words: 64,
                out_rows: 3,
                out_lanes: 4,
                overlap: true,
                stream_predictor: true,
                row_taps: true,
                ..c4
            },
        ),
        // Lane groups wider than a region: four lanes over regions of one
        // pixel, so the streaming predictor keeps its sums in four banks
        // and the mask buffers four bits a word; the input scan's
        // one-value groups reach every bank. Read out by row taps.
        NamedConfig::new(
            "4x4-r1-out2-l4-tp-sp",
            AccelConfig {
                region: 1,
                mask_words: 1024,
                out_rows: 2,
                out_lanes: 4,
                overlap: true,
                stream_predictor: true,
                row_taps: true,
                ..c4
            },
        ),
        // The burst read-out: a tile's read-out starts when the stage has
        // room for all of its lane groups (two at most here, so tiles of
        // more groups are read out with backpressure), and the next
        // tile's last token enters under it.
        NamedConfig::new("4x4-r2-out2-l2-tp-bu", burst),
        // Packed rows: every map at its own width, so half the activation
        // words holds layers the 16-word pitch would refuse.
        NamedConfig::new(
            "4x4-r2-pk",
            AccelConfig {
                act_words: 1024,
                acc_words: 1024,
                mask_words: 256,
                packed_rows: true,
                ..c4
            },
        ),
        // Packed rows at a pitch rounded up to two lanes, under the
        // pipelined read-out (burst, row taps, streaming predictor).
        NamedConfig::new(
            "4x4-r2-out2-l2-tp-bu-pk",
            AccelConfig {
                mask_words: 128,
                packed_rows: true,
                ..burst
            },
        ),
        // Banked activations (docs/banked.md): ACT0 and ACT1 stored once
        // over four banks of 256 entries, each map laid out for the layer
        // that reads it; ACC smaller than a buffer.
        NamedConfig::new(
            "4x4-r2-bk",
            AccelConfig {
                act_words: 1024,
                acc_words: 512,
                mask_words: 256,
                act_layout: ActLayout::Banked,
                ..c4
            },
        ),
        // Cyclic activations (docs/banked.md "The cyclic layout"): the
        // same four banks, a step's rows one rotation of them.
        NamedConfig::new(
            "4x4-r2-cy",
            AccelConfig {
                act_words: 1024,
                acc_words: 512,
                mask_words: 256,
                act_layout: ActLayout::Cyclic,
                ..c4
            },
        ),
        // Cyclic over two banks (a 2 x 5 array, regions of 2) under the pipelined
        // read-out and the streaming predictor.
        NamedConfig::new(
            "2x5-r2-ov-sp-cy",
            AccelConfig {
                rows: 2,
                cols: 5,
                region: 2,
                act_words: 512,
                acc_words: 512,
                mask_words: 128,
                overlap: true,
                stream_predictor: true,
                act_layout: ActLayout::Cyclic,
                ..c4
            },
        ),
        // Banked over three banks (rows not a power of two), under the
        // pipelined read-out and the streaming predictor (its input scan
        // one value a cycle through row 0's rotation).
        NamedConfig::new(
            "3x5-r4-ov-sp-bk",
            AccelConfig {
                rows: 3,
                cols: 5,
                region: 4,
                act_words: 768,
                acc_words: 512,
                mask_words: 64,
                overlap: true,
                stream_predictor: true,
                act_layout: ActLayout::Banked,
                ..c4
            },
        ),
        // A row queue longer than a tile (5 rows of 2): rows of several
        // tiles wait in it at once.
        NamedConfig::new(
            "2x3-r1-out5",
            AccelConfig {
                rows: 2,
                cols: 3,
                region: 1,
                mask_words: 1024,
                out_rows: 5,
                ..c4
            },
        ),
        // The read-out chain (row_taps = false; the default reads the
        // PEs' rows through the taps): the accumulators shift down the
        // columns, row ROWS-1 first after a flush of ROWS + COLS - 1.
        NamedConfig::new(
            "5x3-r2-out2-chain",
            AccelConfig {
                rows: 5,
                cols: 3,
                region: 2,
                mask_words: 256,
                out_rows: 2,
                row_taps: false,
                ..c4
            },
        ),
        NamedConfig::new(
            "int8-4x2-r16",
            AccelConfig {
                rows: 4,
                cols: 2,
                region: 16,
                pe: PeKind::Int8,
                mask_words: 16,
                ..c4
            },
        ),
        // The smallest accelerator (the iCE40 board's shape): no skew, a
        // one-cycle flush, the narrowest accumulator.
        NamedConfig::new(
            "1x1-r2-acc16",
            AccelConfig {
                rows: 1,
                cols: 1,
                region: 2,
                acc_bits: 16,
                mask_words: 256,
                ..c4
            },
        ),
    ]
}

/// One of [`default_configs`] by name.
pub fn named_config(name: &str) -> Option<AccelConfig> {
    default_configs()
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.cfg)
}

/// [`quick_configs`] and the default 16 x 16 configuration.
pub fn default_configs() -> Vec<NamedConfig> {
    let mut v = quick_configs();
    v.push(NamedConfig::new("default-16x16", AccelConfig::default()));
    v
}

/// How much of a case's input is sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// T = 0: every region sensitive.
    All,
    /// T above the largest code: none.
    None,
    /// T = the median input code, mask predicted by the hardware.
    Some,
    /// T = the median input code, a random host mask (half the regions,
    /// or one in ten).
    HostMask,
}

impl Sensitivity {
    pub fn describe(self) -> &'static str {
        match self {
            Sensitivity::All => "all sensitive",
            Sensitivity::None => "none sensitive",
            Sensitivity::Some => "some sensitive (predicted)",
            Sensitivity::HostMask => "some sensitive (host mask)",
        }
    }
}

/// The master's pacing of the AXI4-Lite handshakes
/// ([`crate::axil_bfm::Timing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusTiming {
    Fast,
    Random,
    Backpressure,
}

impl BusTiming {
    pub fn timing(self) -> Timing {
        match self {
            BusTiming::Fast => Timing::FAST,
            BusTiming::Random => Timing::RANDOM,
            BusTiming::Backpressure => Timing::BACKPRESSURE,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            BusTiming::Fast => "fast",
            BusTiming::Random => "random",
            BusTiming::Backpressure => "backpressure",
        }
    }
}

/// One case, fully determined by (configuration, case seed).
#[derive(Debug, Clone)]
pub struct Case {
    pub config: NamedConfig,
    pub case_seed: u64,
    pub layer: Layer,
    pub data: LayerData,
    pub sensitivity: Sensitivity,
    pub timing: BusTiming,
    /// Reset this many cycles after the start (before the real run); the
    /// drawn value, 1..=500, is cut to `cycles_total - 1` so that it falls
    /// inside the run ([`Case::reset_cycle`]).
    pub reset_draw: Option<u64>,
    /// Seed of the bus master's random timing and payload garbage.
    pub bus_seed: u64,
    /// The host waits for the run by reading STATUS back to back (with
    /// the case's bus timing, so a back-pressured case stalls the bus in
    /// every phase of the run) instead of watching `irq` alone.
    pub poll_status: bool,
    /// A resetting case resets the run once in each of its phases (at a
    /// random cycle of the phase, phase by phase, restarting after each)
    /// instead of once at `reset_draw` ([`Case::resets`]).
    pub reset_every_phase: bool,
}

/// When the host resets a run before the real one ([`drive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetAt {
    /// Loaded and configured, not started: a reset while idle.
    Idle,
    /// This many cycles after the start command's write returned.
    AfterStart(u64),
    /// At this cycle of the run (0: its first cycle), or as soon as the
    /// start command's write has returned if that is later.
    InRun(u64),
}

impl Case {
    /// The cycle of the mid-layer reset, given the layer's cycles_total.
    pub fn reset_cycle(&self, cycles_total: u64) -> Option<u64> {
        self.reset_draw
            .map(|d| d.min(cycles_total.saturating_sub(1)).max(1))
    }

    /// Which phases of `drq_top` a run of the case has (as the golden
    /// model counts them).
    pub fn run_phases(&self) -> drq_golden::cycles::RunPhases {
        self.data.run_phases(&self.config.cfg, &self.layer)
    }

    /// The resets before the real run, given its cycles_total: none, one at
    /// [`Case::reset_cycle`], or (`reset_every_phase`) one in each phase
    /// of the run, at a cycle drawn inside the phase
    /// ([`crate::coverage::run_timeline`]) from the bus seed.
    pub fn resets(&self, cycles_total: u64) -> Vec<ResetAt> {
        if self.reset_draw.is_none() {
            return Vec::new();
        }
        if !self.reset_every_phase {
            return self
                .reset_cycle(cycles_total)
                .map(ResetAt::AfterStart)
                .into_iter()
                .collect();
        }
        let timeline = crate::coverage::run_timeline(
            &self.config.cfg,
            &self.layer,
            self.run_phases(),
            cycles_total,
        );
        let mut rng = Rng::new(self.bus_seed ^ 0x0052_E5E7_0F9A_5E00);
        std::iter::once(ResetAt::Idle)
            .chain(
                timeline
                    .iter()
                    .map(|seg| ResetAt::InRun(seg.start + rng.range(0, seg.len as i64 - 1) as u64)),
            )
            .collect()
    }
}

/// How a case's resets read in a progress line.
pub fn describe_resets(resets: &[ResetAt]) -> Option<String> {
    match resets {
        [] => None,
        [ResetAt::AfterStart(c)] => Some(format!("reset at cycle {c}")),
        many => Some(format!(
            "reset in each of {} phases (run cycles {})",
            many.len(),
            many.iter()
                .map(|r| match r {
                    ResetAt::Idle => "idle".to_string(),
                    ResetAt::AfterStart(c) | ResetAt::InRun(c) => c.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The seed of case `index` (from 0) of configuration `config`: SplitMix64
/// of the base seed mixed with the configuration name (FNV-1a) and index,
/// kept below 2^53.
pub fn case_seed(base: u64, config: &str, index: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in config.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut r =
        Rng::new(base ^ h.rotate_left(17) ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    // 53 bits: exact in JSON readers that hold numbers as doubles.
    r.next_u64() >> 11
}

/// A random layer that fits `cfg`'s buffers: kernel 1, 3 or 5, stride 1 or
/// 2 (one layer in 5: 3, 4, 5, 8 or 16, so every bit of the controller's
/// stride arithmetic is used), padding 0..K-1, sizes not multiples of R or the array, random tiles,
/// shifts, M, SH, next_threshold 60 % of the time (as in
/// `verif/tests/top_cosim.rs`).
pub fn random_layer(rng: &mut Rng, cfg: &AccelConfig) -> Layer {
    loop {
        let mut shape = random_shape(rng, cfg, 13);
        if rng.chance(0.2) {
            shape.stride = rng.pick(&[3i64, 4, 5, 8, 16]);
        }
        let raw = RawLayer {
            low_shift: rng.range(0, cfg.max_low_shift().into()),
            w_low_shift: rng.range(0, cfg.max_w_low_shift().into()),
            requant_mult: rng.range(1, 300),
            requant_shift: rng.range(6, 14),
            next_threshold: if rng.chance(0.6) {
                Some(rng.range(0, cfg.a_max().into()))
            } else {
                None
            },
            ..shape.conv(rng.range(1, 4), rng.range(1, 2 * i64::from(cfg.cols) + 1))
        };
        let Ok(layer) = Layer::from_raw(&raw) else {
            continue;
        };
        if layer.check(cfg).is_ok() && check_fits(cfg, &layer).is_ok() {
            return layer;
        }
    }
}

/// Draw the case of `case_seed` on `config`: sensitivity, layer and data,
/// bus timing, and whether (and when) to reset mid-layer (one case in 4).
/// A random layer that fits `cfg` ([`random_layer`]) and its data, with
/// the given sensitivity: T = 0, T above the largest code, or T = the
/// median input code (the hardware predicts the mask; with `HostMask` a
/// random mask of half the regions is given instead).
pub fn random_case(
    rng: &mut Rng,
    cfg: &AccelConfig,
    sensitivity: Sensitivity,
) -> (Layer, LayerData) {
    let layer = random_layer(rng, cfg);
    case_data(rng, cfg, layer, sensitivity)
}

/// The random layer, of [`LARGE_MAP_DRAWS`] drawn, whose predicted output
/// map has the most regions (it predicts one): cases that fill the
/// predictor's memory beyond its lower half (docs/verification.md).
pub fn large_map_layer(rng: &mut Rng, cfg: &AccelConfig) -> Layer {
    let mut best: Option<(u64, Layer)> = None;
    for _ in 0..LARGE_MAP_DRAWS {
        let mut l = random_layer(rng, cfg);
        if l.next_threshold.is_none() {
            l.next_threshold = Some(rng.range(0, cfg.a_max().into()) as u32);
        }
        // As many output channels as the buffers hold (up to 64).
        for c_out in (l.c_out..=64).rev() {
            let wider = Layer { c_out, ..l };
            if wider.check(cfg).is_ok() && check_fits(cfg, &wider).is_ok() {
                l = wider;
                break;
            }
        }
        let n = drq_golden::cycles::regions(cfg, l.c_out, l.ho(), l.wo());
        if best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, l));
        }
    }
    best.expect("LARGE_MAP_DRAWS > 0").1
}

/// Layers drawn for one [`large_map_layer`].
pub const LARGE_MAP_DRAWS: usize = 48;

/// Data of `layer` and its threshold for the given sensitivity (see
/// [`random_case`]).
fn case_data(
    rng: &mut Rng,
    cfg: &AccelConfig,
    mut layer: Layer,
    sensitivity: Sensitivity,
) -> (Layer, LayerData) {
    let mut data = random_layer_data(rng, cfg, &layer, 1 << 12, None);
    layer.threshold = match sensitivity {
        Sensitivity::All => 0,
        Sensitivity::None => (cfg.a_max() + 1).min(65535),
        Sensitivity::Some | Sensitivity::HostMask => {
            let mut v = data.input.data.clone();
            v.sort_unstable();
            v[v.len() / 2]
        }
    };
    if sensitivity == Sensitivity::HostMask {
        // Half the regions, or a sparse mask: then a step's mode is often
        // decided by one row's region alone, so each row's mask address
        // is seen on its own.
        let density = rng.pick(&[0.5, 0.1]);
        data.mask = Some(random_mask(rng, cfg, &layer, density));
    }
    (layer, data)
}

pub fn make_case(config: &NamedConfig, case_seed: u64) -> Case {
    let cfg = &config.cfg;
    let mut rng = Rng::new(case_seed);
    let sensitivity = match rng.range(0, 5) {
        0 => Sensitivity::All,
        1 => Sensitivity::None,
        2 | 3 => Sensitivity::Some,
        _ => Sensitivity::HostMask,
    };
    // One case in four fills the predictor's memory as far as it can.
    let layer = if rng.chance(0.25) {
        large_map_layer(&mut rng, cfg)
    } else {
        random_layer(&mut rng, cfg)
    };
    let (layer, data) = case_data(&mut rng, cfg, layer, sensitivity);
    let timing = rng.pick(&[BusTiming::Fast, BusTiming::Random, BusTiming::Backpressure]);
    let reset = rng.chance(0.25);
    let draw = rng.range(1, 500) as u64;
    let bus_seed = rng.next_u64();
    // Drawn after everything above, so a seed's layer, data, timing and
    // single reset are what they were before these two existed.
    let poll_status = rng.chance(0.5);
    let reset_every_phase = rng.chance(0.5);
    Case {
        config: config.clone(),
        case_seed,
        layer,
        data,
        sensitivity,
        timing,
        reset_draw: reset.then_some(draw),
        bus_seed,
        poll_status,
        reset_every_phase,
    }
}

/// The cases a regression runs, in order: (configuration, case seed). A
/// pure function of the options (seed, configurations, cases per
/// configuration, `only_case`).
pub fn plan(opts: &RegressOptions) -> Result<Vec<(NamedConfig, u64)>, RegressError> {
    if let Some((name, seed)) = &opts.only_case {
        let found = opts
            .configs
            .iter()
            .chain(default_configs().iter())
            .find(|c| &c.name == name)
            .cloned();
        return match found {
            Some(c) => Ok(vec![(c, *seed)]),
            None => {
                let mut known: Vec<String> = opts.configs.iter().map(|c| c.name.clone()).collect();
                for c in default_configs() {
                    if !known.contains(&c.name) {
                        known.push(c.name);
                    }
                }
                Err(RegressError::UnknownConfig {
                    name: name.clone(),
                    known: known.join(", "),
                })
            }
        };
    }
    let mut v = Vec::new();
    for c in &opts.configs {
        for i in 0..opts.cases_per_config {
            v.push((c.clone(), case_seed(opts.seed, &c.name, i)));
        }
    }
    Ok(v)
}

/// Errors that stop a regression (failing cases do not: they are reported
/// in the [`Summary`]).
#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Write { path: String, message: String },
    #[error("configuration {config}: cannot build the Verilator model of drq_top: {source}")]
    Model {
        config: String,
        #[source]
        source: SimError,
    },
    #[error("configuration {config}: the model of drq_top does not come up: {message}")]
    ModelCheck { config: String, message: String },
    #[error("unknown configuration {name} (known: {known})")]
    UnknownConfig { name: String, known: String },
    #[error(transparent)]
    Publish(#[from] drq_golden::publish::PublishError),
}

/// What `drq regress` writes into its output folder (the rest is kept).
pub fn regress_owns(name: &str) -> bool {
    matches!(name, "summary.json" | "summary.md" | "failures")
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RegressError + '_ {
    move |source| RegressError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One case's result (an entry of `summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    /// 1-based position in the run.
    pub index: usize,
    pub config: String,
    pub case_seed: u64,
    pub layer: Layer,
    pub sensitivity: Sensitivity,
    pub timing: BusTiming,
    /// Cycle (after the start) of the mid-layer reset, or null.
    pub reset_cycle: Option<u64>,
    /// Resets aimed at each phase of the run (0: none).
    #[serde(default)]
    pub phase_resets: usize,
    /// The host polled STATUS during the run.
    #[serde(default)]
    pub poll_status: bool,
    pub pass: bool,
    /// What went wrong, or null.
    pub failure: Option<String>,
    /// The golden model's counters (equal to the hardware's when passing).
    pub cycles_total: Option<u64>,
    pub token_cycles: Option<u64>,
    pub steps_high: Option<u64>,
    pub steps_low: Option<u64>,
    /// cycles_total at T = 0 (no host mask) / cycles_total (golden model).
    pub speedup: Option<f64>,
    /// The command that replays this case.
    pub repro: String,
    /// The failure folder, relative to the output folder, or null.
    pub failure_dir: Option<String>,
    pub wall_seconds: f64,
}

/// Per-configuration totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigTotals {
    pub config: String,
    pub cases: usize,
    pub failures: usize,
    /// Arithmetic mean of the cases' speedups (null without any).
    pub mean_speedup: Option<f64>,
    /// The cases' wall-clock seconds, summed (over all workers).
    #[serde(default)]
    pub case_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totals {
    pub cases: usize,
    pub failures: usize,
    pub per_config: Vec<ConfigTotals>,
    pub wall_seconds: f64,
    /// Cases run at once.
    #[serde(default = "one")]
    pub jobs: usize,
}

fn one() -> usize {
    1
}

impl Totals {
    /// Cases finished per minute of wall-clock time.
    pub fn cases_per_minute(&self) -> f64 {
        self.cases as f64 * 60.0 / self.wall_seconds.max(1e-9)
    }
}

/// What `summary.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub seed: u64,
    pub cases_per_config: usize,
    /// `[config, case seed]` when one case was re-run.
    pub only_case: Option<(String, u64)>,
    pub inject_fault: bool,
    pub cases: Vec<CaseResult>,
    pub totals: Totals,
}

impl Summary {
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.pass)
    }
    pub fn passed(&self) -> bool {
        self.totals.failures == 0
    }
}

/// The command that replays one case.
pub fn repro_command(config: &str, case_seed: u64) -> String {
    format!("drq regress --only {config} --case-seed {case_seed}")
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

fn build_accelerator(nc: &NamedConfig) -> Result<Accelerator, RegressError> {
    let r = catch_unwind(|| Accelerator::new(&nc.cfg, &SimOptions::default(), 0, Timing::FAST));
    match r {
        Ok(Ok(a)) => Ok(a),
        Ok(Err(source)) => Err(RegressError::Model {
            config: nc.name.clone(),
            source,
        }),
        Err(p) => Err(RegressError::ModelCheck {
            config: nc.name.clone(),
            message: panic_message(&*p),
        }),
    }
}

/// How many cycles the testbench waits for a run's interrupt, from the
/// golden model's cycles_total: four times as many (a bus that polls STATUS
/// or stalls slows the host, not the run) plus a margin for the host's own
/// accesses. A run past it is reported as a hang.
pub fn run_timeout(cycles_total: u64) -> u64 {
    cycles_total.saturating_mul(4) + 100_000
}

/// Drive one case through the hardware: the mid-layer resets (each a
/// started run cut short; the first loads the layer as run_layer would,
/// the next ones rewrite the layer registers the reset cleared), then the
/// layer as `drq sim` runs it.
pub fn drive(acc: &mut Accelerator, case: &Case, resets: &[ResetAt], timeout: u64) -> HwRun {
    acc.bus.timing = case.timing.timing();
    acc.bus.rng = Rng::new(case.bus_seed);
    acc.run_timeout = timeout;
    acc.poll_status = case.poll_status;
    let (layer, data) = (&case.layer, &case.data);
    let mut predict_in = None;
    for at in resets {
        // Load (or reconfigure) and start as run_layer would (irq off),
        // then reset.
        let mut mode = 0;
        let p = match predict_in {
            None => acc.load_layer(layer, data),
            Some(p) => {
                acc.configure(layer, default_out_reader(layer));
                p
            }
        };
        predict_in = Some(p);
        if p {
            mode |= reg::MODE_PREDICT_IN;
        }
        if layer.next_threshold.is_some() {
            mode |= reg::MODE_PREDICT_OUT;
        }
        if *at != ResetAt::Idle {
            acc.write_reg(reg::MODE, mode);
            // A reset aimed at a phase may fall in the run's first cycle:
            // the start command goes at full speed, so the host is back
            // from its write by then.
            let timing = acc.bus.timing;
            if matches!(at, ResetAt::InRun(_)) {
                acc.bus.timing = Timing::FAST;
            }
            acc.write_reg(reg::CMD, reg::CMD_START);
            acc.bus.timing = timing;
        }
        let cut = match *at {
            ResetAt::Idle => 0,
            ResetAt::AfterStart(c) => c,
            ResetAt::InRun(c) => (acc.bus.last_write_cycle + crate::driver::START_LATENCY + c)
                .saturating_sub(acc.bus.model.cycles()),
        };
        acc.bus.idle(cut);
        acc.bus.reset(2);
        // Nothing but, with the streaming predictor, its clear after reset.
        let status = acc.read_reg(reg::STATUS);
        let clearing = if acc.cfg.stream_predictor {
            reg::STATUS_CLEARING
        } else {
            0
        };
        assert_eq!(
            status & !clearing,
            0,
            "STATUS after the reset at cycle {cut}: {status:#x}, expected 0"
        );
        assert!(
            !acc.bus.model.get_bool("irq"),
            "irq high after the reset at cycle {cut}"
        );
    }
    let hw = acc
        .run_layer(layer, data)
        .unwrap_or_else(|e| panic!("the layer was refused: {e}"));
    acc.bus.assert_idle();
    // Error responses and read-backs the driver never provokes, from the
    // case's bus seed (reproducible, after the run so it is unchanged).
    let mut probe_rng = Rng::new(case.bus_seed ^ 0x5052_4F42_4553);
    acc.probe_host_interface(&mut probe_rng, layer);
    acc.bus.assert_idle();
    hw
}

/// Write `bytes` to `path` under a temporary name, then rename it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RegressError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(path)(e)
    })
}

/// The folder name of a failing case.
pub fn failure_dir_name(config: &str, case_seed: u64) -> String {
    format!("{config}-{case_seed}")
}

fn repro_script(case: &Case, failure: &str) -> String {
    let l = &case.layer;
    let mask = if case.data.mask.is_some() {
        " --mask mask.npy"
    } else {
        ""
    };
    let args = format!(
        "--config config.toml --layer layer.json --input x.npy --weights w.npy --bias b.npy{mask}"
    );
    let mut outs = vec!["y.npy", "acc.npy", "mask_in.npy"];
    if l.next_threshold.is_some() {
        outs.push("mask_out.npy");
    }
    outs.push("counters.json");
    let failure_lines: String = failure.lines().map(|s| format!("#   {s}\n")).collect();
    format!(
        "#!/bin/sh\n\
         # DRQ regression failure: configuration {config}, case seed {seed}\n\
         {failure_lines}\
         # drq is target/release/drq (cargo build --release). Runs in this folder.\n\
         cd \"$(dirname \"$0\")\" || exit 1\n\
         status=0\n\
         # 1. The case in the regression itself (same data, bus timing and reset).\n\
         {regress} --out rerun || status=1\n\
         # 2. The layer alone through the hardware and through the golden model.\n\
         drq sim {args} --out hw || status=1\n\
         drq golden {args} --out gold || status=1\n\
         for f in {outs}; do\n\
         \x20   cmp \"hw/$f\" \"gold/$f\" || status=1\n\
         done\n\
         exit $status\n",
        config = case.config.name,
        seed = case.case_seed,
        regress = repro_command(&case.config.name, case.case_seed),
        outs = outs.join(" "),
    )
}

/// Write `failures/<config>-<seed>/` all-or-nothing: assembled in a hidden
/// temporary folder beside it, then renamed into place.
fn write_failure_folder(
    failures: &Path,
    case: &Case,
    failure: &str,
) -> Result<String, RegressError> {
    std::fs::create_dir_all(failures).map_err(io_err(failures))?;
    let name = failure_dir_name(&case.config.name, case.case_seed);
    let dest = failures.join(&name);
    let tmp = failures.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let result = (|| {
        let put = |file: &str, text: String| {
            let p = tmp.join(file);
            std::fs::write(&p, text).map_err(io_err(&p))
        };
        put("config.toml", case.config.cfg.to_toml())?;
        put("layer.json", format!("{}\n", case.layer.to_json()))?;
        put("failure.txt", format!("{failure}\n"))?;
        let script = tmp.join("repro.sh");
        put("repro.sh", repro_script(case, failure))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .map_err(io_err(&script))?;
        }
        let files = LayerFiles {
            input: tmp.join("x.npy"),
            weights: tmp.join("w.npy"),
            bias: tmp.join("b.npy"),
            mask: case.data.mask.as_ref().map(|_| tmp.join("mask.npy")),
        };
        save_layer_data(&case.config.cfg, &case.data, &files).map_err(|e| RegressError::Write {
            path: tmp.display().to_string(),
            message: e.to_string(),
        })?;
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(io_err(&dest))?;
        }
        std::fs::rename(&tmp, &dest).map_err(io_err(&dest))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| format!("failures/{name}"))
}

/// One line describing a layer's shape, tiles and thresholds.
pub(crate) fn describe_layer(l: &Layer) -> String {
    let mut s = format!(
        "{}->{} {}x{} k{} s{} p{} tile {}x{} T {}",
        l.c_in, l.c_out, l.h, l.w, l.kernel, l.stride, l.padding, l.tile_h, l.tile_w, l.threshold
    );
    if let Some(t) = l.next_threshold {
        s.push_str(&format!(" next {t}"));
    }
    s
}

fn markdown(summary: &Summary, out: &Path) -> String {
    let t = &summary.totals;
    let mut s = String::new();
    s.push_str("# DRQ co-simulation regression\n\n");
    match &summary.only_case {
        Some((c, seed)) => s.push_str(&format!("One case: `{c}` case seed {seed}")),
        None => s.push_str(&format!(
            "Base seed {}, {} cases per configuration",
            summary.seed, summary.cases_per_config
        )),
    }
    if summary.inject_fault {
        s.push_str(" (fault injected into every hardware result)");
    }
    s.push_str(&format!(
        ".\n\n**{} cases, {} failures**, {:.1} s with {} worker{} ({:.0} cases per minute). Output folder `{}`.\n\n",
        t.cases,
        t.failures,
        t.wall_seconds,
        t.jobs,
        if t.jobs == 1 { "" } else { "s" },
        t.cases_per_minute(),
        out.display()
    ));
    if t.failures > 0 {
        s.push_str("## Failures\n\n");
        for c in summary.failures() {
            s.push_str(&format!(
                "### {} case {}\n\n{}\n\n- reproduce: `{}`\n",
                c.config,
                c.case_seed,
                c.failure.as_deref().unwrap_or("failed"),
                c.repro
            ));
            if let Some(d) = &c.failure_dir {
                s.push_str(&format!(
                    "- files: `{d}/` (`sh {d}/repro.sh` runs the case and the layer through `drq sim` and `drq golden`)\n"
                ));
            }
            s.push('\n');
        }
    }
    s.push_str("## Configurations\n\n| configuration | cases | failures | mean speedup | seconds per case |\n|---|---:|---:|---:|---:|\n");
    for p in &t.per_config {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} |\n",
            p.config,
            p.cases,
            p.failures,
            p.mean_speedup.map_or("-".into(), |v| format!("{v:.2}x")),
            p.case_seconds / p.cases.max(1) as f64
        ));
    }
    s.push_str("\n## Cases\n\n| # | configuration | case seed | layer | sensitivity | bus | reset at | result | cycles | speedup |\n|---:|---|---:|---|---|---|---:|---|---:|---:|\n");
    // Every failure, then passing cases up to MD_CASE_ROWS rows; the
    // rest are in summary.json.
    let mut order: Vec<&CaseResult> = summary.failures().collect();
    let passing_rows = MD_CASE_ROWS.saturating_sub(order.len());
    order.extend(summary.cases.iter().filter(|c| c.pass).take(passing_rows));
    let left_out = summary.cases.len() - order.len();
    for c in order {
        let layer = describe_layer(&c.layer);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.index,
            c.config,
            c.case_seed,
            layer,
            c.sensitivity.describe(),
            c.timing.name(),
            if c.phase_resets > 0 {
                format!("each of {} phases", c.phase_resets)
            } else {
                c.reset_cycle.map_or("-".into(), |v| v.to_string())
            },
            if c.pass {
                "ok".to_string()
            } else {
                format!("**FAIL** `{}`", c.repro)
            },
            c.cycles_total.map_or("-".into(), |v| v.to_string()),
            c.speedup.map_or("-".into(), |v| format!("{v:.2}x")),
        ));
    }
    if left_out > 0 {
        s.push_str(&format!(
            "\n{left_out} more passing cases are listed in `summary.json`.\n"
        ));
    }
    s
}

/// Rows of the case table in `summary.md` (every failure is listed even
/// beyond it).
const MD_CASE_ROWS: usize = 2_000;

/// The layer chained after a case: it reads the case's output and
/// predicted mask on chip, through the other ping-pong halves (ACT1,
/// MASK1): 1x1, as many output channels as inputs, weights and bias drawn
/// from the case's shape. `None` when the case predicted no mask.
pub fn chained_layer(
    cfg: &AccelConfig,
    first: &drq_golden::Layer,
    gold: &drq_golden::LayerRun,
) -> Option<(drq_golden::Layer, drq_golden::LayerData)> {
    let mask = gold.mask_out.clone()?;
    let c = first.c_out;
    let layer = drq_golden::Layer::from_raw(&drq_golden::layer::RawLayer {
        threshold: first.next_threshold.unwrap_or(0).into(),
        requant_shift: 6,
        low_shift: (cfg.a_hi - cfg.a_lo).into(),
        w_low_shift: (cfg.w_hi - cfg.w_lo).into(),
        ..drq_golden::layer::RawLayer::conv(
            c.into(),
            c.into(),
            (first.ho().into(), first.wo().into()),
            1,
            1,
            0,
            (first.tile_h.into(), first.tile_w.into()),
        )
    })
    .ok()?;
    let mut rng = Rng::new(u64::from(c) * 7919 + u64::from(first.ho()));
    let (w_min, w_max) = cfg.w_range();
    let weights = drq_golden::tensor::Weights {
        c_out: c as usize,
        c_in: c as usize,
        k: 1,
        data: (0..c * c)
            .map(|_| rng.range(w_min.into(), w_max.into()) as i32)
            .collect(),
    };
    let data = drq_golden::LayerData {
        input: gold.y.clone(),
        weights,
        bias: (0..c).map(|_| rng.range(-500, 500) as i32).collect(),
        mask: Some(mask),
    };
    Some((layer, data))
}

/// Run the chained layer of a case (if any) on the accelerator that just
/// ran the case, against the golden model: its differences, prefixed.
pub(crate) fn chained_diffs(
    acc: &mut Accelerator,
    cfg: &AccelConfig,
    case: &Case,
    gold: &drq_golden::LayerRun,
    timeout: u64,
) -> Vec<String> {
    let Some((layer, data)) = chained_layer(cfg, &case.layer, gold) else {
        return Vec::new();
    };
    let gold2 = match run_layer(cfg, &layer, &data) {
        Ok(g) => g,
        Err(e) => return vec![format!("chained layer: the golden model failed: {e}")],
    };
    acc.run_timeout = timeout + gold2.counters.cycles_total * 4;
    match catch(|| acc.run_next_layer(&layer, &data.weights, &data.bias)) {
        Err(msg) => vec![format!(
            "chained layer (ACT1/MASK1): the hardware run failed: {msg}"
        )],
        Ok(Err(_)) => Vec::new(),
        Ok(Ok(hw)) => compare(&hw, &gold2)
            .into_iter()
            .map(|d| format!("chained layer (ACT1/MASK1): {d}"))
            .collect(),
    }
}

pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// Run the regression. Failing cases are reported in the returned summary
/// (and in `opts.out`); `Err` only when a file cannot be written or a model
/// cannot be built. `opts.jobs` workers take the cases in plan order, each
/// with its own Verilator models; `progress` gets one line per finished
/// case, counted in the order they finish. The summary lists the cases in
/// plan order, so it does not depend on the number of workers.
pub fn run_regression(
    opts: &RegressOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Summary, RegressError> {
    let start = Instant::now();
    let cases = plan(opts)?;
    // Everything goes to a staging folder, published at the end in one
    // step: the old summary and failures/ stay until then, and are then
    // replaced as a whole (other entries of the folder are kept).
    let stage = drq_golden::publish::Staging::new(&opts.out)?;
    let failures_dir = stage.path().join("failures");
    let n = cases.len();
    let next_case = AtomicUsize::new(0);
    let mut results: Vec<CaseResult> = Vec::with_capacity(n);
    let mut first_error: Option<RegressError> = None;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<WorkerMessage>();
        for _ in 0..opts.jobs.clamp(1, n.max(1)) {
            let tx = tx.clone();
            let (cases, next_case, failures_dir) = (&cases, &next_case, &failures_dir);
            scope.spawn(move || {
                // One accelerator per configuration and worker, rebuilt
                // after a panic.
                let mut acc: Option<(String, Accelerator)> = None;
                loop {
                    let i = next_case.fetch_add(1, Ordering::Relaxed);
                    let Some((nc, seed)) = cases.get(i) else {
                        break;
                    };
                    let note = |line: String| {
                        let _ = tx.send(WorkerMessage::Note(line));
                    };
                    let r = run_case(opts, nc, *seed, i + 1, &mut acc, failures_dir, &note);
                    let failed = r.is_err();
                    if tx.send(WorkerMessage::Case(r)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for message in rx {
            match message {
                WorkerMessage::Note(line) => progress(&line),
                WorkerMessage::Case(Ok((result, line))) => {
                    progress(&format!("[{}/{n}] {line}", results.len() + 1));
                    results.push(result);
                }
                WorkerMessage::Case(Err(e)) => {
                    // Stop handing out cases; the workers finish the ones
                    // they hold.
                    next_case.store(n, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    results.sort_by_key(|r| r.index);
    let mut per_config: Vec<ConfigTotals> = Vec::new();
    for (nc, _) in &cases {
        if per_config.iter().any(|p| p.config == nc.name) {
            continue;
        }
        let mine: Vec<&CaseResult> = results.iter().filter(|r| r.config == nc.name).collect();
        let sp: Vec<f64> = mine.iter().filter_map(|r| r.speedup).collect();
        per_config.push(ConfigTotals {
            config: nc.name.clone(),
            cases: mine.len(),
            failures: mine.iter().filter(|r| !r.pass).count(),
            mean_speedup: (!sp.is_empty()).then(|| sp.iter().sum::<f64>() / sp.len() as f64),
            case_seconds: mine.iter().map(|r| r.wall_seconds).sum(),
        });
    }
    let failures = results.iter().filter(|r| !r.pass).count();
    let summary = Summary {
        seed: opts.seed,
        cases_per_config: opts.cases_per_config,
        only_case: opts.only_case.clone(),
        inject_fault: opts.inject_fault,
        totals: Totals {
            cases: results.len(),
            failures,
            per_config,
            wall_seconds: start.elapsed().as_secs_f64(),
            jobs: opts.jobs.clamp(1, n.max(1)),
        },
        cases: results,
    };
    let mut json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
    json.push('\n');
    write_atomic(&stage.path().join("summary.json"), json.as_bytes())?;
    write_atomic(
        &stage.path().join("summary.md"),
        markdown(&summary, &opts.out).as_bytes(),
    )?;
    stage.publish(&regress_owns)?;
    let means: Vec<String> = summary
        .totals
        .per_config
        .iter()
        .filter_map(|p| p.mean_speedup.map(|m| format!("{} {m:.2}x", p.config)))
        .collect();
    progress(&format!(
        "regression: {} cases, {} failures, {:.1} s ({:.0} cases per minute, {} workers); mean speedup {}; summary in {}",
        summary.totals.cases,
        summary.totals.failures,
        summary.totals.wall_seconds,
        summary.totals.cases_per_minute(),
        summary.totals.jobs,
        if means.is_empty() {
            "-".into()
        } else {
            means.join(", ")
        },
        opts.out.join("summary.md").display()
    ));
    Ok(summary)
}

/// What a regression worker tells the thread that reports progress.
enum WorkerMessage {
    /// A line to show now (a model being built).
    Note(String),
    /// A finished case and its progress line, or why the run must stop.
    Case(Result<(CaseResult, String), RegressError>),
}

/// One case of the regression: the golden model, the hardware run (with its
/// resets and bus timing) and the chained layer, compared; a failing case's
/// folder written under `failures_dir`. `acc` is the worker's accelerator,
/// kept while the configuration stays the same. Returns the case's result
/// and its progress line (without the count).
fn run_case(
    opts: &RegressOptions,
    nc: &NamedConfig,
    seed: u64,
    index: usize,
    acc_slot: &mut Option<(String, Accelerator)>,
    failures_dir: &Path,
    note: &dyn Fn(String),
) -> Result<(CaseResult, String), RegressError> {
    let t0 = Instant::now();
    let case = make_case(nc, seed);
    let cfg = &nc.cfg;
    if acc_slot.as_ref().map(|(name, _)| name) != Some(&nc.name) {
        *acc_slot = None;
        note(format!(
            "{}: building or loading the Verilator model of drq_top",
            nc.name
        ));
        *acc_slot = Some((nc.name.clone(), build_accelerator(nc)?));
    }
    let gold = catch(|| run_layer(cfg, &case.layer, &case.data))
        .and_then(|r| r.map_err(|e| format!("golden model: {e}")));
    let speedup = gold.as_ref().ok().and_then(|g| {
        let base_layer = Layer {
            threshold: 0,
            ..case.layer
        };
        let base_data = LayerData {
            mask: None,
            ..case.data.clone()
        };
        catch(|| run_layer(cfg, &base_layer, &base_data))
            .ok()
            .and_then(|r| r.ok())
            .map(|b| b.counters.cycles_total as f64 / g.counters.cycles_total as f64)
    });
    let counters: Option<Counters> = gold.as_ref().ok().map(|g| g.counters);
    let resets = counters.map_or(Vec::new(), |c| case.resets(c.cycles_total));
    let reset_cycle = match resets[..] {
        [ResetAt::AfterStart(c)] => Some(c),
        _ => None,
    };
    let failure: Option<String> = match &gold {
        Err(e) => Some(format!("the golden model failed: {e}")),
        Ok(g) => {
            let timeout = run_timeout(g.counters.cycles_total);
            let (_, acc) = acc_slot.as_mut().expect("built above");
            match catch(|| drive(acc, &case, &resets, timeout)) {
                Err(msg) => {
                    // Rebuilt by the next case: a panic may leave it anywhere.
                    *acc_slot = None;
                    Some(format!("the hardware run failed: {msg}"))
                }
                Ok(mut hw) => {
                    if opts.inject_fault {
                        if let Some(v) = hw.y.data.first_mut() {
                            *v ^= 1;
                        }
                    }
                    let mut diffs = compare(&hw, g);
                    if diffs.is_empty() {
                        diffs = chained_diffs(acc, cfg, &case, g, timeout);
                    }
                    if diffs.is_empty() {
                        None
                    } else {
                        let mut text = diffs.join("\n");
                        if opts.inject_fault {
                            text.push_str("\n(fault injected: y[0] of the hardware flipped)");
                        }
                        Some(text)
                    }
                }
            }
        }
    };
    let failure_dir = match &failure {
        Some(f) => {
            let full = format!(
                "configuration {} ({}), case seed {}, {}, {} bus timing, {}\nlayer {}\n{f}",
                nc.name,
                describe_cfg(cfg),
                seed,
                case.sensitivity.describe(),
                case.timing.name(),
                describe_resets(&resets).unwrap_or_else(|| "no reset".into()),
                describe_layer(&case.layer)
            );
            Some(write_failure_folder(failures_dir, &case, &full)?)
        }
        None => None,
    };
    let wall = t0.elapsed().as_secs_f64();
    let how = {
        let mut s = format!("{} bus timing", case.timing.name());
        if let Some(r) = describe_resets(&resets) {
            s.push_str(&format!(", {r}"));
        }
        s
    };
    let line = match &failure {
        None => format!(
            "{} case {seed}: ok, {} cycles, speedup {:.2}x ({how})",
            nc.name,
            counters.map_or(0, |c| c.cycles_total),
            speedup.unwrap_or(f64::NAN),
        ),
        Some(f) => format!(
            "{} case {seed}: FAIL: {} ({how}); files in {}; replay: {}",
            nc.name,
            f.lines().next().unwrap_or(""),
            opts.out
                .join(failure_dir.as_deref().unwrap_or(""))
                .display(),
            repro_command(&nc.name, seed)
        ),
    };
    let result = CaseResult {
        index,
        config: nc.name.clone(),
        case_seed: seed,
        layer: case.layer,
        sensitivity: case.sensitivity,
        timing: case.timing,
        reset_cycle,
        phase_resets: resets
            .iter()
            .filter(|r| matches!(r, ResetAt::InRun(_) | ResetAt::Idle))
            .count(),
        poll_status: case.poll_status,
        pass: failure.is_none(),
        failure,
        cycles_total: counters.map(|c| c.cycles_total),
        token_cycles: counters.map(|c| c.token_cycles),
        steps_high: counters.map(|c| c.steps_high),
        steps_low: counters.map(|c| c.steps_low),
        speedup,
        repro: repro_command(&nc.name, seed),
        failure_dir,
        wall_seconds: wall,
    };
    Ok((result, line))
}

fn describe_cfg(c: &AccelConfig) -> String {
    format!(
        "{}x{} R{} A{}/{} W{}/{} ACC{} {}",
        c.rows,
        c.cols,
        c.region,
        c.a_hi,
        c.a_lo,
        c.w_hi,
        c.w_lo,
        c.acc_bits,
        c.pe.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use drq_golden::cycles::regions;
    use drq_golden::rng::test_seed;

    fn opts(out: &Path, seed: u64, configs: Vec<NamedConfig>, cases: usize) -> RegressOptions {
        RegressOptions {
            out: out.to_path_buf(),
            seed,
            cases_per_config: cases,
            configs,
            only_case: None,
            inject_fault: false,
            jobs: 1,
        }
    }

    fn read_json(p: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn print(line: &str) {
        eprintln!("{line}");
    }

    #[test]
    fn regress_small_run_passes_and_writes_both_summaries() {
        let seed = test_seed("regress_small_run_passes_and_writes_both_summaries");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("regress");
        // Stale output of an earlier run, and a file that must survive.
        std::fs::create_dir_all(out.join("failures/old-1")).unwrap();
        std::fs::write(out.join("summary.md"), "stale").unwrap();
        std::fs::write(out.join("keep.txt"), "mine").unwrap();
        let o = opts(&out, seed, quick_configs()[..2].to_vec(), 2);
        let mut lines = Vec::new();
        let s = run_regression(&o, &mut |l: &str| {
            print(l);
            lines.push(l.to_string());
        })
        .unwrap();
        assert!(s.passed(), "{:#?}", s.failures().collect::<Vec<_>>());
        assert_eq!(s.totals.cases, 4);
        assert!(!out.join("failures").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("keep.txt")).unwrap(),
            "mine"
        );
        let j = read_json(&out.join("summary.json"));
        assert_eq!(j["cases"].as_array().unwrap().len(), 4);
        assert_eq!(j["totals"]["cases"], 4);
        assert_eq!(j["totals"]["failures"], 0);
        assert_eq!(j["totals"]["per_config"].as_array().unwrap().len(), 2);
        for c in j["cases"].as_array().unwrap() {
            assert_eq!(c["pass"], true);
            assert!(c["failure"].is_null());
            assert!(c["cycles_total"].as_u64().unwrap() > 0);
            // T = 0 (no input-mask phase) is never faster than a case
            // without one either: a host mask, or a threshold that decides
            // the mask. A mask predicted at 0 < T <= a_max costs its phase,
            // so such a case may be slower than the baseline.
            if c["sensitivity"] != "some" {
                assert!(c["speedup"].as_f64().unwrap() >= 1.0, "{c}");
            }
            assert!(c["speedup"].as_f64().unwrap() > 0.0, "{c}");
            assert!(c["layer"]["c_in"].as_u64().is_some());
        }
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("4 cases, 0 failures"), "{md}");
        assert!(md.contains("4x4-r2-ov-sp") && md.contains("3x5-r4-a6w6-acc48"));
        assert_eq!(lines.iter().filter(|l| l.starts_with('[')).count(), 4);
        assert!(lines.last().unwrap().contains("4 cases, 0 failures"));
    }

    /// Two workers run the same cases as one and report them in the same
    /// (plan) order with the same results; a failing case is still
    /// reported as such with its folder.
    #[test]
    fn regress_workers_do_not_change_the_summary() {
        let seed = test_seed("regress_workers_do_not_change_the_summary");
        let dir = tempfile::tempdir().unwrap();
        let configs = quick_configs()[..3].to_vec();
        let run = |jobs: usize, inject_fault: bool| {
            let out = dir.path().join(format!("j{jobs}-{inject_fault}"));
            let mut o = opts(&out, seed, configs.clone(), 3);
            o.jobs = jobs;
            o.inject_fault = inject_fault;
            let mut lines = Vec::new();
            let s = run_regression(&o, &mut |l: &str| lines.push(l.to_string())).unwrap();
            (s, lines, out)
        };
        let (one, _, _) = run(1, false);
        let (two, lines, _) = run(2, false);
        assert_eq!(two.totals.jobs, 2);
        assert_eq!(one.totals.jobs, 1);
        let key = |s: &Summary| {
            s.cases
                .iter()
                .map(|c| {
                    (
                        c.index,
                        c.config.clone(),
                        c.case_seed,
                        c.pass,
                        c.cycles_total,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&one), key(&two));
        assert!(key(&two).iter().enumerate().all(|(i, k)| k.0 == i + 1));
        // One progress line per case, counted 1..=n in finishing order.
        let counted: Vec<&String> = lines.iter().filter(|l| l.starts_with('[')).collect();
        assert_eq!(counted.len(), 9);
        for (k, l) in counted.iter().enumerate() {
            assert!(l.starts_with(&format!("[{}/9] ", k + 1)), "{l}");
        }
        let (bad, _, out) = run(2, true);
        assert_eq!(bad.totals.failures, 9);
        for c in &bad.cases {
            let d = c.failure_dir.as_deref().expect("a failure folder");
            assert!(out.join(d).join("failure.txt").is_file(), "{d}");
        }
    }

    #[test]
    fn regress_injected_fault_is_reported_with_a_complete_failure_folder() {
        let seed = test_seed("regress_injected_fault_is_reported_with_a_complete_failure_folder");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("regress");
        let mut o = opts(&out, seed, quick_configs()[..1].to_vec(), 1);
        o.inject_fault = true;
        let s = run_regression(&o, &mut print).unwrap();
        assert_eq!((s.totals.cases, s.totals.failures), (1, 1));
        let c = &s.cases[0];
        assert!(!c.pass);
        assert!(
            c.failure
                .as_deref()
                .unwrap()
                .contains("y differs at index 0"),
            "{c:?}"
        );
        let j = read_json(&out.join("summary.json"));
        assert_eq!(j["totals"]["failures"], 1);
        assert_eq!(j["cases"][0]["pass"], false);
        assert!(j["cases"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("y differs"));
        let name = failure_dir_name(&c.config, c.case_seed);
        let f = out.join("failures").join(&name);
        let mut expected = vec![
            "config.toml",
            "layer.json",
            "x.npy",
            "w.npy",
            "b.npy",
            "failure.txt",
            "repro.sh",
        ];
        let case = make_case(&quick_configs()[0], c.case_seed);
        if case.data.mask.is_some() {
            expected.push("mask.npy");
        }
        let mut found: Vec<String> = std::fs::read_dir(&f)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(found, want);
        let script = std::fs::read_to_string(f.join("repro.sh")).unwrap();
        assert!(script.contains(&format!(
            "\ndrq regress --only 4x4-r2-ov-sp --case-seed {} ",
            c.case_seed
        )));
        assert!(script.contains("\ndrq sim --config config.toml --layer layer.json"));
        assert!(
            script.contains("\ndrq golden --config config.toml") && script.contains("--out gold")
        );
        assert!(script.contains("cmp"));
        // The saved files read back as the same configuration and layer.
        let cfg = AccelConfig::load(Some(&f.join("config.toml")), &Default::default()).unwrap();
        assert_eq!(cfg, quick_configs()[0].cfg);
        let layer = Layer::load(&f.join("layer.json"), &cfg).unwrap();
        assert_eq!(layer, case.layer);
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("## Failures") && md.contains(&c.repro), "{md}");
        // Re-running the case alone gives the same layer (and the same failure).
        let out2 = dir.path().join("again");
        let mut o2 = opts(&out2, 0, quick_configs(), 0);
        o2.inject_fault = true;
        o2.only_case = Some((c.config.clone(), c.case_seed));
        let s2 = run_regression(&o2, &mut print).unwrap();
        assert_eq!(s2.totals.cases, 1);
        assert_eq!(s2.cases[0].case_seed, c.case_seed);
        assert_eq!(s2.cases[0].reset_cycle, c.reset_cycle);
        assert_eq!(s2.cases[0].failure, c.failure);
        let a = std::fs::read(f.join("layer.json")).unwrap();
        let b = std::fs::read(out2.join("failures").join(&name).join("layer.json")).unwrap();
        assert_eq!(a, b);
    }

    /// Every case that predicts a mask has a chained layer reading that
    /// output and mask, and the chained layer fits the configuration.
    #[test]
    fn cases_with_a_predicted_mask_get_a_chained_layer() {
        let mut chained = 0;
        for nc in quick_configs() {
            for i in 0..12 {
                let case = make_case(&nc, case_seed(3, &nc.name, i));
                let gold = run_layer(&nc.cfg, &case.layer, &case.data).unwrap();
                match chained_layer(&nc.cfg, &case.layer, &gold) {
                    None => assert!(gold.mask_out.is_none(), "{} case {i}", nc.name),
                    Some((layer, data)) => {
                        chained += 1;
                        assert_eq!(data.input, gold.y);
                        assert_eq!(data.mask, gold.mask_out);
                        assert_eq!(
                            (layer.c_in, layer.h, layer.w),
                            (case.layer.c_out, case.layer.ho(), case.layer.wo())
                        );
                        run_layer(&nc.cfg, &layer, &data).unwrap();
                    }
                }
            }
        }
        assert!(chained > 10, "only {chained} chained layers");
    }

    /// Within the first ten cases of every configuration (what `drq
    /// mutate` runs by default), one predicts a map with more regions
    /// than half the predictor's memory, so its upper addresses are used.
    #[test]
    fn cases_use_the_upper_half_of_the_predictor_memory() {
        for nc in quick_configs() {
            let cfg = &nc.cfg;
            let most = (0..10)
                .map(|i| {
                    let case = make_case(&nc, case_seed(1, &nc.name, i));
                    let l = &case.layer;
                    let n_in = if case.run_phases().input_mask_phases(cfg, l) {
                        regions(cfg, l.c_in, l.h, l.w)
                    } else {
                        0
                    };
                    let n_out = if l.next_threshold.is_some() {
                        regions(cfg, l.c_out, l.ho(), l.wo())
                    } else {
                        0
                    };
                    n_in.max(n_out)
                })
                .max()
                .unwrap();
            println!("{}: at most {most} regions of {}", nc.name, cfg.mask_words);
            assert!(
                2 * most > u64::from(cfg.mask_words),
                "{}: at most {most} regions predicted, the memory has {}",
                nc.name,
                cfg.mask_words
            );
        }
    }

    #[test]
    fn regress_case_list_is_a_function_of_seed_and_configs() {
        let seed = test_seed("regress_case_list_is_a_function_of_seed_and_configs");
        let configs = default_configs();
        let n = configs.len();
        let o = opts(Path::new("unused"), seed, configs, 5);
        let (p1, p2) = (plan(&o).unwrap(), plan(&o).unwrap());
        assert_eq!(p1.len(), 5 * n);
        assert_eq!(p1, p2);
        for (nc, s) in &p1 {
            let (a, b) = (make_case(nc, *s), make_case(nc, *s));
            assert_eq!(a.layer, b.layer);
            assert_eq!(a.data.input, b.data.input);
            assert_eq!(a.data.weights, b.data.weights);
            assert_eq!(a.data.bias, b.data.bias);
            assert_eq!(a.data.mask, b.data.mask);
            assert_eq!(
                (
                    a.sensitivity,
                    a.timing,
                    a.reset_draw,
                    a.bus_seed,
                    a.poll_status,
                    a.reset_every_phase
                ),
                (
                    b.sensitivity,
                    b.timing,
                    b.reset_draw,
                    b.bus_seed,
                    b.poll_status,
                    b.reset_every_phase
                )
            );
            assert!(a.layer.check(&nc.cfg).is_ok() && check_fits(&nc.cfg, &a.layer).is_ok());
        }
        // Distinct seeds per case; another base seed gives other cases.
        let mut seeds: Vec<u64> = p1.iter().map(|(_, s)| *s).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), 5 * n);
        let other = plan(&RegressOptions {
            seed: seed.wrapping_add(1),
            ..o.clone()
        })
        .unwrap();
        assert_ne!(p1, other);
        // The case list does not depend on which other configurations run.
        let alone = plan(&RegressOptions {
            configs: default_configs()[2..3].to_vec(),
            ..o
        })
        .unwrap();
        assert_eq!(alone[..], p1[10..15]);
        // An unknown configuration is an error naming the known ones.
        let e = plan(&RegressOptions {
            only_case: Some(("nope".into(), 1)),
            ..opts(Path::new("unused"), 1, vec![], 0)
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("nope") && e.contains("4x4-r2-ov-sp"), "{e}");
    }
}
