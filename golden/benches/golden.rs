//! Golden-model throughput on the reference layer of the golden-model issue:
//! 64 -> 64 channels, 56x56, 3x3, padding 1, default 16x16 array, a realistic
//! mix of sensitive and insensitive regions. Prints multiply-accumulates per
//! second; run with `make bench-golden` (release build).

use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Weights};
use drq_golden::{run_layer, Layer, LayerData};
use std::time::Instant;

fn main() {
    let cfg = AccelConfig::default();
    let layer = Layer::from_raw(&RawLayer {
        c_in: 64,
        c_out: 64,
        h: 56,
        w: 56,
        kernel: 3,
        stride: 1,
        padding: 1,
        threshold: 24,
        low_shift: 4,
        w_low_shift: 4,
        requant_mult: 1,
        requant_shift: 12,
        tile_h: 4,
        tile_w: 4,
        next_threshold: Some(24),
    })
    .expect("reference layer");
    let mut rng = Rng::new(1);
    // Post-ReLU-like data: half zeros, the rest skewed small.
    let input = FeatureMap::from_fn(64, 56, 56, |_, _, _| {
        if rng.chance(0.5) {
            0
        } else {
            (rng.range(0, 255) * rng.range(0, 255) / 255) as u32
        }
    });
    let weights = Weights::from_fn(64, 64, 3, |_, _, _, _| rng.range(-128, 127) as i32);
    let data = LayerData {
        input,
        weights,
        bias: vec![0; 64],
        mask: None,
    };
    let runs = 5;
    let mut best = f64::MAX;
    let mut run = None;
    for _ in 0..runs {
        let t = Instant::now();
        run = Some(run_layer(&cfg, &layer, &data).expect("run"));
        best = best.min(t.elapsed().as_secs_f64());
    }
    let run = run.unwrap();
    let macs = layer.macs() as f64;
    println!(
        "golden model, {} layer 64x56x56 -> 64, 3x3 pad 1 ({:.1} M MACs)",
        cfg,
        macs / 1e6
    );
    println!(
        "  sensitive regions {:.1}%, steps HIGH {} LOW {}",
        100.0 * run.mask_in.sensitive_fraction(),
        run.counters.steps_high,
        run.counters.steps_low
    );
    println!(
        "  best of {runs}: {:.3} s per layer, {:.0} M MAC/s",
        best,
        macs / best / 1e6
    );
}
