//! The DRQ golden model: the reference every hardware result is checked
//! against (docs/spec.md §2 to §5, and the cycle formula of §7). It depends
//! on the architecture crate alone, never on the hardware it checks.
//!
//! * [`numerics`]: the number rules (quantisers, wrap, requantisation).
//! * [`predictor`]: the sensitivity predictor.
//! * [`layer`]: a validated layer description.
//! * [`schedule`]: tiles, steps, modes, tokens and counters.
//! * [`cycles`]: the documented `cycles_total` formula.
//! * [`golden`]: one layer end to end.
//! * [`network`]: a chain of layers.
//! * [`replay`]: the reference token stream of a layer, tile by tile.
//! * [`tensor`], [`npy`], [`files`]: feature maps, weights and masks, and
//!   their `.npy` files as the command line reads and writes them.
//! * [`rng`], [`testdata`]: seeded random layers for tests and regressions.

pub mod budget;
pub mod cycles;
pub mod files;
pub mod golden;
pub mod layer;
pub mod network;
pub mod npy;
pub mod numerics;
pub mod predictor;
pub mod publish;
pub mod replay;
pub mod rng;
pub mod schedule;
pub mod tensor;
pub mod testdata;

pub use golden::{run_layer, LayerData, LayerRun};
pub use layer::Layer;
pub use schedule::{Counters, Lowering};
