//! Filtered back-projection of a whole sinogram cube, equal to scikit-image's
//! `iradon(..., circle=True)` applied bin by bin.
//!
//! The cube is `rotations × translations × bins` with the bins innermost. Every bin shares the
//! geometry, so the work is organised around that:
//!
//! 1. **Filtering** (per rotation, in parallel): each projection is zero-padded exactly as
//!    scikit-image does (to the square's diagonal, then to the next power of two ≥ 2 × that,
//!    at least 64), multiplied in Fourier space by the same filter (ramp, Shepp-Logan, cosine,
//!    Hamming, Hann) and transformed back. Two bins travel together in one complex FFT
//!    (`a + i·b`), which is exact because we apply the even part of the filter — the only part
//!    that survives scikit-image's `np.real(ifft(...))`.
//! 2. **Back-projection** (per block of bins, in parallel): for each output pixel inside the
//!    reconstruction circle and each angle, the detector position and the two linear
//!    interpolation weights are computed once, then two rows of filtered values are added
//!    into a block of bin accumulators: one long vectorised stream per (pixel, angle).
//!
//! Geometry and scaling are scikit-image's: output `n × n` for `n` translations, rotation
//! axis at pixel `(n/2, n/2)`, detector coordinate `t = x·cos θ − y·sin θ` (x along columns,
//! y along rows), zero outside the inscribed circle, result × π / (2 · angles). The rotation
//! axis may sit anywhere on the translation axis (sub-pixel): [`FbpOptions::center`].
//!
//! [`reconstruct_reference`] is the plain per-bin transcription of scikit-image, in `f64`,
//! kept as the test oracle.

use std::f64::consts::PI;
use std::str::FromStr;
use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::{Complex, Complex32};
use rustfft::{Fft, FftPlanner};

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // AVX2 intrinsics, in one small kernel with its safety argument.
mod x86_64;

/// Fourier-space filter of the filtered back-projection (scikit-image's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Ram-Lak ramp, from the spatial-domain kernel (Kak & Slaney eq. 61).
    #[default]
    Ramp,
    /// Ramp × sinc.
    SheppLogan,
    /// Ramp × cosine.
    Cosine,
    /// Ramp × Hamming window.
    Hamming,
    /// Ramp × Hann window.
    Hann,
}

impl Filter {
    /// Every filter, in documentation order.
    pub const ALL: [Filter; 5] = [
        Filter::Ramp,
        Filter::SheppLogan,
        Filter::Cosine,
        Filter::Hamming,
        Filter::Hann,
    ];

    /// The name scikit-image and the command line use.
    pub fn name(self) -> &'static str {
        match self {
            Filter::Ramp => "ramp",
            Filter::SheppLogan => "shepp-logan",
            Filter::Cosine => "cosine",
            Filter::Hamming => "hamming",
            Filter::Hann => "hann",
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Filter {
    type Err = FbpError;
    fn from_str(s: &str) -> Result<Self, FbpError> {
        match s.to_ascii_lowercase().as_str() {
            "ramp" | "ram-lak" | "ramlak" => Ok(Filter::Ramp),
            "shepp-logan" | "shepp_logan" | "shepplogan" => Ok(Filter::SheppLogan),
            "cosine" => Ok(Filter::Cosine),
            "hamming" => Ok(Filter::Hamming),
            "hann" | "hanning" => Ok(Filter::Hann),
            _ => Err(FbpError::UnknownFilter(s.to_string())),
        }
    }
}

/// Errors of the reconstruction. All are the caller's (shape, angles, options).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FbpError {
    /// The data slice does not hold rotations × translations × bins values.
    #[error(
        "sinogram holds {actual} values, expected {rotations} × {translations} × {bins} = {expected}"
    )]
    ShapeMismatch {
        /// Rotations claimed.
        rotations: usize,
        /// Translations claimed.
        translations: usize,
        /// Bins claimed.
        bins: usize,
        /// Product of the three.
        expected: usize,
        /// Length of the data.
        actual: usize,
    },
    /// The number of angles differs from the number of rotations.
    #[error("{angles} rotation angles given for {rotations} rotations")]
    AngleCount {
        /// Angles given.
        angles: usize,
        /// Rotations in the cube.
        rotations: usize,
    },
    /// A dimension is zero.
    #[error("empty sinogram ({rotations} rotations × {translations} translations × {bins} bins)")]
    Empty {
        /// Rotations.
        rotations: usize,
        /// Translations.
        translations: usize,
        /// Bins.
        bins: usize,
    },
    /// A rotation angle is NaN or infinite.
    #[error("rotation angle {index} is not finite")]
    NonFiniteAngle {
        /// Index of the angle.
        index: usize,
    },
    /// The centre of rotation is not finite or lies outside the translation range.
    #[error("centre of rotation {center} lies outside the {translations} translations")]
    CenterOutside {
        /// Requested centre (translation index).
        center: f64,
        /// Translations.
        translations: usize,
    },
    /// The centre could not be estimated (no signal, or too few distinct angles).
    #[error("cannot estimate the centre of rotation: {0}")]
    CenterEstimate(&'static str),
    /// Filter name not recognised.
    #[error("unknown filter {0:?} (expected ramp, shepp-logan, cosine, hamming or hann)")]
    UnknownFilter(String),
    /// The output would exceed the size limit.
    #[error("reconstruction of {bins} bins × {size} × {size} exceeds the limit of {limit} values")]
    TooLarge {
        /// Bins.
        bins: usize,
        /// Output side.
        size: usize,
        /// Limit in values.
        limit: usize,
    },
}

