//! Timing code of the xrdct crates: the stages `xrdct bench` measures ([`cpu`]: decode,
//! integrate, fused, pipeline) and the GPU benchmark ([`gpu`], feature `gpu`: device time
//! per stage, host→device bandwidth, GPU pipeline and back-projection against the CPU's).
//! The criterion benchmarks in `benches/` use the same frames.

#![forbid(unsafe_code)]

pub mod cpu;
#[cfg(feature = "gpu")]
pub mod gpu;
