//! The host interface of `drq_top` (docs/spec.md §8, docs/top.md): the
//! register map, its bit fields and the buffer window.
//!
//! [`REGISTERS`] is the one table. Everything else is produced from it:
//! the index constants of [`reg`], the RTL's register-file block
//! (`hdl/build.rs` generates `drq_hdl::regfile::HostRegisters` from it),
//! `drq_top_regs.json`, `drq_top_regs.h` and the register table in
//! `docs/top.md` (checked by a test). A new register is one line of the
//! table; RW registers come first, then the read-only ones.

use crate::config::{AccelConfig, ActLayout, PeKind};
use serde::Serialize;

/// Byte-address width of the AXI4-Lite port.
pub const ADDR_BITS: u32 = 24;
/// Register slots (32 bits each) at byte addresses 0 .. 4 * NUM_REGS.
pub const NUM_REGS: u32 = 128;
/// Byte address of the buffer window.
pub const WINDOW_BASE: u64 = 0x10_0000;
/// Words the window can span: from `WINDOW_BASE` to the top of the address space.
pub const MAX_WINDOW_WORDS: u64 = ((1 << ADDR_BITS) - WINDOW_BASE) / 4;
/// Bits of every counter of docs/spec.md §5 (2^48 cycles: 32 days at 100 MHz).
pub const COUNTER_BITS: u32 = 48;
/// Value of the ID register: "DRQ" and interface version 3 (version 2
/// added the banked layout's registers after WO, which moved every
/// read-only register, and ACC_WORDS; version 3 the cyclic layout's
/// registers after OUT_CHANNEL_WORDS, 128 register slots and
/// INFO_LAYOUT_CYCLIC, the mask pitch field one bit narrower).
pub const ID_VALUE: u32 = 0x4452_5103;

/// Who may do what with a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Read/write, reset to 0; reads return the stored bits.
    Rw,
    /// Write-only command: a write acts (a one-cycle strobe with the data);
    /// the written bits are stored like an RW register's and read back.
    W,
    /// Read-only: a write answers SLVERR and changes nothing.
    Ro,
}

/// How many bits a register holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// A fixed number of bits (the bits above read as 0).
    Bits(u32),
    /// A layer dimension: `AccelConfig::dim_bits` bits.
    Dim,
    /// A `COUNTER_BITS` counter: two slots, low word first, then bits 32 and up.
    Counter,
    /// A banked layout's address step or part: `AccelConfig::bank_addr_bits`
    /// bits with banked activations, else none (the slot reads 0).
    BankWords,
    /// A banked layout's digit (a stride, a tile side or a digit of one):
    /// `crate::banked::DIGIT_BITS` bits with banked activations, else none.
    BankDigit,
    /// The output's layout (either stored-once layout): a digit, or an
    /// address step (`bank_addr_bits` banked, `entry_bits` cyclic); none
    /// with replicated activations.
    OutDigit,
    OutWords,
    /// A cyclic layout's entry step or part (`AccelConfig::entry_bits`)
    /// or digit (`DIGIT_BITS`), with cyclic activations, else none.
    CyclicWords,
    CyclicDigit,
}

impl Width {
    /// Register slots (32-bit words) the register takes.
    pub const fn slots(self) -> usize {
        match self {
            Width::Counter => 2,
            _ => 1,
        }
    }
    /// Bits held, for a configuration.
    pub fn bits(self, cfg: &AccelConfig) -> u32 {
        match self {
            Width::Bits(b) => b,
            Width::Dim => cfg.dim_bits(),
            Width::Counter => COUNTER_BITS,
            Width::BankWords | Width::BankDigit if cfg.act_layout != ActLayout::Banked => 0,
            Width::CyclicWords | Width::CyclicDigit if cfg.act_layout != ActLayout::Cyclic => 0,
            Width::OutWords | Width::OutDigit if !cfg.act_layout.stored_once() => 0,
            Width::BankWords => cfg.bank_addr_bits(),
            Width::CyclicWords => cfg.entry_bits(),
            Width::OutWords if cfg.act_layout == ActLayout::Cyclic => cfg.entry_bits(),
            Width::OutWords => cfg.bank_addr_bits(),
            Width::BankDigit | Width::CyclicDigit | Width::OutDigit => crate::banked::DIGIT_BITS,
        }
    }
}

