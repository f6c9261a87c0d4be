//! A chain of convolution layers: layer L+1 reads layer L's output `y` and
//! the mask predicted from it.
//!
//! A network folder holds `network.json`, and the weights and bias of every
//! layer as `.npy` files:
//!
//! ```json
//! { "layers": [
//!     { "layer": { "c_in": 3, "c_out": 8, "h": 16, "w": 16, "kernel": 3, "padding": 1,
//!                  "threshold": 40, "low_shift": 4, "w_low_shift": 4,
//!                  "requant_mult": 3, "requant_shift": 10, "tile_h": 4, "tile_w": 4 },
//!       "weights": "w0.npy", "bias": "b0.npy" },
//!     { "layer": { ... }, "weights": "w1.npy", "bias": "b1.npy" }
//! ] }
//! ```
//!
//! `"layer"` is exactly a layer file ([`crate::layer`]); paths are relative
//! to the folder of `network.json` (absolute paths are allowed); unknown keys
//! are rejected. Chaining: layer L+1's `c_in`, `h` and `w` are layer L's
//! `c_out`, `ho()` and `wo()`, and layer L's `next_threshold` (the threshold
//! of the mask predicted from its output) is layer L+1's `threshold`: it is
//! filled in when absent and an error when different. The last layer keeps
//! its own optional `next_threshold`.
//!
//! Running a network is a thin loop over a per-layer runner
//! ([`run_network_with`]); [`run_network`] is the golden model's. The output
//! files of a run ([`network_output_files`]) are the same for every runner.

use crate::files::{
    bias_array, load_weights, output_files, read_bias, weights_array, write_outputs, FilesError,
};
use crate::golden::{run_layer, DataError, LayerData, LayerRun};
use crate::layer::{Layer, RawLayer};
use crate::rng::Rng;
use crate::tensor::{FeatureMap, Mask, Weights};
use crate::testdata::random_layer_data;
use drq_arch::config::ParamError;
use drq_arch::AccelConfig;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::path::{Path, PathBuf};

/// One layer of a network with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkLayer {
    pub layer: Layer,
    /// `[C_out, C_in, K, K]`.
    pub weights: Weights,
    /// `[C_out]`.
    pub bias: Vec<i32>,
}

/// A checked chain of layers (at least one). Build it with [`Network::load`]
/// or [`Network::new`], which check the chaining rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub layers: Vec<NetworkLayer>,
}

/// `network.json` as written, layers not yet parsed (so that errors in a
/// layer can name its index).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworkFile {
    layers: Vec<serde_json::Value>,
}

/// One entry of `network.json`'s `layers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetworkLayer {
    pub layer: RawLayer,
    pub weights: PathBuf,
    pub bias: PathBuf,
}

/// Anything wrong with a network file or its chaining. Every message names
/// the network file, and the layer (0-based) when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("cannot read network {path}: {message}")]
    Io { path: String, message: String },
    #[error("network {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("network {path}: no layers (at least one is required)")]
    Empty { path: String },
    #[error("network {path}: layer {index}: {message}")]
    LayerSyntax {
        path: String,
        index: usize,
        message: String,
    },
    #[error("network {path}: layer {index}: {error}")]
    Param {
        path: String,
        index: usize,
        error: ParamError,
    },
    /// Layer `index` does not fit the output of layer `index - 1`.
    #[error(
        "network {path}: layer {index}: {field} = {found} does not chain: expected {expected} ({why})"
    )]
    Chain {
        path: String,
        index: usize,
        field: &'static str,
        expected: u32,
        found: u32,
        why: String,
    },
    #[error("network {path}: layer {index}: {what}: {error}")]
    File {
        path: String,
        index: usize,
        what: &'static str,
        error: Box<FilesError>,
    },
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
    #[error("network {path}: layer {index}: {what}: {error}")]
    Data {
        path: String,
        index: usize,
        what: &'static str,
        error: DataError,
    },
}

