//! The accelerator's generator parameters (docs/spec.md §1).
//!
//! One typed configuration, [`AccelConfig`], is read by the RTL generator, the
//! golden model and every testbench. It is only ever constructed through
//! [`AccelConfig::from_raw`] (or the TOML / default helpers that call it), so a
//! value of this type is always valid: every range and combination rule of
//! docs/spec.md §1 has been checked, and derived widths are computed in one place.
//!
//! The file format is TOML with the spec names in lower case:
//!
//! ```toml
//! rows = 16
//! cols = 16
//! a_hi = 8
//! a_lo = 4
//! w_hi = 8
//! w_lo = 4
//! acc_bits = 32
//! region = 4
//! pe = "drq"           # or "int8": the plain baseline PE
//! mask_words = 16384   # mask buffer / predictor depth
//! max_width = 64       # widest feature map (buffer row pitch)
//! act_words = 32768    # each activation buffer (default: 2048 a bank stored once, 4096 replicated)
//! weight_words = 4096  # weight buffer
//! bias_words = 256     # bias buffer (output channels)
//! out_rows = 1         # rows the output stage holds (1: no row queue)
//! out_lanes = 1        # output pixels requantised and written per cycle
//! overlap = false      # shadow accumulators: read a tile out under the next one
//! stream_predictor = false  # mask bits written as regions complete (no clear, no sweep)
//! row_taps = true      # read a tile's rows row 0 first, as each completes, through a
//!                      # multiplexer (of the shadows, or without them of the PEs: no chain)
//! burst_readout = false  # a tile's rows leave back to back once the output stage has room
//! ram_read_ports = 2   # read ports a buffer copy serves (2: both ports of a true dual-port
//!                      # block RAM, for a buffer with an even number of read ports)
//! packed_rows = false  # a map's rows at its own width (rounded up to out_lanes), not at the
//!                      # widest map's power-of-two pitch
//! act_layout = "cyclic"  # ACT0/ACT1 stored once over ROWS banks (or "banked"), or "replicated":
//!                      # a copy per read; default cyclic where its rules hold (rows a power
//!                      # of two, out_lanes 1, no packed rows), else replicated
//! acc_words = 16384    # accumulator buffer (ACC) entries, at most act_words (default
//!                      # act_words / 2 stored once, act_words replicated)
//! max_dim = 128        # largest C_in, H, C_out, Ho the counters hold (default act_words /
//!                      # pitch, at most 128 stored once)
//! ```
//!
//! A missing key takes the spec default; an unknown key is an error.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// One rejected parameter: which one, the value given and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scope}: {param} = {value}; allowed: {allowed}")]
pub struct ParamError {
    /// What the parameter belongs to ("accelerator configuration", "layer").
    pub scope: &'static str,
    /// The parameter's name as written in the file (lower case).
    pub param: &'static str,
    /// The value that was given.
    pub value: String,
    /// The allowed range or rule, in words.
    pub allowed: String,
}

/// Anything that can go wrong reading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("cannot read accelerator configuration {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("accelerator configuration {path}: {message}")]
    Syntax { path: String, message: String },
    /// A value out of range in a configuration file (or a flag: `path` is
    /// then the flag, e.g. `--rows`).
    #[error("{path}: {error}")]
    InFile { path: String, error: ParamError },
}

/// A configuration as written by a user: every key optional, values not yet
/// checked. Unknown keys are rejected when parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccelConfig {
    pub rows: Option<i64>,
    pub cols: Option<i64>,
    pub a_hi: Option<i64>,
    pub a_lo: Option<i64>,
    pub w_hi: Option<i64>,
    pub w_lo: Option<i64>,
    pub acc_bits: Option<i64>,
    pub region: Option<i64>,
    /// Processing element: "drq" (default) or "int8" (the plain baseline).
    pub pe: Option<String>,
    /// Entries of the mask buffer and of the predictor's region sums.
    pub mask_words: Option<i64>,
    /// Widest feature map; its power-of-two ceiling is the activation row pitch.
    pub max_width: Option<i64>,
    /// Words of each activation buffer (and of the accumulator buffer).
    pub act_words: Option<i64>,
    /// Words of the weight buffer.
    pub weight_words: Option<i64>,
    /// Words of the bias buffer (output channels of a layer).
    pub bias_words: Option<i64>,
    /// Array rows the output stage holds: its row buffer and a queue of
    /// out_rows - 1 rows in front of it.
    pub out_rows: Option<i64>,
    /// Output pixels of one row and channel the output stage requantises
    /// and writes per cycle (lanes of an activation-buffer word).
    pub out_lanes: Option<i64>,
    /// Shadow accumulators: the array reads a tile out while it takes the
    /// next tile's tokens.
    pub overlap: Option<bool>,
    /// The predictor writes a region's mask bit when its last value
    /// arrives (no CLEAR or SWEEP phase in a run).
    pub stream_predictor: Option<bool>,
    /// The read-out taps each shadow row, row 0 first, as soon as the
    /// row is complete (needs `overlap`).
    pub row_taps: Option<bool>,
    /// The read-out waits until the output stage has room for the whole
    /// tile, then reads its rows back to back, and the next tile's last
    /// token may enter from its first row on (needs `row_taps`).
    pub burst_readout: Option<bool>,
    /// Read ports each copy of a replicated buffer serves: 1, or 2 (a
    /// true dual-port block RAM, half the copies).
    pub ram_read_ports: Option<i64>,
    /// Packed rows: a feature map's rows stored at its own width rounded
    /// up to out_lanes, not at the widest map's power-of-two pitch.
    pub packed_rows: Option<bool>,
    /// How ACT0 and ACT1 hold a map: "replicated" (default, a read copy
    /// per array row) or "banked" (stored once over ROWS banks, laid out
    /// for the layer that reads it; docs/banked.md).
    pub act_layout: Option<String>,
    /// Entries of the accumulator buffer ACC (default act_words).
    pub acc_words: Option<i64>,
    /// The largest channel count or map height (C_in, H, C_out, Ho) the
    /// counters hold (default: the rows an activation buffer holds,
    /// act_words / row pitch).
    pub max_dim: Option<i64>,
}

impl RawAccelConfig {
    /// Keys set in `over` replace those of `self` (flags over a file).
    pub fn overridden_by(&self, over: &RawAccelConfig) -> RawAccelConfig {
        RawAccelConfig {
            rows: over.rows.or(self.rows),
            cols: over.cols.or(self.cols),
            a_hi: over.a_hi.or(self.a_hi),
            a_lo: over.a_lo.or(self.a_lo),
            w_hi: over.w_hi.or(self.w_hi),
            w_lo: over.w_lo.or(self.w_lo),
            acc_bits: over.acc_bits.or(self.acc_bits),
            region: over.region.or(self.region),
            pe: over.pe.clone().or_else(|| self.pe.clone()),
            mask_words: over.mask_words.or(self.mask_words),
            max_width: over.max_width.or(self.max_width),
            act_words: over.act_words.or(self.act_words),
            weight_words: over.weight_words.or(self.weight_words),
            bias_words: over.bias_words.or(self.bias_words),
            out_rows: over.out_rows.or(self.out_rows),
            out_lanes: over.out_lanes.or(self.out_lanes),
            overlap: over.overlap.or(self.overlap),
            stream_predictor: over.stream_predictor.or(self.stream_predictor),
            row_taps: over.row_taps.or(self.row_taps),
            burst_readout: over.burst_readout.or(self.burst_readout),
            ram_read_ports: over.ram_read_ports.or(self.ram_read_ports),
            packed_rows: over.packed_rows.or(self.packed_rows),
            act_layout: over.act_layout.clone().or_else(|| self.act_layout.clone()),
            acc_words: over.acc_words.or(self.acc_words),
            max_dim: over.max_dim.or(self.max_dim),
        }
    }
}

/// Which processing element the array is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PeKind {
    /// The DRQ variable-speed PE: a (W_LO+1) x A_LO multiplier, HIGH steps
    /// take (A_HI/A_LO)*(W_HI/W_LO) tokens, LOW steps one.
    #[default]
    Drq,
    /// The plain baseline: a W_HI x A_HI multiplier, every step one token at
    /// full precision, the mask ignored (every activation sensitive).
    Int8,
}

impl PeKind {
    pub fn name(self) -> &'static str {
        match self {
            PeKind::Drq => "drq",
            PeKind::Int8 => "int8",
        }
    }
}

