// Integration with a sparse matrix (bounding-box or full pixel splitting), as a gather per
// bin: one workgroup per (frame, bin) walks the bin's CSR row (pixel index, coefficient c)
// and sums c·v and c²·max(v, 1) in compensated float32: every addition is a TwoSum whose
// rounding error goes into a second float, per thread and then in the workgroup's tree
// reduction. The result per bin is (signal, its error, variance, its error); the host adds
// each pair in f64. Dummy values are skipped; the entry flagged FIRST_FLAG (the pixel's
// first entry in bin order) lists the pixel for the host, once per pixel.

@group(0) @binding(0) var<uniform> params: AzParams;
@group(0) @binding(1) var<storage, read> indptr: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> coefs: array<f32>;
@group(0) @binding(4) var<storage, read> frames: array<i32>;
@group(0) @binding(5) var<storage, read_write> sums: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> rejects: array<atomic<u32>>;

var<workgroup> red: array<vec4<f32>, 64>; // CSR_WG

// `x`, through an operation the compiler cannot see through (`params.zero` is 0): shader
// compilers may reassociate float arithmetic (Mesa's NIR does, for values not marked
// exact), which would cancel TwoSum's error term to 0.
fn opaque(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ params.zero);
}

// (s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth's TwoSum), every intermediate
// made opaque so that no algebraic rewrite applies.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = opaque(a + b);
    let bb = opaque(s - a);
    let sa = opaque(s - bb);
    let e = (a - sa) + (b - bb);
    return vec2<f32>(s, e);
}

// The compensated sum of two compensated values.
fn add_pair(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    let t = two_sum(x.x, y.x);
    return vec2<f32>(t.x, t.y + (x.y + y.y));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = wid.y * params.grid_x + wid.x;
    if (wg >= params.n_frames * params.n_bins) {
        return;
    }
    let fi = wg / params.n_bins;
    let b = wg % params.n_bins;
    let base = params.in_offset + fi * params.n_pixels;
    var s = vec2<f32>(0.0, 0.0);
    var vs = vec2<f32>(0.0, 0.0);
    let end = indptr[b + 1u];
    for (var k = indptr[b] + lid; k < end; k += CSR_WG) {
        let e = indices[k];
        let p = e & ~FIRST_FLAG;
        let v = frames[base + p];
        if (is_dummy(v)) {
            if ((e & FIRST_FLAG) != 0u) {
                list_reject(fi, p);
            }
            continue;
        }
        let c = coefs[k];
        s = add_pair(s, vec2<f32>(opaque(c * f32(v)), 0.0));
        if (params.poisson != 0u) {
            vs = add_pair(vs, vec2<f32>(opaque(c * c * f32(max(v, 1))), 0.0));
        }
    }
    red[lid] = vec4<f32>(s, vs);
    workgroupBarrier();
    for (var w = CSR_WG / 2u; w > 0u; w >>= 1u) {
        if (lid < w) {
            let x = red[lid];
            let y = red[lid + w];
            red[lid] = vec4<f32>(add_pair(x.xy, y.xy), add_pair(x.zw, y.zw));
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        sums[fi * params.n_bins + b] = red[0];
    }
}
