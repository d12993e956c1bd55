//! The GPU backend (feature `gpu`): byte-offset decoding and azimuthal integration on the
//! device ([`GpuReducer`], a [`FrameReducer`]).
//!
//! # Decode + integrate
//! Each pipeline worker reads and parses a batch of frames as the CPU workers do, then owns
//! a `byteoffset::gpu::Decoder` (its own staging ring and device buffers, on the shared
//! device): it copies the compressed streams into a mapped staging buffer and submits the
//! decode, then the shared [`GpuIntegrator`] submits the integration of the decoded frames
//! straight from the decoder's output buffer (no round trip) and the copy of the per-bin
//! sums and the decoder's status words into a read-back buffer. Workers never hold a lock:
//! while one waits for its batch's sums, the others fill staging buffers and submit, so
//! uploads, kernels and read-backs of different batches overlap.
//!
//! Every frame keeps its place and its fate: a frame that is not byte-offset `i32` of the
//! geometry's shape, that the GPU decoder flags (truncated, trailing bytes, 64-bit deltas),
//! or that has more dummy pixels than the GPU's reject list holds, goes through the CPU
//! reducer, which gives exactly the CPU pipeline's row or error. If the device fails in
//! the middle of a batch, the batch is reduced on the CPU.
//!
//! Without an adapter [`GpuReducer::new`] fails with [`GpuSetupError::NoAdapter`]; the
//! command line then runs the CPU reducer and says so ([`crate::engine::reducer_for_backend`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use azint::engine::Engine;
use azint::gpu::{GpuError, GpuIntegrator, GpuOptions};
use byteoffset::gpu::{Decoder, DecoderOptions, FrameInput};

use crate::engine::{Accumulators, CpuReducer, FrameError, FrameReducer, ReduceWorker, Row};
use crate::readers::FrameData;

/// Why the GPU backend could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuSetupError {
    /// No adapter or device (the CPU backend runs instead).
    #[error("no usable GPU: {0}")]
    NoAdapter(String),
    /// The integration engine uses something the GPU path does not do.
    #[error("{0}")]
    Integrator(#[from] GpuError),
}

/// Options of the GPU reducer.
#[derive(Clone, Debug)]
pub struct GpuReducerOptions {
    /// Frames per worker batch.
    pub batch_frames: usize,
    /// Dummy pixels listed per frame on the device (more: that frame goes to the CPU).
    pub reject_cap: u32,
}

impl Default for GpuReducerOptions {
    fn default() -> Self {
        GpuReducerOptions {
            batch_frames: 32,
            reject_cap: 4096,
        }
    }
}

/// Frame counters of a run of the GPU reducer.
#[derive(Debug, Default)]
pub struct GpuCounters {
    /// Frames integrated on the GPU.
    pub gpu_frames: AtomicU64,
    /// Frames sent to the CPU reducer (other formats, flagged streams, reject overflow).
    pub cpu_frames: AtomicU64,
    /// Batches reduced on the CPU after a device error.
    pub device_errors: AtomicU64,
}

/// The GPU decode+integrate stage.
pub struct GpuReducer {
    cpu: CpuReducer,
    integrator: GpuIntegrator,
    options: GpuReducerOptions,
    adapter: String,
    counters: GpuCounters,
    warned: AtomicBool,
}

