//! Every decoder path against the reference, on random images of every element type, on
//! adversarial streams and on arbitrary bytes.

use byteoffset::{Element, Error, Output, Path, reference};
use proptest::prelude::*;

/// The paths to test: every one this CPU has (an unavailable one would silently run scalar).
fn paths() -> Vec<Path> {
    let p: Vec<Path> = Path::ALL.into_iter().filter(|p| p.is_available()).collect();
    assert!(p.contains(&Path::Scalar));
    p
}

/// The reference result for a 32-bit output: the 32-bit wrapping decode, then `convert`.
fn reference_as<T>(
    input: &[u8],
    n: usize,
    convert: impl Fn(usize, i32) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let v = reference::decode_wrapping::<i32>(input, n)?;
    v.into_iter()
        .enumerate()
        .map(|(i, x)| convert(i, x))
        .collect()
}

fn narrow<T: TryFrom<i32>>(name: &'static str) -> impl Fn(usize, i32) -> Result<T, Error> {
    move |i, x| {
        T::try_from(x).map_err(|_| Error::Overflow {
            index: i,
            value: i64::from(x),
            target: name,
        })
    }
}

fn decode_with<T: Output>(path: Path, input: &[u8], n: usize) -> Result<Vec<T>, Error> {
    // Prefill with a value a decoder would not write, so a skipped element shows.
    let mut out = vec![T::default(); n];
    byteoffset::decode_into_with(path, input, &mut out)?;
    Ok(out)
}

fn visit_with(path: Path, input: &[u8], n: usize, block: usize) -> Result<Vec<i32>, Error> {
    let mut buf = vec![i32::MIN; block];
    let mut out = Vec::new();
    byteoffset::decode_visit_with(path, input, n, &mut buf, |first, px| {
        assert_eq!(first, out.len());
        assert!(px.len() == block || first + px.len() == n);
        out.extend_from_slice(px);
    })?;
    Ok(out)
}

/// Checks every path and output type against the reference for `n` elements of `input`.
fn check_stream(input: &[u8], n: usize) {
    let want_i32 = reference::decode_wrapping::<i32>(input, n);
    let want_u32 = reference::decode_wrapping::<u32>(input, n);
    let want_i64 = reference::decode_wrapping::<i64>(input, n);
    let want_i16 = reference_as(input, n, narrow::<i16>("i16"));
    let want_u16 = reference_as(input, n, narrow::<u16>("u16"));
    let want_f32 = reference_as(input, n, |_, x| Ok(x as f32));
    for path in paths() {
        assert_eq!(
            decode_with::<i32>(path, input, n),
            want_i32,
            "i32 on {path}"
        );
        assert_eq!(
            decode_with::<u32>(path, input, n),
            want_u32,
            "u32 on {path}"
        );
        assert_eq!(
            decode_with::<i64>(path, input, n),
            want_i64,
            "i64 on {path}"
        );
        assert_eq!(
            decode_with::<i16>(path, input, n),
            want_i16,
            "i16 on {path}"
        );
        assert_eq!(
            decode_with::<u16>(path, input, n),
            want_u16,
            "u16 on {path}"
        );
        assert_eq!(
            decode_with::<f32>(path, input, n),
            want_f32,
            "f32 on {path}"
        );
        for block in [1, 7, 64, 100, 4096] {
            let got = visit_with(path, input, n, block);
            assert_eq!(got, want_i32, "visit block {block} on {path}");
        }
    }
}

/// Encodes with the fast and the reference encoder (must agree) and checks all decoders.
fn check_values<T: Element>(values: &[T]) {
    let enc = reference::encode(values);
    assert_eq!(byteoffset::encode(values), enc, "encode {}", T::NAME);
    for path in paths() {
        assert_eq!(
            byteoffset::encode_with(path, values),
            enc,
            "encode {} on {path}",
            T::NAME
        );
    }
    assert_eq!(byteoffset::encoded_len(values), enc.len());
    let mut exact = vec![0u8; enc.len()];
    assert_eq!(byteoffset::encode_into(values, &mut exact), Ok(enc.len()));
    assert_eq!(exact, enc);
    if !enc.is_empty() {
        let mut short = vec![0u8; enc.len() - 1];
        assert_eq!(
            byteoffset::encode_into(values, &mut short),
            Err(Error::OutputTooSmall {
                needed: enc.len(),
                actual: enc.len() - 1
            })
        );
    }
    assert!(enc.len() <= byteoffset::max_encoded_len(values.len(), T::SIZE));
    assert_eq!(
        reference::decode_wrapping::<T>(&enc, values.len()).as_deref(),
        Ok(values)
    );
    check_stream(&enc, values.len());
}

