//! Unit testbench of the host interface as `drq_top` emits it: the module
//! `drq_top_core_regs` (the AXI4-Lite slave and the register file) cut
//! out of `drq_top.v` and verilated alone, driven over its own bus and
//! its register ports against the one register table
//! (`drq_arch::regs::REGISTERS`) and the address map.
//!
//! Through the top, the high words of the 48-bit counters are 0 in every
//! run (no layer that fits the buffers runs 2^32 cycles), so only a test
//! of the block itself reads them over the bus. `drq mutate` runs this
//! testbench too against every mutant (the mutated `drq_top.v`; its
//! build is cached unless the mutant is in the block).

use crate::axil_bfm::{AxilMaster, AxilRef, Resp, Timing, WriteOp};
use crate::mutate::module_bodies;
use crate::sim::{Model, SimOptions};
use drq_arch::config::AccelConfig;
use drq_arch::regs::{
    index_of, reg, rw_bits, Access, Register, Width, WindowMap, COUNTER_BITS, REGISTERS,
    WINDOW_BASE,
};
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

/// Transactions per round of [`check_register_file`].
const OPS_PER_ROUND: usize = 48;

/// The byte address of register slot `k`.
fn slot_addr(k: usize) -> u64 {
    4 * k as u64
}

/// What a transaction of the unit testbench did, from the ports the host
/// interface drives towards the top: the write pulses of write-only
/// registers and of the buffer window, and the window's address and data.
#[derive(Debug, Default)]
struct Seen {
    written: Vec<u32>,
    mem_writes: Vec<(u64, u64)>,
    mem_reads: Vec<u64>,
}

/// Run `write` / `read` to completion and two cycles beyond (a write's
/// pulses follow its response by up to a cycle), recording every pulse.
fn watch(
    bus: &mut AxilMaster,
    write: Option<WriteOp>,
    read: Option<u64>,
    w_registers: &[&str],
) -> (Option<Resp>, Option<(u32, Resp)>, Seen) {
    let mut seen = Seen {
        written: vec![0; w_registers.len()],
        ..Seen::default()
    };
    let mut flight = bus.start(write, read);
    let mut tail = 0;
    while tail < 2 {
        if flight.done() {
            tail += 1;
        }
        bus.cycle(&mut flight);
        let m = &mut bus.model;
        for (n, name) in seen.written.iter_mut().zip(w_registers) {
            *n += u32::from(m.get_bool(&format!("{name}_written")));
        }
        if m.get_bool("mem_wr") {
            seen.mem_writes
                .push((m.get_u64("mem_addr"), m.get_u64("mem_wdata")));
        }
        if m.get_bool("mem_rd") {
            seen.mem_reads.push(m.get_u64("mem_addr"));
        }
    }
    (flight.write_resp(), flight.read_resp(), seen)
}

/// One random access of the traffic after a round's directed writes: a
/// write of an RW or write-only slot (one time in three), of an unmapped
/// address, the first read-only slot or the window, a read of any slot or
/// of an unmapped address or the window, or a window write.
fn random_access(rng: &mut Rng, window_words: u64) -> (Option<u64>, Option<u64>) {
    let last_slot = i64::from(drq_arch::regs::NUM_REGS) - 1;
    let unmapped = slot_addr(rng.range((reg::N_RW + reg::N_RO) as i64, last_slot) as usize);
    let window = WINDOW_BASE + 4 * rng.range(0, window_words as i64 - 1) as u64;
    let any_slot = slot_addr(rng.range(0, last_slot) as usize);
    match rng.range(0, 5) {
        0 | 1 => (
            Some(slot_addr(rng.range(0, reg::N_RW as i64 - 1) as usize)),
            None,
        ),
        2 => (
            Some(rng.pick(&[unmapped, slot_addr(reg::N_RW), window])),
            None,
        ),
        3 => (None, Some(any_slot)),
        4 => (None, Some(rng.pick(&[unmapped, window]))),
        _ => (Some(window), None),
    }
}

