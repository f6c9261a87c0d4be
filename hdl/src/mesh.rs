//! The ROWS x COLS grid of processing elements: a plain grid, no skew.
//! Activation tokens enter each row from the left and move right; weight
//! tokens enter each column from the top and move down; during read-out the
//! accumulators shift down each column and leave at the bottom. With shadow
//! accumulators (`overlap`) a `ShadowCell` beside each PE carries the
//! token's `last` bit along the row and the read-out chain down the column
//! (`shadow.rs`), and the bottom cells' shadows leave instead. With row
//! taps (`row_taps`) the shadows stay put until the next swap and the
//! bottom edge is a multiplexer per column (`RowTaps`): the shadows of
//! the row its one-hot select names.
//! With row taps and no shadows there is no chain at all: the bottom edge
//! is the PEs' own accumulators of that row, and a row's accumulators restart
//! from zero in the cycle it is read (`row_clear`), as the chain would
//! have left them.
//!
//! The PEs are one flat row-major `Vec` (rust-hdl cannot emit 2-D arrays of
//! blocks); kernel loops bind the column count as a loop variable so index
//! expressions like `r * ncols + c` can be evaluated by the generator.

use crate::leaf::{low_mask, vec_of, word, Word};
use crate::pe::{PeParams, ProcessingElement};
use crate::shadow::ShadowCell;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Mesh {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The read-out chain's shift (chain) or the shadows' swap input
    /// (shadow accumulators): one; none with row taps on the PEs.
    pub drain: Vec<Signal<In, Bit>>,
    // Left edge, one per row.
    pub row_valid: Vec<Signal<In, Bit>>,
    pub row_first: Vec<Signal<In, Bit>>,
    pub row_commit: Vec<Signal<In, Bit>>,
    pub row_sens: Vec<Signal<In, Bit>>,
    pub row_digit: Vec<Signal<In, Word>>,
    pub row_hshift: Vec<Signal<In, Word>>,
    /// `last` of each row's token (shadow accumulators only, else none).
    pub row_last: Vec<Signal<In, Bit>>,
    // Top edge, one per column.
    pub col_w_digit: Vec<Signal<In, Word>>,
    pub col_w_low: Vec<Signal<In, Word>>,
    /// Row taps only (else none): a read-out starts (row 0 is read from
    /// the next cycle on), and a read-out row's handshake (the next row is
    /// read from the next cycle on). Each column's multiplexer keeps its
    /// own one-hot row select (`RowTaps`).
    pub tap_start: Vec<Signal<In, Bit>>,
    pub tap_shift: Vec<Signal<In, Bit>>,
    /// Row taps without shadows (else none): row r is read this cycle, its
    /// PEs' accumulators restart from zero (their `drain`).
    pub row_clear: Vec<Signal<In, Bit>>,
    // Bottom edge, one per column: the bottom PE's accumulators.
    pub col_acc_hi: Vec<Signal<Out, Word>>,
    pub col_acc_lo: Vec<Signal<Out, Word>>,
    zero: Constant<Word>,
    /// The fields of the edge words the PEs read (`PeParams`), and the
    /// accumulator bits the read-out carries (none of `acc_lo` in the INT8
    /// baseline). The PE masks its inputs itself; masking here too tells
    /// the drivers outside the mesh (skew, delay and edge registers) which
    /// bits are read, and the readers which are driven, when synthesis
    /// keeps the PE as a module of its own (`Design::kept_modules`).
    digit_mask: Constant<Word>,
    hshift_mask: Constant<Word>,
    w_digit_mask: Constant<Word>,
    acc_hi_mask: Constant<Word>,
    acc_lo_mask: Constant<Word>,
    /// Row taps only (else empty): per column the multiplexer of acc_hi
    /// and acc_lo over the rows.
    taps: RowTaps,
    pes: Vec<ProcessingElement>,
    /// One per PE, same order (shadow accumulators only, else none).
    shadows: Vec<ShadowCell>,
}