/// Largest output volume, in values (16 GiB of `f32`).
pub const MAX_OUTPUT_VALUES: usize = 1 << 32;

/// A borrowed sinogram cube: `rotations × translations × bins`, bins innermost.
#[derive(Clone, Copy, Debug)]
pub struct SinogramCube<'a> {
    data: &'a [f32],
    rotations: usize,
    translations: usize,
    bins: usize,
    angles_deg: &'a [f64],
}

impl<'a> SinogramCube<'a> {
    /// Checks the shape and the angles (degrees, one per rotation).
    pub fn new(
        data: &'a [f32],
        rotations: usize,
        translations: usize,
        bins: usize,
        angles_deg: &'a [f64],
    ) -> Result<Self, FbpError> {
        if rotations == 0 || translations == 0 || bins == 0 {
            return Err(FbpError::Empty {
                rotations,
                translations,
                bins,
            });
        }
        let expected = rotations
            .checked_mul(translations)
            .and_then(|v| v.checked_mul(bins))
            .unwrap_or(usize::MAX);
        if data.len() != expected {
            return Err(FbpError::ShapeMismatch {
                rotations,
                translations,
                bins,
                expected,
                actual: data.len(),
            });
        }
        if angles_deg.len() != rotations {
            return Err(FbpError::AngleCount {
                angles: angles_deg.len(),
                rotations,
            });
        }
        if let Some(index) = angles_deg.iter().position(|a| !a.is_finite()) {
            return Err(FbpError::NonFiniteAngle { index });
        }
        Ok(SinogramCube {
            data,
            rotations,
            translations,
            bins,
            angles_deg,
        })
    }
    /// The values.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }
    /// Rotations (slowest dimension).
    pub fn rotations(&self) -> usize {
        self.rotations
    }
    /// Translations.
    pub fn translations(&self) -> usize {
        self.translations
    }
    /// Bins (innermost).
    pub fn bins(&self) -> usize {
        self.bins
    }
    /// Rotation angles, degrees.
    pub fn angles_deg(&self) -> &'a [f64] {
        self.angles_deg
    }
    /// The sum over bins: a `rotations × translations` sinogram of the total intensity.
    pub fn summed(&self) -> Vec<f32> {
        self.data
            .chunks_exact(self.bins)
            .map(|p| p.iter().map(|&v| v as f64).sum::<f64>() as f32)
            .collect()
    }
}

/// Options of the reconstruction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FbpOptions {
    /// Fourier filter.
    pub filter: Filter,
    /// Rotation axis position on the translation axis, in translation steps from the first
    /// translation (sub-pixel allowed). `None`: `translations / 2` (integer division), where
    /// scikit-image puts it.
    pub center: Option<f64>,
}

/// A reconstructed volume: `bins × size × size` (`size` = translations), rows = y.
#[derive(Clone, Debug, PartialEq)]
pub struct Tomogram {
    /// Values, bins outermost.
    pub data: Vec<f32>,
    /// Bins.
    pub bins: usize,
    /// Side of each slice.
    pub size: usize,
    /// Centre of rotation used (translation index).
    pub center: f64,
}

impl Tomogram {
    /// Slice of bin `b`, `size × size` row-major.
    pub fn slice(&self, b: usize) -> &[f32] {
        let s = self.size * self.size;
        &self.data[b * s..(b + 1) * s]
    }
}

/// scikit-image's Fourier filter of length `size` (even), `_get_fourier_filter`.
pub fn fourier_filter(size: usize, filter: Filter) -> Vec<f64> {
    // f[0] = 1/4, f[odd k] = -1 / (π n_k)², n = 1, 3, 5, ... up then down.
    let mut f = vec![0.0f64; size];
    if size == 0 {
        return f;
    }
    f[0] = 0.25;
    for (k, v) in f.iter_mut().enumerate().skip(1).step_by(2) {
        let n = if k <= size / 2 { k } else { size - k };
        *v = -1.0 / (PI * n as f64).powi(2);
    }
    let mut buf: Vec<Complex<f64>> = f.iter().map(|&v| Complex::new(v, 0.0)).collect();
    FftPlanner::<f64>::new()
        .plan_fft_forward(size)
        .process(&mut buf);
    let mut h: Vec<f64> = buf.iter().map(|c| 2.0 * c.re).collect();
    let shift = |k: usize| (k + size / 2) % size; // fftshift: out[k] = in[(k + size/2) % size]
    match filter {
        Filter::Ramp => {}
        Filter::SheppLogan => {
            for (k, v) in h.iter_mut().enumerate().skip(1) {
                let freq = if k < size.div_ceil(2) {
                    k as f64
                } else {
                    k as f64 - size as f64
                };
                let omega = PI * freq / size as f64;
                *v *= omega.sin() / omega;
            }
        }
        Filter::Cosine => {
            let s: Vec<f64> = (0..size)
                .map(|k| (PI * k as f64 / size as f64).sin())
                .collect();
            for (k, v) in h.iter_mut().enumerate() {
                *v *= s[shift(k)];
            }
        }
        Filter::Hamming | Filter::Hann => {
            let (a0, a1) = if filter == Filter::Hamming {
                (0.54, 0.46)
            } else {
                (0.5, 0.5)
            };
            let w: Vec<f64> = (0..size)
                .map(|n| {
                    if size == 1 {
                        1.0
                    } else {
                        a0 - a1 * (2.0 * PI * n as f64 / (size - 1) as f64).cos()
                    }
                })
                .collect();
            for (k, v) in h.iter_mut().enumerate() {
                *v *= w[shift(k)];
            }
        }
    }
    h
}

