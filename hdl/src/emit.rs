//! Verilog emission: rust-hdl generates the core (every block, leaf to
//! array); this module adds the top-level shell with plain, exact-width
//! ports, the Verilator lint waivers and `params.json`.
//!
//! rust-hdl widths are Rust types, so the core's datapath is 64-bit words
//! and its per-row and per-column ports are named `name$k`. The shell packs
//! those into flat buses of the configured widths (`in_digits` is
//! ROWS * digit_bits wide, row r at bits [r*digit_bits +: digit_bits]) and
//! zero- or sign-extends them into the core, so synthesis sees constants in
//! every unused bit and trims it. Same configuration, same bytes.

use crate::array::SystolicArray;
use crate::config::AccelConfig;
use crate::token::TokenFormat;
use rust_hdl::prelude::*;
use std::fmt::Write;

/// Direction of a top-level port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Input,
    Output,
}

/// One top-level port of an emitted design.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
}

/// A generated design: its top module, the Verilog text of every module,
/// the top's ports and the Verilator waiver file.
#[derive(Debug, Clone)]
pub struct Design {
    pub top: String,
    pub verilog: String,
    pub ports: Vec<Port>,
    pub waivers: String,
}

/// How a shell port maps onto core ports.
pub(crate) enum Lanes {
    /// One core port `core_name`.
    Scalar,
    /// `count` core ports `core_name$k`, packed `lane_width` bits apart.
    Vector { count: u32 },
}

/// How narrow values widen into the core's 64-bit words.
#[derive(Clone, Copy)]
pub(crate) enum Widen {
    Flag,
    Zero,
    Sign,
}

pub(crate) struct ShellPort {
    pub name: String,
    pub core_name: String,
    pub dir: Dir,
    pub lane_width: u32,
    pub lanes: Lanes,
    pub extend: Widen,
}

pub(crate) fn clog2(n: u32) -> u32 {
    (32 - (n.max(2) - 1).leading_zeros()).max(1)
}

fn array_ports(cfg: &AccelConfig, fmt: &TokenFormat) -> Vec<ShellPort> {
    use Dir::*;
    use Widen::{Flag, Sign, Zero};
    let p = |name: &str, core_name: &str, dir, lane_width, lanes, extend| ShellPort {
        name: name.into(),
        core_name: core_name.into(),
        dir,
        lane_width,
        lanes,
        extend,
    };
    let rows = Lanes::Vector { count: cfg.rows };
    let cols = || Lanes::Vector { count: cfg.cols };
    vec![
        p("clk", "clock", Input, 1, Lanes::Scalar, Flag),
        p("rst", "reset", Input, 1, Lanes::Scalar, Flag),
        p("in_valid", "in_valid", Input, 1, Lanes::Scalar, Flag),
        p("in_ready", "in_ready", Output, 1, Lanes::Scalar, Flag),
        p("in_first", "in_first", Input, 1, Lanes::Scalar, Flag),
        p("in_commit", "in_commit", Input, 1, Lanes::Scalar, Flag),
        p("in_last", "in_last", Input, 1, Lanes::Scalar, Flag),
        p(
            "in_hshift",
            "in_hshift",
            Input,
            fmt.hshift_bits,
            Lanes::Scalar,
            Zero,
        ),
        p("in_digits", "in_digit", Input, fmt.digit_bits, rows, Zero),
        p(
            "in_sens",
            "in_sens",
            Input,
            1,
            Lanes::Vector { count: cfg.rows },
            Flag,
        ),
        p(
            "in_w_digits",
            "in_w_digit",
            Input,
            fmt.w_digit_bits,
            cols(),
            Sign,
        ),
        p("in_w_lows", "in_w_low", Input, fmt.w_low_bits, cols(), Sign),
        p(
            "low_shift",
            "low_shift",
            Input,
            fmt.low_shift_bits,
            Lanes::Scalar,
            Zero,
        ),
        p("bias", "bias", Input, 32, cols(), Sign),
        p("out_valid", "out_valid", Output, 1, Lanes::Scalar, Flag),
        p("out_ready", "out_ready", Input, 1, Lanes::Scalar, Flag),
        p(
            "out_row",
            "out_row",
            Output,
            clog2(cfg.rows),
            Lanes::Scalar,
            Zero,
        ),
        p("out_acc", "out_acc", Output, cfg.acc_bits, cols(), Zero),
        p("busy", "busy", Output, 1, Lanes::Scalar, Flag),
    ]
}

/// The shell's `clk` and `rst`, driving the core's `clock` and `reset`.
pub(crate) fn clock_and_reset() -> [ShellPort; 2] {
    let flag = |name: &str, core_name: &str| ShellPort {
        name: name.into(),
        core_name: core_name.into(),
        dir: Dir::Input,
        lane_width: 1,
        lanes: Lanes::Scalar,
        extend: Widen::Flag,
    };
    [flag("clk", "clock"), flag("rst", "reset")]
}

