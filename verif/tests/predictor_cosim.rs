//! The emitted sensitivity predictor (`drq_predictor`) in Verilator against
//! the golden `predict_mask`: every mask bit, for every region size, edge
//! regions, thresholds at both ends, every arrival order (including the
//! read-modify-write hazard at full rate), bubbles, reuse across layers, and
//! the documented cycle counts (`docs/predictor.md`).

use drq_arch::AccelConfig;
use drq_golden::predictor::predict_mask;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::tensor::{FeatureMap, Mask};
use drq_verif::predictor_tb::{
    channel_interleaved, raster, region_major, region_pairs_alternating, shuffled, Drive,
    LayerOutcome, Pos, PredictorBench,
};
use drq_verif::sim::SimOptions;

const MASK_WORDS: u32 = 512;

/// `max_width` 16 R: the mask row pitch P_M is 16 for every region size,
/// so a layer fits when C * ceil(H/R) * 16 <= 512 and W <= 16 R.
fn cfg(region: u32) -> AccelConfig {
    let cfg = AccelConfig {
        region,
        mask_words: MASK_WORDS,
        max_width: 16 * region,
        ..AccelConfig::replicated()
    };
    assert_eq!(cfg.mask_row_pitch(), 16);
    cfg
}

/// Whether a layer fits the pitched mask memory of `cfg`.
fn fits(cfg: &AccelConfig, c: usize, h: usize, w: usize) -> bool {
    let r = cfg.region as usize;
    w <= cfg.max_width as usize
        && c * h.div_ceil(r) * cfg.mask_row_pitch() as usize <= cfg.mask_words as usize
}

fn bench(cfg: &AccelConfig, test: &str) -> PredictorBench {
    PredictorBench::new(
        cfg,
        &SimOptions::from_env(test, &format!("r{}", cfg.region)),
    )
    .unwrap()
}

/// A map whose regions have random levels (so means land on both sides of
/// a threshold) with a little noise, and edge values now and then.
fn fmap(rng: &mut Rng, cfg: &AccelConfig, c: usize, h: usize, w: usize) -> FeatureMap {
    let (r, a_max) = (cfg.region as usize, i64::from(cfg.a_max()));
    let (rh, rw) = (h.div_ceil(r), w.div_ceil(r));
    let levels: Vec<i64> = (0..c * rh * rw).map(|_| rng.range(0, a_max)).collect();
    FeatureMap::from_fn(c, h, w, |ci, y, x| {
        let level = levels[(ci * rh + y / r) * rw + x / r];
        match rng.range(0, 15) {
            0 => 0,
            1 => a_max as u32,
            _ => (level + rng.range(-24, 24)).clamp(0, a_max) as u32,
        }
    })
}

fn check(
    b: &mut PredictorBench,
    f: &FeatureMap,
    t: u32,
    order: &[Pos],
    drive: Drive,
    rng: &mut Rng,
    what: &str,
) -> LayerOutcome {
    let out = b.run_layer(f, t, order, drive, rng);
    let want = predict_mask(f, b.cfg.region as usize, t);
    assert!(!out.oversize, "{what}: oversize");
    assert_eq!(
        out.mask,
        want,
        "{what}: R={} {}x{}x{} T={t}: mask differs in {} of {} regions",
        b.cfg.region,
        f.c,
        f.h,
        f.w,
        out.mask
            .data
            .iter()
            .zip(&want.data)
            .filter(|(a, b)| a != b)
            .count(),
        want.data.len()
    );
    out
}

/// A threshold with both sensitive and insensitive regions in `f`, if any.
fn mixed_threshold(rng: &mut Rng, cfg: &AccelConfig, f: &FeatureMap) -> u32 {
    for _ in 0..50 {
        let t = rng.range(1, cfg.a_max().into()) as u32;
        let m = predict_mask(f, cfg.region as usize, t);
        if m.data.iter().any(|&b| b) && m.data.iter().any(|&b| !b) {
            return t;
        }
    }
    panic!("no threshold splits the map");
}

fn orders(c: usize, h: usize, w: usize, r: usize, rng: &mut Rng) -> Vec<(&'static str, Vec<Pos>)> {
    let mut reversed = raster(c, h, w);
    reversed.reverse();
    vec![
        ("raster", raster(c, h, w)),
        ("channel-interleaved", channel_interleaved(c, h, w)),
        ("reversed", reversed),
        ("random permutation", shuffled(raster(c, h, w), rng)),
        (
            "same region on consecutive cycles",
            region_major(c, h, w, r),
        ),
        (
            "two regions alternating",
            region_pairs_alternating(c, h, w, r),
        ),
    ]
}