/// Sizes shared by the filter and back-projection stages.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    n: usize,
    radius: usize,
    /// scikit-image pads projections to the square's diagonal...
    diag: usize,
    /// ...with this many zeros before the data...
    pad_before: usize,
    /// ...and then to this FFT length.
    fft_len: usize,
    center: f64,
    /// First stored detector position (translation index) of the filtered projections.
    lo: i64,
    /// Stored positions per filtered projection.
    len: usize,
}

impl Geometry {
    fn new(n: usize, center: Option<f64>) -> Result<Self, FbpError> {
        let center = center.unwrap_or((n / 2) as f64);
        if !center.is_finite() || center < -0.5 || center > n as f64 - 0.5 {
            return Err(FbpError::CenterOutside {
                center,
                translations: n,
            });
        }
        let diag = ((2f64).sqrt() * n as f64).ceil() as usize;
        let pad_before = diag / 2 - n / 2;
        let fft_len = (2 * diag).next_power_of_two().max(64);
        let radius = n / 2;
        let lo = (center - radius as f64).floor() as i64 - 1;
        let hi = (center + radius as f64).floor() as i64 + 2;
        Ok(Geometry {
            n,
            radius,
            diag,
            pad_before,
            fft_len,
            center,
            lo,
            len: (hi - lo + 1) as usize,
        })
    }

    /// Index in the zero-padded projection of translation `j`, where scikit-image keeps a
    /// filtered value (elsewhere the value is zero).
    fn padded_index(&self, j: i64) -> Option<usize> {
        let p = j + self.pad_before as i64;
        (p >= 0 && (p as usize) < self.diag).then_some(p as usize)
    }

    fn in_circle(&self, row: usize, col: usize) -> bool {
        let x = row as i64 - self.radius as i64;
        let y = col as i64 - self.radius as i64;
        x * x + y * y <= (self.radius * self.radius) as i64
    }
}

/// Reconstructs every bin of the cube (CPU, all cores through rayon).
pub fn reconstruct(cube: &SinogramCube<'_>, opts: &FbpOptions) -> Result<Tomogram, FbpError> {
    let g = Geometry::new(cube.translations, opts.center)?;
    let bins = cube.bins;
    let total = bins.saturating_mul(g.n * g.n);
    if total > MAX_OUTPUT_VALUES {
        return Err(FbpError::TooLarge {
            bins,
            size: g.n,
            limit: MAX_OUTPUT_VALUES,
        });
    }
    if cube.rotations.saturating_mul(g.len) > u32::MAX as usize {
        return Err(FbpError::TooLarge {
            bins,
            size: g.n,
            limit: MAX_OUTPUT_VALUES,
        });
    }
    let filtered = filter_projections(cube, &g, opts.filter);
    let mut data = vec![0f32; total];
    backproject(&filtered, &g, cube.angles_deg, bins, &mut data);
    Ok(Tomogram {
        data,
        bins,
        size: g.n,
        center: g.center,
    })
}

/// Geometry of [`filtered_projections`]' output, for a back-projection elsewhere (the GPU
/// backend, `crate::gpu`): output side `n`, rotation axis pixel `radius`, padded length
/// `diag` with `pad_before` samples before the data, stored positions `lo .. lo + len`,
/// rotation axis `center` (translation index).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
pub(crate) struct FilteredGeometry {
    pub(crate) n: usize,
    pub(crate) radius: usize,
    pub(crate) diag: usize,
    pub(crate) pad_before: usize,
    pub(crate) center: f64,
    pub(crate) lo: i64,
    pub(crate) len: usize,
}

/// Stage 1 alone, for a back-projection elsewhere: `rotations × len × bins` filtered values.
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
pub(crate) fn filtered_projections(
    cube: &SinogramCube<'_>,
    opts: &FbpOptions,
) -> Result<(Vec<f32>, FilteredGeometry), FbpError> {
    let g = Geometry::new(cube.translations, opts.center)?;
    let total = cube.bins.saturating_mul(g.n * g.n);
    if total > MAX_OUTPUT_VALUES {
        return Err(FbpError::TooLarge {
            bins: cube.bins,
            size: g.n,
            limit: MAX_OUTPUT_VALUES,
        });
    }
    let fg = FilteredGeometry {
        n: g.n,
        radius: g.radius,
        diag: g.diag,
        pad_before: g.pad_before,
        center: g.center,
        lo: g.lo,
        len: g.len,
    };
    Ok((filter_projections(cube, &g, opts.filter), fg))
}

