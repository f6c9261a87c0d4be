//! The host interface of the accelerator: an AXI4-Lite slave (32-bit data,
//! [`ADDR_BITS`]-bit byte addresses) with a register file and a window onto
//! on-chip buffers. Address map, timing and choices: `docs/axil.md`.
//!
//! * `0x000000 ..= 0x0000FF`: 64 register slots of 32 bits. Slots
//!   `0 .. n_rw` are read/write configuration registers (`reg_out`, reset to
//!   0, byte strobes honoured, a one-cycle `write_strobe` pulse per write);
//!   slots `n_rw .. n_rw + n_ro` read the design's inputs `reg_in` (writes
//!   are not performed and answer SLVERR); the remaining slots are unmapped.
//! * `WINDOW_BASE ..` (`0x100000`, up to `window_words` words): the buffer
//!   window. A write (full strobes only, else SLVERR) drives `mem_wr` with
//!   `mem_addr` (word address from the window base) and `mem_wdata` for one
//!   cycle; a read drives `mem_rd` with `mem_addr` for one cycle and takes
//!   `mem_rdata` in the next cycle (one cycle of latency, like `WordRam`).
//! * Everything else answers SLVERR (reads return 0).
//!
//! One write and one read are in flight at a time: AW and W are each taken
//! into a holding register (in any order or together), the write is
//! performed in the cycle after both are held, and B is raised until
//! `bready`; AW and W are not taken again until B has been accepted. AR is
//! taken into a holding register, performed the next cycle (or the cycle
//! after that, if a window write uses the memory port in the same cycle),
//! and R is raised until `rready`. Every output is a register or a function
//! of registers only (no combinational path from an input to an output).

use crate::leaf::{konst, one_if, vec_of, Reg, Word};
use crate::ram::WordRam;
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

pub use drq_arch::regs::{ADDR_BITS, MAX_WINDOW_WORDS, NUM_REGS, WINDOW_BASE};
/// BRESP / RRESP codes.
pub const RESP_OKAY: u64 = 0;
pub const RESP_SLVERR: u64 = 2;

/// The emitted test top `drq_axil`: 16 RW and 16 RO registers, a 1024-word
/// `WordRam` in the window.
pub const TEST_N_RW: usize = 16;
pub const TEST_N_RO: usize = 16;
pub const TEST_WINDOW_WORDS: u64 = 1024;

/// Where a byte address falls: in the buffer window (`WINDOW_BASE` up to
/// its `words` words), and its word there.
#[derive(LogicBlock)]
pub struct WindowDecode {
    pub addr: Signal<In, Word>,
    pub in_window: Signal<Out, Bit>,
    pub word: Signal<Out, Word>,
    base: Constant<Word>,
    limit: Constant<Word>,
    two: Constant<Word>,
    addr_mask: Constant<Word>,
}

impl WindowDecode {
    pub fn new(words: u64) -> WindowDecode {
        WindowDecode {
            addr: Default::default(),
            in_window: Default::default(),
            word: Default::default(),
            base: konst(WINDOW_BASE),
            limit: konst(WINDOW_BASE + 4 * words),
            two: konst(2),
            addr_mask: konst((1 << ADDR_BITS) - 1),
        }
    }
}

impl Logic for WindowDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.in_window.next =
            (self.addr.val() >= self.base.val()) & (self.addr.val() < self.limit.val());
        self.word.next =
            ((self.addr.val() - self.base.val()) >> self.two.val()) & self.addr_mask.val();
    }
}

