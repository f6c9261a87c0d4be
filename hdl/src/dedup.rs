//! A post-pass over rust-hdl's Verilog: every distinct module once, plain
//! names.
//!
//! rust-hdl writes one module per instance (`drq_top_core$mesh$pes$17`),
//! so a 16x16 array repeats the same PE body 256 times. This pass
//!
//! 1. renames every identifier that holds a `$` (module, port, instance
//!    and signal names) to the same name with `_` (`pes$17$a_out` becomes
//!    `pes_17_a_out`); a name that would collide with another of the same
//!    module gets more `_` appended, and a parent's named port connections
//!    `.p(...)` follow the child's renaming;
//! 2. canonicalises each module, bottom-up: its own name and the names of
//!    the modules it instantiates are replaced by the classes already found,
//!    so two parents become equal once their children are merged (one
//!    post-order pass reaches the fixed point);
//! 3. keeps the first module of each class (in emission order) under a
//!    readable name: the shortest member name with its vector indices
//!    (`$<digits>` segments) dropped, numbered `_2`, `_3`, ... where two
//!    classes would share a name; the first classes in emission order (the
//!    shell, then the core) keep their names exactly.
//!
//! Same input, same bytes: everything is ordered by emission order.

use std::collections::{BTreeSet, HashMap, HashSet};

/// One lexical piece of Verilog text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier (keywords included).
    Id(String),
    /// Anything else, verbatim: punctuation, whitespace, numbers, comments,
    /// strings, system names (`$signed`), directives.
    Other(String),
}

fn is_id_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Split Verilog text into identifiers and the rest.
pub(crate) fn tokenize(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut other = String::new();
    let mut i = 0;
    let flush = |other: &mut String, out: &mut Vec<Tok>| {
        if !other.is_empty() {
            out.push(Tok::Other(std::mem::take(other)));
        }
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else if c == b'\'' {
            // A based literal: 'h3f, 'sd5, 'b0.
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'?') {
                i += 1;
            }
        } else if is_id_start(c) {
            while i < b.len() && is_id_char(b[i]) {
                i += 1;
            }
            flush(&mut other, &mut out);
            out.push(Tok::Id(s[start..i].to_string()));
            continue;
        } else if c == b'$' || c == b'`' || c.is_ascii_digit() {
            i += 1;
            while i < b.len() && is_id_char(b[i]) {
                i += 1;
            }
        } else {
            // Plain punctuation and white space; keep UTF-8 characters whole.
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
        other.push_str(&s[start..i]);
    }
    flush(&mut other, &mut out);
    out
}

/// rust-hdl's Verilog resolves only the first index of a name: a vector
/// port of a block held in a vector, written `self.v[k].port[0]` with a
/// literal index, comes out as `v$k$port[0]` where the wire is
/// `v$k$port$0`. This pass rewrites such a use when the name itself is
/// declared nowhere and the name with `$<index>` is (so every other
/// bit-select is left alone); a loop variable as the second index
/// stays unresolved (rust-hdl writes its name), so the generator indexes
/// those ports with literals only.
pub fn resolve_nested_ports(verilog: &str) -> String {
    const DECL: [&str; 5] = ["reg", "wire", "input", "output", "localparam"];
    let toks = tokenize(verilog);
    let mut declared: HashSet<&str> = HashSet::new();
    let mut line_start = true;
    let mut in_decl = false;
    for t in &toks {
        match t {
            Tok::Id(id) => {
                if line_start {
                    in_decl = DECL.contains(&id.as_str());
                    line_start = false;
                } else if in_decl {
                    declared.insert(id);
                }
            }
            Tok::Other(o) => {
                if o.contains('\n') {
                    line_start = o.rsplit('\n').next().is_some_and(|l| l.trim().is_empty());
                    in_decl = false;
                }
            }
        }
    }
    let index_of = |o: &str| -> Option<usize> {
        let rest = o.strip_prefix('[')?;
        let end = rest.find(']')?;
        rest[..end]
            .chars()
            .all(|c| c.is_ascii_digit())
            .then_some(end + 2)
    };
    let mut out = String::with_capacity(verilog.len());
    let mut skip = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Id(id) => {
                let next = match toks.get(i + 1) {
                    Some(Tok::Other(o)) => Some(o.as_str()),
                    _ => None,
                };
                let fix = next.and_then(|o| {
                    let len = index_of(o)?;
                    let lane = format!("{id}${}", &o[1..len - 1]);
                    (!declared.contains(id.as_str()) && declared.contains(lane.as_str()))
                        .then_some((lane, len))
                });
                match fix {
                    Some((lane, len)) => {
                        out.push_str(&lane);
                        skip = len;
                    }
                    None => out.push_str(id),
                }
            }
            Tok::Other(o) => {
                out.push_str(&o[skip..]);
                skip = 0;
            }
        }
    }
    out
}

