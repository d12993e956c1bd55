//! Byte-offset decoding on the GPU (WGSL through wgpu), many frames per submission.
//!
//! ```no_run
//! use byteoffset::gpu::{Decoder, DecoderOptions, FrameInput};
//! let pixels: Vec<i32> = (0..1000).map(|i| (i * 37) % 1001 - 3).collect();
//! let stream = byteoffset::reference::encode(&pixels);
//! let mut gpu = match Decoder::from_default_adapter(DecoderOptions::default()) {
//!     Ok(d) => d,
//!     Err(e) => {
//!         eprintln!("no GPU decoder ({e}); decoding on the CPU");
//!         return;
//!     }
//! };
//! let batch = gpu.decode_batch(&[FrameInput { stream: &stream, pixels: 1000 }]).unwrap();
//! assert_eq!(batch.len(), 1);
//! batch.frame_result(0).unwrap().unwrap(); // the frame decoded without error
//! assert_eq!(batch.read_frame_i32(0).unwrap(), pixels);
//! ```
//!
//! # How
//! The three stages of [`xrdct_shaders::bo`] run in one submission after the upload: block
//! transition tables, a per-frame scan of those tables, and the decode proper. None reads
//! anything back in between, and the cost does not depend on the escape layout. See that
//! module for the design.
//!
//! # Output and status
//! Pixels are decoded at 32 bits with wrapping arithmetic, exactly as
//! [`reference::decode_wrapping::<i32>`](crate::reference::decode_wrapping) does: a 64-bit
//! escape contributes the low 32 bits of its delta, so every value that fits `i32` decodes
//! right, and [`FrameInfo::wide_deltas`] counts the 64-bit deltas that did not fit 32 bits
//! (the frame then needs a 64-bit decoder to be read as the writer meant). With
//! [`OutputType::F32`] each `i32` value is converted to the nearest `f32`.
//!
//! The decoded frames stay in one device buffer ([`DecodedBatch::output`], each frame at
//! [`DecodedBatch::frame_offset`]) for a later stage to bind; [`DecodedBatch::read_frame_i32`]
//! and friends copy them back on request. Every frame has a status on the device; a damaged
//! stream fails its own frame with the same [`Error`] as the reference decoder
//! ([`DecodedBatch::frame_result`]) and never the batch.
//!
//! # Limits
//! A batch's input and output each live in one storage binding, so they are kept under the
//! device's `max_storage_buffer_binding_size` (and [`DecoderOptions`]' caps):
//! [`Decoder::decode_batch`] takes as many of the given frames as fit and says how many it
//! took ([`DecodedBatch::len`]). Dispatch grids are 2-D beyond 65 535 workgroups. Buffers,
//! pipelines and bind groups are created once and grow only when a larger batch comes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use xrdct_shaders::bo::{
    self, BLOCK, Frame, FrameStatus, Params, STATUS_WORDS, Stage, TABLE_WORDS,
};

use crate::Error;

/// The wgpu version this module is built with, for callers that bind its buffers.
pub use wgpu;

/// Why the GPU decoder could not run (not a problem of one frame's data: see
/// [`DecodedBatch::frame_result`] for those).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No GPU adapter is available (no driver, no device): decode on the CPU instead.
    #[error("no GPU adapter available: {0}")]
    NoAdapter(#[from] wgpu::RequestAdapterError),
    /// The adapter refused to open a device.
    #[error("the GPU adapter refused to open a device: {0}")]
    RequestDevice(#[from] wgpu::RequestDeviceError),
    /// Frame `frame` alone exceeds the batch capacity (caller fault or a too small device).
    #[error(
        "frame {frame} ({bytes} bytes, {pixels} pixels) exceeds the batch capacity of {max_bytes} bytes and {max_pixels} pixels"
    )]
    FrameTooLarge {
        /// Index of the frame in the caller's slice.
        frame: usize,
        /// Bytes of its stream.
        bytes: usize,
        /// Pixels expected.
        pixels: usize,
        /// Largest stream a batch takes.
        max_bytes: u64,
        /// Most pixels a batch takes.
        max_pixels: u64,
    },
    /// The frame index passed to a [`DecodedBatch`] accessor is out of range (caller fault).
    #[error("frame {index} asked of a batch of {len}")]
    NoSuchFrame {
        /// Index asked for.
        index: usize,
        /// Frames in the batch.
        len: usize,
    },
    /// The batch was decoded to another output type than the one asked for (caller fault).
    #[error("the batch holds {actual:?} pixels, {asked:?} asked for")]
    WrongOutputType {
        /// Type asked for.
        asked: OutputType,
        /// Type of the batch.
        actual: OutputType,
    },
    /// Mapping a buffer for reading or writing failed (device lost).
    #[error("mapping a GPU buffer failed: {0}")]
    Map(#[from] wgpu::BufferAsyncError),
    /// Waiting for the device failed or timed out (device lost or hung).
    #[error("waiting for the GPU failed: {0}")]
    Poll(#[from] wgpu::PollError),
}

/// Element type of the decoded frames on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputType {
    /// 32-bit signed integers (wrapping, as `decode_wrapping::<i32>`).
    #[default]
    I32,
    /// 32-bit floats (the `i32` value, rounded to nearest).
    F32,
}

