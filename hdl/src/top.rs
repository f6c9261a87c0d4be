//! The whole accelerator (top `drq_top`): the AXI4-Lite host interface,
//! the on-chip buffers, the region controller feeding the systolic array,
//! the output stage, and the sensitivity predictor that writes the next
//! layer's mask. Register map, buffer window, phases and the cycle formula:
//! `docs/top.md`.
//!
//! * Buffers (`Buffers`, `buffers.rs`). Two activation buffers (ACT0,
//!   ACT1) and two mask buffers (MASK0, MASK1) form ping-pong pairs:
//!   `MODE.act_sel` / `MODE.mask_sel` name the layer's input buffer, the
//!   other one receives the output (and the predicted next mask), so layer
//!   L's output stays on chip as layer L+1's input. The controller reads
//!   one activation and one mask bit per array row per step, and one weight
//!   and one bias per column, so those buffers have a read copy per row
//!   (per column). The accumulator buffer (ACC) keeps every output's
//!   accumulator for the host. All are block RAM on FPGAs. The block
//!   routes the run's reads and writes and, while idle, the host window's.
//!   With `act_layout = "banked"` ACT0 and ACT1 hold each value once over
//!   ROWS banks (docs/banked.md): the controller reads per bank, and the
//!   write-back places each output in the layout of the layer that reads
//!   it (`wb_rows`, `wb_cols`, `wb_cw_mul`; the OUT_* registers).
//! * Phases of a run (`CMD.start`): optionally the input mask is predicted
//!   from the input buffer (`MODE.predict_in`, DRQ only; skipped when
//!   THRESHOLD is 0 or above a_max, as every region is then sensitive, or
//!   none is); optionally the
//!   predictor is prepared for the output (`MODE.predict_out`); the layer
//!   runs through controller, array and output stage; the predictor sweeps
//!   its sums into the other mask buffer. `done` and the interrupt follow.
//!   The phases, what a start latches and the run's counters are the
//!   `PhaseSequencer` (`sequencer.rs`); the top wires it to the blocks.

use crate::array::SystolicArray;
use crate::axil::AxiLiteSlave;
use crate::bank_steps::bank_index_bits;
use crate::buffers::Buffers;
use crate::controller::{ControllerParams, RegionController};
use crate::layout_table::LayoutTable;
use crate::leaf::{
    konst, low_mask, one_if, vec_of, PackedPitch, Reg, Sext, SignedMul, Word, WordReg,
};
use crate::output_stage::OutputStage;
use crate::predictor_banks::PredictorBanks;
use crate::regfile::HostRegisters;
use crate::scan::InputScan;
use crate::sequencer::PhaseSequencer;
use crate::shell::clog2;
use drq_arch::config::{AccelConfig, ActLayout, PeKind};
use drq_arch::regs::{info_values, reg, WindowMap};
use drq_arch::token::TokenFormat;
use rust_hdl::prelude::*;

/// Bits of STATUS (flags 0..4, the phase in 8..11).
const STATUS_BITS: u32 = 12;

/// Constants for sign-extending a `bits`-wide value held in a word: the low
/// `bits` bits, and all ones above them when the sign bit is set (a mux of
/// constants, no adder).
#[derive(LogicBlock)]
pub struct DrqTop {
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
    /// Level interrupt: `done` and `MODE.irq_enable`.
    pub irq: Signal<Out, Bit>,
    // Blocks.
    regs: HostRegisters,
    ctrl: RegionController,
    array: SystolicArray,
    ostage: OutputStage,
    pred: PredictorBanks,
    /// The buffers and their ports (run and host window).
    bufs: Buffers,
    oc0_mul: SignedMul,
    addr_mul: SignedMul,
    /// Packed rows (one entry each, none without them): the output map's
    /// pitch Po = (Wo + L - 1) & !(L - 1), Ho * Po (registered) and the
    /// write-back's products c * (Ho * Po) and y * Po.
    out_pitch: Vec<PackedPitch>,
    hop_mul: Vec<SignedMul>,
    hop_q: Vec<WordReg>,
    wb_c_mul: Vec<SignedMul>,
    wb_y_mul: Vec<SignedMul>,
    /// Banked activations (one entry each, none without them): the
    /// output's place in the layout of the layer that reads it
    /// (docs/banked.md): the row and column digits as tables, the channel
    /// part c * CW', the bank and the bank address registered with the
    /// write-back (`wb_addr` is then ACC's address).
    wb_rows: Vec<LayoutTable>,
    wb_cols: Vec<LayoutTable>,
    wb_cw_mul: Vec<SignedMul>,
    wb_bank: Vec<WordReg>,
    wb_bank_addr: Vec<WordReg>,
    bank_addr_mask: Vec<Constant<Word>>,
    /// 1, the banked tables' column unit (banked only, else none).
    bank_one: Vec<Constant<Word>>,
    /// The cyclic layout (one each, else none): the output's entry (the
    /// channel's, row's and column's parts: the tables hold entry parts),
    /// its mask, ROWS - 1 and log2(ROWS) (bank and address).
    wb_entry: Vec<Signal<Local, Word>>,
    entry_mask: Vec<Constant<Word>>,
    entry_bank_low: Vec<Constant<Word>>,
    entry_shift: Vec<Constant<Word>>,
    // Constants.
    zero: Constant<Word>,
    /// 1, for the streaming predictor's pixel count (else none).
    one: Vec<Constant<Word>>,
    low16: Constant<Word>,
    c8: Constant<Word>,
    b0: Constant<Word>,
    b1: Constant<Word>,
    b2: Constant<Word>,
    b3: Constant<Word>,
    b4: Constant<Word>,
    b5: Constant<Word>,
    cols_c: Constant<Word>,
    pitch_log2: Constant<Word>,
    /// Row-count fields (valid_h, tile_w <= ROWS): clog2(ROWS + 1) bits.
    rows_mask: Constant<Word>,
    info: Vec<Constant<Word>>,
    sx_w: Constant<Word>,
    /// The weight's sign extension to bit W_HI, which the controller's
    /// w_lo rounding reads: DRQ only (the INT8 baseline takes its one
    /// digit of W_HI bits and extends that).
    sx_w_sign: Vec<Constant<Word>>,
    sx_wd: Constant<Word>,
    sx_wd_sign: Constant<Word>,
    /// The low-precision weight path into the array: DRQ only.
    sx_wl: Vec<Constant<Word>>,
    sx_wl_sign: Vec<Constant<Word>>,
    sx_acc: Constant<Word>,
    sx_acc_sign: Constant<Word>,
    /// The bias word's sign extension, for ACC_BITS > 32 only (below, the
    /// array's accumulator mask drops the bits it would set).
    sx_b: Vec<Constant<Word>>,
    sx_b_sign: Vec<Constant<Word>>,
    // State.
    /// Phases, what a start latches, the run's counters.
    seq: PhaseSequencer,
    conflict: Reg<Bit>,
    /// The buffer window's access, registered between the slave and the
    /// buffers (docs/top.md): the address fans out to every buffer's
    /// block RAMs across the die, and the slave's decision logic before
    /// it was the routed design's critical path. The slave waits two
    /// cycles for `mem_rdata` (`AxiLiteSlave::with_mem_read_latency`).
    win_addr: WordReg,
    win_wr: Reg<Bit>,
    win_rd: Reg<Bit>,
    win_wdata: WordReg,
    /// The input-mask scan: DRQ only.
    scan: Vec<InputScan>,
    // The tile being drained.
    t_oc0: WordReg,
    t_oh0: WordReg,
    t_ow0: WordReg,
    /// The drained tile's valid height and width, min(TH, HO - oh0) and
    /// min(TW, WO - ow0), registered one cycle after the origin (the first
    /// row leaves the array at least two cycles after the tile's last
    /// token), so the output stage's row handshake does not wait for them.
    t_valid_h: WordReg,
    t_valid_w: WordReg,
    /// valid_h * tile_w, the drained tile's rows in range, registered
    /// with its valid height (`rows_mul`) so the output stage's row
    /// handshake, the array's drain enable, has no product on it.
    t_rows_in: WordReg,
    rows_mul: SignedMul,
    /// Burst read-out only (else none): the tile whose last token was
    /// taken and whose read-out has not started, latched with its last
    /// token; the drained tile's fields take them when its read-out starts
    /// (`array.out_start`), since the next tile's last token may come
    /// while the tile before still leaves.
    p_oc0: Vec<WordReg>,
    p_oh0: Vec<WordReg>,
    p_ow0: Vec<WordReg>,
    p_valid_h: Vec<WordReg>,
    p_valid_w: Vec<WordReg>,
    /// The origin the valid height and width are computed from: the
    /// drained tile's, or with a burst read-out the one whose last token
    /// is taken now (the controller's).
    src_oh0: Signal<Local, Word>,
    src_ow0: Signal<Local, Word>,
    valid_h_now: Signal<Local, Word>,
    valid_w_now: Signal<Local, Word>,
    // Output write-back.
    wb_valid: Reg<Bit>,
    wb_addr: WordReg,
    /// The lane group written: lanes (bit l: lane l holds a pixel), and
    /// each lane's code and accumulator.
    wb_lanes: WordReg,
    wb_value: Vec<WordReg>,
    wb_acc: Vec<WordReg>,
    /// STATUS, registered (one cycle behind).
    status_q: WordReg,
    // Combinational.
    token_taken: Signal<Local, Bit>,
    tile_end: Signal<Local, Bit>,
    rem_h: Signal<Local, Word>,
    rem_w: Signal<Local, Word>,
    out_take: Signal<Local, Bit>,
    /// The written group's codes summed per predictor bank (the
    /// predictor's input, slot b: lanes b L/K .. (b+1) L/K - 1), and the
    /// partial sums over the lanes of a bank up to lane l.
    bank_sum: Vec<Signal<Local, Word>>,
    lane_part: Vec<Signal<Local, Word>>,
    /// The streaming predictor's pixel count of each bank's share of the
    /// written group (`stream_predictor` only, else no signal).
    bank_pixels: Vec<Signal<Local, Word>>,
    /// The input scan's group (DRQ only): value g's offset from the
    /// group's address (g >= 1, at g - 1), and the partial sums of its
    /// values over 0..=g.
    scan_offset: Vec<Constant<Word>>,
    scan_part: Vec<Signal<Local, Word>>,
    /// With the streaming predictor: G, and the group's values in the
    /// map, min(G, W - x) (else no signal).
    scan_size: Vec<Constant<Word>>,
    scan_pixels: Vec<Signal<Local, Word>>,
    /// 2^l: bit l of a lane set.
    lane_bit: Vec<Constant<Word>>,
    status: Signal<Local, Word>,
}

