//! Per-pixel geometry, detectors and PONI files against pyFAI's own numbers
//! (fixtures from `scripts/pyfai_reference.py`, see `tests/fixtures/pyfai/README.md`).

#[path = "fixtures/pyfai.rs"]
mod pyfai;

use azint::Error;
use azint::detector::{Detector, Model, Orientation};
use azint::geometry::{ChiDiscontinuity, Geometry, PixelMap, PixelMapOptions, Polarization};
use azint::poni::Poni;
use azint::units::Unit;

/// Relative tolerance of the f64 comparisons (the issue's acceptance figure).
const REL: f64 = 1e-9;

/// `|a − b| ≤ rel·|b| + abs`, with a report of the worst offender.
fn assert_close(what: &str, actual: &[f64], expected: &[f64], rel: f64, abs: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let mut worst = (0.0f64, 0usize);
    for (k, (&a, &b)) in actual.iter().zip(expected).enumerate() {
        // NaN never passes: every comparison with it is false.
        let ok = a == b || (a - b).abs() <= rel * b.abs() + abs;
        if !ok {
            panic!("{what}[{k}]: {a} vs pyFAI {b} (tolerance {rel} rel + {abs} abs)");
        }
        let excess = if a == b {
            0.0
        } else {
            (a - b).abs() / (rel * b.abs() + abs)
        };
        if excess > worst.0 {
            worst = (excess, k);
        }
    }
    let identical = actual
        .iter()
        .zip(expected)
        .filter(|(a, b)| a.to_bits() == b.to_bits())
        .count();
    eprintln!(
        "{what}: {} values, {identical} bit-identical, worst at {} ({:.2e} of tolerance)",
        actual.len(),
        worst.1,
        worst.0
    );
}

fn reference_geometry(fx: &pyfai::Fixture) -> Geometry {
    let poni = Poni::from_file(fx.poni_path()).expect("reference PONI parses");
    Geometry::from_poni(&poni).expect("reference geometry")
}

fn sampled(values: &[f64], index: &[u64]) -> Vec<f64> {
    index.iter().map(|&k| values[k as usize]).collect()
}

fn sampled_corners(map: &PixelMap, index: &[u64]) -> Vec<f64> {
    let corners = map.corners.as_ref().expect("corners were asked for");
    index
        .iter()
        .flat_map(|&k| corners[k as usize].iter().flatten().copied())
        .collect()
}

fn options(corners: bool, disc: ChiDiscontinuity) -> PixelMapOptions {
    PixelMapOptions {
        corners,
        chi_discontinuity: disc,
        ..PixelMapOptions::new()
    }
}

/// χ is compared modulo 2π where a value sits on the cut (pyFAI and we may round a point
/// at exactly ±π to either side).
fn unwrap_chi_like(actual: &mut [f64], expected: &[f64]) {
    use std::f64::consts::PI;
    for (a, &b) in actual.iter_mut().zip(expected) {
        if (*a - b).abs() > PI {
            *a += if b > *a { 2.0 * PI } else { -2.0 * PI };
        }
    }
}

#[test]
fn centre_arrays_match_pyfai() {
    let fx = pyfai::Fixture::load();
    let geo = reference_geometry(&fx);
    let (index, _) = fx.u64("pixels/index");
    for (unit, name) in [
        (Unit::TwoThetaRad, "2th_rad"),
        (Unit::TwoThetaDeg, "2th_deg"),
        (Unit::QNm, "q_nm^-1"),
        (Unit::QA, "q_A^-1"),
        (Unit::RMm, "r_mm"),
        (Unit::ChiRad, "chi_rad"),
    ] {
        let map = geo.pixel_map(unit, &PixelMapOptions::new()).unwrap();
        let (expected, _) = fx.f64(&format!("pixels/center/{name}"));
        assert_close(name, &sampled(&map.radial, &index), &expected, REL, 1e-15);
        if unit == Unit::TwoThetaRad {
            let (chi, _) = fx.f64("pixels/center/chi_rad");
            assert_close("chi", &sampled(&map.azimuth, &index), &chi, REL, 1e-15);
        }
    }
    let map = geo
        .pixel_map(Unit::TwoThetaDeg, &options(false, ChiDiscontinuity::AtZero))
        .unwrap();
    let (chi0, _) = fx.f64("pixels/center/chi_rad_disc0");
    let mut chi = sampled(&map.azimuth, &index);
    assert!(
        chi.iter()
            .all(|&c| (0.0..2.0 * std::f64::consts::PI).contains(&c))
    );
    unwrap_chi_like(&mut chi, &chi0);
    assert_close("chi disc at 0", &chi, &chi0, REL, 1e-15);
}

