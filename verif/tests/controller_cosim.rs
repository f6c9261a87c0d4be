//! The emitted region controller (`drq_controller`) in Verilator against
//! the golden model: the whole token stream (every field of every token, in
//! order, with its tile fields and docs/spec.md §6 waveform signals) against
//! `Replay`, every read address against `Lowering::input_of` through the
//! buffer layouts, and every counter against the golden `Counters` and the
//! documented cycle formula (`docs/controller.md`). Random layers (kernel 1,
//! 3, 5; stride 1, 2; padding 0..K-1; sizes that are not multiples of R,
//! ROWS or COLS; several tile shapes) with random backpressure, on four
//! configurations (4x4 R2; 3x5 R4 with six-token HIGH steps; 8x2 R4; the
//! INT8 baseline); the default 16 x 16 with full-width tiles; directed
//! all-HIGH, all-LOW, checkerboard and one-step-tile layers; a restart in
//! the middle of a layer; the waveform names in a VCD dump; banked input
//! activations (docs/banked.md) on the 4x4 and 8x2 arrays.

use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::replay::Replay;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::tensor::Mask;
use drq_golden::testdata::{self, random_layer_data, random_mask, random_shape};
use drq_golden::{Layer, LayerData};
use drq_hdl::controller::layer_cycles;
use drq_verif::controller_tb::{
    expected_reads_in, expected_waves, Buffers, ControllerBench, LayerOutcome, Layout, Traffic,
};
use drq_verif::sim::SimOptions;
use drq_verif::waves::SPEC_SIGNALS;

/// 4 x 4 array, R = 2, INT8/INT4 tokens (4 per HIGH step).
fn cfg_a() -> AccelConfig {
    AccelConfig::small()
}

/// 3 x 5 array, R = 4, A 6/3 and W 6/2 (6 tokens per HIGH step, a signed
/// top weight digit and two unsigned ones), row pitch 16 for W <= 12.
fn cfg_b() -> AccelConfig {
    AccelConfig {
        max_width: 12,
        ..AccelConfig::replicated().six_tokens_3x5()
    }
}

/// 8 x 2 array, R = 4, default widths.
fn cfg_c() -> AccelConfig {
    AccelConfig {
        rows: 8,
        cols: 2,
        region: 4,
        max_width: 16,
        ..AccelConfig::replicated()
    }
}

/// The INT8 baseline (one full-precision token per step, mask ignored) on a
/// 2 x 3 array, with buffers so narrow (W <= 3, row pitch 4 < R = 8) that the
/// mask row pitch is 1.
fn cfg_int8() -> AccelConfig {
    AccelConfig {
        rows: 2,
        cols: 3,
        region: 8,
        max_width: 3,
        pe: PeKind::Int8,
        ..AccelConfig::replicated()
    }
}

fn bench(cfg: &AccelConfig, test: &str) -> ControllerBench {
    ControllerBench::new(
        cfg,
        &SimOptions::from_env(
            "controller_cosim",
            &format!("{test}_{}x{}", cfg.rows, cfg.cols),
        ),
    )
    .unwrap()
}

/// A checked layer no wider than the controller's line buffer.
fn layer(cfg: &AccelConfig, raw: &RawLayer) -> Layer {
    let l = testdata::layer(cfg, raw);
    assert!(l.w <= cfg.max_width, "W {} > max_width", l.w);
    l
}

/// Random data with edge values often (the controller never sees the bias).
fn data(rng: &mut Rng, cfg: &AccelConfig, l: &Layer, mask: Option<Mask>) -> LayerData {
    random_layer_data(rng, cfg, l, 0, mask)
}

