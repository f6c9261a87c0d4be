//! Yosys synthesis of emitted designs and the cell counts it reports.

use drq_hdl::shell::Design;
use drq_verif::tools::{self, YOSYS_FLATTEN_PURGE as FLATTEN_PURGE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// FPGA families with an open synthesis flow in Yosys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Ecp5,
    Ice40,
    Xilinx7,
}

impl Family {
    /// The Yosys synthesis command of the family. iCE40 and ECP5 map with
    /// ABC9: on the iCE40 it packs into about 5 % fewer logic cells (the
    /// UP5K's limit, `docs/boards.md`); on the ECP5 the 16x16 board design
    /// takes 53,855 LUT-eq instead of ABC's 57,328 and packs into 72.1 %
    /// of the 85F's comb cells instead of 76.2 %, and nextpnr's router2
    /// routes it (docs/fpga.md, stop 37; router1 had stalled on ABC9's
    /// netlists at stop 36). Xilinx
    /// flattens like the other two (and like Vivado's default):
    /// `synth_xilinx` alone keeps the hierarchy, and then no constant
    /// crosses rust-hdl's 64-bit module ports.
    pub fn synth_command(self, top: &str, use_dsp: bool) -> String {
        match (self, use_dsp) {
            (Family::Ecp5, true) => format!("synth_ecp5 -abc9 -top {top}"),
            (Family::Ecp5, false) => format!("synth_ecp5 -abc9 -nodsp -top {top}"),
            (Family::Ice40, true) => format!("synth_ice40 -dsp -abc9 -top {top}"),
            (Family::Ice40, false) => format!("synth_ice40 -abc9 -top {top}"),
            (Family::Xilinx7, true) => format!("synth_xilinx -family xc7 -flatten -top {top}"),
            (Family::Xilinx7, false) => {
                format!("synth_xilinx -family xc7 -flatten -nodsp -top {top}")
            }
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Family::Ecp5 => "ecp5",
            Family::Ice40 => "ice40",
            Family::Xilinx7 => "xilinx7",
        }
    }
    /// The family of a name: "ecp5", "ice40", "xilinx7" (also "xc7").
    pub fn from_name(name: &str) -> Option<Family> {
        match name.to_ascii_lowercase().as_str() {
            "ecp5" => Some(Family::Ecp5),
            "ice40" => Some(Family::Ice40),
            "xilinx7" | "xc7" | "xilinx" => Some(Family::Xilinx7),
            _ => None,
        }
    }
}

/// Cells of a synthesized design, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CellStats {
    /// Every cell type and its count, as Yosys reports them.
    pub cells: BTreeMap<String, u64>,
    /// Lookup tables, counting each carry cell as the LUTs it holds
    /// (an ECP5 CCU2C is two LUT4s, an iCE40 SB_CARRY rides on its LUT).
    pub lut_equivalents: u64,
    pub flip_flops: u64,
    pub dsps: u64,
    /// Block RAM cells: DP16KD / PDPW16KD (ECP5), SB_RAM40_4K (iCE40),
    /// RAMB18E1 and RAMB36E1 (Xilinx 7; a RAMB36E1 counts once here, see
    /// `bram18_equivalents`).
    pub brams: u64,
    /// Block RAMs in units of the family's smallest block: RAMB36E1 counts
    /// as two RAMB18E1; other families as `brams`.
    pub bram18_equivalents: u64,
}

