//! `drq_top` in Icarus Verilog: a second, event-driven simulator that runs
//! the emitted Verilog the way a new user's testbench would.
//!
//! The host's work is written out as a list of bus operations
//! (`ops.hex`, read with `$readmemh` by a generated Verilog testbench
//! `tb.v`): AXI4-Lite writes of the buffers and registers, start, wait for
//! the interrupt, and reads of outputs, accumulators, masks and counters,
//! each read value printed to `reads.hex`. The sequence is the one of
//! [`crate::driver::Accelerator::run_layer`], so the result compares with
//! the golden model field by field. `iverilog` and `vvp` must be installed
//! (`apt-get install -y iverilog`).

use crate::driver::{
    acc_offsets, bit, check_fits, default_out_reader, fmap_offsets, input_mask_not_in_buffer,
    layout_registers, FitError, HwRun,
};
use drq_arch::config::PeKind;
use drq_arch::regs::{reg, Buffer, WindowMap, ID_VALUE};
use drq_arch::AccelConfig;
use drq_golden::golden::LayerData;
use drq_golden::layer::Layer;
use drq_golden::numerics::wrap_acc;
use drq_golden::schedule::Counters;
use drq_golden::tensor::{FeatureMap, Mask};
use drq_hdl::top::top_design;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum IcarusError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("cannot run {tool}: {source} (install it: apt-get install -y iverilog)")]
    Missing {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{tool} failed: {message}")]
    Failed { tool: String, message: String },
    #[error("vvp did not finish within {0:?} (a zero-delay loop?)")]
    Timeout(Duration),
    #[error("the testbench printed {got} reads, {expected} expected")]
    Reads { got: usize, expected: usize },
}

/// One host bus operation of the testbench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Write(u64, u32),
    Read(u64),
    /// Wait for `irq` (at most this many cycles).
    WaitIrq(u32),
}

impl Op {
    /// One `$readmemh` word: op (8 bits), address (24), data (32).
    fn word(self) -> u64 {
        let (op, addr, data) = match self {
            Op::Write(a, d) => (1u64, a, d),
            Op::Read(a) => (2, a, 0),
            Op::WaitIrq(n) => (3, 0, n),
        };
        op << 56 | (addr & 0xff_ffff) << 32 | u64::from(data)
    }
}

/// What the host reads back, in order, and how to put it together.
struct Script {
    ops: Vec<Op>,
    reads: usize,
}

impl Script {
    fn write(&mut self, addr: u64, v: u32) {
        self.ops.push(Op::Write(addr, v));
    }
    fn read(&mut self, addr: u64) {
        self.ops.push(Op::Read(addr));
        self.reads += 1;
    }
}

