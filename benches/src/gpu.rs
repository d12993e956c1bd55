//! The GPU benchmark (`gpu_bench` in `xrdct-benches`): realistic Pilatus 2M frames from
//! host memory to patterns in host memory through the whole pipeline, CPU and GPU backends
//! in the same run; device time per stage from timestamp queries; the host→device copy
//! bandwidth the same program reaches with a plain buffer copy; and the GPU back-projection
//! of a cube against the CPU's.

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Value, json};

use azint::gpu::{GpuIntegrator, GpuOptions};
use byteoffset::gpu::{Decoder, DecoderOptions, FrameInput};

use xrdct_pipeline::engine::gpu::{GpuReducer, GpuReducerOptions};
use xrdct_pipeline::engine::{CpuReducer, IntegrateSettings};
use xrdct_pipeline::engine::{FrameReducer, MemorySink, Pipeline, PipelineOptions};
use xrdct_pipeline::inputs::FrameSource;
use xrdct_pipeline::sim::frames::{
    PILATUS_PIXEL_M, PILATUS2M_COLS, PILATUS2M_ROWS, SynthDetector, SynthGeometry, realistic_frame,
};
use xrdct_pipeline::tomo::backproject_gpu::GpuBackprojector;
use xrdct_pipeline::tomo::fbp::{FbpOptions, SinogramCube};

/// What to run.
#[derive(Clone, Debug)]
pub struct GpuBenchOptions {
    /// Distinct compressed frames held in memory (cycled through).
    pub distinct: usize,
    /// Frames per GPU pipeline run.
    pub frames: usize,
    /// Frames per CPU pipeline run.
    pub cpu_frames: usize,
    /// Radial bins.
    pub bins: usize,
    /// Splitting schemes (`no`, `bbox`, `full`).
    pub splits: Vec<String>,
    /// Frames per GPU worker batch.
    pub batch: usize,
    /// Pipeline workers (0: one per core).
    pub workers: usize,
    /// Back-projection cube (rotations, translations, bins); `None` skips it.
    pub cube: Option<(usize, usize, usize)>,
    /// Also time the CPU back-projection of the cube.
    pub cpu_fbp: bool,
}

impl Default for GpuBenchOptions {
    fn default() -> Self {
        GpuBenchOptions {
            distinct: 64,
            frames: 4000,
            cpu_frames: 1000,
            bins: 2000,
            splits: vec!["no".into(), "bbox".into()],
            batch: 32,
            workers: 0,
            cube: Some((200, 200, 2000)),
            cpu_fbp: true,
        }
    }
}

fn poni_text(g: &SynthGeometry) -> String {
    format!(
        "poni_version: 2.1\nDetector: PilatusCdTe2M\n\
         Detector_config: {{\"pixel1\": 0.000172, \"pixel2\": 0.000172, \"orientation\": 3}}\n\
         Distance: {}\nPoni1: {}\nPoni2: {}\nRot1: 0.0021\nRot2: -0.0034\nRot3: 0.0\nWavelength: {}\n",
        g.distance_m,
        g.poni_row_px * PILATUS_PIXEL_M,
        g.poni_col_px * PILATUS_PIXEL_M,
        g.wavelength_m
    )
}

