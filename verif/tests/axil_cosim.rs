//! The emitted AXI4-Lite host interface (`drq_axil`) in Verilator, driven by
//! the Rust master `drq_verif::axil_bfm` with random valid delays and random
//! BREADY/RREADY backpressure, the protocol checker watching every cycle,
//! against the reference model `AxilRef` (`docs/axil.md`).

use drq_arch::AccelConfig;
use drq_golden::rng::{test_seed, Rng};
use drq_hdl::axil::{
    axil_design, axil_staged_design, TEST_N_RO, TEST_N_RW, TEST_WINDOW_WORDS, WINDOW_BASE,
};
use drq_hdl::shell::Design;
use drq_verif::axil_bfm::{AxilMaster, AxilRef, Resp, Target, Timing, WriteOp};
use drq_verif::sim::{Model, SimOptions};

const WORDS: usize = TEST_WINDOW_WORDS as usize;

fn master(test: &str, timing: Timing) -> AxilMaster {
    master_of(&axil_design(&AccelConfig::default()), test, timing)
}

fn master_of(design: &Design, test: &str, timing: Timing) -> AxilMaster {
    let seed = test_seed(test);
    let model = Model::new(design, &SimOptions::from_env("axil_cosim", test)).unwrap();
    AxilMaster::new(model, seed, timing, TEST_N_RW)
}

fn reg_out(m: &mut AxilMaster) -> Vec<u32> {
    m.model
        .get_lanes("reg_out", 32, TEST_N_RW, false)
        .into_iter()
        .map(|v| v as u32)
        .collect()
}

fn set_reg_in(m: &mut AxilMaster, r: &mut AxilRef) {
    for v in r.ro.iter_mut() {
        *v = m.rng.next_u64() as u32;
    }
    let lanes: Vec<i64> = r.ro.iter().map(|&v| i64::from(v)).collect();
    m.model.set_lanes("reg_in", 32, &lanes);
    m.model.eval();
}

fn window(k: usize) -> u64 {
    WINDOW_BASE + 4 * k as u64
}

const TIMINGS: [Timing; 3] = [Timing::FAST, Timing::RANDOM, Timing::BACKPRESSURE];

#[test]
fn registers_write_and_read_back_with_any_aw_w_order_and_backpressure() {
    let mut m = master("registers_write_and_read_back", Timing::FAST);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    let mut writes = [0u64; TEST_N_RW];
    for timing in TIMINGS {
        m.timing = timing;
        for _ in 0..3 {
            let mut order: Vec<usize> = (0..TEST_N_RW).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, m.rng.range(0, i as i64) as usize);
            }
            for k in order {
                let data = m.rng.next_u64() as u32;
                // Mostly full words, sometimes byte strobes (merged into the register).
                let strb = if m.rng.chance(0.7) {
                    0xF
                } else {
                    m.rng.range(0, 15) as u8
                };
                let op = WriteOp {
                    addr: 4 * k as u64,
                    data,
                    strb,
                };
                assert_eq!(m.transact(Some(op), None).0, Some(Resp::Okay));
                r.write(op);
                writes[k] += 1;
                assert_eq!(reg_out(&mut m), r.rw, "reg_out after {op:x?}");
            }
            for k in 0..TEST_N_RW {
                assert_eq!(m.read(4 * k as u64), (r.rw[k], Resp::Okay), "RW {k}");
            }
        }
    }
    m.idle(3);
    assert_eq!(m.strobe_counts, writes, "one write_strobe pulse per write");
    m.assert_idle();
}

#[test]
fn read_only_registers_return_the_inputs_and_refuse_writes() {
    let mut m = master("read_only_registers", Timing::RANDOM);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    for round in 0..3 {
        set_reg_in(&mut m, &mut r);
        for k in 0..TEST_N_RO {
            let addr = 4 * (TEST_N_RW + k) as u64;
            assert_eq!(m.read(addr), (r.ro[k], Resp::Okay), "RO {k} round {round}");
            let data = m.rng.next_u64() as u32;
            assert_eq!(m.write(addr, data), Resp::SlvErr, "write to RO {k}");
            assert_eq!(m.read(addr), (r.ro[k], Resp::Okay), "RO {k} after a write");
        }
    }
    assert_eq!(reg_out(&mut m), vec![0; TEST_N_RW]);
    assert_eq!(
        m.strobe_counts,
        vec![0; TEST_N_RW],
        "no strobe for RO writes"
    );
    m.assert_idle();
}

