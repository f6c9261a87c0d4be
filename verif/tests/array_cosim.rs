//! The emitted Verilog of the systolic array, run in Verilator, against the
//! golden model's step-level schedule: every accumulator bit for bit, and
//! the cycle count against the documented formula (`docs/array.md`).

use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::replay::Replay;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::testdata::{layer, random_layer_data, random_mask};
use drq_golden::{Layer, LayerData};
use drq_hdl::array::{stream_cycles, tile_cycles};
use drq_verif::array_tb::{ArrayBench, Traffic};
use drq_verif::sim::SimOptions;

fn cfg(rows: u32, cols: u32) -> AccelConfig {
    AccelConfig {
        rows,
        cols,
        ..AccelConfig::replicated()
    }
}

fn array_bench(c: &AccelConfig, name: &str) -> ArrayBench {
    ArrayBench::new(c, &SimOptions::from_env("array_cosim", name)).unwrap()
}

/// Random data with edge values often; a random mask with `p_sensitive`.
fn data(rng: &mut Rng, cfg: &AccelConfig, l: &Layer, p_sensitive: f64) -> LayerData {
    let mask = random_mask(rng, cfg, l, p_sensitive);
    random_layer_data(rng, cfg, l, 100_000, Some(mask))
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
    let mut bench = array_bench(&c, "two_by_two");
    let l = layer(&c, &RawLayer::conv(3, 3, (5, 4), 3, 1, 1, (1, 2)));
    let mut d = data(&mut rng, &c, &l, 0.4);
    // Whatever the seed: channel 0's top region sensitive, channel 1
    // insensitive, so tiles hold both modes (the rest stays random).
    let m = d.mask.as_mut().unwrap();
    m.set(0, 0, 0, true);
    m.set(1, 0, 0, false);
    m.set(1, 1, 0, false);
    let (high, low, mixed) =
        check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
    assert!(
        high > 0 && low > 0 && mixed > 0,
        "HIGH {high} LOW {low} mixed {mixed}"
    );
}

#[test]
fn square_arrays_random_layers_with_bubbles_and_backpressure() {
    let seed = test_seed("square_arrays_random_layers_with_bubbles_and_backpressure");
    let mut rng = Rng::new(seed);
    for (n, tiles) in [(2u32, 40usize), (4, 24), (8, 10), (16, 3)] {
        // Row taps (the default) at 2 and 16, the read-out chain at 4 and 8.
        let c = AccelConfig {
            region: rng.pick(&[1, 2, 4, 8]),
            row_taps: n == 2 || n == 16,
            ..cfg(n, n)
        };
        let mut bench = array_bench(&c, &format!("square_{n}"));
        for round in 0..2 {
            let k = rng.pick(&[1i64, 3, 5]);
            let p = rng.range(0, k - 1);
            let s = rng.pick(&[1i64, 2]);
            let th = rng.range(1, i64::from(n).min(4));
            let tw = rng.range(1, i64::from(n) / th);
            let hw = (
                rng.range((k - 2 * p).max(1) + 1, 9),
                rng.range((k - 2 * p).max(1) + 1, 9),
            );
            let l = layer(
                &c,
                &RawLayer::conv(
                    rng.range(1, 4),
                    rng.range(1, 2 * i64::from(n) + 1),
                    hw,
                    k,
                    s,
                    p,
                    (th, tw),
                )
                .with_shifts(rng.range(0, 4), rng.range(0, 4)),
            );
            let d = data(&mut rng, &c, &l, 0.35);
            let traffic = if round == 0 {
                Traffic::default()
            } else {
                Traffic::both(0.3)
            };
            eprintln!("{c}: {l:?} traffic {traffic:?}");
            check_layer(&mut bench, &l, &d, traffic, &mut rng, tiles);
        }
    }
}

