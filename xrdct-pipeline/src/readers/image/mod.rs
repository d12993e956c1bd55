//! Static mask (and correction) images from CBF, EDF, TIFF, NumPy `.npy` or raw files.
//!
//! As in pyFAI, a mask pixel is masked where its value is non-zero (1 = masked). The format is
//! recognised from the file's first bytes, not its name:
//!
//! * CBF (`###CBF`, also gzip-compressed) through `cbf-format`, first binary section;
//! * EDF (`{` … `}` ESRF header): `Dim_1` (columns), `Dim_2` (rows), `DataType`
//!   (8/16/32/64-bit integers, float, double), `ByteOrder`, uncompressed, first frame;
//! * TIFF (`II*\0` / `MM\0*`): uncompressed strips, one sample per pixel, 8/16/32-bit
//!   unsigned or signed integers or 32/64-bit floats, first image;
//! * NumPy `.npy` (version 1–3, C order, bool/integer/float of 1–8 bytes);
//! * anything else is raw: little-endian pixels of the detector's shape, the pixel size
//!   (1, 2, 4 or 8 bytes) taken from the file size; a pixel is masked when its bytes are not
//!   all zero.
//!
//! Sizes read from a file are checked before anything is allocated, and every malformed file
//! is an error that names the file and, where it applies, the byte offset.
//!
//! ```no_run
//! let mask = xrdct_pipeline::readers::image::read_mask("mask.edf".as_ref(), (1679, 1475))?;
//! assert_eq!(mask.len(), 1679 * 1475);
//! # Ok::<(), xrdct_pipeline::readers::image::MaskFileError>(())
//! ```

use std::path::{Path, PathBuf};

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
    #[error("{0}")]
    Cbf(#[from] cbf_format::Error),
    /// The file is malformed (file).
    #[error("{path}: byte {offset}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset where the problem is.
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
    /// Uncompressed TIFF.
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
    if len > MAX_FILE_BYTES {
        return Err(MaskFileError::Unsupported {
            path: path.to_owned(),
            what: format!("file size {len} bytes (limit {MAX_FILE_BYTES})"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let image = if bytes.starts_with(b"###CBF") || bytes.starts_with(&[0x1f, 0x8b]) {
        read_cbf(path)?
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Tiff::new(path, &bytes).read()?
    } else if bytes.starts_with(b"\x93NUMPY") {
        read_npy(path, &bytes)?
    } else if is_edf(&bytes) {
        read_edf(path, &bytes)?
    } else {
        let Some((rows, cols)) = shape else {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: "raw file without a detector shape".into(),
            });
        };
        read_raw(path, &bytes, rows, cols)?
    };
    if let Some(expected) = shape
        && image.shape != expected
    {
        return Err(MaskFileError::Shape {
            path: path.to_owned(),
            expected,
            actual: image.shape,
        });
    }
    Ok(image)
}

fn format_err(path: &Path, offset: u64, reason: impl Into<String>) -> MaskFileError {
    MaskFileError::Format {
        path: path.to_owned(),
        offset,
        reason: reason.into(),
    }
}

fn checked_pixels(path: &Path, rows: u64, cols: u64) -> Result<(usize, usize), MaskFileError> {
    let n = rows.saturating_mul(cols);
    if rows == 0 || cols == 0 || n > MAX_PIXELS {
        return Err(MaskFileError::Unsupported {
            path: path.to_owned(),
            what: format!("image size {rows} × {cols} (limit {MAX_PIXELS} pixels)"),
        });
    }
    Ok((rows as usize, cols as usize))
}

fn read_cbf(path: &Path) -> Result<Image, MaskFileError> {
    let file = cbf_format::CbfFile::open(path, &cbf_format::ReadOptions::new())?;
    let Some(section) = file.sections().first() else {
        return Err(format_err(path, 0, "CBF file without a binary section"));
    };
    let dims = section.dims();
    let (cols, rows) = match dims {
        [fast, slow] => (*fast, *slow),
        [fast, slow, 1] => (*fast, *slow),
        [fast] => (*fast, 1),
        _ => {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("CBF array of dimensions {dims:?}"),
            });
        }
    };
    let (rows, cols) = checked_pixels(path, rows as u64, cols as u64)?;
    let mut pixels = vec![0i32; section.element_count()];
    section.decode_into_i32(&mut pixels)?;
    if pixels.len() != rows * cols {
        return Err(format_err(
            path,
            0,
            "CBF element count does not match its dimensions",
        ));
    }
    Ok(Image {
        format: Format::Cbf,
        shape: (rows, cols),
        values: pixels.into_iter().map(f64::from).collect(),
    })
}

