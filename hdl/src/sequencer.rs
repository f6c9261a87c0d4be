//! The top's phase sequencer (issue 16: the top split into blocks with one
//! job each): which phase a run is in (`STATUS.phase`, docs/spec.md §7.3),
//! what `CMD.start` latches from MODE and THRESHOLD, the pulses that start
//! and finish the controller, the predictor and the input scan, `done`,
//! and the two cycle counters of the run (`cycles_total`, `stall_cycles`).
//!
//! Phases: IDLE; with the input mask predicted on chip (`MODE.predict_in`,
//! DRQ only, a threshold that does not decide the mask) PIN_START,
//! PIN_CLEAR (until the predictor is ready), PIN_SCAN (until the scan's
//! last read), PIN_WAIT (until the scan is empty and the predictor done);
//! with the output mask predicted (`MODE.predict_out`) POUT_START,
//! POUT_CLEAR; then CONV_START, CONV (until the controller is done and the
//! array, the output stage and the write-back are empty); with
//! `predict_out` POUT_WAIT (until the predictor is done); IDLE with `done`.
//! A start while a run is busy is ignored.
//!
//! With the streaming predictor (`stream_predictor`) there is no
//! POUT_START or POUT_CLEAR: the predictor starts with the controller, in
//! CONV_START, and its SETUP runs under the controller's. A start that
//! comes while the predictor clears its sums after reset waits for the
//! clear (`busy` high, phase IDLE, counters still): the run begins when
//! the memory is clean, so the run's cycles never depend on history.

use crate::leaf::{konst, one_if, Reg, Word, WordReg};
use drq_arch::config::{AccelConfig, PeKind};
use drq_arch::regs::{phase, COUNTER_BITS};
use rust_hdl::prelude::*;

/// Bits of the phase register (phases 0..=9).
pub const PHASE_BITS: u32 = 4;

