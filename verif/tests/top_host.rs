//! The host interface of the whole `drq_top` (docs/spec.md §8): the error
//! responses of its AXI4-Lite slave, what a buffer read returns while a
//! layer runs, and `STATUS.oversize` through the top. The host driver
//! never provokes these, so each is a directed test here.

use drq_arch::regs::{reg, Buffer, NUM_REGS};
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::rng::{test_seed, Rng};
use drq_golden::testdata::random_layer_data;
use drq_golden::{run_layer, Layer};
use drq_verif::axil_bfm::{Resp, Timing};
use drq_verif::driver::Accelerator;
use drq_verif::regress::cfg_4x4;
use drq_verif::sim::SimOptions;

fn accelerator(cfg: &AccelConfig, test: &str) -> Accelerator {
    let seed = test_seed(test);
    Accelerator::new(
        cfg,
        &SimOptions::from_env("top_host", test),
        seed,
        Timing::FAST,
    )
    .unwrap()
}

#[test]
fn error_responses_of_the_top_level_slave() {
    let cfg = cfg_4x4();
    let mut acc = accelerator(&cfg, "error_responses_of_the_top_level_slave");
    let bus = &mut acc.bus;
    // A read-only register refuses a write and keeps its value.
    let status = bus.read(4 * reg::STATUS as u64);
    assert_eq!(status.1, Resp::Okay);
    assert_eq!(bus.write(4 * reg::STATUS as u64, 0xFFFF_FFFF), Resp::SlvErr);
    assert_eq!(bus.read(4 * reg::STATUS as u64), status);
    assert_eq!(bus.write(4 * reg::ID as u64, 0), Resp::SlvErr);
    assert_eq!(
        bus.read(4 * reg::ID as u64),
        (drq_arch::regs::ID_VALUE, Resp::Okay)
    );
    // Unmapped register slots and the gap below the window.
    let unmapped_slot = 4 * (reg::N_RW + reg::N_RO) as u64;
    assert!(unmapped_slot < 4 * u64::from(NUM_REGS));
    for addr in [unmapped_slot, 4 * u64::from(NUM_REGS) - 4, 0x200, 0xF_FFFC] {
        assert_eq!(bus.read(addr), (0, Resp::SlvErr), "read {addr:#x}");
        assert_eq!(bus.write(addr, 1), Resp::SlvErr, "write {addr:#x}");
    }
    // A window write with a partial strobe changes nothing.
    let addr = acc.map.byte_addr(Buffer::Weights, 1);
    assert_eq!(acc.bus.write(addr, 0x5A), Resp::Okay);
    assert_eq!(acc.bus.write_strobed(addr, 0x77, 0b0011), Resp::SlvErr);
    assert_eq!(acc.bus.read(addr), (0x5A, Resp::Okay));
    // Past the last buffer region.
    let end = acc.map.window_end();
    assert_eq!(acc.bus.read(end), (0, Resp::SlvErr));
    assert_eq!(acc.bus.write(end, 1), Resp::SlvErr);
    // The slave still works, and the RW registers kept their values.
    acc.write_reg(reg::C_IN, 3);
    assert_eq!(acc.read_reg(reg::C_IN), 3);
    acc.bus.assert_idle();
}

