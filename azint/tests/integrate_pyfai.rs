//! The engines against pyFAI itself, on pyFAI's own per-pixel arrays of a small tilted
//! detector (so that only the engines are under test here). The reference folder is made by
//! `scripts/pyfai_engine_cases.py` and named by `XRDCT_PYFAI_ENGINE_DIR`; without it the test
//! prints a message and skips (`scripts/checks/40-azint-engine-pyfai.sh` runs both).

use azint::engine::{Engine, ErrorModel, IntegrationConfig, Pattern, SigmaClipOptions, Split};
use azint::geometry::PixelMap;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> Option<PathBuf> {
    match std::env::var_os("XRDCT_PYFAI_ENGINE_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!(
                "skipping: set XRDCT_PYFAI_ENGINE_DIR to the output of scripts/pyfai_engine_cases.py"
            );
            None
        }
    }
}

fn read_f64(dir: &Path, name: &str) -> Vec<f64> {
    let bytes = std::fs::read(dir.join(name)).expect("reference array");
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn read_i32(dir: &Path, name: &str) -> Vec<i32> {
    let bytes = std::fs::read(dir.join(name)).expect("reference array");
    bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn pixel_map(dir: &Path, shape: (usize, usize), unit: &str) -> PixelMap {
    let n = shape.0 * shape.1;
    let radial = read_f64(dir, &format!("radial_{unit}.f64"));
    let corners_flat = read_f64(dir, &format!("corners_{unit}.f64"));
    assert_eq!(corners_flat.len(), n * 8);
    let corners = corners_flat
        .chunks_exact(8)
        .map(|c| [[c[0], c[1]], [c[2], c[3]], [c[4], c[5]], [c[6], c[7]]])
        .collect();
    let mask = std::fs::read(dir.join("mask.u8")).unwrap();
    PixelMap {
        shape,
        radial,
        azimuth: read_f64(dir, "chi.f64"),
        corners: Some(corners),
        solid_angle: read_f64(dir, "solid_angle.f64"),
        polarization: Some(read_f64(dir, "polarization.f64")),
        mask: mask.iter().map(|&m| m != 0).collect(),
    }
}

/// Output bins of the first integrated pixel of a 2D full-splitting engine. pyFAI's
/// `FullSplitIntegrator.calc_lut_2d` starts from an uninitialised (`numpy.empty`) buffer, so
/// the coefficients of its very first pixel hold garbage that changes from run to run (seen:
/// 1.5 % on one bin); those bins are not compared.
fn first_pixel_bins(engine: &Engine) -> Vec<usize> {
    if engine.split() == Split::No {
        return Vec::new();
    }
    let matrix = engine.matrix();
    let first_of = |b: usize| matrix.row(b).next().map(|(p, _)| p);
    let Some(p) = (0..matrix.n_bins()).filter_map(first_of).min() else {
        return Vec::new();
    };
    let nr = engine.radial().len();
    let na = engine.n_bins() / nr;
    (0..matrix.n_bins())
        .filter(|&b| first_of(b) == Some(p))
        .map(|b| (b % na) * nr + b / na)
        .collect()
}

fn check(name: &str, split: Split, ours: &Pattern, dir: &Path, case: &Value, exempt: &[usize]) {
    let count = read_f64(dir, case["count"].as_str().unwrap());
    let radial = read_f64(dir, case["radial"].as_str().unwrap());
    assert_eq!(ours.radial.len(), radial.len(), "{name}: radial bins");
    for (a, b) in ours.radial.iter().zip(&radial) {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-12),
            "{name}: radial centre {a} vs {b}"
        );
    }
    if let Some(az) = case.get("azimuthal").and_then(Value::as_str) {
        let az = read_f64(dir, az);
        let ours_az = ours.azimuthal.as_ref().expect("2D pattern");
        for (a, b) in ours_az.iter().zip(&az) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{name}: azimuthal centre {a} vs {b}"
            );
        }
    }
    let (tight, loose) = match split {
        Split::Full => (1e-4, 1e-2),
        _ => (1e-5, 1e-3),
    };
    for key in ["intensity", "sigma"] {
        let Some(file) = case.get(key).and_then(Value::as_str) else {
            continue;
        };
        let theirs = read_f64(dir, file);
        let ours_v = if key == "intensity" {
            &ours.intensity
        } else {
            &ours.sigma
        };
        assert_eq!(ours_v.len(), theirs.len(), "{name}: {key} length");
        let scale = theirs.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let (mut n, mut good, mut worst, mut worst_i) = (0usize, 0usize, 0.0f64, 0usize);
        for i in 0..theirs.len() {
            if count[i] <= 0.0 || exempt.contains(&i) {
                continue;
            }
            n += 1;
            let rel = (ours_v[i] - theirs[i]).abs() / theirs[i].abs().max(1e-3 * scale).max(1e-300);
            if rel <= tight {
                good += 1;
            }
            if rel > worst {
                worst = rel;
                worst_i = i;
            }
        }
        let frac = good as f64 / n.max(1) as f64;
        eprintln!(
            "{name:>22} {key:>9}: {n} bins, {:.3}% within {tight:e}, worst {worst:.2e} at {worst_i} ({} vs {})",
            100.0 * frac,
            ours_v[worst_i],
            theirs[worst_i]
        );
        assert!(
            frac >= 0.999,
            "{name}: {key} only {frac} of bins within {tight}"
        );
        assert!(
            worst <= loose,
            "{name}: {key} worst {worst} > {loose} at bin {worst_i}"
        );
    }
}

