//! Writers: Dectris-style miniCBF ([`MiniCbfWriter`]) and generic imgCIF ([`ImgCifWriter`]).
//!
//! ```
//! use cbf_format::{CbfFile, Header, writer::MiniCbfWriter};
//! let header = Header { wavelength: Some(1.0), ..Header::default() };
//! let pixels: Vec<i32> = (0..12).collect();
//! let bytes = MiniCbfWriter::new(&header).write(&[4, 3], &pixels)?;
//! let file = CbfFile::from_bytes(&bytes)?;
//! assert_eq!(file.sections()[0].decode_i32()?, pixels);
//! assert_eq!(file.header().wavelength, Some(1.0));
//! # Ok::<(), cbf_format::Error>(())
//! ```

use base64::Engine as _;
use md5::{Digest, Md5};

use crate::error::{Error, ErrorKind, Result};
use crate::header::Header;
use crate::mime::ElementType;

mod sealed {
    pub trait Sealed {}
}

/// An integer element type the writers accept (`i8 u8 i16 u16 i32 u32 i64 u64`); sealed.
pub trait WriteElement: byteoffset::Element + sealed::Sealed {
    /// The CBF element type.
    const TYPE: ElementType;
    /// Appends the little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! write_element {
    ($t:ty, $e:expr) => {
        impl sealed::Sealed for $t {}
        impl WriteElement for $t {
            const TYPE: ElementType = $e;
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
write_element!(i8, ElementType::I8);
write_element!(u8, ElementType::U8);
write_element!(i16, ElementType::I16);
write_element!(u16, ElementType::U16);
write_element!(i32, ElementType::I32);
write_element!(u32, ElementType::U32);
write_element!(i64, ElementType::I64);
write_element!(u64, ElementType::U64);

/// Compression used by the writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteCompression {
    /// `x-CBF_BYTE_OFFSET` (what detectors write).
    #[default]
    ByteOffset,
    /// No compression.
    None,
}

/// Padding written after each payload, as Dectris detectors do.
pub const PADDING: usize = 4095;

/// Default first line of files this crate writes.
pub const MAGIC: &str = "###CBF: VERSION 1.5, cbf-format (xrdct)";

fn check_dims(dims: &[usize], len: usize) -> Result<()> {
    let product = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if dims.is_empty() || dims.len() > 3 || product != Some(len) {
        return Err(Error::new(ErrorKind::WriterInput {
            dims: dims.to_vec(),
            len,
        }));
    }
    Ok(())
}

fn encode<T: WriteElement>(values: &[T], compression: WriteCompression) -> Vec<u8> {
    match compression {
        WriteCompression::ByteOffset => byteoffset::encode(values),
        WriteCompression::None => {
            let mut out = Vec::with_capacity(values.len() * T::TYPE.size());
            for &v in values {
                v.put_le(&mut out);
            }
            out
        }
    }
}

/// Appends one `--CIF-BINARY-FORMAT-SECTION--` block (MIME header, marker, payload, padding,
/// closing line), without the surrounding `;` lines.
fn push_section(
    out: &mut Vec<u8>,
    binary_id: usize,
    element_type: ElementType,
    compression: WriteCompression,
    dims: &[usize],
    payload: &[u8],
) {
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(payload));
    let mut h = String::new();
    h.push_str("--CIF-BINARY-FORMAT-SECTION--\r\n");
    match compression {
        WriteCompression::ByteOffset => h.push_str(
            "Content-Type: application/octet-stream;\r\n     conversions=\"x-CBF_BYTE_OFFSET\"\r\n",
        ),
        WriteCompression::None => h.push_str("Content-Type: application/octet-stream\r\n"),
    }
    h.push_str("Content-Transfer-Encoding: BINARY\r\n");
    h.push_str(&format!("X-Binary-Size: {}\r\n", payload.len()));
    h.push_str(&format!("X-Binary-ID: {binary_id}\r\n"));
    h.push_str(&format!(
        "X-Binary-Element-Type: \"{}\"\r\n",
        element_type.cbf_name()
    ));
    h.push_str("X-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\n");
    h.push_str(&format!("Content-MD5: {md5}\r\n"));
    h.push_str(&format!(
        "X-Binary-Number-of-Elements: {}\r\n",
        dims.iter().product::<usize>()
    ));
    let names = ["Fastest", "Second", "Third"];
    for (d, name) in dims.iter().zip(names) {
        h.push_str(&format!("X-Binary-Size-{name}-Dimension: {d}\r\n"));
    }
    h.push_str(&format!("X-Binary-Size-Padding: {PADDING}\r\n\r\n"));
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(&crate::reader::MARKER);
    out.extend_from_slice(payload);
    out.resize(out.len() + PADDING, 0);
    out.extend_from_slice(b"\r\n--CIF-BINARY-FORMAT-SECTION----\r\n");
}

/// A CIF value: bare when possible, quoted when it has spaces, a text field when it spans
/// lines.
fn cif_value(v: &str) -> String {
    if v.contains('\n') {
        return format!("\r\n;\r\n{}\r\n;", v.replace('\n', "\r\n"));
    }
    let bare = !v.is_empty()
        && !v.contains([' ', '\t', '\'', '"'])
        && !v.starts_with(['_', '#', '$', ';', '[', ']'])
        && !v.to_ascii_lowercase().starts_with("data_")
        && !v.eq_ignore_ascii_case("loop_");
    if bare {
        v.to_string()
    } else if !v.contains('"') {
        format!("\"{v}\"")
    } else if !v.contains('\'') {
        format!("'{v}'")
    } else {
        format!("\r\n;\r\n{v}\r\n;")
    }
}

/// Writes Dectris-style miniCBF: `PILATUS_1.2` header lines in
/// `_array_data.header_contents`, one byte-offset section with `Content-MD5` and 4095 bytes of
/// padding, CRLF line ends — the layout Pilatus and Eiger detectors write.
#[derive(Debug, Clone)]
pub struct MiniCbfWriter {
    header: Header,
    data_block: String,
    magic: String,
}

impl MiniCbfWriter {
    /// A writer for frames with this header (typed fields and unknown lines are written).
    pub fn new(header: &Header) -> Self {
        MiniCbfWriter {
            header: header.clone(),
            data_block: header
                .data_block
                .clone()
                .unwrap_or_else(|| "image_1".to_string()),
            magic: MAGIC.to_string(),
        }
    }

