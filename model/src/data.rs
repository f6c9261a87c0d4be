//! Fashion-MNIST from the Debian package `dataset-fashion-mnist`: gzip'd IDX
//! files in `/usr/share/datasets/fashion-mnist/` (or the folder named by
//! `DRQ_FASHION_MNIST`).
//!
//! Splits: `Train` = the first 55,000 training images, `Calibration` = the
//! last 5,000 training images (held out: never trained on, used to calibrate
//! the quantisation), `Test` = the 10,000 test images.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Pixels of one 28 x 28 image.
pub const PIXELS: usize = 28 * 28;
/// Training images kept for training; the rest of the 60,000 calibrate.
pub const TRAIN_IMAGES: usize = 55_000;
/// The default data folder (Debian's `dataset-fashion-mnist`).
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// The environment variable that overrides [`DEFAULT_DIR`].
pub const DIR_ENV: &str = "DRQ_FASHION_MNIST";

/// The ten Fashion-MNIST classes, by label.
pub const CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Training images 0..55,000.
    Train,
    /// Training images 55,000..60,000 (held out from training).
    Calibration,
    /// The 10,000 test images.
    Test,
}

/// Anything wrong with the data files; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("Fashion-MNIST not found: {path} is missing (install it with `apt-get install dataset-fashion-mnist` or `make deps-data`, or point {DIR_ENV} to a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz)")]
    Missing { path: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: not an IDX file: {why}")]
    Format { path: String, why: String },
}

/// Images (raw bytes, row-major 28 x 28) and their labels (0..=9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub images: Vec<[u8; PIXELS]>,
    pub labels: Vec<u8>,
}

/// The data folder: `DRQ_FASHION_MNIST` if set, else [`DEFAULT_DIR`].
pub fn data_dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
}

/// An IDX file (optionally gzip'd, by the `.gz` suffix): its dimensions and
/// its unsigned-byte data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Read an IDX file of unsigned bytes (type 0x08).
pub fn read_idx(path: &Path) -> Result<Idx, DataError> {
    let p = path.display().to_string();
    if !path.exists() {
        return Err(DataError::Missing { path: p });
    }
    let io = |e: std::io::Error| DataError::Io {
        path: p.clone(),
        message: e.to_string(),
    };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(io)?;
        out
    } else {
        raw
    };
    parse_idx(&bytes, &p)
}

/// Parse IDX bytes: magic 0x00 0x00 0x08 n, n big-endian u32 dimensions, data.
pub fn parse_idx(bytes: &[u8], path: &str) -> Result<Idx, DataError> {
    let fail = |why: String| DataError::Format {
        path: path.into(),
        why,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(fail("bad magic number (expected 00 00 08 n)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(fail(format!(
            "data type 0x{:02x}, expected 0x08 (unsigned byte)",
            bytes[2]
        )));
    }
    let n = bytes[3] as usize;
    let head = 4 + 4 * n;
    if n == 0 || bytes.len() < head {
        return Err(fail(format!("{n} dimensions, header truncated")));
    }
    let dims: Vec<usize> = (0..n)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let len: usize = dims.iter().product();
    if bytes.len() != head + len {
        return Err(fail(format!(
            "dimensions {dims:?} need {len} data bytes, found {}",
            bytes.len() - head
        )));
    }
    Ok(Idx {
        dims,
        data: bytes[head..].to_vec(),
    })
}

impl Dataset {
    /// Load a split from [`data_dir`].
    pub fn load(split: Split) -> Result<Dataset, DataError> {
        Dataset::load_from(&data_dir(), split)
    }

    /// Load a split from `dir`.
    pub fn load_from(dir: &Path, split: Split) -> Result<Dataset, DataError> {
        let prefix = match split {
            Split::Test => "t10k",
            Split::Train | Split::Calibration => "train",
        };
        let all = Dataset::read_pair(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
        )?;
        Ok(match split {
            Split::Test => all,
            Split::Train => all.slice(0, TRAIN_IMAGES.min(all.len())),
            Split::Calibration => all.slice(TRAIN_IMAGES.min(all.len()), all.len()),
        })
    }

    /// An image file and its label file.
    pub fn read_pair(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
        let im = read_idx(images)?;
        let lb = read_idx(labels)?;
        let ip = images.display().to_string();
        if im.dims.len() != 3 || im.dims[1] != 28 || im.dims[2] != 28 {
            return Err(DataError::Format {
                path: ip,
                why: format!("dimensions {:?}, expected [N, 28, 28]", im.dims),
            });
        }
        if lb.dims.len() != 1 || lb.dims[0] != im.dims[0] {
            return Err(DataError::Format {
                path: labels.display().to_string(),
                why: format!(
                    "dimensions {:?}, expected [{}] (one label per image of {ip})",
                    lb.dims, im.dims[0]
                ),
            });
        }
        if let Some(&bad) = lb.data.iter().find(|&&l| l > 9) {
            return Err(DataError::Format {
                path: labels.display().to_string(),
                why: format!("label {bad} outside 0..=9"),
            });
        }
        let images = im
            .data
            .chunks_exact(PIXELS)
            .map(|c| c.try_into().expect("chunk of PIXELS"))
            .collect();
        Ok(Dataset {
            images,
            labels: lb.data,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images `start..end` (clamped to the set).
    pub fn slice(&self, start: usize, end: usize) -> Dataset {
        let end = end.min(self.len());
        let start = start.min(end);
        Dataset {
            images: self.images[start..end].to_vec(),
            labels: self.labels[start..end].to_vec(),
        }
    }

    /// The first `n` images (all if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        self.slice(0, n)
    }
}
