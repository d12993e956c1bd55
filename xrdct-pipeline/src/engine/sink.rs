//! Where the engine puts rows, in scan order: the [`RowSink`] trait, [`MemorySink`] and the
//! CSV writer ([`crate::output::CsvWriter`]); the NeXus writer is in `crate::nexus`
//! (feature `hdf5`).

use crate::engine::{FrameError, Row};

/// A frame's outcome as the writer hands it to the [`RowSink`], in scan order.
#[derive(Debug, Clone, Copy)]
pub struct FrameOutcome<'a> {
    /// Position in the scan.
    pub index: usize,
    /// The frame's source name (file path as given).
    pub source: &'a str,
    /// The row, or why the frame failed.
    pub result: Result<&'a Row, &'a FrameError>,
}

/// Error type of sinks.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where the writer puts rows: a NeXus file, a CSV file, memory, a sinogram.
pub trait RowSink {
    /// Called once per frame, in scan order, with consecutive indices.
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError>;
}

impl<S: RowSink + ?Sized> RowSink for &mut S {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        (**self).push(frame)
    }
}

/// A sink that keeps every row in memory (`None` for a failed frame) with the failures.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Rows in scan order from the first index of the run.
    pub rows: Vec<Option<Row>>,
    /// Sources in scan order.
    pub sources: Vec<String>,
    /// `(index, message)` of each failed frame.
    pub failures: Vec<(usize, String)>,
}

impl RowSink for MemorySink {
    fn push(&mut self, frame: FrameOutcome<'_>) -> Result<(), SinkError> {
        match frame.result {
            Ok(row) => self.rows.push(Some(row.clone())),
            Err(e) => {
                self.rows.push(None);
                self.failures.push((frame.index, e.to_string()));
            }
        }
        self.sources.push(frame.source.to_string());
        Ok(())
    }
}