fn reducer(split: &str, bins: usize, det: &SynthDetector) -> Result<CpuReducer, String> {
    let dir = std::env::temp_dir().join(format!("xrdct-gpu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let poni = dir.join("pilatus.poni");
    let text = poni_text(det.geometry());
    std::fs::write(&poni, &text).map_err(|e| e.to_string())?;
    let mut s = IntegrateSettings::new(&poni, bins);
    s.split = split.parse().map_err(|e: azint::Error| e.to_string())?;
    s.polarization = Some(0.99);
    s.dummy = Some((-2.0, 1.5));
    s.build().map_err(|e| e.to_string())
}

fn run_pipeline(r: &dyn FrameReducer, frames: &[Arc<[u8]>], n: usize, workers: usize) -> Value {
    let sources = (0..n).map(|k| FrameSource::Memory {
        name: format!("f{k}").into(),
        bytes: frames[k % frames.len()].clone(),
    });
    let mut sink = MemorySink::default();
    let t0 = Instant::now();
    let stats = Pipeline::new(
        r,
        PipelineOptions {
            workers,
            ..Default::default()
        },
    )
    .run(sources, 0, &mut sink);
    let wall = t0.elapsed().as_secs_f64();
    match stats {
        Ok(s) => json!({
            "frames": s.frames, "failed": s.failed, "wall_s": wall,
            "frames_per_s": s.frames as f64 / wall,
            "gpixel_per_s": s.frames as f64 * (PILATUS2M_ROWS * PILATUS2M_COLS) as f64 / wall / 1e9,
            "workers": s.workers,
        }),
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// Device time per stage for one batch of `n` frames (decoder and integrator timestamps).
fn stage_times(cpu: &CpuReducer, streams: &[&[u8]], n: usize) -> Result<Value, String> {
    let engine = Arc::new(cpu.engine().clone());
    let mut dec = Decoder::from_default_adapter(DecoderOptions {
        timestamps: true,
        max_batch_frames: n,
        ..DecoderOptions::default()
    })
    .map_err(|e| e.to_string())?;
    let integ = GpuIntegrator::new(
        dec.device().clone(),
        dec.queue().clone(),
        engine,
        GpuOptions {
            timestamps: true,
            max_batch_frames: n,
            ..GpuOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let inputs: Vec<FrameInput<'_>> = (0..n)
        .map(|k| FrameInput {
            stream: streams[k % streams.len()],
            pixels: PILATUS2M_ROWS * PILATUS2M_COLS,
        })
        .collect();
    let bytes: usize = inputs.iter().map(|f| f.stream.len()).sum();
    let mut best: Option<Value> = None;
    let mut best_total = f64::INFINITY;
    for _ in 0..5 {
        let t0 = Instant::now();
        let batch = dec.decode_batch(&inputs).map_err(|e| e.to_string())?;
        let k = batch.len();
        let first = batch.frame_offset(0).map_err(|e| e.to_string())?;
        let sub = integ
            .submit(batch.output(), first, k)
            .map_err(|e| e.to_string())?;
        let times = batch.timings().map_err(|e| e.to_string())?;
        drop(batch);
        let sums = sub.wait().map_err(|e| e.to_string())?;
        let wall = t0.elapsed().as_secs_f64();
        let (Some(t), Some(int_ns)) = (times, sums.integrate_ns) else {
            return Ok(json!({"note": "no timestamp queries on this device"}));
        };
        let total = t.upload_ns.unwrap_or(0.0) + t.decode_total_ns() + int_ns;
        if total < best_total {
            best_total = total;
            let per = |ns: f64| ns / k as f64 / 1e3;
            best = Some(json!({
                "frames": k, "compressed_bytes": bytes,
                "upload_us_per_frame": t.upload_ns.map(per),
                "upload_gb_per_s": t.upload_ns.map(|ns| bytes as f64 / ns),
                "block_tables_us_per_frame": per(t.block_tables_ns),
                "block_scan_us_per_frame": per(t.block_scan_ns),
                "decode_us_per_frame": per(t.decode_ns),
                "integrate_us_per_frame": per(int_ns),
                "device_total_us_per_frame": per(total),
                "device_frames_per_s": k as f64 / (total / 1e9),
                "batch_wall_s": wall,
                "integrate_read_gb_per_s": k as f64 * (PILATUS2M_ROWS * PILATUS2M_COLS) as f64 * 8.0 / int_ns,
            }));
        }
    }
    Ok(best.unwrap_or(Value::Null))
}

/// Host→device bandwidth of a plain copy from a mapped staging buffer (timestamps and wall).
fn upload_bandwidth(bytes: u64) -> Result<Value, String> {
    let (device, queue) = azint::gpu::open_default_device(true).map_err(|e| e.to_string())?;
    use wgpu::BufferUsages as U;
    let dst = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("bw dst"),
        size: bytes,
        usage: U::COPY_DST | U::STORAGE,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("bw staging"),
        size: bytes,
        usage: U::MAP_WRITE | U::COPY_SRC,
        mapped_at_creation: true,
    });
    staging.unmap();
    let ts = device
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
        .then(|| {
            (
                device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: None,
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: 16,
                    usage: U::QUERY_RESOLVE | U::COPY_SRC,
                    mapped_at_creation: false,
                }),
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: 16,
                    usage: U::MAP_READ | U::COPY_DST,
                    mapped_at_creation: false,
                }),
            )
        });
    let mut best_wall = f64::INFINITY;
    let mut best_dev: Option<f64> = None;
    for _ in 0..5 {
        let mut enc = device.create_command_encoder(&Default::default());
        if let Some((set, _, _)) = &ts {
            enc.write_timestamp(set, 0);
        }
        enc.copy_buffer_to_buffer(&staging, 0, &dst, 0, bytes);
        if let Some((set, resolve, read)) = &ts {
            enc.write_timestamp(set, 1);
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, read, 0, 16);
        }
        let t0 = Instant::now();
        let idx = queue.submit([enc.finish()]);
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(idx),
                timeout: None,
            })
            .map_err(|e| e.to_string())?;
        best_wall = best_wall.min(t0.elapsed().as_secs_f64());
        if let Some((_, _, read)) = &ts {
            read.slice(..).map_async(wgpu::MapMode::Read, |_| {});
            device
                .poll(wgpu::PollType::Wait {
                    submission_index: None,
                    timeout: None,
                })
                .map_err(|e| e.to_string())?;
            let t: Vec<u64> = bytemuck::pod_collect_to_vec(
                &read
                    .slice(..)
                    .get_mapped_range()
                    .map_err(|e| format!("{e:?}"))?,
            );
            read.unmap();
            let ns = t[1].wrapping_sub(t[0]) as f64 * f64::from(queue.get_timestamp_period());
            best_dev = Some(best_dev.map_or(ns, |b: f64| b.min(ns)));
        }
    }
    Ok(json!({
        "bytes": bytes,
        "wall_gb_per_s": bytes as f64 / best_wall / 1e9,
        "device_gb_per_s": best_dev.map(|ns| bytes as f64 / ns),
    }))
}

