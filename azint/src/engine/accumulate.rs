//! Per-frame accumulation (the hot loops) and the final division into a [`Pattern`].
//!
//! ## No splitting, integer frames
//! Each pixel adds its value to its bin's `i64` (exact: no overflow below 2³² pixels). The
//! Poisson variance Σmax(v, 1) = Σv + Σmax(1 − v, 0) needs a correction only for values
//! below 1, which also are the only candidates for dummies: one predictable compare sends
//! those rare pixels to a side path. Two copies of the histogram (even/odd pixels) break the
//! store-to-load chains of neighbouring pixels that fall in the same bin, and `u16` bin
//! indices address 65 536-slot histograms, which needs no bounds check.
//!
//! ## Splitting
//! The CSC matrix is scattered: `signal[b] += c·v`, `variance[b] += c²·max(v, 1)` in f64.
//!
//! ## Rejected pixels
//! Pixels whose raw value is a dummy are not added; their index is recorded and
//! [`Engine::finish`] sums the frame-independent quantities (count, normalization,
//! normalization², dark) of the bins they touch again without them.

use super::sparse::Runs;
use super::{DummyTest, Engine, ErrorModel, Kernel};
use crate::Error;

/// The running sums of one frame. Create with [`Engine::new_accumulator`], feed with
/// [`Engine::add_block`] / [`Engine::add_block_f32`], read with [`Engine::finish`]; reuse
/// with [`Accumulator::reset`].
#[derive(Clone, Debug)]
pub struct Accumulator {
    /// Integer histograms Σv (no splitting), two interleaved copies.
    hist: [Vec<i64>; 2],
    /// Σmax(1 − v, 0) of the valid pixels below 1 (no splitting).
    corr: Vec<i64>,
    /// Float sums (splitting, or float frames): (signal, variance) per bin.
    sums_f: Vec<[f64; 2]>,
    /// Compact 1D scatter: Σc·v and Σc²·max(v, 1) in separate arrays, two copies (pixel
    /// parity) so that neighbouring pixels, which share bins, update different memory.
    sig4: [Vec<f64>; 2],
    var4: [Vec<f64>; 2],
    /// Pixels rejected by the dummy test.
    rejected: Vec<u32>,
    /// Raw frame kept for the azimuthal error model (NaN where not given).
    raw: Vec<f32>,
    pixels_added: usize,
}

impl Accumulator {
    /// Clears the sums for the next frame, keeping the allocations.
    pub fn reset(&mut self) {
        for h in &mut self.hist {
            h.fill(0);
        }
        self.corr.fill(0);
        self.sums_f.fill([0.0; 2]);
        for v in self.sig4.iter_mut().chain(self.var4.iter_mut()) {
            v.fill(0.0);
        }
        self.rejected.clear();
        self.raw.fill(f32::NAN);
        self.pixels_added = 0;
    }

    /// Number of pixels added so far.
    pub fn pixels_added(&self) -> usize {
        self.pixels_added
    }
}

/// The integrated pattern of one frame: pyFAI's `Integrate1dResult` / `Integrate2dResult`.
///
/// In 2D the per-bin vectors are row-major with the azimuthal bin as the row, as pyFAI's
/// `(npt_azim, npt_rad)` arrays: entry `[a * radial.len() + r]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// Radial bin centres (pixel map's unit).
    pub radial: Vec<f64>,
    /// Azimuthal bin centres in degrees (2D).
    pub azimuthal: Option<Vec<f64>>,
    /// Σsignal / Σnorm, 0 for empty bins.
    pub intensity: Vec<f64>,
    /// Standard error of the mean, √Σvariance / Σnorm.
    pub sigma: Vec<f64>,
    /// Standard deviation, √(Σvariance / Σnorm²).
    pub std: Vec<f64>,
    /// Σ c·(raw − dark).
    pub sum_signal: Vec<f64>,
    /// Σ c²·variance.
    pub sum_variance: Vec<f64>,
    /// Σ c·norm (normalization factor included).
    pub sum_normalization: Vec<f64>,
    /// Σ (c·norm)².
    pub sum_normalization2: Vec<f64>,
    /// Σ c over valid pixels.
    pub count: Vec<f64>,
}

