//! The plain HDF5 LZ4 filter (id 32004) chunk format, no bitshuffle: u64 big-endian total
//! size, u32 big-endian block size (bytes), then per block a u32 big-endian compressed size
//! and an LZ4 raw block; a block whose compressed size equals its uncompressed size is
//! stored raw (the filter stores a block raw when LZ4 does not shrink it).

use crate::format::{self, Codec};
use crate::{Element, Error};

/// The LZ4 filter's default block size (1 GiB: one block per chunk in practice).
pub const DEFAULT_BLOCK_BYTES: usize = 1 << 30;

/// Decodes an LZ4 filter chunk into `out`, whose length is the expected uncompressed size
/// (checked against the header first). Errors as the bitshuffle decoders; a block size of 0
/// is [`Error::BadBlockSize`].
pub fn decode_into(chunk: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let h = format::read_header(chunk)?;
    if h.total_bytes != out.len() as u64 {
        return Err(Error::SizeMismatch {
            total_bytes: h.total_bytes,
            expected_bytes: out.len() as u64,
        });
    }
    if h.block_bytes == 0 {
        return Err(Error::BadBlockSize {
            block_bytes: 0,
            elem_size: 1,
        });
    }
    let mut pos = format::HEADER_LEN;
    for dst in out.chunks_mut(h.block_bytes as usize) {
        let r = format::block_range(chunk, pos)?;
        if r.len() == dst.len() {
            dst.copy_from_slice(&chunk[r.clone()]);
        } else {
            format::decompress(Codec::Lz4, &chunk[r.clone()], r.start, dst)?;
        }
        pos = r.end;
    }
    if pos != chunk.len() {
        return Err(Error::TrailingBytes {
            offset: pos,
            remaining: chunk.len() - pos,
        });
    }
    Ok(())
}

/// Decodes an LZ4 filter chunk of `T` pixels (little-endian) into `out` (see
/// [`decode_into`]).
pub fn decode_pixels_into<T: Element>(chunk: &[u8], out: &mut [T]) -> Result<(), Error> {
    decode_into(chunk, bytemuck::cast_slice_mut(out))?;
    T::from_le_in_place(out);
    Ok(())
}

/// Encodes `data` as an LZ4 filter chunk with blocks of `block_bytes` bytes (0:
/// [`DEFAULT_BLOCK_BYTES`]); blocks LZ4 does not shrink are stored raw, as the filter does.
/// Errors when `block_bytes` does not fit the 32-bit header field.
pub fn encode(data: &[u8], block_bytes: usize) -> Result<Vec<u8>, Error> {
    let block = if block_bytes == 0 {
        DEFAULT_BLOCK_BYTES
    } else {
        block_bytes
    };
    let Ok(b32) = u32::try_from(block) else {
        return Err(Error::BadEncoderBlock {
            block_elems: block_bytes,
        });
    };
    let mut out = Vec::with_capacity(format::HEADER_LEN + data.len() / 2);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(&b32.to_be_bytes());
    for b in data.chunks(block) {
        let c = lz4_flex::block::compress(b);
        if c.len() >= b.len() {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(&(c.len() as u32).to_be_bytes());
            out.extend_from_slice(&c);
        }
    }
    Ok(out)
}
