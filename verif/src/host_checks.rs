//! Directed checks of the host interface of a whole `drq_top` (docs/spec.md
//! §8, docs/top.md) that the regression's layer runs never provoke: the
//! slave's error responses, what a buffer read returns while a layer runs,
//! and `STATUS.oversize`. Each panics with what differed. They run in
//! `verif/tests/top_host.rs` and against every mutant of `drq mutate`, for
//! any configuration.

use crate::axil_bfm::Resp;
use crate::driver::{check_fits, default_out_reader, Accelerator};
use crate::regress::run_timeout;
use drq_arch::config::PeKind;
use drq_arch::regs::{reg, Buffer, ID_VALUE, NUM_REGS};
use drq_arch::AccelConfig;
use drq_golden::layer::RawLayer;
use drq_golden::rng::Rng;
use drq_golden::testdata::random_layer_data;
use drq_golden::{run_layer, Layer};

/// Read-only registers, unmapped slots, the gap below the window, a partial
/// window write and the space past the last buffer all answer SLVERR and
/// change nothing; the slave works on afterwards.
pub fn error_responses(acc: &mut Accelerator) {
    let bus = &mut acc.bus;
    // A read-only register refuses a write and keeps its value.
    let status = bus.read(4 * reg::STATUS as u64);
    assert_eq!(status.1, Resp::Okay);
    assert_eq!(bus.write(4 * reg::STATUS as u64, 0xFFFF_FFFF), Resp::SlvErr);
    assert_eq!(bus.read(4 * reg::STATUS as u64), status);
    assert_eq!(bus.write(4 * reg::ID as u64, 0), Resp::SlvErr);
    assert_eq!(bus.read(4 * reg::ID as u64), (ID_VALUE, Resp::Okay));
    // Unmapped register slots and the gap below the window.
    let unmapped_slot = 4 * (reg::N_RW + reg::N_RO) as u64;
    assert!(unmapped_slot < 4 * u64::from(NUM_REGS));
    for addr in [unmapped_slot, 4 * u64::from(NUM_REGS) - 4, 0x200, 0xF_FFFC] {
        assert_eq!(bus.read(addr), (0, Resp::SlvErr), "read {addr:#x}");
        assert_eq!(bus.write(addr, 1), Resp::SlvErr, "write {addr:#x}");
    }
    // A window write with a partial strobe changes nothing (1 fits a
    // weight of any width).
    let addr = acc.map.byte_addr(Buffer::Weights, 1);
    assert_eq!(acc.bus.write(addr, 1), Resp::Okay);
    assert_eq!(acc.bus.write_strobed(addr, 0x76, 0b0011), Resp::SlvErr);
    assert_eq!(acc.bus.read(addr), (1, Resp::Okay));
    // Past the last buffer region.
    let end = acc.map.window_end();
    assert_eq!(acc.bus.read(end), (0, Resp::SlvErr));
    assert_eq!(acc.bus.write(end, 1), Resp::SlvErr);
    // The slave still works, and the RW registers kept their values.
    acc.write_reg(reg::C_IN, 3);
    assert_eq!(acc.read_reg(reg::C_IN), 3);
    acc.bus.assert_idle();
}

/// `raw` with the largest low shifts `cfg` allows.
fn shifts(cfg: &AccelConfig, raw: RawLayer) -> RawLayer {
    RawLayer {
        low_shift: cfg.max_low_shift().into(),
        w_low_shift: cfg.max_w_low_shift().into(),
        ..raw
    }
}

/// A small layer every configuration holds: 3 -> `cols` channels on an
/// 8 x 8 map (narrower when the buffers are), 3 x 3, T = 0.
fn small_layer(cfg: &AccelConfig) -> Layer {
    let side = i64::from(cfg.max_width.min(8));
    let tile = (1, i64::from(cfg.rows).min(side));
    Layer::from_raw(&RawLayer {
        threshold: 0,
        requant_shift: 8,
        ..shifts(
            cfg,
            RawLayer::conv(3, i64::from(cfg.cols.min(4)), (side, side), 3, 1, 1, tile),
        )
    })
    .expect("a valid layer")
}