/// Element types shared by EDF, TIFF and npy.
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
                    Elem::U64 => nonzero_preserving(u64::from_le_bytes(b) as f64, b),
                    Elem::I64 => nonzero_preserving(i64::from_le_bytes(b) as f64, b),
                    Elem::F64 => f64::from_le_bytes(b),
                }
            })
            .collect()
    }
}

fn nonzero_preserving(v: f64, bytes: [u8; 8]) -> f64 {
    if v == 0.0 && bytes != [0; 8] { 1.0 } else { v }
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

// ---------------------------------------------------------------------------------------------
// EDF

fn is_edf(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if bytes.get(start) != Some(&b'{') {
        return false;
    }
    let head = &bytes[start..bytes.len().min(start + 4096)];
    let text = String::from_utf8_lossy(head);
    text.contains("Dim_1") || text.contains("EDF_")
}

fn read_edf(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
    let open = bytes
        .iter()
        .position(|&b| b == b'{')
        .ok_or_else(|| format_err(path, 0, "no EDF header"))?;
    let close = bytes[open..]
        .iter()
        .position(|&b| b == b'}')
        .map(|p| p + open)
        .ok_or_else(|| format_err(path, open as u64, "EDF header has no closing `}`"))?;
    // The data start after the `}` and the newline that ends the header block.
    let mut data_start = close + 1;
    if bytes.get(data_start) == Some(&b'\r') {
        data_start += 1;
    }
    if bytes.get(data_start) == Some(&b'\n') {
        data_start += 1;
    }
    let header = String::from_utf8_lossy(&bytes[open + 1..close]);
    let mut keys = std::collections::HashMap::new();
    for item in header.split(';') {
        if let Some((k, v)) = item.split_once('=') {
            keys.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let get_dim = |key: &str| -> Result<u64, MaskFileError> {
        let v = keys
            .get(key)
            .ok_or_else(|| format_err(path, open as u64, format!("EDF header lacks {key}")))?;
        v.parse::<u64>().map_err(|_| {
            format_err(
                path,
                open as u64,
                format!("EDF {key} = {v:?} is not a size"),
            )
        })
    };
    let cols = get_dim("dim_1")?;
    let rows = match keys.get("dim_2") {
        Some(_) => get_dim("dim_2")?,
        None => 1,
    };
    if let Some(d3) = keys.get("dim_3")
        && d3.parse::<u64>().ok() != Some(1)
    {
        return Err(MaskFileError::Unsupported {
            path: path.to_owned(),
            what: format!("EDF with Dim_3 = {d3}"),
        });
    }
    let (rows, cols) = checked_pixels(path, rows, cols)?;
    if let Some(c) = keys.get("compression") {
        let c = c.to_ascii_lowercase();
        if !(c.is_empty() || c == "none" || c == "nocompression") {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("EDF compression {c:?}"),
            });
        }
    }
    let dtype = keys
        .get("datatype")
        .ok_or_else(|| format_err(path, open as u64, "EDF header lacks DataType"))?;
    let elem = match dtype.to_ascii_lowercase().as_str() {
        "unsignedbyte" | "unsigned8" | "unsignedchar" => Elem::U8,
        "signedbyte" | "signed8" | "signedchar" => Elem::I8,
        "unsignedshort" | "unsigned16" => Elem::U16,
        "signedshort" | "signed16" => Elem::I16,
        "unsignedinteger" | "unsignedlong" | "unsigned32" | "unsignedint" => Elem::U32,
        "signedinteger" | "signedlong" | "signed32" | "signedint" => Elem::I32,
        "unsigned64" => Elem::U64,
        "signed64" => Elem::I64,
        "floatvalue" | "float" | "real" | "float32" => Elem::F32,
        "doublevalue" | "double" | "float64" => Elem::F64,
        other => {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("EDF DataType {other:?}"),
            });
        }
    };
    let big_endian = match keys.get("byteorder").map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(s) if s == "lowbytefirst" => false,
        Some(s) if s == "highbytefirst" => true,
        Some(s) => {
            return Err(format_err(
                path,
                open as u64,
                format!("EDF ByteOrder {s:?} (LowByteFirst or HighByteFirst)"),
            ));
        }
    };
    let need = rows * cols * elem.size();
    let data = bytes.get(data_start..data_start + need).ok_or_else(|| {
        format_err(
            path,
            data_start as u64,
            format!(
                "EDF data truncated: {need} bytes needed, {} present",
                bytes.len().saturating_sub(data_start)
            ),
        )
    })?;
    Ok(Image {
        format: Format::Edf,
        shape: (rows, cols),
        values: elem.decode(data, big_endian),
    })
}