/// A bit field of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Full constant name, `<REGISTER>_<FIELD>` (see [`Field::short_name`]).
    pub name: &'static str,
    pub lsb: u32,
    pub width: u32,
    pub meaning: &'static str,
}

impl Field {
    /// The field's name without its register's prefix.
    pub fn short_name(&self, register: &str) -> &'static str {
        self.name
            .strip_prefix(register)
            .and_then(|s| s.strip_prefix('_'))
            .unwrap_or(self.name)
    }
    /// The field's bits in its register.
    pub const fn mask(&self) -> u32 {
        (((1u64 << self.width) - 1) << self.lsb) as u32
    }
}

/// One register of the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    pub name: &'static str,
    pub access: Access,
    pub width: Width,
    pub meaning: &'static str,
    pub fields: &'static [Field],
}

/// Defines [`REGISTERS`] and the constants of [`reg`] from one list.
macro_rules! register_table {
    ($(
        $name:ident : $access:ident, $width:expr, $meaning:literal
        $( { $( $field:ident @ $lsb:literal : $fwidth:literal $fmeaning:literal ),* $(,)? } )? ;
    )*) => {
        /// The register map, in address order (index = slot).
        pub const REGISTERS: &[Register] = &[$(
            Register {
                name: stringify!($name),
                access: Access::$access,
                width: $width,
                meaning: $meaning,
                fields: &[$($(Field {
                    name: stringify!($field),
                    lsb: $lsb,
                    width: $fwidth,
                    meaning: $fmeaning,
                }),*)?],
            }
        ),*];

        /// Register slot indices (byte address = 4 * index) and field masks.
        pub mod reg {
            use super::{index_of, REGISTERS};
            $(
                pub const $name: usize = index_of(REGISTERS, stringify!($name));
                $($( pub const $field: u32 = (((1u64 << $fwidth) - 1) << $lsb) as u32; )*)?
            )*
            /// Slots of the RW (and W) registers, `0 .. N_RW`.
            pub const N_RW: usize = super::count_slots(REGISTERS, true);
            /// Slots of the RO registers, `N_RW .. N_RW + N_RO`.
            pub const N_RO: usize = super::count_slots(REGISTERS, false) - N_RW;
        }
    };
}

use Width::{
    BankDigit, BankWords, Bits, Counter, CyclicDigit, CyclicWords, Dim, OutDigit, OutWords,
};

