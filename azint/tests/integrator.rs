//! The crate-root API: `Integrator` against an engine built by hand, its errors, and no
//! panic whatever the configuration and frame.

use azint::engine::Engine;
use azint::error::AxisKind;
use azint::geometry::{Geometry, PixelMapOptions, Polarization};
use azint::{Error, ErrorModel, IntegrationConfig, Integrator, Poni, Split, Unit};
use proptest::prelude::*;

const ROWS: usize = 16;
const COLS: usize = 20;

fn poni_text(wavelength: bool) -> String {
    format!(
        "poni_version: 2.1\nDetector: Detector\n\
         Detector_config: {{\"pixel1\": 1e-4, \"pixel2\": 1.2e-4, \"max_shape\": [{ROWS}, {COLS}]}}\n\
         Distance: 0.05\nPoni1: 0.0005\nPoni2: 0.0011\nRot1: 0.02\nRot2: -0.01\nRot3: 0.1\n{}",
        if wavelength {
            "Wavelength: 1e-10\n"
        } else {
            ""
        }
    )
}

fn frame_i32() -> Vec<i32> {
    (0..ROWS * COLS).map(|k| (k * 37 % 101) as i32).collect()
}

#[test]
fn integrator_is_the_engine_of_its_pixel_map() {
    for split in Split::ALL {
        let config = IntegrationConfig {
            bins: 30,
            split,
            error_model: ErrorModel::Poisson,
            ..IntegrationConfig::default()
        };
        let integrator = Integrator::from_poni_str(&poni_text(true), &config).unwrap();
        let geometry = Geometry::from_poni(&Poni::parse(&poni_text(true)).unwrap()).unwrap();
        let options = PixelMapOptions {
            corners: split != Split::No,
            corners_f32: true,
            ..PixelMapOptions::new()
        };
        let map = geometry.pixel_map(Unit::TwoThetaDeg, &options).unwrap();
        let engine = Engine::new(&map, &config).unwrap();
        let frame = frame_i32();
        let ours = integrator.integrate(&frame).unwrap();
        assert_eq!(ours, engine.integrate_i32(&frame, 1.0).unwrap(), "{split}");
        assert_eq!(integrator.radial(), engine.radial());
        assert_eq!(integrator.shape(), (ROWS, COLS));
        assert_eq!(integrator.unit(), Unit::TwoThetaDeg);
        assert_eq!(integrator.engine().split(), split);
        // Float frames of the same values give the same pattern to rounding.
        let float: Vec<f32> = frame.iter().map(|&v| v as f32).collect();
        let f = integrator.integrate(&float).unwrap();
        for (a, b) in f.intensity.iter().zip(&ours.intensity) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{split}: {a} vs {b}"
            );
        }
        // The monitor divides the intensity.
        let half = integrator.integrate_normalized(&frame, 2.0).unwrap();
        for (a, b) in half.intensity.iter().zip(&ours.intensity) {
            assert!((2.0 * a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
    }
}

#[test]
fn builder_sets_unit_mask_and_corrections() {
    let geometry = Geometry::from_poni(&Poni::parse(&poni_text(true)).unwrap()).unwrap();
    let mut mask = vec![false; ROWS * COLS];
    mask[..COLS].fill(true);
    let config = IntegrationConfig {
        bins: 12,
        azimuthal_bins: Some(8),
        split: Split::Full,
        dark: Some(vec![1.0; ROWS * COLS]),
        flat: Some(vec![2.0; ROWS * COLS]),
        ..IntegrationConfig::default()
    };
    let integrator = Integrator::builder(geometry.clone())
        .unit(Unit::QA)
        .mask(mask.clone())
        .polarization(Polarization {
            factor: 0.9,
            axis_offset: 0.3,
        })
        .solid_angle(false)
        .build(&config)
        .unwrap();
    let options = PixelMapOptions {
        polarization: Some(Polarization {
            factor: 0.9,
            axis_offset: 0.3,
        }),
        solid_angle: false,
        corners: true,
        corners_f32: true,
        user_mask: Some(mask),
        ..PixelMapOptions::new()
    };
    let engine = Engine::new(&geometry.pixel_map(Unit::QA, &options).unwrap(), &config).unwrap();
    let frame = frame_i32();
    assert_eq!(
        integrator.integrate(&frame).unwrap(),
        engine.integrate_i32(&frame, 1.0).unwrap()
    );
    assert_eq!(integrator.azimuthal().map(<[f64]>::len), Some(8));
    assert_eq!(integrator.unit(), Unit::QA);
}

#[test]
fn setup_errors_are_typed() {
    let config = IntegrationConfig::default();
    let geometry = Geometry::from_poni(&Poni::parse(&poni_text(false)).unwrap()).unwrap();
    let err = Integrator::builder(geometry.clone())
        .unit(Unit::QNm)
        .build(&config)
        .unwrap_err();
    assert!(matches!(err, Error::MissingWavelength { .. }), "{err}");
    let err = Integrator::builder(geometry.clone())
        .mask(vec![false; 3])
        .build(&config)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                what: "user mask",
                expected: (ROWS, COLS),
                actual: (0, 3)
            }
        ),
        "{err}"
    );
    let err = Integrator::builder(geometry.clone())
        .polarization_factor(1.5)
        .build(&config)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfRange { .. }), "{err}");
    let dark = IntegrationConfig {
        dark: Some(vec![0.0; 5]),
        ..IntegrationConfig::default()
    };
    let err = Integrator::from_poni_str(&poni_text(false), &dark).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { what: "dark", .. }),
        "{err}"
    );
    let err = Integrator::from_poni_str(
        &poni_text(false),
        &IntegrationConfig {
            bins: 0,
            ..IntegrationConfig::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ZeroBins {
                axis: AxisKind::Radial
            }
        ),
        "{err}"
    );
    let err = Integrator::from_poni_file("/nonexistent/geometry.poni", &config).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    let err = Integrator::from_poni_str("Distance: 0.1\n", &config).unwrap_err();
    assert!(matches!(err, Error::MissingKey { .. }), "{err}");

    let integrator = Integrator::from_poni_str(&poni_text(false), &config).unwrap();
    let err = integrator.integrate(&[0i32; 7]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                what: "frame",
                expected: (ROWS, COLS),
                actual: (0, 7)
            }
        ),
        "{err}"
    );
    let err = integrator
        .integrate_normalized(&frame_i32(), f64::INFINITY)
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidNormalizationFactor { .. }),
        "{err}"
    );
}

