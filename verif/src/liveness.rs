//! Which signals of an emitted `drq_top` can influence one of its outputs:
//! the cone of influence of the top's output ports, from a dependency
//! graph of the emitted text itself, an over-approximation (so "dead" is
//! sound):
//!
//! * an assignment `x = e;` / `x <= e;` (also `assign`, `wire x = e;`, an
//!   indexed `mem[a] <= e;`) makes `x` depend on every identifier of `e`,
//!   of its index and of the conditions of the `if`s around it;
//! * one-bit constants (`localparam drq = 1'b0;`) are folded where
//!   Verilog's width rules allow (`liveness/expr.rs`): a branch whose
//!   condition is the constant 0 assigns nothing, an operand absorbed by a
//!   constant is no dependency (`sens_in | ~drq` reads nothing in the INT8
//!   baseline);
//! * an `always` block with a statement of any other shape (a one-line
//!   `if`, a `case`: the hand-written memories and flip-flops) makes every
//!   signal it assigns depend on every identifier in the block;
//! * an instance's input port depends on the parent's connected
//!   expression, the parent's connected signals on an output port; the
//!   walk is per instance path (a register module shared by every
//!   register of the design is live only where its instance is), and a
//!   signal is dead when it is dead in every instance of its module.
//!
//! A signal that no top-level output depends on, transitively, cannot
//! change any output, whatever the inputs: a fault there is equivalent to
//! none. `drq mutate` uses this as an equivalence proof at the top level,
//! where a module-level proof cannot see that a module's output is unused
//! (docs/verification.md). (Yosys' structural cone, `select o:* %ci*` on
//! the flattened design, was tried first and is unsound here: a value
//! assigned and read inside one `always` block reaches its readers through
//! `proc`'s multiplexers, not through its named wire, and a wire driven by
//! a constant loses its connection to the instance port it feeds.)

use std::collections::{BTreeMap, BTreeSet};

mod expr;
use expr::{evaluate, Scope};

/// The signals of an emitted design that may reach one of its top's
/// outputs, and every signal it declares.
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    /// (module, signal) live in at least one instance.
    live: BTreeSet<(String, String)>,
    known: BTreeSet<(String, String)>,
}

/// Every instance path of every module of `verilog` under `top`, from the
/// instances the module graphs read from the emitted text.
pub fn instance_paths(verilog: &str, top: &str) -> BTreeMap<String, Vec<String>> {
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, m) in instance_modules(&module_graphs(verilog), top) {
        paths.entry(m).or_default().push(path);
    }
    paths
}

/// Instance path -> module, from `top` (the empty path) down, along the
/// instances the module graphs read.
fn instance_modules(graphs: &BTreeMap<String, ModuleGraph>, top: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(String::new(), top.to_string())];
    while let Some((path, m)) = stack.pop() {
        if let Some(g) = graphs.get(&m) {
            let children: BTreeSet<(&String, &String)> = g
                .connections
                .iter()
                .map(|((inst, _), (child, _))| (inst, child))
                .collect();
            for (inst, child) in children {
                let p = if path.is_empty() {
                    inst.clone()
                } else {
                    format!("{path}.{inst}")
                };
                stack.push((p, child.clone()));
            }
        }
        out.insert(path, m);
    }
    out
}

/// Verilog keywords the identifier scan meets (never signals).
const KEYWORDS: [&str; 22] = [
    "always",
    "assign",
    "begin",
    "case",
    "default",
    "else",
    "end",
    "endcase",
    "endmodule",
    "if",
    "initial",
    "input",
    "localparam",
    "module",
    "negedge",
    "output",
    "parameter",
    "posedge",
    "reg",
    "signed",
    "wire",
    "integer",
];

