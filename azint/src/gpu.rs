//! Azimuthal integration on the GPU (WGSL through wgpu), many frames per submission.
//!
//! A [`GpuIntegrator`] takes an [`Engine`] built on the CPU and uploads, once, what its
//! splitting needs: the per-pixel bin index and per-tile bin ranges (no splitting, stage
//! `integrate_hist`) or the CSR matrix (bounding-box and full splitting, stage
//! `integrate_csr`); see [`xrdct_shaders::az`] for the kernels. It then integrates batches of
//! `i32` frames that already lie in a device buffer — typically the byte-offset decoder's
//! output, so decoded frames never come back to the host — and reads back per frame and bin
//! the signal and variance sums and the list of pixels rejected as dummies.
//! [`finish`] turns those into the same [`Pattern`] as [`Engine::finish`]: the
//! frame-independent sums (count, normalization, normalization², dark) are the engine's own
//! f64 sums, those of the bins that lost rejected pixels summed again without them, exactly
//! as on the CPU.
//!
//! # Accuracy against the CPU engine
//! - No splitting: Σv and Σmax(v, 1) are exact 64-bit integers, so every accumulator and the
//!   intensity equal the CPU's bit for bit.
//! - Splitting: Σc·v and Σc²·max(v, 1) are compensated float32 sums; each bin is within
//!   1.2·10⁻⁷ (signal) and 2.4·10⁻⁷ (variance) relative of the CPU's f64 sums for
//!   non-negative frames (see [`xrdct_shaders::az`]); normalization sums are the CPU's.
//!
//! # Batches in flight
//! [`GpuIntegrator::submit`] encodes one batch and returns a [`Submitted`] that owns the
//! batch's result buffers, so several batches can be in flight and be waited for from other
//! threads ([`Submitted::wait`]) while the next one is prepared.
//!
//! ```
//! use std::sync::Arc;
//! use azint::gpu::{GpuError, GpuIntegrator, GpuOptions};
//! use azint::{IntegrationConfig, Integrator, Split};
//!
//! let poni = "poni_version: 2.1\nDetector: Detector\n\
//!     Detector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, \"max_shape\": [64, 80]}\n\
//!     Distance: 0.1\nPoni1: 0.003\nPoni2: 0.004\nRot1: 0\nRot2: 0\nRot3: 0\n";
//! let config = IntegrationConfig { bins: 40, split: Split::BBox, ..Default::default() };
//! let engine = Arc::new(Integrator::from_poni_str(poni, &config)?.into_engine());
//! let mut gpu = match GpuIntegrator::from_default_adapter(engine.clone(), GpuOptions::default()) {
//!     Ok(gpu) => gpu,
//!     Err(GpuError::NoAdapter(_)) => return Ok(()), // no GPU here: integrate on the CPU
//!     Err(e) => return Err(e.into()),
//! };
//! let frames: Vec<Vec<i32>> = (0..3).map(|k| vec![k + 1; 64 * 80]).collect();
//! let refs: Vec<&[i32]> = frames.iter().map(|f| f.as_slice()).collect();
//! for (frame, pattern) in refs.iter().zip(gpu.integrate_i32(&refs, &[1.0; 3])?) {
//!     let cpu = engine.integrate_i32(frame, 1.0)?;
//!     for (g, c) in pattern?.intensity.iter().zip(&cpu.intensity) {
//!         assert!((g - c).abs() <= 1e-6 * c.abs());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use wgpu::util::DeviceExt;
use xrdct_shaders::az::{self, AzParams, FIRST_FLAG, SUM_WORDS, Stage, TILE_H, TILE_W};

use crate::Error;
use crate::engine::{BinIndex, Engine, ErrorModel, Pattern};

