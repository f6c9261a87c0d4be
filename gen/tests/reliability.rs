//! The guarantees of docs/reliability.md, one test (or a few) per case of
//! issue 20: (1) a layer whose outputs need more memory than the budget is
//! refused, (2) inputs are read no further than their header says, (3) two
//! runs into one `--out` leave one run's complete results, (4) a signal at
//! any point leaves the old results or the new ones and no staging folder,
//! (5) `drq sim` validates everything before building its model, (6) every
//! error line names its file and stays short.
//!
//! Runs are paused at named points with the test hook `DRQ_TEST_PAUSE_AT`
//! (`drq_golden::publish::pause_point`); peak memory is the child's
//! `ru_maxrss` from `wait4` (an upper bound: it includes what the forked
//! test process held at the fork).

use crate::common;

use drq_arch::AccelConfig;
use drq_golden::files::LayerFiles;
use drq_golden::npy::NpyArray;
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Mask, Weights};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MB: i64 = 1024; // ru_maxrss is in KiB
const PEAK_LIMIT_KB: i64 = 64 * MB;

fn layer_json(next_threshold: Option<u32>) -> String {
    let next = next_threshold.map_or(String::new(), |t| format!(r#", "next_threshold": {t}"#));
    format!(
        r#"{{ "c_in": 3, "c_out": 5, "h": 9, "w": 7, "kernel": 3, "stride": 1, "padding": 1,
  "threshold": 140, "low_shift": 4, "w_low_shift": 3, "requant_mult": 5, "requant_shift": 9,
  "tile_h": 2, "tile_w": 4{next} }}"#
    )
}

/// A layer run's input files in a folder of their own.
struct Inputs {
    root: PathBuf,
    layer: PathBuf,
    files: LayerFiles,
}

fn inputs(root: &Path, seed: u64, next_threshold: Option<u32>) -> Inputs {
    let (files, _) = common::write_layer_inputs(root, &layer_json(next_threshold), seed);
    let layer = root.join("layer.json");
    Inputs {
        root: root.to_path_buf(),
        layer,
        files,
    }
}

fn p(p: &Path) -> String {
    p.display().to_string()
}

fn golden_args(i: &Inputs, out: &Path) -> Vec<String> {
    vec![
        "golden".into(),
        "--config".into(),
        p(&i.root.join("accel.toml")),
        "--layer".into(),
        p(&i.layer),
        "--input".into(),
        p(&i.files.input),
        "--weights".into(),
        p(&i.files.weights),
        "--bias".into(),
        p(&i.files.bias),
        "--out".into(),
        p(out),
    ]
}

fn drq() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drq"));
    c.env_remove("DRQ_TEST_PAUSE_AT")
        .env_remove("DRQ_TEST_PAUSE_FILE");
    c
}

/// A finished child: exit code (None if killed by a signal), stderr, peak
/// resident memory (KiB) and wall time.
#[derive(Debug)]
struct Finished {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    peak_kb: i64,
    seconds: f64,
}

impl Finished {
    fn failed_cleanly(&self) -> bool {
        self.signal.is_none() && self.code.is_some_and(|c| c != 0)
    }
}