/// A piece of the file: text between modules, or one module.
enum Segment {
    Text(String),
    Module(usize),
}

struct Module {
    name: String,
    /// The module's text without its closing `endmodule` line.
    toks: Vec<Tok>,
    /// The `$`-free name of each identifier of this module.
    rename: HashMap<String, String>,
    /// Modules instantiated, in order of first appearance.
    children: Vec<usize>,
}

fn module_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("module ")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn split(verilog: &str) -> (Vec<Segment>, Vec<(String, String)>) {
    let mut segments = Vec::new();
    let mut modules = Vec::new();
    let mut text = String::new();
    let mut current: Option<(String, String)> = None;
    for line in verilog.split_inclusive('\n') {
        match &mut current {
            None => match module_name(line) {
                Some(name) => {
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    current = Some((name.to_string(), line.to_string()));
                }
                None => text.push_str(line),
            },
            Some((_, body)) => {
                if line.trim_start().starts_with("endmodule") {
                    let (name, body) = current.take().expect("inside a module");
                    segments.push(Segment::Module(modules.len()));
                    modules.push((name, body));
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if let Some((name, body)) = current {
        panic!("module {name} has no endmodule ({} bytes)", body.len());
    }
    if !text.is_empty() {
        segments.push(Segment::Text(text));
    }
    (segments, modules)
}

fn plain(name: &str) -> String {
    name.replace('$', "_")
}

/// A `$`-free name for every identifier of a module, unique in the module.
fn renames(toks: &[Tok], own: &str, module_names: &HashSet<&str>) -> HashMap<String, String> {
    let ids: BTreeSet<&str> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Id(id) if id != own && !module_names.contains(id.as_str()) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut taken: HashSet<String> = ids
        .iter()
        .filter(|id| !id.contains('$'))
        .map(|id| id.to_string())
        .collect();
    let mut map = HashMap::new();
    for id in ids.iter().filter(|id| id.contains('$')) {
        let mut new = plain(id);
        while taken.contains(&new) {
            new.push('_');
        }
        taken.insert(new.clone());
        map.insert(id.to_string(), new);
    }
    map
}

/// The readable base name of a module: vector indices dropped, `$` to `_`.
fn base_name(name: &str) -> String {
    let parts: Vec<&str> = name
        .split('$')
        .enumerate()
        .filter(|(i, p)| *i == 0 || !p.chars().all(|c| c.is_ascii_digit()))
        .map(|(_, p)| p)
        .collect();
    parts.join("_")
}

/// Drop every module without ports and every instance of one (an
/// instance with an empty connection list): a module without ports can
/// drive nothing outside itself. The generator builds optional blocks with
/// no rows where a configuration has none of them (`mesh.rs`,
/// `RowSelect`), and rust-hdl still writes their empty module.
pub fn drop_portless(verilog: &str) -> String {
    let lines: Vec<&str> = verilog.lines().collect();
    let portless: HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("module "))
        .filter_map(|rest| rest.strip_suffix("();"))
        .collect();
    if portless.is_empty() {
        return verilog.to_string();
    }
    let mut out = String::with_capacity(verilog.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let portless_header = line
            .strip_prefix("module ")
            .is_some_and(|rest| rest.ends_with("();"));
        if portless_header {
            // The module, through its `endmodule` and the blank lines after.
            while i < lines.len() && !lines[i].starts_with("endmodule") {
                i += 1;
            }
            i += 1;
            while i < lines.len() && lines[i].trim().is_empty() {
                i += 1;
            }
            continue;
        }
        let mut words = line.split_whitespace();
        let instance = matches!(
            (words.next(), words.next(), words.next()),
            (Some(m), Some(inst), None) if portless.contains(m) && inst.ends_with('(')
        );
        if instance && lines.get(i + 1).map(|l| l.trim()) == Some(");") {
            i += 2;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    if !verilog.ends_with('\n') {
        out.pop();
    }
    out
}

/// Write each distinct module once (see the module documentation).
pub fn dedup(verilog: &str) -> String {
    let (segments, raw) = split(verilog);
    let names: Vec<String> = raw.iter().map(|(n, _)| n.clone()).collect();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    assert_eq!(index.len(), names.len(), "module names are unique");
    let name_set: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut modules: Vec<Module> = raw
        .iter()
        .map(|(name, body)| {
            let toks = tokenize(body);
            let rename = renames(&toks, name, &name_set);
            let mut children = Vec::new();
            for t in &toks {
                if let Tok::Id(id) = t {
                    if let Some(&c) = index.get(id.as_str()) {
                        if id != name && !children.contains(&c) {
                            children.push(c);
                        }
                    }
                }
            }
            Module {
                name: name.clone(),
                toks,
                rename,
                children,
            }
        })
        .collect();

    // Rewrite each module's tokens: own identifiers renamed, named port
    // connections `.p(` renamed as the instantiated child renames `p`.
    for m in 0..modules.len() {
        let mut toks = std::mem::take(&mut modules[m].toks);
        let mut child: Option<usize> = None;
        let mut after_dot = false;
        for t in toks.iter_mut() {
            match t {
                Tok::Id(id) => {
                    if let Some(&c) = index.get(id.as_str()) {
                        if *id != modules[m].name {
                            child = Some(c);
                        }
                    } else if after_dot {
                        let map =
                            &modules[child.expect("a port connection inside an instance")].rename;
                        if let Some(new) = map.get(id.as_str()) {
                            *id = new.clone();
                        }
                    } else if let Some(new) = modules[m].rename.get(id.as_str()) {
                        *id = new.clone();
                    }
                    after_dot = false;
                }
                Tok::Other(o) => {
                    after_dot = o.ends_with('.');
                }
            }
        }
        modules[m].toks = toks;
    }

    // Classes, bottom-up (post-order from every root).
    let mut class: Vec<Option<usize>> = vec![None; modules.len()];
    let mut canon_class: HashMap<String, usize> = HashMap::new();
    let mut order = Vec::new();
    let mut visited = vec![false; modules.len()];
    for root in 0..modules.len() {
        // Iterative post-order.
        let mut stack = vec![(root, false)];
        while let Some((m, expanded)) = stack.pop() {
            if expanded {
                order.push(m);
                continue;
            }
            if visited[m] {
                continue;
            }
            visited[m] = true;
            stack.push((m, true));
            for &c in modules[m].children.iter().rev() {
                if !visited[c] {
                    stack.push((c, false));
                }
            }
        }
    }
    for &m in &order {
        let mut canon = String::new();
        for t in &modules[m].toks {
            match t {
                Tok::Id(id) if *id == modules[m].name => canon.push_str("\u{1}self"),
                Tok::Id(id) => match index.get(id.as_str()) {
                    Some(&c) => {
                        let k = class[c].expect("children are classified first");
                        canon.push_str(&format!("\u{1}class{k}"));
                    }
                    None => canon.push_str(id),
                },
                Tok::Other(o) => canon.push_str(o),
            }
        }
        let next = canon_class.len();
        class[m] = Some(*canon_class.entry(canon).or_insert(next));
    }
    let class: Vec<usize> = class.into_iter().map(|c| c.expect("classified")).collect();

    // Names: the first classes in emission order keep their members' names
    // where those are plain; others the shortest base name of a member.
    let n_classes = canon_class.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (m, &k) in class.iter().enumerate() {
        members[k].push(m);
    }
    let mut first_seen: Vec<usize> = (0..n_classes).collect();
    first_seen.sort_by_key(|&k| members[k][0]);
    let mut class_name: Vec<String> = vec![String::new(); n_classes];
    let mut used: HashSet<String> = HashSet::new();
    for &k in &first_seen {
        let base = members[k]
            .iter()
            .map(|&m| base_name(&modules[m].name))
            .min_by_key(|b| b.len())
            .expect("a class has members");
        let mut name = base.clone();
        let mut n = 1;
        while used.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        used.insert(name.clone());
        class_name[k] = name;
    }

    // Write: the first member of each class, under the class name.
    let mut out = String::with_capacity(verilog.len() / 4);
    let mut written = vec![false; n_classes];
    let mut last_written = true;
    for seg in &segments {
        match seg {
            Segment::Text(t) => {
                if last_written || !t.trim().is_empty() {
                    out.push_str(t);
                }
            }
            Segment::Module(m) => {
                let k = class[*m];
                last_written = !written[k];
                if written[k] {
                    continue;
                }
                written[k] = true;
                for t in &modules[*m].toks {
                    match t {
                        Tok::Id(id) => match index.get(id.as_str()) {
                            Some(&c) => out.push_str(&class_name[class[c]]),
                            None => out.push_str(id),
                        },
                        Tok::Other(o) => out.push_str(o),
                    }
                }
                out.push_str(&format!("endmodule // {}\n", class_name[k]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_LEAVES: &str = "\
module top (
    input wire [3:0] a$0,
    output wire y
);
    top_core core (
        .a$0(a$0),
        .y(y)
    );
endmodule // top

module top_core(a$0,y);
    input wire [3:0] a$0;
    output reg y;
    reg  [3:0] leaf$0$d;
    wire  leaf$0$q;
    reg  [3:0] leaf$1$d;
    wire  leaf$1$q;
    reg  leaf_1_d;
    top_core$leaf$0 leaf$0(
        .d(leaf$0$d),
        .q(leaf$0$q)
    );
    top_core$leaf$1 leaf$1(
        .d(leaf$1$d),
        .q(leaf$1$q)
    );
    always @(*) begin
        leaf$0$d = a$0 & 4'hf;
        leaf$1$d = $signed(a$0);
        y = leaf$0$q ^ leaf$1$q;
    end
endmodule // top_core

module top_core$leaf$0(d,q);
    input wire [3:0] d;
    output reg q;
    always @(*) q = |d; // leaf$0
endmodule // top_core$leaf$0

module top_core$leaf$1(d,q);
    input wire [3:0] d;
    output reg q;
    always @(*) q = |d; // leaf$0
endmodule // top_core$leaf$1
";

    #[test]
    fn merges_identical_modules_and_renames() {
        let out = dedup(TWO_LEAVES);
        assert!(!out.contains("top_core$leaf$1"), "{out}");
        assert_eq!(out.matches("module top_core_leaf(").count(), 1, "{out}");
        assert_eq!(out.matches("top_core_leaf leaf_").count(), 2, "{out}");
        assert!(out.contains(".a_0(a_0)"), "{out}");
        // Collision: leaf$1$d and leaf_1_d.
        assert!(out.contains("leaf_1_d_ = $signed(a_0)"), "{out}");
        assert!(out.contains("4'hf"), "{out}");
        // Comments are left alone.
        assert!(out.contains("// leaf$0"), "{out}");
        assert!(out.contains("endmodule // top_core_leaf\n"), "{out}");
        assert_eq!(dedup(&out), out, "idempotent");
    }

    #[test]
    fn parents_merge_once_children_do() {
        let v = "\
module t(x);
    input wire x;
    t$a a(.x(x));
    t$b b(.x(x));
endmodule // t

module t$a(x);
    input wire x;
    t$a$l l(.x(x));
endmodule // t$a

module t$a$l(x);
    input wire x;
endmodule // t$a$l

module t$b(x);
    input wire x;
    t$b$l l(.x(x));
endmodule // t$b

module t$b$l(x);
    input wire x;
endmodule // t$b$l
";
        let out = dedup(v);
        assert_eq!(out.matches("\nmodule ").count() + 1, 3, "{out}");
        assert!(out.contains("t_a a(.x(x));\n    t_a b(.x(x));"), "{out}");
    }

    #[test]
    fn portless_modules_and_their_instances_are_dropped() {
        let v = "\
module t(x);
    input wire x;
    t_e e(
    );
    t_k k(.x(x));
endmodule // t

module t_e();
    localparam  zero = 64'h0;
    always @(*) begin
    end
endmodule // t_e

module t_k(x);
    input wire x;
endmodule // t_k
";
        let out = drop_portless(v);
        assert!(!out.contains("t_e"), "{out}");
        assert!(
            out.contains("    t_k k(.x(x));\nendmodule // t\n\nmodule t_k(x);"),
            "{out}"
        );
        assert_eq!(drop_portless(&out), out, "idempotent");
        assert_eq!(drop_portless(TWO_LEAVES), TWO_LEAVES, "nothing to drop");
    }

    #[test]
    fn nested_port_indices_resolve_to_their_wires() {
        let v = "module t(a);\n    input wire [63:0] a;\n    reg  [63:0] s$0$p$0;\n    reg  [63:0] q;\n    wire [63:0] w;\n\
                 always @(*) begin\n        s$0$p[0] = a[3] ? w[1] : q[0];\n    end\nendmodule\n";
        let out = resolve_nested_ports(v);
        assert!(
            out.contains("        s$0$p$0 = a[3] ? w[1] : q[0];"),
            "{out}"
        );
        assert_eq!(resolve_nested_ports(&out), out, "idempotent");
    }

    #[test]
    fn base_names_drop_indices() {
        assert_eq!(
            base_name("drq_top_core$act0$copies$12"),
            "drq_top_core_act0_copies"
        );
        assert_eq!(base_name("m$pes$3$mul"), "m_pes_mul");
    }
}