#[test]
fn engines_match_pyfai() {
    let Some(dir) = dir() else { return };
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    let shape = (
        meta["shape"][0].as_u64().unwrap() as usize,
        meta["shape"][1].as_u64().unwrap() as usize,
    );
    let frame = read_i32(&dir, "frame.i32");
    let dark: Vec<f32> = read_f64(&dir, "dark.f64")
        .iter()
        .map(|&x| x as f32)
        .collect();
    let flat: Vec<f32> = read_f64(&dir, "flat.f64")
        .iter()
        .map(|&x| x as f32)
        .collect();
    let cases = meta["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let unit = case["unit"].as_str().unwrap();
        let map = pixel_map(&dir, shape, unit);
        let split = match case["split"].as_str().unwrap() {
            "no" => Split::No,
            "bbox" => Split::BBox,
            _ => Split::Full,
        };
        let error_model = match case["error_model"].as_str().unwrap() {
            "poisson" => ErrorModel::Poisson,
            "azimuthal" => ErrorModel::Azimuthal,
            _ => ErrorModel::None,
        };
        let pair = |k: &str| {
            case.get(k)
                .and_then(Value::as_array)
                .map(|a| (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
        };
        let config = IntegrationConfig {
            bins: case["bins"].as_u64().unwrap() as usize,
            azimuthal_bins: case
                .get("azimuthal_bins")
                .and_then(Value::as_u64)
                .map(|b| b as usize),
            split,
            radial_range: pair("radial_range"),
            azimuth_range: pair("azimuth_range"),
            dummy: case["dummy"].as_f64(),
            delta_dummy: case["delta_dummy"].as_f64(),
            error_model,
            dark: case.get("dark").map(|_| dark.clone()),
            flat: case.get("flat").map(|_| flat.clone()),
        };
        let nf = case
            .get("normalization_factor")
            .and_then(Value::as_f64)
            .unwrap_or(1.0);
        let engine = Engine::new(&map, &config).unwrap();
        let ours = match case["kind"].as_str().unwrap() {
            "sigma_clip" => engine
                .sigma_clip(
                    &frame,
                    SigmaClipOptions {
                        max_iter: case["max_iter"].as_u64().unwrap() as usize,
                        thres: case["thres"].as_f64().unwrap(),
                        error_model,
                        normalization_factor: nf,
                    },
                )
                .unwrap(),
            "medfilt" => {
                let q = pair("quantiles").unwrap();
                engine.medfilt(&frame, q, nf).unwrap()
            }
            _ => engine.integrate_i32(&frame, nf).unwrap(),
        };
        let exempt = if split == Split::Full && config.azimuthal_bins.is_some() {
            first_pixel_bins(&engine)
        } else {
            Vec::new()
        };
        check(name, split, &ours, &dir, case, &exempt);
    }
}
