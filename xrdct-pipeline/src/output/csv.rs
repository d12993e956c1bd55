//! Rows as CSV text.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::{FrameOutcome, RowSink, RunInfo, SinkError};
use crate::output::{OutputError, partial_path, unit_attributes};

/// Writes rows as CSV text: for a single frame, `radial,intensity,sigma`; for several,
/// `frame,radial,intensity,sigma` with one line per frame and bin. `#` lines describe the
/// run. Failed frames give `nan` values.
pub struct CsvWriter {
    out: std::io::BufWriter<std::fs::File>,
    final_path: PathBuf,
    part_path: PathBuf,
    radial: Vec<f64>,
    single: bool,
}

impl std::fmt::Debug for CsvWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvWriter")
            .field("path", &self.final_path)
            .finish()
    }
}

impl CsvWriter {
    /// Creates `PATH.part`; `single` selects the one-frame layout.
    pub fn create(path: &Path, info: &RunInfo, single: bool) -> Result<Self, OutputError> {
        let part = partial_path(path);
        let io = |source| OutputError::Io {
            path: part.clone(),
            source,
        };
        let file = std::fs::File::create(&part).map_err(io)?;
        let mut out = std::io::BufWriter::new(file);
        let (units, _) = unit_attributes(&info.unit);
        let head = (|| -> std::io::Result<()> {
            writeln!(out, "# xrdct {} integrate", env!("CARGO_PKG_VERSION"))?;
            writeln!(out, "# radial unit: {} ({units})", info.unit)?;
            writeln!(
                out,
                "# parameters: {}",
                Value::Object(info.parameters.clone())
            )?;
            for line in info.poni_text.lines() {
                writeln!(out, "# poni: {line}")?;
            }
            let r = format!("radial_{}", info.unit);
            if single {
                writeln!(out, "{r},intensity,sigma")
            } else {
                writeln!(out, "frame,{r},intensity,sigma")
            }
        })();
        head.map_err(io)?;
        Ok(CsvWriter {
            out,
            final_path: path.to_path_buf(),
            part_path: part,
            radial: info.radial.clone(),
            single,
        })
    }

    /// Flushes, closes and renames `PATH.part` to `PATH`.
    pub fn finish(self) -> Result<PathBuf, OutputError> {
        let CsvWriter {
            out,
            part_path,
            final_path,
            ..
        } = self;
        let file = out.into_inner().map_err(|e| OutputError::Io {
            path: part_path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|source| OutputError::Io {
            path: part_path.clone(),
            source,
        })?;
        drop(file);
        std::fs::rename(&part_path, &final_path).map_err(|source| OutputError::Io {
            path: final_path.clone(),
            source,
        })?;
        Ok(final_path)
    }
}

impl RowSink for CsvWriter {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        let n = self.radial.len();
        let (i, s): (Vec<f32>, Vec<f32>) = match frame.result {
            Ok(row) => (row.intensity.clone(), row.sigma.clone()),
            Err(_) => (vec![f32::NAN; n], vec![f32::NAN; n]),
        };
        if i.len() != n || s.len() != n {
            return Err(Box::new(OutputError::RowLength {
                index: frame.index,
                expected: n,
                got: i.len(),
            }));
        }
        for k in 0..n {
            if self.single {
                writeln!(self.out, "{},{},{}", self.radial[k], i[k], s[k])?;
            } else {
                writeln!(
                    self.out,
                    "{},{},{},{}",
                    frame.index, self.radial[k], i[k], s[k]
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{info, row};

    #[test]
    fn csv_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.csv");
        let inf = info(3, false);
        let mut w = CsvWriter::create(&path, &inf, true).unwrap();
        let r = row(0, 3);
        w.push(FrameOutcome {
            index: 0,
            source: "a",
            result: Ok(&r),
        })
        .unwrap();
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            data,
            [
                "radial_2th_deg,intensity,sigma",
                "0.5,0,0",
                "1.5,1,0.5",
                "2.5,2,1"
            ]
        );
    }
}
