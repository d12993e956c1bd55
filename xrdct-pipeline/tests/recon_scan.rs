//! Reconstruction of realistic scans: zigzag acquisition, an off-centre rotation axis
//! (estimated automatically) and missing frames, each compared with the clean
//! reconstruction (correlation ≥ 0.95).

use rand::{Rng, SeedableRng};
use xrdct_pipeline::sim::phantom::{Ellipse, Phantom, circle_mask, correlation};
use xrdct_pipeline::tomo::fbp::{self, FbpOptions, Filter, SinogramCube};
use xrdct_pipeline::tomo::scan::{FastAxis, ScanModel, angles_range};
use xrdct_pipeline::tomo::sinogram::assemble;

const N: usize = 64;
const ROT: usize = 90;
const BINS: usize = 3;

/// Three phases; bin b sees a different mix of them.
fn phases() -> [Phantom; 3] {
    let r = N as f64 / 2.0;
    [
        Phantom {
            ellipses: vec![
                Ellipse::disc(0.0, 0.0, 0.8 * r, 1.0),
                Ellipse::disc(-0.2 * r, 0.1 * r, 0.25 * r, -1.0),
            ],
        },
        Phantom {
            ellipses: vec![
                Ellipse::disc(-0.2 * r, 0.1 * r, 0.25 * r, 1.0),
                Ellipse::disc(0.4 * r, -0.3 * r, 0.15 * r, 1.0),
            ],
        },
        Phantom {
            ellipses: vec![Ellipse {
                x0: 0.1 * r,
                y0: 0.45 * r,
                a: 0.5 * r,
                b: 0.08 * r,
                phi_deg: 20.0,
                value: 1.0,
            }],
        },
    ]
}

const MIX: [[f32; 3]; BINS] = [[1.0, 0.0, 0.2], [0.0, 1.0, 0.0], [0.3, 0.2, 1.0]];

/// The cube `rotations × translations × bins` with the axis at `center`.
fn cube(angles: &[f64], center: f64) -> Vec<f32> {
    let ph = phases();
    let sinos: Vec<Vec<f32>> = ph.iter().map(|p| p.sinogram(angles, N, center)).collect();
    let mut out = vec![0f32; ROT * N * BINS];
    for i in 0..ROT * N {
        for b in 0..BINS {
            out[i * BINS + b] = (0..3).map(|k| MIX[b][k] * sinos[k][i]).sum();
        }
    }
    out
}

/// Patterns in acquisition order for `scan`, from a cube.
fn acquire(scan: &ScanModel, cube: &[f32]) -> Vec<f32> {
    let mut p = vec![0f32; scan.frames() * BINS];
    for f in 0..scan.frames() {
        let (r, t) = scan.position(f).unwrap();
        p[f * BINS..(f + 1) * BINS]
            .copy_from_slice(&cube[(r * N + t) * BINS..(r * N + t + 1) * BINS]);
    }
    p
}

fn reconstruct(data: &[f32], angles: &[f64], center: Option<f64>) -> fbp::Tomogram {
    let c = SinogramCube::new(data, ROT, N, BINS, angles).unwrap();
    fbp::reconstruct(
        &c,
        &FbpOptions {
            filter: Filter::SheppLogan,
            center,
        },
    )
    .unwrap()
}

fn check(a: &fbp::Tomogram, b: &fbp::Tomogram, min: f64, what: &str) {
    let mask = circle_mask(N);
    for bin in 0..BINS {
        let c = correlation(a.slice(bin), b.slice(bin), Some(&mask));
        println!("{what}: bin {bin} correlation {c:.4}");
        assert!(c >= min, "{what}: bin {bin} correlation {c} < {min}");
    }
}

#[test]
fn clean_reconstruction_matches_the_phantom() {
    let angles = angles_range(0.0, 180.0, ROT, false);
    let clean = reconstruct(&cube(&angles, (N / 2) as f64), &angles, None);
    let mask = circle_mask(N);
    for (k, p) in phases().iter().enumerate() {
        let truth = p.rasterize(N, 3);
        let c = correlation(clean.slice(k.min(1)), &truth, Some(&mask));
        if k < 2 {
            assert!(c > 0.9, "phase {k}: correlation {c}");
        }
    }
}

