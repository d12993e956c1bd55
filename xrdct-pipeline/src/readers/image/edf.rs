//! ESRF Data Format (EDF), written here: no maintained Rust crate reads it.
//!
//! A header in braces of `key = value ;` items (ESRF writers pad it to a multiple of 512
//! bytes), then the uncompressed pixels of the first frame.

use std::collections::HashMap;
use std::path::Path;

use super::{Elem, Format, Image, MaskFileError, checked_pixels, format_err, unsupported};

/// Whether the bytes start (after white space) with a `{` header that names `Dim_1` or an
/// `EDF_` key within its first 4 KiB.
pub(super) fn is_edf(bytes: &[u8]) -> bool {
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

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
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
    let mut keys = HashMap::new();
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
        return Err(unsupported(path, format!("EDF with Dim_3 = {d3}")));
    }
    let (rows, cols) = checked_pixels(path, rows, cols)?;
    if let Some(c) = keys.get("compression") {
        let c = c.to_ascii_lowercase();
        if !(c.is_empty() || c == "none" || c == "nocompression") {
            return Err(unsupported(path, format!("EDF compression {c:?}")));
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
        other => return Err(unsupported(path, format!("EDF DataType {other:?}"))),
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
    // At most 2^28 pixels of 8 bytes: no overflow.
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
