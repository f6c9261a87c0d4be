//! Leaf blocks with hand-written simulation and hand-written Verilog, for
//! what rust-hdl 0.46 cannot express correctly (see `docs/rust-hdl.md`):
//! a register with a synchronous reset, and a signed multiplier.
//!
//! Every datapath signal of the array is a 64-bit [`Word`] holding a value
//! in two's complement; the configured widths are applied where values enter
//! the array (the emitted top zero- or sign-extends each port) and by masks
//! where they must wrap, so synthesis trims every unused bit.

use rust_hdl::prelude::*;

/// The one datapath type of the array.
pub type Word = Bits<64>;

/// A word from a signed value (two's complement).
pub fn word(v: i64) -> Word {
    (v as u64).to_bits()
}

/// A register with a synchronous, active-high reset to zero.
#[derive(LogicBlock, Default)]
pub struct Reg<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub d: Signal<In, T>,
    pub q: Signal<Out, T>,
}

impl<T: Synth> Logic for Reg<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = if self.reset.val() {
                T::default()
            } else {
                self.d.val()
            };
        }
    }
    fn connect(&mut self) {
        self.q.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "always @(posedge clock) begin\n    if (reset) q <= {}'d0;\n    else q <= d;\nend",
            T::BITS
        ))
    }
    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into(), "reset".into()],
            outputs: vec!["q".into()],
        }]
    }
}

/// p = a * b for two's complement words, modulo 2^64. Operands carry their
/// configured width sign-extended to 64 bits, so synthesis sees a narrow
/// signed multiplier (5 x 5 bits for the default DRQ PE).
#[derive(LogicBlock, Default)]
pub struct SignedMul {
    pub a: Signal<In, Word>,
    pub b: Signal<In, Word>,
    pub p: Signal<Out, Word>,
}

impl Logic for SignedMul {
    fn update(&mut self) {
        let (a, b) = (self.a.val().to_u64() as i64, self.b.val().to_u64() as i64);
        self.p.next = word(a.wrapping_mul(b));
    }
    fn connect(&mut self) {
        self.p.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom("always @(*) p = $signed(a) * $signed(b);".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settle a combinational block in rust-hdl's simulator.
    fn settle<B: Block>(b: &mut B) {
        for _ in 0..8 {
            b.update_all();
            if !b.has_changed() {
                return;
            }
        }
    }

    #[test]
    fn multiplier_every_five_by_four_bit_pair_in_rust_hdl() {
        // The DRQ PE's operands: a (W_LO+1)-bit signed weight digit and an
        // A_LO-bit unsigned activation digit (default 5 and 4 bits), and the
        // INT8 baseline's 8 x 8; every pair.
        let mut m = SignedMul::default();
        m.connect_all();
        for (wbits, abits) in [(5u32, 4u32), (9, 8)] {
            for w in -(1i64 << (wbits - 1))..(1i64 << (wbits - 1)) {
                for a in 0..(1i64 << abits) {
                    m.a.next = word(w);
                    m.b.next = word(a);
                    settle(&mut m);
                    assert_eq!(m.p.val().to_u64() as i64, w * a, "w={w} a={a}");
                }
            }
        }
    }

    #[test]
    fn register_resets_synchronously() {
        let mut r = Reg::<Word>::default();
        r.connect_all();
        let tick = |r: &mut Reg<Word>| {
            r.clock.next = Clock::from(false);
            settle(r);
            r.clock.next = Clock::from(true);
            settle(r);
        };
        r.d.next = word(-5);
        tick(&mut r);
        assert_eq!(r.q.val(), word(-5));
        r.reset.next = true;
        assert_eq!(r.q.val(), word(-5), "reset waits for the clock edge");
        tick(&mut r);
        assert_eq!(r.q.val(), word(0));
    }
}
