//! The whole CPU engine of `xrdct-pipeline` (feeder, workers with the fused decode→integrate
//! reducer, in-order writer) on synthetic Pilatus 2M CdTe frames in memory, 2000 bins of 2θ,
//! Poisson errors, polarization 0.99, all cores:
//!
//! - `pipeline_memory/{no,bbox}`: 64 frames into memory (the engine alone);
//! - `pipeline_nexus/{no,bbox}`: 64 frames into a NeXus file (deflate 1, blocks of 32).
//!
//! Throughput is in frames. `cargo bench -p xrdct-benches --bench pipeline`

use azint::engine::Split;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use xrdct_benches::cpu::BenchFrames;
use xrdct_pipeline::engine::{MemorySink, Pipeline, PipelineOptions};
use xrdct_pipeline::inputs::FrameSource;
use xrdct_pipeline::nexus::{NexusOptions, NexusWriter};

const FRAMES: usize = 64;

fn sources(frames: &BenchFrames) -> impl Iterator<Item = FrameSource> + Send + '_ {
    (0..FRAMES).map(|k| FrameSource::Memory {
        name: format!("synthetic_{k:03}.cbf").into(),
        bytes: frames.cbf[k % frames.cbf.len()].clone(),
    })
}

fn pipeline(c: &mut Criterion) {
    let frames = BenchFrames::new(8);
    let dir = std::env::temp_dir().join(format!("xrdct-bench-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, split) in [("no", Split::No), ("bbox", Split::BBox)] {
        let reducer = frames.reducer(split, 2000).expect("reducer");
        let mut g = c.benchmark_group("pipeline_memory");
        g.throughput(Throughput::Elements(FRAMES as u64));
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let mut sink = MemorySink::default();
                let stats = Pipeline::new(&reducer, PipelineOptions::default())
                    .run(sources(&frames), 0, &mut sink)
                    .expect("run");
                assert_eq!(stats.failed, 0);
            })
        });
        g.finish();
        let mut g = c.benchmark_group("pipeline_nexus");
        g.throughput(Throughput::Elements(FRAMES as u64));
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let out = dir.join("bench.h5");
                let mut sink = NexusWriter::create(&out, reducer.info(), &NexusOptions::default())
                    .expect("create");
                let stats = Pipeline::new(&reducer, PipelineOptions::default())
                    .run(sources(&frames), 0, &mut sink)
                    .expect("run");
                sink.finish(&Default::default()).expect("finish");
                assert_eq!(stats.failed, 0);
            })
        });
        g.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
