//! Raw-image fuzz target, and format detection: no bytes may make
//! `xrdct_pipeline::readers::image` panic.
//!
//! The first two bytes give a detector shape (1–256 rows, 1–256 columns); the rest is read
//! as raw pixels of that shape (it must be 1, 2, 4 or 8 bytes a pixel, all values non-negative
//! integers) and then as whatever format its first bytes say, with and without the shape.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use xrdct_pipeline::readers::image::{Format, detect_format, parse_image};

fuzz_target!(|data: &[u8]| {
    let [r, c, rest @ ..] = data else {
        return;
    };
    let shape = (usize::from(*r) + 1, usize::from(*c) + 1);
    let name = Path::new("fuzz.raw");
    match parse_image(name, rest, Format::Raw, Some(shape)) {
        Ok(image) => {
            let n = shape.0 * shape.1;
            assert_eq!(image.shape, shape);
            assert_eq!(image.values.len(), n);
            assert!(matches!(rest.len() / n, 1 | 2 | 4 | 8) && rest.len() % n == 0);
            assert!(image.values.iter().all(|&v| v >= 0.0 && v.fract() == 0.0));
        }
        Err(e) => assert!(e.to_string().contains("fuzz.raw"), "{e}"),
    }
    let format = detect_format(rest);
    for shape in [Some(shape), None] {
        if let Err(e) = parse_image(name, rest, format, shape) {
            assert!(e.to_string().contains("fuzz.raw"), "{e}");
        }
    }
});
