// Port-only models of the two Xilinx primitives drq_arty_a7_100t uses, for
// the lint of the wrapper (verif/tests/boards.rs); never synthesized:
// Vivado and Yosys bring their own MMCME2_BASE and BUFG.
// Only the ports the wrapper connects are declared.
`default_nettype none
/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off UNDRIVEN */
module MMCME2_BASE #(
    parameter real CLKIN1_PERIOD = 10.0,
    parameter integer DIVCLK_DIVIDE = 1,
    parameter real CLKFBOUT_MULT_F = 5.0,
    parameter real CLKOUT0_DIVIDE_F = 1.0
) (
    input  wire CLKIN1,
    input  wire CLKFBIN,
    input  wire RST,
    input  wire PWRDWN,
    output wire CLKFBOUT,
    output wire CLKOUT0,
    output wire LOCKED
);
endmodule

module BUFG (
    input  wire I,
    output wire O
);
    assign O = I;
endmodule
/* verilator lint_on UNDRIVEN */
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on DECLFILENAME */
`default_nettype wire
