//! The memory budget (docs/reliability.md): before anything large is
//! allocated, a command computes from the validated shapes what its run
//! will hold at most, and refuses with one line (the file, the size, the
//! limit) when that is over the limit. `.npy` inputs are read no further
//! than their header says ([`crate::npy::NpyArray::load_checked`]).
//!
//! The limit is one per process: [`DEFAULT_LIMIT`] (2 GiB), or what
//! `drq --max-memory` sets with [`set_limit`].

use crate::layer::Layer;
use drq_arch::AccelConfig;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default limit: 2 GiB.
pub const DEFAULT_LIMIT: u64 = 2 << 30;

static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_LIMIT);

/// The limit in force, in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Set the limit (bytes) for the rest of the process.
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// A run over the budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {what} would need {} of memory, over the limit of {} (raise it with --max-memory)", format_size(*.need), format_size(*.limit as u128))]
pub struct BudgetError {
    /// The file whose shapes ask for the memory.
    pub path: String,
    /// What needs it, in words ("this layer's run (65535 x 2048 x 2048 outputs)").
    pub what: String,
    pub need: u128,
    pub limit: u64,
}

/// Refuse `need` bytes over the limit, naming `path` and `what`.
pub fn check(path: &Path, what: impl Into<String>, need: u128) -> Result<(), BudgetError> {
    let limit = limit();
    if need > u128::from(limit) {
        return Err(BudgetError {
            path: path.display().to_string(),
            what: what.into(),
            need,
            limit,
        });
    }
    Ok(())
}

/// A size for people: bytes, KiB, MiB, GiB or TiB with one decimal.
pub fn format_size(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Parse a size: a number of bytes with an optional unit K, M, G, T (powers
/// of 1024; `KiB`, `KB`, `k` and the like mean the same), e.g. `4G`,
/// `512M`, `1.5GiB`, `100000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 4G, 512M, 1000000)"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches('b').trim_end_matches('i');
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0f64.powi(4),
        _ => return Err(format!("{text:?}: unknown unit (K, M, G or T)")),
    };
    let bytes = value * mult;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("{text:?}: out of range"));
    }
    Ok(bytes as u64)
}

fn u(v: u32) -> u128 {
    u128::from(v)
}

/// The element counts of a layer's tensors.
struct Counts {
    input: u128,
    weights: u128,
    out: u128,
    mask_in: u128,
    mask_out: u128,
    taps: u128,
    tiles: u128,
    a_bytes: u128,
    w_bytes: u128,
}

fn counts(cfg: &AccelConfig, l: &Layer) -> Counts {
    let (rh, rw) = l.mask_in_dims(cfg.region);
    let (oh, ow) = l.mask_out_dims(cfg.region);
    Counts {
        input: u(l.c_in) * u(l.h) * u(l.w),
        weights: u(l.c_out) * u(l.c_in) * u(l.kernel) * u(l.kernel),
        out: u(l.c_out) * u(l.ho()) * u(l.wo()),
        mask_in: u(l.c_in) * u(rh) * u(rw),
        mask_out: if l.next_threshold.is_some() {
            u(l.c_out) * u(oh) * u(ow)
        } else {
            0
        },
        taps: u(l.reduction_len()),
        tiles: u(l.ho().div_ceil(l.tile_h)) * u(l.wo().div_ceil(l.tile_w)),
        a_bytes: u(cfg.activation_bytes() as u32),
        w_bytes: u(cfg.weight_bytes() as u32),
    }
}

/// What one layer's run holds at most, in bytes, counted generously (every
/// buffer as if alive at once): its inputs as read (file bytes, the 64-bit
/// values of the reader, the tensors), the run (sensitivities, effective
/// activations and weights, accumulators, outputs, masks, tiles) and the
/// output files in memory.
pub fn layer_bytes(cfg: &AccelConfig, l: &Layer) -> u128 {
    let n = counts(cfg, l);
    let inputs = n.input * (n.a_bytes + 8 + 4)
        + n.weights * (n.w_bytes + 8 + 4)
        + u(l.c_out) * 16
        + n.mask_in * 10;
    let run = n.mask_in * 9
        + n.input * 5
        + n.weights * 8
        + n.out * 12
        + n.mask_out * 9
        + n.taps * 12
        + n.tiles * 32;
    let files = n.out * (8 + n.a_bytes + 16) + n.mask_in * 9 + n.mask_out * 9;
    inputs + run + files
}

/// What a network run holds at most: every layer's kept results and output
/// files (all are written at the end), every layer's weights, and the
/// largest single layer's working set on top.
pub fn network_bytes(cfg: &AccelConfig, layers: &[Layer]) -> u128 {
    let kept: u128 = layers
        .iter()
        .map(|l| {
            let n = counts(cfg, l);
            n.out * (12 + 8 + n.a_bytes + 8) + (n.mask_in + n.mask_out) * 3 + n.weights * 12
        })
        .sum();
    let peak = layers
        .iter()
        .map(|l| layer_bytes(cfg, l))
        .max()
        .unwrap_or(0);
    kept + peak
}

/// "c_out 65535 x 2048 x 2048 outputs" for a message.
pub fn describe(l: &Layer) -> String {
    format!(
        "{} x {} x {} inputs, {} x {} x {} outputs",
        l.c_in,
        l.h,
        l.w,
        l.c_out,
        l.ho(),
        l.wo()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::RawLayer;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("lots").is_err() && parse_size("4X").is_err());
        assert_eq!(format_size(2 << 30), "2.0 GiB");
        assert_eq!(format_size(10), "10 bytes");
    }

    #[test]
    fn the_amplifying_layer_is_over_and_a_normal_one_under() {
        let cfg = AccelConfig::default();
        let big =
            Layer::from_raw(&RawLayer::conv(1, 65535, (2048, 2048), 1, 1, 0, (4, 4))).unwrap();
        let need = layer_bytes(&cfg, &big);
        assert!(need > 2_000_000_000_000, "{need}");
        let e = check(Path::new("l.json"), "this layer", need)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("l.json: ") && e.contains("TiB") && e.contains("2.0 GiB"),
            "{e}"
        );
        let small = Layer::from_raw(&RawLayer::conv(64, 64, (56, 56), 3, 1, 1, (4, 4))).unwrap();
        assert!(layer_bytes(&cfg, &small) < 64 << 20);
        assert!(network_bytes(&cfg, &[small, small]) < 128 << 20);
    }
}
