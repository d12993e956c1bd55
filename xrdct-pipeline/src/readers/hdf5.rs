//! Frames of an HDF5 file (detector master files, LIMA files, NeXus scans): one frame per
//! image of a 3-D dataset (`frames × rows × columns`).
//!
//! **Finding the frames** ([`frames_of`], called by
//! [`resolve_inputs`](crate::inputs::resolve_inputs) for `FILE.h5[::START:STOP]`), first match
//! wins:
//! 1. the NeXus default chain: the root's `@default` entry (else `entry`), its `@default`
//!    NXdata group (else `data`), that group's `@signal` dataset;
//! 2. `/entry/data/data`;
//! 3. DECTRIS master files: `/entry/data/data_000001`, `data_000002`, … (usually external
//!    links to the data files); their frames follow each other in one scan;
//! 4. LIMA: `/entry_0000/measurement/data`;
//! 5. the first 3-D dataset of the file (members in natural order, datasets before groups).
//!
//! **Reading a frame** ([`Hdf5Reader`]): when the dataset is chunked one frame per chunk
//! (`1 × rows × columns`) and its only filter is bitshuffle with LZ4 (HDF5 filter 32008,
//! `cd_values[4] == 2`), the frame's stored chunk is read as is with HDF5's direct chunk read
//! and handed to the reducer still compressed ([`Codec::BitshuffleLz4`]): the CPU reducer
//! decodes it block by block fused with integration, as it does CBF byte-offset streams. This
//! path needs no HDF5 filter plugin and skips HDF5's filter pipeline and chunk cache (a copy
//! and a whole-frame decode per frame). Any other layout (contiguous, several frames per
//! chunk, gzip, a filter chain) is read through HDF5's ordinary `read_slice` into `i32`
//! pixels — slower, and a compression filter needs its plugin installed; the reader logs
//! once per dataset (`log::info`) that it takes this path and why. Chunks are assumed
//! little-endian (every detector writes them so).
//!
//! Pixels: 8-, 16- and 32-bit integers; unsigned 16- and 32-bit all-ones (Eiger's invalid
//! pixel) become -1, as in [`bitshuffle::Pixel`]. Floats and 64-bit integers are
//! [`FrameError::PixelType`]. A monitor of [`Monitor::Values`] applies per frame; HDF5 frames
//! have no CBF header, so a `header:` monitor fails each frame with a missing field.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use hdf5::filters::Filter;
use hdf5::types::{IntSize, TypeDescriptor};

use crate::engine::{FrameError, Monitor};
use crate::inputs::{FrameSource, InputError, natural_cmp};
use crate::readers::{Codec, FrameData, FrameReader, OpenFrame, Payload};

/// The registered HDF5 filter id of bitshuffle.
pub const BITSHUFFLE_FILTER_ID: hdf5_sys::h5z::H5Z_filter_t = 32008;
/// `cd_values[4]` of the bitshuffle filter for LZ4 compression.
pub const BITSHUFFLE_LZ4: u32 = 2;

/// One frame source per frame of the file's frame dataset(s) (found as the
/// [module docs](self) say), those whose index in the file's scan is in `range` (`range.end`
/// may exceed the frame count).
pub fn frames_of(path: &Path, range: Range<usize>) -> Result<Vec<FrameSource>, InputError> {
    let err = |message: String| InputError::Hdf5 {
        path: path.to_path_buf(),
        message,
    };
    let file = hdf5::File::open(path).map_err(|e| err(e.to_string()))?;
    let names = frame_datasets(&file).map_err(err)?;
    let shared: Arc<Path> = Arc::from(path);
    let mut out = Vec::new();
    let mut first = 0usize;
    for name in names {
        let ds = file
            .dataset(&name)
            .map_err(|e| err(format!("cannot open {name}: {e}")))?;
        let shape = ds.shape();
        let [n, _, _] = shape[..] else {
            return Err(err(format!(
                "{name} has shape {shape:?}, not frames × rows × columns"
            )));
        };
        let dataset: Arc<str> = Arc::from(name.as_str());
        let end = first.saturating_add(n);
        for k in range.start.max(first)..range.end.min(end) {
            out.push(FrameSource::Hdf5 {
                file: shared.clone(),
                dataset: dataset.clone(),
                frame: k - first,
            });
        }
        first = end;
        if first >= range.end {
            break;
        }
    }
    if out.is_empty() {
        return Err(err(format!(
            "no frame in range {}..{} (the file has {first})",
            range.start,
            if range.end == usize::MAX {
                String::new()
            } else {
                range.end.to_string()
            }
        )));
    }
    Ok(out)
}