register_table! {
    CMD: W, Bits(2), "command" {
        CMD_START @ 0 : 1 "start a run (ignored while busy)",
        CMD_CLEAR @ 1 : 1 "clear done, irq and host_conflict",
    };
    MODE: Rw, Bits(5), "run options" {
        MODE_PREDICT_IN @ 0 : 1 "predict the input mask from the input buffer first (DRQ only)",
        MODE_PREDICT_OUT @ 1 : 1 "predict the output's mask into the other mask buffer",
        MODE_IRQ_ENABLE @ 2 : 1 "raise irq while done",
        MODE_ACT_SEL @ 3 : 1 "input activation buffer (0 ACT0, 1 ACT1); outputs go to the other",
        MODE_MASK_SEL @ 4 : 1 "input mask buffer (0 MASK0, 1 MASK1); the output mask goes to the other",
    };
    C_IN: Rw, Dim, "input channels C_in";
    C_OUT: Rw, Dim, "output channels C_out";
    H: Rw, Dim, "input height H";
    W: Rw, Dim, "input width W";
    KERNEL: Rw, Dim, "kernel size K";
    STRIDE: Rw, Dim, "stride S";
    PADDING: Rw, Dim, "padding P";
    TILE_H: Rw, Dim, "pixel tile height TH (TH * TW <= ROWS)";
    TILE_W: Rw, Dim, "pixel tile width TW (TH * TW <= ROWS)";
    LOW_SHIFT: Rw, Bits(4), "activation low shift s";
    W_LOW_SHIFT: Rw, Bits(4), "weight low shift sw";
    THRESHOLD: Rw, Bits(16), "threshold T of the input mask (predict_in; 0 and values above a_max skip the prediction: every region sensitive, or none)";
    NEXT_THRESHOLD: Rw, Bits(16), "threshold of the output mask (predict_out)";
    REQUANT_MULT: Rw, Bits(16), "requantisation multiplier M";
    REQUANT_SHIFT: Rw, Bits(6), "requantisation shift SH";
    HO: Rw, Dim, "output height (H + 2P - K) / S + 1, computed by the host";
    WO: Rw, Dim, "output width (W + 2P - K) / S + 1, computed by the host";
    BANK_ROW_WORDS: Rw, BankWords, "banked input: address step of a bank row, NX S (docs/banked.md; the host computes this and the nine below)";
    BANK_GROUP_WORDS: Rw, BankWords, "banked input: address step of a row group, S NX S";
    BANK_CHANNEL_WORDS: Rw, BankWords, "banked input: address step of a channel, NY S NX S";
    BANK_PAD_Y_PHASE: Rw, BankDigit, "banked input: phase digit of -P under (S, TH)";
    BANK_PAD_Y_BANK: Rw, BankDigit, "banked input: bank digit of -P under (S, TH)";
    BANK_PAD_Y_PART: Rw, BankWords, "banked input: address part of -P as a row (two's complement)";
    BANK_PAD_Y_INDEX: Rw, BankDigit, "banked input: bank digit of -P as a row, times TW";
    BANK_PAD_X_PHASE: Rw, BankDigit, "banked input: phase digit of -P under (S, TW)";
    BANK_PAD_X_BANK: Rw, BankDigit, "banked input: bank digit of -P under (S, TW)";
    BANK_PAD_X_PART: Rw, BankWords, "banked input: address part of -P as a column (two's complement)";
    OUT_STRIDE: Rw, OutDigit, "banked or cyclic output: stride S' of the layer that reads the output";
    OUT_TILE_H: Rw, BankDigit, "banked output: pixel tile height TH' of the layer that reads it";
    OUT_TILE_W: Rw, OutDigit, "banked or cyclic output: pixel tile width TW' of the layer that reads it";
    OUT_ROW_WORDS: Rw, BankWords, "banked output: address step of a bank row of the output's layout";
    OUT_GROUP_WORDS: Rw, BankWords, "banked output: address step of a row group of the output's layout";
    OUT_CHANNEL_WORDS: Rw, OutWords, "banked or cyclic output: address (cyclic: entry) step of a channel of the output's layout";
    CYC_BAND_LEN: Rw, CyclicWords, "cyclic input: entries of a column band, CBL (docs/banked.md \"The cyclic layout\"; the host computes this and the 18 below, drq_arch::cyclic)";
    CYC_TILE_ROW_WORDS: Rw, CyclicWords, "cyclic input: entry step of a tile row, TH TW";
    CYC_CHANNEL_WORDS: Rw, CyclicWords, "cyclic input: entry step of a channel, S^2 PL";
    CYC_BAND_WORDS: Rw, CyclicWords, "cyclic input: Q = (CBL - TW) / ROWS, the words a read moves on into the next band";
    CYC_PAD_Y_PHASE: Rw, CyclicDigit, "cyclic input: phase digit of -P under (S, 1)";
    CYC_PAD_Y_PART: Rw, CyclicWords, "cyclic input: entry part of -P as a row (two's complement)";
    CYC_Y_PHASE_STEP: Rw, CyclicWords, "cyclic input: a row part's step where the phase steps";
    CYC_Y_GROUP_STEP: Rw, CyclicWords, "cyclic input: a row part's step where the phase wraps";
    CYC_PAD_X_PHASE: Rw, CyclicDigit, "cyclic input: phase digit of -P under (S, TW)";
    CYC_PAD_X_BANK: Rw, CyclicDigit, "cyclic input: bank digit of -P under (S, TW)";
    CYC_PAD_X_PART: Rw, CyclicWords, "cyclic input: entry part of -P as a column (two's complement)";
    CYC_X_PHASE_STEP: Rw, CyclicWords, "cyclic input: a column part's step where the phase steps";
    CYC_X_BANK_STEP: Rw, CyclicWords, "cyclic input: a column part's step where the bank digit steps";
    CYC_X_GROUP_STEP: Rw, CyclicWords, "cyclic input: a column part's step where the band steps";
    OUT_Y_PHASE_STEP: Rw, CyclicWords, "cyclic output: a row part's step where the phase steps, in the output's layout";
    OUT_Y_GROUP_STEP: Rw, CyclicWords, "cyclic output: a row part's step where the phase wraps";
    OUT_X_PHASE_STEP: Rw, CyclicWords, "cyclic output: a column part's step where the phase steps";
    OUT_X_BANK_STEP: Rw, CyclicWords, "cyclic output: a column part's step where the bank digit steps";
    OUT_X_GROUP_STEP: Rw, CyclicWords, "cyclic output: a column part's step where the band steps";
    STATUS: Ro, Bits(12), "state, one cycle behind" {
        STATUS_BUSY @ 0 : 1 "a run is in progress",
        STATUS_DONE @ 1 : 1 "the last run finished (sticky until clear or start)",
        STATUS_OVERSIZE @ 2 : 1 "the predictor of this run refused a map larger than its memory (cleared by start)",
        STATUS_HOST_CONFLICT @ 3 : 1 "a buffer was accessed while busy (sticky until clear or start)",
        STATUS_IRQ @ 4 : 1 "the interrupt line",
        STATUS_CLEARING @ 5 : 1 "the streaming predictor clears its sums (after reset): a start written now waits for the clear",
        STATUS_PHASE @ 8 : 4 "phase of the run (docs/top.md)",
    };
    STEPS_HIGH: Ro, Counter, "steps run in HIGH mode";
    STEPS_LOW: Ro, Counter, "steps run in LOW mode";
    TOKEN_CYCLES: Ro, Counter, "tokens streamed";
    TILES: Ro, Counter, "(channel tile, pixel tile) pairs run";
    CYCLES_TOTAL: Ro, Counter, "cycles from start to done";
    STALL_CYCLES: Ro, Counter, "cycles in which the array took no token";
    INFO_ARRAY: Ro, Bits(32), "array shape" {
        INFO_ARRAY_ROWS @ 0 : 8 "ROWS",
        INFO_ARRAY_COLS @ 8 : 8 "COLS",
        INFO_ARRAY_REGION @ 16 : 8 "REGION",
        INFO_ARRAY_PE @ 24 : 2 "PE kind: 0 drq, 1 int8",
        INFO_ARRAY_STREAM_PREDICTOR @ 26 : 1 "1: mask bits written as regions complete (no CLEAR, no SWEEP)",
        INFO_ARRAY_OVERLAP @ 27 : 1 "1: shadow accumulators, a tile read out under the next one's tokens",
        INFO_ARRAY_OUT_LANES_LOG2 @ 28 : 3 "log2 of out_lanes: output pixels written per cycle",
        INFO_ARRAY_ROW_TAPS @ 31 : 1 "1: row taps, a tile's rows read out row 0 first as each completes",
    };
    INFO_BITS: Ro, Bits(32), "number widths" {
        INFO_BITS_A_HI @ 0 : 8 "A_HI",
        INFO_BITS_A_LO @ 8 : 8 "A_LO",
        INFO_BITS_W_HI @ 16 : 8 "W_HI",
        INFO_BITS_W_LO @ 24 : 8 "W_LO",
    };
    INFO_LAYOUT: Ro, Bits(32), "accumulator and buffer layout" {
        INFO_LAYOUT_ACC_BITS @ 0 : 8 "ACC_BITS",
        INFO_LAYOUT_ACT_PITCH_LOG2 @ 8 : 7 "log2 of act_row_pitch, the row pitch of every map without packed rows",
        INFO_LAYOUT_PACKED_ROWS @ 15 : 1 "1: packed rows, a map of width W stored at the pitch W rounded up to out_lanes",
        INFO_LAYOUT_MASK_PITCH_LOG2 @ 16 : 6 "log2 of the mask row pitch",
        INFO_LAYOUT_CYCLIC @ 22 : 1 "1: cyclic activation buffers, each map stored once over ROWS banks in the cyclic layout (docs/banked.md)",
        INFO_LAYOUT_BANKED @ 23 : 1 "1: banked activation buffers, each map stored once over ROWS banks (docs/banked.md)",
        INFO_LAYOUT_OUT_ROWS @ 24 : 7 "out_rows: array rows the output stage holds (the cycle formula's Q)",
        INFO_LAYOUT_BURST_READOUT @ 31 : 1 "1: burst read-out, a tile's rows leave back to back once the output stage has room for it",
    };
    ACT_WORDS: Ro, Bits(32), "entries of each activation buffer";
    WEIGHT_WORDS: Ro, Bits(32), "entries of the weight buffer";
    MASK_WORDS: Ro, Bits(32), "entries of each mask buffer";
    BIAS_WORDS: Ro, Bits(32), "entries of the bias buffer";
    ACC_WORDS: Ro, Bits(32), "entries of the accumulator buffer ACC";
    ID: Ro, Bits(32), "0x44525103: \"DRQ\", interface version 3";
}