impl CellStats {
    fn from_cells(cells: BTreeMap<String, u64>) -> CellStats {
        let mut s = CellStats {
            cells,
            ..Default::default()
        };
        for (name, &n) in &s.cells {
            match name.as_str() {
                "LUT4" | "SB_LUT4" => s.lut_equivalents += n,
                "CCU2C" => s.lut_equivalents += 2 * n,
                x if x.starts_with("LUT") && x.len() == 4 => s.lut_equivalents += n, // LUT1..LUT6
                "TRELLIS_FF" => s.flip_flops += n,
                x if x.starts_with("SB_DFF") => s.flip_flops += n,
                "FDRE" | "FDSE" | "FDCE" | "FDPE" => s.flip_flops += n,
                "MULT18X18D" | "SB_MAC16" | "DSP48E1" => s.dsps += n,
                "DP16KD" | "PDPW16KD" | "SB_RAM40_4K" | "RAMB18E1" => {
                    s.brams += n;
                    s.bram18_equivalents += n;
                }
                "RAMB36E1" => {
                    s.brams += n;
                    s.bram18_equivalents += 2 * n;
                }
                _ => {}
            }
        }
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot run yosys: {0} (install it: apt-get install -y yosys)")]
    Missing(std::io::Error),
    #[error("yosys failed on {top}: {message}")]
    Failed { top: String, message: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Run `cmd` with its standard output and error in `workdir/<log_stem>.out`,
/// printing `label: N s` on standard error every `every` seconds while it
/// runs (0: never) and once at the end. Returns the exit status and the
/// seconds it took.
pub fn run_with_progress(
    cmd: &mut Command,
    label: &str,
    workdir: &Path,
    log_stem: &str,
    every: u64,
) -> std::io::Result<(std::process::ExitStatus, f64)> {
    let out_path = workdir.join(format!("{log_stem}.out"));
    let out = std::fs::File::create(&out_path)?;
    let err = out.try_clone()?;
    let t = Instant::now();
    let mut child = cmd
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()?;
    let mut next = every;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(200));
        let el = t.elapsed().as_secs();
        if every > 0 && el >= next {
            eprintln!("  {label}: {el} s");
            next += every;
        }
    };
    let secs = t.elapsed().as_secs_f64();
    if every > 0 {
        eprintln!("  {label}: done in {secs:.0} s");
    }
    Ok((status, secs))
}

/// The last lines of a failed tool's output, ERROR lines first.
pub fn failure_message(text: &str) -> String {
    let mut errors: Vec<&str> = Vec::new();
    for l in text
        .lines()
        .filter(|l| l.contains("ERROR") || l.starts_with("Error"))
    {
        if !errors.contains(&l) {
            errors.push(l);
        }
    }
    if !errors.is_empty() {
        return errors.join("\n");
    }
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// One Yosys synthesis run of Verilog files.
#[derive(Debug, Clone)]
pub struct SynthJob {
    pub family: Family,
    /// Map multipliers to DSP blocks (else they are built from LUTs).
    pub use_dsp: bool,
    /// The top module.
    pub top: String,
    /// Verilog sources, relative to the work folder or absolute.
    pub sources: Vec<PathBuf>,
    /// Also write the netlist as JSON (for nextpnr) to this file in the work folder.
    pub json: Option<String>,
    /// Print progress every this many seconds (0: quiet).
    pub progress_every: u64,
    /// Name of the run in progress lines.
    pub label: String,
    /// Modules synthesized as blocks of their own, not flattened into
    /// their parents (`Design::kept_modules`: the PE).
    pub keep: Vec<String>,
}

/// Synthesize `design` for `family` in `workdir` (the Verilog and the Yosys
/// log are left there) and count its cells. Fails on any latch: checked
/// right after `proc`, because some families map latches to LUT loops.
pub fn synthesize(
    design: &Design,
    family: Family,
    use_dsp: bool,
    workdir: &Path,
) -> Result<CellStats, SynthError> {
    std::fs::create_dir_all(workdir)?;
    let top = &design.top;
    std::fs::write(workdir.join(format!("{top}.v")), &design.verilog)?;
    synthesize_job(
        &SynthJob {
            family,
            use_dsp,
            top: top.clone(),
            sources: vec![PathBuf::from(format!("{top}.v"))],
            json: None,
            progress_every: 0,
            label: String::new(),
            keep: design.kept_modules(),
        },
        workdir,
    )
}

/// Run a [`SynthJob`] in `workdir`: log `<top>.<family>.log`, cell counts
/// `<top>.<family>.stat`. The same latch checks as [`synthesize`].
pub fn synthesize_job(job: &SynthJob, workdir: &Path) -> Result<CellStats, SynthError> {
    std::fs::create_dir_all(workdir)?;
    let top = &job.top;
    let reads: Vec<String> = job
        .sources
        .iter()
        .map(|s| format!("read_verilog {};", s.display()))
        .collect();
    let front = format!(
        "{} hierarchy -top {top}; proc; {LATCH_RTL} {}{FLATTEN_PURGE}",
        reads.join(" "),
        keep_hierarchy(&job.keep)
    );
    run_yosys(job, &front, workdir)
}

/// Synthesize `design` for several families, sharing one front end (read,
/// `proc`, latch check, flatten and the coarse family-independent
/// optimisations, which every `synth_*` script starts with): the front end
/// runs once and writes `<top>.frontend.il` (log `<top>.frontend.log`), then
/// each family's full `synth_*` script runs on it, in parallel threads
/// (each family's result separately; the front end's failure is the outer
/// error).
pub fn synthesize_families(
    design: &Design,
    families: &[Family],
    use_dsp: bool,
    workdir: &Path,
) -> Result<Vec<(Family, Result<CellStats, SynthError>)>, SynthError> {
    std::fs::create_dir_all(workdir)?;
    let top = &design.top;
    std::fs::write(workdir.join(format!("{top}.v")), &design.verilog)?;
    let script = format!(
        "read_verilog {top}.v; hierarchy -top {top}; proc; {LATCH_RTL} \
         {}{FLATTEN_PURGE} check; opt -nodffe -nosdff; fsm; opt; \
         wreduce; peepopt; opt_clean -purge; write_rtlil {top}.frontend.il",
        keep_hierarchy(&design.kept_modules())
    );
    let run = tools::yosys(&script, Some(&format!("{top}.frontend.log")), workdir)
        .map_err(SynthError::Missing)?;
    if !run.success {
        return Err(SynthError::Failed {
            top: top.clone(),
            message: failure_message(&run.output),
        });
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = families
            .iter()
            .map(|&family| {
                s.spawn(move || {
                    let job = SynthJob {
                        family,
                        use_dsp,
                        top: top.clone(),
                        sources: vec![],
                        json: None,
                        progress_every: 0,
                        label: String::new(),
                        keep: Vec::new(),
                    };
                    (
                        family,
                        run_yosys(&job, &format!("read_rtlil {top}.frontend.il;"), workdir),
                    )
                })
            })
            .collect();
        Ok(handles
            .into_iter()
            .map(|h| h.join().expect("synthesis thread"))
            .collect())
    })
}

/// The Yosys command that keeps `modules` whole through `flatten` (none:
/// nothing). The families' scripts synthesize a kept module once, and
/// `stat` then reports the hierarchy's total, each instance counted.
fn keep_hierarchy(modules: &[String]) -> String {
    if modules.is_empty() {
        String::new()
    } else {
        format!("setattr -mod -set keep_hierarchy 1 {}; ", modules.join(" "))
    }
}

/// Yosys fails the script when the design has a latch (RTL latch cells).
const LATCH_RTL: &str = "select -assert-none t:$dlatch t:$adlatch t:$dlatchsr;";

fn run_yosys(job: &SynthJob, front: &str, workdir: &Path) -> Result<CellStats, SynthError> {
    let top = &job.top;
    let family = job.family;
    let stat = format!("{top}.{}.stat", family.name());
    let json = job
        .json
        .as_ref()
        // nextpnr places one flat netlist: kept modules are flattened
        // once mapped (after `stat`).
        .map(|j| format!(" flatten; write_json {j};"))
        .unwrap_or_default();
    let script = format!(
        "{front} {}; select -assert-none t:*dlatch* t:*DLATCH* t:*LDCE* t:*LDPE*; tee -q -o {stat} stat;{json}",
        family.synth_command(top, job.use_dsp)
    );
    let log = format!("{top}.{}.log", family.name());
    let mut cmd = tools::yosys_command(&script, Some(&log));
    let label = format!(
        "{}yosys {}",
        job.label,
        family.synth_command(top, job.use_dsp)
    );
    let (status, _) = run_with_progress(
        &mut cmd,
        &label,
        workdir,
        &format!("{top}.{}.yosys", family.name()),
        job.progress_every,
    )
    .map_err(SynthError::Missing)?;
    if !status.success() {
        let text = std::fs::read_to_string(workdir.join(&log)).unwrap_or_default()
            + &std::fs::read_to_string(workdir.join(format!("{top}.{}.yosys.out", family.name())))
                .unwrap_or_default();
        return Err(SynthError::Failed {
            top: top.clone(),
            message: failure_message(&text),
        });
    }
    Ok(CellStats::from_cells(parse_stat(&std::fs::read_to_string(
        workdir.join(stat),
    )?)))
}

/// Yosys's own warnings in a log (ABC's note that a network is
/// combinational is informational and not one of them).
///
/// One message is not a warning about the design and is left out: Yosys
/// 0.23 maps a block RAM of the Xilinx 7 series through one port macro
/// (`brams_xc6v_map.v`) for RAMB18E1 and RAMB36E1 alike, so every RAMB18E1
/// it infers gets its 32-bit data, 4-bit parity and 4-bit enable buses
/// connected to 16-, 2- and 2-bit ports, the low bits being the RAMB18's,
/// and `hierarchy` logs "Resizing cell port <memory>.DIADI from 64 bits to
/// 16 bits" and the like for each port.
pub fn yosys_warnings(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.trim_start().starts_with("Warning:") && !is_xc7_bram_port_resize(l))
        .map(str::to_string)
        .collect()
}

