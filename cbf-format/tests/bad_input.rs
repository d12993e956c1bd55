//! Bad input gives typed errors, never a panic: truncated files, wrong sizes, missing marker,
//! absurd dimensions, corrupted MIME headers, MD5 mismatches, random bytes.

use cbf_format::writer::MiniCbfWriter;
use cbf_format::{CbfFile, ErrorKind, Header, ReadOptions};
use proptest::prelude::*;

fn frame() -> (Vec<u8>, Vec<i32>) {
    let v: Vec<i32> = (0..600)
        .map(|i| (i * 37 % 1000) - 3 + if i % 50 == 0 { 100_000 } else { 0 })
        .collect();
    (
        MiniCbfWriter::new(&Header {
            wavelength: Some(1.0),
            ..Header::default()
        })
        .write(&[30, 20], &v)
        .unwrap(),
        v,
    )
}

/// Replaces the first occurrence of `from` with `to` in the text part.
fn patch(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let pos = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("pattern present");
    let mut out = bytes[..pos].to_vec();
    out.extend_from_slice(to.as_bytes());
    out.extend_from_slice(&bytes[pos + from.len()..]);
    out
}

fn payload_start(bytes: &[u8]) -> usize {
    bytes
        .windows(4)
        .position(|w| w == cbf_format::MARKER)
        .unwrap()
        + 4
}

#[test]
fn rejects_truncated_file() {
    let (bytes, _) = frame();
    let cut = payload_start(&bytes) + 100;
    let err = CbfFile::from_bytes(&bytes[..cut]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Truncated { .. }), "{err}");
    assert_eq!(err.section(), Some(0));
    assert!(err.offset().is_some());
    assert!(!CbfFile::is_complete(&bytes[..cut]));
    // Payload present but padding and closing line missing: parses, but not complete.
    let (bytes, v) = frame();
    let n = CbfFile::from_bytes(&bytes).unwrap().sections()[0]
        .payload()
        .len();
    let cut = payload_start(&bytes) + n;
    let file = CbfFile::from_bytes(&bytes[..cut]).unwrap();
    assert_eq!(file.sections()[0].decode_i32().unwrap(), v);
    assert!(!CbfFile::is_complete(&bytes[..cut]));
    assert!(CbfFile::is_complete(&bytes));
}

#[test]
fn rejects_wrong_sizes() {
    let (bytes, _) = frame();
    // Element count that disagrees with the dimensions.
    let err = CbfFile::from_bytes(&patch(
        &bytes,
        "Number-of-Elements: 600",
        "Number-of-Elements: 601",
    ))
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DimensionMismatch { .. }),
        "{err}"
    );
    // A smaller X-Binary-Size cuts the stream: decoding fails, cleanly.
    let n = CbfFile::from_bytes(&bytes).unwrap().sections()[0]
        .payload()
        .len();
    let smaller = patch(
        &bytes,
        &format!("X-Binary-Size: {n}"),
        &format!("X-Binary-Size: {}", n - 40),
    );
    let file = CbfFile::from_bytes(&smaller).unwrap();
    let err = file.sections()[0].decode_i32().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ByteOffset(_)), "{err}");
    // A size past the end of the file.
    let larger = patch(
        &bytes,
        &format!("X-Binary-Size: {n}"),
        "X-Binary-Size: 99999999",
    );
    assert!(matches!(
        CbfFile::from_bytes(&larger).unwrap_err().kind(),
        ErrorKind::Truncated { .. }
    ));
    // Caller's buffer of the wrong size.
    let file = CbfFile::from_bytes(&bytes).unwrap();
    let err = file.sections()[0]
        .decode_into_i32(&mut [0i32; 599])
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::OutputSize {
            expected: 600,
            actual: 599
        }
    ));
    // No such section.
    assert!(matches!(
        file.section(3).unwrap_err().kind(),
        ErrorKind::NoSuchSection { index: 3, count: 1 }
    ));
}

#[test]
fn rejects_missing_marker() {
    let (bytes, _) = frame();
    let p = payload_start(&bytes) - 4;
    let mut b = bytes.clone();
    b[p] = b'X';
    let err = CbfFile::from_bytes(&b).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::MissingMarker), "{err}");
    assert!(matches!(
        CbfFile::from_bytes(b"###CBF: VERSION 1.5\r\ndata_x\r\n")
            .unwrap_err()
            .kind(),
        ErrorKind::NoBinarySection
    ));
}

