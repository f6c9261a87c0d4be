//! `drq eval` and `drq calibrate`: DRQ on the Fashion-MNIST CNN of
//! `model/fashion/` (`docs/model.md`).

use anyhow::{Context, Result};
use clap::Args;
use drq_arch::config::RawAccelConfig;
use drq_arch::AccelConfig;
use drq_golden::network::Network;
use drq_model::data::{Dataset, Split};
use drq_model::eval::{eprint_progress, evaluate, report_json, Scheme, SchemeResult};
use drq_model::float::{FloatModel, FLOAT_FILE};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model folder (network.json, its .npy files, float.safetensors).
    #[arg(long, value_name = "DIR", default_value = "model/fashion")]
    pub model: PathBuf,
    /// Test images (the first N of the 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Region sizes R for the golden schemes; the first is the report's
    /// main one, each gets an entry in "regions".
    #[arg(long, value_delimiter = ',', default_value = "4,2,8")]
    pub regions: Vec<u32>,
    /// Schemes (default: float, int8, int4, drq, outlier).
    #[arg(long, value_delimiter = ',')]
    pub schemes: Vec<Scheme>,
    /// Output folder: report.json and report.md.
    #[arg(long, value_name = "DIR", default_value = "sim-out/eval")]
    pub out: PathBuf,
}

/// The default array with region size `region`.
pub fn config_with_region(region: u32) -> Result<AccelConfig> {
    Ok(AccelConfig::from_raw(&RawAccelConfig {
        region: Some(region.into()),
        ..Default::default()
    })?)
}

pub fn load_float(model: &Path) -> Result<FloatModel> {
    let path = model.join(FLOAT_FILE);
    FloatModel::load(&path).with_context(|| format!("loading {}", path.display()))
}

/// Every scheme on the test set, for each region size.
pub fn eval(args: &EvalArgs) -> Result<()> {
    let test = Dataset::load(Split::Test)?.take(args.images);
    let float = load_float(&args.model)?;
    let schemes = if args.schemes.is_empty() {
        Scheme::ALL.to_vec()
    } else {
        args.schemes.clone()
    };
    anyhow::ensure!(
        !args.regions.is_empty(),
        "--regions: at least one region size"
    );
    let mut main: Vec<SchemeResult> = Vec::new();
    let mut maps = String::new();
    let mut per_region = Vec::new();
    for (i, &region) in args.regions.iter().enumerate() {
        let cfg = config_with_region(region)?;
        let net = Network::load(&args.model.join("network.json"), &cfg)?;
        let mut results = Vec::new();
        for &s in &schemes {
            if i > 0 && !s.has_cycles() {
                continue; // float and outlier do not depend on R
            }
            let r = evaluate(&net, &float, &test, s, &cfg, &eprint_progress(s));
            eprintln!(
                "drq eval: R = {region}: {:<7} top-1 {:6.2} %, cycles {}, {:.1} s",
                s.name(),
                r.accuracy,
                r.cycles.map_or("-".into(), |c| c.to_string()),
                r.seconds
            );
            results.push(r);
        }
        per_region.push(report_json(&results, region));
        if i == 0 {
            main = results;
            // The sensitive-region maps of the first test image.
            maps = drq_model::report::region_maps_svg(&net, &test.images[0], &cfg)?;
        }
    }
    let mut report = report_json(&main, args.regions[0]);
    report["regions"] = serde_json::Value::Array(per_region);
    let mut json = serde_json::to_string_pretty(&report)?;
    json.push('\n');
    let md = eval_markdown(&main, args.regions[0], &report);
    drq_golden::files::write_outputs(
        &args.out,
        &[
            ("report.json", json.into_bytes()),
            ("report.md", md.into_bytes()),
            ("regions.svg", maps.into_bytes()),
        ],
    )?;
    eprintln!(
        "drq eval: {} images; report in {}/report.json, report.md, regions.svg",
        test.len(),
        args.out.display()
    );
    Ok(())
}

fn eval_markdown(results: &[SchemeResult], region: u32, report: &serde_json::Value) -> String {
    let mut s = format!(
        "# DRQ on Fashion-MNIST\n\n{} test images, default 16x16 array, region R = {region}.\n\n",
        results.first().map_or(0, |r| r.images)
    );
    s.push_str(&drq_model::report::markdown_table(results, region));
    if let Some(regions) = report["regions"].as_array() {
        s.push_str("\n| R | int8 top-1 | drq top-1 | drq speedup |\n|---|---|---|---|\n");
        for r in regions {
            let f = |v: &serde_json::Value, d: usize| {
                v.as_f64().map_or("-".into(), |x| format!("{x:.d$}"))
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                r["region"],
                f(&r["int8"]["accuracy"], 2),
                f(&r["drq"]["accuracy"], 2),
                f(&r["drq_speedup"], 3)
            ));
        }
    }
    s
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Largest top-1 loss against uniform INT8, in percentage points.
    #[arg(long, default_value_t = 1.0)]
    pub budget: f64,
    /// Safety margin in points: the search keeps the loss on the held-out
    /// images within budget - margin, so that it holds on unseen data.
    #[arg(long, default_value_t = 0.5)]
    pub margin: f64,
    /// Model folder; the chosen values are written into its network.json.
    #[arg(long, value_name = "DIR", default_value = "model/fashion")]
    pub model: PathBuf,
    /// Write the calibrated network here instead of into --model.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Held-out training images to calibrate on (at most 5000).
    #[arg(long, default_value_t = 5000)]
    pub images: usize,
    /// Region size R.
    #[arg(long, default_value_t = 4)]
    pub region: u32,
    /// Also calibrate the first layer (the paper keeps it at INT8).
    #[arg(long)]
    pub first_layer_too: bool,
    /// Instead of one budget: calibrate for each of these budgets (without
    /// writing the network), evaluate each on the test set, and write
    /// sweep.json and budget_sweep.svg into --report.
    #[arg(long, value_delimiter = ',', value_name = "BUDGETS")]
    pub sweep: Vec<f64>,
    /// Test images for --sweep.
    #[arg(long, default_value_t = 10_000)]
    pub test_images: usize,
    /// Report folder of --sweep.
    #[arg(long, value_name = "DIR", default_value = "sim-out/eval")]
    pub report: PathBuf,
}

