//! The error type of every decoder and encoder in this crate.

/// Why a byte-offset stream could not be decoded, or an output could not be written.
///
/// Every variant carries numbers (byte offsets into the compressed input, element counts),
/// never strings, so a caller can report where a file went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends inside a token: the token starting at byte `offset` needs `needed`
    /// bytes but only `available` are left. The stream is damaged or cut short (data fault).
    #[error("byte-offset token at byte {offset} needs {needed} bytes, only {available} left")]
    TruncatedToken {
        /// Byte offset of the token's first byte (its `0x80` escape).
        offset: usize,
        /// Bytes the token needs (3, 7 or 15).
        needed: usize,
        /// Bytes left in the input from `offset`.
        available: usize,
    },
    /// The input ends cleanly at byte `offset` after `decoded` elements, but `expected` were
    /// asked for. The stream is cut short, or the caller's element count is wrong.
    #[error("byte-offset stream ends at byte {offset} after {decoded} of {expected} elements")]
    TooFewElements {
        /// Length of the input (where the next token would have started).
        offset: usize,
        /// Elements decoded before the input ended.
        decoded: usize,
        /// Elements the caller asked for.
        expected: usize,
    },
    /// All `expected` elements were decoded at byte `offset`, but `remaining` bytes are left.
    /// The stream holds more pixels than the caller's count, or it was sliced too long.
    #[error("{remaining} bytes left at byte {offset} after all {expected} elements")]
    TrailingBytes {
        /// Byte offset of the first unused byte.
        offset: usize,
        /// Number of unused bytes.
        remaining: usize,
        /// Elements the caller asked for (all decoded).
        expected: usize,
    },
    /// The decoded value of pixel `index` does not fit the caller's narrower output type
    /// (`target`, e.g. `"u16"`). The data needs a wider output type.
    #[error("decoded value {value} of pixel {index} does not fit {target}")]
    Overflow {
        /// Index of the pixel in the frame.
        index: usize,
        /// The decoded value (as 64-bit integer).
        value: i64,
        /// Name of the output type.
        target: &'static str,
    },
    /// The caller's output buffer is too small: `needed` bytes, `actual` given (caller fault).
    #[error("output buffer holds {actual} bytes, {needed} needed")]
    OutputTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes in the caller's buffer.
        actual: usize,
    },
    /// [`decode_visit`](crate::decode_visit) was given an empty block buffer for a
    /// non-empty frame (caller fault).
    #[error("the visit block buffer is empty but {expected} elements were asked for")]
    EmptyBlock {
        /// Elements the caller asked for.
        expected: usize,
    },
}
