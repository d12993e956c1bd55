//! A whole XRD-CT reduction in one run: integrate every frame through the pipeline engine
//! (NeXus `/entry/integrated`), place the patterns by scan position into a sinogram cube,
//! reconstruct every bin, and write one NeXus file (`/entry/integrated`, `/entry/sinogram`,
//! `/entry/tomogram`, `/entry/process`).
//!
//! The output is written as `OUT.part` by the integration writer, completed with the
//! sinogram and tomogram, and renamed to `OUT` only at the end.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::engine::{
    FrameOutcome, FrameReducer, Pipeline, PipelineOptions, RowSink, RunInfo, RunStats, SinkError,
};
use crate::inputs::FrameSource;
use crate::nexus::recon::{self as recon_io, ReconOutput, SinogramData};
use crate::nexus::{NexusOptions, NexusWriter};
use crate::output::OutputError;
use crate::tomo::fbp::{self, FbpOptions, Filter, SinogramCube, Tomogram};
use crate::tomo::scan::{self, AngleSpec, FastAxis, ScanModel};
use crate::tomo::sinogram;

/// Errors of a reduction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReduceError {
    /// Scan description inconsistent with the inputs (user).
    #[error(transparent)]
    Scan(#[from] scan::ScanError),
    /// Integration output could not be written (environment).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The pipeline stopped (sink error or a bug).
    #[error(transparent)]
    Pipeline(#[from] crate::engine::PipelineError),
    /// Sinogram assembly failed (e.g. every frame failed).
    #[error(transparent)]
    Sinogram(#[from] sinogram::SinogramError),
    /// Reconstruction options invalid (user).
    #[error(transparent)]
    Fbp(#[from] fbp::FbpError),
    /// NeXus reconstruction groups could not be written (environment).
    #[error(transparent)]
    ReconIo(#[from] recon_io::ReconIoError),
    /// Reading `Start_angle` from a frame header failed (file).
    #[error("{path}: reading Start_angle: {message}")]
    Header {
        /// Frame file.
        path: String,
        /// Reason.
        message: String,
    },
}

/// Where the rotation axis is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum CenterChoice {
    /// `translations / 2`, as scikit-image.
    #[default]
    Default,
    /// Given, translation steps (sub-pixel).
    Given(f64),
    /// Estimated from the data (reported).
    Auto,
}

impl std::str::FromStr for CenterChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(CenterChoice::Auto),
            "default" => Ok(CenterChoice::Default),
            v => v
                .parse::<f64>()
                .ok()
                .filter(|c| c.is_finite())
                .map(CenterChoice::Given)
                .ok_or_else(|| format!("expected a number, `auto` or `default`, got {v:?}")),
        }
    }
}

/// Resolves a [`CenterChoice`] on a cube: `(centre for FbpOptions, description)`.
pub fn resolve_center(
    choice: CenterChoice,
    cube: &SinogramCube<'_>,
) -> Result<(Option<f64>, String), fbp::FbpError> {
    Ok(match choice {
        CenterChoice::Default => (None, format!("default ({})", cube.translations() / 2)),
        CenterChoice::Given(c) => (Some(c), "given".to_string()),
        CenterChoice::Auto => {
            let e = fbp::estimate_center(&cube.summed(), cube.translations(), cube.angles_deg())?;
            (
                Some(e.center),
                format!("auto: {} over {} projections", e.method.name(), e.used),
            )
        }
    })
}

/// The scan and reconstruction settings of a reduction.
#[derive(Clone, Debug)]
pub struct ReduceOptions {
    /// Rotations.
    pub rotations: usize,
    /// Translations.
    pub translations: usize,
    /// Fast axis.
    pub fast: FastAxis,
    /// Zigzag acquisition.
    pub zigzag: bool,
    /// Angles.
    pub angles: AngleSpec,
    /// FBP filter.
    pub filter: Filter,
    /// Rotation axis.
    pub center: CenterChoice,
    /// Engine settings (workers, monitor, read options).
    pub pipeline: PipelineOptions,
}