impl Mesh {
    /// The mesh of `rows` x `cols` PEs; `taps`: the read-out selects a
    /// row (of the shadows with `p.overlap`, else of the PEs) instead of
    /// shifting a chain.
    pub fn new(rows: usize, cols: usize, p: &PeParams, taps: bool) -> Mesh {
        Mesh {
            clock: Default::default(),
            reset: Default::default(),
            drain: vec_of(usize::from(p.overlap || !taps)),
            row_valid: vec_of(rows),
            row_first: vec_of(rows),
            row_commit: vec_of(rows),
            row_sens: vec_of(rows),
            row_digit: vec_of(rows),
            row_hshift: vec_of(rows),
            row_last: vec_of(if p.overlap { rows } else { 0 }),
            col_w_digit: vec_of(cols),
            col_w_low: vec_of(cols),
            tap_start: vec_of(usize::from(taps)),
            tap_shift: vec_of(usize::from(taps)),
            row_clear: vec_of(if taps && !p.overlap { rows } else { 0 }),
            col_acc_hi: vec_of(cols),
            col_acc_lo: vec_of(cols),
            zero: Constant::new(word(0)),
            digit_mask: Constant::new(word(p.digit_mask as i64)),
            hshift_mask: Constant::new(word(p.hshift_mask as i64)),
            w_digit_mask: Constant::new(word(p.w_digit_mask as i64)),
            acc_hi_mask: Constant::new(word(p.acc_hi_mask as i64)),
            acc_lo_mask: Constant::new(word(if p.drq { p.acc_lo_mask as i64 } else { 0 })),
            taps: RowTaps::new(
                if taps { rows } else { 0 },
                cols,
                p.acc_hi_mask,
                if p.drq { p.acc_lo_mask } else { 0 },
            ),
            pes: (0..rows * cols)
                .map(|_| ProcessingElement::new(p))
                .collect(),
            shadows: (0..if p.overlap { rows * cols } else { 0 })
                .map(|_| ShadowCell::new(p.drq))
                .collect(),
        }
    }
    fn rows(&self) -> usize {
        self.row_valid.len()
    }
    fn cols(&self) -> usize {
        self.col_w_digit.len()
    }
    fn cols_end(&self) -> usize {
        self.cols() + 1
    }
    fn pe_count(&self) -> usize {
        self.pes.len()
    }
    /// The read-out chain of the PEs (no shadows, no row taps): the PEs
    /// and rows it has, else 0.
    fn drains(&self) -> usize {
        self.drain.len()
    }
    fn chain_pes(&self) -> usize {
        self.chain_rows() * self.cols()
    }
    fn chain_rows(&self) -> usize {
        if self.shadows.is_empty() && self.tap_start.is_empty() {
            self.rows()
        } else {
            0
        }
    }
    fn chain_last_row(&self) -> usize {
        self.chain_rows().saturating_sub(1)
    }
    /// With shadow accumulators: the shadow cells, rows and columns; else 0.
    fn shadow_count(&self) -> usize {
        self.shadows.len()
    }
    fn shadow_rows(&self) -> usize {
        self.row_last.len()
    }
    fn shadow_cols(&self) -> usize {
        self.shadows.len().min(1) * self.cols()
    }
    fn shadow_last_row(&self) -> usize {
        self.row_last.len().saturating_sub(1)
    }
    /// ROWS with row taps, else 0.
    fn tap_rows(&self) -> usize {
        self.tap_start.len() * self.rows()
    }
    /// 1 with row taps, else 0.
    fn taps(&self) -> usize {
        self.tap_start.len()
    }
    /// 1 with row taps on the shadows, else 0.
    fn shadow_taps(&self) -> usize {
        self.taps() - self.pe_taps()
    }
    /// ROWS with row taps on the PEs (no shadows), else 0.
    fn pe_tap_rows(&self) -> usize {
        self.row_clear.len()
    }
    /// 1 with row taps on the PEs (no shadows), else 0.
    fn pe_taps(&self) -> usize {
        self.row_clear.len().min(1)
    }
}