/// A pixel value type the engine accepts.
pub trait PixelValue: Copy + Send + Sync {
    /// As float32, the type pyFAI processes frames in.
    fn to_f32(self) -> f32;
    /// As f64 (exact for i32).
    fn to_f64(self) -> f64;
}
impl PixelValue for i32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}
impl PixelValue for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// Rejected-range test in integers: `v` in `lo..=hi` ⇔ `(v − lo) as u32 <= hi − lo`.
#[derive(Clone, Copy)]
struct IntReject {
    lo: i32,
    span: u32,
}

impl IntReject {
    fn new(d: Option<&DummyTest>) -> Option<IntReject> {
        let (lo, hi) = d?.int_range?;
        Some(IntReject {
            lo,
            span: (hi as i64 - lo as i64) as u32,
        })
    }
    #[inline(always)]
    fn rejects(self, v: i32) -> bool {
        (v.wrapping_sub(self.lo) as u32) <= self.span
    }
}

/// The rare path of a no-split integer pixel (value below 1, or any value when the dummy range
/// reaches 1 or above): dummy or Poisson correction.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn hist_low(
    b: usize,
    v: i32,
    p: usize,
    trash: usize,
    rej: Option<IntReject>,
    h: &mut [i64],
    corr: &mut [i64],
    rejected: &mut Vec<u32>,
) {
    if b >= trash {
        return;
    }
    if rej.is_some_and(|r| r.rejects(v)) {
        rejected.push(p as u32);
    } else {
        h[b] = h[b].wrapping_add(v as i64);
        corr[b] = corr[b].wrapping_add((1 - v as i64).max(0));
    }
}

/// [`hist16`] when zero itself is a dummy value: every value below 1 takes the checked path.
#[allow(clippy::too_many_arguments)]
fn hist16_checked(
    idx: &[u16],
    px: &[i32],
    first: usize,
    trash: usize,
    rej: Option<IntReject>,
    h0: &mut [i64; 65536],
    h1: &mut [i64; 65536],
    corr: &mut [i64; 65536],
    rejected: &mut Vec<u32>,
) {
    for (k, (&b, &v)) in idx.iter().zip(px).enumerate() {
        let h = if k % 2 == 0 { &mut *h0 } else { &mut *h1 };
        if v >= 1 {
            h[b as usize] = h[b as usize].wrapping_add(v as i64);
        } else {
            hist_low(b as usize, v, first + k, trash, rej, h, corr, rejected);
        }
    }
}

/// No-split histogram of one block with `u16` bin indices (65 536-slot histograms: no bounds
/// checks in the hot path).
fn hist16(
    idx: &[u16],
    px: &[i32],
    first: usize,
    trash: usize,
    rej: Option<IntReject>,
    acc: &mut Accumulator,
) {
    let [h0, h1] = &mut acc.hist;
    let (Ok(h0), Ok(h1)) = (
        <&mut [i64; 65536]>::try_from(h0.as_mut_slice()),
        <&mut [i64; 65536]>::try_from(h1.as_mut_slice()),
    ) else {
        return;
    };
    let Ok(corr) = <&mut [i64; 65536]>::try_from(acc.corr.as_mut_slice()) else {
        return;
    };
    let rejected = &mut acc.rejected;
    let n = px.len().min(idx.len());
    let (idx, px) = (&idx[..n], &px[..n]);
    if rej.is_some_and(|r| r.rejects(0)) {
        // Zero is a dummy value: zeros must be rejected, so every value below 1 is checked.
        hist16_checked(idx, px, first, trash, rej, h0, h1, corr, rejected);
        return;
    }
    if rej.is_some_and(|r| r.lo as i64 + r.span as i64 >= 1) {
        // Dummies among positive values (e.g. 65535): every pixel takes the checked path.
        for (k, (&b, &v)) in idx.iter().zip(px).enumerate() {
            hist_low(b as usize, v, first + k, trash, rej, h0, corr, rejected);
        }
        return;
    }
    // Four interleaved streams a quarter of the block apart (different rows, hence different
    // bins), alternating between the two copies: the read-modify-write of a bin rarely
    // depends on the one just before.
    //
    // Zero counts are common (weak background, beamstop shadow) and interleave unpredictably
    // with positive ones, so every value ≥ 0 takes the same branch-free update: Σv, and the
    // Poisson correction max(1 − v, 0) = [v = 0] counted beside it. Only negative values
    // (gaps, dummies; they come in runs) take the side path.
    let q = n / 4;
    let mut one = |h: &mut [i64; 65536], k: usize| {
        let (b, v) = (idx[k] as usize, px[k]);
        if v >= 0 {
            h[b] = h[b].wrapping_add(v as i64);
            corr[b] += (v == 0) as i64;
        } else {
            hist_low(b, v, first + k, trash, rej, h, corr, rejected);
        }
    };
    for k in 0..q {
        one(h0, k);
        one(h1, k + q);
        one(h0, k + 2 * q);
        one(h1, k + 3 * q);
    }
    for k in 4 * q..n {
        one(h0, k);
    }
}

