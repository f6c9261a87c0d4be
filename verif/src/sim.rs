//! Verilator co-simulation driven from Rust.
//!
//! Any emitted [`Design`] is verilated at run time (`verilator --cc`), its
//! model compiled together with a small generated C shim and the Verilator
//! runtime into one shared library, and loaded with `dlopen`. Builds are
//! cached under `target/drq-sim/<hash>/`, keyed by the SHA-256 of everything
//! that goes into them (Verilog, waivers, shim, flags, Verilator version), so
//! a configuration is verilated once. Ports are reached by name; ports of
//! at most 64 bits go through `u64` directly, wider ones through 32-bit
//! words (lanes packed without big integers; `num-bigint` only for `get`
//! and `set` of whole wide values).
//! Why not the `verilated` crate: `docs/cosim.md`.

use drq_hdl::shell::{Design, Dir, Port};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{tool} failed in {dir}: {message}")]
    Build {
        tool: String,
        dir: String,
        message: String,
    },
    #[error("cannot run {tool}: {source} (install it: apt-get install -y verilator g++)")]
    Missing {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("simulation cache {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load {path}: {message}")]
    Load { path: String, message: String },
}

/// Options of a simulation build and run.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Write a VCD waveform to this file (the model is built with tracing).
    pub vcd: Option<PathBuf>,
    /// Write the model's coverage database (Verilator's `coverage.dat`
    /// format) to this file when the model is dropped (or at
    /// [`Model::write_coverage`]); the model is built with
    /// `--coverage-line --coverage-toggle`, a separate cache entry.
    pub coverage: Option<PathBuf>,
    /// With `coverage`: toggle coverage only of signals at most this many
    /// bits wide (see [`BuildKind::toggle_max_width`]).
    pub toggle_max_width: Option<u32>,
}

impl SimOptions {
    /// Waveforms to `sim-out/<test>/<name>.vcd` when the environment has
    /// `WAVES=1`, else none.
    pub fn from_env(test: &str, name: &str) -> SimOptions {
        let on = std::env::var("WAVES").map(|v| v == "1").unwrap_or(false);
        SimOptions {
            vcd: on.then(|| {
                workspace_root()
                    .join("sim-out")
                    .join(test)
                    .join(format!("{name}.vcd"))
            }),
            ..Default::default()
        }
    }
}

/// The workspace root (where `sim-out/` and `target/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("verif is inside the workspace")
        .to_path_buf()
}

/// Where builds are cached: `$DRQ_SIM_CACHE`, else `<target dir>/drq-sim`.
pub fn cache_root() -> PathBuf {
    if let Ok(p) = std::env::var("DRQ_SIM_CACHE") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    target.join("drq-sim")
}