#[test]
fn unmapped_addresses_answer_slverr_and_change_nothing() {
    let mut m = master("unmapped_addresses", Timing::RANDOM);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    // Known contents everywhere an aliasing bug could land.
    for k in 0..TEST_N_RW {
        let v = m.rng.next_u64() as u32;
        assert_eq!(m.write(4 * k as u64, v), Resp::Okay);
        r.write(WriteOp {
            addr: 4 * k as u64,
            data: v,
            strb: 0xF,
        });
    }
    for k in [0, 1, 32, 63, WORDS - 1] {
        let v = m.rng.next_u64() as u32;
        assert_eq!(m.write(window(k), v), Resp::Okay);
        r.mem[k] = v;
    }
    let strobes = m.strobe_counts.clone();
    let unmapped = [
        0x80,
        0x84,
        0xFC,
        0x100,
        0x104,
        0x1000,
        0x8_0000,
        0xF_FFFC,
        window(WORDS),
        window(WORDS + 1),
        window(2 * WORDS),
        0xFF_FFFC,
    ];
    for timing in TIMINGS {
        m.timing = timing;
        for &a in &unmapped {
            assert_eq!(r.decode(a), Target::Unmapped, "{a:#x}");
            assert_eq!(m.read(a), (0, Resp::SlvErr), "read {a:#x}");
            assert_eq!(m.write(a, 0xDEAD_BEEF), Resp::SlvErr, "write {a:#x}");
        }
    }
    assert_eq!(reg_out(&mut m), r.rw);
    assert_eq!(m.strobe_counts, strobes);
    for k in [0, 1, 32, 63, WORDS - 1] {
        assert_eq!(m.read(window(k)), (r.mem[k], Resp::Okay), "window {k}");
    }
    m.assert_idle();
}

#[test]
fn window_writes_then_reads_return_the_data() {
    let mut m = master("window_writes_then_reads", Timing::FAST);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    for timing in TIMINGS {
        m.timing = timing;
        let picks: Vec<usize> = (0..150)
            .map(|_| m.rng.range(0, WORDS as i64 - 1) as usize)
            .collect();
        for &k in &picks {
            let v = m.rng.next_u64() as u32;
            assert_eq!(m.write(window(k), v), Resp::Okay);
            r.mem[k] = v;
        }
        // A partial strobe is refused and writes nothing.
        let k = picks[0];
        assert_eq!(m.write_strobed(window(k), !r.mem[k], 0b0011), Resp::SlvErr);
        for &k in picks.iter().rev() {
            assert_eq!(m.read(window(k)), (r.mem[k], Resp::Okay), "window {k}");
        }
    }
    m.assert_idle();
}

#[test]
fn write_and_read_in_flight_together_share_the_memory_port() {
    let mut m = master("write_and_read_together", Timing::FAST);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    set_reg_in(&mut m, &mut r);
    for k in 0..WORDS {
        r.mem[k] = m.rng.next_u64() as u32;
        assert_eq!(m.write(window(k), r.mem[k]), Resp::Okay);
    }
    for timing in TIMINGS {
        m.timing = timing;
        for _ in 0..200 {
            let wk = m.rng.range(0, WORDS as i64 - 1) as usize;
            let rk = (wk + m.rng.range(1, WORDS as i64 - 1) as usize) % WORDS;
            let op = WriteOp {
                addr: window(wk),
                data: m.rng.next_u64() as u32,
                strb: 0xF,
            };
            // Window read beside a window write, or a register read beside it.
            let raddr = if m.rng.chance(0.7) {
                window(rk)
            } else {
                4 * m.rng.range(0, (TEST_N_RW + TEST_N_RO) as i64 - 1) as u64
            };
            let want = r.read(raddr);
            let (b, rd) = m.transact(Some(op), Some(raddr));
            assert_eq!(b, Some(Resp::Okay));
            assert_eq!(rd, Some(want), "read {raddr:#x} beside write {op:x?}");
            r.write(op);
        }
    }
    m.assert_idle();
}

