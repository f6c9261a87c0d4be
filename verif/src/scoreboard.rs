//! The scoreboard of `drq_top` runs: the hardware's [`HwRun`] against the
//! golden model's [`LayerRun`], every output compared: y, accumulators,
//! input and output mask, all six counters and STATUS. Used by the
//! regression ([`crate::regress`]) and by `verif/tests/top_cosim.rs`.

use crate::driver::HwRun;
use drq_arch::regs::reg;
use drq_golden::schedule::Counters;
use drq_golden::tensor::{FeatureMap, Mask};
use drq_golden::LayerRun;

/// The first difference of two sequences: (index, hardware, golden).
fn first_diff<T: PartialEq + Copy + ToString>(
    hw: &[T],
    gold: &[T],
) -> Option<(usize, String, String)> {
    if hw.len() != gold.len() {
        return Some((
            hw.len().min(gold.len()),
            format!("{} values", hw.len()),
            format!("{} values", gold.len()),
        ));
    }
    hw.iter()
        .zip(gold)
        .position(|(a, b)| a != b)
        .map(|i| (i, hw[i].to_string(), gold[i].to_string()))
}

/// " (c 1, y 2, x 3)": where index `i` of a [C, H, W] tensor lies, its
/// axes named `axes` (nothing for an empty plane).
fn position(axes: [&str; 3], h: usize, w: usize, i: usize) -> String {
    if h == 0 || w == 0 {
        return String::new();
    }
    let [c, y, x] = axes;
    format!(" ({c} {}, {y} {}, {x} {})", i / (h * w), i / w % h, i % w)
}

fn fmap_where(f: &FeatureMap, i: usize) -> String {
    position(["c", "y", "x"], f.h, f.w, i)
}

fn mask_where(m: &Mask, i: usize) -> String {
    position(["c", "ry", "rx"], m.rh, m.rw, i)
}

fn mask_diff(name: &str, hw: &Mask, gold: &Mask, out: &mut Vec<String>) {
    if hw.shape() != gold.shape() {
        out.push(format!(
            "{name}: shape {:?} (hardware), {:?} (golden)",
            hw.shape(),
            gold.shape()
        ));
        return;
    }
    let h: Vec<u8> = hw.data.iter().map(|&b| u8::from(b)).collect();
    let g: Vec<u8> = gold.data.iter().map(|&b| u8::from(b)).collect();
    if let Some((i, a, b)) = first_diff(&h, &g) {
        out.push(format!(
            "{name} differs at index {i}{}: hardware {a}, golden {b}",
            mask_where(gold, i)
        ));
    }
}

/// Every difference between the hardware's and the golden model's run, each
/// naming the field and its first differing index and values.
pub fn compare(hw: &HwRun, gold: &LayerRun) -> Vec<String> {
    let mut out = Vec::new();
    if hw.y.shape() != gold.y.shape() {
        out.push(format!(
            "y: shape {:?} (hardware), {:?} (golden)",
            hw.y.shape(),
            gold.y.shape()
        ));
    } else if let Some((i, a, b)) = first_diff(&hw.y.data, &gold.y.data) {
        out.push(format!(
            "y differs at index {i}{}: hardware {a}, golden {b}",
            fmap_where(&gold.y, i)
        ));
    }
    if let Some((i, a, b)) = first_diff(&hw.acc, &gold.acc) {
        out.push(format!(
            "acc differs at index {i}{}: hardware {a}, golden {b}",
            fmap_where(&gold.y, i)
        ));
    }
    mask_diff("mask_in", &hw.mask_in, &gold.mask_in, &mut out);
    match (&hw.mask_out, &gold.mask_out) {
        (Some(h), Some(g)) => mask_diff("mask_out", h, g, &mut out),
        (None, None) => {}
        (h, g) => out.push(format!(
            "mask_out: {} (hardware), {} (golden)",
            if h.is_some() { "present" } else { "absent" },
            if g.is_some() { "present" } else { "absent" }
        )),
    }
    for ((name, a), (_, b)) in counter_fields(&hw.counters)
        .into_iter()
        .zip(counter_fields(&gold.counters))
    {
        if a != b {
            out.push(format!("counter {name}: hardware {a}, golden {b}"));
        }
    }
    let flags = reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT | reg::STATUS_OVERSIZE;
    if hw.status & flags != reg::STATUS_DONE {
        out.push(format!(
            "STATUS {:#x} after the run (expected done, no host_conflict, no oversize)",
            hw.status
        ));
    }
    out
}

/// Every counter by name (destructured: a new counter must be named here).
fn counter_fields(c: &Counters) -> [(&'static str, u64); 6] {
    let Counters {
        steps_high,
        steps_low,
        token_cycles,
        tiles,
        cycles_total,
        stall_cycles,
    } = *c;
    [
        ("steps_high", steps_high),
        ("steps_low", steps_low),
        ("token_cycles", token_cycles),
        ("tiles", tiles),
        ("cycles_total", cycles_total),
        ("stall_cycles", stall_cycles),
    ]
}

/// Panic, naming `what` and every difference, unless the hardware's run
/// equals the golden model's in every output ([`compare`]).
#[track_caller]
pub fn assert_same(hw: &HwRun, gold: &LayerRun, what: &str) {
    let diffs = compare(hw, gold);
    assert!(diffs.is_empty(), "{what}:\n  {}", diffs.join("\n  "));
}
