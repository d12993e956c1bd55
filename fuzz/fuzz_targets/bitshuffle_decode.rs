//! Bitshuffle decode fuzz target: on any bytes, every decoder (each path, the block decoder,
//! the typed decoder, the LZ4 filter decoder) returns the reference decoder's result (bytes or
//! the same error) and never panics; what decodes re-encodes and decodes to the same bytes.
//!
//! The first input byte picks the element size (bits 0-1: 1, 2, 4, 8), the block codec (bit
//! 2: LZ4 or zstd), the LZ4 filter instead of bitshuffle (bit 3), the expected size relative
//! to the header's (bits 4-5: equal, -1, +1 element, 0) and the block decoder's buffer size
//! (bits 6-7). The rest is the chunk.
#![no_main]

use bitshuffle::{BlockDecoder, Codec, Error, Path, Pixel, reference};
use libfuzzer_sys::fuzz_target;

/// Largest expected size tried (bytes), so a header cannot make the target allocate much.
const MAX_BYTES: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, chunk)) = data.split_first() else {
        return;
    };
    let s = [1usize, 2, 4, 8][usize::from(ctl & 3)];
    let codec = if ctl & 4 == 0 {
        Codec::Lz4
    } else {
        Codec::Zstd
    };
    let total = bitshuffle::read_header(chunk).map_or(0, |h| h.total_bytes);
    let n_header = if total <= MAX_BYTES {
        total as usize / s
    } else {
        0
    };
    let n = match (ctl >> 4) & 3 {
        0 => n_header,
        1 => n_header.saturating_sub(1),
        2 => n_header + 1,
        _ => 0,
    };

    if ctl & 8 != 0 {
        let bytes = n * s;
        let want = reference::decode_lz4_filter(chunk, bytes);
        let mut out = vec![0u8; bytes];
        let got = bitshuffle::lz4::decode_into(chunk, &mut out).map(|()| out);
        assert_eq!(got, want);
        if let Ok(plain) = want {
            let again = bitshuffle::lz4::encode(&plain, 1 + usize::from(ctl)).unwrap();
            assert_eq!(reference::decode_lz4_filter(&again, bytes).unwrap(), plain);
        }
        return;
    }

    let want = reference::decode_bytes(codec, chunk, s, n * s);
    for path in Path::ALL {
        let mut out = vec![0u8; n * s];
        let got = bitshuffle::decode_bytes_into_with(path, codec, chunk, s, &mut out);
        assert_eq!(got.map(|()| out), want, "path {path}");
    }
    if codec == Codec::Lz4 && s == 4 {
        let typed = bitshuffle::decode::<u32>(chunk, n);
        assert_eq!(
            typed.map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
            want
        );
    }
    let pixel = match s {
        1 => Some(Pixel::U8),
        2 => Some(Pixel::U16),
        4 => Some(Pixel::U32),
        _ => None,
    };
    if let Some(pixel) = pixel {
        let mut blk = vec![0i32; 1 + 97 * usize::from(ctl >> 6)];
        let visited = BlockDecoder::with(Path::Scalar, codec, chunk, pixel, n).and_then(|mut d| {
            let mut px = Vec::new();
            while let Some((first, len)) = d.next_block(&mut blk)? {
                assert_eq!(first, px.len());
                px.extend_from_slice(&blk[..len]);
            }
            Ok(px)
        });
        match (&visited, &want) {
            (Ok(px), Ok(bytes)) => {
                for (i, (&v, b)) in px.iter().zip(bytes.chunks_exact(s)).enumerate() {
                    let mut w = [0u8; 4];
                    w[..s].copy_from_slice(b);
                    let u = u32::from_le_bytes(w);
                    let max = if s == 4 {
                        u32::MAX
                    } else if s == 2 {
                        0xFFFF
                    } else {
                        0x1_0000
                    };
                    let expect = if u == max { -1 } else { u as i32 };
                    assert_eq!(v, expect, "pixel {i}");
                }
                assert_eq!(px.len(), n);
            }
            // A u32 above i32::MAX is refused; it may come before a later stream error.
            (Err(Error::ValueOutOfRange { .. }), _) => {}
            (got, want) => assert_eq!(got.as_ref().err(), want.as_ref().err()),
        }
    }
    if let Ok(plain) = want {
        let block = 8 * (1 + usize::from(ctl >> 4));
        let again = bitshuffle::encode_bytes(codec, &plain, s, block).unwrap();
        assert_eq!(
            reference::decode_bytes(codec, &again, s, plain.len()).unwrap(),
            plain
        );
    }
});