#[test]
fn every_order_gives_the_golden_mask() {
    let seed = test_seed("every_order_gives_the_golden_mask");
    let mut rng = Rng::new(seed);
    let cfg = cfg(4);
    let mut b = bench(&cfg, "every_order_gives_the_golden_mask");
    // 11 x 13: bottom regions 3 rows, right regions 1 column.
    let (c, h, w) = (3, 11, 13);
    for bubble in [0.0, 0.3] {
        let f = fmap(&mut rng, &cfg, c, h, w);
        let t = mixed_threshold(&mut rng, &cfg, &f);
        for (name, order) in orders(c, h, w, 4, &mut rng) {
            let drive = Drive {
                bubble,
                finish_with_last: rng.chance(0.5),
            };
            check(
                &mut b,
                &f,
                t,
                &order,
                drive,
                &mut rng,
                &format!("{name}, bubbles {bubble}"),
            );
        }
    }
}

#[test]
fn region_sizes_with_partial_edge_regions() {
    let seed = test_seed("region_sizes_with_partial_edge_regions");
    let mut rng = Rng::new(seed);
    // (region, C, H, W): H and W never multiples of R (except R = 1), one
    // map smaller than a region, and a layer that fills the memory exactly
    // (2 * 16 rows of pitch 16 at R = 1, W = max_width).
    type Shape = (usize, usize, usize);
    let cases: &[(u32, &[Shape])] = &[
        (1, &[(2, 9, 7), (2, 16, 16)]),
        (2, &[(3, 9, 11), (1, 1, 1)]),
        (8, &[(2, 21, 19), (4, 3, 5)]),
        (16, &[(3, 37, 21), (2, 5, 7), (2, 17, 16)]),
    ];
    for &(region, shapes) in cases {
        let cfg = cfg(region);
        let mut b = bench(&cfg, "region_sizes_with_partial_edge_regions");
        for &(c, h, w) in shapes {
            assert!(fits(&cfg, c, h, w));
            let f = fmap(&mut rng, &cfg, c, h, w);
            let t = rng.range(0, cfg.a_max().into()) as u32;
            let order = shuffled(raster(c, h, w), &mut rng);
            let drive = Drive {
                bubble: 0.2,
                finish_with_last: false,
            };
            check(&mut b, &f, t, &order, drive, &mut rng, "random order");
            let order = region_major(c, h, w, region as usize);
            check(
                &mut b,
                &f,
                t,
                &order,
                Drive::default(),
                &mut rng,
                "region-major",
            );
        }
    }
}

#[test]
fn thresholds_zero_above_max_and_exact_means() {
    let seed = test_seed("thresholds_zero_above_max_and_exact_means");
    let mut rng = Rng::new(seed);
    let cfg = cfg(16);
    let mut b = bench(&cfg, "thresholds_zero_above_max_and_exact_means");
    let a_max = cfg.a_max();
    let (c, h, w) = (2, 35, 18);
    let order = shuffled(raster(c, h, w), &mut rng);
    let d = Drive::default();
    // T = 0: all sensitive, even an all-zero map.
    let zeros = FeatureMap::zeros(c, h, w);
    let out = check(&mut b, &zeros, 0, &order, d, &mut rng, "T = 0, zeros");
    assert!(out.mask.data.iter().all(|&s| s));
    // T above the maximum: all insensitive, even an all-maximum map.
    let full = FeatureMap::from_fn(c, h, w, |_, _, _| a_max);
    for t in [a_max + 1, 65535] {
        let out = check(&mut b, &full, t, &order, d, &mut rng, "T > max, full");
        assert!(out.mask.data.iter().all(|&s| !s));
    }
    let out = check(&mut b, &full, a_max, &order, d, &mut rng, "T = max, full");
    assert!(out.mask.data.iter().all(|&s| s));
    // Means exactly at T (sum == T * n) and one below, in every region kind.
    let t = rng.range(2, i64::from(a_max) - 1) as u32;
    let mut f = FeatureMap::from_fn(c, h, w, |_, _, _| t);
    let (rh, rw) = (h.div_ceil(16), w.div_ceil(16));
    let below: Vec<bool> = (0..c * rh * rw).map(|_| rng.chance(0.5)).collect();
    for ci in 0..c {
        for ry in 0..rh {
            for rx in 0..rw {
                // move one unit between two pixels (mean unchanged), and
                // take one away where the region must fall below T
                let (y, x) = (ry * 16, rx * 16);
                let last = ((h - 1).min(ry * 16 + 15), (w - 1).min(rx * 16 + 15));
                if last != (y, x) {
                    f.data[(ci * h + y) * w + x] += 1;
                    f.data[(ci * h + last.0) * w + last.1] -= 1;
                }
                if below[(ci * rh + ry) * rw + rx] {
                    f.data[(ci * h + last.0) * w + last.1] -= 1;
                }
            }
        }
    }
    let out = check(&mut b, &f, t, &order, d, &mut rng, "exact means");
    let want: Vec<bool> = below.iter().map(|&b| !b).collect();
    assert_eq!(
        out.mask.data, want,
        "mean exactly T is sensitive, below is not"
    );
}

