// drq_arty_a7_100t: board wrapper of the DRQ accelerator for the Digilent
// Arty A7-100T (Xilinx Artix-7 XC7A100T-1CSG324C). Hand-written
// Verilog-2005; pins and the clock in arty_a7_100t.xdc, configuration in
// accel.toml, the logic in ../common/drq_board.v, description in
// docs/boards.md.
//
//   clk       100 MHz oscillator into an MMCM: the core runs at
//             1000 MHz / CORE_CLK_DIVIDE (50 MHz by default; the 16x16
//             core is not expected to close timing at 100 MHz, and
//             Vivado derives the generated clock from the .xdc's clock)
//   btn_n     the RESET button (ck_rst), active low: reset while pressed,
//             and until the MMCM has locked
//   uart_rx/tx  the FT2232H USB-UART, 115200 baud 8N1
//   led[3:0]  irq, host activity (~84 ms), reset held, heartbeat (~0.75 Hz)
//
// MMCME2_BASE and BUFG are the Xilinx primitives (Vivado's UNISIM library,
// Yosys's cells); unisim_lint.v holds port-only models for the lint.
`default_nettype none
module drq_arty_a7_100t #(
    // The core clock: VCO 1000 MHz (100 MHz x 10) / CORE_CLK_DIVIDE.
    parameter integer CORE_CLK_DIVIDE = 20,                 // 50 MHz
    parameter integer CLKS_PER_BIT = 434,                   // 50 MHz / 115200 baud
    parameter integer HEARTBEAT_BITS = 26,                  // 50 MHz / 2^26 = 0.75 Hz
    parameter integer ACTIVITY_BITS = 22                    // 2^22 / 50 MHz = 84 ms
) (
    input  wire       clk,
    input  wire       btn_n,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [3:0] led
);
    wire clk_fb, clk_fb_buf, core_clk_mmcm, core_clk, locked;
    MMCME2_BASE #(
        .CLKIN1_PERIOD(10.0),
        .DIVCLK_DIVIDE(1),
        .CLKFBOUT_MULT_F(10.0),
        .CLKOUT0_DIVIDE_F(CORE_CLK_DIVIDE)
    ) mmcm (
        .CLKIN1(clk), .CLKFBIN(clk_fb_buf), .RST(1'b0), .PWRDWN(1'b0),
        .CLKFBOUT(clk_fb), .CLKOUT0(core_clk_mmcm), .LOCKED(locked)
    );
    BUFG feedback_buf (.I(clk_fb), .O(clk_fb_buf));
    BUFG core_clk_buf (.I(core_clk_mmcm), .O(core_clk));

    drq_board #(
        .CLKS_PER_BIT(CLKS_PER_BIT), .BUTTON_ACTIVE_LOW(1),
        .HEARTBEAT_BITS(HEARTBEAT_BITS), .ACTIVITY_BITS(ACTIVITY_BITS)
    ) board (
        // Not locked reads as the (active-low) button pressed: the core
        // stays in reset until its clock is stable (drq_board synchronises
        // the button to core_clk).
        .clk(core_clk), .button(btn_n & locked), .uart_rx(uart_rx),
        .uart_tx(uart_tx), .leds(led)
    );
endmodule
`default_nettype wire
