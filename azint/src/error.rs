//! The error type of geometry, detector, engine set-up and integration.

#![forbid(unsafe_code)]

use std::fmt;
use std::path::PathBuf;

use crate::engine::Split;

/// An axis of the output grid, as named in [`Error`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AxisKind {
    /// The radial axis (2θ, q or r).
    Radial,
    /// The azimuthal axis (χ).
    Azimuthal,
}

impl fmt::Display for AxisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AxisKind::Radial => "radial",
            AxisKind::Azimuthal => "azimuthal",
        })
    }
}

/// Errors of geometry, detector and engine set-up, and of integration calls. Each variant
/// says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read (environment).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// An error inside a named file; `source` says what and where (file's fault).
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: Box<Error>,
    },

    /// A PONI file lacks a required key (file's fault).
    #[error("PONI: missing key `{key}`")]
    MissingKey {
        /// The key, as pyFAI writes it (`Distance`, `Poni1`, `Detector`, …).
        key: &'static str,
    },

    /// A PONI value could not be parsed as what its key needs (file's fault).
    #[error("PONI line {line}: `{key}` has invalid value `{value}`: {reason}")]
    InvalidValue {
        /// 1-based line number in the PONI text (0 when the value came from JSON only).
        line: usize,
        /// The key.
        key: String,
        /// The raw value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// A geometry parameter is NaN or infinite (file's or caller's fault).
    #[error("`{key}` is not finite ({value})")]
    NotFinite {
        /// The parameter.
        key: &'static str,
        /// Its value.
        value: f64,
    },

    /// A geometry parameter is out of its physical range (file's or caller's fault).
    #[error("`{key}` = {value} is out of range: {reason}")]
    OutOfRange {
        /// The parameter.
        key: &'static str,
        /// Its value.
        value: f64,
        /// The allowed range, in words.
        reason: &'static str,
    },

    /// The PONI file claims a version this crate (and pyFAI) does not know (file's fault).
    #[error("PONI version {version} is not supported (known: 1, 2, 2.1, 3)")]
    UnsupportedPoniVersion {
        /// The version read.
        version: f64,
    },

    /// The detector name is not one pyFAI knows among the supported models (file's fault).
    #[error("unknown detector `{name}` (known: {known})")]
    UnknownDetector {
        /// The name as written.
        name: String,
        /// The supported class names.
        known: &'static str,
    },

    /// The detector configuration is unusable (file's or caller's fault).
    #[error("detector {detector}: {reason}")]
    DetectorConfig {
        /// The detector class name.
        detector: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A feature of the PONI file is not supported by this crate (e.g. parallax, spline).
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },

    /// The unit name is unknown (caller's fault).
    #[error(
        "unknown unit `{name}` (known: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm, r_m, chi_deg, chi_rad)"
    )]
    UnknownUnit {
        /// The name as given.
        name: String,
    },

    /// A q unit was asked for but the geometry has no wavelength (file's or caller's fault).
    #[error("unit {unit} needs the wavelength, which the geometry does not give")]
    MissingWavelength {
        /// The unit's name.
        unit: &'static str,
    },

    /// An array (mask, dark, flat, …) does not have the detector's shape (caller's fault).
    #[error("{what} has shape {actual:?} but the detector has shape {expected:?}")]
    ShapeMismatch {
        /// What the array is.
        what: &'static str,
        /// The detector's shape (rows, columns).
        expected: (usize, usize),
        /// The array's shape (rows, columns); (0, len) for a flat array of the wrong length.
        actual: (usize, usize),
    },

    /// A file is larger than this crate reads for its kind (file's fault).
    #[error("the file has {size} bytes, more than the {limit} bytes allowed")]
    FileTooLarge {
        /// The file's size, bytes.
        size: u64,
        /// The largest size read, bytes.
        limit: u64,
    },

    /// The splitting scheme name is unknown (caller's fault).
    #[error("unknown splitting {name:?} (no, bbox, full)")]
    UnknownSplit {
        /// The name as given.
        name: String,
    },

    /// The error model name is unknown (caller's fault).
    #[error("unknown error model {name:?} (none, poisson, azimuthal)")]
    UnknownErrorModel {
        /// The name as given.
        name: String,
    },

    /// The detector has more pixels than an engine indexes (2³² − 2) (caller's fault).
    #[error("a detector of {} × {} pixels is too large (at most 2^32 - 2 pixels)", shape.0, shape.1)]
    DetectorTooLarge {
        /// The detector's shape (rows, columns).
        shape: (usize, usize),
    },

    /// An axis of the grid was given 0 bins (caller's fault).
    #[error("the {axis} axis needs at least one bin")]
    ZeroBins {
        /// The axis.
        axis: AxisKind,
    },

    /// The grid has more bins than an engine indexes (fewer than 2³² − 2) (caller's fault).
    #[error("{radial} radial × {azimuthal} azimuthal bins are too many (fewer than 2^32 - 2)")]
    TooManyBins {
        /// Radial bins asked for.
        radial: usize,
        /// Azimuthal bins asked for (1 in 1D).
        azimuthal: usize,
    },

    /// Pixel splitting was asked for but the pixel map has no corners (caller's fault: build
    /// it with [`PixelMapOptions::corners`](crate::geometry::PixelMapOptions::corners)).
    #[error("{split} splitting needs the pixel corners (PixelMapOptions::corners)")]
    MissingCorners {
        /// The splitting asked for.
        split: Split,
    },

    /// No pixel is left to integrate: all are masked or have no finite position (caller's
    /// or file's fault).
    #[error("no valid pixel to integrate (all masked or outside the geometry)")]
    NoValidPixel,

    /// An integration range is empty or so narrow or wide that the bins are not finite
    /// numbers (caller's fault). The range is in the pixel map's radial unit, or in degrees
    /// for the azimuth.
    #[error("the {axis} range [{}, {}] is empty or degenerate", range.0, range.1)]
    DegenerateRange {
        /// The axis.
        axis: AxisKind,
        /// The range, as used (after defaults and clipping).
        range: (f64, f64),
    },

    /// The integration matrix has more entries than an engine indexes (caller's fault: fewer
    /// bins or pixels).
    #[error(
        "the integration matrix has {entries} entries, more than the engine indexes (2^32 - 1)"
    )]
    MatrixTooLarge {
        /// The number of entries (including the tiled engine's padding).
        entries: usize,
    },

    /// A block of pixels does not lie within the frame (caller's fault).
    #[error("pixels {first}..{first}+{len} do not lie within the frame of {n_pixels} pixels")]
    BlockOutOfRange {
        /// Index of the block's first pixel.
        first: usize,
        /// The block's length.
        len: usize,
        /// Pixels in a frame.
        n_pixels: usize,
    },

    /// A pixel index lies past the end of the frame (caller's fault, e.g. a reject list
    /// made for another detector).
    #[error("pixel {pixel} lies past the frame of {n_pixels} pixels")]
    PixelOutOfRange {
        /// The pixel index.
        pixel: usize,
        /// Pixels in a frame.
        n_pixels: usize,
    },

    /// An accumulator was made by another engine (caller's fault).
    #[error("the accumulator was made by another engine")]
    ForeignAccumulator,

    /// An accumulator is finished without having received exactly one frame of pixels
    /// (caller's fault).
    #[error("the accumulator received {added} pixels, not one frame of {expected}")]
    IncompleteFrame {
        /// Pixels added.
        added: usize,
        /// Pixels in a frame.
        expected: usize,
    },

    /// Per-bin sums do not have the engine's number of bins (caller's fault: sums made for
    /// another engine).
    #[error("{what} have {actual} bins but the engine has {expected}")]
    BinCountMismatch {
        /// What the sums are.
        what: &'static str,
        /// The engine's number of bins.
        expected: usize,
        /// The sums' number of bins.
        actual: usize,
    },

    /// The normalization factor (monitor) is zero, NaN or infinite (caller's fault).
    #[error("the normalization factor must be finite and non-zero, not {value}")]
    InvalidNormalizationFactor {
        /// The factor given.
        value: f64,
    },

    /// Quantiles do not satisfy `0 <= low <= high <= 1` (caller's fault).
    #[error("quantiles ({low}, {high}) do not satisfy 0 <= low <= high <= 1")]
    InvalidQuantiles {
        /// Lower quantile.
        low: f64,
        /// Upper quantile.
        high: f64,
    },

    /// A frame had more dummy pixels than the GPU's reject list holds: its sums are not
    /// usable (integrate that frame on the CPU).
    #[error("too many dummy pixels for the GPU reject list: integrate this frame on the CPU")]
    RejectListFull,
}
