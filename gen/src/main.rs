//! `drq`: the DRQ accelerator's command line.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use drq_arch::config::{AccelConfig, RawAccelConfig};
use drq_golden::budget;
use drq_golden::files::{
    load_input, load_layer_data, output_files, read_mask, run_owns, write_outputs, LayerFiles,
};
use drq_golden::network::{layer_dir, network_output_files, run_network_with};
use drq_golden::publish::{self, Staging};
use drq_golden::{run_layer, Counters, Layer, LayerData, LayerRun};
use drq_verif::axil_bfm::Timing;
use drq_verif::driver::{check_fits_for, default_out_reader, Accelerator};
use drq_verif::sim::SimOptions;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

mod model_cmd;
mod synth_cmd;
mod verify_cmd;

#[derive(Parser)]
#[command(
    name = "drq",
    version,
    about = "DRQ accelerator: RTL generator, golden model and co-simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Memory a run may use (e.g. 4G, 512M; default 2G): a run whose
    /// shapes need more is refused before anything large is allocated.
    #[arg(long, global = true, value_name = "SIZE", value_parser = budget::parse_size)]
    max_memory: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one convolution layer, or a network of layers (--network), through
    /// the golden model (docs/spec.md §2-§5).
    Golden(GoldenArgs),
    /// Print the resolved accelerator configuration (file + flags) as TOML.
    Config(ConfigArgs),
    /// Run a layer (or --network) through the Verilator model of the
    /// generated top `drq_top`, over its AXI4-Lite bus; writes the same files
    /// as `drq golden`, from the hardware.
    Sim(SimArgs),
    /// Accuracy and cycles of the Fashion-MNIST CNN (model/fashion) on the
    /// test set: float, uniform INT8, uniform INT4, DRQ, outlier-aware.
    Eval(model_cmd::EvalArgs),
    /// Choose per-layer thresholds and low shifts of the Fashion-MNIST CNN
    /// on held-out training images within an accuracy budget (points of
    /// top-1 against uniform INT8), and write them into its network.json.
    Calibrate(model_cmd::CalibrateArgs),
    /// Seeded co-simulation regression: configurations x random layers, bus
    /// backpressure and resets mid-layer; summary.json and summary.md, and a
    /// folder with inputs and a replay script per failing case.
    Regress(RegressArgs),
    /// Run a layer whose precision switches region by region through the
    /// Verilator model with a dump: waves.vcd, waves.gtkw (GTKWave save file,
    /// docs/spec.md §6 signals grouped, mode in colour) and regions.svg.
    Waves(WavesArgs),
    /// Write the Verilog of the accelerator, its lint waivers, params.json and
    /// the register map (drq_top_regs.json, drq_top_regs.h).
    Verilog(VerilogArgs),
    /// Mutation analysis: single faults injected into the emitted drq_top,
    /// each run against regression cases; report.json and report.md with the
    /// score per block and every survivor.
    Mutate(verify_cmd::MutateArgs),
    /// Line, toggle and functional coverage of drq_top over the regression's
    /// cases (Verilator coverage models): report.json, report.md, the merged
    /// coverage databases.
    Coverage(verify_cmd::CoverageArgs),
    /// Print the register map of drq_top for a configuration: the docs
    /// table (--format markdown), drq_top_regs.json or drq_top_regs.h.
    Regs(RegsArgs),
    /// Synthesize drq_top for a board (or --family) with Yosys and place and
    /// route it with nextpnr where open tools exist: report.json, report.md.
    Synth(synth_cmd::SynthArgs),
    /// DRQ vs INT8 vs activation-only DRQ on the ECP5-85F: area, Fmax and
    /// cycles of a reference layer: compare.json, compare.md.
    SynthCompare(synth_cmd::SynthCompareArgs),
}

#[derive(Args, Debug)]
struct RegsArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// What to print.
    #[arg(long, value_enum, default_value = "markdown")]
    format: RegsFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RegsFormat {
    /// The register table of docs/top.md.
    Markdown,
    /// drq_top_regs.json: registers with their bit fields, the window.
    Json,
    /// drq_top_regs.h.
    Header,
}

