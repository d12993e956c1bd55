//! Every path and the encoders against the plain reference, on random data of every element
//! size and block size (partial last blocks and the raw tail of fewer than 8 elements
//! included).

use bitshuffle::{Codec, Path, reference};
use proptest::prelude::*;

fn sizes() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (
        prop::sample::select(vec![1usize, 2, 3, 4, 8]),
        0usize..5,
        0usize..1200,
    )
        .prop_flat_map(|(s, b, n)| {
            let block = [0usize, 8, 16, 256, 264][b];
            // Low-entropy bytes (compressible, like detector counts) and random ones.
            (
                Just(s),
                Just(block),
                prop::collection::vec(prop_oneof![3 => 0u8..4, 1 => any::<u8>()], n * s),
            )
        })
}

fn paths() -> Vec<Path> {
    Path::ALL.into_iter().filter(|p| p.is_available()).collect()
}

fn codecs() -> Vec<Codec> {
    #[allow(unused_mut)]
    let mut c = vec![Codec::Lz4];
    #[cfg(feature = "zstd")]
    c.push(Codec::Zstd);
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn transpose_matches_reference((s, _b, data) in sizes()) {
        let n = data.len() / s / 8 * 8;
        let block = &data[..n * s];
        let mut want = vec![0u8; block.len()];
        reference::bitshuffle_block(block, &mut want, s);
        let chunk = bitshuffle::encode_bytes(Codec::Lz4, block, s, n.max(8)).unwrap();
        let mut back = vec![0u8; block.len()];
        reference::bitunshuffle_block(&want, &mut back, s);
        prop_assert_eq!(&back, block);
        prop_assert_eq!(reference::decode_bytes(Codec::Lz4, &chunk, s, block.len()).unwrap(), block);
    }

    #[test]
    fn fast_equals_reference((s, b, data) in sizes()) {
        for codec in codecs() {
            let chunk = reference::encode_bytes(codec, &data, s, b).unwrap();
            // Both encoders write the same bytes.
            prop_assert_eq!(&bitshuffle::encode_bytes(codec, &data, s, b).unwrap(), &chunk);
            let want = reference::decode_bytes(codec, &chunk, s, data.len()).unwrap();
            prop_assert_eq!(&want, &data);
            for path in paths() {
                let mut out = vec![0xAAu8; data.len()];
                bitshuffle::decode_bytes_into_with(path, codec, &chunk, s, &mut out).unwrap();
                prop_assert_eq!(&out, &data, "path {}", path);
            }
        }
    }

    #[test]
    fn typed_round_trip(v in prop::collection::vec(prop_oneof![any::<u32>(), 0u32..100, Just(u32::MAX)], 0..3000), b in 0usize..3) {
        let block = [0usize, 8, 512][b];
        let chunk = bitshuffle::encode(&v, block).unwrap();
        prop_assert_eq!(bitshuffle::decode::<u32>(&chunk, v.len()).unwrap(), v.clone());
        let i: Vec<i32> = v.iter().map(|&x| x as i32).collect();
        prop_assert_eq!(bitshuffle::decode::<i32>(&chunk, v.len()).unwrap(), i);
        let w: Vec<u16> = v.iter().map(|&x| x as u16).collect();
        let c16 = bitshuffle::encode(&w, block).unwrap();
        prop_assert_eq!(bitshuffle::decode::<u16>(&c16, w.len()).unwrap(), w);
        let w: Vec<u8> = v.iter().map(|&x| x as u8).collect();
        let c8 = bitshuffle::encode(&w, block).unwrap();
        prop_assert_eq!(bitshuffle::decode::<u8>(&c8, w.len()).unwrap(), w);
    }

    #[test]
    fn block_decoder_visits_all(v in prop::collection::vec(prop_oneof![0u32..(i32::MAX as u32), Just(u32::MAX)], 0..3000), b in 0usize..3, buf in 1usize..700) {
        let block = [0usize, 8, 512][b];
        let chunk = bitshuffle::encode(&v, block).unwrap();
        let want: Vec<i32> = v.iter().map(|&x| if x == u32::MAX { -1 } else { x as i32 }).collect();
        for path in paths() {
            let mut dec = bitshuffle::BlockDecoder::with(path, Codec::Lz4, &chunk, bitshuffle::Pixel::U32, v.len()).unwrap();
            let mut blk = vec![0i32; buf];
            let mut got = Vec::new();
            while let Some((first, len)) = dec.next_block(&mut blk).unwrap() {
                prop_assert_eq!(first, got.len());
                prop_assert!(len <= buf);
                got.extend_from_slice(&blk[..len]);
            }
            prop_assert_eq!(&got, &want);
        }
    }

    #[test]
    fn lz4_filter_round_trip(data in prop::collection::vec(prop_oneof![3 => 0u8..3, 1 => any::<u8>()], 0..5000), block in prop::sample::select(vec![0usize, 1, 7, 64, 1000])) {
        let chunk = bitshuffle::lz4::encode(&data, block).unwrap();
        prop_assert_eq!(reference::decode_lz4_filter(&chunk, data.len()).unwrap(), data.clone());
        let mut out = vec![0u8; data.len()];
        bitshuffle::lz4::decode_into(&chunk, &mut out).unwrap();
        prop_assert_eq!(out, data);
    }
}

