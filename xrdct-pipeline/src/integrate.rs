//! The CPU decode+integrate stage ([`CpuReducer`]) and the settings that build it from a PONI
//! file, a mask and the user's options ([`IntegrateSettings`]).
//!
//! The CPU reducer fuses the two stages: the byte-offset decoder visits the frame in blocks
//! of [`BLOCK_PIXELS`] pixels (one tile of the engine, 256 KiB: stays in L2), and the engine
//! sums each block into the frame's accumulators. The 10 MB decoded frame never exists.
//!
//! ```no_run
//! use xrdct_pipeline::integrate::IntegrateSettings;
//! use xrdct_pipeline::pool::{MemorySink, Pipeline, PipelineOptions};
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
use cbf_format::{Compression, ElementType};
use serde_json::{Map, Value, json};

use crate::output::RunInfo;
use crate::pool::{Accumulators, FrameData, FrameError, FrameReducer, ReduceWorker, Row};

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

/// Parses `no`, `bbox`, `full` (pyFAI's names; `none`, `pseudo` accepted).
pub fn parse_split(s: &str) -> Result<Split, String> {
    match s.to_ascii_lowercase().as_str() {
        "no" | "none" => Ok(Split::No),
        "bbox" => Ok(Split::BBox),
        "full" | "pseudo" => Ok(Split::Full),
        _ => Err(format!("unknown splitting {s:?} (no, bbox, full)")),
    }
}

/// The name of a splitting scheme (`no`, `bbox`, `full`).
pub fn split_name(split: Split) -> &'static str {
    match split {
        Split::No => "no",
        Split::BBox => "bbox",
        Split::Full => "full",
    }
}

/// Parses `none`, `poisson`, `azimuthal`.
pub fn parse_error_model(s: &str) -> Result<ErrorModel, String> {
    match s.to_ascii_lowercase().as_str() {
        "none" | "no" => Ok(ErrorModel::None),
        "poisson" => Ok(ErrorModel::Poisson),
        "azimuthal" => Ok(ErrorModel::Azimuthal),
        _ => Err(format!(
            "unknown error model {s:?} (none, poisson, azimuthal)"
        )),
    }
}

fn error_model_name(e: ErrorModel) -> &'static str {
    match e {
        ErrorModel::None => "none",
        ErrorModel::Poisson => "poisson",
        ErrorModel::Azimuthal => "azimuthal",
    }
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
        m.insert("split".into(), split_name(self.split).into());
        m.insert(
            "polarization".into(),
            self.polarization.map_or(Value::Null, Value::from),
        );
        m.insert("solid_angle".into(), self.solid_angle.into());
        m.insert("dark".into(), path(&self.dark));
        m.insert("flat".into(), path(&self.flat));
        m.insert(
            "error_model".into(),
            error_model_name(self.error_model).into(),
        );
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
        Ok(CpuReducer {
            engine,
            keep_accumulators: self.accumulators,
            info,
        })
    }
}

