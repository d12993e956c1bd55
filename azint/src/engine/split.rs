//! Per-pixel coefficient builders, ported from pyFAI's `splitBBox_common` (bounding box) and
//! `splitpixel_common` (full splitting) so that the matrices hold pyFAI's coefficients.

#![forbid(unsafe_code)]

use super::binning::{Axis, trunc_index};
use std::f64::consts::PI;

/// What a builder needs to know about one pixel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PixelGeom {
    /// Radial position of the centre.
    pub c0: f64,
    /// Azimuth of the centre, radians.
    pub c1: f64,
    /// Half-width (max centre–corner distance) radially; 0 without splitting.
    pub d0: f64,
    /// Half-width in azimuth, radians; 0 without splitting.
    pub d1: f64,
}

/// Output grid of one engine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub radial: Axis,
    /// `Some` for a 2D cake, or for 1D with an azimuthal range (only used as a filter).
    pub azimuth: Option<Axis>,
    pub two_d: bool,
}

/// Bounding-box (or, with zero half-widths, no) splitting of one pixel: pyFAI's
/// `calc_lut_1d` / `calc_lut_2d` of `SplitBBoxIntegrator`. Entries are pushed to `out`.
pub(crate) fn bbox_entries(g: &Grid, p: PixelGeom, out: &mut Vec<(u32, f32)>) {
    let r = &g.radial;
    if !g.two_d {
        if let Some(az) = &g.azimuth
            && (p.c1 + p.d1 < az.min || p.c1 - p.d1 > az.maxin)
        {
            return;
        }
        let f_min = r.fbin(p.c0 - p.d0);
        let f_max = r.fbin(p.c0 + p.d0);
        let bins = r.bins as i64;
        let (mut b_min, mut b_max) = (trunc_index(f_min), trunc_index(f_max));
        if b_max < 0 || b_min >= bins {
            return;
        }
        b_max = b_max.min(bins - 1);
        b_min = b_min.max(0);
        if b_min == b_max {
            out.push((b_min as u32, 1.0));
        } else {
            let inv_area = 1.0 / (f_max - f_min);
            let left = (b_min + 1) as f64 - f_min;
            out.push((b_min as u32, (inv_area * left) as f32));
            for b in b_min + 1..b_max {
                out.push((b as u32, inv_area as f32));
            }
            let right = f_max - b_max as f64;
            out.push((b_max as u32, (inv_area * right) as f32));
        }
        return;
    }
    let a = match &g.azimuth {
        Some(a) => a,
        None => return,
    };
    let (bins0, bins1) = (r.bins as i64, a.bins as i64);
    let f0_min = r.fbin(p.c0 - p.d0);
    let f0_max = r.fbin(p.c0 + p.d0);
    let f1_min = a.fbin(p.c1 - p.d1);
    let f1_max = a.fbin(p.c1 + p.d1);
    let (mut b0_min, mut b0_max) = (trunc_index(f0_min), trunc_index(f0_max));
    let (mut b1_min, mut b1_max) = (trunc_index(f1_min), trunc_index(f1_max));
    if b0_max < 0 || b0_min >= bins0 || b1_max < 0 || b1_min >= bins1 {
        return;
    }
    b0_max = b0_max.min(bins0 - 1);
    b0_min = b0_min.max(0);
    b1_max = b1_max.min(bins1 - 1);
    b1_min = b1_min.max(0);
    let idx = |i: i64, j: i64| (i * bins1 + j) as u32;
    let mut push = |i: i64, j: i64, c: f64| out.push((idx(i, j), c as f32));
    if b0_min == b0_max {
        if b1_min == b1_max {
            push(b0_min, b1_min, 1.0);
        } else {
            let down = (b1_min + 1) as f64 - f1_min;
            let up = f1_max - b1_max as f64;
            let inv = 1.0 / (f1_max - f1_min);
            push(b0_min, b1_min, inv * down);
            push(b0_min, b1_max, inv * up);
            for j in b1_min + 1..b1_max {
                push(b0_min, j, inv);
            }
        }
    } else if b1_min == b1_max {
        let inv = 1.0 / (f0_max - f0_min);
        let left = (b0_min + 1) as f64 - f0_min;
        push(b0_min, b1_min, inv * left);
        let right = f0_max - b0_max as f64;
        push(b0_max, b1_min, inv * right);
        for i in b0_min + 1..b0_max {
            push(i, b1_min, inv);
        }
    } else {
        let left = (b0_min + 1) as f64 - f0_min;
        let right = f0_max - b0_max as f64;
        let down = (b1_min + 1) as f64 - f1_min;
        let up = f1_max - b1_max as f64;
        let inv = 1.0 / ((f0_max - f0_min) * (f1_max - f1_min));
        push(b0_min, b1_min, inv * left * down);
        push(b0_min, b1_max, inv * left * up);
        push(b0_max, b1_min, inv * right * down);
        push(b0_max, b1_max, inv * right * up);
        for i in b0_min + 1..b0_max {
            push(i, b1_min, inv * down);
            for j in b1_min + 1..b1_max {
                push(i, j, inv);
            }
            push(i, b1_max, inv * up);
        }
        for j in b1_min + 1..b1_max {
            push(b0_min, j, inv * left);
            push(b0_max, j, inv * right);
        }
    }
}

