//! DRQ verification: the Verilator harness, bus models, block testbenches,
//! the host driver of `drq_top`, the seeded regression and the waveforms.
//! The reference they check against is the `drq_golden` crate.
//!
//! * [`sim`]: Verilator models of emitted designs, built and loaded at run time.
//! * [`axil_bfm`]: the AXI4-Lite master bus model.
//! * [`array_tb`], [`controller_tb`], [`output_stage_tb`], [`predictor_tb`]:
//!   block testbenches.
//! * [`driver`]: runs layers and networks on `drq_top` over its host bus.
//! * [`icarus`]: one layer of `drq_top` in Icarus Verilog (generated testbench).
//! * [`regress`]: the seeded co-simulation regression.
//! * [`mutate`]: mutation analysis of the emitted `drq_top` against the regression.
//! * [`coverage`]: line, toggle and functional coverage of `drq_top` over the regression.
//! * [`scoreboard`]: a `drq_top` run against the golden model, every output.
//! * [`tools`]: Verilator and Yosys launched, their output captured.
//! * [`vcd`], [`waves`]: waveform dumps and the region-switching picture.

pub mod array_tb;
pub mod axil_bfm;
pub mod controller_tb;
pub mod coverage;
pub mod driver;
pub mod icarus;
pub mod mutate;
pub mod output_stage_tb;
pub mod predictor_tb;
pub mod regress;
pub mod scoreboard;
pub mod sim;
pub mod tools;
pub mod vcd;
pub mod waves;
