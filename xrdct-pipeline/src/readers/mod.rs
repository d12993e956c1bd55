//! Frame readers: how the engine gets a frame's pixels out of a file, whatever the format.
//!
//! A [`FrameReader`] opens one [`FrameSource`] (a file or bytes in memory) and hands the
//! engine a [`FrameData`]: the frame's place in the scan, its shape, its normalization and its
//! [`Payload`], either a compressed stream and its [`Codec`] or pixels already decoded.
//! Reducers never see the file format: the CPU reducer asks the payload for a
//! [`BlockDecoder`] and integrates each decoded block while it is in L2 (the fused path), the
//! GPU reducer uploads compressed streams it can decode on the device.
//!
//! - [`cbf::CbfReader`]: CBF / miniCBF files (byte-offset streams go to the fused path
//!   undecoded; packed or uncompressed sections are decoded when the file is opened).
//! - `hdf5::Hdf5Reader` (feature `hdf5`): frames of a 3-D dataset in an HDF5 / NeXus file;
//!   bitshuffle/LZ4 chunks of one frame go to the fused path undecoded ([`Codec::BitshuffleLz4`]).
//! - [`image`]: single images for masks, darks and flats (EDF, TIFF, NumPy `.npy`, CBF, raw).
//!
//! [`AnyReader`] picks the reader from each [`FrameSource`]. A new format (a network stream) implements [`FrameReader`] and, for a codec
//! with a block decoder, adds a [`Codec`] variant.
//!
//! ```
//! use xrdct_pipeline::inputs::FrameSource;
//! use xrdct_pipeline::readers::{FrameReader, Payload, cbf::CbfReader};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pixels: Vec<i32> = (0..12).collect();
//! let bytes = cbf_format::writer::MiniCbfWriter::new(&Default::default()).write(&[4, 3], &pixels)?;
//! let source = FrameSource::Memory { name: "f.cbf".into(), bytes: bytes.into() };
//! let frame = CbfReader::default().open(0, &source, Vec::new())?;
//! let data = frame.data(0);
//! assert_eq!(data.dims, [4, 3]);
//! assert!(matches!(data.payload, Payload::Encoded { .. }));
//! let mut decoded = Vec::new();
//! data.decode_into(&mut decoded)?;
//! assert_eq!(decoded, pixels);
//! # Ok(()) }
//! ```

pub mod cbf;
#[cfg(feature = "hdf5")]
pub mod hdf5;
pub mod image;

use std::fmt;

use crate::engine::FrameError;
use crate::inputs::FrameSource;

/// How the pixels of a [`Payload::Encoded`] frame are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// A CBF byte-offset stream of signed 32-bit pixels ([`byteoffset`]).
    ByteOffset,
    /// A bitshuffle/LZ4 chunk (HDF5 filter 32008, [`bitshuffle`]) of `pixel` elements.
    BitshuffleLz4 {
        /// The element type of the chunk.
        pixel: bitshuffle::Pixel,
    },
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::ByteOffset => f.write_str("byte-offset"),
            Codec::BitshuffleLz4 { pixel } => write!(f, "bitshuffle-lz4 ({pixel:?})"),
        }
    }
}

/// A frame's pixels as the reader found them.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// A compressed stream, decoded by the reducer (fused with integration on the CPU, on
    /// the device on the GPU).
    Encoded {
        /// The compression.
        codec: Codec,
        /// The stream.
        bytes: &'a [u8],
    },
    /// Pixels already decoded, fastest dimension first.
    Decoded(&'a [i32]),
}

/// One frame handed to a reducer.
#[derive(Debug, Clone, Copy)]
pub struct FrameData<'a> {
    /// Position of the frame in the scan (0-based).
    pub index: usize,
    /// Shape, fastest dimension first: `[columns, rows]`.
    pub dims: [usize; 2],
    /// The pixels.
    pub payload: Payload<'a>,
    /// Monitor value that divides the frame's intensity (1 without a monitor).
    pub normalization: f64,
}

impl<'a> FrameData<'a> {
    /// Number of pixels.
    pub fn pixel_count(&self) -> usize {
        self.dims[0].saturating_mul(self.dims[1])
    }

