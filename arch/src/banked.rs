//! The stored-once activation layout (issue 17; the design is
//! docs/decisions.md, "Stored-once activation buffers"): a feature map
//! held once over the array's ROWS banks, laid out for the layer that
//! *reads* it, so that every step's reads (one per array row) hit
//! different banks at any stride, pixel tile and padding.
//!
//! For a reader with stride S and pixel tile TH x TW, an input row y splits
//! into digits y = (Yg * TH + bh) * S + ry (ry < S, bh < TH; floor
//! division, so a padding row above the map has Yg = -1), and a column x
//! likewise into (Xg, bw, rx) with TW. Position (c, y, x) lives in bank
//! bh * TW + bw at address ((c * NY + Yg) * S + ry) * (NX * S) + Xg * S + rx,
//! where NY = ceil(H / (S TH)) and NX = ceil(W / (S TW)): each bank holds
//! its share of the map densely, every channel as NY * S rows of NX * S
//! entries.
//!
//! Why no step conflicts: row r = ti * TW + tj of a tile whose top-left
//! output pixel is (oh0, ow0) = (OHg * TH, OWg * TW) reads
//! y = S (oh0 + ti) + (ki - P). With ki - P = (ah * TH + bh0) * S + rh
//! (the same digits for every row of the step), y's digits are
//! ry = rh, bh = (ti + bh0) mod TH and Yg = OHg + ah + [bh < bh0]; so the
//! TH rows of a tile column read TH different bh, and with x the same,
//! the TH * TW rows read TH * TW different banks. Each bank's address is
//! one base for the step plus a conditional row-group step ([bh < bh0])
//! and a conditional column-group step ([bw < bw0]), and row r's value
//! comes from bank ((ti + bh0) mod TH) * TW + (tj + bw0) mod TW (a
//! rotation of the banks by the step's (bh0, bw0)).

/// The reader a map is laid out for: its stride and pixel tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub stride: u32,
    pub tile_h: u32,
    pub tile_w: u32,
}

/// The three digits of a coordinate (or of a kernel offset ki - P) under
/// a reader's stride S and tile side T: v = (group * T + bank) * S + phase,
/// floor division (group < 0 for a negative v).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digits {
    pub group: i64,
    pub bank: u32,
    pub phase: u32,
}

impl Digits {
    /// Split `v` under stride `s` and tile side `t` (both at least 1).
    pub fn of(v: i64, s: u32, t: u32) -> Digits {
        let (s, t) = (i64::from(s), i64::from(t));
        let q = v.div_euclid(s);
        Digits {
            group: q.div_euclid(t),
            bank: q.rem_euclid(t) as u32,
            phase: v.rem_euclid(s) as u32,
        }
    }
}

/// Where a map position is stored: its bank and the word in that bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub bank: u32,
    pub addr: u64,
}

/// A C x H x W map stored once for `reader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankedMap {
    pub c: u64,
    pub h: u64,
    pub w: u64,
    pub reader: Reader,
}

