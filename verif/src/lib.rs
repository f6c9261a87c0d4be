//! DRQ verification: the Verilator harness, bus models, block testbenches,
//! the host driver of `drq_top`, the seeded regression and the waveforms.
//! The reference they check against is the `drq_golden` crate.
//!
//! * [`sim`]: Verilator models of emitted designs, built and loaded at run time.
//! * [`axil_bfm`]: the AXI4-Lite master bus model.
//! * [`array_tb`], [`controller_tb`], [`output_stage_tb`], [`predictor_tb`],
//!   [`regfile_tb`] (the register file cut out of `drq_top`):
//!   block testbenches.
//! * [`driver`]: runs layers and networks on `drq_top` over its host bus.
//! * [`host_checks`]: directed checks of the host interface (error responses,
//!   reads while busy, oversize maps).
//! * [`icarus`]: one layer of `drq_top` in Icarus Verilog (generated testbench).
//! * [`regress`]: the seeded co-simulation regression.
//! * [`mutate`]: mutation analysis of the emitted `drq_top` against the regression.
//! * [`liveness`]: the cone of influence of the top's outputs (dead logic).
//! * [`coverage`]: line, toggle and functional coverage of `drq_top` over the regression.
//! * [`scoreboard`]: a `drq_top` run against the golden model, every output.
//! * [`tools`]: Verilator and Yosys launched, their output captured.
//! * [`vcd`], [`waves`]: waveform dumps and the region-switching picture.

pub mod array_tb;
pub mod axil_bfm;
pub mod controller_tb;
pub mod coverage;
pub mod driver;
pub mod host_checks;
pub mod icarus;
pub mod liveness;
pub mod mutate;
pub mod output_stage_tb;
pub mod predictor_tb;
pub mod regfile_tb;
pub mod regress;
pub mod scoreboard;
pub mod sim;
pub mod tools;
pub mod vcd;
pub mod waves;
