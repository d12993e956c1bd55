//! Where the rows go: a NeXus HDF5 file ([`NexusWriter`]) or CSV text ([`CsvWriter`]), both
//! written under a temporary name (`OUT.part`) and renamed when the run ends.
//!
//! NeXus layout (every facility tool opens it: h5py, silx, NeXpy, DAWN):
//! ```text
//! /                       @default="entry"  @creator="xrdct …"
//! /entry                  NXentry  @default="integrated"  start_time end_time program_name
//! /entry/integrated       NXdata   @signal="intensity"  @axes=[".", "radial"]
//!     intensity           float32 [frames, bins], chunked per block of frames, shuffle + deflate
//!     sigma               float32 [frames, bins] (also linked as intensity_errors)
//!     radial              float64 [bins]  @units ("deg", "1/nm", "1/angstrom", "mm")
//!     sum_signal, sum_normalization, count   float64 [frames, bins] (optional)
//!     frame_ok            uint8 [frames]   1 = reduced, 0 = failed (NaN row)
//!     frame_source        string [frames]  the file each row came from
//! /entry/process          NXprocess  program version date
//!     geometry            NXnote: the PONI file's text
//!     configuration       NXnote: every parameter of the run as JSON
//!     parameters          NXcollection: the same parameters, one field each
//! ```
//!
//! Rows are kept in memory for one block (the chunk height) and then written and flushed,
//! so an interrupted run leaves a readable `OUT.part` holding every completed block. A block of
//! `intensity` and `sigma` is one chunk: the writer shuffles and deflates it itself
//! (libdeflate, [`crate::h5deflate`]) and stores it with a direct chunk write, the same bytes
//! HDF5's filters would store, in less CPU time.
//! `frame_ok` is extended last in each block: its length is the number of complete rows,
//! and [`NexusWriter::resume`] continues from there.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hdf5::types::VarLenUnicode;
use ndarray::{ArrayView1, ArrayView2, s};
use serde_json::{Map, Value};

use crate::engine::{FrameOutcome, RowSink, RunInfo, SinkError, VOLATILE_PARAMETERS};
use crate::nexus::h5::{json_dataset, nx_group, radial_attrs, str_attr, str_dataset, vlu};
use crate::output::{OutputError, iso8601_utc, partial_path};

/// Settings of [`NexusWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NexusOptions {
    /// Frames per chunk and per flush.
    pub block: usize,
    /// Deflate level (0–9), `None` for no compression.
    pub deflate: Option<u8>,
}

impl Default for NexusOptions {
    /// 32-frame blocks, byte shuffle + deflate level 1 (rows of noisy patterns compress about
    /// 1.4×, at ~50 MB/s of zlib per core).
    fn default() -> Self {
        NexusOptions {
            block: 32,
            deflate: Some(1),
        }
    }
}

/// Writes rows into a NeXus HDF5 file (see the module documentation for the layout).
pub struct NexusWriter {
    file: hdf5::File,
    final_path: PathBuf,
    part_path: PathBuf,
    bins: usize,
    block: usize,
    intensity: hdf5::Dataset,
    sigma: hdf5::Dataset,
    acc: Option<[hdf5::Dataset; 3]>,
    frame_ok: hdf5::Dataset,
    frame_source: hdf5::Dataset,
    /// Deflate level of `intensity` and `sigma` when their blocks are written as whole chunks,
    /// shuffled and deflated here ([`crate::h5deflate`]); `None`: through HDF5's filters.
    direct_level: Option<u8>,
    buf_i: Vec<f32>,
    buf_s: Vec<f32>,
    buf_acc: [Vec<f64>; 3],
    buf_ok: Vec<u8>,
    buf_src: Vec<VarLenUnicode>,
    rows: usize,
    next_index: usize,
}

impl std::fmt::Debug for NexusWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NexusWriter")
            .field("path", &self.final_path)
            .field("rows", &self.rows)
            .finish()
    }
}