/// How the activation buffers ACT0 and ACT1 hold a map (docs/banked.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ActLayout {
    /// A read copy per array row (per two with dual-port copies), each
    /// holding the whole map at the row pitch.
    #[default]
    Replicated,
    /// Stored once over ROWS banks of act_words / ROWS entries, laid out
    /// for the layer that reads the map (its stride and pixel tile), so a
    /// step's ROWS reads fall on ROWS different banks.
    Banked,
    /// Stored once over ROWS banks (a power of two) in the cyclic layout
    /// (`crate::cyclic`, docs/banked.md "The cyclic layout"): a step's
    /// rows read banks (d + r) mod ROWS for one d, one rotation of the
    /// banks instead of a crossbar.
    Cyclic,
}

impl ActLayout {
    pub fn name(self) -> &'static str {
        match self {
            ActLayout::Replicated => "replicated",
            ActLayout::Banked => "banked",
            ActLayout::Cyclic => "cyclic",
        }
    }
    /// Each value stored once over ROWS banks (banked or cyclic).
    pub fn stored_once(self) -> bool {
        self != ActLayout::Replicated
    }
}

/// A validated accelerator configuration (docs/spec.md §1, generator parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AccelConfig {
    /// Array rows = output pixels per tile (1..=64).
    pub rows: u32,
    /// Array columns = output channels per tile (1..=64).
    pub cols: u32,
    /// Bits of a high-precision (unsigned) activation code (2..=16).
    pub a_hi: u32,
    /// Bits of a low-precision activation, one token digit (divides a_hi, < a_hi).
    pub a_lo: u32,
    /// Bits of a signed high-precision weight (2..=16).
    pub w_hi: u32,
    /// Bits of a signed low-precision weight, one token digit (divides w_hi, <= w_hi).
    pub w_lo: u32,
    /// Signed accumulator bits (16..=64); accumulation wraps at this width.
    pub acc_bits: u32,
    /// Side of a square sensitivity region (1, 2, 4, 8 or 16).
    pub region: u32,
    /// Processing element kind (not a spec parameter: the INT8 baseline
    /// of the FPGA comparison is the same array with the plain PE).
    pub pe: PeKind,
    /// Depth of the mask buffer and of the predictor's region-sum memory:
    /// (channel, region) entries, C * ceil(H/R) * ceil(W/R) at most
    /// (16..=524288; not a spec parameter).
    pub mask_words: u32,
    /// Widest feature map W the buffers hold (1..=65535; not a spec
    /// parameter). Buffers store a row of W_PITCH = next power of two of
    /// max_width words: see `act_row_pitch`.
    pub max_width: u32,
    /// Words of each of the two activation buffers (the ping-pong pair of
    /// the top level) and of the accumulator buffer: a feature map of C
    /// channels and H rows needs C * H * act_row_pitch words (16..=262144:
    /// the AXI window holds seven buffers of at most 2^19 words, and the
    /// accumulator buffer takes two window words per entry above 32 bits).
    pub act_words: u32,
    /// Words of the weight buffer: C_out * C_in * K * K (16..=524288).
    pub weight_words: u32,
    /// Words of the bias buffer: C_out (16..=65536).
    pub bias_words: u32,
    /// Array rows the output stage holds (1..=64; not a spec parameter):
    /// its row buffer and, above 1, a queue of out_rows - 1 rows in front
    /// of it, so the array can hand over a tile's rows faster than they
    /// are requantised and start the next tile (docs/spec.md §7.4). 1 is
    /// the machine without a queue.
    pub out_rows: u32,
    /// Output lanes L (1, 2, 4, 8 or 16; at most REGION and the activation
    /// row pitch, L * A_HI <= 64, a divisor of act_words; not a spec
    /// parameter): the output stage gathers up to L pixels of one output
    /// row and channel that share an activation-buffer word and
    /// requantises and writes them in one cycle; the activation and
    /// accumulator buffers store L values per word (docs/spec.md §6.4,
    /// §7.4, §8.1). 1 is the machine that writes one value per cycle.
    pub out_lanes: u32,
    /// Shadow accumulators (not a spec parameter): each PE moves its
    /// finished accumulators into a read-out register chain after the
    /// tile's last token, so the array reads a tile out while it takes the
    /// next tile's tokens (docs/spec.md §6.2, §7.4). false is the machine
    /// that reads out before it takes the next tile.
    pub overlap: bool,
    /// Streaming predictor (not a spec parameter): a count of pixels beside
    /// each region sum; the region's mask bit is written when its last
    /// pixel arrives and its entry is zeroed, so a run has no CLEAR and no
    /// SWEEP phase; the sums are cleared once after reset (docs/spec.md
    /// §6.5, §7.2). false is the machine that clears and sweeps per map.
    pub stream_predictor: bool,
    /// Row taps (not a spec parameter): the read-out selects each row by
    /// a multiplexer, row 0 first, as soon as the row's last column has
    /// its accumulators, so the flush before the read-out is COLS cycles
    /// instead of ROWS + COLS - 1 (docs/spec.md §6.2, §7.4). With
    /// `overlap` the taps read the shadow accumulators; without, the PEs'
    /// own, which restart from zero as their row is read, so the PEs have
    /// no read-out chain. false is the chain that leaves bottom row first.
    pub row_taps: bool,
    /// Burst read-out (not a spec parameter; needs `row_taps` and
    /// `overlap`): a tile's
    /// read-out starts only when the output stage has room for all of its
    /// lane groups, so its rows leave in ROWS consecutive cycles, and the
    /// next tile's last token may enter from the first of them on instead
    /// of after the last (docs/spec.md §6.2, §7.2). false waits for the
    /// whole read-out.
    pub burst_readout: bool,
    /// Read ports a copy of ACT0/ACT1, MASK0/MASK1 and WEIGHTS serves
    /// (not a spec parameter): 1, one copy per array row or column; 2
    /// (the default), a true dual-port block RAM whose first port also
    /// takes the writes, so half the copies, for each of those buffers
    /// with an even number of read ports ([`AccelConfig::copy_reads`]).
    /// The buffers are never read and written in one cycle, so the
    /// machine is the same cycle for cycle (docs/top.md, "Buffer copies").
    pub ram_read_ports: u32,
    /// Packed rows (not a spec parameter): the activation and accumulator
    /// buffers hold a map of width W at the row pitch W rounded up to
    /// out_lanes ([`AccelConfig::act_pitch`]), so narrow maps take fewer
    /// words and a buffer holds more of them; the controller, the input
    /// scan and the write-back step their addresses by that pitch with
    /// adders. false stores every map at `act_row_pitch`, the widest map's
    /// power of two, whose addresses are shifts (docs/top.md, "Packed
    /// rows"). The mask buffers keep their pitch either way.
    pub packed_rows: bool,
    /// How ACT0 and ACT1 hold a map (not a spec parameter; docs/banked.md):
    /// replicated (the default) or stored once over ROWS banks.
    pub act_layout: ActLayout,
    /// Entries of the accumulator buffer ACC (at most act_words; the
    /// default act_words). A layer's outputs must fit it.
    pub acc_words: u32,
    /// The `max_dim` key: a bound on C_in, H, C_out and Ho below the one
    /// the buffers imply, so every dimension counter is narrower (None:
    /// the buffers' bound; `max_dim()`).
    #[serde(rename = "max_dim", skip_serializing_if = "Option::is_none")]
    pub dim_limit: Option<u32>,
}

impl Default for AccelConfig {
    /// The default accelerator (`constraints/ulx3s/accel.toml`, sized for
    /// the ECP5-85F): 16x16, activations stored once in the cyclic layout
    /// (16 banks of 2,048 entries), ACC 16,384, max_dim 128. It is what
    /// an empty configuration file gives.
    fn default() -> Self {
        AccelConfig {
            act_layout: ActLayout::Cyclic,
            act_words: DEFAULT_BANK_WORDS * 16,
            acc_words: DEFAULT_BANK_WORDS * 16 / 2,
            dim_limit: Some(DEFAULT_STORED_ONCE_MAX_DIM),
            ..AccelConfig::replicated()
        }
    }
}

/// Entries of a bank of a stored-once activation buffer by default (two
/// DP16KD of 8-bit words hold ACT0's and ACT1's halves of a bank).
pub const DEFAULT_BANK_WORDS: u32 = 2048;
/// `act_words` of replicated buffers by default.
pub const DEFAULT_REPLICATED_ACT_WORDS: u32 = 4096;
/// `max_dim` of stored-once buffers by default (where the buffers and
/// `max_width` allow it): their own bound (act_words / row pitch, 512 at
/// the default) is far above the maps they hold, and every dimension
/// counter is two bits narrower (docs/banked.md).
pub const DEFAULT_STORED_ONCE_MAX_DIM: u32 = 128;