/// Why the GPU integrator could not run (not a problem of one frame's data).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No GPU adapter is available: integrate on the CPU instead.
    #[error("no GPU adapter available: {0}")]
    NoAdapter(#[from] wgpu::RequestAdapterError),
    /// The adapter refused to open a device.
    #[error("the GPU adapter refused to open a device: {0}")]
    RequestDevice(#[from] wgpu::RequestDeviceError),
    /// The engine uses something the GPU path does not do (caller: use the CPU engine).
    #[error("the GPU integrator does not support {0}")]
    Unsupported(&'static str),
    /// An engine array or a batch exceeds the device's storage binding size.
    #[error("{what} needs {bytes} bytes, more than the device's binding limit of {limit}")]
    TooLarge {
        /// Which buffer.
        what: &'static str,
        /// Bytes needed.
        bytes: u64,
        /// The device's limit.
        limit: u64,
    },
    /// The input buffer does not hold the frames asked for (caller fault).
    #[error("input buffer holds {have} elements, the batch needs {need}")]
    InputTooSmall {
        /// Elements needed from the start of the buffer.
        need: u64,
        /// Elements the buffer holds.
        have: u64,
    },
    /// Mapping a buffer for reading failed (device lost).
    #[error("mapping a GPU buffer failed: {0}")]
    Map(#[from] wgpu::BufferAsyncError),
    /// Waiting for the device failed or timed out.
    #[error("waiting for the GPU failed: {0}")]
    Poll(#[from] wgpu::PollError),
}

/// Options of a [`GpuIntegrator`].
#[derive(Clone, Debug)]
pub struct GpuOptions {
    /// Dummy pixels listed per frame; a frame with more is reported incomplete
    /// ([`FrameSums::rejected`] is `None`) and must be integrated on the CPU.
    pub reject_cap: u32,
    /// Most frames per batch (further limited by the binding size of the results).
    pub max_batch_frames: usize,
    /// Record the integration pass's GPU time (where the device has timestamp queries).
    pub timestamps: bool,
    /// Longest wait for the device.
    pub timeout: Duration,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            reject_cap: 4096,
            max_batch_frames: 1024,
            timestamps: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The engine's matrix on the device.
enum Kernel {
    Hist {
        bin_index: wgpu::Buffer,
        tile_range: wgpu::Buffer,
        n_tiles: u32,
    },
    Csr {
        indptr: wgpu::Buffer,
        indices: wgpu::Buffer,
        coefs: wgpu::Buffer,
    },
}

/// The GPU integrator of one engine: pipeline and engine arrays, created once.
pub struct GpuIntegrator {
    device: wgpu::Device,
    queue: wgpu::Queue,
    engine: Arc<Engine>,
    pipeline: wgpu::ComputePipeline,
    kernel: Kernel,
    base: AzParams,
    options: GpuOptions,
    max_binding: u64,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
}

impl std::fmt::Debug for GpuIntegrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuIntegrator")
            .field("stage", &self.stage().name())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The integer interval of raw values the engine's float32 dummy test rejects (the CPU
/// engine's own derivation), or `None`.
fn reject_range(engine: &Engine) -> Option<(i32, i32)> {
    let (d, dd) = engine.dummy()?;
    let rejects = |v: f32| {
        if dd == 0.0 {
            v == d
        } else {
            (v - d).abs() <= dd
        }
    };
    let lo = f64::from(d - dd.abs()).floor() - 2.0;
    let hi = f64::from(d + dd.abs()).ceil() + 2.0;
    if !(lo.is_finite() && hi.is_finite() && lo >= f64::from(i32::MIN) && hi <= f64::from(i32::MAX))
    {
        return None;
    }
    let (lo, hi) = (lo as i64, hi as i64);
    if hi - lo <= 1 << 20 {
        let mut range: Option<(i32, i32)> = None;
        for v in lo..=hi {
            if rejects(v as f32) {
                range = Some(match range {
                    None => (v as i32, v as i32),
                    Some((a, _)) => (a, v as i32),
                });
            }
        }
        range
    } else {
        let a = f64::from(d - dd.abs()).ceil().max(f64::from(i32::MIN)) as i32;
        let b = f64::from(d + dd.abs()).floor().min(f64::from(i32::MAX)) as i32;
        (a <= b).then_some((a, b))
    }
}

impl GpuIntegrator {
    /// Whether the GPU path can integrate with this engine (`Err` says why not).
    pub fn supports(engine: &Engine) -> Result<(), GpuError> {
        if engine.error_model() == ErrorModel::Azimuthal {
            return Err(GpuError::Unsupported("the azimuthal error model"));
        }
        if engine.n_pixels() >= FIRST_FLAG as usize {
            return Err(GpuError::Unsupported("detectors of 2^31 pixels or more"));
        }
        let (rows, cols) = engine.shape();
        if rows > u16::MAX as usize * 64 || cols > u16::MAX as usize * 64 {
            return Err(GpuError::Unsupported("such a detector shape"));
        }
        Ok(())
    }

    /// Opens the system's default adapter (as `byteoffset::gpu::Decoder` does) and builds
    /// the integrator on it. No adapter is [`GpuError::NoAdapter`].
    pub fn from_default_adapter(
        engine: Arc<Engine>,
        options: GpuOptions,
    ) -> Result<GpuIntegrator, GpuError> {
        Self::supports(&engine)?;
        let (device, queue) = open_default_device(options.timestamps)?;
        GpuIntegrator::new(device, queue, engine, options)
    }

    /// Builds the integrator on the caller's device and uploads the engine's arrays.
    pub fn new(
        device: wgpu::Device,
        queue: wgpu::Queue,
        engine: Arc<Engine>,
        options: GpuOptions,
    ) -> Result<GpuIntegrator, GpuError> {
        Self::supports(&engine)?;
        let limits = device.limits();
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            & !255;
        let check = |what: &'static str, bytes: u64| {
            if bytes > max_binding {
                Err(GpuError::TooLarge {
                    what,
                    bytes,
                    limit: max_binding,
                })
            } else {
                Ok(())
            }
        };
        let (rows, cols) = engine.shape();
        let n_bins = engine.n_bins() as u32;
        let init = |label: &str, contents: &[u8]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: if contents.is_empty() {
                    &[0; 4]
                } else {
                    contents
                },
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let mut base = AzParams {
            n_pixels: engine.n_pixels() as u32,
            n_bins,
            width: cols as u32,
            height: rows as u32,
            reject_cap: options.reject_cap,
            poisson: u32::from(engine.error_model() == ErrorModel::Poisson),
            ..AzParams::default()
        };
        if let Some((lo, hi)) = reject_range(&engine) {
            base.reject = 1;
            base.rej_lo = lo;
            base.rej_span = (i64::from(hi) - i64::from(lo)) as u32;
        }
        let (stage, kernel) = match engine.bin_index() {
            Some(index) => {
                let bins: Vec<u32> = match index {
                    BinIndex::U16(v) => v.iter().map(|&b| u32::from(b)).collect(),
                    BinIndex::U32(v) => v.clone(),
                };
                check("the bin index", bins.len() as u64 * 4)?;
                let tiles_x = (cols as u32).div_ceil(TILE_W);
                let n_tiles = tiles_x * (rows as u32).div_ceil(TILE_H);
                let ranges = tile_ranges(&bins, cols, rows, n_bins, tiles_x, n_tiles);
                base.tiles_x = tiles_x;
                base.n_tiles = n_tiles;
                (
                    Stage::IntegrateHist,
                    Kernel::Hist {
                        bin_index: init("az bin_index", bytemuck::cast_slice(&bins)),
                        tile_range: init("az tile_range", bytemuck::cast_slice(&ranges)),
                        n_tiles,
                    },
                )
            }
            None => {
                let csr = engine.csr();
                check("the CSR matrix", csr.indices.len() as u64 * 4)?;
                let mut seen = vec![false; engine.n_pixels()];
                let indices: Vec<u32> = csr
                    .indices
                    .iter()
                    .map(|&p| match seen.get_mut(p as usize) {
                        Some(s) if !*s => {
                            *s = true;
                            p | FIRST_FLAG
                        }
                        _ => p,
                    })
                    .collect();
                (
                    Stage::IntegrateCsr,
                    Kernel::Csr {
                        indptr: init("az indptr", bytemuck::cast_slice(&csr.indptr)),
                        indices: init("az indices", bytemuck::cast_slice(&indices)),
                        coefs: init("az coefs", bytemuck::cast_slice(&csr.data)),
                    },
                )
            }
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(stage.name()),
            source: wgpu::ShaderSource::Wgsl(stage.source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(stage.name()),
            layout: None,
            module: &module,
            entry_point: Some(stage.entry_point()),
            compilation_options: Default::default(),
            cache: None,
        });
        let timestamps = (options.timestamps
            && device.features().contains(wgpu::Features::TIMESTAMP_QUERY))
        .then(|| {
            (
                device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("az timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("az timestamps resolve"),
                    size: 16,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
            )
        });
        Ok(GpuIntegrator {
            device,
            queue,
            engine,
            pipeline,
            kernel,
            base,
            options,
            max_binding,
            timestamps,
        })
    }

    /// The engine integrated.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The WGSL stage this engine's splitting uses.
    pub fn stage(&self) -> Stage {
        match self.kernel {
            Kernel::Hist { .. } => Stage::IntegrateHist,
            Kernel::Csr { .. } => Stage::IntegrateCsr,
        }
    }

    fn sum_bytes_per_frame(&self) -> u64 {
        u64::from(self.base.n_bins) * u64::from(SUM_WORDS) * 4
    }

    fn reject_bytes_per_frame(&self) -> u64 {
        (u64::from(self.options.reject_cap) + 1) * 4
    }

    /// Most frames one [`submit`](Self::submit) takes.
    pub fn max_batch_frames(&self) -> usize {
        let per = self
            .sum_bytes_per_frame()
            .max(self.reject_bytes_per_frame());
        let by_binding = (self.max_binding / per.max(1)) as usize;
        let by_input = (u64::from(u32::MAX) / u64::from(self.base.n_pixels.max(1))) as usize;
        self.options
            .max_batch_frames
            .min(by_binding)
            .min(by_input)
            .max(1)
    }

    /// Encodes and submits the integration of `n_frames` frames of `input` (`i32` elements,
    /// frame `i` at element `first_element + i · n_pixels`), after any work already
    /// submitted to the queue (so it reads what a decoder wrote there). Takes at most
    /// [`max_batch_frames`](Self::max_batch_frames) frames; [`Submitted::len`] says how many.
    pub fn submit(
        &self,
        input: &wgpu::Buffer,
        first_element: u64,
        n_frames: usize,
    ) -> Result<Submitted, GpuError> {
        let n = n_frames.min(self.max_batch_frames());
        let n_pixels = u64::from(self.base.n_pixels);
        let need = first_element + n as u64 * n_pixels;
        if need * 4 > input.size() {
            return Err(GpuError::InputTooSmall {
                need,
                have: input.size() / 4,
            });
        }
        if need * 4 > self.max_binding || first_element > u64::from(u32::MAX) {
            return Err(GpuError::TooLarge {
                what: "the batch's input",
                bytes: need * 4,
                limit: self.max_binding,
            });
        }
        let groups_per_frame = match self.kernel {
            Kernel::Hist { n_tiles, .. } => n_tiles,
            Kernel::Csr { .. } => self.base.n_bins,
        };
        let total = u64::from(groups_per_frame) * n as u64;
        let grid_x = total.clamp(1, 65_535) as u32;
        let grid_y = total.div_ceil(u64::from(grid_x)).max(1) as u32;
        let params = AzParams {
            n_frames: n as u32,
            grid_x,
            in_offset: first_element as u32,
            ..self.base
        };
        let d = &self.device;
        let sum_bytes = match self.kernel {
            Kernel::Hist { .. } => self.sum_bytes_per_frame() * n as u64,
            Kernel::Csr { .. } => u64::from(self.base.n_bins) * 16 * n as u64,
        }
        .max(16);
        let rej_bytes = self.reject_bytes_per_frame() * n as u64;
        let ts_bytes = if self.timestamps.is_some() { 16 } else { 0 };
        use wgpu::BufferUsages as U;
        let storage = |label: &str, size: u64| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let sums = storage("az sums", sum_bytes);
        let rejects = storage("az rejects", rej_bytes);
        let read = d.create_buffer(&wgpu::BufferDescriptor {
            label: Some("az read back"),
            size: sum_bytes + rej_bytes + ts_bytes,
            usage: U::MAP_READ | U::COPY_DST,
            mapped_at_creation: false,
        });
        let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("az params"),
            contents: bytemuck::bytes_of(&params),
            usage: U::UNIFORM,
        });
        let input_binding = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: input,
            offset: 0,
            size: wgpu::BufferSize::new(need.max(1) * 4),
        });
        let mut entries = vec![uniform.as_entire_binding()];
        match &self.kernel {
            Kernel::Hist {
                bin_index,
                tile_range,
                ..
            } => {
                entries.push(bin_index.as_entire_binding());
                entries.push(tile_range.as_entire_binding());
            }
            Kernel::Csr {
                indptr,
                indices,
                coefs,
            } => {
                entries.push(indptr.as_entire_binding());
                entries.push(indices.as_entire_binding());
                entries.push(coefs.as_entire_binding());
            }
        }
        entries.push(input_binding);
        entries.push(sums.as_entire_binding());
        entries.push(rejects.as_entire_binding());
        let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("az integrate"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &entries
                .into_iter()
                .enumerate()
                .map(|(i, resource)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource,
                })
                .collect::<Vec<_>>(),
        });
        let mut enc = d.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("az integrate"),
        });
        if matches!(self.kernel, Kernel::Hist { .. }) {
            enc.clear_buffer(&sums, 0, None);
        }
        enc.clear_buffer(&rejects, 0, None);
        {
            let writes =
                self.timestamps
                    .as_ref()
                    .map(|(set, _)| wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    });
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(self.stage().name()),
                timestamp_writes: writes,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &group, &[]);
            if n > 0 {
                pass.dispatch_workgroups(grid_x, grid_y, 1);
            }
        }
        enc.copy_buffer_to_buffer(&sums, 0, &read, 0, sum_bytes);
        enc.copy_buffer_to_buffer(&rejects, 0, &read, sum_bytes, rej_bytes);
        if let Some((set, resolve)) = &self.timestamps {
            enc.resolve_query_set(set, 0..2, resolve, 0);
            enc.copy_buffer_to_buffer(resolve, 0, &read, sum_bytes + rej_bytes, 16);
        }
        let index = self.queue.submit([enc.finish()]);
        Ok(Submitted {
            device: self.device.clone(),
            period_ns: f64::from(self.queue.get_timestamp_period()),
            read,
            index,
            n_frames: n,
            n_bins: self.base.n_bins as usize,
            hist: matches!(self.kernel, Kernel::Hist { .. }),
            sum_bytes,
            reject_cap: self.options.reject_cap,
            timestamps: self.timestamps.is_some(),
            timeout: self.options.timeout,
        })
    }

    /// Uploads whole decoded frames and integrates them (batches as needed), integrating on
    /// the CPU any frame with more dummy pixels than the reject list holds. One pattern per
    /// frame, in order; a frame of the wrong size or a bad normalization is that frame's
    /// error.
    pub fn integrate_i32(
        &mut self,
        frames: &[&[i32]],
        normalization: &[f64],
    ) -> Result<Vec<Result<Pattern, Error>>, GpuError> {
        let n_pixels = self.engine.n_pixels();
        let mut out: Vec<Option<Result<Pattern, Error>>> =
            (0..frames.len()).map(|_| None).collect();
        let good: Vec<usize> = (0..frames.len())
            .filter(|&i| frames[i].len() == n_pixels)
            .collect();
        for i in 0..frames.len() {
            if frames[i].len() != n_pixels {
                out[i] = Some(self.engine.integrate_i32(frames[i], 1.0));
            }
        }
        let nf = |i: usize| normalization.get(i).copied().unwrap_or(1.0);
        let per_upload = self
            .max_batch_frames()
            .min((self.max_binding / (n_pixels as u64 * 4).max(1)) as usize)
            .max(1);
        for chunk in good.chunks(per_upload) {
            let mut data = Vec::with_capacity(chunk.len() * n_pixels);
            for &i in chunk {
                data.extend_from_slice(frames[i]);
            }
            let input = self
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("az frames"),
                    contents: bytemuck::cast_slice(&data),
                    usage: wgpu::BufferUsages::STORAGE,
                });
            let mut done = 0;
            while done < chunk.len() {
                let sub = self.submit(&input, (done * n_pixels) as u64, chunk.len() - done)?;
                let taken = sub.len();
                let sums = sub.wait()?;
                for (k, s) in sums.frames.iter().enumerate() {
                    let i = chunk[done + k];
                    out[i] = Some(match s.rejected {
                        Some(_) => finish(&self.engine, s, nf(i)),
                        None => self.engine.integrate_i32(frames[i], nf(i)),
                    });
                }
                done += taken;
            }
        }
        // Every frame has its result by now; any that had not is integrated on the CPU.
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, o)| o.unwrap_or_else(|| self.engine.integrate_i32(frames[i], nf(i))))
            .collect())
    }
}

