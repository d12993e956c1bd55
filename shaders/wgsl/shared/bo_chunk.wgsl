// Reading one thread's 16-byte chunk of a stream. Needs the stage to declare
// `src: array<vec4<u32>>` (the batch's streams, read-only storage).
//
// Bytes are taken from registers with select trees rather than dynamic vector indexing,
// which some compilers turn into local-memory traffic: the chunk's 16 bytes (`w`) and, when
// the chunk holds an escape byte, the 16 bytes after it (`x`), enough for any token that
// starts in the chunk (at most 15 bytes).

struct Chunk {
    base: u32,       // absolute byte offset of the chunk in `src`
    len: u32,        // bytes of the chunk inside the stream, 0..=16
    end: u32,        // absolute byte offset of the end of the stream
    w: vec4<u32>,    // the chunk's 16 bytes (bytes past `len` are not stream bytes)
    x: vec4<u32>,    // the next 16 bytes when `mask` != 0 (else zero)
    mask: u32,       // bit p set when byte p < len is 0x80
}

// A token starting with an escape byte. len 0: the token runs past the end of the stream and
// `delta` holds the bytes it needs (3, 7 or 15).
struct Token {
    len: u32,
    delta: u32,
    wide: u32, // 1 when a 64-bit delta does not fit 32 bits (the low 32 bits are used)
}

fn pick4(v: vec4<u32>, i: u32) -> u32 {
    return select(select(v.x, v.y, i == 1u), select(v.z, v.w, i == 3u), i >= 2u);
}

// Word i (0..8) of the chunk's 32 bytes.
fn cword(c: Chunk, i: u32) -> u32 {
    return select(pick4(c.w, i & 3u), pick4(c.x, i & 3u), i >= 4u);
}

// The 32 bits at byte q (0..=28) of the chunk's 32 bytes, little-endian.
fn cu32(c: Chunk, q: u32) -> u32 {
    let sh = (q & 3u) * 8u;
    let lo = cword(c, q >> 2u) >> sh;
    let hi = select(cword(c, (q >> 2u) + 1u) << (32u - sh), 0u, sh == 0u);
    return lo | hi;
}

// The escape token at chunk byte p (< 16, whose byte is 0x80).
fn read_escape(c: Chunk, p: u32) -> Token {
    let room = c.end - (c.base + p);
    if (room < 3u) {
        return Token(0u, 3u, 0u);
    }
    let d16 = (cu32(c, p) >> 8u) & 0xffffu;
    if (d16 != 0x8000u) {
        return Token(3u, bitcast<u32>((bitcast<i32>(d16 << 16u)) >> 16u), 0u);
    }
    if (room < 7u) {
        return Token(0u, 7u, 0u);
    }
    let d32 = cu32(c, p + 3u);
    if (d32 != 0x80000000u) {
        return Token(7u, d32, 0u);
    }
    if (room < 15u) {
        return Token(0u, 15u, 0u);
    }
    let lo = cu32(c, p + 7u);
    let hi = cu32(c, p + 11u);
    let sign = select(0u, 0xffffffffu, (lo & 0x80000000u) != 0u);
    return Token(15u, lo, select(0u, 1u, hi != sign));
}

