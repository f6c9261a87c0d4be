//! The whole accelerator `drq_top` in Verilator, driven over AXI4-Lite by
//! the host driver (`drq_verif::driver`, protocol checked every cycle),
//! against the golden model: outputs, accumulators, input and output masks
//! and every counter, `cycles_total` included (`docs/top.md`).

use drq_arch::config::RawAccelConfig;
use drq_arch::regs::{reg, Buffer};
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::network::{random_network, run_network};
use drq_golden::predictor::predict_mask;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::testdata::random_layer_data;
use drq_golden::{run_layer, Layer};
use drq_verif::axil_bfm::{Resp, Timing};
use drq_verif::driver::{
    check_fits, check_fits_for, default_out_reader, layer_registers, Accelerator,
};
use drq_verif::regress::{cfg_4x4, named_config, random_case, Sensitivity};
use drq_verif::scoreboard::assert_same;
use drq_verif::sim::SimOptions;

/// The small configurations shared with `drq regress` (`quick_configs`).
fn named(name: &str) -> AccelConfig {
    named_config(name).unwrap_or_else(|| panic!("no configuration {name}"))
}

/// The test's random numbers and accelerator, both seeded from its name.
fn start(cfg: &AccelConfig, test: &str, timing: Timing) -> (Rng, Accelerator) {
    let seed = test_seed(test);
    let opts = SimOptions::from_env("top_cosim", test);
    (
        Rng::new(seed),
        Accelerator::new(cfg, &opts, seed, timing).unwrap(),
    )
}

fn random_layers(cfg: &AccelConfig, test: &str, layers: usize, timing: Timing) {
    let (mut rng, mut acc) = start(cfg, test, timing);
    let kinds = [
        Sensitivity::Some,
        Sensitivity::All,
        Sensitivity::None,
        Sensitivity::HostMask,
    ];
    for i in 0..layers {
        let (layer, data) = random_case(&mut rng, cfg, kinds[i % kinds.len()]);
        let gold = run_layer(cfg, &layer, &data).unwrap();
        let hw = acc.run_layer(&layer, &data).unwrap();
        assert_same(&hw, &gold, &format!("layer {i} {layer:?}"));
    }
    acc.bus.assert_idle();
}

#[test]
fn random_layers_4x4_region_2_overlap_streaming_predictor() {
    random_layers(
        &named("4x4-r2-ov-sp"),
        "random_layers_4x4_region_2_overlap_streaming_predictor",
        12,
        Timing::FAST,
    );
}

#[test]
fn random_layers_3x5_region_4_six_tokens_acc48_with_bus_backpressure() {
    random_layers(
        &named("3x5-r4-a6w6-acc48"),
        "random_layers_3x5_region_4_six_tokens_acc48_with_bus_backpressure",
        6,
        Timing::RANDOM,
    );
}

#[test]
fn random_layers_5x2_region_8_row_queue_3_lanes_4() {
    random_layers(
        &named("5x2-r8-out3-l4"),
        "random_layers_5x2_region_8_row_queue_3_lanes_4",
        8,
        Timing::FAST,
    );
}

#[test]
fn random_layers_8x2_region_8_row_queue_3_lanes_4_row_taps_streaming_predictor() {
    // Rows read out row 0 first; lane groups of up to four pixels into
    // the streaming predictor.
    random_layers(
        &named("8x2-r8-out3-l4-tp"),
        "random_layers_8x2_region_8_row_queue_3_lanes_4_row_taps_streaming_predictor",
        8,
        Timing::FAST,
    );
}

#[test]
fn random_layers_4x4_region_1_lanes_4_predictor_banks_row_taps() {
    // Groups of four pixels span four regions of one pixel: four
    // predictor banks, four mask bits a mask word.
    let cfg = named("4x4-r1-out2-l4-tp-sp");
    assert_eq!(cfg.predictor_banks(), 4);
    random_layers(
        &cfg,
        "random_layers_4x4_region_1_lanes_4_predictor_banks_row_taps",
        12,
        Timing::FAST,
    );
}

#[test]
fn random_layers_4x4_banked_activations() {
    // Each map stored once over four banks, laid out for its reader; the
    // input mask predicted through the banked scan (the `Some` cases).
    random_layers(
        &named("4x4-r2-bk"),
        "random_layers_4x4_banked_activations",
        12,
        Timing::FAST,
    );
}

#[test]
fn random_layers_3x5_banked_activations_streaming_predictor_overlap() {
    random_layers(
        &named("3x5-r4-ov-sp-bk"),
        "random_layers_3x5_banked_activations_streaming_predictor_overlap",
        10,
        Timing::RANDOM,
    );
}

