//! The emitted AXI4-Lite host interface (top `drq_axil`: `AxiLiteSlave` with
//! a `WordRam` in its window): deterministic, plain ports of the documented
//! widths, clean under `verilator --lint-only -Wall` with only the emitted
//! waiver file and under `verilator --cc`, synthesizable by Yosys without
//! latches, the window RAM inferred as a memory.

use crate::common;
use common::{lint, same_bytes_and_plain_ports, synthesize_inferring_memories, verilate_clean};
use drq_arch::AccelConfig;
use drq_hdl::axil::{axil_design, axil_test_design, ADDR_BITS, TEST_N_RO, TEST_N_RW};
use drq_hdl::shell::Dir;

#[test]
fn same_bytes_and_plain_ports_of_the_documented_widths() {
    let cfg = AccelConfig::default();
    let d = same_bytes_and_plain_ports(|| axil_design(&cfg), "drq_axil", "default");
    let port = |n: &str| {
        d.ports
            .iter()
            .find(|p| p.name == n)
            .unwrap_or_else(|| panic!("no port {n}"))
    };
    let expect = [
        ("clk", Dir::Input, 1),
        ("rst", Dir::Input, 1),
        ("awvalid", Dir::Input, 1),
        ("awready", Dir::Output, 1),
        ("awaddr", Dir::Input, ADDR_BITS),
        ("wvalid", Dir::Input, 1),
        ("wready", Dir::Output, 1),
        ("wdata", Dir::Input, 32),
        ("wstrb", Dir::Input, 4),
        ("bvalid", Dir::Output, 1),
        ("bready", Dir::Input, 1),
        ("bresp", Dir::Output, 2),
        ("arvalid", Dir::Input, 1),
        ("arready", Dir::Output, 1),
        ("araddr", Dir::Input, ADDR_BITS),
        ("rvalid", Dir::Output, 1),
        ("rready", Dir::Input, 1),
        ("rdata", Dir::Output, 32),
        ("rresp", Dir::Output, 2),
        ("reg_out", Dir::Output, 32 * TEST_N_RW as u32),
        ("write_strobe", Dir::Output, TEST_N_RW as u32),
        ("reg_in", Dir::Input, 32 * TEST_N_RO as u32),
    ];
    assert_eq!(d.ports.len(), expect.len());
    for (name, dir, width) in expect {
        let p = port(name);
        assert_eq!((p.dir, p.width), (dir, width), "{name}");
    }
}

#[test]
fn verilator_lint_is_clean() {
    let cfg = AccelConfig::default();
    lint(&axil_design(&cfg), "default");
    // Register counts at the edges and other window sizes.
    for (n_rw, n_ro, words) in [(1, 1, 2), (63, 1, 16), (1, 63, 3000), (32, 32, 4096)] {
        lint(
            &axil_test_design(&cfg, n_rw, n_ro, words),
            &format!("{n_rw} RW, {n_ro} RO, {words} words"),
        );
    }
}

/// `--cc` warnings (UNOPTFLAT) appear only when verilating, not in lint.
#[test]
fn verilator_cc_has_no_warnings() {
    verilate_clean(&axil_design(&AccelConfig::default()), "default");
}

/// A 64-word window: `synth` maps the RAM to flip-flops, so the default
/// 1024 words would take half a minute to prove nothing more.
#[test]
fn yosys_synthesizes_without_latches_and_infers_the_window_memory() {
    let d = axil_test_design(&AccelConfig::default(), TEST_N_RW, TEST_N_RO, 64);
    synthesize_inferring_memories(&d, 1, "default");
}
