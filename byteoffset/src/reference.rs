//! The plain byte-offset loops: the test oracle for every fast path.
//!
//! A stream is one token per element holding the difference to the previous element (the
//! element before the first is 0):
//!
//! | delta                         | bytes                                   |
//! |-------------------------------|-----------------------------------------|
//! | −127 ..= 127                  | the delta as `i8`                       |
//! | −32 767 ..= 32 767            | `80`, the delta as little-endian `i16`  |
//! | −2 147 483 647 ..= 2 147 483 647 | `80 00 80`, the delta as `i32`       |
//! | otherwise                     | `80 00 80 00 00 00 80`, the delta as `i64` |
//!
//! The decoder accepts any escape for any delta (a non-canonical long form is valid).
//! Nothing here is optimised; the fast paths live in [`crate::decode_into`] and friends.

use crate::{Element, Error};

/// Appends the token of one delta to `out`, in cbflib's (and fabio's) canonical form.
pub(crate) fn push_token(out: &mut Vec<u8>, delta: i64) {
    if (-127..=127).contains(&delta) {
        out.push(delta as i8 as u8);
        return;
    }
    out.push(0x80);
    if (-32767..=32767).contains(&delta) {
        out.extend_from_slice(&(delta as i16).to_le_bytes());
        return;
    }
    out.extend_from_slice(&[0x00, 0x80]);
    if (-2_147_483_647..=2_147_483_647).contains(&delta) {
        out.extend_from_slice(&(delta as i32).to_le_bytes());
        return;
    }
    out.extend_from_slice(&[0x00, 0x00, 0x00, 0x80]);
    out.extend_from_slice(&delta.to_le_bytes());
}

/// Encodes `values`, taking differences modulo the element width (see [`Element`]).
pub fn encode<T: Element>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = T::default();
    for &v in values {
        push_token(&mut out, v.wrapping_delta(prev));
        prev = v;
    }
    out
}

/// Reads the token starting at `pos`; returns the delta and the token length.
pub(crate) fn read_token(input: &[u8], pos: usize) -> Result<(i64, usize), Error> {
    let truncated = |needed: usize| Error::TruncatedToken {
        offset: pos,
        needed,
        available: input.len() - pos,
    };
    let b = input[pos];
    if b != 0x80 {
        return Ok((i64::from(b as i8), 1));
    }
    let t = input.get(pos + 1..pos + 3).ok_or_else(|| truncated(3))?;
    let d16 = i16::from_le_bytes([t[0], t[1]]);
    if d16 != i16::MIN {
        return Ok((i64::from(d16), 3));
    }
    let t = input.get(pos + 3..pos + 7).ok_or_else(|| truncated(7))?;
    let d32 = i32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    if d32 != i32::MIN {
        return Ok((i64::from(d32), 7));
    }
    let t = input.get(pos + 7..pos + 15).ok_or_else(|| truncated(15))?;
    let mut b8 = [0u8; 8];
    b8.copy_from_slice(t);
    Ok((i64::from_le_bytes(b8), 15))
}

