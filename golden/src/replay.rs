//! The reference token stream of a layer: the golden model's step-level
//! schedule cut into the array's tokens (`drq_arch::token`), tile by tile,
//! with the accumulators each tile must produce. RTL testbenches replay it
//! into the array; the region controller must generate exactly this stream.

use crate::golden::{run_layer, DataError, LayerData, LayerRun};
use crate::layer::Layer;
use crate::numerics::{wrap_acc, Quantizer};
use crate::schedule::{InputSensitivity, Lowering, PixelTile, Step};
use drq_arch::token::{act_digit, weight_digit, TokenFormat};
use drq_arch::AccelConfig;

/// One token for every row and column at once (before the array's skew).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSlice {
    /// First token of a step.
    pub first: bool,
    /// Last token of a HIGH step: sensitive PEs' step products are complete.
    pub commit: bool,
    /// Last token of the tile.
    pub last: bool,
    /// Horner shift from the previous token, in units of the format's unit.
    pub hshift: u32,
    /// Per row: the activation digit (sensitive) or q (insensitive).
    pub digits: Vec<u32>,
    /// Per row: the activation is sensitive (only ever set in HIGH steps).
    pub sens: Vec<bool>,
    /// Per column: this token's digit of w (0 in LOW steps).
    pub w_digits: Vec<i32>,
    /// Per column: w_lo of the step's weight.
    pub w_lows: Vec<i32>,
}

/// A (channel tile, pixel tile) pair: its steps, tokens and expected result.
#[derive(Debug, Clone)]
pub struct TileReplay {
    pub channel_tile: u32,
    pub pixel_tile: PixelTile,
    pub steps: Vec<Step>,
    pub tokens: Vec<TokenSlice>,
    /// Bias of each column (0 for columns beyond C_out).
    pub bias: Vec<i32>,
    /// expected[row][col]: the wrapped accumulator the array must produce
    /// (bias alone for idle rows, 0 for idle columns).
    pub expected: Vec<Vec<i64>>,
}

/// A layer ready to replay tile by tile.
pub struct Replay<'a> {
    pub cfg: AccelConfig,
    pub lowering: Lowering,
    pub run: LayerRun,
    pub format: TokenFormat,
    data: &'a LayerData,
    sens: InputSensitivity,
    quant: Quantizer,
}

impl<'a> Replay<'a> {
    pub fn new(
        cfg: &AccelConfig,
        layer: &Layer,
        data: &'a LayerData,
    ) -> Result<Replay<'a>, DataError> {
        let run = run_layer(cfg, layer, data)?;
        let sens = InputSensitivity::new(
            &run.mask_in,
            cfg.region as usize,
            layer.c_in as usize,
            layer.h as usize,
            layer.w as usize,
        );
        Ok(Replay {
            cfg: *cfg,
            lowering: Lowering::new(cfg, layer),
            run,
            format: TokenFormat::new(cfg),
            data,
            sens,
            quant: Quantizer::new(cfg, layer.low_shift, layer.w_low_shift),
        })
    }

    /// s + sw: the shift of every LOW-path product.
    pub fn low_shift(&self) -> u32 {
        self.quant.s + self.quant.sw
    }

    /// All tiles in spec order.
    pub fn tiles(&self) -> impl Iterator<Item = TileReplay> + '_ {
        self.lowering.tiles().map(|(ct, pt)| self.tile(ct, pt))
    }

    pub fn tile(&self, channel_tile: u32, pixel_tile: PixelTile) -> TileReplay {
        let cfg = &self.cfg;
        let low = &self.lowering;
        let (rows, cols) = (cfg.rows as usize, cfg.cols as usize);
        let (oc0, n_oc) = low.channel_range(channel_tile);
        let steps = low.tile_steps(&self.sens, &pixel_tile);
        // Per row: the pixel it holds, if any.
        let pixels: Vec<Option<(u32, u32)>> = (0..rows as u32)
            .map(|r| low.row_pixel(&pixel_tile, r))
            .collect();
        let mut tokens = Vec::with_capacity(steps.len() * self.format.high_tokens.len());
        for step in &steps {
            // Activation and sensitivity each row reads at this step.
            let acts: Vec<(u32, bool)> = pixels
                .iter()
                .map(
                    |p| match p.and_then(|(oh, ow)| low.input_of(oh, ow, step.k)) {
                        None => (0, false),
                        Some((c, y, x)) => {
                            let (c, y, x) = (c as usize, y as usize, x as usize);
                            (self.data.input.at(c, y, x), self.sens.at(c, y, x))
                        }
                    },
                )
                .collect();
            let weights: Vec<i32> = (0..cols as u32)
                .map(|j| {
                    if j < n_oc {
                        self.data.weights.at_k((oc0 + j) as usize, step.k as usize)
                    } else {
                        0
                    }
                })
                .collect();
            let w_lows: Vec<i32> = weights.iter().map(|&w| self.quant.w_lo(w)).collect();
            if step.high {
                let n = self.format.high_tokens.len();
                for (i, t) in self.format.high_tokens.iter().enumerate() {
                    tokens.push(TokenSlice {
                        first: i == 0,
                        commit: i + 1 == n,
                        last: false,
                        hshift: t.hshift_units,
                        digits: acts
                            .iter()
                            .map(|&(a, s)| {
                                if s {
                                    act_digit(a, t.a_digit, cfg)
                                } else {
                                    self.quant.q(a)
                                }
                            })
                            .collect(),
                        sens: acts.iter().map(|&(_, s)| s).collect(),
                        w_digits: weights
                            .iter()
                            .map(|&w| weight_digit(w, t.w_digit, cfg))
                            .collect(),
                        w_lows: w_lows.clone(),
                    });
                }
            } else {
                tokens.push(TokenSlice {
                    first: true,
                    commit: false,
                    last: false,
                    hshift: 0,
                    digits: acts.iter().map(|&(a, _)| self.quant.q(a)).collect(),
                    sens: vec![false; rows],
                    w_digits: vec![0; cols],
                    w_lows,
                });
            }
        }
        if let Some(t) = tokens.last_mut() {
            t.last = true;
        }
        let bias: Vec<i32> = (0..cols as u32)
            .map(|j| {
                if j < n_oc {
                    self.data.bias[(oc0 + j) as usize]
                } else {
                    0
                }
            })
            .collect();
        let (ho, wo) = (low.ho as usize, low.wo as usize);
        let expected = pixels
            .iter()
            .map(|p| {
                (0..cols)
                    .map(|j| match p {
                        Some((oh, ow)) if (j as u32) < n_oc => {
                            self.run.acc
                                [((oc0 as usize + j) * ho + *oh as usize) * wo + *ow as usize]
                        }
                        _ => wrap_acc(bias[j].into(), cfg.acc_bits),
                    })
                    .collect()
            })
            .collect();
        TileReplay {
            channel_tile,
            pixel_tile,
            steps,
            tokens,
            bias,
            expected,
        }
    }
}
