//! Layout variants seen in files from other writers, built synthetically so they are tested even
//! without the real-file folder: no byte-order line, closing line right after the data (XDS),
//! dimensions only in `_array_structure_list` (FIT2D/CBFlib), big-endian raw data, LF line ends,
//! lower-case keys with padded values, and several sections.

use cbf_format::writer::{ImgCifWriter, MiniCbfWriter, WriteCompression};
use cbf_format::{ByteOrder, CbfFile, Compression, ElementType, Header, ReadOptions};

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let p = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("pattern present");
    [&bytes[..p], to.as_bytes(), &bytes[p + from.len()..]].concat()
}

fn pixels() -> Vec<i32> {
    (0..35).map(|i| i * i - 40).collect()
}

#[test]
fn missing_byte_order_line_means_little_endian() {
    let b = MiniCbfWriter::new(&Header::default())
        .write(&[7, 5], &pixels())
        .unwrap();
    let b = replace(&b, "X-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\n", "");
    let f = CbfFile::from_bytes(&b).unwrap();
    assert_eq!(f.sections()[0].mime().byte_order, ByteOrder::LittleEndian);
    assert_eq!(f.sections()[0].decode_i32().unwrap(), pixels());
}

#[test]
fn closing_line_right_after_the_data() {
    let b = MiniCbfWriter::new(&Header::default())
        .write(&[7, 5], &pixels())
        .unwrap();
    let pad = format!("{}\r\n--CIF-BINARY-FORMAT-SECTION----", "\0".repeat(4095));
    let b = replace(&b, &pad, "--CIF-BINARY-FORMAT-SECTION----");
    let b = replace(&b, "X-Binary-Size-Padding: 4095\r\n", "");
    // XDS also pads the file with NULs after the CIF text.
    let b = [b, vec![0u8; 300]].concat();
    let f = CbfFile::from_bytes_with(&b, &ReadOptions::new().verify_md5(true)).unwrap();
    assert_eq!(f.sections()[0].decode_i32().unwrap(), pixels());
    assert!(CbfFile::is_complete(&b));
}

#[test]
fn dimensions_only_in_array_structure_list() {
    let mut w = ImgCifWriter::new("fit2d_like");
    w.add_array(&[7, 5], &pixels(), WriteCompression::None)
        .unwrap();
    let b = w.to_bytes();
    let b = replace(&b, "X-Binary-Number-of-Elements: 35\r\n", "");
    let b = replace(&b, "X-Binary-Size-Fastest-Dimension: 7\r\n", "");
    let b = replace(&b, "X-Binary-Size-Second-Dimension: 5\r\n", "");
    let f = CbfFile::from_bytes(&b).unwrap();
    let s = &f.sections()[0];
    assert_eq!(s.compression(), &Compression::None);
    assert_eq!(s.dims(), &[7, 5]);
    assert_eq!(s.decode_i32().unwrap(), pixels());
}

#[test]
fn big_endian_uncompressed_data() {
    let v: Vec<u16> = (0..12).map(|i| i * 5000 + 1).collect();
    let mut w = ImgCifWriter::new("be");
    w.add_array(&[4, 3], &v, WriteCompression::None).unwrap();
    let b = w.to_bytes();
    let f = CbfFile::from_bytes(&b).unwrap();
    let start = f.sections()[0].payload_offset();
    let mut b = b.clone();
    for k in 0..12 {
        b.swap(start + 2 * k, start + 2 * k + 1);
    }
    let b = replace(&b, "LITTLE_ENDIAN", "BIG_ENDIAN");
    let f = CbfFile::from_bytes(&b).unwrap();
    assert_eq!(f.sections()[0].element_type(), ElementType::U16);
    assert_eq!(
        f.sections()[0].decode_i64().unwrap(),
        v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>()
    );
}

#[test]
fn lf_line_ends_lower_case_keys_and_padded_values() {
    let b = MiniCbfWriter::new(&Header {
        wavelength: Some(0.5),
        ..Header::default()
    })
    .write(&[7, 5], &pixels())
    .unwrap();
    let f = CbfFile::from_bytes(&b).unwrap();
    let start = f.sections()[0].payload_offset() - 4;
    // Convert only the text before the marker to LF, and shout/pad the MIME keys.
    let text = String::from_utf8(b[..start].to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    let text = text
        .replace("X-Binary-Size:", "x-binary-size:   ")
        .replace("Content-Type:", "CONTENT-TYPE:");
    let b = [text.as_bytes(), &b[start..]].concat();
    let f = CbfFile::from_bytes(&b).unwrap();
    assert_eq!(f.header().wavelength, Some(0.5));
    assert_eq!(f.sections()[0].compression(), &Compression::ByteOffset);
    assert_eq!(f.sections()[0].decode_i32().unwrap(), pixels());
}

#[test]
fn several_sections_keep_their_order_and_types() {
    let a: Vec<i8> = (0..6).map(|i| i - 3).collect();
    let b: Vec<u32> = (0..8).map(|i| u32::MAX - i).collect();
    let c: Vec<i64> = (0..4).map(|i| i64::MIN + i).collect();
    let mut w = ImgCifWriter::new("multi");
    w.add_array(&[3, 2], &a, WriteCompression::ByteOffset)
        .unwrap();
    w.add_array(&[2, 2, 2], &b, WriteCompression::None).unwrap();
    w.add_array(&[4], &c, WriteCompression::ByteOffset).unwrap();
    let bytes = w.to_bytes();
    let f = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().verify_md5(true)).unwrap();
    let s = f.sections();
    assert_eq!(s.len(), 3);
    assert_eq!(
        (s[0].dims(), s[1].dims(), s[2].dims()),
        (&[3usize, 2][..], &[2usize, 2, 2][..], &[4usize][..])
    );
    assert_eq!(s[0].decode_i32().unwrap(), vec![-3, -2, -1, 0, 1, 2]);
    assert!(
        s[1].decode_i32().is_err(),
        "u32 values above i32::MAX do not fit i32"
    );
    assert_eq!(s[2].decode_i64().unwrap(), c);
    assert_eq!(
        s.iter().map(|s| s.mime().binary_id).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
}
