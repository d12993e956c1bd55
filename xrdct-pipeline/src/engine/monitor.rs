//! Per-frame monitor normalization: from a CBF header field (`Flux`, `Exposure_time`, …) or
//! from a column of a text file or an HDF5 dataset, one value per frame in scan order.
//!
//! The value divides the frame's intensity, as pyFAI's `normalization_factor` does.
//!
//! ```
//! use xrdct_pipeline::engine::Monitor;
//! let m = Monitor::parse("flux").unwrap();
//! let header = cbf_format::Header { flux: Some(2.5e12), ..Default::default() };
//! assert_eq!(m.value(0, &header).unwrap(), 2.5e12);
//! assert_eq!(Monitor::None.value(7, &header).unwrap(), 1.0);
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A header field that can serve as monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderField {
    /// `# Flux` (photons/s).
    Flux,
    /// `# Exposure_time` (s).
    ExposureTime,
    /// `# Filter_transmission`.
    FilterTransmission,
}

impl HeaderField {
    /// Parses a field name as it appears in a miniCBF header (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "flux" => Some(HeaderField::Flux),
            "exposure_time" => Some(HeaderField::ExposureTime),
            "filter_transmission" => Some(HeaderField::FilterTransmission),
            _ => None,
        }
    }

    /// The miniCBF name.
    pub fn name(self) -> &'static str {
        match self {
            HeaderField::Flux => "Flux",
            HeaderField::ExposureTime => "Exposure_time",
            HeaderField::FilterTransmission => "Filter_transmission",
        }
    }

    fn get(self, h: &cbf_format::Header) -> Option<f64> {
        match self {
            HeaderField::Flux => h.flux,
            HeaderField::ExposureTime => h.exposure_time,
            HeaderField::FilterTransmission => h.filter_transmission,
        }
    }
}

/// Where each frame's normalization value comes from.
#[derive(Debug, Clone, Default)]
pub enum Monitor {
    /// No normalization (factor 1).
    #[default]
    None,
    /// A field of each frame's own header.
    Header(HeaderField),
    /// One value per frame, in scan order, loaded before the run.
    Values {
        /// Where the values came from (for messages and the NeXus process record).
        source: String,
        /// The values.
        values: Arc<[f64]>,
    },
}

/// Why a monitor could not be loaded or used. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The specification is not understood (user).
    #[error(
        "monitor {0:?}: expected `flux`, `header:FIELD` (Flux, Exposure_time, Filter_transmission), `FILE:COLUMN` or `FILE.h5:/DATASET`"
    )]
    BadSpec(String),
    /// The monitor file cannot be read (environment or user).
    #[error("monitor file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A frame's header lacks the field (file).
    #[error("header has no {0} field for the monitor")]
    MissingField(&'static str),
    /// There are fewer monitor values than frames (user).
    #[error("monitor {origin} has {len} values, none for frame {index}")]
    TooShort {
        /// Where the values came from.
        origin: String,
        /// Number of values.
        len: usize,
        /// The frame index asked for.
        index: usize,
    },
    /// The value cannot divide an intensity (zero, negative, NaN) (file or user).
    #[error("monitor value {0} for this frame is not a positive number")]
    NotPositive(f64),
}

impl Monitor {
    /// Parses a monitor specification:
    /// - `flux` or `header:FIELD`: from each frame's header;
    /// - `FILE.h5:/path/to/dataset` (also `.hdf5`, `.nxs`, `.nx5`): a 1D HDF5 dataset;
    /// - `FILE:COLUMN`: a column of a text file (comma, tab or space separated; `#` comments);
    ///   `COLUMN` is a 0-based number or a name from the first line.
    pub fn parse(spec: &str) -> Result<Monitor, MonitorError> {
        let bad = || MonitorError::BadSpec(spec.to_string());
        if let Some(field) = HeaderField::parse(spec) {
            return Ok(Monitor::Header(field));
        }
        if let Some(name) = spec.strip_prefix("header:") {
            return HeaderField::parse(name)
                .map(Monitor::Header)
                .ok_or_else(bad);
        }
        let (file, key) = spec.rsplit_once(':').ok_or_else(bad)?;
        if file.is_empty() || key.is_empty() {
            return Err(bad());
        }
        let path = Path::new(file);
        let values = if is_hdf5(path) {
            read_hdf5_column(path, key)?
        } else {
            read_text_column(path, key)?
        };
        Ok(Monitor::Values {
            source: spec.to_string(),
            values: values.into(),
        })
    }

