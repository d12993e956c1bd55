//! The error type of geometry, detector and engine set-up.

use std::path::PathBuf;

/// Errors of geometry, detector and engine set-up. Each variant says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Generic invalid argument (caller's fault).
    #[error("invalid input: {0}")]
    Invalid(&'static str),

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
}
