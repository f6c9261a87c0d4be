//! The region controller (docs/spec.md §4 and 6): walks the loop nest of a
//! layer given by run-time registers, generates the activation, mask and
//! weight addresses of every step, decides each step's mode from the mask
//! bits of the rows it feeds, cuts the step into the array's tokens and
//! counts. Top `drq_controller`; interface, buffer layouts and cycle
//! behaviour in `docs/controller.md`.
//!
//! Pipeline (one step per cycle when the array takes one token per cycle):
//!
//! * **S0, loop counters**: channel tile, pixel tile (top-left output pixel
//!   and its input offsets), input channel c, kernel offsets ki, kj, k, and
//!   the incremental products c*H, c*ceil(H/R), k*C_out. Every product of
//!   run-time registers is an incremental sum; TH*S and TW*S are made once
//!   per layer by a 5-term shift-and-add (the stride is at most 16).
//! * **S1, addresses**: per row the input position
//!   (y, x) = (oh0*S - P + ki + i*S, ow0*S - P + kj + j*S), whether the row reads (its pixel is in the
//!   tile and in the output, the position is not padding), the activation
//!   word (c*H + y) * P_A + x and the mask word (c*RH + y/R) * P_M + x/R;
//!   per column the weight word k*C_out + oc and whether oc < C_out.
//!   Registered; the per-row offsets (i*S, j*S) come from a register chain
//!   that settles during SETUP.
//! * **read**: S1's reads are issued (`act_rd`, `w_rd`) in the cycle S2
//!   frees up, so the data arrives exactly when it becomes the current step.
//! * **S2, tokens**: the memory outputs are S2's data registers (they hold
//!   until the next read, so backpressure needs no copy). sens = read and
//!   mask bit; HIGH iff any row is sensitive. q and w_lo are computed per
//!   row and column; a HIGH step walks the token ROM (`TokenRom`, the HIGH
//!   token order of `TokenFormat`), a LOW step is one token.
//!
//! Everything is held while `in_ready` is low. All state is in `leaf::Reg`s
//! (synchronous reset) and the registered token ROM, so the combinational
//! kernel has no path through a sub-block (no UNOPTFLAT in Verilator).

use crate::leaf::{low_mask as mask, word, Reg, Word, WordReg};
use crate::shell::{clog2, design, scalar, Design, Dir, ShellPort, Widen};
use drq_arch::config::{AccelConfig, PeKind};
use drq_arch::token::TokenFormat;
use rust_hdl::prelude::*;

/// Width of the counters.
pub use drq_arch::regs::COUNTER_BITS;
/// Width of the standalone controller's layer ports (the spec's 16-bit
/// fields); inside, every dimension, coordinate and counter is cut to the
/// configuration's `AccelConfig::dim_bits` / `coord_bits`.
pub const REG_BITS: u32 = 16;
/// Width of the ports `tile_oh0`, `tile_ow0`.
pub const PIXEL_BITS: u32 = 17;
/// Width of the port `drq_k_step`: C_in * K * K <= 65535 * 256 < 2^24.
pub const K_BITS: u32 = 24;
/// Largest stride the TH*S, TW*S shift-and-add handles (`Layer::check`).
pub const MAX_STRIDE: u32 = 16;
const STRIDE_BITS: u32 = 5;

/// One HIGH token as the controller needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RomEntry {
    /// Right shift of the activation that gives the token's digit.
    pub a_shift: u32,
    /// Right shift of the weight that gives the token's digit.
    pub w_shift: u32,
    /// The weight digit is the top (signed) one: W_LO + 1 bits kept.
    pub w_top: bool,
    /// Horner shift units from the previous token.
    pub hshift: u32,
    /// The token's shift (a digit shift + w digit shift), for `drq_token_shift`.
    pub shift: u32,
    /// Last token of a HIGH step.
    pub last: bool,
}

/// The HIGH token table of a configuration, in `TokenFormat` order.
pub fn rom_entries(cfg: &AccelConfig) -> Vec<RomEntry> {
    let fmt = TokenFormat::new(cfg);
    let n = fmt.high_tokens.len();
    fmt.high_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| match cfg.pe {
            PeKind::Drq => RomEntry {
                a_shift: t.a_digit * cfg.a_lo,
                w_shift: t.w_digit * cfg.w_lo,
                w_top: t.w_digit + 1 == cfg.w_digits(),
                hshift: t.hshift_units,
                shift: t.shift,
                last: i + 1 == n,
            },
            // One full-precision token: the whole activation and weight.
            PeKind::Int8 => RomEntry {
                a_shift: 0,
                w_shift: 0,
                w_top: true,
                hshift: 0,
                shift: 0,
                last: true,
            },
        })
        .collect()
}

/// The token ROM: a registered table of the HIGH tokens. `next_index` is
/// the index of the token that is current in the next cycle; the outputs
/// are that token's fields from the next rising edge on (entry 0 after
/// reset). Hand-written Verilog (a case statement generated from the
/// table) and a hand-written simulation of the same table.
#[derive(LogicBlock)]
pub struct TokenRom {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub next_index: Signal<In, Word>,
    pub a_shift: Signal<Out, Word>,
    pub w_shift: Signal<Out, Word>,
    pub w_top: Signal<Out, Bit>,
    pub hshift: Signal<Out, Word>,
    pub shift: Signal<Out, Word>,
    pub last: Signal<Out, Bit>,
    // Invisible to rust-hdl (leading `_`): the table.
    _entries: Vec<RomEntry>,
}

impl TokenRom {
    pub fn new(entries: Vec<RomEntry>) -> TokenRom {
        assert!(!entries.is_empty(), "token ROM without tokens");
        TokenRom {
            clock: Default::default(),
            reset: Default::default(),
            next_index: Default::default(),
            a_shift: Default::default(),
            w_shift: Default::default(),
            w_top: Default::default(),
            hshift: Default::default(),
            shift: Default::default(),
            last: Default::default(),
            _entries: entries,
        }
    }
    fn index_bits(&self) -> u32 {
        clog2(self._entries.len() as u32)
    }
}