#[test]
fn second_layer_after_start_has_no_stale_sums_and_cycles_follow_the_formula() {
    let seed = test_seed("second_layer_after_start_has_no_stale_sums");
    let mut rng = Rng::new(seed);
    let cfg = cfg(4);
    let mut b = bench(&cfg, "second_layer_after_start");
    // A large bright layer, then smaller and larger dark ones, then the first
    // again: each must match the golden mask of its own data alone.
    let shapes = [(4, 15, 14), (2, 6, 9), (5, 19, 10), (4, 15, 14)];
    for (k, &(c, h, w)) in shapes.iter().enumerate() {
        let f = if k == 0 {
            FeatureMap::from_fn(c, h, w, |_, _, _| cfg.a_max())
        } else {
            fmap(&mut rng, &cfg, c, h, w)
        };
        let t = if k == 0 {
            200
        } else {
            mixed_threshold(&mut rng, &cfg, &f)
        };
        let order = raster(c, h, w);
        let with_last = k % 2 == 1;
        let drive = Drive {
            bubble: 0.0,
            finish_with_last: with_last,
        };
        let out = check(
            &mut b,
            &f,
            t,
            &order,
            drive,
            &mut rng,
            &format!("layer {k}"),
        );
        let total = (c * h.div_ceil(4) * w.div_ceil(4)) as u64;
        assert_eq!(out.start_to_ready, total + 5, "layer {k}: SETUP 4 + CLEAR");
        assert_eq!(
            out.stream_cycles,
            (c * h * w) as u64,
            "layer {k}: 1 value/cycle"
        );
        assert_eq!(
            out.finish_to_done,
            total + 4 + u64::from(with_last),
            "layer {k}: drain + SWEEP"
        );
    }

    // `start` in the middle of a stream abandons it: the next layer is clean.
    let (c, h, w) = (3, 10, 10);
    let bright = FeatureMap::from_fn(c, h, w, |_, _, _| cfg.a_max());
    let m = &mut b.model;
    m.set_u64("channels", c as u64);
    m.set_u64("height", h as u64);
    m.set_u64("width", w as u64);
    m.set_u64("threshold", 1);
    m.set_bool("start", true);
    m.tick(1);
    m.set_bool("start", false);
    m.eval();
    let (mut sent, all) = (0, raster(c, h, w));
    while sent < 150 {
        let (ci, y, x) = all[sent];
        m.set_u64("in_channel", ci as u64);
        m.set_u64("in_y", y as u64);
        m.set_u64("in_x", x as u64);
        m.set_u64("in_value", bright.at(ci, y, x).into());
        m.set_bool("in_valid", true);
        m.eval();
        if m.get_bool("in_ready") {
            sent += 1;
        }
        m.tick(1);
    }
    // restart while values are in the pipeline
    let dark = fmap(&mut rng, &cfg, c, h, w);
    let t = mixed_threshold(&mut rng, &cfg, &dark);
    let order = shuffled(raster(c, h, w), &mut rng);
    check(
        &mut b,
        &dark,
        t,
        &order,
        Drive::default(),
        &mut rng,
        "after abort",
    );
}