/// Options of a [`Decoder`].
#[derive(Clone, Debug)]
pub struct DecoderOptions {
    /// Element type of the decoded frames.
    pub output: OutputType,
    /// Most stream bytes per batch (further capped by the device's binding size).
    pub max_batch_bytes: u64,
    /// Most pixels per batch (further capped by the device's binding size).
    pub max_batch_pixels: u64,
    /// Most frames per batch.
    pub max_batch_frames: usize,
    /// Record GPU timestamps of each stage (when the device supports timestamp queries),
    /// read with [`DecodedBatch::timings`].
    pub timestamps: bool,
    /// Longest wait for the device before [`GpuError::Poll`].
    pub timeout: Duration,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            output: OutputType::I32,
            max_batch_bytes: 256 << 20,
            max_batch_pixels: 256 << 20,
            max_batch_frames: 4096,
            timestamps: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// One frame to decode: its byte-offset stream and the number of elements it must hold.
#[derive(Clone, Copy, Debug)]
pub struct FrameInput<'a> {
    /// The compressed stream (exactly the binary section's payload).
    pub stream: &'a [u8],
    /// Elements expected (`X-Binary-Number-of-Elements`).
    pub pixels: usize,
}

/// What a successfully decoded frame reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// 64-bit escapes whose delta does not fit 32 bits (their low 32 bits were added).
    pub wide_deltas: u32,
}

/// GPU time of each stage of the last batch, in nanoseconds (timestamp queries).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// Upload copy from the staging buffer (`None` where the device cannot time copies).
    pub upload_ns: Option<f64>,
    /// Stage 1, block tables.
    pub block_tables_ns: f64,
    /// Stage 2, block scan.
    pub block_scan_ns: f64,
    /// Stage 3, decode.
    pub decode_ns: f64,
}

impl StageTimes {
    /// Device time of the three decode stages together.
    pub fn decode_total_ns(&self) -> f64 {
        self.block_tables_ns + self.block_scan_ns + self.decode_ns
    }
}

const MAP_PENDING: u8 = 1;
const MAP_READY: u8 = 2;
const MAP_FAILED: u8 = 3;

/// A reusable staging buffer, mapped for writing while the GPU works on another.
struct Staging {
    buf: wgpu::Buffer,
    state: Arc<AtomicU8>,
}

/// Device buffers sized for a batch; grown, never shrunk.
struct Buffers {
    in_bytes: u64,
    out_pixels: u64,
    blocks: u64,
    frames: u64,
    input: wgpu::Buffer,
    frames_buf: wgpu::Buffer,
    block_frame: wgpu::Buffer,
    _tables: wgpu::Buffer,
    _block_state: wgpu::Buffer,
    output: wgpu::Buffer,
    status: wgpu::Buffer,
    params: [wgpu::Buffer; 2],
    groups: [wgpu::BindGroup; 3],
}

struct Timestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    encoder_writes: bool,
}