impl Logic for TokenRom {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let i = if self.reset.val() {
                0
            } else {
                // Only the index bits are decoded, as in the Verilog.
                (self.next_index.val().to_u64() & mask(self.index_bits())) as usize
            };
            let e = self._entries.get(i).copied().unwrap_or(RomEntry {
                a_shift: 0,
                w_shift: 0,
                w_top: false,
                hshift: 0,
                shift: 0,
                last: false,
            });
            self.a_shift.next = u64::from(e.a_shift).to_bits();
            self.w_shift.next = u64::from(e.w_shift).to_bits();
            self.w_top.next = e.w_top;
            self.hshift.next = u64::from(e.hshift).to_bits();
            self.shift.next = u64::from(e.shift).to_bits();
            self.last.next = e.last;
        }
    }
    fn connect(&mut self) {
        self.a_shift.connect();
        self.w_shift.connect();
        self.w_top.connect();
        self.hshift.connect();
        self.shift.connect();
        self.last.connect();
    }
    fn hdl(&self) -> Verilog {
        let b = self.index_bits();
        let mut v = format!(
            "// HIGH tokens of the step, registered: {} entries.\n\
             wire unused_next_index = &{{1'b0, next_index[63:{b}], 1'b0}};\n\
             wire [{b1}:0] index = reset ? {b}'d0 : next_index[{b1}:0];\n\
             always @(posedge clock) begin\n\
             \x20   case (index)\n",
            self._entries.len(),
            b1 = b - 1
        );
        let line = |label: String, e: &RomEntry| {
            format!(
                "    {label}: begin a_shift <= 64'd{}; w_shift <= 64'd{}; w_top <= 1'b{}; \
                 hshift <= 64'd{}; shift <= 64'd{}; last <= 1'b{}; end\n",
                e.a_shift,
                e.w_shift,
                u8::from(e.w_top),
                e.hshift,
                e.shift,
                u8::from(e.last)
            )
        };
        for (i, e) in self._entries.iter().enumerate() {
            v += &line(format!("{b}'d{i}"), e);
        }
        if self._entries.len() < 1 << b {
            let zero = RomEntry {
                a_shift: 0,
                w_shift: 0,
                w_top: false,
                hshift: 0,
                shift: 0,
                last: false,
            };
            v += &line("default".into(), &zero);
        }
        v += "    endcase\nend";
        Verilog::Custom(v)
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "token_rom".into(),
            clock: "clock".into(),
            inputs: vec!["next_index".into(), "reset".into()],
            outputs: vec![
                "a_shift".into(),
                "w_shift".into(),
                "w_top".into(),
                "hshift".into(),
                "shift".into(),
                "last".into(),
            ],
        }]
    }
}

/// What the controller is generated with (all derived from the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerParams {
    pub rows: usize,
    pub cols: usize,
    pub drq: bool,
    pub region_log2: u32,
    pub act_pitch_log2: u32,
    pub mask_pitch_log2: u32,
    pub a_hi: u32,
    pub a_lo: u32,
    pub w_hi: u32,
    pub w_lo: u32,
    pub digit_bits: u32,
    pub w_digit_bits: u32,
    /// Bits of the layer's low shifts s and sw.
    pub shift_bits: u32,
    /// Bits of a buffer word address (`AccelConfig::buffer_addr_bits`).
    pub addr_bits: u32,
    /// Bits of layer dimensions and the loop counters over them
    /// (`AccelConfig::dim_bits`), of input coordinates
    /// (`AccelConfig::coord_bits`), of output channels up to C_out + COLS,
    /// and of the tap index k < C_in K K <= weight_words.
    pub dim_bits: u32,
    pub coord_bits: u32,
    pub chan_bits: u32,
    pub k_bits: u32,
    pub tokens: Vec<RomEntry>,
}

impl ControllerParams {
    pub fn new(cfg: &AccelConfig) -> ControllerParams {
        let fmt = TokenFormat::new(cfg);
        assert!(cfg.act_row_pitch().is_power_of_two() && cfg.mask_row_pitch().is_power_of_two());
        ControllerParams {
            rows: cfg.rows as usize,
            cols: cfg.cols as usize,
            drq: cfg.pe == PeKind::Drq,
            region_log2: cfg.region.trailing_zeros(),
            act_pitch_log2: cfg.act_row_pitch().trailing_zeros(),
            mask_pitch_log2: cfg.mask_row_pitch().trailing_zeros(),
            a_hi: cfg.a_hi,
            a_lo: cfg.a_lo,
            w_hi: cfg.w_hi,
            w_lo: cfg.w_lo,
            digit_bits: fmt.digit_bits,
            w_digit_bits: fmt.w_digit_bits,
            shift_bits: 32
                - cfg
                    .max_low_shift()
                    .max(cfg.max_w_low_shift())
                    .max(1)
                    .leading_zeros(),
            addr_bits: cfg.buffer_addr_bits(),
            dim_bits: cfg.dim_bits(),
            coord_bits: cfg.coord_bits(),
            chan_bits: cfg.channel_bits(),
            k_bits: drq_arch::config::bits_for(cfg.weight_words),
            tokens: rom_entries(cfg),
        }
    }
    /// Cycles from `start` (exclusive) to the first token offered.
    pub fn fill_cycles(&self) -> u64 {
        self.rows as u64 + FILL_AFTER_SETUP
    }
}

/// Cycles from the end of SETUP's row chain to the first token offered:
/// S0 -> S1 (addresses), S1 -> S2 (reads issued), S2 -> S3 (data
/// registered), plus SETUP's own last cycle.
pub const FILL_AFTER_SETUP: u64 = 4;

/// Cycles the controller is busy for a layer of `token_cycles` tokens when
/// the array never withholds `in_ready` while a token is offered: SETUP
/// (ROWS + 1 cycles), three cycles to fill S1, S2 and S3, then one per
/// token. Each cycle a token is offered but not taken adds one.
pub fn layer_cycles(cfg: &AccelConfig, token_cycles: u64) -> u64 {
    u64::from(cfg.rows) + FILL_AFTER_SETUP + token_cycles
}

