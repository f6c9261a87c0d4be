//! `drq synth` and `drq synth-compare`: the FPGA flow of `drq_fpga::fpga`
//! (docs/fpga.md).

use crate::ConfigArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use drq_arch::config::{AccelConfig, PeKind};
use drq_fpga::fpga::{self, CompareOptions, Part, PnrStatus, Target};
use drq_fpga::synth::Family;
use drq_golden::network::Network;
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
    /// Synthesize and place every variant as this board's design (its
    /// wrapper, host bridge, pins and clock; ulx3s) instead of the bare
    /// ECP5-85F's drq_top.
    #[arg(long)]
    board: Option<String>,
    /// The variants compared, comma-separated (drq, int8, drq_w8; int8 and
    /// at least one DRQ variant): default all three.
    #[arg(long, value_delimiter = ',')]
    variants: Option<Vec<String>>,
    /// Let Yosys map multipliers to DSP blocks (default: -nodsp, like for
    /// like in LUTs).
    #[arg(long)]
    dsp: bool,
    /// The int8 variant's own configuration (TOML; its pe forced to int8),
    /// e.g. a board's best INT8 design beside its DRQ one
    /// (constraints/ulx3s/int8.toml).
    #[arg(long, value_name = "TOML")]
    int8_config: Option<PathBuf>,
    /// With --dsp: the int8 variant's multipliers still in LUTs (a board's
    /// INT8 design whose DSP mapping does not route).
    #[arg(long)]
    int8_no_dsp: bool,
    /// The network of compare.json's "fashion" section (images per second
    /// of each variant at its Fmax).
    #[arg(long, value_name = "DIR", default_value = "model/fashion")]
    model: PathBuf,
    /// Test images the "fashion" section's cycles per image are averaged over.
    #[arg(long, default_value_t = 1000)]
    images: usize,
}

/// One variant of the "fashion" section: its configuration and clock.
pub struct ClockedVariant {
    pub name: String,
    pub config: AccelConfig,
    /// The placed Fmax, or the flow's target clock when not placed.
    pub mhz: f64,
    pub placed: bool,
}

/// Tile shapes of `rows` pixels at most for every layer: the network's own
/// (4 x 4) when the array has 16 rows or more, else h x w with
/// h = floor(sqrt(rows)), w = rows / h (3 x 4 on 12 rows, 3 x 3 on 9).
fn tiles_for(rows: u32, layers: usize) -> Vec<String> {
    if rows >= 16 {
        return vec![];
    }
    let h = (1..=rows).take_while(|h| h * h <= rows).last().unwrap_or(1);
    vec![format!("{h}x{}", rows / h); layers]
}

