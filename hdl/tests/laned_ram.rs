//! The value-addressed RAM of laned words alone (top `drq_laned_ram`):
//! deterministic with plain ports, clean under `verilator --lint-only
//! -Wall` with only the emitted waiver file, synthesizable by Yosys without
//! latches with one memory per copy (packed) or per copy and lane (split),
//! and mapped to ECP5 block RAM (DP16KD) with its lane enables.

use crate::common;
use common::{lint, same_bytes_and_plain_ports, synthesize_inferring_memories};
use drq_hdl::ram::laned_ram_design;
use drq_hdl::shell::Design;
use drq_verif::tools;

/// (values, width, read ports, lanes, memories): packed, split (the
/// accumulator buffer's 4 lanes of 32 bits), one lane, and words a depth
/// that is no power of two.
const SHAPES: [(usize, u32, usize, usize, usize); 6] = [
    (16, 8, 3, 4, 3),
    (1024, 8, 2, 4, 2),
    (1000, 13, 2, 2, 2),
    (16, 40, 2, 4, 8),
    (64, 64, 1, 16, 16),
    (10, 8, 3, 1, 3),
];

fn what(values: usize, width: u32, ports: usize, lanes: usize) -> String {
    format!("{values} x {width} bits, {ports} read ports, {lanes} lanes")
}

#[test]
fn same_shape_same_bytes_and_plain_ports() {
    for (values, width, ports, lanes, _) in SHAPES {
        let what = what(values, width, ports, lanes);
        let d = same_bytes_and_plain_ports(
            || laned_ram_design(values, width, ports, lanes),
            "drq_laned_ram",
            &what,
        );
        let width_of = |n: &str| common::width(&d, n);
        assert_eq!(width_of("wr_data"), width * lanes as u32, "{what}");
        assert_eq!(width_of("rd_data"), width * ports as u32, "{what}");
        // One lane: no lane enables, no lane register, no lane mux.
        assert_eq!(
            d.ports.iter().any(|p| p.name == "wr_lanes"),
            lanes > 1,
            "{what}"
        );
        assert_eq!(d.verilog.contains("lane_q"), lanes > 1, "{what}");
    }
}

#[test]
fn verilator_lint_is_clean() {
    for (values, width, ports, lanes, _) in SHAPES {
        lint(
            &laned_ram_design(values, width, ports, lanes),
            &what(values, width, ports, lanes),
        );
    }
}

#[test]
fn yosys_synthesizes_without_latches_and_infers_memories() {
    for (values, width, ports, lanes, memories) in SHAPES {
        synthesize_inferring_memories(
            &laned_ram_design(values, width, ports, lanes),
            memories,
            &what(values, width, ports, lanes),
        );
    }
}

/// `synth_ecp5`: no latch, exactly `dp16kd` block RAMs and no LUT RAM.
fn synth_ecp5(d: &Design, dp16kd: usize, what: &str) {
    let dir = common::write(d);
    let script = format!(
        "read_verilog {top}.v; synth_ecp5 -top {top}; \
         select -assert-none t:*dlatch* t:*DLATCH*; \
         select -assert-count {dp16kd} t:DP16KD; select -assert-none t:TRELLIS_DPR16X4; stat",
        top = d.top
    );
    let run = tools::yosys(&script, None, dir.path()).expect("yosys (apt-get install -y yosys)");
    assert!(run.success, "{} ({what}): {}", d.top, run.output);
}

#[test]
fn ecp5_block_ram_with_lane_enables() {
    // Packed: 256 words of 4 lanes of 8 bits, one DP16KD a copy.
    synth_ecp5(
        &laned_ram_design(1024, 8, 2, 4),
        2,
        "packed 1024 x 8, 4 lanes",
    );
    // Split: 4 lane RAMs of 1024 x 32 bits, two DP16KD each.
    synth_ecp5(
        &laned_ram_design(4096, 32, 1, 4),
        8,
        "split 4096 x 32, 4 lanes",
    );
}