/// Timings and results of a reduction.
#[derive(Debug)]
pub struct ReduceReport {
    /// The integration run (frames, failures, per-stage times).
    pub stats: RunStats,
    /// Sinogram assembly.
    pub assemble: Duration,
    /// Centre estimation + filtered back-projection.
    pub reconstruct: Duration,
    /// Writing sinogram and tomogram.
    pub write: Duration,
    /// Frames filled by interpolation.
    pub filled: usize,
    /// The centre used and how it was found.
    pub center: (f64, String),
    /// The sinogram cube.
    pub sinogram: SinogramData,
    /// The tomogram.
    pub tomogram: Tomogram,
    /// The NeXus file.
    pub output: PathBuf,
}

/// Tees rows into the NeXus writer and keeps the intensities for the sinogram.
struct CollectSink {
    nexus: NexusWriter,
    bins: usize,
    patterns: Vec<f32>,
    ok: Vec<bool>,
}

impl RowSink for CollectSink {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        match frame.result {
            Ok(row) if row.intensity.len() == self.bins => {
                self.patterns.extend_from_slice(&row.intensity);
                self.ok.push(true);
            }
            _ => {
                self.patterns
                    .extend(std::iter::repeat_n(f32::NAN, self.bins));
                self.ok.push(false);
            }
        }
        self.nexus.push(frame)
    }
}

/// `Start_angle` of every frame (None where absent or unreadable).
fn start_angles(sources: &[FrameSource]) -> Vec<Option<f64>> {
    sources
        .iter()
        .map(|s| match s {
            FrameSource::File(p) => {
                cbf_format::CbfFile::open(p, &cbf_format::ReadOptions::default().verify_md5(false))
                    .ok()
                    .and_then(|f| f.header().start_angle)
            }
            FrameSource::Memory { bytes, .. } => cbf_format::CbfFile::from_bytes(bytes)
                .ok()
                .and_then(|f| f.header().start_angle),
            FrameSource::Hdf5 { .. } => None,
        })
        .collect()
}

