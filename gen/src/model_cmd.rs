//! `drq eval` and `drq calibrate`: DRQ on the Fashion-MNIST CNN of
//! `model/fashion/` (`docs/model.md`).

use anyhow::{Context, Result};
use clap::Args;
use drq_arch::config::{PeKind, RawAccelConfig};
use drq_arch::AccelConfig;
use drq_golden::network::Network;
use drq_model::data::{Dataset, Split};
use drq_model::eval::{
    eprint_progress, evaluate, evaluate_scaled, match_outlier, report_json, ComparedDrq, Scheme,
    SchemeResult, MATCH_IMAGES,
};
use drq_model::float::{FloatModel, FLOAT_FILE};
use drq_model::report::EvalReport;
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
    /// DRQ is also run with every threshold scaled by each of these (at
    /// the first region size; points of accuracy_speedup.svg). Give the
    /// flag with no value for none.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "0.5,1.5,2")]
    pub threshold_scales: Vec<f64>,
    /// The machine around the array (configuration keys beside the
    /// default accelerator's).
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Tile shapes per layer, in order: HxW (tile_h x tile_w) or - for
    /// network.json's (e.g. 2x8 for a first layer whose rows of eight
    /// pixels fill eight output lanes). Shapes change cycles only, never
    /// results.
    #[arg(long, value_delimiter = ',', value_name = "HxW|-")]
    pub tiles: Vec<String>,
    /// Also run DRQ of another model folder on the same machine and images,
    /// as one step of an ablation: LABEL=DIR (repeatable; report.md's
    /// "Ablation" table, report.json's "compared", purple points).
    #[arg(long, value_name = "LABEL=DIR")]
    pub compare: Vec<String>,
    /// Output folder: report.json, report.md, regions.svg and
    /// accuracy_speedup.svg.
    #[arg(long, value_name = "DIR", default_value = "sim-out/eval")]
    pub out: PathBuf,
}

/// The keys of the machine that `drq eval` varies; the rest of the
/// accelerator is the default one.
#[derive(Args, Debug, Default, Clone)]
pub struct MachineArgs {
    /// Array rows (the configuration key `rows`; default 16), e.g. a board
    /// design's: every tile shape must have at most this many pixels.
    #[arg(long)]
    pub rows: Option<u32>,
    /// Array columns (the configuration key `cols`; default 16).
    #[arg(long)]
    pub cols: Option<u32>,
    /// Processing element (the configuration key `pe`): drq (default), or
    /// int8, the plain baseline array (one token a step; only the float and
    /// int8 schemes then).
    #[arg(long)]
    pub pe: Option<String>,
    /// Rows the output stage holds (the configuration key `out_rows`;
    /// default 1): the cycles of the machine with a row queue.
    #[arg(long)]
    pub out_rows: Option<u32>,
    /// Pixels the output stage writes per cycle (the configuration key
    /// `out_lanes`; default 1). Without --stream-predictor it may not
    /// exceed a region size: with `--regions` below it, that region's runs
    /// use R lanes.
    #[arg(long)]
    pub out_lanes: Option<u32>,
    /// Shadow accumulators (the configuration key `overlap`): the array
    /// reads a tile out while it takes the next tile's tokens.
    #[arg(long)]
    pub overlap: bool,
    /// The streaming predictor (the configuration key
    /// `stream_predictor`): mask bits written as regions complete, no
    /// CLEAR or SWEEP phase.
    #[arg(long)]
    pub stream_predictor: bool,
    /// Row taps (the configuration key `row_taps`, the default): the
    /// read-out takes a tile's rows row 0 first, each as it completes;
    /// `--row-taps false`: the read-out chain, row ROWS-1 first.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub row_taps: Option<bool>,
    /// Burst read-out (the configuration key `burst_readout`; needs
    /// --row-taps and --overlap): a tile's rows leave back to back once the output
    /// stage has room for it; the next tile's last token does not wait
    /// for the rest.
    #[arg(long)]
    pub burst_readout: bool,
}

