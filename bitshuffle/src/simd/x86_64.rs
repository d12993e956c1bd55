//! x86_64 AVX2 bit un-transpose.
//!
//! For byte `j` of the elements, the 8 bit rows `j * 8 .. j * 8 + 8` are read 32 bytes at a
//! time (32 groups of 8 elements). Three levels of byte, word and dword unpacks gather, for
//! each group, the 8 row bytes into one 64-bit lane; the 8×8 bit transpose of each lane
//! (three shift/xor/mask swaps, as in [`crate::scalar::transpose8`]) turns it into byte `j` of
//! the group's 8 elements. With 1-byte elements that is the output; wider elements interleave
//! their byte planes (unpacks for 2 and 4 bytes, a portable loop otherwise).

use core::arch::x86_64::*;

/// Whether the AVX2 path can run on this CPU.
pub(crate) fn avx2_available() -> bool {
    is_x86_feature_detected!("avx2")
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(b: &[u8; 32]) -> __m256i {
    // SAFETY: `b` is 32 readable bytes; the load is unaligned.
    unsafe { _mm256_loadu_si256(b.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store(b: &mut [u8; 32], v: __m256i) {
    // SAFETY: `b` is 32 writable bytes; the store is unaligned.
    unsafe { _mm256_storeu_si256(b.as_mut_ptr().cast(), v) }
}

/// The 32-byte array at `s[at..at + 32]`.
#[inline(always)]
fn at32(s: &[u8], at: usize) -> &[u8; 32] {
    s[at..at + 32].try_into().expect("32 bytes")
}

#[inline(always)]
fn at32_mut(s: &mut [u8], at: usize) -> &mut [u8; 32] {
    (&mut s[at..at + 32]).try_into().expect("32 bytes")
}

#[inline]
#[target_feature(enable = "avx2")]
fn transpose8x4(x: __m256i) -> __m256i {
    let m1 = _mm256_set1_epi64x(0x00AA_00AA_00AA_00AA);
    let m2 = _mm256_set1_epi64x(0x0000_CCCC_0000_CCCC);
    let m4 = _mm256_set1_epi64x(0x0000_0000_F0F0_F0F0);
    let t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64::<7>(x)), m1);
    let x = _mm256_xor_si256(_mm256_xor_si256(x, t), _mm256_slli_epi64::<7>(t));
    let t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64::<14>(x)), m2);
    let x = _mm256_xor_si256(_mm256_xor_si256(x, t), _mm256_slli_epi64::<14>(t));
    let t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64::<28>(x)), m4);
    _mm256_xor_si256(_mm256_xor_si256(x, t), _mm256_slli_epi64::<28>(t))
}

/// Byte `j` of the 256 elements of groups `g .. g + 32`: reads rows `j * 8 ..` (each `row`
/// bytes long) of `src` from byte `g`, writes 256 bytes to `out`.
#[inline]
#[target_feature(enable = "avx2")]
fn plane256(src: &[u8], row: usize, j: usize, g: usize, out: &mut [u8]) {
    let base = j * 8 * row + g;
    let r = |k: usize| at32(src, base + k * row);
    let (r0, r1, r2, r3) = (load(r(0)), load(r(1)), load(r(2)), load(r(3)));
    let (r4, r5, r6, r7) = (load(r(4)), load(r(5)), load(r(6)), load(r(7)));
    // Rows paired: lane-wise groups 0-7 | 16-23 (lo) and 8-15 | 24-31 (hi).
    let a01l = _mm256_unpacklo_epi8(r0, r1);
    let a01h = _mm256_unpackhi_epi8(r0, r1);
    let a23l = _mm256_unpacklo_epi8(r2, r3);
    let a23h = _mm256_unpackhi_epi8(r2, r3);
    let a45l = _mm256_unpacklo_epi8(r4, r5);
    let a45h = _mm256_unpackhi_epi8(r4, r5);
    let a67l = _mm256_unpacklo_epi8(r6, r7);
    let a67h = _mm256_unpackhi_epi8(r6, r7);
    // Rows in fours: groups 0-3|16-19, 4-7|20-23, 8-11|24-27, 12-15|28-31.
    let b0 = _mm256_unpacklo_epi16(a01l, a23l);
    let b1 = _mm256_unpackhi_epi16(a01l, a23l);
    let b2 = _mm256_unpacklo_epi16(a01h, a23h);
    let b3 = _mm256_unpackhi_epi16(a01h, a23h);
    let d0 = _mm256_unpacklo_epi16(a45l, a67l);
    let d1 = _mm256_unpackhi_epi16(a45l, a67l);
    let d2 = _mm256_unpacklo_epi16(a45h, a67h);
    let d3 = _mm256_unpackhi_epi16(a45h, a67h);
    // All eight rows per 64-bit lane: c0 groups 0,1|16,17; c1 2,3|18,19; ... c7 14,15|30,31.
    let c0 = transpose8x4(_mm256_unpacklo_epi32(b0, d0));
    let c1 = transpose8x4(_mm256_unpackhi_epi32(b0, d0));
    let c2 = transpose8x4(_mm256_unpacklo_epi32(b1, d1));
    let c3 = transpose8x4(_mm256_unpackhi_epi32(b1, d1));
    let c4 = transpose8x4(_mm256_unpacklo_epi32(b2, d2));
    let c5 = transpose8x4(_mm256_unpackhi_epi32(b2, d2));
    let c6 = transpose8x4(_mm256_unpacklo_epi32(b3, d3));
    let c7 = transpose8x4(_mm256_unpackhi_epi32(b3, d3));
    store(at32_mut(out, 0), _mm256_permute2x128_si256::<0x20>(c0, c1));
    store(at32_mut(out, 32), _mm256_permute2x128_si256::<0x20>(c2, c3));
    store(at32_mut(out, 64), _mm256_permute2x128_si256::<0x20>(c4, c5));
    store(at32_mut(out, 96), _mm256_permute2x128_si256::<0x20>(c6, c7));
    store(
        at32_mut(out, 128),
        _mm256_permute2x128_si256::<0x31>(c0, c1),
    );
    store(
        at32_mut(out, 160),
        _mm256_permute2x128_si256::<0x31>(c2, c3),
    );
    store(
        at32_mut(out, 192),
        _mm256_permute2x128_si256::<0x31>(c4, c5),
    );
    store(
        at32_mut(out, 224),
        _mm256_permute2x128_si256::<0x31>(c6, c7),
    );
}

