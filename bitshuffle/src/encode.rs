//! The encoders: bitshuffle chunks and plain LZ4 filter chunks, as the HDF5 filters write them.

use crate::format::{self, Codec, Step};
use crate::{Element, Error};

/// Encodes with `shuffle` as the block transpose.
pub(crate) fn encode_with(
    codec: Codec,
    data: &[u8],
    elem_size: usize,
    block_elems: usize,
    shuffle: fn(&[u8], &mut [u8], usize),
) -> Result<Vec<u8>, Error> {
    format::check_elem_size(elem_size)?;
    if !data.len().is_multiple_of(elem_size) {
        return Err(Error::PartialElement {
            len: data.len(),
            elem_size,
        });
    }
    let block = if block_elems == 0 {
        format::default_block_elems(elem_size)
    } else {
        block_elems
    };
    if !block.is_multiple_of(8)
        || block
            .checked_mul(elem_size)
            .is_none_or(|b| u32::try_from(b).is_err())
    {
        return Err(Error::BadEncoderBlock { block_elems });
    }
    let n = data.len() / elem_size;
    let mut out = Vec::with_capacity(format::HEADER_LEN + data.len() / 2);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(&((block * elem_size) as u32).to_be_bytes());
    let mut shuffled = vec![0u8; block.min(n) * elem_size];
    let mut done = 0;
    loop {
        match format::step(n, block, done) {
            Step::Block(m) => {
                let src = &data[done * elem_size..(done + m) * elem_size];
                let dst = &mut shuffled[..m * elem_size];
                shuffle(src, dst, elem_size);
                let c = format::compress(codec, dst);
                out.extend_from_slice(&(c.len() as u32).to_be_bytes());
                out.extend_from_slice(&c);
                done += m;
            }
            Step::Tail(m) => {
                out.extend_from_slice(&data[done * elem_size..(done + m) * elem_size]);
                done += m;
            }
            Step::End => return Ok(out),
        }
    }
}

/// Encodes `data` as a bitshuffle chunk of `codec` blocks of `block_elems` elements (0: the
/// library default, [`default_block_elems`](crate::default_block_elems)), as the HDF5 filter
/// 32008 writes it. `data` holds `elem_size`-byte elements in memory order (little-endian
/// files on little-endian hosts).
///
/// Errors on an element size outside 1..=8, a length not a multiple of it, or a block size
/// not a multiple of 8 elements.
pub fn encode_bytes(
    codec: Codec,
    data: &[u8],
    elem_size: usize,
    block_elems: usize,
) -> Result<Vec<u8>, Error> {
    encode_with(
        codec,
        data,
        elem_size,
        block_elems,
        crate::scalar::transpose,
    )
}

/// Encodes typed pixels as a bitshuffle/LZ4 chunk (little-endian element bytes) with blocks
/// of `block_elems` elements (0: the library default). Errors only on a block size not a
/// multiple of 8.
pub fn encode<T: Element>(data: &[T], block_elems: usize) -> Result<Vec<u8>, Error> {
    let bytes = T::to_le_vec(data);
    encode_bytes(Codec::Lz4, &bytes, T::SIZE, block_elems)
}