#[test]
fn random_layers_4x4_cyclic_activations() {
    // Each map stored once over four banks in the cyclic layout, a
    // step's rows one rotation of the banks; the input mask predicted
    // through the cyclic scan.
    random_layers(
        &named("4x4-r2-cy"),
        "random_layers_4x4_cyclic_activations",
        12,
        Timing::FAST,
    );
}

#[test]
fn random_layers_2x5_cyclic_activations_streaming_predictor_overlap() {
    random_layers(
        &named("2x5-r2-ov-sp-cy"),
        "random_layers_2x5_cyclic_activations_streaming_predictor_overlap",
        10,
        Timing::RANDOM,
    );
}

#[test]
fn random_layers_5x3_read_out_chain() {
    // The accumulators shift down the columns (no row taps), row ROWS-1
    // first, into a two-row queue; the other small configurations read
    // the PEs' rows through the taps (the default).
    let cfg = named("5x3-r2-out2-chain");
    assert!(!cfg.row_taps && !cfg.overlap);
    assert!(cfg_4x4().row_taps);
    random_layers(&cfg, "random_layers_5x3_read_out_chain", 10, Timing::FAST);
}

#[test]
fn random_layers_4x4_burst_read_out() {
    // Tiles of up to two lane groups start their read-out when the stage
    // has room for both; larger ones are read out with backpressure.
    random_layers(
        &named("4x4-r2-out2-l2-tp-bu"),
        "random_layers_4x4_burst_read_out",
        12,
        Timing::FAST,
    );
}

/// Packed rows (`packed_rows`): maps at their own width, addresses by
/// adders in the controller, the input scan and the write-back.
#[test]
fn random_layers_4x4_packed_rows() {
    random_layers(
        &named("4x4-r2-pk"),
        "random_layers_4x4_packed_rows",
        12,
        Timing::FAST,
    );
}

/// Packed rows at a pitch of whole lane pairs, with the pipelined read-out.
#[test]
fn random_layers_4x4_packed_rows_lanes_2_burst_read_out() {
    random_layers(
        &named("4x4-r2-out2-l2-tp-bu-pk"),
        "random_layers_4x4_packed_rows_lanes_2_burst_read_out",
        12,
        Timing::FAST,
    );
}

/// One RAM copy per read port (`ram_read_ports` = 1, the layout before the
/// default paired the ports of each copy) still runs like the golden model.
#[test]
fn random_layers_4x4_a_ram_copy_per_read() {
    let cfg = AccelConfig {
        ram_read_ports: 1,
        ..AccelConfig::small()
    };
    random_layers(
        &cfg,
        "random_layers_4x4_a_ram_copy_per_read",
        8,
        Timing::FAST,
    );
}

#[test]
fn random_layers_1x1_acc16() {
    random_layers(
        &named("1x1-r2-acc16"),
        "random_layers_1x1_acc16",
        8,
        Timing::FAST,
    );
}

/// The configuration the iCEBreaker board ships (`constraints/icebreaker/
/// accel.toml`: 1x1, ACC 24, buffers of a few hundred words) runs layers
/// like the golden model: the one configuration users put on that FPGA.
#[test]
fn random_layers_on_the_icebreaker_board_configuration() {
    let path = drq_verif::sim::workspace_root().join("constraints/icebreaker/accel.toml");
    let cfg = AccelConfig::load(Some(&path), &RawAccelConfig::default()).unwrap();
    random_layers(
        &cfg,
        "random_layers_on_the_icebreaker_board_configuration",
        8,
        Timing::FAST,
    );
}

#[test]
fn random_layers_2x3_region_1_row_queue_5_with_heavy_bus_backpressure() {
    random_layers(
        &named("2x3-r1-out5"),
        "random_layers_2x3_region_1_row_queue_5_with_heavy_bus_backpressure",
        4,
        Timing::BACKPRESSURE,
    );
}

#[test]
fn random_layers_int8_baseline_region_16() {
    random_layers(
        &named("int8-4x2-r16"),
        "random_layers_int8_baseline_region_16",
        6,
        Timing::FAST,
    );
}

#[test]
fn three_layer_chain_stays_on_chip() {
    three_layer_chain(&cfg_4x4(), "three_layer_chain_stays_on_chip");
}

/// With packed rows each layer writes its output at the pitch the next
/// one reads it with (Wo rounded up to the lanes).
#[test]
fn three_layer_chain_stays_on_chip_with_packed_rows() {
    three_layer_chain(
        &named("4x4-r2-out2-l2-tp-bu-pk"),
        "three_layer_chain_stays_on_chip_with_packed_rows",
    );
}

