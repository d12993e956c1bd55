//! The fast decoders: a whole chunk into a caller's slice, allocating, and block by block.

use crate::format::{self, Codec, Step};
use crate::simd::{self, Path};
use crate::{Element, Error};

/// Decodes a bitshuffle chunk of `elem_size`-byte elements into `out`, whose length is the
/// expected uncompressed size (checked against the header before anything is decoded), on
/// `path`. The bytes land in chunk order (little-endian elements for HDF5 files of
/// little-endian hosts). On error, `out` holds unspecified bytes.
pub fn decode_bytes_into_with(
    path: Path,
    codec: Codec,
    chunk: &[u8],
    elem_size: usize,
    out: &mut [u8],
) -> Result<(), Error> {
    let mut walk = Walk::new(codec, chunk, elem_size, out.len())?;
    let mut scratch = vec![0u8; walk.scratch_len()];
    while let Some((first, len)) = walk.next(path, &mut scratch, |first, len| {
        &mut out[first * elem_size..(first + len) * elem_size]
    })? {
        let _ = (first, len);
    }
    Ok(())
}

/// Decodes a bitshuffle/LZ4 chunk of `T` pixels into `out` (exactly `out.len()` pixels, the
/// header must say so) on the [`active_path`](crate::active_path).
///
/// Errors on a damaged chunk ([`Error::Truncated`], [`Error::Lz4`], [`Error::BlockLength`],
/// [`Error::TrailingBytes`], [`Error::BadBlockSize`], [`Error::TruncatedHeader`]) or one of
/// another size ([`Error::SizeMismatch`]). On error, `out` holds unspecified values.
pub fn decode_into<T: Element>(chunk: &[u8], out: &mut [T]) -> Result<(), Error> {
    decode_into_with(simd::active_path(), Codec::Lz4, chunk, out)
}

/// As [`decode_into`] with a chosen path and block codec.
pub fn decode_into_with<T: Element>(
    path: Path,
    codec: Codec,
    chunk: &[u8],
    out: &mut [T],
) -> Result<(), Error> {
    decode_bytes_into_with(path, codec, chunk, T::SIZE, bytemuck::cast_slice_mut(out))?;
    T::from_le_in_place(out);
    Ok(())
}

/// Decodes a bitshuffle/LZ4 chunk of exactly `n` pixels into a new vector (see
/// [`decode_into`]). The header is checked against `n` before anything is allocated.
pub fn decode<T: Element>(chunk: &[u8], n: usize) -> Result<Vec<T>, Error> {
    let expected = n.checked_mul(T::SIZE).ok_or(Error::SizeMismatch {
        total_bytes: format::read_header(chunk)?.total_bytes,
        expected_bytes: u64::MAX,
    })?;
    format::check_header(chunk, T::SIZE, expected)?;
    let mut out = vec![T::default(); n];
    decode_into(chunk, &mut out)?;
    Ok(out)
}

/// The walk over a chunk's blocks shared by the decoders.
struct Walk<'a> {
    codec: Codec,
    chunk: &'a [u8],
    s: usize,
    n: usize,
    block: usize,
    done: usize,
    pos: usize,
    finished: bool,
}

impl<'a> Walk<'a> {
    fn new(codec: Codec, chunk: &'a [u8], s: usize, expected_bytes: usize) -> Result<Self, Error> {
        format::check_elem_size(s)?;
        if !expected_bytes.is_multiple_of(s) {
            return Err(Error::PartialElement {
                len: expected_bytes,
                elem_size: s,
            });
        }
        let block = format::check_header(chunk, s, expected_bytes)?;
        Ok(Walk {
            codec,
            chunk,
            s,
            n: expected_bytes / s,
            block,
            done: 0,
            pos: format::HEADER_LEN,
            finished: false,
        })
    }

    /// Bytes of the bit-shuffled scratch buffer (bounded by the caller's expected size).
    fn scratch_len(&self) -> usize {
        self.block.min(self.n) * self.s
    }