#[test]
fn values_outside_the_layer_are_dropped_and_oversize_layers_are_flagged() {
    let seed = test_seed("values_outside_the_layer_are_dropped");
    let mut rng = Rng::new(seed);
    let cfg = cfg(1);
    let mut b = bench(&cfg, "values_outside_the_layer");
    let (c, h, w) = (2, 5, 6);
    let f = fmap(&mut rng, &cfg, c, h, w);
    let t = mixed_threshold(&mut rng, &cfg, &f);
    let mut values: Vec<(Pos, u32)> = raster(c, h, w)
        .into_iter()
        .map(|(ci, y, x)| ((ci, y, x), f.at(ci, y, x)))
        .collect();
    for p in [
        (c, 0, 0),
        (0, h, 0),
        (0, 0, w),
        (1, h + 3, w + 9),
        (65535, 2, 2),
    ] {
        values.push((p, cfg.a_max()));
    }
    let order: Vec<(Pos, u32)> = shuffled((0..values.len()).map(|i| (i, 0, 0)).collect(), &mut rng)
        .into_iter()
        .map(|(i, _, _)| values[i])
        .collect();
    let out = b.run((c, h, w), t, &order, Drive::default(), &mut rng);
    assert!(!out.oversize);
    assert_eq!(
        out.mask,
        predict_mask(&f, 1, t),
        "out-of-layer values must be dropped"
    );

    // Oversize layers are flagged and done without a sweep: 3 * 16 * 11 =
    // 528 regions; 3 * 11 * 11 = 363 regions, but 3 * 11 rows of pitch 16
    // = 528 mask entries; W = 17 > max_width (one region).
    let some: Vec<(Pos, u32)> = (0..20).map(|i| ((0, i % 11, i % 11), 7)).collect();
    for (dims, what) in [
        ((3, 16, 11), "528 regions in 512 words"),
        ((3, 11, 11), "33 rows of pitch 16 in 512 words"),
        ((1, 1, 17), "W > max_width"),
    ] {
        assert!(!fits(&cfg, dims.0, dims.1, dims.2), "{what}");
        let out = b.run(dims, 0, &some, Drive::default(), &mut rng);
        assert!(out.oversize, "{what}");
        assert_eq!(out.finish_to_done, 2, "no sweep when oversize: {what}");
        assert_eq!(b.mask_writes, 0, "no mask write when oversize: {what}");
    }
    // Exactly the limits fit: 2 * 16 rows of pitch 16, W = max_width.
    let out = b.run((2, 16, 16), 0, &some, Drive::default(), &mut rng);
    assert!(!out.oversize, "512 mask entries in 512 words");
    // An empty layer is done at once too; a normal one afterwards is clean.
    let out = b.run((0, 4, 4), 0, &[], Drive::default(), &mut rng);
    assert!(!out.oversize);
    assert_eq!(out.mask, Mask::filled(0, 4, 4, false));
    check(
        &mut b,
        &f,
        t,
        &raster(c, h, w),
        Drive::default(),
        &mut rng,
        "after oversize",
    );
}

#[test]
fn random_layers_orders_thresholds_and_bubbles_for_every_region() {
    let seed = test_seed("random_layers_orders_thresholds_and_bubbles");
    let mut rng = Rng::new(seed);
    for region in [1u32, 2, 4, 8, 16] {
        let cfg = cfg(region);
        let r = region as usize;
        let mut b = bench(&cfg, "random_layers");
        for _ in 0..6 {
            // a random shape whose regions fit in the memory
            let (c, h, w) = loop {
                let (c, h, w) = (
                    rng.range(1, 4) as usize,
                    rng.range(1, 40) as usize,
                    rng.range(1, 40) as usize,
                );
                if fits(&cfg, c, h, w) {
                    break (c, h, w);
                }
            };
            let f = fmap(&mut rng, &cfg, c, h, w);
            let t = match rng.range(0, 5) {
                0 => 0,
                1 => rng.range(i64::from(cfg.a_max()) + 1, 65535) as u32,
                _ => rng.range(0, cfg.a_max().into()) as u32,
            };
            let mut all = orders(c, h, w, r, &mut rng);
            let (name, order) = all.swap_remove(rng.range(0, all.len() as i64 - 1) as usize);
            let drive = Drive {
                bubble: rng.pick(&[0.0, 0.1, 0.5]),
                finish_with_last: rng.chance(0.5),
            };
            check(&mut b, &f, t, &order, drive, &mut rng, name);
        }
    }
}

