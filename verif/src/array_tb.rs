//! Testbench of the systolic array: replays tiles of tokens into the
//! Verilator model with optional random bubbles (input side) and stalls
//! (read-out side), and collects the accumulators and the cycle count.

use crate::sim::{Model, SimError, SimOptions};
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;
use drq_golden::cycles::readout_row;
use drq_golden::numerics::wrap_acc;
use drq_golden::replay::{TileReplay, TokenSlice};
use drq_golden::rng::Rng;
use drq_hdl::array::array_design;

/// Random traffic around the array.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traffic {
    /// Probability of withholding a token in a cycle.
    pub bubble: f64,
    /// Probability of holding the read-out in a cycle.
    pub stall: f64,
}

impl Traffic {
    /// Bubbles and stalls, each with probability `p`.
    pub fn both(p: f64) -> Traffic {
        Traffic {
            bubble: p,
            stall: p,
        }
    }
}

/// What a tile did in the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileOutcome {
    /// acc[row][col], sign-extended from ACC_BITS.
    pub acc: Vec<Vec<i64>>,
    /// Cycles from the first offered token to the last read-out, inclusive.
    pub cycles: u64,
    /// Cycles the array was ready but no token was offered.
    pub bubbles: u64,
    /// Cycles a row was offered but not taken by the read-out.
    pub stalls: u64,
}

pub struct ArrayBench {
    pub cfg: AccelConfig,
    pub format: TokenFormat,
    pub model: Model,
}

impl ArrayBench {
    /// Build (or reuse) the array of `cfg` and reset it.
    pub fn new(cfg: &AccelConfig, opts: &SimOptions) -> Result<ArrayBench, SimError> {
        let mut model = Model::new(&array_design(cfg), opts)?;
        model.set_bool("out_ready", true);
        if cfg.burst_readout {
            // A read-out sink that always has room.
            model.set_bool("out_room", true);
            model.set_bool("out_oversize", false);
        }
        model.reset(2);
        Ok(ArrayBench {
            cfg: *cfg,
            format: TokenFormat::new(cfg),
            model,
        })
    }

    fn drive(&mut self, t: &TokenSlice) {
        let f = &self.format;
        let m = &mut self.model;
        m.set_bool("in_first", t.first);
        m.set_bool("in_commit", t.commit);
        m.set_bool("in_last", t.last);
        m.set_u64("in_hshift", t.hshift.into());
        m.set_lanes(
            "in_digits",
            f.digit_bits,
            &t.digits.iter().map(|&d| i64::from(d)).collect::<Vec<_>>(),
        );
        m.set_lanes(
            "in_sens",
            1,
            &t.sens.iter().map(|&s| i64::from(s)).collect::<Vec<_>>(),
        );
        m.set_lanes(
            "in_w_digits",
            f.w_digit_bits,
            &t.w_digits.iter().map(|&w| i64::from(w)).collect::<Vec<_>>(),
        );
        m.set_lanes(
            "in_w_lows",
            f.w_low_bits,
            &t.w_lows.iter().map(|&w| i64::from(w)).collect::<Vec<_>>(),
        );
    }

    /// The row on the read-out ports: per column `out_acc` (acc_hi + bias)
    /// plus `out_lo` (acc_lo) shifted by the layer's low shift, wrapped at
    /// ACC_BITS, as the output stage combines them (docs/spec.md §6.1).
    fn read_row(&mut self, low_shift: u32) -> Vec<i64> {
        let cols = self.cfg.cols as usize;
        let hi_bias = self
            .model
            .get_lanes("out_acc", self.cfg.acc_bits, cols, true);
        let lo = self
            .model
            .get_lanes("out_lo", self.cfg.acc_lo_bits(), cols, true);
        hi_bias
            .iter()
            .zip(&lo)
            .map(|(&h, &l)| wrap_acc(h.wrapping_add(l.wrapping_shl(low_shift)), self.cfg.acc_bits))
            .collect()
    }