/// Stage 1: filtered projections, `rotations × g.len × bins`.
fn filter_projections(cube: &SinogramCube<'_>, g: &Geometry, filter: Filter) -> Vec<f32> {
    let p = g.fft_len;
    let full = fourier_filter(p, filter);
    // Even part (the odd part only makes an imaginary contribution that scikit-image drops),
    // with the 1/P of the inverse FFT folded in.
    let even: Vec<f32> = (0..p)
        .map(|k| ((full[k] + full[(p - k) % p]) * 0.5 / p as f64) as f32)
        .collect();
    let mut planner = FftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(p);
    let inv = planner.plan_fft_inverse(p);
    let (n, bins, len) = (g.n, cube.bins, g.len);
    // Which filtered sample lands in each stored position.
    let src_pos: Vec<Option<usize>> = (0..len).map(|j| g.padded_index(g.lo + j as i64)).collect();
    const PAIRS: usize = 8;
    let mut out = vec![0f32; cube.rotations * len * bins];
    out.par_chunks_mut(len * bins).enumerate().for_each_init(
        || FilterScratch::new(&fwd, &inv, PAIRS * p),
        |s, (a, slab)| {
            let src = &cube.data[a * n * bins..(a + 1) * n * bins];
            for b0 in (0..bins).step_by(2 * PAIRS) {
                let width = (bins - b0).min(2 * PAIRS);
                let pairs = width.div_ceil(2);
                let buf = &mut s.buf[..pairs * p];
                buf.fill(Complex32::new(0.0, 0.0));
                for t in 0..n {
                    let row = &src[t * bins + b0..t * bins + b0 + width];
                    for (q, two) in row.chunks(2).enumerate() {
                        let im = if two.len() == 2 { two[1] } else { 0.0 };
                        buf[q * p + g.pad_before + t] = Complex32::new(two[0], im);
                    }
                }
                fwd.process_with_scratch(buf, &mut s.scratch);
                for one in buf.chunks_exact_mut(p) {
                    for (c, &h) in one.iter_mut().zip(&even) {
                        *c *= h;
                    }
                }
                inv.process_with_scratch(buf, &mut s.scratch);
                for (j, sp) in src_pos.iter().enumerate() {
                    let dst = &mut slab[j * bins + b0..j * bins + b0 + width];
                    match sp {
                        Some(sp) => {
                            for (q, two) in dst.chunks_mut(2).enumerate() {
                                let c = buf[q * p + sp];
                                two[0] = c.re;
                                if two.len() == 2 {
                                    two[1] = c.im;
                                }
                            }
                        }
                        None => dst.fill(0.0),
                    }
                }
            }
        },
    );
    out
}

struct FilterScratch {
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl FilterScratch {
    fn new(fwd: &Arc<dyn Fft<f32>>, inv: &Arc<dyn Fft<f32>>, len: usize) -> Self {
        let s = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        FilterScratch {
            buf: vec![Complex32::new(0.0, 0.0); len],
            scratch: vec![Complex32::new(0.0, 0.0); s],
        }
    }
}

/// Bins per back-projection block (accumulators of one pixel stay in registers / L1).
pub(crate) const BLOCK: usize = 64;
/// Side of the pixel tiles: the filtered rows a tile touches stay in L2.
const TILE: usize = 8;

/// Stage 2: back-projection into `out` (`bins × n × n`).
fn backproject(filtered: &[f32], g: &Geometry, angles_deg: &[f64], bins: usize, out: &mut [f32]) {
    let n = g.n;
    let trig: Vec<(f64, f64)> = angles_deg
        .iter()
        .map(|a| a.to_radians().sin_cos())
        .collect();
    let scale = (PI / (2.0 * angles_deg.len() as f64)) as f32;
    let plane = n * n;
    // In-circle pixels, tile by tile, so that neighbours share filtered rows in cache.
    let mut pixels: Vec<(usize, usize)> = Vec::new();
    for tr in (0..n).step_by(TILE) {
        for tc in (0..n).step_by(TILE) {
            for r in tr..(tr + TILE).min(n) {
                for c in tc..(tc + TILE).min(n) {
                    if g.in_circle(r, c) {
                        pixels.push((r, c));
                    }
                }
            }
        }
    }
    let na = trig.len();
    // Taps are computed once per (pixel, angle) and reused by every block of bins; pixels go
    // in groups so that the table stays below ~64 MiB whatever the size.
    let group = (TAPS_BUDGET / (na * std::mem::size_of::<Tap>()).max(1)).max(1);
    let kernel = x86_kernel();
    let mut taps: Vec<Tap> = Vec::new();
    for px in pixels.chunks(group) {
        taps.clear();
        taps.resize(px.len() * na, Tap::default());
        taps.par_chunks_mut(na)
            .zip(px.par_iter())
            .for_each(|(t, &(r, c))| pixel_taps(g, &trig, r, c, t));
        out.par_chunks_mut(BLOCK * plane)
            .enumerate()
            .for_each(|(blk, outb)| {
                let b0 = blk * BLOCK;
                let width = (bins - b0).min(BLOCK);
                for (t, &(r, c)) in taps.chunks_exact(na).zip(px) {
                    let mut acc = [0f32; BLOCK];
                    if width == BLOCK {
                        kernel(&mut acc, filtered, t, bins, b0);
                    } else {
                        accumulate_any(&mut acc[..width], filtered, t, bins, b0);
                    }
                    for (b, &v) in acc[..width].iter().enumerate() {
                        outb[b * plane + r * n + c] = v * scale;
                    }
                }
            });
    }
}

/// Bytes of interpolation taps kept at once.
const TAPS_BUDGET: usize = 64 << 20;

/// One (pixel, angle) interpolation: filtered row `row` (rotation × stored position) and the
/// next one, with weights `w0`, `w1` (both 0 where scikit-image reads outside the data).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tap {
    row: u32,
    w0: f32,
    w1: f32,
}