#[derive(LogicBlock)]
pub struct AxiLiteSlave {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Write address channel.
    pub awvalid: Signal<In, Bit>,
    pub awready: Signal<Out, Bit>,
    pub awaddr: Signal<In, Word>,
    // Write data channel.
    pub wvalid: Signal<In, Bit>,
    pub wready: Signal<Out, Bit>,
    pub wdata: Signal<In, Word>,
    pub wstrb: Signal<In, Word>,
    // Write response channel.
    pub bvalid: Signal<Out, Bit>,
    pub bready: Signal<In, Bit>,
    pub bresp: Signal<Out, Word>,
    // Read address channel.
    pub arvalid: Signal<In, Bit>,
    pub arready: Signal<Out, Bit>,
    pub araddr: Signal<In, Word>,
    // Read data channel.
    pub rvalid: Signal<Out, Bit>,
    pub rready: Signal<In, Bit>,
    pub rdata: Signal<Out, Word>,
    pub rresp: Signal<Out, Word>,
    // Register file towards the design.
    pub reg_out: Vec<Signal<Out, Word>>,
    pub write_strobe: Vec<Signal<Out, Bit>>,
    pub reg_in: Vec<Signal<In, Word>>,
    // Buffer window (one port; reads have one cycle of latency).
    pub mem_addr: Signal<Out, Word>,
    pub mem_wr: Signal<Out, Bit>,
    pub mem_wdata: Signal<Out, Word>,
    pub mem_rd: Signal<Out, Bit>,
    pub mem_rdata: Signal<In, Word>,
    // Constants.
    zero: Constant<Word>,
    one: Constant<Word>,
    two: Constant<Word>,
    three: Constant<Word>,
    addr_mask: Constant<Word>,
    data_mask: Constant<Word>,
    index_mask: Constant<Word>,
    regs_end: Constant<Word>,
    n_rw_c: Constant<Word>,
    n_regs_c: Constant<Word>,
    strb_full: Constant<Word>,
    byte0: Constant<Word>,
    byte1: Constant<Word>,
    byte2: Constant<Word>,
    byte3: Constant<Word>,
    slverr: Constant<Word>,
    rw_index: Vec<Constant<Word>>,
    /// The bits each RW register holds (the rest read as 0).
    rw_mask: Vec<Constant<Word>>,
    ro_index: Vec<Constant<Word>>,
    // Write: holding registers and response.
    aw_full: Reg<Bit>,
    aw_addr: Reg<Word>,
    /// The held write address is in the buffer window, and its word
    /// there: decoded as the address is taken, so the memory port's
    /// address and strobes come from registers through one mux.
    aw_win: Reg<Bit>,
    aw_word: Reg<Word>,
    aw_decode: WindowDecode,
    w_full: Reg<Bit>,
    w_data: Reg<Word>,
    w_mask: Reg<Word>,
    w_whole: Reg<Bit>,
    b_valid: Reg<Bit>,
    b_resp: Reg<Word>,
    // Read: holding register, memory wait, response.
    ar_full: Reg<Bit>,
    ar_addr: Reg<Word>,
    /// The same for the held read address.
    ar_win: Reg<Bit>,
    ar_word: Reg<Word>,
    ar_decode: WindowDecode,
    r_wait: Reg<Bit>,
    /// With a memory read latency of two cycles (`with_mem_read_latency`;
    /// one entry, else none): the read's second cycle of waiting.
    r_wait_more: Vec<Reg<Bit>>,
    r_valid: Reg<Bit>,
    r_data: Reg<Word>,
    r_resp: Reg<Word>,
    // Register file.
    regs: Vec<Reg<Word>>,
    /// The write pulses, one per strobed slot (`strobe_slot`).
    strobes: Vec<Reg<Bit>>,
    strobe_slot: Vec<Constant<Word>>,
    // Combinational temporaries (written before read).
    aw_take: Signal<Local, Bit>,
    w_take: Signal<Local, Bit>,
    ar_take: Signal<Local, Bit>,
    w_exec: Signal<Local, Bit>,
    w_index: Signal<Local, Word>,
    w_is_rw: Signal<Local, Bit>,
    w_mem: Signal<Local, Bit>,
    r_index: Signal<Local, Word>,
    r_is_reg: Signal<Local, Bit>,
    r_reg_val: Signal<Local, Word>,
    r_go_mem: Signal<Local, Bit>,
    /// A window read waits for `mem_rdata`.
    r_in_flight: Signal<Local, Bit>,
    strb_mask: Signal<Local, Word>,
}

