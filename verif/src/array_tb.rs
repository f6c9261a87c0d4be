//! Testbench of the systolic array: replays tiles of tokens into the
//! Verilator model with optional random bubbles (input side) and stalls
//! (read-out side), and collects the accumulators and the cycle count.

use crate::sim::{Model, SimError, SimOptions};
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;
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

    /// Run one tile: every token in, every row out.
    pub fn run_tile(
        &mut self,
        tile: &TileReplay,
        low_shift: u32,
        traffic: Traffic,
        rng: &mut Rng,
    ) -> TileOutcome {
        let (rows, cols) = (self.cfg.rows as usize, self.cfg.cols as usize);
        self.model.set_u64("low_shift", low_shift.into());
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
                    assert!(
                        row < rows && acc[row].is_none(),
                        "row {row} read out twice or out of range"
                    );
                    acc[row] = Some(
                        self.model
                            .get_lanes("out_acc", self.cfg.acc_bits, cols, true),
                    );
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
