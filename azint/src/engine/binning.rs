//! Bin ranges, edges and centres exactly as pyFAI computes them.
//!
//! pyFAI takes the range of the statically valid pixels (centres ± half-width for bounding-box
//! splitting, corners for full splitting), clamps the radial minimum at 0, nudges the upper
//! bound up by one float32 epsilon (`calc_upper_bound`) so the largest pixel falls inside the
//! last bin, and puts the bin centres at the bin middles with `numpy.linspace`.

#![forbid(unsafe_code)]

use std::f64::consts::PI;

/// `1 + float32 epsilon`, pyFAI's `EPS32`.
pub(crate) const EPS32: f64 = 1.0 + f32::EPSILON as f64;

/// pyFAI's `calc_upper_bound`: the maximum nudged up by a float32 epsilon.
pub(crate) fn calc_upper_bound(maximum: f64) -> f64 {
    if maximum > 0.0 {
        maximum * EPS32
    } else {
        maximum / EPS32
    }
}

/// `numpy.linspace(start, stop, n)` with numpy's arithmetic (step multiply, exact last point).
pub(crate) fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![start];
    }
    let div = (n - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut out: Vec<f64> = if step == 0.0 {
        (0..n).map(|i| (i as f64 / div) * delta + start).collect()
    } else {
        (0..n).map(|i| i as f64 * step + start).collect()
    };
    out[n - 1] = stop;
    out
}

/// One axis of the output grid: `bins` bins from `min` (inclusive) to `max` (exclusive), with
/// `maxin` the largest value before the nudge (pyFAI's `pos0_maxin`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Axis {
    pub min: f64,
    pub maxin: f64,
    pub max: f64,
    pub delta: f64,
    pub bins: usize,
}

impl Axis {
    pub(crate) fn new(min: f64, maxin: f64, bins: usize) -> Axis {
        let max = calc_upper_bound(maxin);
        Axis {
            min,
            maxin,
            max,
            delta: (max - min) / bins as f64,
            bins,
        }
    }

    /// Fractional bin number of a position (pyFAI's `get_bin_number`).
    #[inline]
    pub(crate) fn fbin(&self, x: f64) -> f64 {
        (x - self.min) / self.delta
    }

    /// Bin centres, as pyFAI's `bin_centers`.
    pub(crate) fn centres(&self) -> Vec<f64> {
        linspace(
            self.min + 0.5 * self.delta,
            self.max - 0.5 * self.delta,
            self.bins,
        )
    }
}

/// Running min/max over the valid pixels, seeded like pyFAI (first valid pixel) so that an
/// all-masked map gives `None`.
#[derive(Default, Clone, Copy)]
pub(crate) struct MinMax {
    pub lo: f64,
    pub hi: f64,
    pub seen: bool,
}

impl MinMax {
    #[inline]
    pub(crate) fn add(&mut self, lo: f64, hi: f64) {
        if !self.seen {
            self.lo = lo;
            self.hi = hi;
            self.seen = true;
        } else {
            self.lo = self.lo.min(lo);
            self.hi = self.hi.max(hi);
        }
    }
}

/// Clip an azimuthal range to one period, as pyFAI does when the azimuth is periodic. pyFAI
/// clips with its float32 `pi` (slightly above π), which shows in the bin centres.
pub(crate) fn clip_azimuth(lo: f64, hi: f64, disc_at_pi: bool) -> (f64, f64) {
    let pi32 = PI as f32 as f64;
    if disc_at_pi {
        (lo.max(-pi32), hi.min(pi32))
    } else {
        (lo.max(0.0), hi.min(2.0 * pi32))
    }
}

/// Truncation toward zero, as the C cast `<Py_ssize_t> x` that pyFAI's bounding-box builders use.
#[inline]
pub(crate) fn trunc_index(x: f64) -> i64 {
    x as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy_shape() {
        let v = linspace(0.5, 9.5, 10);
        assert_eq!(v.len(), 10);
        assert_eq!(v[0], 0.5);
        assert_eq!(v[9], 9.5);
        assert!((v[4] - 4.5).abs() < 1e-15);
        assert_eq!(linspace(1.0, 2.0, 1), vec![1.0]);
    }

    #[test]
    fn upper_bound_is_above() {
        assert!(calc_upper_bound(3.0) > 3.0);
        assert!(calc_upper_bound(-3.0) > -3.0);
        assert_eq!(calc_upper_bound(0.0), 0.0);
    }

    #[test]
    fn trunc_goes_toward_zero() {
        assert_eq!(trunc_index(-0.7), 0);
        assert_eq!(trunc_index(-1.2), -1);
        assert_eq!(trunc_index(2.9), 2);
    }
}
