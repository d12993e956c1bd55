//! Whole-frame per-bin passes over the CSR matrix, as pyFAI's `CsrIntegrator`: the azimuthal
//! error model (an order-dependent online update), sigma clipping (`sigma_clip_ng`) and the
//! quantile/median filter (`medfilt_ng`). They work on pyFAI's float32 preprocessed pixels.

#![forbid(unsafe_code)]

use super::accumulate::{Pattern, PixelValue, check_normalization_factor};
use super::{Engine, ErrorModel};
use crate::Error;
use rayon::prelude::*;

/// Options of [`Engine::sigma_clip`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SigmaClipOptions {
    /// Maximum number of clipping iterations (pyFAI's `max_iter`, default 5).
    pub max_iter: usize,
    /// Minimum cut-off in standard deviations; the cut-off is `max(thres, Chauvenet)` where
    /// Chauvenet's is `√(2·ln(n/√(2π)))`. Default 0: Chauvenet's criterion alone (pyFAI's
    /// `sigma_clip_ng` defaults to 5).
    pub thres: f64,
    /// Poisson or azimuthal (the variance within the bin); `None` behaves as azimuthal-free
    /// Poisson-less clipping with zero variance, i.e. nothing is clipped.
    pub error_model: ErrorModel,
    /// Per-frame normalization factor (monitor).
    pub normalization_factor: f64,
}

impl Default for SigmaClipOptions {
    fn default() -> Self {
        SigmaClipOptions {
            max_iter: 5,
            thres: 0.0,
            error_model: ErrorModel::Azimuthal,
            normalization_factor: 1.0,
        }
    }
}

/// pyFAI's preprocessed pixel (float32): signal, variance, normalization, count.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pre {
    pub sig: f32,
    pub var: f32,
    pub norm: f32,
    pub count: f32,
}

impl Pre {
    fn usable(&self) -> bool {
        !(self.sig.is_nan() || self.var.is_nan() || self.norm.is_nan() || self.count.is_nan())
            && self.norm != 0.0
            && self.count != 0.0
    }
}

#[derive(Clone, Copy, Default)]
struct Sums {
    sig: f64,
    var: f64,
    norm: f64,
    norm2: f64,
    count: f64,
}

/// Accumulates one pixel of coefficient `c` (pyFAI's CSR update; `azimuthal` uses the online
/// variance of the normalized signal).
#[inline]
fn update(s: &mut Sums, c: f64, p: &Pre, azimuthal: bool) {
    let (sig, var, norm, count) = (p.sig as f64, p.var as f64, p.norm as f64, p.count as f64);
    let w = c * norm;
    if azimuthal {
        if s.norm2 <= 0.0 {
            s.sig = c * sig;
            s.norm = w;
            s.norm2 = w * w;
            s.count = c * count;
        } else {
            let omega_a = s.norm;
            let omega2_b = w * w;
            s.norm = omega_a + w;
            s.norm2 += omega2_b;
            let b = sig / norm;
            let delta1 = s.sig / omega_a - b;
            s.sig += c * sig;
            let delta2 = s.sig / s.norm - b;
            s.var += omega2_b * delta1 * delta2;
            s.count += c * count;
        }
    } else {
        s.sig += c * sig;
        s.var += c * c * var;
        s.norm += w;
        s.norm2 += w * w;
        s.count += c * count;
    }
}

impl Engine {
    /// pyFAI's `preproc` of a whole frame in float32 (invalid pixels are all zero).
    pub(crate) fn preprocess<T: PixelValue>(&self, frame: &[T], nf: f64) -> Vec<Pre> {
        self.preprocess_model(frame, nf, self.error_model)
    }

    /// [`Engine::preprocess`] with another error model.
    pub(crate) fn preprocess_model<T: PixelValue>(
        &self,
        frame: &[T],
        nf: f64,
        model: ErrorModel,
    ) -> Vec<Pre> {
        let poisson = model == ErrorModel::Poisson;
        let nf32 = nf as f32;
        frame
            .par_iter()
            .enumerate()
            .map(|(i, &v)| {
                let raw = v.to_f32();
                let n = self.norm[i];
                if n == 0.0 || !raw.is_finite() || self.dummy.is_some_and(|d| d.rejects(raw)) {
                    return Pre::default();
                }
                let sig = match &self.dark {
                    Some(d) => raw - d[i],
                    None => raw,
                };
                let norm = nf32 * n as f32;
                let var = if poisson { raw.max(1.0) } else { 0.0 };
                if !(sig.is_finite() && norm.is_finite() && norm != 0.0) {
                    return Pre::default();
                }
                Pre {
                    sig,
                    var,
                    norm,
                    count: 1.0,
                }
            })
            .collect()
    }

