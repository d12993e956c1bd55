//! Integration engines: built once per geometry, reused for every frame.
//!
//! An [`Engine`] turns a [`PixelMap`] and an [`IntegrationConfig`] into a precomputed
//! integration matrix and the frame-independent sums of pyFAI's accumulators:
//!
//! - **no splitting**: one bin per pixel (a `u16` index where the bins fit, else `u32`); a frame
//!   is a histogram. Signal and Poisson variance of integer frames are summed exactly in
//!   `i64`;
//! - **bounding-box** and **full** splitting: a sparse matrix with pyFAI's coefficients, kept per
//!   bin (CSR, pyFAI's layout, readable through [`Engine::matrix`]) for the GPU and the
//!   per-bin filters, and per pixel (CSC) for float frames;
//! - for integer frames, every engine also keeps its matrix cut into tiles of [`TILE`]
//!   consecutive pixels with each tile's entries grouped by bin: a tile, decoded into a buffer
//!   that stays in L2, is summed bin by bin in registers (AVX2 where the CPU has it), so each
//!   bin is written once per tile. Splitting engines can sum the same tile of several frames
//!   in one pass over their matrix ([`Engine::add_blocks`]);
//! - 1D, or 2D "cake" (radial × azimuthal).
//!
//! Normalization (flat × solid angle × polarization), its square, the pixel count and the dark
//! current are summed per bin once, over the statically valid pixels. Per frame only the signal
//! and the variance are accumulated; pixels rejected by `dummy`/`delta_dummy` are listed and
//! the static sums of their bins recomputed without them at [`Engine::finish`]. Frames can be
//! fed in blocks of any size and order ([`Engine::add_block`], summed per tile of [`TILE`]
//! pixels), which is what the fused decode → integrate path of the pipeline does.
//!
//! Semantics follow pyFAI's `integrate1d_ng` / `integrate2d_ng` with the CSR engines:
//! `signal = raw − dark`, `normalization = flat × solid_angle × polarization ×
//! normalization_factor`, Poisson `variance = max(raw, 1)`; `intensity = Σsignal / Σnorm`,
//! `sigma` (sem) `= √Σvariance / Σnorm`, `std = √(Σvariance / Σnorm²)`, where each sum is weighted
//! by the splitting coefficient `c` (`c·signal`, `c²·variance`, `c·norm`, `(c·norm)²`).
//! Empty bins (no valid pixel) hold 0, pyFAI's default `empty`.
//!
//! pyFAI's splitting engines work on float32 pixel corners; build the [`PixelMap`] with
//! `PixelMapOptions::corners_f32` to get its bin ranges (and so its bin centres) to the last
//! digit with bounding-box and full splitting.
//!
//! [`crate::Integrator`] builds an engine from a PONI file in one call. Built directly, from a
//! [`PixelMap`], an engine also takes a frame in blocks, in any order — here as a decoder
//! would hand them over, one [`Engine::preferred_block`] at a time:
//!
//! ```
//! use azint::engine::{Engine, ErrorModel, IntegrationConfig, Split};
//! use azint::geometry::{Geometry, PixelMapOptions};
//! use azint::{Poni, Unit};
//!
//! let poni = Poni::parse(
//!     "poni_version: 2.1\nDetector: Detector\n\
//!      Detector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, \"max_shape\": [300, 400]}\n\
//!      Distance: 0.1\nPoni1: 0.015\nPoni2: 0.02\nRot1: 0.01\nRot2: 0\nRot3: 0\n",
//! )?;
//! let options = PixelMapOptions { corners: true, corners_f32: true, ..PixelMapOptions::new() };
//! let map = Geometry::from_poni(&poni)?.pixel_map(Unit::TwoThetaDeg, &options)?;
//! let config = IntegrationConfig {
//!     bins: 200,
//!     split: Split::BBox,
//!     error_model: ErrorModel::Poisson,
//!     dummy: Some(-2.0),
//!     delta_dummy: Some(1.5),
//!     ..IntegrationConfig::default()
//! };
//! let engine = Engine::new(&map, &config)?;
//!
//! // A frame of 5 counts everywhere but for a few dummy (−2) pixels.
//! let frame: Vec<i32> = (0..300 * 400).map(|k| if k % 997 == 0 { -2 } else { 5 }).collect();
//! let mut acc = engine.new_accumulator();
//! for (k, block) in frame.chunks(engine.preferred_block()).enumerate() {
//!     engine.add_block(&mut acc, k * engine.preferred_block(), block)?;
//! }
//! let pattern = engine.finish(&acc, 1.0)?;
//! // Blocks or not, the sums are the same.
//! assert_eq!(pattern, engine.integrate_i32(&frame, 1.0)?);
//! assert_eq!(pattern.radial, engine.radial());
//! // Every bin holds 5 counts over the solid angle (≤ 1, over 0.9 at these angles).
//! for (&i, &c) in pattern.intensity.iter().zip(&pattern.count) {
//!     assert!(c == 0.0 || (5.0..5.6).contains(&i), "{i}");
//! }
//! # Ok::<(), azint::Error>(())
//! ```

