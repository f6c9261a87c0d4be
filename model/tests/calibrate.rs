//! Calibration (greedy per-layer T, s, sw under an accuracy budget) on a
//! small part of the calibration split, and the report's table and SVGs.
//!
//! The full run (2000 calibration images, default candidates, then the
//! test set) is `drq calibrate` / `make calibrate` (docs/model.md).

use drq_arch::AccelConfig;
use drq_golden::network::Network;
use drq_model::calibrate::{apply, calibrate, CalibrateOptions, Calibration};
use drq_model::data::{Dataset, Split};
use drq_model::eval::{
    evaluate, evaluate_scaled, match_outlier, report_json, ComparedDrq, Scheme, SchemeResult,
};
use drq_model::float::{FloatModel, FLOAT_FILE};
use drq_model::report::{
    budget_sweep_svg, markdown_table, region_maps_svg, EvalReport, PointKind, PAPER_SPEEDUP,
};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fashion")
}

fn net(cfg: &AccelConfig) -> Network {
    Network::load(&model_dir().join("network.json"), cfg).unwrap()
}

fn float() -> FloatModel {
    FloatModel::load(&model_dir().join(FLOAT_FILE)).unwrap()
}

fn calib300() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| Dataset::load(Split::Calibration).unwrap().take(300))
}

fn small(budget: f64) -> CalibrateOptions {
    CalibrateOptions {
        budget_pp: budget,
        thresholds: vec![0, 8, 16, 32, 64],
        shifts: vec![(4, 4), (3, 3)],
        ..CalibrateOptions::default()
    }
}

fn run(budget: f64) -> Calibration {
    let cfg = AccelConfig::default();
    calibrate(&net(&cfg), calib300(), &cfg, &small(budget), &|_| {}).unwrap()
}

fn budget1() -> &'static Calibration {
    static C: OnceLock<Calibration> = OnceLock::new();
    C.get_or_init(|| run(1.0))
}

/// Everything but the wall-clock time.
fn key(c: &Calibration) -> Calibration {
    Calibration {
        seconds: 0.0,
        ..c.clone()
    }
}

#[test]
fn budget_one_stays_in_budget_first_layer_int8_deterministic() {
    let c = budget1();
    eprint!("{}", c.summary());
    assert_eq!(c.images, 300);
    assert!(c.keep_first_int8 && c.layers[0].threshold == 0);
    // Loss within 1 pp of the 300 images: at most 3 more wrong.
    assert!(c.loss_pp() <= 1.0 + 1e-9, "loss {}", c.loss_pp());
    assert!(c.int8_correct as i64 - c.correct as i64 <= 3);
    assert!(c.cycles <= c.int8_cycles && c.speedup >= 1.0);
    assert!(!c.moves.is_empty(), "the budget allows at least one move");
    // Moves only raise thresholds, and cycles only fall.
    let mut last = c.int8_cycles;
    for m in &c.moves {
        assert!(m.threshold > m.from_threshold && m.layer > 0);
        assert!(m.cycles < last);
        last = m.cycles;
    }
    assert_eq!(last, c.cycles);
    // Deterministic.
    assert_eq!(key(&run(1.0)), key(c));
}

