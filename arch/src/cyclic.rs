//! A stored-once activation layout whose step reads are one **cyclic**
//! rotation of the banks (`act_layout = "cyclic"`, docs/banked.md "The
//! cyclic layout").
//!
//! The banked layout (`banked.rs`) hands row r = ti * TW + tj the bank
//! ((ti + bh0) mod TH) * TW + (tj + bw0) mod TW: every row its own
//! selection among all banks, a 16-to-1 multiplexer per row bit at 16
//! rows (about 16 LUT4 a bit on the ECP5, independent selects share
//! nothing). Here row r takes bank (d + r) mod NB for one d per step: a
//! rotation of all rows by the same amount, which a logarithmic shifter
//! makes in shared stages (8 LUT4 a bit as Yosys maps it, half), and the
//! rows need no bank numbers of their own.
//!
//! The layout, for a reader with stride S and pixel tile TH x TW over NB
//! banks (a power of two, at least TH * TW): a map is S * S phase planes
//! per channel (plane (c, ry, rx) holds the positions y = Y S + ry,
//! x = X S + rx: NYp = ceil(H / S) rows of NXp = ceil(W / S)); a plane is
//! cut into **column bands** of TW plane columns (NXB = ceil(NXp / TW)
//! bands); a band stores its NYp rows one after the other, TW entries a
//! row, and is CBL entries long: the least length >= NYp * TW with
//! CBL = TW (mod NB). Position (c, y, x) is entry
//!
//! ```text
//! L = ((c S + ry) S + rx) PL + (X div TW) CBL + Y TW + X mod TW,
//! PL = NXB * CBL,
//! ```
//!
//! of the buffer, in bank L mod NB at word L div NB.
//!
//! Why a step is one rotation: the rows of a tile whose top-left output
//! pixel is (oh0, ow0) (ow0 = OWg * TW) read, at kernel offsets
//! (ki - P, kj - P) = (a S + rh, aw S + rw) with aw = xbw * TW + bw0
//! (floor division), the plane (c, rh, rw) at Y = oh0 + a + ti and
//! X = ow0 + aw + tj, that is band OWg + xbw (+1 where bw0 + tj >= TW)
//! and column bw0 + tj (- TW there). With L0 the entry of row 0,
//!
//! ```text
//! L(r) = L0 + r + w(r) (CBL - TW),   w(r) = [bw0 + tj >= TW],
//! ```
//!
//! and CBL - TW = 0 (mod NB): row r's bank is (L0 + r) mod NB, its word
//! L0 div NB + [d + r >= NB] + w(r) Q with d = L0 mod NB and
//! Q = (CBL - TW) / NB. So bank b serves row r = (b - d) mod NB and reads
//! one of four words, A0, A0 + 1, A0 + Q, A0 + Q + 1 (A0 = L0 div NB),
//! under two bits: [b < d] and w of its row.

use crate::banked::{Digits, LayerWalk, Place, Reader};

/// A C x H x W map stored once over `banks` banks for `reader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicMap {
    pub c: u64,
    pub h: u64,
    pub w: u64,
    pub reader: Reader,
    pub banks: u32,
}