/// Images per second of the network in `model` on each variant (cycles per
/// image from the golden model's formula on the first `images` test images,
/// the network's calibrated thresholds; the DRQ arrays also at every step
/// HIGH and every step LOW), and for each DRQ variant the fraction of LOW
/// steps above which it beats the INT8 variant at their clocks (cycles
/// taken as linear in that fraction between all HIGH and all LOW).
pub fn fashion_section(
    model: &std::path::Path,
    images: usize,
    variants: &[ClockedVariant],
) -> Result<serde_json::Value> {
    use crate::model_cmd::{load_float, with_tiles};
    use drq_model::eval::{evaluate, Scheme};
    use drq_model::{Dataset, Split};
    let test = Dataset::load(Split::Test)?.take(images);
    let float = load_float(model)?;
    let quiet = |_: usize, _: usize| {};
    let mut out = serde_json::Map::new();
    let mut rows = Vec::new();
    for v in variants {
        let path = model.join("network.json");
        let net = (|| -> Result<Network> {
            let readable = AccelConfig {
                rows: 64,
                w_lo: AccelConfig::default().w_lo,
                ..v.config
            };
            let mut net = Network::load(&path, &readable)?;
            // A variant with W_LO = W_HI (drq_w8) keeps its weights whole.
            for nl in &mut net.layers {
                nl.layer.w_low_shift = nl.layer.w_low_shift.min(v.config.w_hi - v.config.w_lo);
            }
            let n = net.layers.len();
            with_tiles(net, &tiles_for(v.config.rows, n), &v.config)
        })()
        .with_context(|| format!("the network on variant {}", v.name))?;
        let per_image = |s: Scheme| {
            let r = evaluate(&net, &float, &test, s, &v.config, &quiet);
            (r.cycles.unwrap_or(0) as f64 / test.len().max(1) as f64, r)
        };
        let (cycles, high, low, low_fraction, accuracy) = if v.config.pe == PeKind::Int8 {
            let (c, r) = per_image(Scheme::Int8);
            (c, c, c, 0.0, r.accuracy)
        } else {
            let (c, r) = per_image(Scheme::Drq);
            let (steps_low, steps) = r.layers.iter().fold((0u64, 0u64), |(l, t), x| {
                (l + x.steps_low, t + x.steps_low + x.steps_high)
            });
            (
                c,
                per_image(Scheme::Int8).0,
                per_image(Scheme::Int4).0,
                steps_low as f64 / steps.max(1) as f64,
                r.accuracy,
            )
        };
        rows.push((v, cycles, high, low));
        out.insert(
            v.name.clone(),
            serde_json::json!({
                "pe": v.config.pe.name(),
                "rows": v.config.rows,
                "cols": v.config.cols,
                "mhz": v.mhz,
                "placed": v.placed,
                "cycles_per_image": cycles,
                "cycles_per_image_all_high": high,
                "cycles_per_image_all_low": low,
                "low_step_fraction": low_fraction,
                "top1": accuracy,
                "images_per_second": v.mhz * 1e6 / cycles,
            }),
        );
    }
    if let Some(&(int8, c8, ..)) = rows.iter().find(|r| r.0.config.pe == PeKind::Int8) {
        for &(v, _, high, low) in rows.iter().filter(|r| r.0.config.pe != PeKind::Int8) {
            // v.mhz / cycles(f) = int8.mhz / c8, cycles(f) = high + f (low - high).
            let even = c8 * v.mhz / int8.mhz;
            let f = if high > low {
                (high - even) / (high - low)
            } else {
                f64::NAN
            };
            out[&v.name]["crossover_low_fraction_vs_int8"] = if f.is_finite() {
                serde_json::json!(f)
            } else {
                serde_json::Value::Null
            };
        }
    }
    out.insert(
        "note".into(),
        serde_json::json!(format!(
            "{} test images of {}; images per second at each variant's Fmax (its target clock when not placed); crossover: the fraction of LOW steps above which the DRQ variant beats the INT8 one (above 1: never, below 0: always)",
            test.len(),
            model.display()
        )),
    );
    Ok(serde_json::Value::Object(out))
}

