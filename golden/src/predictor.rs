//! The just-in-time sensitivity predictor (docs/spec.md §3): a mean filter over
//! square regions compared with a threshold, with no division.

use crate::tensor::{FeatureMap, Mask};

/// mask[c][ry][rx] = 1 iff the sum of the region is at least T * n, where n is
/// the number of pixels in the region (smaller at the right and bottom edges).
pub fn predict_mask(fmap: &FeatureMap, region: usize, threshold: u32) -> Mask {
    assert!(region >= 1);
    let (rh, rw) = (fmap.h.div_ceil(region), fmap.w.div_ceil(region));
    let mut sums = vec![0u64; fmap.c * rh * rw];
    for c in 0..fmap.c {
        for y in 0..fmap.h {
            let row = &mut sums[(c * rh + y / region) * rw..][..rw];
            for x in 0..fmap.w {
                row[x / region] += u64::from(fmap.at(c, y, x));
            }
        }
    }
    let mut mask = Mask::filled(fmap.c, rh, rw, false);
    for c in 0..fmap.c {
        for ry in 0..rh {
            let n_y = (fmap.h.min((ry + 1) * region) - ry * region) as u64;
            for rx in 0..rw {
                let n_x = (fmap.w.min((rx + 1) * region) - rx * region) as u64;
                let sum = sums[(c * rh + ry) * rw + rx];
                mask.set(c, ry, rx, sum >= u64::from(threshold) * n_y * n_x);
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_regions_use_their_own_pixel_count() {
        // 5x3 map, R = 2: regions 3x2, the bottom ones 1 pixel high, the right
        // ones 1 pixel wide. Bottom-right region is the single pixel (4, 2).
        let mut m = FeatureMap::zeros(1, 5, 3);
        let set = |m: &mut FeatureMap, y: usize, x: usize, v: u32| m.data[y * 3 + x] = v;
        set(&mut m, 4, 2, 10); // alone in its region: mean 10
        set(&mut m, 4, 0, 10); // bottom-left region (4,0),(4,1): mean 5
        set(&mut m, 0, 2, 9); // right region (0,2),(1,2): mean 4.5
        let mask = predict_mask(&m, 2, 5);
        assert_eq!(mask.shape(), [1, 3, 2]);
        assert!(mask.at(0, 2, 1), "single-pixel corner region, mean 10 >= 5");
        assert!(mask.at(0, 2, 0), "bottom region, mean exactly 5 >= 5");
        assert!(!mask.at(0, 0, 1), "right region, mean 4.5 < 5");
        assert!(!mask.at(0, 0, 0));
        // one more unit makes the right region reach mean 5 exactly (sum 10 = 5 * 2)
        set(&mut m, 1, 2, 1);
        assert!(predict_mask(&m, 2, 5).at(0, 0, 1));
    }

    #[test]
    fn threshold_zero_and_above_max() {
        let m = FeatureMap::from_fn(3, 7, 6, |c, y, x| ((c * 31 + y * 7 + x * 3) % 256) as u32);
        for r in [1, 2, 4, 8, 16] {
            assert!(predict_mask(&m, r, 0).data.iter().all(|&b| b), "T=0 R={r}");
            assert!(
                predict_mask(&m, r, 256).data.iter().all(|&b| !b),
                "T=256 R={r}"
            );
        }
        // even an all-255 map is insensitive above the maximum
        let full = FeatureMap::from_fn(1, 5, 5, |_, _, _| 255);
        assert!(predict_mask(&full, 4, 255).data.iter().all(|&b| b));
        assert!(predict_mask(&full, 4, 256).data.iter().all(|&b| !b));
    }

    #[test]
    fn region_larger_than_map() {
        let m = FeatureMap::from_fn(2, 3, 2, |c, _, _| if c == 0 { 4 } else { 3 });
        let mask = predict_mask(&m, 16, 4);
        assert_eq!(mask.shape(), [2, 1, 1]);
        assert_eq!(mask.data, vec![true, false]);
    }
}
