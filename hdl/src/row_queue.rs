//! The output stage's queue (`AccelConfig::out_rows` > 1): up to
//! `out_rows - 1` lane groups (array rows, `out_lanes` of them at most)
//! waiting, in the order they were taken, for the stage's row buffer, so
//! the array can hand a tile's rows over faster than they are requantised
//! and start the next tile (docs/output-stage.md, docs/spec.md §7.4).
//!
//! The queue keeps the pointers and each group's pixel (y, x of lane 0),
//! channel and lanes in `LutRam`s; the rows' accumulators go into the
//! caller's lane RAMs ([`RowQueue::lane_ram`], one per lane and column),
//! written at `tail` and read at `head`. A write at the tail with `push`,
//! the head's group readable in the same cycle (asynchronous read),
//! dropped with `pop`. A push and a pop in the same cycle keep the count.
//! `queued` is the count of groups (a push is allowed below out_rows - 1);
//! `nonempty` says the head is a group. Pushing into a full queue or
//! popping an empty one is the caller's error.

use crate::leaf::{word, Word, WordReg};
use crate::ram::LutRam;
use crate::shell::clog2;
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RowQueue {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub push: Signal<In, Bit>,
    pub pop: Signal<In, Bit>,
    pub in_y: Signal<In, Word>,
    pub in_x: Signal<In, Word>,
    pub in_ch: Signal<In, Word>,
    pub in_lanes: Signal<In, Word>,
    /// Where the lane RAMs write (with `push`) and read.
    pub tail_addr: Signal<Out, Word>,
    pub head_addr: Signal<Out, Word>,
    pub head_y: Signal<Out, Word>,
    pub head_x: Signal<Out, Word>,
    pub head_ch: Signal<Out, Word>,
    pub head_lanes: Signal<Out, Word>,
    pub nonempty: Signal<Out, Bit>,
    /// Groups in the queue.
    pub queued: Signal<Out, Word>,
    one: Constant<Word>,
    zero: Constant<Word>,
    /// The RAMs' depth (a power of two >= limit) - 1: the pointers wrap.
    wrap: Constant<Word>,
    head: WordReg,
    tail: WordReg,
    count: WordReg,
    ys: LutRam,
    xs: LutRam,
    chs: LutRam,
    lane_sets: LutRam,
}

impl RowQueue {
    /// The queue of `cfg` (out_rows >= 2).
    pub fn new(cfg: &AccelConfig) -> RowQueue {
        assert!(cfg.out_rows >= 2, "a row queue needs out_rows >= 2");
        let depth = Self::depth(cfg);
        let pointer = || WordReg::unsigned(clog2(depth));
        let pos_bits = cfg.channel_bits();
        let ram = |bits| LutRam::new(depth as usize, bits);
        RowQueue {
            clock: Default::default(),
            reset: Default::default(),
            push: Default::default(),
            pop: Default::default(),
            in_y: Default::default(),
            in_x: Default::default(),
            in_ch: Default::default(),
            in_lanes: Default::default(),
            tail_addr: Default::default(),
            head_addr: Default::default(),
            head_y: Default::default(),
            head_x: Default::default(),
            head_ch: Default::default(),
            head_lanes: Default::default(),
            nonempty: Default::default(),
            queued: Default::default(),
            one: Constant::new(word(1)),
            zero: Constant::new(word(0)),
            wrap: Constant::new(word(i64::from(depth - 1))),
            head: pointer(),
            tail: pointer(),
            count: WordReg::unsigned(clog2(cfg.out_rows)),
            ys: ram(pos_bits),
            xs: ram(pos_bits),
            chs: ram(pos_bits),
            lane_sets: ram(cfg.out_lanes),
        }
    }
    /// A lane RAM for one column of the queued rows: the queue's depth,
    /// `width` bits (acc_hi + bias: ACC_BITS; acc_lo: `acc_lo_bits`).
    pub fn lane_ram(cfg: &AccelConfig, width: u32) -> LutRam {
        LutRam::new(Self::depth(cfg) as usize, width)
    }
    fn depth(cfg: &AccelConfig) -> u32 {
        (cfg.out_rows - 1).next_power_of_two().max(2)
    }
}

impl Logic for RowQueue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, head, tail, count);
        self.head.reset.next = self.reset.val();
        self.tail.reset.next = self.reset.val();
        self.count.reset.next = self.reset.val();
        self.ys.clock.next = self.clock.val();
        self.xs.clock.next = self.clock.val();
        self.chs.clock.next = self.clock.val();
        self.lane_sets.clock.next = self.clock.val();
        self.ys.wr_en.next = self.push.val();
        self.xs.wr_en.next = self.push.val();
        self.chs.wr_en.next = self.push.val();
        self.lane_sets.wr_en.next = self.push.val();
        self.ys.wr_addr.next = self.tail.q.val();
        self.xs.wr_addr.next = self.tail.q.val();
        self.chs.wr_addr.next = self.tail.q.val();
        self.lane_sets.wr_addr.next = self.tail.q.val();
        self.ys.wr_data.next = self.in_y.val();
        self.xs.wr_data.next = self.in_x.val();
        self.chs.wr_data.next = self.in_ch.val();
        self.lane_sets.wr_data.next = self.in_lanes.val();
        self.ys.rd_addr.next = self.head.q.val();
        self.xs.rd_addr.next = self.head.q.val();
        self.chs.rd_addr.next = self.head.q.val();
        self.lane_sets.rd_addr.next = self.head.q.val();
        self.head_y.next = self.ys.rd_data.val();
        self.head_x.next = self.xs.rd_data.val();
        self.head_ch.next = self.chs.rd_data.val();
        self.head_lanes.next = self.lane_sets.rd_data.val();
        self.tail_addr.next = self.tail.q.val();
        self.head_addr.next = self.head.q.val();
        self.nonempty.next = self.count.q.val() != self.zero.val();
        self.queued.next = self.count.q.val();
        if self.push.val() {
            self.tail.d.next = (self.tail.q.val() + self.one.val()) & self.wrap.val();
            self.count.d.next = self.count.q.val() + self.one.val();
        }
        if self.pop.val() {
            self.head.d.next = (self.head.q.val() + self.one.val()) & self.wrap.val();
            self.count.d.next = self.count.q.val() - self.one.val();
        }
        if self.push.val() & self.pop.val() {
            self.count.d.next = self.count.q.val();
        }
    }
}