#[test]
fn rejects_absurd_dimensions() {
    let (bytes, _) = frame();
    let b = patch(
        &bytes,
        "Number-of-Elements: 600",
        "Number-of-Elements: 4000000000000",
    );
    let b = patch(&b, "Fastest-Dimension: 30", "Fastest-Dimension: 2000000");
    let b = patch(&b, "Second-Dimension: 20", "Second-Dimension: 2000000");
    let err = CbfFile::from_bytes(&b).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::LimitExceeded {
                what: "elements",
                ..
            }
        ),
        "{err}"
    );
    // Overflowing product.
    let b = patch(
        &bytes,
        "Fastest-Dimension: 30",
        "Fastest-Dimension: 18446744073709551615",
    );
    let err = CbfFile::from_bytes(&b).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DimensionMismatch { .. }),
        "{err}"
    );
    // Tighter caller limits.
    let err = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().max_elements(100)).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::LimitExceeded {
                requested: 600,
                limit: 100,
                ..
            }
        ),
        "{err}"
    );
    let err = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().max_bytes(1000)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::LimitExceeded { what: "bytes", .. }),
        "{err}"
    );
}

#[test]
fn rejects_corrupted_mime() {
    let (bytes, _) = frame();
    let b = patch(&bytes, "X-Binary-Size:", "X-Binary-Sise:");
    assert!(matches!(
        CbfFile::from_bytes(&b).unwrap_err().kind(),
        ErrorKind::MissingMimeField("X-Binary-Size")
    ));
    let b = patch(&bytes, "Fastest-Dimension: 30", "Fastest-Dimension: 3O");
    assert!(matches!(
        CbfFile::from_bytes(&b).unwrap_err().kind(),
        ErrorKind::InvalidMimeValue { .. }
    ));
    let b = patch(&bytes, "signed 32-bit integer", "signed 24-bit integer");
    assert!(matches!(
        CbfFile::from_bytes(&b).unwrap_err().kind(),
        ErrorKind::Unsupported { .. }
    ));
    let b = patch(&bytes, "x-CBF_BYTE_OFFSET", "x-CBF_CANONICAL");
    let file = CbfFile::from_bytes(&b).unwrap();
    let err = file.sections()[0].decode_i32().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unsupported {
                what: "compression",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("x-CBF_CANONICAL"));
    let b = patch(&bytes, "LITTLE_ENDIAN", "MIDDLE_ENDIAN");
    assert!(matches!(
        CbfFile::from_bytes(&b).unwrap_err().kind(),
        ErrorKind::InvalidMimeValue { .. }
    ));
    let b = patch(
        &bytes,
        "Transfer-Encoding: BINARY",
        "Transfer-Encoding: BASE64",
    );
    let err = CbfFile::from_bytes(&b).unwrap().sections()[0]
        .decode_i32()
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Unsupported {
            what: "transfer encoding",
            ..
        }
    ));
}

#[test]
fn md5_mismatch_is_reported() {
    let (bytes, _) = frame();
    let mut b = bytes.clone();
    let p = payload_start(&b) + 10;
    b[p] ^= 1;
    // Off by default: opens fine.
    CbfFile::from_bytes(&b).unwrap();
    let err = CbfFile::from_bytes_with(&b, &ReadOptions::new().verify_md5(true)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Md5Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("MD5"));
}

#[test]
fn errors_carry_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.cbf");
    std::fs::write(&path, b"not a cbf").unwrap();
    let err = CbfFile::open(&path, &ReadOptions::default()).unwrap_err();
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(err.to_string().contains("bad.cbf"));
    let err = CbfFile::open(dir.path().join("missing.cbf"), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io(_)));
    // Corrupt gzip.
    let gz = dir.path().join("bad.cbf.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    assert!(matches!(
        CbfFile::open(&gz, &ReadOptions::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Gzip
    ));
}

/// Proptest settings: `cases` cases, failures saved in `regressions/` beside this file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(300))]
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(file) = CbfFile::from_bytes(&data) {
            for s in file.sections() { let _ = s.decode(); }
        }
        let _ = CbfFile::is_complete(&data);
    }

    #[test]
    fn mutated_frames_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let (mut bytes, _) = frame();
        for (i, b) in flips { let i = i.index(bytes.len()); bytes[i] = b; }
        let cut = cut.index(bytes.len() + 1);
        let bytes = &bytes[..cut];
        if let Ok(file) = CbfFile::from_bytes_with(bytes, &ReadOptions::new().verify_md5(true)) {
            for s in file.sections() { let _ = s.decode(); let _ = s.decode_i32(); }
        }
        let _ = CbfFile::is_complete(bytes);
    }
}
