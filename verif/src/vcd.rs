//! A small reader of the VCD files Verilator writes: the signal
//! declarations (full hierarchical names) and the value changes of chosen
//! signals. Enough for the tests that inspect dumps and for the pictures of
//! `drq waves`; values wider than 64 bits keep their low 64 bits.

use std::collections::HashMap;

/// One declared signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcdVar {
    /// Hierarchical name, scopes joined by '.', without the bit range.
    pub path: String,
    pub width: u32,
    /// The identifier code of its value changes.
    pub code: String,
}

/// The declarations of a dump and the changes of the signals asked for.
#[derive(Debug, Clone, Default)]
pub struct Vcd {
    pub vars: Vec<VcdVar>,
    /// Per watched path: (time, value) at every change, in time order.
    pub changes: HashMap<String, Vec<(u64, u64)>>,
}

#[derive(Debug, thiserror::Error)]
#[error("VCD line {line}: {message}")]
pub struct VcdError {
    pub line: usize,
    pub message: String,
}

fn parse_value(bits: &str) -> u64 {
    // x and z read as 0.
    bits.chars()
        .fold(0u64, |v, c| (v << 1) | u64::from(c == '1'))
}

impl Vcd {
    /// Parse `text`, recording the changes of every variable whose path
    /// ends with one of `watch` (for example "ctrl.drq_mode_high").
    pub fn parse(text: &str, watch: &[&str]) -> Result<Vcd, VcdError> {
        let mut vcd = Vcd::default();
        let mut scopes: Vec<String> = Vec::new();
        let mut watched: HashMap<String, Vec<String>> = HashMap::new();
        let mut time = 0u64;
        let mut in_header = true;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: &str| VcdError {
                line: n + 1,
                message: message.to_string(),
            };
            if in_header {
                let mut it = line.split_whitespace();
                match it.next() {
                    Some("$scope") => {
                        let name = it.nth(1).ok_or_else(|| err("scope without a name"))?;
                        scopes.push(name.to_string());
                    }
                    Some("$upscope") => {
                        scopes.pop();
                    }
                    Some("$var") => {
                        let f: Vec<&str> = it.collect();
                        if f.len() < 4 {
                            return Err(err("short $var"));
                        }
                        let width: u32 = f[1].parse().map_err(|_| err("bad width"))?;
                        let mut path = scopes.join(".");
                        path.push('.');
                        path.push_str(f[3]);
                        if watch.iter().any(|w| path.ends_with(w)) {
                            watched
                                .entry(f[2].to_string())
                                .or_default()
                                .push(path.clone());
                            vcd.changes.entry(path.clone()).or_default();
                        }
                        vcd.vars.push(VcdVar {
                            path,
                            width,
                            code: f[2].to_string(),
                        });
                    }
                    Some("$enddefinitions") => in_header = false,
                    _ => {}
                }
                continue;
            }
            let (value, code) = match line.as_bytes()[0] {
                b'#' => {
                    time = line[1..].parse().map_err(|_| err("bad time"))?;
                    continue;
                }
                b'0' | b'1' | b'x' | b'z' | b'X' | b'Z' => (parse_value(&line[..1]), &line[1..]),
                b'b' | b'B' => {
                    let (bits, code) = line[1..]
                        .split_once(' ')
                        .ok_or_else(|| err("vector change without a code"))?;
                    (parse_value(bits), code.trim())
                }
                _ => continue, // $dumpvars, $end, real values
            };
            if let Some(paths) = watched.get(code) {
                for p in paths {
                    vcd.changes.get_mut(p).expect("watched").push((time, value));
                }
            }
        }
        Ok(vcd)
    }

    /// The first declared variable whose path ends with `suffix`.
    pub fn find(&self, suffix: &str) -> Option<&VcdVar> {
        self.vars.iter().find(|v| v.path.ends_with(suffix))
    }

    /// The changes of the watched variable whose path ends with `suffix`.
    pub fn changes_of(&self, suffix: &str) -> Option<&[(u64, u64)]> {
        self.changes
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(_, v)| v.as_slice())
    }
}

/// The value of a signal at `time` from its change list.
pub fn value_at(changes: &[(u64, u64)], time: u64) -> u64 {
    match changes.partition_point(|&(t, _)| t <= time) {
        0 => 0,
        i => changes[i - 1].1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "$timescale 1ps $end\n\
        $scope module top $end\n\
         $var wire 1 ! clk $end\n\
         $scope module ctrl $end\n\
          $var wire 1 \" drq_mode_high $end\n\
          $var wire 8 # drq_tile [7:0] $end\n\
         $upscope $end\n\
        $upscope $end\n\
        $enddefinitions $end\n\
        #0\n$dumpvars\n0!\n0\"\nb0 #\n$end\n\
        #5\n1!\n1\"\nb101 #\n\
        #10\n0!\nbx1 #\n";

    #[test]
    fn reads_declarations_and_watched_changes() {
        let v = Vcd::parse(DUMP, &["ctrl.drq_mode_high", "ctrl.drq_tile"]).unwrap();
        assert_eq!(v.vars.len(), 3);
        let tile = v.find("drq_tile").unwrap();
        assert_eq!((tile.path.as_str(), tile.width), ("top.ctrl.drq_tile", 8));
        assert_eq!(v.changes_of("drq_mode_high").unwrap(), &[(0, 0), (5, 1)]);
        assert_eq!(
            v.changes_of("drq_tile").unwrap(),
            &[(0, 0), (5, 5), (10, 1)]
        );
        assert!(v.changes_of("clk").is_none(), "not watched");
        let t = v.changes_of("drq_tile").unwrap();
        assert_eq!((value_at(t, 4), value_at(t, 5), value_at(t, 99)), (0, 5, 1));
    }

    #[test]
    fn a_broken_declaration_names_its_line() {
        let e = Vcd::parse("$scope module a $end\n$var wire\n", &[]).unwrap_err();
        assert_eq!(e.line, 2);
    }
}
