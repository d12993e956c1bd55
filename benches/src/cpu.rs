//! `xrdct bench`: how fast this machine reduces Pilatus 2M frames, stage by stage, against the
//! detector's 250 frames/s.
//!
//! Frames are the project's synthetic Pilatus3 2M CdTe frames ([`xrdct_pipeline::sim::frames`]), written as
//! byte-offset miniCBF in memory. Stages:
//! - `decode`: byte-offset payload → whole i32 frame (per code path: the active SIMD path and
//!   the portable scalar one);
//! - `integrate`: decoded frame → pattern (azint engine, per splitting);
//! - `fused`: CBF bytes → parse → decode in tile-sized blocks (L2) → accumulators → pattern, the CPU
//!   reducer the pipeline runs;
//! - `pipeline`: the whole engine (feeder, workers, in-order writer) into a NeXus file.
//!
//! Every stage runs on `threads` threads sharing the frames; rates are frames per wall-clock
//! second over all threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use azint::engine::Split;
use azint::geometry::Geometry;
use azint::poni::Poni;
use serde::Serialize;

use xrdct_pipeline::engine::{CpuReducer, IntegrateSettings, SetupError};
use xrdct_pipeline::engine::{FrameReducer, Pipeline, PipelineOptions};
use xrdct_pipeline::inputs::FrameSource;
use xrdct_pipeline::nexus::{NexusOptions, NexusWriter};
use xrdct_pipeline::readers::{Codec, FrameData, Payload};
use xrdct_pipeline::sim::frames::{
    PILATUS_PIXEL_M, PILATUS2M_COLS, PILATUS2M_ROWS, SynthDetector, SynthGeometry, realistic_frame,
};

/// The detector's frame rate the figures are compared with.
pub const DETECTOR_FPS: f64 = 250.0;

/// A stage of the reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Byte-offset decoding of whole frames.
    Decode,
    /// Integration of decoded frames.
    Integrate,
    /// Parse + fused decode→integrate.
    Fused,
    /// The whole engine into NeXus.
    Pipeline,
}

impl Stage {
    /// Every stage, in the order they run.
    pub const ALL: [Stage; 4] = [
        Stage::Decode,
        Stage::Integrate,
        Stage::Fused,
        Stage::Pipeline,
    ];

    /// Parses `decode`, `integrate`, `fused`, `pipeline`.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.name() == s)
    }

    /// The stage's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Integrate => "integrate",
            Stage::Fused => "fused",
            Stage::Pipeline => "pipeline",
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Stages to run.
    pub stages: Vec<Stage>,
    /// Frames per measurement.
    pub frames: usize,
    /// Distinct frames rendered (cycled through).
    pub distinct: usize,
    /// Splitting schemes for the integrating stages.
    pub splits: Vec<Split>,
    /// Threads (0: one per core).
    pub threads: usize,
    /// Radial bins.
    pub bins: usize,
    /// Measurements per figure; the figure is their median (machines are noisy).
    pub repeat: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            stages: Stage::ALL.to_vec(),
            frames: 400,
            distinct: 8,
            splits: vec![Split::No, Split::BBox],
            threads: 0,
            bins: 2000,
            repeat: 3,
        }
    }
}

/// One measured figure (the keys of `xrdct bench --json`).
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Stage.
    pub stage: Stage,
    /// Backend (`cpu`).
    pub backend: String,
    /// Code path of the decoder (`scalar`, `avx2`, `avx512`).
    pub path: String,
    /// Pixel splitting (`no`, `bbox`, `full`), `null` for decoding.
    pub split: Option<String>,
    /// Threads.
    pub threads: usize,
    /// Frames per second.
    pub frames_per_s: f64,
    /// Detector pixels per second, in billions.
    pub gpixel_per_s: f64,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The integrator could not be built.
    #[error("{0}")]
    Setup(#[from] SetupError),
    /// A frame failed (a bug: the synthetic frames are valid).
    #[error("frame failed: {0}")]
    Frame(String),
    /// The NeXus output failed (environment).
    #[error("{0}")]
    Output(String),
}

/// Synthetic frames as CBF bytes, their decoded pixels and the matching PONI text.
#[derive(Debug)]
pub struct BenchFrames {
    /// Miniature CBF files in memory.
    pub cbf: Vec<std::sync::Arc<[u8]>>,
    /// The decoded pixels of each.
    pub pixels: Vec<Vec<i32>>,
    /// PONI text of the synthetic geometry.
    pub poni_text: String,
}