/// Recentres the azimuth of the corners of a pixel that straddles the azimuthal
/// discontinuity, as pyFAI's `_recenter` does (it detects them by the sign of the pixel's
/// algebraic area; a straddling pixel is one whose corners span more than half a period).
pub(crate) fn recenter(corners: &mut [[f64; 2]; 4], disc_at_pi: bool) {
    let period = 2.0 * PI;
    let (lo, hi) = corners
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), c| {
            (l.min(c[1]), h.max(c[1]))
        });
    if hi - lo <= PI {
        return;
    }
    for c in corners.iter_mut() {
        if (disc_at_pi && c[1] < 0.0) || (!disc_at_pi && c[1] < 0.5 * period) {
            c[1] += period;
        }
    }
    let centre = 0.25 * corners.iter().map(|c| c[1]).sum::<f64>();
    let top = if disc_at_pi { 0.5 * period } else { period };
    if centre > top {
        for c in corners.iter_mut() {
            c[1] -= period;
        }
    }
}

#[inline]
fn calc_area(i1: f64, i2: f64, slope: f64, intercept: f64) -> f64 {
    (i2 - i1) * (0.5 * slope * (i2 + i1) + intercept)
}

/// pyFAI's `_integrate1d`: signed area under the segment, split over the unit columns of
/// `buffer` (float32 accumulation, as pyFAI's buffer).
fn integrate1d(buffer: &mut [f32], start0: f64, start1: f64, stop0: f64, stop1: f64) {
    if stop0 == start0 {
        return;
    }
    let size = buffer.len() as i64;
    let istart0 = start0.floor() as i64;
    let istop0 = stop0.floor() as i64;
    let slope = (stop1 - start1) / (stop0 - start0);
    let intercept = start1 - slope * start0;
    let mut add = |i: i64, v: f64| {
        if (0..size).contains(&i) {
            buffer[i as usize] += v as f32;
        }
    };
    if istop0 == istart0 && istart0 >= 0 && istart0 < size {
        add(istart0, calc_area(start0, stop0, slope, intercept));
    } else if stop0 > start0 {
        if 0.0 <= start0 && start0 < size as f64 {
            add(
                istart0,
                calc_area(start0, (start0 + 1.0).floor(), slope, intercept),
            );
        }
        for i in istart0.saturating_add(1).max(0)..istop0.min(size) {
            add(i, calc_area(i as f64, (i + 1) as f64, slope, intercept));
        }
        if (size as f64) > stop0 && stop0 >= 0.0 {
            add(istop0, calc_area(istop0 as f64, stop0, slope, intercept));
        }
    } else {
        if 0.0 <= start0 && start0 < size as f64 {
            add(istart0, calc_area(start0, istart0 as f64, slope, intercept));
        }
        let mut i = istart0.min(size).saturating_sub(1);
        let end = (stop0.floor() as i64).max(-1);
        while i > end {
            add(i, calc_area((i + 1) as f64, i as f64, slope, intercept));
            i -= 1;
        }
        if (size as f64) > stop0 && stop0 >= 0.0 {
            add(
                istop0,
                calc_area((stop0 + 1.0).floor(), stop0, slope, intercept),
            );
        }
    }
}

/// Scratch space of the full-splitting builder (one per thread).
#[derive(Default)]
pub(crate) struct FullScratch {
    buffer: Vec<f32>,
}

