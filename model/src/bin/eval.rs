//! Evaluate the committed model on the Fashion-MNIST test set under every
//! scheme and print the JSON report (`drq_model::eval::report_json`).
//!
//! `cargo run --release -p drq-model --bin eval -- --model model/fashion --images 10000 --regions 4,2,8 --out sim-out/eval.json`

use clap::Parser;
use drq_hdl::AccelConfig;
use drq_model::data::{Dataset, Split};
use drq_model::eval::{eprint_progress, evaluate, report_json, Scheme, SchemeResult};
use drq_model::float::{FloatModel, FLOAT_FILE};
use drq_verif::network::Network;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Accuracy and cycles of the Fashion-MNIST CNN: float, int8, int4, drq, outlier")]
struct Args {
    /// Model folder (network.json, float.safetensors).
    #[arg(long, default_value = "model/fashion")]
    model: PathBuf,
    /// Test images to use (the first N; at most 10000).
    #[arg(long, default_value_t = 10_000)]
    images: usize,
    /// Region sizes R of the golden schemes; the first is the report's
    /// main one, every one gets an entry in "regions".
    #[arg(long, value_delimiter = ',', default_value = "4")]
    regions: Vec<u32>,
    /// Schemes to run (default: all).
    #[arg(long, value_delimiter = ',')]
    schemes: Vec<Scheme>,
    /// Also write the report here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let test = Dataset::load(Split::Test)?.take(args.images);
    let float = FloatModel::load(&args.model.join(FLOAT_FILE))?;
    let schemes = if args.schemes.is_empty() {
        Scheme::ALL.to_vec()
    } else {
        args.schemes.clone()
    };
    let mut main: Vec<SchemeResult> = Vec::new();
    let mut per_region = Vec::new();
    for (i, &region) in args.regions.iter().enumerate() {
        let cfg = AccelConfig::from_raw(&drq_hdl::config::RawAccelConfig {
            region: Some(region.into()),
            ..Default::default()
        })?;
        let net = Network::load(&args.model.join("network.json"), &cfg)?;
        let mut results = Vec::new();
        for &s in &schemes {
            if i > 0 && !s.has_cycles() {
                continue; // float and outlier do not depend on R
            }
            let r = evaluate(&net, &float, &test, s, &cfg, &eprint_progress(s));
            eprintln!(
                "R = {region}: {}: accuracy {:.2} %, cycles {:?}, {:.1} s",
                s.name(),
                r.accuracy,
                r.cycles,
                r.seconds
            );
            results.push(r);
        }
        per_region.push(report_json(&results, region));
        if i == 0 {
            main = results;
        }
    }
    let mut report = report_json(&main, args.regions.first().copied().unwrap_or(4));
    report["regions"] = serde_json::Value::Array(per_region);
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    print!("{text}");
    if let Some(p) = &args.out {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, &text)?;
    }
    Ok(())
}
