//! The fast encoder: eight 1-byte deltas written as one 64-bit word when all eight fit.

use crate::simd::{Path, active_path};
use crate::{Element, Error};

/// Worst-case encoded size in bytes of `n` elements of `elem_size` bytes each (saturating).
///
/// Deltas wrap at the element width, so 8-bit data needs at most the 16-bit escape (3 bytes a
/// pixel), 16-bit data the 32-bit escape (7 bytes), and 32- or 64-bit data the 64-bit escape
/// (15 bytes). Other element sizes get the 15-byte bound.
pub fn max_encoded_len(n: usize, elem_size: usize) -> usize {
    let per = match elem_size {
        1 => 3,
        2 => 7,
        _ => 15,
    };
    n.saturating_mul(per)
}

/// Size in bytes of the token of `delta`.
#[inline(always)]
fn token_len(delta: i64) -> usize {
    if (-127..=127).contains(&delta) {
        1
    } else if (-32767..=32767).contains(&delta) {
        3
    } else if (-2_147_483_647..=2_147_483_647).contains(&delta) {
        7
    } else {
        15
    }
}

/// Exact encoded size in bytes of `values`.
pub fn encoded_len<T: Element>(values: &[T]) -> usize {
    let mut prev = T::default();
    let mut len = 0usize;
    for &v in values {
        len += token_len(v.wrapping_delta(prev));
        prev = v;
    }
    len
}

/// Encodes `values` into `out`, returning the number of bytes written.
///
/// Errors with [`Error::OutputTooSmall`] (carrying the exact size needed) when `out` is too
/// short; [`max_encoded_len`] is always enough. The output is byte-identical to
/// [`crate::reference::encode`].
pub fn encode_into<T: Element>(values: &[T], out: &mut [u8]) -> Result<usize, Error> {
    encode_fill(active_path(), values, out).ok_or_else(|| Error::OutputTooSmall {
        needed: encoded_len(values),
        actual: out.len(),
    })
}

/// Encodes into `out`; `None` when it is too short. Returns the bytes written.
fn encode_fill<T: Element>(path: Path, values: &[T], out: &mut [u8]) -> Option<usize> {
    if let Some(v) = T::as_i32s(values) {
        return crate::simd::encode_i32(path, v, out);
    }
    let mut o = 0usize;
    let mut prev = T::default();
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        let mut d = [0i64; 8];
        let mut p = prev;
        for (dj, &v) in d.iter_mut().zip(c) {
            *dj = v.wrapping_delta(p);
            p = v;
        }
        let small = d.iter().all(|&x| (-127..=127).contains(&x));
        match out.get_mut(o..o + 8) {
            Some(dst) if small => {
                let mut w = [0u8; 8];
                for (b, &x) in w.iter_mut().zip(&d) {
                    *b = x as u8;
                }
                dst.copy_from_slice(&w);
                o += 8;
            }
            _ => {
                for &x in &d {
                    o += write_token(out, o, x)?;
                }
            }
        }
        prev = p;
    }
    for &v in chunks.remainder() {
        o += write_token(out, o, v.wrapping_delta(prev))?;
        prev = v;
    }
    Some(o)
}

/// Writes the token of `delta` at `out[o..]`; `None` when it does not fit.
#[inline(always)]
pub(crate) fn write_token(out: &mut [u8], o: usize, delta: i64) -> Option<usize> {
    if (-127..=127).contains(&delta) {
        *out.get_mut(o)? = delta as u8;
        Some(1)
    } else {
        write_escape(out, o, delta)
    }
}

/// Writes a multi-byte token (kept out of line: escapes are rare).
#[inline(never)]
fn write_escape(out: &mut [u8], o: usize, delta: i64) -> Option<usize> {
    let mut t = [0u8; 15];
    let len = if (-32767..=32767).contains(&delta) {
        t[0] = 0x80;
        t[1..3].copy_from_slice(&(delta as i16).to_le_bytes());
        3
    } else if (-2_147_483_647..=2_147_483_647).contains(&delta) {
        t[..3].copy_from_slice(&[0x80, 0x00, 0x80]);
        t[3..7].copy_from_slice(&(delta as i32).to_le_bytes());
        7
    } else {
        t[..7].copy_from_slice(&[0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80]);
        t[7..].copy_from_slice(&delta.to_le_bytes());
        15
    };
    out.get_mut(o..o + len)?.copy_from_slice(&t[..len]);
    Some(len)
}

/// Encodes `values` into a new vector (byte-identical to [`crate::reference::encode`]).
pub fn encode<T: Element>(values: &[T]) -> Vec<u8> {
    encode_with(active_path(), values)
}

/// As [`encode`] on a chosen path (32-bit data has an AVX2 encoder; other types and paths
/// run the portable encoder).
pub fn encode_with<T: Element>(path: Path, values: &[T]) -> Vec<u8> {
    // One byte a pixel plus slack covers typical frames in one pass; otherwise size exactly
    // and encode again (cheaper than zeroing a worst-case buffer).
    let mut out = vec![0u8; values.len() + values.len() / 16 + 64];
    let len = match encode_fill(path, values, &mut out) {
        Some(len) => len,
        None => {
            let needed = encoded_len(values);
            out.resize(needed, 0);
            encode_fill(path, values, &mut out).unwrap_or(needed)
        }
    };
    out.truncate(len);
    out
}
