//! The on-chip buffers of `drq_top` and who drives their ports: the run's
//! reads and writes while busy, the host's buffer window while idle
//! (docs/top.md, docs/spec.md §8).
//!
//! * ACT0 / ACT1 (`LanedRam`, a read copy per array row, L entries a word)
//!   and MASK0 / MASK1 (`LanedRam`, a copy per row, K = `predictor_banks`
//!   bits a word) are ping-pong pairs: `act_sel` /
//!   `mask_sel` name the layer's input, the other one takes the output.
//!   WEIGHTS and BIAS have a read copy per column; ACC keeps every output's
//!   accumulator for the host.
//! * Run reads: the controller's activation and mask bit per row from the
//!   input buffers (`act_data`, `mask_data`), its weight per column
//!   (`w_data`), the tile's bias per column (read with the tile's last
//!   token, column j at `bias_base + j`), and the input scan's group of G
//!   values through read copies 0..G (on `act_data[0..G]`).
//! * Run writes: the output stage's lane group (`wb_*`) into the other
//!   activation buffer and ACC; the predictor's mask bits into the input
//!   mask buffer during the input-mask phases (`in_pin`), else the other.
//! * Banked activations (`act_layout = "banked"`, docs/banked.md): ACT0
//!   and ACT1 are ROWS banks (`banks`), bank b holding ACT0's bank b below
//!   B = `bank_words` and ACT1's from B on (one block RAM pair for both,
//!   no multiplexer between them): read per bank at the controller's bank
//!   addresses in the input's half (`act_rd`, `act_addr` per bank), each
//!   row's value through the rotation (`act_row_bank`, taken with the
//!   row's `mask_rd`); the input scan reads one value (`scan_bank`,
//!   through row 0's rotation), the write-back one value into bank
//!   `wb_bank` of the other half, and the host window sees a buffer
//!   bank-major (offset = bank * bank_words + address). With the cyclic
//!   layout (`act_layout = "cyclic"`) the banks are the same and the
//!   rows' selection is one rotation (`CyclicRotation`): row r shows bank
//!   (d + r) mod ROWS, d the controller's row 0 bank, taken when any row
//!   reads (the scan and the host window: d their value's bank). The replicated
//!   `act0`/`act1` are then two-word stubs that nothing reads or writes
//!   (rust-hdl builds every field; synthesis removes them).
//! * Host window: `mem_addr` is a region (buffer) and an offset; a write
//!   stores one entry (its lane of a laned word), a read returns the entry
//!   one cycle later (`mem_rdata`, the high word of a wide accumulator at
//!   an odd offset). While `busy` no host access reaches a buffer: a read
//!   returns 0 and `host_conflict` pulses for the top's sticky flag.

use crate::banked_ram::BankRotation;
use crate::cyclic_rotation::CyclicRotation;
use crate::leaf::{konst, low_mask, one_if, vec_of, Reg, Word, WordReg};
use crate::ram::{LanedRam, WordRam};
use drq_arch::config::{AccelConfig, ActLayout, PeKind};
use drq_arch::regs::WindowMap;
use rust_hdl::prelude::*;

/// Bits of a buffer region index of the window (7 buffers and "none").
const REGION_BITS: u32 = 3;

