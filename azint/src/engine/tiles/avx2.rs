//! The AVX2 (+ FMA) tile kernels, chosen at run time, and the only `unsafe` code of the
//! crate: two calls of `#[target_feature]` functions, each right after the run-time check
//! that the CPU has the features. Everything else is safe code: the intrinsics used take no
//! pointers (loads are plain indexing of the tile, vectors are built and read back with
//! `bytemuck` casts, which compile to register moves), so the kernels are ordinary safe
//! functions that only need their target features to be present.

use std::arch::x86_64::*;

use super::{IntReject, LANES, TILE, TILE_MASK, TileSums, Tiles};

/// `XRDCT_FORCE_SCALAR=1` in the environment: the portable kernels run even where the CPU
/// has AVX2, as byte-offset decoding and the back-projection do with the same switch (read
/// once per process).
fn forced_portable() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| std::env::var_os("XRDCT_FORCE_SCALAR").is_some_and(|v| v == "1"))
}

/// Whether the CPU has AVX2 (the no-split kernel).
pub(super) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Whether the CPU has AVX2 and FMA (the splitting kernels).
pub(super) fn has_avx2_fma() -> bool {
    has_avx2() && std::arch::is_x86_feature_detected!("fma")
}

/// [`Tiles::hist`]: the AVX2 kernel where the CPU has AVX2, else the portable one.
pub(super) fn hist(
    tiles: &Tiles,
    tile: usize,
    px: &[i32; TILE],
    rej: Option<IntReject>,
    out: &mut TileSums<'_>,
) {
    if has_avx2() && !forced_portable() {
        // SAFETY: `hist_avx2` needs AVX2 and nothing else (it has no other precondition:
        // all its memory accesses are checked indexing), and the CPU has it (checked just
        // above).
        unsafe { hist_avx2(tiles, tile, px, rej, out) }
    } else {
        tiles.hist_body(tile, px, rej, out)
    }
}

/// [`Tiles::split_multi`]: the AVX2 kernel where the CPU has AVX2 and FMA, else the
/// portable one, frame by frame.
pub(super) fn split_multi<const VAR: bool, const N: usize>(
    tiles: &Tiles,
    tile: usize,
    px: [&[i32; TILE]; N],
    rej: Option<IntReject>,
    out: [&mut TileSums<'_>; N],
) {
    if has_avx2_fma() && !forced_portable() {
        // SAFETY: `split_multi_avx2` needs AVX2 and FMA and nothing else (all its memory
        // accesses are checked indexing), and the CPU has both (checked just above).
        unsafe { split_multi_avx2::<VAR, N>(tiles, tile, px, rej, out) }
    } else {
        for (px, out) in px.into_iter().zip(out) {
            tiles.split_body::<VAR>(tile, px, rej, out);
        }
    }
}

/// The four lanes of an AVX vector of f64.
#[target_feature(enable = "avx")]
#[inline]
fn lanes_f64(v: __m256d) -> [f64; LANES] {
    bytemuck::cast(v)
}

/// The eight lanes of an AVX vector of i32.
#[target_feature(enable = "avx")]
#[inline]
fn lanes_i32(v: __m256i) -> [i32; 8] {
    bytemuck::cast(v)
}

/// The AVX2 lanes of one segment's sums: Σc·v and Σc²·max(v, 1).
#[derive(Clone, Copy)]
struct Lanes {
    sig: __m256d,
    var: __m256d,
}

impl Lanes {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn new() -> Lanes {
        Lanes {
            sig: _mm256_setzero_pd(),
            var: _mm256_setzero_pd(),
        }
    }

    /// The 4 coefficients as f64 and their squares.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn coefs(c: &[f32; 4]) -> (__m256d, __m256d) {
        let c = _mm256_cvtps_pd(bytemuck::cast::<[f32; 4], __m128>(*c));
        (c, _mm256_mul_pd(c, c))
    }

    /// Adds 4 values `v` with coefficients `c` (and `c2` = c²).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_with<const VAR: bool>(&mut self, v: __m128i, c: __m256d, c2: __m256d) {
        let vf = _mm256_cvtepi32_pd(v);
        self.sig = _mm256_fmadd_pd(c, vf, self.sig);
        if VAR {
            let w = _mm256_max_pd(vf, _mm256_set1_pd(1.0));
            self.var = _mm256_fmadd_pd(c2, w, self.var);
        }
    }
}

/// Values of pixels `p0, p0 + 1, p1, p1 + 1` (two 64-bit loads once compiled). A pair starts
/// at most at `TILE − 2` (both pixels lie in the tile); the clamp keeps the reads in bounds
/// without a branch whatever the offsets hold.
#[target_feature(enable = "avx2")]
#[inline]
fn load_pairs(px: &[i32; TILE], p: &[u16; 2]) -> __m128i {
    let pair = |o: u16| -> [i32; 2] {
        let o = (o as usize).min(TILE - 2);
        [px[o], px[o + 1]]
    };
    bytemuck::cast::<[[i32; 2]; 2], __m128i>([pair(p[0]), pair(p[1])])
}

