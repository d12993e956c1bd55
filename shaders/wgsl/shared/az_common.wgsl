// Shared by the integration stages: constants and the uniform block.
// Keep `AzParams` and the constants in sync with `xrdct_shaders::az`.

const WG: u32 = 256u;            // threads per workgroup of integrate_hist
const TILE_W: u32 = 64u;         // integrate_hist tile: columns
const TILE_H: u32 = 64u;         // integrate_hist tile: rows (TILE_W * TILE_H = WG * 16 pixels)
const LOCAL_BINS: u32 = 512u;    // bins a tile may span to use the workgroup histogram
const SUM_WORDS: u32 = 4u;       // integrate_hist, per bin: signal lo, hi, variance lo, hi
const CSR_WG: u32 = 64u;         // threads per workgroup (one bin) of integrate_csr
const FIRST_FLAG: u32 = 0x80000000u; // integrate_csr: entry is its pixel's first entry

struct AzParams {
    n_frames: u32,    // frames in the batch
    n_pixels: u32,    // pixels per frame (= frame stride in `frames`)
    n_bins: u32,      // flat bins; a bin index >= n_bins marks an unused pixel
    grid_x: u32,      // workgroups per row of the 2-D dispatch grid
    width: u32,       // detector columns
    height: u32,      // detector rows
    tiles_x: u32,     // integrate_hist: tiles per row of tiles
    n_tiles: u32,     // integrate_hist: tiles per frame
    in_offset: u32,   // element offset of the batch's first frame in `frames`
    reject: u32,      // 1: raw values in rej_lo ..= rej_lo + rej_span are dummies
    rej_lo: i32,
    rej_span: u32,
    reject_cap: u32,  // rejected pixels listed per frame (the list holds 1 + cap words)
    poisson: u32,     // 1: accumulate the Poisson variance max(v, 1)
    zero: u32,        // always 0: see `opaque` in integrate_csr.wgsl
    _pad1: u32,
}

fn is_dummy(v: i32) -> bool {
    return params.reject != 0u && (bitcast<u32>(v) - bitcast<u32>(params.rej_lo)) <= params.rej_span;
}

// Appends pixel `p` to frame `fi`'s list of rejected pixels (count first, then indices);
// past `reject_cap` only the count grows, so the host sees the overflow.
fn list_reject(fi: u32, p: u32) {
    let base = fi * (params.reject_cap + 1u);
    let slot = atomicAdd(&rejects[base], 1u);
    if (slot < params.reject_cap) {
        atomicStore(&rejects[base + 1u + slot], p);
    }
}