#[test]
fn calibrated_network_matches_evaluate_and_round_trips() {
    let cfg = AccelConfig::default();
    let base = net(&cfg);
    let c = budget1();
    let cal = apply(&base, c);
    for (i, (nl, ch)) in cal.layers.iter().zip(&c.layers).enumerate() {
        assert_eq!(
            (nl.layer.threshold, nl.layer.low_shift, nl.layer.w_low_shift),
            (ch.threshold, ch.low_shift, ch.w_low_shift)
        );
        if i + 1 < cal.layers.len() {
            assert_eq!(nl.layer.next_threshold, Some(c.layers[i + 1].threshold));
        }
        // Weights, bias and requantisation untouched.
        assert_eq!(nl.weights, base.layers[i].weights);
        assert_eq!(nl.bias, base.layers[i].bias);
        assert_eq!(nl.layer.requant_mult, base.layers[i].layer.requant_mult);
    }
    // evaluate() agrees with the search's own accounting.
    let quiet = |_: usize, _: usize| {};
    let f = float();
    let drq = evaluate(&cal, &f, calib300(), Scheme::Drq, &cfg, &quiet);
    assert_eq!((drq.correct, drq.cycles), (c.correct, Some(c.cycles)));
    let int8 = evaluate(&cal, &f, calib300(), Scheme::Int8, &cfg, &quiet);
    assert_eq!(
        (int8.correct, int8.cycles),
        (c.int8_correct, Some(c.int8_cycles))
    );
    // Saved and loaded, the values stay.
    let dir = tempfile::tempdir().unwrap();
    let path = cal.save(&cfg, dir.path()).unwrap();
    assert_eq!(Network::load(&path, &cfg).unwrap(), cal);
}

#[test]
fn unlimited_budget_is_at_least_as_fast() {
    let c1 = budget1();
    let c100 = run(100.0);
    eprintln!(
        "speedup: budget 1 {:.3} ({:.2} %), budget 100 {:.3} ({:.2} %)",
        c1.speedup, c1.accuracy, c100.speedup, c100.accuracy
    );
    assert!(c100.speedup >= c1.speedup);
    assert_eq!(c100.layers[0].threshold, 0);
}

/// Started outside the budget (every layer INT4), the search first changes
/// one layer at a time, each change getting more images right, until the
/// network fits; then it only speeds up within the budget.
#[test]
fn a_start_outside_the_budget_is_brought_into_it() {
    let cfg = AccelConfig::default();
    let int4 = drq_model::quant::with_thresholds(&net(&cfg), &[256, 256, 256, 256]);
    let start = evaluate(&int4, &float(), calib300(), Scheme::Drq, &cfg, &|_, _| {});
    let opts = CalibrateOptions {
        start_from_network: true,
        keep_first_int8: false,
        ..small(1.0)
    };
    let c = calibrate(&int4, calib300(), &cfg, &opts, &|_| {}).unwrap();
    eprint!("{}", c.summary());
    // 300 images: one is 1/3 of a point; the budget allows 3 fewer than INT8.
    let correct = |accuracy: f64| (accuracy * 3.0).round() as i64;
    let fits = |n: i64| c.int8_correct as i64 - n <= 3;
    assert!(
        !fits(start.correct as i64),
        "INT4 everywhere is outside the budget"
    );
    let mut last = start.accuracy;
    for m in &c.moves {
        if fits(correct(last)) {
            break;
        }
        assert!(
            m.accuracy > last,
            "each change towards the budget gains: {m:?}"
        );
        last = m.accuracy;
    }
    assert!(fits(c.correct as i64), "ends within the budget");
    assert!(c.cycles < c.int8_cycles);
}

/// The joint phase (pairs of layers, one T up and one down) keeps the
/// budget and is never slower than the greedy search it starts from.
#[test]
fn joint_search_keeps_the_budget_and_is_never_slower() {
    let cfg = AccelConfig::default();
    let opts = CalibrateOptions {
        joint: true,
        ..small(1.0)
    };
    let j = calibrate(&net(&cfg), calib300(), &cfg, &opts, &|_| {}).unwrap();
    let g = budget1();
    eprintln!("greedy {:.3}, joint {:.3}", g.speedup, j.speedup);
    assert!(j.joint && !g.joint);
    assert!(j.cycles <= g.cycles);
    assert!(j.int8_correct as i64 - j.correct as i64 <= 3);
    // The greedy moves come first, unchanged.
    assert_eq!(j.moves[..g.moves.len()], g.moves[..]);
    for pair in j.moves[g.moves.len()..].chunks(2) {
        assert_eq!(pair.len(), 2, "a joint move changes two layers");
        assert!(pair[0].threshold > pair[0].from_threshold);
        assert!(pair[1].threshold < pair[1].from_threshold);
        assert!(pair[0].layer != pair[1].layer && pair[0].layer > 0 && pair[1].layer > 0);
    }
}

