//! Port of `wgsl/integrate_hist.wgsl`.

use crate::az::{AzParams, LOCAL_BINS, SUM_WORDS, TILE_H, TILE_W, WORKGROUP};

fn is_dummy(params: &AzParams, v: i32) -> bool {
    params.reject != 0 && (v as u32).wrapping_sub(params.rej_lo as u32) <= params.rej_span
}

/// The shared `list_reject`: appends pixel `p` to frame `fi`'s reject list.
pub(crate) fn list_reject(params: &AzParams, rejects: &mut [u32], fi: u32, p: u32) {
    let base = (fi * (params.reject_cap + 1)) as usize;
    let slot = rejects[base];
    rejects[base] = slot.wrapping_add(1);
    if slot < params.reject_cap {
        rejects[base + 1 + slot as usize] = p;
    }
}

/// Adds the 64-bit value (lo, hi) at words i, i + 1 (the shader's `local_add` and
/// `global_add`: low word first, carry from the old value).
fn add64(words: &mut [u32], i: usize, lo: u32, hi: u32) {
    let old = words[i];
    words[i] = old.wrapping_add(lo);
    let mut h = hi;
    if old.wrapping_add(lo) < old {
        h = h.wrapping_add(1);
    }
    if h != 0 {
        words[i + 1] = words[i + 1].wrapping_add(h);
    }
}

fn sign_hi(v: i32) -> u32 {
    if v < 0 { u32::MAX } else { 0 }
}

/// Runs every workgroup of a dispatch of `n_frames * n_tiles` workgroups (bindings: params,
/// bin_index, tile_range, frames, sums, rejects). `sums` and `rejects` must start zeroed.
pub fn integrate_hist(
    params: &AzParams,
    bin_index: &[u32],
    tile_range: &[[u32; 2]],
    frames: &[i32],
    sums: &mut [u32],
    rejects: &mut [u32],
) {
    let mut l_sum = vec![0u32; (LOCAL_BINS * SUM_WORDS) as usize];
    for wg in 0..params.n_frames * params.n_tiles {
        let fi = wg / params.n_tiles;
        let t = wg % params.n_tiles;
        let range = tile_range[t as usize];
        let local = range[1] <= LOCAL_BINS;
        l_sum.fill(0);
        let base = params.in_offset + fi * params.n_pixels;
        let frame_sums = (fi * params.n_bins * SUM_WORDS) as usize;
        for lid in 0..WORKGROUP {
            let col = (t % params.tiles_x) * TILE_W + lid % TILE_W;
            let row0 = (t / params.tiles_x) * TILE_H + lid / TILE_W;
            if col >= params.width {
                continue;
            }
            for k in (0..TILE_H).step_by((WORKGROUP / TILE_W) as usize) {
                let row = row0 + k;
                if row >= params.height {
                    break;
                }
                let p = row * params.width + col;
                let b = bin_index[p as usize];
                let v = frames[(base + p) as usize];
                if is_dummy(params, v) {
                    if b < params.n_bins {
                        list_reject(params, rejects, fi, p);
                    }
                    continue;
                }
                if b >= params.n_bins {
                    continue;
                }
                if local {
                    let i = ((b - range[0]) * SUM_WORDS) as usize;
                    add64(&mut l_sum, i, v as u32, sign_hi(v));
                    if params.poisson != 0 {
                        add64(&mut l_sum, i + 2, v.max(1) as u32, 0);
                    }
                } else {
                    let i = frame_sums + (b * SUM_WORDS) as usize;
                    add64(sums, i, v as u32, sign_hi(v));
                    if params.poisson != 0 {
                        add64(sums, i + 2, v.max(1) as u32, 0);
                    }
                }
            }
        }
        if local {
            for k in 0..range[1] {
                let i = (k * SUM_WORDS) as usize;
                let g = frame_sums + ((range[0] + k) * SUM_WORDS) as usize;
                for w in [0, 2] {
                    let (lo, hi) = (l_sum[i + w], l_sum[i + w + 1]);
                    if lo | hi != 0 {
                        add64(sums, g + w, lo, hi);
                    }
                }
            }
        }
    }
}

