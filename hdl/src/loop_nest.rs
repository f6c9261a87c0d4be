//! The controller's loop nest and address generation (stages S0 and S1 of
//! `docs/controller.md`): latches the layer's geometry at `start`, makes
//! its constants and the per-row offsets during SETUP, walks the loop nest
//! (channel tile, pixel tile, c, ki, kj) with incremental products, and
//! registers the activation, mask and weight addresses of each step (S1)
//! with the step's fields. The reads of S1's step are issued in the cycle
//! the next stage takes it (`advance`). Rows at the configuration's pitch
//! put a row's column into the address by an OR; with packed rows
//! (`AccelConfig::packed_rows`) the activation address is a base stepped
//! through the loop nest plus the row's offset (docs/spec.md §8.2). With
//! stored-once (banked) input activations
//! (`ControllerParams::banked_addr_bits`; docs/banked.md) `act_addr` and
//! `act_rd` are per bank (`BankSteps`: every bank of the tile is read with
//! the step) and `act_row_bank` says each row's bank.

use crate::bank_steps::BankSteps;
use crate::controller::{ControllerParams, STRIDE_BITS};
use crate::cyclic_steps::CyclicSteps;
use crate::leaf::{konst, one_if, vec_of};
use crate::leaf::{low_mask as mask, PackedPitch, Reg, SignedMul, Word};
use drq_arch::cyclic::CYCLIC_CONSTANT_NAMES;
use rust_hdl::prelude::*;

/// S0 and S1 of the region controller: one step per cycle in which
/// `advance` is high, from SETUP's end to the layer's last step. Outputs
/// are registers, except the read enables (`advance` and S1's read flags).
#[derive(LogicBlock)]
pub struct LoopNest {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Latch the layer and restart (SETUP).
    pub start: Signal<In, Bit>,
    // The layer's geometry, latched at `start`.
    pub c_in: Signal<In, Word>,
    pub c_out: Signal<In, Word>,
    pub h: Signal<In, Word>,
    pub w: Signal<In, Word>,
    pub kernel: Signal<In, Word>,
    pub stride: Signal<In, Word>,
    pub padding: Signal<In, Word>,
    pub tile_h: Signal<In, Word>,
    pub tile_w: Signal<In, Word>,
    /// The next stage takes S1's step in this cycle: its reads are issued.
    pub advance: Signal<In, Bit>,
    /// The banked layout's constants (docs/banked.md; one entry each with
    /// banked input activations, else none): the address steps of a bank
    /// row, a row group and a channel, and the digits of -P with their
    /// parts and the row digit's bank number.
    pub bank_row_words: Vec<Signal<In, Word>>,
    pub bank_group_words: Vec<Signal<In, Word>>,
    pub bank_channel_words: Vec<Signal<In, Word>>,
    pub bank_pad_y_phase: Vec<Signal<In, Word>>,
    pub bank_pad_y_bank: Vec<Signal<In, Word>>,
    pub bank_pad_y_part: Vec<Signal<In, Word>>,
    pub bank_pad_y_index: Vec<Signal<In, Word>>,
    pub bank_pad_x_phase: Vec<Signal<In, Word>>,
    pub bank_pad_x_bank: Vec<Signal<In, Word>>,
    pub bank_pad_x_part: Vec<Signal<In, Word>>,
    /// The cyclic layout's constants instead (`ControllerParams::cyclic`,
    /// docs/banked.md "The cyclic layout"; else none), in
    /// `drq_arch::cyclic::CYCLIC_CONSTANT_NAMES` order.
    pub cyclic_constants: Vec<Signal<In, Word>>,
    // Buffer read ports (per row; per bank with banked activations).
    pub act_addr: Vec<Signal<Out, Word>>,
    pub act_rd: Vec<Signal<Out, Bit>>,
    /// Banked activations only: the bank each row's value comes from, and
    /// each row's mask read (the row reads; `act_rd` is per bank).
    pub act_row_bank: Vec<Signal<Out, Word>>,
    pub mask_rd: Vec<Signal<Out, Bit>>,
    pub mask_addr: Vec<Signal<Out, Word>>,
    pub w_addr: Vec<Signal<Out, Word>>,
    pub w_rd: Vec<Signal<Out, Bit>>,
    // S1's step: whether it exists, which rows and columns read, its
    // fields (tile ends, c, k, tile index, channel tile, pixel tile, region
    // of row 0).
    pub step_valid: Signal<Out, Bit>,
    pub step_row_read: Vec<Signal<Out, Bit>>,
    pub step_col_read: Vec<Signal<Out, Bit>>,
    pub step_tile_last: Signal<Out, Bit>,
    pub step_layer_last: Signal<Out, Bit>,
    pub step_c: Signal<Out, Word>,
    pub step_k: Signal<Out, Word>,
    pub step_tile: Signal<Out, Word>,
    pub step_ct: Signal<Out, Word>,
    pub step_oh0: Signal<Out, Word>,
    pub step_ow0: Signal<Out, Word>,
    pub step_ry: Signal<Out, Word>,
    pub step_rx: Signal<Out, Word>,
    // Constants.
    zero: Constant<Word>,
    one: Constant<Word>,
    coord_mask: Constant<Word>,
    /// Word addresses: `AccelConfig::buffer_addr_bits`.
    addr_mask: Constant<Word>,
    /// Output channels (oc0 + COLS may pass 2^16).
    chan_mask: Constant<Word>,
    count_mask: Constant<Word>,
    reg_mask: Constant<Word>,
    k_mask: Constant<Word>,
    small_mask: Constant<Word>,
    act_col_mask: Constant<Word>,
    mask_col_mask: Constant<Word>,
    region_log2: Constant<Word>,
    region_m1: Constant<Word>,
    act_pitch_log2: Constant<Word>,
    mask_pitch_log2: Constant<Word>,
    cols_n: Constant<Word>,
    col_index: Vec<Constant<Word>>,
    stride_bit: Vec<Constant<Word>>,
    stride_shift: Vec<Constant<Word>>,
    setup_last: Constant<Word>,
    // Latched layer.
    cin_q: Reg<Word>,
    cout_q: Reg<Word>,
    h_q: Reg<Word>,
    w_q: Reg<Word>,
    k_q: Reg<Word>,
    s_q: Reg<Word>,
    p_q: Reg<Word>,
    th_q: Reg<Word>,
    tw_q: Reg<Word>,
    // SETUP and the layer's constants.
    setup: Reg<Bit>,
    setup_n: Reg<Word>,
    /// H + 2P - K and W + 2P - K: a pixel row oh exists iff oh*S <= hlim.
    hlim_q: Reg<Word>,
    wlim_q: Reg<Word>,
    /// -P (`coord_bits` two's complement).
    neg_p_q: Reg<Word>,
    /// ceil(H/R).
    rh_q: Reg<Word>,
    /// TH * S, TW * S.
    ths_q: Reg<Word>,
    tws_q: Reg<Word>,
    /// Per row r >= 1 (index r - 1): j*S, i*S and r < TH*TW, a register
    /// chain from row 0 (0, 0, used) that settles in ROWS - 1 cycles.
    row_dx: Vec<Reg<Word>>,
    row_dy: Vec<Reg<Word>>,
    row_used: Vec<Reg<Bit>>,
    // S0: the loop counters of the next step.
    s0_valid: Reg<Bit>,
    c0: Reg<Word>,
    ki0: Reg<Word>,
    kj0: Reg<Word>,
    k0: Reg<Word>,
    ch0: Reg<Word>,
    crh0: Reg<Word>,
    kc0: Reg<Word>,
    ct0: Reg<Word>,
    oc0: Reg<Word>,
    tile0: Reg<Word>,
    oh0: Reg<Word>,
    ow0: Reg<Word>,
    /// oh0*S - P, ow0*S - P.
    iyp0: Reg<Word>,
    ixp0: Reg<Word>,
    /// hlim - oh0*S, wlim - ow0*S.
    hrem0: Reg<Word>,
    wrem0: Reg<Word>,
    // S1: addresses of the step whose reads are issued next.
    s1_valid: Reg<Bit>,
    s1_act_addr: Vec<Reg<Word>>,
    s1_mask_addr: Vec<Reg<Word>>,
    s1_rd: Vec<Reg<Bit>>,
    s1_w_addr: Vec<Reg<Word>>,
    s1_w_rd: Vec<Reg<Bit>>,
    s1_tile_last: Reg<Bit>,
    s1_layer_last: Reg<Bit>,
    s1_c: Reg<Word>,
    s1_k: Reg<Word>,
    s1_tile: Reg<Word>,
    s1_ct: Reg<Word>,
    s1_oh0: Reg<Word>,
    s1_ow0: Reg<Word>,
    s1_ry: Reg<Word>,
    s1_rx: Reg<Word>,
    /// The banked reads (without ports, so dropped from the Verilog,
    /// without banked activations) and S1's row banks.
    bank_steps: BankSteps,
    s1_row_bank: Vec<crate::leaf::WordReg>,
    /// The cyclic layout's reads instead (without ports otherwise); row
    /// r's bank (d + r) mod ROWS, and the rows' index and bank mask.
    cyclic_steps: CyclicSteps,
    row_index: Vec<Constant<Word>>,
    cyclic_bank_mask: Vec<Constant<Word>>,
    // Locals.
    /// TH << b and TW << b where stride bit b is set.
    th_term: Vec<Signal<Local, Word>>,
    tw_term: Vec<Signal<Local, Word>>,
    rdx: Vec<Signal<Local, Word>>,
    rdy: Vec<Signal<Local, Word>>,
    rused: Vec<Signal<Local, Bit>>,
    chain_x: Vec<Signal<Local, Word>>,
    chain_y: Vec<Signal<Local, Word>>,
    /// k*C_out + oc0, and C_out - oc0 (output channels left).
    w_base: Signal<Local, Word>,
    oc_left: Signal<Local, Word>,
    yb: Signal<Local, Word>,
    xb: Signal<Local, Word>,
    ry: Vec<Signal<Local, Word>>,
    rx: Vec<Signal<Local, Word>>,
    rd: Vec<Signal<Local, Bit>>,
    last_kj: Signal<Local, Bit>,
    last_ki: Signal<Local, Bit>,
    last_c: Signal<Local, Bit>,
    tile_end: Signal<Local, Bit>,
    last_tx: Signal<Local, Bit>,
    last_ty: Signal<Local, Bit>,
    last_ct: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    load1: Signal<Local, Bit>,
    // ---- Packed rows (`AccelConfig::packed_rows`; one entry each, none
    // without them): the activation address of a step's row, (c*H + y) *
    // P + x with P = W rounded up to out_lanes, stepped by adders through
    // the loop nest and offset per row by a register chain.
    /// P: W rounded up to out_lanes.
    pitch: Vec<PackedPitch>,
    /// H * P, S * P, TH * (S * P) and pad * P.
    hp_mul: Vec<SignedMul>,
    sp_mul: Vec<SignedMul>,
    thsp_mul: Vec<SignedMul>,
    padp_mul: Vec<SignedMul>,
    hp_q: Vec<Reg<Word>>,
    sp_q: Vec<Reg<Word>>,
    thsp_q: Vec<Reg<Word>>,
    /// -(pad * P + pad): the address of input (-pad, -pad) of channel 0.
    npp_q: Vec<Reg<Word>>,
    /// P - (K - 1): from tap (ki, K - 1) to (ki + 1, 0).
    kstep_q: Vec<Reg<Word>>,
    /// S + S*P - TW*S: from a tile row's last pixel to the next row's first.
    wrap_inc: Vec<Signal<Local, Word>>,
    /// Per row r >= 1 (index r - 1): i*S*P + j*S, a chain like `row_dx`.
    row_off: Vec<Reg<Word>>,
    roff: Vec<Signal<Local, Word>>,
    /// S0: ki*P + kj; c*H*P + the tile's origin; the tile's origin
    /// (oh0*S - pad)*P + ow0*S - pad; the origin of its row of tiles.
    kb0: Vec<Reg<Word>>,
    cb0: Vec<Reg<Word>>,
    tb0: Vec<Reg<Word>>,
    rb0: Vec<Reg<Word>>,
    /// cb0 + kb0: the address of row 0's input.
    ab: Vec<Signal<Local, Word>>,
    next_row: Vec<Signal<Local, Word>>,
    next_tile: Vec<Signal<Local, Word>>,
}

