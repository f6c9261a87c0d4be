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
//!
//! A laned `WordRam` (`WordRam::laned(depth, lane_width, lanes)`) has
//! words of `lanes` lanes of `lane_width` bits, lane k at bits
//! [k*lane_width, (k+1)*lane_width), and a write enable per lane
//! (`wr_lanes`): FPGA tools map it to block RAM with byte (lane) enables.
//! [`LanedRam`] builds on it a value-addressed RAM whose word holds
//! `lanes` values, written up to `lanes` at a time.

use crate::leaf::{low_mask, one_if, Word, WordReg};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct WordRam {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    /// Lane enables of a laned RAM (one port when it has more than one
    /// lane, else none): bit k of `wr_lanes[0]` lets the write store lane k;
    /// the bits above the lanes are ignored.
    pub wr_lanes: Vec<Signal<In, Word>>,
    pub rd_en: Signal<In, Bit>,
    pub rd_addr: Signal<In, Word>,
    pub rd_data: Signal<Out, Word>,
    // Fields starting with `_` are invisible to rust-hdl: the simulation's
    // memory and the generator's parameters.
    _mem: Vec<u64>,
    _depth: usize,
    _width: u32,
    _lanes: u32,
}

impl WordRam {
    /// A RAM of `depth` (>= 2) words of `width` (1..=64) bits.
    pub fn new(depth: usize, width: u32) -> WordRam {
        WordRam::laned(depth, width, 1)
    }
    /// A RAM of `depth` (>= 2) words of `lanes` (>= 1) lanes of
    /// `lane_width` (>= 1) bits, at most 64 bits a word; `wr_lanes` enables
    /// the lanes of a write (with one lane there is no `wr_lanes`: `new`).
    pub fn laned(depth: usize, lane_width: u32, lanes: u32) -> WordRam {
        let width = lanes * lane_width;
        assert!(depth >= 2, "WordRam depth {depth}: at least 2 words");
        assert!(
            lanes >= 1 && lane_width >= 1 && width <= 64,
            "WordRam of {lanes} lanes of {lane_width} bits: 1..=64 bits a word"
        );
        WordRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            wr_lanes: one_if(lanes > 1, Default::default()),
            rd_en: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            _mem: vec![0; depth],
            _depth: depth,
            _width: width,
            _lanes: lanes,
        }
    }
    pub fn depth(&self) -> usize {
        self._depth
    }
    /// Bits of a word, all lanes.
    pub fn width(&self) -> u32 {
        self._width
    }
    pub fn lanes(&self) -> u32 {
        self._lanes
    }
    /// The word bits a write stores: every lane enabled by `wr_lanes`.
    fn written_bits(&self) -> u64 {
        let enables = self.wr_lanes.first().map(|e| e.val().to_u64());
        lane_bits(self._width / self._lanes, self._lanes, enables)
    }
}

/// The word bits a write of `lanes` lanes of `lane_width` bits stores:
/// lane k where bit k of `enables` is set, every lane without enables.
fn lane_bits(lane_width: u32, lanes: u32, enables: Option<u64>) -> u64 {
    (0..lanes)
        .filter(|k| enables.map_or(true, |e| e >> k & 1 == 1))
        .fold(0, |m, k| m | low_mask(lane_width) << (k * lane_width))
}

/// The word at `addr` of a RAM's contents: zero at or above its depth.
fn word_at(mem: &[u64], addr: u64) -> u64 {
    mem.get(addr as usize).copied().unwrap_or(0)
}

/// Store the `bits` of `data` in the word at `addr`; nothing at or above
/// the depth.
fn store(mem: &mut [u64], addr: u64, bits: u64, data: u64) {
    if let Some(w) = mem.get_mut(addr as usize) {
        *w = (*w & !bits) | (data & bits);
    }
}

impl Logic for WordRam {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            // Read first: the read sees the contents before this edge's write.
            if self.rd_en.val() {
                self.rd_data.next = word_at(&self._mem, self.rd_addr.val().to_u64()).to_bits();
            }
            if self.wr_en.val() {
                let bits = self.written_bits();
                let (a, data) = (self.wr_addr.val().to_u64(), self.wr_data.val().to_u64());
                store(&mut self._mem, a, bits, data);
            }
        }
    }
    fn connect(&mut self) {
        self.rd_data.connect();
    }
    fn hdl(&self) -> Verilog {
        let (depth, width, lanes) = (self._depth, self._width, self._lanes);
        let m = MemoryText::laned(depth, width / lanes, lanes);
        let lane_enables = if lanes == 1 {
            String::new()
        } else {
            format!(
                "// {lanes} lanes of {} bits, each with its write enable in wr_lanes.\n",
                width / lanes
            )
        };
        Verilog::Custom(format!(
            "// Simple dual-port RAM, {depth} x {width} bits: block RAM inference\n\
             // (registered read, read-first, no reset of the contents), asked\n\
             // for even where a tool would build a small one from flip-flops.\n\
             {lane_enables}\
             {decl}\
             always @(posedge clock) begin\n\
             \x20   {write}\n\
             \x20   if (rd_en) begin\n\
             \x20       if ({rd_in}) rd_data <= {read};\n\
             \x20       else rd_data <= 64'd0;\n\
             \x20   end\n\
             end",
            decl = m.declaration("block", "", "wr_lanes$0"),
            write = m.write("wr_addr", "wr_lanes$0"),
            rd_in = m.read_in_range("rd_addr"),
            read = m.read("rd_addr"),
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
                inputs: ["wr_en", "wr_addr", "wr_data"]
                    .into_iter()
                    .map(String::from)
                    .chain((0..self.wr_lanes.len()).map(|k| format!("wr_lanes${k}")))
                    .collect(),
                outputs: vec![],
            },
        ]
    }
}