fn three_layer_chain(cfg: &AccelConfig, test: &str) {
    let cfg = *cfg;
    let (mut rng, mut acc) = start(&cfg, test, Timing::RANDOM);
    for round in 0..2 {
        let (net, input) = loop {
            let (net, input) = random_network(&cfg, &mut rng, 3);
            // Each layer's output laid out (banked) for the next layer.
            let fits = net.layers.iter().enumerate().all(|(i, l)| {
                let reader = net
                    .layers
                    .get(i + 1)
                    .map_or_else(|| default_out_reader(&l.layer), |n| n.layer.reader());
                check_fits_for(&cfg, &l.layer, reader).is_ok()
            });
            if fits {
                break (net, input);
            }
        };
        let gold = run_network(&cfg, &net, &input, None).unwrap();
        let first = &net.layers[0];
        let data0 = net.layer_data(0, input.clone(), None);
        acc.set_next_reader(net.layers[1].layer.reader());
        let mut hw = vec![acc.run_layer(&first.layer, &data0).unwrap()];
        for (i, l) in net.layers.iter().enumerate().skip(1) {
            if let Some(n) = net.layers.get(i + 1) {
                acc.set_next_reader(n.layer.reader());
            }
            hw.push(acc.run_next_layer(&l.layer, &l.weights, &l.bias).unwrap());
        }
        for (i, (h, g)) in hw.iter().zip(&gold).enumerate() {
            assert_same(h, g, &format!("round {round}, layer {i}"));
        }
        // Layers 1 and 2 read their input and mask from the buffers the
        // previous layer wrote: the mask they used is the predicted one.
        assert_eq!(hw[1].mask_in, gold[0].mask_out.clone().unwrap());
    }
}

#[test]
fn three_layer_chain_stays_on_chip_in_banked_buffers() {
    // Each layer's output written in the layout of the next layer's
    // stride and tile, which reads it in place.
    three_layer_chain(
        &named("4x4-r2-bk"),
        "three_layer_chain_stays_on_chip_in_banked_buffers",
    );
}

#[test]
fn three_layer_chain_stays_on_chip_in_cyclic_buffers() {
    three_layer_chain(
        &named("4x4-r2-cy"),
        "three_layer_chain_stays_on_chip_in_cyclic_buffers",
    );
}

#[test]
fn reset_in_the_middle_of_a_layer_leaves_it_idle_and_usable() {
    let cfg = cfg_4x4();
    let test = "reset_in_the_middle_of_a_layer_leaves_it_idle_and_usable";
    let (mut rng, mut acc) = start(&cfg, test, Timing::FAST);
    for cut in [3u64, 40, 400] {
        let (layer, data) = random_case(&mut rng, &cfg, Sensitivity::Some);
        let gold = run_layer(&cfg, &layer, &data).unwrap();
        // Load and start, then reset `cut` cycles into the run.
        acc.load_layer(&layer, &data);
        acc.write_reg(reg::MODE, reg::MODE_PREDICT_IN | reg::MODE_PREDICT_OUT);
        acc.write_reg(reg::CMD, reg::CMD_START);
        // Inside the run even for a small layer (the run is at least the
        // golden cycle count: it also has the output-mask phases).
        acc.bus.idle(cut.min(gold.counters.cycles_total / 2));
        assert_ne!(
            acc.read_reg(reg::STATUS) & reg::STATUS_BUSY,
            0,
            "busy before the reset"
        );
        acc.bus.reset(2);
        let status = acc.read_reg(reg::STATUS);
        assert_eq!(status, 0, "idle, not done, after reset: {status:#x}");
        assert!(!acc.bus.model.get_bool("irq"));
        // A complete layer afterwards.
        let hw = acc.run_layer(&layer, &data).unwrap();
        assert_same(&hw, &gold, &format!("after a reset at cycle {cut}"));
    }
}

