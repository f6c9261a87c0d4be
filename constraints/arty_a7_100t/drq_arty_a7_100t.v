// drq_arty_a7_100t: board wrapper of the DRQ accelerator for the Digilent
// Arty A7-100T (Xilinx Artix-7 XC7A100T-1CSG324C). Hand-written
// Verilog-2005; pins and the clock in arty_a7_100t.xdc, configuration in
// accel.toml, the logic in ../common/drq_board.v, description in
// docs/boards.md.
//
//   clk       100 MHz oscillator; everything runs on it (no MMCM)
//   btn_n     the RESET button (ck_rst), active low: reset while pressed
//   uart_rx/tx  the FT2232H USB-UART, 115200 baud 8N1
//   led[3:0]  irq, host activity (~84 ms), reset held, heartbeat (~0.75 Hz)
`default_nettype none
module drq_arty_a7_100t #(
    parameter integer CLKS_PER_BIT = 868   // 100 MHz / 115200 baud
) (
    input  wire       clk,
    input  wire       btn_n,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [3:0] led
);
    drq_board #(
        .CLKS_PER_BIT(CLKS_PER_BIT), .BUTTON_ACTIVE_LOW(1),
        .HEARTBEAT_BITS(27),   // 100 MHz / 2^27 = 0.75 Hz
        .ACTIVITY_BITS(23)     // 2^23 / 100 MHz = 84 ms
    ) board (
        .clk(clk), .button(btn_n), .uart_rx(uart_rx), .uart_tx(uart_tx),
        .leds(led)
    );
endmodule
`default_nettype wire
