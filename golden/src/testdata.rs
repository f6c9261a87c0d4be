//! Random layer data for tests and benchmarks: edge values (0, the largest
//! code, the most negative and most positive weight) often, masks with a
//! chosen fraction of sensitive regions.

use crate::golden::LayerData;
use crate::layer::{Layer, RawLayer};
use crate::rng::Rng;
use crate::tensor::{FeatureMap, Mask, Weights};
use drq_arch::AccelConfig;

/// A test layer: `raw` checked on its own and against `cfg` (panics with
/// the broken rule otherwise). Build `raw` with [`RawLayer::conv`].
#[track_caller]
pub fn layer(cfg: &AccelConfig, raw: &RawLayer) -> Layer {
    let l = Layer::from_raw(raw).unwrap();
    l.check(cfg).unwrap();
    l
}

/// Input and weights with edge values one time in five each; bias in
/// +-`bias_range`; the given mask (None: predicted from the threshold).
pub fn random_layer_data(
    rng: &mut Rng,
    cfg: &AccelConfig,
    l: &Layer,
    bias_range: i64,
    mask: Option<Mask>,
) -> LayerData {
    let odds = Odds {
        one_in: 5,
        extra_zeros: 0,
    };
    random_layer_data_with(rng, cfg, l, odds, bias_range, mask)
}

/// How often [`random_layer_data_with`] draws edge values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Odds {
    /// Each edge value (input 0 and largest code; weight most negative and
    /// most positive) one time in `one_in`.
    pub one_in: i64,
    /// Input 0 this many times more in `one_in` (post-ReLU maps).
    pub extra_zeros: i64,
}

/// [`random_layer_data`] with the edge values as often as `odds` says.
pub fn random_layer_data_with(
    rng: &mut Rng,
    cfg: &AccelConfig,
    l: &Layer,
    odds: Odds,
    bias_range: i64,
    mask: Option<Mask>,
) -> LayerData {
    let a_max = i64::from(cfg.a_max());
    let (wmin, wmax) = cfg.w_range();
    let input = FeatureMap::from_fn(
        l.c_in as usize,
        l.h as usize,
        l.w as usize,
        |_, _, _| match rng.range(0, odds.one_in) {
            0 => 0,
            1 => a_max as u32,
            r if r < 2 + odds.extra_zeros => 0,
            _ => rng.range(0, a_max) as u32,
        },
    );
    let weights = Weights::from_fn(
        l.c_out as usize,
        l.c_in as usize,
        l.kernel as usize,
        |_, _, _, _| match rng.range(0, odds.one_in) {
            0 => wmin,
            1 => wmax,
            _ => rng.range(wmin.into(), wmax.into()) as i32,
        },
    );
    let bias = (0..l.c_out)
        .map(|_| rng.range(-bias_range, bias_range) as i32)
        .collect();
    LayerData {
        input,
        weights,
        bias,
        mask,
    }
}

/// The geometry of a random convolution ([`random_shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub hw: (i64, i64),
    pub kernel: i64,
    pub stride: i64,
    pub padding: i64,
    pub tile: (i64, i64),
}

impl Shape {
    /// The convolution of this shape from `c_in` to `c_out` channels.
    pub fn conv(&self, c_in: i64, c_out: i64) -> RawLayer {
        let Shape {
            hw,
            kernel,
            stride,
            padding,
            tile,
        } = *self;
        RawLayer::conv(c_in, c_out, hw, kernel, stride, padding, tile)
    }
}

/// A random convolution geometry for `cfg`: kernel 1, 3 or 5, stride 1
/// or 2, padding 0..K-1 but enough that the kernel fits a line of
/// `cfg.max_width` pixels, sides from the smallest the kernel allows to
/// below `max_side` (and the width to below `cfg.max_width`), sizes not
/// multiples of R or the array as often as not, a tile of at most ROWS
/// pixels.
pub fn random_shape(rng: &mut Rng, cfg: &AccelConfig, max_side: i64) -> Shape {
    let max_w = i64::from(cfg.max_width).min(max_side);
    let kernel = rng.pick(&[1i64, 3, 5]);
    let padding = rng.range(((kernel - max_w + 1) / 2).max(0), kernel - 1);
    let stride = rng.pick(&[1i64, 2]);
    let rows = i64::from(cfg.rows);
    let th = rng.range(1, rows);
    let tw = rng.range(1, rows / th);
    let min_side = (kernel - 2 * padding).max(1);
    let hw = (rng.range(min_side, max_side), rng.range(min_side, max_w));
    Shape {
        hw,
        kernel,
        stride,
        padding,
        tile: (th, tw),
    }
}

/// A mask of the layer's input with each region sensitive with probability `p`.
pub fn random_mask(rng: &mut Rng, cfg: &AccelConfig, l: &Layer, p: f64) -> Mask {
    let (rh, rw) = l.mask_in_dims(cfg.region);
    let mut m = Mask::filled(l.c_in as usize, rh as usize, rw as usize, false);
    m.data.iter_mut().for_each(|b| *b = rng.chance(p));
    m
}
