//! The files of one layer run: `.npy` inputs checked against the layer, and
//! outputs written all-or-nothing into an output folder. `drq golden` and
//! `drq sim` share these so their files are interchangeable.

use crate::golden::{DataError, LayerData, LayerRun};
use crate::layer::Layer;
use crate::npy::{DType, NpyArray, NpyError};
use crate::tensor::{FeatureMap, Mask, Weights};
use drq_arch::AccelConfig;
use std::path::{Path, PathBuf};

/// Paths of a layer's input tensors.
#[derive(Debug, Clone)]
pub struct LayerFiles {
    pub input: PathBuf,
    pub weights: PathBuf,
    pub bias: PathBuf,
    pub mask: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{path}: {source}")]
    Data {
        path: String,
        #[source]
        source: DataError,
    },
    #[error("{path}: {message}")]
    Output { path: String, message: String },
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
}

/// dtype of activation tensors (input, y): uint8 for A_HI <= 8, else uint16.
pub fn activation_dtype(cfg: &AccelConfig) -> DType {
    if cfg.activation_bytes() == 1 {
        DType::U8
    } else {
        DType::U16
    }
}

/// dtype of weight tensors: int8 for W_HI <= 8, else int16.
pub fn weight_dtype(cfg: &AccelConfig) -> DType {
    if cfg.weight_bytes() == 1 {
        DType::I8
    } else {
        DType::I16
    }
}

fn usz(v: u32) -> usize {
    v as usize
}

/// Read the input activations `[C_in, H, W]` of a layer: dtype and shape
/// only (value ranges are [`LayerData::validate`]'s, or [`load_input`]'s).
pub fn read_input(cfg: &AccelConfig, layer: &Layer, path: &Path) -> Result<FeatureMap, FilesError> {
    let (c, h, w) = (usz(layer.c_in), usz(layer.h), usz(layer.w));
    let x = NpyArray::load_checked(path, &[activation_dtype(cfg)], &[c, h, w])?;
    Ok(FeatureMap {
        c,
        h,
        w,
        data: x.data.iter().map(|&v| v as u32).collect(),
    })
}

/// Read the weights `[C_out, C_in, K, K]` of a layer: dtype and shape only.
pub fn read_weights(cfg: &AccelConfig, layer: &Layer, path: &Path) -> Result<Weights, FilesError> {
    let (c_out, c_in, k) = (usz(layer.c_out), usz(layer.c_in), usz(layer.kernel));
    let wt = NpyArray::load_checked(path, &[weight_dtype(cfg)], &[c_out, c_in, k, k])?;
    Ok(Weights {
        c_out,
        c_in,
        k,
        data: wt.data.iter().map(|&v| v as i32).collect(),
    })
}

/// Read the bias `[C_out]` (int32) of a layer.
pub fn read_bias(layer: &Layer, path: &Path) -> Result<Vec<i32>, FilesError> {
    let b = NpyArray::load_checked(path, &[DType::I32], &[usz(layer.c_out)])?;
    Ok(b.data.iter().map(|&v| v as i32).collect())
}

/// Read an input mask `[C_in, ceil(H/R), ceil(W/R)]` (uint8 or bool) and
/// check that every value is 0 or 1.
pub fn read_mask(cfg: &AccelConfig, layer: &Layer, path: &Path) -> Result<Mask, FilesError> {
    let c_in = usz(layer.c_in);
    let (rh, rw) = layer.mask_in_dims(cfg.region);
    let m = NpyArray::load_checked(path, &[DType::U8, DType::Bool], &[c_in, usz(rh), usz(rw)])?;
    if let Some((index, &value)) = m.data.iter().enumerate().find(|(_, &v)| v > 1) {
        return Err(FilesError::Data {
            path: path.display().to_string(),
            source: DataError::Value {
                tensor: "mask",
                index,
                value,
                allowed: "0..=1".into(),
            },
        });
    }
    Ok(Mask {
        c: c_in,
        rh: usz(rh),
        rw: usz(rw),
        data: m.data.iter().map(|&v| v == 1).collect(),
    })
}

/// The first value outside `lo..=hi`, as a [`FilesError::Data`] naming `path`
/// (the same message as [`LayerData::validate`]'s).
fn check_values(
    path: &Path,
    tensor: &'static str,
    values: impl Iterator<Item = i64>,
    lo: i64,
    hi: i64,
) -> Result<(), FilesError> {
    for (index, value) in values.enumerate() {
        if !(lo..=hi).contains(&value) {
            return Err(FilesError::Data {
                path: path.display().to_string(),
                source: DataError::Value {
                    tensor,
                    index,
                    value,
                    allowed: format!("{lo}..={hi}"),
                },
            });
        }
    }
    Ok(())
}

/// [`read_input`], and every code within 0..=2^A_HI-1.
pub fn load_input(cfg: &AccelConfig, layer: &Layer, path: &Path) -> Result<FeatureMap, FilesError> {
    let x = read_input(cfg, layer, path)?;
    let a_max = i64::from(cfg.a_max());
    check_values(
        path,
        "input",
        x.data.iter().map(|&v| i64::from(v)),
        0,
        a_max,
    )?;
    Ok(x)
}

/// [`read_weights`], and every weight within the signed W_HI-bit range.
pub fn load_weights(cfg: &AccelConfig, layer: &Layer, path: &Path) -> Result<Weights, FilesError> {
    let w = read_weights(cfg, layer, path)?;
    let (wmin, wmax) = cfg.w_range();
    check_values(
        path,
        "weights",
        w.data.iter().map(|&v| i64::from(v)),
        wmin.into(),
        wmax.into(),
    )?;
    Ok(w)
}