/// A layer's runner failed, or did not give the mask the next layer needs.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E: std::fmt::Display> {
    #[error("layer {index}: {error}")]
    Layer { index: usize, error: E },
    #[error("layer {index}: no mask_out for layer {next}'s input (layer {index} has no next_threshold)", next = .index + 1)]
    NoMaskOut { index: usize },
}

const NETWORK_ORIGIN: &str = "(in memory)";

impl Network {
    /// Check the chaining rules of `layers` (each layer must already have
    /// passed `Layer::check`) and fill in every missing `next_threshold`
    /// but the last. Weights and bias shapes are checked too.
    pub fn new(layers: Vec<NetworkLayer>) -> Result<Network, NetworkError> {
        let mut descs: Vec<Layer> = layers.iter().map(|l| l.layer).collect();
        chain(&mut descs, NETWORK_ORIGIN)?;
        let layers: Vec<NetworkLayer> = layers
            .into_iter()
            .zip(descs)
            .map(|(nl, layer)| NetworkLayer { layer, ..nl })
            .collect();
        for (index, nl) in layers.iter().enumerate() {
            let l = &nl.layer;
            let shape_err =
                |what: &'static str, expected: Vec<usize>, found: Vec<usize>| NetworkError::Data {
                    path: NETWORK_ORIGIN.into(),
                    index,
                    what,
                    error: DataError::Shape {
                        tensor: what,
                        expected,
                        found,
                    },
                };
            let wshape = vec![
                l.c_out as usize,
                l.c_in as usize,
                l.kernel as usize,
                l.kernel as usize,
            ];
            if nl.weights.shape().to_vec() != wshape {
                return Err(shape_err("weights", wshape, nl.weights.shape().to_vec()));
            }
            if nl.bias.len() != l.c_out as usize {
                return Err(shape_err(
                    "bias",
                    vec![l.c_out as usize],
                    vec![nl.bias.len()],
                ));
            }
        }
        Ok(Network { layers })
    }

    /// Read `network.json`, check every layer against `cfg` and the chaining
    /// rules, and load every layer's weights and bias.
    pub fn load(path: &Path, cfg: &AccelConfig) -> Result<Network, NetworkError> {
        let origin = path.display().to_string();
        let text = drq_arch::text::read_text_bounded(path, drq_arch::text::MAX_TEXT_FILE).map_err(
            |e| NetworkError::Io {
                path: origin.clone(),
                message: e.to_string(),
            },
        )?;
        let raw: RawNetworkFile =
            serde_json::from_str(&text).map_err(|e| NetworkError::Syntax {
                path: origin.clone(),
                message: drq_arch::text::clip_quotes(&e.to_string(), 300),
            })?;
        if raw.layers.is_empty() {
            return Err(NetworkError::Empty { path: origin });
        }
        let mut entries = Vec::with_capacity(raw.layers.len());
        let mut descs = Vec::with_capacity(raw.layers.len());
        for (index, v) in raw.layers.into_iter().enumerate() {
            let entry = RawNetworkLayer::deserialize(v).map_err(|e| NetworkError::LayerSyntax {
                path: origin.clone(),
                index,
                message: drq_arch::text::clip_quotes(&e.to_string(), 300),
            })?;
            let param = |error| NetworkError::Param {
                path: origin.clone(),
                index,
                error,
            };
            let layer = Layer::from_raw(&entry.layer).map_err(param)?;
            layer.check(cfg).map_err(param)?;
            entries.push(entry);
            descs.push(layer);
        }
        chain(&mut descs, &origin)?;
        crate::budget::check(
            path,
            format!("this network's run ({} layers)", descs.len()),
            crate::budget::network_bytes(cfg, &descs),
        )?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut layers = Vec::with_capacity(descs.len());
        for (index, (entry, layer)) in entries.iter().zip(descs).enumerate() {
            let file = |what, error| NetworkError::File {
                path: origin.clone(),
                index,
                what,
                error: Box::new(error),
            };
            let weights = load_weights(cfg, &layer, &base.join(&entry.weights))
                .map_err(|e| file("weights", e))?;
            let bias = read_bias(&layer, &base.join(&entry.bias)).map_err(|e| file("bias", e))?;
            layers.push(NetworkLayer {
                layer,
                weights,
                bias,
            });
        }
        Ok(Network { layers })
    }

    /// Write a network folder: `dir/network.json` and `dir/w{i}.npy`,
    /// `dir/b{i}.npy` for every layer, all-or-nothing. Returns the path of
    /// `network.json`.
    pub fn save(&self, cfg: &AccelConfig, dir: &Path) -> Result<PathBuf, FilesError> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut entries = Vec::new();
        for (i, nl) in self.layers.iter().enumerate() {
            let (w, b) = (format!("w{i}.npy"), format!("b{i}.npy"));
            files.push((w.clone(), weights_array(cfg, &nl.weights).to_bytes()));
            files.push((b.clone(), bias_array(&nl.bias).to_bytes()));
            entries.push(serde_json::json!({
                "layer": nl.layer,
                "weights": w,
                "bias": b,
            }));
        }
        let mut json = serde_json::to_string_pretty(&serde_json::json!({ "layers": entries }))
            .expect("network serialises to JSON");
        json.push('\n');
        files.push(("network.json".into(), json.into_bytes()));
        write_outputs(dir, &files)?;
        Ok(dir.join("network.json"))
    }

    /// The tensors of layer `i` for the given input and mask.
    pub fn layer_data(&self, i: usize, input: FeatureMap, mask: Option<Mask>) -> LayerData {
        let nl = &self.layers[i];
        LayerData {
            input,
            weights: nl.weights.clone(),
            bias: nl.bias.clone(),
            mask,
        }
    }
}