// ---------------------------------------------------------------------------------------------
// npy

fn read_npy(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
    let major = *bytes
        .get(6)
        .ok_or_else(|| format_err(path, 6, "truncated npy header"))?;
    let (hlen, hstart): (usize, usize) = match major {
        1 => (
            u16::from_le_bytes([
                bytes.get(8).copied().unwrap_or(0),
                bytes.get(9).copied().unwrap_or(0),
            ]) as usize,
            10,
        ),
        2 | 3 => {
            let b = bytes
                .get(8..12)
                .ok_or_else(|| format_err(path, 8, "truncated npy header"))?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("npy version {v}"),
            });
        }
    };
    let header = bytes
        .get(hstart..hstart.saturating_add(hlen))
        .ok_or_else(|| format_err(path, hstart as u64, "truncated npy header"))?;
    let header = String::from_utf8_lossy(header);
    let field = |name: &str| -> Option<String> {
        let at = header.find(&format!("'{name}'"))? + name.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_owned())
    };
    let descr = field("descr")
        .and_then(|r| {
            r.strip_prefix('\'')
                .map(|s| s.split('\'').next().unwrap_or("").to_owned())
        })
        .ok_or_else(|| format_err(path, hstart as u64, "npy header lacks descr"))?;
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(MaskFileError::Unsupported {
            path: path.to_owned(),
            what: "npy in Fortran order".into(),
        });
    }
    let shape_text = field("shape")
        .and_then(|r| {
            let r = r.strip_prefix('(')?;
            Some(r[..r.find(')')?].to_owned())
        })
        .ok_or_else(|| format_err(path, hstart as u64, "npy header lacks shape"))?;
    let dims: Vec<u64> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format_err(path, hstart as u64, format!("npy shape ({shape_text})")))?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [c] => (1, *c),
        _ => {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("npy array of shape ({shape_text})"),
            });
        }
    };
    let (rows, cols) = checked_pixels(path, rows, cols)?;
    let (big_endian, code) = match descr.chars().next() {
        Some('<') | Some('|') | Some('=') => (false, &descr[1..]),
        Some('>') => (true, &descr[1..]),
        _ => (false, descr.as_str()),
    };
    let elem = match code {
        "b1" | "u1" => Elem::U8,
        "i1" => Elem::I8,
        "u2" => Elem::U16,
        "i2" => Elem::I16,
        "u4" => Elem::U32,
        "i4" => Elem::I32,
        "u8" => Elem::U64,
        "i8" => Elem::I64,
        "f4" => Elem::F32,
        "f8" => Elem::F64,
        _ => {
            return Err(MaskFileError::Unsupported {
                path: path.to_owned(),
                what: format!("npy dtype {descr:?}"),
            });
        }
    };
    let start = hstart + hlen;
    let need = rows * cols * elem.size();
    let data = bytes.get(start..start + need).ok_or_else(|| {
        format_err(
            path,
            start as u64,
            format!("npy data truncated: {need} bytes needed"),
        )
    })?;
    Ok(Image {
        format: Format::Npy,
        shape: (rows, cols),
        values: elem.decode(data, big_endian),
    })
}

