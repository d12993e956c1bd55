//! TIFF through the `tiff` crate (image-rs): strips or tiles, uncompressed, LZW, Deflate or
//! PackBits, first image, one sample per pixel.
//!
//! Before the crate decodes (and allocates) the image, its declared size is checked against
//! what the file's bytes can hold at the largest expansion of its compression, so a small
//! hostile file cannot make it allocate gigabytes.

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use ::tiff::decoder::{Decoder, DecodingResult, Limits};
use ::tiff::tags::Tag;
use ::tiff::{ColorType, TiffError};

use super::{Format, Image, MAX_PIXELS, MaskFileError, checked_pixels, format_err, unsupported};

/// The file's bytes, remembering where the decoder last read or sought: the byte offset that
/// errors give.
struct Tracked<'a> {
    cursor: Cursor<&'a [u8]>,
    last: &'a Cell<u64>,
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.last.set(self.cursor.position());
        self.cursor.read(buf)
    }
}

impl Seek for Tracked<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.cursor.seek(pos)?;
        self.last.set(at);
        Ok(at)
    }
}

/// Compression schemes read, with the largest factor by which each can expand its input.
fn compression(code: u16) -> Option<(&'static str, u64)> {
    Some(match code {
        1 => ("none", 1),
        // A 2-byte run gives 128 bytes.
        32773 => ("PackBits", 64),
        // A 258-byte match every 2 bits, at best.
        8 | 32946 => ("Deflate", 1032),
        // A code of at least 9 bits gives at most 4096 bytes.
        5 => ("LZW", 4096),
        _ => return None,
    })
}

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
    let last = Cell::new(0);
    let err = |e: TiffError| convert_error(path, last.get(), e);
    let reader = Tracked {
        cursor: Cursor::new(bytes),
        last: &last,
    };
    let mut limits = Limits::default();
    limits.decoding_buffer_size = (MAX_PIXELS * 8) as usize;
    let mut decoder = Decoder::new(reader).map_err(err)?.with_limits(limits);
    let ifd = decoder.ifd_pointer().map_or(0, |p| p.0);

    let (width, height) = decoder.dimensions().map_err(err)?;
    let (rows, cols) = checked_pixels(path, height.into(), width.into())?;
    let bits = match decoder.colortype().map_err(err)? {
        ColorType::Gray(bits) | ColorType::Palette(bits) => bits,
        other => {
            return Err(unsupported(
                path,
                format!("TIFF colour type {other:?} (one sample per pixel is read)"),
            ));
        }
    };
    let code = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .map_err(err)?
        .unwrap_or(1);
    let Some((scheme, expansion)) = compression(code) else {
        return Err(unsupported(
            path,
            format!("TIFF compression {code} (none, LZW, Deflate and PackBits are read)"),
        ));
    };
    // Rows of fewer than 8 bits per pixel end on a byte boundary.
    let need = (cols as u64 * u64::from(bits)).div_ceil(8) * rows as u64;
    let can_hold = (bytes.len() as u64).saturating_mul(expansion);
    if need > can_hold {
        return Err(format_err(
            path,
            ifd,
            format!(
                "TIFF image of {rows} × {cols} pixels of {bits} bits needs {need} bytes, \
                 more than {} bytes ({scheme}) can hold",
                bytes.len()
            ),
        ));
    }
    let white_is_zero = decoder
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .map_err(err)?
        == Some(0);

    let decoded = decoder.read_image().map_err(err)?;
    let values = values(decoded, white_is_zero, bits, rows, cols);
    if values.len() != rows * cols {
        return Err(format_err(
            path,
            ifd,
            format!(
                "TIFF decoded {} values for {rows} × {cols} pixels",
                values.len()
            ),
        ));
    }
    Ok(Image {
        format: Format::Tiff,
        shape: (rows, cols),
        values,
    })
}

/// The stored values: the crate's inversion of `WhiteIsZero` images (`!x` on unsigned
/// integers, `1 - x` on floats; it refuses signed ones) is undone, as fabio and tifffile
/// give stored values.
fn values(
    decoded: DecodingResult,
    white_is_zero: bool,
    bits: u8,
    rows: usize,
    cols: usize,
) -> Vec<f64> {
    let w = white_is_zero;
    match decoded {
        DecodingResult::U8(v) if bits < 8 => unpack(&v, w, bits, rows, cols),
        DecodingResult::U8(v) => v
            .into_iter()
            .map(|x| f64::from(if w { !x } else { x }))
            .collect(),
        DecodingResult::U16(v) => v
            .into_iter()
            .map(|x| f64::from(if w { !x } else { x }))
            .collect(),
        DecodingResult::U32(v) => v
            .into_iter()
            .map(|x| f64::from(if w { !x } else { x }))
            .collect(),
        // A non-zero integer converts to a non-zero float (rounding to nearest).
        DecodingResult::U64(v) => v
            .into_iter()
            .map(|x| (if w { !x } else { x }) as f64)
            .collect(),
        DecodingResult::I8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I64(v) => v.into_iter().map(|x| x as f64).collect(),
        DecodingResult::F16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::F32(v) => v
            .into_iter()
            .map(|x| f64::from(if w { 1.0 - x } else { x }))
            .collect(),
        DecodingResult::F64(v) => v.into_iter().map(|x| if w { 1.0 - x } else { x }).collect(),
    }
}

/// Pixels of `bits` < 8 bits, most significant first, each row starting on a byte. Returns
/// fewer than `rows × cols` values when `packed` is short.
fn unpack(packed: &[u8], invert: bool, bits: u8, rows: usize, cols: usize) -> Vec<f64> {
    let bits = usize::from(bits);
    let row_bytes = (cols * bits).div_ceil(8);
    let mask = (1u16 << bits) - 1;
    packed
        .chunks_exact(row_bytes)
        .take(rows)
        .flat_map(|row| {
            (0..cols).map(move |c| {
                let at = c * bits;
                let byte = |i: usize| {
                    let b = row.get(i).copied().unwrap_or(0);
                    u16::from(if invert { !b } else { b })
                };
                let window = (byte(at / 8) << 8) | byte(at / 8 + 1);
                f64::from((window >> (16 - at % 8 - bits)) & mask)
            })
        })
        .collect()
}

fn convert_error(path: &Path, offset: u64, e: TiffError) -> MaskFileError {
    match e {
        TiffError::UnsupportedError(e) => unsupported(path, format!("TIFF feature: {e}")),
        TiffError::LimitsExceeded => unsupported(path, "TIFF beyond the decoder's size limits"),
        TiffError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            format_err(path, offset, "TIFF truncated")
        }
        e => format_err(path, offset, format!("TIFF: {e}")),
    }
}