impl AxiLiteSlave {
    /// A slave with `n_rw` read/write and `n_ro` read-only registers
    /// (each at least 1, together at most 64) and a window spanning the whole
    /// address space above `WINDOW_BASE`.
    pub fn new(n_rw: usize, n_ro: usize) -> AxiLiteSlave {
        assert!(
            n_rw >= 1 && n_ro >= 1 && n_rw + n_ro <= NUM_REGS as usize,
            "AxiLiteSlave: {n_rw} RW + {n_ro} RO registers (each >= 1, together <= {NUM_REGS})"
        );
        AxiLiteSlave {
            clock: Default::default(),
            reset: Default::default(),
            awvalid: Default::default(),
            awready: Default::default(),
            awaddr: Default::default(),
            wvalid: Default::default(),
            wready: Default::default(),
            wdata: Default::default(),
            wstrb: Default::default(),
            bvalid: Default::default(),
            bready: Default::default(),
            bresp: Default::default(),
            arvalid: Default::default(),
            arready: Default::default(),
            araddr: Default::default(),
            rvalid: Default::default(),
            rready: Default::default(),
            rdata: Default::default(),
            rresp: Default::default(),
            reg_out: vec_of(n_rw),
            write_strobe: vec_of(n_rw),
            reg_in: vec_of(n_ro),
            mem_addr: Default::default(),
            mem_wr: Default::default(),
            mem_wdata: Default::default(),
            mem_rd: Default::default(),
            mem_rdata: Default::default(),
            zero: konst(0),
            one: konst(1),
            two: konst(2),
            three: konst(3),
            addr_mask: konst((1 << ADDR_BITS) - 1),
            data_mask: konst(0xFFFF_FFFF),
            index_mask: konst(u64::from(NUM_REGS) - 1),
            regs_end: konst(4 * u64::from(NUM_REGS)),
            n_rw_c: konst(n_rw as u64),
            n_regs_c: konst((n_rw + n_ro) as u64),
            strb_full: konst(0xF),
            byte0: konst(0xFF),
            byte1: konst(0xFF00),
            byte2: konst(0xFF_0000),
            byte3: konst(0xFF00_0000),
            slverr: konst(RESP_SLVERR),
            rw_index: (0..n_rw as u64).map(konst).collect(),
            rw_mask: (0..n_rw).map(|_| konst(0xFFFF_FFFF)).collect(),
            ro_index: (n_rw as u64..(n_rw + n_ro) as u64).map(konst).collect(),
            aw_full: Default::default(),
            aw_addr: Default::default(),
            aw_win: Default::default(),
            aw_word: Default::default(),
            aw_decode: WindowDecode::new(MAX_WINDOW_WORDS),
            w_full: Default::default(),
            w_data: Default::default(),
            w_mask: Default::default(),
            w_whole: Default::default(),
            b_valid: Default::default(),
            b_resp: Default::default(),
            ar_full: Default::default(),
            ar_addr: Default::default(),
            ar_win: Default::default(),
            ar_word: Default::default(),
            ar_decode: WindowDecode::new(MAX_WINDOW_WORDS),
            r_wait: Default::default(),
            r_wait_more: Vec::new(),
            r_valid: Default::default(),
            r_data: Default::default(),
            r_resp: Default::default(),
            regs: vec_of(n_rw),
            strobes: vec_of(n_rw),
            strobe_slot: (0..n_rw as u64).map(konst).collect(),
            aw_take: Default::default(),
            w_take: Default::default(),
            ar_take: Default::default(),
            w_exec: Default::default(),
            w_index: Default::default(),
            w_is_rw: Default::default(),
            w_mem: Default::default(),
            r_index: Default::default(),
            r_is_reg: Default::default(),
            r_reg_val: Default::default(),
            r_go_mem: Default::default(),
            r_in_flight: Default::default(),
            strb_mask: Default::default(),
        }
    }

    /// Limit the window to `words` words (1 ..= `MAX_WINDOW_WORDS`): window
    /// addresses at or above `WINDOW_BASE + 4 * words` answer SLVERR.
    pub fn with_window_words(mut self, words: u64) -> AxiLiteSlave {
        assert!(
            (1..=MAX_WINDOW_WORDS).contains(&words),
            "AxiLiteSlave window of {words} words (1 ..= {MAX_WINDOW_WORDS})"
        );
        self.aw_decode = WindowDecode::new(words);
        self.ar_decode = WindowDecode::new(words);
        self
    }

