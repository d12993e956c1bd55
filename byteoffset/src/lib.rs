//! CBF byte-offset codec: a plain reference, a fast portable decoder, and SIMD decoders
//! (x86_64 AVX2 and AVX-512) chosen at run time.
//!
//! ```
//! let pixels: Vec<i32> = vec![0, 3, 1000, 999, -1, 70_000];
//! let bytes = byteoffset::encode(&pixels);
//! let mut out = vec![0i32; pixels.len()];
//! byteoffset::decode_into(&bytes, &mut out).unwrap();
//! assert_eq!(out, pixels);
//!
//! // Fused consumption: blocks of decoded pixels, never the whole frame.
//! let mut block = [0i32; 4];
//! let mut sum = 0i64;
//! byteoffset::decode_visit(&bytes, pixels.len(), &mut block, |first, px| {
//!     assert_eq!(px, &pixels[first..first + px.len()]);
//!     sum += px.iter().map(|&v| i64::from(v)).sum::<i64>();
//! })
//! .unwrap();
//! assert_eq!(sum, 70_000 + 1000 + 999 + 3 - 1);
//! ```
//!
//! # Format
//! One token per element holding the difference to the previous element (see
//! [`reference`](mod@reference)); differences wrap at the element width as in cbflib.
//!
//! # Paths
//! [`active_path`] tells which decoder runs: [`best_path`] ([`Path::Avx2`] where the CPU has
//! it), or [`Path::Scalar`] when it has no vector path, when [`force_scalar`] was called, or
//! when the environment variable `XRDCT_FORCE_SCALAR=1` is set. The CPU is probed once.
//! All paths give identical results; [`decode_into_with`] runs one chosen path (e.g.
//! [`Path::Avx512`], which measured no faster than AVX2). aarch64 runs the scalar path (no
//! NEON decoder yet).
//!
//! # Crate features
//! - `gpu`: the WGSL decoder in `gpu` (wgpu).
//!
//! # Unsafe
//! `unsafe` appears only in the SIMD module (`simd`), each block with its safety argument.
#![deny(missing_docs)]
// Unsafe code only in the SIMD kernels (`simd`), each block with its safety argument.
#![deny(unsafe_code)]

mod decode;
mod element;
mod encode;
mod error;
pub mod reference;
mod scalar;
#[allow(unsafe_code)]
mod simd;

pub use decode::{
    BlockDecoder, Output, decode, decode_into, decode_into_with, decode_visit, decode_visit_with,
};
pub use element::Element;
pub use encode::{encode, encode_into, encode_with, encoded_len, max_encoded_len};
pub use error::Error;
pub use simd::{Path, active_path, best_path, force_scalar};

#[cfg(feature = "gpu")]
pub mod gpu;
