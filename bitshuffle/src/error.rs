//! The error type of every decoder and encoder in this crate.

/// Why a chunk could not be decoded (or encoded).
///
/// Every variant carries numbers (byte offsets into the chunk, sizes, element indices), never
/// strings, so a caller can report where a file went wrong. Offsets count from the first byte
/// of the chunk (the 12-byte header included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The chunk is shorter than its 12-byte header (`available` bytes).
    #[error("chunk of {available} bytes is shorter than the 12-byte header")]
    TruncatedHeader {
        /// Bytes in the chunk.
        available: usize,
    },
    /// The element size is not one the codec handles (1 to 8 bytes) (caller fault).
    #[error("element size {elem_size} is not supported (1 to 8 bytes)")]
    UnsupportedElementSize {
        /// The element size asked for, in bytes.
        elem_size: usize,
    },
    /// The header (byte 0) says the chunk holds `total_bytes` uncompressed bytes, but the
    /// caller expects `expected_bytes` (pixel count × element size). Checked before anything
    /// is allocated.
    #[error("chunk header says {total_bytes} uncompressed bytes, {expected_bytes} expected")]
    SizeMismatch {
        /// Uncompressed size in the header.
        total_bytes: u64,
        /// Uncompressed size the caller expects.
        expected_bytes: u64,
    },
    /// The header's block size (byte 8, in bytes) is 0 or not a whole multiple of
    /// 8 elements of `elem_size` bytes (bitshuffle), or 0 (LZ4 filter).
    #[error("block size of {block_bytes} bytes is invalid for {elem_size}-byte elements")]
    BadBlockSize {
        /// Block size in the header, in bytes.
        block_bytes: u32,
        /// Element size, in bytes.
        elem_size: usize,
    },
    /// The chunk ends inside a block: the field or data starting at byte `offset` needs
    /// `needed` bytes, only `available` are left (damaged or cut short).
    #[error("chunk data at byte {offset} needs {needed} bytes, only {available} left")]
    Truncated {
        /// Byte offset of the block-size field, the compressed data or the raw tail.
        offset: usize,
        /// Bytes needed from `offset`.
        needed: u64,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// The LZ4 block starting at byte `offset` is corrupt (or decompresses to more bytes than
    /// its block holds).
    #[error("LZ4 block at byte {offset} is corrupt")]
    Lz4 {
        /// Byte offset of the compressed data.
        offset: usize,
    },
    /// The zstd frame starting at byte `offset` is corrupt (or decompresses to more bytes
    /// than its block holds).
    #[error("zstd frame at byte {offset} is corrupt")]
    Zstd {
        /// Byte offset of the compressed data.
        offset: usize,
    },
    /// The block starting at byte `offset` decompressed to `actual` bytes, `expected` needed.
    #[error("block at byte {offset} decompressed to {actual} bytes, {expected} expected")]
    BlockLength {
        /// Byte offset of the compressed data.
        offset: usize,
        /// Bytes the block must hold.
        expected: usize,
        /// Bytes it decompressed to.
        actual: usize,
    },
    /// All elements were decoded at byte `offset`, but `remaining` bytes are left.
    #[error("{remaining} bytes left at byte {offset} after all elements")]
    TrailingBytes {
        /// Byte offset of the first unused byte.
        offset: usize,
        /// Unused bytes.
        remaining: usize,
    },
    /// Pixel `index` holds `value`, which does not fit `i32` (only `0xFFFF_FFFF`, Eiger's
    /// invalid-pixel marker, maps to -1).
    #[error("pixel {index} holds {value}, which does not fit i32")]
    ValueOutOfRange {
        /// Index of the pixel in the chunk.
        index: usize,
        /// Its unsigned value.
        value: u64,
    },
    /// The caller's output buffer does not hold a whole number of elements, or the input to
    /// the encoder does not (caller fault).
    #[error("{len} bytes are not a whole number of {elem_size}-byte elements")]
    PartialElement {
        /// Bytes given.
        len: usize,
        /// Element size.
        elem_size: usize,
    },
    /// The block size asked of the encoder is 0 or not a multiple of 8 elements, or too large
    /// for the 32-bit header field (caller fault).
    #[error("encoder block size of {block_elems} elements is invalid")]
    BadEncoderBlock {
        /// Block size asked for, in elements.
        block_elems: usize,
    },
    /// [`BlockDecoder::next_block`](crate::BlockDecoder::next_block) was given an empty
    /// buffer while pixels remain (caller fault).
    #[error("the block buffer is empty but pixels remain")]
    EmptyBlock,
}
