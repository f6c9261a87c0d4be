//! A generic on-chip buffer: a simple dual-port RAM of `depth` words of
//! `width` bits, both chosen at run time (`WordRam::new(depth, width)`), with
//! one synchronous write port and one synchronous read port of one cycle of
//! latency, written so that FPGA tools infer block RAM (`reg [W-1:0] mem
//! [0:DEPTH-1]`, registered read, read-enable, no reset of the contents).
//! The memory carries `(* ram_style = "block" *)`: a buffer is block RAM on
//! every family, even where the tool's cost model would build a small one
//! (the iCEBreaker's 64-entry mask buffers) from flip-flops and
//! multiplexers, which cost the logic cells that a small FPGA lacks.
//!
//! Ports are [`Word`]s like every datapath signal of this code base:
//! * a write with `wr_en` stores the low `width` bits of `wr_data` at
//!   `wr_addr` on the rising edge; addresses at or above `depth` are ignored;
//! * a read with `rd_en` presents the word at `rd_addr` (zero-extended, read
//!   before a write to the same address on the same edge: "read first") on
//!   `rd_data` after the rising edge; addresses at or above `depth` read as
//!   zero; without `rd_en`, `rd_data` holds.
//!
//! Every address bit is compared with `depth`, so no address bit is unused;
//! the data bits above `width`, which the RAM cannot store, are folded into a
//! wire named `unused_*` (Verilator's default `--unused-regexp`), so the lint
//! needs no waiver. The contents and `rd_data` are not reset.

use crate::leaf::{low_mask, Word};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct WordRam {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    pub rd_en: Signal<In, Bit>,
    pub rd_addr: Signal<In, Word>,
    pub rd_data: Signal<Out, Word>,
    // Fields starting with `_` are invisible to rust-hdl: the simulation's
    // memory and the generator's parameters.
    _mem: Vec<u64>,
    _depth: usize,
    _width: u32,
}

impl WordRam {
    /// A RAM of `depth` (>= 2) words of `width` (1..=64) bits.
    pub fn new(depth: usize, width: u32) -> WordRam {
        assert!(depth >= 2, "WordRam depth {depth}: at least 2 words");
        assert!((1..=64).contains(&width), "WordRam width {width}: 1..=64");
        WordRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            rd_en: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            _mem: vec![0; depth],
            _depth: depth,
            _width: width,
        }
    }
    pub fn depth(&self) -> usize {
        self._depth
    }
    pub fn width(&self) -> u32 {
        self._width
    }
}

impl Logic for WordRam {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            // Read first: the read sees the contents before this edge's write.
            if self.rd_en.val() {
                let a = self.rd_addr.val().to_u64();
                let v = if a < self._depth as u64 {
                    self._mem[a as usize]
                } else {
                    0
                };
                self.rd_data.next = v.to_bits();
            }
            if self.wr_en.val() {
                let a = self.wr_addr.val().to_u64();
                if a < self._depth as u64 {
                    self._mem[a as usize] = self.wr_data.val().to_u64() & low_mask(self._width);
                }
            }
        }
    }
    fn connect(&mut self) {
        self.rd_data.connect();
    }
    fn hdl(&self) -> Verilog {
        let (depth, width) = (self._depth, self._width);
        let m = MemoryText::new(depth, width);
        Verilog::Custom(format!(
            "// Simple dual-port RAM, {depth} x {width} bits: block RAM inference\n\
             // (registered read, read-first, no reset of the contents), asked\n\
             // for even where a tool would build a small one from flip-flops.\n\
             {decl}\
             always @(posedge clock) begin\n\
             \x20   {write}\n\
             \x20   if (rd_en) begin\n\
             \x20       if ({rd_in}) rd_data <= {read};\n\
             \x20       else rd_data <= 64'd0;\n\
             \x20   end\n\
             end",
            decl = m.declaration("block"),
            write = m.write,
            rd_in = m.read_in_range,
            read = m.read,
        ))
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![
            TimingInfo {
                name: "ram_read".into(),
                clock: "clock".into(),
                inputs: vec!["rd_en".into(), "rd_addr".into()],
                outputs: vec!["rd_data".into()],
            },
            TimingInfo {
                name: "ram_write".into(),
                clock: "clock".into(),
                inputs: vec!["wr_en".into(), "wr_addr".into(), "wr_data".into()],
                outputs: vec![],
            },
        ]
    }
}

/// The Verilog the RAMs share, for `depth` words of `width` bits behind
/// 64-bit ports: the memory array, the write statement, and the word at
/// `rd_addr` zero-extended to 64 bits with its range check.
struct MemoryText {
    depth: usize,
    width: u32,
    write: String,
    read_in_range: String,
    read: String,
}

