//! `CyclicRotation`: the rows' selection of the cyclic bank layout
//! (`drq_arch::cyclic`, docs/banked.md "Next: a cyclic layout"; not in
//! `drq_top` yet). Row r shows bank (d + r) mod NB's read data, for one
//! amount d for all rows, registered when a step's banks read (`take`),
//! so it holds with the banks' read data. The selection is a logarithmic
//! shifter: log2(NB) stages, stage k moving every word 2^k banks down
//! (mod NB) where bit k of d is set. The stages are shared by all rows,
//! so at 16 banks of 8 bits it maps to about half the LUT4 of
//! `BankRotation` (each row its own 16-to-1 multiplexer), with four
//! stages of fixed wiring instead of every bank reaching every row.
//! Its Verilog is written out (a stage's index arithmetic, mod NB, is not
//! in rust-hdl's kernels); `verif/tests/rotation_unit.rs` verilates it.

use crate::leaf::{vec_of, word, Word};
use crate::shell::clog2;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct CyclicRotation {
    /// One each with more than one bank, else none (a single bank is its
    /// only row's).
    pub clock: Vec<Signal<In, Clock>>,
    pub reset: Vec<Signal<In, Bit>>,
    /// Take `amount` (d, its low log2(NB) bits) as the rotation.
    pub take: Vec<Signal<In, Bit>>,
    pub amount: Vec<Signal<In, Word>>,
    /// Per bank: its read data.
    pub bank_data: Vec<Signal<In, Word>>,
    /// Per row: bank (d + r) mod NB's read data.
    pub row_data: Vec<Signal<Out, Word>>,
    /// d, registered.
    amount_q: Vec<Signal<Local, Word>>,
    /// Stage k's words at k * NB + b (stage 0: the banks' data; the last
    /// stage, log2(NB), only the rows').
    stage: Vec<Signal<Local, Word>>,
}

impl CyclicRotation {
    /// `banks` banks (a power of two) and `rows` rows (at most `banks`).
    pub fn new(banks: usize, rows: usize) -> CyclicRotation {
        assert!(banks.is_power_of_two() && (1..=banks).contains(&rows));
        let turns = usize::from(banks > 1);
        let stages = banks.trailing_zeros() as usize;
        CyclicRotation {
            clock: vec_of(turns),
            reset: vec_of(turns),
            take: vec_of(turns),
            amount: vec_of(turns),
            bank_data: vec_of(banks),
            row_data: vec_of(rows),
            amount_q: vec_of(turns),
            stage: vec_of(stages * banks + rows),
        }
    }
    fn banks(&self) -> usize {
        self.bank_data.len()
    }
    fn stages(&self) -> usize {
        self.banks().trailing_zeros() as usize
    }
    /// Words of stage k: every bank's, the last stage's only the rows'.
    fn width_of(&self, k: usize) -> usize {
        if k == self.stages() {
            self.row_data.len()
        } else {
            self.banks()
        }
    }
}

impl Logic for CyclicRotation {
    fn update(&mut self) {
        let nb = self.banks();
        let mut d = 0;
        if let Some(q) = self.amount_q.first() {
            d = q.val().to_u64() as usize % nb;
            if self.clock[0].pos_edge() {
                let mut next = q.val().to_u64();
                if self.take[0].val() {
                    next = self.amount[0].val().to_u64() & (nb as u64 - 1);
                }
                if self.reset[0].val() {
                    next = 0;
                }
                self.amount_q[0].next = word(next as i64);
            }
        }
        let mut words: Vec<u64> = self.bank_data.iter().map(|b| b.val().to_u64()).collect();
        for k in 0..=self.stages() {
            if k > 0 && d >> (k - 1) & 1 == 1 {
                words.rotate_left(1 << (k - 1));
            }
            for (b, &x) in words.iter().enumerate().take(self.width_of(k)) {
                self.stage[k * nb + b].next = word(x as i64);
            }
        }
        for r in 0..self.row_data.len() {
            self.row_data[r].next = word(words[r] as i64);
        }
    }
    fn connect(&mut self) {
        for s in &mut self.row_data {
            s.connect();
        }
        for q in self.stage.iter_mut().chain(&mut self.amount_q) {
            q.connect();
        }
    }
    fn hdl(&self) -> Verilog {
        let (nb, stages) = (self.banks(), self.stages());
        let mut v = String::new();
        if nb > 1 {
            // (The whole register is read in each stage's select, so no
            // bit of it goes unread.)
            v += &format!(
                "always @(posedge clock$0) begin\n    if (reset$0) amount_q$0 <= 64'd0;\n    \
                 else if (take$0) amount_q$0 <= amount$0 & 64'd{};\nend\n",
                nb - 1
            );
        }
        v += "always @(*) begin\n";
        for b in 0..self.width_of(0) {
            v += &format!("    stage${b} = bank_data${b};\n");
        }
        for k in 0..stages {
            for b in 0..self.width_of(k + 1) {
                let (from, to) = (k * nb + (b + (1 << k)) % nb, (k + 1) * nb + b);
                v += &format!(
                    "    stage${to} = ((amount_q$0 & 64'd{}) != 64'd0) ? stage${from} : stage${};\n",
                    1u64 << k,
                    k * nb + b
                );
            }
        }
        for r in 0..self.row_data.len() {
            v += &format!("    row_data${r} = stage${};\n", stages * nb + r);
        }
        v += "end";
        Verilog::Custom(v)
    }
}

