//! Per-pixel geometry in pyFAI's convention.
//!
//! A pixel (row `i`, column `j`) of a flat detector sits, in the detector plane, at
//! `p1 = pixel1·(i' + ½) − poni1`, `p2 = pixel2·(j' + ½) − poni2`, where `i'`, `j'` are the
//! indices after the orientation remap (orientation 3, the default, keeps them; 1 flips
//! both; 2 flips rows; 4 flips columns). The lab coordinates are
//! `(t1, t2, t3) = R3·R2·R1·(p1, p2, dist)` with pyFAI's rotation matrices (rot1 and rot2
//! left-handed, rot3 right-handed), and
//!
//! * 2θ = atan2(√(t1² + t2²), t3), χ = atan2(t1, t2) (in (−π, π], or [0, 2π) on request),
//! * q = 4·10⁻⁹ π / λ · sin(2θ/2) in nm⁻¹, r = √(t1² + t2²) in metres,
//! * solid angle = cos³α with cos α = dist / √(dist² + p1² + p2²) (relative to the PONI),
//! * polarization = ½ (1 + cos²2θ − P cos(2(χ + offset)) (1 − cos²2θ)).
//!
//! Corners are evaluated on the `(rows + 1) × (cols + 1)` grid of pixel corners
//! (`p1 = pixel1·k'`) and handed out per pixel in pyFAI's `corner_array` order:
//! `(i, j)`, `(i + 1, j)`, `(i + 1, j + 1)`, `(i, j + 1)`.
//!
//! Everything is computed in `f64`. pyFAI stores some arrays in `f32` (solid angle,
//! polarization, corners); our values agree with pyFAI's `f64` paths to ~1e-15 and with its
//! `f32` arrays to their rounding.

#![forbid(unsafe_code)]

use std::f64::consts::PI;

use rayon::prelude::*;

use crate::Error;
use crate::detector::Detector;
use crate::poni::Poni;
use crate::units::{Space, Unit};

/// Where the χ axis is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChiDiscontinuity {
    /// χ in (−π, π] (pyFAI's default).
    #[default]
    AtPi,
    /// χ in [0, 2π) (pyFAI's `setChiDiscAtZero`).
    AtZero,
}

/// Polarization correction parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarization {
    /// pyFAI's polarization factor P = (Ih − Iv)/(Ih + Iv), in [−1, 1].
    pub factor: f64,
    /// Angle between the polarization plane and the detector's X axis, radians.
    pub axis_offset: f64,
}

/// What [`Geometry::pixel_map`] computes.
#[derive(Debug, Clone, Default)]
pub struct PixelMapOptions {
    /// Polarization correction; `None` gives no polarization array.
    pub polarization: Option<Polarization>,
    /// Solid-angle correction (cos³α, pyFAI's default on); when off the array is all 1.
    pub solid_angle: bool,
    /// Where χ is cut.
    pub chi_discontinuity: ChiDiscontinuity,
    /// Whether to compute the (radial, χ) of the 4 corners of every pixel (for splitting).
    pub corners: bool,
    /// A user mask, row-major, `true` = masked (added to the detector's gaps).
    pub user_mask: Option<Vec<bool>>,
    /// Round the corners' internal values (radial with scale 1, and χ) to `f32` before
    /// scaling, as pyFAI stores its `corner_array`: its bounding-box (`delta_array`) and
    /// full-splitting engines see these rounded values. Ask for [`Unit::internal`] to get
    /// pyFAI's (unscaled) array exactly.
    pub corners_f32: bool,
}

impl PixelMapOptions {
    /// pyFAI's defaults: solid angle on, no polarization, χ cut at π, no corners, no mask.
    pub fn new() -> PixelMapOptions {
        PixelMapOptions {
            solid_angle: true,
            ..PixelMapOptions::default()
        }
    }
}