/// Slot of the register named `name` (a compile error if there is none).
pub const fn index_of(table: &[Register], name: &str) -> usize {
    let mut slot = 0;
    let mut i = 0;
    while i < table.len() {
        if str_eq(table[i].name, name) {
            return slot;
        }
        slot += table[i].width.slots();
        i += 1;
    }
    panic!("no such register")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Slots of the registers of `table`; with `writable_only`, of the RW
/// and W ones alone.
const fn count_slots(table: &[Register], writable_only: bool) -> usize {
    let mut slots = 0;
    let mut i = 0;
    while i < table.len() {
        if !writable_only || !matches!(table[i].access, Access::Ro) {
            slots += table[i].width.slots();
        }
        i += 1;
    }
    slots
}

/// The bits each RW register stores (the slave's write masks), by slot.
pub fn rw_bits(cfg: &AccelConfig) -> Vec<u32> {
    REGISTERS
        .iter()
        .filter(|r| r.access != Access::Ro)
        .map(|r| r.width.bits(cfg))
        .collect()
}

/// The slots of the command (W) registers, in table order: the only
/// slots whose writes the RTL's slave pulses (`write_strobe`).
pub fn strobe_slots() -> Vec<usize> {
    REGISTERS
        .iter()
        .filter(|r| r.access == Access::W)
        .map(|r| index_of(REGISTERS, r.name))
        .collect()
}

/// The constant read-only registers INFO_ARRAY .. ID, in index order.
pub fn info_values(cfg: &AccelConfig) -> Vec<u32> {
    let pe = match cfg.pe {
        PeKind::Drq => 0,
        PeKind::Int8 => 1,
    };
    vec![
        cfg.rows
            | cfg.cols << 8
            | cfg.region << 16
            | pe << 24
            | u32::from(cfg.stream_predictor) << 26
            | u32::from(cfg.overlap) << 27
            | cfg.out_lanes.trailing_zeros() << 28
            | u32::from(cfg.row_taps) << 31,
        cfg.a_hi | cfg.a_lo << 8 | cfg.w_hi << 16 | cfg.w_lo << 24,
        cfg.acc_bits
            | cfg.act_row_pitch().trailing_zeros() << 8
            | u32::from(cfg.packed_rows) << 15
            | cfg.mask_row_pitch().trailing_zeros() << 16
            | u32::from(cfg.act_layout == ActLayout::Cyclic) << 22
            | u32::from(cfg.act_layout == ActLayout::Banked) << 23
            | cfg.out_rows << 24
            | u32::from(cfg.burst_readout) << 31,
        cfg.act_words,
        cfg.weight_words,
        cfg.mask_words,
        cfg.bias_words,
        cfg.acc_words,
        ID_VALUE,
    ]
}

/// Phases of the top-level state machine (`STATUS.phase`).
pub mod phase {
    pub const IDLE: u64 = 0;
    pub const PIN_START: u64 = 1;
    pub const PIN_CLEAR: u64 = 2;
    pub const PIN_SCAN: u64 = 3;
    pub const PIN_WAIT: u64 = 4;
    pub const POUT_START: u64 = 5;
    pub const POUT_CLEAR: u64 = 6;
    pub const CONV_START: u64 = 7;
    pub const CONV: u64 = 8;
    pub const POUT_WAIT: u64 = 9;
}

/// The buffers in the window, in region order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Buffer {
    Act0,
    Act1,
    Mask0,
    Mask1,
    Weights,
    Bias,
    Acc,
}

