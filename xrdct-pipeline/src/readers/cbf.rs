//! CBF / miniCBF frames ([`cbf_format`]): a byte-offset section of 32-bit pixels goes to the
//! reducer as its compressed stream (decoded tile by tile, fused with integration); other
//! compressions and element types are decoded to `i32` when the file is opened.

use crate::engine::{FrameError, Monitor};
use crate::inputs::FrameSource;
use crate::readers::{Codec, FrameData, FrameReader, OpenFrame, Payload};

/// Reads frames from CBF files: which binary section, how files are checked, and the
/// per-frame normalization (a monitor may read each frame's header).
#[derive(Debug, Clone, Default)]
pub struct CbfReader {
    read: cbf_format::ReadOptions,
    section: usize,
    monitor: Monitor,
}

impl CbfReader {
    /// Section 0, no MD5 check, no monitor.
    pub fn new() -> Self {
        Self::default()
    }

    /// How files are opened (MD5 check, size limits).
    pub fn read_options(mut self, read: cbf_format::ReadOptions) -> Self {
        self.read = read;
        self
    }

    /// Checks every frame's `Content-MD5` (a mismatch fails the frame).
    pub fn verify_md5(mut self, verify: bool) -> Self {
        self.read = self.read.verify_md5(verify);
        self
    }

    /// The binary section holding the image (0 for detector files).
    pub fn section(mut self, section: usize) -> Self {
        self.section = section;
        self
    }

    /// Per-frame normalization.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }

    /// The monitor in use.
    pub fn monitor_ref(&self) -> &Monitor {
        &self.monitor
    }
}

/// An open CBF file and the part of it the reducer reads.
struct CbfFrame<'s> {
    file: cbf_format::CbfFile<'s>,
    dims: [usize; 2],
    /// Pixels decoded at open time (sections that are not byte-offset `i32`).
    decoded: Option<Vec<i32>>,
    section: usize,
    normalization: f64,
}

impl OpenFrame for CbfFrame<'_> {
    fn data(&self, index: usize) -> FrameData<'_> {
        let payload = match &self.decoded {
            Some(pixels) => Payload::Decoded(pixels),
            None => Payload::Encoded {
                codec: Codec::ByteOffset,
                // The section exists: `open` checked it.
                bytes: self
                    .file
                    .sections()
                    .get(self.section)
                    .map_or(&[][..], |s| s.payload()),
            },
        };
        FrameData {
            index,
            dims: self.dims,
            payload,
            normalization: self.normalization,
        }
    }

    fn into_buffer(self: Box<Self>) -> Option<Vec<u8>> {
        self.file.into_buffer()
    }
}

impl FrameReader for CbfReader {
    fn open<'s>(
        &self,
        index: usize,
        source: &'s FrameSource,
        buffer: Vec<u8>,
    ) -> Result<Box<dyn OpenFrame + 's>, FrameError> {
        let file = match source {
            FrameSource::File(p) => cbf_format::CbfFile::open_reusing(p, &self.read, buffer)?,
            FrameSource::Memory { bytes, .. } => {
                cbf_format::CbfFile::from_bytes_with(bytes, &self.read)?
            }
            FrameSource::Hdf5 { .. } => {
                return Err(FrameError::Hdf5(
                    "an HDF5 frame given to the CBF reader (use readers::AnyReader)".into(),
                ));
            }
        };
        let normalization = self.monitor.value(index, file.header())?;
        let sections = file.sections();
        let section = sections.get(self.section).ok_or(FrameError::NoSection {
            wanted: self.section,
            count: sections.len(),
        })?;
        let dims = match *section.dims() {
            [fast, slow] => [fast, slow],
            [fast, slow, 1] => [fast, slow],
            ref other => {
                return Err(FrameError::NotAnImage {
                    dims: other.to_vec(),
                });
            }
        };
        let fused = *section.compression() == cbf_format::Compression::ByteOffset
            && section.element_type() == cbf_format::ElementType::I32
            && section.element_count() == dims[0].saturating_mul(dims[1]);
        let decoded = if fused {
            None
        } else {
            let mut pixels = vec![0; section.element_count()];
            section.decode_into_i32(&mut pixels)?;
            Some(pixels)
        };
        Ok(Box::new(CbfFrame {
            dims,
            decoded,
            section: self.section,
            normalization,
            file,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbf_format::writer::WriteCompression;

    fn memory(pixels: &[i32], dims: &[usize], compression: WriteCompression) -> FrameSource {
        let mut w = cbf_format::writer::ImgCifWriter::new("t");
        w.add_array(dims, pixels, compression).unwrap();
        FrameSource::Memory {
            name: "t.cbf".into(),
            bytes: w.to_bytes().into(),
        }
    }

    #[test]
    fn byte_offset_frames_stay_encoded_and_others_are_decoded() {
        let pixels: Vec<i32> = (0..20).map(|i| i * 7 - 30).collect();
        for compression in [WriteCompression::ByteOffset, WriteCompression::None] {
            let source = memory(&pixels, &[5, 4], compression);
            let frame = CbfReader::new().open(3, &source, Vec::new()).unwrap();
            let data = frame.data(3);
            assert_eq!((data.index, data.dims), (3, [5, 4]));
            assert_eq!(
                matches!(data.payload, Payload::Encoded { .. }),
                compression == WriteCompression::ByteOffset
            );
            let mut out = Vec::new();
            data.decode_into(&mut out).unwrap();
            assert_eq!(out, pixels);
        }
    }

    #[test]
    fn a_missing_section_or_a_volume_is_a_frame_error() {
        let pixels = vec![1; 24];
        let source = memory(&pixels, &[4, 3, 2], WriteCompression::ByteOffset);
        let err = CbfReader::new().open(0, &source, Vec::new()).err().unwrap();
        assert!(matches!(err, FrameError::NotAnImage { .. }), "{err}");
        let err = CbfReader::new()
            .section(2)
            .open(0, &source, Vec::new())
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                FrameError::NoSection {
                    wanted: 2,
                    count: 1
                }
            ),
            "{err}"
        );
    }
}