/// The path(s) of the frame dataset(s) of `file`, in scan order.
pub fn frame_datasets(file: &hdf5::File) -> Result<Vec<String>, String> {
    let is_3d = |p: &str| file.dataset(p).is_ok_and(|d| d.ndim() == 3);
    if let Some(p) = nexus_signal(file).filter(|p| is_3d(p)) {
        return Ok(vec![p]);
    }
    if is_3d("/entry/data/data") {
        return Ok(vec!["/entry/data/data".into()]);
    }
    let parts: Vec<String> = (1..)
        .map(|k| format!("/entry/data/data_{k:06}"))
        .take_while(|p| file.link_exists(p))
        .collect();
    if !parts.is_empty() {
        return Ok(parts);
    }
    if is_3d("/entry_0000/measurement/data") {
        return Ok(vec!["/entry_0000/measurement/data".into()]);
    }
    first_3d(file, 0)
        .map(|p| vec![p])
        .ok_or_else(|| "no 3-D dataset (frames × rows × columns) in the file".into())
}

fn attr_string(loc: &hdf5::Location, name: &str) -> Option<String> {
    use hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii, VarLenUnicode};
    let a = loc.attr(name).ok()?;
    a.read_scalar::<VarLenUnicode>()
        .map(|s| s.to_string())
        .or_else(|_| a.read_scalar::<VarLenAscii>().map(|s| s.to_string()))
        .or_else(|_| a.read_scalar::<FixedUnicode<256>>().map(|s| s.to_string()))
        .or_else(|_| a.read_scalar::<FixedAscii<256>>().map(|s| s.to_string()))
        .ok()
}

/// `/ENTRY/DATA/SIGNAL` along the NeXus `@default` chain (defaults `entry`, `data`).
fn nexus_signal(file: &hdf5::File) -> Option<String> {
    let entry = attr_string(file, "default").unwrap_or_else(|| "entry".into());
    let entry = format!("/{}", entry.trim_start_matches('/'));
    let group = file.group(&entry).ok()?;
    let data = attr_string(&group, "default").unwrap_or_else(|| "data".into());
    let data = format!("{entry}/{data}");
    let group = file.group(&data).ok()?;
    let signal = attr_string(&group, "signal")?;
    Some(format!("{data}/{signal}"))
}

fn first_3d(group: &hdf5::Group, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let mut names = group.member_names().ok()?;
    names.sort_by(|a, b| natural_cmp(a, b));
    for n in &names {
        if let Ok(d) = group.dataset(n)
            && d.ndim() == 3
        {
            return Some(d.name());
        }
    }
    names
        .iter()
        .filter_map(|n| group.group(n).ok())
        .find_map(|g| first_3d(&g, depth + 1))
}

/// Reads frames of HDF5 datasets ([`FrameSource::Hdf5`]); keeps each dataset open for the
/// run (HDF5 serialises its calls anyway, so one shared table behind a mutex is enough).
#[derive(Debug, Default)]
pub struct Hdf5Reader {
    monitor: Monitor,
    open: Mutex<HashMap<(PathBuf, String), Arc<Opened>>>,
}

impl Hdf5Reader {
    /// No monitor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Per-frame normalization (`Monitor::Values`; a header monitor fails every frame).
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }

    fn dataset(&self, file: &Path, name: &str) -> Result<Arc<Opened>, FrameError> {
        let key = (file.to_path_buf(), name.to_string());
        let table = || self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(o) = table().get(&key) {
            return Ok(o.clone());
        }
        let opened = Arc::new(Opened::new(file, name)?);
        if let Some(why) = &opened.slow {
            log::info!(
                "{}::{name}: {why}; frames are read through HDF5's filter pipeline (slower than \
                 the direct bitshuffle/LZ4 chunk path)",
                file.display()
            );
        }
        table().insert(key, opened.clone());
        Ok(opened)
    }
}

/// An open frame dataset and how its frames are read.
struct Opened {
    ds: hdf5::Dataset,
    frames: usize,
    rows: usize,
    cols: usize,
    /// The element type, when it is one bitshuffle decodes.
    pixel: Option<bitshuffle::Pixel>,
    /// 32-bit unsigned elements (read as `u32` on the slow path).
    unsigned32: bool,
    /// Why the direct chunk path does not apply (`None`: it does).
    slow: Option<String>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Opened({}, {}×{}×{})",
            self.ds.name(),
            self.frames,
            self.rows,
            self.cols
        )
    }
}