/// The RAM leaf alone, against a plain model: read-first, one cycle of
/// latency, data bits above the width dropped, out-of-range writes ignored
/// and reads zero, `rd_data` held without `rd_en`.
#[test]
fn word_ram_matches_a_plain_model() {
    use drq_hdl::ram::ram_design;
    use drq_verif::sim::Model;
    let seed = test_seed("word_ram_matches_a_plain_model");
    let mut rng = Rng::new(seed);
    for (depth, width) in [(13usize, 7u32), (64, 64)] {
        let mut m = Model::new(&ram_design(depth, width), &SimOptions::default()).unwrap();
        let data_mask = if width == 64 {
            u64::MAX
        } else {
            (1 << width) - 1
        };
        let mut mem = vec![0u64; depth];
        // Verilator starts the memory at zero; write it anyway so the model
        // does not depend on that.
        m.set_bool("rd_en", false);
        for (a, v) in mem.iter().enumerate() {
            m.set_bool("wr_en", true);
            m.set_u64("wr_addr", a as u64);
            m.set_u64("wr_data", *v);
            m.tick(1);
        }
        let mut rd_data = None;
        let (mut hits, mut same_edge) = (0, 0);
        for _ in 0..4000 {
            let hot = rng.range(0, depth as i64 + 2) as u64; // sometimes out of range
            let wr = rng.chance(0.6);
            // A high bit of the shell's 16-bit address set: out of range
            // once above the index, however low the rest.
            let high_bit = 1u64 << rng.range(4, 15);
            let wa = match rng.range(0, 2) {
                0 => hot,
                1 => rng.range(0, 65535) as u64,
                _ => hot | high_bit,
            };
            let wd = rng.next_u64();
            let rd = rng.chance(0.8);
            let ra = match rng.range(0, 2) {
                0 => hot,
                1 => rng.range(0, depth as i64 + 3) as u64,
                _ => hot | high_bit,
            };
            m.set_bool("wr_en", wr);
            m.set_u64("wr_addr", wa);
            m.set_u64("wr_data", wd);
            m.set_bool("rd_en", rd);
            m.set_u64("rd_addr", ra);
            m.tick(1);
            m.eval();
            if rd {
                rd_data = Some(mem.get(ra as usize).copied().unwrap_or(0));
                hits += u32::from(ra < depth as u64);
                same_edge += u32::from(wr && wa == ra);
            }
            if wr && (wa as usize) < depth {
                mem[wa as usize] = wd & data_mask;
            }
            if let Some(want) = rd_data {
                assert_eq!(
                    m.get_u64("rd_data"),
                    want,
                    "{depth} x {width} ra {ra:#x} wa {wa:#x} wr {wr}"
                );
            }
        }
        assert!(hits > 1000 && same_edge > 100, "{hits} {same_edge}");
    }
}

#[test]
fn default_configuration_with_a_larger_layer() {
    let seed = test_seed("default_configuration_with_a_larger_layer");
    let mut rng = Rng::new(seed);
    let cfg = AccelConfig::default();
    let mut b = bench(&cfg, "default_configuration");
    // 16 x 30 x 27 at R = 4: 16 * 8 * 7 = 896 regions, 12960 values.
    let (c, h, w) = (16, 30, 27);
    let f = fmap(&mut rng, &cfg, c, h, w);
    let t = mixed_threshold(&mut rng, &cfg, &f);
    let order = shuffled(raster(c, h, w), &mut rng);
    let drive = Drive {
        bubble: 0.1,
        finish_with_last: true,
    };
    check(&mut b, &f, t, &order, drive, &mut rng, "random order");
    let order = channel_interleaved(c, h, w);
    let out = check(
        &mut b,
        &f,
        t,
        &order,
        Drive::default(),
        &mut rng,
        "interleaved",
    );
    assert_eq!(out.stream_cycles, (c * h * w) as u64);
}

