//! The emitted Verilog of the systolic array, run in Verilator, against the
//! golden model's step-level schedule: every accumulator bit for bit, and
//! the cycle count against the documented formula (`docs/array.md`).

use drq_hdl::array::tile_cycles;
use drq_hdl::AccelConfig;
use drq_verif::array_tb::{ArrayBench, Traffic};
use drq_verif::layer::RawLayer;
use drq_verif::replay::Replay;
use drq_verif::rng::{test_seed, Rng};
use drq_verif::sim::SimOptions;
use drq_verif::tensor::{FeatureMap, Mask, Weights};
use drq_verif::{Layer, LayerData};

fn cfg(rows: u32, cols: u32) -> AccelConfig {
    AccelConfig {
        rows,
        cols,
        ..AccelConfig::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn layer(
    cfg: &AccelConfig,
    c_in: i64,
    c_out: i64,
    hw: (i64, i64),
    k: i64,
    s: i64,
    p: i64,
    tile: (i64, i64),
    shifts: (i64, i64),
) -> Layer {
    let l = Layer::from_raw(&RawLayer {
        c_in,
        c_out,
        h: hw.0,
        w: hw.1,
        kernel: k,
        stride: s,
        padding: p,
        threshold: 0,
        low_shift: shifts.0,
        w_low_shift: shifts.1,
        requant_mult: 1,
        requant_shift: 0,
        tile_h: tile.0,
        tile_w: tile.1,
        next_threshold: None,
    })
    .unwrap();
    l.check(cfg).unwrap();
    l
}

/// Random data with edge values often; a random mask with `p_sensitive`.
fn data(rng: &mut Rng, cfg: &AccelConfig, l: &Layer, p_sensitive: f64) -> LayerData {
    let a_max = i64::from(cfg.a_max());
    let (wmin, wmax) = cfg.w_range();
    let input = FeatureMap::from_fn(
        l.c_in as usize,
        l.h as usize,
        l.w as usize,
        |_, _, _| match rng.range(0, 5) {
            0 => 0,
            1 => a_max as u32,
            _ => rng.range(0, a_max) as u32,
        },
    );
    let weights = Weights::from_fn(
        l.c_out as usize,
        l.c_in as usize,
        l.kernel as usize,
        |_, _, _, _| match rng.range(0, 5) {
            0 => wmin,
            1 => wmax,
            _ => rng.range(wmin.into(), wmax.into()) as i32,
        },
    );
    let bias = (0..l.c_out)
        .map(|_| rng.range(-100_000, 100_000) as i32)
        .collect();
    let (rh, rw) = l.mask_in_dims(cfg.region);
    let mut mask = Mask::filled(l.c_in as usize, rh as usize, rw as usize, false);
    mask.data
        .iter_mut()
        .for_each(|b| *b = rng.chance(p_sensitive));
    LayerData {
        input,
        weights,
        bias,
        mask: Some(mask),
    }
}

/// Replay every tile (or at most `max_tiles`) and check accumulators and cycles.
/// Returns (HIGH steps, LOW steps, tiles with both modes) seen.
fn check_layer(
    bench: &mut ArrayBench,
    l: &Layer,
    d: &LayerData,
    traffic: Traffic,
    rng: &mut Rng,
    max_tiles: usize,
) -> (u64, u64, u64) {
    let cfg = bench.cfg;
    let replay = Replay::new(&cfg, l, d).unwrap();
    let (mut high, mut low, mut mixed) = (0, 0, 0);
    for tile in replay.tiles().take(max_tiles) {
        let out = bench.run_tile(&tile, replay.low_shift(), traffic, rng);
        assert_eq!(
            out.acc, tile.expected,
            "{cfg}: channel tile {} pixel tile {:?}: accumulators differ",
            tile.channel_tile, tile.pixel_tile
        );
        let tokens = tile.tokens.len() as u64;
        assert_eq!(
            out.cycles,
            tile_cycles(&cfg, tokens) + out.bubbles + out.stalls,
            "{cfg}: cycles of a tile of {tokens} tokens with {} bubbles and {} stalls",
            out.bubbles,
            out.stalls
        );
        let h = tile.steps.iter().filter(|s| s.high).count() as u64;
        let n = tile.steps.len() as u64;
        high += h;
        low += n - h;
        mixed += u64::from(h > 0 && h < n);
    }
    (high, low, mixed)
}

#[test]
fn two_by_two_mixed_tiles() {
    let seed = test_seed("two_by_two_mixed_tiles");
    let mut rng = Rng::new(seed);
    let c = cfg(2, 2);
    let mut bench =
        ArrayBench::new(&c, &SimOptions::from_env("array_cosim", "two_by_two")).unwrap();
    let l = layer(&c, 3, 3, (5, 4), 3, 1, 1, (1, 2), (4, 4));
    let d = data(&mut rng, &c, &l, 0.4);
    let (high, low, mixed) =
        check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
    assert!(
        high > 0 && low > 0 && mixed > 0,
        "HIGH {high} LOW {low} mixed {mixed}"
    );
}
