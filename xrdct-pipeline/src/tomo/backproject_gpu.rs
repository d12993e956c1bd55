//! Filtered back-projection with the back-projection on the GPU: the filtering stays on the
//! CPU (`fbp`'s stage 1, FFTs), the back-projection of every bin runs in one batched
//! dispatch of `xrdct_shaders`' `backproject` stage, bins innermost (one workgroup row reads
//! 64 consecutive bins of a filtered row). Bins are split into chunks only where the
//! filtered cube or the volume exceed the device's binding size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use wgpu::util::DeviceExt;
use xrdct_shaders::bp::{self, BINS_PER_GROUP, BpParams, PIXELS_PER_GROUP};

use crate::engine::gpu::GpuSetupError;
use crate::tomo::fbp::{self, FbpError, FbpOptions, SinogramCube, Tomogram};

/// Why the GPU back-projection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackprojectError {
    /// The cube or the options are unusable (as on the CPU).
    #[error("{0}")]
    Fbp(#[from] FbpError),
    /// One bin's filtered projections or slice exceed the device's binding size.
    #[error("one bin needs {bytes} bytes, more than the GPU binding limit of {limit}")]
    TooLarge {
        /// Bytes needed.
        bytes: u64,
        /// The device's limit.
        limit: u64,
    },
    /// The output side exceeds 65 535 pixels.
    #[error("slices of {0} pixels are too large for the GPU back-projection")]
    Side(usize),
    /// Mapping or waiting failed (device lost).
    #[error("GPU failure: {0}")]
    Device(String),
}

/// Where the time of one reconstruction went.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BackprojectTimes {
    /// Filtering on the CPU.
    pub filter: Duration,
    /// Upload, back-projection and read-back, wall clock.
    pub gpu_wall: Duration,
    /// Back-projection kernels alone (timestamp queries), where the device has them.
    pub kernel_ns: Option<f64>,
}

/// The GPU back-projector: device and pipeline, created once.
pub struct GpuBackprojector {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    max_binding: u64,
    timestamps: bool,
}

impl std::fmt::Debug for GpuBackprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackprojector")
            .field("max_binding", &self.max_binding)
            .finish_non_exhaustive()
    }
}

impl GpuBackprojector {
    /// On the default adapter (timestamp queries where available).
    pub fn from_default_adapter() -> Result<GpuBackprojector, GpuSetupError> {
        let (device, queue) = azint::gpu::open_default_device(true)
            .map_err(|e| GpuSetupError::NoAdapter(e.to_string()))?;
        Ok(GpuBackprojector::new(device, queue))
    }

