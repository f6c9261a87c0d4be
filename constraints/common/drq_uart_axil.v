// drq_uart_axil: UART (8N1) to AXI4-Lite master bridge for the DRQ board
// wrappers (constraints/<board>/drq_<board>.v). Hand-written Verilog-2005.
//
// Lets a host PC reach drq_top's AXI4-Lite slave through the board's
// USB-UART. One request at a time; the host waits for the whole answer
// before it sends the next request.
//
// Protocol (bytes on the wire, multi-byte fields big-endian):
//
//   write: host -> 'W' (0x57), A2 A1 A0, D3 D2 D1 D0
//          bridge performs the AXI write (WSTRB = 1111) to byte address
//          {A2,A1,A0} with data {D3,D2,D1,D0} and answers one byte:
//          'K' (0x4B) for BRESP OKAY (or EXOKAY), 'E' (0x45) for SLVERR/DECERR.
//   read:  host -> 'R' (0x52), A2 A1 A0
//          bridge performs the AXI read and answers five bytes:
//          'K' or 'E' (from RRESP as above), then RDATA D3 D2 D1 D0.
//   Any other byte where a command byte is expected is ignored. Bytes that
//   arrive while the bridge performs a transaction or sends an answer are
//   dropped. A request left incomplete for TIMEOUT_BITS bit times (100 by
//   default, about 10 characters) is abandoned: the bridge waits for a
//   command byte again, so a host can resynchronise by pausing.
//
//   Example: write 0x00000005 to MODE (byte 0x000004):
//     host:   57 00 00 04 00 00 00 05      bridge: 4B
//   Example: read the ID register (byte 0x00009C):
//     host:   52 00 00 9C                  bridge: 4B 44 52 51 01
//
// UART: 8 data bits LSB first, no parity, one stop bit; CLKS_PER_BIT clock
// cycles per bit (clock / baud, e.g. 25 MHz / 115200 = 217; at least 4).
// The receiver synchronises RX with two flip-flops, finds the start bit's
// falling edge, checks the start bit in its middle and samples each bit in
// its middle; a byte whose stop bit is low (framing error) is dropped.
//
// AXI4-Lite master: AWVALID/WVALID/ARVALID are raised together with their
// payload and held, payload stable, until the slave's READY; BREADY/RREADY
// are high while a response is awaited. One transaction at a time.
// Reset: synchronous, active high; TX idles high.
`default_nettype none
module drq_uart_axil #(
    parameter integer CLKS_PER_BIT = 217,
    parameter integer TIMEOUT_BITS = 100
) (
    input  wire        clk,
    input  wire        rst,
    // UART, board side
    input  wire        uart_rx,
    output wire        uart_tx,
    // AXI4-Lite master
    output reg         awvalid,
    input  wire        awready,
    output reg  [23:0] awaddr,
    output reg         wvalid,
    input  wire        wready,
    output reg  [31:0] wdata,
    output wire [3:0]  wstrb,
    input  wire        bvalid,
    output reg         bready,
    input  wire [1:0]  bresp,
    output reg         arvalid,
    input  wire        arready,
    output reg  [23:0] araddr,
    input  wire        rvalid,
    output reg         rready,
    input  wire [31:0] rdata,
    input  wire [1:0]  rresp,
    // high while a request is received, performed or answered
    output wire        active
);
    // ------------------------------------------------------------------
    // Bit timing
    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    localparam integer BIT_LAST_I  = CLKS_PER_BIT - 1;
    localparam integer HALF_LAST_I = CLKS_PER_BIT / 2 - 1;
    localparam [CW-1:0] BIT_LAST   = BIT_LAST_I[CW-1:0];
    localparam [CW-1:0] HALF_LAST  = HALF_LAST_I[CW-1:0];
    localparam integer TOUT_CLKS   = CLKS_PER_BIT * TIMEOUT_BITS;
    localparam integer TW          = $clog2(TOUT_CLKS + 1);
    localparam integer TOUT_LAST_I = TOUT_CLKS - 1;
    localparam [TW-1:0] TOUT_LAST  = TOUT_LAST_I[TW-1:0];

    assign wstrb = 4'b1111;

    // ------------------------------------------------------------------
    // Receiver
    reg        rx_meta, rx_sync;        // two-flop synchroniser
    reg [1:0]  rx_state;
    reg [CW-1:0] rx_cnt;
    reg [2:0]  rx_bit;
    reg [7:0]  rx_shift;
    reg        rx_valid;                // one-cycle pulse with rx_byte
    reg [7:0]  rx_byte;
    localparam [1:0] RX_IDLE = 2'd0, RX_START = 2'd1, RX_DATA = 2'd2, RX_STOP = 2'd3;

    always @(posedge clk) begin
        if (rst) begin
            rx_meta  <= 1'b1;
            rx_sync  <= 1'b1;
            rx_state <= RX_IDLE;
            rx_cnt   <= {CW{1'b0}};
            rx_bit   <= 3'd0;
            rx_shift <= 8'd0;
            rx_valid <= 1'b0;
            rx_byte  <= 8'd0;
        end else begin
            rx_meta  <= uart_rx;
            rx_sync  <= rx_meta;
            rx_valid <= 1'b0;
            case (rx_state)
                RX_IDLE:
                    if (!rx_sync) begin
                        rx_state <= RX_START;
                        rx_cnt   <= {CW{1'b0}};
                    end
                RX_START:   // wait to the middle of the start bit
                    if (rx_cnt == HALF_LAST) begin
                        rx_cnt <= {CW{1'b0}};
                        if (rx_sync) begin
                            rx_state <= RX_IDLE;      // a glitch, not a start bit
                        end else begin
                            rx_state <= RX_DATA;
                            rx_bit   <= 3'd0;
                        end
                    end else begin
                        rx_cnt <= rx_cnt + 1'b1;
                    end
                RX_DATA:    // one bit time later: the middle of each data bit
                    if (rx_cnt == BIT_LAST) begin
                        rx_cnt   <= {CW{1'b0}};
                        rx_shift <= {rx_sync, rx_shift[7:1]};
                        rx_bit   <= rx_bit + 1'b1;
                        if (rx_bit == 3'd7) begin
                            rx_state <= RX_STOP;
                        end
                    end else begin
                        rx_cnt <= rx_cnt + 1'b1;
                    end
                default:    // RX_STOP: the middle of the stop bit
                    if (rx_cnt == BIT_LAST) begin
                        rx_cnt   <= {CW{1'b0}};
                        rx_state <= RX_IDLE;
                        if (rx_sync) begin
                            rx_valid <= 1'b1;
                            rx_byte  <= rx_shift;
                        end
                    end else begin
                        rx_cnt <= rx_cnt + 1'b1;
                    end
            endcase
        end
    end

    // ------------------------------------------------------------------
    // Transmitter
    reg        tx_busy;
    reg [9:0]  tx_shift;                // {stop, data[7:0], start}, LSB out first
    reg [3:0]  tx_bits;                 // bits still to send
    reg [CW-1:0] tx_cnt;
    reg        tx_start;                // request from the protocol FSM
    reg [7:0]  tx_data;

    assign uart_tx = tx_shift[0];

    always @(posedge clk) begin
        if (rst) begin
            tx_busy  <= 1'b0;
            tx_shift <= 10'h3FF;
            tx_bits  <= 4'd0;
            tx_cnt   <= {CW{1'b0}};
        end else if (!tx_busy) begin
            if (tx_start) begin
                tx_busy  <= 1'b1;
                tx_shift <= {1'b1, tx_data, 1'b0};
                tx_bits  <= 4'd10;
                tx_cnt   <= {CW{1'b0}};
            end
        end else if (tx_cnt == BIT_LAST) begin
            tx_cnt   <= {CW{1'b0}};
            tx_shift <= {1'b1, tx_shift[9:1]};
            tx_bits  <= tx_bits - 1'b1;
            if (tx_bits == 4'd1) begin
                tx_busy <= 1'b0;
            end
        end else begin
            tx_cnt <= tx_cnt + 1'b1;
        end
    end

    // ------------------------------------------------------------------
    // Protocol and AXI master
    localparam [2:0] S_CMD = 3'd0, S_ADDR = 3'd1, S_DATA = 3'd2,
                     S_WRITE = 3'd3, S_READ = 3'd4, S_ANSWER = 3'd5;
    reg [2:0]  state;
    reg        is_write;
    reg [1:0]  count;                   // bytes of the field received so far
    reg [23:0] addr;
    reg [39:0] answer;                  // bytes to send, first in bits 39:32
    reg [2:0]  answer_left;
    reg [TW-1:0] idle_clks;             // clocks since the last request byte

    localparam [7:0] CH_W = 8'h57, CH_R = 8'h52, CH_K = 8'h4B, CH_E = 8'h45;

    assign active = (state != S_CMD);

    always @(posedge clk) begin
        if (rst) begin
            state       <= S_CMD;
            is_write    <= 1'b0;
            count       <= 2'd0;
            addr        <= 24'd0;
            answer      <= 40'd0;
            answer_left <= 3'd0;
            idle_clks   <= {TW{1'b0}};
            awvalid     <= 1'b0;
            awaddr      <= 24'd0;
            wvalid      <= 1'b0;
            wdata       <= 32'd0;
            bready      <= 1'b0;
            arvalid     <= 1'b0;
            araddr      <= 24'd0;
            rready      <= 1'b0;
            tx_start    <= 1'b0;
            tx_data     <= 8'd0;
        end else begin
            tx_start <= 1'b0;
            case (state)
                S_CMD: begin
                    count     <= 2'd0;
                    idle_clks <= {TW{1'b0}};
                    if (rx_valid && (rx_byte == CH_W || rx_byte == CH_R)) begin
                        is_write <= (rx_byte == CH_W);
                        state    <= S_ADDR;
                    end
                end
                S_ADDR, S_DATA: begin
                    if (rx_valid) begin
                        idle_clks <= {TW{1'b0}};
                        count     <= count + 1'b1;
                        if (state == S_ADDR) begin
                            addr <= {addr[15:0], rx_byte};
                            if (count == 2'd2) begin
                                count <= 2'd0;
                                if (is_write) begin
                                    state <= S_DATA;
                                end else begin
                                    state   <= S_READ;
                                    araddr  <= {addr[15:0], rx_byte};
                                    arvalid <= 1'b1;
                                    rready  <= 1'b1;
                                end
                            end
                        end else begin
                            wdata <= {wdata[23:0], rx_byte};
                            if (count == 2'd3) begin
                                state   <= S_WRITE;
                                awaddr  <= addr;
                                awvalid <= 1'b1;
                                wvalid  <= 1'b1;
                                bready  <= 1'b1;
                            end
                        end
                    end else if (idle_clks == TOUT_LAST) begin
                        state <= S_CMD;               // abandoned request
                    end else begin
                        idle_clks <= idle_clks + 1'b1;
                    end
                end
                S_WRITE: begin
                    if (awready) awvalid <= 1'b0;
                    if (wready)  wvalid  <= 1'b0;
                    if (bvalid) begin
                        bready      <= 1'b0;
                        answer      <= {((bresp == 2'b10 || bresp == 2'b11) ? CH_E : CH_K), 32'd0};
                        answer_left <= 3'd1;
                        state       <= S_ANSWER;
                    end
                end
                S_READ: begin
                    if (arready) arvalid <= 1'b0;
                    if (rvalid) begin
                        rready      <= 1'b0;
                        answer      <= {((rresp == 2'b10 || rresp == 2'b11) ? CH_E : CH_K), rdata};
                        answer_left <= 3'd5;
                        state       <= S_ANSWER;
                    end
                end
                default: begin    // S_ANSWER
                    if (answer_left == 3'd0) begin
                        if (!tx_busy && !tx_start) state <= S_CMD;
                    end else if (!tx_busy && !tx_start) begin
                        tx_start    <= 1'b1;
                        tx_data     <= answer[39:32];
                        answer      <= {answer[31:0], 8'd0};
                        answer_left <= answer_left - 1'b1;
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