struct H5<'a>(&'a Path);
impl H5<'_> {
    fn e(&self) -> impl Fn(hdf5::Error) -> OutputError + '_ {
        move |source| OutputError::Hdf5 {
            path: self.0.to_path_buf(),
            source,
        }
    }
}
impl NexusWriter {
    /// Creates `PATH.part` (replacing any previous one) with the whole layout and no rows.
    pub fn create(path: &Path, info: &RunInfo, opts: &NexusOptions) -> Result<Self, OutputError> {
        let part = partial_path(path);
        let h = H5(&part);
        let bins = info.bins();
        let block = opts.block.max(1);
        let file = hdf5::File::create(&part).map_err(h.e())?;
        let now = iso8601_utc(SystemTime::now());
        let creator = format!("xrdct {}", env!("CARGO_PKG_VERSION"));
        (|| -> hdf5::Result<()> {
            str_attr(&file, "default", "entry")?;
            str_attr(&file, "creator", &creator)?;
            str_attr(&file, "file_time", &now)?;
            str_attr(&file, "NX_class", "NXroot")?;
            let entry = nx_group(&file, "entry", "NXentry")?;
            str_attr(&entry, "default", "integrated")?;
            str_dataset(&entry, "program_name", "xrdct")?;
            str_dataset(&entry, "start_time", &now)?;
            str_dataset(&entry, "title", "xrdct integrate")?;

            let data = nx_group(&entry, "integrated", "NXdata")?;
            str_attr(&data, "signal", "intensity")?;
            data.new_attr_builder()
                .with_data(&[vlu("."), vlu("radial")])
                .create("axes")?;
            data.new_attr::<i64>()
                .create("radial_indices")?
                .write_scalar(&1i64)?;

            let radial = data
                .new_dataset_builder()
                .with_data(&info.radial)
                .create("radial")?;
            radial_attrs(&radial, &info.unit)?;
            let process = nx_group(&entry, "process", "NXprocess")?;
            str_dataset(&process, "program", "xrdct")?;
            str_dataset(&process, "version", env!("CARGO_PKG_VERSION"))?;
            str_dataset(&process, "date", &now)?;
            process
                .new_dataset::<i64>()
                .create("sequence_index")?
                .write_scalar(&1i64)?;
            let geometry = nx_group(&process, "geometry", "NXnote")?;
            str_dataset(&geometry, "type", "text/plain")?;
            str_dataset(&geometry, "file_name", &info.poni_file)?;
            str_dataset(&geometry, "description", "pyFAI PONI geometry")?;
            str_dataset(&geometry, "data", &info.poni_text)?;
            let config = nx_group(&process, "configuration", "NXnote")?;
            str_dataset(&config, "type", "application/json")?;
            str_dataset(&config, "description", "every parameter of the run")?;
            str_dataset(
                &config,
                "data",
                &Value::Object(info.parameters.clone()).to_string(),
            )?;
            let params = nx_group(&process, "parameters", "NXcollection")?;
            for (k, v) in &info.parameters {
                json_dataset(&params, k, v)?;
            }
            Ok(())
        })()
        .map_err(h.e())?;
        let data = file.group("entry/integrated").map_err(h.e())?;
        let rows2 = |name: &str, f64s: bool| -> hdf5::Result<hdf5::Dataset> {
            let b = data.new_dataset_builder().chunk((block, bins.max(1)));
            // Byte shuffle before deflate: noisy floats compress 1.4× instead of 1.14×, and
            // twice as fast (zlib spends its time failing to match unshuffled mantissas).
            let b = if let Some(level) = opts.deflate {
                b.shuffle().deflate(level)
            } else {
                b
            };
            let b = if f64s {
                b.empty::<f64>()
            } else {
                b.empty::<f32>()
            };
            let ds = b.shape((0.., bins)).create(name)?;
            Ok(ds)
        };
        let rows1 = |name: &str, string: bool| -> hdf5::Result<hdf5::Dataset> {
            let b = data.new_dataset_builder().chunk(block);
            let b = if let Some(level) = opts.deflate {
                b.deflate(level)
            } else {
                b
            };
            let b = if string {
                b.empty::<VarLenUnicode>()
            } else {
                b.empty::<u8>()
            };
            b.shape(0..).create(name)
        };
        let made = (|| -> hdf5::Result<_> {
            let intensity = rows2("intensity", false)?;
            str_attr(&intensity, "interpretation", "spectrum")?;
            str_attr(&intensity, "long_name", "intensity")?;
            let sigma = rows2("sigma", false)?;
            str_attr(&sigma, "long_name", "standard error of the intensity")?;
            data.link_hard("sigma", "intensity_errors")?;
            let acc = if info.accumulators {
                Some([
                    rows2("sum_signal", true)?,
                    rows2("sum_normalization", true)?,
                    rows2("count", true)?,
                ])
            } else {
                None
            };
            let frame_source = rows1("frame_source", true)?;
            let frame_ok = rows1("frame_ok", false)?;
            str_attr(
                &frame_ok,
                "long_name",
                "1 = frame reduced, 0 = failed (NaN row)",
            )?;
            Ok((intensity, sigma, acc, frame_source, frame_ok))
        })()
        .map_err(h.e())?;
        let (intensity, sigma, acc, frame_source, frame_ok) = made;
        file.flush().map_err(h.e())?;
        Ok(Self::assemble(
            file,
            path,
            part,
            bins,
            block,
            intensity,
            sigma,
            acc,
            frame_ok,
            frame_source,
            0,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        file: hdf5::File,
        path: &Path,
        part: PathBuf,
        bins: usize,
        block: usize,
        intensity: hdf5::Dataset,
        sigma: hdf5::Dataset,
        acc: Option<[hdf5::Dataset; 3]>,
        frame_ok: hdf5::Dataset,
        frame_source: hdf5::Dataset,
        rows: usize,
    ) -> Self {
        let n = block * bins;
        let acc_n = if acc.is_some() { n } else { 0 };
        let chunk = [block, bins.max(1)];
        let direct_level = crate::nexus::chunk::shuffled_deflate_level(&intensity, &chunk)
            .filter(|&l| crate::nexus::chunk::shuffled_deflate_level(&sigma, &chunk) == Some(l));
        NexusWriter {
            direct_level,
            file,
            final_path: path.to_path_buf(),
            part_path: part,
            bins,
            block,
            intensity,
            sigma,
            acc,
            frame_ok,
            frame_source,
            buf_i: Vec::with_capacity(n),
            buf_s: Vec::with_capacity(n),
            buf_acc: [
                Vec::with_capacity(acc_n),
                Vec::with_capacity(acc_n),
                Vec::with_capacity(acc_n),
            ],
            buf_ok: Vec::with_capacity(block),
            buf_src: Vec::with_capacity(block),
            rows,
            next_index: rows,
        }
    }

    /// Reopens the `PATH.part` of an interrupted run with the same geometry and parameters
    /// (apart from [`VOLATILE_PARAMETERS`]). Rows past the last complete block are dropped.
    /// Returns the writer, positioned after the complete rows, and their sources in order:
    /// the caller checks they are the first inputs and continues with the rest.
    pub fn resume(
        path: &Path,
        info: &RunInfo,
        opts: &NexusOptions,
    ) -> Result<(Self, Vec<String>), OutputError> {
        let part = partial_path(path);
        if !part.exists() {
            let why = if path.exists() {
                format!(
                    "{} is complete (no {} left by an interrupted run)",
                    path.display(),
                    part.display()
                )
            } else {
                format!("no {} left by an interrupted run", part.display())
            };
            return Err(OutputError::Resume(why));
        }
        let h = H5(&part);
        let file = hdf5::File::open_rw(&part).map_err(h.e())?;
        let data = file.group("entry/integrated").map_err(h.e())?;
        let stored_poni: String = file
            .dataset("entry/process/geometry/data")
            .and_then(|d| d.read_scalar::<VarLenUnicode>())
            .map_err(h.e())?
            .to_string();
        if stored_poni != info.poni_text {
            return Err(OutputError::Resume("the geometry (PONI) differs".into()));
        }
        let stored_cfg: String = file
            .dataset("entry/process/configuration/data")
            .and_then(|d| d.read_scalar::<VarLenUnicode>())
            .map_err(h.e())?
            .to_string();
        let stored: Map<String, Value> = serde_json::from_str(&stored_cfg).unwrap_or_default();
        for key in stored.keys().chain(info.parameters.keys()) {
            if VOLATILE_PARAMETERS.contains(&key.as_str()) {
                continue;
            }
            if stored.get(key) != info.parameters.get(key) {
                return Err(OutputError::Resume(format!(
                    "parameter {key} differs: {} stored, {} now",
                    stored.get(key).map_or("none".into(), Value::to_string),
                    info.parameters
                        .get(key)
                        .map_or("none".into(), Value::to_string)
                )));
            }
        }
        let radial: Vec<f64> = data
            .dataset("radial")
            .and_then(|d| d.read_raw())
            .map_err(h.e())?;
        if radial != info.radial {
            return Err(OutputError::Resume(format!(
                "radial bin centres differ ({} stored, {} now)",
                radial.len(),
                info.radial.len()
            )));
        }
        let open = |n: &str| data.dataset(n).map_err(h.e());
        let (intensity, sigma, frame_ok, frame_source) = (
            open("intensity")?,
            open("sigma")?,
            open("frame_ok")?,
            open("frame_source")?,
        );
        let acc = if info.accumulators {
            Some([
                open("sum_signal")?,
                open("sum_normalization")?,
                open("count")?,
            ])
        } else {
            None
        };
        let rows = frame_ok.shape().first().copied().unwrap_or(0);
        let bins = info.bins();
        // Drop rows of a block that was being written when the run stopped.
        let mut two_d = vec![&intensity, &sigma];
        if let Some(a) = &acc {
            two_d.extend(a.iter());
        }
        for ds in two_d {
            if ds.shape().first().copied().unwrap_or(0) != rows {
                ds.resize((rows, bins)).map_err(h.e())?;
            }
        }
        if frame_source.shape().first().copied().unwrap_or(0) != rows {
            frame_source.resize(rows).map_err(h.e())?;
        }
        let sources: Vec<String> = if rows > 0 {
            frame_source
                .read_raw::<VarLenUnicode>()
                .map_err(h.e())?
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            Vec::new()
        };
        let block = intensity
            .chunk()
            .and_then(|c| c.first().copied())
            .unwrap_or(opts.block)
            .max(1);
        let w = Self::assemble(
            file,
            path,
            part,
            bins,
            block,
            intensity,
            sigma,
            acc,
            frame_ok,
            frame_source,
            rows,
        );
        Ok((w, sources))
    }

    /// Complete rows in the file (not counting the block in memory).
    pub fn rows_on_disk(&self) -> usize {
        self.rows
    }

    /// Where the file is being written (`PATH.part`).
    pub fn partial_path(&self) -> &Path {
        &self.part_path
    }

    /// Adds one row (in scan order).
    pub fn push_row(&mut self, frame: FrameOutcome<'_>) -> Result<(), OutputError> {
        let bins = self.bins;
        match frame.result {
            Ok(row) => {
                for got in [row.intensity.len(), row.sigma.len()] {
                    if got != bins {
                        return Err(OutputError::RowLength {
                            index: frame.index,
                            expected: bins,
                            got,
                        });
                    }
                }
                self.buf_i.extend_from_slice(&row.intensity);
                self.buf_s.extend_from_slice(&row.sigma);
                if self.acc.is_some() {
                    match &row.accumulators {
                        Some(a) => {
                            for (buf, v) in self.buf_acc.iter_mut().zip([
                                &a.sum_signal,
                                &a.sum_normalization,
                                &a.count,
                            ]) {
                                if v.len() != bins {
                                    return Err(OutputError::RowLength {
                                        index: frame.index,
                                        expected: bins,
                                        got: v.len(),
                                    });
                                }
                                buf.extend_from_slice(v);
                            }
                        }
                        None => {
                            for buf in &mut self.buf_acc {
                                buf.extend(std::iter::repeat_n(f64::NAN, bins));
                            }
                        }
                    }
                }
                self.buf_ok.push(1);
            }
            Err(_) => {
                self.buf_i.extend(std::iter::repeat_n(f32::NAN, bins));
                self.buf_s.extend(std::iter::repeat_n(f32::NAN, bins));
                if self.acc.is_some() {
                    for buf in &mut self.buf_acc {
                        buf.extend(std::iter::repeat_n(f64::NAN, bins));
                    }
                }
                self.buf_ok.push(0);
            }
        }
        self.buf_src.push(vlu(frame.source));
        self.next_index = frame.index + 1;
        if self.buf_ok.len() >= self.block {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Writes the rows held in memory and flushes the file.
    pub fn flush_block(&mut self) -> Result<(), OutputError> {
        let n = self.buf_ok.len();
        if n == 0 {
            return Ok(());
        }
        let h = H5(&self.part_path);
        let (r0, r1, bins) = (self.rows, self.rows + n, self.bins);
        let (block, direct) = (self.block, self.direct_level);
        let write2 = |ds: &hdf5::Dataset, buf: &[f32]| -> hdf5::Result<()> {
            ds.resize((r1, bins))?;
            if let Some(level) = direct
                && r0 % block == 0
                && n <= block
            {
                return crate::nexus::chunk::write_chunk_f32(ds, r0, buf, block, bins, level);
            }
            let view = ArrayView2::from_shape((n, bins), buf)
                .map_err(|e| hdf5::Error::from(e.to_string()))?;
            ds.write_slice(view, s![r0..r1, ..])
        };
        let write2d = |ds: &hdf5::Dataset, buf: &[f64]| -> hdf5::Result<()> {
            ds.resize((r1, bins))?;
            let view = ArrayView2::from_shape((n, bins), buf)
                .map_err(|e| hdf5::Error::from(e.to_string()))?;
            ds.write_slice(view, s![r0..r1, ..])
        };
        (|| -> hdf5::Result<()> {
            write2(&self.intensity, &self.buf_i)?;
            write2(&self.sigma, &self.buf_s)?;
            if let Some(acc) = &self.acc {
                for (ds, buf) in acc.iter().zip(&self.buf_acc) {
                    write2d(ds, buf)?;
                }
            }
            self.frame_source.resize(r1)?;
            self.frame_source
                .write_slice(ArrayView1::from(&self.buf_src[..]), s![r0..r1])?;
            // frame_ok last: its length marks the complete rows.
            self.frame_ok.resize(r1)?;
            self.frame_ok
                .write_slice(ArrayView1::from(&self.buf_ok[..]), s![r0..r1])?;
            self.file.flush()
        })()
        .map_err(h.e())?;
        self.rows = r1;
        self.buf_i.clear();
        self.buf_s.clear();
        for b in &mut self.buf_acc {
            b.clear();
        }
        self.buf_ok.clear();
        self.buf_src.clear();
        Ok(())
    }

    /// Writes the last rows and `summary` (a JSON object: frames, failed, timings) into
    /// `/entry/process`, closes the file and renames `PATH.part` to `PATH`.
    pub fn finish(mut self, summary: &Value) -> Result<PathBuf, OutputError> {
        self.flush_block()?;
        let h = H5(&self.part_path);
        (|| -> hdf5::Result<()> {
            let entry = self.file.group("entry")?;
            if entry.link_exists("end_time") {
                entry.unlink("end_time")?;
            }
            str_dataset(&entry, "end_time", &iso8601_utc(SystemTime::now()))?;
            let process = self.file.group("entry/process")?;
            if process.link_exists("summary") {
                process.unlink("summary")?;
            }
            let note = nx_group(&process, "summary", "NXnote")?;
            str_dataset(&note, "type", "application/json")?;
            str_dataset(&note, "data", &summary.to_string())?;
            self.file.flush()
        })()
        .map_err(h.e())?;
        let NexusWriter {
            file,
            part_path,
            final_path,
            intensity,
            sigma,
            acc,
            frame_ok,
            frame_source,
            ..
        } = self;
        // Close every dataset first: the file closes (and its lock goes) only with them.
        drop((intensity, sigma, acc, frame_ok, frame_source));
        file.close().map_err(|source| OutputError::Hdf5 {
            path: part_path.clone(),
            source,
        })?;
        std::fs::rename(&part_path, &final_path).map_err(|source| OutputError::Io {
            path: final_path.clone(),
            source,
        })?;
        Ok(final_path)
    }
}

impl RowSink for NexusWriter {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        Ok(self.push_row(frame)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FrameError;
    use crate::output::fixtures::{info, row};

    #[test]
    fn blocks_are_flushed_and_resume_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.h5");
        let inf = info(5, false);
        let opts = NexusOptions {
            block: 4,
            deflate: Some(1),
        };
        let mut w = NexusWriter::create(&path, &inf, &opts).unwrap();
        let err = FrameError::Backend("broken".into());
        for k in 0..10 {
            let r = row(k, 5);
            let result = if k == 6 { Err(&err) } else { Ok(&r) };
            w.push_row(FrameOutcome {
                index: k,
                source: &format!("f_{k}.cbf"),
                result,
            })
            .unwrap();
        }
        assert_eq!(w.rows_on_disk(), 8);
        drop(w); // an interrupted run: two complete blocks on disk
        assert!(!path.exists());
        let (mut w, sources) = NexusWriter::resume(&path, &inf, &opts).unwrap();
        assert_eq!(sources.len(), 8);
        assert_eq!(sources[7], "f_7.cbf");
        for k in 8..11 {
            let r = row(k, 5);
            w.push_row(FrameOutcome {
                index: k,
                source: &format!("f_{k}.cbf"),
                result: Ok(&r),
            })
            .unwrap();
        }
        let out = w.finish(&serde_json::json!({"frames": 11})).unwrap();
        assert_eq!(out, path);
        let f = hdf5::File::open(&path).unwrap();
        let i: Vec<f32> = f
            .dataset("entry/integrated/intensity")
            .unwrap()
            .read_raw()
            .unwrap();
        assert_eq!(i.len(), 55);
        assert_eq!(i[10 * 5 + 2], 1002.0);
        assert!(i[6 * 5].is_nan());
        let ok: Vec<u8> = f
            .dataset("entry/integrated/frame_ok")
            .unwrap()
            .read_raw()
            .unwrap();
        assert_eq!(ok, [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
        // A different parameter refuses to resume; a volatile one does not matter.
        let mut other = inf.clone();
        other.parameters.insert("split".into(), "no".into());
        let w = NexusWriter::create(&path, &inf, &opts).unwrap();
        drop(w);
        assert!(
            matches!(NexusWriter::resume(&path, &other, &opts), Err(OutputError::Resume(m)) if m.contains("split"))
        );
        let mut other = inf.clone();
        other.parameters.insert("workers".into(), 7.into());
        assert!(NexusWriter::resume(&path, &other, &opts).is_ok());
    }
}
