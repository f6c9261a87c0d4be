//! Code and functional coverage of the emitted `drq_top` over the
//! co-simulation regression (`drq coverage`, `make coverage`).
//!
//! * **Code coverage.** Every configuration's `drq_top` is verilated with
//!   `--coverage-line --coverage-toggle` ([`crate::sim::SimOptions::coverage`],
//!   a cache entry of its own) and runs the regression's cases exactly as
//!   `drq regress` does ([`crate::regress::plan`], [`make_case`], [`drive`],
//!   the chained layer). Each model writes Verilator's `coverage.dat` when
//!   it is dropped; the files of a configuration are merged (counts summed
//!   per coverage point) into `dat/<config>.dat`, readable by
//!   `verilator_coverage`. A line of `drq_top.v` counts when it is in the
//!   line list (`linescov`) of one of Verilator's line or branch coverage
//!   points (a statement of a block, or of an `if` or `else` arm); it is
//!   covered when such a point was reached at least once. Branch points
//!   (both arms of every `if`, an implicit `else` included) are counted
//!   too. A toggle point is one bit of one signal (Verilator's
//!   `--coverage-max-width`, 256, leaves out wider arrays such as the
//!   buffer memories); covered when it toggled. Both are given per block
//!   ([`crate::mutate::block_of`] of the point's module), per configuration
//!   and summed over the configurations.
//! * **Functional coverage.** Cover points that matter for DRQ, counted
//!   from what each passing run really did: the golden model's schedule of
//!   the run (the RTL is checked equal to it, counters included) for step
//!   modes, tiles and padding edges, and the host's own record of its bus
//!   stalls and resets ([`crate::axil_bfm::BusLog`],
//!   [`crate::driver::HostLog`]) laid over the run's phases
//!   ([`run_timeline`], from the golden cycle formula, anchored at the
//!   start command; every completed run checks the anchor: its interrupt
//!   comes exactly `cycles_total` cycles after its first cycle).
//!
//! Outputs (`report.json`, `report.md`, `dat/`) are staged and published
//! in one step ([`drq_golden::publish`]).

use crate::axil_bfm::{BusLog, Timing};
use crate::driver::{Accelerator, HostLog, START_LATENCY};
use crate::mutate::block_of;
use crate::regress::{
    catch, chained_diffs, chained_layer, drive, make_case, plan, Case, NamedConfig, RegressOptions,
    ResetAt,
};
use crate::scoreboard::compare;
use crate::sim::SimOptions;
use drq_arch::regs::phase;
use drq_arch::AccelConfig;
use drq_golden::cycles::{MaskPhases, RunPhases};
use drq_golden::schedule::{InputSensitivity, Lowering};
use drq_golden::tensor::Mask;
use drq_golden::{run_layer, Layer};
use drq_hdl::top::top_design;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The names of `STATUS.phase` codes 0..=9 (`drq_arch::regs::phase`).
pub const PHASE_NAMES: [&str; 10] = [
    "IDLE",
    "PIN_START",
    "PIN_CLEAR",
    "PIN_SCAN",
    "PIN_WAIT",
    "POUT_START",
    "POUT_CLEAR",
    "CONV_START",
    "CONV",
    "POUT_WAIT",
];

/// One phase of a run: its code and its cycles `start..start + len`
/// counted from the run's first cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub phase: u64,
    pub start: u64,
    pub len: u64,
}

/// The phases of a run of `layer` in order, from the golden cycle formula
/// (`drq_golden::cycles::MaskPhases`, docs/spec.md §7.3): the mask phases
/// before the layer, CONV_START 1, CONV the rest, POUT_WAIT.
pub fn run_timeline(
    cfg: &AccelConfig,
    layer: &Layer,
    phases: RunPhases,
    cycles_total: u64,
) -> Vec<Segment> {
    let m = MaskPhases::of(cfg, layer, phases);
    let conv = cycles_total.saturating_sub(m.before_conv() + m.pout_wait);
    let mut v: Vec<Segment> = Vec::new();
    let mut push = |phase: u64, len: u64| {
        let start = v.last().map_or(0, |s| s.start + s.len);
        if len > 0 {
            v.push(Segment { phase, start, len });
        }
    };
    push(phase::PIN_START, m.pin_start);
    push(phase::PIN_CLEAR, m.pin_clear);
    push(phase::PIN_SCAN, m.pin_scan);
    push(phase::PIN_WAIT, m.pin_wait);
    push(phase::POUT_START, m.pout_start);
    push(phase::POUT_CLEAR, m.pout_clear);
    push(phase::CONV_START, 1);
    push(phase::CONV, conv.saturating_sub(1));
    push(phase::POUT_WAIT, m.pout_wait);
    v
}

/// The phase at cycle `offset` of a run (IDLE past its end).
pub fn phase_at(timeline: &[Segment], offset: u64) -> u64 {
    timeline
        .iter()
        .find(|s| offset >= s.start && offset < s.start + s.len)
        .map_or(phase::IDLE, |s| s.phase)
}

/// A functional cover point: how often it was hit.
#[derive(Debug, Clone, Serialize)]
pub struct CoverPoint {
    pub name: String,
    pub description: String,
    pub count: u64,
    pub hit: bool,
}