/// Runs the benchmark and returns its figures as JSON (printing progress to stderr).
pub fn run(opts: &GpuBenchOptions) -> Value {
    let adapter = Decoder::default_adapter_info()
        .map(|i| format!("{} / {} / {:?}", i.name, i.driver_info, i.backend))
        .unwrap_or_else(|| "none".into());
    eprintln!("adapter: {adapter}");
    let det = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
    let t0 = Instant::now();
    let bases: Vec<Vec<i32>> = (0..4u64)
        .into_par_iter()
        .map(|s| realistic_frame(&det, s))
        .collect();
    let frames: Vec<Arc<[u8]>> = (0..opts.distinct.max(1))
        .into_par_iter()
        .map(|k| {
            let base = &bases[k % bases.len()];
            let mut x = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let px: Vec<i32> = base
                .iter()
                .map(|&v| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if v >= 0 { v + (x & 3) as i32 } else { v }
                })
                .collect();
            let header = cbf_format::Header::default();
            let bytes = cbf_format::writer::MiniCbfWriter::new(&header)
                .write(&[PILATUS2M_COLS, PILATUS2M_ROWS], &px)
                .unwrap_or_default();
            Arc::from(bytes)
        })
        .collect();
    let mean_bytes = frames.iter().map(|f| f.len()).sum::<usize>() as f64 / frames.len() as f64;
    eprintln!(
        "{} distinct frames, {:.2} MB each compressed, made in {:.1} s",
        frames.len(),
        mean_bytes / 1e6,
        t0.elapsed().as_secs_f64()
    );
    let streams: Vec<Vec<u8>> = frames
        .iter()
        .filter_map(|f| {
            let file = cbf_format::CbfFile::from_bytes_with(f, &Default::default()).ok()?;
            Some(file.section(0).ok()?.payload().to_vec())
        })
        .collect();
    let stream_refs: Vec<&[u8]> = streams.iter().map(|s| s.as_slice()).collect();
    let mut results = Vec::new();
    let upload = upload_bandwidth(256 << 20).unwrap_or_else(|e| json!({"error": e}));
    eprintln!("upload bandwidth: {upload}");
    for split in &opts.splits {
        let cpu = match reducer(split, opts.bins, &det) {
            Ok(c) => c,
            Err(e) => {
                results.push(json!({"split": split, "error": e}));
                continue;
            }
        };
        let stages = stage_times(&cpu, &stream_refs, 64).unwrap_or_else(|e| json!({"error": e}));
        eprintln!("{split}: device stages {stages}");
        let cpu_run = run_pipeline(&cpu, &frames, opts.cpu_frames, opts.workers);
        eprintln!("{split}: cpu pipeline {cpu_run}");
        let gpu = GpuReducer::new(
            cpu.clone(),
            GpuReducerOptions {
                batch_frames: opts.batch,
                ..Default::default()
            },
        );
        let gpu_run = match &gpu {
            Ok(g) => {
                // Warm-up (pipelines, buffers), then the measured run.
                let _ = run_pipeline(g, &frames, opts.batch * 4, opts.workers);
                run_pipeline(g, &frames, opts.frames, opts.workers)
            }
            Err(e) => json!({"error": e.to_string()}),
        };
        eprintln!("{split}: gpu pipeline {gpu_run}");
        let counters = gpu.as_ref().ok().map(|g| {
            let c = g.counters();
            json!({
                "gpu_frames": c.gpu_frames.load(std::sync::atomic::Ordering::Relaxed),
                "cpu_frames": c.cpu_frames.load(std::sync::atomic::Ordering::Relaxed),
            })
        });
        results.push(json!({
            "split": split, "bins": opts.bins, "device_stages": stages,
            "cpu_pipeline": cpu_run, "gpu_pipeline": gpu_run, "gpu_counters": counters,
        }));
    }
    let fbp = opts.cube.map(|(rot, tr, bins)| {
        let data: Vec<f32> = (0..rot * tr * bins)
            .into_par_iter()
            .map(|i| {
                let (a, t, b) = (i / (tr * bins), (i / bins) % tr, i % bins);
                let x = t as f32 / tr as f32 - 0.5;
                (1.0 - 4.0 * x * x).max(0.0) * (1.0 + ((a + b) % 7) as f32 * 0.1)
            })
            .collect();
        let angles: Vec<f64> = (0..rot).map(|a| a as f64 * 180.0 / rot as f64).collect();
        let cube = match SinogramCube::new(&data, rot, tr, bins, &angles) {
            Ok(c) => c,
            Err(e) => return json!({"error": e.to_string()}),
        };
        let opts_fbp = FbpOptions::default();
        let gpu = GpuBackprojector::from_default_adapter();
        let mut out = json!({"cube": [rot, tr, bins]});
        let mut gpu_tomo = None;
        match &gpu {
            Ok(g) => {
                let _ = g.reconstruct(&cube, &opts_fbp); // warm-up
                match g.reconstruct(&cube, &opts_fbp) {
                    Ok((t, times)) => {
                        out["gpu_filter_s"] = json!(times.filter.as_secs_f64());
                        out["gpu_backproject_wall_s"] = json!(times.gpu_wall.as_secs_f64());
                        out["gpu_backproject_kernel_ms"] = json!(times.kernel_ns.map(|n| n / 1e6));
                        gpu_tomo = Some(t);
                    }
                    Err(e) => out["gpu_error"] = json!(e.to_string()),
                }
            }
            Err(e) => out["gpu_error"] = json!(e.to_string()),
        }
        if opts.cpu_fbp {
            let t0 = Instant::now();
            match xrdct_pipeline::tomo::fbp::reconstruct(&cube, &opts_fbp) {
                Ok(t) => {
                    out["cpu_reconstruct_s"] = json!(t0.elapsed().as_secs_f64());
                    if let Some(g) = &gpu_tomo {
                        let max = t.data.iter().fold(0f32, |m, v| m.max(v.abs()));
                        let diff = t
                            .data
                            .iter()
                            .zip(&g.data)
                            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                        out["max_abs_diff_over_max"] = json!(diff / max.max(f32::MIN_POSITIVE));
                    }
                }
                Err(e) => out["cpu_error"] = json!(e.to_string()),
            }
        }
        eprintln!("fbp: {out}");
        out
    });
    json!({
        "adapter": adapter,
        "threads": rayon::current_num_threads(),
        "compressed_mb_per_frame": mean_bytes / 1e6,
        "upload": upload,
        "integration": results,
        "fbp": fbp,
    })
}

