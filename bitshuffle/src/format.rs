//! The chunk header, the block codecs and the block layout both decoders walk.

use crate::Error;

/// Bytes of the chunk header: u64 big-endian uncompressed size, u32 big-endian block size.
pub const HEADER_LEN: usize = 12;

/// The bitshuffle library's target block size in bytes (`BSHUF_TARGET_BLOCK_SIZE_B`).
const TARGET_BLOCK_BYTES: usize = 8192;
/// The bitshuffle library's smallest default block (`BSHUF_MIN_RECOMMEND_BLOCK`), elements.
const MIN_DEFAULT_BLOCK: usize = 128;

/// The compression inside each bitshuffled block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// LZ4 raw blocks (`cd_values[4] = 2`, what DECTRIS and LIMA write).
    Lz4,
    /// zstd frames (`cd_values[4] = 3`); feature `zstd`.
    #[cfg(feature = "zstd")]
    Zstd,
}

/// The 12-byte header of a bitshuffle/LZ4 (or LZ4 filter) chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Uncompressed size of the chunk in bytes.
    pub total_bytes: u64,
    /// Block size in bytes (bitshuffle: block elements × element size).
    pub block_bytes: u32,
}

/// Reads the 12-byte header of `chunk` (no other check).
pub fn read_header(chunk: &[u8]) -> Result<Header, Error> {
    let Some(h) = chunk.get(..HEADER_LEN) else {
        return Err(Error::TruncatedHeader {
            available: chunk.len(),
        });
    };
    let mut total = [0u8; 8];
    total.copy_from_slice(&h[..8]);
    let mut block = [0u8; 4];
    block.copy_from_slice(&h[8..]);
    Ok(Header {
        total_bytes: u64::from_be_bytes(total),
        block_bytes: u32::from_be_bytes(block),
    })
}

/// The block size, in elements, the bitshuffle library picks when asked for 0 (the HDF5
/// filter's default): 8192 bytes of elements rounded down to a multiple of 8, at least 128.
pub fn default_block_elems(elem_size: usize) -> usize {
    let b = TARGET_BLOCK_BYTES / elem_size.max(1) / 8 * 8;
    b.max(MIN_DEFAULT_BLOCK)
}

pub(crate) fn check_elem_size(elem_size: usize) -> Result<(), Error> {
    if (1..=8).contains(&elem_size) {
        Ok(())
    } else {
        Err(Error::UnsupportedElementSize { elem_size })
    }
}

/// Checks the header of a bitshuffle chunk against the caller's `expected_bytes` and returns
/// the block size in elements. The element size must be checked already.
pub(crate) fn check_header(
    chunk: &[u8],
    elem_size: usize,
    expected_bytes: usize,
) -> Result<usize, Error> {
    let h = read_header(chunk)?;
    if h.total_bytes != expected_bytes as u64 {
        return Err(Error::SizeMismatch {
            total_bytes: h.total_bytes,
            expected_bytes: expected_bytes as u64,
        });
    }
    let b = h.block_bytes as usize;
    if b == 0 || !b.is_multiple_of(8 * elem_size) {
        return Err(Error::BadBlockSize {
            block_bytes: h.block_bytes,
            elem_size,
        });
    }
    Ok(b / elem_size)
}

/// Reads the u32 big-endian compressed size at `pos` and returns the compressed data's range.
pub(crate) fn block_range(chunk: &[u8], pos: usize) -> Result<core::ops::Range<usize>, Error> {
    let Some(f) = chunk.get(pos..pos.saturating_add(4)) else {
        return Err(Error::Truncated {
            offset: pos,
            needed: 4,
            available: chunk.len().saturating_sub(pos),
        });
    };
    let c = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
    let start = pos + 4;
    let available = chunk.len() - start;
    if c as usize > available {
        return Err(Error::Truncated {
            offset: start,
            needed: u64::from(c),
            available,
        });
    }
    Ok(start..start + c as usize)
}

/// Decompresses `src` (starting at chunk byte `offset`) into exactly `dst.len()` bytes.
pub(crate) fn decompress(
    codec: Codec,
    src: &[u8],
    offset: usize,
    dst: &mut [u8],
) -> Result<(), Error> {
    let got = match codec {
        Codec::Lz4 => {
            lz4_flex::block::decompress_into(src, dst).map_err(|_| Error::Lz4 { offset })?
        }
        #[cfg(feature = "zstd")]
        Codec::Zstd => ruzstd::decoding::FrameDecoder::new()
            .decode_all(src, dst)
            .map_err(|_| Error::Zstd { offset })?,
    };
    if got != dst.len() {
        return Err(Error::BlockLength {
            offset,
            expected: dst.len(),
            actual: got,
        });
    }
    Ok(())
}

/// Compresses one block.
pub(crate) fn compress(codec: Codec, src: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Lz4 => lz4_flex::block::compress(src),
        #[cfg(feature = "zstd")]
        Codec::Zstd => {
            ruzstd::encoding::compress_to_vec(src, ruzstd::encoding::CompressionLevel::Fastest)
        }
    }
}

/// One step of a chunk of `n` elements in blocks of `block` elements, from element `done`:
/// a compressed block of `elems` elements, or the raw tail (fewer than 8 elements).
pub(crate) enum Step {
    Block(usize),
    Tail(usize),
    End,
}

pub(crate) fn step(n: usize, block: usize, done: usize) -> Step {
    let left = n - done;
    if left >= block {
        Step::Block(block)
    } else if left >= 8 {
        Step::Block(left / 8 * 8)
    } else if left > 0 {
        Step::Tail(left)
    } else {
        Step::End
    }
}