impl Buffer {
    pub const ALL: [Buffer; 7] = [
        Buffer::Act0,
        Buffer::Act1,
        Buffer::Mask0,
        Buffer::Mask1,
        Buffer::Weights,
        Buffer::Bias,
        Buffer::Acc,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Buffer::Act0 => "act0",
            Buffer::Act1 => "act1",
            Buffer::Mask0 => "mask0",
            Buffer::Mask1 => "mask1",
            Buffer::Weights => "weights",
            Buffer::Bias => "bias",
            Buffer::Acc => "acc",
        }
    }
}

/// Where each buffer sits in the AXI window, for one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowMap {
    /// Window words per region: a power of two >= every region's size.
    pub span: u64,
    /// Window words per accumulator (1 for ACC_BITS <= 32, else 2: low word first).
    pub acc_stride: u64,
    cfg: AccelConfig,
}

impl WindowMap {
    pub fn new(cfg: &AccelConfig) -> WindowMap {
        let acc_stride = if cfg.acc_bits > 32 { 2 } else { 1 };
        let largest = [
            cfg.act_words.into(),
            u64::from(cfg.acc_words) * acc_stride,
            cfg.mask_words.into(),
            cfg.weight_words.into(),
            cfg.bias_words.into(),
        ]
        .into_iter()
        .max()
        .unwrap();
        WindowMap {
            span: largest.next_power_of_two(),
            acc_stride,
            cfg: *cfg,
        }
    }
    /// Words of a buffer (entries; the ACC region has `acc_stride` window
    /// words per entry).
    pub fn words(&self, b: Buffer) -> u64 {
        let c = &self.cfg;
        match b {
            Buffer::Act0 | Buffer::Act1 => c.act_words.into(),
            Buffer::Acc => c.acc_words.into(),
            Buffer::Mask0 | Buffer::Mask1 => c.mask_words.into(),
            Buffer::Weights => c.weight_words.into(),
            Buffer::Bias => c.bias_words.into(),
        }
    }
    /// Window word offset of the buffer's first word.
    pub fn base_word(&self, b: Buffer) -> u64 {
        Buffer::ALL.iter().position(|&x| x == b).unwrap() as u64 * self.span
    }
    /// AXI byte address of entry `index` of a buffer (the low word for ACC).
    pub fn byte_addr(&self, b: Buffer, index: u64) -> u64 {
        let stride = if b == Buffer::Acc { self.acc_stride } else { 1 };
        WINDOW_BASE + 4 * (self.base_word(b) + index * stride)
    }
    /// Window words in all.
    pub fn window_words(&self) -> u64 {
        Buffer::ALL.len() as u64 * self.span
    }
    /// First byte address past the last buffer region (reads from there to
    /// the top of the address space answer SLVERR).
    pub fn window_end(&self) -> u64 {
        WINDOW_BASE + 4 * self.window_words()
    }
}