#[test]
fn corners_match_pyfai() {
    let fx = pyfai::Fixture::load();
    let geo = reference_geometry(&fx);
    let (index, _) = fx.u64("pixels/index");
    for (unit, name) in [
        (Unit::TwoThetaDeg, "2th_deg"),
        (Unit::QNm, "q_nm^-1"),
        (Unit::RMm, "r_mm"),
    ] {
        let map = geo
            .pixel_map(unit, &options(true, ChiDiscontinuity::AtPi))
            .unwrap();
        let mut actual = sampled_corners(&map, &index);
        let (expected, shape) = fx.f64(&format!("pixels/corners/{name}"));
        assert_eq!(shape, vec![index.len(), 4, 2]);
        unwrap_chi_like(&mut actual, &expected);
        assert_close(&format!("corners {name}"), &actual, &expected, REL, 1e-15);
        if name == "2th_deg" {
            // pyFAI's own corner_array is float32: equal to its rounding.
            let (f32s, _) = fx.f64("pixels/corners_f32/2th_deg");
            let rounded: Vec<f64> = actual.iter().map(|&v| v as f32 as f64).collect();
            assert_close("corners f32", &rounded, &f32s, 2e-7, 1e-7);
        }
    }
    // With `corners_f32`, the internal-unit corners are pyFAI's float32 corner_array.
    for (unit, name) in [
        (Unit::TwoThetaRad, "2th"),
        (Unit::QNm, "q"),
        (Unit::RM, "r"),
    ] {
        let opts = PixelMapOptions {
            corners_f32: true,
            ..options(true, ChiDiscontinuity::AtPi)
        };
        let map = geo.pixel_map(unit, &opts).unwrap();
        let actual = sampled_corners(&map, &index);
        let (expected, _) = fx.f64(&format!("pixels/corners_f32_internal/{name}"));
        let differ = actual.iter().zip(&expected).filter(|(a, b)| a != b).count();
        eprintln!("f32 corners {name}: {differ} of {} differ", actual.len());
        assert_close(
            &format!("f32 corners {name}"),
            &actual,
            &expected,
            1.2e-7,
            0.0,
        );
        assert!(differ * 1000 <= actual.len(), "{name}: {differ} differ");
    }
    let map = geo
        .pixel_map(Unit::TwoThetaDeg, &options(true, ChiDiscontinuity::AtZero))
        .unwrap();
    let mut actual = sampled_corners(&map, &index);
    let (expected, _) = fx.f64("pixels/corners/2th_deg_disc0");
    unwrap_chi_like(&mut actual, &expected);
    assert_close("corners disc at 0", &actual, &expected, REL, 1e-15);
}

