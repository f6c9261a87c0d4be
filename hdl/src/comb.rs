//! A post-pass over rust-hdl's Verilog: every combinational output is
//! assigned once per evaluation.
//!
//! rust-hdl writes a block's update as one `always @(*)` that gives a
//! signal a default and then overrides it (`data_out = data_in; ...
//! data_out = stages_1_q;`). Verilator and Yosys order the logic
//! statically and only see the final value, but an event-driven simulator
//! (Icarus Verilog) propagates every intermediate value: outputs glitch
//! within a time step, and two such blocks that feed each other across a
//! module boundary re-trigger each other forever (a zero-delay loop).
//!
//! In each `always @(*) begin ... end` this pass gives every signal that is
//! assigned more than once a local shadow `<name>_calc` (same type), which
//! the block computes in place of the signal (reads included, so the
//! block's own order of evaluation is unchanged), and assigns the signal
//! once, from its shadow, at the end of the block. A signal that does not
//! change therefore causes no event, and a block re-run by a glitch-free
//! input settles. Signals assigned once, and local signals only the block
//! itself reads, are left alone.
//!
//! Before that, copies (`child_clock = clock;`, `pes_1_valid_in =
//! pes_0_valid_out;`) are replaced by what they copy, an input or a signal
//! the module's blocking assignments do not write: clocks and resets reach
//! each instance directly instead of through a combinational block (one
//! delta cycle per level in an event-driven simulator, a derived clock for
//! Verilator), and a child's input is connected to its source without a
//! declaration and an assignment of its own.

use crate::dedup::{tokenize, Tok};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// `reg [63:0] name;` declarations of a module: name -> type ("reg [63:0]").
fn reg_declarations(toks: &[Tok]) -> BTreeMap<String, String> {
    let mut decls = BTreeMap::new();
    for (i, t) in toks.iter().enumerate() {
        if *t != Tok::Id("reg".into()) {
            continue;
        }
        let mut j = i + 1;
        let mut ty = String::from("reg");
        if let Some(Tok::Id(s)) = toks.get(j) {
            if s == "signed" {
                ty.push_str(" signed");
                j += 1;
            }
        }
        if let Some(Tok::Other(o)) = toks.get(j) {
            let range = o.trim();
            let is_range = range.is_empty()
                || (range.starts_with('[')
                    && range.ends_with(']')
                    && range[1..range.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ':'));
            if !is_range {
                continue;
            }
            if !range.is_empty() {
                ty.push(' ');
                ty.push_str(range);
            }
            j += 1;
        }
        if let (Some(Tok::Id(name)), Some(Tok::Other(after))) = (toks.get(j), toks.get(j + 1)) {
            if after.trim_start().starts_with(';') {
                decls.insert(name.clone(), ty);
            }
        }
    }
    decls
}

fn is_id(t: &Tok, s: &str) -> bool {
    matches!(t, Tok::Id(id) if id == s)
}

/// Token ranges `[always, end]` of every `always @(*) begin ... end`.
fn comb_blocks(toks: &[Tok]) -> Vec<(usize, usize, usize)> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i + 2 < toks.len() {
        let star = matches!(&toks[i + 1], Tok::Other(o)
            if o.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "@(*)");
        if is_id(&toks[i], "always") && star && is_id(&toks[i + 2], "begin") {
            let mut depth = 0;
            let mut j = i + 2;
            while j < toks.len() {
                if is_id(&toks[j], "begin") {
                    depth += 1;
                } else if is_id(&toks[j], "end") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            assert!(j < toks.len(), "always @(*) begin without its end");
            blocks.push((i, i + 2, j));
            i = j;
        }
        i += 1;
    }
    blocks
}

/// Targets of blocking assignments (`name = ...`) in `toks`, with counts.
fn assignment_counts(toks: &[Tok]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for w in toks.windows(2) {
        if let (Tok::Id(id), Tok::Other(o)) = (&w[0], &w[1]) {
            let rest = o.trim_start();
            if rest.starts_with('=') && !rest.starts_with("==") {
                *n.entry(id.clone()).or_insert(0) += 1;
            }
        }
    }
    n
}

