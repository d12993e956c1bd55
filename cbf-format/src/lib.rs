//! Read and write CBF (Crystallographic Binary File) detector images: imgCIF and Dectris
//! miniCBF, every binary section, byte-offset and packed compression, MD5 checks, safely.
//!
//! ```
//! use cbf_format::{CbfFile, Header, ReadOptions, writer::MiniCbfWriter};
//!
//! // Write a 4 × 3 frame the way a Pilatus does, then read it back without copying.
//! let header = Header { flux: Some(1.5e12), ..Header::default() };
//! let pixels: Vec<i32> = vec![0, 1, 2, 3, 100, -1, -2, 70000, 5, 5, 5, 5];
//! let bytes = MiniCbfWriter::new(&header).write(&[4, 3], &pixels)?;
//!
//! let file = CbfFile::from_bytes_with(&bytes, &ReadOptions::new().verify_md5(true))?;
//! let section = &file.sections()[0];
//! assert_eq!(section.dims(), &[4, 3]);
//! let mut out = vec![0i32; section.element_count()];
//! section.decode_into_i32(&mut out)?;
//! assert_eq!(out, pixels);
//! assert_eq!(file.header().flux, Some(1.5e12));
//! # Ok::<(), cbf_format::Error>(())
//! ```
//!
//! # What is read
//! - The CIF text: data block, `_array_data.header_convention`, `_array_data.header_contents`
//!   (Dectris `# Key value` lines parsed into [`Header`]'s typed fields, unknown lines kept
//!   verbatim), `_array_structure_list` dimensions (used when the MIME header has none).
//! - Every binary section's MIME header ([`MimeHeader`]: keys case-insensitive, padded or
//!   quoted values), the `0C 1A 04 D5` marker, and the payload as a borrowed slice.
//! - Compressions: none, `x-CBF_BYTE_OFFSET` (through the `byteoffset` crate),
//!   `x-CBF_PACKED` and `x-CBF_PACKED_V2`; anything else is an `Unsupported` error.
//! - Gzip input (`.cbf.gz`) is decompressed transparently.
//!
//! # Safety of input
//! No input makes this crate panic: every size from a file is checked against the bytes
//! present and against [`Limits`] before anything is allocated, and every failure is an
//! [`Error`] with the path, byte offset and section. The crate has one `unsafe` block: the
//! memory map in [`CbfFile::open`].
#![deny(missing_docs)]
// One `unsafe` block: mapping a file (`reader::map_file`).
#![deny(unsafe_code)]

mod error;
mod header;
mod mime;
mod packed;
mod reader;
pub mod writer;

pub use error::{Error, ErrorKind, Result};
pub use header::{Header, StructureListRow};
pub use mime::{ByteOrder, Compression, ElementType, MimeHeader, PackedFlags, TransferEncoding};
pub use reader::{
    CbfFile, Limits, MARKER, Md5Status, Pixels, ReadOptions, SECTION_END, SECTION_START, Section,
};
