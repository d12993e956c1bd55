//! The GPU back-projection against the CPU filtered back-projection (same filtering, same
//! geometry and scale) on small cubes, the rotation axis centred and off-centre, bins not a
//! multiple of the workgroup's 64. Without an adapter the test says so and passes, unless
//! `XRDCT_REQUIRE_GPU=1`.
#![cfg(feature = "gpu")]

use xrdct_pipeline::tomo::backproject_gpu::GpuBackprojector;
use xrdct_pipeline::tomo::fbp::{FbpOptions, Filter, SinogramCube, reconstruct};

#[test]
fn gpu_backprojection_matches_cpu() {
    let bp = match GpuBackprojector::from_default_adapter() {
        Ok(b) => b,
        Err(e) => {
            if std::env::var("XRDCT_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("XRDCT_REQUIRE_GPU=1 but no GPU: {e}");
            }
            eprintln!("skipping: no GPU ({e})");
            return;
        }
    };
    for (rot, tr, bins, center, filter) in [
        (40, 33, 70, None, Filter::Ramp),
        (25, 48, 5, Some(23.4), Filter::Hann),
    ] {
        let data: Vec<f32> = (0..rot * tr * bins)
            .map(|i| {
                let (a, t, b) = (i / (tr * bins), (i / bins) % tr, i % bins);
                let x = t as f32 / tr as f32 - 0.5 + 0.05 * (a as f32 * 0.3).sin();
                (1.0 - 4.0 * x * x).max(0.0) * (1.0 + (b % 5) as f32 * 0.2)
            })
            .collect();
        let angles: Vec<f64> = (0..rot).map(|a| a as f64 * 180.0 / rot as f64).collect();
        let cube = SinogramCube::new(&data, rot, tr, bins, &angles).unwrap();
        let opts = FbpOptions { filter, center };
        let cpu = reconstruct(&cube, &opts).unwrap();
        let (gpu, times) = bp.reconstruct(&cube, &opts).unwrap();
        assert_eq!(
            (gpu.bins, gpu.size, gpu.center),
            (cpu.bins, cpu.size, cpu.center)
        );
        let max = cpu.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in cpu.data.iter().zip(&gpu.data).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * max,
                "voxel {i}: cpu {a} gpu {b} (max {max})"
            );
        }
        assert!(times.gpu_wall.as_nanos() > 0);
    }
}