/// Per-pixel arrays consumed by the integration engines. All arrays are row-major (slow
/// index outermost) with `shape.0 * shape.1` entries.
#[derive(Debug, Clone)]
pub struct PixelMap {
    /// (rows, columns).
    pub shape: (usize, usize),
    /// Radial position of the pixel centre, in the requested unit (internal value × scale).
    pub radial: Vec<f64>,
    /// χ of the pixel centre, radians.
    pub azimuth: Vec<f64>,
    /// (radial in the unit, χ in radians) of the 4 corners, in pyFAI's order
    /// `(i, j)`, `(i+1, j)`, `(i+1, j+1)`, `(i, j+1)`; when asked.
    pub corners: Option<Vec<[[f64; 2]; 4]>>,
    /// Solid angle relative to the PONI (cos³α); all 1 when the correction is off.
    pub solid_angle: Vec<f64>,
    /// Polarization factor per pixel, when asked.
    pub polarization: Option<Vec<f64>>,
    /// Detector gaps + user mask, `true` = masked.
    pub mask: Vec<bool>,
}

/// A geometry: a detector and pyFAI's six parameters plus the wavelength.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    detector: Detector,
    shape: (usize, usize),
    dist: f64,
    poni1: f64,
    poni2: f64,
    rot1: f64,
    rot2: f64,
    rot3: f64,
    wavelength: Option<f64>,
    /// R3·R2·R1, as sines, cosines and expanded coefficients.
    rotation: Rotation,
}

/// The rotation R3·R2·R1 in the factored form pyFAI evaluates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rotation {
    c1: f64,
    c2: f64,
    c3: f64,
    s1: f64,
    s2: f64,
    s3: f64,
    t1_p2: f64,
    t1_l: f64,
    t2_p2: f64,
    t2_l: f64,
}

/// A pixel's position: lab coordinates and detector-plane offsets from the PONI.
#[derive(Debug, Clone, Copy)]
struct Position {
    t1: f64,
    t2: f64,
    t3: f64,
    p1: f64,
    p2: f64,
}

impl Geometry {
    /// The geometry of a PONI file. Errors when the detector has no shape, when parallax
    /// correction is asked for (not supported), or on non-finite parameters.
    pub fn from_poni(poni: &Poni) -> Result<Geometry, Error> {
        if poni.parallax == Some(true) {
            return Err(Error::Unsupported {
                what: "parallax correction (PONI `Parallax: True`)",
            });
        }
        poni.validate()?;
        Geometry::new(
            poni.detector.clone(),
            poni.dist,
            poni.poni1,
            poni.poni2,
            [poni.rot1, poni.rot2, poni.rot3],
            poni.wavelength,
        )
    }

