//! An AXI4-Lite master bus-functional model over a Verilator [`Model`], a
//! protocol checker that watches every cycle, and a reference model of the
//! `drq_axil` address map (`docs/axil.md`).
//!
//! The master drives the ports `awvalid`/`awaddr`, `wvalid`/`wdata`/`wstrb`,
//! `bready`, `arvalid`/`araddr`, `rready` of the model and reads
//! `awready`, `wready`, `bvalid`/`bresp`, `arready`, `rvalid`/`rdata`/`rresp`.
//! Each valid it raises waits a random number of cycles first (AW and W
//! independently, so either may come first or both together), and BREADY and
//! RREADY are high with a given probability in each cycle, whether or not a
//! response is pending. Payloads carry random garbage while their valid is
//! low. Randomness is a seeded [`Rng`], so a printed seed replays a run.
//!
//! The checker asserts in every cycle: a valid (master's or slave's) never
//! drops before its handshake and its payload is stable meanwhile; BVALID only
//! after both the AW and W handshakes of a write not yet answered; RVALID
//! only after an AR handshake not yet answered; valids low during reset and
//! BVALID/RVALID low after a reset edge; and (at [`AxilMaster::assert_idle`])
//! exactly one response per request.

use crate::sim::{Model, PortId};
use drq_golden::rng::Rng;
use drq_hdl::axil::{ADDR_BITS, NUM_REGS, WINDOW_BASE};

/// BRESP / RRESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resp {
    Okay,
    ExOkay,
    SlvErr,
    DecErr,
}

impl Resp {
    pub fn from_bits(v: u64) -> Resp {
        match v & 3 {
            0 => Resp::Okay,
            1 => Resp::ExOkay,
            2 => Resp::SlvErr,
            _ => Resp::DecErr,
        }
    }
}

/// How the master paces its side of the handshakes.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Cycles before each AWVALID, WVALID and ARVALID is raised: uniform in
    /// 0..=max_valid_delay, drawn per channel and transaction.
    pub max_valid_delay: u32,
    /// Probability that BREADY (and RREADY) is high in a cycle.
    pub ready_prob: f64,
}

impl Timing {
    /// Valids at once, responses taken at once.
    pub const FAST: Timing = Timing {
        max_valid_delay: 0,
        ready_prob: 1.0,
    };
    /// Random gaps of up to 4 cycles, ready half of the time.
    pub const RANDOM: Timing = Timing {
        max_valid_delay: 4,
        ready_prob: 0.5,
    };
    /// Responses held off for about 20 cycles on average.
    pub const BACKPRESSURE: Timing = Timing {
        max_valid_delay: 3,
        ready_prob: 0.05,
    };
}

/// A write: byte address, data and byte strobes (bit k enables byte k).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOp {
    pub addr: u64,
    pub data: u32,
    pub strb: u8,
}

/// The AXI signals of one cycle, as the checker sees them (before the edge).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub rst: bool,
    pub awvalid: bool,
    pub awready: bool,
    pub awaddr: u64,
    pub wvalid: bool,
    pub wready: bool,
    pub wdata: u64,
    pub wstrb: u64,
    pub bvalid: bool,
    pub bready: bool,
    pub bresp: u64,
    pub arvalid: bool,
    pub arready: bool,
    pub araddr: u64,
    pub rvalid: bool,
    pub rready: bool,
    pub rdata: u64,
    pub rresp: u64,
}

/// AXI4-Lite rules, checked cycle by cycle.
#[derive(Debug, Default, Clone)]
pub struct Checker {
    prev: Option<Snapshot>,
    /// Handshakes seen since the last reset.
    pub aw: u64,
    pub w: u64,
    pub b: u64,
    pub ar: u64,
    pub r: u64,
    pub cycle: u64,
}

