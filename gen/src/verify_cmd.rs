//! `drq mutate`: mutation analysis of the emitted `drq_top` against the
//! regression (`drq_verif::mutate`); `drq coverage`: line, toggle and
//! functional coverage of it over the regression (`drq_verif::coverage`).

use anyhow::{bail, Result};
use clap::Args;
use drq_verif::mutate::{run_mutation, MutateOptions};
use drq_verif::regress::{default_configs, NamedConfig};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MutateArgs {
    /// Configurations of `drq regress` to mutate, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "4x4-r2-ov-sp,3x5-r4-a6w6-acc48,int8-4x2-r16"
    )]
    configs: Vec<String>,
    /// Mutants sampled per configuration.
    #[arg(long, default_value_t = 70)]
    mutants: usize,
    /// Regression cases each mutant runs (each followed by a chained layer
    /// when it predicts a mask).
    #[arg(long, default_value_t = 10)]
    cases: usize,
    /// Seed of the sample and of the cases (default: from DRQ_SEED, else 1;
    /// always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Mutants run at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Do not try to prove survivors equivalent with Yosys.
    #[arg(long)]
    no_prove: bool,
    /// Output folder: report.json, report.md.
    #[arg(long, value_name = "DIR", default_value = "sim-out/mutate")]
    out: PathBuf,
}

pub fn mutate(args: &MutateArgs) -> Result<()> {
    let configs = named_configs(&args.configs)?;
    if args.mutants == 0 || args.cases == 0 {
        bail!("--mutants and --cases must be at least 1");
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::env::var("DRQ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
    });
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    eprintln!(
        "drq mutate: seed {seed}, {} mutants of each of {}, {} cases each, {jobs} at once",
        args.mutants,
        args.configs.join(", "),
        args.cases
    );
    let opts = MutateOptions {
        configs,
        mutants: args.mutants,
        cases: args.cases,
        seed,
        jobs,
        out: args.out.clone(),
        prove: !args.no_prove,
    };
    let report = run_mutation(&opts, &|line| eprintln!("{line}"))
        .map_err(|e| anyhow::anyhow!("mutate: {e}"))?;
    println!(
        "mutation score {:.1} % ({} killed, {} timeout, {} survived, {} equivalent) in {:.0} s: {}",
        report.score,
        report.total.killed,
        report.total.timeout,
        report.total.survived,
        report.total.equivalent,
        report.seconds,
        args.out.join("report.md").display()
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// Configurations of `drq regress` to run, comma-separated (default:
    /// the quick ones, `drq regress --quick`).
    #[arg(long, value_delimiter = ',')]
    configs: Vec<String>,
    /// Regression cases per configuration (each followed by its chained
    /// layer when it predicts a mask).
    #[arg(long, default_value_t = 8)]
    cases: usize,
    /// Base seed of the cases, as `drq regress --seed` (default: from
    /// DRQ_SEED, else 1; always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder: report.json, report.md, dat/<config>.dat.
    #[arg(long, value_name = "DIR", default_value = "sim-out/coverage")]
    out: PathBuf,
    /// Count toggles only of signals at most this many bits wide (default:
    /// every signal). 32 leaves out the emitted Verilog's 64-bit words,
    /// whose upper bits are constant by construction, and builds each
    /// coverage model in seconds instead of minutes.
    #[arg(long, value_name = "BITS", value_parser = clap::value_parser!(u32).range(1..=65536))]
    toggle_max_width: Option<u32>,
}

pub fn coverage(args: &CoverageArgs) -> Result<()> {
    use drq_verif::coverage::{run_coverage, CoverageOptions};
    use drq_verif::regress::quick_configs;
    let configs: Vec<NamedConfig> = if args.configs.is_empty() {
        quick_configs()
    } else {
        named_configs(&args.configs)?
    };
    if args.cases == 0 {
        bail!("--cases must be at least 1");
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::env::var("DRQ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
    });
    eprintln!(
        "drq coverage: seed {seed} (replay with --seed {seed}), {} cases of each of {}",
        args.cases,
        configs
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let opts = CoverageOptions {
        out: args.out.clone(),
        seed,
        cases_per_config: args.cases,
        configs,
        toggle_max_width: args.toggle_max_width,
    };
    let report = run_coverage(&opts, &mut |line| eprintln!("{line}"))
        .map_err(|e| anyhow::anyhow!("coverage: {e}"))?;
    println!(
        "coverage: lines {:.1} % ({} of {}), toggles {:.1} %, cover points hit {} of {}, {} failures, {:.0} s: {}",
        report.total_lines.percent,
        report.total_lines.covered,
        report.total_lines.total,
        report.total_toggles.percent,
        report.cover_points_hit,
        report.cover_points.len(),
        report.failures(),
        report.seconds,
        args.out.join("report.md").display()
    );
    if report.failures() > 0 {
        bail!(
            "{} of {} cases failed (their replay commands are in {})",
            report.failures(),
            report.cases.len(),
            args.out.join("report.md").display()
        );
    }
    if !report.timeline_mismatches.is_empty() {
        bail!(
            "the phase timeline disagreed with {} runs: {}",
            report.timeline_mismatches.len(),
            report.timeline_mismatches[0]
        );
    }
    Ok(())
}

/// The configurations of `drq regress` named in `--configs`, in order.
fn named_configs(names: &[String]) -> Result<Vec<NamedConfig>> {
    let known = default_configs();
    names
        .iter()
        .map(|name| match known.iter().find(|c| &c.name == name) {
            Some(c) => Ok(c.clone()),
            None => bail!(
                "--configs: no configuration {name}; known: {}",
                known
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect()
}