#[test]
fn zigzag_scan_reconstructs_like_the_clean_one() {
    let angles = angles_range(0.0, 180.0, ROT, false);
    let cube = cube(&angles, (N / 2) as f64);
    let clean = reconstruct(&cube, &angles, None);
    for fast in [FastAxis::Translation, FastAxis::Rotation] {
        let scan = ScanModel::new(ROT, N, fast, true, angles.clone()).unwrap();
        let patterns = acquire(&scan, &cube);
        let a = assemble(&scan, &patterns, BINS, &vec![true; scan.frames()], None).unwrap();
        assert_eq!(a.data, cube, "zigzag assembly restores the cube exactly");
        let t = reconstruct(&a.data, &angles, None);
        check(&t, &clean, 0.999, "zigzag");
    }
}

#[test]
fn off_centre_axis_is_estimated_within_a_quarter_pixel() {
    let angles = angles_range(0.0, 180.0, ROT, false);
    let clean = reconstruct(&cube(&angles, (N / 2) as f64), &angles, None);
    for true_c in [29.6, 33.35, 31.5] {
        let off = cube(&angles, true_c);
        let c = SinogramCube::new(&off, ROT, N, BINS, &angles).unwrap();
        let est = fbp::estimate_center(&c.summed(), N, &angles).unwrap();
        println!("true centre {true_c}, estimate {est:?}");
        assert!((est.center - true_c).abs() <= 0.25, "{true_c}: {est:?}");
        let t = reconstruct(&off, &angles, Some(est.center));
        check(&t, &clean, 0.95, "off-centre");
    }
    // Over 360°, the mirror registration.
    let angles360 = angles_range(0.0, 360.0, ROT, false);
    let off = cube(&angles360, 30.7);
    let c = SinogramCube::new(&off, ROT, N, BINS, &angles360).unwrap();
    let est = fbp::estimate_center(&c.summed(), N, &angles360).unwrap();
    assert_eq!(est.method, fbp::CenterMethod::Mirror180);
    assert!((est.center - 30.7).abs() <= 0.25, "{est:?}");
}

#[test]
fn two_percent_missing_frames_are_filled() {
    let angles = angles_range(0.0, 180.0, ROT, false);
    let cube = cube(&angles, (N / 2) as f64);
    let clean = reconstruct(&cube, &angles, None);
    let scan = ScanModel::new(ROT, N, FastAxis::Translation, true, angles.clone()).unwrap();
    let mut patterns = acquire(&scan, &cube);
    let mut ok = vec![true; scan.frames()];
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
    let missing = scan.frames() / 50;
    let mut n = 0;
    while n < missing {
        let f = rng.random_range(0..scan.frames());
        if ok[f] {
            ok[f] = false;
            patterns[f * BINS..(f + 1) * BINS].fill(f32::NAN); // what a failed frame holds
            n += 1;
        }
    }
    let a = assemble(&scan, &patterns, BINS, &ok, None).unwrap();
    assert_eq!(a.filled_count, missing);
    assert!(a.data.iter().all(|v| v.is_finite()));
    let t = reconstruct(&a.data, &angles, None);
    check(&t, &clean, 0.95, "2% missing");
}

#[test]
fn all_at_once_zigzag_off_centre_missing() {
    let angles = angles_range(0.0, 180.0, ROT, false);
    let clean = reconstruct(&cube(&angles, (N / 2) as f64), &angles, None);
    let off = cube(&angles, 30.4);
    let scan = ScanModel::new(ROT, N, FastAxis::Translation, true, angles.clone()).unwrap();
    let mut patterns = acquire(&scan, &off);
    let mut ok = vec![true; scan.frames()];
    for f in (0..scan.frames()).step_by(50) {
        ok[f] = false;
        patterns[f * BINS..(f + 1) * BINS].fill(0.0);
    }
    let a = assemble(&scan, &patterns, BINS, &ok, None).unwrap();
    let c = SinogramCube::new(&a.data, ROT, N, BINS, &angles).unwrap();
    let est = fbp::estimate_center(&c.summed(), N, &angles).unwrap();
    assert!((est.center - 30.4).abs() <= 0.25, "{est:?}");
    let t = reconstruct(&a.data, &angles, Some(est.center));
    check(&t, &clean, 0.95, "combined");
}