/// Scatter of one block through the compact 1D layout: every pixel adds its (zero-padded)
/// 4 coefficients to 4 consecutive bins without a data-dependent loop; wider pixels take the
/// variable-length path. Four interleaved streams a quarter of the block apart keep
/// consecutive updates of a bin (neighbouring pixels share bins) apart in time.
fn scatter_runs(
    runs: &Runs,
    pixels: &[i32],
    first: usize,
    rej: Option<IntReject>,
    var: bool,
    acc: &mut Accumulator,
) {
    let n = pixels.len();
    let (start, len) = (&runs.start[first..first + n], &runs.len[first..first + n]);
    let coefs4 = &runs.coefs4[first..first + n];
    let sums = &mut acc.sums_f;
    let [sig_a, sig_b] = &mut acc.sig4;
    let [var_a, var_b] = &mut acc.var4;
    let mut sig4 = [sig_a.as_mut_slice(), sig_b.as_mut_slice()];
    let mut var4 = [var_a.as_mut_slice(), var_b.as_mut_slice()];
    let rejected = &mut acc.rejected;
    let mut one = |k: usize| {
        let (v, s, l) = (pixels[k], start[k] as usize, len[k] as usize);
        if rej.is_some_and(|r| r.rejects(v)) {
            if l != 0 {
                rejected.push((first + k) as u32);
            }
            return;
        }
        let (vf, vv) = (v as f64, v.max(1) as f64);
        if l <= 4 {
            let c4 = coefs4[k].map(|c| c as f64);
            let par = (first + k) & 1;
            let Some(dst) = sig4[par].get_mut(s..s + 4) else {
                return;
            };
            for (d, &c) in dst.iter_mut().zip(&c4) {
                *d += c * vf;
            }
            if var {
                let Some(dst) = var4[par].get_mut(s..s + 4) else {
                    return;
                };
                for (d, &c) in dst.iter_mut().zip(&c4) {
                    *d += c * c * vv;
                }
            }
        } else {
            let off = runs.offset_of(first + k);
            let (Some(dst), Some(cs)) = (sums.get_mut(s..s + l), runs.coefs.get(off..off + l))
            else {
                return;
            };
            for (d, &c) in dst.iter_mut().zip(cs) {
                let c = c as f64;
                d[0] += c * vf;
                d[1] += if var { c * c * vv } else { 0.0 };
            }
        }
    };
    let q = n / 4;
    for k in 0..q {
        one(k);
        one(k + q);
        one(k + 2 * q);
        one(k + 3 * q);
    }
    for k in 4 * q..n {
        one(k);
    }
}

impl Engine {
    /// A zeroed accumulator sized for this engine.
    pub fn new_accumulator(&self) -> Accumulator {
        let slots = self.n_bins + 1;
        let (hist, ints, floats) = match &self.kernel {
            // 65 536 correction slots too: zero-count pixels of any bin (trash included) are
            // counted in the hot loop without a bounds check; finish reads the real bins only.
            Kernel::Histogram(super::BinIndex::U16(_)) => {
                ([vec![0; 65536], vec![0; 65536]], 65536, slots)
            }
            Kernel::Histogram(super::BinIndex::U32(_)) => {
                ([vec![0; slots], Vec::new()], slots, slots)
            }
            Kernel::Sparse(_) => ([Vec::new(), Vec::new()], 0, slots),
        };
        let raw = if self.error_model == ErrorModel::Azimuthal {
            vec![f32::NAN; self.n_pixels]
        } else {
            Vec::new()
        };
        Accumulator {
            hist,
            corr: vec![0; ints],
            sums_f: vec![[0.0; 2]; floats + 4],
            sig4: [vec![0.0; floats + 4], vec![0.0; floats + 4]],
            var4: [vec![0.0; floats + 4], vec![0.0; floats + 4]],
            rejected: Vec::new(),
            raw,
            pixels_added: 0,
        }
    }