/// Runs the whole reduction of `sources` (acquisition order) into `output`.
pub fn reduce(
    reducer: &dyn FrameReducer,
    info: &RunInfo,
    sources: Vec<FrameSource>,
    output: &Path,
    opts: &ReduceOptions,
    configuration: Value,
) -> Result<ReduceReport, ReduceError> {
    let probe = ScanModel::new(
        opts.rotations,
        opts.translations,
        opts.fast,
        opts.zigzag,
        vec![0.0; opts.rotations],
    )?;
    if sources.len() != probe.frames() {
        return Err(scan::ScanError::FrameCount {
            frames: sources.len(),
            rotations: opts.rotations,
            translations: opts.translations,
            expected: probe.frames(),
        }
        .into());
    }
    let angles = match &opts.angles {
        AngleSpec::Range {
            start,
            end,
            endpoint,
        } => scan::angles_range(*start, *end, opts.rotations, *endpoint),
        AngleSpec::File(p) => scan::read_angles_file(p)?,
        AngleSpec::Header => scan::angles_from_start_angles(
            (opts.rotations, opts.translations, opts.fast, opts.zigzag),
            &start_angles(&sources),
        )?,
    };
    let scan = ScanModel::new(
        opts.rotations,
        opts.translations,
        opts.fast,
        opts.zigzag,
        angles,
    )?;
    let bins = reducer.bins();
    let nexus = NexusWriter::create(output, info, &NexusOptions::default())?;
    let part = nexus.partial_path().to_path_buf();
    let mut sink = CollectSink {
        nexus,
        bins,
        patterns: Vec::with_capacity(scan.frames() * bins),
        ok: Vec::with_capacity(scan.frames()),
    };
    let stats = Pipeline::new(reducer, opts.pipeline.clone()).run(sources, 0, &mut sink)?;
    let CollectSink {
        nexus,
        patterns,
        ok,
        ..
    } = sink;

    let t = Instant::now();
    let a = sinogram::assemble(&scan, &patterns, bins, &ok, None)?;
    let assemble = t.elapsed();
    let t = Instant::now();
    let sino = SinogramData {
        data: a.data,
        rotations: scan.rotations(),
        translations: scan.translations(),
        bins,
        angles_deg: scan.angles_deg().to_vec(),
        translation: (0..scan.translations()).map(|v| v as f64).collect(),
        radial: Some((info.radial.clone(), info.unit.clone())),
        filled: a.filled,
    };
    let cube = SinogramCube::new(
        &sino.data,
        sino.rotations,
        sino.translations,
        bins,
        &sino.angles_deg,
    )?;
    let (center, center_source) = resolve_center(opts.center, &cube)?;
    let tomo = fbp::reconstruct(
        &cube,
        &FbpOptions {
            filter: opts.filter,
            center,
        },
    )?;
    let reconstruct = t.elapsed();

    let t = Instant::now();
    let summary = json!({
        "frames": stats.frames,
        "failed": stats.failed,
        "filled": a.filled_count,
        "wall_s": stats.wall.as_secs_f64(),
    });
    nexus.finish(&summary)?;
    // The integration writer renamed PATH.part to PATH: complete it under the part name
    // again, so that PATH appears only when everything is in.
    std::fs::rename(output, &part).map_err(|source| recon_io::ReconIoError::Io {
        path: part.clone(),
        source,
    })?;
    let recon_config = json!({
        "filter": opts.filter.name(),
        "center_of_rotation": tomo.center,
        "center_source": center_source,
        "rotations": scan.rotations(),
        "translations": scan.translations(),
        "fast_axis": match scan.fast() { FastAxis::Translation => "translation", FastAxis::Rotation => "rotation" },
        "zigzag": scan.zigzag(),
        "filled_frames": a.filled_count,
        "kernel": fbp::active_path(),
        "run": configuration,
    })
    .to_string();
    let out = ReconOutput {
        tomogram: Some(&tomo),
        filter: opts.filter.name(),
        center_source: &center_source,
        configuration: &recon_config,
    };
    let add = || -> Result<(), recon_io::ReconIoError> {
        let h5 = |what: &str| {
            let (p, w) = (part.clone(), what.to_string());
            move |source| recon_io::ReconIoError::Hdf5 {
                path: p,
                what: w,
                source,
            }
        };
        let file = hdf5::File::open_rw(&part).map_err(h5("reopening"))?;
        let entry = file.group("entry").map_err(h5("opening /entry"))?;
        recon_io::write_sinogram_group(&entry, &sino, &part)?;
        recon_io::write_tomogram_group(&entry, &tomo, sino.radial.as_ref(), &out, &part)?;
        let process = entry
            .group("process")
            .map_err(h5("opening /entry/process"))?;
        let ds = process
            .new_dataset::<hdf5::types::VarLenUnicode>()
            .create("reconstruction")
            .map_err(h5("creating /entry/process/reconstruction"))?;
        let v: hdf5::types::VarLenUnicode = recon_config.parse().unwrap_or_default();
        ds.write_scalar(&v)
            .map_err(h5("writing /entry/process/reconstruction"))?;
        file.close().map_err(h5("closing"))
    };
    if let Err(e) = add() {
        let _ = std::fs::remove_file(&part);
        return Err(e.into());
    }
    std::fs::rename(&part, output).map_err(|source| recon_io::ReconIoError::Io {
        path: output.into(),
        source,
    })?;
    let write = t.elapsed();
    Ok(ReduceReport {
        stats,
        assemble,
        reconstruct,
        write,
        filled: a.filled_count,
        center: (tomo.center, center_source),
        sinogram: sino,
        tomogram: tomo,
        output: output.to_path_buf(),
    })
}