    /// `mem_rdata` two cycles after `mem_rd` (a memory behind a register
    /// stage, as `drq_top`'s buffers; docs/axil.md) instead of one.
    pub fn with_mem_read_latency(mut self, cycles: u32) -> AxiLiteSlave {
        assert!(
            (1..=2).contains(&cycles),
            "memory read latency {cycles} (1 or 2)"
        );
        self.r_wait_more = one_if(cycles == 2, Default::default());
        self
    }

    /// Keep only the low `bits[i]` bits (1 ..= 32) of RW register i; the
    /// other bits are not stored and read as 0.
    pub fn with_rw_bits(mut self, bits: &[u32]) -> AxiLiteSlave {
        assert_eq!(bits.len(), self.n_rw(), "one width per RW register");
        for (m, &b) in self.rw_mask.iter_mut().zip(bits) {
            // 0 bits: a slot this configuration does not use (reads 0).
            assert!(b <= 32, "RW register of {b} bits (0 ..= 32)");
            *m = konst((1u64 << b) - 1);
        }
        self
    }

    /// Pulse `write_strobe` only for the RW slots `slots` (entry k for
    /// slot `slots[k]`), not for every slot: a design whose registers are
    /// plain values but for a few commands keeps no pulse it ignores.
    pub fn with_strobe_slots(mut self, slots: &[usize]) -> AxiLiteSlave {
        assert!(
            slots.iter().all(|&s| s < self.n_rw()),
            "strobe of a RW slot"
        );
        self.write_strobe = vec_of(slots.len());
        self.strobes = vec_of(slots.len());
        self.strobe_slot = slots.iter().map(|&s| konst(s as u64)).collect();
        self
    }

    pub fn n_rw(&self) -> usize {
        self.reg_out.len()
    }
    fn n_strobes(&self) -> usize {
        self.strobes.len()
    }
    pub fn n_ro(&self) -> usize {
        self.reg_in.len()
    }
}

