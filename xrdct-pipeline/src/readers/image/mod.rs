//! Static mask (and correction) images from CBF, EDF, TIFF, NumPy `.npy` or raw files.
//!
//! As in pyFAI, a mask pixel is masked where its value is non-zero (1 = masked). The format is
//! recognised from the file's first bytes, not its name ([`detect_format`]):
//!
//! * TIFF (`II*\0` / `MM\0*`) through the [`tiff`](::tiff) crate (image-rs): uncompressed,
//!   LZW, Deflate or PackBits, strips or tiles, with or without a predictor, one sample per
//!   pixel of 1, 2, 4, 8, 16, 32 or 64-bit unsigned or signed integers or 16, 32 or 64-bit
//!   floats, first image. Values are the stored ones, as fabio and tifffile give them (the
//!   crate's inversion of `WhiteIsZero` images is undone);
//! * NumPy `.npy` (version 1–3) through [`npyz`]: bool, 8–64-bit integers and 32/64-bit
//!   floats of either byte order, C or Fortran order, one or two dimensions;
//! * CBF (`###CBF`, also gzip-compressed) through the workspace's `cbf-format`, first binary
//!   section;
//! * EDF (`{` … `}` ESRF header): `Dim_1` (columns), `Dim_2` (rows), `DataType`
//!   (8/16/32/64-bit integers, float, double), `ByteOrder`, uncompressed, first frame;
//! * anything else is raw: little-endian pixels of the detector's shape, the pixel size
//!   (1, 2, 4 or 8 bytes) taken from the file size; a pixel is masked when its bytes are not
//!   all zero.
//!
//! TIFF and `.npy` have well-kept crates and go through them. The EDF and raw readers are
//! written here: no maintained Rust crate reads EDF (it is an ESRF format read by fabio in
//! Python; the header is a few `key = value ;` lines in braces and the data uncompressed
//! pixels, about a hundred lines here), and raw files have no format to parse.
//!
//! Every input is untrusted: sizes read from a file are checked against the file's length
//! (times the largest expansion of its compression) before anything is allocated, and every
//! malformed file is an error that names the file and, where it applies, the byte offset; no
//! input makes the readers panic (`fuzz/fuzz_targets/image_*.rs` feed them arbitrary bytes
//! through [`parse_image`]). Guards sit in front of `npyz`: the header length is checked
//! against the file before `npyz` allocates it, headers nested deeper than real ones are
//! refused before its parser (`py_literal`) spends exponential time on them, and the shape is
//! read and checked (with `py_literal`) before `npyz` multiplies its dimensions unchecked.
//!
//! ```no_run
//! let mask = xrdct_pipeline::readers::image::read_mask("mask.edf".as_ref(), (1679, 1475))?;
//! assert_eq!(mask.len(), 1679 * 1475);
//! # Ok::<(), xrdct_pipeline::readers::image::MaskFileError>(())
//! ```
//!
//! Bytes already in memory (a file fetched over the network, a fuzzer's input) are parsed
//! with [`parse_image`]:
//!
//! ```
//! use xrdct_pipeline::readers::image::{detect_format, parse_image, Format};
//! let bytes = b"{\nDim_1 = 2 ;\nDim_2 = 1 ;\nDataType = UnsignedByte ;\n}\n\x00\x01";
//! let format = detect_format(bytes);
//! assert_eq!(format, Format::Edf);
//! let image = parse_image("mask.edf".as_ref(), bytes, format, Some((1, 2)))?;
//! assert_eq!(image.values, [0.0, 1.0]);
//! # Ok::<(), xrdct_pipeline::readers::image::MaskFileError>(())
//! ```

use std::path::{Path, PathBuf};

mod edf;
mod npy;
mod tiff;

#[cfg(test)]
mod tests;

/// Largest file read (a 64-bit image of a 9M detector is 75 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest image, in pixels.
const MAX_PIXELS: u64 = 1 << 28;