impl Checker {
    /// Check one cycle; `Err` names the broken rule.
    pub fn cycle(&mut self, s: &Snapshot) -> Result<(), String> {
        self.cycle += 1;
        let c = self.cycle;
        let prev = self.prev.replace(*s);
        if s.rst {
            if s.awvalid || s.wvalid || s.arvalid {
                return Err(format!("cycle {c}: master valid high during reset"));
            }
            if prev.is_some_and(|p| p.rst) && (s.bvalid || s.rvalid) {
                return Err(format!("cycle {c}: BVALID/RVALID high after a reset edge"));
            }
            (self.aw, self.w, self.b, self.ar, self.r) = (0, 0, 0, 0, 0);
            return Ok(());
        }
        if let Some(p) = prev {
            if p.rst {
                if s.bvalid || s.rvalid {
                    return Err(format!("cycle {c}: BVALID/RVALID high after reset"));
                }
            } else {
                let hold = |name: &str, pv: bool, pr: bool, v: bool, same: bool| {
                    if pv && !pr {
                        if !v {
                            return Err(format!(
                                "cycle {c}: {name}VALID dropped before its handshake"
                            ));
                        }
                        if !same {
                            return Err(format!(
                                "cycle {c}: {name} payload changed while VALID and not READY"
                            ));
                        }
                    }
                    Ok(())
                };
                hold("AW", p.awvalid, p.awready, s.awvalid, p.awaddr == s.awaddr)?;
                hold(
                    "W",
                    p.wvalid,
                    p.wready,
                    s.wvalid,
                    (p.wdata, p.wstrb) == (s.wdata, s.wstrb),
                )?;
                hold("B", p.bvalid, p.bready, s.bvalid, p.bresp == s.bresp)?;
                hold("AR", p.arvalid, p.arready, s.arvalid, p.araddr == s.araddr)?;
                hold(
                    "R",
                    p.rvalid,
                    p.rready,
                    s.rvalid,
                    (p.rdata, p.rresp) == (s.rdata, s.rresp),
                )?;
            }
        }
        if s.bvalid && !(self.aw > self.b && self.w > self.b) {
            return Err(format!(
                "cycle {c}: BVALID without a completed AW and W (AW {}, W {}, B {})",
                self.aw, self.w, self.b
            ));
        }
        if s.rvalid && self.ar <= self.r {
            return Err(format!(
                "cycle {c}: RVALID without a pending AR (AR {}, R {})",
                self.ar, self.r
            ));
        }
        self.aw += u64::from(s.awvalid && s.awready);
        self.w += u64::from(s.wvalid && s.wready);
        self.b += u64::from(s.bvalid && s.bready);
        self.ar += u64::from(s.arvalid && s.arready);
        self.r += u64::from(s.rvalid && s.rready);
        Ok(())
    }

    /// Every request answered exactly once.
    pub fn balanced(&self) -> Result<(), String> {
        if self.aw == self.w && self.w == self.b && self.ar == self.r {
            Ok(())
        } else {
            Err(format!(
                "unbalanced handshakes: AW {}, W {}, B {}, AR {}, R {}",
                self.aw, self.w, self.b, self.ar, self.r
            ))
        }
    }
}

#[derive(Debug)]
struct WriteJob {
    op: WriteOp,
    aw_wait: u32,
    w_wait: u32,
    resp: Option<Resp>,
}

#[derive(Debug)]
struct ReadJob {
    addr: u64,
    ar_wait: u32,
    resp: Option<(u32, Resp)>,
}

/// Transactions in flight: writes and reads in issue order. Each channel
/// (AW, W, AR) presents its oldest job not yet handshaken, so the next
/// write's AW and W may be offered while an earlier B is still pending
/// (up to [`MAX_OUTSTANDING`] unanswered per direction); responses are
/// matched to the oldest unanswered job.
#[derive(Debug, Default)]
pub struct Flight {
    writes: Vec<WriteJob>,
    reads: Vec<ReadJob>,
    /// Each channel handshakes its jobs in issue order, and responses come
    /// in issue order, so a count per channel is the index of its next job
    /// (the master's per-cycle work does not grow with the burst).
    aw_sent: usize,
    w_sent: usize,
    b_got: usize,
    ar_sent: usize,
    r_got: usize,
}

/// Unanswered writes (reads) the master lets be outstanding at once.
pub const MAX_OUTSTANDING: usize = 4;

/// The job a channel offers next: its oldest not yet handshaken
/// (`sent`), if the outstanding limit over the answered ones lets it.
fn next_job(len: usize, sent: usize, answered: usize) -> Option<usize> {
    (sent < len && sent < answered + MAX_OUTSTANDING).then_some(sent)
}

