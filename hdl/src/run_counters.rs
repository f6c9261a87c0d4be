//! The controller's run counters and status: `busy` and `done`, and the
//! four counters of the last layer (`steps_high`, `steps_low`,
//! `token_cycles`, `tiles`), counted from the token stream the controller
//! offers to the array and the array's `in_ready` (`docs/controller.md`,
//! Counters).

use crate::controller::COUNTER_BITS;
use crate::leaf::konst;
use crate::leaf::{low_mask as mask, Reg, Word};
use rust_hdl::prelude::*;

/// Counts the tokens taken (`in_valid && in_ready`) by what they end: a
/// HIGH step (`in_commit`), a LOW step (every LOW token, `mode_high` low),
/// a tile (`in_last`), the layer (`layer_last`: `busy` drops, `done`
/// rises). `start` clears the counters and raises `busy`. Every output is
/// a register.
#[derive(LogicBlock)]
pub struct RunCounters {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    // The offered token and the array's handshake.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<In, Bit>,
    pub in_commit: Signal<In, Bit>,
    pub in_last: Signal<In, Bit>,
    pub mode_high: Signal<In, Bit>,
    pub layer_last: Signal<In, Bit>,
    // Status and counters.
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub steps_high: Signal<Out, Word>,
    pub steps_low: Signal<Out, Word>,
    pub token_cycles: Signal<Out, Word>,
    pub tiles: Signal<Out, Word>,
    zero: Constant<Word>,
    one: Constant<Word>,
    count_mask: Constant<Word>,
    active: Reg<Bit>,
    done_q: Reg<Bit>,
    n_high: Reg<Word>,
    n_low: Reg<Word>,
    n_tokens: Reg<Word>,
    n_tiles: Reg<Word>,
    taken: Signal<Local, Bit>,
}

impl Default for RunCounters {
    fn default() -> RunCounters {
        RunCounters {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_commit: Default::default(),
            in_last: Default::default(),
            mode_high: Default::default(),
            layer_last: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            steps_high: Default::default(),
            steps_low: Default::default(),
            token_cycles: Default::default(),
            tiles: Default::default(),
            zero: konst(0),
            one: konst(1),
            count_mask: konst(mask(COUNTER_BITS)),
            active: Default::default(),
            done_q: Default::default(),
            n_high: Default::default(),
            n_low: Default::default(),
            n_tokens: Default::default(),
            n_tiles: Default::default(),
            taken: Default::default(),
        }
    }
}

