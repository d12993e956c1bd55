//! `xrdct demo`: simulate an XRD-CT experiment and reduce it end to end.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::demo::{self, DemoOptions};

use crate::CmdResult;

/// Arguments of `xrdct demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Scale of the scan: round(28 × SIZE) rotations and translations.
    #[arg(long, default_value_t = 1.0)]
    size: f64,
    /// Output folder (NeXus result, PNG previews, PONI, mask).
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Radial bins.
    #[arg(long, default_value_t = 1000)]
    bins: usize,
    /// Keep the simulated CBF frames in OUT/frames.
    #[arg(long)]
    keep_frames: bool,
    /// Random seed of the simulation.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// Correlation every phase map must reach.
const MIN_CORRELATION: f64 = 0.9;

/// Runs `xrdct demo`.
pub fn run(args: Args) -> CmdResult {
    let opts = DemoOptions {
        size: args.size,
        out: args.out,
        workers: args.workers,
        bins: args.bins,
        keep_frames: args.keep_frames,
        seed: args.seed,
    };
    let t0 = std::time::Instant::now();
    let r = demo::run(&opts, &|line| println!("{line}"))?;
    let red = &r.reduce;
    let s = &red.stats;
    let frames = s.frames;
    println!();
    println!(
        "== xrdct demo report ({} rotations × {} translations = {} frames, {} bins)",
        r.scan.0, r.scan.1, frames, red.sinogram.bins
    );
    println!(
        "  simulate (render + CBF + write): {:7.2} s  {:8.1} frames/s  ({:.1} MB of CBF)",
        r.render.as_secs_f64(),
        frames as f64 / r.render.as_secs_f64(),
        r.cbf_bytes as f64 / 1e6
    );
    println!(
        "  integrate (pipeline, {} workers): {:6.2} s  {:8.1} frames/s  (read {:.1}, decode+integrate {:.1}, write {:.1} frames/s per thread)",
        s.workers,
        s.wall.as_secs_f64(),
        s.frames_per_s(),
        s.read.frames_per_s_per_thread(frames),
        s.reduce.frames_per_s_per_thread(frames),
        s.write.frames_per_s_per_thread(frames)
    );
    println!(
        "  sinogram assembly:               {:7.3} s  {:8.0} frames/s",
        red.assemble.as_secs_f64(),
        frames as f64 / red.assemble.as_secs_f64().max(1e-9)
    );
    println!(
        "  centre + FBP ({} bins):         {:7.3} s  {:8.0} frames/s",
        red.tomogram.bins,
        red.reconstruct.as_secs_f64(),
        frames as f64 / red.reconstruct.as_secs_f64().max(1e-9)
    );
    println!(
        "  NeXus + PNG:                     {:7.3} s",
        red.write.as_secs_f64()
    );
    println!(
        "  failed frames: {} (filled by interpolation along the translation: {})",
        s.failed, red.filled
    );
    for (i, msg) in &s.failures {
        println!("    frame {i}: {msg}");
    }
    println!(
        "  centre of rotation: {:.3} ({}); true {:.3}",
        red.center.0, red.center.1, r.true_center
    );
    println!("  phase maps vs the known layout (correlation, need ≥ {MIN_CORRELATION}):");
    let mut ok = true;
    for p in &r.phases {
        let pass = p.correlation >= MIN_CORRELATION;
        ok &= pass;
        println!(
            "    {:18} ring at 2θ = {:6.3}°  r = {:.3}  {}",
            p.name,
            p.two_theta_deg,
            p.correlation,
            if pass { "ok" } else { "LOW" }
        );
    }
    println!("  wrote {}", red.output.display());
    for p in &r.previews {
        println!("  wrote {}", p.display());
    }
    println!("  total {:.1} s", t0.elapsed().as_secs_f64());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
