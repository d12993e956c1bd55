// Stage 2 of the byte-offset decoder: one workgroup per frame scans the frame's block tables
// from entry state 0, giving every block its entry state, first pixel index and the value
// before its first pixel, and the frame its token count and final state (status words 0, 1;
// words 2..5 are reset for stage 3).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> frames: array<Frame>;
@group(0) @binding(2) var<storage, read> tables: array<u32>;
@group(0) @binding(3) var<storage, read_write> block_state: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> status: array<u32>;

fn table_map(b: u32) -> vec2<u32> {
    return vec2<u32>(tables[b * TABLE_WORDS], tables[b * TABLE_WORDS + 1u]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let fi = wid.y * params.grid_x + wid.x;
    if (fi >= params.n_frames) {
        return;
    }
    let f = frames[fi];
    let per = (f.n_blocks + WG - 1u) / WG;
    let b0 = f.first_block + min(lid * per, f.n_blocks);
    let b1 = f.first_block + min(lid * per + per, f.n_blocks);
    var m = ID_MAP;
    for (var b = b0; b < b1; b++) {
        m = map_then(m, table_map(b));
    }
    scan_maps(lid, m);
    let x = map_before(lid);
    var e = map_get(x, 0u);
    var acc = vec2<u32>(0u, 0u);
    for (var b = b0; b < b1; b++) {
        let t = b * TABLE_WORDS;
        acc += vec2<u32>(tables[t + 2u + e], tables[t + 18u + e]);
        e = map_get(table_map(b), e);
    }
    let incl = scan_sums(lid, acc);
    var run = incl - acc;
    e = map_get(x, 0u);
    for (var b = b0; b < b1; b++) {
        let t = b * TABLE_WORDS;
        block_state[b] = vec4<u32>(e, run.x, run.y, 0u);
        run += vec2<u32>(tables[t + 2u + e], tables[t + 18u + e]);
        e = map_get(table_map(b), e);
    }
    if (lid == WG - 1u) {
        let s = fi * STATUS_WORDS;
        status[s] = e;
        status[s + 1u] = run.x;
        status[s + 2u] = 0xffffffffu;
        status[s + 3u] = 0u;
        status[s + 4u] = 0xffffffffu;
        status[s + 5u] = 0u;
        status[s + 6u] = 0u;
        status[s + 7u] = 0u;
    }
}
