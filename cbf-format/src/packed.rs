//! Decoder for `x-CBF_PACKED` and `x-CBF_PACKED_V2`, the CCP4-style packing (J. P. Abrahams)
//! as cbflib defines it.
//!
//! Layout of the payload:
//! - 4 little-endian 64-bit words: number of elements, minimum, maximum, reserved (cbflib
//!   writes zeros for the last three and ignores them on reading; so do we).
//! - A bit stream read least-significant bit first. Each block starts with a header of 6 bits
//!   (V1) or 7 bits (V2): the low 3 bits `c` give `1 << c` offsets in the block, the high 3 (V1)
//!   or 4 (V2) bits give a size code that selects the bit width of every offset in the block:
//!   V1 `[0, 4, 5, 6, 7, 8, 16, 65]`, V2 `[0, 3, 4, ..., 16, 65]`. Offsets are signed (two's
//!   complement in their width). Width 65 means a full-width offset: with 2-D averaging it is
//!   read as the element width; without (`flat`), 65 bits are read and the low 32 used.
//! - Each element is `prediction + offset`, wrapping at the element width. Without averaging
//!   the prediction is the previous element. With averaging (the default whenever the MIME
//!   header gives dimensions), it is the mean of already decoded neighbours: left, and the
//!   three above (up-left, up, up-right) in the previous row, plus the same positions in the
//!   previous section unless `uncorrelated_sections`; cbflib's exact rules for the first row,
//!   the first and last column and its rounding are reproduced in [`predict`].

use crate::mime::PackedFlags;

/// An element type the packed decoder writes: at most 32 bits wide.
pub(crate) trait PackedElement: Copy + Default {
    /// Width in bits (8, 16 or 32).
    const BITS: u32;
    /// The element's bit pattern, zero-extended.
    fn to_bits(self) -> u32;
    /// The element with these low `BITS` bits.
    fn from_bits(bits: u32) -> Self;
}

macro_rules! packed_element {
    ($t:ty, $u:ty, $bits:expr) => {
        impl PackedElement for $t {
            const BITS: u32 = $bits;
            #[inline]
            fn to_bits(self) -> u32 {
                self as $u as u32
            }
            #[inline]
            fn from_bits(bits: u32) -> Self {
                bits as $u as $t
            }
        }
    };
}
packed_element!(i8, u8, 8);
packed_element!(u8, u8, 8);
packed_element!(i16, u16, 16);
packed_element!(u16, u16, 16);
packed_element!(i32, u32, 32);
packed_element!(u32, u32, 32);

/// Why a packed stream could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackedError {
    /// The stream ended after this many elements.
    Truncated(usize),
}

const V1_BITS: [u32; 8] = [0, 4, 5, 6, 7, 8, 16, 65];
const V2_BITS: [u32; 16] = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 65];

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    nbits: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            acc: 0,
            nbits: 0,
        }
    }

    /// Reads `n` ≤ 32 bits, least-significant first; `None` at the end of the data.
    #[inline]
    fn read(&mut self, n: u32) -> Option<u32> {
        debug_assert!(n <= 32);
        if self.nbits < n {
            self.refill();
            if self.nbits < n {
                return None;
            }
        }
        let v = (self.acc & ((1u64 << n) - 1)) as u32;
        self.acc >>= n;
        self.nbits -= n;
        Some(v)
    }

    /// Tops the accumulator up to at least 57 bits, or to the end of the data.
    #[inline]
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let take = (63 - self.nbits) / 8;
            let word = u64::from_le_bytes(w) & ((1u64 << (take * 8)) - 1);
            self.acc |= word << self.nbits;
            self.pos += take as usize;
            self.nbits += take * 8;
        } else {
            while self.nbits <= 56 {
                let Some(&b) = self.data.get(self.pos) else {
                    break;
                };
                self.pos += 1;
                self.acc |= u64::from(b) << self.nbits;
                self.nbits += 8;
            }
        }
    }

    /// Reads `n` ≤ 32 bits as a two's-complement signed value.
    #[inline]
    fn read_signed(&mut self, n: u32) -> Option<u32> {
        let v = self.read(n)?;
        if n == 0 || n == 32 {
            return Some(v);
        }
        let sign = 1u32 << (n - 1);
        Some(if v & sign != 0 {
            v | !((sign << 1) - 1)
        } else {
            v
        })
    }
}