/// Check that every layer fits its predecessor's output, and set or check
/// each `next_threshold` but the last.
fn chain(layers: &mut [Layer], origin: &str) -> Result<(), NetworkError> {
    if layers.is_empty() {
        return Err(NetworkError::Empty {
            path: origin.into(),
        });
    }
    for index in 1..layers.len() {
        let (prev, next) = (layers[index - 1], layers[index]);
        let p = index - 1;
        let checks = [
            ("c_in", prev.c_out, next.c_in, format!("layer {p}'s c_out")),
            (
                "h",
                prev.ho(),
                next.h,
                format!("layer {p}'s output height ho"),
            ),
            (
                "w",
                prev.wo(),
                next.w,
                format!("layer {p}'s output width wo"),
            ),
        ];
        for (field, expected, found, why) in checks {
            if expected != found {
                return Err(NetworkError::Chain {
                    path: origin.into(),
                    index,
                    field,
                    expected,
                    found,
                    why,
                });
            }
        }
        match prev.next_threshold {
            None => layers[p].next_threshold = Some(next.threshold),
            Some(t) if t == next.threshold => {}
            Some(t) => {
                return Err(NetworkError::Chain {
                    path: origin.into(),
                    index: p,
                    field: "next_threshold",
                    expected: next.threshold,
                    found: t,
                    why: format!(
                        "layer {index}'s threshold: layer {index}'s input mask is predicted from layer {p}'s output"
                    ),
                })
            }
        }
    }
    Ok(())
}

/// Run a network layer by layer with any per-layer runner (the golden model,
/// a hardware model). Layer 0 gets `input` and `mask` (None: the runner
/// predicts it, as [`run_layer`] does); layer L+1 gets layer L's `y` and
/// `mask_out`. The runner gets the layer index, the layer and its tensors;
/// it may return more than a [`LayerRun`] (anything that borrows as one).
pub fn run_network_with<R, E, F>(
    net: &Network,
    input: &FeatureMap,
    mask: Option<&Mask>,
    mut run: F,
) -> Result<Vec<R>, RunError<E>>
where
    R: Borrow<LayerRun>,
    E: std::fmt::Display,
    F: FnMut(usize, &Layer, &LayerData) -> Result<R, E>,
{
    let mut runs: Vec<R> = Vec::with_capacity(net.layers.len());
    for (index, nl) in net.layers.iter().enumerate() {
        let data = match runs.last() {
            None => net.layer_data(index, input.clone(), mask.cloned()),
            Some(prev) => {
                let prev: &LayerRun = prev.borrow();
                let m = prev
                    .mask_out
                    .clone()
                    .ok_or(RunError::NoMaskOut { index: index - 1 })?;
                net.layer_data(index, prev.y.clone(), Some(m))
            }
        };
        let r = run(index, &nl.layer, &data).map_err(|error| RunError::Layer { index, error })?;
        runs.push(r);
    }
    Ok(runs)
}

