//! Emitted Verilog: deterministic, plain top-level ports, clean under
//! `verilator --lint-only -Wall` (with only the commented waiver file), and
//! synthesizable by Yosys without latches.

use drq_hdl::config::PeKind;
use drq_hdl::emit::{array_design, multiplier_design, pe_design, Design};
use drq_hdl::AccelConfig;
use std::process::Command;

fn configs() -> Vec<AccelConfig> {
    let d = AccelConfig::default();
    vec![
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
    ]
}

fn write(design: &Design) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("{}.v", design.top)),
        &design.verilog,
    )
    .unwrap();
    std::fs::write(
        dir.path().join(format!("{}.vlt", design.top)),
        &design.waivers,
    )
    .unwrap();
    dir
}

#[test]
fn same_configuration_same_bytes() {
    for cfg in configs() {
        assert_eq!(
            array_design(&cfg).verilog,
            array_design(&cfg).verilog,
            "{cfg}"
        );
    }
    let a = array_design(&AccelConfig {
        rows: 2,
        cols: 2,
        ..AccelConfig::default()
    });
    let b = array_design(&AccelConfig {
        rows: 2,
        cols: 2,
        acc_bits: 24,
        ..AccelConfig::default()
    });
    assert_ne!(a.verilog, b.verilog);
}

#[test]
fn top_ports_are_plain_and_sized_by_the_configuration() {
    let cfg = AccelConfig {
        rows: 3,
        cols: 5,
        acc_bits: 20,
        ..AccelConfig::default()
    };
    let d = array_design(&cfg);
    assert_eq!(d.top, "drq_array");
    assert!(d.verilog.contains("module drq_array ("));
    for p in &d.ports {
        assert!(
            p.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{}",
            p.name
        );
    }
    let width = |n: &str| d.ports.iter().find(|p| p.name == n).unwrap().width;
    assert_eq!(width("in_digits"), 3 * 4);
    assert_eq!(width("in_w_digits"), 5 * 5);
    assert_eq!(width("out_acc"), 5 * 20);
    assert_eq!(width("out_row"), 2);
}

fn lint(design: &Design) {
    let dir = write(design);
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", &design.top])
        .arg(format!("{}.vlt", design.top))
        .arg(format!("{}.v", design.top))
        .current_dir(dir.path())
        .output()
        .expect("verilator (apt-get install -y verilator)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "{}: {text}",
        design.top
    );
}

#[test]
fn verilator_lint_is_clean() {
    for cfg in configs() {
        lint(&array_design(&cfg));
        lint(&pe_design(&cfg));
        lint(&multiplier_design(&cfg));
    }
}

#[test]
fn yosys_synthesizes_without_latches() {
    for cfg in configs().into_iter().filter(|c| c.rows * c.cols <= 8) {
        let d = array_design(&cfg);
        let dir = write(&d);
        let script = format!(
            "read_verilog {top}.v; synth -flatten -top {top}; select -assert-none t:*dlatch* t:*DLATCH*; stat",
            top = d.top
        );
        let out = Command::new("yosys")
            .args(["-q", "-p", &script])
            .current_dir(dir.path())
            .output()
            .expect("yosys (apt-get install -y yosys)");
        assert!(
            out.status.success(),
            "{cfg}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
