#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`poni`]: PONI files, as pyFAI reads and writes them;
//! - [`detector`]: the detector models (pixel size, shape, gaps, orientation);
//! - [`geometry`]: per-pixel positions and corrections in pyFAI's convention;
//! - [`units`]: radial and azimuthal units with pyFAI's names and scales;
//! - [`engine`]: the integration engines (what [`Integrator`] wraps);
//! - `gpu` (feature `gpu`): integration on the GPU through wgpu;
//! - [`error`]: the error type.
#![deny(missing_docs)]
// Only the AVX2 kernels (`engine::tiles::avx2`) allow unsafe code; every leaf module forbids it.
#![deny(unsafe_code)]

pub mod detector;
pub mod engine;
pub mod error;
pub mod geometry;
#[cfg(feature = "gpu")]
pub mod gpu;
mod integrator;
pub mod poni;
pub mod units;

pub use engine::{ErrorModel, IntegrationConfig, Pattern, Split};
pub use error::Error;
pub use geometry::{Geometry, Polarization};
pub use integrator::{Integrator, IntegratorBuilder};
pub use poni::Poni;
pub use units::Unit;
