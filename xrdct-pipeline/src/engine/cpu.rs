//! The CPU decode+integrate stage ([`CpuReducer`]) and the settings that build it from a PONI
//! file, a mask and the user's options ([`IntegrateSettings`]).
//!
//! The CPU reducer fuses the two stages: the byte-offset decoder visits the frame in blocks
//! of [`BLOCK_PIXELS`] pixels (one tile of the engine, 256 KiB: stays in L2), and the engine
//! sums each block into the frame's accumulators. The 10 MB decoded frame never exists.
//!
//! ```no_run
//! use xrdct_pipeline::engine::IntegrateSettings;
//! use xrdct_pipeline::engine::{MemorySink, Pipeline, PipelineOptions};
//! use xrdct_pipeline::inputs::resolve_inputs;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = IntegrateSettings::new("geometry.poni", 2000);
//! let reducer = settings.build()?;
//! let frames = resolve_inputs(&["scan/"])?;
//! let mut sink = MemorySink::default();
//! let stats = Pipeline::new(&reducer, PipelineOptions::default()).run(frames, 0, &mut sink)?;
//! println!("{} frames, {} failed, {:.0} frames/s", stats.frames, stats.failed, stats.frames_per_s());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use azint::engine::{Accumulator, Engine, ErrorModel, IntegrationConfig, Pattern, Split};
use azint::geometry::{Geometry, PixelMapOptions, Polarization};
use azint::poni::Poni;
use azint::units::Unit;
use serde_json::{Map, Value, json};

use crate::engine::{Accumulators, FrameError, FrameReducer, ReduceWorker, Row, RunInfo};
use crate::readers::{BlockDecoder, FrameData};

/// Pixels per decoded block in the fused path: one tile of the engine, which it sums without
/// a copy (256 KiB of i32: stays in L2).
pub const BLOCK_PIXELS: usize = azint::engine::TILE;

/// Why the integrator could not be set up. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The geometry, mask or configuration is unusable (user or file).
    #[error("{0}")]
    Azint(#[from] azint::Error),
    /// A correction image (dark, flat, mask) cannot be read (user or file).
    #[error("{path}: {message}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An option has an impossible value (user).
    #[error("{0}")]
    Invalid(String),
}

/// Everything that defines an integration: geometry, mask, grid and corrections.
#[derive(Debug, Clone)]
pub struct IntegrateSettings {
    /// The PONI file.
    pub poni: PathBuf,
    /// Static mask image (1 = masked, as pyFAI), added to the detector's gaps.
    pub mask: Option<PathBuf>,
    /// Radial bins.
    pub bins: usize,
    /// Radial unit.
    pub unit: Unit,
    /// Pixel splitting.
    pub split: Split,
    /// Polarization factor (pyFAI's `polarization_factor`), none by default.
    pub polarization: Option<f64>,
    /// Solid-angle correction (on by default).
    pub solid_angle: bool,
    /// Dark current image.
    pub dark: Option<PathBuf>,
    /// Flat-field image.
    pub flat: Option<PathBuf>,
    /// Error model (Poisson by default: the output has a sigma).
    pub error_model: ErrorModel,
    /// Radial range in `unit` (default: the valid pixels' range, as pyFAI).
    pub radial_range: Option<(f64, f64)>,
    /// Azimuthal range in degrees.
    pub azimuth_range: Option<(f64, f64)>,
    /// Value of invalid pixels and its tolerance (Dectris: −2 ± 1.5).
    pub dummy: Option<(f64, f64)>,
    /// Keep the accumulators in every row (for re-binning).
    pub accumulators: bool,
}

impl IntegrateSettings {
    /// `bins` bins in 2θ (degrees), no splitting, solid angle on, Poisson errors.
    pub fn new(poni: impl Into<PathBuf>, bins: usize) -> Self {
        IntegrateSettings {
            poni: poni.into(),
            mask: None,
            bins,
            unit: Unit::TwoThetaDeg,
            split: Split::No,
            polarization: None,
            solid_angle: true,
            dark: None,
            flat: None,
            error_model: ErrorModel::Poisson,
            radial_range: None,
            azimuth_range: None,
            dummy: None,
            accumulators: false,
        }
    }