fn calibrate_once(
    args: &CalibrateArgs,
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    budget: f64,
) -> Result<drq_model::calibrate::Calibration> {
    use drq_model::calibrate::{calibrate, CalibrateOptions};
    anyhow::ensure!(
        budget > args.margin,
        "--budget {budget} must exceed --margin {}",
        args.margin
    );
    let opts = CalibrateOptions {
        budget_pp: budget - args.margin,
        keep_first_int8: !args.first_layer_too,
        ..CalibrateOptions::default()
    };
    calibrate(net, data, cfg, &opts, &|line| {
        eprintln!("drq calibrate: {line}")
    })
}

/// `drq calibrate`: per-layer T, s and sw on the held-out training images.
pub fn calibrate_cmd(args: &CalibrateArgs) -> Result<()> {
    use drq_model::calibrate::apply;
    let cfg = config_with_region(args.region)?;
    let net = Network::load(&args.model.join("network.json"), &cfg)?;
    let data = Dataset::load(Split::Calibration)?.take(args.images);
    if !args.sweep.is_empty() {
        return sweep(args, &net, &data, &cfg);
    }
    let cal = calibrate_once(args, &net, &data, &cfg, args.budget)?;
    let out = args.out.clone().unwrap_or_else(|| args.model.clone());
    let calibrated = apply(&net, &cal);
    calibrated
        .save(&cfg, &out)
        .with_context(|| format!("writing the network into {}", out.display()))?;
    println!("{}", cal.summary());
    println!(
        "budget {} points (searched within {} on {} held-out images); network written to {}/network.json",
        args.budget,
        args.budget - args.margin,
        data.len(),
        out.display()
    );
    Ok(())
}

fn sweep(args: &CalibrateArgs, net: &Network, data: &Dataset, cfg: &AccelConfig) -> Result<()> {
    use drq_model::calibrate::apply;
    use drq_model::report::budget_sweep_svg;
    let test = Dataset::load(Split::Test)?.take(args.test_images);
    let float = load_float(&args.model)?;
    let quiet = |_: usize, _: usize| {};
    let run = |n: &Network, s: Scheme| evaluate(n, &float, &test, s, cfg, &quiet);
    let int8 = run(net, Scheme::Int8);
    let int4 = run(net, Scheme::Int4);
    let speedup = |r: &SchemeResult| int8.cycles.unwrap() as f64 / r.cycles.unwrap() as f64;
    let mut points = Vec::new();
    let mut rows = Vec::new();
    for &b in &args.sweep {
        let cal = calibrate_once(args, net, data, cfg, b)?;
        let r = run(&apply(net, &cal), Scheme::Drq);
        eprintln!(
            "drq calibrate: budget {b}: test top-1 {:.2} % (int8 {:.2} %), speedup {:.3}",
            r.accuracy,
            int8.accuracy,
            speedup(&r)
        );
        points.push((b, r.accuracy, speedup(&r)));
        rows.push(serde_json::json!({
            "budget": b, "margin": args.margin, "test_accuracy": r.accuracy,
            "speedup": speedup(&r), "calibration": cal,
            "sensitive_fraction_per_layer": r.sensitive_fraction_per_layer,
        }));
    }
    let json = serde_json::json!({
        "region": cfg.region, "calibration_images": data.len(), "test_images": test.len(),
        "int8": { "accuracy": int8.accuracy, "cycles": int8.cycles },
        "int4": { "accuracy": int4.accuracy, "cycles": int4.cycles, "speedup": speedup(&int4) },
        "points": rows,
    });
    let svg = budget_sweep_svg(
        &points,
        (int8.accuracy, 1.0),
        (int4.accuracy, speedup(&int4)),
    );
    let mut text = serde_json::to_string_pretty(&json)?;
    text.push('\n');
    drq_golden::files::write_outputs(
        &args.report,
        &[
            ("sweep.json", text.into_bytes()),
            ("budget_sweep.svg", svg.into_bytes()),
        ],
    )?;
    eprintln!(
        "drq calibrate: sweep in {}/sweep.json and budget_sweep.svg",
        args.report.display()
    );
    Ok(())
}
