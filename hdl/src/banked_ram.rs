//! `BankedRam`: an activation buffer stored once over ROWS banks
//! (docs/banked.md): a block RAM per bank with its own read port, one
//! write port (the bank chosen by `wr_bank`), and the rotation that hands
//! each array row the value of its bank. A row's bank is registered with
//! the reads (`take`), so it holds with the banks' read data (which holds
//! until the next read); the selection is an OR over the banks of each
//! bank's data where the row's bank is that bank (about 16 LUT4 per bit
//! at 16 banks on the ECP5, the cost of any 16-to-1 multiplexer there;
//! docs/banked.md).
//! Reads and writes have `WordRam`'s timing (registered, read-first, zero
//! at or above the depth).

use crate::leaf::{konst, vec_of, Word, WordReg};
use crate::ram::WordRam;
use crate::shell::clog2;
use rust_hdl::prelude::*;

/// The rotation of a stored-once buffer: per row the bank whose read data
/// it shows, registered when the row reads (`take`), and the selection as
/// an OR over the banks of each bank's data where the row's bank is that
/// bank. Every port is a vector, empty at 0 banks: a block without ports,
/// dropped from the Verilog (`dedup::drop_portless`), where a
/// configuration's activations are not banked.
#[derive(LogicBlock)]
pub struct BankRotation {
    pub clock: Vec<Signal<In, Clock>>,
    pub reset: Vec<Signal<In, Bit>>,
    /// Per row: take `row_bank` as the row's bank (with the row's read).
    pub take: Vec<Signal<In, Bit>>,
    pub row_bank: Vec<Signal<In, Word>>,
    /// Per bank: its read data.
    pub bank_data: Vec<Signal<In, Word>>,
    /// Per row: its bank's read data.
    pub row_data: Vec<Signal<Out, Word>>,
    sel: Vec<WordReg>,
    bank_number: Vec<Constant<Word>>,
    zero: Vec<Constant<Word>>,
    /// Row r's selection, entry r * banks + b the OR up to bank b.
    pick: Vec<Signal<Local, Word>>,
}

impl BankRotation {
    /// `banks` banks and as many rows (0: no block).
    pub fn new(banks: usize) -> BankRotation {
        let one = banks.min(1);
        BankRotation {
            clock: vec_of(one),
            reset: vec_of(one),
            take: vec_of(banks),
            row_bank: vec_of(banks),
            bank_data: vec_of(banks),
            row_data: vec_of(banks),
            sel: (0..banks)
                .map(|_| WordReg::unsigned(clog2(banks as u32).max(1)))
                .collect(),
            bank_number: (0..banks as u64).map(konst).collect(),
            zero: (0..one).map(|_| konst(0)).collect(),
            pick: vec_of(banks * banks),
        }
    }
    fn banks(&self) -> usize {
        self.bank_data.len()
    }
    /// banks + 1 (a loop that binds the bank count), or 0 without banks.
    fn banks_end(&self) -> usize {
        self.banks() + self.zero.len()
    }
}

impl Logic for BankRotation {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..self.zero.len() {
            for r in 0..self.banks() {
                self.sel[r].clock.next = self.clock[k].val();
                self.sel[r].reset.next = self.reset[k].val();
            }
        }
        for r in 0..self.banks() {
            self.sel[r].d.next = self.sel[r].q.val();
            if self.take[r].val() {
                self.sel[r].d.next = self.row_bank[r].val();
            }
        }
        // `n` is the bank count, bound as a loop variable (rust-hdl's
        // kernels index with loop variables only).
        for n in self.banks()..self.banks_end() {
            for r in 0..self.banks() {
                self.pick[r * n].next = self.zero[0].val();
                if self.sel[r].q.val() == self.bank_number[0].val() {
                    self.pick[r * n].next = self.bank_data[0].val();
                }
                for b in 1..self.banks() {
                    self.pick[r * n + b].next = self.pick[r * n + b - 1].val();
                    if self.sel[r].q.val() == self.bank_number[b].val() {
                        self.pick[r * n + b].next =
                            self.pick[r * n + b - 1].val() | self.bank_data[b].val();
                    }
                }
                self.row_data[r].next = self.pick[r * n + n - 1].val();
            }
        }
    }
}

#[derive(LogicBlock)]
pub struct BankedRam {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Per bank: read the word at `rd_addr`.
    pub rd: Vec<Signal<In, Bit>>,
    pub rd_addr: Vec<Signal<In, Word>>,
    /// Per row: the bank whose read data it takes, registered with `take`.
    pub row_bank: Vec<Signal<In, Word>>,
    pub take: Signal<In, Bit>,
    /// Per row: its bank's read data.
    pub row_data: Vec<Signal<Out, Word>>,
    pub wr_en: Signal<In, Bit>,
    pub wr_bank: Signal<In, Word>,
    pub wr_addr: Signal<In, Word>,
    pub wr_data: Signal<In, Word>,
    banks: Vec<WordRam>,
    rotation: BankRotation,
    bank_number: Vec<Constant<Word>>,
}