/// A RAM with one write port and two read ports on one memory: a true
/// dual-port block RAM whose port A takes the write and read port A,
/// and whose port B is read port B. Read port A shares the write's
/// address: in a write cycle it reads the word written, before the write
/// (so a user reads through port A only in cycles without a write);
/// read port B has `WordRam`'s read timing at its own address. Words,
/// lanes, ranges and holding as `WordRam`; the lane enables are the
/// plain port `wr_lanes` (ignored with one lane), so a `Vec` of these
/// can be driven without a wrapper. The memory carries `no_rw_check`:
/// what port B reads at the address being written in the same cycle is
/// not defined on the block RAM (the simulation reads the old word), and
/// nothing in this design reads a buffer while it is being written.
#[derive(LogicBlock)]
pub struct DualReadRam {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    pub wr_lanes: Signal<In, Word>,
    /// Read port A (the write's port).
    pub rd_en: Signal<In, Bit>,
    pub rd_addr: Signal<In, Word>,
    pub rd_data: Signal<Out, Word>,
    /// Read port B.
    pub rd_en_b: Signal<In, Bit>,
    pub rd_addr_b: Signal<In, Word>,
    pub rd_data_b: Signal<Out, Word>,
    _mem: Vec<u64>,
    _lane_width: u32,
    _lanes: u32,
}

impl DualReadRam {
    /// `depth` (>= 2) words of `lanes` (>= 1) lanes of `lane_width` bits,
    /// at most 64 bits a word.
    pub fn laned(depth: usize, lane_width: u32, lanes: u32) -> DualReadRam {
        assert!(depth >= 2, "DualReadRam depth {depth}: at least 2 words");
        assert!(
            lanes >= 1 && lane_width >= 1 && lanes * lane_width <= 64,
            "DualReadRam of {lanes} lanes of {lane_width} bits: 1..=64 bits a word"
        );
        DualReadRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            wr_lanes: Default::default(),
            rd_en: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            rd_en_b: Default::default(),
            rd_addr_b: Default::default(),
            rd_data_b: Default::default(),
            _mem: vec![0; depth],
            _lane_width: lane_width,
            _lanes: lanes,
        }
    }
}

impl Logic for DualReadRam {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let addr_a = if self.wr_en.val() {
                self.wr_addr.val()
            } else {
                self.rd_addr.val()
            }
            .to_u64();
            if self.rd_en.val() {
                self.rd_data.next = word_at(&self._mem, addr_a).to_bits();
            }
            if self.rd_en_b.val() {
                let b = self.rd_addr_b.val().to_u64();
                self.rd_data_b.next = word_at(&self._mem, b).to_bits();
            }
            if self.wr_en.val() {
                let lanes = self._lanes;
                let enables = (lanes > 1).then(|| self.wr_lanes.val().to_u64());
                let bits = lane_bits(self._lane_width, lanes, enables);
                store(&mut self._mem, addr_a, bits, self.wr_data.val().to_u64());
            }
        }
    }
    fn connect(&mut self) {
        self.rd_data.connect();
        self.rd_data_b.connect();
    }
    fn hdl(&self) -> Verilog {
        let (depth, lw, lanes) = (self._mem.len(), self._lane_width, self._lanes);
        let m = MemoryText::laned(depth, lw, lanes);
        let one_lane = if lanes == 1 {
            "// One lane: no lane enables.\nwire unused_wr_lanes = &{1'b0, wr_lanes, 1'b0};\n"
        } else {
            ""
        };
        let read = |enable: &str, addr: &str, data: &str| {
            format!(
                "    if ({enable}) begin\n\
                 \x20       if ({rd_in}) {data} <= {word};\n\
                 \x20       else {data} <= 64'd0;\n\
                 \x20   end",
                rd_in = m.read_in_range(addr),
                word = m.read(addr),
            )
        };
        Verilog::Custom(format!(
            "// True dual-port RAM, {depth} x {width} bits ({lanes} lane(s) of {lw}): port A\n\
             // writes, or reads at rd_addr when not writing (in a write cycle it\n\
             // reads the written word, before the write); port B reads at\n\
             // rd_addr_b. Registered reads, no reset of the contents.\n\
             {decl}\
             {one_lane}\
             wire [63:0] addr_a = wr_en ? wr_addr : rd_addr;\n\
             always @(posedge clock) begin\n\
             \x20   {write}\n\
             {read_a}\n\
             end\n\
             always @(posedge clock) begin\n\
             {read_b}\n\
             end",
            width = lanes * lw,
            decl = m.declaration("block", ", no_rw_check", "wr_lanes"),
            write = m.write("addr_a", "wr_lanes"),
            read_a = read("rd_en", "addr_a", "rd_data"),
            read_b = read("rd_en_b", "rd_addr_b", "rd_data_b"),
        ))
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![
            TimingInfo {
                name: "ram_port_a".into(),
                clock: "clock".into(),
                inputs: [
                    "wr_en", "wr_addr", "wr_data", "wr_lanes", "rd_en", "rd_addr",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                outputs: vec!["rd_data".into()],
            },
            TimingInfo {
                name: "ram_port_b".into(),
                clock: "clock".into(),
                inputs: vec!["rd_en_b".into(), "rd_addr_b".into()],
                outputs: vec!["rd_data_b".into()],
            },
        ]
    }
}

/// The Verilog the RAMs share, for `depth` words of `lanes` lanes of
/// `lane_width` bits behind 64-bit ports: the memory array, the write
/// statement (one per lane of a laned RAM) and the word at an address
/// zero-extended to 64 bits with its range check, each at the address
/// signal it is given.
struct MemoryText {
    depth: usize,
    lane_width: u32,
    lanes: u32,
    /// Bits of a word index.
    index_bits: u32,
}

