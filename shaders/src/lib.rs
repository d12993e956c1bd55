//! WGSL compute stages of xrdct, their uniform layouts, and a CPU port of every stage.
//!
//! Each stage is one `.wgsl` file under `wgsl/`, with the code it shares with other stages
//! under `wgsl/shared/`. WGSL has no `#include`, so [`bo::Stage::source`] concatenates a stage's
//! shared files and its own file into one module; every module is validated by naga in this
//! crate's unit tests (no GPU needed). Structs that cross the host/GPU boundary are defined
//! once here as `#[repr(C)]` [`bytemuck::Pod`] types, mirrored in the WGSL (marked "keep in
//! sync"), and a test checks that naga's layout of the WGSL struct matches.
//!
//! [`cpu`] holds a port of every stage in the shader's shape (same workgroup size, same
//! buffers in binding order, barriers as phase boundaries), which the GPU stages are tested
//! against and which documents what each stage computes.
//!
//! This crate holds no wgpu code: the crates that dispatch (`byteoffset` with its `gpu`
//! feature, `azint`) create the pipelines.
//!
//! ```
//! use xrdct_shaders::bo::Stage;
//! let src = Stage::Decode.source();
//! assert!(src.contains("fn main"));
//! assert_eq!(Stage::Decode.name(), "bo_decode");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod az;
pub mod bo;
pub mod bp;
pub mod cpu;
#[cfg(test)]
mod test_util;