impl BankedMap {
    pub fn new(c: u64, h: u64, w: u64, reader: Reader) -> BankedMap {
        assert!(reader.stride >= 1 && reader.tile_h >= 1 && reader.tile_w >= 1);
        BankedMap { c, h, w, reader }
    }
    fn s(&self) -> u64 {
        self.reader.stride.into()
    }
    /// NY: row groups of S * TH map rows.
    pub fn groups_y(&self) -> u64 {
        self.h.div_ceil(self.s() * u64::from(self.reader.tile_h))
    }
    /// NX: column groups of S * TW map columns.
    pub fn groups_x(&self) -> u64 {
        self.w.div_ceil(self.s() * u64::from(self.reader.tile_w))
    }
    /// Entries of one bank row (NX * S): the address step of ry.
    pub fn row_words(&self) -> u64 {
        self.groups_x() * self.s()
    }
    /// Address step of a row group (S bank rows).
    pub fn group_words(&self) -> u64 {
        self.s() * self.row_words()
    }
    /// Address step of a channel (NY row groups).
    pub fn channel_words(&self) -> u64 {
        self.groups_y() * self.group_words()
    }
    /// Words each bank needs: the map fits banks of `bank_words` iff
    /// this is at most that.
    pub fn bank_words(&self) -> u64 {
        self.c * self.channel_words()
    }
    /// Banks that hold entries: TH * TW.
    pub fn banks_used(&self) -> u32 {
        self.reader.tile_h * self.reader.tile_w
    }
    /// Bank and address of position (c, y, x) of the map.
    pub fn place(&self, c: u64, y: u64, x: u64) -> Place {
        let r = self.reader;
        let dy = Digits::of(y as i64, r.stride, r.tile_h);
        let dx = Digits::of(x as i64, r.stride, r.tile_w);
        Place {
            bank: dy.bank * r.tile_w + dx.bank,
            addr: (c * self.groups_y() + dy.group as u64) * self.group_words()
                + u64::from(dy.phase) * self.row_words()
                + dx.group as u64 * self.s()
                + u64::from(dx.phase),
        }
    }
    /// The reads of one step of the reader: the tile whose top-left output
    /// pixel is (oh0, ow0) (multiples of TH and TW), input channel c,
    /// kernel offsets (ki - P, kj - P). The addresses are two's complement
    /// (a bank whose rows all read padding may get a negative one).
    pub fn step(&self, c: u64, oh0: u64, ow0: u64, dh: i64, dw: i64) -> StepReads {
        let r = self.reader;
        assert!(oh0 % u64::from(r.tile_h) == 0 && ow0 % u64::from(r.tile_w) == 0);
        StepReads {
            map: *self,
            dy: Digits::of(dh, r.stride, r.tile_h),
            dx: Digits::of(dw, r.stride, r.tile_w),
            base: (c * self.groups_y()) as i64 * self.group_words() as i64
                + (oh0 / u64::from(r.tile_h)) as i64 * self.group_words() as i64
                + (ow0 / u64::from(r.tile_w) * self.s()) as i64,
        }
    }
}

/// One step's reads, in the form the hardware makes them: the step's
/// kernel-offset digits, one base address, and per bank at most two
/// conditional steps; per array row, the bank it takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepReads {
    map: BankedMap,
    /// Digits of ki - P (rows) and kj - P (columns).
    pub dy: Digits,
    pub dx: Digits,
    /// The tile's and channel's part of every bank's address.
    base: i64,
}