/// The rotation alone as a top (`drq_cyclic_rotation`): `banks` banks and
/// `rows` rows of `width`-bit words.
pub fn cyclic_rotation_design(banks: usize, rows: usize, width: u32) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let amount_bits = clog2(banks as u32).max(1);
    let mut ports = vec![
        ShellPort::new(
            "bank_data",
            "bank_data",
            Input,
            width,
            Some(banks as u32),
            Zero,
        ),
        ShellPort::new(
            "row_data",
            "row_data",
            Output,
            width,
            Some(rows as u32),
            Zero,
        ),
    ];
    if banks > 1 {
        ports.extend([
            ShellPort::new("clk", "clock", Input, 1, Some(1), Flag),
            ShellPort::new("reset", "reset", Input, 1, Some(1), Flag),
            ShellPort::new("take", "take", Input, 1, Some(1), Flag),
            ShellPort::new("amount", "amount", Input, amount_bits, Some(1), Zero),
        ]);
    }
    let _ = scalar;
    design(
        "drq_cyclic_rotation",
        "drq_cyclic_rotation_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut CyclicRotation::new(banks, rows),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::settle;
    use drq_golden::rng::{test_seed, Rng};

    fn tick(m: &mut CyclicRotation) {
        m.clock[0].next = Clock::from(false);
        settle(m);
        m.clock[0].next = Clock::from(true);
        settle(m);
    }

    /// Random bank data and rotations at 16, 4 and 2 banks: after a take,
    /// row r shows bank (d + r) mod NB, through every stage of the
    /// shifter, and holds the rotation until the next take.
    #[test]
    fn every_row_shows_its_bank_under_the_taken_rotation() {
        let seed = test_seed("cyclic_rotation");
        let mut rng = Rng::new(seed);
        for (banks, rows) in [(16, 16), (16, 15), (4, 3), (2, 2)] {
            let mut m = CyclicRotation::new(banks, rows);
            m.connect_all();
            m.reset[0].next = true;
            tick(&mut m);
            m.reset[0].next = false;
            for round in 0..40 {
                let d = rng.range(0, banks as i64 * 4) as usize;
                let data: Vec<u64> = (0..banks).map(|_| rng.range(0, 256) as u64).collect();
                for (b, &x) in data.iter().enumerate() {
                    m.bank_data[b].next = word(x as i64);
                }
                m.amount[0].next = word(d as i64);
                m.take[0].next = round % 3 != 2;
                tick(&mut m);
                m.take[0].next = false;
                m.amount[0].next = word(rng.range(0, 64));
                tick(&mut m);
                let taken = m.amount_q[0].val().to_u64() as usize;
                for r in 0..rows {
                    assert_eq!(
                        m.row_data[r].val().to_u64(),
                        data[(taken + r) % banks],
                        "{banks} banks, round {round}, row {r}, seed {seed}"
                    );
                    let last = m.stage[m.stages() * banks + r].val().to_u64();
                    assert_eq!(last, data[(taken + r) % banks], "the shifter's last stage");
                }
                if round % 3 != 2 {
                    assert_eq!(taken, d % banks, "the taken amount");
                }
            }
        }
    }
}