#[test]
fn non_square_arrays() {
    let seed = test_seed("non_square_arrays");
    let mut rng = Rng::new(seed);
    for (rows, cols) in [(3u32, 5u32), (8, 2), (1, 4)] {
        // The read-out chain (row taps: the test below).
        let c = AccelConfig {
            row_taps: false,
            ..cfg(rows, cols)
        };
        let mut bench = array_bench(&c, &format!("array_{rows}x{cols}"));
        let th = rng.range(1, i64::from(rows));
        let l = layer(
            &c,
            &RawLayer::conv(
                2,
                i64::from(cols) + 2,
                (6, 5),
                3,
                1,
                1,
                (th, i64::from(rows) / th),
            ),
        );
        let d = data(&mut rng, &c, &l, 0.5);
        check_layer(&mut bench, &l, &d, Traffic::both(0.2), &mut rng, 20);
    }
}

#[test]
fn all_high_all_low_and_rows_of_mixed_sensitivity_at_the_edges() {
    let seed = test_seed("all_high_all_low_and_rows_of_mixed_sensitivity_at_the_edges");
    let mut rng = Rng::new(seed);
    let c = AccelConfig {
        region: 1,
        ..cfg(4, 4)
    };
    let mut bench = array_bench(&c, "edges");
    let l = layer(&c, &RawLayer::conv(2, 4, (4, 4), 3, 1, 1, (2, 2)));
    for (name, p_sens) in [
        ("all HIGH", 1.0f64),
        ("all LOW", 0.0),
        ("checkerboard", -1.0),
    ] {
        for (a, w) in [(255u32, -128i32), (255, 127), (0, -128), (0, 127)] {
            let mut d = data(&mut rng, &c, &l, p_sens.max(0.0));
            d.input.data.iter_mut().enumerate().for_each(|(i, v)| {
                *v = if i % 3 == 0 {
                    rng.range(0, 255) as u32
                } else {
                    a
                }
            });
            d.weights.data.iter_mut().enumerate().for_each(|(i, v)| {
                *v = if i % 5 == 0 {
                    rng.range(-128, 127) as i32
                } else {
                    w
                }
            });
            if p_sens < 0.0 {
                // Region 1: a checkerboard of sensitive pixels makes every
                // HIGH step hold rows of both kinds.
                let m = d.mask.as_mut().unwrap();
                for ch in 0..m.c {
                    for y in 0..m.rh {
                        for x in 0..m.rw {
                            m.set(ch, y, x, (x + y + ch) % 2 == 0);
                        }
                    }
                }
            }
            let replay = Replay::new(&c, &l, &d).unwrap();
            let counters = replay.run.counters;
            match name {
                "all LOW" => assert_eq!(counters.steps_high, 0),
                "all HIGH" => assert!(counters.steps_low < counters.steps_high / 4, "{counters:?}"),
                _ => {
                    let split = replay
                        .tiles()
                        .flat_map(|t| t.tokens)
                        .filter(|t| t.sens.contains(&true) && t.sens.contains(&false))
                        .count();
                    assert!(split > 0, "HIGH steps with sensitive and insensitive rows");
                }
            }
            check_layer(&mut bench, &l, &d, Traffic::both(0.1), &mut rng, usize::MAX);
        }
    }
}

#[test]
fn accumulator_wraps_at_sixteen_bits() {
    let seed = test_seed("accumulator_wraps_at_sixteen_bits");
    let mut rng = Rng::new(seed);
    let c = AccelConfig {
        acc_bits: 16,
        ..cfg(4, 4)
    };
    let mut bench = array_bench(&c, "acc16");
    let l = layer(&c, &RawLayer::conv(8, 4, (4, 4), 3, 1, 1, (2, 2)));
    let mut d = data(&mut rng, &c, &l, 0.6);
    d.input.data.iter_mut().for_each(|v| *v = 255 - (*v % 7));
    d.weights
        .data
        .iter_mut()
        .for_each(|v| *v = if *v % 2 == 0 { 127 } else { -128 });
    let replay = Replay::new(&c, &l, &d).unwrap();
    assert!(
        replay.run.acc.iter().any(|&a| a.abs() > 1 << 14),
        "values near the wrap"
    );
    check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
}