impl Flight {
    fn new(writes: Vec<WriteJob>, reads: Vec<ReadJob>) -> Flight {
        Flight {
            writes,
            reads,
            ..Flight::default()
        }
    }
    /// Every transaction answered.
    pub fn done(&self) -> bool {
        self.b_got == self.writes.len() && self.r_got == self.reads.len()
    }
    /// The response to the first write, once answered.
    pub fn write_resp(&self) -> Option<Resp> {
        self.writes.first().and_then(|w| w.resp)
    }
    /// The response to the first read, once answered.
    pub fn read_resp(&self) -> Option<(u32, Resp)> {
        self.reads.first().and_then(|r| r.resp)
    }
    fn next_aw(&self) -> Option<usize> {
        next_job(self.writes.len(), self.aw_sent, self.b_got)
    }
    fn next_w(&self) -> Option<usize> {
        next_job(self.writes.len(), self.w_sent, self.b_got)
    }
    fn next_ar(&self) -> Option<usize> {
        next_job(self.reads.len(), self.ar_sent, self.r_got)
    }
    /// The oldest unanswered write (read).
    fn oldest_write(&self) -> Option<usize> {
        (self.b_got < self.writes.len()).then_some(self.b_got)
    }
    fn oldest_read(&self) -> Option<usize> {
        (self.r_got < self.reads.len()).then_some(self.r_got)
    }
}

/// What the master has exercised (evidence that the orders and stalls occurred).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Writes whose AW handshake came before, after, or in the cycle of the W handshake.
    pub aw_first: u64,
    pub w_first: u64,
    pub aw_w_together: u64,
    /// Cycles with BVALID (RVALID) high and BREADY (RREADY) low.
    pub b_stalls: u64,
    pub r_stalls: u64,
    /// Cycles with a write and a read both in flight.
    pub overlapped: u64,
    /// Cycles in which AWVALID, WVALID or ARVALID carried a transaction
    /// while an earlier one of the same direction was unanswered.
    pub pipelined: u64,
}

/// When the master held a response back and when it reset the design, in
/// model cycles ([`crate::sim::Model::cycles`] during the cycle): the
/// record functional coverage maps onto the phases of a run
/// (`crate::coverage`). Kept only when [`AxilMaster::log`] is `Some`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusLog {
    /// Maximal runs `[first, last]` of cycles with BVALID && !BREADY or
    /// RVALID && !RREADY (the host back-pressuring the slave).
    pub stalls: Vec<(u64, u64)>,
    /// The first cycle of every reset the master drove.
    pub resets: Vec<u64>,
}

/// The AXI4-Lite ports of the design, resolved once (the master touches
/// each of them every cycle).
#[derive(Debug, Clone, Copy)]
struct BusPorts {
    awvalid: PortId,
    awready: PortId,
    awaddr: PortId,
    wvalid: PortId,
    wready: PortId,
    wdata: PortId,
    wstrb: PortId,
    bvalid: PortId,
    bready: PortId,
    bresp: PortId,
    arvalid: PortId,
    arready: PortId,
    araddr: PortId,
    rvalid: PortId,
    rready: PortId,
    rdata: PortId,
    rresp: PortId,
}

impl BusPorts {
    fn of(m: &Model) -> BusPorts {
        BusPorts {
            awvalid: m.port_id("awvalid"),
            awready: m.port_id("awready"),
            awaddr: m.port_id("awaddr"),
            wvalid: m.port_id("wvalid"),
            wready: m.port_id("wready"),
            wdata: m.port_id("wdata"),
            wstrb: m.port_id("wstrb"),
            bvalid: m.port_id("bvalid"),
            bready: m.port_id("bready"),
            bresp: m.port_id("bresp"),
            arvalid: m.port_id("arvalid"),
            arready: m.port_id("arready"),
            araddr: m.port_id("araddr"),
            rvalid: m.port_id("rvalid"),
            rready: m.port_id("rready"),
            rdata: m.port_id("rdata"),
            rresp: m.port_id("rresp"),
        }
    }
}

/// The AXI4-Lite master.
pub struct AxilMaster {
    /// Stalls and resets, when recording (`None`: not kept).
    pub log: Option<BusLog>,
    /// The cycle of the last write's final AW/W handshake (the slave takes
    /// the write at the end of this cycle).
    pub last_write_cycle: u64,
    pub coverage: Coverage,
    /// The signals of the last cycle observed, and its `write_strobe` bits
    /// (the low 64).
    pub last: Snapshot,
    pub last_strobe: u64,
    pub model: Model,
    pub rng: Rng,
    pub timing: Timing,
    pub checker: Checker,
    /// Pulses seen on each bit of `write_strobe` (if the design has one).
    pub strobe_counts: Vec<u64>,
    /// A transaction not answered within this many cycles fails.
    pub timeout: u64,
    /// The design's synchronous active-high reset input.
    reset_port: &'static str,
    ports: BusPorts,
}

