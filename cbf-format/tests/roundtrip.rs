//! `write → read` is the identity for random images of every integer element type, through
//! both writers and both compressions.

use cbf_format::writer::{ImgCifWriter, MiniCbfWriter, WriteCompression, WriteElement};
use cbf_format::{CbfFile, Header, Md5Status, Pixels, ReadOptions};
use proptest::prelude::*;

fn header() -> Header {
    Header {
        detector: Some("PILATUS3 2M, S/N 24-0000 test".into()),
        timestamp: Some("2026-11-26T10:00:00.000".into()),
        pixel_size: Some([172e-6, 172e-6]),
        exposure_time: Some(0.0095),
        wavelength: Some(0.7293),
        detector_distance: Some(0.2345),
        beam_xy: Some([730.5, 865.25]),
        flux: Some(1.25e12),
        start_angle: Some(-12.5),
        angle_increment: Some(0.1),
        count_cutoff: Some(1048575),
        unknown_lines: vec![
            "# Gain_setting: autog (vrf = 1.000)".into(),
            "# Comment: written by a test".into(),
        ],
        ..Header::default()
    }
}

fn check<T: WriteElement + Into<Pixels2>>(dims: &[usize], values: Vec<T>)
where
    Vec<T>: Into<Pixels2>,
{
    let want: Pixels2 = values.clone().into();
    let h = header();
    // miniCBF
    let bytes = MiniCbfWriter::new(&h).write(dims, &values).unwrap();
    let file = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().verify_md5(true)).unwrap();
    let s = &file.sections()[0];
    assert_eq!(s.dims(), dims);
    assert_eq!(s.element_type(), T::TYPE);
    assert_eq!(s.md5_status(), Md5Status::Ok);
    assert_eq!(Pixels2(s.decode().unwrap()), want);
    let mut back = file.header().clone();
    back.data_block = None;
    back.magic = None;
    back.contents = None;
    back.convention = None;
    assert_eq!(back, h);
    assert!(CbfFile::is_complete(&bytes));
    // imgCIF, two arrays, both compressions
    let mut w = ImgCifWriter::new("roundtrip");
    w.item("_diffrn.id", "DS1").header("PILATUS_1.2", &h);
    w.add_array(dims, &values, WriteCompression::ByteOffset)
        .unwrap();
    w.add_array(dims, &values, WriteCompression::None).unwrap();
    let bytes = w.to_bytes();
    let file = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().verify_md5(true)).unwrap();
    assert_eq!(file.sections().len(), 2);
    for s in file.sections() {
        assert_eq!(s.dims(), dims);
        assert_eq!(Pixels2(s.decode().unwrap()), want);
    }
    assert_eq!(file.header().wavelength, h.wavelength);
    assert_eq!(
        file.header().structure_dims(Some(2)),
        dims.iter().map(|&d| d as u64).collect::<Vec<_>>()
    );
}

/// `Pixels` with a conversion from each typed vector, for the generic check above.
#[derive(Debug, PartialEq)]
struct Pixels2(Pixels);

macro_rules! into_pixels {
    ($t:ty, $v:ident) => {
        impl From<Vec<$t>> for Pixels2 {
            fn from(v: Vec<$t>) -> Self {
                Pixels2(Pixels::$v(v))
            }
        }
        impl From<$t> for Pixels2 {
            fn from(v: $t) -> Self {
                Pixels2(Pixels::$v(vec![v]))
            }
        }
    };
}
into_pixels!(i8, I8);
into_pixels!(u8, U8);
into_pixels!(i16, I16);
into_pixels!(u16, U16);
into_pixels!(i32, I32);
into_pixels!(u32, U32);
into_pixels!(i64, I64);
into_pixels!(u64, U64);

fn dims_and<T: Arbitrary + Clone + std::fmt::Debug + 'static>()
-> impl Strategy<Value = (Vec<usize>, Vec<T>)> {
    (1usize..40, 1usize..20, 1usize..3).prop_flat_map(|(f, s, nd)| {
        let dims = if nd == 1 { vec![f, s] } else { vec![f, s, nd] };
        let n: usize = dims.iter().product();
        (Just(dims), proptest::collection::vec(any::<T>(), n))
    })
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
    #![proptest_config(config(48))]
    #[test] fn i8_roundtrip((d, v) in dims_and::<i8>()) { check(&d, v) }
    #[test] fn u8_roundtrip((d, v) in dims_and::<u8>()) { check(&d, v) }
    #[test] fn i16_roundtrip((d, v) in dims_and::<i16>()) { check(&d, v) }
    #[test] fn u16_roundtrip((d, v) in dims_and::<u16>()) { check(&d, v) }
    #[test] fn i32_roundtrip((d, v) in dims_and::<i32>()) { check(&d, v) }
    #[test] fn u32_roundtrip((d, v) in dims_and::<u32>()) { check(&d, v) }
    #[test] fn i64_roundtrip((d, v) in dims_and::<i64>()) { check(&d, v) }
    #[test] fn u64_roundtrip((d, v) in dims_and::<u64>()) { check(&d, v) }

    /// Small deltas (the common detector case) through the i32 hot path.
    #[test]
    fn i32_small_deltas_decode_into_i32((d, v) in dims_and::<i16>()) {
        let v: Vec<i32> = v.iter().map(|&x| i32::from(x) / 300).collect();
        let bytes = MiniCbfWriter::new(&Header::default()).write(&d, &v).unwrap();
        let file = CbfFile::from_bytes(&bytes).unwrap();
        let mut out = vec![i32::MIN; v.len()];
        file.sections()[0].decode_into_i32(&mut out).unwrap();
        prop_assert_eq!(out, v);
    }
}

#[test]
fn narrow_types_decode_into_i32_and_i64() {
    let v: Vec<u16> = vec![0, 65535, 1, 30000];
    let bytes = MiniCbfWriter::new(&Header::default())
        .write(&[2, 2], &v)
        .unwrap();
    let file = CbfFile::from_bytes(&bytes).unwrap();
    assert_eq!(
        file.sections()[0].decode_i32().unwrap(),
        vec![0, 65535, 1, 30000]
    );
    assert_eq!(
        file.sections()[0].decode_i64().unwrap(),
        vec![0, 65535, 1, 30000]
    );
}

#[test]
fn gzip_input_is_read_transparently() {
    use std::io::Write;
    let v: Vec<i32> = (0..64).map(|i| i * i - 100).collect();
    let bytes = MiniCbfWriter::new(&header()).write(&[8, 8], &v).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frame.cbf.gz");
    std::fs::write(&path, &gz).unwrap();
    let file = CbfFile::open(&path, &ReadOptions::new().verify_md5(true)).unwrap();
    assert!(file.was_gzip());
    assert_eq!(file.sections()[0].decode_i32().unwrap(), v);
    assert!(CbfFile::is_complete(&gz));
    assert!(!CbfFile::is_complete(&gz[..gz.len() / 2]));
}