/// Interleaves 2 byte planes of 256 bytes into 256 2-byte elements.
#[inline]
#[target_feature(enable = "avx2")]
fn interleave2(p: &[[u8; 256]; 8], out: &mut [u8]) {
    for q in 0..8 {
        let p0 = load(at32(&p[0], 32 * q));
        let p1 = load(at32(&p[1], 32 * q));
        let a = _mm256_unpacklo_epi8(p0, p1);
        let b = _mm256_unpackhi_epi8(p0, p1);
        store(
            at32_mut(out, 64 * q),
            _mm256_permute2x128_si256::<0x20>(a, b),
        );
        store(
            at32_mut(out, 64 * q + 32),
            _mm256_permute2x128_si256::<0x31>(a, b),
        );
    }
}

/// Interleaves 4 byte planes of 256 bytes into 256 4-byte elements.
#[inline]
#[target_feature(enable = "avx2")]
fn interleave4(p: &[[u8; 256]; 8], out: &mut [u8]) {
    for q in 0..8 {
        let p0 = load(at32(&p[0], 32 * q));
        let p1 = load(at32(&p[1], 32 * q));
        let p2 = load(at32(&p[2], 32 * q));
        let p3 = load(at32(&p[3], 32 * q));
        let a = _mm256_unpacklo_epi8(p0, p1);
        let b = _mm256_unpackhi_epi8(p0, p1);
        let c = _mm256_unpacklo_epi8(p2, p3);
        let d = _mm256_unpackhi_epi8(p2, p3);
        let w0 = _mm256_unpacklo_epi16(a, c);
        let w1 = _mm256_unpackhi_epi16(a, c);
        let w2 = _mm256_unpacklo_epi16(b, d);
        let w3 = _mm256_unpackhi_epi16(b, d);
        let o = 128 * q;
        store(at32_mut(out, o), _mm256_permute2x128_si256::<0x20>(w0, w1));
        store(
            at32_mut(out, o + 32),
            _mm256_permute2x128_si256::<0x20>(w2, w3),
        );
        store(
            at32_mut(out, o + 64),
            _mm256_permute2x128_si256::<0x31>(w0, w1),
        );
        store(
            at32_mut(out, o + 96),
            _mm256_permute2x128_si256::<0x31>(w2, w3),
        );
    }
}

/// Un-transposes the leading multiples of 32 groups (256 elements) of one block of
/// `s`-byte elements; returns the first group left for the portable loop.
#[target_feature(enable = "avx2")]
pub(crate) fn untranspose_avx2(src: &[u8], dst: &mut [u8], s: usize) -> usize {
    let row = src.len() / s / 8;
    let mut planes = [[0u8; 256]; 8];
    let mut g = 0;
    while g + 32 <= row {
        let out = &mut dst[8 * g * s..8 * (g + 32) * s];
        if s == 1 {
            plane256(src, row, 0, g, out);
        } else {
            for (j, p) in planes[..s].iter_mut().enumerate() {
                plane256(src, row, j, g, p);
            }
            match s {
                2 => interleave2(&planes, out),
                4 => interleave4(&planes, out),
                _ => {
                    for (e, o) in out.chunks_exact_mut(s).enumerate() {
                        for (j, b) in o.iter_mut().enumerate() {
                            *b = planes[j][e];
                        }
                    }
                }
            }
        }
        g += 32;
    }
    g
}