#[test]
fn reset_in_the_middle_of_a_transaction_leaves_the_slave_idle_and_usable() {
    let mut m = master("reset_mid_transaction", Timing::RANDOM);
    let mut rng = Rng::new(m.rng.next_u64());
    for after in 0..14u64 {
        for what in 0..4 {
            let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
            set_reg_in(&mut m, &mut r);
            let reg = 4 * rng.range(0, TEST_N_RW as i64 - 1) as u64;
            let win = window(rng.range(0, WORDS as i64 - 1) as usize);
            let op = |addr| WriteOp {
                addr,
                data: 0x5A5A_0000 | after as u32,
                strb: 0xF,
            };
            let mut f = match what {
                0 => m.start(Some(op(reg)), None),
                1 => m.start(Some(op(win)), None),
                2 => m.start(None, Some(win)),
                _ => m.start(Some(op(win)), Some(reg)),
            };
            for _ in 0..after {
                m.cycle(&mut f);
            }
            m.reset(2);
            // Idle: ready for AW, W and AR, no response pending, registers cleared.
            let md = &mut m.model;
            assert!(
                md.get_bool("awready") && md.get_bool("wready") && md.get_bool("arready"),
                "not ready after reset ({after} cycles, case {what})"
            );
            assert!(!md.get_bool("bvalid") && !md.get_bool("rvalid"));
            assert_eq!(reg_out(&mut m), vec![0; TEST_N_RW]);
            // Usable: the aborted addresses work as usual.
            for addr in [reg, win] {
                let v = rng.next_u64() as u32;
                assert_eq!(m.write(addr, v), Resp::Okay);
                r.write(op(addr));
                r.write(WriteOp {
                    addr,
                    data: v,
                    strb: 0xF,
                });
                assert_eq!(m.read(addr), r.read(addr), "{addr:#x} after reset");
            }
            m.assert_idle();
        }
    }
}

#[test]
fn long_random_sequence_matches_the_reference_model() {
    long_random_sequence(master("long_random_sequence", Timing::RANDOM));
}

/// The same with the window RAM behind a register stage and the slave
/// waiting two cycles for its read data (`with_mem_read_latency(2)`, as
/// `drq_top`'s buffer window): the same answers, in the same order.
#[test]
fn long_random_sequence_with_a_registered_memory_matches_the_reference_model() {
    long_random_sequence(master_of(
        &axil_staged_design(&AccelConfig::default()),
        "long_random_sequence_with_a_registered_memory",
        Timing::RANDOM,
    ));
}

fn long_random_sequence(mut m: AxilMaster) {
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    set_reg_in(&mut m, &mut r);
    let mut strobes = vec![0u64; TEST_N_RW];
    let timings = [
        Timing::FAST,
        Timing::RANDOM,
        Timing::BACKPRESSURE,
        Timing {
            max_valid_delay: 12,
            ready_prob: 0.8,
        },
        // BREADY / RREADY low for about 100 cycles at a time.
        Timing {
            max_valid_delay: 0,
            ready_prob: 0.01,
        },
    ];
    // Addresses: registers, the window (a small hot set, so values are
    // re-read and overwritten), unmapped ones, and unaligned ones.
    let addr = |rng: &mut Rng| -> u64 {
        let a = match rng.range(0, 9) {
            0..=2 => 4 * rng.range(0, 63) as u64,
            3..=5 => window(rng.range(0, 31) as usize),
            6 | 7 => window(rng.range(0, WORDS as i64 - 1) as usize),
            8 => rng.range(0, (1 << 24) - 1) as u64 & !3,
            _ => window(rng.range(WORDS as i64 - 4, WORDS as i64 + 4) as usize),
        };
        if rng.chance(0.1) {
            a | rng.range(1, 3) as u64
        } else {
            a
        }
    };
    for n in 0..3000 {
        if n % 250 == 0 {
            m.timing = timings[(n / 250) % timings.len()];
        }
        if m.rng.chance(0.02) {
            set_reg_in(&mut m, &mut r);
        }
        let strb = if m.rng.chance(0.85) {
            0xF
        } else {
            m.rng.range(0, 15) as u8
        };
        let wa = addr(&mut m.rng);
        let op = WriteOp {
            addr: wa,
            data: m.rng.next_u64() as u32,
            strb,
        };
        let ra = addr(&mut m.rng);
        let kind = m.rng.range(0, 2);
        let (write, read) = match kind {
            0 => (Some(op), None),
            1 => (None, Some(ra)),
            _ => (Some(op), Some(ra)),
        };
        // A read in flight with a write to the same word may see either value.
        let before = r.read(ra);
        let (b, rd) = m.transact(write, read);
        if let Some(op) = write {
            let want = r.write(op);
            assert_eq!(b, Some(want), "op {n}: write {op:x?}");
            if want == Resp::Okay {
                if let Target::Rw(k) = r.decode(op.addr) {
                    strobes[k] += 1;
                }
            }
        }
        if let Some(ra) = read {
            let after = r.read(ra);
            let got = rd.unwrap();
            assert!(
                got == after || (write.is_some() && got == before),
                "op {n}: read {ra:#x} gave {got:x?}, expected {after:x?}"
            );
        }
        if n % 50 == 0 {
            assert_eq!(reg_out(&mut m), r.rw, "op {n}: reg_out");
        }
    }
    m.idle(3);
    assert_eq!(reg_out(&mut m), r.rw);
    assert_eq!(m.strobe_counts, strobes);
    for k in 0..32 {
        assert_eq!(m.read(window(k)), (r.mem[k], Resp::Okay));
    }
    m.assert_idle();
    let c = m.coverage;
    eprintln!("{} cycles, {c:?}", m.model.cycles());
    assert!(
        c.aw_first > 100 && c.w_first > 100 && c.aw_w_together > 100,
        "{c:?}"
    );
    assert!(
        c.b_stalls > 1000 && c.r_stalls > 1000 && c.overlapped > 1000,
        "{c:?}"
    );
}