/// One register slot as the JSON and the header describe it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotInfo {
    pub name: String,
    pub index: usize,
    pub offset: u64,
    pub access: Access,
    /// Bits held in this slot (above them reads return 0).
    pub bits: u32,
    pub reset: u32,
    /// For constant RO registers: the value this configuration reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    pub meaning: String,
    pub fields: Vec<FieldInfo>,
}

/// A bit field in the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub lsb: u32,
    pub width: u32,
    pub meaning: &'static str,
}

/// Every register slot of a configuration, in address order; a counter is
/// two slots, `<NAME>_LO` (bits 0..31) and `<NAME>_HI` (bits 32..).
pub fn slots(cfg: &AccelConfig) -> Vec<SlotInfo> {
    let info = info_values(cfg);
    let mut out = Vec::new();
    for r in REGISTERS {
        let index = index_of(REGISTERS, r.name);
        let fields: Vec<FieldInfo> = r
            .fields
            .iter()
            .map(|f| FieldInfo {
                name: f.short_name(r.name),
                lsb: f.lsb,
                width: f.width,
                meaning: f.meaning,
            })
            .collect();
        let value = index
            .checked_sub(reg::INFO_ARRAY)
            .and_then(|k| info.get(k).copied());
        let slot = |name: String, index: usize, bits: u32, meaning: String| SlotInfo {
            name,
            index,
            offset: 4 * index as u64,
            access: r.access,
            bits,
            reset: 0,
            value,
            meaning,
            fields: fields.clone(),
        };
        match r.width {
            Width::Counter => {
                out.push(slot(
                    format!("{}_LO", r.name),
                    index,
                    32,
                    format!("{}, bits 0..31", r.meaning),
                ));
                out.push(slot(
                    format!("{}_HI", r.name),
                    index + 1,
                    COUNTER_BITS - 32,
                    format!("{}, bits 32..{}", r.meaning, COUNTER_BITS - 1),
                ));
            }
            w => out.push(slot(
                r.name.to_string(),
                index,
                w.bits(cfg),
                r.meaning.into(),
            )),
        }
    }
    out
}

fn layouts() -> serde_json::Value {
    serde_json::json!({
        "act": "(c * H + y) * pitch(W) + x; pitch(W) = act_row_pitch, or with packed rows W rounded up to out_lanes",
        "mask": "(c * ceil(H / R) + ry) * mask_row_pitch + rx",
        "weights": "k * C_out + oc, k = (c * K + ki) * K + kj",
        "bias": "oc",
        "acc": "(c * Ho + y) * pitch(Wo) + x (low word first when acc_bits > 32)",
    })
}

