//! The integration matrix cut into tiles of [`TILE`] consecutive pixels, each tile's entries
//! grouped by bin ("segments"): the layout the CPU engines stream integer frames through.
//!
//! A frame is processed one tile at a time. The tile's pixels (decoded straight into a buffer
//! that stays in L2) are gathered segment by segment and each segment is summed in registers,
//! so every bin is written once per tile instead of once per pixel: no read-modify-write
//! chains through memory when neighbouring pixels share a bin, and the sums of a bin do not
//! depend on how the frame was cut into blocks.
//!
//! - **No splitting**: exact `i64` sums of the values and of the Poisson correction
//!   `max(1 − v, 0)`, one entry (a `u16` offset) per pixel.
//! - **Splitting**: `f64` sums of `c·v` and `c²·max(v, 1)` with pyFAI's float32 coefficients;
//!   segments are padded to a multiple of [`LANES`] with zero coefficients (on the segment's
//!   last pixel) so the sums run in fixed-width lanes.
//!
//! Negative values (gaps, dummies) send their segment to a checked path that applies the
//! dummy test pixel by pixel; the fast path only watches the sign bits.

use super::sparse::Csr;
use crate::Error;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2;

/// Pixels per tile (256 KiB of `i32`: a tile stays in L2 between decoding and summing; `u16` offsets).
pub const TILE: usize = 1 << 16;
const TILE_MASK: usize = TILE - 1;

/// Width of the partial sums of the splitting kernel (segments are padded to a multiple).
pub(crate) const LANES: usize = 4;

/// Tile-major, bin-grouped integration matrix.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tiles {
    /// First segment of each tile; one per tile plus one.
    tile_seg: Vec<u32>,
    /// Bin of each segment.
    seg_bin: Vec<u32>,
    /// Entries of segment `s`: `seg_ptr[s]..seg_ptr[s + 1]` (offsets without splitting,
    /// coefficients with).
    seg_ptr: Vec<u32>,
    /// Splitting: offsets of segment `s`, `seg_off[s]..seg_off[s + 1]`.
    seg_off: Vec<u32>,
    /// Splitting: groups of segment `s` made of two pairs of neighbouring pixels (stored as
    /// the two first offsets, loaded 64 bits at a time); the other groups hold 4 offsets.
    seg_pairs: Vec<u32>,
    /// Offset within its tile of each entry's pixel (of each pair's first pixel in pair
    /// groups).
    off: Vec<u16>,
    /// Coefficient of each entry (splitting only; empty without).
    coef: Vec<f32>,
}

/// The groups of 4 entries of one segment of a splitting engine: pair groups (pixels
/// `p0, p0 + 1, p1, p1 + 1`, stored as `[p0, p1]`) and single groups (4 offsets), each with
/// its 4 coefficients, in the same order.
#[derive(Clone, Copy, Debug, Default)]
struct SplitGroups<'a> {
    pair_offs: &'a [[u16; 2]],
    single_offs: &'a [[u16; 4]],
    pair_coefs: &'a [[f32; 4]],
    single_coefs: &'a [[f32; 4]],
}

/// Rejected-range test in integers: `v` in `lo..=hi` ⇔ `(v − lo) as u32 <= hi − lo`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IntReject {
    pub lo: i32,
    pub span: u32,
}

impl IntReject {
    #[inline(always)]
    pub fn rejects(self, v: i32) -> bool {
        (v.wrapping_sub(self.lo) as u32) <= self.span
    }

    /// Whether a value ≥ 0 may be rejected (then the fast path cannot be trusted).
    pub fn reaches_non_negative(self) -> bool {
        self.lo as i64 + self.span as i64 >= 0
    }
}

/// Per-bin sums the tile kernels add into.
pub(crate) struct TileSums<'a> {
    /// No splitting: Σv per bin.
    pub hist: &'a mut [i64],
    /// No splitting: Σmax(1 − v, 0) per bin.
    pub low: &'a mut [i64],
    /// Splitting: (Σc·v, Σc²·max(v, 1)) per bin.
    pub sums: &'a mut [[f64; 2]],
    /// Pixels rejected by the dummy test (a pixel may appear more than once).
    pub rejected: &'a mut Vec<u32>,
}

