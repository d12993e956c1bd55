//! CBF byte-offset codec.
//!
//! ```
//! let pixels: Vec<i32> = vec![0, 3, 1000, 999, -1];
//! let bytes = byteoffset::reference::encode(&pixels);
//! assert_eq!(byteoffset::reference::decode_wrapping::<i32>(&bytes, 5).unwrap(), pixels);
//! ```
#![deny(missing_docs)]

mod element;
mod error;
pub mod reference;

pub use element::Element;
pub use error::Error;

#[cfg(feature = "gpu")]
pub mod gpu;