/// How often each identifier occurs in `toks`.
/// How often each identifier is named, port names of named connections
/// (`.status(regs_status)`: a port of the instance, not the signal
/// `status`) left out.
fn id_counts(toks: &[Tok]) -> HashMap<&str, usize> {
    let mut n = HashMap::new();
    let mut after_dot = false;
    for t in toks {
        match t {
            Tok::Id(id) => {
                if !after_dot {
                    *n.entry(id.as_str()).or_insert(0) += 1;
                }
                after_dot = false;
            }
            Tok::Other(o) => {
                let o = o.trim_end();
                if !o.is_empty() {
                    after_dot = o.ends_with('.');
                }
            }
        }
    }
    n
}

fn one_module(text: &str) -> String {
    let toks = tokenize(text);
    let blocks = comb_blocks(&toks);
    if blocks.is_empty() {
        return text.to_string();
    }
    let decls = reg_declarations(&toks);
    let total = id_counts(&toks);
    let mut taken: HashSet<String> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Id(id) => Some(id.clone()),
            Tok::Other(_) => None,
        })
        .collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut at = 0;
    let emit = |out: &mut String, ts: &[Tok]| {
        for t in ts {
            match t {
                Tok::Id(s) | Tok::Other(s) => out.push_str(s),
            }
        }
    };
    for (always, begin, end) in blocks {
        let counts = assignment_counts(&toks[begin..end]);
        let inside = id_counts(&toks[always..=end]);
        // (signal, shadow, type), in name order.
        let mut shadows: Vec<(String, String, String)> = Vec::new();
        for (name, &k) in &counts {
            // A signal nobody outside the block reads (only its declaration
            // names it there) may glitch unseen: it keeps its name.
            let outside = total.get(name.as_str()).copied().unwrap_or(0)
                - inside.get(name.as_str()).copied().unwrap_or(0);
            if k < 2 || outside < 2 {
                continue;
            }
            let Some(ty) = decls.get(name) else {
                panic!("{name} is assigned {k} times in an always @(*) but has no plain reg declaration");
            };
            let mut shadow = format!("{name}_calc");
            while taken.contains(&shadow) {
                shadow.push('_');
            }
            taken.insert(shadow.clone());
            shadows.push((name.clone(), shadow, ty.clone()));
        }
        emit(&mut out, &toks[at..always]);
        if shadows.is_empty() {
            emit(&mut out, &toks[always..=end]);
            at = end + 1;
            continue;
        }
        let indent = match &toks[always - 1] {
            Tok::Other(o) => o.rsplit('\n').next().unwrap_or("").to_string(),
            Tok::Id(_) => String::new(),
        };
        let _ = write!(
            out,
            "// Signals assigned more than once below are computed in a shadow\n{indent}// and assigned once at the end (no glitches between modules).\n{indent}"
        );
        for (_, shadow, ty) in &shadows {
            let _ = write!(out, "{ty} {shadow};\n{indent}");
        }
        let rename: BTreeMap<&str, &str> = shadows
            .iter()
            .map(|(n, s, _)| (n.as_str(), s.as_str()))
            .collect();
        for t in &toks[always..end] {
            match t {
                Tok::Id(id) => out.push_str(rename.get(id.as_str()).copied().unwrap_or(id)),
                Tok::Other(o) => out.push_str(o),
            }
        }
        // `out` now ends with the indentation of the closing `end`.
        for (name, shadow, _) in &shadows {
            let _ = write!(out, "    {name} = {shadow};\n{indent}");
        }
        out.push_str("end");
        at = end + 1;
    }
    emit(&mut out, &toks[at..]);
    out
}

/// Inputs of a module (`input wire [..] name;`).
fn input_ports(toks: &[Tok]) -> HashSet<String> {
    let mut inputs = HashSet::new();
    for (i, t) in toks.iter().enumerate() {
        if !is_id(t, "input") {
            continue;
        }
        // input wire [range] name ;
        let mut j = i + 1;
        while let Some(t) = toks.get(j) {
            match t {
                Tok::Id(id) if id == "wire" || id == "signed" => j += 1,
                Tok::Id(id) => {
                    if matches!(toks.get(j + 1), Some(Tok::Other(o)) if o.trim_start().starts_with(';'))
                    {
                        inputs.insert(id.clone());
                    }
                    break;
                }
                Tok::Other(o) if !o.contains(';') => j += 1,
                Tok::Other(_) => break,
            }
        }
    }
    inputs
}

