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
//!   mask bit; HIGH iff any row is sensitive; w_lo per column (registered
//!   into S3 with the weight). In S3, q per row from the registered
//!   activation; a HIGH step walks the token ROM (`TokenRom`, the HIGH
//!   token order of `TokenFormat`), a LOW step is one token.
//!
//! Everything is held while `in_ready` is low. `RegionController` composes
//! three sub-blocks, one job each: [`LoopNest`] (S0 and S1: layer
//! geometry, SETUP, loop counters, addresses and reads), [`TokenIssue`]
//! (S2 and S3: mode, q, w_lo, the token ROM walk, the handshake with the
//! array) and [`RunCounters`] (`busy`, `done` and the four counters, from
//! the token stream). All state is in `leaf::Reg`s (synchronous reset) and
//! the registered token ROM; each sub-block's outputs are registers except
//! the handshake (`advance`, the read enables), which follows `in_ready`.

use crate::leaf::{low_mask as mask, vec_of, Word};
use crate::loop_nest::LoopNest;
use crate::run_counters::RunCounters;
use crate::shell::{clog2, design, scalar, Design, Dir, ShellPort, Widen};
use crate::token_issue::TokenIssue;
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
pub(crate) const STRIDE_BITS: u32 = 5;

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
    /// Packed rows: activation rows at W rounded up to `out_lanes`
    /// (`AccelConfig::packed_rows`).
    pub packed_rows: bool,
    /// Stored-once (banked) input activations (docs/banked.md): the bank
    /// address bits, or None for the replicated buffers.
    pub banked_addr_bits: Option<u32>,
    /// With `banked_addr_bits`: the cyclic layout's reads
    /// (`drq_arch::cyclic`, `CyclicSteps`; ROWS banks, a power of two)
    /// instead of the banked layout's (`BankSteps`): `act_layout =
    /// "cyclic"` (docs/banked.md "The cyclic layout").
    pub cyclic: bool,
    pub out_lanes: u32,
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
            packed_rows: cfg.packed_rows,
            banked_addr_bits: cfg.act_layout.stored_once().then(|| cfg.bank_addr_bits()),
            cyclic: cfg.act_layout == drq_arch::config::ActLayout::Cyclic,
            out_lanes: cfg.out_lanes,
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

/// The region controller: connects its sub-blocks (the loop nest, the token
/// issue, the run counters) to its ports and to each other; no logic of its
/// own.
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
    /// The banked layout's constants (banked input activations only; one
    /// entry each, docs/banked.md).
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
    /// `drq_arch::cyclic::CYCLIC_CONSTANT_NAMES` order; else none).
    pub cyclic_constants: Vec<Signal<In, Word>>,
    // Buffer read ports (one cycle of latency, data held until the next
    // read); with banked activations `act_addr` and `act_rd` are per bank,
    // `act_row_bank` and `mask_rd` per row.
    pub act_addr: Vec<Signal<Out, Word>>,
    pub act_rd: Vec<Signal<Out, Bit>>,
    pub act_row_bank: Vec<Signal<Out, Word>>,
    pub mask_rd: Vec<Signal<Out, Bit>>,
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
    // The sub-blocks: S0 and S1, S2 and S3, status and counters.
    nest: LoopNest,
    issue: TokenIssue,
    counters: RunCounters,
}

impl RegionController {
    pub fn new(p: &ControllerParams) -> RegionController {
        let (rows, cols) = (p.rows, p.cols);
        let stored_once = usize::from(p.banked_addr_bits.is_some());
        let cyclic = p.banked_addr_bits.is_some() && p.cyclic;
        let banked = stored_once - usize::from(cyclic);
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
            bank_row_words: vec_of(banked),
            bank_group_words: vec_of(banked),
            bank_channel_words: vec_of(banked),
            bank_pad_y_phase: vec_of(banked),
            bank_pad_y_bank: vec_of(banked),
            bank_pad_y_part: vec_of(banked),
            bank_pad_y_index: vec_of(banked),
            bank_pad_x_phase: vec_of(banked),
            bank_pad_x_bank: vec_of(banked),
            bank_pad_x_part: vec_of(banked),
            cyclic_constants: vec_of(if cyclic {
                drq_arch::cyclic::CYCLIC_CONSTANT_NAMES.len()
            } else {
                0
            }),
            act_addr: vec_of(rows),
            act_rd: vec_of(rows),
            act_row_bank: vec_of(stored_once * rows),
            mask_rd: vec_of(stored_once * rows),
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
            nest: LoopNest::new(p),
            issue: TokenIssue::new(p),
            counters: RunCounters::default(),
        }
    }
    fn rows(&self) -> usize {
        self.act_addr.len()
    }
    fn cols(&self) -> usize {
        self.w_addr.len()
    }
    /// 1 with banked input activations (the banked layout), else 0.
    fn banked(&self) -> usize {
        self.bank_row_words.len()
    }
    /// ROWS with stored-once activations (either layout), else 0.
    fn row_banks(&self) -> usize {
        self.act_row_bank.len()
    }
    fn cyclic_constant_count(&self) -> usize {
        self.cyclic_constants.len()
    }
}