    /// On the caller's device.
    pub fn new(device: wgpu::Device, queue: wgpu::Queue) -> GpuBackprojector {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(bp::NAME),
            source: wgpu::ShaderSource::Wgsl(bp::source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(bp::NAME),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let limits = device.limits();
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            & !255;
        let timestamps = device.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        GpuBackprojector {
            device,
            queue,
            pipeline,
            max_binding,
            timestamps,
        }
    }

    /// Reconstructs `cube` as [`fbp::reconstruct`] does (same geometry, filter and scale),
    /// with the back-projection on the GPU.
    pub fn reconstruct(
        &self,
        cube: &SinogramCube<'_>,
        opts: &FbpOptions,
    ) -> Result<(Tomogram, BackprojectTimes), BackprojectError> {
        let t0 = Instant::now();
        let (filtered, g) = fbp::filtered_projections(cube, opts)?;
        let filter = t0.elapsed();
        if g.n > u16::MAX as usize {
            return Err(BackprojectError::Side(g.n));
        }
        let t1 = Instant::now();
        let (data, kernel_ns) = self.backproject(&filtered, &g, cube)?;
        let times = BackprojectTimes {
            filter,
            gpu_wall: t1.elapsed(),
            kernel_ns,
        };
        Ok((
            Tomogram {
                data,
                bins: cube.bins(),
                size: g.n,
                center: g.center,
            },
            times,
        ))
    }

    fn backproject(
        &self,
        filtered: &[f32],
        g: &fbp::FilteredGeometry,
        cube: &SinogramCube<'_>,
    ) -> Result<(Vec<f32>, Option<f64>), BackprojectError> {
        let (bins, rotations, n, len) = (cube.bins(), cube.rotations(), g.n, g.len);
        let plane = n * n;
        let per_bin = ((rotations * len) as u64 * 4).max(plane as u64 * 4);
        let fit = (self.max_binding / per_bin) as usize;
        if fit == 0 {
            return Err(BackprojectError::TooLarge {
                bytes: per_bin,
                limit: self.max_binding,
            });
        }
        let chunk = if fit >= bins {
            bins
        } else if fit >= BINS_PER_GROUP as usize {
            fit / BINS_PER_GROUP as usize * BINS_PER_GROUP as usize
        } else {
            fit
        };
        let trig: Vec<[f32; 2]> = cube
            .angles_deg()
            .iter()
            .map(|a| {
                let (s, c) = a.to_radians().sin_cos();
                [s as f32, c as f32]
            })
            .collect();
        let radius = g.radius as i64;
        let mut pixels = Vec::new();
        for r in 0..n {
            for c in 0..n {
                let (x, y) = (r as i64 - radius, c as i64 - radius);
                if x * x + y * y <= radius * radius {
                    pixels.push((r as u32) << 16 | c as u32);
                }
            }
        }
        let d = &self.device;
        use wgpu::BufferUsages as U;
        let trig_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("bp trig"),
            contents: bytemuck::cast_slice(&trig),
            usage: U::STORAGE,
        });
        let pix_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("bp pixels"),
            contents: if pixels.is_empty() {
                &[0; 4]
            } else {
                bytemuck::cast_slice(&pixels)
            },
            usage: U::STORAGE,
        });
        let query = self.timestamps.then(|| {
            (
                d.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("bp timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                d.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("bp resolve"),
                    size: 16,
                    usage: U::QUERY_RESOLVE | U::COPY_SRC,
                    mapped_at_creation: false,
                }),
            )
        });
        let mut out = vec![0f32; bins * plane];
        let mut kernel_ns = query.as_ref().map(|_| 0.0);
        let groups_y_total = (pixels.len() as u32).div_ceil(PIXELS_PER_GROUP).max(1);
        let grid_y = groups_y_total.min(65_535);
        let grid_z = groups_y_total.div_ceil(grid_y);
        for b0 in (0..bins).step_by(chunk) {
            let w = chunk.min(bins - b0);
            let part: Vec<f32>;
            let src: &[f32] = if w == bins {
                filtered
            } else {
                part = filtered
                    .chunks_exact(bins)
                    .flat_map(|row| row[b0..b0 + w].iter().copied())
                    .collect();
                &part
            };
            let params = BpParams {
                n: n as u32,
                bins: w as u32,
                len: len as u32,
                n_angles: rotations as u32,
                n_pixels: pixels.len() as u32,
                grid_y,
                radius: g.radius as f32,
                offset: (g.center - g.lo as f64) as f32,
                pad_lo: (g.center + g.pad_before as f64) as f32,
                pad_hi: (g.diag as f64 - 1.0) as f32,
                scale: (std::f64::consts::PI / (2.0 * rotations as f64)) as f32,
                _pad0: 0,
            };
            let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("bp params"),
                contents: bytemuck::bytes_of(&params),
                usage: U::UNIFORM,
            });
            let filt_buf = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("bp filtered"),
                contents: bytemuck::cast_slice(src),
                usage: U::STORAGE,
            });
            let out_bytes = (w * plane * 4) as u64;
            let out_buf = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("bp out"),
                size: out_bytes,
                usage: U::STORAGE | U::COPY_SRC | U::COPY_DST,
                mapped_at_creation: false,
            });
            let read = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("bp read"),
                size: out_bytes + 16,
                usage: U::MAP_READ | U::COPY_DST,
                mapped_at_creation: false,
            });
            let group = d.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("bp"),
                layout: &self.pipeline.get_bind_group_layout(0),
                entries: &[
                    uniform.as_entire_binding(),
                    trig_buf.as_entire_binding(),
                    pix_buf.as_entire_binding(),
                    filt_buf.as_entire_binding(),
                    out_buf.as_entire_binding(),
                ]
                .into_iter()
                .enumerate()
                .map(|(i, resource)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource,
                })
                .collect::<Vec<_>>(),
            });
            let mut enc = d.create_command_encoder(&Default::default());
            enc.clear_buffer(&out_buf, 0, None);
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(bp::NAME),
                    timestamp_writes: query.as_ref().map(|(set, _)| {
                        wgpu::ComputePassTimestampWrites {
                            query_set: set,
                            beginning_of_pass_write_index: Some(0),
                            end_of_pass_write_index: Some(1),
                        }
                    }),
                });
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &group, &[]);
                if !pixels.is_empty() {
                    pass.dispatch_workgroups((w as u32).div_ceil(BINS_PER_GROUP), grid_y, grid_z);
                }
            }
            enc.copy_buffer_to_buffer(&out_buf, 0, &read, 0, out_bytes);
            if let Some((set, resolve)) = &query {
                enc.resolve_query_set(set, 0..2, resolve, 0);
                enc.copy_buffer_to_buffer(resolve, 0, &read, out_bytes, 16);
            }
            let index = self.queue.submit([enc.finish()]);
            let bytes = map_read(d, &read, index)?;
            let (vals, ts) = bytes.split_at(out_bytes as usize);
            // The chunk's slices are bins b0 .. b0 + w of the volume, contiguous.
            out[b0 * plane..(b0 + w) * plane]
                .copy_from_slice(&bytemuck::pod_collect_to_vec::<u8, f32>(vals));
            if let Some(k) = kernel_ns.as_mut() {
                let t: Vec<u64> = bytemuck::pod_collect_to_vec(ts);
                *k += t[1].wrapping_sub(t[0]) as f64 * f64::from(self.queue.get_timestamp_period());
            }
        }
        Ok((out, kernel_ns))
    }
}