impl Logic for Mesh {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self.pe_count() {
            self.pes[k].clock.next = self.clock.val();
            self.pes[k].reset.next = self.reset.val();
        }
        // Each PE's `drain` and the bottom edge are written once, by the
        // read-out there is (the chain here, the shadows or the row taps
        // below): a signal written once needs no shadow copy in the
        // Verilog (`comb.rs`).
        for d in 0..self.drains() {
            for k in 0..self.chain_pes() {
                self.pes[k].drain.next = self.drain[d].val();
            }
        }
        for ncols in self.cols()..self.cols_end() {
            // Left edge and horizontal links.
            for r in 0..self.rows() {
                self.pes[r * ncols].valid_in.next = self.row_valid[r].val();
                self.pes[r * ncols].first_in.next = self.row_first[r].val();
                self.pes[r * ncols].commit_in.next = self.row_commit[r].val();
                self.pes[r * ncols].sens_in.next = self.row_sens[r].val();
                self.pes[r * ncols].digit_in.next = self.row_digit[r].val() & self.digit_mask.val();
                self.pes[r * ncols].hshift_in.next =
                    self.row_hshift[r].val() & self.hshift_mask.val();
                for c in 1..self.cols() {
                    self.pes[r * ncols + c].valid_in.next =
                        self.pes[r * ncols + c - 1].valid_out.val();
                    self.pes[r * ncols + c].first_in.next =
                        self.pes[r * ncols + c - 1].first_out.val();
                    self.pes[r * ncols + c].commit_in.next =
                        self.pes[r * ncols + c - 1].commit_out.val();
                    self.pes[r * ncols + c].sens_in.next =
                        self.pes[r * ncols + c - 1].sens_out.val();
                    self.pes[r * ncols + c].digit_in.next =
                        self.pes[r * ncols + c - 1].digit_out.val();
                    self.pes[r * ncols + c].hshift_in.next =
                        self.pes[r * ncols + c - 1].hshift_out.val();
                }
            }
            // Top edge and vertical links (weights down, read-out down).
            for c in 0..self.cols() {
                self.pes[c].w_digit_in.next = self.col_w_digit[c].val() & self.w_digit_mask.val();
                self.pes[c].w_low_in.next = self.col_w_low[c].val() & self.w_digit_mask.val();
                self.pes[c].acc_hi_in.next = self.zero.val();
                self.pes[c].acc_lo_in.next = self.zero.val();
                for r in 1..self.rows() {
                    self.pes[r * ncols + c].w_digit_in.next =
                        self.pes[(r - 1) * ncols + c].w_digit_out.val();
                    self.pes[r * ncols + c].w_low_in.next =
                        self.pes[(r - 1) * ncols + c].w_low_out.val();
                    self.pes[r * ncols + c].acc_hi_in.next =
                        self.pes[(r - 1) * ncols + c].acc_hi_out.val();
                    self.pes[r * ncols + c].acc_lo_in.next =
                        self.pes[(r - 1) * ncols + c].acc_lo_out.val();
                }
            }
            // Bottom edge.
            for last in self.chain_last_row()..self.chain_rows() {
                for c in 0..self.cols() {
                    self.col_acc_hi[c].next =
                        self.pes[last * ncols + c].acc_hi_out.val() & self.acc_hi_mask.val();
                    self.col_acc_lo[c].next =
                        self.pes[last * ncols + c].acc_lo_out.val() & self.acc_lo_mask.val();
                }
            }
        }
        // Shadow accumulators: each cell watches its PE and swaps it.
        for k in 0..self.shadow_count() {
            self.shadows[k].clock.next = self.clock.val();
            self.shadows[k].reset.next = self.reset.val();
            for d in 0..self.drains() {
                self.shadows[k].drain.next = self.drain[d].val();
            }
            self.shadows[k].valid.next = self.pes[k].valid_out.val();
            self.shadows[k].acc_hi.next = self.pes[k].acc_hi_out.val() & self.acc_hi_mask.val();
            self.shadows[k].acc_lo.next = self.pes[k].acc_lo_out.val() & self.acc_lo_mask.val();
            self.pes[k].drain.next = self.shadows[k].swap.val();
        }
        for ncols in self.cols()..self.cols_end() {
            // `last` moves right with the token.
            for r in 0..self.shadow_rows() {
                self.shadows[r * ncols].last_in.next = self.row_last[r].val();
                for c in 1..self.cols() {
                    self.shadows[r * ncols + c].last_in.next =
                        self.shadows[r * ncols + c - 1].last_out.val();
                }
            }
            // The shadows move down; the PEs restart from zero.
            for c in 0..self.shadow_cols() {
                self.shadows[c].sh_hi_in.next = self.zero.val();
                self.shadows[c].sh_lo_in.next = self.zero.val();
                for r in 1..self.shadow_rows() {
                    self.shadows[r * ncols + c].sh_hi_in.next =
                        self.shadows[(r - 1) * ncols + c].sh_hi_out.val();
                    self.shadows[r * ncols + c].sh_lo_in.next =
                        self.shadows[(r - 1) * ncols + c].sh_lo_out.val();
                }
                for r in 0..self.shadow_rows() {
                    self.pes[r * ncols + c].acc_hi_in.next = self.zero.val();
                    self.pes[r * ncols + c].acc_lo_in.next = self.zero.val();
                }
            }
            for last in self.shadow_last_row()..self.shadow_rows() {
                for c in 0..self.cols() {
                    self.col_acc_hi[c].next = self.shadows[last * ncols + c].sh_hi_out.val();
                    self.col_acc_lo[c].next = self.shadows[last * ncols + c].sh_lo_out.val();
                }
            }
            // Row taps: the bottom edge is the selected row, of the shadows
            // (the array holds `drain` low, so they stay put) or, without
            // shadows, of the PEs, which have no chain and restart from
            // zero as their row is read.
            for k in 0..self.taps() {
                self.taps.clock[k].next = self.clock.val();
                self.taps.reset[k].next = self.reset.val();
                self.taps.start[k].next = self.tap_start[k].val();
                self.taps.shift[k].next = self.tap_shift[k].val();
                for c in 0..self.cols() {
                    // (Masked by the taps already: the same bits.)
                    self.col_acc_hi[c].next = self.taps.out_hi[c].val() & self.acc_hi_mask.val();
                    self.col_acc_lo[c].next = self.taps.out_lo[c].val() & self.acc_lo_mask.val();
                }
            }
            for _k in 0..self.shadow_taps() {
                for r in 0..self.tap_rows() {
                    for c in 0..self.cols() {
                        self.taps.data_hi[r * ncols + c].next =
                            self.shadows[r * ncols + c].sh_hi_out.val();
                        self.taps.data_lo[r * ncols + c].next =
                            self.shadows[r * ncols + c].sh_lo_out.val();
                    }
                }
            }
            for _k in 0..self.pe_taps() {
                for r in 0..self.pe_tap_rows() {
                    for c in 0..self.cols() {
                        // The chain inputs stay as wired above: a PE
                        // without the chain does not read them.
                        self.pes[r * ncols + c].drain.next = self.row_clear[r].val();
                        // (The multiplexer masks the words itself.)
                        self.taps.data_hi[r * ncols + c].next =
                            self.pes[r * ncols + c].acc_hi_out.val();
                        self.taps.data_lo[r * ncols + c].next =
                            self.pes[r * ncols + c].acc_lo_out.val();
                    }
                }
            }
        }
    }
}

