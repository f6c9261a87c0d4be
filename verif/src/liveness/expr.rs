//! What a Verilog expression of the emitted text can depend on, with the
//! module's one-bit constants folded in (`drq = 1'b0` of the INT8
//! baseline): `sens_in | ~drq` is the constant 1 and depends on nothing.
//!
//! Folding is sound: it only happens where Verilog's width rules cannot
//! change the answer. `x & 0` is 0 at any width; `x | 1`, `~c` and the
//! constants of `&` and `|` with 1 are folded only when every operand is
//! one bit wide (a wider operand would extend `~c` before inverting it).
//! Anything the parser does not know (arithmetic, shifts, indexing,
//! concatenation, `?:`) is an opaque value that depends on every
//! identifier in it.

use std::collections::{BTreeMap, BTreeSet};

/// An expression's value, as far as the folding can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// `Some(false)`: every bit 0. `Some(true)`: the one-bit value 1.
    pub konst: Option<bool>,
    /// One bit wide (known).
    pub one_bit: bool,
    /// The identifiers the value may depend on (none for a constant).
    pub ids: BTreeSet<String>,
}

impl Value {
    fn konst(v: bool, one_bit: bool) -> Value {
        Value {
            konst: Some(v),
            one_bit,
            ids: BTreeSet::new(),
        }
    }
    fn opaque(ids: BTreeSet<String>, one_bit: bool) -> Value {
        Value {
            konst: None,
            one_bit,
            ids,
        }
    }
}

/// The names and widths the folding knows in one module: one-bit
/// constants, and which signals are one bit wide.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub constants: BTreeMap<String, bool>,
    pub one_bit: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Id(String),
    /// A literal: its value if it is a one-bit `1'b0`/`1'b1`, and whether
    /// it is zero (any width).
    Lit {
        one_bit: Option<bool>,
        zero: bool,
    },
    Op(&'static str),
    Open(char),
    Close(char),
}

const OPS: [&str; 27] = [
    "===", "!==", "<<<", ">>>", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "~|", "~&", "~^",
    "^~", "&", "|", "^", "~", "!", "+", "-", "*", "<", ">", "?",
];

fn tokens(text: &str) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == b'\'' {
            let start = i;
            while i < b.len() && (word(b[i]) || b[i] == b'\'') {
                i += 1;
            }
            let lit = &text[start..i];
            // The digits after the base letter of a sized literal.
            let digits = match lit.split_once('\'') {
                Some((_, based)) => based.get(1..).unwrap_or(""),
                None => lit,
            };
            let zero = digits.chars().all(|d| d == '0' || d == '_');
            let one_bit = match lit {
                "1'b0" | "1'h0" | "1'd0" => Some(false),
                "1'b1" | "1'h1" | "1'd1" => Some(true),
                _ => None,
            };
            out.push(Tok::Lit { one_bit, zero });
        } else if word(c) {
            let start = i;
            while i < b.len() && word(b[i]) {
                i += 1;
            }
            out.push(Tok::Id(text[start..i].to_string()));
        } else if matches!(c, b'(' | b'[' | b'{') {
            out.push(Tok::Open(c as char));
            i += 1;
        } else if matches!(c, b')' | b']' | b'}') {
            out.push(Tok::Close(c as char));
            i += 1;
        } else if c == b':' || c == b',' {
            out.push(Tok::Op(if c == b':' { ":" } else { "," }));
            i += 1;
        } else {
            let op = OPS.iter().find(|op| text[i..].starts_with(**op))?;
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Some(out)
}

