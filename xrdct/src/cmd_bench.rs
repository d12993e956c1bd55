//! `xrdct bench [decode|integrate|fused|pipeline|all]`: frames/s and Gpixel/s of each stage on
//! synthetic Pilatus 2M frames in memory, against the detector's 250 frames/s.

use std::process::ExitCode;

use serde_json::json;
use xrdct_benches::cpu::{BenchFrames, BenchOptions, DETECTOR_FPS, Stage, run_bench};

use crate::CmdResult;

/// Arguments of `xrdct bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Stages: decode, integrate, fused, pipeline or all (default).
    #[arg(default_value = "all")]
    pub stages: Vec<String>,
    /// Frames per measurement.
    #[arg(long, default_value_t = 400)]
    pub frames: usize,
    /// Distinct synthetic frames rendered (cycled through).
    #[arg(long, default_value_t = 8)]
    pub distinct: usize,
    /// Pixel splitting of the integrating stages, comma separated (no, bbox, full).
    #[arg(long, default_value = "no,bbox")]
    pub split: String,
    /// Threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Radial bins.
    #[arg(long, default_value_t = 2000)]
    pub bins: usize,
    /// Measurements per figure; each figure is their median.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Backend: cpu, or gpu (the GPU pipeline beside the CPU figures; CPU only without a GPU).
    #[arg(long, default_value = "cpu")]
    pub backend: xrdct_pipeline::engine::Backend,
    /// Print one JSON object (stable keys) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `xrdct bench`.
pub fn run(args: Args) -> CmdResult {
    let mut stages = Vec::new();
    for s in &args.stages {
        if s == "all" {
            stages = Stage::ALL.to_vec();
            break;
        }
        stages.push(Stage::parse(s).ok_or_else(|| {
            format!("unknown stage {s:?} (decode, integrate, fused, pipeline, all)")
        })?);
    }
    let splits = args
        .split
        .split(',')
        .map(|s| s.trim().parse::<azint::Split>())
        .collect::<Result<Vec<_>, _>>()?;
    let opts = BenchOptions {
        stages,
        frames: args.frames,
        distinct: args.distinct,
        splits,
        threads: args.threads,
        bins: args.bins,
        repeat: args.repeat,
    };
    if !args.json {
        eprintln!(
            "rendering {} synthetic Pilatus 2M CdTe frames...",
            opts.distinct
        );
    }
    let frames = BenchFrames::new(opts.distinct);
    if !args.json {
        println!(
            "Pilatus 2M (1679 × 1475, {:.2} MB/frame compressed), {} bins, byte-offset path {}",
            frames.mean_cbf_bytes() / 1e6,
            opts.bins,
            byteoffset::active_path()
        );
        println!(
            "{:<10} {:<8} {:<7} {:<6} {:>7} {:>10} {:>9} {:>8}",
            "stage", "backend", "path", "split", "threads", "frames/s", "Gpixel/s", "× 250/s"
        );
    }
    let json = args.json;
    let print = |r: &xrdct_benches::cpu::BenchResult| {
        if !json {
            println!(
                "{:<10} {:<8} {:<7} {:<6} {:>7} {:>10.1} {:>9.3} {:>8.2}",
                r.stage.name(),
                r.backend,
                r.path,
                r.split.as_deref().unwrap_or("-"),
                r.threads,
                r.frames_per_s,
                r.gpixel_per_s,
                r.frames_per_s / DETECTOR_FPS
            );
        }
    };
    #[allow(unused_mut)]
    let mut results = run_bench(&opts, &frames, print)?;
    // `--backend gpu`: the GPU pipeline beside the CPU figures of the same run, or a note
    // when there is no GPU.
    if args.backend == xrdct_pipeline::engine::Backend::Gpu {
        #[cfg(feature = "gpu")]
        match xrdct_benches::gpu::run_gpu_pipeline(&opts, &frames, print) {
            Ok(r) => results.extend(r),
            Err(e) => eprintln!("xrdct: GPU backend unavailable ({e}); CPU figures only"),
        }
        #[cfg(not(feature = "gpu"))]
        eprintln!("xrdct: GPU backend not built in; CPU figures only");
    }
    if json {
        let out = json!({
            "results": results,
            "detector_fps": DETECTOR_FPS,
            "frame": { "rows": 1679, "cols": 1475, "compressed_bytes_mean": frames.mean_cbf_bytes() },
            "bins": opts.bins,
            "frames": opts.frames,
        });
        println!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}
