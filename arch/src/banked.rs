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

/// Bits of a tile side, a stride and their digits in the hardware (and
/// their registers): at most 64.
pub const DIGIT_BITS: u32 = 7;

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
    /// The address part the digits stand for when a phase is `unit` words
    /// (a group S units): (group * S + phase) * unit.
    pub fn part(&self, s: u32, unit: u64) -> i64 {
        (self.group * i64::from(s) + i64::from(self.phase)) * unit as i64
    }
    /// Count up by one under stride `s` and tile side `t`, keeping `part`
    /// (`Digits::part` with `unit`) in step by adds only: + unit; when the
    /// phase wraps, S - 1 units back; when the bank wraps too, a group on
    /// (net + unit). `hdl::digit_counter` is this in hardware.
    pub fn step(&mut self, part: &mut i64, s: u32, t: u32, unit: u64) {
        let (unit, group) = (unit as i64, i64::from(s) * unit as i64);
        *part += unit;
        self.phase += 1;
        if self.phase == s {
            self.phase = 0;
            self.bank += 1;
            *part -= group;
            if self.bank == t {
                self.bank = 0;
                self.group += 1;
                *part += group;
            }
        }
    }
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
        assert!(oh0.is_multiple_of(u64::from(r.tile_h)) && ow0.is_multiple_of(u64::from(r.tile_w)));
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
        let (group, row, s) = (m.group_words() as i64, m.row_words() as i64, m.s() as i64);
        let mut addr = self.base
            + self.dy.part(m.reader.stride, row as u64)
            + self.dx.part(m.reader.stride, 1);
        if bh < self.dy.bank {
            addr += group;
        }
        if bw < self.dx.bank {
            addr += s;
        }
        addr
    }
}

/// The layer constants the walk needs beyond the layer's own registers
/// (stride, tile): what the host computes, as it computes HO and WO, so
/// the hardware needs no divider (issue 17's banked design).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkConstants {
    /// Address steps of a bank row, a row group and a channel.
    pub row_words: u64,
    pub group_words: u64,
    pub channel_words: u64,
    /// Digits of -P under (S, TH) and (S, TW): a kernel row's and column's
    /// first offset.
    pub pad_y: Digits,
    pub pad_x: Digits,
    /// The reader the map is laid out for.
    pub reader: Reader,
}

/// The layer constants as the hardware takes them (the controller's
/// `bank_*` ports, in this order), `WalkConstants::values`.
pub const CONSTANT_NAMES: [&str; 10] = [
    "row_words",
    "group_words",
    "channel_words",
    "pad_y_phase",
    "pad_y_bank",
    "pad_y_part",
    "pad_y_index",
    "pad_x_phase",
    "pad_x_bank",
    "pad_x_part",
];

impl WalkConstants {
    pub fn new(map: &BankedMap, padding: u32) -> WalkConstants {
        let r = map.reader;
        WalkConstants {
            reader: r,
            row_words: map.row_words(),
            group_words: map.group_words(),
            channel_words: map.channel_words(),
            pad_y: Digits::of(-i64::from(padding), r.stride, r.tile_h),
            pad_x: Digits::of(-i64::from(padding), r.stride, r.tile_w),
        }
    }
    /// The values of `CONSTANT_NAMES`, the parts (two's complement) cut to
    /// `part_bits`: the words the host writes.
    pub fn values(&self, part_bits: u32) -> [u64; 10] {
        let cut = |v: i64| v as u64 & (u64::MAX >> (64 - part_bits));
        let (s, (y, x)) = (self.reader.stride, (self.pad_y, self.pad_x));
        [
            self.row_words,
            self.group_words,
            self.channel_words,
            y.phase.into(),
            y.bank.into(),
            cut(y.part(s, self.row_words)),
            u64::from(y.bank * self.reader.tile_w),
            x.phase.into(),
            x.bank.into(),
            cut(x.part(s, 1)),
        ]
    }
}

/// One step of a layer (one channel tile) in the loop nest's order
/// (docs/spec.md §4: pixel tiles left to right and top to bottom, then
/// input channels, kernel rows, kernel columns): the input channel, the
/// tile's top-left output pixel, the kernel offsets, and which loop
/// indices are at their last value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerStep {
    pub c: u64,
    pub oh0: u64,
    pub ow0: u64,
    pub ki: i64,
    pub kj: i64,
    pub last_kj: bool,
    pub last_ki: bool,
    pub last_c: bool,
    pub last_tx: bool,
    pub last_ty: bool,
}

