//! The top's sensitivity predictor: K = `cfg.predictor_banks()` banks of
//! [`SensitivityPredictor`] (docs/spec.md §6.5, `docs/predictor.md`).
//!
//! With K = 1 (the output lane groups lie in one region: L <= R, or no
//! streaming predictor) this is one predictor over the whole map and the
//! block only wires it. With the streaming predictor and L = K * R lanes a
//! lane group spans K region columns, and the output stage hands over one
//! group per cycle, so the regions are kept in K banks: bank b holds the
//! region columns rx with rx mod K = b. Each bank sees the map squeezed to
//! its own columns, x' = (x div (K R)) * R + x mod R, so its region
//! column is rx div K, its map is W_b = (W div (K R)) * R + min(max(W mod
//! (K R) - b R, 0), R) wide, and its pitched mask address (c * RH + ry) *
//! (P_M / K) + rx div K is the word of the mask buffers that holds mask
//! bits rx - rx mod K .. rx - rx mod K + K - 1 (`PredictorParams::bank`).
//!
//! * Values: slot j of `in_value` / `in_pixels` is the sum and the pixel
//!   count of region column (in_x div R) + j of the row; a slot with no
//!   pixel carries nothing. The output stage fills slot b with lanes
//!   b R .. b R + R - 1 of a group (its x of lane 0 a multiple of K R), the
//!   input scan slot 0 with its group (G <= R values in one region). Slot j
//!   goes to bank ((in_x div R) + j) mod K.
//! * The banks run in lockstep: they start, accept and finish together
//!   and their pipelines have one latency, so the mask bits written in one
//!   cycle come from one group and share a mask word. `mask_wr_lanes`
//!   names the banks that write (bit b: lane b of the word at value index
//!   `mask_wr_addr`, whose low log2 K bits are zero), `mask_wr_bits` their
//!   bits.
//! * Status: busy and oversize if any bank is, done, clean and ready if
//!   every bank is. A bank refuses a map only when its own share does not
//!   fit (C * RH * P_M / K > mask_words / K, or W_b wider than its map).

use crate::leaf::{konst, one_if, vec_of, Word};
use crate::predictor::{PredictorParams, SensitivityPredictor};
use drq_arch::config::AccelConfig;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct PredictorBanks {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Layer, held from `start` to `done`.
    pub channels: Signal<In, Word>,
    pub height: Signal<In, Word>,
    pub width: Signal<In, Word>,
    pub threshold: Signal<In, Word>,
    pub start: Signal<In, Bit>,
    pub finish: Signal<In, Bit>,
    // Value stream: one group of up to K region columns per cycle.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_channel: Signal<In, Word>,
    pub in_y: Signal<In, Word>,
    pub in_x: Signal<In, Word>,
    /// Slot j: the sum of the group's values in region column
    /// (in_x div R) + j.
    pub in_value: Vec<Signal<In, Word>>,
    /// Streaming only: slot j's pixels.
    pub in_pixels: Vec<Signal<In, Word>>,
    // Status.
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub oversize: Signal<Out, Bit>,
    pub clean: Signal<Out, Bit>,
    /// Mask writes: value index of lane 0 of the word, the lanes written
    /// (bit b: bank b; more than one bank only), and their bits.
    pub mask_wr_en: Signal<Out, Bit>,
    pub mask_wr_addr: Signal<Out, Word>,
    pub mask_wr_lanes: Vec<Signal<Out, Word>>,
    pub mask_wr_bits: Signal<Out, Word>,
    banks: Vec<SensitivityPredictor>,
    /// log2 K; 1 << b per bank b; zero.
    banks_log2: Constant<Word>,
    bank_bit: Vec<Constant<Word>>,
    zero: Constant<Word>,
    /// More than one bank only: log2 R, log2 (K R), R - 1, K R - 1, K - 1,
    /// R, and per bank b, b and b R.
    region_log2: Vec<Constant<Word>>,
    span_log2: Vec<Constant<Word>>,
    region_m1: Vec<Constant<Word>>,
    span_m1: Vec<Constant<Word>>,
    banks_m1: Vec<Constant<Word>>,
    region_n: Vec<Constant<Word>>,
    bank_index: Vec<Constant<Word>>,
    bank_offset: Vec<Constant<Word>>,
    /// More than one bank: the group's first region column mod K, the
    /// map's columns beyond whole spans (W mod K R), and per bank the slot
    /// it takes, its columns past the whole spans, and the x of that slot.
    rx_mod: Vec<Signal<Local, Word>>,
    width_rem: Vec<Signal<Local, Word>>,
    slot: Vec<Signal<Local, Word>>,
    tail: Vec<Signal<Local, Word>>,
    slot_x: Vec<Signal<Local, Word>>,
    /// The banks writing a mask bit this cycle (bit b: bank b).
    lanes_written: Signal<Local, Word>,
}