#[derive(LogicBlock)]
pub struct RegionController {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Control.
    pub start: Signal<In, Bit>,
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    // Layer registers, latched at `start`.
    pub c_in: Signal<In, Word>,
    pub c_out: Signal<In, Word>,
    pub h: Signal<In, Word>,
    pub w: Signal<In, Word>,
    pub kernel: Signal<In, Word>,
    pub stride: Signal<In, Word>,
    pub padding: Signal<In, Word>,
    pub tile_h: Signal<In, Word>,
    pub tile_w: Signal<In, Word>,
    pub low_shift: Signal<In, Word>,
    pub w_low_shift: Signal<In, Word>,
    // Buffer read ports (one cycle of latency, data held until the next read).
    pub act_addr: Vec<Signal<Out, Word>>,
    pub act_rd: Vec<Signal<Out, Bit>>,
    pub act_data: Vec<Signal<In, Word>>,
    pub mask_addr: Vec<Signal<Out, Word>>,
    pub mask_bit: Vec<Signal<In, Bit>>,
    pub w_addr: Vec<Signal<Out, Word>>,
    pub w_rd: Vec<Signal<Out, Bit>>,
    pub w_data: Vec<Signal<In, Word>>,
    // Tokens to the array.
    pub in_valid: Signal<Out, Bit>,
    pub in_ready: Signal<In, Bit>,
    pub in_first: Signal<Out, Bit>,
    pub in_commit: Signal<Out, Bit>,
    pub in_last: Signal<Out, Bit>,
    pub in_hshift: Signal<Out, Word>,
    pub in_digit: Vec<Signal<Out, Word>>,
    pub in_sens: Vec<Signal<Out, Bit>>,
    pub in_w_digit: Vec<Signal<Out, Word>>,
    pub in_w_low: Vec<Signal<Out, Word>>,
    pub low_shift_out: Signal<Out, Word>,
    pub tile_channel: Signal<Out, Word>,
    pub tile_oh0: Signal<Out, Word>,
    pub tile_ow0: Signal<Out, Word>,
    // Counters.
    pub steps_high: Signal<Out, Word>,
    pub steps_low: Signal<Out, Word>,
    pub token_cycles: Signal<Out, Word>,
    pub tiles: Signal<Out, Word>,
    // Waveform names of docs/spec.md §6 (the step whose tokens are offered).
    pub drq_mode_high: Signal<Out, Bit>,
    pub drq_channel: Signal<Out, Word>,
    pub drq_region_y: Signal<Out, Word>,
    pub drq_region_x: Signal<Out, Word>,
    pub drq_k_step: Signal<Out, Word>,
    pub drq_tile: Signal<Out, Word>,
    pub drq_token_shift: Signal<Out, Word>,
    // Constants.
    zero: Constant<Word>,
    one: Constant<Word>,
    drq: Constant<Bit>,
    coord_mask: Constant<Word>,
    /// Word addresses: `AccelConfig::buffer_addr_bits`.
    addr_mask: Constant<Word>,
    /// Output channels (oc0 + COLS may pass 2^16).
    chan_mask: Constant<Word>,
    count_mask: Constant<Word>,
    reg_mask: Constant<Word>,
    k_mask: Constant<Word>,
    shift_mask: Constant<Word>,
    small_mask: Constant<Word>,
    a_mask: Constant<Word>,
    act_col_mask: Constant<Word>,
    mask_col_mask: Constant<Word>,
    a_sum_mask: Constant<Word>,
    region_log2: Constant<Word>,
    region_m1: Constant<Word>,
    act_pitch_log2: Constant<Word>,
    mask_pitch_log2: Constant<Word>,
    cols_n: Constant<Word>,
    col_index: Vec<Constant<Word>>,
    stride_bit: Vec<Constant<Word>>,
    stride_shift: Vec<Constant<Word>>,
    setup_last: Constant<Word>,
    q_max: Constant<Word>,
    q_over: Constant<Word>,
    digit_mask: Constant<Word>,
    w_top_mask: Constant<Word>,
    w_low_mask: Constant<Word>,
    wb_mask: Constant<Word>,
    wb_sign: Constant<Word>,
    w_lo_min: Constant<Word>,
    w_lo_max: Constant<Word>,
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
    ls_q: Reg<Word>,
    wls_q: Reg<Word>,
    // Status and SETUP.
    active: Reg<Bit>,
    done_q: Reg<Bit>,
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
    /// Rounding terms 2^(s-1), 2^(sw-1) (0 for a zero shift).
    rnd_a_q: Reg<Word>,
    rnd_w_q: Reg<Word>,
    /// Sign fill of an arithmetic shift right by sw in W_HI + 1 bits.
    w_fill_q: Reg<Word>,
    /// s + sw.
    lsum_q: Reg<Word>,
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
    // S2: the step whose tokens are offered (its data on the read ports).
    s2_valid: Reg<Bit>,
    s2_rd: Vec<Reg<Bit>>,
    s2_w_rd: Vec<Reg<Bit>>,
    s2_tile_last: Reg<Bit>,
    s2_layer_last: Reg<Bit>,
    s2_c: Reg<Word>,
    s2_k: Reg<Word>,
    s2_tile: Reg<Word>,
    s2_ct: Reg<Word>,
    s2_oh0: Reg<Word>,
    s2_ow0: Reg<Word>,
    s2_ry: Reg<Word>,
    s2_rx: Reg<Word>,
    // S3: the step whose tokens are offered, its buffer data registered
    // (so no path runs from a block RAM's output into the array).
    s3_valid: Reg<Bit>,
    s3_tile_last: Reg<Bit>,
    s3_layer_last: Reg<Bit>,
    s3_c: Reg<Word>,
    s3_k: Reg<Word>,
    s3_tile: Reg<Word>,
    s3_ct: Reg<Word>,
    s3_oh0: Reg<Word>,
    s3_ow0: Reg<Word>,
    s3_ry: Reg<Word>,
    s3_rx: Reg<Word>,
    /// Some row of the step is sensitive: a HIGH step.
    s3_high: Reg<Bit>,
    /// Per row: the activation (0 unless read), its low-precision code q,
    /// its sensitivity.
    s3_a: Vec<WordReg>,
    s3_q: Vec<WordReg>,
    s3_sens: Vec<Reg<Bit>>,
    /// Per column: the weight in W_HI + 1 bits and w_lo.
    s3_w: Vec<WordReg>,
    s3_wlo: Vec<WordReg>,
    tok: Reg<Word>,
    rom: TokenRom,
    // Counters.
    n_high: Reg<Word>,
    n_low: Reg<Word>,
    n_tokens: Reg<Word>,
    n_tiles: Reg<Word>,
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
    high: Signal<Local, Bit>,
    any_sens: Signal<Local, Bit>,
    adv3: Signal<Local, Bit>,
    step_end: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    adv2: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    load1: Signal<Local, Bit>,
    next_tok: Signal<Local, Word>,
    a: Vec<Signal<Local, Word>>,
    sens: Vec<Signal<Local, Bit>>,
    q_raw: Vec<Signal<Local, Word>>,
    q: Vec<Signal<Local, Word>>,
    wv: Vec<Signal<Local, Word>>,
    w_sum: Vec<Signal<Local, Word>>,
    w_neg: Vec<Signal<Local, Bit>>,
    w_sh: Vec<Signal<Local, Word>>,
    w_ext: Vec<Signal<Local, Word>>,
    w_top_bits: Vec<Signal<Local, Word>>,
    w_lo: Vec<Signal<Local, Word>>,
    w_digit_mask: Signal<Local, Word>,
}