/// The streaming predictor clears its sums after reset; a start written
/// meanwhile (straight on the bus: the driver would wait for the clear)
/// is held, busy in phase IDLE, and the run then counts exactly the
/// golden model's cycles.
#[test]
fn a_start_during_the_streaming_predictors_clear_is_held_and_counts_from_the_run() {
    let cfg = named("4x4-r2-ov-sp");
    let test = "a_start_during_the_streaming_predictors_clear_is_held_and_counts_from_the_run";
    let (mut rng, mut acc) = start(&cfg, test, Timing::FAST);
    let (layer, data) = random_case(&mut rng, &cfg, Sensitivity::Some);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    let predict_in = acc.load_layer(&layer, &data);
    // The buffers keep their contents through a reset; the registers not.
    acc.bus.reset(2);
    let reset_at = acc.bus.model.cycles();
    for (i, v) in layer_registers(&layer) {
        acc.write_reg(i, v);
    }
    let mode = if predict_in { reg::MODE_PREDICT_IN } else { 0 }
        | if layer.next_threshold.is_some() {
            reg::MODE_PREDICT_OUT
        } else {
            0
        }
        | reg::MODE_IRQ_ENABLE;
    acc.write_reg(reg::MODE, mode);
    assert_eq!(
        acc.bus.write(4 * reg::CMD as u64, reg::CMD_START),
        Resp::Okay
    );
    let status = acc.read_reg(reg::STATUS);
    assert!(
        acc.bus.model.cycles() - reset_at < u64::from(cfg.mask_words),
        "the start came during the clear"
    );
    assert_eq!(
        status & (reg::STATUS_BUSY | reg::STATUS_CLEARING | reg::STATUS_PHASE),
        reg::STATUS_BUSY | reg::STATUS_CLEARING,
        "held: busy, clearing, phase IDLE ({status:#x})"
    );
    while !acc.bus.model.get_bool("irq") {
        acc.bus.idle(1);
    }
    assert!(
        acc.bus.model.cycles() - reset_at > u64::from(cfg.mask_words),
        "done only after the clear"
    );
    assert_eq!(acc.counters(), gold.counters, "counted from the run");
    acc.write_reg(reg::CMD, reg::CMD_CLEAR);
    // And a whole layer afterwards, outputs and masks included.
    let hw = acc.run_layer(&layer, &data).unwrap();
    assert_same(&hw, &gold, "after the held start");
}

#[test]
fn buffer_access_while_busy_is_flagged_and_start_while_busy_ignored() {
    let cfg = cfg_4x4();
    let test = "buffer_access_while_busy_is_flagged_and_start_while_busy_ignored";
    let (mut rng, mut acc) = start(&cfg, test, Timing::FAST);
    let (layer, data) = random_case(&mut rng, &cfg, Sensitivity::All);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    acc.load_layer(&layer, &data);
    // The phases the golden model counts: the input mask predicted, the
    // output mask when the layer has a next threshold.
    let predict_out = if layer.next_threshold.is_some() {
        reg::MODE_PREDICT_OUT
    } else {
        0
    };
    acc.write_reg(
        reg::MODE,
        reg::MODE_PREDICT_IN | predict_out | reg::MODE_IRQ_ENABLE,
    );
    acc.write_reg(reg::CMD, reg::CMD_START);
    // A second start and a buffer read while busy.
    acc.write_reg(reg::CMD, reg::CMD_START);
    let addr = acc.map.byte_addr(Buffer::Weights, 0);
    assert_eq!(acc.bus.read(addr).1, Resp::Okay);
    while !acc.bus.model.get_bool("irq") {
        acc.bus.idle(1);
    }
    let status = acc.read_reg(reg::STATUS);
    assert_eq!(
        status & (reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT | reg::STATUS_BUSY),
        reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT,
        "{status:#x}"
    );
    // One run only: the counters are those of one layer.
    assert_eq!(acc.counters(), gold.counters);
    acc.write_reg(reg::CMD, reg::CMD_CLEAR);
    assert_eq!(acc.read_reg(reg::STATUS) & 0xFF, 0);
    assert!(!acc.bus.model.get_bool("irq"));
}

#[test]
fn the_hardware_predicts_the_input_mask_like_the_golden_predictor() {
    // Directed: a checkerboard of bright and dark regions, T between.
    let cfg = cfg_4x4();
    let test = "the_hardware_predicts_the_input_mask_like_the_golden_predictor";
    let (mut rng, mut acc) = start(&cfg, test, Timing::FAST);
    let layer = Layer::from_raw(&RawLayer {
        threshold: 100,
        next_threshold: Some(50),
        requant_shift: 10,
        ..RawLayer::conv(2, 3, (7, 9), 3, 1, 1, (2, 2))
    })
    .unwrap();
    let mut data = random_layer_data(&mut rng, &cfg, &layer, 100, None);
    for c in 0..2 {
        for y in 0..7 {
            for x in 0..9 {
                let bright = (y / 2 + x / 2 + c) % 2 == 0;
                data.input.data[(c * 7 + y) * 9 + x] = if bright { 200 } else { 10 };
            }
        }
    }
    let expected = predict_mask(&data.input, 2, 100);
    assert!(expected.data.iter().any(|&b| b) && expected.data.iter().any(|&b| !b));
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    let hw = acc.run_layer(&layer, &data).unwrap();
    assert_eq!(hw.mask_in, expected);
    assert_same(&hw, &gold, "checkerboard");
}

