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
//! The crates that dispatch (`byteoffset` and `azint` with their `gpu` features) create the
//! pipelines; this crate only opens the device they share (feature `wgpu`).
//!
//! ```
//! use xrdct_shaders::bo::{FrameStatus, Stage};
//! use xrdct_shaders::cpu;
//!
//! // Every stage as one complete WGSL module, for `wgpu::ShaderSource::Wgsl`.
//! for stage in Stage::ALL {
//!     assert!(stage.source().contains("fn main"));
//!     assert_eq!(stage.entry_point(), "main");
//! }
//! assert_eq!(Stage::Decode.name(), "bo_decode");
//!
//! // What the three byte-offset stages compute, run on the CPU: the stream of the pixels
//! // [1, 3, 2, 302] (deltas +1, +2 and -1 as one byte each, +300 as `80` and an i16).
//! let stream = [0x01, 0x02, 0xff, 0x80, 0x2c, 0x01];
//! let (frames, src, out_len) = cpu::bo_layout(&[(&stream, 4)]);
//! let (out, status) = cpu::bo_decode_batch(&frames, &src, false, out_len);
//! let pixels: Vec<i32> = out.iter().map(|&w| w as i32).collect();
//! assert_eq!(pixels, [1, 3, 2, 302]);
//! let status: &[FrameStatus] = bytemuck::cast_slice(&status);
//! assert_eq!((status[0].final_state, status[0].tokens), (0, 4));
//! ```
//!
//! # Crate features
//! - `wgpu`: the `device` module, the one place where the workspace opens a GPU (the default
//!   adapter and its device), used by `byteoffset`, `azint` and `xrdct-pipeline`.
//!
//! Without features the crate depends on `bytemuck` only.
//!
//! See [ARCHITECTURE.md](https://github.com/xrdct/xrdct/blob/main/ARCHITECTURE.md) for how
//! the xrdct crates fit together.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod az;
pub mod bo;
pub mod bp;
pub mod cpu;
#[cfg(feature = "wgpu")]
pub mod device;
#[cfg(test)]
mod test_util;
