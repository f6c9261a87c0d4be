//! The emitted region controller (top `drq_controller`): deterministic,
//! plain ports of the configured widths, clean under `verilator --lint-only
//! -Wall` with only the emitted waiver file, a `verilator --cc` build without
//! a single warning (no UNOPTFLAT), and Yosys `synth -flatten` without
//! latches.

use crate::common;
use common::{each, lint, same_bytes_and_plain_ports, synthesize, verilate_clean};
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_hdl::controller::{controller_design, COUNTER_BITS};
use drq_verif::waves::SPEC_SIGNALS;

fn configs() -> Vec<AccelConfig> {
    let d = AccelConfig::replicated();
    vec![
        AccelConfig::small(),
        AccelConfig {
            max_width: 20,
            ..d.six_tokens_3x5()
        },
        AccelConfig {
            rows: 1,
            cols: 1,
            region: 1,
            w_lo: 8,
            ..d
        },
        AccelConfig {
            rows: 2,
            cols: 3,
            pe: PeKind::Int8,
            ..d
        },
    ]
}

#[test]
fn same_configuration_same_bytes_and_plain_ports() {
    for cfg in configs() {
        let d = same_bytes_and_plain_ports(
            || controller_design(&cfg),
            "drq_controller",
            &cfg.to_string(),
        );
        let width = |n: &str| common::width(&d, n);
        assert_eq!(width("act_addr"), cfg.rows * cfg.buffer_addr_bits());
        assert_eq!(width("act_data"), cfg.rows * cfg.a_hi);
        assert_eq!(width("w_data"), cfg.cols * cfg.w_hi);
        assert_eq!(width("w_addr"), cfg.cols * cfg.buffer_addr_bits());
        assert_eq!(width("in_sens"), cfg.rows);
        assert_eq!(width("steps_high"), COUNTER_BITS);
        assert_eq!(width("c_in"), 16);
        for name in SPEC_SIGNALS {
            // Declared in the core (`output reg [63:0] drq_channel;`), so
            // every VCD dump of a design that contains the controller has it.
            assert!(
                d.verilog.contains(&format!(" {name};")),
                "{name} is not a signal of the core"
            );
        }
    }
    let a = controller_design(&configs()[0]);
    let b = controller_design(&AccelConfig {
        region: 4,
        ..configs()[0]
    });
    assert_ne!(a.verilog, b.verilog);
}

#[test]
fn verilator_lint_is_clean() {
    each(configs(), controller_design, lint);
}

/// Verilate to C++ (no compile) with the default warnings: UNOPTFLAT and
/// friends appear only here, not in `--lint-only`.
#[test]
fn verilator_cc_has_no_warnings() {
    each(
        [configs()[0], configs()[2]],
        controller_design,
        verilate_clean,
    );
}

// Two tests so the two syntheses (about 20 s each) run in parallel.
#[test]
fn yosys_synthesizes_without_latches() {
    each([configs()[0]], controller_design, synthesize);
}

#[test]
fn yosys_synthesizes_the_int8_baseline_without_latches() {
    each([configs()[3]], controller_design, synthesize);
}

/// The controller with the cyclic layout's reads (`ControllerParams::cyclic`,
/// docs/banked.md "The cyclic layout"; co-simulated in
/// `verif/tests/controller_cosim.rs`): lint-clean and synthesizable, its
/// constants as ports, the banked layout's not.
#[test]
fn cyclic_reads_lint_and_synthesize() {
    use drq_hdl::controller::{controller_design_with, ControllerParams};
    for cfg in [AccelConfig::small(), AccelConfig::default()] {
        let params = ControllerParams {
            banked_addr_bits: Some(11),
            cyclic: true,
            ..ControllerParams::new(&cfg)
        };
        let d = controller_design_with(&cfg, &params);
        let what = format!("{}x{} cyclic", cfg.rows, cfg.cols);
        assert!(d.verilog.contains("cyclic_band_len") && !d.verilog.contains("bank_row_words"));
        lint(&d, &what);
        synthesize(&d, &what);
    }
}
