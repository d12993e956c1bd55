//! `xrdct integrate`: azimuthal integration of a whole scan into NeXus HDF5 (or CSV), with a
//! pool of reader/decoder threads, failures recorded per frame, progress, `--resume` and a
//! `--watch` mode that follows a detector writing into a directory.
//!
//! Exit status: 0 when every frame was reduced, 1 when some frames failed or were missing,
//! 2 on an error that stopped the run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xrdct_pipeline::inputs::{FrameSource, WatchOptions, Watcher, resolve_inputs};
use xrdct_pipeline::integrate::{IntegrateSettings, parse_error_model, parse_split};
use xrdct_pipeline::monitor::Monitor;
use xrdct_pipeline::output::{CsvWriter, NexusOptions, NexusWriter, RunInfo};
use xrdct_pipeline::pool::{
    FrameOutcome, Pipeline, PipelineOptions, RowSink, RunStats, SinkError, StageTime,
};

use crate::CmdResult;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// NeXus HDF5.
    Hdf5,
    /// CSV text.
    Csv,
}

/// Reduction backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Fused decode+integrate on the CPU cores.
    Cpu,
    /// The GPU (falls back to the CPU when unavailable).
    Gpu,
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
    #[arg(long, default_value = "bbox", value_parser = parse_split)]
    pub split: azint::engine::Split,
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
    #[arg(long, default_value = "poisson", value_parser = parse_error_model)]
    pub error_model: azint::engine::ErrorModel,
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
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
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

/// Shows progress on a terminal (indicatif) and counts failures.
struct Progress<S> {
    inner: S,
    bar: Option<indicatif::ProgressBar>,
    failed: usize,
    abort_after: Option<usize>,
    pushed: usize,
}

impl<S: RowSink> RowSink for Progress<S> {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        self.inner.push(frame)?;
        self.pushed += 1;
        if let Err(e) = frame.result {
            self.failed += 1;
            let line = format!("xrdct: frame {} failed: {}: {e}", frame.index, frame.source);
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if self.failed > 0 {
                bar.set_message(format!("{} failed", self.failed));
            }
        }
        // Fault injection for the interruption tests: die like a killed process would.
        if self.abort_after == Some(self.pushed) {
            std::process::abort();
        }
        Ok(())
    }
}

fn stage_json(stage: &StageTime, frames: usize) -> Value {
    let busy = stage.busy.as_secs_f64();
    let capacity = if busy > 0.0 {
        frames as f64 * stage.threads as f64 / busy
    } else {
        0.0
    };
    json!({ "threads": stage.threads, "busy_s": round3(busy), "frames_per_s": round1(capacity) })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

enum Sink {
    Nexus(Box<NexusWriter>),
    Csv(CsvWriter),
}

impl RowSink for Sink {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        match self {
            Sink::Nexus(w) => w.push(frame),
            Sink::Csv(w) => w.push(frame),
        }
    }
}

