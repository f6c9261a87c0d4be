//! The emitted output stage (`drq_output_stage`) in Verilator against the
//! golden `requantize` and the row/column mapping of `docs/output-stage.md`:
//! every element of every tile, exactly the valid ones, each once, with
//! random row bubbles and downstream backpressure; the requantiser's extremes
//! (SH = 0 and 63, M = 0 and 65535, the most negative and most positive acc
//! for ACC_BITS 16, 32, 64, rounding ties of both signs, the clamp edges);
//! partial tiles, idle rows and columns; and one element per cycle.

use drq_arch::AccelConfig;
use drq_golden::cycles::{closes_lane_group, readout_row, RowHold};
use drq_golden::rng::{test_seed, Rng};
use drq_hdl::output_stage::LATENCY;
use drq_verif::output_stage_tb::{
    check, expected, Drive, LayerRegs, OutputStageBench, Tile, TileRegs,
};
use drq_verif::sim::SimOptions;

fn default_cfg() -> AccelConfig {
    AccelConfig::default()
}
/// Rows from ROWS-1 down (the read-out chain), against the default's taps.
fn non_square() -> AccelConfig {
    AccelConfig {
        rows: 12,
        cols: 5,
        row_taps: false,
        ..AccelConfig::replicated()
    }
}
fn wide() -> AccelConfig {
    AccelConfig {
        acc_bits: 64,
        a_hi: 16,
        a_lo: 4,
        ..AccelConfig::replicated()
    }
}
/// acc_hi has bits but N fits one word (33 < ACC_BITS <= 48): the
/// product's high half is emitted, N's high word is not.
fn mid() -> AccelConfig {
    AccelConfig {
        rows: 3,
        cols: 2,
        acc_bits: 40,
        ..AccelConfig::replicated()
    }
}
fn narrow() -> AccelConfig {
    AccelConfig {
        rows: 4,
        cols: 3,
        acc_bits: 16,
        ..AccelConfig::replicated()
    }
}

/// `cfg` whose output stage holds `out_rows` rows (a queue of
/// out_rows - 1 in front of its row buffer).
fn queue(cfg: AccelConfig, out_rows: u32) -> AccelConfig {
    AccelConfig { out_rows, ..cfg }
}

/// `cfg` whose output stage requantises and writes `out_lanes` pixels of a
/// row per cycle.
fn lanes(cfg: AccelConfig, out_lanes: u32) -> AccelConfig {
    AccelConfig { out_lanes, ..cfg }
}

/// Uniform in lo..=hi, also for the whole i64 range.
fn uniform(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    if lo == i64::MIN && hi == i64::MAX {
        rng.next_u64() as i64
    } else {
        rng.range(lo, hi)
    }
}

/// `cfg` whose array reads rows out by row taps: row 0 first, up.
fn taps(cfg: AccelConfig) -> AccelConfig {
    AccelConfig {
        overlap: true,
        row_taps: true,
        ..cfg
    }
}

fn bench(cfg: &AccelConfig, test: &str) -> OutputStageBench {
    let name = format!(
        "{}x{}_acc{}_a{}_q{}_l{}{}",
        cfg.rows,
        cfg.cols,
        cfg.acc_bits,
        cfg.a_hi,
        cfg.out_rows,
        cfg.out_lanes,
        if cfg.row_taps { "_taps" } else { "" }
    );
    OutputStageBench::new(cfg, &SimOptions::from_env(test, &name)).unwrap()
}

fn acc_range(cfg: &AccelConfig) -> (i64, i64) {
    let b = cfg.acc_bits;
    if b == 64 {
        (i64::MIN, i64::MAX)
    } else {
        (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1)
    }
}

/// A full tile (every row and column valid): tile_w = COLS-independent
/// ROWS x 1 pixels in one image row.
fn full_tile(cfg: &AccelConfig, accs: &mut dyn FnMut() -> i64) -> Tile {
    Tile {
        regs: TileRegs {
            oc0: 0,
            oh0: 0,
            ow0: 0,
            tile_w: cfg.rows,
            valid_h: 1,
            valid_w: cfg.rows,
        },
        rows: (0..cfg.rows)
            .map(|_| (0..cfg.cols).map(|_| accs()).collect())
            .collect(),
    }
}

/// Two full tiles back to back, tile t's accumulators from `accs(t)`.
fn two_full_tiles(cfg: &AccelConfig, mut accs: impl FnMut(usize) -> i64) -> Vec<Tile> {
    (0..2).map(|t| full_tile(cfg, &mut || accs(t))).collect()
}

