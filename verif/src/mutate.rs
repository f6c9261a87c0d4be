//! Mutation analysis of the emitted `drq_top` (`drq mutate`, `make
//! mutate`), in the spirit of YosysHQ's mcy: does the regression notice a
//! single fault in the RTL?
//!
//! 1. **Sites.** Every combinational or clocked assignment and every `if`
//!    of the emitted Verilog is a site; each gets the mutations that apply
//!    to it ([`Mutation`]): an operator swapped, a constant off by one, a
//!    condition inverted, the value stuck at 0. Each site is attributed to
//!    the block whose instance path names its module ([`block_of`]).
//! 2. **Sample.** Sites are drawn reproducibly from the seed, round-robin
//!    over the blocks, so every block is sampled.
//! 3. **Run.** Each mutant is verilated (the model cache is keyed by the
//!    Verilog, so a rerun with the same seed builds nothing) and the test
//!    runs against it: `cases` regression cases of the configuration
//!    (random layers, sensitivities, bus timings and mid-layer resets, as
//!    `drq regress`) and a chained layer through the other ping-pong
//!    halves, then the directed checks of [`crate::host_checks`] (error
//!    responses, buffer reads while busy, an oversize output map).
//!    Killed: a case differs from the golden model, a check of the bus,
//!    the driver or the host checks fails, or the model does not build. Timeout: a run
//!    exceeds its cycle budget. Survived: every case passes.
//! 4. **Equivalence.** A survivor is given to Yosys: the mutated module
//!    against the original (`equiv_make`, `equiv_simple`, `equiv_induct`);
//!    failing that, a survivor whose assigned signal is outside the cone
//!    of influence of the top's outputs in every instance
//!    ([`crate::liveness`]) is equivalent too. Proven equivalent mutants
//!    are not faults and leave the score.
//!
//! The report (`report.json`, `report.md`) gives the score per block and
//! configuration and every survivor's site.

use crate::driver::Accelerator;
use crate::liveness::{assigned_signal, Liveness};
use crate::regress::{catch, drive, make_case, NamedConfig};
use crate::sim::{Model, SimOptions};
use drq_golden::rng::Rng;
use drq_golden::run_layer;
use drq_hdl::shell::Design;
use drq_hdl::top::top_design;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One way to change one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mutation {
    /// Operator class: `op`, `const`, `cond`, `stuck0`.
    pub class: &'static str,
    /// The line after the change.
    pub mutated: String,
}

/// A line of the emitted Verilog that can be mutated.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// 1-based line in the emitted `drq_top.v`.
    pub line: usize,
    pub module: String,
    pub block: String,
    pub original: String,
    pub mutations: Vec<Mutation>,
}