/// Runs `xrdct integrate`.
pub fn run(args: Args) -> CmdResult {
    let t_start = Instant::now();
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
    let listed: Option<Vec<FrameSource>> = if args.watch.is_none() {
        Some(resolve_inputs(&args.files)?)
    } else {
        None
    };

    let cpu_reducer = settings.build()?;
    let mut info: RunInfo = cpu_reducer.info().clone();
    // `--backend gpu`: the GPU reducer, or the CPU one with a note when there is no GPU.
    #[cfg(feature = "gpu")]
    let (reducer, note) = xrdct_pipeline::gpu::reducer_for_backend(
        cpu_reducer,
        if args.backend == Backend::Gpu {
            "gpu"
        } else {
            "cpu"
        },
    );
    #[cfg(not(feature = "gpu"))]
    let (reducer, note): (Box<dyn xrdct_pipeline::pool::FrameReducer>, _) = (
        Box::new(cpu_reducer),
        (args.backend == Backend::Gpu).then_some("GPU backend not built in; running on the CPU"),
    );
    if let Some(note) = note {
        eprintln!("xrdct: {note}");
    }
    let setup_s = t_start.elapsed().as_secs_f64();
    let params = &mut info.parameters;
    params.insert("monitor".into(), monitor.describe().into());
    params.insert("verify_md5".into(), args.verify_md5.into());
    params.insert(
        "format".into(),
        format!("{:?}", args.format).to_lowercase().into(),
    );
    params.insert("workers".into(), args.workers.into());
    params.insert("backend".into(), reducer.backend().into());
    params.insert("block".into(), args.block.into());

    let expected = match (&listed, args.expect) {
        (Some(v), _) => Some(v.len()),
        (None, n) => n,
    };
    let nexus_opts = NexusOptions {
        block: args.block.max(1),
        deflate: (args.deflate > 0).then_some(args.deflate.min(9)),
    };

    // The output, fresh or resumed.
    let mut skip = 0;
    let sink = match args.format {
        Format::Hdf5 if args.resume => {
            let (w, done) = NexusWriter::resume(&args.output, &info, &nexus_opts)?;
            if let Some(list) = &listed {
                if done.len() > list.len() {
                    return Err(format!(
                        "cannot resume: {} frames already written but only {} inputs given",
                        done.len(),
                        list.len()
                    )
                    .into());
                }
                if let Some((k, (a, b))) = done
                    .iter()
                    .zip(list.iter().map(FrameSource::name))
                    .enumerate()
                    .find(|(_, (a, b))| **a != *b)
                {
                    return Err(format!(
                        "cannot resume: frame {k} was {a}, the inputs now give {b}"
                    )
                    .into());
                }
            }
            skip = done.len();
            Sink::Nexus(Box::new(w))
        }
        Format::Hdf5 => Sink::Nexus(Box::new(NexusWriter::create(
            &args.output,
            &info,
            &nexus_opts,
        )?)),
        Format::Csv if args.resume => return Err("--resume needs --format hdf5".into()),
        Format::Csv => Sink::Csv(CsvWriter::create(&args.output, &info, expected == Some(1))?),
    };

    let show_bar = !args.json && std::io::stderr().is_terminal();
    let bar = show_bar.then(|| {
        let total = expected.unwrap_or(0).saturating_sub(skip) as u64;
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} frames {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    });
    let abort_after = std::env::var("XRDCT_TEST_ABORT_AFTER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut sink = Progress {
        inner: sink,
        bar,
        failed: 0,
        abort_after,
        pushed: 0,
    };

    let opts = PipelineOptions {
        workers: args.workers,
        read: cbf_format::ReadOptions::new().verify_md5(args.verify_md5),
        monitor,
        ..PipelineOptions::default()
    };
    let pipeline = Pipeline::new(&*reducer, opts);
    let mut watcher_state = None;
    let stats: RunStats = match (listed, &args.watch) {
        (Some(list), _) => pipeline.run(list.into_iter().skip(skip), skip, &mut sink)?,
        (None, Some(dir)) => {
            let mut w = WatchOptions::new(dir, args.expect.unwrap_or(0));
            w.timeout = Duration::from_secs_f64(args.timeout.max(0.0));
            w.stall = w.timeout.min(Duration::from_secs(10));
            let mut watcher = Watcher::new(w)?;
            let stats = pipeline.run(watcher.by_ref().skip(skip), skip, &mut sink)?;
            watcher_state = Some((watcher.timed_out(), watcher.error().map(|e| e.to_string())));
            stats
        }
        (None, None) => unreachable!("checked above"),
    };
    if let Some(bar) = &sink.bar {
        bar.finish_and_clear();
    }
    let total_frames = skip + stats.frames;
    let missing = expected.map_or(0, |n| n.saturating_sub(total_frames));
    let wall_s = t_start.elapsed().as_secs_f64();
    let summary = json!({
        "frames": stats.frames,
        "failed": stats.failed,
        "missing": missing,
        "resumed_from": skip,
        "wall_s": round3(wall_s),
        "frames_per_s": round1(if stats.wall.as_secs_f64() > 0.0 { stats.frames as f64 / stats.wall.as_secs_f64() } else { 0.0 }),
        "setup_s": round3(setup_s),
        "run_s": round3(stats.wall.as_secs_f64()),
        "workers": stats.workers,
        "backend": reducer.backend(),
        "path": match reducer.backend() {
            "gpu" => "gpu".to_string(),
            _ => byteoffset::active_path().to_string(),
        },
        "stages": {
            "read": stage_json(&stats.read, stats.frames),
            "integrate": stage_json(&stats.reduce, stats.frames),
            "write": stage_json(&stats.write, stats.frames),
        },
        "output": args.output.display().to_string(),
    });
    let out = match sink.inner {
        Sink::Nexus(w) => w.finish(&summary)?,
        Sink::Csv(w) => w.finish()?,
    };
    if let Some((timed_out, error)) = watcher_state {
        if let Some(e) = error {
            eprintln!("xrdct: watch stopped: {e}");
        } else if timed_out && missing > 0 {
            eprintln!(
                "xrdct: watch timed out after {:.0} s without a new frame: {missing} of {} frames missing",
                args.timeout,
                expected.unwrap_or(0)
            );
        }
    }
    if args.json {
        println!("{summary}");
    } else {
        eprintln!(
            "xrdct: {} frames ({} failed{}) in {:.2} s, {:.1} frames/s, {} workers -> {}",
            stats.frames,
            stats.failed,
            if missing > 0 {
                format!(", {missing} missing")
            } else {
                String::new()
            },
            stats.wall.as_secs_f64(),
            stats.frames_per_s(),
            stats.workers,
            out.display()
        );
    }
    Ok(if stats.failed > 0 || missing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
