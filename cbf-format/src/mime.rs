//! The MIME-like header of a binary section (`Content-Type`, `X-Binary-Size`, ...).

use std::borrow::Cow;
use std::fmt;

use crate::error::ErrorKind;

/// The element type of a binary section (`X-Binary-Element-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// signed 8-bit integer
    I8,
    /// unsigned 8-bit integer
    U8,
    /// signed 16-bit integer
    I16,
    /// unsigned 16-bit integer
    U16,
    /// signed 32-bit integer
    I32,
    /// unsigned 32-bit integer
    U32,
    /// signed 64-bit integer
    I64,
    /// unsigned 64-bit integer
    U64,
    /// 32-bit IEEE real
    F32,
    /// 64-bit IEEE real
    F64,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElementType::I8 | ElementType::U8 => 1,
            ElementType::I16 | ElementType::U16 => 2,
            ElementType::I32 | ElementType::U32 | ElementType::F32 => 4,
            ElementType::I64 | ElementType::U64 | ElementType::F64 => 8,
        }
    }

    /// Whether it is an integer type.
    pub fn is_integer(self) -> bool {
        !matches!(self, ElementType::F32 | ElementType::F64)
    }

    /// The name as written in `X-Binary-Element-Type` (without quotes).
    pub fn cbf_name(self) -> &'static str {
        match self {
            ElementType::I8 => "signed 8-bit integer",
            ElementType::U8 => "unsigned 8-bit integer",
            ElementType::I16 => "signed 16-bit integer",
            ElementType::U16 => "unsigned 16-bit integer",
            ElementType::I32 => "signed 32-bit integer",
            ElementType::U32 => "unsigned 32-bit integer",
            ElementType::I64 => "signed 64-bit integer",
            ElementType::U64 => "unsigned 64-bit integer",
            ElementType::F32 => "signed 32-bit real IEEE",
            ElementType::F64 => "signed 64-bit real IEEE",
        }
    }

    /// The numpy-style name (`int32`, `uint16`, `float64`, ...).
    pub fn numpy_name(self) -> &'static str {
        match self {
            ElementType::I8 => "int8",
            ElementType::U8 => "uint8",
            ElementType::I16 => "int16",
            ElementType::U16 => "uint16",
            ElementType::I32 => "int32",
            ElementType::U32 => "uint32",
            ElementType::I64 => "int64",
            ElementType::U64 => "uint64",
            ElementType::F32 => "float32",
            ElementType::F64 => "float64",
        }
    }

    /// Parses an `X-Binary-Element-Type` value (quotes and case ignored).
    pub fn parse(value: &str) -> Option<ElementType> {
        let mut words = unquote(value).split_whitespace();
        let (Some(sign), Some(bits), Some(kind)) = (words.next(), words.next(), words.next())
        else {
            return None;
        };
        let signed = if sign.eq_ignore_ascii_case("signed") {
            true
        } else if sign.eq_ignore_ascii_case("unsigned") {
            false
        } else {
            return None;
        };
        let (bits, suffix) = bits.split_at_checked(bits.len().checked_sub(4)?)?;
        if !suffix.eq_ignore_ascii_case("-bit") {
            return None;
        }
        let integer = if kind.eq_ignore_ascii_case("integer") {
            true
        } else if kind.eq_ignore_ascii_case("real") {
            false
        } else {
            return None;
        };
        Some(match (integer, bits, signed) {
            (true, "8", true) => ElementType::I8,
            (true, "8", false) => ElementType::U8,
            (true, "16", true) => ElementType::I16,
            (true, "16", false) => ElementType::U16,
            (true, "32", true) => ElementType::I32,
            (true, "32", false) => ElementType::U32,
            (true, "64", true) => ElementType::I64,
            (true, "64", false) => ElementType::U64,
            (false, "32", _) => ElementType::F32,
            (false, "64", _) => ElementType::F64,
            _ => return None,
        })
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cbf_name())
    }
}

