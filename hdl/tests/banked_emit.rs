//! The stored-once layouts' blocks alone (tops `drq_bank_steps`,
//! `drq_layout_table`, `drq_banked_ram`, `drq_cyclic_rotation`,
//! `drq_cyclic_steps`; docs/banked.md): clean under `verilator --lint-only
//! -Wall` with only the emitted waiver file, and synthesizable by Yosys
//! without latches, at the default 16 rows and at 3 (or 5) and 1.

use crate::common;
use drq_hdl::bank_steps::bank_steps_design;
use drq_hdl::layout_table::layout_table_design;

#[test]
fn bank_steps_lints_and_synthesizes() {
    for (rows, bits) in [(16, 11), (3, 9), (1, 6)] {
        let d = bank_steps_design(rows, bits);
        let what = format!("{rows} rows, {bits} address bits");
        common::lint(&d, &what);
        common::synthesize(&d, &what);
    }
}

#[test]
fn layout_table_lints_and_synthesizes() {
    for (depth, part, index) in [(128, 11, Some(6)), (20, 9, Some(3)), (64, 15, None)] {
        let d = layout_table_design(depth, part, index);
        let what = format!("{depth} entries, bank numbers {index:?}");
        common::lint(&d, &what);
        common::synthesize(&d, &what);
    }
}

#[test]
fn banked_ram_lints_and_synthesizes() {
    for (banks, depth) in [(16, 32), (5, 12), (1, 4)] {
        let d = drq_hdl::banked_ram::banked_ram_design(banks, depth, 8);
        let what = format!("{banks} banks of {depth}");
        common::lint(&d, &what);
        common::synthesize(&d, &what);
    }
}

#[test]
fn cyclic_rotation_lints_and_synthesizes() {
    for (banks, rows) in [(16, 16), (16, 15), (4, 3), (1, 1)] {
        let d = drq_hdl::cyclic_rotation::cyclic_rotation_design(banks, rows, 8);
        let what = format!("{banks} banks, {rows} rows");
        common::lint(&d, &what);
        common::synthesize(&d, &what);
    }
}

/// Synthesis keeps the rotation's stages whole (each a LUT4 a bit; ABC9
/// merges them into wider multiplexers when flattened): the full stages
/// and the rows' last stage are the kept modules.
#[test]
fn cyclic_rotation_stages_are_kept_modules() {
    let d = drq_hdl::cyclic_rotation::cyclic_rotation_design(16, 15, 8);
    let kept = d.kept_modules();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().all(|m| m.contains("_shift_stages")), "{kept:?}");
    let stages = d.verilog.matches("_shift_stages").count();
    assert!(stages >= 4, "four stages instantiated: {stages}");
}

#[test]
fn cyclic_steps_lints_and_synthesizes() {
    for (rows, banks, bits) in [(16, 16, 11), (3, 4, 9), (1, 1, 6)] {
        let d = drq_hdl::cyclic_steps::cyclic_steps_design(rows, banks, bits);
        let what = format!("{rows} rows on {banks} banks, {bits} address bits");
        common::lint(&d, &what);
        common::synthesize(&d, &what);
    }
}

#[test]
fn digit_sum_lints_and_synthesizes() {
    let d = drq_hdl::digit_sum::digit_sum_design(7, 14);
    common::lint(&d, "7-bit digits, 14-bit part");
    common::synthesize(&d, "7-bit digits, 14-bit part");
}
