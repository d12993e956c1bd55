//! Per-frame accumulation (the hot loops) and the final division into a [`Pattern`].
//!
//! ## Integer frames
//! Pixels go through the tiled matrix (the `tiles` module): whole tiles straight from the
//! caller's block, partial ones staged until complete, so the sums never depend on how a
//! frame is cut into blocks. Without splitting the signal Σv and the Poisson correction
//! Σmax(1 − v, 0) (variance Σmax(v, 1) = Σv + Σmax(1 − v, 0)) are exact `i64`s; with
//! splitting, `f64` sums of `c·v` and `c²·max(v, 1)`.
//!
//! ## Float frames
//! The per-pixel matrix (bin index or CSC) is scattered in `f64`.
//!
//! ## Rejected pixels
//! Pixels whose raw value is a dummy are not added; their index is recorded and
//! [`Engine::finish`] sums the frame-independent quantities (count, normalization,
//! normalization², dark) of the bins they touch again without them.

#![forbid(unsafe_code)]

use super::tiles::{IntReject, TILE, TileSums, Tiles};
use super::{Engine, ErrorModel, Kernel, StaticBin};
use crate::Error;

/// The running sums of one frame. Create with [`Engine::new_accumulator`], feed with
/// [`Engine::add_block`] / [`Engine::add_block_f32`], read with [`Engine::finish`]; reuse
/// with [`Accumulator::reset`].
#[derive(Clone, Debug)]
pub struct Accumulator {
    /// Σv per bin (integer frames, no splitting).
    hist: Vec<i64>,
    /// Σmax(1 − v, 0) per bin (integer frames, no splitting).
    low: Vec<i64>,
    /// Float sums (splitting, or float frames): (signal, variance) per bin.
    sums_f: Vec<[f64; 2]>,
    /// Pixels rejected by the dummy test.
    rejected: Vec<u32>,
    /// Raw frame kept for the azimuthal error model (NaN where not given).
    raw: Vec<f32>,
    /// Pixels of tiles that arrived in pieces (allocated on first use).
    stage: Vec<i32>,
    /// Pixels received so far of each tile.
    tile_fill: Vec<u32>,
    /// The last, shorter tile padded to a whole one.
    last_tile: Vec<i32>,
    pixels_added: usize,
}

impl Accumulator {
    /// Clears the sums for the next frame, keeping the allocations.
    pub fn reset(&mut self) {
        self.hist.fill(0);
        self.low.fill(0);
        self.sums_f.fill([0.0; 2]);
        self.rejected.clear();
        self.raw.fill(f32::NAN);
        self.tile_fill.fill(0);
        self.pixels_added = 0;
    }

    /// Number of pixels added so far.
    pub fn pixels_added(&self) -> usize {
        self.pixels_added
    }

    /// The sums the tile kernels add into.
    fn tile_sums(&mut self) -> TileSums<'_> {
        TileSums {
            hist: &mut self.hist,
            low: &mut self.low,
            sums: &mut self.sums_f,
            rejected: &mut self.rejected,
        }
    }
}

/// `px` (at most one tile) as a whole tile: itself, or a copy in `buf` zero-padded to [`TILE`]
/// (the padding is never read) when it is the shorter last tile or when `copy` asks for it.
fn whole_tile_of<'a>(px: &'a [i32], buf: &'a mut Vec<i32>, copy: bool) -> Option<&'a [i32; TILE]> {
    if !copy && px.len() == TILE {
        return px.try_into().ok();
    }
    buf.clear();
    buf.extend_from_slice(&px[..px.len().min(TILE)]);
    buf.resize(TILE, 0);
    buf.as_slice().try_into().ok()
}

/// A normalization factor (monitor) must be finite and non-zero.
pub(crate) fn check_normalization_factor(value: f64) -> Result<(), Error> {
    if value.is_finite() && value != 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidNormalizationFactor { value })
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

