//! DRQ verification: the golden model of SPEC sections 2 to 5, tensor files,
//! and (from the array issue on) the Verilator co-simulation.
//!
//! * [`numerics`]: the number rules (quantisers, wrap, requantisation).
//! * [`predictor`]: the sensitivity predictor.
//! * [`schedule`]: tiles, steps, modes, tokens and counters.
//! * [`golden`]: one layer end to end.
//! * [`files`]: `.npy` inputs and outputs of a layer run, as the CLI uses them.
//! * [`replay`]: the reference token stream of a layer, tile by tile.
//! * [`sim`]: Verilator models of emitted designs, built and loaded at run time.
//! * [`array_tb`]: the systolic array's testbench.
//! * [`predictor_tb`]: the sensitivity predictor's testbench.
//! * [`synth`]: Yosys synthesis and cell counts.

pub mod array_tb;
pub mod axil_bfm;
pub mod controller_tb;
pub mod cycles;
pub mod driver;
pub mod files;
pub mod fpga;
pub mod golden;
pub mod layer;
pub mod network;
pub mod npy;
pub mod numerics;
pub mod output_stage_tb;
pub mod predictor;
pub mod predictor_tb;
pub mod regress;
pub mod replay;
pub mod rng;
pub mod schedule;
pub mod sim;
pub mod synth;
pub mod tensor;
pub mod testdata;
pub mod uart;
pub mod vcd;
pub mod waves;

pub use golden::{run_layer, LayerData, LayerRun};
pub use layer::Layer;
pub use schedule::{Counters, Lowering};