    /// Decodes the next block (or the raw tail) into the slice `dst(first, len)` returns;
    /// `None` at the end once the chunk is checked for trailing bytes.
    fn next<'o>(
        &mut self,
        path: Path,
        scratch: &mut [u8],
        dst: impl FnOnce(usize, usize) -> &'o mut [u8],
    ) -> Result<Option<(usize, usize)>, Error> {
        if self.finished {
            return Ok(None);
        }
        let first = self.done;
        match format::step(self.n, self.block, self.done) {
            Step::Block(m) => {
                let r = format::block_range(self.chunk, self.pos)?;
                let sh = &mut scratch[..m * self.s];
                format::decompress(self.codec, &self.chunk[r.clone()], r.start, sh)?;
                simd::untranspose(path, sh, dst(first, m), self.s);
                self.pos = r.end;
                self.done += m;
                Ok(Some((first, m)))
            }
            Step::Tail(m) => {
                let need = m * self.s;
                let Some(t) = self.chunk.get(self.pos..self.pos + need) else {
                    return Err(Error::Truncated {
                        offset: self.pos,
                        needed: need as u64,
                        available: self.chunk.len() - self.pos,
                    });
                };
                dst(first, m).copy_from_slice(t);
                self.pos += need;
                self.done += m;
                Ok(Some((first, m)))
            }
            Step::End => {
                self.finished = true;
                if self.pos != self.chunk.len() {
                    return Err(Error::TrailingBytes {
                        offset: self.pos,
                        remaining: self.chunk.len() - self.pos,
                    });
                }
                Ok(None)
            }
        }
    }
}

/// How [`BlockDecoder`] turns a chunk's elements into `i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pixel {
    /// `u8`: the value (255 stays 255).
    U8,
    /// `u16`: the value; `0xFFFF` (Eiger's invalid-pixel marker) becomes -1.
    U16,
    /// `i16`: the value.
    I16,
    /// `u32`: the value; `0xFFFF_FFFF` (Eiger's invalid-pixel marker) becomes -1, any other
    /// value above `i32::MAX` is [`Error::ValueOutOfRange`] naming the pixel.
    U32,
    /// `i32`: the value.
    I32,
}

impl Pixel {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Pixel::U8 => 1,
            Pixel::U16 | Pixel::I16 => 2,
            Pixel::U32 | Pixel::I32 => 4,
        }
    }

    /// Converts `src` (little-endian elements of pixels from `first`; 8-byte aligned, from
    /// a `u64` buffer) into `dst`. Branch-free loops the compiler vectorizes.
    fn convert(self, first: usize, src: &[u8], dst: &mut [i32]) -> Result<(), Error> {
        match self {
            Pixel::U8 => dst
                .iter_mut()
                .zip(src)
                .for_each(|(d, &v)| *d = i32::from(v)),
            Pixel::U16 => {
                let src: &[u16] = bytemuck::cast_slice(src);
                for (d, &v) in dst.iter_mut().zip(src) {
                    let v = u16::from_le(v);
                    // 0xFFFF -> -1: subtract 0x10000 from it only.
                    *d = i32::from(v) - (i32::from(v == u16::MAX) << 16);
                }
            }
            Pixel::I16 => {
                let src: &[u16] = bytemuck::cast_slice(src);
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = i32::from(u16::from_le(v) as i16);
                }
            }
            Pixel::U32 => {
                let src: &[u32] = bytemuck::cast_slice(src);
                // Valid: 0..=i32::MAX, and u32::MAX (-1 as a bit pattern): v + 1 <= 2^31.
                let bad = src.iter().fold(false, |b, &v| {
                    b | (u32::from_le(v).wrapping_add(1) > 0x8000_0000)
                });
                if bad {
                    let i = src
                        .iter()
                        .position(|&v| u32::from_le(v).wrapping_add(1) > 0x8000_0000)
                        .unwrap_or(0);
                    return Err(Error::ValueOutOfRange {
                        index: first + i,
                        value: u64::from(u32::from_le(src[i])),
                    });
                }
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = u32::from_le(v) as i32;
                }
            }
            Pixel::I32 => {
                let src: &[u32] = bytemuck::cast_slice(src);
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = u32::from_le(v) as i32;
                }
            }
        }
        Ok(())
    }
}

