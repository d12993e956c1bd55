// No-splitting integration from a per-pixel bin index, exact in integers.
//
// One workgroup per (frame, tile of TILE_H x TILE_W pixels); each thread takes one column of
// 16 rows of its tile. Each bin keeps the signal Σv and the Poisson variance Σmax(v, 1) as
// 64-bit integers in two u32 words (low word by atomicAdd, the carry detected from the old
// value and added to the high word), so the sums equal the CPU's i64 sums exactly whatever
// the order. Where the tile's bins (`tile_range[t]`: first bin, span, precomputed per
// geometry) span at most LOCAL_BINS, the tile first sums into a workgroup histogram and adds
// each non-zero bin once to the frame's sums; otherwise it adds to the frame's sums directly.
// Dummy values (`is_dummy`) are not added; the pixel is listed for the host, which removes
// its frame-independent contributions as the CPU engine does.

@group(0) @binding(0) var<uniform> params: AzParams;
@group(0) @binding(1) var<storage, read> bin_index: array<u32>;
@group(0) @binding(2) var<storage, read> tile_range: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> frames: array<i32>;
@group(0) @binding(4) var<storage, read_write> sums: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> rejects: array<atomic<u32>>;

var<workgroup> l_sum: array<atomic<u32>, 2048>; // LOCAL_BINS * SUM_WORDS

// Adds the sign-extended `v` to the 64-bit workgroup counter at words i, i + 1.
fn local_add(i: u32, v: i32) {
    let u = bitcast<u32>(v);
    let old = atomicAdd(&l_sum[i], u);
    var hi = select(0u, 0xffffffffu, v < 0);
    if (old + u < old) {
        hi += 1u;
    }
    if (hi != 0u) {
        atomicAdd(&l_sum[i + 1u], hi);
    }
}

// Adds the 64-bit value (lo, hi) to the frame's counter at words i, i + 1.
fn global_add(i: u32, lo: u32, hi: u32) {
    let old = atomicAdd(&sums[i], lo);
    var h = hi;
    if (old + lo < old) {
        h += 1u;
    }
    if (h != 0u) {
        atomicAdd(&sums[i + 1u], h);
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let wg = wid.y * params.grid_x + wid.x;
    if (wg >= params.n_frames * params.n_tiles) {
        return;
    }
    let fi = wg / params.n_tiles;
    let t = wg % params.n_tiles;
    let range = tile_range[t];
    let local = range.y <= LOCAL_BINS;
    for (var k = lid; k < LOCAL_BINS * SUM_WORDS; k += WG) {
        atomicStore(&l_sum[k], 0u);
    }
    workgroupBarrier();
    let col = (t % params.tiles_x) * TILE_W + lid % TILE_W;
    let row0 = (t / params.tiles_x) * TILE_H + lid / TILE_W;
    let base = params.in_offset + fi * params.n_pixels;
    let frame_sums = fi * params.n_bins * SUM_WORDS;
    if (col < params.width) {
        for (var k = 0u; k < TILE_H; k += WG / TILE_W) {
            let row = row0 + k;
            if (row >= params.height) {
                break;
            }
            let p = row * params.width + col;
            let b = bin_index[p];
            let v = frames[base + p];
            if (is_dummy(v)) {
                if (b < params.n_bins) {
                    list_reject(fi, p);
                }
                continue;
            }
            if (b >= params.n_bins) {
                continue;
            }
            if (local) {
                let i = (b - range.x) * SUM_WORDS;
                local_add(i, v);
                if (params.poisson != 0u) {
                    local_add(i + 2u, max(v, 1));
                }
            } else {
                let i = frame_sums + b * SUM_WORDS;
                global_add(i, bitcast<u32>(v), select(0u, 0xffffffffu, v < 0));
                if (params.poisson != 0u) {
                    global_add(i + 2u, bitcast<u32>(max(v, 1)), 0u);
                }
            }
        }
    }
    workgroupBarrier();
    if (local) {
        for (var k = lid; k < range.y; k += WG) {
            let i = k * SUM_WORDS;
            let g = frame_sums + (range.x + k) * SUM_WORDS;
            let s_lo = atomicLoad(&l_sum[i]);
            let s_hi = atomicLoad(&l_sum[i + 1u]);
            if ((s_lo | s_hi) != 0u) {
                global_add(g, s_lo, s_hi);
            }
            let v_lo = atomicLoad(&l_sum[i + 2u]);
            let v_hi = atomicLoad(&l_sum[i + 3u]);
            if ((v_lo | v_hi) != 0u) {
                global_add(g + 2u, v_lo, v_hi);
            }
        }
    }
}