impl DrqTop {
    pub fn new(cfg: &AccelConfig) -> DrqTop {
        let fmt = TokenFormat::new(cfg);
        let map = WindowMap::new(cfg);
        let cols = cfg.cols as usize;
        let lanes = cfg.out_lanes as usize;
        let banks = cfg.predictor_banks() as usize;
        let w = Sext::new(cfg.w_hi);
        let wd = Sext::new(fmt.w_digit_bits);
        let wl = Sext::new(fmt.w_low_bits);
        let acc = Sext::new(cfg.acc_bits);
        let b = Sext::new(32);
        let wide_bias = cfg.acc_bits > 32;
        let drq = cfg.pe == PeKind::Drq;
        let info = info_values(cfg);
        // Activation (and ACC) word addresses: one more bit than the buffer
        // needs, so the first address past it is not aliased.
        let act_addr_bits = clog2(cfg.act_words) + 1;
        let dim_bits = cfg.dim_bits();
        let burst = usize::from(cfg.burst_readout);
        let rows_bits = clog2(cfg.rows + 1);
        // Stored once (banked or cyclic): the banks, the write-back's
        // tables and bank; the layouts differ in the tables' form.
        let banked = cfg.act_layout.stored_once();
        let cyclic = cfg.act_layout == ActLayout::Cyclic;
        let packed_wb = cfg.packed_writeback();
        // (At least 1: the banked blocks are built, unused, in other
        // configurations too.)
        let bank_bits = cfg.bank_addr_bits().max(1);
        let index_bits = bank_index_bits(cfg.rows);
        let entry_bits = bank_bits + cfg.rows.trailing_zeros();
        let table = |depth: u32| {
            if cyclic {
                LayoutTable::cyclic(depth as usize, entry_bits)
            } else {
                LayoutTable::new(depth as usize, bank_bits, index_bits)
            }
        };
        DrqTop {
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
            irq: Default::default(),
            regs: HostRegisters::new(
                AxiLiteSlave::new(reg::N_RW, reg::N_RO)
                    .with_window_words(map.window_words())
                    .with_rw_bits(&drq_arch::regs::rw_bits(cfg))
                    .with_strobe_slots(&drq_arch::regs::strobe_slots())
                    .with_mem_read_latency(2),
            ),
            ctrl: RegionController::new(&ControllerParams::new(cfg)),
            array: SystolicArray::new(cfg),
            ostage: OutputStage::new(cfg),
            pred: PredictorBanks::new(cfg),
            bufs: Buffers::new(cfg),
            oc0_mul: SignedMul::new(17, 7),
            addr_mul: SignedMul::new(17, 16),
            out_pitch: one_if(packed_wb, PackedPitch::new(cfg.out_lanes)),
            hop_mul: one_if(packed_wb, SignedMul::new(17, 17)),
            hop_q: one_if(packed_wb, WordReg::unsigned(act_addr_bits)),
            wb_c_mul: one_if(packed_wb, SignedMul::new(17, act_addr_bits)),
            wb_y_mul: one_if(packed_wb, SignedMul::new(17, 17)),
            wb_rows: one_if(banked, table(cfg.max_out_height())),
            wb_cols: one_if(banked, table(cfg.max_width.max(2))),
            wb_cw_mul: one_if(
                banked,
                SignedMul::new(17, if cyclic { entry_bits } else { bank_bits }),
            ),
            wb_bank: one_if(banked, WordReg::unsigned(index_bits)),
            wb_bank_addr: one_if(banked, WordReg::unsigned(bank_bits)),
            bank_addr_mask: one_if(banked, konst(low_mask(bank_bits))),
            bank_one: one_if(banked && !cyclic, konst(1)),
            wb_entry: one_if(cyclic, Default::default()),
            entry_mask: one_if(cyclic, konst(low_mask(entry_bits))),
            entry_bank_low: one_if(cyclic, konst(u64::from(cfg.rows) - 1)),
            entry_shift: one_if(cyclic, konst(cfg.rows.trailing_zeros().into())),
            zero: konst(0),
            one: one_if(cfg.stream_predictor, konst(1)),
            low16: konst(0xFFFF),
            c8: konst(8),
            b0: konst(1),
            b1: konst(2),
            b2: konst(4),
            b3: konst(8),
            b4: konst(16),
            b5: konst(32),
            cols_c: konst(cols as u64),
            rows_mask: konst(low_mask(rows_bits)),
            pitch_log2: konst(cfg.act_row_pitch().trailing_zeros().into()),
            info: info.into_iter().map(|v| konst(v.into())).collect(),
            sx_w: w.mask,
            sx_w_sign: one_if(drq, w.sign),
            sx_wd: wd.mask,
            sx_wd_sign: wd.sign,
            sx_wl: one_if(drq, wl.mask),
            sx_wl_sign: one_if(drq, wl.sign),
            sx_acc: acc.mask,
            sx_acc_sign: acc.sign,
            sx_b: one_if(wide_bias, b.mask),
            sx_b_sign: one_if(wide_bias, b.sign),
            seq: PhaseSequencer::new(cfg),
            conflict: Default::default(),
            win_addr: WordReg::unsigned(drq_arch::regs::ADDR_BITS),
            win_wr: Default::default(),
            win_rd: Default::default(),
            win_wdata: WordReg::unsigned(32),
            scan: one_if(
                drq,
                InputScan::with_layout(cfg, banked.then_some(bank_bits), cyclic),
            ),
            t_oc0: WordReg::unsigned(dim_bits),
            t_oh0: WordReg::unsigned(dim_bits),
            t_ow0: WordReg::unsigned(dim_bits),
            t_valid_h: WordReg::unsigned(dim_bits),
            t_valid_w: WordReg::unsigned(dim_bits),
            t_rows_in: WordReg::unsigned(2 * rows_bits),
            // valid_h, tile_w <= ROWS (one more bit for the signed a).
            rows_mul: SignedMul::new(rows_bits + 1, rows_bits),
            p_oc0: (0..burst).map(|_| WordReg::unsigned(dim_bits)).collect(),
            p_oh0: (0..burst).map(|_| WordReg::unsigned(dim_bits)).collect(),
            p_ow0: (0..burst).map(|_| WordReg::unsigned(dim_bits)).collect(),
            p_valid_h: (0..burst).map(|_| WordReg::unsigned(dim_bits)).collect(),
            p_valid_w: (0..burst).map(|_| WordReg::unsigned(dim_bits)).collect(),
            src_oh0: Default::default(),
            src_ow0: Default::default(),
            valid_h_now: Default::default(),
            valid_w_now: Default::default(),
            wb_valid: Default::default(),
            wb_addr: WordReg::unsigned(act_addr_bits),
            wb_lanes: WordReg::unsigned(cfg.out_lanes),
            wb_value: (0..lanes).map(|_| WordReg::unsigned(cfg.a_hi)).collect(),
            wb_acc: (0..lanes).map(|_| WordReg::signed(cfg.acc_bits)).collect(),
            status_q: WordReg::unsigned(STATUS_BITS),
            token_taken: Default::default(),
            tile_end: Default::default(),
            rem_h: Default::default(),
            rem_w: Default::default(),
            out_take: Default::default(),
            bank_sum: vec_of(banks),
            lane_part: (0..cfg.out_lanes).map(|_| Default::default()).collect(),
            bank_pixels: if cfg.stream_predictor {
                vec_of(banks)
            } else {
                Vec::new()
            },
            scan_offset: (1..if drq { cfg.scan_group() } else { 1 })
                .map(|g| konst(u64::from(g)))
                .collect(),
            scan_part: (0..if drq { cfg.scan_group() } else { 0 })
                .map(|_| Default::default())
                .collect(),
            scan_size: one_if(
                drq && cfg.stream_predictor,
                konst(u64::from(cfg.scan_group())),
            ),
            scan_pixels: one_if(drq && cfg.stream_predictor, Default::default()),
            lane_bit: (0..cfg.out_lanes).map(|l| konst(1 << l)).collect(),
            status: Default::default(),
        }
    }
    fn rows(&self) -> usize {
        self.array.in_digit.len()
    }
    fn cols(&self) -> usize {
        self.array.in_w_digit.len()
    }
    /// 1 with packed rows, else 0.
    fn packed_paths(&self) -> usize {
        self.hop_q.len()
    }
    /// L = `out_lanes`: the pixels of a written group.
    fn lanes(&self) -> usize {
        self.wb_value.len()
    }
    /// G, the input scan's values per cycle (0 without a scan).
    fn scan_group(&self) -> usize {
        self.scan_part.len()
    }
    /// 1 with a scan, else 0: a loop that binds the group's first value.
    fn scan_first(&self) -> usize {
        self.scan_part.len().min(1)
    }
    /// G - 1 (0 without a scan): a loop that binds the group's last value.
    fn scan_last(&self) -> usize {
        self.scan_part.len().saturating_sub(1)
    }
    /// 1 when the input scan counts its group's values (DRQ, streaming).
    fn scan_counts(&self) -> usize {
        self.scan_pixels.len()
    }
    /// 1 with the streaming predictor (it counts pixels), else 0.
    fn stream_paths(&self) -> usize {
        self.bank_pixels.len().min(1)
    }
    /// K, the predictor's banks.
    fn banks(&self) -> usize {
        self.bank_sum.len()
    }
    /// L / K: the lanes of a group that go to one bank.
    fn bank_lanes(&self) -> usize {
        self.lanes() / self.banks()
    }
    /// L / K + 1: a loop that binds L / K.
    fn bank_lanes_end(&self) -> usize {
        self.bank_lanes() + 1
    }
    /// 1 for the DRQ array (its low-precision weight paths), 0 for the
    /// INT8 baseline.
    fn drq_paths(&self) -> usize {
        self.sx_wl.len()
    }
    /// 1 when the bias must be sign-extended past 32 bits, else 0.
    fn wide_bias(&self) -> usize {
        self.sx_b.len()
    }
    /// 1 with a burst read-out, else 0.
    fn burst(&self) -> usize {
        self.p_oc0.len()
    }
    /// 1 with stored-once (banked or cyclic) activations, else 0.
    fn banked(&self) -> usize {
        self.wb_bank.len()
    }
    /// 1 with stored-once activations and an input scan (DRQ), else 0.
    fn banked_scans(&self) -> usize {
        self.banked().min(self.drq_paths())
    }
    /// 1 with the banked layout (not the cyclic one), else 0.
    fn banked_layout(&self) -> usize {
        self.bank_one.len()
    }
    /// 1 with the cyclic layout, else 0.
    fn cyclic(&self) -> usize {
        self.wb_entry.len()
    }
    /// 1 with the banked layout and an input scan, else 0.
    fn banked_layout_scans(&self) -> usize {
        self.banked_layout().min(self.drq_paths())
    }
    /// 1 with the cyclic layout and an input scan, else 0.
    fn cyclic_scans(&self) -> usize {
        self.cyclic().min(self.drq_paths())
    }
}