/// The block a module of `drq_top` belongs to, from the instance path its
/// name is made of (`drq_top_core_ctrl_...`: the controller, its
/// sub-blocks `nest`, `issue` and `counters` included), by the
/// longest instance-path prefix listed (the slave inside the host
/// interface is its own block). A module shared by instances of several
/// blocks (a plain register, say) is named after its first instance; the
/// top's own ones count as `top`.
pub fn block_of(module: &str) -> &'static str {
    const BLOCKS: [(&str, &str); 8] = [
        ("ctrl", "controller"),
        ("seq", "sequencer"),
        ("array", "array"),
        ("ostage", "output_stage"),
        ("pred", "predictor"),
        ("regs_slave", "axil"),
        ("regs", "regfile"),
        ("bufs", "buffers"),
    ];
    let Some(rest) = module.strip_prefix("drq_top_core") else {
        return "shell";
    };
    let path: Vec<&str> = rest
        .split(|c| c == '$' || c == '_')
        .filter(|s| !s.is_empty())
        .collect();
    BLOCKS
        .iter()
        .filter(|(prefix, _)| {
            let p: Vec<&str> = prefix.split('_').collect();
            path.starts_with(&p)
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or("top", |(_, b)| *b)
}

/// Swaps of binary operators: (operator, replacement). Longer operators
/// are matched first, so `<=` is never read as `<`.
const OPERATOR_SWAPS: [(&str, &str); 11] = [
    ("==", "!="),
    ("!=", "=="),
    ("<<", ">>"),
    (">>", "<<"),
    (">=", "<"),
    ("<=", ">"),
    (" < ", " >= "),
    (" > ", " <= "),
    (" + ", " - "),
    (" - ", " + "),
    (" & ", " | "),
];

/// The mutations of an assignment's right-hand side.
fn rhs_mutations(indent: &str, lhs: &str, op: &str, rhs: &str) -> Vec<Mutation> {
    let line = |rhs: String| format!("{indent}{lhs} {op} {rhs};");
    let mut out = vec![Mutation {
        class: "stuck0",
        mutated: line("0".into()),
    }];
    // Operator swaps: each occurrence of each operator, one at a time.
    let bytes = rhs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &rhs[i..];
        let hit = OPERATOR_SWAPS
            .iter()
            .chain([(" | ", " & "), (" ^ ", " | ")].iter())
            .find(|(from, _)| rest.starts_with(from));
        match hit {
            Some((from, to)) => {
                out.push(Mutation {
                    class: "op",
                    mutated: line(format!("{}{to}{}", &rhs[..i], &rhs[i + from.len()..])),
                });
                i += from.len();
            }
            None => i += 1,
        }
    }
    // Sized constants off by one: 64'h1f -> 64'h20, 8'd3 -> 8'd4.
    for (pos, _) in rhs.match_indices('\'') {
        let (base, digits_at) = match rhs[pos + 1..].chars().next() {
            Some('h') => (16, pos + 2),
            Some('d') => (10, pos + 2),
            _ => continue,
        };
        let end = rhs[digits_at..]
            .find(|c: char| !c.is_ascii_hexdigit() && c != '_')
            .map_or(rhs.len(), |e| digits_at + e);
        let digits: String = rhs[digits_at..end].chars().filter(|&c| c != '_').collect();
        if let Ok(v) = u128::from_str_radix(&digits, base) {
            let bumped = if base == 16 {
                format!("{:x}", v.wrapping_add(1))
            } else {
                format!("{}", v.wrapping_add(1))
            };
            out.push(Mutation {
                class: "const",
                mutated: line(format!("{}{bumped}{}", &rhs[..digits_at], &rhs[end..])),
            });
        }
    }
    out
}

/// The mutations of one line, if it is a site.
fn line_mutations(text: &str) -> Vec<Mutation> {
    let trimmed = text.trim_start();
    let indent = &text[..text.len() - trimmed.len()];
    if let Some(cond) = trimmed
        .strip_prefix("if (")
        .and_then(|c| c.strip_suffix(") begin"))
    {
        return vec![Mutation {
            class: "cond",
            mutated: format!("{indent}if (!({cond})) begin"),
        }];
    }
    let Some(body) = trimmed.strip_suffix(';') else {
        return Vec::new();
    };
    let (lhs, op, rhs) = match (body.split_once(" <= "), body.split_once(" = ")) {
        (Some((l, r)), _) => (l, "<=", r),
        (None, Some((l, r))) => (l, "=", r),
        _ => return Vec::new(),
    };
    let lhs = lhs.trim();
    // Declarations, clock and reset wiring and the "hold" defaults of
    // rust-hdl's kernels are not logic of the design.
    if lhs.contains(' ')
        || lhs.ends_with("$clock")
        || lhs.ends_with("$reset")
        || (lhs.ends_with("$d") && rhs == format!("{}$q", &lhs[..lhs.len() - 2]))
        || (lhs.ends_with("_d_calc") && rhs == format!("{}_q", &lhs[..lhs.len() - 7]))
        || rhs == "0"
    {
        return Vec::new();
    }
    rhs_mutations(indent, lhs, op, rhs)
}

/// Every mutation site of a design's Verilog, in line order.
/// Every module of emitted Verilog: (name, text from `module` to
/// `endmodule` inclusive), in file order.
pub fn module_bodies(verilog: &str) -> Vec<(String, String)> {
    verilog
        .split("\nmodule ")
        .skip(1)
        .filter_map(|b| {
            let text = format!("module {}", b.split("endmodule").next()?) + "endmodule\n";
            let name = module_name(&text)?.to_string();
            Some((name, text))
        })
        .collect()
}