/// Binding power of a binary operator (higher binds tighter).
fn power(op: &str) -> Option<u8> {
    Some(match op {
        "*" => 9,
        "+" | "-" => 8,
        "<<" | ">>" | "<<<" | ">>>" => 7,
        "<" | ">" | "<=" | ">=" => 6,
        "==" | "!=" | "===" | "!==" => 5,
        "&" => 4,
        "^" | "~^" | "^~" => 3,
        "|" => 2,
        "&&" => 1,
        "||" => 0,
        _ => return None,
    })
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    scope: &'a Scope,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    /// Every identifier up to the bracket that closes `open`.
    fn group(&mut self, open: char) -> Option<BTreeSet<String>> {
        let close = match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        let mut depth = 1;
        let mut ids = BTreeSet::new();
        while let Some(t) = self.toks.get(self.pos) {
            self.pos += 1;
            match t {
                Tok::Open(_) => depth += 1,
                Tok::Close(c) => {
                    depth -= 1;
                    if depth == 0 {
                        return (*c == close).then_some(ids);
                    }
                }
                Tok::Id(s) => {
                    ids.insert(s.clone());
                }
                _ => {}
            }
        }
        None
    }
    fn primary(&mut self) -> Option<Value> {
        let t = self.peek()?.clone();
        self.pos += 1;
        let v = match t {
            Tok::Id(name) => {
                if let Some(&v) = self.scope.constants.get(&name) {
                    Value::konst(v, true)
                } else {
                    let one_bit = self.scope.one_bit.contains(&name);
                    Value::opaque([name].into(), one_bit)
                }
            }
            Tok::Lit { one_bit, zero } => match (one_bit, zero) {
                (Some(v), _) => Value::konst(v, true),
                (None, true) => Value::konst(false, false),
                (None, false) => Value::opaque(BTreeSet::new(), false),
            },
            Tok::Open('(') => {
                let inner_start = self.pos;
                let v = self.expression(0);
                match (v, self.peek()) {
                    (Some(v), Some(Tok::Close(')'))) => {
                        self.pos += 1;
                        v
                    }
                    _ => {
                        // Not an expression this parser reads: opaque.
                        self.pos = inner_start;
                        Value::opaque(self.group('(')?, false)
                    }
                }
            }
            Tok::Open(c) => Value::opaque(self.group(c)?, false),
            Tok::Op(op) => return self.unary(op),
            Tok::Close(_) => return None,
        };
        // An index or part select makes the value opaque.
        let mut v = v;
        while let Some(Tok::Open('[')) = self.peek() {
            self.pos += 1;
            let idx = self.group('[')?;
            v = Value::opaque(v.ids.union(&idx).cloned().collect(), false);
        }
        Some(v)
    }
    fn unary(&mut self, op: &str) -> Option<Value> {
        let a = self.primary()?;
        Some(match op {
            "~" if a.one_bit => match a.konst {
                Some(v) => Value::konst(!v, true),
                None => a,
            },
            "!" => match a.konst {
                Some(v) => Value::konst(!v, true),
                None => Value::opaque(a.ids, true),
            },
            "|" | "^" | "&" if a.konst == Some(false) => Value::konst(false, true),
            "|" | "^" | "&" | "~|" | "~&" | "~^" => Value::opaque(a.ids, true),
            "-" | "~" => Value::opaque(a.ids, a.one_bit && op == "~"),
            _ => return None,
        })
    }
    fn expression(&mut self, min: u8) -> Option<Value> {
        let mut lhs = self.primary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op)) => *op,
                _ => break,
            };
            if op == "?" {
                // `c ? a : b`: opaque, every identifier of the rest.
                if min > 0 {
                    break;
                }
                self.pos += 1;
                let mut ids = lhs.ids;
                while let Some(t) = self.peek() {
                    if matches!(t, Tok::Close(_)) {
                        break;
                    }
                    if let Tok::Id(s) = t {
                        ids.insert(s.clone());
                    }
                    if let Tok::Open(c) = t {
                        let c = *c;
                        self.pos += 1;
                        ids.extend(self.group(c)?);
                        continue;
                    }
                    self.pos += 1;
                }
                return Some(Value::opaque(ids, false));
            }
            let Some(p) = power(op) else { break };
            if p < min {
                break;
            }
            self.pos += 1;
            let rhs = self.expression(p + 1)?;
            lhs = binary(op, lhs, rhs);
        }
        Some(lhs)
    }
}