    /// The normalization value of frame `index` whose header is `header`: finite and > 0.
    pub fn value(&self, index: usize, header: &cbf_format::Header) -> Result<f64, MonitorError> {
        let v = match self {
            Monitor::None => return Ok(1.0),
            Monitor::Header(f) => f.get(header).ok_or(MonitorError::MissingField(f.name()))?,
            Monitor::Values { source, values } => {
                *values.get(index).ok_or_else(|| MonitorError::TooShort {
                    origin: source.clone(),
                    len: values.len(),
                    index,
                })?
            }
        };
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(MonitorError::NotPositive(v))
        }
    }

    /// A short description for the NeXus process record: `none`, `header:Flux`, or the spec.
    pub fn describe(&self) -> String {
        match self {
            Monitor::None => "none".into(),
            Monitor::Header(f) => format!("header:{}", f.name()),
            Monitor::Values { source, .. } => source.clone(),
        }
    }

    /// Whether the values need each frame's header.
    pub fn needs_header(&self) -> bool {
        matches!(self, Monitor::Header(_))
    }

    /// The values of column `column` of a monitor text file given as text (the format of
    /// `FILE:COLUMN` in [`Monitor::parse`]); `source` names the text in errors, as the path
    /// of [`MonitorError::File`], and with the column in [`Monitor::Values`].
    pub fn from_text(text: &str, column: &str, source: &str) -> Result<Monitor, MonitorError> {
        let values = text_column(text, column).map_err(|message| MonitorError::File {
            path: source.into(),
            message,
        })?;
        Ok(Monitor::Values {
            source: format!("{source}:{column}"),
            values: values.into(),
        })
    }
}

fn is_hdf5(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("h5" | "hdf5" | "hdf" | "nxs" | "nx5")) {
        return true;
    }
    // HDF5 signature at offset 0 (files without a user block).
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == *b"\x89HDF\r\n\x1a\n"
}

#[cfg(not(feature = "hdf5"))]
fn read_hdf5_column(path: &Path, _dataset: &str) -> Result<Vec<f64>, MonitorError> {
    Err(MonitorError::File {
        path: path.to_path_buf(),
        message: "reading HDF5 monitors needs the `hdf5` feature".into(),
    })
}

#[cfg(feature = "hdf5")]
fn read_hdf5_column(path: &Path, dataset: &str) -> Result<Vec<f64>, MonitorError> {
    let err = |e: hdf5::Error| MonitorError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = hdf5::File::open(path).map_err(err)?;
    let ds = file.dataset(dataset).map_err(err)?;
    if ds.ndim() != 1 {
        return Err(MonitorError::File {
            path: path.to_path_buf(),
            message: format!(
                "dataset {dataset} has shape {:?}, expected one value per frame",
                ds.shape()
            ),
        });
    }
    ds.read_raw::<f64>().map_err(err)
}

