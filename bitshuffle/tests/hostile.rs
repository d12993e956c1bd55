//! Damaged and hostile chunks: typed errors with the right offsets, the same from every
//! decoder, and no panic.

use bitshuffle::{BlockDecoder, Codec, Error, Path, Pixel, reference};

/// 3 blocks of 16 `u16` plus a last block of 8 and a raw tail of 5: 61 elements.
fn small() -> (Vec<u16>, Vec<u8>) {
    let v: Vec<u16> = (0..61u16).map(|i| i.wrapping_mul(2311) % 600).collect();
    let c = bitshuffle::encode(&v, 16).unwrap();
    (v, c)
}

/// Every decoder's result on `chunk` for `n` u16 pixels, checked to agree; the reference's.
fn all(chunk: &[u8], n: usize) -> Result<Vec<u8>, Error> {
    let want = reference::decode_bytes(Codec::Lz4, chunk, 2, n * 2);
    for path in Path::ALL.into_iter().filter(|p| p.is_available()) {
        let mut out = vec![0u8; n * 2];
        let got = bitshuffle::decode_bytes_into_with(path, Codec::Lz4, chunk, 2, &mut out);
        assert_eq!(got.map(|()| out), want, "path {path}");
        let visited =
            BlockDecoder::with(path, Codec::Lz4, chunk, Pixel::I16, n).and_then(|mut d| {
                let mut blk = [0i32; 7];
                let mut px = Vec::new();
                while let Some((_, len)) = d.next_block(&mut blk)? {
                    px.extend(blk[..len].iter().flat_map(|&v| (v as i16).to_le_bytes()));
                }
                Ok(px)
            });
        assert_eq!(visited, want, "block decoder, path {path}");
    }
    #[cfg(feature = "zstd")]
    {
        let mut out = vec![0u8; n * 2];
        // A zstd decoder on LZ4 data: an error, never a panic.
        let _ = bitshuffle::decode_bytes_into_with(Path::Scalar, Codec::Zstd, chunk, 2, &mut out);
    }
    want
}

#[test]
fn valid_chunk_decodes() {
    let (v, c) = small();
    let got = all(&c, v.len()).unwrap();
    let want: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn truncated_at_every_byte() {
    let (v, c) = small();
    for k in 0..c.len() {
        let e = all(&c[..k], v.len()).unwrap_err();
        match e {
            Error::TruncatedHeader { available } => assert!(k < 12 && available == k),
            Error::Truncated { offset, .. } => assert!(offset <= k, "{e} at {k}"),
            // A cut inside an LZ4 block whose size field still fits is caught as truncation;
            // nothing else may come out.
            other => panic!("cut at {k}: unexpected {other}"),
        }
    }
}

#[test]
fn every_byte_flipped_agrees() {
    let (v, c) = small();
    for k in 0..c.len() {
        for bit in [0x01u8, 0x80, 0xFF] {
            let mut d = c.clone();
            d[k] ^= bit;
            let _ = all(&d, v.len());
        }
    }
}

#[test]
fn header_errors() {
    let (v, c) = small();
    assert_eq!(
        all(&c, v.len() + 1),
        Err(Error::SizeMismatch {
            total_bytes: 122,
            expected_bytes: 124
        })
    );
    // A hostile header size is refused against the caller's count, before any allocation.
    let mut huge = c.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(
        bitshuffle::decode::<u16>(&huge, v.len()),
        Err(Error::SizeMismatch {
            total_bytes: u64::MAX,
            expected_bytes: 122
        })
    );
    assert!(matches!(
        bitshuffle::decode::<u16>(&c, usize::MAX),
        Err(Error::SizeMismatch { .. })
    ));
    for bad in [0u32, 2, 8, 30] {
        let mut d = c.clone();
        d[8..12].copy_from_slice(&bad.to_be_bytes());
        assert_eq!(
            all(&d, v.len()),
            Err(Error::BadBlockSize {
                block_bytes: bad,
                elem_size: 2
            })
        );
    }
    assert_eq!(
        bitshuffle::decode::<u16>(&c[..5], 3),
        Err(Error::TruncatedHeader { available: 5 })
    );
}

#[test]
fn block_errors() {
    let (v, c) = small();
    // Compressed size of the first block beyond the input.
    let mut d = c.clone();
    d[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        all(&d, v.len()),
        Err(Error::Truncated {
            offset: 16,
            needed: u64::from(u32::MAX),
            available: c.len() - 16
        })
    );
    // Trailing bytes.
    let mut d = c.clone();
    d.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        all(&d, v.len()),
        Err(Error::TrailingBytes {
            offset: c.len(),
            remaining: 3
        })
    );
    // An LZ4 block decompressing to fewer bytes than its block: 14 literal bytes of 32.
    let mut chunk = Vec::new();
    chunk.extend_from_slice(&32u64.to_be_bytes());
    chunk.extend_from_slice(&32u32.to_be_bytes());
    let short = lz4_block_literals(&[7u8; 14]);
    chunk.extend_from_slice(&(short.len() as u32).to_be_bytes());
    chunk.extend_from_slice(&short);
    assert_eq!(
        all(&chunk, 16),
        Err(Error::BlockLength {
            offset: 16,
            expected: 32,
            actual: 14
        })
    );
    // Garbage instead of LZ4: an offset pointing before the output start.
    let mut chunk = chunk[..12].to_vec();
    let garbage = [0x0Fu8, 0xFF, 0xFF, 0x00];
    chunk.extend_from_slice(&(garbage.len() as u32).to_be_bytes());
    chunk.extend_from_slice(&garbage);
    assert_eq!(all(&chunk, 16), Err(Error::Lz4 { offset: 16 }));
}

