// drq_arty_a7_100t: board wrapper of the DRQ accelerator for the Digilent
// Arty A7-100T (Xilinx Artix-7 XC7A100T-1CSG324C). Hand-written
// Verilog-2005; pins and the clock in arty_a7_100t.xdc, configuration in
// accel.toml, description in docs/boards.md.
//
//   clk       100 MHz oscillator; everything runs on it (no MMCM)
//   btn_n     the RESET button (ck_rst), active low: reset while pressed
//             (two-flop synchroniser; a 16-cycle power-on reset after
//             configuration)
//   uart_rx/tx  the FT2232H USB-UART: drq_uart_axil at 115200 baud 8N1
//             turns host requests into AXI4-Lite transactions on drq_top
//   led[0]    irq (STATUS.done with MODE.irq_enable)
//   led[1]    host activity (a request in progress, stretched to ~80 ms)
//   led[2]    reset held
//   led[3]    heartbeat (~0.75 Hz): the clock runs
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
    reg [26:0] ticks = 27'd0;      // bit 26: 100 MHz / 2^27 = 0.75 Hz
    reg [22:0] act_hold = 23'd0;   // 2^23 / 100 MHz = 84 ms
    always @(posedge clk) begin
        ticks <= ticks + 1'b1;
        if (active) act_hold <= {23{1'b1}};
        else if (act_hold != 23'd0) act_hold <= act_hold - 1'b1;
    end
    assign led = {ticks[26], rst, (act_hold != 23'd0), irq};
endmodule
`default_nettype wire
