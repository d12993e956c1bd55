// Stage 3 of the byte-offset decoder: every thread decodes the tokens that start in its
// 16 bytes, from the entry state, pixel index and value that the block state and a scan over
// the workgroup give it, and writes the pixels (i32, or f32 when `params.out_f32` is 1) at
// the frame's output offset. Pixels past the frame's expected count are not written. Records
// in the frame's status the truncated token (words 2, 3), the end of the last expected token
// (word 4) and the 64-bit deltas that do not fit 32 bits (word 5).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> frames: array<Frame>;
@group(0) @binding(2) var<storage, read> block_frame: array<u32>;
@group(0) @binding(3) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> block_state: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;

fn emit(f: Frame, idx: u32, v: u32, end: u32, st: u32) {
    if (idx < f.n_pixels) {
        var o = v;
        if (params.out_f32 != 0u) {
            o = bitcast<u32>(f32(bitcast<i32>(v)));
        }
        dst[f.out_offset + idx] = o;
        if (idx == f.n_pixels - 1u) {
            atomicStore(&status[st + 4u], end);
        }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = wid.y * params.grid_x + wid.x;
    if (b >= params.n_blocks) {
        return;
    }
    let fi = block_frame[b];
    let f = frames[fi];
    let st = fi * STATUS_WORDS;
    let c = load_chunk(f, (b - f.first_block) * WG + lid);
    let bs = block_state[b];
    scan_maps(lid, chunk_map(c));
    let e = map_get(map_before(lid), bs.x);
    let r = walk(c, e);
    let incl = scan_sums(lid, r.yz);
    var idx = bs.y + incl.x - r.y;
    var v = bs.z + incl.y - r.z;
    if (e >= c.len || e == ERR) {
        return;
    }
    var pos = e;
    for (var k = 0u; k < CHUNK; k++) {
        if (k >= c.len) {
            break;
        }
        if (k < pos) {
            continue;
        }
        let byte = (pick4(c.w, k >> 2u) >> ((k & 3u) * 8u)) & 0xffu;
        if (byte != 0x80u) {
            v += bitcast<u32>(bitcast<i32>(byte << 24u) >> 24u);
            pos = k + 1u;
        } else {
            let t = read_escape(c, k);
            if (t.len == 0u) {
                atomicStore(&status[st + 2u], c.base + k - f.in_offset);
                atomicStore(&status[st + 3u], t.delta);
                break;
            }
            v += t.delta;
            pos = k + t.len;
            if (t.wide != 0u && idx < f.n_pixels) {
                atomicAdd(&status[st + 5u], 1u);
            }
        }
        emit(f, idx, v, c.base + pos - f.in_offset, st);
        idx += 1u;
    }
}