impl CyclicMap {
    pub fn new(c: u64, h: u64, w: u64, reader: Reader, banks: u32) -> CyclicMap {
        assert!(reader.stride >= 1 && reader.tile_h >= 1 && reader.tile_w >= 1);
        assert!(banks.is_power_of_two(), "{banks} banks: a power of two");
        assert!(
            reader.tile_h * reader.tile_w <= banks,
            "a tile of more pixels than banks"
        );
        CyclicMap {
            c,
            h,
            w,
            reader,
            banks,
        }
    }
    fn s(&self) -> u64 {
        self.reader.stride.into()
    }
    fn tw(&self) -> u64 {
        self.reader.tile_w.into()
    }
    fn nb(&self) -> u64 {
        self.banks.into()
    }
    /// NYp: rows of a phase plane.
    pub fn plane_rows(&self) -> u64 {
        self.h.div_ceil(self.s())
    }
    /// NXB: column bands of a phase plane (TW plane columns each).
    pub fn bands(&self) -> u64 {
        self.w.div_ceil(self.s()).div_ceil(self.tw())
    }
    /// CBL: entries of a column band, the least >= NYp * TW that is TW
    /// modulo the banks.
    pub fn band_len(&self) -> u64 {
        let least = self.plane_rows() * self.tw();
        least + (self.tw() + self.nb() - least % self.nb()) % self.nb()
    }
    /// Q = (CBL - TW) / NB: the words a read moves on into the next
    /// column band.
    pub fn band_words(&self) -> u64 {
        (self.band_len() - self.tw()) / self.nb()
    }
    /// PL: entries of a phase plane.
    pub fn plane_len(&self) -> u64 {
        self.bands() * self.band_len()
    }
    /// Entries the map spans (every plane of every channel).
    pub fn entries(&self) -> u64 {
        self.c * self.s() * self.s() * self.plane_len()
    }
    /// Words each bank needs: the map fits banks of `bank_words` iff this
    /// is at most that.
    pub fn bank_words(&self) -> u64 {
        self.entries().div_ceil(self.nb())
    }
    /// The entry L of a position, in two's complement for the virtual
    /// positions a step's padding rows stand for.
    fn entry(&self, c: i64, ry: i64, rx: i64, y: i64, x: i64) -> i64 {
        let (s, tw) = (self.s() as i64, self.tw() as i64);
        ((c * s + ry) * s + rx) * self.plane_len() as i64
            + x.div_euclid(tw) * self.band_len() as i64
            + y * tw
            + x.rem_euclid(tw)
    }
    /// The entry of (c, y, x) as the write-back and the input scan make it,
    /// a sum of three parts: the channel's c S^2 PL, the row's
    /// ry S PL + Y TW and the column's rx PL + (X div TW) CBL + X mod TW
    /// (y = Y S + ry, x = X S + rx). The row's part is
    /// `DigitSteps::of(S, 1, S PL, 0, TW)` of y's digits, the column's
    /// `DigitSteps::of(S, TW, PL, 1, CBL)` of x's (`row_steps`,
    /// `column_steps`): counted by adds as a coordinate steps.
    pub fn parts(&self, c: u64, y: u64, x: u64) -> [u64; 3] {
        let (s, tw) = (self.s(), self.tw());
        let (pl, cbl) = (self.plane_len(), self.band_len());
        [
            c * s * s * pl,
            (y % s) * s * pl + (y / s) * tw,
            (x % s) * pl + (x / s / tw) * cbl + (x / s) % tw,
        ]
    }
    /// The row part's steps (`parts`), under (S, 1).
    pub fn row_steps(&self) -> DigitSteps {
        let s = self.s() as i64;
        DigitSteps::of(
            self.reader.stride,
            1,
            s * self.plane_len() as i64,
            0,
            self.tw() as i64,
        )
    }
    /// The column part's steps (`parts`), under (S, TW).
    pub fn column_steps(&self) -> DigitSteps {
        DigitSteps::of(
            self.reader.stride,
            self.reader.tile_w,
            self.plane_len() as i64,
            1,
            self.band_len() as i64,
        )
    }
    /// Bank and word of position (c, y, x) of the map.
    pub fn place(&self, c: u64, y: u64, x: u64) -> Place {
        let s = self.s();
        let l = self.entry(
            c as i64,
            (y % s) as i64,
            (x % s) as i64,
            (y / s) as i64,
            (x / s) as i64,
        );
        Place {
            bank: (l as u64 % self.nb()) as u32,
            addr: l as u64 / self.nb(),
        }
    }
    /// The reads of one step of the reader: the tile whose top-left output
    /// pixel is (oh0, ow0) (multiples of TH and TW), input channel c,
    /// kernel offsets (ki - P, kj - P).
    pub fn step(&self, c: u64, oh0: u64, ow0: u64, dh: i64, dw: i64) -> CyclicStep {
        let r = self.reader;
        assert!(oh0.is_multiple_of(u64::from(r.tile_h)) && ow0.is_multiple_of(u64::from(r.tile_w)));
        let s = self.s() as i64;
        let (a, rh) = (dh.div_euclid(s), dh.rem_euclid(s));
        let (aw, rw) = (dw.div_euclid(s), dw.rem_euclid(s));
        let first = self.entry(c as i64, rh, rw, oh0 as i64 + a, ow0 as i64 + aw);
        let nb = self.nb() as i64;
        CyclicStep {
            rotation: first.rem_euclid(nb) as u32,
            base: first.div_euclid(nb),
            band_words: self.band_words() as i64,
            bw0: aw.rem_euclid(self.tw() as i64) as u32,
            tile_w: r.tile_w,
            banks: self.banks,
        }
    }
}