#[test]
fn poni_file_too_large_is_an_error_in_that_file() {
    let path = std::env::temp_dir().join(format!("azint-large-{}.poni", std::process::id()));
    std::fs::write(&path, vec![b'#'; (1 << 20) + 1]).unwrap();
    let err = Integrator::from_poni_file(&path, &IntegrationConfig::default()).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    match err {
        Error::InFile { source, .. } => {
            assert!(matches!(*source, Error::FileTooLarge { .. }), "{source}")
        }
        e => panic!("{e}"),
    }
}

/// A finite, non-finite or extreme value.
fn any_edge() -> impl Strategy<Value = f64> {
    prop_oneof![
        -5.0..50.0f64,
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(1e-300),
    ]
}

fn any_config() -> impl Strategy<Value = IntegrationConfig> {
    (
        0usize..40,
        proptest::option::of(0usize..6),
        0usize..3,
        proptest::option::of((any_edge(), any_edge())),
        proptest::option::of((any_edge(), any_edge())),
        proptest::option::of(any_edge()),
        proptest::option::of(any_edge()),
        0usize..3,
    )
        .prop_map(
            |(bins, azimuthal_bins, split, radial_range, azimuth_range, dummy, delta, em)| {
                IntegrationConfig {
                    bins,
                    azimuthal_bins,
                    split: Split::ALL[split],
                    radial_range,
                    azimuth_range,
                    dummy,
                    delta_dummy: delta,
                    error_model: ErrorModel::ALL[em],
                    ..IntegrationConfig::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// PONI text made of pyFAI's keys with arbitrary values, or arbitrary text: parsed or an
    /// error, never a panic.
    #[test]
    fn poni_text_never_panics(
        lines in proptest::collection::vec(
            (
                prop_oneof![
                    Just("poni_version"), Just("Detector"), Just("Detector_config"),
                    Just("Distance"), Just("Poni1"), Just("Poni2"), Just("Rot1"), Just("Rot2"),
                    Just("Rot3"), Just("Wavelength"), Just("PixelSize1"), Just("PixelSize2"),
                    Just("Parallax"), Just("# Calibrant"),
                ],
                prop_oneof![
                    "[-+0-9.e]{0,8}".boxed(),
                    Just("{\"pixel1\": 1e-4, \"pixel2\": 1e-4, \"max_shape\": [4, 5]}".to_owned()).boxed(),
                    Just("Detector".to_owned()).boxed(),
                    Just("Pilatus1M".to_owned()).boxed(),
                    any::<String>().boxed(),
                ],
            ),
            0..14,
        ),
        garbage in any::<String>(),
    ) {
        let text: String = lines.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        for t in [text.as_str(), garbage.as_str()] {
            if let Ok(poni) = Poni::parse(t) {
                let _ = Geometry::from_poni(&poni);
                let _ = Integrator::from_poni(&poni, &IntegrationConfig { bins: 3, ..Default::default() });
            }
        }
    }

    /// Whatever the configuration, frame length, values and monitor: a pattern of the
    /// configured size or an error, never a panic.
    #[test]
    fn no_panic_on_any_input(
        config in any_config(),
        unit in 0usize..Unit::ALL.len(),
        len_delta in prop_oneof![Just(0isize), -3isize..3],
        values in proptest::collection::vec(any::<i32>(), 1..16),
        nf in any_edge(),
    ) {
        let integrator = Integrator::builder(
            Geometry::from_poni(&Poni::parse(&poni_text(true)).unwrap()).unwrap(),
        )
        .unit(Unit::ALL[unit])
        .build(&config);
        let Ok(integrator) = integrator else {
            return Ok(());
        };
        let n = (ROWS * COLS).saturating_add_signed(len_delta);
        let frame: Vec<i32> = (0..n).map(|k| values[k % values.len()]).collect();
        let float: Vec<f32> = frame
            .iter()
            .map(|&v| if v % 7 == 0 { f32::NAN } else { v as f32 * 0.5 })
            .collect();
        let bins = config.bins * config.azimuthal_bins.unwrap_or(1);
        for pattern in [
            integrator.integrate_normalized(&frame, nf),
            integrator.integrate_normalized(&float, nf),
        ] {
            match pattern {
                Ok(p) => {
                    prop_assert_eq!(n, ROWS * COLS);
                    prop_assert_eq!(p.intensity.len(), bins);
                    prop_assert_eq!(p.radial.len(), config.bins);
                    prop_assert!(p.radial.iter().all(|r| r.is_finite()));
                }
                Err(e) => prop_assert!(
                    n != ROWS * COLS || !nf.is_finite() || nf == 0.0,
                    "unexpected error: {}", e
                ),
            }
        }
    }
}

/// A pixel map without pixels (built by hand) gives an error or an empty-frame pattern,
/// never a panic.
#[test]
fn empty_pixel_map_does_not_panic() {
    for split in Split::ALL {
        for radial_range in [None, Some((0.0, 1.0))] {
            let map = azint::geometry::PixelMap {
                shape: (0, 5),
                radial: Vec::new(),
                azimuth: Vec::new(),
                corners: Some(Vec::new()),
                solid_angle: Vec::new(),
                polarization: None,
                mask: Vec::new(),
            };
            let config = IntegrationConfig {
                bins: 4,
                split,
                radial_range,
                ..IntegrationConfig::default()
            };
            match Engine::new(&map, &config) {
                Ok(engine) => {
                    let p = engine.integrate::<i32>(&[], 1.0).unwrap();
                    assert!(p.intensity.iter().all(|&i| i == 0.0));
                    assert!(engine.integrate(&[1.0f32], 1.0).is_err());
                }
                Err(e) => assert!(matches!(e, Error::NoValidPixel), "{e}"),
            }
        }
    }
}