/// The RAMB18E1 port message of [`yosys_warnings`]: a resize of one of the
/// block RAM's data, parity or write-enable ports on a cell inferred from a
/// memory (`<...>.mem.<i>.<j>.<PORT>`).
fn is_xc7_bram_port_resize(line: &str) -> bool {
    const PORTS: [&str; 10] = [
        "DIADI", "DIBDI", "DOADO", "DOBDO", "DIPADIP", "DIPBDIP", "DOPADOP", "DOPBDOP", "WEA",
        "WEBWE",
    ];
    let Some(rest) = line
        .trim_start()
        .strip_prefix("Warning: Resizing cell port ")
    else {
        return false;
    };
    let Some((cell_port, _)) = rest.split_once(" from ") else {
        return false;
    };
    let Some((cell, port)) = cell_port.rsplit_once('.') else {
        return false;
    };
    PORTS.contains(&port) && cell.contains(".mem.")
}

/// `yosys -V`, e.g. "Yosys 0.23 (git sha1 7ce5011c24b)".
pub fn yosys_version() -> Option<String> {
    tools::version("yosys", "-V")
}

/// The cell counts of a `<top>.<family>.stat` file left by a synthesis run.
pub fn stats_from_file(path: &Path) -> std::io::Result<CellStats> {
    Ok(CellStats::from_cells(parse_stat(&std::fs::read_to_string(
        path,
    )?)))
}