/// A port whose shell and core names agree.
pub(crate) fn scalar(name: &str, dir: Dir, lane_width: u32, extend: Widen) -> ShellPort {
    ShellPort {
        name: name.into(),
        core_name: name.into(),
        dir,
        lane_width,
        lanes: Lanes::Scalar,
        extend,
    }
}

fn core_verilog<B: Block>(block: &mut B, core_name: &str) -> String {
    block.connect_all();
    check_all(block).unwrap_or_else(|e| panic!("rust-hdl check of {core_name} failed: {e:?}"));
    let mut defines = ModuleDefines::default();
    block.accept(core_name, &mut defines);
    defines.defines()
}

/// One lane of a port into a core input: widened to 64 bits.
/// `msb` names the lane's top bit (for sign extension).
fn widen(src: &str, msb: &str, width: u32, extend: Widen) -> String {
    match extend {
        Widen::Flag => src.to_string(),
        _ if width == 64 => src.to_string(),
        Widen::Zero => format!("{{{}'d0, {src}}}", 64 - width),
        Widen::Sign => format!("{{{{{}{{{msb}}}}}, {src}}}", 64 - width),
    }
}

fn shell(top: &str, core: &str, cfg: &AccelConfig, ports: &[ShellPort]) -> String {
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// {top}: generated by drq from the configuration {cfg}. Do not edit."
    );
    let _ = writeln!(
        v,
        "// Ports are packed buses; lane k of a bus of lane width L is bits [k*L +: L]."
    );
    let _ = writeln!(v, "`default_nettype none");
    let _ = writeln!(v, "module {top} (");
    let decls: Vec<String> = ports
        .iter()
        .map(|p| {
            let total = p.lane_width
                * match p.lanes {
                    Lanes::Scalar => 1,
                    Lanes::Vector { count } => count,
                };
            let range = if total == 1 {
                String::new()
            } else {
                format!("[{}:0] ", total - 1)
            };
            let dir = match p.dir {
                Dir::Input => "input ",
                Dir::Output => "output",
            };
            format!("    {dir} wire {range}{}", p.name)
        })
        .collect();
    let _ = writeln!(v, "{}\n);", decls.join(",\n"));
    // Core outputs wider than the shell's ports land in *_full wires.
    let mut conns = Vec::new();
    for p in ports {
        // (core port, shell bits, top bit of the shell bits)
        let lanes: Vec<(String, String, String)> = match p.lanes {
            Lanes::Scalar => {
                let msb = if p.lane_width == 1 {
                    p.name.clone()
                } else {
                    format!("{}[{}]", p.name, p.lane_width - 1)
                };
                vec![(p.core_name.clone(), p.name.clone(), msb)]
            }
            Lanes::Vector { count } => (0..count)
                .map(|k| {
                    let src = if p.lane_width == 1 && count == 1 {
                        p.name.clone()
                    } else if p.lane_width == 1 {
                        format!("{}[{k}]", p.name)
                    } else {
                        format!(
                            "{}[{}:{}]",
                            p.name,
                            (k + 1) * p.lane_width - 1,
                            k * p.lane_width
                        )
                    };
                    let msb = if p.lane_width == 1 && count == 1 {
                        p.name.clone()
                    } else {
                        format!("{}[{}]", p.name, (k + 1) * p.lane_width - 1)
                    };
                    (format!("{}${k}", p.core_name), src, msb)
                })
                .collect(),
        };
        for (core_port, shell_bits, msb) in lanes {
            let needs_full =
                p.dir == Dir::Output && !matches!(p.extend, Widen::Flag) && p.lane_width < 64;
            let expr = match p.dir {
                Dir::Input => widen(&shell_bits, &msb, p.lane_width, p.extend),
                Dir::Output if needs_full => {
                    let full = format!("{}_full", core_port.replace('$', "_"));
                    let _ = writeln!(v, "    wire [63:0] {full};");
                    let _ = writeln!(
                        v,
                        "    assign {shell_bits} = {full}[{}:0];",
                        p.lane_width - 1
                    );
                    full
                }
                Dir::Output => shell_bits,
            };
            conns.push(format!("        .{core_port}({expr})"));
        }
    }
    let _ = writeln!(v, "    {core} core (\n{}\n    );", conns.join(",\n"));
    let _ = writeln!(v, "endmodule // {top}");
    let _ = writeln!(v, "`default_nettype wire");
    v
}

fn waivers(top: &str) -> String {
    format!(
        "`verilator_config\n\
         // Lint waivers for {top}.v, each as narrow as Verilator allows.\n\
         // rust-hdl emits every instance as its own module, many per file.\n\
         lint_off -rule DECLFILENAME -file \"*{top}.v\"\n\
         // The shell keeps only the configured low bits of the core's 64-bit output words.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"*_full*\"\n\
         // PEs on the right and bottom edges drive token outputs nobody reads.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"*pes$*_out*\"\n\
         // Multiplier leaves read only the configured low bits of their operand words a and b.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"Bits of signal are not used: 'a'*\"\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"Bits of signal are not used: 'b'*\"\n"
    )
}

