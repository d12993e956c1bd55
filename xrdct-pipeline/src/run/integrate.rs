//! One integration run, typed: inputs (a list of frames or a watched directory), the
//! integration settings, the backend, the output (NeXus or CSV, fresh or resumed), and a
//! [`RunSummary`] at the end — the same summary the command line prints with `--json` and
//! the NeXus file stores.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::{
    Backend, FrameOutcome, IntegrateSettings, Monitor, Pipeline, PipelineError, PipelineOptions,
    RowSink, RunInfo, RunStats, SetupError, SinkError, StageTime, reducer_for_backend,
};
use crate::inputs::{FrameSource, InputError, WatchOptions, Watcher};
use crate::output::{CsvWriter, OutputError};
use crate::readers::AnyReader;
use crate::readers::cbf::CbfReader;

/// Where a run's frames come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A known list of frames, in scan order.
    Frames(Vec<FrameSource>),
    /// A directory a detector is writing into ([`WatchOptions::expect`] frames).
    Watch(WatchOptions),
}

/// The output file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutputFormat {
    /// NeXus HDF5 (feature `hdf5`).
    #[default]
    Nexus,
    /// CSV text.
    Csv,
}

impl OutputFormat {
    /// `hdf5` or `csv`, as recorded in the run's parameters.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Nexus => "hdf5",
            OutputFormat::Csv => "csv",
        }
    }
}

/// Why a run could not start or stopped. Failed frames are not errors: they are counted in
/// the [`RunSummary`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The integration settings are unusable (user or file).
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The inputs cannot be listed or watched (user or environment).
    #[error(transparent)]
    Input(#[from] InputError),
    /// The output cannot be written (environment), or `--resume` has nothing to resume.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The engine stopped (the sink failed, or a bug).
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The run's options contradict each other or the build (user).
    #[error("{0}")]
    Invalid(String),
}

/// Busy time of one stage of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StageSummary {
    /// Threads that ran the stage.
    pub threads: usize,
    /// Busy time summed over those threads, seconds.
    pub busy_s: f64,
    /// Frames per second the stage could sustain on its threads (frames × threads ÷ busy).
    pub frames_per_s: f64,
}

impl StageSummary {
    fn new(stage: &StageTime, frames: usize) -> Self {
        let busy = stage.busy.as_secs_f64();
        let capacity = if busy > 0.0 {
            frames as f64 * stage.threads as f64 / busy
        } else {
            0.0
        };
        StageSummary {
            threads: stage.threads,
            busy_s: round3(busy),
            frames_per_s: round1(capacity),
        }
    }
}

/// The three stages of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stages {
    /// Opening and parsing files.
    pub read: StageSummary,
    /// Decoding and integration.
    pub integrate: StageSummary,
    /// Reordering and writing.
    pub write: StageSummary,
}

/// What a run did: written into the NeXus file (`/entry/process`) and printed by
/// `xrdct integrate --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Frames reduced in this run (successful + failed).
    pub frames: usize,
    /// Frames recorded as failed.
    pub failed: usize,
    /// Frames expected but never seen (a watch that timed out).
    pub missing: usize,
    /// Frames already in the output when the run resumed it.
    pub resumed_from: usize,
    /// Wall time of the whole run (set-up included), seconds.
    pub wall_s: f64,
    /// Frames per second of the engine.
    pub frames_per_s: f64,
    /// Building the integrator, seconds.
    pub setup_s: f64,
    /// The engine's wall time, seconds.
    pub run_s: f64,
    /// Worker threads.
    pub workers: usize,
    /// The backend that ran (`cpu`, `gpu`).
    pub backend: String,
    /// The decoder path (`avx2`, `scalar`, …) or `gpu`.
    pub path: String,
    /// Per-stage busy times.
    pub stages: Stages,
    /// The output file.
    pub output: String,
    /// `(index, "source: reason")` of each failed frame.
    #[serde(skip)]
    pub failures: Vec<(usize, String)>,
    /// Why the backend differs from the one asked for, or which device runs it.
    #[serde(skip)]
    pub backend_note: Option<String>,
    /// With [`Input::Watch`]: why the watch ended early, if it did.
    #[serde(skip)]
    pub watch_stop: Option<String>,
}

impl RunSummary {
    /// Whether every expected frame was reduced.
    pub fn complete(&self) -> bool {
        self.failed == 0 && self.missing == 0
    }