impl Opened {
    fn new(file: &Path, name: &str) -> Result<Self, FrameError> {
        let f = hdf5::File::open(file)
            .map_err(|e| FrameError::Hdf5(format!("cannot open the file: {e}")))?;
        let ds = f
            .dataset(name)
            .map_err(|e| FrameError::Hdf5(format!("cannot open dataset {name}: {e}")))?;
        let shape = ds.shape();
        let [frames, rows, cols] = shape[..] else {
            return Err(FrameError::NotAnImage {
                dims: shape.iter().rev().copied().collect(),
            });
        };
        let dtype = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| FrameError::Hdf5(format!("{name}: element type: {e}")))?;
        let (pixel, unsigned32) = match dtype {
            TypeDescriptor::Unsigned(IntSize::U1) => (Some(bitshuffle::Pixel::U8), false),
            TypeDescriptor::Unsigned(IntSize::U2) => (Some(bitshuffle::Pixel::U16), false),
            TypeDescriptor::Unsigned(IntSize::U4) => (Some(bitshuffle::Pixel::U32), true),
            TypeDescriptor::Integer(IntSize::U1) => (None, false),
            TypeDescriptor::Integer(IntSize::U2) => (Some(bitshuffle::Pixel::I16), false),
            TypeDescriptor::Integer(IntSize::U4) => (Some(bitshuffle::Pixel::I32), false),
            other => return Err(FrameError::PixelType(other.to_string())),
        };
        let filters = ds.filters();
        let chunk = ds.chunk();
        let slow = if chunk.as_deref() != Some(&[1, rows, cols][..]) {
            Some(format!(
                "chunks are {chunk:?}, not one frame (1, {rows}, {cols})"
            ))
        } else if !matches!(
            filters.as_slice(),
            [Filter::User(BITSHUFFLE_FILTER_ID, cd)] if cd.get(4) == Some(&BITSHUFFLE_LZ4)
        ) {
            Some(format!("filters {filters:?} are not bitshuffle/LZ4 alone"))
        } else if pixel.is_none() {
            Some(format!(
                "element type {dtype} has no bitshuffle block decoder"
            ))
        } else {
            None
        };
        Ok(Opened {
            ds,
            frames,
            rows,
            cols,
            pixel,
            unsigned32,
            slow,
        })
    }

    /// The frame through HDF5's own read (any layout and filter HDF5 can read).
    fn read_slow(&self, frame: usize) -> Result<Vec<i32>, FrameError> {
        let err = |e: hdf5::Error| FrameError::Hdf5(format!("reading frame {frame}: {e}"));
        if self.unsigned32 {
            let a = self
                .ds
                .read_slice_2d::<u32, _>((frame, .., ..))
                .map_err(err)?;
            a.iter()
                .enumerate()
                .map(|(i, &v)| match v {
                    u32::MAX => Ok(-1),
                    v => i32::try_from(v).map_err(|_| {
                        FrameError::Bitshuffle(bitshuffle::Error::ValueOutOfRange {
                            index: i,
                            value: u64::from(v),
                        })
                    }),
                })
                .collect()
        } else {
            let a = self
                .ds
                .read_slice_2d::<i32, _>((frame, .., ..))
                .map_err(err)?;
            let mut v: Vec<i32> = a.iter().copied().collect();
            if self.pixel == Some(bitshuffle::Pixel::U16) {
                v.iter_mut().filter(|p| **p == 0xFFFF).for_each(|p| *p = -1);
            }
            Ok(v)
        }
    }
}

/// A frame read from an HDF5 dataset.
struct Hdf5Frame {
    /// The compressed chunk (direct path), else the reused buffer, unused.
    buffer: Vec<u8>,
    codec: Codec,
    decoded: Option<Vec<i32>>,
    dims: [usize; 2],
    normalization: f64,
}

