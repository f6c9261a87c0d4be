//! `cycles_total` by hand (docs/spec.md §7): the formula of
//! `drq_golden::cycles`, through a whole layer run, against cycle counts
//! worked out on paper. (Here, not in `cycles.rs`, so that the formula's
//! module does not import the layer run that imports it.)

use drq_arch::AccelConfig;
use drq_golden::cycles::RowHold;
use drq_golden::golden::run_layer;
use drq_golden::layer::{Layer, RawLayer};
use drq_golden::rng::Rng;
use drq_golden::testdata::random_layer_data;

/// The small configuration with the read-out chain (row ROWS-1 first,
/// F = ROWS + COLS - 1): the machine these counts were worked out for;
/// the tests of row taps set them themselves.
fn cfg() -> AccelConfig {
    AccelConfig {
        row_taps: false,
        ..AccelConfig::small()
    }
}

fn cycles(raw: RawLayer) -> u64 {
    cycles_on(cfg(), raw)
}

/// `cycles_total` of `raw` on `cfg`, with the data of seed 1.
fn cycles_on(cfg: AccelConfig, raw: RawLayer) -> u64 {
    let layer = Layer::from_raw(&raw).unwrap();
    let data = random_layer_data(&mut Rng::new(1), &cfg, &layer, 100, None);
    run_layer(&cfg, &layer, &data)
        .unwrap()
        .counters
        .cycles_total
}

#[test]
fn one_output_channel_all_high_by_hand() {
    // 1 x 2 x 2 input, 1 x 1 kernel, 1 x 1 tiles, T = 0 (all HIGH, 4
    // tokens a step): 4 tiles of 1 step. Per tile: 4 tokens + flush
    // (4 + 4 - 1 = 7) + drain (rows 3, 2, 1 idle, 1 cycle each; row 0
    // valid: 4) = 15. Layer: 1 + ROWS 4 + 4 (controller fill) + 4
    // (output stage) + 1 (write-back) + n_last 1 + 4 * 15 = 75.
    // The input mask is predicted at T = 0, so every region is sensitive
    // and its phases are skipped. Total 75.
    let raw = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles(raw), 75);
}

#[test]
fn shadow_accumulators_overlap_the_read_out_with_the_next_tile_by_hand() {
    // The layer above with `overlap`: 4 tiles of 4 tokens, the first token
    // in cycle 1 + 4 + 4 = 9. Tile 0: last token e = 12, rows offered from
    // e + 1 + F 7 = 20, row 0 (valid) taken at 23 and released at 24. The
    // next tile's tokens follow at once (13..15), its last token waits for
    // the cycle after row 0's handshake: e = 24, row 0 at 35, released 36;
    // then e = 36, row 0 at 47; e = 48, row 0 at 59, released 60. Total
    // 60 + OUTPUT_LATENCY 4 + 2 = 66 (75 without).
    let ov = AccelConfig {
        overlap: true,
        ..cfg()
    };
    let short = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(ov, short), 66);
    // Four input channels: tiles of 16 tokens, longer than the flush and
    // read-out (7 + 4), so no last token waits. e = 9 + 15 = 24, row 0 at
    // 24 + 8 + 3 = 35; e = 40, 56, 72 (16 cycles a tile), the last row 0
    // at 83, released 84. Total 84 + 6 = 90 (4 * 27 + 15 = 123 without).
    let long = RawLayer {
        threshold: 0,
        ..RawLayer::conv(4, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(ov, long.clone()), 90);
    assert_eq!(cycles_on(cfg(), long), 123);
}

#[test]
fn row_taps_read_row_0_first_after_a_flush_of_cols_by_hand() {
    // The two layers above with row taps: F = COLS = 4, rows offered 0, 1,
    // 2, 3. Short tiles (4 tokens): tile 0's last token e = 12, row 0
    // (valid) offered and taken at 12 + 1 + 4 = 17, released 18; rows 1
    // to 3 (idle) at 18, 19, 20. The next last token waits for the cycle
    // after row 3's handshake: e = 21, row 0 at 26 (released 27), row 3
    // at 29; e = 30, row 0 at 35, row 3 at 38; e = 39, row 0 at 44,
    // released 45. Total 45 + OUTPUT_LATENCY 4 + 2 = 51 (66 with the
    // shadow chain).
    let taps = AccelConfig {
        overlap: true,
        row_taps: true,
        ..cfg()
    };
    let short = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(taps, short), 51);
    // Tiles of 16 tokens: e = 24, row 0 at 29, row 3 at 32; e = 40, 56, 72
    // (no wait), the last row 0 at 72 + 5 = 77, released 78. Total 84
    // (90 with the chain).
    let long = RawLayer {
        threshold: 0,
        ..RawLayer::conv(4, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(taps, long), 84);
}

