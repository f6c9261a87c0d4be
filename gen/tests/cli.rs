//! `drq golden` end to end on files, and every bad-input case: one clear
//! error naming what is wrong, a non-zero exit, and an untouched output folder.

use crate::common;

use drq_arch::AccelConfig;
use drq_golden::files::{save_layer_data, LayerFiles};
use drq_golden::network::{random_network, Network};
use drq_golden::npy::{DType, NpyArray};
use drq_golden::rng::{test_seed, Rng};
use drq_golden::tensor::Mask;
use drq_golden::{run_layer, Layer, LayerData};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LAYER: &str = r#"{ "c_in": 3, "c_out": 5, "h": 9, "w": 7, "kernel": 3, "stride": 2, "padding": 1,
  "threshold": 140, "low_shift": 4, "w_low_shift": 3, "requant_mult": 5, "requant_shift": 9,
  "tile_h": 2, "tile_w": 4, "next_threshold": 30 }"#;

struct Case {
    _dir: tempfile::TempDir,
    root: PathBuf,
    files: LayerFiles,
    data: LayerData,
}

fn setup() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let (files, data) = common::write_layer_inputs(&root, LAYER, 11);
    Case {
        _dir: dir,
        root,
        files,
        data,
    }
}

fn drq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drq"))
        .args(args)
        .output()
        .expect("run drq")
}

fn golden_args(c: &Case, out: &Path) -> Vec<String> {
    let p = |p: &Path| p.display().to_string();
    vec![
        "golden".into(),
        "--config".into(),
        p(&c.root.join("accel.toml")),
        "--layer".into(),
        p(&c.root.join("layer.json")),
        "--input".into(),
        p(&c.files.input),
        "--weights".into(),
        p(&c.files.weights),
        "--bias".into(),
        p(&c.files.bias),
        "--out".into(),
        p(out),
    ]
}