#[derive(LogicBlock)]
pub struct Buffers {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// A run is in progress: the host is locked out.
    pub busy: Signal<In, Bit>,
    /// The layer's input activation buffer (0 ACT0, 1 ACT1) and input mask
    /// buffer (0 MASK0, 1 MASK1).
    pub act_sel: Signal<In, Bit>,
    pub mask_sel: Signal<In, Bit>,
    /// The input-mask phases: the predictor writes the input mask buffer.
    pub in_pin: Signal<In, Bit>,
    // The controller's reads, one per array row and column.
    pub act_rd: Vec<Signal<In, Bit>>,
    pub act_addr: Vec<Signal<In, Word>>,
    pub mask_addr: Vec<Signal<In, Word>>,
    pub act_data: Vec<Signal<Out, Word>>,
    pub mask_data: Vec<Signal<Out, Bit>>,
    /// Stored-once activations only (else none): per row the bank its
    /// value comes from (cyclic: row 0's alone, the rotation) and whether
    /// it reads (its mask bit and its value).
    pub act_row_bank: Vec<Signal<In, Word>>,
    pub mask_rd: Vec<Signal<In, Bit>>,
    pub w_rd: Vec<Signal<In, Bit>>,
    pub w_addr: Vec<Signal<In, Word>>,
    pub w_data: Vec<Signal<Out, Word>>,
    // The tile's bias.
    pub bias_rd: Signal<In, Bit>,
    pub bias_base: Signal<In, Word>,
    pub bias_data: Vec<Signal<Out, Word>>,
    /// The input scan (DRQ only, else none): read G values from `scan_addr`.
    pub scan_rd: Vec<Signal<In, Bit>>,
    pub scan_addr: Vec<Signal<In, Word>>,
    /// Banked activations only: the scanned value's bank.
    pub scan_bank: Vec<Signal<In, Word>>,
    // Output write-back: a lane group (lane set, values, accumulators).
    pub wb_valid: Signal<In, Bit>,
    pub wb_addr: Signal<In, Word>,
    /// Banked activations only: the bank of the value written (`wb_addr`
    /// is then its address in the bank; ACC takes `wb_acc_addr`).
    pub wb_bank: Vec<Signal<In, Word>>,
    pub wb_acc_addr: Vec<Signal<In, Word>>,
    /// The group's lanes (`out_lanes` > 1 only: else one lane, always written).
    pub wb_lanes: Vec<Signal<In, Word>>,
    pub wb_value: Vec<Signal<In, Word>>,
    pub wb_acc: Vec<Signal<In, Word>>,
    // The predictor's mask writes: lanes of one word of K =
    // `predictor_banks` mask bits (value index of lane 0; bit k of
    // `mask_wr_lanes` writes lane k with bit k of `mask_wr_bits`).
    pub mask_wr_en: Signal<In, Bit>,
    pub mask_wr_addr: Signal<In, Word>,
    pub mask_wr_lanes: Vec<Signal<In, Word>>,
    pub mask_wr_bits: Signal<In, Word>,
    // The host's buffer window.
    pub mem_addr: Signal<In, Word>,
    pub mem_wr: Signal<In, Bit>,
    pub mem_rd: Signal<In, Bit>,
    pub mem_wdata: Signal<In, Word>,
    pub mem_rdata: Signal<Out, Word>,
    /// A host access while busy (dropped; the top keeps the sticky flag).
    pub host_conflict: Signal<Out, Bit>,
    act0: LanedRam,
    act1: LanedRam,
    mask0: LanedRam,
    mask1: LanedRam,
    weights: LanedRam,
    bias: LanedRam,
    accs: LanedRam,
    /// Banked activations: the banks (bank b holds ACT0's bank b at
    /// addresses below B = `bank_words` and ACT1's from B on, so one block
    /// RAM pair serves both buffers and no multiplexer picks between
    /// them), the rotation, ACT1's base B, the bank numbers and the window
    /// offset's split (else none).
    banks: Vec<WordRam>,
    rotation: BankRotation,
    /// The cyclic layout's rotation instead (one, else none), and whether
    /// any row reads.
    cyclic_rotation: CyclicRotation,
    any_read: Vec<Signal<Local, Bit>>,
    /// Either rotation's row 0 (one each where it has a register to take,
    /// else none): whether it takes and the bank it takes, the run's, the
    /// input scan's value's or the host window's.
    first_take: Vec<Signal<Local, Bit>>,
    first_bank: Vec<Signal<Local, Word>>,
    act1_base: Vec<Constant<Word>>,
    /// The bank half the run reads (the input buffer's) and the one the
    /// write-back writes (the other).
    read_base: Vec<Signal<Local, Word>>,
    write_base: Vec<Signal<Local, Word>>,
    /// The host's access is to ACT0 or ACT1.
    host_act: Vec<Signal<Local, Bit>>,
    bank_number: Vec<Constant<Word>>,
    bank_shift: Vec<Constant<Word>>,
    bank_addr_mask: Vec<Constant<Word>>,
    host_bank: Vec<Signal<Local, Word>>,
    host_bank_addr: Vec<Signal<Local, Word>>,
    zero: Constant<Word>,
    one: Constant<Word>,
    span_log2: Constant<Word>,
    span_m1: Constant<Word>,
    /// 32, for the high word of an accumulator (ACC_BITS > 32 only).
    c32: Vec<Constant<Word>>,
    col_index: Vec<Constant<Word>>,
    /// The input scan's value g at `scan_addr + g` (DRQ only).
    scan_offset: Vec<Constant<Word>>,
    /// L - 1 (`out_lanes` > 1 only): an entry's lane in a buffer word.
    lane_m: Vec<Constant<Word>>,
    /// Mask lane k (K lanes): k, the bit of `mask_wr_bits` it stores.
    mask_lane: Vec<Constant<Word>>,
    /// K - 1 (K > 1 only): a mask entry's lane in a mask word.
    mask_lane_m: Vec<Constant<Word>>,
    rg_act0: Constant<Word>,
    rg_act1: Constant<Word>,
    rg_mask0: Constant<Word>,
    rg_mask1: Constant<Word>,
    rg_weights: Constant<Word>,
    rg_bias: Constant<Word>,
    rg_acc: Constant<Word>,
    /// A region no buffer has: a host read while busy selects it, so its data is 0.
    rg_none: Constant<Word>,
    /// The region of the host read in flight.
    hr_region: WordReg,
    /// The high word of an accumulator was read (ACC_BITS > 32 only).
    hr_half: Vec<Reg<Bit>>,
    region: Signal<Local, Word>,
    offset: Signal<Local, Word>,
    host_wr: Signal<Local, Bit>,
    host_rd: Signal<Local, Bit>,
    /// The host's entry's lane bit in a buffer word (`out_lanes` > 1 only).
    host_lane: Vec<Signal<Local, Word>>,
    /// The host's entry's lane bit in a mask word (K > 1 only).
    host_mask_lane: Vec<Signal<Local, Word>>,
    acc_word: Signal<Local, Word>,
}

