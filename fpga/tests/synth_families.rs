//! The emitted Verilog of a small configuration synthesizes with Yosys for
//! each FPGA family the flow supports (ECP5, iCE40, Xilinx 7-series): no
//! latches, no warnings (multiplier inference included), and sane cell
//! counts. The array alone and the whole accelerator `drq_top` for every
//! family (one Yosys front end, then each family's script). Place and
//! route stays in `make synth` / `make synth-compare` (too slow for CI).

use drq_arch::AccelConfig;
use drq_fpga::synth::{synthesize, synthesize_families, yosys_warnings, Family};
use drq_hdl::array::array_design;
use drq_hdl::pe::pe_design;
use drq_hdl::top::top_design;

fn small() -> AccelConfig {
    AccelConfig {
        rows: 2,
        cols: 2,
        ..AccelConfig::replicated()
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
    // The PE is synthesized as a module of its own (and, with row taps,
    // the read-out multiplexers with their row selects) and the counts are the hierarchy's
    // total: each of the four PE instances counted, none of its
    // flip-flops lost at the array's edges.
    let kept = design.kept_modules();
    assert_eq!(
        kept.len(),
        if small().row_taps { 2 } else { 1 },
        "{}: {kept:?}",
        design.top
    );
    assert!(kept[0].ends_with("_mesh_pes"), "{kept:?}");
    let pe_dir = tempfile::tempdir().unwrap();
    let pe = synthesize(&pe_design(&small()), family, true, pe_dir.path())
        .unwrap_or_else(|e| panic!("{} PE: {e}", family.name()));
    assert!(
        stats.flip_flops >= 4 * pe.flip_flops && stats.lut_equivalents >= 4 * pe.lut_equivalents,
        "{}: array {stats:?}, PE {pe:?}",
        family.name()
    );
}

/// The small accelerator of the top check: a 2x2 array, small buffers.
fn small_top() -> AccelConfig {
    AccelConfig {
        rows: 2,
        cols: 2,
        act_words: 256,
        acc_words: 256,
        weight_words: 64,
        mask_words: 64,
        bias_words: 16,
        max_width: 8,
        ..AccelConfig::replicated()
    }
}

#[test]
fn top_synthesizes_for_every_family() {
    let t = std::time::Instant::now();
    let design = top_design(&small_top());
    let dir = tempfile::tempdir().unwrap();
    // With its words cut to their fields the 2x2 top takes about a minute
    // per family here.
    let families = [Family::Ecp5, Family::Ice40, Family::Xilinx7];
    // Fails on any latch (after proc, and in each family's cells).
    let results = synthesize_families(&design, &families, true, dir.path())
        .unwrap_or_else(|e| panic!("drq_top front end: {e}"));
    let mut logs = vec![format!("{}.frontend.log", design.top)];
    logs.extend(
        families
            .iter()
            .map(|f| format!("{}.{}.log", design.top, f.name())),
    );
    for log in &logs {
        let text = std::fs::read_to_string(dir.path().join(log)).unwrap();
        let warnings = yosys_warnings(&text);
        assert!(
            warnings.is_empty(),
            "{log}: Yosys warnings:\n{}",
            warnings.join("\n")
        );
    }
    for (family, stats) in results {
        let stats = stats.unwrap_or_else(|e| panic!("drq_top {}: {e}", family.name()));
        eprintln!(
            "drq_top 2x2 {}: {} LUT-eq, {} FFs, {} DSPs, {} BRAMs",
            family.name(),
            stats.lut_equivalents,
            stats.flip_flops,
            stats.dsps,
            stats.bram18_equivalents
        );
        assert!(stats.lut_equivalents > 1000, "{}: {stats:?}", family.name());
        assert!(stats.flip_flops > 1000, "{}: {stats:?}", family.name());
        // The buffers are block RAM in every family.
        assert!(stats.brams > 0, "{}: {stats:?}", family.name());
    }
    eprintln!(
        "drq_top 2x2, three families: {:.0} s",
        t.elapsed().as_secs_f64()
    );
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
    use drq_hdl::shell::{Design, Dir, Port};
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