/// The systolic array of a configuration: top module `drq_array`.
pub fn array_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    design(
        "drq_array",
        "drq_array_core",
        cfg,
        array_ports(cfg, &fmt),
        &mut SystolicArray::new(cfg),
    )
}

/// One processing element alone (top `drq_pe`), for area figures.
pub fn pe_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    use Dir::{Input, Output};
    use Widen::{Flag, Sign, Zero};
    let mut ports = vec![
        scalar("clock", Input, 1, Flag),
        scalar("reset", Input, 1, Flag),
        scalar("drain", Input, 1, Flag),
    ];
    for (dir, suffix) in [(Input, "in"), (Output, "out")] {
        let p = |base: &str, dir, lane_width, extend| {
            scalar(&format!("{base}_{suffix}"), dir, lane_width, extend)
        };
        ports.extend([
            p("valid", dir, 1, Flag),
            p("first", dir, 1, Flag),
            p("commit", dir, 1, Flag),
            p("sens", dir, 1, Flag),
            p("digit", dir, fmt.digit_bits, Zero),
            p("hshift", dir, fmt.hshift_bits, Zero),
            p("w_digit", dir, fmt.w_digit_bits, Sign),
            p("w_low", dir, fmt.w_low_bits, Sign),
            p("acc_hi", dir, cfg.acc_bits, Zero),
            p("acc_lo", dir, cfg.acc_bits, Zero),
        ]);
    }
    let mut pe = crate::pe::ProcessingElement::new(&crate::pe::PeParams::new(cfg));
    design("drq_pe", "drq_pe_core", cfg, ports, &mut pe)
}

/// The PE's multiplier leaf alone (top `drq_mul`), for its exhaustive test:
/// `p = a * b` with `a` a signed weight digit and `b` an unsigned activation
/// digit of the configuration's widths.
pub fn multiplier_design(cfg: &AccelConfig) -> Design {
    let fmt = TokenFormat::new(cfg);
    let (top, core) = ("drq_mul", "drq_mul_core");
    let ports = vec![
        scalar("a", Dir::Input, fmt.w_digit_bits, Widen::Sign),
        scalar("b", Dir::Input, fmt.digit_bits, Widen::Zero),
        scalar(
            "p",
            Dir::Output,
            fmt.w_digit_bits + fmt.digit_bits,
            Widen::Zero,
        ),
    ];
    design(
        top,
        core,
        cfg,
        ports,
        &mut crate::leaf::SignedMul::new(fmt.w_digit_bits, fmt.digit_bits),
    )
}

pub(crate) fn design<B: Block>(
    top: &str,
    core: &str,
    cfg: &AccelConfig,
    ports: Vec<ShellPort>,
    block: &mut B,
) -> Design {
    let mut verilog = shell(top, core, cfg, &ports);
    verilog.push('\n');
    verilog.push_str(&core_verilog(block, core));
    Design {
        top: top.into(),
        verilog,
        ports: ports
            .iter()
            .map(|p| Port {
                name: p.name.clone(),
                dir: p.dir,
                width: p.lane_width
                    * match p.lanes {
                        Lanes::Scalar => 1,
                        Lanes::Vector { count } => count,
                    },
            })
            .collect(),
        waivers: waivers(top),
    }
}

/// Every block `drq verilog` writes, each its own top in its own file.
pub fn accelerator_designs(cfg: &AccelConfig) -> Vec<Design> {
    vec![
        array_design(cfg),
        crate::predictor::predictor_design(cfg),
        crate::controller::controller_design(cfg),
        crate::output_stage::output_stage_design(cfg),
        crate::top::top_design(cfg),
    ]
}

/// `params.json`: the configuration, the widths derived from it and the
/// ports of every emitted top.
pub fn params_json(cfg: &AccelConfig, designs: &[Design]) -> String {
    let fmt = TokenFormat::new(cfg);
    let tops: serde_json::Map<String, serde_json::Value> = designs
        .iter()
        .map(|d| (d.top.clone(), serde_json::json!({ "ports": d.ports })))
        .collect();
    let v = serde_json::json!({
        "config": cfg,
        "act_row_pitch": cfg.act_row_pitch(),
        "mask_row_pitch": cfg.mask_row_pitch(),
        "token": {
            "tokens_per_high_step": cfg.tokens_per_high_step(),
            "high_token_shifts": fmt.high_tokens.iter().map(|t| t.shift).collect::<Vec<_>>(),
            "hshift_unit_log2": fmt.hshift_unit_log2,
            "hshift_bits": fmt.hshift_bits,
            "digit_bits": fmt.digit_bits,
            "w_digit_bits": fmt.w_digit_bits,
            "w_low_bits": fmt.w_low_bits,
            "product_bits": fmt.product_bits,
            "low_shift_bits": fmt.low_shift_bits,
        },
        "tops": tops,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("params serialise");
    s.push('\n');
    s
}
