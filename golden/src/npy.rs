//! NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), the way PyTorch
//! users export tensors. Little-endian integer dtypes and bool, C order only.

use std::io::{Read, Write};
use std::path::Path;

/// Element types this project reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    Bool,
    U8,
    U16,
    I8,
    I16,
    I32,
    I64,
}

impl DType {
    /// NumPy's descr string.
    pub fn descr(self) -> &'static str {
        match self {
            DType::Bool => "|b1",
            DType::U8 => "|u1",
            DType::U16 => "<u2",
            DType::I8 => "|i1",
            DType::I16 => "<i2",
            DType::I32 => "<i4",
            DType::I64 => "<i8",
        }
    }
    /// NumPy's name of the type (for messages).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
        }
    }
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::U16 | DType::I16 => 2,
            DType::I32 => 4,
            DType::I64 => 8,
        }
    }
    fn from_descr(d: &str) -> Option<DType> {
        // One-byte types may be written with any byte-order mark.
        let (order, ty) = d.split_at(1.min(d.len()));
        let (order, ty) = if matches!(order, "<" | ">" | "|" | "=") {
            (order, ty)
        } else {
            ("", d)
        };
        let t = match ty {
            "b1" => DType::Bool,
            "u1" => DType::U8,
            "i1" => DType::I8,
            "u2" => DType::U16,
            "i2" => DType::I16,
            "i4" => DType::I32,
            "i8" => DType::I64,
            _ => return None,
        };
        (t.size() == 1 || order != ">").then_some(t)
    }
}

/// An array read from or written to a `.npy` file; values widened to i64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyArray {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

/// What can go wrong with a `.npy` file; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a NumPy .npy file: {why}")]
    Format { path: String, why: String },
    #[error("{path}: expected dtype {expected}, found {found}")]
    DType {
        path: String,
        expected: String,
        found: String,
    },
    #[error("{path}: expected shape {expected:?}, found {found:?}")]
    Shape {
        path: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
}