/// The GPU byte-offset decoder: pipelines, buffers and staging, created once and reused.
pub struct Decoder {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipelines: [wgpu::ComputePipeline; 3],
    options: DecoderOptions,
    max_binding: u64,
    buffers: Option<Buffers>,
    staging: Vec<Staging>,
    next_staging: usize,
    timestamps: Option<Timestamps>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("options", &self.options)
            .field("max_binding", &self.max_binding)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// Opens the system's default adapter (high performance preferred; a software adapter
    /// such as lavapipe is accepted) with its own limits and the features this decoder can
    /// use. No adapter is [`GpuError::NoAdapter`]: decode on the CPU then.
    pub fn from_default_adapter(options: DecoderOptions) -> Result<Decoder, GpuError> {
        let adapter = xrdct_shaders::device::default_adapter()?;
        let wanted = if options.timestamps {
            xrdct_shaders::device::TIMESTAMPS
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = xrdct_shaders::device::open(&adapter, "byteoffset::gpu", wanted)?;
        Ok(Decoder::new(device, queue, options))
    }

    /// The adapter's name, driver and backend, for logs.
    pub fn default_adapter_info() -> Option<wgpu::AdapterInfo> {
        xrdct_shaders::device::default_adapter()
            .ok()
            .map(|a| a.get_info())
    }

    /// A decoder on the caller's device (shared with later stages that bind its output).
    /// Timestamps are recorded only if `options.timestamps` and the device has
    /// `Features::TIMESTAMP_QUERY`.
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, options: DecoderOptions) -> Decoder {
        let pipelines = Stage::ALL.map(|stage| {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(stage.name()),
                source: wgpu::ShaderSource::Wgsl(stage.source().into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(stage.name()),
                layout: None,
                module: &module,
                entry_point: Some(stage.entry_point()),
                compilation_options: Default::default(),
                cache: None,
            })
        });
        let limits = device.limits();
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            & !255;
        let features = device.features();
        let timestamps = (options.timestamps && features.contains(wgpu::Features::TIMESTAMP_QUERY))
            .then(|| Timestamps {
                set: device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("bo timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 8,
                }),
                resolve: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("bo timestamps resolve"),
                    size: 64,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                read: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("bo timestamps read"),
                    size: 64,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
                encoder_writes: features.contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS),
            });
        Decoder {
            device,
            queue,
            pipelines,
            options,
            max_binding,
            buffers: None,
            staging: Vec::new(),
            next_staging: 0,
            timestamps,
        }
    }

    /// The device the decoded frames live on.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue the decoder submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Most stream bytes one batch takes (options and device limits).
    pub fn max_batch_bytes(&self) -> u64 {
        // The input binding holds the streams, 16-byte aligned, plus 32 bytes of padding.
        self.options
            .max_batch_bytes
            .min(self.max_binding.saturating_sub(64))
            .min(u64::from(u32::MAX) & !15)
    }

    /// Most pixels one batch takes (options and device limits).
    pub fn max_batch_pixels(&self) -> u64 {
        self.options
            .max_batch_pixels
            .min(self.max_binding / 4)
            .min(u64::from(u32::MAX))
    }

    /// How many of `frames`, from the first, the next batch takes.
    pub fn batch_len(&self, frames: &[FrameInput<'_>]) -> Result<usize, GpuError> {
        let (max_b, max_p) = (self.max_batch_bytes(), self.max_batch_pixels());
        let max_frames = self.options.max_batch_frames.clamp(1, 65_535);
        let (mut bytes, mut pixels, mut taken) = (0u64, 0u64, 0usize);
        for f in frames.iter().take(max_frames) {
            let b = (f.stream.len() as u64).next_multiple_of(16);
            let p = f.pixels as u64;
            if bytes + b > max_b || pixels + p > max_p {
                break;
            }
            bytes += b;
            pixels += p;
            taken += 1;
        }
        match frames.first() {
            Some(f) if taken == 0 => Err(GpuError::FrameTooLarge {
                frame: 0,
                bytes: f.stream.len(),
                pixels: f.pixels,
                max_bytes: max_b,
                max_pixels: max_p,
            }),
            _ => Ok(taken),
        }
    }

    fn wait(&self) -> Result<(), GpuError> {
        self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(self.options.timeout),
        })?;
        Ok(())
    }

    fn ensure_buffers(&mut self, in_bytes: u64, out_pixels: u64, blocks: u64, frames: u64) {
        if let Some(b) = &self.buffers
            && b.in_bytes >= in_bytes
            && b.out_pixels >= out_pixels
            && b.blocks >= blocks
            && b.frames >= frames
        {
            return;
        }
        let old = self.buffers.take();
        let grow = |new: u64, old: Option<u64>| new.max(old.unwrap_or(0)).max(1);
        let in_bytes = grow(in_bytes, old.as_ref().map(|b| b.in_bytes));
        let out_pixels = grow(out_pixels, old.as_ref().map(|b| b.out_pixels));
        let blocks = grow(blocks, old.as_ref().map(|b| b.blocks));
        let frames = grow(frames, old.as_ref().map(|b| b.frames));
        let d = &self.device;
        let storage = |label: &str, size: u64, extra: wgpu::BufferUsages| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.next_multiple_of(16),
                usage: wgpu::BufferUsages::STORAGE | extra,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let input = storage("bo input", in_bytes + 64, U::COPY_DST);
        let frames_buf = storage("bo frames", frames * 32, U::COPY_DST);
        let block_frame = storage("bo block_frame", blocks * 4, U::COPY_DST);
        let tables = storage("bo tables", blocks * u64::from(TABLE_WORDS) * 4, U::empty());
        let block_state = storage("bo block_state", blocks * 16, U::empty());
        let output = storage("bo output", out_pixels * 4, U::COPY_SRC);
        let status = storage(
            "bo status",
            frames * u64::from(STATUS_WORDS) * 4,
            U::COPY_SRC,
        );
        let params = [0, 1].map(|i| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(if i == 0 {
                    "bo params blocks"
                } else {
                    "bo params frames"
                }),
                size: size_of::<Params>() as u64,
                usage: U::UNIFORM | U::COPY_DST,
                mapped_at_creation: false,
            })
        });
        let group = |stage: usize, bufs: &[&wgpu::Buffer]| {
            d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(Stage::ALL[stage].name()),
                layout: &self.pipelines[stage].get_bind_group_layout(0),
                entries: &bufs
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: b.as_entire_binding(),
                    })
                    .collect::<Vec<_>>(),
            })
        };
        let groups = [
            group(0, &[&params[0], &frames_buf, &block_frame, &input, &tables]),
            group(
                1,
                &[&params[1], &frames_buf, &tables, &block_state, &status],
            ),
            group(
                2,
                &[
                    &params[0],
                    &frames_buf,
                    &block_frame,
                    &input,
                    &block_state,
                    &output,
                    &status,
                ],
            ),
        ];
        self.buffers = Some(Buffers {
            in_bytes,
            out_pixels,
            blocks,
            frames,
            input,
            frames_buf,
            block_frame,
            _tables: tables,
            _block_state: block_state,
            output,
            status,
            params,
            groups,
        });
    }

    /// A mapped staging buffer of at least `size` bytes (waiting for one to come back from
    /// the GPU if needed).
    fn take_staging(&mut self, size: u64) -> Result<usize, GpuError> {
        const RING: usize = 2;
        if self.staging.len() < RING {
            self.staging.push(self.new_staging(size));
            return Ok(self.staging.len() - 1);
        }
        let i = self.next_staging;
        self.next_staging = (i + 1) % RING;
        loop {
            match self.staging[i].state.load(Ordering::Acquire) {
                MAP_READY => break,
                MAP_FAILED => {
                    // The mapping failed (device lost): recreate, as the caller would.
                    self.staging[i] = self.new_staging(size);
                    return Ok(i);
                }
                _ => self.wait()?,
            }
        }
        if self.staging[i].buf.size() < size {
            self.staging[i].buf.unmap();
            self.staging[i] = self.new_staging(size);
        }
        Ok(i)
    }

    fn new_staging(&self, size: u64) -> Staging {
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bo staging"),
            size: size.next_multiple_of(16).max(16),
            usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        Staging {
            buf,
            state: Arc::new(AtomicU8::new(MAP_READY)),
        }
    }

    /// Uploads and decodes as many of `frames` as one batch takes (at least one), in one
    /// submission; see [`Decoder::batch_len`]. Returns without waiting for the GPU: the
    /// batch's output buffer is ready for any later work submitted to the same queue, and
    /// its accessors wait when they read back.
    pub fn decode_batch(
        &mut self,
        frames: &[FrameInput<'_>],
    ) -> Result<DecodedBatch<'_>, GpuError> {
        let n = self.batch_len(frames)?;
        let frames = &frames[..n];
        let mut descs = Vec::with_capacity(n);
        let (mut in_off, mut out_off, mut block) = (0u32, 0u32, 0u32);
        for f in frames {
            let n_blocks = (f.stream.len() as u32).div_ceil(BLOCK);
            descs.push(Frame {
                in_offset: in_off,
                in_len: f.stream.len() as u32,
                n_pixels: f.pixels as u32,
                out_offset: out_off,
                first_block: block,
                n_blocks,
                ..Frame::default()
            });
            in_off += (f.stream.len() as u32).next_multiple_of(16);
            out_off += f.pixels as u32;
            block += n_blocks;
        }
        let mut block_frame = Vec::with_capacity(block as usize);
        for (i, d) in descs.iter().enumerate() {
            block_frame.extend(std::iter::repeat_n(i as u32, d.n_blocks as usize));
        }
        if block_frame.is_empty() {
            block_frame.push(0);
        }
        self.ensure_buffers(
            u64::from(in_off),
            u64::from(out_off),
            u64::from(block),
            n as u64,
        );
        let upload = u64::from(in_off).max(16);
        let si = self.take_staging(upload)?;
        {
            let staging = &self.staging[si].buf;
            let mut view = staging
                .slice(..upload)
                .get_mapped_range_mut()
                .map_err(|_| GpuError::Map(wgpu::BufferAsyncError))?;
            fill_staging(view.slice(..), frames);
        }
        self.staging[si].buf.unmap();
        let bufs = self
            .buffers
            .as_ref()
            .expect("buffers exist after ensure_buffers");
        let grid = |count: u32| {
            let x = count.clamp(1, 65_535);
            (x, count.div_ceil(x).max(1))
        };
        let (bx, by) = grid(block);
        let (fx, fy) = grid(n as u32);
        let out_f32 = u32::from(self.options.output == OutputType::F32);
        let params = [
            Params {
                n_frames: n as u32,
                n_blocks: block,
                grid_x: bx,
                out_f32,
            },
            Params {
                n_frames: n as u32,
                n_blocks: block,
                grid_x: fx,
                out_f32,
            },
        ];
        for (buf, p) in bufs.params.iter().zip(&params) {
            self.queue.write_buffer(buf, 0, bytemuck::bytes_of(p));
        }
        self.queue
            .write_buffer(&bufs.frames_buf, 0, bytemuck::cast_slice(&descs));
        self.queue
            .write_buffer(&bufs.block_frame, 0, bytemuck::cast_slice(&block_frame));

        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("bo decode"),
            });
        let ts = self.timestamps.as_ref();
        if let Some(t) = ts.filter(|t| t.encoder_writes) {
            enc.write_timestamp(&t.set, 0);
        }
        enc.copy_buffer_to_buffer(&self.staging[si].buf, 0, &bufs.input, 0, upload);
        if let Some(t) = ts.filter(|t| t.encoder_writes) {
            enc.write_timestamp(&t.set, 1);
        }
        let dispatch = [(bx, by), (fx, fy), (bx, by)];
        for (stage, &(x, y)) in dispatch.iter().enumerate() {
            let writes = ts.map(|t| wgpu::ComputePassTimestampWrites {
                query_set: &t.set,
                beginning_of_pass_write_index: Some(2 + 2 * stage as u32),
                end_of_pass_write_index: Some(3 + 2 * stage as u32),
            });
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(Stage::ALL[stage].name()),
                timestamp_writes: writes,
            });
            pass.set_pipeline(&self.pipelines[stage]);
            pass.set_bind_group(0, &bufs.groups[stage], &[]);
            if block > 0 || stage == 1 {
                pass.dispatch_workgroups(x, y, 1);
            }
        }
        if let Some(t) = ts {
            enc.resolve_query_set(&t.set, 0..8, &t.resolve, 0);
            enc.copy_buffer_to_buffer(&t.resolve, 0, &t.read, 0, 64);
        }
        self.queue.submit([enc.finish()]);
        let state = self.staging[si].state.clone();
        state.store(MAP_PENDING, Ordering::Release);
        self.staging[si]
            .buf
            .slice(..)
            .map_async(wgpu::MapMode::Write, move |r| {
                state.store(
                    if r.is_ok() { MAP_READY } else { MAP_FAILED },
                    Ordering::Release,
                );
            });
        Ok(DecodedBatch {
            decoder: self,
            frames: descs,
        })
    }

    /// Reads `size` bytes at `offset` of `buf` back to the host.
    fn read_back(&self, buf: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>, GpuError> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let size = size.next_multiple_of(4);
        let read = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bo read back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buf, offset, &read, 0, size);
        self.queue.submit([enc.finish()]);
        self.map_read(&read)
    }

    fn map_read(&self, read: &wgpu::Buffer) -> Result<Vec<u8>, GpuError> {
        let state = Arc::new(AtomicU8::new(MAP_PENDING));
        let s = state.clone();
        read.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            s.store(
                if r.is_ok() { MAP_READY } else { MAP_FAILED },
                Ordering::Release,
            );
        });
        loop {
            match state.load(Ordering::Acquire) {
                MAP_READY => break,
                MAP_FAILED => return Err(GpuError::Map(wgpu::BufferAsyncError)),
                _ => self.wait()?,
            }
        }
        let out = read
            .slice(..)
            .get_mapped_range()
            .map(|v| v.to_vec())
            .map_err(|_| GpuError::Map(wgpu::BufferAsyncError))?;
        read.unmap();
        Ok(out)
    }
}

