//! The reader: [`CbfFile`] (header + binary sections found in the bytes) and [`Section`]
//! (one binary section: MIME header, dimensions, borrowed payload, decoders).

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use md5::{Digest, Md5};

use crate::error::{Error, ErrorKind, Result};
use crate::header::{Header, StructureDims};
use crate::mime::{ByteOrder, Compression, ElementType, MimeHeader, TransferEncoding};
use crate::packed::{self, PackedError, PackedParams};

/// Start of a binary section's MIME header.
pub const SECTION_START: &[u8] = b"--CIF-BINARY-FORMAT-SECTION--";
/// End of a binary section (after the payload and its padding).
pub const SECTION_END: &[u8] = b"--CIF-BINARY-FORMAT-SECTION----";
/// The binary start marker that precedes each payload.
pub const MARKER: [u8; 4] = [0x0C, 0x1A, 0x04, 0xD5];

/// Longest MIME header accepted (bytes between the section start line and the marker).
const MAX_MIME_HEADER: usize = 64 * 1024;

/// Most dimensions of one array (images have 2, stacks 3; every section keeps its own).
const MAX_RANK: usize = 16;

/// Sizes a file may ask for before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most elements in one section (default 2^28, 1 GiB of i32).
    pub max_elements: u64,
    /// Most bytes in a file (after gzip decompression) and in one decoded section
    /// (default 2 GiB).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements: 1 << 28,
            max_bytes: 2 << 30,
        }
    }
}

/// Options for reading a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Check every section's `Content-MD5` while opening (off by default: it costs a pass over
    /// the payload). A mismatch is an [`ErrorKind::Md5Mismatch`] error.
    pub verify_md5: bool,
    /// Size limits.
    pub limits: Limits,
}

impl ReadOptions {
    /// Default options: no MD5 check, default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`ReadOptions::verify_md5`].
    pub fn verify_md5(mut self, on: bool) -> Self {
        self.verify_md5 = on;
        self
    }

    /// Sets [`Limits::max_elements`].
    pub fn max_elements(mut self, n: u64) -> Self {
        self.limits.max_elements = n;
        self
    }

    /// Sets [`Limits::max_bytes`].
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.limits.max_bytes = n;
        self
    }
}

/// Where the bytes live: borrowed from the caller, memory-mapped, or owned (gzip input).
#[derive(Debug, Clone)]
enum Storage<'a> {
    Borrowed(&'a [u8]),
    Mapped(Arc<memmap2::Mmap>),
    Owned(Arc<Vec<u8>>),
}

impl Storage<'_> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Borrowed(b) => b,
            Storage::Mapped(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

/// A parsed CBF file: its text header and its binary sections. Payloads are not copied:
/// they are slices of the caller's bytes, of a memory map, or of the decompressed gzip data.
///
/// ```no_run
/// use cbf_format::{CbfFile, ReadOptions};
/// let file = CbfFile::open("frame_00001.cbf", &ReadOptions::default())?;
/// let section = &file.sections()[0];
/// let mut pixels = vec![0i32; section.element_count()];
/// section.decode_into_i32(&mut pixels)?;
/// println!("{:?} {:?} flux {:?}", section.dims(), section.element_type(), file.header().flux);
/// # Ok::<(), cbf_format::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CbfFile<'a> {
    storage: Storage<'a>,
    path: Option<PathBuf>,
    gzip: bool,
    header: Header,
    sections: Vec<Section<'a>>,
}

/// One binary section.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    storage: Storage<'a>,
    path: Option<PathBuf>,
    index: usize,
    mime: MimeHeader,
    dims: Vec<usize>,
    elements: usize,
    payload: Range<usize>,
    header_offset: usize,
    complete: bool,
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(bytes).take(limit.saturating_add(1));
    dec.read_to_end(&mut out)
        .map_err(|_| Error::new(ErrorKind::Gzip))?;
    if out.len() as u64 > limit {
        return Err(Error::new(ErrorKind::LimitExceeded {
            what: "bytes",
            requested: out.len() as u64,
            limit,
        }));
    }
    Ok(out)
}

/// Index of the first `byte` in `hay`, tested eight bytes at a time.
fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(byte);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Bytes equal to `byte` become zero; the lowest flagged byte is the first zero one
        // (flags above a zero byte may be false, the lowest is exact).
        let x = u64::from_le_bytes(word) ^ pattern;
        let zero = x.wrapping_sub(ONES) & !x & HIGH;
        if zero != 0 {
            return Some(base + zero.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == byte)
        .map(|p| base + p)
}

/// First position at or after `from` where `needle` occurs in `hay`.
///
/// Candidates are found by the needle's first byte, eight bytes at a time, and only there
/// is the rest compared: comparing a window at every position costs a `memcmp` call per
/// byte of input, which dominated parsing (and, intercepted by a fuzzer's comparison
/// tracing, made each input about ten times slower).
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let hay = hay.get(from..)?;
    let last = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last {
        i += find_byte(&hay[i..=last], first)?;
        if hay[i + 1..i + needle.len()] == *rest {
            return Some(from + i);
        }
        i += 1;
    }
    None
}

/// Position just after the line that contains `pos` (after its `\n`), or the end.
fn next_line(bytes: &[u8], pos: usize) -> usize {
    match bytes[pos.min(bytes.len())..]
        .iter()
        .position(|&b| b == b'\n')
    {
        Some(p) => pos + p + 1,
        None => bytes.len(),
    }
}

