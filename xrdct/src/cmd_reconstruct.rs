//! `xrdct reconstruct`: filtered back-projection of a sinogram cube stored in NeXus HDF5.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use xrdct_pipeline::nexus::recon::{self as recon_io, ReconOutput};
use xrdct_pipeline::tomo::fbp::{self, FbpOptions, Filter, SinogramCube};

use xrdct_pipeline::engine::Backend;

use crate::CmdResult;

/// Arguments of `xrdct reconstruct`.
#[derive(clap::Args)]
pub struct Args {
    /// Input NeXus file with /entry/sinogram/data (rotations × translations × bins) and
    /// /entry/sinogram/rotation_angle (degrees).
    input: PathBuf,
    /// Output NeXus file (/entry/tomogram/data, bins × y × x, plus the sinogram).
    #[arg(short, long)]
    output: PathBuf,
    /// Fourier filter: ramp, shepp-logan, cosine, hamming or hann.
    #[arg(long, default_value = "ramp")]
    filter: String,
    /// Centre of rotation in translation steps from the first translation (sub-pixel), or
    /// `auto` to estimate it. Default: translations / 2, as scikit-image.
    #[arg(long)]
    center: Option<String>,
    /// Compute backend: cpu or gpu (the GPU backend falls back to the CPU when unavailable).
    #[arg(long, default_value = "cpu")]
    backend: Backend,
    /// Folder for PNG previews (sinogram, tomogram, summed tomogram, mean pattern).
    #[arg(long)]
    previews: Option<PathBuf>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

/// Parsed `--center`.
pub enum CenterArg {
    /// Default position.
    Default,
    /// Given.
    Given(f64),
    /// Estimated.
    Auto,
}

/// Parses `--center`.
pub fn parse_center(s: Option<&str>) -> Result<CenterArg, String> {
    match s {
        None => Ok(CenterArg::Default),
        Some("auto") => Ok(CenterArg::Auto),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|c| c.is_finite())
            .map(CenterArg::Given)
            .ok_or_else(|| format!("--center expects a number or `auto`, got {v:?}")),
    }
}

/// Resolves the centre for a cube; returns (centre option, human description).
pub fn resolve_center(
    arg: &CenterArg,
    cube: &SinogramCube<'_>,
) -> Result<(Option<f64>, String), fbp::FbpError> {
    Ok(match arg {
        CenterArg::Default => (None, format!("default ({})", cube.translations() / 2)),
        CenterArg::Given(c) => (Some(*c), "given".to_string()),
        CenterArg::Auto => {
            let e = fbp::estimate_center(&cube.summed(), cube.translations(), cube.angles_deg())?;
            (
                Some(e.center),
                format!("auto: {} over {} projections", e.method.name(), e.used),
            )
        }
    })
}

/// Runs `xrdct reconstruct`.
pub fn run(args: Args) -> CmdResult {
    let filter: Filter = args.filter.parse()?;
    let center_arg = parse_center(args.center.as_deref())?;
    let want_gpu = args.backend == Backend::Gpu;
    let t0 = Instant::now();
    let sino = recon_io::read_sinogram(&args.input)?;
    let t_read = t0.elapsed().as_secs_f64();
    let cube = SinogramCube::new(
        &sino.data,
        sino.rotations,
        sino.translations,
        sino.bins,
        &sino.angles_deg,
    )?;
    let (center, center_source) = resolve_center(&center_arg, &cube)?;
    let t1 = Instant::now();
    let fbp_opts = FbpOptions { filter, center };
    // `--backend gpu`: back-projection on the GPU (filtering on the CPU), or the CPU with a
    // note when there is no GPU.
    #[cfg_attr(not(feature = "gpu"), allow(unused_mut))]
    let mut backend = "cpu";
    #[cfg_attr(not(feature = "gpu"), allow(unused_mut))]
    let mut gpu_tomo = None;
    if want_gpu {
        #[cfg(feature = "gpu")]
        match xrdct_pipeline::tomo::backproject_gpu::GpuBackprojector::from_default_adapter() {
            Ok(bp) => {
                gpu_tomo = Some(bp.reconstruct(&cube, &fbp_opts)?.0);
                backend = "gpu";
            }
            Err(e) => {
                eprintln!("xrdct: GPU back-projection unavailable ({e}); reconstructing on the CPU")
            }
        }
        #[cfg(not(feature = "gpu"))]
        eprintln!("xrdct: GPU backend not built in; reconstructing on the CPU");
    }
    let tomo = match gpu_tomo {
        Some(t) => t,
        None => fbp::reconstruct(&cube, &fbp_opts)?,
    };
    let t_fbp = t1.elapsed().as_secs_f64();
    let config = serde_json::json!({
        "command": "reconstruct",
        "input": args.input.display().to_string(),
        "filter": filter.name(),
        "center_of_rotation": tomo.center,
        "center_source": center_source,
        "backend": backend,
        "kernel": if backend == "gpu" { "gpu" } else { fbp::active_path() },
    })
    .to_string();
    let out = ReconOutput {
        tomogram: Some(&tomo),
        filter: filter.name(),
        center_source: &center_source,
        configuration: &config,
    };
    let t2 = Instant::now();
    recon_io::write_nexus(&args.output, &sino, &out, None)?;
    let t_write = t2.elapsed().as_secs_f64();
    let mut pngs = Vec::new();
    if let Some(dir) = &args.previews {
        pngs = crate::preview::write_previews(dir, &sino, &tomo, 3)?;
    }
    if args.json {
        let j = serde_json::json!({
            "output": args.output.display().to_string(),
            "rotations": sino.rotations,
            "translations": sino.translations,
            "bins": sino.bins,
            "filter": filter.name(),
            "center_of_rotation": tomo.center,
            "center_source": center_source,
            "seconds": {"read": t_read, "reconstruct": t_fbp, "write": t_write},
            "previews": pngs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        println!("{j}");
    } else {
        println!(
            "reconstructed {} bins of {} rotations × {} translations in {:.3} s ({}, {} kernel)",
            sino.bins,
            sino.rotations,
            sino.translations,
            t_fbp,
            filter,
            fbp::active_path()
        );
        println!("centre of rotation: {:.3} ({center_source})", tomo.center);
        println!("wrote {}", args.output.display());
        for p in &pngs {
            println!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