/// Accumulators that hit the requantiser's edges for (M, SH): both ends of
/// the range, 0 and +-1, and for each target y in -2..=2 and around the
/// clamp the smallest acc with floor((acc M + r') / 2^SH) >= y and its
/// neighbour below (with M = 1 these are the rounding ties).
fn edge_accs(cfg: &AccelConfig, mult: u32, shift: u32) -> Vec<i64> {
    let (lo, hi) = acc_range(cfg);
    let mut v = vec![lo, lo + 1, -1, 0, 1, 2, hi - 1, hi];
    if mult > 0 {
        let a_max = i128::from(cfg.a_max());
        let r = if shift > 0 { 1i128 << (shift - 1) } else { 0 };
        for y in [-2, -1, 1, 2, a_max - 1, a_max, a_max + 1] {
            // smallest acc with acc * M + r' >= y * 2^SH
            let need = y * (1i128 << shift) - r;
            let m = i128::from(mult);
            let acc = need.div_euclid(m) + i128::from(need.rem_euclid(m) != 0);
            for a in [acc - 1, acc, acc + 1] {
                if a >= i128::from(lo) && a <= i128::from(hi) {
                    v.push(a as i64);
                }
            }
        }
    }
    v
}

fn extremes(cfg: &AccelConfig, test: &str) {
    let seed = test_seed(test);
    let mut rng = Rng::new(seed);
    let mut b = bench(cfg, test);
    let (lo, hi) = acc_range(cfg);
    let shifts = [0u32, 1, 2, 7, 15, 16, 31, 32, 33, 47, 48, 49, 62, 63];
    let mults = [0u32, 1, 2, 3, 255, 32768, 65535, rng.range(4, 65534) as u32];
    let mut n = 0;
    for &shift in &shifts {
        for &mult in &mults {
            let layer = LayerRegs {
                mult,
                shift,
                c_out: cfg.cols,
            };
            let edges = edge_accs(cfg, mult, shift);
            let mut k = 0;
            let mut next = || {
                k += 1;
                if k <= edges.len() {
                    edges[k - 1]
                } else {
                    match rng.range(0, 3) {
                        0 => uniform(&mut rng, lo, hi),
                        1 => rng.range(-300, 300),
                        _ => rng.range(lo.max(-(1 << 40)), hi.min(1 << 40)),
                    }
                }
            };
            let tile = full_tile(cfg, &mut next);
            // Every edge value fits in one tile or is spread over two.
            let tiles = vec![tile.clone(), full_tile(cfg, &mut next)];
            let out = b.run(
                &layer,
                &tiles,
                Drive {
                    bubble: 0.1,
                    stall: 0.2,
                },
                &mut rng,
            );
            check(
                cfg,
                &layer,
                &tiles,
                &out,
                &format!("{cfg} M={mult} SH={shift}"),
            );
            n += out.elements.len();
        }
    }
    eprintln!("{test}: {n} elements checked");
}

#[test]
fn requantiser_extremes_acc32() {
    extremes(&default_cfg(), "requantiser_extremes_acc32");
}

#[test]
fn requantiser_extremes_acc64_uint16() {
    extremes(&wide(), "requantiser_extremes_acc64_uint16");
}

#[test]
fn requantiser_extremes_acc40() {
    extremes(&mid(), "requantiser_extremes_acc40");
}

#[test]
fn requantiser_extremes_acc16() {
    extremes(&narrow(), "requantiser_extremes_acc16");
}

/// One valid pixel and channel of a tile whose every accumulator is `acc`:
/// run it, check it against the golden model, return the output code.
fn one_pixel(
    b: &mut OutputStageBench,
    cfg: &AccelConfig,
    acc: i64,
    mult: u32,
    shift: u32,
    rng: &mut Rng,
    what: &str,
) -> u32 {
    let layer = LayerRegs {
        mult,
        shift,
        c_out: 1,
    };
    let tile = Tile {
        regs: TileRegs {
            oc0: 0,
            oh0: 0,
            ow0: 0,
            tile_w: 1,
            valid_h: 1,
            valid_w: 1,
        },
        rows: (0..cfg.rows)
            .map(|_| vec![acc; cfg.cols as usize])
            .collect(),
    };
    let out = b.run(&layer, std::slice::from_ref(&tile), Drive::default(), rng);
    check(cfg, &layer, &[tile], &out, what);
    out.elements[0].value
}