    /// The summary as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A whole integration run: build with [`IntegrateRun::new`], adjust, then
/// [`run`](IntegrateRun::run).
///
/// ```no_run
/// use xrdct_pipeline::engine::IntegrateSettings;
/// use xrdct_pipeline::inputs::resolve_inputs;
/// use xrdct_pipeline::run::{Input, IntegrateRun};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let settings = IntegrateSettings::new("geometry.poni", 2000);
/// let frames = resolve_inputs(&["scan/*.cbf"])?;
/// let summary = IntegrateRun::new(settings, Input::Frames(frames), "scan.h5").run()?;
/// println!("{}", summary.to_json());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IntegrateRun {
    settings: IntegrateSettings,
    input: Input,
    output: PathBuf,
    format: OutputFormat,
    backend: Backend,
    workers: usize,
    monitor: Monitor,
    verify_md5: bool,
    resume: bool,
    block: usize,
    deflate: u8,
}

impl IntegrateRun {
    /// A run of `settings` over `input` into `output` (NeXus, CPU, every core, no monitor).
    pub fn new(settings: IntegrateSettings, input: Input, output: impl Into<PathBuf>) -> Self {
        IntegrateRun {
            settings,
            input,
            output: output.into(),
            format: OutputFormat::Nexus,
            backend: Backend::Cpu,
            workers: 0,
            monitor: Monitor::None,
            verify_md5: false,
            resume: false,
            block: 32,
            deflate: 1,
        }
    }

    /// The output format.
    pub fn format(mut self, format: OutputFormat) -> Self {
        self.format = format;
        self
    }

    /// The backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Worker threads (0: one per core).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Per-frame normalization.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }

    /// Checks every frame's `Content-MD5`.
    pub fn verify_md5(mut self, verify: bool) -> Self {
        self.verify_md5 = verify;
        self
    }

    /// Continues an interrupted run from its `OUT.part` (NeXus only).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Frames per HDF5 chunk and per flush.
    pub fn block(mut self, frames: usize) -> Self {
        self.block = frames.max(1);
        self
    }

    /// Deflate level of the HDF5 datasets (0: no compression).
    pub fn deflate(mut self, level: u8) -> Self {
        self.deflate = level.min(9);
        self
    }

    /// Runs to the end.
    pub fn run(self) -> Result<RunSummary, RunError> {
        self.run_with(&mut |_| {})
    }