/// Geometry and flags for the predictor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackedParams {
    /// `x-CBF_PACKED_V2`
    pub v2: bool,
    /// Flags from `Content-Type`.
    pub flags: PackedFlags,
    /// Whether the MIME header gave dimensions (cbflib averages only then).
    pub have_dims: bool,
    /// Fastest, middle and slowest dimension (1 where absent).
    pub dims: [usize; 3],
}

/// Decodes a packed payload into `out` (exactly `out.len()` elements).
pub(crate) fn decode<T: PackedElement>(
    payload: &[u8],
    params: PackedParams,
    out: &mut [T],
) -> Result<(), PackedError> {
    let n = out.len();
    if payload.len() < 32 {
        return Err(PackedError::Truncated(0));
    }
    let mut bits = BitReader::new(&payload[32..]);
    let avg = params.have_dims && !params.flags.flat;
    let [fdim, mdim, _] = params.dims;
    let mask: u32 = if T::BITS == 32 {
        u32::MAX
    } else {
        (1u32 << T::BITS) - 1
    };
    let header_bits = if params.v2 { 7 } else { 6 };
    let mut count = 0usize;
    let mut pos = Pos::new(fdim, mdim);
    // Prediction for the element at `count`, as a bit pattern of width T::BITS.
    let mut pred: u32 = 0;
    while count < n {
        let code = bits
            .read(header_bits)
            .ok_or(PackedError::Truncated(count))?;
        let mut pixels = 1usize << (code & 7);
        let size = (code >> 3) as usize;
        let mut width = if params.v2 {
            V2_BITS[size & 15]
        } else {
            V1_BITS[size & 7]
        };
        if avg && width == 65 {
            width = T::BITS;
        }
        pixels = pixels.min(n - count);
        for _ in 0..pixels {
            let offset = match width {
                0 => 0,
                65 => {
                    let low = bits.read(32).ok_or(PackedError::Truncated(count))?;
                    bits.read(32).ok_or(PackedError::Truncated(count))?;
                    bits.read(1).ok_or(PackedError::Truncated(count))?;
                    low
                }
                w => bits.read_signed(w).ok_or(PackedError::Truncated(count))?,
            };
            let value = pred.wrapping_add(offset) & mask;
            out[count] = T::from_bits(value);
            count += 1;
            pos.advance();
            if count < n {
                pred = if avg {
                    predict(out, count, pos, params.flags.uncorrelated_sections)
                } else {
                    value
                };
            }
        }
    }
    Ok(())
}

/// Coordinates (fast, mid, slow) of an element, advanced without divisions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pos {
    f: usize,
    m: usize,
    s: usize,
    fdim: usize,
    mdim: usize,
}

impl Pos {
    pub(crate) fn new(fdim: usize, mdim: usize) -> Self {
        Pos {
            f: 0,
            m: 0,
            s: 0,
            fdim: fdim.max(1),
            mdim: mdim.max(1),
        }
    }

    #[inline]
    pub(crate) fn advance(&mut self) {
        self.f += 1;
        if self.f == self.fdim {
            self.f = 0;
            self.m += 1;
            if self.m == self.mdim {
                self.m = 0;
                self.s += 1;
            }
        }
    }
}