fn map_read(
    device: &wgpu::Device,
    buf: &wgpu::Buffer,
    index: wgpu::SubmissionIndex,
) -> Result<Vec<u8>, BackprojectError> {
    let state = Arc::new(AtomicU8::new(0));
    let s = state.clone();
    buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        s.store(if r.is_ok() { 1 } else { 2 }, Ordering::Release);
    });
    loop {
        match state.load(Ordering::Acquire) {
            1 => break,
            2 => return Err(BackprojectError::Device("mapping failed".into())),
            _ => {
                device
                    .poll(wgpu::PollType::Wait {
                        submission_index: Some(index.clone()),
                        timeout: Some(Duration::from_secs(120)),
                    })
                    .map_err(|e| BackprojectError::Device(e.to_string()))?;
            }
        }
    }
    let v = buf
        .slice(..)
        .get_mapped_range()
        .map_err(|_| BackprojectError::Device("mapping failed".into()))?
        .to_vec();
    buf.unmap();
    Ok(v)
}

/// Reconstructs `cube` with the back-projection on the default GPU. The outer error is
/// "no usable GPU" (run [`fbp::reconstruct`] instead), the inner one the reconstruction's.
pub fn backproject_gpu(
    cube: &SinogramCube<'_>,
    opts: &FbpOptions,
) -> Result<Result<(Tomogram, BackprojectTimes), BackprojectError>, GpuSetupError> {
    let bp = GpuBackprojector::from_default_adapter()?;
    Ok(bp.reconstruct(cube, opts))
}
