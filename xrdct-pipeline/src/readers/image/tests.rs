use super::*;
use proptest::prelude::*;

use ::tiff::encoder::{Compression, DeflateLevel, Predictor, TiffEncoder, colortype};

/// Small images written by fabio, tifffile and NumPy (`scripts/pyfai_reference.py`).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../azint/tests/fixtures/pyfai/masks")
        .join(name)
}

const SHAPE: (usize, usize) = (7, 5);

fn pattern() -> Vec<f64> {
    (0..SHAPE.0 * SHAPE.1)
        .map(|k| ((7 * k) % 4) as f64)
        .collect()
}

fn parse(bytes: &[u8], shape: Option<(usize, usize)>) -> Result<Image, MaskFileError> {
    parse_image(Path::new("mem.img"), bytes, detect_format(bytes), shape)
}

#[test]
fn reads_every_format_written_by_fabio_tifffile_numpy() {
    for (name, format) in [
        ("u8.edf", Format::Edf),
        ("f32.edf", Format::Edf),
        ("i32_be.edf", Format::Edf),
        ("u16_fabio.tif", Format::Tiff),
        ("u8.tif", Format::Tiff),
        ("i32_strips.tif", Format::Tiff),
        ("f32_be.tif", Format::Tiff),
        ("f64.npy", Format::Npy),
        ("i32.cbf", Format::Cbf),
        ("u16.raw", Format::Raw),
    ] {
        let image = read_image(&fixture(name), Some(SHAPE)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(image.format, format, "{name}");
        assert_eq!(image.shape, SHAPE, "{name}");
        assert_eq!(image.values, pattern(), "{name}");
        let mask = read_mask(&fixture(name), SHAPE).unwrap();
        let expected: Vec<bool> = pattern().iter().map(|&v| v != 0.0).collect();
        assert_eq!(mask, expected, "{name}");
        // The same bytes through the bytes-level entry point.
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(detect_format(&bytes), format, "{name}");
        assert_eq!(parse(&bytes, Some(SHAPE)).unwrap(), image, "{name}");
    }
    let bools = read_image(&fixture("bool.npy"), None).unwrap();
    let expected: Vec<f64> = pattern().iter().map(|&v| f64::from(v != 0.0)).collect();
    assert_eq!(bools.values, expected);
}

#[test]
fn rejects_wrong_shape() {
    let err = read_mask(&fixture("u8.edf"), (1679, 1475)).unwrap_err();
    assert!(matches!(err, MaskFileError::Shape { .. }), "{err}");
    assert!(err.to_string().contains("(7, 5)") && err.to_string().contains("u8.edf"));
    let err = read_mask(&fixture("u16.raw"), (6, 5)).unwrap_err();
    assert!(matches!(err, MaskFileError::RawSize { .. }), "{err}");
    let err = read_image(&fixture("u16.raw"), None).unwrap_err();
    assert!(matches!(err, MaskFileError::Unsupported { .. }), "{err}");
    let err = read_mask(Path::new("no/such/mask.edf"), SHAPE).unwrap_err();
    assert!(matches!(err, MaskFileError::Io { .. }), "{err}");
}

#[test]
fn cbf_from_cbf_format_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mask.cbf");
    let (rows, cols) = (1679, 1475);
    let values: Vec<i32> = (0..rows * cols).map(|k| i32::from(k % 97 == 0)).collect();
    let bytes = cbf_format::writer::MiniCbfWriter::new(&cbf_format::Header::default())
        .write(&[cols, rows], &values)
        .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let mask = read_mask(&path, (rows, cols)).unwrap();
    assert!(mask.iter().zip(&values).all(|(&m, &v)| m == (v != 0)));
    // A CBF error names the file.
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = read_mask(&path, (rows, cols)).unwrap_err();
    assert!(err.to_string().contains("mask.cbf"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// TIFF written by the tiff crate's encoder

/// A Pilatus-like mask pattern: gaps between modules, a few hot pixels.
fn mask_pattern(rows: usize, cols: usize) -> Vec<u8> {
    (0..rows * cols)
        .map(|k| {
            let (r, c) = (k / cols, k % cols);
            u8::from(r % 20 == 19 || c % 13 == 12 || k % 97 == 5)
        })
        .collect()
}

fn encode<C: colortype::ColorType>(
    compression: Compression,
    predictor: Predictor,
    rows_per_strip: u32,
    (rows, cols): (usize, usize),
    data: &[C::Inner],
) -> Vec<u8>
where
    [C::Inner]: ::tiff::encoder::TiffValue,
{
    let mut out = std::io::Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut out)
        .unwrap()
        .with_compression(compression)
        .with_predictor(predictor);
    let mut image = encoder.new_image::<C>(cols as u32, rows as u32).unwrap();
    image.rows_per_strip(rows_per_strip).unwrap();
    image.write_data(data).unwrap();
    out.into_inner()
}

const COMPRESSIONS: [(&str, Compression); 4] = [
    ("none", Compression::Uncompressed),
    ("lzw", Compression::Lzw),
    ("deflate", Compression::Deflate(DeflateLevel::Balanced)),
    ("packbits", Compression::Packbits),
];

#[test]
fn tiff_masks_uncompressed_lzw_deflate_packbits() {
    let dir = tempfile::tempdir().unwrap();
    let shape = (97, 61);
    let mask = mask_pattern(shape.0, shape.1);
    let expected: Vec<bool> = mask.iter().map(|&m| m != 0).collect();
    for (name, compression) in COMPRESSIONS {
        for (predictor, rows_per_strip) in [(Predictor::None, 97), (Predictor::Horizontal, 8)] {
            let bytes =
                encode::<colortype::Gray8>(compression, predictor, rows_per_strip, shape, &mask);
            let path = dir.path().join(format!("mask_{name}_{rows_per_strip}.tif"));
            std::fs::write(&path, &bytes).unwrap();
            let read = read_mask(&path, shape).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(read, expected, "{name}, {rows_per_strip} rows per strip");
        }
    }
    // Compression does shrink the mask (the LZW and Deflate paths are really taken).
    let plain =
        encode::<colortype::Gray8>(Compression::Uncompressed, Predictor::None, 97, shape, &mask);
    let lzw = encode::<colortype::Gray8>(Compression::Lzw, Predictor::None, 97, shape, &mask);
    let deflate = encode::<colortype::Gray8>(
        Compression::Deflate(DeflateLevel::Best),
        Predictor::None,
        97,
        shape,
        &mask,
    );
    assert!(lzw.len() < plain.len() / 2 && deflate.len() < plain.len() / 4);
}

#[test]
fn tiff_every_sample_type_and_compression() {
    let shape = (13, 11);
    let n = shape.0 * shape.1;
    let ints: Vec<i64> = (0..n as i64).map(|k| (k * 37) % 201 - 100).collect();
    let expected_signed: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
    let expected_unsigned: Vec<f64> = ints.iter().map(|&v| (v + 100) as f64).collect();
    let floats: Vec<f64> = ints.iter().map(|&v| v as f64 * 0.25).collect();
    for (name, compression) in COMPRESSIONS {
        for predictor in [Predictor::None, Predictor::Horizontal] {
            let check = |bytes: Vec<u8>, expected: &[f64], what: &str| {
                let image = parse(&bytes, Some(shape))
                    .unwrap_or_else(|e| panic!("{what} {name} {predictor:?}: {e}"));
                assert_eq!(image.format, Format::Tiff);
                assert_eq!(image.values, expected, "{what} {name} {predictor:?}");
            };
            let e = |bytes, expected: &[f64], what| check(bytes, expected, what);
            let data_u8: Vec<u8> = ints.iter().map(|&v| (v + 100) as u8).collect();
            e(
                encode::<colortype::Gray8>(compression, predictor, 4, shape, &data_u8),
                &expected_unsigned,
                "u8",
            );
            let data: Vec<u16> = ints.iter().map(|&v| (v + 100) as u16).collect();
            e(
                encode::<colortype::Gray16>(compression, predictor, 4, shape, &data),
                &expected_unsigned,
                "u16",
            );
            let data: Vec<u32> = ints.iter().map(|&v| (v + 100) as u32).collect();
            e(
                encode::<colortype::Gray32>(compression, predictor, 4, shape, &data),
                &expected_unsigned,
                "u32",
            );
            let data: Vec<u64> = ints.iter().map(|&v| (v + 100) as u64).collect();
            e(
                encode::<colortype::Gray64>(compression, predictor, 4, shape, &data),
                &expected_unsigned,
                "u64",
            );
            let data: Vec<i8> = ints.iter().map(|&v| v as i8).collect();
            e(
                encode::<colortype::GrayI8>(compression, predictor, 4, shape, &data),
                &expected_signed,
                "i8",
            );
            let data: Vec<i16> = ints.iter().map(|&v| v as i16).collect();
            e(
                encode::<colortype::GrayI16>(compression, predictor, 4, shape, &data),
                &expected_signed,
                "i16",
            );
            let data: Vec<i32> = ints.iter().map(|&v| v as i32).collect();
            e(
                encode::<colortype::GrayI32>(compression, predictor, 4, shape, &data),
                &expected_signed,
                "i32",
            );
            let data: Vec<i64> = ints.clone();
            e(
                encode::<colortype::GrayI64>(compression, predictor, 4, shape, &data),
                &expected_signed,
                "i64",
            );
            if predictor == Predictor::None {
                let data: Vec<f32> = floats.iter().map(|&v| v as f32).collect();
                e(
                    encode::<colortype::Gray32Float>(compression, predictor, 4, shape, &data),
                    &floats,
                    "f32",
                );
                e(
                    encode::<colortype::Gray64Float>(compression, predictor, 4, shape, &floats),
                    &floats,
                    "f64",
                );
            }
        }
    }
}

/// A little-endian TIFF written by hand, for what the encoder does not write (tiles, 1-bit
/// pixels, WhiteIsZero): `entries` are (tag, type, values) with types 3 (SHORT) or 4 (LONG),
/// `data` is appended after the IFD and `{data}` in a LONG value is replaced by its offset
/// plus the value.
fn hand_tiff(entries: &[(u16, u16, Vec<u32>)], data: &[u8]) -> Vec<u8> {
    const DATA: u32 = 1 << 31;
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    let ifd_len = 2 + 12 * entries.len() + 4;
    let mut extra: Vec<u8> = Vec::new();
    let extra_start = 8 + ifd_len;
    // Values that do not fit in 4 bytes go after the IFD, then the data.
    let sizes: usize = entries
        .iter()
        .map(|(_, t, v)| {
            let s = if *t == 3 { 2 } else { 4 } * v.len();
            if s > 4 { s } else { 0 }
        })
        .sum();
    let data_start = (extra_start + sizes) as u32;
    let fix = |v: u32| {
        if v & DATA != 0 {
            data_start + (v & !DATA)
        } else {
            v
        }
    };
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, values) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        let mut bytes = Vec::new();
        for &v in values {
            if *typ == 3 {
                bytes.extend_from_slice(&(v as u16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&fix(v).to_le_bytes());
            }
        }
        if bytes.len() <= 4 {
            bytes.resize(4, 0);
            out.extend_from_slice(&bytes);
        } else {
            out.extend_from_slice(&((extra_start + extra.len()) as u32).to_le_bytes());
            extra.extend_from_slice(&bytes);
        }
    }
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&extra);
    assert_eq!(out.len(), data_start as usize);
    out.extend_from_slice(data);
    out
}