/// Per-tile (first bin, span) of the used pixels of each `TILE_H × TILE_W` tile.
fn tile_ranges(
    bins: &[u32],
    cols: usize,
    rows: usize,
    n_bins: u32,
    tiles_x: u32,
    n_tiles: u32,
) -> Vec<[u32; 2]> {
    let mut lo = vec![u32::MAX; n_tiles as usize];
    let mut hi = vec![0u32; n_tiles as usize];
    for r in 0..rows {
        let ty = (r / TILE_H as usize) * tiles_x as usize;
        for c in 0..cols {
            let b = bins[r * cols + c];
            if b < n_bins {
                let t = ty + c / TILE_W as usize;
                lo[t] = lo[t].min(b);
                hi[t] = hi[t].max(b);
            }
        }
    }
    lo.iter()
        .zip(&hi)
        .map(|(&l, &h)| if l <= h { [l, h - l + 1] } else { [0, 0] })
        .collect()
}

/// Opens the default adapter's device with its own limits (and timestamp queries when
/// asked and available).
pub fn open_default_device(timestamps: bool) -> Result<(wgpu::Device, wgpu::Queue), GpuError> {
    let adapter = xrdct_shaders::device::default_adapter()?;
    let wanted = if timestamps {
        wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
    } else {
        wgpu::Features::empty()
    };
    Ok(xrdct_shaders::device::open(&adapter, "azint::gpu", wanted)?)
}

