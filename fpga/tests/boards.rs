//! FPGA board wrappers (`constraints/<board>/`, `docs/boards.md`):
//!
//! * each wrapper, the shared board logic (`drq_board`), the UART bridge
//!   and the `drq_top` of the board's `accel.toml` lint clean with `verilator --lint-only -Wall` (only the
//!   emitted waivers and `constraints/common/*.vlt`);
//! * the smallest board's wrapper runs in Verilator: reset from the button,
//!   requests bit-banged over the UART (`drq_fpga::uart`), the ID register,
//!   a RW register, a refused write to a read-only register, and a word of
//!   the weight buffer through the window;
//! * every constraint file names only ports the wrapper has, places every
//!   port bit, and gives the clock its frequency.

use drq_arch::config::RawAccelConfig;
use drq_arch::regs::{reg, Buffer, WindowMap, ID_VALUE};
use drq_arch::AccelConfig;
use drq_fpga::uart::{Answer, Request, Status, UartRx, UartTx};
use drq_hdl::shell::{Design, Dir, Port};
use drq_hdl::top::top_design;
use drq_verif::sim::{workspace_root, Model, SimOptions};
use drq_verif::tools;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

struct Board {
    /// Folder under constraints/ (and `drq_<name>` the wrapper's module).
    name: &'static str,
    /// Constraint file in the folder.
    constraints: &'static str,
    /// Clock frequency in MHz the constraint file must give.
    clock_mhz: f64,
    /// Port-only models of vendor primitives the wrapper instantiates, in
    /// the folder, read by the lint only (the tools bring the real ones).
    lint_models: &'static [&'static str],
}

const BOARDS: [Board; 3] = [
    Board {
        name: "ulx3s",
        constraints: "ulx3s.lpf",
        clock_mhz: 25.0,
        lint_models: &[],
    },
    Board {
        name: "icebreaker",
        constraints: "icebreaker.pcf",
        clock_mhz: 12.0,
        lint_models: &[],
    },
    Board {
        name: "arty_a7_100t",
        constraints: "arty_a7_100t.xdc",
        clock_mhz: 100.0,
        lint_models: &["unisim_lint.v"],
    },
];

fn constraints_dir() -> PathBuf {
    workspace_root().join("constraints")
}

fn board_dir(b: &Board) -> PathBuf {
    constraints_dir().join(b.name)
}

fn wrapper_path(b: &Board) -> PathBuf {
    board_dir(b).join(format!("drq_{}.v", b.name))
}

fn bridge_path() -> PathBuf {
    constraints_dir().join("common").join("drq_uart_axil.v")
}

