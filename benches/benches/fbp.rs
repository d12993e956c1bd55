//! Filtered back-projection of whole sinogram cubes (`xrdct_pipeline::tomo::fbp::reconstruct`).
//!
//! `fbp/cube_200x200x2000` is the acceptance case of BENCHMARKS.md (200 rotations × 200
//! translations × 2000 bins); `fbp/cube_100x100x500` is a quick one for development.
//! The scikit-image baseline is `scripts/fbp_vs_skimage.py --bench`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use xrdct_pipeline::sim::phantom::Phantom;
use xrdct_pipeline::tomo::fbp::{self, FbpOptions, Filter, SinogramCube};
use xrdct_pipeline::tomo::scan::angles_range;

/// A cube whose bin b holds the Shepp-Logan sinogram scaled by a smooth pattern.
fn cube(rot: usize, n: usize, bins: usize) -> (Vec<f32>, Vec<f64>) {
    let angles = angles_range(0.0, 180.0, rot, false);
    let s = Phantom::shepp_logan(0.45 * n as f64).sinogram(&angles, n, (n / 2) as f64);
    let w: Vec<f32> = (0..bins).map(|b| 1.0 + (b as f32 * 0.05).sin()).collect();
    let mut out = Vec::with_capacity(rot * n * bins);
    for &v in &s {
        out.extend(w.iter().map(|&x| x * v));
    }
    (out, angles)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fbp");
    g.sample_size(10);
    println!("fbp kernel: {}", fbp::active_path());
    for &(rot, n, bins) in &[(100usize, 100usize, 500usize), (200, 200, 2000)] {
        let (data, angles) = cube(rot, n, bins);
        let cube = SinogramCube::new(&data, rot, n, bins, &angles).expect("valid cube");
        g.throughput(Throughput::Elements(bins as u64));
        g.bench_function(format!("cube_{rot}x{n}x{bins}"), |b| {
            b.iter(|| {
                fbp::reconstruct(
                    black_box(&cube),
                    &FbpOptions {
                        filter: Filter::Ramp,
                        center: None,
                    },
                )
                .expect("reconstruct")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