impl Tiles {
    /// Builds the tiles of a CSR matrix over `n_pixels` pixels; `with_coefs` keeps the
    /// coefficients (splitting engines) and pads segments to [`LANES`].
    pub(crate) fn from_csr(csr: &Csr, n_pixels: usize, with_coefs: bool) -> Result<Tiles, Error> {
        let n_tiles = n_pixels.div_ceil(TILE);
        // Segments in bin order: (tile, bin, first entry in the CSR, length).
        let mut segs: Vec<(u32, u32, u32, u32)> = Vec::new();
        let mut per_tile = vec![0u32; n_tiles + 1];
        for b in 0..csr.n_rows() {
            let (a, e) = (csr.indptr[b] as usize, csr.indptr[b + 1] as usize);
            let mut k = a;
            while k < e {
                let t = csr.indices[k] as usize / TILE;
                let mut j = k + 1;
                while j < e && csr.indices[j] as usize / TILE == t {
                    j += 1;
                }
                if t >= n_tiles {
                    return Err(Error::PixelOutOfRange {
                        pixel: csr.indices[k] as usize,
                        n_pixels,
                    });
                }
                segs.push((t as u32, b as u32, k as u32, (j - k) as u32));
                per_tile[t + 1] += 1;
                k = j;
            }
        }
        for t in 0..n_tiles {
            per_tile[t + 1] += per_tile[t];
        }
        // Stable counting sort by tile: bins stay in increasing order within a tile.
        let mut order = vec![0u32; segs.len()];
        let mut fill = per_tile.clone();
        for (i, s) in segs.iter().enumerate() {
            let t = s.0 as usize;
            order[fill[t] as usize] = i as u32;
            fill[t] += 1;
        }
        // With splitting, a segment can grow by 3 padding entries and 2 from an odd pair.
        let total: usize = segs
            .iter()
            .map(|s| s.3 as usize + if with_coefs { LANES + 2 } else { 0 })
            .sum();
        if total > u32::MAX as usize {
            return Err(Error::MatrixTooLarge { entries: total });
        }
        let mut tiles = Tiles {
            tile_seg: per_tile,
            seg_bin: Vec::with_capacity(segs.len()),
            seg_ptr: Vec::with_capacity(segs.len() + 1),
            seg_off: Vec::new(),
            seg_pairs: Vec::new(),
            off: Vec::with_capacity(total),
            coef: Vec::with_capacity(if with_coefs { total } else { 0 }),
        };
        tiles.seg_ptr.push(0);
        if with_coefs {
            tiles.seg_off.push(0);
        }
        let (mut pairs, mut singles) = (Vec::new(), Vec::new());
        for &i in &order {
            let (t, b, k, len) = segs[i as usize];
            let (k, len) = (k as usize, len as usize);
            tiles.seg_bin.push(b);
            let base = t as usize * TILE;
            let off_of = |j: usize| (csr.indices[j] as usize - base) as u16;
            if !with_coefs {
                tiles.off.extend((k..k + len).map(off_of));
                tiles.seg_ptr.push(tiles.off.len() as u32);
                continue;
            }
            // Neighbouring pixels (a bin crosses a row over a few pixels) are paired: one
            // 64-bit load fetches both values.
            pairs.clear();
            singles.clear();
            let mut j = k;
            while j < k + len {
                if j + 1 < k + len && csr.indices[j + 1] == csr.indices[j] + 1 {
                    pairs.push((off_of(j), csr.data[j], csr.data[j + 1]));
                    j += 2;
                } else {
                    singles.push((off_of(j), csr.data[j]));
                    j += 1;
                }
            }
            if pairs.len() % 2 == 1
                && let Some((o, c0, c1)) = pairs.pop()
            {
                singles.push((o, c0));
                singles.push((o.wrapping_add(1), c1));
            }
            for g in pairs.chunks_exact(2) {
                tiles.off.extend([g[0].0, g[1].0]);
                tiles.coef.extend([g[0].1, g[0].2, g[1].1, g[1].2]);
            }
            tiles.seg_pairs.push((pairs.len() / 2) as u32);
            for g in singles.chunks(LANES) {
                // Padding: zero coefficients on a pixel of the segment (whose value the
                // segment reads anyway, so the sign test sees no foreign pixel).
                let last = g[g.len() - 1].0;
                for l in 0..LANES {
                    let (o, c) = g.get(l).copied().unwrap_or((last, 0.0));
                    tiles.off.push(o);
                    tiles.coef.push(c);
                }
            }
            tiles.seg_ptr.push(tiles.coef.len() as u32);
            tiles.seg_off.push(tiles.off.len() as u32);
        }
        Ok(tiles)
    }

    /// Number of tiles.
    pub(crate) fn n_tiles(&self) -> usize {
        self.tile_seg.len().saturating_sub(1)
    }