#[test]
fn default_configuration_runs_a_layer() {
    let cfg = AccelConfig::default();
    let layer = Layer::from_raw(&RawLayer {
        threshold: 120,
        next_threshold: Some(60),
        requant_shift: 11,
        stride: 1,
        ..RawLayer::conv(3, 20, (3, 40), 3, 1, 1, (2, 8))
    })
    .unwrap();
    one_layer_like_the_golden_model(&cfg, &layer, "default_configuration_runs_a_layer");
}

/// `layer` with random data (bias within +-1000) on a fresh accelerator
/// of `cfg`, seeded from `test`, gives the golden model's results.
fn one_layer_like_the_golden_model(cfg: &AccelConfig, layer: &Layer, test: &str) {
    let (mut rng, mut acc) = start(cfg, test, Timing::FAST);
    let data = random_layer_data(&mut rng, cfg, layer, 1000, None);
    let gold = run_layer(cfg, layer, &data).unwrap();
    let hw = acc.run_layer(layer, &data).unwrap();
    assert_same(&hw, &gold, &format!("{test}: {cfg}"));
}

/// The layer of issue 17 (2 -> 13 channels on a 7 x 5 map, 5 x 5 kernel,
/// padding 4: output 13 x 11 x 11) needs 13 * 11 * 64 words at the
/// replicated buffers' pitch, more than their 4096 of act_words (the
/// default before its buffers were stored once); with packed rows it
/// needs 13 * 11 * 11 and runs on the default buffers like the golden
/// model (on a 4 x 4 array: the buffers decide, and it builds quicker).
#[test]
fn packed_rows_run_the_layer_the_default_pitch_refuses() {
    let layer = Layer::from_raw(&RawLayer {
        threshold: 100,
        next_threshold: Some(80),
        requant_shift: 10,
        ..RawLayer::conv(2, 13, (7, 5), 5, 1, 4, (2, 2))
    })
    .unwrap();
    let e = check_fits(&AccelConfig::replicated(), &layer).unwrap_err();
    assert_eq!(
        (e.buffer, e.needed, e.capacity),
        ("output activation", 9152, 4096)
    );
    // The default's stored-once buffers hold it as they are.
    check_fits(&AccelConfig::default(), &layer).unwrap();
    let cfg = AccelConfig {
        rows: 4,
        cols: 4,
        packed_rows: true,
        ..AccelConfig::replicated()
    };
    check_fits(&cfg, &layer).unwrap();
    one_layer_like_the_golden_model(
        &cfg,
        &layer,
        "packed_rows_run_the_layer_the_default_pitch_refuses",
    );
}

/// Banked buffers hold each map once (docs/banked.md): the 4 x 4 banked
/// configuration (1,024 entries a buffer: four banks of 256) runs a 4
/// channel 16 x 16 input (stride 2, output 8 x 8 x 8) like the golden
/// model, where replicated buffers of the same block RAM (two dual-port
/// copies of 512 entries) refuse it.
#[test]
fn banked_buffers_run_a_layer_the_replicated_ones_refuse() {
    let layer = Layer::from_raw(&RawLayer {
        threshold: 90,
        next_threshold: Some(70),
        requant_shift: 11,
        ..RawLayer::conv(4, 8, (16, 16), 3, 2, 1, (2, 2))
    })
    .unwrap();
    let banked = named("4x4-r2-bk");
    let replicated = AccelConfig {
        act_layout: drq_arch::config::ActLayout::Replicated,
        act_words: banked.act_words / 2,
        acc_words: banked.acc_words,
        ..banked
    };
    assert_eq!(replicated.copy_reads(replicated.rows), 2);
    let e = check_fits(&replicated, &layer).unwrap_err();
    assert_eq!(
        (e.buffer, e.needed, e.capacity),
        ("input activation", 4 * 16 * 16, 512)
    );
    check_fits(&banked, &layer).unwrap();
    one_layer_like_the_golden_model(
        &banked,
        &layer,
        "banked_buffers_run_a_layer_the_replicated_ones_refuse",
    );
}

