//! Real-time XRD-CT data reduction: a pool of readers with the frame index kept, fused
//! decode→integrate, sinogram assembly, filtered back-projection and NeXus output.
//!
//! | module | job |
//! | --- | --- |
//! | [`inputs`] | where frames come from: paths, globs, directories, list files, a watched directory |
//! | [`readers`] | frame readers (CBF; the [`FrameReader`](readers::FrameReader) trait) and mask/dark/flat images |
//! | [`engine`] | the worker pool, the CPU and GPU reducers, monitors, sinks |
//! | [`output`] | what every output shares (temporary files, units) and the CSV writer |
//! | `nexus` | NeXus HDF5 files: patterns with resume, sinograms, tomograms (feature `hdf5`) |
//! | [`run`] | typed runs: integrate a scan, or integrate + sinogram + FBP, with a [`RunSummary`](run::RunSummary) |
//! | [`tomo`] | scan model, sinograms, filtered back-projection (GPU back-projection with `gpu`) |
//! | `sim` | synthetic frames and phantoms (feature `sim`) |
//!
//! Features: `hdf5` (NeXus output, HDF5 monitors), `gpu` (wgpu backends), `sim`; all on by
//! default. With `default-features = false` the crate links neither libhdf5 nor wgpu.
//!
//! ```
//! use xrdct_pipeline::engine::{MemorySink, Pipeline, PipelineOptions, testing::SumReducer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Ten small CBF frames in memory, reduced by a stand-in reducer on every core.
//! let frames: Vec<_> = (0..10).map(|i| SumReducer::frame_source(i, 8, 8)).collect();
//! let mut sink = MemorySink::default();
//! let stats = Pipeline::new(&SumReducer::new(4), PipelineOptions::default())
//!     .run(frames, 0, &mut sink)?;
//! assert_eq!(stats.frames, 10);
//! assert_eq!(sink.rows.len(), 10);
//! # Ok(()) }
//! ```

// Unsafe code lives in two small modules only: the AVX2 back-projection kernel
// (`tomo::fbp::x86_64`) and the HDF5 direct chunk write (`nexus::chunk`).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod engine;
pub mod inputs;
#[cfg(feature = "hdf5")]
pub mod nexus;
pub mod output;
pub mod readers;
pub mod run;
#[cfg(feature = "sim")]
pub mod sim;
pub mod tomo;