/// The read-out's multiplexers: per column, one over the rows' acc_hi and
/// acc_lo words, with the column's own copy of the one-hot row select.
/// The select is row 0 when a read-out starts (`start`), moves up a row
/// with each read-out handshake (`shift`; the top row's bit leaves) and is
/// held otherwise; the array keeps the same register for its row clears
/// (`array.rs`). A copy per column: one register's bit reached every
/// column's multiplexer (fanout 48 x 16 at 16x16, 10 ns of the routed
/// design's 25 ns critical path), a copy reaches its own column's words.
/// (The copies' next states read their own outputs, so synthesis does not
/// merge them.) The multiplexer is AND-OR: each row's word gated by its
/// select bit, the rows ORed. A multiplexer under a binary row number, or
/// a one-hot select decoded from one in the same logic cone, maps to
/// about three times the LUTs on the ECP5 (docs/array.md, "Row taps
/// without shadows"); the block is kept as a module of its own in
/// synthesis (`Design::kept_modules`) so that it stays AND-OR. Its Verilog
/// is written out (the generated form took a signal per row and word).
/// Built with no rows and no columns where there are no taps.
#[derive(LogicBlock)]
pub struct RowTaps {
    /// One each with taps, else none (the block is then without ports and
    /// dropped from the Verilog, `dedup.rs`).
    pub clock: Vec<Signal<In, Clock>>,
    pub reset: Vec<Signal<In, Bit>>,
    /// A read-out starts: row 0 is selected from the next cycle on.
    pub start: Vec<Signal<In, Bit>>,
    /// A read-out row's handshake: the next row is selected.
    pub shift: Vec<Signal<In, Bit>>,
    /// Row-major: row r, column c at r * COLS + c.
    pub data_hi: Vec<Signal<In, Word>>,
    pub data_lo: Vec<Signal<In, Word>>,
    /// Per column, the selected row's words (none selected: 0).
    pub out_hi: Vec<Signal<Out, Word>>,
    pub out_lo: Vec<Signal<Out, Word>>,
    /// Per column, the one-hot select, a bit per row.
    sel: Vec<Signal<Local, Word>>,
    /// The bits of a word that are read: the block is kept as a module of
    /// its own, so it masks its inputs itself.
    hi_mask: Constant<Word>,
    lo_mask: Constant<Word>,
}