/// The board logic every wrapper instantiates (reset, bridge, core, LEDs).
fn board_logic_path() -> PathBuf {
    constraints_dir().join("common").join("drq_board.v")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn board_config(b: &Board) -> AccelConfig {
    let path = board_dir(b).join("accel.toml");
    AccelConfig::load(Some(&path), &RawAccelConfig::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ports of a Verilog-2005 ANSI module header: lines
/// `input|output wire [hi:lo] name,`.
fn wrapper_ports(verilog: &str) -> Vec<Port> {
    let mut ports = Vec::new();
    for line in verilog.lines() {
        let line = line.split("//").next().unwrap().trim();
        let dir = if line.starts_with("input ") {
            Dir::Input
        } else if line.starts_with("output ") {
            Dir::Output
        } else {
            continue;
        };
        let toks: Vec<&str> = line
            .trim_end_matches(',')
            .split_whitespace()
            .skip(1)
            .filter(|t| *t != "wire" && *t != "reg")
            .collect();
        let (width, name) = match toks.as_slice() {
            [name] => (1, *name),
            [range, name] => {
                let r = range.trim_start_matches('[').trim_end_matches(']');
                let (hi, lo) = r.split_once(':').expect("range hi:lo");
                let hi: u32 = hi.parse().unwrap();
                let lo: u32 = lo.parse().unwrap();
                assert_eq!(lo, 0, "{line}: ranges end at 0");
                (hi + 1, *name)
            }
            _ => panic!("cannot parse port line {line:?}"),
        };
        ports.push(Port {
            name: name.to_string(),
            dir,
            width,
        });
    }
    assert!(!ports.is_empty(), "no ports found");
    ports
}

fn common_waiver_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(constraints_dir().join("common"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "vlt"))
        .collect();
    v.sort();
    v
}

#[test]
fn wrappers_bridge_and_core_lint_clean() {
    // Boards with the same configuration share one emitted core.
    let mut cores: HashMap<String, Design> = HashMap::new();
    let dir = tempfile::tempdir().unwrap();
    for b in &BOARDS {
        let cfg = board_config(b);
        let core = cores
            .entry(format!("{cfg:?}"))
            .or_insert_with(|| top_design(&cfg));
        let sub = dir.path().join(b.name);
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("drq_top.v"), &core.verilog).unwrap();
        std::fs::write(sub.join("drq_top.vlt"), &core.waivers).unwrap();
        let mut args: Vec<OsString> = vec![
            "--lint-only".into(),
            "-Wall".into(),
            "--top-module".into(),
            format!("drq_{}", b.name).into(),
            sub.join("drq_top.vlt").into(),
        ];
        args.extend(common_waiver_files().into_iter().map(OsString::from));
        args.push(wrapper_path(b).into());
        args.extend(b.lint_models.iter().map(|m| board_dir(b).join(m).into()));
        args.push(board_logic_path().into());
        args.push(bridge_path().into());
        args.push(sub.join("drq_top.v").into());
        let run = tools::run("verilator", args, &sub)
            .expect("verilator runs (apt-get install -y verilator)");
        assert!(
            run.clean(),
            "{}: verilator --lint-only -Wall:\n{}",
            b.name,
            run.output
        );
    }
}

/// A UART host attached to a wrapper model: drives `uart_rx`, samples
/// `uart_tx`, one clock cycle at a time.
struct Host {
    model: Model,
    tx: UartTx,
    rx: UartRx,
    clks_per_bit: u32,
}

impl Host {
    fn cycle(&mut self) {
        let level = self.tx.level();
        self.model.set_bool("uart_rx", level);
        self.model.tick(1);
        let out = self.model.get_bool("uart_tx");
        self.rx.sample(out);
    }

    /// Send raw bytes and run until they are out (nothing answered).
    fn send_raw(&mut self, bytes: &[u8]) {
        self.tx.send(bytes);
        while !self.tx.idle() {
            self.cycle();
        }
    }

    fn transact(&mut self, req: Request) -> Answer {
        self.tx.send(&req.encode().unwrap());
        let n = req.answer_len();
        // The request, the answer and slack for the AXI transaction.
        let limit = (14 * 10 * self.clks_per_bit + 200) as usize;
        for _ in 0..limit {
            self.cycle();
            if self.rx.available() >= n && !self.rx.busy() {
                break;
            }
        }
        let bytes = self.rx.take();
        assert_eq!(self.rx.framing_errors, 0, "{req:?}: framing errors");
        // The line must stay idle: no extra bytes.
        for _ in 0..(12 * self.clks_per_bit) {
            self.cycle();
        }
        assert_eq!(
            self.rx.available(),
            0,
            "{req:?}: extra bytes after the answer"
        );
        req.decode_answer(&bytes)
            .unwrap_or_else(|e| panic!("{req:?}: {e} (bytes {bytes:02X?})"))
    }

    fn read(&mut self, addr: u64) -> (Status, u32) {
        let a = self.transact(Request::Read { addr: addr as u32 });
        (a.status, a.data.unwrap())
    }

    fn write(&mut self, addr: u64, data: u32) -> Status {
        self.transact(Request::Write {
            addr: addr as u32,
            data,
        })
        .status
    }
}

/// The board with the fewest array cells (the cheapest to verilate).
fn smallest_board() -> &'static Board {
    BOARDS
        .iter()
        .min_by_key(|b| {
            let c = board_config(b);
            (c.rows * c.cols, c.act_words)
        })
        .unwrap()
}