mod accumulate;
mod binning;
mod filters;
mod sparse;
mod split;
mod tiles;

use crate::Error;
use crate::error::AxisKind;
use crate::geometry::PixelMap;
use binning::{Axis, MinMax, clip_azimuth};
use rayon::prelude::*;
use sparse::{Csc, Csr};
use split::{FullScratch, Grid, PixelGeom};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;
pub use tiles::TILE;
use tiles::Tiles;

pub use accumulate::{Accumulator, Pattern, PixelValue};
pub use filters::SigmaClipOptions;
pub use sparse::IntegrationMatrix;

/// Pixel splitting scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Split {
    /// Each pixel goes whole into the bin of its centre (pyFAI `("no", "csr")`).
    No,
    /// Each pixel is spread over the bins its bounding box covers (pyFAI `("bbox", "csr")`, the default).
    #[default]
    BBox,
    /// Each pixel is spread by the area of its polygon in each bin (pyFAI `("full", "csr")`).
    Full,
}

/// How the variance of each pixel is obtained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorModel {
    /// No error propagation: `sigma` and `std` are 0.
    #[default]
    None,
    /// Poisson: variance = max(raw, 1).
    Poisson,
    /// Variance of the normalized signal within each bin (pyFAI's online weighted update, in
    /// increasing pixel order).
    Azimuthal,
}

impl Split {
    /// Every splitting scheme.
    pub const ALL: [Split; 3] = [Split::No, Split::BBox, Split::Full];

    /// pyFAI's name of the scheme: `"no"`, `"bbox"` or `"full"`.
    pub fn name(self) -> &'static str {
        match self {
            Split::No => "no",
            Split::BBox => "bbox",
            Split::Full => "full",
        }
    }
}

impl fmt::Display for Split {
    /// Writes [`Split::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Split {
    type Err = Error;

    /// Parses `no`, `bbox` or `full`, in any case. Also accepted: `none` for `no`, and
    /// `pseudo` for `full`: pyFAI's pseudo-splitting is its own approximation of full
    /// splitting, which this crate does not implement separately, so `pseudo` gets exact
    /// full splitting. [`Split::name`] always writes the canonical name.
    fn from_str(s: &str) -> Result<Split, Error> {
        match s.to_ascii_lowercase().as_str() {
            "no" | "none" => Ok(Split::No),
            "bbox" => Ok(Split::BBox),
            "full" | "pseudo" => Ok(Split::Full),
            _ => Err(Error::UnknownSplit { name: s.to_owned() }),
        }
    }
}

impl ErrorModel {
    /// Every error model.
    pub const ALL: [ErrorModel; 3] = [ErrorModel::None, ErrorModel::Poisson, ErrorModel::Azimuthal];

    /// The model's name, as pyFAI's `error_model` argument: `"none"`, `"poisson"` or
    /// `"azimuthal"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorModel::None => "none",
            ErrorModel::Poisson => "poisson",
            ErrorModel::Azimuthal => "azimuthal",
        }
    }
}

impl fmt::Display for ErrorModel {
    /// Writes [`ErrorModel::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ErrorModel {
    type Err = Error;

