// Shared by every byte-offset stage: constants, the frame descriptor, the uniform block and
// the state-map arithmetic. Keep `Params` and `Frame` in sync with `xrdct_shaders::bo`.
//
// A *state* is how many bytes at the start of a chunk belong to a token that began in an
// earlier chunk (0..=14), or `ERR` (15) once a token ran past the end of the stream. A chunk's
// effect on the state is a map 0..16 -> 0..16, packed as sixteen 4-bit entries in a vec2<u32>
// (entry s in bits 4s.. of x for s < 8, of y otherwise). Maps compose associatively.

const WG: u32 = 256u;            // threads per workgroup in every stage
const CHUNK: u32 = 16u;          // bytes of stream per thread
const BLOCK: u32 = 4096u;        // bytes of stream per workgroup (WG * CHUNK)
const ERR: u32 = 15u;            // state: a token ran past the end of the stream
const TABLE_WORDS: u32 = 34u;    // per block: map (2), count[16], sum[16]
const STATUS_WORDS: u32 = 8u;    // per frame, see `FrameStatus` on the host
const ID_MAP: vec2<u32> = vec2<u32>(0x76543210u, 0xfedcba98u);

struct Params {
    n_frames: u32,
    n_blocks: u32,
    grid_x: u32,
    out_f32: u32,
}

struct Frame {
    in_offset: u32,   // byte offset of the stream in `src`, a multiple of 16
    in_len: u32,      // bytes of stream
    n_pixels: u32,    // elements expected
    out_offset: u32,  // element offset of the frame in `dst`
    first_block: u32, // index of the frame's first block in the batch
    n_blocks: u32,    // ceil(in_len / BLOCK)
    _pad0: u32,
    _pad1: u32,
}

fn map_get(m: vec2<u32>, s: u32) -> u32 {
    let w = select(m.x, m.y, s >= 8u);
    return (w >> ((s & 7u) * 4u)) & 15u;
}

// A map sending every entry 0..=14 to one state k (and ERR to ERR).
fn const_map(k: u32) -> vec2<u32> {
    let kk = k * 0x11111111u;
    return vec2<u32>(kk, (kk & 0x0fffffffu) | 0xf0000000u);
}

fn is_const(m: vec2<u32>) -> bool {
    return all(m == const_map(m.x & 15u));
}

// Whether some entry 0..=14 of `m` is ERR.
fn has_err(m: vec2<u32>) -> bool {
    // A nibble is 0xf in m exactly when it is 0 in ~m.
    let t = vec2<u32>(~m.x, ~m.y | 0xf0000000u);
    let z = (t - vec2<u32>(0x11111111u)) & ~t & vec2<u32>(0x88888888u);
    return any(z != vec2<u32>(0u));
}

// The map "apply a, then b".
fn map_then(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    // Fast paths: after a constant map, or before one from a map that never fails, the
    // result is constant. Nearly every chunk of real data has a constant map.
    if (is_const(b) && !has_err(a)) {
        return b;
    }
    if (is_const(a)) {
        let k = map_get(b, a.x & 15u);
        if (k != ERR) {
            return const_map(k);
        }
    }
    var lo = 0u;
    var hi = 0u;
    for (var s = 0u; s < 8u; s++) {
        let sh = s * 4u;
        lo |= map_get(b, (a.x >> sh) & 15u) << sh;
        hi |= map_get(b, (a.y >> sh) & 15u) << sh;
    }
    return vec2<u32>(lo, hi);
}
