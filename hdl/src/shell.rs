//! The bottom layer of emission: rust-hdl generates a block's core; this
//! module wraps it in a top-level shell with plain, exact-width ports and
//! writes the Verilator lint waivers. Every block builds its own design
//! from these pieces; `designs` lists them.
//!
//! rust-hdl widths are Rust types, so the core's datapath is 64-bit words
//! and its per-row and per-column ports are named `name$k`. The shell packs
//! those into flat buses of the configured widths (`in_digits` is
//! ROWS * digit_bits wide, row r at bits [r*digit_bits +: digit_bits]) and
//! zero- or sign-extends them into the core, so synthesis sees constants in
//! every unused bit and trims it. Same configuration, same bytes.

use drq_arch::config::AccelConfig;
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

impl Design {
    /// The modules synthesis keeps as blocks of their own (Yosys
    /// `keep_hierarchy`), in emission order: the processing element, whose
    /// one module the emitted Verilog instantiates ROWS x COLS times
    /// (`dedup.rs` names it `<top>_..._mesh_pes`). The PE masks every input
    /// it reads and the mesh every PE output it passes on (`pe.rs`,
    /// `mesh.rs`), so the PE is as narrow kept as flattened; the
    /// synthesis passes then walk one PE instead of all of them
    /// (docs/figures.md §6.4.C). Also the stages of the cyclic layout's
    /// rotation (`cyclic_rotation.rs`, `..._shift_stages[_2]`): kept, each
    /// maps to a LUT4 a bit, flattened ABC9 merges them into wide
    /// multiplexers of twice the LUTs. Empty for a design without these,
    /// or whose top is the PE itself.
    pub fn kept_modules(&self) -> Vec<String> {
        self.verilog
            .lines()
            .filter_map(|line| line.strip_prefix("module "))
            .filter_map(|rest| rest.split(|c: char| c == '(' || c.is_whitespace()).next())
            .filter(|name| {
                let stage = name
                    .rsplit_once("_shift_stages")
                    .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with('_'));
                (["_mesh_pes", "_mesh_taps"]
                    .iter()
                    .any(|kept| name.ends_with(kept))
                    || stage)
                    && *name != self.top
            })
            .map(str::to_string)
            .collect()
    }
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

impl ShellPort {
    /// A port named `name` in the shell and `core_name` in the core;
    /// `count` lanes (`core_name$k`) or, for `None`, one scalar port.
    pub fn new(
        name: &str,
        core_name: &str,
        dir: Dir,
        lane_width: u32,
        count: Option<u32>,
        extend: Widen,
    ) -> ShellPort {
        ShellPort {
            name: name.into(),
            core_name: core_name.into(),
            dir,
            lane_width,
            lanes: match count {
                None => Lanes::Scalar,
                Some(count) => Lanes::Vector { count },
            },
            extend,
        }
    }
}

pub(crate) fn clog2(n: u32) -> u32 {
    (32 - (n.max(2) - 1).leading_zeros()).max(1)
}

/// The shell's `clk` and `rst`, driving the core's `clock` and `reset`.
pub(crate) fn clock_and_reset() -> [ShellPort; 2] {
    let flag = |name, core_name| ShellPort::new(name, core_name, Dir::Input, 1, None, Widen::Flag);
    [flag("clk", "clock"), flag("rst", "reset")]
}

/// A port whose shell and core names agree.
pub(crate) fn scalar(name: &str, dir: Dir, lane_width: u32, extend: Widen) -> ShellPort {
    ShellPort::new(name, name, dir, lane_width, None, extend)
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
         // Every distinct module once, many per file.\n\
         lint_off -rule DECLFILENAME -file \"*{top}.v\"\n\
         // The shell keeps only the configured low bits of the core's 64-bit output words.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"*_full*\"\n\
         // PEs on the right and bottom edges drive token outputs nobody reads.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"*pes_*_out*\"\n\
         // Shadow cells of the right column pass a token's `last` bit nobody reads.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"*shadows_*_last_out*\"\n\
         // With shadow accumulators the array's in_ready depends on in_last. The controller's\n\
         // in_last comes from registers (its token issue's S3), but the always blocks that\n\
         // carry it out (the token issue's and the controller's) also read in_ready.\n\
         lint_off -rule UNOPTFLAT -file \"*{top}.v\" -match \"*ctrl.issue_in_last*\"\n\
         // Multiplier leaves read only the configured low bits of their operand words a and b.\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"Bits of signal are not used: 'a'*\"\n\
         lint_off -rule UNUSEDSIGNAL -file \"*{top}.v\" -match \"Bits of signal are not used: 'b'*\"\n"
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
    let verilog = crate::dedup::resolve_nested_ports(&verilog);
    let verilog =
        crate::comb::assign_once(&crate::dedup::drop_portless(&crate::dedup::dedup(&verilog)));
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