/// The ULX3S's configurations (`constraints/ulx3s/`): the replicated
/// buffers of the default before issue 17 refuse a 16 -> 16 channel 3 x 3
/// layer on 32 x 32 maps (16,384 entries in and out; they hold 4,096 at
/// the 64-word pitch), the stored-once ones of the same activation block
/// RAM (the default, `accel.toml`, cyclic; `accel-banked.toml`) hold it;
/// the banked one holds a 128-channel 16 x 16 input (32,768 entries)
/// read by 4 x 4 tiles, the cyclic one 120 channels of it (its column
/// bands round up).
#[test]
fn the_stored_once_ulx3s_configurations_hold_layers_four_times_the_default() {
    let load = |name: &str| {
        let path = drq_verif::sim::workspace_root()
            .join("constraints/ulx3s")
            .join(name);
        AccelConfig::load(Some(&path), &RawAccelConfig::default()).unwrap()
    };
    assert_eq!(load("accel.toml"), AccelConfig::default());
    let conv = |c_in, c_out, side, k, pad, tile| {
        Layer::from_raw(&RawLayer::conv(c_in, c_out, (side, side), k, 1, pad, tile)).unwrap()
    };
    let wide = conv(16, 16, 32, 3, 1, (4, 4));
    let e = check_fits(&AccelConfig::replicated(), &wide).unwrap_err();
    assert_eq!((e.needed, e.capacity), (16 * 32 * 64, 4096), "{e}");
    // A 128-channel 16 x 16 input (32,768 entries, the whole buffer):
    // banked it fits; cyclic each column band of 16 rows of 4 (64
    // entries) rounds up to 4 mod 16 (68), 128 * 4 * 68 / 16 = 2,176
    // words a bank, and 120 channels fit (2,040).
    let deep = |c_in| conv(c_in, 32, 16, 1, 0, (4, 4));
    check_fits(&load("accel-banked.toml"), &deep(128)).unwrap();
    let cyclic = load("accel.toml");
    let e = check_fits(&cyclic, &deep(128)).unwrap_err();
    assert_eq!(
        (e.buffer, e.needed, e.capacity),
        ("input activation", 2176, 2048),
        "{e}"
    );
    check_fits(&cyclic, &deep(120)).unwrap();
    // 32 channels of 48 x 48 read by 4 x 4 tiles: a bank's share is
    // 32 * 12 * 12 = 4,608 words banked; cyclic, 12 column bands of
    // 48 rows of 4, each band 192 entries rounded up to 4 mod 16 (196),
    // over 16 banks.
    for (name, share) in [
        ("accel-banked.toml", 32 * 12 * 12),
        ("accel.toml", 32 * 12 * 196 / 16),
    ] {
        let cfg = load(name);
        check_fits(&cfg, &wide).unwrap();
        // 16,384 outputs: ACC's depth; one more output channel is refused.
        let e = check_fits(&cfg, &conv(16, 17, 32, 3, 1, (4, 4))).unwrap_err();
        assert_eq!(
            (e.buffer, e.capacity),
            ("accumulator", 16_384),
            "{name}: {e}"
        );
        // 129 channels: more than the counters hold (max_dim = 128).
        let e = check_fits(&cfg, &conv(129, 16, 16, 1, 0, (4, 4))).unwrap_err();
        assert_eq!((e.needed, e.capacity), (129, 128), "{name}: {e}");
        assert!(e.to_string().contains("max_dim"), "{name}: {e}");
        let e = check_fits(&cfg, &conv(32, 16, 48, 1, 0, (4, 4))).unwrap_err();
        assert_eq!(
            (e.buffer, e.needed, e.capacity),
            ("input activation", share, 2048),
            "{name}: {e}"
        );
        // The write-back's row table holds max_width (64) output rows: a
        // 1 x 64 x 64 map fits, a 65-row output (a 64 x 32 input, padding 1
        // with a 2 x 2 kernel) is refused for its height.
        check_fits(&cfg, &conv(1, 1, 64, 1, 0, (4, 4))).unwrap();
        let tall = RawLayer::conv(1, 1, (64, 32), 2, 1, 1, (4, 4));
        let e = check_fits(&cfg, &Layer::from_raw(&tall).unwrap()).unwrap_err();
        assert_eq!((e.needed, e.capacity), (65, 64), "{name}: {e}");
        assert!(e.to_string().contains("row table"), "{name}: {e}");
    }
}

/// Packed rows keep the dimension limits of the counters: channels and
/// rows at most max_dim, even where the words would hold more.
#[test]
fn packed_rows_refuse_more_channels_than_the_counters_hold() {
    let cfg = AccelConfig {
        packed_rows: true,
        ..cfg_4x4()
    };
    // 1 x 1 maps: 40 channels take 40 words, but max_dim is 2048 / 16 = 128.
    let ok = Layer::from_raw(&RawLayer::conv(40, 4, (1, 1), 1, 1, 0, (1, 1))).unwrap();
    check_fits(&cfg, &ok).unwrap();
    let deep = Layer::from_raw(&RawLayer::conv(200, 4, (1, 1), 1, 1, 0, (1, 1))).unwrap();
    let e = check_fits(&cfg, &deep).unwrap_err().to_string();
    assert!(
        e.contains("C_in = 200") && e.contains("max_dim") && e.contains("128"),
        "{e}"
    );
}