/// Byte order of the elements (`X-Binary-Element-Byte-Order`; little-endian when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `LITTLE_ENDIAN`
    LittleEndian,
    /// `BIG_ENDIAN`
    BigEndian,
}

/// Flags of the packed compressions (`; "uncorrelated_sections"`, `; "flat"` after the
/// conversion name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PackedFlags {
    /// Sections (third dimension) are predicted independently.
    pub uncorrelated_sections: bool,
    /// No 2-D averaging: each element is predicted from the previous one.
    pub flat: bool,
}

/// The compression of a binary section (`conversions=` in `Content-Type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No `conversions=`, or `x-CBF_NONE`: raw elements.
    None,
    /// `x-CBF_BYTE_OFFSET`
    ByteOffset,
    /// `x-CBF_PACKED` (CCP4-style packing, as cbflib defines it)
    Packed(PackedFlags),
    /// `x-CBF_PACKED_V2`
    PackedV2(PackedFlags),
    /// Anything else (`x-CBF_CANONICAL`, `x-CBF_PREDICTOR`, ...): the name as written. Decoding
    /// it gives an `Unsupported` error.
    Other(String),
}

impl Compression {
    /// The conversion name as written in files (`x-CBF_BYTE_OFFSET`, ...; `none`).
    pub fn name(&self) -> &str {
        match self {
            Compression::None => "none",
            Compression::ByteOffset => "x-CBF_BYTE_OFFSET",
            Compression::Packed(_) => "x-CBF_PACKED",
            Compression::PackedV2(_) => "x-CBF_PACKED_V2",
            Compression::Other(s) => s,
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `Content-Transfer-Encoding` of a binary section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferEncoding {
    /// `BINARY` (the only one real detector files use).
    Binary,
    /// Anything else (`BASE64`, `QUOTED-PRINTABLE`, `X-BASE8`, ...), unsupported for decoding.
    Other(String),
}

/// The parsed MIME header of one binary section. Every line is also kept verbatim in
/// [`MimeHeader::lines`] (continuation lines joined).
#[derive(Debug, Clone, PartialEq)]
pub struct MimeHeader {
    /// `(key, value)` in file order, values trimmed, continuation lines joined by a space.
    pub lines: Vec<(String, String)>,
    /// `Content-Type` value.
    pub content_type: Option<String>,
    /// The compression (`conversions=`).
    pub compression: Compression,
    /// `Content-Transfer-Encoding` (`BINARY` when absent).
    pub transfer_encoding: TransferEncoding,
    /// `Content-MD5` (base64).
    pub content_md5: Option<String>,
    /// `X-Binary-Size`: payload bytes after the start marker.
    pub binary_size: u64,
    /// `X-Binary-ID`.
    pub binary_id: Option<i64>,
    /// `X-Binary-Element-Type` (signed 32-bit integer when absent).
    pub element_type: ElementType,
    /// Whether `X-Binary-Element-Type` was written.
    pub element_type_given: bool,
    /// `X-Binary-Element-Byte-Order` (little-endian when absent).
    pub byte_order: ByteOrder,
    /// `X-Binary-Number-of-Elements`.
    pub number_of_elements: Option<u64>,
    /// `X-Binary-Size-Fastest-Dimension`.
    pub fastest_dimension: Option<u64>,
    /// `X-Binary-Size-Second-Dimension`.
    pub second_dimension: Option<u64>,
    /// `X-Binary-Size-Third-Dimension`.
    pub third_dimension: Option<u64>,
    /// `X-Binary-Size-Padding`.
    pub padding: Option<u64>,
}

/// Strips padding spaces and one pair of surrounding quotes.
pub(crate) fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.trim();
        }
    }
    s
}

fn parse_u64(v: &str, field: &'static str) -> Result<u64, ErrorKind> {
    unquote(v)
        .parse::<u64>()
        .map_err(|_| ErrorKind::InvalidMimeValue { field })
}