/// Decodes exactly `n` elements, adding each delta modulo the element width.
///
/// Errors when the input ends early ([`Error::TooFewElements`], [`Error::TruncatedToken`])
/// or holds bytes after the `n`-th element ([`Error::TrailingBytes`]).
pub fn decode_wrapping<T: Element>(input: &[u8], n: usize) -> Result<Vec<T>, Error> {
    // Every token is at least one byte: a count above the input length cannot be met, and
    // refusing it here keeps a hostile `n` from allocating.
    if n > input.len() {
        let mut pos = 0;
        let mut decoded = 0;
        while pos < input.len() {
            pos += read_token(input, pos)?.1;
            decoded += 1;
        }
        return Err(Error::TooFewElements {
            offset: input.len(),
            decoded,
            expected: n,
        });
    }
    let mut out = Vec::with_capacity(n);
    let mut pos = 0;
    let mut prev = T::default();
    for decoded in 0..n {
        if pos >= input.len() {
            return Err(Error::TooFewElements {
                offset: pos,
                decoded,
                expected: n,
            });
        }
        let (delta, len) = read_token(input, pos)?;
        pos += len;
        prev = prev.wrapping_add_delta(delta);
        out.push(prev);
    }
    if pos != input.len() {
        return Err(Error::TrailingBytes {
            offset: pos,
            remaining: input.len() - pos,
            expected: n,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_mixed_escapes() {
        let v: Vec<i64> = vec![
            0,
            127,
            -1,
            127,
            32767 + 127,
            0,
            i64::from(i32::MAX),
            0,
            1 << 40,
        ];
        let enc = encode(&v);
        assert_eq!(decode_wrapping::<i64>(&enc, v.len()).unwrap(), v);
    }

    #[test]
    fn token_lengths() {
        let len = |d: i64| {
            let mut o = Vec::new();
            push_token(&mut o, d);
            o.len()
        };
        assert_eq!(len(127), 1);
        assert_eq!(len(-127), 1);
        assert_eq!(len(-128), 3);
        assert_eq!(len(128), 3);
        assert_eq!(len(32767), 3);
        assert_eq!(len(-32767), 3);
        assert_eq!(len(-32768), 7);
        assert_eq!(len(2_147_483_647), 7);
        assert_eq!(len(-2_147_483_648), 15);
        assert_eq!(len(i64::MIN), 15);
    }

    #[test]
    fn known_bytes() {
        // 0, +1, +128 (16-bit escape), +32768 (32-bit escape), -2^31 (64-bit escape)
        let v: Vec<i64> = vec![0, 1, 129, 129 + 32768, 129 + 32768 - (1 << 31)];
        let enc = encode(&v);
        let expected: Vec<u8> = vec![
            0x00, 0x01, 0x80, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00,
            0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(enc, expected);
        assert_eq!(decode_wrapping::<i64>(&enc, v.len()).unwrap(), v);
    }

    #[test]
    fn wraps_at_element_width() {
        let v: Vec<i32> = vec![i32::MIN, i32::MAX, 0];
        let enc = encode(&v);
        // MIN from 0 is -2^31, outside the 32-bit escape's range: the 64-bit escape; MAX from
        // MIN wraps to -1; 0 from MAX is -(2^31 - 1), the 32-bit escape.
        assert_eq!(enc.len(), 15 + 1 + 7);
        assert_eq!(decode_wrapping::<i32>(&enc, 3).unwrap(), v);
        let u: Vec<u8> = vec![255, 0, 128, 127];
        let enc = encode(&u);
        assert_eq!(enc, vec![0xff, 0x01, 0x80, 0x80, 0xff, 0xff]);
        assert_eq!(decode_wrapping::<u8>(&enc, 4).unwrap(), u);
    }

    #[test]
    fn rejects_truncated_and_trailing() {
        assert_eq!(
            decode_wrapping::<i32>(&[0x01, 0x80, 0x00], 2),
            Err(Error::TruncatedToken {
                offset: 1,
                needed: 3,
                available: 2
            })
        );
        assert_eq!(
            decode_wrapping::<i32>(&[0x01, 0x02], 3),
            Err(Error::TooFewElements {
                offset: 2,
                decoded: 2,
                expected: 3
            })
        );
        assert_eq!(
            decode_wrapping::<i32>(&[0x01, 0x02, 0x03], 2),
            Err(Error::TrailingBytes {
                offset: 2,
                remaining: 1,
                expected: 2
            })
        );
        assert_eq!(
            decode_wrapping::<i32>(&[0x80, 0x00, 0x80, 0, 0, 0], 1),
            Err(Error::TruncatedToken {
                offset: 0,
                needed: 7,
                available: 6
            })
        );
        assert_eq!(decode_wrapping::<i32>(&[], 0), Ok(vec![]));
        assert!(decode_wrapping::<i32>(&[1], usize::MAX).is_err());
    }
}