impl AccelConfig {
    /// The default accelerator as it was before its buffers were stored
    /// once (issue 17): 16x16 with replicated activation buffers of 4,096
    /// entries (`act_layout = "replicated"`, ACC 4,096, max_dim the
    /// buffers' bound). Tests derive their small replicated variants from
    /// it.
    pub fn replicated() -> Self {
        AccelConfig {
            rows: 16,
            cols: 16,
            a_hi: 8,
            a_lo: 4,
            w_hi: 8,
            w_lo: 4,
            acc_bits: 32,
            region: 4,
            pe: PeKind::Drq,
            mask_words: 16384,
            max_width: 64,
            act_words: DEFAULT_REPLICATED_ACT_WORDS,
            weight_words: 4096,
            bias_words: 256,
            out_rows: 1,
            out_lanes: 1,
            overlap: false,
            stream_predictor: false,
            row_taps: true,
            burst_readout: false,
            ram_read_ports: 2,
            packed_rows: false,
            act_layout: ActLayout::Replicated,
            acc_words: DEFAULT_REPLICATED_ACT_WORDS,
            dim_limit: None,
        }
    }
}

/// K: the predictor banks `lanes` output lanes need over regions of
/// `region` pixels ([`AccelConfig::predictor_banks`]).
fn banks_of(lanes: u32, region: u32) -> u32 {
    (lanes / region).max(1)
}

/// An option `key` that only works with another: `on` unless it is set
/// without `prerequisite`, which `allowed` explains.
fn needs(
    key: &'static str,
    on: bool,
    prerequisite: bool,
    allowed: &str,
) -> Result<bool, ParamError> {
    if on && !prerequisite {
        return Err(ParamError::new(SCOPE, key, true, allowed));
    }
    Ok(on)
}

impl AccelConfig {
    /// The small configuration of the tests: a 4 x 4 array, R = 2, lines
    /// of at most 16 pixels, every other value the default.
    pub fn small() -> AccelConfig {
        AccelConfig {
            rows: 4,
            cols: 4,
            region: 2,
            max_width: 16,
            ..AccelConfig::replicated()
        }
    }

    /// This configuration as a 3 x 5 array with R = 4, A 6/3 and W 6/2:
    /// six tokens a HIGH step, a signed top weight digit and two unsigned
    /// ones (a shape the tests use next to [`AccelConfig::small`]).
    pub fn six_tokens_3x5(self) -> AccelConfig {
        AccelConfig {
            rows: 3,
            cols: 5,
            region: 4,
            a_hi: 6,
            a_lo: 3,
            w_hi: 6,
            w_lo: 2,
            ..self
        }
    }
}

impl<'de> Deserialize<'de> for AccelConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawAccelConfig::deserialize(d)?;
        AccelConfig::from_raw(&raw).map_err(serde::de::Error::custom)
    }
}

const SCOPE: &str = "accelerator configuration";

impl ParamError {
    pub fn new(
        scope: &'static str,
        param: &'static str,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> ParamError {
        ParamError {
            scope,
            param,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// `value` as u32 if it lies in lo..=hi, else the error naming the range.
    pub fn check_range(
        scope: &'static str,
        param: &'static str,
        value: i64,
        lo: i64,
        hi: i64,
    ) -> Result<u32, ParamError> {
        if (lo..=hi).contains(&value) {
            Ok(value as u32)
        } else {
            Err(ParamError::new(scope, param, value, format!("{lo}..={hi}")))
        }
    }
}

fn reject(param: &'static str, value: i64, allowed: impl Into<String>) -> ParamError {
    ParamError::new(SCOPE, param, value, allowed)
}

fn in_range(param: &'static str, value: i64, lo: i64, hi: i64) -> Result<u32, ParamError> {
    ParamError::check_range(SCOPE, param, value, lo, hi)
}

/// Bits of an unsigned number up to `n`.
pub fn bits_for(n: u32) -> u32 {
    32 - n.leading_zeros()
}

/// The `act_layout` an unset key takes: "cyclic" where its rules hold
/// (ROWS a power of two of at least 2, one output lane, no packed rows;
/// the keys as written, checked later), else "replicated".
fn default_layout(raw: &RawAccelConfig, rows: u32) -> &'static str {
    let one_lane = raw.out_lanes.unwrap_or(1) == 1;
    if rows.is_power_of_two() && rows > 1 && one_lane && !raw.packed_rows.unwrap_or(false) {
        "cyclic"
    } else {
        "replicated"
    }
}

/// The `act_words` an unset key takes: `DEFAULT_BANK_WORDS` a bank with
/// a stored-once `layout`, else `DEFAULT_REPLICATED_ACT_WORDS`.
fn default_act_words(rows: u32, layout: &str) -> u32 {
    if layout == "replicated" {
        DEFAULT_REPLICATED_ACT_WORDS
    } else {
        DEFAULT_BANK_WORDS * rows
    }
}

impl AccelConfig {
    /// Validate a raw configuration; missing keys take the spec default.
    /// The first rule broken is reported, naming the parameter and the range.
    pub fn from_raw(raw: &RawAccelConfig) -> Result<AccelConfig, ParamError> {
        let d = AccelConfig::default();
        let rows = in_range("rows", raw.rows.unwrap_or(d.rows.into()), 1, 64)?;
        let cols = in_range("cols", raw.cols.unwrap_or(d.cols.into()), 1, 64)?;
        let a_hi = in_range("a_hi", raw.a_hi.unwrap_or(d.a_hi.into()), 2, 16)?;
        let a_lo_v = raw.a_lo.unwrap_or(d.a_lo.into());
        let a_lo = in_range("a_lo", a_lo_v, 1, i64::from(a_hi) - 1).map_err(|mut e| {
            e.allowed = format!("1..={} and a divisor of a_hi = {a_hi}", a_hi - 1);
            e
        })?;
        if a_hi % a_lo != 0 {
            return Err(reject(
                "a_lo",
                a_lo_v,
                format!("a divisor of a_hi = {a_hi} below it"),
            ));
        }
        let w_hi = in_range("w_hi", raw.w_hi.unwrap_or(d.w_hi.into()), 2, 16)?;
        let w_lo_v = raw.w_lo.unwrap_or(d.w_lo.into());
        let w_lo = in_range("w_lo", w_lo_v, 1, i64::from(w_hi)).map_err(|mut e| {
            e.allowed = format!("1..={w_hi} and a divisor of w_hi = {w_hi}");
            e
        })?;
        if w_hi % w_lo != 0 {
            return Err(reject(
                "w_lo",
                w_lo_v,
                format!("a divisor of w_hi = {w_hi}, at most w_hi"),
            ));
        }
        let acc_bits = in_range(
            "acc_bits",
            raw.acc_bits.unwrap_or(d.acc_bits.into()),
            16,
            64,
        )?;
        let region_v = raw.region.unwrap_or(d.region.into());
        if ![1, 2, 4, 8, 16].contains(&region_v) {
            return Err(reject("region", region_v, "one of 1, 2, 4, 8, 16"));
        }
        let layout = raw
            .act_layout
            .as_deref()
            .unwrap_or_else(|| default_layout(raw, rows));
        let pe = match raw.pe.as_deref() {
            None | Some("drq") => PeKind::Drq,
            Some("int8") => PeKind::Int8,
            Some(other) => {
                return Err(ParamError {
                    scope: SCOPE,
                    param: "pe",
                    value: format!("{other:?}"),
                    allowed: "\"drq\" or \"int8\"".into(),
                })
            }
        };
        AccelConfig {
            rows,
            cols,
            a_hi,
            a_lo,
            w_hi,
            w_lo,
            acc_bits,
            region: region_v as u32,
            pe,
            mask_words: in_range(
                "mask_words",
                raw.mask_words.unwrap_or(d.mask_words.into()),
                16,
                1 << 19,
            )?,
            max_width: in_range(
                "max_width",
                raw.max_width.unwrap_or(d.max_width.into()),
                1,
                65535,
            )?,
            act_words: in_range(
                "act_words",
                raw.act_words
                    .unwrap_or(default_act_words(rows, layout).into()),
                16,
                1 << 18,
            )?,
            weight_words: in_range(
                "weight_words",
                raw.weight_words.unwrap_or(d.weight_words.into()),
                16,
                1 << 19,
            )?,
            bias_words: in_range(
                "bias_words",
                raw.bias_words.unwrap_or(d.bias_words.into()),
                16,
                1 << 16,
            )?,
            out_rows: in_range("out_rows", raw.out_rows.unwrap_or(d.out_rows.into()), 1, 64)?,
            out_lanes: 1,
            overlap: raw.overlap.unwrap_or(d.overlap),
            stream_predictor: raw.stream_predictor.unwrap_or(d.stream_predictor),
            row_taps: raw.row_taps.unwrap_or(d.row_taps),
            burst_readout: false,
            ram_read_ports: 1,
            packed_rows: raw.packed_rows.unwrap_or(d.packed_rows),
            act_layout: ActLayout::Replicated,
            acc_words: 0,
            dim_limit: None,
        }
        .with_out_lanes(raw.out_lanes.unwrap_or(d.out_lanes.into()))?
        .with_burst_readout(raw.burst_readout.unwrap_or(d.burst_readout))?
        .with_ram_read_ports(raw.ram_read_ports)?
        .with_act_layout(Some(layout))?
        .with_acc_words(raw.acc_words)?
        .with_max_dim(raw.max_dim)
    }