/// Finds the next section start: `--CIF-BINARY-FORMAT-SECTION--` not followed by `--`
/// (which would be a section end).
fn find_section_start(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(p) = find(bytes, SECTION_START, at) {
        if bytes[p + SECTION_START.len()..].starts_with(b"--") {
            at = p + SECTION_END.len();
            continue;
        }
        return Some(p);
    }
    None
}

/// The raw layout of one section, before the header-dependent parts.
struct RawSection {
    header_offset: usize,
    mime: MimeHeader,
    payload: Range<usize>,
    complete: bool,
}

/// Scans the bytes for binary sections; with `full`, collects the CIF text around them and
/// keeps every MIME header line (a completeness check needs neither). With `lenient`, a
/// payload that runs past the end is clipped and marked incomplete instead of failing.
fn scan(bytes: &[u8], lenient: bool, full: bool) -> Result<(Vec<RawSection>, String)> {
    let mut sections = Vec::new();
    let mut text = String::new();
    let mut pos = 0;
    while let Some(start) = find_section_start(bytes, pos) {
        if full {
            text.push_str(&String::from_utf8_lossy(&bytes[pos..start]));
            text.push('\n');
        }
        let header_offset = next_line(bytes, start);
        let search_end = (header_offset + MAX_MIME_HEADER).min(bytes.len());
        let marker = find(&bytes[..search_end], &MARKER, header_offset).ok_or_else(|| {
            Error::at(ErrorKind::MissingMarker, start).with_section(sections.len())
        })?;
        let mime_text = String::from_utf8_lossy(&bytes[header_offset..marker]);
        let mime = MimeHeader::parse_lines(&mime_text, full)
            .map_err(|k| Error::at(k, header_offset).with_section(sections.len()))?;
        let data_start = marker + MARKER.len();
        let available = (bytes.len() - data_start) as u64;
        let (data_end, mut complete) = if mime.binary_size <= available {
            (data_start + mime.binary_size as usize, true)
        } else if lenient {
            (bytes.len(), false)
        } else {
            return Err(Error::at(
                ErrorKind::Truncated {
                    needed: mime.binary_size,
                    available,
                },
                data_start,
            )
            .with_section(sections.len()));
        };
        // The section ends with SECTION_END, right after the data (XDS) or after the padding.
        let text_resume = match find(bytes, SECTION_END, data_end) {
            Some(e) => next_line(bytes, e),
            None => {
                complete = false;
                bytes.len()
            }
        };
        sections.push(RawSection {
            header_offset,
            mime,
            payload: data_start..data_end,
            complete,
        });
        pos = text_resume;
        if !complete {
            break;
        }
    }
    if full && pos < bytes.len() {
        text.push_str(&String::from_utf8_lossy(&bytes[pos..]));
    }
    Ok((sections, text))
}

impl<'a> CbfFile<'a> {
    /// Parses CBF bytes with default options. Gzip-compressed bytes are decompressed (then
    /// owned by the returned file).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<CbfFile<'a>> {
        Self::from_bytes_with(bytes, &ReadOptions::default())
    }

    /// Parses CBF bytes with the given options.
    pub fn from_bytes_with(bytes: &'a [u8], opts: &ReadOptions) -> Result<CbfFile<'a>> {
        if is_gzip(bytes) {
            let v = gunzip(bytes, opts.limits.max_bytes)?;
            return Self::parse(Storage::Owned(Arc::new(v)), None, true, opts);
        }
        Self::parse(Storage::Borrowed(bytes), None, false, opts)
    }

    /// The bytes this file was read into, for [`CbfFile::open_reusing`] to read the next file
    /// into: `None` when the file was borrowed or mapped, or when a [`Section`] of it is
    /// still alive elsewhere.
    pub fn into_buffer(self) -> Option<Vec<u8>> {
        let CbfFile {
            storage, sections, ..
        } = self;
        drop(sections);
        match storage {
            Storage::Owned(v) => Arc::try_unwrap(v).ok(),
            Storage::Borrowed(_) | Storage::Mapped(_) => None,
        }
    }

    fn parse(
        storage: Storage<'a>,
        path: Option<PathBuf>,
        gzip: bool,
        opts: &ReadOptions,
    ) -> Result<CbfFile<'a>> {
        let result = Self::parse_inner(storage, path.clone(), gzip, opts);
        match (result, &path) {
            (Err(e), Some(p)) => Err(e.with_path(p)),
            (r, _) => r,
        }
    }

    fn parse_inner(
        storage: Storage<'a>,
        path: Option<PathBuf>,
        gzip: bool,
        opts: &ReadOptions,
    ) -> Result<CbfFile<'a>> {
        let bytes = storage.bytes();
        if bytes.len() as u64 > opts.limits.max_bytes {
            return Err(Error::new(ErrorKind::LimitExceeded {
                what: "bytes",
                requested: bytes.len() as u64,
                limit: opts.limits.max_bytes,
            }));
        }
        let (raw, text) = scan(bytes, false, true)?;
        if raw.is_empty() {
            return Err(Error::new(ErrorKind::NoBinarySection));
        }
        let header = Header::parse_cif(&text);
        let structure_dims = header.structure_dims_index();
        let mut sections = Vec::with_capacity(raw.len());
        for (index, r) in raw.into_iter().enumerate() {
            let (dims, elements) = section_shape(&r.mime, &structure_dims, &opts.limits)
                .map_err(|k| Error::at(k, r.header_offset).with_section(index))?;
            let s = Section {
                storage: storage.clone(),
                path: path.clone(),
                index,
                mime: r.mime,
                dims,
                elements,
                payload: r.payload,
                header_offset: r.header_offset,
                complete: r.complete,
            };
            if opts.verify_md5 {
                s.verify_md5()?;
            }
            sections.push(s);
        }
        Ok(CbfFile {
            storage,
            path,
            gzip,
            header,
            sections,
        })
    }

    /// Whether `bytes` hold a whole CBF file: at least one binary section, every section's
    /// start marker and full payload present, and each section's closing
    /// `--CIF-BINARY-FORMAT-SECTION----` line written. For a watcher that waits until a
    /// detector has finished writing a frame. Gzip bytes are complete when they decompress to
    /// a complete file.
    pub fn is_complete(bytes: &[u8]) -> bool {
        if is_gzip(bytes) {
            return match gunzip(bytes, Limits::default().max_bytes) {
                Ok(v) => Self::is_complete(&v),
                Err(_) => false,
            };
        }
        match scan(bytes, true, false) {
            Ok((sections, _)) => !sections.is_empty() && sections.iter().all(|s| s.complete),
            Err(_) => false,
        }
    }

    /// The text header (CIF items and miniCBF lines).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The binary sections, in file order.
    pub fn sections(&self) -> &[Section<'a>] {
        &self.sections
    }

    /// Section `index`, or [`ErrorKind::NoSuchSection`].
    pub fn section(&self, index: usize) -> Result<&Section<'a>> {
        self.sections.get(index).ok_or_else(|| {
            let e = Error::new(ErrorKind::NoSuchSection {
                index,
                count: self.sections.len(),
            });
            match &self.path {
                Some(p) => e.with_path(p),
                None => e,
            }
        })
    }

    /// The (decompressed) CBF bytes.
    pub fn bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    /// The path the file was opened from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the input was gzip-compressed.
    pub fn was_gzip(&self) -> bool {
        self.gzip
    }
}