#[test]
fn smallest_board_answers_over_the_uart() {
    const CLKS_PER_BIT: u32 = 8;
    let b = smallest_board();
    let cfg = board_config(b);
    let core = top_design(&cfg);
    let wrapper = read(&wrapper_path(b));
    let ports = wrapper_ports(&wrapper);
    // The board's baud divider, replaced by a fast one for simulation (the
    // wrapper passes it on to drq_board, which passes it to the bridge).
    assert!(
        wrapper.contains(".CLKS_PER_BIT(CLKS_PER_BIT)"),
        "{}: the wrapper passes CLKS_PER_BIT to drq_board",
        b.name
    );
    let default_line = wrapper
        .lines()
        .find(|l| l.contains("parameter integer CLKS_PER_BIT"))
        .expect("wrapper parameter CLKS_PER_BIT");
    let fast_line = format!("    parameter integer CLKS_PER_BIT = {CLKS_PER_BIT}");
    let wrapper_fast = wrapper.replacen(default_line, &fast_line, 1);
    let mut verilog = wrapper_fast;
    verilog.push('\n');
    verilog.push_str(&read(&board_logic_path()));
    verilog.push('\n');
    verilog.push_str(&read(&bridge_path()));
    verilog.push('\n');
    verilog.push_str(&core.verilog);
    let design = Design {
        top: format!("drq_{}", b.name),
        verilog,
        ports: ports.clone(),
        waivers: core.waivers.clone(),
    };
    let opts = SimOptions::from_env("boards", b.name);
    let model = Model::new(&design, &opts).unwrap_or_else(|e| panic!("{e}"));
    let mut host = Host {
        model,
        tx: UartTx::new(CLKS_PER_BIT),
        rx: UartRx::new(CLKS_PER_BIT),
        clks_per_bit: CLKS_PER_BIT,
    };

    // The reset button: active low when the port is named *_n.
    let button = ports
        .iter()
        .find(|p| p.dir == Dir::Input && p.name.starts_with("btn"))
        .expect("a button input")
        .name
        .clone();
    let active_low = button.ends_with("_n");
    host.model.set_bool("uart_rx", true);
    host.model.set_bool(&button, !active_low);
    host.model.tick(40);
    host.model.set_bool(&button, active_low);
    host.model.tick(8);
    // A line that idles, and no answer to nothing.
    for _ in 0..(20 * CLKS_PER_BIT) {
        host.cycle();
    }
    assert_eq!(host.rx.available(), 0);

    // Junk before a command is ignored.
    host.send_raw(b"x?\x00");
    let (st, id) = host.read(4 * reg::ID as u64);
    assert_eq!((st, id), (Status::Okay, ID_VALUE), "ID register");

    let mode = 4 * reg::MODE as u64;
    assert_eq!(host.read(mode), (Status::Okay, 0), "MODE after reset");
    assert_eq!(host.write(mode, 0x15), Status::Okay);
    assert_eq!(host.read(mode), (Status::Okay, 0x15), "MODE read back");
    assert_eq!(host.write(mode, 0x0A), Status::Okay);
    assert_eq!(host.read(mode), (Status::Okay, 0x0A), "MODE read back");

    // Read-only register: the write is refused and changes nothing.
    let status = 4 * reg::STATUS as u64;
    assert_eq!(host.write(status, 0xFFFF_FFFF), Status::Error);
    assert_eq!(host.write(4 * reg::ID as u64, 0), Status::Error);
    assert_eq!(host.read(4 * reg::ID as u64), (Status::Okay, ID_VALUE));
    // Unmapped: a read answers 'E' and four zero bytes.
    assert_eq!(host.read(0x80000), (Status::Error, 0));

    // The weight buffer through the window.
    let map = WindowMap::new(&cfg);
    let w0 = map.byte_addr(Buffer::Weights, 0);
    let w1 = map.byte_addr(Buffer::Weights, 1);
    assert_eq!(host.write(w0, 0x5A), Status::Okay);
    assert_eq!(host.write(w1, 0x21), Status::Okay);
    assert_eq!(host.read(w0), (Status::Okay, 0x5A), "WEIGHTS[0]");
    assert_eq!(host.read(w1), (Status::Okay, 0x21), "WEIGHTS[1]");

    // The button resets the registers (the buffers keep their contents).
    host.model.set_bool(&button, !active_low);
    host.model.tick(10);
    host.model.set_bool(&button, active_low);
    host.model.tick(8);
    assert_eq!(host.read(mode), (Status::Okay, 0), "MODE after the button");
    assert_eq!(host.read(w0), (Status::Okay, 0x5A), "WEIGHTS[0] kept");
    host.model.flush_waves();
}

