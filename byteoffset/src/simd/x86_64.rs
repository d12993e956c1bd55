//! x86_64 decoders: AVX2 (16 deltas per step) and AVX-512 (32 deltas per step).
//!
//! Both run the same plan. Load 32 (AVX2) or 64 (AVX-512) input bytes and compare with `0x80`.
//! Without an escape, every byte is a 1-byte delta: sign-extend to 16-bit lanes, prefix-sum in
//! the register (shifts inside 64-bit lanes, a byte shuffle inside 128-bit lanes, lane
//! permutes across), widen to 32 bits, add the carried base and store. The carried base only
//! ever receives one vector add per step: the step's own total is computed off that chain.
//! With an escape at byte `k`, the step still computes and stores a full block, then keeps only
//! its first `k` elements (the next stores overwrite the rest), decodes the escape token in
//! scalar code and resumes. The loops stop while a full block (input and output) still fits;
//! [`crate::scalar::decode_resume`] finishes the tail and reports errors.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// The state a SIMD run hands to the scalar finisher.
pub(crate) struct Progress {
    /// Byte position of the next token.
    pub pos: usize,
    /// Last decoded value.
    pub prev: i32,
    /// Elements written.
    pub written: usize,
}

/// Decodes one escape token at `pos`, known to start with `0x80` and to lie wholly inside
/// `input` (`pos + 15 <= input.len()`). Returns the delta and the token length.
#[inline(always)]
fn escape_token(input: &[u8], pos: usize) -> (i32, usize) {
    let t = &input[pos..pos + 15];
    let d16 = i16::from_le_bytes([t[1], t[2]]);
    if d16 != i16::MIN {
        return (i32::from(d16), 3);
    }
    let d32 = i32::from_le_bytes([t[3], t[4], t[5], t[6]]);
    if d32 != i32::MIN {
        return (d32, 7);
    }
    let d64 = i64::from_le_bytes([t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14]]);
    (d64 as i32, 15)
}

/// Whether the AVX2 decoder can run on this CPU.
pub(crate) fn avx2_available() -> bool {
    is_x86_feature_detected!("avx2")
}

/// Whether the AVX-512 decoder can run on this CPU.
pub(crate) fn avx512_available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
}

/// A 32-bit output lane of the AVX2 decoder: `i32` as decoded, or `f32` converted in register.
pub(crate) trait Lane: Copy {
    /// Stores eight decoded values.
    ///
    /// # Safety
    /// AVX2 must be available and `dst` writable for 8 lanes.
    unsafe fn store8(dst: *mut Self, v: __m256i);
    /// Converts one decoded value.
    fn from_i32(v: i32) -> Self;
}

impl Lane for i32 {
    #[inline(always)]
    unsafe fn store8(dst: *mut Self, v: __m256i) {
        // SAFETY: the caller guarantees AVX2 and 8 writable lanes; unaligned store.
        unsafe { _mm256_storeu_si256(dst.cast(), v) }
    }
    #[inline(always)]
    fn from_i32(v: i32) -> Self {
        v
    }
}

impl Lane for f32 {
    #[inline(always)]
    unsafe fn store8(dst: *mut Self, v: __m256i) {
        // SAFETY: the caller guarantees AVX2 and 8 writable lanes; unaligned store.
        unsafe { _mm256_storeu_ps(dst, _mm256_cvtepi32_ps(v)) }
    }
    #[inline(always)]
    fn from_i32(v: i32) -> Self {
        v as f32
    }
}

/// In-register step of AVX2: 16 sign-extended 1-byte deltas at `src` become 16 running values
/// stored at `dst`, offset by `base` (a broadcast value). Returns the new base.
///
/// # Safety
/// AVX2 must be available; `src` must be readable for 16 bytes and `dst` writable for 16
/// lanes.
#[inline(always)]
unsafe fn avx2_block16<L: Lane>(src: *const u8, dst: *mut L, base: __m256i) -> __m256i {
    // SAFETY: the caller guarantees AVX2 and that `src`/`dst` are valid for the sizes above;
    // unaligned load/store intrinsics have no alignment requirement.
    unsafe {
        let bytes = _mm_loadu_si128(src.cast());
        let mut w = _mm256_cvtepi8_epi16(bytes);
        // Prefix inside each 64-bit lane (4 elements of 16 bits; |sum| <= 16 * 128 fits).
        w = _mm256_add_epi16(w, _mm256_slli_epi64::<16>(w));
        w = _mm256_add_epi16(w, _mm256_slli_epi64::<32>(w));
        // Add element 3 of each 128-bit lane to its elements 4..7.
        let spread = _mm256_setr_epi8(
            -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 6, 7, 6, 7, 6, 7, //
            -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 6, 7, 6, 7, 6, 7,
        );
        w = _mm256_add_epi16(w, _mm256_shuffle_epi8(w, spread));
        let lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(w));
        let hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(w));
        let last = _mm256_set1_epi32(7);
        let hi = _mm256_add_epi32(hi, _mm256_permutevar8x32_epi32(lo, last));
        let total = _mm256_permutevar8x32_epi32(hi, last);
        L::store8(dst, _mm256_add_epi32(lo, base));
        L::store8(dst.add(8), _mm256_add_epi32(hi, base));
        _mm256_add_epi32(base, total)
    }
}