impl MachineArgs {
    /// The default accelerator with region size `region` and these keys
    /// (`out_lanes` at most `region` without the streaming predictor).
    pub fn config(&self, region: u32) -> Result<AccelConfig> {
        Ok(AccelConfig::from_raw(&RawAccelConfig {
            rows: self.rows.map(i64::from),
            cols: self.cols.map(i64::from),
            pe: self.pe.clone(),
            region: Some(region.into()),
            out_rows: self.out_rows.map(i64::from),
            out_lanes: self.out_lanes.map(|l| {
                i64::from(if self.stream_predictor {
                    l
                } else {
                    l.min(region)
                })
            }),
            overlap: Some(self.overlap),
            stream_predictor: Some(self.stream_predictor),
            row_taps: self.row_taps,
            burst_readout: Some(self.burst_readout),
            ..Default::default()
        })?)
    }
}

/// The network at `path` with the tile shapes of `--tiles`, every layer
/// checked against `cfg`. With `--tiles` the file is read against the
/// widest array first, so a file whose shapes need more rows than `cfg`
/// has (network.json's 4x4 tiles on a 12-row board array) can be retiled.
pub fn load_network(path: &Path, tiles: &[String], cfg: &AccelConfig) -> Result<Network> {
    let widest = AccelConfig { rows: 64, ..*cfg };
    let net = Network::load(path, if tiles.is_empty() { cfg } else { &widest })?;
    with_tiles(net, tiles, cfg)
}

/// `net` with the tile shapes of `--tiles` (HxW or - per layer, in order),
/// every layer then checked against `cfg` (tile_h * tile_w <= ROWS).
pub fn with_tiles(mut net: Network, tiles: &[String], cfg: &AccelConfig) -> Result<Network> {
    anyhow::ensure!(
        tiles.len() <= net.layers.len(),
        "--tiles: {} shapes for a network of {} layers",
        tiles.len(),
        net.layers.len()
    );
    for (i, t) in tiles.iter().enumerate() {
        if t == "-" {
            continue;
        }
        let shape = t
            .split_once('x')
            .and_then(|(h, w)| Some((h.parse::<u32>().ok()?, w.parse::<u32>().ok()?)))
            .filter(|&(h, w)| (1..=64).contains(&h) && (1..=64).contains(&w));
        let (h, w) = shape.with_context(|| {
            format!("--tiles: layer {i}: {t:?} is not HxW (tile_h x tile_w, 1..=64 each) or -")
        })?;
        let layer = &mut net.layers[i].layer;
        layer.tile_h = h;
        layer.tile_w = w;
    }
    for (i, nl) in net.layers.iter().enumerate() {
        let given = tiles.get(i).filter(|t| *t != "-");
        nl.layer.check(cfg).with_context(|| match given {
            Some(t) => format!("--tiles: layer {i}: {t}"),
            None => {
                format!("layer {i}: its tile shape from the network file (replace it with --tiles)")
            }
        })?;
    }
    Ok(net)
}

pub fn load_float(model: &Path) -> Result<FloatModel> {
    let path = model.join(FLOAT_FILE);
    FloatModel::load(&path).with_context(|| format!("loading {}", path.display()))
}

/// Every scheme on the test set, for each region size; at the first
/// region size also the outlier scheme matched to DRQ's share of
/// high-precision MACs and DRQ at scaled thresholds.
pub fn eval(args: &EvalArgs) -> Result<()> {
    for v in &args.compare {
        let (label, dir) = parse_compare(v)?;
        for name in ["network.json", drq_model::float::FLOAT_FILE] {
            anyhow::ensure!(
                dir.join(name).is_file(),
                "--compare {label}: {} is not a model folder (no {name})",
                dir.display()
            );
        }
    }
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
    if args.machine.config(args.regions[0])?.pe == PeKind::Int8 {
        if let Some(s) = schemes
            .iter()
            .find(|s| !matches!(s, Scheme::Float | Scheme::Int8))
        {
            anyhow::bail!(
                "--schemes {}: the int8 array (--pe int8) runs every step at INT8; only the float and int8 schemes",
                s.name()
            );
        }
    }
    let mut main: Option<EvalReport> = None;
    let mut maps = String::new();
    let mut per_region = Vec::new();
    for (i, &region) in args.regions.iter().enumerate() {
        let cfg = args.machine.config(region)?;
        let net = load_network(&args.model.join("network.json"), &args.tiles, &cfg)?;
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
            // The sensitive-region maps of the first test image.
            maps = drq_model::report::region_maps_svg(&net, &test.images[0], &cfg)?;
            main = Some(main_report(args, &net, &float, &test, &cfg, results));
        }
    }
    let mut report = main.expect("at least one region size");
    report.per_region = per_region;
    report.compared = compared(args, &test, &args.machine.config(args.regions[0])?)?;
    let mut json = serde_json::to_string_pretty(&report.json())?;
    json.push('\n');
    let mut files = vec![
        ("report.json", json.into_bytes()),
        ("report.md", report.markdown().into_bytes()),
        ("regions.svg", maps.into_bytes()),
    ];
    if let Some(svg) = report.accuracy_speedup_svg() {
        files.push(("accuracy_speedup.svg", svg.into_bytes()));
    }
    drq_golden::files::write_outputs(&args.out, &files)?;
    let names: Vec<&str> = files.iter().map(|f| f.0).collect();
    eprintln!(
        "drq eval: {} images; {} in {}",
        test.len(),
        names.join(", "),
        args.out.display()
    );
    Ok(())
}

