//! Seeded generator of realistic Pilatus3 2M CdTe frames.
//!
//! The frames look like what a materials beamline records during an XRD-CT scan: powder
//! rings of a few hundred counts over a smooth 0–10 count background, −1 in the module gaps
//! (and in the three middle columns of every CdTe module), a few hot pixels, zingers and
//! Poisson noise. Compressed with byte-offset they take about one byte per pixel, like real
//! data. Everything is deterministic for a given seed, so tests, benchmarks and the demo
//! see the same frames on every machine.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Rows (slow axis) of a Pilatus 2M.
pub const PILATUS2M_ROWS: usize = 1679;
/// Columns (fast axis) of a Pilatus 2M.
pub const PILATUS2M_COLS: usize = 1475;
/// Pixel size of every Pilatus, metres.
pub const PILATUS_PIXEL_M: f64 = 172e-6;
const MODULE_ROWS: usize = 195;
const MODULE_COLS: usize = 487;
const GAP_ROWS: usize = 17;
const GAP_COLS: usize = 7;

/// `true` where a Pilatus 2M pixel is not sensitive (row-major, slowest index outermost).
///
/// With `cdte`, the three middle columns of every module (columns 242–244 of the module, the
/// joint of the two CdTe half-sensors) are insensitive too, as in the CdTe detectors.
pub fn pilatus2m_gap_mask(cdte: bool) -> Vec<bool> {
    let mut mask = vec![false; PILATUS2M_ROWS * PILATUS2M_COLS];
    for r in 0..PILATUS2M_ROWS {
        let in_row_gap = r % (MODULE_ROWS + GAP_ROWS) >= MODULE_ROWS;
        for c in 0..PILATUS2M_COLS {
            let mc = c % (MODULE_COLS + GAP_COLS);
            let in_col_gap = mc >= MODULE_COLS;
            let in_cdte_joint = cdte && (242..=244).contains(&mc);
            mask[r * PILATUS2M_COLS + c] = in_row_gap || in_col_gap || in_cdte_joint;
        }
    }
    mask
}

/// A flat, untilted detector geometry, enough to render rings.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthGeometry {
    /// Sample–detector distance, metres.
    pub distance_m: f64,
    /// X-ray wavelength, metres.
    pub wavelength_m: f64,
    /// Point of normal incidence, slow axis, in pixels from the detector's first row edge.
    pub poni_row_px: f64,
    /// Point of normal incidence, fast axis, in pixels.
    pub poni_col_px: f64,
    /// Linear polarization factor (pyFAI convention, 0.99 at a synchrotron).
    pub polarization: f64,
}

impl Default for SynthGeometry {
    /// 70 keV, 0.40 m, beam a few pixels off the detector centre: a high-energy XRD-CT setup.
    fn default() -> Self {
        SynthGeometry {
            distance_m: 0.40,
            wavelength_m: 12.398_419_843_320_026e-10 / 70.0,
            poni_row_px: 852.3,
            poni_col_px: 730.6,
            polarization: 0.99,
        }
    }
}

/// One powder ring: position, peak height in counts and width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ring {
    /// Scattering angle of the ring centre, degrees.
    pub two_theta_deg: f64,
    /// Peak height, counts (before solid-angle and polarization factors).
    pub amplitude: f64,
    /// Full width at half maximum, degrees.
    pub fwhm_deg: f64,
}

/// d-spacings (Å) of the strongest CeO2 reflections, a common calibrant and demo phase.
pub const CEO2_D_SPACINGS: [f64; 10] = [
    3.1243, 2.7057, 1.9132, 1.6316, 1.5621, 1.3529, 1.2415, 1.2100, 1.1046, 1.0414,
];

/// 2θ in degrees of a reflection of spacing `d_angstrom` at `wavelength_m`, if it exists.
pub fn two_theta_deg(d_angstrom: f64, wavelength_m: f64) -> Option<f64> {
    let s = wavelength_m * 1e10 / (2.0 * d_angstrom);
    (s < 1.0).then(|| 2.0 * s.asin().to_degrees())
}

/// Rings for the given d-spacings with decreasing heights starting at `peak` counts.
pub fn rings_from_d(d_spacings: &[f64], wavelength_m: f64, peak: f64, fwhm_deg: f64) -> Vec<Ring> {
    d_spacings
        .iter()
        .enumerate()
        .filter_map(|(k, &d)| {
            two_theta_deg(d, wavelength_m).map(|tth| Ring {
                two_theta_deg: tth,
                amplitude: peak / (1.0 + 0.35 * k as f64),
                fwhm_deg,
            })
        })
        .collect()
}

