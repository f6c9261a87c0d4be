//! The host interface (AXI4-Lite slave and register file) as `drq_top`
//! emits it, alone (`drq_verif::regfile_tb`): every register over its own
//! bus against the register table, the counters up to 48 bits. Through
//! the top their high words are always 0, so only this test reads them.

use drq_golden::rng::test_seed;
use drq_hdl::top::top_design;
use drq_verif::regfile_tb::{check_register_file, submodule_design, REGFILE_MODULE};
use drq_verif::regress::{cfg_4x4, named_config};

#[test]
fn every_register_slot_of_the_emitted_register_file() {
    let seed = test_seed("every_register_slot_of_the_emitted_register_file");
    eprintln!("seed {seed}");
    // The register file's ports differ by configuration only in the
    // widths the top drives into them; two configurations cover DRQ and INT8.
    for name in ["4x4-r2-ov-sp", "int8-4x2-r16"] {
        let cfg = named_config(name).expect("a regression configuration");
        check_register_file(&top_design(&cfg), &cfg, seed, 16)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The testbench fails when a counter's high word is cut off or the low
/// word leaks into it: the faults no run through the top can show.
#[test]
fn a_broken_counter_high_word_is_caught() {
    let seed = test_seed("a_broken_counter_high_word_is_caught");
    eprintln!("seed {seed}");
    let cfg = cfg_4x4();
    let design = top_design(&cfg);
    let good = "slave_reg_in_6 = token_cycles >> c32;";
    assert!(
        design.verilog.contains(good),
        "the regfile's TOKEN_CYCLES high word"
    );
    for bad in [
        "slave_reg_in_6 = 64'h0;",
        "slave_reg_in_6 = token_cycles;",
        "slave_reg_in_6 = steps_low >> c32;",
    ] {
        let mut mutant = design.clone();
        mutant.verilog = design.verilog.replacen(good, bad, 1);
        let err = check_register_file(&mutant, &cfg, seed, 4)
            .expect_err(&format!("`{bad}` must fail the register file testbench"));
        // TOKEN_CYCLES' high word.
        let slot = drq_arch::regs::reg::TOKEN_CYCLES + 1;
        assert!(
            err.contains(&format!("slot {slot}")) || err.contains(&format!("{:#x}", 4 * slot)),
            "{bad}: {err}"
        );
    }
}

/// Faults in the slave's read mux of a counter's high word, in CMD's write
/// pulse and in the window's address: each fails the testbench.
#[test]
fn faults_on_the_bus_side_are_caught() {
    let seed = test_seed("faults_on_the_bus_side_are_caught");
    eprintln!("seed {seed}");
    let cfg = cfg_4x4();
    let design = top_design(&cfg);
    for (good, bad) in [
        ("r_reg_val = reg_in_12 & data_mask;", "r_reg_val = 0;"),
        ("cmd_written = slave_write_strobe_0;", "cmd_written = 1'b0;"),
        ("mem_addr = slave_mem_addr;", "mem_addr = 64'h0;"),
    ] {
        assert!(design.verilog.contains(good), "`{good}` is emitted");
        let mut mutant = design.clone();
        mutant.verilog = design.verilog.replacen(good, bad, 1);
        check_register_file(&mutant, &cfg, seed, 4)
            .expect_err(&format!("`{bad}` must fail the host interface testbench"));
    }
}

#[test]
fn the_cut_out_module_has_the_register_ports() {
    let design = top_design(&cfg_4x4());
    let regs = submodule_design(&design, REGFILE_MODULE).unwrap();
    assert_eq!(regs.top, REGFILE_MODULE);
    assert!(regs
        .verilog
        .starts_with(&format!("module {REGFILE_MODULE}(")));
    let port = |n: &str| regs.ports.iter().find(|p| p.name == n).map(|p| p.width);
    assert_eq!(port("awaddr"), Some(64));
    assert_eq!(port("cycles_total"), Some(64));
    assert_eq!(port("cmd_written"), Some(1));
    assert_eq!(port("clock"), Some(1));
    assert!(
        port("reg_out_0").is_none(),
        "the slots stay inside the block"
    );
    assert!(submodule_design(&design, "no_such_module").is_err());
}