impl Logic for RegionController {
    #[hdl_gen]
    fn update(&mut self) {
        self.nest.clock.next = self.clock.val();
        self.nest.reset.next = self.reset.val();
        self.issue.clock.next = self.clock.val();
        self.issue.reset.next = self.reset.val();
        self.counters.clock.next = self.clock.val();
        self.counters.reset.next = self.reset.val();
        self.nest.start.next = self.start.val();
        self.issue.start.next = self.start.val();
        self.counters.start.next = self.start.val();
        // The layer: geometry to the loop nest, shifts to the token issue.
        self.nest.c_in.next = self.c_in.val();
        self.nest.c_out.next = self.c_out.val();
        self.nest.h.next = self.h.val();
        self.nest.w.next = self.w.val();
        self.nest.kernel.next = self.kernel.val();
        self.nest.stride.next = self.stride.val();
        self.nest.padding.next = self.padding.val();
        self.nest.tile_h.next = self.tile_h.val();
        self.nest.tile_w.next = self.tile_w.val();
        self.issue.low_shift.next = self.low_shift.val();
        self.issue.w_low_shift.next = self.w_low_shift.val();
        // The loop nest's reads and next step; S2 takes it with `advance`.
        self.nest.advance.next = self.issue.advance.val();
        for r in 0..self.rows() {
            self.act_addr[r].next = self.nest.act_addr[r].val();
            self.mask_addr[r].next = self.nest.mask_addr[r].val();
            self.act_rd[r].next = self.nest.act_rd[r].val();
            self.issue.step_row_read[r].next = self.nest.step_row_read[r].val();
            self.issue.act_data[r].next = self.act_data[r].val();
            self.issue.mask_bit[r].next = self.mask_bit[r].val();
        }
        for k in 0..self.banked() {
            self.nest.bank_row_words[k].next = self.bank_row_words[k].val();
            self.nest.bank_group_words[k].next = self.bank_group_words[k].val();
            self.nest.bank_channel_words[k].next = self.bank_channel_words[k].val();
            self.nest.bank_pad_y_phase[k].next = self.bank_pad_y_phase[k].val();
            self.nest.bank_pad_y_bank[k].next = self.bank_pad_y_bank[k].val();
            self.nest.bank_pad_y_part[k].next = self.bank_pad_y_part[k].val();
            self.nest.bank_pad_y_index[k].next = self.bank_pad_y_index[k].val();
            self.nest.bank_pad_x_phase[k].next = self.bank_pad_x_phase[k].val();
            self.nest.bank_pad_x_bank[k].next = self.bank_pad_x_bank[k].val();
            self.nest.bank_pad_x_part[k].next = self.bank_pad_x_part[k].val();
        }
        for i in 0..self.cyclic_constant_count() {
            self.nest.cyclic_constants[i].next = self.cyclic_constants[i].val();
        }
        // Either stored-once layout: each row's bank and mask read.
        for r in 0..self.row_banks() {
            self.act_row_bank[r].next = self.nest.act_row_bank[r].val();
            self.mask_rd[r].next = self.nest.mask_rd[r].val();
        }
        for j in 0..self.cols() {
            self.w_addr[j].next = self.nest.w_addr[j].val();
            self.w_rd[j].next = self.nest.w_rd[j].val();
            self.issue.step_col_read[j].next = self.nest.step_col_read[j].val();
            self.issue.w_data[j].next = self.w_data[j].val();
        }
        self.issue.step_valid.next = self.nest.step_valid.val();
        self.issue.step_tile_last.next = self.nest.step_tile_last.val();
        self.issue.step_layer_last.next = self.nest.step_layer_last.val();
        self.issue.step_c.next = self.nest.step_c.val();
        self.issue.step_k.next = self.nest.step_k.val();
        self.issue.step_tile.next = self.nest.step_tile.val();
        self.issue.step_ct.next = self.nest.step_ct.val();
        self.issue.step_oh0.next = self.nest.step_oh0.val();
        self.issue.step_ow0.next = self.nest.step_ow0.val();
        self.issue.step_ry.next = self.nest.step_ry.val();
        self.issue.step_rx.next = self.nest.step_rx.val();
        // Tokens to the array.
        self.issue.in_ready.next = self.in_ready.val();
        self.in_valid.next = self.issue.in_valid.val();
        self.in_first.next = self.issue.in_first.val();
        self.in_commit.next = self.issue.in_commit.val();
        self.in_last.next = self.issue.in_last.val();
        self.in_hshift.next = self.issue.in_hshift.val();
        for r in 0..self.rows() {
            self.in_digit[r].next = self.issue.in_digit[r].val();
            self.in_sens[r].next = self.issue.in_sens[r].val();
        }
        for j in 0..self.cols() {
            self.in_w_digit[j].next = self.issue.in_w_digit[j].val();
            self.in_w_low[j].next = self.issue.in_w_low[j].val();
        }
        self.low_shift_out.next = self.issue.low_shift_out.val();
        self.tile_channel.next = self.issue.tile_channel.val();
        self.tile_oh0.next = self.issue.tile_oh0.val();
        self.tile_ow0.next = self.issue.tile_ow0.val();
        self.drq_mode_high.next = self.issue.drq_mode_high.val();
        self.drq_channel.next = self.issue.drq_channel.val();
        self.drq_region_y.next = self.issue.drq_region_y.val();
        self.drq_region_x.next = self.issue.drq_region_x.val();
        self.drq_k_step.next = self.issue.drq_k_step.val();
        self.drq_tile.next = self.issue.drq_tile.val();
        self.drq_token_shift.next = self.issue.drq_token_shift.val();
        // Counters of the tokens taken.
        self.counters.in_valid.next = self.issue.in_valid.val();
        self.counters.in_ready.next = self.in_ready.val();
        self.counters.in_commit.next = self.issue.in_commit.val();
        self.counters.in_last.next = self.issue.in_last.val();
        self.counters.mode_high.next = self.issue.drq_mode_high.val();
        self.counters.layer_last.next = self.issue.layer_last.val();
        self.busy.next = self.counters.busy.val();
        self.done.next = self.counters.done.val();
        self.steps_high.next = self.counters.steps_high.val();
        self.steps_low.next = self.counters.steps_low.val();
        self.token_cycles.next = self.counters.token_cycles.val();
        self.tiles.next = self.counters.tiles.val();
    }
}