impl MemoryText {
    fn new(depth: usize, width: u32) -> MemoryText {
        MemoryText::laned(depth, width, 1)
    }

    fn laned(depth: usize, lane_width: u32, lanes: u32) -> MemoryText {
        MemoryText {
            depth,
            lane_width,
            lanes,
            index_bits: crate::shell::clog2(depth as u32),
        }
    }

    fn width(&self) -> u32 {
        self.lanes * self.lane_width
    }

    /// The write of `wr_data` at `addr` under `wr_en`; with more than one
    /// lane, lane k only when bit k of `lane_enables` is set.
    fn write(&self, addr: &str, lane_enables: &str) -> String {
        let (aw, lw) = (self.index_bits, self.lane_width);
        let wr_in = in_range(addr, self.depth, aw);
        if self.lanes == 1 {
            return format!(
                "if (wr_en && {wr_in}) mem[{addr}[{}:0]] <= wr_data[{}:0];",
                aw - 1,
                self.width() - 1
            );
        }
        (0..self.lanes)
            .map(|k| {
                let bits = format!("[{}:{}]", (k + 1) * lw - 1, k * lw);
                format!(
                    "if (wr_en && {wr_in} && {lane_enables}[{k}]) mem[{addr}[{}:0]]{bits} <= wr_data{bits};",
                    aw - 1
                )
            })
            .collect::<Vec<_>>()
            .join("\n    ")
    }

    /// `addr < depth`.
    fn read_in_range(&self, addr: &str) -> String {
        in_range(addr, self.depth, self.index_bits)
    }

    /// The word at `addr`, zero-extended to 64 bits.
    fn read(&self, addr: &str) -> String {
        let word = format!("mem[{addr}[{}:0]]", self.index_bits - 1);
        if self.width() == 64 {
            word
        } else {
            format!("{{{}'d0, {word}}}", 64 - self.width())
        }
    }

