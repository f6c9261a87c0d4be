//! Checks every emitted design must pass, shared by the emission tests:
//! the same bytes every time with plain ports, Verilator lint, Yosys
//! without latches. The tools are launched by `drq_verif::tools`.

#![allow(dead_code)]

use drq_hdl::shell::Design;
use drq_verif::tools;
use std::fmt::Display;

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

/// `make` twice gives the same bytes; the design's top is `top`, declared
/// as a module, and every port name is plain (letters, digits, `_`:
/// Verilator renames `$`). Returns the design for further checks.
#[track_caller]
pub fn same_bytes_and_plain_ports(make: impl Fn() -> Design, top: &str, what: &str) -> Design {
    let d = make();
    assert_eq!(d.verilog, make().verilog, "{what}: not the same bytes");
    assert_eq!(d.top, top, "{what}");
    assert!(
        d.verilog.contains(&format!("module {top} (")),
        "{what}: no module {top}"
    );
    for p in &d.ports {
        assert!(
            p.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{what}: port {}",
            p.name
        );
    }
    d
}

/// The width of the design's port `name`.
#[track_caller]
pub fn width(d: &Design, name: &str) -> u32 {
    d.ports
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{}: no port {name}", d.top))
        .width
}

/// `check(design(c), c)` for every configuration `c` (named by its `Display`).
pub fn each<C: Display>(
    configs: impl IntoIterator<Item = C>,
    design: impl Fn(&C) -> Design,
    check: impl Fn(&Design, &str),
) {
    for c in configs {
        check(&design(&c), &c.to_string());
    }
}

fn verilator(design: &Design, args: &[&str], what: &str) {
    let dir = write(design);
    let vlt = format!("{}.vlt", design.top);
    let v = format!("{}.v", design.top);
    let top_args = [
        "--top-module",
        design.top.as_str(),
        vlt.as_str(),
        v.as_str(),
    ];
    let run = tools::run("verilator", args.iter().chain(&top_args), dir.path())
        .expect("verilator (apt-get install -y verilator)");
    assert!(run.clean(), "{} ({what}): {}", design.top, run.output);
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
    let run = tools::yosys(script, None, dir.path()).expect("yosys (apt-get install -y yosys)");
    assert!(run.success, "{} ({what}): {}", design.top, run.output);
}

/// Yosys `synth -flatten` with no latch in the result; `pre` runs first on
/// the same file (for example checks before memories are mapped).
pub fn synthesize_without_latches(design: &Design, pre: &str, what: &str) {
    let script = format!(
        "{pre} read_verilog {top}.v; hierarchy -top {top}; proc; {purge} synth -flatten -top {top}; select -assert-none t:*dlatch* t:*DLATCH*; stat",
        top = design.top,
        purge = tools::YOSYS_FLATTEN_PURGE
    );
    yosys(design, &script, what);
}

/// [`synthesize_without_latches`] with nothing before.
pub fn synthesize(design: &Design, what: &str) {
    synthesize_without_latches(design, "", what);
}

/// [`synthesize_without_latches`], and before `synth` maps small memories
/// to flip-flops, exactly `memories` recognised as memories (`$mem_v2`).
pub fn synthesize_inferring_memories(design: &Design, memories: usize, what: &str) {
    let pre = format!(
        "read_verilog {top}.v; hierarchy -top {top}; proc; flatten; opt; memory -nomap; \
         select -assert-count {memories} t:$mem_v2; design -reset;",
        top = design.top
    );
    synthesize_without_latches(design, &pre, what);
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
