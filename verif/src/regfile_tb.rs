//! Unit testbench of the register file as `drq_top` emits it: the module
//! `drq_top_core_regs` cut out of `drq_top.v` and verilated alone, its
//! every port driven and read against the one register table
//! (`drq_arch::regs::REGISTERS`).
//!
//! Through the top, the high words of the 48-bit counters are 0 in every
//! run (no layer that fits the buffers runs 2^32 cycles), so only a test
//! of the block itself reads them. `drq mutate` runs this testbench too
//! against every mutant of the register file (the mutated `drq_top.v`).

use crate::mutate::module_bodies;
use crate::sim::{Model, SimOptions};
use drq_arch::regs::{index_of, reg, Access, Width, COUNTER_BITS, REGISTERS};
use drq_golden::rng::Rng;
use drq_hdl::shell::{Design, Dir, Port};

/// The register file's module in an emitted `drq_top`.
pub const REGFILE_MODULE: &str = "drq_top_core_regs";

/// The text of `module` and of every module it instantiates, from the
/// Verilog of `design`, as a design of its own with `module` as top and
/// the ports its declarations name.
pub fn submodule_design(design: &Design, module: &str) -> Result<Design, String> {
    let bodies = module_bodies(&design.verilog);
    let find = |name: &str| bodies.iter().find(|(n, _)| *n == name).map(|(_, t)| t);
    let top = find(module).ok_or_else(|| format!("{} has no module {module}", design.top))?;
    // The module and its instances, transitively (an instance line is
    // `<module> <instance>(`).
    let mut wanted = vec![module.to_string()];
    let mut verilog = String::new();
    while let Some(name) = wanted.pop() {
        if verilog.contains(&format!("module {name}(")) {
            continue;
        }
        let text = find(&name).expect("listed modules exist");
        verilog.push_str(text);
        verilog.push('\n');
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some(m), Some(_)) = (words.next(), words.next()) {
                let is_instance = line.trim_end().ends_with('(') && find(m).is_some();
                if m != name && is_instance {
                    wanted.push(m.to_string());
                }
            }
        }
    }
    let ports = top
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_end_matches(';');
            let (dir, rest) = if let Some(r) = line.strip_prefix("input ") {
                (Dir::Input, r)
            } else if let Some(r) = line.strip_prefix("output ") {
                (Dir::Output, r)
            } else {
                return None;
            };
            let name = rest.split_whitespace().last()?.to_string();
            let width = match (rest.find('['), rest.find(':')) {
                (Some(open), Some(colon)) => rest[open + 1..colon].trim().parse::<u32>().ok()? + 1,
                _ => 1,
            };
            Some(Port { name, dir, width })
        })
        .collect();
    Ok(Design {
        top: module.to_string(),
        verilog,
        ports,
        waivers:
            "`verilator_config\n// A block cut out of drq_top.v for its unit testbench.\nlint_off\n"
                .into(),
    })
}

/// Drive every input of the emitted register file with random values
/// (`rounds` times, from `seed`) and check every output against the
/// register table: each RW register's port is its slot's stored word, a
/// write-only register's `_written` pulse its slot's write strobe, each
/// read-only slot its register's value (a counter as its low word and
/// its bits 32 and up). `Err` names the first port that differs.
pub fn check_register_file(top: &Design, seed: u64, rounds: usize) -> Result<(), String> {
    let design = submodule_design(top, REGFILE_MODULE)?;
    let mut model = Model::new(&design, &SimOptions::default()).map_err(|e| e.to_string())?;
    let mut rng = Rng::new(seed);
    let counter_mask = (1u64 << COUNTER_BITS) - 1;
    for round in 0..rounds {
        let mut stored = vec![0u64; reg::N_RW];
        let mut strobes = vec![false; reg::N_RW];
        for k in 0..reg::N_RW {
            stored[k] = rng.next_u64() & 0xFFFF_FFFF;
            strobes[k] = rng.chance(0.5);
            model.set_u64(&format!("reg_out_{k}"), stored[k]);
            model.set_bool(&format!("write_strobe_{k}"), strobes[k]);
        }
        let mut ro_values = Vec::new();
        for r in REGISTERS.iter().filter(|r| r.access == Access::Ro) {
            // Counters up to their full width, in the round's upper half
            // with the low word all ones or all zeros now and then.
            let v = match (r.width, round % 4) {
                (Width::Counter, 0) => counter_mask,
                (Width::Counter, 1) => rng.next_u64() & counter_mask & !0xFFFF_FFFF,
                (Width::Counter, _) => rng.next_u64() & counter_mask,
                _ => rng.next_u64() & 0xFFFF_FFFF,
            };
            model.set_u64(&r.name.to_lowercase(), v);
            ro_values.push((r, v));
        }
        model.eval();
        let mut expect = |port: String, want: u64| -> Result<(), String> {
            let got = model.get_u64(&port);
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "register file, round {round} (seed {seed}): {port} = {got:#x}, expected {want:#x}"
                ))
            }
        };
        for r in REGISTERS.iter().filter(|r| r.access != Access::Ro) {
            let slot = index_of(REGISTERS, r.name);
            expect(r.name.to_lowercase(), stored[slot])?;
            if r.access == Access::W {
                expect(
                    format!("{}_written", r.name.to_lowercase()),
                    u64::from(strobes[slot]),
                )?;
            }
        }
        let mut k = 0;
        for (r, v) in ro_values {
            if r.width == Width::Counter {
                expect(format!("reg_in_{k}"), v & 0xFFFF_FFFF)?;
                expect(format!("reg_in_{}", k + 1), v >> 32)?;
            } else {
                expect(format!("reg_in_{k}"), v)?;
            }
            k += r.width.slots();
        }
    }
    Ok(())
}