/// The host's operations for one first layer (as `Accelerator::run_layer`).
fn layer_script(cfg: &AccelConfig, layer: &Layer, data: &LayerData) -> Script {
    let map = WindowMap::new(cfg);
    let mut s = Script {
        ops: Vec::new(),
        reads: 0,
    };
    let u = |v: usize| v as u64;
    s.read(4 * reg::ID as u64);
    let f = &data.input;
    let dims = |c: usize, h: usize, w: usize| (c as u32, h as u32, w as u32);
    let input = fmap_offsets(cfg, dims(f.c, f.h, f.w), layer.reader());
    for (&a, &v) in input.iter().zip(&f.data) {
        s.write(map.byte_addr(Buffer::Act0, a), v);
    }
    let predict_in = data.run_phases(cfg, layer).predict_in;
    if let (Some(m), PeKind::Drq) = (&data.mask, cfg.pe) {
        let [c, rh, rw] = m.shape();
        for ci in 0..c {
            for ry in 0..rh {
                for rx in 0..rw {
                    let a = cfg.mask_addr(u(ci), u(rh), u(ry), u(rx));
                    s.write(map.byte_addr(Buffer::Mask0, a), u32::from(m.at(ci, ry, rx)));
                }
            }
        }
    }
    let w = &data.weights;
    for k in 0..w.c_in * w.k * w.k {
        for oc in 0..w.c_out {
            let a = (k * w.c_out + oc) as u64;
            s.write(map.byte_addr(Buffer::Weights, a), w.at_k(oc, k) as u32);
        }
    }
    for (oc, &b) in data.bias.iter().enumerate() {
        s.write(map.byte_addr(Buffer::Bias, oc as u64), b as u32);
    }
    let out_reader = default_out_reader(layer);
    for (i, v) in crate::driver::layer_registers(layer)
        .into_iter()
        .chain(layout_registers(cfg, layer, out_reader))
    {
        s.write(4 * i as u64, v);
    }
    let predict_out = layer.next_threshold.is_some();
    let mode = bit(predict_in, reg::MODE_PREDICT_IN)
        | bit(predict_out, reg::MODE_PREDICT_OUT)
        | reg::MODE_IRQ_ENABLE;
    s.write(4 * reg::MODE as u64, mode);
    s.write(4 * reg::CMD as u64, reg::CMD_START);
    s.ops.push(Op::WaitIrq(50_000_000));
    s.read(4 * reg::STATUS as u64);
    s.write(4 * reg::CMD as u64, reg::CMD_CLEAR);
    let (c_in, c_out, ho, wo) = (
        layer.c_in as usize,
        layer.c_out as usize,
        layer.ho() as usize,
        layer.wo() as usize,
    );
    if input_mask_not_in_buffer(cfg, layer, predict_in).is_none() {
        let (rh, rw) = layer.mask_in_dims(cfg.region);
        mask_reads(
            &mut s,
            cfg,
            &map,
            Buffer::Mask0,
            c_in,
            rh as usize,
            rw as usize,
        );
    }
    if predict_out {
        let (rh, rw) = layer.mask_out_dims(cfg.region);
        mask_reads(
            &mut s,
            cfg,
            &map,
            Buffer::Mask1,
            c_out,
            rh as usize,
            rw as usize,
        );
    }
    let out = dims(c_out, ho, wo);
    for (b, stride, offsets) in [
        (Buffer::Act1, 1, fmap_offsets(cfg, out, out_reader)),
        (Buffer::Acc, map.acc_stride, acc_offsets(cfg, out)),
    ] {
        for e in offsets {
            let addr = map.byte_addr(b, e);
            for k in 0..stride {
                s.read(addr + 4 * k);
            }
        }
    }
    for i in reg::STEPS_HIGH..reg::STEPS_HIGH + 12 {
        s.read(4 * i as u64);
    }
    s
}

fn mask_reads(
    s: &mut Script,
    cfg: &AccelConfig,
    map: &WindowMap,
    b: Buffer,
    c: usize,
    rh: usize,
    rw: usize,
) {
    let u = |v: usize| v as u64;
    for ci in 0..c {
        for ry in 0..rh {
            for rx in 0..rw {
                s.read(map.byte_addr(b, cfg.mask_addr(u(ci), u(rh), u(ry), u(rx))));
            }
        }
    }
}