/// The report of the main region size: `results`, plus the matched outlier
/// (with drq and outlier among the schemes) and DRQ at the
/// `--threshold-scales` (with drq).
fn main_report(
    args: &EvalArgs,
    net: &Network,
    float: &FloatModel,
    test: &Dataset,
    cfg: &AccelConfig,
    results: Vec<SchemeResult>,
) -> EvalReport {
    let has = |s: Scheme| results.iter().find(|r| r.scheme == s);
    let matched = match (has(Scheme::Drq), has(Scheme::Outlier)) {
        (Some(drq), Some(_)) => {
            let target = drq.high_mac_share.unwrap_or(0.0);
            let m = match_outlier(net, test, cfg, target, MATCH_IMAGES, &|line| {
                eprintln!("drq eval: outlier match: {line}")
            });
            eprintln!(
                "drq eval: outlier matched at {:.5}: share {:.5} (drq {target:.5}), top-1 {:.2} %",
                m.result.outlier_fraction.unwrap_or(0.0),
                m.result.high_mac_share.unwrap_or(0.0),
                m.result.accuracy
            );
            Some(m)
        }
        _ => None,
    };
    let quiet = |_: usize, _: usize| {};
    let scaled = match has(Scheme::Drq) {
        Some(_) => args
            .threshold_scales
            .iter()
            .map(|&k| {
                let d = evaluate_scaled(net, float, test, cfg, k, &quiet);
                eprintln!(
                    "drq eval: drq, T x {k} {:?}: top-1 {:.2} %, cycles {}",
                    d.thresholds,
                    d.result.accuracy,
                    d.result.cycles.unwrap_or(0)
                );
                d
            })
            .collect(),
        None => vec![],
    };
    EvalReport {
        results,
        region: cfg.region,
        array_rows: cfg.rows,
        array_cols: cfg.cols,
        pe: cfg.pe,
        out_rows: cfg.out_rows,
        out_lanes: cfg.out_lanes,
        overlap: cfg.overlap,
        stream_predictor: cfg.stream_predictor,
        row_taps: cfg.row_taps,
        burst_readout: cfg.burst_readout,
        layers: net.layers.iter().map(|nl| nl.layer).collect(),
        matched,
        scaled,
        compared: vec![],
        per_region: vec![],
    }
}

/// `--compare LABEL=DIR`: the label and the folder, or one error naming
/// the bad value.
fn parse_compare(v: &str) -> Result<(String, PathBuf)> {
    match v.split_once('=') {
        Some((label, dir)) if !label.is_empty() && !dir.is_empty() => {
            Ok((label.to_string(), PathBuf::from(dir)))
        }
        _ => anyhow::bail!("--compare {v:?}: expected LABEL=DIR"),
    }
}