/// Run `l` and check everything against the golden model. Returns the outcome.
fn check(
    b: &mut ControllerBench,
    l: &Layer,
    d: &LayerData,
    traffic: Traffic,
    rng: &mut Rng,
    what: &str,
) -> LayerOutcome {
    let cfg = b.cfg;
    let replay = Replay::new(&cfg, l, d).unwrap();
    let lay = match (b.banked, b.cyclic) {
        (Some(_), true) => Layout::cyclic(&cfg, l),
        (Some(_), false) => Layout::banked(&cfg, l),
        (None, _) => Layout::new(&cfg, l),
    };
    let buffers = Buffers::in_layout(&lay, l, d, &replay.run.mask_in);
    let out = b.run_layer(l, &buffers, traffic, rng, None);
    let ctx = format!("{what}: {cfg}: {l:?} {traffic:?}");

    // Reads: one event per step, in spec order.
    let want_reads = expected_reads_in(&lay, l);
    assert_eq!(out.reads.len(), want_reads.len(), "{ctx}: read cycles");
    for (i, (got, want)) in out.reads.iter().zip(&want_reads).enumerate() {
        assert_eq!(got, want, "{ctx}: reads of step {i} (tile-major)");
    }

    // Tokens: every field, in order, with the tile fields and the waves.
    let waves = expected_waves(&replay);
    let mut n = 0usize;
    for (t, tile) in replay.tiles().enumerate() {
        let mut step_of_token = Vec::new();
        for s in &tile.steps {
            let k = if s.high {
                cfg.tokens_per_high_step() as usize
            } else {
                1
            };
            step_of_token.resize(step_of_token.len() + k, s.k);
        }
        for (i, want) in tile.tokens.iter().enumerate() {
            let got = out
                .tokens
                .get(n)
                .unwrap_or_else(|| panic!("{ctx}: only {} tokens", out.tokens.len()));
            let at = format!(
                "{ctx}: tile {t} (channel tile {}, pixel tile {:?}), step k={}, token {i}",
                tile.channel_tile, tile.pixel_tile, step_of_token[i]
            );
            assert_eq!(&got.slice, want, "{at}");
            assert_eq!(
                (got.tile_channel, got.tile_oh0, got.tile_ow0),
                (
                    u64::from(tile.channel_tile),
                    u64::from(tile.pixel_tile.oh0),
                    u64::from(tile.pixel_tile.ow0)
                ),
                "{at}: tile fields"
            );
            assert_eq!(got.low_shift, u64::from(replay.low_shift()), "{at}");
            assert_eq!(got.wave, waves[n], "{at}: waveform signals");
            n += 1;
        }
    }
    assert_eq!(out.tokens.len(), n, "{ctx}: token count");

    // Counters.
    let golden = replay.run.counters;
    let c = out.counters;
    assert_eq!(
        (c.steps_high, c.steps_low, c.token_cycles, c.tiles),
        (
            golden.steps_high,
            golden.steps_low,
            golden.token_cycles,
            golden.tiles
        ),
        "{ctx}: counters"
    );
    assert_eq!(
        out.busy_cycles,
        layer_cycles(&cfg, golden.token_cycles) + out.held,
        "{ctx}: cycle formula with {} held cycles",
        out.held
    );
    assert_eq!(
        out.stall_cycles,
        out.busy_cycles - c.token_cycles,
        "{ctx}: every busy cycle either takes a counted token or stalls"
    );
    // First token: SETUP's ROWS + 1 cycles, then one cycle each to fill
    // S1 (addresses), S2 (reads) and S3 (data registered).
    assert_eq!(
        out.first_token,
        Some(u64::from(cfg.rows) + 4),
        "{ctx}: fill"
    );
    out
}

/// A random layer for `cfg`: sizes not multiples of R, ROWS or COLS (as
/// often as not), every kernel, stride and padding, a random tile shape.
fn random_layer(rng: &mut Rng, cfg: &AccelConfig) -> Layer {
    let shape = random_shape(rng, cfg, 14);
    layer(
        cfg,
        &shape
            .conv(rng.range(1, 4), rng.range(1, 2 * i64::from(cfg.cols) + 1))
            .with_shifts(
                rng.range(0, cfg.max_low_shift().into()),
                rng.range(0, cfg.max_w_low_shift().into()),
            ),
    )
}

fn random_layers(cfg: &AccelConfig, test: &str, layers: usize) {
    random_layers_of(bench(cfg, test), test, layers);
}

fn random_layers_of(mut b: ControllerBench, test: &str, layers: usize) {
    let cfg = &b.cfg.clone();
    let seed = test_seed(test);
    let mut rng = Rng::new(seed);
    let (mut high, mut low, mut held, mut tokens) = (0, 0, 0, 0);
    for i in 0..layers {
        let l = random_layer(&mut rng, cfg);
        let p = rng.pick(&[0.15, 0.4, 0.7]);
        let mask = random_mask(&mut rng, cfg, &l, p);
        let d = data(&mut rng, cfg, &l, Some(mask));
        let traffic = Traffic {
            backpressure: if i % 2 == 0 { 0.0 } else { 0.3 },
        };
        let out = check(&mut b, &l, &d, traffic, &mut rng, &format!("layer {i}"));
        high += out.counters.steps_high;
        low += out.counters.steps_low;
        held += out.held;
        tokens += out.counters.token_cycles;
    }
    eprintln!("{test}: {layers} layers, {high} HIGH and {low} LOW steps, {tokens} tokens, {held} held cycles");
    assert!(high > 0 && held > 0, "HIGH {high} held {held}");
    if cfg.pe == PeKind::Drq {
        assert!(low > 0, "no LOW step");
    }
}

#[test]
fn random_layers_4x4_region_2() {
    random_layers(&cfg_a(), "random_layers_4x4_region_2", 30);
}