impl AxilMaster {
    /// Wrap `model` (its AXI inputs idle) and reset it for 2 cycles.
    /// `write_strobes`: width of the design's `write_strobe` port (0: none).
    pub fn new(model: Model, seed: u64, timing: Timing, write_strobes: usize) -> AxilMaster {
        AxilMaster::with_reset_port(model, seed, timing, write_strobes, "rst")
    }

    /// [`AxilMaster::new`] for a design whose reset input is `reset_port`
    /// (a block cut out of a top: `reset`).
    pub fn with_reset_port(
        model: Model,
        seed: u64,
        timing: Timing,
        write_strobes: usize,
        reset_port: &'static str,
    ) -> AxilMaster {
        let ports = BusPorts::of(&model);
        let mut m = AxilMaster {
            log: None,
            last_write_cycle: 0,
            coverage: Coverage::default(),
            last: Snapshot::default(),
            last_strobe: 0,
            model,
            rng: Rng::new(seed),
            timing,
            checker: Checker::default(),
            strobe_counts: vec![0; write_strobes],
            timeout: 10_000,
            reset_port,
            ports,
        };
        m.reset(2);
        m
    }

    /// Synchronous reset for `n` cycles with every master valid low.
    pub fn reset(&mut self, n: u64) {
        if let Some(log) = &mut self.log {
            log.resets.push(self.model.cycles());
        }
        self.model.set_bool(self.reset_port, true);
        for _ in 0..n {
            self.drive_idle();
            self.model.eval();
            self.observe(true);
            self.model.tick(1);
        }
        self.model.set_bool(self.reset_port, false);
        self.model.eval();
    }

    fn drive_idle(&mut self) {
        let (m, p) = (&mut self.model, self.ports);
        for port in [p.awvalid, p.wvalid, p.arvalid, p.bready, p.rready] {
            m.set_bool_at(port, false);
        }
    }

    fn snapshot(&mut self, rst: bool) -> Snapshot {
        let (m, p) = (&mut self.model, self.ports);
        Snapshot {
            rst,
            awvalid: m.get_bool_at(p.awvalid),
            awready: m.get_bool_at(p.awready),
            awaddr: m.get_u64_at(p.awaddr),
            wvalid: m.get_bool_at(p.wvalid),
            wready: m.get_bool_at(p.wready),
            wdata: m.get_u64_at(p.wdata),
            wstrb: m.get_u64_at(p.wstrb),
            bvalid: m.get_bool_at(p.bvalid),
            bready: m.get_bool_at(p.bready),
            bresp: m.get_u64_at(p.bresp),
            arvalid: m.get_bool_at(p.arvalid),
            arready: m.get_bool_at(p.arready),
            araddr: m.get_u64_at(p.araddr),
            rvalid: m.get_bool_at(p.rvalid),
            rready: m.get_bool_at(p.rready),
            rdata: m.get_u64_at(p.rdata),
            rresp: m.get_u64_at(p.rresp),
        }
    }

    /// Check the current (evaluated) cycle and count strobe pulses.
    fn observe(&mut self, rst: bool) -> Snapshot {
        let s = self.snapshot(rst);
        if let Err(e) = self.checker.cycle(&s) {
            panic!("AXI protocol: {e}");
        }
        self.last = s;
        if !self.strobe_counts.is_empty() {
            let v = self.model.get("write_strobe");
            self.last_strobe = v.iter_u64_digits().next().unwrap_or(0);
            for (k, n) in self.strobe_counts.iter_mut().enumerate() {
                if v.bit(k as u64) {
                    *n += 1;
                }
            }
        }
        s
    }

    fn delay(&mut self) -> u32 {
        self.rng.range(0, i64::from(self.timing.max_valid_delay)) as u32
    }

    /// Start a write and/or a read (nothing else may be in flight).
    pub fn start(&mut self, write: Option<WriteOp>, read: Option<u64>) -> Flight {
        self.start_many(write.as_slice(), read.as_slice())
    }

