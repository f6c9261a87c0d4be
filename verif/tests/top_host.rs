//! The host interface of the whole `drq_top` (docs/spec.md §8): the error
//! responses of its AXI4-Lite slave, what a buffer read returns while a
//! layer runs, and `STATUS.oversize` through the top. The host driver
//! never provokes these; the checks live in `drq_verif::host_checks` (they
//! also run against every mutant of `drq mutate`) and run here on the
//! small configurations of the regression.

use drq_arch::AccelConfig;
use drq_golden::rng::{test_seed, Rng};
use drq_verif::axil_bfm::Timing;
use drq_verif::driver::Accelerator;
use drq_verif::host_checks;
use drq_verif::regress::{cfg_4x4, quick_configs};
use drq_verif::sim::SimOptions;

fn accelerator(cfg: &AccelConfig, test: &str) -> Accelerator {
    let seed = test_seed(test);
    Accelerator::new(
        cfg,
        &SimOptions::from_env("top_host", test),
        seed,
        Timing::FAST,
    )
    .unwrap()
}

/// A first layer from ACT1/MASK1, the halves the driver's first layers
/// never use: predicted and host-given input masks.
#[test]
fn a_first_layer_loaded_into_act1_runs_like_the_golden_model() {
    let test = "a_first_layer_loaded_into_act1_runs_like_the_golden_model";
    let mut rng = Rng::new(test_seed(test));
    let mut acc = accelerator(&cfg_4x4(), test);
    for _ in 0..3 {
        host_checks::first_layer_from_act1(&mut acc, &mut rng);
    }
}

#[test]
fn error_responses_of_the_top_level_slave() {
    let mut acc = accelerator(&cfg_4x4(), "error_responses_of_the_top_level_slave");
    host_checks::error_responses(&mut acc);
}

#[test]
fn a_buffer_read_while_a_layer_runs_returns_zero_and_flags_the_conflict() {
    let test = "a_buffer_read_while_a_layer_runs_returns_zero_and_flags_the_conflict";
    let mut rng = Rng::new(test_seed(test));
    let mut acc = accelerator(&cfg_4x4(), test);
    host_checks::buffer_reads_while_busy(&mut acc, &mut rng);
}

#[test]
fn an_output_map_larger_than_the_predictor_sets_status_oversize() {
    // mask_words 64: a 1 x 1 layer's output mask outgrows the predictor
    // while its activations fit.
    let cfg = AccelConfig {
        mask_words: 64,
        ..cfg_4x4()
    };
    let test = "an_output_map_larger_than_the_predictor_sets_status_oversize";
    let mut rng = Rng::new(test_seed(test));
    let mut acc = accelerator(&cfg, test);
    assert!(host_checks::oversize_output_map(&mut acc, &mut rng));
}

/// Every check on every small configuration of the regression (INT8,
/// 1 x 1, every region size), as `drq mutate` runs them.
#[test]
fn host_checks_pass_on_every_small_configuration() {
    let seed = test_seed("host_checks_pass_on_every_small_configuration");
    let mut oversize = 0;
    for nc in quick_configs() {
        println!("{}", nc.name);
        let mut acc = accelerator(&nc.cfg, "host_checks_pass_on_every_small_configuration");
        let mut rng = Rng::new(seed);
        host_checks::error_responses(&mut acc);
        host_checks::buffer_reads_while_busy(&mut acc, &mut rng);
        if host_checks::oversize_output_map(&mut acc, &mut rng) {
            oversize += 1;
        } else {
            println!("{}: no layer has an oversize output map", nc.name);
        }
        host_checks::first_layer_from_act1(&mut acc, &mut rng);
    }
    assert_eq!(
        oversize,
        quick_configs().len(),
        "configurations without an oversize map"
    );
}