#[test]
fn pixel_conversions() {
    use bitshuffle::{Error, Pixel};
    let collect = |chunk: &[u8], p: Pixel, n: usize| {
        let mut out = Vec::new();
        let mut blk = [0i32; 64];
        bitshuffle::decode_visit(chunk, p, n, &mut blk, |_, px| out.extend_from_slice(px))
            .map(|()| out)
    };
    let v16 = [0u16, 1, 0xFFFF, 0xFFFE, 7];
    let c = bitshuffle::encode(&v16, 0).unwrap();
    assert_eq!(collect(&c, Pixel::U16, 5).unwrap(), [0, 1, -1, 0xFFFE, 7]);
    assert_eq!(collect(&c, Pixel::I16, 5).unwrap(), [0, 1, -1, -2, 7]);
    let v8 = [0u8, 255, 3];
    let c = bitshuffle::encode(&v8, 0).unwrap();
    assert_eq!(collect(&c, Pixel::U8, 3).unwrap(), [0, 255, 3]);
    let v32: Vec<u32> = (0..20).chain([u32::MAX, 0x8000_0000, 5]).collect();
    let c = bitshuffle::encode(&v32, 0).unwrap();
    assert_eq!(
        collect(&c, Pixel::U32, v32.len()),
        Err(Error::ValueOutOfRange {
            index: 21,
            value: 0x8000_0000
        })
    );
    let mut want: Vec<i32> = v32.iter().map(|&x| x as i32).collect();
    assert_eq!(collect(&c, Pixel::I32, v32.len()).unwrap(), want);
    want[21] = 0;
    let v32: Vec<u32> = want.iter().map(|&x| x as u32).collect();
    let c = bitshuffle::encode(&v32, 0).unwrap();
    want[20] = -1;
    assert_eq!(collect(&c, Pixel::U32, v32.len()).unwrap(), want);
}

#[test]
fn default_block_sizes() {
    assert_eq!(bitshuffle::default_block_elems(1), 8192);
    assert_eq!(bitshuffle::default_block_elems(2), 4096);
    assert_eq!(bitshuffle::default_block_elems(4), 2048);
    assert_eq!(bitshuffle::default_block_elems(8), 1024);
    assert_eq!(bitshuffle::default_block_elems(3), 2728);
    let chunk = bitshuffle::encode(&[0u32; 5000], 0).unwrap();
    let h = bitshuffle::read_header(&chunk).unwrap();
    assert_eq!((h.total_bytes, h.block_bytes), (20_000, 8192));
}