/// The counts behind the cover points.
#[derive(Debug, Clone, Default)]
pub struct Functional {
    /// [previous step HIGH][this step HIGH]: consecutive steps as the
    /// controller issues them (within a tile and across tiles of a run).
    pub step_after: [[u64; 2]; 2],
    /// HIGH/LOW changes between consecutive steps of one tile.
    pub switches_in_tile: u64,
    pub tiles_all_high: u64,
    pub tiles_all_low: u64,
    pub tiles_mixed: u64,
    /// Tiles whose window reads the padding at the top, bottom, left, right.
    pub padding: [u64; 4],
    /// Host bus stall cycles in each phase.
    pub stalls: [u64; 10],
    /// Resets in each phase.
    pub resets: [u64; 10],
    /// Completed runs whose interrupt time was checked against the
    /// timeline, and those where it disagreed.
    pub anchors_checked: u64,
    pub anchor_mismatches: Vec<String>,
}

impl Functional {
    /// Step modes, tiles and padding of one complete run of `layer` whose
    /// input mask was `mask_in`.
    pub fn add_schedule(&mut self, cfg: &AccelConfig, layer: &Layer, mask_in: &Mask) {
        let r = cfg.region as usize;
        let (c, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
        let sens = InputSensitivity::new(mask_in, r, c, h, w);
        let low = Lowering::new(cfg, layer);
        let steps: BTreeMap<u32, Vec<bool>> = low
            .pixel_tiles()
            .map(|t| {
                (
                    t.index,
                    low.tile_steps(&sens, &t).iter().map(|s| s.high).collect(),
                )
            })
            .collect();
        let (k, s, p) = (layer.kernel, layer.stride, layer.padding);
        let mut prev: Option<bool> = None;
        for (_, tile) in low.tiles() {
            let modes = &steps[&tile.index];
            for &m in modes {
                if let Some(q) = prev {
                    self.step_after[usize::from(q)][usize::from(m)] += 1;
                }
                prev = Some(m);
            }
            self.switches_in_tile += modes.windows(2).filter(|x| x[0] != x[1]).count() as u64;
            match (modes.iter().any(|&m| m), modes.iter().all(|&m| m)) {
                (_, true) => self.tiles_all_high += 1,
                (false, _) => self.tiles_all_low += 1,
                _ => self.tiles_mixed += 1,
            }
            // Rows oh0 .. oh0 + valid_h - 1 read input rows oh * S - P ..
            // oh * S - P + K - 1; likewise columns.
            let last_h = tile.oh0 + tile.valid_h - 1;
            let last_w = tile.ow0 + tile.valid_w - 1;
            let edges = [
                tile.oh0 * s < p,
                last_h * s + k > layer.h + p,
                tile.ow0 * s < p,
                last_w * s + k > layer.w + p,
            ];
            for (n, e) in self.padding.iter_mut().zip(edges) {
                *n += u64::from(e);
            }
        }
    }

    /// The host's stalls and resets during one case, laid over its runs.
    /// `runs`: the timeline and cycles_total of the run of every
    /// `CMD.start` in `host.starts`, in order.
    pub fn add_bus(
        &mut self,
        runs: &[(Vec<Segment>, u64)],
        host: &HostLog,
        bus: &BusLog,
        what: &str,
    ) {
        // Each run's window: its first cycle, its timeline, and its last
        // cycle + 1 (cut short by a reset).
        let mut windows: Vec<(u64, &[Segment], u64)> = Vec::new();
        for (i, (&hs, (timeline, ct))) in host.starts.iter().zip(runs).enumerate() {
            let first = hs + START_LATENCY;
            let next_start = host.starts.get(i + 1).copied().unwrap_or(u64::MAX);
            let mut end = first + ct;
            if let Some(&r) = bus.resets.iter().find(|&&r| r >= first && r < end) {
                end = r + 1;
                self.resets[phase_at(timeline, r - first) as usize] += 1;
            } else if let Some(&(low, high)) = host
                .irqs
                .iter()
                .find(|&&(low, high)| low >= hs && high <= next_start)
            {
                // The host waited for this run (not for a later one: a
                // run started with the interrupt off and reset after it
                // ended has none); irq rose after `low` and at or before
                // `high`.
                self.anchors_checked += 1;
                let expect = first + ct;
                if !(low < expect && expect <= high) {
                    self.anchor_mismatches.push(format!(
                        "{what}, run {}: interrupt rose in cycles {}..={high}, the timeline ends at {expect}",
                        i + 1,
                        low + 1
                    ));
                }
            }
            windows.push((first, timeline, end));
        }
        for &r in &bus.resets {
            if !windows.iter().any(|&(f, _, e)| r >= f && r < e) {
                self.resets[phase::IDLE as usize] += 1;
            }
        }
        let mut in_runs = 0u64;
        let total: u64 = bus.stalls.iter().map(|(a, b)| b - a + 1).sum();
        for &(first, timeline, end) in &windows {
            for seg in timeline {
                let (a, b) = (first + seg.start, (first + seg.start + seg.len).min(end));
                if a >= b {
                    continue;
                }
                let n: u64 = bus
                    .stalls
                    .iter()
                    .map(|&(x, y)| (y + 1).min(b).saturating_sub(x.max(a)))
                    .sum();
                self.stalls[seg.phase as usize] += n;
                in_runs += n;
            }
        }
        self.stalls[phase::IDLE as usize] += total - in_runs;
    }

    /// The cover points, in report order.
    pub fn points(&self) -> Vec<CoverPoint> {
        let mut v = Vec::new();
        let mut put = |name: String, description: String, count: u64| {
            v.push(CoverPoint {
                name,
                description,
                count,
                hit: count > 0,
            })
        };
        let mode = ["LOW", "HIGH"];
        for prev in 0..2 {
            for cur in 0..2 {
                put(
                    format!("step.{}_after_{}", mode[cur], mode[prev]).to_lowercase(),
                    format!(
                        "a {} step right after a {} step (consecutive steps as issued)",
                        mode[cur], mode[prev]
                    ),
                    self.step_after[prev][cur],
                );
            }
        }
        put(
            "tile.mode_switch".into(),
            "a HIGH/LOW change between consecutive steps of one tile".into(),
            self.switches_in_tile,
        );
        put(
            "tile.all_high".into(),
            "a tile whose steps are all HIGH".into(),
            self.tiles_all_high,
        );
        put(
            "tile.all_low".into(),
            "a tile whose steps are all LOW".into(),
            self.tiles_all_low,
        );
        put(
            "tile.mixed".into(),
            "a tile with HIGH and LOW steps".into(),
            self.tiles_mixed,
        );
        for (i, edge) in ["top", "bottom", "left", "right"].iter().enumerate() {
            put(
                format!("padding.{edge}"),
                format!("a tile whose window reads the {edge} padding"),
                self.padding[i],
            );
        }
        for (i, name) in PHASE_NAMES.iter().enumerate() {
            put(
                format!("stall.{}", name.to_lowercase()),
                format!("host bus stall cycles (a response held back) in phase {name}"),
                self.stalls[i],
            );
        }
        for (i, name) in PHASE_NAMES.iter().enumerate() {
            put(
                format!("reset.{}", name.to_lowercase()),
                format!("a reset in phase {name}"),
                self.resets[i],
            );
        }
        v
    }
}

/// One entry of Verilator's coverage database: its key (the fields
/// between the quotes) and its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatPoint {
    pub key: String,
    pub count: u64,
}