/// A pixel value type the engines integrate: `i32` (counting detectors; summed exactly
/// through the tiled integer kernels) and `f32` (anything else, NaN and ±inf invalid).
/// Sealed: no other type can implement it.
pub trait PixelValue: Copy + Send + Sync + sealed::Sealed {
    /// As float32, the type pyFAI processes frames in.
    fn to_f32(self) -> f32;
    /// As f64 (exact for i32).
    fn to_f64(self) -> f64;
}

pub(crate) mod sealed {
    use super::{Accumulator, Engine};
    use crate::Error;

    /// Seals [`PixelValue`](super::PixelValue) and routes a block to the engine's kernel
    /// for the type.
    pub trait Sealed: Sized {
        /// Adds `pixels` (first pixel `first`) to `acc`.
        fn add_block(
            engine: &Engine,
            acc: &mut Accumulator,
            first: usize,
            pixels: &[Self],
        ) -> Result<(), Error>;
    }

    impl Sealed for i32 {
        fn add_block(
            engine: &Engine,
            acc: &mut Accumulator,
            first: usize,
            pixels: &[i32],
        ) -> Result<(), Error> {
            engine.add_block(acc, first, pixels)
        }
    }

    impl Sealed for f32 {
        fn add_block(
            engine: &Engine,
            acc: &mut Accumulator,
            first: usize,
            pixels: &[f32],
        ) -> Result<(), Error> {
            engine.add_block_f32(acc, first, pixels)
        }
    }
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

impl Engine {
    /// A zeroed accumulator sized for this engine.
    pub fn new_accumulator(&self) -> Accumulator {
        let nb = self.n_bins;
        let raw = if self.error_model == ErrorModel::Azimuthal {
            vec![f32::NAN; self.n_pixels]
        } else {
            Vec::new()
        };
        Accumulator {
            hist: vec![0; nb],
            low: vec![0; nb],
            sums_f: vec![[0.0; 2]; nb],
            rejected: Vec::new(),
            raw,
            stage: Vec::new(),
            tile_fill: vec![0; self.tiles.n_tiles()],
            last_tile: Vec::new(),
            pixels_added: 0,
        }
    }

    fn check_block(&self, acc: &Accumulator, first: usize, len: usize) -> Result<(), Error> {
        if first.checked_add(len).is_none_or(|end| end > self.n_pixels) {
            return Err(Error::BlockOutOfRange {
                first,
                len,
                n_pixels: self.n_pixels,
            });
        }
        self.check_accumulator(acc)
    }

    /// Whether `acc` has this engine's sizes.
    fn check_accumulator(&self, acc: &Accumulator) -> Result<(), Error> {
        if acc.sums_f.len() != self.n_bins
            || acc.hist.len() != self.n_bins
            || acc.low.len() != self.n_bins
            || acc.tile_fill.len() != self.tiles.n_tiles()
            || (self.error_model == ErrorModel::Azimuthal && acc.raw.len() != self.n_pixels)
        {
            return Err(Error::ForeignAccumulator);
        }
        Ok(())
    }

    /// Adds a block of integer pixels `first_pixel .. first_pixel + pixels.len()` (row-major
    /// index) to the frame's sums. Blocks may come in any order and size; each pixel must be
    /// added exactly once per frame. Blocks that start on a multiple of
    /// [`Engine::preferred_block`] and hold whole tiles are summed where they are; other
    /// pixels are copied until their tile is complete. The sums do not depend on the blocks.
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
        let n = self.n_pixels;
        let mut pos = 0;
        while pos < pixels.len() {
            let p = first_pixel + pos;
            let t = p / TILE;
            let (start, end) = (t * TILE, ((t + 1) * TILE).min(n));
            let rest = &pixels[pos..];
            if p == start && rest.len() >= end - start {
                // A block larger than a tile is part of a whole frame in memory, likely out
                // of cache: one sequential copy into a buffer that stays in L2 comes before
                // the bin-ordered reads.
                self.add_tile(acc, t, &rest[..end - start], pixels.len() > TILE);
                pos += end - start;
                continue;
            }
            // Part of a tile: staged until the tile is complete.
            let take = (end - p).min(rest.len());
            if acc.stage.len() != n {
                acc.stage = vec![0; n];
            }
            acc.stage[p..p + take].copy_from_slice(&rest[..take]);
            acc.tile_fill[t] += take as u32;
            if acc.tile_fill[t] as usize == end - start {
                let staged = std::mem::take(&mut acc.stage);
                self.add_tile(acc, t, &staged[start..end], false);
                acc.stage = staged;
            }
            pos += take;
        }
        Ok(())
    }