fn parse_compression(content_type: &str) -> Compression {
    let mut compression = Compression::None;
    let mut flags = PackedFlags::default();
    for param in content_type.split(';').skip(1) {
        let param = param.trim();
        if let Some((k, v)) = param.split_once('=') {
            if k.trim().eq_ignore_ascii_case("conversions") {
                let name = unquote(v);
                compression = match name.to_ascii_lowercase().as_str() {
                    "x-cbf_byte_offset" => Compression::ByteOffset,
                    "x-cbf_packed" => Compression::Packed(PackedFlags::default()),
                    "x-cbf_packed_v2" => Compression::PackedV2(PackedFlags::default()),
                    "x-cbf_none" | "none" => Compression::None,
                    _ => Compression::Other(name.to_string()),
                };
            }
        } else {
            let word = unquote(param).to_ascii_lowercase();
            if word == "uncorrelated_sections" {
                flags.uncorrelated_sections = true;
            } else if word == "flat" {
                flags.flat = true;
            }
        }
    }
    match compression {
        Compression::Packed(_) => Compression::Packed(flags),
        Compression::PackedV2(_) => Compression::PackedV2(flags),
        c => c,
    }
}

impl MimeHeader {
    /// Parses the MIME header text (the lines between `--CIF-BINARY-FORMAT-SECTION--` and the
    /// blank line before the start marker). Keys are matched case-insensitively.
    pub fn parse(text: &str) -> Result<MimeHeader, ErrorKind> {
        Self::parse_lines(text, true)
    }

