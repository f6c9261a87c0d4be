//! Yosys synthesis of emitted designs and the cell counts it reports.

use drq_hdl::emit::Design;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// FPGA families with an open synthesis flow in Yosys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Ecp5,
    Ice40,
    Xilinx7,
}

impl Family {
    fn synth_command(self, top: &str, use_dsp: bool) -> String {
        match (self, use_dsp) {
            (Family::Ecp5, true) => format!("synth_ecp5 -top {top}"),
            (Family::Ecp5, false) => format!("synth_ecp5 -nodsp -top {top}"),
            (Family::Ice40, true) => format!("synth_ice40 -dsp -top {top}"),
            (Family::Ice40, false) => format!("synth_ice40 -top {top}"),
            (Family::Xilinx7, true) => format!("synth_xilinx -family xc7 -top {top}"),
            (Family::Xilinx7, false) => format!("synth_xilinx -family xc7 -nodsp -top {top}"),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Family::Ecp5 => "ecp5",
            Family::Ice40 => "ice40",
            Family::Xilinx7 => "xilinx7",
        }
    }
}

/// Cells of a synthesized design, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CellStats {
    /// Every cell type and its count, as Yosys reports them.
    pub cells: BTreeMap<String, u64>,
    /// Lookup tables, counting each carry cell as the LUTs it holds
    /// (an ECP5 CCU2C is two LUT4s, an iCE40 SB_CARRY rides on its LUT).
    pub lut_equivalents: u64,
    pub flip_flops: u64,
    pub dsps: u64,
    pub brams: u64,
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
                "DP16KD" | "PDPW16KD" | "SB_RAM40_4K" | "RAMB18E1" | "RAMB36E1" => s.brams += n,
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
    let stat = format!("{top}.{}.stat", family.name());
    let script = format!(
        "read_verilog {top}.v; hierarchy -top {top}; proc; \
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr; \
         {}; select -assert-none t:*dlatch* t:*DLATCH* t:*LDCE* t:*LDPE*; tee -q -o {stat} stat",
        family.synth_command(top, use_dsp)
    );
    let out = Command::new("yosys")
        .args([
            "-q",
            "-l",
            &format!("{top}.{}.log", family.name()),
            "-p",
            &script,
        ])
        .current_dir(workdir)
        .output()
        .map_err(SynthError::Missing)?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        return Err(SynthError::Failed {
            top: top.clone(),
            message: text.lines().rev().take(20).collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(CellStats::from_cells(parse_stat(&std::fs::read_to_string(
        workdir.join(stat),
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
}