impl BankedRam {
    /// `banks` banks (one per array row) of `depth` words of `width` bits.
    pub fn new(banks: usize, depth: usize, width: u32) -> BankedRam {
        assert!(banks >= 1);
        BankedRam {
            clock: Default::default(),
            reset: Default::default(),
            rd: vec_of(banks),
            rd_addr: vec_of(banks),
            row_bank: vec_of(banks),
            take: Default::default(),
            row_data: vec_of(banks),
            wr_en: Default::default(),
            wr_bank: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            banks: (0..banks).map(|_| WordRam::new(depth, width)).collect(),
            rotation: BankRotation::new(banks),
            bank_number: (0..banks as u64).map(konst).collect(),
        }
    }
    fn bank_count(&self) -> usize {
        self.banks.len()
    }
}

impl Logic for BankedRam {
    #[hdl_gen]
    fn update(&mut self) {
        self.rotation.clock[0].next = self.clock.val();
        self.rotation.reset[0].next = self.reset.val();
        for b in 0..self.bank_count() {
            self.banks[b].clock.next = self.clock.val();
            self.banks[b].rd_en.next = self.rd[b].val();
            self.banks[b].rd_addr.next = self.rd_addr[b].val();
            self.banks[b].wr_addr.next = self.wr_addr.val();
            self.banks[b].wr_data.next = self.wr_data.val();
            self.banks[b].wr_en.next =
                self.wr_en.val() & (self.wr_bank.val() == self.bank_number[b].val());
            self.rotation.bank_data[b].next = self.banks[b].rd_data.val();
            self.rotation.take[b].next = self.take.val();
            self.rotation.row_bank[b].next = self.row_bank[b].val();
            self.row_data[b].next = self.rotation.row_data[b].val();
        }
    }
}

/// `BankedRam` alone as a design (top `drq_banked_ram`), for its lint and
/// synthesis checks.
pub fn banked_ram_design(banks: usize, depth: usize, width: u32) -> crate::shell::Design {
    use crate::shell::{design, scalar, Dir, ShellPort, Widen};
    use Dir::{Input, Output};
    use Widen::{Flag, Zero};
    let count = Some(banks as u32);
    let addr = clog2(depth as u32);
    let bank_bits = clog2(banks as u32).max(1);
    let ports = vec![
        ShellPort::new("clk", "clock", Input, 1, None, Flag),
        scalar("reset", Input, 1, Flag),
        ShellPort::new("rd", "rd", Input, 1, count, Flag),
        ShellPort::new("rd_addr", "rd_addr", Input, addr, count, Zero),
        ShellPort::new("row_bank", "row_bank", Input, bank_bits, count, Zero),
        scalar("take", Input, 1, Flag),
        ShellPort::new("row_data", "row_data", Output, width, count, Zero),
        scalar("wr_en", Input, 1, Flag),
        scalar("wr_bank", Input, bank_bits, Zero),
        scalar("wr_addr", Input, addr, Zero),
        scalar("wr_data", Input, width, Zero),
    ];
    design(
        "drq_banked_ram",
        "drq_banked_ram_core",
        &drq_arch::AccelConfig::default(),
        ports,
        &mut BankedRam::new(banks, depth, width),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf::{settle, word};
    use drq_golden::rng::Rng;

    fn tick(m: &mut BankedRam) {
        m.clock.next = Clock::from(false);
        settle(m);
        m.clock.next = Clock::from(true);
        settle(m);
    }

    /// Random writes into random banks, then cycles of reads at random
    /// addresses of random banks with a random rotation: every row shows
    /// its bank's word, and keeps showing it while nothing is read (the
    /// banks and the row's bank hold), at 16, 5 and 1 banks, in rust-hdl.
    #[test]
    fn every_row_reads_its_banks_word() {
        let seed = 37;
        let mut rng = Rng::new(seed);
        for (banks, depth) in [(16usize, 32usize), (5, 8), (1, 4)] {
            let mut m = BankedRam::new(banks, depth, 8);
            m.connect_all();
            let mut model = vec![vec![0u64; depth]; banks];
            for _ in 0..400 {
                let (b, a, v) = (
                    rng.range(0, banks as i64 - 1),
                    rng.range(0, depth as i64 - 1),
                    rng.range(0, 255),
                );
                m.wr_en.next = true;
                m.wr_bank.next = word(b);
                m.wr_addr.next = word(a);
                m.wr_data.next = word(v);
                tick(&mut m);
                model[b as usize][a as usize] = v as u64;
            }
            m.wr_en.next = false;
            for cycle in 0..300 {
                let read = cycle % 3 != 2;
                let addrs: Vec<usize> = (0..banks)
                    .map(|_| rng.range(0, depth as i64 - 1) as usize)
                    .collect();
                let rot: Vec<usize> = (0..banks)
                    .map(|_| rng.range(0, banks as i64 - 1) as usize)
                    .collect();
                for b in 0..banks {
                    m.rd[b].next = read;
                    m.rd_addr[b].next = word(addrs[b] as i64);
                    m.row_bank[b].next = word(rot[b] as i64);
                }
                m.take.next = read;
                let before: Vec<u64> = m.row_data.iter().map(|d| d.val().to_u64()).collect();
                tick(&mut m);
                for r in 0..banks {
                    let got = m.row_data[r].val().to_u64();
                    let want = if read {
                        model[rot[r]][addrs[rot[r]]]
                    } else {
                        before[r]
                    };
                    assert_eq!(got, want, "seed {seed} {banks} banks cycle {cycle} row {r}");
                }
            }
        }
    }
}