    /// `self` with the activation layout once its rules hold: stored-once
    /// (banked or cyclic) buffers take one output lane (L consecutive x
    /// of a strided layout share a bank), no packed rows (a stored map is
    /// dense; ACC keeps the plain layout (c Ho + y) Wo + x, `acc_addr`)
    /// and banks of a power-of-two depth (the host window's offset is
    /// bank * bank_words + address); cyclic buffers also ROWS a power of
    /// two (the banks are the rows, an entry's bank its low bits). None
    /// is replicated (`from_raw` passes the layout's default).
    fn with_act_layout(mut self, layout: Option<&str>) -> Result<AccelConfig, ParamError> {
        self.act_layout = match layout {
            None | Some("replicated") => ActLayout::Replicated,
            Some("banked") => ActLayout::Banked,
            Some("cyclic") => ActLayout::Cyclic,
            Some(other) => {
                return Err(ParamError {
                    scope: SCOPE,
                    param: "act_layout",
                    value: format!("{other:?}"),
                    allowed: "\"replicated\", \"banked\" or \"cyclic\"".into(),
                })
            }
        };
        let name = self.act_layout.name();
        if self.act_layout == ActLayout::Cyclic && !(self.rows.is_power_of_two() && self.rows > 1) {
            return Err(ParamError {
                scope: SCOPE,
                param: "act_layout",
                value: format!("{name:?}"),
                allowed: format!(
                    "\"replicated\" or \"banked\" unless rows is a power of two, at least 2 (here {}; the cyclic layout's banks are the rows, and one row's buffer holds each value once already)",
                    self.rows
                ),
            });
        }
        if self.act_layout.stored_once() {
            let banked = |allowed: String| ParamError {
                scope: SCOPE,
                param: "act_layout",
                value: format!("{name:?}"),
                allowed,
            };
            if self.out_lanes != 1 || self.packed_rows {
                return Err(banked(format!(
                    "\"replicated\" unless out_lanes = 1 and packed_rows = false (here {} and {}; banked maps are dense already)",
                    self.out_lanes, self.packed_rows
                )));
            }
            let bank = self.act_words / self.rows;
            if self.act_words % self.rows != 0 || !bank.is_power_of_two() || bank < 2 {
                return Err(reject(
                    "act_words",
                    self.act_words.into(),
                    format!(
                        "with act_layout = {name:?}, rows = {} times a power of two (the bank depth)",
                        self.rows
                    ),
                ));
            }
        }
        Ok(self)
    }

    /// `self` with `acc_words` (unset: act_words, or half of it stored
    /// once: a buffer 8x the replicated one's need not make ACC 8x) in
    /// 16 ..= act_words.
    fn with_acc_words(mut self, words: Option<i64>) -> Result<AccelConfig, ParamError> {
        let default = if self.act_layout.stored_once() {
            (self.act_words / 2).max(16)
        } else {
            self.act_words
        };
        let words = words.unwrap_or(default.into());
        self.acc_words = in_range("acc_words", words, 16, self.act_words.into())?;
        Ok(self)
    }

    /// `self` with the `max_dim` key (unset: the buffers' bound): at least
    /// 16, ROWS and max_width (a tile side, a kernel, a row of the widest
    /// map), at most the buffers' bound (act_words / row pitch).
    fn with_max_dim(mut self, dim: Option<i64>) -> Result<AccelConfig, ParamError> {
        let most = DEFAULT_STORED_ONCE_MAX_DIM;
        if dim.is_none()
            && self.act_layout.stored_once()
            && (self.dim_floor()..=self.buffer_dim_bound()).contains(&most)
        {
            self.dim_limit = Some(most);
        }
        if let Some(dim) = dim {
            self.dim_limit = Some(in_range(
                "max_dim",
                dim,
                self.dim_floor().into(),
                self.buffer_dim_bound().into(),
            )?);
        }
        Ok(self)
    }

    /// Words of each bank of a banked activation buffer (act_words / ROWS).
    pub fn bank_words(&self) -> u32 {
        self.act_words / self.rows
    }

    /// Address bits of a bank of a banked activation buffer: log2 of its
    /// depth (a power of two), so every address part wraps like the bank.
    pub fn bank_addr_bits(&self) -> u32 {
        self.bank_words().trailing_zeros()
    }

    /// Bits of an entry L of the cyclic layout (`crate::cyclic`): a bank
    /// word's address and a bank number (ROWS banks, a power of two), so
    /// every entry part wraps like the buffer.
    pub fn entry_bits(&self) -> u32 {
        self.bank_addr_bits() + self.rows.trailing_zeros()
    }

    /// `self` with `ram_read_ports` 1 or 2 (unset: 2).
    fn with_ram_read_ports(mut self, ports: Option<i64>) -> Result<AccelConfig, ParamError> {
        let ports = ports.unwrap_or(2);
        if ports != 1 && ports != 2 {
            return Err(reject("ram_read_ports", ports, "1 or 2"));
        }
        self.ram_read_ports = ports as u32;
        Ok(self)
    }

    /// `self` with `burst_readout` set once `row_taps` and `overlap` allow
    /// it: the burst reads the shadow rows through the taps while the next
    /// tile's tokens enter.
    fn with_burst_readout(mut self, burst: bool) -> Result<AccelConfig, ParamError> {
        self.burst_readout = needs(
            "burst_readout",
            burst,
            self.row_taps && self.overlap,
            "false unless row_taps = true and overlap = true (the burst reads the shadow rows through the taps)",
        )?;
        Ok(self)
    }

    /// `self` with `out_lanes` set to `lanes` once it passes its rules,
    /// which depend on keys validated before it.
    fn with_out_lanes(mut self, lanes: i64) -> Result<AccelConfig, ParamError> {
        let pitch = i64::from(self.act_row_pitch());
        let region = i64::from(self.region);
        let most = pitch.min(64 / i64::from(self.a_hi));
        // Without the streaming predictor a lane group lies in one region;
        // with it a group may span several, one predictor bank each, whose
        // mask bits share a word of the mask buffers.
        let most = if self.stream_predictor {
            most
        } else {
            most.min(region)
        };
        let banks = i64::from(banks_of(u32::try_from(lanes).unwrap_or(0), self.region));
        let fits = [1, 2, 4, 8, 16].contains(&lanes)
            && lanes <= most
            && i64::from(self.act_words) % lanes == 0
            && i64::from(self.mask_words) % banks == 0;
        if !fits {
            let region_rule = if self.stream_predictor {
                format!(
                    "; above region = {region} a divisor of R * mask_words = {}",
                    region * i64::from(self.mask_words)
                )
            } else {
                format!(", region = {region} (above it: stream_predictor = true)")
            };
            return Err(reject(
                "out_lanes",
                lanes,
                format!(
                    "a power of two at most {most} (activation row pitch {pitch}, 64 / a_hi = {}{region_rule}) dividing act_words = {}",
                    64 / self.a_hi,
                    self.act_words
                ),
            ));
        }
        self.out_lanes = lanes as u32;
        Ok(self)
    }

    /// Parse and validate TOML text. `origin` names the source in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<AccelConfig, ConfigError> {
        let raw = parse_raw_toml(text, origin)?;
        Ok(AccelConfig::from_raw(&raw)?)
    }