    /// Adds the same block of `N` frames, each to its own accumulator: the same sums as `N`
    /// [`Engine::add_block`] calls. When the block is one whole tile (blocks of
    /// [`Engine::preferred_block`] from the start of the frame), splitting engines stream
    /// their matrix once for all the frames, which divides its memory traffic by `N`.
    pub fn add_blocks<const N: usize>(
        &self,
        mut acc: [&mut Accumulator; N],
        first_pixel: usize,
        pixels: [&[i32]; N],
    ) -> Result<(), Error> {
        let t = first_pixel / TILE;
        let end = ((t + 1) * TILE).min(self.n_pixels);
        let whole_tile = first_pixel == t * TILE
            && end > first_pixel
            && pixels.iter().all(|px| px.len() == end - first_pixel);
        if !whole_tile
            || !matches!(self.kernel, Kernel::Sparse(_))
            || self.error_model == ErrorModel::Azimuthal
        {
            for (acc, px) in acc.into_iter().zip(pixels) {
                self.add_block(acc, first_pixel, px)?;
            }
            return Ok(());
        }
        for (acc, px) in acc.iter().zip(&pixels) {
            self.check_block(acc, first_pixel, px.len())?;
        }
        let mut bufs: [Vec<i32>; N] = std::array::from_fn(|_| Vec::new());
        for ((acc, buf), px) in acc.iter_mut().zip(&mut bufs).zip(pixels) {
            acc.pixels_added += px.len();
            *buf = std::mem::take(&mut acc.last_tile);
        }
        let tiles: Vec<&[i32; TILE]> = bufs
            .iter_mut()
            .zip(pixels)
            .filter_map(|(buf, px)| whole_tile_of(px, buf, false))
            .collect();
        if let Ok(tiles) = <[&[i32; TILE]; N]>::try_from(tiles) {
            let rej = self.int_reject();
            let mut outs = acc.each_mut().map(|a| a.tile_sums());
            let out = outs.each_mut();
            if self.error_model == ErrorModel::Poisson {
                self.tiles.split_multi::<true, N>(t, tiles, rej, out);
            } else {
                self.tiles.split_multi::<false, N>(t, tiles, rej, out);
            }
        }
        for (acc, buf) in acc.iter_mut().zip(bufs) {
            acc.last_tile = buf;
        }
        Ok(())
    }

    /// The dummy range as an integer test.
    fn int_reject(&self) -> Option<IntReject> {
        self.dummy
            .as_ref()
            .and_then(|d| d.int_range)
            .map(|(lo, hi)| IntReject {
                lo,
                span: (hi as i64 - lo as i64) as u32,
            })
    }

