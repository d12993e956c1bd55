//! Parser fuzz target: no input may make `cbf-format` panic.
//!
//! Each input is used twice: as a whole file, and as a list of edits (`position`, `byte`
//! triples, the first two bytes choosing a truncation point) applied to valid template frames
//! (byte-offset, packed, packed V2, uncompressed, several sections), so the fuzzer reaches the
//! MIME, section and decoder code without needing a seed corpus. Limits are tight so a hostile
//! header cannot make the run allocate much.
#![no_main]

use std::sync::OnceLock;

use cbf_format::writer::{ImgCifWriter, MiniCbfWriter, PADDING, WriteCompression};
use cbf_format::{CbfFile, Header, ReadOptions};
use libfuzzer_sys::fuzz_target;

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    match bytes.windows(from.len()).position(|w| w == from.as_bytes()) {
        Some(p) => [&bytes[..p], to.as_bytes(), &bytes[p + from.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

/// The writers pad every section with 4095 NUL bytes, as detectors do: four fifths of a
/// template, where edits change nothing and every parse, MD5 check and section-end search of
/// every input spends most of its time. Keep 3 of them.
fn unpad(bytes: Vec<u8>) -> Vec<u8> {
    const KEEP: usize = 3;
    let end = b"\r\n--CIF-BINARY-FORMAT-SECTION----";
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    while let Some(p) = rest.windows(end.len()).position(|w| w == end) {
        // The payload may end with zero bytes too: the padding is the last PADDING.
        let pad = rest[..p]
            .iter()
            .rev()
            .take_while(|&&b| b == 0)
            .count()
            .min(PADDING);
        out.extend_from_slice(&rest[..p - pad.saturating_sub(KEEP)]);
        out.extend_from_slice(end);
        rest = &rest[p + end.len()..];
    }
    out.extend_from_slice(rest);
    replace_all(
        &out,
        "X-Binary-Size-Padding: 4095",
        "X-Binary-Size-Padding: 3",
    )
}

fn replace_all(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut out = bytes.to_vec();
    while out.windows(from.len()).any(|w| w == from.as_bytes()) {
        out = replace(&out, from, to);
    }
    out
}

fn templates() -> &'static [Vec<u8>] {
    static T: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    T.get_or_init(|| {
        let header = Header {
            wavelength: Some(1.0),
            beam_xy: Some([3.5, 2.0]),
            ..Header::default()
        };
        let pixels: Vec<i32> = (0..96)
            .map(|i| (i * 7919) % 300 - 5 + if i % 17 == 0 { 70_000 } else { 0 })
            .collect();
        let mini = unpad(
            MiniCbfWriter::new(&header)
                .write(&[12, 8], &pixels)
                .expect("valid dims"),
        );
        let packed = replace(&mini, "x-CBF_BYTE_OFFSET", "x-CBF_PACKED");
        let packed_v2 = replace(&mini, "x-CBF_BYTE_OFFSET", "x-CBF_PACKED_V2\"; \"flat");
        let small: Vec<u16> = (0..24).map(|i| i * 2731).collect();
        let signed: Vec<i16> = (0..24).map(|i| (i * 4099) as i16).collect();
        let mut w = ImgCifWriter::new("fuzz");
        w.header("PILATUS_1.2", &header);
        w.add_array(&[6, 4], &small, WriteCompression::None)
            .expect("valid dims");
        w.add_array(&[4, 3, 2], &signed, WriteCompression::ByteOffset)
            .expect("valid dims");
        let all = vec![mini, packed, packed_v2, unpad(w.to_bytes())];
        for t in &all {
            let file = CbfFile::from_bytes_with(t, &ReadOptions::new().verify_md5(true));
            assert!(
                file.is_ok() && CbfFile::is_complete(t),
                "template: {file:?}"
            );
        }
        all
    })
}

fn exercise(bytes: &[u8]) {
    let opts = ReadOptions::new()
        .verify_md5(true)
        .max_elements(1 << 16)
        .max_bytes(1 << 22);
    let _ = CbfFile::is_complete(bytes);
    let Ok(file) = CbfFile::from_bytes_with(bytes, &opts) else {
        return;
    };
    let _ = file.header().minicbf_lines();
    for s in file.sections() {
        assert_eq!(s.payload().len() as u64, s.mime().binary_size);
        assert_eq!(s.dims().iter().product::<usize>(), s.element_count());
        let _ = s.md5_status();
        if let Ok(p) = s.decode() {
            assert_eq!(p.len(), s.element_count());
        }
        let mut out = vec![0i32; s.element_count()];
        let _ = s.decode_into_i32(&mut out);
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if data.len() < 3 {
        return;
    }
    let t = &templates()[usize::from(data[0]) % templates().len()];
    let mut bytes = t.clone();
    for edit in data[3..].chunks_exact(3) {
        let pos = usize::from(u16::from_le_bytes([edit[0], edit[1]])) * 3 % bytes.len();
        bytes[pos] = edit[2];
    }
    let cut = usize::from(u16::from_le_bytes([data[1], data[2]]));
    if cut < bytes.len() && data[0] & 0x80 != 0 {
        bytes.truncate(cut * 7 % bytes.len());
    }
    exercise(&bytes);
});