/// A bitshuffle chunk of exactly `n` pixels decoded block by block into `i32`, on demand:
/// for fused consumption (decode a block while it is in cache, never the whole frame).
///
/// Each call hands out at most one bitshuffle block (8192 bytes by default), so pass a buffer
/// of at least that many pixels to get whole blocks. Memory held: two buffers of one block.
///
/// ```
/// let pixels: Vec<u32> = vec![5, 6, 7, 1000, u32::MAX, 3, 2, 1, 0, 9];
/// let chunk = bitshuffle::encode(&pixels, 0)?;
/// let mut dec = bitshuffle::BlockDecoder::new(&chunk, bitshuffle::Pixel::U32, pixels.len())?;
/// let mut block = [0i32; 4];
/// let mut out = Vec::new();
/// while let Some((first, len)) = dec.next_block(&mut block)? {
///     assert_eq!(first, out.len());
///     out.extend_from_slice(&block[..len]);
/// }
/// assert_eq!(out, [5, 6, 7, 1000, -1, 3, 2, 1, 0, 9]);
/// # Ok::<(), bitshuffle::Error>(())
/// ```
pub struct BlockDecoder<'a> {
    walk: Walk<'a>,
    path: Path,
    pixel: Pixel,
    scratch: Vec<u8>,
    /// Decoded element bytes, in a `u64` buffer so that 16- and 32-bit views are aligned.
    plain: Vec<u64>,
    /// Range of decoded elements in `plain` not handed out yet, and the index of the first.
    have: core::ops::Range<usize>,
    first: usize,
    failed: bool,
}

impl<'a> BlockDecoder<'a> {
    /// A bitshuffle/LZ4 decoder on the [`active_path`](crate::active_path). Checks the header
    /// against `n` pixels of `pixel` at once, before allocating.
    pub fn new(chunk: &'a [u8], pixel: Pixel, n: usize) -> Result<Self, Error> {
        Self::with(simd::active_path(), Codec::Lz4, chunk, pixel, n)
    }

    /// As [`BlockDecoder::new`] with a chosen path and block codec.
    pub fn with(
        path: Path,
        codec: Codec,
        chunk: &'a [u8],
        pixel: Pixel,
        n: usize,
    ) -> Result<Self, Error> {
        let s = pixel.size();
        let bytes = n.checked_mul(s).ok_or(Error::SizeMismatch {
            total_bytes: format::read_header(chunk)?.total_bytes,
            expected_bytes: u64::MAX,
        })?;
        let walk = Walk::new(codec, chunk, s, bytes)?;
        let len = walk.scratch_len();
        Ok(BlockDecoder {
            walk,
            path,
            pixel,
            scratch: vec![0; len],
            plain: vec![0; len.div_ceil(8)],
            have: 0..0,
            first: 0,
            failed: false,
        })
    }

    /// Decodes the next `min(block.len(), left in this bitshuffle block)` pixels into the
    /// start of `block` and returns `(index of the first, count)`; `None` once all pixels are
    /// handed out and the chunk ended exactly there. After an error it only returns `None`.
    pub fn next_block(&mut self, block: &mut [i32]) -> Result<Option<(usize, usize)>, Error> {
        if self.failed {
            return Ok(None);
        }
        let r = self.next_inner(block);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn next_inner(&mut self, block: &mut [i32]) -> Result<Option<(usize, usize)>, Error> {
        if self.have.is_empty() {
            let plain: &mut [u8] = bytemuck::cast_slice_mut(&mut self.plain);
            let s = self.walk.s;
            match self
                .walk
                .next(self.path, &mut self.scratch, |_, len| &mut plain[..len * s])?
            {
                None => return Ok(None),
                Some((first, len)) => {
                    self.first = first;
                    self.have = 0..len;
                }
            }
        }
        if block.is_empty() {
            return Err(Error::EmptyBlock);
        }
        let k = block.len().min(self.have.len());
        let s = self.walk.s;
        let i0 = self.have.start;
        let first = self.first + i0;
        let plain: &[u8] = bytemuck::cast_slice(&self.plain);
        self.pixel
            .convert(first, &plain[i0 * s..(i0 + k) * s], &mut block[..k])?;
        self.have.start += k;
        Ok(Some((first, k)))
    }
}

/// Decodes a bitshuffle/LZ4 chunk of `n` pixels into `i32` in blocks of at most
/// `block.len()` pixels, calling `visit(first pixel index, pixels)` for each (see
/// [`BlockDecoder`] for the conversion).
pub fn decode_visit(
    chunk: &[u8],
    pixel: Pixel,
    n: usize,
    block: &mut [i32],
    mut visit: impl FnMut(usize, &[i32]),
) -> Result<(), Error> {
    let mut dec = BlockDecoder::new(chunk, pixel, n)?;
    while let Some((first, len)) = dec.next_block(block)? {
        visit(first, &block[..len]);
    }
    Ok(())
}