impl std::fmt::Debug for GpuReducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuReducer")
            .field("adapter", &self.adapter)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GpuReducer {
    /// Opens the default adapter and uploads the CPU reducer's engine. The CPU reducer is
    /// kept for the frames the GPU does not take.
    pub fn new(cpu: CpuReducer, options: GpuReducerOptions) -> Result<GpuReducer, GpuSetupError> {
        GpuIntegrator::supports(cpu.engine())?;
        let (device, queue) = azint::gpu::open_default_device(false)
            .map_err(|e| GpuSetupError::NoAdapter(e.to_string()))?;
        let adapter = Decoder::default_adapter_info()
            .map(|i| format!("{} ({:?}, {})", i.name, i.backend, i.driver_info))
            .unwrap_or_else(|| "unknown adapter".into());
        let engine = Arc::new(cpu.engine().clone());
        let integrator = GpuIntegrator::new(
            device,
            queue,
            engine,
            GpuOptions {
                reject_cap: options.reject_cap,
                max_batch_frames: options.batch_frames.max(1),
                ..GpuOptions::default()
            },
        )?;
        Ok(GpuReducer {
            cpu,
            integrator,
            options,
            adapter,
            counters: GpuCounters::default(),
            warned: AtomicBool::new(false),
        })
    }

    /// The adapter's name, backend and driver.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// The CPU reducer used for the frames the GPU does not take.
    pub fn cpu(&self) -> &CpuReducer {
        &self.cpu
    }

    /// How many frames went where.
    pub fn counters(&self) -> &GpuCounters {
        &self.counters
    }

    fn engine(&self) -> &Engine {
        self.cpu.engine()
    }

    fn row(&self, p: azint::engine::Pattern) -> Row {
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        Row {
            intensity: to32(&p.intensity),
            sigma: to32(&p.sigma),
            accumulators: self.cpu.info().accumulators.then_some(Accumulators {
                sum_signal: p.sum_signal,
                sum_normalization: p.sum_normalization,
                count: p.count,
            }),
        }
    }
}

impl FrameReducer for GpuReducer {
    fn bins(&self) -> usize {
        self.cpu.bins()
    }
    fn backend(&self) -> &str {
        "gpu"
    }
    fn worker(&self) -> Box<dyn ReduceWorker + '_> {
        let decoder = Decoder::new(
            self.integrator.device().clone(),
            self.integrator.queue().clone(),
            DecoderOptions {
                max_batch_frames: self.options.batch_frames.max(1),
                ..DecoderOptions::default()
            },
        );
        Box::new(GpuWorker {
            reducer: self,
            decoder,
            cpu: self.cpu.worker(),
        })
    }
}

struct GpuWorker<'a> {
    reducer: &'a GpuReducer,
    decoder: Decoder,
    cpu: Box<dyn ReduceWorker + 'a>,
}

/// A batch's decoder status words, copied for read-back in the batch's submissions.
struct StatusRead {
    buf: wgpu::Buffer,
    index: wgpu::SubmissionIndex,
}

impl GpuWorker<'_> {
    /// Whether the GPU path takes this frame (else the CPU reducer gives its row or error).
    fn takes(&self, frame: &FrameData<'_>) -> bool {
        let (rows, cols) = self.reducer.engine().shape();
        frame.byte_offset_stream().is_some() && frame.dims == [cols, rows]
    }

    /// Decodes and integrates `frames` on the GPU: per frame, `Some(row)` or `None` for
    /// "reduce on the CPU".
    fn reduce_gpu(&mut self, frames: &[&FrameData<'_>]) -> Result<Vec<Option<Row>>, GpuError> {
        let inputs: Vec<FrameInput<'_>> = frames
            .iter()
            .map(|f| FrameInput {
                stream: f.byte_offset_stream().unwrap_or_default(),
                pixels: f.pixel_count(),
            })
            .collect();
        let (device, queue) = (self.decoder.device().clone(), self.decoder.queue().clone());
        let mut pending = Vec::new();
        let mut at = 0;
        while at < inputs.len() {
            let decoded = self
                .decoder
                .decode_batch(&inputs[at..])
                .map_err(|e| GpuError::Unsupported(decoder_error(&e)))?;
            let k = decoded.len();
            let first = decoded
                .frame_offset(0)
                .map_err(|e| GpuError::Unsupported(decoder_error(&e)))?;
            let sub = self.reducer.integrator.submit(decoded.output(), first, k)?;
            let k = sub.len();
            let status = copy_status(&device, &queue, decoded.status_buffer(), k);
            pending.push((at, k, sub, status));
            at += k;
        }
        let n_pixels = self.reducer.engine().n_pixels() as u32;
        let mut out: Vec<Option<Row>> = (0..frames.len()).map(|_| None).collect();
        for (at, k, sub, status) in pending {
            let sums = sub.wait()?;
            let words = read_status(&device, status)?;
            for (j, s) in sums.frames.iter().enumerate() {
                let st = &words[j * 8..j * 8 + 8];
                // final_state, tokens, .., wide_deltas: exactly the expected tokens, none
                // truncated, none wider than 32 bits.
                let clean = st[0] != xrdct_shaders::bo::ERR && st[1] == n_pixels && st[5] == 0;
                if !clean || s.rejected.is_none() {
                    continue;
                }
                let f = frames[at + j];
                if let Ok(p) = azint::gpu::finish(self.reducer.engine(), s, f.normalization) {
                    out[at + j] = Some(self.reducer.row(p));
                }
            }
            debug_assert!(k == sums.frames.len());
        }
        Ok(out)
    }
}