impl MemoryText {
    fn new(depth: usize, width: u32) -> MemoryText {
        let aw = crate::shell::clog2(depth as u32);
        let word = format!("mem[rd_addr[{}:0]]", aw - 1);
        MemoryText {
            depth,
            width,
            write: format!(
                "if (wr_en && {}) mem[wr_addr[{}:0]] <= wr_data[{}:0];",
                in_range("wr_addr", depth, aw),
                aw - 1,
                width - 1
            ),
            read_in_range: in_range("rd_addr", depth, aw),
            read: if width == 64 {
                word
            } else {
                format!("{{{}'d0, {word}}}", 64 - width)
            },
        }
    }

    /// The memory array with its `ram_style`, and the fold of the data
    /// bits above the width (which the RAM cannot store).
    fn declaration(&self, style: &str) -> String {
        let mut v = format!(
            "(* ram_style = \"{style}\" *)\n\
             reg [{}:0] mem [0:{}];\n",
            self.width - 1,
            self.depth - 1
        );
        if self.width < 64 {
            v += &format!(
                "// Data bits above the RAM's width are not stored.\n\
                 wire unused_wr_data = &{{1'b0, wr_data[63:{}], 1'b0}};\n",
                self.width
            );
        }
        v
    }
}

/// The Verilog condition `addr < depth` for the 64-bit port `addr`, split
/// so that no 64-bit comparator sits on the address path: the bits above
/// the index must be zero (a reduction that synthesis trims to the bits
/// that can be set), and below a power-of-two depth nothing else is asked.
fn in_range(addr: &str, depth: usize, index_bits: u32) -> String {
    let high = format!("~|{addr}[63:{index_bits}]");
    if depth.is_power_of_two() {
        high
    } else {
        format!(
            "{high} && ({addr}[{}:0] < {index_bits}'d{depth})",
            index_bits - 1
        )
    }
}

/// A RAM with one write port and `ports` independent read ports, built
/// from `ports` identical `WordRam` copies that every write updates
/// together (replication: the portable way to get more read ports than a
/// block RAM has, inferred by every FPGA tool as `ports` block RAMs).
/// Read port `k` has the timing of `WordRam`'s read port.
#[derive(LogicBlock)]
pub struct ReplicatedRam {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    pub rd_en: Vec<Signal<In, Bit>>,
    pub rd_addr: Vec<Signal<In, Word>>,
    pub rd_data: Vec<Signal<Out, Word>>,
    copies: Vec<WordRam>,
}

impl ReplicatedRam {
    /// `ports` (>= 1) read ports onto `depth` words of `width` bits.
    pub fn new(depth: usize, width: u32, ports: usize) -> ReplicatedRam {
        assert!(ports >= 1, "ReplicatedRam needs a read port");
        ReplicatedRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            rd_en: (0..ports).map(|_| Default::default()).collect(),
            rd_addr: (0..ports).map(|_| Default::default()).collect(),
            rd_data: (0..ports).map(|_| Default::default()).collect(),
            copies: (0..ports).map(|_| WordRam::new(depth, width)).collect(),
        }
    }
    pub fn ports(&self) -> usize {
        self.copies.len()
    }
}

impl Logic for ReplicatedRam {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self.ports() {
            self.copies[k].clock.next = self.clock.val();
            self.copies[k].wr_en.next = self.wr_en.val();
            self.copies[k].wr_addr.next = self.wr_addr.val();
            self.copies[k].wr_data.next = self.wr_data.val();
            self.copies[k].rd_en.next = self.rd_en[k].val();
            self.copies[k].rd_addr.next = self.rd_addr[k].val();
            self.rd_data[k].next = self.copies[k].rd_data.val();
        }
    }
}