/// A submitted batch: owns its result buffer, waited for from any thread.
pub struct Submitted {
    device: wgpu::Device,
    period_ns: f64,
    read: wgpu::Buffer,
    index: wgpu::SubmissionIndex,
    n_frames: usize,
    n_bins: usize,
    hist: bool,
    sum_bytes: u64,
    reject_cap: u32,
    timestamps: bool,
    timeout: Duration,
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitted")
            .field("n_frames", &self.n_frames)
            .finish_non_exhaustive()
    }
}

/// The sums of one frame as the GPU leaves them, in flat bin order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameSums {
    /// Σc·(raw) over the non-dummy pixels, per bin (dark not subtracted).
    pub signal: Vec<f64>,
    /// Σc²·max(raw, 1), per bin (0 without the Poisson model).
    pub variance: Vec<f64>,
    /// Pixels rejected as dummies, in increasing order; `None` when there were more than
    /// the reject list holds (integrate that frame on the CPU).
    pub rejected: Option<Vec<u32>>,
}

/// The sums of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchSums {
    /// One entry per frame, in order.
    pub frames: Vec<FrameSums>,
    /// GPU time of the integration pass (timestamp queries), where recorded.
    pub integrate_ns: Option<f64>,
}

impl Submitted {
    /// Frames in the batch.
    pub fn len(&self) -> usize {
        self.n_frames
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.n_frames == 0
    }