/// The register map and buffer window of a configuration as JSON
/// (`drq_top_regs.json`): every register with its bit fields, so a script
/// can drive the device from this file alone.
pub fn register_map_json(cfg: &AccelConfig) -> String {
    let map = WindowMap::new(cfg);
    let buffers: Vec<serde_json::Value> = Buffer::ALL
        .iter()
        .map(|&b| {
            serde_json::json!({
                "name": b.name(),
                "base": map.byte_addr(b, 0),
                "words": map.words(b),
                "window_words_per_entry": if b == Buffer::Acc { map.acc_stride } else { 1 },
            })
        })
        .collect();
    let v = serde_json::json!({
        "config": cfg,
        "data_bits": 32,
        "addr_bits": ADDR_BITS,
        "id": ID_VALUE,
        "registers": slots(cfg),
        "rules": {
            "tile": "TILE_H * TILE_W <= rows",
            "busy": "while STATUS.busy, buffer writes are dropped, buffer reads return 0 and set STATUS.host_conflict; registers may be read",
            "errors": "SLVERR: a write to an RO register, an access to an unmapped register slot or above window_end, a window write with a partial strobe",
        },
        "window_base": WINDOW_BASE,
        "window_end": map.window_end(),
        "buffers": buffers,
        "layouts": layouts(),
        "act_row_pitch": cfg.act_row_pitch(),
        "mask_row_pitch": cfg.mask_row_pitch(),
    });
    let mut s = serde_json::to_string_pretty(&v).expect("register map serialises");
    s.push('\n');
    s
}

/// The register map and buffer window as a C header (`drq_top_regs.h`).
pub fn register_map_header(cfg: &AccelConfig) -> String {
    let map = WindowMap::new(cfg);
    let mut h = format!(
        "/* drq_top register map, generated by drq for {cfg}. Do not edit. */\n\
         #ifndef DRQ_TOP_REGS_H\n#define DRQ_TOP_REGS_H\n\n\
         #define DRQ_ID 0x{ID_VALUE:08X}u\n"
    );
    h.push_str("\n/* Registers: byte offsets from the slave's base address. */\n");
    for s in slots(cfg) {
        let access = match s.access {
            Access::Rw => "rw",
            Access::W => "w",
            Access::Ro => "ro",
        };
        h.push_str(&format!(
            "#define DRQ_REG_{:<16} 0x{:03X}u /* {access}: {} */\n",
            s.name, s.offset, s.meaning
        ));
    }
    h.push_str("\n/* Bit fields: masks in their register. */\n");
    for r in REGISTERS {
        for f in r.fields {
            h.push_str(&format!(
                "#define DRQ_{:<24} 0x{:08X}u /* {} */\n",
                f.name,
                f.mask(),
                f.meaning
            ));
        }
    }
    h.push_str("\n/* Buffers in the window: byte offset of entry 0, entries. */\n");
    for b in Buffer::ALL {
        let n = b.name().to_uppercase();
        h.push_str(&format!(
            "#define DRQ_BUF_{n}_BASE 0x{:06X}u\n#define DRQ_BUF_{n}_WORDS {}u\n",
            map.byte_addr(b, 0),
            map.words(b)
        ));
    }
    h.push_str(&format!(
        "#define DRQ_WINDOW_END 0x{:06X}u\n#define DRQ_ACC_WORDS_PER_ENTRY {}u\n\
         #define DRQ_ACT_ROW_PITCH {}u\n#define DRQ_MASK_ROW_PITCH {}u\n\
         \n#endif /* DRQ_TOP_REGS_H */\n",
        map.window_end(),
        map.acc_stride,
        cfg.act_row_pitch(),
        cfg.mask_row_pitch()
    ));
    h
}