impl StepReads {
    /// The bank array row `row` (= ti * TW + tj, below TH * TW) reads.
    pub fn bank_of_row(&self, row: u32) -> u32 {
        let r = self.map.reader;
        let (ti, tj) = (row / r.tile_w, row % r.tile_w);
        ((ti + self.dy.bank) % r.tile_h) * r.tile_w + (tj + self.dx.bank) % r.tile_w
    }
    /// The address bank `bank` (below TH * TW) reads: the step's base
    /// address (its kernel offsets' groups and phases added) plus a row
    /// group if bh < bh0 and a column group if bw < bw0.
    pub fn bank_addr(&self, bank: u32) -> i64 {
        let m = &self.map;
        let (bh, bw) = (bank / m.reader.tile_w, bank % m.reader.tile_w);
        let (group, row, s) = (
            m.group_words() as i64,
            m.row_words() as i64,
            m.s() as i64,
        );
        let mut addr = self.base
            + self.dy.group * group
            + i64::from(self.dy.phase) * row
            + self.dx.group * s
            + i64::from(self.dx.phase);
        if bh < self.dy.bank {
            addr += group;
        }
        if bw < self.dx.bank {
            addr += s;
        }
        addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step of every layer of a sweep of small shapes (strides 1-4,
    /// every tile of at most 16 pixels up to 4 x 4 and the thin 1 x 16 and
    /// 16 x 1, kernels 1-5, every padding): each row of a tile whose
    /// position is in the map finds its value where `place` put it, through
    /// its bank (`bank_of_row`) and that bank's address (`bank_addr`), and
    /// the rows of a step read different banks.
    #[test]
    fn every_step_reads_each_row_from_its_own_bank() {
        let mut tiles: Vec<(u32, u32)> = (1..=4)
            .flat_map(|th| (1..=4).map(move |tw| (th, tw)))
            .collect();
        tiles.extend([(1, 16), (16, 1), (2, 8), (3, 5)]);
        let mut checked = 0u64;
        for stride in 1..=4u32 {
            for &(tile_h, tile_w) in &tiles {
                let reader = Reader { stride, tile_h, tile_w };
                for kernel in 1..=5i64 {
                    for padding in 0..kernel {
                        for (h, w) in [(kernel as u64, 9), (11, kernel as u64 + 2), (7, 13)] {
                            checked += check_layer(reader, 2, h, w, kernel, padding);
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000, "only {checked} reads checked");
    }

    /// Walk one layer's tiles and steps; returns the reads checked.
    fn check_layer(reader: Reader, c_in: u64, h: u64, w: u64, k: i64, p: i64) -> u64 {
        let s = i64::from(reader.stride);
        let (th, tw) = (i64::from(reader.tile_h), i64::from(reader.tile_w));
        if h as i64 + 2 * p < k || w as i64 + 2 * p < k {
            return 0;
        }
        let ho = (h as i64 + 2 * p - k) / s + 1;
        let wo = (w as i64 + 2 * p - k) / s + 1;
        let map = BankedMap::new(c_in, h, w, reader);
        let mut checked = 0;
        for oh0 in (0..ho).step_by(th as usize) {
            for ow0 in (0..wo).step_by(tw as usize) {
                for c in 0..c_in {
                    for ki in 0..k {
                        for kj in 0..k {
                            let step = map.step(c, oh0 as u64, ow0 as u64, ki - p, kj - p);
                            let mut seen = vec![false; (th * tw) as usize];
                            for row in 0..(th * tw) as u32 {
                                let bank = step.bank_of_row(row);
                                assert!(!seen[bank as usize], "{reader:?}: bank {bank} twice");
                                seen[bank as usize] = true;
                                let (ti, tj) = (i64::from(row) / tw, i64::from(row) % tw);
                                let y = s * (oh0 + ti) + ki - p;
                                let x = s * (ow0 + tj) + kj - p;
                                let inside = (0..h as i64).contains(&y) && (0..w as i64).contains(&x);
                                if !inside {
                                    continue;
                                }
                                let want = map.place(c, y as u64, x as u64);
                                assert_eq!(
                                    (bank, step.bank_addr(bank)),
                                    (want.bank, want.addr as i64),
                                    "{reader:?} {c_in}x{h}x{w} K {k} P {p}: tile ({oh0}, {ow0}) \
                                     c {c} ki {ki} kj {kj} row {row} at ({y}, {x})"
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
    /// every place lies in the first TH * TW banks and below `bank_words`,
    /// and no map needs more than its share of banks rounded up to whole
    /// row and column groups.
    #[test]
    fn place_is_one_to_one_and_within_the_bank_words() {
        for stride in 1..=3u32 {
            for (tile_h, tile_w) in [(1, 1), (4, 4), (2, 3), (1, 16), (5, 3)] {
                let reader = Reader { stride, tile_h, tile_w };
                for (c, h, w) in [(1, 1, 1), (3, 7, 5), (2, 16, 16), (1, 28, 28)] {
                    let map = BankedMap::new(c, h, w, reader);
                    let mut used = std::collections::HashSet::new();
                    for ci in 0..c {
                        for y in 0..h {
                            for x in 0..w {
                                let p = map.place(ci, y, x);
                                assert!(p.bank < map.banks_used());
                                assert!(p.addr < map.bank_words(), "{map:?} ({ci}, {y}, {x})");
                                assert!(used.insert((p.bank, p.addr)), "{map:?} ({ci}, {y}, {x})");
                            }
                        }
                    }
                    let (gy, gx) = (
                        u64::from(stride * tile_h),
                        u64::from(stride * tile_w),
                    );
                    let bound = c * h.div_ceil(gy) * gy * w.div_ceil(gx) * gx;
                    assert!(map.bank_words() * u64::from(map.banks_used()) <= bound);
                }
            }
        }
    }

    #[test]
    fn digits_split_negative_offsets_by_floor_division() {
        assert_eq!(Digits::of(-1, 2, 3), Digits { group: -1, bank: 2, phase: 1 });
        assert_eq!(Digits::of(-6, 2, 3), Digits { group: -1, bank: 0, phase: 0 });
        assert_eq!(Digits::of(7, 2, 3), Digits { group: 1, bank: 0, phase: 1 });
        for v in -40..40i64 {
            let d = Digits::of(v, 3, 4);
            assert_eq!((d.group * 4 + i64::from(d.bank)) * 3 + i64::from(d.phase), v);
        }
    }
}