/// A reference that gets more images right than the network's own INT8
/// tightens the budget: the result stays within it of the reference; one
/// that gets fewer right is ignored.
#[test]
fn a_reference_int8_tightens_the_budget() {
    let cfg = AccelConfig::default();
    let g = budget1();
    let reference = g.int8_correct + 2;
    let opts = CalibrateOptions {
        reference_int8_correct: Some(reference),
        ..small(1.0)
    };
    let r = calibrate(&net(&cfg), calib300(), &cfg, &opts, &|_| {}).unwrap();
    assert_eq!(r.reference_int8_correct, Some(reference));
    assert!(
        reference as i64 - r.correct as i64 <= 3,
        "{} correct",
        r.correct
    );
    // A reference below the network's own INT8 changes nothing.
    let lower = CalibrateOptions {
        reference_int8_correct: Some(g.int8_correct - 5),
        ..small(1.0)
    };
    let l = calibrate(&net(&cfg), calib300(), &cfg, &lower, &|_| {}).unwrap();
    assert_eq!(l.layers, g.layers);
    assert_eq!((l.correct, l.cycles), (g.correct, g.cycles));
}

/// Starting from the network's thresholds, the greedy search only raises
/// them (the committed network's T = 16 is a candidate even when the list
/// lacks it).
#[test]
fn the_search_can_start_from_the_networks_thresholds() {
    let cfg = AccelConfig::default();
    let base = net(&cfg);
    let opts = CalibrateOptions {
        start_from_network: true,
        thresholds: vec![0, 8, 64],
        ..small(100.0)
    };
    let c = calibrate(&base, calib300(), &cfg, &opts, &|_| {}).unwrap();
    for (ch, nl) in c.layers.iter().zip(&base.layers) {
        assert!(ch.threshold >= nl.layer.threshold);
    }
    let first = &c.moves[0];
    assert_eq!(
        first.from_threshold, base.layers[first.layer].layer.threshold,
        "the first move starts from the network's threshold"
    );
}

#[test]
fn bad_options_are_rejected() {
    let cfg = AccelConfig::default();
    let n = net(&cfg);
    let d = calib300().take(5);
    let e = calibrate(
        &n,
        &d,
        &cfg,
        &CalibrateOptions {
            shifts: vec![(5, 4)],
            ..small(1.0)
        },
        &|_| {},
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("s = 5"), "{e:#}");
    assert!(calibrate(&n, &d, &cfg, &small(-1.0), &|_| {}).is_err());
    assert!(calibrate(&n, &d.take(0), &cfg, &small(1.0), &|_| {}).is_err());
}

/// Tags balance (a small XML check: every opening tag is closed in order).
fn assert_balanced(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').expect("tag closed") + i;
        let tag = &rest[i + 1..j];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "closing {name}");
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            stack.push(tag.split_whitespace().next().unwrap().to_string());
        }
        // Text between tags has no stray '<' or '>'.
        rest = &rest[j + 1..];
        let next = rest.find('<').unwrap_or(rest.len());
        assert!(!rest[..next].contains('>'), "stray '>'");
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
}