/// Runs the AVX2 loop from `pos` with previous value `prev` as far as whole blocks fit.
///
/// # Safety
/// AVX2 must be available.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn decode_avx2<L: Lane>(
    input: &[u8],
    mut pos: usize,
    prev: i32,
    out: &mut [L],
) -> Progress {
    let len = input.len();
    let n = out.len();
    let src = input.as_ptr();
    let dst = out.as_mut_ptr();
    let mut written = 0usize;
    let escape = _mm256_set1_epi8(0x80u8 as i8);
    let mut base = _mm256_set1_epi32(prev);
    // Invariant inside the loop: pos + 32 <= len and written + 32 <= n.
    while pos + 32 <= len && written + 32 <= n {
        // SAFETY: the loop condition keeps 32 input bytes readable at `pos` and 32 output
        // lanes writable at `written`; AVX2 is enabled on this function.
        unsafe {
            let v = _mm256_loadu_si256(src.add(pos).cast());
            let mask = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, escape)) as u32;
            if mask == 0 {
                base = avx2_block16(src.add(pos), dst.add(written), base);
                base = avx2_block16(src.add(pos + 16), dst.add(written + 16), base);
                pos += 32;
                written += 32;
                continue;
            }
            let k = mask.trailing_zeros() as usize;
            if k >= 16 {
                base = avx2_block16(src.add(pos), dst.add(written), base);
                pos += 16;
                written += 16;
                continue;
            }
            let mut p = if k > 0 {
                // Decode the block into a scratch buffer, keep its first k values.
                let mut tmp = [0i32; 16];
                avx2_block16(src.add(pos), tmp.as_mut_ptr(), base);
                for (j, &v) in tmp[..k].iter().enumerate() {
                    *dst.add(written + j) = L::from_i32(v);
                }
                pos += k;
                written += k;
                tmp[k - 1]
            } else {
                _mm_cvtsi128_si32(_mm256_castsi256_si128(base))
            };
            // Escapes (often several in a row): scalar, while the block invariant holds.
            while pos + 32 <= len && written + 32 <= n && *src.add(pos) == 0x80 {
                let (d, l) = escape_token(input, pos);
                p = p.wrapping_add(d);
                *dst.add(written) = L::from_i32(p);
                pos += l;
                written += 1;
            }
            base = _mm256_set1_epi32(p);
        }
    }
    Progress {
        pos,
        // SAFETY: AVX2 is enabled on this function.
        prev: _mm_cvtsi128_si32(_mm256_castsi256_si128(base)),
        written,
    }
}

/// In-register step of AVX-512: 32 sign-extended 1-byte deltas at `src` become 32 running
/// values at `dst`, offset by `base`. Returns the new base.
///
/// # Safety
/// AVX-512 F+BW must be available; `src` readable for 32 bytes, `dst` writable for 32 `i32`.
#[inline(always)]
unsafe fn avx512_block32(src: *const u8, dst: *mut i32, base: __m512i) -> __m512i {
    // SAFETY: the caller guarantees AVX-512 F+BW and the sizes above; unaligned intrinsics.
    unsafe {
        let bytes = _mm256_loadu_si256(src.cast());
        let mut w = _mm512_cvtepi8_epi16(bytes);
        w = _mm512_add_epi16(w, _mm512_slli_epi64::<16>(w));
        w = _mm512_add_epi16(w, _mm512_slli_epi64::<32>(w));
        let spread = _mm512_broadcast_i32x4(_mm_setr_epi8(
            -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 6, 7, 6, 7, 6, 7,
        ));
        w = _mm512_add_epi16(w, _mm512_shuffle_epi8(w, spread));
        // Now each 128-bit lane holds the prefix of its own 8 elements.
        let a = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(w));
        let b = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64::<1>(w));
        let i7 = _mm512_set1_epi32(7);
        let i15 = _mm512_set1_epi32(15);
        let a = _mm512_mask_add_epi32(a, 0xff00, a, _mm512_permutexvar_epi32(i7, a));
        let b = _mm512_mask_add_epi32(b, 0xff00, b, _mm512_permutexvar_epi32(i7, b));
        let b = _mm512_add_epi32(b, _mm512_permutexvar_epi32(i15, a));
        let total = _mm512_permutexvar_epi32(i15, b);
        _mm512_storeu_si512(dst.cast(), _mm512_add_epi32(a, base));
        _mm512_storeu_si512(dst.add(16).cast(), _mm512_add_epi32(b, base));
        _mm512_add_epi32(base, total)
    }
}