fn regs(args: &RegsArgs) -> Result<()> {
    use drq_arch::regs::{register_map_header, register_map_json, register_map_markdown};
    let cfg = args.config.resolve()?;
    print!(
        "{}",
        match args.format {
            RegsFormat::Markdown => register_map_markdown(),
            RegsFormat::Json => register_map_json(&cfg),
            RegsFormat::Header => register_map_header(&cfg),
        }
    );
    Ok(())
}

#[derive(Args, Debug)]
struct RegressArgs {
    /// Output folder: summary.json, summary.md, failures/.
    #[arg(long, value_name = "DIR", default_value = "sim-out/regress")]
    out: PathBuf,
    /// Base seed (default: from DRQ_SEED, else the clock; always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Random layers per configuration.
    #[arg(long, default_value_t = 8)]
    cases: usize,
    /// Only the small configurations (no 16x16 build).
    #[arg(long)]
    quick: bool,
    /// Re-run one case: the configuration name (with --case-seed).
    #[arg(long, value_name = "CONFIG", requires = "case_seed")]
    only: Option<String>,
    /// The case seed of --only (from summary.md or the progress line).
    #[arg(long, requires = "only")]
    case_seed: Option<u64>,
    /// Cases run at once (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
}

fn regress(args: &RegressArgs) -> Result<()> {
    use drq_verif::regress::{default_configs, quick_configs, run_regression, RegressOptions};
    let seed = args
        .seed
        .unwrap_or_else(|| drq_golden::rng::test_seed("drq regress"));
    let opts = RegressOptions {
        out: args.out.clone(),
        seed,
        cases_per_config: args.cases,
        configs: if args.quick {
            quick_configs()
        } else {
            default_configs()
        },
        only_case: args.only.clone().zip(args.case_seed),
        inject_fault: false,
        jobs: args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |j| j as usize,
        ),
    };
    eprintln!("drq regress: seed {seed} (replay the whole run with --seed {seed})");
    let summary = run_regression(&opts, &mut |line| eprintln!("{line}"))?;
    eprintln!(
        "drq regress: summary in {}/summary.md and summary.json",
        args.out.display()
    );
    if !summary.passed() {
        anyhow::bail!(
            "{} of {} cases failed; inputs and replay scripts in {}/failures/",
            summary.totals.failures,
            summary.totals.cases,
            args.out.display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
struct WavesArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR", default_value = "sim-out/waves")]
    out: PathBuf,
}

fn waves(args: &WavesArgs) -> Result<()> {
    let cfg = args.config.resolve()?;
    eprintln!("drq waves: {cfg}: building or loading the traced Verilator model of drq_top");
    let run = drq_verif::waves::run_demo(&cfg, &args.out)?;
    let c = &run.hw.counters;
    eprintln!(
        "drq waves: {} HIGH + {} LOW steps in {} tiles, {} cycles\n  dump     {}\n  viewer   gtkwave {} {}\n  picture  {}",
        c.steps_high,
        c.steps_low,
        c.tiles,
        c.cycles_total,
        run.vcd.display(),
        run.vcd.display(),
        run.gtkw.display(),
        run.svg.display()
    );
    Ok(())
}

#[derive(Args, Debug)]
struct SimArgs {
    #[command(flatten)]
    run: GoldenArgs,
    /// Also write a VCD waveform of the whole run as waves.vcd in the output
    /// folder (docs/spec.md §6 signals under drq_top.core.ctrl).
    #[arg(long)]
    waves: bool,
}

#[derive(Args, Debug)]
struct VerilogArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn verilog(args: &VerilogArgs) -> Result<()> {
    let cfg = args.config.resolve()?;
    let designs = drq_hdl::designs::accelerator_designs(&cfg);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for d in &designs {
        files.push((format!("{}.v", d.top), d.verilog.clone().into_bytes()));
        files.push((format!("{}.vlt", d.top), d.waivers.clone().into_bytes()));
    }
    files.push((
        "params.json".into(),
        drq_hdl::designs::params_json(&cfg, &designs).into_bytes(),
    ));
    files.push((
        "drq_top_regs.json".into(),
        drq_arch::regs::register_map_json(&cfg).into_bytes(),
    ));
    files.push((
        "drq_top_regs.h".into(),
        drq_arch::regs::register_map_header(&cfg).into_bytes(),
    ));
    write_outputs(&args.out, &files)
        .with_context(|| format!("writing Verilog to {}", args.out.display()))?;
    for d in &designs {
        eprintln!(
            "drq verilog: {cfg}: {}/{}.v ({} lines)",
            args.out.display(),
            d.top,
            d.verilog.lines().count()
        );
    }
    Ok(())
}

/// The accelerator configuration: a TOML file, each key overridable by a flag.
#[derive(Args, Debug, Clone)]
struct ConfigArgs {
    /// Accelerator configuration (TOML, keys rows, cols, a_hi, a_lo, w_hi,
    /// w_lo, acc_bits, region); missing keys take the spec default.
    #[arg(long, value_name = "TOML")]
    config: Option<PathBuf>,
    #[arg(long, allow_negative_numbers = true)]
    rows: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    cols: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    a_hi: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    a_lo: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    w_hi: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    w_lo: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    acc_bits: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    region: Option<i64>,
    /// Processing element: drq (default) or int8 (the plain baseline).
    #[arg(long)]
    pe: Option<String>,
    /// Entries of the mask buffer and the predictor's region sums.
    #[arg(long, allow_negative_numbers = true)]
    mask_words: Option<i64>,
    /// Widest feature map the buffers hold (their row pitch).
    #[arg(long, allow_negative_numbers = true)]
    max_width: Option<i64>,
    /// Words of each activation buffer (and of the accumulator buffer).
    #[arg(long, allow_negative_numbers = true)]
    act_words: Option<i64>,
    /// Words of the weight buffer.
    #[arg(long, allow_negative_numbers = true)]
    weight_words: Option<i64>,
    /// Words of the bias buffer.
    #[arg(long, allow_negative_numbers = true)]
    bias_words: Option<i64>,
    /// Array rows the output stage holds (1: no row queue; more let the
    /// next tile start while the last one is requantised).
    #[arg(long, allow_negative_numbers = true)]
    out_rows: Option<i64>,
    /// Output pixels of one row and channel requantised and written per
    /// cycle (1: one value per cycle; at most REGION without the
    /// streaming predictor).
    #[arg(long, allow_negative_numbers = true)]
    out_lanes: Option<i64>,
    /// Shadow accumulators: the array reads a tile out while it takes the
    /// next tile's tokens.
    #[arg(long)]
    overlap: bool,
    /// The streaming predictor: mask bits written as regions complete (no
    /// CLEAR or SWEEP phase).
    #[arg(long)]
    stream_predictor: bool,
    /// Row taps (the default): the read-out takes a tile's rows row 0
    /// first, each as soon as it is complete, through a multiplexer (of
    /// the shadows with --overlap, else of the PEs, which then have no
    /// read-out chain). `--row-taps false`: the chain, row ROWS-1 first.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    row_taps: Option<bool>,
    /// Burst read-out (needs --row-taps and --overlap): a tile's rows leave back to back
    /// once the output stage has room for the whole tile, and the next
    /// tile's last token enters from the first of them on.
    #[arg(long)]
    burst_readout: bool,
    /// Read ports a copy of the activation, mask and weight buffers serves:
    /// 1 (a copy per array row or column), or 2 (the default: both ports of
    /// a true dual-port block RAM, half the block RAMs, for a buffer with
    /// an even number of read ports).
    #[arg(long, allow_negative_numbers = true)]
    ram_read_ports: Option<i64>,
    /// Packed rows: a feature map's rows at its own width (rounded up to
    /// out_lanes) in the activation buffers, not at the widest map's
    /// power-of-two pitch; narrow layers take fewer words.
    #[arg(long)]
    packed_rows: bool,
    /// How the activation buffers hold a map: "replicated" (a read copy
    /// per array row), "banked" or "cyclic" (stored once over ROWS banks,
    /// for the layer that reads it; needs out_lanes 1, no --packed-rows
    /// and act_words ROWS times a power of two; cyclic also ROWS a power
    /// of two).
    #[arg(long)]
    act_layout: Option<String>,
    /// Entries of the accumulator buffer ACC (default act_words).
    #[arg(long, allow_negative_numbers = true)]
    acc_words: Option<i64>,
    /// The largest channel count or map height (C_in, H, C_out, Ho) the
    /// counters hold: at least max_width, rows and 16 (default
    /// act_words / row pitch); a smaller one makes every dimension
    /// counter narrower.
    #[arg(long, allow_negative_numbers = true)]
    max_dim: Option<i64>,
}

impl ConfigArgs {
    fn resolve(&self) -> Result<AccelConfig> {
        let flags = RawAccelConfig {
            rows: self.rows,
            cols: self.cols,
            a_hi: self.a_hi,
            a_lo: self.a_lo,
            w_hi: self.w_hi,
            w_lo: self.w_lo,
            acc_bits: self.acc_bits,
            region: self.region,
            pe: self.pe.clone(),
            mask_words: self.mask_words,
            max_width: self.max_width,
            act_words: self.act_words,
            weight_words: self.weight_words,
            bias_words: self.bias_words,
            out_rows: self.out_rows,
            out_lanes: self.out_lanes,
            overlap: self.overlap.then_some(true),
            stream_predictor: self.stream_predictor.then_some(true),
            row_taps: self.row_taps,
            burst_readout: self.burst_readout.then_some(true),
            ram_read_ports: self.ram_read_ports,
            packed_rows: self.packed_rows.then_some(true),
            act_layout: self.act_layout.clone(),
            acc_words: self.acc_words,
            max_dim: self.max_dim,
        };
        Ok(AccelConfig::load(self.config.as_deref(), &flags)?)
    }
}

#[derive(Args, Debug)]
struct GoldenArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Layer description (JSON).
    #[arg(long, value_name = "JSON", required_unless_present = "network")]
    layer: Option<PathBuf>,
    /// A network of layers (network.json: each layer's description, weights
    /// and bias); runs the chain, layer L+1 reading layer L's y and mask_out.
    #[arg(
        long,
        value_name = "JSON",
        conflicts_with_all = ["layer", "weights", "bias"]
    )]
    network: Option<PathBuf>,
    /// With --network: tile shapes per layer, in order, HxW (tile_h x
    /// tile_w) or - for network.json's (as `drq eval --tiles`).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "HxW|-",
        requires = "network"
    )]
    tiles: Vec<String>,
    /// Input activation codes [C_in, H, W], uint8 (uint16 if a_hi > 8); the
    /// first layer's with --network.
    #[arg(long, value_name = "NPY")]
    input: PathBuf,
    /// Weights [C_out, C_in, K, K], int8 (int16 if w_hi > 8).
    #[arg(long, value_name = "NPY", required_unless_present = "network")]
    weights: Option<PathBuf>,
    /// Bias [C_out], int32.
    #[arg(long, value_name = "NPY", required_unless_present = "network")]
    bias: Option<PathBuf>,
    /// Input mask [C_in, ceil(H/R), ceil(W/R)], uint8 0/1; predicted from the
    /// input with the layer's threshold when absent (the first layer's with
    /// --network).
    #[arg(long, value_name = "NPY")]
    mask: Option<PathBuf>,
    /// Output folder (created if missing); written only if the run succeeds.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// The one-line summary of a layer run.
