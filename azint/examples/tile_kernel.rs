//! Times the engine's per-tile kernels on one tile that stays in cache (no decoding): the
//! cost per pixel of the histogram / splitting sums alone. Flat Pilatus 2M-sized detector.
//!
//! `cargo run --release -p azint --example tile_kernel`

use azint::engine::{Accumulator, Engine, ErrorModel, IntegrationConfig, Split};
use azint::geometry::PixelMap;
use std::time::Instant;

fn map(rows: usize, cols: usize, centre: (f64, f64)) -> PixelMap {
    let n = rows * cols;
    let pos = |r: f64, q: f64| {
        let (y, x) = (r - centre.0, q - centre.1);
        [
            (x * x + y * y).sqrt().atan2(2325.0).to_degrees(),
            y.atan2(x),
        ]
    };
    let mut radial = Vec::with_capacity(n);
    let mut azimuth = Vec::with_capacity(n);
    let mut corners = Vec::with_capacity(n);
    for i in 0..rows {
        for j in 0..cols {
            let (r, q) = (i as f64, j as f64);
            let p = pos(r + 0.5, q + 0.5);
            radial.push(p[0]);
            azimuth.push(p[1]);
            corners.push([
                pos(r, q),
                pos(r + 1.0, q),
                pos(r + 1.0, q + 1.0),
                pos(r, q + 1.0),
            ]);
        }
    }
    PixelMap {
        shape: (rows, cols),
        radial,
        azimuth,
        corners: Some(corners),
        solid_angle: vec![1.0; n],
        polarization: None,
        mask: vec![false; n],
    }
}

fn main() {
    let (rows, cols) = (1679, 1475);
    let m = map(rows, cols, (852.3, 730.6));
    let n = rows * cols;
    let frame: Vec<i32> = (0..n).map(|k| ((k * 7919) % 13) as i32).collect();
    for split in [Split::No, Split::BBox] {
        let cfg = IntegrationConfig {
            bins: 2000,
            split,
            dummy: Some(-2.0),
            delta_dummy: Some(1.5),
            error_model: ErrorModel::Poisson,
            ..IntegrationConfig::default()
        };
        let t0 = Instant::now();
        let engine = Engine::new(&m, &cfg).unwrap();
        let build = t0.elapsed().as_secs_f64();
        let tile = engine.preferred_block();
        let mut acc = engine.new_accumulator();
        // One tile in the middle of the frame, again and again (stays in L2).
        let first = (n / 2 / tile) * tile;
        let px = &frame[first..first + tile];
        let reps = 400;
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                engine.add_block(&mut acc, first, px).unwrap();
            }
            best = best.min(t.elapsed().as_secs_f64());
            acc.reset();
        }
        let ns = best / (reps * tile) as f64 * 1e9;
        // Every tile of the frame in turn (the matrix streams from memory), the pixels from
        // one buffer that stays in L2.
        let buf: Vec<i32> = px.to_vec();
        let mut best_all = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..20 {
                acc.reset();
                for first in (0..n).step_by(tile) {
                    let len = tile.min(n - first);
                    engine.add_block(&mut acc, first, &buf[..len]).unwrap();
                }
            }
            best_all = best_all.min(t.elapsed().as_secs_f64() / 20.0);
        }
        // Several frames per pass (what the pipeline runs for splitting engines).
        let frames: Vec<Vec<i32>> = (0..4)
            .map(|k| buf.iter().map(|v| v + k).collect())
            .collect();
        let mut accs = [(); 4].map(|_| engine.new_accumulator());
        let per_pass = |n_frames: usize, accs: &mut [Accumulator; 4]| -> f64 {
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..(12 / n_frames) {
                    for first in (0..n).step_by(tile) {
                        let len = tile.min(n - first);
                        let px = |k: usize| &frames[k][..len];
                        let [a, b, c, d] = accs.each_mut();
                        match n_frames {
                            2 => engine.add_blocks([a, b], first, [px(0), px(1)]),
                            3 => engine.add_blocks([a, b, c], first, [px(0), px(1), px(2)]),
                            _ => {
                                engine.add_blocks([a, b, c, d], first, [px(0), px(1), px(2), px(3)])
                            }
                        }
                        .unwrap();
                    }
                }
                best = best.min(t.elapsed().as_secs_f64() / 12.0);
            }
            best / n as f64 * 1e9
        };
        let multi: Vec<String> = [2, 3, 4]
            .iter()
            .map(|&k| format!("{:.3}", per_pass(k, &mut accs)))
            .collect();
        println!(
            "  all tiles, pixels in L2: {:.3} ns/pixel one frame per pass; 2, 3, 4 frames per pass: {}",
            best_all / n as f64 * 1e9,
            multi.join(" ")
        );
        let nnz = engine.matrix().nnz() as f64 / n as f64;
        println!(
            "{split:?}: build {build:.2} s, {nnz:.2} entries/pixel, one tile in cache: {ns:.3} ns/pixel ({:.0} frames/s/core equivalent)",
            1e9 / (ns * n as f64)
        );
    }
}