fn binary(op: &str, a: Value, b: Value) -> Value {
    let both_one_bit = a.one_bit && b.one_bit;
    let union = |a: Value, b: Value, one_bit: bool| {
        Value::opaque(a.ids.union(&b.ids).cloned().collect(), one_bit)
    };
    match op {
        "&" => {
            if a.konst == Some(false) || b.konst == Some(false) {
                Value::konst(false, both_one_bit)
            } else if both_one_bit && a.konst == Some(true) {
                b
            } else if both_one_bit && b.konst == Some(true) {
                a
            } else {
                union(a, b, both_one_bit)
            }
        }
        "|" => {
            if both_one_bit && (a.konst == Some(true) || b.konst == Some(true)) {
                Value::konst(true, true)
            } else if a.konst == Some(false) && (both_one_bit || !b.one_bit) {
                b
            } else if b.konst == Some(false) && (both_one_bit || !a.one_bit) {
                a
            } else {
                union(a, b, both_one_bit)
            }
        }
        "&&" => {
            if a.konst == Some(false) || b.konst == Some(false) {
                Value::konst(false, true)
            } else {
                union(a, b, true)
            }
        }
        "||" => {
            if (a.konst == Some(true) && a.one_bit) || (b.konst == Some(true) && b.one_bit) {
                Value::konst(true, true)
            } else {
                union(a, b, true)
            }
        }
        "==" | "!=" | "===" | "!==" | "<" | ">" | "<=" | ">=" => union(a, b, true),
        "^" | "~^" | "^~" => union(a, b, both_one_bit),
        _ => union(a, b, false),
    }
}

/// The value of `text` in `scope`; an expression the parser cannot read
/// depends on every identifier in it.
pub fn evaluate(text: &str, scope: &Scope) -> Value {
    let all = || {
        Value::opaque(
            super::identifiers(text)
                .into_iter()
                .map(String::from)
                .collect(),
            false,
        )
    };
    let Some(toks) = tokens(text) else {
        return all();
    };
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        scope,
    };
    match p.expression(0) {
        Some(v) if p.pos == toks.len() => v,
        _ => all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            constants: [("drq".to_string(), false), ("on".to_string(), true)].into(),
            one_bit: ["sens_in", "valid_in", "first_in", "commit_in"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
    fn ids(v: &Value) -> Vec<&str> {
        v.ids.iter().map(String::as_str).collect()
    }

    #[test]
    fn one_bit_constants_fold() {
        let s = scope();
        assert_eq!(evaluate("sens_in | ~drq", &s).konst, Some(true));
        assert_eq!(evaluate("~first_in & drq", &s).konst, Some(false));
        assert_eq!(
            evaluate("valid_in & ~(sens_in | ~drq) & first_in", &s).konst,
            Some(false)
        );
        let v = evaluate("valid_in & (sens_in | ~drq) & commit_in", &s);
        assert_eq!(v.konst, None);
        assert_eq!(ids(&v), ["commit_in", "valid_in"]);
        assert_eq!(evaluate("|(regs_mode & b0) & drq", &s).konst, Some(false));
        assert_eq!(evaluate("drq", &s).konst, Some(false));
        assert_eq!(evaluate("!drq", &s).konst, Some(true));
    }

    /// No folding where a wider operand could change the answer.
    #[test]
    fn wide_operands_are_not_folded() {
        let s = scope();
        // `wide | ~on`: ~on is extended to the wide width first.
        let v = evaluate("wide | ~on", &s);
        assert_eq!(v.konst, None);
        assert!(v.ids.contains("wide"));
        let v = evaluate("wide | on", &s);
        assert_eq!(v.konst, None);
        // `x & 0` is 0 at any width.
        assert_eq!(evaluate("wide & 64'h0", &s).konst, Some(false));
        assert_eq!(evaluate("wide & 64'hdead", &s).konst, None);
        let v = evaluate("(a + b) >> c", &s);
        assert_eq!(ids(&v), ["a", "b", "c"]);
        let v = evaluate("mem[addr[3:0]] & drq", &s);
        assert_eq!(v.konst, Some(false));
        let v = evaluate("{32'd0, mem[rd_addr]}", &s);
        assert_eq!(ids(&v), ["mem", "rd_addr"]);
        let v = evaluate("c ? a : b", &s);
        assert_eq!(ids(&v), ["a", "b", "c"]);
    }
}