fn read_text_column(path: &Path, key: &str) -> Result<Vec<f64>, MonitorError> {
    let file_error = |message| MonitorError::File {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    text_column(&text, key).map_err(file_error)
}

/// Column `key` (a 0-based number or a name from the first line) of a monitor text file;
/// the error is the message for [`MonitorError::File`].
fn text_column(text: &str, key: &str) -> Result<Vec<f64>, String> {
    let split = |l: &str| -> Vec<String> {
        l.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut lines = text.lines().enumerate().filter(|(_, l)| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    });
    let mut column = key.parse::<usize>().ok();
    let mut values = Vec::new();
    let mut first = true;
    for (lineno, line) in lines.by_ref() {
        let tokens = split(line);
        if first {
            first = false;
            let numeric = tokens.iter().all(|t| t.parse::<f64>().is_ok());
            if !numeric {
                // A header line: find the named column.
                if column.is_none() {
                    column = tokens.iter().position(|t| t == key);
                }
                if column.is_none() {
                    return Err(format!("no column named {key:?} in the first line"));
                }
                continue;
            }
        }
        let Some(c) = column else {
            return Err(format!(
                "column {key:?} is not a number and the file has no header line"
            ));
        };
        let v = tokens
            .get(c)
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or_else(|| format!("line {}: no number in column {c}", lineno + 1))?;
        values.push(v);
    }
    if values.is_empty() {
        return Err("no values".into());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = cbf_format::Header {
            exposure_time: Some(0.004),
            ..Default::default()
        };
        assert_eq!(
            Monitor::parse("header:Exposure_time")
                .unwrap()
                .value(3, &h)
                .unwrap(),
            0.004
        );
        assert!(matches!(
            Monitor::parse("Flux").unwrap().value(0, &h),
            Err(MonitorError::MissingField("Flux"))
        ));
        assert!(matches!(
            Monitor::parse("header:Nope"),
            Err(MonitorError::BadSpec(_))
        ));
        assert!(matches!(
            Monitor::parse("nonsense"),
            Err(MonitorError::BadSpec(_))
        ));
    }

    #[test]
    fn text_columns_by_number_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i0.dat");
        std::fs::write(
            &p,
            "# monitor\nframe, i0, it\n0, 10.5, 3\n1, 11, 0\n\n2, 12, 2\n",
        )
        .unwrap();
        let by_name = Monitor::parse(&format!("{}:i0", p.display())).unwrap();
        let by_num = Monitor::parse(&format!("{}:1", p.display())).unwrap();
        let h = cbf_format::Header::default();
        for m in [&by_name, &by_num] {
            assert_eq!(m.value(0, &h).unwrap(), 10.5);
            assert_eq!(m.value(2, &h).unwrap(), 12.0);
            assert!(matches!(
                m.value(3, &h),
                Err(MonitorError::TooShort {
                    len: 3,
                    index: 3,
                    ..
                })
            ));
        }
        let it = Monitor::parse(&format!("{}:it", p.display())).unwrap();
        assert!(matches!(it.value(1, &h), Err(MonitorError::NotPositive(v)) if v == 0.0));
        assert!(Monitor::parse(&format!("{}:zz", p.display())).is_err());
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, "1 2\n3 4\n").unwrap();
        let m = Monitor::parse(&format!("{}:1", plain.display())).unwrap();
        assert_eq!(m.value(1, &h).unwrap(), 4.0);
        assert!(Monitor::parse(&format!("{}:0", dir.path().join("absent.txt").display())).is_err());
    }

    #[test]
    fn text_given_as_a_string() {
        let m = Monitor::from_text("t i0\n0 2.5\n1 3\n", "i0", "beam.dat").unwrap();
        assert_eq!(m.describe(), "beam.dat:i0");
        assert_eq!(m.value(1, &cbf_format::Header::default()).unwrap(), 3.0);
        let err = Monitor::from_text("0 1\n1 x\n", "1", "beam.dat").unwrap_err();
        assert_eq!(
            err.to_string(),
            "monitor file beam.dat: line 2: no number in column 1"
        );
    }

    #[cfg(feature = "hdf5")]
    #[test]
    fn hdf5_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scan.h5");
        {
            let f = hdf5::File::create(&p).unwrap();
            let g = f.create_group("entry").unwrap();
            g.new_dataset_builder()
                .with_data(&[1.0f64, 2.0, 4.0])
                .create("i0")
                .unwrap();
        }
        let m = Monitor::parse(&format!("{}:/entry/i0", p.display())).unwrap();
        assert_eq!(m.value(2, &cbf_format::Header::default()).unwrap(), 4.0);
        assert!(Monitor::parse(&format!("{}:/entry/none", p.display())).is_err());
    }
}
