//! The data reader on the real files, the committed model (no training
//! here), and the evaluation schemes on the first 500 test images.

use drq_arch::AccelConfig;
use drq_golden::network::{run_network, Network};
use drq_model::data::{read_idx, Dataset, Split, PIXELS};
use drq_model::eval::{evaluate, scheme_network, Scheme, SchemeResult};
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