/// Files up to this size are read into memory; larger ones are memory-mapped.
const READ_LIMIT: u64 = 64 << 20;

impl CbfFile<'static> {
    /// Opens a file: reads it (up to 64 MiB) or memory-maps it (larger files), and decompresses
    /// it when it is gzip (`.cbf.gz`, recognised by its magic bytes).
    pub fn open(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<CbfFile<'static>> {
        Self::open_reading_up_to(path.as_ref(), opts, READ_LIMIT, Vec::new())
    }

    /// [`CbfFile::open`] reading into `buffer` (its contents are discarded, its capacity
    /// reused): a reader that opens frame after frame passes back the buffer of the previous
    /// file ([`CbfFile::into_buffer`]) and its memory is not allocated, faulted in and freed
    /// again for every frame.
    ///
    /// ```no_run
    /// use cbf_format::{CbfFile, ReadOptions};
    /// let opts = ReadOptions::default();
    /// let mut buffer = Vec::new();
    /// for path in ["scan_00001.cbf", "scan_00002.cbf"] {
    ///     let file = CbfFile::open_reusing(path, &opts, buffer)?;
    ///     println!("{}: {} sections", path, file.sections().len());
    ///     buffer = file.into_buffer().unwrap_or_default();
    /// }
    /// # Ok::<(), cbf_format::Error>(())
    /// ```
    pub fn open_reusing(
        path: impl AsRef<Path>,
        opts: &ReadOptions,
        buffer: Vec<u8>,
    ) -> Result<CbfFile<'static>> {
        Self::open_reading_up_to(path.as_ref(), opts, READ_LIMIT, buffer)
    }

    /// [`CbfFile::open`], reading files up to `read_limit` bytes (into `buffer`) and mapping
    /// larger ones.
    fn open_reading_up_to(
        path: &Path,
        opts: &ReadOptions,
        read_limit: u64,
        mut buffer: Vec<u8>,
    ) -> Result<CbfFile<'static>> {
        let io = |e: std::io::Error| Error::new(ErrorKind::Io(e)).with_path(path);
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > opts.limits.max_bytes {
            return Err(Error::new(ErrorKind::LimitExceeded {
                what: "bytes",
                requested: len,
                limit: opts.limits.max_bytes,
            })
            .with_path(path));
        }
        let storage = if len == 0 {
            Storage::Owned(Arc::new(Vec::new()))
        } else if len <= read_limit {
            // A detector frame (a few MB): one read into the heap costs less than mapping it
            // (page faults on first touch, and an unmap that interrupts every other core).
            // At most the length seen above, as with a map, even if the file is still growing.
            buffer.clear();
            buffer.reserve(len as usize);
            (&file).take(len).read_to_end(&mut buffer).map_err(io)?;
            Storage::Owned(Arc::new(buffer))
        } else {
            Storage::Mapped(Arc::new(map_file(&file).map_err(io)?))
        };
        if is_gzip(storage.bytes()) {
            let v =
                gunzip(storage.bytes(), opts.limits.max_bytes).map_err(|e| e.with_path(path))?;
            return Self::parse(
                Storage::Owned(Arc::new(v)),
                Some(path.to_path_buf()),
                true,
                opts,
            );
        }
        Self::parse(storage, Some(path.to_path_buf()), false, opts)
    }

    /// Parses owned bytes (gzip or plain).
    pub fn from_vec(bytes: Vec<u8>, opts: &ReadOptions) -> Result<CbfFile<'static>> {
        if is_gzip(&bytes) {
            let v = gunzip(&bytes, opts.limits.max_bytes)?;
            return Self::parse(Storage::Owned(Arc::new(v)), None, true, opts);
        }
        Self::parse(Storage::Owned(Arc::new(bytes)), None, false, opts)
    }
}