/// Pixel-like images: runs of small steps, jumps of every escape size, extremes.
fn image<T: Element + proptest::arbitrary::Arbitrary>() -> impl Strategy<Value = Vec<T>> {
    let piece = prop_oneof![
        8 => (0..200usize, any::<T>(), -3i64..=3).prop_map(|(len, start, step)| {
            let mut v = Vec::with_capacity(len);
            let mut x = start;
            for i in 0..len {
                v.push(x);
                x = x.wrapping_add_delta(if i % 3 == 0 { step } else { -step / 2 });
            }
            v
        }),
        2 => proptest::collection::vec(any::<T>(), 0..20),
        1 => (any::<T>(), 1..10usize).prop_map(|(x, n)| vec![x; n]),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// Arbitrary streams heavy in `0x80` bytes and escape-shaped byte patterns.
fn adversarial_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..80),
        2 => (1..200usize).prop_map(|n| vec![0x80; n]),
        2 => Just(vec![0x80, 0x00, 0x80]),
        2 => Just(vec![0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80]),
        1 => (any::<i16>()).prop_map(|d| { let mut v = vec![0x80]; v.extend(d.to_le_bytes()); v }),
        1 => (any::<i32>()).prop_map(|d| { let mut v = vec![0x80, 0x00, 0x80]; v.extend(d.to_le_bytes()); v }),
        1 => (any::<i64>()).prop_map(|d| { let mut v = vec![0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80]; v.extend(d.to_le_bytes()); v }),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

/// Number of whole tokens in `input` (stopping at a truncated one).
fn token_count(input: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < input.len() {
        let len = if input[pos] != 0x80 {
            1
        } else if input.len() >= pos + 3 && input[pos + 1..pos + 3] != [0x00, 0x80] {
            3
        } else if input.len() >= pos + 7 && input[pos + 3..pos + 7] != [0x00, 0x00, 0x00, 0x80] {
            7
        } else {
            15
        };
        if pos + len > input.len() {
            break;
        }
        pos += len;
        n += 1;
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn i8_matches_reference(v in image::<i8>()) { check_values(&v); }
    #[test]
    fn u8_matches_reference(v in image::<u8>()) { check_values(&v); }
    #[test]
    fn i16_matches_reference(v in image::<i16>()) { check_values(&v); }
    #[test]
    fn u16_matches_reference(v in image::<u16>()) { check_values(&v); }
    #[test]
    fn i32_matches_reference(v in image::<i32>()) { check_values(&v); }
    #[test]
    fn u32_matches_reference(v in image::<u32>()) { check_values(&v); }
    #[test]
    fn i64_matches_reference(v in image::<i64>()) { check_values(&v); }
    #[test]
    fn u64_matches_reference(v in image::<u64>()) { check_values(&v); }

    #[test]
    fn arbitrary_bytes_match_reference(bytes in adversarial_bytes(), extra in -2i64..=2) {
        let n = (token_count(&bytes) as i64 + extra).max(0) as usize;
        check_stream(&bytes, n);
    }

    /// Alignment: the same stream behind a prefix of any length, and followed by a suffix.
    #[test]
    fn every_alignment_matches_reference(v in image::<i32>(), front in 0..64usize, tail in 0..3usize) {
        let enc = reference::encode(&v);
        let mut buf = vec![0x55u8; front];
        buf.extend_from_slice(&enc);
        buf.extend(std::iter::repeat_n(0x01, tail));
        check_stream(&buf[front..], v.len());
        check_stream(&buf[front..front + enc.len() + tail], v.len());
    }
}

/// One escape of each size at every offset modulo 64 (and beyond) of a 1-byte-delta stream.
#[test]
fn escape_at_every_offset_matches_reference() {
    let deltas: [i64; 5] = [128, -32767, 32768, -2_147_483_647, 1 << 40];
    for &d in &deltas {
        for offset in 0..130 {
            for len in [offset + 1, offset + 40, offset + 70, offset + 200] {
                let mut v = Vec::with_capacity(len);
                let mut x = 0i64;
                for i in 0..len {
                    x += if i == offset { d } else { (i as i64 % 7) - 3 };
                    v.push(x as i32);
                }
                let enc = reference::encode(&v);
                check_stream(&enc, len);
                // The same with two escapes in a row and one right at the next block.
                let mut w = v.clone();
                if offset + 33 < len {
                    w[offset + 1] = w[offset + 1].wrapping_add(d as i32);
                    w[offset + 32] = w[offset + 32].wrapping_sub(d as i32);
                }
                check_values(&w);
            }
        }
    }
}

/// Long runs of `0x80` bytes, decoded as whatever they form, at every count near the truth.
#[test]
fn runs_of_0x80_match_reference() {
    for run in 0..300 {
        for front in [0usize, 1, 5, 31, 33, 63] {
            let mut bytes = vec![3u8; front];
            bytes.extend(std::iter::repeat_n(0x80, run));
            bytes.extend(std::iter::repeat_n(1, 70));
            let n = token_count(&bytes);
            for m in [n.saturating_sub(1), n, n + 1] {
                check_stream(&bytes, m);
            }
        }
    }
}

/// Deltas at the edges of every escape range and the extremes of 32- and 64-bit values.
#[test]
fn maximal_deltas_match_reference() {
    let edges: Vec<i64> = vec![
        0,
        127,
        -127,
        128,
        -128,
        32767,
        -32767,
        32768,
        -32768,
        2_147_483_647,
        -2_147_483_647,
        2_147_483_648,
        -2_147_483_648,
        i64::MAX,
        i64::MIN,
    ];
    let mut v64 = vec![0i64; 0];
    let mut x = 0i64;
    for _ in 0..4 {
        for &d in &edges {
            x = x.wrapping_add(d);
            v64.push(x);
            v64.extend(std::iter::repeat_n(x, 20));
        }
    }
    check_values(&v64);
    check_values(&v64.iter().map(|&x| x as u64).collect::<Vec<_>>());
    let v32: Vec<i32> = [i32::MIN, i32::MAX, 0, i32::MIN, -1, i32::MAX, 1]
        .iter()
        .cycle()
        .take(500)
        .copied()
        .collect();
    check_values(&v32);
    check_values(&v32.iter().map(|&x| x as u32).collect::<Vec<_>>());
    // All escapes: every delta needs the 32-bit escape.
    let alt: Vec<i32> = (0..1000)
        .map(|i| if i % 2 == 0 { 1 << 20 } else { -(1 << 20) })
        .collect();
    check_values(&alt);
}

#[test]
fn rejects_bad_counts_and_buffers() {
    let enc = byteoffset::encode(&[1i32, 2, 3]);
    assert_eq!(
        byteoffset::decode::<i32>(&enc, 4),
        Err(Error::TooFewElements {
            offset: 3,
            decoded: 3,
            expected: 4
        })
    );
    assert_eq!(
        byteoffset::decode::<i32>(&enc, 2),
        Err(Error::TrailingBytes {
            offset: 2,
            remaining: 1,
            expected: 2
        })
    );
    assert!(byteoffset::decode::<i32>(&enc, usize::MAX).is_err());
    assert_eq!(
        byteoffset::decode_visit(&enc, 3, &mut [], |_, _| {}),
        Err(Error::EmptyBlock { expected: 3 })
    );
    assert_eq!(byteoffset::decode_visit(&[], 0, &mut [], |_, _| {}), Ok(()));
    assert_eq!(
        byteoffset::decode::<u16>(&byteoffset::encode(&[5i32, -1]), 2),
        Err(Error::Overflow {
            index: 1,
            value: -1,
            target: "u16"
        })
    );
}

#[test]
fn force_scalar_switches_the_active_path() {
    let best = byteoffset::best_path();
    byteoffset::force_scalar(true);
    assert_eq!(byteoffset::active_path(), Path::Scalar);
    byteoffset::force_scalar(false);
    assert_eq!(byteoffset::active_path(), best);
    println!("best path on this CPU: {best}");
}
