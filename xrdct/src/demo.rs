//! `xrdct demo`: a simulated XRD-CT experiment reduced end to end.
//!
//! A phantom sample of three crystalline phases with distinct powder patterns sits on the
//! rotation axis. For every (rotation, translation) the beam crosses a known amount of each
//! phase (exact line integrals of ellipses); the frame's rings get proportional heights and
//! a Pilatus3 2M CdTe frame is rendered with Poisson noise ([`xrdct_pipeline::sim::frames`]), compressed to
//! miniCBF (with `Start_angle` in the header) and written to disk. Two frames are truncated,
//! as a detector server occasionally does. The frames then go through the real reduction
//! ([`xrdct_pipeline::run::reduce`]: the pipeline engine integrates them, the sinogram is assembled — zigzag
//! order, failed frames filled — the centre of rotation estimated, every bin reconstructed)
//! and each reconstructed phase map is compared with the known layout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use xrdct_pipeline::engine::IntegrateSettings;
use xrdct_pipeline::engine::PipelineOptions;
use xrdct_pipeline::inputs::FrameSource;
use xrdct_pipeline::run::reduce::{self, CenterChoice, ReduceOptions, ReduceReport};
use xrdct_pipeline::sim::frames::{self, PILATUS_PIXEL_M, SynthDetector, SynthGeometry};
use xrdct_pipeline::sim::phantom::{Ellipse, Phantom, circle_mask, correlation};
use xrdct_pipeline::tomo::fbp::Filter;
use xrdct_pipeline::tomo::scan::{AngleSpec, FastAxis, ScanModel};

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Writing the simulated files failed (environment).
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The CBF writer refused a frame (a bug).
    #[error("writing CBF: {0}")]
    Cbf(#[from] cbf_format::Error),
    /// Setting up the integration failed.
    #[error(transparent)]
    Setup(#[from] xrdct_pipeline::engine::SetupError),
    /// The reduction failed.
    #[error(transparent)]
    Reduce(#[from] reduce::ReduceError),
    /// Previews could not be written (environment).
    #[error(transparent)]
    Preview(#[from] crate::preview::PreviewError),
    /// The size is unusable.
    #[error("--size must be a positive number, got {0}")]
    Size(f64),
}

/// Settings of the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Scale of the scan: `round(28·size)` rotations and translations.
    pub size: f64,
    /// Output folder (frames, PONI, NeXus, previews).
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Radial bins.
    pub bins: usize,
    /// Keep the CBF frames after the run.
    pub keep_frames: bool,
    /// Random seed.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            size: 1.0,
            out: PathBuf::from("demo-out"),
            workers: 0,
            bins: 1000,
            keep_frames: false,
            seed: 2026,
        }
    }
}

/// One simulated phase: name, d-spacings (Å), layout.
#[derive(Clone, Debug)]
pub struct Phase {
    /// Name.
    pub name: &'static str,
    /// d-spacings, strongest first.
    pub d_spacings: Vec<f64>,
    /// Where it is (density 1 inside).
    pub layout: Phantom,
}

/// The demo sample for a scan of `translations` steps: a matrix phase with two kinds of
/// inclusions.
pub fn demo_phases(translations: usize) -> Vec<Phase> {
    let r = 0.45 * translations as f64;
    let b1 = Ellipse::disc(-0.3 * r, 0.2 * r, 0.22 * r, 1.0);
    let b2 = Ellipse::disc(0.35 * r, -0.3 * r, 0.16 * r, 1.0);
    let c1 = Ellipse {
        x0: 0.2 * r,
        y0: 0.5 * r,
        a: 0.3 * r,
        b: 0.11 * r,
        phi_deg: 15.0,
        value: 1.0,
    };
    let neg = |e: Ellipse| Ellipse { value: -1.0, ..e };
    vec![
        Phase {
            name: "CeO2 (matrix)",
            d_spacings: frames::CEO2_D_SPACINGS.to_vec(),
            layout: Phantom {
                ellipses: vec![
                    Ellipse::disc(0.0, 0.0, 0.85 * r, 1.0),
                    neg(b1),
                    neg(b2),
                    neg(c1),
                ],
            },
        },
        Phase {
            name: "Al (inclusions)",
            d_spacings: vec![2.3380, 2.0248, 1.4317, 1.2210, 1.1690, 1.0124],
            layout: Phantom {
                ellipses: vec![b1, b2],
            },
        },
        Phase {
            name: "phase C (needle)",
            d_spacings: vec![2.9000, 2.2000, 1.7500, 1.4000, 1.1500],
            layout: Phantom { ellipses: vec![c1] },
        },
    ]
}