#[test]
fn random_layers_3x5_region_4_six_token_steps() {
    random_layers(&cfg_b(), "random_layers_3x5_region_4_six_token_steps", 30);
}

#[test]
fn random_layers_8x2_region_4() {
    random_layers(&cfg_c(), "random_layers_8x2_region_4", 30);
}

/// Banked input activations (docs/banked.md): the controller's bank
/// reads (per bank address, per row bank and mask read) serve every
/// token, read and counter of random layers exactly as the replicated
/// buffers do, on the 4 x 4 R2 and 8 x 2 R4 arrays.
#[test]
fn random_layers_banked_activations() {
    for (cfg, name) in [(cfg_a(), "4x4"), (cfg_c(), "8x2")] {
        let test = format!("random_layers_banked_activations_{name}");
        let opts = SimOptions::from_env("controller_cosim", &test);
        let b = ControllerBench::with_banks(&cfg, Some(12), &opts).unwrap();
        random_layers_of(b, &test, 20);
    }
}

/// The cyclic layout's reads (docs/banked.md "The cyclic layout";
/// `CyclicSteps` in the loop nest, row r's bank (d + r) mod ROWS): every
/// token, read and counter of random layers as the golden model's, each
/// row's read at the bank and word `CyclicMap::place` put its input, on
/// the 4 x 4 R2 and 8 x 2 R4 arrays.
#[test]
fn random_layers_cyclic_activations() {
    for (cfg, name) in [(cfg_a(), "4x4"), (cfg_c(), "8x2")] {
        let test = format!("random_layers_cyclic_activations_{name}");
        let opts = SimOptions::from_env("controller_cosim", &test);
        let b = ControllerBench::with_layout(&cfg, Some(12), true, &opts).unwrap();
        random_layers_of(b, &test, 20);
    }
}

#[test]
fn random_layers_int8_baseline_mask_pitch_1() {
    random_layers(&cfg_int8(), "random_layers_int8_baseline_mask_pitch_1", 20);
}

#[test]
fn directed_all_high_all_low_checkerboard() {
    let seed = test_seed("directed_all_high_all_low_checkerboard");
    let mut rng = Rng::new(seed);
    let cfg = cfg_a();
    let mut b = bench(&cfg, "directed");
    // No padding, so every step reads a sensitive input: all HIGH. The mask
    // comes from the golden predictor with T = 0 (everything sensitive).
    let l = layer(&cfg, &RawLayer::conv(2, 5, (7, 9), 3, 1, 0, (2, 2)));
    let d = data(&mut rng, &cfg, &l, None);
    let out = check(
        &mut b,
        &l,
        &d,
        Traffic { backpressure: 0.25 },
        &mut rng,
        "all HIGH (T = 0)",
    );
    assert_eq!(out.counters.steps_low, 0);
    assert_eq!(
        out.counters.token_cycles,
        out.counters.steps_high * u64::from(cfg.tokens_per_high_step())
    );

    // All-zero mask: every step LOW, one token each, back to back.
    let l = layer(
        &cfg,
        &RawLayer::conv(3, 4, (9, 7), 5, 2, 2, (1, 3)).with_shifts(2, 1),
    );
    let (rh, rw) = l.mask_in_dims(cfg.region);
    let zero = Mask::filled(3, rh as usize, rw as usize, false);
    let d = data(&mut rng, &cfg, &l, Some(zero));
    let out = check(&mut b, &l, &d, Traffic::default(), &mut rng, "all LOW");
    assert_eq!(out.counters.steps_high, 0);
    assert_eq!(out.counters.token_cycles, out.counters.steps_low);
    assert_eq!(out.held, 0);
    // Only the fill stalls: SETUP's ROWS + 1 cycles and S1, S2, S3.
    assert_eq!(out.stall_cycles, u64::from(cfg.rows) + 4);

    // Checkerboard of sensitive regions, shifted by the channel.
    let l = layer(
        &cfg,
        &RawLayer::conv(2, 3, (10, 11), 3, 1, 1, (4, 1)).with_shifts(3, 2),
    );
    let (rh, rw) = l.mask_in_dims(cfg.region);
    let mut cb = Mask::filled(2, rh as usize, rw as usize, false);
    for c in 0..2 {
        for y in 0..rh as usize {
            for x in 0..rw as usize {
                cb.set(c, y, x, (c + y + x) % 2 == 0);
            }
        }
    }
    let d = data(&mut rng, &cfg, &l, Some(cb));
    let out = check(
        &mut b,
        &l,
        &d,
        Traffic { backpressure: 0.5 },
        &mut rng,
        "checkerboard",
    );
    assert!(out.counters.steps_high > 0 && out.counters.steps_low > 0);

    // One-step tiles (K = 1, C_in = 1): a new tile every token, the loop
    // nest wraps every cycle.
    let l = layer(
        &cfg,
        &RawLayer::conv(1, 9, (5, 6), 1, 2, 0, (1, 2)).with_shifts(1, 1),
    );
    let mask = random_mask(&mut rng, &cfg, &l, 0.5);
    let d = data(&mut rng, &cfg, &l, Some(mask));
    let out = check(
        &mut b,
        &l,
        &d,
        Traffic::default(),
        &mut rng,
        "one-step tiles",
    );
    assert_eq!(
        out.counters.tiles,
        out.counters.steps_high + out.counters.steps_low
    );
}