    /// [`MimeHeader::parse`]; with `keep_lines` false, [`MimeHeader::lines`] stays empty (a
    /// completeness check needs the sizes and the same errors, not a copy of every line).
    pub(crate) fn parse_lines(text: &str, keep_lines: bool) -> Result<MimeHeader, ErrorKind> {
        let mut h = MimeHeader {
            // About a dozen lines in the headers detectors write.
            lines: Vec::with_capacity(if keep_lines { 16 } else { 0 }),
            content_type: None,
            compression: Compression::None,
            transfer_encoding: TransferEncoding::Binary,
            content_md5: None,
            binary_size: 0,
            binary_id: None,
            element_type: ElementType::I32,
            element_type_given: false,
            byte_order: ByteOrder::LittleEndian,
            number_of_elements: None,
            fastest_dimension: None,
            second_dimension: None,
            third_dimension: None,
            padding: None,
        };
        let mut have_size = false;
        // The line being read, with its continuation lines joined by a space.
        let mut line: Option<(&str, Cow<'_, str>)> = None;
        for raw in text.split('\n') {
            let raw = raw.trim_end_matches(['\r', '\0']);
            if raw.trim().is_empty() {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                if let Some((_, value)) = &mut line {
                    let value = value.to_mut();
                    value.push(' ');
                    value.push_str(raw.trim());
                }
                continue;
            }
            if let Some((k, v)) = raw.split_once(':') {
                if let Some((key, value)) = line.take() {
                    h.take_line(key, value, keep_lines, &mut have_size)?;
                }
                line = Some((k.trim(), Cow::Borrowed(v.trim())));
            }
            // A line without a colon that is not a continuation carries nothing we know.
        }
        if let Some((key, value)) = line.take() {
            h.take_line(key, value, keep_lines, &mut have_size)?;
        }
        if !have_size {
            return Err(ErrorKind::MissingMimeField("X-Binary-Size"));
        }
        Ok(h)
    }

    /// Reads one header line (`k: v`, continuations joined) into the typed fields, and keeps
    /// it in [`MimeHeader::lines`] when asked.
    fn take_line(
        &mut self,
        k: &str,
        v: Cow<'_, str>,
        keep: bool,
        have_size: &mut bool,
    ) -> Result<(), ErrorKind> {
        let h = self;
        // Lowercased on the stack: every key known here is shorter than 32 bytes.
        let mut buf = [0u8; 32];
        let key = match buf.get_mut(..k.len()) {
            Some(b) => {
                b.copy_from_slice(k.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b).unwrap_or("")
            }
            None => "",
        };
        let v_str: &str = &v;
        match key {
            "content-type" => {
                h.compression = parse_compression(v_str);
                h.content_type = Some(v_str.to_string());
            }
            "content-transfer-encoding" => {
                let e = unquote(v_str);
                h.transfer_encoding = if e.eq_ignore_ascii_case("binary") {
                    TransferEncoding::Binary
                } else {
                    TransferEncoding::Other(e.to_string())
                };
            }
            "content-md5" => h.content_md5 = Some(unquote(v_str).to_string()),
            "x-binary-size" => {
                h.binary_size = parse_u64(v_str, "X-Binary-Size")?;
                *have_size = true;
            }
            "x-binary-id" => {
                h.binary_id =
                    Some(
                        unquote(v_str)
                            .parse()
                            .map_err(|_| ErrorKind::InvalidMimeValue {
                                field: "X-Binary-ID",
                            })?,
                    )
            }
            "x-binary-element-type" => {
                h.element_type =
                    ElementType::parse(v_str).ok_or_else(|| ErrorKind::Unsupported {
                        what: "element type",
                        name: unquote(v_str).to_string(),
                    })?;
                h.element_type_given = true;
            }
            "x-binary-element-byte-order" => {
                let o = unquote(v_str);
                h.byte_order = if o.eq_ignore_ascii_case("LITTLE_ENDIAN") {
                    ByteOrder::LittleEndian
                } else if o.eq_ignore_ascii_case("BIG_ENDIAN") {
                    ByteOrder::BigEndian
                } else {
                    return Err(ErrorKind::InvalidMimeValue {
                        field: "X-Binary-Element-Byte-Order",
                    });
                };
            }
            "x-binary-number-of-elements" => {
                h.number_of_elements = Some(parse_u64(v_str, "X-Binary-Number-of-Elements")?)
            }
            "x-binary-size-fastest-dimension" => {
                h.fastest_dimension = Some(parse_u64(v_str, "X-Binary-Size-Fastest-Dimension")?)
            }
            "x-binary-size-second-dimension" => {
                h.second_dimension = Some(parse_u64(v_str, "X-Binary-Size-Second-Dimension")?)
            }
            "x-binary-size-third-dimension" => {
                h.third_dimension = Some(parse_u64(v_str, "X-Binary-Size-Third-Dimension")?)
            }
            "x-binary-size-padding" => h.padding = Some(parse_u64(v_str, "X-Binary-Size-Padding")?),
            _ => {}
        }
        if keep {
            h.lines.push((k.to_string(), v.into_owned()));
        }
        Ok(())
    }

    /// Dimensions given in the MIME header, fastest first (empty when none are given).
    pub fn dims(&self) -> Vec<u64> {
        let mut d = Vec::new();
        if let Some(f) = self.fastest_dimension {
            d.push(f);
            if let Some(s) = self.second_dimension {
                d.push(s);
                if let Some(t) = self.third_dimension {
                    d.push(t);
                }
            }
        }
        d
    }

    /// The value of a header line, key matched case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_padded_quoted_and_case_insensitive_values() {
        let text = "content-type: application/octet-stream;\r\n     CONVERSIONS= \"x-CBF_PACKED\"; \"flat\"\r\n\
                    X-Binary-Size:    154980\r\nx-binary-element-type: 'unsigned 16-bit integer'\r\n\
                    X-Binary-Size-Fastest-Dimension:     369 \r\n";
        let h = MimeHeader::parse(text).unwrap();
        assert_eq!(h.binary_size, 154980);
        assert_eq!(h.element_type, ElementType::U16);
        assert_eq!(h.fastest_dimension, Some(369));
        assert_eq!(
            h.compression,
            Compression::Packed(PackedFlags {
                flat: true,
                uncorrelated_sections: false
            })
        );
        assert_eq!(h.byte_order, ByteOrder::LittleEndian);
    }

