//! pyFAI-compatible azimuthal integration: PONI geometry, detector models, corrections,
//! pixel splitting (none, bounding box, full) and error propagation, on the CPU and the GPU.
//!
//! `azint` knows nothing of files or compression: it takes geometry, per-pixel corrections
//! and blocks of pixels with the index of their first pixel.

pub mod detector;
pub mod engine;
pub mod error;
pub mod geometry;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod poni;
pub mod units;

pub use error::Error;