impl LoopNest {
    pub fn new(p: &ControllerParams) -> LoopNest {
        let (rows, cols) = (p.rows, p.cols);
        assert!((1..=64).contains(&rows) && (1..=64).contains(&cols));
        let banked = p.banked_addr_bits.is_some();
        assert!(
            !(banked && p.packed_rows),
            "banked activations have no row pitch"
        );
        let cyclic = banked && p.cyclic;
        assert!(
            !cyclic || rows.is_power_of_two(),
            "cyclic banks: ROWS a power of two"
        );
        // The banked layout's steps where the activations are banked and
        // not cyclic.
        let banked = banked && !cyclic;
        LoopNest {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            c_in: Default::default(),
            c_out: Default::default(),
            h: Default::default(),
            w: Default::default(),
            kernel: Default::default(),
            stride: Default::default(),
            padding: Default::default(),
            tile_h: Default::default(),
            tile_w: Default::default(),
            advance: Default::default(),
            bank_row_words: one_if(banked, Default::default()),
            bank_group_words: one_if(banked, Default::default()),
            bank_channel_words: one_if(banked, Default::default()),
            bank_pad_y_phase: one_if(banked, Default::default()),
            bank_pad_y_bank: one_if(banked, Default::default()),
            bank_pad_y_part: one_if(banked, Default::default()),
            bank_pad_y_index: one_if(banked, Default::default()),
            bank_pad_x_phase: one_if(banked, Default::default()),
            bank_pad_x_bank: one_if(banked, Default::default()),
            bank_pad_x_part: one_if(banked, Default::default()),
            act_addr: vec_of(rows),
            act_rd: vec_of(rows),
            cyclic_constants: vec_of(if cyclic {
                CYCLIC_CONSTANT_NAMES.len()
            } else {
                0
            }),
            act_row_bank: vec_of(if banked || cyclic { rows } else { 0 }),
            mask_rd: vec_of(if banked || cyclic { rows } else { 0 }),
            mask_addr: vec_of(rows),
            w_addr: vec_of(cols),
            w_rd: vec_of(cols),
            step_valid: Default::default(),
            step_row_read: vec_of(rows),
            step_col_read: vec_of(cols),
            step_tile_last: Default::default(),
            step_layer_last: Default::default(),
            step_c: Default::default(),
            step_k: Default::default(),
            step_tile: Default::default(),
            step_ct: Default::default(),
            step_oh0: Default::default(),
            step_ow0: Default::default(),
            step_ry: Default::default(),
            step_rx: Default::default(),
            zero: konst(0),
            one: konst(1),
            coord_mask: konst(mask(p.coord_bits)),
            addr_mask: konst(mask(p.addr_bits)),
            chan_mask: konst(mask(p.chan_bits)),
            count_mask: konst(mask(crate::controller::COUNTER_BITS)),
            reg_mask: konst(mask(p.dim_bits)),
            k_mask: konst(mask(p.k_bits)),
            small_mask: konst(mask(8)),
            act_col_mask: konst(mask(p.act_pitch_log2)),
            mask_col_mask: konst(mask(p.mask_pitch_log2)),
            region_log2: konst(p.region_log2.into()),
            region_m1: konst((1u64 << p.region_log2) - 1),
            act_pitch_log2: konst(p.act_pitch_log2.into()),
            mask_pitch_log2: konst(p.mask_pitch_log2.into()),
            cols_n: konst(cols as u64),
            col_index: (0..cols as u64).map(konst).collect(),
            stride_bit: (0..STRIDE_BITS).map(|b| konst(1 << b)).collect(),
            stride_shift: (0..STRIDE_BITS).map(|b| konst(b.into())).collect(),
            setup_last: konst(rows as u64),
            cin_q: Default::default(),
            cout_q: Default::default(),
            h_q: Default::default(),
            w_q: Default::default(),
            k_q: Default::default(),
            s_q: Default::default(),
            p_q: Default::default(),
            th_q: Default::default(),
            tw_q: Default::default(),
            setup: Default::default(),
            setup_n: Default::default(),
            hlim_q: Default::default(),
            wlim_q: Default::default(),
            neg_p_q: Default::default(),
            rh_q: Default::default(),
            ths_q: Default::default(),
            tws_q: Default::default(),
            row_dx: vec_of(rows - 1),
            row_dy: vec_of(rows - 1),
            row_used: vec_of(rows - 1),
            s0_valid: Default::default(),
            c0: Default::default(),
            ki0: Default::default(),
            kj0: Default::default(),
            k0: Default::default(),
            ch0: Default::default(),
            crh0: Default::default(),
            kc0: Default::default(),
            ct0: Default::default(),
            oc0: Default::default(),
            tile0: Default::default(),
            oh0: Default::default(),
            ow0: Default::default(),
            iyp0: Default::default(),
            ixp0: Default::default(),
            hrem0: Default::default(),
            wrem0: Default::default(),
            s1_valid: Default::default(),
            s1_act_addr: vec_of(rows),
            s1_mask_addr: vec_of(rows),
            s1_rd: vec_of(rows),
            s1_w_addr: vec_of(cols),
            s1_w_rd: vec_of(cols),
            s1_tile_last: Default::default(),
            s1_layer_last: Default::default(),
            s1_c: Default::default(),
            s1_k: Default::default(),
            s1_tile: Default::default(),
            s1_ct: Default::default(),
            s1_oh0: Default::default(),
            s1_ow0: Default::default(),
            s1_ry: Default::default(),
            s1_rx: Default::default(),
            bank_steps: BankSteps::new(rows, p.banked_addr_bits.unwrap_or(1), banked),
            cyclic_steps: CyclicSteps::new(rows, rows, p.banked_addr_bits.unwrap_or(1), cyclic),
            row_index: (0..if cyclic { rows as u64 } else { 0 })
                .map(konst)
                .collect(),
            cyclic_bank_mask: (0..usize::from(cyclic))
                .map(|_| konst(rows as u64 - 1))
                .collect(),
            s1_row_bank: (0..if banked || cyclic { rows } else { 0 })
                .map(|_| {
                    crate::leaf::WordReg::unsigned(crate::bank_steps::bank_index_bits(rows as u32))
                })
                .collect(),
            th_term: vec_of(STRIDE_BITS as usize),
            tw_term: vec_of(STRIDE_BITS as usize),
            rdx: vec_of(rows),
            rdy: vec_of(rows),
            rused: vec_of(rows),
            chain_x: vec_of(rows - 1),
            chain_y: vec_of(rows - 1),
            w_base: Default::default(),
            oc_left: Default::default(),
            yb: Default::default(),
            xb: Default::default(),
            ry: vec_of(rows),
            rx: vec_of(rows),
            rd: vec_of(rows),
            last_kj: Default::default(),
            last_ki: Default::default(),
            last_c: Default::default(),
            tile_end: Default::default(),
            last_tx: Default::default(),
            last_ty: Default::default(),
            last_ct: Default::default(),
            issue: Default::default(),
            load1: Default::default(),
            pitch: one_if(p.packed_rows, PackedPitch::new(p.out_lanes)),
            hp_mul: one_if(
                p.packed_rows,
                SignedMul::new(p.dim_bits + 1, p.dim_bits + 1),
            ),
            sp_mul: one_if(
                p.packed_rows,
                SignedMul::new(p.dim_bits + 1, p.dim_bits + 1),
            ),
            thsp_mul: one_if(p.packed_rows, SignedMul::new(p.dim_bits + 1, p.addr_bits)),
            padp_mul: one_if(
                p.packed_rows,
                SignedMul::new(p.dim_bits + 1, p.dim_bits + 1),
            ),
            hp_q: one_if(p.packed_rows, Default::default()),
            sp_q: one_if(p.packed_rows, Default::default()),
            thsp_q: one_if(p.packed_rows, Default::default()),
            npp_q: one_if(p.packed_rows, Default::default()),
            kstep_q: one_if(p.packed_rows, Default::default()),
            wrap_inc: one_if(p.packed_rows, Default::default()),
            row_off: vec_of(if p.packed_rows { rows - 1 } else { 0 }),
            roff: vec_of(if p.packed_rows { rows } else { 0 }),
            kb0: one_if(p.packed_rows, Default::default()),
            cb0: one_if(p.packed_rows, Default::default()),
            tb0: one_if(p.packed_rows, Default::default()),
            rb0: one_if(p.packed_rows, Default::default()),
            ab: one_if(p.packed_rows, Default::default()),
            next_row: one_if(p.packed_rows, Default::default()),
            next_tile: one_if(p.packed_rows, Default::default()),
        }
    }
    fn packed_paths(&self) -> usize {
        self.kb0.len()
    }
    fn banked_paths(&self) -> usize {
        self.bank_row_words.len()
    }
    /// ROWS with stored-once activations (either layout), else 0.
    fn row_bank_rows(&self) -> usize {
        self.s1_row_bank.len()
    }
    /// 1 with the cyclic layout's reads, else 0.
    fn cyclic_paths(&self) -> usize {
        self.cyclic_bank_mask.len()
    }
    fn rows(&self) -> usize {
        self.act_addr.len()
    }
    fn cols(&self) -> usize {
        self.w_addr.len()
    }
    fn stride_terms(&self) -> usize {
        self.stride_bit.len()
    }
}

