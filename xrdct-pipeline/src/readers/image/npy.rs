//! NumPy `.npy` through the `npyz` crate.
//!
//! `npyz` parses the header and decodes the elements (byte order, dtype). Checks come first,
//! because `npyz` trusts the file: the declared header length must fit in the file (`npyz`
//! allocates it before reading) and in NumPy's limit; its brackets may not nest deeper than a
//! real header's (the Python-literal parser, `py_literal`, takes time exponential in the
//! depth); and the header must be a dict whose `descr` is a plain type string and whose
//! `shape` has one or two dimensions whose product is a checked image size (`npyz`
//! multiplies the dimensions unchecked, which panics on overflow in debug builds).

use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};
use py_literal::Value;

use super::{Format, Image, MaskFileError, checked_pixels, format_err, unsupported};

/// The first bytes of every `.npy` file.
pub(super) const MAGIC: &[u8] = b"\x93NUMPY";

/// Longest header read: NumPy's own default limit (`max_header_size` of `numpy.load`).
const MAX_HEADER: usize = 10_000;

/// Deepest nesting of brackets read: a header is a dict holding a shape tuple (depth 2), a
/// record dtype a list of tuples holding shape tuples (4). The Python-literal parser
/// backtracks exponentially in the depth (a 400-byte file whose header opens 21 lists took
/// 9 minutes, 14 dicts take 17 s), so deeper headers are refused unparsed.
const MAX_DEPTH: usize = 4;

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<Image, MaskFileError> {
    if !bytes.starts_with(MAGIC) {
        return Err(format_err(path, 0, "no npy magic (\\x93NUMPY)"));
    }
    let truncated = |at: usize| format_err(path, at as u64, "npy header truncated");
    let major = *bytes.get(6).ok_or_else(|| truncated(6))?;
    let (hstart, hlen) = match major {
        1 => {
            let b = bytes.get(8..10).ok_or_else(|| truncated(8))?;
            (10, usize::from(u16::from_le_bytes([b[0], b[1]])))
        }
        2 | 3 => {
            let b = bytes.get(8..12).ok_or_else(|| truncated(8))?;
            (12, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        }
        v => return Err(unsupported(path, format!("npy version {v}"))),
    };
    if hlen > MAX_HEADER {
        return Err(unsupported(
            path,
            format!("npy header of {hlen} bytes (limit {MAX_HEADER})"),
        ));
    }
    let header = bytes.get(hstart..hstart + hlen).ok_or_else(|| {
        format_err(
            path,
            hstart as u64,
            format!(
                "npy header truncated: {hlen} bytes declared, {} present",
                bytes.len() - hstart
            ),
        )
    })?;
    let depth = nesting(header);
    if depth > MAX_DEPTH {
        return Err(format_err(
            path,
            hstart as u64,
            format!("npy header nests brackets {depth} deep (limit {MAX_DEPTH})"),
        ));
    }
    let (rows, cols) = checked_shape(path, header, hstart)?;

    let npy = NpyFile::new(bytes)
        .map_err(|e| format_err(path, hstart as u64, format!("npy header: {e}")))?;
    let dtype = npy.dtype();
    let DType::Plain(type_str) = &dtype else {
        return Err(unsupported(path, format!("npy dtype {}", dtype.descr())));
    };
    let size = type_str.size_field();
    let readable = match type_str.type_char() {
        TypeChar::Bool => size == 1,
        TypeChar::Int | TypeChar::Uint => matches!(size, 1 | 2 | 4 | 8),
        TypeChar::Float => matches!(size, 4 | 8),
        _ => false,
    };
    if !readable {
        return Err(unsupported(path, format!("npy dtype {type_str}")));
    }
    let data_start = hstart + hlen;
    // At most 2^28 pixels of 8 bytes: no overflow.
    let need = rows * cols * size as usize;
    let present = bytes.len() - data_start;
    if present < need {
        return Err(format_err(
            path,
            data_start as u64,
            format!("npy data truncated: {need} bytes needed, {present} present"),
        ));
    }
    let order = npy.order();
    let values = match (type_str.type_char(), size) {
        (TypeChar::Bool, _) => read(npy, |v: bool| f64::from(u8::from(v))),
        (TypeChar::Uint, 1) => read::<u8>(npy, f64::from),
        (TypeChar::Uint, 2) => read::<u16>(npy, f64::from),
        (TypeChar::Uint, 4) => read::<u32>(npy, f64::from),
        // A non-zero integer converts to a non-zero float (rounding to nearest).
        (TypeChar::Uint, _) => read(npy, |v: u64| v as f64),
        (TypeChar::Int, 1) => read::<i8>(npy, f64::from),
        (TypeChar::Int, 2) => read::<i16>(npy, f64::from),
        (TypeChar::Int, 4) => read::<i32>(npy, f64::from),
        (TypeChar::Int, _) => read(npy, |v: i64| v as f64),
        (_, 4) => read::<f32>(npy, f64::from),
        _ => read(npy, |v: f64| v),
    }
    .map_err(|e| format_err(path, data_start as u64, format!("npy data: {e}")))?;
    if values.len() != rows * cols {
        return Err(format_err(
            path,
            data_start as u64,
            format!(
                "npy data holds {} values, the shape says {}",
                values.len(),
                rows * cols
            ),
        ));
    }
    let values = match order {
        Order::C => values,
        // Column-major: element (r, c) is at c · rows + r.
        Order::Fortran => (0..rows * cols)
            .map(|k| values[(k % cols) * rows + k / cols])
            .collect(),
    };
    Ok(Image {
        format: Format::Npy,
        shape: (rows, cols),
        values,
    })
}

/// Reads every element as `T` (its dtype checked by `npyz`) and converts it.
fn read<T: npyz::Deserialize>(
    npy: NpyFile<&[u8]>,
    convert: impl Fn(T) -> f64,
) -> std::io::Result<Vec<f64>> {
    npy.data::<T>()
        .map_err(std::io::Error::other)?
        .map(|v| v.map(&convert))
        .collect()
}

/// The deepest nesting of `(`, `[` and `{` in `header` (counted inside strings too).
fn nesting(header: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0);
    for &b in header {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The (rows, columns) of the header's `shape` (`(n,)` is one row), refused unless the header
/// is a dict with a plain `descr` string and a shape of one or two dimensions that make an
/// image of at most [`super::MAX_PIXELS`] pixels.
fn checked_shape(path: &Path, header: &[u8], at: usize) -> Result<(usize, usize), MaskFileError> {
    let err = |reason: String| format_err(path, at as u64, reason);
    let text = std::str::from_utf8(header).map_err(|_| err("npy header is not UTF-8".into()))?;
    let value: Value = text
        .trim_end()
        .parse()
        .map_err(|e: py_literal::ParseError| {
            // The parser's message quotes the whole line; its first line says where.
            let message = e.to_string();
            err(format!(
                "npy header is no Python literal: {}",
                message.lines().next().unwrap_or_default()
            ))
        })?;
    let Value::Dict(items) = value else {
        return Err(err("npy header is not a dict".into()));
    };
    // A repeated key would let this check and npyz read different shapes.
    for (k, (key, _)) in items.iter().enumerate() {
        if items[..k].iter().any(|(seen, _)| seen == key) {
            return Err(err(format!("npy header repeats the key {key}")));
        }
    }
    let field = |name: &str| {
        items
            .iter()
            .find(|(k, _)| matches!(k, Value::String(s) if s == name))
            .map(|(_, v)| v)
    };
    match field("descr") {
        Some(Value::String(_)) => {}
        Some(other) => return Err(unsupported(path, format!("npy dtype {other}"))),
        None => return Err(err("npy header lacks descr".into())),
    }
    let shape = field("shape").ok_or_else(|| err("npy header lacks shape".into()))?;
    let (Value::Tuple(dims) | Value::List(dims)) = shape else {
        return Err(err(format!("npy shape {shape} is not a tuple")));
    };
    let dims = dims
        .iter()
        .map(|d| match d {
            Value::Integer(n) => u64::try_from(n).ok(),
            _ => None,
        })
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| err(format!("npy shape {shape} is not a tuple of sizes")))?;
    let (rows, cols) = match dims[..] {
        [rows, cols] => (rows, cols),
        [cols] => (1, cols),
        _ => return Err(unsupported(path, format!("npy array of shape {shape}"))),
    };
    checked_pixels(path, rows, cols)
}
