//! Co-simulation speed of the default 16x16 array: time to generate its
//! Verilog, time to verilate and compile it (with a fresh cache), and array
//! cycles per second while replaying a layer. `make bench-cosim`.

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

    let layer = Layer::from_raw(&RawLayer {
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
    })
    .unwrap();
    let mut rng = Rng::new(3);
    let data = LayerData {
        input: FeatureMap::from_fn(16, 16, 16, |_, _, _| rng.range(0, 255) as u32),
        weights: Weights::from_fn(16, 16, 3, |_, _, _, _| rng.range(-128, 127) as i32),
        bias: vec![0; 16],
        mask: None,
    };
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
    let _ = std::fs::remove_dir_all(&cache);
}