fn vec_of<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

fn konst(v: u64) -> Constant<Word> {
    Constant::new(word(v as i64))
}

impl RegionController {
    pub fn new(p: &ControllerParams) -> RegionController {
        let (rows, cols) = (p.rows, p.cols);
        assert!((1..=64).contains(&rows) && (1..=64).contains(&cols));
        let wb = p.w_hi + 1; // w + rw fits in W_HI + 1 signed bits
        RegionController {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            c_in: Default::default(),
            c_out: Default::default(),
            h: Default::default(),
            w: Default::default(),
            kernel: Default::default(),
            stride: Default::default(),
            padding: Default::default(),
            tile_h: Default::default(),
            tile_w: Default::default(),
            low_shift: Default::default(),
            w_low_shift: Default::default(),
            act_addr: vec_of(rows),
            act_rd: vec_of(rows),
            act_data: vec_of(rows),
            mask_addr: vec_of(rows),
            mask_bit: vec_of(rows),
            w_addr: vec_of(cols),
            w_rd: vec_of(cols),
            w_data: vec_of(cols),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_first: Default::default(),
            in_commit: Default::default(),
            in_last: Default::default(),
            in_hshift: Default::default(),
            in_digit: vec_of(rows),
            in_sens: vec_of(rows),
            in_w_digit: vec_of(cols),
            in_w_low: vec_of(cols),
            low_shift_out: Default::default(),
            tile_channel: Default::default(),
            tile_oh0: Default::default(),
            tile_ow0: Default::default(),
            steps_high: Default::default(),
            steps_low: Default::default(),
            token_cycles: Default::default(),
            tiles: Default::default(),
            drq_mode_high: Default::default(),
            drq_channel: Default::default(),
            drq_region_y: Default::default(),
            drq_region_x: Default::default(),
            drq_k_step: Default::default(),
            drq_tile: Default::default(),
            drq_token_shift: Default::default(),
            zero: konst(0),
            one: konst(1),
            drq: Constant::new(p.drq),
            coord_mask: konst(mask(p.coord_bits)),
            addr_mask: konst(mask(p.addr_bits)),
            chan_mask: konst(mask(p.chan_bits)),
            count_mask: konst(mask(COUNTER_BITS)),
            reg_mask: konst(mask(p.dim_bits)),
            k_mask: konst(mask(p.k_bits)),
            shift_mask: konst(mask(p.shift_bits)),
            small_mask: konst(mask(8)),
            a_mask: konst(mask(p.a_hi)),
            act_col_mask: konst(mask(p.act_pitch_log2)),
            mask_col_mask: konst(mask(p.mask_pitch_log2)),
            a_sum_mask: konst(mask(p.a_hi + 1)),
            region_log2: konst(p.region_log2.into()),
            region_m1: konst((1u64 << p.region_log2) - 1),
            act_pitch_log2: konst(p.act_pitch_log2.into()),
            mask_pitch_log2: konst(p.mask_pitch_log2.into()),
            cols_n: konst(cols as u64),
            col_index: (0..cols as u64).map(konst).collect(),
            stride_bit: (0..STRIDE_BITS).map(|b| konst(1 << b)).collect(),
            stride_shift: (0..STRIDE_BITS).map(|b| konst(b.into())).collect(),
            setup_last: konst(rows as u64),
            q_max: konst(mask(p.a_lo)),
            q_over: konst(mask(p.a_hi + 1) & !mask(p.a_lo)),
            digit_mask: konst(mask(p.digit_bits)),
            w_top_mask: konst(mask(p.w_digit_bits)),
            w_low_mask: konst(mask(p.w_lo)),
            wb_mask: konst(mask(wb)),
            wb_sign: konst(1 << p.w_hi),
            w_lo_min: konst(mask(wb) & !mask(p.w_lo - 1)),
            w_lo_max: konst(mask(p.w_lo - 1)),
            cin_q: Default::default(),
            cout_q: Default::default(),
            h_q: Default::default(),
            w_q: Default::default(),
            k_q: Default::default(),
            s_q: Default::default(),
            p_q: Default::default(),
            th_q: Default::default(),
            tw_q: Default::default(),
            ls_q: Default::default(),
            wls_q: Default::default(),
            active: Default::default(),
            done_q: Default::default(),
            setup: Default::default(),
            setup_n: Default::default(),
            hlim_q: Default::default(),
            wlim_q: Default::default(),
            neg_p_q: Default::default(),
            rh_q: Default::default(),
            ths_q: Default::default(),
            tws_q: Default::default(),
            rnd_a_q: Default::default(),
            rnd_w_q: Default::default(),
            w_fill_q: Default::default(),
            lsum_q: Default::default(),
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
            s2_valid: Default::default(),
            s2_rd: vec_of(rows),
            s2_w_rd: vec_of(cols),
            s2_tile_last: Default::default(),
            s2_layer_last: Default::default(),
            s2_c: Default::default(),
            s2_k: Default::default(),
            s2_tile: Default::default(),
            s2_ct: Default::default(),
            s2_oh0: Default::default(),
            s2_ow0: Default::default(),
            s2_ry: Default::default(),
            s2_rx: Default::default(),
            s3_valid: Default::default(),
            s3_tile_last: Default::default(),
            s3_layer_last: Default::default(),
            s3_c: Default::default(),
            s3_k: Default::default(),
            s3_tile: Default::default(),
            s3_ct: Default::default(),
            s3_oh0: Default::default(),
            s3_ow0: Default::default(),
            s3_ry: Default::default(),
            s3_rx: Default::default(),
            s3_high: Default::default(),
            s3_a: (0..rows).map(|_| WordReg::unsigned(p.a_hi)).collect(),
            s3_q: (0..rows).map(|_| WordReg::unsigned(p.a_hi)).collect(),
            s3_sens: vec_of(rows),
            s3_w: (0..cols).map(|_| WordReg::unsigned(wb)).collect(),
            s3_wlo: (0..cols).map(|_| WordReg::unsigned(wb)).collect(),
            tok: Default::default(),
            rom: TokenRom::new(p.tokens.clone()),
            n_high: Default::default(),
            n_low: Default::default(),
            n_tokens: Default::default(),
            n_tiles: Default::default(),
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
            high: Default::default(),
            any_sens: Default::default(),
            adv3: Default::default(),
            step_end: Default::default(),
            accept: Default::default(),
            adv2: Default::default(),
            issue: Default::default(),
            load1: Default::default(),
            next_tok: Default::default(),
            a: vec_of(rows),
            sens: vec_of(rows),
            q_raw: vec_of(rows),
            q: vec_of(rows),
            wv: vec_of(cols),
            w_sum: vec_of(cols),
            w_neg: vec_of(cols),
            w_sh: vec_of(cols),
            w_ext: vec_of(cols),
            w_top_bits: vec_of(cols),
            w_lo: vec_of(cols),
            w_digit_mask: Default::default(),
        }
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

impl Logic for RegionController {
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
            ls_q,
            wls_q,
            active,
            done_q,
            setup,
            setup_n,
            hlim_q,
            wlim_q,
            neg_p_q,
            rh_q,
            ths_q,
            tws_q,
            rnd_a_q,
            rnd_w_q,
            w_fill_q,
            lsum_q,
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
            s1_rx,
            s2_valid,
            s2_tile_last,
            s2_layer_last,
            s2_c,
            s2_k,
            s2_tile,
            s2_ct,
            s2_oh0,
            s2_ow0,
            s2_ry,
            s2_rx,
            s3_valid,
            s3_tile_last,
            s3_layer_last,
            s3_c,
            s3_k,
            s3_tile,
            s3_ct,
            s3_oh0,
            s3_ow0,
            s3_ry,
            s3_rx,
            s3_high,
            tok,
            n_high,
            n_low,
            n_tokens,
            n_tiles
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
        self.ls_q.reset.next = self.reset.val();
        self.wls_q.reset.next = self.reset.val();
        self.active.reset.next = self.reset.val();
        self.done_q.reset.next = self.reset.val();
        self.setup.reset.next = self.reset.val();
        self.setup_n.reset.next = self.reset.val();
        self.hlim_q.reset.next = self.reset.val();
        self.wlim_q.reset.next = self.reset.val();
        self.neg_p_q.reset.next = self.reset.val();
        self.rh_q.reset.next = self.reset.val();
        self.ths_q.reset.next = self.reset.val();
        self.tws_q.reset.next = self.reset.val();
        self.rnd_a_q.reset.next = self.reset.val();
        self.rnd_w_q.reset.next = self.reset.val();
        self.w_fill_q.reset.next = self.reset.val();
        self.lsum_q.reset.next = self.reset.val();
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
        self.s2_valid.reset.next = self.reset.val();
        self.s3_valid.reset.next = self.reset.val();
        self.s3_tile_last.reset.next = self.reset.val();
        self.s3_layer_last.reset.next = self.reset.val();
        self.s3_c.reset.next = self.reset.val();
        self.s3_k.reset.next = self.reset.val();
        self.s3_tile.reset.next = self.reset.val();
        self.s3_ct.reset.next = self.reset.val();
        self.s3_oh0.reset.next = self.reset.val();
        self.s3_ow0.reset.next = self.reset.val();
        self.s3_ry.reset.next = self.reset.val();
        self.s3_rx.reset.next = self.reset.val();
        self.s3_high.reset.next = self.reset.val();
        self.s2_tile_last.reset.next = self.reset.val();
        self.s2_layer_last.reset.next = self.reset.val();
        self.s2_c.reset.next = self.reset.val();
        self.s2_k.reset.next = self.reset.val();
        self.s2_tile.reset.next = self.reset.val();
        self.s2_ct.reset.next = self.reset.val();
        self.s2_oh0.reset.next = self.reset.val();
        self.s2_ow0.reset.next = self.reset.val();
        self.s2_ry.reset.next = self.reset.val();
        self.s2_rx.reset.next = self.reset.val();
        self.tok.reset.next = self.reset.val();
        self.n_high.reset.next = self.reset.val();
        self.n_low.reset.next = self.reset.val();
        self.n_tokens.reset.next = self.reset.val();
        self.n_tiles.reset.next = self.reset.val();
        self.rom.clock.next = self.clock.val();
        self.rom.reset.next = self.reset.val();
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
        self.tok.d.next = self.tok.q.val() & self.small_mask.val();
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
            self.s2_rd[r].clock.next = self.clock.val();
            self.s2_rd[r].reset.next = self.reset.val();
            self.s2_rd[r].d.next = self.s2_rd[r].q.val();
            self.s3_a[r].clock.next = self.clock.val();
            self.s3_a[r].reset.next = self.reset.val();
            self.s3_a[r].d.next = self.s3_a[r].q.val();
            self.s3_q[r].clock.next = self.clock.val();
            self.s3_q[r].reset.next = self.reset.val();
            self.s3_q[r].d.next = self.s3_q[r].q.val();
            self.s3_sens[r].clock.next = self.clock.val();
            self.s3_sens[r].reset.next = self.reset.val();
            self.s3_sens[r].d.next = self.s3_sens[r].q.val();
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
            self.s2_w_rd[j].clock.next = self.clock.val();
            self.s2_w_rd[j].reset.next = self.reset.val();
            self.s2_w_rd[j].d.next = self.s2_w_rd[j].q.val();
            self.s3_w[j].clock.next = self.clock.val();
            self.s3_w[j].reset.next = self.reset.val();
            self.s3_w[j].d.next = self.s3_w[j].q.val();
            self.s3_wlo[j].clock.next = self.clock.val();
            self.s3_wlo[j].reset.next = self.reset.val();
            self.s3_wlo[j].d.next = self.s3_wlo[j].q.val();
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
        self.rnd_a_q.d.next =
            ((self.one.val() << self.ls_q.q.val()) >> self.one.val()) & self.a_mask.val();
        self.rnd_w_q.d.next =
            ((self.one.val() << self.wls_q.q.val()) >> self.one.val()) & self.wb_mask.val();
        self.w_fill_q.d.next = self.wb_mask.val() & !(self.wb_mask.val() >> self.wls_q.q.val());
        self.lsum_q.d.next = self.ls_q.q.val() + self.wls_q.q.val();

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
            self.row_dx[r - 1].d.next = self.chain_x[r - 1].val() & self.coord_mask.val();
            self.row_dy[r - 1].d.next = self.rdy[r - 1].val();
            self.row_used[r - 1].d.next = self.rused[r - 1].val();
            if self.chain_x[r - 1].val() == self.tws_q.q.val() {
                self.row_dx[r - 1].d.next = self.zero.val();
                self.row_dy[r - 1].d.next = self.chain_y[r - 1].val() & self.coord_mask.val();
                if self.chain_y[r - 1].val() == self.ths_q.q.val() {
                    self.row_used[r - 1].d.next = false;
                }
            }
        }

        // ---- S2: the step whose buffer data is on the read ports; what
        // S3 registers from it.
        self.any_sens.next = false;
        for r in 0..self.rows() {
            self.a[r].next = self.zero.val();
            if self.s2_rd[r].q.val() {
                self.a[r].next = self.act_data[r].val();
            }
            self.sens[r].next = self.s2_rd[r].q.val() & (self.mask_bit[r].val() | !self.drq.val());
            if self.sens[r].val() {
                self.any_sens.next = true;
            }
            self.q_raw[r].next = ((self.a[r].val() + self.rnd_a_q.q.val()) & self.a_sum_mask.val())
                >> self.ls_q.q.val();
            // Saturate: any bit above A_LO set means q_raw > 2^A_LO - 1.
            self.q[r].next = self.q_raw[r].val();
            if (self.q_raw[r].val() & self.q_over.val()).any() {
                self.q[r].next = self.q_max.val();
            }
        }
        // ---- S3: the current step's tokens, from registers.
        self.high.next = self.s3_high.q.val();
        for r in 0..self.rows() {
            self.in_digit[r].next = self.s3_q[r].q.val();
            if self.s3_sens[r].q.val() {
                self.in_digit[r].next =
                    (self.s3_a[r].q.val() >> self.rom.a_shift.val()) & self.digit_mask.val();
            }
            self.in_sens[r].next = self.s3_sens[r].q.val();
        }
        self.w_digit_mask.next = self.w_low_mask.val();
        if self.rom.w_top.val() {
            self.w_digit_mask.next = self.w_top_mask.val();
        }
        for j in 0..self.cols() {
            self.wv[j].next = self.zero.val();
            if self.s2_w_rd[j].q.val() {
                self.wv[j].next = self.w_data[j].val();
            }
            // w_lo = clamp((w + rw) >> sw) in W_HI + 1 bits, arithmetic shift.
            self.w_sum[j].next = (self.wv[j].val() + self.rnd_w_q.q.val()) & self.wb_mask.val();
            self.w_neg[j].next = (self.w_sum[j].val() & self.wb_sign.val()).any();
            self.w_sh[j].next = (self.w_sum[j].val() >> self.wls_q.q.val()) & self.wb_mask.val();
            self.w_ext[j].next = self.w_sh[j].val();
            if self.w_neg[j].val() {
                self.w_ext[j].next = self.w_sh[j].val() | self.w_fill_q.q.val();
            }
            // Clamp to W_LO signed bits: the bits from W_LO - 1 up must be
            // all ones (negative) or all zeros (non-negative).
            self.w_top_bits[j].next = self.w_ext[j].val() & self.w_lo_min.val();
            self.w_lo[j].next = self.w_ext[j].val();
            if self.w_neg[j].val() & (self.w_top_bits[j].val() != self.w_lo_min.val()) {
                self.w_lo[j].next = self.w_lo_min.val();
            }
            if !self.w_neg[j].val() & self.w_top_bits[j].val().any() {
                self.w_lo[j].next = self.w_lo_max.val();
            }
        }
        for j in 0..self.cols() {
            self.in_w_low[j].next = self.s3_wlo[j].q.val();
            self.in_w_digit[j].next = self.zero.val();
            if self.high.val() {
                // W_HI + 1 bits of w hold every digit, the top one's sign too.
                self.in_w_digit[j].next =
                    (self.s3_w[j].q.val() >> self.rom.w_shift.val()) & self.w_digit_mask.val();
            }
        }
        self.step_end.next = !self.high.val() | self.rom.last.val();
        self.accept.next = self.s3_valid.q.val() & self.in_ready.val();
        self.in_valid.next = self.s3_valid.q.val();
        self.in_first.next = self.tok.q.val() == self.zero.val();
        self.in_commit.next = self.high.val() & self.rom.last.val();
        self.in_last.next = self.step_end.val() & self.s3_tile_last.q.val();
        self.in_hshift.next = self.zero.val();
        if self.high.val() {
            self.in_hshift.next = self.rom.hshift.val();
        }
        self.low_shift_out.next = self.lsum_q.q.val();
        self.tile_channel.next = self.s3_ct.q.val();
        self.tile_oh0.next = self.s3_oh0.q.val();
        self.tile_ow0.next = self.s3_ow0.q.val();
        self.drq_mode_high.next = self.high.val() & self.s3_valid.q.val();
        self.drq_channel.next = self.s3_c.q.val();
        self.drq_region_y.next = self.s3_ry.q.val();
        self.drq_region_x.next = self.s3_rx.q.val();
        self.drq_k_step.next = self.s3_k.q.val();
        self.drq_tile.next = self.s3_tile.q.val();
        self.drq_token_shift.next = self.lsum_q.q.val();
        if self.high.val() {
            self.drq_token_shift.next = self.rom.shift.val();
        }

        // Token index within the step; the ROM registers the next token.
        self.next_tok.next = self.tok.q.val();
        if self.accept.val() {
            self.next_tok.next = (self.tok.q.val() + self.one.val()) & self.small_mask.val();
            if self.step_end.val() {
                self.next_tok.next = self.zero.val();
            }
        }
        if self.start.val() {
            self.next_tok.next = self.zero.val();
        }
        self.tok.d.next = self.next_tok.val();
        self.rom.next_index.next = self.next_tok.val();

        // ---- Handshakes between the stages: S3 frees up when its last
        // token is taken; S2 moves into it, registering its data (held on
        // the read ports until the next read, which is issued in the same
        // cycle); S1's reads are issued then; S1 refills from S0.
        self.adv3.next = !self.s3_valid.q.val() | (self.in_ready.val() & self.step_end.val());
        self.adv2.next = !self.s2_valid.q.val() | self.adv3.val();
        if self.adv3.val() {
            self.s3_valid.d.next = self.s2_valid.q.val();
            self.s3_tile_last.d.next = self.s2_tile_last.q.val();
            self.s3_layer_last.d.next = self.s2_layer_last.q.val();
            self.s3_c.d.next = self.s2_c.q.val();
            self.s3_k.d.next = self.s2_k.q.val();
            self.s3_tile.d.next = self.s2_tile.q.val();
            self.s3_ct.d.next = self.s2_ct.q.val();
            self.s3_oh0.d.next = self.s2_oh0.q.val();
            self.s3_ow0.d.next = self.s2_ow0.q.val();
            self.s3_ry.d.next = self.s2_ry.q.val();
            self.s3_rx.d.next = self.s2_rx.q.val();
            self.s3_high.d.next = self.any_sens.val();
            for r in 0..self.rows() {
                self.s3_a[r].d.next = self.a[r].val();
                self.s3_q[r].d.next = self.q[r].val();
                self.s3_sens[r].d.next = self.sens[r].val();
            }
            for j in 0..self.cols() {
                self.s3_w[j].d.next = self.wv[j].val() & self.wb_mask.val();
                self.s3_wlo[j].d.next = self.w_lo[j].val();
            }
        }
        self.issue.next = self.s1_valid.q.val() & self.adv2.val();
        self.load1.next = !self.s1_valid.q.val() | self.adv2.val();
        for r in 0..self.rows() {
            self.act_addr[r].next = self.s1_act_addr[r].q.val();
            self.mask_addr[r].next = self.s1_mask_addr[r].q.val();
            self.act_rd[r].next = self.issue.val() & self.s1_rd[r].q.val();
        }
        for j in 0..self.cols() {
            self.w_addr[j].next = self.s1_w_addr[j].q.val();
            self.w_rd[j].next = self.issue.val() & self.s1_w_rd[j].q.val();
        }
        if self.adv2.val() {
            self.s2_valid.d.next = self.s1_valid.q.val();
            for r in 0..self.rows() {
                self.s2_rd[r].d.next = self.s1_rd[r].q.val();
            }
            for j in 0..self.cols() {
                self.s2_w_rd[j].d.next = self.s1_w_rd[j].q.val();
            }
            self.s2_tile_last.d.next = self.s1_tile_last.q.val();
            self.s2_layer_last.d.next = self.s1_layer_last.q.val();
            self.s2_c.d.next = self.s1_c.q.val();
            self.s2_k.d.next = self.s1_k.q.val();
            self.s2_tile.d.next = self.s1_tile.q.val();
            self.s2_ct.d.next = self.s1_ct.q.val();
            self.s2_oh0.d.next = self.s1_oh0.q.val();
            self.s2_ow0.d.next = self.s1_ow0.q.val();
            self.s2_ry.d.next = self.s1_ry.q.val();
            self.s2_rx.d.next = self.s1_rx.q.val();
        }

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

        // ---- Counters and status.
        if self.accept.val() {
            self.n_tokens.d.next = (self.n_tokens.q.val() + self.one.val()) & self.count_mask.val();
            if self.step_end.val() {
                if self.high.val() {
                    self.n_high.d.next =
                        (self.n_high.q.val() + self.one.val()) & self.count_mask.val();
                } else {
                    self.n_low.d.next =
                        (self.n_low.q.val() + self.one.val()) & self.count_mask.val();
                }
                if self.s3_tile_last.q.val() {
                    self.n_tiles.d.next =
                        (self.n_tiles.q.val() + self.one.val()) & self.count_mask.val();
                }
                if self.s3_layer_last.q.val() {
                    self.active.d.next = false;
                    self.done_q.d.next = true;
                }
            }
        }
        self.busy.next = self.active.q.val();
        self.done.next = self.done_q.q.val();
        self.steps_high.next = self.n_high.q.val();
        self.steps_low.next = self.n_low.q.val();
        self.token_cycles.next = self.n_tokens.q.val();
        self.tiles.next = self.n_tiles.q.val();

        // ---- `start` latches the layer and restarts everything.
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
            self.ls_q.d.next = self.low_shift.val() & self.shift_mask.val();
            self.wls_q.d.next = self.w_low_shift.val() & self.shift_mask.val();
            self.active.d.next = true;
            self.done_q.d.next = false;
            self.setup.d.next = true;
            self.setup_n.d.next = self.zero.val();
            self.s0_valid.d.next = false;
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.s3_valid.d.next = false;
            self.n_high.d.next = self.zero.val();
            self.n_low.d.next = self.zero.val();
            self.n_tokens.d.next = self.zero.val();
            self.n_tiles.d.next = self.zero.val();
        }
    }
}