    /// The groups of 4 entries of segment `s` of a splitting engine (none for a segment that
    /// does not exist).
    fn split_groups(&self, s: usize) -> SplitGroups<'_> {
        let (Some(&a), Some(&e), Some(&oa), Some(&oe), Some(&np)) = (
            self.seg_ptr.get(s),
            self.seg_ptr.get(s + 1),
            self.seg_off.get(s),
            self.seg_off.get(s + 1),
            self.seg_pairs.get(s),
        ) else {
            return SplitGroups::default();
        };
        let np = np as usize;
        let (Some(offs), Some(coefs)) = (
            self.off.get(oa as usize..oe as usize),
            self.coef.get(a as usize..e as usize),
        ) else {
            return SplitGroups::default();
        };
        let (pair_offs, single_offs) = offs.split_at(offs.len().min(2 * np));
        let (coefs, _) = coefs.as_chunks::<LANES>();
        let (pair_coefs, single_coefs) = coefs.split_at(coefs.len().min(np));
        SplitGroups {
            pair_offs: pair_offs.as_chunks::<2>().0,
            single_offs: single_offs.as_chunks::<LANES>().0,
            pair_coefs,
            single_coefs,
        }
    }

    /// Every group of segment `s` as (4 offsets, 4 coefficients).
    fn split_entries(&self, s: usize) -> impl Iterator<Item = ([u16; 4], &[f32; 4])> + '_ {
        let g = self.split_groups(s);
        g.pair_offs
            .iter()
            .map(|p| [p[0], p[0].wrapping_add(1), p[1], p[1].wrapping_add(1)])
            .zip(g.pair_coefs)
            .chain(g.single_offs.iter().copied().zip(g.single_coefs))
    }

    /// The offsets of segment `s` of a no-split engine (`None` for a segment that does not
    /// exist).
    fn hist_offsets(&self, s: usize) -> Option<&[u16]> {
        let (a, e) = (*self.seg_ptr.get(s)?, *self.seg_ptr.get(s + 1)?);
        self.off.get(a as usize..e as usize)
    }

    fn segments(&self, tile: usize) -> std::ops::Range<usize> {
        match (self.tile_seg.get(tile), self.tile_seg.get(tile + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// Adds tile `tile` (pixels `tile·TILE ..`, zero-padded to [`TILE`]) of a no-split engine.
    pub(crate) fn hist(
        &self,
        tile: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        #[cfg(target_arch = "x86_64")]
        avx2::hist(self, tile, px, rej, out);
        #[cfg(not(target_arch = "x86_64"))]
        self.hist_body(tile, px, rej, out);
    }

    /// The portable no-split kernel.
    fn hist_body(
        &self,
        tile: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        let checked_all = rej.is_some_and(IntReject::reaches_non_negative);
        for s in self.segments(tile) {
            let (sum, low, any) = if checked_all {
                (0, 0, -1)
            } else {
                self.hist_segment(s, px)
            };
            if any < 0 {
                self.hist_segment_checked(tile, s, px, rej, out);
            } else {
                self.add_hist(s, sum, low, out);
            }
        }
    }

    /// Σv, Σ[v = 0] and the OR of the values of segment `s` (exact, any values).
    #[inline(always)]
    fn hist_segment(&self, s: usize, px: &[i32; TILE]) -> (i64, i64, i32) {
        let (mut sum, mut low, mut any) = (0i64, 0i64, 0i32);
        for &o in self.hist_offsets(s).unwrap_or(&[]) {
            let v = px[o as usize & TILE_MASK];
            sum += v as i64;
            low += (v == 0) as i64;
            any |= v;
        }
        (sum, low, any)
    }

    #[inline(always)]
    fn add_hist(&self, s: usize, sum: i64, low: i64, out: &mut TileSums<'_>) {
        let b = self.seg_bin.get(s).map_or(usize::MAX, |&b| b as usize);
        if let (Some(h), Some(l)) = (out.hist.get_mut(b), out.low.get_mut(b)) {
            *h = h.wrapping_add(sum);
            *l = l.wrapping_add(low);
        }
    }

    /// One no-split segment with the dummy test applied pixel by pixel.
    fn hist_segment_checked(
        &self,
        tile: usize,
        s: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        let first = tile * TILE;
        let (mut sum, mut low) = (0i64, 0i64);
        for &o in self.hist_offsets(s).unwrap_or(&[]) {
            let v = px[o as usize & TILE_MASK];
            if rej.is_some_and(|r| r.rejects(v)) {
                out.rejected.push((first + o as usize) as u32);
            } else {
                sum += v as i64;
                low += (1 - v as i64).max(0);
            }
        }
        self.add_hist(s, sum, low, out);
    }

    /// Adds tile `tile` of a splitting engine; `VAR`: also the Poisson variance.
    pub(crate) fn split<const VAR: bool>(
        &self,
        tile: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        self.split_multi::<VAR, 1>(tile, [px], rej, [out]);
    }

    /// Adds tile `tile` of `N` frames at once (splitting engines): the matrix is streamed
    /// once for all of them, dividing its memory traffic per frame by `N` and sharing the
    /// offsets and coefficient conversions. Sums are identical to `N` calls of
    /// [`Tiles::split`].
    pub(crate) fn split_multi<const VAR: bool, const N: usize>(
        &self,
        tile: usize,
        px: [&[i32; TILE]; N],
        rej: Option<IntReject>,
        out: [&mut TileSums<'_>; N],
    ) {
        #[cfg(target_arch = "x86_64")]
        avx2::split_multi::<VAR, N>(self, tile, px, rej, out);
        #[cfg(not(target_arch = "x86_64"))]
        for (px, out) in px.into_iter().zip(out) {
            self.split_body::<VAR>(tile, px, rej, out);
        }
    }

    /// The portable kernel (see `avx2::split_multi` for the lanes).
    fn split_body<const VAR: bool>(
        &self,
        tile: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        let checked_all = rej.is_some_and(IntReject::reaches_non_negative);
        for s in self.segments(tile) {
            let mut sig = [0.0f64; LANES];
            let mut var = [0.0f64; LANES];
            let mut any = 0i32;
            if !checked_all {
                for (o, c) in self.split_entries(s) {
                    for l in 0..LANES {
                        let v = px[o[l] as usize & TILE_MASK];
                        any |= v;
                        let c = c[l] as f64;
                        let v = v as f64;
                        sig[l] = c.mul_add(v, sig[l]);
                        if VAR {
                            var[l] = (c * c).mul_add(v.max(1.0), var[l]);
                        }
                    }
                }
            }
            if checked_all || any < 0 {
                self.segment_checked::<VAR>(tile, s, px, rej, out);
                continue;
            }
            self.add_split::<VAR>(s, sig, var, out);
        }
    }

    /// Adds segment `s`'s lane sums to its bin (lanes reduced pairwise, the same order in
    /// every kernel).
    #[inline(always)]
    fn add_split<const VAR: bool>(
        &self,
        s: usize,
        sig: [f64; LANES],
        var: [f64; LANES],
        out: &mut TileSums<'_>,
    ) {
        let b = self.seg_bin.get(s).map_or(usize::MAX, |&b| b as usize);
        if let Some(d) = out.sums.get_mut(b) {
            d[0] += (sig[0] + sig[1]) + (sig[2] + sig[3]);
            if VAR {
                d[1] += (var[0] + var[1]) + (var[2] + var[3]);
            }
        }
    }

    /// One segment with the dummy test applied pixel by pixel (rejected pixels are listed).
    fn segment_checked<const VAR: bool>(
        &self,
        tile: usize,
        s: usize,
        px: &[i32; TILE],
        rej: Option<IntReject>,
        out: &mut TileSums<'_>,
    ) {
        let first = tile * TILE;
        let mut sig = [0.0f64; LANES];
        let mut var = [0.0f64; LANES];
        for (o, c) in self.split_entries(s) {
            for l in 0..LANES {
                let v = px[o[l] as usize & TILE_MASK];
                if rej.is_some_and(|r| r.rejects(v)) {
                    if c[l] != 0.0 {
                        out.rejected.push((first + o[l] as usize) as u32);
                    }
                    continue;
                }
                let c = c[l] as f64;
                let v = v as f64;
                sig[l] = c.mul_add(v, sig[l]);
                if VAR {
                    var[l] = (c * c).mul_add(v.max(1.0), var[l]);
                }
            }
        }
        self.add_split::<VAR>(s, sig, var, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A random matrix over `n` pixels: each pixel in up to 4 consecutive bins.
    fn matrix(n: usize, bins: usize, seed: u64) -> Csr {
        let mut st = seed | 1;
        let mut next = move || {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            st
        };
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); bins];
        for p in 0..n {
            let k = (next() % 5) as usize;
            let b0 = (next() % bins as u64) as usize;
            for row in rows.iter_mut().skip(b0).take(k) {
                row.push((p as u32, (next() % 1000 + 1) as f32 / 1000.0));
            }
        }
        let mut csr = Csr::default();
        csr.indptr.push(0);
        for r in rows {
            for (p, c) in r {
                csr.indices.push(p);
                csr.data.push(c);
            }
            csr.indptr.push(csr.indices.len() as u32);
        }
        csr
    }

    /// Everything a kernel adds to fresh sums over `bins` bins: (Σv, Σmax(1 − v, 0),
    /// float sums, sorted rejected pixels).
    type Sums = (Vec<i64>, Vec<i64>, Vec<[f64; 2]>, Vec<u32>);

    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn run(bins: usize, kernel: impl FnOnce(&mut TileSums<'_>)) -> Sums {
        let (mut h, mut l) = (vec![0; bins], vec![0; bins]);
        let mut sums = vec![[0.0; 2]; bins];
        let mut rejected = Vec::new();
        kernel(&mut TileSums {
            hist: &mut h,
            low: &mut l,
            sums: &mut sums,
            rejected: &mut rejected,
        });
        rejected.sort_unstable();
        (h, l, sums, rejected)
    }

    /// A tile of counts with `bad` in 10 000 dummies and `big` in 10 000 values ≥ 2²⁴.
    fn tile_values(seed: u64, bad: u64, big: u64) -> Vec<i32> {
        let mut st = seed ^ 0xabcdef;
        (0..TILE)
            .map(|_| {
                st = st.wrapping_mul(6364136223846793005).wrapping_add(1);
                let r = (st >> 33) % 10_000;
                if r < bad {
                    -2
                } else if r < bad + big {
                    i32::MAX - (r as i32)
                } else if r < 300 {
                    0
                } else {
                    (r % 500) as i32
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// The AVX2 no-split kernel gives the portable kernel's integer sums, also with
        /// dummies, values that overflow an `i32` lane, and a dummy range reaching zero.
        #[test]
        fn avx2_hist_equals_portable(
            seed in any::<u64>(),
            bins in 1usize..3000,
            bad in 0u64..3,
            big in 0u64..3,
            zero_dummy in any::<bool>(),
        ) {
            #[cfg(target_arch = "x86_64")]
            if avx2::has_avx2() {
                // One entry per pixel, long segments (few bins) and short ones (many).
                let mut csr = matrix(TILE, bins, seed);
                for (k, p) in csr.indices.iter_mut().enumerate() {
                    *p = k as u32 % TILE as u32;
                }
                let tiles = Tiles::from_csr(&csr, TILE, false).unwrap();
                let px = tile_values(seed, bad, big);
                let px: &[i32; TILE] = px.as_slice().try_into().unwrap();
                let rej = Some(if zero_dummy {
                    IntReject { lo: -1, span: 1 }
                } else {
                    IntReject { lo: -3, span: 2 }
                });
                prop_assert_eq!(
                    run(bins, |out| avx2::hist(&tiles, 0, px, rej, out)),
                    run(bins, |out| tiles.hist_body(0, px, rej, out))
                );
            }
        }

        /// The AVX2 splitting kernel, one frame per pass or three, gives the portable
        /// kernel's sums bit for bit (a frame with dummies between two without).
        #[test]
        fn avx2_split_equals_portable(seed in any::<u64>(), bins in 1usize..3000, bad in 0u64..4) {
            #[cfg(target_arch = "x86_64")]
            if avx2::has_avx2_fma() {
                let csr = matrix(TILE, bins, seed);
                let tiles = Tiles::from_csr(&csr, TILE, true).unwrap();
                let frames: Vec<Vec<i32>> = (0..3u64)
                    .map(|k| tile_values(seed ^ k, if k == 1 { bad } else { 0 }, 0))
                    .collect();
                let px: Vec<&[i32; TILE]> =
                    frames.iter().map(|f| f.as_slice().try_into().unwrap()).collect();
                let rej = Some(IntReject { lo: -3, span: 2 });
                let portable: Vec<Sums> = px
                    .iter()
                    .map(|px| run(bins, |out| tiles.split_body::<true>(0, px, rej, out)))
                    .collect();
                prop_assert_eq!(
                    &run(bins, |out| avx2::split_multi::<true, 1>(&tiles, 0, [px[1]], rej, [out])),
                    &portable[1]
                );
                let mut outs: Vec<Sums> = (0..3).map(|_| run(bins, |_| ())).collect();
                {
                    let [a, b, c] = &mut outs[..] else { unreachable!() };
                    let mut sums = [a, b, c].map(|(h, l, s, r)| TileSums {
                        hist: h,
                        low: l,
                        sums: s,
                        rejected: r,
                    });
                    avx2::split_multi::<true, 3>(
                        &tiles,
                        0,
                        [px[0], px[1], px[2]],
                        rej,
                        sums.each_mut(),
                    );
                }
                for (o, p) in outs.iter_mut().zip(&portable) {
                    o.3.sort_unstable();
                    prop_assert_eq!(&*o, p);
                }
            }
        }
    }
}
