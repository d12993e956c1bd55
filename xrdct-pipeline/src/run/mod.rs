//! Typed runs, the library behind `xrdct integrate` and `xrdct reduce`: build a run from
//! settings, inputs and an output, run it, get a serialisable summary.

mod integrate;
#[cfg(feature = "hdf5")]
pub mod reduce;

pub use integrate::{
    Input, IntegrateRun, OutputFormat, RunError, RunSummary, StageSummary, Stages, watch_options,
};