const AT_DATA: u32 = 1 << 31;

#[test]
fn tiff_tiles_one_bit_and_white_is_zero() {
    // A 20 × 18 image of 8-bit pixels in four 16 × 16 tiles (the edge tiles are padded).
    let (rows, cols) = (20, 18);
    let expected: Vec<f64> = (0..rows * cols).map(|k| (k % 7) as f64).collect();
    let mut data = Vec::new();
    for (tr, tc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        for r in 0..16 {
            for c in 0..16 {
                let (row, col) = (tr * 16 + r, tc * 16 + c);
                data.push(if row < rows && col < cols {
                    ((row * cols + col) % 7) as u8
                } else {
                    0
                });
            }
        }
    }
    let tiled = hand_tiff(
        &[
            (256, 4, vec![cols as u32]),
            (257, 4, vec![rows as u32]),
            (258, 3, vec![8]),
            (259, 3, vec![1]),
            (262, 3, vec![1]),
            (277, 3, vec![1]),
            (322, 4, vec![16]),
            (323, 4, vec![16]),
            (324, 4, (0..4).map(|k| AT_DATA + 256 * k).collect()),
            (325, 4, vec![256; 4]),
        ],
        &data,
    );
    let image = parse(&tiled, Some((rows, cols))).unwrap();
    assert_eq!(image.values, expected);

    // 1-bit pixels, most significant bit first, each row padded to a byte; then the same
    // bits as WhiteIsZero (stored values are read, not inverted).
    let (rows, cols) = (3, 10);
    let bits: Vec<u8> = (0..rows * cols).map(|k| u8::from(k % 3 == 0)).collect();
    let mut packed = Vec::new();
    for row in bits.chunks(cols) {
        let mut bytes = vec![0u8; cols.div_ceil(8)];
        for (c, &b) in row.iter().enumerate() {
            bytes[c / 8] |= b << (7 - c % 8);
        }
        packed.extend_from_slice(&bytes);
    }
    for photometric in [1, 0] {
        let bilevel = hand_tiff(
            &[
                (256, 4, vec![cols as u32]),
                (257, 4, vec![rows as u32]),
                (258, 3, vec![1]),
                (259, 3, vec![1]),
                (262, 3, vec![photometric]),
                (273, 4, vec![AT_DATA]),
                (277, 3, vec![1]),
                (278, 4, vec![rows as u32]),
                (279, 4, vec![packed.len() as u32]),
            ],
            &packed,
        );
        let mask = parse(&bilevel, Some((rows, cols))).unwrap();
        let expected: Vec<f64> = bits.iter().map(|&b| f64::from(b)).collect();
        assert_eq!(mask.values, expected, "photometric {photometric}");
    }
    // 16-bit WhiteIsZero: stored values.
    let values: Vec<u16> = (0..12).map(|k| k * 1000).collect();
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let white_is_zero = hand_tiff(
        &[
            (256, 4, vec![4]),
            (257, 4, vec![3]),
            (258, 3, vec![16]),
            (259, 3, vec![1]),
            (262, 3, vec![0]),
            (273, 4, vec![AT_DATA]),
            (277, 3, vec![1]),
            (278, 4, vec![3]),
            (279, 4, vec![24]),
        ],
        &data,
    );
    let image = parse(&white_is_zero, Some((3, 4))).unwrap();
    assert_eq!(
        image.values,
        values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()
    );
}

