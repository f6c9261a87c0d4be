//! The data reader on the real files, the committed model (no training
//! here), and the evaluation schemes on the first 500 test images: their
//! per-layer tallies and the outlier scheme matched to DRQ's share of
//! high-precision multiply-accumulates.

use drq_arch::AccelConfig;
use drq_golden::layer::Layer;
use drq_golden::network::{run_network, Network};
use drq_golden::tensor::Mask;
use drq_model::data::{read_idx, Dataset, Split, PIXELS};
use drq_model::eval::{
    evaluate, evaluate_outlier, match_outlier, scheme_network, LayerTally, Scheme, SchemeResult,
    MATCH_TOLERANCE, OUTLIER_FRACTION,
};
use drq_model::float::{FloatModel, FLOAT_FILE};
use drq_model::quant::{image_map, run_int8, thresholds};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fashion")
}

fn test500() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| Dataset::load(Split::Test).unwrap().take(500))
}

fn committed(cfg: &AccelConfig) -> (Network, FloatModel) {
    let net = Network::load(&model_dir().join("network.json"), cfg).unwrap();
    let float = FloatModel::load(&model_dir().join(FLOAT_FILE)).unwrap();
    (net, float)
}

fn quiet() -> impl Fn(usize, usize) + Sync {
    |_, _| {}
}

fn run(scheme: Scheme, cfg: &AccelConfig) -> SchemeResult {
    let (net, float) = committed(cfg);
    evaluate(&net, &float, test500(), scheme, cfg, &quiet())
}