/// Full (area-weighted) splitting of one pixel in 1D: pyFAI's `FullSplitIntegrator.calc_lut_1d`.
/// `corners` are (radial, azimuth radians).
pub(crate) fn full_entries_1d(
    g: &Grid,
    corners: [[f64; 2]; 4],
    disc_at_pi: bool,
    scratch: &mut FullScratch,
    out: &mut Vec<(u32, f32)>,
) {
    let r = &g.radial;
    let bins = r.bins;
    let mut v = corners;
    recenter(&mut v, disc_at_pi);
    let a0 = r.fbin(v[0][0]);
    let b0 = r.fbin(v[1][0]);
    let c0 = r.fbin(v[2][0]);
    let d0 = r.fbin(v[3][0]);
    let (a1, b1, c1, d1) = (v[0][1], v[1][1], v[2][1], v[3][1]);
    let min0 = a0.min(b0).min(c0).min(d0);
    let max0 = a0.max(b0).max(c0).max(d0);
    if !(min0.is_finite() && max0.is_finite()) || max0 < 0.0 || min0 >= bins as f64 {
        return;
    }
    if let Some(az) = &g.azimuth {
        let min1 = a1.min(b1).min(c1).min(d1);
        let max1 = a1.max(b1).max(c1).max(d1);
        if max1 < az.min || min1 > az.maxin {
            return;
        }
    }
    let mut bin0_min = min0.floor() as i64;
    let mut bin0_max = max0.floor() as i64;
    if bin0_min == bin0_max {
        out.push((bin0_min as u32, 1.0));
        return;
    }
    bin0_min = bin0_min.max(0);
    bin0_max = bin0_max.saturating_add(1).min(bins as i64);
    if scratch.buffer.len() != bins {
        scratch.buffer = vec![0.0; bins];
    }
    let buf = &mut scratch.buffer;
    integrate1d(buf, a0, a1, b0, b1);
    integrate1d(buf, b0, b1, c0, c1);
    integrate1d(buf, c0, c1, d0, d1);
    integrate1d(buf, d0, d1, a0, a1);
    let range = bin0_min as usize..bin0_max as usize;
    let sum_area: f64 = buf[range.clone()].iter().map(|&x| x as f64).sum();
    if sum_area != 0.0 && sum_area.is_finite() {
        let inv = 1.0 / sum_area;
        for b in range.clone() {
            out.push((b as u32, (buf[b] as f64 * inv) as f32));
        }
    }
    for x in &mut buf[range] {
        *x = 0.0;
    }
}

/// pyFAI's `_integrate2d`: the area under the segment is poured into the cells of each
/// column from the bottom row up (float32 arithmetic, as pyFAI).
fn integrate2d(bx: &mut [f32], ncol: usize, start0: f64, start1: f64, stop0: f64, stop1: f64) {
    if start0 == stop0 {
        return;
    }
    let nrow = bx.len() / ncol;
    let slope = ((stop1 - start1) / (stop0 - start0)) as f32;
    let intercept = (stop1 - slope as f64 * stop0) as f32;
    let (slope, intercept) = (slope as f64, intercept as f64);
    let mut pour = |row: i64, seg: f64, mut da: f32| {
        if seg == 0.0 || row < 0 || row as usize >= nrow {
            return;
        }
        let mut abs_area = (seg as f32).abs();
        let mut h = 0usize;
        while abs_area > 0.0 && h < ncol {
            if da > abs_area {
                da = abs_area;
                abs_area = -1.0;
            }
            bx[row as usize * ncol + h] += da.copysign(seg as f32);
            abs_area -= da;
            h += 1;
        }
    };
    if start0 < stop0 {
        let p = start0.ceil() as f32 as f64;
        let dp = (p - start0) as f32;
        if p > stop0 {
            let seg = calc_area(start0, stop0, slope, intercept);
            pour(start0 as i64, seg, (stop0 - start0) as f32);
        } else {
            if dp > 0.0 {
                let seg = calc_area(start0, p, slope, intercept);
                pour(p as i64 - 1, seg, dp);
            }
            for i in p.floor() as i64..stop0.floor() as i64 {
                let seg = calc_area(i as f64, (i + 1) as f64, slope, intercept);
                pour(i, seg, 1.0);
            }
            let p = stop0.floor();
            let dp = (stop0 - p) as f32;
            if dp > 0.0 {
                let seg = calc_area(p, stop0, slope, intercept);
                pour(p as i64, seg, dp.abs());
            }
        }
    } else {
        let p = start0.floor();
        if stop0 > p {
            let seg = calc_area(start0, stop0, slope, intercept);
            pour(start0 as i64, seg, (start0 - stop0) as f32);
        } else {
            let dp = (p - start0) as f32;
            if dp < 0.0 {
                let seg = calc_area(start0, p, slope, intercept);
                pour(p as i64, seg, dp.abs());
            }
            let mut i = start0 as i64;
            let end = stop0.ceil() as i64;
            while i > end {
                let seg = calc_area(i as f64, (i - 1) as f64, slope, intercept);
                pour(i - 1, seg, 1.0);
                i -= 1;
            }
            let p = stop0.ceil();
            let dp = (stop0 - p) as f32;
            if dp < 0.0 {
                let seg = calc_area(p, stop0, slope, intercept);
                pour(stop0 as i64, seg, dp.abs());
            }
        }
    }
}