    /// Runs to the end, calling `observe` with every frame's outcome once it is written (in
    /// scan order): progress bars, logs of failed frames.
    pub fn run_with(
        self,
        observe: &mut dyn FnMut(&FrameOutcome<'_>),
    ) -> Result<RunSummary, RunError> {
        let t_start = Instant::now();
        if self.resume && self.format != OutputFormat::Nexus {
            return Err(RunError::Invalid("--resume needs --format hdf5".into()));
        }
        let cpu = self.settings.build()?;
        let mut info: RunInfo = cpu.info().clone();
        let (reducer, backend_note) = reducer_for_backend(cpu, self.backend);
        let setup_s = t_start.elapsed().as_secs_f64();
        let params = &mut info.parameters;
        params.insert("monitor".into(), self.monitor.describe().into());
        params.insert("verify_md5".into(), self.verify_md5.into());
        params.insert("format".into(), self.format.name().into());
        params.insert("workers".into(), self.workers.into());
        params.insert("backend".into(), reducer.backend().into());
        params.insert("block".into(), self.block.into());

        let expected = match &self.input {
            Input::Frames(v) => v.len(),
            Input::Watch(w) => w.expect,
        };
        let (sink, skip) = self.open_output(&info, expected)?;
        let mut sink = Observed {
            inner: sink,
            observe,
        };
        let reader = AnyReader::new()
            .cbf(CbfReader::new().verify_md5(self.verify_md5))
            .monitor(self.monitor.clone());
        let opts = PipelineOptions {
            workers: self.workers,
            reader: Arc::new(reader),
            ..PipelineOptions::default()
        };
        let pipeline = Pipeline::new(&*reducer, opts);
        let (stats, watch_stop): (RunStats, Option<String>) = match self.input {
            Input::Frames(list) => (
                pipeline.run(list.into_iter().skip(skip), skip, &mut sink)?,
                None,
            ),
            Input::Watch(mut w) => {
                let timeout = w.timeout;
                // Resuming: the frames of index < skip are in the output already.
                w.skip = skip;
                let mut watcher = Watcher::new(w)?;
                let stats = pipeline.run_indexed(watcher.by_ref(), skip, &mut sink)?;
                let missing = expected.saturating_sub(skip + stats.frames);
                let stop = match watcher.error() {
                    Some(e) => Some(format!("watch stopped: {e}")),
                    None if watcher.timed_out() && missing > 0 => Some(format!(
                        "watch timed out after {:.0} s without a new frame: {missing} of \
                         {expected} frames missing",
                        timeout.as_secs_f64()
                    )),
                    None => None,
                };
                (stats, stop)
            }
        };
        let engine_s = stats.wall.as_secs_f64();
        let mut summary = RunSummary {
            frames: stats.frames,
            failed: stats.failed,
            missing: expected.saturating_sub(skip + stats.frames),
            resumed_from: skip,
            wall_s: round3(t_start.elapsed().as_secs_f64()),
            frames_per_s: round1(if engine_s > 0.0 {
                stats.frames as f64 / engine_s
            } else {
                0.0
            }),
            setup_s: round3(setup_s),
            run_s: round3(engine_s),
            workers: stats.workers,
            backend: reducer.backend().to_string(),
            path: match reducer.backend() {
                "gpu" => "gpu".to_string(),
                _ => byteoffset::active_path().to_string(),
            },
            stages: Stages {
                read: StageSummary::new(&stats.read, stats.frames),
                integrate: StageSummary::new(&stats.reduce, stats.frames),
                write: StageSummary::new(&stats.write, stats.frames),
            },
            output: self.output.display().to_string(),
            failures: stats.failures,
            backend_note,
            watch_stop,
        };
        let written = match sink.inner {
            #[cfg(feature = "hdf5")]
            Output::Nexus(w) => w.finish(&summary.to_json())?,
            Output::Csv(w) => w.finish()?,
        };
        summary.output = written.display().to_string();
        if let Some(stop) = &summary.watch_stop {
            log::warn!("{stop}");
        }
        Ok(summary)
    }

    /// The output, fresh or resumed, and the number of frames it already holds.
    fn open_output(&self, info: &RunInfo, expected: usize) -> Result<(Output, usize), RunError> {
        match self.format {
            OutputFormat::Csv => Ok((
                Output::Csv(CsvWriter::create(&self.output, info, expected == 1)?),
                0,
            )),
            #[cfg(feature = "hdf5")]
            OutputFormat::Nexus => {
                use crate::nexus::{NexusOptions, NexusWriter};
                let opts = NexusOptions {
                    block: self.block,
                    deflate: (self.deflate > 0).then_some(self.deflate),
                };
                if !self.resume {
                    let w = NexusWriter::create(&self.output, info, &opts)?;
                    return Ok((Output::Nexus(Box::new(w)), 0));
                }
                let (w, done) = NexusWriter::resume(&self.output, info, &opts)?;
                if let Input::Frames(list) = &self.input {
                    check_resumed(&done, list)?;
                }
                Ok((Output::Nexus(Box::new(w)), done.len()))
            }
            #[cfg(not(feature = "hdf5"))]
            OutputFormat::Nexus => Err(RunError::Invalid(
                "NeXus output needs the `hdf5` feature; use CSV".into(),
            )),
        }
    }
}

#[cfg(feature = "hdf5")]
/// The frames already written must be the first of the inputs, in the same order.
fn check_resumed(done: &[String], list: &[FrameSource]) -> Result<(), RunError> {
    if done.len() > list.len() {
        return Err(RunError::Invalid(format!(
            "cannot resume: {} frames already written but only {} inputs given",
            done.len(),
            list.len()
        )));
    }
    if let Some((k, (a, b))) = done
        .iter()
        .zip(list.iter().map(FrameSource::name))
        .enumerate()
        .find(|(_, (a, b))| **a != *b)
    {
        return Err(RunError::Invalid(format!(
            "cannot resume: frame {k} was {a}, the inputs now give {b}"
        )));
    }
    Ok(())
}

enum Output {
    #[cfg(feature = "hdf5")]
    Nexus(Box<crate::nexus::NexusWriter>),
    Csv(CsvWriter),
}

struct Observed<'o> {
    inner: Output,
    observe: &'o mut dyn FnMut(&FrameOutcome<'_>),
}

impl RowSink for Observed<'_> {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        match &mut self.inner {
            #[cfg(feature = "hdf5")]
            Output::Nexus(w) => w.push(frame)?,
            Output::Csv(w) => w.push(frame)?,
        }
        (self.observe)(&frame);
        Ok(())
    }
}

/// A watch that stops after `timeout` without a new frame, and hands over a file that
/// stays incomplete after at most 10 s (or the timeout, if shorter).
pub fn watch_options(dir: impl Into<PathBuf>, expect: usize, timeout: Duration) -> WatchOptions {
    let mut w = WatchOptions::new(dir, expect);
    w.timeout = timeout;
    w.stall = timeout.min(Duration::from_secs(10));
    w
}