#[test]
fn corrections_match_pyfai() {
    let fx = pyfai::Fixture::load();
    let geo = reference_geometry(&fx);
    let (index, _) = fx.u64("pixels/index");
    let pol = fx.manifest["polarization"].as_array().unwrap();
    let opts = PixelMapOptions {
        polarization: Some(Polarization {
            factor: pol[0].as_f64().unwrap(),
            axis_offset: pol[1].as_f64().unwrap(),
        }),
        ..PixelMapOptions::new()
    };
    let map = geo.pixel_map(Unit::TwoThetaDeg, &opts).unwrap();
    let sa = sampled(&map.solid_angle, &index);
    let (expected, _) = fx.f64("pixels/solid_angle");
    assert_close("solid angle", &sa, &expected, REL, 0.0);
    let (f32s, _) = fx.f64("pixels/solid_angle_f32");
    assert_close("solid angle vs pyFAI f32", &sa, &f32s, 3e-7, 0.0);

    let p = sampled(map.polarization.as_ref().unwrap(), &index);
    let (expected, _) = fx.f64("pixels/polarization");
    assert_close("polarization", &p, &expected, REL, 0.0);
    let (f32s, _) = fx.f64("pixels/polarization_f32");
    assert_close("polarization vs pyFAI f32", &p, &f32s, 3e-7, 0.0);

    let off = geo
        .pixel_map(
            Unit::TwoThetaDeg,
            &PixelMapOptions {
                solid_angle: false,
                ..PixelMapOptions::new()
            },
        )
        .unwrap();
    assert!(off.solid_angle.iter().all(|&v| v == 1.0));
    assert!(off.polarization.is_none());
}

#[test]
fn orientations_match_pyfai() {
    let fx = pyfai::Fixture::load();
    let poni = Poni::from_file(fx.poni_path()).unwrap();
    for (o, orientation) in [
        (1, Orientation::TopLeft),
        (2, Orientation::TopRight),
        (4, Orientation::BottomLeft),
    ] {
        let mut p = poni.clone();
        p.detector = p.detector.with_orientation(orientation);
        let geo = Geometry::from_poni(&p).unwrap();
        let prefix = format!("orientation{o}");
        let (index, _) = fx.u64(&format!("{prefix}/index"));
        let map = geo
            .pixel_map(Unit::TwoThetaDeg, &options(true, ChiDiscontinuity::AtPi))
            .unwrap();
        let (tth, _) = fx.f64(&format!("{prefix}/center/2th_deg"));
        assert_close(&prefix, &sampled(&map.radial, &index), &tth, REL, 1e-15);
        let (chi, _) = fx.f64(&format!("{prefix}/center/chi_rad"));
        assert_close(&prefix, &sampled(&map.azimuth, &index), &chi, REL, 1e-15);
        let mut corners = sampled_corners(&map, &index);
        let (expected, _) = fx.f64(&format!("{prefix}/corners/2th_deg"));
        unwrap_chi_like(&mut corners, &expected);
        assert_close(&prefix, &corners, &expected, REL, 1e-15);
    }
}

#[test]
fn detector_masks_match_pyfai() {
    let fx = pyfai::Fixture::load();
    let masks = fx.manifest["masks"].as_object().unwrap();
    assert_eq!(masks.len(), 8);
    for (name, expected) in masks {
        let det = Detector::new(Model::from_name(name).unwrap()).unwrap();
        assert_eq!(det.class_name(), name);
        let mask = det.mask().unwrap();
        let (mut count, mut s1, mut s2) = (0u64, 0u64, 0u64);
        for (k, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            let k = k as u64;
            count += 1;
            s1 = s1.wrapping_add(k);
            s2 = s2.wrapping_add(k.wrapping_mul(k));
        }
        assert_eq!(Some(count), expected["count"].as_u64(), "{name} count");
        assert_eq!(Some(s1), expected["sum_index"].as_u64(), "{name} Σk");
        assert_eq!(
            Some(s2),
            expected["sum_index_sq_wrapping"].as_u64(),
            "{name} Σk²"
        );
    }
}

#[test]
fn pixel_map_mask_is_gaps_plus_user_mask() {
    let fx = pyfai::Fixture::load();
    let geo = reference_geometry(&fx);
    let (rows, cols) = geo.shape();
    let mut user = vec![false; rows * cols];
    user[0] = true;
    user[cols * 100 + 100] = true;
    let map = geo
        .pixel_map(
            Unit::QA,
            &PixelMapOptions {
                user_mask: Some(user),
                ..PixelMapOptions::new()
            },
        )
        .unwrap();
    assert_eq!(map.shape, (1679, 1475));
    assert_eq!(map.mask.iter().filter(|&&m| m).count(), 211_405 + 2);
    assert!(map.mask[0] && map.mask[cols * 100 + 100] && map.mask[242]);
}