/// The testbench: clock, reset, the AXI4-Lite master tasks and the
/// operation loop. `n_ops` entries of `ops.hex`; reads to `reads.hex`.
fn testbench(n_ops: usize) -> String {
    let mut v = String::new();
    let _ = write!(
        v,
        r#"// Generated by drq: an AXI4-Lite host for drq_top in Icarus Verilog.
`timescale 1ns/1ps
module tb;
    reg clk = 1'b0;
    always #5 clk = ~clk;
    reg rst = 1'b1;
    reg awvalid = 1'b0, wvalid = 1'b0, bready = 1'b0, arvalid = 1'b0, rready = 1'b0;
    reg [23:0] awaddr = 24'd0, araddr = 24'd0;
    reg [31:0] wdata = 32'd0;
    wire awready, wready, bvalid, arready, rvalid, irq;
    wire [1:0] bresp, rresp;
    wire [31:0] rdata;
    drq_top dut (
        .clk(clk), .rst(rst),
        .awvalid(awvalid), .awready(awready), .awaddr(awaddr),
        .wvalid(wvalid), .wready(wready), .wdata(wdata), .wstrb(4'hf),
        .bvalid(bvalid), .bready(bready), .bresp(bresp),
        .arvalid(arvalid), .arready(arready), .araddr(araddr),
        .rvalid(rvalid), .rready(rready), .rdata(rdata), .rresp(rresp),
        .irq(irq)
    );

    reg [63:0] ops [0:{last}];
    integer out, i, n;
    reg aw_done, w_done, b_done, ar_done, r_done;
    reg [31:0] value;

    // Inputs change after the falling edge; handshakes are sampled at the
    // rising edge.
    task axi_write(input [23:0] a, input [31:0] d);
        begin
            @(negedge clk);
            awaddr = a; wdata = d; awvalid = 1'b1; wvalid = 1'b1; bready = 1'b1;
            aw_done = 1'b0; w_done = 1'b0; b_done = 1'b0;
            while (!b_done) begin
                @(posedge clk);
                if (awvalid && awready) aw_done = 1'b1;
                if (wvalid && wready) w_done = 1'b1;
                if (bvalid && bready) begin
                    b_done = 1'b1;
                    if (bresp != 2'd0) begin
                        $display("FAIL: write of %h answered %0d", a, bresp);
                        $finish;
                    end
                end
                @(negedge clk);
                if (aw_done) awvalid = 1'b0;
                if (w_done) wvalid = 1'b0;
            end
            bready = 1'b0;
        end
    endtask

    task axi_read(input [23:0] a, output [31:0] d);
        begin
            @(negedge clk);
            araddr = a; arvalid = 1'b1; rready = 1'b1;
            ar_done = 1'b0; r_done = 1'b0;
            while (!r_done) begin
                @(posedge clk);
                if (arvalid && arready) ar_done = 1'b1;
                if (rvalid && rready) begin
                    r_done = 1'b1;
                    d = rdata;
                end
                @(negedge clk);
                if (ar_done) arvalid = 1'b0;
            end
            rready = 1'b0;
        end
    endtask

    initial begin
        $readmemh("ops.hex", ops);
        out = $fopen("reads.hex", "w");
        repeat (4) @(posedge clk);
        @(negedge clk);
        rst = 1'b0;
        for (i = 0; i <= {last}; i = i + 1) begin
            case (ops[i][63:56])
                8'd1: axi_write(ops[i][55:32], ops[i][31:0]);
                8'd2: begin
                    axi_read(ops[i][55:32], value);
                    $fwrite(out, "%h\n", value);
                end
                8'd3: begin
                    n = 0;
                    while (!irq && n < ops[i][31:0]) begin
                        @(posedge clk);
                        n = n + 1;
                    end
                    if (!irq) begin
                        $display("FAIL: no interrupt after %0d cycles", n);
                        $finish;
                    end
                end
                default: ;
            endcase
        end
        $fclose(out);
        $display("PASS: %0d operations", {n_ops});
        $finish;
    end
endmodule
"#,
        last = n_ops.max(1) - 1,
    );
    v
}

fn tool(cmd: &mut Command, name: &str) -> Result<std::process::Output, IcarusError> {
    let out = cmd.output().map_err(|source| IcarusError::Missing {
        tool: name.into(),
        source,
    })?;
    if !out.status.success() {
        let mut message = String::from_utf8_lossy(&out.stderr).into_owned();
        message.push_str(&String::from_utf8_lossy(&out.stdout));
        return Err(IcarusError::Failed {
            tool: name.into(),
            message: message.lines().take(30).collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(out)
}

/// Run vvp with a wall-clock limit (a zero-delay loop never advances time,
/// so only the wall clock catches it).
fn vvp(dir: &Path, limit: Duration) -> Result<String, IcarusError> {
    let log = std::fs::File::create(dir.join("vvp.log"))?;
    let mut child = Command::new("vvp")
        .args(["-n", "tb.vvp"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|source| IcarusError::Missing {
            tool: "vvp".into(),
            source,
        })?;
    let t = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(IcarusError::Timeout(limit));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(dir.join("vvp.log"))?;
    if !text.contains("PASS:") {
        return Err(IcarusError::Failed {
            tool: "vvp".into(),
            message: text.lines().rev().take(20).collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(text)
}

/// Run one first layer of `drq_top` for `cfg` in Icarus Verilog in `dir`
/// (created; `drq_top.v`, `tb.v`, `ops.hex`, `reads.hex`, `vvp.log` stay
/// there), as [`crate::driver::Accelerator::run_layer`] does in Verilator.
pub fn run_layer(
    cfg: &AccelConfig,
    layer: &Layer,
    data: &LayerData,
    dir: &Path,
    limit: Duration,
) -> Result<HwRun, IcarusError> {
    check_fits(cfg, layer)?;
    std::fs::create_dir_all(dir)?;
    let script = layer_script(cfg, layer, data);
    let mut hex = String::new();
    for op in &script.ops {
        let _ = writeln!(hex, "{:016x}", op.word());
    }
    std::fs::write(dir.join("ops.hex"), hex)?;
    std::fs::write(dir.join("tb.v"), testbench(script.ops.len()))?;
    std::fs::write(dir.join("drq_top.v"), top_design(cfg).verilog)?;
    let _ = std::fs::remove_file(dir.join("reads.hex"));
    tool(
        Command::new("iverilog")
            .args(["-g2005", "-o", "tb.vvp", "-s", "tb", "tb.v", "drq_top.v"])
            .current_dir(dir),
        "iverilog",
    )?;
    vvp(dir, limit)?;
    let reads: Vec<u32> = std::fs::read_to_string(dir.join("reads.hex"))?
        .lines()
        .map(|l| u32::from_str_radix(l.trim(), 16).unwrap_or(u32::MAX))
        .collect();
    if reads.len() != script.reads {
        return Err(IcarusError::Reads {
            got: reads.len(),
            expected: script.reads,
        });
    }
    let mut it = reads.into_iter();
    let id = it.next().expect("counted");
    if id != ID_VALUE {
        return Err(IcarusError::Failed {
            tool: "vvp".into(),
            message: format!("ID register {id:#x}, expected {ID_VALUE:#x}"),
        });
    }
    let status = it.next().expect("counted");
    let (c_in, c_out, ho, wo) = (
        layer.c_in as usize,
        layer.c_out as usize,
        layer.ho() as usize,
        layer.wo() as usize,
    );
    let mask = |it: &mut std::vec::IntoIter<u32>, c: usize, (rh, rw): (u32, u32)| {
        let (rh, rw) = (rh as usize, rw as usize);
        let data = it.take(c * rh * rw).map(|v| v & 1 == 1).collect();
        Mask { c, rh, rw, data }
    };
    let predict_in = data.run_phases(cfg, layer).predict_in;
    let mask_in = match input_mask_not_in_buffer(cfg, layer, predict_in) {
        Some(bit) => {
            let (rh, rw) = layer.mask_in_dims(cfg.region);
            Mask::filled(c_in, rh as usize, rw as usize, bit)
        }
        None => mask(&mut it, c_in, layer.mask_in_dims(cfg.region)),
    };
    let mask_out = layer
        .next_threshold
        .map(|_| mask(&mut it, c_out, layer.mask_out_dims(cfg.region)));
    let y = FeatureMap {
        c: c_out,
        h: ho,
        w: wo,
        data: it.by_ref().take(c_out * ho * wo).collect(),
    };
    let stride = WindowMap::new(cfg).acc_stride;
    let mut acc = Vec::with_capacity(c_out * ho * wo);
    for _ in 0..c_out * ho * wo {
        let lo = u64::from(it.next().expect("counted"));
        let v = if stride == 2 {
            u64::from(it.next().expect("counted")) << 32 | lo
        } else {
            lo
        };
        acc.push(wrap_acc(v as i64, cfg.acc_bits));
    }
    let c: Vec<u64> = (0..6)
        .map(|_| {
            let lo = u64::from(it.next().expect("counted"));
            u64::from(it.next().expect("counted")) << 32 | lo
        })
        .collect();
    let counters = Counters {
        steps_high: c[0],
        steps_low: c[1],
        token_cycles: c[2],
        tiles: c[3],
        cycles_total: c[4],
        stall_cycles: c[5],
    };
    Ok(HwRun {
        y,
        acc,
        mask_in,
        mask_out,
        counters,
        status,
    })
}
