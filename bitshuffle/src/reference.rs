//! Plain reference code every fast path is tested against: the bit transpose one bit at a
//! time, and the chunk walked with no buffer reuse.
//!
//! Layout of one block of `n` elements (`n` a multiple of 8) of `s` bytes: bit `k` of byte `j`
//! of element `i` is bit `(j * 8 + k) * n + i` of the block, counting bits of each byte from
//! the least significant (the bitshuffle library's `bshuf_trans_bit_elem`).

use crate::Error;
use crate::format::{self, Codec, Step};

/// Bit-shuffles one block: `src` holds `n = src.len() / elem_size` elements (`n` a multiple
/// of 8), `dst` the same number of bytes.
///
/// # Panics
/// When the lengths differ or `n` is not a multiple of 8.
pub fn bitshuffle_block(src: &[u8], dst: &mut [u8], elem_size: usize) {
    assert_eq!(src.len(), dst.len());
    let n = src.len() / elem_size;
    assert_eq!(n % 8, 0);
    dst.fill(0);
    for i in 0..n {
        for b in 0..8 * elem_size {
            let bit = (src[i * elem_size + b / 8] >> (b % 8)) & 1;
            let o = b * n + i;
            dst[o / 8] |= bit << (o % 8);
        }
    }
}

/// Undoes [`bitshuffle_block`].
///
/// # Panics
/// When the lengths differ or `n` is not a multiple of 8.
pub fn bitunshuffle_block(src: &[u8], dst: &mut [u8], elem_size: usize) {
    assert_eq!(src.len(), dst.len());
    let n = src.len() / elem_size;
    assert_eq!(n % 8, 0);
    dst.fill(0);
    for i in 0..n {
        for b in 0..8 * elem_size {
            let o = b * n + i;
            let bit = (src[o / 8] >> (o % 8)) & 1;
            dst[i * elem_size + b / 8] |= bit << (b % 8);
        }
    }
}

/// Decodes a whole bitshuffle chunk of `elem_size`-byte elements whose uncompressed size must
/// be `expected_bytes`, returning the bytes. Same checks and errors as the fast decoders.
pub fn decode_bytes(
    codec: Codec,
    chunk: &[u8],
    elem_size: usize,
    expected_bytes: usize,
) -> Result<Vec<u8>, Error> {
    format::check_elem_size(elem_size)?;
    if !expected_bytes.is_multiple_of(elem_size) {
        return Err(Error::PartialElement {
            len: expected_bytes,
            elem_size,
        });
    }
    let block = format::check_header(chunk, elem_size, expected_bytes)?;
    let n = expected_bytes / elem_size;
    let mut out = Vec::with_capacity(expected_bytes);
    let mut pos = format::HEADER_LEN;
    loop {
        let done = out.len() / elem_size;
        match format::step(n, block, done) {
            Step::Block(m) => {
                let r = format::block_range(chunk, pos)?;
                let mut shuffled = vec![0u8; m * elem_size];
                format::decompress(codec, &chunk[r.clone()], r.start, &mut shuffled)?;
                let mut plain = vec![0u8; m * elem_size];
                bitunshuffle_block(&shuffled, &mut plain, elem_size);
                out.extend_from_slice(&plain);
                pos = r.end;
            }
            Step::Tail(m) => {
                let need = m * elem_size;
                let Some(t) = chunk.get(pos..pos + need) else {
                    return Err(Error::Truncated {
                        offset: pos,
                        needed: need as u64,
                        available: chunk.len() - pos,
                    });
                };
                out.extend_from_slice(t);
                pos += need;
            }
            Step::End => break,
        }
    }
    if pos != chunk.len() {
        return Err(Error::TrailingBytes {
            offset: pos,
            remaining: chunk.len() - pos,
        });
    }
    Ok(out)
}

/// Encodes `data` (`elem_size`-byte elements) as a bitshuffle chunk with blocks of
/// `block_elems` elements (0: [`format::default_block_elems`]), one bit at a time.
pub fn encode_bytes(
    codec: Codec,
    data: &[u8],
    elem_size: usize,
    block_elems: usize,
) -> Result<Vec<u8>, Error> {
    crate::encode::encode_with(codec, data, elem_size, block_elems, bitshuffle_block)
}

/// Decodes a plain HDF5 LZ4 filter (32004) chunk whose uncompressed size must be
/// `expected_bytes`. Same checks and errors as [`crate::lz4::decode_into`].
pub fn decode_lz4_filter(chunk: &[u8], expected_bytes: usize) -> Result<Vec<u8>, Error> {
    let h = format::read_header(chunk)?;
    if h.total_bytes != expected_bytes as u64 {
        return Err(Error::SizeMismatch {
            total_bytes: h.total_bytes,
            expected_bytes: expected_bytes as u64,
        });
    }
    if h.block_bytes == 0 {
        return Err(Error::BadBlockSize {
            block_bytes: 0,
            elem_size: 1,
        });
    }
    let mut out = Vec::with_capacity(expected_bytes);
    let mut pos = format::HEADER_LEN;
    while out.len() < expected_bytes {
        let m = (expected_bytes - out.len()).min(h.block_bytes as usize);
        let r = format::block_range(chunk, pos)?;
        if r.len() == m {
            out.extend_from_slice(&chunk[r.clone()]);
        } else {
            let mut b = vec![0u8; m];
            format::decompress(Codec::Lz4, &chunk[r.clone()], r.start, &mut b)?;
            out.extend_from_slice(&b);
        }
        pos = r.end;
    }
    if pos != chunk.len() {
        return Err(Error::TrailingBytes {
            offset: pos,
            remaining: chunk.len() - pos,
        });
    }
    Ok(out)
}