/// Reads a correction image (dark, flat: CBF, EDF, TIFF, `.npy` or raw) as f32, row-major,
/// checking its shape.
pub fn load_image_f32(path: &Path, shape: (usize, usize)) -> Result<Vec<f32>, SetupError> {
    let image = crate::maskfile::read_image(path, Some(shape)).map_err(|e| SetupError::Image {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(image.values.into_iter().map(|x| x as f32).collect())
}

/// Reads a mask image (non-zero = masked, as pyFAI), row-major, checking its shape.
pub fn load_mask(path: &Path, shape: (usize, usize)) -> Result<Vec<bool>, SetupError> {
    crate::maskfile::read_mask(path, shape).map_err(|e| SetupError::Image {
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
}

impl CpuReducer {
    /// Wraps an engine built elsewhere; `info` describes the run for the output.
    pub fn new(engine: Engine, keep_accumulators: bool, info: RunInfo) -> Self {
        CpuReducer {
            engine,
            keep_accumulators,
            info,
        }
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

    /// Checks the section's shape against the engine's.
    fn check_shape(&self, section: &cbf_format::Section<'_>) -> Result<(), FrameError> {
        let (rows, cols) = self.engine.shape();
        if section.dims() != [cols, rows] {
            return Err(FrameError::Shape {
                expected: vec![cols, rows],
                got: section.dims().to_vec(),
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
            pair: None,
            pixels: Vec::new(),
        })
    }
}

struct CpuWorker<'a> {
    reducer: &'a CpuReducer,
    acc: Accumulator,
    block: Vec<i32>,
    /// Accumulator and block of the second frame of a pair (allocated on first use).
    pair: Option<(Accumulator, Vec<i32>)>,
    /// Whole decoded frame, only for compressions other than byte-offset.
    pixels: Vec<i32>,
}

impl CpuWorker<'_> {
    /// Whether the frame takes the fused byte-offset path with the engine's shape.
    fn fused(&self, frame: &FrameData<'_>) -> bool {
        let s = frame.section;
        *s.compression() == Compression::ByteOffset
            && s.element_type() == ElementType::I32
            && self.reducer.check_shape(s).is_ok()
    }

    /// Two frames decoded tile by tile side by side, the engine streaming its matrix once
    /// per tile for both (splitting engines). A frame that fails to decode fails alone.
    fn reduce_pair(
        &mut self,
        a: &FrameData<'_>,
        b: &FrameData<'_>,
    ) -> [Result<Row, FrameError>; 2] {
        let reducer = self.reducer;
        let engine = &reducer.engine;
        let (acc_b, block_b) = self
            .pair
            .get_or_insert_with(|| (engine.new_accumulator(), vec![0; BLOCK_PIXELS]));
        let (acc_a, block_a) = (&mut self.acc, &mut self.block);
        acc_a.reset();
        acc_b.reset();
        let mut dec = [
            byteoffset::BlockDecoder::new(a.section.payload(), a.section.element_count()),
            byteoffset::BlockDecoder::new(b.section.payload(), b.section.element_count()),
        ];
        let mut failed: [Option<FrameError>; 2] = [None, None];
        for (d, slot) in dec.iter_mut().zip(&mut failed) {
            if let Err(e) = d {
                *slot = Some(FrameError::from(e.clone()));
            }
        }
        let backend = |e: azint::Error| FrameError::Backend(e.to_string());
        loop {
            let mut next = |k: usize, block: &mut [i32]| -> Option<(usize, usize)> {
                if failed[k].is_some() {
                    return None;
                }
                let d = dec[k].as_mut().ok()?;
                match d.next_block(block) {
                    Ok(r) => r,
                    Err(e) => {
                        failed[k] = Some(FrameError::from(e));
                        None
                    }
                }
            };
            let ra = next(0, block_a);
            let rb = next(1, block_b);
            let added = match (ra, rb) {
                (None, None) => break,
                (Some((fa, la)), Some((fb, lb))) if fa == fb => engine.add_block_pair(
                    [&mut *acc_a, &mut *acc_b],
                    fa,
                    [&block_a[..la], &block_b[..lb]],
                ),
                (ra, rb) => {
                    let mut r = Ok(());
                    if let Some((f, l)) = ra {
                        r = r.and(engine.add_block(acc_a, f, &block_a[..l]));
                    }
                    if let Some((f, l)) = rb {
                        r = r.and(engine.add_block(acc_b, f, &block_b[..l]));
                    }
                    r
                }
            };
            if let Err(e) = added {
                let msg = e.to_string();
                return [
                    Err(FrameError::Backend(msg.clone())),
                    Err(FrameError::Backend(msg)),
                ];
            }
        }
        let [fa, fb] = failed;
        let finish = |acc: &Accumulator, f: &FrameData<'_>, failed: Option<FrameError>| {
            if let Some(e) = failed {
                return Err(e);
            }
            let pattern = engine.finish(acc, f.normalization).map_err(backend)?;
            Ok(reducer.row(pattern))
        };
        [finish(acc_a, a, fa), finish(acc_b, b, fb)]
    }
}

impl ReduceWorker for CpuWorker<'_> {
    fn batch_size(&self) -> usize {
        // Splitting engines sum two frames per pass over their matrix.
        if self.reducer.engine.csc().is_some() {
            2
        } else {
            1
        }
    }

    fn reduce_batch(&mut self, frames: &[FrameData<'_>], out: &mut Vec<Result<Row, FrameError>>) {
        let mut rest = frames;
        while let Some((a, tail)) = rest.split_first() {
            match tail.split_first() {
                Some((b, tail2)) if self.batch_size() > 1 && self.fused(a) && self.fused(b) => {
                    out.extend(self.reduce_pair(a, b));
                    rest = tail2;
                }
                _ => {
                    out.push(self.reduce(a));
                    rest = tail;
                }
            }
        }
    }

    fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
        let section = frame.section;
        let reducer = self.reducer;
        reducer.check_shape(section)?;
        let engine = &reducer.engine;
        let backend = |e: azint::Error| FrameError::Backend(e.to_string());
        self.acc.reset();
        if *section.compression() == Compression::ByteOffset
            && section.element_type() == ElementType::I32
        {
            // Fused: decode tile by tile (L2) straight into the accumulators.
            let mut failed = None;
            let acc = &mut self.acc;
            byteoffset::decode_visit(
                section.payload(),
                section.element_count(),
                &mut self.block,
                |first, px| {
                    if failed.is_none()
                        && let Err(e) = engine.add_block(acc, first, px)
                    {
                        failed = Some(e);
                    }
                },
            )?;
            if let Some(e) = failed {
                return Err(backend(e));
            }
        } else {
            self.pixels.resize(section.element_count(), 0);
            section.decode_into_i32(&mut self.pixels)?;
            engine
                .add_block(&mut self.acc, 0, &self.pixels)
                .map_err(backend)?;
        }
        let pattern = engine
            .finish(&self.acc, frame.normalization)
            .map_err(backend)?;
        Ok(reducer.row(pattern))
    }
}
