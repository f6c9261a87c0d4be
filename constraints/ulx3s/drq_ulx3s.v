// drq_ulx3s: board wrapper of the DRQ accelerator for the Radiona ULX3S
// (Lattice ECP5 LFE5U-85F). Hand-written Verilog-2005; pins in ulx3s.lpf,
// configuration in accel.toml, the logic in ../common/drq_board.v,
// description in docs/boards.md.
//
//   clk       25 MHz oscillator; everything runs on it (no PLL)
//   btn       FIRE1, active high: reset while pressed
//   uart_rx/tx  the FTDI FT231X USB-UART, 115200 baud 8N1
//   led[3:0]  irq, host activity (~84 ms), reset held, heartbeat (~0.75 Hz)
//   led[7:4]  off
//   wifi_gpio0  held high, as the ULX3S examples do, so the ESP32 does
//             not reboot the board
`default_nettype none
module drq_ulx3s #(
    parameter integer CLKS_PER_BIT = 217   // 25 MHz / 115200 baud
) (
    input  wire       clk,
    input  wire       btn,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [7:0] led,
    output wire       wifi_gpio0
);
    drq_board #(
        .CLKS_PER_BIT(CLKS_PER_BIT), .BUTTON_ACTIVE_LOW(0),
        .HEARTBEAT_BITS(25),   // 25 MHz / 2^25 = 0.75 Hz
        .ACTIVITY_BITS(21)     // 2^21 / 25 MHz = 84 ms
    ) board (
        .clk(clk), .button(btn), .uart_rx(uart_rx), .uart_tx(uart_tx),
        .leds(led[3:0])
    );
    assign led[7:4] = 4'b0000;
    assign wifi_gpio0 = 1'b1;
endmodule
`default_nettype wire