/// Read and check every input tensor of a layer. Errors name the file, and
/// the expected and found dtype, shape or value.
pub fn load_layer_data(
    cfg: &AccelConfig,
    layer: &Layer,
    files: &LayerFiles,
) -> Result<LayerData, FilesError> {
    let input = read_input(cfg, layer, &files.input)?;
    let weights = read_weights(cfg, layer, &files.weights)?;
    let bias = read_bias(layer, &files.bias)?;
    let mask = match &files.mask {
        None => None,
        Some(p) => Some(read_mask(cfg, layer, p)?),
    };
    let data = LayerData {
        input,
        weights,
        bias,
        mask,
    };
    data.validate(cfg, layer).map_err(|source| {
        let path = match source.tensor() {
            "input" => &files.input,
            "weights" => &files.weights,
            "bias" => &files.bias,
            _ => files.mask.as_ref().unwrap_or(&files.input),
        };
        FilesError::Data {
            path: path.display().to_string(),
            source,
        }
    })?;
    Ok(data)
}

/// Save a layer's input tensors (for tests, regressions and examples).
pub fn save_layer_data(
    cfg: &AccelConfig,
    data: &LayerData,
    files: &LayerFiles,
) -> Result<(), NpyError> {
    fmap_array(cfg, &data.input).save(&files.input)?;
    weights_array(cfg, &data.weights).save(&files.weights)?;
    bias_array(&data.bias).save(&files.bias)?;
    if let (Some(m), Some(p)) = (&data.mask, &files.mask) {
        mask_array(m).save(p)?;
    }
    Ok(())
}

/// A feature map as an `.npy` array of the activation dtype.
pub fn fmap_array(cfg: &AccelConfig, f: &FeatureMap) -> NpyArray {
    NpyArray::new(
        activation_dtype(cfg),
        f.shape().to_vec(),
        f.data.iter().map(|&v| v.into()).collect(),
    )
}

/// Weights as an `.npy` array of the weight dtype.
pub fn weights_array(cfg: &AccelConfig, w: &Weights) -> NpyArray {
    NpyArray::new(
        weight_dtype(cfg),
        w.shape().to_vec(),
        w.data.iter().map(|&v| v.into()).collect(),
    )
}

/// A bias as an int32 `.npy` array.
pub fn bias_array(bias: &[i32]) -> NpyArray {
    NpyArray::new(
        DType::I32,
        vec![bias.len()],
        bias.iter().map(|&v| v.into()).collect(),
    )
}

/// A mask as a uint8 0/1 `.npy` array.
pub fn mask_array(m: &Mask) -> NpyArray {
    NpyArray::new(
        DType::U8,
        m.shape().to_vec(),
        m.data.iter().map(|&b| i64::from(b)).collect(),
    )
}

/// The files a layer run writes, as (name, bytes), in a fixed order.
pub fn output_files<C: serde::Serialize>(
    cfg: &AccelConfig,
    run: &LayerRun,
    counters: &C,
) -> Vec<(&'static str, Vec<u8>)> {
    let y = &run.y;
    let mut files = vec![
        ("y.npy", fmap_array(cfg, y).to_bytes()),
        (
            "acc.npy",
            NpyArray::new(DType::I64, y.shape().to_vec(), run.acc.clone()).to_bytes(),
        ),
        ("mask_in.npy", mask_array(&run.mask_in).to_bytes()),
    ];
    if let Some(m) = &run.mask_out {
        files.push(("mask_out.npy", mask_array(m).to_bytes()));
    }
    let mut json = serde_json::to_string_pretty(counters).expect("counters serialise");
    json.push('\n');
    files.push(("counters.json", json.into_bytes()));
    files
}

/// Whether a layer or network run (`drq golden`, `drq sim`) writes an
/// entry of this name into its output folder: its files, `layer<i>/`
/// folders, `waves.vcd`, and the `.NAME.partial` files of older versions.
/// An old folder's entries of these names are dropped when a new run is
/// published; any other entry is kept ([`crate::publish`]).
pub fn run_owns(name: &str) -> bool {
    const FILES: [&str; 6] = [
        "y.npy",
        "acc.npy",
        "mask_in.npy",
        "mask_out.npy",
        "counters.json",
        "waves.vcd",
    ];
    FILES.contains(&name)
        || name
            .strip_prefix("layer")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        || (name.starts_with('.') && name.ends_with(".partial"))
}

/// Write files into `dir` all-or-nothing ([`crate::publish`]): staged in a
/// fresh folder beside `dir`, then moved into its place in one step. A
/// name may hold a relative subfolder (`layer0/y.npy`). Entries of the old
/// folder are kept unless this write has one of the same top-level name.
pub fn write_outputs<N: AsRef<str>>(dir: &Path, files: &[(N, Vec<u8>)]) -> Result<(), FilesError> {
    let names = crate::publish::top_names(files);
    write_outputs_owning(dir, files, &|n: &str| names.iter().any(|m| m == n))
}

/// [`write_outputs`], dropping every old entry that `owned` claims.
pub fn write_outputs_owning<N: AsRef<str>>(
    dir: &Path,
    files: &[(N, Vec<u8>)],
    owned: &dyn Fn(&str) -> bool,
) -> Result<(), FilesError> {
    Ok(crate::publish::publish_files(dir, files, owned)?)
}