/// Cell counts from Yosys `stat` output (the top module's, or the design total).
fn parse_stat(text: &str) -> BTreeMap<String, u64> {
    let mut cells = BTreeMap::new();
    let mut in_cells = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Number of cells:") {
            in_cells = true;
            cells.clear(); // the last block (design total) wins
            continue;
        }
        if in_cells {
            let mut parts = t.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(name), Some(n), None) => {
                    if let Ok(n) = n.parse() {
                        cells.insert(name.to_string(), n);
                    }
                }
                _ => in_cells = false,
            }
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_and_lut_equivalents() {
        let text = "=== drq_pe ===\n\n   Number of wires:   10\n   Number of cells:                430\n     CCU2C                          56\n     L6MUX21                        25\n     LUT4                          207\n     PFUMX                          43\n     TRELLIS_FF                     99\n\n";
        let s = CellStats::from_cells(parse_stat(text));
        assert_eq!(s.lut_equivalents, 207 + 2 * 56);
        assert_eq!(s.flip_flops, 99);
        assert_eq!(s.cells["PFUMX"], 43);
    }

    #[test]
    fn xc7_block_ram_port_resizes_are_not_design_warnings() {
        let log = "Warning: Resizing cell port drq_top.core.act0.copies$0.mem.0.0.DIADI from 64 bits to 16 bits.\n\
                   Warning: Resizing cell port drq_top.core.act0.copies$0.mem.0.0.WEA from 4 bits to 2 bits.\n\
                   Warning: Resizing cell port drq_top.core.pe.mul.P from 48 bits to 16 bits.\n\
                   Warning: Resizing cell port drq_top.core.mem.0.0.ADDRARDADDR from 16 bits to 14 bits.\n\
                   Warning: Replacing memory \\mem with list of registers.\n";
        assert_eq!(
            yosys_warnings(log),
            vec![
                "Warning: Resizing cell port drq_top.core.pe.mul.P from 48 bits to 16 bits.",
                "Warning: Resizing cell port drq_top.core.mem.0.0.ADDRARDADDR from 16 bits to 14 bits.",
                "Warning: Replacing memory \\mem with list of registers.",
            ]
        );
    }

    #[test]
    fn dsps_and_brams_of_every_family() {
        let text = "   Number of cells:   9\n     DP16KD 3\n     MULT18X18D 2\n     SB_RAM40_4K 4\n     SB_MAC16 1\n     RAMB18E1 1\n     RAMB36E1 2\n     DSP48E1 5\n\n";
        let s = CellStats::from_cells(parse_stat(text));
        assert_eq!(s.dsps, 2 + 1 + 5);
        assert_eq!(s.brams, 3 + 4 + 1 + 2);
        assert_eq!(s.bram18_equivalents, 3 + 4 + 1 + 4);
    }
}