    /// Every parameter, as written into `/entry/process` (paths as given).
    pub fn parameters(&self) -> Map<String, Value> {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or(Value::Null, |p| p.display().to_string().into())
        };
        let range = |r: &Option<(f64, f64)>| r.map_or(Value::Null, |(a, b)| json!([a, b]));
        let mut m = Map::new();
        m.insert("poni".into(), self.poni.display().to_string().into());
        m.insert("mask".into(), path(&self.mask));
        m.insert("bins".into(), self.bins.into());
        m.insert("unit".into(), self.unit.name().into());
        m.insert("split".into(), self.split.name().into());
        m.insert(
            "polarization".into(),
            self.polarization.map_or(Value::Null, Value::from),
        );
        m.insert("solid_angle".into(), self.solid_angle.into());
        m.insert("dark".into(), path(&self.dark));
        m.insert("flat".into(), path(&self.flat));
        m.insert("error_model".into(), self.error_model.name().into());
        m.insert("radial_range".into(), range(&self.radial_range));
        m.insert("azimuth_range".into(), range(&self.azimuth_range));
        m.insert(
            "dummy".into(),
            self.dummy.map_or(Value::Null, |(d, _)| d.into()),
        );
        m.insert(
            "delta_dummy".into(),
            self.dummy.map_or(Value::Null, |(_, d)| d.into()),
        );
        m.insert("accumulators".into(), self.accumulators.into());
        m
    }

    /// Reads the PONI file, mask, dark and flat and builds the engine.
    pub fn build(&self) -> Result<CpuReducer, SetupError> {
        let text = std::fs::read_to_string(&self.poni).map_err(|e| SetupError::Image {
            path: self.poni.clone(),
            message: e.to_string(),
        })?;
        let poni = Poni::from_file(&self.poni)?;
        let geometry = Geometry::from_poni(&poni)?;
        self.build_with(&geometry, text)
    }

    /// Builds the engine for an already parsed geometry (`poni_text` is recorded as is).
    pub fn build_with(
        &self,
        geometry: &Geometry,
        poni_text: String,
    ) -> Result<CpuReducer, SetupError> {
        if self.bins == 0 {
            return Err(SetupError::Invalid("--bins must be at least 1".into()));
        }
        let shape = geometry.shape();
        let n = shape.0 * shape.1;
        let user_mask = match &self.mask {
            Some(p) => Some(load_mask(p, shape)?),
            None => None,
        };
        let options = PixelMapOptions {
            polarization: self.polarization.map(|factor| Polarization {
                factor,
                axis_offset: 0.0,
            }),
            solid_angle: self.solid_angle,
            corners: self.split != Split::No,
            user_mask,
            ..PixelMapOptions::new()
        };
        let map = geometry.pixel_map(self.unit, &options)?;
        let load = |p: &Option<PathBuf>| -> Result<Option<Vec<f32>>, SetupError> {
            p.as_ref().map(|p| load_image_f32(p, shape)).transpose()
        };
        let config = IntegrationConfig {
            bins: self.bins,
            azimuthal_bins: None,
            split: self.split,
            radial_range: self.radial_range,
            azimuth_range: self.azimuth_range,
            dummy: self.dummy.map(|d| d.0),
            delta_dummy: self.dummy.map(|d| d.1),
            error_model: self.error_model,
            dark: load(&self.dark)?,
            flat: load(&self.flat)?,
        };
        debug_assert_eq!(map.radial.len(), n);
        let engine = Engine::new(&map, &config)?;
        let info = RunInfo {
            radial: engine.radial().to_vec(),
            unit: self.unit.name().to_string(),
            poni_text,
            poni_file: self.poni.display().to_string(),
            parameters: self.parameters(),
            accumulators: self.accumulators,
        };
        Ok(CpuReducer::new(engine, self.accumulators, info))
    }
}