#[test]
fn finish_during_setup_or_clear_is_remembered() {
    let cfg = cfg(2);
    let mut b = bench(&cfg, "finish_during_setup_or_clear");
    let (c, h, w) = (2, 7, 5); // 2 * 4 * 3 = 24 regions
    let n_r = 24;
    for (finish_at, t) in [(2u64, 0u32), (9, 1)] {
        let m = &mut b.model;
        m.set_u64("channels", c);
        m.set_u64("height", h);
        m.set_u64("width", w);
        m.set_u64("threshold", t.into());
        m.set_bool("in_valid", false);
        m.set_bool("start", true);
        b.step();
        b.model.set_bool("start", false);
        // `finish_at` cycles after `start`: in SETUP (2) or CLEAR (9)
        let mut cycle = 1;
        let mut done_at = None;
        while cycle < 200 {
            b.model.set_bool("finish", cycle == finish_at);
            b.model.eval();
            if b.model.get_bool("done") && done_at.is_none() {
                done_at = Some(cycle);
            }
            b.step();
            cycle += 1;
        }
        b.model.set_bool("finish", false);
        // ACCUM from 5 + N_r, drained at once, SWEEP N_r, done 2 later
        assert_eq!(done_at, Some(5 + n_r + n_r + 2), "finish at {finish_at}");
        // empty sums: 0 >= T * n only for T = 0
        let mask = b.read_mask(c as usize, 4, 3);
        assert!(mask.data.iter().all(|&s| s == (t == 0)), "T = {t}");
    }
}

/// The mask is in the region controller's pitched layout: region (c, ry, rx)
/// at (c * ceil(H/R) + ry) * P_M + rx, here for `max_width` 20 (not a power
/// of two: P_M = 32 at R = 1, 8 at R = 4) and layers narrower than that. The
/// addresses are computed here from the expected pitch, not by the bench.
/// Entries with rx >= ceil(W/R) are not part of a layer and stay untouched.
#[test]
fn mask_is_read_at_the_pitched_address_of_every_region() {
    let seed = test_seed("mask_is_read_at_the_pitched_address_of_every_region");
    let mut rng = Rng::new(seed);
    for (region, pitch, narrow) in [(1u32, 32usize, (2, 7, 13)), (4, 8, (4, 10, 17))] {
        let cfg = AccelConfig {
            region,
            mask_words: 512,
            max_width: 20,
            ..AccelConfig::replicated()
        };
        assert_eq!(cfg.mask_row_pitch() as usize, pitch);
        let r = region as usize;
        let mut b = bench(&cfg, "mask_is_read_at_the_pitched_address");
        // A full-width bright layer first (all sensitive, rx up to 20 / R).
        assert!(fits(&cfg, narrow.0, narrow.1, 20));
        let (c, h) = (narrow.0, narrow.1);
        let wide = FeatureMap::from_fn(c, h, 20, |_, _, _| cfg.a_max());
        check(
            &mut b,
            &wide,
            1,
            &raster(c, h, 20),
            Drive::default(),
            &mut rng,
            "full width",
        );
        // Then a narrower one with a mixed mask.
        let (c, h, w) = narrow;
        assert!(w < 20 && fits(&cfg, c, h, w));
        let f = fmap(&mut rng, &cfg, c, h, w);
        let t = mixed_threshold(&mut rng, &cfg, &f);
        let order = shuffled(raster(c, h, w), &mut rng);
        check(&mut b, &f, t, &order, Drive::default(), &mut rng, "narrow");
        let want = predict_mask(&f, r, t);
        let (rh, rw, rw_wide) = (h.div_ceil(r), w.div_ceil(r), 20usize.div_ceil(r));
        for ci in 0..c {
            for ry in 0..rh {
                for rx in 0..rw_wide {
                    let addr = (ci * rh + ry) * pitch + rx;
                    let bit = b.read_mask_bit(addr);
                    if rx < rw {
                        assert_eq!(
                            bit,
                            want.data[(ci * rh + ry) * rw + rx],
                            "R={region} region ({ci}, {ry}, {rx}) at address {addr}"
                        );
                    } else {
                        assert!(bit, "R={region} ({ci}, {ry}, {rx}) beyond W overwritten");
                    }
                }
            }
        }
    }
}

// ---- The streaming predictor (`stream_predictor`, docs/predictor.md) ----

/// `cfg(region)` with the streaming predictor.
fn streaming(region: u32) -> AccelConfig {
    AccelConfig {
        stream_predictor: true,
        ..cfg(region)
    }
}