/// Dimensions (fastest first) and element count of a section, checked against the limits.
fn section_shape(
    mime: &MimeHeader,
    structure_dims: &StructureDims<'_>,
    limits: &Limits,
) -> Result<(Vec<usize>, usize), ErrorKind> {
    let mut dims = mime.dims();
    if dims.is_empty() {
        let from_list = structure_dims.get(mime.binary_id);
        if from_list.len() > MAX_RANK {
            return Err(ErrorKind::LimitExceeded {
                what: "dimensions",
                requested: from_list.len() as u64,
                limit: MAX_RANK as u64,
            });
        }
        dims = from_list.to_vec();
    }
    let product = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    let elements = match (mime.number_of_elements, product) {
        (Some(n), _) => n,
        (None, Some(p)) if !dims.is_empty() => p,
        _ => {
            // No count and no dims: uncompressed data tells its count by its size.
            if mime.compression == Compression::None {
                mime.binary_size / mime.element_type.size() as u64
            } else {
                return Err(ErrorKind::MissingMimeField("X-Binary-Number-of-Elements"));
            }
        }
    };
    if elements > limits.max_elements {
        return Err(ErrorKind::LimitExceeded {
            what: "elements",
            requested: elements,
            limit: limits.max_elements,
        });
    }
    if dims.is_empty() {
        dims.push(elements);
    }
    if product != Some(elements) {
        return Err(ErrorKind::DimensionMismatch {
            product: product.unwrap_or(u64::MAX),
            elements,
            dims,
        });
    }
    let decoded_bytes = elements.saturating_mul(mime.element_type.size() as u64);
    if decoded_bytes > limits.max_bytes {
        return Err(ErrorKind::LimitExceeded {
            what: "bytes",
            requested: decoded_bytes,
            limit: limits.max_bytes,
        });
    }
    if mime.compression == Compression::None && decoded_bytes > mime.binary_size {
        return Err(ErrorKind::PayloadSize {
            bytes: mime.binary_size,
            elements,
            element_size: mime.element_type.size() as u64,
        });
    }
    // Every compressed element takes at least one bit (byte-offset: one byte).
    if mime.compression == Compression::ByteOffset && elements > mime.binary_size {
        return Err(ErrorKind::PayloadSize {
            bytes: mime.binary_size,
            elements,
            element_size: 1,
        });
    }
    Ok((
        dims.into_iter().map(|d| d as usize).collect(),
        elements as usize,
    ))
}

/// The pixels of a section in the file's own element type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Pixels {
    /// signed 8-bit
    I8(Vec<i8>),
    /// unsigned 8-bit
    U8(Vec<u8>),
    /// signed 16-bit
    I16(Vec<i16>),
    /// unsigned 16-bit
    U16(Vec<u16>),
    /// signed 32-bit
    I32(Vec<i32>),
    /// unsigned 32-bit
    U32(Vec<u32>),
    /// signed 64-bit
    I64(Vec<i64>),
    /// unsigned 64-bit
    U64(Vec<u64>),
    /// 32-bit real
    F32(Vec<f32>),
    /// 64-bit real
    F64(Vec<f64>),
}

impl Pixels {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Pixels::I8(v) => v.len(),
            Pixels::U8(v) => v.len(),
            Pixels::I16(v) => v.len(),
            Pixels::U16(v) => v.len(),
            Pixels::I32(v) => v.len(),
            Pixels::U32(v) => v.len(),
            Pixels::I64(v) => v.len(),
            Pixels::U64(v) => v.len(),
            Pixels::F32(v) => v.len(),
            Pixels::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn element_type(&self) -> ElementType {
        match self {
            Pixels::I8(_) => ElementType::I8,
            Pixels::U8(_) => ElementType::U8,
            Pixels::I16(_) => ElementType::I16,
            Pixels::U16(_) => ElementType::U16,
            Pixels::I32(_) => ElementType::I32,
            Pixels::U32(_) => ElementType::U32,
            Pixels::I64(_) => ElementType::I64,
            Pixels::U64(_) => ElementType::U64,
            Pixels::F32(_) => ElementType::F32,
            Pixels::F64(_) => ElementType::F64,
        }
    }