/// An LZ4 block holding only literals.
fn lz4_block_literals(b: &[u8]) -> Vec<u8> {
    assert!(b.len() < 15);
    let mut o = vec![(b.len() as u8) << 4];
    o.extend_from_slice(b);
    o
}

#[test]
fn empty_and_tiny_chunks() {
    for n in 0..9usize {
        let v: Vec<u16> = (0..n as u16).collect();
        let c = bitshuffle::encode(&v, 0).unwrap();
        assert_eq!(bitshuffle::decode::<u16>(&c, n).unwrap(), v);
        if n < 8 {
            // No block: the raw tail only.
            assert_eq!(c.len(), 12 + 2 * n);
        }
    }
    let mut blk = [0i32; 0];
    let c = bitshuffle::encode(&[1u32, 2], 0).unwrap();
    let mut d = BlockDecoder::new(&c, Pixel::U32, 2).unwrap();
    assert_eq!(d.next_block(&mut blk), Err(Error::EmptyBlock));
    assert_eq!(d.next_block(&mut blk), Ok(None));
}

#[test]
fn lz4_filter_errors() {
    let data: Vec<u8> = (0..300u32).map(|i| (i % 7) as u8).collect();
    let c = bitshuffle::lz4::encode(&data, 100).unwrap();
    for k in 0..c.len() {
        let mut out = vec![0u8; data.len()];
        let e = bitshuffle::lz4::decode_into(&c[..k], &mut out).unwrap_err();
        assert_eq!(Err(e), reference::decode_lz4_filter(&c[..k], data.len()));
    }
    let mut d = c.clone();
    d[8..12].copy_from_slice(&0u32.to_be_bytes());
    let mut out = vec![0u8; data.len()];
    assert!(matches!(
        bitshuffle::lz4::decode_into(&d, &mut out),
        Err(Error::BadBlockSize { block_bytes: 0, .. })
    ));
    // Raw blocks (random bytes do not compress) round-trip.
    let noise: Vec<u8> = (0..500u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let c = bitshuffle::lz4::encode(&noise, 128).unwrap();
    let mut out = vec![0u8; noise.len()];
    bitshuffle::lz4::decode_into(&c, &mut out).unwrap();
    assert_eq!(out, noise);
}