#[test]
fn other_digit_widths_and_the_int8_baseline() {
    let seed = test_seed("other_digit_widths_and_the_int8_baseline");
    let mut rng = Rng::new(seed);
    for c in [
        AccelConfig {
            a_lo: 2,
            w_lo: 8,
            ..cfg(3, 3)
        }, // activation-only, 4 tokens
        AccelConfig {
            a_hi: 6,
            a_lo: 3,
            w_hi: 6,
            w_lo: 2,
            acc_bits: 24,
            ..cfg(2, 3)
        }, // uneven Horner distances
        AccelConfig {
            pe: PeKind::Int8,
            ..cfg(4, 4)
        },
    ] {
        let mut bench = array_bench(&c, "widths");
        let th = i64::from(c.rows).min(2);
        let l = layer(
            &c,
            &RawLayer::conv(3, 5, (5, 6), 3, 2, 1, (th, i64::from(c.rows) / th)).with_shifts(1, 0),
        );
        let d = data(&mut rng, &c, &l, 0.5);
        check_layer(&mut bench, &l, &d, Traffic::both(0.15), &mut rng, 12);
    }
}

/// Row taps without shadow accumulators: the read-out takes the PEs' own
/// rows, row 0 first after a flush of COLS, and each row restarts from
/// zero as it is read (no chain). Accumulators and cycles of every tile,
/// with bubbles and read-out stalls, tile after tile in one bench (so a
/// row left uncleared would spoil the next tile).
#[test]
fn row_taps_on_the_pes_read_row_0_first_and_clear_each_row_as_it_is_read() {
    let seed = test_seed("row_taps_on_the_pes_read_row_0_first_and_clear_each_row_as_it_is_read");
    let mut rng = Rng::new(seed);
    for (rows, cols, pe) in [
        (4u32, 4u32, PeKind::Drq),
        (3, 5, PeKind::Drq),
        (4, 2, PeKind::Int8),
        // One row: read and cleared in the read-out's only cycle, the next
        // tile's first token right after.
        (1, 3, PeKind::Drq),
    ] {
        let c = AccelConfig {
            row_taps: true,
            region: rng.pick(&[1, 2]),
            pe,
            ..cfg(rows, cols)
        };
        assert_eq!(c.flush_cycles(), cols, "{c}");
        let mut bench = array_bench(&c, &format!("pe_taps_{rows}x{cols}_{}", pe.name()));
        for traffic in [Traffic::default(), Traffic::both(0.3)] {
            let k = rng.pick(&[1i64, 3]);
            let th = rng.range(1, i64::from(rows).min(2));
            let l = layer(
                &c,
                &RawLayer::conv(
                    rng.range(1, 3),
                    rng.range(1, 2 * i64::from(cols) + 1),
                    (rng.range(3, 7), rng.range(3, 7)),
                    k,
                    rng.pick(&[1i64, 2]),
                    k / 2,
                    (th, i64::from(rows) / th),
                )
                .with_shifts(rng.range(0, 4), rng.range(0, 4)),
            );
            let d = data(&mut rng, &c, &l, 0.4);
            eprintln!("{c}: {l:?} traffic {traffic:?}");
            let (high, low, _) = check_layer(&mut bench, &l, &d, traffic, &mut rng, 16);
            assert!(high + low > 0);
        }
    }
}