fn summary(cmd: &str, what: &str, out: &Path, c: &Counters) -> String {
    format!(
        "drq {cmd}: {what} -> {}: {} tiles, {} HIGH + {} LOW steps, {} token cycles, {} cycles",
        out.display(),
        c.tiles,
        c.steps_high,
        c.steps_low,
        c.token_cycles,
        c.cycles_total
    )
}

/// Where a layer runs: the golden model or the Verilator model of drq_top.
enum Engine {
    Golden,
    Sim(SimEngine),
}

/// The Verilator model of `drq_top`, built once every input is validated.
struct SimEngine {
    /// Write waves.vcd into the output folder.
    waves: bool,
    acc: Option<Box<Accelerator>>,
}

impl Engine {
    fn name(&self) -> &'static str {
        match self {
            Engine::Golden => "golden",
            Engine::Sim(_) => "sim",
        }
    }
    /// Before any data is read: for `drq sim`, every layer must fit the
    /// buffers (named by `what`).
    /// Each layer comes with the one that reads its output, if any (with
    /// banked buffers its output is laid out for that layer's stride and
    /// tile).
    fn check<'a>(
        &self,
        cfg: &AccelConfig,
        layers: impl IntoIterator<Item = (String, &'a Layer, Option<&'a Layer>)>,
    ) -> Result<()> {
        if let Engine::Sim(_) = self {
            for (what, layer, next) in layers {
                let reader = next.map_or_else(|| default_out_reader(layer), |n| n.reader());
                check_fits_for(cfg, layer, reader).with_context(|| what)?;
            }
        }
        Ok(())
    }
    /// After every input is validated: build (or load) the Verilator model
    /// for `drq sim` (minutes the first time), dumping into the staging
    /// folder with --waves.
    fn build(&mut self, cfg: &AccelConfig, stage: &Staging) -> Result<()> {
        let Engine::Sim(sim) = self else {
            return Ok(());
        };
        publish::pause_point("before_model_build");
        eprintln!(
            "drq sim: {cfg}: building or loading the Verilator model of drq_top \
             (the first build of a configuration takes minutes; it is cached)"
        );
        let opts = SimOptions {
            vcd: sim.waves.then(|| stage.path().join("waves.vcd")),
            ..Default::default()
        };
        sim.acc = Some(Box::new(Accelerator::new(cfg, &opts, 0, Timing::FAST)?));
        Ok(())
    }
    /// Run a network's layer `index` (layer 0 also for a single layer).
    fn run(
        &mut self,
        cfg: &AccelConfig,
        index: usize,
        (layer, next): (&Layer, Option<&Layer>),
        data: &LayerData,
    ) -> Result<LayerRun> {
        let acc = match self {
            Engine::Golden => return Ok(run_layer(cfg, layer, data)?),
            Engine::Sim(sim) => sim.acc.as_mut().expect("built before running"),
        };
        if let Some(next) = next {
            acc.set_next_reader(next.reader());
        }
        Ok(if index == 0 {
            acc.run_layer(layer, data)?
        } else {
            acc.run_next_layer(layer, &data.weights, &data.bias)?
        }
        .into())
    }
    /// Flush the waveform (the model is dropped) before publishing.
    fn finish(&mut self) {
        if let Engine::Sim(sim) = self {
            sim.acc = None;
        }
    }
}