/// The module a `module <name>(...` line of emitted Verilog declares.
pub fn module_name(line: &str) -> Option<&str> {
    line.strip_prefix("module ").map(|rest| {
        rest.split(|c: char| c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("")
    })
}

pub fn sites(verilog: &str) -> Vec<Site> {
    let mut module = String::new();
    let mut out = Vec::new();
    for (i, text) in verilog.lines().enumerate() {
        if let Some(name) = module_name(text) {
            module = name.to_string();
            continue;
        }
        let mutations = line_mutations(text);
        if !mutations.is_empty() {
            out.push(Site {
                line: i + 1,
                block: block_of(&module).to_string(),
                module: module.clone(),
                original: text.to_string(),
                mutations,
            });
        }
    }
    out
}

/// One sampled mutant.
#[derive(Debug, Clone, Serialize)]
pub struct Mutant {
    pub config: String,
    pub site: usize,
    pub line: usize,
    pub module: String,
    pub block: String,
    pub class: &'static str,
    pub original: String,
    pub mutated: String,
}

/// Draw `count` mutants of a configuration's `drq_top`: a random site of
/// each block in turn (so every block is sampled), a random mutation of it.
pub fn sample(config: &str, verilog: &str, count: usize, seed: u64) -> Vec<Mutant> {
    let all = sites(verilog);
    let mut by_block: BTreeMap<&str, Vec<(usize, &Site)>> = BTreeMap::new();
    for (i, s) in all.iter().enumerate() {
        if s.block != "shell" {
            by_block.entry(s.block.as_str()).or_default().push((i, s));
        }
    }
    let mut rng = Rng::new(seed);
    for v in by_block.values_mut() {
        // Fisher-Yates.
        for i in (1..v.len()).rev() {
            let j = rng.range(0, i as i64) as usize;
            v.swap(i, j);
        }
    }
    let mut out = Vec::new();
    let mut round = 0;
    while out.len() < count && by_block.values().any(|v| round < v.len()) {
        for v in by_block.values() {
            if out.len() == count {
                break;
            }
            if let Some(&(site, s)) = v.get(round) {
                let m = &s.mutations[rng.range(0, s.mutations.len() as i64 - 1) as usize];
                out.push(Mutant {
                    config: config.to_string(),
                    site,
                    line: s.line,
                    module: s.module.clone(),
                    block: s.block.clone(),
                    class: m.class,
                    original: s.original.clone(),
                    mutated: m.mutated.clone(),
                });
            }
        }
        round += 1;
    }
    out
}

/// The design with one line replaced.
pub fn apply(design: &Design, m: &Mutant) -> Design {
    let mut lines: Vec<&str> = design.verilog.lines().collect();
    assert_eq!(lines[m.line - 1], m.original, "mutant of another design");
    lines[m.line - 1] = &m.mutated;
    let mut verilog = lines.join("\n");
    verilog.push('\n');
    Design {
        verilog,
        ..design.clone()
    }
}

/// What the test made of a mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Killed,
    Survived,
    Timeout,
    /// Survived, and Yosys proved the mutated module equal to the original.
    Equivalent,
}

#[derive(Debug, Clone, Serialize)]
pub struct MutantResult {
    #[serde(flatten)]
    pub mutant: Mutant,
    pub verdict: Verdict,
    /// Why it was killed (the first failing check), or why not proven.
    pub detail: String,
    pub seconds: f64,
}

/// Rounds of the register file's unit testbench per mutant.
const REGFILE_ROUNDS: usize = 32;

