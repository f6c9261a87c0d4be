//! Hardware cost of the DRQ PE against a plain INT8 PE: LUT-equivalents and
//! flip-flops from Yosys `synth_ecp5 -nodsp` (no DSP blocks, so the
//! multipliers are counted in LUTs), for one PE and for the whole array
//! (mesh with its skew and read-out). `make area`; `MESH=8 make area` for a
//! smaller array. Writes `sim-out/area/area.json`.

use drq_hdl::config::PeKind;
use drq_hdl::emit::{array_design, pe_design};
use drq_hdl::AccelConfig;
use drq_verif::sim::workspace_root;
use drq_verif::synth::{synthesize, CellStats, Family};
use std::time::Instant;

fn main() {
    let n: u32 = std::env::var("MESH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let out = workspace_root().join("sim-out").join("area");
    let mut rows = Vec::new();
    for pe in [PeKind::Drq, PeKind::Int8] {
        let cfg = AccelConfig {
            rows: n,
            cols: n,
            pe,
            ..AccelConfig::default()
        };
        let t = Instant::now();
        let one = synthesize(
            &pe_design(&cfg),
            Family::Ecp5,
            false,
            &out.join(format!("pe_{}", pe.name())),
        )
        .expect("PE synthesis");
        let mesh = synthesize(
            &array_design(&cfg),
            Family::Ecp5,
            false,
            &out.join(format!("array_{}_{n}x{n}", pe.name())),
        )
        .expect("array synthesis");
        eprintln!("{}: synthesized in {:.0} s", cfg, t.elapsed().as_secs_f64());
        rows.push((pe, one, mesh));
    }
    let per_pe = |s: &CellStats| s.lut_equivalents as f64 / f64::from(n * n);
    println!("ECP5, synth_ecp5 -nodsp, A 8/4, W 8/4, ACC 32 (LUT-eq = LUT4 + 2 x CCU2C)");
    println!(
        "{:<6} {:>10} {:>8} {:>16} {:>12} {:>14}",
        "PE", "PE LUT-eq", "PE FFs", "array LUT-eq", "array FFs", "LUT-eq per PE"
    );
    for (pe, one, mesh) in &rows {
        println!(
            "{:<6} {:>10} {:>8} {:>16} {:>12} {:>14.1}",
            pe.name(),
            one.lut_equivalents,
            one.flip_flops,
            mesh.lut_equivalents,
            mesh.flip_flops,
            per_pe(mesh)
        );
    }
    let (d, i) = (&rows[0], &rows[1]);
    let ratio_pe = d.1.lut_equivalents as f64 / i.1.lut_equivalents as f64;
    let ratio_mesh = d.2.lut_equivalents as f64 / i.2.lut_equivalents as f64;
    println!("DRQ / INT8 LUT-eq: {ratio_pe:.2} per PE, {ratio_mesh:.2} for the {n}x{n} array");
    // A HIGH step takes 4 tokens, a LOW step 1: DRQ wins per LUT when
    // area_ratio * (4 - 3 * low_fraction) < 1.
    let break_even = (4.0 - 1.0 / ratio_mesh) / 3.0;
    println!(
        "DRQ beats INT8 per LUT above {:.0}% LOW steps (array ratio)",
        100.0 * break_even
    );
    let json = serde_json::json!({
        "mesh": n,
        "drq": { "pe": d.1, "array": d.2 },
        "int8": { "pe": i.1, "array": i.2 },
        "ratio_pe": ratio_pe,
        "ratio_array": ratio_mesh,
        "break_even_low_fraction": break_even,
    });
    std::fs::write(
        out.join("area.json"),
        serde_json::to_string_pretty(&json).unwrap() + "\n",
    )
    .expect("write area.json");
}
