//! Fixes to Yosys's JSON netlist before nextpnr reads it.
//!
//! * Unread carry-outs (ECP5): Yosys 0.23's `$alu` map connects every
//!   `CCU2C`'s `COUT` to a wire, the last one of a chain included, which
//!   nothing reads. nextpnr 0.11 then ends the chain with a feed-out
//!   `CCU2C` (two more comb cells) to bring that carry out to the fabric.
//!   A 20-bit adder places as 10 + 2 + 2 cells (feed-in, feed-out) instead
//!   of 10 + 2 (the feed-in is for the constant carry-in and stays). The
//!   pass disconnects (`"x"`) every `COUT` that no cell input and no
//!   module port reads; nothing else changes.
//!
//!   **Not in the flow** (stop 36): on the 16x16 board design it saves
//!   about 3,000 comb cells, but nextpnr 0.11's router then stalled
//!   (stop 35's netlist, which routed in 10 minutes as Yosys wrote it,
//!   had 191,000 of 252,000 arcs unrouted after 150,000 iterations with
//!   it; docs/fpga.md). Kept, with its tests, for a nextpnr that routes
//!   it.

use serde_json::Value;
use std::collections::HashSet;

/// The netlist with every unread `CCU2C` carry-out disconnected, and how
/// many were.
pub fn drop_unread_carry_outs(mut netlist: Value) -> Result<(Value, usize), String> {
    let modules = netlist
        .get_mut("modules")
        .and_then(Value::as_object_mut)
        .ok_or("the netlist has no \"modules\" object")?;
    let mut dropped = 0;
    for module in modules.values_mut() {
        let read = read_bits(module);
        let Some(cells) = module.get_mut("cells").and_then(Value::as_object_mut) else {
            continue;
        };
        for cell in cells.values_mut() {
            if cell.get("type").and_then(Value::as_str) != Some("CCU2C") {
                continue;
            }
            let Some(cout) = cell.pointer_mut("/connections/COUT") else {
                continue;
            };
            let unread = match cout.as_array().map(Vec::as_slice) {
                Some([bit]) => bit.as_u64().is_some_and(|b| !read.contains(&b)),
                _ => false,
            };
            if unread {
                *cout = Value::Array(vec![Value::String("x".into())]);
                dropped += 1;
            }
        }
    }
    Ok((netlist, dropped))
}

/// Net bits a module's cells read (every connection not declared an
/// output; cells without `port_directions` count as reading all) or its
/// ports carry.
fn read_bits(module: &Value) -> HashSet<u64> {
    let bits = |v: &Value| -> Vec<u64> {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    let mut read = HashSet::new();
    if let Some(ports) = module.get("ports").and_then(Value::as_object) {
        for port in ports.values() {
            read.extend(bits(&port["bits"]));
        }
    }
    if let Some(cells) = module.get("cells").and_then(Value::as_object) {
        for cell in cells.values() {
            let Some(conns) = cell.get("connections").and_then(Value::as_object) else {
                continue;
            };
            for (port, net) in conns {
                let dir = cell
                    .pointer(&format!("/port_directions/{port}"))
                    .and_then(Value::as_str);
                if dir != Some("output") {
                    read.extend(bits(net));
                }
            }
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ccu2c(cin: Value, cout: u64) -> Value {
        json!({
            "type": "CCU2C",
            "port_directions": {"CIN": "input", "A0": "input", "S0": "output", "COUT": "output"},
            "connections": {"CIN": [cin], "A0": [1], "S0": [cout + 100], "COUT": [cout]}
        })
    }

    #[test]
    fn only_carry_outs_nothing_reads_are_disconnected() {
        // A two-cell chain ending in 11 (unread), a chain ending in 21 that a
        // LUT reads, a lone cell whose carry-out is a module port.
        let netlist = json!({"modules": {"m": {
            "ports": {"co": {"direction": "output", "bits": [31]}},
            "cells": {
                "a0": ccu2c(json!("0"), 10),
                "a1": ccu2c(json!(10), 11),
                "b0": ccu2c(json!("0"), 21),
                "lut": {"type": "LUT4",
                        "port_directions": {"A": "input", "Z": "output"},
                        "connections": {"A": [21], "Z": [22]}},
                "c0": ccu2c(json!("0"), 31)
            }
        }}});
        let (out, dropped) = drop_unread_carry_outs(netlist).unwrap();
        assert_eq!(dropped, 1);
        let cout = |c: &str| out["modules"]["m"]["cells"][c]["connections"]["COUT"].clone();
        assert_eq!(cout("a0"), json!([10]));
        assert_eq!(cout("a1"), json!(["x"]));
        assert_eq!(cout("b0"), json!([21]));
        assert_eq!(cout("c0"), json!([31]));
        // Nothing else moves.
        assert_eq!(
            out["modules"]["m"]["cells"]["a1"]["connections"]["CIN"],
            json!([10])
        );
        assert_eq!(
            out["modules"]["m"]["cells"]["a1"]["connections"]["S0"],
            json!([111])
        );
    }

    #[test]
    fn a_netlist_without_modules_is_refused() {
        assert!(drop_unread_carry_outs(json!({"creator": "x"})).is_err());
    }
}
