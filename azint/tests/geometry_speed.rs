//! Timing of the Pilatus 2M pixel map (run with
//! `cargo test --release -p azint --test geometry_speed -- --ignored --nocapture`).

use std::time::Instant;

use azint::geometry::{Geometry, PixelMapOptions, Polarization};
use azint::poni::Poni;
use azint::units::Unit;

#[test]
#[ignore = "timing; run in release"]
fn pilatus_2m_pixel_map_with_corners_is_fast() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pyfai/geometry.poni"
    );
    let geo = Geometry::from_poni(&Poni::from_file(path).unwrap()).unwrap();
    let options = PixelMapOptions {
        corners: true,
        polarization: Some(Polarization {
            factor: 0.99,
            axis_offset: 0.0,
        }),
        ..PixelMapOptions::new()
    };
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let map = geo.pixel_map(Unit::QNm, &options).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(map.radial.len(), 1679 * 1475);
    }
    eprintln!(
        "Pilatus 2M pixel map (q, corners, polarization, solid angle): best of 5 {:.1} ms on {} threads",
        best * 1e3,
        rayon::current_num_threads()
    );
    assert!(best < 1.0, "{best} s");
}

#[test]
#[ignore = "timing; run in release"]
fn pixel_map_parts_timing() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pyfai/geometry.poni"
    );
    let geo = Geometry::from_poni(&Poni::from_file(path).unwrap()).unwrap();
    for (name, corners, pol) in [
        ("centres", false, false),
        ("centres+pol", false, true),
        ("centres+corners", true, false),
    ] {
        let options = PixelMapOptions {
            corners,
            polarization: pol.then_some(Polarization {
                factor: 0.99,
                axis_offset: 0.0,
            }),
            ..PixelMapOptions::new()
        };
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            let map = geo.pixel_map(Unit::QNm, &options).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            drop(map);
        }
        eprintln!("{name}: {:.1} ms", best * 1e3);
    }
}
