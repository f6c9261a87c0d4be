//! Input skew of the systolic array: delay lines. Row r (column c) of the
//! mesh reads its token through a line of r (c) registers.

use crate::leaf::Reg;
use rust_hdl::prelude::*;

/// A plain delay line: `data_out` is `data_in` delayed by `depth` cycles.
#[derive(LogicBlock)]
pub struct Delay<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub data_in: Signal<In, T>,
    pub data_out: Signal<Out, T>,
    stages: Vec<Reg<T>>,
}

impl<T: Synth> Delay<T> {
    pub fn new(depth: usize) -> Delay<T> {
        Delay {
            clock: Default::default(),
            reset: Default::default(),
            data_in: Default::default(),
            data_out: Default::default(),
            stages: (0..depth).map(|_| Default::default()).collect(),
        }
    }
    fn depth(&self) -> usize {
        self.stages.len()
    }
    fn has_stages(&self) -> usize {
        self.stages.len().min(1)
    }
    /// depth-1 .. depth, or an empty range without registers.
    fn last_stage(&self) -> usize {
        self.stages.len().saturating_sub(1)
    }
}

impl<T: Synth> Logic for Delay<T> {
    #[hdl_gen]
    fn update(&mut self) {
        self.data_out.next = self.data_in.val();
        for k in 0..self.depth() {
            self.stages[k].clock.next = self.clock.val();
            self.stages[k].reset.next = self.reset.val();
        }
        for k in 0..self.has_stages() {
            self.stages[k].d.next = self.data_in.val();
        }
        for k in 1..self.depth() {
            self.stages[k].d.next = self.stages[k - 1].q.val();
        }
        for k in self.last_stage()..self.depth() {
            self.data_out.next = self.stages[k].q.val();
        }
    }
}