    /// The byte-offset stream, when the payload is one (the GPU decoder's input).
    pub fn byte_offset_stream(&self) -> Option<&'a [u8]> {
        match self.payload {
            Payload::Encoded {
                codec: Codec::ByteOffset,
                bytes,
            } => Some(bytes),
            Payload::Encoded { .. } | Payload::Decoded(_) => None,
        }
    }

    /// A decoder that fills blocks of pixels in order (the fused path). Errors at once when
    /// the payload cannot hold the frame.
    pub fn blocks(&self) -> Result<BlockDecoder<'a>, FrameError> {
        let n = self.pixel_count();
        match self.payload {
            Payload::Encoded {
                codec: Codec::ByteOffset,
                bytes,
            } => Ok(BlockDecoder(Blocks::ByteOffset(
                byteoffset::BlockDecoder::new(bytes, n)?,
            ))),
            Payload::Encoded {
                codec: Codec::BitshuffleLz4 { pixel },
                bytes,
            } => Ok(BlockDecoder(Blocks::Bitshuffle(Box::new(
                bitshuffle::BlockDecoder::new(bytes, pixel, n)?,
            )))),
            Payload::Decoded(pixels) => {
                if pixels.len() != n {
                    return Err(FrameError::Shape {
                        expected: self.dims.to_vec(),
                        got: vec![pixels.len()],
                    });
                }
                Ok(BlockDecoder(Blocks::Decoded { pixels, next: 0 }))
            }
        }
    }

    /// Decodes the whole frame into `out` (resized to [`pixel_count`](Self::pixel_count)).
    pub fn decode_into(&self, out: &mut Vec<i32>) -> Result<(), FrameError> {
        out.resize(self.pixel_count(), 0);
        match self.payload {
            Payload::Encoded {
                codec: Codec::ByteOffset,
                bytes,
            } => {
                byteoffset::decode_into(bytes, out)?;
            }
            Payload::Encoded {
                codec: Codec::BitshuffleLz4 { .. },
                ..
            }
            | Payload::Decoded(_) => {
                let mut blocks = self.blocks()?;
                let mut at = 0;
                while let Some((first, len)) = blocks.next_block(&mut out[at..])? {
                    at = first + len;
                }
            }
        }
        Ok(())
    }
}

/// Fills blocks of a frame's pixels one after another: the block-visiting decoder of the
/// frame's codec (or a copy of pixels already decoded).
#[derive(Debug)]
pub struct BlockDecoder<'a>(Blocks<'a>);

enum Blocks<'a> {
    ByteOffset(byteoffset::BlockDecoder<'a>),
    Bitshuffle(Box<bitshuffle::BlockDecoder<'a>>),
    Decoded { pixels: &'a [i32], next: usize },
}

impl fmt::Debug for Blocks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocks::ByteOffset(d) => f.debug_tuple("ByteOffset").field(d).finish(),
            Blocks::Bitshuffle(_) => f.write_str("Bitshuffle"),
            Blocks::Decoded { pixels, next } => f
                .debug_struct("Decoded")
                .field("pixels", &pixels.len())
                .field("next", next)
                .finish(),
        }
    }
}

impl BlockDecoder<'_> {
    /// Decodes the next block into `block` (up to its length) and returns `(index of its
    /// first pixel, pixels written)`, or `None` when the frame is complete.
    pub fn next_block(&mut self, block: &mut [i32]) -> Result<Option<(usize, usize)>, FrameError> {
        match &mut self.0 {
            Blocks::ByteOffset(d) => Ok(d.next_block(block)?),
            Blocks::Bitshuffle(d) => Ok(d.next_block(block)?),
            Blocks::Decoded { pixels, next } => {
                let first = *next;
                let len = block.len().min(pixels.len() - first);
                if len == 0 {
                    return Ok(None);
                }
                block[..len].copy_from_slice(&pixels[first..first + len]);
                *next += len;
                Ok(Some((first, len)))
            }
        }
    }
}