/// Per-phase result.
#[derive(Clone, Debug)]
pub struct PhaseResult {
    /// Name.
    pub name: &'static str,
    /// 2θ of the ring used for the map, degrees.
    pub two_theta_deg: f64,
    /// Pearson correlation of the reconstructed map with the layout (inside the circle).
    pub correlation: f64,
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoReport {
    /// Rotations × translations.
    pub scan: (usize, usize),
    /// Rendering + compression + writing of the frames.
    pub render: Duration,
    /// Bytes of CBF written.
    pub cbf_bytes: u64,
    /// The reduction.
    pub reduce: ReduceReport,
    /// True centre of rotation of the simulation.
    pub true_center: f64,
    /// Phase maps.
    pub phases: Vec<PhaseResult>,
    /// PNG previews written.
    pub previews: Vec<std::path::PathBuf>,
}

const RING_FWHM_DEG: f64 = 0.05;
const PEAK_COUNTS: f64 = 400.0;

/// Writes a PONI file (pyFAI version 2.1) for a [`SynthGeometry`] on a Pilatus 2M CdTe.
pub fn poni_text(g: &SynthGeometry) -> String {
    format!(
        "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis \n\
         # Written by xrdct demo\n\
         poni_version: 2.1\n\
         Detector: Pilatus2MCdTe\n\
         Detector_config: {{}}\n\
         Distance: {}\n\
         Poni1: {}\n\
         Poni2: {}\n\
         Rot1: 0.0\n\
         Rot2: 0.0\n\
         Rot3: 0.0\n\
         Wavelength: {}\n",
        g.distance_m,
        g.poni_row_px * PILATUS_PIXEL_M,
        g.poni_col_px * PILATUS_PIXEL_M,
        g.wavelength_m
    )
}

/// For each phase, the 2θ of its strongest ring that lies at least 6 FWHM from every ring
/// of the other phases.
pub fn distinct_rings(phases: &[Phase], wavelength_m: f64) -> Vec<f64> {
    let tth: Vec<Vec<f64>> = phases
        .iter()
        .map(|p| {
            p.d_spacings
                .iter()
                .filter_map(|&d| frames::two_theta_deg(d, wavelength_m))
                .collect()
        })
        .collect();
    (0..phases.len())
        .map(|i| {
            tth[i]
                .iter()
                .copied()
                .find(|&t| {
                    tth.iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .all(|(_, o)| o.iter().all(|&u| (u - t).abs() > 6.0 * RING_FWHM_DEG))
                })
                .unwrap_or(tth[i][0])
        })
        .collect()
}

/// Runs the demo; `log` receives progress lines.
pub fn run(opts: &DemoOptions, log: &dyn Fn(&str)) -> Result<DemoReport, DemoError> {
    if !(opts.size.is_finite() && opts.size > 0.0) {
        return Err(DemoError::Size(opts.size));
    }
    let n = ((28.0 * opts.size).round() as usize).max(8);
    let (rotations, translations) = (n, n);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    let frames_dir = opts.out.join("frames");
    std::fs::create_dir_all(&frames_dir).map_err(io(&frames_dir))?;
    let geometry = SynthGeometry::default();
    let poni_path = opts.out.join("demo.poni");
    std::fs::write(&poni_path, poni_text(&geometry)).map_err(io(&poni_path))?;
    log(&format!(
        "demo: simulating a {rotations} rotations × {translations} translations XRD-CT scan (zigzag, translations fast) of 3 phases"
    ));
    let t0 = Instant::now();
    let detector = SynthDetector::pilatus2m_cdte(geometry.clone());
    // The user's mask of the fixed hot pixels.
    let (rows, cols) = detector.shape();
    let mut mask = vec![0i32; rows * cols];
    for i in detector.hot_pixels() {
        mask[i] = 1;
    }
    let mask_path = opts.out.join("mask.cbf");
    let mask_bytes = cbf_format::writer::MiniCbfWriter::new(&cbf_format::Header::default())
        .write(&[cols, rows], &mask)?;
    std::fs::write(&mask_path, mask_bytes).map_err(io(&mask_path))?;

    let phases = demo_phases(translations);
    let angles = xrdct_pipeline::tomo::scan::angles_range(0.0, 180.0, rotations, false);
    let scan = ScanModel::new(
        rotations,
        translations,
        FastAxis::Translation,
        true,
        angles.clone(),
    )
    .expect("valid demo scan");
    let true_center = (translations as f64 - 1.0) / 2.0;
    let ring_sets: Vec<Vec<frames::Ring>> = phases
        .iter()
        .map(|p| frames::rings_from_d(&p.d_spacings, geometry.wavelength_m, 1.0, RING_FWHM_DEG))
        .collect();
    let path_ref = 0.5 * translations as f64; // beam path giving PEAK_COUNTS
    let broken: [usize; 2] = [scan.frames() / 3, 2 * scan.frames() / 3 + 1];
    let paths: Vec<PathBuf> = (0..scan.frames())
        .map(|f| frames_dir.join(format!("scan_{f:05}.cbf")))
        .collect();
    let sizes: Result<Vec<u64>, DemoError> = (0..scan.frames())
        .into_par_iter()
        .map(|f| {
            let (r, t) = scan.position(f).expect("frame in scan");
            let mut rings = Vec::new();
            for (p, set) in phases.iter().zip(&ring_sets) {
                let l = p.layout.project(angles[r], t as f64 - true_center).max(0.0);
                let scale = PEAK_COUNTS * l / path_ref;
                rings.extend(set.iter().map(|g| frames::Ring {
                    amplitude: g.amplitude * scale,
                    ..*g
                }));
            }
            let pixels = detector.render(
                &rings,
                6.0,
                2,
                opts.seed.wrapping_mul(1_000_003).wrapping_add(f as u64),
            );
            let header = cbf_format::Header {
                detector: Some("PILATUS3 2M CdTe, S/N 24-0000 (xrdct demo)".into()),
                pixel_size: Some([PILATUS_PIXEL_M, PILATUS_PIXEL_M]),
                exposure_time: Some(0.05),
                exposure_period: Some(0.05),
                wavelength: Some(geometry.wavelength_m * 1e10),
                detector_distance: Some(geometry.distance_m),
                beam_xy: Some([geometry.poni_col_px, geometry.poni_row_px]),
                start_angle: Some(angles[r]),
                angle_increment: Some(0.0),
                ..Default::default()
            };
            let mut bytes =
                cbf_format::writer::MiniCbfWriter::new(&header).write(&[cols, rows], &pixels)?;
            if broken.contains(&f) {
                bytes.truncate(bytes.len() / 2); // an interrupted write
            }
            std::fs::write(&paths[f], &bytes).map_err(io(&paths[f]))?;
            Ok(bytes.len() as u64)
        })
        .collect();
    let cbf_bytes: u64 = sizes?.iter().sum();
    let render = t0.elapsed();
    log(&format!(
        "demo: rendered, compressed and wrote {} frames ({:.0} MB of CBF) in {:.1} s: {:.1} frames/s",
        scan.frames(),
        cbf_bytes as f64 / 1e6,
        render.as_secs_f64(),
        scan.frames() as f64 / render.as_secs_f64()
    ));

    let mut settings = IntegrateSettings::new(&poni_path, opts.bins);
    settings.mask = Some(mask_path.clone());
    settings.polarization = Some(geometry.polarization);
    let reducer = settings.build()?;
    let info = reducer.info().clone();
    let pipeline = PipelineOptions {
        workers: opts.workers,
        ..Default::default()
    };
    let ropts = ReduceOptions {
        rotations,
        translations,
        fast: FastAxis::Translation,
        zigzag: true,
        angles: AngleSpec::Header,
        filter: Filter::Hann,
        center: CenterChoice::Auto,
        pipeline,
    };
    let sources: Vec<FrameSource> = paths.iter().cloned().map(FrameSource::File).collect();
    let output = opts.out.join("demo.nxs");
    let config = serde_json::json!({"command": "demo", "size": opts.size, "seed": opts.seed, "integration": settings.parameters()});
    log("demo: reducing through the pipeline (integrate → sinogram → FBP → NeXus + PNG)");
    let report = reduce::reduce(&reducer, &info, sources, &output, &ropts, config)?;
    let previews = crate::preview::write_previews(
        &opts.out.join("previews"),
        &report.sinogram,
        &report.tomogram,
        3,
    )?;

    // Phase maps: background-subtracted peak area of each phase's distinct ring.
    let rings = distinct_rings(&phases, geometry.wavelength_m);
    let tomo = &report.tomogram;
    let radial = &info.radial;
    let step = if radial.len() > 1 {
        (radial[radial.len() - 1] - radial[0]) / (radial.len() - 1) as f64
    } else {
        1.0
    };
    let mask = circle_mask(tomo.size);
    let mut results = Vec::new();
    for (p, &tth) in phases.iter().zip(&rings) {
        let centre = radial
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - tth).abs().total_cmp(&(b.1 - tth).abs()))
            .map(|(i, _)| i)
            .unwrap_or(0);
        let half = ((1.5 * RING_FWHM_DEG / step).ceil() as usize).max(1);
        let lo = centre.saturating_sub(half);
        let hi = (centre + half).min(tomo.bins - 1);
        let side = |b: usize| tomo.slice(b);
        let mut map = vec![0f32; tomo.size * tomo.size];
        let bl = lo.saturating_sub(3)..lo;
        let br = (hi + 1)..(hi + 4).min(tomo.bins);
        let nbg = (bl.len() + br.len()).max(1) as f32;
        for (i, m) in map.iter_mut().enumerate() {
            let peak: f32 = (lo..=hi).map(|b| side(b)[i]).sum();
            let bg: f32 = bl
                .clone()
                .chain(br.clone())
                .map(|b| side(b)[i])
                .sum::<f32>()
                / nbg;
            *m = peak - bg * (hi - lo + 1) as f32;
        }
        let truth = p.layout.rasterize(tomo.size, 4);
        results.push(PhaseResult {
            name: p.name,
            two_theta_deg: tth,
            correlation: correlation(&map, &truth, Some(&mask)),
        });
    }
    if !opts.keep_frames {
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_dir(&frames_dir);
    }
    Ok(DemoReport {
        scan: (rotations, translations),
        render,
        cbf_bytes,
        reduce: report,
        true_center,
        phases: results,
        previews,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_rings_are_distinct() {
        let g = SynthGeometry::default();
        let phases = demo_phases(36);
        let r = distinct_rings(&phases, g.wavelength_m);
        for i in 0..r.len() {
            for j in 0..i {
                assert!((r[i] - r[j]).abs() > 0.3, "{r:?}");
            }
        }
    }

    #[test]
    fn phases_do_not_overlap() {
        let phases = demo_phases(36);
        let n = 36;
        let maps: Vec<Vec<f32>> = phases.iter().map(|p| p.layout.rasterize(n, 1)).collect();
        for i in 0..n * n {
            let s: f32 = maps.iter().map(|m| m[i]).sum();
            assert!((-1e-6..=1.0 + 1e-6).contains(&s), "pixel {i}: {s}");
            assert!(maps.iter().all(|m| m[i] >= -1e-6), "pixel {i}");
        }
    }

    #[test]
    fn poni_parses_with_the_synth_geometry() {
        let g = SynthGeometry::default();
        let poni = azint::poni::Poni::parse(&poni_text(&g)).unwrap();
        assert_eq!(poni.dist, g.distance_m);
        assert!((poni.poni1 - g.poni_row_px * PILATUS_PIXEL_M).abs() < 1e-15);
        assert_eq!(poni.wavelength, Some(g.wavelength_m));
        assert_eq!(
            poni.detector.shape(),
            Some((frames::PILATUS2M_ROWS, frames::PILATUS2M_COLS))
        );
    }

    #[test]
    fn azint_two_theta_equals_synth() {
        // synth renders pixel (r, c) at 2θ = atan(ρ / d) with ρ from the pixel centre
        // ((c + 0.5 − poni_col_px)·p, (r + 0.5 − poni_row_px)·p); azint must agree for the
        // PONI the demo writes, and mask the same gaps.
        let g = SynthGeometry::default();
        let poni = azint::poni::Poni::parse(&poni_text(&g)).unwrap();
        let geo = azint::geometry::Geometry::from_poni(&poni).unwrap();
        let map = geo
            .pixel_map(
                azint::units::Unit::TwoThetaDeg,
                &azint::geometry::PixelMapOptions::new(),
            )
            .unwrap();
        let (rows, cols) = (frames::PILATUS2M_ROWS, frames::PILATUS2M_COLS);
        assert_eq!(map.shape, (rows, cols));
        let mut worst = 0f64;
        for r in (0..rows).step_by(7) {
            for c in (0..cols).step_by(5) {
                let y = (r as f64 + 0.5 - g.poni_row_px) * PILATUS_PIXEL_M;
                let x = (c as f64 + 0.5 - g.poni_col_px) * PILATUS_PIXEL_M;
                let tth = (x * x + y * y).sqrt().atan2(g.distance_m).to_degrees();
                worst = worst.max((map.radial[r * cols + c] - tth).abs());
            }
        }
        assert!(worst < 1e-9, "largest 2θ difference {worst}°");
        assert_eq!(map.mask, frames::pilatus2m_gap_mask(true));
    }
}