    /// A geometry from its parts (distances in metres, angles in radians).
    pub fn new(
        detector: Detector,
        dist: f64,
        poni1: f64,
        poni2: f64,
        rot: [f64; 3],
        wavelength: Option<f64>,
    ) -> Result<Geometry, Error> {
        let shape = detector.shape().ok_or(Error::DetectorConfig {
            detector: detector.class_name(),
            reason: "the detector has no shape (give max_shape in Detector_config)".into(),
        })?;
        let probe = Poni {
            version: 2.1,
            detector: detector.clone(),
            dist,
            poni1,
            poni2,
            rot1: rot[0],
            rot2: rot[1],
            rot3: rot[2],
            wavelength,
            parallax: None,
            extra: Vec::new(),
        };
        probe.validate()?;
        let (s1, c1) = rot[0].sin_cos();
        let (s2, c2) = rot[1].sin_cos();
        let (s3, c3) = rot[2].sin_cos();
        // R3·R2·R1 with R1 = [[1,0,0],[0,c1,s1],[0,-s1,c1]], R2 = [[c2,0,-s2],[0,1,0],[s2,0,c2]],
        // R3 = [[c3,-s3,0],[s3,c3,0],[0,0,1]] (pyFAI's `rotation_matrix`), expanded and
        // evaluated in the order of pyFAI's compiled geometry (see `position`) so that most
        // values come out bit-identical to pyFAI's.
        let rotation = Rotation {
            c1,
            c2,
            c3,
            s1,
            s2,
            s3,
            t1_p2: c3 * s1 * s2 - c1 * s3,
            t1_l: c1 * c3 * s2 + s1 * s3,
            t2_p2: c1 * c3 + s1 * s2 * s3,
            t2_l: -(c3 * s1) + c1 * s2 * s3,
        };
        Ok(Geometry {
            detector,
            shape,
            dist,
            poni1,
            poni2,
            rot1: rot[0],
            rot2: rot[1],
            rot3: rot[2],
            wavelength,
            rotation,
        })
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Distance, metres.
    pub fn dist(&self) -> f64 {
        self.dist
    }

    /// (poni1, poni2), metres.
    pub fn poni(&self) -> (f64, f64) {
        (self.poni1, self.poni2)
    }

    /// (rot1, rot2, rot3), radians.
    pub fn rotations(&self) -> [f64; 3] {
        [self.rot1, self.rot2, self.rot3]
    }

    /// Wavelength, metres.
    pub fn wavelength(&self) -> Option<f64> {
        self.wavelength
    }

    /// Position of a point given by detector-plane coordinates in pixel units along each
    /// axis (already orientation-remapped; a pixel centre is `index + 0.5`).
    #[inline]
    fn position(&self, d1: f64, d2: f64) -> Position {
        let p1 = self.detector.pixel1() * d1 - self.poni1;
        let p2 = self.detector.pixel2() * d2 - self.poni2;
        let l = self.dist;
        let r = &self.rotation;
        Position {
            t1: p1 * r.c2 * r.c3 + p2 * r.t1_p2 - l * r.t1_l,
            t2: p1 * r.c2 * r.s3 + p2 * r.t2_p2 - l * r.t2_l,
            t3: p1 * r.s2 - p2 * r.c2 * r.s1 + l * r.c1 * r.c2,
            p1,
            p2,
        }
    }

    /// Remapped coordinate of a pixel centre (`center`) or corner index along one axis.
    #[inline]
    fn remap(index: usize, n: usize, flip: bool, center: bool) -> f64 {
        match (flip, center) {
            (false, true) => index as f64 + 0.5,
            (false, false) => index as f64,
            (true, true) => (n - 1 - index) as f64 + 0.5,
            (true, false) => (n - index) as f64,
        }
    }

    /// Internal radial value (scale 1) of a position, given its χ and, when the space needs
    /// it, its 2θ.
    #[inline]
    fn internal(&self, space: Space, pos: &Position, tth: f64, chi: f64) -> f64 {
        match space {
            Space::TwoTheta => tth,
            // pyFAI's numexpr formula `4.0e-9*π/λ*sin(0.5*2θ)`, in its order; `q_factor` is
            // NaN only when there is no wavelength, which `pixel_map` rejects for q units.
            Space::Q => self.q_factor() * (0.5 * tth).sin(),
            Space::R => (pos.t2 * pos.t2 + pos.t1 * pos.t1).sqrt(),
            Space::Chi => chi,
        }
    }

    #[inline]
    fn q_factor(&self) -> f64 {
        4.0e-9 * PI / self.wavelength.unwrap_or(f64::NAN)
    }

    /// Builds the per-pixel arrays for `unit` (see [`PixelMap`]).
    pub fn pixel_map(&self, unit: Unit, options: &PixelMapOptions) -> Result<PixelMap, Error> {
        if unit.needs_wavelength() && self.wavelength.is_none() {
            return Err(Error::MissingWavelength { unit: unit.name() });
        }
        let (rows, cols) = self.shape;
        let n = rows * cols;
        let mut mask = self.detector.mask().unwrap_or_else(|| vec![false; n]);
        if let Some(user) = &options.user_mask {
            if user.len() != n {
                return Err(Error::ShapeMismatch {
                    what: "user mask",
                    expected: self.shape,
                    actual: (0, user.len()),
                });
            }
            for (m, &u) in mask.iter_mut().zip(user) {
                *m |= u;
            }
        }
        if let Some(p) = options.polarization {
            for (key, value) in [
                ("polarization factor", p.factor),
                ("axis offset", p.axis_offset),
            ] {
                if !value.is_finite() {
                    return Err(Error::NotFinite { key, value });
                }
            }
            if !(-1.0..=1.0).contains(&p.factor) {
                return Err(Error::OutOfRange {
                    key: "polarization factor",
                    value: p.factor,
                    reason: "must be in [-1, 1]",
                });
            }
        }

        let space = unit.space();
        let scale = unit.scale();
        let disc = options.chi_discontinuity;
        let orient = self.detector.orientation();
        let (flip_r, flip_c) = (orient.flips_rows(), orient.flips_cols());

        let mut radial = vec![0.0; n];
        let mut azimuth = vec![0.0; n];
        let mut solid_angle = vec![1.0; n];
        // One chunk per row either way: `cols` values per row with polarization, a dummy
        // value per row without.
        let pol = options.polarization;
        let pol_width = if pol.is_some() { cols } else { 1 };
        let mut pol_buf = vec![0.0; rows * pol_width];
        let want_sa = options.solid_angle;
        let need_tth = matches!(space, Space::TwoTheta | Space::Q) || pol.is_some();

        radial
            .par_chunks_mut(cols)
            .zip(azimuth.par_chunks_mut(cols))
            .zip(solid_angle.par_chunks_mut(cols))
            .zip(pol_buf.par_chunks_mut(pol_width))
            .enumerate()
            .for_each(|(i, (((rad, azi), sa), pol_row))| {
                let d1 = Self::remap(i, rows, flip_r, true);
                for j in 0..cols {
                    let d2 = Self::remap(j, cols, flip_c, true);
                    let pos = self.position(d1, d2);
                    let c = chi(&pos, disc);
                    let tth = if need_tth { two_theta(&pos) } else { 0.0 };
                    rad[j] = self.internal(space, &pos, tth, c) * scale;
                    azi[j] = c;
                    if want_sa {
                        sa[j] = solid_angle_of(self.dist, &pos);
                    }
                    if let Some(p) = pol {
                        pol_row[j] = polarization_of(tth, c, p);
                    }
                }
            });
        let polarization = pol.map(|_| pol_buf);

        let corners = if options.corners {
            Some(self.corners(space, scale, disc, options.corners_f32))
        } else {
            None
        };

        Ok(PixelMap {
            shape: self.shape,
            radial,
            azimuth,
            corners,
            solid_angle,
            polarization,
            mask,
        })
    }

    /// (radial × scale, χ) of every pixel's 4 corners.
    fn corners(
        &self,
        space: Space,
        scale: f64,
        disc: ChiDiscontinuity,
        round_f32: bool,
    ) -> Vec<[[f64; 2]; 4]> {
        let round = |v: f64| if round_f32 { v as f32 as f64 } else { v };
        let (rows, cols) = self.shape;
        let orient = self.detector.orientation();
        let (flip_r, flip_c) = (orient.flips_rows(), orient.flips_cols());
        let gcols = cols + 1;
        let need_tth = matches!(space, Space::TwoTheta | Space::Q);
        let mut grid = vec![[0.0f64; 2]; (rows + 1) * gcols];
        grid.par_chunks_mut(gcols).enumerate().for_each(|(k, row)| {
            let d1 = Self::remap(k, rows, flip_r, false);
            for (l, g) in row.iter_mut().enumerate() {
                let d2 = Self::remap(l, cols, flip_c, false);
                let pos = self.position(d1, d2);
                let c = chi(&pos, disc);
                let tth = if need_tth { two_theta(&pos) } else { 0.0 };
                *g = [round(self.internal(space, &pos, tth, c)) * scale, round(c)];
            }
        });
        (0..rows * cols)
            .into_par_iter()
            .map(|k| {
                let (i, j) = (k / cols, k % cols);
                let top = i * gcols + j;
                let bottom = top + gcols;
                [grid[top], grid[bottom], grid[bottom + 1], grid[top + 1]]
            })
            .collect()
    }
}

#[inline]
fn two_theta(pos: &Position) -> f64 {
    (pos.t2 * pos.t2 + pos.t1 * pos.t1).sqrt().atan2(pos.t3)
}

#[inline]
fn chi(pos: &Position, disc: ChiDiscontinuity) -> f64 {
    let c = pos.t1.atan2(pos.t2);
    match disc {
        ChiDiscontinuity::AtPi => c,
        ChiDiscontinuity::AtZero => c.rem_euclid(2.0 * PI),
    }
}

#[inline]
fn solid_angle_of(dist: f64, pos: &Position) -> f64 {
    let cosa = dist / (pos.p1 * pos.p1 + pos.p2 * pos.p2 + dist * dist).sqrt();
    cosa.powf(3.0)
}

#[inline]
fn polarization_of(tth: f64, chi: f64, p: Polarization) -> f64 {
    let c = tth.cos();
    let c2 = c * c;
    0.5 * (1.0 + c2 - p.factor * (2.0 * (chi + p.axis_offset)).cos() * (1.0 - c2))
}