    /// Sums one complete tile (`px` holds all its pixels); `copy`: through the
    /// accumulator's tile buffer even when `px` is a whole tile.
    fn add_tile(&self, acc: &mut Accumulator, tile: usize, px: &[i32], copy: bool) {
        let mut buf = std::mem::take(&mut acc.last_tile);
        if let Some(whole) = whole_tile_of(px, &mut buf, copy) {
            let rej = self.int_reject();
            let mut out = acc.tile_sums();
            let tiles: &Tiles = &self.tiles;
            match &self.kernel {
                Kernel::Histogram(_) => tiles.hist(tile, whole, rej, &mut out),
                Kernel::Sparse(_) if self.error_model == ErrorModel::Poisson => {
                    tiles.split::<true>(tile, whole, rej, &mut out)
                }
                Kernel::Sparse(_) => tiles.split::<false>(tile, whole, rej, &mut out),
            }
        }
        acc.last_tile = buf;
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
        self.check_accumulator(acc)?;
        if acc.pixels_added != self.n_pixels {
            return Err(Error::IncompleteFrame {
                added: acc.pixels_added,
                expected: self.n_pixels,
            });
        }
        check_normalization_factor(normalization_factor)?;
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
                    let s_all = acc.hist[b];
                    let v_all = s_all.wrapping_add(acc.low[b]);
                    signal[b] = s_all as f64 + acc.sums_f[b][0];
                    variance[b] = v_all as f64 + acc.sums_f[b][1];
                }
            }
            Kernel::Sparse(_) => {
                for b in 0..nb {
                    signal[b] = acc.sums_f[b][0];
                    variance[b] = acc.sums_f[b][1];
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
        for (what, sums) in [("signal sums", signal), ("variance sums", variance)] {
            if sums.len() != nb {
                return Err(Error::BinCountMismatch {
                    what,
                    expected: nb,
                    actual: sums.len(),
                });
            }
        }
        check_normalization_factor(nf)?;
        // Static sums; the bins that lost rejected pixels are summed again without them, in
        // the same order (subtracting would cancel badly when most of a bin is rejected).
        let mut statics = self.static_bins.clone();
        if !rejected.is_empty() {
            let mut is_rejected = vec![0u64; self.n_pixels.div_ceil(64)];
            let mut touched = vec![false; nb];
            for &p in rejected {
                let p = p as usize;
                if p >= self.n_pixels {
                    return Err(Error::PixelOutOfRange {
                        pixel: p,
                        n_pixels: self.n_pixels,
                    });
                }
                is_rejected[p / 64] |= 1 << (p % 64);
                match &self.kernel {
                    Kernel::Histogram(index) => {
                        if let Some(b) = index.get(p, nb) {
                            touched[b] = true;
                        }
                    }
                    Kernel::Sparse(csc) => {
                        for &b in csc.bins_of(p) {
                            if let Some(t) = touched.get_mut(b as usize) {
                                *t = true;
                            }
                        }
                    }
                }
            }
            let skip = |p: usize| is_rejected[p / 64] & (1 << (p % 64)) != 0;
            for (b, st) in statics.iter_mut().enumerate().filter(|(b, _)| touched[*b]) {
                *st = StaticBin::of_row(&self.csr, b, &self.norm, self.dark.as_deref(), skip);
            }
        }
        let with_var = self.error_model == ErrorModel::Poisson;
        let mut out = self.empty_pattern();
        for (b, st) in statics.iter().enumerate() {
            if st.entries == 0 || st.norm2 <= 0.0 {
                continue;
            }
            let s = signal[b] - st.dark;
            let n = st.norm * nf;
            let n2 = st.norm2 * nf * nf;
            let v = if with_var { variance[b] } else { 0.0 };
            let o = self.out_index(b);
            out.sum_signal[o] = s;
            out.sum_variance[o] = v;
            out.sum_normalization[o] = n;
            out.sum_normalization2[o] = n2;
            out.count[o] = st.count;
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

    /// Integrates a whole frame (row-major, one value per pixel) of `i32` or `f32` pixels;
    /// `normalization_factor` (monitor) multiplies every pixel's normalization. Errors when
    /// the frame does not have the detector's number of pixels or the factor is zero or not
    /// finite.
    pub fn integrate<T: PixelValue>(
        &self,
        frame: &[T],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.check_frame(frame.len())?;
        check_normalization_factor(normalization_factor)?;
        let mut acc = self.new_accumulator();
        T::add_block(self, &mut acc, 0, frame)?;
        self.finish(&acc, normalization_factor)
    }

    /// Integrates a whole integer frame ([`Engine::integrate`] for `i32`).
    pub fn integrate_i32(
        &self,
        frame: &[i32],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.integrate(frame, normalization_factor)
    }

    /// Integrates a whole float frame ([`Engine::integrate`] for `f32`).
    pub fn integrate_f32(
        &self,
        frame: &[f32],
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        self.integrate(frame, normalization_factor)
    }
}