/// The PEs' accumulators are narrower than ACC_BITS where no layer that
/// fits can fill them (`AccelConfig::acc_hi_bits`, `acc_lo_bits`): the
/// largest sums the weight buffer allows (C_in K K = weight_words steps of
/// the most negative products), all HIGH and all LOW, reach the narrow
/// accumulators' sign bit and still come out as the golden model's.
#[test]
fn the_largest_sums_a_layer_can_make_fit_the_narrow_accumulators() {
    use drq_golden::tensor::{FeatureMap, Weights};
    use drq_golden::LayerData;
    let cfg = cfg_4x4();
    let (hi, lo) = (cfg.acc_hi_bits(), cfg.acc_lo_bits());
    assert!(hi < cfg.acc_bits && lo < cfg.acc_bits, "{hi} {lo}");
    let test = "the_largest_sums_a_layer_can_make_fit_the_narrow_accumulators";
    let (_, mut acc) = start(&cfg, test, Timing::FAST);
    // 16 channels of 8 x 8, one 8 x 8 kernel: 1024 = weight_words steps.
    let (w_min, _) = cfg.w_range();
    let data = LayerData {
        input: FeatureMap::from_fn(16, 8, 8, |_, _, _| cfg.a_max()),
        weights: Weights::from_fn(1, 16, 8, |_, _, _, _| w_min),
        bias: vec![0],
        mask: None,
    };
    for (threshold, bits) in [(0, hi), (cfg.a_max() + 1, lo)] {
        let layer = Layer::from_raw(&RawLayer {
            threshold: threshold.into(),
            low_shift: 4,
            w_low_shift: 4,
            requant_shift: 12,
            ..RawLayer::conv(16, 1, (8, 8), 8, 1, 0, (1, 1))
        })
        .unwrap();
        check_fits(&cfg, &layer).unwrap();
        let gold = run_layer(&cfg, &layer, &data).unwrap();
        // The PE's sum (before the read-out's shift) uses the top bit.
        let sum = if threshold == 0 {
            gold.acc[0]
        } else {
            gold.acc[0] >> 8
        };
        assert!(
            sum < -(1i64 << (bits - 2)),
            "T = {threshold}: {sum} in {bits} bits"
        );
        let hw = acc.run_layer(&layer, &data).unwrap();
        assert_same(&hw, &gold, &format!("T = {threshold}"));
    }
}

#[test]
fn a_layer_too_big_for_a_buffer_is_rejected_naming_it() {
    let cfg = cfg_4x4();
    let too_wide = Layer::from_raw(&RawLayer::conv(1, 1, (4, 17), 1, 1, 0, (1, 1))).unwrap();
    let e = check_fits(&cfg, &too_wide).unwrap_err().to_string();
    assert!(
        e.contains("max_width") && e.contains("17") && e.contains("16"),
        "{e}"
    );
    let too_deep = Layer::from_raw(&RawLayer::conv(9, 1, (15, 16), 1, 1, 0, (1, 1))).unwrap();
    let e = check_fits(&cfg, &too_deep).unwrap_err().to_string();
    assert!(
        e.contains("input activation")
            && e.contains("act_words")
            && e.contains("2160")
            && e.contains("2048"),
        "{e}"
    );
    let many_weights = Layer::from_raw(&RawLayer::conv(8, 16, (4, 4), 3, 1, 1, (1, 1))).unwrap();
    let e = check_fits(&cfg, &many_weights).unwrap_err().to_string();
    assert!(
        e.contains("weight") && e.contains("1152") && e.contains("1024"),
        "{e}"
    );
}