impl Logic for RunCounters {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, active, done_q, n_high, n_low, n_tokens, n_tiles);
        self.active.reset.next = self.reset.val();
        self.done_q.reset.next = self.reset.val();
        self.n_high.reset.next = self.reset.val();
        self.n_low.reset.next = self.reset.val();
        self.n_tokens.reset.next = self.reset.val();
        self.n_tiles.reset.next = self.reset.val();
        self.taken.next = self.in_valid.val() & self.in_ready.val();
        if self.taken.val() {
            self.n_tokens.d.next = (self.n_tokens.q.val() + self.one.val()) & self.count_mask.val();
            if self.in_commit.val() {
                self.n_high.d.next = (self.n_high.q.val() + self.one.val()) & self.count_mask.val();
            }
            if !self.mode_high.val() {
                self.n_low.d.next = (self.n_low.q.val() + self.one.val()) & self.count_mask.val();
            }
            if self.in_last.val() {
                self.n_tiles.d.next =
                    (self.n_tiles.q.val() + self.one.val()) & self.count_mask.val();
            }
            if self.layer_last.val() {
                self.active.d.next = false;
                self.done_q.d.next = true;
            }
        }
        if self.start.val() {
            self.active.d.next = true;
            self.done_q.d.next = false;
            self.n_high.d.next = self.zero.val();
            self.n_low.d.next = self.zero.val();
            self.n_tokens.d.next = self.zero.val();
            self.n_tiles.d.next = self.zero.val();
        }
        self.busy.next = self.active.q.val();
        self.done.next = self.done_q.q.val();
        self.steps_high.next = self.n_high.q.val();
        self.steps_low.next = self.n_low.q.val();
        self.token_cycles.next = self.n_tokens.q.val();
        self.tiles.next = self.n_tiles.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::settle;

    /// A token as the controller offers it.
    #[derive(Clone, Copy)]
    struct Token {
        high: bool,
        commit: bool,
        tile_last: bool,
        layer_last: bool,
    }

    const HIGH: Token = Token {
        high: true,
        commit: false,
        tile_last: false,
        layer_last: false,
    };
    const LOW: Token = Token {
        high: false,
        ..HIGH
    };

    /// A layer of two tiles: a four-token HIGH step and a LOW step, then a
    /// LOW step and a HIGH step that ends the layer.
    fn layer() -> Vec<Token> {
        let commit = Token {
            commit: true,
            ..HIGH
        };
        vec![
            HIGH,
            HIGH,
            HIGH,
            commit,
            Token {
                tile_last: true,
                ..LOW
            },
            LOW,
            HIGH,
            HIGH,
            HIGH,
            Token {
                tile_last: true,
                layer_last: true,
                ..commit
            },
        ]
    }

    fn cycle(c: &mut RunCounters, start: bool, offer: Option<Token>, ready: bool) {
        c.start.next = start;
        c.in_valid.next = offer.is_some();
        c.in_ready.next = ready;
        let t = offer.unwrap_or(LOW);
        c.mode_high.next = offer.is_some() && t.high;
        c.in_commit.next = t.commit;
        c.in_last.next = t.tile_last;
        c.layer_last.next = t.layer_last;
        c.clock.next = Clock::from(false);
        settle(c);
        c.clock.next = Clock::from(true);
        settle(c);
    }

    fn counts(c: &RunCounters) -> [u64; 4] {
        [&c.steps_high, &c.steps_low, &c.token_cycles, &c.tiles].map(|s| s.val().to_u64())
    }

    /// Offers the layer's tokens, each until taken, `in_ready` high in
    /// every `every`-th cycle (and the flags of a token that is not taken
    /// must not count); checks the tokens taken so far after each cycle.
    fn run_layer(c: &mut RunCounters, every: u64) {
        cycle(c, true, None, true);
        assert!(c.busy.val() && !c.done.val());
        assert_eq!(counts(c), [0; 4], "start clears");
        let tokens = layer();
        let mut taken = 0;
        let mut n = 0;
        while taken < tokens.len() {
            let ready = n % every == 0;
            cycle(c, false, Some(tokens[taken]), ready);
            n += 1;
            if ready {
                taken += 1;
            }
            assert_eq!(c.token_cycles.val().to_u64(), taken as u64);
            assert_eq!(c.busy.val(), taken < tokens.len());
            assert_eq!(c.done.val(), taken == tokens.len());
        }
        assert_eq!(counts(c), [2, 2, 10, 2]);
    }

    #[test]
    fn counters_count_a_scripted_token_stream() {
        let mut c = RunCounters::default();
        c.connect_all();
        c.reset.next = true;
        cycle(&mut c, false, None, false);
        c.reset.next = false;
        assert!(!c.busy.val() && !c.done.val());
        for every in [1, 2, 3] {
            run_layer(&mut c, every);
            // Held after done.
            for _ in 0..3 {
                cycle(&mut c, false, None, true);
            }
            assert!(c.done.val() && !c.busy.val());
            assert_eq!(counts(&c), [2, 2, 10, 2]);
        }
        // A start in the middle of a layer clears and restarts.
        cycle(&mut c, true, None, true);
        cycle(&mut c, false, Some(HIGH), true);
        assert_eq!(counts(&c), [0, 0, 1, 0]);
        run_layer(&mut c, 1);
    }
}