#[test]
fn reset_mid_tile_leaves_the_array_idle_and_usable() {
    let seed = test_seed("reset_mid_tile_leaves_the_array_idle_and_usable");
    let mut rng = Rng::new(seed);
    let c = cfg(4, 4);
    let mut bench = array_bench(&c, "reset");
    let l = layer(&c, &RawLayer::conv(2, 4, (4, 4), 3, 1, 1, (2, 2)));
    let d = data(&mut rng, &c, &l, 0.5);
    let replay = Replay::new(&c, &l, &d).unwrap();
    let tile = replay.tiles().next().unwrap();
    // Feed half a tile, then reset.
    let m = &mut bench.model;
    for t in &tile.tokens[..tile.tokens.len() / 2] {
        m.set_bool("in_valid", true);
        m.set_bool("in_first", t.first);
        m.set_bool("in_commit", t.commit);
        m.set_lanes(
            "in_digits",
            4,
            &t.digits.iter().map(|&x| i64::from(x)).collect::<Vec<_>>(),
        );
        m.tick(1);
    }
    m.set_bool("in_valid", false);
    m.eval();
    assert!(m.get_bool("busy"));
    m.reset(1);
    assert!(!m.get_bool("busy") && m.get_bool("in_ready") && !m.get_bool("out_valid"));
    check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
}

