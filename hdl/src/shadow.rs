//! Shadow accumulators (`overlap`): one cell beside each PE of the mesh.
//!
//! The `last` bit of the activation token travels along the row through the
//! cells, registered like the PE's `first` and `commit`, so a cell holds the
//! `last` of the token its PE holds. In the cycle after the PE took the
//! tile's last token (the swap cycle, `swap`) the cell loads the PE's
//! finished accumulators into its shadows `sh_hi` / `sh_lo`, and the PE
//! restarts from zero (`pe.rs`). The shadows form the read-out chain: while
//! `drain` is high they shift down the column, as the accumulators do
//! without shadows. The array never drains and swaps a cell in one cycle:
//! the next tile's last token waits until the read-out has finished
//! (`array.rs`).

use crate::leaf::{Reg, Word};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct ShadowCell {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Shift the shadows down the column (read-out) this cycle.
    pub drain: Signal<In, Bit>,
    /// The PE holds a valid token (its `valid_out`).
    pub valid: Signal<In, Bit>,
    /// `last` of the token entering the PE, and its registered copy to the
    /// cell on the right.
    pub last_in: Signal<In, Bit>,
    pub last_out: Signal<Out, Bit>,
    /// The swap cycle: the PE took the tile's last token in the cycle before.
    pub swap: Signal<Out, Bit>,
    /// The PE's finished accumulators (its read-out ports).
    pub acc_hi: Signal<In, Word>,
    pub acc_lo: Signal<In, Word>,
    /// Read-out chain: the shadows of the cell above, and this cell's.
    pub sh_hi_in: Signal<In, Word>,
    pub sh_lo_in: Signal<In, Word>,
    pub sh_hi_out: Signal<Out, Word>,
    pub sh_lo_out: Signal<Out, Word>,
    /// The DRQ PE has `acc_lo`; the INT8 baseline's `sh_lo` stays zero.
    drq: Constant<Bit>,
    last_q: Reg<Bit>,
    sh_hi: Reg<Word>,
    sh_lo: Reg<Word>,
}

impl ShadowCell {
    pub fn new(drq: bool) -> ShadowCell {
        ShadowCell {
            clock: Default::default(),
            reset: Default::default(),
            drain: Default::default(),
            valid: Default::default(),
            last_in: Default::default(),
            last_out: Default::default(),
            swap: Default::default(),
            acc_hi: Default::default(),
            acc_lo: Default::default(),
            sh_hi_in: Default::default(),
            sh_lo_in: Default::default(),
            sh_hi_out: Default::default(),
            sh_lo_out: Default::default(),
            drq: Constant::new(drq),
            last_q: Default::default(),
            sh_hi: Default::default(),
            sh_lo: Default::default(),
        }
    }
}

impl Logic for ShadowCell {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, last_q, sh_hi, sh_lo);
        self.last_q.reset.next = self.reset.val();
        self.sh_hi.reset.next = self.reset.val();
        self.sh_lo.reset.next = self.reset.val();
        self.last_q.d.next = self.last_in.val();
        self.last_out.next = self.last_q.q.val();
        self.swap.next = self.valid.val() & self.last_q.q.val();
        self.sh_hi_out.next = self.sh_hi.q.val();
        self.sh_lo_out.next = self.sh_lo.q.val();
        if self.drain.val() {
            self.sh_hi.d.next = self.sh_hi_in.val();
            if self.drq.val() {
                self.sh_lo.d.next = self.sh_lo_in.val();
            }
        }
        if self.valid.val() & self.last_q.q.val() {
            self.sh_hi.d.next = self.acc_hi.val();
            if self.drq.val() {
                self.sh_lo.d.next = self.acc_lo.val();
            }
        }
    }
}
