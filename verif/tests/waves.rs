//! `drq waves`: the dump of a layer whose precision switches holds the spec
//! section 6 signals and drq_mode_high toggles within the layer; the
//! GTKWave save file names signals of the dump; the picture shows both modes.

use drq_arch::AccelConfig;
use drq_verif::vcd::Vcd;
use drq_verif::waves::{run_demo, CTRL_SCOPE, SPEC_SIGNALS};

fn cfg() -> AccelConfig {
    drq_verif::regress::cfg_4x4()
}

#[test]
fn the_dump_shows_the_precision_switching_region_by_region() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_demo(&cfg(), dir.path()).unwrap();
    let text = std::fs::read_to_string(&run.vcd).unwrap();
    let watch: Vec<String> = SPEC_SIGNALS
        .iter()
        .map(|s| format!("{CTRL_SCOPE}.{s}"))
        .collect();
    let refs: Vec<&str> = watch.iter().map(String::as_str).collect();
    let vcd = Vcd::parse(&text, &refs).unwrap();
    for w in &watch {
        assert!(vcd.find(w).is_some(), "{w} is not in the dump");
    }
    // drq_mode_high rises and falls within the layer, more than once.
    let mode = vcd.changes_of(".ctrl.drq_mode_high").unwrap();
    let rises = mode
        .windows(2)
        .filter(|p| p[0].1 == 0 && p[1].1 == 1)
        .count();
    let falls = mode
        .windows(2)
        .filter(|p| p[0].1 == 1 && p[1].1 == 0)
        .count();
    assert!(rises >= 2 && falls >= 2, "{rises} rises, {falls} falls");
    // The tokens read from the dump: both modes, in every tile the golden
    // count (HIGH steps take tokens_per_high_step tokens each).
    let c = &run.hw.counters;
    let high = run.tokens.iter().filter(|t| t.high).count() as u64;
    let low = run.tokens.len() as u64 - high;
    assert_eq!(high, c.steps_high * cfg().tokens_per_high_step() as u64);
    assert_eq!(low, c.steps_low);
    assert!(c.steps_high > 0 && c.steps_low > 0);
    // The mask has both kinds of region.
    assert!(run.hw.mask_in.data.iter().any(|&b| b) && run.hw.mask_in.data.iter().any(|&b| !b));
    // Every signal the save file names is in the dump.
    let gtkw = std::fs::read_to_string(&run.gtkw).unwrap();
    let paths: Vec<&str> = gtkw.lines().filter(|l| l.starts_with("drq_top.")).collect();
    assert!(paths.len() >= SPEC_SIGNALS.len());
    let all = Vcd::parse(&text, &[]).unwrap();
    for p in paths {
        let name = p.split('[').next().unwrap();
        assert!(
            all.vars.iter().any(|v| v.path == name),
            "{name} not in the dump"
        );
    }
    assert!(gtkw.contains("[dumpfile] \"waves.vcd\"") && gtkw.contains("[color]"));
    // The picture has both colours in the map and in the timeline.
    let svg = std::fs::read_to_string(&run.svg).unwrap();
    for class in ["sens", "insens", "high", "low"] {
        assert!(svg.contains(&format!("class=\"{class}\"")), "{class}");
    }
    // Nothing partial is left.
    assert!(!dir.path().join(".waves.vcd.partial").exists());
}

/// With a row queue (`out_rows` 8) the dump shows the array taking the next
/// tiles' tokens while the output stage still writes earlier elements: more
/// cycles carry both a token and a write than without the queue (80 against
/// 56 on the demonstration layer at 8565237), and the layer ends sooner;
/// every output is written once either way.
#[test]
fn the_row_queue_overlaps_tokens_and_writes_in_the_dump() {
    let overlap = |out_rows: u32| {
        let cfg = AccelConfig { out_rows, ..cfg() };
        let dir = tempfile::tempdir().unwrap();
        let run = run_demo(&cfg, dir.path()).unwrap();
        let outputs = run.hw.y.data.len();
        assert_eq!(run.writes.len(), outputs, "out_rows {out_rows}");
        let svg = std::fs::read_to_string(&run.svg).unwrap();
        assert_eq!(svg.matches("class=\"write\"").count(), outputs);
        let both = run
            .tokens
            .iter()
            .filter(|t| run.writes.binary_search(&t.cycle).is_ok())
            .count();
        (both, run.hw.counters.cycles_total)
    };
    let (both_1, cycles_1) = overlap(1);
    let (both_8, cycles_8) = overlap(8);
    assert!(
        both_8 > both_1,
        "cycles with a token and a write: {both_8} with the queue, {both_1} without"
    );
    assert!(cycles_8 < cycles_1, "{cycles_8} >= {cycles_1}");
}