#[test]
fn idx_reader_on_the_real_files() {
    let dir = drq_model::data::data_dir();
    let im = read_idx(&dir.join("train-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(im.dims, vec![60000, 28, 28]);
    let lb = read_idx(&dir.join("train-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(lb.dims, vec![60000]);
    // First labels of the files (Ankle boot, T-shirt, T-shirt, Dress, ...).
    assert_eq!(lb.data[..10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    let train = Dataset::load(Split::Train).unwrap();
    let calib = Dataset::load(Split::Calibration).unwrap();
    let test = Dataset::load(Split::Test).unwrap();
    assert_eq!((train.len(), calib.len(), test.len()), (55000, 5000, 10000));
    assert_eq!(test.labels[..10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // The calibration set is the tail of the training file.
    assert_eq!(calib.labels[..], lb.data[55000..]);
    assert_eq!(calib.images[0][..], im.data[55000 * PIXELS..55001 * PIXELS]);
    // First image's pixel sum and maximum, read from the file.
    let first: u32 = train.images[0].iter().map(|&p| u32::from(p)).sum();
    assert_eq!(
        (first, *train.images[0].iter().max().unwrap()),
        (76247, 255)
    );
}

#[test]
fn missing_folder_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Dataset::load_from(&dir.path().join("nope"), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(e.contains("apt-get install dataset-fashion-mnist"), "{e}");
    assert!(
        e.contains("make deps") && e.contains("DRQ_FASHION_MNIST"),
        "{e}"
    );
    assert!(e.contains("t10k-images-idx3-ubyte.gz"), "{e}");
    // A file that is not IDX names the file.
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), b"junk").unwrap();
    let e = read_idx(&dir.path().join("t10k-images-idx3-ubyte"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t10k-images-idx3-ubyte") && e.contains("not an IDX file"),
        "{e}"
    );
}

#[test]
fn committed_network_loads_and_chains() {
    let cfg = AccelConfig::default();
    let (net, float) = committed(&cfg);
    assert_eq!(net.layers.len(), 4);
    let last = &net.layers[3].layer;
    assert_eq!(
        (last.c_out, last.ho(), last.wo(), last.kernel),
        (10, 1, 1, 7)
    );
    let t = thresholds(&net);
    assert_eq!(t[0], 0, "first layer at INT8");
    for i in 0..3 {
        assert_eq!(net.layers[i].layer.next_threshold, Some(t[i + 1]));
    }
    assert_eq!(float.layers.len(), 4);
    // The float file round-trips.
    let dir = tempfile::tempdir().unwrap();
    float.save(&dir.path().join(FLOAT_FILE)).unwrap();
    assert_eq!(
        FloatModel::load(&dir.path().join(FLOAT_FILE)).unwrap(),
        float
    );
}

#[test]
fn direct_int8_equals_the_golden_model() {
    let cfg = AccelConfig::default();
    let (net, _) = committed(&cfg);
    let int8 = scheme_network(&net, Scheme::Int8, &cfg);
    for img in &test500().images[..5] {
        let x = image_map(img);
        let runs = run_network(&cfg, &int8, &x, None).unwrap();
        let direct = run_int8(&cfg, &net, &x);
        for (r, (acc, y)) in runs.iter().zip(&direct) {
            assert_eq!(&r.acc, acc);
            assert_eq!(&r.y, y);
        }
    }
}

#[test]
fn int8_tracks_float_and_int4_is_worse() {
    let cfg = AccelConfig::default();
    let float = run(Scheme::Float, &cfg);
    let int8 = run(Scheme::Int8, &cfg);
    let int4 = run(Scheme::Int4, &cfg);
    eprintln!(
        "500 images: float {:.1} %, int8 {:.1} %, int4 {:.1} %",
        float.accuracy, int8.accuracy, int4.accuracy
    );
    assert_eq!(float.images, 500);
    assert!(float.cycles.is_none() && int8.cycles.is_some());
    assert!(int8.accuracy > 80.0, "int8 {}", int8.accuracy);
    assert!(
        (int8.accuracy - float.accuracy).abs() <= 2.0,
        "int8 {} vs float {}",
        int8.accuracy,
        float.accuracy
    );
    assert!(
        int4.accuracy < int8.accuracy,
        "int4 {} int8 {}",
        int4.accuracy,
        int8.accuracy
    );
    assert!(int4.cycles < int8.cycles);
    assert!(int8.sensitive_fraction_per_layer.iter().all(|&f| f == 1.0));
    assert!(int4.sensitive_fraction_per_layer.iter().all(|&f| f == 0.0));
}

#[test]
fn drq_is_faster_than_int8_and_deterministic() {
    let cfg = AccelConfig::default();
    let int8 = run(Scheme::Int8, &cfg);
    let a = run(Scheme::Drq, &cfg);
    let b = run(Scheme::Drq, &cfg);
    eprintln!(
        "500 images: drq {:.1} %, speedup {:.3}",
        a.accuracy,
        int8.cycles.unwrap() as f64 / a.cycles.unwrap() as f64
    );
    assert!(
        a.cycles < int8.cycles,
        "drq {:?} int8 {:?}",
        a.cycles,
        int8.cycles
    );
    let same = |r: &SchemeResult| (r.correct, r.cycles, r.sensitive_fraction_per_layer.clone());
    assert_eq!(same(&a), same(&b));
    // First layer at INT8 (threshold 0); the calibrated others below
    // INT8, at least one of them mixed (sensitive and insensitive regions).
    assert_eq!(a.sensitive_fraction_per_layer[0], 1.0);
    let rest = &a.sensitive_fraction_per_layer[1..];
    assert!(rest.iter().all(|&f| f < 1.0), "{rest:?}");
    assert!(rest.iter().any(|&f| f > 0.0 && f < 1.0), "{rest:?}");
}

#[test]
fn outlier_scheme_keeps_about_three_percent_and_is_deterministic() {
    let cfg = AccelConfig::default();
    let a = run(Scheme::Outlier, &cfg);
    let b = run(Scheme::Outlier, &cfg);
    assert_eq!((a.correct, a.cycles), (b.correct, b.cycles));
    assert!(a.cycles.is_none());
    for &f in &a.sensitive_fraction_per_layer {
        assert!((0.03..0.031).contains(&f), "{f}");
    }
}

/// (inputs in sensitive regions, MACs, MACs whose input is in a sensitive
/// region) of one layer run, by direct loops over the convolution (spec
/// §3.2: input (c, y, x) takes mask[c][y / R][x / R]; padding reads no
/// input).
fn direct_count(layer: &Layer, mask: &Mask, r: usize) -> (u64, u64, u64) {
    let (c_in, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
    let (k, st, p) = (
        layer.kernel as usize,
        layer.stride as usize,
        layer.padding as isize,
    );
    let sens = |c: usize, y: usize, x: usize| mask.at(c, y / r, x / r);
    let mut inputs = 0;
    for c in 0..c_in {
        for y in 0..h {
            for x in 0..w {
                inputs += u64::from(sens(c, y, x));
            }
        }
    }
    let (mut macs, mut high) = (0u64, 0u64);
    for _oc in 0..layer.c_out {
        for oh in 0..layer.ho() as usize {
            for ow in 0..layer.wo() as usize {
                for c in 0..c_in {
                    for ki in 0..k {
                        for kj in 0..k {
                            let y = (oh * st + ki) as isize - p;
                            let x = (ow * st + kj) as isize - p;
                            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                                continue;
                            }
                            macs += 1;
                            high += u64::from(sens(c, y as usize, x as usize));
                        }
                    }
                }
            }
        }
    }
    (inputs, macs, high)
}

#[test]
fn per_layer_tallies_are_fractions_consistent_with_the_counters() {
    let cfg = AccelConfig::default();
    let (net, float) = committed(&cfg);
    let n = 100u64;
    let data = test500().take(n as usize);
    let run = |s: Scheme| evaluate(&net, &float, &data, s, &cfg, &quiet());
    let (int8, int4, drq) = (run(Scheme::Int8), run(Scheme::Int4), run(Scheme::Drq));
    let tau = u64::from(cfg.tokens_per_high_step());
    let r = u64::from(cfg.region);
    for res in [&int8, &int4, &drq] {
        assert_eq!(res.layers.len(), net.layers.len());
        for (l, (t, nl)) in res.layers.iter().zip(&net.layers).enumerate() {
            let g = &nl.layer;
            let fractions = [
                t.region_fraction(),
                t.input_fraction(),
                t.mac_share(),
                t.high_step_fraction(),
            ];
            assert!(
                fractions.iter().all(|f| (0.0..=1.0).contains(f)),
                "{:?} layer {l}: {fractions:?}",
                res.scheme
            );
            // Spec §5.1: CT * PT * L steps per image, each HIGH or LOW.
            let steps = u64::from(g.c_out.div_ceil(cfg.cols))
                * u64::from(g.ho().div_ceil(g.tile_h) * g.wo().div_ceil(g.tile_w))
                * u64::from(g.c_in * g.kernel * g.kernel);
            assert_eq!(t.steps_high + t.steps_low, n * steps, "layer {l}");
            assert_eq!(t.token_cycles, tau * t.steps_high + t.steps_low);
            let (c, h, w) = (u64::from(g.c_in), u64::from(g.h), u64::from(g.w));
            assert_eq!(t.regions, n * c * h.div_ceil(r) * w.div_ceil(r));
            assert_eq!(t.inputs, n * c * h * w);
            assert_eq!(res.sensitive_fraction_per_layer[l], t.region_fraction());
            assert!(t.inputs_high <= t.inputs && t.macs_high <= t.macs);
            // Full regions only: R * R inputs per sensitive region.
            if h % r == 0 && w % r == 0 {
                assert_eq!(t.inputs_high, t.regions_sensitive * r * r, "layer {l}");
            }
            // The same MACs in every scheme.
            assert_eq!(t.macs, int8.layers[l].macs);
        }
        let cycles: u64 = res.layers.iter().map(|t| t.cycles_total).sum();
        assert_eq!(Some(cycles), res.cycles);
        let share = LayerTally::sum(&res.layers).mac_share();
        assert_eq!(res.high_mac_share, Some(share));
    }
    for t in &int8.layers {
        assert_eq!(
            (t.regions_sensitive, t.inputs_high, t.macs_high),
            (t.regions, t.inputs, t.macs)
        );
    }
    for t in &int4.layers {
        assert_eq!(
            (
                t.regions_sensitive,
                t.inputs_high,
                t.macs_high,
                t.steps_high
            ),
            (0, 0, 0, 0)
        );
    }
    let share = drq.high_mac_share.unwrap();
    assert!(share > 0.0 && share < 1.0, "{share}");
    // Lockstep: a layer with some sensitive inputs runs a larger share of
    // HIGH steps than of sensitive regions (layer 2, 4x4 tiles at stride 2).
    let l2 = &drq.layers[2];
    if l2.regions_sensitive > 0 && l2.regions_sensitive < l2.regions {
        assert!(l2.high_step_fraction() > l2.region_fraction(), "{l2:?}");
    }
    // Against a direct count on the first three images.
    let few = data.take(3);
    let d3 = evaluate(&net, &float, &few, Scheme::Drq, &cfg, &quiet());
    let snet = scheme_network(&net, Scheme::Drq, &cfg);
    let mut want = vec![LayerTally::default(); net.layers.len()];
    for img in &few.images {
        let runs = run_network(&cfg, &snet, &image_map(img), None).unwrap();
        for ((run, nl), t) in runs.iter().zip(&snet.layers).zip(&mut want) {
            let (inputs, macs, high) = direct_count(&nl.layer, &run.mask_in, r as usize);
            t.inputs_high += inputs;
            t.macs += macs;
            t.macs_high += high;
            t.steps_high += run.counters.steps_high;
            t.cycles_total += run.counters.cycles_total;
        }
    }
    for (got, want) in d3.layers.iter().zip(&want) {
        let pick = |t: &LayerTally| {
            (
                t.inputs_high,
                t.macs,
                t.macs_high,
                t.steps_high,
                t.cycles_total,
            )
        };
        assert_eq!(pick(got), pick(want));
    }
}

#[test]
fn matched_outlier_does_drqs_share_of_high_precision_macs() {
    let cfg = AccelConfig::default();
    let (net, float) = committed(&cfg);
    let n = 300;
    let data = test500().take(n);
    let drq = evaluate(&net, &float, &data, Scheme::Drq, &cfg, &quiet());
    let target = drq.high_mac_share.unwrap();
    let m = match_outlier(&net, &data, &cfg, target, n, &|l| eprintln!("{l}"));
    let (f, share) = (
        m.result.outlier_fraction.unwrap(),
        m.result.high_mac_share.unwrap(),
    );
    eprintln!(
        "{n} images: drq share {target:.4}, {:.2} %; outlier at {f:.4}: share {share:.4}, {:.2} %",
        drq.accuracy, m.result.accuracy
    );
    assert!(
        (share - target).abs() <= MATCH_TOLERANCE,
        "share {share} target {target}"
    );
    assert_eq!((m.search_images, m.result.images), (n, n));
    assert_eq!(m.search_share(), share);
    assert!(f > OUTLIER_FRACTION && f < 1.0, "{f}");
    // Every layer keeps ceil(f n) of its n input activations per image.
    for (t, nl) in m.result.layers.iter().zip(&net.layers) {
        let inputs = u64::from(nl.layer.c_in * nl.layer.h * nl.layer.w);
        let kept = (f * inputs as f64).ceil() as u64;
        assert_eq!(t.inputs_high, n as u64 * kept);
    }
    // The fixed 3 % row does less high-precision work.
    let fixed = evaluate(&net, &float, &data, Scheme::Outlier, &cfg, &quiet());
    assert!(fixed.high_mac_share.unwrap() < share);
    // Searching on a prefix: within tolerance there, and the reported row
    // is the whole set at the fraction found.
    let m2 = match_outlier(&net, &data, &cfg, target, 100, &|_| {});
    assert_eq!((m2.search_images, m2.result.images), (100, n));
    assert!((m2.search_share() - target).abs() <= MATCH_TOLERANCE);
    let f2 = m2.result.outlier_fraction.unwrap();
    let again = evaluate_outlier(&net, &data, &cfg, f2, &quiet());
    assert_eq!(
        (again.correct, &again.layers),
        (m2.result.correct, &m2.result.layers)
    );
}