impl DatPoint {
    /// A field of the key (`f` file, `l` line, `page`, `o` comment, `S`
    /// lines covered, `h` hierarchy).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.key.split('\u{1}').find_map(|kv| {
            let (k, v) = kv.split_once('\u{2}')?;
            (k == name).then_some(v)
        })
    }
}

/// Read a `coverage.dat` (`C '<key>' <count>` lines).
pub fn parse_dat(text: &str) -> Result<Vec<DatPoint>, String> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let bad = || format!("line {}: not a coverage point: {line:.80}", i + 1);
        let rest = line.strip_prefix("C '").ok_or_else(bad)?;
        let (key, count) = rest.rsplit_once("' ").ok_or_else(bad)?;
        let count = count.trim().parse().map_err(|_| bad())?;
        v.push(DatPoint {
            key: key.to_string(),
            count,
        });
    }
    Ok(v)
}

/// Sum the counts of equal keys (keys in first-seen order).
pub fn merge_points(files: &[Vec<DatPoint>]) -> Vec<DatPoint> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out: Vec<DatPoint> = Vec::new();
    for f in files {
        for p in f {
            match index.get(p.key.as_str()) {
                Some(&i) => out[i].count += p.count,
                None => {
                    index.insert(&p.key, out.len());
                    out.push(p.clone());
                }
            }
        }
    }
    out
}

/// The points in `coverage.dat` format.
pub fn write_dat(points: &[DatPoint]) -> String {
    let mut s = String::from("# SystemC::Coverage-3\n");
    for p in points {
        s.push_str(&format!("C '{}' {}\n", p.key, p.count));
    }
    s
}

/// Covered out of total, in percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ratio {
    pub covered: u64,
    pub total: u64,
    pub percent: f64,
}

impl Ratio {
    fn add(&mut self, covered: bool) {
        self.total += 1;
        self.covered += u64::from(covered);
        self.fix();
    }
    fn sum(&mut self, o: &Ratio) {
        self.total += o.total;
        self.covered += o.covered;
        self.fix();
    }
    fn fix(&mut self) {
        self.percent = if self.total == 0 {
            100.0
        } else {
            100.0 * self.covered as f64 / self.total as f64
        };
    }
}

/// Line and toggle coverage of one block.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BlockCoverage {
    pub lines: Ratio,
    pub toggles: Ratio,
}

/// A line of `drq_top.v` that no run reached.
#[derive(Debug, Clone, Serialize)]
pub struct UncoveredLine {
    pub config: String,
    pub line: u64,
    pub module: String,
    pub block: String,
    pub text: String,
    /// Why no case reaches it ([`uncovered_reason`]).
    pub reason: String,
}

/// Why a line of `drq_top.v` is not reached, from its block, its text and
/// the configuration (`int8`: the PE kind), for the report; the last rule
/// says that no reason is known, for a person to look at.
pub fn uncovered_reason(int8: bool, block: &str, text: &str) -> &'static str {
    let has = |p: &str| text.contains(p);
    if has("rd_data <= 64'd0") {
        "a read past the memory's depth (addresses carry one bit more): the top never issues one"
    } else if has("stride_bit_") || has("stride_shift_") {
        "a stride with this bit set (4, 8, 16, or 3/5/6/7 with bit 2): not drawn in these cases"
    } else if has("default:") {
        "the token ROM's default: an index past the ROM, never addressed"
    } else if int8 && (block == "array" || block == "top") {
        "INT8 baseline: DRQ-only logic under the constant drq = 0 (input-mask prediction, the PE's \
         LOW path, sensitivities), emitted, never run"
    } else if has("act1") || has("act_sel_q") {
        "ACT1 from the host (a write, an input mask predicted from ACT1): the driver loads first \
         layers into ACT0"
    } else {
        "no reason known: not reached by these cases"
    }
}

