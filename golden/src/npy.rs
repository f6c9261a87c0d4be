//! NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), the way PyTorch
//! users export tensors. Little-endian integer dtypes and bool, C order only.

use std::io::Write;
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
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err(bad("missing the \\x93NUMPY magic"));
        }
        let (hlen, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            v => return Err(bad(&format!("unsupported format version {v}"))),
        };
        let header = bytes
            .get(start..start + hlen)
            .ok_or_else(|| bad("truncated header"))?;
        let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
        let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"');
        let dtype = DType::from_descr(descr).ok_or_else(|| {
            bad(&format!(
                "unsupported dtype '{descr}' (little-endian integers or bool only)"
            ))
        })?;
        if dict_value(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
            return Err(bad(
                "Fortran-ordered arrays are not supported; save a C-contiguous array",
            ));
        }
        let shape_text = dict_value(header, "shape").ok_or_else(|| bad("header has no 'shape'"))?;
        let shape = parse_shape(shape_text)
            .ok_or_else(|| bad(&format!("cannot read shape {shape_text}")))?;
        let count: usize = shape.iter().product();
        let body = &bytes[start + hlen..];
        if body.len() != count * dtype.size() {
            return Err(bad(&format!(
                "data holds {} bytes, shape {:?} of {} needs {}",
                body.len(),
                shape,
                dtype.name(),
                count * dtype.size()
            )));
        }
        let data = match dtype {
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
        };
        Ok(NpyArray { dtype, shape, data })
    }

    /// Read a file and check its dtype (one of `dtypes`) and shape.
    pub fn load_checked(
        path: &Path,
        dtypes: &[DType],
        shape: &[usize],
    ) -> Result<NpyArray, NpyError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
            path: p.clone(),
            source,
        })?;
        let arr = NpyArray::from_bytes(&bytes, &p)?;
        if !dtypes.contains(&arr.dtype) {
            let names: Vec<_> = dtypes.iter().map(|d| d.name()).collect();
            return Err(NpyError::DType {
                path: p,
                expected: names.join(" or "),
                found: arr.dtype.name().into(),
            });
        }
        if arr.shape != shape {
            return Err(NpyError::Shape {
                path: p,
                expected: shape.to_vec(),
                found: arr.shape,
            });
        }
        Ok(arr)
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
