// drq_icebreaker: board wrapper of the DRQ accelerator for the 1BitSquared
// iCEBreaker (Lattice iCE40UP5K-SG48). Hand-written Verilog-2005; pins in
// icebreaker.pcf, configuration in accel.toml, the logic in
// ../common/drq_board.v, description (and whether the core fits the UP5K)
// in docs/boards.md.
//
//   clk       12 MHz oscillator; everything runs on it (no PLL)
//   btn_n     the user button (BTN_N), active low: reset while pressed
//   uart_rx/tx  the FT2232H USB-UART, 115200 baud 8N1
//   led_n[0]  red LED (LEDR_N, active low): irq
//   led_n[1]  green LED (LEDG_N, active low): heartbeat (~0.7 Hz)
//   led[0..4] the LED/button PMOD (LED1..LED5, active high): irq, host
//             activity (stretched to ~87 ms), reset held, heartbeat, off
`default_nettype none
module drq_icebreaker #(
    parameter integer CLKS_PER_BIT = 104   // 12 MHz / 115200 baud (0.2 % fast)
) (
    input  wire       clk,
    input  wire       btn_n,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [1:0] led_n,
    output wire [4:0] led
);
    wire [3:0] status;   // heartbeat, reset, activity, irq
    drq_board #(
        .CLKS_PER_BIT(CLKS_PER_BIT), .BUTTON_ACTIVE_LOW(1),
        .HEARTBEAT_BITS(24),   // 12 MHz / 2^24 = 0.72 Hz
        .ACTIVITY_BITS(20)     // 2^20 / 12 MHz = 87 ms
    ) board (
        .clk(clk), .button(btn_n), .uart_rx(uart_rx), .uart_tx(uart_tx),
        .leds(status)
    );
    assign led_n = ~{status[3], status[0]};
    assign led = {1'b0, status};
endmodule
`default_nettype wire