/// Hand-picked cases whose answers are written out, independent of
/// `requantize` (which the golden tests check separately).
#[test]
fn known_values_and_ties() {
    let cfg = narrow(); // 4 x 3, ACC 16, A_HI 8
    let mut b = bench(&cfg, "known_values_and_ties");
    let mut rng = Rng::new(1);
    // (acc, M, SH, y)
    let cases: &[(i64, u32, u32, u32)] = &[
        (3, 1, 1, 2),     // 1.5 -> 2 (tie rounds up)
        (1, 1, 1, 1),     // 0.5 -> 1
        (5, 1, 1, 3),     // 2.5 -> 3
        (-1, 1, 1, 0),    // -0.5 -> 0
        (-3, 1, 1, 0),    // -1.5 -> -1 -> 0
        (6, 1, 2, 2),     // 1.5 -> 2
        (255, 1, 0, 255), // no shift
        (256, 1, 0, 255), // clamp
        (511, 1, 1, 255), // 255.5 -> 256 -> 255
        (509, 1, 1, 255), // 254.5 -> 255
        (32767, 65535, 23, 255),
        (32767, 65535, 63, 0), // 2^31 / 2^63
        (-32768, 65535, 0, 0),
        (100, 0, 0, 0),   // M = 0
        (200, 3, 2, 150), // 600 / 4
    ];
    for &(acc, mult, shift, y) in cases {
        let layer = LayerRegs {
            mult,
            shift,
            c_out: 1,
        };
        let tile = Tile {
            regs: TileRegs {
                oc0: 0,
                oh0: 7,
                ow0: 9,
                tile_w: 1,
                valid_h: 1,
                valid_w: 1,
            },
            rows: vec![vec![acc, 0, 0]; 4],
        };
        let out = b.run(&layer, &[tile], Drive::default(), &mut rng);
        assert_eq!(out.elements.len(), 1, "acc={acc} M={mult} SH={shift}");
        let e = out.elements[0];
        assert_eq!(
            (e.channel, e.y, e.x, e.value, e.acc),
            (0, 7, 9, y, acc),
            "acc={acc} M={mult} SH={shift}"
        );
    }
    // ACC 64: the exact 79-bit product matters.
    let cfg = wide();
    let mut b = bench(&cfg, "known_values_and_ties");
    let cases: &[(i64, u32, u32, u32)] = &[
        (i64::MAX, 65535, 63, 65535), // 65535.5 - 2^-47 -> 65535 (below)
        (i64::MIN, 65535, 63, 0),
        (1 << 47, 1, 32, 32768),
        ((1 << 47) - (1 << 31), 1, 32, 32768), // 32767.5 -> 32768
        ((1 << 47) - (1 << 31) - 1, 1, 32, 32767),
        (i64::MAX, 1, 63, 1), // 0.99.. -> 1
        (1 << 62, 2, 63, 1),
        (i64::MAX, 65535, 47, 65535),
    ];
    for &(acc, mult, shift, y) in cases {
        let value = one_pixel(&mut b, &cfg, acc, mult, shift, &mut rng, "wide known");
        assert_eq!(value, y, "acc={acc} M={mult} SH={shift}");
    }
    // The low word of acc_hi * M * 2^32 + acc_lo * M carries into the high
    // word: acc_hi * M = 2^32 - 1, acc_lo * M >= 2^32 (N just above 2^64).
    for shift in [0, 16, 32, 47, 48, 49, 56, 62, 63] {
        for acc in [(65537i64 << 32) + (1 << 31), (65537i64 << 32) + 65538] {
            one_pixel(
                &mut b,
                &cfg,
                acc,
                65535,
                shift,
                &mut rng,
                &format!("carry SH={shift}"),
            );
        }
    }
    // (2^63 - 1)(2^16 - 1) + 2^62 = 2^79 - 2^62 - 2^16 + 1: / 2^63 ->
    // 65535.5 - tiny -> floor 65535, and one less acc * M bit gives 65534.
    assert_eq!(
        drq_golden::numerics::requantize(i64::MAX, 65535, 63, 16),
        65535
    );
}