/// The identifiers of a piece of Verilog: sized literals (`64'h20`),
/// numbers, keywords and comments left out.
pub fn identifiers(text: &str) -> Vec<&str> {
    let text = text.split("//").next().unwrap_or("");
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if word(c) || c == b'\'' {
            i += 1;
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
            let id = &text[start..i];
            let is_name = (c.is_ascii_alphabetic() || c == b'_') && !KEYWORDS.contains(&id);
            if is_name {
                out.push(id);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// One module's statements, as dependencies between its signals.
#[derive(Default)]
struct ModuleGraph {
    inputs: BTreeSet<String>,
    outputs: BTreeSet<String>,
    declared: BTreeSet<String>,
    /// signal -> the signals of this module it depends on.
    deps: BTreeMap<String, BTreeSet<String>>,
    /// One-bit constants and one-bit signals, for folding.
    scope: Scope,
    /// (instance, port) -> the child module and the parent's identifiers
    /// connected to the port.
    connections: BTreeMap<(String, String), (String, Vec<String>)>,
}

impl ModuleGraph {
    fn depend(&mut self, target: &str, on: impl IntoIterator<Item = String>) {
        self.deps.entry(target.to_string()).or_default().extend(on);
    }
}

/// An `always` block being read: its lines, and whether every line has a
/// shape whose dependencies are read precisely.
struct Block {
    depth: i32,
    conditions: Vec<Branch>,
    /// The branch the last `end` closed (an `else` on the next line
    /// continues its chain).
    closed: Option<Branch>,
    precise: bool,
    assigned: BTreeSet<String>,
    all_ids: BTreeSet<String>,
    /// (target, its dependencies) of the precise reading.
    edges: Vec<(String, BTreeSet<String>)>,
}

/// One open branch of an `if` chain.
#[derive(Clone)]
struct Branch {
    /// The identifiers of the chain's conditions so far.
    ids: BTreeSet<String>,
    /// This branch never runs (a constant condition).
    dead: bool,
    /// A branch of the chain so far always runs (so every later one never).
    taken: bool,
}

impl Branch {
    fn first(c: expr::Value) -> Branch {
        Branch {
            dead: c.konst == Some(false),
            taken: c.konst == Some(true),
            ids: c.ids,
        }
    }
    /// `else if (c)` (`Some`) or `else` after this chain.
    fn next(&self, c: Option<expr::Value>) -> Branch {
        let mut ids = self.ids.clone();
        let (dead, taken) = match &c {
            Some(c) => (
                self.taken || c.konst == Some(false),
                self.taken || c.konst == Some(true),
            ),
            None => (self.taken, true),
        };
        if let Some(c) = c {
            ids.extend(c.ids);
        }
        Branch { ids, dead, taken }
    }
}

/// `x = e;`, `x <= e;` or `mem[a] <= e;`: the target and the identifiers
/// it reads (index and right-hand side).
fn assignment(line: &str) -> Option<(&str, Vec<&str>, &str)> {
    let t = line.trim().strip_suffix(';')?;
    let eq = t.find('=')?;
    let (lhs, rhs) = (t[..eq].trim_end_matches('<').trim(), &t[eq + 1..]);
    if rhs.starts_with('=') || lhs.contains('(') || lhs.contains(' ') && !lhs.contains('[') {
        return None;
    }
    let ids = identifiers(lhs);
    let (&target, index) = ids.split_first()?;
    if !lhs.starts_with(target) {
        return None;
    }
    Some((target, index.to_vec(), rhs.trim()))
}

fn strings(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Read a statement line of an `always` block into `b`.
fn block_line(b: &mut Block, t: &str, scope: &Scope) {
    let ids = identifiers(t);
    b.all_ids.extend(strings(&ids));
    let words: Vec<&str> = t
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let begins = words.iter().filter(|w| **w == "begin").count() as i32;
    let ends = words.iter().filter(|w| **w == "end").count() as i32;
    let condition = |rest: &str| -> Option<expr::Value> {
        let c = rest
            .trim()
            .strip_prefix('(')?
            .strip_suffix("begin")?
            .trim_end();
        let c = c.strip_suffix(')')?;
        Some(evaluate(c, scope))
    };
    if let Some(rest) = t.strip_prefix("if ") {
        match condition(rest) {
            Some(c) => b.conditions.push(Branch::first(c)),
            None => b.precise = false,
        }
    } else if let Some(rest) = t.strip_prefix("end else if ") {
        match (condition(rest), b.conditions.pop()) {
            (Some(c), Some(prev)) => b.conditions.push(prev.next(Some(c))),
            _ => b.precise = false,
        }
    } else if t == "end else begin" {
        match b.conditions.pop() {
            Some(prev) => b.conditions.push(prev.next(None)),
            None => b.precise = false,
        }
    } else if t == "end" {
        b.closed = b.conditions.pop();
    } else if t == "else begin" {
        // `end` / `else begin` on two lines (rust-hdl's style).
        match b.closed.take() {
            Some(prev) => b.conditions.push(prev.next(None)),
            None => b.precise = false,
        }
    } else if let Some(rest) = t.strip_prefix("else if ") {
        match (condition(rest), b.closed.take()) {
            (Some(c), Some(prev)) => b.conditions.push(prev.next(Some(c))),
            _ => b.precise = false,
        }
    } else if let Some((target, index, rhs)) = assignment(t) {
        if begins + ends > 0 {
            b.precise = false;
        }
        // Assigned either way (the imprecise reading needs every target).
        b.assigned.insert(target.to_string());
        if b.conditions.iter().all(|c| !c.dead) {
            let mut on = strings(&index);
            on.extend(evaluate(rhs, scope).ids);
            for c in &b.conditions {
                on.extend(c.ids.iter().cloned());
            }
            b.edges.push((target.to_string(), on));
        }
    } else {
        b.precise = false;
        for id in &ids {
            // Whatever this line assigns, it is among its identifiers.
            b.assigned.insert(id.to_string());
        }
    }
    b.depth += begins - ends;
}

fn close_block(g: &mut ModuleGraph, b: Block) {
    if b.precise {
        for (target, on) in b.edges {
            g.depend(&target, on);
        }
    } else {
        for target in &b.assigned {
            g.depend(target, b.all_ids.iter().cloned());
        }
    }
}

/// Every module of `verilog`, read into dependency graphs.
fn module_graphs(verilog: &str) -> BTreeMap<String, ModuleGraph> {
    let names: BTreeSet<&str> = verilog
        .lines()
        .filter_map(crate::mutate::module_name)
        .collect();
    let mut graphs = BTreeMap::new();
    let mut module = String::new();
    let mut g = ModuleGraph::default();
    let mut block: Option<Block> = None;
    // The instance being connected: (child module, instance name).
    let mut instance: Option<(String, String)> = None;
    for line in verilog.lines() {
        let t = line.split("//").next().unwrap_or("").trim();
        if t.is_empty() {
            continue;
        }
        if let Some(name) = crate::mutate::module_name(t) {
            module = name.to_string();
            g = ModuleGraph::default();
            continue;
        }
        if t.starts_with("endmodule") {
            if let Some(b) = block.take() {
                close_block(&mut g, b);
            }
            graphs.insert(std::mem::take(&mut module), std::mem::take(&mut g));
            continue;
        }
        if let Some(b) = block.as_mut() {
            block_line(b, t, &g.scope);
            if b.depth <= 0 {
                close_block(&mut g, block.take().expect("a block"));
            }
            continue;
        }
        if let Some((child, inst)) = &instance {
            if t.starts_with(");") {
                instance = None;
            } else if let Some(rest) = t.strip_prefix('.') {
                let (port, expr) = rest.split_once('(').unwrap_or((rest, ""));
                let expr = expr.trim_end_matches(',').trim_end_matches(')');
                let ids = identifiers(expr).iter().map(|s| s.to_string()).collect();
                g.connections.insert(
                    (inst.clone(), port.trim().to_string()),
                    (child.clone(), ids),
                );
            }
            continue;
        }
        if t.starts_with("always") {
            let opens = t.split_whitespace().any(|w| w == "begin");
            let mut b = Block {
                depth: i32::from(opens),
                conditions: Vec::new(),
                closed: None,
                precise: true,
                assigned: BTreeSet::new(),
                all_ids: BTreeSet::new(),
                edges: Vec::new(),
            };
            if !opens {
                // `always @(...) x <= e;` on one line.
                b.precise = false;
                let stmt = t.split_once(')').map_or("", |(_, r)| r);
                block_line(&mut b, stmt, &g.scope);
                close_block(&mut g, b);
            } else {
                block = Some(b);
            }
            continue;
        }
        let mut words = t.trim_end_matches('(').split_whitespace();
        if let (Some(first), Some(inst)) = (words.next(), words.next()) {
            if names.contains(first) && t.ends_with('(') {
                instance = Some((first.to_string(), inst.to_string()));
                continue;
            }
        }
        let decl = t.trim_end_matches(';');
        if let Some(rest) = decl
            .strip_prefix("input ")
            .or_else(|| decl.strip_prefix("output "))
        {
            if let Some(&name) = identifiers(rest).last() {
                if !rest.contains('[') {
                    g.scope.one_bit.insert(name.to_string());
                }
                if decl.starts_with("input") {
                    g.inputs.insert(name.to_string());
                } else {
                    g.outputs.insert(name.to_string());
                }
                g.declared.insert(name.to_string());
            }
            continue;
        }
        if let Some(rest) = decl.strip_prefix("assign ") {
            if let Some((target, mut reads, rhs)) = assignment(&format!("{rest};")) {
                reads.extend(identifiers(rhs));
                g.depend(target, strings(&reads));
            }
            continue;
        }
        if let Some(rest) = decl.strip_prefix("localparam ") {
            // `localparam  drq = 1'b0;`: a one-bit constant folds.
            if let Some((name, value)) = rest.split_once('=') {
                let v = match value.trim() {
                    "1'b0" | "1'h0" | "1'd0" => Some(false),
                    "1'b1" | "1'h1" | "1'd1" => Some(true),
                    _ => None,
                };
                if let Some(v) = v {
                    g.scope.constants.insert(name.trim().to_string(), v);
                }
            }
            continue;
        }
        if let Some(rest) = decl
            .strip_prefix("reg ")
            .or_else(|| decl.strip_prefix("wire "))
        {
            // `reg [63:0] x;`, `reg [31:0] mem [0:2047];`,
            // `wire signed [w-1:0] x = e;`: the name is the identifier
            // outside the brackets.
            let (names_part, init) = rest.split_once('=').unwrap_or((rest, ""));
            let outside: String = names_part
                .split('[')
                .map(|piece| piece.split_once(']').map_or(piece, |(_, after)| after))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(&name) = identifiers(&outside).first() {
                g.declared.insert(name.to_string());
                if !names_part.contains('[') {
                    g.scope.one_bit.insert(name.to_string());
                }
                if !init.is_empty() {
                    g.depend(name, strings(&identifiers(init)));
                }
            }
            continue;
        }
        if t.contains('=') {
            // A statement of a shape not read above: every identifier in it
            // may depend on every other.
            let ids = strings(&identifiers(t));
            for id in &ids {
                g.depend(id, ids.iter().cloned());
            }
        }
    }
    graphs
}

impl Liveness {
    /// The cone of influence of `top`'s outputs in `verilog`.
    pub fn compute(verilog: &str, top: &str) -> Liveness {
        let graphs = module_graphs(verilog);
        let module_at = instance_modules(&graphs, top);
        // Per module: signal -> (instance, output port) it is connected to.
        let mut from_outputs: BTreeMap<&str, BTreeMap<&str, Vec<(&str, &str)>>> = BTreeMap::new();
        for (m, g) in &graphs {
            for ((inst, port), (child, ids)) in &g.connections {
                let is_output = graphs.get(child).is_some_and(|c| c.outputs.contains(port));
                if is_output {
                    for id in ids {
                        from_outputs
                            .entry(m.as_str())
                            .or_default()
                            .entry(id.as_str())
                            .or_default()
                            .push((inst.as_str(), port.as_str()));
                    }
                }
            }
        }
        let join = |p: &str, n: &str| {
            if p.is_empty() {
                n.to_string()
            } else {
                format!("{p}.{n}")
            }
        };
        // Walk back from the top's outputs over (instance path, signal).
        let mut live: BTreeSet<(String, String)> = BTreeSet::new();
        let mut stack: Vec<(String, String)> = graphs
            .get(top)
            .map(|g| {
                g.outputs
                    .iter()
                    .map(|o| (String::new(), o.clone()))
                    .collect()
            })
            .unwrap_or_default();
        while let Some((path, sig)) = stack.pop() {
            if !live.insert((path.clone(), sig.clone())) {
                continue;
            }
            let Some(m) = module_at.get(path.as_str()) else {
                continue;
            };
            let g = &graphs[m];
            let mut push = |p: String, s: &str| {
                if !live.contains(&(p.clone(), s.to_string())) {
                    stack.push((p, s.to_string()));
                }
            };
            for on in g.deps.get(&sig).into_iter().flatten() {
                push(path.clone(), on);
            }
            for (inst, port) in from_outputs
                .get(m.as_str())
                .and_then(|f| f.get(sig.as_str()))
                .into_iter()
                .flatten()
            {
                push(join(&path, inst), port);
            }
            // An input port: the parent's expression connected to it.
            if g.inputs.contains(&sig) && !path.is_empty() {
                let (parent, inst) = path.rsplit_once('.').unwrap_or(("", path.as_str()));
                let pm = module_at.get(parent).map_or(top, String::as_str);
                if let Some((_, ids)) = graphs
                    .get(pm)
                    .and_then(|pg| pg.connections.get(&(inst.to_string(), sig.clone())))
                {
                    for id in ids {
                        push(parent.to_string(), id);
                    }
                }
            }
        }
        let mut known = BTreeSet::new();
        let mut live_in_module = BTreeSet::new();
        for (m, g) in &graphs {
            for name in &g.declared {
                known.insert((m.clone(), name.clone()));
            }
        }
        for (path, sig) in &live {
            if let Some(m) = module_at.get(path.as_str()) {
                live_in_module.insert((m.clone(), sig.clone()));
            }
        }
        Liveness {
            live: live_in_module,
            known,
        }
    }

    /// True when `module` declares `name`, is instantiated under the top,
    /// and no output of the top depends on `name` in any of its instances.
    pub fn is_dead(&self, module: &str, name: &str) -> bool {
        let n = (module.to_string(), name.to_string());
        self.known.contains(&n) && !self.live.contains(&n)
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

    /// A value read again in the block that assigns it reaches the output
    /// through `proc`'s temporaries only; it is live, not dead.
    #[test]
    fn a_value_read_inside_its_own_block_is_live() {
        let v = "module top(a, b, y);\n    input wire a;\n    input wire b;\n    output reg y;\n    \
            reg t;\n    always @(*) begin\n        t = a;\n        if (b) begin\n            t = ~a;\n        end\n        \
            y = t;\n    end\nendmodule\n";
        let l = Liveness::compute(v, "top");
        assert!(!l.is_dead("top", "t"), "t drives y within its block");
    }

    /// On emitted tops: the AXI slave's register read value (assigned and
    /// read in one block) and an INFO constant on its way to the register
    /// file are live; the banked layout's registers of a replicated
    /// configuration, which nothing reads, are dead.
    #[test]
    fn live_and_dead_signals_of_emitted_tops() {
        for name in ["4x4-r2-ov-sp", "int8-4x2-r16"] {
            let cfg = crate::regress::named_config(name).unwrap();
            let design = drq_hdl::top::top_design(&cfg);
            let l = Liveness::compute(&design.verilog, &design.top);
            for live in ["r_reg_val", "r_data_d_calc", "r_data_d"] {
                assert!(
                    !l.is_dead("drq_top_core_regs_slave", live),
                    "{name}: {live}"
                );
            }
            assert!(!l.is_dead("drq_top_core", "regs_info_array"), "{name}");
            assert!(!l.is_dead("drq_top_core_regs", "slave_reg_in_13"), "{name}");
            // The banked layout's registers where the activations are
            // replicated (0 bits, read back as 0): their values drive nothing.
            assert!(l.is_dead("drq_top_core", "regs_bank_row_words"), "{name}");
            let slot = drq_arch::regs::reg::BANK_ROW_WORDS;
            assert!(
                l.is_dead("drq_top_core_regs_slave", &format!("reg_out_{slot}")),
                "{name}"
            );
            assert!(!l.is_dead("drq_top_core", "no_such_signal"), "{name}");
            // The SPEC section 6 waveform signals of the controller and the
            // pipeline that only feeds them: visible in waves, read by no
            // output of the top.
            assert!(l.is_dead("drq_top_core_ctrl", "drq_region_y"), "{name}");
            assert!(l.is_dead("drq_top_core_ctrl_nest", "s1_ry_d"), "{name}");
            // A register module shared by live and dead registers is live.
            assert!(
                !l.is_dead("drq_top_core_ctrl_counters", "n_tiles_d"),
                "{name}"
            );
        }
    }

    /// The INT8 baseline: the DRQ PE's sensitivity, Horner shift and LOW
    /// accumulator path under the constant `drq = 0`, and the mask bits
    /// the controller ignores there, are dead; the DRQ top's are live.
    #[test]
    fn constant_gated_drq_logic_is_dead_in_the_int8_baseline() {
        let int8 = crate::regress::named_config("int8-4x2-r16").unwrap();
        let design = drq_hdl::top::top_design(&int8);
        let l = Liveness::compute(&design.verilog, &design.top);
        let pe = "drq_top_core_array_mesh_pes";
        for dead in ["sens_q_d_calc", "hshift_q_d_calc", "sens_out"] {
            assert!(l.is_dead(pe, dead), "INT8 {dead}");
        }
        assert!(l.is_dead("drq_top_core", "ctrl_mask_bit_1"));
        assert!(!l.is_dead(pe, "acc_hi_d_calc"), "INT8 acc_hi");
        assert!(
            !l.is_dead("drq_top_core", "mask0_rd_addr_0"),
            "the host reads MASK0"
        );
        let drq = drq_hdl::top::top_design(&crate::regress::cfg_4x4());
        let l = Liveness::compute(&drq.verilog, &drq.top);
        for live in ["sens_q_d_calc", "hshift_q_d_calc", "acc_lo_d_calc"] {
            assert!(!l.is_dead(pe, live), "DRQ {live}");
        }
        assert!(!l.is_dead("drq_top_core", "ctrl_mask_bit_1"));
    }

    /// The hand-written memory: a write reaches the read data through the
    /// array, whatever the shape of the block.
    #[test]
    fn a_memory_write_reaches_its_read_port() {
        let v = "module top(clock, we, wa, wd, ra, rd);\n    input wire clock;\n    input wire we;\n    \
            input wire [3:0] wa;\n    input wire [7:0] wd;\n    input wire [3:0] ra;\n    output reg [7:0] rd;\n    \
            reg [7:0] data;\n    reg [7:0] mem [0:15];\n    always @(*) begin\n        data = wd;\n    end\n    \
            always @(posedge clock) begin\n        if (we) mem[wa] <= data;\n        rd <= mem[ra];\n    end\nendmodule\n";
        let l = Liveness::compute(v, "top");
        assert!(!l.is_dead("top", "data"));
        assert!(!l.is_dead("top", "mem"));
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
        let l = Liveness::compute(TWO_LEVELS, "top");
        assert!(l.is_dead("top_leaf", "unused"));
        assert!(!l.is_dead("top_leaf", "o"), "u0.o drives y");
        assert!(!l.is_dead("top_leaf", "nonexistent"));
    }
}