    /// Read, parse and validate a TOML file, with flag overrides applied on top.
    pub fn load(
        path: Option<&Path>,
        overrides: &RawAccelConfig,
    ) -> Result<AccelConfig, ConfigError> {
        let file = match path {
            None => RawAccelConfig::default(),
            Some(p) => {
                let text = crate::text::read_text_bounded(p, crate::text::MAX_TEXT_FILE).map_err(
                    |source| ConfigError::Io {
                        path: p.display().to_string(),
                        source,
                    },
                )?;
                parse_raw_toml(&text, &p.display().to_string())?
            }
        };
        AccelConfig::from_raw(&file.overridden_by(overrides)).map_err(|error| {
            // Name where the rejected value came from: its flag, else the file.
            let flag = serde_json::to_value(overrides)
                .ok()
                .is_some_and(|v| !v[error.param].is_null());
            match (flag, path) {
                (true, _) => ConfigError::InFile {
                    path: format!("--{}", error.param.replace('_', "-")),
                    error,
                },
                (false, Some(p)) => ConfigError::InFile {
                    path: p.display().to_string(),
                    error,
                },
                (false, None) => ConfigError::Param(error),
            }
        })
    }

    /// The configuration as TOML, every key written.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("AccelConfig serialises to TOML")
    }

    /// The configuration as pretty JSON (what `params.json` holds).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("AccelConfig serialises to JSON")
    }

    // ---- derived quantities, computed in one place -------------------------

    /// Read ports a copy serves in a replicated buffer of `ports` read
    /// ports: 2 with `ram_read_ports` = 2 and an even `ports`, else 1.
    pub fn copy_reads(&self, ports: u32) -> usize {
        if self.ram_read_ports == 2 && ports % 2 == 0 {
            2
        } else {
            1
        }
    }

    /// Largest activation code, 2^A_HI - 1.
    pub fn a_max(&self) -> u32 {
        (1u32 << self.a_hi) - 1
    }
    /// Largest low-precision activation code q, 2^A_LO - 1.
    pub fn q_max(&self) -> u32 {
        (1u32 << self.a_lo) - 1
    }
    /// Range of a high-precision weight, [-2^(W_HI-1), 2^(W_HI-1) - 1].
    pub fn w_range(&self) -> (i32, i32) {
        (-(1i32 << (self.w_hi - 1)), (1i32 << (self.w_hi - 1)) - 1)
    }
    /// Range of a low-precision weight digit, [-2^(W_LO-1), 2^(W_LO-1) - 1].
    pub fn w_lo_range(&self) -> (i32, i32) {
        (-(1i32 << (self.w_lo - 1)), (1i32 << (self.w_lo - 1)) - 1)
    }
    /// A_LO-bit digits in a high-precision activation.
    pub fn a_digits(&self) -> u32 {
        self.a_hi / self.a_lo
    }
    /// W_LO-bit digits in a high-precision weight.
    pub fn w_digits(&self) -> u32 {
        self.w_hi / self.w_lo
    }
    /// Tokens (array cycles) of one HIGH step: (A_HI/A_LO) * (W_HI/W_LO)
    /// for the DRQ PE, 1 for the INT8 baseline.
    pub fn tokens_per_high_step(&self) -> u32 {
        match self.pe {
            PeKind::Drq => self.a_digits() * self.w_digits(),
            PeKind::Int8 => 1,
        }
    }
    /// Largest shift of the LOW accumulator at the read-out, s + sw:
    /// (A_HI - A_LO) + (W_HI - W_LO).
    pub fn max_readout_shift(&self) -> u32 {
        self.max_low_shift() + self.max_w_low_shift()
    }
    /// Largest activation low shift s: A_HI - A_LO.
    pub fn max_low_shift(&self) -> u32 {
        self.a_hi - self.a_lo
    }
    /// Largest weight low shift sw: W_HI - W_LO.
    pub fn max_w_low_shift(&self) -> u32 {
        self.w_hi - self.w_lo
    }
    /// Bits of the word addresses the region controller computes: one more
    /// than the largest of the activation, mask and weight buffers needs, so
    /// the first address past a buffer is not aliased into it. Addresses of
    /// a layer that fits the buffers never wrap. With banked activations
    /// an activation address is a bank's (`bank_addr_bits`, wrapping like
    /// the bank), so a bank's depth counts instead of act_words: the mask
    /// and weight addresses are no wider than their buffers need.
    pub fn buffer_addr_bits(&self) -> u32 {
        let act = match self.act_layout {
            ActLayout::Replicated => self.act_words,
            ActLayout::Banked | ActLayout::Cyclic => self.bank_words(),
        };
        let words = act.max(self.mask_words).max(self.weight_words);
        bits_for(words.max(2) - 1) + 1
    }
    /// The largest layer dimension a layer that fits the buffers can have:
    /// C_in, H, C_out and Ho are at most act_words / row pitch (one map of
    /// them fills an activation buffer), W and Wo at most max_width, K, S
    /// and P at most 16, a tile side at most ROWS.
    /// The `max_dim` key lowers it (`dim_limit`), never below max_width,
    /// ROWS and 16.
    pub fn max_dim(&self) -> u32 {
        self.dim_limit.unwrap_or_else(|| self.buffer_dim_bound())
    }
    /// `max_dim` as the buffers imply it: act_words / row pitch, at least
    /// max_width, ROWS and 16.
    fn buffer_dim_bound(&self) -> u32 {
        (self.act_words / self.act_row_pitch()).max(self.dim_floor())
    }
    /// The least `max_dim`: the widest row (max_width), a tile side
    /// (ROWS) and 16 (a kernel, a stride, a padding).
    fn dim_floor(&self) -> u32 {
        self.max_width.max(self.rows).max(16)
    }
    /// The tallest output map a layer may have: `max_dim`, but with banked
    /// activations `max_width`, the depth of the write-back's row table
    /// (`hdl/src/layout_table.rs`, one entry per output row, in LUT RAM:
    /// `act_words / row pitch` entries would take about 1,300 LUT4 more at
    /// the ULX3S configuration's 512; docs/banked.md).
    pub fn max_out_height(&self) -> u32 {
        match self.act_layout {
            ActLayout::Banked | ActLayout::Cyclic => self.max_width.max(2),
            ActLayout::Replicated => self.max_dim(),
        }
    }
    /// Bits a PE's HIGH accumulator needs (`hdl/src/pe.rs`): ACC_BITS, or
    /// fewer where no layer that fits can use them. A PE adds one product
    /// a step, at most C_in K K <= weight_words steps a tile (§8.7), each
    /// |a * w| <= a_max * 2^(W_HI-1), so the sum of a tile needs no more
    /// than that many signed bits and never wraps in them: held narrow and
    /// sign-extended at the read-out it is the ACC_BITS sum.
    pub fn acc_hi_bits(&self) -> u32 {
        self.acc_sum_bits(u64::from(self.a_max()) << (self.w_hi - 1))
    }
    /// Bits a PE's LOW accumulator needs: the same bound for products
    /// |q * w_lo| <= q_max * 2^(W_LO-1) (the shift s + sw comes at the
    /// read-out).
    pub fn acc_lo_bits(&self) -> u32 {
        self.acc_sum_bits(u64::from(self.q_max()) << (self.w_lo - 1))
    }
    /// min(ACC_BITS, signed bits of weight_words * `product`).
    fn acc_sum_bits(&self, product: u64) -> u32 {
        let most = u64::from(self.weight_words) * product;
        self.acc_bits.min(65 - most.leading_zeros())
    }
    /// Bits of every layer dimension, position and loop counter over them
    /// inside the accelerator (the layer registers hold these bits).
    pub fn dim_bits(&self) -> u32 {
        bits_for(self.max_dim())
    }
    /// Bits of an output channel while a tile is walked or drained: up to
    /// C_out + COLS (at least `dim_bits`).
    pub fn channel_bits(&self) -> u32 {
        bits_for(self.max_dim() + self.cols)
    }
    /// Bits of the controller's input coordinates, two's complement: y and
    /// x lie in -15 ..= max_dim + 2*15 + 15 + (ROWS - 1)*16 (the origin of
    /// the last tile, a kernel tap and a row's offset in the tile), one bit
    /// more so a negative coordinate is above every valid one as unsigned.
    pub fn coord_bits(&self) -> u32 {
        bits_for(self.max_dim() + 45 + 16 * (self.rows - 1)) + 1
    }
    /// Row pitch of activation buffers: the power of two >= max_width. Word
    /// address of (c, y, x) in a feature map of height H: (c*H + y) * pitch + x.
    pub fn act_row_pitch(&self) -> u32 {
        self.max_width.next_power_of_two()
    }
    /// Row pitch of a feature map `w` values wide in the activation and
    /// accumulator buffers: with `packed_rows`, w rounded up to out_lanes
    /// (a row starts on a word of the laned buffers); else `act_row_pitch`.
    pub fn act_pitch(&self, w: u64) -> u64 {
        if self.packed_rows {
            w.next_multiple_of(self.out_lanes.into())
        } else {
            self.act_row_pitch().into()
        }
    }
    /// Word address of activation (c, y, x) of a map `h` rows high and `w`
    /// wide: (c*h + y) * act_pitch(w) + x (the activation and acc buffers).
    pub fn act_addr(&self, c: u64, h: u64, w: u64, y: u64, x: u64) -> u64 {
        (c * h + y) * self.act_pitch(w) + x
    }
    /// Word address of accumulator (c, y, x) of a map `h` x `w` in ACC:
    /// `act_addr`, or with banked activations (c*h + y) * w + x.
    pub fn acc_addr(&self, c: u64, h: u64, w: u64, y: u64, x: u64) -> u64 {
        if self.act_layout.stored_once() {
            (c * h + y) * w + x
        } else {
            self.act_addr(c, h, w, y, x)
        }
    }
    /// The write-back computes a packed address (c (Ho Po) + y Po + x):
    /// with packed rows, and for ACC with banked activations.
    pub fn packed_writeback(&self) -> bool {
        self.packed_rows || self.act_layout.stored_once()
    }
    /// Word address of mask region (c, ry, rx) of a map with `rh` region
    /// rows: (c*rh + ry) * mask_row_pitch + rx.
    pub fn mask_addr(&self, c: u64, rh: u64, ry: u64, rx: u64) -> u64 {
        (c * rh + ry) * u64::from(self.mask_row_pitch()) + rx
    }
    /// Row pitch of mask buffers: act_row_pitch / REGION (at least 1). Word
    /// address of region (c, ry, rx): (c*ceil(H/R) + ry) * pitch + rx.
    pub fn mask_row_pitch(&self) -> u32 {
        (self.act_row_pitch() / self.region).max(1)
    }
    /// G: input values the input-mask scan reads per cycle. With the
    /// streaming predictor, the largest power of two at most REGION and
    /// ROWS (G consecutive values of a row, aligned to G, lie in one
    /// region, and the activation buffer has ROWS read copies); else 1.
    /// K: banks of the sensitivity predictor, out_lanes / REGION when an
    /// output lane group spans several regions (only with
    /// `stream_predictor`), else 1. Bank b keeps the regions whose column
    /// rx has rx mod K = b, so a group's K regions go to K banks at once,
    /// and the mask buffers keep K mask bits per word.
    pub fn predictor_banks(&self) -> u32 {
        banks_of(self.out_lanes, self.region)
    }
    /// With banked activations 1 (one bank read a cycle).
    pub fn scan_group(&self) -> u32 {
        if self.stream_predictor && self.act_layout == ActLayout::Replicated {
            let rows_pow2 = 1 << (31 - self.rows.leading_zeros());
            self.region.min(rows_pow2)
        } else {
            1
        }
    }
    /// F: cycles from the cycle after a tile's last token until the array
    /// offers its first read-out row. The shadow chain (and the array
    /// without shadows) reads row ROWS-1 first, which holds the last token
    /// after ROWS + COLS - 2 cycles: F = ROWS + COLS - 1. Row taps read
    /// row 0 first, complete after COLS - 1: F = COLS (row r is offered
    /// r cycles later still, just as it completes).
    pub fn flush_cycles(&self) -> u32 {
        if self.row_taps {
            self.cols
        } else {
            self.rows + self.cols - 1
        }
    }
    /// Bytes per element of an activation tensor file (1 for A_HI <= 8, else 2).
    pub fn activation_bytes(&self) -> u32 {
        if self.a_hi <= 8 {
            1
        } else {
            2
        }
    }
    /// Bytes per element of a weight tensor file (1 for W_HI <= 8, else 2).
    pub fn weight_bytes(&self) -> u32 {
        if self.w_hi <= 8 {
            1
        } else {
            2
        }
    }
}

