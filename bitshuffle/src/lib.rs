//! Bitshuffle/LZ4 chunks as HDF5 detector files store them (the bitshuffle filter, HDF5
//! filter id 32008, written by the DECTRIS Eiger/Pilatus4 file writer and LIMA), and the
//! plain HDF5 LZ4 filter (id 32004): a plain reference decoder, a fast decoder (x86_64 AVX2
//! bit un-transpose chosen at run time, portable elsewhere), a block-visiting decoder into
//! `i32`, and an encoder.
//!
//! ```
//! // An Eiger-like 32-bit frame: counts, and one invalid pixel (0xFFFF_FFFF).
//! let pixels: Vec<u32> = (0..1000u32).map(|i| (i * 7) % 13).chain([u32::MAX]).collect();
//! let chunk = bitshuffle::encode(&pixels, 0)?; // default block: 2048 elements
//! let mut out = vec![0u32; pixels.len()];
//! bitshuffle::decode_into(&chunk, &mut out)?;
//! assert_eq!(out, pixels);
//!
//! // Fused consumption: blocks of i32 pixels, never the whole frame.
//! let mut block = [0i32; 256];
//! let mut sum = 0i64;
//! bitshuffle::decode_visit(&chunk, bitshuffle::Pixel::U32, pixels.len(), &mut block, |first, px| {
//!     sum += px.iter().map(|&v| i64::from(v)).sum::<i64>();
//!     assert!(first + px.len() <= pixels.len());
//! })?;
//! let want: i64 = pixels[..1000].iter().map(|&v| i64::from(v)).sum::<i64>() - 1;
//! assert_eq!(sum, want);
//! # Ok::<(), bitshuffle::Error>(())
//! ```
//!
//! # Format
//! A chunk is a 12-byte header (u64 big-endian uncompressed size in bytes, u32 big-endian
//! block size in *bytes*: block elements × element size), then for each block of `block`
//! elements a u32 big-endian compressed size and an LZ4 raw block (or a zstd frame) of the
//! bit-shuffled block: the block of `n` elements of `s` bytes seen as an `n × 8s` bit matrix
//! and transposed (see [`reference`](mod@reference)). The last partial block is cut to a
//! multiple of 8 elements and compressed as a smaller block; the last `< 8` elements follow
//! uncompressed. The HDF5 filter's default block is 8192 bytes of elements
//! ([`default_block_elems`]). Element bytes are in file order (little-endian for DECTRIS
//! and LIMA files).
//!
//! # Checks
//! No input makes a decoder panic. The header's size is checked against the caller's pixel
//! count ([`Error::SizeMismatch`]) before anything is allocated, so a hostile header never
//! sizes an allocation; every error names the byte offset in the chunk where it went wrong.
//!
//! # Paths
//! [`active_path`] tells which bit un-transpose runs: [`best_path`] ([`Path::Avx2`] where the
//! CPU has it), or [`Path::Scalar`] (8×8 bit blocks in a `u64`) when forced with
//! [`force_scalar`] or the environment variable `XRDCT_FORCE_SCALAR=1`. All paths give
//! identical results, tested against [`reference`](mod@reference). LZ4 is `lz4_flex`'s safe
//! block decoder on every path (this crate has no LZ4 decoder of its own).
//!
//! One core of an AMD EPYC (2026-12), an EIGER2 4M-like `u32` frame (4.47 Mpixel, 0.27 bytes
//! per pixel compressed; `examples/throughput.rs`): AVX2 decodes 1.3–1.4 Gpixel/s into `u32`
//! (0.7–0.9 into `i32` through [`BlockDecoder`]), the portable path 0.24–0.27, the reference
//! 0.02. LZ4 alone runs at 2.3–2.6 Gpixel/s, so it takes over half of the AVX2 decode time;
//! an LZ4 decoder of our own was not tried.
//!
//! # Crate features
//! - `zstd`: `Codec::Zstd`, bitshuffle blocks compressed with zstd (`cd_values[4] = 3`),
//!   decoded (and encoded) with the pure-Rust `ruzstd`.
//!
//! # Unsafe
//! `unsafe` appears only in the SIMD module (`simd`): the AVX2 loads and stores on
//! fixed-size arrays and the call of the AVX2 function after the CPU check.
#![deny(missing_docs)]
// Unsafe code only in the SIMD kernels (`simd`), each block with its safety argument.
#![deny(unsafe_code)]

mod decode;
mod element;
mod encode;
mod error;
mod format;
pub mod lz4;
pub mod reference;
mod scalar;
#[allow(unsafe_code)]
mod simd;

pub use decode::{
    BlockDecoder, Pixel, decode, decode_bytes_into_with, decode_into, decode_into_with,
    decode_visit,
};
pub use element::Element;
pub use encode::{encode, encode_bytes};
pub use error::Error;
pub use format::{Codec, HEADER_LEN, Header, default_block_elems, read_header};
pub use simd::{Path, active_path, best_path, force_scalar};

/// The README's example, run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