#[test]
fn waveforms_are_written_when_asked_for() {
    let seed = test_seed("waveforms_are_written_when_asked_for");
    let mut rng = Rng::new(seed);
    let c = cfg(2, 2);
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("array.vcd");
    let mut bench = ArrayBench::new(
        &c,
        &SimOptions {
            vcd: Some(vcd.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let l = layer(&c, &RawLayer::conv(1, 2, (2, 2), 1, 1, 0, (1, 2)));
    let d = data(&mut rng, &c, &l, 0.5);
    check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
    bench.model.flush_waves();
    let text = std::fs::read_to_string(&vcd).unwrap();
    for signal in ["in_valid", "out_acc", "acc_hi", "step_product"] {
        assert!(text.contains(signal), "the dump has {signal}");
    }
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 20,
        "many time steps"
    );
}

/// `c` with shadow accumulators.
fn overlap(c: AccelConfig) -> AccelConfig {
    AccelConfig { overlap: true, ..c }
}

/// `c` with shadow accumulators read out by row taps (row 0 first).
fn taps(c: AccelConfig) -> AccelConfig {
    AccelConfig {
        row_taps: true,
        ..overlap(c)
    }
}

/// `c` with a burst read-out through the row taps.
fn burst(c: AccelConfig) -> AccelConfig {
    AccelConfig {
        burst_readout: true,
        ..taps(c)
    }
}

/// Stream every tile of `l` (or at most `max_tiles`) back to back through
/// an array with shadow accumulators: every tile's accumulators against
/// the golden model; without traffic the cycles against `stream_cycles`.
/// Returns the cycles the tiles' last tokens waited.
fn check_stream(
    bench: &mut ArrayBench,
    l: &Layer,
    d: &LayerData,
    traffic: Traffic,
    rng: &mut Rng,
    max_tiles: usize,
) -> u64 {
    let cfg = bench.cfg;
    let replay = Replay::new(&cfg, l, d).unwrap();
    let tiles: Vec<_> = replay.tiles().take(max_tiles).collect();
    let out = bench.run_stream(&tiles, replay.low_shift(), traffic, rng);
    for (k, tile) in tiles.iter().enumerate() {
        assert_eq!(
            out.acc[k], tile.expected,
            "{cfg}: tile {k} (channel tile {} pixel tile {:?}): accumulators differ",
            tile.channel_tile, tile.pixel_tile
        );
    }
    if traffic.bubble == 0.0 && traffic.stall == 0.0 {
        let tokens: Vec<u64> = tiles.iter().map(|t| t.tokens.len() as u64).collect();
        assert_eq!(
            out.cycles,
            stream_cycles(&cfg, &tokens),
            "{cfg}: {tokens:?}"
        );
    }
    out.waits
}

#[test]
fn overlap_back_to_back_tiles_match_the_golden_model() {
    let seed = test_seed("overlap_back_to_back_tiles_match_the_golden_model");
    let mut rng = Rng::new(seed);
    for (c, name) in [
        (overlap(cfg(4, 4)), "ov_4x4"),
        (overlap(cfg(3, 5).six_tokens_3x5()), "ov_3x5"),
        (
            overlap(AccelConfig {
                pe: PeKind::Int8,
                ..cfg(4, 4)
            }),
            "ov_int8",
        ),
        (overlap(cfg(1, 1)), "ov_1x1"),
        (taps(cfg(4, 4)), "tp_4x4"),
        (taps(cfg(3, 5).six_tokens_3x5()), "tp_3x5"),
        (taps(cfg(1, 1)), "tp_1x1"),
        (burst(cfg(4, 4)), "bu_4x4"),
        (burst(cfg(3, 5).six_tokens_3x5()), "bu_3x5"),
        (burst(cfg(5, 3)), "bu_5x3"),
        (burst(cfg(1, 1)), "bu_1x1"),
    ] {
        let mut bench = array_bench(&c, name);
        // Many input channels: tiles longer than the flush and read-out,
        // so no last token waits; then single tiles alone, as without
        // shadows.
        let l = layer(
            &c,
            &RawLayer::conv(6, 2 * c.cols as i64, (5, 5), 3, 1, 1, (1, c.rows as i64))
                .with_shifts(1, 2),
        );
        let d = data(&mut rng, &c, &l, 0.4);
        eprintln!("{c}: {l:?}");
        check_stream(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
        check_layer(&mut bench, &l, &d, Traffic::default(), &mut rng, 3);
    }
}

#[test]
fn overlap_short_tiles_wait_for_the_read_out() {
    let seed = test_seed("overlap_short_tiles_wait_for_the_read_out");
    let mut rng = Rng::new(seed);
    for (c, name) in [
        (overlap(cfg(4, 4)), "ov_short"),
        (taps(cfg(4, 4)), "tp_4x4"),
        (burst(cfg(4, 4)), "bu_4x4"),
    ] {
        let mut bench = array_bench(&c, name);
        // One input channel, 1 x 1 and 3 x 3 kernels, all LOW or mixed: tiles
        // of 1 to 36 tokens, most shorter than the flush and read-out (11;
        // 8 with row taps).
        for (k, p, threshold) in [(1i64, 0i64, 300i64), (3, 1, 300), (3, 1, 40), (1, 0, 0)] {
            let raw = RawLayer {
                threshold,
                ..RawLayer::conv(1, 6, (4, 4), k, 1, p, (2, 2))
            };
            let l = layer(&c, &raw);
            let d = random_layer_data(&mut rng, &c, &l, 100_000, None);
            let waits = check_stream(&mut bench, &l, &d, Traffic::default(), &mut rng, usize::MAX);
            eprintln!("{l:?}: {waits} cycles waited");
            if k == 1 {
                assert!(waits > 0, "short tiles wait for the read-out");
            }
        }
    }
}

#[test]
fn overlap_with_bubbles_and_read_out_stalls() {
    let seed = test_seed("overlap_with_bubbles_and_read_out_stalls");
    let mut rng = Rng::new(seed);
    for (n, tiles) in [(2u32, 40usize), (4, 24), (8, 8)] {
        let row_taps = n == 4 || rng.chance(0.5);
        let c = overlap(AccelConfig {
            region: rng.pick(&[1, 2, 4]),
            row_taps,
            burst_readout: row_taps && (n == 2 || rng.chance(0.5)),
            ..cfg(n, n)
        });
        let mut bench = array_bench(&c, &format!("ov_traffic_{n}"));
        for p in [0.1, 0.4] {
            let k = rng.pick(&[1i64, 3]);
            let l = layer(
                &c,
                &RawLayer::conv(
                    rng.range(1, 4),
                    rng.range(1, 2 * i64::from(n) + 1),
                    (6, 6),
                    k,
                    1,
                    k / 2,
                    (1, i64::from(n)),
                )
                .with_shifts(rng.range(0, 4), rng.range(0, 4)),
            );
            let d = data(&mut rng, &c, &l, 0.35);
            let traffic = Traffic {
                bubble: p,
                stall: rng.pick(&[0.0, p, 0.7]),
            };
            eprintln!("{c}: {l:?} traffic {traffic:?}");
            check_stream(&mut bench, &l, &d, traffic, &mut rng, tiles);
        }
    }
}