/// The top ties the output stage's `out_ready` high (docs/spec.md §6.6):
/// the predictor must take every value the output stage offers in CONV.
/// From a dump of random layers that predict their output mask, with the
/// sequential and the streaming predictor (its SETUP under the
/// controller's, the tightest case: a one-pixel layer of a 1 x 1 kernel,
/// one step, on a 1 x 1 array comes first), the predictor's `in_valid` is never high while
/// its `in_ready` is low, and values do arrive. The same dump checks that
/// the buffers never take a mask write into the input mask buffer
/// (`in_pin`) in a cycle in which the controller reads its rows'
/// activations and mask bits (a buffer is never read by a run in a cycle
/// it is written, which `ram_read_ports = 2` relies on), and that the
/// input mask is written at all.
#[test]
fn the_predictor_takes_every_value_the_output_stage_offers() {
    let seed = test_seed("the_predictor_takes_every_value_the_output_stage_offers");
    let tiny = named("1x1-r2-acc16");
    let configs = [
        ("4x4", cfg_4x4()),
        ("4x4-r2-ov-sp", named("4x4-r2-ov-sp")),
        ("4x4-r1-out2-l4-tp-sp", named("4x4-r1-out2-l4-tp-sp")),
        ("1x1-r2-acc16", tiny),
        (
            "1x1-r2-acc16 streaming",
            AccelConfig {
                stream_predictor: true,
                ..tiny
            },
        ),
    ];
    for (k, (name, cfg)) in configs.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let vcd = dir.path().join("pred.vcd");
        let mut rng = Rng::new(seed + k as u64);
        {
            let opts = SimOptions {
                vcd: Some(vcd.clone()),
                ..Default::default()
            };
            let mut acc = Accelerator::new(&cfg, &opts, seed, Timing::FAST).unwrap();
            let mut layers = vec![Layer::from_raw(&RawLayer {
                threshold: 0,
                next_threshold: Some(1),
                ..RawLayer::conv(1, 1, (1, 1), 1, 1, 0, (1, 1))
            })
            .unwrap()];
            for _ in 0..3 {
                let (mut layer, _) = random_case(&mut rng, &cfg, Sensitivity::Some);
                layer.next_threshold = Some(rng.range(0, cfg.a_max().into()) as u32);
                layers.push(layer);
            }
            for (i, layer) in layers.iter().enumerate() {
                let data = random_layer_data(&mut rng, &cfg, layer, 1000, None);
                let gold = run_layer(&cfg, layer, &data).unwrap();
                let hw = acc.run_layer(layer, &data).unwrap();
                assert_same(&hw, &gold, &format!("{name} layer {i} {layer:?}"));
            }
            acc.bus.model.flush_waves();
        }
        let text = std::fs::read_to_string(&vcd).unwrap();
        let (valid, ready) = (".core.pred.in_valid", ".core.pred.in_ready");
        let dump = drq_verif::vcd::Vcd::parse(&text, &[]).unwrap();
        let path = |suffix: &str| {
            let var = dump
                .vars
                .iter()
                .find(|v| v.path.ends_with(suffix))
                .unwrap_or_else(|| panic!("{name}: {suffix} not in the dump"));
            var.path.clone()
        };
        let (valid_path, ready_path) = (path(valid), path(ready));
        let dump =
            drq_verif::vcd::Vcd::parse(&text, &[valid_path.as_str(), ready_path.as_str()]).unwrap();
        let (v, r) = (
            dump.changes_of(&valid_path).unwrap(),
            dump.changes_of(&ready_path).unwrap(),
        );
        let at = |changes: &[(u64, u64)], t: u64| {
            changes
                .iter()
                .take_while(|(time, _)| *time <= t)
                .last()
                .map_or(0, |c| c.1)
        };
        let mut offered = 0;
        for &(t, _) in v.iter().chain(r) {
            if at(v, t) == 1 {
                offered += 1;
                assert_eq!(
                    at(r, t),
                    1,
                    "{name}: a value offered at {t} while the predictor refuses"
                );
            }
        }
        assert!(offered > 0, "{name}: no value reached the predictor");

        // Mask writes into the input mask buffer and the controller's reads.
        let (wr_path, pin_path) = (path(".core.bufs.mask_wr_en"), path(".core.bufs.in_pin"));
        let rd_paths: Vec<String> = drq_verif::vcd::Vcd::parse(&text, &[])
            .unwrap()
            .vars
            .iter()
            .filter(|v| v.path.contains(".core.bufs.act_rd"))
            .map(|v| v.path.clone())
            .collect();
        assert_eq!(rd_paths.len(), cfg.rows as usize, "{name}: {rd_paths:?}");
        let mut watch = vec![wr_path.as_str(), pin_path.as_str()];
        watch.extend(rd_paths.iter().map(String::as_str));
        let dump = drq_verif::vcd::Vcd::parse(&text, &watch).unwrap();
        let changes: Vec<&[(u64, u64)]> =
            watch.iter().map(|w| dump.changes_of(w).unwrap()).collect();
        let mut input_mask_writes = 0;
        for &(t, _) in changes.iter().flat_map(|c| c.iter()) {
            if at(changes[0], t) == 1 && at(changes[1], t) == 1 {
                input_mask_writes += 1;
                let reading = changes[2..].iter().any(|c| at(c, t) == 1);
                assert!(
                    !reading,
                    "{name}: the input mask buffer is written at {t} while the controller reads"
                );
            }
        }
        assert!(input_mask_writes > 0, "{name}: no input mask was written");
    }
}
