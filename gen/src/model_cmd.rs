//! `drq eval` and `drq calibrate`: DRQ on the Fashion-MNIST CNN of
//! `model/fashion/` (`docs/model.md`).

use anyhow::{Context, Result};
use clap::Args;
use drq_hdl::config::RawAccelConfig;
use drq_hdl::AccelConfig;
use drq_model::data::{Dataset, Split};
use drq_model::eval::{eprint_progress, evaluate, report_json, Scheme, SchemeResult};
use drq_model::float::{FloatModel, FLOAT_FILE};
use drq_verif::network::Network;
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
    anyhow::ensure!(!args.regions.is_empty(), "--regions: at least one region size");
    let mut main: Vec<SchemeResult> = Vec::new();
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
        }
    }
    let mut report = report_json(&main, args.regions[0]);
    report["regions"] = serde_json::Value::Array(per_region);
    let mut json = serde_json::to_string_pretty(&report)?;
    json.push('\n');
    let md = eval_markdown(&main, args.regions[0], &report);
    drq_verif::files::write_outputs(
        &args.out,
        &[("report.json", json.into_bytes()), ("report.md", md.into_bytes())],
    )?;
    eprintln!(
        "drq eval: {} images; report in {}/report.json and report.md",
        test.len(),
        args.out.display()
    );
    Ok(())
}

fn eval_markdown(results: &[SchemeResult], region: u32, report: &serde_json::Value) -> String {
    let int8 = results
        .iter()
        .find(|r| r.scheme == Scheme::Int8)
        .and_then(|r| r.cycles);
    let mut s = format!(
        "# DRQ on Fashion-MNIST\n\n{} test images, default 16x16 array, region R = {region}.\n\n\
         | scheme | top-1 % | cycles | speedup vs int8 | high-precision fraction per layer |\n|---|---|---|---|---|\n",
        results.first().map_or(0, |r| r.images)
    );
    for r in results {
        let speedup = match (int8, r.cycles) {
            (Some(a), Some(b)) if b > 0 => format!("{:.3}", a as f64 / b as f64),
            _ => "-".into(),
        };
        let fr: Vec<String> = r
            .sensitive_fraction_per_layer
            .iter()
            .map(|f| format!("{f:.2}"))
            .collect();
        s.push_str(&format!(
            "| {} | {:.2} | {} | {} | {} |\n",
            r.scheme.name(),
            r.accuracy,
            r.cycles.map_or("-".into(), |c| c.to_string()),
            speedup,
            fr.join(", ")
        ));
    }
    if let Some(regions) = report["regions"].as_array() {
        s.push_str("\n| R | int8 top-1 | drq top-1 | drq speedup |\n|---|---|---|---|\n");
        for r in regions {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                r["region"],
                r["int8"]["accuracy"],
                r["drq"]["accuracy"],
                r["drq_speedup"]
            ));
        }
    }
    s
}