    fn check_block(&self, acc: &Accumulator, first: usize, len: usize) -> Result<(), Error> {
        if first.checked_add(len).is_none_or(|end| end > self.n_pixels) {
            return Err(Error::Invalid(
                "pixel block extends past the end of the frame",
            ));
        }
        if acc.sums_f.len() != self.n_bins + 5
            || (self.error_model == ErrorModel::Azimuthal && acc.raw.len() != self.n_pixels)
        {
            return Err(Error::Invalid("accumulator was made by another engine"));
        }
        Ok(())
    }

    /// Adds a block of integer pixels `first_pixel .. first_pixel + pixels.len()` (row-major
    /// index) to the frame's sums. Blocks may come in any order and size; each pixel must be
    /// added exactly once per frame.
    pub fn add_block(
        &self,
        acc: &mut Accumulator,
        first_pixel: usize,
        pixels: &[i32],
    ) -> Result<(), Error> {
        self.check_block(acc, first_pixel, pixels.len())?;
        acc.pixels_added += pixels.len();
        if self.error_model == ErrorModel::Azimuthal {
            for (dst, &v) in acc.raw[first_pixel..].iter_mut().zip(pixels) {
                *dst = v as f32;
            }
            return Ok(());
        }
        let trash = self.n_bins;
        let rej = IntReject::new(self.dummy.as_ref());
        match &self.kernel {
            Kernel::Histogram(index) => match index {
                super::BinIndex::U16(idx) => {
                    let idx = &idx[first_pixel..first_pixel + pixels.len()];
                    hist16(idx, pixels, first_pixel, trash, rej, acc);
                }
                super::BinIndex::U32(idx) => {
                    let idx = &idx[first_pixel..first_pixel + pixels.len()];
                    let [h, _] = &mut acc.hist;
                    for (k, (&b, &v)) in idx.iter().zip(pixels).enumerate() {
                        let b = b as usize;
                        if v >= 1 && !rej.is_some_and(|r| r.rejects(v)) {
                            if let Some(slot) = h.get_mut(b) {
                                *slot = slot.wrapping_add(v as i64);
                            }
                        } else {
                            hist_low(
                                b,
                                v,
                                first_pixel + k,
                                trash,
                                rej,
                                h,
                                &mut acc.corr,
                                &mut acc.rejected,
                            );
                        }
                    }
                }
            },
            Kernel::Sparse(_) if self.runs.is_some() => {
                if let Some(runs) = &self.runs {
                    scatter_runs(
                        runs,
                        pixels,
                        first_pixel,
                        rej,
                        self.error_model == ErrorModel::Poisson,
                        acc,
                    );
                }
            }
            Kernel::Sparse(csc) => {
                let var = self.error_model == ErrorModel::Poisson;
                let sums = &mut acc.sums_f;
                for (k, &v) in pixels.iter().enumerate() {
                    let p = first_pixel + k;
                    let (a, b) = (csc.ptr[p] as usize, csc.ptr[p + 1] as usize);
                    if a == b {
                        continue;
                    }
                    if rej.is_some_and(|r| r.rejects(v)) {
                        acc.rejected.push(p as u32);
                        continue;
                    }
                    let (vf, vv) = (v as f64, v.max(1) as f64);
                    let (bins, coefs) = (&csc.bins[a..b], &csc.coefs[a..b]);
                    if var {
                        for (&bin, &c) in bins.iter().zip(coefs) {
                            let c = c as f64;
                            if let Some(s) = sums.get_mut(bin as usize) {
                                s[0] += c * vf;
                                s[1] += c * c * vv;
                            }
                        }
                    } else {
                        for (&bin, &c) in bins.iter().zip(coefs) {
                            if let Some(s) = sums.get_mut(bin as usize) {
                                s[0] += c as f64 * vf;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds a block of float pixels (NaN and ±inf are invalid, as in pyFAI).
    pub fn add_block_f32(
        &self,
        acc: &mut Accumulator,
        first_pixel: usize,
        pixels: &[f32],
    ) -> Result<(), Error> {
        self.check_block(acc, first_pixel, pixels.len())?;
        acc.pixels_added += pixels.len();
        if self.error_model == ErrorModel::Azimuthal {
            acc.raw[first_pixel..first_pixel + pixels.len()].copy_from_slice(pixels);
            return Ok(());
        }
        let var = self.error_model == ErrorModel::Poisson;
        let dummy = self.dummy;
        let invalid = |v: f32| !v.is_finite() || dummy.is_some_and(|d| d.rejects(v));
        let sums = &mut acc.sums_f;
        match &self.kernel {
            Kernel::Histogram(index) => {
                for (k, &v) in pixels.iter().enumerate() {
                    let p = first_pixel + k;
                    let Some(b) = index.get(p, self.n_bins) else {
                        continue;
                    };
                    if invalid(v) {
                        acc.rejected.push(p as u32);
                        continue;
                    }
                    let s = &mut sums[b];
                    s[0] += v as f64;
                    if var {
                        s[1] += v.max(1.0) as f64;
                    }
                }
            }
            Kernel::Sparse(csc) => {
                for (k, &v) in pixels.iter().enumerate() {
                    let p = first_pixel + k;
                    let (a, b) = (csc.ptr[p] as usize, csc.ptr[p + 1] as usize);
                    if a == b {
                        continue;
                    }
                    if invalid(v) {
                        acc.rejected.push(p as u32);
                        continue;
                    }
                    let (vf, vv) = (v as f64, v.max(1.0) as f64);
                    for (&bin, &c) in csc.bins[a..b].iter().zip(&csc.coefs[a..b]) {
                        let c = c as f64;
                        if let Some(s) = sums.get_mut(bin as usize) {
                            s[0] += c * vf;
                            s[1] += c * c * vv;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Divides the sums into a pattern. `normalization_factor` (monitor) multiplies every
    /// pixel's normalization. Errors when the accumulator did not receive exactly one frame's
    /// worth of pixels.
    pub fn finish(&self, acc: &Accumulator, normalization_factor: f64) -> Result<Pattern, Error> {
        if acc.pixels_added != self.n_pixels {
            return Err(Error::Invalid(
                "accumulator did not receive exactly one frame of pixels",
            ));
        }
        if acc.sums_f.len() != self.n_bins + 5 {
            return Err(Error::Invalid("accumulator was made by another engine"));
        }
        if !normalization_factor.is_finite() || normalization_factor == 0.0 {
            return Err(Error::Invalid(
                "normalization factor must be finite and non-zero",
            ));
        }
        if self.error_model == ErrorModel::Azimuthal {
            let pre = self.preprocess(&acc.raw, normalization_factor);
            return Ok(self.csr_integrate(&pre, true));
        }
        let nb = self.n_bins;
        let nf = normalization_factor;
        let mut signal = vec![0.0f64; nb];
        let mut variance = vec![0.0f64; nb];
        match &self.kernel {
            Kernel::Histogram(_) => {
                for b in 0..nb {
                    let s_all =
                        acc.hist[0][b].wrapping_add(acc.hist[1].get(b).copied().unwrap_or(0));
                    let v_all = s_all.wrapping_add(acc.corr[b]);
                    signal[b] = s_all as f64 + acc.sums_f[b][0];
                    variance[b] = v_all as f64 + acc.sums_f[b][1];
                }
            }
            Kernel::Sparse(_) => {
                for b in 0..nb {
                    signal[b] = acc.sums_f[b][0] + acc.sig4[0][b] + acc.sig4[1][b];
                    variance[b] = acc.sums_f[b][1] + acc.var4[0][b] + acc.var4[1][b];
                }
            }
        }
        self.finish_sums(&signal, &variance, &acc.rejected, nf)
    }

    /// The pattern from one frame's per-bin signal and variance sums (CPU or GPU): the
    /// engine's frame-independent sums, re-summed without the `rejected` pixels where any,
    /// `nf` (monitor) multiplying every normalization.
    pub(crate) fn finish_sums(
        &self,
        signal: &[f64],
        variance: &[f64],
        rejected: &[u32],
        nf: f64,
    ) -> Result<Pattern, Error> {
        let nb = self.n_bins;
        if signal.len() != nb || variance.len() != nb {
            return Err(Error::Invalid("sums were made for another engine"));
        }
        // Static sums; the bins that lost rejected pixels are summed again without them, in
        // the same order (subtracting would cancel badly when most of a bin is rejected).
        let mut count = self.static_count.clone();
        let mut norm = self.static_norm.clone();
        let mut norm2 = self.static_norm2.clone();
        let mut dark = self.static_dark.clone();
        let mut entries = self.static_entries.clone();
        if !rejected.is_empty() {
            let mut is_rejected = vec![0u64; self.n_pixels.div_ceil(64)];
            let mut touched = vec![false; nb];
            for &p in rejected {
                let p = p as usize;
                if p >= self.n_pixels {
                    return Err(Error::Invalid("a rejected pixel lies past the frame"));
                }
                is_rejected[p / 64] |= 1 << (p % 64);
                match &self.kernel {
                    Kernel::Histogram(index) => {
                        if let Some(b) = index.get(p, nb) {
                            touched[b] = true;
                        }
                    }
                    Kernel::Sparse(csc) => {
                        for k in csc.ptr[p] as usize..csc.ptr[p + 1] as usize {
                            touched[csc.bins[k] as usize] = true;
                        }
                    }
                }
            }
            for b in (0..nb).filter(|&b| touched[b]) {
                let (mut c_s, mut n_s, mut n2_s, mut d_s, mut e_s) = (0.0, 0.0, 0.0, 0.0, 0u32);
                for (p, c) in self.csr.row(b) {
                    if is_rejected[p / 64] & (1 << (p % 64)) != 0 {
                        continue;
                    }
                    let c = c as f64;
                    let w = c * self.norm[p];
                    c_s += c;
                    n_s += w;
                    n2_s += w * w;
                    if let Some(d) = &self.dark {
                        d_s += c * d[p] as f64;
                    }
                    e_s += 1;
                }
                (count[b], norm[b], norm2[b], dark[b], entries[b]) = (c_s, n_s, n2_s, d_s, e_s);
            }
        }
        let with_var = self.error_model == ErrorModel::Poisson;
        let mut out = self.empty_pattern();
        for b in 0..nb {
            if entries[b] == 0 || norm2[b] <= 0.0 {
                continue;
            }
            let s = signal[b] - dark[b];
            let n = norm[b] * nf;
            let n2 = norm2[b] * nf * nf;
            let v = if with_var { variance[b] } else { 0.0 };
            let o = self.out_index(b);
            out.sum_signal[o] = s;
            out.sum_variance[o] = v;
            out.sum_normalization[o] = n;
            out.sum_normalization2[o] = n2;
            out.count[o] = count[b];
            out.intensity[o] = s / n;
            if with_var {
                out.sigma[o] = v.sqrt() / n;
                out.std[o] = (v / n2).sqrt();
            }
        }
        Ok(out)
    }

    /// Position in the output arrays of flat bin `b` (2D: transposed to azimuth-major).
    pub(crate) fn out_index(&self, b: usize) -> usize {
        match self.azimuthal_bins {
            Some(na) => {
                let (r, a) = (b / na, b % na);
                a * self.radial_bins + r
            }
            None => b,
        }
    }

    pub(crate) fn empty_pattern(&self) -> Pattern {
        let nb = self.n_bins;
        Pattern {
            radial: self.radial.clone(),
            azimuthal: self.azimuthal.clone(),
            intensity: vec![0.0; nb],
            sigma: vec![0.0; nb],
            std: vec![0.0; nb],
            sum_signal: vec![0.0; nb],
            sum_variance: vec![0.0; nb],
            sum_normalization: vec![0.0; nb],
            sum_normalization2: vec![0.0; nb],
            count: vec![0.0; nb],
        }
    }

    fn check_frame(&self, len: usize) -> Result<(), Error> {
        if len != self.n_pixels {
            return Err(Error::ShapeMismatch {
                what: "frame",
                expected: self.shape,
                actual: (0, len),
            });
        }
        Ok(())
    }

    /// Integrates a whole integer frame.
    pub fn integrate_i32(
        &self,
        frame: &[i32],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.check_frame(frame.len())?;
        let mut acc = self.new_accumulator();
        for (k, chunk) in frame.chunks(1 << 14).enumerate() {
            self.add_block(&mut acc, k << 14, chunk)?;
        }
        self.finish(&acc, normalization_factor)
    }

    /// Integrates a whole float frame.
    pub fn integrate_f32(
        &self,
        frame: &[f32],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.check_frame(frame.len())?;
        let mut acc = self.new_accumulator();
        self.add_block_f32(&mut acc, 0, frame)?;
        self.finish(&acc, normalization_factor)
    }
}