#[derive(LogicBlock)]
pub struct PhaseSequencer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// CMD written with `start` (bit 0) / `clear` (bit 1) set.
    pub start_req: Signal<In, Bit>,
    pub clear_req: Signal<In, Bit>,
    /// MODE and THRESHOLD as the registers hold them.
    pub mode: Signal<In, Word>,
    pub threshold: Signal<In, Word>,
    /// The predictor takes values / has written its mask.
    pub pred_ready: Signal<In, Bit>,
    pub pred_done: Signal<In, Bit>,
    /// The predictor's sum memory is clean (always, without streaming).
    pub pred_clean: Signal<In, Bit>,
    /// The input scan's last read is issued / a read is in flight (DRQ
    /// only).
    pub scan_last: Vec<Signal<In, Bit>>,
    pub scan_read_valid: Vec<Signal<In, Bit>>,
    /// The controller is done and the array, the output stage and the
    /// write-back are empty.
    pub conv_idle: Signal<In, Bit>,
    /// The array takes a token this cycle.
    pub token_taken: Signal<In, Bit>,
    /// The phase (`STATUS.phase`), and phase != IDLE.
    pub phase: Signal<Out, Word>,
    pub busy: Signal<Out, Bit>,
    /// The run is done (until the next start or `clear`).
    pub done: Signal<Out, Bit>,
    /// Pulses: start the controller, start the predictor (PIN_START,
    /// POUT_START).
    pub ctrl_start: Signal<Out, Bit>,
    pub pred_start: Signal<Out, Bit>,
    /// CONV with `predict_out`: the predictor's input closes in the cycle
    /// `conv_idle` rises (the caller gates it, so that no output of this
    /// block depends on an input: no combinational path through it).
    pub finish_armed: Signal<Out, Bit>,
    /// The input scan restarts (PIN_START) / advances (PIN_SCAN) (DRQ
    /// only).
    pub scan_restart: Vec<Signal<Out, Bit>>,
    pub scan_advance: Vec<Signal<Out, Bit>>,
    /// One of the PIN phases.
    pub in_pin: Signal<Out, Bit>,
    /// Latched at start: input buffers (MODE bits 3 and 4), `predict_out`,
    /// the run uses the predictor (so its `oversize` is this run's), and
    /// the input mask decided by the threshold (every bit `mask_forced_bit`).
    pub act_sel: Signal<Out, Bit>,
    pub mask_sel: Signal<Out, Bit>,
    pub p_out: Signal<Out, Bit>,
    pub p_used: Signal<Out, Bit>,
    pub mask_forced: Signal<Out, Bit>,
    pub mask_forced_bit: Signal<Out, Bit>,
    /// Cycles of the run, and those in which the array took no token.
    pub cycles_total: Signal<Out, Word>,
    pub stall_cycles: Signal<Out, Word>,
    state: WordReg,
    done_flag: Reg<Bit>,
    /// A start waiting for the predictor's memory to be clean.
    held: Reg<Bit>,
    act_sel_q: Reg<Bit>,
    mask_sel_q: Reg<Bit>,
    p_out_q: Reg<Bit>,
    p_used_q: Reg<Bit>,
    mask_forced_q: Reg<Bit>,
    mask_forced_bit_q: Reg<Bit>,
    cycles_q: WordReg,
    stalls_q: WordReg,
    drq: Constant<Bit>,
    /// The streaming predictor: no POUT_START or POUT_CLEAR.
    stream: Constant<Bit>,
    zero: Constant<Word>,
    one: Constant<Word>,
    low16: Constant<Word>,
    a_max: Constant<Word>,
    /// MODE bits: predict_in, predict_out, act_sel, mask_sel.
    m_pin: Constant<Word>,
    m_pout: Constant<Word>,
    m_act: Constant<Word>,
    m_mask: Constant<Word>,
    st_idle: Constant<Word>,
    st_pin_start: Constant<Word>,
    st_pin_clear: Constant<Word>,
    st_pin_scan: Constant<Word>,
    st_pin_wait: Constant<Word>,
    st_pout_start: Constant<Word>,
    st_pout_clear: Constant<Word>,
    st_conv_start: Constant<Word>,
    st_conv: Constant<Word>,
    st_pout_wait: Constant<Word>,
    idle: Signal<Local, Bit>,
    /// A start asked for (now or held) while idle.
    asked: Signal<Local, Bit>,
    start: Signal<Local, Bit>,
    /// THRESHOLD is 0: a predicted input mask would be all ones.
    threshold_zero: Signal<Local, Bit>,
    /// THRESHOLD is 0 or above a_max: it decides the input mask (all ones,
    /// or all zeros) without the map.
    threshold_decides: Signal<Local, Bit>,
}