impl Buffers {
    pub fn new(cfg: &AccelConfig) -> Buffers {
        let map = WindowMap::new(cfg);
        let (rows, cols) = (cfg.rows as usize, cfg.cols as usize);
        let lanes = cfg.out_lanes as usize;
        let mask_lanes = cfg.predictor_banks() as usize;
        // Read ports a copy: ACT and MASK have ROWS read ports, WEIGHTS COLS.
        let (reads, w_reads) = (cfg.copy_reads(cfg.rows), cfg.copy_reads(cfg.cols));
        let scan = cfg.pe == PeKind::Drq;
        // Stored once, banked or cyclic: the same banks, another rotation.
        let banked = cfg.act_layout.stored_once();
        let cyclic = cfg.act_layout == ActLayout::Cyclic;
        let banks = if banked { rows } else { 0 };
        // Banked: the replicated buffers are two-word stubs (module docs).
        let act_ram = || {
            if banked {
                LanedRam::new(2, 1, 1, 1, 1)
            } else {
                LanedRam::new(cfg.act_words as usize, cfg.a_hi, rows, lanes, reads)
            }
        };
        let bank_ram = || WordRam::new(2 * cfg.bank_words() as usize, cfg.a_hi);
        Buffers {
            clock: Default::default(),
            reset: Default::default(),
            busy: Default::default(),
            act_sel: Default::default(),
            mask_sel: Default::default(),
            in_pin: Default::default(),
            act_rd: vec_of(rows),
            act_addr: vec_of(rows),
            mask_addr: vec_of(rows),
            act_data: vec_of(rows),
            mask_data: vec_of(rows),
            act_row_bank: vec_of(if cyclic { 1 } else { banks }),
            mask_rd: vec_of(banks),
            w_rd: vec_of(cols),
            w_addr: vec_of(cols),
            w_data: vec_of(cols),
            bias_rd: Default::default(),
            bias_base: Default::default(),
            bias_data: vec_of(cols),
            scan_rd: one_if(scan, Default::default()),
            scan_addr: one_if(scan, Default::default()),
            scan_bank: one_if(scan && banked, Default::default()),
            wb_valid: Default::default(),
            wb_addr: Default::default(),
            wb_bank: one_if(banked, Default::default()),
            wb_acc_addr: one_if(banked, Default::default()),
            wb_lanes: one_if(lanes > 1, Default::default()),
            wb_value: vec_of(lanes),
            wb_acc: vec_of(lanes),
            mask_wr_en: Default::default(),
            mask_wr_addr: Default::default(),
            mask_wr_lanes: one_if(mask_lanes > 1, Default::default()),
            mask_wr_bits: Default::default(),
            mem_addr: Default::default(),
            mem_wr: Default::default(),
            mem_rd: Default::default(),
            mem_wdata: Default::default(),
            mem_rdata: Default::default(),
            host_conflict: Default::default(),
            act0: act_ram(),
            act1: act_ram(),
            mask0: LanedRam::new(cfg.mask_words as usize, 1, rows, mask_lanes, reads),
            mask1: LanedRam::new(cfg.mask_words as usize, 1, rows, mask_lanes, reads),
            weights: LanedRam::new(cfg.weight_words as usize, cfg.w_hi, cols, 1, w_reads),
            // The bias is 32 bits wide: a true dual-port block RAM's ports
            // are at most 18 bits on the ECP5, so pairs would save nothing.
            bias: LanedRam::new(cfg.bias_words as usize, 32, cols, 1, 1),
            accs: LanedRam::new(cfg.acc_words as usize, cfg.acc_bits, 1, lanes, 1),
            banks: (0..banks).map(|_| bank_ram()).collect(),
            rotation: BankRotation::new(if cyclic { 0 } else { banks }),
            cyclic_rotation: if cyclic {
                CyclicRotation::new(banks, rows, cfg.a_hi)
            } else {
                CyclicRotation::new(0, 0, cfg.a_hi)
            },
            any_read: one_if(cyclic && banks > 1, Default::default()),
            first_take: one_if(banked && (!cyclic || banks > 1), Default::default()),
            first_bank: one_if(banked && (!cyclic || banks > 1), Default::default()),
            act1_base: one_if(banked, konst(cfg.bank_words().into())),
            read_base: one_if(banked, Default::default()),
            write_base: one_if(banked, Default::default()),
            host_act: one_if(banked, Default::default()),
            bank_number: (0..banks as u64).map(konst).collect(),
            bank_shift: one_if(banked, konst(cfg.bank_addr_bits().into())),
            bank_addr_mask: one_if(banked, konst(low_mask(cfg.bank_addr_bits()))),
            host_bank: one_if(banked, Default::default()),
            host_bank_addr: one_if(banked, Default::default()),
            zero: konst(0),
            one: konst(1),
            span_log2: konst(map.span.trailing_zeros().into()),
            span_m1: konst(map.span - 1),
            c32: one_if(map.acc_stride == 2, konst(32)),
            col_index: (0..cols as u64).map(konst).collect(),
            scan_offset: (0..if scan && !banked { cfg.scan_group() } else { 0 })
                .map(|g| konst(u64::from(g)))
                .collect(),
            lane_m: one_if(lanes > 1, konst(u64::from(cfg.out_lanes) - 1)),
            mask_lane: (0..mask_lanes as u64).map(konst).collect(),
            mask_lane_m: one_if(mask_lanes > 1, konst(mask_lanes as u64 - 1)),
            rg_act0: konst(0),
            rg_act1: konst(1),
            rg_mask0: konst(2),
            rg_mask1: konst(3),
            rg_weights: konst(4),
            rg_bias: konst(5),
            rg_acc: konst(6),
            rg_none: konst(7),
            hr_region: WordReg::unsigned(REGION_BITS),
            hr_half: one_if(map.acc_stride == 2, Default::default()),
            region: Default::default(),
            offset: Default::default(),
            host_wr: Default::default(),
            host_rd: Default::default(),
            host_lane: one_if(lanes > 1, Default::default()),
            host_mask_lane: one_if(mask_lanes > 1, Default::default()),
            acc_word: Default::default(),
        }
    }
    fn rows(&self) -> usize {
        self.act_rd.len()
    }
    /// ROWS with banked activations, else 0.
    fn banks(&self) -> usize {
        self.banks.len()
    }
    /// 1 with stored-once (banked or cyclic) activations, else 0.
    fn banked(&self) -> usize {
        self.act1_base.len()
    }
    /// 1 with the banked layout's rotation (a crossbar), else 0.
    fn crossbars(&self) -> usize {
        self.rotation.clock.len()
    }
    /// 1 with the cyclic layout's rotation, else 0.
    fn cyclic_rotations(&self) -> usize {
        self.cyclic_rotation.row_data.len().min(1)
    }
    /// 1 with the cyclic layout over more than one bank (a rotation
    /// register to take), else 0.
    fn cyclic_turns(&self) -> usize {
        self.any_read.len()
    }
    /// 1 where a rotation takes row 0's bank (`first_take`), else 0.
    fn turns(&self) -> usize {
        self.first_take.len()
    }
    /// ROWS with replicated activations (their read copies' ports), else 0.
    fn replicated_rows(&self) -> usize {
        self.rows() - self.banks()
    }
    /// 1 with banked activations and an input scan, else 0.
    fn banked_scans(&self) -> usize {
        self.scan_bank.len()
    }
    /// 1 with replicated activations and an input scan, else 0.
    fn replicated_scans(&self) -> usize {
        self.scans() - self.banked_scans()
    }
    fn cols(&self) -> usize {
        self.w_rd.len()
    }
    fn lanes(&self) -> usize {
        self.wb_value.len()
    }
    /// 1 when a buffer word holds several lanes (its writes carry a lane
    /// set), else 0.
    fn lane_masked(&self) -> usize {
        self.host_lane.len()
    }
    /// K, the mask bits of a mask-buffer word.
    fn mask_lanes(&self) -> usize {
        self.mask_lane.len()
    }
    /// 1 when a mask word holds several bits (K > 1), else 0.
    fn mask_laned(&self) -> usize {
        self.host_mask_lane.len()
    }
    /// 1 when an accumulator takes two window words (ACC_BITS > 32), else 0.
    fn wide_acc(&self) -> usize {
        self.hr_half.len()
    }
    /// 1 with an input scan (DRQ), else 0.
    fn scans(&self) -> usize {
        self.scan_rd.len()
    }
    /// G, the scan's values per read (0 without a scan).
    fn scan_group(&self) -> usize {
        self.scan_offset.len()
    }
}