/// The region controller alone (top `drq_controller`), with plain ports.
/// Layer registers 16 bits; addresses `AccelConfig::buffer_addr_bits`;
/// counters `COUNTER_BITS`;
/// per-row and per-column buses packed like the array's (lane k at
/// `[k*L +: L]`). See `docs/controller.md`.
pub fn controller_design(cfg: &AccelConfig) -> Design {
    use Dir::{Input, Output};
    use Widen::{Flag, Sign, Zero};
    let fmt = TokenFormat::new(cfg);
    let p = ShellPort::new;
    let (rows, cols) = (Some(cfg.rows), Some(cfg.cols));
    let mut ports = vec![
        p("clk", "clock", Input, 1, None, Flag),
        p("rst", "reset", Input, 1, None, Flag),
        scalar("start", Input, 1, Flag),
        scalar("busy", Output, 1, Flag),
        scalar("done", Output, 1, Flag),
    ];
    for name in [
        "c_in",
        "c_out",
        "h",
        "w",
        "kernel",
        "stride",
        "padding",
        "tile_h",
        "tile_w",
        "low_shift",
        "w_low_shift",
    ] {
        ports.push(scalar(name, Input, REG_BITS, Zero));
    }
    ports.extend([
        p(
            "act_addr",
            "act_addr",
            Output,
            cfg.buffer_addr_bits(),
            rows,
            Zero,
        ),
        p("act_rd", "act_rd", Output, 1, rows, Flag),
        p("act_data", "act_data", Input, cfg.a_hi, rows, Zero),
        p(
            "mask_addr",
            "mask_addr",
            Output,
            cfg.buffer_addr_bits(),
            rows,
            Zero,
        ),
        p("mask_bit", "mask_bit", Input, 1, rows, Flag),
        p(
            "w_addr",
            "w_addr",
            Output,
            cfg.buffer_addr_bits(),
            cols,
            Zero,
        ),
        p("w_rd", "w_rd", Output, 1, cols, Flag),
        p("w_data", "w_data", Input, cfg.w_hi, cols, Sign),
        scalar("in_valid", Output, 1, Flag),
        scalar("in_ready", Input, 1, Flag),
        scalar("in_first", Output, 1, Flag),
        scalar("in_commit", Output, 1, Flag),
        scalar("in_last", Output, 1, Flag),
        scalar("in_hshift", Output, fmt.hshift_bits, Zero),
        p("in_digits", "in_digit", Output, fmt.digit_bits, rows, Zero),
        p("in_sens", "in_sens", Output, 1, rows, Flag),
        p(
            "in_w_digits",
            "in_w_digit",
            Output,
            fmt.w_digit_bits,
            cols,
            Zero,
        ),
        p("in_w_lows", "in_w_low", Output, fmt.w_low_bits, cols, Zero),
        scalar("low_shift_out", Output, fmt.low_shift_bits, Zero),
        scalar("tile_channel", Output, REG_BITS, Zero),
        scalar("tile_oh0", Output, PIXEL_BITS, Zero),
        scalar("tile_ow0", Output, PIXEL_BITS, Zero),
    ]);
    for name in ["steps_high", "steps_low", "token_cycles", "tiles"] {
        ports.push(scalar(name, Output, COUNTER_BITS, Zero));
    }
    ports.extend([
        scalar("drq_mode_high", Output, 1, Flag),
        scalar("drq_channel", Output, REG_BITS, Zero),
        scalar("drq_region_y", Output, REG_BITS, Zero),
        scalar("drq_region_x", Output, REG_BITS, Zero),
        scalar("drq_k_step", Output, K_BITS, Zero),
        scalar("drq_tile", Output, COUNTER_BITS, Zero),
        scalar("drq_token_shift", Output, fmt.low_shift_bits, Zero),
    ]);
    let mut block = RegionController::new(&ControllerParams::new(cfg));
    design(
        "drq_controller",
        "drq_controller_core",
        cfg,
        ports,
        &mut block,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(rom: &mut TokenRom) {
        for edge in [false, true] {
            rom.clock.next = Clock::from(edge);
            for _ in 0..4 {
                rom.update_all();
                if !rom.has_changed() {
                    break;
                }
            }
        }
    }

    #[test]
    fn token_rom_follows_the_token_format() {
        for cfg in [
            AccelConfig::default(),
            AccelConfig {
                a_hi: 6,
                a_lo: 3,
                w_hi: 6,
                w_lo: 2,
                ..AccelConfig::default()
            },
            AccelConfig {
                pe: PeKind::Int8,
                ..AccelConfig::default()
            },
        ] {
            let fmt = TokenFormat::new(&cfg);
            let entries = rom_entries(&cfg);
            assert_eq!(entries.len(), fmt.high_tokens.len());
            let mut rom = TokenRom::new(entries.clone());
            rom.connect_all();
            rom.reset.next = true;
            tick(&mut rom);
            rom.reset.next = false;
            assert_eq!(rom.a_shift.val().to_u64(), u64::from(entries[0].a_shift));
            for (i, e) in entries.iter().enumerate() {
                rom.next_index.next = (i as u64).to_bits();
                tick(&mut rom);
                assert_eq!(
                    rom.a_shift.val().to_u64(),
                    u64::from(e.a_shift),
                    "{cfg} {i}"
                );
                assert_eq!(rom.w_shift.val().to_u64(), u64::from(e.w_shift));
                assert_eq!(rom.w_top.val(), e.w_top);
                assert_eq!(rom.hshift.val().to_u64(), u64::from(e.hshift));
                assert_eq!(rom.shift.val().to_u64(), u64::from(e.shift));
                assert_eq!(rom.last.val(), e.last);
                let t = fmt.high_tokens[i];
                assert_eq!(e.shift, t.shift);
                assert_eq!(e.hshift, t.hshift_units);
            }
            assert!(entries.last().unwrap().last);
            let v = match rom.hdl() {
                Verilog::Custom(v) => v,
                _ => unreachable!(),
            };
            let full = entries.len() == 1 << clog2(entries.len() as u32);
            assert_eq!(
                v.matches(": begin").count(),
                entries.len() + usize::from(!full)
            );
        }
    }
}