impl BenchFrames {
    /// Renders `n` distinct realistic Pilatus 2M CdTe frames.
    pub fn new(n: usize) -> Self {
        let det = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
        let g = det.geometry().clone();
        let pixels: Vec<Vec<i32>> = (0..n.max(1) as u64)
            .map(|s| realistic_frame(&det, s))
            .collect();
        let header = cbf_format::Header {
            flux: Some(1e12),
            exposure_time: Some(0.004),
            ..Default::default()
        };
        let cbf = pixels
            .iter()
            .map(|p| {
                cbf_format::writer::MiniCbfWriter::new(&header)
                    .write(&[PILATUS2M_COLS, PILATUS2M_ROWS], p)
                    .expect("frame dimensions match")
                    .into()
            })
            .collect();
        let poni_text = format!(
            "poni_version: 2.1\nDetector: PilatusCdTe2M\n\
             Detector_config: {{\"pixel1\": 0.000172, \"pixel2\": 0.000172, \"orientation\": 3}}\n\
             Distance: {}\nPoni1: {}\nPoni2: {}\nRot1: 0.0\nRot2: 0.0\nRot3: 0.0\nWavelength: {}\n",
            g.distance_m,
            g.poni_row_px * PILATUS_PIXEL_M,
            g.poni_col_px * PILATUS_PIXEL_M,
            g.wavelength_m
        );
        BenchFrames {
            cbf,
            pixels,
            poni_text,
        }
    }

    /// Mean compressed size, bytes.
    pub fn mean_cbf_bytes(&self) -> f64 {
        self.cbf.iter().map(|b| b.len() as f64).sum::<f64>() / self.cbf.len() as f64
    }

    /// A CPU reducer for this geometry: `bins` bins of 2θ, polarization 0.99, Poisson errors.
    pub fn reducer(&self, split: Split, bins: usize) -> Result<CpuReducer, BenchError> {
        let poni = Poni::parse(&self.poni_text).map_err(SetupError::from)?;
        let geometry = Geometry::from_poni(&poni).map_err(SetupError::from)?;
        let mut s = IntegrateSettings::new(PathBuf::from("synthetic.poni"), bins);
        s.split = split;
        s.polarization = Some(0.99);
        Ok(s.build_with(&geometry, self.poni_text.clone())?)
    }
}

const PIXELS: f64 = (PILATUS2M_ROWS * PILATUS2M_COLS) as f64;

/// Median of `repeat` (at least 1) runs of `run`.
fn median_of(
    repeat: usize,
    mut run: impl FnMut() -> Result<f64, BenchError>,
) -> Result<f64, BenchError> {
    let mut v = Vec::new();
    for _ in 0..repeat.max(1) {
        v.push(run()?);
    }
    v.sort_by(f64::total_cmp);
    let k = v.len();
    Ok(if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    })
}

/// Runs `work(state, frame_index)` for `n` frames on `threads` threads, each with its own
/// `init()` state; returns frames/s.
fn measure<S>(
    n: usize,
    threads: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> Result<(), BenchError> + Sync,
) -> Result<f64, BenchError> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<(), BenchError> {
                    let mut state = init();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n {
                            return Ok(());
                        }
                        work(&mut state, k)?;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| BenchError::Frame("a benchmark thread panicked".into()))??;
        }
        Ok::<(), BenchError>(())
    })?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn result(stage: Stage, path: &str, split: Option<Split>, threads: usize, fps: f64) -> BenchResult {
    BenchResult {
        stage,
        backend: "cpu".into(),
        path: path.into(),
        split: split.map(|s| s.name().to_string()),
        threads,
        frames_per_s: (fps * 10.0).round() / 10.0,
        gpixel_per_s: (fps * PIXELS / 1e9 * 1000.0).round() / 1000.0,
    }
}