#[test]
fn tiff_sizes_beyond_the_file_are_refused_before_decoding() {
    // 16000 × 16000 pixels of 8 bits (256 MB) declared by a 300-byte LZW file, then by an
    // uncompressed one: refused before any buffer is allocated.
    for (width, compression) in [(16000, 5), (16000, 1)] {
        let bytes = hand_tiff(
            &[
                (256, 4, vec![width]),
                (257, 4, vec![width]),
                (258, 3, vec![8]),
                (259, 3, vec![compression]),
                (262, 3, vec![1]),
                (273, 4, vec![AT_DATA]),
                (277, 3, vec![1]),
                (278, 4, vec![width]),
                (279, 4, vec![100]),
            ],
            &[0x80; 100],
        );
        let err = parse(&bytes, None).unwrap_err();
        assert!(matches!(err, MaskFileError::Format { .. }), "{err}");
        assert!(
            err.to_string().contains("mem.img") && err.to_string().contains("can hold"),
            "{err}"
        );
    }
    // RGB and unknown compression are unsupported, with a message that says so.
    let mut rgb = encode::<colortype::RGB8>(Compression::Lzw, Predictor::None, 2, (2, 2), &[7; 12]);
    let err = parse(&rgb, None).unwrap_err();
    assert!(matches!(err, MaskFileError::Unsupported { .. }), "{err}");
    rgb.truncate(20);
    assert!(parse(&rgb, None).is_err());
    let jpeg = hand_tiff(
        &[
            (256, 4, vec![2]),
            (257, 4, vec![2]),
            (258, 3, vec![8]),
            (259, 3, vec![7]),
            (262, 3, vec![1]),
            (273, 4, vec![AT_DATA]),
            (279, 4, vec![4]),
        ],
        &[0; 4],
    );
    let err = parse(&jpeg, None).unwrap_err();
    assert!(err.to_string().contains("compression 7"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// npy

/// An `.npy` file as NumPy writes it (header padded with spaces to a multiple of 64 bytes).
fn npy(version: u8, descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let fortran = if fortran { "True" } else { "False" };
    let header = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    npy_with_header(version, header, data)
}

fn npy_with_header(version: u8, mut header: String, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn npy_dtypes_byte_orders_and_fortran_order() {
    let (rows, cols) = (3, 4);
    // Values in row-major order and their bytes in C or Fortran order.
    let values: Vec<i64> = (0..12).map(|k| (k * 5) % 11 - 3).collect();
    let order = |fortran: bool| -> Vec<i64> {
        if fortran {
            (0..12)
                .map(|k| values[(k % rows) * cols + k / rows])
                .collect()
        } else {
            values.clone()
        }
    };
    macro_rules! case {
        ($descr:expr, $t:ty, $to_bytes:ident, $map:expr) => {
            for fortran in [false, true] {
                for version in [1, 2, 3] {
                    let data: Vec<u8> = order(fortran)
                        .iter()
                        .flat_map(|&v| ($map(v) as $t).$to_bytes())
                        .collect();
                    let bytes = npy(version, $descr, fortran, "(3, 4)", &data);
                    let image = parse(&bytes, Some((rows, cols)))
                        .unwrap_or_else(|e| panic!("{} {fortran}: {e}", $descr));
                    let expected: Vec<f64> = values.iter().map(|&v| $map(v) as $t as f64).collect();
                    assert_eq!(image.format, Format::Npy);
                    assert_eq!(
                        image.values, expected,
                        "{} fortran {fortran} v{version}",
                        $descr
                    );
                }
            }
        };
    }
    let id = |v: i64| v;
    let pos = |v: i64| v + 3;
    let quarter = |v: i64| v as f64 * 0.25;
    case!("|u1", u8, to_le_bytes, pos);
    case!("|i1", i8, to_le_bytes, id);
    case!("<i2", i16, to_le_bytes, id);
    case!(">i2", i16, to_be_bytes, id);
    case!("<u2", u16, to_le_bytes, pos);
    case!(">u4", u32, to_be_bytes, pos);
    case!("<i4", i32, to_le_bytes, id);
    case!(">i8", i64, to_be_bytes, id);
    case!("<u8", u64, to_le_bytes, pos);
    case!("<f4", f32, to_le_bytes, quarter);
    case!(">f4", f32, to_be_bytes, quarter);
    case!("<f8", f64, to_le_bytes, quarter);
    case!(">f8", f64, to_be_bytes, quarter);

    // bool, one-dimensional (one row).
    let bits: Vec<u8> = (0..12).map(|k| u8::from(k % 5 == 1)).collect();
    let image = parse(&npy(1, "|b1", false, "(12,)", &bits), Some((1, 12))).unwrap();
    assert_eq!(
        image.values,
        bits.iter().map(|&b| f64::from(b)).collect::<Vec<_>>()
    );
    // A read mask.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mask.npy");
    let fortran_bits: Vec<u8> = (0..12).map(|k| bits[(k % 3) * 4 + k / 3]).collect();
    std::fs::write(&path, npy(1, "|b1", true, "(3, 4)", &fortran_bits)).unwrap();
    let mask = read_mask(&path, (3, 4)).unwrap();
    assert_eq!(mask, bits.iter().map(|&b| b != 0).collect::<Vec<_>>());
}

#[test]
fn npy_hostile_headers_are_errors() {
    let data = [0u8; 96];
    for (bytes, what) in [
        (npy(1, "<c16", false, "(3, 4)", &data[..]), "complex dtype"),
        (npy(1, "<U3", false, "(3, 4)", &data[..]), "string dtype"),
        (npy(1, "<f2", false, "(3, 4)", &data[..]), "half dtype"),
        (
            npy(1, "<f8", false, "(2, 3, 4)", &data[..]),
            "three dimensions",
        ),
        (npy(1, "<f8", false, "()", &data[..]), "no dimension"),
        (npy(1, "<f8", false, "(0, 4)", &data[..]), "empty"),
        (npy(1, "<f8", false, "(-3, 4)", &data[..]), "negative"),
        (npy(1, "<f8", false, "(3.5, 4)", &data[..]), "float size"),
        // npyz multiplies these unchecked.
        (
            npy(1, "<f8", false, "(4294967296, 4294967296)", &data[..]),
            "overflow",
        ),
        (
            npy(1, "<f8", false, "(99999999999999999999999, 1)", &data[..]),
            "beyond u64",
        ),
        (
            npy(1, "<f8", false, "(16384, 16385)", &data[..]),
            "too many pixels",
        ),
        (npy(1, "<f8", false, "(3, 5)", &data[..]), "truncated data"),
        (npy(4, "<f8", false, "(3, 4)", &data[..]), "version 4"),
    ] {
        let err = parse(&bytes, None).expect_err(what);
        assert!(err.to_string().contains("mem.img"), "{what}: {err}");
    }
    // A record dtype, a header that is no dict, a header length beyond the file, a header
    // nested deeper than the parser goes.
    let record = npy_with_header(
        1,
        "{'descr': [('a', '<f8', (4294967296, 4294967296))], 'fortran_order': False, 'shape': (1,), }".into(),
        &data[..],
    );
    let list = npy_with_header(1, "['<f8', False, (3, 4)]".into(), &data[..]);
    let mut huge_len = npy(2, "<f8", false, "(3, 4)", &data[..]);
    huge_len[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let nested = format!("{}{}", "(".repeat(4000), ")".repeat(4000));
    // Found by the image_npy fuzz target: 21 unclosed lists in a 118-byte header took the
    // Python-literal parser 9 minutes; 14 dicts take 17 s.
    let lists = npy_with_header(
        1,
        format!(
            "{{'descr': {}'|u1', 'fortran_order': False, 'shape': (3, 4), }}",
            "[".repeat(21)
        ),
        &data[..],
    );
    let dicts = npy_with_header(
        1,
        format!("{{'descr': {}'|u1', 'shape': (3, 4), }}", "{".repeat(14)),
        &data[..],
    );
    let huge_header = npy_with_header(
        2,
        format!(
            "{{'descr': '<f8', 'shape': (3, 4), {} }}",
            "'k': 1, ".repeat(2000)
        ),
        &data[..],
    );
    // Found by the image_npy fuzz target: a key given twice (the shape check and npyz read
    // different shapes).
    let repeated = npy_with_header(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), 'descr': '<f4', \
         'fortran_order': False, 'shape': (24,), }"
            .into(),
        &data[..],
    );
    for (bytes, what) in [
        (repeated, "repeated keys"),
        (record, "record"),
        (list, "list"),
        (huge_len, "header length"),
        (npy(2, "<f8", false, &nested, &data[..]), "nesting"),
        (lists, "nested lists"),
        (dicts, "nested dicts"),
        (huge_header, "header over 10 000 bytes"),
        (b"\x93NUMPY\x01".to_vec(), "cut in the pre-header"),
    ] {
        let err = parse(&bytes, None).expect_err(what);
        assert!(err.to_string().contains("mem.img"), "{what}: {err}");
    }
    // The truncation error gives the offset of the data.
    let bytes = npy(1, "<f8", false, "(3, 5)", &data[..]);
    let err = parse(&bytes, None).unwrap_err();
    assert!(err.to_string().contains("byte 128"), "{err}");
}

#[test]
fn bytes_entry_point_forces_the_format() {
    let edf = std::fs::read(fixture("u8.edf")).unwrap();
    let tiff = std::fs::read(fixture("u8.tif")).unwrap();
    let name = Path::new("forced.bin");
    for (bytes, format) in [
        (&edf, Format::Tiff),
        (&edf, Format::Npy),
        (&edf, Format::Cbf),
        (&tiff, Format::Edf),
        (&tiff, Format::Npy),
    ] {
        let err = parse_image(name, bytes, format, Some(SHAPE)).unwrap_err();
        assert!(err.to_string().contains("forced.bin"), "{format:?}: {err}");
    }
    // Any 35 bytes are a raw 7 × 5 image of 8-bit pixels.
    let raw = parse_image(name, &edf[..35], Format::Raw, Some(SHAPE)).unwrap();
    assert_eq!(raw.values.len(), 35);
}

// ---------------------------------------------------------------------------------------------
// Hostile files

/// Small files of every format: fixtures and encoder output (compressed TIFFs, npy in Fortran
/// order).
fn samples() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = [
        "u8.edf",
        "i32_be.edf",
        "u16_fabio.tif",
        "i32_strips.tif",
        "f32_be.tif",
        "f64.npy",
        "i32.cbf",
    ]
    .iter()
    .map(|name| (name.to_string(), std::fs::read(fixture(name)).unwrap()))
    .collect();
    let mask = mask_pattern(SHAPE.0, SHAPE.1);
    for (name, compression) in &COMPRESSIONS[1..] {
        out.push((
            format!("{name}.tif"),
            encode::<colortype::Gray8>(*compression, Predictor::Horizontal, 3, SHAPE, &mask),
        ));
    }
    let data: Vec<u8> = (0..35i32).flat_map(|k| k.to_be_bytes()).collect();
    out.push(("fortran.npy".into(), npy(1, ">i4", true, "(7, 5)", &data)));
    out
}

#[test]
fn truncated_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in samples() {
        // A CBF's last bytes are its MIME trailer, which the reader does not need.
        let last = if name.ends_with(".cbf") {
            bytes.len() / 2
        } else {
            bytes.len() - 1
        };
        for cut in [last, bytes.len() / 2, 12, 3] {
            let path = dir.path().join(format!("cut_{cut}_{name}"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let Err(err) = read_mask(&path, SHAPE) else {
                panic!("{name} cut at {cut} was read");
            };
            assert!(
                err.to_string().contains("cut_"),
                "{name} cut at {cut}: {err}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Corrupted files (random bytes written over a valid one, which may then be cut) never
    /// panic, read as their own format or as any other.
    #[test]
    fn corrupted_files_never_panic(
        which in 0usize..12,
        edits in proptest::collection::vec((0usize..700, any::<u8>()), 1..12),
        cut in 0usize..1000,
        format in 0usize..5,
    ) {
        let samples = samples();
        let (_, mut bytes) = samples[which % samples.len()].clone();
        for (at, value) in edits {
            let n = bytes.len();
            bytes[at % n] = value;
        }
        if cut < bytes.len() && cut % 2 == 0 {
            bytes.truncate(cut);
        }
        let name = Path::new("corrupt.img");
        let _ = parse_image(name, &bytes, detect_format(&bytes), Some(SHAPE));
        let _ = parse_image(name, &bytes, detect_format(&bytes), None);
        let format = [Format::Cbf, Format::Edf, Format::Tiff, Format::Npy, Format::Raw][format];
        if let Err(err) = parse_image(name, &bytes, format, Some(SHAPE)) {
            prop_assert!(err.to_string().contains("corrupt.img"), "{}", err);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz seeds

/// An EDF file as fabio writes it: the header padded with spaces to 512 bytes.
fn edf(keys: &[(&str, &str)], data: &[u8]) -> Vec<u8> {
    let mut header = String::from("{\n");
    for (k, v) in keys {
        header.push_str(&format!("{k} = {v} ;\n"));
    }
    while header.len() < 510 {
        header.push(' ');
    }
    header.push_str("}\n");
    let mut out = header.into_bytes();
    out.extend_from_slice(data);
    out
}

/// Writes the seeds of the image fuzz targets (`fuzz/seeds/image_{edf,tiff,npy,raw}/`,
/// small files, each checked to parse):
///
/// ```sh
/// cargo test -p xrdct-pipeline --lib readers::image::tests::write_fuzz_seeds -- --ignored
/// ```
#[test]
#[ignore = "writes fuzz/seeds/image_*"]
fn write_fuzz_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let fixture_bytes = |name: &str| std::fs::read(fixture(name)).unwrap();
    let shape = (3, 4);
    let mask = mask_pattern(shape.0, shape.1);
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();

    // EDF: fabio's fixtures (7 × 5), and 3 × 4 images of other types and byte orders.
    for name in ["u8.edf", "f32.edf", "i32_be.edf"] {
        seeds.push(("image_edf", format!("fabio_{name}"), fixture_bytes(name)));
    }
    let u16s: Vec<u8> = (0..12u16).flat_map(|v| (v * 300).to_be_bytes()).collect();
    let f64s: Vec<u8> = (0..12)
        .flat_map(|v| (f64::from(v) * 0.5).to_le_bytes())
        .collect();
    for (file, keys, data) in [
        (
            "u16_be_3x4.edf",
            vec![
                ("ByteOrder", "HighByteFirst"),
                ("DataType", "UnsignedShort"),
                ("Dim_1", "4"),
                ("Dim_2", "3"),
                ("Size", "24"),
            ],
            u16s,
        ),
        (
            "f64_3x4.edf",
            vec![
                ("HeaderID", "EH:000001:000000:000000"),
                ("Image", "1"),
                ("ByteOrder", "LowByteFirst"),
                ("DataType", "DoubleValue"),
                ("Dim_1", "4"),
                ("Dim_2", "3"),
                ("Compression", "None"),
            ],
            f64s,
        ),
        (
            "i8_row.edf",
            vec![
                ("DataType", "SignedByte"),
                ("Dim_1", "12"),
                ("EDF_DataBlockID", "0.Image.Psd"),
            ],
            (0..12).map(|v| v * 21).collect(),
        ),
    ] {
        seeds.push(("image_edf", file.into(), edf(&keys, &data)));
    }

    // TIFF: tifffile's and fabio's fixtures, the encoder's 3 × 4 masks in every compression
    // (with the horizontal predictor), other sample types, tiles and 1-bit pixels.
    for name in ["u8.tif", "u16_fabio.tif", "i32_strips.tif", "f32_be.tif"] {
        seeds.push((
            "image_tiff",
            format!("tifffile_{name}"),
            fixture_bytes(name),
        ));
    }
    for (name, compression) in COMPRESSIONS {
        for predictor in [Predictor::None, Predictor::Horizontal] {
            let p = if predictor == Predictor::None {
                ""
            } else {
                "_predictor"
            };
            seeds.push((
                "image_tiff",
                format!("mask_u8_{name}{p}.tif"),
                encode::<colortype::Gray8>(compression, predictor, 2, shape, &mask),
            ));
        }
    }
    let ints: Vec<i32> = (0..12).map(|k| k * 1000 - 5000).collect();
    let u16s: Vec<u16> = ints.iter().map(|&v| (v + 5000) as u16).collect();
    let i16s: Vec<i16> = ints.iter().map(|&v| v as i16).collect();
    let f32s: Vec<f32> = ints.iter().map(|&v| v as f32 * 0.5).collect();
    let f64s: Vec<f64> = ints.iter().map(|&v| f64::from(v) * 0.25).collect();
    let (lzw, deflate, packbits) = (COMPRESSIONS[1].1, COMPRESSIONS[2].1, COMPRESSIONS[3].1);
    let none = Predictor::None;
    seeds.push((
        "image_tiff",
        "u16_lzw.tif".into(),
        encode::<colortype::Gray16>(lzw, Predictor::Horizontal, 3, shape, &u16s),
    ));
    seeds.push((
        "image_tiff",
        "i16_packbits.tif".into(),
        encode::<colortype::GrayI16>(packbits, none, 1, shape, &i16s),
    ));
    seeds.push((
        "image_tiff",
        "i32_deflate.tif".into(),
        encode::<colortype::GrayI32>(deflate, none, 3, shape, &ints),
    ));
    seeds.push((
        "image_tiff",
        "f32_deflate.tif".into(),
        encode::<colortype::Gray32Float>(deflate, none, 3, shape, &f32s),
    ));
    seeds.push((
        "image_tiff",
        "f64_lzw.tif".into(),
        encode::<colortype::Gray64Float>(lzw, none, 2, shape, &f64s),
    ));
    let tiles: Vec<u8> = (0..4 * 16 * 16).map(|k| (k % 3) as u8).collect();
    seeds.push((
        "image_tiff",
        "tiled_u8_20x18.tif".into(),
        hand_tiff(
            &[
                (256, 4, vec![18]),
                (257, 4, vec![20]),
                (258, 3, vec![8]),
                (259, 3, vec![1]),
                (262, 3, vec![1]),
                (277, 3, vec![1]),
                (322, 4, vec![16]),
                (323, 4, vec![16]),
                (324, 4, (0..4).map(|k| AT_DATA + 256 * k).collect()),
                (325, 4, vec![256; 4]),
            ],
            &tiles,
        ),
    ));
    seeds.push((
        "image_tiff",
        "bilevel_white_is_zero_3x10.tif".into(),
        hand_tiff(
            &[
                (256, 4, vec![10]),
                (257, 4, vec![3]),
                (258, 3, vec![1]),
                (259, 3, vec![1]),
                (262, 3, vec![0]),
                (273, 4, vec![AT_DATA]),
                (277, 3, vec![1]),
                (278, 4, vec![3]),
                (279, 4, vec![6]),
            ],
            &[
                0b1001_0010,
                0b0100_0000,
                0b0010_0100,
                0b1000_0000,
                0b0100_1001,
                0,
            ],
        ),
    ));

    // npy: NumPy's fixtures, then 3 × 4 arrays of each family, byte order, order and version.
    for name in ["f64.npy", "bool.npy"] {
        seeds.push(("image_npy", format!("numpy_{name}"), fixture_bytes(name)));
    }
    let bytes = |f: &dyn Fn(i64) -> Vec<u8>| -> Vec<u8> { (0..12).flat_map(f).collect() };
    seeds.push((
        "image_npy",
        "u1_v1.npy".into(),
        npy(1, "|u1", false, "(3, 4)", &bytes(&|k| vec![(k % 2) as u8])),
    ));
    seeds.push((
        "image_npy",
        "i4_be_fortran.npy".into(),
        npy(
            1,
            ">i4",
            true,
            "(3, 4)",
            &bytes(&|k| (k as i32 - 6).to_be_bytes().to_vec()),
        ),
    ));
    seeds.push((
        "image_npy",
        "u2_v2.npy".into(),
        npy(
            2,
            "<u2",
            false,
            "(3, 4)",
            &bytes(&|k| (k as u16 * 999).to_le_bytes().to_vec()),
        ),
    ));
    seeds.push((
        "image_npy",
        "i8_v3_fortran.npy".into(),
        npy(
            3,
            "<i8",
            true,
            "(3, 4)",
            &bytes(&|k| (k - 6).to_le_bytes().to_vec()),
        ),
    ));
    seeds.push((
        "image_npy",
        "f4_row.npy".into(),
        npy(
            1,
            "<f4",
            false,
            "(12,)",
            &bytes(&|k| (k as f32 * 0.5).to_le_bytes().to_vec()),
        ),
    ));
    seeds.push((
        "image_npy",
        "f8_be.npy".into(),
        npy(
            1,
            ">f8",
            false,
            "(3, 4)",
            &bytes(&|k| (k as f64 * 0.25).to_be_bytes().to_vec()),
        ),
    ));

    // raw: rows - 1 and columns - 1 in the first two bytes, then pixels of 1, 2, 4 or 8 bytes.
    for (name, size) in [("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8)] {
        let mut raw = vec![2, 3];
        for k in 0..12u64 {
            raw.extend_from_slice(&(k % 2).to_le_bytes()[..size]);
        }
        seeds.push(("image_raw", format!("{name}_3x4.raw"), raw));
    }
    let u16_raw = fixture_bytes("u16.raw");
    seeds.push((
        "image_raw",
        "u16_7x5.raw".into(),
        [vec![6, 4], u16_raw].concat(),
    ));

    for (target, file, bytes) in seeds {
        // Each seed is read by its target (raw ones after their 2-byte shape).
        let name = Path::new(&file);
        let result = match target {
            "image_edf" => parse_image(name, &bytes, Format::Edf, None),
            "image_tiff" => parse_image(name, &bytes, Format::Tiff, None),
            "image_npy" => parse_image(name, &bytes, Format::Npy, None),
            _ => {
                let shape = (usize::from(bytes[0]) + 1, usize::from(bytes[1]) + 1);
                parse_image(name, &bytes[2..], Format::Raw, Some(shape))
            }
        };
        result.unwrap_or_else(|e| panic!("seed {target}/{file}: {e}"));
        assert!(bytes.len() <= 4096, "{file}: {} bytes", bytes.len());
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&file), &bytes).unwrap();
    }
}