#[test]
fn region_maps_svg_has_one_cell_per_region() {
    for region in [4u32, 2] {
        let cfg = AccelConfig::from_raw(&drq_arch::config::RawAccelConfig {
            region: Some(region.into()),
            ..Default::default()
        })
        .unwrap();
        let n = net(&cfg);
        let img = Dataset::load(Split::Test).unwrap().images[0];
        let svg = region_maps_svg(&n, &img, &cfg).unwrap();
        assert_balanced(&svg);
        let r = region;
        let want: u32 = n
            .layers
            .iter()
            .map(|l| l.layer.c_in * l.layer.h.div_ceil(r) * l.layer.w.div_ceil(r))
            .sum();
        assert_eq!(svg.matches(r#"class="cell""#).count() as u32, want);
        assert_eq!(svg.matches(r#"class="px""#).count(), 784);
        for (l, nl) in n.layers.iter().enumerate() {
            assert!(svg.contains(&format!("layer {l} input")));
            assert!(svg.contains(&format!("T = {}", nl.layer.threshold)));
        }
    }
}

#[test]
fn budget_sweep_svg_is_balanced_and_labelled() {
    let pts = [(0.5, 89.1, 1.12), (1.0, 88.7, 1.2), (2.0, 87.9, 1.3)];
    let svg = budget_sweep_svg(&pts, (89.5, 1.0), (85.5, 1.51));
    assert_balanced(&svg);
    for s in ["0.5 pp", "1 pp", "2 pp", "INT8", "INT4", "speedup", "top-1"] {
        assert!(svg.contains(s), "{s}");
    }
    assert_eq!(svg.matches("<circle").count(), 3 + 1); // points + legend
                                                       // One point, equal values: still a valid picture.
    assert_balanced(&budget_sweep_svg(
        &[(1.0, 89.0, 1.0)],
        (89.0, 1.0),
        (89.0, 1.0),
    ));
}

#[test]
fn markdown_table_has_a_row_per_scheme() {
    let cfg = AccelConfig::default();
    let n = net(&cfg);
    let f = float();
    let test = Dataset::load(Split::Test).unwrap().take(100);
    let results: Vec<_> = Scheme::ALL
        .iter()
        .map(|&s| evaluate(&n, &f, &test, s, &cfg, &|_, _| {}))
        .collect();
    let t = markdown_table(&results, cfg.region);
    eprint!("{t}");
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 2 + 5);
    assert!(lines[0].contains("speedup vs int8") && lines[0].contains("R = 4"));
    assert!(lines[0].contains("high-precision MACs"));
    for (line, s) in lines[2..].iter().zip(Scheme::ALL) {
        assert!(line.starts_with(&format!("| {} |", s.name())), "{line}");
        assert_eq!(line.matches('|').count(), 7, "{line}");
    }
    assert!(lines[3].contains("| 1.000 | 100 % |") && lines[3].ends_with("| 1, 1, 1, 1 |"));
    assert!(lines[4].ends_with("| 0 % | 0, 0, 0, 0 |"));
    assert!(lines[2].contains("| - | - | - | - |"), "{}", lines[2]);
}

/// `drq eval`'s report on the first `n` test images: every scheme, the
/// outlier matched to DRQ (searched on all `n`), DRQ at T x 0.5 and x 2.
fn eval_report(n: usize) -> EvalReport {
    let cfg = AccelConfig::default();
    let (network, f) = (net(&cfg), float());
    let test = Dataset::load(Split::Test).unwrap().take(n);
    let quiet = |_: usize, _: usize| {};
    let results: Vec<SchemeResult> = Scheme::ALL
        .iter()
        .map(|&s| evaluate(&network, &f, &test, s, &cfg, &quiet))
        .collect();
    let drq = results.iter().find(|r| r.scheme == Scheme::Drq).unwrap();
    let target = drq.high_mac_share.unwrap();
    let matched = match_outlier(&network, &test, &cfg, target, n, &|_| {});
    let scaled = [0.5, 2.0]
        .iter()
        .map(|&k| evaluate_scaled(&network, &f, &test, &cfg, k, &quiet))
        .collect();
    EvalReport {
        per_region: vec![report_json(&results, cfg.region)],
        results,
        region: cfg.region,
        array_rows: cfg.rows,
        array_cols: cfg.cols,
        pe: cfg.pe,
        out_rows: cfg.out_rows,
        out_lanes: cfg.out_lanes,
        overlap: cfg.overlap,
        stream_predictor: cfg.stream_predictor,
        row_taps: cfg.row_taps,
        burst_readout: cfg.burst_readout,
        layers: network.layers.iter().map(|nl| nl.layer).collect(),
        matched: Some(matched),
        scaled,
        compared: vec![],
    }
}

/// `drq eval --compare`: the fine-tuned model's DRQ on the same machine
/// and images is one row of the ablation table, one purple point, and one
/// entry of report.json's "compared", its speedup against its own INT8.
#[test]
fn the_ablation_lists_each_compared_model() {
    let cfg = AccelConfig::default();
    let dir = model_dir().with_file_name("fashion-drq");
    let net = Network::load(&dir.join("network.json"), &cfg).unwrap();
    let f = FloatModel::load(&dir.join(FLOAT_FILE)).unwrap();
    let test = Dataset::load(Split::Test).unwrap().take(100);
    let quiet = |_: usize, _: usize| {};
    let c = ComparedDrq {
        label: "fine-tuned".into(),
        model: "model/fashion-drq".into(),
        thresholds: drq_model::quant::thresholds(&net),
        int8: evaluate(&net, &f, &test, Scheme::Int8, &cfg, &quiet),
        result: evaluate(&net, &f, &test, Scheme::Drq, &cfg, &quiet),
    };
    let speedup = c.int8.cycles.unwrap() as f64 / c.result.cycles.unwrap() as f64;
    assert!(speedup > 1.0);
    let mut r = report100().clone();
    r.compared = vec![c];
    let md = r.markdown();
    let table: Vec<&str> = md
        .split("## Ablation")
        .nth(1)
        .expect("an ablation section")
        .lines()
        .filter(|l| l.starts_with("| fine-tuned |"))
        .collect();
    assert_eq!(table.len(), 1, "{md}");
    // step, model, T, top-1, loss, its INT8, speedup, and per layer the
    // regions sensitive, inputs in sensitive regions and HIGH steps.
    assert_eq!(table[0].matches('|').count(), 11, "{}", table[0]);
    assert!(
        table[0].contains(&format!("| {speedup:.3}x |")),
        "{}",
        table[0]
    );
    let json = r.json();
    assert_eq!(json["compared"].as_array().unwrap().len(), 1);
    assert_eq!(json["compared"][0]["speedup"].as_f64().unwrap(), speedup);
    let pts = r.speedup_points();
    let p = pts.iter().find(|p| p.kind == PointKind::Compared).unwrap();
    assert_eq!((p.label.as_str(), p.speedup), ("fine-tuned", speedup));
    let svg = r.accuracy_speedup_svg().unwrap();
    assert_balanced(&svg);
    assert!(group(&svg, "schemes").contains(">fine-tuned</text>"));
}

fn report100() -> &'static EvalReport {
    static R: OnceLock<EvalReport> = OnceLock::new();
    R.get_or_init(|| eval_report(100))
}

/// The text of the first `<g class="{class}">` group.
fn group<'a>(svg: &'a str, class: &str) -> &'a str {
    let start = svg
        .find(&format!(r#"<g class="{class}""#))
        .unwrap_or_else(|| panic!("group {class}"));
    let end = svg[start..].find("</g>").unwrap() + start;
    &svg[start..end]
}

#[test]
fn accuracy_speedup_svg_is_deterministic_with_a_point_per_scheme_with_cycles() {
    let a = report100();
    let svg = a.accuracy_speedup_svg().unwrap();
    // A second, independent evaluation gives the same bytes.
    let b = eval_report(100).accuracy_speedup_svg().unwrap();
    assert!(svg.as_bytes() == b.as_bytes(), "two runs differ");
    assert_balanced(&svg);
    // int8, int4, drq and the two scaled thresholds; not float or outlier.
    let points = group(&svg, "schemes");
    assert_eq!(points.matches("<title>").count(), 5);
    for label in ["int8", "int4", "drq", "T x 0.5", "T x 2"] {
        assert!(points.contains(&format!(">{label}</text>")), "{label}");
    }
    assert!(!points.contains("outlier") && !points.contains("float"));
    // Speedups are int8 cycles over the scheme's.
    let cycles = |s: Scheme| {
        a.results
            .iter()
            .find(|r| r.scheme == s)
            .unwrap()
            .cycles
            .unwrap() as f64
    };
    let pts = a.speedup_points();
    let drq = pts.iter().find(|p| p.kind == PointKind::Drq).unwrap();
    assert_eq!(drq.speedup, cycles(Scheme::Int8) / cycles(Scheme::Drq));
    assert_eq!(
        pts.iter()
            .find(|p| p.kind == PointKind::Int8)
            .unwrap()
            .speedup,
        1.0
    );
    // The paper's diamond lies on the INT8 - 1 point line, and is labelled.
    let paper = group(&svg, "paper");
    let y = paper
        .split(r#"y1=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let diamond = paper.split(r#"<polygon points=""#).nth(1).unwrap();
    assert_eq!(diamond.matches(&format!(",{y} ")).count(), 1, "{diamond}");
    assert!(diamond.contains(&format!(",{y}\"")), "{diamond}");
    assert!(paper.contains(&format!("DRQ paper, {PAPER_SPEEDUP}x at &lt; 1 % loss")));
    assert!(svg.contains("y = this network's INT8 top-1"));
    // Drawn from the data: one point less, another picture.
    let mut fewer = a.clone();
    fewer.scaled.pop();
    assert_ne!(fewer.accuracy_speedup_svg().unwrap(), svg);
}

#[test]
fn eval_report_has_drq_per_layer_and_the_matched_outlier() {
    let r = report100();
    let md = r.markdown();
    eprint!("{md}");
    let m = r.matched.as_ref().unwrap();
    let f = m.result.outlier_fraction.unwrap();
    // The main table: five schemes, the matched outlier, two scaled rows.
    let main: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| scheme |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(main.len(), 2 + 5 + 1 + 2, "{main:?}");
    assert!(main[6].starts_with("| outlier (3 %) |"), "{}", main[6]);
    assert!(main[7].starts_with("| outlier, matched ("), "{}", main[7]);
    assert!(
        main[8].starts_with("| drq, T x 0.5 (T = 0, "),
        "{}",
        main[8]
    );
    // DRQ per layer: one row per layer and the total.
    let layers: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| layer |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(layers.len(), 2 + r.layers.len() + 1, "{layers:?}");
    assert!(layers.last().unwrap().starts_with("| all |"));
    assert!(layers[0].contains("regions sensitive") && layers[0].contains("HIGH steps"));
    // The matched section says which fraction and how.
    assert!(md.contains("## OLAccel-style outlier at equal work"));
    assert!(md.contains("Illinois method") && md.contains("equals DRQ's"));
    let shown: f64 = main[7]
        .split("matched (")
        .nth(1)
        .and_then(|t| t.split(" %)").next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((shown - 100.0 * f).abs() <= 0.005, "{} vs {f}", main[7]);
    assert!(md.contains("accuracy_speedup.svg") && md.contains("y = this network's INT8 top-1"));
    // report.json carries the same.
    let json = r.json();
    let drq = &json["drq"];
    assert_eq!(drq["per_layer"].as_array().unwrap().len(), r.layers.len());
    for l in drq["per_layer"].as_array().unwrap() {
        for k in [
            "regions_sensitive",
            "inputs_high",
            "high_steps",
            "high_mac_share",
        ] {
            let v = l[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} {v}");
        }
    }
    let jm = &json["outlier_matched"];
    assert_eq!(jm["outlier_fraction"].as_f64(), Some(f));
    assert_eq!(jm["target_share"].as_f64(), drq["high_mac_share"].as_f64());
    assert_eq!(json["drq_threshold_scales"].as_array().unwrap().len(), 2);
    assert_eq!(json["regions"].as_array().unwrap().len(), 1);
}
