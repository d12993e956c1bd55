//! The reduction engine: a pool of worker threads that open frames through a
//! [`FrameReader`](crate::readers::FrameReader), reduce them with a [`FrameReducer`] (fused
//! decode→integrate on the CPU, or the GPU) and hand the rows, in scan order, to a
//! [`RowSink`].
//!
//! ```
//! use xrdct_pipeline::engine::{MemorySink, Pipeline, PipelineOptions, testing::SumReducer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let frames: Vec<_> = (0..10).map(|i| SumReducer::frame_source(i, 8, 8)).collect();
//! let reducer = SumReducer::new(4);
//! let mut sink = MemorySink::default();
//! let stats = Pipeline::new(&reducer, PipelineOptions::default()).run(frames, 0, &mut sink)?;
//! assert_eq!((stats.frames, stats.failed), (10, 0));
//! # Ok(()) }
//! ```

mod backend;
mod cpu;
#[cfg(feature = "gpu")]
pub mod gpu;
mod info;
mod monitor;
mod pool;
mod reducer;
mod sink;

pub use backend::{Backend, reducer_for_backend};
pub use cpu::{BLOCK_PIXELS, CpuReducer, IntegrateSettings, MAX_FRAMES_PER_PASS, SetupError};
pub use info::{RunInfo, VOLATILE_PARAMETERS};
pub use monitor::{HeaderField, Monitor, MonitorError};
pub use pool::{
    Pipeline, PipelineError, PipelineOptions, RunStats, StageTime, testing, worker_count,
};
pub use reducer::{Accumulators, FrameError, FrameReducer, ReduceWorker, Row};
pub use sink::{FrameOutcome, MemorySink, RowSink, SinkError};
