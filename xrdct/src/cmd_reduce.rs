//! `xrdct reduce`: integrate a scan, assemble sinograms and reconstruct, in one run.

use std::path::PathBuf;
use std::process::ExitCode;

use xrdct_pipeline::engine::{Backend, IntegrateSettings, PipelineOptions, reducer_for_backend};
use xrdct_pipeline::inputs::resolve_inputs;
use xrdct_pipeline::run::reduce::{self, CenterChoice, ReduceOptions};
use xrdct_pipeline::tomo::fbp::Filter;
use xrdct_pipeline::tomo::scan::{AngleSpec, FastAxis};

use crate::CmdResult;

/// Arguments of `xrdct reduce`.
#[derive(clap::Args)]
pub struct Args {
    /// Frames in acquisition order: files, directories (natural order), globs or @list files.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// pyFAI PONI file of the detector geometry.
    #[arg(long)]
    poni: PathBuf,
    /// Mask image (non-zero = masked), added to the detector's gaps.
    #[arg(long)]
    mask: Option<PathBuf>,
    /// Radial bins (2θ, degrees).
    #[arg(long, default_value_t = 1000)]
    bins: usize,
    /// Rotations of the scan.
    #[arg(long)]
    rotations: usize,
    /// Translations of the scan.
    #[arg(long)]
    translations: usize,
    /// Axis that moves between consecutive frames: translation or rotation.
    #[arg(long, default_value = "translation")]
    fast: String,
    /// Zigzag (snake) acquisition: every other line runs backwards.
    #[arg(long)]
    zigzag: bool,
    /// Rotation angles: START:END (end excluded), START:END:incl, file:PATH or header
    /// (the frames' Start_angle).
    #[arg(long, default_value = "0:180")]
    angles: String,
    /// Fourier filter: ramp, shepp-logan, cosine, hamming or hann.
    #[arg(long, default_value = "ramp")]
    filter: String,
    /// Centre of rotation (translation steps, sub-pixel), `auto`, or `default` (n/2).
    #[arg(long, default_value = "default")]
    center: String,
    /// Output NeXus file.
    #[arg(short, long)]
    output: PathBuf,
    /// Folder for PNG previews.
    #[arg(long)]
    previews: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Decode+integrate backend: cpu or gpu (the GPU falls back to the CPU when unavailable).
    #[arg(long, default_value = "cpu")]
    backend: Backend,
}

/// Runs `xrdct reduce`.
pub fn run(args: Args) -> CmdResult {
    let fast: FastAxis = args.fast.parse()?;
    let angles: AngleSpec = args.angles.parse()?;
    let filter: Filter = args.filter.parse()?;
    let center: CenterChoice = args.center.parse().map_err(|e| format!("--center: {e}"))?;
    let sources = resolve_inputs(&args.inputs)?;
    let mut settings = IntegrateSettings::new(&args.poni, args.bins);
    settings.mask = args.mask.clone();
    let cpu_reducer = settings.build()?;
    let info = cpu_reducer.info().clone();
    let (reducer, note) = reducer_for_backend(cpu_reducer, args.backend);
    if let Some(note) = note {
        eprintln!("xrdct: {note}");
    }
    let opts = ReduceOptions {
        rotations: args.rotations,
        translations: args.translations,
        fast,
        zigzag: args.zigzag,
        angles,
        filter,
        center,
        pipeline: PipelineOptions {
            workers: args.workers,
            ..Default::default()
        },
    };
    let config = serde_json::json!({
        "command": "reduce",
        "integration": settings.parameters(),
        "angles": args.angles,
        "center": args.center,
    });
    let r = reduce::reduce(&*reducer, &info, sources, &args.output, &opts, config)?;
    let s = &r.stats;
    println!(
        "integrated {} frames ({} failed, {} filled) in {:.2} s: {:.1} frames/s",
        s.frames,
        s.failed,
        r.filled,
        s.wall.as_secs_f64(),
        s.frames_per_s()
    );
    println!("centre of rotation: {:.3} ({})", r.center.0, r.center.1);
    println!(
        "sinogram {:.3} s, reconstruction of {} bins {:.3} s, writing {:.3} s",
        r.assemble.as_secs_f64(),
        r.tomogram.bins,
        r.reconstruct.as_secs_f64(),
        r.write.as_secs_f64()
    );
    println!("wrote {}", r.output.display());
    if let Some(dir) = &args.previews {
        for p in crate::preview::write_previews(dir, &r.sinogram, &r.tomogram, 3)? {
            println!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