/// The 64-bit sums of bin `b` of frame `fi`: (Σv, Σmax(v, 1)).
pub fn hist_sums(params: &AzParams, sums: &[u32], fi: u32, b: u32) -> (i64, i64) {
    let i = ((fi * params.n_bins + b) * SUM_WORDS) as usize;
    let w = |k: usize| (u64::from(sums[i + k + 1]) << 32 | u64::from(sums[i + k])) as i64;
    (w(0), w(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A batch on a `height × width` detector with random bins (some unused), values and a
    /// dummy range, checked against plain i64 sums and a plain reject list.
    fn check(
        width: u32,
        height: u32,
        n_bins: u32,
        frames: &[Vec<i32>],
        bins: &[u32],
        poisson: bool,
    ) {
        let tiles_x = width.div_ceil(TILE_W);
        let n_tiles = tiles_x * height.div_ceil(TILE_H);
        let mut tile_range = vec![[0u32; 2]; n_tiles as usize];
        for t in 0..n_tiles {
            let (mut lo, mut hi) = (u32::MAX, 0u32);
            for r in (t / tiles_x) * TILE_H..((t / tiles_x + 1) * TILE_H).min(height) {
                for c in (t % tiles_x) * TILE_W..((t % tiles_x + 1) * TILE_W).min(width) {
                    let b = bins[(r * width + c) as usize];
                    if b < n_bins {
                        lo = lo.min(b);
                        hi = hi.max(b);
                    }
                }
            }
            tile_range[t as usize] = if lo <= hi { [lo, hi - lo + 1] } else { [0, 0] };
        }
        let n = width * height;
        let params = AzParams {
            n_frames: frames.len() as u32,
            n_pixels: n,
            n_bins,
            grid_x: 1,
            width,
            height,
            tiles_x,
            n_tiles,
            in_offset: 3,
            reject: 1,
            rej_lo: -3,
            rej_span: 2,
            reject_cap: 16,
            poisson: u32::from(poisson),
            ..AzParams::default()
        };
        let mut input = vec![7i32; 3];
        for f in frames {
            input.extend_from_slice(f);
        }
        let mut sums = vec![0u32; (frames.len() as u32 * n_bins * SUM_WORDS) as usize];
        let mut rejects = vec![0u32; frames.len() * 17];
        integrate_hist(&params, bins, &tile_range, &input, &mut sums, &mut rejects);
        for (fi, f) in frames.iter().enumerate() {
            let mut sig = vec![0i64; n_bins as usize];
            let mut var = vec![0i64; n_bins as usize];
            let mut rej = Vec::new();
            for (p, (&v, &b)) in f.iter().zip(bins).enumerate() {
                if (-3..=-1).contains(&v) {
                    if b < n_bins {
                        rej.push(p as u32);
                    }
                } else if b < n_bins {
                    sig[b as usize] += i64::from(v);
                    var[b as usize] += i64::from(v.max(1));
                }
            }
            for b in 0..n_bins {
                let (s, v) = hist_sums(&params, &sums, fi as u32, b);
                assert_eq!(s, sig[b as usize]);
                assert_eq!(v, if poisson { var[b as usize] } else { 0 });
            }
            let list = &rejects[fi * 17..fi * 17 + 17];
            assert_eq!(list[0] as usize, rej.len());
            let mut got: Vec<u32> = list[1..1 + rej.len().min(16)].to_vec();
            got.sort_unstable();
            let mut want = rej.clone();
            want.sort_unstable();
            want.truncate(16);
            if rej.len() <= 16 {
                assert_eq!(got, want);
            }
        }
    }

    fn values() -> impl Strategy<Value = i32> {
        prop_oneof![
            6 => 0..100i32,
            1 => -5..2i32,
            1 => Just(i32::MAX),
            1 => Just(i32::MIN),
            1 => any::<i32>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn integrate_hist_matches_reference(
            (w, h) in (1u32..150, 1u32..140),
            n_bins in prop_oneof![1u32..8, 400u32..700],
            seed in any::<u64>(),
            frames in prop::collection::vec(prop::collection::vec(values(), 150 * 140), 1..3),
            poisson in any::<bool>(),
        ) {
            let n = (w * h) as usize;
            let frames: Vec<Vec<i32>> = frames.into_iter().map(|f| f[..n].to_vec()).collect();
            // Bins: smooth in the pixel position (local tiles) or scattered (global tiles).
            let bins: Vec<u32> = (0..n as u64)
                .map(|p| {
                    let x = (p.wrapping_mul(seed | 1) >> 7) % u64::from(n_bins + 2);
                    if seed % 3 == 0 { (p * u64::from(n_bins) / n as u64) as u32 } else { x as u32 }
                })
                .collect();
            check(w, h, n_bins, &frames, &bins, poisson);
        }
    }
}