/// Run a network through the golden model.
pub fn run_network(
    cfg: &AccelConfig,
    net: &Network,
    input: &FeatureMap,
    mask: Option<&Mask>,
) -> Result<Vec<LayerRun>, RunError<DataError>> {
    run_network_with(net, input, mask, |_, layer, data| {
        run_layer(cfg, layer, data)
    })
}

/// The files of a network run, as (relative name, bytes): `layer{i}/` with
/// the files of a single-layer run ([`output_files`]) for every layer, then
/// `y.npy` (the last layer's) and `counters.json` (an array of every layer's
/// counters, in order). Write them with [`write_network_outputs`].
pub fn network_output_files(cfg: &AccelConfig, runs: &[LayerRun]) -> Vec<(String, Vec<u8>)> {
    network_output_files_with(cfg, runs.iter().map(|r| (r, &r.counters)))
}

/// [`network_output_files`] with any counters per layer (a hardware model
/// may report more than the golden model's).
pub fn network_output_files_with<'a, C: Serialize>(
    cfg: &AccelConfig,
    runs: impl IntoIterator<Item = (&'a LayerRun, C)>,
) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut counters = Vec::new();
    let mut last_y = None;
    for (i, (run, c)) in runs.into_iter().enumerate() {
        for (name, bytes) in output_files(cfg, run, &c) {
            if name == "y.npy" {
                last_y = Some(bytes.clone());
            }
            files.push((format!("{}/{name}", layer_dir(i)), bytes));
        }
        counters.push(serde_json::to_value(&c).expect("counters serialise"));
    }
    if let Some(y) = last_y {
        files.push(("y.npy".into(), y));
    }
    let mut json = serde_json::to_string_pretty(&counters).expect("counters serialise");
    json.push('\n');
    files.push(("counters.json".into(), json.into_bytes()));
    files
}

/// The subfolder of layer `i` in a network's output folder.
pub fn layer_dir(i: usize) -> String {
    format!("layer{i}")
}

/// Write a network run's files into `dir` all-or-nothing
/// ([`crate::publish`]): the old folder's run outputs (every `layer{i}/`,
/// `y.npy`, ...: [`crate::files::run_owns`]) are replaced as a whole, so
/// no `layer{n}/` of an earlier, longer run survives; other entries are
/// kept.
pub fn write_network_outputs(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), FilesError> {
    crate::files::write_outputs_owning(dir, files, &crate::files::run_owns)
}