    fn integrate_row(&self, row: usize, pre: &[Pre], azimuthal: bool) -> Sums {
        let mut s = Sums::default();
        for (p, c) in self.csr.row(row) {
            let c = c as f64;
            let px = &pre[p];
            if px.count == 0.0 && px.norm == 0.0 {
                // Invalid pixel: contributes nothing (its preprocessed values are 0).
                continue;
            }
            update(&mut s, c, px, azimuthal);
        }
        s
    }

    fn write_bin(&self, out: &mut Pattern, b: usize, s: &Sums, with_var: bool) {
        if s.norm2 <= 0.0 {
            return;
        }
        let o = self.out_index(b);
        out.sum_signal[o] = s.sig;
        out.sum_variance[o] = s.var;
        out.sum_normalization[o] = s.norm;
        out.sum_normalization2[o] = s.norm2;
        out.count[o] = s.count;
        out.intensity[o] = s.sig / s.norm;
        if with_var {
            out.sigma[o] = s.var.sqrt() / s.norm;
            out.std[o] = (s.var / s.norm2).sqrt();
        }
    }

    /// Integration of preprocessed pixels by CSR rows in pixel order (pyFAI's `integrate_ng`).
    pub(crate) fn csr_integrate(&self, pre: &[Pre], azimuthal: bool) -> Pattern {
        let sums: Vec<Sums> = (0..self.n_bins)
            .into_par_iter()
            .map(|b| self.integrate_row(b, pre, azimuthal))
            .collect();
        let with_var = self.error_model != ErrorModel::None;
        let mut out = self.empty_pattern();
        for (b, s) in sums.iter().enumerate() {
            self.write_bin(&mut out, b, s, with_var);
        }
        out
    }

    /// Iterative sigma clipping per bin, pyFAI's `sigma_clip_ng` (CSR `sigma_clip`): pixels
    /// whose normalized value is farther than `max(thres, Chauvenet)` standard deviations from
    /// the bin mean are discarded, up to `max_iter` times; the pattern of the kept pixels is
    /// returned. Rejections are per pixel, so with pixel splitting a pixel discarded in one bin
    /// is discarded from its other bins that are processed later, as in pyFAI.
    pub fn sigma_clip<T: PixelValue>(
        &self,
        frame: &[T],
        opts: SigmaClipOptions,
    ) -> Result<Pattern, Error> {
        if frame.len() != self.n_pixels {
            return Err(Error::ShapeMismatch {
                what: "frame",
                expected: self.shape,
                actual: (0, frame.len()),
            });
        }
        let nf = opts.normalization_factor;
        check_normalization_factor(nf)?;
        let mut pre = self.preprocess_model(frame, nf, opts.error_model);
        let azimuthal = opts.error_model == ErrorModel::Azimuthal;
        let mut out = self.empty_pattern();
        // Bins are processed in order; a pixel flagged in one bin stays flagged (pyFAI marks
        // count = NaN in the shared preprocessed array).
        for b in 0..self.n_bins {
            let integrate = |pre: &[Pre]| {
                let mut s = Sums::default();
                for (p, c) in self.csr.row(b) {
                    let px = &pre[p];
                    if !px.usable() {
                        continue;
                    }
                    update(&mut s, c as f64, px, azimuthal);
                }
                s
            };
            let mut s = integrate(&pre);
            let stats = |s: &Sums| {
                if s.norm2 > 0.0 {
                    (s.sig / s.norm, (s.var / s.norm2).sqrt())
                } else {
                    (f64::NAN, f64::NAN)
                }
            };
            let (mut aver, mut std) = stats(&s);
            for _ in 0..opts.max_iter {
                if s.norm == 0.0 || s.count == 0.0 {
                    break;
                }
                let cnt = s.count.max(3.0);
                let cutoff = opts
                    .thres
                    .max((2.0 * (cnt / (2.0 * std::f64::consts::PI).sqrt()).ln()).sqrt());
                let mut bad = 0usize;
                for (p, _) in self.csr.row(b) {
                    let px = pre[p];
                    if !px.usable() {
                        continue;
                    }
                    let x = px.sig as f64 / px.norm as f64;
                    if (x - aver).abs() > cutoff * std {
                        pre[p].count = f32::NAN;
                        bad += 1;
                    }
                }
                if bad == 0 {
                    break;
                }
                s = integrate(&pre);
                (aver, std) = stats(&s);
            }
            if s.count > 0.0 && s.norm != 0.0 {
                let o = self.out_index(b);
                out.sum_signal[o] = s.sig;
                out.sum_variance[o] = s.var;
                out.sum_normalization[o] = s.norm;
                out.sum_normalization2[o] = s.norm2;
                out.count[o] = s.count;
                out.intensity[o] = aver;
                out.std[o] = std;
                out.sigma[o] = s.var.sqrt() / s.norm;
            }
        }
        Ok(out)
    }