    /// Parses `none`, `poisson` or `azimuthal`, in any case; `no` is accepted for `none`.
    fn from_str(s: &str) -> Result<ErrorModel, Error> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "no" => Ok(ErrorModel::None),
            "poisson" => Ok(ErrorModel::Poisson),
            "azimuthal" => Ok(ErrorModel::Azimuthal),
            _ => Err(Error::UnknownErrorModel { name: s.to_owned() }),
        }
    }
}

/// What to integrate and how. `Default` gives pyFAI's defaults (bbox splitting, 1D, no
/// dummy, no error model) with 1000 bins.
#[derive(Clone, Debug, PartialEq)]
pub struct IntegrationConfig {
    /// Radial bins.
    pub bins: usize,
    /// `Some(n)`: a 2D cake with `n` azimuthal bins.
    pub azimuthal_bins: Option<usize>,
    /// Pixel splitting.
    pub split: Split,
    /// Radial range in the pixel map's radial unit; default: the range of the valid pixels.
    pub radial_range: Option<(f64, f64)>,
    /// Azimuthal range in degrees (pyFAI's convention); pixels outside are ignored in 1D.
    pub azimuth_range: Option<(f64, f64)>,
    /// Value of invalid pixels (Dectris: −2).
    pub dummy: Option<f64>,
    /// Tolerance around `dummy` (Dectris: 1.5, rejecting every value in [−3.5, −0.5]).
    pub delta_dummy: Option<f64>,
    /// Error model.
    pub error_model: ErrorModel,
    /// Dark current, one value per pixel, subtracted from the raw signal.
    pub dark: Option<Vec<f32>>,
    /// Flat field, one value per pixel, multiplied into the normalization.
    pub flat: Option<Vec<f32>>,
}

impl Default for IntegrationConfig {
    fn default() -> Self {
        IntegrationConfig {
            bins: 1000,
            azimuthal_bins: None,
            split: Split::BBox,
            radial_range: None,
            azimuth_range: None,
            dummy: None,
            delta_dummy: None,
            error_model: ErrorModel::None,
            dark: None,
            flat: None,
        }
    }
}

/// Per-pixel bin index of the no-splitting engine; `n_bins` marks an unused pixel.
#[derive(Clone, Debug)]
pub(crate) enum BinIndex {
    /// Used when `n_bins < 65535`.
    U16(Vec<u16>),
    /// Used for larger (2D) grids.
    U32(Vec<u32>),
}

impl BinIndex {
    /// Bin of pixel `p`, `None` when the pixel is not integrated (or not in the index).
    pub(crate) fn get(&self, p: usize, n_bins: usize) -> Option<usize> {
        let b = match self {
            BinIndex::U16(v) => *v.get(p)? as usize,
            BinIndex::U32(v) => *v.get(p)? as usize,
        };
        (b < n_bins).then_some(b)
    }
}

/// The frame-independent sums of one bin over its statically valid pixels, without the
/// per-frame normalization factor.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StaticBin {
    /// Σc.
    pub count: f64,
    /// Σc·norm.
    pub norm: f64,
    /// Σ(c·norm)².
    pub norm2: f64,
    /// Σc·dark.
    pub dark: f64,
    /// Entries summed.
    pub entries: u32,
}