/// Why a mask or correction image could not be read. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaskFileError {
    /// The file cannot be read (environment or user).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CBF reader failed (file).
    #[error("{path}: {source}")]
    Cbf {
        /// The file.
        path: PathBuf,
        /// The CBF reader's error (with the byte offset where it applies; boxed, as it is
        /// large).
        source: Box<cbf_format::Error>,
    },
    /// The file is malformed (file).
    #[error("{path}: byte {offset}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset where the problem is (for TIFF: where the decoder last read).
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The file uses a feature this reader does not support (file).
    #[error("{path}: unsupported {what}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: String,
    },
    /// The image does not have the detector's shape (user).
    #[error("{path}: image has shape {actual:?} (rows, columns) but the detector has {expected:?}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The detector's shape.
        expected: (usize, usize),
        /// The file's shape.
        actual: (usize, usize),
    },
    /// A raw file whose size is no multiple of 1, 2, 4 or 8 bytes per pixel (user or file).
    #[error(
        "{path}: {size} bytes is not a raw image of {rows} × {cols} pixels of 1, 2, 4 or 8 bytes"
    )]
    RawSize {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Expected rows.
        rows: usize,
        /// Expected columns.
        cols: usize,
    },
}

/// The file formats [`read_image`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Crystallographic Binary File (possibly gzip-compressed).
    Cbf,
    /// ESRF Data Format.
    Edf,
    /// TIFF: uncompressed, LZW, Deflate or PackBits; strips or tiles.
    Tiff,
    /// NumPy `.npy`.
    Npy,
    /// Headerless little-endian pixels.
    Raw,
}

/// An image read from a file: shape (rows, columns) and values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The format it was read from.
    pub format: Format,
    /// (rows, columns).
    pub shape: (usize, usize),
    /// Pixel values, row-major. 64-bit integers beyond 2⁵³ lose precision but stay non-zero.
    pub values: Vec<f64>,
}

/// Reads a mask: `true` where the file's value is non-zero (pyFAI's convention), checked
/// against the detector's shape (rows, columns).
pub fn read_mask(path: &Path, shape: (usize, usize)) -> Result<Vec<bool>, MaskFileError> {
    let image = read_image(path, Some(shape))?;
    Ok(image.values.iter().map(|&v| v != 0.0).collect())
}

/// Reads an image of any supported format. With `shape`, the image must have it (and a raw
/// file is read with it); without, raw files are refused.
pub fn read_image(path: &Path, shape: Option<(usize, usize)>) -> Result<Image, MaskFileError> {
    let io = |source| MaskFileError::Io {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    check_file_size(path, len)?;
    let bytes = std::fs::read(path).map_err(io)?;
    parse_image(path, &bytes, detect_format(&bytes), shape)
}

/// The format of an image from its first bytes ([`Format::Raw`] when nothing else matches).
pub fn detect_format(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"###CBF") || bytes.starts_with(&[0x1f, 0x8b]) {
        Format::Cbf
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Format::Tiff
    } else if bytes.starts_with(npy::MAGIC) {
        Format::Npy
    } else if edf::is_edf(bytes) {
        Format::Edf
    } else {
        Format::Raw
    }
}

/// Parses the bytes of an image file as `format` ([`detect_format`] tells it from the bytes);
/// `name` (usually the file's path) is the name errors give. With `shape`, the image must have
/// it (and raw bytes are read with it); without, raw bytes are refused.
///
/// Any bytes give an image or an error, never a panic, and nothing larger than the bytes
/// can hold (times the largest expansion of their compression) is allocated.
pub fn parse_image(
    name: &Path,
    bytes: &[u8],
    format: Format,
    shape: Option<(usize, usize)>,
) -> Result<Image, MaskFileError> {
    check_file_size(name, bytes.len() as u64)?;
    let image = match format {
        Format::Cbf => read_cbf(name, bytes)?,
        Format::Tiff => tiff::parse(name, bytes)?,
        Format::Npy => npy::parse(name, bytes)?,
        Format::Edf => edf::parse(name, bytes)?,
        Format::Raw => {
            let Some((rows, cols)) = shape else {
                return Err(unsupported(name, "raw file without a detector shape"));
            };
            read_raw(name, bytes, rows, cols)?
        }
    };
    if let Some(expected) = shape
        && image.shape != expected
    {
        return Err(MaskFileError::Shape {
            path: name.to_owned(),
            expected,
            actual: image.shape,
        });
    }
    Ok(image)
}

fn check_file_size(path: &Path, len: u64) -> Result<(), MaskFileError> {
    if len > MAX_FILE_BYTES {
        return Err(unsupported(
            path,
            format!("file size {len} bytes (limit {MAX_FILE_BYTES})"),
        ));
    }
    Ok(())
}

