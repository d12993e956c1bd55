// Back-projection of filtered projections, bins innermost (the CPU's `fbp` stage 2).
//
// `filtered` is `angles × len × bins` (a projection position `j` of angle `a` and bin `b` at
// `(a * len + j) * bins + b`), `pixels` lists the reconstruction circle's pixels as
// `row << 16 | col`. A workgroup is 64 consecutive bins × 4 pixels; every thread walks the
// angles, computes its pixel's detector position and the two linear-interpolation weights
// (the same for every bin, so the 64 threads of a row read 64 consecutive floats), and
// writes `Σ (w0·f[k] + w1·f[k + 1]) · scale` to `out[b * n * n + row * n + col]`. Pixels
// outside the circle are not written (the host clears them to 0).
// Keep `BpParams` in sync with `xrdct_shaders::bp`.

const BP_BINS: u32 = 64u;    // bins per workgroup (x)
const BP_PIXELS: u32 = 4u;   // pixels per workgroup (y)

struct BpParams {
    n: u32,             // output side
    bins: u32,          // bins of `filtered` rows and of `out`
    len: u32,           // stored projection positions per angle
    n_angles: u32,
    n_pixels: u32,      // entries of `pixels`
    grid_y: u32,        // workgroups per column of the dispatch grid (y), z counts the rest
    radius: f32,        // pixel (radius, radius) is the rotation axis
    offset: f32,        // center - lo: t + offset is the stored position
    pad_lo: f32,        // center + pad_before: t + pad_lo is the padded position
    pad_hi: f32,        // diag - 1: the last padded position
    scale: f32,         // π / (2 · angles)
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: BpParams;
@group(0) @binding(1) var<storage, read> trig: array<vec2<f32>>;   // (sin θ, cos θ)
@group(0) @binding(2) var<storage, read> pixels: array<u32>;
@group(0) @binding(3) var<storage, read> filtered: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let b = wid.x * BP_BINS + lid.x;
    let pi = (wid.z * params.grid_y + wid.y) * BP_PIXELS + lid.y;
    if (b >= params.bins || pi >= params.n_pixels) {
        return;
    }
    let rc = pixels[pi];
    let row = rc >> 16u;
    let col = rc & 0xffffu;
    let x = f32(row) - params.radius;
    let y = f32(col) - params.radius;
    var acc = 0.0;
    for (var a = 0u; a < params.n_angles; a++) {
        let sc = trig[a];
        let t = y * sc.y - x * sc.x;
        let padded = t + params.pad_lo;
        if (padded < 0.0 || padded > params.pad_hi) {
            continue;
        }
        let pos = t + params.offset;
        let k = floor(pos);
        let w1 = pos - k;
        let j = min(u32(max(k, 0.0)), params.len - 2u);
        let off = (a * params.len + j) * params.bins + b;
        acc += (1.0 - w1) * filtered[off] + w1 * filtered[off + params.bins];
    }
    out[b * params.n * params.n + row * params.n + col] = acc * params.scale;
}