impl OpenFrame for Hdf5Frame {
    fn data(&self, index: usize) -> FrameData<'_> {
        let payload = match &self.decoded {
            Some(pixels) => Payload::Decoded(pixels),
            None => Payload::Encoded {
                codec: self.codec,
                bytes: &self.buffer,
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
        Some(self.buffer)
    }
}

impl FrameReader for Hdf5Reader {
    fn open<'s>(
        &self,
        index: usize,
        source: &'s FrameSource,
        mut buffer: Vec<u8>,
    ) -> Result<Box<dyn OpenFrame + 's>, FrameError> {
        let FrameSource::Hdf5 {
            file,
            dataset,
            frame,
        } = source
        else {
            return Err(FrameError::Hdf5(
                "not an HDF5 frame (use readers::AnyReader)".into(),
            ));
        };
        let frame = *frame;
        let normalization = self.monitor.value(index, &cbf_format::Header::default())?;
        let ds = self.dataset(file, dataset)?;
        if frame >= ds.frames {
            return Err(FrameError::Hdf5(format!(
                "frame {frame} is past the dataset's {} frames",
                ds.frames
            )));
        }
        let dims = [ds.cols, ds.rows];
        let (pixel, decoded) = match (ds.pixel, &ds.slow) {
            (Some(pixel), None) => {
                // Bitshuffle/LZ4 of n elements: the header, a 4-byte size per block, and LZ4's
                // worst case (n + n/255 + 16 per block); twice the raw size bounds it.
                let raw = ds.rows.saturating_mul(ds.cols).saturating_mul(pixel.size());
                let max = raw.saturating_mul(2).saturating_add(4096);
                direct::read_chunk(&ds.ds, frame, max, &mut buffer).map_err(FrameError::Hdf5)?;
                (pixel, None)
            }
            _ => (
                ds.pixel.unwrap_or(bitshuffle::Pixel::I32),
                Some(ds.read_slow(frame)?),
            ),
        };
        Ok(Box::new(Hdf5Frame {
            buffer,
            codec: Codec::BitshuffleLz4 { pixel },
            decoded,
            dims,
            normalization,
        }))
    }
}

#[allow(unsafe_code)] // HDF5's direct chunk read through FFI: two calls, their safety argument beside them.
mod direct {
    use hdf5_sys::h5::{HADDR_UNDEF, haddr_t, hsize_t};

    /// Reads the stored (still compressed) chunk of frame `frame` of a 3-D dataset chunked
    /// `(1, rows, columns)` into `buf`, refusing a chunk of more than `max` bytes.
    pub(super) fn read_chunk(
        ds: &hdf5::Dataset,
        frame: usize,
        max: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), String> {
        // Both calls read one offset per dimension: a rank-3 dataset only.
        if ds.ndim() != 3 {
            return Err(format!(
                "direct chunk read needs a 3-D dataset, not {}-D",
                ds.ndim()
            ));
        }
        let offset: [hsize_t; 3] = [frame as hsize_t, 0, 0];
        let id = ds.id();
        let last_error = || hdf5::Error::query().unwrap_or_else(|e| e).to_string();
        hdf5::sync::sync(|| {
            let (mut mask, mut addr, mut size): (u32, haddr_t, hsize_t) = (0, 0, 0);
            // SAFETY: FFI under the hdf5 crate's library lock. `id` is a live dataset of rank 3
            // (checked above), `offset` holds 3 coordinates, and the three out-pointers are
            // valid, distinct locals.
            let status = unsafe {
                hdf5_sys::h5d::H5Dget_chunk_info_by_coord(
                    id,
                    offset.as_ptr(),
                    &mut mask,
                    &mut addr,
                    &mut size,
                )
            };
            if status < 0 {
                return Err(format!(
                    "cannot locate the chunk of frame {frame}: {}",
                    last_error()
                ));
            }
            if addr == HADDR_UNDEF || size == 0 {
                return Err(format!("the chunk of frame {frame} was never written"));
            }
            if mask != 0 {
                return Err(format!(
                    "the chunk of frame {frame} was stored without its filter (mask {mask:#x})"
                ));
            }
            let len = usize::try_from(size)
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| {
                    format!("the chunk of frame {frame} is {size} bytes, more than a frame compresses to ({max})")
                })?;
            buf.clear();
            buf.resize(len, 0);
            let mut filters = 0u32;
            // SAFETY: as above; `buf` holds `len` bytes, the chunk's stored size read under the
            // same lock just before, which is all H5Dread_chunk writes.
            let status = unsafe {
                hdf5_sys::h5d::H5Dread_chunk1(
                    id,
                    hdf5_sys::h5p::H5P_DEFAULT,
                    offset.as_ptr(),
                    &mut filters,
                    buf.as_mut_ptr().cast(),
                )
            };
            if status < 0 {
                return Err(format!(
                    "cannot read the chunk of frame {frame}: {}",
                    last_error()
                ));
            }
            Ok(())
        })
    }
}