    /// Sets the data block name (`data_<name>`).
    pub fn data_block(mut self, name: &str) -> Self {
        self.data_block = name.to_string();
        self
    }

    /// Writes one frame; `dims` is `[fast, slow]` (or `[fast]`, `[fast, mid, slow]`) and
    /// `pixels` holds them slowest index outermost.
    pub fn write<T: WriteElement>(&self, dims: &[usize], pixels: &[T]) -> Result<Vec<u8>> {
        check_dims(dims, pixels.len())?;
        let payload = encode(pixels, WriteCompression::ByteOffset);
        let mut out = Vec::with_capacity(payload.len() + PADDING + 4096);
        let name = self.data_block.replace(|c: char| c.is_whitespace(), "_");
        let mut text = format!("{}\r\n\r\ndata_{name}\r\n\r\n", self.magic);
        text.push_str("_array_data.header_convention \"PILATUS_1.2\"\r\n");
        text.push_str("_array_data.header_contents\r\n;\r\n");
        for line in self.header.minicbf_lines() {
            text.push_str(&line);
            text.push_str("\r\n");
        }
        text.push_str(";\r\n\r\n_array_data.data\r\n;\r\n");
        out.extend_from_slice(text.as_bytes());
        push_section(
            &mut out,
            1,
            T::TYPE,
            WriteCompression::ByteOffset,
            dims,
            &payload,
        );
        out.extend_from_slice(b";\r\n\r\n");
        Ok(out)
    }
}

struct ArrayOut {
    element_type: ElementType,
    compression: WriteCompression,
    dims: Vec<usize>,
    payload: Vec<u8>,
}

/// Writes generic imgCIF: free CIF items, `_array_structure` and `_array_structure_list`
/// loops describing each array, and one binary section per array.
#[derive(Default)]
pub struct ImgCifWriter {
    data_block: String,
    items: Vec<(String, String)>,
    header: Option<(String, String)>,
    arrays: Vec<ArrayOut>,
}

impl std::fmt::Debug for ImgCifWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImgCifWriter")
            .field("data_block", &self.data_block)
            .field("items", &self.items)
            .field("arrays", &self.arrays.len())
            .finish()
    }
}

impl ImgCifWriter {
    /// A writer for data block `data_<name>`.
    pub fn new(data_block: &str) -> Self {
        ImgCifWriter {
            data_block: data_block.replace(|c: char| c.is_whitespace(), "_"),
            ..Default::default()
        }
    }

    /// Adds a CIF item (`tag` with or without the leading `_`). Values are quoted as needed.
    pub fn item(&mut self, tag: &str, value: &str) -> &mut Self {
        let tag = if tag.starts_with('_') {
            tag.to_string()
        } else {
            format!("_{tag}")
        };
        self.items.push((tag, value.to_string()));
        self
    }