#[test]
fn a_burst_read_out_lets_the_next_last_token_in_under_it_by_hand() {
    // The short layer above with a burst read-out (Q = 1, L = 1, one valid
    // row a tile: G = 1). Tile 0: e = 12, the read-out starts at x = e + F
    // = 16 (the stage is empty), row 0 at 17 (released 18), rows 1..3 at
    // 18..20. Tile 1's tokens 13..16 stream; its last token waits only for
    // x + 1 = 17: e = 17, x = max(e + 4, 20 + 1) = 21, row 0 at 22 (23),
    // rows to 25. Tile 2: tokens 18..21, e = 22, x = 26, row 0 at 27 (28).
    // Tile 3: tokens 23..26, e = 27, x = 31, row 0 at 32, released 33,
    // row 3 at 35. Total max(33 + 4 + 2, 35 + 2) = 39 (51 with row taps
    // alone).
    let burst = AccelConfig {
        overlap: true,
        row_taps: true,
        burst_readout: true,
        ..cfg()
    };
    let short = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(burst, short), 39);
    // Tiles of 16 tokens: the tokens bound, as with row taps alone (84).
    let long = RawLayer {
        threshold: 0,
        ..RawLayer::conv(4, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(burst, long), 84);
    // Tiles of two valid rows (1 x 2) have two groups, more than Q = 1
    // holds: read out with backpressure, exactly as without bursts.
    let wide = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 2))
    };
    let taps = AccelConfig {
        burst_readout: false,
        ..burst
    };
    assert_eq!(cycles_on(burst, wide.clone()), cycles_on(taps, wide));
}

#[test]
fn row_taps_end_after_the_last_idle_row_by_hand() {
    // 8 x 1 array, one 1 x 1 output (C_in 1, K 1, tile 1 x 1, T = 0): one
    // tile of 4 tokens, the first in cycle 1 + 8 + 4 = 13, the last e = 16.
    // Row taps: F = COLS = 1, row 0 (valid) offered and taken at 18 and
    // released at 19 (n = 1), written by 19 + 4 + 2 = 25; but rows 1 to 7
    // (idle) are taken at 19 .. 25 and the array is idle only from 26, so
    // the layer ends at 25 + 2 = 27. The shadow chain: F = 8, rows 7 .. 1
    // at 25 .. 31, row 0 at 32, released 33: 33 + 6 = 39.
    let narrow = AccelConfig {
        rows: 8,
        cols: 1,
        overlap: true,
        ..cfg()
    };
    let one_pixel = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 1, (1, 1), 1, 1, 0, (1, 1))
    };
    assert_eq!(cycles_on(narrow, one_pixel.clone()), 39);
    let taps = AccelConfig {
        row_taps: true,
        ..narrow
    };
    assert_eq!(cycles_on(taps, one_pixel), 27);
}

#[test]
fn a_nonzero_threshold_pays_the_input_mask_phases_by_hand() {
    // The layer above at T = 1, once with the mask predicted and once with
    // the same mask given: the predicted run adds the input-mask phases,
    // V 4 + 2 * N 1 + 12 = 18 cycles.
    let cfg = cfg();
    let raw = RawLayer {
        threshold: 1,
        ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1))
    };
    let layer = Layer::from_raw(&raw).unwrap();
    let mut data = random_layer_data(&mut Rng::new(1), &cfg, &layer, 100, None);
    let predicted = run_layer(&cfg, &layer, &data).unwrap();
    data.mask = Some(predicted.mask_in.clone());
    let given = run_layer(&cfg, &layer, &data).unwrap();
    assert_eq!(
        predicted.counters.cycles_total - given.counters.cycles_total,
        18
    );
    // T = 0 (every region sensitive) and T > a_max (none) decide the mask
    // without the map: no phases.
    for threshold in [0, cfg.a_max() + 1, u32::from(u16::MAX)] {
        let decided = Layer { threshold, ..layer };
        data.mask = None;
        let predicted = run_layer(&cfg, &decided, &data).unwrap();
        assert!(predicted
            .mask_in
            .data
            .iter()
            .all(|&b| b == (threshold == 0)));
        data.mask = Some(predicted.mask_in.clone());
        let given = run_layer(&cfg, &decided, &data).unwrap();
        assert_eq!(
            predicted.counters.cycles_total, given.counters.cycles_total,
            "T = {threshold}"
        );
    }
}

