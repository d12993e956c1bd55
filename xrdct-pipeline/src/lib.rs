//! Real-time XRD-CT data reduction: a pool of readers with the frame index kept, fused
//! decode→integrate, sinogram assembly, filtered back-projection and NeXus output.
//!
//! The `xrdct` command line (`src/bin/xrdct/`) is a thin layer over this library.

pub mod bench;
pub mod demo;
pub mod fbp;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod h5deflate;
pub mod inputs;
pub mod integrate;
pub mod maskfile;
pub mod monitor;
pub mod output;
pub mod phantom;
pub mod pool;
pub mod preview;
pub mod recon_io;
pub mod reduce;
pub mod scan;
pub mod sinogram;
pub mod synth;