    /// The memory array with its attributes (`ram_style` and `extra`),
    /// and the fold of the data bits above the width (which the RAM
    /// cannot store) and of the lane enables (`lane_enables`) above the
    /// lanes.
    fn declaration(&self, style: &str, extra: &str, lane_enables: &str) -> String {
        let width = self.width();
        let mut v = format!(
            "(* ram_style = \"{style}\"{extra} *)\n\
             reg [{}:0] mem [0:{}];\n",
            width - 1,
            self.depth - 1
        );
        if width < 64 {
            v += &format!(
                "// Data bits above the RAM's width are not stored.\n\
                 wire unused_wr_data = &{{1'b0, wr_data[63:{width}], 1'b0}};\n"
            );
        }
        if self.lanes > 1 {
            v += &format!(
                "// Only the low {lanes} lane enables have lanes.\n\
                 wire unused_wr_lanes = &{{1'b0, {lane_enables}[63:{lanes}], 1'b0}};\n",
                lanes = self.lanes
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

/// A RAM of `depth` values of `width` bits, addressed by value, whose
/// words hold `lanes` values each (a power of two): value v is lane
/// v & (lanes - 1) of word v >> log2(lanes). The write port writes any
/// lanes of one word in one cycle; `ports` read ports read one value each,
/// with the timing of `WordRam`'s read port (registered, read-first,
/// holding without `rd_en`, zero at or above `depth`). Built
/// from copies that every write updates (replication: the portable way
/// to get more read ports than a block RAM has): one copy per read
/// port (`copy_reads` 1), or one per two read ports (`copy_reads` 2, a
/// `DualReadRam`: port 2c reads through the write's port of copy c, so
/// it must not read in a write cycle; port 2c + 1 through its port B).
///
/// A copy is one laned RAM when a word of `lanes` values fits 64 bits
/// ("packed"), else a RAM per lane ("split", all read at the word
/// address); with one lane and one read a copy it is exactly
/// `WordRam::new(depth, width)`. With more than one lane, a read port
/// registers the lane of its address with `rd_en` and selects that lane
/// of what its copy reads.
#[derive(LogicBlock)]
pub struct LanedRam {
    pub clock: Signal<In, Clock>,
    /// Write the lanes of the word holding value `wr_addr` (a value index,
    /// whose low log2(lanes) bits do not choose the word) that `wr_lanes`
    /// enables.
    pub wr_en: Signal<In, Bit>,
    pub wr_addr: Signal<In, Word>,
    /// Lane enables (one port when there is more than one lane, else
    /// none): bit k writes lane k; the bits above the lanes are ignored.
    pub wr_lanes: Vec<Signal<In, Word>>,
    /// Lane k's value, one port per lane; its low `width` bits are stored.
    pub wr_data: Vec<Signal<In, Word>>,
    /// Read port p: with `rd_en[p]`, the value at index `rd_addr[p]`
    /// appears on `rd_data[p]` (zero-extended) after the rising edge.
    pub rd_en: Vec<Signal<In, Bit>>,
    pub rd_addr: Vec<Signal<In, Word>>,
    pub rd_data: Vec<Signal<Out, Word>>,
    /// log2(lanes): a value index shifted right by it is a word address.
    lane_bits: Constant<Word>,
    /// Split storage, one read a copy (and one lane): lane j of copy p is
    /// `lane_rams[p * lanes + j]`.
    lane_rams: Vec<WordRam>,
    /// Packed storage, one read a copy: one per copy.
    packed: Vec<PackedCopy>,
    /// Two reads a copy: lane j of copy c is `pair_rams[c * lanes + j]`
    /// (split storage), copy c is `pair_rams[c]` (packed storage).
    pair_rams: Vec<DualReadRam>,
    /// Two reads a copy, split storage: the lane enables of a lane's RAM.
    no_lanes: Vec<Constant<Word>>,
    /// What read port p's copy reads: lane j's RAM's word at
    /// `port_word[p * lanes + j]` (split storage), the copy's word at
    /// `port_word[p]` (packed storage).
    port_word: Vec<Signal<Local, Word>>,
    /// Packed storage: the word written, its lanes 0..=k in `pack[k]`.
    pack: Vec<Signal<Local, Word>>,
    /// Packed storage: lane j's offset in the word, j * width.
    lane_shift: Vec<Constant<Word>>,
    /// Packed storage: the low `width` bits.
    value_mask: Vec<Constant<Word>>,
    /// Split storage of more than one lane: lane j's enable, 1 << j.
    lane_bit: Vec<Constant<Word>>,
    /// The lanes below the last, j: a read port selects the last lane
    /// unless its registered lane is one of these.
    lane_index: Vec<Constant<Word>>,
    /// More than one lane: read port p's lane, registered with `rd_en[p]`.
    lane_q: Vec<WordReg>,
}

impl LanedRam {
    /// `ports` (>= 1) read ports onto `depth` values of `width` (1..=64)
    /// bits in words of `lanes` values; `depth` a multiple of `lanes` and
    /// at least two words; `copy_reads` (1 or 2, 2 only with an even
    /// number of ports) read ports a copy.
    pub fn new(
        depth: usize,
        width: u32,
        ports: usize,
        lanes: usize,
        copy_reads: usize,
    ) -> LanedRam {
        assert!(ports >= 1, "LanedRam needs a read port");
        assert!(
            lanes.is_power_of_two() && depth % lanes == 0,
            "LanedRam of {depth} values in words of {lanes}: lanes a power of two dividing depth"
        );
        assert!(
            copy_reads == 1 || (copy_reads == 2 && ports % 2 == 0),
            "LanedRam of {ports} read ports: {copy_reads} reads a copy (1, or 2 with an even number of ports)"
        );
        let words = depth / lanes;
        let packed = lanes > 1 && lanes as u32 * width <= 64;
        let paired = copy_reads == 2;
        // Counts of the parts only one storage, one pairing (or more than
        // one lane) has.
        let if_packed = |n: usize| if packed { n } else { 0 };
        let if_split = |n: usize| if packed { 0 } else { n };
        let if_single = |n: usize| if paired { 0 } else { n };
        let if_laned = |n: usize| if lanes > 1 { n } else { 0 };
        let konst = |v: u64| Constant::new(v.to_bits());
        let copies = ports / copy_reads;
        LanedRam {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_lanes: one_if(lanes > 1, Default::default()),
            wr_data: (0..lanes).map(|_| Default::default()).collect(),
            rd_en: (0..ports).map(|_| Default::default()).collect(),
            rd_addr: (0..ports).map(|_| Default::default()).collect(),
            rd_data: (0..ports).map(|_| Default::default()).collect(),
            lane_bits: konst(u64::from(lanes.trailing_zeros())),
            lane_rams: (0..if_single(if_split(ports * lanes)))
                .map(|_| WordRam::new(words, width))
                .collect(),
            packed: (0..if_single(if_packed(ports)))
                .map(|_| PackedCopy::new(words, width, lanes as u32))
                .collect(),
            pair_rams: (0..copies * if_split(lanes) + copies * if_packed(1))
                .filter(|_| paired)
                .map(|_| {
                    if packed {
                        DualReadRam::laned(words, width, lanes as u32)
                    } else {
                        DualReadRam::laned(words, width, 1)
                    }
                })
                .collect(),
            no_lanes: one_if(paired && !packed, konst(0)),
            port_word: (0..ports * if_split(lanes) + if_packed(ports))
                .map(|_| Default::default())
                .collect(),
            pack: (0..if_packed(lanes)).map(|_| Default::default()).collect(),
            lane_shift: (0..if_packed(lanes))
                .map(|j| konst(j as u64 * u64::from(width)))
                .collect(),
            value_mask: one_if(packed, konst(low_mask(width))),
            lane_bit: (0..if_split(if_laned(lanes)))
                .map(|j| konst(1 << j))
                .collect(),
            lane_index: (0..lanes - 1).map(|j| konst(j as u64)).collect(),
            lane_q: (0..if_laned(ports))
                .map(|_| WordReg::unsigned(lanes.trailing_zeros()))
                .collect(),
        }
    }
    pub fn ports(&self) -> usize {
        self.rd_data.len()
    }
    pub fn lanes(&self) -> usize {
        self.wr_data.len()
    }
    /// A copy is one laned RAM (else a RAM per lane).
    pub fn packed(&self) -> bool {
        !self.pack.is_empty()
    }
    /// Read ports a copy.
    pub fn copy_reads(&self) -> usize {
        if self.pair_rams.is_empty() {
            1
        } else {
            2
        }
    }
    /// 1 with more than one lane (the lane enables exist), else 0.
    fn laned(&self) -> usize {
        self.wr_lanes.len()
    }
    fn lanes_end(&self) -> usize {
        self.lanes() + 1
    }
    fn last_lane(&self) -> usize {
        self.lanes() - 1
    }
    /// Split storage: read ports (else 0).
    fn split_read_ports(&self) -> usize {
        if self.packed() {
            0
        } else {
            self.ports()
        }
    }
    /// Split storage, one read a copy: copies (else 0).
    fn split_ports(&self) -> usize {
        self.lane_rams.len() / self.lanes()
    }
    /// Packed storage, one read a copy: copies (else 0).
    fn packed_ports(&self) -> usize {
        self.packed.len()
    }
    /// Split storage, two reads a copy: copies (else 0).
    fn split_pairs(&self) -> usize {
        if self.packed() {
            0
        } else {
            self.pair_rams.len() / self.lanes()
        }
    }
    /// Packed storage, two reads a copy: copies (else 0).
    fn packed_pairs(&self) -> usize {
        if self.packed() {
            self.pair_rams.len()
        } else {
            0
        }
    }
    /// Read ports with a lane register: `ports`, or 0 with one lane.
    fn lane_ports(&self) -> usize {
        self.lane_q.len()
    }
    /// The packed storage's loop `last_lane()..packed_end()`: one round
    /// (the last lane) when packed, none when split.
    fn packed_end(&self) -> usize {
        self.pack.len()
    }
}

impl Logic for LanedRam {
    #[hdl_gen]
    fn update(&mut self) {
        // The lane of each read, held like the RAMs' read data.
        for p in 0..self.lane_ports() {
            self.lane_q[p].clock.next = self.clock.val();
            self.lane_q[p].reset.next = false;
            self.lane_q[p].d.next = self.lane_q[p].q.val();
            if self.rd_en[p].val() {
                self.lane_q[p].d.next = self.rd_addr[p].val();
            }
        }
        // Split storage: lane j of every copy is a RAM of its own, written
        // when its lane is enabled; a read port picks its lane's RAM.
        for nl in self.lanes()..self.lanes_end() {
            for p in 0..self.split_ports() {
                for j in 0..self.lanes() {
                    self.lane_rams[p * nl + j].clock.next = self.clock.val();
                    self.lane_rams[p * nl + j].wr_en.next = self.wr_en.val();
                    for z in 0..self.laned() {
                        self.lane_rams[p * nl + j].wr_en.next = self.wr_en.val()
                            & (self.wr_lanes[z].val() & self.lane_bit[j].val()).any();
                    }
                    self.lane_rams[p * nl + j].wr_addr.next =
                        self.wr_addr.val() >> self.lane_bits.val();
                    self.lane_rams[p * nl + j].wr_data.next = self.wr_data[j].val();
                    self.lane_rams[p * nl + j].rd_en.next = self.rd_en[p].val();
                    self.lane_rams[p * nl + j].rd_addr.next =
                        self.rd_addr[p].val() >> self.lane_bits.val();
                    self.port_word[p * nl + j].next = self.lane_rams[p * nl + j].rd_data.val();
                }
            }
            for c in 0..self.split_pairs() {
                for j in 0..self.lanes() {
                    self.pair_rams[c * nl + j].clock.next = self.clock.val();
                    self.pair_rams[c * nl + j].wr_en.next = self.wr_en.val();
                    for z in 0..self.laned() {
                        self.pair_rams[c * nl + j].wr_en.next = self.wr_en.val()
                            & (self.wr_lanes[z].val() & self.lane_bit[j].val()).any();
                    }
                    self.pair_rams[c * nl + j].wr_addr.next =
                        self.wr_addr.val() >> self.lane_bits.val();
                    self.pair_rams[c * nl + j].wr_data.next = self.wr_data[j].val();
                    self.pair_rams[c * nl + j].wr_lanes.next = self.no_lanes[0].val();
                    self.pair_rams[c * nl + j].rd_en.next = self.rd_en[2 * c].val();
                    self.pair_rams[c * nl + j].rd_addr.next =
                        self.rd_addr[2 * c].val() >> self.lane_bits.val();
                    self.pair_rams[c * nl + j].rd_en_b.next = self.rd_en[2 * c + 1].val();
                    self.pair_rams[c * nl + j].rd_addr_b.next =
                        self.rd_addr[2 * c + 1].val() >> self.lane_bits.val();
                    self.port_word[2 * c * nl + j].next = self.pair_rams[c * nl + j].rd_data.val();
                    self.port_word[(2 * c + 1) * nl + j].next =
                        self.pair_rams[c * nl + j].rd_data_b.val();
                }
            }
            for p in 0..self.split_read_ports() {
                for last in self.last_lane()..self.lanes() {
                    self.rd_data[p].next = self.port_word[p * nl + last].val();
                }
                for j in 0..self.last_lane() {
                    if self.lane_q[p].q.val() == self.lane_index[j].val() {
                        self.rd_data[p].next = self.port_word[p * nl + j].val();
                    }
                }
            }
        }
        // Packed storage: the lanes' values packed into one word, written
        // under the lane enables; a read port shifts its lane down.
        for last in self.last_lane()..self.packed_end() {
            self.pack[0].next = self.wr_data[0].val() & self.value_mask[0].val();
            for k in 1..self.lanes() {
                self.pack[k].next = self.pack[k - 1].val()
                    | ((self.wr_data[k].val() & self.value_mask[0].val())
                        << self.lane_shift[k].val());
            }
            for p in 0..self.packed_ports() {
                self.packed[p].clock.next = self.clock.val();
                self.packed[p].wr_en.next = self.wr_en.val();
                self.packed[p].wr_addr.next = self.wr_addr.val() >> self.lane_bits.val();
                self.packed[p].wr_lanes.next = self.wr_lanes[0].val();
                self.packed[p].wr_data.next = self.pack[last].val();
                self.packed[p].rd_en.next = self.rd_en[p].val();
                self.packed[p].rd_addr.next = self.rd_addr[p].val() >> self.lane_bits.val();
                self.port_word[p].next = self.packed[p].rd_data.val();
            }
            for c in 0..self.packed_pairs() {
                self.pair_rams[c].clock.next = self.clock.val();
                self.pair_rams[c].wr_en.next = self.wr_en.val();
                self.pair_rams[c].wr_addr.next = self.wr_addr.val() >> self.lane_bits.val();
                self.pair_rams[c].wr_lanes.next = self.wr_lanes[0].val();
                self.pair_rams[c].wr_data.next = self.pack[last].val();
                self.pair_rams[c].rd_en.next = self.rd_en[2 * c].val();
                self.pair_rams[c].rd_addr.next = self.rd_addr[2 * c].val() >> self.lane_bits.val();
                self.pair_rams[c].rd_en_b.next = self.rd_en[2 * c + 1].val();
                self.pair_rams[c].rd_addr_b.next =
                    self.rd_addr[2 * c + 1].val() >> self.lane_bits.val();
                self.port_word[2 * c].next = self.pair_rams[c].rd_data.val();
                self.port_word[2 * c + 1].next = self.pair_rams[c].rd_data_b.val();
            }
            for p in 0..self.ports() {
                self.rd_data[p].next = (self.port_word[p].val() >> self.lane_shift[last].val())
                    & self.value_mask[0].val();
                for j in 0..self.last_lane() {
                    if self.lane_q[p].q.val() == self.lane_index[j].val() {
                        self.rd_data[p].next = (self.port_word[p].val()
                            >> self.lane_shift[j].val())
                            & self.value_mask[0].val();
                    }
                }
            }
        }
    }
}

/// One copy of a packed `LanedRam`: a laned `WordRam` whose lane enables
/// come in on a plain port. rust-hdl's Verilog resolves only the first
/// index of a name (`packed[p].wr_lanes[0]` would become
/// `packed$0$wr_lanes[0]`), so a block held in a `Vec` cannot have its
/// `Vec` ports driven: each copy wraps its RAM.
#[derive(LogicBlock)]
struct PackedCopy {
    pub clock: Signal<In, Clock>,
    pub wr_en: Signal<In, Bit>,
    /// A word address.
    pub wr_addr: Signal<In, Word>,
    pub wr_lanes: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    pub rd_en: Signal<In, Bit>,
    /// A word address.
    pub rd_addr: Signal<In, Word>,
    pub rd_data: Signal<Out, Word>,
    ram: WordRam,
}

impl PackedCopy {
    fn new(words: usize, lane_width: u32, lanes: u32) -> PackedCopy {
        PackedCopy {
            clock: Default::default(),
            wr_en: Default::default(),
            wr_addr: Default::default(),
            wr_lanes: Default::default(),
            wr_data: Default::default(),
            rd_en: Default::default(),
            rd_addr: Default::default(),
            rd_data: Default::default(),
            ram: WordRam::laned(words, lane_width, lanes),
        }
    }
}

impl Logic for PackedCopy {
    #[hdl_gen]
    fn update(&mut self) {
        self.ram.clock.next = self.clock.val();
        self.ram.wr_en.next = self.wr_en.val();
        self.ram.wr_addr.next = self.wr_addr.val();
        self.ram.wr_lanes[0].next = self.wr_lanes.val();
        self.ram.wr_data.next = self.wr_data.val();
        self.ram.rd_en.next = self.rd_en.val();
        self.ram.rd_addr.next = self.rd_addr.val();
        self.rd_data.next = self.ram.rd_data.val();
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

/// One `LanedRam` alone (top `drq_laned_ram`), for its lint and
/// synthesis: addresses 16 bits (so out-of-range ones can be driven),
/// `wr_lanes` `lanes` bits (none with one lane), `wr_data` and `rd_data`
/// `lanes` and `ports` lanes of `width` bits, `rd_en` and `rd_addr` one
/// lane per read port.
pub fn laned_ram_design(
    depth: usize,
    width: u32,
    ports: usize,
    lanes: usize,
) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let vector = |name: &str, dir, lane_width, count: usize, extend| {
        ShellPort::new(name, name, dir, lane_width, Some(count as u32), extend)
    };
    let mut shell_ports = vec![
        ShellPort::new("clk", "clock", Input, 1, None, Flag),
        scalar("wr_en", Input, 1, Flag),
        scalar("wr_addr", Input, 16, Zero),
    ];
    if lanes > 1 {
        shell_ports.push(vector("wr_lanes", Input, lanes as u32, 1, Zero));
    }
    shell_ports.extend([
        vector("wr_data", Input, width, lanes, Zero),
        vector("rd_en", Input, 1, ports, Flag),
        vector("rd_addr", Input, 16, ports, Zero),
        vector("rd_data", Output, width, ports, Zero),
    ]);
    let cfg = drq_arch::AccelConfig::default();
    design(
        "drq_laned_ram",
        "drq_laned_ram_core",
        &cfg,
        shell_ports,
        &mut LanedRam::new(depth, width, ports, lanes, 1),
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

    #[test]
    fn laned_ram_writes_only_the_enabled_lanes() {
        // 5 words of 4 lanes of 8 bits
        let mut r = WordRam::laned(5, 8, 4);
        r.connect_all();
        assert_eq!((r.width(), r.lanes(), r.wr_lanes.len()), (32, 4, 1));
        r.rd_en.next = true;
        r.rd_addr.next = word(2);
        let write = |r: &mut WordRam, addr: i64, lanes: u64, data: u64| {
            r.wr_en.next = true;
            r.wr_addr.next = word(addr);
            r.wr_lanes[0].next = lanes.to_bits();
            r.wr_data.next = data.to_bits();
            tick(r);
            r.wr_en.next = false;
        };
        // lanes 0 and 2; the data bits above the word are not stored
        write(&mut r, 2, 0b0101, 0xffff_ffff_4433_2211);
        assert_eq!(r.rd_data.val(), word(0), "read first: old contents");
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0x0033_0011));
        // lanes 1 and 3 keep lanes 0 and 2; enables above the lanes do nothing
        write(&mut r, 2, 0xf0 | 0b1010, 0x8877_6655);
        assert_eq!(r.rd_data.val(), word(0x0033_0011), "read first");
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0x8833_6611));
        write(&mut r, 2, 0xf0, 0);
        write(&mut r, 2, 0b0100, 0x00aa_0000);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0x88aa_6611));
        // out of range: no write, reads zero
        write(&mut r, 5, 0b1111, 0xffff_ffff);
        r.rd_addr.next = word(5);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0));
        for a in [0, 1, 3, 4] {
            r.rd_addr.next = word(a);
            tick(&mut r);
            assert_eq!(r.rd_data.val(), word(0), "{a}");
        }
        // without rd_en the output holds
        r.rd_addr.next = word(2);
        tick(&mut r);
        r.rd_en.next = false;
        r.rd_addr.next = word(0);
        tick(&mut r);
        assert_eq!(r.rd_data.val(), word(0x88aa_6611));
    }

    #[test]
    fn laned_verilog_writes_each_lane_under_its_enable() {
        let v = match WordRam::laned(1024, 8, 4).hdl() {
            Verilog::Custom(s) => s,
            _ => unreachable!(),
        };
        assert!(
            v.contains("(* ram_style = \"block\" *)\nreg [31:0] mem [0:1023];"),
            "{v}"
        );
        for (k, bits) in ["[7:0]", "[15:8]", "[23:16]", "[31:24]"].iter().enumerate() {
            let line = format!(
                "if (wr_en && ~|wr_addr[63:10] && wr_lanes$0[{k}]) mem[wr_addr[9:0]]{bits} <= wr_data{bits};"
            );
            assert!(v.contains(&line), "{line}\n{v}");
        }
        assert!(
            v.contains("wire unused_wr_data = &{1'b0, wr_data[63:32], 1'b0};"),
            "{v}"
        );
        assert!(
            v.contains("wire unused_wr_lanes = &{1'b0, wr_lanes$0[63:4], 1'b0};"),
            "{v}"
        );
        assert!(v.contains("rd_data <= {32'd0, mem[rd_addr[9:0]]};"), "{v}");
        // A whole-word RAM has no lane enables.
        let v = match WordRam::new(1024, 32).hdl() {
            Verilog::Custom(s) => s,
            _ => unreachable!(),
        };
        assert!(!v.contains("wr_lanes") && !v.contains("lanes of"), "{v}");
    }

    /// xorshift64: the random sequences of the `LanedRam` tests.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// One in `n`.
        fn one_in(&mut self, n: u64) -> bool {
            self.next() % n == 0
        }
        /// An address: mostly below `depth`, else up to twice it, else far.
        fn addr(&mut self, depth: usize) -> u64 {
            let depth = depth as u64;
            match self.next() % 8 {
                0 => depth + self.next() % depth,
                1 => (self.next() % depth) | 1 << (16 + self.next() % 48),
                _ => self.next() % depth,
            }
        }
    }

    fn tick_laned(r: &mut LanedRam) {
        r.clock.next = Clock::from(false);
        settle(r);
        r.clock.next = Clock::from(true);
        settle(r);
    }

    /// Random writes (random lane enables, data and addresses, out of
    /// range included) and reads on every port, each cycle checked against
    /// a `Vec` of values: 4000 cycles from `seed` (printed).
    fn laned_ram_matches_a_vec(
        depth: usize,
        width: u32,
        ports: usize,
        lanes: usize,
        packed: bool,
        copy_reads: usize,
        seed: u64,
    ) {
        println!(
            "LanedRam {depth} x {width}, {ports} ports, {lanes} lanes, {copy_reads} reads a copy: seed {seed:#x}"
        );
        let mut r = LanedRam::new(depth, width, ports, lanes, copy_reads);
        assert_eq!((r.packed(), r.copy_reads()), (packed, copy_reads));
        assert_eq!(
            (r.wr_lanes.len(), r.wr_data.len(), r.rd_data.len()),
            (usize::from(lanes > 1), lanes, ports)
        );
        r.connect_all();
        let mut rng = XorShift(seed);
        let mut values = vec![0u64; depth];
        let mut out = vec![0u64; ports];
        for cycle in 0..4000 {
            let wr_en = !rng.one_in(3);
            let wr_addr = rng.addr(depth);
            // All lanes, one lane, or any (bits above the lanes too).
            let enables = match rng.next() % 4 {
                0 => u64::MAX,
                1 => 1 << (rng.next() % lanes as u64),
                _ => rng.next(),
            };
            let data: Vec<u64> = (0..lanes).map(|_| rng.next()).collect();
            // Two reads a copy: port 2c shares the write's port, so it
            // reads only in cycles without a write (the contract).
            let reads: Vec<(bool, u64)> = (0..ports)
                .map(|p| {
                    let shares_write = copy_reads == 2 && p % 2 == 0 && wr_en;
                    (!rng.one_in(4) && !shares_write, rng.addr(depth))
                })
                .collect();
            r.wr_en.next = wr_en;
            r.wr_addr.next = wr_addr.to_bits();
            for e in &mut r.wr_lanes {
                e.next = enables.to_bits();
            }
            for (k, d) in data.iter().enumerate() {
                r.wr_data[k].next = d.to_bits();
            }
            for (p, &(en, a)) in reads.iter().enumerate() {
                r.rd_en[p].next = en;
                r.rd_addr[p].next = a.to_bits();
            }
            tick_laned(&mut r);
            // The reference: reads first, then the write.
            for (p, &(en, a)) in reads.iter().enumerate() {
                if en {
                    out[p] = values.get(a as usize).copied().unwrap_or(0);
                }
            }
            if wr_en {
                let first = (wr_addr as usize & !(lanes - 1)) as u64;
                for (k, d) in data.iter().enumerate() {
                    let v = first + k as u64;
                    if (lanes == 1 || enables >> k & 1 == 1) && v < depth as u64 {
                        values[v as usize] = d & low_mask(width);
                    }
                }
            }
            for (p, want) in out.iter().enumerate() {
                assert_eq!(
                    r.rd_data[p].val().to_u64(),
                    *want,
                    "seed {seed:#x}, cycle {cycle}, port {p}, reads {reads:x?}, write {wr_en} at {wr_addr:#x} lanes {enables:#x}"
                );
            }
        }
    }

    #[test]
    fn packed_laned_ram_matches_a_vec() {
        laned_ram_matches_a_vec(16, 8, 3, 4, true, 1, 0x1a4e_d5ee_d001);
        laned_ram_matches_a_vec(24, 16, 2, 2, true, 1, 0x1a4e_d5ee_d002);
        laned_ram_matches_a_vec(32, 4, 1, 16, true, 1, 0x1a4e_d5ee_d003);
        laned_ram_matches_a_vec(16, 8, 4, 4, true, 2, 0x1a4e_d5ee_d004);
        laned_ram_matches_a_vec(32, 1, 2, 8, true, 2, 0x1a4e_d5ee_d005);
    }

    #[test]
    fn split_laned_ram_matches_a_vec() {
        laned_ram_matches_a_vec(16, 40, 1, 4, false, 1, 0x5b11_75ee_d001);
        laned_ram_matches_a_vec(16, 64, 2, 2, false, 1, 0x5b11_75ee_d002);
        laned_ram_matches_a_vec(16, 40, 4, 4, false, 2, 0x5b11_75ee_d003);
    }

    #[test]
    fn one_lane_ram_matches_a_vec() {
        laned_ram_matches_a_vec(10, 8, 3, 1, false, 1, 0x0e1a_e5ee_d001);
        laned_ram_matches_a_vec(16, 64, 1, 1, false, 1, 0x0e1a_e5ee_d002);
        laned_ram_matches_a_vec(10, 8, 6, 1, false, 2, 0x0e1a_e5ee_d003);
    }

    fn tick_dual(r: &mut DualReadRam) {
        r.clock.next = Clock::from(false);
        settle(r);
        r.clock.next = Clock::from(true);
        settle(r);
    }

    #[test]
    fn dual_read_ram_port_a_reads_the_written_word_in_a_write_cycle() {
        // 6 words of 2 lanes of 4 bits
        let mut r = DualReadRam::laned(6, 4, 2);
        r.connect_all();
        let write = |r: &mut DualReadRam, addr: i64, lanes: u64, data: u64| {
            r.wr_en.next = true;
            r.wr_addr.next = word(addr);
            r.wr_lanes.next = lanes.to_bits();
            r.wr_data.next = data.to_bits();
        };
        // Port A reads 1 and port B reads 2 while the write stores 0x5a at 2:
        // A reads the written address (before the write), B the old word.
        write(&mut r, 2, 0b11, 0xf5a);
        r.rd_en.next = true;
        r.rd_addr.next = word(1);
        r.rd_en_b.next = true;
        r.rd_addr_b.next = word(2);
        tick_dual(&mut r);
        assert_eq!((r.rd_data.val(), r.rd_data_b.val()), (word(0), word(0)));
        // Lane 1 alone at 1: port A reads 1 (old: 0), B the word at 2.
        write(&mut r, 1, 0b10, 0x70);
        r.rd_addr.next = word(2);
        tick_dual(&mut r);
        assert_eq!((r.rd_data.val(), r.rd_data_b.val()), (word(0), word(0x5a)));
        // Without the write port A reads its own address.
        r.wr_en.next = false;
        tick_dual(&mut r);
        assert_eq!(r.rd_data.val(), word(0x5a));
        write(&mut r, 2, 0b10, 0x30);
        r.rd_addr.next = word(4);
        r.rd_en_b.next = false;
        tick_dual(&mut r);
        assert_eq!(
            r.rd_data.val(),
            word(0x5a),
            "port A at the written word, old"
        );
        assert_eq!(
            r.rd_data_b.val(),
            word(0x5a),
            "port B holds without rd_en_b"
        );
        r.wr_en.next = false;
        r.rd_en_b.next = true;
        r.rd_addr_b.next = word(6);
        tick_dual(&mut r);
        assert_eq!(
            (r.rd_data.val(), r.rd_data_b.val()),
            (word(0), word(0)),
            "4 unwritten, 6 out of range"
        );
        r.rd_addr.next = word(2);
        r.rd_addr_b.next = word(1);
        tick_dual(&mut r);
        assert_eq!(
            (r.rd_data.val(), r.rd_data_b.val()),
            (word(0x3a), word(0x70))
        );
    }

    #[test]
    fn dual_read_verilog_shares_port_a_with_the_write() {
        let v = match DualReadRam::laned(1024, 8, 2).hdl() {
            Verilog::Custom(s) => s,
            _ => unreachable!(),
        };
        for line in [
            "(* ram_style = \"block\", no_rw_check *)\nreg [15:0] mem [0:1023];",
            "wire [63:0] addr_a = wr_en ? wr_addr : rd_addr;",
            "if (wr_en && ~|addr_a[63:10] && wr_lanes[1]) mem[addr_a[9:0]][15:8] <= wr_data[15:8];",
            "if (~|addr_a[63:10]) rd_data <= {48'd0, mem[addr_a[9:0]]};",
            "if (~|rd_addr_b[63:10]) rd_data_b <= {48'd0, mem[rd_addr_b[9:0]]};",
            "wire unused_wr_lanes = &{1'b0, wr_lanes[63:2], 1'b0};",
        ] {
            assert!(v.contains(line), "{line}\n{v}");
        }
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
            let (a, data) = (self.wr_addr.val().to_u64(), self.wr_data.val().to_u64());
            store(&mut self._mem, a, low_mask(self._width), data);
        }
        self.rd_data.next = word_at(&self._mem, self.rd_addr.val().to_u64()).to_bits();
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
            decl = m.declaration("distributed", "", ""),
            write = m.write("wr_addr", ""),
            rd_in = m.read_in_range("rd_addr"),
            read = m.read("rd_addr"),
        ))
    }
}