fn pixel_taps(g: &Geometry, trig: &[(f64, f64)], r: usize, c: usize, out: &mut [Tap]) {
    let xpr = r as f64 - g.radius as f64;
    let ypr = c as f64 - g.radius as f64;
    for (a, (&(s, co), tap)) in trig.iter().zip(out.iter_mut()).enumerate() {
        let t = ypr * co - xpr * s;
        // np.interp(left=0, right=0) over scikit-image's padded projection.
        let padded = t + g.center + g.pad_before as f64;
        if !(0.0..=(g.diag - 1) as f64).contains(&padded) {
            *tap = Tap {
                row: (a * g.len) as u32,
                w0: 0.0,
                w1: 0.0,
            };
            continue;
        }
        let pos = t + g.center - g.lo as f64;
        let k = pos.floor();
        let w1 = (pos - k) as f32;
        // lo/len were chosen so that k and k + 1 are stored for every in-circle pixel.
        let k = (k as usize).min(g.len - 2);
        *tap = Tap {
            row: (a * g.len + k) as u32,
            w0: 1.0 - w1,
            w1,
        };
    }
}

/// Signature of the full-block accumulation kernel: `acc += Σ w0·row(k) + w1·row(k+1)`.
type Kernel = fn(&mut [f32; BLOCK], &[f32], &[Tap], usize, usize);

fn x86_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = x86_64::kernel() {
        return k;
    }
    accumulate_block
}

/// Portable full-block kernel (the compiler vectorises the fixed-length loop).
fn accumulate_block(
    acc: &mut [f32; BLOCK],
    filtered: &[f32],
    taps: &[Tap],
    bins: usize,
    b0: usize,
) {
    accumulate_block_impl::<false>(acc, filtered, taps, bins, b0)
}

/// The block kernel; with `FMA`, fused multiply-adds (only where the CPU has them: without
/// hardware FMA, `mul_add` is a slow library call).
#[inline(always)]
fn accumulate_block_impl<const FMA: bool>(
    acc: &mut [f32; BLOCK],
    filtered: &[f32],
    taps: &[Tap],
    bins: usize,
    b0: usize,
) {
    for &Tap { row, w0, w1 } in taps {
        let off = row as usize * bins + b0;
        let (Some(r0), Some(r1)) = (
            filtered.get(off..off + BLOCK),
            filtered.get(off + bins..off + bins + BLOCK),
        ) else {
            continue;
        };
        for b in 0..BLOCK {
            if FMA {
                acc[b] = w1.mul_add(r1[b], w0.mul_add(r0[b], acc[b]));
            } else {
                acc[b] += w0 * r0[b] + w1 * r1[b];
            }
        }
    }
}

/// Name of the back-projection kernel this CPU runs (`avx2+fma` or `portable`).
pub fn active_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    return x86_64::active_path();
    #[cfg(not(target_arch = "x86_64"))]
    "portable"
}

/// Kernel for a partial last block.
fn accumulate_any(acc: &mut [f32], filtered: &[f32], taps: &[Tap], bins: usize, b0: usize) {
    let w = acc.len();
    for &Tap { row, w0, w1 } in taps {
        let off = row as usize * bins + b0;
        let r0 = &filtered[off..off + w];
        let r1 = &filtered[off + bins..off + bins + w];
        for ((a, &x0), &x1) in acc.iter_mut().zip(r0).zip(r1) {
            *a += w0 * x0 + w1 * x1;
        }
    }
}

