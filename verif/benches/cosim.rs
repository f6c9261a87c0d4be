//! Co-simulation speed of the default 16x16 array: time to generate its
//! Verilog, time to verilate and compile it (with a fresh cache), and array
//! cycles per second while replaying a layer and free-running; then the
//! same build time and free-running speed of the default 16x16 `drq_top`
//! (`COSIM_TOP=0` skips it). `make bench-cosim`; `DRQ_VERILATOR_FLAGS`
//! adds Verilator options (to measure them).

use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::replay::Replay;
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Weights};
use drq_golden::{Layer, LayerData};
use drq_hdl::array::array_design;
use drq_verif::array_tb::{ArrayBench, Traffic};
use drq_verif::sim::{build, SimOptions};
use std::time::Instant;

fn main() {
    let cfg = AccelConfig::default();
    let t = Instant::now();
    let design = array_design(&cfg);
    let gen_s = t.elapsed().as_secs_f64();
    println!(
        "{cfg}: generated {} lines of Verilog in {:.2} s",
        design.verilog.lines().count(),
        gen_s
    );

    // A fresh cache so the build is really timed.
    let cache = std::env::temp_dir().join(format!("drq-bench-cache-{}", std::process::id()));
    std::env::set_var("DRQ_SIM_CACHE", &cache);
    let t = Instant::now();
    build(&design, false).expect("verilate");
    println!(
        "verilated and compiled in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let layer_raw = RawLayer {
        c_in: 16,
        c_out: 16,
        h: 16,
        w: 16,
        kernel: 3,
        stride: 1,
        padding: 1,
        threshold: 100,
        low_shift: 4,
        w_low_shift: 4,
        requant_mult: 1,
        requant_shift: 8,
        tile_h: 4,
        tile_w: 4,
        next_threshold: None,
    };
    let layer = Layer::from_raw(&layer_raw).unwrap();
    let mut rng = Rng::new(3);
    let data = random_data(&mut rng, 16, 16);
    let replay = Replay::new(&cfg, &layer, &data).unwrap();
    let mut bench = ArrayBench::new(&cfg, &SimOptions::default()).unwrap();
    let t = Instant::now();
    let mut cycles = 0;
    for tile in replay.tiles() {
        let out = bench.run_tile(&tile, replay.low_shift(), Traffic::default(), &mut rng);
        assert_eq!(out.acc, tile.expected);
        cycles += out.cycles;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "replayed {} tiles, {} array cycles in {:.2} s: {:.0} k cycles/s (testbench included)",
        replay.run.counters.tiles,
        cycles,
        s,
        cycles as f64 / s / 1e3
    );
    let t = Instant::now();
    bench.model.tick(200_000);
    let s = t.elapsed().as_secs_f64();
    println!("free-running model: {:.0} k cycles/s", 200_000.0 / s / 1e3);
    drop(bench);
    if std::env::var("COSIM_TOP").map(|v| v != "0").unwrap_or(true) {
        let top = drq_hdl::top::top_design(&cfg);
        println!("drq_top: {} lines of Verilog", top.verilog.lines().count());
        let t = Instant::now();
        build(&top, false).expect("verilate drq_top");
        println!(
            "drq_top verilated and compiled in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let mut acc = drq_verif::driver::Accelerator::new(
            &cfg,
            &SimOptions::default(),
            1,
            drq_verif::axil_bfm::Timing::FAST,
        )
        .unwrap();
        // A layer that fits the default buffers (C * H * 64 <= 4096).
        let small = Layer::from_raw(&RawLayer {
            c_in: 8,
            c_out: 8,
            h: 8,
            w: 8,
            ..layer_raw
        })
        .unwrap();
        let mut rng = Rng::new(4);
        let data = random_data(&mut rng, 8, 8);
        let gold = drq_golden::run_layer(&cfg, &small, &data).unwrap();
        let c0 = acc.bus.model.cycles();
        let t = Instant::now();
        let hw = acc.run_layer(&small, &data).unwrap();
        let s = t.elapsed().as_secs_f64();
        let cycles = acc.bus.model.cycles() - c0;
        assert_eq!(hw.y, gold.y, "drq_top output");
        println!(
            "drq_top layer through the host driver (loads, run, read-back): {} cycles in {:.2} s: {:.0} k cycles/s",
            cycles,
            s,
            cycles as f64 / s / 1e3
        );
        let t = Instant::now();
        acc.bus.model.tick(200_000);
        let s = t.elapsed().as_secs_f64();
        println!(
            "drq_top free-running (idle): {:.0} k cycles/s",
            200_000.0 / s / 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
}

/// Random codes and weights of a `c` -> `c` channel 3 x 3 layer on a
/// `side` x `side` map, zero bias, no mask.
fn random_data(rng: &mut Rng, c: usize, side: usize) -> LayerData {
    LayerData {
        input: FeatureMap::from_fn(c, side, side, |_, _, _| rng.range(0, 255) as u32),
        weights: Weights::from_fn(c, c, 3, |_, _, _, _| rng.range(-128, 127) as i32),
        bias: vec![0; c],
        mask: None,
    }
}