/// One step's reads, in the form the hardware would make them: a rotation
/// d of the banks for every row, one base word and per bank two
/// conditional steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicStep {
    /// d = L0 mod NB: row r reads bank (d + r) mod NB.
    pub rotation: u32,
    /// A0 = L0 div NB (floor; negative where row 0 stands for padding).
    pub base: i64,
    /// Q = (CBL - TW) / NB: the words a row's read moves on into the next
    /// column band.
    pub band_words: i64,
    /// bw0: the column within its band of row 0's read.
    pub bw0: u32,
    tile_w: u32,
    banks: u32,
}

impl CyclicStep {
    /// The bank array row `row` (= ti * TW + tj) reads.
    pub fn bank_of_row(&self, row: u32) -> u32 {
        (self.rotation + row) % self.banks
    }
    /// The row bank `bank` serves (below TH * TW where a row reads it).
    pub fn row_of_bank(&self, bank: u32) -> u32 {
        (bank + self.banks - self.rotation) % self.banks
    }
    /// The word bank `bank` reads: A0, one more where the rotation wrapped
    /// past it (b < d), a band's Q more where its row's column wrapped
    /// into the next band (bw0 + tj >= TW).
    pub fn bank_addr(&self, bank: u32) -> i64 {
        let tj = self.row_of_bank(bank) % self.tile_w;
        self.base
            + i64::from(bank < self.rotation)
            + i64::from(self.bw0 + tj >= self.tile_w) * self.band_words
    }
}

/// A digit counter's three address steps: what `part` gains when the
/// phase steps, when the phase wraps and the bank steps, and when both
/// wrap and the group steps, for part = group * Ug + bank * Ub + phase * Up
/// under stride S and tile side T (the host computes them; the hardware
/// adds one of the three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigitSteps {
    pub phase: i64,
    pub bank: i64,
    pub group: i64,
}

impl DigitSteps {
    /// The steps of part = group * `group_unit` + bank * `bank_unit` +
    /// phase * `phase_unit`.
    pub fn of(s: u32, t: u32, phase_unit: i64, bank_unit: i64, group_unit: i64) -> DigitSteps {
        let (s, t) = (i64::from(s), i64::from(t));
        DigitSteps {
            phase: phase_unit,
            bank: bank_unit - (s - 1) * phase_unit,
            group: group_unit - (t - 1) * bank_unit - (s - 1) * phase_unit,
        }
    }
    /// Count `d` up by one under stride `s` and tile side `t`, `part` by
    /// the step that applies.
    pub fn step(&self, d: &mut Digits, part: &mut i64, s: u32, t: u32) {
        d.phase += 1;
        if d.phase < s {
            *part += self.phase;
            return;
        }
        d.phase = 0;
        d.bank += 1;
        if d.bank < t {
            *part += self.bank;
            return;
        }
        d.bank = 0;
        d.group += 1;
        *part += self.group;
    }
}

