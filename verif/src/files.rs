//! The files of one layer run: `.npy` inputs checked against the layer, and
//! outputs written all-or-nothing into an output folder. `drq golden` and
//! `drq sim` share these so their files are interchangeable.

use crate::golden::{DataError, LayerData, LayerRun};
use crate::layer::Layer;
use crate::npy::{DType, NpyArray, NpyError};
use crate::tensor::{FeatureMap, Mask, Weights};
use drq_hdl::AccelConfig;
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

/// Read and check every input tensor of a layer. Errors name the file, and
/// the expected and found dtype, shape or value.
pub fn load_layer_data(
    cfg: &AccelConfig,
    layer: &Layer,
    files: &LayerFiles,
) -> Result<LayerData, FilesError> {
    let (c_in, c_out, h, w, k) = (
        usz(layer.c_in),
        usz(layer.c_out),
        usz(layer.h),
        usz(layer.w),
        usz(layer.kernel),
    );
    let x = NpyArray::load_checked(&files.input, &[activation_dtype(cfg)], &[c_in, h, w])?;
    let wt = NpyArray::load_checked(&files.weights, &[weight_dtype(cfg)], &[c_out, c_in, k, k])?;
    let b = NpyArray::load_checked(&files.bias, &[DType::I32], &[c_out])?;
    let mask = match &files.mask {
        None => None,
        Some(p) => {
            let (rh, rw) = layer.mask_in_dims(cfg.region);
            let m =
                NpyArray::load_checked(p, &[DType::U8, DType::Bool], &[c_in, usz(rh), usz(rw)])?;
            if let Some((index, &value)) = m.data.iter().enumerate().find(|(_, &v)| v > 1) {
                return Err(FilesError::Data {
                    path: p.display().to_string(),
                    source: DataError::Value {
                        tensor: "mask",
                        index,
                        value,
                        allowed: "0..=1".into(),
                    },
                });
            }
            Some(Mask {
                c: c_in,
                rh: usz(rh),
                rw: usz(rw),
                data: m.data.iter().map(|&v| v == 1).collect(),
            })
        }
    };
    let data = LayerData {
        input: FeatureMap {
            c: c_in,
            h,
            w,
            data: x.data.iter().map(|&v| v as u32).collect(),
        },
        weights: Weights {
            c_out,
            c_in,
            k,
            data: wt.data.iter().map(|&v| v as i32).collect(),
        },
        bias: b.data.iter().map(|&v| v as i32).collect(),
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
    let wt = &data.weights;
    NpyArray::new(
        weight_dtype(cfg),
        wt.shape().to_vec(),
        wt.data.iter().map(|&v| v.into()).collect(),
    )
    .save(&files.weights)?;
    NpyArray::new(
        DType::I32,
        vec![data.bias.len()],
        data.bias.iter().map(|&v| v.into()).collect(),
    )
    .save(&files.bias)?;
    if let (Some(m), Some(p)) = (&data.mask, &files.mask) {
        mask_array(m).save(p)?;
    }
    Ok(())
}

fn fmap_array(cfg: &AccelConfig, f: &FeatureMap) -> NpyArray {
    NpyArray::new(
        activation_dtype(cfg),
        f.shape().to_vec(),
        f.data.iter().map(|&v| v.into()).collect(),
    )
}

fn mask_array(m: &Mask) -> NpyArray {
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

/// Write files into `dir` all-or-nothing: each file goes to a temporary name
/// first and is renamed into place only when all are written. A stale
/// `mask_out.npy` from an earlier run is removed if this run has none.
pub fn write_outputs(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), FilesError> {
    let fail = |path: &Path, e: std::io::Error| FilesError::Output {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let tmp: Vec<PathBuf> = files
        .iter()
        .map(|(name, _)| dir.join(format!(".{name}.partial")))
        .collect();
    let written = files
        .iter()
        .zip(&tmp)
        .try_for_each(|((_, bytes), t)| std::fs::write(t, bytes).map_err(|e| fail(t, e)));
    if let Err(e) = written {
        for t in &tmp {
            let _ = std::fs::remove_file(t);
        }
        return Err(e);
    }
    for ((name, _), t) in files.iter().zip(&tmp) {
        let dest = dir.join(name);
        std::fs::rename(t, &dest).map_err(|e| fail(&dest, e))?;
    }
    if !files.iter().any(|(n, _)| *n == "mask_out.npy") {
        let stale = dir.join("mask_out.npy");
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| fail(&stale, e))?;
        }
    }
    Ok(())
}