/// Reads a correction image (dark, flat: CBF, EDF, TIFF, `.npy` or raw) as f32, row-major,
/// checking its shape.
pub fn load_image_f32(path: &Path, shape: (usize, usize)) -> Result<Vec<f32>, SetupError> {
    let image =
        crate::readers::image::read_image(path, Some(shape)).map_err(|e| SetupError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(image.values.into_iter().map(|x| x as f32).collect())
}

/// Reads a mask image (non-zero = masked, as pyFAI), row-major, checking its shape.
pub fn load_mask(path: &Path, shape: (usize, usize)) -> Result<Vec<bool>, SetupError> {
    crate::readers::image::read_mask(path, shape).map_err(|e| SetupError::Image {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The CPU decode+integrate stage: fused byte-offset decoding and azimuthal integration.
#[derive(Debug, Clone)]
pub struct CpuReducer {
    engine: Engine,
    keep_accumulators: bool,
    info: RunInfo,
    frames_per_pass: usize,
}

/// Most frames a splitting engine sums per pass over its matrix ([`CpuReducer::frames_per_pass`]).
pub const MAX_FRAMES_PER_PASS: usize = 4;

impl CpuReducer {
    /// Wraps an engine built elsewhere; `info` describes the run for the output.
    pub fn new(engine: Engine, keep_accumulators: bool, info: RunInfo) -> Self {
        let frames_per_pass = if engine.split() != Split::No {
            MAX_FRAMES_PER_PASS
        } else {
            1
        };
        CpuReducer {
            engine,
            keep_accumulators,
            info,
            frames_per_pass,
        }
    }

    /// How many frames a worker sums per pass over the integration matrix (1 to
    /// [`MAX_FRAMES_PER_PASS`]). Splitting engines stream a matrix of ~45 MB per pass for a
    /// Pilatus 2M, so frames decoded side by side share it; without splitting the matrix is
    /// small and frames go one by one.
    pub fn with_frames_per_pass(mut self, n: usize) -> Self {
        self.frames_per_pass = n.clamp(1, MAX_FRAMES_PER_PASS);
        self
    }

    /// See [`CpuReducer::with_frames_per_pass`].
    pub fn frames_per_pass(&self) -> usize {
        self.frames_per_pass
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// What the output records about the geometry and the parameters.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// Integrates a decoded frame on its own, the unfused way (a reference for tests).
    pub fn reduce_pixels(&self, pixels: &[i32], normalization: f64) -> Result<Row, FrameError> {
        let p = self
            .engine
            .integrate_i32(pixels, normalization)
            .map_err(|e| FrameError::Backend(e.to_string()))?;
        Ok(self.row(p))
    }

    fn row(&self, p: Pattern) -> Row {
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        Row {
            intensity: to32(&p.intensity),
            sigma: to32(&p.sigma),
            accumulators: self.keep_accumulators.then_some(Accumulators {
                sum_signal: p.sum_signal,
                sum_normalization: p.sum_normalization,
                count: p.count,
            }),
        }
    }

    /// Checks the frame's shape against the engine's.
    fn check_shape(&self, frame: &FrameData<'_>) -> Result<(), FrameError> {
        let (rows, cols) = self.engine.shape();
        if frame.dims != [cols, rows] {
            return Err(FrameError::Shape {
                expected: vec![cols, rows],
                got: frame.dims.to_vec(),
            });
        }
        Ok(())
    }
}

impl FrameReducer for CpuReducer {
    fn bins(&self) -> usize {
        self.engine.radial().len()
    }
    fn backend(&self) -> &str {
        "cpu"
    }
    fn worker(&self) -> Box<dyn ReduceWorker + '_> {
        Box::new(CpuWorker {
            reducer: self,
            acc: self.engine.new_accumulator(),
            block: vec![0; BLOCK_PIXELS],
            group: Vec::new(),
        })
    }
}

struct CpuWorker<'a> {
    reducer: &'a CpuReducer,
    acc: Accumulator,
    block: Vec<i32>,
    /// Accumulators and blocks of the frames of a group (allocated on first use).
    group: Vec<(Accumulator, Vec<i32>)>,
}

impl CpuWorker<'_> {
    /// Whether the frame can join a group: the engine's shape (the payload may be encoded
    /// or decoded; both give blocks).
    fn groupable(&self, frame: &FrameData<'_>) -> bool {
        self.reducer.check_shape(frame).is_ok()
    }

    /// Frames (2 to [`MAX_FRAMES_PER_PASS`]) decoded tile by tile side by side, the engine
    /// streaming its matrix once per tile for all of them (splitting engines). A frame that
    /// fails to decode fails alone.
    fn reduce_group(&mut self, frames: &[FrameData<'_>]) -> Vec<Result<Row, FrameError>> {
        let reducer = self.reducer;
        let engine = &reducer.engine;
        let n = frames.len();
        while self.group.len() < n {
            self.group
                .push((engine.new_accumulator(), vec![0; BLOCK_PIXELS]));
        }
        let group = &mut self.group[..n];
        let mut failed: Vec<Option<FrameError>> = Vec::with_capacity(n);
        let mut decoders: Vec<Option<BlockDecoder<'_>>> = Vec::with_capacity(n);
        for f in frames {
            match f.blocks() {
                Ok(d) => {
                    decoders.push(Some(d));
                    failed.push(None);
                }
                Err(e) => {
                    decoders.push(None);
                    failed.push(Some(e));
                }
            }
        }
        for (acc, _) in group.iter_mut() {
            acc.reset();
        }
        let backend = |e: azint::Error| FrameError::Backend(e.to_string());
        let mut blocks: Vec<Option<(usize, usize)>> = vec![None; n];
        loop {
            for (((d, slot), (_, block)), got) in decoders
                .iter_mut()
                .zip(&mut failed)
                .zip(group.iter_mut())
                .zip(&mut blocks)
            {
                *got = None;
                if slot.is_some() {
                    continue;
                }
                if let Some(d) = d {
                    match d.next_block(block) {
                        Ok(r) => *got = r,
                        Err(e) => *slot = Some(e),
                    }
                }
            }
            if blocks.iter().all(Option::is_none) {
                break;
            }
            if let Err(e) = add_group(engine, group, &blocks) {
                let msg = e.to_string();
                return (0..n)
                    .map(|_| Err(FrameError::Backend(msg.clone())))
                    .collect();
            }
        }
        group
            .iter()
            .zip(frames)
            .zip(failed)
            .map(|(((acc, _), f), failed)| {
                if let Some(e) = failed {
                    return Err(e);
                }
                let pattern = engine.finish(acc, f.normalization).map_err(backend)?;
                Ok(reducer.row(pattern))
            })
            .collect()
    }
}

/// Adds the decoded blocks of a group of frames: in one pass when every frame has the same
/// block, one by one otherwise (a frame that failed or ended early).
fn add_group(
    engine: &Engine,
    group: &mut [(Accumulator, Vec<i32>)],
    blocks: &[Option<(usize, usize)>],
) -> Result<(), azint::Error> {
    let first = blocks.first().copied().flatten();
    if let Some((f, len)) = first
        && blocks.iter().all(|b| *b == Some((f, len)))
    {
        match group {
            [(a, pa), (b, pb)] => return engine.add_blocks([a, b], f, [&pa[..len], &pb[..len]]),
            [(a, pa), (b, pb), (c, pc)] => {
                return engine.add_blocks([a, b, c], f, [&pa[..len], &pb[..len], &pc[..len]]);
            }
            [(a, pa), (b, pb), (c, pc), (d, pd)] => {
                let px = [&pa[..len], &pb[..len], &pc[..len], &pd[..len]];
                return engine.add_blocks([a, b, c, d], f, px);
            }
            _ => {}
        }
    }
    for ((acc, block), b) in group.iter_mut().zip(blocks) {
        if let Some((f, len)) = *b {
            engine.add_block(acc, f, &block[..len])?;
        }
    }
    Ok(())
}

impl ReduceWorker for CpuWorker<'_> {
    fn batch_size(&self) -> usize {
        self.reducer.frames_per_pass
    }

    fn reduce_batch(&mut self, frames: &[FrameData<'_>], out: &mut Vec<Result<Row, FrameError>>) {
        let mut rest = frames;
        while !rest.is_empty() {
            // The longest run of fused frames (at most a pass) goes through together.
            let run = rest
                .iter()
                .take(self.batch_size())
                .take_while(|f| self.groupable(f))
                .count();
            if run >= 2 {
                out.extend(self.reduce_group(&rest[..run]));
                rest = &rest[run..];
            } else {
                out.push(self.reduce(&rest[0]));
                rest = &rest[1..];
            }
        }
    }

    fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
        let reducer = self.reducer;
        reducer.check_shape(frame)?;
        let engine = &reducer.engine;
        let backend = |e: azint::Error| FrameError::Backend(e.to_string());
        self.acc.reset();
        // Fused: decode tile by tile (L2) straight into the accumulators.
        let mut blocks = frame.blocks()?;
        while let Some((first, len)) = blocks.next_block(&mut self.block)? {
            engine
                .add_block(&mut self.acc, first, &self.block[..len])
                .map_err(backend)?;
        }
        let pattern = engine
            .finish(&self.acc, frame.normalization)
            .map_err(backend)?;
        Ok(reducer.row(pattern))
    }
}
