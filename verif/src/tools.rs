//! Launching the external tools, Verilator and Yosys, with their output
//! captured: the emission tests (`hdl/tests/common`), the FPGA flow
//! (`drq_fpga::synth`) and the board tests call them through here.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// A finished tool run.
#[derive(Debug, Clone)]
pub struct ToolRun {
    /// The tool exited with status 0.
    pub success: bool,
    /// Its standard error, then its standard output.
    pub output: String,
}

impl ToolRun {
    /// Succeeded, and printed no `%Warning` or `%Error` (Verilator's marks).
    pub fn clean(&self) -> bool {
        self.success && !self.output.contains("%Warning") && !self.output.contains("%Error")
    }
}

/// Run `tool` with `args` in `dir` and wait for it; the error is that it
/// could not be started (not installed: `apt-get install -y <tool>`).
pub fn run<S: AsRef<OsStr>>(
    tool: &str,
    args: impl IntoIterator<Item = S>,
    dir: &Path,
) -> std::io::Result<ToolRun> {
    let out = Command::new(tool).args(args).current_dir(dir).output()?;
    Ok(ToolRun {
        success: out.status.success(),
        output: String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout),
    })
}

/// `yosys -q [-l <log>] -p <script>`, not started: for a caller that runs
/// it its own way.
pub fn yosys_command(script: &str, log: Option<&str>) -> Command {
    let mut cmd = Command::new("yosys");
    cmd.arg("-q");
    if let Some(log) = log {
        cmd.args(["-l", log]);
    }
    cmd.args(["-p", script]);
    cmd
}

/// Yosys commands for right after `proc`: flatten, then drop every wire
/// nothing reads, named ones included. The emitted modules carry 64-bit
/// words whose upper bits are unused, and their names kept about half of a
/// small top's wire bits alive through every later `opt` pass. On a 2x2
/// `drq_top` (ECP5): 44 s -> 34 s of Yosys CPU, 7,581 -> 7,357 LUT-eq
/// (docs/figures.md §6.4.B). Then `opt -full` (which finds the registers
/// whose upper bits are constant) and `wreduce`: a compare of two masked
/// 64-bit words is only as wide as their unmasked bits once both are
/// known constant above them; the `synth_*` scripts run `wreduce` before
/// their `opt` has found that, and Yosys 0.23 left 64-bit carry chains
/// for 10-bit compares (16x16 controller: 3,639 -> 1,372 CCU2C).
pub const YOSYS_FLATTEN_PURGE: &str =
    "flatten; opt_expr; opt_clean -purge; opt -full; wreduce; opt_clean;";

/// Run a Yosys script in `dir` (`yosys -q [-l <log>] -p <script>`).
pub fn yosys(script: &str, log: Option<&str>, dir: &Path) -> std::io::Result<ToolRun> {
    let cmd = yosys_command(script, log);
    run("yosys", cmd.get_args(), dir)
}

/// A tool's version line (`yosys -V`, `verilator --version`), if it runs.
pub fn version(tool: &str, flag: &str) -> Option<String> {
    let out = Command::new(tool).arg(flag).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
