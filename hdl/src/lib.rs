//! DRQ accelerator hardware.
//!
//! * [`config`]: the one typed, validated generator configuration
//!   ([`AccelConfig`]) that the RTL generator, the golden model and the
//!   testbenches all read.

pub mod config;
pub mod token;

pub use config::{AccelConfig, ConfigError};