    #[test]
    fn no_conversions_means_uncompressed() {
        let h = MimeHeader::parse("Content-Type: application/octet-stream\r\nX-Binary-Size: 8\r\n")
            .unwrap();
        assert_eq!(h.compression, Compression::None);
    }

    #[test]
    fn rejects_missing_size_and_bad_numbers() {
        assert!(matches!(
            MimeHeader::parse("Content-Type: application/octet-stream\r\n"),
            Err(ErrorKind::MissingMimeField("X-Binary-Size"))
        ));
        assert!(matches!(
            MimeHeader::parse("X-Binary-Size: 12x\r\n"),
            Err(ErrorKind::InvalidMimeValue {
                field: "X-Binary-Size"
            })
        ));
        assert!(matches!(
            MimeHeader::parse(
                "X-Binary-Size: 1\r\nX-Binary-Element-Type: \"signed 12-bit integer\"\r\n"
            ),
            Err(ErrorKind::Unsupported { .. })
        ));
    }

    /// Without its lines kept, a header reads to the same fields and the same errors.
    #[test]
    fn parsing_without_lines_gives_the_same_fields_and_errors() {
        let texts = [
            "Content-Type: application/octet-stream;\r\n     conversions=\"x-CBF_BYTE_OFFSET\"\r\n\
             X-Binary-Size: 170\r\nX-Binary-ID: 1\r\n\t\r\nno colon here\r\n  continued\r\n\
             X-Binary-Element-Type: \"signed 32-bit integer\"\r\nContent-MD5: E8IA==\r\n",
            "x-binary-size: 12\r\nX-BINARY-ELEMENT-BYTE-ORDER: big_endian\r\n",
            "X-Binary-Size: 1\r\nX-Binary-Element-Byte-Order: MIDDLE_ENDIAN\r\n",
            "X-Binary-Size: 1\r\nX-Binary-ID: x\r\nX-Binary-Size: y\r\n",
            "  leading continuation\r\nX-Binary-Size: 3\r\n  4\r\n",
            "Content-Type: text/plain\r\n",
        ];
        for text in texts {
            let full = MimeHeader::parse(text).map(|h| MimeHeader {
                lines: Vec::new(),
                ..h
            });
            let short = MimeHeader::parse_lines(text, false);
            // ErrorKind has no PartialEq (it can hold an io::Error): compare what they say.
            assert_eq!(format!("{full:?}"), format!("{short:?}"), "{text:?}");
        }
    }

    #[test]
    fn element_type_names_in_any_case_and_spacing() {
        assert_eq!(
            ElementType::parse(" 'UNSIGNED   16-BIT Integer  extra' "),
            Some(ElementType::U16)
        );
        assert_eq!(
            ElementType::parse("Signed 64-Bit REAL IEEE"),
            Some(ElementType::F64)
        );
        for bad in [
            "",
            "signed",
            "signed 32-bit",
            "signed 32bit integer",
            "signed 32-bits integer",
            "signed -bit integer",
            "signed 1\u{e9}-bit integer",
            "signed \u{e9}abc integer",
            "signed 32-bit float",
            "unsigned 32-bit integr",
        ] {
            assert_eq!(ElementType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn element_type_names_roundtrip() {
        for t in [
            ElementType::I8,
            ElementType::U8,
            ElementType::I16,
            ElementType::U16,
            ElementType::I32,
            ElementType::U32,
            ElementType::I64,
            ElementType::U64,
            ElementType::F32,
            ElementType::F64,
        ] {
            assert_eq!(
                ElementType::parse(&format!("\"{}\"", t.cbf_name())),
                Some(t)
            );
        }
    }
}
