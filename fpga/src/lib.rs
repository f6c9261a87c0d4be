//! The FPGA flow of the DRQ accelerator (docs/fpga.md, docs/boards.md).
//!
//! * [`synth`]: Yosys synthesis and cell counts per device family.
//! * [`fpga`]: boards, nextpnr place and route, reports, the comparison of
//!   DRQ against the INT8 array.
//! * [`netlist`]: a fix to Yosys's netlist for nextpnr (not in the flow:
//!   nextpnr 0.11's router stalls on it, docs/fpga.md).
//! * [`uart`]: the host side of the boards' UART-to-AXI4-Lite bridge.

pub mod fpga;
pub mod netlist;
pub mod synth;
pub mod uart;