fn stream_bench(cfg: &AccelConfig, test: &str) -> PredictorBench {
    let mut b = PredictorBench::new(
        cfg,
        &SimOptions::from_env(test, &format!("r{}-stream", cfg.region)),
    )
    .unwrap();
    // After reset the sums are cleared, one entry per cycle, busy meanwhile.
    let cycles = b.wait_clean();
    assert!(
        (u64::from(cfg.mask_words)..=u64::from(cfg.mask_words) + 2).contains(&cycles),
        "clean {cycles} cycles after reset, mask_words = {}",
        cfg.mask_words
    );
    b
}

/// Counting pixels makes the order irrelevant: every order of `orders`,
/// edge regions of every size, bubbles, and a region's entry reused by the
/// next layer without a CLEAR.
#[test]
fn streaming_every_order_and_region_size_gives_the_golden_mask() {
    let seed = test_seed("streaming_every_order_and_region_size");
    let mut rng = Rng::new(seed);
    // (region, C, H, W): bottom and right regions of every size.
    for (region, shapes) in [
        (2u32, &[(3usize, 9usize, 11usize), (1, 1, 1)][..]),
        (4, &[(3, 11, 13), (2, 16, 16)][..]),
        (16, &[(3, 37, 21), (2, 17, 16)][..]),
    ] {
        let cfg = streaming(region);
        let mut b = stream_bench(&cfg, "streaming_every_order");
        for &(c, h, w) in shapes {
            assert!(fits(&cfg, c, h, w));
            let f = fmap(&mut rng, &cfg, c, h, w);
            let regions = c * h.div_ceil(region as usize) * w.div_ceil(region as usize);
            let t = if regions > 1 {
                mixed_threshold(&mut rng, &cfg, &f)
            } else {
                rng.range(0, cfg.a_max().into()) as u32
            };
            for (name, order) in orders(c, h, w, region as usize, &mut rng) {
                let drive = Drive {
                    bubble: rng.pick(&[0.0, 0.3]),
                    finish_with_last: rng.chance(0.5),
                };
                let what = format!("R={region} {name}");
                let out = check(&mut b, &f, t, &order, drive, &mut rng, &what);
                // No CLEAR before and no SWEEP after (docs/predictor.md).
                assert_eq!(out.start_to_ready, 5, "{what}: SETUP 4");
                assert_eq!(
                    out.finish_to_done,
                    3 + u64::from(drive.finish_with_last),
                    "{what}: the drain alone"
                );
                assert_eq!(b.mask_writes, regions, "{what}: one write per region");
            }
        }
    }
}

/// Values that sum several pixels of one region (an output lane group,
/// split anywhere as at a tile boundary) count as that many pixels.
#[test]
fn streaming_lane_groups_count_their_pixels() {
    let seed = test_seed("streaming_lane_groups_count_their_pixels");
    let mut rng = Rng::new(seed);
    // Four lanes: `in_value` holds a sum of up to four codes.
    let cfg = AccelConfig {
        out_lanes: 4,
        ..streaming(4)
    };
    let mut b = stream_bench(&cfg, "streaming_lane_groups");
    for lanes in [2usize, 4] {
        let (c, h, w) = (2, 10, 15);
        let f = fmap(&mut rng, &cfg, c, h, w);
        let t = mixed_threshold(&mut rng, &cfg, &f);
        // Pixels sharing x div L form a group; each group leaves in one to
        // three pieces, pieces in a random order.
        let mut pieces: Vec<(Pos, u32, u32)> = Vec::new();
        for (ci, y, x0) in raster(c, h, w.div_ceil(lanes)) {
            let xs: Vec<usize> = (x0 * lanes..w.min(x0 * lanes + lanes)).collect();
            let mut rest = &xs[..];
            while !rest.is_empty() {
                let k = rng.range(1, rest.len() as i64) as usize;
                let (piece, tail) = rest.split_at(k);
                let sum = piece.iter().map(|&x| f.at(ci, y, x)).sum();
                pieces.push(((ci, y, piece[k - 1]), sum, k as u32));
                rest = tail;
            }
        }
        let order = shuffled((0..pieces.len()).map(|i| (i, 0, 0)).collect(), &mut rng);
        let values: Vec<(Pos, u32, u32)> = order.iter().map(|&(i, _, _)| pieces[i]).collect();
        let out = b.run_groups((c, h, w), t, &values, Drive::default(), &mut rng);
        assert_eq!(
            out.mask,
            predict_mask(&f, 4, t),
            "L = {lanes}: {} pieces",
            values.len()
        );
    }
}