#[test]
fn four_output_channels_all_low_with_both_masks_by_hand() {
    // 1 x 4 x 4 input, 4 output channels, 1 x 1 kernel, 2 x 2 tiles,
    // T = 300 (nothing sensitive: 1 token a step): 4 tiles of 1 step.
    // Drain: 4 valid rows of 4 columns, 4 cycles each, the last one
    // handshaken at cycle 12: 13. Per tile 1 + 7 + 13 = 21. Layer:
    // 1 + 4 + 9 + 4 + 4 * 21 = 102. Input mask: T > a_max decides it
    // (nothing sensitive), no phases. Output mask (N = 4 * 2 * 2 = 16):
    // 16 + 6 before, 16 + 3 after. Total 102 + 22 + 19 = 143.
    let raw = RawLayer {
        threshold: 300,
        next_threshold: Some(0),
        ..RawLayer::conv(1, 4, (4, 4), 1, 1, 0, (2, 2))
    };
    assert_eq!(cycles(raw), 143);
}

#[test]
fn the_row_hold_of_a_queue_by_hand() {
    // Q = 2 rows held, rows of 3 elements offered in cycles 0, 1, 2, ...:
    // row 0 taken at 0 (elements 1..3, released at 3); row 1 at 1 (buffer
    // busy, queue free; elements 4..6, released at 6); row 2 waits for
    // row 0's release: taken at 3, elements 7..9.
    let queued = AccelConfig {
        out_rows: 2,
        ..cfg()
    };
    let mut hold = RowHold::new(&queued);
    assert_eq!(hold.take(0, 3), 0);
    assert_eq!(hold.take(1, 3), 1);
    assert_eq!(hold.take(2, 3), 3);
    assert_eq!(hold.last_release(), 9);
    // Without a queue each row waits for the one before.
    let mut hold = RowHold::new(&cfg());
    assert_eq!(hold.take(0, 3), 0);
    assert_eq!(hold.take(1, 3), 3);
    assert_eq!(hold.take(4, 3), 6);
    assert_eq!(hold.last_release(), 9);
}

#[test]
fn room_for_a_whole_tile_by_hand() {
    // Q = 3; groups of 10 elements taken at 0, 1, 2: released at 10, 20,
    // 30 (each waits for the one before). Room for one more group once
    // at most two are held past the cycle: from 10 (20 and 30 still
    // held); for two from 20; for three from 30; for four never.
    let cfg3 = AccelConfig {
        out_rows: 3,
        ..cfg()
    };
    let mut hold = RowHold::new(&cfg3);
    for t in 0..3 {
        assert_eq!(hold.take(t, 10), t);
    }
    assert_eq!(hold.last_release(), 30);
    assert_eq!(hold.room(5, 1), Some(10));
    assert_eq!(hold.room(5, 2), Some(20));
    assert_eq!(hold.room(25, 2), Some(25));
    assert_eq!(hold.room(5, 3), Some(30));
    assert_eq!(hold.room(5, 4), None);
    // A tile without a valid pixel needs no room.
    assert_eq!(hold.room(5, 0), Some(5));
    // The same answers as groups taken one by one: a group offered at
    // room(5, 1) = 10 is taken then.
    assert_eq!(hold.open(10), 10);
    assert_eq!(hold.open(9), 10);
}

