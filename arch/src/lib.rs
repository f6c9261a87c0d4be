//! DRQ architecture: what the hardware, the golden model and the host all
//! agree on, with no hardware-description code (docs/spec.md).
//!
//! * [`banked`]: the stored-once activation layout (issue 17): a map held
//!   once over ROWS banks, laid out for the layer that reads it.
//! * [`cyclic`]: a stored-once layout whose step reads are one rotation of
//!   the banks (issue 17; in the hardware up to the region controller).
//! * [`config`]: the one typed, validated generator configuration
//!   ([`AccelConfig`], docs/spec.md §1).
//! * [`token`]: the token order and field widths of the array (§4).
//! * [`regs`]: the register map table of `drq_top` and its buffer window
//!   (§8): the one source of the RTL's register file, the JSON, the C
//!   header and the docs table.

pub mod banked;
pub mod config;
pub mod cyclic;
pub mod regs;
pub mod text;
pub mod token;

pub use config::{AccelConfig, ConfigError};