impl Logic for AxiLiteSlave {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, aw_full, aw_addr, aw_win, aw_word, w_full, w_data, w_mask, w_whole,
            b_valid, b_resp, ar_full, ar_addr, ar_win, ar_word, r_wait, r_valid, r_data, r_resp
        );
        self.aw_full.reset.next = self.reset.val();
        self.aw_addr.reset.next = self.reset.val();
        self.aw_win.reset.next = self.reset.val();
        self.aw_word.reset.next = self.reset.val();
        self.w_full.reset.next = self.reset.val();
        self.w_data.reset.next = self.reset.val();
        self.w_mask.reset.next = self.reset.val();
        self.w_whole.reset.next = self.reset.val();
        self.b_valid.reset.next = self.reset.val();
        self.b_resp.reset.next = self.reset.val();
        self.ar_full.reset.next = self.reset.val();
        self.ar_addr.reset.next = self.reset.val();
        self.ar_win.reset.next = self.reset.val();
        self.ar_word.reset.next = self.reset.val();
        self.r_wait.reset.next = self.reset.val();
        self.r_in_flight.next = self.r_wait.q.val();
        for k in 0..self.r_wait_more.len() {
            self.r_wait_more[k].clock.next = self.clock.val();
            self.r_wait_more[k].reset.next = self.reset.val();
            self.r_wait_more[k].d.next = false;
            self.r_in_flight.next = self.r_wait.q.val() | self.r_wait_more[k].q.val();
        }
        self.r_valid.reset.next = self.reset.val();
        self.r_data.reset.next = self.reset.val();
        self.r_resp.reset.next = self.reset.val();
        for i in 0..self.n_rw() {
            self.regs[i].clock.next = self.clock.val();
            self.regs[i].reset.next = self.reset.val();
            self.regs[i].d.next = self.regs[i].q.val();
            self.reg_out[i].next = self.regs[i].q.val();
        }
        for k in 0..self.n_strobes() {
            self.strobes[k].clock.next = self.clock.val();
            self.strobes[k].reset.next = self.reset.val();
            self.strobes[k].d.next = false;
            self.write_strobe[k].next = self.strobes[k].q.val();
        }

        // Handshake outputs: functions of registers only.
        self.awready.next = !self.aw_full.q.val() & !self.b_valid.q.val();
        self.wready.next = !self.w_full.q.val() & !self.b_valid.q.val();
        self.bvalid.next = self.b_valid.q.val();
        self.bresp.next = self.b_resp.q.val();
        self.arready.next = !self.ar_full.q.val() & !self.r_in_flight.val() & !self.r_valid.q.val();
        self.rvalid.next = self.r_valid.q.val();
        self.rdata.next = self.r_data.q.val();
        self.rresp.next = self.r_resp.q.val();
        self.aw_take.next = self.awvalid.val() & !self.aw_full.q.val() & !self.b_valid.q.val();
        self.w_take.next = self.wvalid.val() & !self.w_full.q.val() & !self.b_valid.q.val();
        self.ar_take.next = self.arvalid.val()
            & !self.ar_full.q.val()
            & !self.r_in_flight.val()
            & !self.r_valid.q.val();

        // Addresses are decoded as they are taken (window, word).
        self.aw_decode.addr.next = self.awaddr.val() & self.addr_mask.val();
        self.ar_decode.addr.next = self.araddr.val() & self.addr_mask.val();
        // AW and W into their holding registers, in any order.
        if self.aw_take.val() {
            self.aw_full.d.next = true;
            self.aw_addr.d.next = self.awaddr.val() & self.addr_mask.val();
            self.aw_win.d.next = self.aw_decode.in_window.val();
            self.aw_word.d.next = self.aw_decode.word.val();
        }
        // Byte lanes of WSTRB as a bit mask.
        self.strb_mask.next = ((self.zero.val() - (self.wstrb.val() & self.one.val()))
            & self.byte0.val())
            | ((self.zero.val() - ((self.wstrb.val() >> self.one.val()) & self.one.val()))
                & self.byte1.val())
            | ((self.zero.val() - ((self.wstrb.val() >> self.two.val()) & self.one.val()))
                & self.byte2.val())
            | ((self.zero.val() - ((self.wstrb.val() >> self.three.val()) & self.one.val()))
                & self.byte3.val());
        if self.w_take.val() {
            self.w_full.d.next = true;
            self.w_data.d.next = self.wdata.val() & self.data_mask.val();
            self.w_mask.d.next = self.strb_mask.val();
            self.w_whole.d.next = (self.wstrb.val() & self.strb_full.val()) == self.strb_full.val();
        }

        // The write, once both halves are held (B is low then).
        self.w_exec.next = self.aw_full.q.val() & self.w_full.q.val();
        self.w_index.next = (self.aw_addr.q.val() >> self.two.val()) & self.index_mask.val();
        self.w_is_rw.next =
            (self.aw_addr.q.val() < self.regs_end.val()) & (self.w_index.val() < self.n_rw_c.val());
        self.w_mem.next = self.w_exec.val() & self.aw_win.q.val() & self.w_whole.q.val();
        for i in 0..self.n_rw() {
            if self.w_exec.val()
                & self.w_is_rw.val()
                & (self.w_index.val() == self.rw_index[i].val())
            {
                self.regs[i].d.next = ((self.regs[i].q.val() & !self.w_mask.q.val())
                    | (self.w_data.q.val() & self.w_mask.q.val()))
                    & self.rw_mask[i].val();
            }
        }
        for k in 0..self.n_strobes() {
            if self.w_exec.val()
                & self.w_is_rw.val()
                & (self.w_index.val() == self.strobe_slot[k].val())
            {
                self.strobes[k].d.next = true;
            }
        }
        if self.w_exec.val() {
            self.aw_full.d.next = false;
            self.w_full.d.next = false;
            self.b_valid.d.next = true;
            self.b_resp.d.next = self.slverr.val();
            if self.w_is_rw.val() | (self.aw_win.q.val() & self.w_whole.q.val()) {
                self.b_resp.d.next = self.zero.val();
            }
        }
        if self.b_valid.q.val() & self.bready.val() {
            self.b_valid.d.next = false;
        }

        // Memory port: the write, else a read.
        self.mem_wr.next = self.w_mem.val();
        self.mem_wdata.next = self.w_data.q.val();
        self.mem_addr.next = self.aw_word.q.val();

        // AR into its holding register.
        if self.ar_take.val() {
            self.ar_full.d.next = true;
            self.ar_addr.d.next = self.araddr.val() & self.addr_mask.val();
            self.ar_win.d.next = self.ar_decode.in_window.val();
            self.ar_word.d.next = self.ar_decode.word.val();
        }

        // The read.
        self.r_index.next = (self.ar_addr.q.val() >> self.two.val()) & self.index_mask.val();
        self.r_is_reg.next = (self.ar_addr.q.val() < self.regs_end.val())
            & (self.r_index.val() < self.n_regs_c.val());
        self.r_reg_val.next = self.zero.val();
        for i in 0..self.n_rw() {
            if self.r_index.val() == self.rw_index[i].val() {
                self.r_reg_val.next = self.regs[i].q.val();
            }
        }
        for j in 0..self.n_ro() {
            if self.r_index.val() == self.ro_index[j].val() {
                self.r_reg_val.next = self.reg_in[j].val() & self.data_mask.val();
            }
        }
        self.r_go_mem.next = self.ar_full.q.val() & self.ar_win.q.val() & !self.w_mem.val();
        self.mem_rd.next = self.r_go_mem.val();
        if self.r_go_mem.val() {
            self.mem_addr.next = self.ar_word.q.val();
            self.ar_full.d.next = false;
            self.r_wait.d.next = true;
        }
        if self.ar_full.q.val() & !self.ar_win.q.val() {
            self.ar_full.d.next = false;
            self.r_valid.d.next = true;
            self.r_data.d.next = self.zero.val();
            self.r_resp.d.next = self.slverr.val();
            if self.r_is_reg.val() {
                self.r_data.d.next = self.r_reg_val.val();
                self.r_resp.d.next = self.zero.val();
            }
        }
        if self.r_wait.q.val() {
            self.r_wait.d.next = false;
            self.r_valid.d.next = true;
            self.r_data.d.next = self.mem_rdata.val() & self.data_mask.val();
            self.r_resp.d.next = self.zero.val();
        }
        // Two cycles of latency: the first wait moves to the second,
        // which takes the data.
        for k in 0..self.r_wait_more.len() {
            if self.r_wait.q.val() {
                self.r_valid.d.next = false;
                self.r_wait_more[k].d.next = true;
            }
            if self.r_wait_more[k].q.val() {
                self.r_valid.d.next = true;
                self.r_data.d.next = self.mem_rdata.val() & self.data_mask.val();
                self.r_resp.d.next = self.zero.val();
            }
        }
        if self.r_valid.q.val() & self.rready.val() {
            self.r_valid.d.next = false;
        }
    }
}