#[test]
fn a_queue_as_deep_as_the_tile_takes_its_rows_back_to_back_by_hand() {
    // The first example's layer with 4 output channels (n = 4): per tile
    // 4 tokens + flush 7, then rows 3, 2, 1 idle and row 0 valid. With
    // out_rows 1, each tile waits only for itself (the layer is small), so
    // the queue changes nothing here...
    let raw = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 4, (2, 2), 1, 1, 0, (1, 1))
    };
    let at = |out_rows| cycles_on(AccelConfig { out_rows, ..cfg() }, raw.clone());
    // Per tile 4 + 7 + D, D = 4 (rows 3, 2, 1 idle, row 0 at h = 3): 15;
    // the tiles' rows are 15 cycles apart, more than n = 4, so no tile
    // waits: 1 + 4 + 4 + 4 * 15 + 4 + 1 + 4 = 78 whatever out_rows.
    assert_eq!(at(1), 78);
    assert_eq!(at(4), 78);
    // ...while 2 x 2 tiles of 4 valid rows of 4 columns wait: with Q = 1
    // row k is taken at 4k (D = 13, per tile 4 + 7 + 13 = 24); with Q = 4
    // the rows are taken in 4 cycles (D = 4, per tile 15) and the last
    // tile's last element enters the requantiser at its row 0 handshake +
    // the queue's backlog.
    let raw = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 4, (4, 4), 1, 1, 0, (2, 2))
    };
    let at = |out_rows| cycles_on(AccelConfig { out_rows, ..cfg() }, raw.clone());
    // Q = 1: 9 + 4 * 24 + 4 + 1 + 4 = 114.
    assert_eq!(at(1), 114);
    // Q = 4: tile 0's first token at 9, rows offered at 20..23, taken at
    // once (releases 24, 28, 32, 36: each row 4 elements after the last);
    // tile 1 from 24: rows offered 35..38, the queue holds 4 rows released
    // at 24..36, so row k waits for the release 4 rows back: taken at 35,
    // 36, 37, 38 (rel 40, 44, 48, 52); tile 2 from 39: offered 50..53,
    // taken 50, 51, 52, 53 (rel 56 .. 68); tile 3 from 54: offered
    // 65..68, taken 65..68 (rel 72 .. 84). E = 84; total 84 + 4 + 2 = 90.
    assert_eq!(at(4), 90);
}

#[test]
fn lane_groups_drain_a_tile_row_at_once_by_hand() {
    // The 2 x 2 tiles of the test above with out_lanes 2: each tile row's
    // two pixels (x = ow0 + 1 offered first, then x = ow0, even) share a
    // buffer word, so they form one group of 4 columns.
    let raw = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 4, (4, 4), 1, 1, 0, (2, 2))
    };
    let at = |out_rows, out_lanes| {
        cycles_on(
            AccelConfig {
                out_rows,
                out_lanes,
                ..cfg()
            },
            raw.clone(),
        )
    };
    // Q = 1: tile 0 offers rows at 20; row 3 opens the group at 20, row 2
    // closes it at 21 (released 21 + 4 = 25); row 1 opens the next group
    // when the first is released, at 25; row 0 closes it at 26 (released
    // 30). The next tile's first token at 27: 18 cycles a tile (4 tokens,
    // flush 7, drain 7), tiles from 9, 27, 45, 63; the last releases at
    // 84: total 84 + 4 + 2 = 90 (114 with one pixel a cycle).
    assert_eq!(at(1, 2), 90);
    // Q = 4: groups wait only for the release 4 groups back. Tile 0: rows
    // at 20..23, releases 25, 29; tile 1 from 24: rows at 35..38, releases
    // 40, 44; tile 2 from 39: rows at 50..53 (the oldest held release, 25,
    // is past), releases 55, 59; tile 3 from 54: rows at 65..68, releases
    // 70, 74. Total 74 + 6 = 80 (90 with one pixel a cycle).
    assert_eq!(at(4, 2), 80);
    // 1 x 1 tiles: every group is one row, so lanes change nothing.
    let raw = RawLayer {
        threshold: 0,
        ..RawLayer::conv(1, 4, (2, 2), 1, 1, 0, (1, 1))
    };
    let one = |out_lanes| cycles_on(AccelConfig { out_lanes, ..cfg() }, raw.clone());
    assert_eq!(one(2), one(1));
    assert_eq!(one(2), 78);
}
