//! Hardware cost of the DRQ PE against a plain INT8 PE: LUT-equivalents and
//! flip-flops from Yosys `synth_ecp5 -abc9 -nodsp` (no DSP blocks, so the
//! multipliers are counted in LUTs), for the PE's compute datapath, the PE
//! with its read-out chain, and the whole array (mesh, skew, read-out).
//! `make area`; `MESH=8 make area` for a smaller array. Writes
//! `sim-out/area/area.json`.

use drq_arch::config::PeKind;
use drq_arch::AccelConfig;
use drq_fpga::synth::{synthesize, CellStats, Family};
use drq_hdl::array::array_design;
use drq_hdl::pe::pe_design;
use drq_hdl::shell::{Design, Dir, Port};
use drq_verif::sim::workspace_root;
use std::time::Instant;

/// The PE's compute datapath alone: a wrapper that ties the read-out chain
/// (drain, accumulators from above) to zero and leaves the pass-through
/// token outputs open, so synthesis keeps only the multiplier, the step
/// register and the accumulators.
fn compute_only(pe: &Design) -> Design {
    let tied = ["drain", "acc_hi_in", "acc_lo_in"];
    let kept: Vec<&Port> = pe
        .ports
        .iter()
        .filter(|p| {
            !tied.contains(&p.name.as_str()) && (p.dir == Dir::Input || p.name.starts_with("acc_"))
        })
        .collect();
    let decl = |p: &Port| {
        let dir = if p.dir == Dir::Input {
            "input"
        } else {
            "output"
        };
        let range = if p.width > 1 {
            format!("[{}:0] ", p.width - 1)
        } else {
            String::new()
        };
        format!("{dir} wire {range}{}", p.name)
    };
    let conns: Vec<String> = pe
        .ports
        .iter()
        .map(|p| {
            if tied.contains(&p.name.as_str()) {
                format!(".{}({}'d0)", p.name, p.width)
            } else if kept.iter().any(|k| k.name == p.name) {
                format!(".{0}({0})", p.name)
            } else {
                format!(".{}()", p.name)
            }
        })
        .collect();
    let mut verilog = format!(
        "module drq_pe_compute ({});\n  {} u ({});\nendmodule\n",
        kept.iter().map(|p| decl(p)).collect::<Vec<_>>().join(", "),
        pe.top,
        conns.join(", ")
    );
    verilog.push_str(&pe.verilog);
    Design {
        top: "drq_pe_compute".into(),
        verilog,
        ports: kept.into_iter().cloned().collect(),
        waivers: String::new(),
    }
}

/// A HIGH step takes 4 tokens, a LOW step 1: DRQ does more work per LUT
/// than INT8 when area_ratio * (4 - 3 * low_fraction) < 1.
fn break_even(area_ratio: f64) -> f64 {
    (4.0 - 1.0 / area_ratio) / 3.0
}

fn main() {
    let n: u32 = std::env::var("MESH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let out = workspace_root().join("sim-out").join("area");
    let mut rows: Vec<(PeKind, CellStats, CellStats, CellStats)> = Vec::new();
    for pe in [PeKind::Drq, PeKind::Int8] {
        let cfg = AccelConfig {
            rows: n,
            cols: n,
            pe,
            ..AccelConfig::replicated()
        };
        let t = Instant::now();
        let pe_d = pe_design(&cfg);
        let dir = |what: &str| out.join(format!("{what}_{}", pe.name()));
        let compute = synthesize(
            &compute_only(&pe_d),
            Family::Ecp5,
            false,
            &dir("pe_compute"),
        )
        .expect("PE compute synthesis");
        let one = synthesize(&pe_d, Family::Ecp5, false, &dir("pe")).expect("PE synthesis");
        let array = synthesize(
            &array_design(&cfg),
            Family::Ecp5,
            false,
            &dir(&format!("array_{n}x{n}")),
        )
        .expect("array synthesis");
        eprintln!("{cfg}: synthesized in {:.0} s", t.elapsed().as_secs_f64());
        rows.push((pe, compute, one, array));
    }
    println!("ECP5, synth_ecp5 -abc9 -nodsp, A 8/4, W 8/4, ACC 32; LUT-eq = LUT4 + 2 x CCU2C");
    println!("PE compute: multiplier, step register, accumulators (read-out chain tied off)");
    println!(
        "{:<5} {:>15} {:>10} {:>7} {:>14} {:>10} {:>14}",
        "PE", "compute LUT-eq", "PE LUT-eq", "PE FFs", "array LUT-eq", "array FFs", "LUT-eq per PE"
    );
    for (pe, compute, one, array) in &rows {
        println!(
            "{:<5} {:>15} {:>10} {:>7} {:>14} {:>10} {:>14.1}",
            pe.name(),
            compute.lut_equivalents,
            one.lut_equivalents,
            one.flip_flops,
            array.lut_equivalents,
            array.flip_flops,
            array.lut_equivalents as f64 / f64::from(n * n)
        );
    }
    let (d, i) = (&rows[0], &rows[1]);
    let ratio = |a: &CellStats, b: &CellStats| a.lut_equivalents as f64 / b.lut_equivalents as f64;
    let (r_compute, r_pe, r_array) = (ratio(&d.1, &i.1), ratio(&d.2, &i.2), ratio(&d.3, &i.3));
    println!("DRQ / INT8 LUT-eq: {r_compute:.2} PE compute, {r_pe:.2} PE with read-out, {r_array:.2} {n}x{n} array");
    println!(
        "DRQ does more work per LUT than INT8 above {:.0}% LOW steps at the array ratio ({:.0}% at the PE compute ratio)",
        100.0 * break_even(r_array),
        100.0 * break_even(r_compute)
    );
    let json = serde_json::json!({
        "mesh": n,
        "drq": { "pe_compute": d.1, "pe": d.2, "array": d.3 },
        "int8": { "pe_compute": i.1, "pe": i.2, "array": i.3 },
        "ratio_pe_compute": r_compute,
        "ratio_pe": r_pe,
        "ratio_array": r_array,
        "break_even_low_fraction": break_even(r_array),
    });
    std::fs::write(
        out.join("area.json"),
        serde_json::to_string_pretty(&json).unwrap() + "\n",
    )
    .expect("write area.json");
}