/// Run the regression cases of `nc` against a mutated design, then the
/// directed host checks and the register file's unit testbench.
pub fn run_mutant(nc: &NamedConfig, design: &Design, cases: &[u64]) -> (Verdict, String) {
    let model = match catch(|| Model::new(design, &SimOptions::default())) {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return (Verdict::Killed, format!("model build: {e}")),
        Err(p) => return (Verdict::Killed, format!("model build: {p}")),
    };
    let acc = catch(|| Accelerator::from_model(&nc.cfg, model, 0, crate::axil_bfm::Timing::FAST));
    let mut acc = match acc {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return (Verdict::Killed, format!("model: {e}")),
        Err(p) => return (Verdict::Killed, format!("ID/INFO check: {p}")),
    };
    for &seed in cases {
        let case = make_case(nc, seed);
        let gold = match run_layer(&nc.cfg, &case.layer, &case.data) {
            Ok(g) => g,
            Err(e) => {
                return (
                    Verdict::Survived,
                    format!("golden model refused case {seed}: {e}"),
                )
            }
        };
        let timeout = gold.counters.cycles_total * 4 + 10_000;
        let resets = case.resets(gold.counters.cycles_total);
        let diffs = match catch(|| drive(&mut acc, &case, &resets, timeout)) {
            Err(msg) => vec![format!("the hardware run failed: {msg}")],
            Ok(hw) => {
                let d = crate::scoreboard::compare(&hw, &gold);
                if d.is_empty() {
                    // The layer's output, chained through the other halves.
                    crate::regress::chained_diffs(&mut acc, &nc.cfg, &case, &gold, timeout)
                } else {
                    d
                }
            }
        };
        if let Some(d) = diffs.first() {
            let verdict = if d.contains("no interrupt after") {
                Verdict::Timeout
            } else {
                Verdict::Killed
            };
            return (verdict, format!("case {seed}: {d}"));
        }
    }
    // The directed host-interface checks the layer runs never provoke.
    let seed = cases.first().copied().unwrap_or(1);
    if let Err(msg) = catch(|| crate::host_checks::all(&mut acc, seed)) {
        let verdict = if msg.contains("no interrupt") {
            Verdict::Timeout
        } else {
            Verdict::Killed
        };
        return (verdict, format!("host checks: {msg}"));
    }
    // The register file's own testbench: the counters' high words, which
    // no run through the top reaches (its build is cached unless the
    // mutant is in the register file).
    let regfile =
        catch(|| crate::regfile_tb::check_register_file(design, &nc.cfg, seed, REGFILE_ROUNDS));
    match regfile {
        Ok(Ok(())) => (Verdict::Survived, String::new()),
        Ok(Err(msg)) | Err(msg) => (Verdict::Killed, format!("register file testbench: {msg}")),
    }
}

/// Try to prove a surviving mutant equivalent to the original with Yosys:
/// the mutated module against the original one, every other module a
/// black box. `Ok(true)`: proven equivalent.
pub fn prove_equivalent(design: &Design, m: &Mutant, dir: &Path) -> Result<bool, String> {
    let module_text = |verilog: &str| -> String {
        module_bodies(verilog)
            .into_iter()
            .find(|(name, _)| *name == m.module)
            .expect("the mutant's module")
            .1
    };
    let gold = module_text(&design.verilog);
    let gate = module_text(&apply(design, m).verilog).replacen(
        &format!("module {}(", m.module),
        "module drq_mutant_gate(",
        1,
    );
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let others: String = module_bodies(&design.verilog)
        .into_iter()
        .filter(|(name, _)| *name != m.module)
        .map(|(_, text)| text)
        .collect();
    std::fs::write(dir.join("others.v"), others).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("gold.v"), gold).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("gate.v"), gate).map_err(|e| e.to_string())?;
    let script = format!(
        "read_verilog -lib others.v; read_verilog gold.v gate.v; proc; opt_clean; memory; \
         equiv_make {} drq_mutant_gate equiv; hierarchy -top equiv; \
         equiv_simple -seq 4; equiv_induct -seq 4; equiv_status -assert",
        m.module
    );
    let out = Command::new("timeout")
        .args(["120", "yosys", "-q", "-p", &script])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("yosys: {e}"))?;
    Ok(out.status.success())
}

/// Options of `drq mutate`.
#[derive(Debug, Clone)]
pub struct MutateOptions {
    pub configs: Vec<NamedConfig>,
    /// Mutants per configuration.
    pub mutants: usize,
    /// Regression cases each mutant runs.
    pub cases: usize,
    pub seed: u64,
    /// Mutants run at once.
    pub jobs: usize,
    pub out: PathBuf,
    /// Try to prove survivors equivalent with Yosys.
    pub prove: bool,
}