/// Port names (with an optional bit index, `None` for `[*]` or none) named
/// by a constraint file, the ports it places on pins, and the clock
/// frequencies it gives (port, MHz).
#[derive(Default)]
struct Constrained {
    named: Vec<(String, Option<Option<u32>>)>,
    placed: Vec<(String, Option<u32>)>,
    clocks: Vec<(String, f64)>,
}

impl Constrained {
    /// `name` is placed on a pin.
    fn place(&mut self, name: &str) {
        let s = split_name(name);
        self.placed.push(bit(&s));
        self.named.push(s);
    }
}

/// The lines of a constraint file, each without its `#` comment, trimmed.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.split('#').next().unwrap().trim())
}

/// `led[3]` -> ("led", Some(Some(3))); `led[*]` -> ("led", Some(None));
/// `clk` -> ("clk", None).
fn split_name(s: &str) -> (String, Option<Option<u32>>) {
    match s.split_once('[') {
        None => (s.to_string(), None),
        Some((base, rest)) => {
            let idx = rest.trim_end_matches(']');
            let idx = if idx == "*" {
                None
            } else {
                Some(idx.parse().unwrap_or_else(|_| panic!("index of {s}")))
            };
            (base.to_string(), Some(idx))
        }
    }
}

fn bit(named: &(String, Option<Option<u32>>)) -> (String, Option<u32>) {
    (named.0.clone(), named.1.flatten())
}

fn quoted(line: &str, after: &str) -> Option<String> {
    let rest = &line[line.find(after)? + after.len()..];
    let rest = rest.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn parse_lpf(text: &str) -> Constrained {
    let mut c = Constrained::default();
    for line in code_lines(text) {
        if let Some(n) = quoted(line, "LOCATE COMP") {
            c.place(&n);
        } else if let Some(n) = quoted(line, "IOBUF PORT") {
            c.named.push(split_name(&n));
        } else if let Some(n) = quoted(line, "FREQUENCY PORT") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mhz: f64 = words[words.len() - 2].parse().unwrap();
            assert_eq!(
                words[words.len() - 1].trim_end_matches(';').to_uppercase(),
                "MHZ"
            );
            c.clocks.push((n.clone(), mhz));
            c.named.push(split_name(&n));
        }
    }
    c
}

fn parse_pcf(text: &str) -> Constrained {
    let mut c = Constrained::default();
    for line in code_lines(text) {
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .collect();
        match words.as_slice() {
            ["set_io", name, _pin] => c.place(name),
            ["set_frequency", name, mhz] => {
                c.clocks.push((name.to_string(), mhz.parse().unwrap()));
                c.named.push(split_name(name));
            }
            [] => {}
            other => panic!("unexpected pcf line {other:?}"),
        }
    }
    c
}