/// One `WordRam` alone (top `drq_ram`), for its own lint and co-simulation:
/// addresses 16 bits (so out-of-range ones can be driven), `wr_data` a full
/// 64-bit word (so the bits above `width` can be), `rd_data` `width` bits.
pub fn ram_design(depth: usize, width: u32) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, Lanes, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let ports = vec![
        ShellPort {
            name: "clk".into(),
            core_name: "clock".into(),
            dir: Input,
            lane_width: 1,
            lanes: Lanes::Scalar,
            extend: Flag,
        },
        scalar("wr_en", Input, 1, Flag),
        scalar("wr_addr", Input, 16, Zero),
        scalar("wr_data", Input, 64, Zero),
        scalar("rd_en", Input, 1, Flag),
        scalar("rd_addr", Input, 16, Zero),
        scalar("rd_data", Output, width, Zero),
    ];
    let cfg = drq_arch::AccelConfig::default();
    design(
        "drq_ram",
        "drq_ram_core",
        &cfg,
        ports,
        &mut WordRam::new(depth, width),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};

    fn tick(r: &mut WordRam) {
        r.clock.next = Clock::from(false);
        settle(r);
        r.clock.next = Clock::from(true);
        settle(r);
    }

    #[test]
    fn reads_first_masks_data_and_ignores_out_of_range() {
        let mut r = WordRam::new(5, 6);
        r.connect_all();
        r.rd_en.next = true;
        // write 0x7f (7 bits) at 3: stored as 0x3f
        r.wr_en.next = true;
        r.wr_addr.next = word(3);
        r.wr_data.next = word(0x7f);
        r.rd_addr.next = word(3);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0), "read first: old contents");
        r.wr_en.next = false;
        tick(&mut r);
        assert_eq!(
            r.rd_data.val(),
            word(0x3f),
            "one cycle later: stored, 6 bits"
        );
        // out-of-range write does not alias, out-of-range read is zero
        r.wr_en.next = true;
        r.wr_addr.next = word(5 + 8);
        r.wr_data.next = word(1);
        r.rd_addr.next = word(5);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0));
        r.wr_en.next = false;
        for a in 0..5 {
            r.rd_addr.next = word(a);
            tick(&mut r);
            assert_eq!(r.rd_data.val(), word(if a == 3 { 0x3f } else { 0 }), "{a}");
        }
        // without rd_en the output holds
        r.rd_addr.next = word(3);
        tick(&mut r);
        r.rd_en.next = false;
        r.rd_addr.next = word(0);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0x3f));
    }

    #[test]
    fn verilog_names_the_memory_and_every_width() {
        let v = match WordRam::new(512, 1).hdl() {
            Verilog::Custom(s) => s,
            _ => unreachable!(),
        };
        assert!(v.contains("reg [0:0] mem [0:511];"), "{v}");
        assert!(v.contains("rd_addr[8:0]"), "{v}");
        assert!(v.contains("{63'd0, mem[rd_addr[8:0]]}"), "{v}");
        // A power-of-two depth: in range iff no bit above the index is set.
        assert!(v.contains("if (~|rd_addr[63:9]) rd_data"), "{v}");
        assert!(!v.contains("< 64'd") && !v.contains("9'd512"), "{v}");
        let v = match WordRam::new(3, 64).hdl() {
            Verilog::Custom(s) => s,
            _ => unreachable!(),
        };
        assert!(
            v.contains("reg [63:0] mem [0:2];") && !v.contains("unused"),
            "{v}"
        );
        assert!(
            v.contains("~|rd_addr[63:2] && (rd_addr[1:0] < 2'd3)"),
            "{v}"
        );
        assert!(
            v.contains("~|wr_addr[63:2] && (wr_addr[1:0] < 2'd3)"),
            "{v}"
        );
    }
}

/// A small RAM of `depth` words of `width` bits with one synchronous write
/// port and one asynchronous read port (`rd_data` shows the word at
/// `rd_addr` in the same cycle; a write takes effect at the rising edge):
/// distributed (LUT) RAM on FPGAs. Addresses at or above `depth` write
/// nothing and read zero. The contents are not reset.
#[derive(LogicBlock)]
pub struct LutRam {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    pub rd_addr: Signal<In, Word>,
    pub rd_data: Signal<Out, Word>,
    _mem: Vec<u64>,
    _width: u32,
}

impl LutRam {
    /// A RAM of `depth` (>= 2) words of `width` (1..=64) bits.
    pub fn new(depth: usize, width: u32) -> LutRam {
        assert!(depth >= 2, "LutRam depth {depth}: at least 2 words");
        assert!((1..=64).contains(&width), "LutRam width {width}: 1..=64");
        LutRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            _mem: vec![0; depth],
            _width: width,
        }
    }
}

impl Logic for LutRam {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.wr_en.val() {
            let a = self.wr_addr.val().to_u64() as usize;
            if let Some(w) = self._mem.get_mut(a) {
                *w = self.wr_data.val().to_u64() & low_mask(self._width);
            }
        }
        let a = self.rd_addr.val().to_u64() as usize;
        self.rd_data.next = self._mem.get(a).copied().unwrap_or(0).to_bits();
    }
    fn connect(&mut self) {
        self.rd_data.connect();
    }
    fn hdl(&self) -> Verilog {
        let (depth, width) = (self._mem.len(), self._width);
        let m = MemoryText::new(depth, width);
        Verilog::Custom(format!(
            "// RAM, {depth} x {width} bits, synchronous write, asynchronous read:\n\
             // distributed (LUT) RAM.\n\
             {decl}\
             always @(posedge clock) begin\n\
             \x20   {write}\n\
             end\n\
             always @(*) begin\n\
             \x20   if ({rd_in}) rd_data = {read};\n\
             \x20   else rd_data = 64'd0;\n\
             end",
            decl = m.declaration("distributed"),
            write = m.write,
            rd_in = m.read_in_range,
            read = m.read,
        ))
    }
}