    /// Waits for the batch and reads its sums back.
    pub fn wait(self) -> Result<BatchSums, GpuError> {
        const PENDING: u8 = 0;
        const READY: u8 = 1;
        const FAILED: u8 = 2;
        let state = Arc::new(AtomicU8::new(PENDING));
        let s = state.clone();
        self.read
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                s.store(if r.is_ok() { READY } else { FAILED }, Ordering::Release);
            });
        loop {
            match state.load(Ordering::Acquire) {
                READY => break,
                FAILED => return Err(GpuError::Map(wgpu::BufferAsyncError)),
                _ => {
                    self.device.poll(wgpu::PollType::Wait {
                        submission_index: Some(self.index.clone()),
                        timeout: Some(self.timeout),
                    })?;
                }
            }
        }
        let out = {
            let view = self
                .read
                .slice(..)
                .get_mapped_range()
                .map_err(|_| GpuError::Map(wgpu::BufferAsyncError))?;
            let (sums, rest) = view.split_at(self.sum_bytes as usize);
            let cap = self.reject_cap as usize;
            let (rejects, ts) = rest.split_at(self.n_frames * (cap + 1) * 4);
            let rejects: Vec<u32> = bytemuck::pod_collect_to_vec(rejects);
            let nb = self.n_bins;
            let mut frames = Vec::with_capacity(self.n_frames);
            for fi in 0..self.n_frames {
                let (signal, variance) = if self.hist {
                    let w: &[u32] = &bytemuck::pod_collect_to_vec::<u8, u32>(
                        &sums[fi * nb * 16..(fi + 1) * nb * 16],
                    );
                    let word = |b: usize, k: usize| {
                        (u64::from(w[b * 4 + k + 1]) << 32 | u64::from(w[b * 4 + k])) as i64 as f64
                    };
                    (
                        (0..nb).map(|b| word(b, 0)).collect(),
                        (0..nb).map(|b| word(b, 2)).collect(),
                    )
                } else {
                    let v: Vec<f32> =
                        bytemuck::pod_collect_to_vec(&sums[fi * nb * 16..(fi + 1) * nb * 16]);
                    let pair = |i: usize| f64::from(v[i]) + f64::from(v[i + 1]);
                    (
                        (0..nb).map(|b| pair(b * 4)).collect(),
                        (0..nb).map(|b| pair(b * 4 + 2)).collect(),
                    )
                };
                let list = &rejects[fi * (cap + 1)..(fi + 1) * (cap + 1)];
                let count = list[0] as usize;
                let rejected = (count <= cap).then(|| {
                    let mut r = list[1..1 + count].to_vec();
                    r.sort_unstable();
                    r
                });
                frames.push(FrameSums {
                    signal,
                    variance,
                    rejected,
                });
            }
            let integrate_ns = self.timestamps.then(|| {
                let t: Vec<u64> = bytemuck::pod_collect_to_vec(ts);
                t[1].wrapping_sub(t[0]) as f64 * self.period_ns
            });
            BatchSums {
                frames,
                integrate_ns,
            }
        };
        self.read.unmap();
        Ok(out)
    }
}

/// The pattern of one frame from its GPU sums, as [`Engine::finish`] computes it:
/// the engine's frame-independent sums, re-summed without the rejected pixels where any,
/// `normalization_factor` (monitor) multiplying every normalization.
pub fn finish(
    engine: &Engine,
    sums: &FrameSums,
    normalization_factor: f64,
) -> Result<Pattern, Error> {
    let Some(rejected) = &sums.rejected else {
        return Err(Error::RejectListFull);
    };
    engine.finish_sums(&sums.signal, &sums.variance, rejected, normalization_factor)
}

/// The WGSL stage names this module dispatches, for logs and benches.
pub fn stage_names() -> [&'static str; 2] {
    az::Stage::ALL.map(|s| s.name())
}