/// Code coverage of one configuration's `drq_top`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CodeCoverage {
    pub lines: Ratio,
    pub toggles: Ratio,
    /// Verilator's branch points (`if` and `else`, implicit ones too).
    pub branches: Ratio,
    pub blocks: BTreeMap<String, BlockCoverage>,
    pub uncovered: Vec<UncoveredLine>,
}

/// Line and toggle coverage of the points of one `drq_top.v` (`verilog`,
/// for the text of uncovered lines).
pub fn code_coverage(config: &str, int8: bool, points: &[DatPoint], verilog: &str) -> CodeCoverage {
    let text: Vec<&str> = verilog.lines().collect();
    // line -> (module, a point listing it reached)
    let mut lines: BTreeMap<u64, (String, bool)> = BTreeMap::new();
    let mut c = CodeCoverage::default();
    for p in points {
        let Some(page) = p.field("page") else {
            continue;
        };
        let Some((kind, module)) = page.split_once('/') else {
            continue;
        };
        match kind {
            "v_line" | "v_branch" => {
                if kind == "v_branch" {
                    c.branches.add(p.count > 0);
                }
                // The lines the point stands for; an implicit `else` has
                // none (it is a branch, not a line).
                let mut nums: Vec<u64> = Vec::new();
                for part in p.field("S").unwrap_or("").split(',') {
                    match part.split_once('-') {
                        Some((a, b)) => {
                            if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                                nums.extend(a..=b);
                            }
                        }
                        None => nums.extend(part.parse::<u64>().ok()),
                    }
                }
                for n in nums {
                    let e = lines
                        .entry(n)
                        .or_insert_with(|| (module.to_string(), false));
                    e.1 |= p.count > 0;
                }
            }
            "v_toggle" => {
                let b = block_of(module).to_string();
                c.toggles.add(p.count > 0);
                c.blocks.entry(b).or_default().toggles.add(p.count > 0);
            }
            _ => {}
        }
    }
    for (n, (module, hit)) in lines {
        let b = block_of(&module).to_string();
        c.lines.add(hit);
        c.blocks.entry(b.clone()).or_default().lines.add(hit);
        if !hit {
            let source = text
                .get(n as usize - 1)
                .map_or(String::new(), |t| t.trim().to_string());
            c.uncovered.push(UncoveredLine {
                config: config.to_string(),
                line: n,
                module,
                reason: uncovered_reason(int8, &b, &source).to_string(),
                block: b,
                text: source,
            });
        }
    }
    c
}

/// What `drq coverage` runs and where it writes.
#[derive(Debug, Clone)]
pub struct CoverageOptions {
    pub out: PathBuf,
    pub seed: u64,
    pub cases_per_config: usize,
    pub configs: Vec<NamedConfig>,
    /// Toggle coverage only of signals at most this many bits wide
    /// (`None`: every signal, the emitted Verilog's 64-bit words included).
    pub toggle_max_width: Option<u32>,
}

/// One case of the run.
#[derive(Debug, Clone, Serialize)]
pub struct CaseLine {
    pub config: String,
    pub case_seed: u64,
    pub pass: bool,
    pub failure: Option<String>,
}

/// One configuration's results.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigReport {
    pub config: String,
    pub cases: usize,
    pub failures: usize,
    /// The merged database, relative to the output folder.
    pub dat: String,
    #[serde(flatten)]
    pub code: CodeCoverage,
}

/// `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub seed: u64,
    pub cases_per_config: usize,
    pub configs: Vec<ConfigReport>,
    /// Summed over the configurations.
    pub total_lines: Ratio,
    pub total_toggles: Ratio,
    /// Toggles were counted only on signals at most this wide (`None`:
    /// every signal).
    pub toggle_max_width: Option<u32>,
    pub total_branches: Ratio,
    pub total_blocks: BTreeMap<String, BlockCoverage>,
    pub cover_points: Vec<CoverPoint>,
    pub cover_points_hit: usize,
    /// Completed runs whose interrupt time confirmed the phase timeline,
    /// and every disagreement (none expected).
    pub timeline_checks: u64,
    pub timeline_mismatches: Vec<String>,
    pub cases: Vec<CaseLine>,
    pub seconds: f64,
}

impl CoverageReport {
    pub fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.pass).count()
    }
    pub fn point(&self, name: &str) -> Option<&CoverPoint> {
        self.cover_points.iter().find(|p| p.name == name)
    }
}

