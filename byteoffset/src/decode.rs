//! The public decoders: exact element count into a caller's slice, allocating, and visiting.

use crate::reference::read_token;
use crate::simd::{self, Path};
use crate::{Error, scalar};

mod sealed {
    pub trait Sealed {}
}

/// Pixel types [`decode_into`] can write: `i32`, `u32` (bit patterns of the 32-bit wrapping
/// decode), `i16`, `u16` (the 32-bit decode, checked: a value out of range is
/// [`Error::Overflow`]), `f32` (the 32-bit decode converted, as fed to integration) and `i64`
/// (accumulated at 64 bits: exact for 64-bit data; portable path only).
///
/// Sealed.
pub trait Output: Copy + Default + Send + Sync + 'static + sealed::Sealed {
    /// Type name, for messages.
    const NAME: &'static str;
    #[doc(hidden)]
    fn decode_on(path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error>;
}

/// Checks that the whole input was used after decoding `expected` elements ending at `pos`.
fn check_end(input: &[u8], pos: usize, expected: usize) -> Result<(), Error> {
    if pos == input.len() {
        Ok(())
    } else {
        Err(Error::TrailingBytes {
            offset: pos,
            remaining: input.len() - pos,
            expected,
        })
    }
}

/// The error of a stream holding fewer than `expected` (> input.len()) tokens.
fn short_stream_error(input: &[u8], expected: usize) -> Error {
    let mut pos = 0;
    let mut decoded = 0;
    while pos < input.len() {
        match read_token(input, pos) {
            Ok((_, len)) => pos += len,
            Err(e) => return e,
        }
        decoded += 1;
    }
    Error::TooFewElements {
        offset: pos,
        decoded,
        expected,
    }
}

/// Raises the element count of a `TooFewElements` error raised for a block starting at
/// element `first` of an `expected`-element frame.
fn at_block(e: Error, first: usize, expected: usize) -> Error {
    match e {
        Error::TooFewElements {
            offset, decoded, ..
        } => Error::TooFewElements {
            offset,
            decoded: decoded + first,
            expected,
        },
        e => e,
    }
}

fn decode_i32_on(path: Path, input: &[u8], out: &mut [i32]) -> Result<(), Error> {
    if out.len() > input.len() {
        return Err(short_stream_error(input, out.len()));
    }
    let (pos, _) = simd::decode_resume(path, input, 0, 0, out)?;
    check_end(input, pos, out.len())
}

