//! `CyclicRotation`: the rows' selection of the cyclic bank layout
//! (`drq_arch::cyclic`, docs/banked.md "The cyclic layout"; the buffers'
//! with `act_layout = "cyclic"`). Row r shows bank (d + r) mod NB's read data, for one
//! amount d for all rows, registered when a step's banks read (`take`),
//! so it holds with the banks' read data. The selection is a logarithmic
//! shifter: log2(NB) stages, stage k moving every word 2^k banks down
//! (mod NB) where bit k of d is set. The stages are shared by all rows,
//! with four stages of fixed wiring instead of every bank reaching every
//! row. Each stage is a module of its own (`RotationStage`, kept whole by
//! synthesis, `Design::kept_modules`): a word a bank, 2:1 under one bit,
//! so one LUT4 a bit. Flattened, ABC9 maps the stages together into a
//! 16-to-1 multiplexer per row bit again, and a 4:1 level as a LUT6
//! (4 LUT4 on the ECP5): at 16 banks of 8 bits 512 LUT4 kept against 1,264
//! flattened and `BankRotation`'s 2,016 (docs/banked.md).
//! The Verilog is written out (a stage's wiring, mod NB, is not in
//! rust-hdl's kernels); `verif/tests/rotation_unit.rs` verilates it.

use crate::leaf::{konst, low_mask, vec_of, word, Word};
use rust_hdl::prelude::*;

/// One stage of the shifter: per word the kept one (`stay`) or the moved
/// one (`moved`, wired 2^k banks down by the rotation) under `sel`, masked
/// to the data's bits (the stage is kept as a module of its own, so it
/// narrows its words itself).
#[derive(LogicBlock)]
pub struct RotationStage {
    pub sel: Signal<In, Bit>,
    pub stay: Vec<Signal<In, Word>>,
    pub moved: Vec<Signal<In, Word>>,
    pub out: Vec<Signal<Out, Word>>,
    mask: Constant<Word>,
}

impl RotationStage {
    pub fn new(words: usize, width: u32) -> RotationStage {
        RotationStage {
            sel: Default::default(),
            stay: vec_of(words),
            moved: vec_of(words),
            out: vec_of(words),
            mask: konst(low_mask(width)),
        }
    }
}

impl Logic for RotationStage {
    fn update(&mut self) {
        for b in 0..self.out.len() {
            let pick = if self.sel.val() {
                &self.moved[b]
            } else {
                &self.stay[b]
            };
            self.out[b].next = pick.val() & self.mask.val();
        }
    }
    fn connect(&mut self) {
        for o in &mut self.out {
            o.connect();
        }
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from("always @(*) begin\n");
        for b in 0..self.out.len() {
            v += &format!("    out${b} = (sel ? moved${b} : stay${b}) & mask;\n");
        }
        v += "end";
        Verilog::Custom(v)
    }
}

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
    /// Stage k moves the words 2^k banks where bit k of d is set; the
    /// last stage has only the rows' words.
    shift_stages: Vec<RotationStage>,
}

impl CyclicRotation {
    /// `banks` banks (a power of two) and `rows` rows (at most `banks`) of
    /// `width`-bit words; 0 banks and 0 rows: a block without ports,
    /// dropped from the Verilog (`dedup::drop_portless`), where a
    /// configuration's activations are not in the cyclic layout.
    pub fn new(banks: usize, rows: usize, width: u32) -> CyclicRotation {
        assert!(
            (banks, rows) == (0, 0) || (banks.is_power_of_two() && (1..=banks).contains(&rows))
        );
        let turns = usize::from(banks > 1);
        let stages = if banks == 0 {
            0
        } else {
            banks.trailing_zeros() as usize
        };
        CyclicRotation {
            clock: vec_of(turns),
            reset: vec_of(turns),
            take: vec_of(turns),
            amount: vec_of(turns),
            bank_data: vec_of(banks),
            row_data: vec_of(rows),
            amount_q: vec_of(turns),
            shift_stages: (0..stages)
                .map(|k| RotationStage::new(if k + 1 == stages { rows } else { banks }, width))
                .collect(),
        }
    }
    fn banks(&self) -> usize {
        self.bank_data.len()
    }
    /// The words stage k reads: the banks' (k = 0) or stage k - 1's.
    fn input(&self, k: usize, b: usize) -> u64 {
        if k == 0 {
            self.bank_data[b].val().to_u64()
        } else {
            self.shift_stages[k - 1].out[b].val().to_u64()
        }
    }
    fn input_name(k: usize, b: usize) -> String {
        if k == 0 {
            format!("bank_data${b}")
        } else {
            format!("shift_stages${}$out${b}", k - 1)
        }
    }
}

