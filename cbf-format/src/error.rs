//! Errors: one [`Error`] type that says what went wrong ([`ErrorKind`]), in which file and at
//! which byte offset.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading, decoding or writing a CBF file.
///
/// It carries the path of the file (when the bytes came from a file), the byte offset in the
/// (decompressed) CBF bytes where the problem was found (when it is known) and the index of the
/// binary section (when one was involved). [`Error::kind`] tells what happened.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    path: Option<PathBuf>,
    offset: Option<u64>,
    section: Option<usize>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            path: None,
            offset: None,
            section: None,
        }
    }

    pub(crate) fn at(kind: ErrorKind, offset: usize) -> Self {
        Error {
            kind,
            path: None,
            offset: Some(offset as u64),
            section: None,
        }
    }

    pub(crate) fn with_path(mut self, path: &Path) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_path_buf());
        }
        self
    }

    pub(crate) fn with_section(mut self, section: usize) -> Self {
        if self.section.is_none() {
            self.section = Some(section);
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Consumes the error and returns what went wrong.
    pub fn into_kind(self) -> ErrorKind {
        self.kind
    }

    /// The file the bytes came from, when they came from a file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Byte offset in the CBF bytes (after gzip decompression) where the problem was found.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// Index (0-based, in file order) of the binary section involved, if any.
    pub fn section(&self) -> Option<usize> {
        self.section
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        if let Some(s) = self.section {
            write!(f, "section {s}: ")?;
        }
        if let Some(o) = self.offset {
            write!(f, "byte {o}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            ErrorKind::ByteOffset(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

/// What went wrong. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system failed to read or write (environment).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The gzip container is corrupt or truncated (file).
    #[error("corrupt or truncated gzip container")]
    Gzip,
    /// No `--CIF-BINARY-FORMAT-SECTION--` block was found: not a CBF file with image data (file).
    #[error("no binary section (--CIF-BINARY-FORMAT-SECTION--) found")]
    NoBinarySection,
    /// A binary section has no `0C 1A 04 D5` start marker after its MIME header (file).
    #[error("binary start marker 0C 1A 04 D5 not found after the MIME header")]
    MissingMarker,
    /// A MIME header line lacks a field the reader needs (file).
    #[error("MIME header has no {0} line")]
    MissingMimeField(&'static str),
    /// A MIME header field's value cannot be parsed (file).
    #[error("MIME header field {field} has an invalid value")]
    InvalidMimeValue {
        /// The field name, as cbflib writes it.
        field: &'static str,
    },
    /// The header declares a payload that extends past the end of the bytes (file is
    /// truncated or still being written).
    #[error("truncated: payload needs {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the header announces.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// The dimensions and the element count disagree (file).
    #[error("dimensions {dims:?} hold {product} elements but the header announces {elements}")]
    DimensionMismatch {
        /// Dimensions, fastest first.
        dims: Vec<u64>,
        /// Their product (saturating).
        product: u64,
        /// Number of elements announced.
        elements: u64,
    },
    /// The payload size cannot hold the announced elements (uncompressed data) (file).
    #[error("payload of {bytes} bytes cannot hold {elements} elements of {element_size} bytes")]
    PayloadSize {
        /// X-Binary-Size.
        bytes: u64,
        /// Number of elements.
        elements: u64,
        /// Bytes per element.
        element_size: u64,
    },
    /// A size taken from the file exceeds the configured [`Limits`](crate::Limits) (caller may
    /// raise the limit; the file may be hostile).
    #[error("{what} {requested} exceeds the limit {limit}")]
    LimitExceeded {
        /// Which quantity: "elements", "bytes" or "dimensions".
        what: &'static str,
        /// What the file asks for.
        requested: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The file uses a feature this crate does not implement (file is valid, we are not).
    #[error("unsupported {what}: {name}")]
    Unsupported {
        /// Kind of feature: "compression", "transfer encoding", "element type", ...
        what: &'static str,
        /// The name as written in the file.
        name: String,
    },
    /// `Content-MD5` does not match the payload bytes (file is corrupt).
    #[error("Content-MD5 mismatch: header says {expected}, payload hashes to {computed}")]
    Md5Mismatch {
        /// Base64 digest written in the header.
        expected: String,
        /// Base64 digest of the payload bytes.
        computed: String,
    },
    /// The byte-offset compressed stream is corrupt (file).
    #[error("byte-offset data: {0}")]
    ByteOffset(#[from] byteoffset::Error),
    /// The packed (CCP4-style) compressed stream ends before all elements were decoded (file).
    #[error("packed data ends after {decoded} of {expected} elements")]
    PackedTruncated {
        /// Elements decoded.
        decoded: u64,
        /// Elements expected.
        expected: u64,
    },
    /// The caller's output buffer does not have exactly the section's element count (caller).
    #[error("output buffer holds {actual} elements, section has {expected}")]
    OutputSize {
        /// Elements in the section.
        expected: u64,
        /// Elements in the buffer.
        actual: u64,
    },
    /// A decoded value does not fit the requested output type (e.g. unsigned 32-bit data above
    /// `i32::MAX` decoded to i32, or real data decoded to integers) (caller's choice of type).
    #[error("element {index} does not fit the requested integer type")]
    ValueOutOfRange {
        /// Index of the first element that does not fit.
        index: u64,
    },
    /// The requested section does not exist (caller).
    #[error("section {index} requested, the file has {count}")]
    NoSuchSection {
        /// Requested index.
        index: usize,
        /// Number of sections.
        count: usize,
    },
    /// The writer was given inconsistent input (caller).
    #[error("writer: dimensions {dims:?} do not match {len} elements")]
    WriterInput {
        /// Dimensions given, fastest first.
        dims: Vec<usize>,
        /// Number of values given.
        len: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
