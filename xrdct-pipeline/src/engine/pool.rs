//! The reduction engine: a bounded work queue of `(index, source)` feeding N worker threads
//! that read, parse and reduce frames, and one writer that puts the results back in scan
//! order.
//!
//! ```text
//!  sources ─► feeder ─(bounded queue)─► worker 1..N ─(index, row | error)─► writer ─► RowSink
//!               ▲                         FrameReader (open, parse)          reorder
//!               │                         FrameReducer (decode+integrate)    buffer
//!               └──────────── credits: at most `window` frames in flight ◄───┘
//! ```
//!
//! - The decode+integrate stage is a [`FrameReducer`]: the CPU one fuses byte-offset decoding
//!   with azimuthal integration; a GPU backend plugs in the same way, taking frames in batches
//!   ([`ReduceWorker::batch_size`]).
//! - Memory is bounded whatever the input size: the feeder may only hand out a frame when it
//!   holds a credit, and the writer gives a credit back for each row it writes, so at most
//!   [`PipelineOptions::window`] frames are queued, in a worker, or waiting to be reordered.
//! - A frame that cannot be read or reduced becomes a [`FrameError`] row: the sink records it
//!   and the scan goes on.
//!
//! ```
//! use xrdct_pipeline::inputs::FrameSource;
//! use xrdct_pipeline::engine::{MemorySink, Pipeline, PipelineOptions, testing::SumReducer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let frames: Vec<FrameSource> = (0..10).map(|i| SumReducer::frame_source(i, 8, 8)).collect();
//! let reducer = SumReducer::new(4);
//! let mut sink = MemorySink::default();
//! let stats = Pipeline::new(&reducer, PipelineOptions::default()).run(frames, 0, &mut sink)?;
//! assert_eq!((stats.frames, stats.failed), (10, 0));
//! assert_eq!(sink.rows.len(), 10);
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};

use crate::engine::{
    FrameError, FrameOutcome, FrameReducer, ReduceWorker, Row, RowSink, SinkError,
};
use crate::inputs::{FrameSource, IndexedFrame};
use crate::readers::{AnyReader, FrameData, FrameReader, OpenFrame};

/// Settings of a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Frames the feeder may queue ahead of the workers (0: twice the workers × batch).
    pub queue_depth: usize,
    /// Most frames in flight between the feeder and the sink (0: automatic, at least 64).
    /// Bounds the reorder buffer and thus the memory whatever the input size.
    pub window: usize,
    /// Opens each frame (format, checks, per-frame normalization): by default
    /// [`AnyReader`] (CBF files and memory, HDF5 frames).
    pub reader: Arc<dyn FrameReader>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            workers: 0,
            queue_depth: 0,
            window: 0,
            reader: Arc::new(AnyReader::default()),
        }
    }
}

/// Why a run stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The sink could not store a row (disk full, HDF5 error, …) (environment).
    #[error("writing frame {index}: {source}")]
    Sink {
        /// The frame being written.
        index: usize,
        /// The sink's error.
        source: SinkError,
    },
    /// A worker thread panicked (a bug).
    #[error("a worker thread panicked")]
    WorkerPanic,
}

/// Time spent in one stage, summed over its threads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTime {
    /// Threads that ran the stage.
    pub threads: usize,
    /// Busy time summed over those threads.
    pub busy: Duration,
}

impl StageTime {
    /// Frames per second one thread of this stage sustains (frames ÷ busy time).
    pub fn frames_per_s_per_thread(&self, frames: usize) -> f64 {
        let s = self.busy.as_secs_f64();
        if s > 0.0 {
            frames as f64 / s
        } else {
            f64::INFINITY
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Frames written (successful + failed).
    pub frames: usize,
    /// Frames recorded as failed.
    pub failed: usize,
    /// `(index, "source: reason")` of each failed frame.
    pub failures: Vec<(usize, String)>,
    /// Wall time of the run.
    pub wall: Duration,
    /// Worker threads.
    pub workers: usize,
    /// Opening, mapping and parsing files (and MD5 checks).
    pub read: StageTime,
    /// Decoding and integration (the [`FrameReducer`]).
    pub reduce: StageTime,
    /// The writer: reordering and the sink.
    pub write: StageTime,
}

impl RunStats {
    /// Frames per second over the wall time.
    pub fn frames_per_s(&self) -> f64 {
        let s = self.wall.as_secs_f64();
        if s > 0.0 { self.frames as f64 / s } else { 0.0 }
    }
}

/// The engine: a reducer plus options. Cheap to build; [`Pipeline::run`] does the work.
pub struct Pipeline<'r> {
    reducer: &'r dyn FrameReducer,
    opts: PipelineOptions,
}

impl fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("backend", &self.reducer.backend())
            .field("opts", &self.opts)
            .finish()
    }
}