fn golden(args: &GoldenArgs) -> Result<()> {
    run_command(args, &mut Engine::Golden)
}

/// `drq sim`: validate everything, build (or reuse) the model, run, and
/// publish the results (with --waves also waves.vcd, dumped straight into
/// the staging folder).
fn sim(args: &SimArgs) -> Result<()> {
    let mut engine = Engine::Sim(SimEngine {
        waves: args.waves,
        acc: None,
    });
    run_command(&args.run, &mut engine)?;
    if args.waves {
        eprintln!(
            "drq sim: waveform {}",
            args.run.out.join("waves.vcd").display()
        );
    }
    Ok(())
}

/// Write a run's files into its staging folder and publish it.
fn publish_run<N: AsRef<str>>(mut stage: Staging, files: &[(N, Vec<u8>)]) -> Result<()> {
    let out = stage.out().to_path_buf();
    let put = |stage: &mut Staging| -> Result<(), publish::PublishError> {
        for (name, bytes) in files {
            stage.write(name.as_ref(), bytes)?;
        }
        Ok(())
    };
    put(&mut stage)
        .and_then(|()| stage.publish(&run_owns))
        .with_context(|| format!("writing results to {}", out.display()))
}

fn run_command(args: &GoldenArgs, engine: &mut Engine) -> Result<()> {
    let cfg = args.config.resolve()?;
    if let Some(net) = &args.network {
        return run_network_command(&cfg, net, args, engine);
    }
    let required = |p: &Option<PathBuf>| p.clone().expect("clap requires it without --network");
    let layer_path = required(&args.layer);
    let layer = Layer::load(&layer_path, &cfg)?;
    budget::check(
        &layer_path,
        format!("this layer's run ({})", budget::describe(&layer)),
        budget::layer_bytes(&cfg, &layer),
    )?;
    engine.check(&cfg, [(layer_path.display().to_string(), &layer, None)])?;
    let files = LayerFiles {
        input: args.input.clone(),
        weights: required(&args.weights),
        bias: required(&args.bias),
        mask: args.mask.clone(),
    };
    let data = load_layer_data(&cfg, &layer, &files)?;
    let stage = Staging::new(&args.out)?;
    engine.build(&cfg, &stage)?;
    let run = engine.run(&cfg, 0, (&layer, None), &data)?;
    engine.finish();
    publish_run(stage, &output_files(&cfg, &run, &run.counters))?;
    eprintln!(
        "{}",
        summary(
            engine.name(),
            &layer_path.display().to_string(),
            &args.out,
            &run.counters
        )
    );
    Ok(())
}

