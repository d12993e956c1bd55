//! Tomography: the scan model (which rotation and translation each frame was recorded at),
//! sinogram assembly, filtered back-projection (CPU, and the back-projection on the GPU with
//! feature `gpu`).

#[cfg(feature = "gpu")]
pub mod backproject_gpu;
pub mod fbp;
pub mod scan;
pub mod sinogram;

pub use fbp::{CenterMethod, FbpError, FbpOptions, Filter, SinogramCube, Tomogram, reconstruct};
pub use scan::{AngleSpec, FastAxis, ScanError, ScanModel};
pub use sinogram::{Assembled, SinogramError, assemble};