/// Per-pixel geometry of a Pilatus 2M, computed once and reused for every frame.
pub struct SynthDetector {
    geometry: SynthGeometry,
    gaps: Vec<bool>,
    /// 2θ of each pixel centre, degrees.
    tth_deg: Vec<f32>,
    /// Solid angle (cos³) × polarization factor of each pixel.
    factor: Vec<f32>,
    hot: Vec<(usize, i32)>,
    max_tth_deg: f64,
}

impl SynthDetector {
    /// Pilatus3 2M CdTe in `geometry`.
    pub fn pilatus2m_cdte(geometry: SynthGeometry) -> Self {
        let gaps = pilatus2m_gap_mask(true);
        let n = PILATUS2M_ROWS * PILATUS2M_COLS;
        let mut tth_deg = vec![0f32; n];
        let mut factor = vec![0f32; n];
        let mut max_tth: f64 = 0.0;
        let d = geometry.distance_m;
        for r in 0..PILATUS2M_ROWS {
            let y = (r as f64 + 0.5 - geometry.poni_row_px) * PILATUS_PIXEL_M;
            for c in 0..PILATUS2M_COLS {
                let x = (c as f64 + 0.5 - geometry.poni_col_px) * PILATUS_PIXEL_M;
                let rho2 = x * x + y * y;
                let tth = rho2.sqrt().atan2(d);
                let cos_a = d / (rho2 + d * d).sqrt();
                // pyFAI polarization with the horizontal (fast axis) polarization plane
                let chi = y.atan2(x);
                let s2 = tth.sin().powi(2);
                let pol = 0.5
                    * (1.0 + tth.cos().powi(2) - geometry.polarization * (2.0 * chi).cos() * s2);
                let i = r * PILATUS2M_COLS + c;
                tth_deg[i] = tth.to_degrees() as f32;
                factor[i] = (cos_a.powi(3) * pol) as f32;
                max_tth = max_tth.max(tth.to_degrees());
            }
        }
        let mut rng = Pcg64Mcg::seed_from_u64(12345);
        let mut hot = Vec::new();
        while hot.len() < 12 {
            let i = rng.random_range(0..n);
            if !gaps[i] {
                hot.push((i, rng.random_range(5000..1_048_575)));
            }
        }
        SynthDetector {
            geometry,
            gaps,
            tth_deg,
            factor,
            hot,
            max_tth_deg: max_tth,
        }
    }

    /// The geometry the detector was built with.
    pub fn geometry(&self) -> &SynthGeometry {
        &self.geometry
    }
    /// `true` where a pixel is in a gap (value −1 in every frame).
    pub fn gaps(&self) -> &[bool] {
        &self.gaps
    }
    /// Flat indices of the fixed hot pixels (a user would mask them).
    pub fn hot_pixels(&self) -> impl Iterator<Item = usize> + '_ {
        self.hot.iter().map(|h| h.0)
    }
    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (PILATUS2M_ROWS, PILATUS2M_COLS)
    }
    /// Largest 2θ on the detector, degrees.
    pub fn max_two_theta_deg(&self) -> f64 {
        self.max_tth_deg
    }

    /// Renders one frame: `background` counts of smooth diffuse scattering (peaking at low
    /// angle), the rings, Poisson noise, hot pixels, `zingers` random cosmic hits and −1 gaps.
    pub fn render(&self, rings: &[Ring], background: f64, zingers: usize, seed: u64) -> Vec<i32> {
        // Tabulate the 1D expected profile on a fine 2θ grid, then interpolate per pixel.
        const STEP: f64 = 0.002;
        let nt = (self.max_tth_deg / STEP) as usize + 2;
        let profile: Vec<f32> = (0..nt)
            .map(|k| {
                let t = k as f64 * STEP;
                let bg = background * (0.35 + 0.65 * (-t / 12.0).exp());
                let peaks: f64 = rings
                    .iter()
                    .map(|r| {
                        let s = r.fwhm_deg / 2.354_820_045;
                        let z = (t - r.two_theta_deg) / s;
                        if z.abs() < 8.0 {
                            r.amplitude * (-0.5 * z * z).exp()
                        } else {
                            0.0
                        }
                    })
                    .sum();
                (bg + peaks) as f32
            })
            .collect();
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
        let mut out = vec![-1i32; self.tth_deg.len()];
        for (i, px) in out.iter_mut().enumerate() {
            if self.gaps[i] {
                continue;
            }
            let pos = self.tth_deg[i] as f64 / STEP;
            let k = pos as usize;
            let f = (pos - k as f64) as f32;
            let lam = (profile[k] * (1.0 - f) + profile[k + 1] * f) * self.factor[i];
            *px = poisson(&mut rng, lam as f64);
        }
        for &(i, v) in &self.hot {
            out[i] = v;
        }
        for _ in 0..zingers {
            let i = rng.random_range(0..out.len());
            if !self.gaps[i] {
                out[i] = rng.random_range(2000..60000);
            }
        }
        out
    }
}

