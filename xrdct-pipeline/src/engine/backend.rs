//! Which hardware reduces the frames.

use std::fmt;
use std::str::FromStr;

use crate::engine::{CpuReducer, FrameReducer};

/// The reduction backend a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// Fused decode+integrate on the CPU cores.
    #[default]
    Cpu,
    /// Decode and integrate on the GPU (feature `gpu`); the CPU when there is no usable GPU.
    Gpu,
}

impl Backend {
    /// The name used on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            _ => Err(format!("unknown backend {s:?} (cpu, gpu)")),
        }
    }
}

/// The reducer for `backend`. With [`Backend::Gpu`] and no usable GPU (or a build without
/// the `gpu` feature) it is the CPU reducer, with a one-line note saying why; the note is
/// also logged.
pub fn reducer_for_backend(
    cpu: CpuReducer,
    backend: Backend,
) -> (Box<dyn FrameReducer>, Option<String>) {
    let (reducer, note) = match backend {
        Backend::Cpu => (Box::new(cpu) as Box<dyn FrameReducer>, None),
        Backend::Gpu => gpu_reducer(cpu),
    };
    if let Some(note) = &note {
        log::info!("{note}");
    }
    (reducer, note)
}

#[cfg(feature = "gpu")]
fn gpu_reducer(cpu: CpuReducer) -> (Box<dyn FrameReducer>, Option<String>) {
    use crate::engine::gpu::{GpuReducer, GpuReducerOptions};
    if let Err(e) = azint::gpu::GpuIntegrator::supports(cpu.engine()) {
        return (
            Box::new(cpu),
            Some(format!("GPU backend unavailable ({e}); running on the CPU")),
        );
    }
    match GpuReducer::new(cpu.clone(), GpuReducerOptions::default()) {
        Ok(g) => {
            let note = format!("GPU backend on {}", g.adapter());
            (Box::new(g), Some(note))
        }
        Err(e) => (
            Box::new(cpu),
            Some(format!("GPU backend unavailable ({e}); running on the CPU")),
        ),
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu_reducer(cpu: CpuReducer) -> (Box<dyn FrameReducer>, Option<String>) {
    (
        Box::new(cpu),
        Some("GPU backend not built in (feature `gpu`); running on the CPU".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in [Backend::Cpu, Backend::Gpu] {
            assert_eq!(b.to_string().parse::<Backend>(), Ok(b));
        }
        assert_eq!("GPU".parse::<Backend>(), Ok(Backend::Gpu));
        assert!("tpu".parse::<Backend>().is_err());
    }
}