impl PhaseSequencer {
    pub fn new(cfg: &AccelConfig) -> PhaseSequencer {
        let drq = cfg.pe == PeKind::Drq;
        PhaseSequencer {
            clock: Default::default(),
            reset: Default::default(),
            start_req: Default::default(),
            clear_req: Default::default(),
            mode: Default::default(),
            threshold: Default::default(),
            pred_ready: Default::default(),
            pred_done: Default::default(),
            pred_clean: Default::default(),
            scan_last: one_if(drq, Default::default()),
            scan_read_valid: one_if(drq, Default::default()),
            conv_idle: Default::default(),
            token_taken: Default::default(),
            phase: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            ctrl_start: Default::default(),
            pred_start: Default::default(),
            finish_armed: Default::default(),
            scan_restart: one_if(drq, Default::default()),
            scan_advance: one_if(drq, Default::default()),
            in_pin: Default::default(),
            act_sel: Default::default(),
            mask_sel: Default::default(),
            p_out: Default::default(),
            p_used: Default::default(),
            mask_forced: Default::default(),
            mask_forced_bit: Default::default(),
            cycles_total: Default::default(),
            stall_cycles: Default::default(),
            state: WordReg::unsigned(PHASE_BITS),
            done_flag: Default::default(),
            held: Default::default(),
            act_sel_q: Default::default(),
            mask_sel_q: Default::default(),
            p_out_q: Default::default(),
            p_used_q: Default::default(),
            mask_forced_q: Default::default(),
            mask_forced_bit_q: Default::default(),
            cycles_q: WordReg::unsigned(COUNTER_BITS),
            stalls_q: WordReg::unsigned(COUNTER_BITS),
            drq: Constant::new(drq),
            stream: Constant::new(cfg.stream_predictor),
            zero: konst(0),
            one: konst(1),
            low16: konst(0xFFFF),
            a_max: konst(u64::from(cfg.a_max())),
            m_pin: konst(1),
            m_pout: konst(2),
            m_act: konst(8),
            m_mask: konst(16),
            st_idle: konst(phase::IDLE),
            st_pin_start: konst(phase::PIN_START),
            st_pin_clear: konst(phase::PIN_CLEAR),
            st_pin_scan: konst(phase::PIN_SCAN),
            st_pin_wait: konst(phase::PIN_WAIT),
            st_pout_start: konst(phase::POUT_START),
            st_pout_clear: konst(phase::POUT_CLEAR),
            st_conv_start: konst(phase::CONV_START),
            st_conv: konst(phase::CONV),
            st_pout_wait: konst(phase::POUT_WAIT),
            idle: Default::default(),
            asked: Default::default(),
            start: Default::default(),
            threshold_zero: Default::default(),
            threshold_decides: Default::default(),
        }
    }
    /// 1 for the DRQ top (the input-mask phases exist), 0 for INT8.
    fn pin_paths(&self) -> usize {
        self.scan_last.len()
    }
}

