//! The decode+integrate stage as the engine sees it: a [`FrameReducer`] built once per
//! geometry, one [`ReduceWorker`] per thread, a [`Row`] or a [`FrameError`] per frame.

use crate::engine::MonitorError;
use crate::readers::FrameData;

/// Per-bin accumulators kept for later re-binning or merging (pyFAI's names).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Accumulators {
    /// Σ signal (after dark subtraction), per bin.
    pub sum_signal: Vec<f64>,
    /// Σ normalization (solid angle × polarization × flat × monitor), per bin.
    pub sum_normalization: Vec<f64>,
    /// Number of pixels (fractional with splitting), per bin.
    pub count: Vec<f64>,
}

/// The reduced pattern of one frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// Intensity per radial bin.
    pub intensity: Vec<f32>,
    /// Standard error of the intensity per bin.
    pub sigma: Vec<f32>,
    /// The accumulators, when the reducer was asked to keep them.
    pub accumulators: Option<Accumulators>,
}

/// Why one frame failed. The frame is recorded as failed (NaN row, `frame_ok = 0`) and the
/// scan goes on. Each variant's doc says whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The file cannot be opened, read or parsed as CBF, or its MD5 is wrong (file).
    #[error("{}", cbf_reason(.0))]
    Cbf(#[from] cbf_format::Error),
    /// The file has no binary section of the index the run reads (file or user).
    #[error("no binary section {wanted} (the file has {count})")]
    NoSection {
        /// Section index asked for.
        wanted: usize,
        /// Sections present.
        count: usize,
    },
    /// The monitor value for the frame is missing or unusable (file or user).
    #[error("{0}")]
    Monitor(#[from] MonitorError),
    /// The binary section is not a 2-D image (file or user).
    #[error("the image has dimensions {dims:?}, not two")]
    NotAnImage {
        /// Its dimensions, fastest first.
        dims: Vec<usize>,
    },
    /// The image does not have the geometry's shape (file or user).
    #[error("image is {got:?} (fast, slow), the geometry expects {expected:?}")]
    Shape {
        /// Shape the geometry expects, fastest dimension first.
        expected: Vec<usize>,
        /// Shape of the image.
        got: Vec<usize>,
    },
    /// The compressed pixel data are corrupt (file).
    #[error("byte-offset data: {0}")]
    Decode(#[from] byteoffset::Error),
    /// The bitshuffle/LZ4 chunk is corrupt or does not hold the frame (file).
    #[error("bitshuffle/LZ4 chunk: {0}")]
    Bitshuffle(#[from] bitshuffle::Error),
    /// An HDF5 frame cannot be read: the file, its link or its chunk is missing or unreadable
    /// (file or environment).
    #[error("{0}")]
    Hdf5(String),
    /// The pixels are of a type the reducers do not take (floats, 64-bit integers) (file).
    #[error("pixels of type {0} are not supported (8-, 16- or 32-bit integers only)")]
    PixelType(String),
    /// The reduction backend failed on this frame (its message says why).
    #[error("{0}")]
    Backend(String),
}

/// A CBF error without its path (the pipeline prefixes each message with the frame's source).
fn cbf_reason(e: &cbf_format::Error) -> String {
    let mut s = String::new();
    if let Some(sec) = e.section() {
        s.push_str(&format!("section {sec}: "));
    }
    if let Some(o) = e.offset() {
        s.push_str(&format!("byte {o}: "));
    }
    match e.kind() {
        cbf_format::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            s.push_str("file not found")
        }
        k => s.push_str(&k.to_string()),
    }
    s
}

/// The decode+integrate stage, built once per geometry and shared by all workers.
pub trait FrameReducer: Send + Sync {
    /// Number of radial bins of every [`Row`].
    fn bins(&self) -> usize;
    /// Short name of the backend (`cpu`, `gpu`) for summaries.
    fn backend(&self) -> &str;
    /// A worker's own state (scratch buffers, accumulators, device queues).
    fn worker(&self) -> Box<dyn ReduceWorker + '_>;
}

/// One worker thread's reducer. Workers gather up to [`batch_size`](Self::batch_size) frames
/// that are waiting in the queue (never waiting for more) and hand them over together.
pub trait ReduceWorker: Send {
    /// Most frames this worker takes at once (1 for the CPU; dozens for a GPU).
    fn batch_size(&self) -> usize {
        1
    }
    /// Reduces one frame.
    fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError>;
    /// Reduces a batch, pushing exactly one result per frame, in order, onto `out`.
    fn reduce_batch(&mut self, frames: &[FrameData<'_>], out: &mut Vec<Result<Row, FrameError>>) {
        for f in frames {
            out.push(self.reduce(f));
        }
    }
}