    /// Run one tile: every token in, every row out.
    pub fn run_tile(
        &mut self,
        tile: &TileReplay,
        low_shift: u32,
        traffic: Traffic,
        rng: &mut Rng,
    ) -> TileOutcome {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        self.model.set_lanes(
            "bias",
            32,
            &tile.bias.iter().map(|&b| i64::from(b)).collect::<Vec<_>>(),
        );
        let mut acc: Vec<Option<Vec<i64>>> = vec![None; rows];
        let (mut next, mut got, mut cycles, mut bubbles, mut stalls) =
            (0usize, 0usize, 0u64, 0u64, 0u64);
        let limit = 100
            + 10 * (tile.tokens.len() as u64 + 2 * rows as u64 + cols as u64)
                * (1 + (traffic.bubble + traffic.stall > 0.0) as u64 * 20);
        while got < rows {
            let offer = next < tile.tokens.len() && !rng.chance(traffic.bubble);
            if offer {
                self.drive(&tile.tokens[next]);
            }
            let take = !rng.chance(traffic.stall);
            self.model.set_bool("in_valid", offer);
            self.model.set_bool("out_ready", take);
            self.model.eval();
            let in_ready = self.model.get_bool("in_ready");
            if offer && in_ready {
                next += 1;
            } else if in_ready && next < tile.tokens.len() {
                bubbles += 1;
            }
            if self.model.get_bool("out_valid") {
                if take {
                    let row = self.model.get_u64("out_row") as usize;
                    assert_eq!(
                        row,
                        readout_row(&self.cfg, got as u32) as usize,
                        "read-out order (docs/spec.md §6.2)"
                    );
                    assert!(
                        row < rows && acc[row].is_none(),
                        "row {row} read out twice or out of range"
                    );
                    acc[row] = Some(self.read_row(low_shift));
                    got += 1;
                } else {
                    stalls += 1;
                }
            }
            self.model.tick(1);
            cycles += 1;
            assert!(
                cycles < limit,
                "tile did not finish in {limit} cycles ({next} of {} tokens in)",
                tile.tokens.len()
            );
        }
        self.model.set_bool("in_valid", false);
        self.model.set_bool("out_ready", true);
        self.model.eval();
        TileOutcome {
            acc: acc
                .into_iter()
                .map(|r| r.expect("every row read out"))
                .collect(),
            cycles,
            bubbles,
            stalls,
        }
    }
}

/// What a stream of tiles did in the array (shadow accumulators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOutcome {
    /// Per tile, acc[row][col], sign-extended from ACC_BITS.
    pub acc: Vec<Vec<Vec<i64>>>,
    /// Cycles from the first offered token to the last read-out, inclusive.
    pub cycles: u64,
    /// Cycles a tile's last token was offered but refused (the tile before
    /// still flushing or reading out).
    pub waits: u64,
}

