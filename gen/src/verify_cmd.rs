//! `drq mutate`: mutation analysis of the emitted `drq_top` against the
//! regression (`drq_verif::mutate`).

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
        default_value = "4x4-r2,3x5-r4-a6w6-acc48,int8-4x2-r16"
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
    let known = default_configs();
    let mut configs: Vec<NamedConfig> = Vec::new();
    for name in &args.configs {
        match known.iter().find(|c| &c.name == name) {
            Some(c) => configs.push(NamedConfig::new(&c.name, c.cfg)),
            None => bail!(
                "--configs: no configuration {name}; known: {}",
                known
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
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