    /// Start writes and reads, each direction in the given order, with up
    /// to [`MAX_OUTSTANDING`] of each unanswered at a time.
    pub fn start_many(&mut self, writes: &[WriteOp], reads: &[u64]) -> Flight {
        let writes = writes
            .iter()
            .map(|&op| WriteJob {
                op,
                aw_wait: self.delay(),
                w_wait: self.delay(),
                resp: None,
            })
            .collect();
        let reads = reads
            .iter()
            .map(|&addr| ReadJob {
                addr,
                ar_wait: self.delay(),
                resp: None,
            })
            .collect();
        Flight::new(writes, reads)
    }

    /// One clock cycle of the transactions in `f`.
    pub fn cycle(&mut self, f: &mut Flight) {
        let garbage = self.rng.next_u64();
        let (mut awvalid, mut wvalid, mut arvalid) = (false, false, false);
        let mut awaddr = garbage & ((1 << ADDR_BITS) - 1);
        let mut araddr = (garbage >> 24) & ((1 << ADDR_BITS) - 1);
        let (mut wdata, mut wstrb) = (garbage >> 32, (garbage >> 8) & 0xF);
        let (aw_job, w_job, ar_job) = (f.next_aw(), f.next_w(), f.next_ar());
        if let Some(w) = aw_job.map(|k| &f.writes[k]) {
            if w.aw_wait == 0 {
                awvalid = true;
                awaddr = w.op.addr;
            }
        }
        if let Some(w) = w_job.map(|k| &f.writes[k]) {
            if w.w_wait == 0 {
                wvalid = true;
                wdata = u64::from(w.op.data);
                wstrb = u64::from(w.op.strb);
            }
        }
        if let Some(r) = ar_job.map(|k| &f.reads[k]) {
            if r.ar_wait == 0 {
                arvalid = true;
                araddr = r.addr;
            }
        }
        let bready = self.rng.chance(self.timing.ready_prob);
        let rready = self.rng.chance(self.timing.ready_prob);
        let (m, p) = (&mut self.model, self.ports);
        m.set_bool_at(p.awvalid, awvalid);
        m.set_u64_at(p.awaddr, awaddr);
        m.set_bool_at(p.wvalid, wvalid);
        m.set_u64_at(p.wdata, wdata);
        m.set_u64_at(p.wstrb, wstrb);
        m.set_bool_at(p.bready, bready);
        m.set_bool_at(p.arvalid, arvalid);
        m.set_u64_at(p.araddr, araddr);
        m.set_bool_at(p.rready, rready);
        m.eval();
        let s = self.observe(false);
        if s.bvalid && s.bready {
            assert!(
                f.b_got < f.aw_sent.min(f.w_sent),
                "AXI protocol: B handshake without a write awaiting it"
            );
            f.writes[f.b_got].resp = Some(Resp::from_bits(s.bresp));
            f.b_got += 1;
        }
        if s.rvalid && s.rready {
            assert!(
                f.r_got < f.ar_sent,
                "AXI protocol: R handshake without a read awaiting it"
            );
            f.reads[f.r_got].resp = Some((s.rdata as u32, Resp::from_bits(s.rresp)));
            f.r_got += 1;
        }
        let cov = &mut self.coverage;
        cov.b_stalls += u64::from(s.bvalid && !s.bready);
        cov.r_stalls += u64::from(s.rvalid && !s.rready);
        if let Some(log) = &mut self.log {
            if (s.bvalid && !s.bready) || (s.rvalid && !s.rready) {
                let now = self.model.cycles();
                match log.stalls.last_mut() {
                    Some(last) if last.1 + 1 == now => last.1 = now,
                    _ => log.stalls.push((now, now)),
                }
            }
        }
        let (oldest_w, oldest_r) = (f.oldest_write(), f.oldest_read());
        cov.overlapped += u64::from(oldest_w.is_some() && oldest_r.is_some());
        let later = |job: Option<usize>, oldest: Option<usize>| matches!((job, oldest), (Some(j), Some(o)) if j > o);
        cov.pipelined += u64::from(
            (awvalid && later(aw_job, oldest_w))
                || (wvalid && later(w_job, oldest_w))
                || (arvalid && later(ar_job, oldest_r)),
        );
        let (aw_hs, w_hs) = (awvalid && s.awready, wvalid && s.wready);
        match (aw_job, w_job) {
            (Some(a), Some(b)) if a == b && aw_hs && w_hs => cov.aw_w_together += 1,
            (Some(a), Some(b)) if a == b && aw_hs => cov.aw_first += 1,
            (Some(a), Some(b)) if a == b && w_hs => cov.w_first += 1,
            _ => {}
        }
        // The cycle in which a write's last address or data handshake
        // happens (the slave takes the write at its end).
        let completes = |k: usize| {
            (aw_hs && aw_job == Some(k) && (k < f.w_sent || (w_hs && w_job == Some(k))))
                || (w_hs && w_job == Some(k) && k < f.aw_sent)
        };
        if aw_job.is_some_and(completes) || w_job.is_some_and(completes) {
            self.last_write_cycle = self.model.cycles();
        }
        if let Some(k) = aw_job {
            let w = &mut f.writes[k];
            w.aw_wait = w.aw_wait.saturating_sub(1);
            f.aw_sent += usize::from(aw_hs);
        }
        if let Some(k) = w_job {
            let w = &mut f.writes[k];
            w.w_wait = w.w_wait.saturating_sub(1);
            f.w_sent += usize::from(w_hs);
        }
        if let Some(k) = ar_job {
            let r = &mut f.reads[k];
            r.ar_wait = r.ar_wait.saturating_sub(1);
            f.ar_sent += usize::from(arvalid && s.arready);
        }
        self.model.tick(1);
    }