fn format_err(path: &Path, offset: u64, reason: impl Into<String>) -> MaskFileError {
    MaskFileError::Format {
        path: path.to_owned(),
        offset,
        reason: reason.into(),
    }
}

fn unsupported(path: &Path, what: impl Into<String>) -> MaskFileError {
    MaskFileError::Unsupported {
        path: path.to_owned(),
        what: what.into(),
    }
}

/// (rows, columns) of an image of `rows × cols` pixels, refused when empty or larger than
/// [`MAX_PIXELS`].
fn checked_pixels(path: &Path, rows: u64, cols: u64) -> Result<(usize, usize), MaskFileError> {
    let n = rows.saturating_mul(cols);
    if rows == 0 || cols == 0 || n > MAX_PIXELS {
        return Err(unsupported(
            path,
            format!("image size {rows} × {cols} (limit {MAX_PIXELS} pixels)"),
        ));
    }
    Ok((rows as usize, cols as usize))
}

fn read_cbf(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
    let cbf = |source| MaskFileError::Cbf {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let mut options = cbf_format::ReadOptions::new();
    options.limits.max_bytes = MAX_FILE_BYTES;
    options.limits.max_elements = MAX_PIXELS;
    let file = cbf_format::CbfFile::from_bytes_with(bytes, &options).map_err(cbf)?;
    let Some(section) = file.sections().first() else {
        return Err(format_err(path, 0, "CBF file without a binary section"));
    };
    let dims = section.dims();
    let (cols, rows) = match dims {
        [fast, slow] => (*fast, *slow),
        [fast, slow, 1] => (*fast, *slow),
        [fast] => (*fast, 1),
        _ => {
            return Err(unsupported(
                path,
                format!("CBF array of dimensions {dims:?}"),
            ));
        }
    };
    let (rows, cols) = checked_pixels(path, rows as u64, cols as u64)?;
    if section.element_count() != rows * cols {
        return Err(format_err(
            path,
            0,
            "CBF element count does not match its dimensions",
        ));
    }
    let mut pixels = vec![0i32; rows * cols];
    section.decode_into_i32(&mut pixels).map_err(cbf)?;
    Ok(Image {
        format: Format::Cbf,
        shape: (rows, cols),
        values: pixels.into_iter().map(f64::from).collect(),
    })
}

/// Element types of EDF and raw files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
}

impl Elem {
    fn size(self) -> usize {
        match self {
            Elem::U8 | Elem::I8 => 1,
            Elem::U16 | Elem::I16 => 2,
            Elem::U32 | Elem::I32 | Elem::F32 => 4,
            Elem::U64 | Elem::I64 | Elem::F64 => 8,
        }
    }

    /// Decodes `data` (exactly `n · size` bytes) into f64 values.
    fn decode(self, data: &[u8], big_endian: bool) -> Vec<f64> {
        let size = self.size();
        data.chunks_exact(size)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                if big_endian {
                    b[..size].reverse();
                }
                match self {
                    Elem::U8 => f64::from(b[0]),
                    Elem::I8 => f64::from(b[0] as i8),
                    Elem::U16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
                    Elem::I16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
                    Elem::U32 => f64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    Elem::I32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    Elem::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    // A non-zero integer converts to a non-zero float (rounding to nearest).
                    Elem::U64 => u64::from_le_bytes(b) as f64,
                    Elem::I64 => i64::from_le_bytes(b) as f64,
                    Elem::F64 => f64::from_le_bytes(b),
                }
            })
            .collect()
    }
}

fn read_raw(path: &Path, bytes: &[u8], rows: usize, cols: usize) -> Result<Image, MaskFileError> {
    let (rows, cols) = checked_pixels(path, rows as u64, cols as u64)?;
    let n = rows * cols;
    let size_err = || MaskFileError::RawSize {
        path: path.to_owned(),
        size: bytes.len() as u64,
        rows,
        cols,
    };
    if !bytes.len().is_multiple_of(n) {
        return Err(size_err());
    }
    let elem = match bytes.len() / n {
        1 => Elem::U8,
        2 => Elem::U16,
        4 => Elem::U32,
        8 => Elem::U64,
        _ => return Err(size_err()),
    };
    Ok(Image {
        format: Format::Raw,
        shape: (rows, cols),
        values: elem.decode(bytes, false),
    })
}