/// 1/k for k ≤ 200: the Poisson inversion multiplies instead of dividing (a division on the
/// loop's dependency chain costs several times a multiplication).
static INV_K: [f64; 201] = {
    let mut t = [0.0; 201];
    let mut k = 1;
    while k < 201 {
        t[k] = 1.0 / k as f64;
        k += 1;
    }
    t
};

/// Poisson deviate: exact inversion of the cumulative distribution (one uniform draw) for
/// small means, rounded normal above 30.
fn poisson(rng: &mut Pcg64Mcg, lam: f64) -> i32 {
    if lam <= 0.0 {
        return 0;
    }
    if lam < 30.0 {
        let u: f64 = rng.random();
        let mut p = (-lam).exp();
        let mut cdf = p;
        let mut k = 0usize;
        // The tail beyond k = 200 has probability below 1e-80 for these means.
        while u > cdf && k < 200 {
            k += 1;
            p *= lam * INV_K[k];
            cdf += p;
        }
        k as i32
    } else {
        // Box–Muller
        let u1: f64 = rng.random::<f64>().max(1e-300);
        let u2: f64 = rng.random();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        (lam + z * lam.sqrt()).round().max(0.0) as i32
    }
}

/// A realistic Pilatus 2M frame for benchmarks and tests: CeO2 rings of about 400 counts
/// over a 0–10 count background, for the default geometry.
pub fn realistic_frame(detector: &SynthDetector, seed: u64) -> Vec<i32> {
    let g = detector.geometry();
    let rings = rings_from_d(&CEO2_D_SPACINGS, g.wavelength_m, 400.0, 0.05);
    detector.render(&rings, 8.0, 2, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_count_matches_pilatus_cdte_2m() {
        // 24 modules of 195 × 487 pixels, 3 masked columns each for CdTe.
        let all = PILATUS2M_ROWS * PILATUS2M_COLS;
        assert_eq!(
            pilatus2m_gap_mask(false).iter().filter(|&&m| m).count(),
            all - 24 * 195 * 487
        );
        assert_eq!(
            pilatus2m_gap_mask(true).iter().filter(|&&m| m).count(),
            211_405
        );
    }

    #[test]
    fn poisson_mean_and_variance() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        for lam in [0.3, 4.0, 17.5, 80.0] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lam) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!(
                (mean - lam).abs() < 0.02 * lam + 0.01,
                "mean {mean} for {lam}"
            );
            assert!(
                (var - lam).abs() < 0.05 * lam + 0.02,
                "variance {var} for {lam}"
            );
        }
    }

    #[test]
    fn frames_are_deterministic_and_realistic() {
        let det = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
        let a = realistic_frame(&det, 7);
        let b = realistic_frame(&det, 7);
        assert_eq!(a, b);
        let c = realistic_frame(&det, 8);
        assert_ne!(a, c);
        let gaps = a.iter().filter(|&&v| v == -1).count();
        assert_eq!(gaps, 211_405);
        let valid: Vec<i64> = a.iter().filter(|&&v| v >= 0).map(|&v| v as i64).collect();
        let mean = valid.iter().sum::<i64>() as f64 / valid.len() as f64;
        assert!(mean > 2.0 && mean < 40.0, "mean {mean}");
        let max_ring = a.iter().copied().filter(|&v| v < 5000).max().unwrap();
        assert!(
            max_ring > 150,
            "rings reach a few hundred counts, got {max_ring}"
        );
    }
}