/// `drq golden --network`: the chain, written as `DIR/layer{i}/`, `DIR/y.npy`
/// and `DIR/counters.json`, all-or-nothing.
fn run_network_command(
    cfg: &AccelConfig,
    path: &Path,
    args: &GoldenArgs,
    engine: &mut Engine,
) -> Result<()> {
    let net = model_cmd::load_network(path, &args.tiles, cfg)?;
    engine.check(
        cfg,
        net.layers.iter().enumerate().map(|(i, l)| {
            let next = net.layers.get(i + 1).map(|n| &n.layer);
            (format!("{}: layer {i}", path.display()), &l.layer, next)
        }),
    )?;
    let first = &net.layers[0].layer;
    let input = load_input(cfg, first, &args.input)?;
    let mask = match &args.mask {
        Some(p) => Some(read_mask(cfg, first, p)?),
        None => None,
    };
    let stage = Staging::new(&args.out)?;
    engine.build(cfg, &stage)?;
    let runs = run_network_with(&net, &input, mask.as_ref(), |i, layer, data| {
        let next = net.layers.get(i + 1).map(|n| &n.layer);
        engine.run(cfg, i, (layer, next), data)
    })
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    engine.finish();
    publish_run(stage, &network_output_files(cfg, &runs))?;
    for (i, run) in runs.iter().enumerate() {
        let what = format!("{} layer {i}", path.display());
        eprintln!(
            "{}",
            summary(
                engine.name(),
                &what,
                &args.out.join(layer_dir(i)),
                &run.counters
            )
        );
    }
    Ok(())
}