struct Job {
    index: usize,
    source: FrameSource,
}

struct Done {
    index: usize,
    source: String,
    result: Result<Row, FrameError>,
}

/// Number of worker threads for a request of `n` (0 = one per core).
pub fn worker_count(n: usize) -> usize {
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

impl<'r> Pipeline<'r> {
    /// A pipeline running `reducer` with `opts`.
    pub fn new(reducer: &'r dyn FrameReducer, opts: PipelineOptions) -> Self {
        Pipeline { reducer, opts }
    }

    /// Reduces every frame of `sources` and hands the outcomes to `sink` in scan order; the
    /// first source gets index `first_index` (non-zero when resuming a run). Failed frames
    /// do not stop the run; only a sink error or a worker panic does.
    pub fn run<I>(
        &self,
        sources: I,
        first_index: usize,
        sink: &mut dyn RowSink,
    ) -> Result<RunStats, PipelineError>
    where
        I: IntoIterator<Item = FrameSource>,
        I::IntoIter: Send,
    {
        let frames = (sources.into_iter().enumerate())
            .map(move |(k, source)| IndexedFrame::new(first_index + k, source));
        self.run_indexed(frames, first_index, sink)
    }

    /// Like [`run`](Self::run), for frames that carry their index in the scan (a watched
    /// directory, [`Watcher`](crate::inputs::Watcher)): the rows of indices `first_index`
    /// onwards go to `sink` in index order, each frame's at its own index.
    ///
    /// The frames should come in increasing index order (memory stays bounded by
    /// [`PipelineOptions::window`] because they do). A frame marked
    /// [`missing`](IndexedFrame::missing), and every index the input skips, is recorded as
    /// a failed row (`file not found`) without reading anything; a frame whose index is below
    /// `first_index` (done by the run this one resumes) is dropped, and one whose index was
    /// already given is reported (`log::warn`) and dropped. The run ends with the input: indices
    /// after its last frame get no row.
    pub fn run_indexed<I>(
        &self,
        frames: I,
        first_index: usize,
        sink: &mut dyn RowSink,
    ) -> Result<RunStats, PipelineError>
    where
        I: IntoIterator<Item = IndexedFrame>,
        I::IntoIter: Send,
    {
        let start = Instant::now();
        let n_workers = worker_count(self.opts.workers);
        let workers: Vec<Box<dyn ReduceWorker + '_>> =
            (0..n_workers).map(|_| self.reducer.worker()).collect();
        let batch = workers
            .iter()
            .map(|w| w.batch_size().max(1))
            .max()
            .unwrap_or(1);
        let queue_depth = if self.opts.queue_depth > 0 {
            self.opts.queue_depth
        } else {
            2 * n_workers * batch
        };
        let window = if self.opts.window > 0 {
            self.opts.window
        } else {
            (4 * n_workers * batch).max(64)
        };
        // The queue may never hold more than the window allows.
        let window = window.max(queue_depth + n_workers * batch);

        let (job_tx, job_rx) = bounded::<Job>(queue_depth);
        let (done_tx, done_rx) = bounded::<Done>(window);
        let (credit_tx, credit_rx) = bounded::<()>(window);
        for _ in 0..window {
            credit_tx
                .send(())
                .expect("credit channel has room for the window");
        }
        let stop = AtomicBool::new(false);
        let frames = frames.into_iter();

        std::thread::scope(|s| {
            let stop = &stop;
            let feed_done = done_tx.clone();
            s.spawn(move || feed(frames, first_index, job_tx, feed_done, credit_rx, stop));
            let mut handles = Vec::with_capacity(n_workers);
            for w in workers {
                let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
                let opts = &self.opts;
                handles.push(s.spawn(move || work(w, job_rx, done_tx, opts, stop)));
            }
            drop((job_rx, done_tx));
            let written = write_in_order(done_rx, credit_tx, first_index, sink, stop);
            // The channels are closed now: every thread ends.
            let mut read = StageTime {
                threads: n_workers,
                busy: Duration::ZERO,
            };
            let mut reduce = StageTime {
                threads: n_workers,
                busy: Duration::ZERO,
            };
            let mut panicked = false;
            for h in handles {
                match h.join() {
                    Ok((r, d)) => {
                        read.busy += r;
                        reduce.busy += d;
                    }
                    Err(_) => panicked = true,
                }
            }
            let mut stats = written?;
            if panicked {
                return Err(PipelineError::WorkerPanic);
            }
            stats.wall = start.elapsed();
            stats.workers = n_workers;
            stats.read = read;
            stats.reduce = reduce;
            Ok(stats)
        })
    }
}

/// The feeder: queues the frames in index order, one credit each. A missing frame, or an index
/// the input skipped, goes straight to the writer as a failed row.
fn feed<I: Iterator<Item = IndexedFrame>>(
    frames: I,
    first_index: usize,
    job_tx: Sender<Job>,
    done_tx: Sender<Done>,
    credit_rx: Receiver<()>,
    stop: &AtomicBool,
) {
    let mut next = first_index;
    let credit = || !stop.load(Ordering::Relaxed) && credit_rx.recv().is_ok();
    for frame in frames {
        if frame.index < next {
            if frame.index >= first_index {
                log::warn!(
                    "frame {} ({}) given again after frame {}; dropped",
                    frame.index,
                    frame.source.name(),
                    next - 1
                );
            }
            continue;
        }
        // Indices the input skipped.
        while next < frame.index {
            if !credit()
                || done_tx
                    .send(missing(next, format!("(frame {next})")))
                    .is_err()
            {
                return;
            }
            next += 1;
        }
        if !credit() {
            return;
        }
        let sent = if frame.missing {
            done_tx.send(missing(next, frame.source.name())).is_ok()
        } else {
            let source = frame.source;
            job_tx
                .send(Job {
                    index: next,
                    source,
                })
                .is_ok()
        };
        if !sent {
            return;
        }
        next += 1;
    }
}

/// The failed row of a frame that never arrived: the row a file that does not exist gives.
fn missing(index: usize, source: String) -> Done {
    let absent = std::io::Error::new(std::io::ErrorKind::NotFound, "the frame never arrived");
    Done {
        index,
        source,
        result: Err(FrameError::Cbf(cbf_format::ErrorKind::Io(absent).into())),
    }
}

/// A worker: takes frames (up to its batch size of those already waiting), reads and parses
/// them, reduces them, and sends the results to the writer. Returns (read, reduce) busy time.
fn work(
    mut reducer: Box<dyn ReduceWorker + '_>,
    job_rx: Receiver<Job>,
    done_tx: Sender<Done>,
    opts: &PipelineOptions,
    stop: &AtomicBool,
) -> (Duration, Duration) {
    let batch = reducer.batch_size().max(1);
    let (mut t_read, mut t_reduce) = (Duration::ZERO, Duration::ZERO);
    let mut jobs: Vec<Job> = Vec::with_capacity(batch);
    let mut results: Vec<Result<Row, FrameError>> = Vec::with_capacity(batch);
    // Read buffers handed back by the files of the previous batch: a frame (a few MB) is read
    // into memory that is already faulted in instead of a fresh allocation.
    let mut buffers: Vec<Vec<u8>> = Vec::with_capacity(batch);
    while let Ok(job) = job_rx.recv() {
        jobs.push(job);
        while jobs.len() < batch {
            match job_rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let t0 = Instant::now();
        // Open and parse; the files stay mapped (or borrowed) while the batch is reduced.
        let files: Vec<Result<Box<dyn OpenFrame + '_>, FrameError>> = jobs
            .iter()
            .map(|j| {
                opts.reader
                    .open(j.index, &j.source, buffers.pop().unwrap_or_default())
            })
            .collect();
        let frames: Vec<FrameData<'_>> = jobs
            .iter()
            .zip(&files)
            .filter_map(|(job, f)| f.as_ref().ok().map(|f| f.data(job.index)))
            .collect();
        let t1 = Instant::now();
        results.clear();
        if !frames.is_empty() {
            reducer.reduce_batch(&frames, &mut results);
        }
        let t2 = Instant::now();
        t_read += t1 - t0;
        t_reduce += t2 - t1;
        drop(frames);
        // Unmap the files before the results travel on.
        let errors: Vec<Option<FrameError>> = files
            .into_iter()
            .map(|f| match f {
                Ok(file) => {
                    buffers.extend(file.into_buffer());
                    None
                }
                Err(e) => Some(e),
            })
            .collect();
        let mut reduced = results.drain(..);
        for (job, error) in jobs.drain(..).zip(errors) {
            let result = match error {
                Some(e) => Err(e),
                None => reduced.next().unwrap_or_else(|| {
                    Err(FrameError::Backend(
                        "the reducer returned too few results".into(),
                    ))
                }),
            };
            let done = Done {
                index: job.index,
                source: job.source.name(),
                result,
            };
            if done_tx.send(done).is_err() {
                return (t_read, t_reduce);
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    (t_read, t_reduce)
}

/// The writer: reorders results and hands them to the sink in scan order, returning a credit
/// to the feeder for each frame written.
fn write_in_order(
    done_rx: Receiver<Done>,
    credit_tx: Sender<()>,
    first_index: usize,
    sink: &mut dyn RowSink,
    stop: &AtomicBool,
) -> Result<RunStats, PipelineError> {
    let mut stats = RunStats::default();
    let mut busy = Duration::ZERO;
    // Indices in flight lie in [next, next + window): a ring indexed by index % window.
    let window = credit_tx.capacity().unwrap_or(64).max(1);
    let mut ring: Vec<Option<Done>> = (0..window).map(|_| None).collect();
    let mut next = first_index;
    let result = loop {
        let Ok(done) = done_rx.recv() else {
            break Ok(());
        };
        let t0 = Instant::now();
        let slot = done.index % window;
        debug_assert!(done.index >= next && done.index < next + window && ring[slot].is_none());
        ring[slot] = Some(done);
        let mut failed = None;
        while let Some(d) = ring[next % window].take() {
            let outcome = FrameOutcome {
                index: d.index,
                source: &d.source,
                result: d.result.as_ref(),
            };
            if let Err(source) = sink.push(outcome) {
                failed = Some(PipelineError::Sink {
                    index: d.index,
                    source,
                });
                break;
            }
            stats.frames += 1;
            if let Err(e) = &d.result {
                stats.failed += 1;
                stats.failures.push((d.index, format!("{}: {e}", d.source)));
            }
            next += 1;
            // The feeder may have finished: a closed credit channel is fine.
            let _ = credit_tx.try_send(());
        }
        busy += t0.elapsed();
        if let Some(e) = failed {
            break Err(e);
        }
    };
    if result.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    // Closing our ends lets the feeder and the workers finish.
    drop(credit_tx);
    drop(done_rx);
    stats.write = StageTime { threads: 1, busy };
    result.map(|()| stats)
}

/// A stand-in reducer for tests, doc examples and benchmarks of the engine itself.
pub mod testing {
    use super::*;
    use crate::engine::Accumulators;

    /// Decodes the frame and sums pixel values into `bins` bins by `pixel % bins`, skipping
    /// negative values; intensity = sum / count / normalization, sigma = √sum / count.
    /// It has the shape of a real reducer (full decode, one pass) but no geometry.
    #[derive(Debug, Clone)]
    pub struct SumReducer {
        bins: usize,
        /// Sleep per frame (to make the timing of tests deterministic enough).
        pub delay: Duration,
    }

    impl SumReducer {
        /// A reducer with `bins` bins.
        pub fn new(bins: usize) -> Self {
            SumReducer {
                bins,
                delay: Duration::ZERO,
            }
        }

        /// A small byte-offset CBF frame in memory with pixel values derived from `seed`.
        pub fn frame_source(seed: usize, width: usize, height: usize) -> FrameSource {
            let pixels = Self::frame_pixels(seed, width, height);
            let header = cbf_format::Header {
                flux: Some(1.0 + seed as f64),
                ..Default::default()
            };
            let bytes = cbf_format::writer::MiniCbfWriter::new(&header)
                .write(&[width, height], &pixels)
                .expect("dimensions match the pixels");
            FrameSource::Memory {
                name: format!("frame_{seed}.cbf").into(),
                bytes: bytes.into(),
            }
        }

        /// The pixel values of [`frame_source`](Self::frame_source).
        pub fn frame_pixels(seed: usize, width: usize, height: usize) -> Vec<i32> {
            (0..width * height)
                .map(|i| {
                    let h = (i as u64 ^ (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    if i % 17 == 3 {
                        -1
                    } else {
                        ((h >> 40) % 300) as i32
                    }
                })
                .collect()
        }

        /// The row this reducer gives for `pixels` with normalization `norm`.
        pub fn reduce_pixels(&self, pixels: &[i32], norm: f64) -> Row {
            let mut sum = vec![0f64; self.bins];
            let mut count = vec![0f64; self.bins];
            for (i, &v) in pixels.iter().enumerate() {
                if v >= 0 {
                    sum[i % self.bins] += v as f64;
                    count[i % self.bins] += 1.0;
                }
            }
            let intensity = sum
                .iter()
                .zip(&count)
                .map(|(s, c)| (s / (c * norm)) as f32)
                .collect();
            let sigma = sum
                .iter()
                .zip(&count)
                .map(|(s, c)| (s.sqrt() / (c * norm)) as f32)
                .collect();
            let norms = count.iter().map(|c| c * norm).collect();
            Row {
                intensity,
                sigma,
                accumulators: Some(Accumulators {
                    sum_signal: sum,
                    sum_normalization: norms,
                    count,
                }),
            }
        }
    }

    impl FrameReducer for SumReducer {
        fn bins(&self) -> usize {
            self.bins
        }
        fn backend(&self) -> &str {
            "test"
        }
        fn worker(&self) -> Box<dyn ReduceWorker + '_> {
            Box::new(SumWorker {
                reducer: self,
                pixels: Vec::new(),
            })
        }
    }

    struct SumWorker<'a> {
        reducer: &'a SumReducer,
        pixels: Vec<i32>,
    }

    impl ReduceWorker for SumWorker<'_> {
        fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
            if !self.reducer.delay.is_zero() {
                std::thread::sleep(self.reducer.delay);
            }
            frame.decode_into(&mut self.pixels)?;
            Ok(self
                .reducer
                .reduce_pixels(&self.pixels, frame.normalization))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::SumReducer;
    use super::*;
    use crate::engine::{MemorySink, Monitor};

    fn sources(n: usize) -> Vec<FrameSource> {
        (0..n)
            .map(|i| SumReducer::frame_source(i, 16, 12))
            .collect()
    }

    #[test]
    fn rows_come_out_in_scan_order_for_any_worker_count() {
        let reducer = SumReducer::new(7);
        let expected: Vec<Row> = (0..50)
            .map(|i| reducer.reduce_pixels(&SumReducer::frame_pixels(i, 16, 12), 1.0))
            .collect();
        for workers in [1, 2, 3, 8] {
            for window in [0, 9] {
                let mut sink = MemorySink::default();
                let opts = PipelineOptions {
                    workers,
                    window,
                    ..Default::default()
                };
                let stats = Pipeline::new(&reducer, opts)
                    .run(sources(50), 0, &mut sink)
                    .unwrap();
                assert_eq!(
                    (stats.frames, stats.failed, stats.workers),
                    (50, 0, workers)
                );
                let rows: Vec<Row> = sink.rows.into_iter().map(Option::unwrap).collect();
                assert_eq!(rows, expected, "workers {workers} window {window}");
                assert_eq!(sink.sources[49], "frame_49.cbf");
            }
        }
    }

    #[test]
    fn failures_are_recorded_and_the_scan_goes_on() {
        let reducer = SumReducer::new(3);
        let mut src = sources(6);
        src[2] = FrameSource::Memory {
            name: "junk.cbf".into(),
            bytes: b"not a cbf file".to_vec().into(),
        };
        src[4] = FrameSource::File("does/not/exist.cbf".into());
        let mut sink = MemorySink::default();
        let stats = Pipeline::new(
            &reducer,
            PipelineOptions {
                workers: 2,
                ..Default::default()
            },
        )
        .run(src, 10, &mut sink)
        .unwrap();
        assert_eq!((stats.frames, stats.failed), (6, 2));
        assert_eq!(
            sink.failures.iter().map(|f| f.0).collect::<Vec<_>>(),
            [12, 14]
        );
        assert!(
            stats.failures[1]
                .1
                .contains("does/not/exist.cbf: file not found"),
            "{:?}",
            stats.failures
        );
        assert!(sink.rows[2].is_none() && sink.rows[3].is_some());
    }

    #[test]
    fn monitor_from_header_divides_the_intensity() {
        let reducer = SumReducer::new(2);
        let mut sink = MemorySink::default();
        let opts = PipelineOptions {
            reader: Arc::new(
                crate::readers::cbf::CbfReader::new().monitor(Monitor::parse("flux").unwrap()),
            ),
            ..Default::default()
        };
        Pipeline::new(&reducer, opts)
            .run(sources(3), 0, &mut sink)
            .unwrap();
        let row = sink.rows[2].as_ref().unwrap();
        let expected = reducer.reduce_pixels(&SumReducer::frame_pixels(2, 16, 12), 3.0);
        assert_eq!(row, &expected);
    }

    #[test]
    fn indexed_frames_keep_their_index_and_gaps_become_failed_rows() {
        let reducer = SumReducer::new(3);
        let src = |k: usize| SumReducer::frame_source(k, 16, 12);
        let frames = vec![
            IndexedFrame::new(10, src(10)), // before the first index: done already
            IndexedFrame::new(11, src(11)),
            IndexedFrame::new(13, src(13)), // 12 skipped by the input
            IndexedFrame::missing(14, FrameSource::File("scan/f_14.cbf".into())),
            IndexedFrame::new(14, src(14)), // given again
            IndexedFrame::new(15, src(15)),
        ];
        for window in [0, 1, 2] {
            let mut sink = MemorySink::default();
            let opts = PipelineOptions {
                workers: 2,
                window,
                ..Default::default()
            };
            let stats = Pipeline::new(&reducer, opts)
                .run_indexed(frames.clone(), 11, &mut sink)
                .unwrap();
            assert_eq!((stats.frames, stats.failed), (5, 2));
            assert_eq!(
                sink.sources,
                [
                    "frame_11.cbf",
                    "(frame 12)",
                    "frame_13.cbf",
                    "scan/f_14.cbf",
                    "frame_15.cbf"
                ]
            );
            assert_eq!(
                stats.failures,
                [
                    (12, "(frame 12): file not found".to_string()),
                    (14, "scan/f_14.cbf: file not found".to_string())
                ]
            );
            for (k, row) in sink.rows.iter().enumerate() {
                let expected = [0, 2, 4]
                    .contains(&k)
                    .then(|| reducer.reduce_pixels(&SumReducer::frame_pixels(11 + k, 16, 12), 1.0));
                assert_eq!(row, &expected, "row {k}");
            }
        }
    }

    struct FailingSink(usize);
    impl RowSink for FailingSink {
        fn push(&mut self, f: FrameOutcome<'_>) -> Result<(), SinkError> {
            if f.index == self.0 {
                Err("disk full".into())
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn a_sink_error_stops_the_run_without_hanging() {
        let reducer = SumReducer::new(2);
        let err = Pipeline::new(
            &reducer,
            PipelineOptions {
                workers: 2,
                window: 4,
                ..Default::default()
            },
        )
        .run(sources(200), 0, &mut FailingSink(5))
        .unwrap_err();
        assert!(matches!(err, PipelineError::Sink { index: 5, .. }), "{err}");
    }

    struct BatchWorker<'a>(&'a SumReducer, Vec<usize>);
    impl ReduceWorker for BatchWorker<'_> {
        fn batch_size(&self) -> usize {
            5
        }
        fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
            let mut px = Vec::new();
            frame.decode_into(&mut px)?;
            Ok(self.0.reduce_pixels(&px, frame.normalization))
        }
        fn reduce_batch(
            &mut self,
            frames: &[FrameData<'_>],
            out: &mut Vec<Result<Row, FrameError>>,
        ) {
            self.1.push(frames.len());
            assert!(frames.len() <= 5);
            for f in frames {
                out.push(self.reduce(f));
            }
        }
    }
    struct Batched(SumReducer);
    impl FrameReducer for Batched {
        fn bins(&self) -> usize {
            self.0.bins()
        }
        fn backend(&self) -> &str {
            "batched"
        }
        fn worker(&self) -> Box<dyn ReduceWorker + '_> {
            Box::new(BatchWorker(&self.0, Vec::new()))
        }
    }

    #[test]
    fn batched_workers_keep_order_and_failures() {
        let reducer = Batched(SumReducer::new(4));
        let mut src = sources(40);
        src[7] = FrameSource::Memory {
            name: "empty.cbf".into(),
            bytes: Vec::new().into(),
        };
        let mut sink = MemorySink::default();
        let stats = Pipeline::new(
            &reducer,
            PipelineOptions {
                workers: 2,
                ..Default::default()
            },
        )
        .run(src, 0, &mut sink)
        .unwrap();
        assert_eq!((stats.frames, stats.failed), (40, 1));
        for (i, row) in sink.rows.iter().enumerate() {
            let expected = (i != 7).then(|| {
                reducer
                    .0
                    .reduce_pixels(&SumReducer::frame_pixels(i, 16, 12), 1.0)
            });
            assert_eq!(row, &expected, "row {i}");
        }
    }
}