impl NpyArray {
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<i64>) -> NpyArray {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "npy shape and data length"
        );
        NpyArray { dtype, shape, data }
    }

    /// Serialise in format 1.0 (2.0 if the header needs it).
    pub fn to_bytes(&self) -> Vec<u8> {
        let shape = match self.shape.len() {
            1 => format!("({},)", self.shape[0]),
            _ => format!(
                "({})",
                self.shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
            self.dtype.descr(),
            shape
        );
        let v1 = header.len() + 11 < 65536;
        let prefix = if v1 { 10 } else { 12 };
        let pad = (64 - (prefix + header.len() + 1) % 64) % 64;
        header.push_str(&" ".repeat(pad));
        header.push('\n');
        let mut out =
            Vec::with_capacity(prefix + header.len() + self.data.len() * self.dtype.size());
        out.extend_from_slice(b"\x93NUMPY");
        if v1 {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        for &v in &self.data {
            match self.dtype {
                DType::Bool | DType::U8 => out.push(v as u8),
                DType::I8 => out.push(v as i8 as u8),
                DType::U16 => out.extend_from_slice(&(v as u16).to_le_bytes()),
                DType::I16 => out.extend_from_slice(&(v as i16).to_le_bytes()),
                DType::I32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
                DType::I64 => out.extend_from_slice(&v.to_le_bytes()),
            }
        }
        out
    }

    /// Parse `.npy` bytes; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<NpyArray, NpyError> {
        let bad = |why: &str| NpyError::Format {
            path: path.to_string(),
            why: why.to_string(),
        };
        let prefix = bytes.get(..12.min(bytes.len())).unwrap_or(&[]);
        let (start, hlen) = preamble(prefix, path)?;
        let header = bytes
            .get(start..start + hlen)
            .ok_or_else(|| bad("truncated header"))?;
        let (dtype, shape) = parse_header(header, path)?;
        let body = &bytes[start + hlen..];
        let need = body_bytes(dtype, &shape, path)?;
        if body.len() as u128 != need {
            return Err(bad(&format!(
                "data holds {} bytes, shape {:?} of {} needs {need}",
                body.len(),
                shape,
                dtype.name(),
            )));
        }
        let data = decode(dtype, body);
        Ok(NpyArray { dtype, shape, data })
    }

    /// Read a file and check its dtype (one of `dtypes`) and shape. The
    /// header is read first and checked (dtype, shape, the memory budget of
    /// [`crate::budget`], and for a regular file its length); then exactly
    /// the bytes the header declares are read, so an endless or huge input
    /// (`/dev/zero`, a sparse file) is refused without reading it.
    pub fn load_checked(
        path: &Path,
        dtypes: &[DType],
        shape: &[usize],
    ) -> Result<NpyArray, NpyError> {
        let p = path.display().to_string();
        let io = |source| NpyError::Io {
            path: p.clone(),
            source,
        };
        let bad = |why: String| NpyError::Format {
            path: p.clone(),
            why,
        };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut prefix = Vec::with_capacity(12);
        (&mut f).take(10).read_to_end(&mut prefix).map_err(io)?;
        if prefix.len() >= 7 && prefix[6] != 1 && prefix.len() == 10 {
            (&mut f).take(2).read_to_end(&mut prefix).map_err(io)?;
        }
        let (start, hlen) = preamble(&prefix, &p)?;
        if hlen > MAX_HEADER {
            return Err(bad(format!(
                "header of {hlen} bytes (at most {MAX_HEADER} are read)"
            )));
        }
        let mut header = Vec::with_capacity(hlen);
        (&mut f)
            .take(hlen as u64)
            .read_to_end(&mut header)
            .map_err(io)?;
        if header.len() < hlen {
            return Err(bad("truncated header".into()));
        }
        let (dtype, found) = parse_header(&header, &p)?;
        if !dtypes.contains(&dtype) {
            let names: Vec<_> = dtypes.iter().map(|d| d.name()).collect();
            return Err(NpyError::DType {
                path: p,
                expected: names.join(" or "),
                found: dtype.name().into(),
            });
        }
        if found != shape {
            return Err(NpyError::Shape {
                path: p,
                expected: shape.to_vec(),
                found,
            });
        }
        let need = body_bytes(dtype, &found, &p)?;
        // The file's bytes and their 64-bit values.
        let count = need / dtype.size() as u128;
        crate::budget::check(
            path,
            format!("reading shape {found:?} of {}", dtype.name()),
            need + count * 8,
        )?;
        let data_len = |len: u128| {
            bad(format!(
                "data holds {len} bytes, shape {found:?} of {} needs {need}",
                dtype.name()
            ))
        };
        let meta = f.metadata().map_err(io)?;
        if meta.is_file() {
            let len = u128::from(meta.len()).saturating_sub((start + hlen) as u128);
            if len != need {
                return Err(data_len(len));
            }
        }
        let need = need as usize; // within the budget, so within memory
        let mut body = Vec::with_capacity(need);
        (&mut f)
            .take(need as u64)
            .read_to_end(&mut body)
            .map_err(io)?;
        if body.len() < need {
            return Err(data_len(body.len() as u128));
        }
        let mut extra = [0u8; 1];
        if !meta.is_file() && f.read(&mut extra).map_err(io)? > 0 {
            return Err(bad(format!(
                "more data than shape {found:?} of {} holds ({need} bytes)",
                dtype.name()
            )));
        }
        Ok(NpyArray {
            dtype,
            shape: found,
            data: decode(dtype, &body),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), NpyError> {
        let mut f = std::fs::File::create(path).map_err(|source| NpyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        f.write_all(&self.to_bytes())
            .map_err(|source| NpyError::Io {
                path: path.display().to_string(),
                source,
            })
    }
}

/// Largest header read (NumPy writes a few hundred bytes).
const MAX_HEADER: usize = 1 << 20;

/// The magic and version: (offset of the header, header length).
fn preamble(prefix: &[u8], path: &str) -> Result<(usize, usize), NpyError> {
    let bad = |why: String| NpyError::Format {
        path: path.to_string(),
        why,
    };
    if prefix.len() < 10 || &prefix[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic".into()));
    }
    match prefix[6] {
        1 => Ok((10, u16::from_le_bytes([prefix[8], prefix[9]]) as usize)),
        2 | 3 if prefix.len() >= 12 => Ok((
            12,
            u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) as usize,
        )),
        v => Err(bad(format!("unsupported format version {v}"))),
    }
}

/// The dtype and shape of a header.
fn parse_header(header: &[u8], path: &str) -> Result<(DType, Vec<usize>), NpyError> {
    let bad = |why: &str| NpyError::Format {
        path: path.to_string(),
        why: why.to_string(),
    };
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let dtype = DType::from_descr(descr).ok_or_else(|| {
        bad(&format!(
            "unsupported dtype '{}' (little-endian integers or bool only)",
            drq_arch::text::clip(descr, drq_arch::text::MAX_QUOTE)
        ))
    })?;
    if dict_value(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad(
            "Fortran-ordered arrays are not supported; save a C-contiguous array",
        ));
    }
    let shape_text = dict_value(header, "shape").ok_or_else(|| bad("header has no 'shape'"))?;
    let shape = parse_shape(shape_text).ok_or_else(|| {
        bad(&format!(
            "cannot read shape {}",
            drq_arch::text::clip(shape_text, drq_arch::text::MAX_QUOTE)
        ))
    })?;
    Ok((dtype, shape))
}

/// The data bytes a shape declares (no overflow: u128 of at most 32 dims
/// of usize would overflow only past 2^128, refused as well).
fn body_bytes(dtype: DType, shape: &[usize], path: &str) -> Result<u128, NpyError> {
    shape
        .iter()
        .try_fold(dtype.size() as u128, |acc, &d| acc.checked_mul(d as u128))
        .filter(|&b| b <= u128::from(u64::MAX))
        .ok_or_else(|| NpyError::Format {
            path: path.to_string(),
            why: format!("shape {shape:?} is too large"),
        })
}

fn decode(dtype: DType, body: &[u8]) -> Vec<i64> {
    match dtype {
        DType::Bool | DType::U8 => body.iter().map(|&b| i64::from(b)).collect(),
        DType::I8 => body.iter().map(|&b| i64::from(b as i8)).collect(),
        DType::U16 => body
            .chunks_exact(2)
            .map(|c| i64::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        DType::I16 => body
            .chunks_exact(2)
            .map(|c| i64::from(i16::from_le_bytes([c[0], c[1]])))
            .collect(),
        DType::I32 => body
            .chunks_exact(4)
            .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap())))
            .collect(),
        DType::I64 => body
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
    }
}