/// `xrdct bench --backend gpu`: the whole-pipeline stage on the GPU backend (frames from
/// memory to patterns in memory) for every split of `opts`, as [`crate::cpu::BenchResult`]s
/// with backend and path `gpu`, calling `report` after each. No GPU: `Err` says why.
pub fn run_gpu_pipeline(
    opts: &crate::cpu::BenchOptions,
    frames: &crate::cpu::BenchFrames,
    mut report: impl FnMut(&crate::cpu::BenchResult),
) -> Result<Vec<crate::cpu::BenchResult>, String> {
    let workers = xrdct_pipeline::engine::worker_count(opts.threads);
    let mut out = Vec::new();
    for &split in &opts.splits {
        let cpu = frames
            .reducer(split, opts.bins)
            .map_err(|e| e.to_string())?;
        let gpu = GpuReducer::new(cpu, GpuReducerOptions::default()).map_err(|e| e.to_string())?;
        // Warm-up (pipelines, buffers), then the measured run.
        let _ = run_pipeline(&gpu, &frames.cbf, opts.frames.clamp(1, 64), workers);
        let r = run_pipeline(&gpu, &frames.cbf, opts.frames.max(1), workers);
        if let Some(e) = r.get("error") {
            return Err(e.to_string());
        }
        let fps = r["frames_per_s"].as_f64().unwrap_or(0.0);
        let res = crate::cpu::BenchResult {
            stage: crate::cpu::Stage::Pipeline,
            backend: "gpu".into(),
            path: "gpu".into(),
            split: Some(split.name().to_string()),
            threads: workers,
            frames_per_s: (fps * 10.0).round() / 10.0,
            gpixel_per_s: (fps * (PILATUS2M_ROWS * PILATUS2M_COLS) as f64 / 1e9 * 1000.0).round()
                / 1000.0,
        };
        report(&res);
        out.push(res);
    }
    Ok(out)
}