/// The layer constants of the cyclic walk beyond the layer's registers
/// (stride, tile): what the host computes, as it computes HO and WO, so
/// the hardware needs no product and no division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicConstants {
    pub reader: Reader,
    pub banks: u32,
    /// CBL and S^2 PL: a pixel tile's step along a tile row, a channel's.
    pub band_len: u64,
    pub channel_words: u64,
    /// Q (`CyclicMap::band_words`).
    pub band_words: u64,
    /// Digits of -P under (S, 1) (kernel rows: phase rh, group a) and
    /// (S, TW) (kernel columns: phase rw, bank bw0, group xbw), their parts
    /// and their steps: rows a TW + rh S PL, columns xbw CBL + bw0 + rw PL.
    pub pad_y: Digits,
    pub pad_x: Digits,
    pub pad_y_part: i64,
    pub pad_x_part: i64,
    pub y_steps: DigitSteps,
    pub x_steps: DigitSteps,
}

impl CyclicConstants {
    pub fn new(map: &CyclicMap, padding: u32) -> CyclicConstants {
        let r = map.reader;
        let (s, tw) = (map.s() as i64, map.tw() as i64);
        let (pl, cbl) = (map.plane_len() as i64, map.band_len() as i64);
        let p = -i64::from(padding);
        let pad_y = Digits::of(p, r.stride, 1);
        let pad_x = Digits::of(p, r.stride, r.tile_w);
        CyclicConstants {
            reader: r,
            banks: map.banks,
            band_len: map.band_len(),
            channel_words: (s * s * pl) as u64,
            band_words: map.band_words(),
            pad_y,
            pad_x,
            pad_y_part: pad_y.group * tw + i64::from(pad_y.phase) * s * pl,
            pad_x_part: pad_x.group * cbl + i64::from(pad_x.bank) + i64::from(pad_x.phase) * pl,
            y_steps: DigitSteps::of(r.stride, 1, s * pl, 0, tw),
            x_steps: DigitSteps::of(r.stride, r.tile_w, pl, 1, cbl),
        }
    }
}

/// The cyclic walk's constants as the hardware takes them (its ports, in
/// this order): `CyclicConstants::values`.
pub const CYCLIC_CONSTANT_NAMES: [&str; 14] = [
    "band_len",
    "tile_row_words",
    "channel_words",
    "band_words",
    "pad_y_phase",
    "pad_y_part",
    "y_phase_step",
    "y_group_step",
    "pad_x_phase",
    "pad_x_bank",
    "pad_x_part",
    "x_phase_step",
    "x_bank_step",
    "x_group_step",
];

/// Whether constant `name` (of `CYCLIC_CONSTANT_NAMES`) is a digit (a
/// phase or bank digit of -P, `DIGIT_BITS` wide); the others are entries
/// (lengths, parts, steps), as wide as an entry.
pub fn is_digit_constant(name: &str) -> bool {
    name.ends_with("_phase") || name.ends_with("_bank")
}

impl CyclicConstants {
    /// The values of `CYCLIC_CONSTANT_NAMES`, entries (parts and steps, two's
    /// complement) cut to `entry_bits`: the words the host writes.
    pub fn values(&self, entry_bits: u32) -> [u64; 14] {
        let cut = |v: i64| v as u64 & (u64::MAX >> (64 - entry_bits));
        let r = self.reader;
        [
            self.band_len,
            u64::from(r.tile_h * r.tile_w),
            self.channel_words,
            self.band_words,
            self.pad_y.phase.into(),
            cut(self.pad_y_part),
            cut(self.y_steps.phase),
            cut(self.y_steps.group),
            self.pad_x.phase.into(),
            self.pad_x.bank.into(),
            cut(self.pad_x_part),
            cut(self.x_steps.phase),
            cut(self.x_steps.bank),
            cut(self.x_steps.group),
        ]
    }
}