/// An error as one line: the context chain joined with ": ", leaving out a
/// cause whose text the line already holds (errors that print their source).
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    // One line of at most a few hundred characters, whatever an error quotes.
    drq_arch::text::clip(&line.replace('\n', " "), MAX_ERROR_LINE)
}

/// Longest error line printed (characters).
const MAX_ERROR_LINE: usize = 400;

fn main() -> ExitCode {
    publish::install_signal_handlers();
    let cli = Cli::parse();
    if let Some(limit) = cli.max_memory {
        budget::set_limit(limit);
    }
    let result = match &cli.command {
        Command::Golden(a) => golden(a),
        Command::Sim(a) => sim(a),
        Command::Waves(a) => waves(a),
        Command::Regress(a) => regress(a),
        Command::Eval(a) => model_cmd::eval(a),
        Command::Calibrate(a) => model_cmd::calibrate_cmd(a),
        Command::Config(a) => a.resolve().map(|c| print!("{}", c.to_toml())),
        Command::Verilog(a) => verilog(a),
        Command::Regs(a) => regs(a),
        Command::Mutate(a) => verify_cmd::mutate(a),
        Command::Coverage(a) => verify_cmd::coverage(a),
        Command::Synth(a) => synth_cmd::synth(a),
        Command::SynthCompare(a) => synth_cmd::synth_compare(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drq: error: {}", error_line(&e));
            ExitCode::FAILURE
        }
    }
}