/// Every step of a layer of `c_in` input channels, `ho` x `wo` outputs in
/// `tile_h` x `tile_w` tiles and a `kernel` x `kernel` kernel, in order.
pub fn layer_steps(
    c_in: u64,
    ho: u64,
    wo: u64,
    tile_h: u32,
    tile_w: u32,
    kernel: i64,
) -> Vec<LayerStep> {
    let oh0s: Vec<u64> = (0..ho).step_by(tile_h as usize).collect();
    let ow0s: Vec<u64> = (0..wo).step_by(tile_w as usize).collect();
    let mut steps = Vec::new();
    for (ty, &oh0) in oh0s.iter().enumerate() {
        for (tx, &ow0) in ow0s.iter().enumerate() {
            for c in 0..c_in {
                for ki in 0..kernel {
                    for kj in 0..kernel {
                        steps.push(LayerStep {
                            c,
                            oh0,
                            ow0,
                            ki,
                            kj,
                            last_kj: kj + 1 == kernel,
                            last_ki: ki + 1 == kernel,
                            last_c: c + 1 == c_in,
                            last_tx: tx + 1 == ow0s.len(),
                            last_ty: ty + 1 == oh0s.len(),
                        });
                    }
                }
            }
        }
    }
    steps
}

/// A layer's read addresses walked by the loop nest's events, adds only
/// (`BankedWalk`, `drq_arch::cyclic::CyclicWalk`).
pub trait LayerWalk {
    /// kj + 1.
    fn next_kernel_column(&mut self);
    /// ki + 1 (kj back to 0).
    fn next_kernel_row(&mut self);
    /// c + 1 (ki, kj back to 0).
    fn next_channel(&mut self);
    /// The next pixel tile of the row (ow0 + TW).
    fn next_tile(&mut self);
    /// The first pixel tile of the next tile row (oh0 + TH, ow0 = 0).
    fn next_tile_row(&mut self);
    /// From `step` to the next step: the event its last flags make.
    fn advance_past(&mut self, step: &LayerStep) {
        if !step.last_kj {
            self.next_kernel_column();
        } else if !step.last_ki {
            self.next_kernel_row();
        } else if !step.last_c {
            self.next_channel();
        } else if !step.last_tx {
            self.next_tile();
        } else {
            self.next_tile_row();
        }
    }
}

/// The reads of a layer's steps made as the hardware makes them: counters
/// and adders stepped by the loop nest's events, no product and no
/// division. Per step, `bank_addr(b)` = the step's base plus a row group
/// if bank b's row digit is below `dy.bank` and a column group (S) if its
/// column digit is below `dx.bank`; `StepReads` is the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankedWalk {
    k: WalkConstants,
    /// The current pixel tile row's and tile's part: OHg * GW and
    /// OHg * GW + OWg * S.
    tile_row_base: i64,
    tile_base: i64,
    /// c * CW.
    channel_base: i64,
    /// The kernel offsets' digits and their parts ah * GW + rh * RW and
    /// aw * S + rw.
    pub dy: Digits,
    pub dx: Digits,
    kernel_y: i64,
    kernel_x: i64,
}

impl BankedWalk {
    /// The walk at a layer's (or channel tile's) first step.
    pub fn start(k: WalkConstants) -> BankedWalk {
        let mut w = BankedWalk {
            k,
            tile_row_base: 0,
            tile_base: 0,
            channel_base: 0,
            dy: k.pad_y,
            dx: k.pad_x,
            kernel_y: 0,
            kernel_x: 0,
        };
        w.first_kernel_row();
        w
    }
    fn first_kernel_row(&mut self) {
        self.dy = self.k.pad_y;
        self.kernel_y = self.dy.part(self.k.reader.stride, self.k.row_words);
        self.first_kernel_column();
    }
    fn first_kernel_column(&mut self) {
        self.dx = self.k.pad_x;
        self.kernel_x = self.dx.part(self.k.reader.stride, 1);
    }
    /// The address bank `bank` reads in the current step.
    pub fn bank_addr(&self, bank: u32) -> i64 {
        let (bh, bw) = (bank / self.k.reader.tile_w, bank % self.k.reader.tile_w);
        let mut addr = self.tile_base + self.channel_base + self.kernel_y + self.kernel_x;
        if bh < self.dy.bank {
            addr += self.k.group_words as i64;
        }
        if bw < self.dx.bank {
            addr += i64::from(self.k.reader.stride);
        }
        addr
    }
}