/// A layer's steps as the hardware would make them: sums stepped by the
/// loop nest's events, no product and no division. `L0` is their sum,
/// the rotation its low bits, A0 the rest; `CyclicMap::step` is the
/// reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicWalk {
    k: CyclicConstants,
    /// oh0 TW and oh0 TW + OWg CBL.
    tile_row_base: i64,
    tile_base: i64,
    /// c S^2 PL.
    channel_base: i64,
    pub dy: Digits,
    pub dx: Digits,
    kernel_y: i64,
    kernel_x: i64,
}

impl CyclicWalk {
    /// The walk at a layer's (or channel tile's) first step.
    pub fn start(k: CyclicConstants) -> CyclicWalk {
        let mut w = CyclicWalk {
            k,
            tile_row_base: 0,
            tile_base: 0,
            channel_base: 0,
            dy: k.pad_y,
            dx: k.pad_x,
            kernel_y: k.pad_y_part,
            kernel_x: k.pad_x_part,
        };
        w.first_kernel_row();
        w
    }
    fn first_kernel_row(&mut self) {
        self.dy = self.k.pad_y;
        self.kernel_y = self.k.pad_y_part;
        self.first_kernel_column();
    }
    fn first_kernel_column(&mut self) {
        self.dx = self.k.pad_x;
        self.kernel_x = self.k.pad_x_part;
    }
    /// L0: the entry row 0 of the current step stands for.
    pub fn first_entry(&self) -> i64 {
        self.tile_base + self.channel_base + self.kernel_y + self.kernel_x
    }
    /// The current step's reads.
    pub fn step_reads(&self) -> CyclicStep {
        let (l0, nb) = (self.first_entry(), i64::from(self.k.banks));
        let tw = self.k.reader.tile_w;
        CyclicStep {
            rotation: l0.rem_euclid(nb) as u32,
            base: l0.div_euclid(nb),
            band_words: self.k.band_words as i64,
            bw0: self.dx.bank,
            tile_w: tw,
            banks: self.k.banks,
        }
    }
}