/// Run `args` under a 1 GiB address-space limit (so that a reader that
/// reads endlessly stops), killed after `timeout`; peak memory from wait4.
/// The limit is set by a shell that then execs drq: a `pre_exec` hook
/// would make the child a fork of this test process, whose resident
/// pages (other tests' in the same process) then count in the child's
/// peak until the exec.
fn run_measured(args: &[String], timeout: Duration) -> Finished {
    let program = drq().get_program().to_owned();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("run drq");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let pid = child.id() as libc::pid_t;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is valid; wait4 fills it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        if t0.elapsed() > timeout {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = t0.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap();
    std::mem::forget(child); // reaped above
    eprintln!(
        "drq {}: peak {} KiB, {seconds:.2} s",
        args.first().map_or("", String::as_str),
        usage.ru_maxrss
    );
    Finished {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stderr,
        peak_kb: usage.ru_maxrss,
        seconds,
    }
}

fn one_error_line(f: &Finished) -> &str {
    let lines: Vec<&str> = f.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {f:?}");
    assert!(lines[0].starts_with("drq: error: "), "{f:?}");
    lines[0]
}

/// Every file below `dir`, relative name and bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, v: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(base, &path, v);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                v.push((rel, std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// An `.npy` header (format 1.0) for `descr` and `shape`.
fn npy_header(descr: &str, shape: &[u64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out
}

/// An `.npy` file of `body` zero bytes after its header, written sparse.
fn sparse_npy(path: &Path, descr: &str, shape: &[u64], body: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let h = npy_header(descr, shape);
    f.write_all(&h).unwrap();
    f.set_len(h.len() as u64 + body).unwrap();
}

// ---- case 1: output amplification ------------------------------------------

#[test]
fn case1_a_layer_over_the_memory_budget_is_refused_in_a_few_mb() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    // 4.5 MB of valid inputs asking for 65535 x 2048 x 2048 outputs.
    std::fs::write(
        r.join("big.json"),
        r#"{ "c_in": 1, "c_out": 65535, "h": 2048, "w": 2048, "kernel": 1, "threshold": 0,
             "low_shift": 4, "w_low_shift": 4, "requant_mult": 1, "requant_shift": 0,
             "tile_h": 4, "tile_w": 4 }"#,
    )
    .unwrap();
    sparse_npy(&r.join("x.npy"), "|u1", &[1, 2048, 2048], 2048 * 2048);
    sparse_npy(&r.join("w.npy"), "|i1", &[65535, 1, 1, 1], 65535);
    sparse_npy(&r.join("b.npy"), "<i4", &[65535], 4 * 65535);
    let out = r.join("out");
    let args: Vec<String> = [
        "golden",
        "--layer",
        "big.json",
        "--input",
        "x.npy",
        "--weights",
        "w.npy",
        "--bias",
        "b.npy",
        "--out",
    ]
    .iter()
    .map(|s| {
        if s.ends_with(".json") || s.ends_with(".npy") {
            p(&r.join(s))
        } else {
            s.to_string()
        }
    })
    .chain([p(&out)])
    .collect();
    let f = run_measured(&args, Duration::from_secs(60));
    assert!(
        f.failed_cleanly(),
        "refused with an error, not aborted: {f:?}"
    );
    let line = one_error_line(&f);
    assert!(
        line.contains("big.json") && line.contains("TiB") && line.contains("2.0 GiB"),
        "names the file, the size and the limit: {line}"
    );
    assert!(line.contains("--max-memory"), "{line}");
    assert!(f.peak_kb < PEAK_LIMIT_KB, "peak {} KiB", f.peak_kb);
    assert!(!out.exists());
    // A budget raised by the flag lets a layer through that the default
    // refuses; a lowered one refuses a small layer, naming it.
    let i = inputs(&r.join("small"), 1, None);
    let mut small = golden_args(&i, &r.join("o2"));
    small.extend(["--max-memory".into(), "10K".into()]);
    let f = run_measured(&small, Duration::from_secs(30));
    let line = one_error_line(&f);
    assert!(
        line.contains("layer.json") && line.contains("10.0 KiB"),
        "{line}"
    );
    small.pop();
    small.push("64M".into());
    let f = run_measured(&small, Duration::from_secs(30));
    assert_eq!(f.code, Some(0), "{f:?}");
}

// ---- case 2: unbounded reads ------------------------------------------------