/// A run that leaves regions incomplete (values missing, or cut short by a
/// new `start`) leaves sums behind: the predictor clears its memory before
/// it takes the next layer's values, so that layer is still exact. Values
/// outside the layer do not count; oversize and empty layers write nothing.
#[test]
fn streaming_incomplete_and_cut_runs_are_cleared_before_the_next() {
    let seed = test_seed("streaming_incomplete_and_cut_runs");
    let mut rng = Rng::new(seed);
    let cfg = streaming(2);
    let mut b = stream_bench(&cfg, "streaming_incomplete_runs");
    let (c, h, w) = (3, 9, 7);
    let bright = FeatureMap::from_fn(c, h, w, |_, _, _| cfg.a_max());
    let dark = fmap(&mut rng, &cfg, c, h, w);
    let t = mixed_threshold(&mut rng, &cfg, &dark);
    let mut all = raster(c, h, w);
    // Values missing: a third of the bright map, then `finish`.
    all.truncate(c * h * w / 3);
    let partial: Vec<(Pos, u32)> = all.iter().map(|&p| (p, cfg.a_max())).collect();
    let out = b.run((c, h, w), 1, &partial, Drive::default(), &mut rng);
    assert!(!out.oversize && out.finish_to_done == 3);
    let order = shuffled(raster(c, h, w), &mut rng);
    let out = check(
        &mut b,
        &dark,
        t,
        &order,
        Drive::default(),
        &mut rng,
        "after a partial run",
    );
    let words = u64::from(cfg.mask_words);
    assert!(
        (words..=words + 8).contains(&out.start_to_ready),
        "the clear ({}) before the values",
        out.start_to_ready
    );
    // Out-of-layer values (dropped, not counted) among the layer's own.
    let mut values: Vec<(Pos, u32)> = raster(c, h, w)
        .into_iter()
        .map(|p| (p, dark.at(p.0, p.1, p.2)))
        .collect();
    values.extend([((c, 0, 0), 9), ((0, h, 0), 9), ((0, 0, w), 9)]);
    let out = b.run((c, h, w), t, &values, Drive::default(), &mut rng);
    assert_eq!(out.mask, predict_mask(&dark, 2, t), "out-of-layer values");
    assert_eq!(
        out.start_to_ready, 5,
        "a complete run leaves the memory clean"
    );
    // Cut short: `start` while the bright layer streams.
    let m = &mut b.model;
    for (port, v) in [
        ("channels", c),
        ("height", h),
        ("width", w),
        ("threshold", 1),
    ] {
        m.set_u64(port, v as u64);
    }
    m.set_bool("start", true);
    b.step();
    b.model.set_bool("start", false);
    let mut sent = 0;
    while sent < 40 {
        let m = &mut b.model;
        let (ci, y, x) = raster(c, h, w)[sent];
        m.set_u64("in_channel", ci as u64);
        m.set_u64("in_y", y as u64);
        m.set_u64("in_x", x as u64);
        m.set_u64("in_value", bright.at(ci, y, x).into());
        m.set_u64("in_pixels", 1);
        m.set_bool("in_valid", true);
        m.eval();
        sent += usize::from(m.get_bool("in_ready"));
        b.step();
    }
    b.model.set_bool("in_valid", false);
    let out = check(
        &mut b,
        &dark,
        t,
        &order,
        Drive::default(),
        &mut rng,
        "after a cut run",
    );
    assert!(out.start_to_ready >= words, "cleared after the cut run");
    // Oversize (33 rows of pitch 16 > 512 words) and empty layers: no write.
    let some: Vec<(Pos, u32)> = (0..20).map(|i| ((0, i % 11, i % 11), 7)).collect();
    let out = b.run((3, 22, 11), 0, &some, Drive::default(), &mut rng);
    assert!(out.oversize && b.mask_writes == 0 && out.finish_to_done == 2);
    let out = b.run((0, 4, 4), 0, &[], Drive::default(), &mut rng);
    assert!(!out.oversize && b.mask_writes == 0);
    let out = check(
        &mut b,
        &dark,
        t,
        &order,
        Drive::default(),
        &mut rng,
        "after oversize",
    );
    assert_eq!(
        out.start_to_ready, 5,
        "oversize and empty runs leave it clean"
    );
}