impl LayerWalk for BankedWalk {
    /// kj + 1: the column offset's digits, in single words.
    fn next_kernel_column(&mut self) {
        let r = self.k.reader;
        self.dx.step(&mut self.kernel_x, r.stride, r.tile_w, 1);
    }
    /// ki + 1 (kj back to 0): the row offset's digits, in bank rows (RW).
    fn next_kernel_row(&mut self) {
        let r = self.k.reader;
        self.dy
            .step(&mut self.kernel_y, r.stride, r.tile_h, self.k.row_words);
        self.first_kernel_column();
    }
    /// c + 1 (ki, kj back to 0).
    fn next_channel(&mut self) {
        self.channel_base += self.k.channel_words as i64;
        self.first_kernel_row();
    }
    /// The next pixel tile of the row (ow0 + TW): one column group, S.
    fn next_tile(&mut self) {
        self.tile_base += i64::from(self.k.reader.stride);
        self.channel_base = 0;
        self.first_kernel_row();
    }
    /// The first pixel tile of the next tile row (oh0 + TH, ow0 = 0).
    fn next_tile_row(&mut self) {
        self.tile_row_base += self.k.group_words as i64;
        self.tile_base = self.tile_row_base;
        self.channel_base = 0;
        self.first_kernel_row();
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
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
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
                                let inside =
                                    (0..h as i64).contains(&y) && (0..w as i64).contains(&x);
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
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
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
                    let (gy, gx) = (u64::from(stride * tile_h), u64::from(stride * tile_w));
                    let bound = c * h.div_ceil(gy) * gy * w.div_ceil(gx) * gx;
                    assert!(map.bank_words() * u64::from(map.banks_used()) <= bound);
                }
            }
        }
    }

    #[test]
    fn digits_split_negative_offsets_by_floor_division() {
        assert_eq!(
            Digits::of(-1, 2, 3),
            Digits {
                group: -1,
                bank: 2,
                phase: 1
            }
        );
        assert_eq!(
            Digits::of(-6, 2, 3),
            Digits {
                group: -1,
                bank: 0,
                phase: 0
            }
        );
        assert_eq!(
            Digits::of(7, 2, 3),
            Digits {
                group: 1,
                bank: 0,
                phase: 1
            }
        );
        for v in -40..40i64 {
            let d = Digits::of(v, 3, 4);
            assert_eq!(
                (d.group * 4 + i64::from(d.bank)) * 3 + i64::from(d.phase),
                v
            );
        }
    }

    /// The walk (counters and adders only) gives every bank's address of
    /// every step exactly as `StepReads` does, over a sweep of strides,
    /// tiles, kernels and paddings, and its digits are the step's.
    #[test]
    fn the_incremental_walk_makes_every_steps_addresses() {
        let mut steps = 0u64;
        for stride in 1..=3u32 {
            for (tile_h, tile_w) in [(1, 1), (2, 2), (4, 4), (1, 16), (16, 1), (3, 5), (2, 3)] {
                let reader = Reader {
                    stride,
                    tile_h,
                    tile_w,
                };
                for kernel in 1..=5i64 {
                    for padding in 0..kernel {
                        let (c_in, h, w) = (3u64, 10u64, 12u64);
                        let s = i64::from(stride);
                        let ho = (h as i64 + 2 * padding - kernel) / s + 1;
                        let wo = (w as i64 + 2 * padding - kernel) / s + 1;
                        let map = BankedMap::new(c_in, h, w, reader);
                        let k = WalkConstants::new(&map, padding as u32);
                        let mut walk = BankedWalk::start(k);
                        let order = layer_steps(c_in, ho as u64, wo as u64, tile_h, tile_w, kernel);
                        for (i, st) in order.iter().enumerate() {
                            if i > 0 {
                                walk.advance_past(&order[i - 1]);
                            }
                            let want =
                                map.step(st.c, st.oh0, st.ow0, st.ki - padding, st.kj - padding);
                            assert_eq!((walk.dy, walk.dx), (want.dy, want.dx));
                            for b in 0..map.banks_used() {
                                assert_eq!(
                                    walk.bank_addr(b),
                                    want.bank_addr(b),
                                    "{reader:?} K {kernel} P {padding} {st:?} bank {b}"
                                );
                            }
                            steps += 1;
                        }
                    }
                }
            }
        }
        assert!(steps > 10_000, "only {steps} steps");
    }
}
