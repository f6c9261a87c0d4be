//! Train the Fashion-MNIST CNN from a seed, quantise it, and write the
//! model folder: `float.safetensors`, `network.json` + `w{i}.npy` /
//! `b{i}.npy` (`Network::save`), `quant.json` (scales, thresholds, the
//! training options and the float test accuracy).
//!
//! `cargo run --release -p drq-model --bin train -- --seed 1 --out model/fashion`
//!
//! With `--from DIR` it fine-tunes DIR's float model with DRQ's
//! quantisation in the forward pass (DIR's scales, thresholds and shifts, or
//! `--thresholds`) instead of training from the seed's initial weights.

use clap::Parser;
use drq_arch::AccelConfig;
use drq_model::data::{Dataset, Split};
use drq_model::eval::{eprint_progress, evaluate, Scheme};
use drq_model::float::FLOAT_FILE;
use drq_model::float::{arch_named, FloatModel};
use drq_model::quant::{quantize, quantize_at, thresholds, with_thresholds, QuantOptions};
use drq_model::train::{finetune, train, DrqForward, TrainOptions};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Train, quantise and save the Fashion-MNIST CNN of docs/model.md")]
struct Args {
    /// Seed of the initial weights and of the shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "model/fashion")]
    out: PathBuf,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = TrainOptions::default().batch)]
    batch: usize,
    #[arg(long, default_value_t = TrainOptions::default().lr)]
    lr: f64,
    /// Threads of candle's CPU kernels during training (1 = bit-reproducible).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Percentile of a layer's float output that maps to code 255.
    #[arg(long, default_value_t = QuantOptions::default().percentile)]
    percentile: f64,
    /// Architecture to train (fashion: docs/model.md; wide: four 3x3
    /// convolutions up to 32 channels).
    #[arg(long, default_value = "fashion", conflicts_with = "from")]
    arch: String,
    /// Fine-tune this model folder's float model with DRQ's quantisation in
    /// the forward pass (its quant.json scales, its network.json thresholds
    /// and shifts) instead of training from the seed.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
    /// With --from: the thresholds of the forward pass, one per layer
    /// (default: the network's).
    #[arg(long, value_delimiter = ',', requires = "from")]
    thresholds: Vec<u32>,
    /// With --from: region size R of the forward pass.
    #[arg(long, default_value_t = 4, requires = "from")]
    region: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // candle reads RAYON_NUM_THREADS at each kernel; set before any work.
    std::env::set_var("RAYON_NUM_THREADS", args.threads.to_string());
    let arch = arch_named(&args.arch)?;
    let train_set = Dataset::load(Split::Train)?;
    let calib = Dataset::load(Split::Calibration)?;
    let test = Dataset::load(Split::Test)?;
    let opts = TrainOptions {
        seed: args.seed,
        epochs: args.epochs,
        batch: args.batch,
        lr: args.lr,
    };
    let cfg = AccelConfig::default();
    let drq = match &args.from {
        Some(dir) => Some((
            FloatModel::load(&dir.join(FLOAT_FILE))?,
            DrqForward::of_model(dir, &args.thresholds, args.region, &cfg)?,
        )),
        None => None,
    };
    eprintln!(
        "{} on {} images (seed {}, {} epochs, batch {}, lr {}, {} thread(s))",
        if drq.is_some() {
            "DRQ-aware fine-tuning"
        } else {
            "training"
        },
        train_set.len(),
        opts.seed,
        opts.epochs,
        opts.batch,
        opts.lr,
        args.threads
    );
    let t0 = Instant::now();
    let float = match &drq {
        Some((start, fwd)) => finetune(start, &train_set, fwd, &opts, |l| eprintln!("{l}"))?,
        None => train(&train_set, arch, &opts, |l| eprintln!("{l}"))?,
    };
    let train_seconds = t0.elapsed().as_secs_f64();
    let qopts = QuantOptions {
        percentile: args.percentile,
        ..QuantOptions::default()
    };
    // A fine-tuned model keeps the scales its forward pass trained against.
    let (net, info) = match &drq {
        Some((_, fwd)) => quantize_at(&float, &calib, &cfg, &qopts, &fwd.s_out)?,
        None => quantize(&float, &calib, &cfg, &qopts)?,
    };
    // ... and the thresholds and shifts it was fine-tuned for.
    let net = match &drq {
        Some((_, fwd)) => {
            let mut net = net;
            for (nl, q) in net.layers.iter_mut().zip(&fwd.layers) {
                nl.layer.low_shift = q.low_shift;
                nl.layer.w_low_shift = q.w_low_shift;
            }
            let t: Vec<u32> = fwd.layers.iter().map(|q| q.threshold).collect();
            with_thresholds(&net, &t)
        }
        None => net,
    };
    std::fs::create_dir_all(&args.out)?;
    float.save(&args.out.join(FLOAT_FILE))?;
    let path = net.save(&cfg, &args.out)?;
    let quiet = |_: usize, _: usize| {};
    let facc = evaluate(&net, &float, &test, Scheme::Float, &cfg, &quiet);
    let cal = evaluate(&net, &float, &calib, Scheme::Float, &cfg, &quiet);
    let i8acc = evaluate(
        &net,
        &float,
        &test,
        Scheme::Int8,
        &cfg,
        &eprint_progress(Scheme::Int8),
    );
    let summary = serde_json::json!({
        "seed": opts.seed,
        "epochs": opts.epochs,
        "batch": opts.batch,
        "lr": opts.lr,
        "threads": args.threads,
        "arch": float.arch(),
        "finetuned_from": args.from.as_ref().map(|d| d.display().to_string()),
        "finetune_forward": drq.as_ref().map(|(_, f)| serde_json::json!({
            "region": f.region,
            "thresholds": f.layers.iter().map(|l| l.threshold).collect::<Vec<_>>(),
            "low_shifts": f.layers.iter().map(|l| l.low_shift).collect::<Vec<_>>(),
            "w_low_shifts": f.layers.iter().map(|l| l.w_low_shift).collect::<Vec<_>>(),
            "input_scales": f.layers.iter().map(|l| l.s_in).collect::<Vec<_>>(),
        })),
        "train_images": train_set.len(),
        "train_seconds": train_seconds,
        "float_test_accuracy": facc.accuracy,
        "float_calibration_accuracy": cal.accuracy,
        "int8_test_accuracy": i8acc.accuracy,
        "thresholds": thresholds(&net),
        "quantisation": info,
    });
    let mut text = serde_json::to_string_pretty(&summary)?;
    text.push('\n');
    std::fs::write(args.out.join("quant.json"), text)?;
    println!(
        "float test accuracy {:.2} %, int8 (golden) {:.2} %, training {:.0} s; wrote {} and {}",
        facc.accuracy,
        i8acc.accuracy,
        train_seconds,
        args.out.join(FLOAT_FILE).display(),
        path.display()
    );
    Ok(())
}