impl LayerWalk for CyclicWalk {
    /// kj + 1.
    fn next_kernel_column(&mut self) {
        let r = self.k.reader;
        self.k
            .x_steps
            .step(&mut self.dx, &mut self.kernel_x, r.stride, r.tile_w);
    }
    /// ki + 1 (kj back to 0).
    fn next_kernel_row(&mut self) {
        let r = self.k.reader;
        self.k
            .y_steps
            .step(&mut self.dy, &mut self.kernel_y, r.stride, 1);
        self.first_kernel_column();
    }
    /// c + 1 (ki, kj back to 0).
    fn next_channel(&mut self) {
        self.channel_base += self.k.channel_words as i64;
        self.first_kernel_row();
    }
    /// The next pixel tile of the row (ow0 + TW): a band on.
    fn next_tile(&mut self) {
        self.tile_base += self.k.band_len as i64;
        self.channel_base = 0;
        self.first_kernel_row();
    }
    /// The first pixel tile of the next tile row (oh0 + TH, ow0 = 0).
    fn next_tile_row(&mut self) {
        let r = self.k.reader;
        self.tile_row_base += i64::from(r.tile_h * r.tile_w);
        self.tile_base = self.tile_row_base;
        self.channel_base = 0;
        self.first_kernel_row();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::banked::layer_steps;

    fn readers() -> Vec<Reader> {
        let mut tiles: Vec<(u32, u32)> = (1..=4)
            .flat_map(|th| (1..=4).map(move |tw| (th, tw)))
            .collect();
        tiles.extend([(1, 16), (16, 1), (2, 8), (3, 5), (5, 3)]);
        (1..=4)
            .flat_map(|stride| {
                tiles.iter().map(move |&(tile_h, tile_w)| Reader {
                    stride,
                    tile_h,
                    tile_w,
                })
            })
            .collect()
    }

    /// Every step of every layer of a sweep of small shapes (strides 1-4,
    /// every tile up to 4 x 4 and 1 x 16, 16 x 1, 2 x 8, 3 x 5, 5 x 3 on 16
    /// banks, kernels 1-5, every padding): each row whose position is in
    /// the map finds its value where `place` put it, in the bank the one
    /// rotation gives it and at the word that bank reads, and the rows of a
    /// step read different banks.
    #[test]
    fn every_step_is_one_rotation_of_the_banks() {
        let mut checked = 0u64;
        for reader in readers() {
            for kernel in 1..=5i64 {
                for padding in 0..kernel {
                    for (h, w) in [(kernel as u64, 9), (11, kernel as u64 + 2), (7, 13)] {
                        checked += check_layer(reader, 16, 2, h, w, kernel, padding);
                    }
                }
            }
        }
        // Fewer banks than rows of a tile never; as many as the tile.
        for (tile_h, tile_w, banks) in [(1, 3, 4), (3, 1, 4), (2, 2, 4), (1, 1, 1), (3, 5, 16)] {
            for stride in 1..=3 {
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
                checked += check_layer(reader, banks, 3, 9, 10, 3, 1);
            }
        }
        assert!(checked > 100_000, "only {checked} reads checked");
    }

    /// Walk one layer's tiles and steps; returns the reads checked.
    fn check_layer(reader: Reader, banks: u32, c_in: u64, h: u64, w: u64, k: i64, p: i64) -> u64 {
        let s = i64::from(reader.stride);
        let (th, tw) = (i64::from(reader.tile_h), i64::from(reader.tile_w));
        if h as i64 + 2 * p < k || w as i64 + 2 * p < k {
            return 0;
        }
        let ho = (h as i64 + 2 * p - k) / s + 1;
        let wo = (w as i64 + 2 * p - k) / s + 1;
        let map = CyclicMap::new(c_in, h, w, reader, banks);
        let mut checked = 0;
        for oh0 in (0..ho).step_by(th as usize) {
            for ow0 in (0..wo).step_by(tw as usize) {
                for c in 0..c_in {
                    for ki in 0..k {
                        for kj in 0..k {
                            let step = map.step(c, oh0 as u64, ow0 as u64, ki - p, kj - p);
                            let mut seen = vec![false; banks as usize];
                            for row in 0..(th * tw) as u32 {
                                let bank = step.bank_of_row(row);
                                assert!(!seen[bank as usize], "{reader:?}: bank {bank} twice");
                                seen[bank as usize] = true;
                                assert_eq!(step.row_of_bank(bank), row);
                                let (ti, tj) = (i64::from(row) / tw, i64::from(row) % tw);
                                let y = s * (oh0 + ti) + ki - p;
                                let x = s * (ow0 + tj) + kj - p;
                                let inside =
                                    (0..h as i64).contains(&y) && (0..w as i64).contains(&x);
                                if !inside {
                                    continue;
                                }
                                let want = map.place(c, y as u64, x as u64);
                                assert_eq!(
                                    (bank, step.bank_addr(bank)),
                                    (want.bank, want.addr as i64),
                                    "{reader:?} on {banks} banks, {c_in}x{h}x{w} K {k} P {p}: \
                                     tile ({oh0}, {ow0}) c {c} ki {ki} kj {kj} row {row} at \
                                     ({y}, {x})"
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        checked
    }

    /// `place` stores a map once: distinct positions get distinct places,
    /// each below `bank_words`, and the map spans at most its planes' rows
    /// rounded up to whole bands, plus less than a bank row a band.
    #[test]
    fn place_is_one_to_one_and_within_the_bank_words() {
        for reader in readers() {
            for (c, h, w) in [(1, 1, 1), (3, 7, 5), (2, 16, 16), (1, 28, 28)] {
                let map = CyclicMap::new(c, h, w, reader, 16);
                let mut used = std::collections::HashSet::new();
                for ci in 0..c {
                    for y in 0..h {
                        for x in 0..w {
                            let p = map.place(ci, y, x);
                            assert!(p.bank < 16);
                            assert!(p.addr < map.bank_words(), "{map:?} ({ci}, {y}, {x})");
                            assert!(used.insert((p.bank, p.addr)), "{map:?} ({ci}, {y}, {x})");
                        }
                    }
                }
                let (s, tw) = (u64::from(reader.stride), u64::from(reader.tile_w));
                let planes = c * s * s;
                let band_columns = w.div_ceil(s).div_ceil(tw) * tw;
                let bound = planes * (h.div_ceil(s) * band_columns + map.bands() * 15);
                assert!(
                    map.entries() <= bound,
                    "{map:?}: {} > {bound}",
                    map.entries()
                );
                assert_eq!(
                    map.band_len() % 16,
                    u64::from(reader.tile_w) % 16,
                    "{map:?}"
                );
            }
        }
    }

    /// The write-back's and the input scan's form: for every position of
    /// maps over a sweep of readers, the three parts sum to the entry
    /// `place` splits into bank and word, and the row and column parts
    /// counted up from 0 by their `DigitSteps` (adds only) are the parts
    /// of every row and column.
    #[test]
    fn parts_sum_to_the_place_and_count_by_their_steps() {
        for reader in readers() {
            let map = CyclicMap::new(3, 11, 13, reader, 16);
            let (s, tw) = (reader.stride, reader.tile_w);
            let (mut dy, mut row) = (Digits::of(0, s, 1), 0i64);
            for y in 0..map.h {
                if y > 0 {
                    map.row_steps().step(&mut dy, &mut row, s, 1);
                }
                assert_eq!(row as u64, map.parts(0, y, 0)[1], "{reader:?} row {y}");
            }
            let (mut dx, mut column) = (Digits::of(0, s, tw), 0i64);
            for x in 0..map.w {
                if x > 0 {
                    map.column_steps().step(&mut dx, &mut column, s, tw);
                }
                assert_eq!(
                    column as u64,
                    map.parts(0, 0, x)[2],
                    "{reader:?} column {x}"
                );
            }
            for c in 0..map.c {
                for y in 0..map.h {
                    for x in 0..map.w {
                        let l: u64 = map.parts(c, y, x).iter().sum();
                        let p = map.place(c, y, x);
                        assert_eq!((l % 16, l / 16), (u64::from(p.bank), p.addr), "{reader:?}");
                    }
                }
            }
        }
    }

    /// The walk (sums stepped by the loop nest's events) makes every step
    /// of a sweep of strides, tiles, kernels and paddings exactly as
    /// `CyclicMap::step` does: rotation, base word, band step and bw0.
    #[test]
    fn the_incremental_walk_makes_every_steps_reads() {
        let mut steps = 0u64;
        for reader in readers() {
            for kernel in 1..=5i64 {
                for padding in 0..kernel {
                    let (c_in, h, w) = (3u64, 10u64, 12u64);
                    let s = i64::from(reader.stride);
                    let ho = (h as i64 + 2 * padding - kernel) / s + 1;
                    let wo = (w as i64 + 2 * padding - kernel) / s + 1;
                    let map = CyclicMap::new(c_in, h, w, reader, 16);
                    let mut walk = CyclicWalk::start(CyclicConstants::new(&map, padding as u32));
                    let (th, tw) = (reader.tile_h, reader.tile_w);
                    let order = layer_steps(c_in, ho as u64, wo as u64, th, tw, kernel);
                    for (i, st) in order.iter().enumerate() {
                        if i > 0 {
                            walk.advance_past(&order[i - 1]);
                        }
                        let want = map.step(st.c, st.oh0, st.ow0, st.ki - padding, st.kj - padding);
                        assert_eq!(
                            walk.step_reads(),
                            want,
                            "{reader:?} K {kernel} P {padding} {st:?}"
                        );
                        steps += 1;
                    }
                }
            }
        }
        assert!(steps > 10_000, "only {steps} steps");
    }
}
