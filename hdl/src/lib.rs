//! DRQ accelerator hardware.
//!
//! * [`config`]: the one typed, validated generator configuration
//!   ([`AccelConfig`]) that the RTL generator, the golden model and the
//!   testbenches all read.
//! * [`token`]: the token order and field widths of the array.
//! * [`leaf`], [`pe`], [`mesh`], [`skew`], [`array`]: the variable-precision
//!   systolic array in rust-hdl, leaf to top.
//! * [`ram`]: `WordRam`, the generic on-chip buffer (block RAM inference).
//! * [`predictor`]: the sensitivity predictor (region sums, mask), top
//!   `drq_predictor`.
//! * [`emit`]: deterministic Verilog and `params.json` for a configuration.

pub mod array;
pub mod axil;
pub mod config;
pub mod controller;
pub mod emit;
pub mod leaf;
pub mod mesh;
pub mod output_stage;
pub mod pe;
pub mod predictor;
pub mod ram;
pub mod skew;
pub mod token;
pub mod top;

pub use config::{AccelConfig, ConfigError};