/// The text of a value in the header's Python dict literal.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    if rest.starts_with('(') {
        rest.find(')').map(|end| &rest[..=end])
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_dtype() {
        for (dt, vals) in [
            (DType::U8, vec![0, 255, 7]),
            (DType::U16, vec![0, 65535, 300]),
            (DType::I8, vec![-128, 127, 0]),
            (DType::I16, vec![-32768, 32767, 1]),
            (DType::I32, vec![i32::MIN.into(), i32::MAX.into(), -1]),
            (DType::I64, vec![i64::MIN, i64::MAX, 0]),
            (DType::Bool, vec![0, 1, 1]),
        ] {
            let a = NpyArray::new(dt, vec![3], vals);
            let bytes = a.to_bytes();
            assert_eq!(
                (bytes.len() - a.data.len() * dt.size()) % 64,
                0,
                "header aligned to 64"
            );
            assert_eq!(NpyArray::from_bytes(&bytes, "t").unwrap(), a);
        }
        let a = NpyArray::new(DType::I32, vec![2, 1, 3], (0..6).collect());
        assert_eq!(NpyArray::from_bytes(&a.to_bytes(), "t").unwrap(), a);
        let s = NpyArray::new(DType::I64, vec![], vec![42]);
        assert_eq!(NpyArray::from_bytes(&s.to_bytes(), "t").unwrap(), s);
    }

    #[test]
    fn reads_numpy_written_header() {
        // Exactly what numpy 1.x writes for np.arange(6, dtype=np.int16).reshape(2,3).
        let mut bytes = b"\x93NUMPY\x01\x00v\x00".to_vec();
        let mut h = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }".to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        bytes[8] = h.len() as u8;
        bytes.extend_from_slice(h.as_bytes());
        for v in 0i16..6 {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let a = NpyArray::from_bytes(&bytes, "t").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, (0..6).collect::<Vec<_>>());
    }

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern");
        [&bytes[..at], to, &bytes[at + from.len()..]].concat()
    }

    #[test]
    fn rejects_bad_files_naming_them() {
        let e = NpyArray::from_bytes(b"hello world", "x.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.npy") && e.contains("magic"), "{e}");
        let mut good = NpyArray::new(DType::U8, vec![4], vec![1, 2, 3, 4]).to_bytes();
        good.pop();
        let e = NpyArray::from_bytes(&good, "y.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.npy") && e.contains("needs 4"), "{e}");
        let f = replace(
            &NpyArray::new(DType::U8, vec![2], vec![1, 2]).to_bytes(),
            b"False",
            b"True ",
        );
        let e = NpyArray::from_bytes(&f, "f.npy").unwrap_err().to_string();
        assert!(e.contains("Fortran"), "{e}");
        let f = replace(
            &NpyArray::new(DType::I16, vec![1], vec![1]).to_bytes(),
            b"<i2",
            b"<f4",
        );
        let e = NpyArray::from_bytes(&f, "g.npy").unwrap_err().to_string();
        assert!(e.contains("'<f4'"), "{e}");
    }
}