impl Logic for DrqTop {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, conflict, t_oc0, t_oh0, t_ow0, t_valid_h, t_valid_w, t_rows_in, wb_valid,
            wb_addr, wb_lanes, status_q, win_addr, win_wr, win_rd, win_wdata
        );
        self.conflict.reset.next = self.reset.val();
        self.win_addr.reset.next = self.reset.val();
        self.win_wr.reset.next = self.reset.val();
        self.win_rd.reset.next = self.reset.val();
        self.win_wdata.reset.next = self.reset.val();
        self.t_oc0.reset.next = self.reset.val();
        self.t_oh0.reset.next = self.reset.val();
        self.t_ow0.reset.next = self.reset.val();
        self.t_valid_h.reset.next = self.reset.val();
        self.t_valid_w.reset.next = self.reset.val();
        self.t_rows_in.reset.next = self.reset.val();
        self.wb_valid.reset.next = self.reset.val();
        self.wb_addr.reset.next = self.reset.val();
        self.wb_lanes.reset.next = self.reset.val();
        for l in 0..self.lanes() {
            self.wb_value[l].clock.next = self.clock.val();
            self.wb_value[l].reset.next = self.reset.val();
            self.wb_value[l].d.next = self.wb_value[l].q.val();
            self.wb_acc[l].clock.next = self.clock.val();
            self.wb_acc[l].reset.next = self.reset.val();
            self.wb_acc[l].d.next = self.wb_acc[l].q.val();
        }
        self.status_q.reset.next = self.reset.val();

        // Clocks and resets of the blocks.
        self.regs.clock.next = self.clock.val();
        self.regs.reset.next = self.reset.val();
        self.ctrl.clock.next = self.clock.val();
        self.ctrl.reset.next = self.reset.val();
        self.array.clock.next = self.clock.val();
        self.array.reset.next = self.reset.val();
        self.ostage.clock.next = self.clock.val();
        self.ostage.reset.next = self.reset.val();
        self.pred.clock.next = self.clock.val();
        self.pred.reset.next = self.reset.val();
        self.bufs.clock.next = self.clock.val();
        self.bufs.reset.next = self.reset.val();

        // ---- Host interface: AXI4-Lite slave and register file ----------------
        self.regs.awvalid.next = self.awvalid.val();
        self.regs.awaddr.next = self.awaddr.val();
        self.regs.wvalid.next = self.wvalid.val();
        self.regs.wdata.next = self.wdata.val();
        self.regs.wstrb.next = self.wstrb.val();
        self.regs.bready.next = self.bready.val();
        self.regs.arvalid.next = self.arvalid.val();
        self.regs.araddr.next = self.araddr.val();
        self.regs.rready.next = self.rready.val();
        self.awready.next = self.regs.awready.val();
        self.wready.next = self.regs.wready.val();
        self.bvalid.next = self.regs.bvalid.val();
        self.bresp.next = self.regs.bresp.val();
        self.arready.next = self.regs.arready.val();
        self.rvalid.next = self.regs.rvalid.val();
        self.rdata.next = self.regs.rdata.val();
        self.rresp.next = self.regs.rresp.val();

        self.irq.next = self.seq.done.val() & (self.regs.mode.val() & self.b2.val()).any();

        // Read-only registers.
        self.status.next = self.seq.phase.val() << self.c8.val();
        if self.seq.busy.val() {
            self.status.next = self.status.val() | self.b0.val();
        }
        if self.seq.done.val() {
            self.status.next = self.status.val() | self.b1.val();
        }
        if self.pred.oversize.val() & self.seq.p_used.val() {
            self.status.next = self.status.val() | self.b2.val();
        }
        if self.conflict.q.val() {
            self.status.next = self.status.val() | self.b3.val();
        }
        if self.seq.done.val() & (self.regs.mode.val() & self.b2.val()).any() {
            self.status.next = self.status.val() | self.b4.val();
        }
        if !self.pred.clean.val() {
            self.status.next = self.status.val() | self.b5.val();
        }
        self.status_q.d.next = self.status.val();
        self.regs.status.next = self.status_q.q.val();
        self.regs.steps_high.next = self.ctrl.steps_high.val();
        self.regs.steps_low.next = self.ctrl.steps_low.val();
        self.regs.token_cycles.next = self.ctrl.token_cycles.val();
        self.regs.tiles.next = self.ctrl.tiles.val();
        self.regs.cycles_total.next = self.seq.cycles_total.val();
        self.regs.stall_cycles.next = self.seq.stall_cycles.val();
        self.regs.info_array.next = self.info[0].val();
        self.regs.info_bits.next = self.info[1].val();
        self.regs.info_layout.next = self.info[2].val();
        self.regs.act_words.next = self.info[3].val();
        self.regs.weight_words.next = self.info[4].val();
        self.regs.mask_words.next = self.info[5].val();
        self.regs.bias_words.next = self.info[6].val();
        self.regs.acc_words.next = self.info[7].val();
        self.regs.id.next = self.info[8].val();

        // ---- Phases ----------------------------------------------------------
        self.seq.clock.next = self.clock.val();
        self.seq.reset.next = self.reset.val();
        self.seq.start_req.next =
            self.regs.cmd_written.val() & (self.regs.cmd.val() & self.b0.val()).any();
        self.seq.clear_req.next =
            self.regs.cmd_written.val() & (self.regs.cmd.val() & self.b1.val()).any();
        self.seq.mode.next = self.regs.mode.val();
        self.seq.threshold.next = self.regs.threshold.val();
        self.seq.pred_ready.next = self.pred.in_ready.val();
        self.seq.pred_done.next = self.pred.done.val();
        self.seq.pred_clean.next = self.pred.clean.val();
        self.seq.conv_idle.next = self.ctrl.done.val()
            & !self.array.busy.val()
            & !self.ostage.busy.val()
            & !self.wb_valid.q.val();
        self.token_taken.next = self.ctrl.in_valid.val() & self.array.in_ready.val();
        self.tile_end.next = self.token_taken.val() & self.ctrl.in_last.val();
        self.seq.token_taken.next = self.token_taken.val();
        // A start (taken only while idle) or `clear` drops the conflict.
        if self.seq.clear_req.val() | (self.seq.start_req.val() & !self.seq.busy.val()) {
            self.conflict.d.next = false;
        }
        self.ctrl.start.next = self.seq.ctrl_start.val();
        self.pred.start.next = self.seq.pred_start.val();
        self.pred.finish.next = self.seq.finish_armed.val() & self.seq.conv_idle.val();
        // The input-mask scan (DRQ only): the input buffer in raster order,
        // one read per cycle, into the predictor.
        for k in 0..self.drq_paths() {
            self.scan[k].clock.next = self.clock.val();
            self.scan[k].reset.next = self.reset.val();
            self.scan[k].restart.next = self.seq.scan_restart[k].val();
            self.scan[k].advance.next = self.seq.scan_advance[k].val();
            self.scan[k].c_in.next = self.regs.c_in.val() & self.low16.val();
            self.scan[k].h.next = self.regs.h.val() & self.low16.val();
            self.scan[k].w.next = self.regs.w.val() & self.low16.val();
            self.seq.scan_last[k].next = self.scan[k].last.val();
            self.seq.scan_read_valid[k].next = self.scan[k].read_valid.val();
            // Banked: the walk of the input's layout, the value's bank.
            // (The scan's ports of one entry take the literal index 0:
            // `dedup::resolve_nested_ports`.)
            for _j in 0..self.banked_scans() {
                self.scan[k].bank_stride[0].next = self.regs.stride.val() & self.low16.val();
                self.scan[k].bank_tile_w[0].next = self.regs.tile_w.val() & self.low16.val();
                self.bufs.scan_bank[0].next = self.scan[k].bank[0].val();
            }
            for _j in 0..self.banked_layout_scans() {
                self.scan[k].bank_tile_h[0].next = self.regs.tile_h.val() & self.low16.val();
                self.scan[k].bank_row_words[0].next = self.regs.bank_row_words.val();
                self.scan[k].bank_group_words[0].next = self.regs.bank_group_words.val();
                self.scan[k].bank_channel_words[0].next = self.regs.bank_channel_words.val();
            }
            // Cyclic: the row's and column's steps are the controller's.
            for _j in 0..self.cyclic_scans() {
                self.scan[k].bank_channel_words[0].next = self.regs.cyc_channel_words.val();
                self.scan[k].y_phase_step[0].next = self.regs.cyc_y_phase_step.val();
                self.scan[k].y_group_step[0].next = self.regs.cyc_y_group_step.val();
                self.scan[k].x_phase_step[0].next = self.regs.cyc_x_phase_step.val();
                self.scan[k].x_bank_step[0].next = self.regs.cyc_x_bank_step.val();
                self.scan[k].x_group_step[0].next = self.regs.cyc_x_group_step.val();
            }
        }

        // ---- Controller and array ---------------------------------------------
        self.ctrl.c_in.next = self.regs.c_in.val() & self.low16.val();
        self.ctrl.c_out.next = self.regs.c_out.val() & self.low16.val();
        self.ctrl.h.next = self.regs.h.val() & self.low16.val();
        self.ctrl.w.next = self.regs.w.val() & self.low16.val();
        self.ctrl.kernel.next = self.regs.kernel.val() & self.low16.val();
        self.ctrl.stride.next = self.regs.stride.val() & self.low16.val();
        self.ctrl.padding.next = self.regs.padding.val() & self.low16.val();
        self.ctrl.tile_h.next = self.regs.tile_h.val() & self.low16.val();
        self.ctrl.tile_w.next = self.regs.tile_w.val() & self.low16.val();
        self.ctrl.low_shift.next = self.regs.low_shift.val() & self.low16.val();
        self.ctrl.w_low_shift.next = self.regs.w_low_shift.val() & self.low16.val();
        self.ctrl.in_ready.next = self.array.in_ready.val();
        // Banked activations: the input's layout constants (the host's).
        for k in 0..self.banked_layout() {
            self.ctrl.bank_row_words[k].next = self.regs.bank_row_words.val();
            self.ctrl.bank_group_words[k].next = self.regs.bank_group_words.val();
            self.ctrl.bank_channel_words[k].next = self.regs.bank_channel_words.val();
            self.ctrl.bank_pad_y_phase[k].next = self.regs.bank_pad_y_phase.val();
            self.ctrl.bank_pad_y_bank[k].next = self.regs.bank_pad_y_bank.val();
            self.ctrl.bank_pad_y_part[k].next = self.regs.bank_pad_y_part.val();
            self.ctrl.bank_pad_y_index[k].next = self.regs.bank_pad_y_index.val();
            self.ctrl.bank_pad_x_phase[k].next = self.regs.bank_pad_x_phase.val();
            self.ctrl.bank_pad_x_bank[k].next = self.regs.bank_pad_x_bank.val();
            self.ctrl.bank_pad_x_part[k].next = self.regs.bank_pad_x_part.val();
        }
        // Cyclic activations: the 14 constants, in
        // `drq_arch::cyclic::CYCLIC_CONSTANT_NAMES` order.
        for _k in 0..self.cyclic() {
            self.ctrl.cyclic_constants[0].next = self.regs.cyc_band_len.val();
            self.ctrl.cyclic_constants[1].next = self.regs.cyc_tile_row_words.val();
            self.ctrl.cyclic_constants[2].next = self.regs.cyc_channel_words.val();
            self.ctrl.cyclic_constants[3].next = self.regs.cyc_band_words.val();
            self.ctrl.cyclic_constants[4].next = self.regs.cyc_pad_y_phase.val();
            self.ctrl.cyclic_constants[5].next = self.regs.cyc_pad_y_part.val();
            self.ctrl.cyclic_constants[6].next = self.regs.cyc_y_phase_step.val();
            self.ctrl.cyclic_constants[7].next = self.regs.cyc_y_group_step.val();
            self.ctrl.cyclic_constants[8].next = self.regs.cyc_pad_x_phase.val();
            self.ctrl.cyclic_constants[9].next = self.regs.cyc_pad_x_bank.val();
            self.ctrl.cyclic_constants[10].next = self.regs.cyc_pad_x_part.val();
            self.ctrl.cyclic_constants[11].next = self.regs.cyc_x_phase_step.val();
            self.ctrl.cyclic_constants[12].next = self.regs.cyc_x_bank_step.val();
            self.ctrl.cyclic_constants[13].next = self.regs.cyc_x_group_step.val();
        }
        // Stored once: each row's read and bank (cyclic: row 0's bank,
        // the rotation of all rows).
        for _k in 0..self.banked() {
            for r in 0..self.rows() {
                self.bufs.mask_rd[r].next = self.ctrl.mask_rd[r].val();
            }
        }
        for _k in 0..self.banked_layout() {
            for r in 0..self.rows() {
                self.bufs.act_row_bank[r].next = self.ctrl.act_row_bank[r].val();
            }
        }
        for _k in 0..self.cyclic() {
            self.bufs.act_row_bank[0].next = self.ctrl.act_row_bank[0].val();
        }
        for r in 0..self.rows() {
            self.ctrl.act_data[r].next = self.bufs.act_data[r].val();
            self.ctrl.mask_bit[r].next = self.bufs.mask_data[r].val();
            if self.seq.mask_forced.val() {
                self.ctrl.mask_bit[r].next = self.seq.mask_forced_bit.val();
            }
            self.array.in_digit[r].next = self.ctrl.in_digit[r].val();
            self.array.in_sens[r].next = self.ctrl.in_sens[r].val();
        }
        for j in 0..self.cols() {
            self.ctrl.w_data[j].next = self.bufs.w_data[j].val() & self.sx_w.val();
            for k in 0..self.drq_paths() {
                if (self.bufs.w_data[j].val() & self.sx_w_sign[k].val()).any() {
                    self.ctrl.w_data[j].next = self.bufs.w_data[j].val() | !self.sx_w.val();
                }
            }
            self.array.in_w_digit[j].next = self.ctrl.in_w_digit[j].val() & self.sx_wd.val();
            if (self.ctrl.in_w_digit[j].val() & self.sx_wd_sign.val()).any() {
                self.array.in_w_digit[j].next = self.ctrl.in_w_digit[j].val() | !self.sx_wd.val();
            }
            self.array.in_w_low[j].next = self.zero.val();
            for k in 0..self.drq_paths() {
                self.array.in_w_low[j].next = self.ctrl.in_w_low[j].val() & self.sx_wl[k].val();
                if (self.ctrl.in_w_low[j].val() & self.sx_wl_sign[k].val()).any() {
                    self.array.in_w_low[j].next =
                        self.ctrl.in_w_low[j].val() | !self.sx_wl[k].val();
                }
            }
            // The bias RAM returns its 32 bits zero-extended.
            self.array.bias[j].next = self.bufs.bias_data[j].val();
            for k in 0..self.wide_bias() {
                self.array.bias[j].next = self.bufs.bias_data[j].val() & self.sx_b[k].val();
                if (self.bufs.bias_data[j].val() & self.sx_b_sign[k].val()).any() {
                    self.array.bias[j].next = self.bufs.bias_data[j].val() | !self.sx_b[k].val();
                }
            }
            self.bufs.w_rd[j].next = self.ctrl.w_rd[j].val();
            self.bufs.w_addr[j].next = self.ctrl.w_addr[j].val();
        }
        // The bias of a tile's columns is read with its last token and
        // held through the drain.
        self.bufs.bias_rd.next = self.tile_end.val();
        self.bufs.bias_base.next = self.oc0_mul.p.val();
        self.array.in_valid.next = self.ctrl.in_valid.val();
        self.array.in_first.next = self.ctrl.in_first.val();
        self.array.in_commit.next = self.ctrl.in_commit.val();
        self.array.in_last.next = self.ctrl.in_last.val();
        self.array.in_hshift.next = self.ctrl.in_hshift.val();
        self.oc0_mul.a.next = self.ctrl.tile_channel.val();
        self.oc0_mul.b.next = self.cols_c.val();
        if self.tile_end.val() {
            self.t_oc0.d.next = self.oc0_mul.p.val();
            self.t_oh0.d.next = self.ctrl.tile_oh0.val();
            self.t_ow0.d.next = self.ctrl.tile_ow0.val();
        }

        // ---- Output stage --------------------------------------------------------
        self.ostage.requant_mult.next = self.regs.requant_mult.val() & self.low16.val();
        self.ostage.requant_shift.next = self.regs.requant_shift.val() & self.low16.val();
        self.ostage.c_out.next = self.regs.c_out.val() & self.low16.val();
        self.ostage.tile_w.next = self.regs.tile_w.val() & self.low16.val();
        self.ostage.tile_oc0.next = self.t_oc0.q.val();
        self.ostage.tile_oh0.next = self.t_oh0.q.val();
        self.ostage.tile_ow0.next = self.t_ow0.q.val();
        self.src_oh0.next = self.t_oh0.q.val();
        self.src_ow0.next = self.t_ow0.q.val();
        for _k in 0..self.burst() {
            self.src_oh0.next = self.ctrl.tile_oh0.val();
            self.src_ow0.next = self.ctrl.tile_ow0.val();
        }
        self.rem_h.next = (self.regs.ho.val() & self.low16.val()) - self.src_oh0.val();
        self.rem_w.next = (self.regs.wo.val() & self.low16.val()) - self.src_ow0.val();
        self.valid_h_now.next = self.regs.tile_h.val() & self.low16.val();
        if self.rem_h.val() < (self.regs.tile_h.val() & self.low16.val()) {
            self.valid_h_now.next = self.rem_h.val();
        }
        self.valid_w_now.next = self.regs.tile_w.val() & self.low16.val();
        if self.rem_w.val() < (self.regs.tile_w.val() & self.low16.val()) {
            self.valid_w_now.next = self.rem_w.val();
        }
        self.t_valid_h.d.next = self.valid_h_now.val();
        self.t_valid_w.d.next = self.valid_w_now.val();
        // The product of the valid height computed now, or with a burst
        // read-out of the waiting tile's register: there t_rows_in takes
        // it at the read-out's start (a choice made in this block, so an
        // operand computed in it would make a loop for Verilator).
        self.rows_mul.b.next = self.regs.tile_w.val() & self.rows_mask.val();
        for _k in self.burst()..1 {
            self.rows_mul.a.next = self.valid_h_now.val() & self.rows_mask.val();
            self.t_rows_in.d.next = self.rows_mul.p.val();
        }
        for k in 0..self.burst() {
            self.rows_mul.a.next = self.p_valid_h[k].q.val() & self.rows_mask.val();
        }
        // Burst read-out: the next tile's fields wait beside the drained
        // tile's and replace them when its read-out starts; the output
        // stage says whether it has room for it. (Only registers cross
        // from the start to the stage's inputs, so no combinational path
        // runs from `out_start` back to `out_room`, even per block.)
        for k in 0..self.burst() {
            self.p_oc0[k].clock.next = self.clock.val();
            self.p_oc0[k].reset.next = self.reset.val();
            self.p_oh0[k].clock.next = self.clock.val();
            self.p_oh0[k].reset.next = self.reset.val();
            self.p_ow0[k].clock.next = self.clock.val();
            self.p_ow0[k].reset.next = self.reset.val();
            self.p_valid_h[k].clock.next = self.clock.val();
            self.p_valid_h[k].reset.next = self.reset.val();
            self.p_valid_w[k].clock.next = self.clock.val();
            self.p_valid_w[k].reset.next = self.reset.val();
            self.p_oc0[k].d.next = self.p_oc0[k].q.val();
            self.p_oh0[k].d.next = self.p_oh0[k].q.val();
            self.p_ow0[k].d.next = self.p_ow0[k].q.val();
            self.p_valid_h[k].d.next = self.p_valid_h[k].q.val();
            self.p_valid_w[k].d.next = self.p_valid_w[k].q.val();
            if self.tile_end.val() {
                self.p_oc0[k].d.next = self.oc0_mul.p.val();
                self.p_oh0[k].d.next = self.ctrl.tile_oh0.val();
                self.p_ow0[k].d.next = self.ctrl.tile_ow0.val();
                self.p_valid_h[k].d.next = self.valid_h_now.val();
                self.p_valid_w[k].d.next = self.valid_w_now.val();
            }
            self.t_oc0.d.next = self.t_oc0.q.val();
            self.t_oh0.d.next = self.t_oh0.q.val();
            self.t_ow0.d.next = self.t_ow0.q.val();
            self.t_valid_h.d.next = self.t_valid_h.q.val();
            self.t_valid_w.d.next = self.t_valid_w.q.val();
            self.t_rows_in.d.next = self.t_rows_in.q.val();
            if self.array.out_start[k].val() {
                self.t_oc0.d.next = self.p_oc0[k].q.val();
                self.t_oh0.d.next = self.p_oh0[k].q.val();
                self.t_ow0.d.next = self.p_ow0[k].q.val();
                self.t_valid_h.d.next = self.p_valid_h[k].q.val();
                self.t_valid_w.d.next = self.p_valid_w[k].q.val();
                self.t_rows_in.d.next = self.rows_mul.p.val();
            }
            self.ostage.next_ow0[k].next = self.p_ow0[k].q.val();
            self.ostage.next_valid_h[k].next = self.p_valid_h[k].q.val();
            self.ostage.next_valid_w[k].next = self.p_valid_w[k].q.val();
            self.array.out_room[k].next = self.ostage.room[k].val();
            self.array.out_oversize[k].next = self.ostage.oversize[k].val();
        }
        self.ostage.valid_h.next = self.t_valid_h.q.val();
        self.ostage.valid_w.next = self.t_valid_w.q.val();
        self.ostage.rows_in.next = self.t_rows_in.q.val();
        self.ostage.in_valid.next = self.array.out_valid.val();
        self.array.out_ready.next = self.ostage.in_ready.val();
        self.ostage.in_row.next = self.array.out_row.val();
        self.ostage.low_shift.next = self.ctrl.low_shift_out.val();
        for j in 0..self.cols() {
            self.ostage.in_acc[j].next = self.array.out_acc[j].val() & self.sx_acc.val();
            if (self.array.out_acc[j].val() & self.sx_acc_sign.val()).any() {
                self.ostage.in_acc[j].next = self.array.out_acc[j].val() | !self.sx_acc.val();
            }
            self.ostage.in_lo[j].next = self.array.out_lo[j].val();
        }
        // The output stage never waits: the write-back takes a beat every
        // cycle, and the predictor takes every value in CONV (it is in
        // ACCUM from POUT_CLEAR, or with streaming from its SETUP under the
        // controller's, to its finish, which waits for the output stage to
        // be empty; docs/spec.md §6.5: it never back-pressures while
        // accumulating). Its ready would otherwise ripple from the
        // predictor through the requantisers and the row buffer to the
        // array's read-out handshake: the routed 16x16's critical path.
        self.ostage.out_ready.next = true;
        self.out_take.next = self.ostage.out_valid.val();
        // Write-back address (c * Ho + y) * pitch + x of lane 0, one
        // register stage; the group's lanes in one buffer word.
        self.addr_mul.a.next = self.ostage.out_channel.val();
        self.addr_mul.b.next = self.regs.ho.val() & self.low16.val();
        // With packed rows: c * (Ho * Po) + y * Po + x.
        for k in 0..self.packed_paths() {
            self.out_pitch[k].w.next = self.regs.wo.val() & self.low16.val();
            self.hop_mul[k].a.next = self.regs.ho.val() & self.low16.val();
            self.hop_mul[k].b.next = self.out_pitch[k].pitch.val();
            self.hop_q[k].clock.next = self.clock.val();
            self.hop_q[k].reset.next = self.reset.val();
            self.hop_q[k].d.next = self.hop_mul[k].p.val();
            self.wb_c_mul[k].a.next = self.ostage.out_channel.val();
            self.wb_c_mul[k].b.next = self.hop_q[k].q.val();
            self.wb_y_mul[k].a.next = self.ostage.out_y.val();
            self.wb_y_mul[k].b.next = self.out_pitch[k].pitch.val();
        }
        // Banked: the output's bank and address in the layout of the
        // layer that reads it, from the row and column tables (filled
        // from the run's start, ahead of the outputs: docs/banked.md) and
        // c * CW'.
        for k in 0..self.banked() {
            self.wb_bank[k].clock.next = self.clock.val();
            self.wb_bank[k].reset.next = self.reset.val();
            self.wb_bank[k].d.next = self.wb_bank[k].q.val();
            self.wb_bank_addr[k].clock.next = self.clock.val();
            self.wb_bank_addr[k].reset.next = self.reset.val();
            self.wb_bank_addr[k].d.next = self.wb_bank_addr[k].q.val();
            self.wb_rows[k].clock.next = self.clock.val();
            self.wb_rows[k].reset.next = self.reset.val();
            self.wb_rows[k].start.next = self.seq.ctrl_start.val();
            self.wb_rows[k].stride.next = self.regs.out_stride.val();
            self.wb_rows[k].index.next = self.ostage.out_y.val();
            self.wb_cols[k].clock.next = self.clock.val();
            self.wb_cols[k].reset.next = self.reset.val();
            self.wb_cols[k].start.next = self.seq.ctrl_start.val();
            self.wb_cols[k].stride.next = self.regs.out_stride.val();
            self.wb_cols[k].tile.next = self.regs.out_tile_w.val();
            self.wb_cols[k].index.next = self.ostage.out_x.val();
            self.wb_cw_mul[k].a.next = self.ostage.out_channel.val();
            self.wb_cw_mul[k].b.next = self.regs.out_channel_words.val();
        }
        // Banked: rows under (S', TH'), columns under (S', TW').
        for k in 0..self.banked_layout() {
            self.wb_rows[k].tile.next = self.regs.out_tile_h.val();
            self.wb_rows[k].unit[0].next = self.regs.out_row_words.val();
            self.wb_rows[k].group_words[0].next = self.regs.out_group_words.val();
            self.wb_rows[k].bank_unit[0].next = self.regs.out_tile_w.val();
            self.wb_cols[k].unit[0].next = self.bank_one[k].val();
            self.wb_cols[k].group_words[0].next = self.regs.out_stride.val();
            self.wb_cols[k].bank_unit[0].next = self.bank_one[k].val();
        }
        // Cyclic: rows under (S', 1), columns under (S', TW'), the entry
        // the parts' sum.
        for k in 0..self.cyclic() {
            self.wb_rows[k].tile.next = self.b0.val();
            self.wb_rows[k].phase_step[0].next = self.regs.out_y_phase_step.val();
            self.wb_rows[k].bank_step[0].next = self.regs.out_y_group_step.val();
            self.wb_rows[k].group_step[0].next = self.regs.out_y_group_step.val();
            self.wb_cols[k].phase_step[0].next = self.regs.out_x_phase_step.val();
            self.wb_cols[k].bank_step[0].next = self.regs.out_x_bank_step.val();
            self.wb_cols[k].group_step[0].next = self.regs.out_x_group_step.val();
            self.wb_entry[k].next = (self.wb_cw_mul[k].p.val()
                + self.wb_rows[k].part.val()
                + self.wb_cols[k].part.val())
                & self.entry_mask[k].val();
        }
        self.wb_valid.d.next = self.out_take.val();
        if self.out_take.val() {
            self.wb_addr.d.next = ((self.addr_mul.p.val() + self.ostage.out_y.val())
                << self.pitch_log2.val())
                | self.ostage.out_x.val();
            for k in 0..self.packed_paths() {
                self.wb_addr.d.next =
                    self.wb_c_mul[k].p.val() + self.wb_y_mul[k].p.val() + self.ostage.out_x.val();
            }
            for k in 0..self.banked_layout() {
                self.wb_bank[k].d.next =
                    self.wb_rows[k].bank_index[0].val() + self.wb_cols[k].bank_index[0].val();
                self.wb_bank_addr[k].d.next = (self.wb_cw_mul[k].p.val()
                    + self.wb_rows[k].part.val()
                    + self.wb_cols[k].part.val())
                    & self.bank_addr_mask[k].val();
            }
            for k in 0..self.cyclic() {
                self.wb_bank[k].d.next = self.wb_entry[k].val() & self.entry_bank_low[k].val();
                self.wb_bank_addr[k].d.next = (self.wb_entry[k].val() >> self.entry_shift[k].val())
                    & self.bank_addr_mask[k].val();
            }
            self.wb_lanes.d.next = self.ostage.out_lanes.val();
            for l in 0..self.lanes() {
                self.wb_value[l].d.next = self.ostage.out_value[l].val();
                self.wb_acc[l].d.next = self.ostage.out_acc[l].val();
            }
        }
        // The sum of the group's codes per predictor bank: a chain of
        // partial sums over each bank's lanes (`bl` = L / K lanes).
        for bl in self.bank_lanes()..self.bank_lanes_end() {
            for b in 0..self.banks() {
                self.lane_part[b * bl].next = self.zero.val();
                if (self.ostage.out_lanes.val() & self.lane_bit[b * bl].val()).any() {
                    self.lane_part[b * bl].next = self.ostage.out_value[b * bl].val();
                }
                for i in 1..self.bank_lanes() {
                    self.lane_part[b * bl + i].next = self.lane_part[b * bl + i - 1].val();
                    if (self.ostage.out_lanes.val() & self.lane_bit[b * bl + i].val()).any() {
                        self.lane_part[b * bl + i].next = self.lane_part[b * bl + i - 1].val()
                            + self.ostage.out_value[b * bl + i].val();
                    }
                }
                self.bank_sum[b].next = self.lane_part[b * bl + bl - 1].val();
                // Its pixels, for the streaming predictor.
                for k in 0..self.stream_paths() {
                    self.bank_pixels[b].next = self.zero.val();
                    for i in 0..self.bank_lanes() {
                        if (self.ostage.out_lanes.val() & self.lane_bit[b * bl + i].val()).any() {
                            self.bank_pixels[b].next =
                                self.bank_pixels[b].val() + self.one[k].val();
                        }
                    }
                }
            }
        }

        // The input scan's group: the sum of its values in the map (the
        // predictor's input in PIN), a chain of partial sums.
        for k in 0..self.drq_paths() {
            for n in 0..self.scan_counts() {
                self.scan_pixels[n].next =
                    (self.regs.w.val() & self.low16.val()) - self.scan[k].read_x.val();
                if self.scan_pixels[n].val() > self.scan_size[n].val() {
                    self.scan_pixels[n].next = self.scan_size[n].val();
                }
            }
            for g in 0..self.scan_first() {
                self.scan_part[g].next = self.bufs.act_data[g].val();
            }
            for g in 1..self.scan_group() {
                self.scan_part[g].next = self.scan_part[g - 1].val();
                if self.scan_offset[g - 1].val() < self.scan_pixels[0].val() {
                    self.scan_part[g].next =
                        self.scan_part[g - 1].val() + self.bufs.act_data[g].val();
                }
            }
        }
        // ---- Predictor --------------------------------------------------------
        self.pred.channels.next = self.regs.c_out.val() & self.low16.val();
        self.pred.height.next = self.regs.ho.val() & self.low16.val();
        self.pred.width.next = self.regs.wo.val() & self.low16.val();
        self.pred.threshold.next = self.regs.next_threshold.val() & self.low16.val();
        self.pred.in_valid.next = self.ostage.out_valid.val() & self.seq.p_out.val();
        self.pred.in_channel.next = self.ostage.out_channel.val();
        self.pred.in_y.next = self.ostage.out_y.val();
        self.pred.in_x.next = self.ostage.out_x.val();
        for b in 0..self.banks() {
            self.pred.in_value[b].next = self.bank_sum[b].val();
            for _k in 0..self.stream_paths() {
                self.pred.in_pixels[b].next = self.bank_pixels[b].val();
            }
        }
        for k in 0..self.drq_paths() {
            if self.seq.in_pin.val() {
                self.pred.channels.next = self.regs.c_in.val() & self.low16.val();
                self.pred.height.next = self.regs.h.val() & self.low16.val();
                self.pred.width.next = self.regs.w.val() & self.low16.val();
                self.pred.threshold.next = self.regs.threshold.val() & self.low16.val();
                self.pred.in_valid.next = self.scan[k].read_valid.val();
                self.pred.in_channel.next = self.scan[k].read_c.val();
                self.pred.in_y.next = self.scan[k].read_y.val();
                self.pred.in_x.next = self.scan[k].read_x.val();
                // The scan's group lies in one region: slot 0.
                for b in 0..self.banks() {
                    self.pred.in_value[b].next = self.zero.val();
                    for _p in 0..self.scan_counts() {
                        self.pred.in_pixels[b].next = self.zero.val();
                    }
                }
                for last in self.scan_last()..self.scan_group() {
                    self.pred.in_value[0].next = self.scan_part[last].val();
                }
                self.pred.finish.next = self.scan[k].read_last.val();
                for p in 0..self.scan_counts() {
                    self.pred.in_pixels[0].next = self.scan_pixels[p].val();
                }
            }
        }

        // ---- Buffers: the run's ports, the host window's when idle ----------
        self.bufs.busy.next = self.seq.busy.val();
        self.bufs.act_sel.next = self.seq.act_sel.val();
        self.bufs.mask_sel.next = self.seq.mask_sel.val();
        self.bufs.in_pin.next = self.seq.in_pin.val();
        for r in 0..self.rows() {
            self.bufs.act_rd[r].next = self.ctrl.act_rd[r].val();
            self.bufs.act_addr[r].next = self.ctrl.act_addr[r].val();
            self.bufs.mask_addr[r].next = self.ctrl.mask_addr[r].val();
        }
        for k in 0..self.drq_paths() {
            self.bufs.scan_rd[k].next = self.seq.scan_advance[k].val();
            self.bufs.scan_addr[k].next = self.scan[k].addr.val();
        }
        self.bufs.wb_valid.next = self.wb_valid.q.val();
        self.bufs.wb_addr.next = self.wb_addr.q.val();
        for k in 0..self.banked() {
            self.bufs.wb_addr.next = self.wb_bank_addr[k].q.val();
            self.bufs.wb_acc_addr[k].next = self.wb_addr.q.val();
            self.bufs.wb_bank[k].next = self.wb_bank[k].q.val();
        }
        for k in 0..self.bufs.wb_lanes.len() {
            self.bufs.wb_lanes[k].next = self.wb_lanes.q.val();
        }
        for l in 0..self.lanes() {
            self.bufs.wb_value[l].next = self.wb_value[l].q.val();
            self.bufs.wb_acc[l].next = self.wb_acc[l].q.val();
        }
        self.bufs.mask_wr_en.next = self.pred.mask_wr_en.val();
        self.bufs.mask_wr_addr.next = self.pred.mask_wr_addr.val();
        for k in 0..self.pred.mask_wr_lanes.len() {
            self.bufs.mask_wr_lanes[k].next = self.pred.mask_wr_lanes[k].val();
        }
        self.bufs.mask_wr_bits.next = self.pred.mask_wr_bits.val();
        self.win_addr.d.next = self.regs.mem_addr.val();
        self.win_wr.d.next = self.regs.mem_wr.val();
        self.win_rd.d.next = self.regs.mem_rd.val();
        self.win_wdata.d.next = self.regs.mem_wdata.val();
        self.bufs.mem_addr.next = self.win_addr.q.val();
        self.bufs.mem_wr.next = self.win_wr.q.val();
        self.bufs.mem_rd.next = self.win_rd.q.val();
        self.bufs.mem_wdata.next = self.win_wdata.q.val();
        self.regs.mem_rdata.next = self.bufs.mem_rdata.val();
        if self.bufs.host_conflict.val() {
            self.conflict.d.next = true;
        }
    }
}