/// Per-block (or per-configuration) tallies.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub killed: usize,
    pub survived: usize,
    pub timeout: usize,
    pub equivalent: usize,
}

impl Tally {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Killed => self.killed += 1,
            Verdict::Survived => self.survived += 1,
            Verdict::Timeout => self.timeout += 1,
            Verdict::Equivalent => self.equivalent += 1,
        }
    }
    /// Killed (timeouts count as detected) over the mutants not proven
    /// equivalent, in percent.
    pub fn score(&self) -> f64 {
        let n = self.killed + self.survived + self.timeout;
        if n == 0 {
            100.0
        } else {
            100.0 * (self.killed + self.timeout) as f64 / n as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MutateReport {
    pub seed: u64,
    pub cases_per_mutant: usize,
    pub mutants: usize,
    pub score: f64,
    pub total: Tally,
    pub by_block: BTreeMap<String, Tally>,
    pub by_config: BTreeMap<String, Tally>,
    pub seconds: f64,
    pub results: Vec<MutantResult>,
}

/// Run the mutation analysis and write `report.json` and `report.md`.
pub fn run_mutation(
    opts: &MutateOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<MutateReport, String> {
    let start = Instant::now();
    // All or nothing (docs/reliability.md): everything goes to a staging
    // folder beside `opts.out`, published when the report is written.
    let mut stage = drq_golden::publish::Staging::new(&opts.out).map_err(|e| e.to_string())?;
    let scratch = stage.path().to_path_buf();
    let mut work: Vec<(NamedConfig, Design, Mutant, Vec<u64>)> = Vec::new();
    let mut baselines: Vec<(NamedConfig, Design, Vec<u64>)> = Vec::new();
    for (ci, nc) in opts.configs.iter().enumerate() {
        let design = top_design(&nc.cfg);
        let seed = opts.seed ^ (ci as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let cases: Vec<u64> = (0..opts.cases)
            .map(|i| crate::regress::case_seed(opts.seed, &nc.name, i))
            .collect();
        for m in sample(&nc.name, &design.verilog, opts.mutants, seed) {
            work.push((
                NamedConfig::new(&nc.name, nc.cfg),
                design.clone(),
                m,
                cases.clone(),
            ));
        }
        baselines.push((NamedConfig::new(&nc.name, nc.cfg), design, cases));
    }
    let total = work.len();
    // Mutants panic by design (a failed check is a kill): keep stderr for
    // the progress lines, not a backtrace per kill.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // The test must pass on the unmutated design, or every kill is void.
    for (nc, design, cases) in &baselines {
        let (verdict, detail) = run_mutant(nc, design, cases);
        if verdict != Verdict::Survived {
            std::panic::set_hook(hook);
            return Err(format!(
                "the unmutated drq_top of {} fails the test ({verdict:?}): {detail}",
                nc.name
            ));
        }
        progress(&format!(
            "{}: the unmutated design passes the test",
            nc.name
        ));
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(total));
    // The cone of influence of each configuration's outputs, computed for
    // its first survivor that a module-level proof leaves open.
    let cones: std::sync::Mutex<BTreeMap<String, Liveness>> =
        std::sync::Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((nc, design, m, cases)) = work.get(i) else {
                    break;
                };
                let t0 = Instant::now();
                let mutated = apply(design, m);
                let (mut verdict, mut detail) = run_mutant(nc, &mutated, cases);
                if verdict == Verdict::Survived && opts.prove {
                    let dir = scratch
                        .join("equiv")
                        .join(format!("{}-{}", m.config, m.line));
                    match prove_equivalent(design, m, &dir) {
                        Ok(true) => verdict = Verdict::Equivalent,
                        Ok(false) => detail = "not proven equivalent by Yosys".into(),
                        Err(e) => detail = e,
                    }
                    if verdict == Verdict::Survived {
                        if let Some(sig) = assigned_signal(&m.original) {
                            let mut c = cones.lock().unwrap();
                            let cone = c
                                .entry(m.config.clone())
                                .or_insert_with(|| Liveness::compute(&design.verilog, &design.top));
                            if cone.is_dead(&m.module, sig) {
                                verdict = Verdict::Equivalent;
                                detail = format!(
                                    "{sig} reaches no output of {} (cone of influence)",
                                    design.top
                                );
                            }
                        }
                    }
                }
                progress(&format!(
                    "[{}/{total}] {} {} line {} ({}): {:?} in {:.0} s",
                    i + 1,
                    m.config,
                    m.block,
                    m.line,
                    m.class,
                    verdict,
                    t0.elapsed().as_secs_f64()
                ));
                results.lock().unwrap().push(MutantResult {
                    mutant: m.clone(),
                    verdict,
                    detail,
                    seconds: t0.elapsed().as_secs_f64(),
                });
            });
        }
    });
    std::panic::set_hook(hook);
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| {
        (a.mutant.config.as_str(), a.mutant.line).cmp(&(b.mutant.config.as_str(), b.mutant.line))
    });
    let mut report = MutateReport {
        seed: opts.seed,
        cases_per_mutant: opts.cases,
        mutants: results.len(),
        score: 0.0,
        total: Tally::default(),
        by_block: BTreeMap::new(),
        by_config: BTreeMap::new(),
        seconds: start.elapsed().as_secs_f64(),
        results,
    };
    for r in &report.results {
        report.total.add(r.verdict);
        report
            .by_block
            .entry(r.mutant.block.clone())
            .or_default()
            .add(r.verdict);
        report
            .by_config
            .entry(r.mutant.config.clone())
            .or_default()
            .add(r.verdict);
    }
    report.score = report.total.score();
    let json = serde_json::to_string_pretty(&report).expect("report serialises") + "\n";
    let fail = |e: drq_golden::publish::PublishError| e.to_string();
    stage.write("report.json", json.as_bytes()).map_err(fail)?;
    stage
        .write("report.md", markdown(&report).as_bytes())
        .map_err(fail)?;
    stage
        .publish(&|name| matches!(name, "report.json" | "report.md" | "equiv"))
        .map_err(fail)?;
    Ok(report)
}

