//! `drq coverage` (`drq_verif::coverage`): a tiny coverage run of the
//! smallest configuration (1x1: its coverage model builds in the least
//! time), its report's structure and numbers; and the phase
//! timeline the functional cover points rest on, against the phase the
//! hardware itself reports in STATUS.

use drq_arch::regs::{phase, reg};
use drq_golden::rng::{test_seed, Rng};
use drq_golden::run_layer;
use drq_verif::axil_bfm::Timing;
use drq_verif::coverage::{parse_dat, phase_at, run_coverage, run_timeline, CoverageOptions};
use drq_verif::driver::{Accelerator, START_LATENCY};
use drq_verif::regress::{make_case, quick_configs, BusTiming, Sensitivity};
use drq_verif::sim::SimOptions;

/// Two regression cases of 1x1-r2-acc16 on the coverage model: every part of
/// the report is there and the numbers are real (some lines covered, not
/// all; toggles counted; cover points of any run hit, the timeline
/// confirmed by every completed run).
#[test]
fn coverage_tiny_run_reports_lines_toggles_and_cover_points() {
    let seed = test_seed("coverage_tiny_run_reports_lines_toggles_and_cover_points");
    let tiny = quick_configs()
        .into_iter()
        .find(|c| c.name == "1x1-r2-acc16")
        .expect("the 1x1 configuration");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("coverage");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let opts = CoverageOptions {
        out: out.clone(),
        seed,
        cases_per_config: 2,
        configs: vec![tiny.clone()],
        // Toggles of the signals up to 32 bits: the model builds in
        // seconds (every toggle of the 64-bit words: minutes).
        toggle_max_width: Some(32),
    };
    let r = run_coverage(&opts, &mut |l| eprintln!("{l}")).unwrap();
    assert_eq!(r.failures(), 0, "{:#?}", r.cases);
    assert_eq!(r.cases.len(), 2);
    assert_eq!(r.configs.len(), 1);
    let c = &r.configs[0];
    // Real numbers: many lines, most but not all covered.
    assert!(c.code.lines.total > 1000, "{:?}", c.code.lines);
    assert!(c.code.lines.covered > c.code.lines.total / 2);
    assert!(c.code.lines.covered < c.code.lines.total);
    assert_eq!(
        c.code.uncovered.len() as u64,
        c.code.lines.total - c.code.lines.covered
    );
    assert!(
        c.code.toggles.total > 1_000 && c.code.toggles.covered > 0,
        "{:?}",
        c.code.toggles
    );
    assert!(c.code.toggles.covered < c.code.toggles.total);
    assert!(c.code.branches.covered > 0 && c.code.branches.covered <= c.code.branches.total);
    for b in [
        "array",
        "axil",
        "buffers",
        "controller",
        "output_stage",
        "predictor",
        "regfile",
        "top",
    ] {
        let v = &c.code.blocks[b];
        assert!(v.lines.total > 0, "{b}: no lines");
        assert!(v.lines.covered > 0, "{b}: nothing covered");
    }
    // The per-block figures add up to the configuration's.
    let sum: u64 = c.code.blocks.values().map(|b| b.lines.covered).sum();
    assert_eq!(sum, c.code.lines.covered);
    assert_eq!(r.total_lines, c.code.lines);
    // Every uncovered line is a line of the Verilog, named with its block.
    let verilog = drq_hdl::top::top_design(&tiny.cfg).verilog;
    let text: Vec<&str> = verilog.lines().collect();
    for u in &c.code.uncovered {
        assert_eq!(text[u.line as usize - 1].trim(), u.text);
        assert_eq!(u.block, drq_verif::mutate::block_of(&u.module));
    }
    // Every run has steps and tiles; the top padding is read exactly
    // when a case's layer is padded (its first tile row reads row -P).
    let p = r.point("step.low_after_low").unwrap();
    assert!(p.hit && p.count > 0, "{p:?}");
    let padded = r
        .cases
        .iter()
        .any(|c| make_case(&tiny, c.case_seed).layer.padding > 0);
    let p = r.point("padding.top").unwrap();
    assert_eq!(p.hit, padded, "{p:?}");
    // The host holds responses back while idle exactly when a case's bus
    // timing lets it (a fast bus takes every response at once).
    let backpressure = r
        .cases
        .iter()
        .any(|c| make_case(&tiny, c.case_seed).timing != BusTiming::Fast);
    let idle_stalls = r.point("stall.idle").unwrap();
    assert_eq!(idle_stalls.hit, backpressure, "{idle_stalls:?}");
    assert_eq!(r.cover_points.len(), 32);
    assert_eq!(
        r.cover_points_hit,
        r.cover_points.iter().filter(|p| p.hit).count()
    );
    assert!(r.timeline_checks >= 2, "{}", r.timeline_checks);
    assert!(
        r.timeline_mismatches.is_empty(),
        "{:?}",
        r.timeline_mismatches
    );
    // The files: the report, the merged database, the folder's other files kept.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["configs"][0]["lines"]["covered"], c.code.lines.covered);
    assert_eq!(json["toggle_max_width"], 32);
    assert!(json["cover_points"].as_array().unwrap().len() == 32);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Per block") && md.contains("## Uncovered lines"));
    assert!(md.contains("at most 32 bits wide"), "{md}");
    assert!(md.contains("`stall.pout_wait`") && md.contains("`reset.conv`"));
    let dat = std::fs::read_to_string(out.join(format!("dat/{}.dat", tiny.name))).unwrap();
    let points = parse_dat(&dat).unwrap();
    assert!(points.iter().any(|p| p.count > 0));
    assert!(!out.join("raw").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
}

/// The phases `run_timeline` derives from the golden cycle formula, anchored
/// START_LATENCY cycles after the start command's handshake, are the phases
/// the hardware walks: STATUS read back to back during runs with every
/// optional phase (fast bus: a read every few cycles, its phase that of
/// the cycle the read was issued in).
#[test]
fn phase_timeline_matches_status_phase_of_the_hardware() {
    let seed = test_seed("phase_timeline_matches_status_phase_of_the_hardware");
    let nc = &quick_configs()[0];
    let mut acc = Accelerator::new(&nc.cfg, &SimOptions::default(), 0, Timing::FAST).unwrap();
    let mut rng = Rng::new(seed);
    let mut runs = 0;
    let mut seen = [false; 10];
    let mut multi_cycle = [false; 10];
    // Phases one of whose segments is at least as long as the largest gap
    // between two STATUS samples of its run: a sample must fall in it.
    let mut must_see = [false; 10];
    while runs < 3 {
        let case = make_case(nc, rng.next_u64() >> 11);
        if case.sensitivity != Sensitivity::Some || case.layer.next_threshold.is_none() {
            continue;
        }
        runs += 1;
        let gold = run_layer(&nc.cfg, &case.layer, &case.data).unwrap();
        let ct = gold.counters.cycles_total;
        let tl = run_timeline(&nc.cfg, &case.layer, case.run_phases(), ct);
        for seg in tl.iter().filter(|s| s.len > 1) {
            multi_cycle[seg.phase as usize] = true;
        }
        let predict_in = acc.load_layer(&case.layer, &case.data);
        assert!(predict_in);
        acc.write_reg(reg::MODE, reg::MODE_PREDICT_IN | reg::MODE_PREDICT_OUT);
        // Idle cycles shift the reads against the phases from run to run.
        acc.bus.idle(runs);
        acc.write_reg(reg::CMD, reg::CMD_START);
        let first = acc.bus.last_write_cycle + START_LATENCY;
        let (mut prev, mut gap) = (None::<u64>, 0u64);
        loop {
            let c = acc.bus.model.cycles();
            if let Some(p) = prev {
                gap = gap.max(c - p);
            }
            prev = Some(c);
            let status = acc.read_reg(reg::STATUS);
            let got = u64::from(status >> 8 & 0xF);
            let want = if c < first {
                phase::IDLE
            } else {
                phase_at(&tl, c - first)
            };
            assert_eq!(
                got,
                want,
                "case {} (seed {seed}): STATUS at run cycle {} says phase {got}, the timeline {want}",
                case.case_seed,
                c as i64 - first as i64
            );
            seen[got as usize] = true;
            if status & 2 != 0 {
                break;
            }
        }
        for seg in tl.iter().filter(|s| s.len >= gap) {
            must_see[seg.phase as usize] = true;
        }
        acc.write_reg(reg::CMD, reg::CMD_CLEAR);
    }
    // Every phase with a segment at least as long as its run's largest
    // sampling gap was sampled (a shorter one, like the streaming
    // predictor's 2-cycle POUT_WAIT, may fall between two reads; the
    // streaming predictor of `4x4-r2-ov-sp` has no POUT_START or
    // POUT_CLEAR), and the timelines have more than idle and the layer.
    for (p, s) in seen.iter().enumerate() {
        if must_see[p] {
            assert!(s, "phase {p} never read");
        }
    }
    assert!(multi_cycle[phase::PIN_SCAN as usize] && multi_cycle[phase::POUT_WAIT as usize]);
}
