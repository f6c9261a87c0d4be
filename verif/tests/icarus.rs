//! A layer of a small `drq_top` in Icarus Verilog, an event-driven
//! simulator that orders nothing statically: the emitted Verilog must
//! settle without zero-delay loops (each combinational output assigned once
//! per evaluation) and give what the golden model gives, as in Verilator.

use drq_arch::regs::reg;
use drq_arch::AccelConfig;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::run_layer;
use drq_verif::icarus;
use drq_verif::regress::{random_case, Sensitivity};
use drq_verif::sim::workspace_root;
use std::time::Duration;

fn cfg_2x2() -> AccelConfig {
    AccelConfig {
        rows: 2,
        cols: 2,
        region: 2,
        max_width: 8,
        act_words: 256,
        acc_words: 256,
        weight_words: 128,
        mask_words: 64,
        bias_words: 8,
        ..AccelConfig::replicated()
    }
}

fn layers_in_icarus(cfg: &AccelConfig, test: &str, kinds: &[Sensitivity]) {
    if std::process::Command::new("iverilog")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("iverilog is not installed (apt-get install -y iverilog)");
    }
    let seed = test_seed(test);
    let mut rng = Rng::new(seed);
    for (i, &kind) in kinds.iter().enumerate() {
        let (layer, data) = random_case(&mut rng, cfg, kind);
        let gold = run_layer(cfg, &layer, &data).unwrap();
        let dir = workspace_root().join(format!("sim-out/icarus/{test}/{i}"));
        let hw = icarus::run_layer(cfg, &layer, &data, &dir, Duration::from_secs(240))
            .unwrap_or_else(|e| panic!("{layer:?}: {e} (files in {})", dir.display()));
        let what = format!("case {i} ({}) {layer:?}", kind.describe());
        assert_eq!(hw.mask_in, gold.mask_in, "{what}: input mask");
        assert_eq!(hw.acc, gold.acc, "{what}: accumulators");
        assert_eq!(hw.y, gold.y, "{what}: outputs");
        assert_eq!(hw.mask_out, gold.mask_out, "{what}: output mask");
        assert_eq!(hw.counters, gold.counters, "{what}: counters");
        assert_eq!(
            hw.status & (reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT | reg::STATUS_OVERSIZE),
            reg::STATUS_DONE,
            "{what}: STATUS {:#x}",
            hw.status
        );
    }
}

/// Predicted and host masks, all and no regions sensitive.
#[test]
fn a_2x2_top_runs_layers_in_icarus_like_the_golden_model() {
    layers_in_icarus(
        &cfg_2x2(),
        "a_2x2_top_runs_layers_in_icarus_like_the_golden_model",
        &[
            Sensitivity::Some,
            Sensitivity::HostMask,
            Sensitivity::All,
            Sensitivity::None,
        ],
    );
}

/// The output queue (distributed RAM read asynchronously), the lane
/// groups (buffer words of two lanes with lane enables) and the row taps
/// (a multiplexer over the shadow rows, rows counted up) settle in an
/// event-driven simulator too: a 2x2 top holding 3 groups of 2 pixels.
#[test]
fn a_2x2_top_with_a_row_queue_lanes_and_row_taps_runs_layers_in_icarus_like_the_golden_model() {
    layers_in_icarus(
        &AccelConfig {
            out_rows: 3,
            out_lanes: 2,
            overlap: true,
            row_taps: true,
            ..cfg_2x2()
        },
        "a_2x2_top_with_a_row_queue_lanes_and_row_taps_runs_layers_in_icarus_like_the_golden_model",
        &[Sensitivity::Some, Sensitivity::All],
    );
}

/// Banked activations settle in an event-driven simulator too: the
/// banks' rotation, the banked input scan and the write-back's layout
/// tables (distributed RAM read asynchronously).
#[test]
fn a_2x2_top_with_banked_activations_runs_layers_in_icarus_like_the_golden_model() {
    layers_in_icarus(
        &AccelConfig {
            act_layout: drq_arch::config::ActLayout::Banked,
            ..cfg_2x2()
        },
        "a_2x2_top_with_banked_activations_runs_layers_in_icarus_like_the_golden_model",
        &[Sensitivity::Some, Sensitivity::HostMask],
    );
}

/// Cyclic activations settle in an event-driven simulator too: the
/// banks' rotation (its kept stages), the cyclic input scan and the
/// write-back's tables of entry parts.
#[test]
fn a_2x2_top_with_cyclic_activations_runs_layers_in_icarus_like_the_golden_model() {
    layers_in_icarus(
        &AccelConfig {
            act_layout: drq_arch::config::ActLayout::Cyclic,
            ..cfg_2x2()
        },
        "a_2x2_top_with_cyclic_activations_runs_layers_in_icarus_like_the_golden_model",
        &[Sensitivity::Some, Sensitivity::HostMask],
    );
}

/// The burst read-out settles in an event-driven simulator too: the
/// output stage's room check feeds the array's start, which moves the
/// next tile's fields (registers) into the stage.
#[test]
fn a_2x2_top_with_the_burst_read_out_runs_layers_in_icarus_like_the_golden_model() {
    layers_in_icarus(
        &AccelConfig {
            out_rows: 2,
            out_lanes: 2,
            overlap: true,
            row_taps: true,
            burst_readout: true,
            stream_predictor: true,
            ..cfg_2x2()
        },
        "a_2x2_top_with_the_burst_read_out_runs_layers_in_icarus_like_the_golden_model",
        &[Sensitivity::Some, Sensitivity::None],
    );
}

/// Shadow accumulators settle in an event-driven simulator too: the
/// array's `in_ready` depends on the controller's `in_last` (from
/// registers) in the same cycle. With the streaming predictor: its clear
/// after reset, the held start and the two-value input scan.
#[test]
fn a_2x2_top_with_shadow_accumulators_and_the_streaming_predictor_runs_layers_in_icarus() {
    layers_in_icarus(
        &AccelConfig {
            overlap: true,
            stream_predictor: true,
            ..cfg_2x2()
        },
        "a_2x2_top_with_shadow_accumulators_and_the_streaming_predictor_runs_layers_in_icarus",
        &[Sensitivity::Some, Sensitivity::None],
    );
}