fn markdown(r: &MutateReport) -> String {
    let mut s = format!(
        "# Mutation analysis of drq_top\n\nSeed {}, {} mutants, {} regression cases and a chained layer each, {:.0} s.\n\n\
         **Score: {:.1} %** of the mutants not proven equivalent are killed (timeouts count as killed).\n\n\
         | block | killed | timeout | survived | equivalent | score |\n|---|---|---|---|---|---|\n",
        r.seed, r.mutants, r.cases_per_mutant, r.seconds, r.score
    );
    let row = |name: &str, t: &Tally| {
        format!(
            "| {name} | {} | {} | {} | {} | {:.1} % |\n",
            t.killed,
            t.timeout,
            t.survived,
            t.equivalent,
            t.score()
        )
    };
    for (b, t) in &r.by_block {
        s.push_str(&row(b, t));
    }
    s.push_str(&row("**all**", &r.total));
    s.push_str("\n| configuration | killed | timeout | survived | equivalent | score |\n|---|---|---|---|---|---|\n");
    for (c, t) in &r.by_config {
        s.push_str(&row(c, t));
    }
    s.push_str("\n## Survivors (not proven equivalent): for a person to look at\n\n");
    for m in r.results.iter().filter(|m| m.verdict == Verdict::Survived) {
        s.push_str(&format!(
            "- {} line {} `{}` ({}): `{}` -> `{}` {}\n",
            m.mutant.config,
            m.mutant.line,
            m.mutant.module,
            m.mutant.block,
            m.mutant.original.trim(),
            m.mutant.mutated.trim(),
            m.detail
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unmutated top passes the mutants' test on the configurations
    /// `drq mutate` uses by default (else every kill would be void), with
    /// the driver's ping-pong state left by the chained layers.
    #[test]
    fn the_unmutated_top_passes_the_mutant_test() {
        let seed = drq_golden::rng::test_seed("the_unmutated_top_passes_the_mutant_test");
        for name in ["4x4-r2-ov-sp", "3x5-r4-a6w6-acc48", "int8-4x2-r16"] {
            let nc = NamedConfig::new(name, crate::regress::named_config(name).unwrap());
            let cases: Vec<u64> = (0..4)
                .map(|i| crate::regress::case_seed(seed, name, i))
                .collect();
            let (verdict, detail) = run_mutant(&nc, &top_design(&nc.cfg), &cases);
            assert_eq!(verdict, Verdict::Survived, "{name}: {detail}");
        }
    }

    #[test]
    fn assignments_and_conditions_are_sites_wiring_is_not() {
        assert!(line_mutations("        a$clock = clock;").is_empty());
        assert!(line_mutations("        acc$d = acc$q;").is_empty());
        assert!(line_mutations("        acc_hi_d_calc = acc_hi_q;").is_empty());
        assert!(line_mutations("    reg [63:0] x;").is_empty());
        let m = line_mutations("        x$d = (a + 64'h1f) & b;");
        let lines: Vec<&str> = m.iter().map(|m| m.mutated.as_str()).collect();
        assert!(lines.contains(&"        x$d = 0;"));
        assert!(lines.contains(&"        x$d = (a - 64'h1f) & b;"));
        assert!(lines.contains(&"        x$d = (a + 64'h1f) | b;"));
        assert!(lines.contains(&"        x$d = (a + 64'h20) & b;"));
        let c = line_mutations("        if (s == 3) begin");
        assert_eq!(c[0].mutated, "        if (!(s == 3)) begin");
        // `<=` of a clocked assignment is not a comparison.
        let q = line_mutations("            q <= d;");
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].mutated, "            q <= 0;");
    }

    #[test]
    fn blocks_come_from_the_instance_path() {
        assert_eq!(block_of("drq_top_core_ctrl_s3_w"), "controller");
        // The controller's sub-blocks count as the controller.
        assert_eq!(block_of("drq_top_core_ctrl_nest"), "controller");
        assert_eq!(block_of("drq_top_core_ctrl_issue_rom"), "controller");
        assert_eq!(block_of("drq_top_core_ctrl_counters"), "controller");
        assert_eq!(block_of("drq_top_core_array_mesh_pes"), "array");
        assert_eq!(block_of("drq_top_core_bufs_act0_copies"), "buffers");
        assert_eq!(block_of("drq_top_core_bufs"), "buffers");
        assert_eq!(block_of("drq_top_core_pred_sums"), "predictor");
        assert_eq!(block_of("drq_top_core_oc0_mul"), "top");
        assert_eq!(block_of("drq_top_core_p_out"), "top");
        assert_eq!(block_of("drq_top_core_seq_state"), "sequencer");
        assert_eq!(block_of("drq_top_core"), "top");
        assert_eq!(block_of("drq_top_core_regs"), "regfile");
        assert_eq!(block_of("drq_top_core_regs_slave"), "axil");
        assert_eq!(block_of("drq_top_core_regs_slave_aw_full"), "axil");
        assert_eq!(block_of("drq_top"), "shell");
    }

    #[test]
    fn sampling_is_a_function_of_the_seed_and_covers_every_block() {
        let v = top_design(&crate::regress::cfg_4x4()).verilog;
        let a = sample("c", &v, 40, 7);
        let b = sample("c", &v, 40, 7);
        assert_eq!(
            a.iter().map(|m| (m.line, &m.mutated)).collect::<Vec<_>>(),
            b.iter().map(|m| (m.line, &m.mutated)).collect::<Vec<_>>()
        );
        let c = sample("c", &v, 40, 8);
        assert_ne!(
            a.iter().map(|m| m.line).collect::<Vec<_>>(),
            c.iter().map(|m| m.line).collect::<Vec<_>>()
        );
        for block in [
            "controller",
            "array",
            "predictor",
            "output_stage",
            "axil",
            "top",
            "buffers",
        ] {
            assert!(a.iter().any(|m| m.block == block), "no mutant in {block}");
        }
    }
}
