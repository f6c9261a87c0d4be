//! DRQ on a real network: a small Fashion-MNIST CNN trained with candle,
//! quantised to the spec's numbers (a `drq_golden::network::Network`), and
//! evaluated for accuracy and cycles with the golden model. See
//! `docs/model.md`.
//!
//! * [`data`]: the Fashion-MNIST IDX files and the train / calibration / test splits.
//! * [`float`]: the architecture and the float model.
//! * `train`: seeded training with candle (feature `train`, off by default; `make model` turns it on).
//! * [`quant`]: quantisation to activation codes, int8 weights, int32 bias, M / SH, thresholds.
//! * [`eval`]: accuracy and cycles under the float, int8, int4, drq and outlier schemes.
//! * [`calibrate`]: per-layer T, s, sw chosen on the calibration set under an accuracy budget.
//! * [`report`]: the Markdown table and the SVG figures.

pub mod calibrate;
pub mod data;
pub mod eval;
pub mod float;
pub mod quant;
pub mod report;
#[cfg(feature = "train")]
pub mod train;

pub use data::{Dataset, Split};
pub use eval::{evaluate, Scheme, SchemeResult};
pub use float::FloatModel;