/// Random tile shapes: partial tiles (valid_h < tile_h, valid_w < tile_w),
/// rows beyond tile_h * tile_w, partial channel tiles, all-idle tiles,
/// consecutive tiles with different shapes, random bubbles and stalls.
fn random_tiles(cfg: &AccelConfig, test: &str, layers: usize) {
    let seed = test_seed(test);
    let mut rng = Rng::new(seed);
    let mut b = bench(cfg, test);
    let (lo, hi) = acc_range(cfg);
    let mut n = 0;
    for l in 0..layers {
        let c_out = rng.range(1, 3 * i64::from(cfg.cols)) as u32;
        let layer = LayerRegs {
            mult: rng.range(0, 65535) as u32,
            shift: rng.pick(&[0, 1, 4, 8, 12, 16, 20, 24, 31, 32, 40, 63]),
            c_out,
        };
        let mut tiles = Vec::new();
        for _ in 0..rng.range(1, 5) {
            let tile_w = rng.range(1, cfg.rows.into()) as u32;
            let tile_h = rng.range(1, i64::from(cfg.rows / tile_w)) as u32;
            let (valid_h, valid_w) = if rng.chance(0.15) {
                (0, rng.range(0, tile_w.into()) as u32) // idle tile
            } else {
                (
                    rng.range(1, tile_h.into()) as u32,
                    rng.range(1, tile_w.into()) as u32,
                )
            };
            let n_ct = c_out.div_ceil(cfg.cols);
            let oc0 = rng.range(0, i64::from(n_ct)) as u32 * cfg.cols; // may be >= c_out: idle
            let regs = TileRegs {
                oc0,
                // Anywhere a layer that fits the buffers can put a tile.
                oh0: rng.range(0, i64::from(cfg.max_dim() - cfg.rows)) as u32,
                ow0: rng.range(0, i64::from(cfg.max_dim() - cfg.rows)) as u32,
                tile_w,
                valid_h,
                valid_w,
            };
            let scale = rng.pick(&[1i64 << 10, 1 << 20, i64::MAX]);
            let rows = (0..cfg.rows)
                .map(|_| {
                    (0..cfg.cols)
                        .map(|_| {
                            if scale == i64::MAX {
                                uniform(&mut rng, lo, hi)
                            } else {
                                rng.range(lo.max(-scale), hi.min(scale))
                            }
                        })
                        .collect()
                })
                .collect();
            tiles.push(Tile { regs, rows });
        }
        let drive = Drive {
            bubble: rng.pick(&[0.0, 0.3, 0.7]),
            stall: rng.pick(&[0.0, 0.3, 0.7]),
        };
        let out = b.run(&layer, &tiles, drive, &mut rng);
        check(
            cfg,
            &layer,
            &tiles,
            &out,
            &format!("{test} layer {l} {drive:?}"),
        );
        n += out.elements.len();
    }
    eprintln!("{test}: {n} elements checked");
}

/// Each configuration under its own name (its seed and model folder).
#[test]
fn random_tiles_every_configuration() {
    for (cfg, test, layers) in [
        (default_cfg(), "random_tiles_default", 40),
        (non_square(), "random_tiles_non_square", 60),
        (wide(), "random_tiles_acc64_uint16", 30),
        (mid(), "random_tiles_acc40", 30),
        (narrow(), "random_tiles_acc16", 60),
        (queue(non_square(), 4), "random_tiles_row_queue_4", 40),
        (queue(narrow(), 9), "random_tiles_row_queue_9", 40),
        (lanes(default_cfg(), 4), "random_tiles_lanes_4", 40),
        (
            lanes(queue(non_square(), 4), 2),
            "random_tiles_lanes_2_queue_4",
            40,
        ),
        (
            lanes(queue(wide(), 3), 4),
            "random_tiles_lanes_4_acc64_queue_3",
            30,
        ),
        (taps(non_square()), "random_tiles_taps", 40),
        (
            taps(lanes(queue(non_square(), 4), 2)),
            "random_tiles_taps_lanes_2_queue_4",
            40,
        ),
        (
            taps(lanes(default_cfg(), 4)),
            "random_tiles_taps_lanes_4",
            30,
        ),
    ] {
        random_tiles(&cfg, test, layers);
    }
}