/// The test top's core: an `AxiLiteSlave` whose window is one `WordRam`.
#[derive(LogicBlock)]
pub struct AxilTestTop {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub awvalid: Signal<In, Bit>,
    pub awready: Signal<Out, Bit>,
    pub awaddr: Signal<In, Word>,
    pub wvalid: Signal<In, Bit>,
    pub wready: Signal<Out, Bit>,
    pub wdata: Signal<In, Word>,
    pub wstrb: Signal<In, Word>,
    pub bvalid: Signal<Out, Bit>,
    pub bready: Signal<In, Bit>,
    pub bresp: Signal<Out, Word>,
    pub arvalid: Signal<In, Bit>,
    pub arready: Signal<Out, Bit>,
    pub araddr: Signal<In, Word>,
    pub rvalid: Signal<Out, Bit>,
    pub rready: Signal<In, Bit>,
    pub rdata: Signal<Out, Word>,
    pub rresp: Signal<Out, Word>,
    pub reg_out: Vec<Signal<Out, Word>>,
    pub write_strobe: Vec<Signal<Out, Bit>>,
    pub reg_in: Vec<Signal<In, Word>>,
    slave: AxiLiteSlave,
    ram: WordRam,
    /// A register stage between the slave and the RAM, as in `drq_top`
    /// (one entry each with `with_memory_stage`, else none): the slave
    /// then takes its read data two cycles after `mem_rd`.
    stage_addr: Vec<Reg<Word>>,
    stage_wr: Vec<Reg<Bit>>,
    stage_rd: Vec<Reg<Bit>>,
    stage_wdata: Vec<Reg<Word>>,
}