/// Buffer reads while a layer runs return 0 with OKAY (not the last word
/// read before) and set `STATUS.host_conflict`; the run is undisturbed.
pub fn buffer_reads_while_busy(acc: &mut Accelerator, rng: &mut Rng) {
    let cfg = acc.cfg;
    let layer = small_layer(&cfg);
    check_fits(&cfg, &layer).expect("the small layer fits");
    let data = random_layer_data(rng, &cfg, &layer, 100, None);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    acc.run_timeout = run_timeout(gold.counters.cycles_total);
    acc.write_fmap(Buffer::Act0, &data.input, layer.reader());
    acc.write_weights(&data.weights);
    acc.write_bias(&data.bias);
    acc.configure(&layer, default_out_reader(&layer));
    // The last word the host read before the run is not 0.
    acc.write_word(Buffer::Bias, 0, 0x1234);
    assert_eq!(acc.read_word(Buffer::Bias, 0), 0x1234);
    acc.write_word(Buffer::Bias, 0, data.bias[0] as u32);
    let predict_in = if cfg.pe == PeKind::Drq {
        reg::MODE_PREDICT_IN
    } else {
        0
    };
    acc.write_reg(reg::MODE, predict_in | reg::MODE_IRQ_ENABLE);
    acc.write_reg(reg::CMD, reg::CMD_START);
    for b in [Buffer::Bias, Buffer::Act0, Buffer::Weights, Buffer::Acc] {
        let addr = acc.map.byte_addr(b, 0);
        assert_eq!(acc.bus.read(addr), (0, Resp::Okay), "{b:?} read while busy");
    }
    assert!(
        acc.read_reg(reg::STATUS) & reg::STATUS_BUSY != 0,
        "the reads must happen during the run"
    );
    let mut n = 0;
    while !acc.bus.model.get_bool("irq") {
        acc.bus.idle(1);
        n += 1;
        assert!(n < 10 * gold.counters.cycles_total + 10_000, "no interrupt");
    }
    let status = acc.read_reg(reg::STATUS);
    assert_eq!(
        status & (reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT),
        reg::STATUS_DONE | reg::STATUS_HOST_CONFLICT,
        "STATUS {status:#x} after the run"
    );
    // The reads did not disturb the run.
    acc.write_reg(reg::CMD, reg::CMD_CLEAR);
    assert_eq!(acc.counters(), gold.counters);
    let (c, h, w) = (
        layer.c_out as usize,
        layer.ho() as usize,
        layer.wo() as usize,
    );
    assert_eq!(
        acc.read_fmap(Buffer::Act1, (c, h, w), default_out_reader(&layer)),
        gold.y
    );
}

/// The smallest 1 x 1 layer of `cfg` whose output fits the activation
/// buffer but whose output mask does not fit the predictor: what makes
/// `STATUS.oversize`. None if the configuration has no such layer.
pub fn oversize_layer(cfg: &AccelConfig) -> Option<Layer> {
    let roomy = AccelConfig {
        mask_words: 1 << 19,
        ..*cfg
    };
    for c_out in 1..=i64::from(cfg.bias_words.min(64)) {
        for side in (1..=i64::from(cfg.max_width.min(64))).rev() {
            let Ok(layer) = Layer::from_raw(&RawLayer {
                threshold: 0,
                next_threshold: Some(10),
                requant_shift: 8,
                // A row of pixels a tile: with banked buffers the map
                // spreads over as many banks.
                ..shifts(
                    cfg,
                    RawLayer::conv(
                        1,
                        c_out,
                        (side, side),
                        1,
                        1,
                        0,
                        (1, i64::from(cfg.rows).min(side)),
                    ),
                )
            }) else {
                continue;
            };
            let refused = check_fits(cfg, &layer).err();
            if check_fits(&roomy, &layer).is_ok()
                && refused.is_some_and(|e| e.buffer == "output mask")
            {
                return Some(layer);
            }
        }
    }
    None
}

