// drq_board: the board-independent part of the DRQ board wrappers
// (constraints/<board>/drq_<board>.v). Hand-written Verilog-2005;
// description in docs/boards.md.
//
// Holds the reset logic, the UART bridge (drq_uart_axil) and the core
// (drq_top, emitted for the board's accel.toml), and drives four status
// signals. A wrapper maps the board's pins onto these ports and sets the
// parameters for its clock:
//
//   clk       the board oscillator; everything runs on it (no PLL)
//   button    the reset button; active low if BUTTON_ACTIVE_LOW = 1.
//             Reset while pressed (two-flop synchroniser) and for 16
//             cycles after configuration (power-on reset from flip-flops
//             that start at 0). rst is synchronous, active high.
//   uart_rx/tx  the USB-UART: drq_uart_axil at clock / CLKS_PER_BIT baud,
//             8N1, turns host requests into AXI4-Lite transactions
//   leds[0]   irq (STATUS.done with MODE.irq_enable)
//   leds[1]   host activity: a request in progress, stretched by
//             2^ACTIVITY_BITS cycles so it is visible
//   leds[2]   reset held
//   leds[3]   heartbeat: bit HEARTBEAT_BITS-1 of a free-running counter
//             (clock / 2^HEARTBEAT_BITS Hz): the clock runs
// All four are active high.
`default_nettype none
module drq_board #(
    parameter integer CLKS_PER_BIT      = 217,  // clock / baud
    parameter integer BUTTON_ACTIVE_LOW = 0,    // 1: button pressed = 0
    parameter integer HEARTBEAT_BITS    = 25,   // heartbeat counter width
    parameter integer ACTIVITY_BITS     = 21    // activity stretch width
) (
    input  wire       clk,
    input  wire       button,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [3:0] leds
);
    // Reset: button synchronised, plus a power-on reset. All flip-flops
    // start at 0 after configuration.
    wire      pressed  = (BUTTON_ACTIVE_LOW != 0) ? ~button : button;
    reg [1:0] btn_sync = 2'b00;
    reg [3:0] por_cnt  = 4'd0;
    reg       por_done = 1'b0;
    always @(posedge clk) begin
        btn_sync <= {btn_sync[0], pressed};
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

    // Status.
    reg [HEARTBEAT_BITS-1:0] ticks    = {HEARTBEAT_BITS{1'b0}};
    reg [ACTIVITY_BITS-1:0]  act_hold = {ACTIVITY_BITS{1'b0}};
    wire act_lit = (act_hold != {ACTIVITY_BITS{1'b0}});
    always @(posedge clk) begin
        ticks <= ticks + 1'b1;
        if (active) act_hold <= {ACTIVITY_BITS{1'b1}};
        else if (act_lit) act_hold <= act_hold - 1'b1;
    end
    assign leds = {ticks[HEARTBEAT_BITS-1], rst, act_lit, irq};
endmodule
`default_nettype wire