// ---------------------------------------------------------------------------------------------
// TIFF

struct Tiff<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    big: bool,
}

impl<'a> Tiff<'a> {
    fn new(path: &'a Path, bytes: &'a [u8]) -> Tiff<'a> {
        Tiff {
            path,
            bytes,
            big: bytes.starts_with(b"MM"),
        }
    }

    fn err(&self, offset: usize, reason: impl Into<String>) -> MaskFileError {
        format_err(self.path, offset as u64, reason)
    }

    fn u16_at(&self, at: usize) -> Result<u16, MaskFileError> {
        let b = self
            .bytes
            .get(at..at + 2)
            .ok_or_else(|| self.err(at, "TIFF truncated"))?;
        Ok(if self.big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    }

    fn u32_at(&self, at: usize) -> Result<u32, MaskFileError> {
        let b = self
            .bytes
            .get(at..at + 4)
            .ok_or_else(|| self.err(at, "TIFF truncated"))?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The values of an IFD entry at `entry` (SHORT or LONG, inline or at an offset).
    fn values(&self, entry: usize) -> Result<Vec<u64>, MaskFileError> {
        let typ = self.u16_at(entry + 2)?;
        let count = self.u32_at(entry + 4)? as usize;
        let size = match typ {
            1 => 1,  // BYTE
            3 => 2,  // SHORT
            4 => 4,  // LONG
            16 => 8, // LONG8 (BigTIFF only, refused earlier)
            _ => {
                return Err(self.err(
                    entry,
                    format!("TIFF field type {typ} where an integer is expected"),
                ));
            }
        };
        if count > self.bytes.len() {
            return Err(self.err(entry, format!("TIFF field count {count} beyond the file")));
        }
        let total = count * size;
        let base = if total <= 4 {
            entry + 8
        } else {
            self.u32_at(entry + 8)? as usize
        };
        (0..count)
            .map(|k| {
                let at = base + k * size;
                Ok(match size {
                    1 => u64::from(
                        *self
                            .bytes
                            .get(at)
                            .ok_or_else(|| self.err(at, "TIFF truncated"))?,
                    ),
                    2 => u64::from(self.u16_at(at)?),
                    _ => u64::from(self.u32_at(at)?),
                })
            })
            .collect()
    }

    fn read(&self) -> Result<Image, MaskFileError> {
        if self.u16_at(2)? != 42 {
            return Err(MaskFileError::Unsupported {
                path: self.path.to_owned(),
                what: "TIFF variant (BigTIFF?)".into(),
            });
        }
        let ifd = self.u32_at(4)? as usize;
        let n = self.u16_at(ifd)? as usize;
        let mut width = None;
        let mut height = None;
        let mut bits = 1u64;
        let mut compression = 1u64;
        let mut samples = 1u64;
        let mut format = 1u64;
        let mut offsets = None;
        let mut counts = None;
        for k in 0..n {
            let entry = ifd + 2 + 12 * k;
            let tag = self.u16_at(entry)?;
            let first = |v: Vec<u64>| {
                v.first()
                    .copied()
                    .ok_or_else(|| self.err(entry, format!("TIFF tag {tag} has no value")))
            };
            match tag {
                256 => width = Some(first(self.values(entry)?)?),
                257 => height = Some(first(self.values(entry)?)?),
                258 => {
                    let v = self.values(entry)?;
                    if v.iter().any(|&b| Some(&b) != v.first()) {
                        return Err(self.unsupported("TIFF with mixed bits per sample"));
                    }
                    bits = first(v)?;
                }
                259 => compression = first(self.values(entry)?)?,
                273 => offsets = Some(self.values(entry)?),
                277 => samples = first(self.values(entry)?)?,
                279 => counts = Some(self.values(entry)?),
                322..=325 => return Err(self.unsupported("tiled TIFF")),
                339 => format = first(self.values(entry)?)?,
                _ => {}
            }
        }
        if compression != 1 {
            return Err(
                self.unsupported(&format!("TIFF compression {compression} (only 1 = none)"))
            );
        }
        if samples != 1 {
            return Err(self.unsupported(&format!("TIFF with {samples} samples per pixel")));
        }
        let elem = match (format, bits) {
            (1, 8) => Elem::U8,
            (1, 16) => Elem::U16,
            (1, 32) => Elem::U32,
            (2, 8) => Elem::I8,
            (2, 16) => Elem::I16,
            (2, 32) => Elem::I32,
            (3, 32) => Elem::F32,
            (3, 64) => Elem::F64,
            _ => {
                return Err(
                    self.unsupported(&format!("TIFF sample format {format} with {bits} bits"))
                );
            }
        };
        let (Some(width), Some(height)) = (width, height) else {
            return Err(self.err(ifd, "TIFF lacks ImageWidth or ImageLength"));
        };
        let (rows, cols) = checked_pixels(self.path, height, width)?;
        let offsets = offsets.ok_or_else(|| self.err(ifd, "TIFF lacks StripOffsets"))?;
        let need = rows * cols * elem.size();
        let counts = match counts {
            Some(c) => c,
            // A single strip may omit its byte count.
            None if offsets.len() == 1 => vec![need as u64],
            None => return Err(self.err(ifd, "TIFF lacks StripByteCounts")),
        };
        if counts.len() != offsets.len() {
            return Err(self.err(
                ifd,
                "TIFF StripOffsets and StripByteCounts differ in length",
            ));
        }
        let mut data = Vec::with_capacity(need);
        for (&off, &count) in offsets.iter().zip(&counts) {
            let (off, count) = (off as usize, count as usize);
            let take = count.min(need - data.len());
            let strip = self
                .bytes
                .get(off..off.saturating_add(take))
                .ok_or_else(|| self.err(off, "TIFF strip beyond the end of the file"))?;
            data.extend_from_slice(strip);
            if data.len() == need {
                break;
            }
        }
        if data.len() != need {
            return Err(self.err(
                ifd,
                format!("TIFF strips hold {} bytes, image needs {need}", data.len()),
            ));
        }
        Ok(Image {
            format: Format::Tiff,
            shape: (rows, cols),
            values: elem.decode(&data, self.big),
        })
    }

    fn unsupported(&self, what: &str) -> MaskFileError {
        MaskFileError::Unsupported {
            path: self.path.to_owned(),
            what: what.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Small images written by fabio, tifffile and NumPy (`scripts/pyfai_reference.py`).
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../azint/tests/fixtures/pyfai/masks")
            .join(name)
    }

    const SHAPE: (usize, usize) = (7, 5);

    fn pattern() -> Vec<f64> {
        (0..SHAPE.0 * SHAPE.1)
            .map(|k| ((7 * k) % 4) as f64)
            .collect()
    }

    #[test]
    fn reads_every_format_written_by_fabio_tifffile_numpy() {
        for (name, format) in [
            ("u8.edf", Format::Edf),
            ("f32.edf", Format::Edf),
            ("i32_be.edf", Format::Edf),
            ("u16_fabio.tif", Format::Tiff),
            ("u8.tif", Format::Tiff),
            ("i32_strips.tif", Format::Tiff),
            ("f32_be.tif", Format::Tiff),
            ("f64.npy", Format::Npy),
            ("i32.cbf", Format::Cbf),
            ("u16.raw", Format::Raw),
        ] {
            let image = read_image(&fixture(name), Some(SHAPE)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(image.format, format, "{name}");
            assert_eq!(image.shape, SHAPE, "{name}");
            assert_eq!(image.values, pattern(), "{name}");
            let mask = read_mask(&fixture(name), SHAPE).unwrap();
            let expected: Vec<bool> = pattern().iter().map(|&v| v != 0.0).collect();
            assert_eq!(mask, expected, "{name}");
        }
        let bools = read_image(&fixture("bool.npy"), None).unwrap();
        let expected: Vec<f64> = pattern().iter().map(|&v| f64::from(v != 0.0)).collect();
        assert_eq!(bools.values, expected);
    }

    #[test]
    fn rejects_wrong_shape() {
        let err = read_mask(&fixture("u8.edf"), (1679, 1475)).unwrap_err();
        assert!(matches!(err, MaskFileError::Shape { .. }), "{err}");
        assert!(err.to_string().contains("(7, 5)") && err.to_string().contains("u8.edf"));
        let err = read_mask(&fixture("u16.raw"), (6, 5)).unwrap_err();
        assert!(matches!(err, MaskFileError::RawSize { .. }), "{err}");
        let err = read_image(&fixture("u16.raw"), None).unwrap_err();
        assert!(matches!(err, MaskFileError::Unsupported { .. }), "{err}");
        let err = read_mask(Path::new("no/such/mask.edf"), SHAPE).unwrap_err();
        assert!(matches!(err, MaskFileError::Io { .. }), "{err}");
    }

    #[test]
    fn cbf_from_cbf_format_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mask.cbf");
        let (rows, cols) = (1679, 1475);
        let values: Vec<i32> = (0..rows * cols).map(|k| i32::from(k % 97 == 0)).collect();
        let bytes = cbf_format::writer::MiniCbfWriter::new(&cbf_format::Header::default())
            .write(&[cols, rows], &values)
            .unwrap();
        std::fs::write(&path, bytes).unwrap();
        let mask = read_mask(&path, (rows, cols)).unwrap();
        assert!(mask.iter().zip(&values).all(|(&m, &v)| m == (v != 0)));
    }

    #[test]
    fn truncated_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "u8.edf",
            "i32_be.edf",
            "u16_fabio.tif",
            "i32_strips.tif",
            "f32_be.tif",
            "f64.npy",
            "i32.cbf",
        ] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            // A CBF's last bytes are its MIME trailer, which the reader does not need.
            let last = if name.ends_with(".cbf") {
                bytes.len() / 2
            } else {
                bytes.len() - 1
            };
            for cut in [last, bytes.len() / 2, 12, 3] {
                let path = dir.path().join(format!("cut_{cut}_{name}"));
                std::fs::write(&path, &bytes[..cut]).unwrap();
                let Err(err) = read_mask(&path, SHAPE) else {
                    panic!("{name} cut at {cut} was read");
                };
                assert!(
                    err.to_string().contains("cut_"),
                    "{name} cut at {cut}: {err}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Corrupted headers (random bytes written over a valid file) never panic.
        #[test]
        fn corrupted_files_never_panic(
            which in 0usize..5,
            edits in proptest::collection::vec((0usize..700, any::<u8>()), 1..12),
        ) {
            let name = ["u8.edf", "u16_fabio.tif", "i32_strips.tif", "f64.npy", "f32_be.tif"][which];
            let mut bytes = std::fs::read(fixture(name)).unwrap();
            for (at, value) in edits {
                let n = bytes.len();
                bytes[at % n] = value;
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_image(&path, Some(SHAPE));
            let _ = read_image(&path, None);
        }
    }
}