/// The whole accelerator (top `drq_top`): `clk`, `rst`, the AXI4-Lite
/// slave (`awaddr`/`araddr` `ADDR_BITS` bits, 32-bit data) and `irq`.
pub fn top_design(cfg: &AccelConfig) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, Widen};
    let mut ports = crate::axil::axil_shell_ports();
    ports.push(scalar("irq", Dir::Output, 1, Widen::Flag));
    let mut d = design("drq_top", "drq_top_core", cfg, ports, &mut DrqTop::new(cfg));
    d.waivers.push_str(&unused_block_outputs_waivers(
        &d.top,
        cfg.pe,
        cfg.act_layout,
    ));
    d
}

/// Outputs of the blocks that the top does not need: the controller's own
/// status and waveform signals (they stay named signals of the controller
/// core in every dump) and the predictor's busy; in the INT8 baseline, the
/// controller's low-precision weights; the banked layout's registers or
/// tables' counts.
fn unused_block_outputs_waivers(top: &str, pe: PeKind, layout: ActLayout) -> String {
    let mut w = String::from(
        "// Block outputs drq_top does not use (docs/top.md): the controller's own status\n\
         // and waveform signals, and the predictor's busy.\n",
    );
    let mut names = vec!["ctrl_busy", "ctrl_drq_*", "pred_busy"];
    if pe == PeKind::Int8 {
        w.push_str(
            "// The INT8 baseline's array takes no low-precision weight, and it predicts no\n\
             // input mask: THRESHOLD is stored and read back, and drives nothing.\n",
        );
        names.extend(["ctrl_in_w_low_*", "regs_threshold"]);
    }
    if layout.stored_once() {
        w.push_str(
            "// Stored-once activations: the write-back's layout tables count their entries\n\
             // (`filled`, for their tests); the top reads the entries only.\n",
        );
        names.push("wb_*_filled");
    }
    match layout {
        ActLayout::Replicated => {
            w.push_str(
                "// Replicated activations: the stored-once layouts' registers (0 bits, reading 0)\n\
                 // drive nothing.\n",
            );
            names.extend(["regs_bank_*", "regs_out_*", "regs_cyc_*"]);
        }
        ActLayout::Banked => {
            w.push_str(
                "// Banked activations: the cyclic layout's registers (0 bits) drive nothing.\n",
            );
            names.extend(["regs_cyc_*", "regs_out_y_*", "regs_out_x_*"]);
        }
        ActLayout::Cyclic => {
            w.push_str(
                "// Cyclic activations: the banked layout's registers (0 bits) drive nothing,\n\
                 // and the buffers' rotation takes row 0's bank alone (the controller's other\n\
                 // rows' banks are (d + r) mod ROWS, for its tests).\n",
            );
            names.extend([
                "ctrl_act_row_bank_*",
                "regs_bank_*",
                "regs_out_tile_h",
                "regs_out_row_words",
                "regs_out_group_words",
            ]);
        }
    }
    for name in names {
        w.push_str(&format!(
            "lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"Signal is not used: '{name}'\"\n"
        ));
    }
    w
}