#[test]
fn case2_inputs_are_read_no_further_than_their_header() {
    let t = tempfile::tempdir().unwrap();
    let i = inputs(&t.path().join("in"), 2, None);
    let out = t.path().join("out");
    let with = |flag: &str, value: &Path| {
        let mut a = golden_args(&i, &out);
        let at = a.iter().position(|x| x == flag).unwrap();
        a[at + 1] = p(value);
        a
    };
    // A 1 GiB sparse file whose small header declares the right shape.
    let sparse = t.path().join("sparse.npy");
    sparse_npy(&sparse, "|u1", &[3, 9, 7], 1 << 30);
    // A header that declares 2^40 elements of the right rank.
    let huge = t.path().join("huge.npy");
    sparse_npy(&huge, "|i1", &[1 << 20, 1 << 10, 3, 3], 0);
    let dev_zero = Path::new("/dev/zero");
    for (args, mention) in [
        (with("--input", dev_zero), "/dev/zero"),
        (with("--input", &sparse), "sparse.npy"),
        (with("--weights", &huge), "huge.npy"),
        (with("--layer", dev_zero), "/dev/zero"),
        (with("--config", dev_zero), "/dev/zero"),
    ] {
        let f = run_measured(&args, Duration::from_secs(20));
        assert!(f.failed_cleanly(), "{mention}: {f:?}");
        let line = one_error_line(&f);
        assert!(line.contains(mention), "{line}");
        assert!(f.seconds < 5.0, "{mention}: refused in {} s", f.seconds);
        assert!(
            f.peak_kb < PEAK_LIMIT_KB,
            "{mention}: peak {} KiB",
            f.peak_kb
        );
        assert!(!out.exists());
    }
}

// ---- case 3: two runs into one --out ----------------------------------------