impl Logic for LoopNest {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            cin_q,
            cout_q,
            h_q,
            w_q,
            k_q,
            s_q,
            p_q,
            th_q,
            tw_q,
            setup,
            setup_n,
            hlim_q,
            wlim_q,
            neg_p_q,
            rh_q,
            ths_q,
            tws_q,
            s0_valid,
            c0,
            ki0,
            kj0,
            k0,
            ch0,
            crh0,
            kc0,
            ct0,
            oc0,
            tile0,
            oh0,
            ow0,
            iyp0,
            ixp0,
            hrem0,
            wrem0,
            s1_valid,
            s1_tile_last,
            s1_layer_last,
            s1_c,
            s1_k,
            s1_tile,
            s1_ct,
            s1_oh0,
            s1_ow0,
            s1_ry,
            s1_rx
        );
        self.cin_q.reset.next = self.reset.val();
        self.cout_q.reset.next = self.reset.val();
        self.h_q.reset.next = self.reset.val();
        self.w_q.reset.next = self.reset.val();
        self.k_q.reset.next = self.reset.val();
        self.s_q.reset.next = self.reset.val();
        self.p_q.reset.next = self.reset.val();
        self.th_q.reset.next = self.reset.val();
        self.tw_q.reset.next = self.reset.val();
        self.setup.reset.next = self.reset.val();
        self.setup_n.reset.next = self.reset.val();
        self.hlim_q.reset.next = self.reset.val();
        self.wlim_q.reset.next = self.reset.val();
        self.neg_p_q.reset.next = self.reset.val();
        self.rh_q.reset.next = self.reset.val();
        self.ths_q.reset.next = self.reset.val();
        self.tws_q.reset.next = self.reset.val();
        self.s0_valid.reset.next = self.reset.val();
        self.c0.reset.next = self.reset.val();
        self.ki0.reset.next = self.reset.val();
        self.kj0.reset.next = self.reset.val();
        self.k0.reset.next = self.reset.val();
        self.ch0.reset.next = self.reset.val();
        self.crh0.reset.next = self.reset.val();
        self.kc0.reset.next = self.reset.val();
        self.ct0.reset.next = self.reset.val();
        self.oc0.reset.next = self.reset.val();
        self.tile0.reset.next = self.reset.val();
        self.oh0.reset.next = self.reset.val();
        self.ow0.reset.next = self.reset.val();
        self.iyp0.reset.next = self.reset.val();
        self.ixp0.reset.next = self.reset.val();
        self.hrem0.reset.next = self.reset.val();
        self.wrem0.reset.next = self.reset.val();
        self.s1_valid.reset.next = self.reset.val();
        self.s1_tile_last.reset.next = self.reset.val();
        self.s1_layer_last.reset.next = self.reset.val();
        self.s1_c.reset.next = self.reset.val();
        self.s1_k.reset.next = self.reset.val();
        self.s1_tile.reset.next = self.reset.val();
        self.s1_ct.reset.next = self.reset.val();
        self.s1_oh0.reset.next = self.reset.val();
        self.s1_ow0.reset.next = self.reset.val();
        self.s1_ry.reset.next = self.reset.val();
        self.s1_rx.reset.next = self.reset.val();
        // S0 holds its counters masked to their widths, so synthesis sees
        // constant upper bits on every path into them.
        self.c0.d.next = self.c0.q.val() & self.reg_mask.val();
        self.ki0.d.next = self.ki0.q.val() & self.reg_mask.val();
        self.kj0.d.next = self.kj0.q.val() & self.reg_mask.val();
        self.k0.d.next = self.k0.q.val() & self.k_mask.val();
        self.ch0.d.next = self.ch0.q.val() & self.addr_mask.val();
        self.crh0.d.next = self.crh0.q.val() & self.addr_mask.val();
        self.kc0.d.next = self.kc0.q.val() & self.addr_mask.val();
        self.ct0.d.next = self.ct0.q.val() & self.reg_mask.val();
        self.oc0.d.next = self.oc0.q.val() & self.chan_mask.val();
        self.tile0.d.next = self.tile0.q.val() & self.count_mask.val();
        self.oh0.d.next = self.oh0.q.val() & self.coord_mask.val();
        self.ow0.d.next = self.ow0.q.val() & self.coord_mask.val();
        self.iyp0.d.next = self.iyp0.q.val() & self.coord_mask.val();
        self.ixp0.d.next = self.ixp0.q.val() & self.coord_mask.val();
        self.hrem0.d.next = self.hrem0.q.val() & self.coord_mask.val();
        self.wrem0.d.next = self.wrem0.q.val() & self.coord_mask.val();
        self.setup_n.d.next = self.setup_n.q.val() & self.small_mask.val();
        for r in 0..self.rows() {
            self.s1_act_addr[r].clock.next = self.clock.val();
            self.s1_act_addr[r].reset.next = self.reset.val();
            self.s1_act_addr[r].d.next = self.s1_act_addr[r].q.val();
            self.s1_mask_addr[r].clock.next = self.clock.val();
            self.s1_mask_addr[r].reset.next = self.reset.val();
            self.s1_mask_addr[r].d.next = self.s1_mask_addr[r].q.val();
            self.s1_rd[r].clock.next = self.clock.val();
            self.s1_rd[r].reset.next = self.reset.val();
            self.s1_rd[r].d.next = self.s1_rd[r].q.val();
        }
        for r in 1..self.rows() {
            self.row_dx[r - 1].clock.next = self.clock.val();
            self.row_dx[r - 1].reset.next = self.reset.val();
            self.row_dy[r - 1].clock.next = self.clock.val();
            self.row_dy[r - 1].reset.next = self.reset.val();
            self.row_used[r - 1].clock.next = self.clock.val();
            self.row_used[r - 1].reset.next = self.reset.val();
        }
        for j in 0..self.cols() {
            self.s1_w_addr[j].clock.next = self.clock.val();
            self.s1_w_addr[j].reset.next = self.reset.val();
            self.s1_w_addr[j].d.next = self.s1_w_addr[j].q.val();
            self.s1_w_rd[j].clock.next = self.clock.val();
            self.s1_w_rd[j].reset.next = self.reset.val();
            self.s1_w_rd[j].d.next = self.s1_w_rd[j].q.val();
        }

        // ---- Layer constants, recomputed every cycle from the latched
        // registers (settled from the second SETUP cycle on).
        self.hlim_q.d.next = (self.h_q.q.val() + self.p_q.q.val() + self.p_q.q.val()
            - self.k_q.q.val())
            & self.coord_mask.val();
        self.wlim_q.d.next = (self.w_q.q.val() + self.p_q.q.val() + self.p_q.q.val()
            - self.k_q.q.val())
            & self.coord_mask.val();
        self.neg_p_q.d.next = (self.zero.val() - self.p_q.q.val()) & self.coord_mask.val();
        self.rh_q.d.next = (self.h_q.q.val() + self.region_m1.val()) >> self.region_log2.val();
        // TH * S and TW * S by shift-and-add over the stride's five bits.
        for b in 0..self.stride_terms() {
            self.th_term[b].next = self.zero.val();
            self.tw_term[b].next = self.zero.val();
            if (self.s_q.q.val() & self.stride_bit[b].val()).any() {
                self.th_term[b].next = self.th_q.q.val() << self.stride_shift[b].val();
                self.tw_term[b].next = self.tw_q.q.val() << self.stride_shift[b].val();
            }
        }
        self.ths_q.d.next = (self.th_term[0].val()
            + self.th_term[1].val()
            + self.th_term[2].val()
            + self.th_term[3].val()
            + self.th_term[4].val())
            & self.coord_mask.val();
        self.tws_q.d.next = (self.tw_term[0].val()
            + self.tw_term[1].val()
            + self.tw_term[2].val()
            + self.tw_term[3].val()
            + self.tw_term[4].val())
            & self.coord_mask.val();

        // ---- Row offsets: row r holds pixel (i, j) = (r / TW, r % TW) of
        // the tile; (j*S, i*S) and r < TH*TW follow from row r - 1.
        self.rdx[0].next = self.zero.val();
        self.rdy[0].next = self.zero.val();
        self.rused[0].next = true;
        for r in 1..self.rows() {
            self.rdx[r].next = self.row_dx[r - 1].q.val();
            self.rdy[r].next = self.row_dy[r - 1].q.val();
            self.rused[r].next = self.row_used[r - 1].q.val();
            self.chain_x[r - 1].next = self.rdx[r - 1].val() + self.s_q.q.val();
            self.chain_y[r - 1].next = self.rdy[r - 1].val() + self.s_q.q.val();
            // Every path into the chain is masked, so synthesis sees the
            // offsets' upper bits constant (and the compares on them narrow).
            self.row_dx[r - 1].d.next = self.chain_x[r - 1].val() & self.coord_mask.val();
            self.row_dy[r - 1].d.next = self.rdy[r - 1].val() & self.coord_mask.val();
            self.row_used[r - 1].d.next = self.rused[r - 1].val();
            if self.chain_x[r - 1].val() == self.tws_q.q.val() {
                self.row_dx[r - 1].d.next = self.zero.val();
                self.row_dy[r - 1].d.next = self.chain_y[r - 1].val() & self.coord_mask.val();
                if self.chain_y[r - 1].val() == self.ths_q.q.val() {
                    self.row_used[r - 1].d.next = false;
                }
            }
        }

        // ---- S1's reads are issued in the cycle the next stage takes its
        // step; S1 refills from S0 then (or while it is empty).
        self.issue.next = self.s1_valid.q.val() & self.advance.val();
        self.load1.next = !self.s1_valid.q.val() | self.advance.val();
        for r in 0..self.rows() {
            self.act_addr[r].next = self.s1_act_addr[r].q.val();
            self.mask_addr[r].next = self.s1_mask_addr[r].q.val();
            self.act_rd[r].next = self.issue.val() & self.s1_rd[r].q.val();
            self.step_row_read[r].next = self.s1_rd[r].q.val();
        }
        for j in 0..self.cols() {
            self.w_addr[j].next = self.s1_w_addr[j].q.val();
            self.w_rd[j].next = self.issue.val() & self.s1_w_rd[j].q.val();
            self.step_col_read[j].next = self.s1_w_rd[j].q.val();
        }
        self.step_valid.next = self.s1_valid.q.val();
        self.step_tile_last.next = self.s1_tile_last.q.val();
        self.step_layer_last.next = self.s1_layer_last.q.val();
        self.step_c.next = self.s1_c.q.val();
        self.step_k.next = self.s1_k.q.val();
        self.step_tile.next = self.s1_tile.q.val();
        self.step_ct.next = self.s1_ct.q.val();
        self.step_oh0.next = self.s1_oh0.q.val();
        self.step_ow0.next = self.s1_ow0.q.val();
        self.step_ry.next = self.s1_ry.q.val();
        self.step_rx.next = self.s1_rx.q.val();

        // ---- S0 -> S1: the addresses of the step S0 describes.
        self.last_kj.next = (self.kj0.q.val() + self.one.val()) == self.k_q.q.val();
        self.last_ki.next = (self.ki0.q.val() + self.one.val()) == self.k_q.q.val();
        self.last_c.next = (self.c0.q.val() + self.one.val()) == self.cin_q.q.val();
        self.tile_end.next = self.last_kj.val() & self.last_ki.val() & self.last_c.val();
        self.last_tx.next = self.wrem0.q.val() < self.tws_q.q.val();
        self.last_ty.next = self.hrem0.q.val() < self.ths_q.q.val();
        self.last_ct.next = (self.oc0.q.val() + self.cols_n.val()) >= self.cout_q.q.val();
        self.w_base.next = (self.kc0.q.val() + self.oc0.q.val()) & self.addr_mask.val();
        self.oc_left.next = (self.cout_q.q.val() - self.oc0.q.val()) & self.reg_mask.val();
        self.yb.next = (self.iyp0.q.val() + self.ki0.q.val()) & self.coord_mask.val();
        self.xb.next = (self.ixp0.q.val() + self.kj0.q.val()) & self.coord_mask.val();
        for r in 0..self.rows() {
            self.ry[r].next = (self.yb.val() + self.rdy[r].val()) & self.coord_mask.val();
            self.rx[r].next = (self.xb.val() + self.rdx[r].val()) & self.coord_mask.val();
            // The row's pixel is in the tile and the output; its input is
            // not padding (negative coordinates are large unsigned).
            self.rd[r].next = self.rused[r].val()
                & (self.rdy[r].val() <= self.hrem0.q.val())
                & (self.rdx[r].val() <= self.wrem0.q.val())
                & (self.ry[r].val() < self.h_q.q.val())
                & (self.rx[r].val() < self.w_q.q.val());
        }
        if self.load1.val() {
            self.s1_valid.d.next = self.s0_valid.q.val();
            for r in 0..self.rows() {
                self.s1_rd[r].d.next = self.rd[r].val();
                // x < W <= P_A (and x / R < P_M): the column fills the
                // row's low address bits, an OR instead of an adder.
                self.s1_act_addr[r].d.next = (((self.ch0.q.val() + self.ry[r].val())
                    << self.act_pitch_log2.val())
                    | (self.rx[r].val() & self.act_col_mask.val()))
                    & self.addr_mask.val();
                self.s1_mask_addr[r].d.next = (((self.crh0.q.val()
                    + (self.ry[r].val() >> self.region_log2.val()))
                    << self.mask_pitch_log2.val())
                    | ((self.rx[r].val() >> self.region_log2.val()) & self.mask_col_mask.val()))
                    & self.addr_mask.val();
            }
            for j in 0..self.cols() {
                self.s1_w_rd[j].d.next = self.col_index[j].val() < self.oc_left.val();
                self.s1_w_addr[j].d.next =
                    (self.w_base.val() + self.col_index[j].val()) & self.addr_mask.val();
            }
            self.s1_tile_last.d.next = self.tile_end.val();
            self.s1_layer_last.d.next =
                self.tile_end.val() & self.last_tx.val() & self.last_ty.val() & self.last_ct.val();
            self.s1_c.d.next = self.c0.q.val();
            self.s1_k.d.next = self.k0.q.val();
            self.s1_tile.d.next = self.tile0.q.val();
            self.s1_ct.d.next = self.ct0.q.val();
            self.s1_oh0.d.next = self.oh0.q.val();
            self.s1_ow0.d.next = self.ow0.q.val();
            // Region of row 0's input; all ones when row 0 reads padding.
            self.s1_ry.d.next = self.reg_mask.val();
            self.s1_rx.d.next = self.reg_mask.val();
            if self.rd[0].val() {
                self.s1_ry.d.next =
                    (self.ry[0].val() >> self.region_log2.val()) & self.reg_mask.val();
                self.s1_rx.d.next =
                    (self.rx[0].val() >> self.region_log2.val()) & self.reg_mask.val();
            }
        }

        // ---- Stored-once activations (either layout): S1's row banks, held
        // between steps (the layout's section below loads them), and each
        // row's bank and mask read.
        for r in 0..self.row_bank_rows() {
            self.s1_row_bank[r].clock.next = self.clock.val();
            self.s1_row_bank[r].reset.next = self.reset.val();
            self.s1_row_bank[r].d.next = self.s1_row_bank[r].q.val();
            self.act_row_bank[r].next = self.s1_row_bank[r].q.val();
            self.mask_rd[r].next = self.issue.val() & self.s1_rd[r].q.val();
        }

        // ---- Banked activations: S1 takes each bank's address and each
        // row's bank of the step S0 describes; every bank of the tile
        // (bank b < TH * TW, as row b) is read with the step, and a row
        // that does not read ignores its bank.
        for k in 0..self.banked_paths() {
            self.bank_steps.clock[k].next = self.clock.val();
            self.bank_steps.reset[k].next = self.reset.val();
            self.bank_steps.start[k].next = self.start.val();
            self.bank_steps.stride[k].next = self.s_q.q.val();
            self.bank_steps.tile_h[k].next = self.th_q.q.val();
            self.bank_steps.tile_w[k].next = self.tw_q.q.val();
            self.bank_steps.row_words[k].next = self.bank_row_words[k].val();
            self.bank_steps.group_words[k].next = self.bank_group_words[k].val();
            self.bank_steps.channel_words[k].next = self.bank_channel_words[k].val();
            self.bank_steps.pad_y_phase[k].next = self.bank_pad_y_phase[k].val();
            self.bank_steps.pad_y_bank[k].next = self.bank_pad_y_bank[k].val();
            self.bank_steps.pad_y_part[k].next = self.bank_pad_y_part[k].val();
            self.bank_steps.pad_y_index[k].next = self.bank_pad_y_index[k].val();
            self.bank_steps.pad_x_phase[k].next = self.bank_pad_x_phase[k].val();
            self.bank_steps.pad_x_bank[k].next = self.bank_pad_x_bank[k].val();
            self.bank_steps.pad_x_part[k].next = self.bank_pad_x_part[k].val();
            self.bank_steps.advance[k].next = self.load1.val() & self.s0_valid.q.val();
            self.bank_steps.last_kj[k].next = self.last_kj.val();
            self.bank_steps.last_ki[k].next = self.last_ki.val();
            self.bank_steps.last_c[k].next = self.last_c.val();
            self.bank_steps.last_tx[k].next = self.last_tx.val();
            self.bank_steps.last_ty[k].next = self.last_ty.val();
            for r in 0..self.rows() {
                if self.load1.val() {
                    self.s1_act_addr[r].d.next = self.bank_steps.bank_addr[r].val();
                    self.s1_row_bank[r].d.next = self.bank_steps.row_bank[r].val();
                }
                self.act_rd[r].next = self.issue.val() & self.rused[r].val();
            }
        }

        // ---- Cyclic layout: S1 takes each bank's word and the rotation of
        // the step S0 describes (row r's bank (d + r) mod ROWS); every bank
        // is read with the step, and a row that does not read ignores its
        // bank.
        for k in 0..self.cyclic_paths() {
            self.cyclic_steps.clock[k].next = self.clock.val();
            self.cyclic_steps.reset[k].next = self.reset.val();
            self.cyclic_steps.start[k].next = self.start.val();
            self.cyclic_steps.stride[k].next = self.s_q.q.val();
            self.cyclic_steps.tile_w[k].next = self.tw_q.q.val();
            self.cyclic_steps.band_len[k].next = self.cyclic_constants[0].val();
            self.cyclic_steps.tile_row_words[k].next = self.cyclic_constants[1].val();
            self.cyclic_steps.channel_words[k].next = self.cyclic_constants[2].val();
            self.cyclic_steps.band_words[k].next = self.cyclic_constants[3].val();
            self.cyclic_steps.pad_y_phase[k].next = self.cyclic_constants[4].val();
            self.cyclic_steps.pad_y_part[k].next = self.cyclic_constants[5].val();
            self.cyclic_steps.y_phase_step[k].next = self.cyclic_constants[6].val();
            self.cyclic_steps.y_group_step[k].next = self.cyclic_constants[7].val();
            self.cyclic_steps.pad_x_phase[k].next = self.cyclic_constants[8].val();
            self.cyclic_steps.pad_x_bank[k].next = self.cyclic_constants[9].val();
            self.cyclic_steps.pad_x_part[k].next = self.cyclic_constants[10].val();
            self.cyclic_steps.x_phase_step[k].next = self.cyclic_constants[11].val();
            self.cyclic_steps.x_bank_step[k].next = self.cyclic_constants[12].val();
            self.cyclic_steps.x_group_step[k].next = self.cyclic_constants[13].val();
            self.cyclic_steps.advance[k].next = self.load1.val() & self.s0_valid.q.val();
            self.cyclic_steps.last_kj[k].next = self.last_kj.val();
            self.cyclic_steps.last_ki[k].next = self.last_ki.val();
            self.cyclic_steps.last_c[k].next = self.last_c.val();
            self.cyclic_steps.last_tx[k].next = self.last_tx.val();
            self.cyclic_steps.last_ty[k].next = self.last_ty.val();
            for r in 0..self.rows() {
                if self.load1.val() {
                    self.s1_act_addr[r].d.next = self.cyclic_steps.bank_addr[r].val();
                    self.s1_row_bank[r].d.next = (self.cyclic_steps.rotation[k].val()
                        + self.row_index[r].val())
                        & self.cyclic_bank_mask[k].val();
                }
                // (Bank r serves row (r - d) mod ROWS: every bank reads.)
                self.act_rd[r].next = self.issue.val();
            }
        }

        // ---- S0: advance the loop nest (kj fastest, then ki, c, pixel
        // tile left to right and top to bottom, channel tile).
        if self.load1.val() & self.s0_valid.q.val() {
            self.k0.d.next = (self.k0.q.val() + self.one.val()) & self.k_mask.val();
            self.kc0.d.next = (self.kc0.q.val() + self.cout_q.q.val()) & self.addr_mask.val();
            self.kj0.d.next = (self.kj0.q.val() + self.one.val()) & self.reg_mask.val();
            if self.last_kj.val() {
                self.kj0.d.next = self.zero.val();
                self.ki0.d.next = (self.ki0.q.val() + self.one.val()) & self.reg_mask.val();
                if self.last_ki.val() {
                    self.ki0.d.next = self.zero.val();
                    self.c0.d.next = (self.c0.q.val() + self.one.val()) & self.reg_mask.val();
                    self.ch0.d.next = (self.ch0.q.val() + self.h_q.q.val()) & self.addr_mask.val();
                    self.crh0.d.next =
                        (self.crh0.q.val() + self.rh_q.q.val()) & self.addr_mask.val();
                    if self.last_c.val() {
                        self.c0.d.next = self.zero.val();
                        self.ch0.d.next = self.zero.val();
                        self.crh0.d.next = self.zero.val();
                        self.k0.d.next = self.zero.val();
                        self.kc0.d.next = self.zero.val();
                        self.tile0.d.next =
                            (self.tile0.q.val() + self.one.val()) & self.count_mask.val();
                        self.ow0.d.next =
                            (self.ow0.q.val() + self.tw_q.q.val()) & self.coord_mask.val();
                        self.ixp0.d.next =
                            (self.ixp0.q.val() + self.tws_q.q.val()) & self.coord_mask.val();
                        self.wrem0.d.next =
                            (self.wrem0.q.val() - self.tws_q.q.val()) & self.coord_mask.val();
                        if self.last_tx.val() {
                            self.ow0.d.next = self.zero.val();
                            self.ixp0.d.next = self.neg_p_q.q.val();
                            self.wrem0.d.next = self.wlim_q.q.val();
                            self.oh0.d.next =
                                (self.oh0.q.val() + self.th_q.q.val()) & self.coord_mask.val();
                            self.iyp0.d.next =
                                (self.iyp0.q.val() + self.ths_q.q.val()) & self.coord_mask.val();
                            self.hrem0.d.next =
                                (self.hrem0.q.val() - self.ths_q.q.val()) & self.coord_mask.val();
                            if self.last_ty.val() {
                                self.oh0.d.next = self.zero.val();
                                self.iyp0.d.next = self.neg_p_q.q.val();
                                self.hrem0.d.next = self.hlim_q.q.val();
                                self.ct0.d.next =
                                    (self.ct0.q.val() + self.one.val()) & self.reg_mask.val();
                                self.oc0.d.next =
                                    (self.oc0.q.val() + self.cols_n.val()) & self.chan_mask.val();
                                if self.last_ct.val() {
                                    self.s0_valid.d.next = false;
                                }
                            }
                        }
                    }
                }
            }
        }

        // ---- Packed rows: the layer's constants settle in SETUP's first two
        // cycles (TH * S * P in its third), the row chain like `row_dx`;
        // S0's bases step with the loop nest; S1's row addresses are a
        // base plus the row's offset.
        for k in 0..self.packed_paths() {
            self.hp_q[k].clock.next = self.clock.val();
            self.sp_q[k].clock.next = self.clock.val();
            self.thsp_q[k].clock.next = self.clock.val();
            self.npp_q[k].clock.next = self.clock.val();
            self.kstep_q[k].clock.next = self.clock.val();
            self.kb0[k].clock.next = self.clock.val();
            self.cb0[k].clock.next = self.clock.val();
            self.tb0[k].clock.next = self.clock.val();
            self.rb0[k].clock.next = self.clock.val();
            self.hp_q[k].reset.next = self.reset.val();
            self.sp_q[k].reset.next = self.reset.val();
            self.thsp_q[k].reset.next = self.reset.val();
            self.npp_q[k].reset.next = self.reset.val();
            self.kstep_q[k].reset.next = self.reset.val();
            self.kb0[k].reset.next = self.reset.val();
            self.cb0[k].reset.next = self.reset.val();
            self.tb0[k].reset.next = self.reset.val();
            self.rb0[k].reset.next = self.reset.val();
            self.pitch[k].w.next = self.w_q.q.val();
            self.hp_mul[k].a.next = self.h_q.q.val();
            self.hp_mul[k].b.next = self.pitch[k].pitch.val();
            self.sp_mul[k].a.next = self.s_q.q.val();
            self.sp_mul[k].b.next = self.pitch[k].pitch.val();
            self.padp_mul[k].a.next = self.p_q.q.val();
            self.padp_mul[k].b.next = self.pitch[k].pitch.val();
            self.thsp_mul[k].a.next = self.th_q.q.val();
            self.thsp_mul[k].b.next = self.sp_q[k].q.val();
            self.hp_q[k].d.next = self.hp_mul[k].p.val() & self.addr_mask.val();
            self.sp_q[k].d.next = self.sp_mul[k].p.val() & self.addr_mask.val();
            self.thsp_q[k].d.next = self.thsp_mul[k].p.val() & self.addr_mask.val();
            self.npp_q[k].d.next = (self.zero.val() - self.padp_mul[k].p.val() - self.p_q.q.val())
                & self.addr_mask.val();
            self.kstep_q[k].d.next = (self.pitch[k].pitch.val() + self.one.val()
                - self.k_q.q.val())
                & self.addr_mask.val();
            self.wrap_inc[k].next = self.s_q.q.val() + self.sp_q[k].q.val() - self.tws_q.q.val();
            self.roff[0].next = self.zero.val();
            for r in 1..self.rows() {
                self.row_off[r - 1].clock.next = self.clock.val();
                self.row_off[r - 1].reset.next = self.reset.val();
                self.roff[r].next = self.row_off[r - 1].q.val();
                self.row_off[r - 1].d.next =
                    (self.roff[r - 1].val() + self.s_q.q.val()) & self.addr_mask.val();
                if self.chain_x[r - 1].val() == self.tws_q.q.val() {
                    self.row_off[r - 1].d.next =
                        (self.roff[r - 1].val() + self.wrap_inc[k].val()) & self.addr_mask.val();
                }
            }
            self.ab[k].next = self.cb0[k].q.val() + self.kb0[k].q.val();
            if self.load1.val() {
                for r in 0..self.rows() {
                    self.s1_act_addr[r].d.next =
                        (self.ab[k].val() + self.roff[r].val()) & self.addr_mask.val();
                }
            }
            self.kb0[k].d.next = self.kb0[k].q.val();
            self.cb0[k].d.next = self.cb0[k].q.val();
            self.tb0[k].d.next = self.tb0[k].q.val();
            self.rb0[k].d.next = self.rb0[k].q.val();
            // The origin of the next row of tiles (the first after the
            // last), and of the next tile (the next row's first after a
            // row's last).
            self.next_row[k].next =
                (self.rb0[k].q.val() + self.thsp_q[k].q.val()) & self.addr_mask.val();
            if self.last_ty.val() {
                self.next_row[k].next = self.npp_q[k].q.val();
            }
            self.next_tile[k].next =
                (self.tb0[k].q.val() + self.tws_q.q.val()) & self.addr_mask.val();
            if self.last_tx.val() {
                self.next_tile[k].next = self.next_row[k].val();
            }
            if self.load1.val() & self.s0_valid.q.val() {
                self.kb0[k].d.next = (self.kb0[k].q.val() + self.one.val()) & self.addr_mask.val();
                if self.last_kj.val() {
                    self.kb0[k].d.next =
                        (self.kb0[k].q.val() + self.kstep_q[k].q.val()) & self.addr_mask.val();
                    if self.last_ki.val() {
                        self.kb0[k].d.next = self.zero.val();
                        self.cb0[k].d.next =
                            (self.cb0[k].q.val() + self.hp_q[k].q.val()) & self.addr_mask.val();
                        if self.last_c.val() {
                            self.tb0[k].d.next = self.next_tile[k].val();
                            self.cb0[k].d.next = self.next_tile[k].val();
                            if self.last_tx.val() {
                                self.rb0[k].d.next = self.next_row[k].val();
                            }
                        }
                    }
                }
            }
            if self.setup.q.val() & (self.setup_n.q.val() == self.setup_last.val()) {
                self.kb0[k].d.next = self.zero.val();
                self.rb0[k].d.next = self.npp_q[k].q.val();
                self.tb0[k].d.next = self.npp_q[k].q.val();
                self.cb0[k].d.next = self.npp_q[k].q.val();
            }
        }

        // ---- SETUP: ROWS + 1 cycles for the row chain, then the first step.
        if self.setup.q.val() {
            self.setup_n.d.next = (self.setup_n.q.val() + self.one.val()) & self.small_mask.val();
            if self.setup_n.q.val() == self.setup_last.val() {
                self.setup.d.next = false;
                self.s0_valid.d.next = true;
                self.c0.d.next = self.zero.val();
                self.ki0.d.next = self.zero.val();
                self.kj0.d.next = self.zero.val();
                self.k0.d.next = self.zero.val();
                self.ch0.d.next = self.zero.val();
                self.crh0.d.next = self.zero.val();
                self.kc0.d.next = self.zero.val();
                self.ct0.d.next = self.zero.val();
                self.oc0.d.next = self.zero.val();
                self.tile0.d.next = self.zero.val();
                self.oh0.d.next = self.zero.val();
                self.ow0.d.next = self.zero.val();
                self.iyp0.d.next = self.neg_p_q.q.val();
                self.ixp0.d.next = self.neg_p_q.q.val();
                self.hrem0.d.next = self.hlim_q.q.val();
                self.wrem0.d.next = self.wlim_q.q.val();
            }
        }

        // ---- `start` latches the layer and restarts SETUP.
        if self.start.val() {
            self.cin_q.d.next = self.c_in.val() & self.reg_mask.val();
            self.cout_q.d.next = self.c_out.val() & self.reg_mask.val();
            self.h_q.d.next = self.h.val() & self.reg_mask.val();
            self.w_q.d.next = self.w.val() & self.reg_mask.val();
            self.k_q.d.next = self.kernel.val() & self.reg_mask.val();
            self.s_q.d.next = self.stride.val() & self.reg_mask.val();
            self.p_q.d.next = self.padding.val() & self.reg_mask.val();
            self.th_q.d.next = self.tile_h.val() & self.reg_mask.val();
            self.tw_q.d.next = self.tile_w.val() & self.reg_mask.val();
            self.setup.d.next = true;
            self.setup_n.d.next = self.zero.val();
            self.s0_valid.d.next = false;
            self.s1_valid.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::settle;
    use drq_arch::banked::{BankedMap, Reader, WalkConstants};
    use drq_arch::AccelConfig;

    /// A layer's geometry as the controller's ports take it.
    #[derive(Debug, Clone, Copy)]
    struct Geometry {
        c_in: u64,
        c_out: u64,
        h: u64,
        w: u64,
        kernel: u64,
        stride: u64,
        padding: u64,
        tile_h: u64,
        tile_w: u64,
    }

    /// What one step reads and is: per row the activation and mask word
    /// (None: no read), per column the weight word, and its fields.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Step {
        rows: Vec<Option<(u64, u64)>>,
        cols: Vec<Option<u64>>,
        c: u64,
        k: u64,
        channel_tile: u64,
        oh0: u64,
        ow0: u64,
        tile_last: bool,
        layer_last: bool,
    }

    /// The loop nest of docs/spec.md §4 written out: channel tile, pixel
    /// tile (rows of tiles top to bottom, left to right), c, ki, kj; row r
    /// holds tile pixel (r / TW, r % TW); a row reads if its pixel is in
    /// the output and its input is not padding, a column if its output
    /// channel exists.
    fn walk(cfg: &AccelConfig, g: Geometry) -> Vec<Step> {
        walk_with(cfg, g, |c, y, x| cfg.act_addr(c, g.h, g.w, y, x))
    }

    /// `walk` with the activation address of (c, y, x) given.
    fn walk_with(cfg: &AccelConfig, g: Geometry, act: impl Fn(u64, u64, u64) -> u64) -> Vec<Step> {
        let (rows, cols) = (u64::from(cfg.rows), u64::from(cfg.cols));
        let region = u64::from(cfg.region);
        let out_h = (g.h + 2 * g.padding - g.kernel) / g.stride + 1;
        let out_w = (g.w + 2 * g.padding - g.kernel) / g.stride + 1;
        let region_rows = g.h.div_ceil(region);
        let mut steps = Vec::new();
        for ct in 0..g.c_out.div_ceil(cols) {
            for oh0 in (0..out_h).step_by(g.tile_h as usize) {
                for ow0 in (0..out_w).step_by(g.tile_w as usize) {
                    for c in 0..g.c_in {
                        for ki in 0..g.kernel {
                            for kj in 0..g.kernel {
                                let k = (c * g.kernel + ki) * g.kernel + kj;
                                let read_row = |r: u64| {
                                    let (oh, ow) = (oh0 + r / g.tile_w, ow0 + r % g.tile_w);
                                    let y = (oh * g.stride + ki) as i64 - g.padding as i64;
                                    let x = (ow * g.stride + kj) as i64 - g.padding as i64;
                                    let inside =
                                        r < g.tile_h * g.tile_w && oh < out_h && ow < out_w;
                                    let input = (0..g.h as i64).contains(&y)
                                        && (0..g.w as i64).contains(&x);
                                    (inside && input).then(|| {
                                        let (y, x) = (y as u64, x as u64);
                                        (
                                            act(c, y, x),
                                            cfg.mask_addr(c, region_rows, y / region, x / region),
                                        )
                                    })
                                };
                                let read_col = |j: u64| {
                                    let oc = ct * cols + j;
                                    (oc < g.c_out).then_some(k * g.c_out + oc)
                                };
                                let tile_last =
                                    c + 1 == g.c_in && ki + 1 == g.kernel && kj + 1 == g.kernel;
                                steps.push(Step {
                                    rows: (0..rows).map(read_row).collect(),
                                    cols: (0..cols).map(read_col).collect(),
                                    c,
                                    k,
                                    channel_tile: ct,
                                    oh0,
                                    ow0,
                                    tile_last,
                                    layer_last: false,
                                });
                            }
                        }
                    }
                }
            }
        }
        steps.last_mut().unwrap().layer_last = true;
        steps
    }

    fn tick(nest: &mut LoopNest) {
        nest.clock.next = Clock::from(false);
        settle(nest);
        nest.clock.next = Clock::from(true);
        settle(nest);
    }

    /// Starts the layer and takes its steps, `advance` high in the cycles
    /// `take` allows: the steps in the order taken, each with the reads
    /// issued as it was taken, and the cycle (after `start`'s) of the first.
    fn run(cfg: &AccelConfig, g: Geometry, take: impl Fn(u64) -> bool) -> (Vec<Step>, u64) {
        run_with(&ControllerParams::new(cfg), g, take)
    }

    /// `run` of a loop nest of any parameters; with banked activations the
    /// layout's constants are driven from `drq_arch::banked`, and a row's
    /// activation word is its bank (above bit 32) and that bank's address.
    fn run_with(
        params: &ControllerParams,
        g: Geometry,
        take: impl Fn(u64) -> bool,
    ) -> (Vec<Step>, u64) {
        let mut nest = LoopNest::new(params);
        nest.connect_all();
        nest.reset.next = true;
        tick(&mut nest);
        nest.reset.next = false;
        for (port, v) in [
            (&mut nest.c_in, g.c_in),
            (&mut nest.c_out, g.c_out),
            (&mut nest.h, g.h),
            (&mut nest.w, g.w),
            (&mut nest.kernel, g.kernel),
            (&mut nest.stride, g.stride),
            (&mut nest.padding, g.padding),
            (&mut nest.tile_h, g.tile_h),
            (&mut nest.tile_w, g.tile_w),
        ] {
            port.next = v.to_bits();
        }
        if let Some(bits) = params.banked_addr_bits {
            let reader = Reader {
                stride: g.stride as u32,
                tile_h: g.tile_h as u32,
                tile_w: g.tile_w as u32,
            };
            let map = BankedMap::new(g.c_in, g.h, g.w, reader);
            let k = WalkConstants::new(&map, g.padding as u32);
            let ports = [
                &mut nest.bank_row_words[0],
                &mut nest.bank_group_words[0],
                &mut nest.bank_channel_words[0],
                &mut nest.bank_pad_y_phase[0],
                &mut nest.bank_pad_y_bank[0],
                &mut nest.bank_pad_y_part[0],
                &mut nest.bank_pad_y_index[0],
                &mut nest.bank_pad_x_phase[0],
                &mut nest.bank_pad_x_bank[0],
                &mut nest.bank_pad_x_part[0],
            ];
            // In `CONSTANT_NAMES` order.
            for (port, v) in ports.into_iter().zip(k.values(bits)) {
                port.next = v.to_bits();
            }
        }
        nest.start.next = true;
        tick(&mut nest);
        nest.start.next = false;
        let mut steps = Vec::new();
        let mut first = None;
        for cycle in 1..20_000 {
            nest.advance.next = take(cycle);
            nest.clock.next = Clock::from(false);
            settle(&mut nest);
            if nest.step_valid.val() {
                first.get_or_insert(cycle);
            }
            for r in 0..nest.rows() {
                assert!(!nest.act_rd[r].val() || (nest.step_valid.val() && take(cycle)));
            }
            if nest.step_valid.val() && nest.advance.val() {
                let word = |s: &Signal<Out, Word>| s.val().to_u64();
                let banked = params.banked_addr_bits.is_some();
                let read = |r: usize| {
                    if !banked {
                        return nest.act_rd[r]
                            .val()
                            .then(|| (word(&nest.act_addr[r]), word(&nest.mask_addr[r])));
                    }
                    let bank = word(&nest.act_row_bank[r]) as usize;
                    nest.step_row_read[r].val().then(|| {
                        assert!(nest.act_rd[bank].val(), "row {r}'s bank {bank} is not read");
                        (
                            (bank as u64) << 32 | word(&nest.act_addr[bank]),
                            word(&nest.mask_addr[r]),
                        )
                    })
                };
                steps.push(Step {
                    rows: (0..nest.rows()).map(read).collect(),
                    cols: (0..nest.cols())
                        .map(|j| nest.w_rd[j].val().then(|| word(&nest.w_addr[j])))
                        .collect(),
                    c: word(&nest.step_c),
                    k: word(&nest.step_k),
                    channel_tile: word(&nest.step_ct),
                    oh0: word(&nest.step_oh0),
                    ow0: word(&nest.step_ow0),
                    tile_last: nest.step_tile_last.val(),
                    layer_last: nest.step_layer_last.val(),
                });
            }
            nest.clock.next = Clock::from(true);
            settle(&mut nest);
            if steps.last().is_some_and(|s| s.layer_last) {
                nest.advance.next = true;
                tick(&mut nest);
                assert!(!nest.step_valid.val(), "a step after the layer's last");
                return (steps, first.unwrap());
            }
        }
        panic!("the layer does not end: {} steps", steps.len());
    }

    #[test]
    fn the_loop_nest_reads_what_the_walk_reads() {
        let cfg = AccelConfig::small();
        // Padding, stride 2, partial pixel tiles and a partial channel tile.
        let strided = Geometry {
            c_in: 3,
            c_out: 6,
            h: 5,
            w: 6,
            kernel: 3,
            stride: 2,
            padding: 1,
            tile_h: 2,
            tile_w: 2,
        };
        // A row of pixels per tile (the row chain wraps at TW = 3).
        let wide = Geometry {
            c_in: 2,
            c_out: 3,
            h: 4,
            w: 7,
            kernel: 1,
            stride: 1,
            padding: 0,
            tile_h: 1,
            tile_w: 3,
        };
        // Partial pixel tiles whose missing pixels have inputs inside the
        // map: only the output bounds keep those rows from reading.
        let partial = Geometry {
            c_in: 2,
            c_out: 3,
            h: 5,
            w: 7,
            kernel: 3,
            stride: 1,
            padding: 0,
            tile_h: 2,
            tile_w: 2,
        };
        // Packed rows: W = 6, 7 and 5 at pitches 6, 7, 5 (one lane) and
        // 6, 8, 6 (two lanes) instead of 16.
        let packed = |lanes| AccelConfig {
            packed_rows: true,
            out_lanes: lanes,
            ..cfg
        };
        for cfg in [cfg, packed(1), packed(2)] {
            for (g, every) in [(strided, 1), (strided, 3), (wide, 2), (partial, 1)] {
                let (steps, first) = run(&cfg, g, |cycle| cycle % every == 0);
                let expected = walk(&cfg, g);
                assert_eq!(steps.len(), expected.len(), "{g:?}");
                for (n, (got, want)) in steps.iter().zip(&expected).enumerate() {
                    assert_eq!(got, want, "{cfg}, {g:?}: step {n}");
                }
                // SETUP (ROWS + 1 cycles), then S0, then S1 holds step 0.
                assert_eq!(first, u64::from(cfg.rows) + 3, "{g:?}");
            }
        }
    }

    #[test]
    fn packed_rows_hold_for_one_row_and_wide_kernels() {
        // One array row (SETUP's shortest: the constants must settle in
        // two cycles), and a 16-row array whose tiles wrap rows at TW = 3
        // with stride 3, kernel 5 and padding 2 over a 13-wide map.
        let one = AccelConfig {
            rows: 1,
            cols: 2,
            packed_rows: true,
            ..AccelConfig::small()
        };
        let sixteen = AccelConfig {
            rows: 16,
            cols: 3,
            packed_rows: true,
            ..AccelConfig::small()
        };
        let g = Geometry {
            c_in: 2,
            c_out: 3,
            h: 11,
            w: 13,
            kernel: 5,
            stride: 3,
            padding: 2,
            tile_h: 1,
            tile_w: 1,
        };
        let (steps, _) = run(&one, g, |_| true);
        assert_eq!(steps, walk(&one, g));
        let g = Geometry {
            tile_h: 5,
            tile_w: 3,
            ..g
        };
        let (steps, _) = run(&sixteen, g, |cycle| cycle % 4 != 1);
        assert_eq!(steps, walk(&sixteen, g));
    }

    #[test]
    fn the_three_by_five_array_reads_what_the_walk_reads() {
        // Three rows, R = 4, and a 3 x 1 tile: the row chain steps in y.
        let cfg = AccelConfig::small().six_tokens_3x5();
        let g = Geometry {
            c_in: 2,
            c_out: 7,
            h: 9,
            w: 5,
            kernel: 3,
            stride: 1,
            padding: 2,
            tile_h: 3,
            tile_w: 1,
        };
        let (steps, _) = run(&cfg, g, |cycle| cycle % 5 != 0);
        assert_eq!(steps, walk(&cfg, g));
    }

    /// Banked input activations (docs/banked.md): every step's rows read
    /// the bank and address where `BankedMap::place` stored their input
    /// (and the mask words as before), at strides 1-3, tiles 4 x 4, 1 x 16,
    /// 3 x 5, 2 x 2 and 1 x 1, kernels 1-5 with padding, partial tiles and
    /// channel tiles, with and without stalls, at 16 rows.
    #[test]
    fn banked_reads_are_where_the_layout_put_each_input() {
        let cfg = AccelConfig {
            rows: 16,
            cols: 3,
            ..AccelConfig::small()
        };
        let bits = 12;
        let params = ControllerParams {
            banked_addr_bits: Some(bits),
            ..ControllerParams::new(&cfg)
        };
        let base = Geometry {
            c_in: 2,
            c_out: 5,
            h: 9,
            w: 11,
            kernel: 3,
            stride: 1,
            padding: 1,
            tile_h: 4,
            tile_w: 4,
        };
        let shapes = [
            base,
            Geometry {
                stride: 2,
                kernel: 5,
                padding: 2,
                ..base
            },
            Geometry {
                stride: 3,
                kernel: 4,
                padding: 3,
                tile_h: 1,
                tile_w: 16,
                ..base
            },
            Geometry {
                stride: 2,
                kernel: 3,
                padding: 0,
                tile_h: 3,
                tile_w: 5,
                ..base
            },
            Geometry {
                kernel: 1,
                padding: 0,
                tile_h: 2,
                tile_w: 2,
                c_in: 3,
                ..base
            },
            Geometry {
                tile_h: 1,
                tile_w: 1,
                ..base
            },
        ];
        for (n, g) in shapes.into_iter().enumerate() {
            let reader = Reader {
                stride: g.stride as u32,
                tile_h: g.tile_h as u32,
                tile_w: g.tile_w as u32,
            };
            let map = BankedMap::new(g.c_in, g.h, g.w, reader);
            let expected = walk_with(&cfg, g, |c, y, x| {
                let p = map.place(c, y, x);
                u64::from(p.bank) << 32 | p.addr
            });
            let (steps, first) = run_with(&params, g, |cycle| n % 2 == 0 || cycle % 3 != 0);
            assert_eq!(steps.len(), expected.len(), "{g:?}");
            for (i, (got, want)) in steps.iter().zip(&expected).enumerate() {
                assert_eq!(got, want, "{g:?}: step {i}");
            }
            assert_eq!(first, u64::from(cfg.rows) + 3, "{g:?}");
        }
    }
}
