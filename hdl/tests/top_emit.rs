//! The whole accelerator `drq_top`: deterministic, lint-clean with only its
//! waiver file, verilates without warnings, elaborates in Yosys without
//! latches, loops or multiple drivers.

use crate::common;

use common::{elaborate_without_latches, lint, same_bytes_and_plain_ports, verilate_clean};
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_hdl::top::top_design;

fn small() -> AccelConfig {
    AccelConfig {
        act_words: 512,
        acc_words: 512,
        weight_words: 256,
        mask_words: 256,
        bias_words: 16,
        ..AccelConfig::small()
    }
}

fn configs() -> Vec<(AccelConfig, &'static str)> {
    vec![
        (small(), "4x4 R2"),
        (
            AccelConfig {
                acc_bits: 48,
                ..small().six_tokens_3x5()
            },
            "3x5 R4 A6/3 W6/2 ACC48",
        ),
        (
            AccelConfig {
                pe: PeKind::Int8,
                ..small()
            },
            "4x4 INT8",
        ),
        (
            AccelConfig {
                out_rows: 3,
                out_lanes: 2,
                ..small()
            },
            "4x4 R2 out_rows 3 out_lanes 2",
        ),
        (
            AccelConfig {
                overlap: true,
                stream_predictor: true,
                ..small()
            },
            "4x4 R2 overlap streaming predictor",
        ),
        (
            AccelConfig {
                pe: PeKind::Int8,
                out_lanes: 4,
                stream_predictor: true,
                ..small()
            },
            "4x4 INT8 out_lanes 4 (two predictor banks) streaming predictor",
        ),
        (
            AccelConfig {
                pe: PeKind::Int8,
                overlap: true,
                ..small().six_tokens_3x5()
            },
            "3x5 INT8 overlap",
        ),
        (
            AccelConfig {
                overlap: true,
                row_taps: true,
                burst_readout: true,
                out_rows: 2,
                out_lanes: 2,
                ..small()
            },
            "4x4 R2 row taps burst read-out out_rows 2 out_lanes 2",
        ),
        (
            AccelConfig {
                packed_rows: true,
                stream_predictor: true,
                out_lanes: 2,
                ..small()
            },
            "4x4 R2 packed rows out_lanes 2 streaming predictor",
        ),
    ]
}

#[test]
fn same_configuration_same_bytes() {
    same_bytes_and_plain_ports(|| top_design(&small()), "drq_top", "4x4 R2");
}

#[test]
fn lints_clean_with_only_the_emitted_waivers() {
    for (cfg, what) in configs() {
        lint(&top_design(&cfg), what);
    }
    lint(&top_design(&AccelConfig::default()), "default");
}

#[test]
fn verilates_without_warnings() {
    verilate_clean(&top_design(&small()), "4x4 R2");
}

#[test]
fn elaborates_without_latches_loops_or_multiple_drivers() {
    // Technology mapping of the whole top is in the FPGA flows
    // (verif/tests/synth_families.rs); here Yosys elaborates it.
    for (cfg, what) in configs() {
        elaborate_without_latches(&top_design(&cfg), what);
    }
}

/// The banked ULX3S configuration (the default-to-be of issue 17) is as
/// compact, and a child's input copying a signal is connected to it: the
/// 16x16 mesh declares no PE input of its own (two lines a port, 22 a PE:
/// `comb.rs`), and no PE's `drain` is assigned twice (a shadow copy).
#[test]
fn banked_top_is_compact_and_connects_child_inputs_to_their_sources() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../constraints/ulx3s/accel-banked.toml");
    let cfg = AccelConfig::load(Some(&path), &Default::default()).unwrap();
    let d = top_design(&cfg);
    let lines = d.verilog.lines().count();
    assert!(lines < 40_000, "the banked drq_top.v has {lines} lines");
    let mesh = d
        .verilog
        .split("\nmodule ")
        .find(|m| m.starts_with("drq_top_core_array_mesh("))
        .expect("the mesh module");
    for port in ["valid_in", "digit_in", "w_low_in", "acc_hi_in", "drain"] {
        assert!(
            !mesh.contains(&format!("pes_17_{port};")),
            "pes_17_{port} declared"
        );
    }
    assert!(
        mesh.contains(".valid_in(pes_16_valid_out)"),
        "PE 17 not fed by PE 16"
    );
    assert!(
        !mesh.contains("_calc"),
        "a signal of the mesh assigned twice"
    );
}

/// The default top is compact: each distinct module written once, no `$`
/// in any module, port or signal name (issue 15: under 40,000 lines).
#[test]
fn default_top_writes_each_module_once_with_plain_names() {
    let d = top_design(&AccelConfig::default());
    let lines = d.verilog.lines().count();
    assert!(lines < 40_000, "drq_top.v has {lines} lines");
    let mut bodies = std::collections::HashMap::new();
    let mut name = String::new();
    let mut body = String::new();
    for line in d.verilog.lines() {
        if let Some(rest) = line.strip_prefix("module ") {
            name = rest.split(['(', ' ']).next().unwrap().to_string();
            body.clear();
        } else if line.starts_with("endmodule") {
            // The module's own name, as a whole word, is not part of its body.
            let canon: String = body
                .split_inclusive(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map(|w| {
                    let word =
                        w.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
                    if word == name {
                        w.replacen(word, "SELF", 1)
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            if let Some(other) = bodies.insert(canon, name.clone()) {
                panic!("{name} and {other} have the same body");
            }
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    assert!(bodies.len() > 20, "{} modules", bodies.len());
    for line in d.verilog.lines() {
        let code = line.split("//").next().unwrap();
        let outside_system_names = code.replace("$signed", "").replace("$unsigned", "");
        assert!(!outside_system_names.contains('$'), "a name with $: {line}");
    }
}