pub fn synth_compare(args: &SynthCompareArgs) -> Result<()> {
    let base = args.config.resolve()?;
    let int8 = match &args.int8_config {
        Some(path) => Some(AccelConfig::load(
            Some(path),
            &drq_arch::config::RawAccelConfig::default(),
        )?),
        None => None,
    };
    let board = match &args.board {
        Some(name) => match fpga::board(name) {
            Some(b) if b.device.family == Family::Ecp5 => Some(b),
            _ => bail!(
                "--board {name}: synth-compare places on the ECP5-85F; the board with it is ulx3s"
            ),
        },
        None => None,
    };
    let chosen = fpga::chosen_variants(&base, int8.as_ref(), args.variants.as_deref())
        .map_err(|e| anyhow::anyhow!("--variants: {e}"))?;
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
            use_dsp: args.dsp,
            int8: int8.clone(),
            int8_no_dsp: args.int8_no_dsp,
            board,
            variants: args.variants.clone(),
        },
    )?;
    let variants: Vec<ClockedVariant> = chosen
        .into_iter()
        .map(|(name, config)| {
            let fmax = v[name]["fmax_mhz"].as_f64();
            ClockedVariant {
                name: name.to_string(),
                config,
                mhz: fmax.unwrap_or_else(|| v[name]["target_mhz"].as_f64().unwrap_or(25.0)),
                placed: fmax.is_some(),
            }
        })
        .collect();
    let fashion = fashion_section(&args.model, args.images, &variants)?;
    let mut json = v.clone();
    json["fashion"] = fashion.clone();
    std::fs::write(
        stage.path().join("compare.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    let mut md = std::fs::read_to_string(stage.path().join("compare.md"))?;
    md += &fashion_markdown(&fashion, &variants);
    std::fs::write(stage.path().join("compare.md"), md)?;
    stage.publish(&fpga::compare_owns)?;
    print!(
        "{}",
        std::fs::read_to_string(args.out.join("compare.md")).unwrap_or_default()
    );
    Ok(())
}

/// compare.md's section of [`fashion_section`].
fn fashion_markdown(f: &serde_json::Value, variants: &[ClockedVariant]) -> String {
    let mut s = format!(
        "\n## Images per second on the Fashion-MNIST network\n\n{}.\n\n| variant | clock (MHz) | cycles / image | all HIGH | all LOW | LOW steps | top-1 % | images / s | DRQ wins above LOW steps |\n|---|---|---|---|---|---|---|---|---|\n",
        f["note"].as_str().unwrap_or("")
    );
    for v in variants {
        let e = &f[&v.name];
        let num = |k: &str, d: usize| {
            e[k].as_f64()
                .map_or("-".to_string(), |x| format!("{x:.d$}"))
        };
        s += &format!(
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} |\n",
            v.name,
            num("mhz", 1),
            if v.placed { "" } else { " (target)" },
            num("cycles_per_image", 0),
            num("cycles_per_image_all_high", 0),
            num("cycles_per_image_all_low", 0),
            num("low_step_fraction", 3),
            num("top1", 2),
            num("images_per_second", 0),
            num("crossover_low_fraction_vs_int8", 3),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_fit_the_array_rows() {
        assert!(tiles_for(16, 4).is_empty());
        assert_eq!(tiles_for(12, 2), vec!["3x4".to_string(), "3x4".to_string()]);
        assert_eq!(tiles_for(9, 1), vec!["3x3".to_string()]);
        assert_eq!(tiles_for(2, 1), vec!["1x2".to_string()]);
    }

    /// compare.json's "fashion" section: images per second are the clock over
    /// the cycles per image; a DRQ array lies between all LOW and all HIGH;
    /// the INT8 array takes one token a step; at the crossover fraction of
    /// LOW steps the DRQ variant's images per second equal the INT8 one's.
    #[test]
    fn fashion_section_images_per_second_and_crossover() {
        let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/fashion");
        let base = AccelConfig {
            rows: 12,
            cols: 4,
            ..AccelConfig::replicated()
        };
        let variants = [
            ClockedVariant {
                name: "drq".into(),
                config: base,
                mhz: 40.0,
                placed: true,
            },
            ClockedVariant {
                name: "int8".into(),
                config: AccelConfig {
                    pe: PeKind::Int8,
                    ..base
                },
                mhz: 50.0,
                placed: false,
            },
            ClockedVariant {
                name: "drq_w8".into(),
                config: AccelConfig {
                    w_lo: base.w_hi,
                    ..base
                },
                mhz: 40.0,
                placed: true,
            },
        ];
        let f = fashion_section(&model, 30, &variants).unwrap();
        for v in &variants {
            let e = &f[&v.name];
            let c = e["cycles_per_image"].as_f64().unwrap();
            assert_eq!(e["images_per_second"].as_f64().unwrap(), v.mhz * 1e6 / c);
            assert_eq!(e["placed"].as_bool().unwrap(), v.placed);
        }
        let (d, i) = (&f["drq"], &f["int8"]);
        let num = |e: &serde_json::Value, k: &str| e[k].as_f64().unwrap();
        let (high, low) = (
            num(d, "cycles_per_image_all_high"),
            num(d, "cycles_per_image_all_low"),
        );
        assert!(low < num(d, "cycles_per_image") && num(d, "cycles_per_image") < high);
        assert!(num(d, "low_step_fraction") > 0.0 && num(d, "low_step_fraction") < 1.0);
        assert!(
            num(i, "cycles_per_image") < high,
            "one token a step on the INT8 array"
        );
        let x = num(d, "crossover_low_fraction_vs_int8");
        let at = 40.0e6 / (high + x * (low - high));
        assert!(
            (at / num(i, "images_per_second") - 1.0).abs() < 1e-9,
            "{x}: {at}"
        );
        assert!(i["crossover_low_fraction_vs_int8"].is_null());
        // Activation-only DRQ (W_LO = W_HI): a HIGH step is two tokens, not
        // four; a LOW step one, as on the DRQ array.
        let w8 = &f["drq_w8"];
        assert!(num(w8, "cycles_per_image_all_high") < high);
        assert_eq!(num(w8, "cycles_per_image_all_low"), low);
    }
}