/// An output map larger than the predictor's memory: the layer runs, the
/// run ends with `STATUS.oversize`, the output mask buffer keeps what it
/// held, and the next layer that fits clears the flag. Returns false when
/// the configuration has no such layer ([`oversize_layer`]).
pub fn oversize_output_map(acc: &mut Accelerator, rng: &mut Rng) -> bool {
    let cfg = acc.cfg;
    let Some(layer) = oversize_layer(&cfg) else {
        return false;
    };
    let mut data = random_layer_data(rng, &cfg, &layer, 100, None);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    acc.run_timeout = run_timeout(gold.counters.cycles_total);
    // The host gives the input mask; inputs in ACT0/MASK0 whatever the
    // driver ran before (load_layer resets the ping-pong selection).
    data.mask = Some(gold.mask_in.clone());
    acc.load_layer(&layer, &data);
    // A pattern in the output mask buffer that the refused sweep must keep.
    let mask_words = acc.map.words(Buffer::Mask1);
    acc.write_words(
        Buffer::Mask1,
        (0..mask_words).map(|i| (i, (i % 3 == 0) as u32)),
    );
    let status = acc.start_and_wait(false, true);
    assert_eq!(
        status & (reg::STATUS_DONE | reg::STATUS_OVERSIZE),
        reg::STATUS_DONE | reg::STATUS_OVERSIZE,
        "STATUS {status:#x} after an oversize output map"
    );
    for (i, v) in acc
        .read_words(Buffer::Mask1, 0..mask_words)
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            v,
            (i % 3 == 0) as u32,
            "mask word {i} after a refused sweep"
        );
    }
    // The layer itself ran: its outputs are the golden ones.
    let (c, h, w) = (
        layer.c_out as usize,
        layer.ho() as usize,
        layer.wo() as usize,
    );
    assert_eq!(
        acc.read_fmap(Buffer::Act1, (c, h, w), default_out_reader(&layer)),
        gold.y
    );
    // A later layer that fits clears the flag.
    acc.write_reg(reg::NEXT_THRESHOLD, 0);
    let status = acc.start_and_wait(false, false);
    assert_eq!(status & reg::STATUS_OVERSIZE, 0, "STATUS {status:#x}");
    true
}

/// A first layer loaded by the host into the second ping-pong halves
/// (ACT1, MASK1), which the driver's first layers never use: once with the
/// input mask predicted from ACT1 (DRQ), once with the host's mask in
/// MASK1; every output, mask and counter equal to the golden model's.
pub fn first_layer_from_act1(acc: &mut Accelerator, rng: &mut Rng) {
    let cfg = acc.cfg;
    let layer = crate::regress::random_layer(rng, &cfg);
    let data = random_layer_data(rng, &cfg, &layer, 100, None);
    let gold = run_layer(&cfg, &layer, &data).unwrap();
    let mut given = data.clone();
    given.mask = Some(gold.mask_in.clone());
    for (what, d) in [("predicted", &data), ("host", &given)] {
        // The golden run of the same inputs (without the prediction phase
        // when the host gives the mask).
        let gold = run_layer(&cfg, &layer, d).unwrap();
        // Whatever limit the driver's last layer left: this layer's own.
        acc.run_timeout = run_timeout(gold.counters.cycles_total);
        let hw = acc.run_layer_from(&layer, d, true).expect("the layer fits");
        let diffs = crate::scoreboard::compare(&hw, &gold);
        assert!(
            diffs.is_empty(),
            "a first layer from ACT1 ({what} mask), {}: {}",
            crate::regress::describe_layer(&layer),
            diffs.join("; ")
        );
    }
}

/// All four, in order, from `seed`.
pub fn all(acc: &mut Accelerator, seed: u64) {
    let mut rng = Rng::new(seed);
    error_responses(acc);
    buffer_reads_while_busy(acc, &mut rng);
    oversize_output_map(acc, &mut rng);
    first_layer_from_act1(acc, &mut rng);
}