impl StaticBin {
    /// The sums of row `bin` of `csr` over the pixels `skip` does not exclude, in the row's
    /// (pixel) order: the same order at build time and when a frame's rejected pixels are
    /// taken out, so that a bin without rejections gets the same bits either way.
    pub(crate) fn of_row(
        csr: &Csr,
        bin: usize,
        norm: &[f64],
        dark: Option<&[f32]>,
        skip: impl Fn(usize) -> bool,
    ) -> StaticBin {
        let mut s = StaticBin::default();
        for (p, c) in csr.row(bin) {
            if skip(p) {
                continue;
            }
            let c = c as f64;
            let w = c * norm.get(p).copied().unwrap_or(0.0);
            s.count += c;
            s.norm += w;
            s.norm2 += w * w;
            if let Some(d) = dark.and_then(|d| d.get(p)) {
                s.dark += c * *d as f64;
            }
            s.entries += 1;
        }
        s
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Kernel {
    Histogram(BinIndex),
    Sparse(Csc),
}

/// Integer interval of raw values rejected by `dummy`/`delta_dummy` (pyFAI compares in float32).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DummyTest {
    dummy: f32,
    delta: f32,
    /// Rejected integers `lo..=hi`; `None` when no integer is rejected.
    int_range: Option<(i32, i32)>,
}

impl DummyTest {
    fn new(dummy: f64, delta: Option<f64>) -> DummyTest {
        let d = dummy as f32;
        let dd = delta.unwrap_or(0.0) as f32;
        let mut t = DummyTest {
            dummy: d,
            delta: dd,
            int_range: None,
        };
        let lo = ((d - dd.abs()) as f64).floor() - 2.0;
        let hi = ((d + dd.abs()) as f64).ceil() + 2.0;
        if lo.is_finite() && hi.is_finite() && lo >= i32::MIN as f64 && hi <= i32::MAX as f64 {
            let mut range: Option<(i32, i32)> = None;
            let (lo, hi) = (lo as i64, hi as i64);
            if hi - lo <= 1 << 20 {
                for v in lo..=hi {
                    if t.rejects(v as f32) {
                        range = Some(match range {
                            None => (v as i32, v as i32),
                            Some((a, _)) => (a, v as i32),
                        });
                    }
                }
                t.int_range = range;
            } else {
                // A huge tolerance: every integer in the float interval is rejected.
                let a = ((d - dd.abs()) as f64).ceil().max(i32::MIN as f64) as i32;
                let b = ((d + dd.abs()) as f64).floor().min(i32::MAX as f64) as i32;
                t.int_range = (a <= b).then_some((a, b));
            }
        }
        t
    }