impl RowTaps {
    pub fn new(rows: usize, cols: usize, hi_mask: u64, lo_mask: u64) -> RowTaps {
        assert!(rows <= 64, "a one-hot select of {rows} rows");
        let cols = if rows > 0 { cols } else { 0 };
        let one = usize::from(rows > 0);
        RowTaps {
            clock: vec_of(one),
            reset: vec_of(one),
            start: vec_of(one),
            shift: vec_of(one),
            data_hi: vec_of(rows * cols),
            data_lo: vec_of(rows * cols),
            out_hi: vec_of(cols),
            out_lo: vec_of(cols),
            sel: vec_of(cols),
            hi_mask: Constant::new(word(hi_mask as i64)),
            lo_mask: Constant::new(word(lo_mask as i64)),
        }
    }
    fn rows(&self) -> usize {
        self.data_hi.len() / self.cols().max(1)
    }
    fn cols(&self) -> usize {
        self.out_hi.len()
    }
}

impl Logic for RowTaps {
    fn update(&mut self) {
        let (rows, cols) = (self.rows(), self.cols());
        for c in 0..cols {
            let sel = self.sel[c].val().to_u64();
            if self.clock[0].pos_edge() {
                let mut next = sel;
                if self.shift[0].val() {
                    next = (sel << 1) & low_mask(rows as u32);
                }
                if self.start[0].val() {
                    next |= 1;
                }
                if self.reset[0].val() {
                    next = 0;
                }
                self.sel[c].next = word(next as i64);
            }
            let (mut hi, mut lo) = (0u64, 0u64);
            for r in (0..rows).filter(|r| sel >> r & 1 == 1) {
                hi |= self.data_hi[r * cols + c].val().to_u64();
                lo |= self.data_lo[r * cols + c].val().to_u64();
            }
            self.out_hi[c].next = word((hi & self.hi_mask.val().to_u64()) as i64);
            self.out_lo[c].next = word((lo & self.lo_mask.val().to_u64()) as i64);
        }
    }
    fn connect(&mut self) {
        for o in self.out_hi.iter_mut().chain(&mut self.out_lo) {
            o.connect();
        }
        for s in &mut self.sel {
            s.connect();
        }
    }
    fn hdl(&self) -> Verilog {
        let (rows, cols) = (self.rows(), self.cols());
        // Shifted up a row, as a rotation masked to rows 1..ROWS (every
        // bit of the 64-bit local is read: Verilator's lint stays clean).
        let moved_up = low_mask(rows as u32) & !1;
        let shifted = |c: usize| format!("{{sel${c}[62:0], sel${c}[63]}} & 64'h{moved_up:x}");
        let gated = |data: &str, c: usize| {
            (0..rows)
                .map(|r| format!("({data}${} & {{64{{sel${c}[{r}]}}}})", r * cols + c))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let mut v = String::from("always @(posedge clock$0) begin\n");
        for c in 0..cols {
            v += &format!(
                "    if (reset$0) sel${c} <= 64'd0;\n    else begin\n        \
                 if (shift$0) sel${c} <= {};\n        \
                 if (start$0) sel${c}[0] <= 1'b1;\n    end\n",
                shifted(c)
            );
        }
        v += "end\nalways @(*) begin\n";
        for c in 0..cols {
            v += &format!("    out_hi${c} = ({}) & hi_mask;\n", gated("data_hi", c));
            v += &format!("    out_lo${c} = ({}) & lo_mask;\n", gated("data_lo", c));
        }
        v += "end";
        Verilog::Custom(v)
    }
}
