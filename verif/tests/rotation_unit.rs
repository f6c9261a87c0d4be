//! The cyclic layout's rows' selection (`drq_hdl::cyclic_rotation`, its
//! Verilog written out by hand) verilated alone: for random bank data and
//! rotation amounts, with and without a take, every row shows bank
//! (d + r) mod NB of the last amount taken (`drq_arch::cyclic`'s rule).

use drq_golden::rng::{test_seed, Rng};
use drq_hdl::cyclic_rotation::cyclic_rotation_design;
use drq_verif::sim::{Model, SimOptions};

fn check(banks: usize, rows: usize, seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let design = cyclic_rotation_design(banks, rows, 8);
    let mut m = Model::new(&design, &SimOptions::default()).map_err(|e| e.to_string())?;
    m.set_bool("reset", true);
    m.tick(2);
    m.set_bool("reset", false);
    let mut taken = 0usize;
    for round in 0..200 {
        let data: Vec<i64> = (0..banks).map(|_| rng.range(0, 255)).collect();
        m.set_lanes("bank_data", 8, &data);
        let amount = rng.range(0, banks as i64 - 1) as usize;
        let take = rng.chance(0.7);
        m.set_u64("amount", amount as u64);
        m.set_bool("take", take);
        m.tick(1);
        if take {
            taken = amount;
        }
        m.set_bool("take", false);
        m.eval();
        let got = m.get_lanes("row_data", 8, rows, false);
        let want: Vec<i64> = (0..rows).map(|r| data[(taken + r) % banks]).collect();
        if got != want {
            return Err(format!(
                "{banks} banks, {rows} rows, round {round}, rotation {taken}: rows {got:?}, \
                 expected {want:?} (seed {seed})"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_row_shows_bank_d_plus_r_of_the_taken_rotation() {
    let seed = test_seed("rotation_unit");
    for (banks, rows) in [(16, 16), (16, 15), (4, 3)] {
        check(banks, rows, seed).unwrap();
    }
}