/// Values of 4 pixels: four scalar loads (cheaper than a hardware gather on AMD Zen).
#[target_feature(enable = "avx2")]
#[inline]
fn load_four(px: &[i32; TILE], o: &[u16; 4]) -> __m128i {
    _mm_setr_epi32(
        px[o[0] as usize & TILE_MASK],
        px[o[1] as usize & TILE_MASK],
        px[o[2] as usize & TILE_MASK],
        px[o[3] as usize & TILE_MASK],
    )
}

/// [`Tiles::hist`] with AVX2: eight values per step in `i32` lanes (Σv, Σ[v = 0], OR),
/// flushed into `i64` every 128 steps. Values of 2²⁴ or more could overflow a lane: the OR
/// sees them and the segment is summed again by the exact scalar loop.
#[target_feature(enable = "avx2")]
fn hist_avx2(
    tiles: &Tiles,
    tile: usize,
    px: &[i32; TILE],
    rej: Option<IntReject>,
    out: &mut TileSums<'_>,
) {
    let checked_all = rej.is_some_and(IntReject::reaches_non_negative);
    let lanes_i64 = |v: __m256i| -> i64 { lanes_i32(v).iter().map(|&x| x as i64).sum() };
    for s in tiles.segments(tile) {
        if checked_all {
            tiles.hist_segment_checked(tile, s, px, rej, out);
            continue;
        }
        let Some(offs) = tiles.hist_offsets(s) else {
            continue;
        };
        let (chunks, tail) = offs.as_chunks::<8>();
        let (mut sum, mut low, mut any) = (0i64, 0i64, 0i32);
        for o in tail {
            let v = px[*o as usize & TILE_MASK];
            sum += v as i64;
            low += (v == 0) as i64;
            any |= v;
        }
        let zero = _mm256_setzero_si256();
        let mut vany = zero;
        for block in chunks.chunks(128) {
            let (mut vsum, mut vzero) = (zero, zero);
            for o in block {
                let g = |l: usize| px[o[l] as usize & TILE_MASK];
                let v = _mm256_setr_epi32(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
                vany = _mm256_or_si256(vany, v);
                vsum = _mm256_add_epi32(vsum, v);
                vzero = _mm256_sub_epi32(vzero, _mm256_cmpeq_epi32(v, zero));
            }
            sum += lanes_i64(vsum);
            low += lanes_i64(vzero);
        }
        any |= lanes_i32(vany).iter().fold(0, |x, &y| x | y);
        if any < 0 {
            tiles.hist_segment_checked(tile, s, px, rej, out);
        } else if any >= 1 << 24 {
            let (sum, low, _) = tiles.hist_segment(s, px);
            tiles.add_hist(s, sum, low, out);
        } else {
            tiles.add_hist(s, sum, low, out);
        }
    }
}

/// [`Tiles::split_multi`] with AVX2: per group of 4 entries, the values of each frame
/// (two 64-bit loads for pair groups, four scalar loads otherwise), the products and sums in
/// four `f64` lanes (fused multiply-adds), the same operations in the same order as
/// [`Tiles::split_body`] (so the two give identical sums). The offsets are read and the
/// coefficients converted once for the `N` frames. One sign test covers all the frames; a
/// segment where any frame holds a negative value is redone, frame by frame, on the checked
/// path.
#[target_feature(enable = "avx2,fma")]
fn split_multi_avx2<const VAR: bool, const N: usize>(
    tiles: &Tiles,
    tile: usize,
    px: [&[i32; TILE]; N],
    rej: Option<IntReject>,
    mut out: [&mut TileSums<'_>; N],
) {
    if rej.is_some_and(IntReject::reaches_non_negative) {
        for (px, out) in px.into_iter().zip(out) {
            tiles.split_body::<VAR>(tile, px, rej, out);
        }
        return;
    }
    for s in tiles.segments(tile) {
        let g = tiles.split_groups(s);
        let mut acc = [Lanes::new(); N];
        let mut any = _mm_setzero_si128();
        for (p, c) in g.pair_offs.iter().zip(g.pair_coefs) {
            let (c, c2) = Lanes::coefs(c);
            for (acc, px) in acc.iter_mut().zip(px) {
                let v = load_pairs(px, p);
                any = _mm_or_si128(any, v);
                acc.add_with::<VAR>(v, c, c2);
            }
        }
        for (o, c) in g.single_offs.iter().zip(g.single_coefs) {
            let (c, c2) = Lanes::coefs(c);
            for (acc, px) in acc.iter_mut().zip(px) {
                let v = load_four(px, o);
                any = _mm_or_si128(any, v);
                acc.add_with::<VAR>(v, c, c2);
            }
        }
        if _mm_movemask_ps(_mm_castsi128_ps(any)) != 0 {
            for (px, out) in px.iter().zip(out.iter_mut()) {
                tiles.segment_checked::<VAR>(tile, s, px, rej, out);
            }
            continue;
        }
        for (acc, out) in acc.iter().zip(out.iter_mut()) {
            tiles.add_split::<VAR>(s, lanes_f64(acc.sig), lanes_f64(acc.var), out);
        }
    }
}
