//! Port of `wgsl/integrate_csr.wgsl`.

use super::integrate_hist::list_reject;
use crate::az::{AzParams, CSR_WORKGROUP, FIRST_FLAG};

/// `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly (the shader's `two_sum`).
pub fn two_sum(a: f32, b: f32) -> [f32; 2] {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    [s, e]
}

/// The compensated sum of two compensated values (the shader's `add_pair`).
pub fn add_pair(x: [f32; 2], y: [f32; 2]) -> [f32; 2] {
    let t = two_sum(x[0], y[0]);
    [t[0], t[1] + (x[1] + y[1])]
}

/// Runs every workgroup of a dispatch of `n_frames * n_bins` workgroups (bindings: params,
/// indptr, indices, coefs, frames, sums, rejects). `rejects` must start zeroed.
pub fn integrate_csr(
    params: &AzParams,
    indptr: &[u32],
    indices: &[u32],
    coefs: &[f32],
    frames: &[i32],
    sums: &mut [[f32; 4]],
    rejects: &mut [u32],
) {
    let is_dummy = |v: i32| {
        params.reject != 0 && (v as u32).wrapping_sub(params.rej_lo as u32) <= params.rej_span
    };
    let wg_size = CSR_WORKGROUP as usize;
    let mut red = vec![[0f32; 4]; wg_size];
    for wg in 0..params.n_frames * params.n_bins {
        let fi = wg / params.n_bins;
        let b = wg % params.n_bins;
        let base = params.in_offset + fi * params.n_pixels;
        let (start, end) = (indptr[b as usize] as usize, indptr[b as usize + 1] as usize);
        for lid in 0..wg_size {
            let (mut s, mut vs) = ([0f32; 2], [0f32; 2]);
            for k in (start + lid..end).step_by(wg_size) {
                let e = indices[k];
                let p = e & !FIRST_FLAG;
                let v = frames[(base + p) as usize];
                if is_dummy(v) {
                    if e & FIRST_FLAG != 0 {
                        list_reject(params, rejects, fi, p);
                    }
                    continue;
                }
                let c = coefs[k];
                s = add_pair(s, [c * v as f32, 0.0]);
                if params.poisson != 0 {
                    vs = add_pair(vs, [c * c * v.max(1) as f32, 0.0]);
                }
            }
            red[lid] = [s[0], s[1], vs[0], vs[1]];
        }
        let mut w = wg_size / 2;
        while w > 0 {
            for lid in 0..w {
                let (x, y) = (red[lid], red[lid + w]);
                let a = add_pair([x[0], x[1]], [y[0], y[1]]);
                let c = add_pair([x[2], x[3]], [y[2], y[3]]);
                red[lid] = [a[0], a[1], c[0], c[1]];
            }
            w /= 2;
        }
        sums[wg as usize] = red[0];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Against f64 sums: within the bound stated in `crate::az` for non-negative values.
        #[test]
        fn integrate_csr_matches_reference(
            rows in prop::collection::vec(
                prop::collection::vec((0u32..5000, 0.001f32..1.0), 0..3000), 1..5),
            frame in prop::collection::vec(prop_oneof![8 => 0..100_000i32, 1 => -3..-1i32], 5000),
        ) {
            let mut indptr = vec![0u32];
            let (mut indices, mut coefs) = (Vec::new(), Vec::new());
            let mut seen = vec![false; 5000];
            for row in &rows {
                let mut row = row.clone();
                row.sort_by_key(|e| e.0);
                row.dedup_by_key(|e| e.0);
                for &(p, c) in &row {
                    let first = !std::mem::replace(&mut seen[p as usize], true);
                    indices.push(p | if first { FIRST_FLAG } else { 0 });
                    coefs.push(c);
                }
                indptr.push(indices.len() as u32);
            }
            let n_bins = rows.len() as u32;
            let params = AzParams {
                n_frames: 1, n_pixels: 5000, n_bins, grid_x: 1, reject: 1, rej_lo: -3,
                rej_span: 2, reject_cap: 5000, poisson: 1, ..AzParams::default()
            };
            let mut sums = vec![[0f32; 4]; n_bins as usize];
            let mut rejects = vec![0u32; 5001];
            integrate_csr(&params, &indptr, &indices, &coefs, &frame, &mut sums, &mut rejects);
            let mut want_rej: Vec<u32> = (0..5000u32)
                .filter(|&p| seen[p as usize] && (-3..=-1).contains(&frame[p as usize]))
                .collect();
            let mut got_rej = rejects[1..1 + rejects[0] as usize].to_vec();
            got_rej.sort_unstable();
            want_rej.sort_unstable();
            prop_assert_eq!(got_rej, want_rej);
            for b in 0..n_bins as usize {
                let (mut s, mut v) = (0f64, 0f64);
                for k in indptr[b] as usize..indptr[b + 1] as usize {
                    let x = frame[(indices[k] & !FIRST_FLAG) as usize];
                    if (-3..=-1).contains(&x) { continue; }
                    let c = f64::from(coefs[k]);
                    s += c * f64::from(x);
                    v += c * c * f64::from(x.max(1));
                }
                let gs = f64::from(sums[b][0]) + f64::from(sums[b][1]);
                let gv = f64::from(sums[b][2]) + f64::from(sums[b][3]);
                prop_assert!((gs - s).abs() <= 1.2e-7 * s.abs() + 1e-30, "signal {} vs {}", gs, s);
                prop_assert!((gv - v).abs() <= 2.4e-7 * v.abs() + 1e-30, "variance {} vs {}", gv, v);
            }
        }
    }

    #[test]
    fn two_sum_is_exact() {
        for (a, b) in [(1.0f32, 1e-8f32), (1e8, -3.0), (0.1, 0.2), (-5.5, 5.5)] {
            let [s, e] = two_sum(a, b);
            assert_eq!(f64::from(s) + f64::from(e), f64::from(a) + f64::from(b));
        }
    }
}