    /// Quantile mean per bin, pyFAI's `medfilt_ng` (CSR `medfilt`): the pixels of each bin are
    /// sorted by normalized value (float32 `signal / norm`), their weights `c·norm` cumulated,
    /// and the pixels whose cumulated-weight interval lies within `[q_lo, q_hi]` of the total
    /// (or, for a single quantile, spans it) are averaged. `(0.5, 0.5)` gives the median. The engine's error model sets the variance.
    pub fn medfilt<T: PixelValue>(
        &self,
        frame: &[T],
        quantiles: (f64, f64),
        normalization_factor: f64,
    ) -> Result<Pattern, Error> {
        if frame.len() != self.n_pixels {
            return Err(Error::ShapeMismatch {
                what: "frame",
                expected: self.shape,
                actual: (0, frame.len()),
            });
        }
        let (q_lo, q_hi) = quantiles;
        if !(0.0..=1.0).contains(&q_lo) || !(0.0..=1.0).contains(&q_hi) || q_lo > q_hi {
            return Err(Error::InvalidQuantiles {
                low: q_lo,
                high: q_hi,
            });
        }
        check_normalization_factor(normalization_factor)?;
        let pre = self.preprocess(frame, normalization_factor);
        let with_var = self.error_model != ErrorModel::None;
        let sums: Vec<Sums> = (0..self.n_bins)
            .into_par_iter()
            .map(|b| {
                // (value, c·sig, c²·var, c·norm) in float32, as pyFAI's work array.
                let mut work: Vec<[f32; 4]> = self
                    .csr
                    .row(b)
                    .filter(|(p, _)| pre[*p].norm != 0.0)
                    .map(|(p, c)| {
                        let px = pre[p];
                        [px.sig / px.norm, px.sig * c, px.var * c * c, px.norm * c]
                    })
                    .collect();
                work.sort_by(|a, b| a[0].total_cmp(&b[0]));
                // Cumulated weights in f64, stored as float32 as pyFAI's work array does.
                let mut cum = 0.0f64;
                let cums: Vec<f32> = work
                    .iter()
                    .map(|w| {
                        cum += w[3] as f64;
                        cum as f32
                    })
                    .collect();
                let (qmin, qmax) = ((q_lo * cum) as f32, (q_hi * cum) as f32);
                let mut s = Sums::default();
                let mut prev = 0.0f32;
                for (w, &cur) in work.iter().zip(&cums) {
                    // Pixels wholly inside [qmin, qmax], or the one spanning it (median).
                    let inside = (qmin <= prev && cur <= qmax) || (qmin >= prev && cur >= qmax);
                    if w[3] != 0.0 && inside {
                        s.sig += w[1] as f64;
                        s.var += w[2] as f64;
                        s.norm += w[3] as f64;
                        s.norm2 += (w[3] * w[3]) as f64;
                        s.count += 1.0;
                    }
                    prev = cur;
                }
                s
            })
            .collect();
        let mut out = self.empty_pattern();
        for (b, s) in sums.iter().enumerate() {
            if s.norm <= 0.0 {
                continue;
            }
            let o = self.out_index(b);
            out.sum_signal[o] = s.sig;
            out.sum_variance[o] = s.var;
            out.sum_normalization[o] = s.norm;
            out.sum_normalization2[o] = s.norm2;
            out.count[o] = s.count;
            out.intensity[o] = s.sig / s.norm;
            if with_var {
                out.sigma[o] = s.var.sqrt() / s.norm;
                out.std[o] = (s.var / s.norm2).sqrt();
            }
        }
        Ok(out)
    }
}
