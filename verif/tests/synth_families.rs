//! The emitted Verilog of a small configuration synthesizes with Yosys for
//! each FPGA family the flow supports (ECP5, iCE40, Xilinx 7-series): no
//! latches, no warnings (multiplier inference included), and sane cell counts.

use drq_hdl::emit::array_design;
use drq_hdl::AccelConfig;
use drq_verif::synth::{synthesize, Family};

fn small() -> AccelConfig {
    AccelConfig {
        rows: 2,
        cols: 2,
        ..AccelConfig::default()
    }
}

fn check(family: Family) {
    let design = array_design(&small());
    let dir = tempfile::tempdir().unwrap();
    // `synthesize` fails on any latch.
    let stats = synthesize(&design, family, true, dir.path())
        .unwrap_or_else(|e| panic!("{}: {e}", family.name()));
    let log = std::fs::read_to_string(dir.path().join(format!(
        "{}.{}.log",
        design.top,
        family.name()
    )))
    .unwrap();
    // Yosys's own warnings (ABC's note that a network is combinational is
    // informational and not one of them).
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("Warning:"))
        .collect();
    assert!(
        warnings.is_empty(),
        "{}: Yosys warnings:\n{}",
        family.name(),
        warnings.join("\n")
    );
    assert!(stats.lut_equivalents > 100, "{}: {stats:?}", family.name());
    assert!(stats.flip_flops > 100, "{}: {stats:?}", family.name());
}

#[test]
fn ecp5() {
    check(Family::Ecp5);
}

#[test]
fn ice40() {
    check(Family::Ice40);
}

#[test]
fn xilinx_7_series() {
    check(Family::Xilinx7);
}

#[test]
fn a_latch_is_rejected() {
    use drq_hdl::emit::{Design, Dir, Port};
    let latch = Design {
        top: "latchy".into(),
        verilog: "module latchy(input wire en, input wire d, output reg q);\n  always @(*) if (en) q = d;\nendmodule\n".into(),
        ports: vec![
            Port { name: "en".into(), dir: Dir::Input, width: 1 },
            Port { name: "d".into(), dir: Dir::Input, width: 1 },
            Port { name: "q".into(), dir: Dir::Output, width: 1 },
        ],
        waivers: String::new(),
    };
    for family in [Family::Ecp5, Family::Ice40, Family::Xilinx7] {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            synthesize(&latch, family, true, dir.path()).is_err(),
            "{}: a latch must fail",
            family.name()
        );
    }
}
