//! The whole accelerator `drq_top` in Verilator, driven over AXI4-Lite by
//! the host driver (`drq_verif::driver`), against the golden model: outputs,
//! accumulators, masks and every counter, cycles_total included.

use drq_hdl::AccelConfig;
use drq_verif::axil_bfm::Timing;
use drq_verif::driver::Accelerator;
use drq_verif::layer::RawLayer;
use drq_verif::rng::{test_seed, Rng};
use drq_verif::sim::SimOptions;
use drq_verif::testdata::random_layer_data;
use drq_verif::{run_layer, Layer};

fn small() -> AccelConfig {
    AccelConfig {
        rows: 4,
        cols: 4,
        region: 2,
        max_width: 16,
        act_words: 2048,
        weight_words: 1024,
        mask_words: 512,
        bias_words: 64,
        ..AccelConfig::default()
    }
}

#[test]
fn smoke_one_layer() {
    let cfg = small();
    let seed = test_seed("smoke_one_layer");
    let mut rng = Rng::new(seed);
    let mut acc = Accelerator::new(&cfg, &SimOptions::from_env("top_cosim", "smoke"), seed, Timing::FAST).unwrap();
    for (i, raw) in [
        RawLayer { threshold: 100, next_threshold: Some(90), requant_shift: 8, ..RawLayer::conv(2, 5, (6, 7), 3, 1, 1, (2, 2)) },
        RawLayer { threshold: 0, requant_shift: 8, ..RawLayer::conv(1, 1, (2, 2), 1, 1, 0, (1, 1)) },
        RawLayer { threshold: 300, next_threshold: Some(0), requant_shift: 6, ..RawLayer::conv(1, 4, (4, 4), 1, 1, 0, (2, 2)) },
    ]
    .iter()
    .enumerate()
    {
        let layer = Layer::from_raw(raw).unwrap();
        let data = random_layer_data(&mut rng, &cfg, &layer, 1000, None);
        let gold = run_layer(&cfg, &layer, &data).unwrap();
        let hw = acc.run_layer(&layer, &data).unwrap();
        eprintln!("layer {i}: hw {:?} gold {:?} status {:#x}", hw.counters, gold.counters, hw.status);
        assert_eq!(hw.mask_in, gold.mask_in, "mask_in");
        assert_eq!(hw.acc, gold.acc, "acc");
        assert_eq!(hw.y, gold.y, "y");
        assert_eq!(hw.mask_out, gold.mask_out, "mask_out");
        assert_eq!(hw.counters, gold.counters, "counters");
    }
}
