//! EDF fuzz target: no bytes may make the EDF reader of `xrdct_pipeline::readers::image` panic.
//!
//! Every input is parsed as EDF (whatever its first bytes) without a detector shape, then with
//! the shape it was read with. An error names the input; an image has the pixels its shape
//! says.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use xrdct_pipeline::readers::image::{Format, parse_image};

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz.edf");
    match parse_image(name, data, Format::Edf, None) {
        Ok(image) => {
            let (rows, cols) = image.shape;
            assert!(rows > 0 && cols > 0);
            assert_eq!(image.values.len(), rows * cols);
            assert_eq!(image.format, Format::Edf);
            let again = parse_image(name, data, Format::Edf, Some(image.shape)).unwrap();
            assert_eq!(again.values.len(), image.values.len());
            let other = (rows + 1, cols);
            assert!(parse_image(name, data, Format::Edf, Some(other)).is_err());
        }
        Err(e) => assert!(e.to_string().contains("fuzz.edf"), "{e}"),
    }
});