/// Runs the benchmarks, calling `report` after each figure.
pub fn run_bench(
    opts: &BenchOptions,
    frames: &BenchFrames,
    mut report: impl FnMut(&BenchResult),
) -> Result<Vec<BenchResult>, BenchError> {
    let threads = xrdct_pipeline::engine::worker_count(opts.threads);
    let n = opts.frames.max(1);
    let m = frames.cbf.len();
    let active = byteoffset::active_path();
    let mut out = Vec::new();
    let mut push = |r: BenchResult, out: &mut Vec<BenchResult>| {
        report(&r);
        out.push(r);
    };
    let parsed: Vec<cbf_format::CbfFile<'_>> = frames
        .cbf
        .iter()
        .map(|b| cbf_format::CbfFile::from_bytes(b).map_err(|e| BenchError::Frame(e.to_string())))
        .collect::<Result<_, _>>()?;
    let payload = |k: usize| parsed[k % m].sections()[0].payload();

    if opts.stages.contains(&Stage::Decode) {
        let mut paths = vec![active];
        if active != byteoffset::Path::Scalar {
            paths.push(byteoffset::Path::Scalar);
        }
        for path in paths {
            let fps = median_of(opts.repeat, || {
                measure(
                    n,
                    threads,
                    || vec![0i32; PILATUS2M_ROWS * PILATUS2M_COLS],
                    |buf, k| {
                        byteoffset::decode_into_with(path, payload(k), buf)
                            .map_err(|e| BenchError::Frame(e.to_string()))
                    },
                )
            })?;
            push(
                result(Stage::Decode, path.name(), None, threads, fps),
                &mut out,
            );
        }
    }
    for &split in &opts.splits {
        let wants = |s: Stage| opts.stages.contains(&s);
        if !(wants(Stage::Integrate) || wants(Stage::Fused) || wants(Stage::Pipeline)) {
            break;
        }
        let reducer = frames.reducer(split, opts.bins)?;
        if wants(Stage::Integrate) {
            let engine = reducer.engine();
            let fps = median_of(opts.repeat, || {
                measure(
                    n,
                    threads,
                    || (),
                    |_, k| {
                        engine
                            .integrate_i32(&frames.pixels[k % m], 1.0)
                            .map(drop)
                            .map_err(|e| BenchError::Frame(e.to_string()))
                    },
                )
            })?;
            push(
                result(Stage::Integrate, "-", Some(split), threads, fps),
                &mut out,
            );
        }
        if wants(Stage::Fused) {
            // One frame per call; and, where the worker takes batches (splitting engines sum
            // up to four frames per pass over their matrix), batches as the pipeline hands
            // them out.
            let batch = reducer.worker().batch_size().max(1);
            let mut batches = vec![1];
            if batch > 1 {
                batches.push(batch);
            }
            for b in batches {
                let fps = median_of(opts.repeat, || {
                    let units = n.div_ceil(b);
                    let fps_units = measure(
                        units,
                        threads,
                        || (reducer.worker(), Vec::new()),
                        |(worker, out), u| {
                            // Parsing is part of the stage, as in the pipeline's workers.
                            let files = (u * b..u * b + b)
                                .map(|k| cbf_format::CbfFile::from_bytes(&frames.cbf[k % m]))
                                .collect::<Result<Vec<_>, _>>()
                                .map_err(|e| BenchError::Frame(e.to_string()))?;
                            let batch: Vec<FrameData<'_>> = files
                                .iter()
                                .enumerate()
                                .map(|(j, f)| {
                                    let s = &f.sections()[0];
                                    FrameData {
                                        index: u * b + j,
                                        dims: [s.dims()[0], s.dims()[1]],
                                        payload: Payload::Encoded {
                                            codec: Codec::ByteOffset,
                                            bytes: s.payload(),
                                        },
                                        normalization: 1.0,
                                    }
                                })
                                .collect();
                            out.clear();
                            worker.reduce_batch(&batch, out);
                            match out.iter().find_map(|r| r.as_ref().err()) {
                                Some(e) => Err(BenchError::Frame(e.to_string())),
                                None => Ok(()),
                            }
                        },
                    )?;
                    Ok(fps_units * b as f64)
                })?;
                let path = if b > 1 {
                    format!("{}-x{b}", active.name())
                } else {
                    active.name().to_string()
                };
                push(
                    result(Stage::Fused, &path, Some(split), threads, fps),
                    &mut out,
                );
            }
        }
        if wants(Stage::Pipeline) {
            let fps = median_of(opts.repeat, || pipeline_fps(&reducer, frames, n, threads))?;
            push(
                result(Stage::Pipeline, active.name(), Some(split), threads, fps),
                &mut out,
            );
        }
    }
    Ok(out)
}

/// One run of the whole pipeline (queue, workers, reorder, NeXus writer) on `n` frames.
fn pipeline_fps(
    reducer: &CpuReducer,
    frames: &BenchFrames,
    n: usize,
    threads: usize,
) -> Result<f64, BenchError> {
    let m = frames.cbf.len();
    let dir = std::env::temp_dir().join(format!("xrdct-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Output(e.to_string()))?;
    let path = dir.join("bench.h5");
    let mut sink = NexusWriter::create(&path, reducer.info(), &NexusOptions::default())
        .map_err(|e| BenchError::Output(e.to_string()))?;
    let sources = (0..n).map(|k| FrameSource::Memory {
        name: format!("synthetic_{k:05}.cbf").into(),
        bytes: frames.cbf[k % m].clone(),
    });
    let opts_p = PipelineOptions {
        workers: threads,
        ..Default::default()
    };
    let stats = Pipeline::new(reducer, opts_p)
        .run(sources, 0, &mut sink)
        .map_err(|e| BenchError::Output(e.to_string()))?;
    sink.finish(&serde_json::json!({}))
        .map_err(|e| BenchError::Output(e.to_string()))?;
    let _ = std::fs::remove_dir_all(&dir);
    if stats.failed > 0 {
        return Err(BenchError::Frame(stats.failures[0].1.clone()));
    }
    Ok(stats.frames_per_s())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_roundtrip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.name()), Some(s));
        }
        assert_eq!(Stage::parse("nope"), None);
    }
}