    /// Run a write and/or a read to completion; their responses.
    pub fn transact(
        &mut self,
        write: Option<WriteOp>,
        read: Option<u64>,
    ) -> (Option<Resp>, Option<(u32, Resp)>) {
        let (w, r) = self.transact_many(write.as_slice(), read.as_slice());
        (w.first().copied(), r.first().copied())
    }

    /// Run writes and reads to completion, several outstanding at a time
    /// ([`AxilMaster::start_many`]); their responses in order.
    pub fn transact_many(
        &mut self,
        writes: &[WriteOp],
        reads: &[u64],
    ) -> (Vec<Resp>, Vec<(u32, Resp)>) {
        let mut f = self.start_many(writes, reads);
        let mut n = 0;
        let limit = self.timeout * (1 + (writes.len() + reads.len()) as u64);
        while !f.done() {
            self.cycle(&mut f);
            n += 1;
            assert!(n < limit, "AXI transaction not answered: {f:?}");
        }
        (
            f.writes.iter().filter_map(|w| w.resp).collect(),
            f.reads.iter().filter_map(|r| r.resp).collect(),
        )
    }

    /// Full-word writes, pipelined.
    pub fn write_burst(&mut self, words: &[(u64, u32)]) -> Vec<Resp> {
        let ops: Vec<WriteOp> = words
            .iter()
            .map(|&(addr, data)| WriteOp {
                addr,
                data,
                strb: 0xF,
            })
            .collect();
        self.transact_many(&ops, &[]).0
    }

    /// Reads, pipelined.
    pub fn read_burst(&mut self, addrs: &[u64]) -> Vec<(u32, Resp)> {
        self.transact_many(&[], addrs).1
    }

    /// A full-word write.
    pub fn write(&mut self, addr: u64, data: u32) -> Resp {
        self.write_strobed(addr, data, 0xF)
    }

    pub fn write_strobed(&mut self, addr: u64, data: u32, strb: u8) -> Resp {
        self.transact(Some(WriteOp { addr, data, strb }), None)
            .0
            .expect("write response")
    }

    pub fn read(&mut self, addr: u64) -> (u32, Resp) {
        self.transact(None, Some(addr)).1.expect("read response")
    }

    /// Idle cycles (valids low, readies random).
    pub fn idle(&mut self, n: u64) {
        let mut f = Flight::default();
        for _ in 0..n {
            self.cycle(&mut f);
        }
    }

    /// No transaction pending on either side: every request answered once.
    pub fn assert_idle(&self) {
        if let Err(e) = self.checker.balanced() {
            panic!("AXI protocol: {e}");
        }
    }
}

/// The `drq_axil` address map in Rust (`docs/axil.md`): `n_rw` RW registers,
/// `n_ro` RO registers and a window of `mem.len()` words.
#[derive(Debug, Clone)]
pub struct AxilRef {
    pub rw: Vec<u32>,
    pub ro: Vec<u32>,
    pub mem: Vec<u32>,
}

/// What an address selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Rw(usize),
    Ro(usize),
    Mem(usize),
    Unmapped,
}