/// The host interface as `drq_top` emits it, against the register table
/// and the address map (`docs/axil.md`), over its own AXI4-Lite bus:
/// `rounds` rounds (from `seed`), each driving every read-only register's
/// port with a random value (counters up to `COUNTER_BITS`, with the low
/// word all ones or zeros now and then) and the window's read data, then
/// writing every RW and write-only slot once, then random single
/// transactions: full and byte-strobed writes of RW and
/// write-only slots, writes of read-only slots and of unmapped addresses
/// (SLVERR), reads of every slot and of unmapped ones, window writes and
/// reads. After each, every RW register's port equals its slot's bytes
/// (as many bits as the configuration stores), each write-only register
/// pulsed `_written` once per write of its slot, and the window saw
/// exactly the access made. Each round ends reading every slot back.
/// `Err` names the first difference.
pub fn check_register_file(
    top: &Design,
    cfg: &AccelConfig,
    seed: u64,
    rounds: usize,
) -> Result<(), String> {
    let design = submodule_design(top, REGFILE_MODULE)?;
    let model = Model::new(&design, &SimOptions::default()).map_err(|e| e.to_string())?;
    let mut bus = AxilMaster::with_reset_port(model, seed, Timing::RANDOM, 0, "reset");
    let mut rng = Rng::new(seed ^ 0x4e67_1573);
    let counter_mask = (1u64 << COUNTER_BITS) - 1;
    let stored_mask: Vec<u32> = rw_bits(cfg)
        .iter()
        .map(|&b| if b >= 32 { u32::MAX } else { (1u32 << b) - 1 })
        .collect();
    let writable: Vec<&Register> = REGISTERS
        .iter()
        .filter(|r| r.access != Access::Ro)
        .collect();
    let w_registers: Vec<String> = writable
        .iter()
        .filter(|r| r.access == Access::W)
        .map(|r| r.name.to_lowercase())
        .collect();
    let w_names: Vec<&str> = w_registers.iter().map(String::as_str).collect();
    let window_words = WindowMap::new(cfg).window_words();
    let mut reference = AxilRef::new(reg::N_RW, reg::N_RO, 0);
    let fail = |round: usize, what: String| -> Result<(), String> {
        Err(format!(
            "host interface, round {round} (seed {seed}): {what}"
        ))
    };
    for round in 0..rounds {
        let mut k = 0;
        for r in REGISTERS.iter().filter(|r| r.access == Access::Ro) {
            let v = match (r.width, round % 4) {
                (Width::Counter, 0) => counter_mask,
                (Width::Counter, 1) => rng.next_u64() & counter_mask & !0xFFFF_FFFF,
                (Width::Counter, _) => rng.next_u64() & counter_mask,
                _ => rng.next_u64(),
            };
            bus.model.set_u64(&r.name.to_lowercase(), v);
            reference.ro[k] = v as u32;
            if r.width == Width::Counter {
                reference.ro[k + 1] = (v >> 32) as u32;
            }
            k += r.width.slots();
        }
        let mem_rdata = rng.next_u64();
        bus.model.set_u64("mem_rdata", mem_rdata);
        // Each round opens writing every RW and write-only slot once (in
        // a random order), so every `_written` pulse and every stored bit is
        // exercised whatever the seed; random traffic follows.
        let mut directed: Vec<usize> = (0..reg::N_RW).collect();
        rng.shuffle(&mut directed);
        for op_index in 0..reg::N_RW + OPS_PER_ROUND {
            let data = rng.next_u64() as u32;
            let strb = if rng.chance(0.7) {
                0xF
            } else {
                rng.range(0, 15) as u8
            };
            let (write, read) = match directed.get(op_index) {
                Some(&slot) => (Some(slot_addr(slot)), None),
                None => random_access(&mut rng, window_words),
            };
            let op = write.map(|addr| WriteOp { addr, data, strb });
            let (wresp, rresp, seen) = watch(&mut bus, op, read, &w_names);
            if let Some(op) = op {
                let mut expect = reference.write(op);
                let in_window = op.addr >= WINDOW_BASE;
                if in_window && op.strb == 0xF {
                    expect = Resp::Okay;
                }
                if wresp != Some(expect) {
                    return fail(
                        round,
                        format!("write {op:x?} answered {wresp:?}, expected {expect:?}"),
                    );
                }
                let want_mem: Vec<(u64, u64)> = if in_window && op.strb == 0xF {
                    vec![((op.addr - WINDOW_BASE) / 4, u64::from(op.data))]
                } else {
                    vec![]
                };
                if seen.mem_writes != want_mem || !seen.mem_reads.is_empty() {
                    return fail(round, format!("write {op:x?}: window saw {seen:x?}"));
                }
                for (name, n) in w_names.iter().zip(&seen.written) {
                    let slot = index_of(REGISTERS, &name.to_uppercase());
                    let want = u32::from(op.addr == slot_addr(slot) && expect == Resp::Okay);
                    if *n != want {
                        return fail(
                            round,
                            format!(
                                "write {op:x?}: {name}_written pulsed {n} times, expected {want}"
                            ),
                        );
                    }
                }
            }
            if let Some(addr) = read {
                let (want_data, want_resp) = if addr >= WINDOW_BASE {
                    (mem_rdata as u32, Resp::Okay)
                } else {
                    let (d, r) = reference.read(addr);
                    let slot = (addr / 4) as usize;
                    (d & stored_mask.get(slot).copied().unwrap_or(u32::MAX), r)
                };
                if rresp != Some((want_data, want_resp)) {
                    return fail(round, format!("read {addr:#x} gave {rresp:x?}, expected ({want_data:#x}, {want_resp:?})"));
                }
                let want_mem: Vec<u64> = if addr >= WINDOW_BASE {
                    vec![(addr - WINDOW_BASE) / 4]
                } else {
                    vec![]
                };
                if seen.mem_reads != want_mem || !seen.mem_writes.is_empty() {
                    return fail(round, format!("read {addr:#x}: window saw {seen:x?}"));
                }
            }
            for r in &writable {
                let slot = index_of(REGISTERS, r.name);
                let want = u64::from(reference.rw[slot] & stored_mask[slot]);
                let got = bus.model.get_u64(&r.name.to_lowercase());
                if got != want {
                    return fail(
                        round,
                        format!(
                            "port {} = {got:#x}, expected {want:#x}",
                            r.name.to_lowercase()
                        ),
                    );
                }
            }
        }
        let all: Vec<u64> = (0..reg::N_RW + reg::N_RO).map(slot_addr).collect();
        for (addr, got) in all.iter().zip(bus.read_burst(&all)) {
            let (d, r) = reference.read(*addr);
            let want = (
                d & stored_mask
                    .get((*addr / 4) as usize)
                    .copied()
                    .unwrap_or(u32::MAX),
                r,
            );
            if got != want {
                return fail(
                    round,
                    format!(
                        "read of slot {} gave {got:x?}, expected {want:x?}",
                        addr / 4
                    ),
                );
            }
        }
    }
    bus.assert_idle();
    Ok(())
}