fn run(args: &[String]) -> Output {
    drq(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap_or_default(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn golden_end_to_end_on_files() {
    let c = setup();
    let out = c.root.join("out");
    let o = run(&golden_args(&c, &out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = AccelConfig {
        rows: 8,
        cols: 4,
        region: 2,
        ..AccelConfig::replicated()
    };
    let layer = Layer::load(&c.root.join("layer.json"), &cfg).unwrap();
    let want = run_layer(&cfg, &layer, &c.data).unwrap();
    let y = NpyArray::from_bytes(&std::fs::read(out.join("y.npy")).unwrap(), "y").unwrap();
    assert_eq!((y.dtype, y.shape.clone()), (DType::U8, vec![5, 5, 4]));
    assert_eq!(
        y.data,
        want.y
            .data
            .iter()
            .map(|&v| i64::from(v))
            .collect::<Vec<_>>()
    );
    let acc = NpyArray::from_bytes(&std::fs::read(out.join("acc.npy")).unwrap(), "acc").unwrap();
    assert_eq!(
        (acc.dtype, acc.data.clone()),
        (DType::I64, want.acc.clone())
    );
    let m_in = NpyArray::from_bytes(&std::fs::read(out.join("mask_in.npy")).unwrap(), "m").unwrap();
    assert_eq!(m_in.shape, vec![3, 5, 4]);
    assert_eq!(
        m_in.data,
        want.mask_in
            .data
            .iter()
            .map(|&b| i64::from(b))
            .collect::<Vec<_>>()
    );
    let m_out =
        NpyArray::from_bytes(&std::fs::read(out.join("mask_out.npy")).unwrap(), "m").unwrap();
    assert_eq!(m_out.shape, vec![5, 3, 2]);
    let counters: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("counters.json")).unwrap()).unwrap();
    assert_eq!(counters["steps_high"], want.counters.steps_high);
    assert_eq!(counters["steps_low"], want.counters.steps_low);
    assert_eq!(counters["token_cycles"], want.counters.token_cycles);
    assert_eq!(counters["tiles"], want.counters.tiles);
    assert_eq!(
        want.counters.tiles,
        2 * 3 * 1,
        "2 channel tiles x (3 x 1) pixel tiles"
    );

    // A given mask is used instead of the predicted one.
    let mask_path = c.root.join("m.npy");
    let all = Mask::filled(3, 5, 4, true);
    NpyArray::new(
        DType::U8,
        vec![3, 5, 4],
        all.data.iter().map(|&b| i64::from(b)).collect(),
    )
    .save(&mask_path)
    .unwrap();
    let mut args = golden_args(&c, &c.root.join("out2"));
    args.extend(["--mask".into(), mask_path.display().to_string()]);
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let counters: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.root.join("out2/counters.json")).unwrap()).unwrap();
    assert_eq!(
        counters["steps_high"].as_u64().unwrap() + counters["steps_low"].as_u64().unwrap(),
        6 * 27
    );
    assert!(counters["steps_high"].as_u64().unwrap() > want.counters.steps_high);
}

/// Run with one argument changed (or a file rewritten) and check the error.
fn assert_rejected(c: &Case, args: Vec<String>, must_mention: &[&str]) {
    let out = c.root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "untouched").unwrap();
    let before = listing(&out);
    let o = run(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail: {args:?}");
    assert!(err.starts_with("drq: error:"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear error line: {err}");
    for m in must_mention {
        assert!(err.contains(m), "error should mention {m:?}: {err}");
    }
    assert_eq!(listing(&out), before, "output folder touched: {err}");
}

fn with_arg(c: &Case, flag: &str, value: &str) -> Vec<String> {
    let mut a = golden_args(c, &c.root.join("out"));
    match a.iter().position(|x| x == flag) {
        Some(i) => a[i + 1] = value.into(),
        None => a.extend([flag.into(), value.into()]),
    }
    a
}

#[test]
fn bad_tensor_files_are_rejected_naming_file_and_shapes() {
    let c = setup();
    let p = |name: &str| c.root.join(name).display().to_string();
    let mut mask_of_2 = vec![0; 60];
    mask_of_2[7] = 2;
    // (flag, file, its array, what the error names besides the file)
    let cases: [(&str, &str, NpyArray, &[&str]); 8] = [
        // wrong input shape and dtype
        (
            "--input",
            "x_t.npy",
            NpyArray::new(DType::U8, vec![3, 7, 9], vec![0; 189]),
            &["[3, 9, 7]", "[3, 7, 9]"],
        ),
        (
            "--input",
            "x16.npy",
            NpyArray::new(DType::U16, vec![3, 9, 7], vec![0; 189]),
            &["uint8", "uint16"],
        ),
        // wrong weight dtype and shape
        (
            "--weights",
            "wu.npy",
            NpyArray::new(DType::U8, vec![5, 3, 3, 3], vec![0; 135]),
            &["int8", "uint8"],
        ),
        (
            "--weights",
            "w1.npy",
            NpyArray::new(DType::I8, vec![5, 3, 1, 1], vec![0; 15]),
            &["[5, 3, 3, 3]", "[5, 3, 1, 1]"],
        ),
        // bias of the wrong length and type
        (
            "--bias",
            "b4.npy",
            NpyArray::new(DType::I32, vec![4], vec![0; 4]),
            &["[5]", "[4]"],
        ),
        (
            "--bias",
            "b64.npy",
            NpyArray::new(DType::I64, vec![5], vec![0; 5]),
            &["int32", "int64"],
        ),
        // a mask of the wrong shape, and one with a value that is not 0 or 1
        (
            "--mask",
            "m_s.npy",
            NpyArray::new(DType::U8, vec![3, 3, 2], vec![0; 18]),
            &["[3, 5, 4]", "[3, 3, 2]"],
        ),
        (
            "--mask",
            "m2.npy",
            NpyArray::new(DType::U8, vec![3, 5, 4], mask_of_2),
            &["value 2", "0..=1"],
        ),
    ];
    for (flag, file, array, names) in cases {
        array.save(&c.root.join(file)).unwrap();
        let must_mention: Vec<&str> = std::iter::once(file).chain(names.iter().copied()).collect();
        assert_rejected(&c, with_arg(&c, flag, &p(file)), &must_mention);
    }
    // not an npy file, and a missing file
    std::fs::write(c.root.join("junk.npy"), "not numpy").unwrap();
    assert_rejected(
        &c,
        with_arg(&c, "--weights", &p("junk.npy")),
        &["junk.npy", "not a NumPy"],
    );
    assert_rejected(&c, with_arg(&c, "--input", &p("nope.npy")), &["nope.npy"]);
}

#[test]
fn values_out_of_range_for_the_configuration_are_rejected() {
    let c = setup();
    // a_hi = 6: input codes above 63 are invalid even though the file is uint8
    let cfg = c.root.join("a6.toml");
    std::fs::write(&cfg, "rows = 8\ncols = 4\nregion = 2\na_hi = 6\na_lo = 3\n").unwrap();
    let mut layer: serde_json::Value = serde_json::from_str(LAYER).unwrap();
    layer["low_shift"] = 3.into();
    std::fs::write(c.root.join("layer6.json"), layer.to_string()).unwrap();
    let mut args = with_arg(&c, "--config", &cfg.display().to_string());
    let i = args.iter().position(|x| x == "--layer").unwrap();
    args[i + 1] = c.root.join("layer6.json").display().to_string();
    assert_rejected(&c, args, &["x.npy", "input", "0..=63"]);
}

#[test]
fn bad_configuration_and_layer_are_rejected_naming_the_parameter() {
    let c = setup();
    let write = |name: &str, text: &str| {
        std::fs::write(c.root.join(name), text).unwrap();
        c.root.join(name).display().to_string()
    };
    let bad_rows = write("r0.toml", "rows = 0\n");
    assert_rejected(
        &c,
        with_arg(&c, "--config", &bad_rows),
        &["rows = 0", "1..=64"],
    );
    let unknown = write("u.toml", "rows = 8\nbanks = 2\n");
    assert_rejected(&c, with_arg(&c, "--config", &unknown), &["u.toml", "banks"]);
    let a_lo = write("alo.toml", "a_lo = 3\n");
    assert_rejected(
        &c,
        with_arg(&c, "--config", &a_lo),
        &["a_lo = 3", "divisor"],
    );
    // a flag override is checked like a file value
    assert_rejected(
        &c,
        with_arg(&c, "--region", "3"),
        &["region = 3", "1, 2, 4, 8, 16"],
    );
    // max_dim below max_width (64 in accel.toml)
    assert_rejected(
        &c,
        with_arg(&c, "--max-dim", "8"),
        &["max_dim = 8", "64..="],
    );
    // a burst read-out streams the next tile under the shadows' read-out:
    // without --overlap, one error
    let mut burst = golden_args(&c, &c.root.join("out"));
    burst.extend(["--row-taps".into(), "--burst-readout".into()]);
    assert_rejected(
        &c,
        burst,
        &["burst_readout = true", "row_taps = true and overlap = true"],
    );
    // tile larger than the array (rows = 8 in accel.toml, tile 3x4)
    let mut l: serde_json::Value = serde_json::from_str(LAYER).unwrap();
    l["tile_h"] = 3.into();
    let big_tile = write("tile.json", &l.to_string());
    assert_rejected(
        &c,
        with_arg(&c, "--layer", &big_tile),
        &["tile_h * tile_w", "12", "rows = 8"],
    );
    let mut l: serde_json::Value = serde_json::from_str(LAYER).unwrap();
    l["low_shift"] = 5.into();
    let shift = write("shift.json", &l.to_string());
    assert_rejected(
        &c,
        with_arg(&c, "--layer", &shift),
        &["low_shift = 5", "0..=4"],
    );
    let mut l: serde_json::Value = serde_json::from_str(LAYER).unwrap();
    l["h"] = 1.into();
    l["padding"] = 0.into();
    let small = write("small.json", &l.to_string());
    assert_rejected(&c, with_arg(&c, "--layer", &small), &["output height"]);
    let syntax = write("syntax.json", "{ \"c_in\": 3, ");
    assert_rejected(&c, with_arg(&c, "--layer", &syntax), &["syntax.json"]);
}

#[test]
fn missing_output_folder_is_not_created_on_error() {
    let c = setup();
    let out = c.root.join("fresh");
    let mut args = golden_args(&c, &out);
    let i = args.iter().position(|x| x == "--bias").unwrap();
    args[i + 1] = c.root.join("missing.npy").display().to_string();
    let o = run(&args);
    assert!(!o.status.success());
    assert!(!out.exists(), "no output folder after a failed run");
}

#[test]
fn config_subcommand_prints_resolved_configuration() {
    let o = drq(&["config", "--rows", "8", "--region", "2"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let cfg = AccelConfig::from_toml_str(&text, "stdout").unwrap();
    assert_eq!(
        cfg,
        AccelConfig {
            rows: 8,
            region: 2,
            // Eight cyclic banks of 2,048 entries by default.
            act_words: 8 * 2048,
            acc_words: 8 * 1024,
            ..AccelConfig::default()
        }
    );
}

#[test]
fn row_taps_are_the_default_and_a_flag_value_turns_them_off() {
    let parse = |args: &[&str]| {
        let o = drq(args);
        assert!(o.status.success(), "{args:?}");
        AccelConfig::from_toml_str(&String::from_utf8_lossy(&o.stdout), "stdout").unwrap()
    };
    assert!(parse(&["config"]).row_taps);
    assert!(parse(&["config", "--row-taps"]).row_taps);
    let chain = parse(&["config", "--row-taps", "false"]);
    assert!(!chain.row_taps);
    assert_eq!(chain.flush_cycles(), chain.rows + chain.cols - 1);
    let o = drq(&["config", "--row-taps", "maybe"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("maybe"));
}

#[test]
fn verilog_writes_every_top_deterministically_and_rejects_bad_configs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let o = drq(&[
            "verilog",
            "--rows",
            "2",
            "--cols",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in [
        "drq_array.v",
        "drq_array.vlt",
        "drq_predictor.v",
        "drq_predictor.vlt",
        "drq_controller.v",
        "drq_controller.vlt",
        "drq_output_stage.v",
        "drq_output_stage.vlt",
        "params.json",
    ] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(!x.is_empty() && x == y, "{f} is written and deterministic");
    }
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("params.json")).unwrap()).unwrap();
    assert_eq!(params["config"]["rows"], 2);
    assert_eq!(params["config"]["cols"], 3);
    assert!(
        params["tops"]["drq_array"]["ports"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    // a bad configuration: one error naming the parameter, nothing written
    let c = dir.path().join("c");
    let o = drq(&["verilog", "--acc-bits", "70", "--out", c.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("acc_bits = 70") && err.contains("16..=64"),
        "{err}"
    );
    assert!(!c.exists());
}

/// A saved random 3-layer network, its first input and the configuration
/// file (rows = 8, cols = 4, region = 2, max_width = 16).
struct NetCase {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cfg: AccelConfig,
    net: Network,
    net_json: PathBuf,
    input: PathBuf,
}

fn net_setup(seed: u64) -> NetCase {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    // max_width 16: every random network fits the buffers of `drq sim`.
    std::fs::write(
        root.join("accel.toml"),
        "rows = 8\ncols = 4\nregion = 2\nmax_width = 16\n",
    )
    .unwrap();
    let cfg = AccelConfig {
        rows: 8,
        cols: 4,
        region: 2,
        max_width: 16,
        ..AccelConfig::replicated()
    };
    let (net, x) = random_network(&cfg, &mut Rng::new(seed), 3);
    let net_json = net.save(&cfg, &root.join("net")).unwrap();
    let input = root.join("x.npy");
    drq_golden::files::fmap_array(&cfg, &x)
        .save(&input)
        .unwrap();
    NetCase {
        _dir: dir,
        root,
        cfg,
        net,
        net_json,
        input,
    }
}

fn net_args(c: &NetCase, net_json: &Path, out: &Path) -> Vec<String> {
    let p = |p: &Path| p.display().to_string();
    vec![
        "golden".into(),
        "--config".into(),
        p(&c.root.join("accel.toml")),
        "--network".into(),
        p(net_json),
        "--input".into(),
        p(&c.input),
        "--out".into(),
        p(out),
    ]
}

#[test]
fn golden_network_equals_layer_by_layer_runs() {
    let seed = test_seed("golden_network_equals_layer_by_layer_runs");
    let c = net_setup(seed);
    for with_mask in [false, true] {
        let out = c.root.join(format!("out_{with_mask}"));
        let mut args = net_args(&c, &c.net_json, &out);
        let mask0 = c.root.join("m0.npy");
        if with_mask {
            let l0 = &c.net.layers[0].layer;
            let m = drq_golden::testdata::random_mask(&mut Rng::new(seed ^ 1), &c.cfg, l0, 0.5);
            drq_golden::files::mask_array(&m).save(&mask0).unwrap();
            args.extend(["--mask".into(), mask0.display().to_string()]);
        }
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert_eq!(err.lines().count(), 3, "one summary line per layer: {err}");
        // folder layout
        let top: Vec<String> = listing(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            top,
            ["counters.json", "layer0", "layer1", "layer2", "y.npy"],
            "top level of {}",
            out.display()
        );
        // every layer separately, fed the previous layer's y.npy and mask_out.npy
        let net_dir = c.net_json.parent().unwrap();
        let mut input = c.input.clone();
        let mut mask = with_mask.then(|| mask0.clone());
        let mut counters = Vec::new();
        for (i, nl) in c.net.layers.iter().enumerate() {
            let layer_json = c.root.join(format!("layer{i}.json"));
            std::fs::write(&layer_json, nl.layer.to_json()).unwrap();
            let single = c.root.join(format!("single_{with_mask}_{i}"));
            let p = |p: &Path| p.display().to_string();
            let mut a: Vec<String> = vec![
                "golden".into(),
                "--config".into(),
                p(&c.root.join("accel.toml")),
                "--layer".into(),
                p(&layer_json),
                "--input".into(),
                p(&input),
                "--weights".into(),
                p(&net_dir.join(format!("w{i}.npy"))),
                "--bias".into(),
                p(&net_dir.join(format!("b{i}.npy"))),
                "--out".into(),
                p(&single),
            ];
            if let Some(m) = &mask {
                a.extend(["--mask".into(), p(m)]);
            }
            let o = run(&a);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let layer_out = out.join(format!("layer{i}"));
            assert_eq!(listing(&layer_out), listing(&single), "layer {i}");
            assert_eq!(
                std::fs::exists(layer_out.join("mask_out.npy")).unwrap(),
                i < 2 || nl.layer.next_threshold.is_some(),
                "layer {i}: mask_out.npy for every layer but (maybe) the last"
            );
            counters.push(
                serde_json::from_slice::<serde_json::Value>(
                    &std::fs::read(single.join("counters.json")).unwrap(),
                )
                .unwrap(),
            );
            input = single.join("y.npy");
            mask = Some(single.join("mask_out.npy"));
        }
        assert_eq!(
            std::fs::read(out.join("y.npy")).unwrap(),
            std::fs::read(&input).unwrap(),
            "y.npy is the last layer's"
        );
        let all: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("counters.json")).unwrap()).unwrap();
        assert_eq!(all, serde_json::Value::Array(counters));
    }
}

#[test]
fn golden_network_chain_mismatch_is_one_error_and_writes_nothing() {
    let seed = test_seed("golden_network_chain_mismatch_is_one_error_and_writes_nothing");
    let c = net_setup(seed);
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&c.net_json).unwrap()).unwrap();
    let c_out = v["layers"][1]["layer"]["c_out"].as_i64().unwrap();
    v["layers"][2]["layer"]["c_in"] = (c_out + 2).into();
    let bad = c.net_json.with_file_name("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    // a fresh output folder is not created
    let fresh = c.root.join("fresh");
    let o = run(&net_args(&c, &bad, &fresh));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(!fresh.exists(), "no output folder after a failed run");
    assert_eq!(err.trim().lines().count(), 1, "one clear error line: {err}");
    for m in [
        "drq: error:",
        "bad.json",
        "layer 2",
        &format!("c_in = {}", c_out + 2),
        &format!("expected {c_out}"),
    ] {
        assert!(err.contains(m), "error should mention {m:?}: {err}");
    }
    // an existing output folder is untouched
    let out = c.root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "untouched").unwrap();
    let o = run(&net_args(&c, &bad, &out));
    assert!(!o.status.success());
    assert_eq!(
        listing(&out),
        vec![("keep.txt".into(), b"untouched".to_vec())]
    );
    // an input that does not fit layer 0
    let l0 = &c.net.layers[0].layer;
    let x = c.root.join("x_bad.npy");
    NpyArray::new(
        DType::U8,
        vec![l0.c_in as usize + 1, l0.h as usize, l0.w as usize],
        vec![0; (l0.c_in as usize + 1) * (l0.h * l0.w) as usize],
    )
    .save(&x)
    .unwrap();
    let mut args = net_args(&c, &c.net_json, &out);
    let i = args.iter().position(|a| a == "--input").unwrap();
    args[i + 1] = x.display().to_string();
    let o = run(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("x_bad.npy") && err.contains("expected shape"),
        "{err}"
    );
    assert_eq!(
        listing(&out),
        vec![("keep.txt".into(), b"untouched".to_vec())]
    );
}

#[test]
fn golden_network_conflicts_with_single_layer_flags() {
    let c = net_setup(1);
    let out = c.root.join("out");
    for flag in ["--layer", "--weights", "--bias"] {
        let mut args = net_args(&c, &c.net_json, &out);
        args.extend([flag.into(), c.root.join("whatever").display().to_string()]);
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success(),
            "{flag} with --network must be rejected"
        );
        assert!(err.contains("--network") && err.contains(flag), "{err}");
        assert!(!out.exists());
    }
    // without --network, --layer, --weights and --bias are required
    let o = drq(&["golden", "--input", "x.npy", "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("--layer") && err.contains("--weights") && err.contains("--bias"),
        "{err}"
    );
}

/// `args` of a `drq golden` command run as `drq sim` instead.
fn as_sim(args: &[String]) -> Vec<String> {
    let mut v = args.to_vec();
    assert_eq!(v[0], "golden");
    v[0] = "sim".into();
    v
}

#[test]
fn sim_writes_the_same_files_as_golden_and_a_waveform() {
    let c = setup();
    let gold = c.root.join("gold");
    let hw = c.root.join("hw");
    let args = golden_args(&c, &gold);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sim_args = as_sim(&golden_args(&c, &hw));
    sim_args.push("--waves".into());
    let out = run(&sim_args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut hw_files = listing(&hw);
    let vcd = hw_files
        .iter()
        .position(|(n, _)| n == "waves.vcd")
        .map(|i| hw_files.remove(i))
        .expect("waves.vcd");
    assert_eq!(
        hw_files,
        listing(&gold),
        "drq sim and drq golden files differ"
    );
    let text = String::from_utf8_lossy(&vcd.1);
    for name in ["drq_mode_high", "drq_region_y", "drq_token_shift", "irq"] {
        assert!(text.contains(name), "{name} not in the dump");
    }
    // No temporary folder is left beside the output.
    let stray: Vec<_> = std::fs::read_dir(&c.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".drq-sim"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

/// `drq sim --network` of a random network (seeded from `test`, with the
/// extra configuration flags `flags`) writes byte for byte the files of
/// `drq golden --network` with the same flags.
fn sim_network_equals_golden_network(test: &str, flags: &[&str]) {
    let c = net_setup(test_seed(test));
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    let gold = c.root.join("gold");
    let hw = c.root.join("hw");
    for args in [
        net_args(&c, &c.net_json, &gold),
        as_sim(&net_args(&c, &c.net_json, &hw)),
    ] {
        let out = run(&[args, flags.clone()].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(listing(&hw), listing(&gold));
    for i in 0..c.net.layers.len() {
        let d = format!("layer{i}");
        assert_eq!(listing(&hw.join(&d)), listing(&gold.join(&d)), "{d}");
    }
}

#[test]
fn sim_network_writes_the_same_files_as_golden_network() {
    sim_network_equals_golden_network("sim_network_writes_the_same_files_as_golden_network", &[]);
}

#[test]
fn sim_network_in_banked_buffers_writes_the_same_files_as_golden_network() {
    // The same network with ACT0 and ACT1 stored once over eight banks:
    // each layer's output laid out for the next layer's stride and tile.
    sim_network_equals_golden_network(
        "sim_network_in_banked_buffers_writes_the_same_files_as_golden_network",
        &["--act-layout", "banked"],
    );
}

#[test]
fn sim_network_in_cyclic_buffers_writes_the_same_files_as_golden_network() {
    // The same network stored once over eight banks in the cyclic
    // layout: each step's reads one rotation of the banks.
    sim_network_equals_golden_network(
        "sim_network_in_cyclic_buffers_writes_the_same_files_as_golden_network",
        &["--act-layout", "cyclic"],
    );
}

#[test]
fn sim_rejects_a_layer_too_big_for_the_buffers_naming_buffer_and_sizes() {
    let c = setup();
    let out_dir = c.root.join("out");
    let mut args = as_sim(&golden_args(&c, &out_dir));
    args.extend(["--act-layout".into(), "replicated".into()]);
    args.extend(["--act-words".into(), "1024".into()]);
    let out = run(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("input activation")
            && err.contains("1728")
            && err.contains("1024")
            && err.contains("act_words"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out_dir.exists());
}

#[test]
fn regress_rejects_an_unknown_configuration_naming_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rg");
    let o = drq(&[
        "regress",
        "--only",
        "no-such-config",
        "--case-seed",
        "1",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no-such-config") && err.contains("4x4-r2-ov-sp"),
        "{err}"
    );
}

/// Layer `l` of the trained network in `model` (its own thresholds, or
/// `thresholds`), fed with the first test image through the layers before
/// it (golden model) and their predicted mask, runs through `drq sim` on
/// the machine of `toml` (= `cfg`) with files identical to `drq golden`'s.
fn real_layer_runs_through_drq_sim(
    model: &str,
    l: usize,
    thresholds: Option<&[u32]>,
    toml: &str,
    cfg: &AccelConfig,
) {
    use drq_golden::network::run_network;
    use drq_model::data::{Dataset, Split};
    use drq_model::quant::image_map;
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model")
        .join(model);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("accel.toml"), toml).unwrap();
    let net = Network::load(&model.join("network.json"), cfg).unwrap();
    let net = match thresholds {
        Some(t) => drq_model::quant::with_thresholds(&net, t),
        None => net,
    };
    let test = Dataset::load(Split::Test).unwrap().take(1);
    let input = image_map(&test.images[0]);
    let runs = run_network(cfg, &net, &input, None).unwrap();
    let layer = net.layers[l].layer;
    assert!(
        layer.threshold > 0 && layer.threshold <= cfg.a_max(),
        "a DRQ layer, neither uniform INT8 nor INT4"
    );
    let mask = runs[l - 1]
        .mask_out
        .clone()
        .expect("the layer before predicts this layer's mask");
    assert!(
        mask.data.iter().any(|&b| b) && mask.data.iter().any(|&b| !b),
        "the real image gives a mixed mask"
    );
    let data = net.layer_data(l, runs[l - 1].y.clone(), Some(mask));
    let files = LayerFiles {
        input: root.join("x.npy"),
        weights: root.join("w.npy"),
        bias: root.join("b.npy"),
        mask: Some(root.join("m.npy")),
    };
    save_layer_data(cfg, &data, &files).unwrap();
    std::fs::write(root.join("layer.json"), layer.to_json()).unwrap();
    let args = |cmd: &str, out: &str| -> Vec<String> {
        let p = |p: &Path| p.display().to_string();
        vec![
            cmd.into(),
            "--config".into(),
            p(&root.join("accel.toml")),
            "--layer".into(),
            p(&root.join("layer.json")),
            "--input".into(),
            p(&files.input),
            "--weights".into(),
            p(&files.weights),
            "--bias".into(),
            p(&files.bias),
            "--mask".into(),
            p(files.mask.as_ref().unwrap()),
            "--out".into(),
            p(&root.join(out)),
        ]
    };
    for (cmd, out) in [("golden", "gold"), ("sim", "hw")] {
        let o = run(&args(cmd, out));
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(listing(&root.join("hw")), listing(&root.join("gold")));
    // And the golden files are the chained network's own results.
    let gold = run_layer(cfg, &layer, &data).unwrap();
    assert_eq!(gold.y, runs[l].y);
}

/// Issue 8's hardware check: the third layer of the trained Fashion-MNIST
/// network (model/fashion) through `drq sim` like `drq golden`, on a 16 x 4
/// array (16 rows for the network's 4 x 4 tiles, a quicker Verilator build
/// than 16 x 16) with the network's region size R = 4 and a 16-word row
/// pitch, so the 14x14 layer fits.
#[test]
fn a_real_network_layer_runs_through_drq_sim_like_drq_golden() {
    let cfg = AccelConfig {
        cols: 4,
        max_width: 16,
        ..AccelConfig::replicated()
    };
    real_layer_runs_through_drq_sim("fashion", 2, None, "cols = 4\nmax_width = 16\n", &cfg);
}

/// Packed rows: the same layer on the 64-wide buffers of the default
/// configuration, which refuse it at their 64-word pitch (8 x 14 rows x
/// 64 words > 4096) and hold it at its own 14-word one.
#[test]
fn a_real_network_layer_runs_through_drq_sim_with_packed_rows() {
    let cfg = AccelConfig {
        cols: 4,
        packed_rows: true,
        ..AccelConfig::replicated()
    };
    let net = Network::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/fashion/network.json"),
        &cfg,
    )
    .unwrap();
    let layer = &net.layers[2].layer;
    let pitched = AccelConfig {
        packed_rows: false,
        ..cfg
    };
    let e = drq_verif::driver::check_fits(&pitched, layer).unwrap_err();
    assert_eq!((e.key, e.capacity), ("act_words", 4096), "{e}");
    drq_verif::driver::check_fits(&cfg, layer).unwrap();
    real_layer_runs_through_drq_sim("fashion", 2, None, "cols = 4\npacked_rows = true\n", &cfg);
}

/// The pipelined machine DRQ's speedup is measured on (docs/performance.md),
/// on the 16 x 4 array of the test above, with room for a 32 -> 32 layer's
/// 3 x 3 weights.
fn pipelined_16x4() -> (&'static str, AccelConfig) {
    (
        "cols = 4\nmax_width = 16\noverlap = true\nrow_taps = true\n\
         stream_predictor = true\nburst_readout = true\nout_lanes = 8\nout_rows = 4\n\
         weight_words = 16384\n",
        AccelConfig {
            cols: 4,
            max_width: 16,
            overlap: true,
            row_taps: true,
            stream_predictor: true,
            burst_readout: true,
            out_lanes: 8,
            out_rows: 4,
            weight_words: 16384,
            ..AccelConfig::replicated()
        },
    )
}

/// The thresholds a fine-tuned model was fine-tuned with (its quant.json's
/// `finetune_forward`).
fn finetune_thresholds(model: &str) -> Vec<u32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model")
        .join(model)
        .join("quant.json");
    let quant: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(quant["finetune_forward"]["thresholds"].clone()).unwrap()
}

/// Issue 18: a layer of the DRQ-aware fine-tuned network (model/fashion-drq)
/// on the pipelined machine, at the thresholds it was fine-tuned with (its
/// calibrated ones send nearly every region to INT4, docs/model.md).
#[test]
fn a_fine_tuned_network_layer_runs_through_drq_sim_like_drq_golden() {
    let (toml, cfg) = pipelined_16x4();
    let t = finetune_thresholds("fashion-drq");
    real_layer_runs_through_drq_sim("fashion-drq", 2, Some(&t), toml, &cfg);
}

/// Issue 18: a 32-channel layer of the wider network (model/fashion-wide-drq)
/// on the pipelined machine, at the thresholds it was fine-tuned with.
#[test]
fn a_wide_network_layer_runs_through_drq_sim_like_drq_golden() {
    let (toml, cfg) = pipelined_16x4();
    let t = finetune_thresholds("fashion-wide-drq");
    real_layer_runs_through_drq_sim("fashion-wide-drq", 3, Some(&t), toml, &cfg);
}

/// `drq coverage` refuses bad options with one error line and a non-zero
/// exit, before building anything, and writes nothing.
#[test]
fn coverage_rejects_bad_options_with_one_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cov");
    let out_s = out.display().to_string();
    for (args, mention) in [
        (
            vec!["--configs", "4x4-r2-ov-sp,nope"],
            "no configuration nope",
        ),
        (vec!["--cases", "0"], "--cases must be at least 1"),
        (vec!["--toggle-max-width", "0"], "--toggle-max-width"),
    ] {
        let mut all = vec!["coverage", "--out", out_s.as_str()];
        all.extend(args);
        assert_one_error_nothing_written(&drq(&all), &[mention], &out);
    }
}

/// `o` failed with one error line mentioning every one of `mention`, and
/// `out` was not created.
fn assert_one_error_nothing_written(o: &Output, mention: &[&str], out: &Path) {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(mention.iter().all(|m| errors[0].contains(m)), "{err}");
    assert!(!out.exists());
}

/// `drq eval --compare LABEL=DIR`: each model's DRQ is a row of report.md's
/// ablation and an entry of report.json's "compared" (speedup against its
/// own INT8); a value without a label or a folder that is not a model is
/// one clear error before anything runs, and nothing is written.
#[test]
fn eval_compares_other_models_and_rejects_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model");
    let m = |name: &str| models.join(name).display().to_string();
    let out = dir.path().join("eval");
    let out_s = out.display().to_string();
    let base = [
        "eval",
        "--images",
        "20",
        "--regions",
        "4",
        "--schemes",
        "int8,drq",
        "--threshold-scales",
    ];
    let run_with = |extra: &[String]| {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--model".into(),
            m("fashion"),
            "--out".into(),
            out_s.clone(),
        ]);
        args.extend(extra.iter().cloned());
        drq(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run_with(&["--compare".into(), "nolabel".into()]);
    assert_one_error_nothing_written(&o, &["--compare", "LABEL=DIR"], &out);
    let o = run_with(&["--compare".into(), format!("x={}", dir.path().display())]);
    assert_one_error_nothing_written(&o, &["--compare x", "not a model folder"], &out);
    let o = run_with(&["--compare".into(), format!("tuned={}", m("fashion-drq"))]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let c = &json["compared"][0];
    assert_eq!(c["label"], "tuned");
    let speedup = c["int8_cycles"].as_f64().unwrap() / c["cycles"].as_f64().unwrap();
    assert!((c["speedup"].as_f64().unwrap() - speedup).abs() < 1e-12);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Ablation") && md.contains("| tuned |"),
        "{md}"
    );
}

/// `drq eval` on another array: `--rows`/`--cols` change the cycles (fewer
/// columns, more channel tiles) and are recorded in report.json; the INT8
/// array (`--pe int8`) takes one token a step, so its INT8 run is faster
/// than the DRQ array's; a DRQ scheme on it is one clear error.
#[test]
fn eval_runs_on_the_array_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model/fashion")
        .display()
        .to_string();
    let cycles = |name: &str, extra: &[&str]| -> serde_json::Value {
        let out = dir.path().join(name);
        let out_s = out.display().to_string();
        let mut args = vec![
            "eval",
            "--model",
            &model,
            "--images",
            "20",
            "--regions",
            "4",
            "--schemes",
            "int8",
            "--out",
        ];
        args.push(&out_s);
        args.extend(extra);
        let o = drq(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(out.join("report.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let full = cycles("16x16", &[]);
    let narrow = cycles("16x12", &["--rows", "16", "--cols", "12"]);
    let int8 = cycles("int8", &["--rows", "16", "--cols", "12", "--pe", "int8"]);
    let c = |v: &serde_json::Value| v["int8"]["cycles"].as_u64().unwrap();
    assert_eq!(
        (narrow["rows"].as_u64(), narrow["cols"].as_u64()),
        (Some(16), Some(12))
    );
    assert_eq!(
        (full["cols"].as_u64(), int8["pe"].as_str()),
        (Some(16), Some("int8"))
    );
    assert!(
        c(&narrow) > c(&full),
        "16x12 {} vs 16x16 {}",
        c(&narrow),
        c(&full)
    );
    assert!(
        c(&int8) < c(&narrow),
        "int8 array {} vs drq array {}",
        c(&int8),
        c(&narrow)
    );
    assert_eq!(full["int8"]["accuracy"], int8["int8"]["accuracy"]);

    // A 12-row array needs tiles of at most 12 pixels: network.json's 4x4
    // tiles are refused, 3x4 ones replace them.
    let twelve = cycles(
        "12x12",
        &["--rows", "12", "--cols", "12", "--tiles", "3x4,3x4,3x4,3x4"],
    );
    assert_eq!(twelve["rows"].as_u64(), Some(12));
    assert!(
        c(&twelve) > c(&full),
        "12x12 {} vs 16x16 {}",
        c(&twelve),
        c(&full)
    );
    let bad = |name: &str, extra: &[&str], mention: &[&str]| {
        let out = dir.path().join(name);
        let out_s = out.display().to_string();
        let mut args = vec!["eval", "--model", &model, "--images", "5", "--out", &out_s];
        args.extend(extra);
        assert_one_error_nothing_written(&drq(&args), mention, &out);
    };
    bad(
        "int8_drq",
        &["--pe", "int8", "--schemes", "drq"],
        &["--schemes drq", "--pe int8"],
    );
    bad(
        "twelve_rows",
        &["--rows", "12", "--schemes", "int8"],
        &["layer 0", "tile_h * tile_w = 4 * 4 = 16", "rows = 12"],
    );
}

#[test]
fn synth_compare_refuses_a_board_without_the_ecp5_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    for board in ["icebreaker", "nosuchboard"] {
        let o = drq(&[
            "synth-compare",
            "--board",
            board,
            "--no-pnr",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "--board {board} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("--board {board}")), "{err}");
        assert!(!out.exists(), "an output folder after a refused --board");
    }
}