impl ArrayBench {
    /// Run `tiles` back to back: each token offered as soon as the one
    /// before is taken, the read-out collected tile by tile (the bias of
    /// the tile being read out on `bias`). Checks the array's contract
    /// with shadow accumulators on the way: only a tile's last token is
    /// refused, exactly while the tile before has not finished its
    /// read-out; a tile's first row is offered F + 1 cycles after its last
    /// token is taken; rows leave in `cycles::readout_order`.
    ///
    /// With a burst read-out the bench plays the output stage's side:
    /// `out_room` low with the stall probability, and a tile in five (with
    /// traffic) `out_oversize` (never room). It checks that a read-out
    /// starts (`out_start`) exactly in the first cycle it may (flushed, no
    /// read-out in progress, room or oversize); that it never stalls a
    /// burst (ready held high); and that a last token is refused exactly
    /// while a tile flushes or waits, or a read-out that is no burst goes
    /// on. The bias on the bus is that of the next tile to start.
    pub fn run_stream(
        &mut self,
        tiles: &[TileReplay],
        low_shift: u32,
        traffic: Traffic,
        rng: &mut Rng,
    ) -> StreamOutcome {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        let flush = drq_hdl::array::flush_cycles(&self.cfg);
        let mut acc: Vec<Vec<Option<Vec<i64>>>> = vec![vec![None; rows]; tiles.len()];
        // Next token (tile, index); tile being read out and its rows so far.
        let (mut tile, mut tok, mut reading, mut got) = (0usize, 0usize, 0usize, 0usize);
        // Per tile: cycle its last token was taken; cycle of its row 0 handshake.
        let mut last_taken: Vec<Option<u64>> = vec![None; tiles.len()];
        let mut row0: Vec<Option<u64>> = vec![None; tiles.len()];
        let mut offered = vec![false; tiles.len()];
        let (mut cycles, mut waits) = (0u64, 0u64);
        let burst = self.cfg.burst_readout;
        let noisy = traffic.bubble + traffic.stall > 0.0;
        let oversize: Vec<bool> = tiles.iter().map(|_| noisy && rng.chance(0.2)).collect();
        // Burst read-out: tiles started; the start cycle and kind of each.
        let mut started = 0usize;
        let mut start_cycle: Vec<Option<(u64, bool)>> = vec![None; tiles.len()];
        let tokens: u64 = tiles.iter().map(|t| t.tokens.len() as u64).sum();
        let limit = 100
            + 10 * (tokens + tiles.len() as u64 * (2 * rows + cols) as u64)
                * (1 + (traffic.bubble + traffic.stall > 0.0) as u64 * 20);
        while reading < tiles.len() {
            let offer = tile < tiles.len() && !rng.chance(traffic.bubble);
            if offer {
                self.drive(&tiles[tile].tokens[tok]);
            }
            let mut take = !rng.chance(traffic.stall);
            // The tile whose bias the read-out adds (the next to start).
            let biased = if burst {
                started.min(tiles.len() - 1)
            } else {
                reading
            };
            let pending_oversize = started < tiles.len() && oversize[started];
            let room = burst && !pending_oversize && !rng.chance(traffic.stall);
            if burst {
                self.model.set_bool("out_room", room);
                self.model.set_bool("out_oversize", pending_oversize);
                // A burst is never held up.
                if start_cycle[reading].is_some_and(|(_, sure)| sure) {
                    take = true;
                }
            }
            self.model.set_lanes(
                "bias",
                32,
                &tiles[biased]
                    .bias
                    .iter()
                    .map(|&b| i64::from(b))
                    .collect::<Vec<_>>(),
            );
            self.model.set_bool("in_valid", offer);
            self.model.set_bool("out_ready", take);
            self.model.eval();
            let in_ready = self.model.get_bool("in_ready");
            if offer {
                let is_last = tok + 1 == tiles[tile].tokens.len();
                // The tile before has finished its read-out in an earlier
                // cycle; with a burst, started it.
                let free = tile == 0
                    || row0[tile - 1].is_some_and(|h| h < cycles)
                    || start_cycle[tile - 1].is_some_and(|(x, sure)| sure && x < cycles);
                assert_eq!(
                    in_ready,
                    !is_last || free,
                    "cycle {cycles}: tile {tile} token {tok} (last: {is_last}) refused or taken wrongly"
                );
                if in_ready {
                    tok += 1;
                    if is_last {
                        last_taken[tile] = Some(cycles);
                        tile += 1;
                        tok = 0;
                    }
                } else {
                    waits += 1;
                }
            }
            if burst {
                // The read-out starts in the first cycle it may.
                let may = started < tiles.len()
                    && last_taken[started].is_some_and(|e| e + flush <= cycles)
                    && (started == 0 || row0[started - 1].is_some_and(|h| h < cycles))
                    && (room || pending_oversize);
                assert_eq!(
                    self.model.get_bool("out_start"),
                    may,
                    "cycle {cycles}: tile {started}'s read-out start"
                );
                if may {
                    start_cycle[started] = Some((cycles, room));
                    started += 1;
                }
            }
            if self.model.get_bool("out_valid") {
                let e = last_taken[reading].expect("rows only after the last token");
                if !offered[reading] {
                    let first = match start_cycle[reading] {
                        Some((x, _)) if burst => x + 1,
                        _ => e + flush + 1,
                    };
                    assert_eq!(cycles, first, "tile {reading}: first row offered");
                    offered[reading] = true;
                }
                if take {
                    let row = self.model.get_u64("out_row") as usize;
                    assert_eq!(
                        row,
                        readout_row(&self.cfg, got as u32) as usize,
                        "tile {reading}: read-out order (docs/spec.md §6.2)"
                    );
                    assert!(
                        row < rows && acc[reading][row].is_none(),
                        "tile {reading}: row {row} read out twice or out of range"
                    );
                    acc[reading][row] = Some(self.read_row(low_shift));
                    got += 1;
                    if got == rows {
                        row0[reading] = Some(cycles);
                        reading += 1;
                        got = 0;
                    }
                }
            }
            self.model.tick(1);
            cycles += 1;
            assert!(cycles < limit, "stream did not finish in {limit} cycles");
        }
        self.model.set_bool("in_valid", false);
        self.model.set_bool("out_ready", true);
        self.model.eval();
        StreamOutcome {
            acc: acc
                .into_iter()
                .map(|t| {
                    t.into_iter()
                        .map(|r| r.expect("every row read out"))
                        .collect()
                })
                .collect(),
            cycles,
            waits,
        }
    }
}
