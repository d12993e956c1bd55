//! What a run records besides its rows: the radial axis, the geometry and every parameter.

use serde_json::{Map, Value};

/// Everything about a run that goes into the output besides the rows.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// Radial bin centres.
    pub radial: Vec<f64>,
    /// pyFAI unit name of the radial axis (`2th_deg`, `q_nm^-1`, `q_A^-1`, `r_mm`).
    pub unit: String,
    /// The PONI file's text.
    pub poni_text: String,
    /// Where the PONI came from.
    pub poni_file: String,
    /// Every parameter of the run (written to `/entry/process`).
    pub parameters: Map<String, Value>,
    /// Whether to write the accumulators.
    pub accumulators: bool,
}

impl RunInfo {
    /// Number of radial bins.
    pub fn bins(&self) -> usize {
        self.radial.len()
    }
}

/// Parameters that may differ between a run and its `--resume` (they do not change the rows).
pub const VOLATILE_PARAMETERS: &[&str] =
    &["workers", "resume", "json", "backend", "block", "progress"];
