//! GPU benchmark: realistic Pilatus 2M frames from host memory to patterns in host memory
//! (CPU and GPU pipelines in the same run), device time per stage, host→device bandwidth,
//! and the GPU back-projection of a cube against the CPU's. Prints one JSON object.
//!
//! `gpu_bench [--frames N] [--cpu-frames N] [--distinct N] [--batch N] [--workers N]
//!  [--splits no,bbox] [--cube R,T,B | --no-cube] [--no-cpu-fbp]`

use xrdct_benches::gpu::{GpuBenchOptions, run};

fn main() {
    let mut o = GpuBenchOptions::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let num = |s: Option<&String>| -> usize {
        s.and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            eprintln!("gpu_bench: expected a number");
            std::process::exit(2)
        })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--frames" => o.frames = num(args.get(i + 1)),
            "--cpu-frames" => o.cpu_frames = num(args.get(i + 1)),
            "--distinct" => o.distinct = num(args.get(i + 1)),
            "--batch" => o.batch = num(args.get(i + 1)),
            "--workers" => o.workers = num(args.get(i + 1)),
            "--splits" => {
                o.splits = args
                    .get(i + 1)
                    .map_or_else(Vec::new, |s| s.split(',').map(String::from).collect())
            }
            "--cube" => {
                let v: Vec<usize> = args
                    .get(i + 1)
                    .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
                    .unwrap_or_default();
                if v.len() != 3 {
                    eprintln!("gpu_bench: --cube R,T,B");
                    std::process::exit(2);
                }
                o.cube = Some((v[0], v[1], v[2]));
            }
            "--no-cube" => {
                o.cube = None;
                i += 1;
                continue;
            }
            "--no-cpu-fbp" => {
                o.cpu_fbp = false;
                i += 1;
                continue;
            }
            other => {
                eprintln!("gpu_bench: unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    println!("{}", run(&o));
}