// Length of the escape token at chunk byte p (3, 7 or 15; 0 when it runs past the end).
fn escape_len(c: Chunk, p: u32) -> u32 {
    let room = c.end - (c.base + p);
    var len = 3u;
    if (((cu32(c, p) >> 8u) & 0xffffu) == 0x8000u) {
        len = select(7u, 15u, cu32(c, p + 3u) == 0x80000000u);
    }
    return select(len, 0u, room < len);
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

// Keeps the bytes of `w` at word positions >= k (k = 0..4): the bytes of byte range x.. .
fn keep_from(w: u32, k: u32) -> u32 {
    return select(w & (0xffffffffu << (k * 8u)), 0u, k >= 4u);
}

// Wrapping sum of the chunk's bytes x..16 (x <= 16) read as i8.
fn suffix(c: Chunk, x: u32) -> u32 {
    let k = vec4<u32>(x, max(x, 4u) - 4u, max(x, 8u) - 8u, max(x, 12u) - 12u);
    return sbytes(keep_from(c.w.x, min(k.x, 4u))) + sbytes(keep_from(c.w.y, min(k.y, 4u)))
        + sbytes(keep_from(c.w.z, min(k.z, 4u))) + sbytes(keep_from(c.w.w, min(k.w, 4u)));
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
    let mask = m & ((1u << len) - 1u);
    var x = vec4<u32>(0u);
    if (mask != 0u && start + CHUNK < f.in_len) {
        x = src[(base >> 4u) + 1u];
    }
    return Chunk(base, len, f.in_offset + f.in_len, w, x, mask);
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
    // Single-byte tokens are the bytes e..len less those inside escape tokens: start from
    // the sum of all bytes from e and correct at each escape.
    var sum = suffix(c, e) - suffix(c, c.len);
    var exit = 0u;
    // Each round consumes an escape token of at least 3 bytes: at most 6 rounds.
    for (var round = 0u; round < CHUNK; round++) {
        let m = c.mask & (0xffffffffu << pos);
        if (m == 0u) {
            count += c.len - pos;
            exit = 0u;
            break;
        }
        let p = firstTrailingBit(m);
        count += p - pos;
        let t = read_escape(c, p);
        if (t.len == 0u) {
            sum -= suffix(c, p) - suffix(c, c.len);
            exit = ERR;
            break;
        }
        let stop = min(p + t.len, c.len);
        sum += t.delta - (suffix(c, p) - suffix(c, stop));
        count += 1u;
        pos = p + t.len;
        if (pos >= c.len) {
            exit = pos - c.len;
            break;
        }
    }
    return vec3<u32>(exit, count, sum);
}

// The exit state of the chunk from entry state `e` (as `walk(c, e).x`, without the sums).
fn walk_exit(c: Chunk, e: u32, lens: vec4<u32>) -> u32 {
    if (e >= c.len) {
        return e - c.len;
    }
    var pos = e;
    for (var round = 0u; round < CHUNK; round++) {
        let m = c.mask & (0xffffffffu << pos);
        if (m == 0u) {
            return 0u;
        }
        let p = firstTrailingBit(m);
        let len = (pick4(lens, p >> 2u) >> ((p & 3u) * 8u)) & 0xffu;
        if (len == 0u) {
            return ERR;
        }
        pos = p + len;
        if (pos >= c.len) {
            return pos - c.len;
        }
    }
    return 0u;
}

// The chunk's state map.
fn chunk_map(c: Chunk) -> vec2<u32> {
    if (c.mask == 0u) {
        // Every entry inside the chunk leaves it at a token boundary; entries past a short
        // last chunk move on.
        if (c.len == CHUNK) {
            return vec2<u32>(0u, ERR << 28u);
        }
    }
    // Escape token length at every escape byte, one byte per position.
    var lens = vec4<u32>(0u);
    var m = c.mask;
    while (m != 0u) {
        let p = firstTrailingBit(m);
        m &= m - 1u;
        let l = escape_len(c, p);
        let sh = (p & 3u) * 8u;
        let i = p >> 2u;
        lens += vec4<u32>(select(0u, l << sh, i == 0u), select(0u, l << sh, i == 1u),
                          select(0u, l << sh, i == 2u), select(0u, l << sh, i == 3u));
    }
    // Entries up to the first escape byte all reach it as a token start.
    let first = select(firstTrailingBit(c.mask), CHUNK, c.mask == 0u);
    let x0 = walk_exit(c, 0u, lens);
    var lo = 0u;
    var hi = ERR << 28u;
    for (var e = 0u; e < 15u; e++) {
        var x = x0;
        if (e > first || e >= c.len) {
            x = walk_exit(c, e, lens);
        }
        if (e < 8u) {
            lo |= x << (e * 4u);
        } else {
            hi |= x << ((e - 8u) * 4u);
        }
    }
    return vec2<u32>(lo, hi);
}
