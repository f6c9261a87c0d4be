//! The emitted output stage (top `drq_output_stage`): deterministic, plain
//! ports of the configured widths, clean under `verilator --lint-only -Wall`
//! with only the emitted waiver file and under `verilator --cc`, and
//! synthesizable by Yosys without latches.

use crate::common;
use common::{each, lint, same_bytes_and_plain_ports, synthesize, verilate_clean};
use drq_arch::AccelConfig;
use drq_hdl::output_stage::output_stage_design;

fn configs() -> Vec<AccelConfig> {
    let d = AccelConfig::replicated();
    vec![
        d,
        AccelConfig {
            rows: 12,
            cols: 5,
            ..d
        },
        AccelConfig {
            acc_bits: 64,
            a_hi: 16,
            a_lo: 8,
            ..d
        },
        AccelConfig {
            rows: 1,
            cols: 1,
            acc_bits: 16,
            ..d
        },
        // A row queue of 5 rows (a distributed RAM per lane).
        AccelConfig {
            rows: 6,
            cols: 3,
            out_rows: 6,
            ..d
        },
        // Four lanes (four requantisers) with a queue of two groups.
        AccelConfig {
            rows: 8,
            cols: 4,
            out_rows: 3,
            out_lanes: 4,
            ..d
        },
        // The burst read-out's room check beside a queue of three groups.
        AccelConfig {
            rows: 8,
            cols: 4,
            out_rows: 4,
            out_lanes: 2,
            overlap: true,
            row_taps: true,
            burst_readout: true,
            ..d
        },
    ]
}

#[test]
fn same_configuration_same_bytes_and_plain_ports() {
    for cfg in configs() {
        let d = same_bytes_and_plain_ports(
            || output_stage_design(&cfg),
            "drq_output_stage",
            &cfg.to_string(),
        );
        let width = |n: &str| common::width(&d, n);
        assert_eq!(width("in_acc"), cfg.cols * cfg.acc_bits);
        assert_eq!(width("out_acc"), cfg.out_lanes * cfg.acc_bits);
        assert_eq!(width("out_value"), cfg.out_lanes * cfg.a_hi);
        assert_eq!(width("out_lanes"), cfg.out_lanes);
        assert_eq!(width("requant_mult"), 16);
        assert_eq!(width("requant_shift"), 6);
        for n in ["out_channel", "out_y", "out_x", "tile_w", "c_out"] {
            assert_eq!(width(n), 16, "{n}");
        }
    }
    assert_ne!(
        output_stage_design(&configs()[0]).verilog,
        output_stage_design(&configs()[1]).verilog
    );
}

#[test]
fn verilator_lint_is_clean() {
    each(configs(), output_stage_design, lint);
}

/// `--cc` warnings (UNOPTFLAT) appear only when verilating, not in lint.
#[test]
fn verilator_cc_has_no_warnings() {
    each(
        [configs()[0], configs()[2], configs()[4]],
        output_stage_design,
        verilate_clean,
    );
}

#[test]
fn yosys_synthesizes_without_latches() {
    each(
        [configs()[1], configs()[3], configs()[4]],
        output_stage_design,
        synthesize,
    );
}
