//! The fast portable decoder: eight 1-byte deltas at a time when a 64-bit word holds no
//! `0x80` escape byte, one token at a time otherwise. Also the finishing loop of every SIMD
//! path (their last few tokens, and any error, are handled here).

use crate::Error;
use crate::reference::read_token;

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is `0x80`.
#[inline(always)]
fn has_escape(w: u64) -> bool {
    let x = w ^ HIGH; // 0x80 bytes become zero bytes
    x.wrapping_sub(LOW) & !x & HIGH != 0
}

/// Decodes `out.len()` elements into 32-bit lanes (deltas wrap at 32 bits), starting at byte
/// `pos` of `input` after a previous value `prev`. Returns the byte position after the last
/// token and the last value.
///
/// Errors: [`Error::TruncatedToken`], or [`Error::TooFewElements`] whose `decoded` counts the
/// elements decoded by this call.
pub(crate) fn decode_resume(
    input: &[u8],
    mut pos: usize,
    mut prev: i32,
    out: &mut [i32],
) -> Result<(usize, i32), Error> {
    let n = out.len();
    let mut i = 0;
    while i < n {
        if i + 8 <= n
            && let Some(chunk) = input.get(pos..pos + 8)
        {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if !has_escape(w) {
                let o: &mut [i32; 8] = (&mut out[i..i + 8]).try_into().expect("8 lanes");
                let b = w.to_le_bytes();
                // Two independent half-chains shorten the serial dependency.
                let p0 = prev.wrapping_add(i32::from(b[0] as i8));
                let p1 = p0.wrapping_add(i32::from(b[1] as i8));
                let p2 = p1.wrapping_add(i32::from(b[2] as i8));
                let p3 = p2.wrapping_add(i32::from(b[3] as i8));
                let s4 = i32::from(b[4] as i8);
                let s5 = s4 + i32::from(b[5] as i8);
                let s6 = s5 + i32::from(b[6] as i8);
                let s7 = s6 + i32::from(b[7] as i8);
                *o = [
                    p0,
                    p1,
                    p2,
                    p3,
                    p3.wrapping_add(s4),
                    p3.wrapping_add(s5),
                    p3.wrapping_add(s6),
                    p3.wrapping_add(s7),
                ];
                prev = o[7];
                pos += 8;
                i += 8;
                continue;
            }
        }
        if pos >= input.len() {
            return Err(Error::TooFewElements {
                offset: pos,
                decoded: i,
                expected: n,
            });
        }
        let (delta, len) = read_token(input, pos)?;
        pos += len;
        prev = prev.wrapping_add(delta as i32);
        out[i] = prev;
        i += 1;
    }
    Ok((pos, prev))
}

/// As [`decode_resume`] with 64-bit accumulation (no wrap below 64 bits).
pub(crate) fn decode_resume_i64(
    input: &[u8],
    mut pos: usize,
    mut prev: i64,
    out: &mut [i64],
) -> Result<(usize, i64), Error> {
    let n = out.len();
    let mut i = 0;
    while i < n {
        if i + 8 <= n
            && let Some(chunk) = input.get(pos..pos + 8)
        {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if !has_escape(w) {
                let o: &mut [i64; 8] = (&mut out[i..i + 8]).try_into().expect("8 lanes");
                for (slot, b) in o.iter_mut().zip(w.to_le_bytes()) {
                    prev = prev.wrapping_add(i64::from(b as i8));
                    *slot = prev;
                }
                pos += 8;
                i += 8;
                continue;
            }
        }
        if pos >= input.len() {
            return Err(Error::TooFewElements {
                offset: pos,
                decoded: i,
                expected: n,
            });
        }
        let (delta, len) = read_token(input, pos)?;
        pos += len;
        prev = prev.wrapping_add(delta);
        out[i] = prev;
        i += 1;
    }
    Ok((pos, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_detection() {
        assert!(!has_escape(0));
        assert!(!has_escape(0x7f7f_7f7f_7f7f_7f7f));
        assert!(!has_escape(0x8181_8181_8181_8181));
        assert!(!has_escape(0xffff_ffff_ffff_ffff));
        for k in 0..8 {
            assert!(has_escape(0x80 << (8 * k)));
            assert!(has_escape(
                (0x80 << (8 * k)) | (0x0101_0101_0101_0101 & !(0xff << (8 * k)))
            ));
            assert!(has_escape(
                (0x80 << (8 * k)) | 0x7f7f_7f7f_7f7f_7f7f & !(0xff << (8 * k))
            ));
        }
    }
}