/// The region controller alone (top `drq_controller`), with plain ports.
/// Layer registers 16 bits; addresses `AccelConfig::buffer_addr_bits`;
/// counters `COUNTER_BITS`;
/// per-row and per-column buses packed like the array's (lane k at
/// `[k*L +: L]`). See `docs/controller.md`.
pub fn controller_design(cfg: &AccelConfig) -> Design {
    controller_design_with(cfg, &ControllerParams::new(cfg))
}

/// [`controller_design`] of given parameters: with
/// `ControllerParams::banked_addr_bits` the banked layout's ports
/// (docs/banked.md): its constants in, `act_addr` / `act_rd` per bank of
/// that many address bits, `act_row_bank` and `mask_rd` per row.
pub fn controller_design_with(cfg: &AccelConfig, params: &ControllerParams) -> Design {
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
    let act_addr_bits = params.banked_addr_bits.unwrap_or(cfg.buffer_addr_bits());
    if let (Some(bits), true) = (params.banked_addr_bits, params.cyclic) {
        // Entries (parts, steps, lengths) take the entry's bits (a bank's
        // address and the bank), digits `DIGIT_BITS`.
        let entry_bits = bits + cfg.rows.trailing_zeros();
        for (i, name) in drq_arch::cyclic::CYCLIC_CONSTANT_NAMES.iter().enumerate() {
            let width = if drq_arch::cyclic::is_digit_constant(name) {
                crate::bank_steps::DIGIT_BITS
            } else {
                entry_bits
            };
            let port = format!("cyclic_{name}");
            ports.push(p(
                &port,
                &format!("cyclic_constants${i}"),
                Input,
                width,
                None,
                Zero,
            ));
        }
    }
    if let (Some(bits), false) = (params.banked_addr_bits, params.cyclic) {
        // Address steps and parts take the bank's address bits, digits and
        // bank numbers `DIGIT_BITS`.
        for name in drq_arch::banked::CONSTANT_NAMES {
            let wide = name.ends_with("words") || name.ends_with("part");
            let width = if wide {
                bits
            } else {
                crate::bank_steps::DIGIT_BITS
            };
            let port = format!("bank_{name}");
            ports.push(p(&port, &port, Input, width, Some(1), Zero));
        }
    }
    if params.banked_addr_bits.is_some() {
        ports.extend([
            p(
                "act_row_bank",
                "act_row_bank",
                Output,
                crate::bank_steps::bank_index_bits(cfg.rows),
                rows,
                Zero,
            ),
            p("mask_rd", "mask_rd", Output, 1, rows, Flag),
        ]);
    }
    ports.extend([
        p("act_addr", "act_addr", Output, act_addr_bits, rows, Zero),
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
    let mut block = RegionController::new(params);
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
                ..AccelConfig::replicated()
            },
            AccelConfig {
                pe: PeKind::Int8,
                ..AccelConfig::replicated()
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