impl Logic for PhaseSequencer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            done_flag,
            held,
            act_sel_q,
            mask_sel_q,
            p_out_q,
            p_used_q,
            mask_forced_q,
            mask_forced_bit_q,
            cycles_q,
            stalls_q
        );
        self.state.reset.next = self.reset.val();
        self.done_flag.reset.next = self.reset.val();
        self.held.reset.next = self.reset.val();
        self.act_sel_q.reset.next = self.reset.val();
        self.mask_sel_q.reset.next = self.reset.val();
        self.p_out_q.reset.next = self.reset.val();
        self.p_used_q.reset.next = self.reset.val();
        self.mask_forced_q.reset.next = self.reset.val();
        self.mask_forced_bit_q.reset.next = self.reset.val();
        self.cycles_q.reset.next = self.reset.val();
        self.stalls_q.reset.next = self.reset.val();

        self.idle.next = self.state.q.val() == self.st_idle.val();
        self.asked.next = (self.start_req.val() | self.held.q.val()) & self.idle.val();
        self.start.next = self.asked.val() & self.pred_clean.val();
        self.held.d.next = self.asked.val() & !self.pred_clean.val();
        self.threshold_zero.next = (self.threshold.val() & self.low16.val()) == self.zero.val();
        self.threshold_decides.next = self.threshold_zero.val()
            | ((self.threshold.val() & self.low16.val()) > self.a_max.val());

        // The run's counters.
        if !self.idle.val() {
            self.cycles_q.d.next = self.cycles_q.q.val() + self.one.val();
            if !self.token_taken.val() {
                self.stalls_q.d.next = self.stalls_q.q.val() + self.one.val();
            }
        }
        if self.clear_req.val() {
            self.done_flag.d.next = false;
        }
        if self.asked.val() {
            self.done_flag.d.next = false;
        }
        if self.start.val() {
            self.cycles_q.d.next = self.zero.val();
            self.stalls_q.d.next = self.zero.val();
            self.act_sel_q.d.next = (self.mode.val() & self.m_act.val()).any();
            self.mask_sel_q.d.next = (self.mode.val() & self.m_mask.val()).any();
            self.p_out_q.d.next = (self.mode.val() & self.m_pout.val()).any();
            self.p_used_q.d.next = (self.mode.val() & self.m_pout.val()).any()
                | ((self.mode.val() & self.m_pin.val()).any()
                    & self.drq.val()
                    & !self.threshold_decides.val());
            self.mask_forced_q.d.next = (self.mode.val() & self.m_pin.val()).any()
                & self.drq.val()
                & self.threshold_decides.val();
            self.mask_forced_bit_q.d.next = self.threshold_zero.val();
            self.state.d.next = self.st_conv_start.val();
            if (self.mode.val() & self.m_pout.val()).any() & !self.stream.val() {
                self.state.d.next = self.st_pout_start.val();
            }
        }
        // The input-mask phases (DRQ only).
        for k in 0..self.pin_paths() {
            if self.start.val()
                & (self.mode.val() & self.m_pin.val()).any()
                & !self.threshold_decides.val()
            {
                self.state.d.next = self.st_pin_start.val();
            }
            if self.state.q.val() == self.st_pin_start.val() {
                self.state.d.next = self.st_pin_clear.val();
            }
            if (self.state.q.val() == self.st_pin_clear.val()) & self.pred_ready.val() {
                self.state.d.next = self.st_pin_scan.val();
            }
            if (self.state.q.val() == self.st_pin_scan.val()) & self.scan_last[k].val() {
                self.state.d.next = self.st_pin_wait.val();
            }
            if (self.state.q.val() == self.st_pin_wait.val())
                & !self.scan_read_valid[k].val()
                & self.pred_done.val()
            {
                self.state.d.next = self.st_conv_start.val();
                if self.p_out_q.q.val() & !self.stream.val() {
                    self.state.d.next = self.st_pout_start.val();
                }
            }
        }
        if self.state.q.val() == self.st_pout_start.val() {
            self.state.d.next = self.st_pout_clear.val();
        }
        if (self.state.q.val() == self.st_pout_clear.val()) & self.pred_ready.val() {
            self.state.d.next = self.st_conv_start.val();
        }
        if self.state.q.val() == self.st_conv_start.val() {
            self.state.d.next = self.st_conv.val();
        }
        if (self.state.q.val() == self.st_conv.val()) & self.conv_idle.val() {
            self.state.d.next = self.st_idle.val();
            self.done_flag.d.next = true;
            if self.p_out_q.q.val() {
                self.state.d.next = self.st_pout_wait.val();
                self.done_flag.d.next = false;
            }
        }
        if (self.state.q.val() == self.st_pout_wait.val()) & self.pred_done.val() {
            self.state.d.next = self.st_idle.val();
            self.done_flag.d.next = true;
        }

        // Outputs: functions of the registers alone.
        self.phase.next = self.state.q.val();
        self.busy.next = (self.state.q.val() != self.st_idle.val()) | self.held.q.val();
        self.finish_armed.next = (self.state.q.val() == self.st_conv.val()) & self.p_out_q.q.val();
        self.done.next = self.done_flag.q.val();
        self.ctrl_start.next = self.state.q.val() == self.st_conv_start.val();
        self.pred_start.next = (self.state.q.val() == self.st_pin_start.val())
            | (self.state.q.val() == self.st_pout_start.val())
            | ((self.state.q.val() == self.st_conv_start.val())
                & self.p_out_q.q.val()
                & self.stream.val());
        for k in 0..self.pin_paths() {
            self.scan_restart[k].next = self.state.q.val() == self.st_pin_start.val();
            self.scan_advance[k].next = self.state.q.val() == self.st_pin_scan.val();
        }
        self.in_pin.next = (self.state.q.val() == self.st_pin_start.val())
            | (self.state.q.val() == self.st_pin_clear.val())
            | (self.state.q.val() == self.st_pin_scan.val())
            | (self.state.q.val() == self.st_pin_wait.val());
        self.act_sel.next = self.act_sel_q.q.val();
        self.mask_sel.next = self.mask_sel_q.q.val();
        self.p_out.next = self.p_out_q.q.val();
        self.p_used.next = self.p_used_q.q.val();
        self.mask_forced.next = self.mask_forced_q.q.val();
        self.mask_forced_bit.next = self.mask_forced_bit_q.q.val();
        self.cycles_total.next = self.cycles_q.q.val();
        self.stall_cycles.next = self.stalls_q.q.val();
    }
}