/// The register table of `docs/top.md` (between its `regs:begin` and
/// `regs:end` markers), generated from [`REGISTERS`].
pub fn register_map_markdown() -> String {
    let mut t = String::from(
        "| index | offset | name | access | bits | meaning | fields |\n|---|---|---|---|---|---|---|\n",
    );
    for r in REGISTERS {
        let index = index_of(REGISTERS, r.name);
        let (idx, off) = match r.width.slots() {
            1 => (format!("{index}"), format!("0x{:02X}", 4 * index)),
            n => (
                format!("{index}..{}", index + n - 1),
                format!("0x{:02X}..0x{:02X}", 4 * index, 4 * (index + n - 1)),
            ),
        };
        let access = match r.access {
            Access::Rw => "rw",
            Access::W => "w",
            Access::Ro => "ro",
        };
        let bits = match r.width {
            Width::Bits(b) => b.to_string(),
            Width::Dim => "dim_bits".into(),
            Width::Counter => format!("{COUNTER_BITS} (low word first)"),
            Width::BankWords => "bank address bits (banked; else 0)".into(),
            Width::BankDigit => format!("{} (banked; else 0)", crate::banked::DIGIT_BITS),
            Width::OutWords => {
                "bank address bits (banked), entry bits (cyclic; replicated 0)".into()
            }
            Width::OutDigit => format!("{} (banked or cyclic; else 0)", crate::banked::DIGIT_BITS),
            Width::CyclicWords => "entry bits (cyclic; else 0)".into(),
            Width::CyclicDigit => format!("{} (cyclic; else 0)", crate::banked::DIGIT_BITS),
        };
        let fields: Vec<String> = r
            .fields
            .iter()
            .map(|f| {
                let bits = if f.width == 1 {
                    f.lsb.to_string()
                } else {
                    format!("{}..{}", f.lsb, f.lsb + f.width - 1)
                };
                format!(
                    "{bits} `{}`: {}",
                    f.short_name(r.name).to_lowercase(),
                    f.meaning
                )
            })
            .collect();
        t.push_str(&format!(
            "| {idx} | {off} | {} | {access} | {bits} | {} | {} |\n",
            r.name,
            r.meaning.replace('|', "\\|"),
            fields.join("; ")
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_contiguous_rw_first_and_fit_the_slave() {
        let s = slots(&AccelConfig::default());
        assert_eq!(s.len(), reg::N_RW + reg::N_RO);
        for (i, slot) in s.iter().enumerate() {
            assert_eq!(slot.index, i, "{}", slot.name);
            assert_eq!(slot.access == Access::Ro, i >= reg::N_RW, "{}", slot.name);
        }
        assert!(s.len() <= NUM_REGS as usize);
        assert_eq!(rw_bits(&AccelConfig::default()).len(), reg::N_RW);
        assert_eq!(
            info_values(&AccelConfig::default()).len(),
            reg::ID - reg::INFO_ARRAY + 1
        );
    }

    #[test]
    fn fields_lie_inside_their_register_and_do_not_overlap() {
        let cfg = AccelConfig::default();
        for r in REGISTERS {
            let mut seen = 0u32;
            for f in r.fields {
                assert!(f.name.starts_with(r.name), "{} in {}", f.name, r.name);
                assert!(f.lsb + f.width <= r.width.bits(&cfg), "{}", f.name);
                assert_eq!(seen & f.mask(), 0, "{} overlaps", f.name);
                seen |= f.mask();
            }
        }
    }

    #[test]
    fn window_regions_do_not_overlap_and_fit_the_address_space() {
        for cfg in [
            AccelConfig::default(),
            AccelConfig {
                acc_bits: 64,
                act_words: 1 << 18,
                acc_words: 1 << 18,
                mask_words: 1 << 19,
                weight_words: 1 << 19,
                ..AccelConfig::replicated()
            },
        ] {
            let map = WindowMap::new(&cfg);
            for b in Buffer::ALL {
                let stride = if b == Buffer::Acc { map.acc_stride } else { 1 };
                assert!(map.words(b) * stride <= map.span, "{b:?}");
            }
            assert!(map.window_words() <= MAX_WINDOW_WORDS);
            assert!(map.window_end() <= 1 << ADDR_BITS);
        }
    }

    /// docs/top.md carries the generated table between its markers.
    #[test]
    fn docs_register_table_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/top.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let begin =
            "<!-- regs:begin (generated from arch/src/regs.rs; `drq regs --format markdown`) -->\n";
        let end = "<!-- regs:end -->";
        let start = doc
            .find(begin)
            .expect("docs/top.md has no regs:begin marker")
            + begin.len();
        let stop = doc[start..].find(end).expect("no regs:end marker") + start;
        assert_eq!(
            &doc[start..stop],
            register_map_markdown(),
            "docs/top.md's register table differs from arch/src/regs.rs: paste the output of `drq regs`"
        );
    }
}
