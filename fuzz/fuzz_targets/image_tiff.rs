//! TIFF fuzz target: no bytes may make the TIFF reader of `xrdct_pipeline::readers::image`
//! (the `tiff` crate behind its size checks) panic or allocate beyond what the bytes can hold.
//!
//! Every input is parsed as TIFF (whatever its first bytes) without a detector shape. An
//! error names the input; an image has the pixels its shape says, and format detection
//! agrees with it.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use xrdct_pipeline::readers::image::{Format, detect_format, parse_image};

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz.tif");
    match parse_image(name, data, Format::Tiff, None) {
        Ok(image) => {
            let (rows, cols) = image.shape;
            assert!(rows > 0 && cols > 0);
            assert_eq!(image.values.len(), rows * cols);
            assert_eq!(image.format, Format::Tiff);
            assert_eq!(detect_format(data), Format::Tiff);
        }
        Err(e) => assert!(e.to_string().contains("fuzz.tif"), "{e}"),
    }
});
