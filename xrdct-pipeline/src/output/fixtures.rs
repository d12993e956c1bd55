//! Run descriptions and rows for the tests of the writers (CSV and NeXus).

use serde_json::Map;

use crate::engine::{Row, RunInfo};

/// A run of `bins` bins in 2θ, with or without accumulators.
pub(crate) fn info(bins: usize, acc: bool) -> RunInfo {
    let mut parameters = Map::new();
    parameters.insert("bins".into(), bins.into());
    parameters.insert("split".into(), "bbox".into());
    parameters.insert("workers".into(), 2.into());
    RunInfo {
        radial: (0..bins).map(|i| 0.5 + i as f64).collect(),
        unit: "2th_deg".into(),
        poni_text: "poni_version: 2.1\nDistance: 0.4\n".into(),
        poni_file: "geometry.poni".into(),
        parameters,
        accumulators: acc,
    }
}

/// Row `k`: intensities `100·k + bin`, sigma `bin / 2`.
pub(crate) fn row(k: usize, bins: usize) -> Row {
    Row {
        intensity: (0..bins).map(|b| (k * 100 + b) as f32).collect(),
        sigma: (0..bins).map(|b| b as f32 * 0.5).collect(),
        accumulators: None,
    }
}