/// cbflib's averaging prediction for element `idx` (≥ 1) from the elements before it.
///
/// Neighbours, with `*` the element to predict, in its own section and the previous one:
/// ```text
///   . 0 * .        . . 4 .
///   . 3 2 1        . 7 6 5
/// ```
/// (rows grow upwards here: 1–3 are in the previous row). Which are used:
/// - first row of a section: 0 only; for its first element, 4 only;
/// - other rows: first column 1, 2; last column 0, 2; otherwise 0–3;
///   plus, after the first section and unless sections are uncorrelated, the previous-section
///   twins of those (4 for 0, 5–7 for 1–3).
///
/// The sum of the `j` neighbours wraps at the element width and is read as signed; then
/// `(sum + j/2) >> s` with `s` = 1, 2, 0, 3 for `j/2` = 1, 2, 3, 4 (cbflib's table; `j` is 1, 2,
/// 4 or 8 in practice).
#[inline]
fn predict<T: PackedElement>(out: &[T], idx: usize, pos: Pos, uncorrelated: bool) -> u32 {
    let Pos {
        f,
        m,
        s,
        fdim,
        mdim,
    } = pos;
    debug_assert_eq!(idx, f + fdim * (m + mdim * s));
    let plane = fdim * mdim;
    // Element at a position before `idx`; a position at or after `idx` (only possible for a
    // fastest dimension of 1, where cbflib reads the not-yet-written output) counts as 0.
    let at = |i: usize| -> u32 { if i < idx { out[i].to_bits() } else { 0 } };
    let mut sum: u32 = 0;
    let mut j: u32 = 0;
    let mut add = |v: u32| {
        sum = sum.wrapping_add(v);
        j += 1;
    };
    if m > 0 {
        let (t0, t1, t2, t3) = (
            idx - 1,
            idx + 1 - fdim,
            idx - fdim,
            idx.checked_sub(fdim + 1),
        );
        let mut used: [Option<usize>; 4] = [None; 4];
        if f > 0 {
            used[0] = Some(t0);
            used[2] = Some(t2);
            if f != fdim - 1 {
                used[1] = Some(t1);
                used[3] = t3;
            }
        } else {
            used[1] = Some(t1);
            used[2] = Some(t2);
        }
        for t in used.iter().flatten() {
            add(at(*t));
        }
        if s > 0 && !uncorrelated {
            if used[0].is_some() {
                add(at(idx - plane));
            }
            for t in used[1..].iter().flatten() {
                add(at(*t - plane));
            }
        }
    } else if f == 0 {
        add(at(idx - plane));
    } else {
        add(at(idx - 1));
    }
    let bits = T::BITS;
    let signed_sum: i32 = if bits == 32 {
        sum as i32
    } else {
        let shift = 32 - bits;
        ((sum << shift) as i32) >> shift
    };
    let k = (j >> 1) as i32;
    let result = if k > 0 {
        const SHIFT: [u32; 4] = [1, 2, 0, 3];
        signed_sum.wrapping_add(k) >> SHIFT[(k - 1) as usize]
    } else {
        signed_sum
    };
    result as u32
}