/// A random chainable network of `n_layers` (at least 1) small layers for
/// `cfg`, and a random input for its first layer. Sizes: channels 1..=6,
/// first feature map 4..=12 a side, kernels 1 or 3 (5 sometimes), strides 1
/// or 2, thresholds drawn from the previous layer's output (so that masks
/// are mixed at every depth) and requantisation scaled to keep outputs
/// mostly inside the code range.
pub fn random_network(cfg: &AccelConfig, rng: &mut Rng, n_layers: usize) -> (Network, FeatureMap) {
    assert!(n_layers >= 1, "a network has at least one layer");
    let a_max = i64::from(cfg.a_max());
    let w_max = i64::from(cfg.w_range().1);
    let (mut c_in, mut h, mut w) = (rng.range(1, 6), rng.range(4, 12), rng.range(4, 12));
    let mut layers = Vec::with_capacity(n_layers);
    let mut input: Option<FeatureMap> = None;
    // The previous layer's output: the next threshold is one of its values,
    // so that the predicted masks are mixed at every depth.
    let mut prev_y: Option<FeatureMap> = None;
    for _ in 0..n_layers {
        let side = h.min(w);
        let kernel = match rng.range(0, 5) {
            0 => 1,
            1 if side >= 5 => 5,
            _ => 3,
        };
        let padding = rng
            .range(0, kernel - 1)
            .max(if side < kernel { kernel / 2 } else { 0 });
        let stride = if side >= 6 && rng.chance(0.3) { 2 } else { 1 };
        let tile_h = rng.range(1, i64::from(cfg.rows).min(4));
        let tile_w = rng.range(1, i64::from(cfg.rows) / tile_h);
        let c_out = rng.range(1, 6);
        // Typical |acc|: sqrt(terms) * mean activation * mean |weight|.
        let terms = (c_in * kernel * kernel) as f64;
        let typical = terms.sqrt() * (a_max as f64 / 2.0) * (w_max as f64 / 2.0).max(1.0);
        let mult = rng.range(1, 8);
        let shift = ((typical * mult as f64) / (a_max as f64 / 2.0).max(1.0))
            .log2()
            .round()
            .clamp(0.0, 63.0) as i64;
        let threshold = match &prev_y {
            Some(y) if rng.chance(0.9) => {
                i64::from(y.data[rng.range(0, y.data.len() as i64 - 1) as usize])
            }
            _ => rng.range(0, a_max),
        };
        let raw = RawLayer {
            threshold,
            low_shift: rng.range(0, i64::from(cfg.max_low_shift())),
            w_low_shift: rng.range(0, i64::from(cfg.max_w_low_shift())),
            requant_mult: mult,
            requant_shift: shift,
            ..RawLayer::conv(
                c_in,
                c_out,
                (h, w),
                kernel,
                stride,
                padding,
                (tile_h, tile_w),
            )
        };
        let layer = Layer::from_raw(&raw).expect("random layer is valid");
        layer
            .check(cfg)
            .expect("random layer fits the configuration");
        let mut data = random_layer_data(rng, cfg, &layer, 1 << 12, None);
        if let Some(y) = prev_y.take() {
            data.input = y;
        }
        prev_y = Some(
            run_layer(cfg, &layer, &data)
                .expect("random layer data is valid")
                .y,
        );
        input.get_or_insert(data.input);
        layers.push(NetworkLayer {
            layer,
            weights: data.weights,
            bias: data.bias,
        });
        (c_in, h, w) = (c_out, i64::from(layer.ho()), i64::from(layer.wo()));
    }
    if rng.chance(0.5) {
        let t = rng.range(0, a_max) as u32;
        layers
            .last_mut()
            .expect("n_layers >= 1")
            .layer
            .next_threshold = Some(t);
    }
    let net = Network::new(layers).expect("random network chains");
    (net, input.expect("n_layers >= 1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::test_seed;

    fn cfg() -> AccelConfig {
        AccelConfig {
            rows: 8,
            cols: 4,
            region: 2,
            ..AccelConfig::replicated()
        }
    }

    #[test]
    fn three_layer_network_equals_chained_run_layer() {
        let seed = test_seed("three_layer_network_equals_chained_run_layer");
        let cfg = cfg();
        let mut rng = Rng::new(seed);
        for round in 0..4 {
            let (net, input) = random_network(&cfg, &mut rng, 3);
            let given = (round % 2 == 1)
                .then(|| crate::testdata::random_mask(&mut rng, &cfg, &net.layers[0].layer, 0.5));
            let runs = run_network(&cfg, &net, &input, given.as_ref()).unwrap();
            assert_eq!(runs.len(), 3);
            // by hand
            let (mut x, mut m) = (input.clone(), given.clone());
            for (i, nl) in net.layers.iter().enumerate() {
                if i < 2 {
                    assert_eq!(
                        nl.layer.next_threshold,
                        Some(net.layers[i + 1].layer.threshold)
                    );
                }
                let data = LayerData {
                    input: x.clone(),
                    weights: nl.weights.clone(),
                    bias: nl.bias.clone(),
                    mask: m.clone(),
                };
                let want = run_layer(&cfg, &nl.layer, &data).unwrap();
                let got = &runs[i];
                assert_eq!(got.y, want.y, "layer {i}");
                assert_eq!(got.acc, want.acc, "layer {i}");
                assert_eq!(got.mask_in, want.mask_in, "layer {i}");
                assert_eq!(got.mask_out, want.mask_out, "layer {i}");
                assert_eq!(got.counters, want.counters, "layer {i}");
                x = want.y;
                m = want.mask_out;
            }
            if let Some(g) = &given {
                assert_eq!(&runs[0].mask_in, g, "the given mask is layer 0's");
            }
        }
    }

    #[test]
    fn save_and_load_round_trip() {
        let seed = test_seed("save_and_load_round_trip");
        let cfg = cfg();
        let (net, _) = random_network(&cfg, &mut Rng::new(seed), 3);
        let dir = tempfile::tempdir().unwrap();
        let path = net.save(&cfg, dir.path()).unwrap();
        assert_eq!(Network::load(&path, &cfg).unwrap(), net);
    }

    #[test]
    fn runner_errors_and_missing_mask_out_name_the_layer() {
        let cfg = cfg();
        let (mut net, input) = random_network(&cfg, &mut Rng::new(5), 3);
        let e = run_network_with(&net, &input, None, |i, l, d| {
            if i == 2 {
                Err("boom")
            } else {
                run_layer(&cfg, l, d).map_err(|_| "data")
            }
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "layer 2: boom");
        net.layers[0].layer.next_threshold = None;
        let e = run_network(&cfg, &net, &input, None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("layer 0: no mask_out for layer 1"),
            "{e}"
        );
    }

    /// A saved 3-layer network whose JSON is edited by `edit`, loaded.
    fn load_edited(edit: impl FnOnce(&mut serde_json::Value, &Path)) -> String {
        let cfg = cfg();
        let (net, _) = random_network(&cfg, &mut Rng::new(7), 3);
        let dir = tempfile::tempdir().unwrap();
        let path = net.save(&cfg, dir.path()).unwrap();
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut v, dir.path());
        std::fs::write(&path, v.to_string()).unwrap();
        Network::load(&path, &cfg).unwrap_err().to_string()
    }

    fn assert_mentions(e: &str, parts: &[&str]) {
        assert!(e.contains("network.json"), "{e}");
        for p in parts {
            assert!(e.contains(p), "error should mention {p:?}: {e}");
        }
    }

    #[test]
    fn chaining_errors_name_layer_field_and_values() {
        // c_in mismatch
        let mut c_out = 0;
        let e = load_edited(|v, _| {
            c_out = v["layers"][0]["layer"]["c_out"].as_i64().unwrap();
            v["layers"][1]["layer"]["c_in"] = (c_out + 1).into();
        });
        assert_mentions(
            &e,
            &[
                "layer 1",
                &format!("c_in = {}", c_out + 1),
                &format!("expected {c_out}"),
                "layer 0's c_out",
            ],
        );
        // h mismatch
        let mut h = 0;
        let e = load_edited(|v, _| {
            h = v["layers"][2]["layer"]["h"].as_i64().unwrap();
            v["layers"][2]["layer"]["h"] = (h + 3).into();
        });
        assert_mentions(
            &e,
            &[
                "layer 2",
                &format!("h = {}", h + 3),
                &format!("expected {h}"),
            ],
        );
        // w mismatch
        let e = load_edited(|v, _| {
            let w = v["layers"][1]["layer"]["w"].as_i64().unwrap();
            v["layers"][1]["layer"]["w"] = (w + 1).into();
        });
        assert_mentions(&e, &["layer 1", "w = ", "layer 0's output width"]);
        // next_threshold conflict
        let mut t = 0;
        let e = load_edited(|v, _| {
            t = v["layers"][1]["layer"]["threshold"].as_i64().unwrap();
            v["layers"][0]["layer"]["next_threshold"] = (t + 1).into();
        });
        assert_mentions(
            &e,
            &[
                "layer 0",
                &format!("next_threshold = {}", t + 1),
                &format!("expected {t}"),
                "layer 1's threshold",
            ],
        );
    }

    #[test]
    fn file_and_syntax_errors_name_the_layer() {
        // missing weights file
        let e = load_edited(|v, _| v["layers"][1]["weights"] = "nope.npy".into());
        assert_mentions(&e, &["layer 1", "weights", "nope.npy"]);
        // bias of the wrong shape
        let e = load_edited(|v, dir| {
            crate::npy::NpyArray::new(crate::npy::DType::I32, vec![9], vec![0; 9])
                .save(&dir.join("b9.npy"))
                .unwrap();
            v["layers"][2]["bias"] = "b9.npy".into();
        });
        assert_mentions(&e, &["layer 2", "bias", "b9.npy", "[9]"]);
        // unknown key in an entry, in a layer, and at the top
        let e = load_edited(|v, _| v["layers"][1]["wieghts"] = "w1.npy".into());
        assert_mentions(&e, &["layer 1", "wieghts"]);
        let e = load_edited(|v, _| v["layers"][2]["layer"]["thresold"] = 3.into());
        assert_mentions(&e, &["layer 2", "thresold"]);
        let e = load_edited(|v, _| v["name"] = "net".into());
        assert_mentions(&e, &["name"]);
        // a layer rule against the configuration (rows = 8)
        let e = load_edited(|v, _| {
            v["layers"][1]["layer"]["tile_h"] = 3.into();
            v["layers"][1]["layer"]["tile_w"] = 3.into();
        });
        assert_mentions(&e, &["layer 1", "tile_h * tile_w", "rows = 8"]);
        // no layers
        let e = load_edited(|v, _| v["layers"] = serde_json::json!([]));
        assert_mentions(&e, &["no layers"]);
        // weights out of range for the configuration
        let cfg = AccelConfig {
            w_hi: 4,
            w_lo: 2,
            ..cfg()
        };
        let mut net = random_network(&cfg, &mut Rng::new(3), 2).0;
        net.layers[1].weights.data[4] = 100;
        let dir = tempfile::tempdir().unwrap();
        let path = net.save(&cfg, dir.path()).unwrap();
        let e = Network::load(&path, &cfg).unwrap_err().to_string();
        assert_mentions(&e, &["layer 1", "w1.npy", "value 100", "-8..=7"]);
    }

    #[test]
    fn network_output_files_layout() {
        let cfg = cfg();
        let (net, input) = random_network(&cfg, &mut Rng::new(9), 2);
        let runs = run_network(&cfg, &net, &input, None).unwrap();
        let files = network_output_files(&cfg, &runs);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let mut want: Vec<String> = Vec::new();
        for (i, r) in runs.iter().enumerate() {
            for (n, _) in output_files(&cfg, r, &r.counters) {
                want.push(format!("layer{i}/{n}"));
            }
        }
        want.extend(["y.npy".into(), "counters.json".into()]);
        assert_eq!(names, want);
        let dir = tempfile::tempdir().unwrap();
        // a stale third layer from an earlier run is removed
        std::fs::create_dir_all(dir.path().join("layer2")).unwrap();
        std::fs::write(dir.path().join("layer2/y.npy"), "old").unwrap();
        write_network_outputs(dir.path(), &files).unwrap();
        assert!(!dir.path().join("layer2").exists());
        let counters: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("counters.json")).unwrap())
                .unwrap();
        assert_eq!(counters.as_array().unwrap().len(), 2);
        assert_eq!(counters[1]["tiles"], runs[1].counters.tiles);
        assert_eq!(
            std::fs::read(dir.path().join("y.npy")).unwrap(),
            std::fs::read(dir.path().join("layer1/y.npy")).unwrap()
        );
    }
}
