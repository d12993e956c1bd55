//! NeXus HDF5 input and output (feature `hdf5`): the integrated-pattern writer with
//! `--resume` ([`NexusWriter`]), sinogram and tomogram files ([`recon`]), and the chunk
//! writer that deflates pattern blocks itself. Every file is written as `OUT.part` and
//! renamed when complete ([`crate::output`]); all share one set of HDF5 helpers.

#[allow(unsafe_code)] // H5Dwrite_chunk through FFI: one call, its safety argument beside it.
pub(crate) mod chunk;
pub(crate) mod h5;
pub mod recon;
mod writer;

pub use recon::{ReconIoError, ReconOutput, SinogramData, read_sinogram, write_nexus};
pub use writer::{NexusOptions, NexusWriter};