impl AxilRef {
    pub fn new(n_rw: usize, n_ro: usize, words: usize) -> AxilRef {
        AxilRef {
            rw: vec![0; n_rw],
            ro: vec![0; n_ro],
            mem: vec![0; words],
        }
    }

    /// The target of a byte address (the low two bits are ignored).
    pub fn decode(&self, addr: u64) -> Target {
        let a = addr & ((1 << ADDR_BITS) - 1) & !3;
        if a < 4 * u64::from(NUM_REGS) {
            let k = (a / 4) as usize;
            if k < self.rw.len() {
                Target::Rw(k)
            } else if k < self.rw.len() + self.ro.len() {
                Target::Ro(k - self.rw.len())
            } else {
                Target::Unmapped
            }
        } else if a >= WINDOW_BASE && a < WINDOW_BASE + 4 * self.mem.len() as u64 {
            Target::Mem(((a - WINDOW_BASE) / 4) as usize)
        } else {
            Target::Unmapped
        }
    }

    /// A write: RW registers merge the strobed bytes; the window takes only
    /// full-word writes; RO registers and unmapped addresses answer SLVERR.
    pub fn write(&mut self, op: WriteOp) -> Resp {
        let mask = (0..4)
            .filter(|k| op.strb >> k & 1 == 1)
            .fold(0u32, |m, k| m | 0xFF << (8 * k));
        match self.decode(op.addr) {
            Target::Rw(k) => {
                self.rw[k] = (self.rw[k] & !mask) | (op.data & mask);
                Resp::Okay
            }
            Target::Mem(k) if op.strb & 0xF == 0xF => {
                self.mem[k] = op.data;
                Resp::Okay
            }
            _ => Resp::SlvErr,
        }
    }

    pub fn read(&self, addr: u64) -> (u32, Resp) {
        match self.decode(addr) {
            Target::Rw(k) => (self.rw[k], Resp::Okay),
            Target::Ro(k) => (self.ro[k], Resp::Okay),
            Target::Mem(k) => (self.mem[k], Resp::Okay),
            Target::Unmapped => (0, Resp::SlvErr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_catches_a_dropped_valid_and_a_b_without_a_write() {
        let mut c = Checker::default();
        let s = Snapshot {
            awvalid: true,
            awaddr: 4,
            ..Snapshot::default()
        };
        c.cycle(&s).unwrap();
        let e = c.cycle(&Snapshot::default()).unwrap_err();
        assert!(e.contains("AWVALID dropped"), "{e}");
        let mut c = Checker::default();
        let e = c
            .cycle(&Snapshot {
                bvalid: true,
                ..Snapshot::default()
            })
            .unwrap_err();
        assert!(e.contains("BVALID without"), "{e}");
        let mut c = Checker::default();
        c.cycle(&Snapshot {
            rvalid: false,
            arvalid: true,
            arready: true,
            ..Snapshot::default()
        })
        .unwrap();
        c.cycle(&Snapshot {
            rvalid: true,
            rdata: 1,
            ..Snapshot::default()
        })
        .unwrap();
        let e = c
            .cycle(&Snapshot {
                rvalid: true,
                rdata: 2,
                ..Snapshot::default()
            })
            .unwrap_err();
        assert!(e.contains("R payload changed"), "{e}");
    }

    #[test]
    fn reference_decodes_the_map() {
        let mut r = AxilRef::new(16, 16, 1024);
        assert_eq!(r.decode(0x3C), Target::Rw(15));
        assert_eq!(r.decode(0x41), Target::Ro(0));
        assert_eq!(r.decode(0x80), Target::Unmapped);
        assert_eq!(r.decode(0x100), Target::Unmapped);
        assert_eq!(r.decode(0x10_0000), Target::Mem(0));
        assert_eq!(r.decode(0x10_0FFC), Target::Mem(1023));
        assert_eq!(r.decode(0x10_1000), Target::Unmapped);
        let op = |addr, data, strb| WriteOp { addr, data, strb };
        assert_eq!(r.write(op(4, 0xAABB_CCDD, 0b0101)), Resp::Okay);
        assert_eq!(r.rw[1], 0x00BB_00DD);
        assert_eq!(r.write(op(0x10_0004, 1, 0b0111)), Resp::SlvErr);
        assert_eq!(r.write(op(0x40, 1, 0xF)), Resp::SlvErr);
    }
}
