//! Emitted Verilog: deterministic, plain top-level ports, clean under
//! `verilator --lint-only -Wall` (with only the commented waiver file), and
//! synthesizable by Yosys without latches.

use crate::common;
use common::{each, lint, same_bytes_and_plain_ports, synthesize, verilate_clean};
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_hdl::array::array_design;
use drq_hdl::leaf::multiplier_design;
use drq_hdl::pe::pe_design;

fn configs() -> Vec<AccelConfig> {
    let d = AccelConfig::replicated();
    vec![
        // The default's cyclic buffers, four banks.
        AccelConfig {
            rows: 4,
            cols: 2,
            ..AccelConfig::default()
        },
        AccelConfig {
            rows: 2,
            cols: 2,
            ..d
        },
        AccelConfig {
            rows: 1,
            cols: 1,
            ..d
        },
        AccelConfig {
            rows: 3,
            cols: 5,
            acc_bits: 16,
            region: 2,
            ..d
        },
        AccelConfig {
            rows: 2,
            cols: 3,
            a_hi: 6,
            a_lo: 3,
            w_hi: 6,
            w_lo: 2,
            acc_bits: 64,
            ..d
        },
        AccelConfig {
            rows: 4,
            cols: 2,
            w_lo: 8,
            ..d
        },
        AccelConfig {
            rows: 2,
            cols: 2,
            a_hi: 16,
            a_lo: 4,
            w_hi: 16,
            w_lo: 4,
            acc_bits: 48,
            ..d
        },
        AccelConfig {
            rows: 4,
            cols: 4,
            pe: PeKind::Int8,
            ..d
        },
        AccelConfig {
            rows: 3,
            cols: 5,
            overlap: true,
            ..d
        },
        AccelConfig {
            rows: 1,
            cols: 1,
            overlap: true,
            ..d
        },
        AccelConfig {
            rows: 2,
            cols: 3,
            pe: PeKind::Int8,
            overlap: true,
            ..d
        },
        // Row taps on the shadows, on the PEs, and on INT8 PEs.
        AccelConfig {
            rows: 3,
            cols: 2,
            overlap: true,
            row_taps: true,
            ..d
        },
        AccelConfig {
            rows: 4,
            cols: 3,
            row_taps: true,
            ..d
        },
        AccelConfig {
            rows: 2,
            cols: 2,
            pe: PeKind::Int8,
            row_taps: true,
            ..d
        },
    ]
}

#[test]
fn same_configuration_same_bytes() {
    for cfg in configs() {
        same_bytes_and_plain_ports(|| array_design(&cfg), "drq_array", &cfg.to_string());
    }
    let a = array_design(&AccelConfig {
        rows: 2,
        cols: 2,
        ..AccelConfig::replicated()
    });
    let b = array_design(&AccelConfig {
        rows: 2,
        cols: 2,
        acc_bits: 24,
        ..AccelConfig::replicated()
    });
    assert_ne!(a.verilog, b.verilog);
}

#[test]
fn top_ports_are_plain_and_sized_by_the_configuration() {
    let cfg = AccelConfig {
        rows: 3,
        cols: 5,
        acc_bits: 20,
        ..AccelConfig::replicated()
    };
    let d = same_bytes_and_plain_ports(|| array_design(&cfg), "drq_array", &cfg.to_string());
    let width = |n: &str| common::width(&d, n);
    assert_eq!(width("in_digits"), 3 * 4);
    assert_eq!(width("in_w_digits"), 5 * 5);
    assert_eq!(width("out_acc"), 5 * 20);
    assert_eq!(width("out_row"), 2);
}

#[test]
fn verilator_lint_is_clean() {
    each(configs(), array_design, lint);
    each(configs(), pe_design, lint);
    each(configs(), multiplier_design, lint);
}

/// `--cc` warnings (UNOPTFLAT) appear only when verilating, not in lint.
#[test]
fn verilator_cc_has_no_warnings() {
    each([configs()[0], configs()[6]], array_design, verilate_clean);
}

#[test]
fn yosys_synthesizes_without_latches() {
    let small = configs().into_iter().filter(|c| c.rows * c.cols <= 8);
    each(small, array_design, synthesize);
}

/// Synthesis keeps exactly the PE whole: one module, instantiated once per
/// PE of the array (and of the whole accelerator); the PE alone keeps
/// nothing.
#[test]
fn synthesis_keeps_the_pe_module_instantiated_per_pe() {
    for cfg in configs() {
        let top = drq_hdl::top::top_design(&AccelConfig {
            act_words: 256,
            acc_words: 256,
            weight_words: 64,
            mask_words: 64,
            bias_words: 16,
            max_width: 8,
            ..cfg
        });
        for d in [array_design(&cfg), top] {
            // The PE, and with row taps the read-out multiplexers (the
            // cyclic buffers' rotation stages are kept too, not per PE).
            let kept: Vec<String> = d
                .kept_modules()
                .into_iter()
                .filter(|m| !m.contains("_shift_stages"))
                .collect();
            assert!(kept[0].ends_with("_mesh_pes"), "{kept:?}");
            assert!(kept.len() <= 2, "{kept:?}");
            let instances = |module: &str| {
                d.verilog
                    .lines()
                    .filter(|l| l.trim_start().starts_with(&format!("{module} ")))
                    .count() as u32
            };
            assert_eq!(
                instances(&kept[0]),
                cfg.rows * cfg.cols,
                "{} ({cfg})",
                d.top
            );
            let taps: u32 = kept[1..].iter().map(|tap| instances(tap)).sum();
            let want = u32::from(cfg.row_taps);
            assert_eq!(taps, want, "{} ({cfg}): {kept:?}", d.top);
        }
        assert!(pe_design(&cfg).kept_modules().is_empty(), "{cfg}");
    }
}