impl AxilTestTop {
    /// The test top with the window RAM behind a register stage and the
    /// slave's read latency two (`drq_top`'s window).
    pub fn with_memory_stage(mut self) -> AxilTestTop {
        self.slave = self.slave.with_mem_read_latency(2);
        self.stage_addr = vec_of(1);
        self.stage_wr = vec_of(1);
        self.stage_rd = vec_of(1);
        self.stage_wdata = vec_of(1);
        self
    }
    pub fn new(n_rw: usize, n_ro: usize, words: u64) -> AxilTestTop {
        AxilTestTop {
            clock: Default::default(),
            reset: Default::default(),
            awvalid: Default::default(),
            awready: Default::default(),
            awaddr: Default::default(),
            wvalid: Default::default(),
            wready: Default::default(),
            wdata: Default::default(),
            wstrb: Default::default(),
            bvalid: Default::default(),
            bready: Default::default(),
            bresp: Default::default(),
            arvalid: Default::default(),
            arready: Default::default(),
            araddr: Default::default(),
            rvalid: Default::default(),
            rready: Default::default(),
            rdata: Default::default(),
            rresp: Default::default(),
            reg_out: vec_of(n_rw),
            write_strobe: vec_of(n_rw),
            reg_in: vec_of(n_ro),
            slave: AxiLiteSlave::new(n_rw, n_ro).with_window_words(words),
            ram: WordRam::new(words as usize, 32),
            stage_addr: Vec::new(),
            stage_wr: Vec::new(),
            stage_rd: Vec::new(),
            stage_wdata: Vec::new(),
        }
    }
    fn n_rw(&self) -> usize {
        self.reg_out.len()
    }
    fn n_ro(&self) -> usize {
        self.reg_in.len()
    }
}

impl Logic for AxilTestTop {
    #[hdl_gen]
    fn update(&mut self) {
        self.slave.clock.next = self.clock.val();
        self.slave.reset.next = self.reset.val();
        self.ram.clock.next = self.clock.val();
        self.slave.awvalid.next = self.awvalid.val();
        self.slave.awaddr.next = self.awaddr.val();
        self.slave.wvalid.next = self.wvalid.val();
        self.slave.wdata.next = self.wdata.val();
        self.slave.wstrb.next = self.wstrb.val();
        self.slave.bready.next = self.bready.val();
        self.slave.arvalid.next = self.arvalid.val();
        self.slave.araddr.next = self.araddr.val();
        self.slave.rready.next = self.rready.val();
        self.awready.next = self.slave.awready.val();
        self.wready.next = self.slave.wready.val();
        self.bvalid.next = self.slave.bvalid.val();
        self.bresp.next = self.slave.bresp.val();
        self.arready.next = self.slave.arready.val();
        self.rvalid.next = self.slave.rvalid.val();
        self.rdata.next = self.slave.rdata.val();
        self.rresp.next = self.slave.rresp.val();
        for i in 0..self.n_rw() {
            self.reg_out[i].next = self.slave.reg_out[i].val();
            self.write_strobe[i].next = self.slave.write_strobe[i].val();
        }
        for j in 0..self.n_ro() {
            self.slave.reg_in[j].next = self.reg_in[j].val();
        }
        self.ram.wr_en.next = self.slave.mem_wr.val();
        self.ram.wr_addr.next = self.slave.mem_addr.val();
        self.ram.wr_data.next = self.slave.mem_wdata.val();
        self.ram.rd_en.next = self.slave.mem_rd.val();
        self.ram.rd_addr.next = self.slave.mem_addr.val();
        self.slave.mem_rdata.next = self.ram.rd_data.val();
        for k in 0..self.stage_wr.len() {
            self.stage_addr[k].clock.next = self.clock.val();
            self.stage_wr[k].clock.next = self.clock.val();
            self.stage_rd[k].clock.next = self.clock.val();
            self.stage_wdata[k].clock.next = self.clock.val();
            self.stage_addr[k].reset.next = self.reset.val();
            self.stage_wr[k].reset.next = self.reset.val();
            self.stage_rd[k].reset.next = self.reset.val();
            self.stage_wdata[k].reset.next = self.reset.val();
            self.stage_addr[k].d.next = self.slave.mem_addr.val();
            self.stage_wr[k].d.next = self.slave.mem_wr.val();
            self.stage_rd[k].d.next = self.slave.mem_rd.val();
            self.stage_wdata[k].d.next = self.slave.mem_wdata.val();
            self.ram.wr_en.next = self.stage_wr[k].q.val();
            self.ram.wr_addr.next = self.stage_addr[k].q.val();
            self.ram.wr_data.next = self.stage_wdata[k].q.val();
            self.ram.rd_en.next = self.stage_rd[k].q.val();
            self.ram.rd_addr.next = self.stage_addr[k].q.val();
        }
    }
}

