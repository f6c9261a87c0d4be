//! `drq synth` and `drq synth-compare`: the FPGA flow of `drq_fpga::fpga`
//! (docs/fpga.md).

use crate::ConfigArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use drq_fpga::fpga::{self, CompareOptions, Part, PnrStatus, Target};
use drq_fpga::synth::Family;
use drq_golden::publish::{self, Staging};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Board: ulx3s (ECP5-85F), icebreaker (iCE40UP5K), arty_a7_100t
    /// (XC7A100T, synthesis only). Its folder constraints/<board>/ gives the
    /// wrapper top, the pins and (without --config) accel.toml.
    #[arg(long, required_unless_present = "family", conflicts_with = "family")]
    board: Option<String>,
    /// A bare family on its default device, drq_top's ports as the pins:
    /// ecp5 (LFE5U-85F CABGA381), ice40 (iCE40UP5K sg48), xilinx7 (XC7A100T).
    #[arg(long)]
    family: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
    /// Synthesize the systolic array alone (in a serial I/O wrapper) instead of drq_top.
    #[arg(long)]
    array: bool,
    /// Build multipliers from LUTs (Yosys -nodsp).
    #[arg(long)]
    no_dsp: bool,
    /// Synthesis only: skip place and route.
    #[arg(long)]
    no_pnr: bool,
    /// Flatten everything before synthesis, the PE included (default: the
    /// PE is synthesized once as a module of its own; flat takes several
    /// times longer at 16x16 and is smaller for some designs, docs/fpga.md).
    #[arg(long)]
    flat: bool,
    /// Target clock in MHz (default: the board's).
    #[arg(long)]
    freq: Option<f64>,
    /// nextpnr's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (default sim-out/synth/<board or family>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn synth(args: &SynthArgs) -> Result<()> {
    let mut target = match (&args.board, &args.family) {
        (Some(b), _) => {
            let board = fpga::board(b).with_context(|| {
                format!(
                    "unknown board {b}; known: {}",
                    fpga::BOARDS.map(|b| b.name).join(", ")
                )
            })?;
            Target::board(&board)
        }
        (None, Some(f)) => {
            let family = Family::from_name(f)
                .with_context(|| format!("unknown family {f}; known: ecp5, ice40, xilinx7"))?;
            Target::bare(family)
        }
        (None, None) => bail!("give --board or --family"),
    };
    let mut config = args.config.clone();
    if config.config.is_none() {
        config.config = target.accel_toml();
    }
    let cfg = config.resolve()?;
    if args.array {
        target.part = Part::Array;
    }
    target.use_dsp = !args.no_dsp;
    target.place_and_route = !args.no_pnr;
    target.flat = args.flat;
    target.seed = args.seed;
    if let Some(f) = args.freq {
        target.freq_mhz = f;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("sim-out/synth").join(&target.name));
    // The flow works in a staging folder seeded with a copy of the earlier
    // results (it reuses an earlier netlist of the same design), published
    // in one step when it ends: readers see the old report or the new one.
    let stage = Staging::new(&out)?;
    publish::seed_from_published(&stage, &|_| true)?;
    let report = fpga::run(&target, &cfg, stage.path())?;
    stage.publish(&|_| true)?;
    let fmax = report
        .fmax_mhz
        .map_or("-".to_string(), |f| format!("{f:.1} MHz"));
    eprintln!(
        "drq synth {}: {} LUTs / {}, {} FFs / {}, {} DSPs / {}, {} BRAMs / {} ({}), Fmax {fmax} -> {}",
        report.target,
        report.luts,
        report.capacity.luts,
        report.ffs,
        report.capacity.ffs,
        report.dsps,
        report.capacity.dsps,
        report.brams,
        report.capacity.brams,
        report.figures_from,
        out.join("report.json").display()
    );
    match &report.nextpnr.status {
        PnrStatus::Failed { message } => bail!(
            "{} does not place on the {} (nextpnr): {message}\n(report: {})",
            report.top,
            report.device,
            out.join("report.md").display()
        ),
        PnrStatus::NotRun { reason } => {
            eprintln!(
                "drq synth {}: place and route not run: {reason}",
                report.target
            );
            Ok(())
        }
        PnrStatus::Placed => Ok(()),
    }
}

#[derive(Args, Debug)]
pub struct SynthCompareArgs {
    /// The base configuration (default: the spec default, 16x16); the
    /// variants drq, int8 (pe = "int8") and drq_w8 (w_lo = w_hi) derive from it.
    #[command(flatten)]
    config: ConfigArgs,
    /// Synthesis only (no Fmax; the per-LUT comparison then assumes equal clocks).
    #[arg(long)]
    no_pnr: bool,
    /// Synthesize every variant fully flattened, the PE included (see
    /// `drq synth --flat`).
    #[arg(long)]
    flat: bool,
    /// Fraction of sensitive regions the reference layer's threshold aims at.
    #[arg(long, default_value_t = 0.3)]
    sensitive: f64,
    /// Variants synthesized and placed at the same time.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Reuse a variant's report.json in the output folder when it is of the
    /// same configuration and options (e.g. from earlier or parallel runs of
    /// `drq synth --family ecp5 --no-dsp --out <out>/<variant>`).
    #[arg(long)]
    reuse: bool,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "sim-out/synth")]
    out: PathBuf,
}

pub fn synth_compare(args: &SynthCompareArgs) -> Result<()> {
    let base = args.config.resolve()?;
    let stage = Staging::new(&args.out)?;
    publish::seed_from_published(&stage, &fpga::compare_owns)?;
    let v = fpga::compare(
        &base,
        stage.path(),
        &CompareOptions {
            place_and_route: !args.no_pnr,
            sensitive_target: args.sensitive,
            jobs: args.jobs,
            reuse: args.reuse,
            flat: args.flat,
        },
    )?;
    stage.publish(&fpga::compare_owns)?;
    print!(
        "{}",
        std::fs::read_to_string(args.out.join("compare.md")).unwrap_or_default()
    );
    let _ = v;
    Ok(())
}