impl Logic for CyclicRotation {
    fn update(&mut self) {
        let nb = self.banks();
        let mut d = 0;
        if let Some(q) = self.amount_q.first() {
            d = q.val().to_u64();
            if self.clock[0].pos_edge() {
                let mut next = d;
                if self.take[0].val() {
                    next = self.amount[0].val().to_u64() & (nb as u64 - 1);
                }
                if self.reset[0].val() {
                    next = 0;
                }
                self.amount_q[0].next = word(next as i64);
            }
        }
        for k in 0..self.shift_stages.len() {
            self.shift_stages[k].sel.next = d >> k & 1 == 1;
            for b in 0..self.shift_stages[k].out.len() {
                let (stay, moved) = (self.input(k, b), self.input(k, (b + (1 << k)) % nb));
                self.shift_stages[k].stay[b].next = word(stay as i64);
                self.shift_stages[k].moved[b].next = word(moved as i64);
            }
        }
        let last = self.shift_stages.len();
        for r in 0..self.row_data.len() {
            let x = self.input(last, r);
            self.row_data[r].next = word(x as i64);
        }
    }
    fn connect(&mut self) {
        for s in &mut self.row_data {
            s.connect();
        }
        for q in &mut self.amount_q {
            q.connect();
        }
        for st in &mut self.shift_stages {
            st.sel.connect();
            for x in st.stay.iter_mut().chain(&mut st.moved) {
                x.connect();
            }
        }
    }
    fn hdl(&self) -> Verilog {
        let nb = self.banks();
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
        for (k, st) in self.shift_stages.iter().enumerate() {
            v += &format!(
                "    shift_stages${k}$sel = (amount_q$0 & 64'd{}) != 64'd0;\n",
                1u64 << k
            );
            for b in 0..st.out.len() {
                v += &format!(
                    "    shift_stages${k}$stay${b} = {};\n    shift_stages${k}$moved${b} = {};\n",
                    Self::input_name(k, b),
                    Self::input_name(k, (b + (1 << k)) % nb)
                );
            }
        }
        for r in 0..self.row_data.len() {
            v += &format!(
                "    row_data${r} = {};\n",
                Self::input_name(self.shift_stages.len(), r)
            );
        }
        v += "end";
        Verilog::Custom(v)
    }
}

/// The rotation alone as a top (`drq_cyclic_rotation`): `banks` banks and
/// `rows` rows of `width`-bit words.
pub fn cyclic_rotation_design(banks: usize, rows: usize, width: u32) -> crate::shell::Design {
    use crate::shell::{design, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let amount_bits = crate::shell::clog2(banks as u32).max(1);
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
    design(
        "drq_cyclic_rotation",
        "drq_cyclic_rotation_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut CyclicRotation::new(banks, rows, width),
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
            let mut m = CyclicRotation::new(banks, rows, 8);
            m.connect_all();
            m.reset[0].next = true;
            tick(&mut m);
            m.reset[0].next = false;
            for round in 0..40 {
                let d = rng.range(0, banks as i64 * 4) as usize;
                let data: Vec<u64> = (0..banks).map(|_| rng.range(0, 255) as u64).collect();
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
                }
                if round % 3 != 2 {
                    assert_eq!(taken, d % banks, "the taken amount");
                }
            }
        }
    }
}
