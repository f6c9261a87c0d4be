//! What the command-line tests share: a small layer's input files.

use drq_arch::AccelConfig;
use drq_golden::files::{save_layer_data, LayerFiles};
use drq_golden::rng::Rng;
use drq_golden::tensor::{FeatureMap, Weights};
use drq_golden::LayerData;
use std::path::Path;

/// Write `layer.json` (`layer_json`), `accel.toml` (8 x 4, R 2) and the
/// random inputs of a 3 -> 5 channel 9 x 7 layer with 3 x 3 weights
/// (`x.npy`, `w.npy`, `b.npy`, drawn from `seed`) into `root`.
pub fn write_layer_inputs(root: &Path, layer_json: &str, seed: u64) -> (LayerFiles, LayerData) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("layer.json"), layer_json).unwrap();
    std::fs::write(root.join("accel.toml"), "rows = 8\ncols = 4\nregion = 2\n").unwrap();
    let mut rng = Rng::new(seed);
    let data = LayerData {
        input: FeatureMap::from_fn(3, 9, 7, |_, _, _| rng.range(0, 255) as u32),
        weights: Weights::from_fn(5, 3, 3, |_, _, _, _| rng.range(-128, 127) as i32),
        bias: (0..5).map(|_| rng.range(-1000, 1000) as i32).collect(),
        mask: None,
    };
    let files = LayerFiles {
        input: root.join("x.npy"),
        weights: root.join("w.npy"),
        bias: root.join("b.npy"),
        mask: None,
    };
    save_layer_data(&AccelConfig::default(), &data, &files).unwrap();
    (files, data)
}