impl Logic for Buffers {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, hr_region);
        self.hr_region.reset.next = self.reset.val();
        for k in 0..self.wide_acc() {
            self.hr_half[k].clock.next = self.clock.val();
            self.hr_half[k].reset.next = self.reset.val();
            self.hr_half[k].d.next = self.hr_half[k].q.val();
        }
        self.act0.clock.next = self.clock.val();
        self.act1.clock.next = self.clock.val();
        self.mask0.clock.next = self.clock.val();
        self.mask1.clock.next = self.clock.val();
        self.weights.clock.next = self.clock.val();
        self.bias.clock.next = self.clock.val();
        self.accs.clock.next = self.clock.val();

        // The host's region and offset; its accesses reach a buffer only while idle.
        self.region.next = self.mem_addr.val() >> self.span_log2.val();
        self.offset.next = self.mem_addr.val() & self.span_m1.val();
        self.host_wr.next = self.mem_wr.val() & !self.busy.val();
        self.host_rd.next = self.mem_rd.val() & !self.busy.val();
        self.host_conflict.next = self.busy.val() & (self.mem_wr.val() | self.mem_rd.val());
        if self.mem_rd.val() & self.busy.val() {
            self.hr_region.d.next = self.rg_none.val();
        }

        // ---- Run reads -------------------------------------------------------
        for r in 0..self.replicated_rows() {
            self.act0.rd_en[r].next = self.act_rd[r].val() & !self.act_sel.val();
            self.act0.rd_addr[r].next = self.act_addr[r].val();
            self.act1.rd_en[r].next = self.act_rd[r].val() & self.act_sel.val();
            self.act1.rd_addr[r].next = self.act_addr[r].val();
            self.mask0.rd_en[r].next = self.act_rd[r].val() & !self.mask_sel.val();
            self.mask0.rd_addr[r].next = self.mask_addr[r].val();
            self.mask1.rd_en[r].next = self.act_rd[r].val() & self.mask_sel.val();
            self.mask1.rd_addr[r].next = self.mask_addr[r].val();
            self.act_data[r].next = self.act0.rd_data[r].val();
            self.mask_data[r].next = self.mask0.rd_data[r].val().any();
            if self.act_sel.val() {
                self.act_data[r].next = self.act1.rd_data[r].val();
            }
            if self.mask_sel.val() {
                self.mask_data[r].next = self.mask1.rd_data[r].val().any();
            }
        }
        // Banked: a row reads its mask bit when it reads (`mask_rd`).
        for _k in 0..self.banked() {
            for r in 0..self.rows() {
                self.mask0.rd_en[r].next = self.mask_rd[r].val() & !self.mask_sel.val();
                self.mask0.rd_addr[r].next = self.mask_addr[r].val();
                self.mask1.rd_en[r].next = self.mask_rd[r].val() & self.mask_sel.val();
                self.mask1.rd_addr[r].next = self.mask_addr[r].val();
                self.mask_data[r].next = self.mask0.rd_data[r].val().any();
                if self.mask_sel.val() {
                    self.mask_data[r].next = self.mask1.rd_data[r].val().any();
                }
            }
        }
        // The input scan reads its group through the first G read copies.
        for k in 0..self.replicated_scans() {
            if self.scan_rd[k].val() {
                for g in 0..self.scan_group() {
                    self.act0.rd_en[g].next = !self.act_sel.val();
                    self.act0.rd_addr[g].next = self.scan_addr[k].val() + self.scan_offset[g].val();
                    self.act1.rd_en[g].next = self.act_sel.val();
                    self.act1.rd_addr[g].next = self.scan_addr[k].val() + self.scan_offset[g].val();
                }
            }
        }
        for j in 0..self.cols() {
            self.weights.rd_en[j].next = self.w_rd[j].val();
            self.weights.rd_addr[j].next = self.w_addr[j].val();
            self.w_data[j].next = self.weights.rd_data[j].val();
            self.bias.rd_en[j].next = self.bias_rd.val();
            self.bias.rd_addr[j].next = self.bias_base.val() + self.col_index[j].val();
            self.bias_data[j].next = self.bias.rd_data[j].val();
        }

        // ---- Run writes ------------------------------------------------------
        // Outputs into the other activation buffer and ACC; the predictor's
        // mask into the input (PIN) or the other (POUT) buffer.
        self.act0.wr_en.next = self.wb_valid.val() & self.act_sel.val();
        self.act0.wr_addr.next = self.wb_addr.val();
        self.act1.wr_en.next = self.wb_valid.val() & !self.act_sel.val();
        self.act1.wr_addr.next = self.wb_addr.val();
        self.accs.wr_en.next = self.wb_valid.val();
        self.accs.wr_addr.next = self.wb_addr.val();
        for l in 0..self.lanes() {
            self.act0.wr_data[l].next = self.wb_value[l].val();
            self.act1.wr_data[l].next = self.wb_value[l].val();
            self.accs.wr_data[l].next = self.wb_acc[l].val();
        }
        for k in 0..self.lane_masked() {
            self.act0.wr_lanes[k].next = self.wb_lanes[k].val();
            self.act1.wr_lanes[k].next = self.wb_lanes[k].val();
            self.accs.wr_lanes[k].next = self.wb_lanes[k].val();
        }
        self.mask0.wr_addr.next = self.mask_wr_addr.val();
        self.mask1.wr_addr.next = self.mask_wr_addr.val();
        for k in 0..self.mask_lanes() {
            self.mask0.wr_data[k].next =
                (self.mask_wr_bits.val() >> self.mask_lane[k].val()) & self.one.val();
            self.mask1.wr_data[k].next =
                (self.mask_wr_bits.val() >> self.mask_lane[k].val()) & self.one.val();
        }
        for k in 0..self.mask_laned() {
            self.mask0.wr_lanes[k].next = self.mask_wr_lanes[k].val();
            self.mask1.wr_lanes[k].next = self.mask_wr_lanes[k].val();
        }
        self.mask0.wr_en.next = self.mask_wr_en.val() & (self.in_pin.val() ^ self.mask_sel.val());
        self.mask1.wr_en.next = self.mask_wr_en.val() & !(self.in_pin.val() ^ self.mask_sel.val());
        self.weights.wr_en.next = false;
        self.weights.wr_addr.next = self.offset.val();
        self.weights.wr_data[0].next = self.mem_wdata.val();
        self.bias.wr_en.next = false;
        self.bias.wr_addr.next = self.offset.val();
        self.bias.wr_data[0].next = self.mem_wdata.val();
        self.accs.rd_en[0].next = false;
        self.accs.rd_addr[0].next = self.offset.val();
        for _k in 0..self.wide_acc() {
            self.accs.rd_addr[0].next = self.offset.val() >> self.one.val();
        }

        // ---- Host window -----------------------------------------------------
        // A host write stores one entry: its lane of the buffer word.
        for k in 0..self.lane_masked() {
            self.host_lane[k].next = self.one.val() << (self.offset.val() & self.lane_m[k].val());
        }
        for k in 0..self.mask_laned() {
            self.host_mask_lane[k].next =
                self.one.val() << (self.offset.val() & self.mask_lane_m[k].val());
        }
        if self.host_wr.val() {
            // Both activation buffers see the entry's value in every lane
            // and its lane bit; the region enables one of them.
            for l in 0..self.lanes() {
                self.act0.wr_data[l].next = self.mem_wdata.val();
                self.act1.wr_data[l].next = self.mem_wdata.val();
            }
            for k in 0..self.lane_masked() {
                self.act0.wr_lanes[k].next = self.host_lane[k].val();
                self.act1.wr_lanes[k].next = self.host_lane[k].val();
            }
            if self.region.val() == self.rg_act0.val() {
                self.act0.wr_en.next = true;
                self.act0.wr_addr.next = self.offset.val();
            }
            if self.region.val() == self.rg_act1.val() {
                self.act1.wr_en.next = true;
                self.act1.wr_addr.next = self.offset.val();
            }
            // The mask buffers likewise, with K lanes a word.
            for k in 0..self.mask_lanes() {
                self.mask0.wr_data[k].next = self.mem_wdata.val();
                self.mask1.wr_data[k].next = self.mem_wdata.val();
            }
            for k in 0..self.mask_laned() {
                self.mask0.wr_lanes[k].next = self.host_mask_lane[k].val();
                self.mask1.wr_lanes[k].next = self.host_mask_lane[k].val();
            }
            if self.region.val() == self.rg_mask0.val() {
                self.mask0.wr_en.next = true;
                self.mask0.wr_addr.next = self.offset.val();
            }
            if self.region.val() == self.rg_mask1.val() {
                self.mask1.wr_en.next = true;
                self.mask1.wr_addr.next = self.offset.val();
            }
            self.weights.wr_en.next = self.region.val() == self.rg_weights.val();
            self.bias.wr_en.next = self.region.val() == self.rg_bias.val();
        }
        if self.host_rd.val() {
            self.hr_region.d.next = self.region.val();
            for k in 0..self.wide_acc() {
                self.hr_half[k].d.next = (self.offset.val() & self.one.val()).any();
            }
            if self.region.val() == self.rg_act0.val() {
                self.act0.rd_en[0].next = true;
                self.act0.rd_addr[0].next = self.offset.val();
            }
            if self.region.val() == self.rg_act1.val() {
                self.act1.rd_en[0].next = true;
                self.act1.rd_addr[0].next = self.offset.val();
            }
            if self.region.val() == self.rg_mask0.val() {
                self.mask0.rd_en[0].next = true;
                self.mask0.rd_addr[0].next = self.offset.val();
            }
            if self.region.val() == self.rg_mask1.val() {
                self.mask1.rd_en[0].next = true;
                self.mask1.rd_addr[0].next = self.offset.val();
            }
            if self.region.val() == self.rg_weights.val() {
                self.weights.rd_en[0].next = true;
                self.weights.rd_addr[0].next = self.offset.val();
            }
            if self.region.val() == self.rg_bias.val() {
                self.bias.rd_en[0].next = true;
                self.bias.rd_addr[0].next = self.offset.val();
            }
            self.accs.rd_en[0].next = self.region.val() == self.rg_acc.val();
        }
        // Banked activations: the run's reads per bank and rows through
        // the rotation, the input scan's value, the write-back's value,
        // the host window's entry (bank-major).
        for k in 0..self.banked() {
            // The replicated buffers' stubs are never read.
            self.act0.rd_en[0].next = false;
            self.act0.rd_addr[0].next = self.zero.val();
            self.act1.rd_en[0].next = false;
            self.act1.rd_addr[0].next = self.zero.val();
            for j in 0..self.crossbars() {
                self.rotation.clock[j].next = self.clock.val();
                self.rotation.reset[j].next = self.reset.val();
            }
            // ACT1's half of a bank starts at B: the run reads the input
            // buffer's half (`act_sel`), the write-back writes the other.
            self.read_base[k].next = self.zero.val();
            self.write_base[k].next = self.act1_base[k].val();
            if self.act_sel.val() {
                self.read_base[k].next = self.act1_base[k].val();
                self.write_base[k].next = self.zero.val();
            }
            self.host_bank[k].next = self.offset.val() >> self.bank_shift[k].val();
            self.host_bank_addr[k].next = self.offset.val() & self.bank_addr_mask[k].val();
            if self.region.val() == self.rg_act1.val() {
                self.host_bank_addr[k].next =
                    (self.offset.val() & self.bank_addr_mask[k].val()) | self.act1_base[k].val();
            }
            for b in 0..self.banks() {
                self.banks[b].clock.next = self.clock.val();
                // The run: bank b at the controller's bank address, row b
                // (its mask bit too) when it reads.
                self.banks[b].rd_en.next = self.act_rd[b].val();
                self.banks[b].rd_addr.next = self.act_addr[b].val() | self.read_base[k].val();
                self.banks[b].wr_en.next =
                    self.wb_valid.val() & (self.wb_bank[k].val() == self.bank_number[b].val());
                self.banks[b].wr_addr.next = self.wb_addr.val() | self.write_base[k].val();
                self.banks[b].wr_data.next = self.wb_value[0].val();
                for _j in 0..self.crossbars() {
                    self.rotation.bank_data[b].next = self.banks[b].rd_data.val();
                    self.rotation.take[b].next = self.mask_rd[b].val();
                    self.rotation.row_bank[b].next = self.act_row_bank[b].val();
                    self.act_data[b].next = self.rotation.row_data[b].val();
                }
                // Cyclic: one rotation, row 0's bank, taken when any row
                // reads.
                for _j in 0..self.cyclic_rotations() {
                    self.cyclic_rotation.bank_data[b].next = self.banks[b].rd_data.val();
                    self.act_data[b].next = self.cyclic_rotation.row_data[b].val();
                }
            }
            // Row 0 takes the run's bank when it reads (cyclic: when any
            // row reads).
            for f in 0..self.turns() {
                self.first_take[f].next = self.mask_rd[0].val();
                self.first_bank[f].next = self.act_row_bank[0].val();
            }
            for j in 0..self.cyclic_turns() {
                self.cyclic_rotation.clock[0].next = self.clock.val();
                self.cyclic_rotation.reset[0].next = self.reset.val();
                self.any_read[j].next = false;
                for r in 0..self.rows() {
                    if self.mask_rd[r].val() {
                        self.any_read[j].next = true;
                    }
                }
                self.first_take[j].next = self.any_read[j].val();
            }
            self.accs.wr_addr.next = self.wb_acc_addr[k].val();
            // The input scan: every bank at the value's address, row 0
            // takes the value's bank.
            for j in 0..self.banked_scans() {
                if self.scan_rd[j].val() {
                    for b in 0..self.banks() {
                        self.banks[b].rd_en.next = true;
                        self.banks[b].rd_addr.next =
                            self.scan_addr[j].val() | self.read_base[k].val();
                    }
                    for f in 0..self.turns() {
                        self.first_take[f].next = true;
                        self.first_bank[f].next = self.scan_bank[j].val();
                    }
                }
            }
            // The host window, bank-major: bank offset >> log2(bank
            // words), the rest its address (in ACT1's half for ACT1).
            self.host_act[k].next = (self.region.val() == self.rg_act0.val())
                | (self.region.val() == self.rg_act1.val());
            if self.host_wr.val() {
                for b in 0..self.banks() {
                    self.banks[b].wr_data.next = self.mem_wdata.val();
                    self.banks[b].wr_addr.next = self.host_bank_addr[k].val();
                    self.banks[b].wr_en.next = self.host_act[k].val()
                        & (self.host_bank[k].val() == self.bank_number[b].val());
                }
            }
            if self.host_rd.val() {
                for f in 0..self.turns() {
                    self.first_take[f].next = true;
                    self.first_bank[f].next = self.host_bank[k].val();
                }
                for b in 0..self.banks() {
                    self.banks[b].rd_en.next = self.host_act[k].val();
                    self.banks[b].rd_addr.next = self.host_bank_addr[k].val();
                }
            }
            for f in 0..self.crossbars() {
                self.rotation.take[0].next = self.first_take[f].val();
                self.rotation.row_bank[0].next = self.first_bank[f].val();
            }
            for f in 0..self.cyclic_turns() {
                self.cyclic_rotation.take[0].next = self.first_take[f].val();
                self.cyclic_rotation.amount[0].next = self.first_bank[f].val();
            }
        }

        // Host read data, selected by the region read in the cycle before.
        self.acc_word.next = self.accs.rd_data[0].val();
        for k in 0..self.wide_acc() {
            if self.hr_half[k].q.val() {
                self.acc_word.next = self.accs.rd_data[0].val() >> self.c32[k].val();
            }
        }
        self.mem_rdata.next = self.zero.val();
        if self.hr_region.q.val() == self.rg_act0.val() {
            self.mem_rdata.next = self.act0.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_act1.val() {
            self.mem_rdata.next = self.act1.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_mask0.val() {
            self.mem_rdata.next = self.mask0.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_mask1.val() {
            self.mem_rdata.next = self.mask1.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_weights.val() {
            self.mem_rdata.next = self.weights.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_bias.val() {
            self.mem_rdata.next = self.bias.rd_data[0].val();
        }
        if self.hr_region.q.val() == self.rg_acc.val() {
            self.mem_rdata.next = self.acc_word.val();
        }
        // Banked: an activation entry comes through row 0's rotation.
        for _k in 0..self.banked() {
            if (self.hr_region.q.val() == self.rg_act0.val())
                | (self.hr_region.q.val() == self.rg_act1.val())
            {
                for _i in 0..self.crossbars() {
                    self.mem_rdata.next = self.rotation.row_data[0].val();
                }
                for _i in 0..self.cyclic_rotations() {
                    self.mem_rdata.next = self.cyclic_rotation.row_data[0].val();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_arch::regs::Buffer;

    /// 3 rows, 2 columns, two lanes a word, ACC 40 bits (two window words
    /// an entry), the streaming predictor's two-value input scan.
    fn cfg() -> AccelConfig {
        AccelConfig {
            rows: 3,
            cols: 2,
            out_lanes: 2,
            acc_bits: 40,
            act_words: 64,
            acc_words: 64,
            mask_words: 32,
            weight_words: 32,
            bias_words: 16,
            stream_predictor: true,
            ..AccelConfig::small()
        }
    }

    struct Bench {
        b: Buffers,
        map: WindowMap,
    }

    impl Bench {
        fn new() -> Bench {
            let cfg = cfg();
            assert_eq!(cfg.scan_group(), 2);
            Bench::of(&cfg)
        }
        fn of(cfg: &AccelConfig) -> Bench {
            let mut b = Buffers::new(cfg);
            b.connect_all();
            let mut bench = Bench {
                b,
                map: WindowMap::new(cfg),
            };
            bench.b.reset.next = true;
            bench.tick();
            bench.b.reset.next = false;
            bench
        }
        fn tick(&mut self) {
            self.b.clock.next = Clock::from(false);
            settle(&mut self.b);
            self.b.clock.next = Clock::from(true);
            settle(&mut self.b);
        }
        /// Window word of entry `index` of `buf` (its low word for ACC).
        fn addr(&self, buf: Buffer, index: u64) -> Word {
            let stride = if buf == Buffer::Acc {
                self.map.acc_stride
            } else {
                1
            };
            (self.map.base_word(buf) + index * stride).to_bits()
        }
        fn host_write(&mut self, buf: Buffer, index: u64, value: u64) {
            self.b.mem_addr.next = self.addr(buf, index);
            self.b.mem_wdata.next = value.to_bits();
            self.b.mem_wr.next = true;
            self.tick();
            self.b.mem_wr.next = false;
        }
        /// A window read of word `addr`: its data one cycle later.
        fn host_read_word(&mut self, addr: Word) -> u64 {
            self.b.mem_addr.next = addr;
            self.b.mem_rd.next = true;
            self.tick();
            self.b.mem_rd.next = false;
            settle(&mut self.b);
            self.b.mem_rdata.val().to_u64()
        }
        fn host_read(&mut self, buf: Buffer, index: u64) -> u64 {
            self.host_read_word(self.addr(buf, index))
        }
        /// An accumulator from its two window words, sign-extended.
        fn host_read_acc(&mut self, index: u64) -> i64 {
            let lo = self.host_read(Buffer::Acc, index);
            let hi = self.host_read_word(self.addr(Buffer::Acc, index) + word(1));
            ((hi << 32 | lo) << 24) as i64 >> 24
        }
    }

    #[test]
    fn the_host_window_writes_and_reads_each_entry_of_each_buffer() {
        let mut t = Bench::new();
        let entries = [
            (Buffer::Act0, 0xFF),
            (Buffer::Act1, 0xFF),
            (Buffer::Mask0, 1),
            (Buffer::Mask1, 1),
            (Buffer::Weights, 0xFF),
            (Buffer::Bias, 0xFFFF_FFFF),
        ];
        for (k, &(buf, _)) in entries.iter().enumerate() {
            // Both lanes of a word: entries 4 and 5 share word 2.
            for index in [4, 5, 9] {
                t.host_write(buf, index, (k as u64 * 37 + index * 11 + 1) | 0x100);
            }
        }
        for (k, &(buf, mask)) in entries.iter().enumerate() {
            for index in [3, 4, 5, 9] {
                let want = if index == 3 {
                    0
                } else {
                    ((k as u64 * 37 + index * 11 + 1) | 0x100) & mask
                };
                assert_eq!(t.host_read(buf, index), want, "{} [{index}]", buf.name());
            }
        }
    }

    #[test]
    fn the_run_reads_and_writes_the_buffers_the_selects_name() {
        let mut t = Bench::new();
        for i in 0..8 {
            t.host_write(Buffer::Act0, i, 10 + i);
            t.host_write(Buffer::Act1, i, 50 + i);
            t.host_write(Buffer::Mask0, i, i % 2);
            t.host_write(Buffer::Mask1, i, 1 - i % 2);
            t.host_write(Buffer::Weights, i, 90 + i);
            t.host_write(Buffer::Bias, i, 1000 + i);
        }
        t.b.busy.next = true;
        for (act_sel, mask_sel) in [(false, false), (true, false), (false, true), (true, true)] {
            t.b.act_sel.next = act_sel;
            t.b.mask_sel.next = mask_sel;
            for r in 0..3 {
                t.b.act_rd[r].next = true;
                t.b.act_addr[r].next = word(r as i64 + 1);
                t.b.mask_addr[r].next = word(r as i64 + 2);
            }
            for j in 0..2 {
                t.b.w_rd[j].next = true;
                t.b.w_addr[j].next = word(6 - j as i64);
            }
            t.b.bias_rd.next = true;
            t.b.bias_base.next = word(3);
            t.tick();
            for r in 0..3u64 {
                let act = if act_sel { 50 } else { 10 } + r + 1;
                assert_eq!(t.b.act_data[r as usize].val().to_u64(), act, "row {r}");
                let bit = ((r + 2) % 2 == 1) ^ mask_sel;
                assert_eq!(t.b.mask_data[r as usize].val(), bit, "row {r}");
            }
            for j in 0..2u64 {
                assert_eq!(t.b.w_data[j as usize].val().to_u64(), 96 - j);
                assert_eq!(t.b.bias_data[j as usize].val().to_u64(), 1003 + j);
            }
            // The input scan's group through read copies 0 and 1; row 2
            // keeps the controller's read.
            t.b.scan_rd[0].next = true;
            t.b.scan_addr[0].next = word(4);
            t.tick();
            t.b.scan_rd[0].next = false;
            let base = if act_sel { 50 } else { 10 };
            let got: Vec<u64> = (0..3).map(|r| t.b.act_data[r].val().to_u64()).collect();
            assert_eq!(got, vec![base + 4, base + 5, base + 3], "act_sel {act_sel}");
        }
        for r in 0..3 {
            t.b.act_rd[r].next = false;
        }
        // Write-back into the other activation buffer and ACC, lane 1 of
        // word 3 only; a mask bit into the other (POUT) and the input (PIN)
        // mask buffer.
        t.b.act_sel.next = false;
        t.b.mask_sel.next = false;
        t.b.wb_valid.next = true;
        t.b.wb_addr.next = word(6);
        t.b.wb_lanes[0].next = word(0b10);
        t.b.wb_value[0].next = word(66);
        t.b.wb_value[1].next = word(77);
        t.b.wb_acc[0].next = word(-6);
        t.b.wb_acc[1].next = word(-5);
        t.b.mask_wr_en.next = true;
        t.b.mask_wr_addr.next = word(20);
        t.b.mask_wr_bits.next = word(1);
        t.tick();
        t.b.wb_valid.next = false;
        t.b.in_pin.next = true;
        t.b.mask_wr_addr.next = word(21);
        t.tick();
        // The same with MASK1 the input: POUT writes MASK0, PIN MASK1.
        t.b.mask_sel.next = true;
        t.b.in_pin.next = false;
        t.b.mask_wr_addr.next = word(22);
        t.tick();
        t.b.in_pin.next = true;
        t.b.mask_wr_addr.next = word(23);
        t.tick();
        t.b.mask_wr_en.next = false;
        t.b.in_pin.next = false;
        t.b.busy.next = false;
        assert_eq!(t.host_read(Buffer::Act1, 7), 77);
        assert_eq!(t.host_read(Buffer::Act1, 6), 56, "lane 0 not written");
        assert_eq!(
            t.host_read(Buffer::Act0, 7),
            17,
            "the input buffer untouched"
        );
        assert_eq!(t.host_read_acc(7), -5);
        assert_eq!(t.host_read_acc(6), 0);
        assert_eq!(t.host_read(Buffer::Mask1, 20), 1);
        assert_eq!(t.host_read(Buffer::Mask0, 20), 0);
        assert_eq!(t.host_read(Buffer::Mask0, 21), 1);
        assert_eq!(t.host_read(Buffer::Mask1, 21), 0);
        assert_eq!(t.host_read(Buffer::Mask0, 22), 1);
        assert_eq!(t.host_read(Buffer::Mask1, 22), 0);
        assert_eq!(t.host_read(Buffer::Mask1, 23), 1);
        assert_eq!(t.host_read(Buffer::Mask0, 23), 0);
    }

    /// Two predictor banks (L = 2 lanes over regions of one pixel): the
    /// mask buffers keep two bits a word; the predictor writes any lanes of
    /// a word, the host and the run's reads see single entries.
    #[test]
    fn mask_words_of_two_banks_take_lane_writes_and_read_by_entry() {
        let cfg = AccelConfig { region: 1, ..cfg() };
        assert_eq!(cfg.predictor_banks(), 2);
        let mut t = Bench::of(&cfg);
        // The host sets entries 20, 21 and 23 of MASK1 (entry by entry).
        for e in [20, 21, 23] {
            t.host_write(Buffer::Mask1, e, 1);
        }
        assert_eq!(t.host_read(Buffer::Mask1, 22), 0);
        assert_eq!(t.host_read(Buffer::Mask1, 23), 1);
        // POUT (MASK1 the output): word 20-21, lane 1 cleared only; word
        // 22-23, both lanes: 22 set, 23 cleared.
        t.b.busy.next = true;
        t.b.mask_sel.next = false;
        t.b.in_pin.next = false;
        t.b.mask_wr_en.next = true;
        t.b.mask_wr_addr.next = word(20);
        t.b.mask_wr_lanes[0].next = word(0b10);
        t.b.mask_wr_bits.next = word(0b01);
        t.tick();
        t.b.mask_wr_addr.next = word(22);
        t.b.mask_wr_lanes[0].next = word(0b11);
        t.b.mask_wr_bits.next = word(0b01);
        t.tick();
        t.b.mask_wr_en.next = false;
        // The run reads entries 20 .. 23 of MASK1 through rows 0 .. 2 and 0.
        t.b.mask_sel.next = true;
        let want = [(20, true), (21, false), (22, true)];
        for (r, (e, _)) in want.iter().enumerate() {
            t.b.act_rd[r].next = true;
            t.b.mask_addr[r].next = word(*e);
        }
        t.tick();
        settle(&mut t.b);
        for (r, (e, bit)) in want.iter().enumerate() {
            assert_eq!(t.b.mask_data[r].val(), *bit, "entry {e} through row {r}");
            t.b.act_rd[r].next = false;
        }
        t.b.busy.next = false;
        for (e, bit) in [(20, 1), (21, 0), (22, 1), (23, 0)] {
            assert_eq!(t.host_read(Buffer::Mask1, e), bit, "entry {e}");
            assert_eq!(t.host_read(Buffer::Mask0, e), 0, "MASK0 entry {e}");
        }
    }

    #[test]
    fn host_accesses_while_busy_are_dropped_and_flagged() {
        let mut t = Bench::new();
        t.host_write(Buffer::Weights, 2, 42);
        t.b.busy.next = true;
        t.b.mem_addr.next = t.addr(Buffer::Weights, 2);
        t.b.mem_wdata.next = word(7);
        t.b.mem_wr.next = true;
        settle(&mut t.b);
        assert!(t.b.host_conflict.val(), "a write while busy");
        t.tick();
        t.b.mem_wr.next = false;
        settle(&mut t.b);
        assert!(!t.b.host_conflict.val());
        assert_eq!(
            t.host_read(Buffer::Weights, 2),
            0,
            "a read while busy returns 0"
        );
        t.b.busy.next = false;
        assert_eq!(t.host_read(Buffer::Weights, 2), 42, "the write was dropped");
    }
}