fn parse_xdc(text: &str) -> Constrained {
    let mut c = Constrained::default();
    for line in code_lines(text) {
        let mut names = Vec::new();
        let mut rest = line;
        while let Some(i) = rest.find("[get_ports") {
            let after = &rest[i + "[get_ports".len()..];
            // The argument ends at the bracket closing [get_ports.
            let mut depth = 1;
            let mut end = after.len();
            for (k, ch) in after.char_indices() {
                match ch {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let arg = after[..end].replace(['{', '}'], " ");
            names.extend(arg.split_whitespace().map(split_name));
            rest = &after[end..];
        }
        if line.contains("PACKAGE_PIN") {
            c.placed.extend(names.iter().map(bit));
        }
        if line.starts_with("create_clock") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let p = words.iter().position(|w| *w == "-period").expect("-period");
            let ns: f64 = words[p + 1].parse().unwrap();
            for n in &names {
                c.clocks.push((n.0.clone(), 1000.0 / ns));
            }
        }
        c.named.extend(names);
    }
    c
}

#[test]
fn constraint_files_name_only_wrapper_ports() {
    for b in &BOARDS {
        let ports = wrapper_ports(&read(&wrapper_path(b)));
        let path = board_dir(b).join(b.constraints);
        let text = read(&path);
        let c = match path.extension().and_then(|e| e.to_str()) {
            Some("lpf") => parse_lpf(&text),
            Some("pcf") => parse_pcf(&text),
            Some("xdc") => parse_xdc(&text),
            other => panic!("unknown constraint format {other:?}"),
        };
        let width = |name: &str| ports.iter().find(|p| p.name == name).map(|p| p.width);
        for (name, idx) in &c.named {
            let w = width(name)
                .unwrap_or_else(|| panic!("{}: names {name}, not a port of the wrapper", b.name));
            match idx {
                None => assert_eq!(w, 1, "{}: {name} is a bus, named without an index", b.name),
                Some(Some(i)) => assert!(*i < w && w > 1, "{}: {name}[{i}] out of range", b.name),
                Some(None) => assert!(w > 1, "{}: {name}[*] on a scalar", b.name),
            }
        }
        // Every bit of every port is on a pin, once.
        for p in &ports {
            for i in 0..p.width {
                let key = (p.name.clone(), (p.width > 1).then_some(i));
                let n = c.placed.iter().filter(|k| **k == key).count();
                assert_eq!(n, 1, "{}: {}[{i}] placed {n} times", b.name, p.name);
            }
        }
        assert_eq!(
            c.placed.len() as u32,
            ports.iter().map(|p| p.width).sum::<u32>()
        );
        // The clock input has its frequency.
        let clock = ports
            .iter()
            .find(|p| p.dir == Dir::Input && p.name.starts_with("clk"))
            .unwrap_or_else(|| panic!("{}: no clock port", b.name));
        let mhz: Vec<f64> = c
            .clocks
            .iter()
            .filter(|(n, _)| *n == clock.name)
            .map(|(_, f)| *f)
            .collect();
        assert_eq!(mhz.len(), 1, "{}: clock constraints {:?}", b.name, c.clocks);
        assert!(
            (mhz[0] - b.clock_mhz).abs() < 1e-6,
            "{}: clock {} MHz, expected {}",
            b.name,
            mhz[0],
            b.clock_mhz
        );
    }
}

#[test]
fn board_configurations_load() {
    for b in &BOARDS {
        let cfg = board_config(b);
        assert!(cfg.rows >= 1 && cfg.cols >= 1, "{}", b.name);
    }
    // The folder names are the board names of the flow.
    let mut dirs: Vec<String> = std::fs::read_dir(constraints_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir() && e.file_name() != "common")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = BOARDS.iter().map(|b| b.name.to_string()).collect();
    names.sort();
    assert_eq!(dirs, names);
}