impl PredictorBanks {
    pub fn new(cfg: &AccelConfig) -> PredictorBanks {
        let k = cfg.predictor_banks() as usize;
        let p = PredictorParams::bank(cfg);
        let stream = cfg.stream_predictor;
        let r = u64::from(cfg.region);
        let span = k as u64 * r;
        let banked = k > 1;
        // The squeezing logic's per-bank parts exist only with several banks.
        let squeezed = if banked { k } else { 0 };
        PredictorBanks {
            clock: Default::default(),
            reset: Default::default(),
            channels: Default::default(),
            height: Default::default(),
            width: Default::default(),
            threshold: Default::default(),
            start: Default::default(),
            finish: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_channel: Default::default(),
            in_y: Default::default(),
            in_x: Default::default(),
            in_value: vec_of(k),
            in_pixels: if stream { vec_of(k) } else { Vec::new() },
            busy: Default::default(),
            done: Default::default(),
            oversize: Default::default(),
            clean: Default::default(),
            mask_wr_en: Default::default(),
            mask_wr_addr: Default::default(),
            mask_wr_lanes: one_if(banked, Default::default()),
            mask_wr_bits: Default::default(),
            banks: (0..k).map(|_| SensitivityPredictor::new(&p)).collect(),
            banks_log2: konst(k.trailing_zeros().into()),
            bank_bit: (0..k).map(|b| konst(1 << b)).collect(),
            zero: konst(0),
            region_log2: one_if(banked, konst(r.trailing_zeros().into())),
            span_log2: one_if(banked, konst(span.trailing_zeros().into())),
            region_m1: one_if(banked, konst(r - 1)),
            span_m1: one_if(banked, konst(span - 1)),
            banks_m1: one_if(banked, konst(k as u64 - 1)),
            region_n: one_if(banked, konst(r)),
            bank_index: (0..squeezed).map(|b| konst(b as u64)).collect(),
            bank_offset: (0..squeezed).map(|b| konst(b as u64 * r)).collect(),
            rx_mod: one_if(banked, Default::default()),
            width_rem: one_if(banked, Default::default()),
            slot: vec_of(squeezed),
            tail: vec_of(squeezed),
            slot_x: vec_of(squeezed),
            lanes_written: Default::default(),
        }
    }
    fn count(&self) -> usize {
        self.banks.len()
    }
    /// 1 with more than one bank (the squeezing logic exists), else 0.
    fn banked(&self) -> usize {
        self.rx_mod.len()
    }
    /// 1 when streaming (pixel counts exist), else 0.
    fn streams(&self) -> usize {
        self.in_pixels.len().min(1)
    }
}