/// Run one case on a coverage model with the host's record on; the
/// failure, if any, and adds what the run did to `f`.
fn run_case(
    acc: &mut Accelerator,
    nc: &NamedConfig,
    seed: u64,
    f: &mut Functional,
) -> Option<String> {
    let cfg = &nc.cfg;
    let case: Case = make_case(nc, seed);
    let gold = match catch(|| run_layer(cfg, &case.layer, &case.data)) {
        Ok(Ok(g)) => g,
        Ok(Err(e)) => return Some(format!("the golden model failed: {e}")),
        Err(e) => return Some(format!("the golden model failed: {e}")),
    };
    let ct = gold.counters.cycles_total;
    let timeout = ct.saturating_mul(4) + 100_000;
    let resets = case.resets(ct);
    acc.host_log = Some(HostLog::default());
    acc.bus.log = Some(BusLog::default());
    let mut diffs = match catch(|| drive(acc, &case, &resets, timeout)) {
        Err(msg) => vec![format!("the hardware run failed: {msg}")],
        Ok(hw) => compare(&hw, &gold),
    };
    let chained = chained_layer(cfg, &case.layer, &gold);
    if diffs.is_empty() {
        diffs = chained_diffs(acc, cfg, &case, &gold, timeout);
    }
    let host = acc.host_log.take().unwrap_or_default();
    let bus = acc.bus.log.take().unwrap_or_default();
    if !diffs.is_empty() {
        return Some(diffs.join("\n"));
    }
    // The runs of the case in start order: one per reset that followed a
    // start, the real run, the chained layer.
    let timeline = run_timeline(cfg, &case.layer, case.run_phases(), ct);
    let started = resets.iter().filter(|r| **r != ResetAt::Idle).count();
    let mut runs: Vec<(Vec<Segment>, u64)> = vec![(timeline, ct); started + 1];
    f.add_schedule(cfg, &case.layer, &gold.mask_in);
    if let Some((layer2, data2)) = chained {
        match run_layer(cfg, &layer2, &data2) {
            Ok(g2) => {
                let phases = RunPhases {
                    predict_in: false,
                    predict_out: layer2.next_threshold.is_some(),
                };
                let ct2 = g2.counters.cycles_total;
                runs.push((run_timeline(cfg, &layer2, phases, ct2), ct2));
                f.add_schedule(cfg, &layer2, &g2.mask_in);
            }
            Err(e) => return Some(format!("chained layer: the golden model failed: {e}")),
        }
    }
    if runs.len() != host.starts.len() {
        return Some(format!(
            "the host wrote {} starts for {} runs",
            host.starts.len(),
            runs.len()
        ));
    }
    let what = format!("{} case {seed}", nc.name);
    f.add_bus(&runs, &host, &bus, &what);
    None
}