#[cfg(test)]
mod tests {
    //! The sequencer alone in rust-hdl's simulator, its neighbours played
    //! by a script: the predictor is ready `clear` cycles after its start
    //! and done `sweep` cycles after its input closes, the scan issues
    //! `values` reads, the convolution is idle `conv` cycles after the
    //! controller starts and the array takes a token every other cycle.
    //! Each run is checked against the phase lengths this script implies
    //! (docs/spec.md §7.3) and against the counters.
    use super::*;
    use crate::leaf::settle;

    /// What the neighbours take, in cycles.
    #[derive(Clone, Copy)]
    struct World {
        clear: u64,
        values: u64,
        sweep: u64,
        conv: u64,
    }

    const WORLD: World = World {
        clear: 3,
        values: 5,
        sweep: 4,
        conv: 7,
    };

    struct Bench {
        seq: PhaseSequencer,
        /// Cycles since the predictor started / the scan advanced / the
        /// controller started / the predictor's input closed.
        pred_age: Option<u64>,
        scanned: u64,
        conv_age: Option<u64>,
        closed_age: Option<u64>,
        /// Cycles of a run (phase not IDLE) in which a token was taken.
        tokens: u64,
        /// Cycles the predictor's memory stays unclean (its clear after
        /// reset).
        unclean: u64,
    }

    impl Bench {
        fn new(cfg: &AccelConfig) -> Bench {
            let mut seq = PhaseSequencer::new(cfg);
            seq.connect_all();
            let mut b = Bench {
                seq,
                pred_age: None,
                scanned: 0,
                conv_age: None,
                closed_age: None,
                tokens: 0,
                unclean: 0,
            };
            b.seq.reset.next = true;
            b.cycle(WORLD, false, false, 0, 0);
            b.seq.reset.next = false;
            b
        }

        /// One clock cycle with the requests given; the neighbours answer
        /// from their state. Returns the phase of the cycle.
        fn cycle(&mut self, w: World, start: bool, clear: bool, mode: u64, threshold: u64) -> u64 {
            let s = &mut self.seq;
            s.start_req.next = start;
            s.clear_req.next = clear;
            s.mode.next = mode.to_bits();
            s.threshold.next = threshold.to_bits();
            s.pred_ready.next = self.pred_age.is_some_and(|a| a >= w.clear);
            s.pred_done.next = self.closed_age.is_some_and(|a| a >= w.sweep);
            s.pred_clean.next = self.unclean == 0;
            self.unclean = self.unclean.saturating_sub(1);
            for k in 0..s.scan_last.len() {
                s.scan_last[k].next = self.scanned + 1 == w.values;
                s.scan_read_valid[k].next = false;
            }
            s.conv_idle.next = self.conv_age.is_some_and(|a| a >= w.conv);
            let token = self.conv_age.is_some_and(|a| a % 2 == 0);
            s.token_taken.next = token;
            s.clock.next = Clock::from(false);
            settle(s);
            let phase = s.phase.val().to_u64();
            if phase != phase::IDLE && token {
                self.tokens += 1;
            }
            // The neighbours see this cycle's pulses.
            if s.pred_start.val() {
                self.pred_age = Some(0);
                self.closed_age = None;
            }
            let advance = s.scan_advance.iter().any(|a| a.val());
            if advance {
                self.scanned += 1;
            }
            if s.scan_restart.iter().any(|r| r.val()) {
                self.scanned = 0;
            }
            if s.ctrl_start.val() {
                self.conv_age = Some(0);
            }
            // The predictor's input closes after the scan's last read or
            // with `finish`.
            let finish = s.finish_armed.val() && s.conv_idle.val();
            if finish || (advance && self.scanned == w.values) {
                self.closed_age = Some(0);
            }
            s.clock.next = Clock::from(true);
            settle(s);
            for age in [&mut self.pred_age, &mut self.conv_age, &mut self.closed_age] {
                if let Some(a) = age {
                    *a += 1;
                }
            }
            phase
        }

