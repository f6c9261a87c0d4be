//! Checks every emitted design must pass, shared by the emission tests.

#![allow(dead_code)]

use drq_hdl::shell::Design;
use std::process::Command;

/// The design's Verilog and waiver file in a fresh folder.
pub fn write(design: &Design) -> tempfile::TempDir {
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

fn verilator(design: &Design, args: &[&str], what: &str) {
    let dir = write(design);
    let out = Command::new("verilator")
        .args(args)
        .args(["--top-module", &design.top])
        .arg(format!("{}.vlt", design.top))
        .arg(format!("{}.v", design.top))
        .current_dir(dir.path())
        .output()
        .expect("verilator (apt-get install -y verilator)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "{} ({what}): {text}",
        design.top
    );
}

/// `verilator --lint-only -Wall` with only the emitted waiver file: clean.
pub fn lint(design: &Design, what: &str) {
    verilator(design, &["--lint-only", "-Wall"], what);
}

/// Verilate to C++ (no compile) with the default warnings: UNOPTFLAT and
/// friends appear only here, not in `--lint-only`.
pub fn verilate_clean(design: &Design, what: &str) {
    verilator(design, &["--cc", "-O3", "-Mdir", "obj"], what);
}

/// Run a Yosys script on the design's Verilog; it must succeed.
fn yosys(design: &Design, script: &str, what: &str) {
    let dir = write(design);
    let out = Command::new("yosys")
        .args(["-q", "-p", script])
        .current_dir(dir.path())
        .output()
        .expect("yosys (apt-get install -y yosys)");
    assert!(
        out.status.success(),
        "{} ({what}): {}{}",
        design.top,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Yosys `synth -flatten` with no latch in the result; `pre` runs first on
/// the same file (for example checks before memories are mapped).
pub fn synthesize_without_latches(design: &Design, pre: &str, what: &str) {
    let script = format!(
        "{pre} read_verilog {top}.v; synth -flatten -top {top}; select -assert-none t:*dlatch* t:*DLATCH*; stat",
        top = design.top
    );
    yosys(design, &script, what);
}

/// Yosys elaboration only (`proc`, `flatten`): no latch inferred, and
/// `check -assert` finds no combinational loop, multiple driver or
/// undriven signal. Quick even for the whole top (no technology mapping).
pub fn elaborate_without_latches(design: &Design, what: &str) {
    let script = format!(
        "read_verilog {top}.v; hierarchy -check -top {top}; proc; flatten; opt_clean; \
         check -assert; select -assert-none t:$dlatch t:$adlatch t:$dlatchsr",
        top = design.top
    );
    yosys(design, &script, what);
}