/// Run the regression's cases on coverage models of every configuration
/// and write `report.json`, `report.md` and `dat/<config>.dat`.
pub fn run_coverage(
    opts: &CoverageOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<CoverageReport, String> {
    let start = Instant::now();
    let ropts = RegressOptions {
        out: opts.out.clone(),
        seed: opts.seed,
        cases_per_config: opts.cases_per_config,
        configs: opts.configs.clone(),
        only_case: None,
        inject_fault: false,
        jobs: 1,
    };
    let cases = plan(&ropts).map_err(|e| e.to_string())?;
    let mut stage = drq_golden::publish::Staging::new(&opts.out).map_err(|e| e.to_string())?;
    let raw = stage.path().join("raw");
    let dat_dir = stage.path().join("dat");
    std::fs::create_dir_all(&dat_dir).map_err(|e| format!("{}: {e}", dat_dir.display()))?;
    let mut f = Functional::default();
    let mut lines: Vec<CaseLine> = Vec::new();
    let mut configs: Vec<ConfigReport> = Vec::new();
    let n = cases.len();
    let mut done = 0;
    for nc in &opts.configs {
        let mine: Vec<u64> = cases
            .iter()
            .filter(|(c, _)| c.name == nc.name)
            .map(|(_, s)| *s)
            .collect();
        progress(&format!(
            "{}: building or loading the coverage model of drq_top",
            nc.name
        ));
        let mut instance = 0;
        let mut files: Vec<PathBuf> = Vec::new();
        let new_model = |instance: &mut usize, files: &mut Vec<PathBuf>| {
            *instance += 1;
            let path = raw.join(format!("{}-{}.dat", nc.name, instance));
            files.push(path.clone());
            let o = SimOptions {
                vcd: None,
                coverage: Some(path),
                toggle_max_width: opts.toggle_max_width,
            };
            match catch(|| Accelerator::new(&nc.cfg, &o, 0, Timing::FAST)) {
                Ok(Ok(a)) => Ok(a),
                Ok(Err(e)) => Err(format!("{}: cannot build the coverage model: {e}", nc.name)),
                Err(e) => Err(format!(
                    "{}: the coverage model does not come up: {e}",
                    nc.name
                )),
            }
        };
        let mut acc = Some(new_model(&mut instance, &mut files)?);
        let mut failures = 0;
        for &seed in &mine {
            let t0 = Instant::now();
            if acc.is_none() {
                acc = Some(new_model(&mut instance, &mut files)?);
            }
            let failure = run_case(acc.as_mut().expect("built"), nc, seed, &mut f);
            done += 1;
            match &failure {
                None => progress(&format!(
                    "[{done}/{n}] {} case {seed}: ok ({:.1} s)",
                    nc.name,
                    t0.elapsed().as_secs_f64()
                )),
                Some(e) => {
                    failures += 1;
                    // The model may be in any state: a fresh one for the rest.
                    acc = None;
                    progress(&format!(
                        "[{done}/{n}] {} case {seed}: FAIL: {} (replay: drq regress --only {} --case-seed {seed})",
                        nc.name,
                        e.lines().next().unwrap_or(""),
                        nc.name
                    ))
                }
            }
            lines.push(CaseLine {
                config: nc.name.clone(),
                case_seed: seed,
                pass: failure.is_none(),
                failure,
            });
        }
        // The directed host checks (what the driver never does: error
        // responses, buffer reads while busy, an oversize map), as `drq
        // mutate` runs them; counted with the cases' coverage.
        if acc.is_none() {
            acc = Some(new_model(&mut instance, &mut files)?);
        }
        let check_seed = mine.first().copied().unwrap_or(opts.seed);
        let model = acc.as_mut().expect("built");
        match catch(|| crate::host_checks::all(model, check_seed)) {
            Ok(()) => progress(&format!("{}: host checks ok", nc.name)),
            Err(e) => {
                failures += 1;
                progress(&format!("{}: host checks FAIL: {e}", nc.name));
                lines.push(CaseLine {
                    config: nc.name.clone(),
                    case_seed: check_seed,
                    pass: false,
                    failure: Some(format!("host checks: {e}")),
                });
            }
        }
        // Dropping the model writes its database.
        drop(acc);
        let mut parsed = Vec::new();
        for p in &files {
            if !p.exists() {
                continue;
            }
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            parsed.push(parse_dat(&text).map_err(|e| format!("{}: {e}", p.display()))?);
        }
        if parsed.is_empty() {
            return Err(format!("{}: no coverage database was written", nc.name));
        }
        let merged = merge_points(&parsed);
        let dat = format!("dat/{}.dat", nc.name);
        stage
            .write(&dat, write_dat(&merged).as_bytes())
            .map_err(|e| e.to_string())?;
        let int8 = nc.cfg.pe == drq_arch::config::PeKind::Int8;
        let code = code_coverage(&nc.name, int8, &merged, &top_design(&nc.cfg).verilog);
        progress(&format!(
            "{}: lines {:.1} % ({} of {}), toggles {:.1} %",
            nc.name, code.lines.percent, code.lines.covered, code.lines.total, code.toggles.percent
        ));
        configs.push(ConfigReport {
            config: nc.name.clone(),
            cases: mine.len(),
            failures,
            dat,
            code,
        });
    }
    let _ = std::fs::remove_dir_all(&raw);
    let mut total_lines = Ratio::default();
    let mut total_toggles = Ratio::default();
    let mut total_branches = Ratio::default();
    let mut total_blocks: BTreeMap<String, BlockCoverage> = BTreeMap::new();
    for c in &configs {
        total_lines.sum(&c.code.lines);
        total_toggles.sum(&c.code.toggles);
        total_branches.sum(&c.code.branches);
        for (b, v) in &c.code.blocks {
            let t = total_blocks.entry(b.clone()).or_default();
            t.lines.sum(&v.lines);
            t.toggles.sum(&v.toggles);
        }
    }
    let points = f.points();
    let report = CoverageReport {
        seed: opts.seed,
        cases_per_config: opts.cases_per_config,
        total_lines,
        total_toggles,
        toggle_max_width: opts.toggle_max_width,
        total_branches,
        total_blocks,
        cover_points_hit: points.iter().filter(|p| p.hit).count(),
        cover_points: points,
        timeline_checks: f.anchors_checked,
        timeline_mismatches: f.anchor_mismatches.clone(),
        configs,
        cases: lines,
        seconds: start.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_string_pretty(&report).expect("report serialises") + "\n";
    let fail = |e: drq_golden::publish::PublishError| e.to_string();
    stage.write("report.json", json.as_bytes()).map_err(fail)?;
    stage
        .write("report.md", markdown(&report, &opts.out).as_bytes())
        .map_err(fail)?;
    stage
        .publish(&|name| matches!(name, "report.json" | "report.md" | "dat"))
        .map_err(fail)?;
    Ok(report)
}

fn pct(r: &Ratio) -> String {
    format!("{:.1} % ({}/{})", r.percent, r.covered, r.total)
}

fn markdown(r: &CoverageReport, out: &Path) -> String {
    let mut s = format!(
        "# Coverage of drq_top over the regression\n\n\
         Seed {}, {} cases per configuration ({} cases, {} failures), {:.0} s. Output folder `{}`.\n\n\
         **Lines {}, toggles {}, branches {}, cover points hit {} of {}.**\n\n",
        r.seed,
        r.cases_per_config,
        r.cases.len(),
        r.failures(),
        r.seconds,
        out.display(),
        pct(&r.total_lines),
        pct(&r.total_toggles),
        pct(&r.total_branches),
        r.cover_points_hit,
        r.cover_points.len()
    );
    let toggled = match r.toggle_max_width {
        None => "every bit of every signal (arrays deeper than 256 left out)".to_string(),
        Some(w) => {
            format!("every bit of every signal at most {w} bits wide (`--toggle-max-width`)")
        }
    };
    s.push_str(&format!(
        "A line counts when it is a statement of one of Verilator's line or branch \
         coverage points (a block, an `if` or `else` arm); it is covered when that point \
         was reached. Branches: both arms of every `if`, implicit `else` included. Toggles: {toggled}. \
         Summed over the configurations below; `docs/verification.md` has the details.\n\n",
    ));
    if r.failures() > 0 {
        s.push_str("## Failures\n\n");
        for c in r.cases.iter().filter(|c| !c.pass) {
            s.push_str(&format!(
                "- {} case {}: {} (replay: `drq regress --only {} --case-seed {}`)\n",
                c.config,
                c.case_seed,
                c.failure
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or(""),
                c.config,
                c.case_seed
            ));
        }
        s.push('\n');
    }
    s.push_str(
        "## Per block (all configurations)\n\n| block | lines | toggles |\n|---|---:|---:|\n",
    );
    for (b, v) in &r.total_blocks {
        s.push_str(&format!(
            "| {b} | {} | {} |\n",
            pct(&v.lines),
            pct(&v.toggles)
        ));
    }
    s.push_str(&format!(
        "| **all** | {} | {} |\n\n## Per configuration\n\n| configuration | cases | failures | lines | toggles | branches |\n|---|---:|---:|---:|---:|---:|\n",
        pct(&r.total_lines),
        pct(&r.total_toggles)
    ));
    for c in &r.configs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            c.config,
            c.cases,
            c.failures,
            pct(&c.code.lines),
            pct(&c.code.toggles),
            pct(&c.code.branches)
        ));
    }
    s.push_str(
        "\n## Functional cover points\n\n| point | count | hit | what |\n|---|---:|---|---|\n",
    );
    for p in &r.cover_points {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            p.name,
            p.count,
            if p.hit { "hit" } else { "**MISSED**" },
            p.description
        ));
    }
    s.push_str(&format!(
        "\nPhase timeline: {} completed runs checked (the run's end, `cycles_total` cycles after \
         its first cycle, lies in the cycles where the host saw the interrupt rise: exact when it \
         watched every cycle), {} disagreements.\n",
        r.timeline_checks,
        r.timeline_mismatches.len()
    ));
    for m in &r.timeline_mismatches {
        s.push_str(&format!("- {m}\n"));
    }
    s.push_str("\n## Uncovered lines\n\nBy reason, over all configurations:\n\n| lines | reason |\n|---:|---|\n");
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for u in r.configs.iter().flat_map(|c| &c.code.uncovered) {
        *reasons.entry(u.reason.as_str()).or_default() += 1;
    }
    for (reason, n) in &reasons {
        s.push_str(&format!("| {n} | {reason} |\n"));
    }
    s.push('\n');
    for c in &r.configs {
        s.push_str(&format!(
            "### {} ({} lines, `{}`)\n\n",
            c.config,
            c.code.uncovered.len(),
            c.dat
        ));
        if c.code.uncovered.is_empty() {
            s.push_str("None.\n\n");
            continue;
        }
        s.push_str("| line | block | module | source | reason |\n|---:|---|---|---|---|\n");
        for u in &c.code.uncovered {
            s.push_str(&format!(
                "| {} | {} | `{}` | `{}` | {} |\n",
                u.line,
                u.block,
                u.module,
                u.text.replace('|', "\\|"),
                u.reason
            ));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regress::cfg_4x4;

    #[test]
    fn timeline_adds_up_to_cycles_total_and_orders_the_phases() {
        let cfg = cfg_4x4();
        let layer = Layer::from_raw(&drq_golden::layer::RawLayer {
            threshold: 5,
            next_threshold: Some(3),
            ..drq_golden::layer::RawLayer::conv(2, 3, (5, 6), 3, 1, 1, (2, 2))
        })
        .unwrap();
        for (pin, pout) in [(false, false), (true, false), (false, true), (true, true)] {
            let phases = RunPhases {
                predict_in: pin,
                predict_out: pout,
            };
            let tl = run_timeline(&cfg, &layer, phases, 5000);
            assert_eq!(tl.iter().map(|s| s.len).sum::<u64>(), 5000);
            for w in tl.windows(2) {
                assert_eq!(w[0].start + w[0].len, w[1].start);
                assert!(w[0].phase != w[1].phase);
            }
            let codes: Vec<u64> = tl.iter().map(|s| s.phase).collect();
            assert_eq!(codes.contains(&phase::PIN_SCAN), pin);
            assert_eq!(codes.contains(&phase::POUT_WAIT), pout);
            assert!(codes.contains(&phase::CONV));
            assert_eq!(phase_at(&tl, 5000), phase::IDLE);
            assert_eq!(phase_at(&tl, 0), codes[0]);
        }
        let tl = run_timeline(
            &cfg,
            &layer,
            RunPhases {
                predict_in: true,
                predict_out: false,
            },
            5000,
        );
        // 2 x 5 x 6 values, 2 x 3 x 3 regions of 2 x 2.
        assert_eq!(
            tl[..4].iter().map(|s| s.len).collect::<Vec<_>>(),
            vec![1, 18 + 5, 60, 18 + 6]
        );
    }

    #[test]
    fn stalls_and_resets_land_in_the_phase_of_their_cycle() {
        let tl = vec![
            Segment {
                phase: phase::CONV_START,
                start: 0,
                len: 1,
            },
            Segment {
                phase: phase::CONV,
                start: 1,
                len: 9,
            },
        ];
        let mut f = Functional::default();
        // Run 1 starts at 100 + START_LATENCY, reset 5 cycles in; run 2 completes.
        let s1 = 100 + START_LATENCY;
        let host = HostLog {
            starts: vec![100, 200],
            irqs: vec![(200 + START_LATENCY + 9, 200 + START_LATENCY + 10)],
        };
        let bus = BusLog {
            stalls: vec![(s1 - 2, s1 + 1), (s1 + 8, s1 + 8)],
            resets: vec![s1 + 5, 50],
        };
        f.add_bus(&[(tl.clone(), 10), (tl, 10)], &host, &bus, "t");
        assert_eq!(f.resets[phase::CONV as usize], 1);
        assert_eq!(f.resets[phase::IDLE as usize], 1);
        assert_eq!(f.stalls[phase::CONV_START as usize], 1);
        assert_eq!(f.stalls[phase::CONV as usize], 1);
        // Two before the run, one after its reset.
        assert_eq!(f.stalls[phase::IDLE as usize], 3);
        assert_eq!(f.anchors_checked, 1);
        assert!(f.anchor_mismatches.is_empty());
        let host = HostLog {
            starts: vec![200],
            irqs: vec![(200 + START_LATENCY + 10, 200 + START_LATENCY + 11)],
        };
        f.add_bus(&[(vec![], 10)], &host, &BusLog::default(), "late");
        assert_eq!(f.anchor_mismatches.len(), 1, "{:?}", f.anchor_mismatches);
        // A host busy for 400 cycles (a held-back write response) sees the
        // interrupt late: consistent when the end lies in the window.
        let mut f = Functional::default();
        let host = HostLog {
            starts: vec![200],
            irqs: vec![(200, 200 + START_LATENCY + 400)],
        };
        f.add_bus(&[(vec![], 10)], &host, &BusLog::default(), "busy");
        assert!(f.anchor_mismatches.is_empty(), "{:?}", f.anchor_mismatches);
        let host = HostLog {
            starts: vec![200],
            irqs: vec![(200, 200 + START_LATENCY + 9)],
        };
        f.add_bus(&[(vec![], 10)], &host, &BusLog::default(), "early");
        assert_eq!(f.anchor_mismatches.len(), 1, "{:?}", f.anchor_mismatches);
        // A run started with the interrupt off and reset only after it
        // ended (at 150) has no interrupt of its own: the next run's is
        // not its anchor. The reset falls outside every run.
        let mut f = Functional::default();
        let host = HostLog {
            starts: vec![100, 200],
            irqs: vec![(200 + START_LATENCY + 9, 200 + START_LATENCY + 10)],
        };
        let bus = BusLog {
            stalls: vec![],
            resets: vec![150],
        };
        f.add_bus(
            &[(vec![], 10), (vec![], 10)],
            &host,
            &bus,
            "reset after done",
        );
        assert!(f.anchor_mismatches.is_empty(), "{:?}", f.anchor_mismatches);
        assert_eq!(f.anchors_checked, 1);
        assert_eq!(f.resets[phase::IDLE as usize], 1);
    }

    /// Each uncovered line gets the reason of its kind; an unknown kind
    /// says so instead of guessing.
    #[test]
    fn uncovered_lines_get_a_reason_each() {
        let r = |int8, block, text| uncovered_reason(int8, block, text);
        assert!(r(false, "buffers", "else rd_data <= 64'd0;").contains("past the memory's depth"));
        assert!(r(false, "controller", "if (|(s_q_q & stride_bit_3)) begin").contains("stride"));
        assert!(r(true, "array", "sens_q_d_calc = sens_in;").contains("INT8"));
        assert!(r(false, "array", "sens_q_d_calc = sens_in;").contains("no reason known"));
        assert!(r(false, "top", "act1_wr_en_calc = 1'b1;").contains("ACT1"));
        assert!(r(false, "controller", "default: begin a_shift <= 64'd0; end").contains("ROM"));
    }

    #[test]
    fn dat_files_parse_merge_and_round_trip() {
        let key = |l: u32, page: &str| {
            format!("\u{1}f\u{2}drq_top.v\u{1}l\u{2}{l}\u{1}page\u{2}{page}\u{1}S\u{2}{l}-{}\u{1}h\u{2}TOP.x", l + 1)
        };
        let text = format!(
            "# SystemC::Coverage-3\nC '{}' 3\nC '{}' 0\nC '{}' 0\n",
            key(3, "v_line/drq_top_core_ctrl"),
            key(5, "v_line/drq_top_core_pred"),
            key(9, "v_toggle/drq_top_core_pred"),
        );
        let a = parse_dat(&text).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].field("l"), Some("3"));
        assert_eq!(a[1].field("page"), Some("v_line/drq_top_core_pred"));
        let mut b = a.clone();
        b[1].count = 2;
        let m = merge_points(&[a.clone(), b]);
        assert_eq!(m.iter().map(|p| p.count).collect::<Vec<_>>(), vec![6, 2, 0]);
        assert_eq!(parse_dat(&write_dat(&m)).unwrap(), m);
        let verilog = (1..=10)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let c = code_coverage("x", false, &a, &verilog);
        assert_eq!((c.lines.covered, c.lines.total), (2, 4));
        assert_eq!((c.toggles.covered, c.toggles.total), (0, 1));
        assert_eq!(c.blocks["controller"].lines.covered, 2);
        assert_eq!(c.blocks["predictor"].lines.total, 2);
        assert_eq!(c.uncovered.len(), 2);
        assert_eq!(c.uncovered[0].text, "line 5");
        assert_eq!(c.uncovered[0].block, "predictor");
        assert!(parse_dat("C 'x 3\n").is_err());
    }
}
