//! Every real CBF file in the shared data folder decodes to the values recorded in its
//! `expected.json` (sha256 of the int32 little-endian pixels, min, max, sum, dims, element
//! type, MD5 status). The folder is `$XRDCT_REAL_CBF_DIR`, or else
//! `<workspace root>/../shared/data/real-cbf`; the test skips with a message when it is absent.

use std::path::PathBuf;

use cbf_format::{CbfFile, Md5Status, ReadOptions};
use sha2::{Digest, Sha256};

fn real_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("XRDCT_REAL_CBF_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real-cbf"),
    };
    dir.join("expected.json").is_file().then_some(dir)
}

fn stats(pixels: &[i32]) -> (String, i64, i64, i64) {
    let mut h = Sha256::new();
    let mut bytes = Vec::with_capacity(pixels.len() * 4);
    for p in pixels {
        bytes.extend_from_slice(&p.to_le_bytes());
    }
    h.update(&bytes);
    let sha: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let min = pixels.iter().copied().min().map_or(0, i64::from);
    let max = pixels.iter().copied().max().map_or(0, i64::from);
    let sum = pixels.iter().map(|&p| i64::from(p)).sum();
    (sha, min, max, sum)
}

#[test]
fn real_files_match_expected_json() {
    let Some(dir) = real_dir() else {
        eprintln!(
            "SKIP real_files_match_expected_json: real CBF folder not found (set XRDCT_REAL_CBF_DIR)"
        );
        return;
    };
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let files = expected["files"].as_array().unwrap();
    assert!(
        files.len() >= 9,
        "expected.json lists {} files",
        files.len()
    );
    let mut sections_checked = 0;
    for entry in files {
        let name = entry["file"].as_str().unwrap();
        let path = dir.join(name);
        let file = CbfFile::open(&path, &ReadOptions::new().verify_md5(true))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_sections = entry["sections"].as_array().unwrap();
        assert_eq!(
            file.sections().len(),
            want_sections.len(),
            "{name}: number of sections"
        );
        for (section, want) in file.sections().iter().zip(want_sections) {
            let p = &want["pycbf"];
            let dims: Vec<usize> = p["dims"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(section.dims(), dims.as_slice(), "{name}: dims");
            assert_eq!(
                section.element_type().numpy_name(),
                p["element_type"].as_str().unwrap(),
                "{name}"
            );
            let md5 = match want["md5_ok"].as_bool() {
                None => Md5Status::Absent,
                Some(true) => Md5Status::Ok,
                Some(false) => Md5Status::Mismatch,
            };
            assert_eq!(section.md5_status(), md5, "{name}: MD5 status");
            let mut pixels = vec![0i32; section.element_count()];
            section
                .decode_into_i32(&mut pixels)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let (sha, min, max, sum) = stats(&pixels);
            assert_eq!(
                min,
                p["min"].as_i64().unwrap(),
                "{name} section {}: min",
                section.index()
            );
            assert_eq!(
                max,
                p["max"].as_i64().unwrap(),
                "{name} section {}: max",
                section.index()
            );
            assert_eq!(
                sum,
                p["sum"].as_i64().unwrap(),
                "{name} section {}: sum",
                section.index()
            );
            assert_eq!(
                sha,
                p["sha256_int32_le"].as_str().unwrap(),
                "{name} section {}: sha256",
                section.index()
            );
            sections_checked += 1;
        }
        // The file-level reference values describe section 1.
        let first = file.sections()[0].decode_i32().unwrap();
        assert_eq!(
            stats(&first).0,
            entry["sha256_int32_le"].as_str().unwrap(),
            "{name}"
        );
        // Pilatus header values, where the reference script parsed them.
        if let Some(ph) = entry["pilatus_header"].as_object()
            && let Some(w) = ph.get("Wavelength").and_then(|v| v.as_str())
        {
            let w: f64 = w.split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(file.header().wavelength, Some(w), "{name}: wavelength");
            let ts = ph["timestamp"].as_str().unwrap();
            assert_eq!(
                file.header().timestamp.as_deref(),
                Some(ts),
                "{name}: timestamp"
            );
        }
        assert!(CbfFile::is_complete(file.bytes()), "{name}: is_complete");
    }
    eprintln!(
        "checked {sections_checked} sections of {} real files",
        files.len()
    );
}
