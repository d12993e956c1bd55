//! PONI fuzz target: no text may make `azint::poni` panic.
//!
//! Every input is parsed as a PONI file (bytes made UTF-8 as `Poni::from_file` does). What
//! parses is written back with `Poni::to_text` and must parse again to the same geometry, and
//! its `Geometry` is built; for a detector of at most 4096 pixels the pixel map (centres and
//! corners, solid angle, polarization) is computed too.
#![no_main]

use azint::geometry::{PixelMapOptions, Polarization};
use azint::{Geometry, Poni, Unit};
use libfuzzer_sys::fuzz_target;

/// Equal, or within the last bits (the detector's JSON numbers go through serde_json, whose
/// default float parsing is not always correctly rounded).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(poni) = Poni::parse(&text) else {
        return;
    };
    let written = poni.to_text();
    let again = match Poni::parse(&written) {
        Ok(p) => p,
        Err(e) => panic!("to_text output does not parse ({e}):\n{written}"),
    };
    let d = (&poni.detector, &again.detector);
    assert_eq!(d.0.model(), d.1.model(), "{written}");
    assert_eq!(d.0.shape(), d.1.shape(), "{written}");
    assert_eq!(d.0.orientation(), d.1.orientation(), "{written}");
    assert!(close(d.0.pixel1(), d.1.pixel1()) && close(d.0.pixel2(), d.1.pixel2()));
    for (a, b) in [
        (poni.dist, again.dist),
        (poni.poni1, again.poni1),
        (poni.poni2, again.poni2),
        (poni.rot1, again.rot1),
        (poni.rot2, again.rot2),
        (poni.rot3, again.rot3),
    ] {
        assert_eq!(a, b, "{written}");
    }
    assert_eq!(poni.wavelength, again.wavelength, "{written}");
    assert_eq!(poni.parallax, again.parallax, "{written}");
    assert_eq!(poni.extra, again.extra, "{written}");

    let Ok(geometry) = Geometry::from_poni(&poni) else {
        return;
    };
    let (rows, cols) = geometry.shape();
    if rows * cols > 4096 {
        return;
    }
    let options = PixelMapOptions {
        polarization: Some(Polarization {
            factor: 0.99,
            axis_offset: 0.1,
        }),
        corners: true,
        ..PixelMapOptions::new()
    };
    let unit = Unit::ALL[data.len() % Unit::ALL.len()];
    if let Ok(map) = geometry.pixel_map(unit, &options) {
        assert_eq!(map.radial.len(), rows * cols);
        assert_eq!(map.mask.len(), rows * cols);
    }
});