#[test]
fn frame_is_the_one_pyfai_integrated() {
    let fx = pyfai::Fixture::load();
    let det = Detector::new(Model::PilatusCdTe2M).unwrap();
    let mask = det.mask().unwrap();
    // Fixture::frame asserts the checksums recorded by the script.
    let frame = fx.frame(&mask, 1475);
    let min = frame.iter().copied().min().unwrap();
    let max = frame.iter().copied().max().unwrap();
    assert_eq!(
        Some(min as i64),
        fx.manifest["frame_checksum"]["min"].as_i64()
    );
    assert_eq!(
        Some(max as i64),
        fx.manifest["frame_checksum"]["max"].as_i64()
    );
}

#[test]
fn poni_files_read_as_pyfai_reads_them() {
    let fx = pyfai::Fixture::load();
    let readings = fx.manifest["poni"].as_object().unwrap();
    assert!(readings.len() >= 7);
    for (file, r) in readings {
        let poni = Poni::from_file(fx.path(&format!("poni/{file}")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let d = &poni.detector;
        assert_eq!(d.class_name(), r["detector"].as_str().unwrap(), "{file}");
        assert_eq!(d.pixel1(), r["pixel1"].as_f64().unwrap(), "{file}");
        assert_eq!(d.pixel2(), r["pixel2"].as_f64().unwrap(), "{file}");
        let shape = r["shape"].as_array().map(|s| {
            (
                s[0].as_u64().unwrap() as usize,
                s[1].as_u64().unwrap() as usize,
            )
        });
        assert_eq!(d.shape(), shape, "{file}");
        assert_eq!(
            d.orientation().as_int() as u64,
            r["orientation"].as_u64().unwrap(),
            "{file}"
        );
        for (key, value) in [
            ("dist", poni.dist),
            ("poni1", poni.poni1),
            ("poni2", poni.poni2),
            ("rot1", poni.rot1),
            ("rot2", poni.rot2),
            ("rot3", poni.rot3),
        ] {
            assert_eq!(value, r[key].as_f64().unwrap(), "{file} {key}");
        }
        assert_eq!(poni.wavelength, r["wavelength"].as_f64(), "{file}");
        // What we write reads back to the same geometry.
        if let Some(dir) = std::env::var_os("AZINT_WRITE_PONI_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(file), poni.to_text()).unwrap();
        }
        let again = Poni::parse(&poni.to_text()).unwrap();
        assert_eq!(again.detector, poni.detector, "{file} round trip");
        assert_eq!(
            (
                again.dist,
                again.poni1,
                again.poni2,
                again.rot1,
                again.rot2,
                again.rot3
            ),
            (
                poni.dist, poni.poni1, poni.poni2, poni.rot1, poni.rot2, poni.rot3
            )
        );
        assert_eq!(again.wavelength, poni.wavelength);
    }
    let v3 = Poni::from_file(fx.path("poni/v3.poni")).unwrap();
    assert_eq!(v3.version, 3.0);
    assert_eq!(v3.parallax, Some(false));
    assert!(v3.detector.sensor().is_some());
    let v21 = Poni::from_file(fx.path("poni/v21_alias_case.poni")).unwrap();
    assert_eq!(v21.version, 2.1);
    assert_eq!(v21.extra, vec![("Calibrant".into(), "CeO2".into())]);
    let v1 = Poni::from_file(fx.path("poni/v1.poni")).unwrap();
    assert_eq!(v1.version, 1.0);
}

const GOOD: &str = "poni_version: 2.1\n\
Detector: PilatusCdTe2M\n\
Detector_config: {\"pixel1\": 0.000172, \"pixel2\": 0.000172, \"orientation\": 3}\n\
Distance: 0.2873\nPoni1: 0.1412\nPoni2: 0.1185\nRot1: 0.0123\nRot2: -0.0234\nRot3: 0.0345\n\
Wavelength: 2.0664032e-11\n";

fn without(key: &str) -> String {
    GOOD.lines()
        .filter(|l| !l.starts_with(key))
        .collect::<Vec<_>>()
        .join("\n")
}

fn replaced(key: &str, line: &str) -> String {
    GOOD.lines()
        .map(|l| if l.starts_with(key) { line } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rejects_missing_keys() {
    assert!(Poni::parse(GOOD).is_ok());
    for key in [
        "Distance",
        "Poni1",
        "Poni2",
        "Rot1",
        "Rot2",
        "Rot3",
        "Detector:",
    ] {
        let err = Poni::parse(&without(key)).unwrap_err();
        assert!(matches!(err, Error::MissingKey { .. }), "{key}: {err}");
        assert!(
            err.to_string().contains(key.trim_end_matches(':')),
            "{key}: {err}"
        );
    }
    // The wavelength is optional, but q units need it.
    let poni = Poni::parse(&without("Wavelength")).unwrap();
    let geo = Geometry::from_poni(&poni).unwrap();
    assert!(
        geo.pixel_map(Unit::TwoThetaDeg, &PixelMapOptions::new())
            .is_ok()
    );
    let err = geo
        .pixel_map(Unit::QNm, &PixelMapOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::MissingWavelength { .. }), "{err}");
}

#[test]
fn rejects_nan_and_garbage_values() {
    for line in [
        "Distance: nan",
        "Poni1: NaN",
        "Rot2: inf",
        "Wavelength: -inf",
    ] {
        let key = line.split(':').next().unwrap();
        let err = Poni::parse(&replaced(key, line)).unwrap_err();
        assert!(
            err.to_string().contains("not finite") && err.to_string().contains(key),
            "{line}: {err}"
        );
    }
    let err = Poni::parse(&replaced("Rot3", "Rot3: 0.0x")).unwrap_err();
    assert!(err.to_string().contains("line 9"), "{err}");
    let err = Poni::parse(&replaced("Distance", "Distance: -0.1")).unwrap_err();
    assert!(matches!(err, Error::OutOfRange { .. }), "{err}");
    let err = Poni::parse(&replaced("Detector_config", "Detector_config: {pixel1: 1")).unwrap_err();
    assert!(err.to_string().contains("JSON"), "{err}");
    let err = Poni::parse(&replaced("poni_version", "poni_version: 4")).unwrap_err();
    assert!(matches!(err, Error::UnsupportedPoniVersion { .. }), "{err}");
    let err = Poni::parse(&replaced(
        "Detector_config",
        "Detector_config: {\"pixel1\": 0.000172, \"orientation\": 7}",
    ))
    .unwrap_err();
    assert!(err.to_string().contains("orientation"), "{err}");
}

#[test]
fn rejects_unknown_detector() {
    let err = Poni::parse(&replaced("Detector:", "Detector: Pilatus 3M")).unwrap_err();
    assert!(matches!(err, Error::UnknownDetector { .. }), "{err}");
    assert!(err.to_string().contains("Pilatus 3M"), "{err}");
    // pyFAI's aliases are all accepted.
    for alias in [
        "Pilatus2MCdTe",
        "Pilatus CdTe 2M",
        "pilatus_2m_cdte",
        "Pilatus2M CdTe",
    ] {
        let poni = Poni::parse(&replaced("Detector:", &format!("Detector: {alias}"))).unwrap();
        assert_eq!(poni.detector.model(), Model::PilatusCdTe2M, "{alias}");
    }
}

#[test]
fn rejects_wrong_mask_shape_and_parallax() {
    let poni = Poni::parse(GOOD).unwrap();
    let geo = Geometry::from_poni(&poni).unwrap();
    let err = geo
        .pixel_map(
            Unit::TwoThetaDeg,
            &PixelMapOptions {
                user_mask: Some(vec![false; 1000]),
                ..PixelMapOptions::new()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("(1679, 1475)"), "{err}");

    let mut p = poni.clone();
    p.parallax = Some(true);
    let err = Geometry::from_poni(&p).unwrap_err();
    assert!(err.to_string().contains("parallax"), "{err}");

    let err = Poni::from_file("does/not/exist.poni").unwrap_err();
    assert!(err.to_string().contains("exist.poni"), "{err}");
}
