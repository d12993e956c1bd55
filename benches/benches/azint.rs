//! azint CPU engines on a Pilatus 2M CdTe (1679 × 1475) with the synthetic XRD-CT geometry
//! (`xrdct_pipeline::sim::frames`, 0.40 m, 70 keV, small tilts), 2000 bins, 2th_deg, Poisson errors,
//! dummy −2 ± 1.5, polarization 0.99, detector gaps masked:
//!
//! - `azint_build/{no,bbox}`: engine construction (pixel map excluded);
//! - `azint_integrate/{no,bbox}`: one decoded frame in memory → pattern, one core;
//! - `azint_fused/{no,bbox}`: one compressed frame in memory → pattern through
//!   `byteoffset::decode_visit` blocks of one engine tile (32 768 pixels) (the decoded frame never exists), one core;
//! - `azint_fused_2cores/{no,bbox}`: 8 compressed frames shared by the rayon pool (frames,
//!   not bins, in parallel), throughput in frames.
//!
//! `cargo bench -p xrdct-benches --bench azint`

use std::hint::black_box;

use azint::engine::{Engine, ErrorModel, IntegrationConfig, Split};
use azint::geometry::{Geometry, PixelMap, PixelMapOptions, Polarization};
use azint::poni::Poni;
use azint::units::Unit;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use xrdct_pipeline::sim::frames::{PILATUS_PIXEL_M, SynthDetector, SynthGeometry, realistic_frame};

const BINS: usize = 2000;
const VISIT_BLOCK: usize = azint::engine::TILE;

fn pixel_map() -> PixelMap {
    let g = SynthGeometry::default();
    let text = format!(
        "poni_version: 2.1\nDetector: PilatusCdTe2M\nDetector_config: {{\"orientation\": 3}}\n\
         Distance: {}\nPoni1: {}\nPoni2: {}\nRot1: 0.002\nRot2: -0.003\nRot3: 0.0\nWavelength: {}\n",
        g.distance_m,
        g.poni_row_px * PILATUS_PIXEL_M,
        g.poni_col_px * PILATUS_PIXEL_M,
        g.wavelength_m
    );
    let poni = Poni::parse(&text).expect("PONI");
    let geometry = Geometry::from_poni(&poni).expect("geometry");
    let options = PixelMapOptions {
        polarization: Some(Polarization {
            factor: g.polarization,
            axis_offset: 0.0,
        }),
        corners: true,
        ..PixelMapOptions::new()
    };
    geometry
        .pixel_map(Unit::TwoThetaDeg, &options)
        .expect("pixel map")
}

fn config(split: Split) -> IntegrationConfig {
    IntegrationConfig {
        bins: BINS,
        split,
        dummy: Some(-2.0),
        delta_dummy: Some(1.5),
        error_model: ErrorModel::Poisson,
        ..IntegrationConfig::default()
    }
}

fn fused(engine: &Engine, compressed: &[u8], block: &mut [i32]) -> azint::engine::Pattern {
    let mut acc = engine.new_accumulator();
    let mut failed = false;
    byteoffset::decode_visit(compressed, engine.n_pixels(), block, |first, px| {
        failed |= engine.add_block(&mut acc, first, px).is_err();
    })
    .expect("decode");
    assert!(!failed);
    engine.finish(&acc, 1.0).expect("finish")
}

fn benches(c: &mut Criterion) {
    let map = pixel_map();
    let detector = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
    let frames: Vec<Vec<i32>> = (0..8).map(|s| realistic_frame(&detector, s)).collect();
    let compressed: Vec<Vec<u8>> = frames.iter().map(|f| byteoffset::encode(f)).collect();
    let n = map.radial.len();

    let mut group = c.benchmark_group("azint_build");
    group.sample_size(10);
    for (name, split) in [("no", Split::No), ("bbox", Split::BBox)] {
        group.bench_function(name, |b| {
            b.iter(|| Engine::new(black_box(&map), &config(split)).expect("engine"))
        });
    }
    group.finish();

    let engines: Vec<(&str, Engine)> = [("no", Split::No), ("bbox", Split::BBox)]
        .into_iter()
        .map(|(name, split)| (name, Engine::new(&map, &config(split)).expect("engine")))
        .collect();

    let mut group = c.benchmark_group("azint_integrate");
    group.throughput(Throughput::Elements(n as u64));
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("decoded_i32", name), |b| {
            b.iter(|| {
                engine
                    .integrate_i32(black_box(&frames[0]), 1.0)
                    .expect("integrate")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("azint_fused");
    group.throughput(Throughput::Elements(n as u64));
    let mut block = vec![0i32; VISIT_BLOCK];
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("compressed", name), |b| {
            b.iter(|| fused(engine, black_box(&compressed[0]), &mut block))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("azint_fused_2cores");
    group.throughput(Throughput::Elements(compressed.len() as u64));
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("frames", name), |b| {
            b.iter(|| {
                compressed
                    .par_iter()
                    .map_init(
                        || vec![0i32; VISIT_BLOCK],
                        |block, c| fused(engine, c, block).intensity[0],
                    )
                    .sum::<f64>()
            })
        });
    }
    group.finish();
}

criterion_group!(azint_benches, benches);
criterion_main!(azint_benches);
