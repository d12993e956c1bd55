//! Opening the GPU: the system's default adapter (high performance preferred; a software
//! adapter such as Mesa's lavapipe is accepted) and a device with the adapter's own limits.
//! Every GPU entry point of the workspace opens its device here, so all of them pick the
//! same adapter, read the same `WGPU_*` environment variables and ask for features the same
//! way.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = xrdct_shaders::device::default_adapter()?;
//! let (device, _queue) = xrdct_shaders::device::open(&adapter, "example", wgpu::Features::empty())?;
//! println!("{} ({:?})", adapter.get_info().name, device.limits().max_storage_buffer_binding_size);
//! # Ok(()) }
//! ```

/// The instance every opener uses: the primary backends (Vulkan, Metal, DX12), adjustable
/// through wgpu's environment variables (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`, …).
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    wgpu::Instance::new(desc.with_env())
}

/// The default adapter. An error means there is no usable GPU (callers then run on the CPU).
pub fn default_adapter() -> Result<wgpu::Adapter, wgpu::RequestAdapterError> {
    pollster::block_on(instance().request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
}

/// A device of `adapter` with the adapter's own limits and those of the `wanted` features it
/// has (the others are left out: ask [`wgpu::Device::features`] what you got).
pub fn open(
    adapter: &wgpu::Adapter,
    label: &str,
    wanted: wgpu::Features,
) -> Result<(wgpu::Device, wgpu::Queue), wgpu::RequestDeviceError> {
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some(label),
        required_features: adapter.features() & wanted,
        required_limits: adapter.limits(),
        ..Default::default()
    }))
}

/// Timestamp queries, in and between passes, where the adapter has them.
pub const TIMESTAMPS: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY
    .union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
    .union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES);
