//! `xrdct integrate`: azimuthal integration of a whole scan into NeXus HDF5 (or CSV), with a
//! pool of reader/decoder threads, failures recorded per frame, progress, `--resume` and a
//! `--watch` mode that follows a detector writing into a directory.
//!
//! Exit status: 0 when every frame was reduced, 1 when some frames failed or were missing,
//! 2 on an error that stopped the run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use azint::engine::{ErrorModel, Split};
use xrdct_pipeline::engine::{Backend, FrameOutcome, IntegrateSettings, Monitor};
use xrdct_pipeline::inputs::resolve_inputs;
use xrdct_pipeline::run::{Input, IntegrateRun, OutputFormat, watch_options};

use crate::CmdResult;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NeXus HDF5.
    Hdf5,
    /// CSV text.
    Csv,
}

/// Arguments of `xrdct integrate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Frames: files, glob patterns, directories (natural order) or list files (`@list` or
    /// `*.txt`/`*.lst`).
    pub files: Vec<String>,
    /// Output file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// pyFAI geometry (PONI file).
    #[arg(long)]
    pub poni: PathBuf,
    /// Static mask image (non-zero = masked), added to the detector's gaps.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Radial bins.
    #[arg(long, default_value_t = 2000)]
    pub bins: usize,
    /// Radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm, r_m.
    #[arg(long, default_value = "2th_deg")]
    pub unit: String,
    /// Pixel splitting: no, bbox, full.
    #[arg(long, default_value = "bbox")]
    pub split: Split,
    /// Polarization factor (e.g. 0.99 at a synchrotron); none by default.
    #[arg(long, allow_hyphen_values = true)]
    pub polarization: Option<f64>,
    /// Turn the solid-angle correction off.
    #[arg(long)]
    pub no_solid_angle: bool,
    /// Dark current image.
    #[arg(long)]
    pub dark: Option<PathBuf>,
    /// Flat-field image.
    #[arg(long)]
    pub flat: Option<PathBuf>,
    /// Error model: poisson, azimuthal, none.
    #[arg(long, default_value = "poisson")]
    pub error_model: ErrorModel,
    /// Radial range in the radial unit (default: the valid pixels' range).
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], allow_hyphen_values = true)]
    pub radial_range: Option<Vec<f64>>,
    /// Azimuthal range in degrees.
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], allow_hyphen_values = true)]
    pub azimuth_range: Option<Vec<f64>>,
    /// Value of invalid pixels (e.g. -2 for Dectris), with --delta-dummy.
    #[arg(long, allow_hyphen_values = true)]
    pub dummy: Option<f64>,
    /// Tolerance around --dummy.
    #[arg(long, default_value_t = 0.0)]
    pub delta_dummy: f64,
    /// Per-frame normalization: `flux`, `header:FIELD`, `FILE:COLUMN` or `FILE.h5:/DATASET`.
    #[arg(long)]
    pub monitor: Option<String>,
    /// Check every frame's Content-MD5 (a mismatch fails the frame).
    #[arg(long)]
    pub verify_md5: bool,
    /// Keep the accumulators (sum_signal, sum_normalization, count) for re-binning.
    #[arg(long)]
    pub accumulators: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Reduction backend.
    #[arg(long, default_value = "cpu")]
    pub backend: Backend,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Hdf5)]
    pub format: Format,
    /// Frames per HDF5 chunk and per flush.
    #[arg(long, default_value_t = 32)]
    pub block: usize,
    /// Deflate level of the HDF5 datasets (0 = no compression).
    #[arg(long, default_value_t = 1)]
    pub deflate: u8,
    /// Continue an interrupted run from its `OUTPUT.part` file.
    #[arg(long)]
    pub resume: bool,
    /// Follow a directory the detector is writing into (instead of FILES).
    #[arg(long, value_name = "DIR", requires = "expect")]
    pub watch: Option<PathBuf>,
    /// With --watch: number of frames of the scan.
    #[arg(long, value_name = "N")]
    pub expect: Option<usize>,
    /// With --watch: give up after this many seconds without a new frame.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub timeout: f64,
    /// Print a JSON summary as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// A progress bar on a terminal (indicatif).
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} frames {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Runs `xrdct integrate`.
pub fn run(args: Args) -> CmdResult {
    if args.watch.is_none() && args.files.is_empty() {
        return Err("no input frames given (FILES... or --watch DIR --expect N)".into());
    }
    if args.watch.is_some() && !args.files.is_empty() {
        return Err("give either FILES or --watch, not both".into());
    }
    let unit: azint::units::Unit = args.unit.parse()?;
    let pair = |v: &Option<Vec<f64>>| v.as_ref().map(|v| (v[0], v[1]));
    let settings = IntegrateSettings {
        poni: args.poni.clone(),
        mask: args.mask.clone(),
        bins: args.bins,
        unit,
        split: args.split,
        polarization: args.polarization,
        solid_angle: !args.no_solid_angle,
        dark: args.dark.clone(),
        flat: args.flat.clone(),
        error_model: args.error_model,
        radial_range: pair(&args.radial_range),
        azimuth_range: pair(&args.azimuth_range),
        dummy: args.dummy.map(|d| (d, args.delta_dummy)),
        accumulators: args.accumulators,
    };
    let monitor = match &args.monitor {
        Some(spec) => Monitor::parse(spec)?,
        None => Monitor::None,
    };
    // Inputs first: a typo in a pattern should not cost an engine build.
    let input = match &args.watch {
        None => Input::Frames(resolve_inputs(&args.files)?),
        Some(dir) => Input::Watch(watch_options(
            dir,
            args.expect.unwrap_or(0),
            Duration::from_secs_f64(args.timeout.max(0.0)),
        )),
    };
    let expected = match &input {
        Input::Frames(v) => v.len(),
        Input::Watch(w) => w.expect,
    };
    let run = IntegrateRun::new(settings, input, &args.output)
        .format(match args.format {
            Format::Hdf5 => OutputFormat::Nexus,
            Format::Csv => OutputFormat::Csv,
        })
        .backend(args.backend)
        .workers(args.workers)
        .monitor(monitor)
        .verify_md5(args.verify_md5)
        .resume(args.resume)
        .block(args.block)
        .deflate(args.deflate);

    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| progress_bar(0));
    // Fault injection for the interruption tests: die like a killed process would.
    let abort_after: Option<usize> = std::env::var("XRDCT_TEST_ABORT_AFTER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok());
    let (mut pushed, mut failed) = (0usize, 0usize);
    let mut observe = |frame: &FrameOutcome<'_>| {
        pushed += 1;
        if pushed == 1
            && let Some(bar) = &bar
        {
            bar.set_length(expected.saturating_sub(frame.index) as u64);
        }
        if let Err(e) = frame.result {
            failed += 1;
            let line = format!("xrdct: frame {} failed: {}: {e}", frame.index, frame.source);
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        if let Some(bar) = &bar {
            bar.inc(1);
            if failed > 0 {
                bar.set_message(format!("{failed} failed"));
            }
        }
        if abort_after == Some(pushed) {
            std::process::abort();
        }
    };
    let summary = run.run_with(&mut observe)?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(note) = &summary.backend_note {
        eprintln!("xrdct: {note}");
    }
    if let Some(stop) = &summary.watch_stop {
        eprintln!("xrdct: {stop}");
    }
    if args.json {
        println!("{}", summary.to_json());
    } else {
        eprintln!(
            "xrdct: {} frames ({} failed{}) in {:.2} s, {:.1} frames/s, {} workers -> {}",
            summary.frames,
            summary.failed,
            if summary.missing > 0 {
                format!(", {} missing", summary.missing)
            } else {
                String::new()
            },
            summary.run_s,
            summary.frames_per_s,
            summary.workers,
            summary.output
        );
    }
    Ok(if summary.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