/// `clk`, `rst` and the AXI4-Lite slave's ports of a shell: 24-bit byte
/// addresses, 32-bit data, 4 strobes, 2-bit responses.
pub(crate) fn axil_shell_ports() -> Vec<crate::shell::ShellPort> {
    use crate::shell::{clock_and_reset, scalar, Dir, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let mut ports = Vec::from(clock_and_reset());
    ports.extend([
        scalar("awvalid", Input, 1, Flag),
        scalar("awready", Output, 1, Flag),
        scalar("awaddr", Input, ADDR_BITS, Zero),
        scalar("wvalid", Input, 1, Flag),
        scalar("wready", Output, 1, Flag),
        scalar("wdata", Input, 32, Zero),
        scalar("wstrb", Input, 4, Zero),
        scalar("bvalid", Output, 1, Flag),
        scalar("bready", Input, 1, Flag),
        scalar("bresp", Output, 2, Zero),
        scalar("arvalid", Input, 1, Flag),
        scalar("arready", Output, 1, Flag),
        scalar("araddr", Input, ADDR_BITS, Zero),
        scalar("rvalid", Output, 1, Flag),
        scalar("rready", Input, 1, Flag),
        scalar("rdata", Output, 32, Zero),
        scalar("rresp", Output, 2, Zero),
    ]);
    ports
}

/// The AXI4-Lite slave with its test window (top `drq_axil`): 16 RW and 16
/// RO registers (`reg_out`, `write_strobe`, `reg_in` packed buses, register
/// k at bits [32k +: 32]) and a 1024 x 32-bit `WordRam` at `WINDOW_BASE`.
pub fn axil_design(cfg: &AccelConfig) -> crate::shell::Design {
    axil_test_design(cfg, TEST_N_RW, TEST_N_RO, TEST_WINDOW_WORDS)
}

/// `drq_axil` with `n_rw` RW and `n_ro` RO registers and a `words`-word
/// window RAM (for parameter sweeps in the emission tests).
pub fn axil_test_design(
    cfg: &AccelConfig,
    n_rw: usize,
    n_ro: usize,
    words: u64,
) -> crate::shell::Design {
    axil_design_of(cfg, AxilTestTop::new(n_rw, n_ro, words))
}

/// `drq_axil` with its window RAM behind a register stage, the slave
/// waiting two cycles for the read data (`AxilTestTop::with_memory_stage`).
pub fn axil_staged_design(cfg: &AccelConfig) -> crate::shell::Design {
    axil_design_of(
        cfg,
        AxilTestTop::new(TEST_N_RW, TEST_N_RO, TEST_WINDOW_WORDS).with_memory_stage(),
    )
}

fn axil_design_of(cfg: &AccelConfig, mut top: AxilTestTop) -> crate::shell::Design {
    let (n_rw, n_ro) = (top.n_rw(), top.n_ro());
    use crate::shell::{design, Dir, Lanes, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let bus = |name: &str, dir, lane_width, count: usize, extend| ShellPort {
        name: name.into(),
        core_name: name.into(),
        dir,
        lane_width,
        lanes: Lanes::Vector {
            count: count as u32,
        },
        extend,
    };
    let mut ports = axil_shell_ports();
    ports.extend([
        bus("reg_out", Output, 32, n_rw, Zero),
        bus("write_strobe", Output, 1, n_rw, Flag),
        bus("reg_in", Input, 32, n_ro, Zero),
    ]);
    design("drq_axil", "drq_axil_core", cfg, ports, &mut top)
}