/// Full splitting of one pixel on a 2D cake: pyFAI's `FullSplitIntegrator.calc_lut_2d`.
pub(crate) fn full_entries_2d(
    g: &Grid,
    corners: [[f64; 2]; 4],
    disc_at_pi: bool,
    scratch: &mut FullScratch,
    out: &mut Vec<(u32, f32)>,
) {
    let r = &g.radial;
    let az = match &g.azimuth {
        Some(a) => a,
        None => return,
    };
    let mut v = corners;
    recenter(&mut v, disc_at_pi);
    let min0 = v.iter().map(|c| c[0]).fold(f64::INFINITY, f64::min);
    let max0 = v.iter().map(|c| c[0]).fold(f64::NEG_INFINITY, f64::max);
    let min1 = v.iter().map(|c| c[1]).fold(f64::INFINITY, f64::min);
    let max1 = v.iter().map(|c| c[1]).fold(f64::NEG_INFINITY, f64::max);
    if !(min0.is_finite() && max0.is_finite() && min1.is_finite() && max1.is_finite()) {
        return;
    }
    if max0 < r.min || min0 > r.maxin || max1 < az.min || min1 >= az.max {
        return;
    }
    let clip = |x: f64, lo: f64, hi: f64| {
        if x < lo {
            lo
        } else if x > hi {
            hi
        } else {
            x
        }
    };
    let mut p = [[0.0f64; 2]; 4];
    for (dst, src) in p.iter_mut().zip(&v) {
        dst[0] = r.fbin(clip(src[0], r.min, r.maxin));
        dst[1] = az.fbin(clip(src[1], az.min, az.maxin));
    }
    let min0 = p.iter().map(|c| c[0]).fold(f64::INFINITY, f64::min);
    let max0 = p.iter().map(|c| c[0]).fold(f64::NEG_INFINITY, f64::max);
    let min1 = p.iter().map(|c| c[1]).fold(f64::INFINITY, f64::min);
    let max1 = p.iter().map(|c| c[1]).fold(f64::NEG_INFINITY, f64::max);
    let foff0 = min0.floor();
    let foff1 = min1.floor();
    let (ioff0, ioff1) = (foff0 as i64, foff1 as i64);
    let w0 = (max0.ceil() - foff0) as usize;
    let w1 = (max1.ceil() - foff1) as usize;
    let ncol = w1 + 1;
    let need = (w0 + 1) * ncol;
    scratch.buffer.clear();
    scratch.buffer.resize(need, 0.0);
    for c in p.iter_mut() {
        c[0] -= foff0;
        c[1] -= foff1;
    }
    let bx = &mut scratch.buffer;
    for k in 0..4 {
        let (s, e) = (p[k], p[(k + 1) % 4]);
        integrate2d(bx, ncol, s[0], s[1], e[0], e[1]);
    }
    let mut sum_area = 0.0f64;
    for i in 0..w0 {
        for j in 0..w1 {
            sum_area += bx[i * ncol + j] as f64;
        }
    }
    if sum_area == 0.0 || !sum_area.is_finite() {
        return;
    }
    let inv = 1.0 / sum_area;
    let (bins0, bins1) = (r.bins as i64, az.bins as i64);
    for i in 0..w0 {
        for j in 0..w1 {
            let (bi, bj) = (ioff0 + i as i64, ioff1 + j as i64);
            if bi < 0 || bi >= bins0 || bj < 0 || bj >= bins1 {
                continue;
            }
            out.push((
                (bi * bins1 + bj) as u32,
                (bx[i * ncol + j] as f64 * inv) as f32,
            ));
        }
    }
}