/// The plain transcription of scikit-image `iradon(circle=True)`, one bin at a time, in
/// `f64`: the test oracle for [`reconstruct`].
pub fn reconstruct_reference(
    cube: &SinogramCube<'_>,
    opts: &FbpOptions,
) -> Result<Tomogram, FbpError> {
    let g = Geometry::new(cube.translations, opts.center)?;
    let (n, bins, p) = (g.n, cube.bins, g.fft_len);
    let h = fourier_filter(p, opts.filter);
    let mut planner = FftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(p);
    let inv = planner.plan_fft_inverse(p);
    let angles = cube.angles_deg;
    let mut data = vec![0f32; bins * n * n];
    for b in 0..bins {
        let mut filtered = vec![vec![0f64; g.diag]; angles.len()];
        for (a, f) in filtered.iter_mut().enumerate() {
            let mut buf = vec![Complex::new(0.0f64, 0.0); p];
            for t in 0..n {
                buf[g.pad_before + t].re = cube.data[(a * n + t) * bins + b] as f64;
            }
            fwd.process(&mut buf);
            for (c, &hk) in buf.iter_mut().zip(&h) {
                *c *= hk;
            }
            inv.process(&mut buf);
            for (v, c) in f.iter_mut().zip(&buf) {
                *v = c.re / p as f64;
            }
        }
        let img = &mut data[b * n * n..(b + 1) * n * n];
        for r in 0..n {
            for c in 0..n {
                if !g.in_circle(r, c) {
                    continue;
                }
                let xpr = r as f64 - g.radius as f64;
                let ypr = c as f64 - g.radius as f64;
                let mut sum = 0.0;
                for (a, &deg) in angles.iter().enumerate() {
                    let th = deg.to_radians();
                    let t = ypr * th.cos() - xpr * th.sin();
                    // np.interp over padded positions x = 0..diag (shifted), zero outside.
                    let x = t + g.center + g.pad_before as f64;
                    sum += interp(&filtered[a], x);
                }
                img[r * n + c] = (sum * PI / (2.0 * angles.len() as f64)) as f32;
            }
        }
    }
    Ok(Tomogram {
        data,
        bins,
        size: n,
        center: g.center,
    })
}

/// `np.interp(x, arange(len), fp, left=0, right=0)`.
fn interp(fp: &[f64], x: f64) -> f64 {
    let last = fp.len() as f64 - 1.0;
    if !(0.0..=last).contains(&x) {
        return 0.0;
    }
    let k = x.floor() as usize;
    if k as f64 == last {
        return fp[k];
    }
    let f = x - k as f64;
    fp[k] * (1.0 - f) + fp[k + 1] * f
}

/// How the centre of rotation was estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CenterMethod {
    /// Registration of projections 180° apart with their mirror images.
    Mirror180,
    /// Least-squares fit of the projections' centres of mass to a sinusoid.
    CenterOfMass,
}

impl CenterMethod {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            CenterMethod::Mirror180 => "0/180 mirror registration",
            CenterMethod::CenterOfMass => "centre-of-mass sinusoid fit",
        }
    }
}

/// An estimated centre of rotation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CenterEstimate {
    /// Translation index of the rotation axis.
    pub center: f64,
    /// How it was found.
    pub method: CenterMethod,
    /// Projection pairs (mirror) or projections (centre of mass) used.
    pub used: usize,
}

/// Estimates the rotation axis from a `rotations × translations` sinogram (e.g. the sum over
/// bins, [`SinogramCube::summed`]).
///
/// With projections 180° apart (scans over 360°), the axis is where each projection matches
/// the mirror image of its partner (least squares over a fine grid, then parabolic
/// refinement). Otherwise the centre of mass of every projection (above its edge level) is
/// fitted to `c + a·cos θ + b·sin θ`, which holds exactly for parallel-beam data of an object
/// inside the field of view.
pub fn estimate_center(
    sino: &[f32],
    translations: usize,
    angles_deg: &[f64],
) -> Result<CenterEstimate, FbpError> {
    let rotations = angles_deg.len();
    if translations < 4 || rotations == 0 {
        return Err(FbpError::CenterEstimate(
            "fewer than 4 translations or no rotation",
        ));
    }
    if sino.len() != rotations * translations {
        return Err(FbpError::ShapeMismatch {
            rotations,
            translations,
            bins: 1,
            expected: rotations * translations,
            actual: sino.len(),
        });
    }
    if let Some(index) = angles_deg.iter().position(|a| !a.is_finite()) {
        return Err(FbpError::NonFiniteAngle { index });
    }
    let proj = |a: usize| &sino[a * translations..(a + 1) * translations];
    let mut pairs = Vec::new();
    for i in 0..rotations {
        for j in i + 1..rotations {
            let d = (angles_deg[j] - angles_deg[i]).rem_euclid(360.0);
            if (d - 180.0).abs() < 1e-3 {
                pairs.push((i, j));
            }
        }
    }
    if !pairs.is_empty() {
        let cost = |c: f64| -> f64 {
            let mut s = 0.0;
            for &(i, j) in &pairs {
                let (pi, pj) = (proj(i), proj(j));
                for (x, &v) in pi.iter().enumerate() {
                    let m = 2.0 * c - x as f64;
                    if m < 0.0 || m > (translations - 1) as f64 {
                        continue;
                    }
                    let k = (m.floor() as usize).min(translations - 2);
                    let f = m - k as f64;
                    let w = pj[k] as f64 * (1.0 - f) + pj[k + 1] as f64 * f;
                    s += (v as f64 - w).powi(2);
                }
            }
            // Normalise by overlap so that off-centre candidates are not favoured.
            let overlap =
                (translations as f64 - 2.0 * (c - (translations - 1) as f64 / 2.0).abs()).max(1.0);
            s / overlap
        };
        let best = minimize_1d(
            &cost,
            translations as f64 * 0.25,
            translations as f64 * 0.75,
        );
        return Ok(CenterEstimate {
            center: best,
            method: CenterMethod::Mirror180,
            used: pairs.len(),
        });
    }
    // Centre-of-mass fit.
    let edge = 3.min(translations / 4).max(1);
    let mut rows = Vec::new();
    for (a, &deg) in angles_deg.iter().enumerate() {
        let p = proj(a);
        let lead = p[..edge].iter().map(|&v| v as f64).sum::<f64>() / edge as f64;
        let tail = p[translations - edge..]
            .iter()
            .map(|&v| v as f64)
            .sum::<f64>()
            / edge as f64;
        let base = lead.min(tail);
        let (mut sw, mut sx) = (0.0, 0.0);
        for (x, &v) in p.iter().enumerate() {
            let w = (v as f64 - base).max(0.0);
            sw += w;
            sx += w * x as f64;
        }
        if sw > 0.0 && sw.is_finite() {
            let th = deg.to_radians();
            rows.push((sx / sw, th.cos(), th.sin()));
        }
    }
    if rows.len() < 3 {
        return Err(FbpError::CenterEstimate(
            "fewer than 3 projections with signal",
        ));
    }
    // Normal equations for [c, a, b] with design rows [1, cos, sin].
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    for &(s, co, si) in &rows {
        let d = [1.0, co, si];
        for i in 0..3 {
            v[i] += d[i] * s;
            for j in 0..3 {
                m[i][j] += d[i] * d[j];
            }
        }
    }
    let c = solve3(m, v).ok_or(FbpError::CenterEstimate(
        "angles do not span enough directions",
    ))?;
    Ok(CenterEstimate {
        center: c[0],
        method: CenterMethod::CenterOfMass,
        used: rows.len(),
    })
}

