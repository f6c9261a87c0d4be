//! The FPGA flow of the DRQ accelerator (docs/fpga.md, docs/boards.md).
//!
//! * [`synth`]: Yosys synthesis and cell counts per device family.
//! * [`fpga`]: boards, nextpnr place and route, reports, the comparison of
//!   DRQ against the INT8 array.
//! * [`netlist`]: fixes to Yosys's netlist before nextpnr reads it.
//! * [`uart`]: the host side of the boards' UART-to-AXI4-Lite bridge.

pub mod fpga;
pub mod netlist;
pub mod synth;
pub mod uart;