/// The frames of one submission, decoded into one device buffer.
///
/// Borrows the decoder: the next batch reuses the buffers.
pub struct DecodedBatch<'a> {
    decoder: &'a Decoder,
    frames: Vec<Frame>,
}

impl std::fmt::Debug for DecodedBatch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedBatch")
            .field("frames", &self.frames.len())
            .finish()
    }
}

impl DecodedBatch<'_> {
    /// Frames in the batch (the first `len()` of those passed to `decode_batch`).
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the batch holds no frame.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The device buffer holding every frame's pixels (`i32` or `f32`, see
    /// [`DecodedBatch::output_type`]), for a later stage to bind. It may be larger than
    /// the batch.
    pub fn output(&self) -> &wgpu::Buffer {
        &self.buffers().output
    }

    /// The device buffer of per-frame status words ([`xrdct_shaders::bo::FrameStatus`],
    /// 32 bytes per frame).
    pub fn status_buffer(&self) -> &wgpu::Buffer {
        &self.buffers().status
    }

    /// Element type of [`DecodedBatch::output`].
    pub fn output_type(&self) -> OutputType {
        self.decoder.options.output
    }

    /// Offset of frame `i` in [`DecodedBatch::output`], in elements (× 4 for bytes).
    pub fn frame_offset(&self, i: usize) -> Result<u64, GpuError> {
        Ok(u64::from(self.frame(i)?.out_offset))
    }

    /// Pixels of frame `i`.
    pub fn frame_pixels(&self, i: usize) -> Result<usize, GpuError> {
        Ok(self.frame(i)?.n_pixels as usize)
    }

    fn frame(&self, i: usize) -> Result<&Frame, GpuError> {
        self.frames.get(i).ok_or(GpuError::NoSuchFrame {
            index: i,
            len: self.frames.len(),
        })
    }

    fn buffers(&self) -> &Buffers {
        self.decoder
            .buffers
            .as_ref()
            .expect("a batch exists only after its buffers")
    }

    /// Reads every frame's status back (waits for the batch): per frame, its info or the
    /// error the reference decoder would give.
    pub fn results(&self) -> Result<Vec<Result<FrameInfo, Error>>, GpuError> {
        let raw = self.decoder.read_back(
            &self.buffers().status,
            0,
            self.frames.len() as u64 * u64::from(STATUS_WORDS) * 4,
        )?;
        Ok(raw
            .chunks_exact(STATUS_WORDS as usize * 4)
            .zip(&self.frames)
            .map(|(w, f)| interpret(bytemuck::pod_read_unaligned(w), f))
            .collect())
    }

    /// Frame `i`'s info or error (waits for the batch).
    pub fn frame_result(&self, i: usize) -> Result<Result<FrameInfo, Error>, GpuError> {
        let f = self.frame(i)?;
        let words = u64::from(STATUS_WORDS) * 4;
        let raw = self
            .decoder
            .read_back(&self.buffers().status, i as u64 * words, words)?;
        Ok(interpret(bytemuck::pod_read_unaligned(&raw), f))
    }

    fn read_words(&self, i: usize) -> Result<Vec<u8>, GpuError> {
        let f = self.frame(i)?;
        self.decoder.read_back(
            &self.buffers().output,
            u64::from(f.out_offset) * 4,
            u64::from(f.n_pixels) * 4,
        )
    }

    /// Copies frame `i`'s pixels back (waits). Meaningful only where its result is `Ok`.
    pub fn read_frame_i32(&self, i: usize) -> Result<Vec<i32>, GpuError> {
        self.check_type(OutputType::I32)?;
        Ok(bytemuck::pod_collect_to_vec(&self.read_words(i)?))
    }

    /// Copies frame `i`'s pixels back (waits), for a batch decoded to `f32`.
    pub fn read_frame_f32(&self, i: usize) -> Result<Vec<f32>, GpuError> {
        self.check_type(OutputType::F32)?;
        Ok(bytemuck::pod_collect_to_vec(&self.read_words(i)?))
    }

    fn check_type(&self, asked: OutputType) -> Result<(), GpuError> {
        let actual = self.output_type();
        if asked == actual {
            Ok(())
        } else {
            Err(GpuError::WrongOutputType { asked, actual })
        }
    }

    /// Waits until the batch is decoded.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.decoder.wait()
    }

    /// GPU time of each stage of this batch, where the decoder records timestamps (waits).
    pub fn timings(&self) -> Result<Option<StageTimes>, GpuError> {
        let Some(t) = &self.decoder.timestamps else {
            return Ok(None);
        };
        let raw = self.decoder.map_read(&t.read)?;
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&raw);
        let period = f64::from(self.decoder.queue.get_timestamp_period());
        let span = |a: usize| ticks[a + 1].wrapping_sub(ticks[a]) as f64 * period;
        Ok(Some(StageTimes {
            upload_ns: t.encoder_writes.then(|| span(0)),
            block_tables_ns: span(2),
            block_scan_ns: span(4),
            decode_ns: span(6),
        }))
    }
}

