// Reading one thread's 16-byte chunk of a stream. Needs the stage to declare
// `src: array<vec4<u32>>` (the batch's streams, read-only storage).

struct Chunk {
    base: u32,       // absolute byte offset of the chunk in `src`
    len: u32,        // bytes of the chunk inside the stream, 0..=16
    end: u32,        // absolute byte offset of the end of the stream
    w: vec4<u32>,    // the chunk's 16 bytes (bytes past `len` are not stream bytes)
    mask: u32,       // bit p set when byte p < len is 0x80
}

// A token starting with an escape byte. len 0: the token runs past the end of the stream and
// `delta` holds the bytes it needs (3, 7 or 15).
struct Token {
    len: u32,
    delta: u32,
    wide: u32, // 1 when a 64-bit delta does not fit 32 bits (the low 32 bits are used)
}

fn in_byte(p: u32) -> u32 {
    let v = src[p >> 4u];
    return (v[(p >> 2u) & 3u] >> ((p & 3u) * 8u)) & 0xffu;
}

fn in_u16(p: u32) -> u32 {
    return in_byte(p) | (in_byte(p + 1u) << 8u);
}

fn in_u32(p: u32) -> u32 {
    return in_u16(p) | (in_u16(p + 2u) << 16u);
}

// The escape token at absolute byte `p` (whose byte is 0x80) of a stream ending at `end`.
fn read_escape(p: u32, end: u32) -> Token {
    if (end - p < 3u) {
        return Token(0u, 3u, 0u);
    }
    let d16 = in_u16(p + 1u);
    if (d16 != 0x8000u) {
        return Token(3u, bitcast<u32>((bitcast<i32>(d16 << 16u)) >> 16u), 0u);
    }
    if (end - p < 7u) {
        return Token(0u, 7u, 0u);
    }
    let d32 = in_u32(p + 3u);
    if (d32 != 0x80000000u) {
        return Token(7u, d32, 0u);
    }
    if (end - p < 15u) {
        return Token(0u, 15u, 0u);
    }
    let lo = in_u32(p + 7u);
    let hi = in_u32(p + 11u);
    let sign = select(0u, 0xffffffffu, (lo & 0x80000000u) != 0u);
    return Token(15u, lo, select(0u, 1u, hi != sign));
}

// 4-bit mask of the bytes of `w` equal to 0x80.
fn eq80(w: u32) -> u32 {
    let t = w ^ 0x80808080u;
    let y = ~(((t & 0x7f7f7f7fu) + 0x7f7f7f7fu) | t | 0x7f7f7f7fu);
    return ((y >> 7u) & 1u) | ((y >> 14u) & 2u) | ((y >> 21u) & 4u) | ((y >> 28u) & 8u);
}

// Wrapping sum of the four bytes of `w` read as i8.
fn sbytes(w: u32) -> u32 {
    var u = (w & 0x00ff00ffu) + ((w >> 8u) & 0x00ff00ffu);
    u = (u & 0xffffu) + (u >> 16u);
    return u - 256u * countOneBits(w & 0x80808080u);
}

// Wrapping sum of the chunk's bytes 0..x (x <= 16) read as i8.
fn prefix(c: Chunk, x: u32) -> u32 {
    var s = 0u;
    for (var i = 0u; i < 4u; i++) {
        let lo = i * 4u;
        if (x >= lo + 4u) {
            s += sbytes(c.w[i]);
        } else if (x > lo) {
            s += sbytes(c.w[i] & ((1u << ((x - lo) * 8u)) - 1u));
        }
    }
    return s;
}

// Chunk `ci` (counted from the frame's start) of frame `f`.
fn load_chunk(f: Frame, ci: u32) -> Chunk {
    let start = ci * CHUNK;
    let len = select(0u, min(f.in_len - start, CHUNK), start < f.in_len);
    let base = f.in_offset + start;
    var w = vec4<u32>(0u);
    if (len > 0u) {
        w = src[base >> 4u];
    }
    let m = eq80(w.x) | (eq80(w.y) << 4u) | (eq80(w.z) << 8u) | (eq80(w.w) << 12u);
    return Chunk(base, len, f.in_offset + f.in_len, w, m & ((1u << len) - 1u));
}

// Parses the chunk from entry state `e`: every token that starts inside the chunk, reading
// past its end for the last one. Returns (exit state, tokens, wrapping sum of deltas).
fn walk(c: Chunk, e: u32) -> vec3<u32> {
    if (e == ERR) {
        return vec3<u32>(ERR, 0u, 0u);
    }
    if (e >= c.len) {
        return vec3<u32>(e - c.len, 0u, 0u);
    }
    var pos = e;
    var count = 0u;
    var sum = 0u;
    var exit = 0u;
    // Each round consumes an escape token of at least 3 bytes: at most 6 rounds.
    for (var round = 0u; round < CHUNK; round++) {
        let m = c.mask & (0xffffffffu << pos);
        if (m == 0u) {
            count += c.len - pos;
            sum += prefix(c, c.len) - prefix(c, pos);
            exit = 0u;
            break;
        }
        let p = firstTrailingBit(m);
        count += p - pos;
        sum += prefix(c, p) - prefix(c, pos);
        let t = read_escape(c.base + p, c.end);
        if (t.len == 0u) {
            exit = ERR;
            break;
        }
        count += 1u;
        sum += t.delta;
        pos = p + t.len;
        if (pos >= c.len) {
            exit = pos - c.len;
            break;
        }
    }
    return vec3<u32>(exit, count, sum);
}

// The chunk's state map.
fn chunk_map(c: Chunk) -> vec2<u32> {
    if (c.mask == 0u && c.len == CHUNK) {
        // Every entry 0..=14 leaves the chunk at a token boundary.
        return vec2<u32>(0u, ERR << 28u);
    }
    var lo = 0u;
    var hi = ERR << 28u;
    for (var e = 0u; e < 15u; e++) {
        let x = walk(c, e).x;
        if (e < 8u) {
            lo |= x << (e * 4u);
        } else {
            hi |= x << ((e - 8u) * 4u);
        }
    }
    return vec2<u32>(lo, hi);
}