#[test]
fn a_buffer_read_while_a_layer_runs_returns_zero_and_flags_the_conflict() {
    let cfg = cfg_4x4();
    let test = "a_buffer_read_while_a_layer_runs_returns_zero_and_flags_the_conflict";
    let mut rng = Rng::new(test_seed(test));
    let mut acc = accelerator(&cfg, test);
    let layer = Layer::from_raw(&RawLayer {
        threshold: 0,
        requant_shift: 8,
        ..RawLayer::conv(3, 4, (8, 8), 3, 1, 1, (2, 2))
    })
    .unwrap();
    let data = random_layer_data(&mut rng, &cfg, &layer, 100, None);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    acc.write_fmap(Buffer::Act0, &data.input);
    acc.write_weights(&data.weights);
    acc.write_bias(&data.bias);
    acc.configure(&layer);
    // The last word the host read before the run is not 0.
    acc.write_word(Buffer::Bias, 0, 0x1234);
    assert_eq!(acc.read_word(Buffer::Bias, 0), 0x1234);
    acc.write_word(Buffer::Bias, 0, data.bias[0] as u32);
    acc.write_reg(reg::MODE, reg::MODE_PREDICT_IN | reg::MODE_IRQ_ENABLE);
    acc.write_reg(reg::CMD, reg::CMD_START);
    let mut reads = 0;
    for b in [Buffer::Bias, Buffer::Act0, Buffer::Weights, Buffer::Acc] {
        let addr = acc.map.byte_addr(b, 0);
        assert_eq!(acc.bus.read(addr), (0, Resp::Okay), "{b:?} read while busy");
        reads += 1;
    }
    assert!(
        acc.read_reg(reg::STATUS) & reg::STATUS_BUSY != 0,
        "the {reads} reads must happen during the run"
    );
    while !acc.bus.model.get_bool("irq") {
        acc.bus.idle(1);
    }
    let status = acc.read_reg(reg::STATUS);
    assert_eq!(
        status & (reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT),
        reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT
    );
    // The reads did not disturb the run.
    acc.write_reg(reg::CMD, reg::CMD_CLEAR);
    assert_eq!(acc.counters(), gold.counters);
    let (c, h, w) = (
        layer.c_out as usize,
        layer.ho() as usize,
        layer.wo() as usize,
    );
    assert_eq!(acc.read_fmap(Buffer::Act1, c, h, w), gold.y);
}

#[test]
fn an_output_map_larger_than_the_predictor_sets_status_oversize() {
    // mask_words 64: an output of 4 channels x ceil(16/2) region rows x
    // mask pitch 8 = 256 regions does not fit; the activations do.
    let cfg = AccelConfig {
        mask_words: 64,
        ..cfg_4x4()
    };
    let test = "an_output_map_larger_than_the_predictor_sets_status_oversize";
    let mut rng = Rng::new(test_seed(test));
    let mut acc = accelerator(&cfg, test);
    let layer = Layer::from_raw(&RawLayer {
        threshold: 0,
        next_threshold: Some(10),
        requant_shift: 8,
        ..RawLayer::conv(1, 4, (16, 16), 1, 1, 0, (2, 2))
    })
    .unwrap();
    assert!(drq_verif::driver::check_fits(&cfg, &layer).is_err());
    let data = random_layer_data(&mut rng, &cfg, &layer, 100, None);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    acc.write_fmap(Buffer::Act0, &data.input);
    acc.write_weights(&data.weights);
    acc.write_bias(&data.bias);
    acc.write_mask(Buffer::Mask0, &gold.mask_in);
    // A pattern in the output mask buffer that the refused sweep must keep.
    for i in 0..cfg.mask_words as u64 {
        acc.write_word(Buffer::Mask1, i, (i % 3 == 0) as u32);
    }
    acc.configure(&layer);
    let status = acc.start_and_wait(false, true);
    assert_eq!(
        status & (reg::STATUS_DONE | reg::STATUS_OVERSIZE),
        reg::STATUS_DONE | reg::STATUS_OVERSIZE,
        "{status:#x}"
    );
    for i in 0..cfg.mask_words as u64 {
        assert_eq!(
            acc.read_word(Buffer::Mask1, i),
            (i % 3 == 0) as u32,
            "mask word {i}"
        );
    }
    // The layer itself ran: its outputs are the golden ones.
    let y = acc.read_fmap(Buffer::Act1, 4, layer.ho() as usize, layer.wo() as usize);
    assert_eq!(y, gold.y);
    // A later layer that fits clears the flag.
    acc.write_reg(reg::NEXT_THRESHOLD, 0);
    let status = acc.start_and_wait(false, false);
    assert_eq!(status & reg::STATUS_OVERSIZE, 0, "{status:#x}");
}