        /// Start a run and clock it until it is idle again: the phase of
        /// every cycle of the run.
        fn run(&mut self, w: World, mode: u64, threshold: u64) -> Vec<u64> {
            let mut phases = vec![self.cycle(w, true, false, mode, threshold)];
            assert_eq!(phases[0], phase::IDLE, "the start cycle itself is idle");
            phases.clear();
            for _ in 0..200 {
                let p = self.cycle(w, false, false, mode, threshold);
                if p == phase::IDLE {
                    return phases;
                }
                phases.push(p);
            }
            panic!("the run does not end: {phases:?}");
        }
    }

    /// `(phase, cycles)` runs of a phase trace.
    fn runs(trace: &[u64]) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = Vec::new();
        for &p in trace {
            match v.last_mut() {
                Some((q, n)) if *q == p => *n += 1,
                _ => v.push((p, 1)),
            }
        }
        v
    }

    const PREDICT_IN: u64 = 1;
    const PREDICT_OUT: u64 = 2;

    #[test]
    fn a_run_with_both_predictions_walks_every_phase() {
        let cfg = AccelConfig::small();
        let mut b = Bench::new(&cfg);
        let trace = b.run(WORLD, PREDICT_IN | PREDICT_OUT | 8, 5);
        use phase::*;
        assert_eq!(
            runs(&trace),
            vec![
                (PIN_START, 1),
                // Ready `clear` cycles after the start pulse.
                (PIN_CLEAR, WORLD.clear),
                (PIN_SCAN, WORLD.values),
                // Done `sweep` cycles after the last read.
                (PIN_WAIT, WORLD.sweep),
                (POUT_START, 1),
                (POUT_CLEAR, WORLD.clear),
                (CONV_START, 1),
                // Idle `conv` cycles after the controller's start.
                (CONV, WORLD.conv),
                (POUT_WAIT, WORLD.sweep),
            ]
        );
        let s = &b.seq;
        assert!(s.done.val() && !s.busy.val());
        assert_eq!(s.cycles_total.val().to_u64(), trace.len() as u64);
        // The script takes a token every other cycle from the controller's
        // start on: in CONV and in POUT_WAIT.
        assert!(b.tokens > 0);
        assert_eq!(s.stall_cycles.val().to_u64(), trace.len() as u64 - b.tokens);
        assert!(s.act_sel.val() && !s.mask_sel.val() && s.p_out.val() && s.p_used.val());
        assert!(!s.mask_forced.val());
    }

    #[test]
    fn the_streaming_predictor_starts_with_the_controller() {
        let cfg = AccelConfig {
            stream_predictor: true,
            ..AccelConfig::small()
        };
        let mut b = Bench::new(&cfg);
        let trace = b.run(WORLD, PREDICT_IN | PREDICT_OUT, 5);
        use phase::*;
        assert_eq!(
            runs(&trace),
            vec![
                (PIN_START, 1),
                (PIN_CLEAR, WORLD.clear),
                (PIN_SCAN, WORLD.values),
                (PIN_WAIT, WORLD.sweep),
                // No POUT_START, POUT_CLEAR: the predictor's start pulse
                // comes with the controller's.
                (CONV_START, 1),
                (CONV, WORLD.conv),
                (POUT_WAIT, WORLD.sweep),
            ]
        );
        assert_eq!(b.pred_age, b.conv_age, "one start for both");
        assert!(b.seq.done.val());
        // Without `predict_out` the predictor is not started at all.
        let trace = b.run(WORLD, 0, 5);
        assert_eq!(runs(&trace), vec![(CONV_START, 1), (CONV, WORLD.conv)]);
        assert_ne!(b.pred_age, b.conv_age);
    }

    #[test]
    fn a_start_waits_for_the_clean_predictor_and_counts_from_the_run() {
        let cfg = AccelConfig {
            stream_predictor: true,
            ..AccelConfig::small()
        };
        let mut b = Bench::new(&cfg);
        let base = b.run(WORLD, PREDICT_OUT, 5);
        // A finished run (done), then a clear after reset of 9 cycles: the
        // start is held, busy, in phase IDLE, done dropped.
        b.unclean = 9;
        assert_eq!(b.cycle(WORLD, true, false, PREDICT_OUT, 5), phase::IDLE);
        let mut held = 0;
        while b.cycle(WORLD, false, false, PREDICT_OUT, 5) == phase::IDLE {
            assert!(b.seq.busy.val() && !b.seq.done.val(), "held {held}");
            held += 1;
            assert!(held < 50);
        }
        assert_eq!(held, 9, "held until clean");
        let mut trace = vec![phase::CONV_START];
        loop {
            let p = b.cycle(WORLD, false, false, PREDICT_OUT, 5);
            if p == phase::IDLE {
                break;
            }
            trace.push(p);
        }
        assert_eq!(trace, base, "the same run");
        assert_eq!(b.seq.cycles_total.val().to_u64(), base.len() as u64);
        assert!(b.seq.done.val() && !b.seq.busy.val());
    }

    #[test]
    fn a_deciding_threshold_skips_the_input_mask_phases() {
        let cfg = AccelConfig::small();
        for (threshold, bit) in [(0, true), (u64::from(cfg.a_max()) + 1, false)] {
            let mut b = Bench::new(&cfg);
            let trace = b.run(WORLD, PREDICT_IN | 16, threshold);
            assert_eq!(
                runs(&trace),
                vec![(phase::CONV_START, 1), (phase::CONV, WORLD.conv)],
                "T = {threshold}"
            );
            let s = &b.seq;
            assert!(s.mask_forced.val() && s.mask_forced_bit.val() == bit);
            assert!(!s.p_used.val() && s.mask_sel.val() && !s.act_sel.val());
        }
    }

    #[test]
    fn the_int8_top_has_no_input_mask_phases() {
        let cfg = AccelConfig {
            pe: PeKind::Int8,
            ..AccelConfig::small()
        };
        let mut b = Bench::new(&cfg);
        let trace = b.run(WORLD, PREDICT_IN, 5);
        assert_eq!(
            runs(&trace),
            vec![(phase::CONV_START, 1), (phase::CONV, WORLD.conv)]
        );
        assert!(!b.seq.mask_forced.val() && !b.seq.p_used.val());
    }

    #[test]
    fn a_start_while_busy_is_ignored_and_clear_drops_done() {
        let cfg = AccelConfig::small();
        let mut b = Bench::new(&cfg);
        b.cycle(WORLD, true, false, 0, 5);
        let first = b.cycle(WORLD, false, false, 0, 5);
        assert_eq!(first, phase::CONV_START);
        // A second start in CONV changes nothing: same length, counters
        // not cleared.
        let mut n = 1;
        while b.cycle(WORLD, n == 2, false, PREDICT_OUT, 5) != phase::IDLE {
            n += 1;
        }
        assert_eq!(n, 1 + WORLD.conv);
        assert!(b.seq.done.val() && !b.seq.p_out.val());
        assert_eq!(b.seq.cycles_total.val().to_u64(), n);
        // Counters hold while idle; `clear` drops done.
        b.cycle(WORLD, false, true, 0, 5);
        assert!(!b.seq.done.val());
        assert_eq!(b.seq.cycles_total.val().to_u64(), n);
    }
}