/// A frame opened by a [`FrameReader`]: owns (or borrows from its source) the bytes that
/// its [`FrameData`] points into.
pub trait OpenFrame: Send {
    /// The frame as reducers see it; `index` is its position in the scan.
    fn data(&self, index: usize) -> FrameData<'_>;
    /// Gives back the read buffer for the next frame (see [`FrameReader::open`]).
    fn into_buffer(self: Box<Self>) -> Option<Vec<u8>> {
        None
    }
}

/// Opens frames of one format. Shared by all worker threads; each call opens one frame.
pub trait FrameReader: Send + Sync + fmt::Debug {
    /// Opens the frame at `source`, the `index`-th of the scan. `buffer` is the read buffer a
    /// previous frame gave back ([`OpenFrame::into_buffer`]): readers that read files into
    /// memory reuse it instead of allocating (and faulting in) a few MB per frame.
    fn open<'s>(
        &self,
        index: usize,
        source: &'s FrameSource,
        buffer: Vec<u8>,
    ) -> Result<Box<dyn OpenFrame + 's>, FrameError>;
}

/// Reads each frame with the reader of its source: HDF5 frames ([`FrameSource::Hdf5`]) with
/// `hdf5::Hdf5Reader` (feature `hdf5`), files and memory with [`cbf::CbfReader`].
#[derive(Debug, Default)]
pub struct AnyReader {
    cbf: cbf::CbfReader,
    #[cfg(feature = "hdf5")]
    hdf5: hdf5::Hdf5Reader,
}

impl AnyReader {
    /// Both readers with their defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reader of CBF files.
    pub fn cbf(mut self, reader: cbf::CbfReader) -> Self {
        self.cbf = reader;
        self
    }

    /// The reader of HDF5 frames.
    #[cfg(feature = "hdf5")]
    pub fn hdf5(mut self, reader: hdf5::Hdf5Reader) -> Self {
        self.hdf5 = reader;
        self
    }

    /// The same monitor for both readers.
    pub fn monitor(mut self, monitor: crate::engine::Monitor) -> Self {
        #[cfg(feature = "hdf5")]
        {
            self.hdf5 = std::mem::take(&mut self.hdf5).monitor(monitor.clone());
        }
        self.cbf = self.cbf.monitor(monitor);
        self
    }
}

impl FrameReader for AnyReader {
    fn open<'s>(
        &self,
        index: usize,
        source: &'s FrameSource,
        buffer: Vec<u8>,
    ) -> Result<Box<dyn OpenFrame + 's>, FrameError> {
        match source {
            #[cfg(feature = "hdf5")]
            FrameSource::Hdf5 { .. } => self.hdf5.open(index, source, buffer),
            #[cfg(not(feature = "hdf5"))]
            FrameSource::Hdf5 { .. } => Err(FrameError::Hdf5(
                "HDF5 input needs xrdct built with the `hdf5` feature".into(),
            )),
            FrameSource::File(_) | FrameSource::Memory { .. } => {
                self.cbf.open(index, source, buffer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_payload_gives_blocks_in_order() {
        let pixels: Vec<i32> = (0..10).collect();
        let frame = FrameData {
            index: 0,
            dims: [5, 2],
            payload: Payload::Decoded(&pixels),
            normalization: 1.0,
        };
        let mut blocks = frame.blocks().unwrap();
        let mut block = [0; 4];
        let mut seen = Vec::new();
        while let Some((first, len)) = blocks.next_block(&mut block).unwrap() {
            assert_eq!(first, seen.len());
            seen.extend_from_slice(&block[..len]);
        }
        assert_eq!(seen, pixels);
        let mut out = Vec::new();
        frame.decode_into(&mut out).unwrap();
        assert_eq!(out, pixels);
    }

    #[test]
    fn decoded_payload_of_the_wrong_length_is_an_error() {
        let pixels = [1, 2, 3];
        let frame = FrameData {
            index: 0,
            dims: [2, 2],
            payload: Payload::Decoded(&pixels),
            normalization: 1.0,
        };
        assert!(matches!(frame.blocks(), Err(FrameError::Shape { .. })));
    }
}
