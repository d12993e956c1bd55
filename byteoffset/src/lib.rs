//! placeholder
#[cfg(feature = "gpu")]
pub mod gpu;
