//! The ROWS x COLS grid of processing elements: a plain grid, no skew.
//! Activation tokens enter each row from the left and move right; weight
//! tokens enter each column from the top and move down; during read-out the
//! accumulators shift down each column and leave at the bottom. With shadow
//! accumulators (`overlap`) a `ShadowCell` beside each PE carries the
//! token's `last` bit along the row and the read-out chain down the column
//! (`shadow.rs`), and the bottom cells' shadows leave instead. With row
//! taps (`row_taps`) the shadows stay put until the next swap and the
//! bottom edge is a multiplexer: the shadows of the row `tap_sel` names.
//! With row taps and no shadows there is no chain at all: the bottom edge
//! is the PEs' own accumulators of that row, and a row's accumulators restart
//! from zero in the cycle it is read (`row_clear`), as the chain would
//! have left them.
//!
//! The PEs are one flat row-major `Vec` (rust-hdl cannot emit 2-D arrays of
//! blocks); kernel loops bind the column count as a loop variable so index
//! expressions like `r * ncols + c` can be evaluated by the generator.

use crate::leaf::{vec_of, word, Word};
use crate::pe::{PeParams, ProcessingElement};
use crate::shadow::ShadowCell;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Mesh {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub drain: Signal<In, Bit>,
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
    /// The row the read-out takes (row taps only, else none).
    /// One-hot, a bit per row (row taps only, else none): the row the
    /// read-out takes (none: the bottom edge is 0).
    pub tap_sel: Vec<Signal<In, Bit>>,
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
    /// Row taps only (else empty): per column the acc_hi and acc_lo
    /// multiplexers over the rows.
    tap_hi: RowSelect,
    tap_lo: RowSelect,
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
            drain: Default::default(),
            row_valid: vec_of(rows),
            row_first: vec_of(rows),
            row_commit: vec_of(rows),
            row_sens: vec_of(rows),
            row_digit: vec_of(rows),
            row_hshift: vec_of(rows),
            row_last: vec_of(if p.overlap { rows } else { 0 }),
            col_w_digit: vec_of(cols),
            col_w_low: vec_of(cols),
            tap_sel: vec_of(if taps { rows } else { 0 }),
            row_clear: vec_of(if taps && !p.overlap { rows } else { 0 }),
            col_acc_hi: vec_of(cols),
            col_acc_lo: vec_of(cols),
            zero: Constant::new(word(0)),
            digit_mask: Constant::new(word(p.digit_mask as i64)),
            hshift_mask: Constant::new(word(p.hshift_mask as i64)),
            w_digit_mask: Constant::new(word(p.w_digit_mask as i64)),
            acc_hi_mask: Constant::new(word(p.acc_hi_mask as i64)),
            acc_lo_mask: Constant::new(word(if p.drq { p.acc_lo_mask as i64 } else { 0 })),
            tap_hi: RowSelect::new(if taps { rows } else { 0 }, cols, p.acc_hi_mask),
            tap_lo: RowSelect::new(
                if taps { rows } else { 0 },
                cols,
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
    fn last_row(&self) -> usize {
        self.rows() - 1
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
        self.tap_sel.len()
    }
    /// 1 with row taps, else 0.
    fn taps(&self) -> usize {
        self.tap_sel.len().min(1)
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
            self.pes[k].drain.next = self.drain.val();
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
            for last in self.last_row()..self.rows() {
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
            self.shadows[k].drain.next = self.drain.val();
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
            for _k in 0..self.taps() {
                for c in 0..self.cols() {
                    self.col_acc_hi[c].next = self.tap_hi.out[c].val();
                    self.col_acc_lo[c].next = self.tap_lo.out[c].val();
                }
                for r in 0..self.tap_rows() {
                    self.tap_hi.sel[r].next = self.tap_sel[r].val();
                    self.tap_lo.sel[r].next = self.tap_sel[r].val();
                }
            }
            for _k in 0..self.shadow_taps() {
                for r in 0..self.tap_rows() {
                    for c in 0..self.cols() {
                        self.tap_hi.data[r * ncols + c].next =
                            self.shadows[r * ncols + c].sh_hi_out.val();
                        self.tap_lo.data[r * ncols + c].next =
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
                        self.tap_hi.data[r * ncols + c].next =
                            self.pes[r * ncols + c].acc_hi_out.val();
                        self.tap_lo.data[r * ncols + c].next =
                            self.pes[r * ncols + c].acc_lo_out.val();
                    }
                }
            }
        }
    }
}

/// Per column a ROWS-to-1 multiplexer of words under a one-hot select,
/// as AND-OR: each row's word gated by its select bit, the rows ORed. The
/// select comes from registers (`array.rs`): a multiplexer under a binary
/// row number, or a one-hot select decoded from one in the same logic
/// cone, maps to about three times the LUTs on the ECP5 (ABC rebuilds a
/// binary multiplexer); this form lets it build a tree of LUT4s
/// (docs/array.md, "Row taps without shadows"). Its Verilog is one
/// expression per column (the generated form took a signal per row and
/// column, 900 lines a multiplexer at 16x16). Built with no rows (and no
/// columns' outputs) where there are no taps.
#[derive(LogicBlock)]
pub struct RowSelect {
    /// One-hot: at most one row selected (none: the outputs are 0).
    pub sel: Vec<Signal<In, Bit>>,
    /// Row-major: row r, column c at r * COLS + c.
    pub data: Vec<Signal<In, Word>>,
    pub out: Vec<Signal<Out, Word>>,
    /// The bits of a word that are read: the multiplexer is kept as a
    /// module of its own in synthesis (`Design::kept_modules`), so it
    /// masks its inputs itself.
    width_mask: Constant<Word>,
}

impl RowSelect {
    pub fn new(rows: usize, cols: usize, width_mask: u64) -> RowSelect {
        let outs = if rows > 0 { cols } else { 0 };
        RowSelect {
            sel: vec_of(rows),
            data: vec_of(rows * cols),
            out: vec_of(outs),
            width_mask: Constant::new(word(width_mask as i64)),
        }
    }
}

impl Logic for RowSelect {
    fn update(&mut self) {
        let cols = self.out.len();
        for c in 0..cols {
            let mut v = 0u64;
            for (r, sel) in self.sel.iter().enumerate() {
                if sel.val() {
                    v |= self.data[r * cols + c].val().to_u64();
                }
            }
            self.out[c].next = word((v & self.width_mask.val().to_u64()) as i64);
        }
    }
    fn connect(&mut self) {
        for o in &mut self.out {
            o.connect();
        }
    }
    fn hdl(&self) -> Verilog {
        let (rows, cols) = (self.sel.len(), self.out.len());
        let mut v = String::from("always @(*) begin\n");
        for c in 0..cols {
            let terms: Vec<String> = (0..rows)
                .map(|r| format!("(data${} & {{64{{sel${r}}}}})", r * cols + c))
                .collect();
            v += &format!("    out${c} = ({}) & width_mask;\n", terms.join(" | "));
        }
        v += "end";
        Verilog::Custom(v)
    }
}
