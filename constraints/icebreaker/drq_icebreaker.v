// drq_icebreaker: board wrapper of the DRQ accelerator for the 1BitSquared
// iCEBreaker (Lattice iCE40UP5K-SG48). Hand-written Verilog-2005; pins in
// icebreaker.pcf, configuration in accel.toml, description (and whether
// the core fits the UP5K) in docs/boards.md.
//
//   clk       12 MHz oscillator; everything runs on it (no PLL)
//   btn_n     the user button (BTN_N), active low: reset while pressed
//             (two-flop synchroniser; a 16-cycle power-on reset after
//             configuration)
//   uart_rx/tx  the FT2232H USB-UART: drq_uart_axil at 115200 baud 8N1
//             turns host requests into AXI4-Lite transactions on drq_top
//   led_n[0]  red LED (LEDR_N, active low): irq
//   led_n[1]  green LED (LEDG_N, active low): heartbeat (~0.7 Hz)
//   led[0..4] the LED/button PMOD (LED1..LED5, active high): irq, host
//             activity (stretched to ~90 ms), reset held, heartbeat, off
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
    // Reset: button synchronised, plus a power-on reset. All flip-flops
    // start at 0 after configuration.
    reg [1:0] btn_sync = 2'b00;
    reg [3:0] por_cnt  = 4'd0;
    reg       por_done = 1'b0;
    always @(posedge clk) begin
        btn_sync <= {btn_sync[0], ~btn_n};
        if (!por_done) begin
            por_cnt  <= por_cnt + 1'b1;
            por_done <= (por_cnt == 4'hF);
        end
    end
    wire rst = btn_sync[1] | ~por_done;

    // AXI4-Lite between the bridge and the accelerator.
    wire        awvalid, awready, wvalid, wready, bvalid, bready;
    wire        arvalid, arready, rvalid, rready;
    wire [23:0] awaddr, araddr;
    wire [31:0] wdata, rdata;
    wire [3:0]  wstrb;
    wire [1:0]  bresp, rresp;
    wire        irq, active;

    drq_uart_axil #(.CLKS_PER_BIT(CLKS_PER_BIT)) bridge (
        .clk(clk), .rst(rst), .uart_rx(uart_rx), .uart_tx(uart_tx),
        .awvalid(awvalid), .awready(awready), .awaddr(awaddr),
        .wvalid(wvalid), .wready(wready), .wdata(wdata), .wstrb(wstrb),
        .bvalid(bvalid), .bready(bready), .bresp(bresp),
        .arvalid(arvalid), .arready(arready), .araddr(araddr),
        .rvalid(rvalid), .rready(rready), .rdata(rdata), .rresp(rresp),
        .active(active)
    );

    drq_top accel (
        .clk(clk), .rst(rst),
        .awvalid(awvalid), .awready(awready), .awaddr(awaddr),
        .wvalid(wvalid), .wready(wready), .wdata(wdata), .wstrb(wstrb),
        .bvalid(bvalid), .bready(bready), .bresp(bresp),
        .arvalid(arvalid), .arready(arready), .araddr(araddr),
        .rvalid(rvalid), .rready(rready), .rdata(rdata), .rresp(rresp),
        .irq(irq)
    );

    // Status LEDs.
    reg [23:0] ticks = 24'd0;      // bit 23: 12 MHz / 2^24 = 0.72 Hz
    reg [19:0] act_hold = 20'd0;   // 2^20 / 12 MHz = 87 ms
    always @(posedge clk) begin
        ticks <= ticks + 1'b1;
        if (active) act_hold <= {20{1'b1}};
        else if (act_hold != 20'd0) act_hold <= act_hold - 1'b1;
    end
    assign led_n = ~{ticks[23], irq};
    assign led = {1'b0, ticks[23], rst, (act_hold != 20'd0), irq};
endmodule
`default_nettype wire
