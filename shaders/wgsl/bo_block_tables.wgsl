// Stage 1 of the byte-offset decoder: the transition table of every 4096-byte block.
// One workgroup per block (2-D grid, row length `params.grid_x`); each thread owns 16 bytes.
// Writes per block: the block's state map and, for every entry state s, the number of tokens
// that start in the block and the wrapping sum of their deltas.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> frames: array<Frame>;
@group(0) @binding(2) var<storage, read> block_frame: array<u32>;
@group(0) @binding(3) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> tables: array<u32>;

var<workgroup> sh_diff: array<atomic<u32>, 32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = wid.y * params.grid_x + wid.x;
    if (b >= params.n_blocks) {
        return;
    }
    let f = frames[block_frame[b]];
    let c = load_chunk(f, (b - f.first_block) * WG + lid);
    if (lid < 32u) {
        atomicStore(&sh_diff[lid], 0u);
    }
    let all = scan_maps(lid, chunk_map(c));
    let x = map_before(lid);
    // Row 0 by a scan; the other rows differ from it only in threads whose entry state
    // differs, which add their difference atomically (rare outside adversarial streams).
    let e0 = map_get(x, 0u);
    let r0 = walk(c, e0);
    let total = scan_sums(lid, r0.yz);
    for (var s = 1u; s < 15u; s++) {
        let e = map_get(x, s);
        if (e != e0) {
            let r = walk(c, e);
            atomicAdd(&sh_diff[s], r.y - r0.y);
            atomicAdd(&sh_diff[16u + s], r.z - r0.z);
        }
    }
    workgroupBarrier();
    if (lid == WG - 1u) {
        let t = b * TABLE_WORDS;
        tables[t] = all.x;
        tables[t + 1u] = all.y;
        for (var s = 0u; s < 15u; s++) {
            tables[t + 2u + s] = total.x + atomicLoad(&sh_diff[s]);
            tables[t + 18u + s] = total.y + atomicLoad(&sh_diff[16u + s]);
        }
        tables[t + 17u] = 0u;
        tables[t + 33u] = 0u;
    }
}