/// Start a run paused at `point` (it creates `flag` and waits while it
/// exists); returns once it is there.
fn start_paused(args: &[String], point: &str, flag: &Path) -> std::process::Child {
    let child = drq()
        .args(args)
        .env("DRQ_TEST_PAUSE_AT", point)
        .env("DRQ_TEST_PAUSE_FILE", flag)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !flag.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the run never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

fn finish(child: std::process::Child) -> (std::process::ExitStatus, String) {
    let o = child.wait_with_output().unwrap();
    (o.status, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn ok_run(args: &[String]) {
    let o = drq().args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Staging (hidden) entries beside `out`.
fn leftovers(parent: &Path) -> Vec<String> {
    names(parent)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn case3_a_run_publishing_while_another_is_staged_leaves_one_complete_result() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (
        inputs(&t.path().join("a"), 31, Some(30)),
        inputs(&t.path().join("b"), 32, None),
    );
    let (ref_a, ref_b) = (t.path().join("ref_a"), t.path().join("ref_b"));
    ok_run(&golden_args(&a, &ref_a));
    ok_run(&golden_args(&b, &ref_b));
    let (want_a, want_b) = (tree(&ref_a), tree(&ref_b));
    assert_ne!(want_a, want_b);
    let shared = t.path().join("shared");
    let out = shared.join("out");
    let flag = t.path().join("pause");
    // A stops with its results staged; B runs start to end meanwhile.
    let run_a = start_paused(&golden_args(&a, &out), "before_publish", &flag);
    ok_run(&golden_args(&b, &out));
    assert_eq!(tree(&out), want_b, "B's results, complete");
    std::fs::remove_file(&flag).unwrap();
    let (status, err) = finish(run_a);
    assert!(status.success(), "{err}");
    assert_eq!(tree(&out), want_a, "A's results replace B's as a whole");
    assert_eq!(leftovers(&shared), Vec::<String>::new());
}

#[test]
fn case3_concurrent_runs_into_one_out_never_mix() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (
        inputs(&t.path().join("a"), 41, Some(30)),
        inputs(&t.path().join("b"), 42, None),
    );
    let (ref_a, ref_b) = (t.path().join("ref_a"), t.path().join("ref_b"));
    ok_run(&golden_args(&a, &ref_a));
    ok_run(&golden_args(&b, &ref_b));
    let (want_a, want_b) = (tree(&ref_a), tree(&ref_b));
    let shared = t.path().join("shared");
    let out = shared.join("out");
    for trial in 0..12 {
        let spawn = |i: &Inputs| {
            drq()
                .args(golden_args(i, &out))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ca, cb) = (spawn(&a), spawn(&b));
        let ((sa, ea), (sb, eb)) = (finish(ca), finish(cb));
        assert!(sa.success() && sb.success(), "trial {trial}: {ea} {eb}");
        let got = tree(&out);
        assert!(
            got == want_a || got == want_b,
            "trial {trial}: a mix of two runs: {:?}",
            got.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
        assert_eq!(leftovers(&shared), Vec::<String>::new(), "trial {trial}");
    }
}

// ---- case 4: signals --------------------------------------------------------

fn signal_and_wait(
    child: std::process::Child,
    sig: libc::c_int,
) -> (std::process::ExitStatus, String) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    finish(child)
}

#[test]
fn case4_a_signal_while_staging_leaves_the_old_results_and_no_staging() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (
        inputs(&t.path().join("a"), 51, Some(30)),
        inputs(&t.path().join("b"), 52, None),
    );
    let shared = t.path().join("shared");
    let out = shared.join("out");
    let flag = t.path().join("pause");
    for (point, sig, name) in [
        ("staged_first_file", libc::SIGTERM, "SIGTERM"),
        ("staged_first_file", libc::SIGINT, "SIGINT"),
        ("before_publish", libc::SIGTERM, "SIGTERM"),
        ("before_publish", libc::SIGINT, "SIGINT"),
    ] {
        ok_run(&golden_args(&b, &out));
        std::fs::write(out.join("notes.txt"), "a user's file").unwrap();
        let old = tree(&out);
        let child = start_paused(&golden_args(&a, &out), point, &flag);
        let (status, err) = signal_and_wait(child, sig);
        let _ = std::fs::remove_file(&flag);
        assert_eq!(status.code(), Some(128 + sig), "{point} {name}: {err}");
        assert!(
            err.contains(&format!("drq: error: interrupted by {name}"))
                && err.contains("left as it was"),
            "{point}: {err}"
        );
        assert_eq!(
            tree(&out),
            old,
            "{point} {name}: the old results, untouched"
        );
        assert_eq!(leftovers(&shared), Vec::<String>::new(), "{point} {name}");
    }
    // Between the swap and the removal of the old folder: the new results.
    let mut want = tree(&{
        let r = t.path().join("ref_a");
        ok_run(&golden_args(&a, &r));
        r
    });
    want.push(("notes.txt".into(), b"a user's file".to_vec()));
    want.sort();
    let child = start_paused(&golden_args(&a, &out), "after_swap", &flag);
    let (status, err) = signal_and_wait(child, libc::SIGTERM);
    let _ = std::fs::remove_file(&flag);
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(err.contains("holds this run's results"), "{err}");
    assert_eq!(
        tree(&out),
        want,
        "the new results, complete, the user's file kept"
    );
    assert_eq!(leftovers(&shared), Vec::<String>::new());
}

#[test]
fn case4_a_killed_runs_staging_is_removed_by_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    let a = inputs(&t.path().join("a"), 61, Some(30));
    let shared = t.path().join("shared");
    let out = shared.join("out");
    let flag = t.path().join("pause");
    ok_run(&golden_args(&a, &out));
    let old = tree(&out);
    let child = start_paused(&golden_args(&a, &out), "before_publish", &flag);
    let (status, _) = signal_and_wait(child, libc::SIGKILL);
    let _ = std::fs::remove_file(&flag);
    assert_eq!(status.code(), None);
    assert_eq!(tree(&out), old);
    assert_eq!(leftovers(&shared).len(), 1, "SIGKILL leaves its staging");
    ok_run(&golden_args(&a, &out));
    assert_eq!(
        leftovers(&shared),
        Vec::<String>::new(),
        "the next run removes it"
    );
    assert_eq!(tree(&out), old);
}

/// A two-layer network folder for `seed` (the layer files of `inputs`
/// chained: 3 -> 5 -> 4 channels).
fn network(root: &Path, seed: u64) -> (PathBuf, PathBuf) {
    use drq_golden::network::{Network, NetworkLayer};
    use drq_golden::Layer;
    let cfg = AccelConfig {
        rows: 8,
        cols: 4,
        region: 2,
        ..AccelConfig::replicated()
    };
    let mut rng = Rng::new(seed);
    let l0 = Layer::from_json_str(&layer_json(None), "l0").unwrap();
    let l1 = Layer {
        c_in: 5,
        c_out: 4,
        threshold: 30,
        ..l0
    };
    let mut layer = |l: Layer| NetworkLayer {
        layer: l,
        weights: Weights::from_fn(l.c_out as usize, l.c_in as usize, 3, |_, _, _, _| {
            rng.range(-128, 127) as i32
        }),
        bias: (0..l.c_out)
            .map(|_| rng.range(-1000, 1000) as i32)
            .collect(),
    };
    let net = Network::new(vec![layer(l0), layer(l1)]).unwrap();
    let json = net.save(&cfg, &root.join("net")).unwrap();
    std::fs::write(root.join("accel.toml"), "rows = 8\ncols = 4\nregion = 2\n").unwrap();
    let x = FeatureMap::from_fn(3, 9, 7, |_, _, _| rng.range(0, 255) as u32);
    let xp = root.join("x.npy");
    drq_golden::files::fmap_array(&cfg, &x).save(&xp).unwrap();
    let _ = Mask::filled(1, 1, 1, true);
    (json, xp)
}

fn network_args(root: &Path, json: &Path, x: &Path, out: &Path) -> Vec<String> {
    vec![
        "golden".into(),
        "--config".into(),
        p(&root.join("accel.toml")),
        "--network".into(),
        p(json),
        "--input".into(),
        p(x),
        "--out".into(),
        p(out),
    ]
}

#[test]
fn case4_a_network_run_is_all_or_nothing_under_signals() {
    let t = tempfile::tempdir().unwrap();
    let (ra, rb) = (t.path().join("a"), t.path().join("b"));
    std::fs::create_dir_all(&ra).unwrap();
    std::fs::create_dir_all(&rb).unwrap();
    let (ja, xa) = network(&ra, 71);
    let (jb, xb) = network(&rb, 72);
    let shared = t.path().join("shared");
    let out = shared.join("out");
    let flag = t.path().join("pause");
    ok_run(&network_args(&rb, &jb, &xb, &out));
    let old = tree(&out);
    assert!(old.iter().any(|(n, _)| n == "layer1/y.npy"));
    for point in ["staged_first_file", "before_publish"] {
        let child = start_paused(&network_args(&ra, &ja, &xa, &out), point, &flag);
        let (status, err) = signal_and_wait(child, libc::SIGTERM);
        let _ = std::fs::remove_file(&flag);
        assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{point}: {err}");
        assert_eq!(tree(&out), old, "{point}: the old network results, whole");
        assert_eq!(leftovers(&shared), Vec::<String>::new(), "{point}");
    }
    ok_run(&network_args(&ra, &ja, &xa, &out));
    let new = tree(&out);
    assert_ne!(new, old);
    assert_eq!(
        new.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        old.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
}

// ---- case 5: drq sim validates before building its model ---------------------

#[test]
fn case5_sim_refuses_bad_tensors_before_building_the_model() {
    let t = tempfile::tempdir().unwrap();
    let i = inputs(&t.path().join("in"), 81, None);
    // A cold, private model cache: a build would take many seconds and
    // leave files in it.
    let cache = t.path().join("cache");
    let bad_mask = t.path().join("mask.npy");
    NpyArray::new(drq_golden::npy::DType::U8, vec![3, 5, 4], vec![2; 60])
        .save(&bad_mask)
        .unwrap();
    let wrong_shape = t.path().join("wrong.npy");
    NpyArray::new(drq_golden::npy::DType::U8, vec![3, 5], vec![1; 15])
        .save(&wrong_shape)
        .unwrap();
    let bad_input = t.path().join("bad_x.npy");
    NpyArray::new(drq_golden::npy::DType::U8, vec![3, 9], vec![1; 27])
        .save(&bad_input)
        .unwrap();
    let out = t.path().join("out");
    let sim = |extra: &[(&str, &Path)]| {
        let mut a = golden_args(&i, &out);
        a[0] = "sim".into();
        for (flag, v) in extra {
            match a.iter().position(|x| x == flag) {
                Some(at) => a[at + 1] = p(v),
                None => a.extend([flag.to_string(), p(v)]),
            }
        }
        a
    };
    for (args, mention) in [
        (sim(&[("--mask", &bad_mask)]), "mask.npy"),
        (sim(&[("--mask", &wrong_shape)]), "wrong.npy"),
        (sim(&[("--input", &bad_input)]), "bad_x.npy"),
    ] {
        let t0 = Instant::now();
        let o = drq()
            .args(&args)
            .env("DRQ_SIM_CACHE", &cache)
            .output()
            .unwrap();
        let secs = t0.elapsed().as_secs_f64();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains(mention), "{err}");
        assert!(
            !err.contains("building"),
            "no model build was started: {err}"
        );
        assert!(secs < 3.0, "{mention}: refused after {secs:.1} s");
        assert!(
            !cache.exists() || std::fs::read_dir(&cache).unwrap().next().is_none(),
            "nothing built"
        );
        assert!(!out.exists());
    }
}

// ---- case 6: error lines name their file and stay short ---------------------

#[test]
fn case6_error_lines_name_the_file_and_are_short() {
    let t = tempfile::tempdir().unwrap();
    let i = inputs(&t.path().join("in"), 91, None);
    let out = t.path().join("out");
    let run = |args: Vec<String>| {
        let o = drq().args(args).output().unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.len() <= 500,
            "{} characters: {}",
            err.len(),
            &err[..200.min(err.len())]
        );
        err
    };
    let with = |flag: &str, value: &Path| {
        let mut a = golden_args(&i, &out);
        let at = a.iter().position(|x| x == flag).unwrap();
        a[at + 1] = p(value);
        a
    };
    // A range error in a layer file names the file.
    let stride0 = t.path().join("stride0.json");
    std::fs::write(
        &stride0,
        layer_json(None).replace(r#""stride": 1"#, r#""stride": 0"#),
    )
    .unwrap();
    let e = run(with("--layer", &stride0));
    assert!(
        e.contains("stride0.json: ") && e.contains("stride = 0") && e.contains("1..=16"),
        "{e}"
    );
    // ... and a rule that depends on the configuration.
    let tiles = t.path().join("tiles.json");
    std::fs::write(
        &tiles,
        layer_json(None).replace(r#""tile_w": 4"#, r#""tile_w": 8"#),
    )
    .unwrap();
    let e = run(with("--layer", &tiles));
    assert!(
        e.contains("tiles.json: ") && e.contains("tile_h * tile_w"),
        "{e}"
    );
    // A range error in a configuration file names the file; one from a flag the flag.
    let rows0 = t.path().join("rows0.toml");
    std::fs::write(&rows0, "rows = 0\n").unwrap();
    let e = run(with("--config", &rows0));
    assert!(e.contains("rows0.toml: ") && e.contains("rows = 0"), "{e}");
    let mut a = golden_args(&i, &out);
    a.extend(["--acc-bits".into(), "3".into()]);
    let e = run(a);
    assert!(
        e.contains("--acc-bits: ") && e.contains("acc_bits = 3"),
        "{e}"
    );
    // A 10 MB value in a TOML or JSON file is not echoed.
    let long = "a".repeat(10 << 20);
    let big_toml = t.path().join("big.toml");
    std::fs::write(&big_toml, format!("rows = \"{long}\"\n")).unwrap();
    let e = run(with("--config", &big_toml));
    assert!(e.contains("big.toml") && e.contains("rows"), "{e}");
    let big_json = t.path().join("big.json");
    std::fs::write(
        &big_json,
        layer_json(None).replace(r#""stride": 1"#, &format!(r#""stride": "{long}""#)),
    )
    .unwrap();
    let e = run(with("--layer", &big_json));
    assert!(e.contains("big.json"), "{e}");
    assert!(!out.exists());
}