/// Signals connected to a port of an instance (`.port(signal)`).
fn port_connections(toks: &[Tok]) -> HashSet<&str> {
    let mut connected = HashSet::new();
    for w in toks.windows(5) {
        if let [Tok::Other(dot), Tok::Id(_), Tok::Other(open), Tok::Id(x), Tok::Other(close)] = w {
            if dot.trim_end().ends_with('.') && open == "(" && close.starts_with(')') {
                connected.insert(x.as_str());
            }
        }
    }
    connected
}

/// Copies in an `always @(*)` (`child_clock = clock;`, `pes_1_valid_in =
/// pes_0_valid_out;`): a plain reg assigned once and no port, copying an
/// input, or copying a signal no blocking assignment of the module writes
/// (a child's output, a register, a constant) and itself only connected
/// to a child's port, is replaced by what it copies, and its declaration
/// and assignment go. Clocks then reach every
/// flip-flop without passing through combinational blocks, and a child's
/// input is connected to its source directly (two lines fewer a port: the
/// 16x16 mesh's links are 22 a PE). rust-hdl types both sides of an
/// assignment alike, so the connection keeps the port's width.
fn propagate_copies(text: &str) -> String {
    let toks = tokenize(text);
    let blocks = comb_blocks(&toks);
    if blocks.is_empty() {
        return text.to_string();
    }
    let inputs = input_ports(&toks);
    let decls = reg_declarations(&toks);
    let counts = assignment_counts(&toks);
    let named = id_counts(&toks);
    let connections = port_connections(&toks);
    let header_end = toks
        .iter()
        .position(|t| matches!(t, Tok::Other(o) if o.contains(';')))
        .unwrap_or(0);
    let header: HashSet<&str> = toks[..header_end]
        .iter()
        .filter_map(|t| match t {
            Tok::Id(id) => Some(id.as_str()),
            Tok::Other(_) => None,
        })
        .collect();
    let mut copies: BTreeMap<String, String> = BTreeMap::new();
    for (_, begin, end) in &blocks {
        let mut depth = 0;
        for i in *begin..*end {
            match &toks[i] {
                Tok::Id(id) if id == "begin" => depth += 1,
                Tok::Id(id) if id == "end" => depth -= 1,
                Tok::Id(x) if depth == 1 => {
                    let (Some(Tok::Other(eq)), Some(Tok::Id(y)), Some(Tok::Other(semi))) =
                        (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3))
                    else {
                        continue;
                    };
                    if eq.trim() == "="
                        && semi.trim_start().starts_with(';')
                        && x != y
                        && (inputs.contains(y)
                            || (!counts.contains_key(y)
                                // declared, assigned, connected: nothing
                                // else reads it (a signal of the design's
                                // own keeps its name in the waves)
                                && named.get(x.as_str()) == Some(&3)
                                && connections.contains(x.as_str())))
                        && counts.get(x) == Some(&1)
                        && decls.contains_key(x)
                        && !header.contains(x.as_str())
                    {
                        copies.insert(x.clone(), y.clone());
                    }
                }
                _ => {}
            }
        }
    }
    if copies.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let code = line.trim();
        let lt = tokenize(line);
        let ids: Vec<&str> = lt
            .iter()
            .filter_map(|t| match t {
                Tok::Id(id) => Some(id.as_str()),
                Tok::Other(_) => None,
            })
            .collect();
        // `x = y;` or `reg [..] x;` of a copy: dropped.
        if let [x, y] = ids[..] {
            if copies.get(x).map(String::as_str) == Some(y) && code == format!("{x} = {y};") {
                continue;
            }
        }
        if let (Some(&"reg"), Some(x)) = (ids.first(), ids.last()) {
            if ids.len() >= 2 && copies.contains_key(*x) && code.ends_with(&format!(" {x};")) {
                continue;
            }
        }
        for t in &lt {
            match t {
                Tok::Id(id) => out.push_str(copies.get(id).unwrap_or(id)),
                Tok::Other(o) => out.push_str(o),
            }
        }
    }
    out
}