/// Runs the AVX-512 loop from `pos` with previous value `prev` as far as whole blocks fit.
///
/// # Safety
/// AVX-512 F, BW and VL must be available.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
pub(crate) unsafe fn decode_avx512(
    input: &[u8],
    mut pos: usize,
    prev: i32,
    out: &mut [i32],
) -> Progress {
    let len = input.len();
    let n = out.len();
    let src = input.as_ptr();
    let dst = out.as_mut_ptr();
    let mut written = 0usize;
    let escape = _mm512_set1_epi8(0x80u8 as i8);
    let mut base = _mm512_set1_epi32(prev);
    // Invariant inside the loop: pos + 64 <= len and written + 64 <= n.
    while pos + 64 <= len && written + 64 <= n {
        // SAFETY: the loop condition keeps 64 input bytes readable at `pos` and 64 output
        // lanes writable at `written`; AVX-512 F+BW is enabled on this function.
        unsafe {
            let v = _mm512_loadu_si512(src.add(pos).cast());
            let mask = _mm512_cmpeq_epi8_mask(v, escape);
            if mask == 0 {
                base = avx512_block32(src.add(pos), dst.add(written), base);
                base = avx512_block32(src.add(pos + 32), dst.add(written + 32), base);
                pos += 64;
                written += 64;
                continue;
            }
            let k = mask.trailing_zeros() as usize;
            if k >= 32 {
                base = avx512_block32(src.add(pos), dst.add(written), base);
                pos += 32;
                written += 32;
                continue;
            }
            let mut p = if k > 0 {
                avx512_block32(src.add(pos), dst.add(written), base);
                pos += k;
                written += k;
                *dst.add(written - 1)
            } else {
                _mm_cvtsi128_si32(_mm512_castsi512_si128(base))
            };
            while pos + 64 <= len && written + 64 <= n && *src.add(pos) == 0x80 {
                let (d, l) = escape_token(input, pos);
                p = p.wrapping_add(d);
                *dst.add(written) = p;
                pos += l;
                written += 1;
            }
            base = _mm512_set1_epi32(p);
        }
    }
    Progress {
        pos,
        // SAFETY: AVX-512 F is enabled on this function.
        prev: _mm_cvtsi128_si32(_mm512_castsi512_si128(base)),
        written,
    }
}

/// AVX2 encoder step: tokens for `values[start..]` (with `values[start - 1]` as the previous
/// value, `start >= 1`) into `out[o..]`, 16 values at a time while all 16 differences fit one
/// byte; other groups of 16 go token by token. Stops when fewer than 16 values are left or
/// the output is full. Returns the next value index and the next output position, or `None`
/// when a token did not fit.
///
/// # Safety
/// AVX2 must be available.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn encode_avx2(
    values: &[i32],
    start: usize,
    out: &mut [u8],
    mut o: usize,
) -> Option<(usize, usize)> {
    debug_assert!(start >= 1);
    let n = values.len();
    let src = values.as_ptr();
    let bias = _mm256_set1_epi32(127);
    let limit = _mm256_set1_epi32(254);
    let mut i = start.max(1);
    while i + 16 <= n {
        // SAFETY: `i >= 1` and `i + 16 <= n` keep values[i - 1 .. i + 16] in bounds; AVX2 is
        // enabled on this function; unaligned loads.
        let (da, db) = unsafe {
            let a = _mm256_loadu_si256(src.add(i).cast());
            let b = _mm256_loadu_si256(src.add(i + 8).cast());
            let pa = _mm256_loadu_si256(src.add(i - 1).cast());
            let pb = _mm256_loadu_si256(src.add(i + 7).cast());
            (_mm256_sub_epi32(a, pa), _mm256_sub_epi32(b, pb))
        };
        // A difference d fits one byte iff (d + 127) as u32 <= 254.
        let fa = _mm256_cmpeq_epi32(_mm256_max_epu32(_mm256_add_epi32(da, bias), limit), limit);
        let fb = _mm256_cmpeq_epi32(_mm256_max_epu32(_mm256_add_epi32(db, bias), limit), limit);
        let fits = _mm256_movemask_epi8(_mm256_and_si256(fa, fb)) == -1;
        if fits && o + 16 <= out.len() {
            let p16 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(da, db));
            let p8 = _mm_packs_epi16(
                _mm256_castsi256_si128(p16),
                _mm256_extracti128_si256::<1>(p16),
            );
            // SAFETY: `o + 16 <= out.len()` was checked just above.
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(o).cast(), p8) };
            o += 16;
        } else {
            for j in i..i + 16 {
                let d = i64::from(values[j].wrapping_sub(values[j - 1]));
                o += crate::encode::write_token(out, o, d)?;
            }
        }
        i += 16;
    }
    Some((i, o))
}