/// DRQ and INT8 of each `--compare` model on `cfg` and `test`.
fn compared(args: &EvalArgs, test: &Dataset, cfg: &AccelConfig) -> Result<Vec<ComparedDrq>> {
    let quiet = |_: usize, _: usize| {};
    let mut out = Vec::new();
    for v in &args.compare {
        let (label, dir) = parse_compare(v)?;
        let net = load_network(&dir.join("network.json"), &args.tiles, cfg)
            .with_context(|| format!("--compare {label}"))?;
        let float = load_float(&dir).with_context(|| format!("--compare {label}"))?;
        let c = ComparedDrq {
            label,
            model: dir.display().to_string(),
            thresholds: drq_model::quant::thresholds(&net),
            int8: evaluate(&net, &float, test, Scheme::Int8, cfg, &quiet),
            result: evaluate(&net, &float, test, Scheme::Drq, cfg, &quiet),
        };
        eprintln!(
            "drq eval: {} ({}): drq top-1 {:.2} %, int8 {:.2} %, speedup {:.3}",
            c.label,
            c.model,
            c.result.accuracy,
            c.int8.accuracy,
            c.speedup().unwrap_or(f64::NAN)
        );
        out.push(c);
    }
    Ok(out)
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
    /// The machine whose cycles the search minimises (as `drq eval`'s
    /// flags; default: the default accelerator).
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Tile shapes per layer (HxW or -), as `drq eval --tiles`; written into
    /// the calibrated network.
    #[arg(long, value_delimiter = ',', value_name = "HxW|-")]
    pub tiles: Vec<String>,
    /// After the greedy search, move pairs of layers jointly (one T up, one
    /// down) while cycles fall within the budget.
    #[arg(long)]
    pub joint: bool,
    /// Measure the budget against this model folder's uniform INT8 on the
    /// same images when it gets more right (the network a fine-tuned one
    /// came from).
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,
    /// Start the search from the network's own thresholds (a network
    /// fine-tuned for them) instead of INT8 everywhere.
    #[arg(long)]
    pub from_network: bool,
}

/// Images of `data` that `--reference`'s uniform INT8 gets right, when
/// given (evaluated once per command, not per budget of a sweep).
fn reference_int8_correct(
    args: &CalibrateArgs,
    data: &Dataset,
    cfg: &AccelConfig,
) -> Result<Option<usize>> {
    Ok(match &args.reference {
        Some(dir) => {
            let reference = load_network(&dir.join("network.json"), &args.tiles, cfg)?;
            let float = load_float(dir)?;
            let quiet = |_: usize, _: usize| {};
            let r = evaluate(&reference, &float, data, Scheme::Int8, cfg, &quiet);
            eprintln!(
                "drq calibrate: reference {}: int8 top-1 {:.2} % on the {} calibration images",
                dir.display(),
                r.accuracy,
                data.len()
            );
            Some(r.correct)
        }
        None => None,
    })
}

fn calibrate_once(
    args: &CalibrateArgs,
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    budget: f64,
    reference: Option<usize>,
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
        joint: args.joint,
        reference_int8_correct: reference,
        start_from_network: args.from_network,
        ..CalibrateOptions::default()
    };
    calibrate(net, data, cfg, &opts, &|line| {
        eprintln!("drq calibrate: {line}")
    })
}

/// `drq calibrate`: per-layer T, s and sw on the held-out training images.
pub fn calibrate_cmd(args: &CalibrateArgs) -> Result<()> {
    use drq_model::calibrate::apply;
    let cfg = args.machine.config(args.region)?;
    let net = load_network(&args.model.join("network.json"), &args.tiles, &cfg)?;
    let data = Dataset::load(Split::Calibration)?.take(args.images);
    let reference = reference_int8_correct(args, &data, &cfg)?;
    if !args.sweep.is_empty() {
        return sweep(args, &net, &data, &cfg, reference);
    }
    let cal = calibrate_once(args, &net, &data, &cfg, args.budget, reference)?;
    let out = args.out.clone().unwrap_or_else(|| args.model.clone());
    let calibrated = apply(&net, &cal);
    calibrated
        .save(&cfg, &out)
        .with_context(|| format!("writing the network into {}", out.display()))?;
    if out != args.model {
        // A complete model folder: the float weights and the scales too.
        for name in [drq_model::float::FLOAT_FILE, "quant.json"] {
            let from = args.model.join(name);
            if from.exists() {
                std::fs::copy(&from, out.join(name)).with_context(|| {
                    format!("copying {} into {}", from.display(), out.display())
                })?;
            }
        }
    }
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

fn sweep(
    args: &CalibrateArgs,
    net: &Network,
    data: &Dataset,
    cfg: &AccelConfig,
    reference: Option<usize>,
) -> Result<()> {
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
        let cal = calibrate_once(args, net, data, cfg, b, reference)?;
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