fn run(cmd: &mut Command, dir: &Path) -> Result<(), SimError> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .current_dir(dir)
        .output()
        .map_err(|source| SimError::Missing {
            tool: tool.clone(),
            source,
        })?;
    if !out.status.success() {
        let mut message = String::from_utf8_lossy(&out.stderr).into_owned();
        message.push_str(&String::from_utf8_lossy(&out.stdout));
        let tail: Vec<&str> = message.lines().rev().take(30).collect();
        return Err(SimError::Build {
            tool,
            dir: dir.display().to_string(),
            message: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Verilator's version line, part of every cache key.
fn verilator_version() -> Result<String, SimError> {
    let out = Command::new("verilator")
        .arg("--version")
        .output()
        .map_err(|source| SimError::Missing {
            tool: "verilator".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn verilator_root() -> Result<PathBuf, SimError> {
    let out = Command::new("verilator")
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .map_err(|source| SimError::Missing {
            tool: "verilator".into(),
            source,
        })?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Verilator's C++ type of a port: how many 32-bit words carry it.
fn words(width: u32) -> usize {
    width.div_ceil(32) as usize
}

/// What a model is built with besides the design (part of the cache key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildKind {
    /// `--trace`: VCD waveforms.
    pub trace: bool,
    /// `--coverage-line --coverage-toggle`: the shim can write the coverage
    /// database (`drq_sim_coverage`).
    pub coverage: bool,
    /// Coverage builds: toggle coverage only of signals at most this wide
    /// (Verilator's `--coverage-max-width`; `None`: its default, 256, so
    /// every signal of the emitted Verilog, the 64-bit words included).
    pub toggle_max_width: Option<u32>,
}

/// Verilator's options of a coverage build.
const COVERAGE_FLAGS: &[&str] = &["--coverage-line", "--coverage-toggle"];

/// Optimisation of the model's C++ (the variables of `verilated.mk`, one
/// `-MAKEFLAGS` each): the evaluation code (`OPT_FAST`) at -O1, which
/// compiles the 16x16 array in 37 s against 59 s at Verilator's default
/// -Os and simulates as fast (about 100 k cycles/s either way; measured
/// in `docs/figures.md` §6.3); the run-once construction code (`OPT_SLOW`,
/// in a coverage build mostly the tables that register the points:
/// 100 MB of C++ for a 4x4 `drq_top` with every toggle) at -O0.
const OPT_MAKEFLAGS: &[&str] = &["OPT_FAST=-O1", "OPT_SLOW=-O0", "OPT_GLOBAL=-O1"];

/// The C shim: create/free a model, evaluate, tick the clock, and set/get
/// ports by index as little-endian 32-bit words; with coverage, write the
/// coverage database.
fn shim_source(design: &Design, kind: BuildKind) -> String {
    let trace = kind.trace;
    let top = &design.top;
    let mut s = String::new();
    let _ = writeln!(s, "// Generated by drq for {top}. Do not edit.");
    let _ = writeln!(
        s,
        "#include \"V{top}.h\"\n#include \"verilated.h\"\n#include <cstdint>"
    );
    if trace {
        let _ = writeln!(s, "#include \"verilated_vcd_c.h\"");
    }
    if kind.coverage {
        let _ = writeln!(s, "#include \"verilated_cov.h\"");
    }
    let _ = writeln!(
        s,
        "#define API extern \"C\" __attribute__((visibility(\"default\")))"
    );
    let _ = writeln!(
        s,
        "struct Sim {{ VerilatedContext ctx; V{top}* top; void* vcd; uint64_t time; }};"
    );
    let _ = writeln!(s, "double sc_time_stamp() {{ return 0; }}");
    let _ = writeln!(s, "API void* drq_sim_new(const char* vcd_path) {{");
    let _ = writeln!(s, "    Sim* s = new Sim(); s->time = 0; s->vcd = nullptr;");
    if trace {
        let _ = writeln!(s, "    s->ctx.traceEverOn(true);");
    }
    let _ = writeln!(s, "    s->top = new V{top}(&s->ctx, \"{top}\");");
    if trace {
        let _ = writeln!(
            s,
            "    if (vcd_path) {{ VerilatedVcdC* v = new VerilatedVcdC(); s->top->trace(v, 99); v->open(vcd_path); s->vcd = v; }}"
        );
    } else {
        let _ = writeln!(s, "    (void)vcd_path;");
    }
    let _ = writeln!(s, "    return s;\n}}");
    let _ = writeln!(s, "static void dump(Sim* s) {{");
    if trace {
        let _ = writeln!(
            s,
            "    if (s->vcd) static_cast<VerilatedVcdC*>(s->vcd)->dump(s->time);"
        );
    }
    let _ = writeln!(s, "    s->time++;\n}}");
    let _ = writeln!(s, "API void drq_sim_free(void* p) {{");
    let _ = writeln!(s, "    Sim* s = static_cast<Sim*>(p);");
    if trace {
        let _ = writeln!(s, "    if (s->vcd) {{ VerilatedVcdC* v = static_cast<VerilatedVcdC*>(s->vcd); v->close(); delete v; }}");
    }
    let _ = writeln!(s, "    s->top->final(); delete s->top; delete s;\n}}");
    let _ = writeln!(
        s,
        "API void drq_sim_eval(void* p) {{ static_cast<Sim*>(p)->top->eval(); }}"
    );
    let _ = writeln!(s, "API void drq_sim_tick(void* p, uint64_t n) {{");
    let _ = writeln!(s, "    Sim* s = static_cast<Sim*>(p);");
    // The clock is the input named `clk` (or `clock`); a design without one
    // only advances time.
    let clock = design
        .ports
        .iter()
        .find(|p| p.dir == Dir::Input && (p.name == "clk" || p.name == "clock"));
    let _ = writeln!(s, "    for (uint64_t i = 0; i < n; i++) {{");
    match clock {
        Some(c) => {
            let _ = writeln!(
                s,
                "        s->top->{} = 0; s->top->eval(); dump(s);",
                c.name
            );
            let _ = writeln!(
                s,
                "        s->top->{} = 1; s->top->eval(); dump(s);",
                c.name
            );
        }
        None => {
            let _ = writeln!(s, "        s->top->eval(); dump(s); dump(s);");
        }
    }
    let _ = writeln!(s, "    }}\n}}");
    let _ = writeln!(s, "API void drq_sim_flush(void* p) {{");
    if trace {
        let _ = writeln!(s, "    Sim* s = static_cast<Sim*>(p); if (s->vcd) static_cast<VerilatedVcdC*>(s->vcd)->flush();");
    } else {
        let _ = writeln!(s, "    (void)p;");
    }
    let _ = writeln!(s, "}}");
    // Coverage builds only (the shim of a normal build, and so its cache
    // key, is what it was): write this model's counts (its context's
    // database) to a file.
    if kind.coverage {
        let _ = writeln!(s, "API int drq_sim_coverage(void* p, const char* path) {{");
        let _ = writeln!(
            s,
            "    static_cast<Sim*>(p)->ctx.coveragep()->write(path); return 1;"
        );
        let _ = writeln!(s, "}}");
    }
    let ports = || design.ports.iter().enumerate();
    let inputs = || ports().filter(|(_, p)| p.dir == Dir::Input);
    port_switch(
        &mut s,
        top,
        "void drq_sim_set(void* p, int port, const uint32_t* w)",
        inputs(),
        |port| {
            let n = &port.name;
            match port.width {
                0..=32 => format!("t->{n} = w[0]; break;"),
                33..=64 => format!("t->{n} = (uint64_t)w[0] | ((uint64_t)w[1] << 32); break;"),
                wide => format!(
                    "for (int i = 0; i < {}; i++) t->{n}[i] = w[i]; break;",
                    words(wide)
                ),
            }
        },
        "break;",
    );
    // Ports of at most 64 bits, without the word array.
    port_switch(
        &mut s,
        top,
        "void drq_sim_set64(void* p, int port, uint64_t v)",
        inputs().filter(|(_, p)| p.width <= 64),
        |port| format!("t->{} = v; break;", port.name),
        "break;",
    );
    port_switch(
        &mut s,
        top,
        "uint64_t drq_sim_get64(void* p, int port)",
        ports().filter(|(_, p)| p.width <= 64),
        |port| format!("return (uint64_t)t->{};", port.name),
        "return 0;",
    );
    port_switch(
        &mut s,
        top,
        "void drq_sim_get(void* p, int port, uint32_t* w)",
        ports(),
        |port| {
            let n = &port.name;
            match port.width {
                0..=32 => format!("w[0] = t->{n}; break;"),
                33..=64 => {
                    format!("w[0] = (uint32_t)t->{n}; w[1] = (uint32_t)(t->{n} >> 32); break;")
                }
                wide => format!(
                    "for (int i = 0; i < {}; i++) w[i] = t->{n}[i]; break;",
                    words(wide)
                ),
            }
        },
        "break;",
    );
    s
}

/// One function of the shim: a `switch` over the port index, a case per
/// port of `ports` with `body`'s statement, `default` otherwise.
fn port_switch<'a>(
    s: &mut String,
    top: &str,
    signature: &str,
    ports: impl Iterator<Item = (usize, &'a Port)>,
    body: impl Fn(&Port) -> String,
    default: &str,
) {
    let _ = writeln!(s, "API {signature} {{");
    let _ = writeln!(
        s,
        "    V{top}* t = static_cast<Sim*>(p)->top;\n    switch (port) {{"
    );
    for (i, port) in ports {
        let _ = writeln!(s, "    case {i}: {}", body(port));
    }
    let _ = writeln!(s, "    default: {default}\n    }}\n}}");
}

const CXXFLAGS: &[&str] = &["-O2", "-fPIC", "-fvisibility=hidden", "-std=c++17"];

/// Verilator's options for every model (measured: `docs/figures.md` §6).
const VERILATOR_FLAGS: &[&str] = &["-O3"];

/// Extra Verilator options from `$DRQ_VERILATOR_FLAGS` (space-separated;
/// for measuring options with `make bench-cosim`), part of the cache key.
fn extra_verilator_flags() -> Vec<String> {
    std::env::var("DRQ_VERILATOR_FLAGS")
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Preprocessor flags of the shim and the runtime for a build kind.
fn kind_defines(kind: BuildKind) -> Vec<&'static str> {
    if kind.coverage {
        vec!["-DVM_COVERAGE=1"]
    } else {
        Vec::new()
    }
}

/// The Verilator runtime compiled once per Verilator version and build kind.
fn runtime_objects(root: &Path, kind: BuildKind) -> Result<Vec<PathBuf>, SimError> {
    let vroot = verilator_root()?;
    let trace = kind.trace;
    let mut sources = vec!["verilated.cpp", "verilated_threads.cpp"];
    if trace {
        sources.push("verilated_vcd_c.cpp");
    }
    if kind.coverage {
        sources.push("verilated_cov.cpp");
    }
    // The key of the runtime without coverage is what it always was, so
    // existing caches stay valid.
    let key = if kind.coverage {
        hex(&Sha256::digest(format!(
            "{}{CXXFLAGS:?}{trace}coverage",
            verilator_version()?
        )))
    } else {
        hex(&Sha256::digest(format!(
            "{}{CXXFLAGS:?}{trace}",
            verilator_version()?
        )))
    };
    let dir = root.join(format!("runtime-{}", &key[..16]));
    let objs: Vec<PathBuf> = sources
        .iter()
        .map(|s| dir.join(s.replace(".cpp", ".o")))
        .collect();
    if objs.iter().all(|o| o.exists()) {
        return Ok(objs);
    }
    // One build of the runtime at a time, across threads and processes.
    let _lock = CacheLock::take(root, &format!("runtime-{}", &key[..16]))?;
    if objs.iter().all(|o| o.exists()) {
        return Ok(objs);
    }
    let tmp = root.join(format!("runtime-{}.tmp-{}", &key[..16], std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let inc = vroot.join("include");
    for src in &sources {
        run(
            Command::new("g++")
                .args(CXXFLAGS)
                .args(kind_defines(kind))
                .arg(format!("-I{}", inc.display()))
                .arg(format!("-I{}", inc.join("vltstd").display()))
                .args([
                    "-c",
                    &inc.join(src).display().to_string(),
                    "-o",
                    &src.replace(".cpp", ".o"),
                ]),
            &tmp,
        )?;
    }
    let _ = std::fs::rename(&tmp, &dir);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(objs)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds a process runs at once. Most models are a few C++ files, which
/// leave one of `-j 2`'s two jobs idle, so two builds share the cores
/// (a 16x16 `drq_top` needs well under 2 GB a compiler).
const MAX_BUILDS: usize = 2;

/// The cache keys of the builds running in this process: at most
/// [`MAX_BUILDS`], never two of one key (the second waits and finds the
/// first's result).
static BUILDS_RUNNING: Mutex<Vec<String>> = Mutex::new(Vec::new());
static BUILD_SLOT_FREED: Condvar = Condvar::new();

/// An exclusive lock on one cache entry across processes (`flock` of
/// `<cache>/<entry>.lock`), held while the entry is built and released
/// when dropped, also when the build fails or the process dies. Without it
/// two processes building one model both compiled it (the second's result
/// was thrown away at the rename).
struct CacheLock {
    _file: std::fs::File,
}

impl CacheLock {
    fn take(root: &Path, entry: &str) -> Result<CacheLock, SimError> {
        let path = root.join(format!("{entry}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.lock().map_err(io_err(&path))?;
        Ok(CacheLock { _file: file })
    }
}

/// A build slot, given back when dropped (also when the build fails).
struct BuildSlot {
    key: String,
}

impl BuildSlot {
    fn take(key: &str) -> BuildSlot {
        let mut running = BUILDS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while running.len() >= MAX_BUILDS || running.iter().any(|k| k == key) {
            running = BUILD_SLOT_FREED
                .wait(running)
                .unwrap_or_else(|e| e.into_inner());
        }
        running.push(key.to_string());
        BuildSlot {
            key: key.to_string(),
        }
    }
}

impl Drop for BuildSlot {
    fn drop(&mut self) {
        let mut running = BUILDS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|k| *k != self.key);
        BUILD_SLOT_FREED.notify_all();
    }
}

/// Verilate and compile a design (or find it in the cache); the path of its
/// shared library.
pub fn build(design: &Design, trace: bool) -> Result<PathBuf, SimError> {
    build_kind(
        design,
        BuildKind {
            trace,
            ..BuildKind::default()
        },
    )
}

/// [`build`] of any [`BuildKind`]; a coverage build is its own cache entry
/// (the key of a build without coverage is unchanged).
pub fn build_kind(design: &Design, kind: BuildKind) -> Result<PathBuf, SimError> {
    let trace = kind.trace;
    let root = cache_root();
    std::fs::create_dir_all(&root).map_err(io_err(&root))?;
    let shim = shim_source(design, kind);
    let mut h = Sha256::new();
    for part in [
        design.verilog.as_str(),
        design.waivers.as_str(),
        shim.as_str(),
        &verilator_version()?,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.update(format!(
        "{CXXFLAGS:?}{trace}{VERILATOR_FLAGS:?}{:?}{OPT_MAKEFLAGS:?}",
        extra_verilator_flags()
    ));
    if kind.coverage {
        h.update(format!("{COVERAGE_FLAGS:?}"));
        if let Some(w) = kind.toggle_max_width {
            h.update(format!("--coverage-max-width {w}"));
        }
    }
    let key = hex(&h.finalize());
    let dir = root.join(&key[..24]);
    let lib = dir.join("libdrqsim.so");
    if lib.exists() {
        return Ok(lib);
    }
    let _slot = BuildSlot::take(&key);
    // Another process sharing the cache (a second `drq sim`, the test
    // binaries' `drq` children) builds one key at a time with us.
    let _lock = CacheLock::take(&root, &key[..24])?;
    // Another thread or process may have built it meanwhile.
    if lib.exists() {
        return Ok(lib);
    }
    let runtime = runtime_objects(&root, kind)?;
    let tmp = root.join(format!("{}.tmp-{}", &key[..24], std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let top = &design.top;
    let write = |name: &str, text: &str| std::fs::write(tmp.join(name), text).map_err(io_err(&tmp));
    write(&format!("{top}.v"), &design.verilog)?;
    write(&format!("{top}.vlt"), &design.waivers)?;
    write("shim.cpp", &shim)?;
    let mut verilate = Command::new("verilator");
    verilate
        .args([
            "--cc",
            "--build",
            "-j",
            "2",
            "--top-module",
            top,
            "-Mdir",
            "obj",
        ])
        .args(VERILATOR_FLAGS)
        .args(extra_verilator_flags())
        .args(["-CFLAGS", "-fPIC -fvisibility=hidden"]);
    for flag in OPT_MAKEFLAGS {
        verilate.args(["-MAKEFLAGS", flag]);
    }
    if trace {
        verilate.arg("--trace");
    }
    if kind.coverage {
        verilate.args(COVERAGE_FLAGS);
        if let Some(w) = kind.toggle_max_width {
            verilate.args(["--coverage-max-width", &w.to_string()]);
        }
    }
    run(
        verilate.arg(format!("{top}.vlt")).arg(format!("{top}.v")),
        &tmp,
    )?;
    let inc = verilator_root()?.join("include");
    run(
        Command::new("g++")
            .args(CXXFLAGS)
            .args(kind_defines(kind))
            .args(["-shared", "-Wl,-Bsymbolic", "-Iobj"])
            .arg(format!("-I{}", inc.display()))
            .arg(format!("-I{}", inc.join("vltstd").display()))
            .arg("shim.cpp")
            .arg("-Wl,--whole-archive")
            .arg(format!("obj/V{top}__ALL.a"))
            .arg("-Wl,--no-whole-archive")
            .args(&runtime)
            .args(["-pthread", "-o", "libdrqsim.so"]),
        &tmp,
    )?;
    // Publish atomically; a concurrent process may have won the race.
    if std::fs::rename(&tmp, &dir).is_err() && !lib.exists() {
        return Err(SimError::Io {
            path: dir.display().to_string(),
            source: std::io::Error::other("could not publish the build"),
        });
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(lib)
}

type NewFn = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut c_void;
type PtrFn = unsafe extern "C" fn(*mut c_void);
type TickFn = unsafe extern "C" fn(*mut c_void, u64);
type SetFn = unsafe extern "C" fn(*mut c_void, i32, *const u32);
type GetFn = unsafe extern "C" fn(*mut c_void, i32, *mut u32);
type Set64Fn = unsafe extern "C" fn(*mut c_void, i32, u64);
type Get64Fn = unsafe extern "C" fn(*mut c_void, i32) -> u64;
type CoverageFn = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;

/// A port of a loaded [`Model`], resolved once by [`Model::port_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortId {
    index: i32,
    width: u32,
    dir: Dir,
}

/// A running Verilator model of a design.
pub struct Model {
    _lib: libloading::Library,
    handle: *mut c_void,
    free: PtrFn,
    eval: PtrFn,
    flush: PtrFn,
    tick: TickFn,
    set: SetFn,
    get: GetFn,
    set64: Set64Fn,
    get64: Get64Fn,
    /// The shim's coverage writer (coverage builds only).
    coverage: Option<CoverageFn>,
    /// Where the coverage database goes when the model is dropped.
    coverage_path: Option<PathBuf>,
    ports: HashMap<String, (i32, Port)>,
    cycles: u64,
    buf: Vec<u32>,
}

impl Model {
    /// Build (or reuse) and load a model of `design`.
    pub fn new(design: &Design, opts: &SimOptions) -> Result<Model, SimError> {
        let lib_path = build_kind(
            design,
            BuildKind {
                trace: opts.vcd.is_some(),
                coverage: opts.coverage.is_some(),
                toggle_max_width: opts.toggle_max_width,
            },
        )?;
        let load_err = |e: libloading::Error| SimError::Load {
            path: lib_path.display().to_string(),
            message: e.to_string(),
        };
        // SAFETY: the library is one this module generated and compiled; the
        // symbols have exactly the signatures written in `shim_source`.
        unsafe {
            let lib = libloading::Library::new(&lib_path).map_err(load_err)?;
            let new: NewFn = *lib.get(b"drq_sim_new").map_err(load_err)?;
            let free: PtrFn = *lib.get(b"drq_sim_free").map_err(load_err)?;
            let eval: PtrFn = *lib.get(b"drq_sim_eval").map_err(load_err)?;
            let flush: PtrFn = *lib.get(b"drq_sim_flush").map_err(load_err)?;
            let tick: TickFn = *lib.get(b"drq_sim_tick").map_err(load_err)?;
            let set: SetFn = *lib.get(b"drq_sim_set").map_err(load_err)?;
            let get: GetFn = *lib.get(b"drq_sim_get").map_err(load_err)?;
            let set64: Set64Fn = *lib.get(b"drq_sim_set64").map_err(load_err)?;
            let get64: Get64Fn = *lib.get(b"drq_sim_get64").map_err(load_err)?;
            let coverage: Option<CoverageFn> = if opts.coverage.is_some() {
                Some(*lib.get(b"drq_sim_coverage").map_err(load_err)?)
            } else {
                None
            };
            let vcd = match &opts.vcd {
                Some(p) => {
                    if let Some(dir) = p.parent() {
                        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
                    }
                    Some(CString::new(p.display().to_string()).expect("path without NUL"))
                }
                None => None,
            };
            let handle = new(vcd.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()));
            let ports = design
                .ports
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.clone(), (i as i32, p.clone())))
                .collect();
            let widest = design
                .ports
                .iter()
                .map(|p| words(p.width))
                .max()
                .unwrap_or(1);
            Ok(Model {
                _lib: lib,
                handle,
                free,
                eval,
                flush,
                tick,
                set,
                get,
                set64,
                get64,
                coverage,
                coverage_path: opts.coverage.clone(),
                ports,
                cycles: 0,
                buf: vec![0; widest],
            })
        }
    }

    fn port(&self, name: &str) -> (i32, u32, Dir) {
        let p = self.port_id(name);
        (p.index, p.width, p.dir)
    }

    /// The handle of port `name`, for the per-cycle accessors
    /// [`Model::set_u64_at`] and [`Model::get_u64_at`], which skip the
    /// lookup by name. Panics if the design has no such port.
    pub fn port_id(&self, name: &str) -> PortId {
        let (i, p) = self
            .ports
            .get(name)
            .unwrap_or_else(|| panic!("the design has no port {name}"));
        PortId {
            index: *i,
            width: p.width,
            dir: p.dir,
        }
    }

    /// Drive an input port from a `u64` (truncated to its width).
    pub fn set_u64_at(&mut self, port: PortId, value: u64) {
        assert_eq!(port.dir, Dir::Input, "port {} is not an input", port.index);
        if port.width <= 64 {
            let v = if port.width == 64 {
                value
            } else {
                value & ((1u64 << port.width) - 1)
            };
            // SAFETY: handle is live; the port index is an input of the design.
            unsafe { (self.set64)(self.handle, port.index, v) }
        } else {
            self.set_words(
                port.index,
                port.width,
                &[value as u32, (value >> 32) as u32],
            );
        }
    }

    /// Read a port's low 64 bits (after `eval` for combinational outputs).
    pub fn get_u64_at(&mut self, port: PortId) -> u64 {
        if port.width <= 64 {
            // SAFETY: handle is live; the port index belongs to the design.
            unsafe { (self.get64)(self.handle, port.index) }
        } else {
            self.get_words(port.index, port.width);
            u64::from(self.buf[0]) | u64::from(self.buf[1]) << 32
        }
    }

    pub fn set_bool_at(&mut self, port: PortId, value: bool) {
        self.set_u64_at(port, u64::from(value));
    }

    pub fn get_bool_at(&mut self, port: PortId) -> bool {
        self.get_u64_at(port) & 1 == 1
    }

    /// Drive an input port (value truncated to its width).
    pub fn set(&mut self, name: &str, value: &BigUint) {
        let (i, width, dir) = self.port(name);
        assert_eq!(dir, Dir::Input, "{name} is not an input");
        self.set_words(i, width, &value.to_u32_digits());
    }

    /// Drive an input port from a `u64` (truncated to its width); ports of
    /// at most 64 bits go straight to the model, without big integers.
    pub fn set_u64(&mut self, name: &str, value: u64) {
        let p = self.port_id(name);
        assert_eq!(p.dir, Dir::Input, "{name} is not an input");
        self.set_u64_at(p, value);
    }

    /// Drive input port `i` from little-endian 32-bit words (missing words
    /// are zero, the top word is masked to the width).
    fn set_words(&mut self, i: i32, width: u32, words_in: &[u32]) {
        let n = words(width);
        for (k, w) in self.buf.iter_mut().enumerate().take(n) {
            *w = words_in.get(k).copied().unwrap_or(0);
        }
        if width % 32 != 0 {
            self.buf[n - 1] &= (1u32 << (width % 32)) - 1;
        }
        // SAFETY: handle is live and buf holds at least words(width) words.
        unsafe { (self.set)(self.handle, i, self.buf.as_ptr()) }
    }

    pub fn set_bool(&mut self, name: &str, value: bool) {
        self.set_u64(name, u64::from(value));
    }

    /// Drive a packed bus: lane k of `lane_width` bits gets values[k]
    /// (two's complement, truncated).
    pub fn set_lanes(&mut self, name: &str, lane_width: u32, values: &[i64]) {
        let (i, width, dir) = self.port(name);
        assert_eq!(dir, Dir::Input, "{name} is not an input");
        if width <= 64 {
            let w = pack_lanes_words(lane_width, values, 2);
            self.set_u64(name, u64::from(w[0]) | u64::from(w[1]) << 32);
        } else {
            let w = pack_lanes_words(lane_width, values, words(width));
            self.set_words(i, width, &w);
        }
    }

    /// Read a port (after `eval` for combinational outputs).
    pub fn get(&mut self, name: &str) -> BigUint {
        let (i, width, _) = self.port(name);
        BigUint::from_slice(self.get_words(i, width))
    }

    /// Read a port's low 64 bits; ports of at most 64 bits come straight
    /// from the model, without big integers.
    pub fn get_u64(&mut self, name: &str) -> u64 {
        let p = self.port_id(name);
        self.get_u64_at(p)
    }

    /// Port `i` into `buf` as little-endian 32-bit words.
    fn get_words(&mut self, i: i32, width: u32) -> &[u32] {
        // SAFETY: handle is live and buf holds at least words(width) words.
        unsafe { (self.get)(self.handle, i, self.buf.as_mut_ptr()) }
        &self.buf[..words(width)]
    }

    pub fn get_bool(&mut self, name: &str) -> bool {
        let p = self.port_id(name);
        self.get_bool_at(p)
    }

    /// Read a packed bus as `count` lanes, sign-extended if `signed`.
    pub fn get_lanes(
        &mut self,
        name: &str,
        lane_width: u32,
        count: usize,
        signed: bool,
    ) -> Vec<i64> {
        let (i, width, _) = self.port(name);
        if width <= 64 {
            let v = self.get_u64(name);
            unpack_lanes_words(&[v as u32, (v >> 32) as u32], lane_width, count, signed)
        } else {
            let w = self.get_words(i, width).to_vec();
            unpack_lanes_words(&w, lane_width, count, signed)
        }
    }

    /// Settle combinational logic after changing inputs.
    pub fn eval(&mut self) {
        // SAFETY: handle is live.
        unsafe { (self.eval)(self.handle) }
    }

    /// `n` clock cycles (falling then rising edge of `clk`).
    pub fn tick(&mut self, n: u64) {
        // SAFETY: handle is live.
        unsafe { (self.tick)(self.handle, n) }
        self.cycles += n;
    }

    /// Rising edges since the model was created.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Synchronous reset for `n` cycles.
    pub fn reset(&mut self, n: u64) {
        self.set_bool("rst", true);
        self.tick(n);
        self.set_bool("rst", false);
        self.eval();
    }

    /// Write buffered waveform data to disk.
    pub fn flush_waves(&mut self) {
        // SAFETY: handle is live.
        unsafe { (self.flush)(self.handle) }
    }

    /// Write the coverage counts so far (since the model was created) to
    /// `path` in Verilator's `coverage.dat` format (read by
    /// `verilator_coverage` and [`crate::coverage`]). An error if the model
    /// was built without coverage ([`SimOptions::coverage`]).
    pub fn write_coverage(&mut self, path: &Path) -> Result<(), SimError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let c = CString::new(path.display().to_string()).expect("path without NUL");
        let ok = match self.coverage {
            // SAFETY: handle is live; the path is a NUL-terminated string.
            Some(write) => unsafe { write(self.handle, c.as_ptr()) },
            None => 0,
        };
        if ok == 0 {
            return Err(SimError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other("the model was built without coverage"),
            });
        }
        Ok(())
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        if let Some(p) = self.coverage_path.take() {
            if let Err(e) = self.write_coverage(&p) {
                eprintln!("coverage of the model not written: {e}");
            }
        }
        // SAFETY: handle came from drq_sim_new and is freed once.
        unsafe { (self.free)(self.handle) }
    }
}

/// Pack lanes of `lane_width` bits (two's complement, truncated).
pub fn pack_lanes(lane_width: u32, values: &[i64]) -> BigUint {
    let mask = if lane_width >= 64 {
        u64::MAX
    } else {
        (1u64 << lane_width) - 1
    };
    let mut v = BigUint::default();
    for (k, &x) in values.iter().enumerate() {
        v |= BigUint::from(x as u64 & mask) << (k as u32 * lane_width);
    }
    v
}

/// Unpack `count` lanes of `lane_width` bits, sign-extended if `signed`.
pub fn unpack_lanes(v: &BigUint, lane_width: u32, count: usize, signed: bool) -> Vec<i64> {
    let mask = if lane_width >= 64 {
        u64::MAX
    } else {
        (1u64 << lane_width) - 1
    };
    (0..count)
        .map(|k| {
            let lane: BigUint = (v >> (k as u32 * lane_width)) & BigUint::from(mask);
            let raw = lane.iter_u64_digits().next().unwrap_or(0);
            if signed && lane_width < 64 {
                let sh = 64 - lane_width;
                ((raw << sh) as i64) >> sh
            } else {
                raw as i64
            }
        })
        .collect()
}

/// Pack lanes of `lane_width` bits (two's complement, truncated) into `n`
/// little-endian 32-bit words, without big integers.
pub fn pack_lanes_words(lane_width: u32, values: &[i64], n: usize) -> Vec<u32> {
    let mask = if lane_width >= 64 {
        u64::MAX
    } else {
        (1u64 << lane_width) - 1
    };
    let mut w = vec![0u32; n.max(1) + 3];
    for (k, &x) in values.iter().enumerate() {
        let v = x as u64 & mask;
        let bit = k * lane_width as usize;
        let (word, off) = (bit / 32, (bit % 32) as u32);
        if word >= n {
            break;
        }
        // The lane spans at most three words.
        let wide = u128::from(v) << off;
        w[word] |= wide as u32;
        w[word + 1] |= (wide >> 32) as u32;
        w[word + 2] |= (wide >> 64) as u32;
    }
    w.truncate(n.max(1));
    w
}

/// Unpack `count` lanes of `lane_width` bits from little-endian 32-bit
/// words, sign-extended if `signed`.
pub fn unpack_lanes_words(w: &[u32], lane_width: u32, count: usize, signed: bool) -> Vec<i64> {
    let mask = if lane_width >= 64 {
        u64::MAX
    } else {
        (1u64 << lane_width) - 1
    };
    let at = |i: usize| u128::from(w.get(i).copied().unwrap_or(0));
    (0..count)
        .map(|k| {
            let bit = k * lane_width as usize;
            let (word, off) = (bit / 32, bit % 32);
            let wide = at(word) | at(word + 1) << 32 | at(word + 2) << 64;
            let raw = (wide >> off) as u64 & mask;
            if signed && lane_width < 64 {
                let sh = 64 - lane_width;
                ((raw << sh) as i64) >> sh
            } else {
                raw as i64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second holder of one entry's lock (another process, or here
    /// another open of the file) waits until the first lets go; other
    /// entries do not wait.
    #[test]
    fn a_cache_entry_is_locked_until_its_holder_lets_go() {
        let dir = std::env::temp_dir().join(format!("drq-cache-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = CacheLock::take(&dir, "entry").unwrap();
        let other = CacheLock::take(&dir, "other entry").unwrap();
        let taken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waiter = {
            let (dir, taken) = (dir.clone(), taken.clone());
            std::thread::spawn(move || {
                let _second = CacheLock::take(&dir, "entry").unwrap();
                taken.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !taken.load(std::sync::atomic::Ordering::SeqCst),
            "the lock was taken twice"
        );
        drop(first);
        waiter.join().unwrap();
        assert!(taken.load(std::sync::atomic::Ordering::SeqCst));
        drop(other);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn word_lanes_agree_with_big_integer_lanes() {
        for lane_width in [1, 3, 5, 8, 17, 31, 32, 33, 48, 63, 64] {
            for count in [1usize, 2, 3, 7, 16] {
                let vals: Vec<i64> = (0..count as i64)
                    .map(|k| (k * 0x1234_5678_9abc_def1_u64 as i64).wrapping_mul(k - 3))
                    .collect();
                let n = words(lane_width * count as u32);
                let big = pack_lanes(lane_width, &vals);
                let mut digits = big.to_u32_digits();
                digits.resize(n, 0);
                assert_eq!(
                    pack_lanes_words(lane_width, &vals, n),
                    digits,
                    "{lane_width} x {count}"
                );
                for signed in [false, true] {
                    assert_eq!(
                        unpack_lanes_words(&digits, lane_width, count, signed),
                        unpack_lanes(&big, lane_width, count, signed),
                        "{lane_width} x {count} {signed}"
                    );
                }
            }
        }
    }

    /// A normal build's shim (part of its cache key) has nothing of
    /// coverage; a coverage build's has the writer.
    #[test]
    fn coverage_changes_only_the_coverage_builds_shim() {
        let d = drq_hdl::top::top_design(&crate::regress::cfg_4x4());
        let normal = shim_source(&d, BuildKind::default());
        assert!(!normal.contains("coverage") && !normal.contains("verilated_cov"));
        let traced = shim_source(
            &d,
            BuildKind {
                trace: true,
                ..BuildKind::default()
            },
        );
        assert!(!traced.contains("coverage"));
        let cov = shim_source(
            &d,
            BuildKind {
                coverage: true,
                ..BuildKind::default()
            },
        );
        assert!(cov.contains("API int drq_sim_coverage(") && cov.contains("verilated_cov.h"));
        assert!(kind_defines(BuildKind::default()).is_empty());
    }

    #[test]
    fn lanes_round_trip_signed_and_wide() {
        let vals = vec![-1, 5, -16, 15, 0, -8];
        let packed = pack_lanes(5, &vals);
        assert_eq!(unpack_lanes(&packed, 5, 6, true), vals);
        let wide = vec![i64::MIN, -1, 1 << 40];
        assert_eq!(unpack_lanes(&pack_lanes(64, &wide), 64, 3, true), wide);
        let acc = vec![-(1 << 31), (1 << 31) - 1, -7];
        assert_eq!(unpack_lanes(&pack_lanes(32, &acc), 32, 3, true), acc);
    }
}