impl fmt::Display for AccelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{} {} array, A {}/{}, W {}/{}, ACC {}, R {}",
            self.rows,
            self.cols,
            self.pe.name(),
            self.a_hi,
            self.a_lo,
            self.w_hi,
            self.w_lo,
            self.acc_bits,
            self.region
        )?;
        if self.overlap {
            write!(f, ", overlap")?;
        }
        if self.stream_predictor {
            write!(f, ", stream predictor")?;
        }
        if self.row_taps {
            write!(f, ", row taps")?;
        }
        if self.burst_readout {
            write!(f, ", burst read-out")?;
        }
        if self.ram_read_ports == 1 {
            write!(f, ", a RAM copy per read")?;
        }
        if self.packed_rows {
            write!(f, ", packed rows")?;
        }
        if self.act_layout.stored_once() {
            write!(f, ", {} activations", self.act_layout.name())?;
        }
        Ok(())
    }
}

fn parse_raw_toml(text: &str, origin: &str) -> Result<RawAccelConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        // Name the line (and so the key) the parser stopped at.
        let at = e.span().map(|span| {
            let line_no = text[..span.start.min(text.len())].matches('\n').count();
            let line = text.lines().nth(line_no).unwrap_or("").trim();
            format!(
                "line {} (`{}`): ",
                line_no + 1,
                crate::text::clip(line, crate::text::MAX_QUOTE)
            )
        });
        ConfigError::Syntax {
            path: origin.to_string(),
            message: format!(
                "{}{}",
                at.unwrap_or_default(),
                crate::text::clip_quotes(e.message(), 300)
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(f: impl FnOnce(&mut RawAccelConfig)) -> RawAccelConfig {
        let mut r = RawAccelConfig::default();
        f(&mut r);
        r
    }

    #[test]
    fn empty_file_is_the_spec_default() {
        let c = AccelConfig::from_toml_str("", "t").unwrap();
        assert_eq!(c, AccelConfig::default());
        assert_eq!((c.rows, c.cols, c.a_hi, c.a_lo), (16, 16, 8, 4));
        assert_eq!((c.w_hi, c.w_lo, c.acc_bits, c.region), (8, 4, 32, 4));
        assert_eq!(c.tokens_per_high_step(), 4);
    }

    #[test]
    fn keys_are_lower_case_spec_names() {
        let c = AccelConfig::from_toml_str(
            "rows = 8\ncols = 4\na_hi = 16\na_lo = 4\nw_hi = 8\nw_lo = 8\nacc_bits = 48\nregion = 2\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            c,
            AccelConfig {
                rows: 8,
                cols: 4,
                a_hi: 16,
                a_lo: 4,
                w_hi: 8,
                w_lo: 8,
                acc_bits: 48,
                region: 2,
                pe: PeKind::Drq,
                mask_words: 16384,
                max_width: 64,
                // Eight rows: cyclic banks of 2,048 entries by default,
                // ACC half a buffer, max_dim 128.
                act_words: 8 * 2048,
                weight_words: 4096,
                bias_words: 256,
                out_rows: 1,
                out_lanes: 1,
                overlap: false,
                stream_predictor: false,
                row_taps: true,
                burst_readout: false,
                ram_read_ports: 2,
                packed_rows: false,
                act_layout: ActLayout::Cyclic,
                acc_words: 8 * 1024,
                dim_limit: Some(128),
            }
        );
        assert_eq!(c.tokens_per_high_step(), 4);
        // round trip through the TOML writer
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
    }

    #[test]
    fn narrow_accumulators_hold_every_sum_a_fitting_layer_can_make() {
        let c = AccelConfig::default();
        // 4096 steps of 255 * -128 = -133,693,440 >= -2^27; of 15 * -8.
        assert_eq!((c.acc_hi_bits(), c.acc_lo_bits()), (28, 20));
        assert!(4096 * 255 * 128 <= 1i64 << 27 && 4096 * 15 * 8 <= 1i64 << 19);
        assert!(4096 * 255 * 128 > 1i64 << 26 && 4096 * 15 * 8 > 1i64 << 18);
        // Never wider than ACC_BITS.
        let narrow = AccelConfig::from_toml_str("acc_bits = 16\n", "t").unwrap();
        assert_eq!((narrow.acc_hi_bits(), narrow.acc_lo_bits()), (16, 16));
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let e = AccelConfig::from_toml_str("rows = 8\nROWS = 4\n", "cfg.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("cfg.toml") && msg.contains("ROWS"), "{msg}");
    }

    #[test]
    fn every_range_names_parameter_and_range() {
        let cases: Vec<(RawAccelConfig, &str, &str)> = vec![
            (raw(|r| r.rows = Some(0)), "rows", "1..=64"),
            (raw(|r| r.rows = Some(65)), "rows", "1..=64"),
            (raw(|r| r.cols = Some(-3)), "cols", "1..=64"),
            (raw(|r| r.cols = Some(65)), "cols", "1..=64"),
            (raw(|r| r.a_hi = Some(1)), "a_hi", "2..=16"),
            (raw(|r| r.a_hi = Some(17)), "a_hi", "2..=16"),
            (raw(|r| r.a_lo = Some(8)), "a_lo", "1..=7"),
            (raw(|r| r.a_lo = Some(3)), "a_lo", "divisor"),
            (raw(|r| r.a_lo = Some(0)), "a_lo", "1..=7"),
            (raw(|r| r.w_hi = Some(1)), "w_hi", "2..=16"),
            (raw(|r| r.w_lo = Some(9)), "w_lo", "1..=8"),
            (raw(|r| r.w_lo = Some(3)), "w_lo", "divisor"),
            (raw(|r| r.acc_bits = Some(15)), "acc_bits", "16..=64"),
            (raw(|r| r.acc_bits = Some(65)), "acc_bits", "16..=64"),
            (raw(|r| r.region = Some(3)), "region", "1, 2, 4, 8, 16"),
            (raw(|r| r.region = Some(32)), "region", "1, 2, 4, 8, 16"),
            (raw(|r| r.out_lanes = Some(3)), "out_lanes", "power of two"),
            (raw(|r| r.out_lanes = Some(0)), "out_lanes", "at most 4"),
            // R = 4 by default: a lane group must lie in one region.
            (raw(|r| r.out_lanes = Some(8)), "out_lanes", "region = 4"),
            (
                raw(|r| {
                    r.region = Some(16);
                    r.a_hi = Some(16);
                    r.a_lo = Some(8);
                    r.out_lanes = Some(8)
                }),
                "out_lanes",
                "64 / a_hi = 4",
            ),
            (
                raw(|r| {
                    r.max_width = Some(2);
                    r.out_lanes = Some(4)
                }),
                "out_lanes",
                "pitch 2",
            ),
            (
                raw(|r| {
                    r.act_words = Some(18);
                    r.out_lanes = Some(4)
                }),
                "out_lanes",
                "act_words = 18",
            ),
            (
                raw(|r| r.pe = Some("int4".into())),
                "pe",
                "\"drq\" or \"int8\"",
            ),
            // With the streaming predictor a group may span regions, up to
            // 64 / a_hi lanes, K = L / R banks dividing mask_words.
            (
                raw(|r| {
                    r.stream_predictor = Some(true);
                    r.out_lanes = Some(16)
                }),
                "out_lanes",
                "at most 8",
            ),
            (
                raw(|r| {
                    r.stream_predictor = Some(true);
                    r.region = Some(1);
                    r.mask_words = Some(20);
                    r.out_lanes = Some(8)
                }),
                "out_lanes",
                "R * mask_words = 20",
            ),
        ];
        for (r, param, allowed) in cases {
            let e = AccelConfig::from_raw(&r).unwrap_err();
            assert_eq!(e.param, param, "{e}");
            assert!(
                e.to_string().contains(allowed),
                "{e} should mention {allowed}"
            );
        }
    }

    #[test]
    fn edges_of_the_ranges_are_accepted() {
        for text in [
            "rows = 1\ncols = 64",
            "rows = 64\ncols = 1",
            "a_hi = 2\na_lo = 1",
            "w_hi = 2\nw_lo = 2",
            "w_hi = 16\nw_lo = 16\na_hi = 16\na_lo = 8",
            "acc_bits = 16\nregion = 1",
            "acc_bits = 64\nregion = 16",
            "out_lanes = 4",
            "region = 16\nout_lanes = 8",
            "region = 16\nout_lanes = 16\na_hi = 4\na_lo = 2",
            "overlap = true",
            "stream_predictor = true",
            "overlap = true\nrow_taps = true",
            "stream_predictor = true\nout_lanes = 8",
            "stream_predictor = true\nregion = 1\nout_lanes = 8",
        ] {
            let r = parse_raw_toml(text, "t").unwrap();
            assert!(
                AccelConfig::from_raw(&r).is_ok(),
                "{text}: {:?}",
                AccelConfig::from_raw(&r)
            );
        }
    }

    #[test]
    fn predictor_banks_are_the_regions_a_lane_group_spans() {
        let banks = |text: &str| {
            AccelConfig::from_toml_str(text, "t")
                .unwrap()
                .predictor_banks()
        };
        assert_eq!(banks(""), 1);
        assert_eq!(banks("out_lanes = 4"), 1);
        assert_eq!(banks("stream_predictor = true\nout_lanes = 4"), 1);
        assert_eq!(banks("stream_predictor = true\nout_lanes = 8"), 2);
        assert_eq!(
            banks("stream_predictor = true\nregion = 2\nout_lanes = 8"),
            4
        );
        assert_eq!(
            banks("stream_predictor = true\nregion = 1\nout_lanes = 2"),
            2
        );
        assert_eq!(
            banks("stream_predictor = true\nregion = 16\nout_lanes = 8"),
            1
        );
    }

    #[test]
    fn overlap_round_trips_through_toml_and_json() {
        let c = AccelConfig::from_toml_str("overlap = true\n", "t").unwrap();
        assert!(c.overlap);
        assert!(!AccelConfig::default().overlap);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        let back: AccelConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
        let e = AccelConfig::from_toml_str("overlap = 1\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
    }

    #[test]
    fn stream_predictor_round_trips_through_toml_and_json() {
        let c = AccelConfig::from_toml_str("stream_predictor = true\n", "t").unwrap();
        assert!(c.stream_predictor);
        assert!(!AccelConfig::default().stream_predictor);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        let back: AccelConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
        let e = AccelConfig::from_toml_str("stream_predictor = \"yes\"\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("stream_predictor"), "{e}");
    }

    #[test]
    fn row_taps_with_or_without_shadows_shorten_the_flush() {
        let c = AccelConfig::from_toml_str("overlap = true\nrow_taps = true\n", "t").unwrap();
        assert!(c.row_taps);
        // The default reads the PEs' rows through the taps (issue 17).
        assert!(AccelConfig::default().row_taps);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        let back: AccelConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
        // The flush: until the last row's (chain) or row 0's (taps) last
        // column holds the tile's last token.
        assert_eq!(c.flush_cycles(), 16);
        assert_eq!(AccelConfig::default().flush_cycles(), 16);
        let chain = AccelConfig::from_toml_str("row_taps = false\n", "x.toml").unwrap();
        assert_eq!(chain.flush_cycles(), 31);
        assert!(!chain.to_string().contains("row taps"), "{chain}");
        let pe_taps = AccelConfig::from_toml_str("row_taps = true\n", "x.toml").unwrap();
        assert!(pe_taps.row_taps && !pe_taps.overlap);
        assert_eq!(pe_taps.flush_cycles(), 16);
        assert!(pe_taps.to_string().contains("row taps"), "{pe_taps}");
        assert_eq!(
            AccelConfig::from_toml_str(&pe_taps.to_toml(), "t").unwrap(),
            pe_taps
        );
    }

    #[test]
    fn two_reads_a_ram_copy_where_a_buffer_has_an_even_number_of_read_ports() {
        let c = AccelConfig::from_toml_str("rows = 4\ncols = 3\n", "t").unwrap();
        assert_eq!(
            (c.ram_read_ports, AccelConfig::default().ram_read_ports),
            (2, 2)
        );
        assert_eq!((c.copy_reads(c.rows), c.copy_reads(c.cols)), (2, 1));
        assert!(!c.to_string().contains("RAM copy"), "{c}");
        let one = AccelConfig::from_toml_str("ram_read_ports = 1\n", "t").unwrap();
        assert_eq!(one.copy_reads(16), 1);
        assert!(one.to_string().contains("a RAM copy per read"), "{one}");
        assert_eq!(
            AccelConfig::from_toml_str(&one.to_toml(), "t").unwrap(),
            one
        );
        for bad in ["ram_read_ports = 3\n", "ram_read_ports = 0\n"] {
            let e = AccelConfig::from_toml_str(bad, "x.toml")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("ram_read_ports") && e.contains("1 or 2"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn burst_read_out_needs_row_taps() {
        let c = AccelConfig::from_toml_str(
            "overlap = true\nrow_taps = true\nburst_readout = true\n",
            "t",
        )
        .unwrap();
        assert!(c.burst_readout && !AccelConfig::default().burst_readout);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        assert!(c.to_string().contains("burst read-out"), "{c}");
        for bad in [
            "overlap = true\nrow_taps = false\nburst_readout = true\n",
            "row_taps = true\nburst_readout = true\n",
        ] {
            let e = AccelConfig::from_toml_str(bad, "x.toml").unwrap_err();
            assert!(e.to_string().contains("burst_readout = true"), "{bad}: {e}");
            assert!(
                e.to_string().contains("row_taps = true and overlap = true"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn int8_baseline_is_one_token_per_step() {
        let c = AccelConfig::from_toml_str("pe = \"int8\"\n", "t").unwrap();
        assert_eq!(c.pe, PeKind::Int8);
        assert_eq!(c.tokens_per_high_step(), 1);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
    }

    #[test]
    fn cyclic_activations_need_power_of_two_rows_and_the_banked_rules() {
        let cyclic = |extra: &str| {
            AccelConfig::from_toml_str(&format!("act_layout = \"cyclic\"\n{extra}"), "t")
        };
        let c = cyclic("act_words = 32768\nacc_words = 16384\n").unwrap();
        assert_eq!(c.act_layout, ActLayout::Cyclic);
        assert!(c.act_layout.stored_once() && !ActLayout::Replicated.stored_once());
        assert_eq!(
            (c.bank_words(), c.bank_addr_bits(), c.entry_bits()),
            (2048, 11, 15)
        );
        assert_eq!((c.scan_group(), c.max_out_height()), (1, c.max_width));
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        assert!(c.to_string().ends_with("cyclic activations"), "{c}");
        for (extra, param, allowed) in [
            (
                "rows = 12\nact_words = 3072\n",
                "act_layout",
                "rows is a power of two, at least 2 (here 12",
            ),
            ("rows = 1\nact_words = 2048\n", "act_layout", "(here 1;"),
            ("out_lanes = 2\n", "act_layout", "out_lanes = 1"),
            ("packed_rows = true\n", "act_layout", "packed_rows = false"),
            ("act_words = 3000\n", "act_words", "power of two"),
        ] {
            let e = cyclic(extra).unwrap_err().to_string();
            assert!(e.contains(param) && e.contains(allowed), "{extra}: {e}");
        }
    }

    #[test]
    fn banked_activations_need_one_lane_no_packed_rows_and_power_of_two_banks() {
        let banked = |extra: &str| {
            AccelConfig::from_toml_str(&format!("act_layout = \"banked\"\n{extra}"), "t")
        };
        let c = banked("act_words = 32768\nacc_words = 16384\n").unwrap();
        assert_eq!(c.act_layout, ActLayout::Banked);
        assert_eq!(
            (c.bank_words(), c.bank_addr_bits(), c.acc_words),
            (2048, 11, 16384)
        );
        assert_eq!(c.scan_group(), 1);
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        // Three rows: 3 * 256 words.
        assert_eq!(
            banked("rows = 3\nact_words = 768\n").unwrap().bank_words(),
            256
        );
        for (extra, param, allowed) in [
            ("out_lanes = 2\n", "act_layout", "out_lanes = 1"),
            ("packed_rows = true\n", "act_layout", "packed_rows = false"),
            ("act_words = 3000\n", "act_words", "power of two"),
            (
                "rows = 3\nact_words = 4096\n",
                "act_words",
                "rows = 3 times",
            ),
        ] {
            let e = banked(extra).unwrap_err().to_string();
            assert!(e.contains(param) && e.contains(allowed), "{extra}: {e}");
        }
        let e = AccelConfig::from_toml_str("act_layout = \"rows\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("act_layout") && e.contains("\"banked\""), "{e}");
        // Three rows: banks of 2,048 by default.
        assert_eq!(banked("rows = 3\n").unwrap().act_words, 3 * 2048);
        // ACC: at most an activation buffer; by default act_words
        // (replicated) or half of it (stored once).
        let e = AccelConfig::from_toml_str("act_layout = \"replicated\"\nacc_words = 8192\n", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("acc_words") && e.contains("4096"), "{e}");
        let replicated = AccelConfig::from_toml_str("act_layout = \"replicated\"\n", "t").unwrap();
        assert_eq!(replicated, AccelConfig::replicated());
        assert_eq!(replicated.acc_words, 4096);
        assert_eq!(AccelConfig::default().acc_words, 16384);
        assert_eq!(banked("act_words = 1024\n").unwrap().acc_words, 512);
    }

    /// `max_dim` lowers the counters' bound between max(16, ROWS,
    /// max_width) and the buffers' bound, names itself when out of range,
    /// and round-trips through the TOML writer; unset, the bound is the
    /// buffers' (and `params.json` has no key for it).
    #[test]
    fn max_dim_lowers_the_counters_bound_within_its_range() {
        let r = AccelConfig::replicated();
        assert_eq!((r.max_dim(), r.dim_limit), (64, None));
        assert!(!r.to_json().contains("max_dim"));
        // Stored once, unset: 128 (the buffers would allow 512).
        let d = AccelConfig::default();
        assert_eq!((d.max_dim(), d.dim_limit), (128, Some(128)));
        let banked = "act_layout = \"banked\"\nact_words = 32768\n";
        assert_eq!(
            AccelConfig::from_toml_str(banked, "t").unwrap().max_dim(),
            128
        );
        let wide = AccelConfig::from_toml_str(&format!("{banked}max_dim = 512\n"), "t").unwrap();
        assert_eq!((wide.max_dim(), wide.dim_bits()), (512, 10));
        let c = AccelConfig::from_toml_str(&format!("{banked}max_dim = 128\n"), "t").unwrap();
        assert_eq!((c.max_dim(), c.dim_bits()), (128, 8));
        // Banked: a bank's 2,048 words, not act_words, next to the mask
        // buffer's 16,384 (15 bits) in the address width.
        assert_eq!((wide.buffer_addr_bits(), d.buffer_addr_bits()), (15, 15));
        assert!(c.coord_bits() < wide.coord_bits());
        assert_eq!(AccelConfig::from_toml_str(&c.to_toml(), "t").unwrap(), c);
        for (dim, least, most) in [(63, 64, 512), (513, 64, 512)] {
            let e = AccelConfig::from_toml_str(&format!("{banked}max_dim = {dim}\n"), "t")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("max_dim")
                    && e.contains(&least.to_string())
                    && e.contains(&most.to_string()),
                "{e}"
            );
        }
    }

    #[test]
    fn flags_override_file() {
        let file = raw(|r| {
            r.rows = Some(8);
            r.cols = Some(8)
        });
        let flags = raw(|r| r.rows = Some(4));
        let c = AccelConfig::from_raw(&file.overridden_by(&flags)).unwrap();
        assert_eq!((c.rows, c.cols), (4, 8));
    }

    #[test]
    fn wrong_type_is_a_syntax_error_naming_the_file() {
        let e = AccelConfig::from_toml_str("rows = \"many\"\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
        assert!(
            e.to_string().contains("rows") || e.to_string().contains("integer"),
            "{e}"
        );
    }
    #[test]
    fn buffer_addresses_have_one_bit_more_than_the_largest_buffer_needs() {
        let cfg = AccelConfig::replicated();
        // mask_words 16384 = 2^14 is the largest default buffer.
        assert_eq!(cfg.buffer_addr_bits(), 15);
        let small = AccelConfig {
            act_words: 300,
            mask_words: 64,
            weight_words: 256,
            ..cfg
        };
        // 300 words need 9 bits (0..=299 < 512).
        assert_eq!(small.buffer_addr_bits(), 10);
    }
    #[test]
    fn dimension_bits_cover_every_layer_that_fits() {
        let cfg = AccelConfig::replicated();
        // 4096 words at a 64-word pitch: up to 64 rows or channels.
        assert_eq!(cfg.max_dim(), 64);
        assert_eq!(cfg.dim_bits(), 7);
        // 64 + 45 + 15 * 16 = 349: 9 bits and a sign bit.
        assert_eq!(cfg.coord_bits(), 10);
        let tiny = AccelConfig {
            rows: 2,
            cols: 2,
            max_width: 16,
            act_words: 256,
            ..cfg
        };
        assert_eq!(tiny.max_dim(), 16);
        assert_eq!(tiny.dim_bits(), 5);
    }
}