/// Copies the streams into the mapped staging range, each at a multiple of 16 bytes with
/// zero padding. (One thread: wgpu's write-only views of mapped memory are not `Send`.)
fn fill_staging(mut view: wgpu::WriteOnly<'_, [u8]>, frames: &[FrameInput<'_>]) {
    let zeros = [0u8; 16];
    let mut at = 0;
    for f in frames {
        let end = at + f.stream.len();
        view.slice(at..end).copy_from_slice(f.stream);
        let pad = end.next_multiple_of(16) - end;
        view.slice(end..end + pad).copy_from_slice(&zeros[..pad]);
        at = end + pad;
    }
}

/// The reference decoder's verdict on a frame, from its status words.
fn interpret(st: FrameStatus, f: &Frame) -> Result<FrameInfo, Error> {
    let (n, len) = (f.n_pixels as usize, f.in_len as usize);
    let tokens = st.tokens as usize;
    let truncated = st.final_state == bo::ERR;
    if tokens >= n {
        if tokens == n && !truncated {
            return Ok(FrameInfo {
                wide_deltas: st.wide_deltas,
            });
        }
        let end = if n == 0 {
            0
        } else {
            st.end_of_expected as usize
        };
        return Err(Error::TrailingBytes {
            offset: end,
            remaining: len.saturating_sub(end),
            expected: n,
        });
    }
    if truncated {
        let at = st.truncated_at as usize;
        return Err(Error::TruncatedToken {
            offset: at,
            needed: st.truncated_needs as usize,
            available: len.saturating_sub(at),
        });
    }
    Err(Error::TooFewElements {
        offset: len,
        decoded: tokens,
        expected: n,
    })
}
