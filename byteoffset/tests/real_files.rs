//! Every decoder path on the byte-offset frames of the real CBF collection
//! (`$XRDCT_REAL_CBF_DIR`, else `../shared/data/real-cbf` beside the workspace): the same
//! pixels as the reference decoder, the statistics recorded in `expected.json` (written from
//! fabio and CBFlib), and the encoder writes the detector's own bytes back.
//! Skips with a message when the folder is absent.

use std::path::PathBuf;

use byteoffset::{Path, reference};
use cbf_format::{CbfFile, Compression};

fn real_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("XRDCT_REAL_CBF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real-cbf")
        });
    dir.is_dir().then_some(dir)
}

/// The first binary section of a CBF file if it is byte-offset: payload and element count.
fn byte_offset_payload<'a>(file: &'a CbfFile<'_>) -> Option<(&'a [u8], usize)> {
    let section = file.sections().first()?;
    (*section.compression() == Compression::ByteOffset)
        .then(|| (section.payload(), section.element_count()))
}

/// `"key": number` of the entry of `file` in expected.json (a light scan: the file is flat
/// per entry and the test needs only a few integers).
fn expected_number(json: &str, file: &str, key: &str) -> Option<i64> {
    let start = json.find(&format!("\"file\": \"{file}\""))?;
    let entry = &json[start..];
    let end = entry[1..]
        .find("\"file\": \"")
        .map_or(entry.len(), |e| e + 1);
    let entry = &entry[..end];
    // The top-level value comes after the section and library blocks: take the last match.
    let at = entry.rfind(&format!("\"{key}\": "))?;
    let rest = &entry[at + key.len() + 4..];
    let num: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    num.parse().ok()
}

#[test]
fn real_frames_match_reference_on_every_path() {
    let Some(dir) = real_dir() else {
        println!("real CBF folder not found (set XRDCT_REAL_CBF_DIR); skipped");
        return;
    };
    let json = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut checked = 0;
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".cbf") || name.ends_with(".cbf.gz")) {
            continue;
        }
        let raw = std::fs::read(&path).expect("readable file");
        // Gzip-compressed files are decompressed by the parser.
        let file = CbfFile::from_bytes(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Some((payload, n)) = byte_offset_payload(&file) else {
            continue;
        };
        let want = reference::decode_wrapping::<i32>(payload, n).expect("reference decodes");
        for p in Path::ALL.into_iter().filter(|p| p.is_available()) {
            let mut out = vec![0i32; n];
            byteoffset::decode_into_with(p, payload, &mut out).expect("decodes");
            assert!(out == want, "{name}: {p} differs from the reference");
            let mut block = vec![0i32; 3000];
            let mut sum = 0i64;
            let mut count = 0;
            byteoffset::decode_visit_with(p, payload, n, &mut block, |first, px| {
                assert!(px == &want[first..first + px.len()], "{name}: visit on {p}");
                sum += px.iter().map(|&v| i64::from(v)).sum::<i64>();
                count += px.len();
            })
            .expect("visits");
            assert_eq!(count, n);
            assert_eq!(
                Some(sum),
                expected_number(&json, &name, "sum"),
                "{name}: sum"
            );
            assert_eq!(
                byteoffset::encode_with(p, &want),
                payload,
                "{name}: re-encoding on {p}"
            );
        }
        assert_eq!(
            want.iter().copied().min().map(i64::from),
            expected_number(&json, &name, "min")
        );
        assert_eq!(
            want.iter().copied().max().map(i64::from),
            expected_number(&json, &name, "max")
        );
        println!(
            "{name}: {n} pixels, {} bytes: all paths match",
            payload.len()
        );
        checked += 1;
    }
    assert!(checked > 0, "no byte-offset frame in {}", dir.display());
}