/// With a row queue, rows are taken as fast as the queue has room: two
/// full tiles offered back to back wait exactly as long as the documented
/// recurrence (`drq_golden::cycles::RowHold`, docs/spec.md §7.4) says, and
/// the elements still leave one beat per cycle; with lanes, a beat holds
/// the group's pixels.
#[test]
fn row_queue_takes_rows_as_the_formula_says() {
    for cfg in [
        queue(default_cfg(), 17),
        queue(default_cfg(), 3),
        queue(non_square(), 6),
        default_cfg(),
        lanes(default_cfg(), 4),
        lanes(queue(default_cfg(), 3), 4),
        lanes(queue(non_square(), 5), 2),
        taps(lanes(queue(default_cfg(), 3), 4)),
        taps(lanes(queue(non_square(), 5), 2)),
    ] {
        let mut b = bench(&cfg, "row_queue_takes_rows_as_the_formula_says");
        let mut rng = Rng::new(11);
        let layer = LayerRegs {
            mult: 3,
            shift: 2,
            c_out: cfg.cols,
        };
        let mut k = 0i64;
        let tiles = two_full_tiles(&cfg, |tile| {
            k += [3, 5][tile];
            k
        });
        let out = b.run(&layer, &tiles, Drive::default(), &mut rng);
        check(&cfg, &layer, &tiles, &out, "row queue");
        // The bench offers the next row in the cycle after a handshake.
        // One tile row of ROWS pixels from x = 0 in read-out order: groups
        // of L rows, each closed by its row at x = 0 mod L (descending) or
        // x = L - 1 mod L (row taps, ascending).
        let mut hold = RowHold::new(&cfg);
        let (mut t, mut waits, mut open) = (0u64, 0u64, false);
        for k in 0..2 * cfg.rows {
            let x = readout_row(&cfg, k % cfg.rows);
            let h = if open { t } else { hold.open(t) };
            open = !closes_lane_group(&cfg, 0, x, cfg.rows);
            if !open {
                hold.close(h, u64::from(cfg.cols));
            }
            waits += h - t;
            t = h + 1;
        }
        let what = format!(
            "{cfg}, out_rows {}, out_lanes {}",
            cfg.out_rows, cfg.out_lanes
        );
        assert_eq!(out.row_waits, waits, "{what}");
        assert_eq!(
            out.last_element - out.first_row,
            hold.last_release() - 1 + LATENCY,
            "{what}"
        );
        let groups = 2 * u64::from(cfg.rows.div_ceil(cfg.out_lanes));
        assert_eq!(out.beats, groups * u64::from(cfg.cols), "{what}");
    }
}

/// Without bubbles or stalls: one element per cycle, rows back to back, the
/// first element LATENCY cycles after the first row; idle rows behind a
/// valid row cost nothing, idle rows meeting an empty buffer one cycle each.
#[test]
fn one_element_per_cycle() {
    // The counts below are worked out for rows from ROWS-1 down (the
    // read-out chain); the taps' order (row 0 up) is checked against the
    // formula in `row_queue_takes_rows_as_the_formula_says` and
    // `random_tiles_every_configuration`.
    let chain = |c: AccelConfig| AccelConfig {
        row_taps: false,
        ..c
    };
    for cfg in [chain(default_cfg()), non_square()] {
        let mut b = bench(&cfg, "one_element_per_cycle");
        let mut rng = Rng::new(7);
        let layer = LayerRegs {
            mult: 1000,
            shift: 8,
            c_out: cfg.cols,
        };
        let mut k = 0i64;
        let tiles = two_full_tiles(&cfg, |tile| {
            k += 1;
            [k, -k][tile]
        });
        let out = b.run(&layer, &tiles, Drive::default(), &mut rng);
        check(&cfg, &layer, &tiles, &out, "full rate");
        let n = out.elements.len() as u64;
        assert_eq!(n, 2 * u64::from(cfg.rows * cfg.cols));
        assert_eq!(out.last_element - out.first_row, n - 1 + LATENCY, "{cfg}");
        eprintln!(
            "{cfg}: {n} elements in {} cycles from the first row",
            out.last_element - out.first_row + 1
        );
        // Half the rows idle (valid_h * tile_w = ROWS / 2 rows in range):
        // the idle rows come first (one cycle each), then the valid ones.
        let mut t = full_tile(&cfg, &mut || 5);
        t.regs.tile_w = 1;
        t.regs.valid_w = 1;
        t.regs.valid_h = cfg.rows / 2;
        let want = expected(&cfg, &layer, &t).len() as u64;
        let out = b.run(&layer, &[t.clone()], Drive::default(), &mut rng);
        check(&cfg, &layer, &[t], &out, "idle rows");
        let idle = u64::from(cfg.rows - cfg.rows / 2);
        assert_eq!(
            out.last_element - out.first_row,
            idle + want - 1 + LATENCY,
            "{cfg}"
        );
        // Every other row idle (TW = 2, valid_w = 1): only the first row
        // (r = ROWS-1, j = 1) meets an empty buffer; the others are taken
        // while a valid row is emitted and cost nothing.
        if cfg.rows % 2 == 0 {
            let mut t = full_tile(&cfg, &mut || 9);
            t.regs.tile_w = 2;
            t.regs.valid_w = 1;
            t.regs.valid_h = cfg.rows / 2;
            let want = expected(&cfg, &layer, &t).len() as u64;
            let out = b.run(&layer, &[t.clone()], Drive::default(), &mut rng);
            check(&cfg, &layer, &[t], &out, "alternate idle rows");
            assert_eq!(
                out.last_element - out.first_row,
                1 + want - 1 + LATENCY,
                "{cfg}"
            );
        }
    }
}
