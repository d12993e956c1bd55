//! Port of `wgsl/backproject.wgsl`.

use crate::bp::BpParams;

/// Runs every invocation (bindings: params, trig, pixels, filtered, out).
pub fn backproject(
    params: &BpParams,
    trig: &[[f32; 2]],
    pixels: &[u32],
    filtered: &[f32],
    out: &mut [f32],
) {
    let (n, bins, len) = (params.n as usize, params.bins as usize, params.len);
    for &rc in &pixels[..params.n_pixels as usize] {
        let (row, col) = (rc >> 16, rc & 0xffff);
        let x = row as f32 - params.radius;
        let y = col as f32 - params.radius;
        for b in 0..bins {
            let mut acc = 0f32;
            for (a, sc) in trig[..params.n_angles as usize].iter().enumerate() {
                let t = y * sc[1] - x * sc[0];
                let padded = t + params.pad_lo;
                if padded < 0.0 || padded > params.pad_hi {
                    continue;
                }
                let pos = t + params.offset;
                let k = pos.floor();
                let w1 = pos - k;
                let j = (k.max(0.0) as u32).min(len - 2);
                let off = ((a as u32 * len + j) as usize) * bins + b;
                acc += (1.0 - w1) * filtered[off] + w1 * filtered[off + bins];
            }
            out[b * n * n + row as usize * n + col as usize] = acc * params.scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain f64 loop over (bin, pixel, angle) with the same geometry.
    #[test]
    fn backproject_matches_reference() {
        let (n, bins, angles) = (17usize, 5usize, 12usize);
        let radius = (n / 2) as f64;
        let center = radius + 0.3;
        let lo = (center - radius).floor() as i64 - 1;
        let len = ((center + radius).floor() as i64 + 2 - lo + 1) as usize;
        let diag = ((2f64).sqrt() * n as f64).ceil() as usize;
        let pad_before = diag / 2 - n / 2;
        let filtered: Vec<f32> = (0..angles * len * bins)
            .map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 3.0)
            .collect();
        let th: Vec<f64> = (0..angles).map(|a| a as f64 * 15f64.to_radians()).collect();
        let trig: Vec<[f32; 2]> = th
            .iter()
            .map(|t| [t.sin() as f32, t.cos() as f32])
            .collect();
        let mut pixels = Vec::new();
        for r in 0..n {
            for c in 0..n {
                let (x, y) = (r as i64 - radius as i64, c as i64 - radius as i64);
                if x * x + y * y <= (radius * radius) as i64 {
                    pixels.push((r as u32) << 16 | c as u32);
                }
            }
        }
        let scale = std::f64::consts::PI / (2.0 * angles as f64);
        let params = BpParams {
            n: n as u32,
            bins: bins as u32,
            len: len as u32,
            n_angles: angles as u32,
            n_pixels: pixels.len() as u32,
            grid_y: 1,
            radius: radius as f32,
            offset: (center - lo as f64) as f32,
            pad_lo: (center + pad_before as f64) as f32,
            pad_hi: (diag - 1) as f32,
            scale: scale as f32,
            _pad0: 0,
        };
        let mut out = vec![0f32; bins * n * n];
        backproject(&params, &trig, &pixels, &filtered, &mut out);
        for &rc in &pixels {
            let (r, c) = ((rc >> 16) as usize, (rc & 0xffff) as usize);
            for b in 0..bins {
                let mut acc = 0f64;
                for (a, t) in th.iter().enumerate() {
                    let tt = (c as f64 - radius) * t.cos() - (r as f64 - radius) * t.sin();
                    let padded = tt + center + pad_before as f64;
                    if !(0.0..=(diag - 1) as f64).contains(&padded) {
                        continue;
                    }
                    let pos = tt + center - lo as f64;
                    let k = pos.floor();
                    let w1 = pos - k;
                    let k = (k as usize).min(len - 2);
                    let f = |j: usize| f64::from(filtered[(a * len + j) * bins + b]);
                    acc += (1.0 - w1) * f(k) + w1 * f(k + 1);
                }
                let want = acc * scale;
                let got = f64::from(out[b * n * n + r * n + c]);
                assert!(
                    (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                    "{got} vs {want}"
                );
            }
        }
    }
}
