//! Monitor and angle file fuzz target: no text may make xrdct-pipeline's monitor column
//! reader (`engine::Monitor::from_text`, what `FILE:COLUMN` monitors read) or its angle
//! list reader (`tomo::scan::parse_angles`) panic.
//!
//! The first line of the input names the column (a 0-based number or a name) and the
//! rest is the monitor file; the whole input is also read as an angle file. Nothing here
//! touches the file system.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xrdct_pipeline::engine::{HeaderField, Monitor};
use xrdct_pipeline::tomo::scan::parse_angles;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (column, body) = text.split_once('\n').unwrap_or(("0", &text));
    let _ = HeaderField::parse(column);
    if let Ok(monitor) = Monitor::from_text(body, column, "fuzz") {
        let Monitor::Values { values, .. } = &monitor else {
            panic!("a text column gives values: {monitor:?}");
        };
        assert!(!values.is_empty());
        assert!(values.len() <= body.lines().count());
        let header = cbf_format::Header::default();
        for index in [0, values.len() - 1, values.len()] {
            match monitor.value(index, &header) {
                Ok(v) => assert!(v.is_finite() && v > 0.0 && v == values[index]),
                Err(_) => assert!(
                    index == values.len() || !(values[index] > 0.0) || !values[index].is_finite()
                ),
            }
        }
        assert!(monitor.describe().ends_with(column));
    }
    if let Ok(angles) = parse_angles(&text, "fuzz") {
        assert!(angles.iter().all(|a| a.is_finite()));
    }
});