    /// The elements as little-endian bytes, in order.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        macro_rules! le {
            ($v:expr) => {
                $v.iter().flat_map(|x| x.to_le_bytes()).collect()
            };
        }
        match self {
            Pixels::I8(v) => le!(v),
            Pixels::U8(v) => v.clone(),
            Pixels::I16(v) => le!(v),
            Pixels::U16(v) => le!(v),
            Pixels::I32(v) => le!(v),
            Pixels::U32(v) => le!(v),
            Pixels::I64(v) => le!(v),
            Pixels::U64(v) => le!(v),
            Pixels::F32(v) => le!(v),
            Pixels::F64(v) => le!(v),
        }
    }

    /// Integer pixels widened to i64 (`None` for reals or u64 values above `i64::MAX`).
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        Some(match self {
            Pixels::I8(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::U8(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::I16(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::U16(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::I32(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::U32(v) => v.iter().map(|&x| x.into()).collect(),
            Pixels::I64(v) => v.clone(),
            Pixels::U64(v) => v
                .iter()
                .map(|&x| i64::try_from(x).ok())
                .collect::<Option<Vec<_>>>()?,
            Pixels::F32(_) | Pixels::F64(_) => return None,
        })
    }
}

/// Whether the MD5 of a section matches its `Content-MD5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Md5Status {
    /// No `Content-MD5` line.
    Absent,
    /// The digest matches the payload.
    Ok,
    /// The digest does not match the payload.
    Mismatch,
}

/// An element type that sections decode to directly.
trait Decodable: Copy + Default + byteoffset::Element {}
impl Decodable for i8 {}
impl Decodable for u8 {}
impl Decodable for i16 {}
impl Decodable for u16 {}
impl Decodable for i32 {}
impl Decodable for u32 {}
impl Decodable for i64 {}
impl Decodable for u64 {}

impl<'a> Section<'a> {
    fn err(&self, kind: ErrorKind) -> Error {
        let e = Error::at(kind, self.payload.start).with_section(self.index);
        match &self.path {
            Some(p) => e.with_path(p),
            None => e,
        }
    }

    /// Index of the section in the file (0-based).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The MIME header.
    pub fn mime(&self) -> &MimeHeader {
        &self.mime
    }

    /// Dimensions, fastest first (`[fast, slow]` for an image; `[fast, mid, slow]` for 3-D).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Number of elements.
    pub fn element_count(&self) -> usize {
        self.elements
    }

    /// The element type.
    pub fn element_type(&self) -> ElementType {
        self.mime.element_type
    }

    /// The compression.
    pub fn compression(&self) -> &Compression {
        &self.mime.compression
    }

    /// The compressed payload (the `X-Binary-Size` bytes after the start marker), borrowed.
    pub fn payload(&self) -> &[u8] {
        &self.storage.bytes()[self.payload.clone()]
    }

    /// Byte offset of the payload in the (decompressed) CBF bytes.
    pub fn payload_offset(&self) -> usize {
        self.payload.start
    }

    /// Byte offset of the MIME header.
    pub fn header_offset(&self) -> usize {
        self.header_offset
    }

    /// Whether the closing `--CIF-BINARY-FORMAT-SECTION----` line was found.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Base64 MD5 of the payload.
    pub fn computed_md5(&self) -> String {
        let digest = Md5::digest(self.payload());
        base64::engine::general_purpose::STANDARD.encode(digest)
    }

    /// Compares `Content-MD5` with the payload's digest.
    pub fn md5_status(&self) -> Md5Status {
        match &self.mime.content_md5 {
            None => Md5Status::Absent,
            Some(expected) if *expected == self.computed_md5() => Md5Status::Ok,
            Some(_) => Md5Status::Mismatch,
        }
    }

    /// Checks `Content-MD5` (a section without one passes).
    pub fn verify_md5(&self) -> Result<()> {
        if let Some(expected) = &self.mime.content_md5 {
            let computed = self.computed_md5();
            if *expected != computed {
                return Err(self.err(ErrorKind::Md5Mismatch {
                    expected: expected.clone(),
                    computed,
                }));
            }
        }
        Ok(())
    }

    fn check_decodable(&self) -> Result<()> {
        if let TransferEncoding::Other(name) = &self.mime.transfer_encoding {
            return Err(self.err(ErrorKind::Unsupported {
                what: "transfer encoding",
                name: name.clone(),
            }));
        }
        if let Compression::Other(name) = &self.mime.compression {
            return Err(self.err(ErrorKind::Unsupported {
                what: "compression",
                name: name.clone(),
            }));
        }
        if self.mime.byte_order == ByteOrder::BigEndian
            && self.mime.compression != Compression::None
        {
            return Err(self.err(ErrorKind::Unsupported {
                what: "byte order with compression",
                name: format!("BIG_ENDIAN with {}", self.mime.compression),
            }));
        }
        Ok(())
    }

    /// Decodes into `out`, whose element type must be the section's.
    fn decode_native<T: Decodable + MaybePacked>(&self, out: &mut [T]) -> Result<()> {
        self.check_decodable()?;
        if out.len() != self.elements {
            return Err(self.err(ErrorKind::OutputSize {
                expected: self.elements as u64,
                actual: out.len() as u64,
            }));
        }
        let payload = self.payload();
        match &self.mime.compression {
            Compression::None => {
                let size = T::SIZE;
                let needed = self.elements * size;
                let raw = payload.get(..needed).ok_or_else(|| {
                    self.err(ErrorKind::Truncated {
                        needed: needed as u64,
                        available: payload.len() as u64,
                    })
                })?;
                let big = self.mime.byte_order == ByteOrder::BigEndian;
                for (o, chunk) in out.iter_mut().zip(raw.chunks_exact(size)) {
                    *o = T::from_bytes(chunk, big);
                }
                Ok(())
            }
            Compression::ByteOffset => match T::decode_byte_offset(payload, out) {
                // cbflib ignores bytes after the last element; so do we.
                Ok(()) | Err(byteoffset::Error::TrailingBytes { .. }) => Ok(()),
                Err(e) => Err(self.err(ErrorKind::ByteOffset(e))),
            },
            Compression::Packed(flags) | Compression::PackedV2(flags) => {
                let v2 = matches!(self.mime.compression, Compression::PackedV2(_));
                let mime_dims = self.mime.dims();
                let mut d = [1usize; 3];
                for (i, &v) in mime_dims.iter().take(3).enumerate() {
                    d[i] = (v as usize).max(1);
                }
                if mime_dims.is_empty() {
                    d[0] = self.elements.max(1);
                }
                if d[0].saturating_mul(d[1]).saturating_mul(d[2]) != self.elements {
                    return Err(self.err(ErrorKind::DimensionMismatch {
                        dims: mime_dims,
                        product: (d[0] as u64)
                            .saturating_mul(d[1] as u64)
                            .saturating_mul(d[2] as u64),
                        elements: self.elements as u64,
                    }));
                }
                let params = PackedParams {
                    v2,
                    flags: *flags,
                    have_dims: !mime_dims.is_empty(),
                    dims: d,
                };
                T::decode_packed(payload, params, out).map_err(|e| match e {
                    Some(PackedError::Truncated(n)) => self.err(ErrorKind::PackedTruncated {
                        decoded: n as u64,
                        expected: self.elements as u64,
                    }),
                    None => self.err(ErrorKind::Unsupported {
                        what: "element type with packed compression",
                        name: self.mime.element_type.cbf_name().to_string(),
                    }),
                })
            }
            Compression::Other(_) => unreachable!("rejected by check_decodable"),
        }
    }

    fn decode_vec<T: Decodable + MaybePacked>(&self) -> Result<Vec<T>> {
        let mut v = vec![T::default(); self.elements];
        self.decode_native(&mut v)?;
        Ok(v)
    }

    /// Decodes the pixels into `out` as i32 (the pipeline's hot path: no allocation when the
    /// file's element type is signed 32-bit). `out.len()` must equal
    /// [`Section::element_count`]. Other integer types are converted; a value that does not
    /// fit i32 (or real data) is an [`ErrorKind::ValueOutOfRange`] error.
    pub fn decode_into_i32(&self, out: &mut [i32]) -> Result<()> {
        if self.mime.element_type == ElementType::I32 {
            return self.decode_native(out);
        }
        if out.len() != self.elements {
            return Err(self.err(ErrorKind::OutputSize {
                expected: self.elements as u64,
                actual: out.len() as u64,
            }));
        }
        macro_rules! convert {
            ($t:ty) => {{
                let v: Vec<$t> = self.decode_vec()?;
                for (i, (o, x)) in out.iter_mut().zip(v).enumerate() {
                    *o = i32::try_from(x)
                        .map_err(|_| self.err(ErrorKind::ValueOutOfRange { index: i as u64 }))?;
                }
                Ok(())
            }};
        }
        match self.mime.element_type {
            ElementType::I8 => convert!(i8),
            ElementType::U8 => convert!(u8),
            ElementType::I16 => convert!(i16),
            ElementType::U16 => convert!(u16),
            ElementType::I32 => unreachable!("handled above"),
            ElementType::U32 => convert!(u32),
            ElementType::I64 => convert!(i64),
            ElementType::U64 => convert!(u64),
            ElementType::F32 | ElementType::F64 => {
                Err(self.err(ErrorKind::ValueOutOfRange { index: 0 }))
            }
        }
    }

    /// Decodes the pixels as a new i32 vector (see [`Section::decode_into_i32`]).
    pub fn decode_i32(&self) -> Result<Vec<i32>> {
        let mut v = vec![0i32; self.elements];
        self.decode_into_i32(&mut v)?;
        Ok(v)
    }

    /// Decodes integer pixels widened to i64 (u64 values above `i64::MAX` and real data are
    /// [`ErrorKind::ValueOutOfRange`] errors).
    pub fn decode_i64(&self) -> Result<Vec<i64>> {
        match self.decode()?.to_i64() {
            Some(v) => Ok(v),
            None => Err(self.err(ErrorKind::ValueOutOfRange { index: 0 })),
        }
    }

    /// Decodes the pixels in the file's own element type.
    pub fn decode(&self) -> Result<Pixels> {
        Ok(match self.mime.element_type {
            ElementType::I8 => Pixels::I8(self.decode_vec()?),
            ElementType::U8 => Pixels::U8(self.decode_vec()?),
            ElementType::I16 => Pixels::I16(self.decode_vec()?),
            ElementType::U16 => Pixels::U16(self.decode_vec()?),
            ElementType::I32 => Pixels::I32(self.decode_vec()?),
            ElementType::U32 => Pixels::U32(self.decode_vec()?),
            ElementType::I64 => Pixels::I64(self.decode_vec()?),
            ElementType::U64 => Pixels::U64(self.decode_vec()?),
            ElementType::F32 => Pixels::F32(self.decode_real(4, |b, big| {
                let a = [b[0], b[1], b[2], b[3]];
                if big {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                }
            })?),
            ElementType::F64 => Pixels::F64(self.decode_real(8, |b, big| {
                let a = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
                if big {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                }
            })?),
        })
    }

    fn decode_real<T>(&self, size: usize, conv: impl Fn(&[u8], bool) -> T) -> Result<Vec<T>> {
        self.check_decodable()?;
        if self.mime.compression != Compression::None {
            return Err(self.err(ErrorKind::Unsupported {
                what: "compression of real data",
                name: self.mime.compression.name().to_string(),
            }));
        }
        let payload = self.payload();
        let needed = self.elements * size;
        let raw = payload.get(..needed).ok_or_else(|| {
            self.err(ErrorKind::Truncated {
                needed: needed as u64,
                available: payload.len() as u64,
            })
        })?;
        let big = self.mime.byte_order == ByteOrder::BigEndian;
        Ok(raw.chunks_exact(size).map(|c| conv(c, big)).collect())
    }
}

/// Raw-bytes conversion, byte-offset and packed decoding per element type.
trait MaybePacked: Sized {
    fn from_bytes(b: &[u8], big: bool) -> Self;
    /// Byte-offset decoding with cbflib's semantics (deltas wrap at the element width).
    fn decode_byte_offset(payload: &[u8], out: &mut [Self]) -> Result<(), byteoffset::Error>;
    /// `Err(None)`: packed decoding is not available for this width.
    fn decode_packed(
        payload: &[u8],
        params: PackedParams,
        out: &mut [Self],
    ) -> Result<(), Option<PackedError>>;
}

macro_rules! maybe_packed {
    (@common $t:ty, $bo:ident) => {
        fn from_bytes(b: &[u8], big: bool) -> Self {
            let mut a = [0u8; std::mem::size_of::<$t>()];
            a.copy_from_slice(b);
            if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
        }
        fn decode_byte_offset(payload: &[u8], out: &mut [Self]) -> Result<(), byteoffset::Error> {
            maybe_packed!(@bo $t, $bo, payload, out)
        }
    };
    // The fast decoder writes this type directly.
    (@bo $t:ty, direct, $payload:ident, $out:ident) => {
        byteoffset::decode_into::<$t>($payload, $out)
    };
    // Decode at 32 bits and truncate: sums of deltas modulo 2^32, truncated, are the sums
    // modulo the element width, i.e. cbflib's wrapping at the element width.
    (@bo $t:ty, via32, $payload:ident, $out:ident) => {{
        let mut wide = vec![0u32; $out.len()];
        let r = byteoffset::decode_into::<u32>($payload, &mut wide);
        for (o, w) in $out.iter_mut().zip(&wide) {
            *o = *w as $t;
        }
        r
    }};
    (@bo $t:ty, via64, $payload:ident, $out:ident) => {{
        let mut wide = vec![0i64; $out.len()];
        let r = byteoffset::decode_into::<i64>($payload, &mut wide);
        for (o, w) in $out.iter_mut().zip(&wide) {
            *o = *w as $t;
        }
        r
    }};
    ($t:ty, $bo:ident, packed) => {
        impl MaybePacked for $t {
            maybe_packed!(@common $t, $bo);
            fn decode_packed(
                payload: &[u8],
                params: PackedParams,
                out: &mut [Self],
            ) -> Result<(), Option<PackedError>> {
                packed::decode(payload, params, out).map_err(Some)
            }
        }
    };
    ($t:ty, $bo:ident) => {
        impl MaybePacked for $t {
            maybe_packed!(@common $t, $bo);
            fn decode_packed(_: &[u8], _: PackedParams, _: &mut [Self]) -> Result<(), Option<PackedError>> {
                Err(None)
            }
        }
    };
}
maybe_packed!(i8, via32, packed);
maybe_packed!(u8, via32, packed);
maybe_packed!(i16, via32, packed);
maybe_packed!(u16, via32, packed);
maybe_packed!(i32, direct, packed);
maybe_packed!(u32, direct, packed);
maybe_packed!(i64, direct);
maybe_packed!(u64, via64);

/// Maps a whole file read-only: the crate's only `unsafe` code.
#[allow(unsafe_code)]
fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: memmap2 maps are unsafe because another process may change the file while it
    // is mapped. Detector files are written once and then only read; a file still being
    // written is handled by `is_complete`, and every access to the map is bounds-checked
    // against the length taken at mapping time.
    unsafe { memmap2::Mmap::map(file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sections without MIME dimensions take theirs from `_array_structure_list` (read once
    /// for all sections), and an array of more dimensions than [`MAX_RANK`] is refused.
    #[test]
    fn structure_list_dims_for_many_sections() {
        fn file(rows: &[(u64, i64)], sections: usize) -> Vec<u8> {
            let mut f =
                b"###CBF: VERSION 1.5\r\ndata_x\r\nloop_\r\n_array_structure_list.array_id\r\n\
                _array_structure_list.index\r\n_array_structure_list.dimension\r\n\
                _array_structure_list.precedence\r\n"
                    .to_vec();
            for (k, (dim, precedence)) in rows.iter().enumerate() {
                f.extend_from_slice(format!("a {} {dim} {precedence}\r\n", k + 1).as_bytes());
            }
            f.extend_from_slice(b"_array_data.data\r\n;\r\n");
            for _ in 0..sections {
                f.extend_from_slice(
                    b"--CIF-BINARY-FORMAT-SECTION--\r\nX-Binary-Size: 12\r\n\
                    X-Binary-Element-Type: \"signed 8-bit integer\"\r\n\r\n",
                );
                f.extend_from_slice(&MARKER);
                f.extend_from_slice(&[7; 12]);
                f.extend_from_slice(b"\r\n--CIF-BINARY-FORMAT-SECTION----\r\n");
            }
            f.extend_from_slice(b";\r\n");
            f
        }
        let f = file(&[(3, 2), (4, 1)], 300);
        let cbf = CbfFile::from_bytes(&f).unwrap();
        assert_eq!(cbf.sections().len(), 300);
        assert!(cbf.sections().iter().all(|s| s.dims() == [4, 3]));
        assert_eq!(cbf.header().structure_dims(None), vec![4, 3]);

        let mut rows = vec![(1, 1); MAX_RANK];
        rows[0] = (12, 0);
        assert!(CbfFile::from_bytes(&file(&rows, 2)).is_ok());
        rows.push((1, 1));
        let err = CbfFile::from_bytes(&file(&rows, 2)).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::LimitExceeded {
                    what: "dimensions",
                    requested: 17,
                    limit: 16,
                }
            ),
            "{err}"
        );
    }

    /// `find` gives the first occurrence at or after `from`, as a window-by-window search.
    #[test]
    fn find_matches_a_window_search() {
        fn naive(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
            if from >= hay.len() || needle.is_empty() {
                return None;
            }
            hay[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|p| p + from)
        }
        let hay = b"--CIF-BINARY-FORMAT-SECTION----\n--CIF--CIF-BINARY-FORMAT-SECTION--\r\n\x0c\x1a\x04\xd5-";
        let needles: [&[u8]; 6] = [SECTION_START, SECTION_END, &MARKER, b"-", b"", b"\xd5-!"];
        for needle in needles {
            for from in 0..hay.len() + 2 {
                assert_eq!(
                    find(hay, needle, from),
                    naive(hay, needle, from),
                    "{needle:?} from {from}"
                );
            }
        }
        // Every byte value at every offset of a word, after bytes that differ from it by
        // one bit or by a borrow (the cases a word-at-a-time test could get wrong).
        for byte in 0..=255u8 {
            for at in 0..20 {
                let mut hay = vec![byte.wrapping_add(1); 20];
                for (k, h) in hay.iter_mut().enumerate().take(at) {
                    *h = [byte ^ 1, byte ^ 0x80, byte.wrapping_sub(1), 0][k % 4];
                    if *h == byte {
                        *h = byte.wrapping_add(1);
                    }
                }
                hay[at] = byte;
                assert_eq!(find_byte(&hay, byte), Some(at), "{byte} at {at}");
                assert_eq!(find(&hay, &[byte], 0), Some(at));
                hay[at] = byte.wrapping_add(1);
                assert_eq!(find_byte(&hay, byte), None, "{byte} absent");
            }
        }
    }

    /// Small files are read, large ones mapped: both give the same file.
    #[test]
    fn read_and_mapped_files_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.cbf");
        let pixels: Vec<i32> = (0..40 * 30).map(|k| (k * 37 % 1001) - 3).collect();
        let bytes = crate::writer::MiniCbfWriter::new(&Header::default())
            .write(&[40, 30], &pixels)
            .unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let opts = ReadOptions::default();
        let read = CbfFile::open(&path, &opts).unwrap();
        let mapped = CbfFile::open_reading_up_to(&path, &opts, 0, Vec::new()).unwrap();
        assert!(matches!(read.storage, Storage::Owned(_)));
        assert!(matches!(mapped.storage, Storage::Mapped(_)));
        assert_eq!(read.bytes(), mapped.bytes());
        for file in [&read, &mapped] {
            let mut out = vec![0i32; pixels.len()];
            file.sections()[0].decode_into_i32(&mut out).unwrap();
            assert_eq!(out, pixels);
        }
    }

    /// A buffer passed back in is reused, whatever it held, and a mapped or still-shared
    /// file gives none back.
    #[test]
    fn reused_buffers_read_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frame.cbf");
        let pixels: Vec<i32> = (0..40 * 30).map(|k| (k * 31 % 977) - 2).collect();
        let bytes = crate::writer::MiniCbfWriter::new(&Header::default())
            .write(&[40, 30], &pixels)
            .unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let opts = ReadOptions::default();
        let stale = vec![0xA5u8; 3 * bytes.len()];
        let file = CbfFile::open_reusing(&path, &opts, stale).unwrap();
        assert_eq!(file.bytes(), &bytes[..]);
        let mut out = vec![0i32; pixels.len()];
        file.sections()[0].decode_into_i32(&mut out).unwrap();
        assert_eq!(out, pixels);
        let section = file.sections()[0].clone();
        let again = CbfFile::open_reusing(&path, &opts, Vec::new()).unwrap();
        assert!(
            file.into_buffer().is_none(),
            "a section still holds the bytes"
        );
        drop(section);
        let buffer = again.into_buffer().unwrap();
        assert_eq!(buffer, bytes);
        let ptr = buffer.as_ptr();
        let reread = CbfFile::open_reusing(&path, &opts, buffer).unwrap();
        let buffer = reread.into_buffer().unwrap();
        assert_eq!(buffer, bytes);
        assert_eq!(buffer.as_ptr(), ptr, "the same allocation, not a new one");
        let mapped = CbfFile::open_reading_up_to(&path, &opts, 0, Vec::new()).unwrap();
        assert!(mapped.into_buffer().is_none());
    }
}
