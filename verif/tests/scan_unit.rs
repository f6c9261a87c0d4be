//! The input-mask scan of the DRQ top (`drq_hdl::scan::InputScan`), cut
//! out of `drq_top.v` and verilated alone: for random map shapes and a
//! random pattern of idle cycles, it walks every value in raster order
//! (channel, row, column), each at its buffer address (rows at the
//! configuration's pitch), says which is the last, and reports each value
//! read one cycle later; a restart goes back to the first value.

use drq_golden::rng::{test_seed, Rng};
use drq_hdl::shell::Design;
use drq_hdl::top::top_design;
use drq_verif::regfile_tb::submodule_design;
use drq_verif::regress::cfg_4x4;
use drq_verif::sim::{Model, SimOptions};

/// The scan's module in an emitted DRQ `drq_top`.
const SCAN_MODULE: &str = "drq_top_core_scan";

/// `Err` when `got` differs from `want`.
fn expect<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: String) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: {got:?}, expected {want:?}"))
    }
}

/// Drive the scan cut out of `top` through random maps; the first difference.
fn check_scan(top: &Design, pitch: u64, seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let design = submodule_design(top, SCAN_MODULE)?;
    let mut m = Model::new(&design, &SimOptions::default()).map_err(|e| e.to_string())?;
    m.set_bool("reset", true);
    m.tick(2);
    m.set_bool("reset", false);
    for round in 0..12 {
        let (c_in, h, w) = (
            rng.range(1, 3) as u64,
            rng.range(1, 5) as u64,
            rng.range(1, 7) as u64,
        );
        let what = format!("round {round}, {c_in} x {h} x {w} (seed {seed})");
        m.set_u64("c_in", c_in);
        m.set_u64("h", h);
        m.set_u64("w", w);
        m.set_bool("advance", false);
        m.set_bool("restart", true);
        m.tick(1);
        m.set_bool("restart", false);
        // The values in the order the scan must give them, and the one
        // read in the previous cycle.
        let order: Vec<(u64, u64, u64)> = (0..c_in)
            .flat_map(|c| (0..h).flat_map(move |y| (0..w).map(move |x| (c, y, x))))
            .collect();
        let mut previous: Option<(u64, u64, u64)> = None;
        let mut k = 0;
        while k < order.len() || previous.is_some() {
            let advance = k < order.len() && rng.chance(0.7);
            m.set_bool("advance", advance);
            m.eval();
            let at = format!("{what}, value {k}");
            expect(
                m.get_bool("read_valid"),
                previous.is_some(),
                format!("{at}: read_valid"),
            )?;
            if let Some(v) = previous {
                let got = (
                    m.get_u64("read_c"),
                    m.get_u64("read_y"),
                    m.get_u64("read_x"),
                );
                expect(got, v, format!("{at}: the value read"))?;
            }
            let read_last = previous.is_some_and(|v| v == *order.last().unwrap());
            expect(
                m.get_bool("read_last"),
                read_last,
                format!("{at}: read_last"),
            )?;
            if let Some(&(c, y, x)) = order.get(k) {
                let addr = (c * h + y) * pitch + x;
                expect(m.get_u64("addr"), addr, format!("{at}: address"))?;
                expect(
                    m.get_bool("last"),
                    k + 1 == order.len(),
                    format!("{at}: last"),
                )?;
            }
            previous = advance.then(|| order[k]);
            k += usize::from(advance);
            m.tick(1);
        }
    }
    Ok(())
}

#[test]
fn the_scan_walks_every_value_in_raster_order() {
    let seed = test_seed("the_scan_walks_every_value_in_raster_order");
    let cfg = cfg_4x4();
    check_scan(&top_design(&cfg), u64::from(cfg.act_row_pitch()), seed).unwrap();
}

/// Faults in the row step, the channel wrap and the read's delay each
/// fail the testbench.
#[test]
fn faults_in_the_scan_are_caught() {
    let seed = test_seed("faults_in_the_scan_are_caught");
    let cfg = cfg_4x4();
    let design = top_design(&cfg);
    for (good, bad) in [
        (
            "sc_base_d_calc = sc_base_q + pitch;",
            "sc_base_d_calc = sc_base_q + one;",
        ),
        ("sc_c_d_calc = sc_c_q + one;", "sc_c_d_calc = sc_c_q;"),
        ("rd_x_d_calc = sc_x_q;", "rd_x_d_calc = 0;"),
        ("rd_last_d_calc = advance & last;", "rd_last_d_calc = last;"),
    ] {
        assert!(design.verilog.contains(good), "`{good}` is emitted");
        let mut mutant = design.clone();
        mutant.verilog = design.verilog.replacen(good, bad, 1);
        check_scan(&mutant, u64::from(cfg.act_row_pitch()), seed)
            .expect_err(&format!("`{bad}` must fail the scan's testbench"));
    }
}