    /// pyFAI's test, in float32: `true` when the value is invalid.
    #[inline]
    pub(crate) fn rejects(&self, v: f32) -> bool {
        if self.delta == 0.0 {
            v == self.dummy
        } else {
            (v - self.dummy).abs() <= self.delta
        }
    }
}

/// A precomputed integrator for one geometry, mask, grid and set of corrections.
#[derive(Clone, Debug)]
pub struct Engine {
    shape: (usize, usize),
    n_pixels: usize,
    n_bins: usize,
    radial_bins: usize,
    azimuthal_bins: Option<usize>,
    radial: Vec<f64>,
    azimuthal: Option<Vec<f64>>,
    kernel: Kernel,
    /// The matrix cut into tiles, grouped by bin: what integer frames stream through.
    tiles: Tiles,
    csr: Csr,
    /// flat × solid angle × polarization per pixel; 0 where the pixel is statically invalid.
    norm: Vec<f64>,
    dark: Option<Vec<f32>>,
    dummy: Option<DummyTest>,
    error_model: ErrorModel,
    split: Split,
    /// Static per-bin sums over statically valid pixels.
    static_bins: Vec<StaticBin>,
}

fn check_len(what: &'static str, shape: (usize, usize), len: usize) -> Result<(), Error> {
    if len != shape.0 * shape.1 {
        return Err(Error::ShapeMismatch {
            what,
            expected: shape,
            actual: (0, len),
        });
    }
    Ok(())
}

/// Max centre–corner distance radially, and in azimuth modulo 2π (pyFAI's `delta_array`).
fn half_widths(c0: f64, c1: f64, corners: &[[f64; 2]; 4]) -> (f64, f64) {
    let mut d0 = 0.0f64;
    let mut d1 = 0.0f64;
    for c in corners {
        d0 = d0.max((c[0] - c0).abs());
        let d = (c[1] - c1).abs();
        d1 = d1.max(d.min(2.0 * PI - d));
    }
    (d0, d1)
}

impl Engine {
    /// Builds the engine. Errors when an array has the wrong length, the configuration is
    /// unusable (0 bins, splitting without corners, an empty or non-finite range) or no pixel
    /// is valid.
    pub fn new(map: &PixelMap, config: &IntegrationConfig) -> Result<Engine, Error> {
        let shape = map.shape;
        let n = shape
            .0
            .checked_mul(shape.1)
            .filter(|&n| n < u32::MAX as usize)
            .ok_or(Error::DetectorTooLarge { shape })?;
        check_len("radial array", shape, map.radial.len())?;
        check_len("azimuth array", shape, map.azimuth.len())?;
        check_len("solid-angle array", shape, map.solid_angle.len())?;
        check_len("mask", shape, map.mask.len())?;
        if let Some(p) = &map.polarization {
            check_len("polarization array", shape, p.len())?;
        }
        if let Some(c) = &map.corners {
            check_len("corner array", shape, c.len())?;
        }
        if let Some(d) = &config.dark {
            check_len("dark", shape, d.len())?;
        }
        if let Some(f) = &config.flat {
            check_len("flat", shape, f.len())?;
        }
        if config.bins == 0 {
            return Err(Error::ZeroBins {
                axis: AxisKind::Radial,
            });
        }
        if config.azimuthal_bins == Some(0) {
            return Err(Error::ZeroBins {
                axis: AxisKind::Azimuthal,
            });
        }
        let two_d = config.azimuthal_bins.is_some();
        let n_bins = config
            .bins
            .checked_mul(config.azimuthal_bins.unwrap_or(1))
            .filter(|&b| b < u32::MAX as usize - 1)
            .ok_or(Error::TooManyBins {
                radial: config.bins,
                azimuthal: config.azimuthal_bins.unwrap_or(1),
            })?;
        let corners = match (config.split, &map.corners) {
            (Split::No, _) => None,
            (_, Some(c)) => Some(c.as_slice()),
            (split, None) => return Err(Error::MissingCorners { split }),
        };
        for (key, range) in [
            ("radial_range", config.radial_range),
            ("azimuth_range", config.azimuth_range),
        ] {
            if let Some((a, b)) = range {
                for value in [a, b] {
                    if !value.is_finite() {
                        return Err(Error::NotFinite { key, value });
                    }
                }
            }
        }
        if let Some(value) = config.dummy.filter(|d| d.is_nan()) {
            return Err(Error::NotFinite {
                key: "dummy",
                value,
            });
        }
        let mask = &map.mask;
        let geom_ok =
            |i: usize| !mask[i] && map.radial[i].is_finite() && map.azimuth[i].is_finite();
        let disc_at_pi = !(0..n).any(|i| geom_ok(i) && map.azimuth[i] > PI);

        // Per-pixel half widths for bounding-box splitting.
        let deltas: Option<Vec<(f64, f64)>> = match (config.split, corners) {
            (Split::BBox, Some(c)) => Some(
                (0..n)
                    .into_par_iter()
                    .map(|i| half_widths(map.radial[i], map.azimuth[i], &c[i]))
                    .collect(),
            ),
            _ => None,
        };

        // Ranges over the unmasked pixels (pyFAI's calc_boundaries).
        let (r_mm, a_mm) = (0..n)
            .into_par_iter()
            .fold(
                || (MinMax::default(), MinMax::default()),
                |(mut r, mut a), i| {
                    if !geom_ok(i) {
                        return (r, a);
                    }
                    match (config.split, corners) {
                        (Split::Full, Some(c)) => {
                            let c = &c[i];
                            let lo0 = c.iter().map(|x| x[0]).fold(f64::INFINITY, f64::min);
                            let hi0 = c.iter().map(|x| x[0]).fold(f64::NEG_INFINITY, f64::max);
                            let lo1 = c.iter().map(|x| x[1]).fold(f64::INFINITY, f64::min);
                            let hi1 = c.iter().map(|x| x[1]).fold(f64::NEG_INFINITY, f64::max);
                            if lo0.is_finite() && hi0.is_finite() {
                                r.add(lo0, hi0);
                            }
                            if lo1.is_finite() && hi1.is_finite() {
                                a.add(lo1, hi1);
                            }
                        }
                        _ => {
                            let (d0, d1) = deltas.as_ref().map_or((0.0, 0.0), |d| d[i]);
                            let (c0, c1) = (map.radial[i], map.azimuth[i]);
                            r.add(c0 - d0, c0 + d0);
                            a.add(c1 - d1, c1 + d1);
                        }
                    }
                    (r, a)
                },
            )
            .reduce(
                || (MinMax::default(), MinMax::default()),
                |(mut r1, mut a1), (r2, a2)| {
                    if r2.seen {
                        r1.add(r2.lo, r2.hi);
                    }
                    if a2.seen {
                        a1.add(a2.lo, a2.hi);
                    }
                    (r1, a1)
                },
            );
        let (r_lo, r_hi) = match config.radial_range {
            Some((a, b)) => (a.min(b), a.max(b)),
            None => {
                if !r_mm.seen {
                    return Err(Error::NoValidPixel);
                }
                (r_mm.lo.max(0.0), r_mm.hi.max(0.0))
            }
        };
        let azimuth_range_rad = config.azimuth_range.map(|(a, b)| {
            let (a, mut b) = (a.to_radians(), b.to_radians());
            if b <= a {
                b += 2.0 * PI;
            }
            (a, b)
        });
        let (a_lo, a_hi) = match azimuth_range_rad {
            Some(r) => r,
            None => {
                let (lo, hi) = if a_mm.seen {
                    (a_mm.lo, a_mm.hi)
                } else {
                    (f64::NEG_INFINITY, f64::INFINITY)
                };
                if two_d {
                    clip_azimuth(lo, hi, disc_at_pi)
                } else {
                    (lo, hi)
                }
            }
        };
        let radial_axis = Axis::new(r_lo, r_hi, config.bins);
        if !(radial_axis.delta > 0.0 && radial_axis.delta.is_finite()) {
            return Err(Error::DegenerateRange {
                axis: AxisKind::Radial,
                range: (r_lo, r_hi),
            });
        }
        let azimuth_axis = if two_d || azimuth_range_rad.is_some() {
            let ax = Axis::new(a_lo, a_hi, config.azimuthal_bins.unwrap_or(1));
            if !(ax.delta > 0.0 && ax.delta.is_finite()) {
                return Err(Error::DegenerateRange {
                    axis: AxisKind::Azimuthal,
                    range: (a_lo.to_degrees(), a_hi.to_degrees()),
                });
            }
            Some(ax)
        } else {
            None
        };
        let grid = Grid {
            radial: radial_axis,
            azimuth: azimuth_axis,
            two_d,
        };

        // Static per-pixel normalization and validity (pyFAI's preproc, frame-independent part).
        let flat_dummy = DummyTest::new(config.dummy.unwrap_or(0.0), config.delta_dummy);
        let norm: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| {
                if !geom_ok(i) {
                    return 0.0;
                }
                let mut nv = map.solid_angle[i];
                if let Some(p) = &map.polarization {
                    nv *= p[i];
                }
                if let Some(f) = &config.flat {
                    let fv = f[i];
                    if !fv.is_finite() || flat_dummy.rejects(fv) {
                        return 0.0;
                    }
                    nv *= fv as f64;
                }
                if config.dark.as_ref().is_some_and(|d| !d[i].is_finite()) {
                    return 0.0;
                }
                if nv.is_finite() && nv != 0.0 { nv } else { 0.0 }
            })
            .collect();

