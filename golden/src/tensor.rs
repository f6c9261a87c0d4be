//! Plain row-major tensors of the golden model: feature maps, weights and
//! region masks. Shapes follow docs/spec.md and the `.npy` files.

/// Activation codes `[C, H, W]`, unsigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureMap {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<u32>,
}

impl FeatureMap {
    pub fn zeros(c: usize, h: usize, w: usize) -> FeatureMap {
        FeatureMap {
            c,
            h,
            w,
            data: vec![0; c * h * w],
        }
    }
    pub fn from_fn(
        c: usize,
        h: usize,
        w: usize,
        mut f: impl FnMut(usize, usize, usize) -> u32,
    ) -> FeatureMap {
        let mut m = FeatureMap::zeros(c, h, w);
        for ci in 0..c {
            for y in 0..h {
                for x in 0..w {
                    m.data[(ci * h + y) * w + x] = f(ci, y, x);
                }
            }
        }
        m
    }
    #[inline]
    pub fn at(&self, c: usize, y: usize, x: usize) -> u32 {
        self.data[(c * self.h + y) * self.w + x]
    }
    pub fn shape(&self) -> [usize; 3] {
        [self.c, self.h, self.w]
    }
}

/// Signed weights `[C_out, C_in, K, K]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    pub c_out: usize,
    pub c_in: usize,
    pub k: usize,
    pub data: Vec<i32>,
}

impl Weights {
    pub fn from_fn(
        c_out: usize,
        c_in: usize,
        k: usize,
        mut f: impl FnMut(usize, usize, usize, usize) -> i32,
    ) -> Weights {
        let mut data = Vec::with_capacity(c_out * c_in * k * k);
        for o in 0..c_out {
            for i in 0..c_in {
                for ki in 0..k {
                    for kj in 0..k {
                        data.push(f(o, i, ki, kj));
                    }
                }
            }
        }
        Weights {
            c_out,
            c_in,
            k,
            data,
        }
    }
    /// Weight of output channel `oc` at reduction index `k` = (c*K + ki)*K + kj.
    #[inline]
    pub fn at_k(&self, oc: usize, k: usize) -> i32 {
        self.data[oc * self.c_in * self.k * self.k + k]
    }
    #[inline]
    pub fn at(&self, oc: usize, c: usize, ki: usize, kj: usize) -> i32 {
        self.data[((oc * self.c_in + c) * self.k + ki) * self.k + kj]
    }
    pub fn shape(&self) -> [usize; 4] {
        [self.c_out, self.c_in, self.k, self.k]
    }
}

/// Sensitivity mask `[C, ceil(H/R), ceil(W/R)]`: true = sensitive region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub c: usize,
    pub rh: usize,
    pub rw: usize,
    pub data: Vec<bool>,
}

impl Mask {
    pub fn filled(c: usize, rh: usize, rw: usize, value: bool) -> Mask {
        Mask {
            c,
            rh,
            rw,
            data: vec![value; c * rh * rw],
        }
    }
    #[inline]
    pub fn at(&self, c: usize, ry: usize, rx: usize) -> bool {
        self.data[(c * self.rh + ry) * self.rw + rx]
    }
    pub fn set(&mut self, c: usize, ry: usize, rx: usize, v: bool) {
        self.data[(c * self.rh + ry) * self.rw + rx] = v;
    }
    pub fn shape(&self) -> [usize; 3] {
        [self.c, self.rh, self.rw]
    }
    /// Fraction of regions that are sensitive.
    pub fn sensitive_fraction(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        self.data.iter().filter(|&&b| b).count() as f64 / self.data.len() as f64
    }
}
