//! The design registry: every block `drq verilog` writes, and
//! `params.json` (the configuration, derived widths and each top's ports).

use crate::shell::Design;
use drq_arch::token::TokenFormat;
use drq_arch::AccelConfig;

/// Every block `drq verilog` writes, each its own top in its own file.
pub fn accelerator_designs(cfg: &AccelConfig) -> Vec<Design> {
    vec![
        crate::array::array_design(cfg),
        crate::predictor::predictor_design(cfg),
        crate::controller::controller_design(cfg),
        crate::output_stage::output_stage_design(cfg),
        crate::top::top_design(cfg),
    ]
}

/// `params.json`: the configuration, the widths derived from it and the
/// ports of every emitted top.
pub fn params_json(cfg: &AccelConfig, designs: &[Design]) -> String {
    let fmt = TokenFormat::new(cfg);
    let tops: serde_json::Map<String, serde_json::Value> = designs
        .iter()
        .map(|d| (d.top.clone(), serde_json::json!({ "ports": d.ports })))
        .collect();
    let v = serde_json::json!({
        "config": cfg,
        "act_row_pitch": cfg.act_row_pitch(),
        "mask_row_pitch": cfg.mask_row_pitch(),
        "token": {
            "tokens_per_high_step": cfg.tokens_per_high_step(),
            "high_token_shifts": fmt.high_tokens.iter().map(|t| t.shift).collect::<Vec<_>>(),
            "hshift_unit_log2": fmt.hshift_unit_log2,
            "hshift_bits": fmt.hshift_bits,
            "digit_bits": fmt.digit_bits,
            "w_digit_bits": fmt.w_digit_bits,
            "w_low_bits": fmt.w_low_bits,
            "product_bits": fmt.product_bits,
            "low_shift_bits": fmt.low_shift_bits,
        },
        "tops": tops,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("params serialise");
    s.push('\n');
    s
}