/// The cycle counts of `docs/axil.md` with a master that never waits:
/// write 3 cycles, register read 3, window read 4, a window read beside a
/// window write 5 (the write has the memory port first); `write_strobe`
/// pulses in the BVALID cycle, with `reg_out` already new.
#[test]
fn documented_cycle_counts_and_strobe_timing() {
    let mut m = master("documented_cycle_counts", Timing::FAST);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    set_reg_in(&mut m, &mut r);
    let cycles = |m: &mut AxilMaster, w: Option<WriteOp>, rd: Option<u64>| {
        let t = m.model.cycles();
        m.transact(w, rd);
        m.model.cycles() - t
    };
    let op = |addr, data| WriteOp {
        addr,
        data,
        strb: 0xF,
    };
    assert_eq!(cycles(&mut m, Some(op(8, 7)), None), 3, "register write");
    assert_eq!(cycles(&mut m, None, Some(8)), 3, "register read");
    assert_eq!(cycles(&mut m, None, Some(0x44)), 3, "RO read");
    assert_eq!(
        cycles(&mut m, Some(op(window(5), 9)), None),
        3,
        "window write"
    );
    assert_eq!(cycles(&mut m, None, Some(window(5))), 4, "window read");
    assert_eq!(
        cycles(&mut m, Some(op(window(6), 1)), Some(window(5))),
        5,
        "window read beside a window write"
    );
    assert_eq!(
        cycles(&mut m, Some(op(12, 1)), Some(window(5))),
        4,
        "window read beside a register write"
    );
    // Strobe timing, for every RW register.
    for k in 0..TEST_N_RW {
        let data = m.rng.next_u64() as u32;
        let mut f = m.start(Some(op(4 * k as u64, data)), None);
        let mut seen = 0;
        for _ in 0..4 {
            m.cycle(&mut f);
            let bvalid = m.last.bvalid;
            assert_eq!(m.last_strobe, u64::from(bvalid) << k, "register {k}");
            if bvalid {
                seen += 1;
                assert_eq!(reg_out(&mut m)[k], data);
            }
        }
        assert_eq!(seen, 1);
    }
    m.assert_idle();
}

/// Several transactions outstanding (the next AW, W and AR offered while
/// earlier ones are unanswered): bursts of writes and reads to registers,
/// the window and unmapped addresses, every timing, equal to the
/// reference model in order; the slave must hold the later ones off.
#[test]
fn pipelined_bursts_match_the_reference_model() {
    let mut m = master("pipelined_bursts", Timing::FAST);
    let mut r = AxilRef::new(TEST_N_RW, TEST_N_RO, WORDS);
    set_reg_in(&mut m, &mut r);
    for timing in TIMINGS {
        m.timing = timing;
        for _ in 0..20 {
            let n = m.rng.range(1, 12) as usize;
            let addr = |rng: &mut Rng| -> u64 {
                match rng.range(0, 5) {
                    0 | 1 => 4 * rng.range(0, (TEST_N_RW + TEST_N_RO) as i64) as u64,
                    2..=4 => window(rng.range(0, 15) as usize),
                    _ => 0x800,
                }
            };
            let ops: Vec<WriteOp> = (0..n)
                .map(|_| WriteOp {
                    addr: addr(&mut m.rng),
                    data: m.rng.next_u64() as u32,
                    strb: if m.rng.chance(0.8) {
                        0xF
                    } else {
                        m.rng.range(0, 15) as u8
                    },
                })
                .collect();
            let want: Vec<Resp> = ops.iter().map(|&op| r.write(op)).collect();
            let (got, _) = m.transact_many(&ops, &[]);
            assert_eq!(got, want, "write burst {ops:x?}");
            let reads: Vec<u64> = (0..n).map(|_| addr(&mut m.rng)).collect();
            let want: Vec<(u32, Resp)> = reads.iter().map(|&a| r.read(a)).collect();
            let (_, got) = m.transact_many(&[], &reads);
            assert_eq!(got, want, "read burst {reads:x?}");
        }
    }
    m.assert_idle();
    assert!(
        m.coverage.pipelined > 100,
        "only {} cycles offered a transaction behind an unanswered one",
        m.coverage.pipelined
    );
}
