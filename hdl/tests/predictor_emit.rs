//! The emitted sensitivity predictor (top `drq_predictor`): deterministic,
//! clean under `verilator --lint-only -Wall` with only the emitted waiver
//! file, synthesizable by Yosys without latches, its two memories inferred
//! as memories (not flip-flops), and plain ports of the configured widths.
//! Likewise its generic RAM leaf alone (top `drq_ram`).

use crate::common;
use common::{
    each, lint, same_bytes_and_plain_ports, synthesize_inferring_memories, verilate_clean,
};
use drq_arch::AccelConfig;
use drq_hdl::predictor::predictor_design;
use drq_hdl::ram::ram_design;

fn configs() -> Vec<AccelConfig> {
    let d = AccelConfig::replicated();
    vec![
        AccelConfig {
            region: 4,
            mask_words: 512,
            ..d
        },
        AccelConfig {
            region: 1,
            a_hi: 16,
            a_lo: 4,
            w_hi: 16,
            w_lo: 4,
            mask_words: 1000,
            ..d
        },
        AccelConfig {
            region: 16,
            a_hi: 6,
            a_lo: 3,
            mask_words: 16,
            ..d
        },
        // The streaming predictor, with four-pixel lane groups.
        AccelConfig {
            region: 4,
            mask_words: 512,
            out_lanes: 4,
            stream_predictor: true,
            ..d
        },
    ]
}

#[test]
fn same_configuration_same_bytes_and_plain_ports() {
    for cfg in configs() {
        let d = same_bytes_and_plain_ports(
            || predictor_design(&cfg),
            "drq_predictor",
            &cfg.to_string(),
        );
        let width = |n: &str| common::width(&d, n);
        assert_eq!(width("in_value"), cfg.a_hi + cfg.out_lanes.trailing_zeros());
        // A count up to R * R pixels beside each value (read only when
        // streaming).
        assert_eq!(width("in_pixels"), 2 * cfg.region.trailing_zeros() + 1);
        if cfg.stream_predictor {
            assert_eq!(width("clean"), 1);
        }
        assert_eq!(width("in_channel"), 16);
        assert_eq!(width("threshold"), 16);
        assert_eq!(width("mask_wr_bit"), 1);
        let addr_bits = 32 - (cfg.mask_words - 1).leading_zeros();
        assert_eq!(width("mask_wr_addr"), addr_bits, "{cfg}");
        // The mask memory is the keeper's (the top's buffers), not the
        // predictor's: no read port.
        assert!(!d
            .ports
            .iter()
            .any(|p| p.name == "mask_addr" || p.name == "mask_bit"));
    }
    let a = predictor_design(&configs()[0]);
    let b = predictor_design(&AccelConfig {
        region: 2,
        ..configs()[0]
    });
    assert_ne!(a.verilog, b.verilog);
}

#[test]
fn verilator_lint_is_clean() {
    each(configs(), predictor_design, lint);
}

#[test]
fn ram_lint_is_clean_for_any_depth_and_width() {
    for (depth, width) in [(2, 1), (5, 64), (1000, 13), (512, 24), (4096, 1)] {
        lint(&ram_design(depth, width), &format!("{depth} x {width}"));
    }
}

#[test]
fn yosys_synthesizes_without_latches_and_infers_memories() {
    // The region-sum RAM recognised as a memory with one write and one
    // read port (the mask memory is the top's).
    each([configs()[0], configs()[2]], predictor_design, |d, what| {
        synthesize_inferring_memories(d, 1, what)
    });
}

/// `--cc` warnings (UNOPTFLAT) appear only when verilating, not in lint.
#[test]
fn verilator_cc_has_no_warnings() {
    verilate_clean(&predictor_design(&configs()[0]), "default");
}
