//! GPU benchmark: realistic Pilatus 2M frames from host memory to patterns in host memory
//! (CPU and GPU pipelines in the same run), device time per stage, host→device bandwidth,
//! and the GPU back-projection of a cube against the CPU's. Prints one JSON object.
//!
//! `gpu_bench [--frames N] [--cpu-frames N] [--distinct N] [--batch N] [--workers N]
//!  [--splits no,bbox] [--cube R,T,B | --no-cube] [--no-cpu-fbp]`

use clap::Parser;
use xrdct_benches::gpu::{GpuBenchOptions, run};

/// GPU benchmark of realistic Pilatus 2M frames: CPU and GPU pipelines, device time per
/// stage, host→device bandwidth, and the GPU back-projection of a cube. Prints one JSON
/// object.
#[derive(Parser, Debug)]
#[command(name = "gpu_bench")]
struct Args {
    /// Frames per GPU pipeline run.
    #[arg(long, value_name = "N", default_value_t = GpuBenchOptions::default().frames)]
    frames: usize,
    /// Frames per CPU pipeline run.
    #[arg(long, value_name = "N", default_value_t = GpuBenchOptions::default().cpu_frames)]
    cpu_frames: usize,
    /// Distinct compressed frames held in memory (cycled through).
    #[arg(long, value_name = "N", default_value_t = GpuBenchOptions::default().distinct)]
    distinct: usize,
    /// Frames per GPU worker batch.
    #[arg(long, value_name = "N", default_value_t = GpuBenchOptions::default().batch)]
    batch: usize,
    /// Pipeline workers (0: one per core).
    #[arg(long, value_name = "N", default_value_t = GpuBenchOptions::default().workers)]
    workers: usize,
    /// Splitting schemes, comma-separated (`no`, `bbox`, `full`).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_values_t = GpuBenchOptions::default().splits
    )]
    splits: Vec<String>,
    /// Back-projection cube: rotations, translations, bins [default: 200,200,2000].
    #[arg(long, value_name = "R,T,B", value_parser = parse_cube, conflicts_with = "no_cube")]
    cube: Option<(usize, usize, usize)>,
    /// Skip the back-projection.
    #[arg(long)]
    no_cube: bool,
    /// Do not time the CPU back-projection of the cube.
    #[arg(long)]
    no_cpu_fbp: bool,
}

fn parse_cube(s: &str) -> Result<(usize, usize, usize), String> {
    let v: Vec<usize> = s
        .split(',')
        .map(|x| x.trim().parse::<usize>().map_err(|e| format!("{x:?}: {e}")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [r, t, b] => Ok((r, t, b)),
        _ => Err("expected three numbers R,T,B".into()),
    }
}

fn main() {
    let a = Args::parse();
    let defaults = GpuBenchOptions::default();
    let o = GpuBenchOptions {
        frames: a.frames,
        cpu_frames: a.cpu_frames,
        distinct: a.distinct,
        batch: a.batch,
        workers: a.workers,
        splits: a.splits,
        cube: if a.no_cube {
            None
        } else {
            a.cube.or(defaults.cube)
        },
        cpu_fbp: !a.no_cpu_fbp,
        ..defaults
    };
    println!("{}", run(&o));
}