/// Minimum of `f` on `[lo, hi]`: a grid of quarter steps, then golden-section refinement.
fn minimize_1d(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let steps = ((hi - lo) * 4.0).ceil().max(1.0) as usize;
    let mut best = (f64::INFINITY, lo);
    for i in 0..=steps {
        let x = lo + (hi - lo) * i as f64 / steps as f64;
        let y = f(x);
        if y < best.0 {
            best = (y, x);
        }
    }
    let (mut a, mut b) = (best.1 - 0.25, best.1 + 0.25);
    let gr = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - gr * (b - a);
    let mut d = a + gr * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - gr * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + gr * (b - a);
            fd = f(d);
        }
    }
    (a + b) / 2.0
}

/// Solves a 3×3 system by Gaussian elimination with partial pivoting.
fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let piv = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[piv][col].abs() < 1e-9 * (1.0 + m[0][0].abs()) {
            return None;
        }
        m.swap(col, piv);
        v.swap(col, piv);
        let pivot_row = m[col];
        for r in col + 1..3 {
            let f = m[r][col] / pivot_row[col];
            for (x, &p) in m[r].iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
            v[r] -= f * v[col];
        }
    }
    let mut x = [0.0; 3];
    for r in (0..3).rev() {
        let s: f64 = (r + 1..3).map(|k| m[r][k] * x[k]).sum();
        x[r] = (v[r] - s) / m[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rel_rms(a: &[f32], b: &[f32]) -> f64 {
        let num: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum();
        let den: f64 = b.iter().map(|&y| (y as f64).powi(2)).sum();
        (num / den.max(1e-30)).sqrt()
    }

    #[test]
    fn filters_match_scikit_image() {
        // skimage.transform.radon_transform._get_fourier_filter(64, name) at these indices.
        let idx = [0usize, 1, 5, 20, 32, 40, 63];
        let expected: [(Filter, [f64; 7]); 5] = [
            (
                Filter::Ramp,
                [
                    0.006330515402529435,
                    0.03051260854933452,
                    0.1562031541017631,
                    0.624994518619721,
                    0.9936694845974705,
                    0.749982867709821,
                    0.03051260854933452,
                ],
            ),
            (
                Filter::SheppLogan,
                [
                    0.006330515402529435,
                    0.03050035630747646,
                    0.1546396098342675,
                    0.5293253529802115,
                    0.6325896410930536,
                    0.5881465423125238,
                    0.03050035630747646,
                ],
            ),
            (
                Filter::Cosine,
                [
                    0.006330515402529435,
                    0.030475854776042414,
                    0.15152194132627375,
                    0.3472283503455325,
                    0.0,
                    0.28700601803020737,
                    0.030475854776042414,
                ],
            ),
            (
                Filter::Hamming,
                [
                    0.006326895511019158,
                    0.030355840260816933,
                    0.14566159767047188,
                    0.20633762637110123,
                    0.07949355876779765,
                    0.16410454902566757,
                    0.03049516094426274,
                ],
            ),
            (
                Filter::Hann,
                [
                    0.00632658073784435,
                    0.030342208235728443,
                    0.14474494058949,
                    0.16993267921904734,
                    0.0,
                    0.11315860827052378,
                    0.030493643761213014,
                ],
            ),
        ];
        for (f, want) in expected {
            let h = fourier_filter(64, f);
            for (&i, &w) in idx.iter().zip(&want) {
                assert!((h[i] - w).abs() < 1e-12, "{f} [{i}]: {} vs {w}", h[i]);
            }
        }
    }

    #[test]
    fn filter_names_roundtrip() {
        for f in Filter::ALL {
            assert_eq!(f.name().parse::<Filter>().unwrap(), f);
        }
        assert!("bogus".parse::<Filter>().is_err());
    }

    #[test]
    fn rejects_bad_shapes() {
        let d = vec![0f32; 10];
        assert!(matches!(
            SinogramCube::new(&d, 2, 2, 2, &[0.0, 1.0]),
            Err(FbpError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            SinogramCube::new(&d, 5, 2, 1, &[0.0]),
            Err(FbpError::AngleCount { .. })
        ));
        assert!(matches!(
            SinogramCube::new(&[], 0, 2, 1, &[]),
            Err(FbpError::Empty { .. })
        ));
        let d = vec![0f32; 4];
        assert!(matches!(
            SinogramCube::new(&d, 2, 2, 1, &[0.0, f64::NAN]),
            Err(FbpError::NonFiniteAngle { index: 1 })
        ));
        let cube = SinogramCube::new(&d, 2, 2, 1, &[0.0, 90.0]).unwrap();
        let opts = FbpOptions {
            center: Some(7.0),
            ..Default::default()
        };
        assert!(matches!(
            reconstruct(&cube, &opts),
            Err(FbpError::CenterOutside { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn reconstruct_matches_reference(
            rotations in 1usize..9,
            translations in 1usize..14,
            bins in prop_oneof![1usize..5, 60usize..70],
            filter in 0usize..5,
            shift in -1.5f64..1.5,
            seed in any::<u64>(),
        ) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let data: Vec<f32> =
                (0..rotations * translations * bins).map(|_| rng.random_range(0.0..1.0)).collect();
            let angles: Vec<f64> = (0..rotations).map(|_| rng.random_range(-20.0..380.0)).collect();
            let cube = SinogramCube::new(&data, rotations, translations, bins, &angles).unwrap();
            let c = ((translations / 2) as f64 + shift).clamp(-0.5, translations as f64 - 0.5);
            for center in [None, Some(c)] {
                let opts = FbpOptions { filter: Filter::ALL[filter], center };
                let fast = reconstruct(&cube, &opts).unwrap();
                let slow = reconstruct_reference(&cube, &opts).unwrap();
                let scale = slow.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
                for (a, b) in fast.data.iter().zip(&slow.data) {
                    prop_assert!((a - b).abs() <= 2e-5 * scale + 1e-6, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn point_reconstructs_at_its_place() {
        // A point at (row 10, col 20) of a 32-pixel grid: t = x cos θ − y sin θ.
        let n = 32usize;
        let rot = 90usize;
        let angles: Vec<f64> = (0..rot).map(|i| i as f64 * 180.0 / rot as f64).collect();
        let (r0, c0) = (10.0 - 16.0, 20.0 - 16.0);
        let mut data = vec![0f32; rot * n];
        for (a, &deg) in angles.iter().enumerate() {
            let th = f64::to_radians(deg);
            let t = c0 * th.cos() - r0 * th.sin() + 16.0;
            let k = t.floor() as usize;
            let f = (t - k as f64) as f32;
            data[a * n + k] += 1.0 - f;
            data[a * n + k + 1] += f;
        }
        let cube = SinogramCube::new(&data, rot, n, 1, &angles).unwrap();
        let t = reconstruct(&cube, &FbpOptions::default()).unwrap();
        let (imax, _) = t
            .data
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert_eq!((imax / n, imax % n), (10, 20));
        let fast = t.data;
        let slow = reconstruct_reference(&cube, &FbpOptions::default())
            .unwrap()
            .data;
        assert!(rel_rms(&fast, &slow) < 1e-5);
    }

    #[test]
    fn center_of_mass_finds_offset_axis() {
        let n = 64usize;
        let rot = 60usize;
        let angles: Vec<f64> = (0..rot).map(|i| i as f64 * 180.0 / rot as f64).collect();
        let true_c = 30.3;
        // A small Gaussian blob off the axis.
        let mut sino = vec![0f32; rot * n];
        for (a, &deg) in angles.iter().enumerate() {
            let th = f64::to_radians(deg);
            let s0 = 7.0 * th.cos() + 4.0 * th.sin() + true_c;
            for x in 0..n {
                sino[a * n + x] = (-((x as f64 - s0).powi(2)) / 8.0).exp() as f32;
            }
        }
        let e = estimate_center(&sino, n, &angles).unwrap();
        assert_eq!(e.method, CenterMethod::CenterOfMass);
        assert!((e.center - true_c).abs() < 0.05, "{e:?}");
        // The same over 360°: mirror registration.
        let angles: Vec<f64> = (0..rot).map(|i| i as f64 * 360.0 / rot as f64).collect();
        for (a, &deg) in angles.iter().enumerate() {
            let th = f64::to_radians(deg);
            let s0 = 7.0 * th.cos() + 4.0 * th.sin() + true_c;
            for x in 0..n {
                sino[a * n + x] = (-((x as f64 - s0).powi(2)) / 8.0).exp() as f32;
            }
        }
        let e = estimate_center(&sino, n, &angles).unwrap();
        assert_eq!(e.method, CenterMethod::Mirror180);
        assert!((e.center - true_c).abs() < 0.05, "{e:?}");
    }
}