impl sealed::Sealed for i32 {}
impl Output for i32 {
    const NAME: &'static str = "i32";
    fn decode_on(path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error> {
        decode_i32_on(path, input, out)
    }
}

impl sealed::Sealed for u32 {}
impl Output for u32 {
    const NAME: &'static str = "u32";
    fn decode_on(path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error> {
        decode_i32_on(path, input, bytemuck::cast_slice_mut(out))
    }
}

impl sealed::Sealed for i64 {}
impl Output for i64 {
    const NAME: &'static str = "i64";
    fn decode_on(_path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error> {
        if out.len() > input.len() {
            return Err(short_stream_error(input, out.len()));
        }
        let (pos, _) = scalar::decode_resume_i64(input, 0, 0, out)?;
        check_end(input, pos, out.len())
    }
}

/// Pixels per block when converting through a 32-bit buffer (16 KiB: stays in L1).
const CONVERT_BLOCK: usize = 4096;

/// Decodes through a 32-bit block buffer, converting each block with `convert`
/// (`(first index, block, destination)`). A conversion error is returned only once the whole
/// stream has decoded without error: errors of the stream itself come first.
fn decode_converting<T>(
    path: Path,
    input: &[u8],
    out: &mut [T],
    mut convert: impl FnMut(usize, &[i32], &mut [T]) -> Result<(), Error>,
) -> Result<(), Error> {
    let n = out.len();
    if n > input.len() {
        return Err(short_stream_error(input, n));
    }
    let mut block = [0i32; CONVERT_BLOCK];
    let mut pos = 0;
    let mut prev = 0;
    let mut converted = Ok(());
    for (k, dst) in out.chunks_mut(CONVERT_BLOCK).enumerate() {
        let first = k * CONVERT_BLOCK;
        let b = &mut block[..dst.len()];
        (pos, prev) =
            simd::decode_resume(path, input, pos, prev, b).map_err(|e| at_block(e, first, n))?;
        if converted.is_ok() {
            converted = convert(first, b, dst);
        }
    }
    check_end(input, pos, n)?;
    converted
}

macro_rules! narrow {
    ($t:ty) => {
        impl sealed::Sealed for $t {}
        impl Output for $t {
            const NAME: &'static str = stringify!($t);
            fn decode_on(path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error> {
                decode_converting(path, input, out, |first, src, dst| {
                    let lo = i32::from(<$t>::MIN);
                    let hi = i32::from(<$t>::MAX);
                    if let Some(j) = src.iter().position(|&v| v < lo || v > hi) {
                        return Err(Error::Overflow {
                            index: first + j,
                            value: i64::from(src[j]),
                            target: stringify!($t),
                        });
                    }
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = s as $t;
                    }
                    Ok(())
                })
            }
        }
    };
}

narrow!(i16);
narrow!(u16);

impl sealed::Sealed for f32 {}
impl Output for f32 {
    const NAME: &'static str = "f32";
    fn decode_on(path: Path, input: &[u8], out: &mut [Self]) -> Result<(), Error> {
        if out.len() > input.len() {
            return Err(short_stream_error(input, out.len()));
        }
        if let Some(r) = simd::decode_f32(path, input, out) {
            return check_end(input, r?, out.len());
        }
        decode_converting(path, input, out, |_, src, dst| {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s as f32;
            }
            Ok(())
        })
    }
}

/// Decodes exactly `out.len()` elements of `input` into `out` on the [`active_path`](crate::active_path).
///
/// Errors when the input holds fewer elements ([`Error::TooFewElements`],
/// [`Error::TruncatedToken`]) or more bytes ([`Error::TrailingBytes`]) than that, or when a
/// value does not fit a narrow output ([`Error::Overflow`], reported only for an otherwise
/// valid stream). On error, `out` holds unspecified values.
pub fn decode_into<T: Output>(input: &[u8], out: &mut [T]) -> Result<(), Error> {
    T::decode_on(simd::active_path(), input, out)
}

/// As [`decode_into`] on a chosen path; a path this CPU lacks runs [`Path::Scalar`].
pub fn decode_into_with<T: Output>(path: Path, input: &[u8], out: &mut [T]) -> Result<(), Error> {
    T::decode_on(path, input, out)
}

/// Decodes exactly `n` elements into a new vector (see [`decode_into`]).
///
/// A count larger than the input's length (every token is at least one byte) is refused
/// before anything is allocated.
pub fn decode<T: Output>(input: &[u8], n: usize) -> Result<Vec<T>, Error> {
    if n > input.len() {
        return Err(short_stream_error(input, n));
    }
    let mut out = vec![T::default(); n];
    decode_into(input, &mut out)?;
    Ok(out)
}

/// Decodes exactly `n` 32-bit elements in blocks of `block.len()` pixels (the last block may
/// be shorter), calling `visit(first pixel index, pixels)` for each block in order.
///
/// The whole frame never exists in memory: pick a block that stays in L1/L2 (a few thousand
/// pixels). Errors as [`decode_into`], plus [`Error::EmptyBlock`] for an empty `block` when
/// `n > 0`. On error, the blocks before the failing one have already been visited.
pub fn decode_visit(
    input: &[u8],
    n: usize,
    block: &mut [i32],
    visit: impl FnMut(usize, &[i32]),
) -> Result<(), Error> {
    decode_visit_with(simd::active_path(), input, n, block, visit)
}

/// As [`decode_visit`] on a chosen path; a path this CPU lacks runs [`Path::Scalar`].
pub fn decode_visit_with(
    path: Path,
    input: &[u8],
    n: usize,
    block: &mut [i32],
    mut visit: impl FnMut(usize, &[i32]),
) -> Result<(), Error> {
    let mut dec = BlockDecoder::with_path(path, input, n)?;
    if block.is_empty() && n > 0 {
        return Err(Error::EmptyBlock { expected: n });
    }
    while let Some((first, len)) = dec.next_block(block)? {
        visit(first, &block[..len]);
    }
    Ok(())
}

/// A byte-offset stream of exactly `n` 32-bit elements decoded block by block, on demand:
/// what [`decode_visit`] runs, for callers that interleave several streams (e.g. frames
/// summed together tile by tile).
///
/// ```
/// let stream = byteoffset::encode(&[5i32, 6, 7, 1000, -3]);
/// let mut dec = byteoffset::BlockDecoder::new(&stream, 5)?;
/// let mut block = [0i32; 2];
/// let mut out = Vec::new();
/// while let Some((first, len)) = dec.next_block(&mut block)? {
///     assert_eq!(first, out.len());
///     out.extend_from_slice(&block[..len]);
/// }
/// assert_eq!(out, [5, 6, 7, 1000, -3]);
/// # Ok::<(), byteoffset::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BlockDecoder<'a> {
    path: Path,
    input: &'a [u8],
    n: usize,
    pos: usize,
    prev: i32,
    first: usize,
    done: bool,
}

impl<'a> BlockDecoder<'a> {
    /// A decoder on the [`active_path`](crate::active_path). Errors at once when the input is
    /// too short for `n` elements.
    pub fn new(input: &'a [u8], n: usize) -> Result<Self, Error> {
        Self::with_path(simd::active_path(), input, n)
    }

    /// As [`BlockDecoder::new`] on a chosen path.
    pub fn with_path(path: Path, input: &'a [u8], n: usize) -> Result<Self, Error> {
        if n > input.len() {
            return Err(short_stream_error(input, n));
        }
        Ok(BlockDecoder {
            path,
            input,
            n,
            pos: 0,
            prev: 0,
            first: 0,
            done: false,
        })
    }

    /// Decodes the next `min(block.len(), remaining)` elements into the start of `block` and
    /// returns `(index of the first, count)`; `None` once all `n` are decoded and the stream
    /// ended exactly there. Errors as [`decode_into`] (and [`Error::EmptyBlock`] for an empty
    /// block while elements remain); after an error the decoder only returns `None`.
    pub fn next_block(&mut self, block: &mut [i32]) -> Result<Option<(usize, usize)>, Error> {
        if self.done {
            return Ok(None);
        }
        if self.first >= self.n {
            self.done = true;
            check_end(self.input, self.pos, self.n)?;
            return Ok(None);
        }
        if block.is_empty() {
            self.done = true;
            return Err(Error::EmptyBlock { expected: self.n });
        }
        let m = (self.n - self.first).min(block.len());
        let b = &mut block[..m];
        match simd::decode_resume(self.path, self.input, self.pos, self.prev, b) {
            Ok((pos, prev)) => {
                let first = self.first;
                (self.pos, self.prev) = (pos, prev);
                self.first += m;
                Ok(Some((first, m)))
            }
            Err(e) => {
                self.done = true;
                Err(at_block(e, self.first, self.n))
            }
        }
    }
}