    /// Sets `_array_data.header_convention` and `_array_data.header_contents` (the header's
    /// miniCBF lines), written with every array.
    pub fn header(&mut self, convention: &str, header: &Header) -> &mut Self {
        self.header = Some((convention.to_string(), header.minicbf_lines().join("\n")));
        self
    }

    /// Adds an array (one binary section); `dims` fastest first, pixels slowest outermost.
    pub fn add_array<T: WriteElement>(
        &mut self,
        dims: &[usize],
        pixels: &[T],
        compression: WriteCompression,
    ) -> Result<&mut Self> {
        check_dims(dims, pixels.len())?;
        self.arrays.push(ArrayOut {
            element_type: T::TYPE,
            compression,
            dims: dims.to_vec(),
            payload: encode(pixels, compression),
        });
        Ok(self)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut t = format!("{MAGIC}\r\n\r\ndata_{}\r\n\r\n", self.data_block);
        for (tag, v) in &self.items {
            if v.contains('\n') {
                t.push_str(&format!("{tag}\r\n;\r\n{}", v.replace('\n', "\r\n")));
                if !v.ends_with('\n') {
                    t.push_str("\r\n");
                }
                t.push_str(";\r\n");
            } else {
                t.push_str(&format!("{tag} {}\r\n", cif_value(v)));
            }
        }
        t.push_str("\r\nloop_\r\n_array_structure.id\r\n_array_structure.encoding_type\r\n");
        t.push_str("_array_structure.compression_type\r\n_array_structure.byte_order\r\n");
        for (i, a) in self.arrays.iter().enumerate() {
            let c = match a.compression {
                WriteCompression::ByteOffset => "byte_offsets",
                WriteCompression::None => "none",
            };
            t.push_str(&format!(
                "ARRAY{} \"{}\" {c} little_endian\r\n",
                i + 1,
                a.element_type.cbf_name()
            ));
        }
        t.push_str(
            "\r\nloop_\r\n_array_structure_list.array_id\r\n_array_structure_list.index\r\n",
        );
        t.push_str("_array_structure_list.dimension\r\n_array_structure_list.precedence\r\n");
        t.push_str("_array_structure_list.direction\r\n");
        for (i, a) in self.arrays.iter().enumerate() {
            for (k, d) in a.dims.iter().enumerate() {
                t.push_str(&format!(
                    "ARRAY{} {} {d} {} increasing\r\n",
                    i + 1,
                    k + 1,
                    k + 1
                ));
            }
        }
        // `_array_data`: items for one array (the miniCBF shape fabio expects), a loop for
        // several (fabio reads only single-array files; cbflib reads both).
        let contents = self.header.as_ref().map(|(conv, text)| {
            (
                cif_value(conv),
                format!("\r\n;\r\n{}\r\n;", text.replace('\n', "\r\n")),
            )
        });
        let mut out;
        if let [a] = self.arrays.as_slice() {
            if let Some((conv, text)) = &contents {
                t.push_str(&format!("\r\n_array_data.header_convention {conv}\r\n"));
                t.push_str(&format!("_array_data.header_contents{text}\r\n"));
            }
            t.push_str("\r\n_array_data.array_id ARRAY1\r\n_array_data.binary_id 1\r\n");
            t.push_str("_array_data.data\r\n;\r\n");
            out = t.into_bytes();
            push_section(
                &mut out,
                1,
                a.element_type,
                a.compression,
                &a.dims,
                &a.payload,
            );
            out.extend_from_slice(b";\r\n");
        } else {
            t.push_str("\r\nloop_\r\n_array_data.array_id\r\n_array_data.binary_id\r\n");
            if contents.is_some() {
                t.push_str("_array_data.header_convention\r\n_array_data.header_contents\r\n");
            }
            t.push_str("_array_data.data\r\n");
            out = t.into_bytes();
            for (i, a) in self.arrays.iter().enumerate() {
                out.extend_from_slice(format!("ARRAY{} {}", i + 1, i + 1).as_bytes());
                if let Some((conv, text)) = &contents {
                    out.extend_from_slice(format!(" {conv}{text}").as_bytes());
                }
                out.extend_from_slice(b"\r\n;\r\n");
                push_section(
                    &mut out,
                    i + 1,
                    a.element_type,
                    a.compression,
                    &a.dims,
                    &a.payload,
                );
                out.extend_from_slice(b";\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}