/// Apply the pass to every module of `verilog`.
pub fn assign_once(verilog: &str) -> String {
    let mut out = String::with_capacity(verilog.len() + verilog.len() / 8);
    let mut module = String::new();
    let mut inside = false;
    for line in verilog.split_inclusive('\n') {
        if !inside && line.starts_with("module ") {
            inside = true;
        }
        if inside {
            module.push_str(line);
            if line.trim_start().starts_with("endmodule") {
                let mut copied = propagate_copies(&module);
                // A chain of copies (`b = a; c = b;`) goes one link a round.
                while let Some(next) = Some(propagate_copies(&copied)).filter(|n| *n != copied) {
                    copied = next;
                }
                out.push_str(&one_module(&copied));
                module.clear();
                inside = false;
            }
        } else {
            out.push_str(line);
        }
    }
    out.push_str(&module);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_inputs_are_the_inputs() {
        let v = "\
module d(clock,data_in,data_out);
    input wire  clock;
    input wire  [63:0] data_in;
    output reg  [63:0] data_out;
    reg  s_clock;
    wire  [63:0] s_q;
    m s(
        .clock(s_clock),
        .q(s_q)
    );
    always @(*) begin
        s_clock = clock;
        data_out = s_q;
    end
endmodule // d
";
        let out = assign_once(v);
        assert!(!out.contains("s_clock"), "{out}");
        assert!(out.contains(".clock(clock),"), "{out}");
        assert!(out.contains("        data_out = s_q;"), "{out}");
    }

    #[test]
    fn a_child_input_copying_a_signal_is_connected_to_it() {
        let v = "\
module d(clock,data_out);
    input wire  clock;
    output reg  [63:0] data_out;
    reg  [63:0] b_d;
    reg  [63:0] c_d;
    reg  [63:0] take;
    reg  [63:0] sum;
    wire  [63:0] a_q;
    wire  [63:0] b_q;
    wire  [63:0] c_q;
    m a(
        .q(a_q)
    );
    m b(
        .d(b_d),
        .q(b_q)
    );
    m c(
        .d(c_d),
        .q(c_q)
    );
    always @(*) begin
        b_d = a_q;
        take = b_q;
        sum = a_q + take;
        c_d = sum;
        data_out = c_q | take;
    end
endmodule // d
";
        let out = assign_once(v);
        // b's input copies a's output and is only connected: it goes.
        assert!(out.contains(".d(a_q),") && !out.contains("b_d"), "{out}");
        // `take` copies b's output but logic reads it: it keeps its name.
        assert!(
            out.contains("take = b_q;") && out.contains("reg  [63:0] take;"),
            "{out}"
        );
        // c's input copies `sum`, which a blocking assignment writes (its
        // value at the copy could be an intermediate one): kept.
        assert!(
            out.contains("c_d = sum;") && out.contains(".d(c_d),"),
            "{out}"
        );
    }

    #[test]
    fn defaults_and_overrides_become_one_assignment() {
        let v = "\
module d(clock,data_in,data_out);
    input wire  clock;
    input wire  [63:0] data_in;
    output reg  [63:0] data_out;
    reg  s_clock;
    reg  [63:0] s_d;
    wire  [63:0] s_q;
    always @(*) begin
        data_out = data_in;
        s_clock = clock;
        s_d = data_in;
        if (s_q == 64'h0) begin
            data_out = s_q + data_out;
        end
    end
endmodule // d
";
        let out = assign_once(v);
        assert!(out.contains("    reg [63:0] data_out_calc;\n    always @(*) begin\n        data_out_calc = data_in;"), "{out}");
        assert!(
            out.contains("data_out_calc = s_q + data_out_calc;"),
            "{out}"
        );
        assert!(
            out.contains("        data_out = data_out_calc;\n    end\nendmodule"),
            "{out}"
        );
        // Copies of inputs are gone.
        assert!(!out.contains("s_clock"), "{out}");
        assert!(!out.contains("s_d_calc"), "{out}");
        assert_eq!(out.matches("data_out =").count(), 1, "{out}");
    }
}