#[test]
fn waveform_signals_are_in_the_dump() {
    let seed = test_seed("waveform_signals_are_in_the_dump");
    let mut rng = Rng::new(seed);
    let cfg = cfg_a();
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("controller.vcd");
    let mut b = ControllerBench::new(
        &cfg,
        &SimOptions {
            vcd: Some(vcd.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let l = layer(&cfg, &RawLayer::conv(1, 2, (4, 5), 3, 1, 1, (2, 2)));
    let mask = random_mask(&mut rng, &cfg, &l, 0.5);
    let d = data(&mut rng, &cfg, &l, Some(mask));
    check(&mut b, &l, &d, Traffic::default(), &mut rng, "waves");
    b.model.flush_waves();
    let text = std::fs::read_to_string(&vcd).unwrap();
    // The names are signals of the controller core itself, not only ports.
    let core = text
        .find("$scope module core $end")
        .expect("the dump has the core's scope");
    for name in SPEC_SIGNALS {
        assert!(
            text[core..].contains(&format!(" {name} ")),
            "the core's scope has {name}"
        );
    }
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 50);
}

#[test]
fn restart_in_the_middle_of_a_layer() {
    let seed = test_seed("restart_in_the_middle_of_a_layer");
    let mut rng = Rng::new(seed);
    let cfg = cfg_b();
    let mut b = bench(&cfg, "restart");
    let first = layer(
        &cfg,
        &RawLayer::conv(2, 7, (9, 10), 3, 2, 1, (1, 3)).with_shifts(1, 2),
    );
    let mask = random_mask(&mut rng, &cfg, &first, 0.5);
    let d1 = data(&mut rng, &cfg, &first, Some(mask));
    let replay = Replay::new(&cfg, &first, &d1).unwrap();
    let buffers = Buffers::of(&cfg, &first, &d1, &replay.run.mask_in);
    let stop = rng.range(5, 60) as u64;
    let partial = b.run_layer(
        &first,
        &buffers,
        Traffic { backpressure: 0.3 },
        &mut rng,
        Some(stop),
    );
    assert_eq!(partial.busy_cycles, stop);
    // A new start aborts it; the second layer runs from a clean state.
    let second = layer(
        &cfg,
        &RawLayer::conv(1, 3, (6, 5), 5, 1, 3, (3, 1)).with_shifts(0, 0),
    );
    let mask = random_mask(&mut rng, &cfg, &second, 0.5);
    let d2 = data(&mut rng, &cfg, &second, Some(mask));
    check(
        &mut b,
        &second,
        &d2,
        Traffic { backpressure: 0.2 },
        &mut rng,
        "after restart",
    );
    // And the same layer again after `done` (counters restart at zero).
    check(
        &mut b,
        &first,
        &d1,
        Traffic::default(),
        &mut rng,
        "first layer, after done",
    );
}

/// The default 16 x 16 array (R = 4, `max_width` 64): full-width tiles of
/// every shape, a map as wide as the buffers allow.
#[test]
fn default_configuration_16x16() {
    let seed = test_seed("default_configuration_16x16");
    let mut rng = Rng::new(seed);
    let cfg = AccelConfig::default();
    let mut b = bench(&cfg, "default");
    for (tile, hw, k, s, p) in [
        ((4, 4), (13, 21), 3, 1, 1),
        ((16, 1), (19, 7), 5, 2, 2),
        ((1, 16), (6, 64), 3, 2, 0),
        ((5, 3), (11, 30), 1, 1, 0),
    ] {
        let l = layer(
            &cfg,
            &RawLayer::conv(rng.range(1, 3), rng.range(1, 40), hw, k, s, p, tile),
        );
        let mask = random_mask(&mut rng, &cfg, &l, 0.4);
        let d = data(&mut rng, &cfg, &l, Some(mask));
        check(
            &mut b,
            &l,
            &d,
            Traffic { backpressure: 0.2 },
            &mut rng,
            &format!("default, tile {tile:?}"),
        );
    }
}