impl Logic for PredictorBanks {
    #[hdl_gen]
    fn update(&mut self) {
        for b in 0..self.count() {
            self.banks[b].clock.next = self.clock.val();
            self.banks[b].reset.next = self.reset.val();
            self.banks[b].channels.next = self.channels.val();
            self.banks[b].height.next = self.height.val();
            self.banks[b].width.next = self.width.val();
            self.banks[b].threshold.next = self.threshold.val();
            self.banks[b].start.next = self.start.val();
            self.banks[b].finish.next = self.finish.val();
            self.banks[b].in_channel.next = self.in_channel.val();
            self.banks[b].in_y.next = self.in_y.val();
            self.banks[b].in_x.next = self.in_x.val();
            self.banks[b].in_valid.next = self.in_valid.val();
            self.banks[b].in_value.next = self.in_value[b].val();
            self.banks[b].in_pixels.next = self.zero.val();
            for _s in 0..self.streams() {
                self.banks[b].in_pixels.next = self.in_pixels[b].val();
            }
        }
        // Several banks: each takes its slot, its squeezed x and width.
        for _n in 0..self.banked() {
            self.rx_mod[0].next =
                (self.in_x.val() >> self.region_log2[0].val()) & self.banks_m1[0].val();
            self.width_rem[0].next = self.width.val() & self.span_m1[0].val();
            for b in 0..self.count() {
                self.slot[b].next =
                    (self.bank_index[b].val() - self.rx_mod[0].val()) & self.banks_m1[0].val();
                self.slot_x[b].next =
                    self.in_x.val() + (self.slot[b].val() << self.region_log2[0].val());
                self.banks[b].in_x.next = ((self.slot_x[b].val() >> self.span_log2[0].val())
                    << self.region_log2[0].val())
                    | (self.slot_x[b].val() & self.region_m1[0].val());
                self.banks[b].in_value.next = self.zero.val();
                for _s in 0..self.streams() {
                    self.banks[b].in_pixels.next = self.zero.val();
                }
                for j in 0..self.count() {
                    if self.slot[b].val() == self.bank_index[j].val() {
                        self.banks[b].in_value.next = self.in_value[j].val();
                        for _s in 0..self.streams() {
                            self.banks[b].in_pixels.next = self.in_pixels[j].val();
                        }
                    }
                }
                self.banks[b].in_valid.next = false;
                for _s in 0..self.streams() {
                    self.banks[b].in_valid.next =
                        self.in_valid.val() & (self.banks[b].in_pixels.val() != self.zero.val());
                }
                self.tail[b].next = self.zero.val();
                if self.width_rem[0].val() > self.bank_offset[b].val() {
                    self.tail[b].next = self.width_rem[0].val() - self.bank_offset[b].val();
                    if self.tail[b].val() > self.region_n[0].val() {
                        self.tail[b].next = self.region_n[0].val();
                    }
                }
                self.banks[b].width.next = ((self.width.val() >> self.span_log2[0].val())
                    << self.region_log2[0].val())
                    + self.tail[b].val();
            }
        }

        // Status: the banks together.
        self.busy.next = false;
        self.oversize.next = false;
        self.done.next = true;
        self.clean.next = true;
        self.in_ready.next = true;
        for b in 0..self.count() {
            self.busy.next = self.busy.val() | self.banks[b].busy.val();
            self.oversize.next = self.oversize.val() | self.banks[b].oversize.val();
            self.done.next = self.done.val() & self.banks[b].done.val();
            self.clean.next = self.clean.val() & self.banks[b].clean.val();
            self.in_ready.next = self.in_ready.val() & self.banks[b].in_ready.val();
        }

        // Mask writes: one word, a lane per writing bank.
        self.mask_wr_en.next = false;
        self.mask_wr_addr.next = self.zero.val();
        self.lanes_written.next = self.zero.val();
        self.mask_wr_bits.next = self.zero.val();
        for b in 0..self.count() {
            if self.banks[b].mask_wr_en.val() {
                self.mask_wr_en.next = true;
                self.mask_wr_addr.next = self.banks[b].mask_wr_addr.val() << self.banks_log2.val();
                self.lanes_written.next = self.lanes_written.val() | self.bank_bit[b].val();
                if self.banks[b].mask_wr_bit.val() {
                    self.mask_wr_bits.next = self.mask_wr_bits.val() | self.bank_bit[b].val();
                }
            }
        }
        for k in 0..self.banked() {
            self.mask_wr_lanes[k].next = self.lanes_written.val();
        }
    }
}