/// Writes a packed (V1 or V2) stream, flat or averaged, for tests of the decoder: one block
/// per element with the narrowest width, which is a valid (if not the smallest) encoding.
#[cfg(test)]
pub(crate) fn encode_simple<T: PackedElement>(values: &[T], params: PackedParams) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    out.extend_from_slice(&[0u8; 24]);
    let mut acc: u128 = 0;
    let mut nbits = 0u32;
    let mut put = |v: u64, n: u32, out: &mut Vec<u8>| {
        let v = if n >= 64 {
            v as u128
        } else {
            (v as u128) & ((1u128 << n) - 1)
        };
        acc |= v << nbits;
        nbits += n;
        while nbits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            nbits -= 8;
        }
    };
    let avg = params.have_dims && !params.flags.flat;
    let mask: u32 = if T::BITS == 32 {
        u32::MAX
    } else {
        (1u32 << T::BITS) - 1
    };
    let table: &[u32] = if params.v2 { &V2_BITS } else { &V1_BITS };
    let mut pred = 0u32;
    let mut pos = Pos::new(params.dims[0], params.dims[1]);
    for (i, v) in values.iter().enumerate() {
        let diff = v.to_bits().wrapping_sub(pred) & mask;
        // Signed offset in the element width.
        let shift = 32 - T::BITS;
        let off = ((diff << shift) as i32) >> shift;
        let size = (0..table.len())
            .find(|&s| {
                let w = table[s];
                if w == 0 {
                    off == 0
                } else if w >= 32 {
                    true
                } else {
                    let lim = 1i64 << (w - 1);
                    (-lim..lim).contains(&i64::from(off))
                }
            })
            .unwrap_or(table.len() - 1);
        let header_bits = if params.v2 { 7 } else { 6 };
        put((size as u64) << 3, header_bits, &mut out);
        let w = table[size];
        if w == 65 {
            if avg {
                put(u64::from(off as u32), T::BITS, &mut out);
            } else {
                put(u64::from(off as u32), 32, &mut out);
                put(if off < 0 { u64::MAX } else { 0 }, 33, &mut out);
            }
        } else if w > 0 {
            put(u64::from(off as u32), w, &mut out);
        }
        pos.advance();
        pred = if i + 1 < values.len() {
            if avg {
                predict(values, i + 1, pos, params.flags.uncorrelated_sections)
            } else {
                v.to_bits()
            }
        } else {
            0
        };
    }
    if nbits > 0 {
        out.push(acc as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(v2: bool, flat: bool, uncorrelated: bool, dims: [usize; 3]) -> PackedParams {
        PackedParams {
            v2,
            flags: PackedFlags {
                flat,
                uncorrelated_sections: uncorrelated,
            },
            have_dims: true,
            dims,
        }
    }

    fn roundtrip<T: PackedElement + PartialEq + std::fmt::Debug>(values: &[T], p: PackedParams) {
        let enc = encode_simple(values, p);
        let mut out = vec![T::default(); values.len()];
        decode(&enc, p, &mut out).unwrap();
        assert_eq!(out, values);
    }

    proptest! {
        #[test]
        fn packed_roundtrip_i32(
            f in 1usize..7, m in 1usize..5, s in 1usize..4,
            v2: bool, flat: bool, unc: bool,
            seed in proptest::collection::vec(any::<i32>(), 140),
            small: bool,
        ) {
            let n = f * m * s;
            let values: Vec<i32> = seed.iter().cycle().take(n).map(|&v| if small { v % 300 } else { v }).collect();
            roundtrip(&values, params(v2, flat, unc, [f, m, s]));
        }

        #[test]
        fn packed_roundtrip_u16_i8(
            f in 1usize..7, m in 1usize..5, s in 1usize..4, v2: bool, flat: bool,
            seed in proptest::collection::vec(any::<u16>(), 140),
        ) {
            let n = f * m * s;
            let values: Vec<u16> = seed.iter().cycle().take(n).copied().collect();
            roundtrip(&values, params(v2, flat, false, [f, m, s]));
            let bytes: Vec<i8> = values.iter().map(|&v| v as i8).collect();
            roundtrip(&bytes, params(v2, flat, false, [f, m, s]));
        }

        #[test]
        fn packed_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), n in 0usize..300, v2: bool) {
            let mut out = vec![0i32; n];
            let _ = decode(&data, params(v2, false, false, [n.max(1), 1, 1]), &mut out);
        }
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let values: Vec<i32> = (0..100).map(|i| i * 1000).collect();
        let p = params(false, false, false, [10, 10, 1]);
        let enc = encode_simple(&values, p);
        let mut out = vec![0i32; 100];
        assert!(matches!(
            decode(&enc[..enc.len() / 2], p, &mut out),
            Err(PackedError::Truncated(_))
        ));
    }
}