fn decoder_error(e: &byteoffset::gpu::GpuError) -> &'static str {
    match e {
        byteoffset::gpu::GpuError::FrameTooLarge { .. } => "a frame larger than a decoder batch",
        _ => "a GPU decoder failure",
    }
}

fn copy_status(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    status: &wgpu::Buffer,
    n: usize,
) -> StatusRead {
    let size = (n as u64 * 32).max(32);
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("gpu reducer status"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    enc.copy_buffer_to_buffer(status, 0, &buf, 0, size.min(status.size()));
    let index = queue.submit([enc.finish()]);
    StatusRead { buf, index }
}

fn read_status(device: &wgpu::Device, s: StatusRead) -> Result<Vec<u32>, GpuError> {
    let state = Arc::new(AtomicU8::new(0));
    let st = state.clone();
    s.buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        st.store(if r.is_ok() { 1 } else { 2 }, Ordering::Release);
    });
    loop {
        match state.load(Ordering::Acquire) {
            1 => break,
            2 => return Err(GpuError::Map(wgpu::BufferAsyncError)),
            _ => {
                device.poll(wgpu::PollType::Wait {
                    submission_index: Some(s.index.clone()),
                    timeout: Some(Duration::from_secs(60)),
                })?;
            }
        }
    }
    let words = {
        let view = s
            .buf
            .slice(..)
            .get_mapped_range()
            .map_err(|_| GpuError::Map(wgpu::BufferAsyncError))?;
        bytemuck::pod_collect_to_vec(&view)
    };
    s.buf.unmap();
    Ok(words)
}

impl ReduceWorker for GpuWorker<'_> {
    fn batch_size(&self) -> usize {
        self.reducer.options.batch_frames.max(1)
    }

    fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
        let mut out = Vec::with_capacity(1);
        self.reduce_batch(std::slice::from_ref(frame), &mut out);
        out.pop()
            .unwrap_or_else(|| Err(FrameError::Backend("no result".into())))
    }

    fn reduce_batch(&mut self, frames: &[FrameData<'_>], out: &mut Vec<Result<Row, FrameError>>) {
        let gpu_idx: Vec<usize> = (0..frames.len())
            .filter(|&i| self.takes(&frames[i]))
            .collect();
        let gpu_frames: Vec<&FrameData<'_>> = gpu_idx.iter().map(|&i| &frames[i]).collect();
        let mut rows: Vec<Option<Row>> = (0..frames.len()).map(|_| None).collect();
        if !gpu_frames.is_empty() {
            match self.reduce_gpu(&gpu_frames) {
                Ok(r) => {
                    for (&i, row) in gpu_idx.iter().zip(r) {
                        rows[i] = row;
                    }
                }
                Err(e) => {
                    self.reducer
                        .counters
                        .device_errors
                        .fetch_add(1, Ordering::Relaxed);
                    if !self.reducer.warned.swap(true, Ordering::Relaxed) {
                        log::warn!("GPU batch failed ({e}); reducing it on the CPU");
                    }
                }
            }
        }
        let c = &self.reducer.counters;
        for (f, row) in frames.iter().zip(rows) {
            match row {
                Some(r) => {
                    c.gpu_frames.fetch_add(1, Ordering::Relaxed);
                    out.push(Ok(r));
                }
                None => {
                    c.cpu_frames.fetch_add(1, Ordering::Relaxed);
                    out.push(self.cpu.reduce(f));
                }
            }
        }
    }
}