        // The matrix, built in parallel over chunks of pixels.
        const CHUNK: usize = 1 << 16;
        let parts: Vec<Csc> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let (a, b) = (ci * CHUNK, ((ci + 1) * CHUNK).min(n));
                let mut part = Csc {
                    ptr: Vec::with_capacity(b - a + 1),
                    bins: Vec::new(),
                    coefs: Vec::new(),
                };
                part.ptr.push(0);
                let mut entries: Vec<(u32, f32)> = Vec::with_capacity(64);
                let mut scratch = FullScratch::default();
                for i in a..b {
                    entries.clear();
                    if norm[i] != 0.0 {
                        match (config.split, corners) {
                            (Split::Full, Some(c)) => {
                                if two_d {
                                    split::full_entries_2d(
                                        &grid,
                                        c[i],
                                        disc_at_pi,
                                        &mut scratch,
                                        &mut entries,
                                    )
                                } else {
                                    split::full_entries_1d(
                                        &grid,
                                        c[i],
                                        disc_at_pi,
                                        &mut scratch,
                                        &mut entries,
                                    )
                                }
                            }
                            _ => {
                                let (d0, d1) = deltas.as_ref().map_or((0.0, 0.0), |d| d[i]);
                                let p = PixelGeom {
                                    c0: map.radial[i],
                                    c1: map.azimuth[i],
                                    d0,
                                    d1,
                                };
                                split::bbox_entries(&grid, p, &mut entries);
                            }
                        }
                    }
                    for &(bin, c) in &entries {
                        if c != 0.0 && c.is_finite() && (bin as usize) < n_bins {
                            part.bins.push(bin);
                            part.coefs.push(c);
                        }
                    }
                    part.ptr.push(part.bins.len() as u32);
                }
                part
            })
            .collect();
        let csc = Csc::concat(parts)?;
        let csr = csc.to_csr(n_bins);

        let static_bins: Vec<StaticBin> = (0..n_bins)
            .into_par_iter()
            .map(|b| StaticBin::of_row(&csr, b, &norm, config.dark.as_deref(), |_| false))
            .collect();

        let kernel = if config.split == Split::No {
            // Every pixel has at most one entry of coefficient 1.
            let bin_of = |p: usize| -> usize {
                if csc.ptr[p + 1] > csc.ptr[p] {
                    csc.bins[csc.ptr[p] as usize] as usize
                } else {
                    n_bins
                }
            };
            if n_bins < u16::MAX as usize {
                Kernel::Histogram(BinIndex::U16((0..n).map(|p| bin_of(p) as u16).collect()))
            } else {
                Kernel::Histogram(BinIndex::U32((0..n).map(|p| bin_of(p) as u32).collect()))
            }
        } else {
            Kernel::Sparse(csc)
        };

        let tiles = Tiles::from_csr(&csr, n, config.split != Split::No)?;
        let radial = grid.radial.centres();
        let azimuthal = if two_d {
            grid.azimuth
                .map(|a| a.centres().into_iter().map(f64::to_degrees).collect())
        } else {
            None
        };
        if radial.iter().any(|x| !x.is_finite()) {
            return Err(Error::DegenerateRange {
                axis: AxisKind::Radial,
                range: (r_lo, r_hi),
            });
        }

        Ok(Engine {
            shape,
            n_pixels: n,
            n_bins,
            radial_bins: config.bins,
            azimuthal_bins: config.azimuthal_bins,
            radial,
            azimuthal,
            tiles,
            kernel,
            csr,
            norm,
            dark: config.dark.clone(),
            dummy: config.dummy.map(|d| DummyTest::new(d, config.delta_dummy)),
            error_model: config.error_model,
            split: config.split,
            static_bins,
        })
    }

    /// Radial bin centres, in the pixel map's radial unit.
    pub fn radial(&self) -> &[f64] {
        &self.radial
    }

    /// Azimuthal bin centres in degrees (2D only).
    pub fn azimuthal(&self) -> Option<&[f64]> {
        self.azimuthal.as_deref()
    }

    /// Block size (pixels) that [`Engine::add_block`] sums without copying: blocks starting
    /// on a multiple of it and holding whole tiles of it (the last one may be shorter).
    pub fn preferred_block(&self) -> usize {
        TILE
    }

    /// Number of detector pixels.
    pub fn n_pixels(&self) -> usize {
        self.n_pixels
    }

    /// Detector shape (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Number of output bins (radial × azimuthal in 2D).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// The error model the engine was built with.
    pub fn error_model(&self) -> ErrorModel {
        self.error_model
    }

    /// The pixel splitting the engine was built with.
    pub fn split(&self) -> Split {
        self.split
    }

    /// No-splitting engines: the bin of each pixel (flat index `radial * azimuthal_bins +
    /// azimuthal` in 2D, `n_bins()` for pixels not integrated). `None` for splitting engines.
    #[cfg(feature = "gpu")]
    pub(crate) fn bin_index(&self) -> Option<&BinIndex> {
        match &self.kernel {
            Kernel::Histogram(b) => Some(b),
            Kernel::Sparse(_) => None,
        }
    }

    /// The integration matrix in pyFAI's CSR layout.
    #[cfg(feature = "gpu")]
    pub(crate) fn csr(&self) -> &Csr {
        &self.csr
    }

    /// The integration matrix, read-only, in pyFAI's CSR layout: one row per flat bin
    /// (radial-major in 2D: `radial * azimuthal_bins + azimuthal`), entries in increasing
    /// pixel order, float32 coefficients (1 without splitting). Every engine has one.
    pub fn matrix(&self) -> IntegrationMatrix<'_> {
        IntegrationMatrix::new(&self.csr, self.n_pixels)
    }

    /// `Some` for splitting engines: kept so that `engine.csc().is_some()` keeps compiling.
    /// Use [`Engine::split`] (`!= Split::No`) to ask whether an engine splits pixels, and
    /// [`Engine::matrix`] to read its matrix.
    #[doc(hidden)]
    pub fn csc(&self) -> Option<IntegrationMatrix<'_>> {
        match &self.kernel {
            Kernel::Histogram(_) => None,
            Kernel::Sparse(_) => Some(self.matrix()),
        }
    }

    /// Per-pixel normalization without the per-frame factor: flat × solid angle ×
    /// polarization, 0 for pixels that are masked or statically invalid.
    pub fn normalization(&self) -> &[f64] {
        &self.norm
    }

    /// Per-pixel dark current, when configured.
    pub fn dark(&self) -> Option<&[f32]> {
        self.dark.as_deref()
    }

    /// Raw values rejected by `dummy`/`delta_dummy`: `(dummy, delta)` in float32 as pyFAI
    /// compares them (`delta == 0`: equality; otherwise `|v − dummy| <= delta` is rejected).
    pub fn dummy(&self) -> Option<(f32, f32)> {
        self.dummy.map(|d| (d.dummy, d.delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_names_roundtrip() {
        for s in Split::ALL {
            assert_eq!(s.to_string().parse::<Split>().unwrap(), s);
            assert_eq!(s.name().to_uppercase().parse::<Split>().unwrap(), s);
        }
        // The spellings the pipeline's option parser has always accepted.
        assert_eq!("none".parse::<Split>().unwrap(), Split::No);
        assert_eq!("Pseudo".parse::<Split>().unwrap(), Split::Full);
        let err = "splitpixel".parse::<Split>().unwrap_err();
        assert!(matches!(err, Error::UnknownSplit { .. }), "{err}");
        assert!(err.to_string().contains("splitpixel"), "{err}");
    }

    #[test]
    fn error_model_names_roundtrip() {
        for m in ErrorModel::ALL {
            assert_eq!(m.to_string().parse::<ErrorModel>().unwrap(), m);
            assert_eq!(m.name().to_uppercase().parse::<ErrorModel>().unwrap(), m);
        }
        assert_eq!("no".parse::<ErrorModel>().unwrap(), ErrorModel::None);
        let err = "hybrid".parse::<ErrorModel>().unwrap_err();
        assert!(matches!(err, Error::UnknownErrorModel { .. }), "{err}");
    }

    proptest! {
        /// Any string either parses to a value whose name parses back to it, or is an
        /// error naming the string; nothing panics.
        #[test]
        fn parsing_any_string_is_total(s in any::<String>()) {
            match s.parse::<Split>() {
                Ok(v) => prop_assert_eq!(v.name().parse::<Split>().unwrap(), v),
                Err(e) => {
                    let named = matches!(&e, Error::UnknownSplit { name } if *name == s);
                    prop_assert!(named, "{}", e);
                }
            }
            match s.parse::<ErrorModel>() {
                Ok(v) => prop_assert_eq!(v.name().parse::<ErrorModel>().unwrap(), v),
                Err(e) => {
                    let named = matches!(&e, Error::UnknownErrorModel { name } if *name == s);
                    prop_assert!(named, "{}", e);
                }
            }
        }

        /// Names parse whatever their case.
        #[test]
        fn names_parse_in_any_case(mask in any::<u16>(), k in 0usize..3) {
            let mix = |name: &str| -> String {
                name.chars()
                    .enumerate()
                    .map(|(i, c)| if mask >> (i % 16) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                    .collect()
            };
            prop_assert_eq!(mix(Split::ALL[k].name()).parse::<Split>().unwrap(), Split::ALL[k]);
            prop_assert_eq!(
                mix(ErrorModel::ALL[k].name()).parse::<ErrorModel>().unwrap(),
                ErrorModel::ALL[k]
            );
        }
    }
}
