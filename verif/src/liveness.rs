//! Which signals of an emitted `drq_top` can influence one of its outputs:
//! the structural cone of influence of the top's output ports, computed by
//! Yosys on the flattened design (`proc`, `flatten`, `memory_collect` so a
//! memory's write data reaches its read data, `insbuf` so that plain
//! connections are cells, then `select o:* %ci*`).
//!
//! A signal outside the cone in every instance of its module cannot change
//! any output, whatever the inputs: a fault there is equivalent to none.
//! `drq mutate` uses this as a sound equivalence proof at the top level,
//! where a module-level proof cannot see that a module's output is unused
//! (docs/verification.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The live and the known signals of a flattened design, by hierarchical
/// name (`core.array.mesh.pes_3.acc_hi_d`).
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    live: BTreeSet<String>,
    known: BTreeSet<String>,
    /// Instance paths of every module (`drq_top` is the empty path).
    paths: BTreeMap<String, Vec<String>>,
}

/// Every instance path of every module of `verilog` under `top`, from the
/// instantiations (`<module> <instance>(` lines) of the emitted text.
pub fn instance_paths(verilog: &str, top: &str) -> BTreeMap<String, Vec<String>> {
    let mut children: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = String::new();
    for line in verilog.lines() {
        if let Some(name) = crate::mutate::module_name(line) {
            current = name.to_string();
            continue;
        }
        // `<module> <instance>(` or `<module> <instance> (`.
        let Some(head) = line.trim().strip_suffix('(') else {
            continue;
        };
        let mut words = head.split_whitespace();
        if let (Some(m), Some(inst), None) = (words.next(), words.next(), words.next()) {
            if m.starts_with(top) {
                children
                    .entry(current.clone())
                    .or_default()
                    .push((m.to_string(), inst.to_string()));
            }
        }
    }
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack = vec![(top.to_string(), String::new())];
    while let Some((m, path)) = stack.pop() {
        for (child, inst) in children.get(&m).into_iter().flatten() {
            let p = if path.is_empty() {
                inst.clone()
            } else {
                format!("{path}.{inst}")
            };
            stack.push((child.clone(), p));
        }
        paths.entry(m).or_default().push(path);
    }
    paths
}

impl Liveness {
    /// Run Yosys on `verilog` (top module `top`) in `dir`.
    pub fn compute(verilog: &str, top: &str, dir: &Path) -> Result<Liveness, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("design.v"), verilog).map_err(|e| e.to_string())?;
        let script = format!(
            "read_verilog design.v; hierarchy -top {top}; proc; flatten; memory_collect; \
             hierarchy -top {top}; insbuf; select -write live.txt o:* %ci*; select -write all.txt w:*"
        );
        let out = Command::new("timeout")
            .args(["600", "yosys", "-q", "-p", &script])
            .current_dir(dir)
            .output()
            .map_err(|e| format!("yosys: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "yosys (cone of influence): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let names = |file: &str| -> Result<BTreeSet<String>, String> {
            let text = std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())?;
            let prefix = format!("{top}/");
            Ok(text
                .lines()
                .filter_map(|l| l.strip_prefix(&prefix))
                .map(str::to_string)
                .collect())
        };
        Ok(Liveness {
            live: names("live.txt")?,
            known: names("all.txt")?,
            paths: instance_paths(verilog, top),
        })
    }

    /// True when signal `name` of `module` exists in every instance of the
    /// module and reaches no output in any of them. A `_calc` shadow (a
    /// combinational value assigned once at the end of its block) stands
    /// for the signal it is assigned to.
    pub fn is_dead(&self, module: &str, name: &str) -> bool {
        let name = name.strip_suffix("_calc").unwrap_or(name);
        let Some(paths) = self.paths.get(module) else {
            return false;
        };
        !paths.is_empty()
            && paths.iter().all(|p| {
                let full = if p.is_empty() {
                    name.to_string()
                } else {
                    format!("{p}.{name}")
                };
                self.known.contains(&full) && !self.live.contains(&full)
            })
    }
}

/// The signal an assignment line assigns (`x = ...;`, `x <= ...;`), if the
/// line is one.
pub fn assigned_signal(line: &str) -> Option<&str> {
    let t = line.trim();
    let (lhs, _) = t.split_once('=')?;
    let lhs = lhs.trim_end_matches('<').trim();
    let ok = !lhs.is_empty()
        && lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !t.starts_with("if")
        && !t.starts_with("assign ");
    ok.then_some(lhs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_LEVELS: &str = "module top(a, y);\n    input wire a;\n    output wire y;\n    \
        top_leaf u0 (\n        .i(a),\n        .o(y)\n    );\n    top_leaf u1(\n        .i(a),\n        .o()\n    );\nendmodule\n\
        module top_leaf(i, o);\n    input wire i;\n    output reg o;\n    reg unused;\n    \
        always @(*) begin\n        o = i;\n        unused = ~i;\n    end\nendmodule\n";

    #[test]
    fn instance_paths_follow_the_hierarchy() {
        let p = instance_paths(TWO_LEVELS, "top");
        assert_eq!(p["top"], vec![String::new()]);
        let mut leaf = p["top_leaf"].clone();
        leaf.sort();
        assert_eq!(leaf, vec!["u0".to_string(), "u1".to_string()]);
    }

    /// On an emitted top: the controller sits at `core.ctrl`, and a module
    /// shared by many instances (a PE) has one path per instance.
    #[test]
    fn instance_paths_of_an_emitted_top() {
        let cfg = crate::regress::cfg_4x4();
        let design = drq_hdl::top::top_design(&cfg);
        let p = instance_paths(&design.verilog, &design.top);
        assert_eq!(p["drq_top_core_ctrl"], vec!["core.ctrl".to_string()]);
        let pes = p
            .iter()
            .find(|(m, _)| m.ends_with("_mesh_pes"))
            .expect("the PE module");
        assert_eq!(pes.1.len(), (cfg.rows * cfg.cols) as usize);
    }

    #[test]
    fn assigned_signal_of_assignments_only() {
        assert_eq!(assigned_signal("        o = i;"), Some("o"));
        assert_eq!(assigned_signal("  q <= d;"), Some("q"));
        assert_eq!(assigned_signal("  if (a == b) begin"), None);
        assert_eq!(assigned_signal("  x[3] = 1;"), None);
    }

    /// Yosys finds the signal no output depends on, and only that one: a
    /// signal live in one instance (u0.o) is not dead.
    #[test]
    fn a_signal_no_output_reads_is_dead() {
        let dir = std::env::temp_dir().join(format!("drq-liveness-{}", std::process::id()));
        let l = Liveness::compute(TWO_LEVELS, "top", &dir).unwrap();
        assert!(l.is_dead("top_leaf", "unused"));
        assert!(!l.is_dead("top_leaf", "o"), "u0.o drives y");
        assert!(!l.is_dead("top_leaf", "nonexistent"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
